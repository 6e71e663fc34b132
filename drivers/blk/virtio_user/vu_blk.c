/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-blk device half of vhu's front-end (vhu_virtio_blk.h): a
 * struct vu_devtype for the protocol half, and requests on its rings.
 *
 * Every ring is a request queue the driver fills; each slot (split head or
 * packed buffer id) owns a struct vu_blk_area in shared memory holding the
 * request header, the status byte and, with INDIRECT_DESC, the descriptor
 * table. The backend is not trusted: the ring verbs check every used id and
 * length, and a status byte outside OK, IOERR and UNSUPP, or never written,
 * latches the queue broken.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "vhu_ctrl.h"
#include "vhu_virtio_blk.h"
#include "vu_blk_req.h"
#include "vu_packed.h"
#include "vu_private.h"
#include "vu_split.h"

struct vhu_vblk {
	struct vu_dev dev;	       /* the protocol half's device */
	struct vu_blk_limits lim;      /* set at start, read by the data path */
	uint64_t *cookies[VU_MAX_VQS]; /* per ring, per slot: the request's cookie */
	uint32_t *types[VU_MAX_VQS];   /* per ring, per slot: the request's type */
	uint64_t alloc_off;	       /* vhu_vblk_alloc(): next free byte of the data area */
	bool ran;		       /* the device ran once: its config was read */
};

/* ---- the device type ---- */

static uint64_t
vu_blk_features(const struct vu_dev *dev)
{
	return VHU_BIT(VIRTIO_BLK_F_SIZE_MAX) | VHU_BIT(VIRTIO_BLK_F_SEG_MAX) |
	       VHU_BIT(VIRTIO_BLK_F_BLK_SIZE) | VHU_BIT(VIRTIO_BLK_F_FLUSH) |
	       VHU_BIT(VIRTIO_BLK_F_RO);
}

static uint16_t
vu_blk_active_queues(const struct vu_dev *dev)
{
	return dev->queues;
}

/* Every ring is a request queue the driver fills. */
static bool
vu_blk_ring_tx(uint16_t index)
{
	return true;
}

static const char *
vu_blk_ring_role(const struct vu_vq *vq)
{
	return "request";
}

static void
vu_blk_config(struct vu_dev *dev)
{
	const struct virtio_blk_config *c = &dev->config.blk;

	VU_LOG(INFO,
	       "%s: backend config: capacity %" PRIu64 " sectors, blk_size %u, seg_max %u, "
	       "size_max %u, num_queues %u",
	       dev->path, c->capacity, c->blk_size, c->seg_max, c->size_max, c->num_queues);
}

static const struct vu_devtype vu_blk_type = {
	.name = "blk",
	.queue_word = "queue(s)",
	.rings_per_queue = 1,
	.mq_feature = VIRTIO_BLK_F_MQ,
	.config_size = sizeof(struct virtio_blk_config),
	.features = vu_blk_features,
	.active_queues = vu_blk_active_queues,
	.ring_tx = vu_blk_ring_tx,
	.ring_role = vu_blk_ring_role,
	.config = vu_blk_config,
};

/* ---- control ---- */

static void
vblk_free(struct vhu_vblk *b)
{
	uint16_t i;

	for (i = 0; i < VU_MAX_VQS; i++) {
		rte_free(b->cookies[i]);
		rte_free(b->types[i]);
	}
	rte_free(b);
}

