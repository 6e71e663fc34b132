/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive chains of more pieces than one packet may span (VHU_VEC_MAX), on
 * split and packed rings (the enqueues of vhost_net_split.c and
 * vhost_net_packed.c). Such a chain is legal (a chain may be as long as the
 * ring) but more than the device gathers. The device uses its first
 * VHU_VEC_MAX pieces when the packet fits in them; when it does not, the
 * chain goes back to the guest used with length 0, counted in the ring's
 * errors and logged with the device, ring and head, and the packet goes into
 * the chains after it. Either way the chains behind it keep carrying
 * traffic, and so do the device's other rings.
 *
 * The device used to refuse every packet at such a chain, and since the guest
 * never takes back a buffer it has posted, the ring stopped for good,
 * without a count or a log line.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_log.h>
#include <rte_mbuf.h>

#include "fake_dev.h"
#include "guest.h"
#include "test_harness.h"
#include "unit_eal.h"
#include "vhu_vhost.h"

#define REGION_SIZE (512 * 1024)
#define RING_SIZE 512
#define HDR 12			/* virtio_net_hdr_mrg_rxbuf (VERSION_1) */
#define MANY 200		/* pieces of the long chain: more than VHU_VEC_MAX */
#define PIECE 16		/* bytes per piece: its first VHU_VEC_MAX hold 2048 */
#define SEG 1500		/* bytes per mbuf segment of a test packet */
#define ID0 40			/* packed buffer ids start here, unlike the slots */

struct lx {
	struct guest g;
	struct vhu_vhost_dev *dev;	/* 2 queue pairs; receive rings 0 and 2 */
	struct rte_mempool *mp;
	unsigned int pool_free;		/* free mbufs at the start */
	bool packed;
	struct packed_drv pd[4];	/* packed: the driver's side of each ring */
	uint16_t next_desc[4];		/* split: next unused descriptor per ring */
	uint16_t used_seen[4];		/* split: used entries the driver took */
	uint16_t next_id;		/* packed: next buffer id */
};

/* A chain the driver posted: its id (split head, packed buffer id) and memory. */
struct chain {
	uint16_t id;
	uint64_t gpa;
	uint32_t len;
};

static void
lx_init(struct lx *x, bool packed, bool mrg_rxbuf)
{
	uint16_t i;

	memset(x, 0, sizeof(*x));
	x->packed = packed;
	x->next_id = ID0;
	x->mp = unit_pool(255);
	x->pool_free = rte_mempool_avail_count(x->mp);
	guest_init(&x->g, 1, REGION_SIZE);
	x->dev = fake_dev_new(2, 0);
	x->dev->features = VHU_BIT(VIRTIO_F_VERSION_1) |
			   (mrg_rxbuf ? VHU_BIT(VIRTIO_NET_F_MRG_RXBUF) : 0) |
			   (packed ? VHU_BIT(VIRTIO_F_RING_PACKED) : 0);
	x->dev->features_set = true;
	x->dev->mem = guest_mem_copy(&x->g);
	for (i = 0; i < 4; i++) {
		struct vhu_vq *vq = x->dev->vq[i];

		if (packed)
			guest_packed_ring_init(&x->g, vq, RING_SIZE, &x->pd[i]);
		else
			guest_ring_init(&x->g, vq, RING_SIZE);
		vhu_net_q(vq)->mrg_rxbuf = mrg_rxbuf;
		vhu_net_q(vq)->features = x->dev->features;
		vq->dev = x->dev;
	}
}

static void
lx_fini(struct lx *x)
{
	fake_dev_free(x->dev);
	guest_fini(&x->g);
	ASSERT_EQ(rte_mempool_avail_count(x->mp), x->pool_free);
}

/*
 * Driver: post on ring 'vqi' a receive chain of 'n' descriptors of 'piece'
 * bytes each, over one stretch of guest memory filled with 0xee.
 */
