/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A steady loop of net bursts on one split ring pair, for counting what a
 * burst costs: each turn polls both rings empty VHU_LOOP_EMPTY times (default
 * 1), then has the guest send 32 packets of 64 bytes and post 32 receive
 * buffers, and moves them with one dequeue and one enqueue burst. As a unit
 * test it checks that every packet went through; under callgrind it gives
 * the instructions per burst:
 *
 *   VHU_LOOP_TURNS=10000 VHU_LOOP_EMPTY=1 valgrind --tool=callgrind \
 *       --toggle-collect=vhu_vhost_dequeue_burst build/test/unit/test_burst_loop
 *
 * callgrind_annotate's total is then what 10000 empty and 10000 full bursts
 * cost; run again with VHU_LOOP_EMPTY=11, and the difference over 100000 is
 * one empty burst. The same with vhu_vhost_enqueue_burst.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "fake_dev.h"
#include "guest.h"
#include "test_harness.h"
#include "unit_eal.h"

#define RING  256
#define BURST 32
#define PKT   64
#define HDR   12

/* The count in environment variable 'name', or 'dflt' if unset or out of range. */
static unsigned int
env_count(const char *name, unsigned int dflt)
{
	const char *s = getenv(name);
	unsigned long n = s != NULL ? strtoul(s, NULL, 10) : 0;

	return n > 0 && n < 100000000 ? (unsigned int)n : dflt;
}

TEST(bursts_in_a_loop_move_every_packet)
{
	struct rte_mempool *mp = unit_pool(255);
	struct rte_mbuf *out[BURST], *in[BURST];
	uint64_t txbuf[BURST], rxbuf[BURST];
	unsigned int turns = env_count("VHU_LOOP_TURNS", 200), t, k, moved = 0;
	unsigned int empty = env_count("VHU_LOOP_EMPTY", 1), e;
	struct vhu_vhost_dev *dev;
	struct guest g;
	uint16_t desc = 0;

	/* As vhu_vhost_create() does: bursts fence only if membarrier is missing. */
	vhu_handoff_init();
	guest_init(&g, 1, 1 << 20);
	dev = fake_dev_new(1, 0);
	guest_ring_init(&g, dev->vq[0], RING);
	guest_ring_init(&g, dev->vq[1], RING);
	for (k = 0; k < BURST; k++) {
		txbuf[k] = guest_alloc(&g, HDR + PKT, 64);
		rxbuf[k] = guest_alloc(&g, 2048, 64);
		memset(guest_ptr(&g, txbuf[k]), 0, HDR + PKT);
		out[k] = rte_pktmbuf_alloc(mp);
		ASSERT_NOT_NULL(out[k]);
		ASSERT_NOT_NULL(rte_pktmbuf_append(out[k], PKT));
		memset(rte_pktmbuf_mtod(out[k], void *), k, PKT);
	}
	for (t = 0; t < turns; t++) {
		uint16_t n;

		for (e = 0; e < empty; e++) {
			ASSERT_EQ(vhu_vhost_dequeue_burst(dev, 0, mp, in, BURST), 0);
			ASSERT_EQ(vhu_vhost_enqueue_burst(dev, 0, out, BURST), 0);
		}
		for (k = 0; k < BURST; k++, desc = (uint16_t)((desc + 1) % RING)) {
			drv_desc(dev->vq[1], desc, txbuf[k], HDR + PKT, 0, 0);
			drv_avail(dev->vq[1], desc);
			drv_desc(dev->vq[0], desc, rxbuf[k], 2048, VRING_DESC_F_WRITE, 0);
			drv_avail(dev->vq[0], desc);
		}
		n = vhu_vhost_dequeue_burst(dev, 0, mp, in, BURST);
		ASSERT_EQ(n, BURST);
		rte_pktmbuf_free_bulk(in, n);
		ASSERT_EQ(vhu_vhost_enqueue_burst(dev, 0, out, BURST), BURST);
		moved += 2 * BURST;
	}
	ASSERT_EQ(moved, 2 * BURST * turns);
	ASSERT_EQ(dev->vq[0]->used->idx, (uint16_t)(BURST * turns));
	rte_pktmbuf_free_bulk(out, BURST);
	fake_dev_free(dev);
	guest_fini(&g);
}
