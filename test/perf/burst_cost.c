/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * burst_cost: what one backend burst costs, in instructions, with nothing
 * else in the way. Run it under callgrind (test/perf/instructions.py does):
 *
 *   valgrind --tool=callgrind --collect-atstart=no burst_cost [EAL options] -- \
 *       --backend vhu|dpdk [--paths SUBSTRING] [--bursts N] [--warmup N] [--dir DIR]
 *
 * One thread plays both sides of a vhost-user device, path after path. The
 * backend is either vhu's library (vhu_vhost_create on a socket) or DPDK's
 * librte_vhost (rte_vhost_driver_register/start on a socket); the guest is
 * vhu's virtio-user front-end, which connects to that socket with a real
 * vhost-user handshake, shares its memory and drives the rings. For each
 * path (ring layout, direction, frame size, in_order, mrg_rxbuf) the program
 * connects a fresh front-end with those features and then alternates: the
 * guest fills the ring with one burst of 32 frames, the backend moves them
 * with one call of its burst function. Only that call is counted (callgrind
 * client requests toggle collection around it), and after the path the
 * counts are dumped under the path's name, so set-up, the guest's own work
 * and the other paths are excluded. The traffic is synthetic and identical
 * for both backends; every burst must move exactly 32 frames or the run
 * fails, so an instruction count always stands for the same work.
 *
 * Without valgrind the client requests do nothing and the program only
 * checks that every path moves its frames (a smoke test).
 *
 * Output, one line per path on stdout:
 *   path=<name> backend=<vhu|dpdk> packets=<counted> features=0x<negotiated>
 * and the callgrind dump of that path is named "<backend> <name>".
 *
 * Exit status: 0 every selected path ran, 1 a path failed, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <valgrind/callgrind.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_vhost.h>

#include "perf_pair.h"
#include "vhu_port.h"

#define BURST	   32
#define EXIT_USAGE 2

/* One measured path: what the front-end negotiates and which way frames go. */
struct path {
	bool packed;
	bool g2h;      /* guest->host (the backend dequeues), else host->guest */
	uint32_t size; /* frame bytes, without the virtio-net header */
	bool in_order;
	bool mrg_rxbuf;
	char name[48]; /* e.g. "packed/g2h-64/io1", "split/h2g-1518/io0-mrg1" */
};

static struct {
	enum perf_backend backend;
	const char *filter; /* substring a path name must contain; NULL: every path */
	const char *dir;    /* where the socket goes */
	unsigned int bursts;
	unsigned int warmup;
} opt = {
	.dir = "/tmp",
	.bursts = 64,
	.warmup = 64,
};

static struct rte_mempool *host_pool; /* the backend's mbufs: dequeued frames, enqueue sources */
static char sock_path[108];

/* The device: the backend under test and the guest. */
static struct perf_pair pair;

/*
 * The measured calls: exactly one backend burst each, nothing else counted
 * (not even the choice of backend, which perf_pair_dequeue would make).
 */
static uint16_t
backend_dequeue(struct rte_mbuf **pkts)
{
	uint16_t n;

	if (pair.kind == PERF_VHU) {
		CALLGRIND_TOGGLE_COLLECT;
		n = vhu_vhost_dequeue_burst(pair.vhu, 0, host_pool, pkts, BURST);
		CALLGRIND_TOGGLE_COLLECT;
	} else {
		CALLGRIND_TOGGLE_COLLECT;
		n = rte_vhost_dequeue_burst(pair.vid, 1, host_pool, pkts, BURST);
		CALLGRIND_TOGGLE_COLLECT;
	}
	return n;
}

static uint16_t
backend_enqueue(struct rte_mbuf **pkts)
{
	uint16_t n;

	if (pair.kind == PERF_VHU) {
		CALLGRIND_TOGGLE_COLLECT;
		n = vhu_vhost_enqueue_burst(pair.vhu, 0, pkts, BURST);
		CALLGRIND_TOGGLE_COLLECT;
	} else {
		CALLGRIND_TOGGLE_COLLECT;
		n = rte_vhost_enqueue_burst(pair.vid, 0, pkts, BURST);
		CALLGRIND_TOGGLE_COLLECT;
	}
	return n;
}

