/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio-blk request parsing: from a chain's buffers, already translated into
 * our address space, to a checked request the block device can carry out.
 * Pure functions over iovecs, no ring and no I/O, so every rule is unit-tested
 * with hostile chains (test/unit/test_blk_req.c).
 *
 * A chain is the device-readable buffers followed by the device-writable ones
 * (the order virtio requires). The first 16 readable bytes are the header and
 * the last writable byte is the status, wherever the descriptors split them.
 * Every value in the chain is the guest's and hostile: lengths are summed in
 * 64 bits, sector ranges are checked against the capacity without overflow,
 * and the parser never reads or writes outside the buffers it is given.
 */
#ifndef VHU_BLK_REQ_H
#define VHU_BLK_REQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio_blk.h"

/* Most discard or write-zeroes ranges one request may carry; the device offers
 * this as max_discard_seg and max_write_zeroes_seg (QEMU offers 1). */
#define VHU_BLK_MAX_RANGES 32

/* What the device offers and the driver negotiated, as the parser needs it. */
struct vhu_blk_limits {
	uint64_t capacity;		/* 512-byte sectors */
	uint32_t seg_max;		/* most data buffers in a request; 0: no limit */
	uint32_t size_max;		/* largest data buffer in bytes; 0: no limit */
	uint32_t max_discard_sectors;	/* per range */
	uint32_t max_discard_seg;	/* ranges per request */
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	bool read_only;			/* VIRTIO_BLK_F_RO offered: refuse writes */
	bool flush;			/* VIRTIO_BLK_F_FLUSH negotiated */
	bool discard;			/* VIRTIO_BLK_F_DISCARD negotiated */
	bool write_zeroes;		/* VIRTIO_BLK_F_WRITE_ZEROES negotiated */
};

/* What to do with a parsed request. */
enum vhu_blk_verdict {
	VHU_BLK_SUBMIT,		/* valid: do the I/O, then write the status */
	VHU_BLK_DONE,		/* answered by the parser: write req->status_value now */
	VHU_BLK_BROKEN,		/* no header or no status byte: the chain is malformed,
				 * nothing can be answered; latch the ring broken */
};

/* One range of a DISCARD or WRITE_ZEROES request, checked, in bytes. */
struct vhu_blk_range {
	uint64_t offset;
	uint64_t len;
	bool unmap;		/* WRITE_ZEROES may deallocate */
};

/*
 * A parsed request. 'data' points into the caller's iovec array (the parser
 * trims the header and the status off it in place), so the array must live
 * as long as the request.
 */
struct vhu_blk_req {
	uint32_t type;		/* VIRTIO_BLK_T_* */
	uint64_t offset;	/* IN, OUT: byte offset in the device */
	uint64_t len;		/* IN, OUT: data bytes */
	struct iovec *data;	/* IN, OUT, GET_ID (the id written): the data buffers */
	uint32_t ndata;		/* entries in 'data' */
	uint8_t *status;	/* the status byte in guest memory; NULL when BROKEN */
	uint8_t status_value;	/* DONE: VIRTIO_BLK_S_* to write */
	uint32_t written;	/* bytes of data the device wrote into the guest's buffers
				 * (IN, GET_ID), for the used length, status excluded */
	uint32_t nranges;	/* DISCARD, WRITE_ZEROES: entries in 'ranges' */
	struct vhu_blk_range ranges[VHU_BLK_MAX_RANGES];
	const char *why;	/* DONE with an error or BROKEN: what was wrong, for logs */
};

/*
 * Parse the chain iov[0 .. n_out) (device-readable) then
 * iov[n_out .. n_out + n_in) (device-writable). Trims the header and status
 * off the array in place. GET_ID is answered here from 'id' (up to
 * VIRTIO_BLK_ID_BYTES bytes, NUL-padded) and returns DONE; so are requests
 * that must fail (IOERR, UNSUPP), with the reason in req->why.
 */
enum vhu_blk_verdict vhu_blk_req_parse(struct vhu_blk_req *req, struct iovec *iov,
				       uint32_t n_out, uint32_t n_in,
				       const struct vhu_blk_limits *lim, const char *id);

/* Bytes the device wrote into the chain for a completed request, status included. */
static inline uint32_t
vhu_blk_req_used_len(const struct vhu_blk_req *req)
{
	return req->written + 1;
}

/* Copy 'len' bytes out of an iovec array from byte 'off'; returns bytes copied. */
uint64_t vhu_iov_to_buf(const struct iovec *iov, uint32_t n, uint64_t off, void *buf,
			uint64_t len);
/* Copy 'len' bytes into an iovec array from byte 'off'; returns bytes copied. */
uint64_t vhu_iov_from_buf(const struct iovec *iov, uint32_t n, uint64_t off, const void *buf,
			  uint64_t len);

#endif /* VHU_BLK_REQ_H */
