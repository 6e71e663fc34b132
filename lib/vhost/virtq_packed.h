/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packed virtqueue walking for the data path (virtio 1.2, 2.8), parallel to
 * the split walker: gather (a chain whose head slot is available), push
 * (collect a used descriptor), publish (the burst) and notify; and, at the
 * end, the core verbs on a packed ring (begin, pop, take, return, flush:
 * see virtq_verbs.h), with the batch verbs only a packed ring has
 * (read_four, map_four, take_four, return_four, return_four_read).
 *
 * Positions are (index, wrap counter) pairs. A slot is available when its
 * AVAIL bit equals our avail wrap counter and its USED bit does not. The
 * driver writes a chain's flags last, so the acquire load of the head's
 * flags makes the rest of the chain visible. Used descriptors are written
 * in place; the flags of the first one in a burst are stored last, so the
 * driver, which consumes in order, sees the burst all at once.
 */
#ifndef VHU_VIRTQ_PACKED_H
#define VHU_VIRTQ_PACKED_H

#include <rte_byteorder.h>

#include "virtq.h"

/*
 * The flags of a used descriptor written in wrap round 'wrap': AVAIL and USED
 * both equal to the round, and WRITE if the device wrote into the buffer
 * ('wrote': its used length is not 0). Virtio 1.2, 2.8 "Write Flag": in a
 * used descriptor the bit says whether any data was written, and without it
 * the length is reserved and ignored by drivers.
 */
#define VHU_PACKED_FLAGS_USED(wrap, wrote) \
	(((wrap) ? (VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED) : 0) | \
	 ((wrote) ? VRING_DESC_F_WRITE : 0))

/* Advance a ring position by 'n' slots. */
static inline void
vhu_packed_advance(const struct vhu_vq *vq, uint16_t *idx, bool *wrap, uint16_t n)
{
	*idx += n;
	if (*idx >= vq->size) {
		*idx -= vq->size;
		*wrap = !*wrap;
	}
}

/*
 * Slots from position (from, from_wrap) forward to (to, to_wrap); vq->size
 * or more if 'to' is a whole lap or further on.
 */
static inline uint16_t
vhu_packed_dist(const struct vhu_vq *vq, uint16_t from, bool from_wrap, uint16_t to, bool to_wrap)
{
	return to_wrap == from_wrap ? (uint16_t)(to - from) : (uint16_t)(to + vq->size - from);
}

/* Is slot 'idx' available in wrap round 'wrap'? */
static inline bool
vhu_packed_avail(const struct vhu_vq *vq, uint16_t idx, bool wrap)
{
	/* Acquire: pairs with the driver's release store of the flags, which it
	 * writes after the rest of the chain; everything we read after this is
	 * what it published. */
	uint16_t f = __atomic_load_n(&vq->desc_packed[idx].flags, __ATOMIC_ACQUIRE);

	return ((f & VRING_PACKED_DESC_F_AVAIL) != 0) == wrap &&
	       ((f & VRING_PACKED_DESC_F_USED) != 0) != wrap;
}

/* Gather an indirect table of packed descriptors. */
static inline enum vhu_chain_rc
vhu_packed_gather_indirect(struct vhu_vq *vq, uint16_t slot, const struct vring_packed_desc *d,
			   enum vhu_dir dir, struct vhu_buf_vec *vec, uint32_t *nvec,
			   uint64_t *total, uint32_t *n_out)
{
	const struct vring_packed_desc *table;
	enum vhu_chain_rc rc = VHU_CHAIN_OK;
	uint32_t count, i;
	bool drop = false, seen_write = false;

	if (unlikely(!vq->indirect || (d->flags & VRING_DESC_F_NEXT))) {
		vhu_vq_set_broken(vq, "slot %u: %s", slot,
				  !vq->indirect ? "indirect descriptor not negotiated" :
						  "indirect descriptor with NEXT");
		return VHU_CHAIN_BROKEN;
	}
	if (unlikely(d->len == 0 || (d->len % sizeof(*table)) != 0 ||
		     d->len / sizeof(*table) > vq->size)) {
		vhu_vq_set_broken(vq, "slot %u: indirect table of %u bytes", slot, d->len);
		return VHU_CHAIN_BROKEN;
	}
	table = vhu_vq_map_whole(vq, slot, d->addr, d->len, &rc);
	if (unlikely(table == NULL))
		return rc;
	count = d->len / sizeof(*table);
	for (i = 0; i < count; i++) {
		struct vring_packed_desc e;

		/* One read (the guest may change it), by memcpy: the table may sit at
		 * any guest address, a plain load could be misaligned. */
		memcpy(&e, &table[i], sizeof(e));

		if (unlikely(e.flags & VRING_DESC_F_INDIRECT)) {
			vhu_vq_set_broken(vq, "slot %u: nested indirect table", slot);
			return VHU_CHAIN_BROKEN;
		}
		if (unlikely(!vhu_dir_ok(dir, (e.flags & VRING_DESC_F_WRITE) != 0, &seen_write,
					 *nvec, n_out))) {
			vhu_vq_set_broken(vq, "slot %u: %s", slot, vhu_dir_why(dir));
			return VHU_CHAIN_BROKEN;
		}
		rc = vhu_vec_add(vq, slot, e.addr, e.len,
				 vhu_dir_perm(dir, (e.flags & VRING_DESC_F_WRITE) != 0), vec, nvec,
				 &drop);
		if (unlikely(rc != VHU_CHAIN_OK))
			return rc;
		*total += e.len;
	}
	if (dir == VHU_DIR_RW && !seen_write)
		*n_out = *nvec;
	return drop ? VHU_CHAIN_DROP : VHU_CHAIN_OK;
}