static struct chain
post_chain(struct lx *x, uint16_t vqi, uint16_t n, uint32_t piece)
{
	static struct vring_packed_desc pc[RING_SIZE];
	struct vhu_vq *vq = x->dev->vq[vqi];
	struct chain c;
	uint16_t i;

	ASSERT_LE(n, RING_SIZE);
	c.len = (uint32_t)n * piece;
	c.gpa = guest_alloc(&x->g, c.len, 64);
	memset(guest_ptr(&x->g, c.gpa), 0xee, c.len);
	if (x->packed) {
		c.id = x->next_id++;
		for (i = 0; i < n; i++)
			pc[i] = (struct vring_packed_desc){
				.addr = c.gpa + (uint64_t)i * piece,
				.len = piece,
				.id = c.id,
				.flags = VRING_DESC_F_WRITE | (i + 1 < n ? VRING_DESC_F_NEXT : 0),
			};
		pdrv_post(&x->pd[vqi], pc, n);
		return c;
	}
	c.id = x->next_desc[vqi];
	for (i = 0; i < n; i++) {
		uint16_t d = (uint16_t)((c.id + i) % RING_SIZE);

		drv_desc(vq, d, c.gpa + (uint64_t)i * piece, piece,
			 VRING_DESC_F_WRITE | (i + 1 < n ? VRING_DESC_F_NEXT : 0),
			 (uint16_t)((d + 1) % RING_SIZE));
	}
	x->next_desc[vqi] = (uint16_t)((c.id + n) % RING_SIZE);
	drv_avail(vq, c.id);
	return c;
}

/* Driver: the next used entry of ring 'vqi', if the device published one. */
static bool
take_used(struct lx *x, uint16_t vqi, uint16_t *id, uint32_t *len)
{
	struct vhu_vq *vq = x->dev->vq[vqi];
	uint16_t idx;

	if (x->packed)
		return pdrv_take_used(&x->pd[vqi], id, len);
	idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
	if (idx == x->used_seen[vqi])
		return false;
	*id = (uint16_t)vq->used->ring[x->used_seen[vqi] % RING_SIZE].id;
	*len = vq->used->ring[x->used_seen[vqi] % RING_SIZE].len;
	x->used_seen[vqi]++;
	return true;
}

static void
expect_used(struct lx *x, uint16_t vqi, const struct chain *c, uint32_t len)
{
	uint16_t id = 0xffff;
	uint32_t got = 0xffffffff;

	ASSERT_TRUE(take_used(x, vqi, &id, &got));
	ASSERT_EQ(id, c->id);
	ASSERT_EQ(got, len);
}

static void
expect_no_used(struct lx *x, uint16_t vqi)
{
	uint16_t id;
	uint32_t len;

	ASSERT_FALSE(take_used(x, vqi, &id, &len));
}

static void
fill(uint8_t *p, uint32_t len, uint8_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 11 + (i >> 8));
}

/* A packet of 'len' pattern bytes, in segments of SEG; 'want' gets the bytes. */
static struct rte_mbuf *
mk_pkt(struct lx *x, uint32_t len, uint8_t seed, uint8_t *want)
{
	struct rte_mbuf *head = NULL;
	uint32_t off = 0;

	fill(want, len, seed);
	do {
		uint32_t n = RTE_MIN(len - off, (uint32_t)SEG);
		struct rte_mbuf *s = rte_pktmbuf_alloc(x->mp);
		uint8_t *p;

		ASSERT_NOT_NULL(s);
		p = (uint8_t *)rte_pktmbuf_append(s, (uint16_t)n);
		ASSERT_NOT_NULL(p);
		memcpy(p, want + off, n);
		if (head == NULL)
			head = s;
		else
			ASSERT_EQ(rte_pktmbuf_chain(head, s), 0);
		off += n;
	} while (off < len);
	return head;
}

/* Enqueue one packet of 'len' bytes on queue pair 'qp'; true if the ring took it. */
static bool
rx_send(struct lx *x, uint16_t qp, uint32_t len, uint8_t seed, uint8_t *want)
{
	struct rte_mbuf *m = mk_pkt(x, len, seed, want);
	uint16_t n = vhu_vhost_enqueue_burst(x->dev, qp, &m, 1);

	rte_pktmbuf_free(m);
	return n == 1;
}

