/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-blk device type (lib/vhost/blk): what it offers, its config
 * space and what the guest may write there, and the request path over split
 * and packed rings in synthetic guest memory, hostile chains included. Each
 * ring test is registered twice, "<name>_split" and "<name>_packed".
 *
 * No EAL: the device and its rings are plain allocations, as in
 * test_testdev.c; guest memory sits between guard pages, so a request that
 * reached outside its buffers would fault.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "test_harness.h"
#include "vhost_blk.h"
#include "vhost_log.h"

#define REGION_SIZE (1024 * 1024)
#define RING_SIZE   512
#define CAPACITY    (1024 * 1024) /* bytes: 2048 sectors */

struct bt {
	struct guest g;
	struct vhu_vhost_dev *dev;
	bool packed;
	struct packed_drv pd; /* packed: the driver's side of ring 0 */
	uint16_t next_desc;   /* split: next unused descriptor */
	uint16_t used_seen;   /* split: used entries the driver took */
};

static struct vhu_blk_config
blk_cfg(void)
{
	return (struct vhu_blk_config){
		.path = "unit-blk",
		.num_queues = 2,
		.capacity = CAPACITY,
		.blk_size = 512,
		.physical_block_exp = 3,
		.min_io_size = 8,
		.opt_io_size = 64,
		.discard = true,
		.serial = "vhu-unit-serial",
	};
}

static struct vhu_vhost_dev *
blk_new(const struct vhu_blk_config *cfg)
{
	struct vhu_dev_config core = { .path = cfg->path };
	struct vhu_vhost_dev *dev = calloc(1, vhu_dev_bytes(&vhu_blk_device_type));
	size_t vq_bytes = vhu_vq_bytes(&vhu_blk_device_type);
	uint16_t i;

	ASSERT_TRUE(dev != NULL);
	for (i = 0; i < VHU_MAX_VQS; i++) {
		dev->vq[i] = aligned_alloc(RTE_CACHE_LINE_SIZE, vq_bytes);
		ASSERT_TRUE(dev->vq[i] != NULL);
		memset(dev->vq[i], 0, vq_bytes);
	}
	if (vhu_dev_init(dev, &vhu_blk_device_type, &core, cfg) != 0) {
		for (i = 0; i < VHU_MAX_VQS; i++)
			free(dev->vq[i]);
		free(dev);
		return NULL;
	}
	return dev;
}

static void
blk_free(struct vhu_vhost_dev *dev)
{
	vhu_dev_reset(dev);
	vhu_dev_drop_retired_mem(dev);
	for (int i = 0; i < VHU_MAX_VQS; i++)
		free(dev->vq[i]);
	free(dev);
}

/* Negotiate what the device offers, as SET_FEATURES does. */
static void
negotiate(struct vhu_vhost_dev *dev)
{
	dev->features = vhu_dev_offered_features(dev) & ~VHU_BIT(VIRTIO_F_RING_PACKED);
	dev->features_set = true;
	dev->type->features_set(dev);
}

static void
bt_init(struct bt *t, bool packed, const struct vhu_blk_config *cfg)
{
	memset(t, 0, sizeof(*t));
	t->packed = packed;
	guest_init(&t->g, 2, REGION_SIZE);
	t->dev = blk_new(cfg);
	ASSERT_TRUE(t->dev != NULL);
	negotiate(t->dev);
	if (packed)
		t->dev->features |= VHU_BIT(VIRTIO_F_RING_PACKED); /* for the ring messages */
	if (packed)
		guest_packed_ring_core(&t->g, t->dev->vq[0], RING_SIZE, &t->pd);
	else
		guest_split_ring_core(&t->g, t->dev->vq[0], RING_SIZE);
	t->dev->vq[0]->dev = t->dev;
}

static void
bt_fini(struct bt *t)
{
	blk_free(t->dev);
	guest_fini(&t->g);
}

/* A buffer of a chain the driver posts. */
struct buf {
	uint64_t gpa;
	uint32_t len;
	bool write; /* device-writable */
};

/* Driver: post the chain b[0 .. n). Returns its id. */
static uint16_t
post(struct bt *t, const struct buf *b, uint16_t n)
{
	struct vhu_vq *vq = t->dev->vq[0];
	struct vring_packed_desc *chain = calloc(n, sizeof(*chain));
	uint16_t i, head;

	ASSERT_TRUE(chain != NULL && n <= RING_SIZE);
	head = t->packed ? t->pd.avail_idx : (uint16_t)(t->next_desc % RING_SIZE);
	for (i = 0; i < n; i++) {
		uint16_t flags =
			(b[i].write ? VRING_DESC_F_WRITE : 0) | (i + 1 < n ? VRING_DESC_F_NEXT : 0);

		if (t->packed) {
			chain[i] = (struct vring_packed_desc){
				.addr = b[i].gpa, .len = b[i].len, .id = head, .flags = flags
			};
		} else {
			uint16_t d = (uint16_t)((t->next_desc + i) % RING_SIZE);

			drv_desc(vq, d, b[i].gpa, b[i].len, flags, (uint16_t)((d + 1) % RING_SIZE));
		}
	}
	if (t->packed) {
		pdrv_post(&t->pd, chain, n);
	} else {
		t->next_desc = (uint16_t)(t->next_desc + n);
		drv_avail(vq, head);
	}
	free(chain);
	return head;
}

/* Driver: the next used entry, false if none. */
static bool
reap(struct bt *t, uint16_t *id, uint32_t *len)
{
	struct vhu_vq *vq = t->dev->vq[0];
	struct vring_used_elem *e;

	if (t->packed)
		return pdrv_take_used(&t->pd, id, len);
	if (t->used_seen == __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE))
		return false;
	e = &vq->used->ring[t->used_seen++ % RING_SIZE];
	*id = (uint16_t)e->id;
	*len = e->len;
	return true;
}

/* A request as a driver lays it out. */
struct rq {
	uint64_t hdr, data, status; /* gpas */
	uint16_t id;
};

/*
 * Driver: post a request of 'type' at 'sector' with 'len' bytes of data in
 * one buffer (device-writable for a read); the status byte is set to 0xff.
 */
static struct rq
post_req(struct bt *t, uint32_t type, uint64_t sector, uint32_t len)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };
	struct rq r = { 0 };
	struct buf b[3];
	uint16_t n = 0;
	uint8_t ff = 0xff;

	r.hdr = guest_alloc(&t->g, sizeof(h), 8);
	guest_write(&t->g, r.hdr, &h, sizeof(h));
	b[n++] = (struct buf){ r.hdr, sizeof(h), false };
	if (len > 0) {
		r.data = guest_alloc(&t->g, len, 512);
		b[n++] = (struct buf){ r.data, len,
				       type != VIRTIO_BLK_T_OUT && type != VIRTIO_BLK_T_DISCARD &&
					       type != VIRTIO_BLK_T_WRITE_ZEROES };
	}
	r.status = guest_alloc(&t->g, 1, 1);
	guest_write(&t->g, r.status, &ff, 1);
	b[n++] = (struct buf){ r.status, 1, true };
	r.id = post(t, b, n);
	return r;
}

static uint8_t
status_of(struct bt *t, const struct rq *r)
{
	uint8_t s;

	guest_read(&t->g, r->status, &s, 1);
	return s;
}

