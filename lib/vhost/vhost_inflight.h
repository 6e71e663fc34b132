/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inflight I/O tracking (INFLIGHT_SHMFD): a buffer the front-end keeps for
 * us across a backend restart, recording which chains were taken from the
 * ring but not yet returned (vhost-user.rst, "Inflight I/O tracking").
 *
 * vhu completes chains in the order it takes them, within one burst, so
 * what is in flight after a crash is always "everything after the used
 * position", and a restarted backend resubmits it by resuming there:
 *
 * - Split rings resume at used->idx in guest memory, which the burst stores
 *   last; the ring's avail entries and descriptors are never written by the
 *   device, so the chains after it are intact.
 * - Packed rings resume at the position the record says was last handed
 *   over. The used descriptors of a burst are written in the driver's ring
 *   before the burst is handed over (the first one's flags, stored last),
 *   over the heads of the chains they return; so each chain's head (length
 *   and flags) is recorded when taken, and the restarted backend writes back
 *   the heads of the chains still in flight before it resumes. The record's
 *   used position is updated before the flags are stored and its old one
 *   after (the specification's order), so that a restart can tell from the
 *   flags at the old position whether the interrupted burst reached the
 *   driver: if so it is complete, otherwise it is taken again.
 *
 * A packed record made by GET_INFLIGHT_FD holds no position until its ring
 * first starts (VHU_INFLIGHT_NO_POS): the front-end's base stands then.
 */
#ifndef VHU_VHOST_INFLIGHT_H
#define VHU_VHOST_INFLIGHT_H

#include <stddef.h>

#include "vhost_private.h"

struct vhu_inflight_desc_split {
	uint8_t inflight;	/* taken, not yet used (head descriptors only) */
	uint8_t padding[5];
	uint16_t next;		/* list of the last used batch */
	uint64_t counter;	/* fetch order */
};

struct vhu_inflight_split {
	uint64_t features;
	uint16_t version;	/* 1; 0 means "not initialised" */
	uint16_t desc_num;	/* ring size */
	uint16_t last_batch_head;
	uint16_t used_idx;	/* used->idx after the last completed batch */
	struct vhu_inflight_desc_split desc[];
};

struct vhu_inflight_desc_packed {
	uint8_t inflight;
	uint8_t padding;
	uint16_t next;
	uint16_t last;
	uint16_t num;
	uint64_t counter;
	uint16_t id;
	uint16_t flags;
	uint32_t len;
	uint64_t addr;
};

/*
 * A packed record's used positions: the one being handed over and the one
 * last handed over. They are stored together, in one 8-byte store, so that
 * a crash never leaves an index with the other position's wrap counter.
 */
union vhu_inflight_pos {
	struct {
		uint16_t used_idx;		/* end of the burst being handed over */
		uint16_t old_used_idx;		/* end of the last burst handed over */
		uint8_t used_wrap_counter;
		uint8_t old_used_wrap_counter;
	} f;
	uint64_t all;	/* the above and 2 bytes of the layout's padding */
};

/* old_used_idx of a record that holds no position yet (made by GET_INFLIGHT_FD). */
#define VHU_INFLIGHT_NO_POS UINT16_MAX

struct vhu_inflight_packed {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t free_head;
	uint16_t old_free_head;
	union vhu_inflight_pos pos;
	uint8_t padding[5];
	struct vhu_inflight_desc_packed desc[];	/* indexed by ring slot; heads only */
};

_Static_assert(offsetof(struct vhu_inflight_packed, pos) == 16 &&
		       offsetof(struct vhu_inflight_packed, desc) == 32,
	       "packed inflight record laid out as vhost-user.rst's QueueRegionPacked");

/* The shared buffer, mapped. */
struct vhu_inflight {
	void *addr;		/* our mapping */
	uint64_t size;		/* bytes mapped */
	int fd;			/* kept to hand back on GET_INFLIGHT_FD */
	uint16_t num_queues;
	uint16_t queue_size;
	uint64_t counter;	/* fetch order, across all rings */
};

/*
 * Points of a burst where test/unit/test_inflight.c stops it, as a crash
 * would, to check what a restarted backend resubmits. The library proper
 * compiles them to nothing; that test builds the sources again with
 * VHU_INFLIGHT_TEST_HOOK defined and sets the hook.
 */
enum vhu_inflight_point {
	VHU_INFLIGHT_AT_TAKEN,		/* a chain was just recorded in flight */
	VHU_INFLIGHT_AT_PUBLISHING,	/* used entries written, the burst not yet visible */
	VHU_INFLIGHT_AT_PUBLISHED,	/* the burst is visible, its chains still in flight */
};

#ifdef VHU_INFLIGHT_TEST_HOOK
extern void (*vhu_inflight_test_hook)(const struct vhu_vq *vq, enum vhu_inflight_point at);
#define VHU_INFLIGHT_POINT(vq, at) \
	do { \
		if (vhu_inflight_test_hook != NULL) \
			vhu_inflight_test_hook(vq, at); \
	} while (0)
#else
#define VHU_INFLIGHT_POINT(vq, at) do { } while (0)
#endif

/* Bytes of one queue's region, 64-byte aligned. */
uint64_t vhu_inflight_queue_size(bool packed, uint16_t queue_size);

/* Data path, split: chain 'head' was taken. */
static inline void
vhu_inflight_split_take(struct vhu_vq *vq, uint16_t head)
{
	struct vhu_inflight_split *r = vq->inflight_split;

	r->desc[head].counter = ++vq->inflight_counter;
	r->desc[head].inflight = 1;
	VHU_INFLIGHT_POINT(vq, VHU_INFLIGHT_AT_TAKEN);
}

/* Data path, split: chain 'head' was put in the used ring. */
static inline void
vhu_inflight_split_used(struct vhu_vq *vq, uint16_t head)
{
	struct vhu_inflight_split *r = vq->inflight_split;

	r->desc[head].next = r->last_batch_head;
	r->last_batch_head = head;
}

/* Data path, split: the batch up to 'used_idx' is published. */
static inline void
vhu_inflight_split_done(struct vhu_vq *vq, uint16_t old_used)
{
	struct vhu_inflight_split *r = vq->inflight_split;
	uint16_t i, n = (uint16_t)(vq->last_used_idx - old_used), head = r->last_batch_head;

	VHU_INFLIGHT_POINT(vq, VHU_INFLIGHT_AT_PUBLISHED);
	for (i = 0; i < n && head < vq->size; i++) {
		r->desc[head].inflight = 0;
		head = r->desc[head].next;
	}
	r->used_idx = vq->last_used_idx;
}

/* Data path, packed: a chain of 'ndesc' slots with buffer 'id' was taken / used. */
static inline void
vhu_inflight_packed_take(struct vhu_vq *vq, uint16_t slot, uint16_t id, uint16_t ndesc)
{
	struct vhu_inflight_packed *r = vq->inflight_packed;
	struct vhu_inflight_desc_packed *d = &r->desc[slot];
	const struct vring_packed_desc *head = &vq->desc_packed[slot];

	d->counter = ++vq->inflight_counter;
	d->id = id;
	d->num = ndesc;
	/* The head as the driver made it available (we have not written the
	 * slot yet): our used descriptor goes over it before the burst is handed
	 * over, and a restarted backend writes it back to take the chain again. */
	d->len = head->len;
	d->flags = head->flags;
	d->inflight = 1;
	VHU_INFLIGHT_POINT(vq, VHU_INFLIGHT_AT_TAKEN);
}

/*
 * Data path, packed: the burst is about to be handed over (its first used
 * descriptor's flags stored). Its end is recorded first: the plain store is
 * ordered before the release store of the flags that follows.
 */
static inline void
vhu_inflight_packed_publish(struct vhu_vq *vq)
{
	struct vhu_inflight_packed *r = vq->inflight_packed;
	union vhu_inflight_pos p = { .all = r->pos.all };

	p.f.used_idx = vq->last_used_idx;
	p.f.used_wrap_counter = vq->used_wrap;
	r->pos.all = p.all;
	VHU_INFLIGHT_POINT(vq, VHU_INFLIGHT_AT_PUBLISHING);
}

/* Data path, packed: the burst's 'nchains' chains from slot 'from' were handed over. */
static inline void
vhu_inflight_packed_done(struct vhu_vq *vq, uint16_t from, uint16_t nchains)
{
	struct vhu_inflight_packed *r = vq->inflight_packed;
	union vhu_inflight_pos p;
	uint16_t slot = from, i;

	/* The flags were stored before the record says the burst is no longer
	 * in flight: a crash in between must find them (free on x86). */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	VHU_INFLIGHT_POINT(vq, VHU_INFLIGHT_AT_PUBLISHED);
	for (i = 0; i < nchains; i++) {
		uint16_t n = r->desc[slot].num;

		r->desc[slot].inflight = 0;
		if (n == 0 || n > vq->size)
			break; /* our own record; cannot happen, but never loop on it */
		slot = (uint16_t)(slot + n >= vq->size ? slot + n - vq->size : slot + n);
	}
	p.all = r->pos.all;
	p.f.old_used_idx = p.f.used_idx;
	p.f.old_used_wrap_counter = p.f.used_wrap_counter;
	/* Release: after the inflight flags cleared above. */
	__atomic_store_n(&r->pos.all, p.all, __ATOMIC_RELEASE);
}

/*
 * Control thread, GET_INFLIGHT_FD: a fresh buffer (its own memfd) laid out
 * for the request's rings, in *out; the device is not changed. 0, or -EINVAL
 * (geometry) or -errno. The caller installs it (vhu_inflight_install()).
 */
int vhu_inflight_new(struct vhu_vhost_dev *dev, const struct vhost_user_inflight *req,
		     struct vhu_inflight **out);
/*
 * Control thread, SET_INFLIGHT_FD: the front-end's buffer in 'fd' (consumed:
 * closed on failure, owned by *out on success), mapped and checked against
 * the request's layout; the device is not changed. 0, -EINVAL or -ENOMEM.
 */
int vhu_inflight_open(struct vhu_vhost_dev *dev, const struct vhost_user_inflight *req, int fd,
		      struct vhu_inflight **out);
/* Control thread, every ring stopped: 'in' replaces the device's buffer. */
void vhu_inflight_install(struct vhu_vhost_dev *dev, struct vhu_inflight *in);
/* Control thread: attach a ring to its region when it starts; recover after a restart. */
void vhu_inflight_ring_start(struct vhu_vhost_dev *dev, struct vhu_vq *vq);
void vhu_inflight_free(struct vhu_vhost_dev *dev);

#endif /* VHU_VHOST_INFLIGHT_H */
