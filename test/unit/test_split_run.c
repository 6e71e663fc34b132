/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The split ring's runs (VHU_SPLIT_RUN in virtq_split.h, used by the split
 * bursts of vhost_net_split.c): chains of one descriptor over one piece of
 * memory go through a run, read, mapped, copied and returned together; any
 * other chain goes the general way between runs. Whatever mix the driver
 * posts, the guest must see what one-by-one handling gives it: packets in
 * ring order, byte for byte, used entries in ring order with their heads,
 * a run that crosses the end of the ring and the 16-bit index right, a
 * buffer in another memory region, an IOTLB miss or a bad descriptor in the
 * middle of a burst ending it exactly there. The enqueue's runs likewise:
 * one-segment packets into flat buffers, chained ones between them, and a
 * buffer too small ending the burst.
 */
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "fake_dev.h"
#include "guest.h"
#include "test_harness.h"
#include "unit_eal.h"
#include "vhost_iotlb.h"
#include "vhu_vhost.h"

#define REGION_SIZE (256 * 1024)
#define RING_SIZE   64
#define HDR	    12		  /* virtio_net_hdr_mrg_rxbuf (VERSION_1) */
#define BUF_LEN	    256		  /* bytes of each buffer the tests post */
#define IOVA	    0x80000000ull /* behind a vIOMMU, buffer i is at IOVA + i pages */

struct rx {
	struct guest g;
	struct vhu_vhost_dev *dev;
	struct vhu_vq *vq; /* the transmit ring of pair 0 (ring 1) */
	struct rte_mempool *mp;
	unsigned int pool_free;
	uint16_t next_desc; /* next unused descriptor */
};

static void
rx_init(struct rx *x)
{
	memset(x, 0, sizeof(*x));
	x->mp = unit_pool(255);
	x->pool_free = rte_mempool_avail_count(x->mp);
	guest_init(&x->g, 2, REGION_SIZE);
	x->dev = fake_dev_new(1, 0);
	x->vq = x->dev->vq[1];
	guest_ring_init(&x->g, x->vq, RING_SIZE);
	x->vq->dev = x->dev;
}

static void
rx_fini(struct rx *x)
{
	fake_dev_free(x->dev);
	guest_fini(&x->g);
	ASSERT_EQ(rte_mempool_avail_count(x->mp), x->pool_free);
}

static void
fill(uint8_t *p, uint32_t len, uint8_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 13);
}

/* Write a zeroed header and 'len' pattern bytes (seed) at 'gpa'. */
static void
put_packet(struct rx *x, uint64_t gpa, uint32_t len, uint8_t seed)
{
	uint8_t data[BUF_LEN * 2];

	fill(data, len, seed);
	memset(guest_ptr(&x->g, gpa), 0, HDR);
	guest_write(&x->g, gpa + HDR, data, len);
}

/* Driver: offer [addr, addr + len) as a chain of one descriptor; returns its head. */
static uint16_t
post_flat(struct rx *x, uint64_t addr, uint32_t len, uint16_t flags)
{
	uint16_t head = x->next_desc++ % RING_SIZE;

	drv_desc(x->vq, head, addr, len, flags, 0);
	drv_avail(x->vq, head);
	return head;
}

/* Driver: a packet of 'len' bytes (seed) in a new buffer, one descriptor; returns its head. */
static uint16_t
post_packet(struct rx *x, uint32_t len, uint8_t seed)
{
	uint64_t gpa = guest_alloc(&x->g, HDR + len, 8);

	put_packet(x, gpa, len, seed);
	return post_flat(x, gpa, HDR + len, 0);
}

