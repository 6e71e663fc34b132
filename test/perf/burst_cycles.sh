#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The backend's burst cycles are counted where the backend is called, in both
# applications:
#
#   burst_cycles.sh g2h|h2g [split|packed]
#
# VHU_BACKEND=dpdk or rte: dpdk-testpmd's net_vhost (on DPDK's
# librte_vhost.so.23, or vhu's) with the interposer vhost_burst_cycles.so
# preloaded ($VHU_BURST_CYCLES_LIB); VHU_BACKEND=vhu: vhu-pmd with a
# vhost-user port burst-cycles=1. dpdk-testpmd's virtio-user is the
# frontend. After a few seconds of traffic (h2g: the backend sends, g2h: it
# receives) both stop, and the test passes when the backend printed its
# "vhost enqueue" (h2g) or "vhost dequeue" (g2h) line, with cycles and calls,
# and the packets it counted (with those of calls it set apart as preempted)
# are exactly the backend's own forward
# statistics (TX-packets, RX-packets): then every burst went through the
# counting (for dpdk-testpmd: net_vhost bound to the interposer, not to the
# library underneath).
#
# Exit status: 0 pass, 1 fail, 77 skip (dpdk-testpmd is not installed).

set -u
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

dir=${1:-}
layout=${2:-split}
case "$dir/$layout" in
g2h/split | g2h/packed | h2g/split | h2g/packed) ;;
*) vhu_die "usage: $0 g2h|h2g [split|packed]" ;;
esac
VHU_PROG="burst-cycles-${VHU_BACKEND:-vhu}-$dir-$layout"
lib=${VHU_BURST_CYCLES_LIB:-$VHU_BUILD_DIR/test/perf/vhost_burst_cycles.so}
seconds=${VHU_TRAFFIC_SECONDS:-2}

vhu_require_testpmd
vhu_require_backend
[ "$VHU_BACKEND" = vhu ] || [ -r "$lib" ] ||
	vhu_die "the interposer $lib is not built; run 'ninja -C $VHU_BUILD_DIR' or set" \
		"VHU_BURST_CYCLES_LIB"
# DPDK's uninstrumented dpdk-testpmd cannot preload an interposer built with a
# sanitizer: the sanitizer's runtime must be the first library loaded.
if [ "$VHU_BACKEND" != vhu ] && readelf -d "$lib" 2>/dev/null |
	grep -Eq 'NEEDED.*\[lib(a|ub|t)san\.so'; then
	echo "SKIP: the interposer $lib is built with a sanitizer, which DPDK's" \
		"uninstrumented dpdk-testpmd cannot preload; run this test in an ordinary build" >&2
	exit 77
fi
vhu_init_work

sock=$VHU_WORK/vhost.sock
blog=$VHU_WORK/backend.log
flog=$VHU_WORK/frontend.log
if [ "$dir" = h2g ]; then
	call=enqueue bmode=txonly fmode=rxonly
else
	call=dequeue bmode=rxonly fmode=txonly
fi

fail() {
	vhu_log "FAIL ($dir, $layout, backend $VHU_BACKEND): $*"
	vhu_show_log backend "$blog"
	vhu_show_log frontend "$flog" 20
	exit 1
}

vhu_eal backend "${VHU_BACKEND_LCORES:-0,1}"
if [ "$VHU_BACKEND" = vhu ]; then
	vhu_spawn backend "$blog" "$VHU_BACKEND_BIN" "${VHU_EAL_ARGS[@]}" -- \
		--port "vhost-user,iface=$sock,queues=1,client=0,burst-cycles=1" \
		--total-num-mbufs=$VHU_NB_MBUFS --forward-mode=$bmode --nb-cores=1 --stats-period=1
else
	vhu_spawn backend "$blog" env "${VHU_BACKEND_ENV[@]}" "LD_PRELOAD=$lib" "$VHU_BACKEND_BIN" \
		"${VHU_EAL_ARGS[@]}" --vdev "net_vhost0,iface=$sock,queues=1,client=0" -- \
		--total-num-mbufs=$VHU_NB_MBUFS --no-flush-rx --forward-mode=$bmode --nb-cores=1 \
		--stats-period=1
fi
vhu_wait_socket backend "$sock" || fail "the backend did not come up"
vhu_require_backend_lib backend "$blog"
vhu_start_frontend frontend "$flog" \
	"path=$sock,queues=1,queue_size=256,packed_vq=$([ "$layout" = packed ] && echo 1 || echo 0)" \
	--forward-mode=$fmode --nb-cores=1 --stats-period=1
if [ "$dir" = h2g ]; then
	vhu_wait_packets frontend "$flog" rx 0 30 || fail "no packet reached the frontend"
else
	vhu_wait_packets backend "$blog" rx 0 30 || fail "no packet reached the backend"
fi
sleep "$seconds"
vhu_stop frontend || fail "the frontend did not stop cleanly on SIGINT"
vhu_stop backend || fail "the backend did not stop cleanly on SIGINT"

line=$(grep -E "vhost $call: backend cycles/packet=" "$blog" | tail -n 1)
[ -n "$line" ] || fail "the backend printed no 'vhost $call: backend cycles/packet=' line"
vhu_log "backend: ${line#"${line%%vhost *}"}"
re='cycles=([0-9]+) / packets=([0-9]+); calls=([0-9]+), empty calls=([0-9]+), '
re+='empty cycles=[0-9]+; stalled calls=([0-9]+), stalled packets=([0-9]+)'
[[ $line =~ $re ]] || fail "the $call line does not read as cycles, packets, calls: $line"
cycles=${BASH_REMATCH[1]} packets=${BASH_REMATCH[2]} calls=${BASH_REMATCH[3]}
stalled=${BASH_REMATCH[5]} stalled_packets=${BASH_REMATCH[6]}
[ "$packets" -gt 0 ] && [ "$calls" -gt 0 ] && [ "$cycles" -gt 0 ] ||
	fail "the $call line counted no packets, calls or cycles: $line"
[ "$calls" -le "$packets" ] || fail "more calls ($calls) than packets ($packets) moved"
read -r rx _ tx _ < <(vhu_fwd_stats "$blog") ||
	fail "the backend printed no forward statistics when it stopped"
want=$([ "$dir" = h2g ] && echo "$tx" || echo "$rx")
# Calls preempted inside (longer than 50 us) are counted apart, with their packets.
[ $((packets + stalled_packets)) = "$want" ] ||
	fail "the $call line counted $packets packets (and $stalled_packets in stalled calls)," \
		"the backend's forward statistics $want: some bursts were not counted"
vhu_log "PASS: $packets packets in $calls calls (and $stalled_packets in $stalled stalled" \
	"calls), as the backend's forward statistics say"
