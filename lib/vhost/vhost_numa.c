/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NUMA: where guest memory lives, and per-queue state placed beside it.
 *
 * Each memory region's node is looked up when a table is installed
 * (get_mempolicy(MPOL_F_NODE | MPOL_F_ADDR) on its first page); a ring's
 * node is the node of the region holding its descriptors, reported by
 * vhu_vhost_get_vq_info() as DPDK's rte_vhost_get_numa_node() does, so the
 * application can take mbufs and lcores from that node.
 *
 * The ring's own state (struct vhu_vq: indexes, shadows, stash) moves to that
 * node once the ring runs: after a message, never inside a handler that may
 * hold the vq pointer, the ring is stopped (grace period), copied into memory
 * on the node, published in dev->vq[] and started again. The old copy is
 * kept, not freed, until the device is: a burst that loaded the old pointer
 * just before the swap only marks it and reads its 'ready' (false). The
 * burst mark is not copied: each copy keeps its own. A ring that
 * moves back to a node it had been on takes its old copy again, so a device
 * holds at most one copy per ring and node. Placement is decided once per
 * memory table and ring address; a node without memory for the state leaves
 * it where it is, said once for that table.
 *
 * Tests replace the lookup and the allocator (vhu_numa_set_ops()): this
 * machine may have one node.
 */
#include <numaif.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "vhost_private.h"

/* A copy of a ring's state left behind by a move. */
struct vhu_vq_retired {
	struct vhu_vq_retired *next;
	struct vhu_vq *vq;
	uint16_t index; /* the ring it was */
	int node;	/* where it lives */
};

static int
numa_node_of_kernel(const void *addr)
{
	int node = -1;

	if (get_mempolicy(&node, NULL, 0, (void *)(uintptr_t)addr, MPOL_F_NODE | MPOL_F_ADDR) != 0)
		return -1;
	return node;
}

static void *
numa_alloc_dpdk(size_t size, int node)
{
	return rte_zmalloc_socket("vhu_vq", size, RTE_CACHE_LINE_SIZE, node);
}

static const struct vhu_numa_ops numa_default = {
	.node_of = numa_node_of_kernel,
	.alloc = numa_alloc_dpdk,
	.free = rte_free,
};
static const struct vhu_numa_ops *numa_ops = &numa_default;

void
vhu_numa_set_ops(const struct vhu_numa_ops *ops)
{
	numa_ops = ops != NULL ? ops : &numa_default;
}

void
vhu_numa_learn_regions(struct vhu_mem *mem)
{
	uint32_t i;

	for (i = 0; mem != NULL && i < mem->nregions; i++)
		mem->regions[i].numa_node =
			numa_ops->node_of((void *)(uintptr_t)mem->regions[i].hva);
}

/* Node of the region our mapping of 'p' lies in, or -1. */
static int
numa_region_node(const struct vhu_mem *mem, const void *p)
{
	uint64_t a = (uintptr_t)p;
	uint32_t i;

	for (i = 0; mem != NULL && i < mem->nregions; i++)
		if (a - mem->regions[i].hva < mem->regions[i].size)
			return mem->regions[i].numa_node;
	return -1;
}

/* A copy of ring 'index' on 'node' left by an earlier move, taken off the list; or NULL. */
static struct vhu_vq *
retired_take(struct vhu_vhost_dev *dev, uint16_t index, int node)
{
	struct vhu_vq_retired **p, *r;
	struct vhu_vq *vq;

	for (p = &dev->vq_retired; *p != NULL; p = &(*p)->next) {
		r = *p;
		if (r->index == index && r->node == node) {
			*p = r->next;
			vq = r->vq;
			free(r);
			return vq;
		}
	}
	return NULL;
}

/* Move ring 'i' (ready, its memory on 'node') there. False if it could not. */
static bool
numa_move(struct vhu_vhost_dev *dev, uint16_t i, int node)
{
	struct vhu_vq *old = dev->vq[i], *vq;
	struct vhu_vq_retired *r = malloc(sizeof(*r));

	size_t bytes = vhu_vq_bytes(dev->type); /* the ring and its device state */

	vq = retired_take(dev, i, node);
	if (vq == NULL)
		vq = numa_ops->alloc(bytes, node);
	if (vq == NULL || r == NULL) {
		if (vq != NULL)
			numa_ops->free(vq);
		free(r);
		return false;
	}
	vhu_vq_stop(dev, old);
	/* All but the burst mark (first): the new copy keeps its own, idle; a
	 * burst that loaded the old pointer may still be writing the old one. */
	memcpy((char *)vq + sizeof(vq->mark), (const char *)old + sizeof(old->mark),
	       bytes - sizeof(vq->mark));
	/* Release: the copy is complete before the pointer; the burst that
	 * loads it still starts with the acquire of vq->ready, set by start. */
	__atomic_store_n(&dev->vq[i], vq, __ATOMIC_RELEASE);
	r->vq = old;
	r->index = i;
	r->node = numa_ops->node_of(old);
	r->next = dev->vq_retired;
	dev->vq_retired = r;
	vhu_vq_try_start(dev, vq);
	return true;
}

void
vhu_numa_place_rings(struct vhu_vhost_dev *dev)
{
	uint16_t i;

	for (i = 0; i < dev->num_queues; i++) {
		struct vhu_vq *vq = dev->vq[i];
		int node, here;

		if (!vq->ready) {
			__atomic_store_n(&vq->numa_node, -1, __ATOMIC_RELAXED);
			vq->numa_mem = NULL;
			continue;
		}
		/* Decided already for this table and ring address: nothing to look up
		 * (this runs after every message, IOTLB updates included). */
		if (vq->numa_mem == vq->mem && vq->numa_desc == vq->desc)
			continue;
		vq->numa_mem = vq->mem;
		vq->numa_desc = vq->desc;
		node = numa_region_node(vq->mem, vq->desc);
		__atomic_store_n(&vq->numa_node, node, __ATOMIC_RELAXED);
		if (node < 0 || !dev->numa_place)
			continue;
		here = numa_ops->node_of(vq);
		if (here == node)
			continue;
		if (numa_move(dev, i, node)) {
			VHU_LOG(INFO,
				"%s: ring %u: state moved to NUMA node %d, beside its guest "
				"memory",
				dev->path, i, node);
			continue;
		}
		VHU_LOG(WARNING,
			"%s: ring %u: guest memory is on NUMA node %d but its state "
			"cannot be allocated there (node %d); it stays, and costs remote accesses",
			dev->path, i, node, here);
	}
}

void
vhu_numa_free_retired(struct vhu_vhost_dev *dev)
{
	struct vhu_vq_retired *r;

	while ((r = dev->vq_retired) != NULL) {
		dev->vq_retired = r->next;
		numa_ops->free(r->vq);
		free(r);
	}
}
