#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Shell test of the ethdev port driver, with DPDK's net_null (no privilege
# needed) and, as root, net_tap:
#
# - Bad device strings, a device that refuses its configuration at start and
#   a tap interface name in use: vhu-pmd exits with status 2 and a message
#   naming the port and what to change.
# - In the shell, while the lcores forward between two ring ports: attach a
#   net_null port, start it (it forwards to itself, received and sent), show
#   its driver status and its device's extended statistics, stop and detach it
#   (which removes the device, so that the same name can be attached again),
#   with its statistics in telemetry too (when dpdk-telemetry.py is there),
#   and the ring ports forward on throughout; as root, a net_tap port's
#   interface comes and goes with the port. Bad "port attach" strings are
#   shell errors.
#
# Exit status: 0 pass, 1 fail, 77 skip (DPDK has no net_null driver).
# Environment: see shell_lib.sh.

set -u
. "$(dirname "$0")/shell_lib.sh"

sh_require_pmd
vhu_init_work
log=$VHU_WORK/pmd.log

# run_batch NAME ARGS...: vhu-pmd without the shell, for one second; status in RC.
run_batch() {
	local name=$1
	shift
	sh_eal "$name" 0,1
	"$SH_PMD" "${SH_EAL[@]}" -- --run-time=1 "$@" >"$VHU_WORK/$name.log" 2>&1 </dev/null
	RC=$?
}

# refused NAME REGEX --port SPEC...: vhu-pmd exits with status 2, saying REGEX.
refused() {
	local name=$1 re=$2
	shift 2
	run_batch "$name" "$@"
	[ "$RC" -eq 2 ] || {
		vhu_show_log "$name" "$VHU_WORK/$name.log" 20
		sh_fail "$name: '$*' should exit with status 2, not $RC"
	}
	grep -qE -- "$re" "$VHU_WORK/$name.log" || {
		vhu_show_log "$name" "$VHU_WORK/$name.log" 20
		sh_fail "$name: '$*': no message matching /$re/"
	}
}

run_batch probe --port ethdev,dev=net_null0
if [ "$RC" -ne 0 ] && grep -q 'cannot probe device' "$VHU_WORK/probe.log"; then
	echo "SKIP: DPDK's net_null driver is not available to vhu-pmd" >&2
	exit 77
fi
[ "$RC" -eq 0 ] || sh_fail "a net_null port: vhu-pmd exited with status $RC"
grep -qE '^Port 0: ethdev,dev=net_null0 \(link up\)' "$VHU_WORK/probe.log" ||
	sh_fail "a net_null port: its link is not reported up"

# --- bad device strings and refused settings: exit status 2 -------------------------

refused none 'port 0 \(ethdev\): give exactly one of dev=NAME' --port ethdev
refused two 'port 0 \(ethdev,dev=net_null0,port=0\): give exactly one of' \
	--port ethdev,dev=net_null0,port=0
refused nodev "port 0 \(ethdev,dev=net_bogus0\): cannot probe device 'net_bogus0'" \
	--port ethdev,dev=net_bogus0
refused badkey "cannot probe device 'net_null0,colour=blue'" --port ethdev,dev=net_null0,colour=blue
refused noport 'port 0 \(ethdev,port=7\): there is no DPDK port 7' --port ethdev,port=7
refused pcikey "port 0 \(ethdev,pci=0000:ff:1f.7,size=1\): key 'size' is not the ethdev" \
	--port ethdev,pci=0000:ff:1f.7,size=1
refused nopci "port 0 \(ethdev,pci=0000:ff:1f.7\): cannot probe device '0000:ff:1f.7'" \
	--port ethdev,pci=0000:ff:1f.7
refused rxd 'port 0 \(ethdev,dev=net_null0,rxd=0\): rxd=0 is not valid' \
	--port ethdev,dev=net_null0,rxd=0
refused promisc 'promisc=2 is not valid; give an integer in 0\.\.1' \
	--port ethdev,dev=net_null0,promisc=2
refused mac 'mac=01:00:00:00:00:01 is not a unicast MAC' \
	--port ethdev,dev=net_null0,mac=01:00:00:00:00:01
refused twice "port 1 \(ethdev,port=0\): DPDK port 0 \(net_null0\) is already a vhu port" \
	--port ethdev,dev=net_null0 --port ethdev,port=0
