#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""PVP without a NIC: vhu-pmd between ethdev ports and a VM's vhost-user ports,
against dpdk-testpmd in its place.

The NFV set-up (physical port -> VM -> physical port) with DPDK's net_null
for the physical ports: a source at line rate, and a sink.

  host:   net_null0 (source) --io--> vhost-user 0 ==> frontend port 0
                                                          | io (the "VM")
  host:   net_null1 (sink)  <--io--  vhost-user 1 <== frontend port 1

The host side is the subject, vhu-pmd (ethdev and vhost-user ports), or the
reference, dpdk-testpmd (net_null and net_vhost ports); the frontend is
dpdk-testpmd with two virtio-user ports in io mode for both. Each side has
one forwarding lcore (the host's on lcore 1, the frontend's on lcore 0). A
run's rate is what reaches the host's second vhost-user port (port 2), read
from the host's periodic statistics like vhost_vs_dpdk.py reads its
receiver's: the best --window seconds of the steady part, subject and
reference alternating. The machine's fast and slow modes move the rate
several times over, so a size's runs are paired as vhost_vs_dpdk.py pairs
its cases': test/perf/c2c (--c2c) measures the core-to-core floor between
the two forwarding lcores before and after every run, a size runs
--repeats times and on (up to --max-repeats) until both sides have two
runs on one floor class, and each side's figure is its best run there
(fast, else slow: mpps_basis); without a common class or without c2c, each
side's best run (kept as *_mpps_alone, ratio_alone), and without floors
the size runs until each side's best is confirmed. Target: at least 1.0
of testpmd.

Prints JSON (and writes it to --output): per packet size the Mpps of each
side, every run and its floors, the ratio, the machine. Ctrl-C stops the run in
progress, prints and writes the finished sizes with "interrupted": true, and
exits with status 130. Not part of the test run; see doc/performance.md.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vhost_vs_dpdk import (CONFIRM, DURATION, FLOOR_RUNS, FLOORS_OVERHEAD,  # noqa: E402
                           MAX_REPEATS, MORE_RUNS_WHEN, NB_MBUFS, PROCESS_OVERHEAD, REPEATS,
                           REPO, STATS_PERIOD, STRETCH, WARMUP, Proc, best_window, c2c_tool,
                           confirmed, default_eal_mem, exit_status, exit_with, fmt_floors,
                           machine_info, measure_floor, more_runs, mpps, put_headline,
                           run_time_note, steady_stretches)

TARGET = 1.0
# The defaults' runs: two sizes, two sides, REPEATS each (parse_args()).
RUNS = 2 * 2 * REPEATS
# Seconds a run takes besides its --duration: starting the host and the VM
# until a packet comes back, stopping both, as vhost_vs_dpdk.py's runs, and
# the core-to-core floors around it.
RUN_OVERHEAD = PROCESS_OVERHEAD + FLOORS_OVERHEAD
# The host port whose received packets are the PVP's throughput: the VM's way back.
MEASURED_PORT = 2
NIC_BLOCK = re.compile(r"NIC statistics for port (\d+)\s*#+\s*\n\s*RX-packets:\s+(\d+)\s+"
                       r"RX-missed:.*?^\s*Rx-pps:\s+(\d+)", re.M | re.S)


def log(msg):
    print("pvp: " + msg, file=sys.stderr, flush=True)


def port_periods(text, port):
    """Port 'port''s statistics periods as (packets, seconds), oldest first."""
    blocks = [(int(n), int(r)) for p, n, r in NIC_BLOCK.findall(text) if int(p) == port]
    return [(n1 - n0, (n1 - n0) / r if r > 0 else STATS_PERIOD)
            for (n0, _), (n1, r) in zip(blocks, blocks[1:])]


