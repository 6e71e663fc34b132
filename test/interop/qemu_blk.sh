#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Interop test: QEMU boots a Linux guest whose disk is a vhost-user-blk
# device (vhost-user-blk-pci, two request queues, the guest two vCPUs) served
# by a vhost-user-blk backend on a raw image file, which the host fills with
# the byte 'Z' first.
#
#   qemu_blk.sh pattern|discard|reconnect
#
# pattern    the guest sees the image's size and both queues, writes a known
#            pattern (made here, random) with dd and O_DIRECT, one writer per
#            queue, and reads it back with the same checksum; after the guest
#            has powered off, the image holds exactly the 'Z's with the
#            pattern at its offset.
# discard    the guest discards one range (busybox blkdiscard) and zeroes
#            another (BLKZEROOUT, with the small static blkzeroout); both read
#            back as zeroes, their neighbours as 'Z', in the guest and in the
#            image afterwards.
# reconnect  as pattern, written in chunks; once the writers are under way
#            the backend is killed with SIGKILL, then started again on the
#            same socket and image. QEMU (-chardev reconnect=1) connects
#            again; every write must complete without an error and the
#            image must match, so requests in flight at the kill were done
#            by the new backend (VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD).
#
# Backends (VHU_BLK_BACKEND): vhu (default), vhu-blk from this tree; qsd,
# qemu-storage-daemon's vhost-user-blk export, which proves the test itself.
# The guest is the host's kernel with a busybox initramfs (see qemu/guest.sh),
# under TCG; a run takes 20 to 40 s.
#
# Exit status: 0 pass, 1 fail, 77 skip (QEMU, a kernel, its modules, busybox,
# the backend or, for discard, blkzeroout is missing).
#
# Environment: see scripts/lib.sh and qemu/guest.sh, and:
#   VHU_BLK_BACKEND     vhu (default) or qsd
#   VHU_BLK             vhu-blk binary (default: $VHU_BUILD_DIR/app/vhu-blk)
#   VHU_BLK_LCORES      vhu-blk's EAL lcore list (default: 0,1)
#   VHU_BLK_ARGS        more options for vhu-blk, after "--"
#   VHU_QSD             qemu-storage-daemon binary (default: from PATH)
#   VHU_QEMU_BLKZEROOUT the guest's blkzeroout, linked statically (default:
#                       built next to this test)
#   VHU_QEMU_TIMEOUT    seconds the guest may take to print its result (default 240)

set -u
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
# shellcheck source=test/interop/qemu/guest.sh
. "$(dirname "$0")/qemu/guest.sh"

here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-}
backend=${VHU_BLK_BACKEND:-vhu}
timeout=${VHU_QEMU_TIMEOUT:-240}
queues=2
guest_mem=256M
size_mb=64
# Sector-aligned but not page-aligned, so that an offset handled in the wrong
# unit shows in the image.
pattern_off=$((3 * 1048576 + 7 * 512))
pattern_mb=8
chunk=$((256 * 1024))
discard_range="$((8 * 1048576)),$((1048576))"
zero_range="$((20 * 1048576 + 5 * 512)),$((1048576 + 3 * 512))"

case "$mode" in
pattern | discard | reconnect) ;;
*) vhu_die "usage: $0 pattern|discard|reconnect" ;;
esac
case "$backend" in
vhu | qsd) ;;
*) vhu_die "VHU_BLK_BACKEND=$backend is not a backend; use 'vhu' (vhu-blk) or 'qsd'" \
	"(qemu-storage-daemon)" ;;
esac
VHU_PROG="qemu-blk-$mode-$backend"

# --- prerequisites -----------------------------------------------------------------

qemu_guest_require taskset dd md5sum head tr cut blkdiscard dmesg
"$qemu" -device help 2>/dev/null | grep -q '"vhost-user-blk-pci"' ||
	skip "$qemu has no vhost-user-blk-pci device; use Debian's qemu-system-x86 (7.2 or later)"
