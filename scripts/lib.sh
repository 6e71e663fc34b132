# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Helpers shared by vhu's scripts and interop tests; source it, do not run it.
#
# It knows where the tree and the build are, which EAL memory options this
# machine can use, how to start and stop the busy-polling processes of a
# loopback (a vhost-user backend and dpdk-testpmd's virtio-user frontend), and
# how to read the statistics both print in dpdk-testpmd's formats.
#
# Environment (all optional):
#   VHU_BUILD_DIR   meson build directory (default: <repo>/build)
#   VHU_BACKEND     vhu (default): the backend is vhu-pmd's vhost-user port;
#                   dpdk: dpdk-testpmd's net_vhost, DPDK's own backend;
#                   rte: dpdk-testpmd's net_vhost on vhu's librte_vhost.so.23
#                   (LD_LIBRARY_PATH=$VHU_BUILD_DIR/lib/rte_vhost)
#   VHU_PMD         vhu-pmd binary (default: $VHU_BUILD_DIR/app/vhu-pmd)
#   VHU_TESTPMD     dpdk-testpmd binary (default: from PATH)
#   VHU_EAL_MEM     EAL memory options for every process (default: chosen by
#                   vhu_eal_mem below)
#   VHU_NO_HUGE     1: never use hugepages (--no-huge -m 1024)
#   VHU_BACKEND_LCORES, VHU_FRONTEND_LCORES
#                   "main,forwarding" lcores (default 0,1 and 1,0, so that
#                   each forwarding lcore has a core of its own)
#   VHU_KEEP        1: keep the work directory (logs) instead of removing it

VHU_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${VHU_BUILD_DIR:=$VHU_ROOT/build}"
: "${VHU_PROG:=$(basename "$0" .sh)}"

# Memory a loopback pair needs when it runs on hugepages; below this much free
# hugepage memory the processes fall back to --no-huge rather than fail at init.
VHU_HUGE_NEED_MB=512
# Mbufs per process: plenty for 1 queue pair of 256..1024 descriptors, and small
# enough (about 36 MB) that several pairs fit in the 2 GB setup.sh reserves.
VHU_NB_MBUFS=16384

vhu_log() {
	printf '%s: %s\n' "$VHU_PROG" "$*" >&2
}

vhu_die() {
	vhu_log "$*"
	exit 1
}

# The first hugetlbfs mount of 2 MB pages, if any.
vhu_huge_mount() {
	awk '$3 == "hugetlbfs" && ($4 ~ /pagesize=2M/ || $4 !~ /pagesize=/) { print $2; exit }' \
		/proc/mounts
}

# Free 2 MB hugepage memory in MB.
vhu_huge_free_mb() {
	local f=/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages
	if [ -r "$f" ]; then
		echo $(($(cat "$f") * 2))
	else
		echo 0
	fi
}

# EAL memory options: hugepages when they are mounted and enough are free
# (virtio-user shares its memory with the backend by fd, which on hugepages
# needs one file per memseg list), else anonymous memory, which EAL backs with
# a memfd so it can be shared as well.
vhu_eal_mem() {
	if [ -n "${VHU_EAL_MEM:-}" ]; then
		echo "$VHU_EAL_MEM"
	elif [ "${VHU_NO_HUGE:-0}" != 1 ] && [ -n "$(vhu_huge_mount)" ] &&
		[ "$(vhu_huge_free_mb)" -ge "$VHU_HUGE_NEED_MB" ]; then
		echo "--single-file-segments"
	else
		echo "--no-huge -m 1024"
	fi
}

vhu_testpmd_bin() {
	local bin=${VHU_TESTPMD:-$(command -v dpdk-testpmd 2>/dev/null)}
	[ -n "$bin" ] && [ -x "$bin" ] && echo "$bin"
}

