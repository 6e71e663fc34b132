/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-net front-end's ring verbs (vu_split.h, vu_packed.h) on rings
 * and mbufs in private memory, without a backend: what a posted receive
 * buffer looks like, to the device (its descriptor) and to the application
 * (the mbuf it will get back); what a plain packet to send looks like, and
 * how reclaim frees what was sent. Mbufs on the stack, and for reclaim the
 * unit pool (a small EAL without hugepages).
 */
#include <stdlib.h>
#include <string.h>

#include "test_harness.h"
#include "unit_eal.h"
#include "vu_packed.h"
#include "vu_split.h"

#define RING	 8
#define ROOM	 2048
#define HDR	 12
#define PORT	 7
#define BUF_IOVA UINT64_C(0x100000000)

/* The ring verbs latch a broken ring through the protocol half; nothing here breaks one. */
void
vu_vq_set_broken(struct vu_vq *vq, const char *fmt, ...)
{
	(void)fmt;
	vq->broken = true;
}

static struct {
	struct vu_vq vq;
	union {
		struct vring_desc split[RING];
		struct vring_packed_desc packed[RING];
	} desc;
	uint8_t driver[256];
	uint8_t device[256];
	struct vu_slot slots[RING];
	uint16_t next[RING];
	uint16_t ids[RING];
} r;

/* An mbuf with its own data room at device address BUF_IOVA + ROOM * i. */
struct tbuf {
	struct rte_mbuf m;
	uint8_t room[ROOM];
};

static struct tbuf bufs[RING];

/* The receive pool as the refill sees it: a pool header and its pktmbuf private
 * area right after it (no per-lcore cache), whose flags say whether it lends
 * pinned external buffers. */
static struct {
	struct rte_mempool mp;
	struct rte_pktmbuf_pool_private priv;
} rx_pool;

/* A fresh ring as vu_ring.c's reset leaves it. */
static struct vu_vq *
ring_make(bool packed, bool in_order)
{
	struct vu_vq *vq = &r.vq;
	uint16_t i;

	memset(&r, 0, sizeof(r));
	memset(&rx_pool, 0, sizeof(rx_pool));
	vq->pool = &rx_pool.mp;
	vq->size = RING;
	vq->num_free = RING;
	vq->port_id = PORT;
	vq->conf.packed = packed;
	vq->conf.in_order = in_order;
	vq->conf.hdr_len = HDR;
	vq->slots = r.slots;
	vq->next = r.next;
	vq->ids = r.ids;
	if (packed) {
		vq->packed.desc = r.desc.packed;
		vq->packed.driver = (struct vring_packed_event *)r.driver;
		vq->packed.device = (struct vring_packed_event *)r.device;
		vq->avail_wrap = true;
		vq->used_wrap = true;
		vq->avail_flags = VRING_PACKED_DESC_F_AVAIL;
		for (i = 0; i < RING; i++)
			r.ids[i] = RING - 1 - i;
		vq->id_top = RING;
	} else {
		vq->split.desc = r.desc.split;
		vq->split.avail = (struct vring_avail *)r.driver;
		vq->split.used = (struct vring_used *)r.device;
		for (i = 0; i < RING; i++)
			r.next[i] = (i + 1) & (RING - 1);
	}
	vu_rx_ring_init(vq); /* as vu_rx_fill() does before the first post */
	return vq;
}

/* Mbuf i as the pool hands it out raw: one segment, one reference, and what its last user left. */
static struct rte_mbuf *
raw_mbuf(unsigned int i, uint64_t ol_flags)
{
	struct rte_mbuf *m = &bufs[i].m;

	memset(m, 0, sizeof(*m));
	m->buf_addr = bufs[i].room;
	m->buf_iova = BUF_IOVA + ROOM * i;
	m->buf_len = ROOM;
	m->refcnt = 1;
	m->nb_segs = 1;
	/* Left over from its last life. */
	m->data_off = 300;
	m->port = 3;
	m->ol_flags = ol_flags;
	m->packet_type = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4;
	m->vlan_tci = 100;
	m->vlan_tci_outer = 200;
	m->tx_offload = 0x1234;
	return m;
}

