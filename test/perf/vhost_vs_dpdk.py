#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vhu's vhost-user backend against DPDK's, with the same frontend.

dpdk-testpmd's virtio-user (the frontend: the guest's side) is connected in
turn to vhu-pmd's vhost-user port (vhu) and to dpdk-testpmd's net_vhost (dpdk),
on the same lcores, with the same ring size, burst size and packet sizes, for
both directions:

  g2h (guest to host): the frontend sends (txonly), the backend receives (rxonly)
  h2g (host to guest): the backend sends (txonly), the frontend receives (rxonly)

Each case runs --repeats times per backend, alternating which backend goes
first, so that a slow period of the machine does not favour one side. A run
measures the receiver's Rx-pps (dpdk-testpmd's periodic statistics, which
vhu-pmd prints in the same format) over the steady part of --duration
seconds: the statistics periods that lie wholly inside the traffic, less the
first (warm-up). The best run of each backend is compared: the two DPDK
processes of a run share two cores, and some runs land in a slower mode, which
best-of-N filters out.

Prints JSON (and writes it to --output): per case the best Mpps of vhu and of
dpdk, the ratio vhu/dpdk, every run, the configuration and the machine.
Not part of the test run and asserts nothing; see doc/performance.md.
Needs root (or hugepage and runtime-directory rights) like any DPDK process.
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

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NB_MBUFS = 16384
HUGE_NEED_MB = 512
STATS_PERIOD = 1


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


def is_testpmd(path):
    return "testpmd" in os.path.basename(path)


class Proc:
    """A busy-polling DPDK process with its output in a log file."""

    def __init__(self, name, argv, logpath, prefix):
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
                                      stderr=subprocess.STDOUT)

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
        mnt = huge_mount()
        if mnt:
            for f in glob.glob(os.path.join(mnt, self.prefix + "map_*")):
                try:
                    os.unlink(f)
                except OSError:
                    pass
        for d in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/nonexistent"),
                                                "dpdk")):
            shutil.rmtree(os.path.join(d, self.prefix), ignore_errors=True)


RX_PACKETS = re.compile(r"RX-packets:\s+(\d+)\s+RX-missed:")
RX_PPS = re.compile(r"^\s*Rx-pps:\s+(\d+)", re.M)
# DPDK's lib/vhost: "negotiated Virtio features: 0x..."; vhu: "negotiated features 0x...".
FEATURES = re.compile(r"negotiated (?:Virtio )?features:? (0x[0-9a-fA-F]+)")


def nic_rx_packets(text):
    found = RX_PACKETS.findall(text)
    return int(found[-1]) if found else 0


def rx_pps_samples(text):
    return [int(v) for v in RX_PPS.findall(text)]


