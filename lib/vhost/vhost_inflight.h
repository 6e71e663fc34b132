/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inflight I/O tracking (INFLIGHT_SHMFD): a buffer the front-end keeps for
 * us across a backend restart, recording which chains were taken from the
 * ring but not yet returned (vhost-user.rst, "Inflight I/O tracking").
 *
 * vhu completes chains in the order it takes them, within one burst, so
 * what is in flight after a crash is always "everything after the used
 * index": a restarted backend resumes from used->idx (split) or from the
 * recorded used position (packed), which resubmits exactly those chains.
 * The per-descriptor records are still kept, as the layout requires, so
 * that any backend (or a debugging front-end) can read them.
 */
#ifndef VHU_VHOST_INFLIGHT_H
#define VHU_VHOST_INFLIGHT_H

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

struct vhu_inflight_packed {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t free_head;
	uint16_t old_free_head;
	uint16_t used_idx;
	uint16_t old_used_idx;
	uint8_t used_wrap_counter;
	uint8_t old_used_wrap_counter;
	uint8_t padding[7];
	struct vhu_inflight_desc_packed desc[];
};

/* The shared buffer, mapped. */
struct vhu_inflight {
	void *addr;		/* our mapping */
	uint64_t size;		/* bytes mapped */
	int fd;			/* kept to hand back on GET_INFLIGHT_FD */
	uint16_t num_queues;
	uint16_t queue_size;
	uint64_t counter;	/* fetch order, across all rings */
};

/* Bytes of one queue's region, 64-byte aligned. */
uint64_t vhu_inflight_queue_size(bool packed, uint16_t queue_size);

/* Data path, split: chain 'head' was taken. */
static inline void
vhu_inflight_split_take(struct vhu_vq *vq, uint16_t head)
{
	struct vhu_inflight_split *r = vq->inflight_split;

	r->desc[head].counter = ++vq->inflight_counter;
	r->desc[head].inflight = 1;
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

	d->counter = ++vq->inflight_counter;
	d->id = id;
	d->num = ndesc;
	d->inflight = 1;
}

/* Data path, packed: the burst's 'nchains' chains from slot 'from' are published. */
static inline void
vhu_inflight_packed_done(struct vhu_vq *vq, uint16_t from, uint16_t nchains)
{
	struct vhu_inflight_packed *r = vq->inflight_packed;
	uint16_t slot = from, i;

	for (i = 0; i < nchains; i++) {
		uint16_t n = r->desc[slot].num;

		r->desc[slot].inflight = 0;
		if (n == 0 || n > vq->size)
			break; /* our own record; cannot happen, but never loop on it */
		slot = (uint16_t)(slot + n >= vq->size ? slot + n - vq->size : slot + n);
	}
	r->used_idx = vq->last_used_idx;
	r->used_wrap_counter = vq->used_wrap;
	r->old_used_idx = r->used_idx;
	r->old_used_wrap_counter = r->used_wrap_counter;
}

/* Control thread: GET_INFLIGHT_FD and SET_INFLIGHT_FD. */
enum vhu_msg_result vhu_inflight_get(struct vhu_vhost_dev *dev, struct vhost_user_inflight *in);
enum vhu_msg_result vhu_inflight_set(struct vhu_vhost_dev *dev,
				     const struct vhost_user_inflight *in, int fd);
/* Control thread: attach a ring to its region when it starts; recover after a restart. */
void vhu_inflight_ring_start(struct vhu_vhost_dev *dev, struct vhu_vq *vq);
void vhu_inflight_free(struct vhu_vhost_dev *dev);

#endif /* VHU_VHOST_INFLIGHT_H */
