#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Exact instructions per packet of each burst path, vhu's and DPDK's.

Runs burst_cost (built with the tests) under valgrind's callgrind, once per
implementation, and reads the instructions that each path's burst calls
executed (burst_cost toggles collection around the calls only, and dumps the
counts of each path under its name). Paths are the backends' (vhu's library
against DPDK's librte_vhost), the front-ends' ("front/...": vhu's virtio-user
port against DPDK's net_virtio_user, both on vhu's backend) and idle polls
("...-idle", counted per poll). Instruction counts do not depend on the machine's
load, so they repeat exactly from run to run; they depend on the compiler,
the DPDK package and the instruction set valgrind reports, which the JSON
records.

    python3 test/perf/instructions.py                 # table of vhu vs DPDK
    python3 test/perf/instructions.py --output i.json # and the JSON
    python3 test/perf/instructions.py --check         # the CI gate (vhu only)
    python3 test/perf/instructions.py --update-baseline
    python3 test/perf/instructions.py --annotate packed/g2h-64/io1

--check compares vhu's counts with the committed baseline
(test/perf/baseline-instructions.json) and fails, naming the path and both
figures, when one costs more than --tolerance percent (2) over it. Exit
status: 0 pass, 1 fail, 2 usage, 77 skip (no valgrind, or a build that
valgrind cannot run, such as a sanitizer build).
"""

import argparse
import datetime
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import text_table

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BASELINE = os.path.join(HERE, "baseline-instructions.json")
EXIT_SKIP = 77
EAL_ARGS = ["--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry",
            "-l", "0", "--log-level=*:warning"]
BACKENDS = ("vhu", "dpdk")


class Skip(Exception):
    """The measurement cannot run here; the message says why."""


def per_packet(instructions, packets):
    """Instructions per packet, to two decimals (what the baseline stores)."""
    return round(instructions / packets, 2)


def parse_dump(text):
    """(label, instructions) of one callgrind dump file's text, or None."""
    label = re.search(r"^desc: Trigger: Client Request: (.+)$", text, re.M)
    total = re.search(r"^totals: (\d+)", text, re.M) or re.search(r"^summary: (\d+)", text, re.M)
    if label is None or total is None:
        return None
    return label.group(1).strip(), int(total.group(1))


def parse_paths(stdout):
    """{path: (packets, features)} from burst_cost's 'path=...' lines."""
    out = {}
    for m in re.finditer(r"^path=(\S+) backend=(\S+) packets=(\d+) features=(0x[0-9a-f]+)$",
                         stdout, re.M):
        out[m.group(1)] = (int(m.group(3)), m.group(4))
    return out


def results_of(backend, stdout, dumps):
    """{path: {"instructions", "packets", "per_packet", "features"}} for one backend.
    'dumps' is [(label, instructions)]; a path burst_cost reported but callgrind
    did not dump (or the other way round) is an error."""
    paths = parse_paths(stdout)
    counted = {}
    for label, ir in dumps:
        be, _, path = label.partition(" ")
        if be == backend:
            counted[path] = ir
    if set(paths) != set(counted):
        raise RuntimeError("%s: paths reported %s but dumped %s"
                           % (backend, sorted(paths), sorted(counted)))
    return {p: {"instructions": counted[p], "packets": paths[p][0],
                "per_packet": per_packet(counted[p], paths[p][0]), "features": paths[p][1]}
            for p in paths}


def check(baseline, current, tolerance):
    """Compare vhu's per-packet counts with the baseline's.
    Returns (failures, notes): lines naming the path and both figures."""
    failures, notes = [], []
    for path, base in sorted(baseline.items()):
        now = current.get(path)
        if now is None:
            failures.append("%s: in the baseline (%.2f instructions/packet) but not measured"
                            % (path, base))
            continue
        change = (now - base) / base * 100
        if now > base * (1 + tolerance / 100):
            failures.append("%s: %.2f instructions/packet, baseline %.2f (%+.1f %%, limit +%g %%)"
                            % (path, now, base, change, tolerance))
        elif now < base * (1 - tolerance / 100):
            notes.append("%s: %.2f instructions/packet, baseline %.2f (%+.1f %%): cheaper"
                         % (path, now, base, change))
    for path in sorted(set(current) - set(baseline)):
        notes.append("%s: %.2f instructions/packet, not in the baseline" % (path, current[path]))
    return failures, notes