/*
 * Gather the chain whose head is at slot 'idx' (already seen available).
 * On return *ndesc holds the slots it occupies and *id its buffer id; for
 * VHU_DIR_RW, *n_out the index in 'vec' of the first writable piece (as in
 * vhu_split_gather_dir()).
 */
static inline enum vhu_chain_rc
vhu_packed_gather_dir(struct vhu_vq *vq, uint16_t idx, enum vhu_dir dir, struct vhu_buf_vec *vec,
		      uint32_t *nvec, uint64_t *total, uint16_t *ndesc, uint16_t *id,
		      uint32_t *n_out)
{
	const uint16_t head = idx;
	enum vhu_chain_rc rc;
	bool drop = false, seen_write = false;
	uint16_t n = 0;

	for (;;) {
		struct vring_packed_desc d = vq->desc_packed[idx]; /* one read */

		if (unlikely(++n > vq->size)) {
			vhu_vq_set_broken(vq, "chain at slot %u is longer than the ring (%u)", head,
					  vq->size);
			return VHU_CHAIN_BROKEN;
		}
		if (unlikely(d.flags & VRING_DESC_F_INDIRECT)) {
			if (unlikely(n > 1)) {
				vhu_vq_set_broken(vq, "slot %u: indirect descriptor inside a chain",
						  idx);
				return VHU_CHAIN_BROKEN;
			}
			rc = vhu_packed_gather_indirect(vq, idx, &d, dir, vec, nvec, total, n_out);
			*ndesc = 1;
			*id = d.id;
			return rc;
		}
		if (unlikely(!vhu_dir_ok(dir, (d.flags & VRING_DESC_F_WRITE) != 0, &seen_write,
					 *nvec, n_out))) {
			vhu_vq_set_broken(vq, "slot %u: %s", idx, vhu_dir_why(dir));
			return VHU_CHAIN_BROKEN;
		}
		rc = vhu_vec_add(vq, head, d.addr, d.len,
				 vhu_dir_perm(dir, (d.flags & VRING_DESC_F_WRITE) != 0), vec, nvec,
				 &drop);
		if (unlikely(rc != VHU_CHAIN_OK))
			return rc;
		*total += d.len;
		if (!(d.flags & VRING_DESC_F_NEXT)) {
			if (dir == VHU_DIR_RW && !seen_write)
				*n_out = *nvec;
			*ndesc = n;
			*id = d.id; /* the buffer id is in the chain's last descriptor */
			return drop ? VHU_CHAIN_DROP : VHU_CHAIN_OK;
		}
		if (++idx >= vq->size)
			idx = 0;
	}
}

/* As vhu_packed_gather_dir(), for a chain of one direction ('writable': RX). */
static __rte_always_inline enum vhu_chain_rc
vhu_packed_gather(struct vhu_vq *vq, uint16_t idx, bool writable, struct vhu_buf_vec *vec,
		  uint32_t *nvec, uint64_t *total, uint16_t *ndesc, uint16_t *id)
{
	return vhu_packed_gather_dir(vq, idx, writable ? VHU_DIR_WRITE : VHU_DIR_READ, vec, nvec,
				     total, ndesc, id, NULL);
}

/*
 * The batch path: four slots that share one cache line of the ring (16-byte
 * descriptors, the first slot a multiple of four), each a whole chain of one
 * descriptor. They are checked with one look at the line, their buffers
 * copied, and their used descriptors written back to back, so the line
 * crosses between the driver's core and ours once per four packets, not
 * once per packet. Anything else (a chain, an indirect table, a slot not
 * yet available, a miss) goes through the single path, which also reports
 * what is wrong.
 *
 * A burst keeps the four slots in locals, in registers: a slot is two
 * eight-byte words, its address and its "tail", len | id << 32 | flags <<
 * 48 (virtio rings are little-endian, and so is this host), so one load
 * reads a slot's length, id and flags, one compare checks the four flags,
 * and one store writes a used descriptor back.
 */
#define VHU_PACKED_BATCH 4

_Static_assert(VHU_PACKED_BATCH == 4, "vhu_packed_read_four() checks four slots");
_Static_assert(RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN, "vhu_packed_slot: little-endian host");

/*
 * For each slot k of a batch, unrolled: the compiler then keeps each slot's
 * values in registers, where a loop would keep them in arrays on the stack
 * (gcc 12 -O3 does not unroll a loop whose body holds a copy).
 */
#define VHU_PACKED_FOR_EACH(k) _Pragma("GCC unroll 4") for ((k) = 0; (k) < VHU_PACKED_BATCH; (k)++)

