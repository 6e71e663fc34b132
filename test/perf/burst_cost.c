/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * burst_cost: what one burst costs, in instructions, with nothing else in
 * the way: a backend's bursts, or a front-end's. Run it under callgrind
 * (test/perf/instructions.py does):
 *
 *   valgrind --tool=callgrind --collect-atstart=no burst_cost [EAL options] -- \
 *       --backend vhu|dpdk [--paths SUBSTRING] [--bursts N] [--warmup N] [--dir DIR]
 *
 * One thread plays both sides of a vhost-user device, path after path.
 * '--backend' names whose code is measured, vhu's or DPDK's:
 *
 * - Backend paths ("split/g2h-64/io1", ...): the backend is vhu's library
 *   (vhu_vhost_create on a socket) or DPDK's librte_vhost
 *   (rte_vhost_driver_register/start); the guest is vhu's virtio-user
 *   front-end, connected with a real vhost-user handshake. Only the
 *   backend's burst calls are counted.
 * - Front-end paths ("front/split/h2g-64/io1", ...): the front-end is vhu's
 *   virtio-user port or DPDK's net_virtio_user (through rte_eth_rx_burst and
 *   rte_eth_tx_burst), both on vhu's backend. Only the front-end's burst
 *   calls are counted: rx (host->guest) takes what the backend placed and
 *   posts fresh buffers, tx (guest->host) posts frames and reclaims sent
 *   ones.
 * - Idle paths ("split/g2h-idle", "front/split/h2g-idle"): a poll of a ring
 *   with nothing on it, the cost a polling lcore pays between packets; their
 *   "packets" are the polls.
 *
 * For each path (ring layout, direction, frame size, in_order, mrg_rxbuf)
 * the program connects a fresh pair with those features and then
 * alternates: one side fills the ring with one burst of 32 frames, the
 * other moves them with one call of its burst function. Only the measured
 * calls are counted (callgrind client requests toggle collection around
 * them), and after the path the counts are dumped under the path's name, so
 * set-up, the other side's work and the other paths are excluded. The
 * traffic is synthetic and identical for both; every burst must move
 * exactly 32 frames, byte for byte as sent, or the run fails, so an
 * instruction count always stands for the same, correct work.
 *
 * Without valgrind the client requests do nothing and the program only
 * checks that every path moves its frames intact (the integration suite
 * runs it so).
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
#include <rte_ethdev.h>
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
	bool front; /* the front-end's bursts are counted, else the backend's */
	bool idle;  /* polls of an empty ring, not bursts of frames */
	bool packed;
	bool g2h;      /* guest->host (the backend dequeues), else host->guest */
	uint32_t size; /* frame bytes, without the virtio-net header */
	bool in_order;
	bool mrg_rxbuf;
	char name[48]; /* e.g. "packed/g2h-64/io1", "front/split/h2g-1518/io0" */
};

#define MAX_PATHS 64

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

static struct rte_mempool *host_pool;  /* the backend's mbufs: dequeued frames, enqueue sources */
static struct rte_mempool *guest_pool; /* DPDK's virtio-user's mbufs (vhu's brings its own) */
static char sock_path[108];

/* The device: the backend and the guest. */
static struct perf_pair pair;
/* Which side's calls the current path counts. */
static bool count_front;

/*
 * The value of 'call', with callgrind collecting during it alone if 'count'
 * (the side the path measures): exactly one burst, nothing else counted,
 * not even the choice of implementation.
 */
#define COUNTED(count, call) \
	__extension__({ \
		bool c_ = (count); \
		uint16_t n_; \
\
		if (c_) \
			CALLGRIND_TOGGLE_COLLECT; \
		n_ = (call); \
		if (c_) \
			CALLGRIND_TOGGLE_COLLECT; \
		n_; \
	})

/* The backend takes up to a burst of frames the guest sent (guest->host). */
static uint16_t
backend_dequeue(struct rte_mbuf **pkts)
{
	if (pair.kind == PERF_VHU)
		return COUNTED(!count_front,
			       vhu_vhost_dequeue_burst(pair.vhu, 0, host_pool, pkts, BURST));
	return COUNTED(!count_front, rte_vhost_dequeue_burst(pair.vid, 1, host_pool, pkts, BURST));
}

/* The backend copies a burst of frames to the guest (host->guest); the caller keeps them. */
static uint16_t
backend_enqueue(struct rte_mbuf **pkts)
{
	if (pair.kind == PERF_VHU)
		return COUNTED(!count_front, vhu_vhost_enqueue_burst(pair.vhu, 0, pkts, BURST));
	return COUNTED(!count_front, rte_vhost_enqueue_burst(pair.vid, 0, pkts, BURST));
}

/* The guest takes up to n received frames (host->guest). */
static uint16_t
front_rx(struct rte_mbuf **pkts, uint16_t n)
{
	if (pair.fkind == PERF_VHU)
		return COUNTED(count_front, vhu_port_rx_burst(pair.front, 0, pkts, n));
	return COUNTED(count_front, rte_eth_rx_burst(pair.front_port, 0, pkts, n));
}

