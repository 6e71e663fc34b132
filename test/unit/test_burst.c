/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The net bursts (net/vhost_net*.c) on a device built by hand, its rings laid
 * out in synthetic guest memory with guard pages, and a real mbuf pool: what the
 * guest transmits arrives byte for byte without its virtio-net header, what
 * we enqueue lands behind a header with the right num_buffers, the used ring
 * says so, and a hostile or full ring costs only that ring. Split rings
 * throughout; the last section runs the main cases on packed rings too.
 *
 * The mempool needs EAL: it is started once, on first use, without hugepages
 * or shared files. The pool has no per-lcore cache, so its free count is
 * exact and every test checks that it gave back every mbuf.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "fake_dev.h"
#include "guest.h"
#include "test_harness.h"
#include "unit_eal.h"
#include "virtq_split.h"
#include "vhost_log.h"

#define REGION_SIZE (256 * 1024)
#define RING_SIZE 64
#define HDR 12			/* virtio_net_hdr_mrg_rxbuf, the default of these rings */
#define POOL_SIZE 255
#define DATA_ROOM UNIT_POOL_DATA_ROOM


struct bx {
	struct guest g;
	struct vhu_vhost_dev *dev;	/* 2 queue pairs: rings 0..3 */
	struct rte_mempool *mp;
	unsigned int pool_free;		/* free mbufs at the start */
	uint16_t next_desc[4];		/* next unused descriptor per ring */
};

static void
bx_init(struct bx *b, uint16_t ring_size)
{
	uint16_t i;

	memset(b, 0, sizeof(*b));
	b->mp = unit_pool(POOL_SIZE);
	b->pool_free = rte_mempool_avail_count(b->mp);
	guest_init(&b->g, 2, REGION_SIZE);
	b->dev = fake_dev_new(2, 0);
	for (i = 0; i < 4; i++)
		guest_ring_init(&b->g, b->dev->vq[i], ring_size);
}

static void
bx_fini(struct bx *b)
{
	fake_dev_free(b->dev);
	guest_fini(&b->g);
	ASSERT_EQ(rte_mempool_avail_count(b->mp), b->pool_free);
}

static struct vhu_vq *
rxq(struct bx *b, uint16_t qp)
{
	return b->dev->vq[2 * qp];
}

static struct vhu_vq *
txq(struct bx *b, uint16_t qp)
{
	return b->dev->vq[2 * qp + 1];
}

static void
fill(uint8_t *p, uint32_t len, uint8_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

/*
 * Driver: make a chain of 'n' descriptors on ring 'vqi' covering guest bytes
 * [gpa, gpa + sum(lens)) in order, with 'flags' on each, and offer it.
 * Returns the head.
 */
static uint16_t
post_range(struct bx *b, uint16_t vqi, uint64_t gpa, const uint32_t *lens, uint16_t n,
	   uint16_t flags)
{
	struct vhu_vq *vq = b->dev->vq[vqi];
	uint16_t head = b->next_desc[vqi] % vq->size, i, d = head;

	for (i = 0; i < n; i++) {
		uint16_t next = (uint16_t)((d + 1) % vq->size);

		drv_desc(vq, d, gpa, lens[i], flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0), next);
		gpa += lens[i];
		d = next;
	}
	b->next_desc[vqi] = (uint16_t)(b->next_desc[vqi] + n);
	drv_avail(vq, head);
	return head;
}

/* Driver TX: header (zeroed) + 'len' bytes of 'data' in one guest buffer, one descriptor. */
static uint16_t
tx_post(struct bx *b, uint16_t qp, const uint8_t *data, uint32_t len)
{
	uint32_t total = HDR + len;
	uint64_t gpa = guest_alloc(&b->g, total, 8);

	memset(guest_ptr(&b->g, gpa), 0, HDR);
	guest_write(&b->g, gpa + HDR, data, len);
	return post_range(b, 2 * qp + 1, gpa, &total, 1, 0);
}

/* Driver RX: one writable buffer of 'len' bytes (pre-filled with 0xee); returns its gpa. */
static uint64_t
rx_post(struct bx *b, uint16_t qp, uint32_t len, uint16_t *head)
{
	uint64_t gpa = guest_alloc(&b->g, len, 8);
	uint16_t h;

	memset(guest_ptr(&b->g, gpa), 0xee, len);
	h = post_range(b, 2 * qp, gpa, &len, 1, VRING_DESC_F_WRITE);
	if (head != NULL)
		*head = h;
	return gpa;
}

/* An mbuf holding 'len' pattern bytes in one segment. */
static struct rte_mbuf *
mk_pkt(struct bx *b, uint32_t len, uint8_t seed)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(b->mp);
	uint8_t *p;

	ASSERT_NOT_NULL(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	ASSERT_NOT_NULL(p);
	fill(p, len, seed);
	return m;
}

/* Flatten an mbuf chain into 'out' (at most 'cap' bytes); returns pkt_len. */
static uint32_t
flatten(const struct rte_mbuf *m, uint8_t *out, uint32_t cap)
{
	uint32_t off = 0;
	const struct rte_mbuf *s;

	for (s = m; s != NULL; s = s->next) {
		ASSERT_LE(off + s->data_len, cap);
		memcpy(out + off, rte_pktmbuf_mtod(s, const uint8_t *), s->data_len);
		off += s->data_len;
	}
	ASSERT_EQ(off, m->pkt_len);
	return off;
}

/* ---- guest TX: dequeue ---- */

