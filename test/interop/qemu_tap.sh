#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Interop test: a VM on the host's network. QEMU boots a Linux guest whose
# virtio-net device is vhu-pmd's vhost-user port; vhu-pmd forwards (io)
# between it and an ethdev port over DPDK's net_tap, a tap interface of the
# host with an address on a /24 of its own:
#
#   guest eth0 <-> vhost-user <-> vhu-pmd io <-> net_tap <-> host tap interface
#
# The test passes when the guest pings the host 20 of 20, the host pings the
# guest 20 of 20, and a few MB the host sends to the guest over TCP (busybox
# nc in the guest) arrive whole, with the same MD5 sum (see qemu/init_tap).
#
# The addresses live on the tap alone (a free 10.x.y.0/24, the host .1, the
# guest .2): nothing is routed off the machine. Everything stops by itself:
# the guest is ended and vhu-pmd quits, which removes the tap interface.
#
# Exit status: 0 pass, 1 fail, 77 skip (not root, no /dev/net/tun, or what
# qemu/guest.sh needs is missing; with VHU_BACKEND=dpdk, no dpdk-testpmd).
#
# Environment: those of scripts/lib.sh (VHU_BACKEND=dpdk runs dpdk-testpmd
# with net_vhost and net_tap in vhu-pmd's place, to check the test itself)
# and of qemu/guest.sh, and:
#   VHU_QEMU_CSUM      1: the vhost-user port offers checksum offload (csum=1),
#                      so the guest's TCP checksums are finished on the way
#                      out by the tap port (default 0)
#   VHU_QEMU_COUNT     echo requests each way (default 20)
#   VHU_QEMU_MB        megabytes sent over TCP (default 4)
#   VHU_QEMU_TIMEOUT   seconds the guest may take for each step (default 180)

set -u
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
# shellcheck source=test/interop/qemu/guest.sh
. "$(dirname "$0")/qemu/guest.sh"

here=$(cd "$(dirname "$0")" && pwd)
count=${VHU_QEMU_COUNT:-20}
mb=${VHU_QEMU_MB:-4}
csum=${VHU_QEMU_CSUM:-0}
timeout=${VHU_QEMU_TIMEOUT:-180}
guest_mem=256M
guest_mac=52:54:00:0d:00:02
tcpport=5001
case "$count" in
'' | *[!0-9]* | 0) vhu_die "VHU_QEMU_COUNT=$count is not a positive number of echo requests" ;;
esac
case "$csum" in
0 | 1) ;;
*) vhu_die "VHU_QEMU_CSUM=$csum is not 0 or 1" ;;
esac
case "$mb" in
'' | *[!0-9]* | 0) vhu_die "VHU_QEMU_MB=$mb is not a positive number of megabytes" ;;
esac

[ "$(id -u)" = 0 ] || skip "a tap interface needs root (CAP_NET_ADMIN)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun: the kernel's tun driver is needed for net_tap"
command -v python3 >/dev/null 2>&1 || skip "python3 is needed to send the TCP stream"
qemu_guest_require ping ip nc md5sum wc cut sed
vhu_require_backend
vhu_init_work

# A /24 no interface of the host uses, for the tap alone.
subnet=
for ((i = 0; i < 50; i++)); do
	candidate=10.$((200 + i)).$(($$ % 250))
	if ! ip -4 addr show | grep -q "inet $candidate\." &&
		[ -z "$(ip -4 route show "$candidate.0/24")" ]; then
		subnet=$candidate
		break
	fi
done
[ -n "$subnet" ] || vhu_die "no free 10.x.y.0/24 subnet for the tap interface"
[ "$csum" = 1 ] && [ "$VHU_BACKEND" = dpdk ] &&
	vhu_die "VHU_QEMU_CSUM=1 is for vhu-pmd; DPDK's net_vhost offers checksum offload always"
host_addr=$subnet.1
guest_addr=$subnet.2
tap=vhut$$

clog=$VHU_WORK/console.log
blog=$VHU_WORK/backend.log
qlog=$VHU_WORK/qemu.log

fail() {
	vhu_log "FAIL (backend $VHU_BACKEND): $*"
	[ -f "$clog" ] && vhu_show_log "guest console" "$clog"
	[ -f "$qlog" ] && vhu_show_log qemu "$qlog" 20
	[ -f "$blog" ] && vhu_show_log backend "$blog" 40
	exit 1
}

build_initramfs "$here/qemu/init_tap" || fail "could not build the guest initramfs in $VHU_WORK"

# --- backend and tap -----------------------------------------------------------------

sock=$VHU_WORK/vhost.sock
start=$(date +%s)
vhu_eal backend "${VHU_BACKEND_LCORES:-0,1}"
fwd_args=(--forward-mode=io --nb-cores=1 --total-num-mbufs="$VHU_NB_MBUFS")
if [ "$VHU_BACKEND" = vhu ]; then
	vhu_spawn backend "$blog" -i "$VHU_BACKEND_BIN" "${VHU_EAL_ARGS[@]}" -- -i \
		--port "vhost-user,iface=$sock,csum=$csum" --port "ethdev,dev=net_tap0,iface=$tap" \
		"${fwd_args[@]}"
else
	vhu_spawn backend "$blog" -i "$VHU_BACKEND_BIN" "${VHU_EAL_ARGS[@]}" \
		--vdev "net_vhost0,iface=$sock" --vdev "net_tap0,iface=$tap" \
		-- -i "${fwd_args[@]}"
fi
vhu_wait_socket backend "$sock" || fail "the backend did not come up"
for ((i = 0; i < 100; i++)); do
	ip link show "$tap" >/dev/null 2>&1 && break
	sleep 0.1
