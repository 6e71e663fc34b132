#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration tests of vhu's vhost-user front-end (the virtio-user port).
#
#   vu_run.sh traffic PEER RING IN_ORDER MRG_RXBUF QUEUES
#       vu_traffic sends frames of 64, 1518 and 9000 bytes through the port
#       and checks each comes back byte for byte, none lost. PEER is the
#       backend that sends them back: inproc (vhu's backend in the same
#       process), vhu (vhu-pmd --forward-mode=io), testpmd (dpdk-testpmd's
#       net_vhost, io) or rte (the same on vhu's librte_vhost.so.23). RING is
#       split or packed.
#   vu_run.sh pmd-loopback RING IN_ORDER MRG_RXBUF QUEUES
#       one vhu-pmd with a vhost-user port and a virtio-user port on the same
#       socket, io forwarding primed with --tx-first: packets circulate and
#       every packet sent is received, but for the burst still in flight.
#   vu_run.sh pmd-pair g2h|h2g RING IN_ORDER MRG_RXBUF QUEUES
#       two vhu-pmd, one sending (txonly), one receiving (rxonly); after the
#       sender stops and the receiver drains: sent = received + rx drops.
#   vu_run.sh pmd-ab g2h|h2g RING IN_ORDER MRG_RXBUF QUEUES
#       pmd-pair with the backend flipping libvhu's A/B variant every 100 ms
#       (--ab-period, burst-cycles=1): both variants get periods and packets.
#   vu_run.sh restarts PEER RING
#       the port is stopped and started 5 times under traffic: GET_VRING_BASE
#       and SET_VRING_BASE carry every ring over, nothing lost or repeated.
#   vu_run.sh kill client|server PEER [CYCLES]
#       the backend (vhu or testpmd) is killed and started again CYCLES times
#       (default 20) under traffic; each time traffic must resume, and the
#       front-end's open fds and VmRSS must not grow.
#   vu_run.sh iommu [PEER [RING]]
#       iommu=1 against dpdk-testpmd (default) or vhu's backend (inproc), both
#       with iommu-support=1: frames come back byte for byte through IOTLB
#       mappings and misses are answered; against dpdk-testpmd, once the
#       mappings are withdrawn nothing moves until they are restored.
#   vu_run.sh rte-app
#       vu_traffic against rte_ring_app, a DPDK application of its own on vhu's
#       librte_vhost.so.23 (not net_vhost), split ring, one queue pair: every
#       frame comes back, rte_vhost_get_mem_table's regions are readable
#       through their addresses, and rte_vhost_get_vring_base counts on both
#       rings exactly the frames vu_traffic sent.
#   vu_run.sh malformed MODE EXPECTED
#       a fake backend (fake_backend.py) answers one request badly (MODE);
#       the port must refuse to start with a message naming the socket and
#       containing EXPECTED.
#   vu_run.sh hostile MODE EXPECTED
#       the fake backend writes a bogus used entry into a receive ring
#       (MODE: hostile-id, hostile-len, hostile-idx); the queue must latch
#       broken, logged once with EXPECTED, and the process carry on.
#
# Exit status: 0 pass, 1 fail, 77 skip (a peer that cannot run here, or a
# ring flavour the backend does not offer). Environment: VHU_BUILD_DIR,
# VU_TRAFFIC (the test program), RTE_RING_APP, and those of scripts/lib.sh.

set -u
. "$(dirname "$0")/../../scripts/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
: "${VU_TRAFFIC:=$VHU_BUILD_DIR/test/integration/vu_traffic}"
: "${RTE_RING_APP:=$VHU_BUILD_DIR/test/integration/rte_ring_app}"
SIZES=64,1518,9000

case_name=${1:-}
[ -n "$case_name" ] || vhu_die "usage: $0 traffic|pmd-loopback|pmd-pair|pmd-ab|restarts|kill|iommu|malformed ARGS"
shift
# Names work directories and EAL file prefixes: short (a socket path has 107 bytes).
if [ "$case_name" = malformed ] || [ "$case_name" = hostile ]; then
	VHU_PROG="vu-$case_name-${1:-}"