def table(results):
    """The readable table: per path, each backend's instructions per packet and DPDK / vhu."""
    backends = [b for b in BACKENDS if any(b in r for r in results)]
    head = ["path"] + backends + (["dpdk/vhu"] if len(backends) == 2 else [])
    rows = [head]
    for r in results:
        row = [r["path"]] + ["%.1f" % r[b] if b in r else "-" for b in backends]
        if len(backends) == 2:
            row.append("%.2f" % r["ratio"] if "ratio" in r else "-")
        rows.append(row)
    lines = text_table.render(rows)
    lines.append("instructions per packet in the measured burst calls (callgrind): the "
                 "backend's, on front/ paths the front-end's, on -idle paths per empty poll" +
                 ("; dpdk/vhu above 1: vhu is cheaper" if len(backends) == 2 else ""))
    return "\n".join(lines)


def merge(per_backend):
    """One row per path with both backends' figures and DPDK / vhu."""
    paths = []
    for res in per_backend.values():
        paths += [p for p in res if p not in paths]
    rows = []
    for p in paths:
        row = {"path": p}
        for be, res in per_backend.items():
            if p in res:
                row[be] = res[p]["per_packet"]
                row[be + "_instructions"] = res[p]["instructions"]
                row[be + "_packets"] = res[p]["packets"]
                row[be + "_features"] = res[p]["features"]
        if row.get("vhu") and row.get("dpdk"):
            row["ratio"] = round(row["dpdk"] / row["vhu"], 3)
        rows.append(row)
    return rows


def build_info(build):
    """Build options that change instruction counts, from meson's introspection."""
    info = {}
    try:
        with open(os.path.join(build, "meson-info", "intro-buildoptions.json")) as f:
            for o in json.load(f):
                if o["name"] in ("buildtype", "optimization", "b_sanitize", "c_args", "b_lto"):
                    info[o["name"]] = o["value"]
    except (OSError, ValueError, KeyError):
        pass
    return info


def compiler(build):
    """The first line of --version of the C compiler meson built burst_cost with."""
    try:
        with open(os.path.join(build, "meson-info", "intro-targets.json")) as f:
            cmd = [t["target_sources"][0]["compiler"] for t in json.load(f)
                   if t["name"] == "burst_cost"][0]
        out = subprocess.run([cmd[0], "--version"], capture_output=True, text=True,
                             check=False).stdout
        return out.splitlines()[0] if out else ""
    except (OSError, ValueError, KeyError, IndexError):
        return ""


def copy_moves():
    """The moves vhu's packet copy takes in this environment (vhost_net_copy.h)."""
    try:
        with open("/proc/cpuinfo") as f:
            avx2 = any(line.startswith("flags") and " avx2" in line for line in f)
    except OSError:
        avx2 = False
    return "32-byte" if avx2 and os.environ.get("VHU_COPY_AVX2") != "0" else "16-byte"


def environment(build):
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=False,
                                  cwd=TOP).stdout.strip()
        except OSError:
            return ""
    return {"valgrind": out(["valgrind", "--version"]),
            "cc": compiler(build),
            "dpdk": out(["pkg-config", "--modversion", "libdpdk"]),
            "copy": copy_moves(),
            "vhu": out(["git", "describe", "--always", "--dirty"]),
            "build": build_info(build)}


def run_backends(args, backends, workdir):
    """Start one callgrind run per backend (concurrently), wait, read the dumps."""
    procs = {}
    for be in backends:
        # Names uncompressed: each dump is then readable alone (callgrind_annotate).
        cmd = ["valgrind", "--tool=callgrind", "--collect-atstart=no",
               "--compress-strings=no", "--compress-pos=no",
               "--callgrind-out-file=" + os.path.join(workdir, "callgrind.%s.%%p" % be),
               args.burst_cost] + EAL_ARGS + ["--", "--backend", be, "--dir", workdir,
                                              "--bursts", str(args.bursts),
                                              "--warmup", str(args.warmup)]
        if args.paths:
            cmd += ["--paths", args.paths]
        log = open(os.path.join(workdir, be + ".log"), "w")
        # valgrind hides the CPU's PREFETCHW bit: count the path CPUs that
        # have it take (lib/common/vhu_prefetch.c), unless told otherwise.
        env = dict(os.environ)
        env.setdefault("VHU_PREFETCHW", "1")
        procs[be] = (subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True,
                                      env=env), log)
    per_backend = {}
    for be, (proc, log) in procs.items():
        stdout, _ = proc.communicate()
        log.close()
        if proc.returncode != 0:
            with open(log.name) as f:
                tail = f.read()[-3000:]
            raise RuntimeError("burst_cost --backend %s failed (exit %d):\n%s"
                               % (be, proc.returncode, tail))
        dumps = []
        for name in glob.glob(os.path.join(workdir, "callgrind.%s.*.*" % be)):
            with open(name) as f:
                d = parse_dump(f.read())
            if d is not None:
                dumps.append(d)
        per_backend[be] = results_of(be, stdout, dumps)
    return per_backend