# Exits 77 (meson's skip status) when dpdk-testpmd, the peer no one here wrote,
# is not installed.
vhu_require_testpmd() {
	VHU_TESTPMD=$(vhu_testpmd_bin) || {
		echo "SKIP: dpdk-testpmd not found; install it with 'apt-get install dpdk-dev'" \
			"or set VHU_TESTPMD" >&2
		exit 77
	}
}

# vhu's librte_vhost.so.23 is loaded only by the processes a test means to
# run on it. meson puts the directory of every library a test depends on in
# the test's LD_LIBRARY_PATH, and an application that finds vhu's library
# there silently runs on it instead of DPDK's (a reference run then checks
# nothing, and a sanitizer build's library aborts an uninstrumented binary).
# So the directories holding vhu's library (a build's lib/rte_vhost, an
# installation's <libdir>/vhu) are dropped from LD_LIBRARY_PATH here, for
# every process a script starts; VHU_BACKEND_ENV adds vhu's library back for
# the backend of a VHU_BACKEND=rte run alone.
vhu_without_rte_lib() {
	local IFS=: entry kept=()
	local -a entries
	read -ra entries <<<"$1"
	for entry in "${entries[@]}"; do
		case "${entry%/}" in
		'' | */lib/rte_vhost | */vhu) ;;
		*) kept+=("$entry") ;;
		esac
	done
	echo "${kept[*]}"
}
if [ -n "${LD_LIBRARY_PATH:-}" ]; then
	LD_LIBRARY_PATH=$(vhu_without_rte_lib "$LD_LIBRARY_PATH")
	if [ -n "$LD_LIBRARY_PATH" ]; then
		export LD_LIBRARY_PATH
	else
		unset LD_LIBRARY_PATH
	fi
fi

# The environment of the backend's process: with VHU_BACKEND=rte, the library
# path that makes dpdk-testpmd's net_vhost load vhu's librte_vhost.so.23.
VHU_BACKEND_ENV=()
# Where vhu's librte_vhost.so.23 is built.
VHU_RTE_LIB_DIR=$VHU_BUILD_DIR/lib/rte_vhost

# vhu_rte_lib_sanitized: true when vhu's librte_vhost.so.23 was built with a
# sanitizer (meson -Db_sanitize=...). DPDK's uninstrumented dpdk-testpmd
# cannot load it: the sanitizer's runtime must be the first library loaded.
vhu_rte_lib_sanitized() {
	readelf -d "$VHU_RTE_LIB_DIR/librte_vhost.so.23" 2>/dev/null |
		grep -Eq 'NEEDED.*\[lib(a|ub|t)san\.so'
}

# Checks the backend this run uses and sets VHU_BACKEND_BIN; fails (it is the
# thing under test) when vhu-pmd is not built.
vhu_require_backend() {
	case "${VHU_BACKEND:=vhu}" in
	vhu)
		VHU_BACKEND_BIN=${VHU_PMD:-$VHU_BUILD_DIR/app/vhu-pmd}
		[ -x "$VHU_BACKEND_BIN" ] ||
			vhu_die "vhu-pmd not found at $VHU_BACKEND_BIN; build it with" \
				"'meson setup build && ninja -C build' or set VHU_PMD"
		;;
	dpdk)
		vhu_require_testpmd
		VHU_BACKEND_BIN=$VHU_TESTPMD
		;;
	rte)
		vhu_require_testpmd
		VHU_BACKEND_BIN=$VHU_TESTPMD
		[ -e "$VHU_RTE_LIB_DIR/librte_vhost.so.23" ] ||
			vhu_die "vhu's librte_vhost.so.23 not found in $VHU_RTE_LIB_DIR; build it" \
				"with 'ninja -C $VHU_BUILD_DIR'"
		if vhu_rte_lib_sanitized; then
			echo "SKIP: vhu's librte_vhost.so.23 in $VHU_BUILD_DIR is built with a" \
				"sanitizer, which DPDK's uninstrumented dpdk-testpmd cannot load;" \
				"run this test in an ordinary build (the unit test rte_vhost" \
				"checks the library under ASan)" >&2
			exit 77
		fi
		VHU_BACKEND_ENV=("LD_LIBRARY_PATH=$VHU_RTE_LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
		;;
	*)
		vhu_die "VHU_BACKEND=$VHU_BACKEND is not a backend; use 'vhu', 'dpdk' or 'rte'"
		;;
	esac
}