/* ---- what the device offers ---- */

TEST(offers_the_features_and_protocol_features_of_issue_14)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_vhost_dev *dev = blk_new(&cfg);
	uint64_t f = vhu_dev_offered_features(dev), pf = vhu_dev_offered_protocol_features(dev);
	const unsigned int want[] = {
		VIRTIO_F_VERSION_1,	   VIRTIO_BLK_F_SIZE_MAX,	VIRTIO_BLK_F_SEG_MAX,
		VIRTIO_BLK_F_BLK_SIZE,	   VIRTIO_BLK_F_TOPOLOGY,	VIRTIO_BLK_F_FLUSH,
		VIRTIO_BLK_F_MQ,	   VIRTIO_BLK_F_CONFIG_WCE,	VIRTIO_BLK_F_DISCARD,
		VIRTIO_BLK_F_WRITE_ZEROES, VIRTIO_RING_F_INDIRECT_DESC, VIRTIO_RING_F_EVENT_IDX,
		VIRTIO_F_RING_PACKED
	};
	const unsigned int want_pf[] = {
		VHOST_USER_PROTOCOL_F_CONFIG,	      VHOST_USER_PROTOCOL_F_MQ,
		VHOST_USER_PROTOCOL_F_REPLY_ACK,      VHOST_USER_PROTOCOL_F_BACKEND_REQ,
		VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS,
		VHOST_USER_PROTOCOL_F_RESET_DEVICE,   VHOST_USER_PROTOCOL_F_STATUS
	};

	for (size_t i = 0; i < RTE_DIM(want); i++)
		ASSERT_TRUE((f & VHU_BIT(want[i])) != 0);
	for (size_t i = 0; i < RTE_DIM(want_pf); i++)
		ASSERT_TRUE((pf & VHU_BIT(want_pf[i])) != 0);
	ASSERT_EQ(f & VHU_BIT(VIRTIO_BLK_F_RO), 0);
	ASSERT_EQ(f & VHU_BIT(VIRTIO_NET_F_MRG_RXBUF), 0); /* no net in sight */
	ASSERT_EQ(dev->num_queues, 2);
	blk_free(dev);
}

TEST(read_only_image_offers_ro_and_no_discard)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_vhost_dev *dev;
	uint64_t f;

	cfg.read_only = true;
	dev = blk_new(&cfg);
	f = vhu_dev_offered_features(dev);
	ASSERT_TRUE((f & VHU_BIT(VIRTIO_BLK_F_RO)) != 0);
	ASSERT_EQ(f & VHU_BIT(VIRTIO_BLK_F_DISCARD), 0);
	ASSERT_EQ(f & VHU_BIT(VIRTIO_BLK_F_WRITE_ZEROES), 0);
	blk_free(dev);
}

TEST(bad_configs_are_refused)
{
	struct vhu_blk_config cfg = blk_cfg();

	cfg.num_queues = 17;
	ASSERT_NULL(blk_new(&cfg));
	cfg = blk_cfg();
	cfg.blk_size = 1000;
	ASSERT_NULL(blk_new(&cfg));
	cfg = blk_cfg();
	cfg.capacity = CAPACITY + 100;
	ASSERT_NULL(blk_new(&cfg));
	cfg = blk_cfg();
	cfg.capacity = 0;
	ASSERT_NULL(blk_new(&cfg));
	cfg = blk_cfg();
	cfg.serial = "a serial longer than twenty bytes";
	ASSERT_NULL(blk_new(&cfg));
}

TEST(config_space_describes_the_image)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_vhost_dev *dev = blk_new(&cfg);
	struct virtio_blk_config c;
	uint8_t part[4];

	vhu_dev_get_config(dev, 0, (uint8_t *)&c, sizeof(c));
	ASSERT_EQ(c.capacity, CAPACITY / 512);
	ASSERT_EQ(c.blk_size, 512);
	ASSERT_EQ(c.num_queues, 2);
	ASSERT_EQ(c.seg_max, VHU_BLK_SEGS - 2);
	ASSERT_GT(c.size_max, 0);
	ASSERT_EQ(c.physical_block_exp, 3);
	ASSERT_EQ(c.min_io_size, 8);
	ASSERT_EQ(c.opt_io_size, 64);
	ASSERT_EQ(c.writeback, 0);
	ASSERT_GT(c.max_discard_sectors, 0);
	ASSERT_EQ(c.max_discard_seg, VHU_BLK_MAX_RANGES);
	ASSERT_GT(c.max_write_zeroes_sectors, 0);
	ASSERT_EQ(c.max_write_zeroes_seg, VHU_BLK_MAX_RANGES);
	ASSERT_EQ(c.write_zeroes_may_unmap, 1);
	/* A part of it, as QEMU reads it. */
	vhu_dev_get_config(dev, offsetof(struct virtio_blk_config, num_queues), part, sizeof(part));
	ASSERT_EQ(part[0] | part[1] << 8, 2);
	blk_free(dev);
}

TEST(only_the_cache_mode_is_writable)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_vhost_dev *dev = blk_new(&cfg);
	const uint32_t wce = offsetof(struct virtio_blk_config, writeback);
	struct virtio_blk_config c;
	uint8_t one = 1, two = 2, zeros[8] = { 0 };

	negotiate(dev);
	ASSERT_FALSE(vhu_blk_write_back(dev));
	ASSERT_EQ(vhu_dev_set_config(dev, wce, &one, 1), 0);
	ASSERT_TRUE(vhu_blk_write_back(dev));
	vhu_dev_get_config(dev, 0, (uint8_t *)&c, sizeof(c));
	ASSERT_EQ(c.writeback, 1);
	ASSERT_EQ(vhu_dev_set_config(dev, wce, &two, 1), -EPERM);
	ASSERT_EQ(vhu_dev_set_config(dev, 0, zeros, 8), -EPERM); /* capacity */
	ASSERT_EQ(vhu_dev_set_config(dev, wce - 1, zeros, 2), -EPERM);
	ASSERT_TRUE(vhu_blk_write_back(dev));
	/* A reset forgets the guest's choice. */
	vhu_dev_reset(dev);
	ASSERT_FALSE(vhu_blk_write_back(dev));
	blk_free(dev);
}

TEST(resize_updates_capacity_and_needs_a_channel_to_tell)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_vhost_dev *dev = blk_new(&cfg);
	struct virtio_blk_config c;

	ASSERT_EQ(vhu_blk_resize(dev, 2 * CAPACITY), -ENOTCONN); /* no back-end channel */
	vhu_dev_get_config(dev, 0, (uint8_t *)&c, sizeof(c));
	ASSERT_EQ(c.capacity, 2 * CAPACITY / 512);
	ASSERT_EQ(vhu_blk_resize(dev, 1000), -EINVAL);
	ASSERT_EQ(vhu_blk_resize(NULL, CAPACITY), -EINVAL);
	/* The control thread holds the lock: the call does not wait for it. */
	pthread_mutex_lock(&vhu_ctrl_lock);
	ASSERT_EQ(vhu_blk_resize(dev, CAPACITY), -EBUSY);
	pthread_mutex_unlock(&vhu_ctrl_lock);
	vhu_dev_get_config(dev, 0, (uint8_t *)&c, sizeof(c));
	ASSERT_EQ(c.capacity, 2 * CAPACITY / 512);
	blk_free(dev);
}

