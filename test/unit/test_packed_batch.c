/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packed ring's batch path (VHU_PACKED_BATCH in virtq_packed.h, used by
 * vhost_net_packed.c): four single-descriptor chains that share a cache
 * line of the ring go through together. Whatever mix of batchable and other
 * slots the driver posts, the guest must see exactly what the one-by-one
 * path gives it: used descriptors in ring order with their ids and lengths,
 * headers and bytes in the buffers, the wrap counters right across the end
 * of a ring whose size is not a multiple of four. And the batch path must
 * actually be taken where it can be (stats.batched).
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "fake_dev.h"
#include "guest.h"
#include "test_harness.h"
#include "unit_eal.h"
#include "vhost_log.h"
#include "vhu_vhost.h"
#include "virtq_packed.h"

/* Built twice (meson.build): the second build must test the portable read. */
#if defined(VHU_PACKED_READ_PORTABLE) && defined(VHU_PACKED_READ_TAIL_WHOLE)
#error "VHU_PACKED_READ_PORTABLE did not select the portable batch read of virtq_packed.h"
#endif

#define REGION_SIZE (256 * 1024)
#define NBUF 24			/* buffers the tests may post */
#define BUF_LEN 2048
#define HDR 12			/* virtio_net_hdr_mrg_rxbuf (VERSION_1) */
#define ID0 100			/* buffer ids: ID0 + buffer, unlike the slots */

struct pb {
	struct guest g;
	struct vhu_vhost_dev *dev;
	struct vhu_vq *vq;		/* the ring under test: rx (0) or tx (1) */
	struct packed_drv d;
	struct rte_mempool *mp;
	unsigned int pool_free;
	uint64_t gpa[NBUF];
};

static void
pb_init(struct pb *x, bool tx, uint16_t size)
{
	unsigned int i;

	memset(x, 0, sizeof(*x));
	x->mp = unit_pool(511);
	x->pool_free = rte_mempool_avail_count(x->mp);
	guest_init(&x->g, 1, REGION_SIZE);
	x->dev = fake_dev_new(1, 0);
	x->dev->features = VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VIRTIO_F_RING_PACKED);
	x->dev->features_set = true;
	x->dev->mem = guest_mem_copy(&x->g);
	x->vq = x->dev->vq[tx ? 1 : 0];
	guest_packed_ring_init(&x->g, x->vq, size, &x->d);
	vhu_net_q(x->vq)->features = x->dev->features;
	x->vq->dev = x->dev;
	for (i = 0; i < NBUF; i++) {
		x->gpa[i] = guest_alloc(&x->g, BUF_LEN, 64);
		memset(guest_ptr(&x->g, x->gpa[i]), 0xee, BUF_LEN);
	}
}

static void
pb_fini(struct pb *x)
{
	ASSERT_FALSE(x->vq->broken);
	fake_dev_free(x->dev);
	guest_fini(&x->g);
	ASSERT_EQ(rte_mempool_avail_count(x->mp), x->pool_free);
}

static void
fill(uint8_t *p, uint32_t len, uint8_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* Post buffer b alone (one descriptor), writable for rx, holding 'len' bytes for tx. */
static void
post_one(struct pb *x, unsigned int b, uint32_t len, bool writable)
{
	struct vring_packed_desc d = {
		.addr = x->gpa[b],
		.len = len,
		.id = (uint16_t)(ID0 + b),
		.flags = writable ? VRING_DESC_F_WRITE : 0,
	};

	pdrv_post(&x->d, &d, 1);
}

/* Post buffers b and b+1 as one chain of two descriptors, each 'len' bytes. */
static void
post_chain(struct pb *x, unsigned int b, uint32_t len, bool writable)
{
	uint16_t w = writable ? VRING_DESC_F_WRITE : 0;
	struct vring_packed_desc d[2] = {
		{ .addr = x->gpa[b], .len = len, .id = 0, .flags = w | VRING_DESC_F_NEXT },
		{ .addr = x->gpa[b + 1], .len = len, .id = (uint16_t)(ID0 + b), .flags = w },
	};

	pdrv_post(&x->d, d, 2);
}

/* Driver: the next used descriptor must be buffer b's, 'len' bytes. */
static void
expect_used(struct pb *x, unsigned int b, uint32_t len)
{
	uint16_t id;
	uint32_t l;

	if (!pdrv_take_used(&x->d, &id, &l))
		th_fail(__FILE__, __LINE__, "no used descriptor for buffer %u", b);
	ASSERT_EQ(id, ID0 + b);
	ASSERT_EQ(l, len);
}

static void
expect_no_used(struct pb *x)
{
	uint16_t id;
	uint32_t l;

	ASSERT_FALSE(pdrv_take_used(&x->d, &id, &l));
}

/* A one-segment packet of 'len' pattern bytes (seed), or two segments if 'two'. */
static struct rte_mbuf *
mk_pkt(struct pb *x, uint16_t len, uint8_t seed, bool two)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(x->mp);
	uint8_t want[BUF_LEN];
	uint16_t first = two ? len / 2 : len;
	uint8_t *p;

	ASSERT_NOT_NULL(m);
	fill(want, len, seed);
	p = (uint8_t *)rte_pktmbuf_append(m, first);
	ASSERT_NOT_NULL(p);
	memcpy(p, want, first);
	if (two) {
		struct rte_mbuf *s = rte_pktmbuf_alloc(x->mp);

		ASSERT_NOT_NULL(s);
		p = (uint8_t *)rte_pktmbuf_append(s, len - first);
		ASSERT_NOT_NULL(p);
		memcpy(p, want + first, len - first);
		ASSERT_EQ(rte_pktmbuf_chain(m, s), 0);
	}
	return m;
}

