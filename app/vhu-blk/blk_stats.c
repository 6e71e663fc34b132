/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-blk's per-queue statistics (blk_stats.h): snapshots, differences,
 * percentiles and the printed line.
 */
#include <inttypes.h>
#include <string.h>

#include "blk_stats.h"

uint64_t
blk_lat_bucket_low(unsigned int bucket)
{
	unsigned int group, sub;

	if (bucket < BLK_LAT_LINEAR)
		return bucket;
	group = (bucket - BLK_LAT_LINEAR) >> BLK_LAT_SUB_BITS;
	sub = (bucket - BLK_LAT_LINEAR) & ((1u << BLK_LAT_SUB_BITS) - 1);
	/* Group 0 holds the values whose leading one is bit SUB_BITS + 1. */
	return (uint64_t)((1u << BLK_LAT_SUB_BITS) + sub) << (group + 1);
}

/* Apply 'fn' to every counter of the struct, which is all uint64_t. */
#define STATS_WORDS (sizeof(struct blk_queue_stats) / sizeof(uint64_t))

void
blk_stats_snapshot(const struct blk_queue_stats *s, struct blk_queue_stats *out)
{
	const uint64_t *src = (const uint64_t *)s;
	uint64_t *dst = (uint64_t *)out;
	size_t i;

	for (i = 0; i < STATS_WORDS; i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void
blk_stats_diff(const struct blk_queue_stats *a, const struct blk_queue_stats *b,
	       struct blk_queue_stats *out)
{
	const uint64_t *x = (const uint64_t *)a, *y = (const uint64_t *)b;
	uint64_t *o = (uint64_t *)out;
	size_t i;

	for (i = 0; i < STATS_WORDS; i++)
		o[i] = x[i] - y[i];
}

void
blk_stats_add(struct blk_queue_stats *a, const struct blk_queue_stats *b)
{
	const uint64_t *y = (const uint64_t *)b;
	uint64_t *x = (uint64_t *)a;
	size_t i;

	for (i = 0; i < STATS_WORDS; i++)
		x[i] += y[i];
}

uint64_t
blk_stats_requests(const struct blk_queue_stats *s)
{
	uint64_t n = 0;
	int op;

	for (op = 0; op < BLK_OP_COUNT; op++)
		n += s->ops[op];
	return n;
}

uint64_t
blk_stats_percentile(const struct blk_queue_stats *s, double pct)
{
	uint64_t total = 0, rank, seen = 0;
	unsigned int b;

	for (b = 0; b < BLK_LAT_BUCKETS; b++)
		total += s->lat[b];
	if (total == 0)
		return 0;
	/* The smallest value with at least pct % of the samples at or below it. */
	rank = (uint64_t)(pct / 100.0 * (double)total + 0.999999);
	if (rank == 0)
		rank = 1;
	for (b = 0; b < BLK_LAT_BUCKETS; b++) {
		seen += s->lat[b];
		if (seen >= rank)
			return blk_lat_bucket_low(b);
	}
	return blk_lat_bucket_low(BLK_LAT_BUCKETS - 1);
}

void
blk_stats_print(FILE *f, const char *label, const struct blk_queue_stats *iv, double seconds)
{
	uint64_t n = blk_stats_requests(iv);
	double s = seconds > 0 ? seconds : 1;

	fprintf(f, "  %-8s %10.0f IOPS  read %8.1f MB/s  write %8.1f MB/s  errors %" PRIu64
		   " unsupp %" PRIu64 " broken %" PRIu64,
		label, (double)n / s, (double)iv->bytes_read / s / 1e6,
		(double)iv->bytes_written / s / 1e6, iv->ioerr, iv->unsupp, iv->broken);
	if (n > 0)
		fprintf(f, "  latency mean %.1f p50 %.1f p99 %.1f p99.9 %.1f us",
			(double)iv->lat_sum_ns / (double)n / 1e3,
			(double)blk_stats_percentile(iv, 50) / 1e3,
			(double)blk_stats_percentile(iv, 99) / 1e3,
			(double)blk_stats_percentile(iv, 99.9) / 1e3);
	fputc('\n', f);
}
