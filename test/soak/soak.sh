#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Soak: traffic between a vhu-pmd backend (a vhost-user port) and a vhu-pmd
# front-end (a virtio-user port) while, at random moments, the front-end and
# the backend are restarted, ports are stopped and started (rings stopped,
# GET/SET_VRING_BASE, a new memory table at every start) and the front-end
# comes back with another ring layout.
#
#   soak.sh [MINUTES]          (default 1; VHU_SOAK_SECONDS overrides)
#
# The time is split in two phases, one per direction, each with one process
# that lives throughout and one that is restarted:
#
#   g2h  the front-end sends (txonly), the backend receives (rxonly); the
#        front-end is restarted, the backend lives.
#   h2g  the backend sends, the front-end receives; the backend is
#        restarted, the front-end lives.
#
# Besides the restarts, each phase stops and starts the ports of both
# processes. At the end of a phase, summed over every process that ran:
#
#   packets sent = packets received + packets the receiver counted as dropped
#
# and the process that lived throughout holds the fds and mappings it held at
# the start (VmRSS within 4 MiB), both measured with traffic running.
#
# The moments are random; the seed is printed (VHU_SOAK_SEED replays it).
# Exit status: 0 pass, 1 fail. Environment: those of scripts/lib.sh.

set -u
VHU_PROG=soak
. "$(dirname "$0")/../../scripts/lib.sh"

TOTAL=${VHU_SOAK_SECONDS:-$(( ${1:-1} * 60 ))}
SEED=${VHU_SOAK_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$SEED
QUEUES=2
VHU_PMD=${VHU_PMD:-$VHU_BUILD_DIR/app/vhu-pmd}
[ -x "$VHU_PMD" ] || vhu_die "vhu-pmd not found at $VHU_PMD; build it or set VHU_PMD"
case "$TOTAL" in '' | *[!0-9]*) vhu_die "usage: $0 [MINUTES]" ;; esac