/*
 * Post m (raw) as the only receive buffer of a fresh ring, whose pool lends
 * pinned external buffers if 'pinned'; the descriptor's address and length.
 */
static void
post_rx(bool packed, bool in_order, bool pinned, struct rte_mbuf *m, uint64_t *addr, uint32_t *len)
{
	struct vu_vq *vq = ring_make(packed, in_order);

	ASSERT_PTR_EQ(rte_mempool_get_priv(&rx_pool.mp), &rx_pool.priv);
	if (pinned) {
		rx_pool.priv.flags = RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF;
		vu_rx_ring_init(vq); /* the template takes the pool's flags */
	}

	if (packed) {
		vu_packed_add_rx(vq, &m, 1);
		*addr = r.desc.packed[0].addr;
		*len = r.desc.packed[0].len;
		ASSERT_EQ(r.desc.packed[0].flags, VRING_PACKED_DESC_F_AVAIL | VRING_DESC_F_WRITE);
	} else {
		vu_split_add_rx(vq, &m, 1);
		*addr = r.desc.split[0].addr;
		*len = r.desc.split[0].len;
		ASSERT_EQ(r.desc.split[0].flags, VRING_DESC_F_WRITE);
		ASSERT_EQ(vq->split.avail->ring[0], 0);
	}
	ASSERT_EQ(vq->num_free, RING - 1);
	ASSERT_EQ(vq->inflight, 1);
	ASSERT_PTR_EQ(r.slots[0].m, m);
	ASSERT_EQ(r.slots[0].ndescs, 1);
	ASSERT_EQ(r.slots[0].len, *len);
}

/* Each layout and IN_ORDER setting: rx posting of a raw mbuf resets what it must. */
static void
rx_post_resets(bool packed, bool in_order)
{
	struct rte_mbuf *m = raw_mbuf(0, RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_VLAN);
	uint64_t addr;
	uint32_t len;

	m->hash.rss = 0x5a5a5a5a;
	post_rx(packed, in_order, false, m, &addr, &len);
	ASSERT_EQ(m->data_off, RTE_PKTMBUF_HEADROOM);
	ASSERT_EQ(m->port, PORT);
	ASSERT_EQ(m->refcnt, 1);
	ASSERT_EQ(m->nb_segs, 1);
	ASSERT_EQ(m->ol_flags, 0);
	ASSERT_EQ(m->packet_type, 0);
	ASSERT_EQ(m->vlan_tci, 0);
	ASSERT_EQ(m->vlan_tci_outer, 0);
	ASSERT_EQ(m->tx_offload, 0);
	ASSERT_EQ(m->hash.rss, 0);
	ASSERT_EQ(m->buf_len, ROOM);
	/* The device writes the header just below the data offset. */
	ASSERT_EQ(addr, BUF_IOVA + RTE_PKTMBUF_HEADROOM - HDR);
	ASSERT_EQ(len, ROOM - RTE_PKTMBUF_HEADROOM + HDR);
}

TEST(split_rx_post_resets_what_the_last_user_left)
{
	rx_post_resets(false, false);
	rx_post_resets(false, true);
}

TEST(packed_rx_post_resets_what_the_last_user_left)
{
	rx_post_resets(true, false);
	rx_post_resets(true, true);
}

/* A pinned pool's mbuf keeps RTE_MBUF_F_EXTERNAL for life, and no other flag. */
static void
rx_post_keeps_external(bool packed, bool in_order)
{
	struct rte_mbuf *m = raw_mbuf(0, RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_RX_IP_CKSUM_BAD);
	uint64_t addr;
	uint32_t len;

	post_rx(packed, in_order, true, m, &addr, &len);
	ASSERT_EQ(m->ol_flags, RTE_MBUF_F_EXTERNAL);
	ASSERT_TRUE(RTE_MBUF_HAS_EXTBUF(m));
}

TEST(split_rx_post_keeps_the_external_buffer_flag)
{
	rx_post_keeps_external(false, false);
	rx_post_keeps_external(false, true);
}

TEST(packed_rx_post_keeps_the_external_buffer_flag)
{
	rx_post_keeps_external(true, false);
	rx_post_keeps_external(true, true);
}

