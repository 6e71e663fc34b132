/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest RX behind a vIOMMU when a mergeable packet's later buffer misses the
 * IOTLB (vhu_vhost_enqueue_burst() and its stash, vhost_net.c; the split and
 * packed enqueues): the chains reserved before the miss stay in the ring,
 * nothing of the packet is published, the packet is held whole (every mbuf
 * segment, although the caller frees its own reference at once), and once
 * the buffer is mapped it lands in the same chains, byte for byte, with
 * later packets behind it in order. Each test runs on a split and on a
 * packed ring.
 *
 * A held chained mbuf that kept a reference on its first segment only lost
 * the others to the pool as soon as the caller freed it; they were reused
 * for later packets, and the held packet was delivered with their bytes.
 *
 * Also how often a ring asks again (vhu_iotlb_post_miss()): a repeat of the
 * last miss is held back for 100 ms, but not past an INVALIDATE.
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

#define REGION_SIZE (64 * 1024)
#define RING_SIZE 8
#define NBUF 4			/* receive buffers posted */
#define BUF_LEN 2048		/* bytes each */
#define HDR 12			/* virtio_net_hdr_mrg_rxbuf */
#define IOVA 0x80000000ull	/* buffer i is at IOVA + i pages */
#define PACKED_ID0 10		/* packed buffer ids: PACKED_ID0 + i, unlike the slots */
#define SEG_LEN 1000		/* the big packet: 3 segments, needs 2 buffers */
#define SEGS 3

struct mx {
	struct guest g;
	struct vhu_vhost_dev *dev;	/* IOMMU_PLATFORM and MRG_RXBUF negotiated */
	struct vhu_vq *vq;		/* its receive ring 0 */
	struct packed_drv d;		/* the driver's side, packed */
	bool packed;
	uint16_t used_seen;		/* split: used entries the driver took */
	struct rte_mempool *mp;
	unsigned int pool_free;		/* free mbufs at the start */
	uint64_t gpa[NBUF];		/* where buffer i is in guest memory */
};

static uint64_t
buf_iova(unsigned int i)
{
	return IOVA + (uint64_t)i * 0x1000;
}

static uint16_t
buf_id(const struct mx *x, unsigned int i)
{
	return (uint16_t)(x->packed ? PACKED_ID0 + i : i);
}

/* Map buffer i's page in the device's IOTLB, as the front-end answering a miss. */
static void
map_buf(struct mx *x, unsigned int i)
{
	struct vhost_user_iotlb_msg m = {
		.iova = buf_iova(i),
		.size = 0x1000,
		.uaddr = GUEST_UVA(x->gpa[i]),
		.perm = VHOST_ACCESS_RW,
		.type = VHOST_IOTLB_UPDATE,
	};

	ASSERT_EQ(vhu_dev_iotlb_msg(x->dev, &m), VHU_MSG_OK);
}

/*
 * Driver: post 'slot' (split: descriptor and avail entry 'slot'; packed: the
 * next slot) with buffer id buf_id(slot), over the memory of buffer 'buf'.
 */
static void
post_buf(struct mx *x, unsigned int slot, unsigned int buf)
{
	if (x->packed) {
		struct vring_packed_desc d = {
			.addr = buf_iova(buf),
			.len = BUF_LEN,
			.id = buf_id(x, slot),
			.flags = VRING_DESC_F_WRITE,
		};

		pdrv_post(&x->d, &d, 1);
	} else {
		drv_desc(x->vq, (uint16_t)slot, buf_iova(buf), BUF_LEN, VRING_DESC_F_WRITE, 0);
		drv_avail(x->vq, (uint16_t)slot);
	}
}

/*
 * A device whose receive ring holds 'nposted' buffers of BUF_LEN (0xee),
 * buffer i in slot i (NBUF are allocated), none mapped.
 */
