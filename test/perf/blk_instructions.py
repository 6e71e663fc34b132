#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Instructions per request of vhu-blk, qemu-storage-daemon and vhu-blkgen.

The blk pair's wall-clock figures (blk_vs_qsd.py) swing with the machine's
load and with its fast and slow modes; the instructions each side executes
per request do not. This script counts them with valgrind's callgrind, one
side at a time under callgrind while the other runs at full speed, for the
cases of blk_vs_qsd.py (4 KiB random reads, one queue, a null device):

  vhu-blk     callgrind counts its poll loop only (--toggle-collect on
              blk_poll_once). callgrind_control zeroes the counts while the
              generator runs, waits --seconds and dumps them. A polling
              backend also polls when nothing is there (more often under
              callgrind, where it is slow): the idle polls are counted by
              calls (vhu_blk_dequeue_burst calls less vhu_blk_complete_burst
              calls) and their cost is measured apart, with the generator
              stopped (SIGSTOP), then taken off. Requests are bdev_submit
              calls.
  vhu-blkgen  the same, the generator under callgrind (its whole process)
              against vhu-blk at full speed: requests are vhu_vblk_submit
              calls, polls vhu_vblk_poll calls, busy polls complete_polled
              calls; the idle ones are measured with vhu-blk stopped.
  qsd         its whole process (the binary has no symbols to count calls
              by): two runs of vhu-blkgen --ios=N1 and --ios=N2 against a
              fresh qemu-storage-daemon each, the difference of the totals
              over N2 - N1 requests, so start-up, connection and shutdown
              cancel out. Its iothread runs with poll-max-ns=0: the adaptive
              busy-poll of an idle iothread would count time, not work.

Counts depend on the compiler, the DPDK and QEMU packages and the build, not
on the machine's load: two runs agree within a few instructions a request.

    python3 test/perf/blk_instructions.py                  # table
    python3 test/perf/blk_instructions.py --output i.json  # and JSON
    python3 test/perf/blk_instructions.py --sides vhu-blk --cases null-qd32
    python3 test/perf/blk_instructions.py --annotate   # where they go, by function
    python3 test/perf/blk_instructions.py --keep DIR   # dumps for callgrind_annotate

Needs valgrind (callgrind_control, vgdb) and a release build; exits 77 when
valgrind is missing. See doc/performance.md.
"""

import argparse
import datetime
import glob
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import blk_vs_qsd
import instructions
import text_table

EXIT_SKIP = 77
SIDES = ("vhu-blk", "vhu-blkgen", "qsd")
CASES = ("null-qd1", "null-qd32")
# Fair scheduling: a polling thread would otherwise starve the control thread
# that answers the peer, which gives up after seconds without a reply.
CALLGRIND = ["valgrind", "--tool=callgrind", "--fair-sched=yes", "--compress-strings=no",
             "--compress-pos=no"]
# What a request, a poll and a poll with work are, counted by calls, per side.
COUNTERS = {
    "vhu-blk": {"requests": "bdev_submit", "polls": "vhu_blk_dequeue_burst",
                "busy": "vhu_blk_complete_burst"},
    "vhu-blkgen": {"requests": "vhu_vblk_submit", "polls": "vhu_vblk_poll",
                   "busy": "complete_polled"},
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    build = os.environ.get("VHU_BUILD_DIR", os.path.join(blk_vs_qsd.REPO, "build"))
    p.add_argument("--blkgen", default=os.path.join(build, "app", "vhu-blkgen"))
    p.add_argument("--vhu-blk", default=os.path.join(build, "app", "vhu-blk"))
    p.add_argument("--qsd", default=shutil.which("qemu-storage-daemon"))
    p.add_argument("--cases", default=",".join(CASES),
                   help="comma-separated, of %s (default: %%(default)s)" % ", ".join(CASES))
    p.add_argument("--sides", default=",".join(SIDES),
                   help="comma-separated, of %s (default: %%(default)s)" % ", ".join(SIDES))
    p.add_argument("--seconds", type=float, default=4.0,
                   help="seconds each polled side is counted (default: %(default)s)")
    p.add_argument("--warmup", type=float, default=2.0,
                   help="seconds from the start to the count, for the connection "
                        "(default: %(default)s)")
    p.add_argument("--qsd-ios", default="4000,12000",
                   help="N1,N2 requests of qsd's two runs (default: %(default)s)")
    p.add_argument("--null-size", default="1G")
    p.add_argument("--backend-cpu", type=int, default=0)
    p.add_argument("--blkgen-cpu", type=int, default=1)
    p.add_argument("--output", help="also write the JSON result here")
    p.add_argument("--annotate", action="store_true",
                   help="also print where each polled side's instructions go: self cost "
                        "a request by function (busy count, idle polls included)")
    p.add_argument("--keep", metavar="DIR",
                   help="keep the callgrind dumps and logs in DIR (for callgrind_annotate)")
    a = p.parse_args()
    a.cases = [c for c in a.cases.split(",") if c]
    a.sides = [s for s in a.sides.split(",") if s]
    for c in a.cases:
        if c not in CASES:
            p.error(f"--cases: '{c}' is not a case; use {', '.join(CASES)}")
    for s in a.sides:
        if s not in SIDES:
            p.error(f"--sides: '{s}' is not a side; use {', '.join(SIDES)}")
    try:
        a.qsd_ios = [int(x) for x in a.qsd_ios.split(",")]
        if len(a.qsd_ios) != 2 or not 0 < a.qsd_ios[0] < a.qsd_ios[1]:
            raise ValueError
    except ValueError:
        p.error("--qsd-ios: give N1,N2 with 0 < N1 < N2")
    if a.seconds <= 0 or a.warmup < 0:
        p.error("--seconds must be more than 0 and --warmup at least 0")
    for path, what in ((a.blkgen, "vhu-blkgen"), (a.vhu_blk, "vhu-blk")):
        if not os.access(path, os.X_OK):
            p.error(f"{what} not found at {path}; build it (ninja -C build) or pass --{what}")
    if "qsd" in a.sides and (not a.qsd or not os.access(a.qsd, os.X_OK)):
        p.error("qemu-storage-daemon not found; install qemu-system-common, pass --qsd "
                "or leave qsd out of --sides")
    # blk_vs_qsd's helpers read these.
    a.file_size = "0"
    return a


def totals(text):
    """Instructions of one callgrind dump's text."""
    m = re.search(r"^totals: (\d+)", text, re.M) or re.search(r"^summary: (\d+)", text, re.M)
    if m is None:
        raise RuntimeError("a callgrind dump without totals")
    return int(m.group(1))


