/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * c2c: the machine's core-to-core floor, in ns: half the round trip of one
 * cache line bounced between two CPUs, each thread pinned to one.
 *
 *   c2c [--cpus A,B] [--batches N] [--pings N] [--json]
 *
 * A two-process benchmark on a VM moves between modes that depend on where
 * the hypervisor runs the two vCPUs (doc/performance.md): on this kind of
 * machine the floor is about 30-40 ns in the fast mode and 150-230 ns in
 * the slow one, and every cost that crosses cores (rings, buffers) moves
 * with it. test/perf/vhost_vs_dpdk.py runs this before and after each run,
 * so that runs are compared with runs of the same floor.
 *
 * The result is the median of --batches (80) batches' means, --pings
 * (20000) round trips in all, so that a batch the kernel interrupted does
 * not count. No DPDK: it starts and ends in a few milliseconds.
 * Exit status: 0, 77 if a CPU cannot be used (a machine of one CPU, or one
 * outside the allowed set: the test suite's skip), 1 if the second thread
 * cannot start, 2 usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXIT_USAGE  2
#define EXIT_SKIP   77
#define MAX_BATCHES 1000

/* The bounced value, alone on its line. */
static struct {
	uint64_t v;
	char pad[64 - sizeof(uint64_t)];
} line __attribute__((aligned(64)));
#define ping line.v

static inline void
relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

static unsigned int pings_per_batch;
static unsigned int batches;

static int
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* The other CPU: answers each odd value with the next even one. */
static void *
pong(void *arg)
{
	uint64_t v = 1, last = 2 * (uint64_t)pings_per_batch * batches;

	if (pin(*(int *)arg) != 0)
		return (void *)1;
	while (v < last) {
		while (__atomic_load_n(&ping, __ATOMIC_ACQUIRE) != v)
			relax();
		__atomic_store_n(&ping, v + 1, __ATOMIC_RELEASE);
		v += 2;
	}
	return NULL;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--cpus A,B] [--batches N] [--pings N] [--json]\n"
		"  the core-to-core floor between CPUs A and B (default 0,1): half the round\n"
		"  trip of a cache line, the median of N batches (default 80) of --pings round\n"
		"  trips in all (default 20000)\n",
		prog);
}

static bool
parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *out >= lo && *out <= hi;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cpus", required_argument, NULL, 'c' },
		{ "batches", required_argument, NULL, 'b' },
		{ "pings", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long nb = 80, np = 20000, a = 0, b = 1;
	double batch[MAX_BATCHES], t0, lo, hi, med;
	bool json = false;
	pthread_t thread;
	void *ret = NULL;
	uint64_t v = 1;
	unsigned int i, k;
	int opt, cpu_b;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		char *comma;

		switch (opt) {
		case 'c':
			comma = strchr(optarg, ',');
			if (comma == NULL)
				goto bad_cpus;
			*comma = '\0';
			if (!parse_uint(optarg, 0, CPU_SETSIZE - 1, &a) ||
			    !parse_uint(comma + 1, 0, CPU_SETSIZE - 1, &b) || a == b) {
			bad_cpus:
				fprintf(stderr, "c2c: --cpus wants two different CPU numbers, A,B "
						"(e.g. 0,1)\n");
				return EXIT_USAGE;
			}
			break;
		case 'b':
			if (!parse_uint(optarg, 1, MAX_BATCHES, &nb)) {
				fprintf(stderr, "c2c: --batches wants 1 to %d\n", MAX_BATCHES);
				return EXIT_USAGE;
			}
			break;
		case 'p':
			if (!parse_uint(optarg, 1, 100000000, &np)) {
				fprintf(stderr, "c2c: --pings wants 1 to 100000000\n");
				return EXIT_USAGE;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(argv[0]);
			return 0;
		default:
			usage(argv[0]);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "c2c: unexpected argument '%s'\n", argv[optind]);
		usage(argv[0]);
		return EXIT_USAGE;
	}
	if (np < nb) {
		fprintf(stderr, "c2c: --pings (%lu) must be at least --batches (%lu)\n", np, nb);
		return EXIT_USAGE;
	}
	batches = (unsigned int)nb;
	pings_per_batch = (unsigned int)(np / nb);
	if (pin((int)a) != 0) {
		fprintf(stderr, "c2c: cannot run on CPU %lu (is it online and allowed?)\n", a);
		return EXIT_SKIP;
	}
	cpu_b = (int)b;
	if (pthread_create(&thread, NULL, pong, &cpu_b) != 0) {
		fprintf(stderr, "c2c: cannot start the second thread\n");
		return 1;
	}
	for (k = 0; k < batches; k++) {
		t0 = now_ns();
		for (i = 0; i < pings_per_batch; i++, v += 2) {
			__atomic_store_n(&ping, v, __ATOMIC_RELEASE);
			while (__atomic_load_n(&ping, __ATOMIC_ACQUIRE) != v + 1) {
				/* The other thread could not pin itself and gave up. */
				if (i == 0 && k == 0 && pthread_tryjoin_np(thread, &ret) == 0) {
					fprintf(stderr,
						"c2c: cannot run on CPU %lu (is it online and "
						"allowed?)\n",
						b);
					return EXIT_SKIP;
				}
				relax();
			}
		}
		batch[k] = (now_ns() - t0) / (2.0 * pings_per_batch);
	}
	pthread_join(thread, &ret);
	qsort(batch, batches, sizeof(batch[0]), cmp_double);
	med = batch[batches / 2];
	lo = batch[0];
	hi = batch[batches - 1];
	if (json)
		printf("{\"floor_ns\": %.1f, \"min_ns\": %.1f, \"max_ns\": %.1f, \"cpus\": [%lu, "
		       "%lu]}\n",
		       med, lo, hi, a, b);
	else
		printf("floor_ns=%.1f (median of %u batches; min %.1f, max %.1f) between CPUs %lu "
		       "and "
		       "%lu\n",
		       med, batches, lo, hi, a, b);
	return 0;
}
