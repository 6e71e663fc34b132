/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest RX with the copies of small packets deferred to the end of the
 * burst (struct vhu_copy_batch in vhost_net.h): on split and packed rings,
 * a burst of more small packets than one batch holds, mixed with packets
 * just above the deferral limit, chained packets and ones that need two
 * buffers, must land byte for byte, with the right header, used ids and
 * lengths, and nothing written past any packet. The dirty log keeps its
 * own (immediate) path, checked by the log tests. The same with and
 * without the write prefetch of the guest's buffers (vhu_prefetchw).
 */
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "fake_dev.h"
#include "guest.h"
#include "test_harness.h"
#include "unit_eal.h"
#include "vhost_net.h"
#include "vhu_vhost.h"

#ifdef RTE_ARCH_X86_64
#include <cpuid.h>
#endif

#define REGION_SIZE (1024 * 1024)
#define RING 128
#define NPKT 100		/* more than three copy batches */
#define BUF_LEN 2048
#define HDR 12

struct rc {
	struct guest g;
	struct vhu_vhost_dev *dev;
	struct vhu_vq *vq;
	struct packed_drv d;
	bool packed;
	uint16_t used_seen;
	struct rte_mempool *mp;
	unsigned int pool_free;
	uint64_t gpa[RING];
};

static void
rc_init(struct rc *x, bool packed)
{
	unsigned int i;

	memset(x, 0, sizeof(*x));
	x->packed = packed;
	x->mp = unit_pool(511);
	x->pool_free = rte_mempool_avail_count(x->mp);
	guest_init(&x->g, 1, REGION_SIZE);
	x->dev = fake_dev_new(1, 0);
	x->dev->features = VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VIRTIO_NET_F_MRG_RXBUF) |
			   (packed ? VHU_BIT(VIRTIO_F_RING_PACKED) : 0);
	x->dev->features_set = true;
	x->dev->mem = guest_mem_copy(&x->g);
	x->vq = x->dev->vq[0];
	if (packed)
		guest_packed_ring_init(&x->g, x->vq, RING, &x->d);
	else
		guest_ring_init(&x->g, x->vq, RING);
	vhu_net_q(x->vq)->mrg_rxbuf = true;
	vhu_net_q(x->vq)->features = x->dev->features;
	x->vq->dev = x->dev;
	for (i = 0; i < RING; i++) {
		x->gpa[i] = guest_alloc(&x->g, BUF_LEN, 64);
		memset(guest_ptr(&x->g, x->gpa[i]), 0xee, BUF_LEN);
		if (packed) {
			struct vring_packed_desc d = {
				.addr = x->gpa[i], .len = BUF_LEN, .id = (uint16_t)(300 + i),
				.flags = VRING_DESC_F_WRITE,
			};

			pdrv_post(&x->d, &d, 1);
		} else {
			drv_desc(x->vq, (uint16_t)i, x->gpa[i], BUF_LEN, VRING_DESC_F_WRITE, 0);
			drv_avail(x->vq, (uint16_t)i);
		}
	}
}

static void
rc_fini(struct rc *x)
{
	ASSERT_FALSE(x->vq->broken);
	fake_dev_free(x->dev);
	guest_fini(&x->g);
	ASSERT_EQ(rte_mempool_avail_count(x->mp), x->pool_free);
}

static void
expect_used(struct rc *x, unsigned int buf, uint32_t len)
{
	uint16_t id;
	uint32_t l;

	if (x->packed) {
		ASSERT_TRUE(pdrv_take_used(&x->d, &id, &l));
		ASSERT_EQ(id, 300 + buf);
	} else {
		ASSERT_NE(__atomic_load_n(&x->vq->used->idx, __ATOMIC_ACQUIRE), x->used_seen);
		id = (uint16_t)x->vq->used->ring[x->used_seen % RING].id;
		l = x->vq->used->ring[x->used_seen % RING].len;
		x->used_seen++;
		ASSERT_EQ(id, buf);
	}
	ASSERT_EQ(l, len);
}

static uint8_t
pattern(unsigned int pkt, uint32_t off)
{
	return (uint8_t)(pkt * 31 + off * 7 + (off >> 8));
}

/* Packet sizes: small ones (deferred), around the limit, chained, over one buffer. */
static uint32_t
pkt_size(unsigned int i)
{
	static const uint32_t sizes[] = { 60, 64, 128, 255, 256, 257, 300, 1500, 2100, 64, 60 };

	return sizes[i % RTE_DIM(sizes)];
}

