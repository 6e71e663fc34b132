/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-blk's block backends: where the guest's reads and writes go.
 *
 *   null    no storage: every request succeeds at once, reads leave the
 *           guest's buffers as they were (as qemu's null-co without
 *           read-zeroes); for benchmarks of the request path alone
 *   malloc  a RAM disk of the given size, zero at start
 *   file    an image file or block device, through io_uring: O_DIRECT when
 *           the file system allows it and the buffers are aligned for it,
 *           the page cache otherwise
 *
 * Threads: bdev_open()/bdev_close()/bdev_refresh() on a control thread; each
 * polling lcore owns one struct bdev_queue and calls bdev_submit() and
 * bdev_poll() on it. Nothing here blocks a polling lcore: file I/O is queued
 * to the kernel and its completions reaped by bdev_poll().
 *
 * Return contract: 0 or a negative errno; a request's outcome reaches its
 * done() callback, from bdev_submit() (RAM backends) or bdev_poll().
 */
#ifndef VHU_BDEV_H
#define VHU_BDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "blk_req.h"

enum bdev_kind {
	BDEV_NULL,
	BDEV_MALLOC,
	BDEV_FILE,
};

struct bdev {
	enum bdev_kind kind;
	char name[256];		/* the image path, or "null"/"malloc", for messages */
	uint64_t size;		/* bytes; a multiple of 512 */
	bool read_only;		/* opened read-only: writes are refused by the device */
	uint32_t blk_size;	/* logical block size offered to the guest */
	uint8_t *ram;		/* malloc: the disk */
	int fd;			/* file: buffered descriptor, or -1 */
	int fd_direct;		/* file: O_DIRECT descriptor, or -1 where refused */
	uint32_t dio_align;	/* file: buffer, length and offset alignment O_DIRECT needs */
	bool no_zero_range;	/* file: FALLOC_FL_ZERO_RANGE refused once: punch holes */
	bool no_punch_hole;	/* file: punching holes refused once: write zeroes */
	bool write_through;	/* every write reaches stable storage before it completes */
};

struct bdev_io;
/* Called once per request with 0 or a negative errno. */
typedef void (*bdev_done_fn)(struct bdev_io *io, int result);

/* One request. The submitter owns it; it must stay put until done() runs. */
struct bdev_io {
	const struct vhu_blk_req *req;	/* what to do (type, offset, data, ranges) */
	bdev_done_fn done;
	void *arg;			/* the submitter's */
	/* Backend state. */
	uint32_t pending;		/* kernel operations still out */
	int result;			/* first error, or 0 */
	uint64_t expect;		/* bytes the operations should move */
	uint64_t moved;			/* bytes they did move */
};

struct io_uring;

/* Per-lcore submission and completion context. */
struct bdev_queue {
	struct bdev *bdev;
	struct io_uring *ring;		/* file: the lcore's own io_uring, else NULL */
	uint32_t depth;			/* operations it can have out */
	uint32_t inflight;		/* operations out now */
	uint32_t unsubmitted;		/* queued since the last io_uring_submit */
};

/*
 * Open a backend: kind NULL or MALLOC with 'size' bytes, or FILE at 'path'
 * ('size' ignored, taken from the file). 'read_only' opens for reading only.
 * Returns 0 or -errno, with a reason naming the image in 'why'.
 */
int bdev_open(struct bdev *b, enum bdev_kind kind, const char *path, uint64_t size,
	      bool read_only, char *why, size_t why_len);
void bdev_close(struct bdev *b);

/* Read the file's size again (after a resize). Returns 0 or -errno; 'b->size' updated. */
int bdev_refresh(struct bdev *b);

/* Set up a queue of 'depth' operations for one lcore. 0 or -errno. */
int bdev_queue_init(struct bdev_queue *q, struct bdev *b, uint32_t depth);
void bdev_queue_fini(struct bdev_queue *q);

/* The file backend's count (bdev_uring.c). */
uint32_t bdev_uring_ops(const struct bdev *b, const struct vhu_blk_req *req);

/* Kernel operations a request needs: the submitter checks there is room first. */
static inline uint32_t
bdev_io_ops(const struct bdev *b, const struct vhu_blk_req *req)
{
	return b->kind == BDEV_FILE ? bdev_uring_ops(b, req) : 0;
}

/* True if the queue has room for 'ops' more operations. */
static inline bool
bdev_queue_has_room(const struct bdev_queue *q, uint32_t ops)
{
	return q->inflight + ops <= q->depth;
}

/*
 * Start a request of type IN, OUT, FLUSH, DISCARD or WRITE_ZEROES. The caller
 * checked bdev_queue_has_room(). RAM backends complete it before returning.
 */
void bdev_submit(struct bdev_queue *q, struct bdev_io *io);

/* Hand queued operations to the kernel and reap completions; returns how many completed. */
uint32_t bdev_poll(struct bdev_queue *q);

/* file backend (bdev_uring.c) */
int bdev_uring_open(struct bdev *b, const char *path, bool read_only, char *why, size_t why_len);
int bdev_uring_queue_init(struct bdev_queue *q, uint32_t depth);
void bdev_uring_queue_fini(struct bdev_queue *q);
void bdev_uring_submit(struct bdev_queue *q, struct bdev_io *io);
uint32_t bdev_uring_poll(struct bdev_queue *q);

#endif /* VHU_BDEV_H */
