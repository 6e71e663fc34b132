#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# vhu-pmd's icmpecho, flowgen and csum forwarding engines against
# engine_peer (engine_peer.c), which checks what comes back byte for byte.
#
#   engines.sh icmpecho
#       vhu-pmd --forward-mode=icmpecho --icmpecho-addr=10.11.12.2 on a
#       vhost-user port; the peer's virtio-user port sends ARP requests and
#       pings, and the forward statistics must count every request received
#       and exactly the answers sent.
#   engines.sh flowgen|flowgen-virtio
#       vhu-pmd --forward-mode=flowgen on a vhost-user (virtio-user) port
#       with 4 queue pairs, 64 flows of 128 bytes; the peer's virtio-user
#       (vhost-user) port receives on 4 queues: every flow arrives and each
#       queue gets a fair share, by the peer's count and by vhu-pmd's
#       per-queue counters.
#   engines.sh csum
#       vhu-pmd --forward-mode=csum between a vhost-user port (port 0, which
#       completes TCP and UDP checksums) and a virtio-user port (port 1,
#       which completes none), both connected to the peer; packets with
#       wrong and right checksums cross both ways and arrive right. The
#       forward statistics must count the wrong ones on each port, port 0
#       must have had its TCP/UDP checksums completed by offload and port 1
#       in software.
#
# Exit status: 0 pass, 1 fail. Environment: VHU_BUILD_DIR, VHU_PMD,
# ENGINE_PEER, and those of scripts/lib.sh.

set -u
. "$(dirname "$0")/../../scripts/lib.sh"

case_name=${1:-}
VHU_PROG="engine-$case_name"
: "${ENGINE_PEER:=$VHU_BUILD_DIR/test/integration/engine_peer}"
VHU_PMD=${VHU_PMD:-$VHU_BUILD_DIR/app/vhu-pmd}

fail() {
	vhu_log "FAIL: $*"
	local role
	for role in pmd peer; do
		[ -f "$VHU_WORK/$role.log" ] && vhu_show_log "$role" "$VHU_WORK/$role.log" 60
	done
	exit 1
}

[ -x "$VHU_PMD" ] || vhu_die "vhu-pmd not found at $VHU_PMD; build it or set VHU_PMD"
[ -x "$ENGINE_PEER" ] || vhu_die "engine_peer not found at $ENGINE_PEER; build the tests"

# start_pmd ARGS...: vhu-pmd forwarding on lcore 1, its log in pmd.log.
start_pmd() {
	vhu_eal pmd 0,1
	vhu_spawn pmd "$VHU_WORK/pmd.log" "$VHU_PMD" "${VHU_EAL_ARGS[@]}" -- --nb-cores=1 \
		--total-num-mbufs=$VHU_NB_MBUFS "$@"
}

# run_peer ARGS...: engine_peer in the foreground on lcore 0.
run_peer() {
	vhu_eal peer 0
	echo "$ENGINE_PEER ${VHU_EAL_ARGS[*]} -- $*" >"$VHU_WORK/peer.log"
	"$ENGINE_PEER" "${VHU_EAL_ARGS[@]}" -- "$@" >>"$VHU_WORK/peer.log" 2>&1
}

# stop_pmd: SIGINT, then its final forward statistics must be there.
stop_pmd() {
	vhu_stop pmd || fail "vhu-pmd did not stop cleanly"
	read -r rx rxd tx txd < <(vhu_fwd_stats "$VHU_WORK/pmd.log") ||
		fail "no forward statistics in vhu-pmd's log"
}

# csum_line PORT KEY: the numbers of a csum line of PORT's last forward statistics:
# "Bad-ipcsum:" gives "IP L4"; "TX-csum-sw:" gives "IP_SW L4_SW IP_OFFLOAD L4_OFFLOAD".
csum_line() {
	awk -v port="$1" -v key="$2" '
		/Forward statistics for port/ { p = $0; sub(/.*for port */, "", p); sub(/ .*/, "", p) }
		p == port && $1 == key && key == "Bad-ipcsum:" { line = $2 " " $4 }
		p == port && $1 == key && key == "TX-csum-sw:" { line = $3 " " $5 " " $9 " " $11 }
		END { print line }' "$VHU_WORK/pmd.log"
}

case_icmpecho() {
	local sock=$VHU_WORK/vhost.sock
	start_pmd --port "vhost-user,iface=$sock" --forward-mode=icmpecho \
		--icmpecho-addr=10.11.12.2
	vhu_wait_socket pmd "$sock" || fail "vhu-pmd did not come up"
	run_peer --mode icmpecho --frontend "virtio-user,path=$sock" ||
		fail "engine_peer: $(grep -c '^FAIL' "$VHU_WORK/peer.log") failure(s)"
	grep -E '^(ok|FAIL)' "$VHU_WORK/peer.log" >&2
	stop_pmd
	# 2 ARP requests, 10 pings; answers to 1 ARP request and 7 pings.
	vhu_log "vhu-pmd received $rx (dropped $rxd), answered $tx (dropped $txd)"
	[ "$rx" = 12 ] && [ "$tx" = 8 ] && [ "$rxd" = 0 ] && [ "$txd" = 0 ] ||
		fail "vhu-pmd counted $rx received and $tx sent, expected 12 and 8"
	vhu_log "PASS"
}

# The tx packets of each queue of port 0 in vhu-pmd's last periodic statistics, "Q N" lines.
queue_tx() {
	awk '/NIC statistics for port/ { p = $0; sub(/.*for port */, "", p); sub(/ .*/, "", p) }
		p == 0 && $1 == "Queue" && $3 == "tx:" { tx[$2] = $5 }
		END { for (q in tx) print q, tx[q] }' "$VHU_WORK/pmd.log" | sort -n
}

