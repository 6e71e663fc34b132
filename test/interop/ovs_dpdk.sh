#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Interop test: Debian's OVS-DPDK 3.1 (ovs-vswitchd-dpdk, unchanged) on vhu's
# librte_vhost.so.23, switching between two vhost-user ports.
#
#   ovs_dpdk.sh
#
# The test starts its own ovsdb-server and ovs-vswitchd (no systemd), every
# file of theirs in its work directory, with vhu's library in
# ovs-vswitchd's LD_LIBRARY_PATH (VHU_BACKEND=rte, the default here; with
# VHU_BACKEND=dpdk it runs on DPDK's own library, the reference that shows
# the test itself is right). A netdev bridge gets two dpdkvhostuserclient
# ports, each with a dpdk-testpmd virtio-user frontend as the vhost-user
# server (server=1), and flows port 1 <-> port 2. Then:
#   1. traffic 1 -> 2 and 2 -> 1, each with exact accounting: what the sender
#      sent is what OVS received on its port (rx_packets and the per-queue
#      rx_q0_good_packets), what OVS received went out of the other port or
#      was counted dropped there (tx_packets + tx_dropped), and what the
#      receiver got is OVS's tx_packets (and tx_q0_good_packets);
#   2. the second frontend quits and starts again: OVS reconnects, traffic
#      resumes, with the same accounting;
#   3. under traffic, both ports are deleted while connected and added back
#      VHU_OVS_CYCLES times (default 10; 100 in doc/rte-vhost.md's command):
#      ovs-vswitchd neither crashes nor leaks file descriptors or memory
#      (its fd count and RSS after the first cycle and after the last are
#      in the test's output), and traffic flows afterwards;
#   4. ovs-vswitchd is killed (SIGKILL) and started again while both
#      frontends keep running: it reconnects to them, and traffic both ways
#      counts exactly again;
#   5. ovs-vswitchd exits cleanly.
#
# OVS-DPDK adds --in-memory to its EAL arguments, which --no-huge cannot be
# combined with, so ovs-vswitchd needs 512 MB of free 2 MB hugepages; the
# test skips, saying so, without them. The frontends use vhu_eal_mem's.
#
# Exit status: 0 pass, 1 fail, 77 skip (OVS-DPDK or dpdk-testpmd is not
# installed, too few hugepages, or a sanitizer build with VHU_BACKEND=rte).

set -u
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

# shellcheck source=test/interop/ovs_lib.sh
. "$(dirname "$0")/ovs_lib.sh"

VHU_PROG=ovs-dpdk-$VHU_BACKEND
cycles=${VHU_OVS_CYCLES:-10}
seconds=${VHU_TRAFFIC_SECONDS:-3}

fail() {
	vhu_log "FAIL (OVS on the $VHU_BACKEND library): $*"
	vhu_show_log vswitchd "$vlog"
	vhu_show_log frontend1 "$VHU_WORK/frontend1.log" 20
	vhu_show_log frontend2 "$VHU_WORK/frontend2.log" 20
	exit 1
}

ovs_require

# stops ROLE: how many forward statistics ROLE's dpdk-testpmd has shown.
stops() {
	local n
	n=$(grep -c 'Accumulated forward statistics' "$VHU_WORK/$1.log" 2>/dev/null)
	echo "${n:-0}"
}

# stop_fwd ROLE: stops ROLE's forwarding and waits for its statistics.
stop_fwd() {
	local n i
	n=$(stops "$1")
	vhu_command "$1" stop
	for ((i = 0; i < 100; i++)); do
		[ "$(stops "$1")" -gt "$n" ] && return 0
		sleep 0.1
	done
	fail "$1 did not show its forward statistics on 'stop'"
}

vswitchd_fds() {
	find "/proc/${VHU_PID[vswitchd]}/fd" -mindepth 1 2>/dev/null | wc -l
}

# vswitchd_rss: ovs-vswitchd's resident memory, in kB.
vswitchd_rss() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/${VHU_PID[vswitchd]}/status" 2>/dev/null
}

# --- OVS ------------------------------------------------------------------------
ovs_start_db
start_vswitchd "$vlog"
ovs_add_bridge

