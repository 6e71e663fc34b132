#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Interop test: QEMU boots a Linux guest whose virtio-net device is a
# vhost-user backend running the 5-tuple-swap forwarding engine. The guest
# pings an address on its own subnet; the backend reflects every frame, the
# guest kernel answers the reflected echo request, and the backend reflects
# that answer back as the echo reply ping waits for (see qemu/init).
#
# The test passes when every echo request got its reply, the guest answered
# every reflected request (so the replies took that path), the guest drove
# the ring layout asked for, and the backend's final statistics count exactly
# the frames the guest sent as received and the frames the guest received as
# transmitted.
#
# The guest is the host's own kernel with a busybox initramfs built here at
# run time. QEMU runs it under TCG: no KVM needed; a run takes 10 s on an idle
# two-core machine, 20 to 30 s on a busy one.
#
# Exit status: 0 pass, 1 fail, 77 skip (QEMU, a kernel, a static busybox or,
# with VHU_BACKEND=dpdk, dpdk-testpmd is missing).
#
# Environment: see scripts/lib.sh (VHU_BACKEND=dpdk runs DPDK's net_vhost in
# vhu-pmd's place, to check the test itself; VHU_KEEP=1 keeps the logs), and:
#   VHU_QEMU           QEMU binary (default: qemu-system-x86_64)
#   VHU_QEMU_KERNEL    guest kernel (default: newest /boot/vmlinuz-*); its
#                      modules are taken from /lib/modules/<version>
#   VHU_QEMU_BUSYBOX   statically linked busybox (default: busybox in PATH)
#   VHU_QEMU_RING      ring layout the device offers: split (default) or packed
#   VHU_QEMU_COUNT     echo requests to send (default 10)
#   VHU_QEMU_INTERVAL  seconds between echo requests (default 0.2)
#   VHU_QEMU_TIMEOUT   seconds the guest may run before it is killed (default 180)

set -u
. "$(dirname "$0")/../../scripts/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
ring=${VHU_QEMU_RING:-split}
count=${VHU_QEMU_COUNT:-10}
interval=${VHU_QEMU_INTERVAL:-0.2}
timeout=${VHU_QEMU_TIMEOUT:-180}
guest_mem=256M
guest_mac=52:54:00:0c:00:01
guest_addr=10.11.12.1/24
peer_addr=10.11.12.2
peer_mac=02:00:00:00:0c:02

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

case "$ring" in
split) packed=off ;;
packed) packed=on ;;
*) vhu_die "VHU_QEMU_RING=$ring is not a ring layout; use 'split' or 'packed'" ;;
esac

# --- prerequisites -----------------------------------------------------------------

