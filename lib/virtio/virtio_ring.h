/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Virtqueue layouts shared by the backend and the frontend (virtio 1.2,
 * sections 2.7 "Split Virtqueues" and 2.8 "Packed Virtqueues"). Everything
 * here is little-endian on the wire; vhu runs on little-endian hosts only
 * (checked at build time), so fields are used directly.
 */
#ifndef VHU_VIRTIO_RING_H
#define VHU_VIRTIO_RING_H

#include <stdbool.h>
#include <stdint.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vhu supports little-endian hosts only"
#endif

/* Descriptor flags, common to both layouts. */
#define VRING_DESC_F_NEXT	1	/* chain continues in 'next' (split only) */
#define VRING_DESC_F_WRITE	2	/* device writes this buffer */
#define VRING_DESC_F_INDIRECT	4	/* buffer holds a descriptor table */
/* Packed layout only. */
#define VRING_PACKED_DESC_F_AVAIL (1u << 7)
#define VRING_PACKED_DESC_F_USED  (1u << 15)

/* Split ring notification suppression flags. */
#define VRING_USED_F_NO_NOTIFY		1 /* device: don't kick me */
#define VRING_AVAIL_F_NO_INTERRUPT	1 /* driver: don't interrupt me */

/* Largest queue size the spec allows for a split ring (2.7). */
#define VIRTQ_MAX_SIZE 32768

struct vring_desc {
	uint64_t addr;	/* guest address of the buffer */
	uint32_t len;	/* buffer length in bytes */
	uint16_t flags;	/* VRING_DESC_F_* */
	uint16_t next;	/* index of the next descriptor when F_NEXT */
};

struct vring_avail {
	uint16_t flags;	/* VRING_AVAIL_F_* */
	uint16_t idx;	/* free-running count of heads the driver offered */
	uint16_t ring[];/* heads; followed by used_event when EVENT_IDX */
};

struct vring_used_elem {
	uint32_t id;	/* head index of the chain the device returns */
	uint32_t len;	/* bytes the device wrote into the chain */
};

struct vring_used {
	uint16_t flags;	/* VRING_USED_F_* */
	uint16_t idx;	/* free-running count of chains the device returned */
	struct vring_used_elem ring[]; /* followed by avail_event when EVENT_IDX */
};

/* Packed descriptor (2.8.13). */
struct vring_packed_desc {
	uint64_t addr;	/* guest address of the buffer */
	uint32_t len;	/* buffer length (driver) or bytes written (device) */
	uint16_t id;	/* buffer id, echoed back by the device */
	uint16_t flags;	/* VRING_DESC_F_* and the AVAIL/USED wrap bits */
};

/* Packed event suppression structure (2.8.14). */
#define VRING_PACKED_EVENT_FLAG_ENABLE	0
#define VRING_PACKED_EVENT_FLAG_DISABLE	1
#define VRING_PACKED_EVENT_FLAG_DESC	2
struct vring_packed_event {
	uint16_t off_wrap;	/* event offset and wrap counter (bit 15) */
	uint16_t flags;		/* VRING_PACKED_EVENT_FLAG_* */
};

/* Byte sizes of the three split areas for a queue of 'num' entries. */
static inline uint64_t
vring_desc_size(uint32_t num)
{
	return (uint64_t)num * sizeof(struct vring_desc);
}

static inline uint64_t
vring_avail_size(uint32_t num, bool event_idx)
{
	return sizeof(struct vring_avail) + (uint64_t)num * sizeof(uint16_t) +
	       (event_idx ? sizeof(uint16_t) : 0);
}

static inline uint64_t
vring_used_size(uint32_t num, bool event_idx)
{
	return sizeof(struct vring_used) + (uint64_t)num * sizeof(struct vring_used_elem) +
	       (event_idx ? sizeof(uint16_t) : 0);
}

/* used_event lives just past the avail ring, avail_event just past the used ring. */
static inline uint16_t *
vring_used_event(struct vring_avail *avail, uint32_t num)
{
	return &avail->ring[num];
}

static inline uint16_t *
vring_avail_event(struct vring_used *used, uint32_t num)
{
	return (uint16_t *)&used->ring[num];
}

/*
 * True when moving the index from 'old_idx' to 'new_idx' passes 'event_idx',
 * i.e. the other side asked to be notified somewhere in that window
 * (2.7.7.2). All arithmetic is modulo 2^16.
 */
static inline bool
vring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

#endif /* VHU_VIRTIO_RING_H */