/* Driver: a packet of 'len' bytes (seed) as a chain of two descriptors, header alone first. */
static uint16_t
post_two(struct rx *x, uint32_t len, uint8_t seed)
{
	uint64_t gpa = guest_alloc(&x->g, HDR + len, 8);
	uint16_t head = x->next_desc % RING_SIZE, second = (x->next_desc + 1) % RING_SIZE;

	put_packet(x, gpa, len, seed);
	drv_desc(x->vq, head, gpa, HDR, VRING_DESC_F_NEXT, second);
	drv_desc(x->vq, second, gpa + HDR, len, 0, 0);
	x->next_desc += 2;
	drv_avail(x->vq, head);
	return head;
}

/* Driver: a packet of 'len' bytes (seed) behind an indirect descriptor of two entries. */
static uint16_t
post_indirect(struct rx *x, uint32_t len, uint8_t seed)
{
	uint64_t gpa = guest_alloc(&x->g, HDR + len, 8);
	uint64_t table = guest_alloc(&x->g, 2 * sizeof(struct vring_desc), 16);
	struct vring_desc *t = guest_ptr(&x->g, table);

	put_packet(x, gpa, len, seed);
	drv_table(t, 0, gpa, HDR, VRING_DESC_F_NEXT, 1);
	drv_table(t, 1, gpa + HDR, len, 0, 0);
	return post_flat(x, table, 2 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT);
}

/* The mbuf holds the packet of 'len' bytes (seed) in one segment. */
static void
expect_packet(struct rte_mbuf *m, uint32_t len, uint8_t seed)
{
	uint8_t want[BUF_LEN * 2];

	fill(want, len, seed);
	ASSERT_EQ(m->nb_segs, 1);
	ASSERT_EQ(m->pkt_len, len);
	ASSERT_EQ(m->data_len, len);
	ASSERT_MEM_EQ(rte_pktmbuf_mtod(m, uint8_t *), want, len);
}

/* Used entry 'i' (free-running) returns 'head' with no bytes written. */
static void
expect_used(struct rx *x, uint16_t i, uint16_t head)
{
	const struct vring_used_elem *e = &x->vq->used->ring[i & (RING_SIZE - 1)];

	ASSERT_EQ(e->id, head);
	ASSERT_EQ(e->len, 0);
}

TEST(dequeue_mixes_runs_and_other_chains_in_ring_order)
{
	struct rte_mbuf *m[16];
	uint16_t heads[8], i;
	struct rx x;

	rx_init(&x);
	heads[0] = post_packet(&x, 60, 1);
	heads[1] = post_packet(&x, 61, 2);
	heads[2] = post_two(&x, 62, 3);
	heads[3] = post_packet(&x, 63, 4);
	heads[4] = post_indirect(&x, 64, 5);
	heads[5] = post_flat(&x, guest_alloc(&x.g, HDR, 8), HDR, 0); /* header only: dropped */
	heads[6] = post_packet(&x, 66, 7);
	heads[7] = post_two(&x, 67, 8);
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, m, 16), 7);
	expect_packet(m[0], 60, 1);
	expect_packet(m[1], 61, 2);
	expect_packet(m[2], 62, 3);
	expect_packet(m[3], 63, 4);
	expect_packet(m[4], 64, 5);
	expect_packet(m[5], 66, 7);
	expect_packet(m[6], 67, 8);
	ASSERT_EQ(x.vq->used->idx, 8);
	ASSERT_EQ(x.vq->last_avail_idx, 8);
	for (i = 0; i < 8; i++)
		expect_used(&x, i, heads[i]);
	ASSERT_EQ(x.vq->stats.errors, 1);
	ASSERT_FALSE(x.vq->broken);
	rte_pktmbuf_free_bulk(m, 7);
	rx_fini(&x);
}

