/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz targets: the ring walkers and net bursts over guest memory whose every
 * byte comes from the input, on split rings (built as fuzz_split) or packed
 * rings (fuzz_packed, -DFZ_PACKED=1).
 *
 * Guest memory is three 64 KiB regions, each between PROT_NONE guard pages:
 * at guest-physical 0x10000 and 0x20000 (adjacent for the guest, not for us)
 * and at 0x40000, past a hole. An input is
 *
 *   12 bytes of configuration:
 *     [0]     ring size: split 1 << (b % 9), packed b + 1
 *     [1]     bit 0 INDIRECT_DESC, 1 MRG_RXBUF, 2 EVENT_IDX, 3 checksum and TSO
 *             offloads, 4 the 10-byte legacy header, 5 a call eventfd, 6 dirty
 *             logging, 7 inflight tracking
 *     [2]     packets to dequeue per burst (b % 65)
 *     [3]     packets to enqueue per burst (b % 65)
 *     [4..5]  their length (u16 LE % 9000 + 1; past 2 KiB they span mbufs)
 *     [6..7]  packed: the rings' starting slot (% size) and wrap counter (bit 15)
 *     [8]     offload flags of the enqueued packets: bit 0 TCP checksum, 1 UDP
 *             checksum, 2 TSO, 3 IPv6 (else IPv4), 4 L4 checksum good
 *     [9..10] their l2 and l3 lengths
 *     [11]    bytes of dirty log bitmap (b % 64)
 *   then the guest memory image, from gpa 0x10000 on (region by region).
 *
 * The receive ring (index 0) is laid out at 0x10000, the transmit ring
 * (index 1) at 0x12000; split: descriptors, avail at +0x1000, used at
 * +0x1400; packed: descriptors, driver event at +0x1000, device event at
 * +0x1004. Two rounds of a dequeue burst and an enqueue burst run; every mbuf
 * must come back to the pool. An access outside the regions hits a guard page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "fuzz_common.h"
#include "vhost_inflight.h"
#include "vhost_log.h"

#ifndef FZ_PACKED
#define FZ_PACKED 0
#endif

#define REGION_SIZE (64 * 1024)
#define NREGIONS 3
#define RING_AREA(i) (0x10000ull + (i) * 0x2000ull)
#define CFG_LEN 12
#define MAX_BURST 64

static const uint64_t region_gpa[NREGIONS] = { 0x10000, 0x20000, 0x40000 };
static uint8_t *region_hva[NREGIONS];
static struct vhu_mem *mem;		/* the table both rings translate through */
static int callfd = -1;			/* the guest's interrupt eventfd */
static uint8_t log_bitmap[64];		/* a dirty log too small for guest memory, at times */
static unsigned int base_mbufs;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint32_t i;

	fz_eal_init();
	mem = vhu_mem_alloc(NREGIONS);
	if (mem == NULL)
		abort();
	mem->nregions = NREGIONS;
	for (i = 0; i < NREGIONS; i++) {
		region_hva[i] = fz_guarded_alloc(REGION_SIZE);
		mem->regions[i] = (struct vhu_mem_region){
			.gpa = region_gpa[i],
			.size = REGION_SIZE,
			.uva = 0x7f0000000000ull + region_gpa[i],
			.hva = (uint64_t)(uintptr_t)region_hva[i],
		};
	}
	callfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (callfd < 0)
		abort();
	base_mbufs = rte_mempool_avail_count(fz_pool);
	return 0;
}

static void *
gpa_ptr(uint64_t gpa)
{
	uint32_t i;

	for (i = 0; i < NREGIONS; i++)
		if (gpa - region_gpa[i] < REGION_SIZE)
			return region_hva[i] + (gpa - region_gpa[i]);
	abort();
}

