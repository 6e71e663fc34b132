/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inflight I/O tracking across a backend crash (INFLIGHT_SHMFD). A device
 * gets GET_INFLIGHT_FD, moves traffic through the real bursts, and is
 * stopped at a chosen point of a burst as a crash would stop it (this test
 * builds the backend with VHU_INFLIGHT_TEST_HOOK, see vhost_inflight.h). A
 * second, fresh device then gets SET_INFLIGHT_FD with the same buffer and
 * the ring state the front-end has: guest memory as the first one left it,
 * and the base the front-end sent the first time (QEMU cannot ask a dead
 * backend where it was, so it sends what it last knew).
 *
 * What must hold: the driver gets every buffer it made available back
 * exactly once. The chains in flight at the crash are processed again (a
 * guest packet arrives once more, a receive buffer is filled by the new
 * device), no chain the driver already got back is processed again, and the
 * ring goes on working afterwards.
 */
#include <setjmp.h>
#include <stdio.h>

#include <rte_mbuf.h>

#include "guest.h"
#include "msg_helpers.h"
#include "unit_eal.h"
#include "vhost_inflight.h"
#include "virtq_verbs.h"
#include "vhu_vhost.h"

#define RAM_SIZE (2u << 20)
#define RING_OFF 0x10000	/* ring i's areas at RING_OFF + i * RING_STRIDE */
#define RING_STRIDE 0x10000
#define AVAIL_AREA 0x1000	/* split avail ring / packed driver event area */
#define USED_AREA 0x2000	/* split used ring / packed device event area */
#define BUF_OFF 0x100000	/* ring i's buffers at BUF_OFF + i * BUF_STRIDE */
#define BUF_STRIDE 0x80000
#define BUF_LEN 256		/* each of the two buffers a chain may have */
#define HDR 12			/* virtio_net_hdr_mrg_rxbuf (VERSION_1) */
#define PKT_LEN 60		/* payload: a 4-byte sequence tag, then a pattern */
#define MAX_SEQ 2048		/* chains one test may post on a ring */
#define ID_BASE 0x200		/* packed buffer ids: ID_BASE + seq % ring size */
#define RX_TAG_BASE 100000	/* tags of the packets the host sends */

/* Where to stop the first device. */
static struct {
	const struct vhu_vq *vq;	/* the ring to stop, NULL when disarmed */
	enum vhu_inflight_point at;
	unsigned int n;			/* at its n-th arrival there */
	jmp_buf env;
} crash;

static void
crash_hook(const struct vhu_vq *vq, enum vhu_inflight_point at)
{
	if (vq != crash.vq || at != crash.at || --crash.n > 0)
		return;
	crash.vq = NULL;
	longjmp(crash.env, 1);
}

/* The driver's side of one ring, in the front-end's memory. */
struct drv {
	bool packed, tx, in_order;
	uint16_t size;
	uint32_t index;			/* ring index: 0 receive, 1 transmit */
	struct vhu_vq *vq;		/* ring pointers into the front-end's mapping */
	struct packed_drv pd;		/* packed: positions */
	uint16_t used_seen;		/* split: used entries taken */
	uint32_t posted;		/* chains posted, seq 0..posted-1 */
	uint32_t returned;		/* chains got back, always the oldest first */
	uint16_t ndesc[MAX_SEQ];	/* descriptors of chain seq */
	uint8_t times_returned[MAX_SEQ];
};

struct fe {
	int memfd;
	uint8_t *ram;
	bool packed, in_order;
	uint16_t size;
	uint32_t base;			/* SET_VRING_BASE, the same for both devices */
	int inflight_fd;		/* the buffer, as the front-end keeps it */
	struct vhost_user_inflight inflight; /* GET_INFLIGHT_FD's answer */
	struct drv d[2];
	struct rte_mempool *mp;
	/* Transmit: the tags each device delivered. */
	uint8_t delivered[MAX_SEQ];
};

static struct fe F;

static uint64_t
buf_gpa(const struct drv *d, uint32_t seq, unsigned int part)
{
	return BUF_OFF + (uint64_t)d->index * BUF_STRIDE +
	       (uint64_t)(seq % d->size) * 2 * BUF_LEN + part * BUF_LEN;
}