def self_costs(text):
    """Self instructions of one uncompressed callgrind dump, summed by function
    and by source line: ({function: Ir}, {(file, line): Ir}). Inlined code
    counts for the function it was inlined into, under its own file (fi=/fe=);
    the cost line after a calls= line is the call's inclusive cost, not self."""
    by_fn, by_line = {}, {}
    fl = fi = fn = None
    after_call = False
    for line in text.splitlines():
        if line.startswith("fl="):
            fl, fi = line[3:], None
        elif line.startswith(("fi=", "fe=")):
            fi = line[3:]
        elif line.startswith("fn="):
            fn, fi = line[3:], None
        elif line.startswith("calls="):
            after_call = True
        else:
            m = re.match(r"^(\d+) (\d+)$", line)
            if m is None:
                continue
            if after_call:
                after_call = False
                continue
            ir = int(m.group(2))
            by_fn[fn] = by_fn.get(fn, 0) + ir
            key = (os.path.basename(fi or fl or "???"), int(m.group(1)))
            by_line[key] = by_line.get(key, 0) + ir
    return by_fn, by_line


def annotate(workdir, path, backends, packets):
    """Where each backend's instructions go on one path, per packet: by function
    and, when the build has debug information (-Ddebug=true), by source line."""
    for be in backends:
        for name in glob.glob(os.path.join(workdir, "callgrind.%s.*.*" % be)):
            with open(name) as f:
                text = f.read()
            d = parse_dump(text)
            if d is None or d[0] != "%s %s" % (be, path):
                continue
            n = packets[be]
            by_fn, by_line = self_costs(text)
            print("==== %s %s: %.1f instructions per packet, self cost by function ===="
                  % (be, path, d[1] / n))
            for fn, ir in sorted(by_fn.items(), key=lambda x: -x[1]):
                if ir / n >= 0.05:
                    print("%8.1f  %s" % (ir / n, fn))
            lines = [(k, ir) for k, ir in by_line.items() if k[1] != 0]
            if sum(ir for _, ir in lines) >= d[1] / 2:
                files = {}
                for (f, _), ir in lines:
                    files[f] = files.get(f, 0) + ir
                print("---- by source file (inlined code under its own file) ----")
                for f, ir in sorted(files.items(), key=lambda x: -x[1]):
                    if ir / n >= 0.05:
                        print("%8.1f  %s" % (ir / n, f))
                print("---- by source line (top 25) ----")
                for (f, ln), ir in sorted(lines, key=lambda x: -x[1])[:25]:
                    print("%8.1f  %s:%d" % (ir / n, f, ln))
            else:
                print("(little line information: build with -Ddebug=true for it)")


def shown_path(path):
    """'path' relative to the top of the tree when it lies inside it."""
    rel = os.path.relpath(os.path.abspath(path), TOP)
    return path if rel.startswith("..") else rel


def load_baseline(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise Skip("no baseline at %s; make one with --update-baseline" % path) from None


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.environ.get("VHU_BUILD_DIR", os.path.join(TOP, "build")),
                    help="meson build directory (default: build)")
    ap.add_argument("--burst-cost", help="the burst_cost binary (default: in --build)")
    ap.add_argument("--backends", default="vhu,dpdk",
                    help="whose code to measure: vhu,dpdk (default both)")
    ap.add_argument("--paths", help="only paths whose name contains this, e.g. packed/g2h")
    ap.add_argument("--bursts", type=int, default=64, help="counted bursts of 32 per path")
    ap.add_argument("--warmup", type=int, default=64, help="uncounted bursts before them")
    ap.add_argument("--output", help="write the JSON there ('-': stdout, the table to stderr)")
    ap.add_argument("--check", nargs="?", const=BASELINE, metavar="BASELINE",
                    help="gate: fail if a vhu path costs more than --tolerance over BASELINE")
    ap.add_argument("--tolerance", type=float, default=2.0, help="percent (default 2)")
    ap.add_argument("--update-baseline", nargs="?", const=BASELINE, metavar="BASELINE",
                    help="write vhu's counts as the new baseline (commit it, with the reason)")
    ap.add_argument("--annotate", metavar="PATH",
                    help="also print where PATH's instructions go, per packet, by function "
                    "(and by source line with a -Ddebug=true build)")
    args = ap.parse_args(argv)
    args.backends = [b for b in args.backends.split(",") if b]
    if not args.backends or any(b not in BACKENDS for b in args.backends):
        ap.error("--backends takes vhu and/or dpdk")
    if (args.check or args.update_baseline) and "vhu" not in args.backends:
        ap.error("--check and --update-baseline need vhu among --backends")
    if args.bursts < 1 or args.warmup < 1:
        ap.error("--bursts and --warmup must be at least 1")
    if args.check and args.update_baseline is None:
        # The gate measures exactly as the baseline was measured, vhu only.
        base = load_baseline(args.check)
        args.bursts, args.warmup = base["bursts"], base["warmup"]
        args.backends = ["vhu"]
    if args.burst_cost is None:
        args.burst_cost = os.path.join(args.build, "test", "perf", "burst_cost")
    return args