static void
mx_setup(struct mx *x, bool packed, unsigned int nposted)
{
	unsigned int i;

	memset(x, 0, sizeof(*x));
	x->packed = packed;
	x->mp = unit_pool(255);
	x->pool_free = rte_mempool_avail_count(x->mp);
	guest_init(&x->g, 1, REGION_SIZE);
	x->dev = fake_dev_new(1, 0);
	x->dev->flags = VHU_VHOST_IOMMU_SUPPORT;
	x->dev->features = VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VIRTIO_F_IOMMU_PLATFORM) |
			   VHU_BIT(VIRTIO_NET_F_MRG_RXBUF) |
			   (packed ? VHU_BIT(VIRTIO_F_RING_PACKED) : 0);
	x->dev->features_set = true;
	x->dev->mem = guest_mem_copy(&x->g);
	x->vq = x->dev->vq[0];
	if (packed)
		guest_packed_ring_init(&x->g, x->vq, RING_SIZE, &x->d);
	else
		guest_ring_init(&x->g, x->vq, RING_SIZE);
	vhu_net_q(x->vq)->mrg_rxbuf = true;
	vhu_net_q(x->vq)->features = x->dev->features;
	x->vq->iommu = true;
	x->vq->dev = x->dev;
	for (i = 0; i < NBUF; i++) {
		x->gpa[i] = guest_alloc(&x->g, 0x1000, 0x1000);
		memset(guest_ptr(&x->g, x->gpa[i]), 0xee, BUF_LEN);
		if (i < nposted)
			post_buf(x, i, i);
	}
}

/* A device whose receive ring holds NBUF buffers of BUF_LEN (0xee), none mapped. */
static void
mx_init(struct mx *x, bool packed)
{
	mx_setup(x, packed, NBUF);
}

/*
 * Give the device the queue on which data lcores post IOTLB misses, as
 * vhu_iotlb_dev_init() does but without the control thread's watch: the test
 * plays the control thread and reads the queue itself.
 */
static void
miss_queue_init(struct mx *x)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "ut_miss_%p", (void *)x->dev);
	x->dev->miss_ring = rte_ring_create_elem(name, sizeof(struct vhu_iotlb_miss), 64,
						 SOCKET_ID_ANY, RING_F_SC_DEQ);
	ASSERT_NOT_NULL(x->dev->miss_ring);
	x->dev->miss_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_GE(x->dev->miss_efd, 0);
}

/* Misses posted since the last call; each must be for 'iova'. */
static unsigned int
misses_posted(struct mx *x, uint64_t iova)
{
	struct vhu_iotlb_miss m;
	unsigned int n = 0;

	while (rte_ring_sc_dequeue_elem(x->dev->miss_ring, &m, sizeof(m)) == 0) {
		ASSERT_EQ(m.iova, iova);
		n++;
	}
	return n;
}

/* The front-end withdraws [iova, iova + size), as after the guest unmapped it. */
static void
unmap_range(struct mx *x, uint64_t iova, uint64_t size)
{
	struct vhost_user_iotlb_msg m = {
		.iova = iova,
		.size = size,
		.type = VHOST_IOTLB_INVALIDATE,
	};

	ASSERT_EQ(vhu_dev_iotlb_msg(x->dev, &m), VHU_MSG_OK);
}

static void
mx_fini(struct mx *x)
{
	if (x->dev->miss_ring != NULL) {
		rte_ring_free(x->dev->miss_ring);
		x->dev->miss_ring = NULL;
		close(x->dev->miss_efd);
		x->dev->miss_efd = -1;
	}
	fake_dev_free(x->dev);	/* drops anything still held */
	guest_fini(&x->g);
	ASSERT_EQ(rte_mempool_avail_count(x->mp), x->pool_free);
}

/* Driver: the next used entry, if the device published one. */
static bool
take_used(struct mx *x, uint16_t *id, uint32_t *len)
{
	uint16_t idx;

	if (x->packed)
		return pdrv_take_used(&x->d, id, len);
	idx = __atomic_load_n(&x->vq->used->idx, __ATOMIC_ACQUIRE);
	if (idx == x->used_seen)
		return false;
	*id = (uint16_t)x->vq->used->ring[x->used_seen % RING_SIZE].id;
	*len = x->vq->used->ring[x->used_seen % RING_SIZE].len;
	x->used_seen++;
	return true;
}

