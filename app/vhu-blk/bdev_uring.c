/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The file backend (bdev.h): an image file or block device driven through
 * one io_uring per polling lcore, so no lcore ever waits in a system call
 * for the disk.
 *
 * Each request becomes one or more kernel operations (one readv or writev,
 * one fsync, one fallocate per range, or writes of a zero buffer where the
 * file system cannot zero or punch ranges). Every operation carries its
 * request as user_data; the request completes when its last operation does,
 * with the first error, or -EIO if fewer bytes moved than asked.
 *
 * O_DIRECT bypasses the page cache, which is what a polled backend wants,
 * but needs offsets, lengths and buffers aligned to the device's block; the
 * alignment is probed at open. A request that is not aligned (a guest may
 * use 512-byte buffers anywhere) goes through a second, buffered descriptor;
 * Linux keeps the two coherent (direct I/O writes back and invalidates the
 * cached pages of its range).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include <liburing.h>
#include <rte_common.h>

#include "bdev.h"

/* Zeroes written per operation where the file system cannot zero a range. */
#define ZERO_CHUNK (1u << 20)
static uint8_t zero_chunk[ZERO_CHUNK] __attribute__((aligned(4096)));

/* Smallest alignment O_DIRECT accepts on 'fd', or 0 if it accepts none we try. */
static uint32_t
probe_dio_align(int fd, uint64_t size)
{
	static const uint32_t tries[] = { 512, 4096 };
	void *buf;
	uint32_t i, found = 0;

	if (posix_memalign(&buf, 4096, 4096) != 0)
		return 0;
	for (i = 0; i < RTE_DIM(tries) && found == 0; i++)
		if (tries[i] <= size && pread(fd, buf, tries[i], 0) == (ssize_t)tries[i])
			found = tries[i];
	free(buf);
	return found;
}

static int
image_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) == 0 ? 0 : -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOTBLK;
	*size = (uint64_t)st.st_size;
	return 0;
}

int
bdev_uring_open(struct bdev *b, const char *path, bool read_only, char *why, size_t why_len)
{
	int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	int rc;

	snprintf(b->name, sizeof(b->name), "%s", path);
	b->fd = open(path, flags);
	if (b->fd < 0) {
		rc = -errno;
		snprintf(why, why_len, "image %s: cannot open %s: %s", path,
			 read_only ? "for reading" : "for reading and writing (add --read-only "
						     "for a read-only image)", strerror(-rc));
		return rc;
	}
	rc = image_size(b->fd, &b->size);
	if (rc < 0) {
		snprintf(why, why_len, "image %s: %s", path, rc == -ENOTBLK ?
			 "not a regular file or block device" : strerror(-rc));
		goto close_fd;
	}
	/* A trailing partial sector cannot be addressed by the guest. */
	b->size &= ~(uint64_t)(VIRTIO_BLK_SECTOR_SIZE - 1);
	if (b->size == 0) {
		snprintf(why, why_len, "image %s is smaller than one 512-byte sector; give it a "
			 "size (truncate -s 1G %s)", path, path);
		rc = -EINVAL;
		goto close_fd;
	}
	b->fd_direct = open(path, flags | O_DIRECT);
	if (b->fd_direct >= 0) {
		b->dio_align = probe_dio_align(b->fd_direct, b->size);
		if (b->dio_align == 0) {
			close(b->fd_direct);
			b->fd_direct = -1;
		}
	}
	return 0;

close_fd:
	close(b->fd);
	b->fd = -1;
	return rc;
}

int
bdev_refresh(struct bdev *b)
{
	uint64_t size;
	int rc;

	if (b->kind != BDEV_FILE)
		return 0;
	rc = image_size(b->fd, &size);
	if (rc == 0)
		b->size = size & ~(uint64_t)(VIRTIO_BLK_SECTOR_SIZE - 1);
	return rc;
}

int
bdev_uring_queue_init(struct bdev_queue *q, uint32_t depth)
{
	int rc;

	q->ring = calloc(1, sizeof(*q->ring));
	if (q->ring == NULL)
		return -ENOMEM;
	rc = io_uring_queue_init(depth, q->ring, 0);
	if (rc < 0) {
		free(q->ring);
		q->ring = NULL;
	}
	return rc;
}

void
bdev_uring_queue_fini(struct bdev_queue *q)
{
	if (q->ring == NULL)
		return;
	/* Operations still out complete into memory the caller may free: wait. */
	while (q->inflight > 0) {
		struct io_uring_cqe *cqe;

		io_uring_submit(q->ring);
		if (io_uring_wait_cqe(q->ring, &cqe) != 0)
			break;
		bdev_uring_poll(q);
	}
	io_uring_queue_exit(q->ring);
	free(q->ring);
	q->ring = NULL;
}

static uint32_t
zero_chunks(uint64_t len)
{
	return (uint32_t)((len + ZERO_CHUNK - 1) / ZERO_CHUNK);
}

uint32_t
bdev_uring_ops(const struct bdev *b, const struct vhu_blk_req *req)
{
	uint32_t i, ops = 0;

	if (req->type != VIRTIO_BLK_T_WRITE_ZEROES || !b->no_punch_hole)
		return req->type == VIRTIO_BLK_T_DISCARD ||
		       req->type == VIRTIO_BLK_T_WRITE_ZEROES ? req->nranges : 1;
	for (i = 0; i < req->nranges; i++)
		ops += zero_chunks(req->ranges[i].len);
	return ops;
}