/* The chains 'c[0..n)' hold a header with 'nbufs' then the packet 'want', in order. */
static void
expect_packet(struct lx *x, const struct chain *c, unsigned int n, uint16_t nbufs,
	      const uint8_t *want, uint32_t len)
{
	static uint8_t got[64 * 1024];
	struct virtio_net_hdr_mrg_rxbuf hdr;
	uint32_t off = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		ASSERT_LE(off + c[i].len, sizeof(got));
		guest_read(&x->g, c[i].gpa, got + off, c[i].len);
		off += c[i].len;
	}
	ASSERT_GE(off, HDR + len);
	memcpy(&hdr, got, sizeof(hdr));
	ASSERT_EQ(hdr.num_buffers, nbufs);
	ASSERT_MEM_EQ(got + HDR, want, len);
}

/* Nothing of chain 'c' was written. */
static void
expect_untouched(struct lx *x, const struct chain *c)
{
	const uint8_t *p = guest_ptr(&x->g, c->gpa);
	uint32_t k;

	for (k = 0; k < c->len; k++)
		if (p[k] != 0xee)
			th_fail(__FILE__, __LINE__, "chain %u byte %u was written (0x%02x)", c->id,
				k, p[k]);
}

/* Receive ring 2 (queue pair 1) carries a packet. */
static void
expect_other_pair_works(struct lx *x)
{
	struct chain c = post_chain(x, 2, 1, 2048);
	uint8_t want[300];

	ASSERT_TRUE(rx_send(x, 1, sizeof(want), 0x61, want));
	expect_used(x, 2, &c, HDR + sizeof(want));
	expect_packet(x, &c, 1, 1, want, sizeof(want));
	ASSERT_EQ(x->dev->vq[2]->stats.errors, 0);
}

/* ---- a packet that fits in the first VHU_VEC_MAX pieces ---- */

static void
packet_fitting_the_first_pieces_goes_there(bool packed)
{
	static uint8_t want1[1000], want2[500];
	struct vhu_vq *vq;
	struct chain c[2];
	struct lx x;

	lx_init(&x, packed, false);
	vq = x.dev->vq[0];
	c[0] = post_chain(&x, 0, MANY, PIECE);	/* 3200 bytes, the first 2048 usable */
	c[1] = post_chain(&x, 0, 1, 2048);
	ASSERT_TRUE(rx_send(&x, 0, sizeof(want1), 1, want1));
	ASSERT_TRUE(rx_send(&x, 0, sizeof(want2), 2, want2));
	expect_used(&x, 0, &c[0], HDR + sizeof(want1));
	expect_used(&x, 0, &c[1], HDR + sizeof(want2));
	expect_no_used(&x, 0);
	expect_packet(&x, &c[0], 1, 1, want1, sizeof(want1));
	expect_packet(&x, &c[1], 1, 1, want2, sizeof(want2));
	ASSERT_EQ(vq->stats.errors, 0);
	ASSERT_FALSE(vq->broken);
	lx_fini(&x);
}

TEST(split_rx_packet_fitting_the_first_pieces_of_a_long_chain_goes_there)
{
	packet_fitting_the_first_pieces_goes_there(false);
}

TEST(packed_rx_packet_fitting_the_first_pieces_of_a_long_chain_goes_there)
{
	packet_fitting_the_first_pieces_goes_there(true);
}

/* ---- a packet that does not ---- */

