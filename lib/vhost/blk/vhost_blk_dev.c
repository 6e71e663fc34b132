/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-blk device type: what it offers (features, config space from
 * the image), what the guest may write (the cache mode, CONFIG_WCE), the
 * per-queue epoch a ring start begins, vhu_blk_create() and the resize that
 * the front-end hears of through CONFIG_CHANGE. The core calls these from the
 * control thread; the request path is in vhost_blk.c.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_errno.h>

#include "vhost_blk.h"

/* Largest data segment offered (size_max): any length the parser accepts
 * fits a vhu_buf_vec piece; 1 MiB keeps a request's pieces few. */
#define BLK_SIZE_MAX (1u << 20)
/* Sectors one discard or write-zeroes range may cover (2 GiB - 512). */
#define BLK_MAX_RANGE_SECTORS ((UINT32_MAX >> 1) & ~7u)
/* How long a ring stop waits for the requests out on it to complete. */
#define BLK_STOP_WAIT_US (5u * 1000 * 1000)

/* The config's problem, or NULL if it is good. */
static const char *
blk_config_problem(const struct vhu_blk_config *c)
{
	if (c->num_queues == 0 || c->num_queues > VHU_BLK_MAX_QUEUES)
		return "request queues must be 1..16";
	if (c->blk_size < 512 || c->blk_size > 65536 || (c->blk_size & (c->blk_size - 1)) != 0)
		return "the block size must be a power of two in 512..65536";
	if (c->capacity == 0 || c->capacity % c->blk_size != 0)
		return "the capacity must be a non-zero multiple of the block size";
	if (c->physical_block_exp > 15)
		return "the physical block exponent must be 0..15";
	if (c->serial != NULL && strlen(c->serial) > VIRTIO_BLK_ID_BYTES)
		return "the serial must be at most 20 bytes";
	return NULL;
}

static uint16_t
blk_queue_count(const void *cfg)
{
	const struct vhu_blk_config *c = cfg;
	const char *why = blk_config_problem(c);

	if (why != NULL) {
		VHU_LOG(ERR, "cannot create blk device %s: %s",
			c->path != NULL ? c->path : "(null)", why);
		return 0;
	}
	return c->num_queues;
}

static void
blk_init(struct vhu_vhost_dev *dev, const void *cfg)
{
	const struct vhu_blk_config *c = cfg;
	struct vhu_blk_dev *bd = vhu_blk_dev(dev);
	uint16_t i;

	memset(bd, 0, sizeof(*bd));
	bd->lim.capacity = c->capacity >> VIRTIO_BLK_SECTOR_SHIFT;
	bd->lim.seg_max = VHU_BLK_SEGS - 2;
	bd->lim.size_max = BLK_SIZE_MAX;
	bd->lim.read_only = c->read_only;
	bd->discard = c->discard && !c->read_only;
	bd->lim.max_discard_sectors = BLK_MAX_RANGE_SECTORS;
	bd->lim.max_discard_seg = VHU_BLK_MAX_RANGES;
	bd->lim.max_write_zeroes_sectors = BLK_MAX_RANGE_SECTORS;
	bd->lim.max_write_zeroes_seg = VHU_BLK_MAX_RANGES;
	bd->num_queues = c->num_queues;
	bd->blk_size = c->blk_size;
	bd->physical_block_exp = c->physical_block_exp;
	bd->min_io_size = c->min_io_size != 0 ? c->min_io_size : 1;
	bd->opt_io_size = c->opt_io_size;
	bd->write_back = c->write_cache;
	bd->write_back_initial = c->write_cache;
	if (c->serial != NULL)
		memcpy(bd->serial, c->serial, strlen(c->serial));
	bd->stop_wait_us = BLK_STOP_WAIT_US;
	for (i = 0; i < VHU_BLK_MAX_QUEUES; i++)
		vhu_window_init(&bd->q[i].w, VHU_BLK_WINDOW);
}

