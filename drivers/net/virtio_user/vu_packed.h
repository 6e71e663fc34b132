/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packed virtqueue, driver side (virtio 1.2, 2.8), with the verbs and
 * checks of vu_split.h: add, kick, take. A descriptor becomes available when
 * its flags carry our wrap counter in AVAIL and its inverse in USED, and
 * used when both bits equal the device's wrap counter. Buffer ids are ring
 * positions under IN_ORDER and come from a private free-id stack otherwise.
 * Sizes need not be powers of two.
 */
#ifndef VHU_VU_PACKED_H
#define VHU_VU_PACKED_H

#include <sys/eventfd.h>

#include <rte_branch_prediction.h>

#include "vu_buf.h"
#include "vu_private.h"
#include "vu_split.h" /* the dispatchers for both layouts, at the end */

#define VU_PACKED_WRAP_BITS (VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED)

static inline bool
vu_packed_is_used(uint16_t flags, bool wrap)
{
	bool avail = (flags & VRING_PACKED_DESC_F_AVAIL) != 0;
	bool used = (flags & VRING_PACKED_DESC_F_USED) != 0;

	return avail == used && used == wrap;
}

/* The buffer id the next vu_packed_add*() will use (to fill its tx area first). */
static inline uint16_t
vu_packed_next_id(const struct vu_vq *vq)
{
	return vq->conf.in_order ? vq->avail_idx : vq->ids[vq->id_top - 1];
}

/* Step a position; flip the wrap counter (and our AVAIL/USED bits) at the end. */
static inline uint16_t
vu_packed_advance_avail(struct vu_vq *vq, uint16_t pos)
{
	if (++pos == vq->size) {
		pos = 0;
		vq->avail_wrap = !vq->avail_wrap;
		vq->avail_flags ^= VU_PACKED_WRAP_BITS;
	}
	return pos;
}

static inline void
vu_packed_claim(struct vu_vq *vq, uint16_t id, struct rte_mbuf *m, uint32_t len, uint16_t n,
		uint16_t head)
{
	struct vu_slot *s = &vq->slots[id];

	s->m = m;
	s->len = len;
	s->ndescs = n;
	s->last = head;
	if (!vq->conf.in_order)
		vq->id_top--;
	vq->num_free -= n;
	vq->inflight++;
	vq->added++;
}

/* Post a buffer of one descriptor; num_free >= 1 was checked. */
static inline void
vu_packed_add(struct vu_vq *vq, uint64_t addr, uint32_t len, uint16_t flags, struct rte_mbuf *m)
{
	uint16_t pos = vq->avail_idx, id = vu_packed_next_id(vq);
	struct vring_packed_desc *d = &vq->packed.desc[pos];
	uint16_t f = flags | vq->avail_flags;

	d->addr = addr;
	d->len = len;
	d->id = id;
	vu_packed_claim(vq, id, m, len, 1, pos);
	vq->avail_idx = vu_packed_advance_avail(vq, pos);
	/* Release: addr, len, id and the buffer's bytes are visible before the
	 * flags that make the descriptor available; pairs with the device's
	 * acquire load of the flags. */
	__atomic_store_n(&d->flags, f, __ATOMIC_RELEASE);
}

/*
 * vu_packed_add_rx() for one value of IN_ORDER; always inlined as
 * vu_split_rx_fast_layout(). The ring state stays in registers and is
 * written back once; the wrap is tested once per stretch up to the end of
 * the ring rather than per buffer, and the stretch walks pointers
 * (descriptor, mbuf, free id) with 32-bit positions, as
 * vu_packed_rx_fast_layout() does.
 */