/*
 * Whether vhu_packed_read_four() reads a slot's len, id and flags in one
 * eight-byte load, relaxed, then fences (acquire) before the addresses.
 * That needs two things of the machine beyond the C memory model, which
 * says nothing of one load that reads bytes several stores wrote (a
 * mixed-size access):
 *  - the aligned eight-byte load is one access (single-copy atomic), so its
 *    bytes are one snapshot of the slot, never half of an old one;
 *  - loads are not reordered with loads, and each core's stores become
 *    visible to others in the order it made them (x86's TSO), so a load
 *    that sees the flags the driver stored last (with release, or after its
 *    write barrier) also sees the len and id it stored before them.
 * x86-64 guarantees both (Intel SDM vol. 3A, "Guaranteed Atomic Operations"
 * and "Memory Ordering"). Elsewhere (Arm's and POWER's rules for a load that
 * spans several stores are their own, and weaker orderings leave less to
 * lean on) the flags are read alone, the fence follows, and len, id and
 * address are read after it, each as the driver wrote it: two more loads a
 * slot, and correct under the C model alone.
 * VHU_PACKED_READ_PORTABLE forces that path on x86 (the unit test
 * packed_batch_portable runs the batch suite over it).
 *
 * The other direction needs nothing of the sort: vhu_packed_return_four()
 * writes a used slot's id, len and flags with one aligned eight-byte store,
 * one write of all its bytes, so a driver that sees its flags (acquire)
 * reads the id and len of that store or of a later one.
 */
#if defined(RTE_ARCH_X86_64) && !defined(VHU_PACKED_READ_PORTABLE)
#define VHU_PACKED_READ_TAIL_WHOLE 1
#endif

/* A packed descriptor as its two words. The ring is 16-byte aligned (vhu_vq_try_start()). */
union vhu_packed_slot {
	struct vring_packed_desc desc;
	struct {
		uint64_t addr;
		uint64_t tail; /* VHU_PACKED_TAIL() */
	} w;
};

#define VHU_PACKED_TAIL(len, id, flags) \
	((uint64_t)(len) | (uint64_t)(id) << 32 | (uint64_t)(flags) << 48)

static inline uint32_t
vhu_packed_tail_len(uint64_t tail)
{
	return (uint32_t)tail;
}

static inline uint16_t
vhu_packed_tail_id(uint64_t tail)
{
	return (uint16_t)(tail >> 32);
}

/*
 * Are the four slots from (idx, wrap) a batch of single descriptors for
 * direction 'writable'? If so, read each once (the guest may change the
 * ring under us), tail[k] and addr[k] for slot idx + k, and return true.
 */
