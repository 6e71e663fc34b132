/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-blk's statistics (app/vhu-blk/blk_stats.c): the latency histogram
 * places every value in a bucket whose range holds it, within 3.2 %; the
 * percentiles of known samples; interval arithmetic; the printed line.
 */
#include <stdlib.h>
#include <string.h>

#include "blk_stats.h"
#include "test_harness.h"

TEST(every_latency_lies_in_its_bucket_within_3_percent)
{
	uint64_t v, step;

	for (v = 0, step = 1; v < (UINT64_C(1) << 39); v += step) {
		unsigned int b = blk_lat_bucket(v);
		uint64_t low = blk_lat_bucket_low(b);

		ASSERT_LT(b, BLK_LAT_BUCKETS);
		ASSERT_LE(low, v);
		if (b + 1 < BLK_LAT_BUCKETS)
			ASSERT_GT(blk_lat_bucket_low(b + 1), v);
		ASSERT_LE((v - low) * 1000, v * 32);
		if (v > 1000)
			step = v / 997;	/* visit every bucket, several times */
	}
}

TEST(bucket_edges_increase_strictly)
{
	unsigned int b;

	for (b = 1; b < BLK_LAT_BUCKETS; b++)
		ASSERT_GT(blk_lat_bucket_low(b), blk_lat_bucket_low(b - 1));
	ASSERT_EQ(blk_lat_bucket(0), 0);
	ASSERT_EQ(blk_lat_bucket(63), 63);
	ASSERT_EQ(blk_lat_bucket(64), 64);
}

TEST(latencies_beyond_the_range_land_in_the_last_bucket)
{
	ASSERT_EQ(blk_lat_bucket(UINT64_MAX), BLK_LAT_BUCKETS - 1);
	ASSERT_EQ(blk_lat_bucket(UINT64_C(1) << 45), BLK_LAT_BUCKETS - 1);
}

TEST(percentiles_of_uniform_samples)
{
	static struct blk_queue_stats s;
	uint64_t v;

	memset(&s, 0, sizeof(s));
	for (v = 1; v <= 100000; v++)
		blk_stats_complete(&s, BLK_OP_READ, 4096, 0, v * 10);	/* 10 ns .. 1 ms */
	ASSERT_EQ(blk_stats_requests(&s), 100000);
	ASSERT_EQ(s.bytes_read, 100000ull * 4096);
	ASSERT_LE(blk_stats_percentile(&s, 50), 500000);
	ASSERT_GE(blk_stats_percentile(&s, 50), 500000 * 97 / 100);
	ASSERT_LE(blk_stats_percentile(&s, 99), 990000);
	ASSERT_GE(blk_stats_percentile(&s, 99), 990000 * 97 / 100);
	ASSERT_LE(blk_stats_percentile(&s, 99.9), 999000);
	ASSERT_GE(blk_stats_percentile(&s, 99.9), 999000 * 97 / 100);
	ASSERT_EQ(blk_stats_percentile(&s, 100), blk_lat_bucket_low(blk_lat_bucket(1000000)));
}

TEST(one_slow_request_in_a_thousand_shows_at_p99_9_only)
{
	static struct blk_queue_stats s;
	int i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 999; i++)
		blk_stats_complete(&s, BLK_OP_WRITE, 512, 0, 20000);
	blk_stats_complete(&s, BLK_OP_WRITE, 512, 0, 5000000);
	ASSERT_LT(blk_stats_percentile(&s, 99), 21000);
	ASSERT_LT(blk_stats_percentile(&s, 99.9), 21000);
	ASSERT_GT(blk_stats_percentile(&s, 100), 4800000);
	ASSERT_EQ(blk_stats_percentile(&s, 50), blk_lat_bucket_low(blk_lat_bucket(20000)));
}

TEST(no_samples_give_zero_percentiles)
{
	static struct blk_queue_stats s;

	memset(&s, 0, sizeof(s));
	ASSERT_EQ(blk_stats_percentile(&s, 99), 0);
}

TEST(errors_are_counted_by_status_and_carry_no_bytes)
{
	static struct blk_queue_stats s;

	memset(&s, 0, sizeof(s));
	blk_stats_complete(&s, BLK_OP_READ, 4096, 1, 100);
	blk_stats_complete(&s, BLK_OP_OTHER, 0, 2, 100);
	ASSERT_EQ(s.ioerr, 1);
	ASSERT_EQ(s.unsupp, 1);
	ASSERT_EQ(s.bytes_read, 0);
}

TEST(interval_is_the_difference_of_two_snapshots)
{
	static struct blk_queue_stats live, a, b, iv, total;

	memset(&live, 0, sizeof(live));
	blk_stats_complete(&live, BLK_OP_READ, 4096, 0, 1000);
	blk_stats_snapshot(&live, &a);
	blk_stats_complete(&live, BLK_OP_WRITE, 8192, 0, 3000);
	blk_stats_complete(&live, BLK_OP_WRITE, 8192, 0, 3000);
	blk_stats_snapshot(&live, &b);
	blk_stats_diff(&b, &a, &iv);
	ASSERT_EQ(blk_stats_requests(&iv), 2);
	ASSERT_EQ(iv.ops[BLK_OP_WRITE], 2);
	ASSERT_EQ(iv.bytes_written, 16384);
	ASSERT_EQ(iv.bytes_read, 0);
	ASSERT_EQ(iv.lat[blk_lat_bucket(3000)], 2);
	memset(&total, 0, sizeof(total));
	blk_stats_add(&total, &iv);
	blk_stats_add(&total, &a);
	ASSERT_MEM_EQ(&total, &b, sizeof(total));
}

TEST(printed_line_has_rates_and_percentiles)
{
	static struct blk_queue_stats s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 2000; i++)
		blk_stats_complete(&s, BLK_OP_READ, 4096, 0, 12000);
	blk_stats_print(f, "queue 0", &s, 2.0);
	fclose(f);
	ASSERT_STR_CONTAINS(buf, "queue 0");
	ASSERT_STR_CONTAINS(buf, "1000 IOPS");
	ASSERT_STR_CONTAINS(buf, "read      4.1 MB/s");
	ASSERT_STR_CONTAINS(buf, "p99");
	free(buf);
}

TEST(tsc_cycles_become_nanoseconds_as_a_division_gives)
{
	static const uint64_t hz[] = { 1000000000ull, 2450000000ull, 3000000001ull, 25000000ull };
	static const uint64_t cycles[] = { 0, 1, 999, 123456789, 7ull * 3600 * 3000000000ull };
	size_t i, j;

	for (i = 0; i < sizeof(hz) / sizeof(hz[0]); i++) {
		uint64_t scale = blk_tsc_ns_scale(hz[i]);

		for (j = 0; j < sizeof(cycles) / sizeof(cycles[0]); j++) {
			uint64_t want =
				(uint64_t)((unsigned __int128)cycles[j] * 1000000000ull / hz[i]);
			uint64_t got = blk_tsc_to_ns(cycles[j], scale);

			/* The truncated factor costs at most a nanosecond below 2^32
			 * cycles, and a part in a billion beyond. */
			ASSERT_LE(got, want);
			ASSERT_LE(want - got, 1 + want / 1000000000ull);
		}
	}
}
