#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks of vhost_vs_dpdk.py's arithmetic: how a run's statistics and cycles
per packet become its result, and how compare judges a change. The benchmark itself is never part of the test run; what it makes of
the numbers it reads must be right, and the same for both applications."""

import contextlib
import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import types
import unittest

from fake_bench import HERE, load, run_main_patched

bench = load("vhost_vs_dpdk")
pvp = load("pvp")


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


TESTPMD_END = ("  CPU cycles/packet=123.45 (total cycles=24690000 / total RX packets=200000) "
               "at 2500 MHz Clock\n")
VHU_PMD_END = ("  CPU cycles/packet=113.00 (busy cycles=22600000 / total packets=200000) "
               "at 2500 MHz Clock\n")


def run(mpps, cycles):
    """A run as run_summary() leaves it."""
    return {"mpps": mpps, "mean": mpps, "stretches": [[mpps, 2.0]], "seconds": [[mpps, 1.0]],
            "rx_cycles": cycles, "tx_cycles": None, "features": "0x1", "error": None}


class Cycles(unittest.TestCase):
    def test_both_applications_lines_give_busy_cycles_over_packets(self):
        self.assertAlmostEqual(bench.cycles_per_packet("x\n" + TESTPMD_END), 123.45)
        self.assertAlmostEqual(bench.cycles_per_packet(VHU_PMD_END), 113.0)

    def test_the_last_line_counts(self):
        self.assertAlmostEqual(bench.cycles_per_packet(TESTPMD_END + VHU_PMD_END), 113.0)

    def test_no_line_no_figure(self):
        self.assertIsNone(bench.cycles_per_packet(block(10, 10)))

    def test_median_and_spread(self):
        self.assertEqual(bench.median([3.0, 1.0, None, 2.0]), 2.0)
        self.assertEqual(bench.median([1.0, 2.0]), 1.5)
        self.assertAlmostEqual(bench.spread([97.0, 100.0, 103.0]), 0.03)
        self.assertEqual(bench.spread([100.0]), 0.0)

    def test_cycles_ratio_is_reference_over_subject(self):
        case = bench.summarise_case({}, {"subject": [run(20.0, 100.0), run(19.0, 104.0),
                                                     run(10.0, 102.0)],
                                         "reference": [run(18.0, 134.0), run(18.5, 138.0),
                                                       run(9.0, 136.0)]}, 1.3)
        self.assertEqual(case["subject_cycles"], 100.0)
        self.assertEqual(case["reference_cycles"], 134.0)
        self.assertEqual(case["cycles_ratio"], round(134 / 100, 3))
        self.assertTrue(case["meets_target"])
        self.assertEqual(case["subject_cycles_spread"], round(2 / 100, 4))
        self.assertEqual(case["subject_cycles_median"], 102.0)
        self.assertEqual(case["mpps_ratio"], round(20.0 / 18.5, 3))

    def test_the_cheapest_confirmed_mode_counts_not_the_median(self):
        # The lead's eight runs of DPDK's backend, packed g2h-64: bimodal.
        dpdk = [84, 188, 218, 217, 107, 195, 87, 119]
        fig, sp, conf = bench.cycles_mode(dpdk)
        self.assertEqual(fig, 84)
        self.assertTrue(conf)
        self.assertAlmostEqual(sp, (87 - 84) / 2 / 84)
        self.assertEqual(bench.median(dpdk), 153.5)  # between the modes

    def test_a_lone_low_run_is_not_confirmed_until_a_second_agrees(self):
        self.assertEqual(bench.cycles_mode([97, 153, 204]), (97, 0.0, False))
        fig, _, conf = bench.cycles_mode([97, 153, 204, 114])
        self.assertEqual((fig, conf), (97, True))
        # Only the slow mode repeats: it is the figure, confirmed.
        self.assertEqual(bench.cycles_mode([60, 200, 210])[0], 200)
        self.assertEqual(bench.cycles_mode([None]), (None, None, False))

    def test_an_unconfirmed_figure_is_marked_in_the_table(self):
        case = bench.summarise_case({"case": "packed/g2h-64", "target": 1.3},
                                    {"subject": [run(20.0, 100.0), run(9.0, 200.0)],
                                     "reference": [run(20.0, 140.0), run(19.0, 141.0)]}, 1.3)
        self.assertFalse(case["subject_cycles_confirmed"])
        self.assertTrue(case["reference_cycles_confirmed"])
        line = bench.results_table([case]).splitlines()[2]
        self.assertIn("100 ±0% ?", line)
        self.assertIn("140 ±0%", line)

    def test_a_failed_run_counts_for_neither(self):
        failed = {"mpps": None, "mean": None, "stretches": None, "seconds": None,
                  "rx_cycles": None, "tx_cycles": None, "features": None, "error": "x"}
        case = bench.summarise_case({}, {"subject": [failed, run(20.0, 100.0)],
                                         "reference": [run(20.0, 120.0)]}, 1.3)
        self.assertEqual(case["subject_cycles"], 100.0)
        self.assertFalse(case["meets_target"])

    def test_table_says_whether_the_target_is_met(self):
        case = bench.summarise_case({"case": "packed/g2h-64", "target": 1.3},
                                    {"subject": [run(20.0, 100.0)],
                                     "reference": [run(20.0, 140.0)]}, 1.3)
        line = bench.results_table([case]).splitlines()[2]
        self.assertIn("packed/g2h-64", line)
        self.assertIn("1.40", line)
        self.assertIn("yes", line)


# The interposer's lines (dpdk-testpmd) and vhu-pmd's (one per port and direction).
INTERPOSER_END = (
    "vhost enqueue: backend cycles/packet=96.00 (cycles=9600000 / packets=100000; calls=3125, "
    "empty calls=1000, empty cycles=50000; stalled calls=2, stalled packets=64, "
    "stalled cycles=26000000) at 2600 MHz Clock\n"
    "vhost dequeue: backend cycles/packet=0.00 (cycles=0 / packets=0; calls=0, empty calls=0, "
    "empty cycles=0) at 2600 MHz Clock\n")
VHU_PMD_BURSTS = (
    "  port 0 vhost enqueue: backend cycles/packet=80.00 (cycles=8000000 / packets=100000; "
    "calls=3125, empty calls=3125, empty cycles=90000) at 2600 MHz Clock\n"
    "  port 1 vhost enqueue: backend cycles/packet=120.00 (cycles=12000000 / packets=100000; "
    "calls=3125, empty calls=0, empty cycles=0) at 2600 MHz Clock\n")


def burst_run(mpps, rx, burst):
    r = run(mpps, rx)
    r["burst_cycles"] = burst
    r["burst"] = {"cycles": burst * 1000, "packets": 1000, "calls": 30, "empty_calls": 10,
                  "empty_cycles": 500, "cycles_per_packet": burst}
    return r


class BurstCycles(unittest.TestCase):
    def test_the_interposer_line_gives_cycles_over_packets_of_its_direction(self):
        enq = bench.burst_cycles("x\n" + INTERPOSER_END, "enqueue")
        self.assertEqual(enq["packets"], 100000)
        self.assertEqual(enq["empty_calls"], 1000)
        self.assertEqual(enq["empty_cycles"], 50000)
        # Preempted calls are counted apart, not in the figure.
        self.assertEqual((enq["stalled_calls"], enq["stalled_packets"]), (2, 64))
        self.assertAlmostEqual(enq["cycles_per_packet"], 96.0)
        deq = bench.burst_cycles(INTERPOSER_END, "dequeue")
        self.assertEqual(deq["packets"], 0)
        self.assertIsNone(deq["cycles_per_packet"])

    def test_vhu_pmd_ports_add_up_and_no_line_is_none(self):
        enq = bench.burst_cycles(VHU_PMD_BURSTS, "enqueue")
        self.assertEqual((enq["cycles"], enq["packets"]), (20000000, 200000))
        self.assertAlmostEqual(enq["cycles_per_packet"], 100.0)
        self.assertIsNone(bench.burst_cycles(VHU_PMD_BURSTS, "dequeue"))
        self.assertIsNone(bench.burst_cycles(TESTPMD_END, "enqueue"))
        self.assertEqual(enq["stalled_calls"], 0)  # a line without them

    def test_a_ports_last_line_counts(self):
        later = VHU_PMD_BURSTS.replace("cycles=8000000 / packets=100000",
                                       "cycles=9000000 / packets=100000")
        enq = bench.burst_cycles(VHU_PMD_BURSTS + later, "enqueue")
        self.assertEqual(enq["cycles"], 21000000)

    def test_h2g_ratio_is_of_the_burst_figure_and_both_are_kept(self):
        case = bench.summarise_case(
            {"case": "packed/h2g-64", "target": 1.3, "cycles_figure": "backend burst"},
            {"subject": [burst_run(12.0, 60.0, 120.0), burst_run(12.2, 61.0, 118.0)],
             "reference": [burst_run(13.0, 50.0, 96.0), burst_run(13.1, 51.0, 97.0)]}, 1.3)
        self.assertEqual(case["subject_cycles"], 118.0)
        self.assertEqual(case["reference_cycles"], 96.0)
        self.assertEqual(case["cycles_ratio"], round(96 / 118, 3))
        self.assertFalse(case["meets_target"])
        self.assertEqual(case["subject_receiver_cycles"], 60.0)
        self.assertEqual(case["subject_burst_empty_share"], 0.25)
        line = bench.results_table([case]).splitlines()[2]
        self.assertIn("burst", line)
        self.assertIn("60 ±1%", line)  # the receiver's, beside

    def test_g2h_keeps_the_receiver_primary_and_shows_the_burst_figure(self):
        case = bench.summarise_case(
            {"case": "packed/g2h-64", "target": 1.3},
            {"subject": [burst_run(12.0, 110.0, 70.0), burst_run(12.2, 111.0, 71.0)],
             "reference": [burst_run(13.0, 130.0, 90.0), burst_run(13.1, 131.0, 91.0)]}, 1.3)
        self.assertEqual(case["cycles_figure"], "receiver")
        self.assertEqual(case["subject_cycles"], 110.0)
        self.assertEqual(case["subject_burst_cycles"], 70.0)
        self.assertEqual(case["burst_cycles_ratio"], round(90 / 70, 3))
        self.assertIn("70 ±1%", bench.results_table([case]).splitlines()[2])

    def test_old_files_without_the_burst_figure_still_summarise(self):
        case = bench.summarise_case({"case": "backend/h2g-64", "target": 1.3},
                                    {"subject": [run(20.0, 100.0)],
                                     "reference": [run(20.0, 140.0)]}, 1.3)
        self.assertIsNone(case["subject_burst_cycles"])
        self.assertIsNone(case["subject_burst_empty_share"])
        self.assertIn(" - ", bench.results_table([case]).splitlines()[2])


def doc(subject, reference, spread=0.0):
    return {"results": [{"case": "packed/g2h-64", "target": 1.3, "subject_cycles": subject,
                         "reference_cycles": reference, "subject_cycles_spread": spread,
                         "cycles_ratio": round(reference / subject, 3)}]}


def floor_run(burst, floors):
    r = burst_run(10.0, 100.0, burst)
    r["floor_ns"] = floors
    return r


class Floors(unittest.TestCase):
    def test_a_run_is_fast_or_slow_only_when_its_two_floors_agree(self):
        self.assertEqual(bench.floor_class([31.0, 35.0]), "fast")
        self.assertEqual(bench.floor_class([160.0, 230.0]), "slow")
        self.assertIsNone(bench.floor_class([31.0, 160.0]))  # the machine moved
        self.assertIsNone(bench.floor_class([31.0, None]))
        self.assertIsNone(bench.floor_class(None))

    def test_the_same_floor_ratio_pairs_runs_of_one_class_not_the_lowest_of_each(self):
        # DPDK's only fast run went unconfirmed: the plain rule pairs its slow
        # 129 with vhu's fast 42; the same-floor ratio pairs like with like.
        case = bench.summarise_case(
            {"case": "packed/h2g-64", "target": 1.3, "cycles_figure": "backend burst"},
            {"reference": [floor_run(38.5, [31, 33]), floor_run(129.0, [160, 170]),
                           floor_run(133.0, [170, 165])],
             "subject": [floor_run(42.0, [30, 32]), floor_run(43.0, [31, 31]),
                         floor_run(166.0, [160, 161])]}, 1.3)
        self.assertAlmostEqual(case["cycles_ratio"], 129.0 / 42.0, places=2)
        self.assertEqual(case["same_floor_class"], "fast")
        self.assertAlmostEqual(case["same_floor_ratio"], round(38.5 / 42.0, 3))
        self.assertEqual(case["same_floor"]["fast"]["runs"], [1, 2])
        self.assertAlmostEqual(case["same_floor"]["slow"]["ratio"], round(129.0 / 166.0, 3))
        # One fast run of DPDK's is no basis: the headline is each side alone, and says so.
        self.assertEqual(case["cycles_basis"], bench.BASIS_ALONE)
        self.assertIn(" alone ", bench.results_table([case]).splitlines()[2])

    def test_no_class_both_sides_met_gives_no_same_floor_ratio(self):
        case = bench.summarise_case(
            {"case": "packed/h2g-64", "target": 1.3, "cycles_figure": "backend burst"},
            {"reference": [floor_run(38.5, [31, 33]), floor_run(39.0, [31, 160])],
             "subject": [floor_run(166.0, [160, 161]), floor_run(160.0, None)]}, 1.3)
        self.assertEqual(case["same_floor"], {})
        self.assertIsNone(case["same_floor_ratio"])


FAST, SLOW, MOVED = [31.0, 33.0], [160.0, 170.0], [31.0, 160.0]


def runs_on(*pairs):
    """A side's runs: (burst cycles, floors) each, all else alike."""
    return [floor_run(c, list(f) if f else None) for c, f in pairs]


