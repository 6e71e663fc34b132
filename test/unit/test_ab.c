/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-pmd's A/B arithmetic (app/vhu-pmd/ab.h) on periods written here: the
 * pooled figures, the medians and ranges of the per-period ones, the ratio
 * of neighbouring periods, the printed block; and libvhu's switch itself.
 * No EAL: the functions are pure and the switch is a global.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ab.h"
#include "test_harness.h"
#include "vhu_prefetch.h"
#include "vhu_vhost.h"

#define HZ 1000000000ull /* 1 GHz: a period of 1e8 cycles is 0.1 s */

#define ASSERT_NEAR(a, b) ASSERT_TRUE(fabs((double)(a) - (double)(b)) < 1e-9)

/* A period of 0.1 s with 'cycles' busy cycles for 'packets' packets. */
static struct ab_period
period(uint64_t cycles, uint64_t packets, uint64_t bcycles, uint64_t bpackets)
{
	return (struct ab_period){ .tsc = HZ / 10,
				   .busy_cycles = cycles,
				   .busy_polls = 1,
				   .packets = packets,
				   .burst_cycles = bcycles,
				   .burst_packets = bpackets };
}

TEST(figures_pool_the_periods_and_give_median_and_range)
{
	/* 50, 60 and 40 cycles per packet; pooled: 1500 / 30 = 50. */
	struct ab_period p[] = { period(500, 10, 0, 0), period(600, 10, 0, 0),
				 period(400, 10, 0, 0) };
	struct ab_figures f;

	ab_figures(p, 3, HZ, &f);
	ASSERT_EQ(f.periods, 3);
	ASSERT_EQ(f.packets, 30);
	ASSERT_EQ(f.cpp.n, 3);
	ASSERT_NEAR(f.cpp.pooled, 50.0);
	ASSERT_NEAR(f.cpp.median, 50.0);
	ASSERT_NEAR(f.cpp.min, 40.0);
	ASSERT_NEAR(f.cpp.max, 60.0);
	/* 10 packets in 0.1 s each: 100 pps, 0.0001 Mpps. */
	ASSERT_NEAR(f.mpps.pooled, 1e-4);
	ASSERT_NEAR(f.mpps.median, 1e-4);
}

TEST(figures_median_of_an_even_count_is_the_mean_of_the_middle_two)
{
	struct ab_period p[] = { period(100, 1, 0, 0), period(400, 1, 0, 0), period(200, 1, 0, 0),
				 period(1000, 1, 0, 0) };
	struct ab_figures f;

	ab_figures(p, 4, HZ, &f);
	ASSERT_NEAR(f.cpp.median, 300.0);
	ASSERT_NEAR(f.cpp.min, 100.0);
	ASSERT_NEAR(f.cpp.max, 1000.0);
	/* Pooled is not the mean of the ratios: 1700 / 4. */
	ASSERT_NEAR(f.cpp.pooled, 425.0);
}

TEST(figures_leave_a_period_without_packets_out_of_the_spread)
{
	struct ab_period p[] = { period(500, 10, 0, 0), period(0, 0, 0, 0), period(700, 10, 0, 0) };
	struct ab_figures f;

	ab_figures(p, 3, HZ, &f);
	ASSERT_EQ(f.periods, 3);
	ASSERT_EQ(f.cpp.n, 2);
	ASSERT_NEAR(f.cpp.median, 60.0);
	ASSERT_NEAR(f.cpp.min, 50.0);
	/* Its time still counts in the rate: 20 packets in 0.3 s. */
	ASSERT_NEAR(f.mpps.pooled, 20.0 / 0.3 / 1e6);
	ASSERT_NEAR(f.mpps.min, 0.0);
}

TEST(figures_without_burst_counters_have_no_burst_figure)
{
	struct ab_period p[] = { period(500, 10, 0, 0) };
	struct ab_figures f;

	ab_figures(p, 1, HZ, &f);
	ASSERT_EQ(f.burst.n, 0);
	ASSERT_NEAR(f.burst.pooled, 0.0);
}

TEST(figures_of_no_period_are_zero)
{
	struct ab_figures f;

	ab_figures(NULL, 0, HZ, &f);
	ASSERT_EQ(f.periods, 0);
	ASSERT_EQ(f.cpp.n, 0);
	ASSERT_NEAR(f.cpp.pooled, 0.0);
}

