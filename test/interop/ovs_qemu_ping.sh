#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Interop test: a QEMU guest pings through Debian's OVS-DPDK 3.1
# (ovs-vswitchd-dpdk, unchanged) running on vhu's librte_vhost.so.23.
#
#   ovs_qemu_ping.sh
#
# ovs-vswitchd (started as ovs_lib.sh does, on vhu's library with
# VHU_BACKEND=rte, the default; on DPDK's with VHU_BACKEND=dpdk, the
# reference) has a netdev bridge with two dpdkvhostuserclient ports and flows
# port 1 <-> port 2:
#   - port 1 (vhu1) connects to QEMU, whose vhost-user chardev is the server
#     (server=on): a TCG guest, the host's kernel with the busybox initramfs
#     of qemu_ping.sh (qemu/init), pings a peer address on its subnet;
#   - port 2 (vhu2) connects to dpdk-testpmd's virtio-user (server=1, on
#     DPDK's own library) forwarding with 5tswap: it sends every frame back
#     with MAC and IP addresses and ports swapped. The guest's echo request
#     comes back as a request from the peer, the guest answers it, and the
#     reflected answer is the echo reply ping counts (see qemu/init).
#
# Why a reflector and not a second guest: two TCG guests booting at once on
# a two-core machine whose cores are already busy-polled by OVS's PMD thread
# and a frontend take minutes, not the minute this test has; the reflector is
# a process that needs no boot, and the guest's pings cross OVS both ways
# all the same (each echo request and each reply crosses the bridge twice).
#
# The test passes when every echo request got its reply, the guest answered
# every reflected request, and OVS's interface statistics agree with both
# ends exactly: vhu1 received what the guest sent and sent what the guest
# received, vhu2 sent what the reflector received and received what it sent
# (and the per-queue rx_q0/tx_q0_good_packets agree), nothing dropped.
#
# Exit status: 0 pass, 1 fail, 77 skip (OVS-DPDK, dpdk-testpmd, QEMU, a
# kernel, its modules or a static busybox is missing, too few hugepages, or a
# sanitizer build).
#
# Environment: scripts/lib.sh's, qemu/guest.sh's (VHU_QEMU, VHU_QEMU_KERNEL,
# VHU_QEMU_BUSYBOX), ovs_lib.sh's, and:
#   VHU_QEMU_COUNT     echo requests (default 20)
#   VHU_QEMU_TIMEOUT   seconds the guest may take to print its result (default 240)

set -u
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
# shellcheck source=test/interop/qemu/guest.sh
. "$(dirname "$0")/qemu/guest.sh"
# shellcheck source=test/interop/ovs_lib.sh
. "$(dirname "$0")/ovs_lib.sh"

VHU_PROG=ovs-qemu-ping-$VHU_BACKEND
here=$(cd "$(dirname "$0")" && pwd)
count=${VHU_QEMU_COUNT:-20}
timeout=${VHU_QEMU_TIMEOUT:-240}
guest_mem=256M
guest_mac=52:54:00:0c:00:01
guest_addr=10.11.12.1/24
peer_addr=10.11.12.2
peer_mac=02:00:00:00:0c:02

case "$count" in
'' | *[!0-9]* | 0) vhu_die "VHU_QEMU_COUNT=$count is not a positive number of echo requests" ;;
esac

fail() {
	vhu_log "FAIL (a QEMU guest through OVS on the $VHU_BACKEND library): $*"
	[ -f "${clog:-}" ] && vhu_show_log "guest console" "$clog"
	[ -f "${qlog:-}" ] && vhu_show_log qemu "$qlog" 20
	[ -f "${vlog:-}" ] && vhu_show_log vswitchd "$vlog"
	[ -f "${rlog:-}" ] && vhu_show_log reflector "$rlog" 20
	exit 1
}

qemu_guest_require ping arp ip awk
ovs_require
clog=$VHU_WORK/console.log
qlog=$VHU_WORK/qemu.log
rlog=$VHU_WORK/reflector.log
gsock=$VHU_WORK/guest.sock
rsock=$VHU_WORK/reflector.sock
start=$(date +%s)

build_initramfs "$here/qemu/init" || fail "could not build the guest initramfs in $VHU_WORK"

