/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vu_traffic: drive a virtio-user port (vhu's vhost-user front-end) and
 * check that every frame it sends comes back byte for byte.
 *
 *   vu_traffic [EAL options] -- --frontend DEVSTR [--backend DEVSTR] [options]
 *
 * The peer at the other end of the socket must send back what it receives:
 * dpdk-testpmd or vhu-pmd in io forwarding mode with one port, or, with
 * --backend, a vhost-user port in this very process that this program
 * forwards itself (a loopback over real sockets and shared memory).
 *
 * Every frame carries a sequence number per queue, its length and a byte
 * pattern derived from both; a frame that comes back different, on another
 * queue, or out of order fails the run. At most --window frames per queue
 * are in flight (fewer than any ring holds), so a correct pair of drivers
 * loses nothing: the run ends with sent == received exactly, unless
 * --tolerate-loss (backend restarts, IOMMU withdrawal) counts the frames
 * that never came back instead.
 *
 * Exit status: 0 pass, 1 fail, 2 usage, 77 skip (--require names a feature
 * the backend did not negotiate).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "vhu_port.h"
#include "vhu_vhost.h"
#include "vhu_virtio_user.h"

#define MAX_QUEUES 8
#define MAX_SIZES  8
#define MAX_FRAME  9018
#define BURST	   32
#define MAGIC	   0x76687574u /* "vhut" */
#define ETHERTYPE  0x88b5      /* IEEE local experimental */
#define EXIT_SKIP  77

/* What follows the Ethernet header of every test frame. */
struct tag {
	uint32_t magic;
	uint32_t len; /* frame length */
	uint64_t seq; /* per queue */
	uint16_t queue;
} __attribute__((packed));

struct flow {
	uint64_t next_seq;   /* next to send */
	uint64_t expect_seq; /* next expected back */
	uint64_t sent;
	uint64_t received;
	uint64_t lost;		/* given up on (--tolerate-loss) */
	uint64_t late;		/* arrived after being given up on, or twice */
	uint64_t last_progress; /* tsc of the last arrival (or of the first send after one) */
};

static struct {
	const char *frontend, *backend, *require, *info_file;
	uint32_t sizes[MAX_SIZES];
	unsigned int nb_sizes;
	uint64_t count;	 /* frames per queue; 0: until --duration */
	double duration; /* seconds; 0: until --count */
	unsigned int window;
	unsigned int queues;
	uint32_t seg_size; /* largest segment built; 0: what an mbuf holds */
	bool foreign;	   /* build frames in a pool of our own: the port must copy */
	bool tolerate_loss;
	bool expect_start_fail;
	bool withdraw_test;
	bool expect_broken;    /* the backend is hostile: a queue must latch broken, nothing else */
	bool expect_unused;    /* the backend gives a receive buffer back unused: counted, no break */
	unsigned int restarts; /* stop and start the port this many times under traffic */
	double status_period;  /* seconds between status lines; 0: none */
	unsigned int stall_ms; /* in-flight frames missing this long are lost (or fail) */
} opt = {
	.sizes = {64},
	.nb_sizes = 1,
	.window = 64,
	.queues = 1,
	.stall_ms = 5000,
};

static struct vhu_port *front, *back;
static struct rte_mempool *own_pool; /* ours: the in-process backend's, and --foreign-pool */
static struct rte_mempool *tx_pool;  /* where frames are built */
static struct flow flows[MAX_QUEUES];
/* Failures: each ends the run, one report is enough. */
static uint64_t corrupt, misrouted, disorder;
static uint64_t backend_drops;
static volatile sig_atomic_t stop_signal;
static bool draining;
static uint8_t scratch[MAX_FRAME + 64];

static void
on_signal(int sig)
{
	stop_signal = sig;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL options] -- --frontend DEVSTR [--backend DEVSTR] [--sizes N,N..]\n"
		"       [--count N] [--duration S] [--window N] [--queues N] [--seg-size N]\n"
		"       [--foreign-pool] [--tolerate-loss] [--stall-ms N] [--require FEATURE]\n"
		"       [--expect-start-fail] [--expect-broken] [--expect-unused] [--withdraw-test]\n"
		"       [--restarts N (with --duration)]\n"
		"       [--status-period S] [--info FILE]\n",
		prog);
}

