/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * latency: one-way latency through a vhost-user loopback, vhu's backend
 * against DPDK's librte_vhost with the same front-end (vhu's virtio-user),
 * at a low and at a high load.
 *
 *   latency -l 0,1 [EAL options] -- [--backends vhu,dpdk] [--packets N]
 *       [--size BYTES] [--gap-us US] [--rate-mpps R] [--window N] [--runs N]
 *       [--front-keys KEYS] [--dir DIR] [--output FILE|-]
 *
 * Two lcores of one process share the TSC, so one-way times need no clock
 * synchronisation. The main lcore is the guest: it stamps each frame with
 * the TSC and its sequence number and sends it (the guest's TX ring). The
 * second lcore is the host: it polls the backend's dequeue, notes each
 * frame's guest->host latency (the TSC at dequeue less the guest's stamp),
 * stamps the frame again and sends it straight back with the backend's
 * enqueue (the guest's RX ring); the guest notes its host->guest latency
 * when its receive burst returns it. Loads:
 *
 *   low   one frame in flight, the next sent --gap-us (10) after it came
 *         back: the latency of an idle path;
 *   high  frames offered at a fixed rate, --rate-mpps (1), paced with the
 *         TSC, at most --window (128) in flight: the latency of a loaded
 *         path that keeps up. (Sending as fast as the rings take frames
 *         would measure the queue's length over the slower side's rate,
 *         that is which side is the bottleneck, not the backend's latency.)
 *         A frame the window held back is counted as late in the JSON.
 *
 * Each backend runs each load --runs (3) times, the backends' order
 * alternating from run to run so that a slow period of the machine does not
 * favour one. Before each run the two lcores bounce a cache line to measure
 * the machine's core-to-core floor: a frame crosses several such lines, so
 * when the floor moves between runs, the p50 of both backends moves with
 * it. The first tenth of each run's frames is warm-up and not counted.
 * Prints a table (the median over the runs of p50, p99, p99.9 and max per
 * backend, load and direction, in ns, with their spread) and writes the
 * JSON, every run and the medians, to --output ("-": stdout, the table
 * then to stderr).
 * Exit status: 0 done, 1 a run failed (a frame lost: none came back for 2 s), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "perf_pair.h"
#include "vhu_virtio_user.h"

#define BURST	   32
#define EXIT_USAGE 2
#define MAX_RUNS   100
/* Round trips of the core-to-core measurement, in batches timed apart. */
#define PINGS	     20000
#define PING_BATCHES 80
#define MAGIC	   0x766c6174u /* "vlat" */
/* A frame missing this long is lost: the run fails. */
#define LOST_S 2

/* What follows the Ethernet header of every frame. */
struct stamp {
	uint32_t magic;
	uint32_t seq;
	uint64_t t_guest; /* TSC when the guest sent it */
	uint64_t t_host;  /* TSC when the host sent it back */
} __attribute__((packed));

enum load { LOAD_LOW, LOAD_HIGH };

static struct {
	bool backend[2]; /* indexed by enum perf_backend */
	uint32_t packets;
	uint32_t size;
	uint32_t gap_us;
	double rate_mpps; /* high load: frames offered per microsecond */
	uint32_t window;
	uint32_t runs;
	const char *front_keys;
	const char *dir;
	const char *output;
} opt = {
	.backend = { true, true },
	.packets = 200000,
	.size = 64,
	.gap_us = 10,
	.rate_mpps = 1.0,
	.window = 128,
	.runs = 3,
	.front_keys = "",
	.dir = "/tmp",
};

/* Latencies in TSC cycles, by sequence number; UINT64_MAX: not (yet) seen. */
static uint64_t *lat_g2h, *lat_h2g;
static struct rte_mempool *host_pool;
static struct perf_pair pair;
/*
 * What the two lcores share, each on a line of its own, so that no line one
 * lcore writes in its loop is one the other reads there, whatever order the
 * linker gives these variables (the host counts its errors in a local).
 */
static bool host_stop __rte_cache_aligned;    /* set by the guest, read by the host lcore */
static uint64_t host_bad __rte_cache_aligned; /* frames the host did not recognise or send back */
static uint64_t ping __rte_cache_aligned;     /* the core-to-core measurement's line */

/* The host lcore: take what the guest sent, note its latency, send it back. */
static int
host_loop(void *arg)
{
	struct rte_mbuf *pkts[BURST];
	uint64_t bad = 0;

	RTE_SET_USED(arg);
	while (!__atomic_load_n(&host_stop, __ATOMIC_ACQUIRE)) {
		uint16_t n = perf_pair_dequeue(&pair, host_pool, pkts, BURST), i, sent = 0;
		uint64_t now = rte_rdtsc();

		for (i = 0; i < n; i++) {
			struct stamp *s =
				rte_pktmbuf_mtod_offset(pkts[i], struct stamp *, RTE_ETHER_HDR_LEN);

			if (pkts[i]->data_len < RTE_ETHER_HDR_LEN + sizeof(*s) ||
			    s->magic != MAGIC || s->seq >= opt.packets) {
				bad++;
				continue;
			}
			lat_g2h[s->seq] = now - s->t_guest;
			s->t_host = rte_rdtsc();
		}
		while (sent < n) {
			uint16_t k = perf_pair_enqueue(&pair, pkts + sent, n - sent);

			if (k == 0 && __atomic_load_n(&host_stop, __ATOMIC_ACQUIRE))
				break;
			sent += k;
		}
		bad += n - sent;
		rte_pktmbuf_free_bulk(pkts, n);
	}
	host_bad = bad; /* read by the main lcore after rte_eal_wait_lcore() */
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of v[0 .. n - 1] (sorted in place) and half their range as a share of it. */
static double
median_of(double *v, unsigned int n, double *spread)
{
	double m;

	qsort(v, n, sizeof(*v), cmp_double);
	m = n % 2 != 0 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	*spread = m > 0 ? (v[n - 1] - v[0]) / 2 / m : 0;
	return m;
}

/* The worker's half of the core-to-core measurement: answer each odd value. */
static int
pong_loop(void *arg)
{
	uint64_t v = 1;

	RTE_SET_USED(arg);
	while (v < 2 * PINGS) {
		/* Acquire pairs with the guest's release store of the odd value. */
		while (__atomic_load_n(&ping, __ATOMIC_ACQUIRE) != v)
			rte_pause();
		v++;
		__atomic_store_n(&ping, v, __ATOMIC_RELEASE);
		v++;
	}
	return 0;
}

/*
 * The machine's floor: half the round trip of a cache line between the main
 * lcore and 'worker', in ns: the median of PING_BATCHES batches' means, so
 * that a batch the kernel interrupted does not count. -1 if the worker
 * cannot be launched.
 */
static double
core_to_core_ns(unsigned int worker)
{
	double batch[PING_BATCHES], spread;
	uint64_t v = 1;
	unsigned int b, i;

	__atomic_store_n(&ping, 0, __ATOMIC_RELAXED);
	if (rte_eal_remote_launch(pong_loop, NULL, worker) != 0)
		return -1;
	for (b = 0; b < PING_BATCHES; b++) {
		uint64_t t0 = rte_rdtsc();

		for (i = 0; i < PINGS / PING_BATCHES; i++, v += 2) {
			__atomic_store_n(&ping, v, __ATOMIC_RELEASE);
			/* Acquire pairs with pong_loop's release store of v + 1. */
			while (__atomic_load_n(&ping, __ATOMIC_ACQUIRE) != v + 1)
				rte_pause();
		}
		batch[b] = (double)(rte_rdtsc() - t0) * 1e9 / (double)rte_get_tsc_hz() /
			   (2.0 * (PINGS / PING_BATCHES));
	}
	rte_eal_wait_lcore(worker);
	return median_of(batch, PING_BATCHES, &spread);
}

/* Build and send frames seq .. seq + n - 1; returns how many went. */
static uint16_t
guest_send(uint32_t seq, uint16_t n)
{
	struct rte_mbuf *pkts[BURST];
	uint64_t now;
	uint16_t i, sent;

	if (rte_pktmbuf_alloc_bulk(pair.front->mempool, pkts, n) != 0)
		return 0;
	for (i = 0; i < n; i++) {
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(pkts[i], (uint16_t)opt.size);
		struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
		struct stamp *s = (struct stamp *)(p + RTE_ETHER_HDR_LEN);

		memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
		eth->src_addr = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, 1}};
		eth->ether_type = rte_cpu_to_be_16(0x88b5); /* local experimental */
		s->magic = MAGIC;
		s->seq = seq + i;
	}
	now = rte_rdtsc();
	for (i = 0; i < n; i++)
		rte_pktmbuf_mtod_offset(pkts[i], struct stamp *, RTE_ETHER_HDR_LEN)->t_guest = now;
	sent = vhu_port_tx_burst(pair.front, 0, pkts, n);
	if (sent < n)
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	return sent;
}

/* Take what came back; returns how many frames. */
static uint16_t
guest_receive(void)
{
	struct rte_mbuf *pkts[BURST];
	uint16_t n = vhu_port_rx_burst(pair.front, 0, pkts, BURST), i;
	uint64_t now = rte_rdtsc();

	for (i = 0; i < n; i++) {
		const struct stamp *s =
			rte_pktmbuf_mtod_offset(pkts[i], const struct stamp *, RTE_ETHER_HDR_LEN);

		if (pkts[i]->data_len >= RTE_ETHER_HDR_LEN + sizeof(*s) && s->magic == MAGIC &&
		    s->seq < opt.packets)
			lat_h2g[s->seq] = now - s->t_host;
	}
	rte_pktmbuf_free_bulk(pkts, n);
	return n;
}

/* What the guest saw of one run besides the latencies. */
struct drive {
	uint64_t late; /* high load: frames sent later than their slot, the window full */
	double mpps;   /* the rate achieved from the first send to the last return */
};

/*
 * Frames the high load should have sent by 'now': one every 1 / --rate-mpps
 * microseconds from 'start', no more than the run holds.
 */
static uint32_t
frames_due(uint64_t start, uint64_t now, double per_cycle)
{
	double due = (double)(now - start) * per_cycle + 1;

	return due >= opt.packets ? opt.packets : (uint32_t)due;
}

/* Drive one load to its end. 0, or -1 when a frame went missing. */
static int
guest_run(enum load load, struct drive *d)
{
	uint64_t hz = rte_get_tsc_hz(), gap = hz / 1000000 * opt.gap_us;
	uint64_t start = rte_rdtsc(), last_progress = start, next_send = 0;
	double per_cycle = opt.rate_mpps * 1e6 / (double)hz;
	uint32_t sent = 0, back = 0, held = 0; /* frames before 'held' met a full window */

	d->late = 0;
	while (back < opt.packets) {
		uint64_t now = rte_rdtsc();
		uint32_t inflight = sent - back;
		uint16_t got;

		if (load == LOAD_LOW && inflight == 0 && sent < opt.packets && now >= next_send) {
			sent += guest_send(sent, 1);
		} else if (load == LOAD_HIGH && sent < opt.packets) {
			uint32_t upto = frames_due(start, now, per_cycle), due = upto - sent;
			uint32_t room = opt.window - inflight;
			uint32_t n = RTE_MIN(due, room);

			n = RTE_MIN(n, (uint32_t)BURST);
			/* Frames due that the window holds back leave late. */
			if (due > room)
				held = upto;
			if (n != 0) {
				n = guest_send(sent, (uint16_t)n);
				if (held > sent)
					d->late += RTE_MIN(held, sent + n) - sent;
				sent += n;
			}
		}
		got = guest_receive();
		back += got;
		now = rte_rdtsc();
		if (got != 0) {
			last_progress = now;
			next_send = now + gap;
		} else if (now - last_progress > LOST_S * hz) {
			fprintf(stderr,
				"%s, %s load: %u frames sent, %u came back; none for %d s\n",
				perf_backend_name(pair.kind), load == LOAD_LOW ? "low" : "high",
				sent, back, LOST_S);
			return -1;
		}
	}
	d->mpps = (double)opt.packets * (double)hz / (double)(rte_rdtsc() - start) / 1e6;
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentiles of one direction, in ns, over the frames after warm-up. */
struct summary {
	uint32_t count;
	double p50, p99, p999, max, mean;
};

static struct summary
summarise(uint64_t *lat)
{
	uint32_t from = opt.packets / 10, n = 0, i;
	double ns = 1e9 / (double)rte_get_tsc_hz(), sum = 0;
	struct summary s = {0};

	for (i = from; i < opt.packets; i++)
		if (lat[i] != UINT64_MAX)
			lat[from + n++] = lat[i];
	if (n == 0)
		return s;
	qsort(lat + from, n, sizeof(*lat), cmp_u64);
	for (i = 0; i < n; i++)
		sum += (double)lat[from + i];
	s.count = n;
	s.p50 = (double)lat[from + (uint32_t)((n - 1) * 0.50)] * ns;
	s.p99 = (double)lat[from + (uint32_t)((n - 1) * 0.99)] * ns;
	s.p999 = (double)lat[from + (uint32_t)((n - 1) * 0.999)] * ns;
	s.max = (double)lat[from + n - 1] * ns;
	s.mean = sum / n * ns;
	return s;
}

struct result {
	enum perf_backend backend;
	enum load load;
	uint32_t run; /* 0 .. --runs - 1 */
	uint64_t features;
	double floor_ns; /* core_to_core_ns() just before the run */
	uint64_t kicks;	 /* notifications the guest sent the backend (syscalls on its lcore) */
	uint64_t irqs;	 /* interrupts the backend sent the guest */
	struct drive drive;
	struct summary g2h, h2g;
};

/* Connect, run one load, disconnect. 0 or -1. */
static int
run(enum perf_backend backend, enum load load, struct result *r)
{
	unsigned int worker = rte_get_next_lcore(-1, 1, 0);
	char path[108];
	int rc;

	memset(lat_g2h, 0xff, opt.packets * sizeof(*lat_g2h));
	memset(lat_h2g, 0xff, opt.packets * sizeof(*lat_h2g));
	r->backend = backend;
	r->load = load;
	r->floor_ns = core_to_core_ns(worker);
	snprintf(path, sizeof(path), "%s/latency.%d.sock", opt.dir, (int)getpid());
	if (perf_pair_open(&pair, backend, path, opt.front_keys, host_pool) != 0)
		return -1;
	__atomic_store_n(&host_stop, false, __ATOMIC_RELAXED);
	host_bad = 0;
	if (rte_eal_remote_launch(host_loop, NULL, worker) != 0) {
		fprintf(stderr, "cannot start the host loop on lcore %u\n", worker);
		perf_pair_close(&pair);
		return -1;
	}
	rc = guest_run(load, &r->drive);
	__atomic_store_n(&host_stop, true, __ATOMIC_RELEASE);
	if (rte_eal_wait_lcore(worker) != 0)
		rc = -1;
	/*
	 * A backend that leaves notifications on makes the guest pay a syscall
	 * per send (and the kernel a wake-up per interrupt): latency that is the
	 * backend's doing although it shows on the guest's lcore.
	 */
	{
		struct vhu_virtio_user_stats st;

		if (vhu_virtio_user_stats_get(pair.front, &st) == 0) {
			r->kicks = st.kicks;
			r->irqs = st.irqs;
		}
	}
	r->features = pair.features;
	perf_pair_close(&pair);
	if (host_bad != 0) {
		fprintf(stderr, "%s: the host could not return %" PRIu64 " frames\n",
			perf_backend_name(backend), host_bad);
		rc = -1;
	}
	r->g2h = summarise(lat_g2h);
	r->h2g = summarise(lat_h2g);
	return rc;
}

static const char *
load_name(enum load load)
{
	return load == LOAD_LOW ? "low" : "high";
}

/* Which figure of a run: a percentile of one direction, or the floor. */
enum figure { FIG_P50, FIG_P99, FIG_P999, FIG_MAX, FIG_FLOOR, FIG_COUNT };

static double
figure_of(const struct result *r, int dir, enum figure f)
{
	const struct summary *s = dir == 0 ? &r->g2h : &r->h2g;

	switch (f) {
	case FIG_P50:
		return s->p50;
	case FIG_P99:
		return s->p99;
	case FIG_P999:
		return s->p999;
	case FIG_MAX:
		return s->max;
	default:
		return r->floor_ns;
	}
}

/* The median over the runs of one backend and load of a figure, and its spread. */
static double
median_figure(const struct result *r, unsigned int n, enum perf_backend b, enum load l, int dir,
	      enum figure f, double *spread)
{
	double v[MAX_RUNS];
	unsigned int i, k = 0;

	for (i = 0; i < n; i++)
		if (r[i].backend == b && r[i].load == l)
			v[k++] = figure_of(&r[i], dir, f);
	if (k == 0) {
		*spread = 0;
		return 0;
	}
	return median_of(v, k, spread);
}

static void
print_summary(FILE *f, const char *name, const struct summary *s, const char *end)
{
	fprintf(f,
		"\"%s\": {\"count\": %u, \"p50_ns\": %.0f, \"p99_ns\": %.0f, "
		"\"p999_ns\": %.0f, \"max_ns\": %.0f, \"mean_ns\": %.0f}%s",
		name, s->count, s->p50, s->p99, s->p999, s->max, s->mean, end);
}

/* One object per backend, load and direction: the medians over the runs, with their spreads. */
static void
print_medians(FILE *f, const struct result *r, unsigned int n)
{
	static const char *const names[FIG_COUNT] = { "p50", "p99", "p999", "max", "floor" };
	bool first = true;
	unsigned int b, l, d, k;

	for (b = 0; b < 2; b++)
		for (l = 0; l < 2; l++)
			for (d = 0; d < 2 && opt.backend[b]; d++) {
				fprintf(f,
					"%s    {\"backend\": \"%s\", \"load\": \"%s\", \"dir\": "
					"\"%s\"",
					first ? "" : ",\n", perf_backend_name((enum perf_backend)b),
					load_name((enum load)l), d == 0 ? "g2h" : "h2g");
				for (k = 0; k < FIG_COUNT; k++) {
					double sp, m = median_figure(r, n, (enum perf_backend)b,
								     (enum load)l, (int)d,
								     (enum figure)k, &sp);

					fprintf(f, ", \"%s_ns\": %.0f, \"%s_spread\": %.3f",
						names[k], m, names[k], sp);
				}
				fprintf(f, "}");
				first = false;
			}
	fprintf(f, "\n");
}

static void
print_json(FILE *f, const struct result *r, unsigned int n)
{
	unsigned int i;

	fprintf(f,
		"{\n  \"benchmark\": \"latency\",\n  \"config\": {\"packets\": %u, \"warmup\": %u, "
		"\"size\": %u, \"gap_us\": %u, \"rate_mpps\": %g, \"window\": %u, \"runs\": %u, "
		"\"front_keys\": \"%s\", \"tsc_hz\": %" PRIu64 "},\n",
		opt.packets, opt.packets / 10, opt.size, opt.gap_us, opt.rate_mpps, opt.window,
		opt.runs, opt.front_keys, rte_get_tsc_hz());
	fprintf(f, "  \"statistic\": \"median over the runs of each percentile; spread: half "
		   "the range over the median\",\n  \"medians\": [\n");
	print_medians(f, r, n);
	fprintf(f, "  ],\n  \"runs\": [\n");
	for (i = 0; i < n; i++) {
		fprintf(f,
			"    {\"backend\": \"%s\", \"load\": \"%s\", \"run\": %u, "
			"\"features\": \"0x%" PRIx64 "\", \"floor_ns\": %.1f, \"late\": %" PRIu64
			", \"mpps\": %.3f, \"guest_kicks\": %" PRIu64 ", \"guest_irqs\": %" PRIu64
			",\n      ",
			perf_backend_name(r[i].backend), load_name(r[i].load), r[i].run,
			r[i].features, r[i].floor_ns, r[i].drive.late, r[i].drive.mpps, r[i].kicks,
			r[i].irqs);
		print_summary(f, "g2h", &r[i].g2h, ",\n      ");
		print_summary(f, "h2g", &r[i].h2g, "");
		fprintf(f, "}%s\n", i + 1 < n ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
}

static void
print_table(FILE *f, const struct result *r, unsigned int n)
{
	unsigned int b, l, d, k;

	fprintf(f, "%-7s %-4s %-3s %14s %14s %14s %14s %14s\n", "backend", "load", "dir", "p50 ns",
		"p99 ns", "p99.9 ns", "max ns", "floor ns");
	for (b = 0; b < 2; b++)
		for (l = 0; l < 2; l++)
			for (d = 0; d < 2 && opt.backend[b]; d++) {
				fprintf(f, "%-7s %-4s %-3s",
					perf_backend_name((enum perf_backend)b),
					load_name((enum load)l), d == 0 ? "g2h" : "h2g");
				for (k = 0; k < FIG_COUNT; k++) {
					double sp, m = median_figure(r, n, (enum perf_backend)b,
								     (enum load)l, (int)d,
								     (enum figure)k, &sp);

					if (sp < 10)
						fprintf(f, " %8.0f ±%3.0f%%", m, sp * 100);
					else
						fprintf(f, " %8.0f ±>999%%", m);
				}
				fprintf(f, "\n");
			}
	fprintf(f,
		"median of %u run(s) ± half their range; floor: the core-to-core cache-line "
		"latency before each run (the machine's, not a backend's)\n",
		opt.runs);
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s -l 0,1 [EAL options] -- [--backends vhu,dpdk] [--packets N]\n"
		"       [--size BYTES] [--gap-us US] [--rate-mpps R] [--window N] [--runs N]\n"
		"       [--front-keys KEYS] [--dir DIR] [--output FILE|-]\n"
		"One-way latency (p50, p99, p99.9) through a vhost-user loopback in this\n"
		"process, at a low load (one frame in flight, --gap-us apart, default 10)\n"
		"and a high one (--rate-mpps, default 1, at most --window, default 128, in\n"
		"flight), each --runs times (default 3) per backend in alternating order;\n"
		"prints the median of each percentile over the runs. Needs two lcores.\n",
		prog);
}

static int
parse_uint(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backends", required_argument, NULL, 'b' },
		{ "packets", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "gap-us", required_argument, NULL, 'g' },
		{ "rate-mpps", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'w' },
		{ "runs", required_argument, NULL, 'R' },
		{ "front-keys", required_argument, NULL, 'k' },
		{ "dir", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			opt.backend[PERF_VHU] = strstr(optarg, "vhu") != NULL;
			opt.backend[PERF_DPDK] = strstr(optarg, "dpdk") != NULL;
			if (!opt.backend[PERF_VHU] && !opt.backend[PERF_DPDK])
				return -1;
			break;
		case 'n':
			if (parse_uint(optarg, 100, 100000000, &opt.packets) != 0)
				return -1;
			break;
		case 's':
			if (parse_uint(optarg, 60, 1518, &opt.size) != 0)
				return -1;
			break;
		case 'g':
			if (parse_uint(optarg, 0, 1000000, &opt.gap_us) != 0)
				return -1;
			break;
		case 'r': {
			char *end;

			opt.rate_mpps = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(opt.rate_mpps >= 0.001) ||
			    opt.rate_mpps > 100) {
				fprintf(stderr,
					"--rate-mpps %s: give a rate from 0.001 to 100 Mpps\n",
					optarg);
				return -1;
			}
			break;
		}
		case 'w':
			if (parse_uint(optarg, BURST, 1024, &opt.window) != 0)
				return -1;
			break;
		case 'R':
			if (parse_uint(optarg, 1, MAX_RUNS, &opt.runs) != 0) {
				fprintf(stderr, "--runs %s: give a number from 1 to %d\n", optarg,
					MAX_RUNS);
				return -1;
			}
			break;
		case 'k':
			opt.front_keys = optarg;
			break;
		case 'd':
			opt.dir = optarg;
			break;
		case 'o':
			opt.output = optarg;
			break;
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct result *results = NULL;
	unsigned int n = 0, i, k, l;
	int eal, rc = 0;
	FILE *out = NULL;

	eal = rte_eal_init(argc, argv);
	if (eal < 0) {
		fprintf(stderr, "cannot initialise EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argv[eal] = argv[0];
	if (parse_args(argc - eal, argv + eal) != 0 || rte_lcore_count() < 2) {
		usage(argv[0]);
		rte_eal_cleanup();
		return EXIT_USAGE;
	}
	lat_g2h = calloc(opt.packets, sizeof(*lat_g2h));
	lat_h2g = calloc(opt.packets, sizeof(*lat_h2g));
	results = calloc(4 * opt.runs, sizeof(*results));
	host_pool = rte_pktmbuf_pool_create("latency", 8192, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					    SOCKET_ID_ANY);
	if (lat_g2h == NULL || lat_h2g == NULL || results == NULL || host_pool == NULL) {
		fprintf(stderr, "cannot allocate the latency records or the mbuf pool\n");
		rc = 1;
		goto out;
	}
	/* Run i takes the backends in turn, vhu first in even runs, DPDK first in odd ones. */
	for (i = 0; i < opt.runs && rc == 0; i++)
		for (k = 0; k < 2 && rc == 0; k++) {
			enum perf_backend b = (enum perf_backend)((i + k) % 2);

			for (l = 0; l < 2 && rc == 0 && opt.backend[b]; l++) {
				results[n].run = i;
				if (run(b, (enum load)l, &results[n]) != 0)
					rc = 1;
				else
					n++;
			}
		}
	if (opt.output != NULL && strcmp(opt.output, "-") != 0) {
		out = fopen(opt.output, "w");
		if (out == NULL) {
			fprintf(stderr, "cannot write %s: %s\n", opt.output, strerror(errno));
			rc = 1;
		}
	} else if (opt.output != NULL) {
		out = stdout;
	}
	if (out != NULL) {
		print_json(out, results, n);
		if (out != stdout)
			fclose(out);
	}
	print_table(out == stdout ? stderr : stdout, results, n);
out:
	free(results);
	free(lat_g2h);
	free(lat_h2g);
	rte_mempool_free(host_pool);
	rte_eal_cleanup();
	return rc;
}