/* ---- receive: the packed fast path ---- */

/* The device returns the buffer at ring position 'pos' as used: id, length, flags of its lap. */
static void
packed_use(uint16_t pos, uint16_t id, uint32_t len, bool wrap)
{
	struct vring_packed_desc *d = &r.desc.packed[pos];

	d->id = id;
	d->len = len;
	d->flags = wrap ? VU_PACKED_WRAP_BITS : 0;
}

/* A packed ring with all RING mbufs posted as receive buffers. */
static struct vu_vq *
packed_rx_ring(bool in_order, struct rte_mbuf **ms)
{
	struct vu_vq *vq = ring_make(true, in_order);
	unsigned int i;

	for (i = 0; i < RING; i++)
		ms[i] = raw_mbuf(i, 0);
	vu_packed_add_rx(vq, ms, RING);
	ASSERT_EQ(vq->num_free, 0);
	ASSERT_EQ(vq->avail_idx, 0);
	ASSERT_FALSE(vq->avail_wrap);
	return vq;
}

/*
 * The device returns four buffers, the third of them with a bad id (bad_id)
 * or a length past its buffer: the fast path takes the first two and stops
 * at the third, for the general path to latch; the ring state says two.
 */
static void
rx_fast_stops_at_third(bool in_order, bool bad_id)
{
	struct rte_mbuf *ms[RING], *got[RING];
	struct vu_vq *vq = packed_rx_ring(in_order, ms);
	uint32_t room = r.slots[r.desc.packed[0].id].len;
	uint16_t i, id;
	uint32_t len;

	for (i = 0; i < 4; i++)
		packed_use(i, r.desc.packed[i].id, HDR + 60 + i, true);
	if (bad_id)
		r.desc.packed[2].id = in_order ? 3 : RING + 5;
	else
		r.desc.packed[2].len = room + 1;
	ASSERT_EQ(vu_packed_rx_fast(vq, got, RING, HDR), 2);
	for (i = 0; i < 2; i++) {
		ASSERT_PTR_EQ(got[i], r.slots[r.desc.packed[i].id].m);
		ASSERT_EQ(got[i]->pkt_len, 60 + i);
		ASSERT_EQ(got[i]->data_len, 60 + i);
		ASSERT_EQ(r.slots[r.desc.packed[i].id].ndescs, 0);
	}
	ASSERT_EQ(vq->last_used, 2);
	ASSERT_TRUE(vq->used_wrap);
	ASSERT_EQ(vq->num_free, 2);
	ASSERT_EQ(vq->inflight, RING - 2);
	/* Without IN_ORDER the two ids are free again; with it the stack is not used. */
	ASSERT_EQ(vq->id_top, (uint16_t)(in_order ? RING : 2));
	ASSERT_FALSE(vq->broken);
	/* What the general path does with it: refuse it and latch the ring. */
	ASSERT_TRUE(vu_packed_used_peek(vq, 0, &id, &len));
	ASSERT_NULL(vu_packed_rx_take(vq, id, len));
	ASSERT_TRUE(vq->broken);
}

TEST(packed_rx_fast_path_stops_at_a_bad_id_in_the_third_slot)
{
	rx_fast_stops_at_third(false, true);
	rx_fast_stops_at_third(true, true);
}

TEST(packed_rx_fast_path_stops_at_a_bad_length_in_the_third_slot)
{
	rx_fast_stops_at_third(false, false);
	rx_fast_stops_at_third(true, false);
}

/*
 * Six packets taken and their buffers posted again, which wraps the avail
 * side; then four more returned across the end of the ring: the fast path
 * takes them in one call and flips its used wrap counter once.
 */