/* ---- the request path, split and packed ---- */

/* Take every request posted; at most 'max'. */
static uint16_t
take(struct bt *t, struct vhu_blk_request **reqs, uint16_t max)
{
	return vhu_blk_dequeue_burst(t->dev, 0, reqs, max);
}

static void
read_request_is_handed_over_and_completed(const void *arg)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_blk_request *r[4];
	uint8_t data[4096];
	uint32_t len;
	uint16_t id;
	struct rq q;
	struct bt t;

	bt_init(&t, *(const bool *)arg, &cfg);
	q = post_req(&t, VIRTIO_BLK_T_IN, 8, 4096);
	ASSERT_EQ(take(&t, r, 4), 1);
	ASSERT_FALSE(r[0]->answered);
	ASSERT_EQ(r[0]->req.type, VIRTIO_BLK_T_IN);
	ASSERT_EQ(r[0]->req.offset, 4096);
	ASSERT_EQ(r[0]->req.len, 4096);
	ASSERT_EQ(r[0]->req.ndata, 1);
	ASSERT_PTR_EQ(r[0]->req.data[0].iov_base, guest_ptr(&t.g, q.data));
	memset(r[0]->req.data[0].iov_base, 0x5a, 4096); /* the backend's read */
	ASSERT_EQ(vhu_blk_outstanding(t.dev, 0), 1);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 0); /* not complete yet */
	ASSERT_FALSE(reap(&t, &id, &len));
	vhu_blk_complete(t.dev, r[0], VIRTIO_BLK_S_OK);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 1);
	ASSERT_TRUE(reap(&t, &id, &len));
	ASSERT_EQ(id, q.id);
	ASSERT_EQ(len, 4097);
	ASSERT_EQ(status_of(&t, &q), VIRTIO_BLK_S_OK);
	guest_read(&t.g, q.data, data, sizeof(data));
	ASSERT_EQ(data[0], 0x5a);
	ASSERT_EQ(data[4095], 0x5a);
	ASSERT_EQ(vhu_blk_outstanding(t.dev, 0), 0);
	bt_fini(&t);
}

static void
completions_out_of_order_reach_the_guest_in_take_order(const void *arg)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_blk_request *r[4];
	struct rq q[3];
	uint32_t len;
	uint16_t id;
	struct bt t;

	bt_init(&t, *(const bool *)arg, &cfg);
	q[0] = post_req(&t, VIRTIO_BLK_T_OUT, 0, 512);
	q[1] = post_req(&t, VIRTIO_BLK_T_IN, 1, 1024);
	q[2] = post_req(&t, VIRTIO_BLK_T_FLUSH, 0, 0);
	ASSERT_EQ(take(&t, r, 4), 3);
	ASSERT_EQ(r[2]->req.type, VIRTIO_BLK_T_FLUSH);
	vhu_blk_complete(t.dev, r[2], VIRTIO_BLK_S_OK);
	vhu_blk_complete(t.dev, r[1], VIRTIO_BLK_S_IOERR);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 0); /* the first is still out */
	vhu_blk_complete(t.dev, r[0], VIRTIO_BLK_S_OK);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 3);
	for (int i = 0; i < 3; i++) {
		ASSERT_TRUE(reap(&t, &id, &len));
		ASSERT_EQ(id, q[i].id);
		ASSERT_EQ(len, 1); /* a write, a failed read, a flush: the status only */
	}
	ASSERT_EQ(status_of(&t, &q[1]), VIRTIO_BLK_S_IOERR);
	ASSERT_EQ(status_of(&t, &q[0]), VIRTIO_BLK_S_OK);
	bt_fini(&t);
}

static void
a_burst_of_completions_is_one_return_with_each_status(const void *arg)
{
	static const uint8_t status[3] = { VIRTIO_BLK_S_OK, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_OK };
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_blk_request *r[4], *other[2];
	struct rq q[3];
	uint32_t len;
	uint16_t id;
	struct bt t;

	bt_init(&t, *(const bool *)arg, &cfg);
	q[0] = post_req(&t, VIRTIO_BLK_T_IN, 0, 512);
	q[1] = post_req(&t, VIRTIO_BLK_T_IN, 1, 1024);
	q[2] = post_req(&t, VIRTIO_BLK_T_OUT, 8, 512);
	ASSERT_EQ(take(&t, r, 4), 3);
	/* A request of queue 0 is no request of queue 1: refused, nothing changes. */
	other[0] = r[0];
	ASSERT_EQ(vhu_blk_complete_burst(t.dev, 1, other, status, 1), 0);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 0);
	ASSERT_EQ(status_of(&t, &q[0]), 0xff);
	/* The last two, then the first: the guest sees all three at its completion. */
	ASSERT_EQ(vhu_blk_complete_burst(t.dev, 0, &r[1], &status[1], 2), 2);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 0);
	ASSERT_EQ(vhu_blk_complete_burst(t.dev, 0, r, status, 1), 1);
	ASSERT_EQ(vhu_blk_outstanding(t.dev, 0), 3);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 3);
	for (int i = 0; i < 3; i++) {
		ASSERT_TRUE(reap(&t, &id, &len));
		ASSERT_EQ(id, q[i].id);
		ASSERT_EQ(status_of(&t, &q[i]), status[i]);
	}
	ASSERT_FALSE(reap(&t, &id, &len));
	ASSERT_EQ(vhu_blk_outstanding(t.dev, 0), 0);
	bt_fini(&t);
}

/* Post one request, take it, and check the device answered it with 'status'. */
/*
 * A burst that holds a request of another queue completes the ones before
 * it and leaves it and the rest to the caller, counted: none is lost, and
 * completed on their own queue afterwards, the guest sees all of them.
 */
static void
a_request_of_another_queue_stops_the_burst_and_is_counted(const void *arg)
{
	static const uint8_t status[4] = { VIRTIO_BLK_S_OK, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_OK,
					   VIRTIO_BLK_S_OK };
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_blk_request *r[4], *mixed[4], foreign;
	struct rq q[3];
	uint32_t len;
	uint16_t id;
	struct bt t;
	int i;

	bt_init(&t, *(const bool *)arg, &cfg);
	for (i = 0; i < 3; i++)
		q[i] = post_req(&t, VIRTIO_BLK_T_IN, (uint64_t)i, 512);
	ASSERT_EQ(take(&t, r, 4), 3);
	/* What queue 1's lcore would have taken: its window is not queue 0's. */
	foreign = *r[2];
	foreign.queue = 1;
	mixed[0] = r[0];
	mixed[1] = r[1];
	mixed[2] = &foreign;
	mixed[3] = r[2];
	ASSERT_EQ(vhu_blk_complete_burst(t.dev, 0, mixed, status, 4), 2);
	ASSERT_EQ(vhu_blk_dev(t.dev)->q[0].foreign, 1);
	ASSERT_EQ(status_of(&t, &q[0]), status[0]);
	ASSERT_EQ(status_of(&t, &q[1]), status[1]);
	ASSERT_EQ(status_of(&t, &q[2]), 0xff); /* after the foreign one: left out */
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 2);
	ASSERT_EQ(vhu_blk_outstanding(t.dev, 0), 1);
	/* The caller completes what was left on its own queue. */
	ASSERT_EQ(vhu_blk_complete_burst(t.dev, 0, &mixed[3], &status[3], 1), 1);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 1);
	ASSERT_EQ(vhu_blk_outstanding(t.dev, 0), 0);
	for (i = 0; i < 3; i++) {
		ASSERT_TRUE(reap(&t, &id, &len));
		ASSERT_EQ(id, q[i].id);
		ASSERT_EQ(status_of(&t, &q[i]), i == 1 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
	}
	ASSERT_FALSE(reap(&t, &id, &len));
	ASSERT_EQ(vhu_blk_dev(t.dev)->q[0].foreign, 1);
	bt_fini(&t);
}