static uint64_t
blk_features(const struct vhu_vhost_dev *dev)
{
	const struct vhu_blk_dev *bd = vhu_blk_dev(dev);
	uint64_t f = VHU_BIT(VIRTIO_BLK_F_SIZE_MAX) | VHU_BIT(VIRTIO_BLK_F_SEG_MAX) |
		     VHU_BIT(VIRTIO_BLK_F_BLK_SIZE) | VHU_BIT(VIRTIO_BLK_F_TOPOLOGY) |
		     VHU_BIT(VIRTIO_BLK_F_FLUSH) | VHU_BIT(VIRTIO_BLK_F_CONFIG_WCE) |
		     VHU_BIT(VIRTIO_BLK_F_MQ);

	if (bd->lim.read_only)
		f |= VHU_BIT(VIRTIO_BLK_F_RO);
	if (bd->discard)
		f |= VHU_BIT(VIRTIO_BLK_F_DISCARD) | VHU_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

void
vhu_blk_config_space(const struct vhu_vhost_dev *dev, struct virtio_blk_config *cfg)
{
	const struct vhu_blk_dev *bd = vhu_blk_dev(dev);

	memset(cfg, 0, sizeof(*cfg));
	cfg->capacity = __atomic_load_n(&bd->lim.capacity, __ATOMIC_RELAXED);
	cfg->size_max = bd->lim.size_max;
	cfg->seg_max = bd->lim.seg_max;
	cfg->blk_size = bd->blk_size;
	cfg->physical_block_exp = bd->physical_block_exp;
	cfg->min_io_size = bd->min_io_size;
	cfg->opt_io_size = bd->opt_io_size;
	cfg->writeback = __atomic_load_n(&bd->write_back, __ATOMIC_RELAXED);
	cfg->num_queues = bd->num_queues;
	if (bd->discard) {
		cfg->max_discard_sectors = bd->lim.max_discard_sectors;
		cfg->max_discard_seg = bd->lim.max_discard_seg;
		cfg->discard_sector_alignment = bd->blk_size >> VIRTIO_BLK_SECTOR_SHIFT;
		cfg->max_write_zeroes_sectors = bd->lim.max_write_zeroes_sectors;
		cfg->max_write_zeroes_seg = bd->lim.max_write_zeroes_seg;
		cfg->write_zeroes_may_unmap = 1;
	}
}

static uint32_t
blk_get_config(const struct vhu_vhost_dev *dev, uint8_t *space)
{
	struct virtio_blk_config cfg;

	RTE_BUILD_BUG_ON(sizeof(cfg) > VHOST_USER_MAX_CONFIG_SIZE);
	vhu_blk_config_space(dev, &cfg);
	memcpy(space, &cfg, sizeof(cfg));
	return sizeof(cfg);
}

/* Only 'writeback' is writable, and only with CONFIG_WCE (virtio 1.2, 5.2.5). */
static int
blk_set_config(struct vhu_vhost_dev *dev, uint32_t offset, const uint8_t *buf, uint32_t len)
{
	struct vhu_blk_dev *bd = vhu_blk_dev(dev);
	const uint32_t wce = offsetof(struct virtio_blk_config, writeback);

	if (offset != wce || len != 1 || buf[0] > 1 ||
	    (dev->features_set && !dev_has_feature(dev, VIRTIO_BLK_F_CONFIG_WCE)))
		return -EPERM;
	__atomic_store_n(&bd->write_back, buf[0] != 0, __ATOMIC_RELAXED);
	VHU_LOG(INFO, "%s: the guest set the write cache to %s", dev->path,
		buf[0] != 0 ? "write-back" : "write-through");
	return 0;
}

/* The request types the parser lets through follow what was negotiated. */
static void
blk_features_set(struct vhu_vhost_dev *dev)
{
	struct vhu_blk_dev *bd = vhu_blk_dev(dev);

	bd->lim.flush = dev_has_feature(dev, VIRTIO_BLK_F_FLUSH);
	bd->lim.discard = bd->discard && dev_has_feature(dev, VIRTIO_BLK_F_DISCARD);
	bd->lim.write_zeroes = bd->discard && dev_has_feature(dev, VIRTIO_BLK_F_WRITE_ZEROES);
	/* Without CONFIG_WCE (and without FLUSH) the device must not cache. */
	if (!dev_has_feature(dev, VIRTIO_BLK_F_CONFIG_WCE))
		__atomic_store_n(&bd->write_back, bd->lim.flush && bd->write_back_initial,
				 __ATOMIC_RELAXED);
}

/* A new epoch: requests still out from before belong to the old ring. */
static void
blk_queue_start(struct vhu_vhost_dev *dev, struct vhu_vq *vq)
{
	struct vhu_blk_queue *bq = &vhu_blk_dev(dev)->q[vq->index];

	/* Relaxed: published to the lcore by the release store of vq->ready. */
	__atomic_store_n(&bq->epoch, bq->epoch + 1, __ATOMIC_RELAXED);
}

/*
 * The ring is stopped: wait until the requests out on it are complete (the
 * lcore goes on polling its backend and completing them; it writes no status
 * on a stopped ring), so that their I/O is over before the front-end hears
 * the ring's base and another back-end, or this one restarted, does them
 * again. Bounded: an application that stopped polling is named in the log,
 * and the guest memory that I/O may still write stays mapped until it
 * completes (blk_mem_held()).
 */
static void
blk_queue_stop(struct vhu_vhost_dev *dev, struct vhu_vq *vq)
{
	struct vhu_blk_dev *bd = vhu_blk_dev(dev);
	struct vhu_blk_queue *bq = &bd->q[vq->index];
	uint64_t waited_us = 0;

	while (!vhu_window_settled(&bq->w)) {
		if (waited_us >= bd->stop_wait_us) {
			VHU_LOG(ERR,
				"%s: ring %u stopped with %u requests still out after %u ms; guest "
				"memory stays mapped until they complete (is the application still "
				"polling the queue?)",
				dev->path, vq->index, vhu_window_outstanding(&bq->w),
				bd->stop_wait_us / 1000);
			/* The ring is stopped: no take moves the tail. */
			bq->held_end = __atomic_load_n(&bq->w.tail, __ATOMIC_RELAXED);
			bq->held = true;
			return;
		}
		usleep(100);
		waited_us += 100;
	}
}

/* Is I/O that a ring stop did not wait out still running? */
static bool
blk_mem_held(struct vhu_vhost_dev *dev)
{
	struct vhu_blk_dev *bd = vhu_blk_dev(dev);
	bool any = false;
	uint16_t i;

	for (i = 0; i < bd->num_queues; i++) {
		struct vhu_blk_queue *bq = &bd->q[i];

		if (bq->held && vhu_window_done_before(&bq->w, bq->held_end))
			bq->held = false;
		any |= bq->held;
	}
	return any;
}

static void
blk_reset(struct vhu_vhost_dev *dev)
{
	struct vhu_blk_dev *bd = vhu_blk_dev(dev);

	__atomic_store_n(&bd->write_back, bd->write_back_initial, __ATOMIC_RELAXED);
	bd->lim.flush = false;
	bd->lim.discard = false;
	bd->lim.write_zeroes = false;
}

const struct vhu_device_type vhu_blk_device_type = {
	.name = "blk",
	.dev_priv_size = sizeof(struct vhu_blk_dev),
	.vq_priv_size = 0,
	.queue_count = blk_queue_count,
	.init = blk_init,
	.features = blk_features,
	.get_config = blk_get_config,
	.set_config = blk_set_config,
	.features_set = blk_features_set,
	.queue_start = blk_queue_start,
	.queue_stop = blk_queue_stop,
	.reset = blk_reset,
	/* Requests complete after their burst, and one that completes while its
	 * ring is stopped is dropped (vhost_blk.c): the ring resumes at its used
	 * position. */
	.resume_at_used = true,
	.mem_held = blk_mem_held,
};

struct vhu_vhost_dev *
vhu_blk_create(const struct vhu_blk_config *cfg)
{
	struct vhu_dev_config core = { 0 };

	if (cfg == NULL || cfg->path == NULL || cfg->path[0] == '\0' ||
	    strlen(cfg->path) >= sizeof(((struct vhu_vhost_dev *)NULL)->path) ||
	    (cfg->flags & ~(VHU_VHOST_CLIENT | VHU_VHOST_NO_RECONNECT)) != 0) {
		VHU_LOG(ERR,
			"cannot create blk device %s: the socket path must be 1..107 bytes "
			"and the flags CLIENT or NO_RECONNECT only",
			cfg != NULL && cfg->path != NULL ? cfg->path : "(null)");
		rte_errno = EINVAL;
		return NULL;
	}
	core.path = cfg->path;
	core.flags = cfg->flags;
	core.disable_features = cfg->disable_features;
	core.callbacks = cfg->callbacks;
	core.callback_arg = cfg->callback_arg;
	return vhu_dev_create(&vhu_blk_device_type, &core, cfg);
}

bool
vhu_blk_write_back(const struct vhu_vhost_dev *dev)
{
	return vhu_is_blk(dev) && __atomic_load_n(&vhu_blk_dev(dev)->write_back, __ATOMIC_RELAXED);
}

int
vhu_blk_resize(struct vhu_vhost_dev *dev, uint64_t capacity)
{
	struct vhu_blk_dev *bd;
	int rc;

	if (!vhu_is_blk(dev))
		return -EINVAL;
	bd = vhu_blk_dev(dev);
	if (capacity == 0 || capacity % bd->blk_size != 0) {
		VHU_LOG(ERR,
			"%s: cannot resize to %" PRIu64 " bytes: not a non-zero multiple of "
			"the %u-byte block",
			dev->path, capacity, bd->blk_size);
		return -EINVAL;
	}
	/* Never wait for the control thread: it may itself be waiting, in a ring
	 * stop, for requests that the caller's lcore has to complete. */
	if (pthread_mutex_trylock(&vhu_ctrl_lock) != 0)
		return -EBUSY;
	/* Relaxed: requests checked against the old size or the new one are both
	 * right for a moment; the guest learns the new size from the message. */
	__atomic_store_n(&bd->lim.capacity, capacity >> VIRTIO_BLK_SECTOR_SHIFT, __ATOMIC_RELAXED);
	rc = vhu_dev_config_changed(dev);
	pthread_mutex_unlock(&vhu_ctrl_lock);
	VHU_LOG(INFO, "%s: capacity now %" PRIu64 " bytes%s", dev->path, capacity,
		rc == 0 ? "; the front-end was told (CONFIG_CHANGE)"
			: "; no back-end channel: the front-end reads it at its next GET_CONFIG");
	return rc;
}