class StopRule(unittest.TestCase):
    """more_runs(): after --repeats, a case runs until every side has two runs
    on one floor class; without floors, until each side alone is confirmed."""

    def more(self, per_side, rounds, repeats=3, max_repeats=8):
        return bench.more_runs(per_side, "burst_cycles", rounds, repeats, max_repeats)

    def test_stops_at_repeats_when_both_sides_have_two_fast_runs(self):
        per_side = {"reference": runs_on((40, FAST), (130, SLOW), (41, FAST)),
                    "subject": runs_on((42, FAST), (43, FAST), (166, SLOW))}
        self.assertFalse(self.more(per_side, 3))

    def test_runs_up_to_repeats_whatever_the_floors(self):
        per_side = {"reference": runs_on((40, FAST), (41, FAST)),
                    "subject": runs_on((42, FAST), (43, FAST))}
        self.assertTrue(self.more(per_side, 2))

    def test_continues_while_one_side_has_only_slow_runs(self):
        # Each side alone is confirmed (the former rule stopped here), but on
        # different floors: no fair pair yet.
        per_side = {"reference": runs_on((130, SLOW), (131, SLOW), (132, SLOW)),
                    "subject": runs_on((42, FAST), (43, FAST), (44, FAST))}
        self.assertTrue(self.more(per_side, 3))
        per_side["reference"] += runs_on((40, FAST))
        per_side["subject"] += runs_on((45, FAST))
        self.assertTrue(self.more(per_side, 4))
        per_side["reference"] += runs_on((39, FAST))
        per_side["subject"] += runs_on((46, FAST))
        self.assertFalse(self.more(per_side, 5))

    def test_two_slow_runs_a_side_are_enough(self):
        per_side = {"reference": runs_on((40, FAST), (130, SLOW), (131, SLOW)),
                    "subject": runs_on((166, SLOW), (42, FAST), (170, SLOW))}
        self.assertFalse(self.more(per_side, 3))

    def test_runs_whose_floor_moved_or_failed_do_not_count(self):
        per_side = {"reference": runs_on((40, FAST), (41, MOVED), (42, [31.0, None])),
                    "subject": runs_on((42, FAST), (43, FAST), (44, FAST))}
        self.assertTrue(self.more(per_side, 3))
        failed = floor_run(41, FAST)
        failed["mpps"], failed["error"] = None, "no statistics"  # as a failed run is
        per_side["reference"][1] = failed
        self.assertTrue(self.more(per_side, 3))

    def test_stops_at_max_repeats_whatever(self):
        per_side = {"reference": runs_on(*[(130, SLOW)] * 8),
                    "subject": runs_on(*[(42, FAST)] * 8)}
        self.assertTrue(self.more(per_side, 7))
        self.assertFalse(self.more(per_side, 8))
        self.assertFalse(self.more(per_side, 3, repeats=3, max_repeats=3))

    def test_without_floors_each_side_alone_must_be_confirmed(self):
        per_side = {"reference": runs_on((40, None), (41, None), (42, None)),
                    "subject": runs_on((42, None), (43, None), (44, None))}
        self.assertFalse(self.more(per_side, 3))
        # The subject's cheapest run has no second within CYCLES_MODE.
        per_side["subject"] = runs_on((30, None), (43, None), (90, None))
        self.assertTrue(self.more(per_side, 3))
        # ...nor its best Mpps within CONFIRM.
        per_side["subject"] = runs_on((42, None), (43, None))
        per_side["subject"][0]["mpps"] = 20.0
        self.assertTrue(self.more(per_side, 3))