# vhu_vhost_lib_of PID: the file of the librte_vhost.so.23 that process PID
# has mapped, with its symbolic links resolved; nothing when it has none.
vhu_vhost_lib_of() {
	local file
	file=$(awk '$6 ~ /\/librte_vhost\.so\.23/ { print $6; exit }' "/proc/$1/maps" 2>/dev/null)
	[ -n "$file" ] && readlink -f "$file"
}

# vhu_system_vhost_lib: the system's (DPDK's) librte_vhost.so.23, resolved.
vhu_system_vhost_lib() {
	local file
	file=$(ldconfig -p 2>/dev/null | awk '$1 == "librte_vhost.so.23" { print $NF; exit }')
	[ -n "$file" ] && readlink -f "$file"
}

# vhu_require_vhost_lib ROLE WANT [LOG]: fails unless ROLE's process runs on
# the librte_vhost.so.23 WANT says, as its /proc/PID/maps shows: 'vhu' (the
# one in $VHU_RTE_LIB_DIR; with LOG, its log must also carry the line the
# library writes when it starts) or 'system' (DPDK's). Waits up to 20 s for
# the process to map it (dpdk-testpmd loads its drivers during EAL init).
vhu_require_vhost_lib() {
	local role=$1 want=$2 log=${3:-} pid=${VHU_PID[$1]:-} have expect i
	[ -n "$pid" ] || vhu_die "$role was not started"
	if [ "$want" = vhu ]; then
		expect=$(readlink -f "$VHU_RTE_LIB_DIR/librte_vhost.so.23")
	else
		expect=$(vhu_system_vhost_lib) ||
			vhu_die "the system has no librte_vhost.so.23 (ldconfig -p); install" \
				"librte-vhost23"
	fi
	for ((i = 0; i < 200; i++)); do
		have=$(vhu_vhost_lib_of "$pid")
		[ -n "$have" ] && break
		vhu_alive "$pid" || break
		sleep 0.1
	done
	[ "$have" = "$expect" ] ||
		vhu_die "$role (pid $pid) runs on librte_vhost.so.23 '${have:-none}', not the" \
			"$want library $expect; check LD_LIBRARY_PATH"
	if [ "$want" = vhu ] && [ -n "$log" ]; then
		vhu_wait_log "$role" "$log" "librte_vhost.so.23 is vhu .*vhost-user backend" 20 ||
			vhu_die "$role maps vhu's librte_vhost.so.23 but its log $log lacks the" \
				"line naming vhu"
	fi
	vhu_log "$role runs on the $want librte_vhost.so.23 ($have)"
}

# vhu_require_backend_lib ROLE LOG: for a dpdk-testpmd backend, checks it
# runs on the librte_vhost.so.23 VHU_BACKEND asks for: vhu's with rte,
# DPDK's with dpdk (the reference run must not be on vhu's by accident).
vhu_require_backend_lib() {
	case "${VHU_BACKEND:-vhu}" in
	rte) vhu_require_vhost_lib "$1" vhu "$2" ;;
	dpdk) vhu_require_vhost_lib "$1" system ;;
	esac
}

# --- processes ------------------------------------------------------------------

declare -A VHU_PID=()     # role name -> pid of a process started by vhu_spawn
declare -A VHU_PREFIX=()  # role name -> its EAL --file-prefix
declare -A VHU_CMD_FD=()  # role name -> fd of the FIFO that is its stdin (-i)
VHU_WORK=                 # work directory: sockets and logs
VHU_EAL_ARGS=()           # set by vhu_eal

