/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-blk request path (vhu_blk.h): requests taken from a ring with
 * the core verbs (a chain of readable then writable buffers), checked by the
 * parser, handed to the application, completed in any order and returned to
 * the guest in take order (virtq_async.h).
 *
 * Each call marks its ring busy for its duration, as net's bursts do, so the
 * control thread never unmaps guest memory under a status byte being written.
 * A completion of a request taken before the ring last stopped writes
 * nothing: its chain is taken again by the restarted ring.
 */
#include "vhost_blk.h"

/* The lcore's queue 'q' of a blk device, or NULL for a bad device or queue. */
static inline struct vhu_blk_queue *
blk_queue(struct vhu_vhost_dev *dev, uint16_t q)
{
	if (unlikely(!vhu_is_blk(dev) || q >= dev->num_queues))
		return NULL;
	return &vhu_blk_dev(dev)->q[q];
}

/* Copy a gathered chain into the request's iovecs. */
static inline void
blk_iov_fill(struct iovec *iov, const struct vhu_buf_vec *vec, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		iov[i].iov_base = vec[i].addr;
		iov[i].iov_len = vec[i].len;
	}
}

/* Mark the first 'bytes' of the request's data buffers dirty (LOG_ALL, migration). */
static void
blk_log_data(struct vhu_vq *vq, const struct vhu_blk_req *req, uint64_t bytes)
{
	uint32_t i;

	for (i = 0; i < req->ndata && bytes > 0; i++) {
		uint64_t n = RTE_MIN((uint64_t)req->data[i].iov_len, bytes);

		vhu_log_hva(vq, req->data[i].iov_base, n);
		bytes -= n;
	}
}

static uint16_t
blk_take(struct vhu_vhost_dev *dev, uint16_t q, struct vhu_blk_queue *bq,
	 struct vhu_blk_request **reqs, uint16_t count)
{
	const struct vhu_blk_dev *bd = vhu_blk_dev(dev);
	struct vhu_buf_vec vec[VHU_VEC_MAX];
	struct vhu_cursor cur = { 0 };
	struct vhu_blk_limits lim;
	struct vhu_burst b;
	struct vhu_vq *vq;
	uint32_t epoch;
	uint16_t n = 0;

	vq = vhu_vq_enter(dev, q);
	if (vq == NULL)
		return 0;
	if (vhu_window_room(&bq->w) == 0 || !vhu_vq_begin(vq, &cur, &b, false)) {
		vhu_vq_leave(vq);
		return 0;
	}
	/* Relaxed: the ring's start stored it before the release of vq->ready
	 * that vhu_vq_enter() acquired. */
	epoch = __atomic_load_n(&bq->epoch, __ATOMIC_RELAXED);
	/* A request of an earlier epoch still out (a ring stop did not wait it
	 * out): the restarted ring takes it again, but not while its first I/O
	 * may still run. vhu_blk_flush() drops it once it is done. */
	if (unlikely(bq->w.head != bq->w.tail && bq->w.e[bq->w.head & bq->w.mask].epoch != epoch)) {
		vhu_vq_leave(vq);
		return 0;
	}
	lim = bd->lim;
	lim.capacity = __atomic_load_n(&bd->lim.capacity, __ATOMIC_RELAXED);
	while (n < count && vhu_window_room(&bq->w) > 0 && vhu_vq_more(vq, &cur)) {
		struct vhu_blk_request *r = &bq->slots[bq->w.tail & bq->w.mask];
		uint32_t nvec = 0, n_out = 0;
		enum vhu_blk_verdict v;
		enum vhu_chain_rc rc;
		struct vhu_chain c;

		rc = vhu_vq_pop_rw(vq, &cur, vec, &nvec, &n_out, &c);
		if (rc < 0)
			break; /* broken (latched), or an IOTLB miss: stays in the ring */
		if (unlikely(rc == VHU_CHAIN_DROP)) {
			vhu_vq_set_broken(vq,
					  "head %u: a request of more than %u buffers (seg_max "
					  "is %u)",
					  c.id, VHU_BLK_SEGS, bd->lim.seg_max);
			break;
		}
		blk_iov_fill(r->iov, vec, nvec);
		v = vhu_blk_req_parse(&r->req, r->iov, n_out, nvec - n_out, &lim, bd->serial);
		if (unlikely(v == VHU_BLK_BROKEN)) {
			vhu_vq_set_broken(vq, "head %u: %s", c.id, r->req.why);
			break;
		}
		/* GET_ID wrote the id into the guest's buffers just now. */
		if (unlikely(vq->log != NULL) && r->req.written > 0)
			blk_log_data(vq, &r->req, r->req.written);
		r->answered = v == VHU_BLK_DONE;
		r->queue = q;
		r->index = bq->w.tail & bq->w.mask;
		r->ticket = vhu_vq_take_async(vq, &bq->w, &c, epoch);
		reqs[n++] = r;
	}
	vhu_vq_leave(vq);
	return n; /* nothing returned in this burst: no flush */
}

