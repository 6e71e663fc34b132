/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * latency: one-way latency through a vhost-user loopback, vhu's backend
 * against DPDK's librte_vhost with the same front-end (vhu's virtio-user),
 * at a low and at a high load.
 *
 *   latency -l 0,1 [EAL options] -- [--backends vhu,dpdk] [--packets N]
 *       [--size BYTES] [--gap-us US] [--window N] [--front-keys KEYS]
 *       [--dir DIR] [--output FILE|-]
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
 *   high  bursts of 32 as fast as the rings take them, up to --window (128)
 *         frames in flight: the latency under load, queueing included.
 *
 * The first tenth of each run's frames is warm-up and not counted. Prints a
 * table (p50, p99, p99.9 and max per backend, load and direction, in ns)
 * and writes the JSON to --output ("-": stdout, the table then to stderr).
 * Exit status: 0 done, 1 a run failed (a frame lost or late), 2 usage.
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

#define BURST	   32
#define EXIT_USAGE 2
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
	uint32_t window;
	const char *front_keys;
	const char *dir;
	const char *output;
} opt = {
	.backend = {true, true},
	.packets = 200000,
	.size = 64,
	.gap_us = 10,
	.window = 128,
	.front_keys = "",
	.dir = "/tmp",
};

/* Latencies in TSC cycles, by sequence number; UINT64_MAX: not (yet) seen. */
static uint64_t *lat_g2h, *lat_h2g;
static struct rte_mempool *host_pool;
static struct perf_pair pair;
static bool host_stop;	  /* set by the guest, read by the host lcore */
static uint64_t host_bad; /* frames the host did not recognise or could not send back */