TEST(dequeue_returns_the_packet_without_its_header)
{
	uint8_t data[60], got[64];
	struct rte_mbuf *m;
	struct bx b;
	uint16_t head;

	bx_init(&b, RING_SIZE);
	fill(data, sizeof(data), 1);
	head = tx_post(&b, 0, data, sizeof(data));
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, &m, 1), 1);
	ASSERT_EQ(m->pkt_len, 60);
	ASSERT_EQ(m->nb_segs, 1);
	ASSERT_EQ(flatten(m, got, sizeof(got)), 60);
	ASSERT_MEM_EQ(got, data, sizeof(data));
	ASSERT_EQ(txq(&b, 0)->used->idx, 1);
	ASSERT_EQ(txq(&b, 0)->used->ring[0].id, head);
	ASSERT_EQ(txq(&b, 0)->used->ring[0].len, 0);
	ASSERT_EQ(txq(&b, 0)->last_avail_idx, 1);
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(dequeue_joins_a_packet_spread_over_descriptors)
{
	static const uint32_t lens[3] = { HDR, 100, 200 };
	uint8_t data[300], got[300];
	struct rte_mbuf *m;
	struct bx b;
	uint64_t gpa;

	bx_init(&b, RING_SIZE);
	fill(data, sizeof(data), 2);
	gpa = guest_alloc(&b.g, HDR + 300, 8);
	memset(guest_ptr(&b.g, gpa), 0, HDR);
	guest_write(&b.g, gpa + HDR, data, 300);
	post_range(&b, 1, gpa, lens, 3, 0);
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, &m, 1), 1);
	ASSERT_EQ(flatten(m, got, sizeof(got)), 300);
	ASSERT_MEM_EQ(got, data, 300);
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(dequeue_strips_a_header_split_across_descriptors)
{
	static const uint32_t lens[3] = { 5, 9, 48 };	/* header ends inside the second */
	uint8_t data[50], got[50];
	struct rte_mbuf *m;
	struct bx b;
	uint64_t gpa;

	bx_init(&b, RING_SIZE);
	fill(data, sizeof(data), 3);
	gpa = guest_alloc(&b.g, HDR + 50, 8);
	memset(guest_ptr(&b.g, gpa), 0, HDR);
	guest_write(&b.g, gpa + HDR, data, 50);
	post_range(&b, 1, gpa, lens, 3, 0);
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, &m, 1), 1);
	ASSERT_EQ(flatten(m, got, sizeof(got)), 50);
	ASSERT_MEM_EQ(got, data, 50);
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(dequeue_strips_the_10_byte_legacy_header)
{
	uint8_t data[40], got[40];
	uint32_t total = 10 + 40;
	struct rte_mbuf *m;
	struct bx b;
	uint64_t gpa;

	bx_init(&b, RING_SIZE);
	vhu_net_q(txq(&b, 0))->hdr_len = sizeof(struct virtio_net_hdr);
	fill(data, sizeof(data), 4);
	gpa = guest_alloc(&b.g, total, 8);
	memset(guest_ptr(&b.g, gpa), 0, 10);
	guest_write(&b.g, gpa + 10, data, 40);
	post_range(&b, 1, gpa, &total, 1, 0);
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, &m, 1), 1);
	ASSERT_EQ(flatten(m, got, sizeof(got)), 40);
	ASSERT_MEM_EQ(got, data, 40);
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(dequeue_reads_an_indirect_chain)
{
	uint8_t data[200], got[200];
	struct vring_desc *table;
	struct rte_mbuf *m;
	uint64_t gpa, t;
	struct bx b;

	bx_init(&b, RING_SIZE);
	fill(data, sizeof(data), 5);
	gpa = guest_alloc(&b.g, HDR + 200, 8);
	memset(guest_ptr(&b.g, gpa), 0, HDR);
	guest_write(&b.g, gpa + HDR, data, 200);
	t = guest_alloc(&b.g, 2 * sizeof(struct vring_desc), 16);
	table = guest_ptr(&b.g, t);
	drv_table(table, 0, gpa, HDR + 80, VRING_DESC_F_NEXT, 1);
	drv_table(table, 1, gpa + HDR + 80, 120, 0, 0);
	drv_desc(txq(&b, 0), 0, t, 2 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
	drv_avail(txq(&b, 0), 0);
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, &m, 1), 1);
	ASSERT_EQ(flatten(m, got, sizeof(got)), 200);
	ASSERT_MEM_EQ(got, data, 200);
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(dequeue_reads_a_packet_crossing_two_regions)
{
	uint8_t data[1000], got[1000];
	uint32_t total = HDR + 1000;
	struct rte_mbuf *m;
	struct bx b;
	uint64_t gpa;

	bx_init(&b, RING_SIZE);
	fill(data, sizeof(data), 6);
	gpa = guest_region_gpa(&b.g, 1) - 300;
	memset(guest_ptr(&b.g, gpa), 0, HDR);
	guest_write(&b.g, gpa + HDR, data, 1000);
	post_range(&b, 1, gpa, &total, 1, 0);
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, &m, 1), 1);
	ASSERT_EQ(flatten(m, got, sizeof(got)), 1000);
	ASSERT_MEM_EQ(got, data, 1000);
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(dequeue_chains_mbufs_for_a_packet_larger_than_one)
{
	static uint8_t data[5000], got[5000];
	struct rte_mbuf *m;
	struct bx b;

	bx_init(&b, RING_SIZE);
	fill(data, sizeof(data), 7);
	tx_post(&b, 0, data, sizeof(data));
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, &m, 1), 1);
	ASSERT_EQ(m->nb_segs, 3);	/* 2048 + 2048 + 904 */
	ASSERT_EQ(m->data_len, DATA_ROOM);
	ASSERT_EQ(flatten(m, got, sizeof(got)), 5000);
	ASSERT_MEM_EQ(got, data, sizeof(data));
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(dequeue_returns_packets_and_used_entries_in_ring_order)
{
	struct rte_mbuf *m[8];
	uint16_t heads[5], i;
	uint8_t data[64];
	struct bx b;

	bx_init(&b, RING_SIZE);
	for (i = 0; i < 5; i++) {
		fill(data, 20 + i, (uint8_t)(10 + i));
		heads[i] = tx_post(&b, 0, data, 20 + i);
	}
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 8), 5);
	ASSERT_EQ(txq(&b, 0)->used->idx, 5);
	for (i = 0; i < 5; i++) {
		fill(data, 20 + i, (uint8_t)(10 + i));
		ASSERT_EQ(m[i]->pkt_len, 20 + i);
		ASSERT_MEM_EQ(rte_pktmbuf_mtod(m[i], uint8_t *), data, 20 + i);
		ASSERT_EQ(txq(&b, 0)->used->ring[i].id, heads[i]);
	}
	rte_pktmbuf_free_bulk(m, 5);
	bx_fini(&b);
}

TEST(dequeue_takes_no_more_than_asked)
{
	struct rte_mbuf *m[5];
	uint8_t data[30];
	struct bx b;
	int i;

	bx_init(&b, RING_SIZE);
	fill(data, sizeof(data), 8);
	for (i = 0; i < 5; i++)
		tx_post(&b, 0, data, sizeof(data));
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 3), 3);
	ASSERT_EQ(txq(&b, 0)->last_avail_idx, 3);
	ASSERT_EQ(txq(&b, 0)->used->idx, 3);
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m + 3, 5), 2);
	ASSERT_EQ(txq(&b, 0)->used->idx, 5);
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 5), 0);
	rte_pktmbuf_free_bulk(m, 5);
	bx_fini(&b);
}

