#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Shell test through a pseudo-terminal: vhu-pmd -i as a person at a terminal
uses it, with line editing, history and tab completion (libedit).

Completion is checked by its effect: a line typed as abbreviations and Tab
keys must run the command it completes to. Then: the list of choices on a
second Tab (ports, modes), history (Up recalls a line, which runs again),
editing keys (Left, Backspace, Ctrl-A, Ctrl-U), a wrong command (error and
usage, the shell goes on), Ctrl-D on an empty line (quit, status 0) and
Ctrl-C (quit, status 0), also when the SIGINT lands on another of
vhu-pmd's threads while the shell waits for a line, on a terminal
and with commands from a pipe.

Exit status: 0 pass, 1 fail, 77 skip (vhu-pmd was built without libedit).
Environment: VHU_PMD or VHU_BUILD_DIR (where vhu-pmd is), VHU_HAVE_LIBEDIT
(set by meson: 0 when the build has no line editing).
"""
import ctypes
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time

PROG = "shell-pty"
PROMPT = "vhu-pmd> "
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# tgkill's system call number, by machine (Python has no call for it).
SYS_TGKILL = {"x86_64": 234, "aarch64": 131}.get(os.uname().machine)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z@]|\x1b[=>]|[\r\x07]")


def log(msg):
    print(f"{PROG}: {msg}", file=sys.stderr)


class Pmd:
    """vhu-pmd -i on a pseudo-terminal; the screen text it wrote, escapes removed."""

    def __init__(self, prefix):
        build = os.environ.get("VHU_BUILD_DIR", os.path.join(ROOT, "build"))
        binary = os.environ.get("VHU_PMD", os.path.join(build, "app", "vhu-pmd"))
        if not os.access(binary, os.X_OK):
            log(f"vhu-pmd not found at {binary}; build it or set VHU_PMD")
            sys.exit(1)
        self.prefix = prefix
        argv = [binary, "-l", "0,1", "--main-lcore", "0", "--no-pci", "--no-huge", "-m", "256",
                "--file-prefix", prefix, "--", "-i", "--total-num-mbufs=4096",
                "--port", "ring,name=a,peer=b", "--port", "ring,name=b,peer=a"]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execv(binary, argv)
        self.raw = ""
        self.seen = 0  # how much of the screen text earlier expects consumed
        self.status = None

    def text(self):
        return ANSI.sub("", self.raw)

    def read(self, timeout):
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return False
        if not data:
            return False
        self.raw += data.decode(errors="replace")
        return True

    def expect(self, regex, what, timeout=15):
        """Wait for regex in the text after the previous match; fail with 'what'."""
        end = time.time() + timeout
        pattern = re.compile(regex, re.M)
        while True:
            match = pattern.search(self.text(), self.seen)
            if match:
                self.seen = match.end()
                return match
            if time.time() > end or not self.read(min(0.2, max(0.0, end - time.time()))):
                if time.time() > end or self.exited():
                    self.fail(f"{what}: no /{regex}/ within {timeout} s")

    def send(self, keys):
        os.write(self.fd, keys.encode())

    def line(self, keys, regex, what):
        """Type keys, Enter, and expect regex in what follows."""
        self.send(keys + "\r")
        self.expect(regex, what)
        self.expect("^" + re.escape(PROMPT), f"{what}: the prompt after it")

    def exited(self):
        if self.status is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = self.pid, -1
            if pid == self.pid:
                self.status = status
        return self.status is not None

    def wait_exit(self, what, timeout=20):
        end = time.time() + timeout
        while not self.exited() and time.time() < end:
            self.read(0.2)
        while self.read(0.05):
            pass
        if not self.exited():
            self.fail(f"{what}: vhu-pmd did not exit within {timeout} s")
        if not os.WIFEXITED(self.status) or os.WEXITSTATUS(self.status) != 0:
            self.fail(f"{what}: vhu-pmd ended with status {self.status:#x}, not 0")

    def fail(self, msg):
        log(f"FAIL: {msg}")
        tail = self.text()[-3000:]
        print(f"----- last screen text -----\n{tail}\n-----", file=sys.stderr)
        self.kill()
        sys.exit(1)

    def kill(self):
        if not self.exited():
            try:
                os.kill(self.pid, 9)
                _, self.status = os.waitpid(self.pid, 0)
            except OSError:
                self.status = -1
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        if runtime:
            shutil.rmtree(f"{runtime}/dpdk/{self.prefix}", ignore_errors=True)


def session(pmd):
    pmd.expect("^" + re.escape(PROMPT), "the first prompt", timeout=30)

    # Command words, then a port number: "sho<Tab>po<Tab>st<Tab>1" is "show port stats 1".
    pmd.line("sho\tpo\tst\t1", r"NIC statistics for port 1 ", "completed 'show port stats 1'")
    # A second Tab lists the choices: "all" and the attached ports.
    pmd.send("show port info \t\t")
    pmd.expect(r"^all  0  1$", "Tab Tab after 'show port info' lists all and the ports")
    # Ctrl-U kills the line: what follows runs alone.
    pmd.line("\x15show config cores", r"^List of forwarding lcores:", "Ctrl-U")
    # Forwarding modes complete and list the same way.
    pmd.send("set fwd \t\t")
    pmd.expect(r"^io  mac  macswap  5tswap  rxonly  txonly  icmpecho  flowgen  csum$",
               "Tab Tab lists the modes")
    pmd.line("rx\t", r"^Set rxonly packet forwarding mode$", "completed 'set fwd rxonly'")
    # A longer command beats its prefix: "start tx<Tab>" completes to tx_first.
    pmd.line("start tx\t 2", r"^rxonly packet forwarding - ports=2", "completed 'start tx_first 2'")
    pmd.line("sto\t", r"^Done\.$", "completed 'stop'")
    # "help" completes the command words it takes.
    pmd.line("help cap\tsta\t", r"^  capture start PORT FILE \[SNAPLEN\] ",
             "completed 'help capture start'")

    # History: Up recalls the last line, Up Up the one before.
    pmd.line("show port stats 0", r"NIC statistics for port 0 ", "show port stats 0")
    pmd.line("\x1b[A", r"NIC statistics for port 0 ", "Up recalls 'show port stats 0'")
    pmd.line("show config cores", r"^List of forwarding lcores:", "show config cores")
    pmd.line("\x1b[A\x1b[A", r"NIC statistics for port 0 ", "Up Up recalls the line before")

    # Editing: a typo fixed with Left and Backspace, a word put in front with Ctrl-A.
    pmd.line("show config corXes\x1b[D\x1b[D\x7f", r"^List of forwarding lcores:", "Backspace")
    pmd.line("port info 1\x01show ", r"Infos for port 1 ", "Ctrl-A then typing at the start")

    # A wrong command: one error line, the usage, and the shell goes on.
    pmd.line("show port stats 9",
             r"^Error: show port stats: '9' is not valid.*\nUsage: show port stats all\|PORT$",
             "a wrong port: the error, then the usage")
    pmd.line("nonsense", r"^Error: unknown command 'nonsense'.*\nUsage: help\|start\|",
             "an unknown command: the error, then the usage")
    pmd.line("show config fwd", r"^rxonly packet forwarding - ports=2", "after the errors")

    # Ctrl-D on an empty line ends the shell like quit.
    pmd.send("\x04")
    pmd.expect(r"^Bye\.\.\.$", "Ctrl-D quits")
    pmd.wait_exit("Ctrl-D")


def interrupt(pmd):
    pmd.expect("^" + re.escape(PROMPT), "the first prompt", timeout=30)
    pmd.line("start", r"^rxonly packet forwarding|^io packet forwarding", "start")
    pmd.send("\x03")  # Ctrl-C: SIGINT, as from a person
    pmd.expect(r"^Signal 2 received, preparing to exit\.\.\.$", "Ctrl-C")
    pmd.expect(r"Forward statistics for port 0", "Ctrl-C stops forwarding with the totals")
    pmd.expect(r"^Bye\.\.\.$", "Ctrl-C quits")
    pmd.wait_exit("Ctrl-C")


def tgkill(pid, tid, sig):
    """Send 'sig' to thread 'tid' of process 'pid' (os.kill() picks the thread)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(SYS_TGKILL, pid, tid, sig) != 0:
        raise OSError(ctypes.get_errno(), f"tgkill({pid}, {tid}, {sig})")