static __rte_always_inline void
vu_packed_add_rx_layout(struct vu_vq *vq, struct rte_mbuf *const *ms, uint16_t n,
			const bool in_order)
{
	uint32_t hdr = vq->conf.hdr_len, pos = vq->avail_idx, size = vq->size, i = 0;
	uint16_t flags = vq->avail_flags | VRING_DESC_F_WRITE;
	struct vring_packed_desc *desc = vq->packed.desc;
	const uint16_t *top = vq->ids + vq->id_top;
	struct vu_slot *slots = vq->slots;
	/* A local copy: the stores into mbufs might alias vq->rx_init, for all the
	 * compiler knows, and it would load the template again for each mbuf. */
	const struct vu_rx_init init = vq->rx_init;

	while (i < n) {
		uint32_t end = pos + RTE_MIN(n - i, size - pos), start = pos;
		struct rte_mbuf *const *m = ms + i;

		for (; pos < end; pos++, m++) {
			struct vring_packed_desc *d = &desc[pos];
			uint16_t id = in_order ? pos : *--top;
			struct vu_slot *s = &slots[id];
			uint32_t len;

			/* 'last' is the split ring's; a packed slot needs no chain end. */
			d->addr = vu_rx_buf_init(*m, &init, hdr, s, 0, &len);
			d->len = len;
			d->id = id;
			/* Release: as in vu_packed_add(), the descriptor before the
			 * flags that make it available; pairs with the device's
			 * acquire load of the flags. */
			__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
		}
		i += pos - start;
		if (pos == size) {
			pos = 0;
			vq->avail_wrap = !vq->avail_wrap;
			flags ^= VU_PACKED_WRAP_BITS;
		}
	}
	vq->avail_idx = (uint16_t)pos;
	vq->avail_flags = flags & ~VRING_DESC_F_WRITE;
	vq->id_top = (uint16_t)(top - vq->ids);
	vq->num_free -= n;
	vq->added += n;
	vq->inflight += n;
}

/*
 * Post n mbufs, raw from the pool, as receive buffers of one descriptor
 * each (vu_rx_buf_init()), as vu_split_add_rx() does; num_free >= n was
 * checked. vu_packed_add() per buffer.
 */
static inline void
vu_packed_add_rx(struct vu_vq *vq, struct rte_mbuf *const *ms, uint16_t n)
{
	if (vq->conf.in_order)
		vu_packed_add_rx_layout(vq, ms, n, true);
	else
		vu_packed_add_rx_layout(vq, ms, n, false);
}

/*
 * Post pkts[0..n) while they are plain (vu_tx_plain(), vu_tx_buf_init()),
 * as vu_split_add_tx() does; num_free >= n was checked. vu_packed_add() per
 * packet, with the ring state kept in registers and written back once.
 * Returns how many it posted: it stops at the first other packet, for
 * vu_tx_burst()'s general path.
 */
static inline uint16_t
vu_packed_add_tx(struct vu_vq *vq, struct rte_mbuf *const *pkts, uint16_t n)
{
	uint16_t hdr = vq->conf.hdr_len, pos = vq->avail_idx, top = vq->id_top, size = vq->size;
	uint16_t flags = vq->avail_flags, i;
	const struct rte_mempool *pool = vq->pool;
	struct vring_packed_desc *desc = vq->packed.desc;
	struct vu_slot *slots = vq->slots;
	bool in_order = vq->conf.in_order;

	for (i = 0; i < n; i++) {
		struct vring_packed_desc *d = &desc[pos];
		uint16_t id;
		uint32_t len;

		if (unlikely(!vu_tx_plain(pkts[i], pool, hdr)))
			break;
		id = in_order ? pos : vq->ids[--top];
		d->addr = vu_tx_buf_init(pkts[i], hdr, &slots[id], pos, &len);
		d->len = len;
		d->id = id;
		/* Release: as in vu_packed_add(), the descriptor (and the packet's
		 * header and bytes) before the flags that make it available;
		 * pairs with the device's acquire load of the flags. */
		__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
		if (++pos == size) {
			pos = 0;
			vq->avail_wrap = !vq->avail_wrap;
			flags ^= VU_PACKED_WRAP_BITS;
		}
	}
	vq->avail_idx = pos;
	vq->avail_flags = flags;
	vq->id_top = top;
	vq->num_free -= i;
	vq->added += i;
	vq->inflight += i;
	return i;
}

/* Post a chain of n descriptors (without INDIRECT); num_free >= n was checked. */
static inline void
vu_packed_add_chain(struct vu_vq *vq, const struct vu_piece *pc, uint16_t n, struct rte_mbuf *m)
{
	uint16_t head = vq->avail_idx, pos = head, id = vu_packed_next_id(vq), head_flags = 0, i;

	for (i = 0; i < n; i++) {
		struct vring_packed_desc *d = &vq->packed.desc[pos];
		uint16_t f = vq->avail_flags | pc[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0);

		d->addr = pc[i].addr;
		d->len = pc[i].len;
		d->id = id;
		if (i == 0)
			head_flags = f;
		else
			__atomic_store_n(&d->flags, f, __ATOMIC_RELAXED);
		pos = vu_packed_advance_avail(vq, pos);
	}
	vu_packed_claim(vq, id, m, 0, n, head);
	vq->avail_idx = pos;
	/* Release: the whole chain is written before its head becomes available;
	 * pairs with the device's acquire load of the head's flags. */
	__atomic_store_n(&vq->packed.desc[head].flags, head_flags, __ATOMIC_RELEASE);
}