class Bench:
    def __init__(self, args):
        self.args = args
        self.eal_mem = args.eal_mem.split()
        self.procs = []
        self.seq = 0

    def eal(self, lcores, prefix):
        main = lcores.split(",")[0]
        return ["-l", lcores, "--main-lcore", main, "--no-pci", "--file-prefix", prefix] + \
            self.eal_mem

    def app_args(self, mode, size):
        a = ["--forward-mode=" + mode, "--nb-cores=1", "--stats-period=%d" % STATS_PERIOD,
             "--burst=%d" % self.args.burst, "--total-num-mbufs=%d" % NB_MBUFS]
        if mode == "txonly":
            a.append("--txpkts=%d" % size)
        return a

    def start_backend(self, backend, sock, mode, size, logdir):
        binary = self.args.vhu_pmd if backend == "vhu" else self.args.testpmd
        prefix = "vhu-perf-%d-%d-be" % (os.getpid(), self.seq)
        eal = self.eal(self.args.backend_lcores, prefix)
        if is_testpmd(binary):
            argv = [binary] + eal + ["--vdev", "net_vhost0,iface=%s,queues=1,client=0" % sock,
                                     "--", "--no-flush-rx"] + self.app_args(mode, size)
        else:
            argv = [binary] + eal + ["--", "--port", "vhost-user,iface=%s,queues=1,client=0" %
                                     sock] + self.app_args(mode, size)
        return Proc("backend (%s)" % backend, argv, os.path.join(logdir, "backend.log"), prefix)

    def start_frontend(self, sock, mode, size, logdir):
        prefix = "vhu-perf-%d-%d-fe" % (os.getpid(), self.seq)
        argv = [self.args.testpmd] + self.eal(self.args.frontend_lcores, prefix) + \
            ["--vdev", "net_virtio_user0,path=%s,queues=1,queue_size=%d" %
             (sock, self.args.ring_size), "--", "--no-flush-rx"] + self.app_args(mode, size)
        return Proc("frontend", argv, os.path.join(logdir, "frontend.log"), prefix)

    def run_once(self, backend, direction, size):
        """One run; returns (Mpps or None, error or None, negotiated features or None)."""
        self.seq += 1
        logdir = tempfile.mkdtemp(prefix="vhu-perf.")
        sock = os.path.join(logdir, "vhost.sock")
        be_mode, fe_mode = ("rxonly", "txonly") if direction == "g2h" else ("txonly", "rxonly")
        be = fe = None
        err = None
        mpps = None
        features = None
        try:
            be = self.start_backend(backend, sock, be_mode, size, logdir)
            self.procs.append(be)
            deadline = time.time() + 20
            while not os.path.exists(sock):
                if not be.alive() or time.time() > deadline:
                    raise RuntimeError("the backend did not create its socket")
                time.sleep(0.1)
            fe = self.start_frontend(sock, fe_mode, size, logdir)
            self.procs.append(fe)
            receiver = be if direction == "g2h" else fe
            deadline = time.time() + 30
            while nic_rx_packets(receiver.text()) == 0:
                if not be.alive() or not fe.alive() or time.time() > deadline:
                    raise RuntimeError("no packet reached the receiver")
                time.sleep(0.1)
            # Skip the period in which traffic started and one of warm-up.
            first = len(rx_pps_samples(receiver.text())) + 2
            time.sleep(self.args.duration)
            if not be.alive() or not fe.alive():
                raise RuntimeError("a process exited during the run")
            steady = rx_pps_samples(receiver.text())[first:]
            if not steady:
                raise RuntimeError("no whole statistics period; raise --duration")
            mpps = sum(steady) / len(steady) / 1e6
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
            if self.args.keep_logs:
                log("logs kept in " + logdir)
            else:
                shutil.rmtree(logdir, ignore_errors=True)
        return mpps, err, features

    def stop_all(self):
        for p in list(self.procs):
            p.stop(5)
        self.procs = []


