/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueue walking for the data path: gather (read a chain), push
 * (collect a used entry), publish (the used index, once per burst) and
 * notify (interrupt the guest if it asked to be); and, at the end, the core
 * verbs on a split ring built on them (begin, pop, take, return, flush: see
 * virtq_verbs.h), parallel to the packed ones in virtq_packed.h.
 *
 * The guest owns the ring memory and may change it at any time, so every
 * descriptor is copied once to a local before it is checked and used, and
 * every index, length and address is checked. A violation latches the ring
 * broken (vhu_vq_set_broken()) and the burst ends; nothing outside guest
 * memory is ever read or written.
 */
#ifndef VHU_VIRTQ_SPLIT_H
#define VHU_VIRTQ_SPLIT_H

#include "virtq.h"

/*
 * Gather the chain starting at 'head' into 'vec' (starting at *nvec, which is
 * advanced) and add its byte count to *total. 'dir' says whether the device
 * must write (RX), read (TX), or read then write (a request) the buffers;
 * for VHU_DIR_RW, *n_out gets the index in 'vec' of the first writable piece
 * (*nvec at the end if there is none).
 *
 * Always inlined: each burst calls it with 'dir' constant, and the copy the
 * compiler specialises costs 5 to 13 instructions a packet less than a
 * shared one (test/perf/instructions.py, split/h2g-64 and split/g2h-64).
 */
static __rte_always_inline enum vhu_chain_rc
vhu_split_gather_dir(struct vhu_vq *vq, uint32_t head, enum vhu_dir dir, struct vhu_buf_vec *vec,
		     uint32_t *nvec, uint64_t *total, uint32_t *n_out)
{
	const struct vring_desc *table = vq->desc;
	uint32_t table_size = vq->size, idx = head, visited = 0, n = *nvec;
	enum vhu_chain_rc rc = VHU_CHAIN_OK;
	bool drop = false, seen_write = false, indirect = false;
	uint64_t sum = 0;

	if (unlikely(head >= vq->size)) {
		vhu_vq_set_broken(vq, "head %u out of range (ring has %u)", head, vq->size);
		return VHU_CHAIN_BROKEN;
	}
	for (;;) {
		struct vring_desc d;

		/* One read (the guest may change it), by memcpy: an indirect table
		 * may sit at any guest address, a plain load could be misaligned. */
		memcpy(&d, &table[idx], sizeof(d));

		if (unlikely(++visited > table_size)) {
			vhu_vq_set_broken(vq, "chain at head %u loops or exceeds %u descriptors",
					  head, table_size);
			return VHU_CHAIN_BROKEN;
		}
		if (unlikely(d.flags & VRING_DESC_F_INDIRECT)) {
			/* Nesting is known by where the walk is, not by the table's
			 * address: an indirect table the guest placed over the ring's
			 * own descriptor table maps to vq->desc, and a test of the
			 * pointer would follow it back into itself for ever. */
			if (unlikely(!vq->indirect || indirect || (d.flags & VRING_DESC_F_NEXT))) {
				vhu_vq_set_broken(vq, "head %u: %s", head,
						  !vq->indirect
							  ? "indirect descriptor not negotiated"
						  : indirect ? "nested indirect table"
							     : "indirect descriptor with NEXT");
				return VHU_CHAIN_BROKEN;
			}
			if (unlikely(d.len == 0 || (d.len % sizeof(struct vring_desc)) != 0 ||
				     d.len / sizeof(struct vring_desc) > vq->size)) {
				vhu_vq_set_broken(vq, "head %u: indirect table of %u bytes", head,
						  d.len);
				return VHU_CHAIN_BROKEN;
			}
			table = vhu_vq_map_whole(vq, head, d.addr, d.len, &rc);
			if (unlikely(table == NULL))
				return rc;
			table_size = d.len / sizeof(struct vring_desc);
			indirect = true;
			idx = 0;
			visited = 0;
			continue;
		}
		if (unlikely(!vhu_dir_ok(dir, (d.flags & VRING_DESC_F_WRITE) != 0, &seen_write, n,
					 n_out))) {
			vhu_vq_set_broken(vq, "head %u: %s", head, vhu_dir_why(dir));
			return VHU_CHAIN_BROKEN;
		}
		rc = vhu_vec_add(vq, head, d.addr, d.len,
				 vhu_dir_perm(dir, (d.flags & VRING_DESC_F_WRITE) != 0), vec, &n,
				 &drop);
		if (unlikely(rc != VHU_CHAIN_OK))
			return rc;
		sum += d.len;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		idx = d.next;
		if (unlikely(idx >= table_size)) {
			vhu_vq_set_broken(vq, "head %u: next index %u out of range (%u)", head, idx,
					  table_size);
			return VHU_CHAIN_BROKEN;
		}
	}
	if (dir == VHU_DIR_RW && !seen_write)
		*n_out = n;
	*nvec = n;
	*total += sum;
	return drop ? VHU_CHAIN_DROP : VHU_CHAIN_OK;
}