class Pvp:
    def __init__(self, args):
        self.args = args
        self.procs = []
        self.seq = 0
        # The core-to-core floor between the host's forwarding lcore and the
        # VM's, before and after each run (test/perf/c2c; None without it).
        self.c2c = c2c_tool(args.c2c, log)
        self.floor_cpus = "%s,%s" % (args.host_lcores.split(",")[-1],
                                     args.frontend_lcores.split(",")[-1])

    def eal(self, lcores, prefix):
        return ["-l", lcores, "--main-lcore", lcores.split(",")[0], "--no-pci",
                "--file-prefix", prefix] + self.args.eal_mem.split()

    def app_args(self):
        return ["--forward-mode=io", "--nb-cores=1", "--stats-period=%d" % STATS_PERIOD,
                "--burst=%d" % self.args.burst, "--total-num-mbufs=%d" % NB_MBUFS]

    def host(self, side, socks, size, logdir):
        prefix = "vhu-pvp-%d-%d-host" % (os.getpid(), self.seq)
        argv = self.eal(self.args.host_lcores, prefix)
        # The source, the VM's two ports, the sink: ports 0..3, forwarding 0<->1, 2<->3.
        devs = ["net_null0,size=%d" % size, "net_vhost0,iface=%s,queues=1" % socks[0],
                "net_vhost1,iface=%s,queues=1" % socks[1], "net_null1,size=%d,no-rx=1" % size]
        if side == "reference":
            argv = [self.args.testpmd] + argv
            for d in devs:
                argv += ["--vdev", d]
            argv += ["--", "--no-flush-rx"]
        else:
            ports = ["ethdev,dev=" + devs[0], "vhost-user,iface=%s,queues=1" % socks[0],
                     "vhost-user,iface=%s,queues=1" % socks[1], "ethdev,dev=" + devs[3]]
            argv = [self.args.vhu_pmd] + argv + ["--"]
            for p in ports:
                argv += ["--port", p]
        return Proc("host (%s)" % side, argv + self.app_args(), os.path.join(logdir, "host.log"),
                    prefix)

    def frontend(self, socks, logdir):
        prefix = "vhu-pvp-%d-%d-vm" % (os.getpid(), self.seq)
        argv = [self.args.testpmd] + self.eal(self.args.frontend_lcores, prefix)
        for i, s in enumerate(socks):
            argv += ["--vdev", "net_virtio_user%d,path=%s,queues=1,queue_size=%d" %
                     (i, s, self.args.ring_size)]
        argv += ["--", "--no-flush-rx"] + self.app_args()
        return Proc("frontend", argv, os.path.join(logdir, "frontend.log"), prefix)

    def run_once(self, side, size):
        """One run: (steady stretches or None, error or None, the core-to-core
        floors before it started and after it stopped)."""
        self.seq += 1
        floor_before = measure_floor(self.c2c, self.floor_cpus, log)
        logdir = tempfile.mkdtemp(prefix="vhu-pvp.")
        socks = [os.path.join(logdir, "vm%d.sock" % i) for i in range(2)]
        host = vm = None
        samples = err = None
        try:
            host = self.host(side, socks, size, logdir)
            self.procs.append(host)
            deadline = time.time() + 20
            while not all(os.path.exists(s) for s in socks):
                if not host.alive() or time.time() > deadline:
                    raise RuntimeError("the host side did not create its sockets")
                time.sleep(0.1)
            vm = self.frontend(socks, logdir)
            self.procs.append(vm)
            deadline = time.time() + 30
            while not any(n for n, _ in port_periods(host.text(), MEASURED_PORT)):
                if not host.alive() or not vm.alive() or time.time() > deadline:
                    raise RuntimeError("no packet came back from the VM")
                time.sleep(0.1)
            first = len(port_periods(host.text(), MEASURED_PORT)) + 1
            time.sleep(self.args.duration)
            if not host.alive() or not vm.alive():
                raise RuntimeError("a process exited during the run")
            samples = steady_stretches(port_periods(host.text(), MEASURED_PORT)[first:])
            if not samples:
                raise RuntimeError("no whole statistics period; raise --duration")
        except RuntimeError as e:
            err = str(e)
        finally:
            for p in (vm, host):
                if p is not None:
                    p.stop()
                    self.procs.remove(p)
            if err is not None:
                for p in (host, vm):
                    if p is not None:
                        log("%s log tail:\n  %s" % (p.name,
                                                    "\n  ".join(p.text().splitlines()[-15:])))
            if self.args.keep_logs:
                log("logs kept in " + logdir)
            else:
                shutil.rmtree(logdir, ignore_errors=True)
        return samples, err, [floor_before, measure_floor(self.c2c, self.floor_cpus, log)]

    def stop_all(self):
        for p in list(self.procs):
            p.stop(5)
        self.procs = []


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="With the defaults (2 sizes x 2 sides x %d runs): %s. "
                                 "See doc/performance.md for how to read the output." % (
                                     REPEATS, run_time_note(RUNS, REPEATS, MAX_REPEATS,
                                                            DURATION,
                                                            RUN_OVERHEAD,
                                                            more_when=MORE_RUNS_WHEN)))
    build = os.environ.get("VHU_BUILD_DIR", os.path.join(REPO, "build"))
    ap.add_argument("--vhu-pmd", default=os.environ.get("VHU_PMD",
                                                        os.path.join(build, "app", "vhu-pmd")),
                    help="vhu-pmd binary (default: $VHU_PMD or <build>/app/vhu-pmd)")
    ap.add_argument("--testpmd", default=os.environ.get("VHU_TESTPMD") or
                    shutil.which("dpdk-testpmd"), help="dpdk-testpmd binary (default: PATH)")
    ap.add_argument("--c2c", default=os.path.join(build, "test", "perf", "c2c"),
                    help="the core-to-core floor tool run before and after each run between "
                    "the host's and the VM's forwarding lcores (default <build>/test/perf/c2c)")
    ap.add_argument("--duration", type=float, default=DURATION,
                    help="seconds of traffic per run (default %d)" % DURATION)
    ap.add_argument("--window", type=int, default=4,
                    help="seconds of a run's best part, its result (default 4)")
    ap.add_argument("--repeats", type=int, default=REPEATS,
                    help="runs per packet size and side; the best counts (default %d)" %
                    REPEATS)
    ap.add_argument("--max-repeats", type=int, default=MAX_REPEATS,
                    help="more runs, up to this many, until both sides have %d runs on one "
                    "core-to-core floor, fast or slow (without test/perf/c2c: until each "
                    "side's best is confirmed) (as vhost_vs_dpdk.py; default %d)" %
                    (FLOOR_RUNS, MAX_REPEATS))
    ap.add_argument("--sizes", default="64,1518", help="packet sizes (default 64,1518)")
    ap.add_argument("--sides", default="subject,reference",
                    help="subject (vhu-pmd) and/or reference (dpdk-testpmd) (default both)")
    ap.add_argument("--ring-size", type=int, default=256,
                    help="virtio ring size, set by the frontend (default 256)")
    ap.add_argument("--burst", type=int, default=32, help="packets per burst (default 32)")
    ap.add_argument("--host-lcores", default="0,1",
                    help="host side's main,forwarding lcores (default 0,1)")
    ap.add_argument("--frontend-lcores", default="1,0",
                    help="frontend's main,forwarding lcores (default 1,0)")
    ap.add_argument("--eal-mem", default=None,
                    help="EAL memory options (default: as scripts/lib.sh chooses)")
    ap.add_argument("--output", "-o", help="also write the JSON to this file")
    ap.add_argument("--keep-logs", action="store_true", help="keep each run's logs")
    args = ap.parse_args()
    try:
        args.sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        ap.error("--sizes: %s is not a comma-separated list of byte counts" % args.sizes)
    if any(s < 60 or s > 2048 for s in args.sizes):
        ap.error("--sizes: give frame sizes of 60..2048 bytes (one mbuf each)")
    args.sides = args.sides.split(",")
    if any(b not in ("subject", "reference") for b in args.sides):
        ap.error("--sides: give subject and/or reference")
    if args.eal_mem is None:
        args.eal_mem = default_eal_mem()
    args.max_repeats = max(args.max_repeats, args.repeats)
    if args.repeats < 1 or args.duration < 4 * STATS_PERIOD:
        ap.error("--repeats must be at least 1 and --duration at least %d s" %
                 (4 * STATS_PERIOD))
    if args.window < STRETCH or args.window > args.duration - WARMUP - 2 * STRETCH:
        ap.error("--window must be from %d s to --duration less %d s" %
                 (STRETCH, WARMUP + 2 * STRETCH))
    if not args.testpmd or not os.access(args.testpmd, os.X_OK):
        ap.error("dpdk-testpmd not found; install it with 'apt-get install dpdk-dev' or "
                 "pass --testpmd")
    if "subject" in args.sides and not os.access(args.vhu_pmd, os.X_OK):
        ap.error("vhu-pmd not found at %s; build it (scripts/setup.sh) or pass --vhu-pmd" %
                 args.vhu_pmd)
    return args


