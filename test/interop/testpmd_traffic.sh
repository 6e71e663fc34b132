#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Interop test: dpdk-testpmd's virtio-user (a vhost-user frontend no one here
# wrote) against vhu-pmd's vhost-user port, one direction, one ring flavour.
#
#   testpmd_traffic.sh g2h|h2g IN_ORDER MRG_RXBUF [split|packed [QUEUES]]
#
# g2h (guest to host): testpmd sends (txonly), vhu-pmd receives (rxonly).
# h2g (host to guest): vhu-pmd sends (txonly), testpmd receives (rxonly).
# vhu-pmd is the vhost-user server; the sender runs its interactive prompt, so
# that it can stop sending while the connection stays up.
# IN_ORDER and MRG_RXBUF (0 or 1) are virtio-user's devargs of the same names,
# so the backend is driven with and without VIRTIO_F_IN_ORDER and
# VIRTIO_NET_F_MRG_RXBUF; the ring layout (default split) is its packed_vq,
# and QUEUES (1..8, default 1) its queue pairs, each side forwarding on all of
# them with one lcore.
#
# After traffic has flowed for VHU_TRAFFIC_SECONDS (default 3) the sender
# stops first and the receiver, which has drained the ring meanwhile, second.
# The test passes when packets flowed, both exited cleanly, the backend
# negotiated the features asked for (virtio-user quietly falls back to a
# split ring, or drops IN_ORDER or MRG_RXBUF, when the backend does not offer
# them), every packet the sender counted as transmitted is counted by the
# receiver as received or dropped, and, with more than one queue pair, every
# queue carried packets both at the sender and at the receiver.
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
layout=${4:-split}
queues=${5:-1}
case "$dir/$in_order/$mrg_rxbuf/$layout/$queues" in
g2h/[01]/[01]/split/[1-8] | h2g/[01]/[01]/split/[1-8]) ;;
g2h/[01]/[01]/packed/[1-8] | h2g/[01]/[01]/packed/[1-8]) ;;
*) vhu_die "usage: $0 g2h|h2g IN_ORDER(0|1) MRG_RXBUF(0|1) [split|packed [QUEUES(1..8)]]" ;;
esac
VHU_PROG="traffic-$dir-$layout-io$in_order-mrg$mrg_rxbuf-q$queues"
seconds=${VHU_TRAFFIC_SECONDS:-3}
ring=256
devargs="queues=$queues,queue_size=$ring,in_order=$in_order,mrg_rxbuf=$mrg_rxbuf"
devargs="$devargs,packed_vq=$([ "$layout" = packed ] && echo 1 || echo 0)"
# Each side has as many rx and tx queues as the port has pairs.
qargs=(--rxq="$queues" --txq="$queues")

vhu_require_testpmd
vhu_require_backend
vhu_init_work

sock=$VHU_WORK/vhost.sock
blog=$VHU_WORK/backend.log
flog=$VHU_WORK/frontend.log
# The backend's port statistics while the frontend is still connected: its
# negotiated features and, with several queues, vhu-pmd's per-queue counters.
bstats=$VHU_WORK/backend-stats.log
if [ "$dir" = g2h ]; then
	sender=frontend slog=$flog receiver=backend rlog=$blog what="guest->host"
else
	sender=backend slog=$blog receiver=frontend rlog=$flog what="host->guest"
fi

fail() {
	vhu_log "FAIL ($what, $layout, in_order=$in_order, mrg_rxbuf=$mrg_rxbuf," \
		"queues=$queues, backend $VHU_BACKEND): $*"
	vhu_show_log backend "$blog"
	vhu_show_log frontend "$flog"
	exit 1
}

# start_backend LOG [-i] APP_ARGS...: vhu_start_backend's backend, listening on
# $sock with $queues queue pairs (vhu_start_backend gives its port one).
start_backend() {
	local log=$1 i=
	shift
	if [ "$1" = -i ]; then
		i=-i
		shift
	fi
	vhu_eal backend "${VHU_BACKEND_LCORES:-0,1}"
	if [ "$VHU_BACKEND" = vhu ]; then
		vhu_spawn backend "$log" $i "$VHU_BACKEND_BIN" "${VHU_EAL_ARGS[@]}" -- $i \
			--port "vhost-user,iface=$sock,queues=$queues,client=0" \
			--total-num-mbufs=$VHU_NB_MBUFS "${qargs[@]}" "$@"
	else
		# --no-flush-rx: see vhu_start_backend.
		vhu_spawn backend "$log" $i env "${VHU_BACKEND_ENV[@]}" "$VHU_BACKEND_BIN" \
			"${VHU_EAL_ARGS[@]}" --vdev "net_vhost0,iface=$sock,queues=$queues,client=0" -- $i \
			--total-num-mbufs=$VHU_NB_MBUFS --no-flush-rx "${qargs[@]}" "$@"
	fi
}

