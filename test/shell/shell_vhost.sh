#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Watching a vhost-user port while traffic flows: vhu-pmd -i serves a socket,
# dpdk-testpmd's virtio-user (a front-end no one here wrote) connects and
# sends 64-byte txonly frames, vhu-pmd receives them (rxonly).
#
# - "show vhost" before and after the front-end comes: socket, state,
#   negotiated features by name, each virtqueue's state and indexes.
# - dpdk-telemetry.py reads /vhu/ports, /vhu/port/stats, /vhu/port/xstats and
#   /vhu/vhost/info while packets flow; each number lies between what "show
#   port stats" said just before and just after, and once forwarding has
#   stopped the two agree exactly. /vhu/vhost/info names the features "show
#   vhost" names.
# - A capture taken meanwhile is read back by tshark with the count and bytes
#   vhu-pmd says it wrote: inbound frames of 64 bytes.
#
# Exit status: 0 pass, 1 fail, 77 skip (dpdk-testpmd, dpdk-telemetry.py or
# tshark is not installed). Environment: see shell_lib.sh.

set -u
. "$(dirname "$0")/shell_lib.sh"

vhu_require_testpmd
telemetry=$(command -v dpdk-telemetry.py 2>/dev/null) || {
	echo "SKIP: dpdk-telemetry.py not found; install it with 'apt-get install dpdk'" >&2
	exit 77
}
command -v tshark >/dev/null 2>&1 || {
	echo "SKIP: tshark not found; install it with 'apt-get install tshark'" >&2
	exit 77
}
sh_require_pmd
vhu_init_work
log=$VHU_WORK/pmd.log
tlog=$VHU_WORK/testpmd.log
sock=$VHU_WORK/vhost.sock