def summarise_size(case, runs):
    """A size's figures from each side's runs ({"mpps", "floor_ns"}), as
    vhost_vs_dpdk.py pairs its runs: each side's best Mpps among its runs
    on the core-to-core floor class both sides have FLOOR_RUNS runs in
    (fast, else slow; mpps_basis, mpps_basis_runs) with half the range of
    them as <side>_mpps_spread, else each side's best run (kept in every
    case as <side>_mpps_alone); ratio subject / reference and ratio_alone,
    meets_target against TARGET; every run's floors (<side>_floor_ns_runs)."""
    for b, rs in runs.items():
        ok = [r["mpps"] for r in rs if r["mpps"] is not None]
        case[b + "_mpps"] = max(ok) if ok else None
        case[b + "_mpps_spread"] = None
        case[b + "_mpps_confirmed"] = confirmed(ok)
        case[b + "_runs"] = [r["mpps"] for r in rs]
    put_headline(case, runs, "mpps", "mpps", max)
    for alone in ("", "_alone"):
        sub, ref = case.get("subject_mpps" + alone), case.get("reference_mpps" + alone)
        case["ratio" + alone] = round(sub / ref, 3) if sub and ref else None
    case["meets_target"] = case["ratio"] >= TARGET if case["ratio"] is not None else None
    for b, rs in runs.items():
        case[b + "_floor_ns_runs"] = [r["floor_ns"] for r in rs]
    return case


