#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Sets the machine up for the tests (scripts/setup.sh --test: packages,
# hugepages, build), runs every test suite that exists with meson test (unit,
# integration, interop, qemu, fuzz, perf: its instruction-count gate), the
# style gates (scripts/style.sh), and ends with one line:
#
#   N passed, N failed[, N skipped]
#
# Exit status: 0 when no test failed and at least one passed, else 1.
#
#   sudo ./scripts/test.sh [meson test options, e.g. --suite unit]
#
# The busy-polling suites register themselves as not parallel, so meson runs
# them one at a time, after the others. Logs: <build>/meson-logs/testlog.txt.
# Environment: those of scripts/setup.sh and scripts/lib.sh, and
# VHU_TEST_REFERENCE=1 to run the suite "reference" too (tests run against
# other projects' backends to check the tests themselves).

set -u
VHU_PROG='test'
# shellcheck source=scripts/setup.sh
. "$(dirname "$0")/setup.sh"

if ! vhu_setup --test; then
	vhu_log "set-up failed (see above), so no test ran; counted as one failure"
	echo "0 passed, 1 failed"
	exit 1
fi

log=$VHU_BUILD_DIR/meson-logs/testlog.json
rm -f "$log"
# Reference runs (the same tests against another project's backend, to show
# the tests are right) only when asked for, or when the caller picks suites.
reference=()
if [ $# -eq 0 ] && [ "${VHU_TEST_REFERENCE:-0}" != 1 ]; then
	reference=(--no-suite reference)
fi
meson test -C "$VHU_BUILD_DIR" --print-errorlogs "${reference[@]}" "$@"
rc=$?

if [ ! -f "$log" ]; then
	vhu_log "meson test wrote no $log (exit status $rc); counted as one failure"
	echo "0 passed, 1 failed"
	exit 1
fi

# One JSON object per test. Pass: OK, EXPECTEDFAIL; skip: SKIP; everything
# else (FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS) is a failure.
read -r passed failed skipped < <(python3 - "$log" <<'EOF'
import json, sys
counts = {"pass": 0, "fail": 0, "skip": 0}
with open(sys.argv[1]) as f:
    for line in f:
        if line.strip():
            result = json.loads(line).get("result", "")
            kind = {"OK": "pass", "EXPECTEDFAIL": "pass", "SKIP": "skip"}.get(result, "fail")
            counts[kind] += 1
print(counts["pass"], counts["fail"], counts["skip"])
EOF
)

# The style gates (scripts/style.sh: clang-format on the lines a change
# touches, and the calls a library must never make), one counted step;
# seconds, so it runs with VHU_TEST_QUICK=1 too.
if [ $# -eq 0 ]; then
	vhu_log "running the style step: scripts/style.sh"
	bash "$(dirname "$0")/style.sh" </dev/null
	case $? in
	0) passed=$((passed + 1)); vhu_log "style: passed" ;;
	77) skipped=$((skipped + 1)); vhu_log "style: skipped (see above why)" ;;
	*) failed=$((failed + 1)); rc=1; vhu_log "style: FAILED (the lines above name each file and line)" ;;
	esac
fi

# Beyond meson's suites: the sanitizer build (unit, fuzz corpus, hostile and
# integration suites under ASan+UBSan, control-plane tests under valgrind) and
# a short libFuzzer campaign per target. Each counts as one test. Skipped with
# VHU_TEST_QUICK=1 (about 15 minutes less).
if [ "${VHU_TEST_QUICK:-0}" != 1 ] && [ $# -eq 0 ]; then
	for step in "sanitize:$(dirname "$0")/sanitize.sh" \
		"fuzz:$(dirname "$0")/../test/fuzz/run.sh ${VHU_FUZZ_SECONDS:-30}"; do
		name=${step%%:*}
		vhu_log "running the $name step: ${step#*:}"
		# shellcheck disable=SC2086
		bash ${step#*:} </dev/null
		case $? in
		0) passed=$((passed + 1)); vhu_log "$name: passed" ;;
		77) skipped=$((skipped + 1)); vhu_log "$name: skipped (see above why)" ;;
		*) failed=$((failed + 1)); rc=1; vhu_log "$name: FAILED (see above)" ;;
		esac
	done
fi

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
if [ "$failed" -eq 0 ] && [ "$passed" -eq 0 ]; then
	vhu_log "no test passed: nothing was tested"
	echo "$summary"
	exit 1
fi
echo "$summary"
[ "$failed" -eq 0 ] && [ "$rc" -eq 0 ]