/* Fill the ring's data-path fields the way vhu_vq_try_start() does. */
static void
ring_setup(struct vhu_vhost_dev *dev, struct vhu_vq *vq, const uint8_t *cfg)
{
	uint64_t area = RING_AREA(vq->index);
	uint8_t f = cfg[1];

	vq->mem = mem;
	vq->dev = dev;
	vq->indirect = (f & 1) != 0;
	vhu_net_q(vq)->mrg_rxbuf = (f & 2) != 0;
	vq->event_idx = (f & 4) != 0;
	vhu_net_q(vq)->features = VHU_BIT(VIRTIO_F_VERSION_1);
	if (f & 8) {
		vhu_net_q(vq)->features |= VHU_BIT(VIRTIO_NET_F_CSUM) | VHU_BIT(VIRTIO_NET_F_GUEST_CSUM) |
				VHU_BIT(VIRTIO_NET_F_HOST_TSO4) | VHU_BIT(VIRTIO_NET_F_HOST_TSO6) |
				VHU_BIT(VIRTIO_NET_F_GUEST_TSO4) | VHU_BIT(VIRTIO_NET_F_GUEST_TSO6);
		vhu_net_q(vq)->offload = true;
	}
	vhu_net_q(vq)->hdr_len = (f & 16) ? sizeof(struct virtio_net_hdr) :
				  sizeof(struct virtio_net_hdr_mrg_rxbuf);
	vq->callfd = (f & 32) ? callfd : -1;
	vq->logging = (f & 64) != 0;
	vq->packed = FZ_PACKED;
#if FZ_PACKED
	{
		uint16_t start;

		vq->size = (uint16_t)(cfg[0] + 1);
		vq->desc_packed = gpa_ptr(area);
		vq->driver_event = gpa_ptr(area + 0x1000);
		vq->device_event = gpa_ptr(area + 0x1004);
		memcpy(&start, cfg + 6, sizeof(start));
		vq->last_avail_idx = (uint16_t)((start & 0x7fff) % vq->size);
		vq->avail_wrap = (start >> 15) != 0;
		vq->last_used_idx = vq->last_avail_idx;
		vq->used_wrap = vq->avail_wrap;
		if (f & 128)
			vq->inflight_packed = calloc(1, vhu_inflight_queue_size(true, vq->size));
	}
#else
	vq->size = (uint16_t)(1u << (cfg[0] % 9));
	vq->desc = gpa_ptr(area);
	vq->avail = gpa_ptr(area + 0x1000);
	vq->used = gpa_ptr(area + 0x1400);
	/* The used index is the device's; it resumes where guest memory says. */
	vq->last_used_idx = vq->used->idx;
	vq->last_avail_idx = vq->last_used_idx;
	if (f & 128)
		vq->inflight_split = calloc(1, vhu_inflight_queue_size(false, vq->size));
#endif
	vq->ready = true;
}

static void
ring_teardown(struct vhu_vq *vq)
{
	vq->callfd = -1;	/* ours, not the device's to close */
	free(vq->inflight_split);
	free(vq->inflight_packed);
	vq->inflight_split = NULL;
	vq->inflight_packed = NULL;
}

static struct rte_mbuf *
packet(uint32_t len, const uint8_t *cfg, uint8_t seed)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fz_pool), *seg = m;
	uint8_t ol = cfg[8];

	if (m == NULL)
		return NULL;
	while (len > 0) {
		uint16_t c = (uint16_t)RTE_MIN(len, (uint32_t)rte_pktmbuf_tailroom(seg));
		uint8_t *p = (uint8_t *)rte_pktmbuf_mtod_offset(seg, uint8_t *, seg->data_len);

		memset(p, seed, c);
		seg->data_len += c;
		m->pkt_len += c;
		len -= c;
		if (len > 0) {
			struct rte_mbuf *n = rte_pktmbuf_alloc(fz_pool);

			if (n == NULL) {
				rte_pktmbuf_free(m);
				return NULL;
			}
			seg->next = n;
			seg = n;
			m->nb_segs++;
		}
	}
	if (ol & 1)
		m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
	else if (ol & 2)
		m->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM;
	if (ol & 4)
		m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM;
	if (ol & 16)
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	m->ol_flags |= (ol & 8) ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4;
	m->l2_len = cfg[9];
	m->l3_len = cfg[10];
	m->l4_len = 20;
	m->tso_segsz = 1000;
	return m;
}

