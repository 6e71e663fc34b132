#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks of ovs_vs_dpdk.py's parsing and arithmetic: what it reads from
OVS's pmd-stats-show and testpmd's port statistics, and how a case's runs
become its figures. Needs neither DPDK nor OVS."""

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import types
import unittest

from fake_bench import HERE, load, run_main_patched

bench = load("ovs_vs_dpdk")

# 'ovs-appctl dpif-netdev/pmd-stats-show' of OVS 3.1, a PMD thread on core 1
# after a window of traffic, the main thread (no packets) after it.
PMD_STATS = """pmd thread numa_id 0 core_id 1:
  packets received: 4480000
  packet recirculations: 0
  avg. datapath passes per packet: 1.00
  phwol hits: 0
  mfex opt hits: 0
  simple match hits: 0
  emc hits: 4480000
  smc hits: 0
  megaflow hits: 0
  avg. subtable lookups per megaflow hit: 0.00
  miss with success upcall: 0
  miss with failed upcall: 0
  avg. packets per output batch: 31.87
  idle cycles: 250000000 (1.00%)
  processing cycles: 24750000000 (99.00%)
  avg cycles per packet: 5580.36 (25000000000/4480000)
  avg processing cycles per packet: 5524.55 (24750000000/4480000)
main thread:
  packets received: 0
  packet recirculations: 0
  avg. datapath passes per packet: 0.00
  phwol hits: 0
  mfex opt hits: 0
  simple match hits: 0
  emc hits: 0
  smc hits: 0
  megaflow hits: 0
  avg. subtable lookups per megaflow hit: 0.00
  miss with success upcall: 0
  miss with failed upcall: 0
  avg. packets per output batch: 0.00