static int
parse_sizes(const char *s)
{
	char *end;

	opt.nb_sizes = 0;
	while (*s != '\0' && opt.nb_sizes < MAX_SIZES) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v < 60 || v > MAX_FRAME)
			return -1;
		opt.sizes[opt.nb_sizes++] = (uint32_t)v;
		s = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end != '\0')
			return -1;
	}
	return opt.nb_sizes > 0 ? 0 : -1;
}

static int
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"frontend", required_argument, NULL, 'f'},
		{"backend", required_argument, NULL, 'b'},
		{"sizes", required_argument, NULL, 's'},
		{"count", required_argument, NULL, 'c'},
		{"duration", required_argument, NULL, 'd'},
		{"window", required_argument, NULL, 'w'},
		{"queues", required_argument, NULL, 'q'},
		{"seg-size", required_argument, NULL, 'g'},
		{"foreign-pool", no_argument, NULL, 'F'},
		{"tolerate-loss", no_argument, NULL, 'L'},
		{"stall-ms", required_argument, NULL, 'S'},
		{"require", required_argument, NULL, 'r'},
		{"expect-start-fail", no_argument, NULL, 'E'},
		{"withdraw-test", no_argument, NULL, 'W'},
		{"expect-broken", no_argument, NULL, 'B'},
		{"expect-unused", no_argument, NULL, 'U'},
		{"restarts", required_argument, NULL, 'R'},
		{"status-period", required_argument, NULL, 'p'},
		{"info", required_argument, NULL, 'i'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			opt.frontend = optarg;
			break;
		case 'b':
			opt.backend = optarg;
			break;
		case 's':
			if (parse_sizes(optarg) != 0)
				return -1;
			break;
		case 'c':
			opt.count = strtoull(optarg, NULL, 10);
			break;
		case 'd':
			opt.duration = strtod(optarg, NULL);
			break;
		case 'w':
			opt.window = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'q':
			opt.queues = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'g':
			opt.seg_size = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'F':
			opt.foreign = true;
			break;
		case 'L':
			opt.tolerate_loss = true;
			break;
		case 'S':
			opt.stall_ms = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			opt.require = optarg;
			break;
		case 'E':
			opt.expect_start_fail = true;
			break;
		case 'W':
			opt.withdraw_test = true;
			break;
		case 'B':
			opt.expect_broken = true;
			opt.tolerate_loss = true;
			break;
		case 'U':
			opt.expect_unused = true;
			opt.tolerate_loss = true;
			break;
		case 'R':
			opt.restarts = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			opt.status_period = strtod(optarg, NULL);
			break;
		case 'i':
			opt.info_file = optarg;
			break;
		default:
			return -1;
		}
	}
	if (opt.restarts != 0 && opt.duration <= 0)
		return -1;
	if (opt.frontend == NULL || opt.queues == 0 || opt.queues > MAX_QUEUES || opt.window == 0 ||
	    (opt.count == 0 && opt.duration <= 0 && !opt.expect_start_fail && !opt.withdraw_test))
		return -1;
	return 0;
}

/* The pattern byte at offset 'i' of frame 'seq' of queue 'q'. */
static inline uint8_t
pattern(uint64_t seq, uint16_t q, uint32_t i)
{
	return (uint8_t)(seq * 131 + q * 7 + i * 13 + (i >> 8));
}

static void
frame_fill(uint8_t *f, uint32_t len, uint64_t seq, uint16_t q)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct tag tag = {.magic = MAGIC, .len = len, .seq = seq, .queue = q};
	uint32_t i;

	eth->dst_addr = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, 0x01}};
	rte_ether_addr_copy(&front->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(ETHERTYPE);
	memcpy(f + sizeof(*eth), &tag, sizeof(tag));
	for (i = sizeof(*eth) + sizeof(tag); i < len; i++)
		f[i] = pattern(seq, q, i);
}

/* A frame as a chain of mbufs from 'mp', segments of at most opt.seg_size bytes. */
static struct rte_mbuf *
frame_build(struct rte_mempool *mp, uint64_t seq, uint16_t q, uint32_t len)
{
	struct rte_mbuf *head = NULL, *tail = NULL;
	uint32_t off = 0;

	frame_fill(scratch, len, seq, q);
	while (off < len) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		uint32_t room, chunk;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		room = rte_pktmbuf_tailroom(m);
		if (opt.seg_size != 0 && opt.seg_size < room)
			room = opt.seg_size;
		chunk = RTE_MIN(room, len - off);
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), scratch + off, chunk);
		m->data_len = (uint16_t)chunk;
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
		}
		tail = m;
		off += chunk;
	}
	head->pkt_len = len;
	return head;
}