static void
long_chain_is_returned_unused(bool packed)
{
	static uint8_t want1[3000], want2[100], want3[700];
	struct vhu_vq *vq;
	struct chain c[4];
	const char *text;
	char head[32];
	struct lx x;

	lx_init(&x, packed, false);
	vq = x.dev->vq[0];
	c[0] = post_chain(&x, 0, MANY, PIECE);	/* 3200 bytes, but only 2048 usable */
	c[1] = post_chain(&x, 0, 1, 4096);
	c[2] = post_chain(&x, 0, 1, 2048);
	rte_log_set_level(vhu_vhost_logtype, RTE_LOG_WARNING);
	log_capture_start();
	ASSERT_TRUE(rx_send(&x, 0, sizeof(want1), 3, want1));
	text = log_capture_stop();
	rte_log_set_level(vhu_vhost_logtype, RTE_LOG_ERR);
	ASSERT_TRUE(rx_send(&x, 0, sizeof(want2), 4, want2));
	expect_used(&x, 0, &c[0], 0);
	expect_used(&x, 0, &c[1], HDR + sizeof(want1));
	expect_used(&x, 0, &c[2], HDR + sizeof(want2));
	expect_no_used(&x, 0);
	expect_untouched(&x, &c[0]);
	expect_packet(&x, &c[1], 1, 1, want1, sizeof(want1));
	expect_packet(&x, &c[2], 1, 1, want2, sizeof(want2));
	/* Counted once, and the operator is told whose chain it was. */
	ASSERT_EQ(vq->stats.errors, 1);
	ASSERT_FALSE(vq->broken);
	ASSERT_STR_CONTAINS(text, x.dev->path);
	ASSERT_STR_CONTAINS(text, "ring 0");
	snprintf(head, sizeof(head), "%s %u", packed ? "slot" : "head", 0);
	ASSERT_STR_CONTAINS(text, head);
	/* The ring goes on. */
	c[3] = post_chain(&x, 0, 1, 2048);
	ASSERT_TRUE(rx_send(&x, 0, sizeof(want3), 5, want3));
	expect_used(&x, 0, &c[3], HDR + sizeof(want3));
	expect_packet(&x, &c[3], 1, 1, want3, sizeof(want3));
	ASSERT_EQ(vq->stats.errors, 1);
	expect_other_pair_works(&x);
	lx_fini(&x);
}

TEST(split_rx_long_chain_too_short_for_the_packet_is_returned_unused)
{
	long_chain_is_returned_unused(false);
}

TEST(packed_rx_long_chain_too_short_for_the_packet_is_returned_unused)
{
	long_chain_is_returned_unused(true);
}

/*
 * Two in a row, and nothing else posted: both go back, the packet is left
 * with the caller (no buffer for it), and the next chain takes the next one.
 */
static void
long_chains_alone_are_returned_and_the_packet_refused(bool packed)
{
	static uint8_t want[3000];
	struct vhu_vq *vq;
	struct chain c[3];
	struct lx x;

	lx_init(&x, packed, false);
	vq = x.dev->vq[0];
	c[0] = post_chain(&x, 0, MANY, PIECE);
	c[1] = post_chain(&x, 0, MANY / 2 + 30, PIECE);
	ASSERT_FALSE(rx_send(&x, 0, sizeof(want), 6, want));
	expect_used(&x, 0, &c[0], 0);
	expect_used(&x, 0, &c[1], 0);
	expect_no_used(&x, 0);
	ASSERT_EQ(vq->stats.errors, 2);
	c[2] = post_chain(&x, 0, 1, 4096);
	ASSERT_TRUE(rx_send(&x, 0, sizeof(want), 7, want));
	expect_used(&x, 0, &c[2], HDR + sizeof(want));
	expect_packet(&x, &c[2], 1, 1, want, sizeof(want));
	ASSERT_FALSE(vq->broken);
	lx_fini(&x);
}

TEST(split_rx_long_chains_with_nothing_behind_are_returned_and_the_packet_refused)
{
	long_chains_alone_are_returned_and_the_packet_refused(false);
}

TEST(packed_rx_long_chains_with_nothing_behind_are_returned_and_the_packet_refused)
{
	long_chains_alone_are_returned_and_the_packet_refused(true);
}

/* ---- with MRG_RXBUF, a long chain after the packet's first buffer ---- */

