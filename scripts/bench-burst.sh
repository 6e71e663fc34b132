#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Instructions per packet of the net bursts, under callgrind, for split and
# packed rings, both directions, 64 and 1518 B: a single-threaded loop over
# the unit tests' synthetic guest (test/unit/bench_burst.c), counting only
# inside vhu_vhost_enqueue_burst / vhu_vhost_dequeue_burst. Instruction
# counts do not depend on machine load, so two builds compare fairly.
#
# Usage: scripts/bench-burst.sh [build-dir] [bursts]   (defaults: build 20000)
set -eu
build=${1:-build}
bursts=${2:-20000}
exe="$build/test/unit/bench_burst"
[ -x "$exe" ] || { echo "bench-burst: $exe not built; run ninja -C $build" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "bench-burst: valgrind is not installed" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-16s %10s\n' case 'Ir/packet'
for c in split_tx_64 split_tx_1518 split_rx_64 split_rx_1518 \
	 packed_tx_64 packed_tx_1518 packed_rx_64 packed_rx_1518; do
	VHU_BENCH_BURSTS=$bursts valgrind --tool=callgrind --callgrind-out-file="$out/cg" \
		--toggle-collect='vhu_vhost_*_burst' "$exe" "$c" >"$out/log" 2>&1 ||
		{ cat "$out/log" >&2; exit 1; }
	grep -q "^ok 1 - $c\$" "$out/log" || { cat "$out/log" >&2; exit 1; }
	ir=$(sed -n 's/^summary: \([0-9]*\).*/\1/p' "$out/cg")
	awk -v ir="$ir" -v n="$((bursts * 32))" -v c="$c" \
		'BEGIN { printf "%-16s %10.1f\n", c, ir / n }'
done