# --- OVS ----------------------------------------------------------------------------
ovs_start_db
start_vswitchd "$vlog"
ovs_add_bridge

# --- the reflector, on port 2 ---------------------------------------------------------
# First, so that the guest's first echo request finds the whole path up.
# dpdk-testpmd's virtio-user server waits for OVS's connection in its
# start-up, before it reads its first command.
vhu_start_frontend reflector "$rlog" -i "path=$rsock,server=1,queues=1" \
	--nb-cores=1 --forward-mode=5tswap
vhu_wait_socket reflector "$rsock" || fail "the reflector did not come up"
ovs_add_port 2 "$rsock"
set_flows
ovs_added 1 "$rsock"
vhu_command reflector start
vhu_wait_log reflector "$rlog" 'packet forwarding.* - ports=' 30 ||
	fail "the reflector did not start forwarding when told to"

# --- the guest, on port 1 -------------------------------------------------------------
# QEMU listens (server=on) and holds the guest until OVS has connected, as it
# does for every vhost-user netdev. ipv6.disable=1 keeps the guest from sending
# anything but the pings, so the counters can be compared exactly; the static
# neighbour entry keeps ARP out of it (see qemu/init). vectors=0: QEMU 7.2
# under TCG crashes when a vhost-user virtio-net device uses MSI-X.
cmdline="console=ttyS0 panic=-1 ipv6.disable=1 quiet no_timer_check"
cmdline+=" vhu.addr=$guest_addr vhu.peer=$peer_addr vhu.peermac=$peer_mac"
cmdline+=" vhu.count=$count vhu.interval=0.2 vhu.queues=1 vhu.hold=1"
vhu_spawn qemu "$qlog" "$qemu" -accel tcg -nodefaults -display none -no-reboot \
	-m "$guest_mem" \
	-object "memory-backend-memfd,id=mem,size=$guest_mem,share=on" \
	-numa node,memdev=mem \
	-kernel "$kernel" -initrd "$VHU_WORK/initramfs.cpio" \
	-append "$cmdline" \
	-serial "file:$clog" \
	-chardev "socket,id=vhu0,path=$gsock,server=on" \
	-netdev "vhost-user,id=net0,chardev=vhu0" \
	-device "virtio-net-pci,netdev=net0,mac=$guest_mac,vectors=0,romfile="
vhu_wait_socket qemu "$gsock" || fail "QEMU did not create its vhost-user socket"
ovs_add_port 1 "$gsock"

# --- pings --------------------------------------------------------------------------
result_line() {
	guest_line "$clog" VHU-QEMU-RESULT
}
deadline=$(($(date +%s) + timeout))
while [ -z "$(result_line)" ]; do
	vhu_alive "${VHU_PID[qemu]}" || fail "QEMU exited before the guest printed its result"
	grep -q 'unable to start vhost net' "$qlog" &&
		fail "QEMU could not start the vhost-user device; see ovs-vswitchd's log below"
	vhu_alive "${VHU_PID[vswitchd]}" || fail "ovs-vswitchd died while the guest was running"
	[ "$(date +%s)" -lt "$deadline" ] ||
		fail "the guest printed no result within $timeout s; raise VHU_QEMU_TIMEOUT on a" \
			"slow machine"
	sleep 0.2
done
elapsed=$(($(date +%s) - start))
ovs_added 1 "$gsock"

# The guest sends nothing more (vhu.hold=1): stop the reflector, which prints
# its forward statistics, and let OVS write its counters.
vhu_command reflector stop
vhu_wait_log reflector "$rlog" 'Accumulated forward statistics' 20 ||
	fail "the reflector did not print its forward statistics when told to stop"
ovs_stats_current
declare -A st
for k in "vhu1 rx_packets" "vhu1 tx_packets" "vhu1 tx_dropped" "vhu1 rx_q0_good_packets" \
	"vhu1 tx_q0_good_packets" "vhu2 rx_packets" "vhu2 tx_packets" "vhu2 tx_dropped" \
	"vhu2 rx_q0_good_packets" "vhu2 tx_q0_good_packets"; do
	# shellcheck disable=SC2086 # interface and counter, two words
	st[$k]=$(ovs_stat $k)
	[[ "${st[$k]}" =~ ^[0-9]+$ ]] || fail "OVS's statistics lack '$k' ('${st[$k]}')"