/* The packet fits in the first buffer and the first pieces of the long one. */
static void
mergeable_packet_uses_the_first_pieces_of_a_long_second_chain(bool packed)
{
	static uint8_t want[3000];
	struct vhu_vq *vq;
	struct chain c[2];
	struct lx x;

	lx_init(&x, packed, true);
	vq = x.dev->vq[0];
	c[0] = post_chain(&x, 0, 1, 1024);
	c[1] = post_chain(&x, 0, MANY, PIECE);	/* 127 pieces (2032 bytes) fit behind c[0] */
	ASSERT_TRUE(rx_send(&x, 0, sizeof(want), 8, want));
	expect_used(&x, 0, &c[0], 1024);
	expect_used(&x, 0, &c[1], HDR + sizeof(want) - 1024);
	expect_no_used(&x, 0);
	expect_packet(&x, c, 2, 2, want, sizeof(want));
	ASSERT_EQ(vq->stats.errors, 0);
	lx_fini(&x);
}

TEST(split_rx_mergeable_packet_uses_the_first_pieces_of_a_long_second_chain)
{
	mergeable_packet_uses_the_first_pieces_of_a_long_second_chain(false);
}

TEST(packed_rx_mergeable_packet_uses_the_first_pieces_of_a_long_second_chain)
{
	mergeable_packet_uses_the_first_pieces_of_a_long_second_chain(true);
}

/*
 * It does not: the long chain goes back, and so does the buffer reserved
 * before it (the packet cannot reach past the long chain, and leaving the
 * two in place would stop every packet that needs both); the packet goes
 * into the chain after them.
 */
static void
mergeable_packet_moves_past_a_long_second_chain(bool packed)
{
	static uint8_t want[3500], want2[200];
	struct vhu_vq *vq;
	struct chain c[4];
	struct lx x;

	lx_init(&x, packed, true);
	vq = x.dev->vq[0];
	c[0] = post_chain(&x, 0, 1, 1024);
	c[1] = post_chain(&x, 0, MANY, PIECE);
	c[2] = post_chain(&x, 0, 1, 4096);
	c[3] = post_chain(&x, 0, 1, 2048);
	ASSERT_TRUE(rx_send(&x, 0, sizeof(want), 9, want));
	ASSERT_TRUE(rx_send(&x, 0, sizeof(want2), 10, want2));
	expect_used(&x, 0, &c[0], 0);
	expect_used(&x, 0, &c[1], 0);
	expect_used(&x, 0, &c[2], HDR + sizeof(want));
	expect_used(&x, 0, &c[3], HDR + sizeof(want2));
	expect_no_used(&x, 0);
	expect_untouched(&x, &c[0]);
	expect_untouched(&x, &c[1]);
	expect_packet(&x, &c[2], 1, 1, want, sizeof(want));
	expect_packet(&x, &c[3], 1, 1, want2, sizeof(want2));
	ASSERT_EQ(vq->stats.errors, 2);
	ASSERT_FALSE(vq->broken);
	expect_other_pair_works(&x);
	lx_fini(&x);
}

TEST(split_rx_mergeable_packet_moves_past_a_long_second_chain)
{
	mergeable_packet_moves_past_a_long_second_chain(false);
}

TEST(packed_rx_mergeable_packet_moves_past_a_long_second_chain)
{
	mergeable_packet_moves_past_a_long_second_chain(true);
}

/*
 * Chains each within the limit, which a packet would need together beyond
 * it: nothing is wrong with the chains, so they stay, and the packet is
 * refused (left with the caller); a smaller packet then goes into them.
 */
static void
mergeable_packet_over_too_many_short_chains_is_refused(bool packed)
{
	static uint8_t want[2500], want2[1000];
	struct vhu_vq *vq;
	struct chain c[2];
	struct lx x;

	lx_init(&x, packed, true);
	vq = x.dev->vq[0];
	c[0] = post_chain(&x, 0, 100, PIECE);	/* 1600 bytes */
	c[1] = post_chain(&x, 0, 100, PIECE);	/* 1600 more, but only 28 pieces fit */
	ASSERT_FALSE(rx_send(&x, 0, sizeof(want), 11, want));
	expect_no_used(&x, 0);
	ASSERT_EQ(vq->stats.errors, 0);
	ASSERT_TRUE(rx_send(&x, 0, sizeof(want2), 12, want2));
	expect_used(&x, 0, &c[0], HDR + sizeof(want2));
	expect_no_used(&x, 0);
	expect_packet(&x, &c[0], 1, 1, want2, sizeof(want2));
	ASSERT_FALSE(vq->broken);
	lx_fini(&x);
}