static void
expect_used(struct mx *x, unsigned int buf, uint32_t len)
{
	uint16_t id = 0xffff;
	uint32_t got = 0;

	ASSERT_TRUE(take_used(x, &id, &got));
	ASSERT_EQ(id, buf_id(x, buf));
	ASSERT_EQ(got, len);
}

static void
expect_no_used(struct mx *x)
{
	uint16_t id;
	uint32_t len;

	ASSERT_FALSE(take_used(x, &id, &len));
}

/* Where the device reads next: 'slot' in the first lap. */
static void
expect_avail_at(struct mx *x, uint16_t slot)
{
	ASSERT_EQ(x->vq->last_avail_idx, slot);
	if (x->packed) {
		ASSERT_TRUE(x->vq->avail_wrap);
		ASSERT_EQ(x->vq->last_used_idx, slot);
		ASSERT_TRUE(x->vq->used_wrap);
	}
}

static void
fill(uint8_t *p, uint32_t len, uint8_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 13 + (i >> 8));
}

/* An mbuf chain of 'nseg' segments of 'seg_len' pattern bytes; 'want' gets the bytes. */
static struct rte_mbuf *
mk_pkt(struct mx *x, uint16_t nseg, uint16_t seg_len, uint8_t seed, uint8_t *want)
{
	struct rte_mbuf *head = NULL;
	uint16_t i;

	for (i = 0; i < nseg; i++) {
		struct rte_mbuf *s = rte_pktmbuf_alloc(x->mp);
		uint8_t *p;

		ASSERT_NOT_NULL(s);
		p = (uint8_t *)rte_pktmbuf_append(s, seg_len);
		ASSERT_NOT_NULL(p);
		fill(p, seg_len, (uint8_t)(seed + i));
		memcpy(want + (size_t)i * seg_len, p, seg_len);
		if (head == NULL)
			head = s;
		else
			ASSERT_EQ(rte_pktmbuf_chain(head, s), 0);
	}
	return head;
}

/*
 * Take 'n' mbufs from the pool and scribble over them, as the traffic that
 * follows would; returns them in 'junk' for the caller to free at the end.
 * A held segment the pool had taken back would be among them.
 */
static void
churn_pool(struct mx *x, struct rte_mbuf **junk, unsigned int n)
{
	unsigned int i;

	ASSERT_EQ(rte_pktmbuf_alloc_bulk(x->mp, junk, n), 0);
	for (i = 0; i < n; i++)
		memset(rte_pktmbuf_mtod(junk[i], uint8_t *), 0x5a, SEG_LEN);
}

/* Buffer i holds a header with 'nbufs' (if 'first') and then 'len' bytes of 'want'. */
static void
expect_bytes(struct mx *x, unsigned int i, bool first, uint16_t nbufs, const uint8_t *want,
	     uint32_t len)
{
	const uint8_t *p = guest_ptr(&x->g, x->gpa[i]);
	uint32_t off = 0;

	if (first) {
		struct virtio_net_hdr_mrg_rxbuf hdr;

		memcpy(&hdr, p, sizeof(hdr));
		ASSERT_EQ(hdr.num_buffers, nbufs);
		off = HDR;
	}
	ASSERT_MEM_EQ(p + off, want, len);
	if (off + len < BUF_LEN)
		ASSERT_EQ(p[off + len], 0xee); /* nothing past the packet */
}

static void
expect_untouched(struct mx *x, unsigned int i)
{
	const uint8_t *p = guest_ptr(&x->g, x->gpa[i]);
	uint32_t k;

	for (k = 0; k < BUF_LEN; k++)
		if (p[k] != 0xee)
			th_fail(__FILE__, __LINE__, "buffer %u byte %u was written (0x%02x)", i, k,
				p[k]);
}

/*
 * One burst: a small packet into buffer 0, then a 3-segment packet that needs
 * buffers 1 and 2, of which only 1 is mapped. The small one is published
 * alone; the big one is held (the burst counts it accepted), buffer 1 stays
 * available and unwritten. Mapped, buffer 2 takes the rest and the big packet
 * arrives whole in 1 and 2.
 */