static uint16_t
buf_id(const struct drv *d, uint32_t seq)
{
	/* Split: the head descriptor, each chain having two of them (so at most
	 * size / 2 chains may be outstanding); packed: an id unlike the slots. */
	return d->packed ? (uint16_t)(ID_BASE + seq % d->size) :
			   (uint16_t)(2 * seq % d->size);
}

static void
fill_pkt(uint8_t *p, uint32_t tag)
{
	uint32_t i;

	memcpy(p, &tag, sizeof(tag));
	for (i = sizeof(tag); i < PKT_LEN; i++)
		p[i] = (uint8_t)(tag + i);
}

/* The tag of a packet, after checking its pattern. */
static uint32_t
pkt_tag(const uint8_t *p)
{
	uint32_t tag, i;

	memcpy(&tag, p, sizeof(tag));
	for (i = sizeof(tag); i < PKT_LEN; i++)
		if (p[i] != (uint8_t)(tag + i))
			th_fail(__FILE__, __LINE__, "packet tagged %u: byte %u is 0x%02x", tag, i,
				p[i]);
	return tag;
}

/* ---- the front-end ---- */

static void
drv_init(struct fe *fe, uint32_t index, uint16_t slot, bool wrap)
{
	struct drv *d = &fe->d[index];
	uint8_t *area = fe->ram + RING_OFF + index * RING_STRIDE;

	memset(d, 0, sizeof(*d));
	d->packed = fe->packed;
	d->tx = index == 1;
	d->in_order = fe->in_order;
	d->size = fe->size;
	d->index = index;
	d->vq = fake_vq_new((uint16_t)index);
	d->vq->size = fe->size;
	if (fe->packed) {
		d->vq->desc_packed = (void *)area;
		d->pd.vq = d->vq;
		d->pd.avail_idx = d->pd.used_idx = slot;
		d->pd.avail_wrap = d->pd.used_wrap = wrap;
		/* The descriptors of the wrap round before: used ones. */
		for (uint16_t i = 0; i < fe->size; i++)
			d->vq->desc_packed[i].flags = (i < slot) == wrap ?
							      VRING_PACKED_DESC_F_AVAIL |
								      VRING_PACKED_DESC_F_USED :
							      0;
	} else {
		d->vq->desc = (void *)area;
		d->vq->avail = (void *)(area + AVAIL_AREA);
		d->vq->used = (void *)(area + USED_AREA);
		d->vq->avail->idx = slot;
		d->vq->used->idx = slot;
		d->used_seen = slot;
	}
}

/*
 * A front-end with guest memory, the driver of both rings at (slot, wrap)
 * (split: both indexes at 'slot'), and the base it will send.
 */
static void
fe_open(struct fe *fe, bool packed, bool in_order, uint16_t size, uint16_t slot, bool wrap)
{
	memset(fe, 0, sizeof(*fe));
	fe->mp = unit_pool(2047);
	fe->packed = packed;
	fe->in_order = in_order;
	fe->size = size;
	fe->base = packed ? (uint32_t)slot | (uint32_t)wrap << 15 : slot;
	fe->memfd = make_memfd(RAM_SIZE);
	fe->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fe->memfd, 0);
	if (fe->ram == MAP_FAILED)
		th_fail(__FILE__, __LINE__, "mmap guest: %s", strerror(errno));
	fe->inflight_fd = -1;
	drv_init(fe, 0, slot, wrap);
	drv_init(fe, 1, slot, wrap);
}

static void
fe_close(struct fe *fe)
{
	free(fe->d[0].vq);
	free(fe->d[1].vq);
	if (fe->inflight_fd >= 0)
		close(fe->inflight_fd);
	munmap(fe->ram, RAM_SIZE);
	close(fe->memfd);
}

static void
send_ok(struct vhu_vhost_dev *dev, struct vhost_user_msg *m, int *fds, int nfds)
{
	ASSERT_EQ(SEND(dev, m, fds, nfds), VHU_MSG_OK);
}