else
	VHU_PROG="vu-$case_name-$(echo "$*" | tr ' ' '-')"
fi

fail() {
	vhu_log "FAIL: $*"
	local role
	for role in frontend backend fake; do
		[ -f "$VHU_WORK/$role.log" ] && vhu_show_log "$role" "$VHU_WORK/$role.log" 60
	done
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# The virtio-user keys of a ring flavour: ring, in_order, mrg_rxbuf, queues.
# Without MRG_RXBUF a receive buffer must hold a whole 9000-byte frame (mtu).
vu_keys() {
	local ring=$1 in_order=$2 mrg=$3 queues=$4 keys
	keys="queues=$queues,in_order=$in_order,mrg_rxbuf=$mrg"
	[ "$ring" = packed ] && keys="$keys,packed_vq=1"
	[ "$mrg" = 0 ] && keys="$keys,mtu=9000"
	echo "$keys"
}

check_flavour() {
	case "$1/$2/$3/$4" in
	split/[01]/[01]/[1-8] | packed/[01]/[01]/[1-8]) ;;
	*) vhu_die "bad flavour '$*': RING(split|packed) IN_ORDER(0|1) MRG_RXBUF(0|1) QUEUES" ;;
	esac
}

require_pmd() {
	VHU_PMD=${VHU_PMD:-$VHU_BUILD_DIR/app/vhu-pmd}
	[ -x "$VHU_PMD" ] || vhu_die "vhu-pmd not found at $VHU_PMD; build it or set VHU_PMD"
}

require_traffic() {
	[ -x "$VU_TRAFFIC" ] || vhu_die "vu_traffic not found at $VU_TRAFFIC; build the tests"
}

# start_peer ROLE PEER SOCKET QUEUES CLIENT [EXTRA_DEVARGS]: a backend that sends
# back what it receives (io forwarding on lcore 1).
start_peer() {
	local role=$1 peer=$2 sock=$3 queues=$4 client=$5 extra=${6:-}
	vhu_eal "$role" 0,1
	case "$peer" in
	vhu)
		vhu_spawn "$role" "$VHU_WORK/$role.log" "$VHU_PMD" "${VHU_EAL_ARGS[@]}" -- \
			--port "vhost-user,iface=$sock,queues=$queues,client=$client$extra" \
			--forward-mode=io --nb-cores=1 --rxq="$queues" --txq="$queues" \
			--total-num-mbufs=$VHU_NB_MBUFS
		;;
	testpmd | rte)
		# rte: the same net_vhost on vhu's librte_vhost.so.23 (VHU_BACKEND_ENV).
		vhu_spawn "$role" "$VHU_WORK/$role.log" env "${VHU_BACKEND_ENV[@]}" \
			"$VHU_TESTPMD" "${VHU_EAL_ARGS[@]}" \
			--vdev "net_vhost0,iface=$sock,queues=$queues,client=$client$extra" -- \
			--forward-mode=io --nb-cores=1 --rxq="$queues" --txq="$queues" \
			--total-num-mbufs=$VHU_NB_MBUFS --stats-period=3600
		if [ "$peer" = rte ]; then
			vhu_require_vhost_lib "$role" vhu "$VHU_WORK/$role.log"
		else
			vhu_require_vhost_lib "$role" system
		fi
		;;
	*) vhu_die "unknown peer '$peer': inproc, vhu, testpmd or rte" ;;
	esac
}

require_peer() {
	case "$1" in
	inproc) ;;
	vhu) require_pmd ;;
	testpmd) vhu_require_testpmd ;;
	rte)
		VHU_BACKEND=rte
		vhu_require_backend
		;;
	*) vhu_die "unknown peer '$1': inproc, vhu, testpmd or rte" ;;
	esac
}

# run_traffic LOG ARGS...: vu_traffic in the foreground on lcore 0.
run_traffic() {
	local log=$1
	shift
	vhu_eal frontend 0
	echo "$VU_TRAFFIC ${VHU_EAL_ARGS[*]} -- $*" >"$log"
	"$VU_TRAFFIC" "${VHU_EAL_ARGS[@]}" -- "$@" >>"$log" 2>&1
}

