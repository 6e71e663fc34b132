/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-blk's block backends (app/vhu-blk/bdev*.c): every request type on the
 * malloc disk and on an image file, through io_uring both with O_DIRECT
 * (where the file system under $TMPDIR allows it) and through the page
 * cache, the fallbacks for file systems that cannot zero or punch ranges,
 * and refusals (read-only image, missing or empty image).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bdev.h"
#include "test_harness.h"

#define DISK_SIZE (4u << 20)

static char image_path[256];
static char why[256];

/* A fresh image of DISK_SIZE bytes whose every byte is 0x5a. */
static const char *
make_image(void)
{
	const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	static uint8_t fill[65536];
	uint32_t off;
	int fd;

	snprintf(image_path, sizeof(image_path), "%s/vhu-test-bdev.XXXXXX", dir);
	fd = mkstemp(image_path);
	ASSERT_TRUE(fd >= 0);
	memset(fill, 0x5a, sizeof(fill));
	for (off = 0; off < DISK_SIZE; off += sizeof(fill))
		ASSERT_EQ(pwrite(fd, fill, sizeof(fill), off), (ssize_t)sizeof(fill));
	close(fd);
	return image_path;
}

struct waiter {
	struct bdev_io io;
	bool done;
	int result;
};

static void
waiter_done(struct bdev_io *io, int result)
{
	struct waiter *w = (struct waiter *)io;

	w->done = true;
	w->result = result;
}

/* Run one request to completion; returns its result. */
static int
run(struct bdev_queue *q, const struct vhu_blk_req *req)
{
	struct waiter w = { .io = { .req = req, .done = waiter_done } };
	int spins = 0;

	ASSERT_TRUE(bdev_queue_has_room(q, bdev_io_ops(q->bdev, req)));
	bdev_submit(q, &w.io);
	while (!w.done) {
		bdev_poll(q);
		ASSERT_LT(spins++, 10 * 1000 * 1000);
	}
	ASSERT_EQ(q->inflight, 0);
	return w.result;
}

static struct vhu_blk_req *
rw(uint32_t type, uint64_t offset, void *buf, uint64_t len)
{
	static struct vhu_blk_req req;
	static struct iovec iov[2];

	memset(&req, 0, sizeof(req));
	req.type = type;
	req.offset = offset;
	req.len = len;
	/* Two buffers, to exercise vectored I/O. */
	iov[0] = (struct iovec){ buf, len / 2 };
	iov[1] = (struct iovec){ (uint8_t *)buf + len / 2, len - len / 2 };
	req.data = iov;
	req.ndata = 2;
	return &req;
}

static struct vhu_blk_req *
ranges(uint32_t type, uint64_t offset, uint64_t len, bool unmap)
{
	static struct vhu_blk_req req;

	memset(&req, 0, sizeof(req));
	req.type = type;
	req.nranges = 2;
	req.ranges[0] = (struct vhu_blk_range){ offset, len, unmap };
	req.ranges[1] = (struct vhu_blk_range){ offset + 2 * len, len, unmap };
	return &req;
}

static void *
aligned(size_t len, int fill)
{
	void *p = NULL;

	ASSERT_EQ(posix_memalign(&p, 4096, len), 0);
	memset(p, fill, len);
	return p;
}

