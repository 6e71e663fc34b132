/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-user port's bursts on queue numbers it does not have: vhu's
 * front-end of one queue pair, running against vhu's backend in this
 * process (perf_pair.h), is asked to send and receive on queue 1 (its queue
 * count) and on queue UINT16_MAX. Each call returns 0, leaving the caller's
 * mbufs alone, and queue 0 carries traffic before and after. A fault there
 * (the ring array read at the bad index) fails the test, not the run
 * (test_harness.c). The front-end is not port 0 (a ring port is made
 * first), and what it receives carries its id, from the first lap of the
 * ring on.
 *
 * On the real device a read past dev->vq[] (queue UINT16_MAX: a megabyte
 * past it) lands in whatever DPDK's heap holds there, which need not fault,
 * and AddressSanitizer does not watch that heap (DPDK as packaged is built
 * without RTE_MALLOC_ASAN). So the bad queues are also tried on a copy of
 * the device's state with nothing mapped after it, where such a read
 * always faults.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "perf_pair.h"
#include "test_harness.h"
#include "unit_eal.h"

#define BURST 8

static struct perf_pair pair;
static struct vhu_port *port0; /* a ring port, so that the front-end's id is not 0 */

/* The pair, opened once for the process (the harness runs the tests in order). */
static void
pair_open(void)
{
	struct vhu_port_conf conf = {
		.mempool = unit_pool(4 * BURST),
		.nb_rxq = 1,
		.nb_txq = 1,
		.socket_id = SOCKET_ID_ANY,
	};
	static bool opened;
	char path[64];

	if (opened)
		return;
	port0 = vhu_port_attach("ring,name=vu_queues0", &conf);
	ASSERT_TRUE(port0 != NULL);
	snprintf(path, sizeof(path), "/tmp/vhu-vu-queues-%d.sock", (int)getpid());
	if (perf_pair_open(&pair, PERF_VHU, path, "mrg_rxbuf=0", unit_pool(0)) != 0)
		th_fail(__FILE__, __LINE__, "the in-process pair on %s did not come up", path);
	ASSERT_NE(pair.front->id, 0);
	opened = true;
}

/* BURST 64-byte frames from the guest's shared pool, frame i filled with byte i. */
static void
frames(struct rte_mbuf **pkts)
{
	unsigned int i;

	ASSERT_EQ(rte_pktmbuf_alloc_bulk(pair.front->mempool, pkts, BURST), 0);
	for (i = 0; i < BURST; i++)
		memset(rte_pktmbuf_append(pkts[i], 64), (int)i, 64);
}

/* Guest to host on queue 0: all BURST frames reach the backend. */
static void
g2h_works(void)
{
	struct rte_mbuf *pkts[BURST], *got[BURST];
	uint16_t n = 0;
	unsigned int tries;

	frames(pkts);
	ASSERT_EQ(vhu_port_tx_burst(pair.front, 0, pkts, BURST), BURST);
	for (tries = 0; n < BURST && tries < 1000; tries++) {
		n += perf_pair_dequeue(&pair, unit_pool(0), got + n, BURST - n);
		if (n < BURST)
			usleep(100);
	}
	ASSERT_EQ(n, BURST);
	rte_pktmbuf_free_bulk(got, n);
}

/* Host to guest on queue 0: all BURST frames reach the front-end. */
static void
h2g_works(void)
{
	struct rte_mbuf *pkts[BURST], *got[BURST];
	uint16_t n = 0, sent;
	unsigned int tries;

	ASSERT_EQ(rte_pktmbuf_alloc_bulk(unit_pool(0), pkts, BURST), 0);
	for (n = 0; n < BURST; n++)
		memset(rte_pktmbuf_append(pkts[n], 64), (int)n, 64);
	sent = perf_pair_enqueue(&pair, pkts, BURST);
	rte_pktmbuf_free_bulk(pkts, BURST); /* the backend copied what it took */
	ASSERT_EQ(sent, BURST);
	for (n = 0, tries = 0; n < BURST && tries < 1000; tries++) {
		n += vhu_port_rx_burst(pair.front, 0, got + n, BURST - n);
		if (n < BURST)
			usleep(100);
	}
	ASSERT_EQ(n, BURST);
	for (n = 0; n < BURST; n++) {
		ASSERT_EQ(got[n]->port, pair.front->id);
		ASSERT_EQ(got[n]->pkt_len, 64);
		ASSERT_EQ(*rte_pktmbuf_mtod_offset(got[n], uint8_t *, 63), n);
	}
	rte_pktmbuf_free_bulk(got, BURST);
}

