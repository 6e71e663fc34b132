/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The core verbs: how a device type moves descriptors, split and packed
 * behind each (the shape of libvhost-user's pop/push/flush/notify and of
 * Linux's vhost_get_vq_desc / vhost_add_used_and_signal).
 *
 *   vhu_vq_begin()   start a burst on a ready ring: how many chains may be
 *                    looked at, and the burst's pending returns;
 *   vhu_vq_pop()     gather the chain at the cursor into a buffer vector and
 *                    move the cursor past it; nothing in the ring changes,
 *                    so a chain popped and not taken is found again next time;
 *   vhu_vq_take()    the device now owns the chain: recorded in the inflight
 *                    region (INFLIGHT_SHMFD) and the avail position moved past
 *                    it; chains are taken in the order they were popped;
 *   vhu_vq_return()  give a taken chain back with the bytes written into it
 *                    (collected; the driver sees nothing yet);
 *   vhu_vq_flush()   publish every return of the burst with one release
 *                    store, mark the used ring dirty while logging, close the
 *                    inflight records and notify the guest if it asked to be.
 *
 * A request ring (virtio-blk) pops with vhu_vq_pop_rw(): device-readable
 * buffers then device-writable ones in one chain. Its completions come
 * later, out of order, after the burst that took them: virtq_async.h keeps
 * them in take order and returns them outside a taking burst, with
 * vhu_vq_begin_return() in place of vhu_vq_begin().
 *
 * The batched forms for the hot path exist on a packed ring only, and are
 * its own (virtq_packed.h): vhu_packed_read_four() looks at the
 * VHU_PACKED_BATCH single-descriptor chains that share a cache line with
 * one look at the line (false when they do not qualify, and the caller goes
 * one by one), vhu_packed_map_four() maps their buffers, and
 * vhu_packed_take_four() and vhu_packed_return_four() take and return them
 * together, the four kept in the caller's registers throughout
 * (vhu_packed_return_four_read() returns a batch with lengths in the slots
 * it was read from, when the used position is there, as on a receive
 * ring). A device checks vq->packed before it calls them.
 *
 * Each verb is a one-line dispatch to its split (virtq_split.h) or packed
 * (virtq_packed.h) form, which have the same names with vhu_split_ and
 * vhu_packed_; a burst written for one layout calls those directly.
 *
 * Everything here runs on the lcore polling the ring, between
 * vhu_vq_enter(), which marks the ring busy and checks that it is ready, and
 * vhu_vq_leave(). A guest violation met on the way latches the ring broken
 * (vhu_vq_set_broken()).
 */
#ifndef VHU_VIRTQ_VERBS_H
#define VHU_VIRTQ_VERBS_H

#include "virtq_split.h"
#include "virtq_packed.h"

/*
 * Start a burst on ring 'index' of 'dev' (below dev->num_queues): mark the
 * ring busy (vhu_handoff.h) and return it, or return NULL, with nothing to
 * leave, if it is not ready or latched broken. A burst that got the ring
 * ends with vhu_vq_leave() on it, on every path. Loads what the burst reads
 * of the device: the IOTLB behind a vIOMMU, the dirty log while logging.
 *
 * Why the ring pointer is loaded once. The control thread may replace the
 * ring's state by a copy (vhost_numa.c: stop the old copy, copy it, publish
 * the new one in dev->vq[], start it), and each copy has its own mark. The
 * burst marks the copy it loaded and reads that copy's `ready`, and works on
 * that copy alone, so the Dekker pairing of vhu_handoff.h holds per copy:
 *  - it loaded the old copy: either the control thread sees its mark and
 *    waits for vhu_vq_leave() before it copies, or the burst sees `ready`
 *    false (stopped before the copy, and never set again while the copy is
 *    retired) and leaves having touched nothing but the mark;
 *  - it loaded the new copy: the copy was complete before the pointer
 *    (release there, acquire here), and `ready` is set after it.
 * A second load of dev->vq[index] after the mark (as the net bursts did
 * once) could return a newer copy than the one marked: the burst would run
 * on it unmarked, and the next stop of that copy would not wait for it.
 * Retired copies are kept until the device is freed, so a stale pointer is
 * always safe to mark and to read `ready` from.
 */
static inline struct vhu_vq *vhu_vq_enter(struct vhu_vhost_dev *dev, uint16_t index);

/*
 * The two halves of vhu_vq_enter(), for a burst that must hold the ring even
 * when it is stopped (a device completing work it took earlier, such as blk):
 * vhu_vq_hold() marks the ring (loaded once) and returns the copy it marked,
 * to be left with vhu_vq_leave() whatever happens next; vhu_vq_usable() says
 * whether that copy is ready and not broken, and loads the IOTLB and dirty
 * log for the burst if so.
 */
static inline struct vhu_vq *
vhu_vq_hold(struct vhu_vhost_dev *dev, uint16_t index)
{
	/* Acquire: pairs with the release store of a moved copy in numa_move();
	 * its mark and fields are initialised before the pointer is seen. */
	struct vhu_vq *vq = __atomic_load_n(&dev->vq[index], __ATOMIC_ACQUIRE);

	vhu_burst_enter(&vq->mark);
	return vq;
}

static inline bool
vhu_vq_usable(struct vhu_vhost_dev *dev, struct vhu_vq *vq)
{
	/* Acquire: pairs with the release store in vhu_vq_try_start(); the ring
	 * pointers and indexes read below are the ones published with it. */
	if (unlikely(!__atomic_load_n(&vq->ready, __ATOMIC_ACQUIRE) || vq->broken))
		return false;
	/* Acquire: pairs with the release in iotlb_publish(); the table stays
	 * valid until this burst leaves (vhu_vq_leave()), for the control
	 * thread waits on the ring's mark before it frees it. */
	if (unlikely(vq->iommu))
		vq->iotlb = __atomic_load_n(&dev->iotlb, __ATOMIC_ACQUIRE);
	if (unlikely(vq->logging))
		vhu_log_begin(vq);
	return true;
}

static inline struct vhu_vq *
vhu_vq_enter(struct vhu_vhost_dev *dev, uint16_t index)
{
	struct vhu_vq *vq = vhu_vq_hold(dev, index);

	if (likely(vhu_vq_usable(dev, vq)))
		return vq;
	vhu_burst_exit(&vq->mark);
	return NULL;
}

/* End the burst that vhu_vq_enter() started on 'vq': the ring is idle again. */
static inline void
vhu_vq_leave(struct vhu_vq *vq)
{
	vhu_burst_exit(&vq->mark);
}

/* One burst's returns, pending until vhu_vq_flush(). */
struct vhu_burst {
	union {
		struct vhu_split_burst split;
		struct vhu_packed_batch packed;
	};
};

/*
 * Start a burst on ready ring 'vq' at its avail position; 'no_len' if every
 * chain of the burst is returned without data written (a transmit ring),
 * which lets an IN_ORDER packed ring return the burst as one descriptor.
 * Returns false if no chain is available (or the avail index is bogus: the
 * ring is then latched broken); the burst then needs no flush.
 */
static inline bool
vhu_vq_begin(struct vhu_vq *vq, struct vhu_cursor *cur, struct vhu_burst *b, bool no_len)
{
	return vq->packed ? vhu_packed_begin(vq, cur, &b->packed, no_len)
			  : vhu_split_begin(vq, cur, &b->split);
}

/* Is there a chain to pop at the cursor? */
static inline bool
vhu_vq_more(const struct vhu_vq *vq, const struct vhu_cursor *cur)
{
	return vq->packed ? vhu_packed_more(vq, cur) : vhu_split_more(vq, cur);
}

/*
 * Gather the chain at the cursor (vhu_vq_more() said there is one) into
 * vec[*nvec..], advancing *nvec, and describe it in 'c'; 'writable' says
 * whether the device writes (a receive ring) or reads its buffers. On
 * VHU_CHAIN_OK and VHU_CHAIN_DROP (more pieces than VHU_VEC_MAX: vec holds
 * the first ones) the cursor moves past the chain; on VHU_CHAIN_BROKEN or
 * VHU_CHAIN_RETRY (an IOTLB miss, posted) it stays.
 */
static inline enum vhu_chain_rc
vhu_vq_pop(struct vhu_vq *vq, struct vhu_cursor *cur, bool writable, struct vhu_buf_vec *vec,
	   uint32_t *nvec, struct vhu_chain *c)
{
	return vq->packed ? vhu_packed_pop(vq, cur, writable, vec, nvec, c)
			  : vhu_split_pop(vq, cur, writable, vec, nvec, c);
}

/*
 * As vhu_vq_pop(), for a chain of device-readable buffers followed by
 * device-writable ones (a request: header and data, then data and status);
 * *n_out gets the index in 'vec' of the first writable piece. A readable
 * descriptor after a writable one breaks the ring.
 */
static inline enum vhu_chain_rc
vhu_vq_pop_rw(struct vhu_vq *vq, struct vhu_cursor *cur, struct vhu_buf_vec *vec, uint32_t *nvec,
	      uint32_t *n_out, struct vhu_chain *c)
{
	return vq->packed ? vhu_packed_pop_rw(vq, cur, vec, nvec, n_out, c)
			  : vhu_split_pop_rw(vq, cur, vec, nvec, n_out, c);
}

/*
 * The device owns chain 'c' (popped, and every chain popped before it taken):
 * record it in the inflight region and move the avail position past it.
 */
static inline void
vhu_vq_take(struct vhu_vq *vq, const struct vhu_chain *c)
{
	if (vq->packed)
		vhu_packed_take(vq, c);
	else
		vhu_split_take(vq, c);
}

/* Give taken chain 'c' back with 'len' bytes written into it (0 for a transmit ring). */
static inline void
vhu_vq_return(struct vhu_vq *vq, struct vhu_burst *b, const struct vhu_chain *c, uint32_t len)
{
	if (vq->packed)
		vhu_packed_return(vq, &b->packed, c, len);
	else
		vhu_split_return(vq, &b->split, c, len);
}

/*
 * Start a burst that only returns chains taken by earlier bursts (their
 * completions came later): no chain need be available. Flush it as any.
 */
static inline void
vhu_vq_begin_return(struct vhu_vq *vq, struct vhu_burst *b)
{
	if (vq->packed)
		vhu_packed_begin_return(vq, &b->packed);
	else
		vhu_split_begin_return(vq, &b->split);
}

/* Publish the burst's returns (dirty-logged) and notify the guest if it wants to know. */
static inline void
vhu_vq_flush(struct vhu_vq *vq, struct vhu_burst *b)
{
	if (vq->packed)
		vhu_packed_flush(vq, &b->packed);
	else
		vhu_split_flush(vq, &b->split);
}

#endif /* VHU_VIRTQ_VERBS_H */