class Headline(unittest.TestCase):
    """The case's ratio, met and spread come from the runs of one floor
    class when both sides have two there; each side alone is kept."""

    def summarise(self, reference, subject):
        return bench.summarise_case(
            {"case": "packed/h2g-64", "target": 1.3, "cycles_figure": "backend burst"},
            {"reference": reference, "subject": subject}, 1.3)

    def test_the_headline_comes_from_the_fast_class_both_sides_met(self):
        # DPDK's two fast runs are 30 % apart, so alone its figure is its
        # confirmed slow pair (129), against vhu's fast 42: 3.07, two modes.
        case = self.summarise(runs_on((38.5, FAST), (129.0, SLOW), (50.0, FAST), (133.0, SLOW)),
                              runs_on((42.0, FAST), (43.0, FAST), (166.0, SLOW)))
        self.assertEqual(case["cycles_basis"], "same floor fast")
        self.assertEqual(case["cycles_basis_runs"], [2, 2])
        self.assertEqual(case["reference_cycles"], 38.5)
        self.assertEqual(case["subject_cycles"], 42.0)
        self.assertEqual(case["cycles_ratio"], round(38.5 / 42.0, 3))
        self.assertFalse(case["meets_target"])
        self.assertEqual(case["reference_cycles_spread"], round((50.0 - 38.5) / 2 / 38.5, 4))
        # Its second fast run, 30 % above, does not confirm 38.5; vhu's 43 does its 42.
        self.assertFalse(case["reference_cycles_confirmed"])
        self.assertTrue(case["subject_cycles_confirmed"])
        # Each side alone, kept under its own name.
        self.assertEqual(case["reference_cycles_alone"], 129.0)
        self.assertTrue(case["reference_cycles_alone_confirmed"])
        self.assertEqual(case["subject_cycles_alone"], 42.0)
        self.assertEqual(case["cycles_ratio_alone"], round(129.0 / 42.0, 3))
        line = bench.results_table([case]).splitlines()[2]
        self.assertIn(" 0.92 ", line)
        self.assertIn(" NO ", line)
        self.assertIn(" fast 2/2 ", line)
        self.assertIn(" 3.07 ", line)

    def test_the_slow_class_when_only_it_has_two_runs_a_side(self):
        case = self.summarise(runs_on((38.5, FAST), (129.0, SLOW), (133.0, SLOW)),
                              runs_on((42.0, FAST), (43.0, FAST), (166.0, SLOW), (160.0, SLOW),
                                      (170.0, SLOW)))
        self.assertEqual(case["cycles_basis"], "same floor slow")
        self.assertEqual(case["cycles_basis_runs"], [2, 3])
        self.assertEqual(case["cycles_ratio"], round(129.0 / 160.0, 3))
        self.assertEqual(case["subject_cycles_spread"], round(5.0 / 160.0, 4))
        self.assertIn(" slow 2/3 ", bench.results_table([case]).splitlines()[2])

    def test_without_a_common_class_each_side_alone_is_the_headline(self):
        case = self.summarise(runs_on((38.5, None), (40.0, None)),
                              runs_on((42.0, MOVED), (43.0, FAST)))
        self.assertEqual(case["cycles_basis"], bench.BASIS_ALONE)
        self.assertIsNone(case["cycles_basis_runs"])
        self.assertEqual(case["reference_cycles"], case["reference_cycles_alone"])
        self.assertEqual(case["cycles_ratio"], case["cycles_ratio_alone"])
        self.assertEqual(case["cycles_ratio"], round(38.5 / 42.0, 3))

    def test_the_table_stays_narrow_with_a_whole_suites_figures(self):
        results = []
        shapes = [  # fast 2/2, slow 3/2, alone with an unconfirmed side
            (runs_on((1038.5, FAST), (1129.0, SLOW), (1250.0, FAST)),
             runs_on((42.0, FAST), (1166.0, SLOW), (49.0, FAST))),
            (runs_on((1038.5, SLOW), (1129.0, SLOW), (1250.0, SLOW)),
             runs_on((2042.0, SLOW), (43.0, FAST), (2166.0, SLOW))),
            (runs_on((1038.5, FAST), (3129.0, SLOW)),
             runs_on((42.0, MOVED), (1166.0, SLOW), (1950.0, FAST)))]
        for i, suite in enumerate(bench.SUITES):
            for j, case in enumerate(("g2h-64", "g2h-1518", "h2g-64", "h2g-1518")):
                c = self.summarise(*shapes[(i + j) % len(shapes)])
                c["case"] = "%s/%s-q16" % (suite, case)
                c["reference_mpps"] = c["subject_mpps"] = 123.45
                results.append(c)
        lines = bench.results_table(results).splitlines()
        self.assertEqual({bench.fmt_basis(c) for c in results}, {"fast 2/2", "slow 3/2", "alone"})
        self.assertIn("?", "".join(lines[2:2 + len(results)]))
        self.assertLessEqual(max(len(x) for x in lines), 150, "\n".join(lines))