static struct rte_mbuf *
mk_pkt(struct rc *x, unsigned int i)
{
	uint32_t len = pkt_size(i), off = 0;
	struct rte_mbuf *head = NULL;
	/* Every seventh packet, and any over one mbuf, in two segments (not deferred). */
	uint32_t nseg = (i % 7 == 3 || len > UNIT_POOL_DATA_ROOM) ? 2 : 1;
	uint32_t s;

	for (s = 0; s < nseg; s++) {
		uint32_t seg = s + 1 < nseg ? len / 2 : len - off;
		struct rte_mbuf *m = rte_pktmbuf_alloc(x->mp);
		uint8_t *p;
		uint32_t k;

		ASSERT_NOT_NULL(m);
		p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)seg);
		ASSERT_NOT_NULL(p);
		for (k = 0; k < seg; k++)
			p[k] = pattern(i, off + k);
		off += seg;
		if (head == NULL)
			head = m;
		else
			ASSERT_EQ(rte_pktmbuf_chain(head, m), 0);
	}
	return head;
}

static void
burst_lands_whole(bool packed)
{
	struct rte_mbuf *pkts[NPKT];
	unsigned int i, buf = 0;
	struct rc x;

	rc_init(&x, packed);
	for (i = 0; i < NPKT; i++)
		pkts[i] = mk_pkt(&x, i);
	ASSERT_EQ(vhu_vhost_enqueue_burst(x.dev, 0, pkts, NPKT), NPKT);
	rte_pktmbuf_free_bulk(pkts, NPKT);
	for (i = 0; i < NPKT; i++) {
		uint32_t len = pkt_size(i), need = HDR + len, off = 0;
		uint16_t nbufs = (uint16_t)((need + BUF_LEN - 1) / BUF_LEN);
		struct virtio_net_hdr_mrg_rxbuf hdr;
		uint16_t b;

		memcpy(&hdr, guest_ptr(&x.g, x.gpa[buf]), sizeof(hdr));
		ASSERT_EQ(hdr.num_buffers, nbufs);
		for (b = 0; b < nbufs; b++, buf++) {
			const uint8_t *p = guest_ptr(&x.g, x.gpa[buf]);
			uint32_t start = b == 0 ? HDR : 0;
			uint32_t n = RTE_MIN(BUF_LEN - start, len - off), k;

			expect_used(&x, buf, start + n);
			for (k = 0; k < n; k++)
				if (p[start + k] != pattern(i, off + k))
					th_fail(__FILE__, __LINE__, "packet %u (%u bytes): byte %u is "
						"0x%02x, not 0x%02x", i, len, off + k, p[start + k],
						pattern(i, off + k));
			if (start + n < BUF_LEN)
				ASSERT_EQ(p[start + n], 0xee);
			off += n;
		}
	}
	rc_fini(&x);
}

TEST(split_burst_of_small_and_large_packets_lands_whole)
{
	burst_lands_whole(false);
}

TEST(packed_burst_of_small_and_large_packets_lands_whole)
{
	burst_lands_whole(true);
}

static bool
cpu_has_prefetchw(void)
{
#ifdef RTE_ARCH_X86_64
	unsigned int a, b, c, d;

	return __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & bit_PRFCHW) != 0;
#else
	return false;
#endif
}

#ifdef RTE_ARCH_X86_64
/* The library prefetches to write where the CPU can, unless told not to. */
TEST(prefetchw_follows_the_cpu_and_the_environment)
{
	const char *env = getenv("VHU_PREFETCHW");
	bool want = cpu_has_prefetchw();

	if (env != NULL && strcmp(env, "0") == 0)
		want = false;
	else if (env != NULL && strcmp(env, "1") == 0)
		want = true;

	if (vhu_prefetchw != want)
		th_fail(__FILE__, __LINE__,
			"vhu_prefetchw is %d, expected %d (cpu %d, VHU_PREFETCHW=%s)",
			vhu_prefetchw, want, cpu_has_prefetchw(), env != NULL ? env : "(unset)");
}
#endif

/* Both layouts, with the write prefetch off and (where the CPU has it) on. */
TEST(bursts_land_whole_with_and_without_the_write_prefetch)
{
	bool saved = vhu_prefetchw;

	vhu_prefetchw = false;
	burst_lands_whole(false);
	burst_lands_whole(true);
	if (cpu_has_prefetchw()) {
		vhu_prefetchw = true;
		burst_lands_whole(false);
		burst_lands_whole(true);
	}
	vhu_prefetchw = saved;
}
