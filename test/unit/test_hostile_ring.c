/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hostile guests: rings in synthetic guest memory that break the virtio rules
 * one way each, run through the public bursts (vhu_vhost_dequeue_burst() for
 * the guest's transmit ring, vhu_vhost_enqueue_burst() for its receive ring),
 * on split and on packed rings. Each row of the table below says what the
 * device must do with its ring:
 *
 *   BROKEN     latch the ring broken, for the reason given, and move nothing
 *              on it again until the front-end restarts it;
 *   DROPPED    (transmit) return the chain to the guest with nothing taken,
 *              count it, and carry on with the next chain;
 *   REFUSED    (receive) leave the packet with the caller, unplaced, without
 *              breaking the ring (the guest offered no buffer it can take);
 *   IDLE       see nothing available: move nothing, count nothing;
 *   DELIVERED  pass the packet byte for byte: the row is legal, if unusual;
 *   SURVIVED   anything but a crash or a touch outside guest memory.
 *
 * and, whatever the row, the device's three other rings (the other
 * direction of the pair, and both rings of the second pair) still carry a
 * packet each afterwards, and every mbuf goes back to the pool.
 *
 * Guest memory is four regions between PROT_NONE guard pages; region 2 is
 * left out of the memory table, a hole the guest may point into. A touch of
 * a guard page fails the row (the harness catches the fault); a build with
 * AddressSanitizer (scripts/sanitize.sh) watches the heap and the stack too.
 * Each row runs on a fresh device, so rows are independent: run one with
 * `test_hostile_ring NAME`.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "fake_dev.h"
#include "guest.h"
#include "test_harness.h"
#include "unit_eal.h"

#define REGION_SIZE (256 * 1024)
#define NREGIONS 4
#define HOLE 2			/* region left out of the memory table */
#define RING_SIZE 256
#define HDR 12			/* virtio_net_hdr_mrg_rxbuf, the rings' default */
#define PKT_LEN 60		/* the packet each row sends or receives */
#define POOL_SIZE 511
#define MAX_SEGS 300

enum layout { SPLIT, PACKED };
enum dir { TX, RX };
#define L_SPLIT (1u << SPLIT)
#define L_PACKED (1u << PACKED)
#define L_BOTH (L_SPLIT | L_PACKED)
#define D_TX (1u << TX)
#define D_RX (1u << RX)
#define D_BOTH (D_TX | D_RX)

enum outcome { SAME = 0, BROKEN, DROPPED, REFUSED, IDLE, DELIVERED, SURVIVED };

static const char *const outcome_names[] = {
	[SAME] = "same", [BROKEN] = "broken", [DROPPED] = "dropped", [REFUSED] = "refused",
	[IDLE] = "idle", [DELIVERED] = "delivered", [SURVIVED] = "survived",
};

/* A descriptor as a row describes it; NEXT is added by the posting helpers. */
struct hd {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;		/* WRITE, INDIRECT, or NEXT where a row forces it */
};

/* A piece of guest memory the packet occupies, in order. */
struct seg {
	uint64_t gpa;
	uint32_t len;
};

struct hx {
	struct guest g;
	struct vhu_mem *table;		/* the guest's regions less the hole */
	struct vhu_vhost_dev *dev;	/* 2 queue pairs: rings 0..3 */
	struct rte_mempool *mp;
	unsigned int pool_free;		/* free mbufs at the start */
	enum layout layout;
	struct packed_drv pd[4];	/* packed: the driver's side of each ring */
	uint16_t next_desc[4];		/* split: next unused descriptor per ring */
	uint16_t used_seen[4];		/* split: used entries the driver has read */
	/* What the row's chain holds, for filling (TX) and checking (RX). */
	struct seg segs[MAX_SEGS];
	uint32_t nsegs;
	struct virtio_net_hdr_mrg_rxbuf hdr;	/* TX: the header the runner writes */
	uint8_t payload[4096];			/* TX: the bytes after it, if set */
	uint32_t payload_len;			/* 0: a pattern */
	uint64_t rx_ol_flags;			/* RX: offload flags on the host's mbuf */
	uint8_t rx_l2, rx_l3;			/* RX: and its header lengths */
	int callfd;				/* an eventfd a row gave the ring, or -1 */
};

struct row {
	const char *name;
	unsigned int layouts;	/* L_* it applies to */
	unsigned int dirs;	/* D_* it applies to */
	void (*build)(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w);
	enum outcome tx, rx;	/* what the device must do */
	enum outcome packed_tx, packed_rx; /* on a packed ring, if different */
	const char *reason;	/* BROKEN: part of the reason latched */
	uint16_t ring_size;	/* 0: RING_SIZE */
};

/* ---- fixture ---- */

static void
hx_init(struct hx *h, enum layout layout, uint16_t ring_size)
{
	struct vhu_mem *t;
	uint32_t i, k = 0;

	memset(h, 0, sizeof(*h));
	h->layout = layout;
	h->callfd = -1;
	h->mp = unit_pool(POOL_SIZE);
	h->pool_free = rte_mempool_avail_count(h->mp);
	guest_init(&h->g, NREGIONS, REGION_SIZE);
	h->dev = fake_dev_new(2, 0);
	for (i = 0; i < 4; i++) {
		if (layout == PACKED)
			guest_packed_ring_init(&h->g, h->dev->vq[i], ring_size, &h->pd[i]);
		else
			guest_ring_init(&h->g, h->dev->vq[i], ring_size);
	}
	t = vhu_mem_alloc(NREGIONS - 1);
	ASSERT_NOT_NULL(t);
	for (i = 0; i < NREGIONS; i++)
		if (i != HOLE)
			t->regions[k++] = h->g.mem->regions[i];
	t->nregions = k;
	h->table = t;
	for (i = 0; i < 4; i++)
		h->dev->vq[i]->mem = t;
}

static void
hx_fini(struct hx *h)
{
	uint16_t i;

	for (i = 0; i < 4; i++)
		h->dev->vq[i]->callfd = -1;
	if (h->callfd >= 0)
		close(h->callfd);
	fake_dev_free(h->dev);
	vhu_mem_free(h->table, NULL); /* a table only: the guest owns the mappings */
	guest_fini(&h->g);
	ASSERT_EQ(rte_mempool_avail_count(h->mp), h->pool_free);
}

static void
pattern(uint8_t *p, uint32_t len, uint8_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 13 + (i >> 7));
}

/* Guest memory for a piece of the packet, recorded in order. */
static uint64_t
data(struct hx *h, uint32_t len)
{
	uint64_t gpa = guest_alloc(&h->g, len > 0 ? len : 1, 8);

	ASSERT_LT(h->nsegs, MAX_SEGS);
	h->segs[h->nsegs++] = (struct seg){ gpa, len };
	return gpa;
}

/* Record a piece the row placed itself (e.g. across two regions). */
static void
seg_at(struct hx *h, uint64_t gpa, uint32_t len)
{
	ASSERT_LT(h->nsegs, MAX_SEGS);
	h->segs[h->nsegs++] = (struct seg){ gpa, len };
}

/*
 * Offer a chain of 'n' descriptors on ring 'vqi', linked in order (NEXT on
 * all but the last, plus whatever flags each carries). Split: consecutive
 * table entries; packed: consecutive slots, the buffer id being the head slot.
 */
