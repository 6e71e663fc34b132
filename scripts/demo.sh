#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# vhu's loopback demo, no VM needed: sets the machine up (scripts/setup.sh),
# then vhu-pmd serves a vhost-user socket and receives (rxonly) while
# dpdk-testpmd's virtio-user, playing the guest, connects and sends (txonly).
# After VHU_DEMO_SECONDS (default 10) of traffic it stops both, cleans up, and
# prints the guest->host throughput vhu-pmd measured:
#
#   vhu loopback: 12.34 Mpps guest->host over 10 s (64-byte packets, ...)
#
#   sudo ./scripts/demo.sh
#
# Environment: VHU_DEMO_SECONDS, VHU_DEMO_TXPKTS (packet size, default 64),
# VHU_BACKEND=dpdk (DPDK's own net_vhost instead of vhu-pmd, for comparison),
# and those of scripts/setup.sh and scripts/lib.sh. Ctrl-C stops it cleanly.

set -u
VHU_PROG=demo
# shellcheck source=scripts/setup.sh
. "$(dirname "$0")/setup.sh"

seconds=${VHU_DEMO_SECONDS:-10}
txpkts=${VHU_DEMO_TXPKTS:-64}

vhu_setup || exit 1
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

# Mpps, two decimals, from packets per second.
mpps() {
	awk -v pps="$1" 'BEGIN { printf "%.2f", pps / 1e6 }'
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
