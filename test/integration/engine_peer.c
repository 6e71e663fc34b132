/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine_peer: the other end of vhu-pmd running its icmpecho, flowgen or
 * csum engine, over real vhost-user sockets, checking what comes back byte
 * for byte.
 *
 *   engine_peer [EAL options] -- --mode icmpecho --frontend DEVSTR
 *       ARP requests and pings (VLAN tags, IP options, 0 to 1472 bytes of
 *       data, padded frames) to vhu-pmd's port 0, whose address is
 *       10.11.12.2: each answer must be exactly the reply a host would send;
 *       requests that are not for the port (another address, another MAC, a
 *       wrong checksum) must get none.
 *   engine_peer ... --mode flowgen --frontend DEVSTR --queues N --flows F
 *       [--size S] [--duration D]
 *       receive what vhu-pmd's flowgen sends for D seconds on N queues:
 *       every frame well formed and S bytes long, every one of the F flows
 *       seen, each queue a fair share (at least half of 1/N of the frames).
 *   engine_peer ... --mode csum --frontend DEVSTR --backend DEVSTR
 *       vhu-pmd forwards between a vhost-user port (0, which completes TCP
 *       and UDP checksums) and a virtio-user port (1, which completes
 *       none). Packets with right and wrong IPv4, TCP, UDP and ICMP
 *       checksums go in at one end (--frontend reaches port 0, --backend is
 *       port 1's backend) and must come out at the other with every
 *       checksum right and every other byte as sent; both ways.
 *
 * Packets go one at a time: each answer is awaited (2 s) before the next
 * request, and a request that must get none is given 300 ms.
 *
 * Exit status: 0 pass, 1 fail, 2 usage.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "../unit/pkt_ref.h"
#include "vhu_port.h"

#define MAX_QUEUES 8
#define MAX_FRAME  2048
#define BURST	   32
#define WAIT_MS	   2000
#define QUIET_MS   300
#define LINK_S	   20

static struct {
	const char *mode, *frontend, *backend;
	unsigned int queues;
	uint32_t flows, size;
	double duration;
} opt = {.queues = 1, .flows = 64, .size = 64, .duration = 2};

static struct vhu_port *front, *back;
static struct rte_mempool *pool;
static unsigned int failures;

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		printf("FAIL: " __VA_ARGS__);                                                      \
		printf("\n");                                                                      \
		failures++;                                                                        \
	} while (0)

static double
now(void)
{
	return (double)rte_get_timer_cycles() / (double)rte_get_timer_hz();
}

/* Send 'len' bytes on queue 0 of port p as one mbuf. */
static bool
send_frame(struct vhu_port *p, const uint8_t *data, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint16_t sent;

	if (m == NULL || rte_pktmbuf_append(m, len) == NULL) {
		rte_pktmbuf_free(m);
		FAIL("no mbuf for a frame of %u bytes", len);
		return false;
	}
	memcpy(rte_pktmbuf_mtod(m, void *), data, len);
	sent = vhu_port_tx_burst(p, 0, &m, 1);
	vhu_port_tx_flush(p, 0);
	if (sent != 1) {
		rte_pktmbuf_free(m);
		FAIL("port %s refused a frame", p->name);
		return false;
	}
	return true;
}

/* The next frame on queue q of port p within ms milliseconds, copied into out; its length or 0. */
static uint32_t
recv_frame(struct vhu_port *p, uint16_t q, uint8_t *out, unsigned int ms)
{
	double end = now() + ms / 1000.0;
	struct rte_mbuf *m = NULL;
	uint32_t len = 0;

	while (m == NULL && now() < end) {
		if (vhu_port_rx_burst(p, q, &m, 1) == 0)
			m = NULL;
	}
	if (m == NULL)
		return 0;
	if (m->pkt_len <= MAX_FRAME) {
		const void *d = rte_pktmbuf_read(m, 0, m->pkt_len, out);

		if (d != NULL && d != out)
			memcpy(out, d, m->pkt_len);
		len = d != NULL ? m->pkt_len : 0;
	} else {
		FAIL("a frame of %u bytes, more than any sent", m->pkt_len);
	}
	rte_pktmbuf_free(m);
	return len;
}

/* Send a request on p and check the one answer on 'to' (NULL: no answer at all). */
static void
exchange(const char *what, struct vhu_port *p, const uint8_t *req, uint16_t len,
	 struct vhu_port *to, const uint8_t *want, uint16_t want_len)
{
	static uint8_t got[MAX_FRAME];
	uint32_t n, i;

