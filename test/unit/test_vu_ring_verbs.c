/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-net front-end's ring verbs (vu_split.h, vu_packed.h) on rings
 * and mbufs in private memory, without a backend: what a posted receive
 * buffer looks like, to the device (its descriptor) and to the application
 * (the mbuf it will get back). Mbufs on the stack: no EAL.
 */
#include <string.h>

#include "test_harness.h"
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

/* A fresh ring as vu_ring.c's reset leaves it. */
static struct vu_vq *
ring_make(bool packed, bool in_order)
{
	struct vu_vq *vq = &r.vq;
	uint16_t i;

	memset(&r, 0, sizeof(r));
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

/* Post m (raw) as the only receive buffer of a fresh ring; the descriptor's address and length. */
static void
post_rx(bool packed, bool in_order, struct rte_mbuf *m, uint64_t *addr, uint32_t *len)
{
	struct vu_vq *vq = ring_make(packed, in_order);

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

	post_rx(packed, in_order, m, &addr, &len);
	ASSERT_EQ(m->data_off, RTE_PKTMBUF_HEADROOM);
	ASSERT_EQ(m->port, PORT);
	ASSERT_EQ(m->refcnt, 1);
	ASSERT_EQ(m->nb_segs, 1);
	ASSERT_EQ(m->ol_flags, 0);
	ASSERT_EQ(m->packet_type, 0);
	ASSERT_EQ(m->vlan_tci, 0);
	ASSERT_EQ(m->vlan_tci_outer, 0);
	ASSERT_EQ(m->tx_offload, 0);
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

/* An mbuf of a pool of pinned external buffers keeps RTE_MBUF_F_EXTERNAL for life. */
static void
rx_post_keeps_external(bool packed, bool in_order)
{
	struct rte_mbuf *m = raw_mbuf(0, RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_RX_IP_CKSUM_BAD);
	uint64_t addr;
	uint32_t len;

	post_rx(packed, in_order, m, &addr, &len);
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