/* The host lcore: take what the guest sent, note its latency, send it back. */
static int
host_loop(void *arg)
{
	struct rte_mbuf *pkts[BURST];

	while (!__atomic_load_n(&host_stop, __ATOMIC_ACQUIRE)) {
		uint16_t n = perf_pair_dequeue(&pair, host_pool, pkts, BURST), i, sent = 0;
		uint64_t now = rte_rdtsc();

		for (i = 0; i < n; i++) {
			struct stamp *s =
				rte_pktmbuf_mtod_offset(pkts[i], struct stamp *, RTE_ETHER_HDR_LEN);

			if (pkts[i]->data_len < RTE_ETHER_HDR_LEN + sizeof(*s) ||
			    s->magic != MAGIC || s->seq >= opt.packets) {
				host_bad++;
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
		host_bad += n - sent;
		rte_pktmbuf_free_bulk(pkts, n);
	}
	return 0;
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

/* Drive one load to its end. 0, or -1 when a frame went missing. */
static int
guest_run(enum load load)
{
	uint64_t hz = rte_get_tsc_hz(), gap = hz / 1000000 * opt.gap_us;
	uint64_t last_progress = rte_rdtsc(), next_send = 0;
	uint32_t sent = 0, back = 0;

	while (back < opt.packets) {
		uint64_t now = rte_rdtsc();
		uint32_t inflight = sent - back;
		uint16_t got;

		if (load == LOAD_LOW && inflight == 0 && sent < opt.packets && now >= next_send) {
			sent += guest_send(sent, 1);
		} else if (load == LOAD_HIGH && sent < opt.packets &&
			   inflight + BURST <= opt.window) {
			sent += guest_send(sent,
					   (uint16_t)RTE_MIN((uint32_t)BURST, opt.packets - sent));
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
	uint64_t features;
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
	rc = guest_run(load);
	__atomic_store_n(&host_stop, true, __ATOMIC_RELEASE);
	if (rte_eal_wait_lcore(worker) != 0)
		rc = -1;
	r->backend = backend;
	r->load = load;
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

static void
print_summary(FILE *f, const char *name, const struct summary *s, const char *end)
{
	fprintf(f,
		"      \"%s\": {\"count\": %u, \"p50_ns\": %.0f, \"p99_ns\": %.0f, "
		"\"p999_ns\": %.0f, \"max_ns\": %.0f, \"mean_ns\": %.0f}%s\n",
		name, s->count, s->p50, s->p99, s->p999, s->max, s->mean, end);
}

static void
print_json(FILE *f, const struct result *r, unsigned int n)
{
	unsigned int i;

	fprintf(f,
		"{\n  \"benchmark\": \"latency\",\n  \"config\": {\"packets\": %u, \"warmup\": %u, "
		"\"size\": %u, \"gap_us\": %u, \"window\": %u, \"front_keys\": \"%s\", "
		"\"tsc_hz\": %" PRIu64 "},\n  \"results\": [\n",
		opt.packets, opt.packets / 10, opt.size, opt.gap_us, opt.window, opt.front_keys,
		rte_get_tsc_hz());
	for (i = 0; i < n; i++) {
		fprintf(f,
			"    {\"backend\": \"%s\", \"load\": \"%s\", \"features\": \"0x%" PRIx64
			"\",\n",
			perf_backend_name(r[i].backend), r[i].load == LOAD_LOW ? "low" : "high",
			r[i].features);
		print_summary(f, "g2h", &r[i].g2h, ",");
		print_summary(f, "h2g", &r[i].h2g, "");
		fprintf(f, "    }%s\n", i + 1 < n ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
}

static void
print_table(FILE *f, const struct result *r, unsigned int n)
{
	unsigned int i, d;

	fprintf(f, "%-8s %-5s %-4s %9s %9s %9s %9s\n", "backend", "load", "dir", "p50 ns", "p99 ns",
		"p99.9 ns", "max ns");
	for (i = 0; i < n; i++)
		for (d = 0; d < 2; d++) {
			const struct summary *s = d == 0 ? &r[i].g2h : &r[i].h2g;

			fprintf(f, "%-8s %-5s %-4s %9.0f %9.0f %9.0f %9.0f\n",
				perf_backend_name(r[i].backend),
				r[i].load == LOAD_LOW ? "low" : "high", d == 0 ? "g2h" : "h2g",
				s->p50, s->p99, s->p999, s->max);
		}
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s -l 0,1 [EAL options] -- [--backends vhu,dpdk] [--packets N]\n"
		"       [--size BYTES] [--gap-us US] [--window N] [--front-keys KEYS]\n"
		"       [--dir DIR] [--output FILE|-]\n"
		"One-way latency (p50, p99, p99.9) through a vhost-user loopback in this\n"
		"process, at a low and a high load; needs two lcores.\n",
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
		{"backends", required_argument, NULL, 'b'},
		{"packets", required_argument, NULL, 'n'},
		{"size", required_argument, NULL, 's'},
		{"gap-us", required_argument, NULL, 'g'},
		{"window", required_argument, NULL, 'w'},
		{"front-keys", required_argument, NULL, 'k'},
		{"dir", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
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
		case 'w':
			if (parse_uint(optarg, BURST, 1024, &opt.window) != 0)
				return -1;
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
	struct result results[4];
	unsigned int n = 0, b, l;
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
	host_pool = rte_pktmbuf_pool_create("latency", 8192, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					    SOCKET_ID_ANY);
	if (lat_g2h == NULL || lat_h2g == NULL || host_pool == NULL) {
		fprintf(stderr, "cannot allocate the latency records or the mbuf pool\n");
		rc = 1;
		goto out;
	}
	for (b = 0; b < 2 && rc == 0; b++)
		for (l = 0; l < 2 && rc == 0 && opt.backend[b]; l++) {
			if (run((enum perf_backend)b, (enum load)l, &results[n]) != 0)
				rc = 1;
			else
				n++;
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
	free(lat_g2h);
	free(lat_h2g);
	rte_mempool_free(host_pool);
	rte_eal_cleanup();
	return rc;
}