TEST(dequeue_of_more_than_a_run_crosses_the_ring_end_and_the_index_wrap)
{
	const uint16_t start = 65530, n = VHU_SPLIT_RUN + 8;
	struct rte_mbuf *m[RING_SIZE];
	uint16_t heads[RING_SIZE], i;
	struct rx x;

	rx_init(&x);
	/* The indexes as after 65530 chains: the ring's end at 65536, 16 bits' at 0. */
	x.vq->avail->idx = start;
	x.vq->used->idx = start;
	x.vq->last_avail_idx = start;
	x.vq->last_used_idx = start;
	for (i = 0; i < n; i++)
		heads[i] = post_packet(&x, (uint32_t)(40 + i), (uint8_t)i);
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, m, RING_SIZE), n);
	for (i = 0; i < n; i++) {
		expect_packet(m[i], 40 + i, (uint8_t)i);
		expect_used(&x, (uint16_t)(start + i), heads[i]);
	}
	ASSERT_EQ(x.vq->used->idx, (uint16_t)(start + n));
	ASSERT_EQ(x.vq->last_avail_idx, (uint16_t)(start + n));
	rte_pktmbuf_free_bulk(m, n);
	rx_fini(&x);
}

TEST(dequeue_run_follows_buffers_from_region_to_region)
{
	uint64_t r1, across, in1;
	struct rte_mbuf *m[8];
	uint16_t heads[5], i;
	struct rx x;

	rx_init(&x);
	r1 = guest_region_gpa(&x.g, 1);
	across = r1 - 100; /* header and packet over the boundary: not one piece */
	in1 = r1 + 4096;
	heads[0] = post_packet(&x, 70, 1);
	put_packet(&x, in1, 71, 2);
	heads[1] = post_flat(&x, in1, HDR + 71, 0);
	put_packet(&x, across, 200, 3);
	heads[2] = post_flat(&x, across, HDR + 200, 0);
	put_packet(&x, in1 + 512, 73, 4);
	heads[3] = post_flat(&x, in1 + 512, HDR + 73, 0);
	heads[4] = post_packet(&x, 74, 5);
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, m, 8), 5);
	expect_packet(m[0], 70, 1);
	expect_packet(m[1], 71, 2);
	expect_packet(m[2], 200, 3);
	expect_packet(m[3], 73, 4);
	expect_packet(m[4], 74, 5);
	for (i = 0; i < 5; i++)
		expect_used(&x, i, heads[i]);
	rte_pktmbuf_free_bulk(m, 5);
	rx_fini(&x);
}

TEST(dequeue_run_ends_at_a_bad_descriptor_with_the_chains_before_it_delivered)
{
	struct rte_mbuf *m[8];
	uint16_t heads[3];
	struct rx x;

	rx_init(&x);
	heads[0] = post_packet(&x, 50, 1);
	heads[1] = post_packet(&x, 51, 2);
	heads[2] = post_packet(&x, 52, 3);
	post_flat(&x, guest_alloc(&x.g, 64, 8), 64, VRING_DESC_F_WRITE); /* write-only: refused */
	post_packet(&x, 54, 5);
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, m, 8), 3);
	expect_packet(m[0], 50, 1);
	expect_packet(m[1], 51, 2);
	expect_packet(m[2], 52, 3);
	ASSERT_TRUE(x.vq->broken);
	ASSERT_STR_CONTAINS(x.vq->broken_reason, "write-only descriptor in a transmit chain");
	ASSERT_EQ(x.vq->used->idx, 3);
	ASSERT_EQ(x.vq->last_avail_idx, 3);
	expect_used(&x, 0, heads[0]);
	expect_used(&x, 1, heads[1]);
	expect_used(&x, 2, heads[2]);
	rte_pktmbuf_free_bulk(m, 3);
	rx_fini(&x);
}

/* ---- behind a vIOMMU ---- */

/* Map the page at IOVA + i pages onto guest memory at 'gpa', as the front-end would. */
static void
map_page(struct rx *x, unsigned int i, uint64_t gpa)
{
	struct vhost_user_iotlb_msg msg = {
		.iova = IOVA + (uint64_t)i * 0x1000,
		.size = 0x1000,
		.uaddr = GUEST_UVA(gpa),
		.perm = VHOST_ACCESS_RW,
		.type = VHOST_IOTLB_UPDATE,
	};

	ASSERT_EQ(vhu_dev_iotlb_msg(x->dev, &msg), VHU_MSG_OK);
}