TEST(split_rx_mergeable_packet_over_too_many_short_chains_is_refused)
{
	mergeable_packet_over_too_many_short_chains_is_refused(false);
}

TEST(packed_rx_mergeable_packet_over_too_many_short_chains_is_refused)
{
	mergeable_packet_over_too_many_short_chains_is_refused(true);
}

/* ---- a guest re-posting long chains behind the device ---- */

/*
 * The guest of the test below: it keeps every slot of packed receive ring 0
 * posted with one long chain (an indirect table of MANY pieces), in the wrap
 * round in which the device will visit the slot next, judged from the
 * device's position. No driver may do that (it re-posts buffers it was never
 * given back), but a guest can.
 */
struct reposter {
	struct vhu_vq *vq;
	uint64_t table;		/* the indirect table's guest address */
	bool stop;		/* set by the test thread */
	bool started;		/* set once every slot is posted */
};

static void *
reposter_main(void *arg)
{
	struct reposter *r = arg;
	struct vhu_vq *vq = r->vq;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		/* Racy reads of the device's position, as a guest would guess it. */
		uint16_t at = __atomic_load_n(&vq->last_avail_idx, __ATOMIC_RELAXED), s;
		bool wrap = __atomic_load_n(&vq->avail_wrap, __ATOMIC_RELAXED);

		for (s = 0; s < vq->size; s++) {
			struct vring_packed_desc *d = &vq->desc_packed[s];

			d->addr = r->table;
			d->len = MANY * sizeof(struct vring_packed_desc);
			d->id = s;
			__atomic_store_n(&d->flags,
					 VRING_DESC_F_INDIRECT |
						 pdrv_avail_flags(s < at ? !wrap : wrap),
					 __ATOMIC_RELEASE);
		}
		__atomic_store_n(&r->started, true, __ATOMIC_RELEASE);
	}
	return NULL;
}

/*
 * Each chain is given back (too short for the packet), the device moves on,
 * and the guest has posted the slot again for the next lap: one burst must
 * still end, after at most one lap of the ring, with the packet refused.
 * Before the bound, the burst never returned (the alarm fails the test).
 */
TEST(packed_rx_burst_ends_when_the_guest_reposts_long_chains_behind_it)
{
	struct vring_packed_desc *table;
	struct rte_mbuf *m;
	static uint8_t want[3000];	/* more than the first VHU_VEC_MAX pieces hold */
	struct reposter r;
	struct vhu_vq *vq;
	pthread_t th;
	struct lx x;
	uint16_t k;

	lx_init(&x, true, false);
	vq = x.dev->vq[0];
	memset(&r, 0, sizeof(r));
	r.vq = vq;
	r.table = guest_alloc(&x.g, MANY * sizeof(*table), 64);
	table = guest_ptr(&x.g, r.table);
	for (k = 0; k < MANY; k++)
		table[k] = (struct vring_packed_desc){
			.addr = guest_alloc(&x.g, PIECE, 16),
			.len = PIECE,
			.flags = VRING_DESC_F_WRITE,
		};
	if (!unit_thread_elsewhere(&th, reposter_main, &r)) {
		th_diag("one CPU only: the guest cannot post while the burst runs; not tested");
		lx_fini(&x);
		return;
	}
	while (!__atomic_load_n(&r.started, __ATOMIC_ACQUIRE))
		sched_yield();
	m = mk_pkt(&x, sizeof(want), 3, want);
	alarm(20);
	ASSERT_EQ(vhu_vhost_enqueue_burst(x.dev, 0, &m, 1), 0);
	alarm(0);
	__atomic_store_n(&r.stop, true, __ATOMIC_RELAXED);
	ASSERT_EQ(pthread_join(th, NULL), 0);
	rte_pktmbuf_free(m);
	ASSERT_GE(vq->stats.errors, 1);
	ASSERT_LE(vq->stats.errors, RING_SIZE);
	ASSERT_FALSE(vq->broken);
	lx_fini(&x);
}
