/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-blk's per-queue statistics: requests by type, bytes, errors, and a
 * latency histogram (from the moment a request is taken from the ring to the
 * moment its status is returned) from which percentiles are read.
 *
 * Each queue's counters are written by the lcore polling it only, with plain
 * stores; readers (the periodic print, telemetry) read them with relaxed
 * loads and may see a request counted before its bytes, which is harmless.
 * A reader never resets them: it subtracts a snapshot instead.
 *
 * The histogram is log-linear, as HdrHistogram is: below 64 ns one bucket a
 * nanosecond, then 32 buckets for every power of two, so any value is placed
 * within about 3 % of itself, up to 2^40 ns (18 minutes); beyond that, the
 * last bucket. 1,152 buckets of 8 bytes per queue.
 */
#ifndef VHU_BLK_STATS_H
#define VHU_BLK_STATS_H

#include <stdint.h>
#include <stdio.h>

#define BLK_LAT_SUB_BITS 5				/* 32 buckets per power of two */
#define BLK_LAT_LINEAR (2u << BLK_LAT_SUB_BITS)		/* 0..63 ns: one bucket each */
#define BLK_LAT_MAX_BITS 40				/* up to 2^40 ns */
#define BLK_LAT_BUCKETS \
	(BLK_LAT_LINEAR + (BLK_LAT_MAX_BITS - BLK_LAT_SUB_BITS - 1) * (1u << BLK_LAT_SUB_BITS))

enum blk_op {
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
	BLK_OP_DISCARD,
	BLK_OP_WRITE_ZEROES,
	BLK_OP_OTHER,		/* GET_ID and refused types */
	BLK_OP_COUNT,
};

struct blk_queue_stats {
	uint64_t ops[BLK_OP_COUNT];	/* completed requests by type */
	uint64_t bytes_read;		/* data bytes given to the guest */
	uint64_t bytes_written;		/* data bytes taken from the guest */
	uint64_t ioerr;			/* requests answered VIRTIO_BLK_S_IOERR */
	uint64_t unsupp;		/* requests answered VIRTIO_BLK_S_UNSUPP */
	uint64_t broken;		/* chains that broke the ring (no header or no status) */
	uint64_t lat[BLK_LAT_BUCKETS];	/* completions by latency bucket */
	uint64_t lat_sum_ns;		/* for the mean */
};

/* The bucket of a latency in nanoseconds. */
static inline unsigned int
blk_lat_bucket(uint64_t ns)
{
	unsigned int msb, shift;

	if (ns < BLK_LAT_LINEAR)
		return (unsigned int)ns;
	msb = 63u - (unsigned int)__builtin_clzll(ns);
	if (msb >= BLK_LAT_MAX_BITS)
		return BLK_LAT_BUCKETS - 1;
	shift = msb - BLK_LAT_SUB_BITS;
	/* ns >> shift is in [32, 64): the top bits after the leading one pick the bucket. */
	return BLK_LAT_LINEAR + (msb - BLK_LAT_SUB_BITS - 1) * (1u << BLK_LAT_SUB_BITS) +
	       (unsigned int)((ns >> shift) - (1u << BLK_LAT_SUB_BITS));
}

/*
 * TSC cycles to nanoseconds with a multiply and a shift: a latency is taken
 * for every request, and a 64-bit division each would cost more than the
 * rest of a null request's accounting. blk_tsc_ns_scale() gives the factor
 * (nanoseconds a cycle, 32.32 fixed point) for a TSC of 'tsc_hz' (> 0);
 * blk_tsc_to_ns() is then short by at most a nanosecond below 2^32 cycles
 * (over a second), and by at most a part in a billion beyond.
 */
static inline uint64_t
blk_tsc_ns_scale(uint64_t tsc_hz)
{
	return (UINT64_C(1000000000) << 32) / tsc_hz;
}

static inline uint64_t
blk_tsc_to_ns(uint64_t cycles, uint64_t scale)
{
	return (uint64_t)(((unsigned __int128)cycles * scale) >> 32);
}

/* Lowest latency in nanoseconds that falls in 'bucket'. */
uint64_t blk_lat_bucket_low(unsigned int bucket);

/* Count a completed request on the polling lcore. */
static inline void
blk_stats_complete(struct blk_queue_stats *s, enum blk_op op, uint64_t bytes, uint8_t status,
		   uint64_t lat_ns)
{
	s->ops[op]++;
	if (status == 0) {
		if (op == BLK_OP_READ)
			s->bytes_read += bytes;
		else if (op == BLK_OP_WRITE)
			s->bytes_written += bytes;
	} else if (status == 1) {
		s->ioerr++;
	} else {
		s->unsupp++;
	}
	s->lat[blk_lat_bucket(lat_ns)]++;
	s->lat_sum_ns += lat_ns;
}

/* Copy a queue's counters (relaxed loads, for another thread). */
void blk_stats_snapshot(const struct blk_queue_stats *s, struct blk_queue_stats *out);
/* out = a - b, counter by counter (an interval's activity). */
void blk_stats_diff(const struct blk_queue_stats *a, const struct blk_queue_stats *b,
		    struct blk_queue_stats *out);
/* Add 'b' into 'a' (totals over queues). */
void blk_stats_add(struct blk_queue_stats *a, const struct blk_queue_stats *b);

/* Completed requests of every type. */
uint64_t blk_stats_requests(const struct blk_queue_stats *s);
/*
 * Latency at percentile 'pct' (0 < pct <= 100) in nanoseconds: the low edge
 * of the bucket holding that rank, so within about 3 % below the true value.
 * 0 when nothing completed.
 */
uint64_t blk_stats_percentile(const struct blk_queue_stats *s, double pct);

/* One line a queue: "queue 0: 1234 IOPS read 10.0 MB/s ... p50 12.3 us ..." */
void blk_stats_print(FILE *f, const char *label, const struct blk_queue_stats *interval,
		     double seconds);

#endif /* VHU_BLK_STATS_H */