/* As vhu_split_gather_dir(), for a chain of one direction ('writable': RX). */
static __rte_always_inline enum vhu_chain_rc
vhu_split_gather(struct vhu_vq *vq, uint32_t head, bool writable, struct vhu_buf_vec *vec,
		 uint32_t *nvec, uint64_t *total)
{
	return vhu_split_gather_dir(vq, head, writable ? VHU_DIR_WRITE : VHU_DIR_READ, vec, nvec,
				    total, NULL);
}

/* Entries the guest made available since we last looked; UINT32_MAX if bogus. */
static inline uint32_t
vhu_split_avail_count(struct vhu_vq *vq)
{
	/* Acquire: pairs with the driver's release (write barrier) between
	 * filling avail->ring[] and bumping avail->idx, so the heads we read
	 * afterwards are the ones it published. */
	uint16_t avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t n = (uint16_t)(avail_idx - vq->last_avail_idx);

	if (unlikely(n > vq->size)) {
		vhu_vq_set_broken(vq, "avail index jumped from %u to %u (more than %u entries)",
				  vq->last_avail_idx, avail_idx, vq->size);
		return UINT32_MAX;
	}
	return n;
}

static inline uint16_t
vhu_split_avail_head(const struct vhu_vq *vq, uint16_t offset)
{
	return vq->avail->ring[(uint16_t)(vq->last_avail_idx + offset) & (vq->size - 1)];
}

static inline void
vhu_split_prefetch_head(const struct vhu_vq *vq, uint16_t offset)
{
	uint16_t head = vhu_split_avail_head(vq, offset);

	if (likely(head < vq->size))
		rte_prefetch0(&vq->desc[head]);
}

/* Write the collected used entries to the ring (not yet visible: see flush). */
static inline void
vhu_split_shadow_out(struct vhu_vq *vq)
{
	uint16_t i, n = vq->shadow_n, slot = (uint16_t)(vq->last_used_idx - n);

	for (i = 0; i < n; i++, slot++) {
		struct vring_used_elem *e = &vq->used->ring[slot & (vq->size - 1)];

		*e = vq->shadow[i];
		if (unlikely(vq->log != NULL))
			vhu_log_hva(vq, e, sizeof(*e));
		if (unlikely(vq->inflight_split != NULL))
			vhu_inflight_split_used(vq, vq->shadow[i].id);
	}
	vq->shadow_n = 0;
}

/*
 * Add one used entry; not visible to the guest until vhu_split_flush().
 * Entries are collected in the ring's shadow and written to the used ring
 * together at the flush (or when the shadow is full): the driver polls the
 * used ring's lines, and a burst that wrote its entries one by one, between
 * the packet copies, would pull each line away from the driver's core for
 * the whole burst.
 */
static inline void
vhu_split_push(struct vhu_vq *vq, uint16_t id, uint32_t len)
{
	struct vring_used_elem *e = &vq->shadow[vq->shadow_n++];

	e->id = id;
	e->len = len;
	vq->last_used_idx++;
	if (unlikely(vq->shadow_n == VHU_SHADOW_USED))
		vhu_split_shadow_out(vq);
}