/* A UDP-looking frame of 'size' bytes with a pattern that depends on 'seed'. */
static void
frame_fill(struct rte_mbuf *m, uint32_t size, uint32_t seed)
{
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)size);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;

	memset(p, (int)(seed & 0xff), size);
	memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	eth->src_addr = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, 1}};
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
}

/*
 * Guest->host: the guest sends a burst (frames built in its own memory, as a
 * guest driver would), the backend takes it. 'measure' bursts are counted.
 */
static int
run_g2h(struct vhu_port *front, const struct path *p, unsigned int bursts)
{
	struct rte_mbuf *pkts[BURST];
	unsigned int b, i;

	for (b = 0; b < bursts; b++) {
		uint16_t n;

		if (rte_pktmbuf_alloc_bulk(front->mempool, pkts, BURST) != 0) {
			fprintf(stderr, "%s: the guest's pool is empty\n", p->name);
			return -1;
		}
		for (i = 0; i < BURST; i++)
			frame_fill(pkts[i], p->size, b * BURST + i);
		n = vhu_port_tx_burst(front, 0, pkts, BURST);
		if (n != BURST) {
			fprintf(stderr, "%s: the guest sent %u of %u frames\n", p->name, n, BURST);
			rte_pktmbuf_free_bulk(&pkts[n], BURST - n);
			return -1;
		}
		n = backend_dequeue(pkts);
		rte_pktmbuf_free_bulk(pkts, n);
		if (n != BURST) {
			fprintf(stderr, "%s: the backend took %u of %u frames\n", p->name, n,
				BURST);
			return -1;
		}
	}
	return 0;
}

/*
 * Host->guest: the backend places a burst of the same 32 frames (it copies,
 * the caller keeps them), the guest takes them and gives its buffers back.
 */
static int
run_h2g(struct vhu_port *front, const struct path *p, unsigned int bursts, struct rte_mbuf **src)
{
	struct rte_mbuf *got[BURST];
	unsigned int b;

	for (b = 0; b < bursts; b++) {
		uint16_t n = backend_enqueue(src), r = 0, k;

		if (n != BURST) {
			fprintf(stderr, "%s: the backend placed %u of %u frames\n", p->name, n,
				BURST);
			return -1;
		}
		for (k = 0; k < 4 && r < BURST; k++) {
			uint16_t m = vhu_port_rx_burst(front, 0, got + r, BURST - r);

			r += m;
		}
		rte_pktmbuf_free_bulk(got, r);
		if (r != BURST) {
			fprintf(stderr, "%s: the guest received %u of %u frames\n", p->name, r,
				BURST);
			return -1;
		}
	}
	return 0;
}

/* Connect a front-end for 'p', warm up, measure, dump. 0 or -1. */
static int
run_path(const struct path *p)
{
	const char *backend = perf_backend_name(opt.backend);
	struct rte_mbuf *src[BURST];
	struct vhu_port *front;
	unsigned int i;
	char label[96], keys[96];
	int rc = -1;

	if (rte_pktmbuf_alloc_bulk(host_pool, src, BURST) != 0) {
		fprintf(stderr, "%s: the host pool is empty\n", p->name);
		return -1;
	}
	for (i = 0; i < BURST; i++)
		frame_fill(src[i], p->size, i);
	snprintf(keys, sizeof(keys), "packed_vq=%d,in_order=%d,mrg_rxbuf=%d", p->packed,
		 p->in_order, p->mrg_rxbuf);
	if (perf_pair_open(&pair, opt.backend, sock_path, keys, host_pool) != 0)
		goto free_src;
	front = pair.front;
	/* Warm-up, not counted: caches, mempool caches and both ring positions settle. */
	rc = p->g2h ? run_g2h(front, p, opt.warmup) : run_h2g(front, p, opt.warmup, src);
	if (rc == 0) {
		CALLGRIND_ZERO_STATS;
		rc = p->g2h ? run_g2h(front, p, opt.bursts) : run_h2g(front, p, opt.bursts, src);
		snprintf(label, sizeof(label), "%s %s", backend, p->name);
		CALLGRIND_DUMP_STATS_AT(label);
	}
	if (rc == 0)
		printf("path=%s backend=%s packets=%u features=0x%" PRIx64 "\n", p->name, backend,
		       opt.bursts * BURST, pair.features);
	perf_pair_close(&pair);
free_src:
	rte_pktmbuf_free_bulk(src, BURST);
	return rc;
}

