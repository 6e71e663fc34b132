#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Interop test: QEMU boots a Linux guest whose virtio-net device is a
# vhost-user backend running the 5-tuple-swap forwarding engine. The guest
# pings an address on its own subnet; the backend reflects every frame, the
# guest kernel answers the reflected echo request, and the backend reflects
# that answer back as the echo reply ping waits for (see qemu/init).
#
# With VHU_QEMU_ENGINE=icmpecho the backend runs vhu-pmd's icmpecho engine
# instead, answering for the peer address: the guest forgets its static
# entry for the peer (vhu.learn=1) and asks for it by ARP, and the backend
# itself sends the echo replies; the guest must have the port's MAC address
# for the peer and have counted every reply.
#
# Variants, chosen by the environment (they combine):
#   - split or packed ring (VHU_QEMU_RING);
#   - several queue pairs (VHU_QEMU_QUEUES=2): the device has two queue
#     pairs, the guest two vCPUs, and one ping runs pinned on each vCPU with
#     transmit queue i reserved to vCPU i, so that every queue carries
#     traffic; the backend forwards with as many rx and tx queues;
#   - a vIOMMU (VHU_QEMU_IOMMU=1): a q35 machine with an emulated Intel
#     IOMMU (interrupt remapping, device IOTLB), the device behind it with
#     VIRTIO_F_ACCESS_PLATFORM and ATS, the guest kernel in strict mode (every
#     unmap invalidates at once), and the backend's port with
#     iommu-support=1, so that every ring and buffer address is an IOVA the
#     backend resolves with IOTLB misses on the back-end channel.
#
# The test passes when every echo request got its reply, the guest answered
# every reflected request (so the replies took that path), the guest drove
# the ring layout and the number of queue pairs asked for, and the backend's
# statistics count exactly the frames the guest sent as received and the
# frames the guest received as transmitted, none dropped. With several queue
# pairs each queue must have received and sent at least one ping's worth of
# frames in the backend's per-queue counters; with the vIOMMU the guest must
# have negotiated VIRTIO_F_ACCESS_PLATFORM under a translating IOMMU domain,
# and vhu-pmd must count IOTLB misses, updates and invalidations.
#
# The guest is the host's own kernel with a busybox initramfs built here at
# run time. QEMU runs it under TCG: no KVM needed; a run takes 15 to 20 s on
# an idle two-core machine, up to twice that on a busy one.
#
# The backend runs its interactive shell (fed through a FIFO) so that the
# test can read its per-queue and vhost-user state while the guest still
# holds the device: the guest prints its result and waits, the test asks
# the backend, then ends QEMU.
#
# With VHU_BACKEND=rte the backend is dpdk-testpmd's net_vhost on vhu's
# librte_vhost.so.23 (the same run as VHU_BACKEND=dpdk, on vhu's backend);
# the test then also checks the port's extended statistics (per-queue
# good_packets add up to the forward statistics) and, with VHU_QEMU_MTU, that
# net_vhost learnt the guest's MTU through rte_vhost_get_mtu.
#
# Exit status: 0 pass, 1 fail, 77 skip (QEMU, a kernel, its modules, a static
# busybox or, with VHU_BACKEND=dpdk or rte, dpdk-testpmd is missing).
#
# Environment: see scripts/lib.sh (VHU_BACKEND=dpdk runs DPDK's net_vhost in
# vhu-pmd's place, to check the test itself; VHU_KEEP=1 keeps the logs), and:
#   VHU_QEMU           QEMU binary (default: qemu-system-x86_64)
#   VHU_QEMU_KERNEL    guest kernel (default: newest /boot/vmlinuz-*); its
#                      modules are taken from /lib/modules/<version>
#   VHU_QEMU_BUSYBOX   statically linked busybox (default: busybox in PATH)
#   VHU_QEMU_RING      ring layout the device offers: split (default) or packed
#   VHU_QEMU_QUEUES    queue pairs, 1 (default) to 8; the guest gets as many vCPUs
#   VHU_QEMU_IOMMU     1: put the device behind an emulated Intel IOMMU (default 0)
#   VHU_QEMU_ENGINE    the backend's forwarding engine: 5tswap (default) or icmpecho
#   VHU_QEMU_COUNT     echo requests each ping sends (default 20)
#   VHU_QEMU_INTERVAL  seconds between echo requests (default 0.2)
#   VHU_QEMU_TIMEOUT   seconds the guest may take to print its result (default 180)
#   VHU_QEMU_EAL_ARGS  more EAL options for the backend, e.g.
#                      --log-level=vhu.vhost:debug
#   VHU_QEMU_MTU       MTU QEMU gives the device (host_mtu=), 68 to 65535;
#                      default: none. A dpdk-testpmd backend must show it as
#                      its port's MTU.
#   VHU_QEMU_DPDK_RETRY  1: dpdk-testpmd retries what the port refuses to send
#                      (default: 1 with VHU_BACKEND=dpdk or rte and the
#                      vIOMMU, else 0)

