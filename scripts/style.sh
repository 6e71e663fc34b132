#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The style gates of STYLE.md that a machine can check:
#
#   scripts/style.sh [BASE]
#
#   format   the C lines a change touches are formatted as .clang-format says
#            (git clang-format against BASE: by default the merge base of
#            HEAD with main, else with origin/main; lines the change did not
#            touch are never reported). The change is HEAD and the work tree's
#            tracked files: git add a new file for it to be checked.
#   tokens   no exit, _exit, abort, rte_exit, rte_panic, printf, puts,
#            putchar, fprintf/fputs to stdout, or assert in lib/ and drivers/
#            (rule 5: a library never owns the loop and never exits; it logs
#            through rte_log and checks peer data with one-line ifs), outside
#            comments and string literals.
#
# Each finding is one line "FILE:LINE: what is wrong; what to do", then a
# summary line. Exit status: 0 clean, 1 a finding, 77 when the format gate
# could not run (no clang-format, or no base to compare with) and the token
# gate found nothing.

set -u
cd "$(dirname "$0")/.." || exit 1
exec python3 - "$@" <<'EOF'
import os
import re
import shutil
import subprocess
import sys

problems = []
skipped = []


def git(*args):
    return subprocess.run(["git", *args], capture_output=True, text=True)


# ---- format: the lines changed since the base ----

def find_base():
    if len(sys.argv) > 1:
        return sys.argv[1]
    for ref in ("main", "origin/main"):
        if git("rev-parse", "-q", "--verify", ref + "^{commit}").returncode == 0:
            r = git("merge-base", "HEAD", ref)
            if r.returncode == 0:
                return r.stdout.strip()
    return None


def check_format():
    base = find_base()
    if shutil.which("git-clang-format") is None or shutil.which("clang-format") is None:
        skipped.append("format gate skipped: git-clang-format is missing "
                       "(apt-get install clang-format)")
        return
    if base is None:
        skipped.append("format gate skipped: no main or origin/main to compare with; "
                       "name a base commit: scripts/style.sh BASE")
        return
    r = git("clang-format", "--diff", "--extensions", "c,h", base, "--")
    out = r.stdout
    if r.returncode > 1 or (out.strip() and "@@" not in out and "modif" not in out):
        problems.append("git clang-format %s failed: %s" % (base, (r.stderr or out).strip()))
        return
    short = base[:12]
    path, old, bad = None, 0, []

    def report():
        # One finding per hunk: the work tree's lines clang-format would change.
        if path is not None and bad:
            where = "%d" % bad[0] if len(bad) == 1 else "%d-%d" % (bad[0], bad[-1])
            problems.append("%s:%s: not formatted as .clang-format says; to fix: "
                            "git clang-format %s (to see how: git clang-format --diff %s)"
                            % (path, where, short, short))
        bad.clear()

    for line in out.splitlines():
        m = re.match(r"^\+\+\+ b/(.*)$", line)
        h = re.match(r"^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@", line)
        if m or h or line.startswith("diff "):
            report()
        if m:
            path = m.group(1)
        elif h:
            old = int(h.group(1))
        elif line.startswith("-") and not line.startswith("---"):
            bad.append(old)
            old += 1
        elif line.startswith(" "):
            old += 1
    report()


# ---- tokens: what a library must never call (STYLE.md rule 5) ----

FORBIDDEN = [
    (re.compile(r"(?<![\w.>])(exit|_exit|_Exit|abort|rte_exit|rte_panic)\s*\("),
     "a library never exits or aborts: return -errno (or NULL with rte_errno set) "
     "and let the application decide"),
    (re.compile(r"(?<![\w.>])(printf|puts|putchar|vprintf)\s*\("),
     "a library never prints to stdout: log with rte_log through the module's log macro"),
    (re.compile(r"(?<![\w.>])(fprintf|fputs|vfprintf|fputc)\s*\((?:[^;]*,\s*)?stdout\b"),
     "a library never prints to stdout: log with rte_log through the module's log macro"),
    (re.compile(r"(?<![\w.>])(assert|RTE_ASSERT|RTE_VERIFY)\s*\("),
     "no assert in a library: check peer data with an if, latch the ring or device "
     "broken and report it once (RTE_BUILD_BUG_ON for what the compiler can check)"),
]


def blank_comments_and_strings(text):
    """Replace comments and string/char literals by spaces, keeping newlines."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + text[j - 1:j])
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def check_tokens():
    files = git("ls-files", "--cached", "--others", "--exclude-standard",
                "lib", "drivers").stdout.split()
    for path in sorted(f for f in files if f.endswith((".c", ".h"))):
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            code = blank_comments_and_strings(f.read())
        for lineno, line in enumerate(code.splitlines(), 1):
            for pattern, why in FORBIDDEN:
                m = pattern.search(line)
                if m:
                    problems.append("%s:%d: %s() in a library; %s"
                                    % (path, lineno, m.group(1), why))


check_format()
check_tokens()
for p in problems:
    print(p)
for s in skipped:
    print("style: " + s, file=sys.stderr)
if problems:
    print("style: %d problem(s): fix them, or say in the commit message why the rule "
          "does not apply (STYLE.md)" % len(problems))
    sys.exit(1)
print("style: clean" + (" (format gate skipped)" if skipped else ""))
sys.exit(77 if skipped else 0)
EOF
