#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# vhu-blk against vhu's own front-ends:
#
#   vhu_blk.sh gen STORAGE QUEUES LAYOUT   vhu-blkgen --verify (random reads and
#                                          writes, every byte checked) against
#                                          vhu-blk on STORAGE (malloc or file),
#                                          QUEUES request queues (1 or 2), LAYOUT
#                                          split or packed rings; then the file
#                                          image must hold what was written
#   vhu_blk.sh client MODE                 blk_client.py MODE (rw, ro, resize):
#                                          FLUSH, DISCARD, WRITE_ZEROES, GET_ID,
#                                          read-only refusal, a resize, hostile
#                                          chains (test/integration/blk_client.py);
#                                          listen: vhu-blk --client connects to
#                                          blk_client.py, which goes away and
#                                          listens again: vhu-blk must reconnect
#
# vhu-blk runs with one lcore per queue plus the main one where the machine
# has them, and must print its per-queue statistics when stopped with SIGINT.
# Exit status: 0 pass, 1 fail.

set -u
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

what=${1:-}
VHU_PROG="vhu-blk-$what-${2:-}-${3:-}-${4:-}"
BLK=${VHU_BLK:-$VHU_BUILD_DIR/app/vhu-blk}
BLKGEN=${VHU_BLKGEN:-$VHU_BUILD_DIR/app/vhu-blkgen}
[ -x "$BLK" ] || vhu_die "vhu-blk not found at $BLK; build it or set VHU_BLK"
[ -x "$BLKGEN" ] || vhu_die "vhu-blkgen not found at $BLKGEN; build it or set VHU_BLKGEN"

vhu_init_work
sock=$VHU_WORK/blk.sock
blog=$VHU_WORK/vhu-blk.log
glog=$VHU_WORK/client.log
image=$VHU_WORK/disk.img
ncpu=$(nproc)

# start_blk LCORES STORAGE_ARGS...: vhu-blk listening on $sock.
start_blk() {
	local lcores=$1
	shift
	vhu_eal blk "$lcores"
	vhu_spawn blk "$blog" "$BLK" "${VHU_EAL_ARGS[@]}" -- --socket-path="$sock" "$@"
	vhu_wait_socket blk "$sock" 20 || { vhu_show_log vhu-blk "$blog"; exit 1; }
}

stop_blk() {
	vhu_stop blk 15 || { vhu_show_log vhu-blk "$blog"; vhu_die "FAIL: vhu-blk did not stop cleanly on SIGINT"; }
	grep -q '^  queue 0 ' "$blog" || { vhu_show_log vhu-blk "$blog"; vhu_die "FAIL: no per-queue statistics at exit"; }
}

case $what in
gen)
	storage=${2:-} queues=${3:-} layout=${4:-}
	case $storage in
	malloc) sargs=(--malloc=64M) ;;
	file) truncate -s 64M "$image" && sargs=(--blk-file="$image") ;;
	*) vhu_die "usage: $0 gen malloc|file 1|2 split|packed" ;;
	esac
	# The main lcore and one per queue where there are cores enough; else the
	# main lcore polls them all.
	lcores=0
	[ "$ncpu" -gt "$queues" ] && for ((q = 1; q <= queues; q++)); do lcores+=",$q"; done
	start_blk "$lcores" "${sargs[@]}" --queues="$queues"
	# An image file goes through O_DIRECT to the disk, whatever it is: fewer requests.
	ios=4000
	[ "$storage" = file ] && ios=1000
	args=(--queues="$queues" --rw=randrw --verify --iodepth=8 --ios=$ios --runtime=30
		--size=16M --bs=4K)
	[ "$layout" = packed ] && args+=(--packed)
	# vhu-blkgen polls too: on the CPU of vhu-blk's main lcore, which sleeps,
	# when there are worker lcores; else on another.
	gen_cpu=0
	[ "$lcores" = 0 ] && gen_cpu=$((ncpu - 1))
	vhu_eal blkgen "$gen_cpu"
	"$BLKGEN" "${VHU_EAL_ARGS[@]}" -- --socket-path="$sock" "${args[@]}" >"$glog" 2>&1
	rc=$?
	[ "$rc" = 0 ] || { vhu_show_log vhu-blkgen "$glog"; vhu_show_log vhu-blk "$blog"; vhu_die "FAIL: vhu-blkgen exited $rc"; }
	grep -q "\"ring\": \"$layout\"" "$glog" || { vhu_show_log vhu-blkgen "$glog"; vhu_die "FAIL: not on $layout rings"; }
	grep -q "\"num_queues\": $queues" "$glog" || { vhu_show_log vhu-blkgen "$glog"; vhu_die "FAIL: not $queues queues"; }
	grep -q '"reads_checked": [1-9]' "$glog" || { vhu_show_log vhu-blkgen "$glog"; vhu_die "FAIL: no read was checked"; }
	stop_blk
	if [ "$storage" = file ]; then
		# What vhu-blkgen wrote is in the image: its pattern starts each sector
		# with the sector's byte offset, so a written sector is never all zeroes.
		nz=$(head -c 16M "$image" | od -An -v -tx1 -w512 | grep -cv '^\( 00\)*$')
		[ "$nz" -gt 0 ] || vhu_die "FAIL: the image holds no data after the run"
	fi
	vhu_log "PASS: $storage q$queues $layout: $(grep IOPS "$glog" | head -1 | cut -c1-150)"
	;;
client)
	mode=${2:-}
	case $mode in
	rw) sargs=(--malloc=16M) ;;
	ro) truncate -s 16M "$image" && sargs=(--blk-file="$image" --read-only) ;;
	resize) truncate -s 16M "$image" && sargs=(--blk-file="$image") ;;
	listen) sargs=(--malloc=16M --client) ;;
	*) vhu_die "usage: $0 client rw|ro|resize|listen" ;;
	esac
	client=(python3 "$(dirname "$0")/blk_client.py" --socket "$sock" --log "$blog"
		--mode "$mode" --image "$image")
	if [ "$mode" = listen ]; then
		# The front-end listens first; vhu-blk connects, and reconnects.
		"${client[@]}" >"$glog" 2>&1 &
		cpid=$!
		vhu_eal blk 0
		vhu_spawn blk "$blog" "$BLK" "${VHU_EAL_ARGS[@]}" -- --socket-path="$sock" \
			"${sargs[@]}"
		wait "$cpid"
		rc=$?
		grep -q 'front-end disconnected' "$blog" ||
			{ vhu_show_log vhu-blk "$blog"; vhu_die "FAIL: vhu-blk never saw the front-end go"; }
	else
		start_blk 0 "${sargs[@]}"
		"${client[@]}" >"$glog" 2>&1
		rc=$?
	fi
	[ "$rc" = 0 ] || { vhu_show_log blk_client "$glog"; vhu_show_log vhu-blk "$blog"; vhu_die "FAIL: blk_client exited $rc"; }
	stop_blk
	vhu_log "PASS: $(tail -1 "$glog")"
	;;
*)
	vhu_die "usage: $0 gen STORAGE QUEUES LAYOUT | client MODE"
	;;
esac