def main():
    args = parse_args()
    info = machine_info(args.vhu_pmd)
    if info["load_average_before"][0] > 0.5:
        log("warning: load average %.2f; other processes will skew the numbers" %
            info["load_average_before"][0])
    log(run_time_note(len(args.sizes) * len(args.sides) * args.repeats, args.repeats,
                      args.max_repeats, args.duration, RUN_OVERHEAD,
                      more_when=MORE_RUNS_WHEN))
    pvp = Pvp(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = datetime.datetime.now(datetime.timezone.utc)
    results = []
    interrupted = False
    try:
        for size in args.sizes:
            case = {"case": "pvp-%d" % size, "packet_size": size, "target": TARGET}
            runs = {b: [] for b in args.sides}
            rep = 0
            # Without floors, each side's best Mpps confirmed (confirmed()).
            while more_runs(runs, "mpps", rep, args.repeats, args.max_repeats,
                            alone=lambda rs: confirmed([r["mpps"] for r in rs])):
                order = args.sides if rep % 2 == 0 else list(reversed(args.sides))
                rep += 1
                for b in order:
                    periods, err, floors = pvp.run_once(b, size)
                    best = best_window(periods, args.window) if periods else None
                    runs[b].append({"mpps": round(best, 3) if best is not None else None,
                                    "floor_ns": floors})
                    log("%s %s run %d: %s" % (case["case"], b, rep,
                                              "%.3f Mpps (best %d s), %.3f Mpps (mean); %s" %
                                              (best, args.window, mpps(periods),
                                               fmt_floors(floors))
                                              if best is not None else "failed: " + err))
            summarise_size(case, runs)
            log("%s: ratio %s (%s), each side alone %s (target %.1f)" % (
                case["case"], case["ratio"], case["mpps_basis"], case["ratio_alone"], TARGET))
            results.append(case)
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted; partial results follow")
    finally:
        pvp.stop_all()
    info["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    out = {
        "benchmark": "pvp",
        "date": started.isoformat(timespec="seconds"),
        "config": {
            "subject": "vhu-pmd: ethdev (net_null) and vhost-user ports, io",
            "reference": "dpdk-testpmd: net_null and net_vhost ports, io",
            "frontend": "dpdk-testpmd: two net_virtio_user ports, io",
            "measured": "packets received by the host's port %d (back from the VM)" %
                        MEASURED_PORT,
            "duration_s": args.duration, "window_s": args.window, "repeats": args.repeats,
            "max_repeats": args.max_repeats, "ring_size": args.ring_size,
            "burst": args.burst, "host_lcores": args.host_lcores,
            "confirm": "more runs until both sides have %d runs on one core-to-core floor "
                       "class (fast or slow; with no floor measured, until a second run is "
                       "within %d%% of each side's best)" % (FLOOR_RUNS, round(CONFIRM * 100)),
            "frontend_lcores": args.frontend_lcores, "eal_mem": args.eal_mem,
        },
        "machine": info,
        "results": results,
        "summary": {r["case"]: r["ratio"] for r in results},
        "interrupted": interrupted,
    }
    text = json.dumps(out, indent=2)
    print(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    return exit_status(results, interrupted)


if __name__ == "__main__":
    exit_with(main())