def main(argv):
    try:
        args = parse_args(argv)
        if shutil.which("valgrind") is None:
            raise Skip("valgrind is not installed (Debian package valgrind)")
        if not os.access(args.burst_cost, os.X_OK):
            raise Skip("%s is not built (it needs valgrind/callgrind.h at configure time)"
                       % args.burst_cost)
        if build_info(args.build).get("b_sanitize", "none") != "none":
            raise Skip("a sanitizer build: valgrind cannot run it; use a release build")
        if args.check and not args.update_baseline:
            base = load_baseline(args.check)["environment"].get("build", {})
            now = build_info(args.build)
            for key in ("optimization", "c_args", "b_lto"):
                if key in base and key in now and base[key] != now[key]:
                    raise Skip("the baseline was measured with %s=%r, this build has %r: "
                               "its counts are not comparable (gate a release build)"
                               % (key, base[key], now[key]))
            # Long copies take 32-byte moves where the CPU has AVX2: measure
            # with the moves the baseline had, or say why that cannot be.
            moves = load_baseline(args.check)["environment"].get("copy")
            if moves == "16-byte":
                os.environ["VHU_COPY_AVX2"] = "0"
            elif moves == "32-byte" and copy_moves() != moves:
                raise Skip("the baseline was measured with 32-byte copies (AVX2) and this "
                           "CPU has no AVX2 (or VHU_COPY_AVX2=0): its counts are not "
                           "comparable; gate on a CPU with AVX2")
    except Skip as e:
        print("SKIP: %s" % e, file=sys.stderr)
        return EXIT_SKIP
    workdir = tempfile.mkdtemp(prefix="vhu-instructions.")
    try:
        per_backend = run_backends(args, args.backends, workdir)
        if args.annotate:
            annotate(workdir, args.annotate, args.backends,
                     {be: res[args.annotate]["packets"] for be, res in per_backend.items()
                      if args.annotate in res})
    except RuntimeError as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    rows = merge(per_backend)
    doc = {"benchmark": "instructions",
           "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
           "config": {"bursts": args.bursts, "warmup": args.warmup, "burst": 32,
                      "ring_size": 256, "paths": args.paths},
           "environment": environment(args.build),
           "results": rows}
    text = table(rows)
    if args.output == "-":
        print(json.dumps(doc, indent=2))
        print(text, file=sys.stderr)
    else:
        if args.output:
            with open(args.output, "w") as f:
                json.dump(doc, f, indent=2)
                f.write("\n")
        print(text)

    vhu = {p: r["per_packet"] for p, r in per_backend.get("vhu", {}).items()}
    if args.update_baseline:
        base = {"bursts": args.bursts, "warmup": args.warmup,
                "environment": doc["environment"], "instructions_per_packet": vhu}
        base["environment"].pop("vhu", None)
        with open(args.update_baseline, "w") as f:
            json.dump(base, f, indent=2, sort_keys=True)
            f.write("\n")
        print("wrote %s: commit it, and say in the message why the counts changed"
              % args.update_baseline, file=sys.stderr)
        return 0
    if args.check:
        base = load_baseline(args.check)
        wanted = base["instructions_per_packet"]
        if args.paths:
            wanted = {p: v for p, v in wanted.items() if args.paths in p}
        failures, notes = check(wanted, vhu, args.tolerance)
        for n in notes:
            print("note: " + n, file=sys.stderr)
        env = environment(args.build)
        for key in ("cc", "dpdk", "valgrind"):
            if base["environment"].get(key) != env.get(key):
                print("note: the baseline was measured with %s %r, this run with %r: counts "
                      "may differ for that reason alone"
                      % (key, base["environment"].get(key), env.get(key)), file=sys.stderr)
        if failures:
            for f in failures:
                print("FAIL: " + f, file=sys.stderr)
            print("If the increase is deliberate, run `python3 test/perf/instructions.py "
                  "--update-baseline` and commit %s with the reason in the message."
                  % shown_path(args.check), file=sys.stderr)
            return 1
        print("PASS: %d paths within +%g %% of the baseline" % (len(wanted), args.tolerance),
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
