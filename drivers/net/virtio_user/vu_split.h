/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueue, driver side (virtio 1.2, 2.7): add (post a buffer), flush
 * (publish the avail index once per burst), kick (notify unless the device
 * suppressed it), and take (consume a used entry after checking it).
 *
 * The device shares this memory and is not trusted: the free list and the
 * per-buffer state live in private arrays, every used entry is copied once
 * and checked (the id must be a buffer we posted, the length must fit the
 * buffer, under IN_ORDER the id must be the expected one), and a violation
 * latches the ring broken. Sizes are powers of two.
 */
#ifndef VHU_VU_SPLIT_H
#define VHU_VU_SPLIT_H

#include <sys/eventfd.h>

#include <rte_branch_prediction.h>
#include <rte_prefetch.h>

#include "vhu_prefetch.h"
#include "vu_buf.h"
#include "vu_private.h"

/* Split ring descriptors in a cache line. */
#define VU_DESCS_PER_LINE (RTE_CACHE_LINE_SIZE / sizeof(struct vring_desc))

/* The head the next vu_split_add*() will use (to fill its tx area first). */
static inline uint16_t
vu_split_next_head(const struct vu_vq *vq)
{
	return vq->conf.in_order ? vq->next_desc : vq->free_head;
}

/* Put 'head' in the avail ring; not visible to the device until vu_split_flush(). */
static inline void
vu_split_avail_push(struct vu_vq *vq, uint16_t head)
{
	uint16_t *slot = &vq->split.avail->ring[vq->avail_idx & (vq->size - 1)];

	/* Under IN_ORDER the entry usually holds this head from the last lap:
	 * leave the cache line clean. */
	if (*slot != head)
		*slot = head;
	vq->avail_idx++;
	vq->added++;
	vq->inflight++;
}

/* Post a buffer of one descriptor; the caller checked num_free >= 1. */
static inline void
vu_split_add(struct vu_vq *vq, uint64_t addr, uint32_t len, uint16_t flags, struct rte_mbuf *m)
{
	uint16_t head = vu_split_next_head(vq);
	struct vring_desc *d = &vq->split.desc[head];
	struct vu_slot *s = &vq->slots[head];

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	if (vq->conf.in_order)
		vq->next_desc = (head + 1) & (vq->size - 1);
	else
		vq->free_head = vq->next[head];
	s->m = m;
	s->len = len;
	s->ndescs = 1;
	s->last = head;
	vq->num_free--;
	vu_split_avail_push(vq, head);
}

/*
 * Ask, exclusive, for the lines of the n descriptors from 'head' on
 * (IN_ORDER: consecutive, wrapping) that a receive refill is about to
 * write. The device read them last, so each line is shared with its core
 * and a plain store waits there to take it back; asked for together up
 * front, the transfers overlap. Receiver cycles a packet, vhu-pmd
 * --ab-period=500 as front-end (split h2g-64, rxonly) against dpdk-testpmd
 * net_vhost txonly, pairs median with / without: 0.914 and 0.938 (machine
 * in its slow core-to-core mode), 0.922 (fast). A plain prefetch measured
 * 1.010, the same for the tx posts 0.996, and for the packed ring's refill,
 * whose lines the front-end has just read, 1.006: not done there.
 */
static inline void
vu_split_prefetchw_descs(const struct vu_vq *vq, uint16_t head, uint16_t n)
{
	const struct vring_desc *desc = vq->split.desc;
	/* From the start of the line 'head' is in (the table is page-aligned),
	 * a line a step; on a ring shorter than a line, every step is in it. */
	uint16_t mask = vq->size - 1, off = head & (VU_DESCS_PER_LINE - 1), k;

	for (k = 0; k < n + off; k += VU_DESCS_PER_LINE)
		vhu_prefetchw_line(&desc[(uint16_t)(head - off + k) & mask]);
}

/*
 * Post ms[0..n) as buffers of one descriptor each; num_free >= n was
 * checked. Receive ('tx' false): mbufs raw from the pool, every one posted
 * (vu_rx_buf_init()). Transmit: packets while they are plain (vu_tx_plain(),
 * vu_tx_buf_init()). vu_split_add() per buffer, with the ring state kept in
 * registers and written back once. Always inlined so that each caller gets
 * the loop of its own direction, with no test of 'tx' per buffer. Returns
 * how many it posted.
 */