/* Notify the device about the buffers added since the last check, if it wants that. */
static inline void
vu_packed_kick(struct vu_vq *vq)
{
	uint16_t new_idx = vq->avail_idx, old_idx = new_idx - vq->added, flags;
	bool need;

	if (vq->added == 0)
		return;
	vq->added = 0;
	/* Full fence: the descriptors' flags are visible before we read the
	 * device's event suppression area, pairing with the device's fence
	 * between enabling notifications and re-checking the ring. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = __atomic_load_n(&vq->packed.device->flags, __ATOMIC_RELAXED);
	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE) {
		need = false;
	} else if (flags == VRING_PACKED_EVENT_FLAG_DESC && vq->conf.event_idx) {
		uint16_t off_wrap = __atomic_load_n(&vq->packed.device->off_wrap, __ATOMIC_RELAXED);
		uint16_t ev = off_wrap & 0x7fff;

		/* An event in the previous lap is a negative offset from this one. */
		if ((bool)(off_wrap >> 15) != vq->avail_wrap)
			ev -= vq->size;
		need = vring_need_event(ev, new_idx, old_idx);
	} else {
		need = true; /* ENABLE, or a value we do not know: a kick is never wrong */
	}
	if (need) {
		vq->stats.kicks++;
		if (eventfd_write(vq->kickfd, 1) != 0)
			vq->stats.errors++;
	}
}

/*
 * Is the buffer 'ahead' buffers past the next used position used yet? For
 * rings whose buffers are one descriptor each (receive). Fills id and len.
 */
static inline bool
vu_packed_used_peek(const struct vu_vq *vq, uint16_t ahead, uint16_t *id, uint32_t *len)
{
	uint32_t pos = (uint32_t)vq->last_used + ahead;
	bool wrap = vq->used_wrap;
	const struct vring_packed_desc *d;

	if (pos >= vq->size) {
		pos -= vq->size;
		wrap = !wrap;
	}
	d = &vq->packed.desc[pos];
	/* Acquire: pairs with the device's release store of the flags after it
	 * wrote id, len and the received bytes. */
	if (!vu_packed_is_used(__atomic_load_n(&d->flags, __ATOMIC_ACQUIRE), wrap))
		return false;
	*id = __atomic_load_n(&d->id, __ATOMIC_RELAXED);
	*len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
	return true;
}

/* Has the device returned a buffer since the last take? A hint for idle polls only:
 * vu_packed_used_peek() is what orders the reads of the descriptor. */
static inline bool
vu_packed_used_pending(const struct vu_vq *vq)
{
	return vu_packed_is_used(
		__atomic_load_n(&vq->packed.desc[vq->last_used].flags, __ATOMIC_RELAXED),
		vq->used_wrap);
}

static inline bool
vu_packed_id_ok(const struct vu_vq *vq, uint16_t id)
{
	if (unlikely(id >= vq->size || vq->slots[id].ndescs == 0))
		return false;
	return !vq->conf.in_order || id == vq->last_used;
}

/* Retire buffer 'id', whose used descriptor sits at the next used position. */
static inline void
vu_packed_release(struct vu_vq *vq, uint16_t id)
{
	struct vu_slot *s = &vq->slots[id];
	uint32_t pos = (uint32_t)vq->last_used + s->ndescs;

	if (pos >= vq->size) {
		pos -= vq->size;
		vq->used_wrap = !vq->used_wrap;
	}
	vq->last_used = (uint16_t)pos;
	vq->num_free += s->ndescs;
	vq->inflight--;
	s->ndescs = 0;
	if (!vq->conf.in_order)
		vq->ids[vq->id_top++] = id;
}

/* Consume the next used buffer after the checks of vu_split_take(); false with the ring broken. */
static inline bool
vu_packed_take(struct vu_vq *vq, uint16_t id, uint32_t len)
{
	if (unlikely(!vu_packed_id_ok(vq, id))) {
		vu_vq_set_broken(vq, "used buffer id %u was not posted%s", id,
				 vq->conf.in_order ? " or is out of order under IN_ORDER" : "");
		return false;
	}
	if (unlikely(len > vq->slots[id].len)) {
		vu_vq_set_broken(vq, "used length %u for id %u exceeds its %u-byte buffer", len, id,
				 vq->slots[id].len);
		return false;
	}
	vu_packed_release(vq, id);
	return true;
}