# --- frontends and ports --------------------------------------------------------
# start_frontend N: dpdk-testpmd's virtio-user, the vhost-user server of port N.
start_frontend() {
	rm -f "$VHU_WORK/vu$1.sock"
	vhu_start_frontend "frontend$1" "$VHU_WORK/frontend$1.log" -i \
		"path=$VHU_WORK/vu$1.sock,server=1,queues=1" --nb-cores=1
	vhu_wait_socket "frontend$1" "$VHU_WORK/vu$1.sock" || fail "frontend $1 did not come up"
}

# add_port N: vhu$N, OpenFlow port N, the client of frontend N.
add_port() {
	ovs_add_port "$1" "$VHU_WORK/vu$1.sock"
}

start_frontend 1
start_frontend 2
add_port 1
add_port 2
set_flows
ovs_added 1 "$VHU_WORK/vu1.sock"
ovs_added 1 "$VHU_WORK/vu2.sock"
for n in 1 2; do
	vhu_command "frontend$n" "set fwd rxonly"
	vhu_command "frontend$n" start
done

# traffic FROM TO: frontend FROM sends to frontend TO through OVS for
# $seconds, and the counts of both frontends and of OVS's two ports agree.
traffic() {
	local a=$1 b=$2 k s_tx r_rx d_rx d_rxq d_tx d_txd d_txq
	local -A before after
	local keys=("vhu$a rx_packets" "vhu$a rx_q0_good_packets" "vhu$b tx_packets"
		"vhu$b tx_dropped" "vhu$b tx_q0_good_packets")
	ovs_stats_current
	for k in "${keys[@]}"; do
		# shellcheck disable=SC2086 # interface and counter, two words
		before[$k]=$(ovs_stat $k)
	done
	# Each start resets dpdk-testpmd's forward statistics.
	stop_fwd "frontend$b"
	vhu_command "frontend$b" start
	stop_fwd "frontend$a"
	vhu_command "frontend$a" "set fwd txonly"
	vhu_command "frontend$a" start
	sleep "$seconds"
	stop_fwd "frontend$a"
	# Far longer than OVS needs to empty the ring, then the receiver's
	# counts are final.
	sleep 1.5
	stop_fwd "frontend$b"
	ovs_stats_current
	for k in "${keys[@]}"; do
		# shellcheck disable=SC2086
		after[$k]=$(ovs_stat $k)
		[[ "${before[$k]}" =~ ^[0-9]+$ ]] && [[ "${after[$k]}" =~ ^[0-9]+$ ]] ||
			fail "OVS's statistics lack '$k' (before: '${before[$k]}', after: '${after[$k]}')"
	done
	read -r _ _ s_tx _ < <(vhu_fwd_stats "$VHU_WORK/frontend$a.log") ||
		fail "no forward statistics in frontend $a's log"
	read -r r_rx _ _ _ < <(vhu_fwd_stats "$VHU_WORK/frontend$b.log") ||
		fail "no forward statistics in frontend $b's log"
	d_rx=$((after["vhu$a rx_packets"] - before["vhu$a rx_packets"]))
	d_rxq=$((after["vhu$a rx_q0_good_packets"] - before["vhu$a rx_q0_good_packets"]))
	d_tx=$((after["vhu$b tx_packets"] - before["vhu$b tx_packets"]))
	d_txd=$((after["vhu$b tx_dropped"] - before["vhu$b tx_dropped"]))
	d_txq=$((after["vhu$b tx_q0_good_packets"] - before["vhu$b tx_q0_good_packets"]))
	vhu_log "$a -> $b: frontend $a sent $s_tx; OVS vhu$a received $d_rx (rx_q0 $d_rxq);" \
		"OVS vhu$b sent $d_tx (tx_q0 $d_txq), dropped $d_txd; frontend $b received $r_rx"
	[ "$s_tx" -gt 0 ] || fail "$a -> $b: frontend $a sent nothing"
	[ "$r_rx" -gt 0 ] || fail "$a -> $b: frontend $b received nothing"
	[ "$d_rx" -eq "$s_tx" ] || fail "$a -> $b: OVS vhu$a received $d_rx, frontend $a sent $s_tx"
	[ "$d_rxq" -eq "$d_rx" ] || fail "$a -> $b: vhu$a rx_q0_good_packets $d_rxq != rx_packets $d_rx"
	[ $((d_tx + d_txd)) -eq "$d_rx" ] ||
		fail "$a -> $b: OVS vhu$b sent $d_tx + dropped $d_txd != vhu$a received $d_rx"
	[ "$d_txq" -eq "$d_tx" ] || fail "$a -> $b: vhu$b tx_q0_good_packets $d_txq != tx_packets $d_tx"
	[ "$r_rx" -eq "$d_tx" ] || fail "$a -> $b: frontend $b received $r_rx, OVS vhu$b sent $d_tx"
	vhu_command "frontend$a" "set fwd rxonly"
	vhu_command "frontend$a" start
	vhu_command "frontend$b" start
}

