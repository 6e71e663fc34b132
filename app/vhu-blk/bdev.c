/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Block backends (bdev.h): dispatch, and the two RAM backends, which
 * complete every request before bdev_submit() returns.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bdev.h"

int
bdev_open(struct bdev *b, enum bdev_kind kind, const char *path, uint64_t size, bool read_only,
	  char *why, size_t why_len)
{
	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->fd = -1;
	b->fd_direct = -1;
	b->read_only = read_only;
	b->blk_size = VIRTIO_BLK_SECTOR_SIZE;
	if (kind == BDEV_FILE)
		return bdev_uring_open(b, path, read_only, why, why_len);
	snprintf(b->name, sizeof(b->name), "%s", kind == BDEV_NULL ? "null" : "malloc");
	if (size == 0 || (size & (VIRTIO_BLK_SECTOR_SIZE - 1)) != 0) {
		snprintf(why, why_len, "%s disk of %" PRIu64 " bytes: the size must be a non-zero "
			 "multiple of 512", b->name, size);
		return -EINVAL;
	}
	b->size = size;
	if (kind == BDEV_MALLOC) {
		/* Anonymous pages read as zero and are only backed once written. */
		b->ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
			      MAP_NORESERVE, -1, 0);
		if (b->ram == MAP_FAILED) {
			b->ram = NULL;
			snprintf(why, why_len, "malloc disk of %" PRIu64 " bytes: %s", size,
				 strerror(errno));
			return -ENOMEM;
		}
	}
	return 0;
}

void
bdev_close(struct bdev *b)
{
	if (b->ram != NULL)
		munmap(b->ram, b->size);
	b->ram = NULL;
	if (b->fd >= 0)
		close(b->fd);
	if (b->fd_direct >= 0)
		close(b->fd_direct);
	b->fd = b->fd_direct = -1;
}

int
bdev_queue_init(struct bdev_queue *q, struct bdev *b, uint32_t depth)
{
	memset(q, 0, sizeof(*q));
	q->bdev = b;
	q->depth = depth;
	return b->kind == BDEV_FILE ? bdev_uring_queue_init(q, depth) : 0;
}

void
bdev_queue_fini(struct bdev_queue *q)
{
	if (q->bdev != NULL && q->bdev->kind == BDEV_FILE)
		bdev_uring_queue_fini(q);
	q->ring = NULL;
}

/* The malloc disk carries a request out at once. */
static int
ram_do(struct bdev *b, const struct vhu_blk_req *req)
{
	uint32_t i;

	switch (req->type) {
	case VIRTIO_BLK_T_IN:
		vhu_iov_from_buf(req->data, req->ndata, 0, b->ram + req->offset, req->len);
		return 0;
	case VIRTIO_BLK_T_OUT:
		vhu_iov_to_buf(req->data, req->ndata, 0, b->ram + req->offset, req->len);
		return 0;
	case VIRTIO_BLK_T_FLUSH:
		return 0;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		/* A discarded range reads back as zeroes, as a hole in a file does. */
		for (i = 0; i < req->nranges; i++)
			memset(b->ram + req->ranges[i].offset, 0, req->ranges[i].len);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

void
bdev_submit(struct bdev_queue *q, struct bdev_io *io)
{
	struct bdev *b = q->bdev;

	io->pending = 0;
	io->result = 0;
	switch (b->kind) {
	case BDEV_FILE:
		bdev_uring_submit(q, io);
		return;
	case BDEV_MALLOC:
		io->done(io, ram_do(b, io->req));
		return;
	case BDEV_NULL:
		io->done(io, 0);
		return;
	}
}

uint32_t
bdev_poll(struct bdev_queue *q)
{
	return q->bdev->kind == BDEV_FILE ? bdev_uring_poll(q) : 0;
}