/* Consume the next used buffer of a receive ring; NULL after latching the ring broken. */
static inline struct rte_mbuf *
vu_packed_rx_take(struct vu_vq *vq, uint16_t id, uint32_t len)
{
	return vu_packed_take(vq, id, len) ? vq->slots[id].m : NULL;
}

/*
 * vu_packed_rx_fast() for one value of IN_ORDER; always inlined as
 * vu_split_rx_fast_layout(). The wrap is tested once per stretch up to the
 * end of the ring rather than per packet, and the stretch walks pointers
 * (descriptor, packet, free id) with 32-bit positions, which need no
 * zero-extension per packet as 16-bit ones do.
 */
static __rte_always_inline uint16_t
vu_packed_rx_fast_layout(struct vu_vq *vq, struct rte_mbuf **pkts, uint16_t n, uint16_t hdr,
			 const bool in_order)
{
	uint32_t pos = vq->last_used, size = vq->size, i = 0;
	const struct vring_packed_desc *desc = vq->packed.desc;
	struct vu_slot *slots = vq->slots;
	uint16_t *top = vq->ids + vq->id_top;
	/* Used: both bits equal the device's wrap counter (vu_packed_is_used()). */
	uint16_t used_bits = vq->used_wrap ? VU_PACKED_WRAP_BITS : 0;

	while (i < n) {
		uint32_t end = pos + RTE_MIN(n - i, size - pos), start = pos;
		struct rte_mbuf **out = pkts + i;

		for (; pos < end; pos++) {
			const struct vring_packed_desc *d = &desc[pos];
			struct rte_mbuf *m;
			struct vu_slot *s;
			uint32_t len;
			uint16_t id;

			/* Acquire: pairs with the device's release store of the flags
			 * after it wrote id, len and the received bytes. */
			if ((__atomic_load_n(&d->flags, __ATOMIC_ACQUIRE) & VU_PACKED_WRAP_BITS) !=
			    used_bits)
				break;
			id = __atomic_load_n(&d->id, __ATOMIC_RELAXED);
			len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
			if (in_order ? unlikely(id != pos) : unlikely(id >= size))
				break;
			s = &slots[in_order ? pos : id];
			/* hdr is never 0, so len < hdr also stops an unused (empty) buffer. */
			if (unlikely(s->ndescs != 1 || len > s->len || len < hdr))
				break;
			m = s->m;
			s->ndescs = 0;
			if (!in_order)
				*top++ = id;
			/* Under IN_ORDER s is slots[pos]: the slot three ahead, wrapped
			 * (by a division: a ring may be shorter than three). */
			if (in_order)
				rte_prefetch0(
					(pos + 3 < size ? s + 3 : &slots[(pos + 3) % size])->m);
			len -= hdr;
			m->data_len = (uint16_t)len;
			m->pkt_len = len;
			*out++ = m;
		}
		i += pos - start;
		if (pos != end)
			break;
		if (pos == size) {
			pos = 0;
			used_bits ^= VU_PACKED_WRAP_BITS;
		}
	}
	vq->last_used = (uint16_t)pos;
	vq->used_wrap = used_bits != 0;
	vq->id_top = (uint16_t)(top - vq->ids);
	vq->num_free += i;
	vq->inflight -= i;
	return (uint16_t)i;
}

/*
 * Take up to n received packets of one buffer each (no MRG_RXBUF) into
 * pkts, with the checks of vu_packed_take() and a header of 'hdr' bytes at
 * least; the state is kept in registers and written back once. Stops at
 * the first descriptor not used yet or anything else (an unused buffer, a
 * violation), leaving it for the caller's general path. Returns how many
 * it took.
 */
static inline uint16_t
vu_packed_rx_fast(struct vu_vq *vq, struct rte_mbuf **pkts, uint16_t n, uint16_t hdr)
{
	if (vq->conf.in_order)
		return vu_packed_rx_fast_layout(vq, pkts, n, hdr, true);
	return vu_packed_rx_fast_layout(vq, pkts, n, hdr, false);
}