case_traffic() {
	local peer=${1:-} ring=${2:-} in_order=${3:-} mrg=${4:-} queues=${5:-} sock rc need
	check_flavour "$ring" "$in_order" "$mrg" "$queues"
	require_traffic
	require_peer "$peer"
	vhu_init_work
	sock=$VHU_WORK/vhost.sock
	need=$([ "$ring" = packed ] && echo RING_PACKED || echo VERSION_1)
	if [ "$peer" = inproc ]; then
		run_traffic "$VHU_WORK/frontend.log" \
			--backend "vhost-user,iface=$sock,queues=$queues" \
			--frontend "virtio-user,path=$sock,$(vu_keys "$ring" "$in_order" "$mrg" "$queues")" \
			--queues "$queues" --sizes $SIZES --count 20000 --require "$need"
	else
		start_peer backend "$peer" "$sock" "$queues" 0
		vhu_wait_socket backend "$sock" || fail "the backend did not come up"
		run_traffic "$VHU_WORK/frontend.log" \
			--frontend "virtio-user,path=$sock,$(vu_keys "$ring" "$in_order" "$mrg" "$queues")" \
			--queues "$queues" --sizes $SIZES --count 20000 --require "$need"
	fi
	rc=$?
	grep -E '^(RESULT|SKIP)' "$VHU_WORK/frontend.log" >&2
	[ $rc = 77 ] && skip "$peer backend: $(grep '^SKIP' "$VHU_WORK/frontend.log")"
	[ $rc = 0 ] || fail "vu_traffic exited with $rc"
	vhu_log "PASS"
}

# pmd_running_ring LOG: the ring layout the virtio-user port runs, from its log.
pmd_running_ring() {
	grep -o 'running [0-9]* queue pair(s): [a-z]* rings' "$1" | tail -1 | awk '{print $5}'
}

case_pmd_loopback() {
	local ring=${1:-} in_order=${2:-} mrg=${3:-} queues=${4:-} sock log tx0 rx0 tx1 rx1 got
	check_flavour "$ring" "$in_order" "$mrg" "$queues"
	require_pmd
	vhu_init_work
	sock=$VHU_WORK/vhost.sock
	log=$VHU_WORK/frontend.log
	vhu_eal frontend 0,1
	vhu_spawn frontend "$log" "$VHU_PMD" "${VHU_EAL_ARGS[@]}" -- \
		--port "vhost-user,iface=$sock,queues=$queues" \
		--port "virtio-user,path=$sock,$(vu_keys "$ring" "$in_order" "$mrg" "$queues")" \
		--forward-mode=io --tx-first --nb-cores=1 --rxq="$queues" --txq="$queues" \
		--stats-period=1 --total-num-mbufs=$VHU_NB_MBUFS
	vhu_wait_packets frontend "$log" rx 100000 30 || fail "no traffic in the loopback"
	got=$(pmd_running_ring "$log")
	[ "$got" = "$ring" ] || { vhu_stop frontend; skip "vhu's backend did not negotiate $ring rings"; }
	sleep 2
	vhu_stop frontend || fail "vhu-pmd did not stop cleanly"
	# Per port "RX RXdrop TX TXdrop", from the final forward statistics.
	read -r rx0 _ tx0 _ < <(awk '/Forward statistics for port 0/{f=1} f&&/RX-packets/{r=$2;d=$4} f&&/TX-packets/{print r, d, $2, $4; exit}' "$log")
	read -r rx1 _ tx1 _ < <(awk '/Forward statistics for port 1/{f=1} f&&/RX-packets/{r=$2;d=$4} f&&/TX-packets/{print r, d, $2, $4; exit}' "$log")
	read -r _ rxd _ txd < <(vhu_fwd_stats "$log") || fail "no forward statistics"
	vhu_log "port 0 (vhost-user): rx $rx0 tx $tx0; port 1 (virtio-user): rx $rx1 tx $tx1;" \
		"dropped rx $rxd tx $txd"
	[ "$rxd" = 0 ] && [ "$txd" = 0 ] || fail "packets were dropped"
	# --tx-first put one burst (32 per queue) in each direction; io forwarding
	# keeps exactly those circulating, so at most that many are in flight.
	for d in "$tx0 $rx1" "$tx1 $rx0"; do
		set -- $d
		[ "$1" -ge "$2" ] && [ $(($1 - $2)) -le $((32 * queues)) ] ||
			fail "accounting: sent $1, received $2 on the other port (more than the" \
				"$((32 * queues)) packets --tx-first keeps in flight apart)"
	done
	vhu_log "PASS"
}