static void
rx_fast_across_the_end(bool in_order)
{
	struct rte_mbuf *ms[RING], *got[RING];
	struct vu_vq *vq = packed_rx_ring(in_order, ms);
	uint16_t i, pos;

	for (i = 0; i < 6; i++)
		packed_use(i, r.desc.packed[i].id, HDR + 100, true);
	ASSERT_EQ(vu_packed_rx_fast(vq, got, RING, HDR), 6);
	vu_packed_add_rx(vq, got, 6);
	ASSERT_EQ(vq->avail_idx, 6);
	ASSERT_FALSE(vq->avail_wrap);
	/* Posted in the second lap: AVAIL clear, USED set. */
	for (i = 0; i < 6; i++)
		ASSERT_EQ(r.desc.packed[i].flags, VRING_PACKED_DESC_F_USED | VRING_DESC_F_WRITE);
	for (i = 0; i < 4; i++) {
		pos = (6 + i) % RING;
		packed_use(pos, r.desc.packed[pos].id, HDR + 200 + i, pos >= 6);
	}
	ASSERT_EQ(vu_packed_rx_fast(vq, got, RING, HDR), 4);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(got[i]->pkt_len, 200 + i);
	ASSERT_EQ(vq->last_used, 2);
	ASSERT_FALSE(vq->used_wrap);
	ASSERT_EQ(vq->num_free, 4);
	ASSERT_EQ(vq->inflight, RING - 4);
	/* Nothing more is used: position 2 still holds a buffer of the second lap. */
	ASSERT_EQ(vu_packed_rx_fast(vq, got, RING, HDR), 0);
	ASSERT_FALSE(vq->broken);
}

TEST(packed_rx_fast_path_takes_packets_across_the_end_of_the_ring)
{
	rx_fast_across_the_end(false);
	rx_fast_across_the_end(true);
}

/*
 * A ring shorter than the fast path's prefetch distance (three slots ahead
 * under IN_ORDER): its slots in an array of exactly its size, so that a
 * sanitizer build sees a read past them; packets still come in order.
 */
static void
rx_fast_on_a_tiny_ring(bool in_order, uint16_t size)
{
	struct rte_mbuf *ms[2], *got[2];
	struct vu_vq *vq = ring_make(true, in_order);
	struct vu_slot *slots = calloc(size, sizeof(*slots));
	uint16_t i, lap;

	ASSERT_TRUE(slots != NULL);
	vq->size = size;
	vq->num_free = size;
	vq->slots = slots;
	for (i = 0; i < size; i++)
		r.ids[i] = size - 1 - i;
	vq->id_top = size;
	for (lap = 0; lap < 3; lap++) {
		for (i = 0; i < size; i++)
			ms[i] = lap == 0 ? raw_mbuf(i, 0) : got[i];
		vu_packed_add_rx(vq, ms, size);
		for (i = 0; i < size; i++)
			packed_use(i, r.desc.packed[i].id, HDR + 10 * lap + i, lap % 2 == 0);
		ASSERT_EQ(vu_packed_rx_fast(vq, got, size, HDR), size);
		for (i = 0; i < size; i++)
			ASSERT_EQ(got[i]->pkt_len, 10 * lap + i);
		ASSERT_EQ(vq->last_used, 0);
		ASSERT_EQ(vq->used_wrap, lap % 2 != 0);
	}
	ASSERT_FALSE(vq->broken);
	free(slots);
}

TEST(packed_rx_fast_path_on_rings_of_one_and_two)
{
	rx_fast_on_a_tiny_ring(false, 1);
	rx_fast_on_a_tiny_ring(true, 1);
	rx_fast_on_a_tiny_ring(false, 2);
	rx_fast_on_a_tiny_ring(true, 2);
}

/*
 * An idle poll of a full rx ring of 'size' slots is idle (vu_rx_burst()
 * finds nothing used and no refill due), and the first buffer taken back
 * makes a refill due on a ring of one or two. Ring state in arrays of
 * exactly the ring's size; the refill threshold as vu_rx_fill() sets it.
 */