static uint16_t
post(struct hx *h, uint16_t vqi, const struct hd *c, uint16_t n)
{
	struct vhu_vq *vq = h->dev->vq[vqi];
	uint16_t i;

	if (h->layout == PACKED) {
		struct vring_packed_desc chain[RING_SIZE];
		uint16_t id = h->pd[vqi].avail_idx;

		ASSERT_LE(n, RING_SIZE);
		for (i = 0; i < n; i++) {
			chain[i].addr = c[i].addr;
			chain[i].len = c[i].len;
			chain[i].id = id;
			chain[i].flags = c[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		}
		return pdrv_post(&h->pd[vqi], chain, n);
	}
	{
		uint16_t head = h->next_desc[vqi] % vq->size, d = head;

		for (i = 0; i < n; i++) {
			uint16_t next = (uint16_t)((d + 1) % vq->size);

			drv_desc(vq, d, c[i].addr, c[i].len,
				 c[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0), next);
			d = next;
		}
		h->next_desc[vqi] = (uint16_t)(h->next_desc[vqi] + n);
		drv_avail(vq, head);
		return head;
	}
}

/*
 * An indirect table of 'n' entries in the ring's layout, linked in order for
 * a split ring; returns its guest address. 'gpa' non-zero places it there.
 */
static uint64_t
table_at(struct hx *h, uint64_t gpa, const struct hd *e, uint16_t n)
{
	uint16_t i;

	if (gpa == 0)
		gpa = guest_alloc(&h->g, (uint64_t)(n > 0 ? n : 1) * 16, 16);
	for (i = 0; i < n; i++) {
		if (h->layout == PACKED) {
			struct vring_packed_desc d = { .addr = e[i].addr, .len = e[i].len,
						       .flags = e[i].flags };

			guest_write(&h->g, gpa + i * sizeof(d), &d, sizeof(d));
		} else {
			struct vring_desc d = {
				.addr = e[i].addr, .len = e[i].len,
				.flags = e[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0),
				.next = (uint16_t)(i + 1),
			};

			guest_write(&h->g, gpa + i * sizeof(d), &d, sizeof(d));
		}
	}
	return gpa;
}

static uint64_t
table(struct hx *h, const struct hd *e, uint16_t n)
{
	return table_at(h, 0, e, n);
}

/* Used entries the device published since the last call, and the last one's id and len. */
static unsigned int
used_new(struct hx *h, uint16_t vqi, uint32_t *len)
{
	struct vhu_vq *vq = h->dev->vq[vqi];
	unsigned int n = 0;

	if (h->layout == PACKED) {
		uint16_t id;

		while (pdrv_take_used(&h->pd[vqi], &id, len))
			n++;
		return n;
	}
	while (__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) != h->used_seen[vqi]) {
		*len = vq->used->ring[h->used_seen[vqi] & (vq->size - 1)].len;
		h->used_seen[vqi]++;
		if (++n > vq->size)
			break;
	}
	return n;
}

/* Start ring 'vqi' at position 'pos' (split: a 16-bit index; packed: a slot, wrap 1). */
static void
start_at(struct hx *h, uint16_t vqi, uint16_t pos)
{
	struct vhu_vq *vq = h->dev->vq[vqi];

	vq->last_avail_idx = pos;
	vq->last_used_idx = pos;
	if (h->layout == PACKED) {
		h->pd[vqi].avail_idx = pos;
		h->pd[vqi].used_idx = pos;
		return;
	}
	vq->avail->idx = pos;
	vq->used->idx = pos;
	h->next_desc[vqi] = pos;
	h->used_seen[vqi] = pos;
}

/* Turn on the offloads a VHU_VHOST_CSUM|TSO device negotiates, as vhu_vq_try_start() does. */
static void
offload_on(struct vhu_vq *vq, uint64_t features)
{
	vhu_net_q(vq)->features = features | VHU_BIT(VIRTIO_F_VERSION_1);
	vhu_net_q(vq)->offload = true;
}

#define F_CSUM_TSO (VHU_BIT(VIRTIO_NET_F_CSUM) | VHU_BIT(VIRTIO_NET_F_GUEST_CSUM) | \
		    VHU_BIT(VIRTIO_NET_F_HOST_TSO4) | VHU_BIT(VIRTIO_NET_F_HOST_TSO6))

/* Ethernet + IPv4 (or IPv6) + TCP (or UDP) + 'plen' bytes, into h->payload. */
static uint32_t
mk_l4(struct hx *h, bool v6, bool udp, uint32_t plen)
{
	uint8_t *p = h->payload;
	uint32_t l3 = v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	uint32_t l4 = udp ? sizeof(struct rte_udp_hdr) : sizeof(struct rte_tcp_hdr);
	uint32_t len = 14 + l3 + l4 + plen;

	ASSERT_LE(len, sizeof(h->payload));
	memset(p, 0, len);
	memset(p, 0x02, 12);
	p[12] = v6 ? 0x86 : 0x08;
	p[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		struct rte_ipv6_hdr *ip = (void *)(p + 14);

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(l4 + plen));
		ip->proto = udp ? IPPROTO_UDP : IPPROTO_TCP;
		ip->hop_limits = 64;
	} else {
		struct rte_ipv4_hdr *ip = (void *)(p + 14);

		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(l3 + l4 + plen));
		ip->time_to_live = 64;
		ip->next_proto_id = udp ? IPPROTO_UDP : IPPROTO_TCP;
	}
	if (udp) {
		struct rte_udp_hdr *u = (void *)(p + 14 + l3);

		u->dgram_len = rte_cpu_to_be_16((uint16_t)(l4 + plen));
	} else {
		struct rte_tcp_hdr *t = (void *)(p + 14 + l3);

		t->data_off = 5 << 4;
	}
	pattern(p + 14 + l3 + l4, plen, 0x40);
	h->payload_len = len;
	return len;
}

/* ---- rows ---- */

/* A good packet: one descriptor holding the header and PKT_LEN bytes. */
static void
good(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd d = { data(h, HDR + PKT_LEN), HDR + PKT_LEN, w };

	post(h, vqi, &d, 1);
}

static void
b_self_loop(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	drv_desc(vq, 0, data(h, 16), 16, w | VRING_DESC_F_NEXT, 0);
	drv_avail(vq, 0);
}

static void
b_two_loop(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	drv_desc(vq, 0, data(h, 16), 16, w | VRING_DESC_F_NEXT, 1);
	drv_desc(vq, 1, data(h, 16), 16, w | VRING_DESC_F_NEXT, 0);
	drv_avail(vq, 0);
}

/* Every descriptor of the ring chained, the last back to the first (split) or on (packed). */
static void
b_longer_than_ring(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	uint64_t gpa = data(h, 64);
	uint16_t i;

	if (h->layout == SPLIT) {
		for (i = 0; i < vq->size; i++)
			drv_desc(vq, i, gpa, 1, w | VRING_DESC_F_NEXT, (uint16_t)((i + 1) % vq->size));
		drv_avail(vq, 0);
	} else {
		struct vring_packed_desc chain[RING_SIZE];

		for (i = 0; i < vq->size; i++)
			chain[i] = (struct vring_packed_desc){ gpa, 1, 0, w | VRING_DESC_F_NEXT };
		pdrv_post(&h->pd[vqi], chain, vq->size);
	}
}

/* A chain of exactly the ring's size: legal (the ring of this row has 64 entries). */
static void
b_as_long_as_ring(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd c[64];
	uint16_t i;

	ASSERT_EQ(vq->size, 64);
	c[0] = (struct hd){ data(h, HDR), HDR, w };
	for (i = 1; i < 64; i++)
		c[i] = (struct hd){ data(h, 1), 1, w };
	post(h, vqi, c, 64);
}

static void
b_indirect_loop(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct vring_desc t[3];
	uint64_t tg = guest_alloc(&h->g, sizeof(t), 16), gpa = data(h, 16);
	struct hd d = { tg, sizeof(t), VRING_DESC_F_INDIRECT };

	drv_table(t, 0, gpa, 16, w | VRING_DESC_F_NEXT, 1);
	drv_table(t, 1, gpa, 16, w | VRING_DESC_F_NEXT, 2);
	drv_table(t, 2, gpa, 16, w | VRING_DESC_F_NEXT, 0);
	guest_write(&h->g, tg, t, sizeof(t));
	post(h, vqi, &d, 1);
}