uint16_t
vhu_blk_dequeue_burst(struct vhu_vhost_dev *dev, uint16_t q, struct vhu_blk_request **reqs,
		      uint16_t count)
{
	struct vhu_blk_queue *bq = blk_queue(dev, q);

	if (bq == NULL || reqs == NULL || count == 0)
		return 0;
	return blk_take(dev, q, bq, reqs, count);
}

/* Bytes the device wrote into the request's buffers, the status byte included. */
static inline uint32_t
blk_used_len(const struct vhu_blk_request *r, uint8_t status)
{
	if (r->req.type == VIRTIO_BLK_T_IN && status == VIRTIO_BLK_S_OK && !r->answered)
		return (uint32_t)r->req.len + 1; /* at most 126 segments of 1 MiB */
	return vhu_blk_req_used_len(&r->req);
}

/* Mark what the request's completion wrote into guest memory dirty: the
 * status, and a read's data (GET_ID's id was marked when it was written). */
static void
blk_log_written(struct vhu_vq *vq, const struct vhu_blk_request *r, uint8_t status)
{
	vhu_log_hva(vq, r->req.status, 1);
	if (r->req.type == VIRTIO_BLK_T_IN && status == VIRTIO_BLK_S_OK && !r->answered)
		blk_log_data(vq, &r->req, r->req.len);
}

/*
 * Request 'r', handed to vhu_blk_complete_burst() of queue 'q', was taken
 * from another queue: its window entry is that queue's, which only that
 * queue's lcore may touch, so it is left out, with the requests after it,
 * for the caller to complete on the right queue. Counted, and logged at the
 * 1st, 2nd, 4th, 8th... time on this queue: a request never completed hangs
 * the guest's I/O, so the operator must hear of it.
 */
static __rte_noinline void
blk_foreign_request(struct vhu_vhost_dev *dev, uint16_t q, struct vhu_blk_queue *bq,
		    const struct vhu_blk_request *r)
{
	bq->foreign++;
	if ((bq->foreign & (bq->foreign - 1)) == 0)
		VHU_LOG(ERR,
			"%s: queue %u was given a request of queue %u to complete (%" PRIu64
			" so far); it and the ones after it are left out: complete each on the "
			"lcore of its own queue (vhu_blk_complete(), or r->queue)",
			dev->path, q, r->queue, bq->foreign);
}

uint16_t
vhu_blk_complete_burst(struct vhu_vhost_dev *dev, uint16_t q, struct vhu_blk_request *const *reqs,
		       const uint8_t *status, uint16_t n)
{
	struct vhu_blk_queue *bq = blk_queue(dev, q);
	uint32_t epoch;
	struct vhu_vq *vq;
	bool write;
	uint16_t i;

	if (bq == NULL || reqs == NULL || status == NULL || n == 0)
		return 0;
	/* Held whether the ring runs or not: the window is the ring's too. */
	vq = vhu_vq_hold(dev, q);
	/* A ring stopped since the take: guest memory may be another table now,
	 * and the status of a request of an older epoch is not written. */
	write = vhu_vq_usable(dev, vq);
	epoch = __atomic_load_n(&bq->epoch, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++) {
		struct vhu_blk_request *r = reqs[i];

		if (unlikely(r->queue != q)) {
			blk_foreign_request(dev, q, bq, r);
			break;
		}
		if (write && bq->w.e[r->ticket & bq->w.mask].epoch == epoch) {
			*r->req.status = status[i];
			if (unlikely(vq->log != NULL))
				blk_log_written(vq, r, status[i]);
		}
		vhu_window_complete(&bq->w, r->ticket, blk_used_len(r, status[i]));
	}
	vhu_vq_leave(vq);
	return i;
}

void
vhu_blk_complete(struct vhu_vhost_dev *dev, struct vhu_blk_request *r, uint8_t status)
{
	if (r != NULL)
		vhu_blk_complete_burst(dev, r->queue, &r, &status, 1);
}

uint16_t
vhu_blk_flush(struct vhu_vhost_dev *dev, uint16_t q)
{
	struct vhu_blk_queue *bq = blk_queue(dev, q);
	struct vhu_vq *vq;
	uint32_t n = 0;

	if (bq == NULL)
		return 0;
	vq = vhu_vq_hold(dev, q);
	if (vhu_vq_usable(dev, vq))
		n = vhu_vq_return_completed(vq, &bq->w,
					    __atomic_load_n(&bq->epoch, __ATOMIC_RELAXED));
	else
		vhu_window_drop_completed(&bq->w); /* taken again when the ring restarts */
	vhu_vq_leave(vq);
	return (uint16_t)n;
}

uint32_t
vhu_blk_outstanding(struct vhu_vhost_dev *dev, uint16_t q)
{
	struct vhu_blk_queue *bq = blk_queue(dev, q);

	return bq != NULL ? vhu_window_outstanding(&bq->w) : 0;
}