# Extra keys of the backend's port and extra backend options (pmd-ab).
PAIR_PORT_KEYS=
PAIR_BACKEND_ARGS=()

pmd_pair_run() {
	local dir=${1:-} ring=${2:-} in_order=${3:-} mrg=${4:-} queues=${5:-} sock
	local sender receiver bmode fmode s_tx r_rx r_rxd got
	check_flavour "$ring" "$in_order" "$mrg" "$queues"
	case "$dir" in g2h | h2g) ;; *) vhu_die "direction must be g2h or h2g" ;; esac
	require_pmd
	vhu_init_work
	sock=$VHU_WORK/vhost.sock
	# g2h: the guest (virtio-user) sends; h2g: the host (vhost-user) sends.
	if [ "$dir" = g2h ]; then
		fmode=txonly bmode=rxonly sender=frontend receiver=backend
	else
		fmode=rxonly bmode=txonly sender=backend receiver=frontend
	fi
	vhu_eal backend 0,1
	vhu_spawn backend "$VHU_WORK/backend.log" "$VHU_PMD" "${VHU_EAL_ARGS[@]}" -- \
		--port "vhost-user,iface=$sock,queues=$queues$PAIR_PORT_KEYS" \
		--forward-mode=$bmode --nb-cores=1 \
		--rxq="$queues" --txq="$queues" --stats-period=1 --txpkts=1518 \
		--total-num-mbufs=$VHU_NB_MBUFS "${PAIR_BACKEND_ARGS[@]}"
	vhu_wait_socket backend "$sock" || fail "the backend did not come up"
	vhu_eal frontend 1,0
	vhu_spawn frontend "$VHU_WORK/frontend.log" "$VHU_PMD" "${VHU_EAL_ARGS[@]}" -- \
		--port "virtio-user,path=$sock,$(vu_keys "$ring" "$in_order" "$mrg" "$queues")" \
		--forward-mode=$fmode --nb-cores=1 \
		--rxq="$queues" --txq="$queues" --stats-period=1 --txpkts=1518 \
		--total-num-mbufs=$VHU_NB_MBUFS
	vhu_wait_packets $receiver "$VHU_WORK/$receiver.log" rx 0 30 ||
		fail "no packet reached the receiver"
	got=$(pmd_running_ring "$VHU_WORK/frontend.log")
	if [ "$got" != "$ring" ]; then
		vhu_stop frontend
		vhu_stop backend
		skip "vhu's backend did not negotiate $ring rings"
	fi
	sleep 2
	vhu_stop $sender || fail "the sender ($sender) did not stop cleanly"
	sleep 1.5 # the receiver drains the rings meanwhile
	vhu_stop $receiver || fail "the receiver ($receiver) did not stop cleanly"
	read -r _ _ s_tx _ < <(vhu_fwd_stats "$VHU_WORK/$sender.log") || fail "no sender statistics"
	read -r r_rx r_rxd _ _ < <(vhu_fwd_stats "$VHU_WORK/$receiver.log") ||
		fail "no receiver statistics"
	vhu_log "$dir: $sender sent $s_tx, $receiver received $r_rx and dropped $r_rxd"
	[ "$r_rx" -gt 0 ] || fail "nothing received"
	[ "$s_tx" -eq $((r_rx + r_rxd)) ] ||
		fail "accounting: sent $s_tx != received $r_rx + dropped $r_rxd"
}

case_pmd_pair() {
	pmd_pair_run "$@"
	vhu_log "PASS"
}