"""


def port_block(port, rx):
    return ("  ######################## NIC statistics for port %d  ########################\n"
            "  RX-packets: %d     RX-missed: 0          RX-bytes:  0\n"
            "  RX-errors: 0\n"
            "  RX-nombuf:  0         \n"
            "  TX-packets: 0     TX-errors: 0          TX-bytes:  0\n" % (port, rx))


def run(cycles, mpps, idle=0.5, on_cpu=None):
    return bench.run_result(None if cycles is None else {
        "packets received": 1000, "avg processing cycles per packet": cycles,
        "avg cycles per packet": cycles, "idle cycles %": idle}, mpps, on_cpu)


class Parsing(unittest.TestCase):
    def test_pmd_thread_figures_are_read(self):
        st = bench.parse_pmd_stats(PMD_STATS, core=1)
        self.assertEqual(st["packets received"], 4480000)
        self.assertAlmostEqual(st["avg processing cycles per packet"], 5524.55)
        self.assertAlmostEqual(st["avg cycles per packet"], 5580.36)
        self.assertAlmostEqual(st["idle cycles %"], 1.0)
        self.assertAlmostEqual(st["avg. packets per output batch"], 31.87)

    def test_main_thread_does_not_leak_into_the_pmd_thread(self):
        # The main thread's zero "packets received" comes after the PMD's.
        st = bench.parse_pmd_stats(PMD_STATS, core=1)
        self.assertEqual(st["emc hits"], 4480000)

    def test_another_core_is_not_taken_for_the_pmd(self):
        self.assertIsNone(bench.parse_pmd_stats(PMD_STATS, core=0))
        two = PMD_STATS.replace("core_id 1:", "core_id 0:", 1)
        two = ("pmd thread numa_id 0 core_id 1:\n  packets received: 7\n"
               "  avg processing cycles per packet: 9.00 (63/7)\n") + two
        self.assertEqual(bench.parse_pmd_stats(two, core=1)["packets received"], 7)
        self.assertEqual(bench.parse_pmd_stats(two, core=0)["packets received"], 4480000)

    def test_an_idle_pmd_has_no_cycles_per_packet(self):
        # OVS prints no cycle lines without cycles or packets.
        idle = PMD_STATS.split("  idle cycles")[0].replace("4480000", "0")
        r = bench.run_result(bench.parse_pmd_stats(idle), 0.0)
        self.assertIsNone(r["cycles"])
        self.assertIsNotNone(r["error"])

    def test_run_result_keeps_ovs_figures(self):
        r = bench.run_result(bench.parse_pmd_stats(PMD_STATS), 0.4481)
        self.assertEqual(r["cycles"], 5524.6)
        self.assertEqual(r["all_cycles"], 5580.4)
        self.assertEqual(r["idle_share"], 1.0)
        self.assertEqual(r["packets"], 4480000)
        self.assertEqual(r["mpps"], 0.448)
        self.assertIsNone(r["error"])

    def test_port_rx_takes_the_last_show(self):
        text = port_block(0, 10) + port_block(1, 20) + port_block(0, 110) + port_block(1, 220)
        self.assertEqual(bench.port_rx(text), {0: 110, 1: 220})

    def test_window_rate_sums_the_ports(self):
        self.assertAlmostEqual(bench.window_mpps({0: 0, 1: 1000}, {0: 2e6, 1: 3001000}, 2.0),
                               2.5)
        self.assertIsNone(bench.window_mpps({}, {0: 5}, 1.0))
        self.assertIsNone(bench.window_mpps({0: 0}, {0: 5}, 0.0))
        self.assertIsNone(bench.window_mpps({0: 0}, {1: 5}, 1.0))


class Summary(unittest.TestCase):
    def test_ratio_is_reference_over_subject_from_the_confirmed_mode(self):
        case = bench.summarise_case(
            {"case": "uni-64", "target": 1.0},
            {"reference": [run(600, 3.0), run(1300, 1.2), run(620, 2.9)],
             "subject": [run(500, 3.5), run(510, 3.4), run(None, None)]}, 1.0)
        self.assertEqual(case["reference_cycles"], 600)
        self.assertEqual(case["subject_cycles"], 500)
        self.assertTrue(case["reference_cycles_confirmed"])
        self.assertEqual(case["cycles_ratio"], 1.2)
        self.assertEqual(case["cycles_saved"], 100)
        self.assertTrue(case["meets_target"])
        self.assertEqual(case["reference_mpps"], 3.0)
        self.assertEqual(case["mpps_ratio"], round(3.5 / 3.0, 3))

    def test_a_lone_low_run_does_not_decide(self):
        case = bench.summarise_case({"case": "x", "target": 1.0},
                                    {"reference": [run(300, 5), run(600, 3), run(610, 3)],
                                     "subject": [run(650, 3), run(640, 3)]}, 1.0)
        self.assertEqual(case["reference_cycles"], 600)
        self.assertFalse(case["meets_target"])

    def test_no_runs_give_no_ratio(self):
        case = bench.summarise_case({"case": "x", "target": 1.0},
                                    {"reference": [run(None, None)], "subject": [run(500, 1)]},
                                    1.0)
        self.assertIsNone(case["cycles_ratio"])
        self.assertIsNone(case["meets_target"])
        self.assertIn("uni", bench.results_table([dict(case, case="uni-64")]))

    def test_table_shows_the_worst_idle_and_on_cpu_shares(self):
        case = bench.summarise_case({"case": "bidir-1518", "target": 1.0},
                                    {"reference": [run(600, 1, 0.2, 0.9), run(610, 1, 7.5, 1.0)],
                                     "subject": [run(500, 1, 2.0, 0.55), run(505, 1, 0.1, 1.0)]},
                                    1.0)
        line = bench.results_table([case]).splitlines()[2].split()
        self.assertEqual(line[0], "bidir-1518")
        self.assertEqual(line[-2:], ["8%", "55%"])
        self.assertIn("1.20", line)


class OnCpu(unittest.TestCase):
    def test_share_is_run_time_over_the_window(self):
        self.assertAlmostEqual(bench.on_cpu_share(1e9, 7e9, 10.0), 0.6)
        # Clock reads a few ms apart can make it pass 1.
        self.assertEqual(bench.on_cpu_share(0, 10.01e9, 10.0), 1.0)
        self.assertIsNone(bench.on_cpu_share(None, 5, 1.0))

    def test_cpu_cycles_scale_the_processing_cycles(self):
        r = bench.run_result(bench.parse_pmd_stats(PMD_STATS), 1.0, 0.5)
        self.assertEqual(r["cpu_cycles"], 2762.3)
        self.assertEqual(r["on_cpu"], 0.5)
        self.assertIsNone(bench.run_result(bench.parse_pmd_stats(PMD_STATS), 1.0)["cpu_cycles"])

    def test_cpu_ratio_is_its_own_mode(self):
        # Two sides equal in TSC cycles, one pushed off its core half the time.
        case = bench.summarise_case({"case": "x", "target": 1.0},
                                    {"reference": [run(1000, 1, 0, 1.0), run(1010, 1, 0, 1.0)],
                                     "subject": [run(1000, 1, 0, 0.5), run(1010, 1, 0, 0.5)]},
                                    1.0)
        self.assertEqual(case["cycles_ratio"], 1.0)
        self.assertEqual(case["cpu_cycles_ratio"], 2.0)


class Library(unittest.TestCase):
    def test_reference_path_loses_vhu_library_dirs(self):
        self.assertEqual(bench.without_rte_lib("/a/build/lib/rte_vhost:/usr/lib:/opt/vhu/"),
                         "/usr/lib")
        self.assertEqual(bench.without_rte_lib(None), "")


class RunTime(unittest.TestCase):
    def test_performance_md_gives_the_defaults_time(self):
        with open(os.path.join(os.path.dirname(os.path.dirname(HERE)), "doc",
                               "performance.md")) as f:
            perf = f.read()
        each = bench.DURATION + bench.WARMUP + bench.RUN_OVERHEAD
        runs = bench.CASES * len(bench.SIDES) * bench.REPEATS
        m = re.search(r"\| about (\d+) minutes \((\d+) cases x (\d+) libraries x (\d+) runs x "
                      r"~(\d+) s\) \| `python3 test/perf/ovs_vs_dpdk.py", perf)
        self.assertIsNotNone(m, "performance.md's table no longer gives ovs_vs_dpdk.py's time")
        self.assertEqual([int(x) for x in m.groups()],
                         [round(runs * each / 60), bench.CASES, len(bench.SIDES),
                          bench.REPEATS, each])


class Interrupted(unittest.TestCase):
    """Ctrl-C during a case keeps the cases before it: in the JSON, marked
    interrupted, and in the table."""

    class FakeOvs:
        def __init__(self):
            self.stopped = False

        def start_db(self, socks):
            pass

        def stop(self):
            self.stopped = True

    def run_cases(self, interrupt_at):
        """bench.Bench over uni-64 and bidir-64, one run per side, whose
        interrupt_at-th run is stopped by Ctrl-C."""
        args = types.SimpleNamespace(bidir=[False, True], sizes=[64], repeats=1,
                                     max_repeats=1, target=1.0, c2c=None)
        b = bench.Bench(args, tempfile.gettempdir())
        b.ovs = self.FakeOvs()
        calls = []

        def run_once(side, bidir, size):
            calls.append((side, bidir, size))
            if len(calls) == interrupt_at:
                raise KeyboardInterrupt
            return bench.run_result({"packets received": 1000.0,
                                     "avg processing cycles per packet":
                                     500.0 if side == "reference" else 400.0}, 1.0)

        b.run_once = run_once
        return b, bench.measure(b)

    def test_the_finished_cases_are_kept(self):
        b, (results, interrupted) = self.run_cases(interrupt_at=3)
        self.assertTrue(interrupted)
        self.assertTrue(b.ovs.stopped)
        self.assertEqual([c["case"] for c in results], ["uni-64"])
        self.assertEqual(results[0]["cycles_ratio"], 1.25)

    def test_the_json_says_interrupted_and_the_table_shows_what_finished(self):
        _, (results, interrupted) = self.run_cases(interrupt_at=3)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "ovs.json")
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                bench.report({"results": results}, path, bench.results_table(results),
                             interrupted, say=lambda msg: None)
            with open(path) as f:
                doc = json.load(f)
        self.assertIs(doc["interrupted"], True)
        self.assertEqual([c["case"] for c in doc["results"]], ["uni-64"])
        self.assertIn("uni-64", out.getvalue())
        self.assertNotIn("bidir-64", out.getvalue())

    def test_a_whole_run_is_not_marked(self):
        _, (results, interrupted) = self.run_cases(interrupt_at=0)
        self.assertFalse(interrupted)
        self.assertEqual([c["case"] for c in results], ["uni-64", "bidir-64"])

    def main(self, interrupt_at):
        """main() over the cases of run_cases(), its interrupt_at-th run
        stopped by Ctrl-C, with OVS, testpmd and the machine faked: (its
        exit status, the JSON it wrote)."""
        outer = self

        class FakeBench(bench.Bench):
            def __init__(self, args, workdir):
                super().__init__(args, workdir)
                self.ovs = outer.FakeOvs()
                self.calls = 0

            def run_once(self, side, bidir, size):
                self.calls += 1
                if self.calls == interrupt_at:
                    raise KeyboardInterrupt
                return bench.run_result({"packets received": 1000.0,
                                         "avg processing cycles per packet":
                                         500.0 if side == "reference" else 400.0}, 1.0)

        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "ovs.json")
            args = types.SimpleNamespace(
                bidir=[False, True], sizes=[64], repeats=1, max_repeats=1, target=1.0,
                duration=1, warmup=0, ring_size=1024, bursts=16, eal_mem="--no-huge",
                vswitchd="ovs-vswitchd", rte_lib_dir=d, testpmd="dpdk-testpmd",
                keep_logs=False, output=path, c2c=None)
            return run_main_patched(bench, {
                "parse_args": lambda: args,
                "machine_info": lambda: {"load_average_before": [0.0] * 3},
                "binary_info": lambda path: None,
                "Bench": FakeBench,
                "log": lambda msg: None}, path)

    def test_ctrl_c_exits_130_after_saving_the_finished_cases(self):
        status, doc = self.main(interrupt_at=3)
        self.assertEqual(status, 130)
        self.assertIs(doc["interrupted"], True)
        self.assertEqual([c["case"] for c in doc["results"]], ["uni-64"])

    def test_ctrl_c_before_any_case_finished_still_exits_130(self):
        status, doc = self.main(interrupt_at=1)
        self.assertEqual(status, 130)
        self.assertIs(doc["interrupted"], True)
        self.assertEqual(doc["results"], [])

    def test_a_whole_run_exits_0(self):
        status, doc = self.main(interrupt_at=0)
        self.assertEqual(status, 0)
        self.assertIs(doc["interrupted"], False)
        self.assertEqual([c["case"] for c in doc["results"]], ["uni-64", "bidir-64"])


FAST, SLOW, MOVED = [31.0, 33.0], [160.0, 170.0], [31.0, 160.0]


def floor_run(cycles, floors, on_cpu=1.0):
    """A run of OVS's figures that met these floors (None: not measured)."""
    r = run(cycles, 1.0, 0.5, on_cpu)
    r["floor_ns"] = list(floors) if floors else None
    return r