/* Buffer b holds a header with num_buffers 1 and 'len' pattern bytes (seed), then 0xee. */
static void
expect_rx_bytes(struct pb *x, unsigned int b, uint16_t len, uint8_t seed)
{
	const uint8_t *p = guest_ptr(&x->g, x->gpa[b]);
	struct virtio_net_hdr_mrg_rxbuf hdr, zero;
	uint8_t want[BUF_LEN];

	memcpy(&hdr, p, sizeof(hdr));
	memset(&zero, 0, sizeof(zero));
	zero.num_buffers = 1;
	ASSERT_MEM_EQ(&hdr, &zero, sizeof(hdr));
	fill(want, len, seed);
	ASSERT_MEM_EQ(p + HDR, want, len);
	ASSERT_EQ(p[HDR + len], 0xee);
}

/* Enqueue pkts[0..n) and expect 'accepted'; the caller's references are freed. */
static void
enqueue(struct pb *x, struct rte_mbuf **pkts, uint16_t n, uint16_t accepted)
{
	uint16_t got = vhu_vhost_enqueue_burst(x->dev, 0, pkts, n);

	ASSERT_EQ(got, accepted);
	rte_pktmbuf_free_bulk(pkts, n); /* the backend copied what it accepted */
}

/* Eight buffers in two aligned runs: both batches, in order, bytes right. */
TEST(rx_aligned_runs_take_the_batch)
{
	struct rte_mbuf *pkts[8];
	unsigned int i;
	struct pb x;

	pb_init(&x, false, 16);
	for (i = 0; i < 8; i++)
		post_one(&x, i, BUF_LEN, true);
	for (i = 0; i < 8; i++)
		pkts[i] = mk_pkt(&x, (uint16_t)(60 + i), (uint8_t)i, false);
	enqueue(&x, pkts, 8, 8);
	ASSERT_EQ(x.vq->stats.batched, 8);
	for (i = 0; i < 8; i++) {
		expect_used(&x, i, HDR + 60 + i);
		expect_rx_bytes(&x, i, (uint16_t)(60 + i), (uint8_t)i);
	}
	expect_no_used(&x);
	pb_fini(&x);
}

/*
 * Singles at slots 0-1, a two-descriptor chain at 2-3, singles at 4-7: the
 * first run is not a batch (it holds a chain), the second is; one packet per
 * chain, in order.
 */
TEST(rx_chain_in_a_run_goes_one_by_one)
{
	struct rte_mbuf *pkts[7];
	unsigned int i;
	struct pb x;

	pb_init(&x, false, 16);
	post_one(&x, 0, BUF_LEN, true);
	post_one(&x, 1, BUF_LEN, true);
	post_chain(&x, 2, BUF_LEN, true);
	for (i = 4; i < 8; i++)
		post_one(&x, i, BUF_LEN, true);
	for (i = 0; i < 7; i++)
		pkts[i] = mk_pkt(&x, 64, (uint8_t)(10 + i), false);
	enqueue(&x, pkts, 7, 7);
	ASSERT_EQ(x.vq->stats.batched, 4);
	expect_used(&x, 0, HDR + 64);
	expect_used(&x, 1, HDR + 64);
	expect_used(&x, 2, HDR + 64);	/* the chain: its id, the bytes in its first buffer */
	for (i = 4; i < 8; i++)
		expect_used(&x, i, HDR + 64);
	expect_no_used(&x);
	expect_rx_bytes(&x, 0, 64, 10);
	expect_rx_bytes(&x, 2, 64, 12);
	expect_rx_bytes(&x, 7, 64, 16);
	pb_fini(&x);
}

/* A two-segment packet, or a buffer too small for its packet, keeps the run out of the batch. */
TEST(rx_segments_or_small_buffer_go_one_by_one)
{
	struct rte_mbuf *pkts[8];
	unsigned int i;
	struct pb x;

	pb_init(&x, false, 16);
	for (i = 0; i < 8; i++)
		post_one(&x, i, i == 6 ? HDR + 32 : BUF_LEN, true);
	for (i = 0; i < 8; i++)
		pkts[i] = mk_pkt(&x, 100, (uint8_t)(20 + i), i == 1);
	/* Buffer 6 cannot hold packet 6 and MRG_RXBUF is off: the burst stops there. */
	enqueue(&x, pkts, 8, 6);
	ASSERT_EQ(x.vq->stats.batched, 0);
	for (i = 0; i < 6; i++) {
		expect_used(&x, i, HDR + 100);
		expect_rx_bytes(&x, i, 100, (uint8_t)(20 + i));
	}
	expect_no_used(&x);
	pb_fini(&x);
}

/*
 * A packet that asks for a checksum offload (the guest took GUEST_CSUM) does
 * not keep its run out of the batch: its buffer gets the header that asks
 * the guest to finish the checksum, its neighbours the plain one.
 */
