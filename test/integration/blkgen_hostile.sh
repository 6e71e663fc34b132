#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# vhu-blkgen against a fake vhost-user-blk backend (fake_blk_backend.py) that
# answers its fifth request as MODE says:
#
#   blkgen_hostile.sh MODE[-packed] EXPECTED
#
# With -packed the fake offers packed rings and vhu-blkgen asks for them.
# good: the run passes (every read returns zeroes, the config is the fake's);
# any other mode: vhu-blkgen exits 1 and its error line holds EXPECTED, the
# reason naming what the backend did.
#
# Exit status: 0 pass, 1 fail.

set -u
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

mode=${1:-}
expected=${2:-}
[ -n "$mode" ] && [ -n "$expected" ] || vhu_die "usage: $0 MODE EXPECTED"
VHU_PROG="blkgen-hostile-$mode"
BLKGEN=${VHU_BLKGEN:-$VHU_BUILD_DIR/app/vhu-blkgen}
[ -x "$BLKGEN" ] || vhu_die "vhu-blkgen not found at $BLKGEN; build it or set VHU_BLKGEN"

vhu_init_work
sock=$VHU_WORK/blk.sock
flog=$VHU_WORK/fake.log
glog=$VHU_WORK/blkgen.log
vhu_spawn fake "$flog" python3 "$(dirname "$0")/fake_blk_backend.py" "$sock" "$mode"
vhu_wait_socket fake "$sock" 10 || { vhu_show_log fake "$flog"; exit 1; }
# A good run laps its 32-entry ring many times, with 3-descriptor chains; a
# spoiled one ends at the fifth request.
ios=50
args=(--queue-size=32)
[ "${mode%-packed}" != "$mode" ] && args+=(--packed)
[ "${mode%-packed}" = good ] && ios=1000 && args+=(--indirect=0 --bs=8K)
vhu_eal blkgen 0
"$BLKGEN" "${VHU_EAL_ARGS[@]}" -- --socket-path="$sock" --rw=randread --iodepth=4 \
	--ios=$ios --expect-zeroes "${args[@]}" >"$glog" 2>&1
rc=$?
vhu_stop fake 5 >/dev/null
if [ "${mode%-packed}" = good ]; then
	[ "$rc" = 0 ] || { vhu_show_log vhu-blkgen "$glog"; vhu_die "FAIL: vhu-blkgen exited $rc"; }
	grep -q '"capacity_sectors": 2048, "blk_size": 512, "num_queues": 1, "seg_max": 8' \
		"$glog" || { vhu_show_log vhu-blkgen "$glog"; vhu_die "FAIL: the fake's config is not reported"; }
	grep -q "\"reads_checked\": $ios" "$glog" || { vhu_show_log vhu-blkgen "$glog"; vhu_die "FAIL: reads unchecked"; }
	want=$([ "${mode%-packed}" != "$mode" ] && echo packed || echo split)
	grep -q "\"ring\": \"$want\"" "$glog" || { vhu_show_log vhu-blkgen "$glog"; vhu_die "FAIL: not on $want rings"; }
else
	[ "$rc" = 1 ] || { vhu_show_log vhu-blkgen "$glog"; vhu_die "FAIL: vhu-blkgen exited $rc, expected 1"; }
	grep '^vhu-blkgen: ' "$glog" | tail -1 | grep -qF -- "$expected" || {
		vhu_show_log vhu-blkgen "$glog"
		vhu_show_log fake "$flog"
		vhu_die "FAIL: vhu-blkgen's error does not say '$expected'"
	}
fi
vhu_log "PASS: $mode: $(grep -E '^vhu-blkgen: |IOPS' "$glog" | tail -1 | cut -c1-160)"
