#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""OVS-DPDK forwarding between two vhost-user ports, on DPDK's librte_vhost
and on vhu's.

The same unchanged ovs-vswitchd (Debian's ovs-vswitchd-dpdk) runs once with
the system's librte_vhost.so.23 (the reference, "DPDK") and once with vhu's
from <build>/lib/rte_vhost in its LD_LIBRARY_PATH (the subject, "vhu"); each
run checks in /proc/PID/maps which of the two it mapped.

  dpdk-testpmd (lcore 0)                          ovs-vswitchd (PMD on core 1)
  net_virtio_user0 (server) <==vhost-user==> vhu1 (dpdkvhostuserclient) \\ flows
  net_virtio_user1 (server) <==vhost-user==> vhu2 (dpdkvhostuserclient) / 1<->2

OVS has a netdev bridge with the two ports, one PMD thread pinned to core 1
(pmd-cpu-mask) and its other threads on core 0; the generator is one
dpdk-testpmd in io mode with its forwarding lcore on core 0, which fills the
loop with 'start tx_first N' (N bursts per port) and then forwards whatever
comes back out of one port into the other. The packets in flight circulate
through OVS's one PMD thread, which does everything OVS does per packet
(dequeue from one vhost-user port, classify, enqueue into the other), and
through testpmd's io forwarding, which does far less per packet: OVS is the
limit, which its idle share (near 0 %) shows in every run.

Cases: uni-64, uni-1518 (flow 1->2 only: OVS dequeues from vhu1 and
enqueues into vhu2) and bidir-64, bidir-1518 (flows 1->2 and 2->1).

The primary figure is OVS's own accounting, identical for both libraries:
'ovs-appctl dpif-netdev/pmd-stats-show', "avg processing cycles per packet"
(the PMD's busy iterations' cycles over the packets it received), cleared
with pmd-stats-clear after --warmup seconds and read --duration seconds
later. The machine is bimodal, so a case's headline pairs runs that met the
same machine, as vhost_vs_dpdk.py's does: before and after every run
test/perf/c2c (--c2c) measures the core-to-core floor between the two CPUs
the packets cross between, OVS's PMD core and the generator's forwarding
lcore; runs whose two floors agree are fast (<= 100 ns) or slow. Each
side's figure is its cheapest run on the class both sides have two runs in
(fast, else slow: cycles_basis), with half the range of its runs there,
and the ratio DPDK / vhu (above 1 when vhu's library costs less) against
--target; when no class has two runs of each, or no floor was measured (no
c2c), each side's lowest run that a second run confirms within 20 %
(vhost_vs_dpdk.py's cycles_mode()). Each side alone is kept beside it
(*_cycles_alone, cycles_ratio_alone). Beside them the rate (Mpps) the
generator received over the same window, best run.

Runs alternate reference and subject (which goes first alternates too),
--repeats per case, more up to --max-repeats until both sides have two runs
on one floor class (vhost_vs_dpdk.py's more_runs(); without floors, until
both sides' cycles are confirmed). Progress goes to stderr, the JSON (every
run) to --output, and stdout ends with a table: case, DPDK, vhu, ratio,
target, met, basis, alone. Not part of the test run and asserts nothing;
needs root, OVS-DPDK, dpdk-testpmd and --ovs-mem MB of free 2 MB hugepages
(OVS runs its EAL --in-memory). See doc/performance.md, "The same floor".
"""

import argparse
import datetime
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vhost_vs_dpdk import (BASIS_ALONE, CYCLES_MODE, FLOOR_FAST_MAX,  # noqa: E402
                           FLOOR_RUNS, FLOORS_OVERHEAD, MORE_RUNS_WHEN, NB_MBUFS, REPO,
                           binary_info, c2c_tool, cycles_mode, default_eal_mem,
                           exit_status, exit_with, fmt_basis, fmt_basis_log, fmt_floors,
                           fmt_mode, huge_free_mb, machine_info, measure_floor, median,
                           more_runs, put_class_figure, put_headline, put_mode, put_ratios,
                           put_same_floor, remove_dpdk_files, report, run_time_note)
import text_table  # noqa: E402

SIDES = ("reference", "subject")
LABEL = {"reference": "DPDK", "subject": "vhu"}
PMD_CORE = 1
# The generator's (testpmd's) forwarding lcore, its main lcore on PMD_CORE:
# the packets cross between these two, where the core-to-core floor is taken.
GEN_CORE = 0
# The defaults the time a whole run takes is computed from (--help, the docs).
CASES = 4  # uni and bidir, 64 and 1518 B
DURATION = 10
WARMUP = 3
REPEATS = 3
MAX_REPEATS = 6
# Seconds a run takes besides its warm-up and window: starting ovs-vswitchd
# and testpmd until both ports are up, the flows, and ovs-vswitchd's exit
# (about 9 s on the reference machine).
RUN_OVERHEAD = 9

# pmd-stats-show: one section per PMD thread ("pmd thread numa_id 0 core_id 1:")
# and one for the main thread, with "key: value" lines.
PMD_SECTION = re.compile(r"^pmd thread numa_id (\d+) core_id (\d+):\s*$", re.M)
PMD_LINE = re.compile(r"^\s+([a-z][a-z. ]*[a-z]):\s+([\d.]+)(?:\s+\(([\d.]+)%\))?", re.M)
# testpmd's 'show port stats all': "NIC statistics for port N" then "RX-packets: N".
PORT_RX = re.compile(r"NIC statistics for port (\d+)\s*#+\s*\n\s*RX-packets:\s+(\d+)", re.M)


def log(msg):
    print("ovs_vs_dpdk: " + msg, file=sys.stderr, flush=True)


def parse_pmd_stats(text, core=PMD_CORE):
    """The counters of the PMD thread on 'core' in pmd-stats-show's output, as
    a dict of floats ("processing cycles" the count, "processing cycles %" its
    share), or None when that thread is not in it."""
    heads = list(PMD_SECTION.finditer(text))
    for i, h in enumerate(heads):
        if int(h.group(2)) != core:
            continue
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        body = text[h.end():end]
        main = body.find("\nmain thread:")
        if main >= 0:
            body = body[:main]
        stats = {}
        for key, value, share in PMD_LINE.findall(body):
            stats[key] = float(value)
            if share:
                stats[key + " %"] = float(share)
        return stats
    return None


def port_rx(text):
    """Each port's RX-packets in the last 'show port stats all' of text."""
    rx = {}
    for port, n in PORT_RX.findall(text):
        rx[int(port)] = int(n)
    return rx


def window_mpps(rx0, rx1, seconds):
    """Packets the generator received on all its ports between two readings,
    per second, in millions; None without both readings or time."""
    if not rx0 or not rx1 or seconds <= 0 or set(rx0) != set(rx1):
        return None
    return sum(rx1[p] - rx0[p] for p in rx1) / seconds / 1e6


def on_cpu_share(run_ns0, run_ns1, seconds):
    """The share of a window the PMD thread spent on its core, from its
    schedstat run time at both ends; None without both."""
    if run_ns0 is None or run_ns1 is None or seconds <= 0:
        return None
    return min(1.0, (run_ns1 - run_ns0) / (seconds * 1e9))


def run_result(pmd, mpps, on_cpu=None):
    """What a case keeps of one run: OVS's figures for the window and the rate.

    OVS counts cycles with the TSC, so a PMD thread that another process
    pushes off its core is charged the cycles it did not run, in busy and
    idle iterations alike. cpu_cycles scales the processing cycles by the
    share of the window the thread was on its core (on_cpu): an estimate of
    what the work cost where the core is shared (as on a machine that
    builds beside the benchmark), equal to cycles on an idle one.
    """
    if pmd is None:
        return {"cycles": None, "cpu_cycles": None, "mpps": mpps, "on_cpu": on_cpu,
                "error": "no PMD statistics"}
    got = pmd.get("packets received", 0)
    cyc = pmd.get("avg processing cycles per packet") if got else None
    cpu = cyc * on_cpu if cyc is not None and on_cpu is not None else None
    return {"cycles": round(cyc, 1) if cyc is not None else None,
            "cpu_cycles": round(cpu, 1) if cpu is not None else None,
            "on_cpu": round(on_cpu, 3) if on_cpu is not None else None,
            "all_cycles": round(pmd.get("avg cycles per packet", 0), 1) if got else None,
            "idle_share": pmd.get("idle cycles %"),
            "batch": pmd.get("avg. packets per output batch"),
            "packets": int(got), "mpps": round(mpps, 3) if mpps is not None else None,
            "error": None if cyc is not None else "OVS received no packet in the window"}


def summarise_case(case, per_side, target):
    """A case's figures from each side's runs (run_result dicts, with
    "floor_ns"), as vhost_vs_dpdk.py's: OVS's processing cycles per packet,
    each side's cheapest run on the core-to-core floor class both sides
    have FLOOR_RUNS runs in (put_headline(); cycles_basis says which), else
    each side's cheapest confirmed mode, kept in every case as
    <side>_cycles_alone; the on-CPU cycles from the same runs (cpu_cycles,
    cpu_cycles_alone); the ratios reference / subject (above 1 when vhu
    costs less), of the headline and of each side alone; the best Mpps.
    A run counts for a class when it has no error and the figure
    (class_runs())."""
    for b, runs in per_side.items():
        cyc = [r["cycles"] for r in runs]
        put_mode(case, b + "_cycles", cyc)
        put_mode(case, b + "_cpu_cycles", [r.get("cpu_cycles") for r in runs])
        on = [r["on_cpu"] for r in runs if r.get("on_cpu") is not None]
        case[b + "_on_cpu_min"] = min(on) if on else None
        m = median(cyc)
        case[b + "_cycles_median"] = round(m, 1) if m is not None else None
        ok = [r["mpps"] for r in runs if r["mpps"] is not None]
        case[b + "_mpps"] = max(ok) if ok else None
        idle = [r["idle_share"] for r in runs if r.get("idle_share") is not None]
        case[b + "_idle_share_max"] = max(idle) if idle else None
        case[b + "_runs"] = runs
    cls = put_headline(case, per_side, "cycles")
    put_class_figure(case, per_side, "cpu_cycles", "cpu_cycles", cls)
    put_ratios(case, (("cycles_ratio", "cycles"), ("cpu_cycles_ratio", "cpu_cycles")))
    sub, ref = case.get("subject_cycles"), case.get("reference_cycles")
    case["cycles_saved"] = round(ref - sub, 1) if sub and ref else None
    put_same_floor(case, per_side, "cycles")
    case["meets_target"] = (case["cycles_ratio"] >= target
                            if case["cycles_ratio"] is not None else None)
    sub, ref = case.get("subject_mpps"), case.get("reference_mpps")
    case["mpps_ratio"] = round(sub / ref, 3) if sub and ref else None
    return case


def fmt_cycles(case, side, kind="cycles"):
    return fmt_mode(case, side + "_" + kind)


def fmt_share(case, key, pick, scale=1):
    v = [case.get(b + key) for b in SIDES]
    v = [x for x in v if x is not None]
    return "%.0f%%" % (pick(v) * scale) if v else "-"


def results_table(results):
    head = ["case", "DPDK c/p", "vhu c/p", "ratio", "target", "met", "basis", "alone",
            "DPDK cpu", "vhu cpu", "cpu ratio", "DPDK Mpps", "vhu Mpps", "PMD idle", "on-CPU"]
    rows = [head]
    for c in results:
        ratio = c.get("cycles_ratio")
        alone = c.get("cycles_ratio_alone")
        rows.append([c["case"], fmt_cycles(c, "reference"), fmt_cycles(c, "subject"),
                     "%.2f" % ratio if ratio is not None else "-", "%.1f" % c["target"],
                     {True: "yes", False: "NO"}.get(c.get("meets_target"), "-"),
                     fmt_basis(c), "%.2f" % alone if alone is not None else "-",
                     fmt_cycles(c, "reference", "cpu_cycles"),
                     fmt_cycles(c, "subject", "cpu_cycles"),
                     "%.2f" % c["cpu_cycles_ratio"] if c.get("cpu_cycles_ratio") else "-",
                     "%.2f" % c["reference_mpps"] if c.get("reference_mpps") else "-",
                     "%.2f" % c["subject_mpps"] if c.get("subject_mpps") else "-",
                     fmt_share(c, "_idle_share_max", max),
                     fmt_share(c, "_on_cpu_min", min, 100)])
    lines = text_table.render(rows)
    lines += ["c/p: OVS's PMD 'avg processing cycles per packet' (pmd-stats-show). basis fast "
              "2/3: each side's cheapest run among its runs on the fast",
              "core-to-core floor (test/perf/c2c between OVS's PMD core and the generator's, "
              "before and after the run, both <= %.0f ns) ± half the" % FLOOR_FAST_MAX,
              "range of those runs, and how many runs each side (DPDK/vhu) had there; slow: "
              "the same on the slow floor, where fewer than %d runs" % FLOOR_RUNS,
              "of a side met the fast one; alone: no floor had %d runs of each side, and each "
              "figure is that side's lowest run that a second" % FLOOR_RUNS,
              "confirms within %d%% ± half the range of the runs within it (?: no second run "
              "confirmed it). ratio: DPDK / vhu, above 1 when" % round(CYCLES_MODE * 100),
              "vhu's librte_vhost costs OVS less; alone: the ratio of each side's lowest "
              "confirmed run, whatever its floor. cpu: the same runs'",
              "cycles scaled by the share of the window the PMD thread was on its core (an "
              "estimate on a shared machine; ?: fewer than %d of" % FLOOR_RUNS,
              "them); Mpps: what the generator received, best run; PMD idle: the highest idle "
              "share of OVS's PMD in any run; on-CPU: the lowest",
              "share of a window the PMD ran."]
    return "\n".join(lines)


def without_rte_lib(path):
    """LD_LIBRARY_PATH without any directory holding vhu's library (as
    scripts/lib.sh), so that the reference loads the system's."""
    kept = [e for e in (path or "").split(":")
            if e and not e.rstrip("/").endswith(("/lib/rte_vhost", "/vhu"))]
    return ":".join(kept)


def mapped_vhost_lib(pid):
    """The librte_vhost.so.23 process pid maps, resolved, or None."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 6 and "/librte_vhost.so.23" in fields[5]:
                    return os.path.realpath(fields[5])
    except OSError:
        pass
    return None


def system_vhost_lib():
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    except OSError:
        return None
    for line in out.splitlines():
        if line.strip().startswith("librte_vhost.so.23 "):
            return os.path.realpath(line.split("=>")[-1].strip())
    return None


class Testpmd:
    """dpdk-testpmd at its interactive prompt, fed on stdin, output in a log."""

    def __init__(self, argv, logpath, prefix):
        self.logpath, self.prefix = logpath, prefix
        # Line-buffered: its answers reach the log as it prints them.
        stdbuf = shutil.which("stdbuf")
        if stdbuf:
            argv = [stdbuf, "-oL", "-eL"] + argv
        self.logf = open(logpath, "w")
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=self.logf,
                                  stderr=subprocess.STDOUT, text=True)

    def alive(self):
        return self.p.poll() is None

    def text(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def command(self, cmd, wait_for=None, timeout=10):
        """Sends cmd; with wait_for, waits until the log has one more line
        matching it than before and returns the log's text after cmd."""
        before = self.text()
        n = len(re.findall(wait_for, before)) if wait_for else 0
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()
        deadline = time.time() + timeout
        while wait_for:
            text = self.text()
            if len(re.findall(wait_for, text)) > n:
                return text[len(before):]
            if not self.alive() or time.time() > deadline:
                raise RuntimeError("testpmd did not answer '%s'" % cmd)
            time.sleep(0.02)
        return None

    def stop(self):
        if self.alive():
            try:
                self.p.stdin.write("stop\nquit\n")
                self.p.stdin.flush()
                self.p.wait(15)
            except (OSError, subprocess.TimeoutExpired):
                log("testpmd did not quit; killing it")
                self.p.kill()
                self.p.wait()
        self.logf.close()
        remove_dpdk_files(self.prefix)


class Ovs:
    """ovsdb-server with a database set up once, and ovs-vswitchd started
    and stopped per run, every file of theirs in one directory."""

    def __init__(self, args, workdir):
        self.args, self.dir = args, workdir
        self.env = dict(os.environ, OVS_RUNDIR=workdir, OVS_LOGDIR=workdir,
                        OVS_DBDIR=workdir, OVS_SYSCONFDIR=workdir)
        self.db = "unix:" + os.path.join(workdir, "db.sock")
        self.ovsdb = self.vswitchd = None
        self.vlog = None

    def run(self, argv, check=True):
        r = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=60)
        if check and r.returncode:
            raise RuntimeError("%s failed: %s" % (" ".join(argv[:3]), r.stderr.strip()))
        return r.stdout

    def vsctl(self, *a):
        return self.run(["ovs-vsctl", "--db=" + self.db, "--timeout=30"] + list(a))

    def appctl(self, *a, check=True):
        return self.run(["ovs-appctl", "-t", os.path.join(self.dir, "vswitchd.ctl"),
                         "--timeout=20"] + list(a), check=check)

    def start_db(self, socks):
        conf = os.path.join(self.dir, "conf.db")
        self.run(["ovsdb-tool", "create", conf, self.args.schema])
        self.ovsdb = subprocess.Popen(
            ["ovsdb-server", conf, "--remote=punix:" + os.path.join(self.dir, "db.sock"),
             "--unixctl=" + os.path.join(self.dir, "ovsdb-server.ctl"),
             "--log-file=" + os.path.join(self.dir, "ovsdb.log")],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while not os.path.exists(os.path.join(self.dir, "db.sock")):
            if self.ovsdb.poll() is not None or time.time() > deadline:
                raise RuntimeError("ovsdb-server did not come up")
            time.sleep(0.1)
        self.vsctl("--no-wait", "init")
        self.vsctl("--no-wait", "set", "Open_vSwitch", ".", "other_config:dpdk-init=true",
                   "other_config:dpdk-lcore-mask=0x1",
                   "other_config:pmd-cpu-mask=0x%x" % (1 << PMD_CORE),
                   "other_config:dpdk-socket-mem=%d" % self.args.ovs_mem,
                   "other_config:dpdk-socket-limit=%d" % self.args.ovs_mem,
                   "other_config:dpdk-extra=--no-pci")
        self.vsctl("--no-wait", "add-br", "br0", "--", "set", "bridge", "br0",
                   "datapath_type=netdev")
        for i, s in enumerate(socks, 1):
            self.vsctl("--no-wait", "add-port", "br0", "vhu%d" % i, "--", "set", "interface",
                       "vhu%d" % i, "type=dpdkvhostuserclient",
                       "options:vhost-server-path=" + s, "ofport_request=%d" % i)

    def start_vswitchd(self, side, tag):
        env = dict(self.env)
        kept = without_rte_lib(env.get("LD_LIBRARY_PATH"))
        if side == "subject":
            kept = self.args.rte_lib_dir + (":" + kept if kept else "")
        if kept:
            env["LD_LIBRARY_PATH"] = kept
        else:
            env.pop("LD_LIBRARY_PATH", None)
        self.vlog = os.path.join(self.dir, "vswitchd-%s.log" % tag)
        with open(self.vlog, "w") as logf:
            self.vswitchd = subprocess.Popen(
                [self.args.vswitchd, self.db, "--unixctl=" + os.path.join(self.dir, "vswitchd.ctl"),
                 "--pidfile=" + os.path.join(self.dir, "vswitchd.pid"), "-vconsole:info"],
                env=env, stdout=logf, stderr=subprocess.STDOUT)
        self.wait_log("DPDK Enabled - initialized", 1, 60)
        want = (os.path.realpath(os.path.join(self.args.rte_lib_dir, "librte_vhost.so.23"))
                if side == "subject" else system_vhost_lib())
        have = mapped_vhost_lib(self.vswitchd.pid)
        # Neither found is no check: a run must show which library it measured.
        if have is None or want is None or have != want:
            raise RuntimeError("ovs-vswitchd (%s) maps %s, not %s" % (side, have, want))
        return have

    def pmd_run_ns(self):
        """The PMD thread's time on a core so far (schedstat), in ns, or None."""
        task = "/proc/%d/task" % self.vswitchd.pid
        try:
            for tid in os.listdir(task):
                with open(os.path.join(task, tid, "comm")) as f:
                    if not f.read().startswith("pmd-c%02d" % PMD_CORE):
                        continue
                with open(os.path.join(task, tid, "schedstat")) as f:
                    return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
        return None

    def log_text(self):
        with open(self.vlog, errors="replace") as f:
            return f.read()

    def wait_log(self, what, count, timeout):
        deadline = time.time() + timeout
        while self.log_text().count(what) < count:
            if self.vswitchd.poll() is not None:
                raise RuntimeError("ovs-vswitchd exited; see " + self.vlog)
            if time.time() > deadline:
                if "creating tap device failed" in self.log_text():
                    # The netdev datapath's tap interfaces (ovs-netdev, br0)
                    # have one name per host, not per ovs-vswitchd.
                    raise RuntimeError("ovs-vswitchd could not create its datapath's tap "
                                       "device: another ovs-vswitchd on this host holds "
                                       "'ovs-netdev' or 'br0'; run one OVS at a time")
                raise RuntimeError("ovs-vswitchd did not log '%s' within %d s" % (what, timeout))
            time.sleep(0.1)

    def set_flows(self, bidir):
        deadline = time.time() + 30
        while True:
            r = subprocess.run(["ovs-ofctl", "del-flows", "br0"], env=self.env,
                               capture_output=True, text=True)
            if r.returncode == 0:
                break
            if time.time() > deadline:
                raise RuntimeError("br0's OpenFlow socket did not answer: " + r.stderr)
            time.sleep(0.1)
        self.run(["ovs-ofctl", "add-flow", "br0", "in_port=1,actions=output:2"])
        self.run(["ovs-ofctl", "add-flow", "br0",
                  "in_port=2,actions=" + ("output:1" if bidir else "drop")])

    def stop_vswitchd(self):
        if self.vswitchd is None:
            return
        if self.vswitchd.poll() is None:
            self.appctl("exit", check=False)
            try:
                self.vswitchd.wait(20)
            except subprocess.TimeoutExpired:
                log("ovs-vswitchd did not exit; killing it")
                self.vswitchd.kill()
                self.vswitchd.wait()
        self.vswitchd = None

    def stop(self):
        self.stop_vswitchd()
        if self.ovsdb is not None and self.ovsdb.poll() is None:
            self.ovsdb.terminate()
            self.ovsdb.wait(10)


class Bench:
    def __init__(self, args, workdir):
        self.args, self.dir = args, workdir
        self.socks = [os.path.join(workdir, "vu%d.sock" % i) for i in (1, 2)]
        self.ovs = Ovs(args, workdir)
        self.seq = 0
        self.libs = {}
        # The machine's core-to-core floor between OVS's PMD and the
        # generator's forwarding lcore, before and after each run.
        self.c2c = c2c_tool(args.c2c, log)
        self.floor_cpus = "%d,%d" % (PMD_CORE, GEN_CORE)

    def testpmd_argv(self, prefix):
        """The generator's command: its main lcore beside OVS's PMD, its
        forwarding lcore on GEN_CORE."""
        argv = [self.args.testpmd, "-l", "%d,%d" % (PMD_CORE, GEN_CORE), "--main-lcore",
                str(PMD_CORE), "--no-pci", "--file-prefix", prefix] + self.args.eal_mem.split()
        for i, s in enumerate(self.socks):
            argv += ["--vdev", "net_virtio_user%d,path=%s,server=1,queues=1,queue_size=%d" %
                     (i, s, self.args.ring_size)]
        argv += ["--", "-i", "--forward-mode=io", "--nb-cores=1", "--burst=32",
                 "--total-num-mbufs=%d" % NB_MBUFS, "--no-flush-rx"]
        return argv

    def testpmd(self, tag):
        prefix = "ovsperf-%d-%d" % (os.getpid(), self.seq)
        return Testpmd(self.testpmd_argv(prefix),
                       os.path.join(self.dir, "testpmd-%s.log" % tag), prefix)

    def run_once(self, side, bidir, size):
        self.seq += 1
        tag = "%d-%s" % (self.seq, side)
        gen = None
        floor_before = measure_floor(self.c2c, self.floor_cpus, log)
        try:
            for s in self.socks:
                if os.path.exists(s):
                    os.unlink(s)
            # testpmd's virtio-user waits at start for its client to connect,
            # one port after the other; OVS's client ports retry until it listens.
            self.libs[side] = self.ovs.start_vswitchd(side, tag)
            gen = self.testpmd(tag)
            for s in self.socks:
                self.ovs.wait_log("vHost Device '%s' has been added" % s, 1, 30)
            self.ovs.set_flows(bidir)
            gen.command("set txpkts %d" % size)
            gen.command("start tx_first %d" % self.args.bursts)
            time.sleep(self.args.warmup)
            t0 = time.monotonic()
            self.ovs.appctl("dpif-netdev/pmd-stats-clear")
            run0, c0 = self.ovs.pmd_run_ns(), time.monotonic()
            rx0 = port_rx(gen.command("show port stats all", r"NIC statistics for port 1"))
            t0 = (t0 + time.monotonic()) / 2
            time.sleep(self.args.duration)
            t1 = time.monotonic()
            shown = self.ovs.appctl("dpif-netdev/pmd-stats-show")
            with open(os.path.join(self.dir, "pmd-stats-%s.txt" % tag), "w") as f:
                f.write(shown)
            pmd = parse_pmd_stats(shown)
            run1, c1 = self.ovs.pmd_run_ns(), time.monotonic()
            rx1 = port_rx(gen.command("show port stats all", r"NIC statistics for port 1"))
            t1 = (t1 + time.monotonic()) / 2
            res = run_result(pmd, window_mpps(rx0, rx1, t1 - t0),
                             on_cpu_share(run0, run1, c1 - c0))
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            res = {"cycles": None, "mpps": None, "error": str(e)}
        finally:
            self.ovs.stop_vswitchd()
            if gen is not None:
                gen.stop()
        # Both stopped: nothing polls beside the floor.
        res["floor_ns"] = [floor_before, measure_floor(self.c2c, self.floor_cpus, log)]
        return res

    def run(self, results):
        """Runs every case, appending each to 'results' as it finishes, so
        that a Ctrl-C leaves the finished ones there."""
        self.ovs.start_db(self.socks)
        for bidir in self.args.bidir:
            for size in self.args.sizes:
                name = "%s-%d" % ("bidir" if bidir else "uni", size)
                case = {"case": name, "packet_size": size, "bidirectional": bidir,
                        "target": self.args.target}
                runs = {b: [] for b in SIDES}
                rep = 0
                # Its Mpps are a side figure: without floors its cycles alone decide.
                while more_runs(runs, "cycles", rep, self.args.repeats, self.args.max_repeats,
                                alone=lambda rs: cycles_mode([r["cycles"] for r in rs])[2]):
                    order = SIDES if rep % 2 == 0 else tuple(reversed(SIDES))
                    rep += 1
                    for b in order:
                        r = self.run_once(b, bidir, size)
                        runs[b].append(r)
                        log("%s %s run %d: %s" % (
                            name, LABEL[b], rep, "failed: " + r["error"] if r["error"] else
                            "%.1f cycles/packet (%.1f on-CPU), %.3f Mpps, PMD idle %.1f %%, "
                            "on its core %.0f %%, %.1f packets/batch; %s"
                            % (r["cycles"], r["cpu_cycles"] or 0, r["mpps"] or 0,
                               r["idle_share"] or 0, (r["on_cpu"] or 0) * 100, r["batch"] or 0,
                               fmt_floors(r.get("floor_ns")))))
                summarise_case(case, runs, self.args.target)
                log("%s: DPDK %s, vhu %s cycles/packet, ratio %s (%s), each side alone %s" % (
                    name, case["reference_cycles"], case["subject_cycles"],
                    case["cycles_ratio"], fmt_basis_log(case), case["cycles_ratio_alone"]))
                results.append(case)

    def stop(self):
        self.ovs.stop()


def measure(bench):
    """Runs bench's cases: (the finished cases, whether Ctrl-C stopped it).
    Its processes are stopped either way; a failure of the set-up (OVS's
    database) ends it with the cases before it."""
    results = []
    try:
        bench.run(results)
    except KeyboardInterrupt:
        log("interrupted; the finished cases follow")
        return results, True
    except RuntimeError as e:
        log("failed: %s" % e)
    finally:
        bench.stop()
    return results, False


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="With the defaults: " +
                                 run_time_note(CASES * len(SIDES) * REPEATS, REPEATS, MAX_REPEATS,
                                               DURATION + WARMUP, RUN_OVERHEAD + FLOORS_OVERHEAD,
                                               more_when=MORE_RUNS_WHEN) +
                                 ". See doc/performance.md for how to read the output.")
    build = os.environ.get("VHU_BUILD_DIR", os.path.join(REPO, "build"))
    ap.add_argument("--rte-lib-dir", default=os.path.join(build, "lib", "rte_vhost"),
                    help="directory of vhu's librte_vhost.so.23 (default <build>/lib/rte_vhost)")
    ap.add_argument("--vswitchd", default=os.environ.get(
        "VHU_OVS_VSWITCHD", "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"),
        help="ovs-vswitchd with DPDK (default Debian's ovs-vswitchd-dpdk)")
    ap.add_argument("--schema", default=os.environ.get(
        "VHU_OVS_SCHEMA", "/usr/share/openvswitch/vswitch.ovsschema"))
    ap.add_argument("--testpmd", default=os.environ.get("VHU_TESTPMD") or
                    shutil.which("dpdk-testpmd"), help="dpdk-testpmd binary (default: PATH)")
    ap.add_argument("--c2c", default=os.path.join(build, "test", "perf", "c2c"),
                    help="the core-to-core floor tool run before and after each run between "
                    "OVS's PMD core and the generator's (default <build>/test/perf/c2c)")
    ap.add_argument("--duration", type=float, default=DURATION,
                    help="seconds of the measured window per run (default %d)" % DURATION)
    ap.add_argument("--warmup", type=float, default=WARMUP,
                    help="seconds of traffic before the window (default %d)" % WARMUP)
    ap.add_argument("--repeats", type=int, default=REPEATS,
                    help="runs per case and library (default %d)" % REPEATS)
    ap.add_argument("--max-repeats", type=int, default=MAX_REPEATS,
                    help="more runs, up to this many, until both sides have %d runs on one "
                    "core-to-core floor, fast or slow (without test/perf/c2c: until a second "
                    "run comes within %d%%%% of each side's cheapest cycles) (default %d; = "
                    "--repeats to turn off)" % (FLOOR_RUNS, round(CYCLES_MODE * 100),
                                               MAX_REPEATS))
    ap.add_argument("--sizes", default="64,1518", help="frame sizes (default 64,1518)")
    ap.add_argument("--directions", default="uni,bidir",
                    help="uni (flow 1->2) and/or bidir (1<->2) (default both)")
    ap.add_argument("--ring-size", type=int, default=1024,
                    help="virtio ring size, set by the generator (default 1024)")
    ap.add_argument("--bursts", type=int, default=16,
                    help="bursts of 32 each port sends to fill the loop (default 16)")
    ap.add_argument("--target", type=float, default=1.0,
                    help="DPDK / vhu cycles ratio to meet (default 1.0)")
    ap.add_argument("--ovs-mem", type=int, default=512,
                    help="MB of hugepages for ovs-vswitchd (default 512)")
    ap.add_argument("--eal-mem", default=None,
                    help="testpmd's EAL memory options (default: as scripts/lib.sh chooses)")
    ap.add_argument("--output", "-o", help="also write the JSON to this file")
    ap.add_argument("--keep-logs", action="store_true", help="keep the logs")
    args = ap.parse_args()
    try:
        args.sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        ap.error("--sizes: %s is not a comma-separated list of byte counts" % args.sizes)
    if any(s < 60 or s > 1518 for s in args.sizes):
        ap.error("--sizes: give frame sizes of 60..1518 bytes (OVS's MTU is 1500)")
    dirs = args.directions.split(",")
    if any(d not in ("uni", "bidir") for d in dirs):
        ap.error("--directions: give uni and/or bidir")
    args.bidir = [d == "bidir" for d in dirs]
    if args.bursts * 32 >= args.ring_size:
        ap.error("--bursts: %d bursts of 32 would not fit a ring of %d; lower it or raise "
                 "--ring-size" % (args.bursts, args.ring_size))
    args.max_repeats = max(args.max_repeats, args.repeats)
    if args.repeats < 1 or args.duration < 1 or args.warmup < 0:
        ap.error("--repeats and --duration must be at least 1, --warmup not negative")
    if args.eal_mem is None:
        args.eal_mem = default_eal_mem()
    if not args.testpmd or not os.access(args.testpmd, os.X_OK):
        ap.error("dpdk-testpmd not found; install it with 'apt-get install dpdk' or "
                 "pass --testpmd")
    if not os.access(args.vswitchd, os.X_OK) or not os.access(args.schema, os.R_OK):
        ap.error("%s or %s not found; install OVS-DPDK with 'apt-get install "
                 "openvswitch-switch-dpdk' or pass --vswitchd/--schema" %
                 (args.vswitchd, args.schema))
    for tool in ("ovsdb-tool", "ovsdb-server", "ovs-vsctl", "ovs-ofctl", "ovs-appctl"):
        if not shutil.which(tool):
            ap.error("%s not found; install OVS-DPDK with 'apt-get install "
                     "openvswitch-switch-dpdk'" % tool)
    if not os.path.exists(os.path.join(args.rte_lib_dir, "librte_vhost.so.23")):
        ap.error("vhu's librte_vhost.so.23 is not in %s; build it (ninja -C build) or pass "
                 "--rte-lib-dir" % args.rte_lib_dir)
    if huge_free_mb() < args.ovs_mem:
        ap.error("ovs-vswitchd needs %d MB of free 2 MB hugepages (its EAL runs --in-memory) "
                 "and %d MB are free; reserve them with scripts/setup.sh" %
                 (args.ovs_mem, huge_free_mb()))
    return args


def main():
    args = parse_args()
    info = machine_info()
    # What was measured: vhu's library (the subject) and the one switch binary.
    info["vhu_rte_vhost"] = binary_info(os.path.join(args.rte_lib_dir, "librte_vhost.so.23"))
    info["ovs_vswitchd"] = binary_info(args.vswitchd)
    if info["load_average_before"][0] > 0.5:
        log("warning: load average %.2f; other processes will skew the numbers" %
            info["load_average_before"][0])
    log(run_time_note(len(args.bidir) * len(args.sizes) * len(SIDES) * args.repeats,
                      args.repeats, args.max_repeats, args.duration + args.warmup,
                      RUN_OVERHEAD + FLOORS_OVERHEAD, more_when=MORE_RUNS_WHEN))
    workdir = tempfile.mkdtemp(prefix="vhu-ovsperf.")
    bench = Bench(args, workdir)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = datetime.datetime.now(datetime.timezone.utc)
    try:
        results, interrupted = measure(bench)
    finally:
        if args.keep_logs:
            log("logs kept in " + workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    info["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    out = {
        "benchmark": "ovs_vs_dpdk",
        "date": started.isoformat(timespec="seconds"),
        "config": {
            "switch": "ovs-vswitchd %s, netdev bridge, two dpdkvhostuserclient ports, "
                      "one PMD thread on core %d" % (args.vswitchd, PMD_CORE),
            "reference": bench.libs.get("reference"), "subject": bench.libs.get("subject"),
            "generator": "dpdk-testpmd, two net_virtio_user ports (server=1), io, "
                         "start tx_first %d, forwarding lcore 0" % args.bursts,
            "measured": "pmd-stats-show avg processing cycles per packet",
            "floor_cpus": "%d,%d" % (PMD_CORE, GEN_CORE),
            "confirm": "more runs until both sides have %d runs on one core-to-core floor "
                       "class (fast or slow; with no floor measured, until a second run is "
                       "within %d%% of each side's cheapest cycles)" %
                       (FLOOR_RUNS, round(CYCLES_MODE * 100)),
            "statistic": "each side's cheapest run on the core-to-core floor class (fast, "
                         "else slow) in which both sides have %d runs, else (cycles_basis: "
                         "%s) each side's lowest run that a second confirms within %d%% (kept "
                         "as *_cycles_alone); the ratio reference/subject" %
                         (FLOOR_RUNS, BASIS_ALONE, round(CYCLES_MODE * 100)),
            "duration_s": args.duration, "warmup_s": args.warmup, "repeats": args.repeats,
            "max_repeats": args.max_repeats, "ring_size": args.ring_size,
            "eal_mem": args.eal_mem,
        },
        "machine": info,
        "results": results,
    }
    report(out, args.output, results_table(results) if results else None, interrupted, log)
    return exit_status(results, interrupted)


if __name__ == "__main__":
    exit_with(main())
