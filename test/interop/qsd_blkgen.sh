#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Interop test: vhu's virtio-blk front-end driver, through vhu-blkgen, against
# qemu-storage-daemon's vhost-user-blk export (a backend no one here wrote).
#
#   qsd_blkgen.sh null|file QUEUES split|packed
#
# null: qemu's null-co block driver with read-zeroes=on. Random reads must
#   return zeroes in every byte (--expect-zeroes); random writes must complete
#   with OK.
# file: a raw image file. Random reads and writes with --verify (every write
#   carries its offset and a generation in each sector; every block written is
#   read back and checked byte by byte), then sequential writes with --verify;
#   afterwards the image file itself must hold the pattern of the last run's
#   first block.
# Each run must use every queue asked for and report the device's geometry
# from GET_CONFIG. qemu-storage-daemon (libvhost-user) offers no packed rings:
# the packed variant checks that the driver asked, was refused, and ran the
# same checks on split rings, and says so.
#
# Exit status: 0 pass, 1 fail, 77 skip (qemu-storage-daemon is not installed).
# Environment: VHU_QSD (qemu-storage-daemon binary), VHU_BLKGEN (vhu-blkgen),
# and scripts/lib.sh's.

set -u
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

kind=${1:-}
queues=${2:-}
layout=${3:-}
case "$kind/$queues/$layout" in
null/[12]/split | null/[12]/packed | file/[12]/split | file/[12]/packed) ;;
*) vhu_die "usage: $0 null|file 1|2 split|packed" ;;
esac
VHU_PROG="qsd-blkgen-$kind-q$queues-$layout"

QSD=${VHU_QSD:-$(command -v qemu-storage-daemon 2>/dev/null)}
if [ -z "$QSD" ] || [ ! -x "$QSD" ]; then
	echo "SKIP: qemu-storage-daemon not found; install it with" \
		"'apt-get install qemu-system-common' or set VHU_QSD" >&2
	exit 77
fi
BLKGEN=${VHU_BLKGEN:-$VHU_BUILD_DIR/app/vhu-blkgen}
[ -x "$BLKGEN" ] || vhu_die "vhu-blkgen not found at $BLKGEN; build it with 'ninja -C build'" \
	"or set VHU_BLKGEN"

vhu_init_work
sock=$VHU_WORK/blk.sock
qlog=$VHU_WORK/qsd.log
size_mb=64

if [ "$kind" = null ]; then
	blockdev=(--blockdev "driver=null-co,node-name=disk0,size=$((size_mb << 20)),read-zeroes=on")
else
	img=$VHU_WORK/disk.img
	truncate -s "${size_mb}M" "$img" || vhu_die "cannot create $img"
	blockdev=(--blockdev "driver=file,node-name=file0,filename=$img,cache.direct=off"
		--blockdev "driver=raw,node-name=disk0,file=file0")
fi
vhu_spawn qsd "$qlog" "$QSD" "${blockdev[@]}" \
	--export "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,addr.path=$sock,writable=on,num-queues=$queues"
vhu_wait_socket qsd "$sock" 20 || { vhu_show_log qemu-storage-daemon "$qlog"; exit 1; }

runs=0
# blkgen NAME ARGS...: one vhu-blkgen run; its JSON goes to $VHU_WORK/NAME.json.
blkgen() {
	local name=$1 log=$VHU_WORK/$1.log rc
	shift
	vhu_eal "blkgen-$name" 0
	"$BLKGEN" "${VHU_EAL_ARGS[@]}" -- --socket-path="$sock" --queues="$queues" \
		$([ "$layout" = packed ] && echo --packed) --json="$VHU_WORK/$name.json" "$@" \
		>"$log" 2>&1
	rc=$?
	vhu_remove_eal_files "${VHU_PREFIX[blkgen-$name]}"
	if [ "$rc" != 0 ]; then
		vhu_log "FAIL: $name: vhu-blkgen exited $rc"
		vhu_show_log vhu-blkgen "$log"
		vhu_show_log qemu-storage-daemon "$qlog"
		exit 1
	fi
	runs=$((runs + 1))
	vhu_log "$name: $(grep -v '^{' "$log" | grep -E 'IOPS' | tail -1)"
}

# field NAME KEY: a value of run NAME's JSON.
field() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); k=sys.argv[2].split(".")
v=d
for p in k: v=v[p]
print(str(v).lower() if isinstance(v,bool) else v)' "$VHU_WORK/$1.json" "$2"
}

expect() {
	local name=$1 key=$2 want=$3 got
	got=$(field "$name" "$key") || vhu_die "FAIL: $name: no '$key' in its JSON"
	[ "$got" = "$want" ] || vhu_die "FAIL: $name: $key is $got, expected $want"
}

expect_positive() {
	local name=$1 key=$2 got
	got=$(field "$name" "$key") || vhu_die "FAIL: $name: no '$key' in its JSON"
	python3 -c "import sys; sys.exit(0 if float('$got') > 0 else 1)" ||
		vhu_die "FAIL: $name: $key is $got, expected more than 0"
}

common_checks() {
	local name=$1
	expect "$name" queues "$queues"
	expect "$name" device.capacity_sectors $((size_mb * 2048))
	expect "$name" device.num_queues "$queues"
	expect "$name" ring split
	expect_positive "$name" iops
	expect_positive "$name" lat_ns.p50
}

if [ "$kind" = null ]; then
	blkgen randread --rw=randread --iodepth=8 --ios=4000 --expect-zeroes
	common_checks randread
	expect randread reads 4000
	expect randread reads_checked 4000
	blkgen randwrite --rw=randwrite --iodepth=8 --ios=4000
	common_checks randwrite
	expect randwrite writes 4000
else
	blkgen randrw --rw=randrw --iodepth=16 --ios=6000 --size=8M --verify
	common_checks randrw
	expect randrw ios 6000
	blkgen write --rw=write --bs=64K --iodepth=4 --ios=300 --verify
	common_checks write
	expect write blocks_written 300
	expect write reads_checked 300
	blkgen randread --rw=randread --iodepth=32 --ios=4000 --size=4M --verify
	common_checks randread
	expect randread reads_checked $((4000 + 0))
	# The image holds what the last run's prefill wrote: offset 0, generation 1.
	python3 - "$img" <<'PY' || vhu_die "FAIL: the image does not hold vhu-blkgen's pattern"
import struct, sys
with open(sys.argv[1], "rb") as f:
    magic, off, gen = struct.unpack("<QQQ", f.read(24))
sys.exit(0 if magic == 0x6e65676b6c627568 and off == 0 and gen >= 1 else 1)
PY
fi
if [ "$layout" = packed ]; then
	grep -q "does not offer packed rings" "$VHU_WORK"/*.log ||
		vhu_die "FAIL: --packed ran split rings without saying the backend refused packed"
	vhu_log "NOTE: qemu-storage-daemon offers no packed rings (libvhost-user implements" \
		"split rings only); these runs asked for packed and ran on split rings"
fi
# The backend is still serving after every run stopped its device cleanly.
vhu_alive "${VHU_PID[qsd]}" || { vhu_show_log qemu-storage-daemon "$qlog"; vhu_die "FAIL: qemu-storage-daemon died"; }
vhu_log "PASS: $runs runs against qemu-storage-daemon ($kind, $queues queue(s), $layout)"
