/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring-level access for embedders that keep ring state of their own (DPDK's
 * rte_vhost API, as storage targets call it): the rings' base indexes, the
 * memory table and the inflight records. vhu's own bursts need none of it.
 *
 * Reads that any thread may make load single fields, as vhu_vhost_get_vq_info()
 * does; what follows pointers into control state (the memory table, the
 * inflight buffer) or changes a ring takes vhu_ctrl_lock, so it never sees a
 * table being replaced, and changes only rings the data path does not own.
 * The exception is the data path's own way to a running ring's inflight
 * record (vhu_vhost_inflight_enter()): it marks the ring as a burst does and
 * takes no lock, so a lcore that completes requests never waits for the
 * control thread.
 */
#include <errno.h>

#include "vhost_private.h"
#include "virtq_verbs.h"

/* The ring 'index' of 'dev', or NULL: *err says why. */
static struct vhu_vq *
ring_of(struct vhu_vhost_dev *dev, uint16_t index, int *err)
{
	if (dev == NULL) {
		*err = -EINVAL;
		return NULL;
	}
	if (index >= dev->num_queues) {
		*err = -ERANGE;
		return NULL;
	}
	return dev->vq[index];
}

int
vhu_vhost_get_vring_base(struct vhu_vhost_dev *dev, uint16_t index, uint16_t *last_avail,
			 uint16_t *last_used)
{
	const struct vhu_vq *vq;
	int err = -EINVAL;

	if (last_avail == NULL || last_used == NULL || (vq = ring_of(dev, index, &err)) == NULL)
		return err;
	*last_avail = __atomic_load_n(&vq->last_avail_idx, __ATOMIC_RELAXED);
	*last_used = __atomic_load_n(&vq->last_used_idx, __ATOMIC_RELAXED);
	/* The layout negotiated, as GET_VRING_BASE encodes it (vq->packed is set
	 * only when the ring starts). */
	if (__atomic_load_n(&dev->features, __ATOMIC_RELAXED) & VHU_BIT(VIRTIO_F_RING_PACKED)) {
		*last_avail |= (uint16_t)(__atomic_load_n(&vq->avail_wrap, __ATOMIC_RELAXED) << 15);
		*last_used |= (uint16_t)(__atomic_load_n(&vq->used_wrap, __ATOMIC_RELAXED) << 15);
	}
	return 0;
}

int
vhu_vhost_set_vring_base(struct vhu_vhost_dev *dev, uint16_t index, uint16_t last_avail,
			 uint16_t last_used)
{
	struct vhu_vq *vq;
	int err = -EINVAL;

	if ((vq = ring_of(dev, index, &err)) == NULL)
		return err;
	pthread_mutex_lock(&vhu_ctrl_lock);
	if (vq->ready) {
		err = -EBUSY;
	} else if (dev_has_feature(dev, VIRTIO_F_RING_PACKED)) {
		err = vhu_vq_set_packed_base(vq, last_avail, last_used);
	} else {
		vq->last_avail_idx = last_avail;
		vq->last_used_idx = last_used;
		err = 0;
	}
	pthread_mutex_unlock(&vhu_ctrl_lock);
	if (err == -EBUSY)
		VHU_LOG(ERR, "%s: ring %u runs: its base can be set only while it is stopped",
			dev->path, index);
	return err;
}

int
vhu_vhost_get_mem_table(struct vhu_vhost_dev *dev, struct vhu_vhost_mem_region *regions,
			uint32_t max)
{
	const struct vhu_mem *mem;
	uint32_t n = 0;

	if (dev == NULL || (regions == NULL && max > 0))
		return -EINVAL;
	pthread_mutex_lock(&vhu_ctrl_lock);
	mem = dev->mem;
	if (mem != NULL) {
		n = mem->nregions;
		for (uint32_t i = 0; i < n && i < max; i++) {
			const struct vhu_mem_region *r = &mem->regions[i];

			regions[i] = (struct vhu_vhost_mem_region){
				.guest_phys_addr = r->gpa,
				.guest_user_addr = r->uva,
				.host_user_addr = r->hva,
				.size = r->size,
				.mmap_addr = r->mmap_addr,
				.mmap_size = r->mmap_size,
			};
		}
	}
	pthread_mutex_unlock(&vhu_ctrl_lock);
	return (int)n;
}

int
vhu_vhost_get_inflight(struct vhu_vhost_dev *dev, uint16_t index, struct vhu_vhost_inflight *inf)
{
	struct vhu_vq *vq;
	int err = -EINVAL;

	if (inf == NULL || (vq = ring_of(dev, index, &err)) == NULL)
		return err;
	memset(inf, 0, sizeof(*inf));
	pthread_mutex_lock(&vhu_ctrl_lock);
	inf->packed = vq->packed;
	inf->size = vq->size;
	inf->record = vq->packed ? (void *)vq->inflight_packed : (void *)vq->inflight_split;
	inf->desc_packed = vq->packed && vq->ready ? (const void *)vq->desc_packed : NULL;
	pthread_mutex_unlock(&vhu_ctrl_lock);
	return inf->record != NULL ? 0 : -ENOENT;
}

int
vhu_vhost_inflight_enter(struct vhu_vhost_dev *dev, uint16_t index, struct vhu_vhost_inflight *inf)
{
	struct vhu_vq *vq;
	int err = -EINVAL;

	if (inf == NULL || ring_of(dev, index, &err) == NULL)
		return err;
	memset(inf, 0, sizeof(*inf));
	/* Marked before 'ready' is read: a stop that clears 'ready' then waits
	 * for the mark, so the record and the ring read below stay mapped until
	 * vhu_vhost_inflight_leave() (vhu_handoff.h). */
	vq = vhu_vq_hold(dev, index);
	/* Acquire: pairs with the release of 'ready' in vhu_vq_try_start(); the
	 * layout, size, ring and record read below are the ones it published. */
	if (!__atomic_load_n(&vq->ready, __ATOMIC_ACQUIRE)) {
		vhu_vq_leave(vq);
		return -EAGAIN;
	}
	inf->packed = vq->packed;
	inf->size = vq->size;
	inf->record = vq->packed ? (void *)vq->inflight_packed : (void *)vq->inflight_split;
	inf->desc_packed = vq->packed ? (const void *)vq->desc_packed : NULL;
	if (inf->record == NULL) {
		vhu_vq_leave(vq);
		return -ENOENT;
	}
	inf->held = vq;
	return 0;
}

void
vhu_vhost_inflight_leave(struct vhu_vhost_inflight *inf)
{
	if (inf == NULL || inf->held == NULL)
		return;
	vhu_vq_leave(inf->held);
	inf->held = NULL;
}
