#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks of vhost_vs_dpdk.py's arithmetic: how a run's statistics become its
result. The benchmark itself is never part of the test run; what it makes of
the numbers it reads must be right, and the same for both applications."""

import importlib.util
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("vhost_vs_dpdk",
                                              os.path.join(HERE, "vhost_vs_dpdk.py"))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def block(packets, pps):
    """One statistics block as both applications print it."""
    return ("  ######################## NIC statistics for port 0  ########################\n"
            "  RX-packets: %d          RX-missed: 0          RX-bytes:  0\n"
            "  RX-errors: 0\n"
            "  RX-nombuf:  0\n"
            "  TX-packets: 0          TX-errors: 0          TX-bytes:  0\n\n"
            "  Throughput (since last show)\n"
            "  Rx-pps:      %d          Rx-bps:   0\n"
            "  Tx-pps:            0          Tx-bps:            0\n"
            "  ############################################################################\n"
            % (packets, pps))


def log_of(rates, period):
    """A receiver's log: one block per period of 'period' s at each rate (Mpps)."""
    text, total = block(0, 0), 0
    for r in rates:
        total += int(r * 1e6 * period)
        text += "VHOST_CONFIG: some other line\n" + block(total, int(r * 1e6))
    return text


class Statistics(unittest.TestCase):
    def test_periods_take_their_length_from_count_and_rate(self):
        periods = bench.rx_periods(log_of([10, 20, 30], 2))
        self.assertEqual([p for p, _ in periods], [20e6, 40e6, 60e6])
        for _, t in periods:
            self.assertAlmostEqual(t, 2.0, places=3)

    def test_one_second_and_two_second_periods_give_the_same_stretches(self):
        # The same traffic, shown every second (vhu-pmd) and every two
        # (dpdk-testpmd): the same stretches, so the same chances at the best.
        per_second = [5, 5, 20, 20, 28, 28, 9, 9, 28, 28, 27, 27, 3]
        ones = bench.steady_stretches(bench.rx_periods(log_of(per_second, 1)))
        twos = bench.steady_stretches(bench.rx_periods(
            log_of([5, 20, 28, 9, 28, 27], 2)))
        self.assertEqual(len(ones), len(twos))
        for (p1, t1), (p2, t2) in zip(ones, twos):
            self.assertAlmostEqual(p1 / t1, p2 / t2, delta=1e3)
            self.assertAlmostEqual(t1, t2, places=2)
        self.assertAlmostEqual(bench.best_window(ones, 4), bench.best_window(twos, 4),
                               delta=1e3)

    def test_warm_up_and_an_incomplete_last_stretch_are_left_out(self):
        st = bench.steady_stretches([(1e6, 1.0), (2e6, 1.0), (30e6, 1.0), (30e6, 1.0),
                                     (99e6, 1.0)])
        self.assertEqual(st, [(60e6, 2.0)])

    def test_window_is_the_best_stretch_of_its_length(self):
        st = [(20e6, 2.0), (56e6, 2.0), (58e6, 2.0), (18e6, 2.0)]
        self.assertAlmostEqual(bench.best_window(st, 4), 28.5)
        self.assertAlmostEqual(bench.best_window(st, 2), 29.0)
        # Shorter than the window: the run's mean.
        self.assertAlmostEqual(bench.best_window(st[:1], 4), 10.0)

    def test_a_run_is_never_worse_than_its_mean(self):
        # Both 4-second halves hold the slow middle: the whole run is better.
        st = [(40e6, 2.0), (20e6, 2.0), (40e6, 2.0)]
        self.assertAlmostEqual(bench.best_window(st, 4), bench.mpps(st))
        self.assertGreater(bench.best_window(st, 4), 15.0)

    def test_a_slow_stretch_inside_a_run_does_not_decide_it(self):
        fast_then_slow = [(56e6, 2.0), (56e6, 2.0), (12e6, 2.0), (12e6, 2.0)]
        self.assertAlmostEqual(bench.best_window(fast_then_slow, 4), 28.0)
        self.assertAlmostEqual(bench.mpps(fast_then_slow), 17.0)

    def test_best_needs_a_second_run_to_agree(self):
        self.assertFalse(bench.confirmed([28.0, 10.0, None]))
        self.assertTrue(bench.confirmed([28.0, 10.0, 26.0]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