static void
expect_answered(struct bt *t, uint32_t type, uint64_t sector, uint32_t len, uint8_t status)
{
	struct vhu_blk_request *r[2];
	uint32_t used;
	uint16_t id;
	struct rq q = post_req(t, type, sector, len);

	ASSERT_EQ(take(t, r, 2), 1);
	ASSERT_TRUE(r[0]->answered);
	ASSERT_EQ(r[0]->req.status_value, status);
	vhu_blk_complete(t->dev, r[0], r[0]->req.status_value);
	ASSERT_EQ(vhu_blk_flush(t->dev, 0), 1);
	ASSERT_TRUE(reap(t, &id, &used));
	ASSERT_EQ(id, q.id);
	ASSERT_EQ(status_of(t, &q), status);
	ASSERT_FALSE(t->dev->vq[0]->broken);
}

static void
requests_outside_the_image_get_ioerr(const void *arg)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct bt t;

	bt_init(&t, *(const bool *)arg, &cfg);
	expect_answered(&t, VIRTIO_BLK_T_IN, CAPACITY / 512, 512, VIRTIO_BLK_S_IOERR);
	expect_answered(&t, VIRTIO_BLK_T_OUT, CAPACITY / 512 - 1, 1024, VIRTIO_BLK_S_IOERR);
	expect_answered(&t, VIRTIO_BLK_T_IN, UINT64_MAX, 512, VIRTIO_BLK_S_IOERR);
	expect_answered(&t, VIRTIO_BLK_T_IN, 0, 100, VIRTIO_BLK_S_IOERR); /* not 512s */
	bt_fini(&t);
}

static void
read_only_refuses_writes_and_unknown_types_are_unsupp(const void *arg)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct bt t;

	cfg.read_only = true;
	bt_init(&t, *(const bool *)arg, &cfg);
	expect_answered(&t, VIRTIO_BLK_T_OUT, 0, 512, VIRTIO_BLK_S_IOERR);
	expect_answered(&t, VIRTIO_BLK_T_DISCARD, 0, 16, VIRTIO_BLK_S_UNSUPP); /* not offered */
	expect_answered(&t, 99, 0, 512, VIRTIO_BLK_S_UNSUPP);
	bt_fini(&t);
}

static void
get_id_is_answered_with_the_serial(const void *arg)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_blk_request *r[2];
	char id_buf[VIRTIO_BLK_ID_BYTES];
	uint32_t len;
	uint16_t id;
	struct rq q;
	struct bt t;

	bt_init(&t, *(const bool *)arg, &cfg);
	q = post_req(&t, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES);
	ASSERT_EQ(take(&t, r, 2), 1);
	ASSERT_TRUE(r[0]->answered);
	vhu_blk_complete(t.dev, r[0], r[0]->req.status_value);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 1);
	ASSERT_TRUE(reap(&t, &id, &len));
	ASSERT_EQ(len, VIRTIO_BLK_ID_BYTES + 1);
	guest_read(&t.g, q.data, id_buf, sizeof(id_buf));
	ASSERT_TRUE(strncmp(id_buf, "vhu-unit-serial", sizeof(id_buf)) == 0);
	bt_fini(&t);
}

/* Post a raw chain, take, and expect the ring broken with 'why'. */
static void
expect_broken(struct bt *t, const struct buf *b, uint16_t n, const char *why)
{
	struct vhu_blk_request *r[2];

	post(t, b, n);
	ASSERT_EQ(take(t, r, 2), 0);
	ASSERT_TRUE(t->dev->vq[0]->broken);
	ASSERT_STR_CONTAINS(t->dev->vq[0]->broken_reason, why);
	ASSERT_EQ(take(t, r, 2), 0); /* latched */
}

static void
short_header_breaks_the_ring(const void *arg)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct bt t;
	struct buf b[2];

	bt_init(&t, *(const bool *)arg, &cfg);
	b[0] = (struct buf){ guest_alloc(&t.g, 8, 8), 8, false };
	b[1] = (struct buf){ guest_alloc(&t.g, 1, 1), 1, true };
	expect_broken(&t, b, 2, "16-byte header");
	bt_fini(&t);
}

static void
request_without_a_status_breaks_the_ring(const void *arg)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct bt t;
	struct buf b[2];

	bt_init(&t, *(const bool *)arg, &cfg);
	b[0] = (struct buf){ guest_alloc(&t.g, 16, 8), 16, false };
	b[1] = (struct buf){ guest_alloc(&t.g, 512, 8), 512, false };
	expect_broken(&t, b, 2, "status");
	bt_fini(&t);
}

static void
header_after_the_data_breaks_the_ring(const void *arg)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct bt t;
	struct buf b[3];

	bt_init(&t, *(const bool *)arg, &cfg);
	b[0] = (struct buf){ guest_alloc(&t.g, 512, 8), 512, true };
	b[1] = (struct buf){ guest_alloc(&t.g, 16, 8), 16, false };
	b[2] = (struct buf){ guest_alloc(&t.g, 1, 1), 1, true };
	expect_broken(&t, b, 3, "readable descriptor after");
	bt_fini(&t);
}

/* A read of 'nseg' 512-byte data buffers: header + data + status pieces. */
static uint16_t
post_segmented_read(struct bt *t, uint16_t nseg)
{
	struct virtio_blk_outhdr h = { .type = VIRTIO_BLK_T_IN, .sector = 0 };
	struct buf *b = calloc(nseg + 2u, sizeof(*b));
	uint16_t i, id;

	ASSERT_TRUE(b != NULL);
	b[0] = (struct buf){ guest_alloc(&t->g, 16, 8), 16, false };
	guest_write(&t->g, b[0].gpa, &h, sizeof(h));
	for (i = 0; i < nseg; i++)
		b[1 + i] = (struct buf){ guest_alloc(&t->g, 512, 512), 512, true };
	b[nseg + 1] = (struct buf){ guest_alloc(&t->g, 1, 1), 1, true };
	id = post(t, b, nseg + 2);
	free(b);
	return id;
}

static void
seg_max_segments_pass_and_more_break_the_ring(const void *arg)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_blk_request *r[2];
	struct bt t;

	bt_init(&t, *(const bool *)arg, &cfg);
	post_segmented_read(&t, VHU_BLK_SEGS - 2);
	ASSERT_EQ(take(&t, r, 2), 1);
	ASSERT_FALSE(r[0]->answered);
	ASSERT_EQ(r[0]->req.ndata, VHU_BLK_SEGS - 2);
	ASSERT_EQ(r[0]->req.len, (VHU_BLK_SEGS - 2) * 512);
	vhu_blk_complete(t.dev, r[0], VIRTIO_BLK_S_OK);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 1);
	post_segmented_read(&t, VHU_BLK_SEGS - 1);
	ASSERT_EQ(take(&t, r, 2), 0);
	ASSERT_TRUE(t.dev->vq[0]->broken);
	ASSERT_STR_CONTAINS(t.dev->vq[0]->broken_reason, "seg_max");
	bt_fini(&t);
}