static void
rx_idle_on_a_tiny_ring(bool packed, bool in_order, uint16_t size)
{
	struct vu_vq *vq = ring_make(packed, in_order);
	struct vu_slot *slots = calloc(size, sizeof(*slots));
	struct rte_mbuf *ms[2], *got[2];
	uint16_t i;

	ASSERT_TRUE(slots != NULL);
	vq->size = size;
	vq->num_free = size;
	vq->slots = slots;
	for (i = 0; i < size; i++) {
		r.ids[i] = size - 1 - i;
		r.next[i] = (i + 1) & (size - 1);
	}
	vq->id_top = size;
	vu_rx_ring_init(vq);
	ASSERT_TRUE(vu_rx_wants_refill(vq)); /* empty: fill it */
	for (i = 0; i < size; i++)
		ms[i] = raw_mbuf(i, 0);
	if (packed)
		vu_packed_add_rx(vq, ms, size);
	else
		vu_split_add_rx(vq, ms, size);
	ASSERT_EQ(vq->num_free, 0);
	ASSERT_FALSE(packed ? vu_packed_used_pending(vq) : vu_split_used_pending(vq));
	ASSERT_FALSE(vu_rx_wants_refill(vq));

	/* The device uses the first buffer; once taken, half the ring is free. */
	if (packed) {
		packed_use(0, r.desc.packed[0].id, HDR + 1, true);
		ASSERT_TRUE(vu_packed_used_pending(vq));
		ASSERT_EQ(vu_packed_rx_fast(vq, got, 1, HDR), 1);
	} else {
		r.vq.split.used->ring[0].id = r.vq.split.avail->ring[0];
		r.vq.split.used->ring[0].len = HDR + 1;
		r.vq.split.used->idx = 1;
		ASSERT_TRUE(vu_split_used_pending(vq));
		ASSERT_EQ(vu_split_rx_fast(vq, got, 1, HDR), 1);
	}
	ASSERT_EQ(got[0]->pkt_len, 1);
	ASSERT_TRUE(vu_rx_wants_refill(vq));
	ASSERT_FALSE(vq->broken);
	free(slots);
}

TEST(rx_idle_poll_of_a_full_ring_of_one_or_two_is_idle)
{
	bool saved = vhu_prefetchw;
	unsigned int packed, in_order, size, pfw;

	/* With the write prefetch of the split refill off and on (vhu_prefetch.h):
	 * its steps stay inside a table shorter than a line. */
	for (pfw = 0; pfw < 2; pfw++) {
		vhu_prefetchw = pfw;
		for (packed = 0; packed < 2; packed++)
			for (in_order = 0; in_order < 2; in_order++)
				for (size = 1; size <= 2; size++)
					rx_idle_on_a_tiny_ring(packed, in_order, size);
	}
	vhu_prefetchw = saved;
}

/*
 * Split, IN_ORDER: a refill of four from slot RING - 2 on, across the end of
 * the ring and not at a line's start, with the write prefetch 'pfw'
 * (vu_split_prefetchw_descs()) on or off; the descriptor table into 'out'.
 */
static void
split_rx_refill_across_the_end(bool pfw, struct vring_desc *out)
{
	struct vu_vq *vq = ring_make(false, true);
	struct rte_mbuf *ms[4];
	bool saved = vhu_prefetchw;
	uint16_t i;

	vq->next_desc = RING - 2;
	vq->avail_idx = RING - 2;
	for (i = 0; i < RTE_DIM(ms); i++)
		ms[i] = raw_mbuf(i, 0);
	vhu_prefetchw = pfw;
	vu_split_add_rx(vq, ms, RTE_DIM(ms));
	vhu_prefetchw = saved;
	for (i = 0; i < RTE_DIM(ms); i++) {
		uint16_t d = (RING - 2 + i) & (RING - 1);

		ASSERT_EQ(r.desc.split[d].addr, BUF_IOVA + ROOM * i + RTE_PKTMBUF_HEADROOM - HDR);
		ASSERT_EQ(r.desc.split[d].len, ROOM - RTE_PKTMBUF_HEADROOM + HDR);
		ASSERT_EQ(r.desc.split[d].flags, VRING_DESC_F_WRITE);
		ASSERT_EQ(vq->split.avail->ring[d], d);
		ASSERT_PTR_EQ(r.slots[d].m, ms[i]);
	}
	ASSERT_EQ(vq->next_desc, 2);
	ASSERT_EQ(vq->avail_idx, RING + 2);
	ASSERT_EQ(vq->num_free, RING - 4);
	memcpy(out, r.desc.split, sizeof(r.desc.split));
}

