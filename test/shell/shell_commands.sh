#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Shell test through standard input: every command of vhu-pmd's shell, with
# right and wrong arguments, on ring ports (no socket, no other process).
#
# - Options: --cmdline-file runs a file of commands, plain standard input
#   ends the shell at end-of-file, shell-only options need -i.
# - A wrong command or argument prints one "Error:" line and the usage, and
#   the shell carries on.
# - Known traffic: two ring ports wired to each other, rxonly, "start
#   tx_first 4" with 100-byte frames: each port sends 4 bursts of 32 and
#   receives as many; counters, extended statistics (size bins) and the
#   forward statistics must say exactly that.
# - Ports attached, started, stopped and detached while the lcores forward
#   on the others, which must keep forwarding.
# - At the end, every command that "help" lists must have been typed.
#
# Exit status: 0 pass, 1 fail. Environment: see shell_lib.sh.

set -u
. "$(dirname "$0")/shell_lib.sh"

sh_require_pmd
vhu_init_work
log=$VHU_WORK/pmd.log

# sh_err LINE REGEX: LINE fails with one "Error:" line matching REGEX; the shell goes on.
sh_err() {
	sh_cmd "$1"
	[ "$(grep -c '^Error: ' <<<"$SH_OUT")" -eq 1 ] ||
		sh_fail "'$1' should print exactly one error line"
	sh_expect "^Error: .*$2" "'$1' should fail"
}

# --- options --------------------------------------------------------------------------

run_batch() {
	sh_eal batch 0,1
	"$SH_PMD" "${SH_EAL[@]}" -- "$@" >"$VHU_WORK/batch.log" 2>&1
}

run_batch --port ring --cmdline-file=/dev/null </dev/null
[ $? -eq 2 ] || sh_fail "--cmdline-file without -i should exit with status 2"
grep -q -- '--cmdline-file only applies to the shell; add -i' "$VHU_WORK/batch.log" ||
	sh_fail "--cmdline-file without -i: no message saying -i is needed"

run_batch --port ring --flowgen-flows=0 </dev/null
[ $? -eq 2 ] || sh_fail "--flowgen-flows=0 should exit with status 2"
grep -q -- '--flowgen-flows=0: not a number in the valid range 1..65536' "$VHU_WORK/batch.log" ||
	sh_fail "--flowgen-flows=0: no message giving the range"
run_batch --port ring --icmpecho-addr=10.1 </dev/null
[ $? -eq 2 ] || sh_fail "--icmpecho-addr=10.1 should exit with status 2"
grep -q -- "--icmpecho-addr=10.1: give an IPv4 address such as 10.0.0.2, or 'any'" \
	"$VHU_WORK/batch.log" || sh_fail "--icmpecho-addr=10.1: no message saying what it takes"

for v in 9 60001 x ''; do
	run_batch --port ring --ab-period="$v" </dev/null
	[ $? -eq 2 ] || sh_fail "--ab-period=$v should exit with status 2"
	grep -q -- "--ab-period=$v: not a number in the valid range 10..60000" \
		"$VHU_WORK/batch.log" || sh_fail "--ab-period=$v: no message giving the range"
done
run_batch -i --port ring --ab-period=100 </dev/null
[ $? -eq 2 ] || sh_fail "--ab-period with -i should exit with status 2"
grep -q -- '--ab-period=100 flips variants from the statistics loop, which the shell (-i) does not run; drop -i' \
	"$VHU_WORK/batch.log" || sh_fail "--ab-period with -i: no message saying to drop -i"
run_batch --port ring --forward-mode=io --tx-first --ab-period=50 --run-time=1 </dev/null ||
	sh_fail "--ab-period=50 on a ring loopback should run and exit with status 0"
grep -qE '^  A/B \(period 50 ms\) variant 1: periods [1-9][0-9]*, packets [1-9]' \
	"$VHU_WORK/batch.log" || sh_fail "--ab-period=50: variant 1 got no periods or packets"

run_batch -i --port ring --cmdline-file="$VHU_WORK/missing" </dev/null
[ $? -eq 2 ] || sh_fail "a missing --cmdline-file should exit with status 2"
grep -q "^Error: --cmdline-file=$VHU_WORK/missing: cannot open it" "$VHU_WORK/batch.log" ||
	sh_fail "a missing --cmdline-file: no message naming it"