static void
window_full_leaves_requests_in_the_ring(const void *arg)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_blk_request *r[VHU_BLK_WINDOW + 8];
	struct bt t;
	uint16_t i, n;

	bt_init(&t, *(const bool *)arg, &cfg);
	for (i = 0; i < VHU_BLK_WINDOW + 8; i++)
		post_req(&t, VIRTIO_BLK_T_FLUSH, 0, 0);
	n = take(&t, r, VHU_BLK_WINDOW + 8);
	ASSERT_EQ(n, VHU_BLK_WINDOW);
	ASSERT_EQ(take(&t, r, 8), 0);
	for (i = 0; i < n; i++)
		vhu_blk_complete(t.dev, r[i], VIRTIO_BLK_S_OK);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), VHU_BLK_WINDOW);
	ASSERT_EQ(take(&t, r, 16), 8);
	for (i = 0; i < 8; i++)
		vhu_blk_complete(t.dev, r[i], VIRTIO_BLK_S_OK);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 8);
	bt_fini(&t);
}

static void
completion_after_a_ring_restart_writes_nothing(const void *arg)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_blk_request *r[2];
	struct vhu_vq *vq;
	uint16_t used;
	struct rq q;
	struct bt t;

	bt_init(&t, *(const bool *)arg, &cfg);
	vq = t.dev->vq[0];
	q = post_req(&t, VIRTIO_BLK_T_IN, 0, 512);
	ASSERT_EQ(take(&t, r, 2), 1);
	used = vq->last_used_idx;
	/* The ring stops and starts again (a new epoch) while the read is out. */
	vq->ready = false;
	t.dev->type->queue_start(t.dev, vq);
	vq->ready = true;
	vhu_blk_complete(t.dev, r[0], VIRTIO_BLK_S_OK);
	ASSERT_EQ(status_of(&t, &q), 0xff);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 0);
	ASSERT_EQ(vq->last_used_idx, used);
	ASSERT_EQ(vhu_blk_outstanding(t.dev, 0), 0);
	bt_fini(&t);
}

struct late {
	struct vhu_vhost_dev *dev;
	struct vhu_blk_request *r;
};

/* The application's lcore: its I/O finishes 50 ms later. */
static void *
complete_later(void *arg)
{
	struct late *l = arg;

	usleep(50 * 1000);
	vhu_blk_complete(l->dev, l->r, VIRTIO_BLK_S_OK);
	return NULL;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
ring_stop_waits_for_the_requests_out(const void *arg)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_blk_request *r[2];
	struct late l;
	pthread_t th;
	struct rq q;
	struct bt t;
	double t0;

	bt_init(&t, *(const bool *)arg, &cfg);
	q = post_req(&t, VIRTIO_BLK_T_IN, 0, 512);
	ASSERT_EQ(take(&t, r, 2), 1);
	l.dev = t.dev;
	l.r = r[0];
	t0 = now_s();
	ASSERT_EQ(pthread_create(&th, NULL, complete_later, &l), 0);
	/* GET_VRING_BASE: the ring stops, and the stop returns once the read is done. */
	t.dev->vq[0]->ready = false;
	t.dev->type->queue_stop(t.dev, t.dev->vq[0]);
	ASSERT_TRUE(now_s() - t0 >= 0.045);
	ASSERT_EQ(pthread_join(th, NULL), 0);
	ASSERT_EQ(vhu_blk_outstanding(t.dev, 0), 1); /* done, not returned: the ring stopped */
	ASSERT_EQ(status_of(&t, &q), 0xff);	     /* no status on a stopped ring */
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 0);
	ASSERT_EQ(vhu_blk_outstanding(t.dev, 0), 0);
	bt_fini(&t);
}

/* ---- what a stopped ring reports (GET_VRING_BASE) and a restart at it ---- */

/* GET_VRING_BASE of ring 0 as the front-end sends it: the base in the reply. */
static uint32_t
get_vring_base(struct bt *t)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = VHOST_USER_GET_VRING_BASE;
	m.hdr.flags = VHOST_USER_VERSION;
	m.hdr.size = sizeof(m.payload.state);
	ASSERT_EQ(vhu_msg_handle(t->dev, &m, NULL, 0), VHU_MSG_REPLY);
	return m.payload.state.num;
}

/*
 * The ring in guest memory resumed at 'base' from a fresh ring state, as any
 * back-end that trusts the base does (another one after a migration): the
 * state reset, SET_VRING_BASE, a new epoch, ready.
 */
static void
resume_fresh(struct bt *t, uint32_t base)
{
	struct vhu_vq *vq = t->dev->vq[0];
	void *desc = vq->desc, *avail = vq->avail, *used = vq->used;
	struct vhost_user_msg m;

	vhu_vq_reset(vq);
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->mem = t->dev->mem != NULL ? t->dev->mem : t->g.mem; /* the stop cleared it */
	vq->size = RING_SIZE;
	vq->num_set = true;
	vq->packed = t->packed;
	vq->indirect = true;
	memset(&m, 0, sizeof(m));
	m.hdr.request = VHOST_USER_SET_VRING_BASE;
	m.hdr.flags = VHOST_USER_VERSION;
	m.hdr.size = sizeof(m.payload.state);
	m.payload.state.num = base;
	ASSERT_EQ(vhu_msg_handle(t->dev, &m, NULL, 0), VHU_MSG_OK);
	t->dev->type->queue_start(t->dev, vq);
	vq->ready = true;
}

static void
ring_stop_reports_a_base_where_every_request_completes_once(const void *arg)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_blk_request *r[4];
	uint32_t base, len, want;
	struct rq q[3];
	struct late l;
	pthread_t th;
	struct bt t;
	uint16_t id;
	int i;

	bt_init(&t, *(const bool *)arg, &cfg);
	for (i = 0; i < 3; i++)
		q[i] = post_req(&t, VIRTIO_BLK_T_IN, (uint64_t)i, 512);
	ASSERT_EQ(take(&t, r, 4), 3);
	/* The first is returned; the second is done but not yet returned when
	 * the ring stops; the third is still out then, and done during the stop. */
	vhu_blk_complete(t.dev, r[0], VIRTIO_BLK_S_OK);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 1);
	vhu_blk_complete(t.dev, r[1], VIRTIO_BLK_S_OK);
	l.dev = t.dev;
	l.r = r[2];
	ASSERT_EQ(pthread_create(&th, NULL, complete_later, &l), 0);
	base = get_vring_base(&t);
	ASSERT_EQ(pthread_join(th, NULL), 0);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 0); /* a stopped ring returns nothing */
	ASSERT_EQ(vhu_blk_outstanding(t.dev, 0), 0);
	/* The used position: split, one entry; packed, the slot after the first
	 * request's three descriptors, in wrap round 1, for avail and used. */
	want = t.packed ? 3u | 1u << 15 | 3u << 16 | 1u << 31 : 1u;
	ASSERT_EQ(base, want);
	resume_fresh(&t, base);
	ASSERT_EQ(take(&t, r, 4), 2);
	ASSERT_EQ(r[0]->req.offset, 512);
	ASSERT_EQ(r[1]->req.offset, 1024);
	vhu_blk_complete(t.dev, r[1], VIRTIO_BLK_S_OK);
	vhu_blk_complete(t.dev, r[0], VIRTIO_BLK_S_OK);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 2);
	/* The guest sees each request once, in order, and nothing more. */
	for (i = 0; i < 3; i++) {
		ASSERT_TRUE(reap(&t, &id, &len));
		ASSERT_EQ(id, q[i].id);
		ASSERT_EQ(len, 513);
		ASSERT_EQ(status_of(&t, &q[i]), VIRTIO_BLK_S_OK);
	}
	ASSERT_FALSE(reap(&t, &id, &len));
	ASSERT_EQ(take(&t, r, 4), 0);
	bt_fini(&t);
}