TEST(dequeue_drops_and_counts_a_chain_shorter_than_the_header)
{
	uint32_t short_len = 8;
	uint8_t data[30];
	struct rte_mbuf *m[4];
	uint16_t bad, good;
	struct bx b;

	bx_init(&b, RING_SIZE);
	fill(data, sizeof(data), 9);
	bad = post_range(&b, 1, guest_alloc(&b.g, short_len, 8), &short_len, 1, 0);
	good = tx_post(&b, 0, data, sizeof(data));
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 4), 1);
	ASSERT_EQ(m[0]->pkt_len, 30);
	ASSERT_MEM_EQ(rte_pktmbuf_mtod(m[0], uint8_t *), data, 30);
	/* Both chains go back to the guest; only the ring's error count tells. */
	ASSERT_EQ(txq(&b, 0)->used->idx, 2);
	ASSERT_EQ(txq(&b, 0)->used->ring[0].id, bad);
	ASSERT_EQ(txq(&b, 0)->used->ring[1].id, good);
	ASSERT_EQ(txq(&b, 0)->stats.errors, 1);
	ASSERT_FALSE(txq(&b, 0)->broken);
	rte_pktmbuf_free(m[0]);
	bx_fini(&b);
}

TEST(dequeue_drops_a_chain_holding_only_the_header)
{
	struct rte_mbuf *m[2];
	struct bx b;

	bx_init(&b, RING_SIZE);
	tx_post(&b, 0, NULL, 0);
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 2), 0);
	ASSERT_EQ(txq(&b, 0)->used->idx, 1);
	ASSERT_EQ(txq(&b, 0)->stats.errors, 1);
	ASSERT_FALSE(txq(&b, 0)->broken);
	bx_fini(&b);
}

TEST(dequeue_drops_a_packet_larger_than_the_maximum)
{
	uint32_t total = HDR + VHU_MAX_PKT_LEN + 1;
	struct rte_mbuf *m[2];
	struct bx b;

	bx_init(&b, RING_SIZE);
	post_range(&b, 1, guest_alloc(&b.g, total, 8), &total, 1, 0);
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 2), 0);
	ASSERT_EQ(txq(&b, 0)->used->idx, 1);
	ASSERT_EQ(txq(&b, 0)->stats.errors, 1);
	ASSERT_FALSE(txq(&b, 0)->broken);
	bx_fini(&b);
}

TEST(dequeue_drops_a_chain_of_more_pieces_than_it_gathers)
{
	uint32_t lens[VHU_VEC_MAX + 2];
	struct rte_mbuf *m[2];
	uint8_t data[20];
	struct bx b;
	uint16_t i;

	bx_init(&b, 256);
	for (i = 0; i < RTE_DIM(lens); i++)
		lens[i] = i == 0 ? HDR : 1;
	post_range(&b, 1, guest_alloc(&b.g, HDR + VHU_VEC_MAX + 1, 8), lens, RTE_DIM(lens), 0);
	fill(data, sizeof(data), 11);
	tx_post(&b, 0, data, sizeof(data));
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 2), 1);
	ASSERT_EQ(m[0]->pkt_len, 20);
	ASSERT_EQ(txq(&b, 0)->used->idx, 2);
	ASSERT_EQ(txq(&b, 0)->stats.errors, 1);
	ASSERT_FALSE(txq(&b, 0)->broken);
	rte_pktmbuf_free(m[0]);
	bx_fini(&b);
}

TEST(dequeue_with_an_empty_pool_takes_nothing_and_counts_nombuf)
{
	struct rte_mempool *tiny;
	struct rte_mbuf *m[8];
	uint8_t data[16];
	struct bx b;
	int i;

	bx_init(&b, RING_SIZE);
	tiny = rte_pktmbuf_pool_create("unit_tiny1", 4, 0, 0, DATA_ROOM + RTE_PKTMBUF_HEADROOM,
				       SOCKET_ID_ANY);
	ASSERT_NOT_NULL(tiny);
	fill(data, sizeof(data), 12);
	for (i = 0; i < 8; i++)
		tx_post(&b, 0, data, sizeof(data));
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, tiny, m, 8), 0);
	ASSERT_EQ(txq(&b, 0)->stats.nombuf, 1);
	ASSERT_EQ(txq(&b, 0)->last_avail_idx, 0);
	ASSERT_EQ(txq(&b, 0)->used->idx, 0);
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, tiny, m, 4), 4);
	ASSERT_EQ(txq(&b, 0)->used->idx, 4);
	rte_pktmbuf_free_bulk(m, 4);
	ASSERT_EQ(rte_mempool_avail_count(tiny), 4);
	rte_mempool_free(tiny);
	bx_fini(&b);
}

TEST(dequeue_running_out_of_mbufs_mid_packet_frees_what_it_took)
{
	static uint8_t data[5000];
	struct rte_mempool *tiny;
	struct rte_mbuf *m[1];
	struct bx b;

	bx_init(&b, RING_SIZE);
	/* 5000 bytes need 3 mbufs; the pool has 2. */
	tiny = rte_pktmbuf_pool_create("unit_tiny2", 2, 0, 0, DATA_ROOM + RTE_PKTMBUF_HEADROOM,
				       SOCKET_ID_ANY);
	ASSERT_NOT_NULL(tiny);
	fill(data, sizeof(data), 13);
	tx_post(&b, 0, data, sizeof(data));
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, tiny, m, 1), 0);
	ASSERT_EQ(txq(&b, 0)->stats.nombuf, 1);
	ASSERT_EQ(rte_mempool_avail_count(tiny), 2);
	ASSERT_FALSE(txq(&b, 0)->broken);
	rte_mempool_free(tiny);
	bx_fini(&b);
}

TEST(dequeue_breaks_on_a_bad_head_and_keeps_the_packets_before_it)
{
	struct rte_mbuf *m[4];
	uint8_t data[32];
	struct bx b;

	bx_init(&b, RING_SIZE);
	fill(data, sizeof(data), 14);
	tx_post(&b, 0, data, sizeof(data));
	drv_avail(txq(&b, 0), RING_SIZE + 3);	/* a head past the table */
	tx_post(&b, 0, data, sizeof(data));
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 4), 1);
	ASSERT_MEM_EQ(rte_pktmbuf_mtod(m[0], uint8_t *), data, sizeof(data));
	ASSERT_TRUE(txq(&b, 0)->broken);
	ASSERT_STR_CONTAINS(txq(&b, 0)->broken_reason, "head 67 out of range");
	ASSERT_EQ(txq(&b, 0)->used->idx, 1);
	ASSERT_EQ(txq(&b, 0)->last_avail_idx, 1);
	/* Latched: nothing more comes out of this ring. */
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m + 1, 3), 0);
	rte_pktmbuf_free(m[0]);
	bx_fini(&b);
}

TEST(dequeue_breaks_on_an_avail_index_jump)
{
	struct rte_mbuf *m[4];
	struct bx b;

	bx_init(&b, RING_SIZE);
	txq(&b, 0)->avail->idx = RING_SIZE + 1;
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 4), 0);
	ASSERT_TRUE(txq(&b, 0)->broken);
	ASSERT_EQ(txq(&b, 0)->used->idx, 0);
	bx_fini(&b);
}