static void
b_indirect_too_long(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	static struct hd e[RING_SIZE + 1];
	uint64_t gpa = data(h, HDR + PKT_LEN);
	uint16_t i;
	struct hd d;

	for (i = 0; i <= vq->size; i++)
		e[i] = (struct hd){ gpa, i == 0 ? HDR + PKT_LEN : 0, w };
	d = (struct hd){ table(h, e, (uint16_t)(vq->size + 1)), (vq->size + 1u) * 16,
			 VRING_DESC_F_INDIRECT };
	post(h, vqi, &d, 1);
}

static void
b_nested_indirect(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd inner = { data(h, HDR + PKT_LEN), HDR + PKT_LEN, w };
	uint64_t t1 = table(h, &inner, 1);
	struct hd outer = { t1, 16, VRING_DESC_F_INDIRECT };
	struct hd d = { table(h, &outer, 1), 16, VRING_DESC_F_INDIRECT };

	post(h, vqi, &d, 1);
}

static void
b_indirect_with_next(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd e = { data(h, HDR + PKT_LEN), HDR + PKT_LEN, w };
	struct hd c[2] = {
		{ table(h, &e, 1), 16, VRING_DESC_F_INDIRECT },
		{ data(h, 16), 16, w },
	};

	post(h, vqi, c, 2);
}

static void
indirect_of_len(struct hx *h, uint16_t vqi, uint16_t w, uint32_t len)
{
	struct hd e[3] = {
		{ data(h, HDR), HDR, w }, { data(h, 30), 30, w }, { data(h, 30), 30, w },
	};
	struct hd d = { table(h, e, 3), len, VRING_DESC_F_INDIRECT };

	post(h, vqi, &d, 1);
}

static void
b_indirect_40_bytes(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	indirect_of_len(h, vqi, w, 40);
}

static void
b_indirect_empty(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	indirect_of_len(h, vqi, w, 0);
}

static void
b_indirect_not_negotiated(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	vq->indirect = false;
	indirect_of_len(h, vqi, w, 48);
}

static void
b_indirect_good(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	indirect_of_len(h, vqi, w, 48);
}

/*
 * An indirect table at a guest address that is not a multiple of 8: nothing
 * in the spec forbids it (Linux and QEMU read tables byte-wise), so the
 * device must read it without a misaligned load.
 */
static void
b_indirect_misaligned(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd e[3] = {
		{ data(h, HDR), HDR, w }, { data(h, 30), 30, w }, { data(h, 30), 30, w },
	};
	uint64_t at = guest_alloc(&h->g, 3 * 16 + 16, 16) + 3;
	struct hd d = { table_at(h, at, e, 3), 48, VRING_DESC_F_INDIRECT };

	post(h, vqi, &d, 1);
}

static void
b_indirect_outside(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd d = { guest_end(&h->g) + 4096, 32, VRING_DESC_F_INDIRECT };

	post(h, vqi, &d, 1);
}

static void
b_indirect_in_hole(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd d = { guest_region_gpa(&h->g, HOLE) + 64, 32, VRING_DESC_F_INDIRECT };

	post(h, vqi, &d, 1);
}

/* A table whose two entries lie in two regions, adjacent for the guest but not for us. */
static void
b_indirect_across_regions(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd e[2] = { { data(h, HDR), HDR, w }, { data(h, PKT_LEN), PKT_LEN, w } };
	uint64_t tg = table_at(h, guest_region_gpa(&h->g, 1) - 16, e, 2);
	struct hd d = { tg, 32, VRING_DESC_F_INDIRECT };

	post(h, vqi, &d, 1);
}

static void
b_indirect_wrapping(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd d = { UINT64_MAX - 15, 32, VRING_DESC_F_INDIRECT };

	post(h, vqi, &d, 1);
}

/* A direct descriptor, then an indirect one ending the chain. */
static void
b_indirect_after_direct(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd hdr = { data(h, HDR), HDR, w };
	struct hd e = { data(h, PKT_LEN), PKT_LEN, w };
	struct hd c[2] = { hdr, { table(h, &e, 1), 16, VRING_DESC_F_INDIRECT } };

	post(h, vqi, c, 2);
}

static void
b_wrong_direction(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd d = { data(h, HDR + PKT_LEN), HDR + PKT_LEN, w ^ VRING_DESC_F_WRITE };

	post(h, vqi, &d, 1);
}

static void
b_wrong_direction_last(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd c[2] = {
		{ data(h, HDR), HDR, w },
		{ data(h, PKT_LEN), PKT_LEN, w ^ VRING_DESC_F_WRITE },
	};

	post(h, vqi, c, 2);
}

static void
b_wrong_direction_in_table(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd e[2] = {
		{ data(h, HDR), HDR, w },
		{ data(h, PKT_LEN), PKT_LEN, w ^ VRING_DESC_F_WRITE },
	};
	struct hd d = { table(h, e, 2), 32, VRING_DESC_F_INDIRECT };

	post(h, vqi, &d, 1);
}

/* An indirect descriptor marked write-only: the device ignores that flag (2.7.5.3.2). */
static void
b_indirect_marked_write(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd e = { data(h, HDR + PKT_LEN), HDR + PKT_LEN, w };
	struct hd d = { table(h, &e, 1), 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE };

	post(h, vqi, &d, 1);
}

static void
b_head_equal_to_size(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	good(h, vq, vqi, w);
	vq->avail->ring[0] = vq->size;
}

static void
b_head_ffff(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	good(h, vq, vqi, w);
	vq->avail->ring[0] = 0xffff;
}

static void
b_next_out_of_range(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	drv_desc(vq, 0, data(h, HDR), HDR, w | VRING_DESC_F_NEXT, vq->size);
	drv_avail(vq, 0);
}

static void
b_next_past_table(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct vring_desc t[2];
	uint64_t tg = guest_alloc(&h->g, sizeof(t), 16);
	struct hd d = { tg, sizeof(t), VRING_DESC_F_INDIRECT };

	drv_table(t, 0, data(h, HDR), HDR, w | VRING_DESC_F_NEXT, 1);
	drv_table(t, 1, data(h, PKT_LEN), PKT_LEN, w | VRING_DESC_F_NEXT, 2);
	guest_write(&h->g, tg, t, sizeof(t));
	post(h, vqi, &d, 1);
}

static void
b_avail_jump(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	good(h, vq, vqi, w);
	vq->avail->idx = (uint16_t)(vq->last_avail_idx + vq->size + 1);
}

static void
b_avail_backwards(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	start_at(h, vqi, 100);
	good(h, vq, vqi, w);
	vq->avail->idx = 99;
}

/* The guest scribbles over the used index, which is the device's to write. */
static void
b_used_idx_rewritten(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	good(h, vq, vqi, w);
	vq->used->idx = 0x1234;
}

/* A split ring whose indexes cross 0xffff -> 0 during the burst. */
static void
b_index_wrap(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	start_at(h, vqi, 0xffff);
	good(h, vq, vqi, w);
}

/* Packed: a chain whose slots run past the end of the ring into the next round. */
static void
b_chain_across_ring_end(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd c[3] = {
		{ data(h, HDR), HDR, w }, { data(h, 20), 20, w }, { data(h, PKT_LEN - 20),
								    PKT_LEN - 20, w },
	};

	start_at(h, vqi, (uint16_t)(vq->size - 1));
	post(h, vqi, c, 3);
}

