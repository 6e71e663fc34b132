/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dirty page logging for live migration (LOG_SHMFD, VHOST_F_LOG_ALL): one
 * bit per 4 KiB page of guest-physical memory, in a shared bitmap the
 * front-end gives with SET_LOG_BASE. While LOG_ALL is negotiated every byte
 * the backend writes into guest memory (packet buffers, used ring entries,
 * packed descriptors) marks its pages, after the write and before the used
 * index or flags that hand it to the guest.
 */
#ifndef VHU_VHOST_LOG_H
#define VHU_VHOST_LOG_H

#include "vhost_private.h"

#define VHU_LOG_PAGE_SHIFT 12

/* A mapped log bitmap; immutable, published by pointer. */
struct vhu_log {
	uint8_t *bitmap;	/* first byte of the bitmap */
	uint64_t size;		/* bytes of bitmap: covers size * 8 pages */
	void *mmap_addr;	/* our mapping, for munmap */
	uint64_t mmap_size;
};

/* Mark the guest pages behind our address range [hva, hva + len). Data path. */
static inline void
vhu_log_hva(struct vhu_vq *vq, const void *hva, uint64_t len)
{
	const struct vhu_log *log = vq->log;
	const struct vhu_mem *mem = vq->mem;
	uint64_t h = (uint64_t)(uintptr_t)hva, page, last;
	uint32_t i;

	if (len == 0)
		return;
	for (i = 0; i < mem->nregions; i++) {
		const struct vhu_mem_region *r = &mem->regions[i];

		if (h - r->hva < r->size) {
			uint64_t gpa = r->gpa + (h - r->hva);

			last = (gpa + len - 1) >> VHU_LOG_PAGE_SHIFT;
			for (page = gpa >> VHU_LOG_PAGE_SHIFT; page <= last; page++) {
				if (unlikely(page / 8 >= log->size)) {
					vq->stats.log_overflow++;
					return;
				}
				/* Release: the write being marked is visible before its
				 * bit. The front-end reads and clears the bitmap while
				 * the ring runs (QEMU in every migration pass), so a
				 * page is marked after it is written, never before. */
				__atomic_fetch_or(&log->bitmap[page / 8], (uint8_t)(1u << (page % 8)),
						  __ATOMIC_RELEASE);
			}
			return;
		}
	}
}

/*
 * Control thread, ring stopped: mark what it wrote into the ring (our used
 * flags at start, heads written back by inflight recovery), if LOG_ALL is on.
 */
static inline void
vhu_log_hva_stopped(struct vhu_vhost_dev *dev, struct vhu_vq *vq, const void *hva,
		    uint64_t len)
{
	if (!vq->logging || dev->log == NULL)
		return;
	vq->log = dev->log;
	vhu_log_hva(vq, hva, len);
	vq->log = NULL;
}

/* Load the device's log for this burst (NULL while LOG_ALL is off). */
static inline void
vhu_log_begin(struct vhu_vq *vq)
{
	/* Acquire: pairs with the release store in vhu_log_set_base(). */
	vq->log = vq->logging ? __atomic_load_n(&vq->dev->log, __ATOMIC_ACQUIRE) : NULL;
}

/* Control thread: SET_LOG_BASE. */
enum vhu_msg_result vhu_log_set_base(struct vhu_vhost_dev *dev, const struct vhost_user_log *l,
				     int fd);
/* Control thread: unmap the log (reset, disconnect). */
void vhu_log_free(struct vhu_vhost_dev *dev);

#endif /* VHU_VHOST_LOG_H */