def basis_doc(subject, reference, basis):
    d = doc(subject, reference)
    if basis is not None:
        d["results"][0]["cycles_basis"] = basis
    return d


class Compare(unittest.TestCase):
    def test_a_fast_floor_figure_gets_no_verdict_against_a_slow_one(self):
        fast, slow = "same floor fast", "same floor slow"
        rows = bench.compare_cases(basis_doc(100.0, 130.0, fast), basis_doc(60.0, 130.0, slow))
        self.assertEqual(rows[0]["verdict"], "other floor")
        self.assertEqual(rows[0]["floors"], ("fast", "slow"))
        self.assertIn("other floor", bench.compare_table(rows))
        # One class on both, or a file without a class (older, or each side
        # alone), is judged.
        for old, new in ((fast, fast), (slow, slow), (None, fast), (bench.BASIS_ALONE, slow),
                         (fast, None)):
            self.assertEqual(bench.compare_cases(basis_doc(100.0, 130.0, old),
                                                 basis_doc(60.0, 130.0, new))[0]["verdict"],
                             "cheaper", (old, new))

    def test_a_change_inside_the_noise_is_the_same(self):
        rows = bench.compare_cases(doc(100.0, 130.0, 0.02), doc(103.0, 130.0, 0.02))
        self.assertEqual(rows[0]["verdict"], "same")
        self.assertAlmostEqual(rows[0]["band"], 0.04)

    def test_beyond_the_noise_it_is_cheaper_or_dearer(self):
        self.assertEqual(bench.compare_cases(doc(100.0, 130.0), doc(90.0, 130.0))[0]["verdict"],
                         "cheaper")
        self.assertEqual(bench.compare_cases(doc(100.0, 130.0), doc(110.0, 130.0))[0]["verdict"],
                         "dearer")

    def test_the_noise_band_has_a_floor(self):
        rows = bench.compare_cases(doc(100.0, 130.0), doc(102.0, 130.0))
        self.assertEqual(rows[0]["band"], bench.NOISE_FLOOR)
        self.assertEqual(rows[0]["verdict"], "same")

    def test_the_reference_change_is_shown(self):
        rows = bench.compare_cases(doc(100.0, 130.0), doc(100.0, 143.0))
        self.assertAlmostEqual(rows[0]["reference_change"], 0.1)
        self.assertIn("+10.0%", bench.compare_table(rows))

    def test_a_file_from_before_the_burst_figure_gets_no_verdict_against_it(self):
        old = doc(100.0, 130.0)
        new = doc(60.0, 130.0)
        new["results"][0]["cycles_figure"] = "backend burst"
        rows = bench.compare_cases(old, new)
        self.assertEqual(rows[0]["verdict"], "other figure")
        # Two files of the same figure, old (no key) or new, are judged.
        self.assertEqual(bench.compare_cases(old, doc(60.0, 130.0))[0]["verdict"], "cheaper")
        self.assertEqual(bench.compare_cases(new, new)[0]["verdict"], "same")

    def test_cases_in_one_file_only_are_left_out(self):
        other = doc(1.0, 1.0)
        other["results"][0]["case"] = "backend/h2g-64"
        self.assertEqual(bench.compare_cases(doc(100.0, 130.0), other), [])