static void
held_packet_lands_in_the_buffers_it_reserved(bool packed)
{
	uint8_t small_want[100], big_want[SEGS * SEG_LEN];
	struct rte_mbuf *pkts[2], *junk[SEGS], *s;
	const uint32_t big_need = HDR + SEGS * SEG_LEN;
	struct mx x;

	mx_init(&x, packed);
	map_buf(&x, 0);
	map_buf(&x, 1);
	pkts[0] = mk_pkt(&x, 1, sizeof(small_want), 1, small_want);
	pkts[1] = mk_pkt(&x, SEGS, SEG_LEN, 50, big_want);
	ASSERT_EQ(pkts[1]->nb_segs, SEGS);

	ASSERT_EQ(vhu_vhost_enqueue_burst(x.dev, 0, pkts, 2), 2);
	ASSERT_FALSE(x.vq->broken);
	ASSERT_TRUE(vhu_net_q(x.vq)->rx_miss);
	ASSERT_EQ(x.vq->miss_iova, buf_iova(2));
	ASSERT_EQ(vhu_net_q(x.vq)->stash_n, 1);
	ASSERT_PTR_EQ(vhu_net_q(x.vq)->stash[0], pkts[1]);
	expect_used(&x, 0, HDR + sizeof(small_want));
	expect_no_used(&x);		/* nothing of the big packet */
	expect_avail_at(&x, 1);		/* buffer 1 reserved, then left in the ring */
	expect_bytes(&x, 0, true, 1, small_want, sizeof(small_want));
	expect_untouched(&x, 1);

	/* The caller frees its references, as the port does after a burst. */
	rte_pktmbuf_free_bulk(pkts, 2);
	/* The held packet keeps every one of its segments out of the pool. */
	ASSERT_EQ(rte_mempool_avail_count(x.mp), x.pool_free - SEGS);
	for (s = vhu_net_q(x.vq)->stash[0]; s != NULL; s = s->next)
		ASSERT_EQ(rte_mbuf_refcnt_read(s), 1);
	churn_pool(&x, junk, SEGS);

	/* Still unmapped: a flush delivers nothing and keeps the packet. */
	vhu_vhost_enqueue_flush(x.dev, 0);
	ASSERT_EQ(vhu_net_q(x.vq)->stash_n, 1);
	expect_no_used(&x);
	expect_avail_at(&x, 1);

	map_buf(&x, 2);
	vhu_vhost_enqueue_flush(x.dev, 0);
	ASSERT_FALSE(x.vq->broken);
	ASSERT_EQ(vhu_net_q(x.vq)->stash_n, 0);
	expect_used(&x, 1, BUF_LEN);
	expect_used(&x, 2, big_need - BUF_LEN);
	expect_no_used(&x);
	expect_avail_at(&x, 3);
	expect_bytes(&x, 1, true, 2, big_want, BUF_LEN - HDR);
	expect_bytes(&x, 2, false, 0, big_want + (BUF_LEN - HDR), big_need - BUF_LEN);
	expect_untouched(&x, 3);
	rte_pktmbuf_free_bulk(junk, SEGS);
	mx_fini(&x);
}

TEST(split_held_packet_lands_in_the_buffers_it_reserved)
{
	held_packet_lands_in_the_buffers_it_reserved(false);
}

TEST(packed_held_packet_lands_in_the_buffers_it_reserved)
{
	held_packet_lands_in_the_buffers_it_reserved(true);
}

/*
 * VHU_VHOST_MISS_REFUSE (DPDK's library semantics): the same burst returns 1,
 * nothing is held, the caller keeps the big packet and, once the buffer is
 * mapped, sends it again into the buffers it would have had.
 */