/* The guest sends up to n frames (guest->host). */
static uint16_t
front_tx(struct rte_mbuf **pkts, uint16_t n)
{
	if (pair.fkind == PERF_VHU)
		return COUNTED(count_front, vhu_port_tx_burst(pair.front, 0, pkts, n));
	return COUNTED(count_front, rte_eth_tx_burst(pair.front_port, 0, pkts, n));
}

/* Where the guest's frames come from: its shared pool, or DPDK's memory. */
static struct rte_mempool *
front_pool(void)
{
	return pair.fkind == PERF_VHU ? pair.front->mempool : guest_pool;
}

/* A UDP-looking frame of 'size' bytes at 'p' with a pattern that depends on 'seed'. */
static void
frame_make(uint8_t *p, uint32_t size, uint32_t seed)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;

	memset(p, (int)(seed & 0xff), size);
	memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	eth->src_addr = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, 1}};
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
}

static void
frame_fill(struct rte_mbuf *m, uint32_t size, uint32_t seed)
{
	frame_make((uint8_t *)rte_pktmbuf_append(m, (uint16_t)size), size, seed);
}

/* Is 'm' the frame frame_fill(size, seed) made, byte for byte? */
static bool
frame_ok(const struct rte_mbuf *m, uint32_t size, uint32_t seed)
{
	static uint8_t want[RTE_ETHER_MAX_LEN], buf[RTE_ETHER_MAX_LEN];
	const void *got;

	if (m->pkt_len != size || size > sizeof(want))
		return false;
	frame_make(want, size, seed);
	got = rte_pktmbuf_read(m, 0, size, buf);
	return got != NULL && memcmp(got, want, size) == 0;
}

/* Every frame of a burst arrived intact (frame i has seed base + i)? */
static bool
burst_ok(const struct path *p, struct rte_mbuf **pkts, uint16_t n, uint32_t base)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		if (!frame_ok(pkts[i], p->size, base + i)) {
			fprintf(stderr, "%s: frame %u of the burst is not the one sent\n", p->name,
				i);
			return false;
		}
	}
	return true;
}

/*
 * Guest->host: the guest sends a burst (frames built in its own memory, as a
 * guest driver would), the backend takes it.
 */
static int
run_g2h(const struct path *p, unsigned int bursts)
{
	struct rte_mbuf *pkts[BURST];
	unsigned int b, i;

	for (b = 0; b < bursts; b++) {
		uint16_t n;
		bool ok;

		if (rte_pktmbuf_alloc_bulk(front_pool(), pkts, BURST) != 0) {
			fprintf(stderr, "%s: the guest's pool is empty\n", p->name);
			return -1;
		}
		for (i = 0; i < BURST; i++)
			frame_fill(pkts[i], p->size, b * BURST + i);
		n = front_tx(pkts, BURST);
		if (n != BURST) {
			fprintf(stderr, "%s: the guest sent %u of %u frames\n", p->name, n, BURST);
			rte_pktmbuf_free_bulk(&pkts[n], BURST - n);
			return -1;
		}
		n = backend_dequeue(pkts);
		ok = burst_ok(p, pkts, n, b * BURST);
		rte_pktmbuf_free_bulk(pkts, n);
		if (n != BURST) {
			fprintf(stderr, "%s: the backend took %u of %u frames\n", p->name, n,
				BURST);
			return -1;
		}
		if (!ok)
			return -1;
	}
	return 0;
}

/*
 * Host->guest: the backend places a burst of the same 32 frames (it copies,
 * the caller keeps them), the guest takes them and gives its buffers back.
 */
static int
run_h2g(const struct path *p, unsigned int bursts, struct rte_mbuf **src)
{
	struct rte_mbuf *got[BURST];
	unsigned int b;

	for (b = 0; b < bursts; b++) {
		uint16_t n = backend_enqueue(src), r = 0, k;
		bool ok;

		if (n != BURST) {
			fprintf(stderr, "%s: the backend placed %u of %u frames\n", p->name, n,
				BURST);
			return -1;
		}
		for (k = 0; k < 4 && r < BURST; k++)
			r += front_rx(got + r, BURST - r);
		ok = burst_ok(p, got, r, 0);
		rte_pktmbuf_free_bulk(got, r);
		if (r != BURST) {
			fprintf(stderr, "%s: the guest received %u of %u frames\n", p->name, r,
				BURST);
			return -1;
		}
		if (!ok)
			return -1;
	}
	return 0;
}

/*
 * Idle: polls of an empty ring, 'polls' of them, each of which must find
 * nothing: the backend's dequeue (guest->host), or the guest's receive
 * (host->guest).
 */
static int
run_idle(const struct path *p, unsigned int polls)
{
	struct rte_mbuf *pkts[BURST];
	unsigned int i;

	for (i = 0; i < polls; i++) {
		uint16_t n = p->g2h ? backend_dequeue(pkts) : front_rx(pkts, BURST);

		if (n != 0) {
			rte_pktmbuf_free_bulk(pkts, n);
			fprintf(stderr, "%s: a poll of the empty ring returned %u frames\n",
				p->name, n);
			return -1;
		}
	}
	return 0;
}