	if (!send_frame(p, req, len))
		return;
	n = recv_frame(to != NULL ? to : p, 0, got, to != NULL ? WAIT_MS : QUIET_MS);
	if (to == NULL) {
		if (n != 0)
			FAIL("%s: answered (%u bytes); it must not be", what, n);
		else
			printf("ok: %s: no answer\n", what);
		return;
	}
	if (n == 0) {
		FAIL("%s: no answer within %u ms", what, WAIT_MS);
		return;
	}
	if (n != want_len) {
		FAIL("%s: %u bytes came back, %u expected", what, n, want_len);
		return;
	}
	for (i = 0; i < n && got[i] == want[i]; i++)
		;
	if (i < n)
		FAIL("%s: byte %u is 0x%02x, 0x%02x expected", what, i, got[i], want[i]);
	else
		printf("ok: %s: %u bytes as expected\n", what, n);
}

/* --- icmpecho ------------------------------------------------------------------------ */

static void
icmpecho_arp(void)
{
	static const uint8_t other[4] = {10, 11, 12, 99};
	uint8_t req[64], want[64];
	uint16_t len = build_arp(req, NULL, ip_peer, ip_port);

	memcpy(want, req, len);
	memcpy(want, &peer_mac, 6);
	memcpy(want + 6, &port_mac, 6);
	put16(want + ETH_LEN + 6, 2);
	memcpy(want + ETH_LEN + 8, &port_mac, 6);
	memcpy(want + ETH_LEN + 14, ip_port, 4);
	memcpy(want + ETH_LEN + 18, &peer_mac, 6);
	memcpy(want + ETH_LEN + 24, ip_peer, 4);
	exchange("ARP request for 10.11.12.2", front, req, len, front, want, len);
	len = build_arp(req, NULL, ip_peer, other);
	exchange("ARP request for 10.11.12.99", front, req, len, NULL, NULL, 0);
}

static void
icmpecho_pings(void)
{
	static const struct {
		unsigned int tags, opt;
		uint16_t data, pad;
	} cases[] = {{0, 0, 56, 0}, {1, 0, 56, 0}, {2, 0, 100, 0}, {0, 2, 56, 0},
		     {0, 0, 1472, 0}, {0, 0, 0, 18}, {1, 1, 333, 0}};
	static uint8_t req[MAX_FRAME], want[MAX_FRAME];
	char what[96];
	unsigned int i;
	uint16_t len;

	for (i = 0; i < RTE_DIM(cases); i++) {
		len = build_ping(req, cases[i].tags, cases[i].opt, cases[i].data, cases[i].pad);
		memcpy(want, req, len);
		expect_pong(want, cases[i].tags, cases[i].opt, cases[i].data);
		snprintf(what, sizeof(what), "ping, %u tag(s), %u option word(s), %u data bytes%s",
			 cases[i].tags, cases[i].opt, cases[i].data,
			 cases[i].pad != 0 ? ", padded" : "");
		exchange(what, front, req, len, front, want, len);
	}
	/* Not for the port: no answer. */
	len = build_ping(req, 0, 0, 56, 0);
	req[ETH_LEN + IP4_LEN + 20] ^= 1;
	exchange("ping with a wrong ICMP checksum", front, req, len, NULL, NULL, 0);
	len = build_ping(req, 0, 0, 56, 0);
	req[5] ^= 0x40;
	exchange("ping to another MAC address", front, req, len, NULL, NULL, 0);
	len = build_ping(req, 0, 0, 56, 0);
	req[ETH_LEN + 19] = 3; /* 10.11.12.3 */
	put16(req + ETH_LEN + 10, 0);
	put16(req + ETH_LEN + 10, (uint16_t)~ref_fold(ref_add(0, req + ETH_LEN, IP4_LEN)));
	exchange("ping to 10.11.12.3", front, req, len, NULL, NULL, 0);
}

/* --- flowgen ------------------------------------------------------------------------- */