static void
refused_packet_is_the_callers_to_send_again(bool packed)
{
	uint8_t small_want[100], big_want[SEGS * SEG_LEN];
	const uint32_t big_need = HDR + SEGS * SEG_LEN;
	struct rte_mbuf *pkts[2];
	struct mx x;

	mx_init(&x, packed);
	vhu_net_dev(x.dev)->flags |= VHU_VHOST_MISS_REFUSE;
	map_buf(&x, 0);
	map_buf(&x, 1);
	pkts[0] = mk_pkt(&x, 1, sizeof(small_want), 1, small_want);
	pkts[1] = mk_pkt(&x, SEGS, SEG_LEN, 50, big_want);

	ASSERT_EQ(vhu_vhost_enqueue_burst(x.dev, 0, pkts, 2), 1);
	ASSERT_FALSE(x.vq->broken);
	ASSERT_EQ(x.vq->miss_iova, buf_iova(2));
	ASSERT_EQ(vhu_net_q(x.vq)->stash_n, 0);
	ASSERT_EQ(rte_mbuf_refcnt_read(pkts[1]), 1);
	expect_used(&x, 0, HDR + sizeof(small_want));
	expect_no_used(&x);
	expect_avail_at(&x, 1);
	expect_untouched(&x, 1);
	rte_pktmbuf_free(pkts[0]);

	map_buf(&x, 2);
	ASSERT_EQ(vhu_vhost_enqueue_burst(x.dev, 0, &pkts[1], 1), 1);
	expect_used(&x, 1, BUF_LEN);
	expect_used(&x, 2, big_need - BUF_LEN);
	expect_no_used(&x);
	expect_bytes(&x, 1, true, 2, big_want, BUF_LEN - HDR);
	rte_pktmbuf_free(pkts[1]);
	mx_fini(&x);
}

TEST(split_refused_packet_is_the_callers_to_send_again)
{
	refused_packet_is_the_callers_to_send_again(false);
}

TEST(packed_refused_packet_is_the_callers_to_send_again)
{
	refused_packet_is_the_callers_to_send_again(true);
}

/*
 * A packet that comes while an earlier one is held (its second buffer not
 * mapped) queues behind it, and both arrive in order once it is mapped: the
 * first buffer is neither used twice nor skipped.
 */
static void
later_packet_waits_behind_the_held_one(bool packed)
{
	uint8_t big_want[SEGS * SEG_LEN], small_want[200];
	const uint32_t big_need = HDR + SEGS * SEG_LEN;
	struct rte_mbuf *big, *small, *junk[SEGS];
	struct mx x;

	mx_init(&x, packed);
	map_buf(&x, 0);
	big = mk_pkt(&x, SEGS, SEG_LEN, 90, big_want);
	ASSERT_EQ(vhu_vhost_enqueue_burst(x.dev, 0, &big, 1), 1);
	rte_pktmbuf_free(big);
	ASSERT_EQ(vhu_net_q(x.vq)->stash_n, 1);
	expect_avail_at(&x, 0);
	expect_untouched(&x, 0);

	/* Buffer 0 is mapped and would take it, but it must wait its turn. */
	small = mk_pkt(&x, 1, sizeof(small_want), 7, small_want);
	ASSERT_EQ(vhu_vhost_enqueue_burst(x.dev, 0, &small, 1), 1);
	rte_pktmbuf_free(small);
	ASSERT_EQ(vhu_net_q(x.vq)->stash_n, 2);
	expect_no_used(&x);
	expect_avail_at(&x, 0);
	expect_untouched(&x, 0);
	ASSERT_EQ(rte_mempool_avail_count(x.mp), x.pool_free - SEGS - 1);
	churn_pool(&x, junk, SEGS);

	map_buf(&x, 1);
	map_buf(&x, 2);
	vhu_vhost_enqueue_flush(x.dev, 0);
	ASSERT_EQ(vhu_net_q(x.vq)->stash_n, 0);
	expect_used(&x, 0, BUF_LEN);
	expect_used(&x, 1, big_need - BUF_LEN);
	expect_used(&x, 2, HDR + sizeof(small_want));
	expect_no_used(&x);
	expect_avail_at(&x, 3);
	expect_bytes(&x, 0, true, 2, big_want, BUF_LEN - HDR);
	expect_bytes(&x, 1, false, 0, big_want + (BUF_LEN - HDR), big_need - BUF_LEN);
	expect_bytes(&x, 2, true, 1, small_want, sizeof(small_want));
	rte_pktmbuf_free_bulk(junk, SEGS);
	mx_fini(&x);
}