TEST(split_in_order_rx_refill_across_the_end_with_and_without_the_write_prefetch)
{
	struct vring_desc off[RING], on[RING];

	split_rx_refill_across_the_end(false, off);
	split_rx_refill_across_the_end(true, on);
	ASSERT_EQ(memcmp(off, on, sizeof(on)), 0);
}

TEST(rx_refill_waits_for_half_a_small_ring_and_32_of_a_large_one)
{
	struct vu_vq *vq = ring_make(false, false);
	/* Ring size, and the free descriptors that make a refill. */
	static const uint16_t sizes[][2] = { { 1, 1 }, { 2, 1 },   { 4, 2 },
					     { 8, 4 }, { 64, 32 }, { 1024, 32 } };
	unsigned int i;

	for (i = 0; i < RTE_DIM(sizes); i++) {
		vq->size = sizes[i][0];
		vu_rx_ring_init(vq);
		vq->num_free = sizes[i][1] - 1;
		ASSERT_FALSE(vu_rx_wants_refill(vq));
		vq->num_free = sizes[i][1];
		ASSERT_TRUE(vu_rx_wants_refill(vq));
	}
}

/* ---- transmit: the plain fast path ---- */

/* A fake pool: vu_tx_plain() only compares pointers with it. */
static struct rte_mempool pool_shared, pool_other;

/* Mbuf i as an application hands it over to send: a plain 60-byte frame of the shared pool. */
static struct rte_mbuf *
tx_mbuf(unsigned int i)
{
	struct rte_mbuf *m = &bufs[i].m;

	memset(bufs[i].room, 0xee, sizeof(bufs[i].room));
	memset(m, 0, sizeof(*m));
	m->buf_addr = bufs[i].room;
	m->buf_iova = BUF_IOVA + ROOM * i;
	m->buf_len = ROOM;
	m->data_off = RTE_PKTMBUF_HEADROOM;
	m->refcnt = 1;
	m->nb_segs = 1;
	m->data_len = 60;
	m->pkt_len = 60;
	m->pool = &pool_shared;
	return m;
}

/* Post pkts[0..n) through the fast path of a fresh ring; returns how many it took. */
static uint16_t
post_tx(bool packed, bool in_order, struct rte_mbuf **pkts, uint16_t n)
{
	struct vu_vq *vq = ring_make(packed, in_order);

	vq->tx = true;
	vq->pool = &pool_shared;
	return packed ? vu_packed_add_tx(vq, pkts, n) : vu_split_add_tx(vq, pkts, n);
}

/* The descriptor of buffer i: its address, length, and for packed its id and flags. */
static void
tx_desc(bool packed, unsigned int i, uint64_t *addr, uint32_t *len)
{
	if (packed) {
		*addr = r.desc.packed[i].addr;
		*len = r.desc.packed[i].len;
	} else {
		*addr = r.desc.split[i].addr;
		*len = r.desc.split[i].len;
	}
}

static void
tx_plain_posted(bool packed, bool in_order)
{
	static const uint8_t zero[HDR];
	struct rte_mbuf *pkts[4];
	unsigned int i;
	uint64_t addr;
	uint32_t len;

	for (i = 0; i < RTE_DIM(pkts); i++)
		pkts[i] = tx_mbuf(i);
	ASSERT_EQ(post_tx(packed, in_order, pkts, RTE_DIM(pkts)), RTE_DIM(pkts));
	ASSERT_EQ(r.vq.num_free, RING - RTE_DIM(pkts));
	ASSERT_EQ(r.vq.inflight, RTE_DIM(pkts));
	ASSERT_EQ(r.vq.added, RTE_DIM(pkts));
	for (i = 0; i < RTE_DIM(pkts); i++) {
		uint16_t id = packed ? r.desc.packed[i].id : r.vq.split.avail->ring[i];

		tx_desc(packed, i, &addr, &len);
		/* One descriptor: the header in the headroom, then the frame. */
		ASSERT_EQ(addr, BUF_IOVA + ROOM * i + RTE_PKTMBUF_HEADROOM - HDR);
		ASSERT_EQ(len, HDR + 60);
		ASSERT_MEM_EQ(bufs[i].room + RTE_PKTMBUF_HEADROOM - HDR, zero, HDR);
		/* The byte before the header is left alone. */
		ASSERT_EQ(bufs[i].room[RTE_PKTMBUF_HEADROOM - HDR - 1], 0xee);
		ASSERT_PTR_EQ(r.slots[id].m, pkts[i]);
		ASSERT_EQ(r.slots[id].ndescs, 1);
		ASSERT_EQ(r.slots[id].len, VU_TX_PLAIN);
		if (packed)
			ASSERT_EQ(r.desc.packed[i].flags, VRING_PACKED_DESC_F_AVAIL);
		else
			ASSERT_EQ(r.desc.split[id].flags, 0);
	}
	/* Nothing is published on a split ring before the flush. */
	if (!packed)
		ASSERT_EQ(r.vq.split.avail->idx, 0);
}

