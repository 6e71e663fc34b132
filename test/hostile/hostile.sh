#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Hostile front-ends against a real vhu-pmd:
#
#   hostile.sh [ROUNDS]          (default 1000, or VHU_HOSTILE_ROUNDS)
#
# One vhu-pmd runs three ports: a vhost-user port and vhu's own virtio-user
# port on the same socket, forwarding real traffic in a loopback (io, primed
# with --tx-first), and a second vhost-user port, the victim, that
# hostile_client.py attacks: truncated and oversized messages, bad flags,
# unknown requests, wrong fds, bad memory tables and logs, messages out of
# order, disconnects at every step, a peer that stops reading, tables and
# rings replaced under traffic, a call fd that is not an eventfd. The client
# checks every refusal and its log line, that the loopback keeps forwarding,
# and that after ROUNDS rounds vhu-pmd holds the fds and mappings it held
# after the first (VmRSS within 2 MiB). vhu-pmd must then stop cleanly.
#
# Exit status: 0 pass, 1 fail, 77 skip (no python3). Environment: those of
# scripts/lib.sh (VHU_BUILD_DIR, VHU_PMD, VHU_EAL_MEM, ...), and
# VHU_HOSTILE_RSS_SLACK_KB, the VmRSS growth allowed (default 2048 kB).

set -u
VHU_PROG=hostile
. "$(dirname "$0")/../../scripts/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${1:-${VHU_HOSTILE_ROUNDS:-1000}}

fail() {
	vhu_log "FAIL: $*"
	[ -f "$VHU_WORK/pmd.log" ] && vhu_show_log vhu-pmd "$VHU_WORK/pmd.log" 40
	exit 1
}

if ! command -v python3 >/dev/null; then
	echo "SKIP: python3 is needed for the hostile client" >&2
	exit 77
fi
VHU_PMD=${VHU_PMD:-$VHU_BUILD_DIR/app/vhu-pmd}
[ -x "$VHU_PMD" ] || vhu_die "vhu-pmd not found at $VHU_PMD; build it or set VHU_PMD"

vhu_init_work
loop=$VHU_WORK/loop.sock
victim=$VHU_WORK/victim.sock
vhu_eal pmd 0,1
# Port order: 0 <-> 1 is the loopback; port 2, odd and last, forwards to itself.
vhu_spawn pmd "$VHU_WORK/pmd.log" "$VHU_PMD" "${VHU_EAL_ARGS[@]}" -- \
	--port "vhost-user,iface=$loop" --port "virtio-user,path=$loop" \
	--port "vhost-user,iface=$victim" \
	--forward-mode=io --tx-first --nb-cores=1 --stats-period=1 \
	--total-num-mbufs=$VHU_NB_MBUFS
vhu_wait_socket pmd "$victim" || fail "vhu-pmd did not come up"
vhu_wait_packets pmd "$VHU_WORK/pmd.log" rx 10000 30 || fail "no traffic in the loopback"

vhu_log "attacking $victim for $ROUNDS rounds while ports 0 and 1 forward"
python3 "$HERE/hostile_client.py" --socket "$victim" --log "$VHU_WORK/pmd.log" \
	--pid "${VHU_PID[pmd]}" --rounds "$ROUNDS" --traffic-port 0 \
	--rss-slack "${VHU_HOSTILE_RSS_SLACK_KB:-2048}" >"$VHU_WORK/client.log" 2>&1
rc=$?
cat "$VHU_WORK/client.log" >&2
[ $rc = 0 ] || fail "the hostile client reported a failure (exit $rc)"
vhu_alive "${VHU_PID[pmd]}" || fail "vhu-pmd died"
vhu_stop pmd || fail "vhu-pmd did not stop cleanly"
vhu_log "PASS"
