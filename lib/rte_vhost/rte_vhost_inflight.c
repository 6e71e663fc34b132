/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * librte_vhost.so.23 on vhu: what DPDK's inflight calls do to a ring's
 * inflight record (vhost-user.rst, "Inflight I/O tracking"), the layout that
 * rte_vhost.h's rte_vhost_inflight_info_split/packed describe. The record is
 * the front-end's shared memory: every index read from it is checked before
 * it is used, where DPDK's library trusts it. rte_vhost_ring.c finds the
 * record and checks the device, the ring and the negotiated feature.
 */
#include <rte_vhost.h>

#include "rte_vhost_priv.h"

int
rv_inflight_set_split(struct rte_vhost_inflight_info_split *r, uint16_t size, uint16_t idx,
		      uint64_t counter)
{
	if (idx >= size)
		return -1;
	r->desc[idx].counter = counter;
	r->desc[idx].inflight = 1;
	return 0;
}

int
rv_inflight_clr_split(struct rte_vhost_inflight_info_split *r, uint16_t size,
		      uint16_t last_used_idx, uint16_t idx)
{
	if (idx >= size)
		return -1;
	/* The front-end, after a crash, trusts used_idx over the entries: clear
	 * the entry before moving used_idx past it (the specification's order). */
	__atomic_store_n(&r->desc[idx].inflight, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&r->used_idx, last_used_idx, __ATOMIC_SEQ_CST);
	return 0;
}

int
rv_inflight_last_split(struct rte_vhost_inflight_info_split *r, uint16_t size, uint16_t idx)
{
	if (idx >= size)
		return -1;
	r->last_inflight_io = idx;
	return 0;
}

int
rv_inflight_set_packed(struct rte_vhost_inflight_info_packed *r,
		       const struct vring_packed_desc *desc, uint16_t size, uint16_t head,
		       uint16_t last, uint64_t counter, uint16_t *entry)
{
	uint16_t first = r->old_free_head, free_head = first, stop;

	if (head >= size || first >= size || size == 0)
		return -1;
	stop = (uint16_t)((last + 1u) % size);
	r->desc[first].num = 0;
	r->desc[first].counter = counter;
	r->desc[first].inflight = 1;
	/* Each slot head..last (at most the whole ring) goes into the next free
	 * entry; the free list is the front-end's memory: each link is checked. */
	while (head != stop) {
		if (free_head >= size)
			return -1;
		r->desc[first].num++;
		r->desc[free_head].addr = desc[head].addr;
		r->desc[free_head].len = desc[head].len;
		r->desc[free_head].flags = desc[head].flags;
		r->desc[free_head].id = desc[head].id;
		r->desc[first].last = free_head;
		free_head = r->desc[free_head].next;
		r->free_head = free_head;
		head = (uint16_t)((head + 1u) % size);
	}
	r->old_free_head = free_head;
	*entry = first;
	return 0;
}

int
rv_inflight_clr_packed(struct rte_vhost_inflight_info_packed *r, uint16_t size, uint16_t head)
{
	if (head >= size)
		return -1;
	/* As for split: the entry first, then the positions that pass it. */
	__atomic_store_n(&r->desc[head].inflight, 0, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	r->old_free_head = r->free_head;
	r->old_used_idx = r->used_idx;
	r->old_used_wrap_counter = r->used_wrap_counter;
	return 0;
}

int
rv_inflight_last_packed(struct rte_vhost_inflight_info_packed *r, uint16_t size, uint16_t head)
{
	uint16_t last;
	uint32_t used;

	if (head >= size)
		return -1;
	last = r->desc[head].last;
	if (last >= size)
		return -1;
	r->desc[last].next = r->free_head;
	r->free_head = head;
	used = (uint32_t)r->used_idx + r->desc[head].num;
	if (used >= size) {
		used -= size;
		r->used_wrap_counter = !r->used_wrap_counter;
	}
	r->used_idx = (uint16_t)used;
	return 0;
}
