/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio-blk request parsing (lib/vhost/blk/blk_req.c) over chains built
 * here: well-formed requests of every type, headers and statuses split
 * across buffers, and hostile chains (no status, short header, ranges past
 * the end or overflowing, bad lengths, unknown types and flags).
 */
#include <string.h>

#include "blk_req.h"
#include "test_harness.h"

#define CAPACITY 2048	/* sectors: 1 MiB */

static const struct vhu_blk_limits limits = {
	.capacity = CAPACITY,
	.seg_max = 8,
	.size_max = 65536,
	.max_discard_sectors = 1024,
	.max_discard_seg = 4,
	.max_write_zeroes_sectors = 1024,
	.max_write_zeroes_seg = 4,
	.flush = true,
	.discard = true,
	.write_zeroes = true,
};

/* Backing store for one chain: buffers carved from one array, in order. */
struct chain {
	uint8_t mem[65536];
	size_t used;
	struct iovec iov[16];
	uint32_t n_out, n_in;
	struct vhu_blk_req req;
};

static uint8_t *
chain_buf(struct chain *c, size_t len, bool writable)
{
	uint8_t *p = &c->mem[c->used];

	c->used += len;
	c->iov[c->n_out + c->n_in] = (struct iovec){ .iov_base = p, .iov_len = len };
	if (writable)
		c->n_in++;
	else
		c->n_out++;
	return p;
}

static void
chain_hdr(struct chain *c, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };

	memcpy(chain_buf(c, sizeof(h), false), &h, sizeof(h));
}

static void
chain_range(struct chain *c, uint64_t sector, uint32_t num, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes r = { .sector = sector, .num_sectors = num,
						     .flags = flags };

	memcpy(chain_buf(c, sizeof(r), false), &r, sizeof(r));
}

static enum vhu_blk_verdict
parse(struct chain *c)
{
	return vhu_blk_req_parse(&c->req, c->iov, c->n_out, c->n_in, &limits, "vhu-blk-test");
}

static struct chain *
chain_new(void)
{
	static struct chain c;

	memset(&c, 0, sizeof(c));
	return &c;
}

TEST(read_of_two_buffers_is_submitted_with_its_range)
{
	struct chain *c = chain_new();
	uint8_t *status;

	chain_hdr(c, VIRTIO_BLK_T_IN, 8);
	chain_buf(c, 4096, true);
	chain_buf(c, 512, true);
	status = chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_SUBMIT);
	ASSERT_EQ(c->req.type, VIRTIO_BLK_T_IN);
	ASSERT_EQ(c->req.offset, 8 * 512);
	ASSERT_EQ(c->req.len, 4608);
	ASSERT_EQ(c->req.ndata, 2);
	ASSERT_PTR_EQ(c->req.status, status);
}

TEST(write_with_header_data_and_status_sharing_buffers)
{
	struct chain *c = chain_new();
	struct virtio_blk_outhdr h = { .type = VIRTIO_BLK_T_OUT, .sector = 1 };
	uint8_t *out, *in;

	/* Header split 10 + 6 over two buffers, the second also holds 512 bytes of data. */
	out = chain_buf(c, 10, false);
	memcpy(out, &h, 10);
	out = chain_buf(c, 6 + 512, false);
	memcpy(out, (uint8_t *)&h + 10, 6);
	in = chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_SUBMIT);
	ASSERT_EQ(c->req.offset, 512);
	ASSERT_EQ(c->req.len, 512);
	ASSERT_EQ(c->req.ndata, 1);
	ASSERT_PTR_EQ(c->req.data[0].iov_base, out + 6);
	ASSERT_PTR_EQ(c->req.status, in);
	ASSERT_EQ(vhu_blk_req_used_len(&c->req), 1);
}

TEST(read_whose_status_shares_the_last_data_buffer)
{
	struct chain *c = chain_new();
	uint8_t *last;

	chain_hdr(c, VIRTIO_BLK_T_IN, 0);
	last = chain_buf(c, 1024 + 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_SUBMIT);
	ASSERT_EQ(c->req.len, 1024);
	ASSERT_PTR_EQ(c->req.status, last + 1024);
}