done
ip link show "$tap" >/dev/null 2>&1 || fail "the backend made no tap interface $tap"
# The guest speaks IPv4 only; the host's IPv6 chatter would only add noise.
sysctl -q -w "net.ipv6.conf.$tap.disable_ipv6=1" 2>/dev/null
ip addr add "$host_addr/24" dev "$tap" || fail "cannot give $tap the address $host_addr/24"
ip link set "$tap" up || fail "cannot bring $tap up"
vhu_command backend start
vhu_wait_log backend "$blog" 'packet forwarding.* - ports=' 20 ||
	fail "the backend did not start forwarding when told to"

# --- guest -------------------------------------------------------------------------

cmdline="console=ttyS0 panic=-1 ipv6.disable=1 quiet no_timer_check"
cmdline+=" vhu.addr=$guest_addr/24 vhu.host=$host_addr vhu.count=$count vhu.interval=0.2"
cmdline+=" vhu.tcpport=$tcpport vhu.hold=1"
# vectors=0: QEMU 7.2 under TCG crashes when a vhost-user virtio-net device
# uses MSI-X (see qemu_ping.sh).
vhu_spawn qemu "$qlog" "$qemu" -accel tcg -nodefaults -display none -no-reboot \
	-m "$guest_mem" -object "memory-backend-memfd,id=mem,size=$guest_mem,share=on" \
	-numa node,memdev=mem -kernel "$kernel" -initrd "$VHU_WORK/initramfs.cpio" \
	-append "$cmdline" -serial "file:$clog" \
	-chardev "socket,id=vhu0,path=$sock" -netdev "vhost-user,id=net0,chardev=vhu0" \
	-device "virtio-net-pci,netdev=net0,mac=$guest_mac,vectors=0,romfile="

# wait_guest TAG WHAT: waits for the guest to print a TAG line.
wait_guest() {
	local deadline=$(($(date +%s) + timeout))
	while [ -z "$(guest_line "$clog" "$1")" ]; do
		vhu_alive "${VHU_PID[qemu]}" || fail "QEMU exited before the guest $2"
		grep -q 'unable to start vhost net' "$qlog" &&
			fail "QEMU could not start the vhost-user device; see the backend's messages"
		vhu_alive "${VHU_PID[backend]}" || fail "the backend exited while the guest was running"
		[ "$(date +%s)" -lt "$deadline" ] ||
			fail "the guest has not $2 within $timeout s; raise VHU_QEMU_TIMEOUT on a" \
				"slow machine"
		sleep 0.2
	done
}

# The value of field $2 in line $1.
field() {
	guest_field "$@"
}

wait_guest VHU-QEMU-PING "pinged the host"
line=$(guest_line "$clog" VHU-QEMU-PING)
vhu_log "guest to host: $line"
if [ "$(field "$line" received)" != "$count" ] || [ "$(field "$line" transmitted)" != "$count" ]
then
	fail "the guest's ping of the host: $line; expected $count of $count"
fi

wait_guest VHU-QEMU-LISTENING "started listening on TCP port $tcpport"
"$busybox" ping -c "$count" -i 0.2 -W 5 -I "$tap" "$guest_addr" >"$VHU_WORK/ping.log" 2>&1
received=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' "$VHU_WORK/ping.log")
vhu_log "host to guest: ${received:-0} of $count echo replies"
[ "${received:-0}" = "$count" ] || {
	cat "$VHU_WORK/ping.log" >&2
	fail "the host's ping of the guest got ${received:-0} of $count replies"
}

head -c "$((mb * 1024 * 1024))" /dev/urandom >"$VHU_WORK/data"
want_md5=$(md5sum "$VHU_WORK/data" | cut -d ' ' -f 1)
python3 - "$guest_addr" "$tcpport" "$VHU_WORK/data" "$timeout" <<'EOF' ||
import socket
import sys
import time

addr, port, path, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
deadline = time.monotonic() + timeout
while True:
    try:
        s = socket.create_connection((addr, port), timeout=5)
        break
    except OSError as e:
        if time.monotonic() > deadline:
            sys.exit(f'cannot connect to {addr}:{port}: {e}')
        time.sleep(0.5)
s.settimeout(timeout)
with open(path, 'rb') as f:
    s.sendall(f.read())
s.shutdown(socket.SHUT_WR)
# The guest's nc closes its end once it has everything.
while s.recv(4096):
    pass
s.close()
EOF
	fail "the TCP stream to the guest did not go through"

wait_guest VHU-QEMU-RESULT "reported what it received"
elapsed=$(($(date +%s) - start))
result=$(guest_line "$clog" VHU-QEMU-RESULT)
vhu_log "guest: $result"
vhu_stop qemu 10 || vhu_log "QEMU did not stop cleanly on SIGINT (see its log)"
vhu_command backend stop
vhu_quit backend 20 || fail "the backend did not quit cleanly"
ip link show "$tap" >/dev/null 2>&1 && fail "the tap interface $tap outlived the backend"

[ -z "$(field "$result" error)" ] || fail "the guest reported error=$(field "$result" error)"
[ "$(field "$result" bytes)" = "$((mb * 1024 * 1024))" ] ||
	fail "the guest received $(field "$result" bytes) bytes, the host sent $((mb * 1024 * 1024))"
[ "$(field "$result" md5)" = "$want_md5" ] ||
	fail "the guest's MD5 sum $(field "$result" md5) is not the host's $want_md5"
vhu_log "PASS: ping both ways $count of $count and $mb MB over TCP intact, between a guest" \
	"and the host's tap through the $VHU_BACKEND backend, in $elapsed s"