class SameFloor(unittest.TestCase):
    """The headline pairs runs on one core-to-core floor class, as
    vhost_vs_dpdk.py's, with the same keys; each side alone is kept."""

    def summarise(self, reference, subject):
        return bench.summarise_case({"case": "bidir-64", "target": 1.0},
                                    {"reference": reference, "subject": subject}, 1.0)

    def test_the_headline_comes_from_the_fast_class_both_sides_met(self):
        # DPDK's fast runs are 30 % apart: alone, its figure is its slow pair.
        case = self.summarise([floor_run(300, FAST), floor_run(700, SLOW), floor_run(390, FAST),
                               floor_run(710, SLOW)],
                              [floor_run(280, FAST, 0.5), floor_run(290, FAST, 0.5),
                               floor_run(650, SLOW, 0.5)])
        self.assertEqual(case["cycles_basis"], "same floor fast")
        self.assertEqual(case["cycles_basis_runs"], [2, 2])
        self.assertEqual(case["reference_cycles"], 300)
        self.assertEqual(case["reference_cycles_spread"], round(90 / 2 / 300, 4))
        self.assertEqual(case["cycles_ratio"], round(300 / 280, 3))
        self.assertEqual(case["cycles_saved"], 20)
        self.assertTrue(case["meets_target"])
        self.assertEqual(case["reference_cycles_alone"], 700)
        self.assertEqual(case["cycles_ratio_alone"], round(700 / 280, 3))
        # The on-CPU figure from the same runs.
        self.assertEqual(case["subject_cpu_cycles"], 140)
        self.assertEqual(case["cpu_cycles_ratio"], round(300 / 140, 3))
        self.assertEqual(case["cpu_cycles_ratio_alone"], round(700 / 140, 3))
        # vhost_vs_dpdk.py's keys.
        self.assertEqual(case["same_floor_class"], "fast")
        self.assertEqual(case["same_floor"]["slow"]["runs"], [2, 1])
        self.assertEqual(case["subject_floor_ns_runs"], [FAST, FAST, SLOW])
        line = bench.results_table([case]).splitlines()[2]
        self.assertIn(" 1.07 ", line)
        self.assertIn(" fast 2/2 ", line)
        self.assertIn(" 2.50 ", line)

    def test_the_slow_class_when_only_it_has_two_runs_a_side(self):
        case = self.summarise([floor_run(300, FAST), floor_run(700, SLOW), floor_run(720, SLOW)],
                              [floor_run(280, MOVED), floor_run(650, SLOW), floor_run(660, SLOW),
                               floor_run(270, FAST)])
        self.assertEqual(case["cycles_basis"], "same floor slow")
        self.assertEqual(case["cycles_ratio"], round(700 / 650, 3))
        self.assertIn(" slow 2/2 ", bench.results_table([case]).splitlines()[2])

    def test_without_floors_each_side_alone_is_the_headline(self):
        case = self.summarise([floor_run(300, None), floor_run(310, None)],
                              [floor_run(280, None), floor_run(200, FAST)])
        self.assertEqual(case["cycles_basis"], bench.BASIS_ALONE)
        self.assertIsNone(case["cycles_basis_runs"])
        self.assertEqual(case["subject_cycles"], 200)
        self.assertFalse(case["subject_cycles_confirmed"])
        self.assertEqual(case["cycles_ratio"], case["cycles_ratio_alone"])
        self.assertIn(" alone ", bench.results_table([case]).splitlines()[2])


