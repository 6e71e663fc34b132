#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vhu-blk against qemu-storage-daemon, both driven by vhu-blkgen.

Each case runs vhu-blkgen (vhu's virtio-blk front-end, one polling lcore)
against one backend at a time on the same kind of device, one request queue,
4 KiB random reads:

  null-qd1, null-qd32   a device that stores nothing: qemu's
                        --blockdev driver=null-co,size=SIZE against
                        vhu-blk --null=SIZE
  file-qd1, file-qd32   a raw image file on tmpfs (--tmpfs-dir): qemu's
                        driver=file (cache.direct=off: tmpfs has no O_DIRECT)
                        against vhu-blk --blk-file

qemu-storage-daemon serves its export from an iothread, the way it is
deployed for speed; vhu-blk polls its queue on one lcore. Each backend is
pinned to one core and vhu-blkgen to the other (--backend-cpu, --blkgen-cpu).

Each case runs --repeats times per backend, alternating which goes first, so
that a slow period of the machine favours neither; the best run of each
backend counts: the highest IOPS, and separately the lowest p99 latency.
The issue's targets: at depth 32 vhu-blk has at least 2x the IOPS of
qemu-storage-daemon, at depth 1 a lower p99.

vhu-blk is found at --vhu-blk (default <build>/app/vhu-blk). When it is not
there the script says so and measures qemu-storage-daemon alone.

Prints JSON (also written to --output) and ends with a table: each case's
best IOPS and p99 of both sides, the ratios and whether the target is met.
Not part of the test run and asserts nothing; see doc/performance.md.
Instructions per request, which do not depend on the machine's load, are
blk_instructions.py's.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import text_table

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASES = {
    "null-qd1": ("null", 1),
    "null-qd32": ("null", 32),
    "file-qd1": ("file", 1),
    "file-qd32": ("file", 32),
}
BACKENDS = ("qsd", "vhu-blk")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    build = os.environ.get("VHU_BUILD_DIR", os.path.join(REPO, "build"))
    p.add_argument("--blkgen", default=os.path.join(build, "app", "vhu-blkgen"),
                   help="vhu-blkgen binary (default: %(default)s)")
    p.add_argument("--vhu-blk", default=os.path.join(build, "app", "vhu-blk"),
                   help="vhu-blk binary (default: %(default)s)")
    p.add_argument("--qsd", default=shutil.which("qemu-storage-daemon"),
                   help="qemu-storage-daemon binary (default: from PATH)")
    p.add_argument("--cases", default=",".join(CASES),
                   help="comma-separated cases (default: %(default)s)")
    p.add_argument("--runtime", type=float, default=5.0,
                   help="seconds of each vhu-blkgen run (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=3,
                   help="runs per backend and case (default: %(default)s)")
    p.add_argument("--null-size", default="1G",
                   help="size of the null devices (default: %(default)s)")
    p.add_argument("--file-size", default="256M",
                   help="size of the image file (default: %(default)s)")
    p.add_argument("--tmpfs-dir", default="/dev/shm",
                   help="tmpfs directory for the image (default: %(default)s)")
    p.add_argument("--backend-cpu", type=int, default=0,
                   help="CPU of the backend (default: %(default)s)")
    p.add_argument("--blkgen-cpu", type=int, default=1,
                   help="CPU of vhu-blkgen (default: %(default)s)")
    p.add_argument("--output", help="also write the JSON result here")
    a = p.parse_args()
    a.cases = [c for c in a.cases.split(",") if c]
    for c in a.cases:
        if c not in CASES:
            p.error(f"--cases: '{c}' is not a case; use {', '.join(CASES)}")
    if a.repeats < 1 or a.runtime <= 0:
        p.error("--repeats must be at least 1 and --runtime more than 0")
    if not a.qsd or not os.access(a.qsd, os.X_OK):
        p.error("qemu-storage-daemon not found; install qemu-system-common or pass --qsd")
    if not os.access(a.blkgen, os.X_OK):
        p.error(f"vhu-blkgen not found at {a.blkgen}; build it (ninja -C build) or pass --blkgen")
    return a


def size_bytes(s):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    s = s.strip().upper()
    if s and s[-1] in units:
        return int(s[:-1]) * units[s[-1]]
    return int(s)


def eal_mem():
    if os.environ.get("VHU_EAL_MEM"):
        return os.environ["VHU_EAL_MEM"].split()
    return ["--no-huge", "-m", "512"]


def wait_socket(proc, path, log, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"the backend exited ({proc.returncode}) before it created "
                               f"{path}:\n{open(log).read()[-2000:]}")
        time.sleep(0.05)
    raise RuntimeError(f"the backend did not create {path} within {timeout:.0f} s")


def start_backend(args, backend, kind, work, n, wrap=(), iothread=""):
    """Start one backend serving a socket in 'work'; 'wrap' is a command put
    before it (valgrind), 'iothread' more options of qsd's iothread."""
    sock = os.path.join(work, f"{backend}-{n}.sock")
    log = os.path.join(work, f"{backend}-{n}.log")
    image = os.path.join(work, "disk.img") if kind == "file" else None
    if backend == "qsd":
        if kind == "null":
            dev = [f"driver=null-co,node-name=disk0,size={size_bytes(args.null_size)}"]
        else:
            dev = [f"driver=file,node-name=file0,filename={image},cache.direct=off",
                   "driver=raw,node-name=disk0,file=file0"]
        cmd = ["taskset", "-c", str(args.backend_cpu)] + list(wrap) + [
               args.qsd, "--object", "iothread,id=io0" + iothread]
        for d in dev:
            cmd += ["--blockdev", d]
        cmd += ["--export", "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,"
                f"addr.path={sock},writable=on,num-queues=1,iothread=io0"]
    else:
        cmd = list(wrap) + [args.vhu_blk, "-l", str(args.backend_cpu), "--no-pci",
               "--file-prefix", f"vhublk-{os.getpid()}-{n}"] + eal_mem() + [
               "--", f"--socket-path={sock}", "--queues=1"]
        cmd += [f"--null={args.null_size}"] if kind == "null" else [f"--blk-file={image}"]
    with open(log, "w") as f:
        f.write(" ".join(cmd) + "\n")
        f.flush()
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_socket(proc, sock, log, timeout=120.0 if wrap else 20.0)
    except Exception:
        stop(proc)
        raise
    return proc, sock, log


def stop(proc, timeout=10):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def blkgen_cmd(args, sock, depth, n, run, wrap=()):
    """vhu-blkgen's command line: 4 KiB random reads on one queue at 'depth',
    'run' its --runtime or --ios option, 'wrap' a command put before it."""
    return list(wrap) + [args.blkgen, "-l", str(args.blkgen_cpu), "--no-pci",
                         "--file-prefix", f"blkgen-{os.getpid()}-{n}"] + eal_mem() + [
        "--", f"--socket-path={sock}", "--rw=randread", "--bs=4K", f"--iodepth={depth}",
        "--queues=1", run, "--quiet"]


def run_blkgen(args, sock, depth, work, n):
    out = os.path.join(work, f"blkgen-{n}.json")
    cmd = blkgen_cmd(args, sock, depth, n, f"--runtime={args.runtime}") + [f"--json={out}"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.runtime + 90)
    if r.returncode != 0:
        raise RuntimeError(f"vhu-blkgen failed ({r.returncode}): {r.stderr.strip()[-1500:]}")
    with open(out) as f:
        return json.load(f)


def measure(args, backends, work):
    runs = {c: {b: [] for b in backends} for c in args.cases}
    n = 0
    for case in args.cases:
        kind, depth = CASES[case]
        if kind == "file":
            with open(os.path.join(work, "disk.img"), "wb") as f:
                f.truncate(size_bytes(args.file_size))
        for rep in range(args.repeats):
            order = backends if rep % 2 == 0 else tuple(reversed(backends))
            for b in order:
                n += 1
                proc, sock, log = start_backend(args, b, kind, work, n)
                try:
                    r = run_blkgen(args, sock, depth, work, n)
                finally:
                    stop(proc)
                runs[case][b].append(r)
                print(f"{case:10} {b:8} run {rep + 1}: {r['iops']:10.0f} IOPS, "
                      f"p99 {r['lat_ns']['p99'] / 1e3:8.1f} us", file=sys.stderr)
    return runs


def summarise(runs):
    result = {}
    for case, per in runs.items():
        row = {}
        for b, rs in per.items():
            if rs:
                row[b] = {"iops": max(r["iops"] for r in rs),
                          "p99_us": min(r["lat_ns"]["p99"] for r in rs) / 1e3,
                          "p50_us": min(r["lat_ns"]["p50"] for r in rs) / 1e3}
        if "qsd" in row and "vhu-blk" in row:
            row["iops_ratio"] = row["vhu-blk"]["iops"] / max(row["qsd"]["iops"], 1)
            row["p99_ratio"] = row["vhu-blk"]["p99_us"] / max(row["qsd"]["p99_us"], 1e-9)
        result[case] = row
    return result


def target_of(case):
    """The issue's target for a case: (what it says, the test on a summary row)."""
    if CASES[case][1] == 1:
        return "p99 below qsd's", lambda row: row["p99_ratio"] < 1.0
    return "2x qsd's IOPS", lambda row: row["iops_ratio"] >= 2.0


def table(summary):
    """The table the output ends with: each side's best IOPS and p99, the
    ratios, the case's target and whether it is met."""
    def cell(d, key, fmt):
        return fmt % d[key] if d is not None and key in d else "-"

    rows = [["case", "qsd IOPS", "vhu-blk IOPS", "ratio", "qsd p99 us", "vhu-blk p99 us",
             "ratio", "target", "met"]]
    for case, row in summary.items():
        q, v = row.get("qsd"), row.get("vhu-blk")
        what, test = target_of(case)
        met = "-" if "iops_ratio" not in row else ("yes" if test(row) else "NO")
        rows.append([case, cell(q, "iops", "%.0f"), cell(v, "iops", "%.0f"),
                     cell(row, "iops_ratio", "%.2f"), cell(q, "p99_us", "%.1f"),
                     cell(v, "p99_us", "%.1f"), cell(row, "p99_ratio", "%.2f"), what, met])
    lines = text_table.render(rows)
    lines.append("best run of each side: highest IOPS, lowest p99; ratios are vhu-blk / qsd; "
                 "the targets are issue 14's (2x at depth 32, a lower p99 at depth 1)")
    return "\n".join(lines)


def main():
    args = parse_args()
    backends = BACKENDS
    note = None
    if not os.access(args.vhu_blk, os.X_OK):
        note = (f"vhu-blk not found at {args.vhu_blk}: build it or pass --vhu-blk; "
                "measuring qemu-storage-daemon alone, no ratios")
        print(f"blk_vs_qsd: {note}", file=sys.stderr)
        backends = ("qsd",)
    if not os.path.isdir(args.tmpfs_dir) and any(CASES[c][0] == "file" for c in args.cases):
        sys.exit(f"blk_vs_qsd: --tmpfs-dir {args.tmpfs_dir} is not a directory")
    work = tempfile.mkdtemp(prefix="vhu-blk-vs-qsd.", dir=args.tmpfs_dir)
    try:
        runs = measure(args, backends, work)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        sys.exit(f"blk_vs_qsd: {e}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = summarise(runs)
    qsd_version = subprocess.run([args.qsd, "--version"], capture_output=True,
                                 text=True).stdout.split("\n")[0]
    out = {
        "benchmark": "blk_vs_qsd",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                    "cpu": platform.processor()},
        "config": {"rw": "randread", "bs": 4096, "queues": 1, "runtime_s": args.runtime,
                   "repeats": args.repeats, "null_size": args.null_size,
                   "file_size": args.file_size, "backend_cpu": args.backend_cpu,
                   "blkgen_cpu": args.blkgen_cpu, "qsd": qsd_version},
        "note": note,
        "summary": summary,
        "runs": runs,
    }
    text = json.dumps(out, indent=2)
    print(text)
    print(table(summary))
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