/* Packed: a head whose flags say "used" in the current round. */
static void
b_head_marked_used(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	uint16_t head;

	good(h, vq, vqi, w);
	head = (uint16_t)(h->pd[vqi].avail_idx - 1);
	vq->desc_packed[head].flags = (uint16_t)(w | VRING_PACKED_DESC_F_AVAIL |
						 VRING_PACKED_DESC_F_USED);
}

/* Packed: a head made available for the next round, not this one. */
static void
b_head_wrong_round(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	uint16_t head;

	good(h, vq, vqi, w);
	head = (uint16_t)(h->pd[vqi].avail_idx - 1);
	vq->desc_packed[head].flags = (uint16_t)(w | pdrv_avail_flags(false));
}

/* Packed: only the head's flags say "available"; the rest of the chain's are zero. */
static void
b_tail_not_available(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd c[2] = { { data(h, HDR), HDR, w }, { data(h, PKT_LEN), PKT_LEN, w } };
	uint16_t head = post(h, vqi, c, 2);

	vq->desc_packed[(head + 1) % vq->size].flags = w;
}

/* Packed: a buffer id far past the ring size; the device only echoes it. */
static void
b_id_out_of_range(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	uint16_t head;

	good(h, vq, vqi, w);
	head = (uint16_t)(h->pd[vqi].avail_idx - 1);
	vq->desc_packed[head].id = 0xffff;
}

static void
bad_buffer(struct hx *h, uint16_t vqi, uint16_t w, uint64_t gpa, uint32_t len)
{
	struct hd c[2] = { { data(h, HDR), HDR, w }, { gpa, len, w } };

	post(h, vqi, c, 2);
}

static void
b_buffer_outside(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	bad_buffer(h, vqi, w, guest_end(&h->g) + 0x10000, PKT_LEN);
}

static void
b_buffer_at_0(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	bad_buffer(h, vqi, w, 0, PKT_LEN);
}

static void
b_buffer_past_end(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	bad_buffer(h, vqi, w, guest_end(&h->g) - 16, PKT_LEN);
}

static void
b_buffer_wraps(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	bad_buffer(h, vqi, w, UINT64_MAX - 15, PKT_LEN);
}

static void
b_buffer_in_hole(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	bad_buffer(h, vqi, w, guest_region_gpa(&h->g, HOLE) + 100, PKT_LEN);
}

static void
b_buffer_into_hole(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	bad_buffer(h, vqi, w, guest_region_gpa(&h->g, HOLE) - 20, PKT_LEN);
}

static void
b_buffer_from_hole(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	bad_buffer(h, vqi, w, guest_region_gpa(&h->g, HOLE + 1) - 20, PKT_LEN);
}

/* A buffer across two regions that are adjacent for the guest: legal. */
static void
b_buffer_across_regions(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	uint64_t gpa = guest_region_gpa(&h->g, 1) - 30;
	struct hd d = { gpa, HDR + PKT_LEN, w };

	seg_at(h, gpa, HDR + PKT_LEN);
	post(h, vqi, &d, 1);
}

static void
b_maximal_length(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	bad_buffer(h, vqi, w, data(h, 64), UINT32_MAX);
}

/* 200 KiB, inside guest memory: too long for a packet, room enough for one. */
static void
b_long_buffer(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd d = { data(h, 200 * 1024), 200 * 1024, w };

	post(h, vqi, &d, 1);
}

static void
b_zero_inside(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd c[3] = {
		{ data(h, HDR), HDR, w }, { data(h, 0), 0, w }, { data(h, PKT_LEN), PKT_LEN, w },
	};

	post(h, vqi, c, 3);
}

/* A zero-length descriptor is never translated, so its address does not matter. */
static void
b_zero_at_bad_address(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd c[3] = {
		{ data(h, HDR), HDR, w }, { 0xdead00000000ull, 0, w },
		{ data(h, PKT_LEN), PKT_LEN, w },
	};

	post(h, vqi, c, 3);
}

static void
b_zero_only(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd d = { data(h, 0), 0, w };

	post(h, vqi, &d, 1);
}

/*
 * 130 pieces: more than one packet may span (VHU_VEC_MAX). Transmit drops it;
 * receive writes the packet into its first pieces, which hold it (what
 * happens when they do not is in test_rx_long_chain.c).
 */
static void
b_too_many_pieces(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd c[130];
	uint16_t i;

	c[0] = (struct hd){ data(h, HDR), HDR, w };
	for (i = 1; i < 130; i++)
		c[i] = (struct hd){ data(h, 1), 1, w };
	post(h, vqi, c, 130);
}

static void
b_header_over_12(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd c[13];
	uint16_t i;

	for (i = 0; i < 12; i++)
		c[i] = (struct hd){ data(h, 1), 1, w };
	c[12] = (struct hd){ data(h, PKT_LEN), PKT_LEN, w };
	post(h, vqi, c, 13);
}

static void
b_shorter_than_header(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd c[2] = { { data(h, 4), 4, w }, { data(h, 4), 4, w } };

	post(h, vqi, c, 2);
}

static void
b_only_header(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd d = { data(h, HDR), HDR, w };

	post(h, vqi, &d, 1);
}

/* The guest asks for interrupts with garbage in its event-suppression fields. */
static void
b_event_garbage(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	h->callfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_GE(h->callfd, 0);
	vq->callfd = h->callfd;
	vq->event_idx = true;
	if (h->layout == PACKED) {
		vq->driver_event->flags = VRING_PACKED_EVENT_FLAG_DESC;
		vq->driver_event->off_wrap = 0xffff;
	} else {
		*vring_used_event(vq->avail, vq->size) = 0xfedc;
	}
	good(h, vq, vqi, w);
}

static void
b_event_flags_reserved(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	h->callfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_GE(h->callfd, 0);
	vq->callfd = h->callfd;
	if (h->layout == PACKED)
		vq->driver_event->flags = 3;
	else
		vq->avail->flags = 0xfffe;
	good(h, vq, vqi, w);
}

/* ---- offload rows: the virtio-net header of a guest transmit ---- */

static void
tx_with_header(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint8_t flags, uint8_t gso,
	       uint16_t gso_size, uint16_t csum_start, uint16_t csum_offset)
{
	struct hd d;

	h->hdr.hdr.flags = flags;
	h->hdr.hdr.gso_type = gso;
	h->hdr.hdr.gso_size = gso_size;
	h->hdr.hdr.csum_start = csum_start;
	h->hdr.hdr.csum_offset = csum_offset;
	d = (struct hd){ data(h, HDR + h->payload_len), HDR + h->payload_len, 0 };
	post(h, vqi, &d, 1);
}

#define NEEDS_CSUM VIRTIO_NET_HDR_F_NEEDS_CSUM
#define L4_OFF_V4 (14 + 20)

static void
b_csum_start_past_packet(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	offload_on(vq, F_CSUM_TSO);
	mk_l4(h, false, true, 20);
	tx_with_header(h, vq, vqi, NEEDS_CSUM, 0, 0, 60000, 6);
}

static void
b_csum_offset_past_packet(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	offload_on(vq, F_CSUM_TSO);
	mk_l4(h, false, true, 20);
	tx_with_header(h, vq, vqi, NEEDS_CSUM, 0, 0, L4_OFF_V4, 0xfff0);
}

static void
b_csum_field_on_last_byte(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	uint32_t len;

	offload_on(vq, F_CSUM_TSO);
	len = mk_l4(h, false, true, 20);
	/* The 2-byte field would start at the packet's last byte. */
	tx_with_header(h, vq, vqi, NEEDS_CSUM, 0, 0, L4_OFF_V4, (uint16_t)(len - 1 - L4_OFF_V4));
}