static void
flowgen_receive(void)
{
	static uint8_t seen[65536 / 8];
	uint64_t per_queue[MAX_QUEUES] = {0}, total = 0, bad = 0;
	uint32_t flows = 0, q;
	struct rte_mbuf *pkts[BURST];
	double end = now() + opt.duration;
	uint16_t n, i;

	while (now() < end) {
		for (q = 0; q < opt.queues; q++) {
			n = vhu_port_rx_burst(front, q, pkts, BURST);
			for (i = 0; i < n; i++) {
				const uint8_t *p = rte_pktmbuf_mtod(pkts[i], const uint8_t *);
				uint32_t flow = be16_at(p + ETH_LEN + 18);

				if (pkts[i]->pkt_len != opt.size || pkts[i]->data_len < 42 ||
				    be16_at(p + 12) != TYPE_IPV4 || !ref_ip4_ok(p + ETH_LEN) ||
				    p[ETH_LEN + 16] != 198 || p[ETH_LEN + 17] != 19 ||
				    flow >= opt.flows ||
				    be16_at(p + ETH_LEN + IP4_LEN) != 1024 + flow) {
					bad++;
					continue;
				}
				if ((seen[flow / 8] & (1u << (flow % 8))) == 0)
					flows++;
				seen[flow / 8] |= (uint8_t)(1u << (flow % 8));
			}
			per_queue[q] += n;
			total += n;
			rte_pktmbuf_free_bulk(pkts, n);
		}
	}
	printf("flowgen: %" PRIu64 " frames, %u of %u flows, %" PRIu64 " malformed; per queue:",
	       total, flows, opt.flows, bad);
	for (q = 0; q < opt.queues; q++)
		printf(" %" PRIu64, per_queue[q]);
	printf("\n");
	if (bad != 0)
		FAIL("%" PRIu64 " frames were not flowgen's frames of %u bytes", bad, opt.size);
	if (flows != opt.flows)
		FAIL("%u of the %u flows arrived", flows, opt.flows);
	for (q = 0; q < opt.queues; q++) {
		if (per_queue[q] * opt.queues * 2 < total)
			FAIL("queue %u got %" PRIu64 " of %" PRIu64 " frames, under half its share",
			     q, per_queue[q], total);
	}
}

/* --- csum ---------------------------------------------------------------------------- */

/* One packet: its bytes as sent, and as they must arrive. */
struct csum_case {
	const char *what;
	uint8_t sent[MAX_FRAME], want[MAX_FRAME];
	uint16_t len;
};

/* Set every checksum of the IPv4 or IPv6 packet behind l2 bytes right, as the reference has it. */
static void
csum_fix(uint8_t *p, uint16_t l2, bool v6, uint16_t l3_len, uint8_t proto, uint32_t l4_len,
	 bool fragment)
{
	uint16_t off = proto == IPPROTO_TCP ? 16 : (proto == IPPROTO_UDP ? 6 : 2);

	if (!v6) {
		put16(p + l2 + 10, 0);
		put16(p + l2 + 10, (uint16_t)~ref_fold(ref_add(0, p + l2, l3_len)));
	}
	if (!fragment)
		ref_l4_set(p + l2, v6, proto, p + l2 + l3_len, l4_len, off);
}

/* A TCP or UDP segment of 'data' bytes after an IPv4 header with 'words' option words. */
static uint16_t
build_l4_v4(uint8_t *p, unsigned int tags, unsigned int words, uint8_t proto, uint16_t data)
{
	uint16_t hl = proto == IPPROTO_TCP ? 20 : 8, off, l4, i;
	unsigned int t;

	off = put_eth(p, &port_mac, &peer_mac, tags == 0 ? TYPE_IPV4 : TYPE_VLAN);
	for (t = 0; t < tags; t++) {
		put16(p + off, 7);
		put16(p + off + 2, TYPE_IPV4);
		off += VLAN_LEN;
	}
	off += put_ip4(p + off, words, (uint16_t)(IP4_LEN + words * 4 + hl + data), proto, ip_peer,
		       ip_port);
	l4 = off;
	memset(p + l4, 0, hl);
	put16(p + l4, 40000);
	put16(p + l4 + 2, proto == IPPROTO_TCP ? 80 : 53);
	if (proto == IPPROTO_TCP)
		p[l4 + 12] = 0x50;
	else
		put16(p + l4 + 4, (uint16_t)(hl + data));
	for (i = 0; i < data; i++)
		p[l4 + hl + i] = (uint8_t)(i ^ 0x5a);
	return (uint16_t)(l4 + hl + data);
}

