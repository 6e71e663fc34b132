/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "testdev.h"
#include "virtq_verbs.h"

static uint16_t
testdev_queue_count(const void *cfg)
{
	const struct testdev_config *c = cfg;

	return c->queues <= VHU_MAX_VQS ? c->queues : 0;
}

static void
testdev_init(struct vhu_vhost_dev *dev, const void *cfg)
{
	memcpy(vhu_dev_priv(dev), cfg, sizeof(struct testdev_config));
}

static uint64_t
testdev_features(const struct vhu_vhost_dev *dev)
{
	return ((const struct testdev_config *)vhu_dev_priv(dev))->features;
}

/* A config space of TESTDEV_CONFIG_SIZE bytes (testdev.h); the core does the offsets. */
static uint32_t
testdev_get_config(const struct vhu_vhost_dev *dev, uint8_t *space)
{
	const struct testdev_config *c = vhu_dev_priv(dev);
	uint32_t magic = TESTDEV_CONFIG_MAGIC;

	memcpy(space, &c->queues, sizeof(c->queues));
	memcpy(space + 2, &c->scratch, sizeof(c->scratch));
	memcpy(space + 4, &magic, sizeof(magic));
	return TESTDEV_CONFIG_SIZE;
}

/* Only bytes 2-3 (scratch) are writable. */
static int
testdev_set_config(struct vhu_vhost_dev *dev, uint32_t offset, const uint8_t *buf, uint32_t len)
{
	struct testdev_config *c = vhu_dev_priv(dev);
	uint8_t *scratch = (uint8_t *)&c->scratch;

	c->set_config_calls++;
	if (offset < 2 || offset + len > 4)
		return -EPERM;
	memcpy(scratch + (offset - 2), buf, len);
	return 0;
}

static void
testdev_queue_start(struct vhu_vhost_dev *dev, struct vhu_vq *vq)
{
	RTE_SET_USED(dev);
	memset(testdev_q(vq), 0, sizeof(struct testdev_vq));
}

const struct vhu_device_type testdev_type = {
	.name = "test",
	.dev_priv_size = sizeof(struct testdev_config),
	.vq_priv_size = sizeof(struct testdev_vq),
	.queue_count = testdev_queue_count,
	.init = testdev_init,
	.features = testdev_features,
	.get_config = testdev_get_config,
	.set_config = testdev_set_config,
	.queue_start = testdev_queue_start,
};

void (*testdev_burst_hook)(struct vhu_vq *vq);

/* Read (sink) or fill (source) the pieces of one chain; returns the bytes written. */
static uint32_t
testdev_work(struct testdev_vq *tq, bool source, const struct vhu_buf_vec *vec, uint32_t nvec)
{
	uint32_t i, j, written = 0;

	for (i = 0; i < nvec; i++) {
		for (j = 0; j < vec[i].len; j++) {
			if (source)
				vec[i].addr[j] = tq->fill++;
			else
				tq->sum += vec[i].addr[j];
		}
		tq->bytes += vec[i].len;
		written += source ? vec[i].len : 0;
	}
	return written;
}

/*
 * The four chains at the cursor of a packed ring through the batch verbs
 * the net bursts use (virtq_packed.h), if they are a batch whose buffers map
 * whole; false, nothing changed, if they are not (or the ring is split).
 */
static bool
testdev_batch(struct vhu_vq *vq, struct vhu_cursor *cur, struct vhu_packed_batch *b,
	      struct testdev_vq *tq, bool source)
{
	uint64_t tail[VHU_PACKED_BATCH], addr[VHU_PACKED_BATCH];
	struct vhu_buf_vec vec[VHU_PACKED_BATCH];
	uint32_t len[VHU_PACKED_BATCH];
	uint16_t k;
	bool empty = false;

	if (!vq->packed || !vhu_packed_read_four(vq, cur->idx, cur->wrap, source, tail, addr) ||
	    !vhu_packed_map_four(vq, cur->idx, source, tail, addr, NULL, vec))
		return false;
	vhu_packed_take_four(vq, tail);
	for (k = 0; k < VHU_PACKED_BATCH; k++) {
		len[k] = testdev_work(tq, source, &vec[k], 1);
		empty |= len[k] == 0;
	}
	if (!source) {
		vhu_packed_return_four(vq, b, tail, NULL);
	} else if (!empty) {
		vhu_packed_return_four(vq, b, tail, len);
	} else {
		/* A buffer of 0 bytes got nothing: its flags differ (no WRITE). */
		for (k = 0; k < VHU_PACKED_BATCH; k++)
			vhu_packed_push(vq, b, vhu_packed_tail_id(tail[k]), len[k], 1);
	}
	vhu_packed_advance(vq, &cur->idx, &cur->wrap, VHU_PACKED_BATCH);
	tq->batched += VHU_PACKED_BATCH;
	tq->chains += VHU_PACKED_BATCH;
	return true;
}

uint16_t
testdev_serve(struct vhu_vhost_dev *dev, uint16_t q, uint16_t max)
{
	return testdev_serve_into(dev, q, max, NULL);
}

/* 'tq' NULL: the test device's own count, beside the ring. */
uint16_t
testdev_serve_into(struct vhu_vhost_dev *dev, uint16_t q, uint16_t max, struct testdev_vq *tq)
{
	const bool source = (q & 1) != 0;
	struct vhu_buf_vec vec[VHU_VEC_MAX];
	struct vhu_cursor cur = { 0 };
	struct vhu_chain c = { 0 };
	struct vhu_burst b;
	struct vhu_vq *vq;
	uint16_t n = 0;

	/* Zeroed only because GCC cannot see that begin and flush (pop and
	 * return) take the same layout's branch; a device written for one
	 * layout needs no such thing. */
	memset(&b, 0, sizeof(b));

	if (q >= dev->num_queues || (vq = vhu_vq_enter(dev, q)) == NULL)
		return 0;
	if (tq == NULL)
		tq = testdev_q(vq);
	if (!vhu_vq_begin(vq, &cur, &b, !source)) {
		vhu_vq_leave(vq);
		return 0;
	}
	if (testdev_burst_hook != NULL)
		testdev_burst_hook(vq);
	while (n < max && vhu_vq_more(vq, &cur)) {
		uint32_t nvec = 0, len;
		enum vhu_chain_rc rc;

		if (max - n >= VHU_PACKED_BATCH && testdev_batch(vq, &cur, &b.packed, tq, source)) {
			n += VHU_PACKED_BATCH;
			continue;
		}
		rc = vhu_vq_pop(vq, &cur, source, vec, &nvec, &c);
		if (rc < 0)
			break; /* broken (latched), or an IOTLB miss: stays in the ring */
		vhu_vq_take(vq, &c);
		/* A chain of more pieces than vec holds is returned unread. */
		len = rc == VHU_CHAIN_OK ? testdev_work(tq, source, vec, nvec) : 0;
		vhu_vq_return(vq, &b, &c, len);
		tq->chains++;
		n++;
	}
	vhu_vq_flush(vq, &b);
	vhu_vq_leave(vq);
	return n;
}