TEST(dequeue_breaks_on_a_write_only_descriptor)
{
	uint32_t len = HDR + 20;
	struct rte_mbuf *m[2];
	struct bx b;

	bx_init(&b, RING_SIZE);
	post_range(&b, 1, guest_alloc(&b.g, len, 8), &len, 1, VRING_DESC_F_WRITE);
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 2), 0);
	ASSERT_TRUE(txq(&b, 0)->broken);
	ASSERT_STR_CONTAINS(txq(&b, 0)->broken_reason, "write-only");
	bx_fini(&b);
}

TEST(dequeue_notifies_the_guest_once_per_burst)
{
	struct rte_mbuf *m[4];
	uint8_t data[16];
	eventfd_t v = 0;
	struct bx b;
	int i, fd;

	bx_init(&b, RING_SIZE);
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_GE(fd, 0);
	txq(&b, 0)->callfd = fd;	/* closed by the device reset */
	fill(data, sizeof(data), 15);
	for (i = 0; i < 4; i++)
		tx_post(&b, 0, data, sizeof(data));
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 4), 4);
	ASSERT_EQ(eventfd_read(fd, &v), 0);
	ASSERT_EQ(v, 1);
	ASSERT_EQ(txq(&b, 0)->stats.notify, 1);
	rte_pktmbuf_free_bulk(m, 4);
	bx_fini(&b);
}

TEST(dequeue_refuses_a_stopped_ring_a_bad_pair_and_empty_arguments)
{
	struct rte_mbuf *m[2];
	uint8_t data[16];
	struct bx b;

	bx_init(&b, RING_SIZE);
	fill(data, sizeof(data), 16);
	tx_post(&b, 0, data, sizeof(data));
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 2, b.mp, m, 2), 0);
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 0), 0);
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, NULL, m, 2), 0);
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, NULL, 2), 0);
	ASSERT_EQ(vhu_vhost_dequeue_burst(NULL, 0, b.mp, m, 2), 0);
	txq(&b, 0)->ready = false;
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 2), 0);
	ASSERT_EQ(txq(&b, 0)->last_avail_idx, 0);
	txq(&b, 0)->ready = true;
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 2), 1);
	rte_pktmbuf_free(m[0]);
	bx_fini(&b);
}

/* ---- guest RX: enqueue ---- */

TEST(enqueue_writes_a_header_then_the_packet)
{
	struct virtio_net_hdr_mrg_rxbuf hdr, want_hdr;
	uint8_t got[100], after[4];
	struct rte_mbuf *m;
	uint16_t head;
	struct bx b;
	uint64_t gpa;

	bx_init(&b, RING_SIZE);
	gpa = rx_post(&b, 0, 2048, &head);
	m = mk_pkt(&b, 100, 20);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, &m, 1), 1);
	memset(&want_hdr, 0, sizeof(want_hdr));
	want_hdr.num_buffers = 1;	/* required with VERSION_1 even without MRG_RXBUF */
	guest_read(&b.g, gpa, &hdr, sizeof(hdr));
	ASSERT_MEM_EQ(&hdr, &want_hdr, sizeof(hdr));
	guest_read(&b.g, gpa + HDR, got, 100);
	ASSERT_MEM_EQ(got, rte_pktmbuf_mtod(m, uint8_t *), 100);
	/* Nothing written past the packet. */
	guest_read(&b.g, gpa + HDR + 100, after, sizeof(after));
	ASSERT_MEM_EQ(after, "\xee\xee\xee\xee", 4);
	ASSERT_EQ(rxq(&b, 0)->used->idx, 1);
	ASSERT_EQ(rxq(&b, 0)->used->ring[0].id, head);
	ASSERT_EQ(rxq(&b, 0)->used->ring[0].len, HDR + 100);
	ASSERT_EQ(rxq(&b, 0)->last_avail_idx, 1);
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(enqueue_with_the_10_byte_header_puts_data_at_offset_10)
{
	static const uint8_t zero[10];
	struct rte_mbuf *m;
	uint8_t got[64];
	struct bx b;
	uint64_t gpa;

	bx_init(&b, RING_SIZE);
	vhu_net_q(rxq(&b, 0))->hdr_len = sizeof(struct virtio_net_hdr);
	gpa = rx_post(&b, 0, 256, NULL);
	m = mk_pkt(&b, 64, 21);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, &m, 1), 1);
	guest_read(&b.g, gpa, got, 10);
	ASSERT_MEM_EQ(got, zero, 10);
	guest_read(&b.g, gpa + 10, got, 64);
	ASSERT_MEM_EQ(got, rte_pktmbuf_mtod(m, uint8_t *), 64);
	ASSERT_EQ(rxq(&b, 0)->used->ring[0].len, 10 + 64);
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(enqueue_spreads_a_packet_over_mergeable_buffers)
{
	struct virtio_net_hdr_mrg_rxbuf hdr;
	uint8_t got[250];
	uint16_t heads[4];
	uint64_t gpa[4];
	struct rte_mbuf *m;
	struct bx b;
	int i;

	bx_init(&b, RING_SIZE);
	vhu_net_q(rxq(&b, 0))->mrg_rxbuf = true;
	for (i = 0; i < 4; i++)
		gpa[i] = rx_post(&b, 0, 100, &heads[i]);
	m = mk_pkt(&b, 250, 22);	/* 12 + 250 = 262 bytes: three buffers */
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, &m, 1), 1);
	guest_read(&b.g, gpa[0], &hdr, sizeof(hdr));
	ASSERT_EQ(hdr.num_buffers, 3);
	guest_read(&b.g, gpa[0] + HDR, got, 88);
	guest_read(&b.g, gpa[1], got + 88, 100);
	guest_read(&b.g, gpa[2], got + 188, 62);
	ASSERT_MEM_EQ(got, rte_pktmbuf_mtod(m, uint8_t *), 250);
	ASSERT_EQ(rxq(&b, 0)->used->idx, 3);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(rxq(&b, 0)->used->ring[i].id, heads[i]);
	ASSERT_EQ(rxq(&b, 0)->used->ring[0].len, 100);
	ASSERT_EQ(rxq(&b, 0)->used->ring[1].len, 100);
	ASSERT_EQ(rxq(&b, 0)->used->ring[2].len, 62);
	ASSERT_EQ(rxq(&b, 0)->last_avail_idx, 3);
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(enqueue_mergeable_packets_each_take_the_buffers_they_need)
{
	struct virtio_net_hdr_mrg_rxbuf hdr;
	struct rte_mbuf *m[2];
	uint64_t gpa[4];
	struct bx b;
	int i;

	bx_init(&b, RING_SIZE);
	vhu_net_q(rxq(&b, 0))->mrg_rxbuf = true;
	for (i = 0; i < 4; i++)
		gpa[i] = rx_post(&b, 0, 100, NULL);
	m[0] = mk_pkt(&b, 50, 23);	/* one buffer */
	m[1] = mk_pkt(&b, 150, 24);	/* 162 bytes: two buffers */
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, m, 2), 2);
	guest_read(&b.g, gpa[0], &hdr, sizeof(hdr));
	ASSERT_EQ(hdr.num_buffers, 1);
	guest_read(&b.g, gpa[1], &hdr, sizeof(hdr));
	ASSERT_EQ(hdr.num_buffers, 2);
	ASSERT_EQ(rxq(&b, 0)->used->idx, 3);
	ASSERT_EQ(rxq(&b, 0)->used->ring[0].len, 62);
	ASSERT_EQ(rxq(&b, 0)->used->ring[1].len, 100);
	ASSERT_EQ(rxq(&b, 0)->used->ring[2].len, 62);
	rte_pktmbuf_free_bulk(m, 2);
	bx_fini(&b);
}