/*
 * A device brought up as a front-end does: features, then GET_INFLIGHT_FD
 * (the first device) and SET_INFLIGHT_FD (both, as QEMU does), the memory
 * table, and both rings from fe->base.
 */
static struct vhu_vhost_dev *
dev_up(struct fe *fe, bool first)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	uint64_t features = VHU_BIT(VIRTIO_F_VERSION_1) |
			    VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
			    (fe->packed ? VHU_BIT(VIRTIO_F_RING_PACKED) : 0) |
			    (fe->in_order ? VHU_BIT(VIRTIO_F_IN_ORDER) : 0);
	struct vhost_user_msg m;
	uint32_t i;
	int fds[1];

	msg_u64(&m, VHOST_USER_SET_PROTOCOL_FEATURES, PF(INFLIGHT_SHMFD));
	send_ok(dev, &m, NULL, 0);
	msg_u64(&m, VHOST_USER_SET_FEATURES, features);
	send_ok(dev, &m, NULL, 0);
	if (first) {
		msg_init(&m, VHOST_USER_GET_INFLIGHT_FD, sizeof(m.payload.inflight));
		m.payload.inflight.num_queues = 2;
		m.payload.inflight.queue_size = fe->size;
		ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
		ASSERT_GE(dev->reply_fd, 0);
		fe->inflight_fd = dup(dev->reply_fd);
		fe->inflight = m.payload.inflight;
	}
	msg_init(&m, VHOST_USER_SET_INFLIGHT_FD, sizeof(m.payload.inflight));
	m.payload.inflight = fe->inflight;
	fds[0] = dup(fe->inflight_fd);
	send_ok(dev, &m, fds, 1);
	fds[0] = dup(fe->memfd);
	msg_mem_table(&m, 1);
	msg_region(&m, 0, 0, RAM_SIZE, UVA_BASE, 0);
	send_ok(dev, &m, fds, 1);
	for (i = 0; i < 2; i++) {
		uint64_t area = UVA_BASE + RING_OFF + i * RING_STRIDE;

		msg_state(&m, VHOST_USER_SET_VRING_NUM, i, fe->size);
		send_ok(dev, &m, NULL, 0);
		msg_addr(&m, i, area, area + AVAIL_AREA, area + USED_AREA);
		send_ok(dev, &m, NULL, 0);
		msg_state(&m, VHOST_USER_SET_VRING_BASE, i, fe->base);
		send_ok(dev, &m, NULL, 0);
		msg_u64(&m, VHOST_USER_SET_VRING_KICK, i | VHOST_USER_VRING_NOFD_MASK);
		send_ok(dev, &m, NULL, 0);
		msg_state(&m, VHOST_USER_SET_VRING_ENABLE, i, 1);
		send_ok(dev, &m, NULL, 0);
		ASSERT_TRUE(dev->vq[i]->ready);
		if (fe->packed)
			ASSERT_NOT_NULL(dev->vq[i]->inflight_packed);
		else
			ASSERT_NOT_NULL(dev->vq[i]->inflight_split);
	}
	return dev;
}

/* Driver: make chain 'seq' available, of one descriptor or two ('two'). */
static void
drv_post(struct drv *d, bool two)
{
	uint32_t seq = d->posted;
	uint16_t w = d->tx ? 0 : VRING_DESC_F_WRITE, n = two ? 2 : 1;
	uint32_t len0 = d->tx ? (two ? HDR : HDR + PKT_LEN) : BUF_LEN;
	uint32_t len1 = d->tx ? PKT_LEN : BUF_LEN;

	ASSERT_LT(seq, MAX_SEQ);
	if (d->tx) {
		uint8_t *p = F.ram + buf_gpa(d, seq, 0);

		memset(p, 0, HDR);
		fill_pkt(two ? F.ram + buf_gpa(d, seq, 1) : p + HDR, seq);
	} else {
		memset(F.ram + buf_gpa(d, seq, 0), 0xee, 2 * BUF_LEN);
	}
	if (d->packed) {
		struct vring_packed_desc c[2] = {
			{ .addr = buf_gpa(d, seq, 0), .len = len0, .id = buf_id(d, seq),
			  .flags = w | (two ? VRING_DESC_F_NEXT : 0) },
			{ .addr = buf_gpa(d, seq, 1), .len = len1, .id = buf_id(d, seq), .flags = w },
		};

		pdrv_post(&d->pd, c, n);
	} else {
		uint16_t head = buf_id(d, seq);

		ASSERT_LT(seq - d->returned, d->size / 2u);
		drv_desc(d->vq, head, buf_gpa(d, seq, 0), len0, w | (two ? VRING_DESC_F_NEXT : 0),
			 head + 1);
		if (two)
			drv_desc(d->vq, head + 1, buf_gpa(d, seq, 1), len1, w, 0);
		drv_avail(d->vq, head);
	}
	d->ndesc[seq] = n;
	d->posted++;
}