struct vhu_vblk *
vhu_vblk_create(const struct vhu_vblk_conf *conf)
{
	struct vhu_vblk *b;
	struct vu_dev *dev;
	char name[64];
	uint16_t i;
	int rc;

	if (conf->path == NULL || strlen(conf->path) >= sizeof(dev->path)) {
		VU_LOG(ERR, "blk: socket path missing or longer than %zu bytes",
		       sizeof(dev->path) - 1);
		rte_errno = EINVAL;
		return NULL;
	}
	if (conf->queues == 0 || conf->queues > VHU_VBLK_MAX_QUEUES) {
		VU_LOG(ERR, "%s: %u queues; a blk device takes 1 to %u", conf->path, conf->queues,
		       VHU_VBLK_MAX_QUEUES);
		rte_errno = EINVAL;
		return NULL;
	}
	if (conf->queue_size < 2 || conf->queue_size > 32768 ||
	    (!conf->packed && !rte_is_power_of_2(conf->queue_size))) {
		VU_LOG(ERR,
		       "%s: queue size %u; use a power of two from 2 to 32768 (any size from 2 "
		       "with packed rings)",
		       conf->path, conf->queue_size);
		rte_errno = EINVAL;
		return NULL;
	}
	b = rte_zmalloc("vhu_vblk", sizeof(*b), RTE_CACHE_LINE_SIZE);
	if (b == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	dev = &b->dev;
	dev->type = &vu_blk_type;
	dev->socket_id = SOCKET_ID_ANY;
	snprintf(dev->path, sizeof(dev->path), "%s", conf->path);
	dev->queues = conf->queues;
	dev->queue_size = conf->queue_size;
	dev->want_packed = conf->packed;
	dev->want_indirect = conf->indirect;
	for (i = 0; i < conf->queues; i++) {
		b->cookies[i] = rte_zmalloc("vblk_cookies", conf->queue_size * sizeof(uint64_t), 0);
		b->types[i] = rte_zmalloc("vblk_types", conf->queue_size * sizeof(uint32_t), 0);
		if (b->cookies[i] == NULL || b->types[i] == NULL) {
			rc = -ENOMEM;
			goto free_b;
		}
	}
	snprintf(name, sizeof(name), "vhu-virtio-blk-%d", (int)getpid());
	rc = vu_mem_create(&dev->mem, name, vu_rings_bytes(dev),
			   conf->data_bytes != 0 ? conf->data_bytes : 1, false);
	if (rc != 0)
		goto free_b;
	b->alloc_off = dev->mem.ring_size;
	rc = vu_rings_alloc(dev);
	if (rc != 0)
		goto free_mem;
	rc = vu_conn_init(dev);
	if (rc != 0)
		goto free_rings;
	return b;
free_rings:
	vu_rings_free(dev);
free_mem:
	vu_mem_destroy(&dev->mem);
free_b:
	vblk_free(b);
	rte_errno = -rc;
	return NULL;
}

int
vhu_vblk_start(struct vhu_vblk *b)
{
	struct vu_dev *dev = &b->dev;
	const struct virtio_blk_config *c = &dev->config.blk;
	int rc = vu_conn_start(dev);

	if (rc != 0)
		return rc;
	pthread_mutex_lock(&vhu_ctrl_lock);
	memset(&b->lim, 0, sizeof(b->lim));
	if (dev->config_valid && vu_has_feature(dev, VIRTIO_BLK_F_SIZE_MAX))
		b->lim.size_max = c->size_max;
	if (dev->config_valid && vu_has_feature(dev, VIRTIO_BLK_F_SEG_MAX))
		b->lim.seg_max = c->seg_max;
	/* Without indirect descriptors a chain takes ring entries: a request may use
	 * at most a quarter of the ring, so several fit. */
	b->lim.max_pieces = VU_BLK_IND_MAX;
	if (!vu_has_feature(dev, VIRTIO_RING_F_INDIRECT_DESC) &&
	    dev->queue_size / 4 < VU_BLK_IND_MAX)
		b->lim.max_pieces = dev->queue_size / 4 < 3 ? 3 : dev->queue_size / 4;
	b->ran = true;
	pthread_mutex_unlock(&vhu_ctrl_lock);
	return 0;
}

void
vhu_vblk_stop(struct vhu_vblk *b)
{
	vu_conn_stop(&b->dev);
}

void
vhu_vblk_destroy(struct vhu_vblk *b)
{
	if (b == NULL)
		return;
	vu_conn_fini(&b->dev);
	vu_rings_free(&b->dev);
	vu_mem_destroy(&b->dev.mem);
	vblk_free(b);
}

int
vhu_vblk_info_get(struct vhu_vblk *b, struct vhu_vblk_info *info)
{
	struct vu_dev *dev = &b->dev;
	const struct virtio_blk_config *c = &dev->config.blk;

	memset(info, 0, sizeof(*info));
	pthread_mutex_lock(&vhu_ctrl_lock);
	if (!b->ran) {
		pthread_mutex_unlock(&vhu_ctrl_lock);
		return -ENOTCONN;
	}
	info->features = dev->features;
	info->config_valid = dev->config_valid;
	info->capacity = dev->config_valid ? c->capacity : 0;
	info->blk_size = dev->config_valid && vu_has_feature(dev, VIRTIO_BLK_F_BLK_SIZE)
				 ? c->blk_size
				 : VIRTIO_BLK_SECTOR_SIZE;
	info->size_max = b->lim.size_max;
	info->seg_max = b->lim.seg_max;
	info->num_queues =
		dev->config_valid && vu_has_feature(dev, VIRTIO_BLK_F_MQ) ? c->num_queues : 1;
	info->queues = dev->active_qp;
	info->packed = vu_has_feature(dev, VIRTIO_F_RING_PACKED);
	info->indirect = vu_has_feature(dev, VIRTIO_RING_F_INDIRECT_DESC);
	info->event_idx = vu_has_feature(dev, VIRTIO_RING_F_EVENT_IDX);
	info->read_only = vu_has_feature(dev, VIRTIO_BLK_F_RO);
	pthread_mutex_unlock(&vhu_ctrl_lock);
	return 0;
}

void *
vhu_vblk_alloc(struct vhu_vblk *b, uint32_t len, uint32_t align)
{
	struct vu_mem *mem = &b->dev.mem;
	uint64_t off;

	if (len == 0 || len > VU_UNIT_SIZE || align == 0 || align > 4096 ||
	    !rte_is_power_of_2(align))
		return NULL;
	off = RTE_ALIGN_CEIL(b->alloc_off, (uint64_t)align);
	/* The device reaches a buffer at one contiguous address only within a unit. */
	if ((off & (VU_UNIT_SIZE - 1)) + len > VU_UNIT_SIZE)
		off = RTE_ALIGN_CEIL(off, VU_UNIT_SIZE);
	if (off > mem->size || len > mem->size - off)
		return NULL;
	b->alloc_off = off + len;
	return mem->va + off;
}

/* ---- data path ---- */

/* The running ring of queue 'q' (checked by the caller), or NULL with *rc saying why not. */
static inline struct vu_vq *
vblk_vq(struct vhu_vblk *b, uint16_t q, int *rc)
{
	struct vu_vq *vq = vu_data_vq(&b->dev, q);

	if (unlikely(vq == NULL))
		*rc = b->dev.vq[q]->broken ? -EIO : -ENOTCONN;
	return vq;
}

static int
vblk_submit_marked(struct vhu_vblk *b, uint16_t q, const struct vhu_vblk_req *req)
{
	struct vu_piece pc[VU_BLK_IND_MAX];
	struct vu_blk_area *area;
	struct vu_vq *vq;
	const char *why;
	uint32_t writable;
	uint16_t id;
	int rc, n;

	vq = vblk_vq(b, q, &rc);
	if (vq == NULL)
		return rc;
	if (unlikely(!vq->tx_open))
		return -ENOTCONN; /* the backend went away: only completions come back */
	if (req->len != 0 && unlikely(!vu_mem_holds(vq->mem, req->buf, req->len))) {
		VU_LOG(ERR,
		       "%s: queue %u: request buffer is not shared memory from vhu_vblk_alloc()",
		       b->dev.path, q);
		return -EINVAL;
	}
	if (vq->num_free == 0)
		return -EAGAIN;
	id = vq->conf.packed ? vu_packed_next_id(vq) : vu_split_next_head(vq);
	area = (struct vu_blk_area *)&vq->tx_area[id];
	n = vu_blk_pieces(&b->lim, req->type, vu_mem_iova(vq->mem, &area->hdr),
			  req->len != 0 ? vu_mem_iova(vq->mem, req->buf) : 0, req->len,
			  vu_mem_iova(vq->mem, &area->status), pc, &writable, &why);
	if (unlikely(n < 0)) {
		VU_LOG(ERR, "%s: queue %u: request type %u of %u bytes at sector %" PRIu64 ": %s",
		       b->dev.path, q, req->type, req->len, req->sector, why);
		return n;
	}
	if (!vq->conf.indirect && n > vq->num_free)
		return -EAGAIN;
	area->hdr.type = req->type;
	area->hdr.ioprio = 0;
	area->hdr.sector = req->sector;
	area->status = VU_BLK_STATUS_UNSET;
	b->cookies[q][id] = req->cookie;
	b->types[q][id] = req->type;
	if (vq->conf.indirect)
		vu_add_indirect(vq, area->table, pc, (uint16_t)n, NULL);
	else
		vu_add_chain(vq, pc, (uint16_t)n, NULL);
	/* What the device may write: a used length past it breaks the ring. */
	vq->slots[id].len = writable;
	return 0;
}

static void
vblk_kick_marked(struct vhu_vblk *b, uint16_t q)
{
	struct vu_vq *vq;
	int rc;

	vq = vblk_vq(b, q, &rc);
	if (vq != NULL)
		vu_flush_kick(vq);
}

/* Fill a completion of slot 'id' (already taken); false with the ring broken. */
static inline bool
vblk_done(struct vhu_vblk *b, struct vu_vq *vq, uint16_t q, uint16_t id, uint32_t len,
	  struct vhu_vblk_done *d)
{
	const struct vu_blk_area *area = (const struct vu_blk_area *)&vq->tx_area[id];
	uint8_t status = area->status;
	const char *why = vu_blk_done_check(status);

	if (unlikely(why != NULL)) {
		vu_vq_set_broken(
			vq, "request id %u (type %u, sector %" PRIu64 "): status byte 0x%02x %s",
			id, b->types[q][id], area->hdr.sector, status, why);
		return false;
	}
	d->cookie = b->cookies[q][id];
	d->used_len = len;
	d->status = status;
	return true;
}

/* Take up to 'n' completions of a split ring; stops at the first violation (vq->broken). */
static inline uint16_t
vblk_poll_split(struct vhu_vblk *b, struct vu_vq *vq, uint16_t q, struct vhu_vblk_done *done,
		uint16_t n)
{
	uint16_t k;
	uint32_t id, len;

	n = RTE_MIN(n, vu_split_used_count(vq)); /* latches a bogus used index */
	for (k = 0; k < n; k++) {
		vu_split_used_peek(vq, 0, &id, &len);
		if (unlikely(!vu_split_take(vq, id, len) ||
			     !vblk_done(b, vq, q, (uint16_t)id, len, &done[k])))
			return k;
	}
	vu_split_quiet(vq);
	return k;
}

static int
vblk_poll_marked(struct vhu_vblk *b, uint16_t q, struct vhu_vblk_done *done, uint16_t n)
{
	struct vu_vq *vq;
	uint16_t k = 0;
	uint32_t len;
	int rc;

	vq = vblk_vq(b, q, &rc);
	if (vq == NULL)
		return rc;
	if (vq->conf.packed) {
		uint16_t id;

		while (k < n && vq->inflight > 0 && vu_packed_used_peek(vq, 0, &id, &len)) {
			if (unlikely(!vu_packed_take(vq, id, len) ||
				     !vblk_done(b, vq, q, id, len, &done[k])))
				return -EIO;
			k++;
		}
	} else {
		k = vblk_poll_split(b, vq, q, done, n);
		if (unlikely(vq->broken))
			return -EIO;
	}
	/* The backend went away: what it completed has been taken; the rest waits
	 * for a backend to resume the ring, which the caller may not want to wait for. */
	if (k == 0 && unlikely(!vq->tx_open) && vq->inflight > 0)
		return -ENOTCONN;
	return k;
}

/* The data-path entry points mark their queue busy for their whole run, as
 * net bursts do: vu_rings_unpublish() waits on the mark before it touches the ring. */
int
vhu_vblk_submit(struct vhu_vblk *b, uint16_t q, const struct vhu_vblk_req *req)
{
	struct vhu_burst_mark *mark;
	int rc;

	if (unlikely(!vu_queue_exists(&b->dev, q)))
		return -EINVAL;
	mark = &b->dev.vq[q]->mark;
	vhu_burst_enter(mark);
	rc = vblk_submit_marked(b, q, req);
	vhu_burst_exit(mark);
	return rc;
}

void
vhu_vblk_kick(struct vhu_vblk *b, uint16_t q)
{
	struct vhu_burst_mark *mark;

	if (unlikely(!vu_queue_exists(&b->dev, q)))
		return;
	mark = &b->dev.vq[q]->mark;
	vhu_burst_enter(mark);
	vblk_kick_marked(b, q);
	vhu_burst_exit(mark);
}

int
vhu_vblk_poll(struct vhu_vblk *b, uint16_t q, struct vhu_vblk_done *done, uint16_t n)
{
	struct vhu_burst_mark *mark;
	int rc;

	if (unlikely(!vu_queue_exists(&b->dev, q)))
		return -EINVAL;
	mark = &b->dev.vq[q]->mark;
	vhu_burst_enter(mark);
	rc = vblk_poll_marked(b, q, done, n);
	vhu_burst_exit(mark);
	return rc;
}

const char *
vhu_vblk_error(struct vhu_vblk *b, uint16_t q)
{
	if (!vu_queue_exists(&b->dev, q) ||
	    !__atomic_load_n(&b->dev.vq[q]->broken, __ATOMIC_RELAXED))
		return "";
	return b->dev.vq[q]->broken_reason;
}

uint32_t
vhu_vblk_inflight(struct vhu_vblk *b, uint16_t q)
{
	return vu_queue_exists(&b->dev, q) ? b->dev.vq[q]->inflight : 0;
}