TEST(enqueue_without_mergeable_stops_at_a_buffer_too_small)
{
	struct rte_mbuf *m[2];
	struct bx b;

	bx_init(&b, RING_SIZE);
	rx_post(&b, 0, 100, NULL);
	rx_post(&b, 0, 150, NULL);
	rx_post(&b, 0, 150, NULL);
	m[0] = mk_pkt(&b, 50, 25);
	m[1] = mk_pkt(&b, 200, 26);	/* 212 bytes: two buffers would hold it, one does not */
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, m, 2), 1);
	ASSERT_EQ(rxq(&b, 0)->used->idx, 1);
	ASSERT_EQ(rxq(&b, 0)->last_avail_idx, 1);
	ASSERT_FALSE(rxq(&b, 0)->broken);
	ASSERT_EQ(rxq(&b, 0)->stats.errors, 0);
	rte_pktmbuf_free_bulk(m, 2);
	bx_fini(&b);
}

TEST(enqueue_mergeable_stops_when_the_buffers_run_out)
{
	struct rte_mbuf *m;
	struct bx b;

	bx_init(&b, RING_SIZE);
	vhu_net_q(rxq(&b, 0))->mrg_rxbuf = true;
	rx_post(&b, 0, 100, NULL);
	rx_post(&b, 0, 100, NULL);
	m = mk_pkt(&b, 250, 27);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, &m, 1), 0);
	ASSERT_EQ(rxq(&b, 0)->used->idx, 0);
	ASSERT_EQ(rxq(&b, 0)->last_avail_idx, 0);
	ASSERT_FALSE(rxq(&b, 0)->broken);
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(enqueue_places_no_more_packets_than_buffers)
{
	struct rte_mbuf *m[4];
	struct bx b;
	int i;

	bx_init(&b, RING_SIZE);
	rx_post(&b, 0, 256, NULL);
	rx_post(&b, 0, 256, NULL);
	for (i = 0; i < 4; i++)
		m[i] = mk_pkt(&b, 60, (uint8_t)(28 + i));
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, m, 4), 2);
	ASSERT_EQ(rxq(&b, 0)->used->idx, 2);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, m + 2, 2), 0);
	rte_pktmbuf_free_bulk(m, 4);
	bx_fini(&b);
}

TEST(enqueue_copies_every_segment_of_a_chained_mbuf)
{
	static const uint16_t seg_len[3] = { 100, 200, 50 };
	struct rte_mbuf *head = NULL, *seg;
	uint8_t want[350], got[350];
	uint32_t off = 0;
	struct bx b;
	uint64_t gpa;
	int i;

	bx_init(&b, RING_SIZE);
	gpa = rx_post(&b, 0, 2048, NULL);
	for (i = 0; i < 3; i++) {
		seg = mk_pkt(&b, seg_len[i], (uint8_t)(40 + i));
		memcpy(want + off, rte_pktmbuf_mtod(seg, uint8_t *), seg_len[i]);
		off += seg_len[i];
		if (head == NULL)
			head = seg;
		else
			ASSERT_EQ(rte_pktmbuf_chain(head, seg), 0);
	}
	ASSERT_EQ(head->pkt_len, 350);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, &head, 1), 1);
	guest_read(&b.g, gpa + HDR, got, 350);
	ASSERT_MEM_EQ(got, want, 350);
	ASSERT_EQ(rxq(&b, 0)->used->ring[0].len, HDR + 350);
	rte_pktmbuf_free(head);
	bx_fini(&b);
}

TEST(enqueue_writes_across_the_descriptors_of_one_chain)
{
	static const uint32_t lens[3] = { 5, 40, 2000 };	/* header split, then data */
	uint8_t got[300];
	struct rte_mbuf *m;
	struct bx b;
	uint64_t gpa;

	bx_init(&b, RING_SIZE);
	gpa = guest_alloc(&b.g, 2045, 8);
	memset(guest_ptr(&b.g, gpa), 0xee, 2045);
	post_range(&b, 0, gpa, lens, 3, VRING_DESC_F_WRITE);
	m = mk_pkt(&b, 300, 50);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, &m, 1), 1);
	guest_read(&b.g, gpa + HDR, got, 300);
	ASSERT_MEM_EQ(got, rte_pktmbuf_mtod(m, uint8_t *), 300);
	ASSERT_EQ(rxq(&b, 0)->used->ring[0].len, HDR + 300);
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(enqueue_writes_a_buffer_crossing_two_regions)
{
	uint32_t len = 1024;
	uint8_t got[800];
	struct rte_mbuf *m;
	struct bx b;
	uint64_t gpa;

	bx_init(&b, RING_SIZE);
	gpa = guest_region_gpa(&b.g, 1) - 200;
	post_range(&b, 0, gpa, &len, 1, VRING_DESC_F_WRITE);
	m = mk_pkt(&b, 800, 51);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, &m, 1), 1);
	guest_read(&b.g, gpa + HDR, got, 800);
	ASSERT_MEM_EQ(got, rte_pktmbuf_mtod(m, uint8_t *), 800);
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(enqueue_into_an_indirect_chain)
{
	struct vring_desc *table;
	uint8_t got[100];
	struct rte_mbuf *m;
	uint64_t gpa, t;
	struct bx b;

	bx_init(&b, RING_SIZE);
	gpa = guest_alloc(&b.g, 512, 8);
	t = guest_alloc(&b.g, 2 * sizeof(struct vring_desc), 16);
	table = guest_ptr(&b.g, t);
	drv_table(table, 0, gpa, HDR, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	drv_table(table, 1, gpa + HDR, 500, VRING_DESC_F_WRITE, 0);
	drv_desc(rxq(&b, 0), 9, t, 2 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
	drv_avail(rxq(&b, 0), 9);
	m = mk_pkt(&b, 100, 52);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, &m, 1), 1);
	guest_read(&b.g, gpa + HDR, got, 100);
	ASSERT_MEM_EQ(got, rte_pktmbuf_mtod(m, uint8_t *), 100);
	ASSERT_EQ(rxq(&b, 0)->used->ring[0].id, 9);
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(enqueue_of_an_empty_packet_writes_just_the_header)
{
	struct rte_mbuf *m;
	struct bx b;

	bx_init(&b, RING_SIZE);
	rx_post(&b, 0, 64, NULL);
	m = rte_pktmbuf_alloc(b.mp);
	ASSERT_NOT_NULL(m);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, &m, 1), 1);
	ASSERT_EQ(rxq(&b, 0)->used->ring[0].len, HDR);
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(enqueue_breaks_on_a_read_only_descriptor)
{
	uint32_t len = 256;
	struct rte_mbuf *m;
	struct bx b;

	bx_init(&b, RING_SIZE);
	post_range(&b, 0, guest_alloc(&b.g, len, 8), &len, 1, 0);
	m = mk_pkt(&b, 60, 53);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, &m, 1), 0);
	ASSERT_TRUE(rxq(&b, 0)->broken);
	ASSERT_STR_CONTAINS(rxq(&b, 0)->broken_reason, "read-only");
	ASSERT_EQ(rxq(&b, 0)->used->idx, 0);
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(enqueue_breaks_on_a_bad_second_head_and_keeps_the_first_packet)
{
	struct rte_mbuf *m[2];
	struct bx b;

	bx_init(&b, RING_SIZE);
	rx_post(&b, 0, 256, NULL);
	drv_avail(rxq(&b, 0), 0xffff);
	m[0] = mk_pkt(&b, 60, 54);
	m[1] = mk_pkt(&b, 60, 55);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, m, 2), 1);
	ASSERT_TRUE(rxq(&b, 0)->broken);
	ASSERT_EQ(rxq(&b, 0)->used->idx, 1);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, m + 1, 1), 0);
	rte_pktmbuf_free_bulk(m, 2);
	bx_fini(&b);
}