set -u
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
# shellcheck source=test/interop/qemu/guest.sh
. "$(dirname "$0")/qemu/guest.sh"

here=$(cd "$(dirname "$0")" && pwd)
ring=${VHU_QEMU_RING:-split}
queues=${VHU_QEMU_QUEUES:-1}
iommu=${VHU_QEMU_IOMMU:-0}
engine=${VHU_QEMU_ENGINE:-5tswap}
count=${VHU_QEMU_COUNT:-20}
interval=${VHU_QEMU_INTERVAL:-0.2}
mtu=${VHU_QEMU_MTU:-}
timeout=${VHU_QEMU_TIMEOUT:-180}
guest_mem=256M
guest_mac=52:54:00:0c:00:01
guest_addr=10.11.12.1/24
peer_addr=10.11.12.2
peer_mac=02:00:00:00:0c:02

case "$ring" in
split) packed=off ;;
packed) packed=on ;;
*) vhu_die "VHU_QEMU_RING=$ring is not a ring layout; use 'split' or 'packed'" ;;
esac
case "$queues" in
[1-8]) ;;
*) vhu_die "VHU_QEMU_QUEUES=$queues is not a number of queue pairs; use 1 to 8" ;;
esac
case "$iommu" in
0 | 1) ;;
*) vhu_die "VHU_QEMU_IOMMU=$iommu is not 0 or 1" ;;
esac
case "$engine" in
5tswap | icmpecho) ;;
*) vhu_die "VHU_QEMU_ENGINE=$engine is not an engine this test knows; use 5tswap or icmpecho" ;;
esac
# With a vIOMMU the first write into every fresh guest receive buffer misses
# the IOTLB, and DPDK's net_vhost (on either library) refuses the frame until
# the front-end has answered; dpdk-testpmd's forwarding then drops it unless
# its retry mode is on. vhu-pmd has no retry mode, so with vhu-pmd the
# variant passes only if its port delivers such frames without dropping them.
case "${VHU_BACKEND:-vhu}:$iommu" in
dpdk:1 | rte:1) retry=${VHU_QEMU_DPDK_RETRY:-1} ;;
*) retry=${VHU_QEMU_DPDK_RETRY:-0} ;;
esac
case "$retry" in
0 | 1) ;;
*) vhu_die "VHU_QEMU_DPDK_RETRY=$retry is not 0 or 1" ;;
esac
if [ "$retry" = 1 ] && [ "${VHU_BACKEND:-vhu}" = vhu ]; then
	vhu_die "VHU_QEMU_DPDK_RETRY=1 needs VHU_BACKEND=dpdk or rte: vhu-pmd has no transmit retry"
fi
case "$mtu" in
'') ;;
*[!0-9]*) vhu_die "VHU_QEMU_MTU=$mtu is not an MTU; use 68 to 65535" ;;
*) [ "$mtu" -ge 68 ] && [ "$mtu" -le 65535 ] ||
	vhu_die "VHU_QEMU_MTU=$mtu is not an MTU; use 68 to 65535" ;;
esac
case "$count" in
'' | *[!0-9]* | 0) vhu_die "VHU_QEMU_COUNT=$count is not a positive number of echo requests" ;;
esac
variant="$ring ring, $queues queue pair(s)$([ "$iommu" = 1 ] && echo ", vIOMMU")"
[ -n "$mtu" ] && variant+=", MTU $mtu"
[ "$retry" = 1 ] && variant+=", transmit retry"

# --- prerequisites -----------------------------------------------------------------