static void
b_csum_in_second_segment(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	offload_on(vq, F_CSUM_TSO);
	mk_l4(h, false, true, 3000);
	tx_with_header(h, vq, vqi, NEEDS_CSUM, 0, 0, 2500, 10);
}

static void
b_gso_size_0(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	offload_on(vq, F_CSUM_TSO);
	mk_l4(h, false, false, 100);
	tx_with_header(h, vq, vqi, NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 0, L4_OFF_V4, 16);
}

static void
b_gso_without_needs_csum(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	offload_on(vq, F_CSUM_TSO);
	mk_l4(h, false, false, 100);
	tx_with_header(h, vq, vqi, 0, VIRTIO_NET_HDR_GSO_TCPV4, 40, L4_OFF_V4, 16);
}

static void
b_gso_udp(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	offload_on(vq, F_CSUM_TSO);
	mk_l4(h, false, true, 100);
	tx_with_header(h, vq, vqi, NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP, 40, L4_OFF_V4, 6);
}

static void
b_gso_ecn_not_negotiated(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	offload_on(vq, F_CSUM_TSO);
	mk_l4(h, false, false, 100);
	tx_with_header(h, vq, vqi, NEEDS_CSUM,
		       VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 40, L4_OFF_V4, 16);
}

static void
b_tso6_not_negotiated(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	offload_on(vq, F_CSUM_TSO & ~VHU_BIT(VIRTIO_NET_F_HOST_TSO6));
	mk_l4(h, true, false, 100);
	tx_with_header(h, vq, vqi, NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 40, 14 + 40, 16);
}

/* TSO whose TCP header would run past the end of the packet. */
static void
b_tso_truncated_tcp(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	offload_on(vq, F_CSUM_TSO);
	mk_l4(h, false, false, 0);
	h->payload_len = L4_OFF_V4 + 10; /* 10 bytes of a 20-byte TCP header */
	tx_with_header(h, vq, vqi, NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 40, L4_OFF_V4, 16);
}

/* TSO whose csum_start is not where the TCP header is. */
static void
b_tso_csum_start_elsewhere(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	offload_on(vq, F_CSUM_TSO);
	mk_l4(h, false, false, 100);
	tx_with_header(h, vq, vqi, NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 40, 14, 16);
}

static void
b_unknown_header_flags(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	offload_on(vq, F_CSUM_TSO);
	mk_l4(h, false, true, 20);
	tx_with_header(h, vq, vqi, 0x80 | NEEDS_CSUM, 0, 0, L4_OFF_V4, 6);
}

static void
b_needs_csum_not_negotiated(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	offload_on(vq, VHU_BIT(VIRTIO_NET_F_GUEST_CSUM));
	mk_l4(h, false, true, 20);
	tx_with_header(h, vq, vqi, NEEDS_CSUM, 0, 0, L4_OFF_V4, 6);
}

/* A header spread over single bytes, with its checksum start past the packet. */
static void
b_split_header_bad_csum(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	struct hd c[13];
	uint16_t i;

	offload_on(vq, F_CSUM_TSO);
	mk_l4(h, false, true, 20);
	h->hdr.hdr.flags = NEEDS_CSUM;
	h->hdr.hdr.csum_start = 0xffff;
	h->hdr.hdr.csum_offset = 0xffff;
	for (i = 0; i < 12; i++)
		c[i] = (struct hd){ data(h, 1), 1, 0 };
	c[12] = (struct hd){ data(h, h->payload_len), h->payload_len, 0 };
	post(h, vqi, c, 13);
}

/* A valid partial UDP checksum: handed on, bytes untouched. */
static void
b_valid_partial_csum(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	offload_on(vq, F_CSUM_TSO);
	mk_l4(h, false, true, 20);
	tx_with_header(h, vq, vqi, NEEDS_CSUM, 0, 0, L4_OFF_V4, 6);
}

/* hdr_len is advisory: past the packet it is ignored. */
static void
b_hdr_len_past_packet(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	offload_on(vq, F_CSUM_TSO);
	mk_l4(h, false, true, 20);
	h->hdr.hdr.hdr_len = 0xffff;
	tx_with_header(h, vq, vqi, 0, 0, 0, 0, 0);
}

/* ---- the host's packets for a guest receive ---- */

static void
b_rx_csum_offsets_past_packet(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	h->rx_ol_flags = RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4;
	h->rx_l2 = 14;
	h->rx_l3 = 200;
	good(h, vq, vqi, w);
}

static void
b_rx_tso_without_guest_tso(struct hx *h, struct vhu_vq *vq, uint16_t vqi, uint16_t w)
{
	h->rx_ol_flags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
	h->rx_l2 = 14;
	h->rx_l3 = 20;
	good(h, vq, vqi, w);
}

