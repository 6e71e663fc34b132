/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A single-threaded loop of net bursts against the synthetic guest: the
 * driver posts a burst's worth of buffers, the backend takes them, the driver
 * takes the used entries back; again and again, on one ring, for split and
 * packed, both directions, 64 and 1518 bytes.
 *
 * Each case is a unit test (every packet arrives, byte for byte) and, run
 * under callgrind with collection only inside the bursts, the measure of
 * instructions per packet that a change to the data path must not raise:
 *
 *   VHU_BENCH_BURSTS=20000 valgrind --tool=callgrind \
 *     --toggle-collect='vhu_vhost_*_burst' build/test/unit/bench_burst split_tx_64
 *
 * and divide the Ir total by 32 * VHU_BENCH_BURSTS (scripts/bench-burst.sh
 * does it for every case).
 */
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "fake_dev.h"
#include "guest.h"
#include "test_harness.h"
#include "unit_eal.h"

#define REGION_SIZE (2u * 1024 * 1024)
#define RING_SIZE   256
#define BURST	    32
#define HDR	    12
#define BUF_LEN	    2048

struct bench {
	struct guest g;
	struct vhu_vhost_dev *dev;
	struct packed_drv pd;
	struct rte_mempool *mp;
	bool packed;
	bool tx;			 /* guest TX (dequeue); else guest RX (enqueue) */
	uint32_t len;			 /* packet bytes, without the header */
	uint64_t buf[RING_SIZE];	 /* a guest buffer per descriptor */
	uint16_t used_seen;		 /* split: used->idx as the driver last read it */
	struct rte_mbuf *rx_pkts[BURST]; /* RX: the packets enqueued every burst */
};

struct bench_case {
	const char *name;
	bool packed;
	bool tx;
	uint32_t len;
};

static const struct bench_case cases[] = {
	{"split_tx_64", false, true, 64},  {"split_tx_1518", false, true, 1518},
	{"split_rx_64", false, false, 64}, {"split_rx_1518", false, false, 1518},
	{"packed_tx_64", true, true, 64},  {"packed_tx_1518", true, true, 1518},
	{"packed_rx_64", true, false, 64}, {"packed_rx_1518", true, false, 1518},
};

static unsigned int
bench_bursts(void)
{
	const char *s = getenv("VHU_BENCH_BURSTS");

	return s != NULL && atoi(s) > 0 ? (unsigned int)atoi(s) : 200;
}

static void
payload(uint8_t *p, uint32_t len, uint32_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 13);
}

static void
bench_init(struct bench *b, const struct bench_case *c)
{
	struct vhu_vq *vq;
	uint16_t i;

	memset(b, 0, sizeof(*b));
	b->mp = unit_pool(1023);
	b->packed = c->packed;
	b->tx = c->tx;
	b->len = c->len;
	guest_init(&b->g, 1, REGION_SIZE);
	b->dev = fake_dev_new(1, 0);
	vq = b->dev->vq[b->tx ? 1 : 0];
	if (b->packed)
		guest_packed_ring_init(&b->g, vq, RING_SIZE, &b->pd);
	else
		guest_ring_init(&b->g, vq, RING_SIZE);
	for (i = 0; i < RING_SIZE; i++) {
		b->buf[i] = guest_alloc(&b->g, BUF_LEN, 64);
		if (b->tx) {
			uint8_t *p = guest_ptr(&b->g, b->buf[i]);

			memset(p, 0, HDR);
			payload(p + HDR, b->len, i);
		}
	}
	if (!b->tx) {
		for (i = 0; i < BURST; i++) {
			b->rx_pkts[i] = rte_pktmbuf_alloc(b->mp);
			ASSERT_TRUE(b->rx_pkts[i] != NULL);
			payload((uint8_t *)rte_pktmbuf_append(b->rx_pkts[i], (uint16_t)b->len),
				b->len, i);
		}
	}
}

