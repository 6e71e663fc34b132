#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Interop test: dpdk-testpmd's virtio-user (a vhost-user frontend no one here
# wrote) against vhu-pmd's vhost-user port, one direction, one ring flavour.
#
#   testpmd_traffic.sh g2h|h2g IN_ORDER MRG_RXBUF
#
# g2h (guest to host): testpmd sends (txonly), vhu-pmd receives (rxonly).
# h2g (host to guest): vhu-pmd sends (txonly), testpmd receives (rxonly).
# vhu-pmd is the vhost-user server; the sender runs its interactive prompt, so
# that it can stop sending while the connection stays up.
# IN_ORDER and MRG_RXBUF (0 or 1) are virtio-user's devargs of the same names,
# so the backend is driven with and without VIRTIO_F_IN_ORDER and
# VIRTIO_NET_F_MRG_RXBUF.
#
# After traffic has flowed for VHU_TRAFFIC_SECONDS (default 3) the sender
# stops first and the receiver, which has drained the ring meanwhile, second.
# The test passes when packets flowed, both exited cleanly, and every packet
# the sender counted as transmitted is counted by the receiver as received or
# dropped.
#
# Exit status: 0 pass, 1 fail, 77 skip (dpdk-testpmd is not installed).
# Environment: see scripts/lib.sh (VHU_BACKEND=dpdk runs DPDK's net_vhost in
# vhu-pmd's place, to check the test itself).

set -u
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

dir=${1:-}
in_order=${2:-}
mrg_rxbuf=${3:-}
case "$dir/$in_order/$mrg_rxbuf" in
g2h/[01]/[01] | h2g/[01]/[01]) ;;
*) vhu_die "usage: $0 g2h|h2g IN_ORDER(0|1) MRG_RXBUF(0|1)" ;;
esac
VHU_PROG="traffic-$dir-io$in_order-mrg$mrg_rxbuf"
seconds=${VHU_TRAFFIC_SECONDS:-3}
ring=256
devargs="queue_size=$ring,in_order=$in_order,mrg_rxbuf=$mrg_rxbuf"

vhu_require_testpmd
vhu_require_backend
vhu_init_work

sock=$VHU_WORK/vhost.sock
blog=$VHU_WORK/backend.log
flog=$VHU_WORK/frontend.log
if [ "$dir" = g2h ]; then
	sender=frontend slog=$flog receiver=backend rlog=$blog what="guest->host"
else
	sender=backend slog=$blog receiver=frontend rlog=$flog what="host->guest"
fi

fail() {
	vhu_log "FAIL ($what, in_order=$in_order, mrg_rxbuf=$mrg_rxbuf, backend $VHU_BACKEND):" \
		"$*"
	vhu_show_log backend "$blog"
	vhu_show_log frontend "$flog"
	exit 1
}

if [ "$dir" = g2h ]; then
	vhu_start_backend backend "$blog" "$sock" 0 --forward-mode=rxonly --nb-cores=1 \
		--stats-period=1
	vhu_wait_socket backend "$sock" || fail "the backend did not come up"
	# Interactive, so that it can stop sending while its device stays up: a
	# virtio driver counts a packet as sent once it is on the avail ring, and
	# the backend must be given time to take it before the device is reset.
	vhu_start_frontend frontend "$flog" -i "path=$sock,queues=1,$devargs" --auto-start \
		--forward-mode=txonly --nb-cores=1
	vhu_wait_packets backend "$blog" rx 0 30 || fail "no packet reached the backend"
	sleep "$seconds"
	vhu_command frontend stop
	vhu_wait_log frontend "$flog" 'Forward statistics for port' ||
		fail "the frontend did not stop forwarding"
	# One statistics period: far longer than the backend needs to empty the ring.
	sleep 1.5
	vhu_quit frontend || fail "the frontend did not quit cleanly"
	vhu_stop backend || fail "the backend did not stop cleanly on SIGINT"
else
	# Interactive, so that it sends only once the frontend is up: DPDK's
	# virtio PMD empties its rx rings, uncounted, when it starts its device
	# (virtio_dev_start: "Flush the old packets"), and what a backend sent
	# before that would be lost to the count. And so that it can stop sending
	# while its device stays up, for the frontend to take the last packets.
	vhu_start_backend backend "$blog" -i "$sock" 0 --forward-mode=txonly --nb-cores=1
	vhu_wait_socket backend "$sock" || fail "the backend did not come up"
	vhu_start_frontend frontend "$flog" "path=$sock,queues=1,$devargs" \
		--forward-mode=rxonly --nb-cores=1 --stats-period=1
	# Its first statistics block comes after it has started its device.
	vhu_wait_log frontend "$flog" 'NIC statistics for port' 30 ||
		fail "the frontend did not start forwarding"
	vhu_command backend start
	vhu_wait_packets frontend "$flog" rx 0 30 || fail "no packet reached the frontend"
	sleep "$seconds"
	vhu_command backend stop
	vhu_wait_log backend "$blog" 'Forward statistics for port' ||
		fail "the backend did not stop forwarding"
	sleep 1.5
	vhu_stop frontend || fail "the frontend did not stop cleanly on SIGINT"
	vhu_quit backend || fail "the backend did not quit cleanly"
fi

read -r _ _ s_tx s_txd < <(vhu_fwd_stats "$slog") ||
	fail "no forward statistics in the sender's log"
read -r r_rx r_rxd _ _ < <(vhu_fwd_stats "$rlog") ||
	fail "no forward statistics in the receiver's log"

vhu_log "$what in_order=$in_order mrg_rxbuf=$mrg_rxbuf: $sender sent $s_tx" \
	"(and dropped $s_txd for want of ring space), $receiver received $r_rx, dropped $r_rxd"
[ "$s_tx" -gt 0 ] || fail "the sender transmitted no packet"
[ "$r_rx" -gt 0 ] || fail "the receiver received no packet"
[ "$s_tx" -eq $((r_rx + r_rxd)) ] ||
	fail "accounting: sent $s_tx != received $r_rx + dropped $r_rxd" \
		"(difference $((s_tx - r_rx - r_rxd)))"
vhu_log "PASS"