# The negotiated virtio features, in hex, last shown in LOG: vhu-pmd's port
# statistics say "Features: 0x...", DPDK's vhost library "negotiated Virtio
# features: 0x...".
negotiated_features() {
	grep -o -E '(Features|negotiated Virtio features): 0x[0-9a-fA-F]+' "$1" | tail -n 1 |
		sed 's/.*: //'
}

# Fails unless the backend negotiated what the frontend was asked for.
check_features() {
	local f spec name bit want
	f=$(negotiated_features "$bstats")
	[ -n "$f" ] || fail "the backend did not show the features it negotiated"
	# NAME:BIT:WANTED; MQ only matters with several queue pairs.
	for spec in "RING_PACKED:34:$([ "$layout" = packed ] && echo 1 || echo 0)" \
		"IN_ORDER:35:$in_order" "MRG_RXBUF:15:$mrg_rxbuf" \
		$([ "$queues" -gt 1 ] && echo MQ:22:1); do
		IFS=: read -r name bit want <<<"$spec"
		[ $(((f >> bit) & 1)) = "$want" ] && continue
		if [ "$want" = 1 ]; then
			fail "negotiated features $f lack $name, which the frontend was asked for"
		else
			fail "negotiated features $f have $name, which the frontend was told not to use"
		fi
	done
	vhu_log "negotiated features $f"
}

# queue_packets LOG rx|tx: "QUEUE PACKETS", one line per queue that LOG shows
# a count for, the last one shown: vhu-pmd's port statistics have a line
# "Queue N rx: packets P ..." per queue; dpdk-testpmd's forward statistics a
# block per stream ("Forward Stats for RX Port= 0/Queue= N -> TX Port= 0/Queue=
# N", then "RX-packets: A TX-packets: B TX-dropped: C"), but only for streams
# that moved packets.
queue_packets() {
	awk -v dir="$2" '
		$1 == "Queue" && $3 == dir ":" && $4 == "packets" { n[$2 + 0] = $5 }
		/Forward Stats for RX Port=/ {
			s = $0
			sub(dir == "rx" ? ".*RX Port= *[0-9]+/Queue= *" : ".*TX Port= *[0-9]+/Queue= *",
				"", s)
			q = s + 0
			blk = 1
			next
		}
		blk && /RX-packets:/ { n[q] = dir == "rx" ? $2 : $4; blk = 0 }
		END { for (q in n) print q, n[q] }' "$1" | sort -n
}

# check_queues ROLE LOG rx|tx TOTAL: every queue of ROLE carried packets in
# direction rx or tx, and they add up to TOTAL, ROLE's count for the port.
check_queues() {
	local role=$1 log=$2 d=$3 total=$4 q n used=0 sum=0 list=
	while read -r q n; do
		list="${list:+$list }q$q:$n"
		[ "$n" -gt 0 ] && used=$((used + 1))
		sum=$((sum + n))
	done < <(queue_packets "$log" "$d")
	vhu_log "$role $d per queue: ${list:-none shown}"
	[ "$used" -eq "$queues" ] ||
		fail "$role: packets went $d on $used of its $queues queues (${list:-none shown})"
	[ "$sum" -eq "$total" ] ||
		fail "$role: its queues' $d packets add up to $sum, its port's to $total"
}

if [ "$dir" = g2h ]; then
	start_backend "$blog" --forward-mode=rxonly --nb-cores=1 --stats-period=1
	vhu_wait_socket backend "$sock" || fail "the backend did not come up"
	vhu_require_backend_lib backend "$blog"
	# Interactive, so that it can stop sending while its device stays up: a
	# virtio driver counts a packet as sent once it is on the avail ring, and
	# the backend must be given time to take it before the device is reset.
	vhu_start_frontend frontend "$flog" -i "path=$sock,$devargs" --auto-start \
		--forward-mode=txonly --nb-cores=1 "${qargs[@]}"
	vhu_wait_packets backend "$blog" rx 0 30 || fail "no packet reached the backend"
	sleep "$seconds"
	vhu_command frontend stop
	vhu_wait_log frontend "$flog" 'Forward statistics for port' ||
		fail "the frontend did not stop forwarding"
	# One statistics period: far longer than the backend needs to empty the
	# ring, and the last statistics it shows before the frontend leaves are
	# its final counts.
	sleep 1.5
	cp "$blog" "$bstats"
	vhu_quit frontend || fail "the frontend did not quit cleanly"
	vhu_stop backend || fail "the backend did not stop cleanly on SIGINT"