static const struct row rows[] = {
	/* Loops and lengths. */
	{ "descriptor_pointing_to_itself", L_SPLIT, D_BOTH, b_self_loop, BROKEN, BROKEN,
	  .reason = "loops" },
	{ "two_descriptor_loop", L_SPLIT, D_BOTH, b_two_loop, BROKEN, BROKEN, .reason = "loops" },
	{ "chain_longer_than_the_ring", L_BOTH, D_BOTH, b_longer_than_ring, BROKEN, BROKEN,
	  .reason = "chain at" },
	{ "chain_as_long_as_the_ring", L_BOTH, D_BOTH, b_as_long_as_ring, DELIVERED, DELIVERED,
	  .ring_size = 64 },
	{ "loop_inside_an_indirect_table", L_SPLIT, D_BOTH, b_indirect_loop, BROKEN, BROKEN,
	  .reason = "loops" },
	{ "indirect_table_longer_than_the_ring", L_BOTH, D_BOTH, b_indirect_too_long, BROKEN,
	  BROKEN, .reason = "indirect table of 4112 bytes" },
	{ "nested_indirect_table", L_BOTH, D_BOTH, b_nested_indirect, BROKEN, BROKEN,
	  .reason = "nested indirect" },
	{ "indirect_descriptor_with_next", L_BOTH, D_BOTH, b_indirect_with_next, BROKEN, BROKEN,
	  .reason = "indirect descriptor with NEXT" },
	{ "indirect_table_of_40_bytes", L_BOTH, D_BOTH, b_indirect_40_bytes, BROKEN, BROKEN,
	  .reason = "indirect table of 40 bytes" },
	{ "indirect_table_of_0_bytes", L_BOTH, D_BOTH, b_indirect_empty, BROKEN, BROKEN,
	  .reason = "indirect table of 0 bytes" },
	{ "indirect_table_without_the_feature", L_BOTH, D_BOTH, b_indirect_not_negotiated,
	  BROKEN, BROKEN, .reason = "not negotiated" },
	{ "indirect_table_of_three_buffers", L_BOTH, D_BOTH, b_indirect_good, DELIVERED,
	  DELIVERED },
	{ "indirect_table_at_an_odd_address", L_BOTH, D_BOTH, b_indirect_misaligned, DELIVERED,
	  DELIVERED },
	{ "indirect_table_outside_guest_memory", L_BOTH, D_BOTH, b_indirect_outside, BROKEN,
	  BROKEN, .reason = "not in guest memory" },
	{ "indirect_table_in_a_hole_between_regions", L_BOTH, D_BOTH, b_indirect_in_hole, BROKEN,
	  BROKEN, .reason = "not in guest memory" },
	{ "indirect_table_across_two_regions", L_BOTH, D_BOTH, b_indirect_across_regions, BROKEN,
	  BROKEN, .reason = "not contiguous" },
	{ "indirect_table_address_wrapping_2_pow_64", L_BOTH, D_BOTH, b_indirect_wrapping, BROKEN,
	  BROKEN, .reason = "wraps the address space" },
	{ "indirect_descriptor_after_a_direct_one", L_BOTH, D_BOTH, b_indirect_after_direct,
	  DELIVERED, DELIVERED, BROKEN, BROKEN, .reason = "indirect descriptor inside a chain" },
	{ "indirect_descriptor_marked_write_only", L_BOTH, D_BOTH, b_indirect_marked_write,
	  DELIVERED, DELIVERED },
	/* Direction. */
	{ "descriptor_of_the_wrong_direction", L_BOTH, D_BOTH, b_wrong_direction, BROKEN, BROKEN,
	  .reason = "descriptor in a" },
	{ "last_descriptor_of_the_wrong_direction", L_BOTH, D_BOTH, b_wrong_direction_last,
	  BROKEN, BROKEN, .reason = "descriptor in a" },
	{ "wrong_direction_inside_an_indirect_table", L_BOTH, D_BOTH, b_wrong_direction_in_table,
	  BROKEN, BROKEN, .reason = "descriptor in a" },
	/* Indexes. */
	{ "head_index_equal_to_the_ring_size", L_SPLIT, D_BOTH, b_head_equal_to_size, BROKEN,
	  BROKEN, .reason = "head 256 out of range" },
	{ "head_index_0xffff", L_SPLIT, D_BOTH, b_head_ffff, BROKEN, BROKEN,
	  .reason = "head 65535 out of range" },
	{ "next_index_equal_to_the_ring_size", L_SPLIT, D_BOTH, b_next_out_of_range, BROKEN,
	  BROKEN, .reason = "next index 256 out of range" },
	{ "next_index_past_an_indirect_table", L_SPLIT, D_BOTH, b_next_past_table, BROKEN, BROKEN,
	  .reason = "next index 2 out of range" },
	{ "avail_index_jumping_past_the_ring_size", L_SPLIT, D_BOTH, b_avail_jump, BROKEN, BROKEN,
	  .reason = "avail index jumped" },
	{ "avail_index_moving_backwards", L_SPLIT, D_BOTH, b_avail_backwards, BROKEN, BROKEN,
	  .reason = "avail index jumped" },
	{ "used_index_rewritten_by_the_guest", L_SPLIT, D_BOTH, b_used_idx_rewritten, DELIVERED,
	  DELIVERED },
	{ "indexes_wrapping_past_0xffff", L_SPLIT, D_BOTH, b_index_wrap, DELIVERED, DELIVERED },
	{ "chain_across_the_end_of_the_ring", L_PACKED, D_BOTH, b_chain_across_ring_end,
	  DELIVERED, DELIVERED },
	{ "head_marked_used_by_the_guest", L_PACKED, D_BOTH, b_head_marked_used, IDLE, IDLE },
	{ "head_available_in_the_wrong_round", L_PACKED, D_BOTH, b_head_wrong_round, IDLE, IDLE },
	{ "tail_descriptors_not_marked_available", L_PACKED, D_BOTH, b_tail_not_available,
	  SURVIVED, SURVIVED },
	{ "buffer_id_past_the_ring_size", L_PACKED, D_BOTH, b_id_out_of_range, DELIVERED,
	  DELIVERED },
	/* Addresses and lengths. */
	{ "buffer_outside_guest_memory", L_BOTH, D_BOTH, b_buffer_outside, BROKEN, BROKEN,
	  .reason = "not in guest memory" },
	{ "buffer_at_guest_address_0", L_BOTH, D_BOTH, b_buffer_at_0, BROKEN, BROKEN,
	  .reason = "not in guest memory" },
	{ "buffer_running_past_the_end_of_memory", L_BOTH, D_BOTH, b_buffer_past_end, BROKEN,
	  BROKEN, .reason = "not in guest memory" },
	{ "buffer_address_plus_length_past_2_pow_64", L_BOTH, D_BOTH, b_buffer_wraps, BROKEN,
	  BROKEN, .reason = "wraps the address space" },
	{ "buffer_in_a_hole_between_regions", L_BOTH, D_BOTH, b_buffer_in_hole, BROKEN, BROKEN,
	  .reason = "not in guest memory" },
	{ "buffer_running_from_a_region_into_a_hole", L_BOTH, D_BOTH, b_buffer_into_hole, BROKEN,
	  BROKEN, .reason = "not in guest memory" },
	{ "buffer_running_from_a_hole_into_a_region", L_BOTH, D_BOTH, b_buffer_from_hole, BROKEN,
	  BROKEN, .reason = "not in guest memory" },
	{ "buffer_across_two_adjacent_regions", L_BOTH, D_BOTH, b_buffer_across_regions,
	  DELIVERED, DELIVERED },
	{ "descriptor_of_length_0xffffffff", L_BOTH, D_BOTH, b_maximal_length, BROKEN, BROKEN,
	  .reason = "not in guest memory" },
	{ "buffer_of_200_kib", L_BOTH, D_BOTH, b_long_buffer, DROPPED, DELIVERED },
	{ "zero_length_descriptor_inside_a_chain", L_BOTH, D_BOTH, b_zero_inside, DELIVERED,
	  DELIVERED },
	{ "zero_length_descriptor_at_a_wild_address", L_BOTH, D_BOTH, b_zero_at_bad_address,
	  DELIVERED, DELIVERED },
	{ "chain_of_one_zero_length_descriptor", L_BOTH, D_BOTH, b_zero_only, DROPPED, REFUSED },
	{ "chain_of_more_pieces_than_a_packet_spans", L_BOTH, D_BOTH, b_too_many_pieces, DROPPED,
	  DELIVERED },
	/* The virtio-net header. */
	{ "header_split_over_twelve_descriptors", L_BOTH, D_BOTH, b_header_over_12, DELIVERED,
	  DELIVERED },
	{ "chain_shorter_than_the_header", L_BOTH, D_BOTH, b_shorter_than_header, DROPPED,
	  REFUSED },
	{ "chain_holding_only_the_header", L_BOTH, D_BOTH, b_only_header, DROPPED, REFUSED },
	/* Notifications. */
	{ "event_suppression_fields_out_of_range", L_BOTH, D_BOTH, b_event_garbage, DELIVERED,
	  DELIVERED },
	{ "event_suppression_flags_reserved_values", L_BOTH, D_BOTH, b_event_flags_reserved,
	  DELIVERED, DELIVERED },
	/* Offloads in a guest's transmit header (CSUM and TSO negotiated). */
	{ "offload_csum_start_past_the_packet", L_BOTH, D_TX, b_csum_start_past_packet, DROPPED },
	{ "offload_csum_offset_past_the_packet", L_BOTH, D_TX, b_csum_offset_past_packet,
	  DROPPED },
	{ "offload_csum_field_over_the_last_byte", L_BOTH, D_TX, b_csum_field_on_last_byte,
	  DROPPED },
	{ "offload_csum_field_in_a_second_mbuf", L_BOTH, D_TX, b_csum_in_second_segment,
	  DROPPED },
	{ "offload_gso_size_0", L_BOTH, D_TX, b_gso_size_0, DROPPED },
	{ "offload_gso_without_needs_csum", L_BOTH, D_TX, b_gso_without_needs_csum, DROPPED },
	{ "offload_gso_udp_not_offered", L_BOTH, D_TX, b_gso_udp, DROPPED },
	{ "offload_gso_ecn_not_negotiated", L_BOTH, D_TX, b_gso_ecn_not_negotiated, DROPPED },
	{ "offload_tso6_not_negotiated", L_BOTH, D_TX, b_tso6_not_negotiated, DROPPED },
	{ "offload_tso_tcp_header_past_the_packet", L_BOTH, D_TX, b_tso_truncated_tcp, DROPPED },
	{ "offload_tso_csum_start_not_at_tcp", L_BOTH, D_TX, b_tso_csum_start_elsewhere,
	  DROPPED },
	{ "offload_unknown_header_flags", L_BOTH, D_TX, b_unknown_header_flags, DROPPED },
	{ "offload_needs_csum_without_csum_negotiated", L_BOTH, D_TX, b_needs_csum_not_negotiated,
	  DROPPED },
	{ "offload_header_in_single_bytes_pointing_past_the_packet", L_BOTH, D_TX,
	  b_split_header_bad_csum, DROPPED },
	{ "offload_valid_partial_checksum", L_BOTH, D_TX, b_valid_partial_csum, DELIVERED },
	{ "offload_hdr_len_past_the_packet", L_BOTH, D_TX, b_hdr_len_past_packet, DELIVERED },
	/* Offload requests on the host's packets for a guest that cannot take them. */
	{ "host_checksum_offsets_past_the_packet", L_BOTH, D_RX, b_rx_csum_offsets_past_packet,
	  .rx = REFUSED },
	{ "host_tso_packet_for_a_guest_without_tso", L_BOTH, D_RX, b_rx_tso_without_guest_tso,
	  .rx = REFUSED },
};