TEST(dequeue_run_ends_at_an_iotlb_miss_and_the_chain_waits_for_its_mapping)
{
	struct vhu_iotlb_miss miss;
	char name[RTE_RING_NAMESIZE];
	uint64_t gpa[4];
	struct rte_mbuf *m[8];
	uint16_t heads[4], i;
	struct rx x;

	rx_init(&x);
	x.dev->flags = VHU_VHOST_IOMMU_SUPPORT;
	x.dev->features |= VHU_BIT(VIRTIO_F_IOMMU_PLATFORM);
	x.dev->mem = guest_mem_copy(&x.g);
	x.vq->iommu = true;
	snprintf(name, sizeof(name), "ut_run_%p", (void *)x.dev);
	x.dev->miss_ring = rte_ring_create_elem(name, sizeof(struct vhu_iotlb_miss), 64,
						SOCKET_ID_ANY, RING_F_SC_DEQ);
	ASSERT_NOT_NULL(x.dev->miss_ring);
	x.dev->miss_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_GE(x.dev->miss_efd, 0);
	for (i = 0; i < 4; i++) {
		gpa[i] = guest_alloc(&x.g, 0x1000, 0x1000);
		put_packet(&x, gpa[i], 80 + i, (uint8_t)(20 + i));
		heads[i] = post_flat(&x, IOVA + (uint64_t)i * 0x1000, HDR + 80 + i, 0);
		if (i != 2)
			map_page(&x, i, gpa[i]);
	}
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, m, 8), 2);
	ASSERT_FALSE(x.vq->broken);
	ASSERT_EQ(x.vq->last_avail_idx, 2);
	ASSERT_EQ(x.vq->used->idx, 2);
	ASSERT_EQ(rte_ring_sc_dequeue_elem(x.dev->miss_ring, &miss, sizeof(miss)), 0);
	ASSERT_EQ(miss.iova, IOVA + 2 * 0x1000);
	ASSERT_NE(rte_ring_sc_dequeue_elem(x.dev->miss_ring, &miss, sizeof(miss)), 0);
	map_page(&x, 2, gpa[2]);
	ASSERT_EQ(vhu_vhost_dequeue_burst(x.dev, 0, x.mp, m + 2, 6), 2);
	for (i = 0; i < 4; i++) {
		expect_packet(m[i], 80 + i, (uint8_t)(20 + i));
		expect_used(&x, i, heads[i]);
	}
	rte_pktmbuf_free_bulk(m, 4);
	rte_ring_free(x.dev->miss_ring);
	x.dev->miss_ring = NULL;
	close(x.dev->miss_efd);
	x.dev->miss_efd = -1;
	rx_fini(&x);
}

/* ---- guest RX: the enqueue ---- */

/* An mbuf of 'len' pattern bytes (seed), in two segments if 'two'. */
static struct rte_mbuf *
mk_pkt(struct rx *x, uint32_t len, uint8_t seed, bool two)
{
	uint8_t data[BUF_LEN * 2];
	uint32_t first = two ? len / 2 : len;
	struct rte_mbuf *m = rte_pktmbuf_alloc(x->mp), *s;

	ASSERT_NOT_NULL(m);
	fill(data, len, seed);
	memcpy(rte_pktmbuf_append(m, (uint16_t)first), data, first);
	if (two) {
		s = rte_pktmbuf_alloc(x->mp);
		ASSERT_NOT_NULL(s);
		memcpy(rte_pktmbuf_append(s, (uint16_t)(len - first)), data + first, len - first);
		ASSERT_EQ(rte_pktmbuf_chain(m, s), 0);
	}
	return m;
}