TEST(enqueue_publishes_a_burst_once_and_notifies_once)
{
	struct rte_mbuf *m[3];
	eventfd_t v = 0;
	struct bx b;
	int i, fd;

	bx_init(&b, RING_SIZE);
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_GE(fd, 0);
	rxq(&b, 0)->callfd = fd;
	for (i = 0; i < 3; i++) {
		rx_post(&b, 0, 256, NULL);
		m[i] = mk_pkt(&b, 60, (uint8_t)(60 + i));
	}
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, m, 3), 3);
	ASSERT_EQ(rxq(&b, 0)->used->idx, 3);
	ASSERT_EQ(eventfd_read(fd, &v), 0);
	ASSERT_EQ(v, 1);
	rte_pktmbuf_free_bulk(m, 3);
	bx_fini(&b);
}

TEST(enqueue_refuses_a_stopped_ring_a_bad_pair_and_empty_arguments)
{
	struct rte_mbuf *m;
	struct bx b;

	bx_init(&b, RING_SIZE);
	rx_post(&b, 0, 256, NULL);
	m = mk_pkt(&b, 60, 70);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 2, &m, 1), 0);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, &m, 0), 0);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, NULL, 1), 0);
	ASSERT_EQ(vhu_vhost_enqueue_burst(NULL, 0, &m, 1), 0);
	rxq(&b, 0)->ready = false;
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, &m, 1), 0);
	rxq(&b, 0)->ready = true;
	ASSERT_EQ(rxq(&b, 0)->used->idx, 0);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, &m, 1), 1);
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

/* ---- isolation between rings ---- */

TEST(a_broken_ring_leaves_the_other_rings_of_the_device_working)
{
	struct rte_mbuf *m[2], *in;
	uint8_t data[40];
	struct bx b;

	bx_init(&b, RING_SIZE);
	fill(data, sizeof(data), 80);
	/* Pair 0's TX ring is broken by a bad head. */
	drv_avail(txq(&b, 0), RING_SIZE);
	tx_post(&b, 0, data, sizeof(data));
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 2), 0);
	ASSERT_TRUE(txq(&b, 0)->broken);
	/* Pair 0's RX ring and pair 1's TX ring carry on. */
	rx_post(&b, 0, 256, NULL);
	in = mk_pkt(&b, 40, 81);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, &in, 1), 1);
	tx_post(&b, 1, data, sizeof(data));
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 1, b.mp, m, 2), 1);
	ASSERT_MEM_EQ(rte_pktmbuf_mtod(m[0], uint8_t *), data, sizeof(data));
	ASSERT_FALSE(rxq(&b, 0)->broken);
	ASSERT_FALSE(txq(&b, 1)->broken);
	ASSERT_EQ(rxq(&b, 0)->stats.errors, 0);
	ASSERT_EQ(txq(&b, 1)->stats.errors, 0);
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m + 1, 1), 0);
	rte_pktmbuf_free(m[0]);
	rte_pktmbuf_free(in);
	bx_fini(&b);
}

TEST(dequeue_then_enqueue_round_trips_a_packet_between_pairs)
{
	static uint8_t data[3000], got[3000];
	struct rte_mbuf *m;
	struct bx b;
	uint64_t gpa;

	bx_init(&b, RING_SIZE);
	vhu_net_q(rxq(&b, 1))->mrg_rxbuf = true;
	fill(data, sizeof(data), 90);
	tx_post(&b, 0, data, sizeof(data));
	gpa = rx_post(&b, 1, 4096, NULL);
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, &m, 1), 1);
	ASSERT_EQ(m->nb_segs, 2);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 1, &m, 1), 1);
	guest_read(&b.g, gpa + HDR, got, sizeof(got));
	ASSERT_MEM_EQ(got, data, sizeof(data));
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

/* ---- dirty logging and the post-migration RARP ---- */

/* Give the device a dirty log of 'bytes' bytes (all clear); returns the bitmap. */
static const uint8_t *
give_log(struct bx *b, uint64_t bytes)
{
	struct vhost_user_log l = { .mmap_size = bytes, .mmap_offset = 0 };
	int fd = memfd_create("vhu-unit-log", MFD_CLOEXEC);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, (off_t)bytes), 0);
	ASSERT_EQ(vhu_log_set_base(b->dev, &l, fd), VHU_MSG_OK);	/* takes the fd */
	return b->dev->log->bitmap;
}