# The backend of a pmd-pair run flips libvhu's A/B variant every 100 ms: both
# variants get periods and packets, in the periodic displays and at exit,
# and the ratio has pairs. No figure is compared: the run is too short and
# the machine shared.
case_pmd_ab() {
	local log v periods packets line
	PAIR_PORT_KEYS=,burst-cycles=1
	PAIR_BACKEND_ARGS=(--ab-period=100)
	pmd_pair_run "$@"
	log=$VHU_WORK/backend.log
	grep -q '^A/B: flipping libvhu.s variant every 100 ms' "$log" ||
		fail "the backend did not say it flips variants"
	# The last block is the one printed at exit; one before it came with --stats-period.
	[ "$(grep -c 'A/B (period 100 ms) variant 0 / variant 1:' "$log")" -ge 2 ] ||
		fail "no A/B block with the periodic statistics and at exit"
	for v in 0 1; do
		line=$(grep "A/B (period 100 ms) variant $v: " "$log" | tail -1)
		vhu_log "variant $v: $line"
		periods=$(sed -n 's/.* periods \([0-9]*\),.*/\1/p' <<<"$line")
		packets=$(sed -n 's/.* packets \([0-9]*\),.*/\1/p' <<<"$line")
		[ "${periods:-0}" -ge 3 ] || fail "variant $v got ${periods:-no} periods (3 or more expected)"
		[ "${packets:-0}" -gt 0 ] || fail "variant $v moved no packets"
		grep -qE 'cycles/packet [0-9.]+ \(median [0-9.]+, [0-9.]+-[0-9.]+\), burst cycles/packet [1-9]' \
			<<<"$line" || fail "variant $v: no cycles/packet or burst cycles/packet figure"
	done
	line=$(grep 'A/B (period 100 ms) variant 0 / variant 1:' "$log" | tail -1)
	vhu_log "$line"
	grep -qE 'pairs [1-9][0-9]*, cycles/packet [0-9]+\.[0-9]+ .*burst cycles/packet [0-9]' <<<"$line" ||
		fail "the ratio line has no pairs or no burst figure"
	vhu_log "PASS"
}

case_restarts() {
	local peer=${1:-} ring=${2:-} sock rc
	require_traffic
	require_peer "$peer"
	vhu_init_work
	sock=$VHU_WORK/vhost.sock
	if [ "$peer" = inproc ]; then
		run_traffic "$VHU_WORK/frontend.log" --backend "vhost-user,iface=$sock,queues=2" \
			--frontend "virtio-user,path=$sock,$(vu_keys "$ring" 1 1 2)" --queues 2 \
			--sizes $SIZES --duration 3 --restarts 5 \
			--require "$([ "$ring" = packed ] && echo RING_PACKED || echo VERSION_1)"
	else
		start_peer backend "$peer" "$sock" 2 0
		vhu_wait_socket backend "$sock" || fail "the backend did not come up"
		run_traffic "$VHU_WORK/frontend.log" \
			--frontend "virtio-user,path=$sock,$(vu_keys "$ring" 1 1 2)" --queues 2 \
			--sizes $SIZES --duration 3 --restarts 5 \
			--require "$([ "$ring" = packed ] && echo RING_PACKED || echo VERSION_1)"
	fi
	rc=$?
	grep -E '^(RESULT|SKIP)' "$VHU_WORK/frontend.log" >&2
	[ $rc = 77 ] && skip "$(grep '^SKIP' "$VHU_WORK/frontend.log")"
	[ $rc = 0 ] || fail "vu_traffic exited with $rc"
	[ "$(grep -c 'stopped; link down' "$VHU_WORK/frontend.log")" -ge 5 ] ||
		fail "the port was not stopped 5 times"
	vhu_log "PASS"
}

# The last status line of the front-end: "status: link=up connections=N ... received=N ...".
last_status() {
	grep '^status:' "$VHU_WORK/frontend.log" | tail -1
}

status_field() {
	last_status | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'
}

# Wait until the front-end's link is up, its starts counter is past $1 and
# more than 500 frames came back since; fails after 20 s.
wait_resumed() {
	local starts=$1 base i
	for ((i = 0; i < 200; i++)); do
		if [ "$(status_field link)" = up ] && [ "$(status_field starts)" -gt "$starts" ]; then
			base=${base:-$(status_field received)}
			[ "$(status_field received)" -gt $((base + 500)) ] && return 0
		fi
		vhu_alive "${VHU_PID[frontend]}" || return 1
		sleep 0.1
	done
	return 1
}

