#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Interop test: vhu-pmd goes away and comes back while the guest stays up,
# as when a virtual switch is upgraded under running virtual machines.
#
# dpdk-testpmd's virtio-user listens (server=1) and receives (rxonly).
# vhu-pmd connects (client=1), sends (txonly), stops sending and quits, and is
# started again, VHU_RESTARTS times (default 2) after the first session. Each
# new vhu-pmd must pick the rings up where the frontend has them (the
# frontend keeps its device across reconnections) and deliver again.
#
# Accounting, per session: what the frontend's RX count grew by while that
# vhu-pmd ran must equal what it counted as sent.
#
# Exit status: 0 pass, 1 fail, 77 skip (dpdk-testpmd is not installed).
# Environment: see scripts/lib.sh.

set -u
VHU_PROG='backend-restart'
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

restarts=${VHU_RESTARTS:-2}
seconds=${VHU_TRAFFIC_SECONDS:-2}

vhu_require_testpmd
vhu_require_backend
vhu_init_work

sock=$VHU_WORK/vhost.sock
flog=$VHU_WORK/frontend.log
blog=

fail() {
	vhu_log "FAIL (backend $VHU_BACKEND): $*"
	[ -n "$blog" ] && vhu_show_log backend "$blog"
	vhu_show_log frontend "$flog"
	exit 1
}

# Waits until two statistics periods of the frontend that began after this
# call show the same RX count (it has taken everything off its ring), and
# prints that count. (Its forward statistics come only when it exits.)
settled_rx() {
	local blocks prev='' cur i n
	blocks=$(grep -c 'NIC statistics for port' "$flog")
	for ((i = 0; i < 150; i++)); do
		sleep 0.1
		n=$(grep -c 'NIC statistics for port' "$flog")
		# A block is complete once the next one has begun.
		[ "$n" -ge $((blocks + 2)) ] || continue
		cur=$(head -n "$(grep -n 'NIC statistics for port' "$flog" | sed -n "${n}p" |
			cut -d: -f1)" "$flog" | vhu_nic_packets /dev/stdin rx)
		if [ "$cur" = "$prev" ]; then
			echo "$cur"
			return 0
		fi
		prev=$cur
		blocks=$((n - 1))
	done
	return 1
}

vhu_start_frontend frontend "$flog" "path=$sock,queues=1,server=1" \
	--forward-mode=rxonly --nb-cores=1 --stats-period=1
vhu_wait_socket frontend "$sock" || fail "the frontend did not come up"

base=0
for ((session = 0; session <= restarts; session++)); do
	blog=$VHU_WORK/backend-$session.log
	# Interactive: it sends only once told to, after the frontend has started
	# its device (which empties the rx rings, uncounted), and stops sending
	# before it leaves, so that the frontend can take the last packets.
	vhu_start_backend backend "$blog" -i "$sock" 1 --forward-mode=txonly --nb-cores=1
	[ "$session" = 0 ] && { vhu_wait_log frontend "$flog" 'NIC statistics for port' 30 ||
		fail "the frontend did not start forwarding"; }
	vhu_command backend start
	vhu_wait_packets frontend "$flog" rx "$base" 30 ||
		fail "session $session: the frontend's RX count did not grow past $base"
	sleep "$seconds"
	vhu_command backend stop
	vhu_wait_log backend "$blog" 'Forward statistics for port' ||
		fail "session $session: the backend did not stop forwarding"
	now=$(settled_rx) ||
		fail "session $session: the frontend's statistics did not show a steady RX count"
	vhu_quit backend || fail "session $session: the backend did not quit cleanly"
	vhu_alive "${VHU_PID[frontend]}" || fail "the frontend exited when its backend left"
	read -r _ _ sent _ < <(vhu_fwd_stats "$blog") ||
		fail "session $session: no forward statistics in the backend's log"
	got=$((now - base))
	vhu_log "session $session: backend sent $sent, frontend received $got"
	[ "$got" -gt 0 ] || fail "session $session: the frontend received nothing"
	[ "$got" -eq "$sent" ] ||
		fail "session $session: sent $sent != received $got (difference $((sent - got)))"
	base=$now
done

blog=
vhu_stop frontend || fail "the frontend did not stop cleanly on SIGINT"
vhu_log "PASS"