/* True if O_DIRECT can carry this request's data as it is. */
static bool
dio_fits(const struct bdev *b, const struct vhu_blk_req *req)
{
	uint64_t mask = b->dio_align - 1;
	uint32_t i;

	if (b->fd_direct < 0 || ((req->offset | req->len) & mask) != 0)
		return false;
	for (i = 0; i < req->ndata; i++)
		if ((((uintptr_t)req->data[i].iov_base | req->data[i].iov_len) & mask) != 0)
			return false;
	return true;
}

static struct io_uring_sqe *
op_get(struct bdev_queue *q, struct bdev_io *io, uint64_t expect)
{
	/* bdev_uring_ops() was checked against the ring's depth: never NULL. */
	struct io_uring_sqe *sqe = io_uring_get_sqe(q->ring);

	io_uring_sqe_set_data(sqe, io);
	io->pending++;
	io->expect += expect;
	q->inflight++;
	q->unsubmitted++;
	return sqe;
}

static void
submit_ranges(struct bdev_queue *q, struct bdev_io *io)
{
	const struct vhu_blk_req *req = io->req;
	struct bdev *b = q->bdev;
	uint32_t i;

	for (i = 0; i < req->nranges; i++) {
		const struct vhu_blk_range *r = &req->ranges[i];
		uint64_t off;
		int mode;

		if (req->type == VIRTIO_BLK_T_WRITE_ZEROES && b->no_punch_hole) {
			for (off = 0; off < r->len; off += ZERO_CHUNK) {
				uint32_t n = (uint32_t)RTE_MIN((uint64_t)ZERO_CHUNK, r->len - off);

				io_uring_prep_write(op_get(q, io, n), b->fd, zero_chunk, n,
						    r->offset + off);
			}
			continue;
		}
		/* Discard and unmapping write-zeroes punch a hole (it reads back as zeroes);
		 * a plain write-zeroes asks for allocated zeroes where the file system can. */
		if (req->type == VIRTIO_BLK_T_WRITE_ZEROES && !r->unmap && !b->no_zero_range)
			mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		else
			mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		io_uring_prep_fallocate(op_get(q, io, 0), b->fd, mode, r->offset, r->len);
	}
}

void
bdev_uring_submit(struct bdev_queue *q, struct bdev_io *io)
{
	const struct vhu_blk_req *req = io->req;
	struct bdev *b = q->bdev;
	struct io_uring_sqe *sqe;
	int fd;

	io->expect = 0;
	io->moved = 0;
	switch (req->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		fd = dio_fits(b, req) ? b->fd_direct : b->fd;
		sqe = op_get(q, io, req->len);
		if (req->type == VIRTIO_BLK_T_IN) {
			io_uring_prep_readv(sqe, fd, req->data, req->ndata, req->offset);
		} else {
			io_uring_prep_writev(sqe, fd, req->data, req->ndata, req->offset);
			if (b->write_through)
				sqe->rw_flags = RWF_DSYNC;
		}
		return;
	case VIRTIO_BLK_T_FLUSH:
		io_uring_prep_fsync(op_get(q, io, 0), b->fd, IORING_FSYNC_DATASYNC);
		return;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		submit_ranges(q, io);
		return;
	default:
		io->done(io, -EOPNOTSUPP);
		return;
	}
}

/*
 * A range operation the file system refused: remember it and carry the
 * request out the next way (zero range -> punch hole -> write zeroes). A
 * discard nobody can do is still a success: it is only advice.
 */
static bool
range_fallback(struct bdev_queue *q, struct bdev_io *io)
{
	struct bdev *b = q->bdev;

	if (io->result != -EOPNOTSUPP && io->result != -EINVAL)
		return false;
	if (io->req->type == VIRTIO_BLK_T_DISCARD) {
		io->result = 0;
		return false;
	}
	if (io->req->type != VIRTIO_BLK_T_WRITE_ZEROES || b->no_punch_hole)
		return false;
	if (!b->no_zero_range)
		b->no_zero_range = true;
	else
		b->no_punch_hole = true;
	if (!bdev_queue_has_room(q, bdev_uring_ops(b, io->req)))
		return false;
	io->pending = 0;
	io->result = 0;
	bdev_uring_submit(q, io);
	return true;
}

uint32_t
bdev_uring_poll(struct bdev_queue *q)
{
	struct io_uring_cqe *cqes[32];
	uint32_t i, n, completed = 0;

	if (q->unsubmitted > 0) {
		int rc = io_uring_submit(q->ring);

		if (rc > 0)
			q->unsubmitted -= RTE_MIN((uint32_t)rc, q->unsubmitted);
	}
	n = io_uring_peek_batch_cqe(q->ring, cqes, RTE_DIM(cqes));
	for (i = 0; i < n; i++) {
		struct bdev_io *io = io_uring_cqe_get_data(cqes[i]);
		int res = cqes[i]->res;

		q->inflight--;
		if (res < 0 && io->result == 0)
			io->result = res;
		else if (res > 0)
			io->moved += (uint64_t)res;
		if (--io->pending > 0)
			continue;
		if (io->result == 0 && io->moved < io->expect)
			io->result = -EIO;	/* short read or write: the image shrank under us */
		if (io->result != 0 && range_fallback(q, io))
			continue;
		io->done(io, io->result);
		completed++;
	}
	io_uring_cq_advance(q->ring, n);
	return completed;
}