# Creates the work directory and makes sure everything is cleaned up however
# the script ends (normal exit, error, Ctrl-C, SIGTERM from meson's timeout).
vhu_init_work() {
	VHU_WORK=$(mktemp -d "${TMPDIR:-/tmp}/vhu-$VHU_PROG.XXXXXX") ||
		vhu_die "cannot create a work directory in ${TMPDIR:-/tmp}; check it is writable"
	trap vhu_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# True while the process is running (a zombie has finished).
vhu_alive() {
	local state
	state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "${state:0:1}" != Z ]
}

# vhu_spawn ROLE LOG [-i] CMD...: starts CMD in the background with its output
# going to LOG. Its stdin is /dev/null (with --stats-period dpdk-testpmd does not
# read it), or with -i a FIFO that vhu_command writes to, for dpdk-testpmd -i.
vhu_spawn() {
	local role=$1 log=$2 fifo fd
	shift 2
	if [ "$1" = -i ]; then
		shift
		fifo=$VHU_WORK/$role.cmd
		mkfifo "$fifo" || vhu_die "cannot create the FIFO $fifo"
		# Opened read-write so that neither side blocks, and so that the reader
		# never sees end-of-file (dpdk-testpmd -i quits on it) until we close it.
		exec {fd}<>"$fifo"
		VHU_CMD_FD[$role]=$fd
	else
		fifo=/dev/null
	fi
	echo "$*" >"$log"
	# Line-buffered, or dpdk-testpmd's answers to commands sit in its stdio
	# buffer until it exits.
	stdbuf -oL -eL "$@" <"$fifo" >>"$log" 2>&1 &
	VHU_PID[$role]=$!
}

# vhu_command ROLE LINE: types LINE at ROLE's dpdk-testpmd prompt.
vhu_command() {
	local fd=${VHU_CMD_FD[$1]:-}
	[ -n "$fd" ] || vhu_die "$1 was not started with a command FIFO"
	printf '%s\n' "$2" >&"$fd"
}

# vhu_quit ROLE [TIMEOUT]: the interactive counterpart of vhu_stop: types
# "quit" and waits like vhu_stop does.
vhu_quit() {
	vhu_command "$1" quit
	vhu_stop "$1" "${2:-10}" noint
}

# vhu_wait_log ROLE LOG REGEX [TIMEOUT]: waits until a line of LOG matches REGEX.
vhu_wait_log() {
	local role=$1 log=$2 re=$3 timeout=${4:-10} i
	for ((i = 0; i < timeout * 10; i++)); do
		grep -q -E -- "$re" "$log" && return 0
		vhu_alive "${VHU_PID[$role]:-}" || {
			vhu_log "$role exited before its log showed '$re'"
			return 1
		}
		sleep 0.1
	done
	vhu_log "$role's log did not show '$re' within $timeout s"
	return 1
}

# vhu_stop ROLE [TIMEOUT [noint]]: SIGINT, as a user's Ctrl-C (unless noint: the
# caller has asked it to quit already), then waits for the process to print its
# final statistics and exit; SIGKILL after TIMEOUT seconds (default 10).
# Returns the exit status, or 1 if it had to be killed.
vhu_stop() {
	local role=$1 timeout=${2:-10} pid=${VHU_PID[$1]:-} i rc fd
	[ -n "$pid" ] || return 0
	unset "VHU_PID[$role]"
	[ "${3:-}" = noint ] || kill -INT "$pid" 2>/dev/null
	for ((i = 0; i < timeout * 10; i++)); do
		vhu_alive "$pid" || break
		sleep 0.1
	done
	if vhu_alive "$pid"; then
		vhu_log "$role (pid $pid) did not exit within $timeout s; killing it"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		rc=1
	else
		wait "$pid" 2>/dev/null
		rc=$?
	fi
	fd=${VHU_CMD_FD[$role]:-}
	if [ -n "$fd" ]; then
		exec {fd}>&-
		unset "VHU_CMD_FD[$role]"
		rm -f "$VHU_WORK/$role.cmd"
	fi
	return "$rc"
}