TEST(rx_offload_packet_in_a_run_gets_its_header)
{
	struct virtio_net_hdr_mrg_rxbuf hdr;
	struct rte_mbuf *pkts[4];
	unsigned int i;
	struct pb x;

	pb_init(&x, false, 16);
	x.dev->features |= VHU_BIT(VIRTIO_NET_F_CSUM) | VHU_BIT(VIRTIO_NET_F_GUEST_CSUM);
	vhu_net_q(x.vq)->features = x.dev->features;
	vhu_net_q(x.vq)->offload = true;
	for (i = 0; i < 4; i++)
		post_one(&x, i, BUF_LEN, true);
	for (i = 0; i < 4; i++)
		pkts[i] = mk_pkt(&x, 100, (uint8_t)(60 + i), false);
	pkts[2]->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4;
	pkts[2]->l2_len = 14;
	pkts[2]->l3_len = 20;
	enqueue(&x, pkts, 4, 4);
	ASSERT_EQ(x.vq->stats.batched, 4);
	for (i = 0; i < 4; i++) {
		expect_used(&x, i, HDR + 100);
		if (i != 2)
			expect_rx_bytes(&x, i, 100, (uint8_t)(60 + i));
	}
	memcpy(&hdr, guest_ptr(&x.g, x.gpa[2]), sizeof(hdr));
	ASSERT_EQ(hdr.hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ASSERT_EQ(hdr.hdr.csum_start, 34);
	ASSERT_EQ(hdr.hdr.csum_offset, 16);
	ASSERT_EQ(hdr.num_buffers, 1);
	expect_no_used(&x);
	pb_fini(&x);
}

/*
 * A packet whose checksum is already good reaches a GUEST_CSUM guest with
 * DATA_VALID in its header when it goes through the batch too (as it does
 * one by one, and on a split ring); its neighbours get the plain header.
 */
TEST(rx_checksum_good_packet_in_a_run_gets_data_valid)
{
	struct virtio_net_hdr_mrg_rxbuf hdr;
	struct rte_mbuf *pkts[4];
	uint8_t want[100];
	unsigned int i;
	struct pb x;

	pb_init(&x, false, 16);
	x.dev->features |= VHU_BIT(VIRTIO_NET_F_CSUM) | VHU_BIT(VIRTIO_NET_F_GUEST_CSUM);
	vhu_net_q(x.vq)->features = x.dev->features;
	vhu_net_q(x.vq)->offload = true;
	for (i = 0; i < 4; i++)
		post_one(&x, i, BUF_LEN, true);
	for (i = 0; i < 4; i++)
		pkts[i] = mk_pkt(&x, 100, (uint8_t)(80 + i), false);
	pkts[1]->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	enqueue(&x, pkts, 4, 4);
	ASSERT_EQ(x.vq->stats.batched, 4);
	for (i = 0; i < 4; i++) {
		expect_used(&x, i, HDR + 100);
		if (i != 1)
			expect_rx_bytes(&x, i, 100, (uint8_t)(80 + i));
	}
	memcpy(&hdr, guest_ptr(&x.g, x.gpa[1]), sizeof(hdr));
	ASSERT_EQ(hdr.hdr.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	ASSERT_EQ(hdr.hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	ASSERT_EQ(hdr.num_buffers, 1);
	fill(want, sizeof(want), 81);
	ASSERT_MEM_EQ((const uint8_t *)guest_ptr(&x.g, x.gpa[1]) + HDR, want, sizeof(want));
	expect_no_used(&x);
	pb_fini(&x);
}

/* The flags of the used descriptor the driver reads next. */
static uint16_t
next_used_flags(const struct pb *x)
{
	return __atomic_load_n(&x->vq->desc_packed[x->d.used_idx].flags, __ATOMIC_ACQUIRE);
}

/*
 * A used descriptor says whether the device wrote into its buffer (virtio
 * 1.2, 2.8 "Write Flag"; without WRITE a driver ignores the length): every
 * receive buffer filled, batched (slots 0-3) or one by one (4-5), has it.
 */
TEST(rx_used_descriptors_carry_write)
{
	struct rte_mbuf *pkts[6];
	unsigned int i;
	struct pb x;

	pb_init(&x, false, 16);
	for (i = 0; i < 6; i++)
		post_one(&x, i, BUF_LEN, true);
	for (i = 0; i < 6; i++)
		pkts[i] = mk_pkt(&x, 64, (uint8_t)i, false);
	enqueue(&x, pkts, 6, 6);
	ASSERT_EQ(x.vq->stats.batched, 4);
	for (i = 0; i < 6; i++) {
		ASSERT_TRUE((next_used_flags(&x) & VRING_DESC_F_WRITE) != 0);
		expect_used(&x, i, HDR + 64);
	}
	expect_no_used(&x);
	pb_fini(&x);
}

/*
 * A ring of 10: slots 0-3 and 4-7 batch, 8-9 cannot (the line would cross
 * the end); in the next wrap round 0-3 batch again with the other flags.
 */
TEST(rx_batches_across_wrap_rounds)
{
	struct rte_mbuf *pkts[10];
	unsigned int i;
	struct pb x;

	pb_init(&x, false, 10);
	for (i = 0; i < 10; i++)
		post_one(&x, i, BUF_LEN, true);
	for (i = 0; i < 10; i++)
		pkts[i] = mk_pkt(&x, 64, (uint8_t)(30 + i), false);
	enqueue(&x, pkts, 10, 10);
	ASSERT_EQ(x.vq->stats.batched, 8);
	for (i = 0; i < 10; i++)
		expect_used(&x, i, HDR + 64);
	ASSERT_EQ(x.vq->last_avail_idx, 0);
	ASSERT_FALSE(x.vq->avail_wrap);
	for (i = 10; i < 14; i++)
		post_one(&x, i, BUF_LEN, true);
	for (i = 0; i < 4; i++)
		pkts[i] = mk_pkt(&x, 64, (uint8_t)(40 + i), false);
	enqueue(&x, pkts, 4, 4);
	ASSERT_EQ(x.vq->stats.batched, 12);
	for (i = 10; i < 14; i++) {
		expect_used(&x, i, HDR + 64);
		expect_rx_bytes(&x, i, 64, (uint8_t)(40 + i - 10));
	}
	expect_no_used(&x);
	pb_fini(&x);
}

/*
 * The used position apart from the avail one (a frontend set the two bases
 * so: four chains it had given the last backend are lost): the batch of
 * buffers 4-7 is returned at slots 0-3, each with its own id and length,
 * not in place; then, the positions four apart still, buffers 8-11 at 4-7.
 */
TEST(rx_batch_used_apart_from_avail_gets_ids_and_lengths)
{
	struct rte_mbuf *pkts[4];
	unsigned int i, round;
	struct pb x;

	pb_init(&x, false, 16);
	for (i = 0; i < 12; i++)
		post_one(&x, i, BUF_LEN, true);
	ASSERT_EQ(vhu_vq_set_packed_base(x.vq, 4 | 1u << 15, 0 | 1u << 15), 0);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 4; i++)
			pkts[i] = mk_pkt(&x, (uint16_t)(61 + i), (uint8_t)(70 + i), false);
		enqueue(&x, pkts, 4, 4);
		ASSERT_EQ(x.vq->stats.batched, 4 * (round + 1));
		for (i = 0; i < 4; i++) {
			unsigned int b = 4 * (round + 1) + i;

			expect_used(&x, b, HDR + 61 + i);
			expect_rx_bytes(&x, b, (uint16_t)(61 + i), (uint8_t)(70 + i));
		}
	}
	ASSERT_EQ(x.vq->last_used_idx, 8);
	ASSERT_EQ(x.vq->last_avail_idx, 12);
	pb_fini(&x);
}

/*
 * Four buffers whose last ends where guest memory ends ('tail' 0), or one
 * byte past it (1): the batch maps the bytes each packet needs, so the
 * first fits its region to the last byte and is batched; the second is
 * not, and the one-by-one path delivers three and finds the fourth
 * outside guest memory (the ring breaks, as for any such buffer).
 */
static void
rx_batch_last_buffer_at_the_end_of_memory(unsigned int past)
{
	struct rte_mbuf *pkts[4];
	unsigned int i;
	struct pb x;

	pb_init(&x, false, 16);
	x.gpa[3] = guest_end(&x.g) - (HDR + 64) + past;
	for (i = 0; i < 4; i++)
		post_one(&x, i, HDR + 64, true);
	for (i = 0; i < 4; i++)
		pkts[i] = mk_pkt(&x, 64, (uint8_t)(90 + i), false);
	enqueue(&x, pkts, 4, past ? 3 : 4);
	ASSERT_EQ(x.vq->stats.batched, past ? 0 : 4);
	for (i = 0; i < 4 - past; i++)
		expect_used(&x, i, HDR + 64);
	for (i = 0; i < 3; i++)
		expect_rx_bytes(&x, i, 64, (uint8_t)(90 + i));
	if (!past) {
		const uint8_t *p = guest_ptr(&x.g, x.gpa[3]);
		uint8_t want[64];

		fill(want, sizeof(want), 93);
		ASSERT_MEM_EQ(p + HDR, want, sizeof(want));
	}
	expect_no_used(&x);
	ASSERT_EQ(x.vq->broken, past != 0);
	x.vq->broken = false; /* seen: pb_fini() checks nothing else broke it */
	pb_fini(&x);
}

TEST(rx_batch_buffer_ending_at_the_end_of_memory_is_batched)
{
	rx_batch_last_buffer_at_the_end_of_memory(0);
}

TEST(rx_batch_buffer_one_byte_past_the_end_of_memory_is_not)
{
	rx_batch_last_buffer_at_the_end_of_memory(1);
}

/* Three buffers for four packets: no batch, three delivered, the fourth refused. */
TEST(rx_short_run_stops_at_the_driver)
{
	struct rte_mbuf *pkts[4];
	unsigned int i;
	struct pb x;

	pb_init(&x, false, 16);
	for (i = 0; i < 3; i++)
		post_one(&x, i, BUF_LEN, true);
	for (i = 0; i < 4; i++)
		pkts[i] = mk_pkt(&x, 64, (uint8_t)(50 + i), false);
	enqueue(&x, pkts, 4, 3);
	ASSERT_EQ(x.vq->stats.batched, 0);
	for (i = 0; i < 3; i++)
		expect_used(&x, i, HDR + 64);
	expect_no_used(&x);
	pb_fini(&x);
}

/* Guest TX: buffer b holds a zero header and 'len' pattern bytes. */
static void
tx_buf(struct pb *x, unsigned int b, uint32_t len, uint8_t seed)
{
	uint8_t *p = guest_ptr(&x->g, x->gpa[b]);

	memset(p, 0, HDR);
	fill(p + HDR, len, seed);
}

static void
expect_pkt(struct rte_mbuf *m, uint32_t len, uint8_t seed)
{
	uint8_t want[BUF_LEN];

	ASSERT_NOT_NULL(m);
	ASSERT_EQ(m->pkt_len, len);
	ASSERT_EQ(m->nb_segs, 1);
	fill(want, len, seed);
	ASSERT_MEM_EQ(rte_pktmbuf_mtod(m, uint8_t *), want, len);
}

/* Eight packets in two aligned runs come out in order through the batch path. */
TEST(tx_aligned_runs_take_the_batch)
{
	struct rte_mbuf *pkts[8];
	unsigned int i;
	struct pb x;

	pb_init(&x, true, 16);
	for (i = 0; i < 8; i++) {
		tx_buf(&x, i, 60 + i, (uint8_t)(60 + i));
		post_one(&x, i, HDR + 60 + i, false);
	}
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, pkts, 8), 8);
	ASSERT_EQ(x.vq->stats.batched, 8);
	for (i = 0; i < 8; i++) {
		expect_pkt(pkts[i], 60 + i, (uint8_t)(60 + i));
		expect_used(&x, i, 0);
	}
	expect_no_used(&x);
	rte_pktmbuf_free_bulk(pkts, 8);
	pb_fini(&x);
}

