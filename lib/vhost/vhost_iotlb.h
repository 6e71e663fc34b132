/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IOTLB of a device whose front-end plays a vIOMMU (VIRTIO_F_IOMMU_PLATFORM):
 * the I/O virtual addresses the guest uses, mapped to our addresses. The
 * table is immutable and published by pointer (DESIGN.md): UPDATE and
 * INVALIDATE build a new one on the control thread. A data lcore that finds
 * no entry posts a miss (vhu_iotlb_post_miss()) and leaves the chain in the
 * ring; the control thread sends IOTLB MISS on the back-end channel and
 * carries on serving the main socket, where the front-end sends the UPDATE.
 */
#ifndef VHU_VHOST_IOTLB_H
#define VHU_VHOST_IOTLB_H

#include "vhost_private.h"

/* Most entries kept; past it the lowest-addressed entries are evicted. */
#define VHU_IOTLB_MAX_ENTRIES 4096

struct vhu_iotlb_entry {
	uint64_t iova;		/* first I/O virtual address */
	uint64_t size;		/* bytes */
	uint64_t hva;		/* our address of iova */
	uint64_t uaddr;		/* the front-end's address of iova, to re-map on a new memory table */
	uint8_t perm;		/* VHOST_ACCESS_RO/WO/RW */
};

/* An immutable table, sorted by iova, entries not overlapping. */
struct vhu_iotlb {
	uint32_t n;
	struct vhu_iotlb_entry e[];
};

/* Result of an IOTLB translation. */
enum vhu_map_rc {
	VHU_MAP_OK,
	VHU_MAP_MISS,	/* no entry yet: ask the front-end, retry later */
	VHU_MAP_DENIED,	/* an entry exists but does not allow this access */
};

/*
 * Translate 'iova' for access 'perm'. On VHU_MAP_OK returns our address and
 * cuts *len to what is contiguous. Data path and control thread.
 */
static inline enum vhu_map_rc
vhu_iotlb_map(const struct vhu_iotlb *t, uint64_t iova, uint64_t *len, uint8_t perm,
	      uint8_t **hva)
{
	uint32_t lo = 0, hi = t != NULL ? t->n : 0;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		const struct vhu_iotlb_entry *e = &t->e[mid];

		if (iova < e->iova) {
			hi = mid;
		} else if (iova - e->iova >= e->size) {
			lo = mid + 1;
		} else {
			uint64_t off = iova - e->iova;

			if ((e->perm & perm) != perm)
				return VHU_MAP_DENIED;
			if (*len > e->size - off)
				*len = e->size - off;
			*hva = (uint8_t *)(uintptr_t)(e->hva + off);
			return VHU_MAP_OK;
		}
	}
	return VHU_MAP_MISS;
}

/* A miss, as queued from a data lcore to the control thread. */
struct vhu_iotlb_miss {
	uint64_t iova;
	uint64_t perm;
};

/*
 * Data lcore: ask the control thread to fetch a mapping for 'iova'. The same
 * miss is re-posted at most every 100 ms per ring, unless a mapping was
 * withdrawn since (then at once). Never blocks.
 */
void vhu_iotlb_post_miss(struct vhu_vq *vq, uint64_t iova, uint8_t perm);

/*
 * What an IOTLB message (UPDATE or INVALIDATE) changes, as this module
 * reports it to the core: the new table, and for an INVALIDATE the range
 * withdrawn. The core stops the rings whose areas the range covers
 * (vhu_iotlb_change_unmaps_ring()) before it commits the change, and tries
 * to start every ring after: this module never stops or starts a ring.
 */
struct vhu_iotlb_change {
	struct vhu_iotlb *table; /* the table to publish (owned until committed) */
	bool withdraws;		 /* it lacks a mapping the current table has */
	bool invalidate;	 /* INVALIDATE: [iova, iova + size) is withdrawn */
	uint64_t iova;
	uint64_t size;
};

/*
 * Control thread: check an IOTLB_MSG and build the table it makes. 0, or
 * -errno (logged: not negotiated, bad type or range, outside guest memory,
 * out of memory) with nothing changed.
 */
int vhu_iotlb_prepare(struct vhu_vhost_dev *dev, const struct vhost_user_iotlb_msg *m,
		      struct vhu_iotlb_change *c);
/* Does the change take away a translation of an area of ring 'vq'? */
bool vhu_iotlb_change_unmaps_ring(const struct vhu_vhost_dev *dev, const struct vhu_iotlb_change *c,
				  const struct vhu_vq *vq);
/*
 * Control thread: publish the prepared table and count the message. Returns
 * once no burst can hold the old table (freed).
 */
void vhu_iotlb_commit(struct vhu_vhost_dev *dev, struct vhu_iotlb_change *c);
/* Control thread: send a MISS for 'iova' on the back-end channel. 0 or -errno. */
int vhu_iotlb_send_miss(struct vhu_vhost_dev *dev, uint64_t iova, uint8_t perm);
/* Control thread: re-map every entry after the memory table changed. */
void vhu_iotlb_remap(struct vhu_vhost_dev *dev);
/* Control thread: drop the table (reset, disconnect). */
void vhu_iotlb_flush(struct vhu_vhost_dev *dev);
/* Create and destroy a device's miss queue and its wake-up eventfd. 0 or -errno. */
int vhu_iotlb_dev_init(struct vhu_vhost_dev *dev);
void vhu_iotlb_dev_fini(struct vhu_vhost_dev *dev);

/*
 * Translate a whole range [addr, addr + len) of ring area that must be
 * contiguous in our address space: guest-physical, or an IOVA when the
 * device has a vIOMMU (then a miss is sent and NULL returned). Control thread.
 */
void *vhu_dev_map_ring_area(struct vhu_vhost_dev *dev, uint64_t addr, uint64_t len, uint8_t perm);

#endif /* VHU_VHOST_IOTLB_H */