# tel COMMAND...: one dpdk-telemetry.py session that sends each COMMAND; their
# answers, flattened to lines "COMMAND KEY VALUE..." (a list as its values
# separated by spaces, an error as "COMMAND null"), into TEL.
tel() {
	local out
	out=$(printf '%s\n' "$@" | timeout 20 "$telemetry" -f "${VHU_PREFIX[pmd]}" 2>&1)
	[ "$(grep -c '^{' <<<"$out")" -eq $# ] ||
		sh_fail "dpdk-telemetry.py $*: not one JSON answer per command: $out"
	TEL=$(python3 -c '
import json, sys
for line in sys.stdin:
    if not line.startswith("{"):
        continue
    for cmd, val in json.loads(line).items():
        if not isinstance(val, dict):
            print(cmd, "null")
            continue
        for key, v in val.items():
            v = " ".join(map(str, v)) if isinstance(v, list) else v
            print(cmd, key, v)' <<<"$out")
}

# tv COMMAND KEY: the value of KEY in the answer to COMMAND (without its parameters).
tv() {
	awk -v cmd="$1" -v key="$2" '$1 == cmd && $2 == key {
		sub(/^[^ ]+ [^ ]+ ?/, ""); print; exit }' <<<"$TEL"
}

# between WHAT LOW VALUE HIGH: LOW <= VALUE <= HIGH.
between() {
	[ "$2" -le "$3" ] && [ "$3" -le "$4" ] ||
		sh_fail "telemetry $1 = $3 is not between show port stats' $2 and $4"
}

sh_start pmd "$log" 0,1 --port "vhost-user,iface=$sock" --forward-mode=rxonly
vhu_wait_socket pmd "$sock" || sh_fail "vhu-pmd did not create $sock"

sh_ok "show vhost 0" "^Socket: $sock\$"
sh_expect '^State: listening \(waiting for a front-end\), not running'
sh_expect '^Virtqueues: none set up yet$'

# dpdk-testpmd as the issue runs it; its stats period keeps it from exiting at EOF.
VHU_PREFIX[testpmd]="vhu-$VHU_PROG-testpmd-$$"
vhu_spawn testpmd "$tlog" "$VHU_TESTPMD" -l 0,1 --main-lcore 1 --no-pci --no-huge -m 512 \
	--file-prefix "${VHU_PREFIX[testpmd]}" --vdev "net_virtio_user0,path=$sock,queues=1" -- \
	--forward-mode=txonly --stats-period=1 --total-num-mbufs=16384
for ((i = 0; i < 100; i++)); do
	sh_cmd "show port info 0"
	grep -q '^Link status: up$' <<<"$SH_OUT" && break
	vhu_alive "${VHU_PID[testpmd]}" || {
		vhu_show_log testpmd "$tlog"
		sh_fail "dpdk-testpmd exited before the link came up"
	}
	sleep 0.2
done
sh_expect '^Link status: up$' "the link of port 0 with dpdk-testpmd connected"

sh_ok "show vhost 0" '^State: connected, running; 1 front-end connection\(s\) so far$'
sh_expect '^Features 0x[0-9a-f]{16}: [A-Z]'
sh_expect ' VERSION_1( |$)'
sh_expect '^Protocol features 0x[0-9a-f]{16}:'
vq_state='enabled, started, ready, (split|packed) ring of [0-9]+$'
sh_expect "^vq 0  \\(guest rx 0, port tx queue 0\\): $vq_state"
sh_expect "^vq 1  \\(guest tx 0, port rx queue 0\\): $vq_state"
sh_expect '^      last_avail [0-9]+, avail_idx [0-9]+, used_idx [0-9]+; errors 0,'
# The backend learnt where guest memory lives (get_mempolicy) and says it per ring.
sh_expect '^      NUMA node [0-9]+ \(guest memory and ring state\)$'
sh_expect_not 'BROKEN'
# The feature names, over the wrapped lines that start with spaces.
features=$(awk '/^Features 0x/ { sub(/^Features 0x[0-9a-f]+:/, ""); on = 1; print; next }
	on && /^    / { print; next } { on = 0 }' <<<"$SH_OUT" | xargs -n1 | sort | xargs)
vq1_size=$(awk '/^vq 1 / { print $NF }' <<<"$SH_OUT")

tel "/vhu/vhost/info,0"
vi=/vhu/vhost/info
[ "$(tv $vi socket)" = "$sock" ] || sh_fail "/vhu/vhost/info: socket is not $sock: $TEL"
[ "$(tv $vi state)" = connected ] || sh_fail "/vhu/vhost/info: not connected: $TEL"
[ "$(tv $vi feature_names | xargs -n1 | sort | xargs)" = "$features" ] ||
	sh_fail "/vhu/vhost/info features ($(tv $vi feature_names)) differ from" \
		"show vhost's ($features)"
[ "$(tv $vi vq_size | awk '{ print $2 }')" = "$vq1_size" ] ||
	sh_fail "/vhu/vhost/info: the size of vq 1 is not $vq1_size: $TEL"
[ "$(tv $vi vq_broken)" = "0 0" ] || sh_fail "/vhu/vhost/info: a broken virtqueue: $TEL"

sh_ok "start" '^rxonly packet forwarding - ports=1 - cores=1 - streams=1'
for ((i = 0; i < 100; i++)); do
	sh_port_field 0 RX-packets
	[ "$SH_VAL" -gt 1000 ] && break
	sleep 0.1
done
[ "$SH_VAL" -gt 1000 ] || sh_fail "vhu-pmd did not receive dpdk-testpmd's packets"

# While packets flow: each telemetry number between two "show port stats".
sh_port_field 0 RX-packets
low_pkts=$SH_VAL
low_bytes=$(sh_field RX-bytes)
tel /vhu/ports "/vhu/port/stats,0" "/vhu/port/xstats,0"
sh_port_field 0 RX-packets
high_pkts=$SH_VAL
high_bytes=$(sh_field RX-bytes)
[ "$high_pkts" -gt "$low_pkts" ] || sh_fail "packets stopped flowing ($low_pkts, $high_pkts)"
[ "$(tv /vhu/ports count)" = 1 ] && [ "$(tv /vhu/ports ids)" = 0 ] &&
	[ "$(tv /vhu/ports drivers)" = vhost-user ] && [ "$(tv /vhu/ports link_up)" = 1 ] &&
	[ "$(tv /vhu/ports started)" = 1 ] && [ "$(tv /vhu/ports forwarding)" = 1 ] ||
	sh_fail "/vhu/ports does not describe the one started vhost-user port: $TEL"
between rx_packets "$low_pkts" "$(tv /vhu/port/stats rx_packets)" "$high_pkts"
between rx_bytes "$low_bytes" "$(tv /vhu/port/stats rx_bytes)" "$high_bytes"
between rx_q_packets "$low_pkts" "$(tv /vhu/port/stats rx_q_packets)" "$high_pkts"
between rx_good_packets "$low_pkts" "$(tv /vhu/port/xstats rx_good_packets)" "$high_pkts"

# A capture while packets flow, stopped once it has a few thousand frames (more
# would only slow tshark down).
sh_ok "capture start 0 $VHU_WORK/vhost.pcapng" 'capturing received and sent packets'
for ((i = 0; i < 100; i++)); do
	sh_cmd "show port info 0"
	n=$(sed -nE 's/^Capture: running to .*, ([0-9]+) packets \(.*/\1/p' <<<"$SH_OUT")
	[ -n "$n" ] || sh_fail "show port info 0 does not show the running capture"
	[ "$n" -ge 1000 ] && break
	sleep 0.02
done
sh_ok "capture stop 0" '^Port 0: capture stopped: [0-9]+ packets'
read -r written written_bytes < <(sed -nE \
	's/^Port 0: capture stopped: ([0-9]+) packets \(([0-9]+) bytes\).*/\1 \2/p' <<<"$SH_OUT")
[ "$written" -gt 0 ] || sh_fail "the capture wrote no packet while packets flowed"
frames=$(tshark -r "$VHU_WORK/vhost.pcapng" -T fields -e frame.len \
	-e frame.packet_flags_direction 2>"$VHU_WORK/tshark.err") ||
	sh_fail "tshark cannot read the capture: $(cat "$VHU_WORK/tshark.err")"
[ "$(grep -c . <<<"$frames")" -eq "$written" ] ||
	sh_fail "tshark reads $(grep -c . <<<"$frames") frames, vhu-pmd wrote $written"
[ "$(awk '{ s += $1 } END { print s + 0 }' <<<"$frames")" -eq "$written_bytes" ] ||
	sh_fail "tshark reads other byte counts than the $written_bytes vhu-pmd wrote"
bad=$(awk '$1 != 64 || $2 != "0x00000001"' <<<"$frames" | head -3)
[ -z "$bad" ] || sh_fail "captured frames that are not 64-byte inbound frames: $bad"

# Forwarding stopped: the counters stand still, and both views agree exactly.
sh_ok "stop" '^Done\.$'
sh_ok "show port xstats 0"
xs_good=$(sh_xstat rx_good_packets)
xs_guest=$(sh_xstat rx_q0_guest_errors)
sh_port_field 0 RX-packets
tel "/vhu/port/stats,0" "/vhu/port/xstats,0" "/vhu/port/stats,7"
for f in RX-packets:rx_packets RX-bytes:rx_bytes RX-missed:rx_missed RX-errors:rx_errors \
	RX-nombuf:rx_nombuf TX-packets:tx_packets TX-bytes:tx_bytes TX-errors:tx_errors \
	TX-dropped:tx_dropped; do
	[ "$(sh_field "${f%%:*}")" = "$(tv /vhu/port/stats "${f#*:}")" ] ||
		sh_fail "show port stats ${f%%:*} $(sh_field "${f%%:*}") but telemetry" \
			"${f#*:} $(tv /vhu/port/stats "${f#*:}")"
done
[ "$xs_good" = "$(tv /vhu/port/xstats rx_good_packets)" ] &&
	[ "$xs_guest" = "$(tv /vhu/port/xstats rx_q0_guest_errors)" ] ||
	sh_fail "show port xstats and /vhu/port/xstats disagree: $TEL"
# Counters standing still, one answer is a snapshot: all of dpdk-testpmd's frames are
# 64-byte unicast ones.
[ "$(tv /vhu/port/xstats rx_size_64_packets)" = "$xs_good" ] &&
	[ "$(tv /vhu/port/xstats rx_unicast_packets)" = "$xs_good" ] ||
	sh_fail "/vhu/port/xstats: dpdk-testpmd's 64-byte unicast frames are not all" \
		"counted as such: $TEL"
grep -q '^/vhu/port/stats null$' <<<"$TEL" || sh_fail "/vhu/port/stats,7 (no such port): $TEL"

# The front-end goes away: the device listens again.
vhu_stop testpmd 20 || sh_fail "dpdk-testpmd did not stop cleanly"
for ((i = 0; i < 50; i++)); do
	sh_cmd "show vhost 0"
	grep -q '^State: listening' <<<"$SH_OUT" && break
	sleep 0.2
done
sh_expect '^State: listening \(waiting for a front-end\), not running; 1 front-end connection'
# The port learnt both ends of the connection from the backend's callbacks.
sh_ok "show port info 0" '^Link status: down'
grep -q 'port 0 (vhost-user,iface=.*): the front-end started the device' "$log" ||
	sh_fail "vhu-pmd did not log the device_ready callback"
grep -q 'port 0 (vhost-user,iface=.*): the front-end disconnected' "$log" ||
	sh_fail "vhu-pmd did not log the connection_closed callback"

sh_quit
vhu_log "PASS: show vhost, telemetry and capture of a vhost-user port fed by dpdk-testpmd"