static void
bench_fini(struct bench *b)
{
	uint16_t i;

	if (!b->tx)
		for (i = 0; i < BURST; i++)
			rte_pktmbuf_free(b->rx_pkts[i]);
	fake_dev_free(b->dev);
	guest_fini(&b->g);
}

/* Driver: post a burst of buffers, one descriptor each. */
static void
bench_post(struct bench *b, struct vhu_vq *vq)
{
	uint16_t flags = b->tx ? 0 : VRING_DESC_F_WRITE;
	uint32_t len = b->tx ? HDR + b->len : BUF_LEN;
	uint16_t i;

	for (i = 0; i < BURST; i++) {
		if (b->packed) {
			struct vring_packed_desc d = {
				.addr = b->buf[b->pd.avail_idx],
				.len = len,
				.id = b->pd.avail_idx,
				.flags = flags,
			};

			pdrv_post(&b->pd, &d, 1);
		} else {
			uint16_t slot = vq->avail->idx & (RING_SIZE - 1);

			drv_desc(vq, slot, b->buf[slot], len, flags, 0);
			drv_avail(vq, slot);
		}
	}
}

/* Driver: take the burst's used entries back; returns how many. */
static uint16_t
bench_reap(struct bench *b, struct vhu_vq *vq, uint32_t want_len)
{
	uint16_t n = 0, id;
	uint32_t len;

	if (b->packed) {
		while (pdrv_take_used(&b->pd, &id, &len)) {
			ASSERT_EQ(len, want_len);
			n++;
		}
		return n;
	}
	while (b->used_seen != __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE)) {
		ASSERT_EQ(vq->used->ring[b->used_seen & (RING_SIZE - 1)].len, want_len);
		b->used_seen++;
		n++;
	}
	return n;
}

static void
bench_run(const void *arg)
{
	const struct bench_case *c = arg;
	unsigned int bursts = bench_bursts(), k;
	struct rte_mbuf *pkts[BURST];
	struct bench b;
	struct vhu_vq *vq;
	uint16_t n, i;

	bench_init(&b, c);
	vq = b.dev->vq[b.tx ? 1 : 0];
	for (k = 0; k < bursts; k++) {
		bench_post(&b, vq);
		if (b.tx) {
			n = vhu_vhost_dequeue_burst(b.dev, 0, b.mp, pkts, BURST);
			ASSERT_EQ(n, BURST);
			for (i = 0; i < n; i++) {
				ASSERT_EQ(pkts[i]->pkt_len, b.len);
				if (k == bursts - 1 && i == 0) {
					uint8_t want[2048];

					payload(want, b.len, 0);
					ASSERT_TRUE(rte_pktmbuf_read(pkts[i], 0, b.len, want) !=
						    NULL);
				}
			}
			rte_pktmbuf_free_bulk(pkts, n);
			ASSERT_EQ(bench_reap(&b, vq, 0), BURST);
		} else {
			n = vhu_vhost_enqueue_burst(b.dev, 0, b.rx_pkts, BURST);
			ASSERT_EQ(n, BURST);
			ASSERT_EQ(bench_reap(&b, vq, HDR + b.len), BURST);
		}
	}
	ASSERT_FALSE(vq->broken);
	if (!b.tx) {
		/* The last burst's first packet, behind its header. */
		uint16_t slot =
			b.packed ? (uint16_t)((b.pd.used_idx + RING_SIZE - BURST) % RING_SIZE)
				 : (uint16_t)((b.used_seen - BURST) & (RING_SIZE - 1));
		uint8_t want[2048];

		payload(want, b.len, 0);
		ASSERT_MEM_EQ((uint8_t *)guest_ptr(&b.g, b.buf[slot]) + HDR, want, b.len);
	}
	bench_fini(&b);
}

__attribute__((constructor)) static void
bench_register(void)
{
	size_t i;

	for (i = 0; i < RTE_DIM(cases); i++)
		th_register_arg(__FILE__, __LINE__, cases[i].name, bench_run, &cases[i]);
}