qemu_guest_require taskset ping arp ip awk
if [ "$iommu" = 1 ]; then
	"$qemu" -device help 2>/dev/null | grep -q '"intel-iommu"' ||
		skip "$qemu has no intel-iommu device, which VHU_QEMU_IOMMU=1 needs;" \
			"use an x86 QEMU (qemu-system-x86_64) with it built in"
	if [ -r "/boot/config-$kver" ]; then
		grep -q '^CONFIG_INTEL_IOMMU=y' "/boot/config-$kver" ||
			skip "kernel $kernel is built without CONFIG_INTEL_IOMMU=y, which" \
				"VHU_QEMU_IOMMU=1 needs; set VHU_QEMU_KERNEL to a kernel with the" \
				"Intel IOMMU driver built in"
	fi
fi

vhu_require_backend
vhu_init_work

clog=$VHU_WORK/console.log
blog=$VHU_WORK/backend.log
qlog=$VHU_WORK/qemu.log

fail() {
	vhu_log "FAIL ($variant, backend $VHU_BACKEND): $*"
	[ -f "$clog" ] && vhu_show_log "guest console" "$clog"
	[ -f "$qlog" ] && vhu_show_log qemu "$qlog" 20
	if [ -f "$blog" ]; then
		# The statistics would push the backend's messages about the
		# connection out of view: show those apart.
		grep -v -E '^ |^$|Port statistics|read message' "$blog" | tr -d '\033' \
			>"$VHU_WORK/backend-messages.log"
		vhu_show_log "backend (messages only)" "$VHU_WORK/backend-messages.log"
		vhu_show_log backend "$blog" 30
	fi
	exit 1
}

build_initramfs "$here/qemu/init" || fail "could not build the guest initramfs in $VHU_WORK"
vhu_log "kernel $kernel, modules: $(paste -sd ' ' "$VHU_WORK/initramfs/lib/modules/load.list")"

# --- backend -----------------------------------------------------------------------

# Like vhu_start_backend, with the port's queue count and vIOMMU setting, and
# the interactive shell (fed by vhu_command) so that the test can read the
# backend's state before the guest goes away. One forwarding lcore polls
# every queue: the other core is QEMU's.
sock=$VHU_WORK/vhost.sock
start=$(date +%s)
vhu_eal backend "${VHU_BACKEND_LCORES:-0,1}"
# shellcheck disable=SC2206 # extra EAL options are words on purpose
eal_extra=(${VHU_QEMU_EAL_ARGS:-})
fwd_args=(--forward-mode="$engine" --nb-cores=1 --rxq="$queues" --txq="$queues"
	--total-num-mbufs="$VHU_NB_MBUFS")
if [ "$VHU_BACKEND" = vhu ] && [ "$engine" = icmpecho ]; then
	fwd_args+=(--icmpecho-addr="$peer_addr")
fi
if [ "$VHU_BACKEND" = vhu ]; then
	vhu_spawn backend "$blog" -i "$VHU_BACKEND_BIN" "${VHU_EAL_ARGS[@]}" "${eal_extra[@]}" \
		-- -i --port "vhost-user,iface=$sock,queues=$queues,client=0,iommu-support=$iommu" \
		"${fwd_args[@]}"
else
	# --no-flush-rx: otherwise dpdk-testpmd drains and counts, before its
	# forward statistics start, whatever the guest sent before it started.
	vhu_spawn backend "$blog" -i env "${VHU_BACKEND_ENV[@]}" "$VHU_BACKEND_BIN" \
		"${VHU_EAL_ARGS[@]}" "${eal_extra[@]}" \
		--vdev "net_vhost0,iface=$sock,queues=$queues,client=0,iommu-support=$iommu" \
		-- -i --no-flush-rx "${fwd_args[@]}"
fi
vhu_wait_socket backend "$sock" || fail "the backend did not come up"
vhu_require_backend_lib backend "$blog"
if [ "$retry" = 1 ]; then
	# Each try waits 1 ms; an IOTLB miss takes a few ms to resolve under TCG.
	vhu_command backend "set fwd $engine retry"
	vhu_command backend "set burst tx delay 1000 retry 500"
fi
vhu_command backend start
vhu_wait_log backend "$blog" 'packet forwarding.* - ports=' 20 ||
	fail "the backend did not start forwarding when told to"

# --- guest -------------------------------------------------------------------------

