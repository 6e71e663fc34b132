/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio-blk request parsing (blk_req.h). The rules follow virtio 1.2,
 * 5.2.6: the status answers every request that has a place for it; a request
 * the device cannot carry out gets IOERR (bad range, bad length, a write to a
 * read-only device) or UNSUPP (a type or flag the device does not have); only
 * a chain without a header or without a status byte breaks the ring, because
 * nothing can be answered on it.
 */
#include <stddef.h>
#include <string.h>

#include <rte_common.h>

#include "blk_req.h"

/* Copy between 'buf' and the iovec array from byte 'off': into the array if 'into'. */
static uint64_t
iov_copy(const struct iovec *iov, uint32_t n, uint64_t off, uint8_t *buf, uint64_t len,
	 bool into)
{
	uint64_t done = 0;
	uint32_t i;

	for (i = 0; i < n && done < len; i++) {
		uint8_t *piece = iov[i].iov_base;
		uint64_t take;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		take = RTE_MIN(iov[i].iov_len - off, len - done);
		if (into)
			memcpy(piece + off, buf + done, take);
		else
			memcpy(buf + done, piece + off, take);
		done += take;
		off = 0;
	}
	return done;
}

uint64_t
vhu_iov_to_buf(const struct iovec *iov, uint32_t n, uint64_t off, void *buf, uint64_t len)
{
	return iov_copy(iov, n, off, buf, len, false);
}

uint64_t
vhu_iov_from_buf(const struct iovec *iov, uint32_t n, uint64_t off, const void *buf, uint64_t len)
{
	return iov_copy(iov, n, off, (uint8_t *)(uintptr_t)buf, len, true);
}

static uint64_t
iov_total(const struct iovec *iov, uint32_t n)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		sum += iov[i].iov_len;	/* at most 2^32 pieces of under 2^32 bytes: no overflow */
	return sum;
}

/*
 * Drop the first 'len' bytes of iov[0 .. *n) in place: whole entries are
 * skipped by moving *first, a partial one is shortened from the front.
 */
static void
iov_trim_front(struct iovec *iov, uint32_t *first, uint32_t end, uint64_t len)
{
	while (len > 0 && *first < end) {
		struct iovec *v = &iov[*first];

		if (v->iov_len > len) {
			v->iov_base = (uint8_t *)v->iov_base + len;
			v->iov_len -= len;
			return;
		}
		len -= v->iov_len;
		(*first)++;
	}
}

/*
 * The writable part's last byte is the status: take it off iov[first .. *end),
 * with the empty entries after it.
 */
static uint8_t *
iov_take_last_byte(struct iovec *iov, uint32_t first, uint32_t *end)
{
	while (*end > first) {
		struct iovec *v = &iov[*end - 1];

		if (v->iov_len > 0) {
			uint8_t *status = (uint8_t *)v->iov_base + v->iov_len - 1;

			/* A buffer that held only the status is no data buffer. */
			if (--v->iov_len == 0)
				(*end)--;
			return status;
		}
		(*end)--;
	}
	return NULL;
}

static enum vhu_blk_verdict
req_done(struct vhu_blk_req *req, uint8_t status, const char *why)
{
	req->status_value = status;
	req->why = why;
	return VHU_BLK_DONE;
}

/* True if [sector, sector + count) lies inside the device. */
static bool
range_fits(const struct vhu_blk_limits *lim, uint64_t sector, uint64_t count)
{
	return sector <= lim->capacity && count <= lim->capacity - sector;
}

static enum vhu_blk_verdict
parse_rw(struct vhu_blk_req *req, const struct vhu_blk_limits *lim, uint64_t sector,
	 uint64_t other_bytes)
{
	uint32_t i;

	if (other_bytes != 0)
		return req_done(req, VIRTIO_BLK_S_IOERR,
				req->type == VIRTIO_BLK_T_IN ?
					"read request with device-readable data after its header" :
					"write request with device-writable data before its status");
	if (req->type == VIRTIO_BLK_T_OUT && lim->read_only)
		return req_done(req, VIRTIO_BLK_S_IOERR, "write to a read-only device");
	if ((req->len & (VIRTIO_BLK_SECTOR_SIZE - 1)) != 0)
		return req_done(req, VIRTIO_BLK_S_IOERR, "data length not a multiple of 512");
	if (!range_fits(lim, sector, req->len >> VIRTIO_BLK_SECTOR_SHIFT))
		return req_done(req, VIRTIO_BLK_S_IOERR, "sector range past the end of the device");
	if (lim->seg_max != 0 && req->ndata > lim->seg_max)
		return req_done(req, VIRTIO_BLK_S_IOERR, "more data segments than seg_max");
	if (lim->size_max != 0)
		for (i = 0; i < req->ndata; i++)
			if (req->data[i].iov_len > lim->size_max)
				return req_done(req, VIRTIO_BLK_S_IOERR,
						"a data segment larger than size_max");
	req->offset = sector << VIRTIO_BLK_SECTOR_SHIFT;
	return VHU_BLK_SUBMIT;
}