/* Every path: mrg_rxbuf only changes the receive (h2g) side. */
static unsigned int
paths_make(struct path *paths)
{
	static const uint32_t sizes[] = {64, 1518};
	unsigned int n = 0, i;

	/* Bits of i, slowest first: ring, direction, size, in_order, mrg_rxbuf. */
	for (i = 0; i < 32; i++) {
		struct path *p = &paths[n];
		const char *ring;

		p->packed = (i >> 4) & 1;
		p->g2h = ((i >> 3) & 1) == 0;
		p->size = sizes[(i >> 2) & 1];
		p->in_order = (i >> 1) & 1;
		p->mrg_rxbuf = i & 1;
		if (p->g2h && p->mrg_rxbuf)
			continue;
		ring = p->packed ? "packed" : "split";
		if (p->g2h)
			snprintf(p->name, sizeof(p->name), "%s/g2h-%u/io%d", ring, p->size,
				 p->in_order);
		else
			snprintf(p->name, sizeof(p->name), "%s/h2g-%u/io%d-mrg%d", ring, p->size,
				 p->in_order, p->mrg_rxbuf);
		n++;
	}
	return n;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL options] -- --backend vhu|dpdk [--paths SUBSTRING] [--bursts N]\n"
		"       [--warmup N] [--dir DIR] [--list]\n"
		"Runs each path's bursts; under valgrind --tool=callgrind --collect-atstart=no\n"
		"each path's backend calls are dumped as \"<backend> <path>\".\n",
		prog);
}

static int
parse_args(int argc, char **argv, bool *list)
{
	static const struct option longopts[] = {
		{"backend", required_argument, NULL, 'b'},
		{"paths", required_argument, NULL, 'p'},
		{"bursts", required_argument, NULL, 'n'},
		{"warmup", required_argument, NULL, 'w'},
		{"dir", required_argument, NULL, 'd'},
		{"list", no_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	bool have_backend = false;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (strcmp(optarg, "vhu") == 0)
				opt.backend = PERF_VHU;
			else if (strcmp(optarg, "dpdk") == 0)
				opt.backend = PERF_DPDK;
			else
				return -1;
			have_backend = true;
			break;
		case 'p':
			opt.filter = optarg;
			break;
		case 'n':
		case 'w': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end != '\0' || v < 1 || v > 1000000)
				return -1;
			*(c == 'n' ? &opt.bursts : &opt.warmup) = (unsigned int)v;
			break;
		}
		case 'd':
			opt.dir = optarg;
			break;
		case 'l':
			*list = true;
			break;
		default:
			return -1;
		}
	}
	return optind == argc && (have_backend || *list) ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct path paths[32];
	unsigned int n, i, ran = 0;
	bool list = false;
	int eal, rc = 0;

	eal = rte_eal_init(argc, argv);
	if (eal < 0) {
		fprintf(stderr, "cannot initialise EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argv[eal] = argv[0];
	if (parse_args(argc - eal, argv + eal, &list) != 0) {
		usage(argv[0]);
		rte_eal_cleanup();
		return EXIT_USAGE;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	n = paths_make(paths);
	if (list) {
		for (i = 0; i < n; i++)
			printf("%s\n", paths[i].name);
		rte_eal_cleanup();
		return 0;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/burst_cost.%d.sock", opt.dir, (int)getpid());
	host_pool = rte_pktmbuf_pool_create("burst_cost", 8192, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					    SOCKET_ID_ANY);
	if (host_pool == NULL) {
		fprintf(stderr, "cannot set up the mbuf pool: %s\n", rte_strerror(rte_errno));
		rte_mempool_free(host_pool);
		rte_eal_cleanup();
		return 1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		if (opt.filter != NULL && strstr(paths[i].name, opt.filter) == NULL)
			continue;
		if (run_path(&paths[i]) != 0)
			rc = 1;
		ran++;
	}
	if (ran == 0) {
		fprintf(stderr, "no path matches %s; --list shows them\n", opt.filter);
		rc = 1;
	}
	rte_mempool_free(host_pool);
	rte_eal_cleanup();
	return rc;
}