static __rte_always_inline uint16_t
vu_split_add_bufs(struct vu_vq *vq, struct rte_mbuf *const *ms, uint16_t n, const bool tx)
{
	uint16_t hdr = vq->conf.hdr_len, mask = vq->size - 1, avail = vq->avail_idx,
		 head = vu_split_next_head(vq), i;
	const struct rte_mempool *pool = vq->pool;
	/* A local copy: the stores into mbufs might alias vq->rx_init, for all the
	 * compiler knows, and it would load the template again for each mbuf. */
	const struct vu_rx_init init = vq->rx_init;
	uint16_t *ring = vq->split.avail->ring;
	struct vring_desc *desc = vq->split.desc;
	struct vu_slot *slots = vq->slots;
	bool in_order = vq->conf.in_order;

	if (!tx && in_order && vhu_prefetch_write_on())
		vu_split_prefetchw_descs(vq, head, n);
	for (i = 0; i < n; i++) {
		struct vring_desc *d = &desc[head];
		uint16_t *slot = &ring[avail & mask];
		uint32_t len;

		if (tx && unlikely(!vu_tx_plain(ms[i], pool, hdr)))
			break;
		if (tx)
			d->addr = vu_tx_buf_init(ms[i], hdr, &slots[head], head, &len);
		else
			d->addr = vu_rx_buf_init(ms[i], &init, hdr, &slots[head], head, &len);
		d->len = len;
		d->flags = tx ? 0 : VRING_DESC_F_WRITE;
		/* As vu_split_avail_push(): leave a line that holds the head clean. */
		if (*slot != head)
			*slot = head;
		avail++;
		head = in_order ? (head + 1) & mask : vq->next[head];
	}
	if (in_order)
		vq->next_desc = head;
	else
		vq->free_head = head;
	vq->avail_idx = avail;
	vq->num_free -= i;
	vq->added += i;
	vq->inflight += i;
	return i;
}

/* Post n mbufs, raw from the pool, as receive buffers (vu_split_add_bufs()). */
static inline void
vu_split_add_rx(struct vu_vq *vq, struct rte_mbuf *const *ms, uint16_t n)
{
	vu_split_add_bufs(vq, ms, n, false);
}

/*
 * Post pkts[0..n) while they are plain (vu_split_add_bufs()). Returns how
 * many it posted: it stops at the first other packet, for vu_tx_burst()'s
 * general path.
 */
static inline uint16_t
vu_split_add_tx(struct vu_vq *vq, struct rte_mbuf *const *pkts, uint16_t n)
{
	return vu_split_add_bufs(vq, pkts, n, true);
}