TEST(split_tx_posts_plain_packets_with_the_header_in_the_headroom)
{
	tx_plain_posted(false, false);
	tx_plain_posted(false, true);
}

TEST(packed_tx_posts_plain_packets_with_the_header_in_the_headroom)
{
	tx_plain_posted(true, false);
	tx_plain_posted(true, true);
}

/* What makes a packet other than plain; each case spoils packet 2 of 4. */
static void
spoil_pool(struct rte_mbuf *m)
{
	m->pool = &pool_other;
}

static void
spoil_refcnt(struct rte_mbuf *m)
{
	m->refcnt = 2;
}

static void
spoil_indirect(struct rte_mbuf *m)
{
	m->ol_flags |= RTE_MBUF_F_INDIRECT;
}

static void
spoil_external(struct rte_mbuf *m)
{
	m->ol_flags |= RTE_MBUF_F_EXTERNAL;
}

static void
spoil_segs(struct rte_mbuf *m)
{
	m->nb_segs = 2;
	m->next = &bufs[RING - 1].m;
}

static void
spoil_next(struct rte_mbuf *m)
{
	m->next = &bufs[RING - 1].m;
}

static void
spoil_headroom(struct rte_mbuf *m)
{
	m->data_off = HDR - 1;
}

static void
tx_stops_at_other(bool packed, bool in_order)
{
	static void (*const spoil[])(struct rte_mbuf *) = {
		spoil_pool, spoil_refcnt, spoil_indirect, spoil_external,
		spoil_segs, spoil_next,	  spoil_headroom,
	};
	struct rte_mbuf *pkts[4];
	unsigned int s, i;

	for (s = 0; s < RTE_DIM(spoil); s++) {
		for (i = 0; i < RTE_DIM(pkts); i++)
			pkts[i] = tx_mbuf(i);
		spoil[s](pkts[2]);
		if (post_tx(packed, in_order, pkts, RTE_DIM(pkts)) != 2)
			th_fail(__FILE__, __LINE__, "case %u: the fast path took past packet 2", s);
		ASSERT_EQ(r.vq.num_free, RING - 2);
		ASSERT_EQ(r.vq.inflight, 2);
		/* Packet 2 is untouched: no header written before its data. */
		ASSERT_EQ(bufs[2].room[RTE_PKTMBUF_HEADROOM - 1], 0xee);
	}
}

TEST(split_tx_fast_path_stops_at_the_first_packet_not_plain)
{
	tx_stops_at_other(false, false);
	tx_stops_at_other(false, true);
}

TEST(packed_tx_fast_path_stops_at_the_first_packet_not_plain)
{
	tx_stops_at_other(true, false);
	tx_stops_at_other(true, true);
}

TEST(packed_tx_flips_the_wrap_bits_at_the_end_of_the_ring)
{
	struct rte_mbuf *pkts[RING];
	unsigned int i;

	for (i = 0; i < RING; i++)
		pkts[i] = tx_mbuf(i);
	ASSERT_EQ(post_tx(true, true, pkts, RING), RING);
	ASSERT_EQ(r.vq.avail_idx, 0);
	ASSERT_FALSE(r.vq.avail_wrap);
	ASSERT_EQ(r.vq.avail_flags, VRING_PACKED_DESC_F_USED);
	for (i = 0; i < RING; i++)
		ASSERT_EQ(r.desc.packed[i].id, i);
}