# ipv6.disable=1 keeps the guest from sending anything but the pings, so the
# counters on both sides can be compared exactly. no_timer_check: the boot-time
# check that the timer interrupt arrives in time fails now and then under TCG
# on a busy host (with interrupt remapping the kernel then panics).
cmdline="console=ttyS0 panic=-1 ipv6.disable=1 quiet no_timer_check"
cmdline+=" vhu.addr=$guest_addr vhu.peer=$peer_addr"
cmdline+=" vhu.peermac=$peer_mac vhu.count=$count vhu.interval=$interval"
[ "$engine" = icmpecho ] && cmdline+=" vhu.learn=1"
cmdline+=" vhu.queues=$queues vhu.hold=1"
machine=()
devices=()
netdev="vhost-user,id=net0,chardev=vhu0"
# vectors=0: QEMU 7.2 under TCG crashes when a vhost-user virtio-net device
# uses MSI-X, so the device falls back to INTx. romfile= spares the firmware
# the device's iPXE boot ROM: the kernel is loaded by -kernel.
nic="virtio-net-pci,netdev=net0,mac=$guest_mac,vectors=0,packed=$packed,romfile="
[ -n "$mtu" ] && nic+=",host_mtu=$mtu"
if [ "$queues" -gt 1 ]; then
	# virtio_net enables min(queue pairs, CPUs) queue pairs by itself.
	machine+=(-smp "$queues")
	netdev+=",queues=$queues"
	nic+=",mq=on"
fi
if [ "$iommu" = 1 ]; then
	# Interrupt remapping wants a split irqchip (with KVM; TCG accepts
	# it). With the device IOTLB and ATS the guest invalidates the
	# device's IOTLB along with its own, and QEMU 7.2's vhost code passes
	# those invalidations on to the backend. ATS needs a PCI Express
	# device, which virtio-pci is only behind a root port, and
	# modern-only (disable-legacy=on). The IOMMU must come before the
	# device.
	machine+=(-machine "q35,kernel-irqchip=split")
	devices+=(-device "intel-iommu,intremap=on,device-iotlb=on"
		-device "pcie-root-port,id=rp0,bus=pcie.0,chassis=1")
	nic+=",bus=rp0,iommu_platform=on,ats=on,disable-legacy=on"
	# strict: every DMA unmap invalidates the IOTLB at once, so the backend
	# sees invalidations and misses throughout the run, not only at start.
	cmdline+=" intel_iommu=on iommu.strict=1"
fi
# The guest's memory is a shared memfd, which QEMU passes to the backend to map.
vhu_spawn qemu "$qlog" "$qemu" -accel tcg -nodefaults -display none -no-reboot \
	"${machine[@]}" -m "$guest_mem" \
	-object "memory-backend-memfd,id=mem,size=$guest_mem,share=on" \
	-numa node,memdev=mem \
	-kernel "$kernel" -initrd "$VHU_WORK/initramfs.cpio" \
	-append "$cmdline" \
	-serial "file:$clog" \
	"${devices[@]}" \
	-chardev "socket,id=vhu0,path=$sock" \
	-netdev "$netdev" \
	-device "$nic"
qemu_pid=${VHU_PID[qemu]}

# The guest prints its result line and then waits (vhu.hold=1).
result_line() {
	guest_line "$clog" VHU-QEMU-RESULT
}
deadline=$(($(date +%s) + timeout))
while [ -z "$(result_line)" ]; do
	vhu_alive "$qemu_pid" || fail "QEMU exited before the guest printed its result"
	# QEMU falls back to its own virtio-net emulation, connected to nothing,
	# when the backend refuses the device's set-up: no use waiting for pings.
	if grep -q 'unable to start vhost net' "$qlog"; then
		fail "QEMU could not start the vhost-user device: $(grep -E 'failed|Failed' "$qlog" |
			head -n 2 | paste -sd ';'); see the backend's messages below"
	fi
	vhu_alive "${VHU_PID[backend]}" || fail "the backend exited while the guest was running"
	[ "$(date +%s)" -lt "$deadline" ] ||
		fail "the guest printed no result within $timeout s; raise VHU_QEMU_TIMEOUT on a" \
			"slow machine"
	sleep 0.2
done
elapsed=$(($(date +%s) - start))