/*
 * Driver: take what the device returned. Chains come back oldest first; a
 * used id that is not the oldest outstanding one (one already got back, or
 * one skipped) fails the test. Receive buffers must hold packet
 * RX_TAG_BASE + k for the k-th filled by the device named 'rx_next'.
 */
static uint32_t
drv_reap(struct drv *d, uint32_t *rx_next)
{
	uint32_t got = 0;

	for (;;) {
		uint16_t id, nbufs = 1;
		uint32_t len, seq = d->returned, k;

		if (d->packed) {
			bool any = d->in_order && d->tx ?
					   pdrv_take_used_in_order(&d->pd, &id, &len, &nbufs) :
					   pdrv_take_used(&d->pd, &id, &len);

			if (!any)
				break;
		} else {
			struct vring_used_elem e;

			if (__atomic_load_n(&d->vq->used->idx, __ATOMIC_ACQUIRE) == d->used_seen)
				break;
			e = d->vq->used->ring[d->used_seen & (d->size - 1)];
			id = (uint16_t)e.id;
			len = e.len;
			d->used_seen++;
		}
		if (seq + nbufs - 1 >= d->posted)
			th_fail(__FILE__, __LINE__, "ring %u: used id %u, but every chain posted "
				"(%u) is back", d->index, id, d->posted);
		if (id != buf_id(d, seq + nbufs - 1))
			th_fail(__FILE__, __LINE__, "ring %u: used id %u, expected %u (chain %u): "
				"a chain returned twice or out of order", d->index, id,
				buf_id(d, seq + nbufs - 1), seq + nbufs - 1);
		for (k = 0; k < nbufs; k++)
			d->times_returned[seq + k]++;
		if (!d->tx && rx_next != NULL) {
			ASSERT_EQ(len, HDR + PKT_LEN);
			ASSERT_EQ(pkt_tag(F.ram + buf_gpa(d, seq, 0) + HDR),
				  RX_TAG_BASE + *rx_next);
			(*rx_next)++;
		}
		d->returned += nbufs;
		got += nbufs;
	}
	return got;
}

/* ---- the device's side ---- */

/* Host: receive up to 'n' packets from the guest; mark their tags delivered. */
static uint16_t
host_rx(struct vhu_vhost_dev *dev, uint16_t n)
{
	struct rte_mbuf *pkts[VHU_MAX_BURST] = { NULL };
	uint16_t got, i;

	got = vhu_vhost_dequeue_burst(dev, 0, F.mp, pkts, n);
	for (i = 0; i < got; i++) {
		uint32_t tag;

		ASSERT_EQ(rte_pktmbuf_pkt_len(pkts[i]), PKT_LEN);
		tag = pkt_tag(rte_pktmbuf_mtod(pkts[i], uint8_t *));
		ASSERT_LT(tag, MAX_SEQ);
		if (F.delivered[tag] != 0)
			th_fail(__FILE__, __LINE__, "guest packet %u delivered twice", tag);
		F.delivered[tag]++;
	}
	rte_pktmbuf_free_bulk(pkts, got);
	return got;
}