qemu=${VHU_QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null 2>&1 ||
	skip "$qemu not found; install it with 'apt-get install qemu-system-x86' or set VHU_QEMU"

kernel=${VHU_QEMU_KERNEL:-$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
[ -n "$kernel" ] ||
	skip "no kernel in /boot; install one with 'apt-get install linux-image-amd64'" \
		"or set VHU_QEMU_KERNEL"
[ -f "$kernel" ] || skip "kernel $kernel does not exist; set VHU_QEMU_KERNEL to a kernel image"
[ -r "$kernel" ] ||
	skip "kernel $kernel is not readable by this user; run as root or set" \
		"VHU_QEMU_KERNEL to a readable copy"
kver=${kernel##*/vmlinuz-}
moddir=/lib/modules/$kver
[ -r "$moddir/modules.dep" ] ||
	skip "no $moddir/modules.dep for kernel $kernel; install the matching linux-image package"

busybox=${VHU_QEMU_BUSYBOX:-$(command -v busybox 2>/dev/null)}
[ -x "${busybox:-/nonexistent}" ] ||
	skip "busybox not found; install it with 'apt-get install busybox-static' or set VHU_QEMU_BUSYBOX"
# The initramfs has no C library, so busybox must be linked statically.
if ldd "$busybox" >/dev/null 2>&1; then
	skip "$busybox is dynamically linked; install 'busybox-static' or set VHU_QEMU_BUSYBOX"
fi

if command -v cpio >/dev/null 2>&1; then
	cpio_create() { cpio --quiet -o -H newc -R 0:0; }
else
	cpio_create() { "$busybox" cpio -o -H newc; }
fi

vhu_require_backend
vhu_init_work

# --- initramfs ---------------------------------------------------------------------

# Appends to $resolved the modules.dep paths needed to load module $1,
# dependencies first, each once. A module built into the kernel needs none.
resolve_module() {
	local name=$1 line path dep
	grep -q "/$name\.ko" "$moddir/modules.builtin" 2>/dev/null && return 0
	line=$(grep -E "(^|/)$name\.ko(\.(xz|zst|gz))?:" "$moddir/modules.dep") || return 1
	path=${line%%:*}
	case " $resolved " in *" $path "*) return 0 ;; esac
	for dep in ${line#*:}; do
		dep=${dep##*/}
		resolve_module "${dep%%.ko*}" || return 1
	done
	resolved="$resolved $path"
}

build_initramfs() {
	local root=$VHU_WORK/initramfs mod src dst
	mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" \
		"$root/lib/modules" || return 1
	cp "$busybox" "$root/bin/busybox" || return 1
	cp "$here/qemu/init" "$root/init" && chmod 755 "$root/init" || return 1
	resolved=
	for mod in virtio_pci virtio_net; do
		resolve_module "$mod" || {
			vhu_log "kernel $kver has no module $mod in $moddir and does not build it in"
			return 1
		}
	done
	: >"$root/lib/modules/load.list"
	for mod in $resolved; do
		src=$moddir/$mod
		dst=${mod##*/}
		case "$src" in
		*.ko.xz) dst=${dst%.xz}; xz -dc "$src" >"$root/lib/modules/$dst" ;;
		*.ko.zst) dst=${dst%.zst}; zstd -qdc "$src" >"$root/lib/modules/$dst" ;;
		*.ko.gz) dst=${dst%.gz}; gzip -dc "$src" >"$root/lib/modules/$dst" ;;
		*) cp "$src" "$root/lib/modules/$dst" ;;
		esac || {
			vhu_log "cannot unpack $src"
			return 1
		}
		echo "$dst" >>"$root/lib/modules/load.list"
	done
	(cd "$root" && find . | cpio_create) >"$VHU_WORK/initramfs.cpio"
}

clog=$VHU_WORK/console.log
blog=$VHU_WORK/backend.log
qlog=$VHU_WORK/qemu.log

fail() {
	vhu_log "FAIL ($ring ring, backend $VHU_BACKEND): $*"
	[ -f "$clog" ] && vhu_show_log "guest console" "$clog"
	[ -f "$qlog" ] && vhu_show_log qemu "$qlog" 20
	if [ -f "$blog" ]; then
		# The periodic statistics would push the backend's messages about
		# the connection out of view: show those apart.
		grep -v -E '^ |^$|Port statistics|read message' "$blog" | tr -d '\033' \
			>"$VHU_WORK/backend-messages.log"
		vhu_show_log "backend (messages only)" "$VHU_WORK/backend-messages.log"
		vhu_show_log backend "$blog" 12
	fi
	exit 1
}

build_initramfs || fail "could not build the guest initramfs in $VHU_WORK"
vhu_log "kernel $kernel, modules: $(paste -sd ' ' "$VHU_WORK/initramfs/lib/modules/load.list")"

# --- backend -----------------------------------------------------------------------

sock=$VHU_WORK/vhost.sock
start=$(date +%s)
vhu_start_backend backend "$blog" "$sock" 0 --forward-mode=5tswap --nb-cores=1 --stats-period=1
vhu_wait_socket backend "$sock" || fail "the backend did not come up"

# --- guest -------------------------------------------------------------------------

# ipv6.disable=1 keeps the guest from sending anything but the pings, so the
# counters on both sides can be compared exactly.
cmdline="console=ttyS0 panic=-1 ipv6.disable=1 quiet vhu.addr=$guest_addr vhu.peer=$peer_addr"
cmdline+=" vhu.peermac=$peer_mac vhu.count=$count vhu.interval=$interval"
# vectors=0: QEMU 7.2 under TCG crashes when a vhost-user virtio-net device
# uses MSI-X, so the device falls back to INTx. The guest's memory is a
# shared memfd, which QEMU passes to the backend to map. romfile= spares the
# firmware the device's iPXE boot ROM: the kernel is loaded by -kernel.
vhu_spawn qemu "$qlog" "$qemu" -accel tcg -nodefaults -display none -no-reboot \
	-m "$guest_mem" \
	-object "memory-backend-memfd,id=mem,size=$guest_mem,share=on" \
	-numa node,memdev=mem \
	-kernel "$kernel" -initrd "$VHU_WORK/initramfs.cpio" \
	-append "$cmdline" \
	-serial "file:$clog" \
	-chardev "socket,id=vhu0,path=$sock" \
	-netdev vhost-user,id=net0,chardev=vhu0 \
	-device "virtio-net-pci,netdev=net0,mac=$guest_mac,vectors=0,packed=$packed,romfile="
qemu_pid=${VHU_PID[qemu]}

deadline=$(($(date +%s) + timeout))
while vhu_alive "$qemu_pid"; do
	[ "$(date +%s)" -lt "$deadline" ] ||
		fail "the guest did not power off within $timeout s; raise VHU_QEMU_TIMEOUT on a" \
			"slow machine"
	vhu_alive "${VHU_PID[backend]}" || fail "the backend exited while the guest was running"
	sleep 0.5
done
unset "VHU_PID[qemu]"
wait "$qemu_pid"
qemu_status=$?
elapsed=$(($(date +%s) - start))
vhu_stop backend || fail "the backend did not stop cleanly"

# --- verdict -----------------------------------------------------------------------

result=$(tr -d '\r' <"$clog" | grep '^VHU-QEMU-RESULT ' | tail -n 1)
[ -n "$result" ] || fail "the guest printed no result line (qemu exit status $qemu_status)"
result=${result#VHU-QEMU-RESULT }
vhu_log "guest: $result"

# The value of field $1 of the guest's result line.
field() {
	local f
	for f in $result; do
		case "$f" in "$1="*) echo "${f#*=}"; return ;; esac
	done
}

[ -z "$(field error)" ] || fail "the guest reported error=$(field error)"
[ "$(field ring)" = "$ring" ] ||
	fail "the guest drove a $(field ring) ring, the test asked for $ring" \
		"(does the backend offer VIRTIO_F_RING_PACKED?)"
transmitted=$(field transmitted)
received=$(field received)
if [ "$transmitted" != "$count" ] || [ "$received" != "$count" ]; then
	fail "the guest sent $transmitted echo requests and got $received replies," \
		"expected $count of $count"
fi
# Each reply must have come the reflected way: the guest answered a request.
[ "$(field in_echos)" -ge "$count" ] 2>/dev/null ||
	fail "the guest got $received replies but answered only $(field in_echos) reflected requests"

read -r b_rx b_rxd b_tx b_txd < <(vhu_fwd_stats "$blog") ||
	fail "no forward statistics in the backend's log"
vhu_log "backend: received $b_rx (dropped $b_rxd), transmitted $b_tx (dropped $b_txd);" \
	"guest: transmitted $(field if_tx_packets), received $(field if_rx_packets)"
if [ "$b_rx" != "$(field if_tx_packets)" ] || [ "$b_tx" != "$(field if_rx_packets)" ] ||
	[ "$b_txd" != 0 ]; then
	fail "the backend's statistics do not match the guest's interface counters"
fi

vhu_log "PASS: $received of $transmitted echo replies through the $VHU_BACKEND backend" \
	"($ring ring) in $elapsed s"
