#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Runs vhu's libFuzzer targets for a bounded time each.
#
#   test/fuzz/run.sh [SECONDS] [TARGET...]      (default: 60 s; msg split packed pkt)
#
# Builds the targets first (clang, -Dfuzz=true, AddressSanitizer and
# UndefinedBehaviorSanitizer, both fatal) in their own build directory, then
# fuzzes each one from a copy of its seed corpus (test/fuzz/corpus/<target>/).
# (The crashes kept in test/fuzz/crashes/ are not seeds: until their bug is
# fixed they would end the run at once; the replay tests run them.) One
# target runs at a time, on one core. A crash, a sanitizer report or a failed oracle ends
# that target's run; its input is kept under the build directory and the
# script says how to make it a regression test. A timeout is replayed first:
# an input that runs in milliseconds when replayed was a stall of the machine,
# reported and kept but not a failure; one that hangs again fails the run.
#
# Ends with one line per target ("msg: 123456 runs in 60 s, cov 4300, ok") and
# exits 0 if no target crashed, 1 if one did, 77 if clang or libFuzzer is
# missing (CI: skip).
#
# Environment: VHU_FUZZ_BUILD_DIR (default <repo>/build-fuzz), CC (default
# clang), VHU_FUZZ_SAVE=1 to copy crashing inputs into test/fuzz/crashes/.

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SECONDS_EACH=${1:-60}
shift 2>/dev/null
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(msg split packed pkt)
BUILD=${VHU_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
export CC=${CC:-clang}

log() {
	printf 'fuzz: %s\n' "$*" >&2
}

case "$SECONDS_EACH" in
'' | *[!0-9]*) log "usage: $0 [SECONDS] [msg|split|packed|pkt...]"; exit 2 ;;
esac
command -v "$CC" >/dev/null || { log "SKIP: $CC not found (libFuzzer needs clang)"; exit 77; }
probe=$(mktemp -d)
{
	printf '#include <stddef.h>\n#include <stdint.h>\n'
	printf 'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }\n'
} >"$probe/p.c"
if ! "$CC" -fsanitize=fuzzer "$probe/p.c" -o "$probe/p" 2>/dev/null; then
	rm -rf "$probe"
	log "SKIP: $CC cannot link -fsanitize=fuzzer (install libclang-rt-dev)"
	exit 77
fi
rm -rf "$probe"

if [ ! -f "$BUILD/build.ninja" ]; then
	log "configuring $BUILD (clang, -Dfuzz=true, ASan+UBSan)"
	meson setup "$BUILD" "$ROOT" -Dfuzz=true -Db_sanitize=address,undefined \
		-Dsanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized \
		>"$BUILD.setup.log" 2>&1 || {
		log "meson setup failed; see $BUILD.setup.log"
		exit 1
	}
fi
ninja_targets=()
for t in "${TARGETS[@]}"; do
	ninja_targets+=("test/fuzz/fuzz_$t")
done
log "building ${ninja_targets[*]}"
ninja -C "$BUILD" "${ninja_targets[@]}" >"$BUILD/fuzz-build.log" 2>&1 || {
	log "build failed; see $BUILD/fuzz-build.log"
	tail -20 "$BUILD/fuzz-build.log" >&2
	exit 1
}

# Sanitizer reports are failures, and abort so that libFuzzer keeps the input.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

failed=0
summary=()

# A timeout is a hang only if the input hangs again. A unit that took over the
# limit once while the machine stalled (a virtual machine descheduled, a
# disk flushing under the log) replays in milliseconds: say so, keep the
# input, and do not fail the run for it. Returns 0 for such a stall.
stall_only() {
	local t=$1 input=$2 start ms
	case "$input" in
	*/timeout-*) ;;
	*) return 1 ;;
	esac
	[ -f "$input" ] || return 1
	start=$(date +%s%N)
	if ! timeout 60 "$BUILD/test/fuzz/fuzz_$t" -timeout=10 -runs=3 "$input" \
		>"$input.replay.log" 2>&1; then
		log "$t: the timeout reproduces: $input hangs again (log: $input.replay.log)"
		return 1
	fi
	ms=$((($(date +%s%N) - start) / 1000000))
	log "$t: one unit ran past the 10 s limit, but the input replays three times in" \
		"$ms ms: a stall of the machine, not of the code; not a failure. The input is kept:" \
		"$input"
	return 0
}
for t in "${TARGETS[@]}"; do
	work=$BUILD/fuzz-work/$t
	art=$BUILD/fuzz-artifacts/$t
	rm -rf "$work"
	mkdir -p "$work" "$art"
	cp "$HERE/corpus/$t/"* "$work/" 2>/dev/null
	logf=$BUILD/fuzz-$t.log
	log "$t: fuzzing for $SECONDS_EACH s (log: $logf)"
	# -timeout: an input that takes a second is a hang; -rss_limit_mb: a leak.
	"$BUILD/test/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -print_funcs=0 \
		-artifact_prefix="$art/" "$work" >"$logf" 2>&1
	rc=$?
	runs=$(awk '/stat::number_of_executed_units/ { print $NF }' "$logf")
	cov=$(grep -o 'cov: [0-9]*' "$logf" | tail -1 | awk '{ print $2 }')
	crash=
	[ $rc -ne 0 ] && crash=$(grep -o "Test unit written to .*" "$logf" | tail -1 |
		sed 's/Test unit written to //')
	if [ $rc -ne 0 ] && stall_only "$t" "$crash"; then
		summary+=("$t: ${runs:-?} runs in $SECONDS_EACH s, cov ${cov:-?}, ok (one stall, see above)")
	elif [ $rc -ne 0 ]; then
		failed=1
		log "$t: FAILED (exit $rc); the report:"
		grep -E 'ERROR|runtime error|oracle failed|SUMMARY' "$logf" | head -5 >&2
		# Where it was: the first frames of the report's stack.
		grep -E '^ *#[0-9]+ ' "$logf" | head -12 >&2
		if [ -n "$crash" ]; then
			log "$t: the input is $crash; replay it with" \
				"$BUILD/test/fuzz/fuzz_$t $crash"
			if [ "${VHU_FUZZ_SAVE:-0}" = 1 ]; then
				cp "$crash" "$HERE/crashes/$t/" && log "$t: saved in test/fuzz/crashes/$t/"
			else
				log "$t: to keep it as a regression test: cp $crash $HERE/crashes/$t/"
			fi
		fi
		summary+=("$t: ${runs:-?} runs, cov ${cov:-?}, CRASHED")
	else
		summary+=("$t: ${runs:-?} runs in $SECONDS_EACH s, cov ${cov:-?}, ok")
	fi
done
for line in "${summary[@]}"; do
	echo "$line"
done
exit $failed