/*
 * An empty packet (header only) in the first run and a chain in the second:
 * the empty one is dropped and counted in the batch, as one by one, its
 * buffer still returned; the chain sends its run one by one, and its two
 * pieces arrive as one packet.
 */
TEST(tx_empty_packet_and_chain_arrive_as_one_by_one)
{
	struct rte_mbuf *pkts[8];
	uint8_t *p0, *p1, want[200];
	unsigned int i;
	struct pb x;

	pb_init(&x, true, 16);
	for (i = 0; i < 4; i++) {
		tx_buf(&x, i, 64, (uint8_t)i);
		post_one(&x, i, i == 2 ? HDR : HDR + 64, false);
	}
	/* Buffers 4 and 5: a chain of the header plus 100 bytes, then 100 more. */
	p0 = guest_ptr(&x.g, x.gpa[4]);
	p1 = guest_ptr(&x.g, x.gpa[5]);
	fill(want, 200, 77);
	memset(p0, 0, HDR);
	memcpy(p0 + HDR, want, 100);
	memcpy(p1, want + 100, 100);
	{
		struct vring_packed_desc d[2] = {
			{ .addr = x.gpa[4], .len = HDR + 100, .flags = VRING_DESC_F_NEXT },
			{ .addr = x.gpa[5], .len = 100, .id = ID0 + 4 },
		};

		pdrv_post(&x.d, d, 2);
	}
	for (i = 6; i < 8; i++) {
		tx_buf(&x, i, 64, (uint8_t)i);
		post_one(&x, i, HDR + 64, false);
	}
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, pkts, 8), 6);
	ASSERT_EQ(x.vq->stats.batched, 4);
	ASSERT_EQ(x.vq->stats.errors, 1);
	expect_pkt(pkts[0], 64, 0);
	expect_pkt(pkts[1], 64, 1);
	expect_pkt(pkts[2], 64, 3);
	ASSERT_EQ(pkts[3]->pkt_len, 200);
	ASSERT_MEM_EQ(rte_pktmbuf_mtod(pkts[3], uint8_t *), want, 200);
	expect_pkt(pkts[4], 64, 6);
	expect_pkt(pkts[5], 64, 7);
	for (i = 0; i < 5; i++)
		expect_used(&x, i, 0);
	expect_used(&x, 6, 0);
	expect_used(&x, 7, 0);
	expect_no_used(&x);
	rte_pktmbuf_free_bulk(pkts, 6);
	pb_fini(&x);
}