if [ "$backend" = vhu ]; then
	# Like vhu-pmd, the daemon lands in the build's app/ directory.
	if [ -z "${VHU_BLK:-}" ]; then
		VHU_BLK=$VHU_BUILD_DIR/app/vhu-blk
		[ -f "$VHU_BLK" ] || VHU_BLK=$VHU_BUILD_DIR/app/vhu-blk/vhu-blk
	fi
	# The daemon is the thing under test: its absence is a failure, as
	# vhu-pmd's is.
	if [ ! -f "$VHU_BLK" ] || [ ! -x "$VHU_BLK" ]; then
		vhu_die "vhu-blk is not built ($VHU_BLK does not exist); build it with" \
			"'ninja -C build' or set VHU_BLK"
	fi
else
	VHU_QSD=${VHU_QSD:-$(command -v qemu-storage-daemon 2>/dev/null)}
	if [ -z "$VHU_QSD" ] || [ ! -x "$VHU_QSD" ]; then
		skip "qemu-storage-daemon not found; install it with" \
			"'apt-get install qemu-system-common' or set VHU_QSD"
	fi
fi
if [ "$mode" = discard ]; then
	zeroout=${VHU_QEMU_BLKZEROOUT:-}
	if [ -z "$zeroout" ] || [ ! -x "$zeroout" ]; then
		skip "the guest's blkzeroout was not built (it needs a static C library:" \
			"'apt-get install libc6-dev'); set VHU_QEMU_BLKZEROOUT to a static build of" \
			"test/interop/qemu/blkzeroout.c"
	fi
	ldd "$zeroout" >/dev/null 2>&1 &&
		skip "$zeroout is dynamically linked; the guest has no C library"
fi

vhu_init_work
img=$VHU_WORK/disk.img
expected=$VHU_WORK/expected.img
sock=$VHU_WORK/blk.sock
clog=$VHU_WORK/console.log
qlog=$VHU_WORK/qemu.log
blog=$VHU_WORK/backend.log
variant="$mode, $queues queues, backend $backend"

fail() {
	vhu_log "FAIL ($variant): $*"
	[ -f "$clog" ] && vhu_show_log "guest console" "$clog"
	[ -f "$qlog" ] && vhu_show_log qemu "$qlog" 20
	local log
	for log in "$blog" "$VHU_WORK/backend-restarted.log"; do
		[ -f "$log" ] && vhu_show_log "backend" "$log" 30
	done
	exit 1
}

# The image, all 'Z', and the guest's pattern, random: a stale or misplaced
# block cannot match by chance.
head -c $((size_mb << 20)) /dev/zero | tr '\000' Z >"$img" || fail "cannot create $img"
cp "$img" "$expected" || fail "cannot create $expected"
mkdir -p "$VHU_WORK/initramfs/bin" || fail "cannot create the initramfs in $VHU_WORK"
if [ "$mode" != discard ]; then
	head -c $((pattern_mb << 20)) /dev/urandom >"$VHU_WORK/initramfs/pattern.bin" ||
		fail "cannot make the pattern"
	dd if="$VHU_WORK/initramfs/pattern.bin" of="$expected" bs=64k conv=notrunc \
		oflag=seek_bytes seek="$pattern_off" status=none || fail "cannot make $expected"
else
	cp "$zeroout" "$VHU_WORK/initramfs/bin/blkzeroout" || fail "cannot copy $zeroout"
	for range in "$discard_range" "$zero_range"; do
		head -c "${range#*,}" /dev/zero | dd of="$expected" bs=64k conv=notrunc \
			oflag=seek_bytes seek="${range%,*}" status=none || fail "cannot make $expected"
	done
fi
build_initramfs "$here/qemu/init_blk" virtio_pci virtio_blk ||
	fail "could not build the guest initramfs in $VHU_WORK"

# --- backend -----------------------------------------------------------------------

# start_backend LOG: the backend, listening on $sock, serving $img with
# $queues queues. Discards must reach the file (qemu-storage-daemon ignores
# them unless told discard=unmap).
start_backend() {
	if [ "$backend" = vhu ]; then
		vhu_eal backend "${VHU_BLK_LCORES:-0,1}"
		# shellcheck disable=SC2086 # extra options are words on purpose
		vhu_spawn backend "$1" "$VHU_BLK" "${VHU_EAL_ARGS[@]}" -- --socket-path="$sock" \
			--blk-file="$img" --queues="$queues" ${VHU_BLK_ARGS:-}
	else
		vhu_spawn backend "$1" "$VHU_QSD" \
			--blockdev "driver=file,node-name=file0,filename=$img,cache.direct=off,discard=unmap" \
			--blockdev "driver=raw,node-name=disk0,file=file0,discard=unmap" \
			--export "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,addr.path=$sock,writable=on,num-queues=$queues"
	fi
	vhu_wait_socket backend "$sock" 30 || fail "the backend did not come up"
}