static bool
all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* Write, read back, flush, discard and write zeroes, on any backend. */
static void
exercise(struct bdev_queue *q)
{
	uint8_t *pattern = aligned(65536, 0), *back = aligned(65536, 0);
	uint32_t i;

	for (i = 0; i < 65536; i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	ASSERT_EQ(run(q, rw(VIRTIO_BLK_T_OUT, 8192, pattern, 65536)), 0);
	ASSERT_EQ(run(q, rw(VIRTIO_BLK_T_IN, 8192, back, 65536)), 0);
	ASSERT_MEM_EQ(back, pattern, 65536);
	/* Unaligned buffer and length: the page cache path of the file backend. */
	ASSERT_EQ(run(q, rw(VIRTIO_BLK_T_IN, 8192 + 512, back + 1, 1024)), 0);
	ASSERT_MEM_EQ(back + 1, pattern + 512, 1024);
	ASSERT_EQ(run(q, rw(VIRTIO_BLK_T_FLUSH, 0, back, 0)), 0);

	ASSERT_EQ(run(q, ranges(VIRTIO_BLK_T_DISCARD, 8192, 4096, false)), 0);
	ASSERT_EQ(run(q, ranges(VIRTIO_BLK_T_WRITE_ZEROES, 8192 + 4096, 4096, false)), 0);
	ASSERT_EQ(run(q, rw(VIRTIO_BLK_T_IN, 8192, back, 65536)), 0);
	/* Discarded [8K, 12K) and [16K, 20K), zeroed [12K, 16K) and [20K, 24K). */
	ASSERT_TRUE(all_bytes(back, 16384, 0));
	ASSERT_MEM_EQ(back + 16384, pattern + 16384, 65536 - 16384);
	free(pattern);
	free(back);
}

TEST(malloc_disk_carries_every_request)
{
	struct bdev b;
	struct bdev_queue q;

	ASSERT_EQ(bdev_open(&b, BDEV_MALLOC, NULL, DISK_SIZE, false, why, sizeof(why)), 0);
	ASSERT_EQ(bdev_queue_init(&q, &b, 64), 0);
	exercise(&q);
	bdev_queue_fini(&q);
	bdev_close(&b);
}

TEST(malloc_disk_of_a_size_not_a_multiple_of_512_is_refused)
{
	struct bdev b;

	ASSERT_EQ(bdev_open(&b, BDEV_MALLOC, NULL, 1000, false, why, sizeof(why)), -EINVAL);
	ASSERT_STR_CONTAINS(why, "multiple of 512");
}

TEST(null_disk_completes_at_once_and_leaves_buffers)
{
	struct bdev b;
	struct bdev_queue q;
	uint8_t *buf = aligned(4096, 0x77);

	ASSERT_EQ(bdev_open(&b, BDEV_NULL, NULL, DISK_SIZE, false, why, sizeof(why)), 0);
	ASSERT_EQ(bdev_queue_init(&q, &b, 64), 0);
	ASSERT_EQ(run(&q, rw(VIRTIO_BLK_T_IN, 0, buf, 4096)), 0);
	ASSERT_TRUE(all_bytes(buf, 4096, 0x77));
	bdev_queue_fini(&q);
	bdev_close(&b);
	free(buf);
}

static void
file_case(bool direct, bool no_zero_range, bool no_punch_hole)
{
	struct bdev b;
	struct bdev_queue q;

	make_image();
	ASSERT_EQ(bdev_open(&b, BDEV_FILE, image_path, 0, false, why, sizeof(why)), 0);
	ASSERT_EQ(b.size, DISK_SIZE);
	if (!direct && b.fd_direct >= 0) {
		close(b.fd_direct);
		b.fd_direct = -1;
	}
	if (direct && b.fd_direct < 0)
		th_diag("O_DIRECT refused by the file system under TMPDIR: page cache only");
	else if (direct)
		th_diag("O_DIRECT with %u-byte alignment", b.dio_align);
	b.no_zero_range = no_zero_range;
	b.no_punch_hole = no_punch_hole;
	ASSERT_EQ(bdev_queue_init(&q, &b, 64), 0);
	exercise(&q);
	bdev_queue_fini(&q);
	bdev_close(&b);
	unlink(image_path);
}

TEST(image_file_through_o_direct_carries_every_request)
{
	file_case(true, false, false);
}

TEST(image_file_through_the_page_cache_carries_every_request)
{
	file_case(false, false, false);
}

TEST(image_file_without_zero_range_punches_holes)
{
	file_case(true, true, false);
}

TEST(image_file_without_holes_writes_zeroes)
{
	file_case(true, true, true);
}

TEST(write_to_a_read_only_image_fails)
{
	struct bdev b;
	struct bdev_queue q;
	uint8_t *buf = aligned(4096, 1);

	make_image();
	ASSERT_EQ(bdev_open(&b, BDEV_FILE, image_path, 0, true, why, sizeof(why)), 0);
	ASSERT_EQ(bdev_queue_init(&q, &b, 8), 0);
	ASSERT_EQ(run(&q, rw(VIRTIO_BLK_T_OUT, 0, buf, 4096)), -EBADF);
	ASSERT_EQ(run(&q, rw(VIRTIO_BLK_T_IN, 0, buf, 4096)), 0);
	ASSERT_TRUE(all_bytes(buf, 4096, 0x5a));
	bdev_queue_fini(&q);
	bdev_close(&b);
	unlink(image_path);
	free(buf);
}

TEST(read_past_a_shrunken_image_is_an_io_error)
{
	struct bdev b;
	struct bdev_queue q;
	uint8_t *buf = aligned(8192, 1);

	make_image();
	ASSERT_EQ(bdev_open(&b, BDEV_FILE, image_path, 0, false, why, sizeof(why)), 0);
	ASSERT_EQ(truncate(image_path, 4096), 0);
	ASSERT_EQ(bdev_queue_init(&q, &b, 8), 0);
	ASSERT_EQ(run(&q, rw(VIRTIO_BLK_T_IN, 0, buf, 8192)), -EIO);
	ASSERT_EQ(bdev_refresh(&b), 0);
	ASSERT_EQ(b.size, 4096);
	bdev_queue_fini(&q);
	bdev_close(&b);
	unlink(image_path);
	free(buf);
}

TEST(missing_or_empty_image_is_refused_with_its_name)
{
	struct bdev b;
	int fd;

	ASSERT_EQ(bdev_open(&b, BDEV_FILE, "/nonexistent/vhu.img", 0, false, why, sizeof(why)),
		  -ENOENT);
	ASSERT_STR_CONTAINS(why, "/nonexistent/vhu.img");
	make_image();
	fd = open(image_path, O_WRONLY | O_TRUNC);
	ASSERT_TRUE(fd >= 0);
	close(fd);
	ASSERT_EQ(bdev_open(&b, BDEV_FILE, image_path, 0, false, why, sizeof(why)), -EINVAL);
	ASSERT_STR_CONTAINS(why, "smaller than one");
	unlink(image_path);
}