TEST(chain_without_a_writable_byte_is_broken)
{
	struct chain *c = chain_new();

	chain_hdr(c, VIRTIO_BLK_T_OUT, 0);
	chain_buf(c, 512, false);
	ASSERT_EQ(parse(c), VHU_BLK_BROKEN);
	ASSERT_NULL(c->req.status);
	ASSERT_STR_CONTAINS(c->req.why, "status");
}

TEST(chain_with_only_empty_writable_buffers_is_broken)
{
	struct chain *c = chain_new();

	chain_hdr(c, VIRTIO_BLK_T_IN, 0);
	chain_buf(c, 0, true);
	chain_buf(c, 0, true);
	ASSERT_EQ(parse(c), VHU_BLK_BROKEN);
}

TEST(header_shorter_than_16_bytes_is_broken)
{
	struct chain *c = chain_new();

	chain_buf(c, 12, false);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_BROKEN);
	ASSERT_STR_CONTAINS(c->req.why, "header");
}

TEST(write_to_a_read_only_device_is_an_io_error)
{
	struct vhu_blk_limits ro = limits;
	struct chain *c = chain_new();

	ro.read_only = true;
	chain_hdr(c, VIRTIO_BLK_T_OUT, 0);
	chain_buf(c, 512, false);
	chain_buf(c, 1, true);
	ASSERT_EQ(vhu_blk_req_parse(&c->req, c->iov, c->n_out, c->n_in, &ro, NULL), VHU_BLK_DONE);
	ASSERT_EQ(c->req.status_value, VIRTIO_BLK_S_IOERR);
	ASSERT_STR_CONTAINS(c->req.why, "read-only");
}

TEST(data_not_a_multiple_of_512_is_an_io_error)
{
	struct chain *c = chain_new();

	chain_hdr(c, VIRTIO_BLK_T_IN, 0);
	chain_buf(c, 700, true);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_DONE);
	ASSERT_EQ(c->req.status_value, VIRTIO_BLK_S_IOERR);
	ASSERT_EQ(vhu_blk_req_used_len(&c->req), 1);
}

TEST(read_ending_exactly_at_the_capacity_is_submitted)
{
	struct chain *c = chain_new();

	chain_hdr(c, VIRTIO_BLK_T_IN, CAPACITY - 2);
	chain_buf(c, 1024, true);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_SUBMIT);
}

TEST(read_one_sector_past_the_capacity_is_an_io_error)
{
	struct chain *c = chain_new();

	chain_hdr(c, VIRTIO_BLK_T_IN, CAPACITY - 1);
	chain_buf(c, 1024, true);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_DONE);
	ASSERT_EQ(c->req.status_value, VIRTIO_BLK_S_IOERR);
	ASSERT_STR_CONTAINS(c->req.why, "past the end");
}

TEST(sector_that_would_overflow_the_offset_is_an_io_error)
{
	struct chain *c = chain_new();

	chain_hdr(c, VIRTIO_BLK_T_OUT, UINT64_MAX - 1);
	chain_buf(c, 1024, false);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_DONE);
	ASSERT_EQ(c->req.status_value, VIRTIO_BLK_S_IOERR);
}

TEST(more_segments_than_seg_max_is_an_io_error)
{
	struct chain *c = chain_new();
	int i;

	chain_hdr(c, VIRTIO_BLK_T_IN, 0);
	for (i = 0; i < 9; i++)
		chain_buf(c, 512, true);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_DONE);
	ASSERT_STR_CONTAINS(c->req.why, "seg_max");
}

TEST(read_with_readable_data_after_its_header_is_an_io_error)
{
	struct chain *c = chain_new();

	chain_hdr(c, VIRTIO_BLK_T_IN, 0);
	chain_buf(c, 512, false);
	chain_buf(c, 512, true);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_DONE);
	ASSERT_EQ(c->req.status_value, VIRTIO_BLK_S_IOERR);
}

