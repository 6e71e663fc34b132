# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Helpers for the shell tests; source it, do not run it. On top of
# scripts/lib.sh (processes, cleanup, work directory), it starts vhu-pmd -i
# with its standard input on a FIFO, types commands into it, and hands each
# command's output to the test.
#
# Typing "CMD" also types a comment line "# done N" after it. vhu-pmd echoes
# every line it reads after its prompt, and runs them in order, so once
# "vhu-pmd> # done N" is in the log, CMD has finished and what it printed is
# the text between its echo and that line.
#
# Environment: VHU_PMD (the binary; default <build>/app/vhu-pmd), and those of
# scripts/lib.sh.

. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

SH_PROMPT='vhu-pmd> '
SH_N=0      # commands typed so far, over all processes
SH_OUT=     # what the last command printed
SH_LAST=    # the last command typed
SH_ROLE=    # the process commands go to (sh_use)
SH_LOG=     # its log
declare -A SH_TYPED=() # command lines typed, to check that every command was covered

# Fails unless vhu-pmd is built; sets SH_PMD.
sh_require_pmd() {
	SH_PMD=${VHU_PMD:-$VHU_BUILD_DIR/app/vhu-pmd}
	[ -x "$SH_PMD" ] || vhu_die "vhu-pmd not found at $SH_PMD; build it with" \
		"'meson setup build && ninja -C build' or set VHU_PMD"
}

sh_fail() {
	vhu_log "FAIL: $*"
	if [ -n "$SH_LAST" ]; then
		echo "----- output of '$SH_LAST' -----" >&2
		printf '%s\n' "$SH_OUT" >&2
	fi
	[ -n "$SH_LOG" ] && vhu_show_log "$SH_ROLE" "$SH_LOG" 60
	exit 1
}

# sh_eal ROLE LCORES: EAL options of a vhu-pmd without hugepages (ring ports need
# none), into SH_EAL.
sh_eal() {
	local role=$1 lcores=$2 prefix
	prefix="vhu-$VHU_PROG-$role-$$"
	VHU_PREFIX[$role]=$prefix
	SH_EAL=(-l "$lcores" --main-lcore "${lcores%%,*}" --no-pci --no-huge -m 256
		--file-prefix "$prefix")
}

# sh_start ROLE LOG LCORES APP_ARGS...: vhu-pmd -i with its stdin on a FIFO;
# waits for its shell and makes it the target of sh_cmd.
sh_start() {
	local role=$1 log=$2 lcores=$3
	shift 3
	sh_eal "$role" "$lcores"
	vhu_spawn "$role" "$log" -i "$SH_PMD" "${SH_EAL[@]}" -- -i --total-num-mbufs=4096 "$@"
	sh_use "$role" "$log"
	vhu_wait_log "$role" "$log" '^Interactive-mode selected' 30 ||
		sh_fail "vhu-pmd did not start its shell"
}

sh_use() {
	SH_ROLE=$1
	SH_LOG=$2
}