vhu_remove_eal_files() {
	local prefix=$1 mnt
	mnt=$(vhu_huge_mount)
	[ -n "$mnt" ] && rm -f "$mnt/${prefix}"map_* 2>/dev/null
	rm -rf "/var/run/dpdk/$prefix" "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk/$prefix" \
		"/tmp/dpdk/$prefix" 2>/dev/null
	return 0
}

# Stops whatever is still running, removes sockets, logs and the hugepage files
# DPDK leaves behind (they would keep the pages reserved).
vhu_cleanup() {
	local rc=$? role
	trap - EXIT INT TERM
	for role in "${!VHU_PID[@]}"; do
		vhu_stop "$role" 5 || true
	done
	for role in "${!VHU_PREFIX[@]}"; do
		vhu_remove_eal_files "${VHU_PREFIX[$role]}"
	done
	if [ -n "$VHU_WORK" ] && [ -d "$VHU_WORK" ]; then
		if [ "${VHU_KEEP:-0}" = 1 ]; then
			vhu_log "logs kept in $VHU_WORK"
		else
			rm -rf "$VHU_WORK"
		fi
	fi
	exit "$rc"
}

# vhu_eal ROLE LCORES: sets VHU_EAL_ARGS to the EAL options of one process: its
# lcores ("main,forwarding"), no PCI scan, a file prefix of its own (so that
# processes do not share runtime files) and the memory options.
vhu_eal() {
	local role=$1 lcores=$2 prefix
	prefix="vhu-$VHU_PROG-$role-$$"
	VHU_PREFIX[$role]=$prefix
	# shellcheck disable=SC2207 # the memory options are words on purpose
	VHU_EAL_ARGS=(-l "$lcores" --main-lcore "${lcores%%,*}" --no-pci --file-prefix "$prefix"
		$(vhu_eal_mem))
}

# vhu_start_backend ROLE LOG [-i] SOCKET CLIENT APP_ARGS...: the backend with one
# vhost-user port on SOCKET (CLIENT 1: it connects, 0: it listens), forwarding
# as APP_ARGS say (dpdk-testpmd options, which vhu-pmd shares). With -i it runs
# its interactive prompt, fed by vhu_command, and forwards only once told to
# "start" (unless APP_ARGS has --auto-start).
vhu_start_backend() {
	local role=$1 log=$2 i=
	shift 2
	if [ "$1" = -i ]; then
		i=-i
		shift
	fi
	local sock=$1 client=$2
	shift 2
	vhu_eal "$role" "${VHU_BACKEND_LCORES:-0,1}"
	if [ "$VHU_BACKEND" = vhu ]; then
		vhu_spawn "$role" "$log" $i "$VHU_BACKEND_BIN" "${VHU_EAL_ARGS[@]}" -- $i \
			--port "vhost-user,iface=$sock,queues=1,client=$client" \
			--total-num-mbufs=$VHU_NB_MBUFS "$@"
	else
		# --no-flush-rx: otherwise dpdk-testpmd drains and counts, before its
		# forward statistics start, whatever the peer sent before it started.
		vhu_spawn "$role" "$log" $i env "${VHU_BACKEND_ENV[@]}" "$VHU_BACKEND_BIN" \
			"${VHU_EAL_ARGS[@]}" --vdev "net_vhost0,iface=$sock,queues=1,client=$client" -- $i \
			--total-num-mbufs=$VHU_NB_MBUFS --no-flush-rx "$@"
	fi
}

# vhu_start_frontend ROLE LOG [-i] DEVARGS APP_ARGS...: dpdk-testpmd with a
# virtio-user port, DEVARGS like "path=S,queues=1,in_order=1"; with -i it runs
# its interactive prompt, fed by vhu_command.
vhu_start_frontend() {
	local role=$1 log=$2 i=
	shift 2
	if [ "$1" = -i ]; then
		i=-i
		shift
	fi
	local devargs=$1
	shift
	vhu_eal "$role" "${VHU_FRONTEND_LCORES:-1,0}"
	vhu_spawn "$role" "$log" $i "$VHU_TESTPMD" "${VHU_EAL_ARGS[@]}" \
		--vdev "net_virtio_user0,$devargs" -- $i \
		--total-num-mbufs=$VHU_NB_MBUFS --no-flush-rx "$@"
}

