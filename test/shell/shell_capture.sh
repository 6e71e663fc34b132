#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Capture test: "capture start" writes a pcapng file that tshark reads back
# with exactly the packets that went through the port.
#
# Two ring ports wired to each other, rxonly, "start tx_first N": each port
# sends N bursts of 32 txonly frames to the other and receives as many, so
# the stream is known. A capture of port 0 must hold every frame it sent and
# received (2 x N x 32, the direction of each in its flags) with their
# lengths, agree with "show port stats", and show the txonly headers. A
# second capture, of port 1 with a snap length shorter than its two-segment
# frames, must keep the original lengths and cut the data.
#
# Exit status: 0 pass, 1 fail, 77 skip (tshark is not installed).
# Environment: see shell_lib.sh.

set -u
. "$(dirname "$0")/shell_lib.sh"

command -v tshark >/dev/null 2>&1 || {
	echo "SKIP: tshark not found, so no capture can be read back; install it with" \
		"'apt-get install tshark'" >&2
	exit 77
}
sh_require_pmd
vhu_init_work
log=$VHU_WORK/pmd.log
bursts=8
per_dir=$((bursts * 32))

# tshark_read FILE FIELDS...: the fields of every frame, one frame per line; fails
# when tshark finds the file damaged.
tshark_read() {
	local file=$1 out
	shift
	out=$(tshark -r "$file" -T fields -E separator=' ' "${@/#/-e}" 2>"$VHU_WORK/tshark.err") ||
		sh_fail "tshark cannot read $file:" \
			"$(grep -v 'Running as user' "$VHU_WORK/tshark.err")"
	grep -qiE 'damaged|corrupt|invalid' "$VHU_WORK/tshark.err" &&
		sh_fail "tshark finds $file damaged: $(cat "$VHU_WORK/tshark.err")"
	printf '%s\n' "$out"
}

# wait_rx PORT COUNT: the port's RX-packets reaches COUNT.
wait_rx() {
	local i
	for ((i = 0; i < 100; i++)); do
		sh_port_field "$1" RX-packets
		[ "$SH_VAL" -ge "$2" ] && return 0
		sleep 0.1
	done
	sh_fail "port $1 received $SH_VAL packets, not $2"
}

sh_start pmd "$log" 0,1 --port ring,name=a,peer=b --port ring,name=b,peer=a --forward-mode=rxonly

# 1. Every frame of a known stream, both directions.
sh_ok "set txpkts 100"
sh_ok "capture start 0 $VHU_WORK/p0.pcapng" 'capturing received and sent packets'
sh_ok "start tx_first $bursts"
wait_rx 0 $per_dir
wait_rx 1 $per_dir
sh_ok "stop"
sh_port_field 0 RX-bytes
rx_bytes=$SH_VAL
tx_bytes=$(sh_field TX-bytes)
sh_ok "capture stop 0"
total=$((2 * per_dir))
sh_expect "^Port 0: capture stopped: $total packets \($((total * 100)) bytes\) written to"
sh_expect "; 0 left out for want of a copy buffer, 0 because the writer fell behind$"

frames=$(tshark_read "$VHU_WORK/p0.pcapng" frame.len frame.packet_flags_direction \
	frame.interface_name ip.src ip.dst udp.dstport)
count=$(grep -c . <<<"$frames")
bytes=$(awk '{ s += $1 } END { print s + 0 }' <<<"$frames")
[ "$count" -eq "$total" ] || sh_fail "tshark reads $count frames from p0.pcapng, not $total"
[ "$bytes" -eq $((rx_bytes + tx_bytes)) ] ||
	sh_fail "tshark reads $bytes bytes, but port 0 received $rx_bytes and sent $tx_bytes"
inbound=$(awk '$2 == "0x00000001"' <<<"$frames" | grep -c .)
outbound=$(awk '$2 == "0x00000002"' <<<"$frames" | grep -c .)
[ "$inbound" -eq $per_dir ] && [ "$outbound" -eq $per_dir ] ||
	sh_fail "p0.pcapng holds $inbound inbound and $outbound outbound frames, not $per_dir each"
bad=$(awk '$1 != 100 || $3 != "vhu0:ring:a" || $4 != "198.18.0.1" || $5 != "198.18.0.2" ||
	$6 != 9' <<<"$frames" | head -3)
[ -z "$bad" ] || sh_fail "frames in p0.pcapng that are not the txonly frames of port 0: $bad"

# 2. Two-segment frames cut at a snap length of 64.
sh_ok "set txpkts 60,40" 'frames are now 100 bytes in 2 segment'
sh_ok "capture start 1 $VHU_WORK/p1.pcapng 64" 'snaplen 64'
sh_ok "start tx_first 2"
wait_rx 0 $((per_dir + 64))
wait_rx 1 $((per_dir + 64))
sh_ok "stop"
sh_ok "capture stop 1" "^Port 1: capture stopped: 128 packets \(12800 bytes\) written"
frames=$(tshark_read "$VHU_WORK/p1.pcapng" frame.len frame.cap_len udp.srcport)
[ "$(grep -c . <<<"$frames")" -eq 128 ] || sh_fail "p1.pcapng: not 128 frames"
bad=$(awk '$1 != 100 || $2 != 64 || $3 != 9' <<<"$frames" | head -3)
[ -z "$bad" ] || sh_fail "p1.pcapng: frames not of 100 bytes cut at 64: $bad"

sh_quit
vhu_log "PASS: captures of a known stream read back by tshark, counts and bytes agree"
