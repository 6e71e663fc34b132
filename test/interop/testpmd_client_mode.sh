#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Interop test: vhu-pmd as the vhost-user client.
#
# vhu-pmd starts first with client=1 and a socket path nobody listens on yet,
# so it has to keep trying; VHU_CLIENT_DELAY seconds (default 2) later
# dpdk-testpmd's virtio-user starts as the server (server=1) and sends
# (txonly). The test passes when vhu-pmd connects and receives, and every
# packet the frontend sent is counted by vhu-pmd as received or dropped.
#
# Exit status: 0 pass, 1 fail, 77 skip (dpdk-testpmd is not installed).
# Environment: see scripts/lib.sh.

set -u
VHU_PROG='client-mode'
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

seconds=${VHU_TRAFFIC_SECONDS:-3}
delay=${VHU_CLIENT_DELAY:-2}

vhu_require_testpmd
vhu_require_backend
vhu_init_work

sock=$VHU_WORK/vhost.sock
blog=$VHU_WORK/backend.log
flog=$VHU_WORK/frontend.log

fail() {
	vhu_log "FAIL (backend $VHU_BACKEND): $*"
	vhu_show_log backend "$blog"
	vhu_show_log frontend "$flog"
	exit 1
}

vhu_start_backend backend "$blog" "$sock" 1 --forward-mode=rxonly --nb-cores=1 --stats-period=1
# Its first statistics block shows it is up and forwarding, with no peer yet.
vhu_wait_log backend "$blog" 'NIC statistics for port' 20 ||
	fail "the backend did not start without its server"
sleep "$delay"
vhu_alive "${VHU_PID[backend]}" || fail "the backend exited while its server was absent"
[ -e "$sock" ] && fail "something created $sock before the frontend did"

# Interactive, to stop sending while the device is still up (see testpmd_traffic.sh).
vhu_start_frontend frontend "$flog" -i "path=$sock,queues=1,server=1" --auto-start \
	--forward-mode=txonly --nb-cores=1
vhu_wait_packets backend "$blog" rx 0 30 ||
	fail "the backend did not connect to the frontend's socket and receive"
sleep "$seconds"
vhu_command frontend stop
vhu_wait_log frontend "$flog" 'Forward statistics for port' ||
	fail "the frontend did not stop forwarding"
sleep 1.5
vhu_quit frontend || fail "the frontend did not quit cleanly"
vhu_stop backend || fail "the backend did not stop cleanly on SIGINT"

read -r _ _ tx _ < <(vhu_fwd_stats "$flog") || fail "no forward statistics in the frontend's log"
read -r rx rxd _ _ < <(vhu_fwd_stats "$blog") || fail "no forward statistics in the backend's log"
vhu_log "client mode: frontend sent $tx, backend received $rx, dropped $rxd"
[ "$rx" -gt 0 ] || fail "the backend received no packet"
[ "$tx" -eq $((rx + rxd)) ] ||
	fail "accounting: sent $tx != received $rx + dropped $rxd (difference $((tx - rx - rxd)))"
vhu_log "PASS"