/*
 * A packet longer than one mbuf in a batch: the batch still takes the four,
 * and that one arrives whole in a chain of mbufs (the general copy, without
 * the plain copy the batch tried first), between its neighbours.
 */
TEST(tx_batch_packet_longer_than_an_mbuf_arrives_chained)
{
	const uint32_t long_len = UNIT_POOL_DATA_ROOM + 300;
	uint8_t want[UNIT_POOL_DATA_ROOM + 300], got[UNIT_POOL_DATA_ROOM + 300];
	struct rte_mbuf *pkts[4];
	uint64_t big;
	unsigned int i;
	struct pb x;

	pb_init(&x, true, 16);
	big = guest_alloc(&x.g, HDR + long_len, 64);
	memset(guest_ptr(&x.g, big), 0, HDR);
	fill(want, long_len, 9);
	memcpy((uint8_t *)guest_ptr(&x.g, big) + HDR, want, long_len);
	for (i = 0; i < 4; i++) {
		struct vring_packed_desc d = { .addr = x.gpa[i], .len = HDR + 64, .id = ID0 + i };

		if (i == 2) {
			d.addr = big;
			d.len = HDR + long_len;
		} else {
			tx_buf(&x, i, 64, (uint8_t)i);
		}
		pdrv_post(&x.d, &d, 1);
	}
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, pkts, 4), 4);
	ASSERT_EQ(x.vq->stats.batched, 4);
	ASSERT_EQ(x.vq->stats.errors, 0);
	expect_pkt(pkts[0], 64, 0);
	expect_pkt(pkts[1], 64, 1);
	ASSERT_EQ(pkts[2]->pkt_len, long_len);
	ASSERT_EQ(pkts[2]->nb_segs, 2);
	ASSERT_PTR_EQ(rte_pktmbuf_read(pkts[2], 0, long_len, got), got); /* not contiguous */
	ASSERT_MEM_EQ(got, want, long_len);
	expect_pkt(pkts[3], 64, 3);
	for (i = 0; i < 4; i++)
		expect_used(&x, i, 0);
	expect_no_used(&x);
	rte_pktmbuf_free_bulk(pkts, 4);
	pb_fini(&x);
}

