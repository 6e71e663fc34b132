#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# vhu's loopback demo, no VM needed: sets the machine up (scripts/setup.sh),
# then runs traffic over a vhost-user socket for VHU_DEMO_SECONDS (default 10),
# cleans up, and prints the throughput:
#
#   ./scripts/demo.sh          (as root)
#
# By default one vhu-pmd plays both sides: port 0 serves the socket (vhu's
# backend, the host) and port 1 connects to it (vhu's virtio-user frontend,
# the guest); io forwarding between them on one lcore, both directions.
#
# VHU_DEMO_PEER=testpmd: vhu-pmd serves the socket and receives (rxonly) while
# dpdk-testpmd's virtio-user, playing the guest, sends (txonly); guest->host
# only. With VHU_BACKEND=dpdk as well, DPDK's own net_vhost replaces vhu-pmd,
# for comparison.
#
# Environment: VHU_DEMO_SECONDS, VHU_DEMO_TXPKTS (packet size, default 64),
# VHU_DEMO_PEER, VHU_BACKEND, and those of scripts/setup.sh and scripts/lib.sh.
# Ctrl-C stops it cleanly.

set -u
VHU_PROG=demo
# shellcheck source=scripts/setup.sh
. "$(dirname "$0")/setup.sh"

seconds=${VHU_DEMO_SECONDS:-10}
txpkts=${VHU_DEMO_TXPKTS:-64}

vhu_setup || exit 1

# Mpps, two decimals, from packets per second.
mpps() {
	awk -v pps="$1" 'BEGIN { printf "%.2f", pps / 1e6 }'
}

# Per-port Rx-pps samples from vhu-pmd's periodic statistics.
port_pps() {
	awk -v want="$2" '/NIC statistics for port/ { port = $(NF - 1) }
		$1 == "Rx-pps:" && port == want { print $2 }' "$1"
}

# The main job with vhu alone (the default): one vhu-pmd process plays both
# sides of the socket, port 0 the host (vhost-user backend), port 1 the guest
# (virtio-user frontend, with its own shared memory), and forwards between
# them on one lcore. VHU_DEMO_PEER=testpmd feeds the backend from dpdk-testpmd.
if [ "${VHU_DEMO_PEER:-vhu}" = vhu ] && [ "${VHU_BACKEND:-vhu}" = vhu ]; then
	vhu_require_backend
	vhu_init_work
	sock=$VHU_WORK/vhost.sock
	log=$VHU_WORK/vhu-pmd.log
	vhu_log "starting vhu-pmd alone: port 0 serves $sock (vhost-user, the host), port 1" \
		"connects to it (virtio-user, the guest); io forwarding between them, $txpkts-byte" \
		"packets, for $seconds s"
	vhu_eal demo "${VHU_BACKEND_LCORES:-0,1}"
	vhu_spawn demo "$log" "$VHU_BACKEND_BIN" "${VHU_EAL_ARGS[@]}" -- \
		--port "vhost-user,iface=$sock,queues=1" --port "virtio-user,path=$sock,queues=1" \
		--forward-mode=io --tx-first --txpkts="$txpkts" --stats-period=1 \
		--run-time=$((seconds + 2)) --total-num-mbufs=$VHU_NB_MBUFS
	pid=${VHU_PID[demo]}
	for ((t = 1; t <= seconds + 2; t++)); do
		sleep 1
		kill -0 "$pid" 2>/dev/null || break
		g2h=$(port_pps "$log" 0 | tail -n 1)
		[ -n "$g2h" ] && vhu_log "$(printf '%3d s: %s Mpps guest->host, %s Mpps host->guest' \
			"$t" "$(mpps "$g2h")" "$(mpps "$(port_pps "$log" 1 | tail -n 1)")")"
	done
	wait "$pid"
	rc=$?
	[ "$rc" -eq 0 ] || { vhu_show_log vhu-pmd "$log" 30; vhu_die "vhu-pmd exited with $rc"; }
	# Skip the first sample (the ring filling) and average the rest.
	avg() { port_pps "$log" "$1" | sed 1d | awk '$1 > 0 { s += $1; n++ } END { printf "%f %d", n ? s / n : 0, n }'; }
	read -r g2h n < <(avg 0)
	read -r h2g _ < <(avg 1)
	[ "$n" -gt 0 ] || { vhu_show_log vhu-pmd "$log" 30; vhu_die "no traffic flowed"; }
	echo "vhu loopback: $(mpps "$g2h") Mpps guest->host and $(mpps "$h2g") Mpps host->guest" \
		"over $n s ($txpkts-byte packets, vhu's backend and frontend, one forwarding lcore)"
	exit 0