/* ---- dirty logging (LOG_ALL) ---- */

/*
 * Driver: post a request as post_req() does, but with its header, data and
 * status each on pages of their own, so that a page marked dirty says which.
 */
static struct rq
post_paged(struct bt *t, uint32_t type, uint64_t sector, uint32_t len)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };
	struct rq r = { 0 };
	struct buf b[3];
	uint8_t ff = 0xff;

	r.hdr = guest_alloc(&t->g, 4096, 4096);
	guest_write(&t->g, r.hdr, &h, sizeof(h));
	r.data = guest_alloc(&t->g, 4096, 4096);
	r.status = guest_alloc(&t->g, 4096, 4096);
	guest_write(&t->g, r.status, &ff, 1);
	b[0] = (struct buf){ r.hdr, sizeof(h), false };
	b[1] = (struct buf){ r.data, len, type != VIRTIO_BLK_T_OUT };
	b[2] = (struct buf){ r.status, 1, true };
	r.id = post(t, b, 3);
	return r;
}

static void
dirty_log_marks_the_id_read_data_and_status_written(const void *arg)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_log log = { .size = 4096 };
	struct vhu_blk_request *r[4];
	struct rq id, rd, wr;
	struct vhu_vq *vq;
	struct bt t;

	bt_init(&t, *(const bool *)arg, &cfg);
	vq = t.dev->vq[0];
	log.bitmap = calloc(1, log.size);
	ASSERT_TRUE(log.bitmap != NULL);
	t.dev->log = &log;
	vq->logging = true;
	id = post_paged(&t, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES);
	rd = post_paged(&t, VIRTIO_BLK_T_IN, 0, 512);
	wr = post_paged(&t, VIRTIO_BLK_T_OUT, 0, 512);
	ASSERT_EQ(take(&t, r, 4), 3);
	/* GET_ID is answered as it is taken: its id is in guest memory now. */
	ASSERT_TRUE(log_page_dirty(log.bitmap, id.data));
	ASSERT_FALSE(log_page_dirty(log.bitmap, rd.data));
	memset(r[1]->req.data[0].iov_base, 0x5a, 512); /* the backend's read */
	vhu_blk_complete(t.dev, r[0], r[0]->req.status_value);
	vhu_blk_complete(t.dev, r[1], VIRTIO_BLK_S_OK);
	vhu_blk_complete(t.dev, r[2], VIRTIO_BLK_S_OK);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 3);
	ASSERT_TRUE(log_page_dirty(log.bitmap, rd.data));
	ASSERT_FALSE(log_page_dirty(log.bitmap, wr.data)); /* read by the device, not written */
	ASSERT_FALSE(log_page_dirty(log.bitmap, wr.hdr));
	ASSERT_TRUE(log_page_dirty(log.bitmap, id.status));
	ASSERT_TRUE(log_page_dirty(log.bitmap, rd.status));
	ASSERT_TRUE(log_page_dirty(log.bitmap, wr.status));
	t.dev->log = NULL; /* not the library's to unmap */
	vq->logging = false;
	free(log.bitmap);
	bt_fini(&t);
}

/* ---- guest memory under a request whose completion outlives the ring stop ---- */

#define MEM_GPA	 0x10000000ull /* the tables' one region, apart from the ring's memory */
#define MEM_SIZE (64 * 1024)

/* SET_MEM_TABLE of one region from a new memfd; returns our fd of it. */
static int
set_mem_table(struct bt *t)
{
	struct vhost_user_mem_region *r;
	struct vhost_user_msg m;
	int fd = memfd_create("vhu-unit-blk", MFD_CLOEXEC), give;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, MEM_SIZE), 0);
	give = dup(fd);
	ASSERT_GE(give, 0);
	memset(&m, 0, sizeof(m));
	m.hdr.request = VHOST_USER_SET_MEM_TABLE;
	m.hdr.flags = VHOST_USER_VERSION;
	m.hdr.size = 8 + sizeof(*r);
	m.payload.memory.nregions = 1;
	r = &m.payload.memory.regions[0];
	r->guest_phys_addr = MEM_GPA;
	r->memory_size = MEM_SIZE;
	r->userspace_addr = 0x7f3300000000ull;
	ASSERT_EQ(vhu_msg_handle(t->dev, &m, &give, 1), VHU_MSG_OK);
	return fd;
}

/* Lay a 512-byte read of sector 0 out in the device's table: header at 0,
 * data at 4096, status (0xff) at 8192. Returns our address of the region. */
static uint8_t *
lay_read(struct bt *t)
{
	struct virtio_blk_outhdr h = { .type = VIRTIO_BLK_T_IN, .sector = 0 };
	uint8_t *hva = (uint8_t *)(uintptr_t)t->dev->mem->regions[0].hva;

	memcpy(hva, &h, sizeof(h));
	hva[8192] = 0xff;
	return hva;
}

static uint8_t
byte_of(int fd, off_t off)
{
	uint8_t b = 0;

	ASSERT_EQ(pread(fd, &b, 1, off), 1);
	return b;
}

/* Whether the page at 'p' is mapped, from /proc/self/maps: a probe that
 * touches nothing (msync() of an unmapped page is an error under valgrind). */
static bool
page_mapped(const void *p)
{
	uintptr_t a = (uintptr_t)p, lo, hi;
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	if (f == NULL)
		return false;
	while (!found && getline(&line, &cap, f) > 0)
		found = sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) == 2 && a >= lo && a < hi;
	free(line);
	fclose(f);
	return found;
}