# The guest has stopped sending: read the backend while the device is still
# up (its vhost-user state goes with the connection), then stop forwarding,
# which prints the forward statistics.
vhu_command backend "show port stats 0"
[ "$VHU_BACKEND" = vhu ] && vhu_command backend "show vhost 0"
if [ "$VHU_BACKEND" != vhu ]; then
	# net_vhost's per-queue statistics (the vhost library's vring stats) and
	# its port's MTU (set from rte_vhost_get_mtu when the guest came).
	vhu_command backend "show port xstats 0"
	vhu_wait_log backend "$blog" 'tx_q0_good_packets' 20 ||
		fail "the backend did not show its extended statistics"
	vhu_command backend "show port info 0"
	vhu_wait_log backend "$blog" 'MTU: ' 20 || fail "the backend did not show its port's info"
fi
vhu_command backend stop
vhu_wait_log backend "$blog" 'Accumulated forward statistics' 20 ||
	fail "the backend did not print its forward statistics when told to stop"
vhu_stop qemu 10 || vhu_log "QEMU did not stop cleanly on SIGINT (see its log)"
vhu_quit backend || fail "the backend did not quit cleanly"

# --- verdict -----------------------------------------------------------------------

result=$(result_line)
result=${result#VHU-QEMU-RESULT }
vhu_log "guest: $result"

# The value of field $1 of the guest's result line.
field() {
	guest_field "$result" "$1"
}

[ -z "$(field error)" ] || fail "the guest reported error=$(field error)"
[ "$(field ring)" = "$ring" ] ||
	fail "the guest drove a $(field ring) ring, the test asked for $ring" \
		"(does the backend offer VIRTIO_F_RING_PACKED?)"
[ "$(field queues)" = "$queues" ] ||
	fail "the guest has $(field queues) queue pair(s), the test asked for $queues"
if [ "$iommu" = 1 ]; then
	[ "$(field access_platform)" = 1 ] ||
		fail "the guest did not negotiate VIRTIO_F_ACCESS_PLATFORM (does the backend" \
			"offer it with iommu-support=1?)"
	case "$(field iommu)" in
	DMA*) ;;
	*) fail "the device is not behind a translating IOMMU domain in the guest" \
		"(iommu group type '$(field iommu)'; is intel_iommu=on effective?)" ;;
	esac
fi
read -r b_rx b_rxd b_tx b_txd < <(vhu_fwd_stats "$blog") ||
	fail "no forward statistics in the backend's log"
vhu_log "backend: received $b_rx (dropped $b_rxd), transmitted $b_tx (dropped $b_txd);" \
	"guest: transmitted $(field if_tx_packets), received $(field if_rx_packets)"
iotlb=
if [ "$VHU_BACKEND" = vhu ] && [ "$iommu" = 1 ]; then
	iotlb=$(grep '^IOTLB:' "$blog" | tail -n 1)
	vhu_log "backend: $iotlb"
fi
# Why frames went missing, when the backend knows.
hint=
if [ "$b_txd" != 0 ]; then
	hint="; the backend dropped $b_txd frames on their way into the guest"
	if [ "$iommu" = 1 ]; then
		hint+=" (with a vIOMMU the first write into each fresh guest receive buffer"
		hint+=" misses the IOTLB: a backend that refuses the frame until the front-end"
		hint+=" has answered must retry or hold it, not drop it${iotlb:+; $iotlb})"
	fi
fi

total=$((count * queues))
transmitted=$(field transmitted)
received=$(field received)
if [ "$transmitted" != "$total" ] || [ "$received" != "$total" ]; then
	fail "the guest sent $transmitted echo requests and got $received replies," \
		"expected $total of $total (per ping, replies/requests: $(field pings))$hint"
fi
if [ "$engine" = 5tswap ]; then
	# Each reply must have come the reflected way: the guest answered a request.
	[ "$(field in_echos)" -ge "$total" ] 2>/dev/null ||
		fail "the guest got $received replies but answered only $(field in_echos)" \
			"reflected requests"
else
	# The backend answered: the guest answered nothing, and learnt by ARP the MAC
	# address of vhu-pmd's port 0.
	port_mac=02:76:68:75:00:00
	[ "$(field in_echo_reps)" -ge "$total" ] 2>/dev/null && [ "$(field in_echos)" = 0 ] ||
		fail "the guest counted $(field in_echo_reps) echo replies and answered" \
			"$(field in_echos) requests; icmpecho should have sent $total replies"
	if [ "$VHU_BACKEND" = vhu ] && [ "$(field peer_lladdr)" != "$port_mac" ]; then
		fail "the guest has $(field peer_lladdr) for $peer_addr, not the port's $port_mac:" \
			"icmpecho did not answer its ARP request"
	fi