def interrupt_other_thread(pmd):
    """SIGINT that lands on one of vhu-pmd's other threads (DPDK's, the
    forwarding lcore's), not the shell's, as a signal to the process may:
    the shell must still see it and quit, though no read of its own was
    interrupted."""
    pmd.expect("^" + re.escape(PROMPT), "the first prompt", timeout=30)
    pmd.line("start", r"^rxonly packet forwarding|^io packet forwarding", "start")
    if SYS_TGKILL is None:
        log(f"no tgkill number for {os.uname().machine}: SIGINT on another thread not tried")
        pmd.kill()
        return
    others = [int(t) for t in os.listdir(f"/proc/{pmd.pid}/task") if int(t) != pmd.pid]
    if not others:
        pmd.fail("vhu-pmd has no thread other than its main one")
    try:
        tgkill(pmd.pid, others[0], signal.SIGINT)
    except OSError as e:
        pmd.fail(f"cannot signal vhu-pmd's thread {others[0]}: {e}")
    pmd.expect(r"^Signal 2 received, preparing to exit\.\.\.$",
               "SIGINT on another thread, the shell idle at its prompt")
    pmd.expect(r"^Bye\.\.\.$", "SIGINT on another thread quits")
    pmd.wait_exit("SIGINT on another thread")


def plain_interrupt_other_thread(prefix):
    """The same without a terminal: commands from a pipe (plain lines, no
    libedit), SIGINT on another thread while the shell waits for the next line."""
    build = os.environ.get("VHU_BUILD_DIR", os.path.join(ROOT, "build"))
    binary = os.environ.get("VHU_PMD", os.path.join(build, "app", "vhu-pmd"))
    argv = [binary, "-l", "0,1", "--main-lcore", "0", "--no-pci", "--no-huge", "-m", "256",
            "--file-prefix", prefix, "--", "-i", "--total-num-mbufs=4096",
            "--port", "ring,name=a,peer=b", "--port", "ring,name=b,peer=a"]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = b""
    try:
        proc.stdin.write(b"start\n")
        proc.stdin.flush()
        end = time.time() + 30
        while b"packet forwarding" not in out and time.time() < end:
            ready, _, _ = select.select([proc.stdout], [], [], 0.2)
            if ready:
                out += os.read(proc.stdout.fileno(), 65536) or b""
        if b"packet forwarding" not in out:
            raise RuntimeError("no forwarding after 'start' from a pipe")
        others = [int(t) for t in os.listdir(f"/proc/{proc.pid}/task") if int(t) != proc.pid]
        if not others:
            raise RuntimeError("vhu-pmd has no thread other than its main one")
        try:
            tgkill(proc.pid, others[0], signal.SIGINT)
        except OSError as e:
            raise RuntimeError(f"cannot signal vhu-pmd's thread {others[0]}: {e}")
        # The pipe stays open: its end would end the shell whatever the signal did.
        end = time.time() + 15
        while proc.poll() is None and time.time() < end:
            ready, _, _ = select.select([proc.stdout], [], [], 0.2)
            if ready:
                out += os.read(proc.stdout.fileno(), 65536) or b""
        if proc.poll() is None:
            raise RuntimeError("SIGINT on another thread, commands from a pipe: vhu-pmd did "
                               "not exit within 15 s")
        out += proc.stdout.read()
        if b"Signal 2 received, preparing to exit..." not in out or proc.returncode != 0:
            raise RuntimeError(f"SIGINT on another thread, commands from a pipe: status "
                               f"{proc.returncode}, no 'Signal 2 received'")
    except RuntimeError as e:
        log(f"FAIL: {e}")
        print(f"----- output -----\n{out.decode(errors='replace')[-3000:]}\n-----",
              file=sys.stderr)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    return True


def main():
    # meson's timeout sends SIGTERM: unwind, so that vhu-pmd is killed and its files removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    if os.environ.get("VHU_HAVE_LIBEDIT", "1") == "0":
        print("SKIP: vhu-pmd was built without libedit (install libedit-dev and rebuild), so "
              "its shell has no line editing to test", file=sys.stderr)
        return 77
    for name, test in (("edit", session), ("intr", interrupt),
                       ("intr-thread", interrupt_other_thread)):
        pmd = Pmd(f"vhu-{PROG}-{name}-{os.getpid()}")
        try:
            test(pmd)
        finally:
            pmd.kill()
    if SYS_TGKILL is not None and not plain_interrupt_other_thread(
            f"vhu-{PROG}-plain-{os.getpid()}"):
        return 1
    if SYS_TGKILL is None:
        log("note: SIGINT on another thread was not tried (no tgkill number for "
            f"{os.uname().machine})")
    log("PASS: completion, history, editing, errors, Ctrl-D and Ctrl-C on a terminal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
