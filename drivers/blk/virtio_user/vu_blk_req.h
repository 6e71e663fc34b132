/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pure part of the virtio-blk driver: how a request is laid out in the
 * slot's area of shared memory and cut into descriptors (header, data
 * segments, status byte), and which completions make sense. No rings, no
 * sockets: the unit tests use it as it is.
 */
#ifndef VHU_VU_BLK_REQ_H
#define VHU_VU_BLK_REQ_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio_blk.h"
#include "virtio_ring.h"
#include "vu_private.h"
#include "vu_split.h"

/* Indirect descriptors a slot's area holds after the header and status. */
#define VU_BLK_IND_MAX ((VU_TX_AREA_SIZE - 32) / 16)
/* Written into the status byte before a request goes out: a device that
 * completes it without writing its status leaves it there. */
#define VU_BLK_STATUS_UNSET 0xffu

/* A request slot's area: the driver-written header, the device-written
 * status byte, and the indirect table, laid over struct vu_tx_area. */
struct vu_blk_area {
	struct virtio_blk_outhdr hdr;		 /* the device reads it */
	uint8_t status;				 /* the device writes it */
	uint8_t pad[15];			 /* keeps the table 16-byte aligned */
	struct vring_desc table[VU_BLK_IND_MAX]; /* split and packed entries are both 16 bytes */
};
_Static_assert(sizeof(struct vu_blk_area) == VU_TX_AREA_SIZE,
	       "a blk slot area fills a front-end slot area exactly");

/* What the device and the ring allow a request. */
struct vu_blk_limits {
	uint32_t size_max;   /* largest data segment (0: none beyond the buffer) */
	uint32_t seg_max;    /* most data segments (0: no limit of the device's) */
	uint16_t max_pieces; /* most descriptors, header and status included */
};

/* Does the device write the data of a request of 'type'? */
static inline bool
vu_blk_type_reads_device(uint32_t type)
{
	return type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
}

/*
 * Describe a request as pieces: header (device reads), data cut at
 * size_max (device writes it for IN and GET_ID), status byte (device
 * writes). Fills *writable with the bytes the device may write. Returns
 * the piece count, or -EINVAL with *why set: an unknown type, a data
 * length that does not suit the type, or more segments than the limits.
 */
static inline int
vu_blk_pieces(const struct vu_blk_limits *lim, uint32_t type, uint64_t hdr_iova, uint64_t data_iova,
	      uint32_t len, uint64_t status_iova, struct vu_piece *pc, uint32_t *writable,
	      const char **why)
{
	uint16_t data_flags = vu_blk_type_reads_device(type) ? VRING_DESC_F_WRITE : 0;
	uint32_t seg = lim->size_max != 0 ? lim->size_max : UINT32_MAX, off, segs = 0;
	int n = 0;

	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (len == 0 || len % VIRTIO_BLK_SECTOR_SIZE != 0) {
			*why = "data length is not a positive multiple of 512";
			return -EINVAL;
		}
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (len != 0) {
			*why = "a flush carries no data";
			return -EINVAL;
		}
		break;
	case VIRTIO_BLK_T_GET_ID:
		if (len != VIRTIO_BLK_ID_BYTES) {
			*why = "GET_ID takes a 20-byte buffer";
			return -EINVAL;
		}
		break;
	default:
		*why = "request type is not IN, OUT, FLUSH or GET_ID";
		return -EINVAL;
	}
	pc[n++] = (struct vu_piece){ .addr = hdr_iova, .len = sizeof(struct virtio_blk_outhdr) };
	*writable = 1;
	for (off = 0; off < len; off += seg) {
		uint32_t l = len - off < seg ? len - off : seg;

		if (++segs > (lim->seg_max != 0 ? lim->seg_max : UINT32_MAX) ||
		    n + 2 > lim->max_pieces) {
			*why = "more data segments than the device takes (seg_max, size_max) or "
			       "a descriptor table holds";
			return -EINVAL;
		}
		pc[n++] =
			(struct vu_piece){ .addr = data_iova + off, .len = l, .flags = data_flags };
		if (data_flags != 0)
			*writable += l;
	}
	pc[n++] = (struct vu_piece){ .addr = status_iova, .len = 1, .flags = VRING_DESC_F_WRITE };
	return n;
}

/*
 * Check a completion's status byte: NULL when it makes sense, else why not,
 * to follow "status byte 0x..". The used length was already checked against
 * the bytes the device may write by the ring's take.
 */
static inline const char *
vu_blk_done_check(uint8_t status)
{
	if (status == VU_BLK_STATUS_UNSET)
		return "was never written";
	if (status > VIRTIO_BLK_S_UNSUPP)
		return "is not OK, IOERR or UNSUPP";
	return NULL;
}

#endif /* VHU_VU_BLK_REQ_H */
