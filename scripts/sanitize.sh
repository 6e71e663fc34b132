#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# vhu under the sanitizers and valgrind:
#
#   scripts/sanitize.sh [asan|valgrind|all] [meson test options]    (default: all)
#
#   asan      builds vhu with AddressSanitizer and UndefinedBehaviorSanitizer
#             (both fatal) in its own build directory and runs the unit and
#             fuzz (the corpus and every crash kept) suites there with leak
#             detection, then the hostile suite and, unless
#             VHU_SANITIZE_QUICK=1, the integration suite.
#   valgrind  runs the control-plane unit tests (messages, memory tables,
#             handshakes, IOTLB) under valgrind, in an ordinary build: suite
#             'valgrind'.
#
# Ends with one line per step ("asan: 1234 passed, 0 failed in 312 s") and
# exits 0 only if every step passed.
#
# Environment:
#   VHU_ASAN_BUILD_DIR      (default <repo>/build-asan)
#   VHU_VALGRIND_BUILD_DIR  (default <repo>/build-valgrind)
#   VHU_SANITIZE_QUICK=1    skip the integration suite (minutes of busy-polling)
#   CC                      the compiler (default: meson's choice, gcc on Debian)

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STEP=${1:-all}
shift 2>/dev/null
ASAN_DIR=${VHU_ASAN_BUILD_DIR:-$ROOT/build-asan}
VG_DIR=${VHU_VALGRIND_BUILD_DIR:-$ROOT/build-valgrind}

log() {
	printf 'sanitize: %s\n' "$*" >&2
}

case "$STEP" in
asan | valgrind | all) ;;
*) log "usage: $0 [asan|valgrind|all] [meson test options]"; exit 2 ;;
esac

# Pass and fail counts of the last meson test run in build directory $1.
results() {
	python3 - "$1/meson-logs/testlog.json" <<'EOF'
import json, sys
p = f = 0
try:
    for line in open(sys.argv[1]):
        if line.strip():
            r = json.loads(line).get("result", "")
            if r in ("OK", "EXPECTEDFAIL", "SKIP"):
                p += r != "SKIP"
            else:
                f += 1
except OSError:
    f = 1
print(p, f)
EOF
}

# setup DIR OPTIONS...: configure DIR once.
setup() {
	local dir=$1
	shift
	[ -f "$dir/build.ninja" ] && return 0
	log "configuring $dir ($*)"
	meson setup "$dir" "$ROOT" "$@" >"$dir.setup.log" 2>&1 || {
		log "meson setup failed; see $dir.setup.log"
		return 1
	}
}

summary=()
rc_all=0

# asan_test WHAT LEAKS SUITE...: one meson test run in the ASan build; adds
# its counts to P and F. Every sanitizer report is fatal.
asan_test() {
	local what=$1 leaks=$2 p f rc opts
	shift 2
	# verify_asan_link_order=0: the test scripts start vhu-pmd under stdbuf,
	# whose preloaded library would otherwise make ASan refuse to start.
	opts=abort_on_error=1:detect_leaks=$leaks:allocator_may_return_null=1
	opts=$opts:verify_asan_link_order=0
	# ASan keeps freed memory in quarantine (up to 256 MB): the hostile
	# suite's VmRSS check allows for it; its fd and mapping checks stay exact.
	VHU_HOSTILE_RSS_SLACK_KB=${VHU_HOSTILE_RSS_SLACK_KB:-262144} \
	ASAN_OPTIONS=${ASAN_OPTIONS:-$opts} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1} \
		meson test -C "$ASAN_DIR" --print-errorlogs "$@" >"$ASAN_DIR/sanitize-$what.log" 2>&1
	rc=$?
	read -r p f < <(results "$ASAN_DIR")
	[ $rc = 0 ] || [ "$f" -gt 0 ] || f=1
	log "asan, $what: $p passed, $f failed (log: $ASAN_DIR/sanitize-$what.log)"
	P=$((P + p)) F=$((F + f))
}

if [ "$STEP" = asan ] || [ "$STEP" = all ]; then
	t0=$SECONDS
	P=0 F=0
	if setup "$ASAN_DIR" -Db_sanitize=address,undefined -Dsanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debugoptimized &&
		ninja -C "$ASAN_DIR" >"$ASAN_DIR/sanitize-build.log" 2>&1; then
		# Leaks are checked in the unit and fuzz programs, whose every
		# allocation is the test's own. vhu-pmd and the traffic tools keep
		# DPDK's memory until exit on purpose: the hostile suite checks their
		# fds, mappings and RSS instead.
		asan_test unit-fuzz 1 --suite unit --suite fuzz "$@"
		if [ "${VHU_SANITIZE_QUICK:-0}" = 1 ]; then
			asan_test hostile 0 --suite hostile "$@"
		else
			asan_test hostile-integration 0 --suite hostile --suite integration "$@"
		fi
		line="asan: $P passed, $F failed in $((SECONDS - t0)) s"
		summary+=("$line (logs: $ASAN_DIR/sanitize-*.log)")
		[ "$F" = 0 ] || rc_all=1
	else
		log "the ASan build failed; see $ASAN_DIR/sanitize-build.log"
		summary+=("asan: build failed")
		rc_all=1
	fi
fi

if [ "$STEP" = valgrind ] || [ "$STEP" = all ]; then
	t0=$SECONDS
	if ! command -v valgrind >/dev/null; then
		summary+=("valgrind: skipped (apt-get install valgrind)")
	elif setup "$VG_DIR" -Dbuildtype=debug &&
		ninja -C "$VG_DIR" >"$VG_DIR/sanitize-build.log" 2>&1; then
		meson test -C "$VG_DIR" --print-errorlogs --suite valgrind "$@" \
			>"$VG_DIR/sanitize-test.log" 2>&1
		rc=$?
		read -r p f < <(results "$VG_DIR")
		line="valgrind: $p passed, $f failed in $((SECONDS - t0)) s"
		summary+=("$line (log: $VG_DIR/meson-logs/testlog.txt)")
		[ $rc = 0 ] && [ "$f" = 0 ] || rc_all=1
	else
		log "the build for valgrind failed; see $VG_DIR/sanitize-build.log"
		summary+=("valgrind: build failed")
		rc_all=1
	fi
fi

for line in "${summary[@]}"; do
	echo "$line"
done
exit $rc_all
