#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vhu's vhost-user backend and frontend against DPDK's, each with the same peer.

Every comparison runs two DPDK processes connected by a vhost-user socket: a
backend (the vhost-user server, the host's side) and a frontend (the guest's
side). A suite compares a subject set-up with a reference set-up that differ
in one part only, for both directions:

  g2h (guest to host): the frontend sends (txonly), the backend receives (rxonly)
  h2g (host to guest): the backend sends (txonly), the frontend receives (rxonly)

Suites (--suites, default all):

  backend   vhu-pmd's vhost-user port against dpdk-testpmd's net_vhost, both
            driven by dpdk-testpmd's virtio-user; split ring. Target 1.3.
  packed    the same on a packed ring (virtio-user packed_vq=1). Target 1.3.
  frontend  vhu-pmd's virtio-user port against dpdk-testpmd's virtio-user,
            both driving dpdk-testpmd's net_vhost; split ring. Target 1.3.
  iommu     vhu's frontend (iommu=1) and backend (iommu-support=1) with a
            vIOMMU against the same pair without it. Target 0.8.

The primary figure is the receiver's CPU cycles per packet, which both
applications print when forwarding stops (dpdk-testpmd with
--record-core-cycles, vhu-pmd always). They count only the polls that moved
packets, so they measure the receiver's own cost whoever limits the rate;
they are bimodal like Mpps (fewer packets per busy poll in the machine's
slow mode), so a case's headline pairs runs that met the same machine (the
same floor, below): each side's cheapest run on the floor class both sides
met twice, with the spread of its runs there (half the range, as a share),
and the ratio reference / subject (above 1: the subject costs less), against
the suite's target. --queues N gives every port N queue pairs, all polled by
the one forwarding lcore.

For h2g the receiver is the frontend, whose cost says nothing about the
backend. The backend and packed suites therefore also count, in every run,
the backend's burst cycles per packet: the TSC cycles inside the
application's calls into the backend that moved packets, over the packets
they moved. dpdk-testpmd runs unchanged with the LD_PRELOAD interposer
vhost_burst_cycles.so (test/perf/vhost_burst_cycles.c, around
rte_vhost_enqueue_burst/dequeue_burst, on DPDK's librte_vhost or vhu's), also
when --vhu-pmd is a script named *testpmd*; vhu-pmd's vhost-user port counts
the same with burst-cycles=1. For h2g that figure is the primary one (the
table's c/p and the ratio); for g2h the receiver's stays primary and the
burst figure is shown beside it, from the same runs as the headline (its
floor class, below). The JSON keeps both.

Before and after each run, test/perf/c2c measures the machine's
core-to-core floor between the two forwarding CPUs; runs whose two floors
agree are fast (<= 100 ns) or slow, the others moved. Each case runs
--repeats times per set-up, alternating which goes first, so that a slow
period of the machine does not favour one side, and then on (up to
--max-repeats) until both sides have two runs in one class (more_runs()).
The headline's class is fast when both have two fast runs, else slow
(cycles_basis); when no class has two runs of each, or no floor was
measured (no c2c), the headline falls back to each side's lowest run that a
second run confirms within 20 % (cycles_mode()), and without floors the
case runs until those and the best Mpps are confirmed. Each side's figure
alone is kept beside the headline (*_cycles_alone, cycles_ratio_alone):
it can pair one side's fast run with the other's slow one. See
doc/performance.md, "The same floor".

Mpps are kept, from the same runs. A run measures the receiver's rate from
its periodic statistics over the steady part of --duration seconds (the
periods wholly inside the traffic, less two seconds of warm-up, joined into
stretches of two seconds), and its result is the best rate over at least
--window seconds of consecutive stretches; the best run of each set-up is
compared (mpps_ratio). The machine moves the pair between a fast and a slow
mode, between runs and within a run, for either software alike; see
doc/performance.md.

Progress goes to stderr, the JSON (every run, every second) to --output, and
stdout ends with a table: case, DPDK and vhu cycles per packet, ratio, target,
met, the basis ("fast 2/3": the class and each side's runs in it, or
"alone") and the ratio of each side alone. Not part of the test run and
asserts nothing.

  vhost_vs_dpdk.py compare OLD.json NEW.json [--plots DIR]

prints each case's change in cycles per packet between two result files
with its noise band (no verdict between a fast-floor and a slow-floor
headline: that compares the machine's modes), and with --plots writes PNG
plots (matplotlib): the per-second rates of both sides of each case and the
ratios. Needs root (or hugepage and runtime-directory rights) like any DPDK
process, except compare.
"""

import argparse
import datetime
import hashlib
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

import text_table

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NB_MBUFS = 16384
HUGE_NEED_MB = 512
STATS_PERIOD = 1
CONFIRM = 0.10  # see confirmed()
CYCLES_MODE = 0.20  # see cycles_mode()
# A run whose core-to-core floor (test/perf/c2c, before and after it) stays at
# or below this many ns is in the machine's fast mode, above it in the slow
# one (floor_class()).
FLOOR_FAST_MAX = 100.0
# Runs a side needs on one floor class (floor_basis()): the case stops there
# (more_runs()) and that class gives its headline.
FLOOR_RUNS = 2
# Reasons measure_floor() failed, each logged once.
FLOOR_WARNED = set()
# More burst calls than this share over the stall limit (50 us) gets a warning.
STALLED_WARN = 0.01
FAST = 0.8  # a stretch within this share of the case's best counts as the fast mode
WARMUP = 2  # seconds of traffic left out after the period traffic started in (a stretch)
STRETCH = 2  # seconds: the runs' periods are joined into stretches this long
TICK = 0.05  # seconds: a period lasts its nominal length give or take this
# The defaults of --duration, --repeats and --max-repeats, which the time a
# whole run takes (run_time_note(), --help and the docs) is computed from.
DURATION = 12
REPEATS = 3
MAX_REPEATS = 8
# Seconds a run takes besides its --duration of traffic: starting both
# processes until the first packet, the statistics period traffic starts in,
# and stopping both (about 4 s on the reference machine; pvp.py's runs do
# the same)...
PROCESS_OVERHEAD = 4
# ...and here the two core-to-core floors around it (test/perf/c2c: 13 ms a
# floor in the test suite's run of it, starting included).
FLOORS_OVERHEAD = 2 * 0.013
RUN_OVERHEAD = PROCESS_OVERHEAD + FLOORS_OVERHEAD


def log(msg):
    print("vhost_vs_dpdk: " + msg, file=sys.stderr, flush=True)


def huge_mount():
    try:
        with open("/proc/mounts") as f:
            for line in f:
                fields = line.split()
                if len(fields) > 3 and fields[2] == "hugetlbfs":
                    if "pagesize=" not in fields[3] or "pagesize=2M" in fields[3]:
                        return fields[1]
    except OSError:
        pass
    return None


def huge_free_mb():
    try:
        with open("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages") as f:
            return int(f.read()) * 2
    except (OSError, ValueError):
        return 0


def default_eal_mem():
    """Same choice as scripts/lib.sh: hugepages when mounted and free enough."""
    if os.environ.get("VHU_EAL_MEM"):
        return os.environ["VHU_EAL_MEM"]
    if (os.environ.get("VHU_NO_HUGE") != "1" and huge_mount()
            and huge_free_mb() >= HUGE_NEED_MB):
        return "--single-file-segments"
    return "--no-huge -m 1024"


# Why a case of this script runs more than --repeats times, as run_time_note()
# says it (more_runs()).
MORE_RUNS_WHEN = "when the sides need more runs to meet the same core-to-core floor twice"


def run_time_note(runs, repeats, max_repeats, duration, overhead=RUN_OVERHEAD,
                  more_when="when more runs are needed to confirm the figures"):
    """How long 'runs' runs (cases x sides x repeats) of 'duration' s of
    traffic take, as the docs and --help say it: "96 runs of about 16 s:
    about 26 minutes (up to 68 when more runs are needed to confirm the
    figures)". The most is with --max-repeats runs a case instead of
    --repeats; 'more_when' says when that happens under the calling
    script's rule (this script's is MORE_RUNS_WHEN)."""
    each = duration + overhead
    note = "%d runs of about %.0f s: about %.0f minutes" % (runs, each, runs * each / 60)
    if max_repeats > repeats:
        note += " (up to %.0f %s)" % (runs * max_repeats / repeats * each / 60, more_when)
    return note


def report(doc, path, table, interrupted, say=log):
    """The end of a benchmark, finished or stopped by Ctrl-C: the JSON
    document 'doc', with "interrupted" set as it was, goes to 'path' (if
    any), then 'table' (of the finished cases; None for none) to stdout.
    'say' logs, with the calling script's name."""
    doc["interrupted"] = interrupted
    if path:
        with open(path, "w") as f:
            f.write(json.dumps(doc, indent=2) + "\n")
        say("JSON written to %s%s" % (path, " (interrupted: the finished cases only)"
                                       if interrupted else ""))
    else:
        say("no --output: the JSON (every run) is not kept")
    if table is not None:
        print(table)


def exit_status(results, interrupted):
    """The status a benchmark exits with once it has reported: 130 (128 +
    SIGINT, what a shell expects of a command Ctrl-C stopped) when it was
    interrupted, whatever it saved; else 0 with cases finished, 1 with none."""
    if interrupted:
        return 128 + int(signal.SIGINT)
    return 0 if results else 1


def exit_with(status):
    """Leave with main()'s status. 130 (Ctrl-C) is left by dying of SIGINT,
    once the report is out: a shell stops a loop over a command only when
    the command died of the signal, not when it exited with 130."""
    if status == 128 + int(signal.SIGINT):
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    sys.exit(status)


def is_testpmd(path):
    return "testpmd" in os.path.basename(path)


class Proc:
    """A busy-polling DPDK process with its output in a log file."""

    def __init__(self, name, argv, logpath, prefix, env=None):
        self.name = name
        self.logpath = logpath
        self.prefix = prefix
        stdbuf = shutil.which("stdbuf")
        if stdbuf:
            argv = [stdbuf, "-oL", "-eL"] + argv
        with open(logpath, "w") as logf:
            logf.write(" ".join(argv) + "\n")
            logf.flush()
            self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                                      stderr=subprocess.STDOUT, env=env)

    def alive(self):
        return self.p.poll() is None

    def text(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def stop(self, timeout=10):
        """SIGINT, as Ctrl-C; SIGKILL after timeout. Returns the exit status."""
        if self.alive():
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                log("%s did not exit within %d s of SIGINT; killing it" % (self.name, timeout))
                self.p.kill()
                self.p.wait()
        self.remove_files()
        return self.p.returncode

    def remove_files(self):
        remove_dpdk_files(self.prefix)


def remove_dpdk_files(prefix):
    """What a DPDK process of --file-prefix 'prefix' leaves behind when it
    cannot clean up (killed, or --single-file-segments): its hugepage files
    and its runtime directory, as root or not."""
    mnt = huge_mount()
    if mnt:
        for f in glob.glob(os.path.join(mnt, prefix + "map_*")):
            try:
                os.unlink(f)
            except OSError:
                pass
    for d in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/nonexistent"),
                                            "dpdk")):
        shutil.rmtree(os.path.join(d, prefix), ignore_errors=True)