/* Driver RX: a writable buffer of 'len' bytes (0xee) as one descriptor; its gpa. */
static uint64_t
post_rx(struct rx *x, uint32_t len, uint16_t *head)
{
	struct vhu_vq *txq = x->vq;
	uint64_t gpa = guest_alloc(&x->g, len, 8);

	memset(guest_ptr(&x->g, gpa), 0xee, len);
	x->vq = x->dev->vq[0];
	*head = post_flat(x, gpa, len, VRING_DESC_F_WRITE);
	x->vq = txq;
	return gpa;
}

/* The buffer at 'gpa' holds a header with num_buffers 1 and the packet (len, seed). */
static void
expect_rx(struct rx *x, uint64_t gpa, uint32_t len, uint8_t seed)
{
	const uint8_t *p = guest_ptr(&x->g, gpa);
	struct virtio_net_hdr_mrg_rxbuf want_hdr;
	uint8_t want[BUF_LEN * 2];

	memset(&want_hdr, 0, sizeof(want_hdr));
	want_hdr.num_buffers = 1;
	ASSERT_MEM_EQ(p, &want_hdr, HDR);
	fill(want, len, seed);
	ASSERT_MEM_EQ(p + HDR, want, len);
	ASSERT_EQ(p[HDR + len], 0xee);
}

TEST(enqueue_mixes_runs_and_other_packets_in_ring_order)
{
	static const uint32_t lens[5] = { 60, 100, 70, 80, 90 };
	struct vhu_vq *rxq;
	struct rte_mbuf *m[5];
	uint16_t heads[5], i;
	uint64_t gpa[5];
	struct rx x;

	rx_init(&x);
	rxq = x.dev->vq[0];
	guest_ring_init(&x.g, rxq, RING_SIZE);
	for (i = 0; i < 5; i++) {
		gpa[i] = post_rx(&x, BUF_LEN, &heads[i]);
		m[i] = mk_pkt(&x, lens[i], (uint8_t)(30 + i), i == 1 || i == 4);
	}
	ASSERT_EQ(vhu_vhost_enqueue_burst(x.dev, 0, m, 5), 5);
	rte_pktmbuf_free_bulk(m, 5);
	ASSERT_EQ(rxq->used->idx, 5);
	for (i = 0; i < 5; i++) {
		expect_rx(&x, gpa[i], lens[i], (uint8_t)(30 + i));
		ASSERT_EQ(rxq->used->ring[i].id, heads[i]);
		ASSERT_EQ(rxq->used->ring[i].len, HDR + lens[i]);
	}
	rx_fini(&x);
}

TEST(enqueue_run_ends_at_a_buffer_too_small_without_mergeable_buffers)
{
	struct vhu_vq *rxq;
	struct rte_mbuf *m[4];
	uint16_t heads[4], i;
	uint64_t gpa[4];
	struct rx x;

	rx_init(&x);
	rxq = x.dev->vq[0];
	guest_ring_init(&x.g, rxq, RING_SIZE);
	for (i = 0; i < 4; i++) {
		gpa[i] = post_rx(&x, i == 2 ? 40 : BUF_LEN, &heads[i]);
		m[i] = mk_pkt(&x, 60, (uint8_t)(40 + i), false);
	}
	ASSERT_EQ(vhu_vhost_enqueue_burst(x.dev, 0, m, 4), 2);
	rte_pktmbuf_free_bulk(m, 4);
	ASSERT_EQ(rxq->used->idx, 2);
	ASSERT_EQ(rxq->last_avail_idx, 2);
	for (i = 0; i < 2; i++) {
		expect_rx(&x, gpa[i], 60, (uint8_t)(40 + i));
		ASSERT_EQ(rxq->used->ring[i].id, heads[i]);
		ASSERT_EQ(rxq->used->ring[i].len, HDR + 60);
	}
	ASSERT_FALSE(rxq->broken);
	rx_fini(&x);
}
