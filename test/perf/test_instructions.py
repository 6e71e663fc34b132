#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks of instructions.py's arithmetic: how callgrind's dumps become
instructions per packet, and when the regression gate fails. Needs neither
valgrind nor DPDK."""

import importlib.util
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("instructions",
                                              os.path.join(HERE, "instructions.py"))
instr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(instr)

DUMP = """# callgrind format
version: 1
creator: callgrind-3.19.0
desc: Timerange: Basic block 0 - 30067312
desc: Trigger: Client Request: vhu packed/g2h-64/io1

positions: line
events: Ir
summary: 528752

fn=vhu_vhost_dequeue_burst
0 3328
totals: 528752
"""


class DumpTest(unittest.TestCase):
    def test_label_and_total(self):
        self.assertEqual(instr.parse_dump(DUMP), ("vhu packed/g2h-64/io1", 528752))

    def test_final_dump_has_no_label(self):
        self.assertIsNone(instr.parse_dump(DUMP.replace("Client Request: vhu packed/g2h-64/io1",
                                                        "Program termination")))

    def test_per_packet(self):
        self.assertEqual(instr.per_packet(528752, 2048), 258.18)

    def test_results_join_stdout_and_dumps(self):
        out = ("path=packed/g2h-64/io1 backend=vhu packets=2048 features=0xd78000000\n"
               "path=split/g2h-64/io1 backend=vhu packets=1024 features=0x978000000\n")
        res = instr.results_of("vhu", out, [("vhu packed/g2h-64/io1", 528752),
                                            ("vhu split/g2h-64/io1", 102400),
                                            ("dpdk split/g2h-64/io1", 1)])
        self.assertEqual(res["packed/g2h-64/io1"]["per_packet"], 258.18)
        self.assertEqual(res["split/g2h-64/io1"]["per_packet"], 100.0)
        self.assertEqual(res["split/g2h-64/io1"]["features"], "0x978000000")

    def test_a_path_without_its_dump_is_an_error(self):
        out = "path=split/g2h-64/io1 backend=vhu packets=1024 features=0x978000000\n"
        with self.assertRaises(RuntimeError):
            instr.results_of("vhu", out, [])

    def test_ratio_is_dpdk_over_vhu(self):
        rows = instr.merge({"vhu": {"p": {"per_packet": 200.0, "instructions": 1, "packets": 1,
                                          "features": "0x1"}},
                            "dpdk": {"p": {"per_packet": 260.0, "instructions": 1, "packets": 1,
                                           "features": "0x1"}}})
        self.assertEqual(rows[0]["ratio"], 1.3)
        self.assertIn("1.30", instr.table(rows))


ANNOTATED = """fl=vhost_net.c
fn=vhu_vhost_dequeue_burst
10 4
calls=1 0
10 100
fl=vhost_net_packed.c
fn=vhu_net_dequeue_packed
20 30
fi=/usr/include/dpdk/rte_mbuf.h
862 50
fe=vhost_net_packed.c
21 20
"""


class SelfCostTest(unittest.TestCase):
    def test_self_cost_leaves_out_calls_and_keeps_inlined_files(self):
        by_fn, by_line = instr.self_costs(ANNOTATED)
        self.assertEqual(by_fn, {"vhu_vhost_dequeue_burst": 4, "vhu_net_dequeue_packed": 100})
        self.assertEqual(by_line[("rte_mbuf.h", 862)], 50)
        self.assertEqual(by_line[("vhost_net_packed.c", 21)], 20)
        self.assertEqual(by_line[("vhost_net.c", 10)], 4)


class GateTest(unittest.TestCase):
    def test_within_tolerance_passes(self):
        failures, notes = instr.check({"a": 100.0}, {"a": 102.0}, 2.0)
        self.assertEqual((failures, notes), ([], []))

    def test_over_tolerance_fails_naming_path_and_figures(self):
        failures, _ = instr.check({"a": 100.0}, {"a": 102.01}, 2.0)
        self.assertEqual(len(failures), 1)
        self.assertIn("a: 102.01", failures[0])
        self.assertIn("baseline 100.00", failures[0])

    def test_missing_path_fails(self):
        failures, _ = instr.check({"a": 100.0, "b": 50.0}, {"a": 100.0}, 2.0)
        self.assertEqual(len(failures), 1)
        self.assertIn("b:", failures[0])

    def test_cheaper_and_new_paths_are_notes(self):
        failures, notes = instr.check({"a": 100.0}, {"a": 90.0, "c": 5.0}, 2.0)
        self.assertEqual(failures, [])
        self.assertEqual(len(notes), 2)


class CopyMovesTest(unittest.TestCase):
    """The gate measures with the copy moves its baseline had."""

    def setUp(self):
        self.saved = os.environ.get("VHU_COPY_AVX2")

    def tearDown(self):
        if self.saved is None:
            os.environ.pop("VHU_COPY_AVX2", None)
        else:
            os.environ["VHU_COPY_AVX2"] = self.saved

    def test_the_environment_can_keep_the_narrow_moves(self):
        os.environ["VHU_COPY_AVX2"] = "0"
        self.assertEqual(instr.copy_moves(), "16-byte")

    def test_the_cpu_decides_otherwise(self):
        os.environ.pop("VHU_COPY_AVX2", None)
        with open("/proc/cpuinfo") as f:
            avx2 = any(l.startswith("flags") and " avx2" in l for l in f)
        self.assertEqual(instr.copy_moves(), "32-byte" if avx2 else "16-byte")

    def test_environment_records_the_moves(self):
        self.assertIn(instr.environment("no-such-build")["copy"], ("16-byte", "32-byte"))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=1)