traffic 1 2
traffic 2 1

# --- a frontend restarts --------------------------------------------------------
vhu_quit frontend2 || fail "frontend 2 did not quit cleanly"
start_frontend 2
ovs_added 2 "$VHU_WORK/vu2.sock"
vhu_command frontend2 "set fwd rxonly"
vhu_command frontend2 start
traffic 1 2
traffic 2 1

# --- ports deleted while connected, and added back ------------------------------
# Under traffic: frontend 1 keeps sending into its port.
vhu_command frontend1 stop
vhu_command frontend1 "set fwd txonly"
vhu_command frontend1 start
fds0= rss0= fds= rss=
vhu_log "before the cycles: ovs-vswitchd has $(vswitchd_fds) fds, RSS $(vswitchd_rss) kB"
for ((c = 1; c <= cycles; c++)); do
	vsctl del-port br0 vhu1 || fail "cycle $c: could not delete vhu1 while connected"
	vsctl del-port br0 vhu2 || fail "cycle $c: could not delete vhu2 while connected"
	vhu_alive "${VHU_PID[vswitchd]}" || fail "cycle $c: ovs-vswitchd died deleting ports"
	add_port 1
	add_port 2
	ovs_added $((c + 1)) "$VHU_WORK/vu1.sock"
	ovs_added $((c + 2)) "$VHU_WORK/vu2.sock"
	fds=$(vswitchd_fds)
	rss=$(vswitchd_rss)
	# The first cycle's allocations (mempools, caches) are the baseline.
	[ -n "$fds0" ] || { fds0=$fds; rss0=$rss; }
	vhu_log "cycle $c: ports deleted and added back; ovs-vswitchd has $fds fds, RSS $rss kB"
done
vhu_log "after the first of $cycles cycles: $fds0 fds, RSS $rss0 kB; after the last: $fds fds," \
	"RSS $rss kB"
# A leak grows with every cycle; ovs-vswitchd's own fds (its connections to
# ovsdb-server and ovs-vsctl) come and go by a few, and its heap by a few MB.
[ "$cycles" -lt 2 ] || [ "$fds" -le $((fds0 + 4)) ] ||
	fail "ovs-vswitchd's fds grew from $fds0 to $fds over $cycles delete/add cycles"
[ "$cycles" -lt 2 ] || [ "$rss" -le $((rss0 + 16384)) ] ||
	fail "ovs-vswitchd's RSS grew from $rss0 kB to $rss kB over $cycles delete/add cycles"
stop_fwd frontend1
vhu_command frontend1 "set fwd rxonly"
vhu_command frontend1 start
set_flows
traffic 1 2

# --- ovs-vswitchd killed and started again --------------------------------------
# The frontends keep running (vhost-user servers: they listen again); the
# ports are in the database, so the new ovs-vswitchd connects to both.
kill -KILL "${VHU_PID[vswitchd]}" 2>/dev/null
vhu_stop vswitchd 10 noint
# A killed ovs-vswitchd leaves its sockets behind; ovs-ofctl would find the
# old br0.mgmt and be refused until the new process replaces it.
rm -f "$ovs/vswitchd.ctl" "$ovs/br0.mgmt" "$ovs/br0.snoop"
vhu_log "ovs-vswitchd killed; starting it again"
start_vswitchd "$VHU_WORK/vswitchd-restarted.log"
ovs_added 1 "$VHU_WORK/vu1.sock"
ovs_added 1 "$VHU_WORK/vu2.sock"
set_flows
traffic 1 2
traffic 2 1

# --- the end --------------------------------------------------------------------
vsctl del-port br0 vhu1 || fail "could not delete vhu1 at the end"
ovs_exit
for n in 1 2; do
	vhu_quit "frontend$n" || fail "frontend $n did not quit cleanly"
done
vhu_log "PASS: OVS-DPDK 3.1 on the $VHU_BACKEND librte_vhost.so.23"