static void __rte_format_printf(1, 2) fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* Say where the wrong bytes of a corrupt frame come from, if from a test frame. */
static void
frame_explain(const uint8_t *f, uint32_t len, uint32_t bad)
{
	uint32_t off, i;
	struct tag t;

	/* Another frame's start (its tag follows an Ethernet header) somewhere at or
	 * before the first wrong byte, at a 64-byte boundary as buffers are? */
	for (off = bad & ~63u; off + sizeof(struct rte_ether_hdr) + sizeof(t) <= len;
	     off = off >= 64 ? off - 64 : len) {
		memcpy(&t, f + off + sizeof(struct rte_ether_hdr), sizeof(t));
		if (t.magic == MAGIC && t.len <= MAX_FRAME) {
			for (i = off + sizeof(struct rte_ether_hdr) + sizeof(t);
			     i < len && i - off < t.len && f[i] == pattern(t.seq, t.queue, i - off);
			     i++)
				;
			fprintf(stderr,
				"  bytes %u..%u are frame %" PRIu64 " of queue %u (%u bytes) "
				"from its start\n",
				off, i - 1, t.seq, t.queue, t.len);
			return;
		}
		if (off == 0)
			break;
	}
	fprintf(stderr, "  the wrong bytes are not the start of any test frame\n");
}

/* Check a frame that came back on queue 'q'. */
static void
frame_check(struct rte_mbuf *m, uint16_t q)
{
	struct flow *fl = &flows[q];
	uint32_t len = m->pkt_len, i;
	const uint8_t *f;
	struct tag tag;

	if (len < sizeof(struct rte_ether_hdr) + sizeof(tag) || len > MAX_FRAME) {
		corrupt++;
		fail("queue %u: frame of %u bytes cannot be a test frame", q, len);
		return;
	}
	f = rte_pktmbuf_read(m, 0, len, scratch);
	memcpy(&tag, f + sizeof(struct rte_ether_hdr), sizeof(tag));
	if (tag.magic != MAGIC || tag.len != len) {
		corrupt++;
		fail("queue %u: frame of %u bytes has tag magic 0x%x length %u", q, len, tag.magic,
		     tag.len);
		return;
	}
	if (tag.queue != q) {
		misrouted++;
		fail("frame %" PRIu64 " of queue %u came back on queue %u", tag.seq, tag.queue, q);
		return;
	}
	for (i = sizeof(struct rte_ether_hdr) + sizeof(tag); i < len; i++) {
		if (f[i] != pattern(tag.seq, q, i)) {
			corrupt++;
			fail("queue %u frame %" PRIu64
			     " (%u bytes, %u segments): byte %u is 0x%02x, "
			     "expected 0x%02x",
			     q, tag.seq, len, m->nb_segs, i, f[i], pattern(tag.seq, q, i));
			frame_explain(f, len, i);
			return;
		}
	}
	if (tag.seq >= fl->next_seq) {
		corrupt++;
		fail("queue %u: frame %" PRIu64 " came back but was never sent", q, tag.seq);
		return;
	}
	if (tag.seq == fl->expect_seq) {
		fl->expect_seq++;
		fl->received++;
	} else if (tag.seq > fl->expect_seq && tag.seq < fl->next_seq) {
		/* Frames between were lost: only a tolerated outage explains it. */
		fl->lost += tag.seq - fl->expect_seq;
		if (!opt.tolerate_loss) {
			fail("queue %u: frames %" PRIu64 "..%" PRIu64 " never came back", q,
			     fl->expect_seq, tag.seq - 1);
			disorder++;
		}
		fl->expect_seq = tag.seq + 1;
		fl->received++;
	} else {
		fl->late++;
		if (!opt.tolerate_loss) {
			fail("queue %u: frame %" PRIu64
			     " came back again or out of order (expected "
			     "%" PRIu64 ")",
			     q, tag.seq, fl->expect_seq);
			disorder++;
		}
	}
	fl->last_progress = rte_get_timer_cycles();
}