/* Host: send 'n' packets tagged RX_TAG_BASE + first + k to the guest. */
static uint16_t
host_tx(struct vhu_vhost_dev *dev, uint32_t first, uint16_t n)
{
	struct rte_mbuf *pkts[VHU_MAX_BURST];
	uint16_t sent, i;

	for (i = 0; i < n; i++) {
		pkts[i] = rte_pktmbuf_alloc(F.mp);
		ASSERT_NOT_NULL(pkts[i]);
		fill_pkt((uint8_t *)rte_pktmbuf_append(pkts[i], PKT_LEN), RX_TAG_BASE + first + i);
	}
	sent = vhu_vhost_enqueue_burst(dev, 0, pkts, n);
	rte_pktmbuf_free_bulk(pkts, n);	/* the backend copied what it took */
	return sent;
}

/*
 * Run one burst of 'n' on the device's ring 'index' and stop it at its
 * 'nth' arrival at 'at', as a crash would. The burst must get there.
 */
static void
crash_in_burst(struct vhu_vhost_dev *dev, uint32_t index, uint16_t n,
	       enum vhu_inflight_point at, unsigned int nth)
{
	/* Static: what longjmp() skips over must not live in its frame. */
	static struct rte_mbuf *pkts[VHU_MAX_BURST];
	static uint16_t i;

	memset(pkts, 0, sizeof(pkts));
	if (index == 0)
		for (i = 0; i < n; i++) {
			pkts[i] = rte_pktmbuf_alloc(F.mp);
			ASSERT_NOT_NULL(pkts[i]);
			fill_pkt((uint8_t *)rte_pktmbuf_append(pkts[i], PKT_LEN), 0xdead0000 + i);
		}
	crash.vq = dev->vq[index];
	crash.at = at;
	crash.n = nth;
	vhu_inflight_test_hook = crash_hook;
	if (setjmp(crash.env) == 0) {
		if (index == 1)
			vhu_vhost_dequeue_burst(dev, 0, F.mp, pkts, n);
		else
			vhu_vhost_enqueue_burst(dev, 0, pkts, n);
		vhu_inflight_test_hook = NULL;
		th_fail(__FILE__, __LINE__, "the burst ended before its crash point");
	}
	vhu_inflight_test_hook = NULL;
	/* What the dead burst held: its mark on the ring (or the device's reset
	 * would wait for it to leave), and its mbufs (allocated whole at its start). */
	vhu_vq_leave(dev->vq[index]);
	for (i = 0; i < VHU_MAX_BURST; i++)
		rte_pktmbuf_free(pkts[i]);
}

/* ---- scenarios ---- */

struct scenario {
	const char *name;
	bool packed;
	bool tx;		/* guest -> host (dequeue), else host -> guest */
	bool in_order;
	uint16_t size;		/* ring entries */
	uint16_t slot;		/* where the rings start, and the base sent */
	bool wrap;		/* packed: its wrap counter */
	uint16_t warm;		/* chains the first device completes before */
	uint16_t burst;		/* chains in the burst that crashes */
	bool two;		/* chains of two descriptors, every other one */
	enum vhu_inflight_point at;
	unsigned int nth;	/* its arrival there that crashes */
	bool refill;		/* the driver fills the ring up while the backend is down */
};

/* Post 'n' chains on d (every other of two descriptors if 'two'). */
static void
post_n(struct drv *d, uint32_t n, bool two)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		drv_post(d, two && (d->posted & 1) != 0);
}

/* Let the device take everything available, in bursts of up to 'b'. */
static void
drain(struct vhu_vhost_dev *dev, struct drv *d, uint16_t b, uint32_t *rx_tag)
{
	unsigned int guard;

	for (guard = 0; guard < 4 * MAX_SEQ; guard++) {
		uint16_t got;

		got = d->tx ? host_rx(dev, b) : host_tx(dev, *rx_tag, b);
		drv_reap(d, rx_tag);
		if (got == 0)
			return;
	}
	th_fail(__FILE__, __LINE__, "the device never stops taking chains");
}