printf '%s\n' '# a comment' 'set fwd rxonly' 'set burst 16' 'show config rxtx' 'quit' \
	'show port info all' >"$VHU_WORK/cmds"
run_batch -i --port ring --cmdline-file="$VHU_WORK/cmds" </dev/null ||
	sh_fail "--cmdline-file with quit should exit with status 0"
for re in "^Read CLI commands from $VHU_WORK/cmds" '^Set rxonly packet forwarding mode' \
	'rxonly packet forwarding packets/burst=16' '^Bye\.\.\.'; do
	grep -qE "$re" "$VHU_WORK/batch.log" || sh_fail "--cmdline-file: no line matching /$re/"
done
grep -q 'Infos for port' "$VHU_WORK/batch.log" && sh_fail "--cmdline-file went on after quit"

run_batch -i --port ring < <(printf 'show config cores\n') ||
	sh_fail "end of standard input should end the shell with status 0"
grep -q '^List of forwarding lcores:  1' "$VHU_WORK/batch.log" ||
	sh_fail "plain standard input: 'show config cores' did not run"
grep -q '^Bye\.\.\.' "$VHU_WORK/batch.log" || sh_fail "end of input: no clean exit"

# --- the session -------------------------------------------------------------------------

sh_start pmd "$log" 0,1 --port ring,name=a,peer=b --port ring,name=b,peer=a

sh_ok help '^  show vhost PORT +show a vhost-user'
help_out=$SH_OUT
sh_ok "help show port" '^  show port xstats all\|PORT'
sh_expect_not '^  set fwd'
sh_bad "help nosuch" "no command starts with 'nosuch'"
sh_bad "frobnicate now" "unknown command 'frobnicate now'"
sh_bad "show port" "'show port' is not a complete command"
sh_expect '^       show port stats all\|PORT$'

sh_ok "show port info all" '^Driver name: ring$'
sh_expect '^Device string: ring,name=b,peer=a$'
sh_ok "show port info 0" '^Port state: started$'
sh_bad "show port info 9" "'9' is not valid; give all or an attached port \(0 1\)"
sh_bad "show port info x" "'x' is not valid"
sh_bad "show port info 0 1" "too many arguments"

sh_ok "show config fwd" '^  RX P=0/Q=0 \(socket [0-9]+\) -> TX P=1/Q=0'
sh_ok "show config cores" '^List of forwarding lcores:  1'
sh_bad "show config nope" "'nope' is not valid; give fwd or cores or rxtx"

sh_ok "set nbcore 1" 'Number of forwarding cores set to 1'
sh_bad "set nbcore 0" "give 1\.\.1"
sh_bad "set nbcore 9" "give 1\.\.1"
sh_ok "set burst 32" 'per burst set to 32'
sh_bad "set burst 0" "1\.\.512"
sh_bad "set burst 600" "1\.\.512"
sh_bad "set burst many" "1\.\.512"
sh_ok "set txpkts 100" 'frames are now 100 bytes in 1 segment'
sh_bad "set txpkts 10" "the first at least 42"
sh_bad "set txpkts 64,,64" "comma-separated"
sh_ok "show config rxtx" 'txonly packet len=100 - segments: 100'
sh_ok "set verbose 0" 'verbose level from 0 to 0'
sh_bad "set verbose 9" "0 \(quiet\)"
sh_ok "set record-core-cycles on" 'is on'
sh_bad "set record-core-cycles maybe" "give on or off"
# Ring ports start without size and destination counting (it would slow their loop).
sh_ok "show port xstats 1" '^\(size bins and broadcast/multicast are not counted'
sh_ok "set xstats on" 'is on on every port'
sh_ok "show port xstats 1"
sh_expect_not 'not counted'
sh_bad "set xstats 2" "give on or off"
sh_ok "set fwd rxonly" '^Set rxonly packet forwarding mode$'
sh_bad "set fwd warp" \
	"give a forwarding mode \(io mac macswap 5tswap rxonly txonly icmpecho flowgen csum\)"