TEST(ratio_compares_each_period_with_its_neighbour)
{
	/* Variant 0 is 0.9 of variant 1 in the first pair, 0.8 in the second, 1.0 in
	 * the third; the machine got twice as slow between pairs, which the per-pair
	 * ratio does not see. Variant 0 has one more period, without a partner. */
	struct ab_period p0[] = { period(90, 1, 45, 1), period(160, 1, 80, 1),
				  period(400, 1, 200, 1), period(1, 1, 1, 1) };
	struct ab_period p1[] = { period(100, 1, 50, 1), period(200, 1, 100, 1),
				  period(400, 1, 200, 1) };
	struct ab_stat r;

	ab_ratio(p0, 4, p1, 3, false, &r);
	ASSERT_EQ(r.n, 3);
	ASSERT_NEAR(r.median, 0.9);
	ASSERT_NEAR(r.min, 0.8);
	ASSERT_NEAR(r.max, 1.0);
	/* Pooled: (651 / 4) / (700 / 3). */
	ASSERT_NEAR(r.pooled, (651.0 / 4) / (700.0 / 3));
	ab_ratio(p0, 4, p1, 3, true, &r);
	ASSERT_EQ(r.n, 3);
	ASSERT_NEAR(r.median, 0.9);
}

TEST(ratio_skips_pairs_where_a_side_moved_nothing)
{
	struct ab_period p0[] = { period(90, 1, 0, 0), period(0, 0, 0, 0) };
	struct ab_period p1[] = { period(100, 1, 0, 0), period(100, 1, 0, 0) };
	struct ab_stat r;

	ab_ratio(p0, 2, p1, 2, false, &r);
	ASSERT_EQ(r.n, 1);
	ASSERT_NEAR(r.median, 0.9);
	ab_ratio(p0, 2, p1, 2, true, &r);
	ASSERT_EQ(r.n, 0);
	ASSERT_NEAR(r.pooled, 0.0);
}

TEST(print_gives_one_line_per_variant_and_the_ratio)
{
	struct ab_period p0[] = { period(500, 10, 300, 10), period(700, 10, 500, 10) };
	struct ab_period p1[] = { period(1000, 10, 600, 10), period(1000, 10, 600, 10) };
	const struct ab_period *p[AB_VARIANTS] = { p0, p1 };
	const unsigned int n[AB_VARIANTS] = { 2, 2 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ASSERT_NOT_NULL(f);
	ab_print(f, 500, p, n, HZ);
	fclose(f);
	ASSERT_STR_CONTAINS(buf, "  A/B (period 500 ms) variant 0: periods 2, packets 20, "
				 "cycles/packet 60.00 (median 60.00, 50.00-70.00), "
				 "burst cycles/packet 40.00 (median 40.00, 30.00-50.00), "
				 "Mpps 0.000 (median 0.000, 0.000-0.000)\n");
	ASSERT_STR_CONTAINS(buf, "  A/B (period 500 ms) variant 1: periods 2, packets 20, "
				 "cycles/packet 100.00 (median 100.00, 100.00-100.00), ");
	ASSERT_STR_CONTAINS(buf, "  A/B (period 500 ms) variant 0 / variant 1: pairs 2, "
				 "cycles/packet 0.600 (median 0.600, 0.500-0.700), "
				 "burst cycles/packet 0.667 (median 0.667, 0.500-0.833)\n");
	free(buf);
}

TEST(print_omits_burst_figures_where_none_were_counted)
{
	struct ab_period p0[] = { period(500, 10, 0, 0) };
	const struct ab_period *p[AB_VARIANTS] = { p0, p0 };
	const unsigned int n[AB_VARIANTS] = { 1, 1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ASSERT_NOT_NULL(f);
	ab_print(f, 10, p, n, HZ);
	fclose(f);
	ASSERT_TRUE(strstr(buf, "burst") == NULL);
	ASSERT_STR_CONTAINS(buf, "variant 0 / variant 1: pairs 1, cycles/packet 1.000");
	free(buf);
}

TEST(switch_takes_variants_0_and_1_and_refuses_more)
{
	ASSERT_EQ(vhu_vhost_ab_get(), 0);
	ASSERT_EQ(vhu_vhost_ab_set(1), 0);
	ASSERT_EQ(vhu_vhost_ab_get(), 1);
	ASSERT_EQ(vhu_vhost_ab_set(VHU_VHOST_AB_MAX + 1), -EINVAL);
	ASSERT_EQ(vhu_vhost_ab_get(), 1);
	ASSERT_EQ(vhu_vhost_ab_set(0), 0);
	ASSERT_EQ(vhu_vhost_ab_get(), 0);
}

/* The switch is the one the front-end reads too (vhu_ab.h): variant 1
 * turns the write prefetch off for both halves, where it is on at all. */
TEST(variant_1_turns_the_write_prefetch_off)
{
	bool saved = vhu_prefetchw;

	vhu_prefetchw = true;
	ASSERT_TRUE(vhu_prefetch_write_on());
	ASSERT_EQ(vhu_vhost_ab_set(1), 0);
	ASSERT_FALSE(vhu_prefetch_write_on());
	ASSERT_EQ(vhu_vhost_ab_set(0), 0);
	ASSERT_TRUE(vhu_prefetch_write_on());
	vhu_prefetchw = false;
	ASSERT_FALSE(vhu_prefetch_write_on());
	vhu_prefetchw = saved;
}