/* Transmit buffers are only read: their used descriptors, batched or not, have no WRITE. */
TEST(tx_used_descriptors_carry_no_write)
{
	struct rte_mbuf *pkts[7];
	unsigned int i;
	struct pb x;

	pb_init(&x, true, 16);
	for (i = 0; i < 4; i++) {
		tx_buf(&x, i, 64, (uint8_t)i);
		post_one(&x, i, HDR + 64, false);
	}
	tx_buf(&x, 4, 64, 4);
	post_chain(&x, 4, HDR + 32, false);
	for (i = 6; i < 8; i++) {
		tx_buf(&x, i, 64, (uint8_t)i);
		post_one(&x, i, HDR + 64, false);
	}
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, pkts, 7), 7);
	ASSERT_EQ(x.vq->stats.batched, 4);
	for (i = 0; i < 8; i++) {
		if (i == 5)
			continue; /* the chain's second buffer: no used descriptor of its own */
		ASSERT_EQ(next_used_flags(&x) & VRING_DESC_F_WRITE, 0);
		expect_used(&x, i, 0);
	}
	expect_no_used(&x);
	rte_pktmbuf_free_bulk(pkts, 7);
	pb_fini(&x);
}

/*
 * Transmit batches write their used descriptors back as they go: after
 * chains and singles returned earlier in the same burst, and in the next
 * wrap round of a ring of 8, the driver finds them in ring order.
 */
TEST(tx_batches_after_singles_and_across_wrap_rounds)
{
	struct rte_mbuf *pkts[8];
	unsigned int i;
	struct pb x;

	pb_init(&x, true, 8);
	/* Slots 0-1 a chain (buffers 0, 1), 2-3 singles, 4-7 a batch. */
	tx_buf(&x, 0, 64, 0);
	post_chain(&x, 0, HDR + 32, false);
	for (i = 2; i < 8; i++) {
		tx_buf(&x, i, 64, (uint8_t)i);
		post_one(&x, i, HDR + 64, false);
	}
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, pkts, 8), 7);
	ASSERT_EQ(x.vq->stats.batched, 4);
	expect_used(&x, 0, 0);
	for (i = 2; i < 8; i++)
		expect_used(&x, i, 0);
	expect_no_used(&x);
	ASSERT_EQ(pkts[0]->pkt_len, 2 * (HDR + 32) - HDR);
	for (i = 1; i < 7; i++)
		expect_pkt(pkts[i], 64, (uint8_t)(i + 1));
	rte_pktmbuf_free_bulk(pkts, 7);

	/* The next wrap round: two batches. */
	for (i = 8; i < 16; i++) {
		tx_buf(&x, i, 64, (uint8_t)i);
		post_one(&x, i, HDR + 64, false);
	}
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, pkts, 8), 8);
	ASSERT_EQ(x.vq->stats.batched, 12);
	for (i = 8; i < 16; i++) {
		expect_used(&x, i, 0);
		expect_pkt(pkts[i - 8], 64, (uint8_t)i);
	}
	expect_no_used(&x);
	ASSERT_EQ(x.vq->last_used_idx, 0);
	ASSERT_TRUE(x.vq->used_wrap); /* two laps from the start's 1 */
	rte_pktmbuf_free_bulk(pkts, 8);
	pb_fini(&x);
}

/* IN_ORDER negotiated on the ring under test. */
static void
pb_in_order(struct pb *x)
{
	x->dev->features |= VHU_BIT(VIRTIO_F_IN_ORDER);
	vhu_net_q(x->vq)->features = x->dev->features;
	x->vq->in_order = true;
}

/* Post 'n' single transmit buffers from b, 64 bytes each, seeded by buffer. */
static void
post_tx_run(struct pb *x, unsigned int b, unsigned int n)
{
	unsigned int i;

	for (i = b; i < b + n; i++) {
		tx_buf(x, i, 64, (uint8_t)i);
		post_one(x, i, HDR + 64, false);
	}
}

/*
 * Two batches, then three singles the driver posted after them: the burst
 * takes the batches, then the singles one by one; nothing is taken twice or
 * skipped.
 */
