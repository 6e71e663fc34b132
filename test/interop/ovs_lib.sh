# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# OVS-DPDK side of the interop tests that run Debian's OVS-DPDK 3.1
# (ovs-vswitchd-dpdk, unchanged) on vhu's librte_vhost.so.23; source it after
# scripts/lib.sh. It checks that OVS can run here (or skips), starts its own
# ovsdb-server and ovs-vswitchd (no systemd) with every file of theirs in the
# test's work directory, and stops them however the test ends.
#
# With VHU_BACKEND=rte (the default here) ovs-vswitchd gets vhu's library in
# its LD_LIBRARY_PATH, and the test fails unless it maps it and logs the line
# naming vhu; with VHU_BACKEND=dpdk it runs on DPDK's own library, the
# reference that shows a test itself is right.
#
# The sourcing script sets VHU_PROG if it wants another name than its own,
# and defines fail MESSAGE... (report and exit 1) before calling anything.
#
# OVS-DPDK adds --in-memory to its EAL arguments, which --no-huge cannot be
# combined with, so ovs-vswitchd needs $OVS_MEM_MB MB of free 2 MB hugepages;
# ovs_require skips, saying so, without them.

: "${VHU_BACKEND:=rte}"
VSWITCHD=${VHU_OVS_VSWITCHD:-/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk}
SCHEMA=${VHU_OVS_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}
OVS_MEM_MB=512
# ovs-vswitchd writes its interfaces' statistics to its database every
# STATS_SECONDS s (other_config:stats-update-interval, which has no shorter
# setting): a value read is as old as that.
STATS_SECONDS=5

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# ovs_require: skips unless OVS-DPDK, the backend VHU_BACKEND names and the
# hugepages OVS needs are here; then creates the work directory (vhu_init_work)
# and sets ovs (OVS's directory in it), db and vlog (ovs-vswitchd's log).
ovs_require() {
	local tool
	case "$VHU_BACKEND" in
	rte | dpdk) ;;
	*) vhu_die "VHU_BACKEND=$VHU_BACKEND: this test runs OVS on 'rte' (vhu's library) or 'dpdk'" ;;
	esac
	for tool in ovsdb-tool ovsdb-server ovs-vsctl ovs-ofctl ovs-appctl; do
		command -v "$tool" >/dev/null ||
			skip "$tool not found; install OVS-DPDK with 'apt-get install openvswitch-switch-dpdk'"
	done
	[ -x "$VSWITCHD" ] && [ -r "$SCHEMA" ] ||
		skip "$VSWITCHD or $SCHEMA not found; install OVS-DPDK with" \
			"'apt-get install openvswitch-switch-dpdk' (or set VHU_OVS_VSWITCHD, VHU_OVS_SCHEMA)"
	vhu_require_backend
	[ -n "$(vhu_huge_mount)" ] && [ "$(vhu_huge_free_mb)" -ge "$OVS_MEM_MB" ] ||
		skip "OVS-DPDK runs its EAL --in-memory, which does not work with --no-huge: it needs" \
			"$OVS_MEM_MB MB of free 2 MB hugepages, and $(vhu_huge_free_mb) MB are free" \
			"(scripts/setup.sh reserves them)"
	vhu_init_work
	ovs=$VHU_WORK/ovs
	mkdir "$ovs" || vhu_die "cannot create $ovs"
	export OVS_RUNDIR=$ovs OVS_LOGDIR=$ovs OVS_DBDIR=$ovs OVS_SYSCONFDIR=$ovs
	db=unix:$ovs/db.sock
	vlog=$VHU_WORK/vswitchd.log
	trap ovs_cleanup EXIT
}

# Stops OVS's daemons (they are vhu_spawn's, so vhu_cleanup would SIGINT
# them; ovs-appctl exit first lets ovs-vswitchd release its ports), then
# everything else, whatever the exit status.
ovs_cleanup() {
	local rc=$?
	if [ -n "${VHU_PID[vswitchd]:-}" ]; then
		ovs-appctl -t "$ovs/vswitchd.ctl" --timeout=10 exit >/dev/null 2>&1
		vhu_stop vswitchd 10 noint || true
	fi
	if [ -n "${VHU_PID[ovsdb]:-}" ]; then
		ovs-appctl -t "$ovs/ovsdb-server.ctl" --timeout=10 exit >/dev/null 2>&1
		vhu_stop ovsdb 10 noint || true
	fi
	(exit "$rc")
	vhu_cleanup
}

vsctl() {
	ovs-vsctl --db="$db" --timeout=30 "$@"
}

# ovs_stat IFACE KEY: OVS's statistics counter KEY of interface IFACE, or
# nothing; as old as STATS_SECONDS at most.
ovs_stat() {
	vsctl get interface "$1" "statistics:$2" 2>/dev/null
}

# ovs_stats_current: waits until what OVS counted so far is in its database.
ovs_stats_current() {
	sleep $((STATS_SECONDS + 1))
}