class RunTime(unittest.TestCase):
    """The time a run takes, as README.md, doc/performance.md and --help say."""

    def minutes(self, suites):
        runs = suites * 4 * 2 * bench.REPEATS
        return round(runs * (bench.DURATION + bench.RUN_OVERHEAD) / 60)

    def test_a_run_is_its_processes_and_two_floors(self):
        self.assertEqual(bench.RUN_OVERHEAD, bench.PROCESS_OVERHEAD + bench.FLOORS_OVERHEAD)
        self.assertGreater(bench.FLOORS_OVERHEAD, 0)

    def test_pvp_counts_what_it_runs_and_two_floors(self):
        # pvp.py runs the host and the VM like vhost_vs_dpdk.py runs its two
        # processes, with the two core-to-core floors around them.
        self.assertEqual(pvp.RUN_OVERHEAD, bench.RUN_OVERHEAD)
        self.assertEqual(pvp.RUNS, 2 * 2 * bench.REPEATS)
        each = bench.DURATION + bench.PROCESS_OVERHEAD
        out = io.StringIO()
        argv = sys.argv
        sys.argv = ["pvp.py", "--help"]
        try:
            with contextlib.redirect_stdout(out), self.assertRaises(SystemExit):
                pvp.parse_args()
        finally:
            sys.argv = argv
        self.assertIn(bench.run_time_note(pvp.RUNS, bench.REPEATS, bench.MAX_REPEATS,
                                          bench.DURATION, bench.RUN_OVERHEAD,
                                          more_when=bench.MORE_RUNS_WHEN),
                      " ".join(out.getvalue().split()))
        self.assertIn("%d runs of about %d s: about %d minutes" %
                      (pvp.RUNS, each, round(pvp.RUNS * each / 60)),
                      " ".join(out.getvalue().split()))

    def test_the_note_is_runs_times_duration_and_start_up(self):
        self.assertEqual(bench.run_time_note(96, 3, 8, 12, 4),
                         "96 runs of about 16 s: about 26 minutes (up to 68 when more runs "
                         "are needed to confirm the figures)")
        self.assertEqual(bench.run_time_note(12, 3, 3, 8, 2),
                         "12 runs of about 10 s: about 2 minutes")

    def test_readme_and_performance_md_give_the_defaults_time(self):
        top = os.path.dirname(os.path.dirname(HERE))
        with open(os.path.join(top, "README.md")) as f:
            readme = f.read()
        with open(os.path.join(top, "doc", "performance.md")) as f:
            perf = f.read()
        whole, one = self.minutes(len(bench.SUITES)), self.minutes(1)
        want = [whole, len(bench.SUITES) * 4 * 2 * bench.REPEATS,
                round(bench.DURATION + bench.RUN_OVERHEAD), one]
        for text, where, pattern in (
                (readme, "README.md", r"takes about (\d+) minutes with the defaults \((\d+) runs "
                 r"of ~(\d+) s: four suites;\s+`--suites backend` alone about (\d+)\)"),
                (perf, "performance.md's table", r"\| about (\d+) minutes \((\d+) runs x "
                 r"~(\d+) s; `--suites backend`: (\d+)\) \| `python3 test/perf/vhost_vs_dpdk")):
            m = re.search(pattern, text)
            self.assertIsNotNone(m, "%s no longer says how long vhost_vs_dpdk.py takes" % where)
            self.assertEqual([int(x) for x in m.groups()], want, where)
        m = re.search(r"About (\d+) minutes with the defaults.*?suite in about (\d+)\.", perf,
                      re.S)
        self.assertIsNotNone(m, "performance.md's 'Running it' no longer gives the time")
        self.assertEqual([int(x) for x in m.groups()], [whole, one])

        m = re.search(r"\| about (\d+) minutes \((\d+) sizes x (\d+) sides x (\d+) runs x ~(\d+) "
                      r"s\) \| `python3 test/perf/pvp.py", perf)
        self.assertIsNotNone(m, "performance.md's table no longer gives pvp.py's time")
        each = bench.DURATION + pvp.RUN_OVERHEAD
        self.assertEqual([int(x) for x in m.groups()],
                         [round(pvp.RUNS * each / 60), 2, 2, bench.REPEATS, round(each)])


class Cleanup(unittest.TestCase):
    def test_a_prefix_runtime_directory_goes_and_no_other(self):
        with tempfile.TemporaryDirectory() as d:
            for prefix in ("vhu-perf-1-1-be", "someone-else"):
                os.makedirs(os.path.join(d, "dpdk", prefix))
            old = os.environ.get("XDG_RUNTIME_DIR")
            os.environ["XDG_RUNTIME_DIR"] = d
            try:
                bench.remove_dpdk_files("vhu-perf-1-1-be")
            finally:
                if old is None:
                    del os.environ["XDG_RUNTIME_DIR"]
                else:
                    os.environ["XDG_RUNTIME_DIR"] = old
            self.assertEqual(os.listdir(os.path.join(d, "dpdk")), ["someone-else"])


def run_fake_main(fake_bench, path, sizes, repeats, max_repeats):
    """vhost_vs_dpdk's main() over 'fake_bench' for backend/g2h at 'sizes',
    its JSON to 'path'; returns (exit status, the JSON)."""
    args = types.SimpleNamespace(
        vhu_pmd="vhu-pmd", suites=["backend"], directions=["g2h"], sizes=sizes,
        sides=["subject", "reference"], repeats=repeats, max_repeats=max_repeats, duration=1,
        window=2, queues=1, ring_size=256, frontend_keys="", burst=32, backend_lcores="0,1",
        frontend_lcores="0,2", eal_mem="--no-huge", burst_cycles_lib=None, output=path)
    return run_main_patched(bench, {
        "parse_args": lambda: args,
        "machine_info": lambda vhu_pmd=None: {"load_average_before": [0.0] * 3},
        "Bench": fake_bench,
        "log": lambda msg: None}, path)


class Interrupted(unittest.TestCase):
    """Ctrl-C during a run: main() saves the finished cases, marked
    interrupted, and returns 130 as a command stopped by SIGINT; a run that
    finishes returns 0. Processes, machine and runs are fakes: nothing is
    measured."""

    class FakeBench:
        calls = 0
        interrupt_at = 0
        stopped = False

        def __init__(self, args):
            pass

        def run_once(self, setup, direction, size):
            cls = Interrupted.FakeBench
            cls.calls += 1
            if cls.calls == cls.interrupt_at:
                raise KeyboardInterrupt
            per_s = 28e6 if setup.backend == "vhu" else 25e6
            return {"stretches": [(2 * per_s, 2.0)] * 3, "periods": [(per_s, 1.0)] * 6,
                    "rx_cycles": 100.0, "tx_cycles": None, "floor_ns": None,
                    "features": "0x1", "error": None}

        def stop_all(self):
            Interrupted.FakeBench.stopped = True

    def main(self, interrupt_at):
        """main() over backend g2h-64 and g2h-1518, one run a side, whose
        interrupt_at-th run is stopped by Ctrl-C: (its status, the JSON)."""
        Interrupted.FakeBench.calls = 0
        Interrupted.FakeBench.interrupt_at = interrupt_at
        Interrupted.FakeBench.stopped = False
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "out.json")
            status, doc = run_fake_main(Interrupted.FakeBench, path, sizes=[64, 1518],
                                        repeats=1, max_repeats=1)
        self.assertTrue(Interrupted.FakeBench.stopped)
        return status, doc

    def test_ctrl_c_exits_130_after_saving_the_finished_cases(self):
        status, doc = self.main(interrupt_at=3)
        self.assertEqual(status, 130)
        self.assertIs(doc["interrupted"], True)
        self.assertEqual([c["case"] for c in doc["results"]], ["backend/g2h-64"])

    def test_ctrl_c_before_any_case_finished_still_exits_130(self):
        status, doc = self.main(interrupt_at=1)
        self.assertEqual(status, 130)
        self.assertIs(doc["interrupted"], True)
        self.assertEqual(doc["results"], [])

    def test_130_is_left_by_dying_of_sigint(self):
        """So that a shell loop over the script stops at Ctrl-C too."""
        code = ("import sys; sys.path.insert(0, %r); import vhost_vs_dpdk as b; "
                "print('report'); b.exit_with(%d)")
        for status, want in ((130, -signal.SIGINT), (0, 0), (1, 1)):
            p = subprocess.run([sys.executable, "-c", code % (HERE, status)],
                               stdout=subprocess.PIPE, timeout=60)
            self.assertEqual(p.returncode, want)
            self.assertEqual(p.stdout, b"report\n")

    def test_a_whole_run_exits_0(self):
        status, doc = self.main(interrupt_at=0)
        self.assertEqual(status, 0)
        self.assertIs(doc["interrupted"], False)
        self.assertEqual([c["case"] for c in doc["results"]],
                         ["backend/g2h-64", "backend/g2h-1518"])