RX_PACKETS = re.compile(r"RX-packets:\s+(\d+)\s+RX-missed:")
STATS_BLOCK = re.compile(r"RX-packets:\s+(\d+)\s+RX-missed:.*?^\s*Rx-pps:\s+(\d+)", re.M | re.S)
# DPDK's lib/vhost: "negotiated Virtio features: 0x..."; vhu: "negotiated features 0x...".
FEATURES = re.compile(r"negotiated (?:Virtio )?features:? (0x[0-9a-fA-F]+)")


# Printed by both applications when forwarding stops: dpdk-testpmd (with
# --record-core-cycles) "CPU cycles/packet=N (total cycles=N / total RX
# packets=N) at N MHz Clock", vhu-pmd "... (busy cycles=N / total packets=N)
# ...". Both count only the polls that moved packets.
CYCLES = re.compile(r"CPU cycles/packet=([\d.]+) \((?:total|busy) cycles=(\d+) / "
                    r"total (?:\w+ )?packets=(\d+)\)")

# Printed by the interposer (dpdk-testpmd, at exit) and by vhu-pmd (a port with
# burst-cycles=1, when forwarding stops; "port N " before it): the cycles
# inside the calls into the backend that moved packets, those that did not, and
# those that took longer than 50 us (preempted inside the call; left out).
BURST = re.compile(r"vhost (enqueue|dequeue): backend cycles/packet=[\d.]+ \(cycles=(\d+) / "
                   r"packets=(\d+); calls=(\d+), empty calls=(\d+), empty cycles=(\d+)"
                   r"(?:; stalled calls=(\d+), stalled packets=(\d+), stalled cycles=(\d+))?\)")
BURST_KEYS = ("cycles", "packets", "calls", "empty_calls", "empty_cycles", "stalled_calls",
              "stalled_packets", "stalled_cycles")


def cycles_per_packet(text):
    """The last "CPU cycles/packet" a log shows, or None."""
    found = CYCLES.findall(text)
    if not found:
        return None
    _, cycles, packets = found[-1]
    return int(cycles) / int(packets) if int(packets) else None


def burst_cycles(text, call):
    """The backend's burst counts for 'call' ("enqueue" or "dequeue") in a log:
    a dict of BURST_KEYS (the stalled ones 0 in a line without them) and
    cycles_per_packet (None without packets), summed over the last line of
    each port; None when the log has no such line."""
    last = {}
    for line in text.splitlines():
        m = BURST.search(line)
        if m and m.group(1) == call:
            port = line[:m.start()].strip()
            last[port] = [int(x or 0) for x in m.groups()[1:]]
    if not last:
        return None
    tot = [sum(v[i] for v in last.values()) for i in range(len(BURST_KEYS))]
    out = dict(zip(BURST_KEYS, tot))
    out["cycles_per_packet"] = tot[0] / tot[1] if tot[1] else None
    return out


def median(values):
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def spread(values):
    """Half the range of the values, as a share of their median: the noise band."""
    v = [x for x in values if x is not None]
    m = median(v)
    if not v or not m:
        return None
    return (max(v) - min(v)) / 2 / m


def cycles_mode(values):
    """A side's cycles per packet: the cheapest mode its runs confirm.

    Cycles per packet are bimodal like Mpps: in the machine's slow mode the
    receiver outruns the sender, finds a few packets per busy poll and pays
    each poll's fixed cost over fewer of them (on the reference machine,
    DPDK's backend at packed g2h-64 gave 84, 188, 218, 217, 107, 195, 87,
    119 in eight runs). A median then lands between the modes, wherever the
    number of runs in each puts it. What the backend itself costs is the
    fast mode's figure, with full bursts. Runs within one mode came within
    18 % of each other there, and the modes are 1.5x or more apart, so the
    figure is the lowest run that a second run confirms within CYCLES_MODE
    (20 %): a lone low run cannot decide a case, and a side that never met
    the fast mode is flagged. Returns (figure, spread of the runs within
    CYCLES_MODE of it as a share of it, confirmed); with no confirming pair,
    the lowest run, unconfirmed. (None, None, False) with no run.
    """
    v = sorted(x for x in values if x is not None)
    if not v:
        return None, None, False
    for i in range(len(v) - 1):
        if v[i + 1] <= v[i] * (1 + CYCLES_MODE):
            mode = [x for x in v if x <= v[i] * (1 + CYCLES_MODE)][i:]
            return v[i], (max(mode) - min(mode)) / 2 / v[i], True
    return v[0], 0.0, False


def put_mode(case, key, values):
    """Stores cycles_mode(values) in 'case' as key, key_spread and
    key_confirmed (rounded as the JSON keeps them); returns the mode's
    (figure, spread, confirmed) unrounded. fmt_mode() shows them."""
    fig, sp, conf = cycles_mode(values)
    case[key] = round(fig, 1) if fig is not None else None
    case[key + "_spread"] = round(sp, 4) if sp is not None else None
    case[key + "_confirmed"] = conf
    return fig, sp, conf


def fmt_mode(case, key):
    """A figure put_mode() stored, for a table: "127 ±2%", "?" after it when
    no second run confirmed it, "-" without one."""
    c = case.get(key)
    if c is None:
        return "-"
    sp = case.get(key + "_spread")
    return "%.0f" % c + (" ±%.0f%%" % (sp * 100) if sp is not None else "") + (
        "" if case.get(key + "_confirmed", True) else " ?")


def c2c_tool(path, say=None):
    """'path' when test/perf/c2c is there to run, else None, which 'say'
    (the calling script's log; this one's by default) reports: its runs go
    unclassed."""
    say = say or log
    if path and os.access(path, os.X_OK):
        return path
    say("no c2c%s: runs are not classed by the core-to-core floor (build it with ninja)"
        % (" at " + path if path else ""))
    return None