TEST(flush_is_submitted_when_negotiated_and_unsupported_when_not)
{
	struct vhu_blk_limits noflush = limits;
	struct chain *c = chain_new();

	chain_hdr(c, VIRTIO_BLK_T_FLUSH, 0);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_SUBMIT);
	noflush.flush = false;
	c = chain_new();
	chain_hdr(c, VIRTIO_BLK_T_FLUSH, 0);
	chain_buf(c, 1, true);
	ASSERT_EQ(vhu_blk_req_parse(&c->req, c->iov, c->n_out, c->n_in, &noflush, NULL),
		  VHU_BLK_DONE);
	ASSERT_EQ(c->req.status_value, VIRTIO_BLK_S_UNSUPP);
}

TEST(get_id_writes_the_id_padded_to_20_bytes)
{
	static const uint8_t want[VIRTIO_BLK_ID_BYTES] = "vhu-blk-test";
	struct chain *c = chain_new();
	uint8_t *id;

	chain_hdr(c, VIRTIO_BLK_T_GET_ID, 0);
	id = chain_buf(c, VIRTIO_BLK_ID_BYTES, true);
	memset(id, 0xaa, VIRTIO_BLK_ID_BYTES);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_DONE);
	ASSERT_EQ(c->req.status_value, VIRTIO_BLK_S_OK);
	ASSERT_MEM_EQ(id, want, VIRTIO_BLK_ID_BYTES);
	ASSERT_EQ(vhu_blk_req_used_len(&c->req), VIRTIO_BLK_ID_BYTES + 1);
}

TEST(get_id_into_a_short_buffer_is_cut)
{
	struct chain *c = chain_new();
	uint8_t *id;

	chain_hdr(c, VIRTIO_BLK_T_GET_ID, 0);
	id = chain_buf(c, 9, true);	/* 8 bytes of id, then the status */
	ASSERT_EQ(parse(c), VHU_BLK_DONE);
	ASSERT_MEM_EQ(id, "vhu-blk-", 8);
	ASSERT_EQ(c->req.written, 8);
}

TEST(unknown_request_type_is_unsupported)
{
	struct chain *c = chain_new();

	chain_hdr(c, 0x7777, 0);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_DONE);
	ASSERT_EQ(c->req.status_value, VIRTIO_BLK_S_UNSUPP);
}

TEST(discard_of_two_ranges_is_submitted_in_bytes)
{
	struct chain *c = chain_new();

	chain_hdr(c, VIRTIO_BLK_T_DISCARD, 0);
	chain_range(c, 16, 8, 0);
	chain_range(c, 100, 1024, 0);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_SUBMIT);
	ASSERT_EQ(c->req.nranges, 2);
	ASSERT_EQ(c->req.ranges[0].offset, 16 * 512);
	ASSERT_EQ(c->req.ranges[0].len, 8 * 512);
	ASSERT_EQ(c->req.ranges[1].offset, 100 * 512);
	ASSERT_EQ(c->req.ranges[1].len, 1024 * 512);
}

TEST(discard_with_the_unmap_flag_is_unsupported)
{
	struct chain *c = chain_new();

	chain_hdr(c, VIRTIO_BLK_T_DISCARD, 0);
	chain_range(c, 0, 8, VIRTIO_BLK_WZ_F_UNMAP);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_DONE);
	ASSERT_EQ(c->req.status_value, VIRTIO_BLK_S_UNSUPP);
}

TEST(write_zeroes_with_unmap_is_submitted_with_unmap)
{
	struct chain *c = chain_new();

	chain_hdr(c, VIRTIO_BLK_T_WRITE_ZEROES, 0);
	chain_range(c, 0, 8, VIRTIO_BLK_WZ_F_UNMAP);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_SUBMIT);
	ASSERT_TRUE(c->req.ranges[0].unmap);
}

TEST(write_zeroes_with_an_unknown_flag_is_unsupported)
{
	struct chain *c = chain_new();

	chain_hdr(c, VIRTIO_BLK_T_WRITE_ZEROES, 0);
	chain_range(c, 0, 8, 0x80);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_DONE);
	ASSERT_EQ(c->req.status_value, VIRTIO_BLK_S_UNSUPP);
}