static __rte_always_inline bool
vhu_packed_read_four(const struct vhu_vq *vq, uint16_t idx, bool wrap, bool writable,
		     uint64_t *tail, uint64_t *addr)
{
	const uint64_t want =
		VHU_PACKED_TAIL(0, 0,
				(wrap ? VRING_PACKED_DESC_F_AVAIL : VRING_PACKED_DESC_F_USED) |
					(writable ? VRING_DESC_F_WRITE : 0));
	const uint64_t mask = VHU_PACKED_TAIL(0, 0,
					      VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED |
						      VRING_DESC_F_WRITE | VRING_DESC_F_NEXT |
						      VRING_DESC_F_INDIRECT);
	const union vhu_packed_slot *s = (const union vhu_packed_slot *)&vq->desc_packed[idx];
	uint16_t k;

	if ((idx & (VHU_PACKED_BATCH - 1)) != 0 || idx + VHU_PACKED_BATCH > vq->size)
		return false;
#ifdef VHU_PACKED_READ_TAIL_WHOLE
	VHU_PACKED_FOR_EACH (k)
		tail[k] = __atomic_load_n(&s[k].w.tail, __ATOMIC_RELAXED);
	/* The next batch's line of the ring. A batch reads its line only when it
	 * starts, and waits for it: the front-end's core wrote it last. Asked for
	 * one batch ahead, it is on its way while this batch works. A/B inside one
	 * vhu-pmd (--ab-period=500, with a temporary variant that gated this
	 * prefetch; doc/performance.md), pairs median of the
	 * burst's cycles per packet, with / without: packed g2h-64 0.843 to 0.861
	 * (in_order=1) and 0.835 (in_order=0), h2g-64 0.86 to 0.96. PREFETCHW
	 * instead measured the same (1.000, 0.991): it is the wait that goes, not
	 * a second transfer. At the ring's end this is the line after the ring: a
	 * prefetch is a hint that never faults, and the batch after the wrap goes
	 * without, which costs less than a compare on every batch. After the loads
	 * rather than before them: gcc then lays the receive batch out 1.3
	 * instructions a packet cheaper. */
	rte_prefetch0(s + VHU_PACKED_BATCH);
	if ((((tail[0] ^ want) | (tail[1] ^ want) | (tail[2] ^ want) | (tail[3] ^ want)) & mask) !=
	    0)
		return false;
	/* Acquire: pairs with the driver's release stores of the four flags; the
	 * addresses read below are what it published. A slot's len and id are
	 * what it published too: they came with the flags, in one load of the
	 * eight bytes (see VHU_PACKED_READ_TAIL_WHOLE for why that holds here). */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	VHU_PACKED_FOR_EACH (k)
		addr[k] = __atomic_load_n(&s[k].w.addr, __ATOMIC_RELAXED);
#else
	{
		uint16_t f[VHU_PACKED_BATCH];
		uint64_t differ = 0;

		VHU_PACKED_FOR_EACH (k) {
			f[k] = __atomic_load_n(&s[k].desc.flags, __ATOMIC_RELAXED);
			differ |= VHU_PACKED_TAIL(0, 0, f[k]) ^ want;
		}
		rte_prefetch0(s + VHU_PACKED_BATCH); /* as on x86-64, above */
		if ((differ & mask) != 0)
			return false;
		/* Acquire: pairs with the driver's release stores of the four
		 * flags (its write barrier before each): the len, id and address
		 * read below, each alone, are what it wrote before them. The
		 * flags are the ones checked, not read again. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		VHU_PACKED_FOR_EACH (k) {
			tail[k] = VHU_PACKED_TAIL(__atomic_load_n(&s[k].desc.len, __ATOMIC_RELAXED),
						  __atomic_load_n(&s[k].desc.id, __ATOMIC_RELAXED),
						  f[k]);
			addr[k] = __atomic_load_n(&s[k].desc.addr, __ATOMIC_RELAXED);
		}
	}
#endif
	return true;
}

/*
 * Map the buffer of a batch slot whole, 'len' bytes from 'addr'; NULL if it
 * is not one contiguous piece here (the single path then takes it and
 * reports a miss or a bad address). No side effects on failure beyond those
 * of vhu_vq_map().
 */
static __rte_noinline __rte_unused uint8_t *
vhu_packed_batch_map(struct vhu_vq *vq, uint16_t slot, uint64_t addr, uint32_t len, uint8_t perm)
{
	enum vhu_chain_rc rc = VHU_CHAIN_OK;
	uint64_t got = len;
	uint8_t *p;

	if (unlikely(addr + len < addr))
		return NULL;
	p = vhu_vq_map(vq, slot, addr, &got, perm, &rc);
	return p != NULL && got >= len ? p : NULL;
}

/*
 * Map the four buffers of a batch read at slot 'idx': vec[k] gets want[k]
 * bytes of slot k's buffer (want NULL: the whole buffer). False if a buffer
 * is shorter (it needs more buffers, MRG_RXBUF, or is dropped) or does not
 * map whole: the single path takes it. The four are most often in the
 * region the last translation hit: they are checked against it here, in
 * locals, and the rest go through vhu_vq_map().
 */
static __rte_always_inline bool
vhu_packed_map_four(struct vhu_vq *vq, uint16_t idx, bool writable, const uint64_t *tail,
		    const uint64_t *addr, const uint32_t *want, struct vhu_buf_vec *vec)
{
	uint64_t gpa = 0, size = 0, hva = 0;
	uint16_t k;

	if (likely(!vq->iommu) && likely(vq->mem_cache < vq->mem->nregions)) {
		const struct vhu_mem_region *r = &vq->mem->regions[vq->mem_cache];

		gpa = r->gpa;
		size = r->size;
		hva = r->hva;
	}
	VHU_PACKED_FOR_EACH (k) {
		const uint32_t len = want != NULL ? want[k] : vhu_packed_tail_len(tail[k]);
		const uint64_t off = addr[k] - gpa;

		if (want != NULL && vhu_packed_tail_len(tail[k]) < len)
			return false;
		/* off < size first: then off + len cannot wrap (len < 2^32, and
		 * the region is mapped whole in our address space, so its size
		 * is far below 2^64 - 2^32), and
		 * one compare checks the end, where size - off >= len took two
		 * more instructions a slot. */
		if (likely(off < size && off + len <= size)) {
			vec[k].addr = (uint8_t *)(uintptr_t)(hva + off);
		} else {
			vec[k].addr =
				vhu_packed_batch_map(vq, idx + k, addr[k], len,
						     writable ? VHOST_ACCESS_WO : VHOST_ACCESS_RO);
			if (vec[k].addr == NULL)
				return false;
		}
		vec[k].len = len;
	}
	return true;
}

/*
 * A burst's used descriptors. They are collected here and written to the
 * ring together at the flush (or when 'e' is full), not one per chain between
 * the copies: the driver polls the ring's lines for them, and each write
 * between two copies would pull a line away from its core again (a batch
 * without lengths is written at once, to the line it was read from:
 * vhu_packed_return_four()). The flags of the burst's first one are stored
 * last, so the driver, which consumes in order, sees the burst all at once.
 *
 * A burst that returns buffers without data (the guest's transmit ring) on
 * an IN_ORDER ring is written as one used descriptor, at the burst's first
 * slot, with the id of its last buffer ("In-order use of descriptors" in the
 * packed virtqueue chapter of virtio 1.2): the driver knows which buffers
 * came before that one, and skips past them all. The device then writes one
 * descriptor per burst instead of one per packet, and the driver reads one,
 * so fewer of the ring's lines cross between the two cores.
 */
struct vhu_packed_batch {
	bool collapse;		/* IN_ORDER, no lengths: one used descriptor per burst */
	uint16_t last_id;	/* collapse: the id of the burst's last buffer */
	bool pending;		/* a used descriptor is waiting for its flags */
	uint16_t first_slot;	/* where it is */
	uint16_t first_flags;	/* what to store there */
	uint16_t old_used;	/* last_used_idx at burst start, for notify */
	bool old_wrap;		/* used_wrap at burst start */
	uint16_t nchains;	/* chains pushed in this burst */
	uint16_t n;		/* entries in 'e' */
	struct {
		uint16_t slot;
		uint16_t id;
		uint16_t flags;
		/* false: one used descriptor, 'id' and 'len' to write
		 * (vhu_packed_push()); true: the VHU_PACKED_BATCH descriptors
		 * from 'slot', whose ids and lens are in the ring already
		 * (vhu_packed_shadow_four()). A flag, not a count: no other run
		 * can be stated, so vhu_packed_batch_out()'s unrolled store of
		 * four needs no check. */
		bool four;
		uint32_t len;
	} e[VHU_SHADOW_USED];
};

/* Start a burst; 'no_len' if every buffer it returns is returned without data. */
static inline void
vhu_packed_batch_init(const struct vhu_vq *vq, struct vhu_packed_batch *b, bool no_len)
{
	b->collapse = no_len && vq->in_order;
	b->last_id = 0;
	b->pending = false;
	b->first_slot = 0;
	b->first_flags = 0;
	b->old_used = vq->last_used_idx;
	b->old_wrap = vq->used_wrap;
	b->nchains = 0;
	b->n = 0;
}

/*
 * Hand back the 'run' used descriptors from 'slot' (their ids and lens
 * written) with 'flags'; the burst's first keeps its flags back for
 * vhu_packed_publish().
 */
static inline void
vhu_packed_used_flags(struct vhu_vq *vq, struct vhu_packed_batch *b, uint16_t slot, uint16_t run,
		      uint16_t flags)
{
	struct vring_packed_desc *d = &vq->desc_packed[slot];
	uint16_t i, k = 0;

	if (!b->pending) {
		b->pending = true;
		b->first_slot = slot;
		b->first_flags = flags;
		k = 1; /* logged at the flush, once its flags are in */
	}
	/* Release: id and len (and the buffer) before the flags that hand it
	 * back; the driver reads flags with acquire. A whole batch, the common
	 * run, unrolled: 2 instructions a packet less than the loop
	 * (packed/h2g-64, test/perf/instructions.py). */
	if (likely(run == VHU_PACKED_BATCH && k == 0)) {
		VHU_PACKED_FOR_EACH (i)
			__atomic_store_n(&d[i].flags, flags, __ATOMIC_RELEASE);
	} else {
		for (i = k; i < run; i++)
			__atomic_store_n(&d[i].flags, flags, __ATOMIC_RELEASE);
	}
	/* Marked dirty after the whole write: a migration that reads and
	 * clears the log meanwhile then sends the page again. */
	if (unlikely(vq->log != NULL) && run > k)
		vhu_log_hva(vq, d + k, (run - k) * sizeof(*d));
}

/* Write out shadow entry 'i' (vhu_packed_batch_out()). */
static __rte_always_inline void
vhu_packed_entry_out(struct vhu_vq *vq, struct vhu_packed_batch *b, uint16_t i)
{
	if (!b->e[i].four) {
		struct vring_packed_desc *d = &vq->desc_packed[b->e[i].slot];

		d->id = b->e[i].id;
		d->len = b->e[i].len;
		vhu_packed_used_flags(vq, b, b->e[i].slot, 1, b->e[i].flags);
	} else {
		vhu_packed_used_flags(vq, b, b->e[i].slot, VHU_PACKED_BATCH, b->e[i].flags);
	}
}

/*
 * Write the collected used descriptors; the burst's first keeps its flags
 * back. Once that one is held (b->pending) and without dirty logging, the
 * common case, each entry is only stores: the count, the ring and the
 * entry's fields read once into locals, where the loop of
 * vhu_packed_used_flags() read b->pending, vq->log and the ring again after
 * each store (which might alias them, for all the compiler knows): 2
 * instructions a packet fewer, packed/h2g-64 118.9 -> 116.9
 * (test/perf/instructions.py).
 */
static inline void
vhu_packed_batch_out(struct vhu_vq *vq, struct vhu_packed_batch *b)
{
	struct vring_packed_desc *const ring = vq->desc_packed;
	const uint16_t n = b->n;
	uint16_t i = 0, k;

	if (n == 0)
		return;
	if (!b->pending)
		vhu_packed_entry_out(vq, b, i++);
	if (unlikely(vq->log != NULL)) {
		for (; i < n; i++)
			vhu_packed_entry_out(vq, b, i);
		b->n = 0;
		return;
	}
	for (; i < n; i++) {
		struct vring_packed_desc *d = &ring[b->e[i].slot];
		const uint16_t flags = b->e[i].flags;

		/* Release: id and len (and the buffer) before the flags that hand
		 * each back; the driver reads flags with acquire. An entry is one
		 * descriptor (vhu_packed_push()) or a batch of four (the
		 * return_four verbs): 'four' can say nothing else. */
		if (!b->e[i].four) {
			d->id = b->e[i].id;
			d->len = b->e[i].len;
			__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
		} else {
			VHU_PACKED_FOR_EACH (k)
				__atomic_store_n(&d[k].flags, flags, __ATOMIC_RELEASE);
		}
	}
	b->n = 0;
}

/* Add a used descriptor for a chain of 'ndesc' slots (written at the flush). */
static inline void
vhu_packed_push(struct vhu_vq *vq, struct vhu_packed_batch *b, uint16_t id, uint32_t len,
		uint16_t ndesc)
{
	if (b->collapse) {
		if (!b->pending) {
			b->pending = true;
			b->first_slot = vq->last_used_idx;
			b->first_flags = VHU_PACKED_FLAGS_USED(vq->used_wrap, false);
		}
		b->last_id = id;
		b->nchains++;
		vhu_packed_advance(vq, &vq->last_used_idx, &vq->used_wrap, ndesc);
		return;
	}
	if (unlikely(b->n == VHU_SHADOW_USED))
		vhu_packed_batch_out(vq, b);
	b->e[b->n].slot = vq->last_used_idx;
	b->e[b->n].id = id;
	b->e[b->n].flags = VHU_PACKED_FLAGS_USED(vq->used_wrap, len != 0);
	b->e[b->n].four = false;
	b->e[b->n].len = len;
	b->n++;
	b->nchains++;
	vhu_packed_advance(vq, &vq->last_used_idx, &vq->used_wrap, ndesc);
}

static inline void
vhu_packed_notify(struct vhu_vq *vq, const struct vhu_packed_batch *b)
{
	int fd = __atomic_load_n(&vq->callfd, __ATOMIC_RELAXED);
	uint16_t flags, off_wrap, off, old, new_used;

	if (fd < 0)
		return;
	/* Full barrier: our flag stores before the read of the driver's event
	 * structure, pairing with the driver's barrier between enabling events
	 * and re-checking the ring (the store-load case of 2.8.21). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = __atomic_load_n(&vq->driver_event->flags, __ATOMIC_RELAXED);
	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		return;
	if (flags == VRING_PACKED_EVENT_FLAG_DESC && vq->event_idx) {
		off_wrap = __atomic_load_n(&vq->driver_event->off_wrap, __ATOMIC_RELAXED);
		off = off_wrap & 0x7fff;
		new_used = vq->last_used_idx;
		old = b->old_used;
		/* Put the three positions on one line, modulo 2^16. */
		if (vq->used_wrap != b->old_wrap)
			old -= vq->size;
		if (vq->used_wrap != (bool)(off_wrap >> 15))
			off -= vq->size;
		if (!vring_need_event(off, new_used, old))
			return;
	}
	vhu_vq_kick_guest(vq, fd);
}

/* Publish the burst: the first used descriptor's flags last, then notify. */
static inline void
vhu_packed_publish(struct vhu_vq *vq, struct vhu_packed_batch *b)
{
	vhu_packed_batch_out(vq, b);
	if (!b->pending)
		return;
	if (b->collapse) {
		vq->desc_packed[b->first_slot].id = b->last_id;
		vq->desc_packed[b->first_slot].len = 0;
	}
	if (unlikely(vq->inflight_packed != NULL))
		vhu_inflight_packed_publish(vq);
	/* Release: every used descriptor of the burst is complete before the
	 * driver can see the first one, and it consumes in order. */
	__atomic_store_n(&vq->desc_packed[b->first_slot].flags, b->first_flags, __ATOMIC_RELEASE);
	if (unlikely(vq->log != NULL))
		vhu_log_hva(vq, &vq->desc_packed[b->first_slot], sizeof(vq->desc_packed[0]));
	if (unlikely(vq->inflight_packed != NULL))
		vhu_inflight_packed_done(vq, b->old_used, b->nchains);
	vhu_packed_notify(vq, b);
}

/* ---- the core verbs on a packed ring (see virtq_verbs.h) ---- */

static inline bool
vhu_packed_begin(struct vhu_vq *vq, struct vhu_cursor *cur, struct vhu_packed_batch *b,
		 bool no_len)
{
	cur->idx = vq->last_avail_idx;
	cur->wrap = vq->avail_wrap;
	cur->left = 0;
	if (!vhu_packed_avail(vq, cur->idx, cur->wrap))
		return false;
	vhu_packed_batch_init(vq, b, no_len);
	return true;
}

static inline bool
vhu_packed_more(const struct vhu_vq *vq, const struct vhu_cursor *cur)
{
	return vhu_packed_avail(vq, cur->idx, cur->wrap);
}

static inline enum vhu_chain_rc
vhu_packed_pop(struct vhu_vq *vq, struct vhu_cursor *cur, bool writable, struct vhu_buf_vec *vec,
	       uint32_t *nvec, struct vhu_chain *c)
{
	enum vhu_chain_rc rc;

	c->slot = cur->idx;
	c->len = 0;
	rc = vhu_packed_gather(vq, cur->idx, writable, vec, nvec, &c->len, &c->ndesc, &c->id);
	if (rc >= 0)
		vhu_packed_advance(vq, &cur->idx, &cur->wrap, c->ndesc);
	return rc;
}

static inline enum vhu_chain_rc
vhu_packed_pop_rw(struct vhu_vq *vq, struct vhu_cursor *cur, struct vhu_buf_vec *vec,
		  uint32_t *nvec, uint32_t *n_out, struct vhu_chain *c)
{
	enum vhu_chain_rc rc;

	c->slot = cur->idx;
	c->len = 0;
	rc = vhu_packed_gather_dir(vq, cur->idx, VHU_DIR_RW, vec, nvec, &c->len, &c->ndesc, &c->id,
				   n_out);
	if (rc >= 0)
		vhu_packed_advance(vq, &cur->idx, &cur->wrap, c->ndesc);
	return rc;
}

static inline void
vhu_packed_take(struct vhu_vq *vq, const struct vhu_chain *c)
{
	if (unlikely(vq->inflight_packed != NULL))
		vhu_inflight_packed_take(vq, c->slot, c->id, c->ndesc);
	vhu_packed_advance(vq, &vq->last_avail_idx, &vq->avail_wrap, c->ndesc);
}

static inline void
vhu_packed_return(struct vhu_vq *vq, struct vhu_packed_batch *b, const struct vhu_chain *c,
		  uint32_t len)
{
	vhu_packed_push(vq, b, c->id, len, c->ndesc);
}

/*
 * Take the four chains of a batch read at the avail position, tail[0..4)
 * as vhu_packed_read_four() gave them. Their ids are taken out of the
 * tails here, for the inflight record alone: a caller that needs none
 * keeps none across its batch.
 */
static __rte_always_inline void
vhu_packed_take_four(struct vhu_vq *vq, const uint64_t *tail)
{
	uint16_t k;

	if (unlikely(vq->inflight_packed != NULL))
		for (k = 0; k < VHU_PACKED_BATCH; k++) /* the batch does not wrap */
			vhu_inflight_packed_take(vq, vq->last_avail_idx + k,
						 vhu_packed_tail_id(tail[k]), 1);
	vhu_packed_advance(vq, &vq->last_avail_idx, &vq->avail_wrap, VHU_PACKED_BATCH);
}

/*
 * One shadow entry for the four used descriptors from 'slot', whose ids and
 * lengths the caller writes into the ring (before the flush, which nothing
 * runs until it returns): their 'flags' are stored at the flush, after the
 * copies. A full shadow is written out first.
 */
static __rte_always_inline void
vhu_packed_shadow_four(struct vhu_vq *vq, struct vhu_packed_batch *b, uint16_t slot, uint16_t flags)
{
	if (unlikely(b->n == VHU_SHADOW_USED))
		vhu_packed_batch_out(vq, b);
	b->e[b->n].slot = slot;
	b->e[b->n].flags = flags;
	b->e[b->n].four = true;
	b->n++;
}

/*
 * Return the four chains of a batch, one slot each, taken (tail[0..4) as
 * vhu_packed_read_four() read them: their ids), with len[k] bytes written
 * into chain k, none of them 0 (len NULL: nothing written into any; their
 * flags then go without WRITE).
 *
 * Their used descriptors go to the four slots of one line when the used
 * position is at such a line (it is when every chain of the ring is a single
 * slot), straight into the ring, which is ours until the flags hand the
 * slots back, and the four are written from registers:
 *  - without lengths (a transmit ring), each whole now, with one eight-byte
 *    store, but the burst's first, whose flags wait for vhu_packed_publish():
 *    the driver consumes in order, so it sees none before that one; the line
 *    is the one the batch was read from, in our cache already;
 *  - with lengths (a receive ring, whose copies may wait for the end of the
 *    burst: vhu_copy_batch), ids and lengths now and one shadow entry for the
 *    four flags, stored at the flush, after the copies. The receive batch
 *    calls this only where vhu_packed_return_four_read() cannot return the
 *    four in place: when the used position is not the read one.
 */
static __rte_always_inline void
vhu_packed_return_four(struct vhu_vq *vq, struct vhu_packed_batch *b, const uint64_t *tail,
		       const uint32_t *len)
{
	const uint16_t slot = vq->last_used_idx;
	const uint16_t flags = VHU_PACKED_FLAGS_USED(vq->used_wrap, len != NULL);
	union vhu_packed_slot *s;
	uint16_t id[VHU_PACKED_BATCH];
	uint16_t k, k0 = 0;

	VHU_PACKED_FOR_EACH (k)
		id[k] = vhu_packed_tail_id(tail[k]);

	if (b->collapse) {
		/* What four vhu_packed_push() would do, at once. */
		if (!b->pending) {
			b->pending = true;
			b->first_slot = slot;
			b->first_flags = flags;
		}
		b->last_id = id[VHU_PACKED_BATCH - 1];
		b->nchains += VHU_PACKED_BATCH;
		vhu_packed_advance(vq, &vq->last_used_idx, &vq->used_wrap, VHU_PACKED_BATCH);
		return;
	}
	if ((slot & (VHU_PACKED_BATCH - 1)) != 0 || slot + VHU_PACKED_BATCH > vq->size) {
		/* Rare: a used position off a line's start. With lengths
		 * unrolled, as it was measured when the receive batch returned
		 * every batch here (a loop kept id[] in memory: 3.2 instructions
		 * a packet more, test/perf/instructions.py); without, a loop
		 * (unrolled, the transmit batch costs 1 to 2 more). A push that
		 * finds the shadow full writes it out: a caller whose copies
		 * are deferred writes out a shadow that cannot take four first. */
		if (len != NULL) {
			VHU_PACKED_FOR_EACH (k)
				vhu_packed_push(vq, b, id[k], len[k], 1);
		} else {
			for (k = 0; k < VHU_PACKED_BATCH; k++)
				vhu_packed_push(vq, b, id[k], 0, 1);
		}
		return;
	}
	s = (union vhu_packed_slot *)&vq->desc_packed[slot];
	if (len == NULL) {
		/* Returns collected before these go first: the burst's first used
		 * descriptor, whose flags wait, is the first of them. */
		if (unlikely(b->n > 0))
			vhu_packed_batch_out(vq, b);
		/* Release: each slot's id and len (one store with its flags) and
		 * everything before; the driver reads flags with acquire. */
		if (likely(b->pending)) {
			__atomic_store_n(&s[0].w.tail, VHU_PACKED_TAIL(0, id[0], flags),
					 __ATOMIC_RELEASE);
		} else {
			b->pending = true;
			b->first_slot = slot;
			b->first_flags = flags;
			s[0].desc.id = id[0];
			s[0].desc.len = 0;
			k0 = 1; /* logged at the flush, once its flags are in */
		}
		_Pragma("GCC unroll 4") for (k = 1; k < VHU_PACKED_BATCH; k++) __atomic_store_n(
			&s[k].w.tail, VHU_PACKED_TAIL(0, id[k], flags), __ATOMIC_RELEASE);
		/* Marked dirty after the write (see vhu_packed_used_flags()). */
		if (unlikely(vq->log != NULL))
			vhu_log_hva(vq, s + k0, (VHU_PACKED_BATCH - k0) * sizeof(*s));
	} else {
		vhu_packed_shadow_four(vq, b, slot, flags);
		VHU_PACKED_FOR_EACH (k) {
			s[k].desc.id = id[k];
			s[k].desc.len = len[k];
		}
	}
	b->nchains += VHU_PACKED_BATCH;
	vhu_packed_advance(vq, &vq->last_used_idx, &vq->used_wrap, VHU_PACKED_BATCH);
}

/*
 * Return the four chains of a batch that vhu_packed_read_four() read at
 * position (idx, wrap) and that are taken, with len[k] bytes written into
 * chain k, none of them 0, if the used position is that one: it is on a
 * receive ring, whose burst returns every chain it takes, in order, so the
 * used position follows the avail one slot for slot (it differs only after
 * a frontend set the two bases apart). Returns false, having done nothing,
 * if it is not: the caller then returns them with vhu_packed_return_four().
 *
 * What vhu_packed_return_four() does with lengths, less what that position
 * makes needless: the slots are the batch's own (aligned and inside the
 * ring: read_four() checked it), and each holds the id of its buffer
 * already, as it was read, so only the lengths are written. A driver that
 * rewrites an id of a slot it made available (it may not) reads back what
 * it wrote; the device relies on no id it did not read. The flags go in one
 * shadow entry, stored at the flush after the copies. A ring with lengths
 * never collapses (vhu_packed_batch_init()).
 * Instructions a packet (packed/h2g-64, test/perf/instructions.py): no ids
 * kept across the batch nor written, 133.2 -> 124.2.
 */
static __rte_always_inline bool
vhu_packed_return_four_read(struct vhu_vq *vq, struct vhu_packed_batch *b, uint16_t idx, bool wrap,
			    const uint32_t *len)
{
	struct vring_packed_desc *d = &vq->desc_packed[idx];
	uint16_t k;

	if (unlikely(vq->last_used_idx != idx || vq->used_wrap != wrap))
		return false;
	vhu_packed_shadow_four(vq, b, idx, VHU_PACKED_FLAGS_USED(wrap, true));
	VHU_PACKED_FOR_EACH (k)
		d[k].len = len[k];
	b->nchains += VHU_PACKED_BATCH;
	vhu_packed_advance(vq, &vq->last_used_idx, &vq->used_wrap, VHU_PACKED_BATCH);
	return true;
}

static inline void
vhu_packed_begin_return(struct vhu_vq *vq, struct vhu_packed_batch *b)
{
	vhu_packed_batch_init(vq, b, false);
}

static inline void
vhu_packed_flush(struct vhu_vq *vq, struct vhu_packed_batch *b)
{
	vhu_packed_publish(vq, b);
}

#endif /* VHU_VIRTQ_PACKED_H */