TEST(split_later_packet_waits_behind_the_held_one)
{
	later_packet_waits_behind_the_held_one(false);
}

TEST(packed_later_packet_waits_behind_the_held_one)
{
	later_packet_waits_behind_the_held_one(true);
}

/*
 * Behind QEMU's vIOMMU a guest unmaps a receive buffer once it has taken the
 * packet, and maps the next buffer, often at the same IOVA (its allocator
 * hands back the range it has just freed); the front-end sends INVALIDATE for
 * the old mapping. The miss for the new buffer must be posted at once: held
 * back as a repeat of the miss posted for the old buffer less than 100 ms
 * earlier, it stalled the ring for up to 100 ms after every such unmap.
 */
static void
miss_after_an_invalidation_is_posted_at_once(bool packed)
{
	uint8_t want[100];
	struct rte_mbuf *m;
	struct mx x;

	mx_setup(&x, packed, 1);	/* buffer 0 in slot 0, not mapped */
	miss_queue_init(&x);
	m = mk_pkt(&x, 1, sizeof(want), 3, want);
	ASSERT_EQ(vhu_vhost_enqueue_burst(x.dev, 0, &m, 1), 1);
	rte_pktmbuf_free(m);
	ASSERT_EQ(misses_posted(&x, buf_iova(0)), 1);
	/* Asked already: polling the ring again does not ask again. */
	vhu_vhost_enqueue_flush(x.dev, 0);
	ASSERT_EQ(misses_posted(&x, buf_iova(0)), 0);
	map_buf(&x, 0);
	vhu_vhost_enqueue_flush(x.dev, 0);
	expect_used(&x, 0, HDR + sizeof(want));

	/* The driver unmaps buffer 0 and posts a fresh one at the same IOVA. */
	unmap_range(&x, buf_iova(0), 0x1000);
	post_buf(&x, 1, 0);
	m = mk_pkt(&x, 1, sizeof(want), 4, want);
	ASSERT_EQ(vhu_vhost_enqueue_burst(x.dev, 0, &m, 1), 1);
	rte_pktmbuf_free(m);
	ASSERT_EQ(misses_posted(&x, buf_iova(0)), 1);
	map_buf(&x, 0);
	vhu_vhost_enqueue_flush(x.dev, 0);
	expect_used(&x, 1, HDR + sizeof(want));
	expect_no_used(&x);
	ASSERT_EQ(vhu_net_q(x.vq)->stash_n, 0);
	mx_fini(&x);
}

TEST(split_miss_after_an_invalidation_is_posted_at_once)
{
	miss_after_an_invalidation_is_posted_at_once(false);
}

TEST(packed_miss_after_an_invalidation_is_posted_at_once)
{
	miss_after_an_invalidation_is_posted_at_once(true);
}

/*
 * An UPDATE for other addresses (the answer to another ring's miss, say)
 * withdraws nothing: the pending miss is not posted again for it, or every
 * update would send the front-end one more MISS per waiting ring.
 */
TEST(pending_miss_is_not_repeated_for_an_unrelated_update)
{
	struct rte_mbuf *m;
	uint8_t want[100];
	struct mx x;

	mx_setup(&x, false, 1);
	miss_queue_init(&x);
	m = mk_pkt(&x, 1, sizeof(want), 5, want);
	ASSERT_EQ(vhu_vhost_enqueue_burst(x.dev, 0, &m, 1), 1);
	rte_pktmbuf_free(m);
	ASSERT_EQ(misses_posted(&x, buf_iova(0)), 1);
	map_buf(&x, 1);
	vhu_vhost_enqueue_flush(x.dev, 0);
	ASSERT_EQ(misses_posted(&x, buf_iova(0)), 0);
	expect_no_used(&x);
	ASSERT_EQ(vhu_net_q(x.vq)->stash_n, 1);
	mx_fini(&x);
}