static void
memory_stays_mapped_until_a_request_left_out_completes(const void *arg)
{
	const struct buf b[3] = { { MEM_GPA, 16, false },
				  { MEM_GPA + 4096, 512, true },
				  { MEM_GPA + 8192, 1, true } };
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_blk_request *r[2], *old;
	uint8_t *hva1, *hva2;
	struct vhu_vq *vq;
	uint32_t len;
	int fd1, fd2;
	uint16_t id, head;
	struct bt t;

	bt_init(&t, *(const bool *)arg, &cfg);
	vq = t.dev->vq[0];
	vhu_blk_dev(t.dev)->stop_wait_us = 2000;
	/* The ring's buffers come from the device's table from now on. */
	fd1 = set_mem_table(&t);
	hva1 = lay_read(&t);
	vq->mem = t.dev->mem;
	t.dev->type->queue_start(t.dev, vq);
	vq->ready = true;
	head = post(&t, b, 3);
	ASSERT_EQ(take(&t, r, 2), 1);
	old = r[0];
	ASSERT_PTR_EQ(old->req.data[0].iov_base, hva1 + 4096);
	/* The front-end replaces the table while the read is out: the ring stop
	 * gives up waiting, and the old table stays mapped. */
	fd2 = set_mem_table(&t);
	hva2 = lay_read(&t);
	ASSERT_TRUE(hva2 != hva1);
	ASSERT_TRUE(t.dev->mem_retired != NULL);
	ASSERT_TRUE(vhu_dev_reap_mem(t.dev));
	ASSERT_TRUE(page_mapped(hva1));
	/* The ring restarts at its used position: the read is taken again, but
	 * not while its first I/O may still run. */
	resume_fresh(&t, t.packed ? 1u << 15 | 1u << 31 : 0);
	ASSERT_EQ(take(&t, r, 2), 0);
	/* Its I/O lands, in the old table's memory (a fault had it been unmapped). */
	memset(old->req.data[0].iov_base, 0x5a, 512);
	vhu_blk_complete(t.dev, old, VIRTIO_BLK_S_OK);
	ASSERT_EQ(byte_of(fd1, 8192), 0xff); /* no status into memory the front-end dropped */
	ASSERT_EQ(byte_of(fd1, 4096), 0x5a);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 0); /* dropped: an earlier epoch's */
	ASSERT_FALSE(vhu_dev_reap_mem(t.dev));
	ASSERT_TRUE(t.dev->mem_retired == NULL);
	ASSERT_FALSE(page_mapped(hva1)); /* unmapped now */
	/* The read again, in the new table, completes once. */
	ASSERT_EQ(take(&t, r, 2), 1);
	ASSERT_PTR_EQ(r[0]->req.data[0].iov_base, hva2 + 4096);
	vhu_blk_complete(t.dev, r[0], VIRTIO_BLK_S_OK);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 1);
	ASSERT_TRUE(reap(&t, &id, &len));
	ASSERT_EQ(id, head);
	ASSERT_EQ(byte_of(fd2, 8192), VIRTIO_BLK_S_OK);
	ASSERT_FALSE(reap(&t, &id, &len));
	close(fd1);
	close(fd2);
	bt_fini(&t);
}

/* ---- a new memory table under a running ring, with no SET_VRING_BASE ---- */

#define RUN_UVA	   0x7f4400000000ull /* where the front-end has the table's first region */
#define RUN_SIZE   (256 * 1024)
#define RUN_DESC   0	 /* the ring, in that region: descriptors (or the packed ring) */
#define RUN_AVAIL  8192	 /* avail ring, or the driver's event area */
#define RUN_USED   12288 /* used ring, or the device's event area */
#define RUN_REQ(i) (65536 + (i)*16384) /* request i: header, data +4096, status +8192 */

/* Send message 'request' (its payload, or 'u64' if NULL) with 'fds'; the handler's verdict. */
static enum vhu_msg_result
send_msg(struct bt *t, uint32_t request, uint64_t u64, const void *payload, uint32_t size, int *fds,
	 int nfds)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = request;
	m.hdr.flags = VHOST_USER_VERSION;
	m.hdr.size = size;
	if (payload != NULL)
		memcpy(&m.payload, payload, size);
	else
		m.payload.u64 = u64;
	return vhu_msg_handle(t->dev, &m, fds, nfds);
}

/*
 * SET_MEM_TABLE of the region of 'fd' at MEM_GPA and RUN_UVA and, when
 * 'hotplugged' >= 0, of that memfd too, after it (as memory hot-plug sends).
 */
static void
run_mem_table(struct bt *t, int fd, int hotplugged)
{
	struct vhost_user_memory mem = { .nregions = hotplugged >= 0 ? 2 : 1 };
	int give[2];

	mem.regions[0] = (struct vhost_user_mem_region){ MEM_GPA, RUN_SIZE, RUN_UVA, 0 };
	mem.regions[1] = (struct vhost_user_mem_region){ MEM_GPA + RUN_SIZE, RUN_SIZE,
							 RUN_UVA + RUN_SIZE, 0 };
	give[0] = dup(fd);
	give[1] = hotplugged >= 0 ? dup(hotplugged) : -1;
	ASSERT_GE(give[0], 0);
	ASSERT_EQ(send_msg(t, VHOST_USER_SET_MEM_TABLE, 0, &mem,
			   8 + mem.nregions * sizeof(mem.regions[0]), give, (int)mem.nregions),
		  VHU_MSG_OK);
}

/* Start ring 0 in the table's first region as a front-end does: num, addr, base, kick, enable. */
static void
run_start_ring(struct bt *t)
{
	struct vhost_user_vring_state st = { .index = 0, .num = RING_SIZE };
	struct vhost_user_vring_addr a = {
		.index = 0,
		.desc_user_addr = RUN_UVA + RUN_DESC,
		.avail_user_addr = RUN_UVA + RUN_AVAIL,
		.used_user_addr = RUN_UVA + RUN_USED,
	};
	struct vhu_vq *vq = t->dev->vq[0];
	int kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	ASSERT_GE(kick, 0);
	vhu_vq_reset(vq); /* bt_init's ring in the test's own memory: not this one */
	ASSERT_EQ(send_msg(t, VHOST_USER_SET_VRING_NUM, 0, &st, sizeof(st), NULL, 0), VHU_MSG_OK);
	ASSERT_EQ(send_msg(t, VHOST_USER_SET_VRING_ADDR, 0, &a, sizeof(a), NULL, 0), VHU_MSG_OK);
	/* Packed: both positions at slot 0 of wrap round 1. */
	st.num = t->packed ? 1u << 15 | 1u << 31 : 0;
	ASSERT_EQ(send_msg(t, VHOST_USER_SET_VRING_BASE, 0, &st, sizeof(st), NULL, 0), VHU_MSG_OK);
	ASSERT_EQ(send_msg(t, VHOST_USER_SET_VRING_KICK, 0, NULL, sizeof(uint64_t), &kick, 1),
		  VHU_MSG_OK);
	/* PROTOCOL_FEATURES is negotiated: the ring waits to be enabled. */
	st.num = 1;
	ASSERT_EQ(send_msg(t, VHOST_USER_SET_VRING_ENABLE, 0, &st, sizeof(st), NULL, 0),
		  VHU_MSG_OK);
	ASSERT_TRUE(vq->ready);
	memset(&t->pd, 0, sizeof(t->pd));
	t->pd.vq = vq;
	t->pd.avail_wrap = true;
	t->pd.used_wrap = true;
	t->next_desc = 0;
	t->used_seen = 0;
}

/* Driver: post request i, a 512-byte read of sector i, in the table's first region. */
static uint16_t
run_post_read(struct bt *t, uint8_t *hva, unsigned int i)
{
	const struct virtio_blk_outhdr h = { .type = VIRTIO_BLK_T_IN, .sector = i };
	const struct buf b[3] = { { MEM_GPA + RUN_REQ(i), sizeof(h), false },
				  { MEM_GPA + RUN_REQ(i) + 4096, 512, true },
				  { MEM_GPA + RUN_REQ(i) + 8192, 1, true } };

	memcpy(hva + RUN_REQ(i), &h, sizeof(h));
	hva[RUN_REQ(i) + 8192] = 0xff;
	return post(t, b, 3);
}