proc_fds() {
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}

proc_rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

case_kill() {
	local mode=${1:-} peer=${2:-vhu} cycles=${3:-20} sock fe be client server pid c
	local fds0 rss0 fds rss starts
	case "$mode" in client | server) ;; *) vhu_die "mode must be client or server" ;; esac
	require_traffic
	require_peer "$peer"
	[ "$peer" = inproc ] && vhu_die "the backend must be a process to be killed: vhu or testpmd"
	vhu_init_work
	sock=$VHU_WORK/vhost.sock
	# client: the front-end connects and reconnects; server: it listens, the backend connects.
	if [ "$mode" = client ]; then server=0 client=0; else server=1 client=1; fi
	[ "$mode" = client ] && {
		start_peer backend "$peer" "$sock" 1 $client
		vhu_wait_socket backend "$sock" || fail "the backend did not come up"
	}
	vhu_eal frontend 0
	vhu_spawn frontend "$VHU_WORK/frontend.log" "$VU_TRAFFIC" "${VHU_EAL_ARGS[@]}" -- \
		--frontend "virtio-user,path=$sock,server=$server" --sizes 64,1518 \
		--duration 600 --tolerate-loss --stall-ms 300 --status-period 0.1
	fe=${VHU_PID[frontend]}
	[ "$mode" = server ] && {
		vhu_wait_socket frontend "$sock" || fail "the front-end did not listen"
		start_peer backend "$peer" "$sock" 1 $client
	}
	wait_resumed 0 || fail "no traffic at the start"
	for ((c = 1; c <= cycles; c++)); do
		starts=$(status_field starts)
		pid=${VHU_PID[backend]}
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		unset "VHU_PID[backend]"
		vhu_remove_eal_files "${VHU_PREFIX[backend]}"
		# A backend that listens finds the socket file of the one killed; vhu's
		# replaces it, DPDK's refuses to bind: remove it, as an orchestrator would.
		[ "$mode" = client ] && rm -f "$sock"
		start_peer backend "$peer" "$sock" 1 $client
		wait_resumed "$starts" || fail "cycle $c: traffic did not resume ($(last_status))"
		fds=$(proc_fds "$fe")
		rss=$(proc_rss_kb "$fe")
		# Cycle 1 is the baseline: by then every lazy allocation has happened.
		[ "$c" = 1 ] && fds0=$fds rss0=$rss
		vhu_log "cycle $c: resumed; front-end fds $fds, VmRSS $rss kB; $(last_status)"
	done
	vhu_stop frontend || fail "the front-end did not stop cleanly"
	grep -E '^RESULT' "$VHU_WORK/frontend.log" >&2
	grep -q '^PASS' "$VHU_WORK/frontend.log" || fail "vu_traffic saw corrupt frames"
	[ "$fds" = "$fds0" ] || fail "the front-end's open fds grew from $fds0 to $fds"
	# Allow 1 MB of noise (stdio, log buffers); a leak per cycle would be far more.
	[ "$rss" -le $((rss0 + 1024)) ] || fail "the front-end's VmRSS grew from $rss0 to $rss kB"
	vhu_log "PASS: $cycles $mode-mode restarts of the $peer backend"
}