class FloorMain(unittest.TestCase):
    """main() end to end over fake runs that carry floors: how many runs a
    case makes under more_runs(), and the headline it writes."""

    class FakeBench:
        floors = {}   # side -> the floors of its runs, in order (None: not measured)
        made = {}     # side -> runs made

        def __init__(self, args):
            pass

        def run_once(self, setup, direction, size):
            cls = FloorMain.FakeBench
            side = "subject" if setup.backend == "vhu" else "reference"
            floors = cls.floors[side][cls.made[side]]
            cls.made[side] += 1
            fast = floors is None or max(floors) <= bench.FLOOR_FAST_MAX
            per_s = (28e6 if fast else 9e6) * (1.1 if side == "subject" else 1.0)
            cycles = (100.0 if fast else 210.0) * (0.9 if side == "subject" else 1.0)
            return {"stretches": [(2 * per_s, 2.0)] * 3, "periods": [(per_s, 1.0)] * 6,
                    "rx_cycles": cycles, "tx_cycles": None, "burst": None,
                    "floor_ns": floors, "features": "0x1", "error": None}

        def stop_all(self):
            pass

    def main(self, reference, subject, repeats=3, max_repeats=8):
        """main() over backend g2h-64 whose runs meet these floors: (the
        runs it made of each side, the case it wrote)."""
        FloorMain.FakeBench.floors = {"reference": reference, "subject": subject}
        FloorMain.FakeBench.made = {"reference": 0, "subject": 0}
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "out.json")
            status, doc = run_fake_main(FloorMain.FakeBench, path, sizes=[64],
                                        repeats=repeats, max_repeats=max_repeats)
        self.assertEqual(status, 0)
        case = doc["results"][0]
        self.assertEqual(doc["summary"]["backend/g2h-64"], case["cycles_ratio"])
        return FloorMain.FakeBench.made, case

    def test_both_sides_fast_twice_stops_at_repeats(self):
        made, case = self.main([FAST, SLOW, FAST] + [FAST] * 5, [FAST] * 8)
        self.assertEqual(made, {"reference": 3, "subject": 3})
        self.assertEqual(case["cycles_basis"], "same floor fast")
        self.assertEqual(case["cycles_ratio"], round(100.0 / 90.0, 3))

    def test_runs_on_until_the_slow_side_meets_the_fast_floor_twice(self):
        # DPDK's runs are slow for four runs, vhu's always fast: each alone is
        # confirmed after three (the former rule stopped there), but not on
        # one floor. Two more rounds give DPDK two fast runs.
        made, case = self.main([SLOW] * 4 + [FAST] * 4, [FAST] * 8)
        self.assertEqual(made, {"reference": 6, "subject": 6})
        self.assertEqual(case["cycles_basis"], "same floor fast")
        self.assertEqual(case["cycles_basis_runs"], [2, 6])
        self.assertEqual(case["cycles_ratio"], round(100.0 / 90.0, 3))
        self.assertEqual(case["cycles_ratio_alone"], round(100.0 / 90.0, 3))

    def test_never_on_one_floor_stops_at_max_repeats_with_each_side_alone(self):
        made, case = self.main([SLOW] * 8, [FAST] * 8)
        self.assertEqual(made, {"reference": 8, "subject": 8})
        self.assertEqual(case["cycles_basis"], bench.BASIS_ALONE)
        self.assertEqual(case["cycles_ratio"], round(210.0 / 90.0, 3))

    def test_without_floors_it_stops_once_each_side_is_confirmed(self):
        made, case = self.main([None] * 8, [None] * 8)
        self.assertEqual(made, {"reference": 3, "subject": 3})
        self.assertEqual(case["cycles_basis"], bench.BASIS_ALONE)


class PvpInterrupted(unittest.TestCase):
    """pvp.py's Ctrl-C: the finished sizes printed and written, marked
    interrupted, and 130; a whole run 0. Processes and runs are fakes."""

    class FakePvp:
        calls = 0
        interrupt_at = 0

        def __init__(self, args):
            pass

        def run_once(self, side, size):
            cls = PvpInterrupted.FakePvp
            cls.calls += 1
            if cls.calls == cls.interrupt_at:
                raise KeyboardInterrupt
            return [(56e6 if side == "subject" else 50e6, 2.0)] * 3, None, [None, None]

        def stop_all(self):
            pass

    def main(self, interrupt_at):
        PvpInterrupted.FakePvp.calls = 0
        PvpInterrupted.FakePvp.interrupt_at = interrupt_at
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "pvp.json")
            args = types.SimpleNamespace(
                vhu_pmd="vhu-pmd", sizes=[64, 1518], sides=["subject", "reference"],
                repeats=1, max_repeats=1, duration=1, window=2, ring_size=256, burst=32,
                host_lcores="0,1", frontend_lcores="0,1", eal_mem="--no-huge", output=path)
            status, doc = run_main_patched(pvp, {
                "parse_args": lambda: args,
                "machine_info": lambda vhu_pmd=None: {"load_average_before": [0.0] * 3},
                "Pvp": PvpInterrupted.FakePvp,
                "log": lambda msg: None}, path)
        return status, doc

    def test_ctrl_c_exits_130_after_saving_the_finished_sizes(self):
        status, doc = self.main(interrupt_at=3)
        self.assertEqual(status, 130)
        self.assertIs(doc["interrupted"], True)
        self.assertEqual([c["case"] for c in doc["results"]], ["pvp-64"])
        self.assertEqual(doc["results"][0]["ratio"], round(28 / 25, 3))

    def test_a_whole_run_exits_0(self):
        status, doc = self.main(interrupt_at=0)
        self.assertEqual(status, 0)
        self.assertIs(doc["interrupted"], False)
        self.assertEqual([c["case"] for c in doc["results"]], ["pvp-64", "pvp-1518"])