/* 'bursts' bursts (or polls) of path 'p'. 0 or -1. */
static int
run_bursts(const struct path *p, unsigned int bursts, struct rte_mbuf **src)
{
	if (p->idle)
		return run_idle(p, bursts);
	return p->g2h ? run_g2h(p, bursts) : run_h2g(p, bursts, src);
}

/* Connect a pair for 'p', warm up, measure, dump. 0 or -1. */
static int
run_path(const struct path *p)
{
	const char *backend = perf_backend_name(opt.backend);
	struct rte_mbuf *src[BURST];
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
	/* A front-end path measures opt.backend's front-end on vhu's backend. */
	count_front = p->front;
	if (perf_pair_open_front(&pair, p->front ? PERF_VHU : opt.backend,
				 p->front ? opt.backend : PERF_VHU, sock_path, keys,
				 p->front && opt.backend == PERF_DPDK ? guest_pool : host_pool) !=
	    0)
		goto free_src;
	/* Warm-up, not counted: caches, mempool caches and both ring positions settle. */
	rc = run_bursts(p, opt.warmup, src);
	if (rc == 0) {
		CALLGRIND_ZERO_STATS;
		rc = run_bursts(p, opt.bursts, src);
		snprintf(label, sizeof(label), "%s %s", backend, p->name);
		CALLGRIND_DUMP_STATS_AT(label);
	}
	if (rc == 0)
		printf("path=%s backend=%s packets=%u features=0x%" PRIx64 "\n", p->name, backend,
		       opt.bursts * (p->idle ? 1 : BURST), pair.features);
	perf_pair_close(&pair);
free_src:
	rte_pktmbuf_free_bulk(src, BURST);
	return rc;
}

/* Append the path "<prefix><ring>/<rest>" with those features. */
static void
path_add(struct path *paths, unsigned int *n, const struct path *tmpl, const char *rest)
{
	struct path *p = &paths[(*n)++];

	*p = *tmpl;
	snprintf(p->name, sizeof(p->name), "%s%s/%s", p->front ? "front/" : "",
		 p->packed ? "packed" : "split", rest);
}

/*
 * Every path. Backend: mrg_rxbuf only changes the receive (h2g) side.
 * Front-end: mrg_rxbuf off, as the benchmarks run it. Idle: the polling
 * side of each direction, in order.
 */
static unsigned int
paths_make(struct path *paths)
{
	static const uint32_t sizes[] = {64, 1518};
	unsigned int n = 0, i;
	char rest[32];

	/* Bits of i, slowest first: ring, direction, size, in_order, mrg_rxbuf. */
	for (i = 0; i < 32; i++) {
		struct path p = {
			.packed = (i >> 4) & 1,
			.g2h = ((i >> 3) & 1) == 0,
			.size = sizes[(i >> 2) & 1],
			.in_order = (i >> 1) & 1,
			.mrg_rxbuf = i & 1,
		};

		if (p.g2h && p.mrg_rxbuf)
			continue;
		if (p.g2h)
			snprintf(rest, sizeof(rest), "g2h-%u/io%d", p.size, p.in_order);
		else
			snprintf(rest, sizeof(rest), "h2g-%u/io%d-mrg%d", p.size, p.in_order,
				 p.mrg_rxbuf);
		path_add(paths, &n, &p, rest);
	}
	for (i = 0; i < 16; i++) {
		struct path p = {
			.front = true,
			.packed = (i >> 3) & 1,
			.g2h = ((i >> 2) & 1) == 0,
			.size = sizes[(i >> 1) & 1],
			.in_order = i & 1,
		};

		snprintf(rest, sizeof(rest), "%s-%u/io%d", p.g2h ? "g2h" : "h2g", p.size,
			 p.in_order);
		path_add(paths, &n, &p, rest);
	}
	for (i = 0; i < 4; i++) {
		struct path p = {
			.front = (i & 1) != 0,
			.idle = true,
			.packed = (i >> 1) & 1,
			.g2h = (i & 1) == 0,
			.size = 64,
			.in_order = true,
		};

		path_add(paths, &n, &p, p.g2h ? "g2h-idle" : "h2g-idle");
	}
	return n;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL options] -- --backend vhu|dpdk [--paths SUBSTRING] [--bursts N]\n"
		"       [--warmup N] [--dir DIR] [--list]\n"
		"Runs each path's bursts, checking every frame; under valgrind --tool=callgrind\n"
		"--collect-atstart=no the measured calls of each path (the backend's, or on\n"
		"front/ paths the front-end's) are dumped as \"<backend> <path>\".\n",
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
	struct path paths[MAX_PATHS];
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
	guest_pool = rte_pktmbuf_pool_create("burst_cost_guest", 4096, 256, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (host_pool == NULL || guest_pool == NULL) {
		fprintf(stderr, "cannot set up the mbuf pools: %s\n", rte_strerror(rte_errno));
		rte_mempool_free(host_pool);
		rte_mempool_free(guest_pool);
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
	rte_mempool_free(guest_pool);
	rte_eal_cleanup();
	return rc;
}