# The options of icmpecho, flowgen and csum.
sh_ok "set flowgen-flows 16" 'flowgen now sends 16 flow'
sh_bad "set flowgen-flows 0" "give a number of flows, 1\.\.65536"
sh_bad "set flowgen-flows 65537" "give a number of flows, 1\.\.65536"
sh_ok "set icmpecho-addr 10.0.0.2" 'icmpecho answers ARP and ping for 10\.0\.0\.2 only'
sh_ok "show config rxtx" 'flowgen flows=16 - icmpecho addr=10\.0\.0\.2'
sh_bad "set icmpecho-addr 10.0.0.256" "give an IPv4 address such as 10\.0\.0\.2, or 'any'"
sh_bad "set icmpecho-addr 0.0.0.0" "give an IPv4 address"
sh_ok "set icmpecho-addr any" 'for any address'
# Ring ports complete no checksum: csum computes every one for them.
sh_ok "csum show 0" '^  IPv4 header sw \(the port cannot complete them\)'
sh_err "csum set ip hw 0" "port 0 \(ring:[^)]*\) cannot complete IPv4 header checksums"
sh_ok "csum set tcp sw 0" 'TCP checksums sent on port 0 are now set in software'
sh_bad "csum set sctp sw 0" "'sctp' is not valid; give ip or udp or tcp"
sh_bad "csum set udp soft 0" "'soft' is not valid; give hw or sw"
sh_bad "csum show 9" "give an attached port"
sh_bad "show vhost 0" "port 0 is a ring port, not a vhost-user one"
sh_bad "show vhost" "missing PORT"
sh_err "stop" "not started"

# Known traffic: 4 bursts of 32 frames of 100 bytes from each port to the other.
sh_ok "clear port stats all" 'NIC statistics for port 1 cleared'
sh_ok "start tx_first 4" '^rxonly packet forwarding - ports=2 - cores=1 - streams=2'
sh_err "start" "already started"
sh_bad "start tx_first 0" "1\.\.10000"
sh_wait_rx_above 0 127
sh_wait_rx_above 1 127
sh_ok "show port stats 0"
[ "$(sh_field RX-packets)" = 128 ] || sh_fail "port 0 received $(sh_field RX-packets), not 128"
[ "$(sh_field RX-bytes)" = 12800 ] || sh_fail "port 0 RX-bytes $(sh_field RX-bytes), not 12800"
[ "$(sh_field TX-packets)" = 128 ] || sh_fail "port 0 sent $(sh_field TX-packets), not 128"
[ "$(sh_field TX-bytes)" = 12800 ] || sh_fail "port 0 TX-bytes $(sh_field TX-bytes), not 12800"
sh_expect '^  Rx-pps: +[0-9]+ +Rx-bps: +[0-9]+$'
sh_bad "show port stats 5" "'5' is not valid"
sh_ok "show port xstats 0" '^rx_good_packets: 128$'
for x in rx_size_65_to_127_packets tx_size_65_to_127_packets rx_unicast_packets \
	tx_unicast_packets rx_q0_packets; do
	[ "$(sh_xstat "$x")" = 128 ] || sh_fail "xstat $x is $(sh_xstat "$x"), not 128"
done
for x in rx_size_64_packets rx_broadcast_packets rx_multicast_packets rx_undersize_packets; do
	[ "$(sh_xstat "$x")" = 0 ] || sh_fail "xstat $x is $(sh_xstat "$x"), not 0"
done
sh_bad "show port xstats" "missing all\|PORT"
sh_ok "show fwd stats all" '^  Lcore 1 +busy +[0-9.]+% of [0-9]+ cycles'
sh_expect '^  RX-packets: 256 +RX-dropped: 0 +RX-total: 256$'
sh_bad "show fwd stats 0" "'0' is not valid; give all"
sh_ok "stop" '^Done\.$'
sh_expect 'Accumulated forward statistics'
sh_err "stop" "not started"

# Clearing the port counters leaves the forward statistics (since start) alone.
sh_ok "clear port stats 0" 'NIC statistics for port 0 cleared'
sh_port_field 0 RX-packets
[ "$SH_VAL" = 0 ] || sh_fail "clear port stats 0 did not clear port 0"
sh_port_field 1 RX-packets
[ "$SH_VAL" = 128 ] || sh_fail "clear port stats 0 cleared port 1"
sh_ok "show fwd stats all"
[ "$(grep -cE '^  RX-packets: 128 +RX-dropped: 0 +RX-total: 128$' <<<"$SH_OUT")" -eq 2 ] ||
	sh_fail "after clear port stats 0, the forward statistics should still count 128 per port"
sh_bad "clear port stats 3" "'3' is not valid"