/* ---- the runner ---- */

struct inst {
	const struct row *row;
	enum layout layout;
	enum dir dir;
};

static enum outcome
expected(const struct inst *in)
{
	const struct row *r = in->row;
	enum outcome o = in->dir == TX ? r->tx : r->rx;

	if (in->layout == PACKED) {
		enum outcome p = in->dir == TX ? r->packed_tx : r->packed_rx;

		if (p != SAME)
			o = p;
	}
	return o;
}

/* Bytes of the packet the guest sends: header then payload (or pattern), over the segments. */
static uint32_t
fill_tx(struct hx *h, uint8_t *flat, uint32_t cap)
{
	uint32_t total = 0, i, off = 0;

	for (i = 0; i < h->nsegs; i++)
		total += h->segs[i].len;
	ASSERT_LE(total, cap);
	memset(flat, 0, total);
	memcpy(flat, &h->hdr, RTE_MIN(total, (uint32_t)HDR));
	if (total > HDR) {
		if (h->payload_len > 0)
			memcpy(flat + HDR, h->payload, RTE_MIN(total - HDR, h->payload_len));
		else
			pattern(flat + HDR, total - HDR, 0x31);
	}
	for (i = 0; i < h->nsegs; i++) {
		guest_write(&h->g, h->segs[i].gpa, flat + off, h->segs[i].len);
		off += h->segs[i].len;
	}
	return total;
}

static struct rte_mbuf *
mk_pkt(struct hx *h, uint32_t len, uint8_t seed)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(h->mp);
	uint8_t *p;

	ASSERT_NOT_NULL(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	ASSERT_NOT_NULL(p);
	pattern(p, len, seed);
	return m;
}

static void
free_pkts(struct rte_mbuf **m, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
}

/* The mbuf chain's bytes must equal 'want'. */
static void
check_mbuf(const struct rte_mbuf *m, const uint8_t *want, uint32_t len)
{
	static uint8_t got[256 * 1024];
	const struct rte_mbuf *s;
	uint32_t off = 0;

	ASSERT_EQ(m->pkt_len, len);
	for (s = m; s != NULL; s = s->next) {
		ASSERT_LE(off + s->data_len, sizeof(got));
		memcpy(got + off, rte_pktmbuf_mtod(s, const uint8_t *), s->data_len);
		off += s->data_len;
	}
	ASSERT_EQ(off, len);
	ASSERT_MEM_EQ(got, want, len);
}

/* The guest's receive segments must hold a header (num_buffers 1) then the packet. */
static void
check_rx_bytes(struct hx *h, const struct rte_mbuf *m)
{
	static uint8_t got[256 * 1024];
	struct virtio_net_hdr_mrg_rxbuf hdr;
	uint32_t off = 0, i;

	for (i = 0; i < h->nsegs; i++) {
		ASSERT_LE(off + h->segs[i].len, sizeof(got));
		guest_read(&h->g, h->segs[i].gpa, got + off, h->segs[i].len);
		off += h->segs[i].len;
	}
	ASSERT_GE(off, HDR + m->pkt_len);
	memcpy(&hdr, got, sizeof(hdr));
	ASSERT_EQ(hdr.num_buffers, 1);
	ASSERT_MEM_EQ(got + HDR, rte_pktmbuf_mtod(m, const uint8_t *), m->pkt_len);
}

/* A good packet each way on ring 'vqi', which must carry it. */
static void
check_ring_works(struct hx *h, uint16_t vqi)
{
	struct vhu_vq *vq = h->dev->vq[vqi];
	uint16_t qp = vqi / 2, n;
	uint32_t len = 0;

	h->nsegs = 0;
	memset(&h->hdr, 0, sizeof(h->hdr));
	h->payload_len = 0;
	if (vqi & 1) {
		static uint8_t flat[HDR + PKT_LEN];
		struct rte_mbuf *m[4];

		good(h, vq, vqi, 0);
		fill_tx(h, flat, sizeof(flat));
		n = vhu_vhost_dequeue_burst(h->dev, qp, h->mp, m, 4);
		if (n != 1)
			th_fail(__FILE__, __LINE__, "ring %u moved %u packets, not 1 (broken: %s)",
				vqi, n, vq->broken ? vq->broken_reason : "no");
		check_mbuf(m[0], flat + HDR, PKT_LEN);
		free_pkts(m, n);
	} else {
		struct rte_mbuf *m = mk_pkt(h, PKT_LEN, (uint8_t)(0x50 + vqi));

		good(h, vq, vqi, VRING_DESC_F_WRITE);
		n = vhu_vhost_enqueue_burst(h->dev, qp, &m, 1);
		if (n != 1)
			th_fail(__FILE__, __LINE__, "ring %u placed %u packets, not 1 (broken: %s)",
				vqi, n, vq->broken ? vq->broken_reason : "no");
		check_rx_bytes(h, m);
		rte_pktmbuf_free(m);
	}
	ASSERT_EQ(used_new(h, vqi, &len), 1);
	ASSERT_FALSE(vq->broken);
}