def both_run(rx, burst, floors):
    """A run with both figures, the receiver's and the backend's burst cycles."""
    r = floor_run(burst or 1.0, list(floors) if floors else None)
    r["rx_cycles"] = rx
    if burst is None:  # not counted
        r["burst_cycles"] = r["burst"] = None
    return r


class Beside(unittest.TestCase):
    """The figure beside the primary one comes from the headline's floor
    class, the same runs; each side alone is kept."""

    def summarise(self, reference, subject, figure="receiver"):
        return bench.summarise_case(
            {"case": "packed/g2h-64", "target": 1.3, "cycles_figure": figure},
            {"reference": [both_run(*r) for r in reference],
             "subject": [both_run(*r) for r in subject]}, 1.3)

    def test_the_burst_figure_beside_the_receivers_pairs_the_fast_runs(self):
        # Alone, DPDK's burst figure is its confirmed slow pair (70, 72):
        # its two fast runs (40, 52) are more than 20 % apart.
        case = self.summarise([(100.0, 40.0, FAST), (210.0, 70.0, SLOW), (104.0, 52.0, FAST),
                               (215.0, 72.0, SLOW)],
                              [(90.0, 30.0, FAST), (92.0, 31.0, FAST), (200.0, 70.0, SLOW)])
        self.assertEqual(case["cycles_basis"], "same floor fast")
        self.assertEqual(case["reference_burst_cycles"], 40.0)
        self.assertEqual(case["reference_burst_cycles_spread"], round(12.0 / 2 / 40.0, 4))
        # 52 is 30 % above 40: the two fast runs do not confirm each other.
        self.assertFalse(case["reference_burst_cycles_confirmed"])
        self.assertEqual(case["reference_burst_cycles_basis_runs"], 2)
        self.assertEqual(case["subject_burst_cycles"], 30.0)
        self.assertEqual(case["burst_cycles_ratio"], round(40.0 / 30.0, 3))
        # Each side alone, kept.
        self.assertEqual(case["reference_burst_cycles_alone"], 70.0)
        self.assertTrue(case["reference_burst_cycles_alone_confirmed"])
        self.assertEqual(case["subject_burst_cycles_alone"], 30.0)
        self.assertEqual(case["burst_cycles_ratio_alone"], round(70.0 / 30.0, 3))
        # The primary's named figure is the headline's.
        self.assertEqual(case["reference_receiver_cycles"], case["reference_cycles"])
        line = bench.results_table([case]).splitlines()[2].split()
        self.assertEqual(line[-5:], ["40", "±15%", "?", "30", "±2%"])

    def test_a_side_with_fewer_runs_of_it_in_the_class_is_unconfirmed(self):
        # vhu's second fast run did not count its burst cycles.
        case = self.summarise([(100.0, 40.0, FAST), (101.0, 41.0, FAST)],
                              [(90.0, 30.0, FAST), (92.0, None, FAST), (93.0, 31.0, SLOW)])
        self.assertEqual(case["cycles_basis"], "same floor fast")
        self.assertEqual(case["subject_burst_cycles"], 30.0)
        self.assertFalse(case["subject_burst_cycles_confirmed"])
        self.assertEqual(case["subject_burst_cycles_basis_runs"], 1)
        self.assertTrue(case["subject_burst_cycles_alone_confirmed"])
        self.assertTrue(bench.results_table([case]).splitlines()[2].endswith(" 30 ±0% ?"))
        # None of them did: no figure, not the other class's.
        case = self.summarise([(100.0, 40.0, FAST), (101.0, 41.0, FAST)],
                              [(90.0, None, FAST), (92.0, None, FAST), (93.0, 31.0, SLOW),
                               (94.0, 32.0, SLOW)])
        self.assertIsNone(case["subject_burst_cycles"])
        self.assertEqual(case["subject_burst_cycles_basis_runs"], 0)
        self.assertIsNone(case["burst_cycles_ratio"])
        self.assertEqual(case["subject_burst_cycles_alone"], 31.0)
        self.assertTrue(bench.results_table([case]).splitlines()[2].endswith(" -"))

    def test_the_receivers_figure_beside_the_burst_one_in_h2g(self):
        case = self.summarise([(300.0, 40.0, SLOW), (100.0, 41.0, FAST), (290.0, 42.0, FAST),
                               (130.0, 120.0, SLOW), (135.0, 125.0, SLOW)],
                              [(90.0, 30.0, FAST), (91.0, 31.0, FAST)], figure="backend burst")
        self.assertEqual(case["cycles_basis"], "same floor fast")
        self.assertEqual(case["reference_cycles"], 41.0)
        self.assertEqual(case["reference_receiver_cycles"], 100.0)
        self.assertEqual(case["reference_receiver_cycles_alone"], 130.0)
        self.assertEqual(case["reference_burst_cycles"], 41.0)
        self.assertEqual(case["burst_cycles_ratio"], case["cycles_ratio"])
        self.assertIn(" 100 ±95% ", bench.results_table([case]).splitlines()[2])

    def test_without_a_class_the_beside_figure_is_each_side_alone(self):
        case = self.summarise([(100.0, 40.0, None), (101.0, 41.0, None)],
                              [(90.0, 30.0, MOVED), (92.0, 31.0, FAST)])
        self.assertEqual(case["cycles_basis"], bench.BASIS_ALONE)
        self.assertEqual(case["reference_burst_cycles"], 40.0)
        self.assertEqual(case["reference_burst_cycles_alone"], 40.0)
        self.assertIsNone(case["reference_burst_cycles_basis_runs"])
        self.assertEqual(case["burst_cycles_ratio"], case["burst_cycles_ratio_alone"])


def pvp_runs(*pairs):
    """A pvp.py side's runs: (Mpps, floors) each."""
    return [{"mpps": m, "floor_ns": list(f) if f else [None, None]} for m, f in pairs]