static enum vhu_blk_verdict
parse_ranges(struct vhu_blk_req *req, const struct vhu_blk_limits *lim, uint64_t other_bytes)
{
	bool discard = req->type == VIRTIO_BLK_T_DISCARD;
	uint32_t max_seg = discard ? lim->max_discard_seg : lim->max_write_zeroes_seg;
	uint32_t max_sectors = discard ? lim->max_discard_sectors : lim->max_write_zeroes_sectors;
	uint32_t i, n;

	if (!(discard ? lim->discard : lim->write_zeroes))
		return req_done(req, VIRTIO_BLK_S_UNSUPP, discard ? "DISCARD not negotiated" :
								    "WRITE_ZEROES not negotiated");
	if (other_bytes != 0)
		return req_done(req, VIRTIO_BLK_S_IOERR, "range request with device-writable data");
	if (lim->read_only)
		return req_done(req, VIRTIO_BLK_S_IOERR, "discard or write-zeroes on a read-only "
							 "device");
	if (req->len == 0 || req->len % sizeof(struct virtio_blk_discard_write_zeroes) != 0)
		return req_done(req, VIRTIO_BLK_S_IOERR, "range data not a whole number of ranges");
	n = (uint32_t)RTE_MIN(req->len / sizeof(struct virtio_blk_discard_write_zeroes),
			      (uint64_t)UINT32_MAX);
	if (n > RTE_MIN(max_seg, (uint32_t)VHU_BLK_MAX_RANGES))
		return req_done(req, VIRTIO_BLK_S_IOERR, "more ranges than the device offers");
	for (i = 0; i < n; i++) {
		struct virtio_blk_discard_write_zeroes r;

		vhu_iov_to_buf(req->data, req->ndata, (uint64_t)i * sizeof(r), &r, sizeof(r));
		if ((r.flags & ~VIRTIO_BLK_WZ_F_UNMAP) != 0 ||
		    (discard && (r.flags & VIRTIO_BLK_WZ_F_UNMAP) != 0))
			return req_done(req, VIRTIO_BLK_S_UNSUPP, "range with unknown flags");
		if (r.num_sectors > max_sectors)
			return req_done(req, VIRTIO_BLK_S_IOERR, "range longer than the device offers");
		if (!range_fits(lim, r.sector, r.num_sectors))
			return req_done(req, VIRTIO_BLK_S_IOERR, "range past the end of the device");
		req->ranges[i].offset = r.sector << VIRTIO_BLK_SECTOR_SHIFT;
		req->ranges[i].len = (uint64_t)r.num_sectors << VIRTIO_BLK_SECTOR_SHIFT;
		req->ranges[i].unmap = (r.flags & VIRTIO_BLK_WZ_F_UNMAP) != 0;
	}
	req->nranges = n;
	return VHU_BLK_SUBMIT;
}

enum vhu_blk_verdict
vhu_blk_req_parse(struct vhu_blk_req *req, struct iovec *iov, uint32_t n_out, uint32_t n_in,
		  const struct vhu_blk_limits *lim, const char *id)
{
	struct virtio_blk_outhdr hdr;
	uint32_t out_first = 0, in_end = n_out + n_in;
	uint64_t out_bytes, in_bytes;
	char idbuf[VIRTIO_BLK_ID_BYTES];

	memset(req, 0, offsetof(struct vhu_blk_req, ranges));
	req->status = iov_take_last_byte(iov, n_out, &in_end);
	if (req->status == NULL) {
		req->why = "no device-writable byte for the status";
		return VHU_BLK_BROKEN;
	}
	if (vhu_iov_to_buf(iov, n_out, 0, &hdr, sizeof(hdr)) != sizeof(hdr)) {
		req->status = NULL;
		req->why = "device-readable part shorter than the 16-byte header";
		return VHU_BLK_BROKEN;
	}
	iov_trim_front(iov, &out_first, n_out, sizeof(hdr));
	out_bytes = iov_total(&iov[out_first], n_out - out_first);
	in_bytes = iov_total(&iov[n_out], in_end - n_out);
	req->type = hdr.type;

	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		req->data = &iov[n_out];
		req->ndata = in_end - n_out;
		req->len = in_bytes;
		return parse_rw(req, lim, hdr.sector, out_bytes);
	case VIRTIO_BLK_T_OUT:
		req->data = &iov[out_first];
		req->ndata = n_out - out_first;
		req->len = out_bytes;
		return parse_rw(req, lim, hdr.sector, in_bytes);
	case VIRTIO_BLK_T_FLUSH:
		if (!lim->flush)
			return req_done(req, VIRTIO_BLK_S_UNSUPP, "FLUSH not negotiated");
		return VHU_BLK_SUBMIT;
	case VIRTIO_BLK_T_GET_ID:
		/* The id is NUL-padded to 20 bytes, and cut to a shorter buffer. */
		memset(idbuf, 0, sizeof(idbuf));
		if (id != NULL)
			memcpy(idbuf, id, strnlen(id, sizeof(idbuf)));
		req->data = &iov[n_out];
		req->ndata = in_end - n_out;
		req->written = (uint32_t)vhu_iov_from_buf(&iov[n_out], in_end - n_out, 0, idbuf,
							  sizeof(idbuf));
		return req_done(req, VIRTIO_BLK_S_OK, NULL);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		req->data = &iov[out_first];
		req->ndata = n_out - out_first;
		req->len = out_bytes;
		return parse_ranges(req, lim, in_bytes);
	default:
		return req_done(req, VIRTIO_BLK_S_UNSUPP, "request type not supported");
	}
}
