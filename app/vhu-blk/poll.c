/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-blk's queue pollers: each lcore, for each request queue it owns, reaps
 * the backend's completions, takes requests from the ring, submits them to
 * the backend (or answers them, when the device already did) and returns
 * the completed ones to the guest. Nothing here blocks: file I/O goes to the
 * lcore's io_uring and comes back through bdev_poll().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include "vhu_blk_app.h"

static enum blk_op
blk_op_of(uint32_t type)
{
	switch (type) {
	case VIRTIO_BLK_T_IN:
		return BLK_OP_READ;
	case VIRTIO_BLK_T_OUT:
		return BLK_OP_WRITE;
	case VIRTIO_BLK_T_FLUSH:
		return BLK_OP_FLUSH;
	case VIRTIO_BLK_T_DISCARD:
		return BLK_OP_DISCARD;
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return BLK_OP_WRITE_ZEROES;
	default:
		return BLK_OP_OTHER;
	}
}

/* Request 'r' of queue 'bq' is done with 'status': kept for the poll's hand-back. */
static inline void
blk_done(struct blk_queue *bq, struct vhu_blk_request *r, uint8_t status)
{
	/* At most VHU_BLK_WINDOW requests are out, and each completes once. */
	bq->done[bq->ndone] = r;
	bq->done_status[bq->ndone] = status;
	bq->ndone++;
}

/* The backend finished 'io' (from bdev_submit() or bdev_poll()). */
static void
blk_io_done(struct bdev_io *io, int result)
{
	struct blk_queue *bq = io->arg;
	uint32_t idx = (uint32_t)(io - bq->io);
	uint8_t status = VIRTIO_BLK_S_OK;

	if (result == -EOPNOTSUPP || result == -ENOTSUP)
		status = VIRTIO_BLK_S_UNSUPP;
	else if (result != 0)
		status = VIRTIO_BLK_S_IOERR;
	blk_done(bq, bq->req[idx], status);
}

/*
 * Count the requests done since the last call and hand them to the device
 * together: one timestamp, one hold of the ring. Returns how many.
 */
static uint32_t
blk_hand_back(struct blk_app *a, struct blk_queue *bq)
{
	uint32_t i, n = bq->ndone;
	uint64_t now;

	if (n == 0)
		return 0;
	now = rte_rdtsc();
	for (i = 0; i < n; i++) {
		const struct vhu_blk_request *r = bq->done[i];

		blk_stats_complete(&bq->stats, blk_op_of(r->req.type), r->req.len,
				   bq->done_status[i],
				   blk_tsc_to_ns(now - bq->start_tsc[r->index], a->tsc_ns_scale));
	}
	vhu_blk_complete_burst(a->dev, bq->id, bq->done, bq->done_status, (uint16_t)n);
	bq->ndone = 0;
	return n;
}

/* Submit request 'r' if the backend has room; false (nothing done) if it has not. */
static bool
blk_submit(struct blk_app *a, struct blk_queue *bq, struct vhu_blk_request *r)
{
	struct bdev_io *io = &bq->io[r->index];

	if (!bdev_queue_has_room(&bq->bq, bdev_io_ops(&a->bdev, &r->req)))
		return false;
	bq->req[r->index] = r;
	io->req = &r->req;
	io->done = blk_io_done;
	io->arg = bq;
	bdev_submit(&bq->bq, io);
	return true;
}

/* Submit what waited for room, oldest first; true if nothing waits any more. */
static bool
blk_backlog_drain(struct blk_app *a, struct blk_queue *bq)
{
	while (bq->backlog_n > 0) {
		struct vhu_blk_request *r = bq->backlog[bq->backlog_head];

		if (!blk_submit(a, bq, r))
			return false;
		bq->backlog_head = (bq->backlog_head + 1) % VHU_BLK_WINDOW;
		bq->backlog_n--;
	}
	return true;
}

/*
 * One pass over queue 'bq': reap the backend's completions, take a burst of
 * requests and submit it, then hand back everything done in the pass (the
 * RAM backends complete within the submit) and return it to the guest with
 * one flush. Returns requests taken and completions reaped.
 */
static uint32_t
blk_poll_queue(struct blk_app *a, struct blk_queue *bq, bool draining)
{
	struct vhu_blk_request *reqs[BLK_BURST];
	uint32_t work = bdev_poll(&bq->bq);
	uint16_t n = 0, i;
	uint64_t now;

	if (blk_backlog_drain(a, bq) && !draining)
		n = vhu_blk_dequeue_burst(a->dev, bq->id, reqs, BLK_BURST);
	if (n > 0) {
		now = rte_rdtsc(); /* the burst was taken at once */
		for (i = 0; i < n; i++) {
			struct vhu_blk_request *r = reqs[i];

			bq->start_tsc[r->index] = now;
			if (r->answered) {
				blk_done(bq, r, r->req.status_value);
			} else if (bq->backlog_n > 0 || !blk_submit(a, bq, r)) {
				/* The window (VHU_BLK_WINDOW) bounds what can wait here. */
				bq->backlog[(bq->backlog_head + bq->backlog_n) % VHU_BLK_WINDOW] =
					r;
				bq->backlog_n++;
			}
		}
		/* Submit what the burst queued to the kernel now rather than next pass. */
		work += bdev_poll(&bq->bq);
	}
	/* Only a completion can make a request returnable (they return in take
	 * order): a pass that handed none back has nothing to flush. */
	if (blk_hand_back(a, bq) > 0)
		vhu_blk_flush(a->dev, bq->id);
	return work + n;
}

uint32_t
blk_poll_once(struct blk_app *a, const struct blk_poller *pl, bool draining)
{
	uint32_t work = 0;
	uint16_t i;

	for (i = 0; i < pl->nq; i++)
		work += blk_poll_queue(a, a->queues[pl->q[i]], draining);
	return work;
}

int
blk_queue_init(struct blk_app *a, uint16_t q)
{
	struct blk_queue *bq = calloc(1, sizeof(*bq));
	int rc;

	if (bq == NULL)
		return -ENOMEM;
	bq->id = q;
	rc = bdev_queue_init(&bq->bq, &a->bdev, a->p.iodepth);
	if (rc != 0) {
		free(bq);
		return rc;
	}
	a->queues[q] = bq;
	return 0;
}

void
blk_queue_fini(struct blk_app *a, uint16_t q)
{
	struct blk_queue *bq = a->queues[q];

	if (bq == NULL)
		return;
	bdev_queue_fini(&bq->bq);
	free(bq);
	a->queues[q] = NULL;
}

void
blk_stats_total(const struct blk_app *a, struct blk_queue_stats *out)
{
	struct blk_queue_stats s;
	uint16_t q;

	memset(out, 0, sizeof(*out));
	for (q = 0; q < a->p.queues; q++) {
		if (a->queues[q] == NULL)
			continue;
		blk_stats_snapshot(&a->queues[q]->stats, &s);
		blk_stats_add(out, &s);
	}
}