/* Send what the window allows on queue q. */
static void
send_queue(uint16_t q, uint64_t limit)
{
	struct flow *fl = &flows[q];
	struct rte_mbuf *pkts[BURST];
	uint64_t inflight = fl->next_seq - fl->expect_seq;
	uint16_t n = 0, sent, i;

	if (draining)
		return;
	while (n < BURST && inflight + n < opt.window && (limit == 0 || fl->next_seq + n < limit)) {
		uint64_t seq = fl->next_seq + n;

		pkts[n] = frame_build(tx_pool, seq, q, opt.sizes[seq % opt.nb_sizes]);
		if (pkts[n] == NULL)
			break;
		n++;
	}
	if (n == 0)
		return;
	sent = vhu_port_tx_burst(front, q, pkts, n);
	/* Unsent frames are rebuilt next time with the same numbers. */
	for (i = sent; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
	if (sent > 0 && inflight == 0)
		fl->last_progress = rte_get_timer_cycles();
	fl->next_seq += sent;
	fl->sent += sent;
}

static void
receive_queue(uint16_t q)
{
	struct rte_mbuf *pkts[BURST];
	uint16_t n = vhu_port_rx_burst(front, q, pkts, BURST), i;

	for (i = 0; i < n; i++) {
		frame_check(pkts[i], q);
		rte_pktmbuf_free(pkts[i]);
	}
}

/* The in-process backend sends back whatever it gets. */
static void
backend_loop(uint16_t q)
{
	struct rte_mbuf *pkts[BURST];
	uint16_t n, sent;

	n = vhu_port_rx_burst(back, q, pkts, BURST);
	if (n == 0)
		return;
	sent = vhu_port_tx_burst(back, q, pkts, n);
	if (sent < n) {
		backend_drops += n - sent;
		rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
	}
}

/* Frames in flight too long: lost (tolerated) or a failure. Returns false on failure. */
static bool
check_stalls(uint64_t now)
{
	uint64_t limit = rte_get_timer_hz() / 1000 * opt.stall_ms;
	unsigned int q;

	for (q = 0; q < opt.queues; q++) {
		struct flow *fl = &flows[q];
		uint64_t inflight = fl->next_seq - fl->expect_seq;

		if (inflight == 0 || now - fl->last_progress < limit)
			continue;
		if (!opt.tolerate_loss) {
			fail("queue %u: %" PRIu64 " frames (from %" PRIu64
			     ") did not come back within "
			     "%u ms",
			     q, inflight, fl->expect_seq, opt.stall_ms);
			return false;
		}
		fl->lost += inflight;
		fl->expect_seq = fl->next_seq;
		fl->last_progress = now;
	}
	return true;
}

static void
totals(uint64_t *sent, uint64_t *received, uint64_t *lost, uint64_t *late)
{
	unsigned int q;

	*sent = *received = *lost = *late = 0;
	for (q = 0; q < opt.queues; q++) {
		*sent += flows[q].sent;
		*received += flows[q].received;
		*lost += flows[q].lost;
		*late += flows[q].late;
	}
}

static void
status_line(void)
{
	struct vhu_virtio_user_stats st;
	uint64_t s, r, l, d;

	totals(&s, &r, &l, &d);
	vhu_virtio_user_stats_get(front, &st);
	printf("status: link=%s connections=%" PRIu64 " starts=%" PRIu64 " sent=%" PRIu64
	       " received=%" PRIu64 " lost=%" PRIu64 " late=%" PRIu64 " misses=%" PRIu64 "\n",
	       st.running ? "up" : "down", st.connections, st.starts, s, r, l, d, st.iotlb_misses);
	fflush(stdout);
}

/*
 * Move traffic until every queue has sent 'limit' frames (0: no limit) and
 * got them back, or 'seconds' pass (0: no limit), or a failure.
 */
static bool
run(uint64_t limit, double seconds)
{
	uint64_t hz = rte_get_timer_hz(), start = rte_get_timer_cycles();
	uint64_t end = seconds > 0 ? start + (uint64_t)(seconds * hz) : UINT64_MAX;
	uint64_t next_status = opt.status_period > 0 ? start : UINT64_MAX;
	unsigned int q;

	/* No registration with anything: the libraries' bursts look after
	 * themselves (lib/common/vhu_handoff.h), as under any DPDK application. */
	for (;;) {
		uint64_t now = rte_get_timer_cycles();
		bool done = limit != 0 || draining;

		if ((stop_signal != 0 && !draining) || now >= end || corrupt != 0 ||
		    misrouted != 0 || disorder != 0)
			break;
		if (now >= next_status) {
			status_line();
			next_status = now + (uint64_t)(opt.status_period * hz);
		}
		for (q = 0; q < opt.queues; q++) {
			send_queue(q, limit);
			if (back != NULL)
				backend_loop(q);
			receive_queue(q);
			if (draining ? flows[q].expect_seq < flows[q].next_seq
				     : limit == 0 || flows[q].expect_seq < limit)
				done = false;
		}
		if (done)
			break;
		if (!check_stalls(rte_get_timer_cycles()))
			return false;
	}
	return corrupt == 0 && misrouted == 0 && disorder == 0;
}

/* Stop sending and wait for the frames in flight (the stall limit applies). */
static bool
drain(void)
{
	bool ok;

	draining = true;
	ok = run(0, 0);
	draining = false;
	return ok;
}

/* Count frames arriving during 'seconds' while still trying to send. */
static uint64_t
received_during(double seconds)
{
	uint64_t before, after, s, l, d;

	totals(&s, &before, &l, &d);
	run(0, seconds);
	totals(&s, &after, &l, &d);
	return after - before;
}

/*
 * iommu=1: traffic flows with mappings the backend asked for; withdrawn,
 * the backend cannot reach the rings or buffers any more and nothing comes
 * back; restored (mapped again at once), traffic resumes.
 */
static bool
withdraw_test(void)
{
	struct vhu_virtio_user_stats st;
	uint64_t got;

	if (!run(0, 1.0))
		return false;
	vhu_virtio_user_stats_get(front, &st);
	printf("withdraw-test: %" PRIu64 " IOTLB misses answered before withdrawal\n",
	       st.iotlb_answered);
	if (st.iotlb_misses == 0 || st.iotlb_answered == 0) {
		fail("iommu=1 but the backend sent no IOTLB miss: it did not use the IOMMU");
		return false;
	}
	if (vhu_virtio_user_iotlb_withdraw(front, true) != 0) {
		fail("cannot withdraw the IOTLB mappings");
		return false;
	}
	/* What the backend already held in flight may still land: settle first. */
	received_during(0.3);
	got = received_during(1.0);
	vhu_virtio_user_stats_get(front, &st);
	printf("withdraw-test: %" PRIu64 " frames came back in 1 s after withdrawal; %" PRIu64
	       " misses refused\n",
	       got, st.iotlb_refused);
	if (got != 0) {
		fail("the backend still moved %" PRIu64 " frames after its mappings were withdrawn",
		     got);
		return false;
	}
	if (vhu_virtio_user_iotlb_withdraw(front, false) != 0) {
		fail("cannot restore the IOTLB mappings");
		return false;
	}
	got = received_during(1.0);
	vhu_virtio_user_stats_get(front, &st);
	printf("withdraw-test: %" PRIu64 " frames came back in 1 s after restoring; %" PRIu64
	       " misses in all\n",
	       got, st.iotlb_misses);
	if (got == 0) {
		fail("traffic did not resume after the mappings were restored");
		return false;
	}
	return true;
}

/*
 * Stop and start the port under traffic: GET_VRING_BASE on stop, the same
 * base on start, so nothing in flight is lost or repeated.
 */
static bool
restarts_test(void)
{
	double slice = opt.duration / (opt.restarts + 1);
	unsigned int i;

	for (i = 0; i < opt.restarts; i++) {
		if (!run(0, slice))
			return false;
		vhu_port_stop(front);
		if (vhu_port_start(front) != 0) {
			fail("the port did not start again after stop %u", i + 1);
			return false;
		}
	}
	return run(0, slice);
}

static bool
feature_required(void)
{
	struct vhu_virtio_user_stats st;
	unsigned int bit;

	if (opt.require == NULL)
		return true;
	vhu_virtio_user_stats_get(front, &st);
	for (bit = 0; bit < 64; bit++) {
		const char *name = vhu_virtio_feature_name(bit);

		if (name != NULL && strcmp(name, opt.require) == 0)
			return (st.features & (UINT64_C(1) << bit)) != 0;
	}
	fprintf(stderr, "unknown feature name %s\n", opt.require);
	return false;
}

static void
show_info(void)
{
	char buf[8192];
	FILE *f;

	if (vhu_port_info(front, buf, sizeof(buf)) < 0)
		return;
	printf("%s", buf);
	if (opt.info_file != NULL && (f = fopen(opt.info_file, "w")) != NULL) {
		fputs(buf, f);
		fclose(f);
	}
}

static struct vhu_port *
attach(const char *devstr, unsigned int queues)
{
	struct vhu_port_conf conf = {
		.mempool = own_pool,
		.nb_rxq = queues,
		.nb_txq = queues,
		.socket_id = SOCKET_ID_ANY,
	};
	struct vhu_port *p = vhu_port_attach(devstr, &conf);

	if (p == NULL)
		fprintf(stderr, "cannot attach port %s: %s\n", devstr, rte_strerror(rte_errno));
	return p;
}

int
main(int argc, char **argv)
{
	uint64_t s, r, l, d;
	int n, rc = 1;
	bool ok;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "cannot initialise EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argv[n] = argv[0];
	if (parse_args(argc - n, argv + n) != 0) {
		usage(argv[0]);
		rte_eal_cleanup();
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (opt.foreign || opt.backend != NULL) {
		own_pool = rte_pktmbuf_pool_create("vu_traffic", 16384, 256, 0,
						   RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		if (own_pool == NULL) {
			fprintf(stderr, "cannot create a mbuf pool: %s\n", rte_strerror(rte_errno));
			goto out;
		}
	}
	if (opt.backend != NULL && (back = attach(opt.backend, opt.queues)) == NULL)
		goto out;
	front = attach(opt.frontend, opt.queues);
	if (front == NULL)
		goto out;
	/* Zero-copy: frames are built in shared memory, unless --foreign-pool. */
	tx_pool = opt.foreign ? own_pool : front->mempool;
	if (back != NULL && vhu_port_start(back) != 0)
		goto out;
	if (vhu_port_start(front) != 0) {
		if (opt.expect_start_fail) {
			printf("PASS: the port refused to start, as expected\n");
			rc = 0;
		}
		goto out;
	}
	if (opt.expect_start_fail) {
		fail("the port started although the backend misbehaves");
		goto stop;
	}
	if (!feature_required()) {
		printf("SKIP: the backend did not negotiate %s\n", opt.require);
		rc = EXIT_SKIP;
		goto stop;
	}
	if (opt.withdraw_test)
		ok = withdraw_test();
	else if (opt.restarts != 0)
		ok = restarts_test();
	else
		ok = run(opt.count, opt.duration);
	/* Whatever is still in flight comes home (or, tolerated, is counted lost). */
	if (ok)
		ok = drain();
	totals(&s, &r, &l, &d);
	printf("RESULT: sent=%" PRIu64 " received=%" PRIu64 " lost=%" PRIu64 " late=%" PRIu64
	       " corrupt=%" PRIu64 " misrouted=%" PRIu64 " backend_drops=%" PRIu64 "\n",
	       s, r, l, d, corrupt, misrouted, backend_drops);
	show_info();
	if (opt.expect_broken) {
		struct vhu_virtio_user_stats st;

		vhu_virtio_user_stats_get(front, &st);
		if (st.broken_queues == 0 || corrupt != 0) {
			fail("the hostile backend did not latch a queue broken (%u broken, %" PRIu64
			     " corrupt frames)",
			     st.broken_queues, corrupt);
		} else {
			printf("PASS: %u queue(s) latched broken, the process carried on\n",
			       st.broken_queues);
			rc = 0;
		}
	} else if (opt.expect_unused) {
		struct vhu_virtio_user_stats st;

		vhu_virtio_user_stats_get(front, &st);
		if (st.broken_queues != 0 || st.errors == 0 || corrupt != 0) {
			fail("a receive buffer given back unused: %u queue(s) broken, %" PRIu64
			     " error(s) counted, %" PRIu64 " corrupt frames; want 0, at least 1, 0",
			     st.broken_queues, st.errors, corrupt);
		} else {
			printf("PASS: the unused buffer was counted (%" PRIu64 " error(s)), "
			       "no queue broke\n", st.errors);
			rc = 0;
		}
	} else if (!ok) {
		/* fail() said why */
	} else if (r == 0) {
		fail("no frame came back");
	} else if (!opt.tolerate_loss && !opt.withdraw_test && (s != r || l != 0 || d != 0)) {
		fail("accounting: sent %" PRIu64 " != received %" PRIu64 " (lost %" PRIu64
		     ", late %" PRIu64 ")",
		     s, r, l, d);
	} else {
		printf("PASS\n");
		rc = 0;
	}
stop:
	vhu_port_stop(front);
	if (back != NULL)
		vhu_port_stop(back);
out:
	if (front != NULL)
		vhu_port_detach(front);
	if (back != NULL) {
		vhu_port_stop(back);
		vhu_port_detach(back);
	}
	rte_mempool_free(own_pool);
	rte_eal_cleanup();
	return rc;
}