/* Post a chain of n descriptors (without INDIRECT); num_free >= n was checked. */
static inline void
vu_split_add_chain(struct vu_vq *vq, const struct vu_piece *pc, uint16_t n, struct rte_mbuf *m)
{
	uint16_t head = vu_split_next_head(vq), idx = head, last = head, i;
	struct vu_slot *s = &vq->slots[head];

	for (i = 0; i < n; i++) {
		struct vring_desc *d = &vq->split.desc[idx];
		uint16_t nx = vq->conf.in_order ? (idx + 1) & (vq->size - 1) : vq->next[idx];

		d->addr = pc[i].addr;
		d->len = pc[i].len;
		d->flags = pc[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		d->next = nx;
		last = idx;
		idx = nx;
	}
	if (vq->conf.in_order)
		vq->next_desc = idx;
	else
		vq->free_head = idx;
	s->m = m;
	s->len = 0;
	s->ndescs = n;
	s->last = last;
	vq->num_free -= n;
	vu_split_avail_push(vq, head);
}

/* Hand every buffer added since the last flush to the device. */
static inline void
vu_split_flush(struct vu_vq *vq)
{
	/* Release: descriptors and avail entries (and tx packet bytes) are
	 * visible before the index that hands them over; pairs with the device's
	 * acquire load of avail->idx before it reads the ring. */
	__atomic_store_n(&vq->split.avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
}

/* Notify the device about the buffers added since the last check, if it wants that. */
static inline void
vu_split_kick(struct vu_vq *vq)
{
	uint16_t new_idx = vq->avail_idx, old_idx = new_idx - vq->added;
	bool need;

	if (vq->added == 0)
		return;
	vq->added = 0;
	/* Full fence: the avail->idx store above must be visible before we read
	 * the device's suppression state, pairing with the device's fence between
	 * re-enabling notifications and re-reading avail->idx; otherwise each
	 * side could miss the other and the device would sleep on work. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->conf.event_idx)
		need = vring_need_event(__atomic_load_n(vring_avail_event(vq->split.used, vq->size),
							__ATOMIC_RELAXED),
					new_idx, old_idx);
	else
		need = !(__atomic_load_n(&vq->split.used->flags, __ATOMIC_RELAXED) &
			 VRING_USED_F_NO_NOTIFY);
	if (need) {
		vq->stats.kicks++;
		if (eventfd_write(vq->kickfd, 1) != 0)
			vq->stats.errors++;
	}
}

/* Used entries waiting to be consumed; 0 (and the ring latched) if the index is bogus. */
static inline uint16_t
vu_split_used_count(struct vu_vq *vq)
{
	/* Acquire: pairs with the device's release store of used->idx after it
	 * wrote the used entries and the received bytes, so both are read after. */
	uint16_t idx = __atomic_load_n(&vq->split.used->idx, __ATOMIC_ACQUIRE);
	uint16_t n = idx - vq->last_used;

	if (unlikely(n > vq->inflight)) {
		vu_vq_set_broken(vq, "used index moved from %u to %u with only %u buffers posted",
				 vq->last_used, idx, vq->inflight);
		return 0;
	}
	return n;
}

/* Has the device returned a buffer since the last take? A hint for idle polls only:
 * vu_split_used_count() is what orders the reads of the entries. */
static inline bool
vu_split_used_pending(const struct vu_vq *vq)
{
	return __atomic_load_n(&vq->split.used->idx, __ATOMIC_RELAXED) != vq->last_used;
}

/* Read the next used entry once: the device may rewrite it. */
static inline void
vu_split_used_peek(const struct vu_vq *vq, uint16_t ahead, uint32_t *id, uint32_t *len)
{
	const struct vring_used_elem *e =
		&vq->split.used->ring[(uint16_t)(vq->last_used + ahead) & (vq->size - 1)];

	*id = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
	*len = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
}

/* True if 'id' names the buffer the next used entry may return. */
static inline bool
vu_split_id_ok(const struct vu_vq *vq, uint32_t id)
{
	if (unlikely(id >= vq->size || vq->slots[id].ndescs == 0))
		return false;
	return !vq->conf.in_order || id == vq->oldest;
}

/* Give the descriptors of buffer 'id' back to the free list. */
static inline void
vu_split_release(struct vu_vq *vq, uint16_t id)
{
	struct vu_slot *s = &vq->slots[id];

	if (vq->conf.in_order) {
		vq->oldest = (vq->oldest + s->ndescs) & (vq->size - 1);
	} else {
		vq->next[s->last] = vq->free_head;
		vq->free_head = id;
	}
	vq->num_free += s->ndescs;
	vq->inflight--;
	s->ndescs = 0;
}

/*
 * Consume the next used entry (id, len) after checking it: the id must be a
 * buffer we posted (the expected one under IN_ORDER) and the length must fit
 * the bytes the device may write. False after latching the ring broken.
 */
static inline bool
vu_split_take(struct vu_vq *vq, uint32_t id, uint32_t len)
{
	if (unlikely(!vu_split_id_ok(vq, id))) {
		vu_vq_set_broken(vq, "used id %u was not posted%s", id,
				 vq->conf.in_order ? " or is out of order under IN_ORDER" : "");
		return false;
	}
	if (unlikely(len > vq->slots[id].len)) {
		vu_vq_set_broken(vq, "used length %u for id %u exceeds its %u-byte buffer", len, id,
				 vq->slots[id].len);
		return false;
	}
	vu_split_release(vq, (uint16_t)id);
	vq->last_used++;
	return true;
}

/* Consume the next used entry of a receive ring: its mbuf, or NULL with the ring broken. */
static inline struct rte_mbuf *
vu_split_rx_take(struct vu_vq *vq, uint32_t id, uint32_t len)
{
	return vu_split_take(vq, id, len) ? vq->slots[id].m : NULL;
}

/*
 * vu_split_rx_fast() for one value of IN_ORDER. Always inlined so that each
 * caller gets a loop for its constant 'in_order' (no test per packet, and
 * the expected id alone proves it in range): vu_rx_burst went from 61.8
 * to 42.8 instructions a packet (instructions.py --annotate
 * front/split/h2g-64/io1).
 */
static __rte_always_inline uint16_t
vu_split_rx_fast_layout(struct vu_vq *vq, struct rte_mbuf **pkts, uint16_t n, uint16_t hdr,
			const bool in_order)
{
	const struct vring_used_elem *ring = vq->split.used->ring;
	uint16_t mask = vq->size - 1, last = vq->last_used, oldest = vq->oldest, i;
	struct vu_slot *slots = vq->slots;

	for (i = 0; i < n; i++) {
		const struct vring_used_elem *e = &ring[(uint16_t)(last + i) & mask];
		/* Read once: the device may rewrite the entry. */
		uint32_t id = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
		uint32_t len = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
		struct rte_mbuf *m;
		struct vu_slot *s;

		if (in_order ? unlikely(id != oldest) : unlikely(id > mask))
			break;
		s = &slots[id];
		/* hdr is never 0, so len < hdr also stops an unused (empty) buffer. */
		if (unlikely(s->ndescs != 1 || len > s->len || len < hdr))
			break;
		m = s->m;
		s->ndescs = 0;
		if (in_order) {
			oldest = (oldest + 1) & mask;
			rte_prefetch0(slots[(oldest + 2) & mask].m);
		} else {
			vq->next[id] = vq->free_head;
			vq->free_head = (uint16_t)id;
		}
		len -= hdr;
		m->data_len = (uint16_t)len;
		m->pkt_len = len;
		pkts[i] = m;
	}
	vq->oldest = oldest;
	vq->last_used = last + i;
	vq->num_free += i;
	vq->inflight -= i;
	return i;
}

/*
 * Take up to n received packets of one buffer each (no MRG_RXBUF) from the
 * used entries (n of them at least), into pkts, with the checks of
 * vu_split_take() and a header of 'hdr' bytes at least; the state is kept
 * in registers and written back once. Stops at the first entry that is
 * anything else (an unused buffer, a violation), leaving it for the
 * caller's general path. Returns how many it took.
 */
static inline uint16_t
vu_split_rx_fast(struct vu_vq *vq, struct rte_mbuf **pkts, uint16_t n, uint16_t hdr)
{
	if (vq->conf.in_order)
		return vu_split_rx_fast_layout(vq, pkts, n, hdr, true);
	return vu_split_rx_fast_layout(vq, pkts, n, hdr, false);
}

/* Keep used_event far ahead so the device never needs to interrupt us. */
static inline void
vu_split_quiet(struct vu_vq *vq)
{
	if (vq->conf.event_idx && (uint16_t)(vq->used_event - vq->last_used) < 0x4000) {
		vq->used_event = vq->last_used + 0x8000;
		__atomic_store_n(vring_used_event(vq->split.avail, vq->size), vq->used_event,
				 __ATOMIC_RELAXED);
	}
}

/* vu_split_tx_reclaim() for one value of IN_ORDER; always inlined as vu_split_rx_fast_layout(). */
static __rte_always_inline bool
vu_split_tx_reclaim_layout(struct vu_vq *vq, const bool in_order)
{
	const struct vring_used_elem *ring = vq->split.used->ring;
	uint16_t n = vu_split_used_count(vq), mask = vq->size - 1, last = vq->last_used;
	uint16_t oldest = vq->oldest, num_free = vq->num_free, inflight = vq->inflight, nd = 0, i;
	struct rte_mbuf *done[VU_MAX_BURST];
	struct vu_slot *slots = vq->slots;
	uint32_t kinds = VU_TX_PLAIN;
	bool ok = true;

	for (i = 0; i < n; i++) {
		const struct vring_used_elem *e = &ring[(uint16_t)(last + i) & mask];
		/* Read once: the device may rewrite the entry. */
		uint32_t id = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
		uint16_t cur;

		if (unlikely(id > mask || slots[id].ndescs == 0)) {
			vu_vq_set_broken(vq, "used id %u was not posted", id);
			ok = false;
			break;
		}
		/* Under IN_ORDER an entry may stand for a batch ending at its id. */
		do {
			struct vu_slot *s;

			cur = in_order ? oldest : (uint16_t)id;
			s = &slots[cur];
			/* Cannot trigger while our own bookkeeping holds; it bounds the walk. */
			if (unlikely(s->ndescs == 0)) {
				vu_vq_set_broken(vq, "in-order walk to id %u met a free slot %u",
						 id, cur);
				ok = false;
				goto out;
			}
			done[nd++] = s->m;
			kinds |= s->len;
			num_free += s->ndescs;
			inflight--;
			if (in_order) {
				oldest = (oldest + s->ndescs) & mask;
			} else {
				vq->next[s->last] = vq->free_head;
				vq->free_head = cur;
			}
			s->ndescs = 0;
			if (nd == RTE_DIM(done)) {
				vu_tx_free(vq, done, nd, kinds);
				nd = 0;
				kinds = VU_TX_PLAIN;
			}
		} while (cur != id);
	}
out:
	vq->last_used = last + i;
	vq->oldest = oldest;
	vq->num_free = num_free;
	vq->inflight = inflight;
	if (nd > 0)
		vu_tx_free(vq, done, nd, kinds);
	vu_split_quiet(vq);
	return ok;
}

/*
 * Consume the used entries of a transmit ring: free the mbufs of every
 * buffer the device returned (under IN_ORDER an entry may stand for a batch
 * ending at its id), with the ring state in registers, written back once.
 * Returns false if the ring broke.
 */
static inline bool
vu_split_tx_reclaim(struct vu_vq *vq)
{
	if (vq->conf.in_order)
		return vu_split_tx_reclaim_layout(vq, true);
	return vu_split_tx_reclaim_layout(vq, false);
}

#endif /* VHU_VU_SPLIT_H */