case_iommu() {
	local peer=${1:-testpmd} ring=${2:-split} sock rc keys
	require_traffic
	require_peer "$peer"
	vhu_init_work
	sock=$VHU_WORK/vhost.sock
	keys="iommu=1$([ "$ring" = packed ] && echo ,packed_vq=1)"
	if [ "$peer" = inproc ]; then
		# vhu's backend retries a miss instead of dropping: nothing may be lost.
		run_traffic "$VHU_WORK/frontend.log" --backend "vhost-user,iface=$sock,iommu-support=1" \
			--frontend "virtio-user,path=$sock,$keys" --sizes $SIZES --count 20000
		rc=$?
		grep -q 'does not offer IOMMU_PLATFORM' "$VHU_WORK/frontend.log" &&
			skip "vhu's backend does not offer IOMMU_PLATFORM"
		grep -E '^RESULT|iommu:' "$VHU_WORK/frontend.log" >&2
		[ $rc = 0 ] || fail "vu_traffic exited with $rc"
		grep -q 'iommu: IOTLB misses [1-9]' "$VHU_WORK/frontend.log" ||
			fail "the backend sent no IOTLB miss: it did not use the IOMMU"
		# Then the withdrawal: invalidated buffers are left alone, restored
		# ones used again, with 9000-byte chains held across the misses.
		run_traffic "$VHU_WORK/withdraw.log" --backend "vhost-user,iface=$sock,iommu-support=1" \
			--frontend "virtio-user,path=$sock,$keys" --sizes $SIZES \
			--withdraw-test --tolerate-loss --stall-ms 500
		rc=$?
		grep -E '^(withdraw-test|RESULT)' "$VHU_WORK/withdraw.log" >&2
		[ $rc = 0 ] || fail "vu_traffic --withdraw-test exited with $rc"
		vhu_log "PASS"
		return
	else
		# DPDK drops a packet whose buffer misses: those are counted, not failures.
		start_peer backend "$peer" "$sock" 1 0 ",iommu-support=1"
		vhu_wait_socket backend "$sock" || fail "the backend did not come up"
		run_traffic "$VHU_WORK/frontend.log" --frontend "virtio-user,path=$sock,$keys" \
			--sizes $SIZES --withdraw-test --tolerate-loss --stall-ms 500
	fi
	rc=$?
	grep -E '^(withdraw-test|RESULT)|iommu:' "$VHU_WORK/frontend.log" >&2
	[ $rc = 0 ] || fail "vu_traffic exited with $rc"
	grep -q 'IOMMU_PLATFORM' "$VHU_WORK/frontend.log" || fail "IOMMU_PLATFORM not negotiated"
	vhu_log "PASS"
}

case_malformed() {
	local mode=${1:-} expected=${2:-} sock rc
	[ -n "$expected" ] || vhu_die "usage: $0 malformed MODE EXPECTED"
	require_traffic
	command -v python3 >/dev/null || skip "python3 is needed for the fake backend"
	vhu_init_work
	sock=$VHU_WORK/vhost.sock
	vhu_spawn fake "$VHU_WORK/fake.log" python3 "$HERE/fake_backend.py" "$sock" "$mode"
	vhu_wait_socket fake "$sock" || fail "the fake backend did not come up"
	run_traffic "$VHU_WORK/frontend.log" --frontend "virtio-user,path=$sock" \
		--expect-start-fail
	rc=$?
	grep -F "virtio-user: $sock: " "$VHU_WORK/frontend.log" | grep -F -- "$expected" >&2 ||
		fail "no message naming $sock and saying '$expected'"
	[ $rc = 0 ] || fail "the port started although the backend misbehaved ($mode)"
	if [ "$mode" = breq-unknown ]; then
		vhu_stop fake
		grep -q 'backend request refused with 1' "$VHU_WORK/fake.log" ||
			fail "the unknown backend request was not refused with a failure reply"
	fi
	vhu_log "PASS"
}

# EXPECTED: the one log line saying the queue broke, or "unused" for
# hostile-unused (a legal length-0 used entry: counted, nothing breaks).
case_hostile() {
	local mode=${1:-} expected=${2:-} sock rc expect=--expect-broken
	[ -n "$expected" ] || vhu_die "usage: $0 hostile MODE EXPECTED"
	[ "$expected" = unused ] && expect=--expect-unused
	require_traffic
	command -v python3 >/dev/null || skip "python3 is needed for the fake backend"
	vhu_init_work
	sock=$VHU_WORK/vhost.sock
	vhu_spawn fake "$VHU_WORK/fake.log" python3 "$HERE/fake_backend.py" "$sock" "$mode"
	vhu_wait_socket fake "$sock" || fail "the fake backend did not come up"
	run_traffic "$VHU_WORK/frontend.log" --frontend "virtio-user,path=$sock" \
		$expect --duration 1 --sizes 64 --stall-ms 300
	rc=$?
	grep -E '^PASS|BROKEN|FAIL' "$VHU_WORK/frontend.log" >&2
	[ $rc = 0 ] || fail "vu_traffic exited with $rc"
	if [ "$expected" = unused ]; then
		grep -q "fake: used entry id [0-9]* len 0 written on ring 0" "$VHU_WORK/fake.log" ||
			fail "the fake backend never wrote its length-0 used entry"
	else
		[ "$(grep -cF -- "broken by the backend: $expected" "$VHU_WORK/frontend.log")" = 1 ] ||
			fail "expected exactly one log line saying the queue broke: $expected"
	fi
	vhu_log "PASS"
}