done
vhu_stop qemu 10 || vhu_log "QEMU did not stop cleanly on SIGINT (see its log)"
vsctl del-port br0 vhu1 || fail "could not delete vhu1 at the end"
ovs_exit
vhu_quit reflector || fail "the reflector did not quit cleanly"

# --- verdict ------------------------------------------------------------------------
result=$(result_line)
result=${result#VHU-QEMU-RESULT }
vhu_log "guest: $result"
field() {
	guest_field "$result" "$1"
}
[ -z "$(field error)" ] || fail "the guest reported error=$(field error)"
g_tx=$(field if_tx_packets)
g_rx=$(field if_rx_packets)
read -r r_rx r_rxd r_tx r_txd < <(vhu_fwd_stats "$rlog") ||
	fail "no forward statistics in the reflector's log"
vhu_log "guest sent $g_tx frames and received $g_rx;" \
	"OVS vhu1 received ${st[vhu1 rx_packets]} (rx_q0 ${st[vhu1 rx_q0_good_packets]})," \
	"sent ${st[vhu1 tx_packets]} (tx_q0 ${st[vhu1 tx_q0_good_packets]})," \
	"dropped ${st[vhu1 tx_dropped]};" \
	"vhu2 received ${st[vhu2 rx_packets]} (rx_q0 ${st[vhu2 rx_q0_good_packets]})," \
	"sent ${st[vhu2 tx_packets]} (tx_q0 ${st[vhu2 tx_q0_good_packets]})," \
	"dropped ${st[vhu2 tx_dropped]};" \
	"reflector received $r_rx (dropped $r_rxd), sent $r_tx (dropped $r_txd)"

transmitted=$(field transmitted)
received=$(field received)
[ "$transmitted" = "$count" ] && [ "$received" = "$count" ] ||
	fail "the guest sent $transmitted echo requests and got $received replies," \
		"expected $count of $count"
# Each reply came the reflected way: the guest answered each request.
[ "$(field in_echos)" -ge "$count" ] 2>/dev/null ||
	fail "the guest got $received replies but answered only $(field in_echos) reflected requests"
# Exact accounting, end to end, in both directions.
[ "${st[vhu1 rx_packets]}" = "$g_tx" ] ||
	fail "OVS vhu1 received ${st[vhu1 rx_packets]} frames, the guest sent $g_tx"
[ "${st[vhu2 tx_packets]}" = "$r_rx" ] && [ "${st[vhu2 tx_dropped]}" = 0 ] ||
	fail "OVS vhu2 sent ${st[vhu2 tx_packets]} (dropped ${st[vhu2 tx_dropped]})," \
		"the reflector received $r_rx"
[ "$r_rx" = "$g_tx" ] && [ "$r_tx" = "$r_rx" ] && [ "$r_rxd" = 0 ] && [ "$r_txd" = 0 ] ||
	fail "the reflector received $r_rx and sent $r_tx (dropped $r_rxd, $r_txd) of the" \
		"$g_tx frames the guest sent"
[ "${st[vhu2 rx_packets]}" = "$r_tx" ] ||
	fail "OVS vhu2 received ${st[vhu2 rx_packets]} frames, the reflector sent $r_tx"
[ "${st[vhu1 tx_packets]}" = "$g_rx" ] && [ "${st[vhu1 tx_dropped]}" = 0 ] ||
	fail "OVS vhu1 sent ${st[vhu1 tx_packets]} (dropped ${st[vhu1 tx_dropped]})," \
		"the guest received $g_rx"
for n in 1 2; do
	[ "${st[vhu$n rx_q0_good_packets]}" = "${st[vhu$n rx_packets]}" ] &&
		[ "${st[vhu$n tx_q0_good_packets]}" = "${st[vhu$n tx_packets]}" ] ||
		fail "OVS vhu$n's per-queue statistics (rx_q0 ${st[vhu$n rx_q0_good_packets]}," \
			"tx_q0 ${st[vhu$n tx_q0_good_packets]}) differ from its totals"
done
vhu_log "PASS: $received of $transmitted echo replies through OVS-DPDK on the $VHU_BACKEND" \
	"librte_vhost.so.23 in $elapsed s"