start_backend "$blog"

# --- guest -------------------------------------------------------------------------

cmdline="console=ttyS0 panic=-1 quiet no_timer_check"
cmdline+=" vhu.mode=$mode vhu.size=$((size_mb << 20)) vhu.queues=$queues"
cmdline+=" vhu.off=$pattern_off vhu.chunk=$chunk"
cmdline+=" vhu.discard=$discard_range vhu.zero=$zero_range"
chardev="socket,id=blk0,path=$sock"
# reconnect=1: after the backend goes away QEMU tries to connect again every
# second, and sets the device up again once it is back.
[ "$mode" = reconnect ] && chardev+=",reconnect=1"
vhu_spawn qemu "$qlog" "$qemu" -accel tcg -nodefaults -display none -no-reboot \
	-smp "$queues" -m "$guest_mem" \
	-object "memory-backend-memfd,id=mem,size=$guest_mem,share=on" \
	-numa node,memdev=mem \
	-kernel "$kernel" -initrd "$VHU_WORK/initramfs.cpio" \
	-append "$cmdline" \
	-serial "file:$clog" \
	-chardev "$chardev" \
	-device "vhost-user-blk-pci,chardev=blk0,num-queues=$queues,romfile="
qemu_pid=${VHU_PID[qemu]}
start=$(date +%s)
deadline=$((start + timeout))

console() {
	[ -f "$clog" ] && tr -d '\r' <"$clog"
}
result_line() {
	guest_line "$clog" VHU-QEMU-RESULT
}
chunks_written() {
	console | grep -c '^VHU-BLK-CHUNK '
}
# wait_guest WHAT CONDITION...: waits until CONDITION is true, failing if QEMU
# or the backend exits or the deadline passes.
wait_guest() {
	local what=$1
	shift
	until "$@"; do
		[ -n "$(result_line)" ] && return 1
		# QEMU may have written the line and exited since the test above:
		# look once more, now that its console log is complete.
		if ! vhu_alive "$qemu_pid"; then
			"$@" && return 0
			[ -n "$(result_line)" ] && return 1
			fail "QEMU exited before the guest could $what"
		fi
		vhu_alive "${VHU_PID[backend]}" ||
			fail "the backend exited before the guest could $what"
		[ "$(date +%s)" -lt "$deadline" ] ||
			fail "the guest did not $what within $timeout s (the console's last line" \
				"says what it was doing); raise VHU_QEMU_TIMEOUT on a slow machine"
		sleep 0.05
	done
}

if [ "$mode" = reconnect ]; then
	total=$(((pattern_mb << 20) / chunk))
	some_written() { [ "$(chunks_written)" -ge $((total / 8)) ]; }
	wait_guest "write an eighth of its chunks" some_written ||
		fail "the guest finished before the backend could be killed: $(result_line)"
	kill -KILL "${VHU_PID[backend]}"
	wait "${VHU_PID[backend]}" 2>/dev/null
	unset "VHU_PID[backend]"
	[ "$backend" = vhu ] && vhu_remove_eal_files "${VHU_PREFIX[backend]}"
	killed_at=$(chunks_written)
	vhu_log "killed the backend with SIGKILL after $killed_at of $total chunks"
	[ "$killed_at" -lt "$total" ] ||
		fail "the guest had written every chunk before the kill; nothing was in flight"
	sleep 1
	# With no backend each writer stalls on its next request: it can report
	# at most the chunk whose last request completed just before the kill.
	# The guest must still have had writing to do, or nothing waited for the
	# new backend.
	restarted_at=$(chunks_written)
	[ "$restarted_at" -le $((killed_at + queues)) ] ||
		fail "the guest wrote $((restarted_at - killed_at)) chunks while the backend was" \
			"dead; is the process that was killed the one serving the socket?"
	[ "$restarted_at" -lt "$total" ] ||
		fail "the guest had written every chunk before the backend was restarted"
	start_backend "$VHU_WORK/backend-restarted.log"
	vhu_log "restarted the backend on $sock with $restarted_at of $total chunks written"