/* Interrupt the guest if it wants one for the entries up to the new used index. */
static inline void
vhu_split_notify(struct vhu_vq *vq, uint16_t old_used)
{
	int fd = __atomic_load_n(&vq->callfd, __ATOMIC_RELAXED);
	uint16_t new_used = vq->last_used_idx;

	if (fd < 0)
		return;
	/* Full barrier: our used->idx store must be visible before we read the
	 * driver's suppression fields, pairing with the driver's barrier between
	 * re-enabling interrupts and re-reading used->idx; without it both sides
	 * could miss each other and the guest would sleep on a full ring. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx) {
		uint16_t ev = __atomic_load_n(vring_used_event(vq->avail, vq->size),
					      __ATOMIC_RELAXED);

		if (!vring_need_event(ev, new_used, old_used))
			return;
	} else if (__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED) &
		   VRING_AVAIL_F_NO_INTERRUPT) {
		return;
	}
	vhu_vq_kick_guest(vq, fd);
}

/* Publish every entry pushed in this burst with one store, then notify. */
static inline void
vhu_split_publish(struct vhu_vq *vq, uint16_t old_used)
{
	if (vq->last_used_idx == old_used)
		return;
	vhu_split_shadow_out(vq);
	/* Release: the used entries written by vhu_split_push() (and the buffer
	 * contents) become visible before the index that hands them to the
	 * driver, which reads used->idx with acquire (its read barrier). */
	__atomic_store_n(&vq->used->idx, vq->last_used_idx, __ATOMIC_RELEASE);
	if (unlikely(vq->log != NULL))
		vhu_log_hva(vq, &vq->used->idx, sizeof(vq->used->idx));
	if (unlikely(vq->inflight_split != NULL))
		vhu_inflight_split_done(vq, old_used);
	vhu_split_notify(vq, old_used);
}

/* ---- the core verbs on a split ring (see virtq_verbs.h) ---- */

/* A split burst's pending returns: the used index it started from. */
struct vhu_split_burst {
	uint16_t old_used;
};

static inline bool
vhu_split_begin(struct vhu_vq *vq, struct vhu_cursor *cur, struct vhu_split_burst *b)
{
	uint32_t n = vhu_split_avail_count(vq);

	if (n == 0 || n == UINT32_MAX)
		return false;
	cur->idx = vq->last_avail_idx;
	cur->left = (uint16_t)n;
	b->old_used = vq->last_used_idx;
	return true;
}

static inline bool
vhu_split_more(const struct vhu_vq *vq, const struct vhu_cursor *cur)
{
	RTE_SET_USED(vq);
	return cur->left > 0;
}

/* Start reading the descriptor of the head 'ahead' entries past the cursor
 * (the caller keeps within what the guest made available). */
static inline void
vhu_split_prefetch(const struct vhu_vq *vq, const struct vhu_cursor *cur, uint16_t ahead)
{
	uint16_t head = vq->avail->ring[(uint16_t)(cur->idx + ahead) & (vq->size - 1)];

	if (likely(head < vq->size))
		rte_prefetch0(&vq->desc[head]);
}

static inline enum vhu_chain_rc
vhu_split_pop(struct vhu_vq *vq, struct vhu_cursor *cur, bool writable, struct vhu_buf_vec *vec,
	      uint32_t *nvec, struct vhu_chain *c)
{
	enum vhu_chain_rc rc;

	c->slot = cur->idx;
	c->id = vq->avail->ring[cur->idx & (vq->size - 1)];
	c->len = 0;
	rc = vhu_split_gather(vq, c->id, writable, vec, nvec, &c->len);
	if (rc >= 0) {
		cur->idx++;
		cur->left--;
	}
	return rc;
}

static inline enum vhu_chain_rc
vhu_split_pop_rw(struct vhu_vq *vq, struct vhu_cursor *cur, struct vhu_buf_vec *vec, uint32_t *nvec,
		 uint32_t *n_out, struct vhu_chain *c)
{
	enum vhu_chain_rc rc;

	c->slot = cur->idx;
	c->id = vq->avail->ring[cur->idx & (vq->size - 1)];
	c->len = 0;
	rc = vhu_split_gather_dir(vq, c->id, VHU_DIR_RW, vec, nvec, &c->len, n_out);
	if (rc >= 0) {
		cur->idx++;
		cur->left--;
	}
	return rc;
}

static inline void
vhu_split_take(struct vhu_vq *vq, const struct vhu_chain *c)
{
	if (unlikely(vq->inflight_split != NULL))
		vhu_inflight_split_take(vq, c->id);
	vq->last_avail_idx = (uint16_t)(c->slot + 1);
}

static inline void
vhu_split_return(struct vhu_vq *vq, struct vhu_split_burst *b, const struct vhu_chain *c,
		 uint32_t len)
{
	RTE_SET_USED(b);
	vhu_split_push(vq, c->id, len);
}

static inline void
vhu_split_begin_return(struct vhu_vq *vq, struct vhu_split_burst *b)
{
	b->old_used = vq->last_used_idx;
}

static inline void
vhu_split_flush(struct vhu_vq *vq, struct vhu_split_burst *b)
{
	vhu_split_publish(vq, b->old_used);
}

/*
 * ---- runs of flat chains: the split ring's batched verbs ----
 *
 * Most chains a net driver posts are one descriptor whose buffer is one
 * piece of guest memory. A burst takes a run of them at once: the heads are
 * read (vhu_split_peek()), each chain is checked and mapped with one look at
 * its descriptor (vhu_split_pop_run()), the run is taken and, once its
 * buffers are copied, returned (vhu_split_take_run(), vhu_split_return_run()).
 * The first chain that is not flat ends the run, and vhu_split_pop() takes
 * it; it also says what is wrong with it, if anything, for the run's verbs
 * report nothing. Per chain, this saves the general walk's loop, its vector
 * and the shadow entry (with the split dequeue of vhost_net_split.c, g2h 64 B
 * went from 297.8 to 142.0 instructions a packet: test/perf/instructions.py).
 */

/* Chains a run holds at most: the arrays the caller keeps for it. */
#define VHU_SPLIT_RUN 32

/*
 * Read the heads of the 'n' chains at the cursor (n at most cur->left) into
 * heads[], one read each, and start reading their descriptors. A head out of
 * range is prefetched masked (harmless) and refused by vhu_split_pop_run().
 */
static inline void
vhu_split_peek(const struct vhu_vq *vq, const struct vhu_cursor *cur, uint16_t n, uint16_t *heads)
{
	const uint16_t mask = vq->size - 1;
	uint16_t k;

	for (k = 0; k < n; k++) {
		heads[k] = vq->avail->ring[(uint16_t)(cur->idx + k) & mask];
		rte_prefetch0(&vq->desc[heads[k] & mask]);
	}
}

/*
 * Map the buffer of flat descriptor 'd' whole, the general way; NULL if it is
 * not one piece here. No side effects (no miss posted, nothing latched):
 * vhu_split_pop() then takes the chain and reports what is wrong, if anything.
 */
static inline uint8_t *
vhu_split_map_flat(struct vhu_vq *vq, const struct vring_desc *d, bool writable)
{
	uint64_t got = d->len;
	uint8_t *p = NULL;

	if (likely(!vq->iommu))
		p = vhu_gpa_to_hva(vq->mem, d->addr, &got, &vq->mem_cache);
	else if (d->addr + d->len < d->addr ||
		 vhu_iotlb_map(vq->iotlb, d->addr, &got,
			       writable ? VHOST_ACCESS_WO : VHOST_ACCESS_RO, &p) != VHU_MAP_OK)
		return NULL;
	return p != NULL && got == d->len ? p : NULL;
}

/*
 * The memory region of the ring's last hit, kept in locals through a run so
 * that a buffer in it maps with two compares. Empty behind a vIOMMU.
 */
struct vhu_split_hint {
	uint64_t gpa;
	uint64_t size;
	uint64_t hva;
};

static inline void
vhu_split_hint_load(const struct vhu_vq *vq, struct vhu_split_hint *h)
{
	const struct vhu_mem_region *r;

	h->gpa = 0;
	h->size = 0;
	h->hva = 0;
	if (vq->iommu || vq->mem_cache >= vq->mem->nregions)
		return;
	r = &vq->mem->regions[vq->mem_cache];
	h->gpa = r->gpa;
	h->size = r->size;
	h->hva = r->hva;
}

/*
 * Pop the run of flat chains at the cursor, whose heads vhu_split_peek() read
 * into heads[0..n): chains of one descriptor for direction 'writable' (no
 * NEXT, no INDIRECT) whose buffer is one non-empty piece in our address
 * space, of want[k] bytes at least for chain k if 'want' is not NULL. Stops
 * at the first chain that is not one of those, having changed nothing for
 * it: vhu_split_pop() takes that one. vec[k] is chain k's buffer, its first
 * two lines prefetched. Moves the cursor past the run; returns its length.
 *
 * Always inlined, as vhu_split_gather() is: 'writable' is constant per burst.
 */
static __rte_always_inline uint16_t
vhu_split_pop_run(struct vhu_vq *vq, struct vhu_cursor *cur, const uint16_t *heads, uint16_t n,
		  bool writable, const uint32_t *want, struct vhu_buf_vec *vec)
{
	const uint16_t flags = writable ? VRING_DESC_F_WRITE : 0, size = vq->size;
	const struct vring_desc *desc = vq->desc;
	struct vhu_split_hint h;
	uint16_t k;

	vhu_split_hint_load(vq, &h);
	for (k = 0; k < n; k++) {
		struct vring_desc d;
		uint8_t *p;

		if (unlikely(heads[k] >= size))
			break;
		/* One read, by memcpy: see vhu_split_gather(). */
		memcpy(&d, &desc[heads[k]], sizeof(d));
		if (unlikely(d.flags != flags || d.len == 0))
			break;
		if (want != NULL && d.len < want[k])
			break;
		if (likely(d.addr - h.gpa < h.size && d.len <= h.size - (d.addr - h.gpa))) {
			p = (uint8_t *)(uintptr_t)(h.hva + (d.addr - h.gpa));
		} else {
			p = vhu_split_map_flat(vq, &d, writable);
			if (p == NULL)
				break;
			vhu_split_hint_load(vq, &h);
		}
		vec[k].addr = p;
		vec[k].len = d.len;
		rte_prefetch0(p);
		if (d.len > RTE_CACHE_LINE_SIZE)
			rte_prefetch0(p + RTE_CACHE_LINE_SIZE);
	}
	cur->idx = (uint16_t)(cur->idx + k);
	cur->left = (uint16_t)(cur->left - k);
	return k;
}

/*
 * Take the 'n' chains popped by vhu_split_pop_run() since the last take,
 * heads[0..n), as vhu_split_take() takes one each.
 */
static inline void
vhu_split_take_run(struct vhu_vq *vq, const uint16_t *heads, uint16_t n)
{
	uint16_t k;

	if (unlikely(vq->inflight_split != NULL))
		for (k = 0; k < n; k++)
			vhu_inflight_split_take(vq, heads[k]);
	vq->last_avail_idx = (uint16_t)(vq->last_avail_idx + n);
}

/*
 * Return the 'n' chains heads[0..n), taken, with len[k] bytes written into
 * chain k (len NULL: none), as vhu_split_return() returns one each, but
 * written to the used ring now, without the shadow: the run's copies are
 * done, so nothing is written between them (see vhu_split_push()). Visible
 * to the driver at vhu_split_flush(), as ever.
 */
static __rte_always_inline void
vhu_split_return_run(struct vhu_vq *vq, const uint16_t *heads, const uint32_t *len, uint16_t n)
{
	const uint16_t mask = vq->size - 1;
	struct vring_used *used = vq->used;
	uint16_t k, slot;

	if (unlikely(vq->shadow_n > 0))
		vhu_split_shadow_out(vq); /* entries pushed before the run go first */
	slot = vq->last_used_idx;
	for (k = 0; k < n; k++) {
		used->ring[(uint16_t)(slot + k) & mask].id = heads[k];
		used->ring[(uint16_t)(slot + k) & mask].len = len != NULL ? len[k] : 0;
	}
	if (unlikely(vq->log != NULL || vq->inflight_split != NULL)) {
		for (k = 0; k < n; k++) {
			if (vq->log != NULL)
				vhu_log_hva(vq, &used->ring[(uint16_t)(slot + k) & mask],
					    sizeof(used->ring[0]));
			if (vq->inflight_split != NULL)
				vhu_inflight_split_used(vq, heads[k]);
		}
	}
	vq->last_used_idx = (uint16_t)(slot + n);
}

#endif /* VHU_VIRTQ_SPLIT_H */