class FloorRun(unittest.TestCase):
    """run_once() takes the floor between OVS's PMD core and the generator's
    forwarding lcore before anything starts and after both stopped."""

    class FakeOvs:
        def __init__(self, events):
            self.events = events

        def start_vswitchd(self, side, tag):
            self.events.append("start ovs")
            return "/lib/librte_vhost.so.23"

        def wait_log(self, what, count, timeout):
            pass

        def set_flows(self, bidir):
            pass

        def appctl(self, *a, check=True):
            return PMD_STATS if a[0] == "dpif-netdev/pmd-stats-show" else ""

        def pmd_run_ns(self):
            return 0

        def stop_vswitchd(self):
            self.events.append("stop ovs")

    class FakeGen:
        def __init__(self, events):
            self.events, self.rx = events, 0

        def command(self, cmd, wait_for=None, timeout=10):
            self.rx += 1000
            return port_block(0, self.rx) + port_block(1, self.rx)

        def stop(self):
            self.events.append("stop testpmd")

    def run_once(self, c2c="c2c"):
        events, cpus = [], []

        def floor(tool, which, say=None):
            events.append("floor")
            cpus.append(which)
            return 31.0 if tool else None

        args = types.SimpleNamespace(c2c=None, warmup=0, duration=0, bursts=16,
                                     testpmd="dpdk-testpmd", eal_mem="--no-huge -m 512",
                                     ring_size=1024)
        saved = bench.measure_floor, bench.log
        with tempfile.TemporaryDirectory() as d:
            try:
                bench.measure_floor, bench.log = floor, lambda msg: None
                b = bench.Bench(args, d)
                b.c2c = c2c
                b.ovs = self.FakeOvs(events)
                b.testpmd = lambda tag: self.FakeGen(events)
                r = b.run_once("subject", True, 64)
            finally:
                bench.measure_floor, bench.log = saved
        return b, r, events, cpus

    def test_floors_come_before_the_start_and_after_both_stopped(self):
        b, r, events, cpus = self.run_once()
        self.assertIsNone(r["error"])
        self.assertEqual(r["cycles"], 5524.6)
        self.assertEqual(r["floor_ns"], [31.0, 31.0])
        self.assertEqual(events, ["floor", "start ovs", "stop ovs", "stop testpmd", "floor"])

    def test_the_floor_cpus_are_the_pmds_and_the_generators_forwarding_lcore(self):
        b, _, _, cpus = self.run_once()
        self.assertEqual(cpus, ["%d,%d" % (bench.PMD_CORE, bench.GEN_CORE)] * 2)
        argv = b.testpmd_argv("p")
        lcores = argv[argv.index("-l") + 1].split(",")
        main_lcore = argv[argv.index("--main-lcore") + 1]
        self.assertEqual(main_lcore, str(bench.PMD_CORE))
        self.assertEqual([c for c in lcores if c != main_lcore], [str(bench.GEN_CORE)])

    def test_a_failed_run_keeps_its_floors(self):
        events = []
        ovs = self.FakeOvs(events)

        def fail(side, tag):
            raise RuntimeError("ovs-vswitchd exited")
        ovs.start_vswitchd = fail
        saved = bench.measure_floor
        try:
            bench.measure_floor = lambda tool, which, say=None: 160.0
            with tempfile.TemporaryDirectory() as d:
                b = bench.Bench(types.SimpleNamespace(c2c=None), d)
                b.ovs = ovs
                r = b.run_once("reference", False, 64)
        finally:
            bench.measure_floor = saved
        self.assertEqual(r["error"], "ovs-vswitchd exited")
        self.assertEqual(r["floor_ns"], [160.0, 160.0])

    def test_without_c2c_runs_have_no_floor(self):
        with tempfile.TemporaryDirectory() as d:
            said = []
            saved = bench.log
            try:
                bench.log = said.append
                b = bench.Bench(types.SimpleNamespace(c2c=os.path.join(d, "c2c")), d)
            finally:
                bench.log = saved
        self.assertIsNone(b.c2c)
        self.assertIn("runs are not classed by the core-to-core floor", said[0])
        _, r, _, _ = self.run_once(c2c=None)
        self.assertEqual(r["floor_ns"], [None, None])

    def test_help_names_the_c2c_option(self):
        out = subprocess.run([sys.executable, os.path.join(HERE, "ovs_vs_dpdk.py"), "--help"],
                             capture_output=True, text=True).stdout
        self.assertIn("--c2c", out)
        self.assertIn("core-to-core floor", out)