else
	# Interactive, so that it sends only once the frontend is up: DPDK's
	# virtio PMD empties its rx rings, uncounted, when it starts its device
	# (virtio_dev_start: "Flush the old packets"), and what a backend sent
	# before that would be lost to the count. And so that it can stop sending
	# while its device stays up, for the frontend to take the last packets.
	start_backend "$blog" -i --forward-mode=txonly --nb-cores=1
	vhu_wait_socket backend "$sock" || fail "the backend did not come up"
	vhu_require_backend_lib backend "$blog"
	vhu_start_frontend frontend "$flog" "path=$sock,$devargs" \
		--forward-mode=rxonly --nb-cores=1 --stats-period=1 "${qargs[@]}"
	# Its first statistics block comes after it has started its device.
	vhu_wait_log frontend "$flog" 'NIC statistics for port' 30 ||
		fail "the frontend did not start forwarding"
	vhu_command backend start
	vhu_wait_packets frontend "$flog" rx 0 30 || fail "no packet reached the frontend"
	sleep "$seconds"
	vhu_command backend stop
	vhu_wait_log backend "$blog" 'Forward statistics for port' ||
		fail "the backend did not stop forwarding"
	# Its port statistics end with a line of '#' alone.
	vhu_command backend "show port stats all"
	vhu_wait_log backend "$blog" '^ *#+ *$' || fail "the backend did not show its port statistics"
	if [ "$VHU_BACKEND" != vhu ]; then
		# net_vhost's extended statistics: per queue, from the vhost
		# library's rte_vhost_vring_stats_get (checked below).
		vhu_command backend "show port xstats 0"
		vhu_wait_log backend "$blog" 'tx_q0_good_packets' ||
			fail "the backend did not show its extended statistics"
	fi
	cp "$blog" "$bstats"
	sleep 1.5
	vhu_stop frontend || fail "the frontend did not stop cleanly on SIGINT"
	vhu_quit backend || fail "the backend did not quit cleanly"
fi

read -r _ _ s_tx s_txd < <(vhu_fwd_stats "$slog") ||
	fail "no forward statistics in the sender's log"
read -r r_rx r_rxd _ _ < <(vhu_fwd_stats "$rlog") ||
	fail "no forward statistics in the receiver's log"

vhu_log "$what $layout in_order=$in_order mrg_rxbuf=$mrg_rxbuf queues=$queues: $sender sent" \
	"$s_tx (and dropped $s_txd for want of ring space), $receiver received $r_rx," \
	"dropped $r_rxd"
check_features
[ "$s_tx" -gt 0 ] || fail "the sender transmitted no packet"
[ "$r_rx" -gt 0 ] || fail "the receiver received no packet"
[ "$s_tx" -eq $((r_rx + r_rxd)) ] ||
	fail "accounting: sent $s_tx != received $r_rx + dropped $r_rxd" \
		"(difference $((s_tx - r_rx - r_rxd)))"
if [ "$VHU_BACKEND" != vhu ] && [ "$dir" = h2g ]; then
	# The vhost library's per-queue counts of what the backend sent add up
	# to its forward statistics.
	x_tx=$(awk '$1 ~ /^tx_q[0-9]+_good_packets:$/ { n += $2 } END { print n + 0 }' "$bstats")
	vhu_log "backend xstats: tx_q*_good_packets add up to $x_tx"
	[ "$x_tx" -eq "$s_tx" ] || fail "xstats: tx_q*_good_packets add up to $x_tx, sent $s_tx"
fi
if [ "$queues" -gt 1 ]; then
	# vhu-pmd shows its queues in its port statistics, dpdk-testpmd in the
	# forward statistics of its "stop".
	if [ "$dir" = g2h ]; then
		check_queues frontend "$flog" tx "$s_tx"
		check_queues backend "$([ "$VHU_BACKEND" = vhu ] && echo "$bstats" || echo "$blog")" \
			rx "$r_rx"
	else
		check_queues backend "$([ "$VHU_BACKEND" = vhu ] && echo "$bstats" || echo "$blog")" \
			tx "$s_tx"
		check_queues frontend "$flog" rx "$r_rx"
	fi
fi
vhu_log "PASS"