# The largest value of FIELD (avail or used) in rte_ring_app's BASE lines for
# virtqueue VQ: the indexes only grow while the front-end runs (the count
# stays below 65536), and drop to 0 when it leaves.
app_base() {
	awk -v vq="vq=$1" -v f="$2" '$1 == "BASE" && $2 == vq {
			for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f && kv[2] + 0 > m) m = kv[2] + 0 }
		} END { print m + 0 }' "$VHU_WORK/backend.log"
}

case_rte_app() {
	local sent rx_used tx_avail tx_used mem sock
	require_traffic
	[ -x "$RTE_RING_APP" ] || vhu_die "rte_ring_app not found at $RTE_RING_APP; build the tests"
	vhu_rte_lib_sanitized &&
		skip "vhu's librte_vhost.so.23 is built with a sanitizer; rte_ring_app, linked" \
			"with DPDK's uninstrumented libraries, cannot load it"
	vhu_init_work
	sock=$VHU_WORK/vhost.sock
	vhu_eal backend 1
	vhu_spawn backend "$VHU_WORK/backend.log" \
		env "LD_LIBRARY_PATH=$VHU_RTE_LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
		"$RTE_RING_APP" "${VHU_EAL_ARGS[@]}" -- "$sock"
	vhu_wait_socket backend "$sock" || fail "rte_ring_app did not come up"
	vhu_require_vhost_lib backend vhu "$VHU_WORK/backend.log"
	run_traffic "$VHU_WORK/frontend.log" \
		--frontend "virtio-user,path=$sock,$(vu_keys split 0 0 1)" \
		--queues 1 --sizes $SIZES --count 5000 --require VERSION_1 ||
		fail "vu_traffic exited with $?"
	grep -E '^RESULT' "$VHU_WORK/frontend.log" >&2
	sent=$(sed -n 's/^RESULT: sent=\([0-9]*\).*/\1/p' "$VHU_WORK/frontend.log")
	vhu_stop backend 10 || fail "rte_ring_app did not exit cleanly on SIGINT"
	grep -E '^(MEM|MTU|DONE)' "$VHU_WORK/backend.log" >&2
	mem=$(grep -c '^MEM regions=[1-9][0-9]* bytes=[1-9][0-9]* readable=1' "$VHU_WORK/backend.log")
	[ "$mem" -ge 1 ] || fail "rte_ring_app did not read the memory table's regions"
	rx_used=$(app_base 0 used)
	tx_avail=$(app_base 1 avail)
	tx_used=$(app_base 1 used)
	vhu_log "vu_traffic sent $sent; rte_vhost_get_vring_base: guest RX used $rx_used," \
		"guest TX avail $tx_avail, used $tx_used"
	[ -n "$sent" ] && [ "$sent" -gt 0 ] || fail "vu_traffic reported no frames sent"
	[ "$tx_avail" = "$sent" ] && [ "$tx_used" = "$sent" ] && [ "$rx_used" = "$sent" ] ||
		fail "the ring bases do not count the $sent frames (one chain and one receive" \
			"buffer each)"
	vhu_log "PASS"
}

case "$case_name" in
traffic) case_traffic "$@" ;;
rte-app) case_rte_app "$@" ;;
pmd-loopback) case_pmd_loopback "$@" ;;
pmd-pair) case_pmd_pair "$@" ;;
pmd-ab) case_pmd_ab "$@" ;;
restarts) case_restarts "$@" ;;
kill) case_kill "$@" ;;
iommu) case_iommu "$@" ;;
malformed) case_malformed "$@" ;;
hostile) case_hostile "$@" ;;
*) vhu_die "unknown case '$case_name'" ;;
esac