class FloorMain(unittest.TestCase):
    """main() end to end over fake runs carrying floors: how many runs a
    case makes under vhost_vs_dpdk.py's more_runs(), and what it writes."""

    def main(self, reference, subject, repeats=3, max_repeats=6, cycles=None):
        """main() over uni-64, whose runs meet these floors (None: not
        measured): (the runs made of each side, the case written).
        'cycles' gives each side's cycles per run instead of the floor's."""
        made = {"reference": 0, "subject": 0}
        floors = {"reference": reference, "subject": subject}

        class FakeOvs:
            def start_db(self, socks):
                pass

            def stop(self):
                pass

        class FakeBench(bench.Bench):
            def __init__(self, args, workdir):
                super().__init__(args, workdir)
                self.ovs = FakeOvs()

            def run_once(self, side, bidir, size):
                f = floors[side][made[side]]
                fast = f is None or max(f) <= bench.FLOOR_FAST_MAX
                c = (cycles[side][made[side]] if cycles else
                     (300.0 if fast else 700.0) * (0.9 if side == "subject" else 1.0))
                made[side] += 1
                # Mpps that never confirm: the stop rule here is the cycles'.
                r = bench.run_result({"packets received": 1000.0,
                                      "avg processing cycles per packet": c},
                                     1.0 + 0.5 * made[side], 1.0)
                r["floor_ns"] = list(f) if f else [None, None]
                return r

        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "ovs.json")
            args = types.SimpleNamespace(
                bidir=[False], sizes=[64], repeats=repeats, max_repeats=max_repeats,
                target=1.0, duration=1, warmup=0, ring_size=1024, bursts=16,
                eal_mem="--no-huge", vswitchd="ovs-vswitchd", rte_lib_dir=d,
                testpmd="dpdk-testpmd", keep_logs=False, output=path, c2c=None)
            status, doc = run_main_patched(bench, {
                "parse_args": lambda: args,
                "machine_info": lambda: {"load_average_before": [0.0] * 3},
                "binary_info": lambda path: None,
                "Bench": FakeBench,
                "log": lambda msg: None}, path)
        self.assertEqual(status, 0)
        return made, doc["results"][0]

    def test_both_sides_fast_twice_stops_at_repeats(self):
        made, case = self.main([FAST, SLOW, FAST] + [FAST] * 3, [FAST] * 6)
        self.assertEqual(made, {"reference": 3, "subject": 3})
        self.assertEqual(case["cycles_basis"], "same floor fast")
        self.assertEqual(case["cycles_ratio"], round(300 / 270, 3))

    def test_runs_on_until_the_slow_side_meets_the_fast_floor_twice(self):
        # Each side alone is confirmed after three runs (the former rule
        # stopped there), but DPDK's were slow and vhu's fast.
        made, case = self.main([SLOW] * 3 + [FAST] * 3, [FAST] * 6)
        self.assertEqual(made, {"reference": 5, "subject": 5})
        self.assertEqual(case["cycles_basis"], "same floor fast")
        self.assertEqual(case["cycles_basis_runs"], [2, 5])
        self.assertEqual(case["cycles_ratio"], round(300 / 270, 3))
        self.assertEqual(case["reference_floor_ns_runs"], [SLOW] * 3 + [FAST] * 2)

    def test_never_on_one_floor_stops_at_max_repeats_with_each_side_alone(self):
        made, case = self.main([SLOW] * 6, [FAST] * 6)
        self.assertEqual(made, {"reference": 6, "subject": 6})
        self.assertEqual(case["cycles_basis"], bench.BASIS_ALONE)
        self.assertEqual(case["cycles_ratio"], round(700 / 270, 3))
        self.assertEqual(case["cycles_ratio_alone"], case["cycles_ratio"])

    def test_without_floors_it_stops_once_both_sides_cycles_are_confirmed(self):
        made, case = self.main([None] * 6, [None] * 6)
        self.assertEqual(made, {"reference": 3, "subject": 3})
        self.assertEqual(case["cycles_basis"], bench.BASIS_ALONE)
        # vhu's cheapest run is confirmed only by its fifth.
        made, _ = self.main([None] * 6, [None] * 6,
                            cycles={"reference": [300.0] * 6,
                                    "subject": [200.0, 400.0, 550.0, 700.0, 210.0, 220.0]})
        self.assertEqual(made, {"reference": 5, "subject": 5})


if __name__ == "__main__":
    unittest.main()
