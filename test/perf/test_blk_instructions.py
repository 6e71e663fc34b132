#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks of blk_instructions.py's arithmetic: how callgrind's dumps become
instructions per request, idle polls taken off. Needs neither valgrind nor
DPDK."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blk_instructions as bi  # noqa: E402

# An uncompressed dump: two call sites of bdev_submit, one of the dequeue.
DUMP = """# callgrind format
version: 1
creator: callgrind-3.19.0
positions: line
events: Ir
summary: 90000

fl=poll.c
fn=blk_poll_once
0 1000
cfl=bdev.c
cfn=bdev_submit
calls=300 0
0 6000
cfn=vhu_blk_dequeue_burst
calls=50 0
0 40000
cfn=bdev_submit
calls=100 0
0 2000
cfn=complete_polled.constprop.0
calls=7 0
0 700
totals: 90000
"""


class DumpTest(unittest.TestCase):
    def test_totals(self):
        self.assertEqual(bi.totals(DUMP), 90000)

    def test_calls_are_summed_over_call_sites(self):
        c = bi.calls(DUMP)
        self.assertEqual(c["bdev_submit"], 400)
        self.assertEqual(c["vhu_blk_dequeue_burst"], 50)
        self.assertNotIn("blk_poll_once", c)

    def test_a_compiler_made_copy_counts_for_its_function(self):
        self.assertEqual(bi.calls(DUMP)["complete_polled"], 7)

    def test_a_dump_without_totals_is_refused(self):
        with self.assertRaises(RuntimeError):
            bi.totals("events: Ir\n")


class PolledTest(unittest.TestCase):
    def test_idle_polls_are_taken_off_at_the_idle_cost(self):
        # 1000 requests in 100 polls, 40 of them idle; an idle poll costs 50.
        r = bi.polled_result(400000, {"requests": 1000, "polls": 100, "busy": 60},
                             50000, {"requests": 0, "polls": 1000, "busy": 0})
        self.assertEqual(r["per_request"], (400000 - 40 * 50) / 1000)
        self.assertEqual(r["requests_per_busy_poll"], round(1000 / 60, 2))
        self.assertEqual(r["idle_polls_per_request"], 0.04)
        self.assertEqual(r["per_idle_poll"], 50)

    def test_no_idle_poll_counts_everything(self):
        r = bi.polled_result(32000, {"requests": 320, "polls": 10, "busy": 10},
                             0, {"requests": 0, "polls": 0, "busy": 0})
        self.assertEqual(r["per_request"], 100)
        self.assertEqual(r["requests_per_busy_poll"], 32)


if __name__ == "__main__":
    unittest.main()