fi

VHU_TESTPMD=$(vhu_testpmd_bin) ||
	vhu_die "dpdk-testpmd not found; install it with 'apt-get install dpdk-dev' or set VHU_TESTPMD"
vhu_require_backend
vhu_init_work

sock=$VHU_WORK/vhost.sock
blog=$VHU_WORK/backend.log
flog=$VHU_WORK/frontend.log
name=$([ "$VHU_BACKEND" = vhu ] && echo vhu-pmd || echo "dpdk-testpmd (net_vhost)")

fail() {
	vhu_log "$*"
	vhu_show_log "$name" "$blog" 20
	vhu_show_log "dpdk-testpmd (virtio-user)" "$flog" 20
	exit 1
}

vhu_log "starting $name: vhost-user server on $sock, forward-mode rxonly"
vhu_start_backend backend "$blog" "$sock" 0 --forward-mode=rxonly --nb-cores=1 --stats-period=1
vhu_wait_socket backend "$sock" || fail "$name did not come up"

vhu_log "starting dpdk-testpmd: virtio-user (the guest), forward-mode txonly, $txpkts-byte packets"
# Interactive, so that it stops sending before its device goes away and every
# packet it sent can be accounted for.
vhu_start_frontend frontend "$flog" -i "path=$sock,queues=1" --auto-start \
	--forward-mode=txonly --txpkts="$txpkts" --nb-cores=1
vhu_wait_packets backend "$blog" rx 0 30 || fail "no packet reached $name"

# Only statistics periods that lie wholly inside the traffic count: skip the
# one in which traffic started.
first=$(($(vhu_nic_pps "$blog" rx | wc -l) + 1))
for ((t = 1; t <= seconds; t++)); do
	sleep 1
	vhu_log "$(printf '%3d s: %s Mpps' "$t" "$(mpps "$(vhu_nic_pps "$blog" rx | tail -n 1)")")"
done
last=$(vhu_nic_pps "$blog" rx | wc -l)

vhu_command frontend stop
vhu_wait_log frontend "$flog" 'Forward statistics for port' || fail "dpdk-testpmd did not stop"
sleep 1
vhu_quit frontend || fail "dpdk-testpmd did not quit cleanly"
vhu_stop backend || fail "$name did not stop cleanly"

read -r _ _ sent _ < <(vhu_fwd_stats "$flog") || fail "no final statistics from dpdk-testpmd"
read -r received dropped _ _ < <(vhu_fwd_stats "$blog") || fail "no final statistics from $name"
read -r n avg < <(vhu_nic_pps "$blog" rx | sed -n "$((first + 1)),${last}p" |
	awk '{ s += $1; n++ } END { printf "%d %f\n", n, n ? s / n : 0 }')
[ "$n" -gt 0 ] || fail "traffic did not last a whole statistics period; raise VHU_DEMO_SECONDS"
[ "$received" -gt 0 ] || fail "$name received no packet"

echo "$name received $received packets, dropped $dropped; dpdk-testpmd sent $sent"
[ "$sent" -eq $((received + dropped)) ] ||
	vhu_log "warning: $((sent - received - dropped)) packets sent were neither received nor" \
		"counted as dropped"
echo "vhu loopback: $(mpps "$avg") Mpps guest->host over $n s ($txpkts-byte packets, backend $name)"