# sh_cmd LINE [TIMEOUT]: types LINE, waits until it has run, and puts what it
# printed (without the echo of LINE) in SH_OUT.
sh_cmd() {
	local line=$1 timeout=${2:-30} prev
	prev="$SH_PROMPT# done $SH_N"
	[ "$SH_N" -eq 0 ] && prev="Interactive-mode selected"
	SH_N=$((SH_N + 1))
	SH_LAST=$line
	SH_TYPED[$line]=1
	vhu_command "$SH_ROLE" "$line"
	vhu_command "$SH_ROLE" "# done $SH_N"
	vhu_wait_log "$SH_ROLE" "$SH_LOG" "^$SH_PROMPT# done $SH_N\$" "$timeout" ||
		sh_fail "'$line' did not finish within $timeout s"
	SH_OUT=$(awk -v prev="$prev" -v end="$SH_PROMPT# done $SH_N" -v echo="$SH_PROMPT$line" '
		$0 == end { exit }
		on && !skipped && $0 == echo { skipped = 1; next }
		on { print }
		$0 == prev { on = 1 }' "$SH_LOG")
}

# sh_expect REGEX [WHAT]: the last output has a line matching the extended REGEX.
sh_expect() {
	grep -qE -- "$1" <<<"$SH_OUT" ||
		sh_fail "${2:-'$SH_LAST'}: expected a line matching /$1/"
}

sh_expect_not() {
	! grep -qE -- "$1" <<<"$SH_OUT" ||
		sh_fail "${2:-'$SH_LAST'}: expected no line matching /$1/"
}

# sh_ok LINE [REGEX]: LINE runs without an error (and prints REGEX).
sh_ok() {
	sh_cmd "$1"
	sh_expect_not '^Error: ' "'$1' should succeed"
	[ $# -lt 2 ] || sh_expect "$2"
}

# sh_bad LINE REGEX: LINE is refused with one line "Error: ...REGEX...", then the
# usage, and the shell carries on.
sh_bad() {
	sh_cmd "$1"
	[ "$(grep -c '^Error: ' <<<"$SH_OUT")" -eq 1 ] ||
		sh_fail "'$1' should print exactly one error line"
	sh_expect "^Error: .*$2" "'$1' should be refused"
	sh_expect '^Usage: ' "'$1' should print the usage"
	vhu_alive "${VHU_PID[$SH_ROLE]}" || sh_fail "vhu-pmd exited after '$1'"
}

# sh_field NAME: the number after "NAME:" in the last output (first match).
sh_field() {
	awk -v key="$1:" '{ for (i = 1; i < NF; i++) if ($i == key) { print $(i + 1); exit } }' \
		<<<"$SH_OUT"
}

# sh_port_field PORT NAME: "show port stats PORT", then the number after NAME: into
# SH_VAL. (Not for $(...): a subshell would lose the count of commands typed.)
sh_port_field() {
	sh_cmd "show port stats $1"
	# shellcheck disable=SC2034 # for the scripts that source this file
	SH_VAL=$(sh_field "$2")
}

# sh_wait_rx_above PORT ABOVE: the port's RX-packets, polled until it passes ABOVE
# (the lcores move packets).
sh_wait_rx_above() {
	local port=$1 above=$2 i v
	for ((i = 0; i < 50; i++)); do
		sh_port_field "$port" RX-packets
		v=$SH_VAL
		[ "$v" -gt "$above" ] && return 0
		sleep 0.1
	done
	sh_fail "port $port's RX-packets stayed at $v, not above $above: it is not forwarded"
}

# sh_xstat NAME: the value of "NAME: value" in the last output.
sh_xstat() {
	awk -v key="$1:" '$1 == key { print $2; exit }' <<<"$SH_OUT"
}

# sh_quit [TIMEOUT]: "quit", then the process must exit with status 0.
sh_quit() {
	SH_LAST=quit
	SH_TYPED[quit]=1
	vhu_quit "$SH_ROLE" "${1:-20}" || sh_fail "vhu-pmd did not quit cleanly"
	grep -q '^Bye\.\.\.' "$SH_LOG" || sh_fail "vhu-pmd did not say Bye... on quit"
}

# sh_check_coverage HELP: every command that HELP (the output of "help") lists
# was typed at least once; a typed line counts for the longest command it
# starts with ("start tx_first 4" for "start tx_first", not for "start").
sh_check_coverage() {
	local help=$1 name typed best
	local -a names missing=()
	local -A covered=()
	mapfile -t names < <(awk '/^  [a-z]/ {
		n = ""; split(substr($0, 3, 37), w, " ")
		for (i = 1; i in w && w[i] ~ /^[a-z_-]+$/; i++)
			n = n (n == "" ? "" : " ") w[i]
		print n }' <<<"$help")
	[ ${#names[@]} -gt 20 ] || sh_fail "'help' listed only ${#names[@]} commands"
	for typed in "${!SH_TYPED[@]}"; do
		best=
		for name in "${names[@]}"; do
			[[ "$typed " == "$name "* ]] && [ ${#name} -gt ${#best} ] && best=$name
		done
		[ -n "$best" ] && covered[$best]=1
	done
	for name in "${names[@]}"; do
		[ -n "${covered[$name]:-}" ] || missing+=("$name")
	done
	[ ${#missing[@]} -eq 0 ] || sh_fail "commands never tested: ${missing[*]}"
}