# vhu_wait_socket ROLE SOCKET [TIMEOUT]: waits for ROLE to create its listening
# socket; fails early if ROLE exits.
vhu_wait_socket() {
	local role=$1 sock=$2 timeout=${3:-20} i
	for ((i = 0; i < timeout * 10; i++)); do
		[ -S "$sock" ] && return 0
		vhu_alive "${VHU_PID[$role]:-}" || {
			vhu_log "$role exited before it created $sock"
			return 1
		}
		sleep 0.1
	done
	vhu_log "$role did not create $sock within $timeout s"
	return 1
}

# --- statistics (dpdk-testpmd's formats) ------------------------------------------

# The cumulative RX-packets (or TX-packets with DIR "tx") of the latest periodic
# "NIC statistics" block of each port in LOG, summed over ports; 0 before the
# first block.
vhu_nic_packets() {
	local log=$1 dir=${2:-rx}
	awk -v dir="$dir" '
		/NIC statistics for port/ { port = $0; sub(/.*for port */, "", port); sub(/ .*/, "", port) }
		dir == "rx" && /RX-packets:/ && /RX-missed:/ { val[port] = $2 }
		dir == "tx" && /TX-packets:/ && /TX-errors:/ { val[port] = $2 }
		END { for (p in val) sum += val[p]; print sum + 0 }' "$log"
}

# Every Rx-pps (or Tx-pps) value of the periodic blocks, one per line.
vhu_nic_pps() {
	local log=$1 dir=${2:-rx}
	awk -v key="$([ "$dir" = rx ] && echo Rx-pps: || echo Tx-pps:)" \
		'$1 == key { print $2 }' "$log"
}

# vhu_wait_packets ROLE LOG DIR ABOVE [TIMEOUT]: waits until ROLE's periodic
# statistics show more than ABOVE packets in direction DIR (rx or tx).
vhu_wait_packets() {
	local role=$1 log=$2 dir=$3 above=$4 timeout=${5:-20} i
	for ((i = 0; i < timeout * 10; i++)); do
		[ "$(vhu_nic_packets "$log" "$dir")" -gt "$above" ] && return 0
		vhu_alive "${VHU_PID[$role]:-}" || {
			vhu_log "$role exited while waiting for its $dir packets to pass $above"
			return 1
		}
		sleep 0.1
	done
	vhu_log "$role's $dir packets did not pass $above within $timeout s"
	return 1
}

# The last "Forward statistics" block of each port in LOG (dpdk-testpmd -i
# prints one at every "stop"), summed over ports, as "RX-packets RX-dropped
# TX-packets TX-dropped"; fails if there is none (the process did not stop
# cleanly).
vhu_fwd_stats() {
	awk '
		/Forward statistics for port/ {
			port = $0; sub(/.*for port */, "", port); sub(/ .*/, "", port)
			inblk = 1; n++; next
		}
		inblk && /RX-packets:/ { rx[port] = $2; rxd[port] = $4 }
		inblk && /TX-packets:/ { tx[port] = $2; txd[port] = $4 }
		inblk && /^ *-+ *$/ { inblk = 0 }
		END {
			if (n == 0) exit 1
			for (p in rx) { a += rx[p]; b += rxd[p] }
			for (p in tx) { c += tx[p]; d += txd[p] }
			print a + 0, b + 0, c + 0, d + 0
		}' "$1"
}

# Prints the last lines of a log, for a failing test's report.
vhu_show_log() {
	local role=$1 log=$2
	echo "----- last lines of $role's log ($log) -----" >&2
	tail -n "${3:-40}" "$log" | tr -d '\033' >&2
	echo "-----" >&2
}