TEST(enqueue_with_dirty_logging_marks_the_pages_it_wrote)
{
	int maps = count_memfd_mappings();
	const uint8_t *bitmap;
	struct rte_mbuf *m;
	uint64_t gpa, idle;
	struct bx b;

	bx_init(&b, RING_SIZE);
	bitmap = give_log(&b, 4096);
	rxq(&b, 0)->logging = true;
	/* A buffer that starts one byte before a page boundary. */
	gpa = guest_alloc(&b.g, 8192, 4096) + 4095;
	idle = gpa + 8192;
	{
		uint32_t len = 2048;

		post_range(&b, 0, gpa, &len, 1, VRING_DESC_F_WRITE);
	}
	m = mk_pkt(&b, 100, 100);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, &m, 1), 1);
	ASSERT_TRUE(log_page_dirty(bitmap, gpa));
	ASSERT_TRUE(log_page_dirty(bitmap, gpa + 1));		/* the next page */
	ASSERT_TRUE(log_page_dirty(bitmap, guest_gpa_of(&b.g, &rxq(&b, 0)->used->ring[0])));
	ASSERT_TRUE(log_page_dirty(bitmap, guest_gpa_of(&b.g, &rxq(&b, 0)->used->idx)));
	ASSERT_FALSE(log_page_dirty(bitmap, idle));
	rte_pktmbuf_free(m);
	bx_fini(&b);
	ASSERT_EQ(count_memfd_mappings(), maps);	/* the reset unmapped the log */
}

TEST(enqueue_with_dirty_logging_marks_the_page_of_the_used_entry)
{
	const uint16_t size = 1024;
	const uint8_t *bitmap;
	struct rte_mbuf *m;
	struct vhu_vq *vq;
	uint16_t k;
	struct bx b;

	bx_init(&b, size);
	vq = rxq(&b, 0);
	/* An entry on another page than used->idx (8 KiB of entries). */
	for (k = 0; k < size; k++)
		if (guest_gpa_of(&b.g, &vq->used->ring[k]) >> 12 !=
		    guest_gpa_of(&b.g, &vq->used->idx) >> 12)
			break;
	ASSERT_LT(k, size);
	vq->last_avail_idx = vq->last_used_idx = k;
	vq->avail->idx = vq->used->idx = k;
	rx_post(&b, 0, 256, NULL);
	bitmap = give_log(&b, 4096);
	vq->logging = true;
	m = mk_pkt(&b, 60, 101);
	ASSERT_EQ(vhu_vhost_enqueue_burst(b.dev, 0, &m, 1), 1);
	ASSERT_EQ(vq->used->ring[k].len, HDR + 60);
	ASSERT_TRUE(log_page_dirty(bitmap, guest_gpa_of(&b.g, &vq->used->ring[k])));
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(dequeue_with_dirty_logging_marks_the_used_ring_only)
{
	const uint8_t *bitmap;
	struct rte_mbuf *m;
	uint8_t data[64];
	uint64_t gpa;
	struct bx b;

	bx_init(&b, RING_SIZE);
	bitmap = give_log(&b, 4096);
	txq(&b, 0)->logging = true;
	fill(data, sizeof(data), 110);
	gpa = guest_alloc(&b.g, 4096, 4096);
	memset(guest_ptr(&b.g, gpa), 0, HDR);
	guest_write(&b.g, gpa + HDR, data, sizeof(data));
	{
		uint32_t len = HDR + sizeof(data);

		post_range(&b, 1, gpa, &len, 1, 0);
	}
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, &m, 1), 1);
	ASSERT_TRUE(log_page_dirty(bitmap, guest_gpa_of(&b.g, &txq(&b, 0)->used->ring[0])));
	ASSERT_FALSE(log_page_dirty(bitmap, gpa));	/* read, not written */
	rte_pktmbuf_free(m);
	bx_fini(&b);
}

TEST(dequeue_after_send_rarp_announces_the_guest_mac_first)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	struct vhost_user_msg msg;
	struct rte_mbuf *m[4];
	uint8_t data[40], *p;
	char why[160] = "";
	struct bx b;

	bx_init(&b, RING_SIZE);
	b.dev->protocol_features = VHU_BIT(VHOST_USER_PROTOCOL_F_RARP);
	memset(&msg, 0, sizeof(msg));
	msg.hdr.request = VHOST_USER_SEND_RARP;
	msg.hdr.flags = VHOST_USER_VERSION;
	msg.hdr.size = sizeof(uint64_t);
	memcpy(&msg.payload.u64, mac, sizeof(mac));
	ASSERT_EQ(vhu_msg_validate(b.dev, &msg, 0, why, sizeof(why)), 0);
	ASSERT_EQ(vhu_msg_handle(b.dev, &msg, NULL, 0), VHU_MSG_OK);
	fill(data, sizeof(data), 120);
	tx_post(&b, 1, data, sizeof(data));	/* pair 1 does not announce */
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 1, b.mp, m, 4), 1);
	rte_pktmbuf_free(m[0]);
	tx_post(&b, 0, data, sizeof(data));
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 4), 2);
	p = rte_pktmbuf_mtod(m[0], uint8_t *);
	ASSERT_EQ(m[0]->pkt_len, 60);
	ASSERT_MEM_EQ(p, "\xff\xff\xff\xff\xff\xff", 6);
	ASSERT_MEM_EQ(p + 6, mac, 6);
	ASSERT_MEM_EQ(p + 12, "\x80\x35", 2);			/* RARP */
	ASSERT_MEM_EQ(p + 20, "\x00\x03", 2);			/* reverse request */
	ASSERT_MEM_EQ(p + 22, mac, 6);				/* sender */
	ASSERT_MEM_EQ(p + 32, mac, 6);				/* target */
	ASSERT_MEM_EQ(rte_pktmbuf_mtod(m[1], uint8_t *), data, sizeof(data));
	rte_pktmbuf_free_bulk(m, 2);
	/* Once only. */
	tx_post(&b, 0, data, sizeof(data));
	ASSERT_EQ(vhu_vhost_dequeue_burst(b.dev, 0, b.mp, m, 4), 1);
	ASSERT_EQ(m[0]->pkt_len, sizeof(data));
	rte_pktmbuf_free(m[0]);
	bx_fini(&b);
}

/* ---- the same bursts on packed rings ---- */

/* Pair 0 of a device whose two rings are packed; the driver's side in 'pd'. */
struct pbx {
	struct bx b;
	struct packed_drv pd[2];	/* [0] the rx ring, [1] the tx ring */
};

static void
pbx_init(struct pbx *p)
{
	uint16_t q;

	bx_init(&p->b, RING_SIZE);
	for (q = 0; q < 2; q++)
		guest_packed_ring_init(&p->b.g, p->b.dev->vq[q], RING_SIZE, &p->pd[q]);
}

/*
 * Did the device write into the buffer of the used descriptor the driver of
 * ring q reads next? Its WRITE flag says (virtio 1.2, 2.8 "Write Flag").
 */
