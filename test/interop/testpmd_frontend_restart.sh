#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Interop test: the frontend goes away and comes back while vhu-pmd stays up.
#
# vhu-pmd listens on a vhost-user socket and receives (rxonly). dpdk-testpmd's
# virtio-user connects and sends (txonly), is stopped with SIGINT, and is
# started again, VHU_RESTARTS times (default 3) after the first session. After
# every (re)connection vhu-pmd's periodic statistics must show its RX count
# growing again, and each frontend must exit cleanly. At the end, vhu-pmd must
# have received what the frontends sent, less at most one ring per session: a
# frontend that is stopped mid-burst resets its device with packets still on
# the avail ring, which no backend can take any more.
#
# Exit status: 0 pass, 1 fail, 77 skip (dpdk-testpmd is not installed).
# Environment: see scripts/lib.sh.

set -u
VHU_PROG='frontend-restart'
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

restarts=${VHU_RESTARTS:-3}
seconds=${VHU_TRAFFIC_SECONDS:-2}
ring=256

vhu_require_testpmd
vhu_require_backend
vhu_init_work

sock=$VHU_WORK/vhost.sock
blog=$VHU_WORK/backend.log

fail() {
	vhu_log "FAIL (backend $VHU_BACKEND): $*"
	vhu_show_log backend "$blog"
	[ -n "${flog:-}" ] && vhu_show_log frontend "$flog"
	exit 1
}

vhu_start_backend backend "$blog" "$sock" 0 --forward-mode=rxonly --nb-cores=1 --stats-period=1
vhu_wait_socket backend "$sock" || fail "the backend did not come up"

sent=0
seen=0
for ((session = 0; session <= restarts; session++)); do
	flog=$VHU_WORK/frontend-$session.log
	vhu_start_frontend frontend "$flog" "path=$sock,queues=1,queue_size=$ring" \
		--forward-mode=txonly --nb-cores=1 --stats-period=1
	vhu_wait_packets backend "$blog" rx "$seen" 30 ||
		fail "session $session: the backend's RX count did not grow past $seen"
	sleep "$seconds"
	vhu_stop frontend || fail "session $session: the frontend did not stop cleanly on SIGINT"
	read -r _ _ tx _ < <(vhu_fwd_stats "$flog") ||
		fail "session $session: no forward statistics in the frontend's log"
	[ "$tx" -gt 0 ] || fail "session $session: the frontend sent nothing"
	sent=$((sent + tx))
	# The backend's next statistics line must include all this session's
	# packets before the next session's growth can be told apart.
	sleep 1.5
	seen=$(vhu_nic_packets "$blog" rx)
	vhu_log "session $session: frontend sent $tx; backend has received $seen in all"
done

flog=
vhu_stop backend || fail "the backend did not stop cleanly on SIGINT"
read -r rx rxd _ _ < <(vhu_fwd_stats "$blog") ||
	fail "no forward statistics in the backend's log"
sessions=$((restarts + 1))
vhu_log "$sessions sessions: frontends sent $sent, backend received $rx, dropped $rxd"
[ $((rx + rxd)) -le "$sent" ] || fail "the backend received more ($rx + $rxd) than was sent ($sent)"
[ $((sent - rx - rxd)) -le $((ring * sessions)) ] ||
	fail "$((sent - rx - rxd)) packets lost: more than one ring ($ring) per session"
vhu_log "PASS"