def calls(text):
    """{function: calls} of one uncompressed callgrind dump: each call site's
    calls= line, summed by the function called. A copy the compiler made of a
    function (name.constprop.0, name.isra.0) counts for the function."""
    out, callee = {}, None
    for line in text.splitlines():
        if line.startswith("cfn="):
            callee = line[4:].split(".")[0]
        elif line.startswith("calls=") and callee is not None:
            out[callee] = out.get(callee, 0) + int(line[6:].split()[0])
    return out


def control(pid, what, prefix):
    """Zero (-z) or dump (-d) the counts of callgrind process 'pid'; for a dump,
    the text of the new dump file."""
    before = set(glob.glob(prefix + ".*"))
    r = subprocess.run(["callgrind_control", what, str(pid)], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"callgrind_control {what} {pid} failed: {r.stderr.strip()}")
    if what != "-d":
        return None
    end = time.monotonic() + 30
    while time.monotonic() < end:
        new = sorted(set(glob.glob(prefix + ".*")) - before)
        if new:
            time.sleep(0.2)  # written whole before callgrind_control returns; be sure
            with open(new[-1]) as f:
                return f.read()
        time.sleep(0.1)
    raise RuntimeError(f"callgrind_control -d {pid} wrote no dump")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGCONT)
        blk_vs_qsd.stop(proc)


def counted(text, names):
    c = calls(text)
    return totals(text), {k: c.get(fn, 0) for k, fn in names.items()}


def print_annotation(what, text, requests):
    by_fn, _ = instructions.self_costs(text)
    print(f"==== {what}: self instructions a request by function ====", file=sys.stderr)
    for fn, ir in sorted(by_fn.items(), key=lambda x: -x[1]):
        if ir / requests >= 0.5:
            print("%8.1f  %s" % (ir / requests, fn), file=sys.stderr)


def measure_polled(args, side, depth, work, n):
    """Instructions per request of a polling side (vhu-blk or vhu-blkgen), the
    other side at full speed: a busy count, then an idle one to take off."""
    prefix = os.path.join(work, f"callgrind.{side}.{n}")
    vg = CALLGRIND + [f"--callgrind-out-file={prefix}.%p"]
    if side == "vhu-blk":
        vg += ["--collect-atstart=no", "--toggle-collect=blk_poll_once"]
    backend, sock, log = blk_vs_qsd.start_backend(args, "vhu-blk", "null", work, n,
                                                  wrap=vg if side == "vhu-blk" else ())
    gen_log = open(os.path.join(work, f"blkgen-{n}.log"), "w")
    gen = subprocess.Popen(blk_vs_qsd.blkgen_cmd(args, sock, depth, n, "--runtime=3600",
                                                 wrap=vg if side == "vhu-blkgen" else ()),
                           stdout=gen_log, stderr=subprocess.STDOUT)
    target, other = (backend, gen) if side == "vhu-blk" else (gen, backend)
    names = COUNTERS[side]
    try:
        time.sleep(args.warmup)
        for _ in range(30):  # until requests flow: the count starts after that
            if gen.poll() is not None or backend.poll() is not None:
                raise RuntimeError(f"{side} {depth}: a process exited early; see {log} "
                                   f"and {gen_log.name}")
            control(target.pid, "-z", prefix)
            time.sleep(1.0)
            if counted(control(target.pid, "-d", prefix), names)[1]["requests"] > 0:
                break
        else:
            raise RuntimeError(f"{side} {depth}: no request in 30 s; see {log} and "
                               f"{gen_log.name}")
        control(target.pid, "-z", prefix)
        time.sleep(args.seconds)
        busy_text = control(target.pid, "-d", prefix)
        busy_ir, busy = counted(busy_text, names)
        other.send_signal(signal.SIGSTOP)
        time.sleep(0.5)  # what was in flight completes
        control(target.pid, "-z", prefix)
        time.sleep(1.0)
        idle_ir, idle = counted(control(target.pid, "-d", prefix), names)
        other.send_signal(signal.SIGCONT)
    finally:
        stop(gen)
        stop(backend)
        gen_log.close()
    if args.annotate:
        print_annotation(f"{side} qd{depth}", busy_text, busy["requests"])
    return polled_result(busy_ir, busy, idle_ir, idle)