static void
run(const void *arg)
{
	const struct scenario *s = arg;
	struct vhu_vhost_dev *dev;
	uint32_t ring = s->tx ? 1 : 0, rx_tag = 0, before, i, backlog;
	struct drv *d;

	fe_open(&F, s->packed, s->in_order, s->size, s->slot, s->wrap);
	d = &F.d[ring];
	dev = dev_up(&F, true);

	/* Warm up: complete 'warm' chains, in bursts of at most a quarter ring. */
	while (d->posted < s->warm) {
		uint32_t n = RTE_MIN((uint32_t)s->size / 4, s->warm - d->posted);

		post_n(d, n, s->two);
		drain(dev, d, (uint16_t)n, &rx_tag);
	}
	ASSERT_EQ(d->returned, s->warm);

	/* The burst that crashes, with more behind it that it does not reach. */
	post_n(d, s->burst, s->two);
	backlog = RTE_MIN((uint32_t)s->size - s->burst, 5u);
	crash_in_burst(dev, ring, s->burst, s->at, s->nth);
	post_n(d, backlog, s->two);
	drv_reap(d, NULL);
	before = d->returned;
	if (s->at == VHU_INFLIGHT_AT_PUBLISHED)
		ASSERT_EQ(before, s->warm + s->burst);	/* the driver got them back */
	else
		ASSERT_EQ(before, s->warm);		/* the crash was before it could */
	/* A guest goes on posting while the backend is down: into every slot it
	 * got back, the crashed burst's included if it reached the driver. */
	if (s->refill)
		post_n(d, s->size - (d->posted - d->returned), false);
	fake_dev_free(dev);

	/* The restarted backend. */
	dev = dev_up(&F, false);
	drain(dev, d, 32, &rx_tag);
	ASSERT_FALSE(dev->vq[ring]->broken);
	if (d->returned != d->posted)
		th_fail(__FILE__, __LINE__, "ring %u: %u chains never came back after the "
			"restart (of %u posted; %u back before it)", ring, d->posted - d->returned,
			d->posted, before);
	/* And it goes on, across the end of the ring. */
	for (i = 0; i < 2; i++) {
		post_n(d, s->size / 4 + 3, s->two);
		drain(dev, d, 32, &rx_tag);
		ASSERT_EQ(d->returned, d->posted);
	}
	ASSERT_FALSE(dev->vq[ring]->broken);

	for (i = 0; i < d->posted; i++)
		if (d->times_returned[i] != 1)
			th_fail(__FILE__, __LINE__, "chain %u came back %u times", i,
				d->times_returned[i]);
	if (s->tx)
		for (i = 0; i < d->posted; i++) {
			/* Chains the driver got back in the crashed burst are lost to
			 * the host (they died with it); every other packet arrives once. */
			bool lost = s->at == VHU_INFLIGHT_AT_PUBLISHED && i >= s->warm &&
				    i < s->warm + s->burst;

			if (F.delivered[i] != (lost ? 0 : 1))
				th_fail(__FILE__, __LINE__, "guest packet %u delivered %u times, "
					"expected %u", i, F.delivered[i], lost ? 0 : 1);
		}
	fake_dev_free(dev);
	fe_close(&F);
}

#define T VHU_INFLIGHT_AT_TAKEN
#define P VHU_INFLIGHT_AT_PUBLISHING
#define D VHU_INFLIGHT_AT_PUBLISHED