TEST(tx_batches_then_singles_in_one_burst)
{
	struct rte_mbuf *pkts[16];
	unsigned int i;
	struct pb x;

	pb_init(&x, true, 16);
	post_tx_run(&x, 0, 11);
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, pkts, 16), 11);
	ASSERT_EQ(x.vq->stats.batched, 8);
	for (i = 0; i < 11; i++) {
		expect_pkt(pkts[i], 64, (uint8_t)i);
		expect_used(&x, i, 0);
	}
	expect_no_used(&x);
	rte_pktmbuf_free_bulk(pkts, 11);
	pb_fini(&x);
}

/*
 * Two batches of one burst across the end of the ring: the batch at the
 * last four slots and the one at the first four, in the next wrap round;
 * both are taken, in order, and the wrap counter turns once.
 */
TEST(tx_batches_of_one_burst_across_the_end_of_the_ring)
{
	struct rte_mbuf *pkts[8];
	unsigned int i;
	struct pb x;

	pb_init(&x, true, 8);
	post_tx_run(&x, 0, 4);
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, pkts, 8), 4);
	for (i = 0; i < 4; i++)
		expect_used(&x, i, 0);
	rte_pktmbuf_free_bulk(pkts, 4);
	post_tx_run(&x, 4, 8); /* slots 4-7, then 0-3 of the next round */
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, pkts, 8), 8);
	ASSERT_EQ(x.vq->stats.batched, 12);
	for (i = 0; i < 8; i++) {
		expect_pkt(pkts[i], 64, (uint8_t)(4 + i));
		expect_used(&x, 4 + i, 0);
	}
	expect_no_used(&x);
	ASSERT_EQ(x.vq->last_avail_idx, 4);
	ASSERT_FALSE(x.vq->avail_wrap);
	rte_pktmbuf_free_bulk(pkts, 8);
	pb_fini(&x);
}

/*
 * Under IN_ORDER a transmit burst comes back as one used descriptor at the
 * burst's first slot carrying the last buffer's id (batch path, a chain and
 * singles alike), and the device writes none of the other slots; across the
 * end of the ring the driver's positions and wrap counters stay right.
 */
TEST(tx_in_order_burst_returns_one_used_descriptor)
{
	struct rte_mbuf *pkts[16];
	struct vring_packed_desc before;
	uint16_t id, nbufs;
	unsigned int i;
	uint32_t len;
	struct pb x;

	pb_init(&x, true, 16);
	pb_in_order(&x);
	/* Slots 0-3 a batch, 4-5 a chain (buffers 4, 5), 6-7 singles. */
	post_tx_run(&x, 0, 4);
	tx_buf(&x, 4, 64, 4);
	post_chain(&x, 4, HDR + 32, false);
	post_tx_run(&x, 6, 2);
	memcpy(&before, &x.vq->desc_packed[1], sizeof(before));
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, pkts, 16), 7);
	ASSERT_EQ(x.vq->stats.batched, 4);
	/* Only slot 0 was written: slot 1 is as the driver left it. */
	ASSERT_MEM_EQ(&x.vq->desc_packed[1], &before, sizeof(before));
	ASSERT_TRUE(pdrv_take_used_in_order(&x.d, &id, &len, &nbufs));
	ASSERT_EQ(id, ID0 + 7);
	ASSERT_EQ(len, 0);
	ASSERT_EQ(nbufs, 7);
	expect_no_used(&x);
	for (i = 0; i < 4; i++)
		expect_pkt(pkts[i], 64, (uint8_t)i);
	ASSERT_EQ(pkts[4]->pkt_len, 2 * (HDR + 32) - HDR);
	expect_pkt(pkts[5], 64, 6);
	expect_pkt(pkts[6], 64, 7);
	rte_pktmbuf_free_bulk(pkts, 7);

	/* Ten more: slots 8-15 and, in the next wrap round, 0-1. */
	post_tx_run(&x, 8, 10);
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, pkts, 16), 10);
	ASSERT_TRUE(pdrv_take_used_in_order(&x.d, &id, &len, &nbufs));
	ASSERT_EQ(id, ID0 + 17);
	ASSERT_EQ(nbufs, 10);
	expect_no_used(&x);
	for (i = 0; i < 10; i++)
		expect_pkt(pkts[i], 64, (uint8_t)(8 + i));
	rte_pktmbuf_free_bulk(pkts, 10);

	/* And a short one from slot 2 of the second round. */
	post_tx_run(&x, 0, 3);
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, pkts, 16), 3);
	ASSERT_TRUE(pdrv_take_used_in_order(&x.d, &id, &len, &nbufs));
	ASSERT_EQ(id, ID0 + 2);
	ASSERT_EQ(nbufs, 3);
	expect_no_used(&x);
	rte_pktmbuf_free_bulk(pkts, 3);
	pb_fini(&x);
}

/* Receive buffers carry their own lengths, so IN_ORDER changes nothing there. */
TEST(rx_in_order_returns_every_used_descriptor)
{
	struct rte_mbuf *pkts[6];
	unsigned int i;
	struct pb x;

	pb_init(&x, false, 16);
	pb_in_order(&x);
	for (i = 0; i < 6; i++)
		post_one(&x, i, BUF_LEN, true);
	for (i = 0; i < 6; i++)
		pkts[i] = mk_pkt(&x, (uint16_t)(60 + i), (uint8_t)i, false);
	enqueue(&x, pkts, 6, 6);
	for (i = 0; i < 6; i++) {
		expect_used(&x, i, HDR + 60 + i);
		expect_rx_bytes(&x, i, (uint16_t)(60 + i), (uint8_t)i);
	}
	expect_no_used(&x);
	pb_fini(&x);
}

