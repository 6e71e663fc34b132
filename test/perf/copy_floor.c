/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * copy_floor: what copying one packet costs this CPU by itself, in TSC
 * cycles: the floor under a backend's cycles per packet at large frames,
 * where every backend copies each packet between the guest's buffer and
 * an mbuf (doc/performance.md, "Where packed g2h-1518's cycles go").
 *
 *   copy_floor [--bytes N] [--buffers SRC,DST] [--copies N] [--cpu C] [--json]
 *
 * Copies --bytes (1518) with memcpy() from each of SRC (256) buffers in
 * turn to each of DST (512) in turn, 2 KiB apart and 128 bytes into each,
 * as a ring's buffers and a pool's mbufs lie; with the defaults all of them
 * stay in a 2 MiB L2 cache, so the figure is the copy's own cost, with no
 * line crossing cores. The result is the median of 20 batches' means of
 * --copies (200000) copies in all, after a batch of warm-up, pinned to
 * --cpu (the calling thread's CPU by default).
 * Exit status: 0, 1 if memory cannot be had, 2 usage, 77 if the CPU cannot
 * be used.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXIT_USAGE 2
#define EXIT_SKIP  77
#define BATCHES	   20
#define STRIDE	   2048u /* a 2 KiB mbuf's data room apart */
#define OFFSET	   128u	 /* the mbuf's headroom */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t
tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return now_ns();
#endif
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: copy_floor [--bytes N] [--buffers SRC,DST] [--copies N] [--cpu C] "
		"[--json]\n"
		"  TSC cycles to copy N bytes (1518, 1 to %u) with memcpy() between SRC\n"
		"  (256) and DST (512) buffers 2 KiB apart, the median of %d batches of\n"
		"  --copies / %d (200000 in all), pinned to CPU C\n",
		STRIDE - OFFSET, BATCHES, BATCHES);
}

static int
parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && s[0] != '-' && *out >= min && *out <= max
		       ? 0
		       : -1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bytes", required_argument, NULL, 'b' },
		{ "buffers", required_argument, NULL, 'B' },
		{ "copies", required_argument, NULL, 'n' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long bytes = 1518, nsrc = 256, ndst = 512, copies = 200000, cpu = ULONG_MAX;
	double mean[BATCHES], hz;
	uint64_t t0, n0, t1, n1;
	unsigned long per, i, s = 0, d = 0;
	uint8_t *src, *dst;
	int opt, json = 0, b;
	char *comma;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			if (parse_uint(optarg, 1, STRIDE - OFFSET, &bytes) != 0) {
				fprintf(stderr, "copy_floor: --bytes %s: give 1 to %u\n", optarg,
					STRIDE - OFFSET);
				return EXIT_USAGE;
			}
			break;
		case 'B':
			comma = strchr(optarg, ',');
			if (comma == NULL)
				goto bad_buffers;
			*comma = '\0';
			if (parse_uint(optarg, 1, 1u << 20, &nsrc) != 0 ||
			    parse_uint(comma + 1, 1, 1u << 20, &ndst) != 0)
				goto bad_buffers;
			break;
		case 'n':
			if (parse_uint(optarg, BATCHES, 1ul << 32, &copies) != 0) {
				fprintf(stderr, "copy_floor: --copies %s: give %d to 2^32\n",
					optarg, BATCHES);
				return EXIT_USAGE;
			}
			break;
		case 'c':
			if (parse_uint(optarg, 0, CPU_SETSIZE - 1, &cpu) != 0) {
				fprintf(stderr, "copy_floor: --cpu %s: not a CPU number\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cpu != ULONG_MAX) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0) {
			fprintf(stderr, "copy_floor: cannot run on CPU %lu: %s\n", cpu,
				strerror(errno));
			return EXIT_SKIP;
		}
	}
	src = aligned_alloc(4096, nsrc * STRIDE);
	dst = aligned_alloc(4096, ndst * STRIDE);
	if (src == NULL || dst == NULL) {
		fprintf(stderr, "copy_floor: no memory for %lu + %lu buffers of %u bytes\n", nsrc,
			ndst, STRIDE);
		return 1;
	}
	memset(src, 0x5a, nsrc * STRIDE);
	memset(dst, 0, ndst * STRIDE);

	/* The TSC's rate, from the batches' own time. */
	per = copies / BATCHES;
	n0 = now_ns();
	t0 = tsc();
	for (b = -1; b < BATCHES; b++) {
		uint64_t start = tsc();

		for (i = 0; i < per; i++) {
			memcpy(dst + d * STRIDE + OFFSET, src + s * STRIDE + OFFSET, bytes);
			/* Keep the compiler from dropping or merging the copies. */
			__asm__ volatile("" : : "r"(dst) : "memory");
			if (++s == nsrc)
				s = 0;
			if (++d == ndst)
				d = 0;
		}
		if (b >= 0)
			mean[b] = (double)(tsc() - start) / (double)per;
	}
	t1 = tsc();
	n1 = now_ns();
	hz = (double)(t1 - t0) * 1e9 / (double)(n1 - n0);
	qsort(mean, BATCHES, sizeof(mean[0]), cmp_double);
	if (json)
		printf("{\"bytes\": %lu, \"src_buffers\": %lu, \"dst_buffers\": %lu, "
		       "\"cycles_per_copy\": %.1f, \"min\": %.1f, \"max\": %.1f, \"tsc_mhz\": "
		       "%.0f}\n",
		       bytes, nsrc, ndst, (mean[BATCHES / 2 - 1] + mean[BATCHES / 2]) / 2, mean[0],
		       mean[BATCHES - 1], hz / 1e6);
	else
		printf("copy_floor: %.1f TSC cycles to copy %lu bytes (median of %d batches; "
		       "min %.1f, max %.1f) between %lu and %lu buffers, TSC %.0f MHz\n",
		       (mean[BATCHES / 2 - 1] + mean[BATCHES / 2]) / 2, bytes, BATCHES, mean[0],
		       mean[BATCHES - 1], nsrc, ndst, hz / 1e6);
	free(src);
	free(dst);
	return 0;

bad_buffers:
	fprintf(stderr, "copy_floor: --buffers %s: give SRC,DST, each 1 to 1048576\n", optarg);
	return EXIT_USAGE;
}