fi

has_result() { [ -n "$(result_line)" ]; }
wait_guest "print its result" has_result
# The guest powers off after its result line; QEMU then exits by itself.
for ((i = 0; i < 100; i++)); do
	vhu_alive "$qemu_pid" || break
	sleep 0.1
done
vhu_stop qemu 10 || vhu_log "QEMU did not exit when the guest powered off (see its log)"
elapsed=$(($(date +%s) - start))
vhu_stop backend 20 || fail "the backend did not exit cleanly when asked to (SIGINT)"

# --- verdict -----------------------------------------------------------------------

result=$(result_line)
result=${result#VHU-QEMU-RESULT }
vhu_log "guest: $result"
# The value of field $1 of the guest's result line.
field() {
	guest_field "$result" "$1"
}

[ -z "$(field error)" ] || fail "the guest reported error=$(field error)"
[ "$(field size)" = $((size_mb << 20)) ] || fail "the guest's disk has $(field size) bytes"
[ "$(field queues)" = "$queues" ] || fail "the guest's disk has $(field queues) queues"
[ "$(field cache)" = write-back ] ||
	fail "the guest could not turn the disk's write cache on (it is $(field cache)):" \
		"the backend must offer VIRTIO_BLK_F_FLUSH and VIRTIO_BLK_F_CONFIG_WCE and take" \
		"the writeback field with SET_CONFIG"
[ "$(field io_errors)" = 0 ] ||
	fail "the guest's kernel logged $(field io_errors) I/O error(s): $(console |
		grep -E 'I/O error|error' | head -n 3 | paste -sd ';')"
if [ "$mode" = discard ]; then
	[ "$(field discard_before)/$(field zero_before)" = Z/Z ] ||
		fail "before the discard the ranges held $(field discard_before) and" \
			"$(field zero_before), not the image's 'Z's"
	[ "$(field discard_after)" = zero ] ||
		fail "the discarded range reads back as $(field discard_after), not zeroes"
	[ "$(field zero_after)" = zero ] ||
		fail "the range zeroed with BLKZEROOUT reads back as $(field zero_after), not zeroes"
	[ "$(field edges)" = Z/Z,Z/Z ] ||
		fail "the sectors around the ranges changed (edges=$(field edges))"
else
	[ "$(field pattern)" = ok ] || fail "the guest did not read its pattern back"
	# Each writer's dd ends with fsync, a FLUSH request with the cache on.
	[ "$(field flushes)" -ge "$queues" ] 2>/dev/null ||
		fail "the guest's disk completed $(field flushes) flush requests, expected at" \
			"least $queues"
	# One writer per CPU, and blk-mq maps CPU i to queue i: every queue must
	# have carried requests, and the backend completed them on that queue,
	# whose interrupt vector then fired.
	per_queue=$(field per_queue)
	case "$per_queue" in
	unknown) vhu_log "the device has no MSI-X vector per queue: interrupts per queue unknown" ;;
	*[!0-9,]* | '') fail "the guest reported per_queue=$per_queue" ;;
	*)
		[ "$(echo "$per_queue" | tr ',' '\n' | grep -c '^[1-9]')" = "$queues" ] ||
			fail "not every queue completed requests (interrupts per queue: $per_queue)"
		;;
	esac
fi
if ! cmp -s "$img" "$expected"; then
	first=$(cmp "$img" "$expected" 2>&1 | head -n 1)
	fail "the image does not hold what the guest wrote: $first (1-based byte offset);" \
		"$(cmp -l "$img" "$expected" 2>/dev/null | wc -l) bytes differ"
fi
note=", guest interrupts: $(field msix_vectors) MSI-X request vector(s)"
[ -n "$(field per_queue)" ] && note+=", interrupts per queue: $(field per_queue)"
if [ "$mode" = reconnect ]; then
	note+=", backend killed after $killed_at and restarted after $restarted_at of $total chunks"
fi
vhu_log "PASS ($variant): the image matches what the guest wrote$note, in $elapsed s"