# Verbose: the lcore prints what it receives and sends.
sh_ok "set verbose 3" 'from 0 to 3'
sh_ok "start tx_first"
vhu_wait_log pmd "$log" '^port 0/queue 0: sent 32 packets$' 10 ||
	sh_fail "set verbose 3: no tx lines"
vhu_wait_log pmd "$log" '^port 1/queue 0: received 32 packets$' 10 ||
	sh_fail "set verbose 3: no rx lines"
pkt_line='^  src=02:76:68:75:00:00 - dst=02:00:00:00:00:00 - type=0x0800 - length=100 - nb_segs=1$'
grep -qE "$pkt_line" "$log" || sh_fail "set verbose 3: no line describing a packet"
sh_ok "stop"
sh_ok "set verbose 0" 'from 3 to 0'

# Capture commands (the capture's contents are shell_capture.sh's business).
sh_ok "capture start 0 $VHU_WORK/c.pcapng" "^Port 0: capturing received and sent packets to"
sh_bad "capture start 1" "missing FILE"
sh_bad "capture start 1 $VHU_WORK/d.pcapng 10" "SNAPLEN 10 is not valid"
sh_err "capture start 0 $VHU_WORK/d.pcapng" "port 0 is already being captured"
sh_err "capture start 1 $VHU_WORK/no/such/dir.pcapng" "cannot open .*no/such/dir.pcapng"
sh_err "capture stop 1" "port 1 is not being captured"
sh_ok "show port info 0" '^Capture: running to .*/c.pcapng \(snaplen 2048\), 0 packets'
sh_expect ' \(0 bytes\) written so far, 0 left out$'
sh_ok "capture stop 0" '^Port 0: capture stopped: 0 packets \(0 bytes\) written to'
sh_bad "capture stop" "missing PORT"

# Ports come and go while the lcores forward on the others.
sh_ok "set fwd io" '^Set io packet forwarding mode$'
sh_ok "start tx_first"
sh_port_field 0 RX-packets
p0=$SH_VAL
sh_wait_rx_above 0 "$p0"
sh_ok "port attach ring,name=c" '^Port 2 attached: ring:c\. Now total ports is 3'
sh_bad "port attach" "missing SPEC"
sh_bad "port attach warp,x=1" "bad device string"
sh_err "port attach ring,name=c" "cannot make the port"
sh_ok "port start 2" '^Port 2 started; the lcores forward on it now$'
sh_ok "show config fwd" '^  RX P=2/Q=0 \(socket [0-9]+\) -> TX P=2/Q=0'
sh_port_field 0 RX-packets
p0=$SH_VAL
sh_wait_rx_above 0 "$p0"
# txonly for a moment fills every ring, port 2's loopback too; io then forwards them.
sh_ok "set fwd txonly" 'switched at once'
sleep 0.2
sh_ok "set fwd io" 'switched at once'
sh_port_field 2 RX-packets
p2=$SH_VAL
sh_wait_rx_above 2 "$p2"
sh_ok "port stop 2" '^Port 2 stopped; the lcores forward on the other ports$'
sh_ok "show config fwd"
sh_expect_not 'P=2/'
sh_port_field 0 RX-packets
p0=$SH_VAL
sh_wait_rx_above 0 "$p0"
sh_ok "port start 2" 'forward on it now'
sh_ok "port detach 2" '^Port 2 detached\. Now total ports is 2$'
sh_port_field 0 RX-packets
p0=$SH_VAL
sh_wait_rx_above 0 "$p0"
sh_bad "port detach 2" "'2' is not valid"
sh_bad "port start 7" "'7' is not valid"
sh_bad "port stop x" "'x' is not valid"
sh_ok "port stop 1" 'Port 1 stopped'
sh_ok "show config fwd" '^  RX P=0/Q=0 \(socket [0-9]+\) -> TX P=0/Q=0'
sh_ok "port start 1" 'Port 1 started'
sh_ok "set burst 8" 'per burst set to 8'
sh_ok "set txpkts 60,40" 'frames are now 100 bytes in 2 segment'
sh_ok "stop" '^Done\.$'
sh_ok "port stop all" 'Port 0 stopped'
sh_ok "port start all" 'Port 1 started'
sh_ok "port detach 1" 'Port 1 detached'

sh_quit
sh_check_coverage "$help_out"
vhu_log "PASS: every shell command, right and wrong, with ring ports"