/* ---- transmit: reclaim ---- */

/* The device returns the first n buffers, in order; under IN_ORDER with one used entry. */
static void
device_uses(bool packed, bool in_order, uint16_t n)
{
	uint16_t k;

	if (packed) {
		struct vring_packed_desc *d = r.desc.packed;

		for (k = 0; k < (in_order ? 1 : n); k++) {
			d[k].id = in_order ? n - 1 : k;
			d[k].flags = VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED;
		}
	} else {
		struct vring_used *u = r.vq.split.used;

		for (k = 0; k < (in_order ? 1 : n); k++) {
			u->ring[k].id = in_order ? n - 1 : k;
			u->ring[k].len = 0;
		}
		u->idx = in_order ? 1 : n;
	}
}

/*
 * Packets from the unit pool: 'plain' of them through the fast path, then
 * one the fast path refuses (a second reference held by the test) through
 * the general verbs as vu_tx_burst() posts it; the device returns them all.
 * Reclaim gives the plain ones back to the pool and drops only the
 * reference it held of the other.
 */
static void
tx_reclaim_frees(bool packed, bool in_order, uint16_t plain, bool other)
{
	struct rte_mempool *mp = unit_pool(255);
	unsigned int before = rte_mempool_avail_count(mp);
	struct rte_mbuf *pkts[RING];
	uint16_t i, n = plain + other;
	struct vu_vq *vq;

	for (i = 0; i < n; i++) {
		pkts[i] = rte_pktmbuf_alloc(mp);
		ASSERT_NOT_NULL(pkts[i]);
		ASSERT_NOT_NULL(rte_pktmbuf_append(pkts[i], 60));
	}
	if (other)
		rte_mbuf_refcnt_update(pkts[plain], 1);
	vq = ring_make(packed, in_order);
	vq->tx = true;
	vq->pool = mp;
	ASSERT_EQ(packed ? vu_packed_add_tx(vq, pkts, n) : vu_split_add_tx(vq, pkts, n), plain);
	if (other) {
		uint16_t id = packed ? vu_packed_next_id(vq) : vu_split_next_head(vq);
		uint64_t addr = pkts[plain]->buf_iova + pkts[plain]->data_off - HDR;

		if (packed)
			vu_packed_add(vq, addr, HDR + 60, 0, pkts[plain]);
		else
			vu_split_add(vq, addr, HDR + 60, 0, pkts[plain]);
		vq->slots[id].len = VU_TX_GENERAL;
	}
	device_uses(packed, in_order, n);
	ASSERT_TRUE(packed ? vu_packed_tx_reclaim(vq) : vu_split_tx_reclaim(vq));
	ASSERT_FALSE(vq->broken);
	ASSERT_EQ(vq->num_free, RING);
	ASSERT_EQ(vq->inflight, 0);
	for (i = 0; i < RING; i++)
		ASSERT_EQ(r.slots[i].ndescs, 0);
	if (other) {
		ASSERT_EQ(rte_mbuf_refcnt_read(pkts[plain]), 1);
		ASSERT_EQ(rte_mempool_avail_count(mp), before - 1);
		rte_pktmbuf_free(pkts[plain]);
	}
	ASSERT_EQ(rte_mempool_avail_count(mp), before);
}

TEST(split_tx_reclaim_returns_plain_packets_to_the_pool)
{
	tx_reclaim_frees(false, false, 5, false);
	tx_reclaim_frees(false, true, 5, false);
}

TEST(split_tx_reclaim_frees_a_shared_packet_with_its_checks)
{
	tx_reclaim_frees(false, false, 3, true);
	tx_reclaim_frees(false, true, 3, true);
}

TEST(packed_tx_reclaim_returns_plain_packets_to_the_pool)
{
	tx_reclaim_frees(true, false, 5, false);
	tx_reclaim_frees(true, true, 5, false);
}

TEST(packed_tx_reclaim_frees_a_shared_packet_with_its_checks)
{
	tx_reclaim_frees(true, false, 3, true);
	tx_reclaim_frees(true, true, 3, true);
}