# net_pcap cannot change its MTU: the port is made, and refused at start.
# An empty capture file: the pcap header alone (little-endian, Ethernet).
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0\xff\xff\0\0\x01\0\0\0' \
	>"$VHU_WORK/empty.pcap"
pcap="ethdev,dev=net_pcap0,rx_pcap=$VHU_WORK/empty.pcap,mtu=9000"
refused mtu "port 0 \($pcap\): the device refuses mtu=9000" --port "$pcap"
grep -q 'cannot start port 0' "$VHU_WORK/mtu.log" || sh_fail "mtu: no 'cannot start port 0'"
refused tapname "port 0 \(ethdev,dev=net_tap0,iface=lo\): the host already has an interface" \
	--port ethdev,dev=net_tap0,iface=lo
# A second tap port on the interface the first one made.
if [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ]; then
	tap=vhut$$
	refused tapused "port 1 \(ethdev,dev=net_tap1,iface=$tap\): the host already has an interface named '$tap'" \
		--port "ethdev,dev=net_tap0,iface=$tap" --port "ethdev,dev=net_tap1,iface=$tap"
	ip link show "$tap" >/dev/null 2>&1 && sh_fail "tap $tap outlived vhu-pmd"
fi

# --- the shell: attach and detach while the ring ports forward ----------------------

sh_start pmd "$log" 0,1 --port ring,name=a,peer=b --port ring,name=b,peer=a --auto-start \
	--tx-first

sh_wait_rx_above 0 0
sh_bad "port attach ethdev,dev=net_bogus0" "port attach ethdev,dev=net_bogus0: bad device"
sh_bad "port attach ethdev,port=9" "port attach ethdev,port=9: bad device"
for round in 1 2; do
	sh_ok "port attach ethdev,dev=net_null0" '^Port 2 attached: ethdev:net_null0'
	sh_ok "port start 2" '^Port 2 started; the lcores forward on it now'
	sh_wait_rx_above 2 1000
	sh_port_field 2 TX-packets
	[ "$SH_VAL" -gt 0 ] || sh_fail "round $round: the net_null port sent nothing"
	sh_ok "show port info 2" '^Driver name: ethdev$'
	sh_expect '^DPDK port [0-9]+: net_null0, driver net_null, socket -?[0-9]+, probed by this port$'
	sh_expect '^  tx offloads in use 0x'
	sh_expect '^Link status: up'
	sh_ok "show port xstats 2" '^dev_rx_good_packets: [0-9]+'
	# Telemetry, as for every port: the device's statistics among the port's.
	if [ "$round" = 1 ] && telemetry=$(command -v dpdk-telemetry.py 2>/dev/null); then
		out=$(echo /vhu/port/xstats,2 | timeout 20 "$telemetry" -f "${VHU_PREFIX[pmd]}" 2>&1)
		grep -q '"dev_rx_good_packets": [1-9]' <<<"$out" ||
			sh_fail "telemetry /vhu/port/xstats,2 lacks the device's statistics: $out"
	fi
	sh_port_field 0 RX-packets
	before=$SH_VAL
	sh_ok "port stop 2" '^Port 2 stopped; the lcores forward on the other ports'
	sh_ok "port detach 2" '^Port 2 detached'
	sh_wait_rx_above 0 "$before"
done
sh_bad "port attach ethdev,dev=net_tap0,iface=lo" "ethdev,dev=net_tap0,iface=lo: bad device string"
# As root, a tap port: its interface comes with the port and goes with it.
if [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ]; then
	tap=vhue$$
	sh_ok "port attach ethdev,dev=net_tap5,iface=$tap" '^Port 2 attached: ethdev:net_tap5'
	ip link show "$tap" >/dev/null 2>&1 || sh_fail "attaching the tap port made no interface $tap"
	sh_ok "port start 2" '^Port 2 started'
	sh_ok "show port info 2" '^DPDK port [0-9]+: net_tap5, driver net_tap'
	sh_ok "port detach 2" '^Port 2 detached'
	ip link show "$tap" >/dev/null 2>&1 && sh_fail "the tap interface $tap outlived its port"
fi
sh_quit

vhu_log "PASS: the ethdev port's errors, and attach and detach while others forward"