fi

if [ "$b_rx" != "$(field if_tx_packets)" ] || [ "$b_tx" != "$(field if_rx_packets)" ] ||
	[ "$b_rxd" != 0 ] || [ "$b_txd" != 0 ]; then
	fail "the backend's statistics do not match the guest's interface counters, or it" \
		"dropped$hint"
fi
if [ "$VHU_BACKEND" != vhu ]; then
	x_rx=$(awk '$1 ~ /^rx_q[0-9]+_good_packets:$/ { n += $2 } END { print n + 0 }' "$blog")
	x_tx=$(awk '$1 ~ /^tx_q[0-9]+_good_packets:$/ { n += $2 } END { print n + 0 }' "$blog")
	vhu_log "backend xstats: rx_q*_good_packets add up to $x_rx, tx_q*_good_packets to $x_tx"
	[ "$x_rx" = "$b_rx" ] && [ "$x_tx" = "$b_tx" ] ||
		fail "xstats: rx_q*_good_packets add up to $x_rx and tx_q*_good_packets to $x_tx," \
			"the forward statistics say received $b_rx, transmitted $b_tx"
	if [ -n "$mtu" ]; then
		port_mtu=$(awk '$1 == "MTU:" { v = $2 } END { print v }' "$blog")
		vhu_log "backend: port MTU $port_mtu"
		[ "$port_mtu" = "$mtu" ] ||
			fail "the backend's port has MTU '$port_mtu', not the $mtu the guest's device" \
				"has (net_vhost takes it from rte_vhost_get_mtu)"
	fi
fi
if grep -q 'BROKEN' "$blog"; then
	fail "the backend marked a virtqueue broken: $(grep 'BROKEN' "$blog" | head -n 1)"
fi

# Per queue: "QUEUE RX TX" lines, the backend's rx queue q being the guest's
# transmit queue q. vhu-pmd prints "Queue  Q rx: packets N ..." lines in
# "show port stats"; dpdk-testpmd prints, at "stop", one block per forwarding
# stream (rx queue q -> tx queue q here), leaving out streams that saw nothing.
queue_counts() {
	if [ "$VHU_BACKEND" = vhu ]; then
		awk '$1 == "Queue" && $3 == "rx:" { rx[$2] = $5 }
			$1 == "Queue" && $3 == "tx:" { tx[$2] = $5 }
			END { for (q in rx) print q, rx[q], tx[q] + 0 }' "$blog"
	else
		awk '/Forward Stats for RX Port=/ {
				q = $0; sub(/.*RX Port= *[0-9]+\/Queue= */, "", q); sub(/[^0-9].*/, "", q)
				want = 1; next
			}
			want && /RX-packets:/ && /TX-packets:/ { rx[q] = $2; tx[q] = $4; want = 0 }
			END { for (q in rx) print q, rx[q], tx[q] }' "$blog"
	fi
}
if [ "$queues" -gt 1 ]; then
	per_queue=$(queue_counts | sort -n)
	vhu_log "backend per queue (queue rx tx): $(echo "$per_queue" | paste -sd ';')"
	for ((q = 0; q < queues; q++)); do
		read -r q_rx q_tx < <(echo "$per_queue" | awk -v q="$q" '$1 == q { print $2, $3 }')
		# Each queue carries at least one ping's requests out and their
		# reflections back.
		if [ "${q_rx:-0}" -lt "$count" ] || [ "${q_tx:-0}" -lt "$count" ]; then
			fail "queue $q carried ${q_rx:-0} frames from the guest and ${q_tx:-0} to it," \
				"expected at least $count each way (guest xps: $(field xps))"
		fi
	done
fi

if [ -n "$iotlb" ]; then
	read -r misses updates invals < <(echo "$iotlb" | awk '{ print $4, $6, $8 }')
	if [ "${misses:-0}" -lt 1 ] || [ "${updates:-0}" -lt 1 ] || [ "${invals:-0}" -lt 1 ]; then
		fail "the backend's IOTLB counters show no miss, update or invalidation: '$iotlb'"
	fi
fi

vhu_log "PASS: $received of $transmitted echo replies through the $VHU_BACKEND backend" \
	"($variant, $engine) in $elapsed s"
