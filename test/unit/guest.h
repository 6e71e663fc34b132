/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Synthetic guest memory for ring tests: one or more regions that are
 * contiguous in guest-physical space but not in ours, each between PROT_NONE
 * guard pages, so that a read or write outside guest memory faults instead of
 * passing silently. Plus the driver's side of split and packed rings, written
 * the way a virtio driver would, and rings set up the way vhu_vq_try_start()
 * leaves them.
 */
#ifndef VHU_TEST_GUEST_H
#define VHU_TEST_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost_private.h"

#define GUEST_GPA 0x100000ull	/* guest-physical start of region 0 */
#define GUEST_UVA(gpa) (0x7f0000000000ull + (gpa)) /* the front-end's address of 'gpa' */
#define GUEST_MAX_REGIONS 4

struct guest {
	uint8_t *map;				/* the reservation, guard pages included */
	size_t map_len;
	uint32_t nregions;
	uint64_t region_size;			/* bytes per region, a page multiple */
	uint8_t *hva[GUEST_MAX_REGIONS];	/* our address of region i */
	uint64_t next;				/* bump allocator: next free gpa */
	struct vhu_mem *mem;			/* the table rings translate through */
};

/* Map 'nregions' regions of 'region_size' bytes (zeroed). Fails the test on error. */
void guest_init(struct guest *g, uint32_t nregions, uint64_t region_size);
void guest_fini(struct guest *g);

/* A copy of the memory table, for a device to own (and free on reset). */
struct vhu_mem *guest_mem_copy(const struct guest *g);

/* Guest-physical start of region 'i', and one past the last guest byte. */
uint64_t guest_region_gpa(const struct guest *g, uint32_t i);
/* Guest-physical address of our pointer 'p' into guest memory (fails the test if it is not). */
uint64_t guest_gpa_of(const struct guest *g, const void *p);
/* Is the page of guest address 'gpa' marked in the dirty log 'bitmap' (4 KiB pages)? */
bool log_page_dirty(const uint8_t *bitmap, uint64_t gpa);
uint64_t guest_end(const struct guest *g);

/* Reserve 'size' bytes aligned to 'align' inside one region; returns the gpa. */
uint64_t guest_alloc(struct guest *g, uint64_t size, uint64_t align);
/* Our address of guest byte 'gpa'; fails the test if it is not guest memory. */
void *guest_ptr(const struct guest *g, uint64_t gpa);
/* Copy to/from guest memory; the range may cross regions. */
void guest_write(const struct guest *g, uint64_t gpa, const void *src, uint64_t len);
void guest_read(const struct guest *g, uint64_t gpa, void *dst, uint64_t len);

/*
 * Lay out a split ring of 'size' entries (room for the event-index fields
 * included) and fill the data-path fields of 'vq' as vhu_vq_try_start() does
 * for a ring at index 0: INDIRECT_DESC on, EVENT_IDX and MRG_RXBUF off, a
 * 12-byte header, no call fd, ready.
 */
void guest_ring_init(struct guest *g, struct vhu_vq *vq, uint16_t size);
/* The same for a ring of any device type: the core's fields only. (The net
 * forms, guest_ring_init() and guest_packed_ring_init(), are in fake_dev.c.) */
void guest_split_ring_core(struct guest *g, struct vhu_vq *vq, uint16_t size);

/* Driver side: write descriptor 'i' of the ring's table. */
void drv_desc(struct vhu_vq *vq, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
	      uint16_t next);
/* Driver side: write entry 'i' of an indirect table at 'table' (our address). */
void drv_table(struct vring_desc *table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
	       uint16_t next);
/* Driver side: offer 'head' in the avail ring and bump avail->idx. */
void drv_avail(struct vhu_vq *vq, uint16_t head);

/* ---- packed rings ---- */

/* Largest packed ring the driver helpers track. */
#define PDRV_MAX_SIZE 1024

/* The driver's side of a packed ring (virtio 1.2, 2.8): its two positions. */
struct packed_drv {
	struct vhu_vq *vq;
	uint16_t avail_idx;	/* next slot the driver fills */
	bool avail_wrap;	/* its wrap counter */
	uint16_t used_idx;	/* next slot the driver expects a used descriptor in */
	bool used_wrap;		/* its wrap counter */
	uint16_t ndesc[PDRV_MAX_SIZE]; /* slots of the chain whose head is at each slot */
	uint16_t id[PDRV_MAX_SIZE];    /* buffer id of the chain whose head is at each slot */
};

/*
 * Lay out a packed ring of 'size' entries (descriptor ring, driver and device
 * event areas) and fill 'vq' as vhu_vq_try_start() does for a packed ring at
 * index 0 (INDIRECT_DESC on, EVENT_IDX and MRG_RXBUF off, 12-byte header, no
 * call fd, ready); 'd' is the driver's side, at slot 0 in wrap round 1.
 */
void guest_packed_ring_init(struct guest *g, struct vhu_vq *vq, uint16_t size,
			    struct packed_drv *d);
/* The same for a ring of any device type: the core's fields only. */
void guest_packed_ring_core(struct guest *g, struct vhu_vq *vq, uint16_t size,
			    struct packed_drv *d);

/*
 * Driver: make the 'n' descriptors of 'chain' available at the next slots,
 * as given (addr, len, id, and flags NEXT/WRITE/INDIRECT) plus the AVAIL/USED
 * bits of the driver's wrap round at each slot; the head's flags are stored
 * last, with release. Returns the head slot.
 */
uint16_t pdrv_post(struct packed_drv *d, const struct vring_packed_desc *chain, uint16_t n);

/*
 * Driver: take the next used descriptor if the device wrote one (its id and
 * len), moving past the chain posted there. False if there is none yet.
 */
bool pdrv_take_used(struct packed_drv *d, uint16_t *id, uint32_t *len);

/*
 * Driver under IN_ORDER: take the next used descriptor, which may stand for
 * several buffers (it carries the id of the last; the device skips the
 * slots of the ones before). *nbufs is how many buffers it returned. False
 * if there is none yet; fails the test if its id is not one outstanding.
 */
bool pdrv_take_used_in_order(struct packed_drv *d, uint16_t *id, uint32_t *len, uint16_t *nbufs);

/* Driver: the AVAIL/USED bits that make a slot available in wrap round 'wrap'. */
uint16_t pdrv_avail_flags(bool wrap);

#endif /* VHU_TEST_GUEST_H */