fail() {
	vhu_log "FAIL: $*"
	local f
	for f in "$VHU_WORK"/*.log; do
		[ -f "$f" ] && vhu_show_log "$(basename "$f" .log)" "$f" 25
	done
	exit 1
}

declare -A LOG=() LIFE=()
EVENTS=0

# start ROLE MODE: vhu-pmd with the port of ROLE (back: vhost-user, front:
# virtio-user with a ring layout drawn at random), its shell on a FIFO.
start() {
	local role=$1 mode=$2 port lcores
	LIFE[$role]=$(( ${LIFE[$role]:-0} + 1 ))
	LOG[$role]=$VHU_WORK/$role.${LIFE[$role]}.log
	if [ "$role" = back ]; then
		port="vhost-user,iface=$SOCK,queues=$QUEUES"
		lcores=0,1
	else
		port="virtio-user,path=$SOCK,queues=$QUEUES,packed_vq=$((RANDOM % 2))"
		port="$port,mrg_rxbuf=$((RANDOM % 2)),in_order=$((RANDOM % 2))"
		lcores=1,0
	fi
	vhu_eal "$role" "$lcores"
	vhu_spawn "$role" "${LOG[$role]}" -i "$VHU_PMD" "${VHU_EAL_ARGS[@]}" -- -i --auto-start \
		--port "$port" --forward-mode="$mode" --rxq=$QUEUES --txq=$QUEUES --nb-cores=1 \
		--txpkts=$(( RANDOM % 2 ? 64 : 1000 )) --total-num-mbufs=$VHU_NB_MBUFS
	vhu_wait_log "$role" "${LOG[$role]}" 'Interactive-mode selected' 30 || fail "$role did not start"
}

# The last "show port stats" counter KEY (RX-packets, TX-packets) of ROLE.
port_counter() {
	local role=$1 key=$2 before
	before=$(stat -c %s "${LOG[$role]}")
	vhu_command "$role" "show port stats 0"
	sleep 0.3
	tail -c +$((before + 1)) "${LOG[$role]}" |
		awk -v k="$key:" '$1 == k { v = $2 } END { print v + 0 }'
}

# Wait until the receiver has taken 2000 more packets (20 s at most).
wait_flow() {
	local what=$1 from i now
	from=$(port_counter "$RECEIVER" RX-packets)
	for ((i = 0; i < 40; i++)); do
		now=$(port_counter "$RECEIVER" RX-packets)
		[ "$now" -gt $((from + 2000)) ] && return 0
		vhu_alive "${VHU_PID[back]:-}" || fail "the backend died ($what)"
		vhu_alive "${VHU_PID[front]:-}" || fail "the front-end died ($what)"
		sleep 0.2
	done
	fail "traffic did not flow after $what (receiver at $now packets)"
}

SENT=0 RECEIVED=0 DROPPED=0
# quit ROLE: ends a process's life, adding its forward statistics to the sums.
quit() {
	local role=$1 rx rxd tx txd
	vhu_quit "$role" 20 || fail "$role did not quit cleanly"
	vhu_remove_eal_files "${VHU_PREFIX[$role]}"
	read -r rx rxd tx txd < <(vhu_fwd_stats "${LOG[$role]}") ||
		fail "$role printed no forward statistics"
	if [ "$role" = "$SENDER" ]; then
		SENT=$((SENT + tx))
	else
		RECEIVED=$((RECEIVED + rx)) DROPPED=$((DROPPED + rxd))
	fi
	vhu_log "  $role (life ${LIFE[$role]}) quit: rx $rx (dropped $rxd), tx $tx"
}

counts() {
	local pid=$1
	echo "$(ls "/proc/$pid/fd" | wc -l) $(wc -l <"/proc/$pid/maps")" \
		"$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")"
}

port_bounce() {
	local role=$1
	vhu_command "$role" "port stop 0"
	sleep "0.$((RANDOM % 10))"
	vhu_command "$role" "port start 0"
	EVENTS=$((EVENTS + 1))
	wait_flow "$role's port stopped and started"
}

restart() {
	local role=$1 mode=$2
	quit "$role"
	sleep "0.$((RANDOM % 10))"
	start "$role" "$mode"
	EVENTS=$((EVENTS + 1))
	wait_flow "the $role restarted"
}

# phase NAME SECONDS
phase() {
	local name=$1 secs=$2 back_mode front_mode lives restarted end c0 c1 f0 m0 r0 f1 m1 r1
	SOCK=$VHU_WORK/$name.sock
	SENT=0 RECEIVED=0 DROPPED=0
	if [ "$name" = g2h ]; then
		front_mode=txonly back_mode=rxonly SENDER=front RECEIVER=back lives=back restarted=front
	else
		front_mode=rxonly back_mode=txonly SENDER=back RECEIVER=front lives=front restarted=back
	fi
	vhu_log "phase $name: $SENDER sends, $RECEIVER receives; the $restarted restarts, the" \
		"$lives lives; $secs s"
	start back "$back_mode"
	vhu_wait_socket back "$SOCK" || fail "the backend did not listen"
	start front "$front_mode"
	wait_flow "the start"
	sleep 1
	read -r f0 m0 r0 < <(counts "${VHU_PID[$lives]}")
	end=$((SECONDS + secs))
	while [ $SECONDS -lt $end ]; do
		sleep "$((RANDOM % 2)).$((RANDOM % 10))"
		case $((RANDOM % 4)) in
		0 | 1)
			if [ "$restarted" = front ]; then
				restart front "$front_mode"
			else
				restart back "$back_mode"
			fi
			;;
		2) port_bounce front ;;
		3) port_bounce back ;;
		esac
	done
	wait_flow "the last event"
	sleep 1
	read -r f1 m1 r1 < <(counts "${VHU_PID[$lives]}")
	# The sender first, so that it drains its rings into a receiver still running.
	quit "$SENDER"
	sleep 1.5
	quit "$RECEIVER"
	vhu_log "phase $name: sent $SENT, received $RECEIVED, dropped $DROPPED;" \
		"$lives: fds $f0 -> $f1, mappings $m0 -> $m1, VmRSS $r0 -> $r1 kB"
	[ "$RECEIVED" -gt 0 ] || fail "phase $name: nothing received"
	[ "$SENT" -eq $((RECEIVED + DROPPED)) ] ||
		fail "phase $name: sent $SENT != received $RECEIVED + dropped $DROPPED" \
			"(difference $((SENT - RECEIVED - DROPPED)))"
	[ "$f1" -eq "$f0" ] || fail "phase $name: the $lives's open fds went from $f0 to $f1"
	[ "$m1" -eq "$m0" ] || fail "phase $name: the $lives's mappings went from $m0 to $m1"
	[ "$r1" -le $((r0 + 4096)) ] || fail "phase $name: the $lives's VmRSS grew from $r0 to $r1 kB"
	TOTAL_SENT=$((TOTAL_SENT + SENT))
}

vhu_init_work
TOTAL_SENT=0
vhu_log "soak for $TOTAL s, seed $SEED (VHU_SOAK_SEED=$SEED replays the same moments)"
phase g2h $((TOTAL / 2))
phase h2g $((TOTAL - TOTAL / 2))
vhu_log "PASS: $TOTAL s, $EVENTS restarts and port stops, $TOTAL_SENT packets, none lost"