static const struct scenario scenarios[] = {
	/* Split rings resume at used->idx, which the driver's memory keeps. */
	{ "split_tx_crash_after_takes_resubmits_them", false, true, false, 64, 0, true,
	  20, 12, false, T, 7 },
	{ "split_tx_crash_with_used_entries_written_resubmits_them", false, true, false, 256, 0,
	  true, 30, 100, true, T, 90 },
	{ "split_tx_crash_after_publish_resubmits_nothing_published", false, true, false, 64, 0,
	  true, 20, 12, false, D, 1 },
	{ "split_rx_crash_after_takes_fills_the_buffers_again", false, false, false, 64, 0, true,
	  20, 12, true, T, 7 },
	{ "split_rx_crash_after_publish_resubmits_nothing_published", false, false, false, 64, 0,
	  true, 20, 12, false, D, 1 },
	{ "split_tx_crash_after_used_index_wraps", false, true, false, 64, 65530, true,
	  20, 12, false, T, 5 },
	/* Packed rings resume at the recorded used position. */
	{ "packed_tx_crash_after_takes_mid_ring", true, true, false, 64, 0, true,
	  20, 12, false, T, 7 },
	{ "packed_tx_crash_after_takes_at_slot_0_after_a_wrap", true, true, false, 64, 0, true,
	  64, 12, false, T, 7 },
	{ "packed_tx_crash_after_takes_mid_ring_after_a_wrap", true, true, false, 64, 0, true,
	  72, 12, false, T, 7 },
	{ "packed_tx_crash_after_takes_across_the_end_of_the_ring", true, true, false, 64, 0,
	  true, 40, 12, true, T, 10 },
	{ "packed_tx_crash_with_used_descriptors_written_resubmits_them", true, true, false, 256,
	  0, true, 30, 100, false, T, 90 },
	{ "packed_tx_crash_while_publishing_resubmits_the_burst", true, true, false, 64, 0, true,
	  20, 12, true, P, 1 },
	{ "packed_tx_crash_after_publish_resubmits_nothing_published", true, true, false, 64, 0,
	  true, 20, 12, false, D, 1 },
	{ "packed_tx_crash_after_publish_at_slot_0_after_a_wrap", true, true, false, 64, 0, true,
	  52, 12, false, D, 1 },
	{ "packed_tx_crash_after_publish_with_its_slots_posted_again", true, true, false, 64, 0,
	  true, 20, 12, false, D, 1, true },
	{ "packed_tx_in_order_crash_after_publish_with_its_slots_posted_again", true, true, true,
	  64, 0, true, 20, 12, false, D, 1, true },
	{ "packed_rx_crash_after_publish_with_its_slots_posted_again", true, false, false, 64, 0,
	  true, 52, 12, false, D, 1, true },
	{ "packed_tx_in_order_crash_while_publishing", true, true, true, 64, 0, true, 20, 12,
	  false, P, 1 },
	{ "packed_tx_in_order_crash_after_publish", true, true, true, 64, 0, true, 20, 12, false,
	  D, 1 },
	{ "packed_rx_crash_after_takes_fills_the_buffers_again", true, false, false, 64, 0, true,
	  20, 12, true, T, 7 },
	{ "packed_rx_crash_after_takes_at_slot_0_after_a_wrap", true, false, false, 64, 0, true,
	  64, 12, false, T, 3 },
	{ "packed_rx_crash_while_publishing_fills_the_buffers_again", true, false, false, 64, 0,
	  true, 20, 12, false, P, 1 },
	{ "packed_rx_crash_after_publish_resubmits_nothing_published", true, false, false, 64, 0,
	  true, 20, 12, false, D, 1 },
	/* A ring started (by the front-end's base) elsewhere than slot 0, round 1. */
	{ "packed_tx_crash_after_takes_from_a_base_in_wrap_round_0", true, true, false, 64, 9,
	  false, 20, 12, false, T, 7 },
	{ "packed_tx_crash_at_slot_0_round_1_two_laps_from_a_nonzero_base", true, true, false,
	  64, 9, true, 119, 12, false, T, 7 },
};

__attribute__((constructor)) static void
register_scenarios(void)
{
	size_t i;

	for (i = 0; i < RTE_DIM(scenarios); i++)
		th_register_arg(__FILE__, __LINE__, scenarios[i].name, run, &scenarios[i]);
}

/*
 * A fresh inflight buffer holds no position yet: a ring started at the
 * front-end's base (a migration's destination, say) must run from there.
 */
TEST(packed_fresh_buffer_leaves_the_base_alone)
{
	struct vhu_vhost_dev *dev;
	uint32_t tag = 0;
	struct drv *d;

	fe_open(&F, true, false, 64, 37, false);
	d = &F.d[1];
	dev = dev_up(&F, true);
	ASSERT_EQ(dev->vq[1]->last_avail_idx, 37);
	ASSERT_FALSE(dev->vq[1]->avail_wrap);
	post_n(d, 40, false);
	drain(dev, d, 16, &tag);
	ASSERT_EQ(d->returned, 40);
	ASSERT_FALSE(dev->vq[1]->broken);
	fake_dev_free(dev);
	fe_close(&F);
}
