/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring state: a ring's life from SET_VRING_* to the data path and back.
 *
 * A ring is handed to the data path by vhu_vq_try_start(): the control
 * thread fills the data-path fields (translated ring pointers, indexes, the
 * negotiated options, the device type's own with its queue_start hook),
 * then sets vq->ready with a release store. A burst reads vq->ready with
 * acquire before it touches anything else (pairing edge, vhu_vq_enter()),
 * so it sees complete ring pointers and indexes. vhu_vq_stop() clears
 * vq->ready and waits on the ring's burst mark (vhu_handoff.h); after that
 * no burst runs on the ring and its fields belong to the control thread
 * again (the device type's queue_stop hook runs then).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhost_iotlb.h"
#include "vhost_log.h"
#include "vhost_inflight.h"
#include "vhu_ab.h"

int
vhu_vhost_ab_set(unsigned int variant)
{
	if (variant > VHU_VHOST_AB_MAX)
		return -EINVAL;
	/* Relaxed: the bursts read it once each and need no order with anything else. */
	__atomic_store_n(&vhu_ab_variant, variant, __ATOMIC_RELAXED);
	return 0;
}

unsigned int
vhu_vhost_ab_get(void)
{
	return __atomic_load_n(&vhu_ab_variant, __ATOMIC_RELAXED);
}

void
vhu_vq_set_broken(struct vhu_vq *vq, const char *fmt, ...)
{
	va_list ap;

	vq->stats.errors++;
	if (vq->broken)
		return;
	va_start(ap, fmt);
	vsnprintf(vq->broken_reason, sizeof(vq->broken_reason), fmt, ap);
	va_end(ap);
	/* Release: a reader of the info snapshot that sees the latch (acquire in
	 * vhu_vhost_get_vq_info()) sees the reason written above. */
	__atomic_store_n(&vq->broken, true, __ATOMIC_RELEASE);
	VHU_LOG(ERR, "%s: ring %u broken by the guest: %s; the ring stays stopped until the "
		"front-end restarts it, other rings carry on",
		vq->dev != NULL ? vq->dev->path : "(no device)", vq->index, vq->broken_reason);
}

/* The fields of a new or reset ring that are not zero. */
static void
vq_set_initial(struct vhu_vq *vq, uint16_t index, struct vhu_vhost_dev *dev)
{
	vq->index = index;
	vq->dev = dev;
	vq->kickfd = -1;
	vq->callfd = -1;
	vq->errfd = -1;
	vq->numa_node = -1;
	vq->avail_wrap = true; /* packed rings start in wrap round 1 (2.8.1) */
	vq->used_wrap = true;
}

void
vhu_vq_init(struct vhu_vq *vq, uint16_t index, struct vhu_vhost_dev *dev)
{
	memset(vq, 0, sizeof(*vq));
	vq_set_initial(vq, index, dev);
}

void
vhu_vq_reset(struct vhu_vq *vq)
{
	struct vhu_vhost_dev *dev = vq->dev;
	uint16_t index = vq->index;

	vhu_fd_replace(&vq->kickfd, -1);
	vhu_fd_replace(&vq->callfd, -1);
	vhu_fd_replace(&vq->errfd, -1);
	/* All but the mark: a burst that found the ring stopped may be writing
	 * it right now, and one that sees it cleared under it would leave it
	 * odd between bursts, so that the control thread waits out nothing. */
	RTE_BUILD_BUG_ON(offsetof(struct vhu_vq, mark) != 0);
	memset((char *)vq + sizeof(vq->mark), 0, sizeof(*vq) - sizeof(vq->mark));
	vq_set_initial(vq, index, dev);
}

int
vhu_vq_set_packed_base(struct vhu_vq *vq, uint16_t avail, uint16_t used)
{
	if (vq->num_set && ((avail & 0x7fff) >= vq->size || (used & 0x7fff) >= vq->size))
		return -EINVAL;
	vq->last_avail_idx = avail & 0x7fff;
	vq->avail_wrap = (avail >> 15) & 1;
	vq->last_used_idx = used & 0x7fff;
	vq->used_wrap = (used >> 15) & 1;
	return 0;
}

/* Translate the ring areas; false (and a log line) if any is not in guest memory. */
static bool
vq_translate(struct vhu_vhost_dev *dev, struct vhu_vq *vq)
{
	bool ev = dev_has_feature(dev, VIRTIO_RING_F_EVENT_IDX);
	const struct vhu_mem *mem = dev->mem;
	uint32_t num = vq->size;

	if (dev_has_feature(dev, VIRTIO_F_RING_PACKED)) {
		vq->desc_packed = vhu_dev_map_ring_area(dev, vq->desc_uaddr,
						(uint64_t)num * sizeof(struct vring_packed_desc),
						VHOST_ACCESS_RW);
		vq->driver_event = vhu_dev_map_ring_area(dev, vq->avail_uaddr,
						sizeof(struct vring_packed_event), VHOST_ACCESS_RO);
		vq->device_event = vhu_dev_map_ring_area(dev, vq->used_uaddr,
						sizeof(struct vring_packed_event), VHOST_ACCESS_WO);
	} else {
		vq->desc = vhu_dev_map_ring_area(dev, vq->desc_uaddr, vring_desc_size(num),
						 VHOST_ACCESS_RO);
		vq->avail = vhu_dev_map_ring_area(dev, vq->avail_uaddr, vring_avail_size(num, ev),
						  VHOST_ACCESS_RO);
		vq->used = vhu_dev_map_ring_area(dev, vq->used_uaddr, vring_used_size(num, ev),
						 VHOST_ACCESS_RW);
	}
	if (vq->desc == NULL || vq->avail == NULL || vq->used == NULL) {
		if (dev_has_feature(dev, VIRTIO_F_IOMMU_PLATFORM)) {
			/* A miss was sent; the UPDATE restarts the ring. */
			VHU_LOG(DEBUG, "%s: ring %u waits for IOTLB entries of its areas", dev->path,
				vq->index);
			return false;
		}
		VHU_LOG(ERR, "%s: ring %u: descriptor, avail or used area (0x%" PRIx64 ", 0x%" PRIx64
			", 0x%" PRIx64 ", %u entries) is not inside guest memory; ring not started",
			dev->path, vq->index, vq->desc_uaddr, vq->avail_uaddr, vq->used_uaddr, num);
		return false;
	}
	/* SET_VRING_ADDR checked the front-end's addresses; what we access is our
	 * mapping of them, which a region whose userspace_addr is not aligned like
	 * its mmap_offset (or an IOTLB entry) can shift. The indexes are read and
	 * written atomically: they must be naturally aligned here. */
	if (((uintptr_t)vq->desc & 15) != 0 || ((uintptr_t)vq->avail & 1) != 0 ||
	    ((uintptr_t)vq->used & 3) != 0) {
		VHU_LOG(ERR, "%s: ring %u: areas at 0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 " are "
			"misaligned as mapped (a memory region's userspace_addr and mmap_offset, "
			"or an IOTLB entry's iova and uaddr, differ in alignment); ring not started",
			dev->path, vq->index, vq->desc_uaddr, vq->avail_uaddr, vq->used_uaddr);
		return false;
	}
	vq->mem = mem;
	return true;
}

void
vhu_vq_try_start(struct vhu_vhost_dev *dev, struct vhu_vq *vq)
{
	uint16_t used_idx;

	if (vq->ready || !vq->started || !vq->enabled || !vq->num_set || !vq->addr_set ||
	    dev->mem == NULL)
		return;
	/* SET_VRING_NUM checked the size against the features of its time; the
	 * front-end may have renegotiated split rings since. */
	if (!dev_has_feature(dev, VIRTIO_F_RING_PACKED) && (vq->size & (vq->size - 1)) != 0) {
		VHU_LOG(ERR, "%s: ring %u: a split ring of %u entries (not a power of two); ring "
			"not started, set its size again", dev->path, vq->index, vq->size);
		return;
	}
	if (!vq_translate(dev, vq))
		return;
	vq->dev = dev;
	vq->iommu = dev_has_feature(dev, VIRTIO_F_IOMMU_PLATFORM);
	vq->iotlb = NULL;
	vq->logging = dev_has_feature(dev, VHOST_F_LOG_ALL);
	vq->log = NULL;
	vq->event_idx = dev_has_feature(dev, VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = dev_has_feature(dev, VIRTIO_RING_F_INDIRECT_DESC);
	vq->in_order = dev_has_feature(dev, VIRTIO_F_IN_ORDER);
	vq->packed = dev_has_feature(dev, VIRTIO_F_RING_PACKED);
	if (vq->packed) {
		if (vq->last_avail_idx >= vq->size) {
			VHU_LOG(ERR, "%s: ring %u: base slot %u is past the %u-entry ring; ring not "
				"started", dev->path, vq->index, vq->last_avail_idx, vq->size);
			return;
		}
		/* Chains between the used and avail positions were taken by a
		 * previous backend and never returned: take them again. We complete
		 * every chain in the order we take it, so used follows avail. */
		if (vq->last_used_idx != vq->last_avail_idx || vq->used_wrap != vq->avail_wrap) {
			if (vq->last_used_idx >= vq->size) {
				VHU_LOG(ERR, "%s: ring %u: used slot %u is past the %u-entry ring; "
					"ring not started", dev->path, vq->index, vq->last_used_idx,
					vq->size);
				return;
			}
			VHU_LOG(WARNING, "%s: ring %u: avail slot %u differs from used slot %u; "
				"resuming at %u (in-flight chains are taken again)", dev->path,
				vq->index, vq->last_avail_idx, vq->last_used_idx, vq->last_used_idx);
			vq->last_avail_idx = vq->last_used_idx;
			vq->avail_wrap = vq->used_wrap;
		}
		/* We poll: no kicks, please. */
		__atomic_store_n(&vq->device_event->flags, VRING_PACKED_EVENT_FLAG_DISABLE,
				 __ATOMIC_RELAXED);
		goto publish;
	}
	/* The used index is ours; a front-end that restarted kept it in guest memory. */
	used_idx = __atomic_load_n(&vq->used->idx, __ATOMIC_RELAXED);
	if (used_idx != vq->last_avail_idx) {
		VHU_LOG(WARNING,
			"%s: ring %u: base %u differs from used index %u; resuming at %u "
			"(in-flight chains are taken again)",
			dev->path, vq->index, vq->last_avail_idx, used_idx, used_idx);
		vq->last_avail_idx = used_idx;
	}
	vq->last_used_idx = used_idx;
	/* We poll: ask the driver not to kick (it may still, harmlessly). */
	__atomic_store_n(&vq->used->flags, VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
	vhu_log_hva_stopped(dev, vq, &vq->used->flags, sizeof(vq->used->flags));
publish:
	vhu_inflight_ring_start(dev, vq);
	vq->inflight_counter = 0;
	vq->broken = false;
	vq->broken_reason[0] = '\0';
	if (dev->type->queue_start != NULL)
		dev->type->queue_start(dev, vq);
	/* Release: publishes every field above to the lcore whose acquire load
	 * of vq->ready starts a burst. */
	__atomic_store_n(&vq->ready, true, __ATOMIC_RELEASE);
	VHU_LOG(INFO, "%s: ring %u started (%u entries, base %u)", dev->path, vq->index, vq->size,
		vq->last_avail_idx);
}

void
vhu_vq_stop(struct vhu_vhost_dev *dev, struct vhu_vq *vq)
{
	if (!vq->ready)
		return;
	/* Relaxed: vhu_vq_wait_burst() fences before it reads the mark. */
	__atomic_store_n(&vq->ready, false, __ATOMIC_RELAXED);
	/* Once it returns no burst that saw ready == true is still running, and
	 * the burst's last stores (indexes, stats) are visible to us. */
	vhu_vq_wait_burst(dev, vq);
	vq->mem = NULL;
	if (dev->type->queue_stop != NULL)
		dev->type->queue_stop(dev, vq);
}

void
vhu_dev_stop_all(struct vhu_vhost_dev *dev)
{
	bool any = false;
	uint16_t i;

	for (i = 0; i < dev->num_queues; i++) {
		if (dev->vq[i]->ready) {
			__atomic_store_n(&dev->vq[i]->ready, false, __ATOMIC_RELAXED);
			any = true;
		}
	}
	/* One barrier covers every ring cleared above. */
	if (any)
		vhu_dev_wait_bursts(dev);
	for (i = 0; i < dev->num_queues; i++) {
		dev->vq[i]->mem = NULL;
		if (dev->type->queue_stop != NULL)
			dev->type->queue_stop(dev, dev->vq[i]);
	}
}

void
vhu_dev_restart_all(struct vhu_vhost_dev *dev)
{
	uint16_t i;

	for (i = 0; i < dev->num_queues; i++)
		vhu_vq_try_start(dev, dev->vq[i]);
}