static unsigned int
csum_cases(struct csum_case *c)
{
	unsigned int n = 0;
	uint16_t l2;

	/* UDP/IPv4, UDP checksum wrong. */
	c[n].what = "UDP/IPv4, wrong UDP checksum";
	c[n].len = build_l4_v4(c[n].sent, 0, 0, IPPROTO_UDP, 22);
	csum_fix(c[n].sent, ETH_LEN, false, IP4_LEN, IPPROTO_UDP, 30, false);
	memcpy(c[n].want, c[n].sent, c[n].len);
	c[n].sent[ETH_LEN + IP4_LEN + 6] ^= 0x21;
	n++;
	/* TCP/IPv4, IPv4 checksum wrong, TCP checksum 0 (wrong too: TCP has no "none"). */
	c[n].what = "TCP/IPv4, wrong IPv4 checksum, TCP checksum 0";
	c[n].len = build_l4_v4(c[n].sent, 0, 0, IPPROTO_TCP, 1000);
	memcpy(c[n].want, c[n].sent, c[n].len);
	csum_fix(c[n].want, ETH_LEN, false, IP4_LEN, IPPROTO_TCP, 1020, false);
	c[n].sent[ETH_LEN + 10] ^= 0x80;
	n++;
	/* TCP/IPv6 with a hop-by-hop header, TCP checksum wrong. */
	c[n].what = "TCP/IPv6 with a hop-by-hop header, wrong TCP checksum";
	l2 = put_eth(c[n].sent, &port_mac, &peer_mac, TYPE_IPV6);
	put_ip6(c[n].sent + l2, 8 + 20 + 100, 0);
	memset(c[n].sent + l2 + IP6_LEN, 0, 8 + 20 + 100);
	c[n].sent[l2 + IP6_LEN] = IPPROTO_TCP;
	c[n].sent[l2 + IP6_LEN + 2] = 1; /* PadN */
	c[n].sent[l2 + IP6_LEN + 3] = 4;
	c[n].sent[l2 + IP6_LEN + 8 + 12] = 0x50;
	c[n].len = l2 + IP6_LEN + 8 + 20 + 100;
	csum_fix(c[n].sent, l2, true, IP6_LEN + 8, IPPROTO_TCP, 120, false);
	memcpy(c[n].want, c[n].sent, c[n].len);
	c[n].sent[l2 + IP6_LEN + 8 + 17] ^= 0x0f;
	n++;
	/* UDP/IPv4 in a VLAN with IP options, all right. */
	c[n].what = "UDP/IPv4 in a VLAN with IPv4 options, right checksums";
	c[n].len = build_l4_v4(c[n].sent, 1, 2, IPPROTO_UDP, 64);
	csum_fix(c[n].sent, ETH_LEN + VLAN_LEN, false, IP4_LEN + 8, IPPROTO_UDP, 72, false);
	memcpy(c[n].want, c[n].sent, c[n].len);
	n++;
	/* ICMP echo request, ICMP checksum wrong. */
	c[n].what = "ICMP echo request, wrong ICMP checksum";
	c[n].len = build_ping(c[n].sent, 0, 0, 56, 0);
	memcpy(c[n].want, c[n].sent, c[n].len);
	c[n].sent[ETH_LEN + IP4_LEN + 2] ^= 0x44;
	n++;
	/* A large UDP datagram, right. */
	c[n].what = "UDP/IPv4 of 1400 data bytes, right checksums";
	c[n].len = build_l4_v4(c[n].sent, 0, 0, IPPROTO_UDP, 1400);
	csum_fix(c[n].sent, ETH_LEN, false, IP4_LEN, IPPROTO_UDP, 1408, false);
	memcpy(c[n].want, c[n].sent, c[n].len);
	n++;
	/* A first fragment: its IPv4 checksum is set, its UDP checksum left as it is. */
	c[n].what = "UDP/IPv4 first fragment, wrong IPv4 checksum";
	c[n].len = build_l4_v4(c[n].sent, 0, 0, IPPROTO_UDP, 200);
	put16(c[n].sent + ETH_LEN + 6, 0x2000);
	put16(c[n].sent + ETH_LEN + IP4_LEN + 6, 0x1234);
	memcpy(c[n].want, c[n].sent, c[n].len);
	csum_fix(c[n].want, ETH_LEN, false, IP4_LEN, IPPROTO_UDP, 208, true);
	n++;
	/* A short UDP datagram padded to 60 bytes, the padding not zero. */
	c[n].what = "UDP/IPv4 padded to 60 bytes, wrong UDP checksum";
	c[n].len = build_l4_v4(c[n].sent, 0, 0, IPPROTO_UDP, 4);
	csum_fix(c[n].sent, ETH_LEN, false, IP4_LEN, IPPROTO_UDP, 12, false);
	memset(c[n].sent + c[n].len, 0xee, 60 - c[n].len);
	c[n].len = 60;
	memcpy(c[n].want, c[n].sent, c[n].len);
	c[n].sent[ETH_LEN + IP4_LEN + 7] ^= 0x01;
	n++;
	return n;
}

/* Wrong checksums on arrival among csum_cases(): IPv4 headers and layer 4. */
#define CSUM_BAD_IP 2
#define CSUM_BAD_L4 5