def cmd_output(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info():
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
        "vhu": cmd_output(["git", "-C", REPO, "describe", "--always", "--dirty"]),
        "hugepages_free_mb": huge_free_mb(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="See doc/performance.md for how to read the output.")
    build = os.environ.get("VHU_BUILD_DIR", os.path.join(REPO, "build"))
    ap.add_argument("--vhu-pmd", default=os.environ.get("VHU_PMD",
                                                        os.path.join(build, "app", "vhu-pmd")),
                    help="vhu-pmd binary (default: $VHU_PMD or <build>/app/vhu-pmd); a "
                    "dpdk-testpmd here runs DPDK against itself, to check the harness")
    ap.add_argument("--testpmd", default=os.environ.get("VHU_TESTPMD") or
                    shutil.which("dpdk-testpmd"), help="dpdk-testpmd binary (default: PATH)")
    ap.add_argument("--duration", type=float, default=8,
                    help="seconds of traffic per run (default 8)")
    ap.add_argument("--repeats", type=int, default=3,
                    help="runs per case and backend; the best counts (default 3)")
    ap.add_argument("--sizes", default="64,1518", help="packet sizes (default 64,1518)")
    ap.add_argument("--directions", default="g2h,h2g",
                    help="g2h (guest to host) and/or h2g (default both)")
    ap.add_argument("--backends", default="vhu,dpdk", help="vhu and/or dpdk (default both)")
    ap.add_argument("--ring-size", type=int, default=256,
                    help="virtio ring size, set by the frontend (default 256)")
    ap.add_argument("--burst", type=int, default=32, help="packets per burst (default 32)")
    ap.add_argument("--backend-lcores", default="0,1",
                    help="backend's main,forwarding lcores (default 0,1)")
    ap.add_argument("--frontend-lcores", default="1,0",
                    help="frontend's main,forwarding lcores (default 1,0)")
    ap.add_argument("--eal-mem", default=None,
                    help="EAL memory options (default: as scripts/lib.sh chooses)")
    ap.add_argument("--output", "-o", help="also write the JSON to this file")
    ap.add_argument("--keep-logs", action="store_true", help="keep each run's logs")
    args = ap.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.directions = args.directions.split(",")
    args.backends = args.backends.split(",")
    if args.eal_mem is None:
        args.eal_mem = default_eal_mem()
    for d in args.directions:
        if d not in ("g2h", "h2g"):
            ap.error("--directions: %s is not g2h or h2g" % d)
    for b in args.backends:
        if b not in ("vhu", "dpdk"):
            ap.error("--backends: %s is not vhu or dpdk" % b)
    # Two periods are skipped (the one traffic starts in, and warm-up): at
    # least two must remain.
    if args.repeats < 1 or args.duration < 4 * STATS_PERIOD:
        ap.error("--repeats must be at least 1 and --duration at least %d s" %
                 (4 * STATS_PERIOD))
    if not args.testpmd or not os.access(args.testpmd, os.X_OK):
        ap.error("dpdk-testpmd not found; install it with 'apt-get install dpdk-dev' or "
                 "pass --testpmd")
    if "vhu" in args.backends and not os.access(args.vhu_pmd, os.X_OK):
        ap.error("vhu-pmd not found at %s; build it (scripts/setup.sh) or pass --vhu-pmd, "
                 "or measure DPDK alone with --backends dpdk" % args.vhu_pmd)
    return args


def main():
    args = parse_args()
    info = machine_info()
    if info["load_average_before"][0] > 0.5:
        log("warning: load average %.2f; other processes will skew the numbers (see top)" %
            info["load_average_before"][0])
    bench = Bench(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = []
    started = datetime.datetime.now(datetime.timezone.utc)
    try:
        for direction in args.directions:
            for size in args.sizes:
                case = {"case": "%s-%d" % (direction, size),
                        "direction": "guest->host" if direction == "g2h" else "host->guest",
                        "packet_size": size}
                runs = {b: [] for b in args.backends}
                features = {b: None for b in args.backends}
                for rep in range(args.repeats):
                    order = args.backends if rep % 2 == 0 else list(reversed(args.backends))
                    for b in order:
                        mpps, err, feat = bench.run_once(b, direction, size)
                        runs[b].append(round(mpps, 3) if mpps is not None else None)
                        features[b] = features[b] or feat
                        log("%s %s run %d: %s" % (case["case"], b, rep + 1,
                                                  "%.3f Mpps" % mpps if mpps is not None
                                                  else "failed: " + err))
                for b in args.backends:
                    ok = [m for m in runs[b] if m is not None]
                    case[b + "_mpps"] = max(ok) if ok else None
                    case[b + "_runs"] = runs[b]
                    # What the frontend and this backend agreed on: a feature one
                    # backend offers and the other does not changes the work.
                    case[b + "_features"] = features[b]
                if case.get("vhu_mpps") and case.get("dpdk_mpps"):
                    case["ratio"] = round(case["vhu_mpps"] / case["dpdk_mpps"], 3)
                else:
                    case["ratio"] = None
                results.append(case)
    except KeyboardInterrupt:
        log("interrupted; partial results follow")
    finally:
        bench.stop_all()
    info["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    out = {
        "benchmark": "vhost_vs_dpdk",
        "date": started.isoformat(timespec="seconds"),
        "config": {
            "frontend": "dpdk-testpmd net_virtio_user",
            "vhu": "vhu-pmd vhost-user port" + (" (a dpdk-testpmd: A/A check)"
                                                if is_testpmd(args.vhu_pmd) else ""),
            "dpdk": "dpdk-testpmd net_vhost",
            "duration_s": args.duration,
            "repeats": args.repeats,
            "statistic": "best of repeats of the mean steady receiver Rx-pps",
            "ring_size": args.ring_size,
            "burst": args.burst,
            "backend_lcores": args.backend_lcores,
            "frontend_lcores": args.frontend_lcores,
            "eal_mem": args.eal_mem,
        },
        "machine": info,
        "results": results,
    }
    text = json.dumps(out, indent=2)
    print(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