TEST(range_past_the_end_or_too_long_or_too_many_is_an_io_error)
{
	struct chain *c = chain_new();
	int i;

	chain_hdr(c, VIRTIO_BLK_T_DISCARD, 0);
	chain_range(c, CAPACITY - 4, 8, 0);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_DONE);
	ASSERT_EQ(c->req.status_value, VIRTIO_BLK_S_IOERR);

	c = chain_new();
	chain_hdr(c, VIRTIO_BLK_T_DISCARD, 0);
	chain_range(c, 0, 1025, 0);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_DONE);
	ASSERT_STR_CONTAINS(c->req.why, "longer");

	c = chain_new();
	chain_hdr(c, VIRTIO_BLK_T_DISCARD, 0);
	for (i = 0; i < 5; i++)
		chain_range(c, (uint64_t)i * 8, 8, 0);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_DONE);
	ASSERT_STR_CONTAINS(c->req.why, "more ranges");

	c = chain_new();
	chain_hdr(c, VIRTIO_BLK_T_WRITE_ZEROES, 0);
	chain_range(c, UINT64_MAX - 3, 8, 0);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_DONE);
	ASSERT_EQ(c->req.status_value, VIRTIO_BLK_S_IOERR);
}

TEST(range_data_not_a_whole_number_of_ranges_is_an_io_error)
{
	struct chain *c = chain_new();

	chain_hdr(c, VIRTIO_BLK_T_DISCARD, 0);
	chain_buf(c, 20, false);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_DONE);
	ASSERT_EQ(c->req.status_value, VIRTIO_BLK_S_IOERR);
	c = chain_new();
	chain_hdr(c, VIRTIO_BLK_T_DISCARD, 0);
	chain_buf(c, 1, true);
	ASSERT_EQ(parse(c), VHU_BLK_DONE);
	ASSERT_EQ(c->req.status_value, VIRTIO_BLK_S_IOERR);
}

TEST(discard_not_negotiated_or_on_a_read_only_device_is_refused)
{
	struct vhu_blk_limits l = limits;
	struct chain *c = chain_new();

	l.discard = false;
	chain_hdr(c, VIRTIO_BLK_T_DISCARD, 0);
	chain_range(c, 0, 8, 0);
	chain_buf(c, 1, true);
	ASSERT_EQ(vhu_blk_req_parse(&c->req, c->iov, c->n_out, c->n_in, &l, NULL), VHU_BLK_DONE);
	ASSERT_EQ(c->req.status_value, VIRTIO_BLK_S_UNSUPP);

	l = limits;
	l.read_only = true;
	c = chain_new();
	chain_hdr(c, VIRTIO_BLK_T_WRITE_ZEROES, 0);
	chain_range(c, 0, 8, 0);
	chain_buf(c, 1, true);
	ASSERT_EQ(vhu_blk_req_parse(&c->req, c->iov, c->n_out, c->n_in, &l, NULL), VHU_BLK_DONE);
	ASSERT_EQ(c->req.status_value, VIRTIO_BLK_S_IOERR);
}

TEST(iov_copies_cross_buffer_boundaries_and_stop_at_the_end)
{
	uint8_t a[3] = { 1, 2, 3 }, b[4] = { 4, 5, 6, 7 }, out[8] = { 0 };
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	static const uint8_t want[5] = { 2, 3, 4, 5, 6 };

	ASSERT_EQ(vhu_iov_to_buf(iov, 2, 1, out, 5), 5);
	ASSERT_MEM_EQ(out, want, 5);
	ASSERT_EQ(vhu_iov_to_buf(iov, 2, 5, out, 8), 2);
	ASSERT_EQ(vhu_iov_from_buf(iov, 2, 2, want, 5), 5);
	ASSERT_EQ(a[2], 2);
	ASSERT_EQ(b[3], 6);
	ASSERT_EQ(vhu_iov_from_buf(iov, 2, 7, want, 1), 0);
}