# ovs_added N SOCK: waits until ovs-vswitchd has brought up the vhost device
# of SOCK N times in all (its new_device callback logs each).
ovs_added() {
	local n=$1 sock=$2 i
	for ((i = 0; i < 300; i++)); do
		[ "$(grep -c "vHost Device '$sock' has been added" "$vlog")" -ge "$n" ] && return 0
		vhu_alive "${VHU_PID[vswitchd]}" || fail "ovs-vswitchd died"
		sleep 0.1
	done
	fail "ovs-vswitchd did not bring up $sock (${n}th time) within 30 s"
}

# ovs_start_db: a fresh database and its ovsdb-server, configured for
# ovs-vswitchd: DPDK on, EAL's main lcore 0, one PMD thread on core 1.
ovs_start_db() {
	ovsdb-tool create "$ovs/conf.db" "$SCHEMA" >/dev/null 2>&1 ||
		vhu_die "ovsdb-tool could not create $ovs/conf.db from $SCHEMA"
	vhu_spawn ovsdb "$VHU_WORK/ovsdb.log" ovsdb-server "$ovs/conf.db" \
		--remote="punix:$ovs/db.sock" --pidfile="$ovs/ovsdb-server.pid" \
		--unixctl="$ovs/ovsdb-server.ctl" -vconsole:info
	vhu_wait_socket ovsdb "$ovs/db.sock" || fail "ovsdb-server did not come up"
	vsctl --no-wait init || fail "ovs-vsctl could not initialise the database"
	vsctl --no-wait set Open_vSwitch . other_config:dpdk-init=true \
		other_config:dpdk-lcore-mask=0x1 other_config:pmd-cpu-mask=0x2 \
		"other_config:dpdk-socket-mem=$OVS_MEM_MB" \
		"other_config:stats-update-interval=$((STATS_SECONDS * 1000))" \
		"other_config:dpdk-socket-limit=$OVS_MEM_MB" "other_config:dpdk-extra=--no-pci" ||
		fail "could not configure OVS"
}

# start_vswitchd LOG: starts ovs-vswitchd on the library VHU_BACKEND asks for,
# logging to LOG (vlog), waits for its DPDK to be up and checks which
# librte_vhost.so.23 it runs on.
start_vswitchd() {
	vlog=$1
	vhu_spawn vswitchd "$vlog" env "${VHU_BACKEND_ENV[@]}" "$VSWITCHD" "$db" \
		--pidfile="$ovs/vswitchd.pid" --unixctl="$ovs/vswitchd.ctl" -vconsole:info
	vhu_wait_log vswitchd "$vlog" 'DPDK Enabled - initialized' 60 ||
		fail "ovs-vswitchd did not initialise DPDK"
	if [ "$VHU_BACKEND" = rte ]; then
		vhu_require_vhost_lib vswitchd vhu "$vlog"
	else
		vhu_require_vhost_lib vswitchd system
	fi
}

# ovs_add_bridge: br0, a netdev (userspace datapath) bridge.
ovs_add_bridge() {
	vsctl add-br br0 -- set bridge br0 datapath_type=netdev || fail "could not add the bridge"
}

# ovs_add_port N SOCK: vhu$N, OpenFlow port N, a dpdkvhostuserclient port
# connecting to the vhost-user server (the frontend) listening on SOCK.
ovs_add_port() {
	vsctl add-port br0 "vhu$1" -- set interface "vhu$1" type=dpdkvhostuserclient \
		"options:vhost-server-path=$2" "ofport_request=$1" ||
		fail "could not add port vhu$1"
}

# set_flows: port 1 <-> port 2 (OpenFlow flows live in ovs-vswitchd only).
# A started ovs-vswitchd opens the bridge's OpenFlow socket (br0.mgmt) only
# once it has configured the bridge, which on a loaded machine can come after
# its ports are up: wait for it to answer.
set_flows() {
	local i
	for ((i = 0; i < 300; i++)); do
		ovs-ofctl del-flows br0 2>"$VHU_WORK/ofctl.err" && break
		vhu_alive "${VHU_PID[vswitchd]}" || fail "ovs-vswitchd died"
		sleep 0.1
	done
	[ "$i" -lt 300 ] ||
		fail "br0's OpenFlow socket did not answer within 30 s: $(cat "$VHU_WORK/ofctl.err")"
	ovs-ofctl add-flow br0 in_port=1,actions=output:2 &&
		ovs-ofctl add-flow br0 in_port=2,actions=output:1 || fail "could not set the flows"
}

# ovs_exit: asks ovs-vswitchd to exit and waits for it; fails if it does not.
ovs_exit() {
	ovs-appctl -t "$ovs/vswitchd.ctl" --timeout=20 exit >/dev/null 2>&1 ||
		fail "ovs-vswitchd did not answer 'exit'"
	vhu_stop vswitchd 20 noint || fail "ovs-vswitchd did not exit cleanly"
}