def polled_result(busy_ir, busy, idle_ir, idle):
    """Instructions a request of a polling side from its busy count (instructions,
    and the counts of requests, polls and busy polls) and its idle one (every
    poll idle): the busy count less its idle polls at the idle count's cost a poll."""
    per_idle = idle_ir / idle["polls"] if idle["polls"] else 0.0
    idle_polls = max(busy["polls"] - busy["busy"], 0)
    work_ir = busy_ir - idle_polls * per_idle
    return {"per_request": round(work_ir / busy["requests"], 1),
            "requests": busy["requests"],
            "requests_per_busy_poll": round(busy["requests"] / max(busy["busy"], 1), 2),
            "idle_polls_per_request": round(idle_polls / busy["requests"], 3),
            "per_idle_poll": round(per_idle, 1),
            "instructions": busy_ir}


def qsd_total(args, depth, ios, work, n):
    """qemu-storage-daemon's whole instructions over one vhu-blkgen --ios=N run."""
    prefix = os.path.join(work, f"callgrind.qsd.{n}")
    vg = CALLGRIND + [f"--callgrind-out-file={prefix}.%p"]
    qsd, sock, log = blk_vs_qsd.start_backend(args, "qsd", "null", work, n, wrap=vg,
                                              iothread=",poll-max-ns=0")
    try:
        r = subprocess.run(blk_vs_qsd.blkgen_cmd(args, sock, depth, n, f"--ios={ios}"),
                           capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            raise RuntimeError(f"vhu-blkgen against qsd failed: {r.stderr.strip()[-1500:]}")
    finally:
        blk_vs_qsd.stop(qsd, timeout=120)  # callgrind writes its counts at the exit
    dumps = glob.glob(prefix + ".*")
    if len(dumps) != 1:
        raise RuntimeError(f"qsd under callgrind left {len(dumps)} dumps; see {log}")
    with open(dumps[0]) as f:
        return totals(f.read())


def measure_qsd(args, depth, work, n):
    n1, n2 = args.qsd_ios
    t1 = qsd_total(args, depth, n1, work, n)
    t2 = qsd_total(args, depth, n2, work, n + 1)
    return {"per_request": round((t2 - t1) / (n2 - n1), 1), "requests": n2 - n1,
            "instructions": t2 - t1}


def table(results):
    rows = [["case", "side", "instr/request", "requests", "requests/busy poll",
             "idle polls/request", "instr/idle poll"]]
    for case, per in results.items():
        for side, r in per.items():
            rows.append([case, side, "%.1f" % r["per_request"], str(r["requests"]),
                         "%.2f" % r["requests_per_busy_poll"] if "per_idle_poll" in r else "-",
                         "%.3f" % r["idle_polls_per_request"] if "per_idle_poll" in r else "-",
                         "%.1f" % r["per_idle_poll"] if "per_idle_poll" in r else "-"])
    lines = text_table.render(rows)
    lines.append("callgrind instructions a request, idle polls taken off (vhu-blk: its poll "
                 "loop; vhu-blkgen and qsd: the whole process)")
    return "\n".join(lines)


def main():
    args = parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("blk_instructions: valgrind is not installed (Debian package valgrind)",
              file=sys.stderr)
        sys.exit(EXIT_SKIP)
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    work = args.keep or tempfile.mkdtemp(prefix="vhu-blk-instr.")
    results, n = {}, 0
    try:
        for case in args.cases:
            depth = blk_vs_qsd.CASES[case][1]
            results[case] = {}
            for side in args.sides:
                n += 2
                if side == "qsd":
                    r = measure_qsd(args, depth, work, n)
                else:
                    r = measure_polled(args, side, depth, work, n)
                results[case][side] = r
                print(f"{case:10} {side:10} {r['per_request']:9.1f} instructions a request",
                      file=sys.stderr)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        sys.exit(f"blk_instructions: {e}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    out = {
        "benchmark": "blk_instructions",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release()},
        "config": {"rw": "randread", "bs": 4096, "queues": 1, "seconds": args.seconds,
                   "qsd_ios": args.qsd_ios,
                   "valgrind": subprocess.run(["valgrind", "--version"], capture_output=True,
                                              text=True).stdout.strip()},
        "results": results,
    }
    text = json.dumps(out, indent=2)
    print(text)
    print(table(results))
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