/* ---- dirty logging ---- */

/*
 * A transmit burst with LOG_ALL marks the page of the used descriptors it
 * wrote (one under IN_ORDER, eight otherwise), which here is the ring's
 * second page, and neither the first page of the ring nor the buffers it
 * only read.
 */
static void
tx_burst_logs_its_used_descriptors(bool in_order)
{
	struct vhost_user_log l = { .mmap_size = 4096, .mmap_offset = 0 };
	const uint16_t size = 512, at = 300;	/* 16-byte slots: 300 is on page 2 */
	struct rte_mbuf *pkts[8];
	const uint8_t *bitmap;
	unsigned int i;
	struct pb x;
	int fd;

	pb_init(&x, true, size);
	if (in_order)
		pb_in_order(&x);
	ASSERT_NE(guest_gpa_of(&x.g, &x.vq->desc_packed[at]) >> VHU_LOG_PAGE_SHIFT,
		  guest_gpa_of(&x.g, &x.vq->desc_packed[0]) >> VHU_LOG_PAGE_SHIFT);
	x.vq->last_avail_idx = x.vq->last_used_idx = at;
	x.d.avail_idx = x.d.used_idx = at;
	fd = memfd_create("vhu-unit-log", MFD_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, 4096), 0);
	ASSERT_EQ(vhu_log_set_base(x.dev, &l, fd), VHU_MSG_OK); /* takes the fd */
	bitmap = x.dev->log->bitmap;
	x.vq->logging = true;
	post_tx_run(&x, 0, 8);
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, pkts, 8), 8);
	ASSERT_TRUE(log_page_dirty(bitmap, guest_gpa_of(&x.g, &x.vq->desc_packed[at])));
	ASSERT_FALSE(log_page_dirty(bitmap, guest_gpa_of(&x.g, &x.vq->desc_packed[0])));
	for (i = 0; i < 8; i++)
		ASSERT_FALSE(log_page_dirty(bitmap, x.gpa[i]));
	rte_pktmbuf_free_bulk(pkts, 8);
	pb_fini(&x);
}

TEST(tx_burst_with_dirty_logging_marks_its_used_descriptors)
{
	tx_burst_logs_its_used_descriptors(false);
}

TEST(tx_in_order_burst_with_dirty_logging_marks_its_used_descriptor)
{
	tx_burst_logs_its_used_descriptors(true);
}

/*
 * A receive burst with LOG_ALL marks the pages of all the used descriptors
 * it wrote, those written out of its shadow after the first (which the
 * publish logs) too: a batch at the last four slots of a page of the ring
 * (the burst's first used descriptor), a batch at the first four of the
 * next page and two single ones after it. The next page is dirty only if
 * the shadow's second batch and its singles were logged.
 */
TEST(rx_burst_with_dirty_logging_marks_its_used_descriptors)
{
	struct vhost_user_log l = { .mmap_size = 4096, .mmap_offset = 0 };
	const uint16_t size = 512;
	struct rte_mbuf *pkts[10];
	const uint8_t *bitmap;
	unsigned int i;
	uint16_t at;
	struct pb x;
	int fd;

	pb_init(&x, false, size);
	/* The first slot, a multiple of four, that starts a page of the ring. */
	for (at = 4; at < size; at += 4)
		if (guest_gpa_of(&x.g, &x.vq->desc_packed[at]) >> VHU_LOG_PAGE_SHIFT !=
		    guest_gpa_of(&x.g, &x.vq->desc_packed[at - 1]) >> VHU_LOG_PAGE_SHIFT)
			break;
	ASSERT_LT(at, size - 6);
	at -= 4;
	x.vq->last_avail_idx = x.vq->last_used_idx = at;
	x.d.avail_idx = x.d.used_idx = at;
	fd = memfd_create("vhu-unit-log", MFD_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, 4096), 0);
	ASSERT_EQ(vhu_log_set_base(x.dev, &l, fd), VHU_MSG_OK); /* takes the fd */
	bitmap = x.dev->log->bitmap;
	x.vq->logging = true;
	for (i = 0; i < 10; i++)
		post_one(&x, i, BUF_LEN, true);
	for (i = 0; i < 10; i++)
		pkts[i] = mk_pkt(&x, 64, (uint8_t)(20 + i), false);
	enqueue(&x, pkts, 10, 10);
	ASSERT_EQ(x.vq->stats.batched, 8);
	for (i = 0; i < 10; i++) {
		expect_used(&x, i, HDR + 64);
		expect_rx_bytes(&x, i, 64, (uint8_t)(20 + i));
		ASSERT_TRUE(log_page_dirty(bitmap, x.gpa[i]));
	}
	ASSERT_TRUE(log_page_dirty(bitmap, guest_gpa_of(&x.g, &x.vq->desc_packed[at])));
	ASSERT_TRUE(log_page_dirty(bitmap, guest_gpa_of(&x.g, &x.vq->desc_packed[at + 4])));
	pb_fini(&x);
}