static void
run_row(const void *arg)
{
	const struct inst *in = arg;
	const struct row *r = in->row;
	enum outcome want = expected(in);
	uint16_t vqi = in->dir == TX ? 1 : 0, n = 0, i;
	static uint8_t flat[256 * 1024];
	uint64_t errors0, bad_hdr0;
	uint16_t avail0, used0;
	struct rte_mbuf *m[4];
	struct vhu_vq *vq;
	unsigned int used;
	uint32_t len = 0, total = 0;
	struct hx h;

	hx_init(&h, in->layout, r->ring_size != 0 ? r->ring_size : RING_SIZE);
	vq = h.dev->vq[vqi];
	r->build(&h, vq, vqi, in->dir == RX ? VRING_DESC_F_WRITE : 0);
	errors0 = vq->stats.errors;
	bad_hdr0 = vq->stats.bad_hdr;
	avail0 = vq->last_avail_idx;
	used0 = vq->last_used_idx;
	if (in->dir == TX) {
		total = fill_tx(&h, flat, sizeof(flat));
		n = vhu_vhost_dequeue_burst(h.dev, 0, h.mp, m, 4);
	} else {
		memset(flat, 0xee, sizeof(flat));
		for (i = 0; i < h.nsegs; i++)
			guest_write(&h.g, h.segs[i].gpa, flat, h.segs[i].len);
		m[0] = mk_pkt(&h, PKT_LEN, 0x77);
		m[0]->ol_flags = h.rx_ol_flags;
		m[0]->l2_len = h.rx_l2;
		m[0]->l3_len = h.rx_l3;
		n = vhu_vhost_enqueue_burst(h.dev, 0, m, 1);
	}
	used = used_new(&h, vqi, &len);
	switch (want) {
	case BROKEN:
		ASSERT_EQ(n, 0);
		ASSERT_TRUE(vq->broken);
		ASSERT_STR_CONTAINS(vq->broken_reason, r->reason);
		ASSERT_GT(vq->stats.errors, errors0);
		ASSERT_EQ(used, 0);
		/* Latched: a good chain does not move it either. */
		good(&h, vq, vqi, in->dir == RX ? VRING_DESC_F_WRITE : 0);
		if (in->dir == TX)
			ASSERT_EQ(vhu_vhost_dequeue_burst(h.dev, 0, h.mp, m, 4), 0);
		else
			ASSERT_EQ(vhu_vhost_enqueue_burst(h.dev, 0, m, 1), 0);
		break;
	case DROPPED:
		ASSERT_EQ(in->dir, TX);
		ASSERT_EQ(n, 0);
		ASSERT_FALSE(vq->broken);
		ASSERT_GT(vq->stats.errors + vq->stats.bad_hdr, errors0 + bad_hdr0);
		ASSERT_EQ(used, 1);	/* the chain went back to the guest */
		ASSERT_EQ(len, 0);
		check_ring_works(&h, vqi);
		break;
	case REFUSED:
		ASSERT_EQ(in->dir, RX);
		ASSERT_EQ(n, 0);
		ASSERT_FALSE(vq->broken);
		ASSERT_EQ(used, 0);
		if (h.rx_ol_flags != 0)
			ASSERT_GT(vq->stats.bad_hdr, bad_hdr0);
		break;
	case IDLE:
		ASSERT_EQ(n, 0);
		ASSERT_FALSE(vq->broken);
		ASSERT_EQ(vq->last_avail_idx, avail0);
		ASSERT_EQ(vq->last_used_idx, used0);
		ASSERT_EQ(vq->stats.errors, errors0);
		break;
	case DELIVERED:
		ASSERT_EQ(n, 1);
		ASSERT_FALSE(vq->broken);
		ASSERT_EQ(used, 1);
		if (in->dir == TX) {
			ASSERT_EQ(len, 0);
			check_mbuf(m[0], flat + HDR, total - HDR);
		} else {
			ASSERT_EQ(len, HDR + PKT_LEN);
			check_rx_bytes(&h, m[0]);
		}
		break;
	default:
		break;
	}
	if (in->dir == TX)
		free_pkts(m, n);
	else
		rte_pktmbuf_free(m[0]);
	/* Whatever the guest did to this ring, the others carry on. */
	for (i = 0; i < 4; i++)
		if (i != vqi)
			check_ring_works(&h, i);
	hx_fini(&h);
}

/* One TAP test per row, layout and direction: "split_tx_<row>" and so on. */
__attribute__((constructor)) static void
register_rows(void)
{
	static struct inst insts[RTE_DIM(rows) * 4];
	unsigned int k = 0, i;
	int l, d;

	for (i = 0; i < RTE_DIM(rows); i++) {
		for (l = SPLIT; l <= PACKED; l++) {
			for (d = TX; d <= RX; d++) {
				char name[160];

				if (!(rows[i].layouts & (1u << l)) || !(rows[i].dirs & (1u << d)))
					continue;
				insts[k] = (struct inst){ &rows[i], (enum layout)l, (enum dir)d };
				snprintf(name, sizeof(name), "%s_%s_%s_is_%s",
					 l == SPLIT ? "split" : "packed", d == TX ? "tx" : "rx",
					 rows[i].name, outcome_names[expected(&insts[k])]);
				th_register_arg(__FILE__, __LINE__, name, run_row, &insts[k]);
				k++;
			}
		}
	}
}

/* ---- the front-end's call fd ---- */

static void
on_alarm(int sig)
{
	th_fail(__FILE__, __LINE__, "the burst blocked for 3 s writing the call fd: every ring "
		"polled by this lcore would stop");
}

/*
 * A front-end that hands over, as the call fd, the write end of a pipe (or a
 * socket) that it never reads, in blocking mode, must not be able to stop
 * the data lcore: once the pipe is full the next interrupt would block in
 * write(), and with it every ring of every device that lcore polls. The
 * device may refuse such an fd, or never block on it.
 */
static void
call_fd_must_not_block(int rfd, int wfd)
{
	struct sigaction sa, old;
	struct vhost_user_msg msg;
	enum vhu_msg_result rc;
	struct rte_mbuf *m;
	char why[160];
	struct hx h;
	uint16_t n;
	int fl;

	hx_init(&h, SPLIT, RING_SIZE);
	/* Fill it, then hand it over in blocking mode as a front-end could. */
	fl = fcntl(wfd, F_GETFL);
	ASSERT_EQ(fcntl(wfd, F_SETFL, fl | O_NONBLOCK), 0);
	while (write(wfd, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 32) > 0)
		;
	ASSERT_EQ(fcntl(wfd, F_SETFL, fl & ~O_NONBLOCK), 0);
	/* Refusing the fd is as good as never blocking on it. */
	memset(&msg, 0, sizeof(msg));
	msg.hdr.request = VHOST_USER_SET_VRING_CALL;
	msg.hdr.flags = VHOST_USER_VERSION;
	msg.hdr.size = sizeof(msg.payload.u64);
	msg.payload.u64 = 0;
	ASSERT_EQ(vhu_msg_validate(h.dev, &msg, 1, why, sizeof(why)), 0);
	rc = vhu_msg_handle(h.dev, &msg, &wfd, 1);
	if (rc != VHU_MSG_OK) {
		th_diag("SET_VRING_CALL with this fd refused (%d)", rc);
		wfd = -1;	/* the handler closed it */
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, &old);
	alarm(3);
	good(&h, h.dev->vq[0], 0, VRING_DESC_F_WRITE);
	m = mk_pkt(&h, PKT_LEN, 1);
	n = vhu_vhost_enqueue_burst(h.dev, 0, &m, 1);
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	ASSERT_EQ(n, 1);
	rte_pktmbuf_free(m);
	h.dev->vq[0]->callfd = -1;
	close(rfd);
	if (wfd >= 0)
		close(wfd);
	for (n = 1; n < 4; n++)
		check_ring_works(&h, n);
	hx_fini(&h);
}

TEST(a_call_fd_that_is_a_full_pipe_does_not_block_the_burst)
{
	int p[2];

	ASSERT_EQ(pipe(p), 0);
	call_fd_must_not_block(p[0], p[1]);
}

TEST(a_call_fd_that_is_a_full_socket_does_not_block_the_burst)
{
	int s[2];

	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
	call_fd_must_not_block(s[0], s[1]);
}

/* ---- what the operator sees ---- */

/* With many devices in a process, a broken ring must say whose it is. */
TEST(a_broken_ring_is_logged_with_its_device_and_index)
{
	struct rte_mbuf *m[4];
	const char *text;
	struct hx h;

	hx_init(&h, SPLIT, RING_SIZE);
	good(&h, h.dev->vq[1], 1, 0);
	h.dev->vq[1]->avail->ring[0] = 0xffff;
	log_capture_start();
	ASSERT_EQ(vhu_vhost_dequeue_burst(h.dev, 0, h.mp, m, 4), 0);
	text = log_capture_stop();
	ASSERT_TRUE(h.dev->vq[1]->broken);
	ASSERT_STR_CONTAINS(text, "ring 1 broken");
	ASSERT_STR_CONTAINS(text, h.dev->path);
	hx_fini(&h);
}
