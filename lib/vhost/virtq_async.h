/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Completions after the burst: a device whose work finishes later and out of
 * order (virtio-blk over io_uring) takes chains in one burst and returns them
 * in another. The window keeps the chains taken and not yet returned, in
 * take order; a completion marks its entry done, from anywhere on the lcore
 * that owns the ring; vhu_vq_return_completed() returns the done entries at
 * the front of the window, in take order, with one publication and at most
 * one notification.
 *
 * Why in take order, when the used ring allows any order: the inflight
 * record (vhost_inflight.h) is right only if every chain after the used
 * position is in flight and every chain before it is complete, which is
 * what lets a restarted backend resume at the used position on both
 * layouts. A completion that overtakes an older one waits in the window
 * for it; the request is done (its status written) but the guest sees it
 * only with the older one. A chain taken stays in the inflight record until
 * it is returned, so a backend killed with requests outstanding resubmits
 * them all (INFLIGHT_SHMFD).
 *
 * Rings restart (GET_VRING_BASE, a reconnect) while completions are still
 * out. The caller gives each take the ring's current epoch (a number it
 * bumps when the ring starts); a completion of an older epoch is dropped,
 * not returned, since the restarted ring takes that chain again from the
 * used position. The window itself belongs to the polling lcore alone and
 * outlives ring restarts, so an old completion always finds its entry.
 *
 * Threads: the lcore that owns the ring. vhu_vq_take_async() and
 * vhu_vq_return_completed() inside a burst on a ready ring (vhu_vq_enter());
 * vhu_window_complete() at any time. The control thread may ask, with the
 * ring stopped, whether everything out is complete (vhu_window_settled()):
 * the lcore stores the positions and the done flags atomically for it.
 */
#ifndef VHU_VIRTQ_ASYNC_H
#define VHU_VIRTQ_ASYNC_H

#include <stddef.h>

#include "virtq_verbs.h"

/* One chain taken and not yet returned. */
struct vhu_window_entry {
	struct vhu_chain c; /* as popped */
	uint32_t len;	    /* bytes written into it, once done */
	uint32_t epoch;	    /* the ring's epoch when taken */
	bool done;	    /* completed: may be returned */
};

/* The chains a ring has out, oldest first. */
struct vhu_window {
	uint32_t mask;		     /* entries - 1; entries is a power of two */
	uint32_t head;		     /* oldest entry not yet returned (free running) */
	uint32_t tail;		     /* next entry to fill (free running) */
	struct vhu_window_entry e[]; /* mask + 1 of them */
};

/* Bytes of a window of 'entries' (a power of two) entries. */
static inline size_t
vhu_window_bytes(uint32_t entries)
{
	return sizeof(struct vhu_window) + entries * sizeof(struct vhu_window_entry);
}

/* Make 'w' (vhu_window_bytes(entries) bytes) empty. */
static inline void
vhu_window_init(struct vhu_window *w, uint32_t entries)
{
	w->mask = entries - 1;
	w->head = 0;
	w->tail = 0;
}

/* Chains that may still be taken before the window is full. */
static inline uint32_t
vhu_window_room(const struct vhu_window *w)
{
	return w->mask + 1 - (w->tail - w->head);
}

/* Chains out (taken, not yet returned). */
static inline uint32_t
vhu_window_outstanding(const struct vhu_window *w)
{
	/* Relaxed: a count for the owning lcore, or a log line of the control thread. */
	return __atomic_load_n(&w->tail, __ATOMIC_RELAXED) -
	       __atomic_load_n(&w->head, __ATOMIC_RELAXED);
}

/*
 * Take popped chain 'c' (vhu_vq_take()) into the window, in ring epoch
 * 'epoch'. The caller checked vhu_window_room(). Returns its ticket, for
 * vhu_window_complete().
 */
static inline uint32_t
vhu_vq_take_async(struct vhu_vq *vq, struct vhu_window *w, const struct vhu_chain *c,
		  uint32_t epoch)
{
	struct vhu_window_entry *e = &w->e[w->tail & w->mask];

	vhu_vq_take(vq, c);
	e->c = *c;
	e->len = 0;
	e->epoch = epoch;
	e->done = false;
	/* Relaxed: read by vhu_window_settled() only while no take can run. */
	__atomic_store_n(&w->tail, w->tail + 1, __ATOMIC_RELAXED);
	return w->tail - 1;
}

/* The chain of 'ticket' is complete, with 'len' bytes written into it. */
static inline void
vhu_window_complete(struct vhu_window *w, uint32_t ticket, uint32_t len)
{
	struct vhu_window_entry *e = &w->e[ticket & w->mask];

	e->len = len;
	/* Release: the request's work (its I/O, its status byte) is over before a
	 * control thread that sees it done (vhu_window_settled()) goes on. */
	__atomic_store_n(&e->done, true, __ATOMIC_RELEASE);
}

/*
 * Is every chain taken before window position 'end' complete? For a control
 * thread, at any time: pairs with the release in vhu_window_complete(). An
 * entry is reused only after the head passed it, that is once it was done,
 * so a done flag read here is never a newer take's (at worst a false, which
 * a later call corrects).
 */
static inline bool
vhu_window_done_before(const struct vhu_window *w, uint32_t end)
{
	uint32_t head = __atomic_load_n(&w->head, __ATOMIC_ACQUIRE);

	for (; (int32_t)(end - head) > 0; head++)
		if (!__atomic_load_n(&w->e[head & w->mask].done, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

/* Is every chain out complete? For a control thread, the ring stopped (no take can add one). */
static inline bool
vhu_window_settled(const struct vhu_window *w)
{
	return vhu_window_done_before(w, __atomic_load_n(&w->tail, __ATOMIC_ACQUIRE));
}

/*
 * Drop the done entries at the front of the window without returning them:
 * for a ring that is not ready (they belong to an epoch that is over).
 * Returns how many.
 */
static inline uint32_t
vhu_window_drop_completed(struct vhu_window *w)
{
	uint32_t n = 0;

	while (w->head != w->tail && w->e[w->head & w->mask].done) {
		__atomic_store_n(&w->head, w->head + 1, __ATOMIC_RELAXED);
		n++;
	}
	return n;
}

/*
 * Return the done entries at the front of the window to ring 'vq' (entered,
 * ready), those of epoch 'epoch', dropping older ones; publish them with one
 * release store and notify the guest if it asked to be. Returns the chains
 * returned.
 */
static inline uint32_t
vhu_vq_return_completed(struct vhu_vq *vq, struct vhu_window *w, uint32_t epoch)
{
	struct vhu_burst b;
	uint32_t n = 0;

	if (w->head == w->tail || !w->e[w->head & w->mask].done)
		return 0;
	/* The header only, because GCC cannot see that begin and flush take the
	 * same layout's branch; the entries are written before they are read. */
	memset(&b.packed, 0, offsetof(struct vhu_packed_batch, e));
	vhu_vq_begin_return(vq, &b);
	while (w->head != w->tail) {
		struct vhu_window_entry *e = &w->e[w->head & w->mask];

		if (!e->done)
			break;
		if (likely(e->epoch == epoch)) {
			vhu_vq_return(vq, &b, &e->c, e->len);
			n++;
		}
		__atomic_store_n(&w->head, w->head + 1, __ATOMIC_RELAXED);
	}
	if (n > 0)
		vhu_vq_flush(vq, &b);
	return n;
}

#endif /* VHU_VIRTQ_ASYNC_H */