def measure_floor(c2c, cpus, say=None):
    """The core-to-core floor between the two forwarding CPUs, in ns (test/perf/c2c),
    or None if the tool is missing or fails (said once per reason with 'say',
    the calling script's log; this one's by default)."""
    say = say or log
    if not c2c:
        return None
    try:
        out = subprocess.run([c2c, "--cpus", cpus, "--json"], capture_output=True, text=True,
                             timeout=10)
        if out.returncode == 0:
            return round(json.loads(out.stdout)["floor_ns"], 1)
        why = out.stderr.strip().splitlines()[0] if out.stderr.strip() else (
            "exit status %d" % out.returncode)
    except (OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
        why = str(e)
    # Once per reason: the runs go on, without a floor class.
    if why not in FLOOR_WARNED:
        FLOOR_WARNED.add(why)
        say("no core-to-core floor between CPUs %s (%s): runs are not classed by it" %
            (cpus, why))
    return None


def fmt_floors(floors):
    """A run's floors for its progress line: "floor 31/33 ns (fast)", "-"
    for one that failed ("unclassed": a floor that failed is not a move),
    "moved" when the two disagree; "no floor" when neither was measured."""
    f = floors or []
    if all(x is None for x in f):
        return "no floor"
    cls = floor_class(f) or ("unclassed" if None in f else "moved")
    return "floor %s ns (%s)" % ("/".join("-" if x is None else "%.0f" % x for x in f), cls)


def floor_class(floors):
    """'fast' or 'slow' when the floor before and after a run agree on the mode
    (FLOOR_FAST_MAX), None when they do not (the machine moved during the run)
    or were not measured."""
    f = [x for x in (floors or []) if x is not None]
    if len(f) < 2:
        return None
    if max(f) <= FLOOR_FAST_MAX:
        return "fast"
    if min(f) > FLOOR_FAST_MAX:
        return "slow"
    return None


def class_runs(runs, key, cls):
    """The figures 'key' of a side's runs (run_summary() dicts) that worked
    (no error) and ran on floor class 'cls' ('fast' or 'slow'), in run
    order."""
    return [r[key] for r in runs if not r.get("error") and r.get(key) is not None
            and floor_class(r.get("floor_ns")) == cls]


def same_floor(per_side, key):
    """Each side's cheapest run of figure 'key' within each floor class, and the
    ratio reference / subject in each class both sides have runs in: a pair of
    runs that met the same machine. The 'fast' class is the one to read when
    both have it (its figures are the code's, the least inflated by
    transfers between cores)."""
    out = {}
    for cls in ("fast", "slow"):
        best = {}
        for b, runs in per_side.items():
            v = class_runs(runs, key, cls)
            best[b] = (min(v) if v else None, len(v))
        if all(best.get(b, (None, 0))[0] is not None for b in ("reference", "subject")):
            ref, sub = best["reference"][0], best["subject"][0]
            out[cls] = {"reference": ref, "subject": sub, "ratio": round(ref / sub, 3),
                        "runs": [best["reference"][1], best["subject"][1]]}
    return out


def put_same_floor(case, per_side, key):
    """Stores same_floor() of figure 'key' in 'case', every class's pair of
    cheapest runs however few runs each side had in it, and the pair to
    read (fast, else slow) as same_floor_class and same_floor_ratio; and
    every run's floors as <side>_floor_ns_runs."""
    case["same_floor"] = same_floor(per_side, key)
    pick = case["same_floor"].get("fast") or case["same_floor"].get("slow")
    case["same_floor_class"] = ("fast" if "fast" in case["same_floor"] else
                                "slow" if pick else None)
    case["same_floor_ratio"] = pick["ratio"] if pick else None
    for b, runs in per_side.items():
        case[b + "_floor_ns_runs"] = [r.get("floor_ns") for r in runs]


def floor_basis(per_side, key):
    """The floor class a case's headline comes from: 'fast' when every side
    has at least FLOOR_RUNS runs of figure 'key' on the fast floor, else
    'slow' when every side has that many on the slow one, else None (no
    common class yet: each side's lowest confirmed run stands in)."""
    for cls in ("fast", "slow"):
        if per_side and all(len(class_runs(runs, key, cls)) >= FLOOR_RUNS
                            for runs in per_side.values()):
            return cls
    return None


def floors_measured(per_side):
    """Whether any run of the case has a core-to-core floor (False when
    test/perf/c2c is missing or always fails)."""
    return any(f is not None for runs in per_side.values() for r in runs
               for f in r.get("floor_ns") or [])


def more_runs(per_side, key, rounds, repeats, max_repeats, alone=None):
    """Whether a case runs another round (one run of every side, in
    alternating order) after 'rounds' rounds: always before 'repeats', never
    from 'max_repeats' on, and in between until floor_basis() finds a class
    in which every side has FLOOR_RUNS runs of figure 'key'.

    The headline pairs runs that met the same machine, so that is what the
    case waits for, not each side's figure alone: one side confirmed in the
    fast mode and the other only in the slow one is exactly the pair the
    same floor is there to avoid. Two runs a side, as cycles_mode() asks:
    the figure is marked confirmed only when the second agrees with the
    best (class_confirmed()), and the spread of the two shows whether the
    class repeats. The fast class is preferred for the
    headline, but two slow runs a side are enough to stop: a slow pair is a
    fair pair (both sides paid the same floor), the machine can stay in its
    slow mode for a whole sitting, and waiting for the fast mode there would
    take every case to --max-repeats for a figure no more fair;
    cycles_basis records the class and compare refuses to set a slow
    figure against a fast one.

    Without a floor in any run (no c2c binary) there is nothing to pair by,
    and the case runs until each side alone is confirmed: its best Mpps by a
    second run within CONFIRM (confirmed()) and its cheapest cycles by a
    second run within CYCLES_MODE (cycles_mode()); 'alone', a function of a
    side's runs, replaces that rule where a script's figures differ
    (ovs_vs_dpdk.py: its cycles only; pvp.py: its best Mpps only).
    """
    if rounds < repeats:
        return True
    if rounds >= max_repeats:
        return False
    if floors_measured(per_side):
        return floor_basis(per_side, key) is None
    if alone is None:
        def alone(runs):
            return (confirmed([r["mpps"] for r in runs]) and
                    cycles_mode([r.get(key) for r in runs])[2])
    return not all(alone(runs) for runs in per_side.values())


def nic_rx_packets(text):
    found = RX_PACKETS.findall(text)
    return int(found[-1]) if found else 0


def rx_periods(text):
    """The receiver's statistics periods as (packets, seconds), oldest first.

    Asked for every second, vhu-pmd shows its statistics every second and
    dpdk-testpmd every two (its main loop sleeps a second between looks at
    the clock). Both print the packet count and the rate over the period,
    from which the period's length follows, so that the harness can treat
    both the same in time: see steady_stretches().
    """
    blocks = [(int(n), int(r)) for n, r in STATS_BLOCK.findall(text)]
    periods = []
    for (n0, _), (n1, rate) in zip(blocks, blocks[1:]):
        packets = n1 - n0
        periods.append((packets, packets / rate if rate > 0 else STATS_PERIOD))
    return periods


class Setup:
    """One side of a comparison: which backend, which frontend, which ring."""

    def __init__(self, backend, frontend, packed=False, iommu=False, burst_cycles=False):
        self.backend = backend      # "vhu" or "dpdk"
        self.frontend = frontend    # "vhu" or "dpdk"
        self.packed = packed
        self.iommu = iommu
        self.burst_cycles = burst_cycles  # count the backend's burst cycles

    def describe(self):
        be = {"vhu": "vhu-pmd vhost-user", "dpdk": "dpdk-testpmd net_vhost"}[self.backend]
        fe = {"vhu": "vhu-pmd virtio-user", "dpdk": "dpdk-testpmd net_virtio_user"}[
            self.frontend]
        ring = "packed" if self.packed else "split"
        return "%s <- %s, %s ring%s" % (be, fe, ring, ", vIOMMU" if self.iommu else "")


# suite: (what it compares, subject, reference, target ratio)
SUITES = {
    "backend": ("vhu's backend against DPDK's, same DPDK frontend, split ring",
                Setup("vhu", "dpdk", burst_cycles=True), Setup("dpdk", "dpdk", burst_cycles=True),
                1.3),
    "packed": ("vhu's backend against DPDK's, same DPDK frontend, packed ring",
               Setup("vhu", "dpdk", packed=True, burst_cycles=True),
               Setup("dpdk", "dpdk", packed=True, burst_cycles=True), 1.3),
    "frontend": ("vhu's frontend against DPDK's, same DPDK backend, split ring",
                 Setup("dpdk", "vhu"), Setup("dpdk", "dpdk"), 1.3),
    "iommu": ("vhu's frontend and backend with a vIOMMU against the same without",
              Setup("vhu", "vhu", iommu=True), Setup("vhu", "vhu"), 0.8),
}


class Bench:
    def __init__(self, args):
        self.args = args
        self.eal_mem = args.eal_mem.split()
        self.procs = []
        self.seq = 0
        # The machine's core-to-core floor between the two forwarding lcores,
        # before and after each run (test/perf/c2c; None without it).
        self.c2c = c2c_tool(args.c2c, log)
        self.floor_cpus = "%s,%s" % (args.backend_lcores.split(",")[-1],
                                     args.frontend_lcores.split(",")[-1])

    def eal(self, lcores, prefix):
        main = lcores.split(",")[0]
        return ["-l", lcores, "--main-lcore", main, "--no-pci", "--file-prefix", prefix] + \
            self.eal_mem

    def app_args(self, binary, mode, size):
        # One forwarding lcore polls every queue: the queues' cost, not more cores.
        a = ["--forward-mode=" + mode, "--nb-cores=1", "--stats-period=%d" % STATS_PERIOD,
             "--burst=%d" % self.args.burst, "--total-num-mbufs=%d" % NB_MBUFS,
             "--rxq=%d" % self.args.queues, "--txq=%d" % self.args.queues]
        # vhu-pmd records its lcores' busy cycles unless told not to.
        if is_testpmd(binary):
            a.append("--record-core-cycles")
        if mode == "txonly":
            a.append("--txpkts=%d" % size)
        return a

    def binary(self, kind):
        """vhu's role is played by vhu-pmd, or by dpdk-testpmd for an A/A check."""
        return self.args.vhu_pmd if kind == "vhu" else self.args.testpmd

    def start_backend(self, setup, sock, mode, size, logdir):
        binary = self.binary(setup.backend)
        prefix = "vhu-perf-%d-%d-be" % (os.getpid(), self.seq)
        eal = self.eal(self.args.backend_lcores, prefix)
        env = None
        if is_testpmd(binary):
            vdev = "net_vhost0,iface=%s,queues=%d,client=0" % (sock, self.args.queues)
            if setup.iommu:
                vdev += ",iommu-support=1"
            argv = [binary] + eal + ["--vdev", vdev, "--", "--no-flush-rx"]
            if setup.burst_cycles:
                # Inherited through a wrapper script as well; the interposer
                # prints nothing in a process that never called a burst.
                env = dict(os.environ)
                env["LD_PRELOAD"] = " ".join(filter(None, (self.args.burst_cycles_lib,
                                                           env.get("LD_PRELOAD"))))
        else:
            port = "vhost-user,iface=%s,queues=%d,client=0" % (sock, self.args.queues)
            if setup.iommu:
                port += ",iommu-support=1"
            if setup.burst_cycles:
                port += ",burst-cycles=1"
            argv = [binary] + eal + ["--", "--port", port]
        argv += self.app_args(binary, mode, size)
        return Proc("backend (%s)" % setup.backend, argv, os.path.join(logdir, "backend.log"),
                    prefix, env)

    def start_frontend(self, setup, sock, mode, size, logdir):
        binary = self.binary(setup.frontend)
        prefix = "vhu-perf-%d-%d-fe" % (os.getpid(), self.seq)
        eal = self.eal(self.args.frontend_lcores, prefix)
        keys = "path=%s,queues=%d,queue_size=%d" % (sock, self.args.queues, self.args.ring_size)
        if setup.packed:
            keys += ",packed_vq=1"
        if self.args.frontend_keys:
            keys += "," + self.args.frontend_keys
        if is_testpmd(binary):
            argv = [binary] + eal + ["--vdev", "net_virtio_user0," + keys, "--", "--no-flush-rx"]
        else:
            if setup.iommu:
                keys += ",iommu=1"
            argv = [binary] + eal + ["--", "--port", "virtio-user," + keys]
        argv += self.app_args(binary, mode, size)
        return Proc("frontend (%s)" % setup.frontend, argv,
                    os.path.join(logdir, "frontend.log"), prefix)

    def run_once(self, setup, direction, size):
        """One run; returns a dict: "stretches" ((packets, seconds) per steady stretch) or
        None, "periods" (the receiver's raw periods after warm-up), "error" or None,
        "features" (negotiated) or None, the receiver's and the sender's cycles per
        packet ("rx_cycles", "tx_cycles") or None, and the backend's burst counts of
        the direction's call ("burst": burst_cycles()'s dict) or None."""
        self.seq += 1
        logdir = tempfile.mkdtemp(prefix="vhu-perf.")
        sock = os.path.join(logdir, "vhost.sock")
        be_mode, fe_mode = ("rxonly", "txonly") if direction == "g2h" else ("txonly", "rxonly")
        be = fe = None
        err = None
        samples = None
        features = None
        raw = None
        receiver = sender = None
        floor_before = measure_floor(self.c2c, self.floor_cpus)
        try:
            be = self.start_backend(setup, sock, be_mode, size, logdir)
            self.procs.append(be)
            deadline = time.time() + 20
            while not os.path.exists(sock):
                if not be.alive() or time.time() > deadline:
                    raise RuntimeError("the backend did not create its socket")
                time.sleep(0.1)
            fe = self.start_frontend(setup, sock, fe_mode, size, logdir)
            self.procs.append(fe)
            receiver, sender = (be, fe) if direction == "g2h" else (fe, be)
            deadline = time.time() + 30
            while nic_rx_packets(receiver.text()) == 0:
                if not be.alive() or not fe.alive() or time.time() > deadline:
                    raise RuntimeError("no packet reached the receiver")
                time.sleep(0.1)
            # Skip the period in which traffic started (and warm-up, below).
            first = len(rx_periods(receiver.text())) + 1
            time.sleep(self.args.duration)
            if not be.alive() or not fe.alive():
                raise RuntimeError("a process exited during the run")
            raw = rx_periods(receiver.text())[first:]
            samples = steady_stretches(raw)
            if not samples:
                raise RuntimeError("no whole statistics period; raise --duration")
            found = FEATURES.findall(be.text())
            features = found[-1] if found else None
        except RuntimeError as e:
            err = str(e)
        finally:
            # The frontend goes first: DPDK's virtio-user does not always close
            # cleanly once its backend has gone.
            for p in (fe, be):
                if p is not None:
                    p.stop()
                    self.procs.remove(p)
            if err is not None and self.args.keep_logs is False:
                for p in (be, fe):
                    if p is not None:
                        tail = p.text().splitlines()[-15:]
                        log("%s log tail:\n  %s" % (p.name, "\n  ".join(tail)))
            # Read after the stop: both print their cycles when forwarding ends.
            rx_cycles = cycles_per_packet(receiver.text()) if receiver and err is None else None
            tx_cycles = cycles_per_packet(sender.text()) if sender and err is None else None
            burst = (burst_cycles(be.text(), "dequeue" if direction == "g2h" else "enqueue")
                     if be and err is None and setup.burst_cycles else None)
            if self.args.keep_logs:
                log("logs kept in " + logdir)
            else:
                shutil.rmtree(logdir, ignore_errors=True)
        floors = [floor_before, measure_floor(self.c2c, self.floor_cpus)]
        if err is None and rx_cycles is None:
            err = "the receiver printed no CPU cycles/packet when it stopped"
        if err is None and setup.burst_cycles and (burst is None or not burst["packets"]):
            err = ("the backend printed no 'vhost %s: backend cycles/packet' line with packets "
                   "(interposer %s not preloaded, or vhu-pmd without burst-cycles?)" %
                   ("dequeue" if direction == "g2h" else "enqueue", self.args.burst_cycles_lib))
        return {"stretches": samples if err is None else None, "periods": raw, "error": err,
                "features": features, "rx_cycles": rx_cycles, "tx_cycles": tx_cycles,
                "burst": burst, "floor_ns": floors}

    def stop_all(self):
        for p in list(self.procs):
            p.stop(5)
        self.procs = []


def steady_stretches(periods):
    """The steady part of a run's periods, in stretches of STRETCH seconds.

    'periods' are those after the one traffic started in. The first WARMUP
    seconds of them are left out; the rest are joined into stretches of at
    least STRETCH seconds (dpdk-testpmd's period), an incomplete last one
    left out, so that both applications' runs give the same number of
    stretches of the same length.
    """
    i, t = 0, 0.0
    while i < len(periods) and t < WARMUP - TICK:
        t += periods[i][1]
        i += 1
    out, pk, t = [], 0, 0.0
    for p, dt in periods[i:]:
        pk += p
        t += dt
        if t >= STRETCH - TICK:
            out.append((pk, t))
            pk, t = 0, 0.0
    return out


def mpps(periods):
    return sum(p for p, _ in periods) / sum(t for _, t in periods) / 1e6


def best_window(periods, width):
    """The best rate over consecutive periods lasting at least 'width' seconds
    together (all of them if they last less). Longer stretches count too: a
    slow period between two fast ones can leave the whole run faster than
    either half of it."""
    best = None
    for i in range(len(periods)):
        t = 0
        for j in range(i, len(periods)):
            t += periods[j][1]
            if t >= width - TICK:
                rate = mpps(periods[i:j + 1])
                best = rate if best is None else max(best, rate)
    return best if best is not None else mpps(periods)


def confirmed(runs):
    """A side's best is confirmed when a second run came within CONFIRM of it.

    The machine flips between a fast and a slow mode from run to run; one
    lucky run in the fast mode is enough for best-of-N, but until a second
    one agrees a side may simply not have met the fast mode yet. The rule
    looks at each side alone, so it favours neither.
    """
    ok = sorted((m for m in runs if m is not None), reverse=True)
    return len(ok) >= 2 and ok[1] >= ok[0] * (1 - CONFIRM)


def run_summary(run, window):
    """What a case keeps of one run (run_once's dict)."""
    st = run["stretches"]
    burst = run.get("burst")
    best = best_window(st, window) if st else None
    return {"mpps": round(best, 3) if best is not None else None,
            "mean": round(mpps(st), 3) if st else None,
            "stretches": [[round(p / t / 1e6, 2), round(t, 2)] for p, t in st] if st else None,
            "seconds": [[round(p / t / 1e6, 2), round(t, 2)] for p, t in run["periods"] if t]
            if run["periods"] and st else None,
            "rx_cycles": round(run["rx_cycles"], 1) if run["rx_cycles"] is not None else None,
            "tx_cycles": round(run["tx_cycles"], 1) if run["tx_cycles"] is not None else None,
            "burst_cycles": round(burst["cycles_per_packet"], 1)
            if burst and burst["cycles_per_packet"] is not None else None,
            "burst": burst, "floor_ns": run.get("floor_ns"),
            "features": run["features"], "error": run["error"]}


def summarise_case(case, per_side, target):
    """Fill a case's figures from each side's runs (run_summary dicts).

    Cycles per packet are the primary figure: the receiver's (busy polls
    only), or with case["cycles_figure"] == "backend burst" the backend's
    burst cycles per packet (h2g); each side's cheapest run on the floor
    class both sides met twice, else its cheapest confirmed mode
    (put_headline(); cycles_basis says which), with the spread of the runs
    behind it; cycles_ratio is reference / subject, above 1 when the subject
    costs less, and meets_target compares it with 'target'. Each side's
    cheapest confirmed mode alone (cycles_mode()) is kept as
    <side>_cycles_alone and cycles_ratio_alone, the median of all runs as
    <side>_cycles_median. Both figures are kept under their own names
    (<side>_receiver_cycles..., <side>_burst_cycles..., burst_cycles_ratio),
    taken from the headline's floor class like it (put_class_figure(): the
    one beside the primary pairs the same runs; a side with fewer than
    FLOOR_RUNS runs of it there is unconfirmed), each side alone when the
    headline is, and each side alone in every case as *_alone
    (burst_cycles_ratio_alone); for the burst figure, the share of calls
    that moved nothing. Mpps are kept: the best run, mpps_ratio subject /
    reference.
    """
    burst_primary = case.get("cycles_figure") == "backend burst"
    for b, runs in per_side.items():
        ok = [r["mpps"] for r in runs if r["mpps"] is not None]
        for name, key in (("receiver", "rx_cycles"), ("burst", "burst_cycles")):
            cyc = [r.get(key) for r in runs if r["mpps"] is not None]
            conf = put_mode(case, b + "_" + name + "_cycles", cyc)[2]
            case[b + "_" + name + "_cycles_runs"] = [r.get(key) for r in runs]
            if (name == "burst") == burst_primary:
                case[b + "_cycles"] = case[b + "_" + name + "_cycles"]
                case[b + "_cycles_spread"] = case[b + "_" + name + "_cycles_spread"]
                case[b + "_cycles_confirmed"] = conf
                case[b + "_cycles_median"] = (round(median(cyc), 1)
                                              if median(cyc) is not None else None)
                case[b + "_cycles_runs"] = case[b + "_" + name + "_cycles_runs"]
        # Every run's counts: packets per call and the stalled calls say what a figure is worth.
        case[b + "_burst_counts_runs"] = [r.get("burst") for r in runs]
        bursts = [r["burst"] for r in runs if r.get("burst") and r["mpps"] is not None]
        calls = sum(x["calls"] + x["empty_calls"] + x.get("stalled_calls", 0) for x in bursts)
        # Calls that found no room (h2g) or nothing to receive (g2h), and calls
        # preempted inside: left out of the figure.
        case[b + "_burst_empty_share"] = (round(sum(x["empty_calls"] for x in bursts) / calls, 3)
                                          if calls else None)
        case[b + "_burst_stalled_share"] = (
            round(sum(x.get("stalled_calls", 0) for x in bursts) / calls, 5) if calls else None)
        case[b + "_sender_cycles_runs"] = [r["tx_cycles"] for r in runs]
        case[b + "_mpps"] = max(ok) if ok else None
        case[b + "_runs"] = [r["mpps"] for r in runs]
        case[b + "_run_means"] = [r["mean"] for r in runs]
        case[b + "_periods"] = [r["stretches"] for r in runs]
        case[b + "_seconds"] = [r["seconds"] for r in runs]
        # What the frontend and the backend agreed on: a feature one side
        # offers and the other does not changes the work.
        case[b + "_features"] = next((r["features"] for r in runs if r["features"]), None)
    case.setdefault("cycles_figure", "receiver")
    key = "burst_cycles" if burst_primary else "rx_cycles"
    cls = put_headline(case, per_side, key)
    # Both figures under their own names from the headline's runs: the one
    # beside it pairs the same runs, not each side's lowest alone.
    for name, fig in (("receiver", "rx_cycles"), ("burst", "burst_cycles")):
        counts = put_class_figure(case, per_side, fig, name + "_cycles", cls)
        for b in per_side:
            case[b + "_" + name + "_cycles_basis_runs"] = counts[b]
    put_ratios(case, (("cycles_ratio", "cycles"), ("burst_cycles_ratio", "burst_cycles")))
    case["meets_target"] = case["cycles_ratio"] >= target if case["cycles_ratio"] else None
    put_same_floor(case, per_side, key)
    sub, ref = case.get("subject_mpps"), case.get("reference_mpps")
    case["mpps_ratio"] = round(sub / ref, 3) if sub and ref else None
    if case["mpps_ratio"] is not None:
        # The former statistic (best whole-run mean), for comparison.
        best_means = [max((m for m in case[b + "_run_means"] if m is not None), default=0)
                      for b in ("subject", "reference")]
        case["ratio_of_run_means"] = (round(best_means[0] / best_means[1], 3)
                                      if best_means[1] else None)
    # How much of its time each side spent in the fast mode: about the same
    # on both when the mode is the machine's, not the code's.
    top = max((case.get(b + "_mpps") or 0) for b in per_side)
    for b in per_side:
        per = [p for run in case[b + "_periods"] if run for p in run]
        total = sum(t for _, t in per)
        fast = sum(t for r, t in per if r >= FAST * top)
        case[b + "_fast_share"] = round(fast / total, 2) if total and top else None
    return case


BASIS_ALONE = "each side's lowest confirmed run"
BASIS_BEST_ALONE = "each side's best run"


def class_confirmed(values, best=min):
    """Whether a second run of one floor class agrees with the best: within
    CYCLES_MODE of the cheapest for cycles (best min), within CONFIRM of the
    highest for a rate (best max, confirmed()). Two runs that disagree leave
    the figure unconfirmed ("?" in the table): one lucky run does not decide
    a side."""
    if best is max:
        return confirmed(values)
    v = sorted(values)
    return len(v) >= 2 and v[1] <= v[0] * (1 + CYCLES_MODE)


def put_class_figure(case, per_side, key, name, cls, best=min):
    """Stores figure 'key' of each side's runs (run_summary() dicts) as
    <side>_<name> with _spread and _confirmed, from the runs on floor class
    'cls', keeping what was there (each side alone, as put_mode() left it)
    as <side>_<name>_alone with the same parts.

    With a class, a side's figure is its cheapest run there ('best' of
    them: max for a rate) and its spread half the range of its runs there,
    as a share of the figure; it is confirmed when a second of that side's
    runs there agrees with it (class_confirmed(); a figure other than the
    one the class was chosen by can have fewer runs: a run that did not
    count it), and None when none has. Without one (cls None) the figure stays each side's
    alone. Returns each side's number of runs with the figure in the
    class, None without one."""
    counts = {}
    for b, runs in per_side.items():
        k = b + "_" + name
        for part in ("", "_spread", "_confirmed"):
            case[k + "_alone" + part] = case.get(k + part)
        if cls is None:
            counts[b] = None
            continue
        v = class_runs(runs, key, cls)
        counts[b] = len(v)
        top = best(v) if v else None
        case[k] = round(top, 1 if best is min else 3) if top is not None else None
        case[k + "_spread"] = round((max(v) - min(v)) / 2 / top, 4) if top else None
        case[k + "_confirmed"] = class_confirmed(v, best)
    return counts


def put_headline(case, per_side, key, name="cycles", best=min):
    """The case's primary figures, <side>_cycles with its _spread and
    _confirmed, from the runs of figure 'key' that met the same floor.

    Where floor_basis() finds a class both sides have FLOOR_RUNS runs in,
    a side's figure is its cheapest run in that class and its spread half
    the range of its runs in it, as a share of the figure; cycles_basis
    says "same floor fast" or "same floor slow" and cycles_basis_runs how
    many runs each side had there (reference, subject). Without one, the
    figure is each side's lowest confirmed run (cycles_mode(), as put_mode()
    left it) and cycles_basis says so. That per-side figure is kept in every
    case as <side>_cycles_alone (with _spread and _confirmed): alone, it can
    pair one side's fast-mode run with the other's slow-mode one. Returns
    the class (None: each side alone), for the figures beside the primary
    one (put_class_figure()). pvp.py's headline is a rate: 'name' "mpps"
    (<side>_mpps, mpps_basis...), 'best' max, BASIS_BEST_ALONE.
    """
    cls = floor_basis(per_side, key)
    counts = put_class_figure(case, per_side, key, name, cls, best)
    if cls is None:
        case[name + "_basis"] = BASIS_ALONE if best is min else BASIS_BEST_ALONE
        case[name + "_basis_runs"] = None
        return None
    case[name + "_basis"] = "same floor " + cls
    case[name + "_basis_runs"] = [counts.get(b, 0) for b in ("reference", "subject")]
    return cls


def put_ratios(case, pairs):
    """For each (ratio, figure) of 'pairs': case[ratio] = reference / subject
    of <side>_<figure>, and ratio_alone the same of <side>_<figure>_alone
    (None where a side has no figure); above 1 when the subject costs less."""
    for ratio, fig in pairs:
        for alone in ("", "_alone"):
            sub = case.get("subject_" + fig + alone)
            ref = case.get("reference_" + fig + alone)
            case[ratio + alone] = round(ref / sub, 3) if sub and ref else None


def fmt_basis_log(case):
    """The headline's basis for a progress line: "same floor fast 2/3", or
    cycles_basis as it is without a class."""
    return "same floor " + fmt_basis(case) if basis_class(case) else case["cycles_basis"]


def basis_class(case):
    """'fast' or 'slow' when a case's headline came from one floor class,
    None when from each side alone or from a file older than cycles_basis."""
    basis = case.get("cycles_basis") or ""
    return basis[len("same floor "):] if basis.startswith("same floor ") else None


def fmt_basis(case):
    """The table's basis: "fast 2/3" (the class, DPDK's and vhu's runs in
    it), or "alone"."""
    cls = basis_class(case)
    if cls is None:
        return "alone"
    n = case.get("cycles_basis_runs") or [0, 0]
    return "%s %d/%d" % (cls, n[0], n[1])


def fmt_cycles(case, side, figure=""):
    return fmt_mode(case, side + figure + "_cycles")


def other_figure(case):
    """The figure shown beside the primary one: the backend's burst cycles when
    the receiver's are primary, the receiver's when the burst cycles are."""
    return "_receiver" if case.get("cycles_figure") == "backend burst" else "_burst"


def results_table(results):
    """The table a person reads at a glance: cycles per packet of each side with the
    spread of its runs, the ratio, the target and whether it is met, what the
    figures rest on and the ratio of each side alone; Mpps after."""
    head = ["case", "c/p of", "DPDK c/p", "vhu c/p", "ratio", "target", "met", "basis",
            "alone", "DPDK Mpps", "vhu Mpps", "beside: DPDK", "vhu"]
    rows = [head]
    for c in results:
        ratio = c.get("cycles_ratio")
        alone = c.get("cycles_ratio_alone")
        other = other_figure(c)
        rows.append([c["case"],
                     "burst" if c.get("cycles_figure") == "backend burst" else "receiver",
                     fmt_cycles(c, "reference"), fmt_cycles(c, "subject"),
                     "%.2f" % ratio if ratio is not None else "-", "%.1f" % c["target"],
                     {True: "yes", False: "NO"}.get(c.get("meets_target"), "-"),
                     fmt_basis(c), "%.2f" % alone if alone is not None else "-",
                     "%.2f" % c["reference_mpps"] if c.get("reference_mpps") else "-",
                     "%.2f" % c["subject_mpps"] if c.get("subject_mpps") else "-",
                     fmt_cycles(c, "reference", other), fmt_cycles(c, "subject", other)])
    lines = text_table.render(rows)
    lines += ["c/p of receiver: the receiver's CPU cycles per packet (busy polls only); of burst: "
              "the backend's cycles inside its burst calls",
              "that moved packets, per packet. basis fast 2/3: each side's cheapest run among its "
              "runs on the fast core-to-core floor",
              "(test/perf/c2c before and after the run, both <= %.0f ns) ± half the range of "
              "those runs, and how many runs each side (DPDK/vhu)" % FLOOR_FAST_MAX,
              "had there; slow: the same on the slow floor, where fewer than %d runs of a side "
              "met the fast one; alone: no floor had %d" % (FLOOR_RUNS, FLOOR_RUNS),
              "runs of each side, and each figure is that side's lowest run that a second "
              "confirms within %d%% ± half the range of the runs" % round(CYCLES_MODE * 100),
              "within it (?: no second run confirmed it; the lowest run). ratio: DPDK / vhu "
              "cycles of the basis, above 1 when vhu costs less",
              "(iommu suite: vhu without / with the vIOMMU); met: ratio >= target. alone: the "
              "ratio of each side's lowest confirmed run,",
              "whatever its floor (it can pair one side's fast mode with the other's slow one). "
              "beside: the other figure (burst for g2h,",
              "receiver for h2g), where it was counted, from the same runs as c/p: with basis "
              "fast or slow each side's cheapest run of that class",
              "± half the range of them (?: fewer than %d of them counted it), with basis alone "
              "each side's lowest confirmed run." % FLOOR_RUNS]
    return "\n".join(lines)


# Two runs of the same code on an idle machine differ by up to about this much
# in cycles per packet, whatever the spread of one file's runs says.
NOISE_FLOOR = 0.03


def compare_cases(old, new):
    """Each case of both result documents: how the subject's cycles per packet
    changed, within which noise band, and the reference's and the ratio's
    change beside it (the reference moving means the machine did)."""
    before = {c["case"]: c for c in old.get("results", [])}
    rows = []
    for c in new.get("results", []):
        o = before.get(c["case"])
        if o is None:
            continue
        row = {"case": c["case"]}
        for side in ("subject", "reference"):
            a, b = o.get(side + "_cycles"), c.get(side + "_cycles")
            row[side] = (a, b)
            row[side + "_change"] = b / a - 1 if a and b else None
        band = (o.get("subject_cycles_spread") or 0) + (c.get("subject_cycles_spread") or 0)
        row["band"] = max(band, NOISE_FLOOR)
        ch = row["subject_change"]
        row["verdict"] = (None if ch is None else "cheaper" if ch < -row["band"]
                          else "dearer" if ch > row["band"] else "same")
        row["ratio"] = (o.get("cycles_ratio"), c.get("cycles_ratio"))
        # Files from before the burst figure have the receiver's as primary.
        figures = (o.get("cycles_figure", "receiver"), c.get("cycles_figure", "receiver"))
        if figures[0] != figures[1]:
            row["verdict"] = "other figure"
            row["figures"] = figures
        # A fast-floor figure against a slow-floor one compares the machine's
        # modes, not the code. Files from before cycles_basis, and figures of
        # each side alone, have no class and are judged as before.
        floors = (basis_class(o), basis_class(c))
        if None not in floors and floors[0] != floors[1]:
            row["verdict"] = "other floor"
            row["floors"] = floors
        rows.append(row)
    return rows


def compare_table(rows):
    def pair(v, fmt):
        return "%s -> %s" % tuple(fmt % x if x is not None else "-" for x in v)

    def pct(x):
        return "%+.1f%%" % (x * 100) if x is not None else "-"
    head = ["case", "vhu c/p", "change", "noise", "verdict", "DPDK c/p", "DPDK change", "ratio"]
    out = [head]
    for r in rows:
        out.append([r["case"], pair(r["subject"], "%.0f"), pct(r["subject_change"]),
                    "±%.1f%%" % (r["band"] * 100), r["verdict"] or "-",
                    pair(r["reference"], "%.0f"), pct(r["reference_change"]),
                    pair(r["ratio"], "%.2f")])
    lines = text_table.render(out)
    lines.append("change: vhu's cycles per packet, new against old; noise: the two files' "
                 "spreads added (at least %d%%);" % round(NOISE_FLOOR * 100))
    lines.append("a DPDK change beyond the noise means the machine, not vhu, moved; "
                 "other figure: the files' c/p are not the same figure (receiver's against "
                 "the backend's burst cycles), no verdict;")
    lines.append("other floor: one file's c/p are from runs on the fast core-to-core floor, "
                 "the other's from the slow one (cycles_basis), no verdict.")
    return "\n".join(lines)


def series(case, side):
    """A side's runs as lists of (seconds since the steady part began, Mpps)."""
    runs = case.get(side + "_seconds") or case.get(side + "_periods") or []
    out = []
    for run in runs:
        if not run:
            continue
        t, pts = 0.0, []
        for rate, dt in run:
            pts += [(t, rate), (t + dt, rate)]
            t += dt
        out.append(pts)
    return out


def write_plots(old, new, rows, outdir):
    """rates.png: per-second rates of both sides of each case (new: solid, old:
    dashed); ratios.png: each case's cycles ratio, old and new, with its target."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("--plots needs matplotlib: apt-get install python3-matplotlib")
    os.makedirs(outdir, exist_ok=True)
    before = {c["case"]: c for c in old.get("results", [])}
    cases = [c for c in new.get("results", []) if c["case"] in before]
    cols = 2 if len(cases) > 1 else 1
    nrows = max(1, (len(cases) + cols - 1) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(6 * cols, 2.6 * nrows), squeeze=False)
    colours = {"subject": "tab:blue", "reference": "tab:orange"}
    names = {"subject": "vhu", "reference": "DPDK"}
    for ax, c in zip([a for r in axes for a in r], cases):
        for doc_case, style, when in ((before[c["case"]], "--", "old"), (c, "-", "new")):
            for side in ("subject", "reference"):
                for i, pts in enumerate(series(doc_case, side)):
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], style,
                            color=colours[side], linewidth=0.8 if when == "old" else 1.2,
                            label="%s (%s)" % (names[side], when) if i == 0 else None)
        ax.set_title(c["case"], fontsize=9)
        ax.set_xlabel("s", fontsize=8)
        ax.set_ylabel("Mpps", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    for ax in [a for r in axes for a in r][len(cases):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "rates.png"), dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(rows) + 2), 4))
    x = list(range(len(rows)))
    ax.bar([i - 0.2 for i in x], [r["ratio"][0] or 0 for r in rows], 0.4, label="old")
    ax.bar([i + 0.2 for i in x], [r["ratio"][1] or 0 for r in rows], 0.4, label="new")
    targets = [c.get("target") for c in cases]
    ax.scatter(x, [t or 0 for t in targets], marker="_", s=400, color="red", label="target")
    ax.set_xticks(x)
    ax.set_xticklabels([r["case"] for r in rows], rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("DPDK / vhu cycles per packet")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "ratios.png"), dpi=100)
    plt.close(fig)
    return [os.path.join(outdir, n) for n in ("rates.png", "ratios.png")]


def compare_main(argv):
    ap = argparse.ArgumentParser(prog="vhost_vs_dpdk.py compare",
                                 description="Each case's change in cycles per packet between "
                                 "two result files, with its noise band.")
    ap.add_argument("old", help="the baseline's JSON (--output of a run)")
    ap.add_argument("new", help="the new run's JSON")
    ap.add_argument("--plots", metavar="DIR", help="write rates.png and ratios.png there")
    args = ap.parse_args(argv)
    docs = []
    for path in (args.old, args.new):
        try:
            with open(path) as f:
                docs.append(json.load(f))
        except (OSError, ValueError) as e:
            ap.error("cannot read %s: %s (give two files vhost_vs_dpdk.py --output wrote)"
                     % (path, e))
    rows = compare_cases(*docs)
    if not rows:
        ap.error("%s and %s have no case in common" % (args.old, args.new))
    print(compare_table(rows))
    if args.plots:
        try:
            for p in write_plots(docs[0], docs[1], rows, args.plots):
                log("wrote " + p)
        except RuntimeError as e:
            log(str(e))
            return 1
    return 0


def cmd_output(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def binary_info(path):
    """What identifies the binary measured as vhu: its path, a hash of its
    bytes, and the git revision of the tree it was built in (None outside one;
    a wrapper script names only itself)."""
    info = {"path": os.path.abspath(path), "sha256": None, "git": None}
    try:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        info["sha256"] = h.hexdigest()
    except OSError:
        pass
    info["git"] = cmd_output(["git", "-C", os.path.dirname(info["path"]), "describe", "--always",
                              "--dirty"]) or None
    return info


def machine_info(vhu_pmd=None):
    """The machine and software of a run. 'harness' is the tree this script
    runs from; what was measured as vhu is 'vhu_pmd' (binary_info())."""
    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    os_name = None
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "os": os_name,
        "dpdk": cmd_output(["pkg-config", "--modversion", "libdpdk"]),
        "harness": cmd_output(["git", "-C", REPO, "describe", "--always", "--dirty"]),
        "vhu_pmd": binary_info(vhu_pmd) if vhu_pmd else None,
        "hugepages_free_mb": huge_free_mb(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Suites: " + "; ".join(
                                     "%s: %s (target %.1f)" % (k, v[0], v[3])
                                     for k, v in SUITES.items()) +
                                 ". With the defaults: " +
                                 run_time_note(len(SUITES) * 4 * 2 * REPEATS, REPEATS,
                                               MAX_REPEATS, DURATION,
                                               more_when=MORE_RUNS_WHEN) +
                                 "; --suites backend a quarter of that. "
                                 "'vhost_vs_dpdk.py compare OLD.json NEW.json [--plots DIR]' "
                                 "compares two runs. See doc/performance.md for how to read "
                                 "the output.")
    build = os.environ.get("VHU_BUILD_DIR", os.path.join(REPO, "build"))
    ap.add_argument("--suites", default=",".join(SUITES),
                    help="comma-separated suites to run (default all: %s)" % ",".join(SUITES))
    ap.add_argument("--vhu-pmd", default=os.environ.get("VHU_PMD",
                                                        os.path.join(build, "app", "vhu-pmd")),
                    help="vhu-pmd binary (default: $VHU_PMD or <build>/app/vhu-pmd); a "
                    "dpdk-testpmd here runs DPDK against itself, to check the harness")
    ap.add_argument("--burst-cycles-lib", default=os.path.join(build, "test", "perf",
                                                               "vhost_burst_cycles.so"),
                    help="the interposer preloaded into every dpdk-testpmd backend of the "
                    "backend and packed suites (default <build>/test/perf/vhost_burst_cycles.so)")
    ap.add_argument("--c2c", default=os.path.join(build, "test", "perf", "c2c"),
                    help="the core-to-core floor tool run before and after each run (default "
                    "<build>/test/perf/c2c)")
    ap.add_argument("--testpmd", default=os.environ.get("VHU_TESTPMD") or
                    shutil.which("dpdk-testpmd"), help="dpdk-testpmd binary (default: PATH)")
    ap.add_argument("--duration", type=float, default=DURATION,
                    help="seconds of traffic per run (default %d)" % DURATION)
    ap.add_argument("--window", type=int, default=4,
                    help="seconds of a run's best part, its result (default 4)")
    ap.add_argument("--repeats", type=int, default=REPEATS,
                    help="runs per case and set-up; the best counts (default %d)" % REPEATS)
    ap.add_argument("--max-repeats", type=int, default=MAX_REPEATS,
                    help="more runs, up to this many, until every side has %d runs on one "
                    "core-to-core floor, fast or slow (without test/perf/c2c: until a second "
                    "run comes within %d%%%% of each side's best Mpps and within %d%%%% of its "
                    "cheapest cycles) (default %d; = --repeats to turn off)" %
                    (FLOOR_RUNS, round(CONFIRM * 100), round(CYCLES_MODE * 100), MAX_REPEATS))
    ap.add_argument("--sizes", default="64,1518", help="packet sizes (default 64,1518)")
    ap.add_argument("--directions", default="g2h,h2g",
                    help="g2h (guest to host) and/or h2g (default both)")
    ap.add_argument("--sides", default="subject,reference",
                    help="subject and/or reference (default both)")
    ap.add_argument("--ring-size", type=int, default=256,
                    help="virtio ring size, set by the frontend (default 256)")
    ap.add_argument("--burst", type=int, default=32, help="packets per burst (default 32)")
    ap.add_argument("--queues", type=int, default=1,
                    help="queue pairs of every port, both applications, both sides; one "
                    "forwarding lcore polls them all (default 1)")
    ap.add_argument("--frontend-keys", default="",
                    help="more virtio-user keys for both frontends, e.g. in_order=1,mrg_rxbuf=0 "
                    "(the keys both accept: in_order, mrg_rxbuf)")
    ap.add_argument("--backend-lcores", default="0,1",
                    help="backend's main,forwarding lcores (default 0,1)")
    ap.add_argument("--frontend-lcores", default="1,0",
                    help="frontend's main,forwarding lcores (default 1,0)")
    ap.add_argument("--eal-mem", default=None,
                    help="EAL memory options (default: as scripts/lib.sh chooses)")
    ap.add_argument("--output", "-o", help="write the JSON to this file")
    ap.add_argument("--keep-logs", action="store_true", help="keep each run's logs")
    args = ap.parse_args()
    try:
        args.sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        ap.error("--sizes: %s is not a comma-separated list of byte counts" % args.sizes)
    args.directions = args.directions.split(",")
    args.sides = args.sides.split(",")
    args.suites = args.suites.split(",")
    if args.eal_mem is None:
        args.eal_mem = default_eal_mem()
    for kv in filter(None, args.frontend_keys.split(",")):
        if kv.split("=")[0] not in ("in_order", "mrg_rxbuf"):
            ap.error("--frontend-keys: %s is not in_order=0|1 or mrg_rxbuf=0|1 (the keys "
                     "both frontends accept; the ring layout is the suite's)" % kv)
    for d in args.directions:
        if d not in ("g2h", "h2g"):
            ap.error("--directions: %s is not g2h or h2g" % d)
    for b in args.sides:
        if b not in ("subject", "reference"):
            ap.error("--sides: %s is not subject or reference" % b)
    for su in args.suites:
        if su not in SUITES:
            ap.error("--suites: %s is not one of %s" % (su, ", ".join(SUITES)))
    # Two periods are skipped (the one traffic starts in, and warm-up): at
    # least two must remain.
    args.max_repeats = max(args.max_repeats, args.repeats)
    if not 1 <= args.queues <= 16:
        ap.error("--queues must be from 1 to 16 (the most queues a vhu port has)")
    if args.repeats < 1 or args.duration < 4 * STATS_PERIOD:
        ap.error("--repeats must be at least 1 and --duration at least %d s" %
                 (4 * STATS_PERIOD))
    if args.window < STRETCH or args.window > args.duration - WARMUP - 2 * STRETCH:
        ap.error("--window must be from %d s to --duration less %d s (warm-up and a "
                 "stretch's worth of periods)" % (STRETCH, WARMUP + 2 * STRETCH))
    if not args.testpmd or not os.access(args.testpmd, os.X_OK):
        ap.error("dpdk-testpmd not found; install it with 'apt-get install dpdk-dev' or "
                 "pass --testpmd")
    needs_vhu = any("vhu" in (st.backend, st.frontend)
                    for su in args.suites
                    for st, side in ((SUITES[su][1], "subject"), (SUITES[su][2], "reference"))
                    if side in args.sides)
    if needs_vhu and not os.access(args.vhu_pmd, os.X_OK):
        ap.error("vhu-pmd not found at %s; build it (scripts/setup.sh) or pass --vhu-pmd, "
                 "or measure DPDK alone with --suites backend --sides reference" % args.vhu_pmd)
    needs_lib = any(is_testpmd(args.testpmd if st.backend == "dpdk"
                               else args.vhu_pmd) and st.burst_cycles
                    for su in args.suites
                    for st, side in ((SUITES[su][1], "subject"), (SUITES[su][2], "reference"))
                    if side in args.sides)
    if needs_lib and not os.access(args.burst_cycles_lib, os.R_OK):
        ap.error("the burst-cycles interposer is not at %s; build it (ninja -C <build>) or "
                 "pass --burst-cycles-lib" % args.burst_cycles_lib)
    args.burst_cycles_lib = os.path.abspath(args.burst_cycles_lib)
    if is_testpmd(args.vhu_pmd) and "iommu" in args.suites:
        ap.error("--suites iommu needs vhu-pmd (dpdk-testpmd's virtio-user has no vIOMMU); "
                 "leave it out for an A/A check")
    return args


def main():
    args = parse_args()
    info = machine_info(args.vhu_pmd)
    if info["load_average_before"][0] > 0.5:
        log("warning: load average %.2f; other processes will skew the numbers (see top)" %
            info["load_average_before"][0])
    log(run_time_note(len(args.suites) * len(args.directions) * len(args.sizes) *
                      len(args.sides) * args.repeats, args.repeats, args.max_repeats,
                      args.duration, more_when=MORE_RUNS_WHEN))
    bench = Bench(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = []
    interrupted = False
    started = datetime.datetime.now(datetime.timezone.utc)
    try:
        for suite in args.suites:
            what, subject, reference, target = SUITES[suite]
            setups = {"subject": subject, "reference": reference}
            for direction in args.directions:
                for size in args.sizes:
                    name = "%s/%s-%d" % (suite, direction, size)
                    if args.queues > 1:
                        name += "-q%d" % args.queues
                    case = {"suite": suite, "case": name, "queues": args.queues,
                            "direction": "guest->host" if direction == "g2h" else "host->guest",
                            "packet_size": size, "compares": what,
                            "subject": subject.describe(), "reference": reference.describe(),
                            "target": target,
                            "cycles_figure": "backend burst" if direction == "h2g" and
                            subject.burst_cycles and reference.burst_cycles else "receiver"}
                    key = ("burst_cycles" if case["cycles_figure"] == "backend burst"
                           else "rx_cycles")
                    per_side = {b: [] for b in args.sides}
                    rep = 0
                    while more_runs(per_side, key, rep, args.repeats, args.max_repeats):
                        order = args.sides if rep % 2 == 0 else list(reversed(args.sides))
                        rep += 1
                        for b in order:
                            run = run_summary(bench.run_once(setups[b], direction, size),
                                              args.window)
                            per_side[b].append(run)
                            log("%s %s run %d: %s" % (
                                case["case"], b, rep,
                                "%.1f cycles/packet (receiver), %s (backend burst), %.3f Mpps "
                                "(best %d s), %.3f Mpps (mean); %s" % (
                                    run["rx_cycles"], "%.1f" % run["burst_cycles"]
                                    if run["burst_cycles"] is not None else "-", run["mpps"],
                                    args.window, run["mean"], fmt_floors(run["floor_ns"]))
                                if run["mpps"] is not None else "failed: " + run["error"]))
                    summarise_case(case, per_side, target)
                    for b in args.sides:
                        share = case.get(b + "_burst_stalled_share")
                        if share is not None and share > STALLED_WARN:
                            log("warning: %s %s: %.1f %% of the burst calls took over 50 us "
                                "and are left out of its figure: a loaded machine, or bursts "
                                "that long (64 KB frames); see doc/performance.md" %
                                (case["case"], b, share * 100))
                    log("%s: cycles ratio %s (%s), each side alone %s, Mpps ratio %s "
                        "(target %.1f)" % (case["case"], case["cycles_ratio"],
                                           fmt_basis_log(case),
                                           case["cycles_ratio_alone"], case["mpps_ratio"],
                                           target))
                    results.append(case)
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted; the finished cases follow")
    finally:
        bench.stop_all()
    info["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    out = {
        "benchmark": "vhost_vs_dpdk",
        "date": started.isoformat(timespec="seconds"),
        "config": {
            "suites": {k: {"compares": SUITES[k][0], "subject": SUITES[k][1].describe(),
                           "reference": SUITES[k][2].describe(), "target": SUITES[k][3]}
                       for k in args.suites},
            "vhu_pmd_is_testpmd": is_testpmd(args.vhu_pmd),
            "duration_s": args.duration,
            "repeats": args.repeats,
            "max_repeats": args.max_repeats,
            "confirm": "more runs until every side has %d runs on one core-to-core floor "
                       "class (fast or slow; with no floor measured, until a second run is "
                       "within %d%% of each side's best Mpps and within %d%% of its cheapest "
                       "cycles)" % (FLOOR_RUNS, round(CONFIRM * 100), round(CYCLES_MODE * 100)),
            "window_s": args.window,
            "statistic": "cycles: of the primary figure (cycles_figure: the receiver's "
                         "CPU cycles/packet, busy polls only, or for h2g in the backend and "
                         "packed suites the backend's burst cycles/packet), each side's "
                         "cheapest run on the core-to-core floor class (fast, else slow) in "
                         "which every side has %d runs, else (cycles_basis) each side's " %
                         FLOOR_RUNS + "lowest run that a second run confirms within %d%% "
                         "(kept as *_cycles_alone), the ratio " % round(CYCLES_MODE * 100) +
                         "reference/subject; Mpps: best of " +
                         "repeats of the best %d-s rate in the receiver's steady statistics "
                         "periods, the ratio subject/reference" % args.window,
            "fast_share": "share of a side's time in stretches within %d%% of the case's best" %
                          round((1 - FAST) * 100),
            "ring_size": args.ring_size,
            "frontend_keys": args.frontend_keys,
            "burst": args.burst,
            "queues": args.queues,
            "backend_lcores": args.backend_lcores,
            "frontend_lcores": args.frontend_lcores,
            "eal_mem": args.eal_mem,
            "burst_cycles_lib": args.burst_cycles_lib,
        },
        "machine": info,
        "results": results,
        "summary": {r["case"]: r["cycles_ratio"] for r in results},
    }
    report(out, args.output, results_table(results), interrupted)
    return exit_status(results, interrupted)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "compare":
        sys.exit(compare_main(sys.argv[2:]))
    exit_with(main())