static void
bad_queue(uint16_t queue)
{
	struct rte_mbuf *pkts[BURST], *got[BURST];
	unsigned int i;

	pair_open();
	ASSERT_EQ(pair.front->nb_rxq, 1);
	ASSERT_EQ(pair.front->max_rxq, 1);
	g2h_works();
	h2g_works();

	/* Sending: refused whole, the caller keeps every mbuf as it was. */
	frames(pkts);
	ASSERT_EQ(vhu_port_tx_burst(pair.front, queue, pkts, BURST), 0);
	for (i = 0; i < BURST; i++) {
		ASSERT_EQ(rte_mbuf_refcnt_read(pkts[i]), 1);
		ASSERT_EQ(pkts[i]->pkt_len, 64);
	}
	rte_pktmbuf_free_bulk(pkts, BURST);
	/* Receiving, with a frame waiting on queue 0: nothing, and the frame stays there. */
	ASSERT_EQ(rte_pktmbuf_alloc_bulk(unit_pool(0), pkts, 1), 0);
	rte_pktmbuf_append(pkts[0], 64);
	ASSERT_EQ(perf_pair_enqueue(&pair, pkts, 1), 1);
	rte_pktmbuf_free(pkts[0]);
	usleep(1000);
	ASSERT_EQ(vhu_port_rx_burst(pair.front, queue, got, BURST), 0);
	for (i = 0; i < 1000 && vhu_port_rx_burst(pair.front, 0, got, 1) == 0; i++)
		usleep(100);
	ASSERT_TRUE(i < 1000);
	rte_pktmbuf_free(got[0]);

	g2h_works();
	h2g_works();
}

TEST(bursts_on_queue_nb_queues_return_0)
{
	bad_queue(1);
}

TEST(bursts_on_queue_uint16_max_return_0)
{
	bad_queue(UINT16_MAX);
}

/*
 * Bursts on queue UINT16_MAX and 1 of a copy of the front-end's driver
 * state (its device) that ends its mapping, with unmapped memory after it
 * as far as any queue's ring pointer could lie (the device's ring array,
 * inside the state, at 2 * UINT16_MAX + 1), through a copy of the port that
 * points at it: each returns 0 having read nothing past the ring array (a
 * read past the state faults, which fails the test; queue 1's slot is in
 * the array and NULL, so using it faults too), and the mbufs stay the
 * caller's.
 */
TEST(bursts_on_bad_queues_read_nothing_past_the_ring_array)
{
	static const uint16_t bad[] = { UINT16_MAX, 1 };
	size_t page = (size_t)sysconf(_SC_PAGESIZE), size, body, guard;
	struct rte_mbuf *pkts[BURST], *got[BURST];
	static struct vhu_port port;
	unsigned int i, q;
	uint8_t *map, *dev;

	pair_open();
	ASSERT_EQ(pair.front->max_rxq, 1);
	size = pair.front->ops->priv_size;
	body = RTE_ALIGN_CEIL(size, page);
	/* The ring array lies inside the state: its entry 2 * UINT16_MAX + 1 ends
	 * less than this far past the state's end. */
	guard = RTE_ALIGN_CEIL((2u * UINT16_MAX + 2) * sizeof(void *), page);
	map = mmap(NULL, body + guard, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(map != MAP_FAILED);
	ASSERT_EQ(mprotect(map, body, PROT_READ | PROT_WRITE), 0);
	dev = map + body - RTE_ALIGN_CEIL(size, RTE_CACHE_LINE_SIZE);
	memcpy(dev, pair.front->priv, size);
	memcpy(&port, pair.front, sizeof(port));
	port.priv = dev;

	frames(pkts);
	for (q = 0; q < RTE_DIM(bad); q++) {
		ASSERT_EQ(vhu_port_tx_burst(&port, bad[q], pkts, BURST), 0);
		ASSERT_EQ(vhu_port_rx_burst(&port, bad[q], got, BURST), 0);
		for (i = 0; i < BURST; i++) {
			ASSERT_EQ(rte_mbuf_refcnt_read(pkts[i]), 1);
			ASSERT_EQ(pkts[i]->pkt_len, 64);
		}
	}
	rte_pktmbuf_free_bulk(pkts, BURST);
	munmap(map, body + guard);
}

/* Last by file order: the pair goes away with the process's sockets. */
TEST(the_pair_closes)
{
	pair_open();
	perf_pair_close(&pair);
	vhu_port_detach(port0);
}