/* vu_packed_tx_reclaim() for one value of IN_ORDER; always inlined as vu_split_rx_fast_layout(). */
static __rte_always_inline bool
vu_packed_tx_reclaim_layout(struct vu_vq *vq, const bool in_order)
{
	uint16_t pos = vq->last_used, size = vq->size, top = vq->id_top, inflight = vq->inflight;
	uint16_t num_free = vq->num_free, nd = 0, id, cur;
	const struct vring_packed_desc *desc = vq->packed.desc;
	/* Used: both bits equal the device's wrap counter (vu_packed_is_used()). */
	uint16_t used_bits = vq->used_wrap ? VU_PACKED_WRAP_BITS : 0;
	struct rte_mbuf *done[VU_MAX_BURST];
	struct vu_slot *slots = vq->slots;
	uint32_t kinds = VU_TX_PLAIN;
	bool ok = true;

	while (inflight > 0) {
		const struct vring_packed_desc *d = &desc[pos];

		/* Acquire: pairs with the device's release store of the flags
		 * after it wrote the id. */
		if ((__atomic_load_n(&d->flags, __ATOMIC_ACQUIRE) & VU_PACKED_WRAP_BITS) !=
		    used_bits)
			break;
		id = __atomic_load_n(&d->id, __ATOMIC_RELAXED);
		if (unlikely(id >= size || slots[id].ndescs == 0)) {
			vu_vq_set_broken(vq, "used buffer id %u was not posted", id);
			ok = false;
			break;
		}
		/* Under IN_ORDER one used descriptor may stand for a batch ending at its id. */
		do {
			struct vu_slot *s;

			cur = in_order ? pos : id;
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
			pos += s->ndescs;
			if (pos >= size) {
				pos -= size;
				used_bits ^= VU_PACKED_WRAP_BITS;
			}
			s->ndescs = 0;
			if (!in_order)
				vq->ids[top++] = cur;
			if (nd == RTE_DIM(done)) {
				vu_tx_free(vq, done, nd, kinds);
				nd = 0;
				kinds = VU_TX_PLAIN;
			}
		} while (cur != id);
	}
out:
	vq->last_used = pos;
	vq->used_wrap = used_bits != 0;
	vq->id_top = top;
	vq->num_free = num_free;
	vq->inflight = inflight;
	if (nd > 0)
		vu_tx_free(vq, done, nd, kinds);
	return ok;
}

/*
 * Consume the used descriptors of a transmit ring and free their mbufs
 * (under IN_ORDER one used descriptor may stand for a batch ending at its
 * id), with the ring state in registers, written back once. Returns false
 * if the ring broke.
 */
static inline bool
vu_packed_tx_reclaim(struct vu_vq *vq)
{
	if (vq->conf.in_order)
		return vu_packed_tx_reclaim_layout(vq, true);
	return vu_packed_tx_reclaim_layout(vq, false);
}

/* ---- both layouts ---- */

/* Hand every buffer added since the last call to the device, and notify it
 * unless it suppressed that. */
static inline void
vu_flush_kick(struct vu_vq *vq)
{
	if (vq->added == 0)
		return;
	if (vq->conf.packed) {
		vu_packed_kick(vq);
	} else {
		vu_split_flush(vq);
		vu_split_kick(vq);
	}
}

/* Post a chain of n pieces as ring descriptors; num_free >= n was checked. */
static inline void
vu_add_chain(struct vu_vq *vq, const struct vu_piece *pc, uint16_t n, struct rte_mbuf *m)
{
	if (vq->conf.packed)
		vu_packed_add_chain(vq, pc, n, m);
	else
		vu_split_add_chain(vq, pc, n, m);
}

/*
 * Post n pieces (n <= VU_IND_MAX) as one ring descriptor pointing at the
 * indirect table 'table' in shared memory (INDIRECT_DESC negotiated,
 * num_free >= 1 checked).
 */
static inline void
vu_add_indirect(struct vu_vq *vq, struct vring_desc *table, const struct vu_piece *pc, uint16_t n,
		struct rte_mbuf *m)
{
	uint64_t iova = vu_mem_iova(vq->mem, table);
	uint16_t i;

	if (vq->conf.packed) {
		struct vring_packed_desc *t = (struct vring_packed_desc *)table;

		/* Packed indirect tables are sequential: no NEXT flags. */
		for (i = 0; i < n; i++) {
			t[i].addr = pc[i].addr;
			t[i].len = pc[i].len;
			t[i].id = 0;
			t[i].flags = pc[i].flags;
		}
		vu_packed_add(vq, iova, n * sizeof(*t), VRING_DESC_F_INDIRECT, m);
	} else {
		for (i = 0; i < n; i++) {
			table[i].addr = pc[i].addr;
			table[i].len = pc[i].len;
			table[i].flags = pc[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0);
			table[i].next = i + 1;
		}
		vu_split_add(vq, iova, n * sizeof(*table), VRING_DESC_F_INDIRECT, m);
	}
}

#endif /* VHU_VU_PACKED_H */