static void
csum_both_ways(void)
{
	static struct csum_case cases[16];
	unsigned int n = csum_cases(cases), i;
	char what[160];

	for (i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "port 0 -> 1 (to a port without offloads): %s",
			 cases[i].what);
		exchange(what, front, cases[i].sent, cases[i].len, back, cases[i].want,
			 cases[i].len);
	}
	for (i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "port 1 -> 0 (to a port with TCP/UDP offload): %s",
			 cases[i].what);
		exchange(what, back, cases[i].sent, cases[i].len, front, cases[i].want,
			 cases[i].len);
	}
	printf("csum: sent %u packets each way, with %u wrong IPv4 and %u wrong layer-4 "
	       "checksums\n",
	       n, CSUM_BAD_IP, CSUM_BAD_L4);
}

/* --- set-up -------------------------------------------------------------------------- */

static struct vhu_port *
attach(const char *devstr, unsigned int queues)
{
	struct vhu_port_conf conf = {
		.mempool = pool,
		.nb_rxq = queues,
		.nb_txq = queues,
		.socket_id = SOCKET_ID_ANY,
	};
	struct vhu_port *p = vhu_port_attach(devstr, &conf);

	if (p == NULL)
		FAIL("cannot attach port %s: %s", devstr, rte_strerror(rte_errno));
	else if (vhu_port_start(p) != 0)
		FAIL("cannot start port %s (is its peer up?)", devstr);
	return p;
}

static bool
wait_link(struct vhu_port *p)
{
	double end = now() + LINK_S;

	while (!vhu_port_link_up(p)) {
		if (now() > end) {
			FAIL("port %s: no link within %u s", p->name, LINK_S);
			return false;
		}
		usleep(10000);
	}
	return true;
}

static int
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"mode", required_argument, NULL, 'm'},	    {"frontend", required_argument, NULL, 'f'},
		{"backend", required_argument, NULL, 'b'},  {"queues", required_argument, NULL, 'q'},
		{"flows", required_argument, NULL, 'F'},    {"size", required_argument, NULL, 's'},
		{"duration", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			opt.mode = optarg;
			break;
		case 'f':
			opt.frontend = optarg;
			break;
		case 'b':
			opt.backend = optarg;
			break;
		case 'q':
			opt.queues = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'F':
			opt.flows = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 's':
			opt.size = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			opt.duration = strtod(optarg, NULL);
			break;
		default:
			return -1;
		}
	}
	if (opt.mode == NULL || opt.frontend == NULL || opt.queues == 0 ||
	    opt.queues > MAX_QUEUES || opt.flows == 0 || opt.flows > 65536 || opt.size < 60 ||
	    opt.size > MAX_FRAME || (strcmp(opt.mode, "csum") == 0) != (opt.backend != NULL))
		return -1;
	return strcmp(opt.mode, "icmpecho") == 0 || strcmp(opt.mode, "flowgen") == 0 ||
			       strcmp(opt.mode, "csum") == 0 ?
		       0 :
		       -1;
}

int
main(int argc, char **argv)
{
	int n = rte_eal_init(argc, argv);

	if (n < 0) {
		fprintf(stderr, "cannot initialise EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argv[n] = argv[0];
	if (parse_args(argc - n, argv + n) != 0) {
		fprintf(stderr,
			"usage: %s [EAL options] -- --mode icmpecho|flowgen|csum --frontend DEVSTR\n"
			"       [--backend DEVSTR (csum)] [--queues N] [--flows N] [--size N]\n"
			"       [--duration S]\n",
			argv[0]);
		rte_eal_cleanup();
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	pool = rte_pktmbuf_pool_create("engine_peer", 8192, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL) {
		FAIL("cannot create a mbuf pool: %s", rte_strerror(rte_errno));
		goto out;
	}
	/* The backend first: vhu-pmd's virtio-user port connects to it when it starts. */
	if (opt.backend != NULL && (back = attach(opt.backend, 1)) == NULL)
		goto out;
	front = attach(opt.frontend, opt.queues);
	if (front == NULL || !front->started || !wait_link(front) ||
	    (back != NULL && !wait_link(back)))
		goto out;
	if (strcmp(opt.mode, "icmpecho") == 0) {
		icmpecho_arp();
		icmpecho_pings();
	} else if (strcmp(opt.mode, "flowgen") == 0) {
		flowgen_receive();
	} else {
		csum_both_ways();
	}
out:
	if (front != NULL) {
		vhu_port_stop(front);
		vhu_port_detach(front);
	}
	if (back != NULL) {
		vhu_port_stop(back);
		vhu_port_detach(back);
	}
	rte_mempool_free(pool);
	rte_eal_cleanup();
	printf("%s\n", failures == 0 ? "PASS" : "FAIL");
	return failures == 0 ? 0 : 1;
}