/*
 * The front-end sends a new memory table (memory hot-plug: the same guest
 * RAM plus a region) while a ring has requests read out, and restarts
 * nothing itself: no GET_VRING_BASE, no SET_VRING_BASE. The ring stop
 * waits for the request out; the ring restarts at its used position on its
 * own; the request, whose first completion came while the ring was stopped
 * and wrote no status, is read again from the new mapping and completes
 * once; the first mapping is gone, and nothing touched it after.
 */
static void
mem_table_under_requests_out_takes_them_again_without_a_base(const void *arg)
{
	struct vhu_blk_config cfg = blk_cfg();
	struct vhu_blk_request *r[4];
	uint16_t head[2], id;
	uint8_t *hva1, *hva2;
	struct late l;
	int fd, plug;
	pthread_t th;
	uint32_t len;
	struct bt t;

	bt_init(&t, *(const bool *)arg, &cfg);
	vhu_blk_dev(t.dev)->stop_wait_us = 2 * 1000 * 1000;
	fd = memfd_create("vhu-unit-blk-run", MFD_CLOEXEC);
	plug = memfd_create("vhu-unit-blk-plug", MFD_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_GE(plug, 0);
	ASSERT_EQ(ftruncate(fd, RUN_SIZE), 0);
	ASSERT_EQ(ftruncate(plug, RUN_SIZE), 0);
	run_mem_table(&t, fd, -1);
	run_start_ring(&t);
	hva1 = (uint8_t *)(uintptr_t)t.dev->mem->regions[0].hva;
	head[0] = run_post_read(&t, hva1, 0);
	head[1] = run_post_read(&t, hva1, 1);
	ASSERT_EQ(take(&t, r, 4), 2);
	ASSERT_PTR_EQ(r[1]->req.data[0].iov_base, hva1 + RUN_REQ(1) + 4096);
	/* The first is done and returned; the second is still out. */
	vhu_blk_complete(t.dev, r[0], VIRTIO_BLK_S_OK);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 1);
	/* Its I/O finishes 50 ms into the ring stop of the new table. */
	l.dev = t.dev;
	l.r = r[1];
	ASSERT_EQ(pthread_create(&th, NULL, complete_later, &l), 0);
	run_mem_table(&t, fd, plug);
	ASSERT_EQ(pthread_join(th, NULL), 0);
	hva2 = (uint8_t *)(uintptr_t)t.dev->mem->regions[0].hva;
	ASSERT_TRUE(hva2 != hva1);
	ASSERT_TRUE(t.dev->vq[0]->ready);	  /* restarted by the table, on its own */
	ASSERT_EQ(hva2[RUN_REQ(1) + 8192], 0xff); /* no status from the stopped ring */
	vhu_dev_reap_mem(t.dev);
	ASSERT_TRUE(t.dev->mem_retired == NULL);
	ASSERT_FALSE(page_mapped(hva1 + RUN_REQ(1))); /* unmapped, once nothing could use it */
	/* The old epoch's completion is dropped; the read is taken again, in the new mapping. */
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 0);
	ASSERT_EQ(take(&t, r, 4), 1);
	ASSERT_EQ(r[0]->req.offset, 512);
	ASSERT_PTR_EQ(r[0]->req.data[0].iov_base, hva2 + RUN_REQ(1) + 4096);
	memset(r[0]->req.data[0].iov_base, 0x5a, 512);
	vhu_blk_complete(t.dev, r[0], VIRTIO_BLK_S_OK);
	ASSERT_EQ(vhu_blk_flush(t.dev, 0), 1);
	/* The guest sees each request once, in order, with its status and data. */
	ASSERT_TRUE(reap(&t, &id, &len));
	ASSERT_EQ(id, head[0]);
	ASSERT_TRUE(reap(&t, &id, &len));
	ASSERT_EQ(id, head[1]);
	ASSERT_EQ(len, 513);
	ASSERT_FALSE(reap(&t, &id, &len));
	ASSERT_EQ(byte_of(fd, RUN_REQ(0) + 8192), VIRTIO_BLK_S_OK);
	ASSERT_EQ(byte_of(fd, RUN_REQ(1) + 8192), VIRTIO_BLK_S_OK);
	ASSERT_EQ(byte_of(fd, RUN_REQ(1) + 4096), 0x5a);
	ASSERT_EQ(vhu_blk_outstanding(t.dev, 0), 0);
	ASSERT_EQ(take(&t, r, 4), 0);
	bt_fini(&t);
	close(fd);
	close(plug);
}

static const struct {
	const char *name;
	void (*fn)(const void *arg);
} suite[] = {
	{ "memory_stays_mapped_until_a_request_left_out_completes",
	  memory_stays_mapped_until_a_request_left_out_completes },
	{ "mem_table_under_requests_out_takes_them_again_without_a_base",
	  mem_table_under_requests_out_takes_them_again_without_a_base },
	{ "dirty_log_marks_the_id_read_data_and_status_written",
	  dirty_log_marks_the_id_read_data_and_status_written },
	{ "ring_stop_reports_a_base_where_every_request_completes_once",
	  ring_stop_reports_a_base_where_every_request_completes_once },
	{ "ring_stop_waits_for_the_requests_out", ring_stop_waits_for_the_requests_out },
	{ "read_request_is_handed_over_and_completed", read_request_is_handed_over_and_completed },
	{ "completions_out_of_order_reach_the_guest_in_take_order",
	  completions_out_of_order_reach_the_guest_in_take_order },
	{ "a_burst_of_completions_is_one_return_with_each_status",
	  a_burst_of_completions_is_one_return_with_each_status },
	{ "a_request_of_another_queue_stops_the_burst_and_is_counted",
	  a_request_of_another_queue_stops_the_burst_and_is_counted },
	{ "requests_outside_the_image_get_ioerr", requests_outside_the_image_get_ioerr },
	{ "read_only_refuses_writes_and_unknown_types_are_unsupp",
	  read_only_refuses_writes_and_unknown_types_are_unsupp },
	{ "get_id_is_answered_with_the_serial", get_id_is_answered_with_the_serial },
	{ "short_header_breaks_the_ring", short_header_breaks_the_ring },
	{ "request_without_a_status_breaks_the_ring", request_without_a_status_breaks_the_ring },
	{ "header_after_the_data_breaks_the_ring", header_after_the_data_breaks_the_ring },
	{ "seg_max_segments_pass_and_more_break_the_ring",
	  seg_max_segments_pass_and_more_break_the_ring },
	{ "window_full_leaves_requests_in_the_ring", window_full_leaves_requests_in_the_ring },
	{ "completion_after_a_ring_restart_writes_nothing",
	  completion_after_a_ring_restart_writes_nothing },
};

static const bool layouts[2] = { false, true };

__attribute__((constructor)) static void
suite_register(void)
{
	char name[128];
	size_t i, l;

	for (i = 0; i < RTE_DIM(suite); i++) {
		for (l = 0; l < 2; l++) {
			snprintf(name, sizeof(name), "%s_%s", suite[i].name,
				 layouts[l] ? "packed" : "split");
			th_register_arg(__FILE__, __LINE__, name, suite[i].fn, &layouts[l]);
		}
	}
}