static bool
pnext_used_wrote(const struct pbx *p, uint16_t q)
{
	const struct vring_packed_desc *d = &p->b.dev->vq[q]->desc_packed[p->pd[q].used_idx];

	return (__atomic_load_n(&d->flags, __ATOMIC_ACQUIRE) & VRING_DESC_F_WRITE) != 0;
}

/* Driver TX: 'n' packets of 'len' bytes (seed i), each header + data in one descriptor. */
static void
ptx_post(struct pbx *p, uint16_t n, uint32_t len, bool split_header)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		uint64_t gpa = guest_alloc(&p->b.g, HDR + len, 8);
		uint8_t *buf = guest_ptr(&p->b.g, gpa);
		struct vring_packed_desc d[2] = {
			{ .addr = gpa, .len = HDR, .id = i, .flags = VRING_DESC_F_NEXT },
			{ .addr = gpa + HDR, .len = len, .id = i },
		};

		memset(buf, 0, HDR);
		fill(buf + HDR, len, (uint8_t)i);
		if (split_header) {
			pdrv_post(&p->pd[1], d, 2);
		} else {
			d[0] = (struct vring_packed_desc){ .addr = gpa, .len = HDR + len, .id = i };
			pdrv_post(&p->pd[1], d, 1);
		}
	}
}

static void
packed_dequeue(bool split_header)
{
	struct rte_mbuf *m[8];
	uint8_t want[100], got[100];
	struct pbx p;
	uint16_t i, id;
	uint32_t len;

	pbx_init(&p);
	ptx_post(&p, 8, 100, split_header);
	ASSERT_EQ(vhu_vhost_dequeue_burst(p.b.dev, 0, p.b.mp, m, 8), 8);
	for (i = 0; i < 8; i++) {
		fill(want, sizeof(want), (uint8_t)i);
		ASSERT_EQ(flatten(m[i], got, sizeof(got)), 100);
		ASSERT_MEM_EQ(got, want, sizeof(want));
		ASSERT_FALSE(pnext_used_wrote(&p, 1));
		ASSERT_TRUE(pdrv_take_used(&p.pd[1], &id, &len));
		ASSERT_EQ(id, i);
		ASSERT_EQ(len, 0);
	}
	ASSERT_FALSE(pdrv_take_used(&p.pd[1], &id, &len));
	/* One-descriptor chains in whole cache lines take the four-slot batch. */
	ASSERT_EQ(txq(&p.b, 0)->stats.batched, split_header ? 0 : 8);
	rte_pktmbuf_free_bulk(m, 8);
	bx_fini(&p.b);
}

TEST(packed_dequeue_returns_packets_without_their_headers_in_ring_order)
{
	packed_dequeue(false);
}

TEST(packed_dequeue_strips_a_header_in_a_descriptor_of_its_own)
{
	packed_dequeue(true);
}

TEST(packed_enqueue_writes_headers_then_the_packets)
{
	struct virtio_net_hdr_mrg_rxbuf hdr, want_hdr;
	struct rte_mbuf *m[5];
	uint64_t gpa[5];
	uint8_t got[200];
	struct pbx p;
	uint16_t i, id;
	uint32_t len;

	pbx_init(&p);
	for (i = 0; i < 5; i++) {
		struct vring_packed_desc d;

		gpa[i] = guest_alloc(&p.b.g, 2048, 64);
		d = (struct vring_packed_desc){ .addr = gpa[i], .len = 2048, .id = i,
						.flags = VRING_DESC_F_WRITE };
		pdrv_post(&p.pd[0], &d, 1);
		m[i] = mk_pkt(&p.b, 100 + 20 * i, (uint8_t)(30 + i));
	}
	ASSERT_EQ(vhu_vhost_enqueue_burst(p.b.dev, 0, m, 5), 5);
	memset(&want_hdr, 0, sizeof(want_hdr));
	want_hdr.num_buffers = 1;
	for (i = 0; i < 5; i++) {
		ASSERT_TRUE(pnext_used_wrote(&p, 0));
		ASSERT_TRUE(pdrv_take_used(&p.pd[0], &id, &len));
		ASSERT_EQ(id, i);
		ASSERT_EQ(len, HDR + 100 + 20 * i);
		guest_read(&p.b.g, gpa[i], &hdr, sizeof(hdr));
		ASSERT_MEM_EQ(&hdr, &want_hdr, sizeof(hdr));
		guest_read(&p.b.g, gpa[i] + HDR, got, 100 + 20 * i);
		ASSERT_MEM_EQ(got, rte_pktmbuf_mtod(m[i], uint8_t *), 100 + 20 * i);
	}
	ASSERT_EQ(rxq(&p.b, 0)->stats.batched, 4);	/* four slots of a line, then one */
	rte_pktmbuf_free_bulk(m, 5);
	bx_fini(&p.b);
}

TEST(packed_enqueue_spreads_a_packet_over_mergeable_buffers)
{
	struct virtio_net_hdr_mrg_rxbuf hdr;
	uint8_t got[300];
	struct rte_mbuf *m;
	uint64_t gpa[3];
	struct pbx p;
	uint16_t i, id;
	uint32_t len;

	pbx_init(&p);
	vhu_net_q(rxq(&p.b, 0))->mrg_rxbuf = true;
	for (i = 0; i < 3; i++) {
		struct vring_packed_desc d;

		gpa[i] = guest_alloc(&p.b.g, 128, 64);
		d = (struct vring_packed_desc){ .addr = gpa[i], .len = 128, .id = i,
						.flags = VRING_DESC_F_WRITE };
		pdrv_post(&p.pd[0], &d, 1);
	}
	m = mk_pkt(&p.b, 300, 9);	/* 12 + 300 bytes: three buffers of 128 */
	ASSERT_EQ(vhu_vhost_enqueue_burst(p.b.dev, 0, &m, 1), 1);
	guest_read(&p.b.g, gpa[0], &hdr, sizeof(hdr));
	ASSERT_EQ(hdr.num_buffers, 3);
	guest_read(&p.b.g, gpa[0] + HDR, got, 128 - HDR);
	guest_read(&p.b.g, gpa[1], got + 128 - HDR, 128);
	guest_read(&p.b.g, gpa[2], got + 256 - HDR, 300 - (256 - HDR));
	ASSERT_MEM_EQ(got, rte_pktmbuf_mtod(m, uint8_t *), 300);
	for (i = 0; i < 3; i++) {
		ASSERT_TRUE(pnext_used_wrote(&p, 0));
		ASSERT_TRUE(pdrv_take_used(&p.pd[0], &id, &len));
		ASSERT_EQ(id, i);
		ASSERT_EQ(len, i < 2 ? 128 : HDR + 300 - 256);
	}
	rte_pktmbuf_free(m);
	bx_fini(&p.b);
}