class PvpFloor(unittest.TestCase):
    """pvp.py pairs its sizes' runs on one core-to-core floor class and runs
    until both sides have two there, as vhost_vs_dpdk.py; its figure is a
    rate, so the best of a class counts."""

    def test_the_headline_is_the_best_run_of_the_class_both_sides_met(self):
        # vhu's best run (25) is one whose floor moved: alone it stands
        # against DPDK's fast 20; the class pairs fast with fast.
        case = pvp.summarise_size({"case": "pvp-64"}, {
            "reference": pvp_runs((20.0, FAST), (9.0, SLOW), (18.0, FAST)),
            "subject": pvp_runs((19.0, FAST), (25.0, MOVED), (21.0, FAST))})
        self.assertEqual(case["mpps_basis"], "same floor fast")
        self.assertEqual(case["mpps_basis_runs"], [2, 2])
        self.assertEqual(case["subject_mpps"], 21.0)
        self.assertEqual(case["subject_mpps_spread"], round(1.0 / 21.0, 4))
        self.assertEqual(case["ratio"], round(21.0 / 20.0, 3))
        self.assertTrue(case["meets_target"])
        self.assertEqual(case["subject_mpps_alone"], 25.0)
        self.assertEqual(case["ratio_alone"], round(25.0 / 20.0, 3))
        self.assertEqual(case["subject_runs"], [19.0, 25.0, 21.0])
        self.assertEqual(case["subject_floor_ns_runs"], [FAST, MOVED, FAST])

    def test_without_a_class_each_side_alone(self):
        case = pvp.summarise_size({"case": "pvp-64"}, {
            "reference": pvp_runs((20.0, None), (None, None)),
            "subject": pvp_runs((19.0, FAST), (18.5, SLOW))})
        self.assertEqual(case["mpps_basis"], bench.BASIS_BEST_ALONE)
        self.assertEqual(case["reference_mpps"], 20.0)
        self.assertFalse(case["reference_mpps_confirmed"])
        self.assertTrue(case["subject_mpps_confirmed"])
        self.assertEqual(case["ratio"], round(19.0 / 20.0, 3))
        self.assertFalse(case["meets_target"])

    def test_the_floor_is_between_the_host_and_the_vm_forwarding_lcores(self):
        with tempfile.TemporaryDirectory() as d:
            args = types.SimpleNamespace(c2c=os.path.join(d, "c2c"), host_lcores="0,1",
                                         frontend_lcores="1,0", keep_logs=False)
            said, cpus = [], []
            saved = pvp.log, pvp.measure_floor
            try:
                pvp.log = said.append

                def floor(tool, which, say=None):
                    cpus.append((tool, which))
                    return 30.0
                pvp.measure_floor = floor
                p = pvp.Pvp(args)

                def fail(*a):
                    raise RuntimeError("the host side did not start")
                p.host = fail
                samples, err, floors = p.run_once("subject", 64)
            finally:
                pvp.log, pvp.measure_floor = saved
        self.assertIsNone(p.c2c)
        self.assertIn("runs are not classed by the core-to-core floor", said[0])
        self.assertEqual(cpus, [(None, "1,0")] * 2)
        self.assertEqual((samples, err, floors), (None, "the host side did not start",
                                                  [30.0, 30.0]))

    class FakePvp:
        floors = {}
        made = {}
        mpps = None

        def __init__(self, args):
            pass

        def run_once(self, side, size):
            cls = PvpFloor.FakePvp
            f = cls.floors[side][cls.made[side]]
            fast = f is None or max(f) <= bench.FLOOR_FAST_MAX
            m = (cls.mpps[side][cls.made[side]] if cls.mpps else
                 (28e6 if fast else 9e6) * (1.1 if side == "subject" else 1.0))
            cls.made[side] += 1
            return [(2 * m, 2.0)] * 3, None, list(f) if f else [None, None]

        def stop_all(self):
            pass

    def main(self, reference, subject, mpps=None, repeats=3, max_repeats=8):
        cls = PvpFloor.FakePvp
        cls.floors = {"reference": reference, "subject": subject}
        cls.made = {"reference": 0, "subject": 0}
        cls.mpps = mpps
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "pvp.json")
            args = types.SimpleNamespace(
                vhu_pmd="vhu-pmd", sizes=[64], sides=["subject", "reference"],
                repeats=repeats, max_repeats=max_repeats, duration=1, window=2, ring_size=256,
                burst=32, host_lcores="0,1", frontend_lcores="1,0", eal_mem="--no-huge",
                output=path, c2c=None)
            status, doc = run_main_patched(pvp, {
                "parse_args": lambda: args,
                "machine_info": lambda vhu_pmd=None: {"load_average_before": [0.0] * 3},
                "Pvp": cls,
                "log": lambda msg: None}, path)
        self.assertEqual(status, 0)
        case = doc["results"][0]
        self.assertEqual(doc["summary"]["pvp-64"], case["ratio"])
        return dict(cls.made), case

    def test_both_sides_fast_twice_stops_at_repeats(self):
        made, case = self.main([FAST, SLOW, FAST] + [FAST] * 5, [FAST] * 8)
        self.assertEqual(made, {"reference": 3, "subject": 3})
        self.assertEqual(case["mpps_basis"], "same floor fast")
        self.assertEqual(case["ratio"], 1.1)

    def test_runs_on_until_the_slow_side_meets_the_fast_floor_twice(self):
        made, case = self.main([SLOW] * 4 + [FAST] * 4, [FAST] * 8)
        self.assertEqual(made, {"reference": 6, "subject": 6})
        self.assertEqual(case["mpps_basis_runs"], [2, 6])
        self.assertEqual(case["ratio"], 1.1)

    def test_never_on_one_floor_stops_at_max_repeats_with_each_side_alone(self):
        made, case = self.main([SLOW] * 8, [FAST] * 8)
        self.assertEqual(made, {"reference": 8, "subject": 8})
        self.assertEqual(case["mpps_basis"], bench.BASIS_BEST_ALONE)
        self.assertEqual(case["ratio"], round(28 * 1.1 / 9, 3))

    def test_without_floors_it_stops_once_each_sides_best_is_confirmed(self):
        made, _ = self.main([None] * 8, [None] * 8)
        self.assertEqual(made, {"reference": 3, "subject": 3})
        # vhu's best (30) has no second within 10 % until its fifth run.
        made, _ = self.main([None] * 8, [None] * 8,
                            mpps={"reference": [28e6] * 8,
                                  "subject": [30e6, 20e6, 10e6, 25e6, 29e6, 29e6, 29e6, 29e6]})
        self.assertEqual(made, {"reference": 5, "subject": 5})


class FloorLine(unittest.TestCase):
    def test_a_runs_floors_as_the_progress_line_gives_them(self):
        self.assertEqual(bench.fmt_floors([31.0, 33.4]), "floor 31/33 ns (fast)")
        self.assertEqual(bench.fmt_floors([31.0, 160.0]), "floor 31/160 ns (moved)")
        self.assertEqual(bench.fmt_floors([31.0, None]), "floor 31/- ns (unclassed)")
        self.assertEqual(bench.fmt_floors([None, None]), "no floor")
        self.assertEqual(bench.fmt_floors(None), "no floor")


if __name__ == "__main__":
    unittest.main(verbosity=2)