static void
one_round(struct vhu_vhost_dev *dev, const uint8_t *cfg, uint8_t seed)
{
	struct rte_mbuf *pkts[MAX_BURST];
	uint16_t want = cfg[2] % (MAX_BURST + 1), n, i, len, deq;

	n = vhu_vhost_dequeue_burst(dev, 0, fz_pool, pkts, want);
	FZ_CHECK(n <= want, "dequeued %u of %u", n, want);
	deq = n;
	for (i = 0; i < n; i++) {
		FZ_CHECK(pkts[i]->pkt_len > 0 && pkts[i]->pkt_len <= VHU_MAX_PKT_LEN,
			 "a dequeued packet of %u bytes", pkts[i]->pkt_len);
		FZ_CHECK(rte_pktmbuf_pkt_len(pkts[i]) == pkts[i]->pkt_len, "bad length");
	}
	rte_pktmbuf_free_bulk(pkts, n);
	want = cfg[3] % (MAX_BURST + 1);
	memcpy(&len, cfg + 4, sizeof(len));
	for (n = 0; n < want; n++) {
		pkts[n] = packet(len % 9000 + 1u, cfg, (uint8_t)(seed + n));
		if (pkts[n] == NULL)
			break;
	}
	i = vhu_vhost_enqueue_burst(dev, 0, pkts, n);
	FZ_CHECK(i <= n, "enqueued %u of %u", i, n);
	rte_pktmbuf_free_bulk(pkts, n);
	if (getenv("VHU_FUZZ_LOG") != NULL)
		fprintf(stderr, "round %u: %u of %u dequeued, %u of %u enqueued\n", seed, deq,
			cfg[2] % (MAX_BURST + 1), i, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhu_log log = { .bitmap = log_bitmap };
	struct vhu_vhost_dev *dev;
	size_t off = 0;
	uint32_t i;

	if (mem == NULL)
		LLVMFuzzerInitialize(NULL, NULL);
	if (size < CFG_LEN)
		return 0;
	for (i = 0; i < NREGIONS; i++) {
		size_t take = size - CFG_LEN > off ? RTE_MIN(size - CFG_LEN - off,
							    (size_t)REGION_SIZE) : 0;

		size_t page_end = RTE_ALIGN_CEIL(take, 4096);

		memcpy(region_hva[i], data + CFG_LEN + off, take);
		/* Zero the rest: the partial page by hand, the whole pages by giving
		 * them back (they read as zeros, and cost only if touched), where a
		 * memset of them was most of an input's instructions. */
		memset(region_hva[i] + take, 0, page_end - take);
		if (page_end < REGION_SIZE &&
		    madvise(region_hva[i] + page_end, REGION_SIZE - page_end, MADV_DONTNEED) != 0)
			memset(region_hva[i] + page_end, 0, REGION_SIZE - page_end);
		off += take;
	}
	dev = fz_dev_new(1, 0, 0);
	log.size = data[11] % sizeof(log_bitmap);
	dev->log = &log;
	ring_setup(dev, dev->vq[0], data);
	ring_setup(dev, dev->vq[1], data);
	one_round(dev, data, 1);
	one_round(dev, data, 2);
	ring_teardown(dev->vq[0]);
	ring_teardown(dev->vq[1]);
	dev->log = NULL;	/* ours, not mapped by the device */
	fz_dev_free(dev);
	FZ_CHECK(rte_mempool_avail_count(fz_pool) == base_mbufs, "%u mbufs free, %u before",
		 rte_mempool_avail_count(fz_pool), base_mbufs);
	return 0;
}