# case_flowgen vhost-user|virtio-user: vhu-pmd's port of that kind sends.
case_flowgen() {
	local kind=$1 sock=$VHU_WORK/vhost.sock pid rc q n sum=0 per_queue
	local flowgen=(--forward-mode=flowgen --flowgen-flows=64 --txpkts=128 --rxq=4 --txq=4
		--stats-period=1)
	local peer=(--mode flowgen --queues 4 --flows 64 --size 128 --duration 3)
	if [ "$kind" = vhost-user ]; then
		start_pmd --port "vhost-user,iface=$sock,queues=4" "${flowgen[@]}"
		vhu_wait_socket pmd "$sock" || fail "vhu-pmd did not come up"
		run_peer "${peer[@]}" --frontend "virtio-user,path=$sock,queues=4"
		rc=$?
	else
		vhu_eal peer 0
		vhu_spawn peer "$VHU_WORK/peer.log" "$ENGINE_PEER" "${VHU_EAL_ARGS[@]}" -- \
			"${peer[@]}" --frontend "vhost-user,iface=$sock,queues=4"
		pid=${VHU_PID[peer]}
		vhu_wait_socket peer "$sock" || fail "engine_peer did not listen"
		start_pmd --port "virtio-user,path=$sock,queues=4" "${flowgen[@]}"
		wait "$pid"
		rc=$?
		unset "VHU_PID[peer]"
	fi
	grep -E '^(flowgen|FAIL)' "$VHU_WORK/peer.log" >&2
	[ "$rc" = 0 ] || fail "engine_peer exited with $rc"
	per_queue=$(queue_tx)
	stop_pmd
	vhu_log "vhu-pmd sent $tx (dropped $txd); per tx queue: $(echo "$per_queue" | paste -sd ' ')"
	[ "$(echo "$per_queue" | wc -l)" = 4 ] || fail "vhu-pmd showed no counters for 4 tx queues"
	while read -r q n; do sum=$((sum + n)); done <<<"$per_queue"
	# Each of vhu-pmd's 4 tx queues sent at least half its share.
	while read -r q n; do
		[ $((n * 8)) -ge "$sum" ] || fail "tx queue $q sent $n of $sum frames, under half its share"
	done <<<"$per_queue"
	vhu_log "PASS"
}

case_csum() {
	local sock0=$VHU_WORK/port0.sock sock1=$VHU_WORK/port1.sock bad0 bad1 sw0 sw1 pid rc
	local ip_sw l4_sw ip_off l4_off
	# The peer listens on both sockets; vhu-pmd's ports connect to it.
	vhu_eal peer 0
	vhu_spawn peer "$VHU_WORK/peer.log" "$ENGINE_PEER" "${VHU_EAL_ARGS[@]}" -- --mode csum \
		--frontend "virtio-user,path=$sock0,server=1" --backend "vhost-user,iface=$sock1"
	pid=${VHU_PID[peer]}
	vhu_wait_socket peer "$sock1" && vhu_wait_socket peer "$sock0" ||
		fail "engine_peer did not listen"
	start_pmd --port "vhost-user,iface=$sock0,client=1" --port "virtio-user,path=$sock1" \
		--forward-mode=csum
	wait "$pid"
	rc=$?
	unset "VHU_PID[peer]"
	grep -E '^(ok|FAIL|csum)' "$VHU_WORK/peer.log" >&2
	[ "$rc" = 0 ] || fail "engine_peer exited with $rc"
	stop_pmd
	read -r bad0 < <(csum_line 0 Bad-ipcsum:)
	read -r bad1 < <(csum_line 1 Bad-ipcsum:)
	read -r sw0 < <(csum_line 0 TX-csum-sw:)
	read -r sw1 < <(csum_line 1 TX-csum-sw:)
	vhu_log "port 0: bad ip/l4 $bad0, checksums sw ip/l4 and offload ip/l4: $sw0"
	vhu_log "port 1: bad ip/l4 $bad1, checksums sw ip/l4 and offload ip/l4: $sw1"
	# 8 packets each way, 2 with a wrong IPv4 checksum, 5 with a wrong TCP/UDP/ICMP one.
	[ "$bad0" = "2 5" ] && [ "$bad1" = "2 5" ] ||
		fail "wrong checksums counted: port 0 '$bad0', port 1 '$bad1', expected '2 5'"
	# Port 0 (vhost-user): IPv4 here, TCP/UDP by offload. Port 1 (virtio-user): all here.
	# 7 of the 8 packets are IPv4.
	read -r ip_sw l4_sw ip_off l4_off <<<"$sw0"
	[ "$ip_sw" = 7 ] && [ "$ip_off" = 0 ] && [ "$l4_off" -gt 0 ] ||
		fail "port 0 should complete TCP/UDP checksums by offload: '$sw0'"
	read -r ip_sw l4_sw ip_off l4_off <<<"$sw1"
	[ "$ip_sw" = 7 ] && [ "$l4_sw" -gt 0 ] && [ "$ip_off" = 0 ] && [ "$l4_off" = 0 ] ||
		fail "port 1 has no offloads: every checksum in software: '$sw1'"
	vhu_log "PASS"
}

vhu_init_work
case "$case_name" in
icmpecho) case_icmpecho ;;
flowgen) case_flowgen vhost-user ;;
flowgen-virtio) case_flowgen virtio-user ;;
csum) case_csum ;;
*) vhu_die "usage: $0 icmpecho|flowgen|flowgen-virtio|csum" ;;
esac
