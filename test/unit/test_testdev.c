/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The generic ring suite: every behaviour of the core verbs a device type
 * relies on, run over split and packed rings of a device of each type that
 * links the core and no net object: the test device (testdev.c) and blk.
 * Each ring test is registered once a type and layout, "<name>_<type>_<layout>"
 * (type "test" or "blk"): a type's ops (its ring count, the features it
 * offers, its ring start and stop hooks, blk's wait for the requests out
 * when a ring stops) must not break what the core guarantees. Every type's
 * rings are served the test device's way (testdev_serve_into()), with the
 * core verbs alone. The tests of the test device's own config space stay
 * its own.
 *
 * No EAL: the device and its rings are plain allocations over the unit
 * tests' synthetic guest memory (guest.c), with guard pages around it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "guest.h"
#include "test_harness.h"
#include "testdev.h"
#include "vhost_blk.h"
#include "vhost_inflight.h"
#include "vhost_log.h"
#include "virtq_async.h"
#include "virtq_verbs.h"

#define REGION_SIZE (256 * 1024)
#define RING_SIZE   64
#define SINK	    0
#define SOURCE	    1

/* What a ring test runs on: a device type and a ring layout. */
struct run {
	const struct vhu_device_type *type;
	bool packed;
};

struct tx {
	struct guest g;
	struct vhu_vhost_dev *dev;
	bool packed;
	struct testdev_vq served[2]; /* blk: what serve() did on each ring (testdev_q() else) */
	uint32_t epoch[2];	     /* test device: ring starts, as blk counts its own */
	struct packed_drv pd[2]; /* packed: the driver's side of each ring */
	uint16_t next_desc[2];	 /* split: next unused descriptor per ring */
	uint16_t used_seen[2];	 /* split: used entries the driver took */
};

/* A device of 'type' as its constructor makes one, with 'type_cfg', bar the socket. */
static struct vhu_vhost_dev *
type_new(const struct vhu_device_type *type, const char *path, const void *type_cfg)
{
	struct vhu_dev_config core = { .path = path };
	struct vhu_vhost_dev *dev = calloc(1, vhu_dev_bytes(type));
	size_t vq_bytes = vhu_vq_bytes(type);
	uint16_t i;

	ASSERT_TRUE(dev != NULL);
	for (i = 0; i < VHU_MAX_VQS; i++) {
		dev->vq[i] = aligned_alloc(RTE_CACHE_LINE_SIZE, vq_bytes);
		ASSERT_TRUE(dev->vq[i] != NULL);
		memset(dev->vq[i], 0, vq_bytes);
	}
	ASSERT_EQ(vhu_dev_init(dev, type, &core, type_cfg), 0);
	return dev;
}

/* A device of 'type' with 'queues' rings: a test device, or a blk device over a small image. */
static struct vhu_vhost_dev *
dev_new(const struct vhu_device_type *type, uint16_t queues)
{
	struct testdev_config test = { .queues = queues };
	struct vhu_blk_config blk = {
		.path = "unit-blk", .num_queues = queues, .capacity = 1 << 20, .blk_size = 512
	};

	if (type == &testdev_type)
		return type_new(type, "unit-testdev", &test);
	return type_new(type, blk.path, &blk);
}

static void
dev_free(struct vhu_vhost_dev *dev)
{
	vhu_dev_reset(dev);
	for (int i = 0; i < VHU_MAX_VQS; i++)
		free(dev->vq[i]);
	free(dev);
}

static void
tx_init(struct tx *t, const void *arg)
{
	const struct run *r = arg;
	uint16_t q;

	memset(t, 0, sizeof(*t));
	t->packed = r->packed;
	guest_init(&t->g, 2, REGION_SIZE);
	t->dev = dev_new(r->type, 2);
	/* Everything offered is taken, as SET_FEATURES does; the layout must be offered. */
	ASSERT_TRUE(vhu_dev_offered_features(t->dev) & VHU_BIT(VIRTIO_F_RING_PACKED));
	t->dev->features =
		vhu_dev_offered_features(t->dev) & ~(t->packed ? 0 : VHU_BIT(VIRTIO_F_RING_PACKED));
	t->dev->features_set = true;
	if (r->type->features_set != NULL)
		r->type->features_set(t->dev);
	for (q = 0; q < 2; q++) {
		struct vhu_vq *vq = t->dev->vq[q];

		if (t->packed)
			guest_packed_ring_core(&t->g, vq, RING_SIZE, &t->pd[q]);
		else
			guest_split_ring_core(&t->g, vq, RING_SIZE);
		vq->dev = t->dev;
		/* As the core starts a ring, the type's hook last (vhu_vq_try_start()). */
		if (r->type->queue_start != NULL)
			r->type->queue_start(t->dev, vq);
	}
}

/* What serve() did on ring 'q': the test device keeps it beside the ring. */
static struct testdev_vq *
served(struct tx *t, uint16_t q)
{
	return t->dev->type == &testdev_type ? testdev_q(t->dev->vq[q]) : &t->served[q];
}

/* The device serves up to 'max' chains of ring 'q' with the core verbs; returns how many. */
static uint16_t
serve(struct tx *t, uint16_t q, uint16_t max)
{
	if (t->dev->type == &testdev_type)
		return testdev_serve(t->dev, q, max);
	return testdev_serve_into(t->dev, q, max, &t->served[q]);
}

/* Stops the rings as the core does (vhu_dev_reset(): the type's stop hook runs), then frees. */
static void
tx_fini(struct tx *t)
{
	dev_free(t->dev);
	guest_fini(&t->g);
}

/*
 * Driver: post a chain of 'n' buffers of lens[i] bytes on ring 'q' (written
 * by the device on the source ring), fresh guest memory each, filled with
 * 'seed' + i on the sink ring. Returns the chain's id; *gpa gets the first
 * buffer's address if not NULL.
 */
static uint16_t
post(struct tx *t, uint16_t q, const uint32_t *lens, uint16_t n, uint64_t *gpa)
{
	struct vhu_vq *vq = t->dev->vq[q];
	uint16_t flags = q == SOURCE ? VRING_DESC_F_WRITE : 0, i, head;
	struct vring_packed_desc chain[8];

	ASSERT_LE(n, 8);
	head = t->packed ? t->pd[q].avail_idx : (uint16_t)(t->next_desc[q] % RING_SIZE);
	for (i = 0; i < n; i++) {
		uint64_t a = guest_alloc(&t->g, lens[i], 8);
		uint8_t *p = guest_ptr(&t->g, a);
		uint32_t j;

		for (j = 0; j < lens[i]; j++)
			p[j] = q == SINK ? (uint8_t)(j + i) : 0;
		if (i == 0 && gpa != NULL)
			*gpa = a;
		if (t->packed) {
			chain[i] = (struct vring_packed_desc){
				.addr = a,
				.len = lens[i],
				.id = head,
				.flags = flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0),
			};
		} else {
			uint16_t d = (uint16_t)((t->next_desc[q] + i) % RING_SIZE);

			drv_desc(vq, d, a, lens[i], flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0),
				 (uint16_t)((d + 1) % RING_SIZE));
		}
	}
	if (t->packed) {
		pdrv_post(&t->pd[q], chain, n);
	} else {
		t->next_desc[q] = (uint16_t)(t->next_desc[q] + n);
		drv_avail(vq, head);
	}
	return head;
}

/* Driver: take the next used entry of ring 'q'; false if there is none. */
static bool
reap(struct tx *t, uint16_t q, uint16_t *id, uint32_t *len)
{
	struct vhu_vq *vq = t->dev->vq[q];
	struct vring_used_elem *e;

	if (t->packed)
		return pdrv_take_used(&t->pd[q], id, len);
	if (t->used_seen[q] == __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE))
		return false;
	e = &vq->used->ring[t->used_seen[q]++ % RING_SIZE];
	*id = (uint16_t)e->id;
	*len = e->len;
	return true;
}

/* Sum of the bytes post() puts in a sink buffer of 'len' bytes at piece 'i'. */
static uint64_t
sink_sum(uint32_t len, uint16_t i)
{
	uint64_t s = 0;
	uint32_t j;

	for (j = 0; j < len; j++)
		s += (uint8_t)(j + i);
	return s;
}

static void
pop_and_return_on_the_sink(const void *arg)
{
	const uint32_t one[] = {100}, two[] = {50, 70}, small[] = {5};
	uint16_t ids[3], id;
	struct tx t;
	uint32_t len;

	tx_init(&t, arg);
	ids[0] = post(&t, SINK, one, 1, NULL);
	ids[1] = post(&t, SINK, two, 2, NULL);
	ids[2] = post(&t, SINK, small, 1, NULL);
	ASSERT_EQ(serve(&t, SINK, 32), 3);
	ASSERT_EQ(served(&t, SINK)->bytes, 225);
	ASSERT_EQ(served(&t, SINK)->sum,
		  sink_sum(100, 0) + sink_sum(50, 0) + sink_sum(70, 1) + sink_sum(5, 0));
	for (int i = 0; i < 3; i++) {
		ASSERT_TRUE(reap(&t, SINK, &id, &len));
		ASSERT_EQ(id, ids[i]);
		ASSERT_EQ(len, 0);
	}
	ASSERT_FALSE(reap(&t, SINK, &id, &len));
	ASSERT_EQ(serve(&t, SINK, 32), 0); /* nothing more posted */
	tx_fini(&t);
}

static void
push_fills_the_source_and_returns_lengths(const void *arg)
{
	const uint32_t lens[] = {30, 40};
	uint64_t gpa;
	uint8_t want[30];
	uint16_t id, head;
	struct tx t;
	uint32_t len, i;

	tx_init(&t, arg);
	head = post(&t, SOURCE, lens, 2, &gpa);
	ASSERT_EQ(serve(&t, SOURCE, 32), 1);
	ASSERT_TRUE(reap(&t, SOURCE, &id, &len));
	ASSERT_EQ(id, head);
	ASSERT_EQ(len, 70);
	for (i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)i;
	ASSERT_MEM_EQ(guest_ptr(&t.g, gpa), want, sizeof(want));
	tx_fini(&t);
}

static void
indirect_chain_is_read_through_its_table(const void *arg)
{
	struct vhu_vq *vq;
	uint64_t table, buf[3];
	uint16_t id, i;
	struct tx t;
	uint32_t len;
	uint64_t sum = 0;

	tx_init(&t, arg);
	ASSERT_TRUE(dev_has_feature(t.dev, VIRTIO_RING_F_INDIRECT_DESC));
	vq = t.dev->vq[SINK];
	table = guest_alloc(&t.g, 3 * 16, 16);
	for (i = 0; i < 3; i++) {
		uint8_t *p;

		buf[i] = guest_alloc(&t.g, 64, 8);
		p = guest_ptr(&t.g, buf[i]);
		memset(p, i + 1, 64);
		sum += 64u * (i + 1);
	}
	if (t.packed) {
		struct vring_packed_desc *tab = guest_ptr(&t.g, table);
		struct vring_packed_desc d = {
			.addr = table,
			.len = 3 * sizeof(*tab),
			.id = 7,
			.flags = VRING_DESC_F_INDIRECT,
		};

		for (i = 0; i < 3; i++)
			tab[i] = (struct vring_packed_desc){.addr = buf[i], .len = 64};
		pdrv_post(&t.pd[SINK], &d, 1);
	} else {
		struct vring_desc *tab = guest_ptr(&t.g, table);

		for (i = 0; i < 3; i++)
			drv_table(tab, i, buf[i], 64, i < 2 ? VRING_DESC_F_NEXT : 0, i + 1);
		drv_desc(vq, 7, table, 3 * sizeof(*tab), VRING_DESC_F_INDIRECT, 0);
		drv_avail(vq, 7);
	}
	ASSERT_EQ(serve(&t, SINK, 32), 1);
	ASSERT_EQ(served(&t, SINK)->sum, sum);
	ASSERT_TRUE(reap(&t, SINK, &id, &len));
	ASSERT_EQ(id, 7);
	tx_fini(&t);
}

static void
in_order_sink_burst_comes_back_in_order(const void *arg)
{
	const uint32_t two[] = {8, 8};
	uint16_t ids[3], id, nbufs, i;
	struct tx t;
	uint32_t len;

	tx_init(&t, arg);
	ASSERT_TRUE(dev_has_feature(t.dev, VIRTIO_F_IN_ORDER)); /* the type let it be negotiated */
	t.dev->vq[SINK]->in_order = true;
	for (i = 0; i < 3; i++)
		ids[i] = post(&t, SINK, two, 2, NULL);
	ASSERT_EQ(serve(&t, SINK, 32), 3);
	if (t.packed) {
		/* One used descriptor for the burst, with the id of its last buffer. */
		ASSERT_TRUE(pdrv_take_used_in_order(&t.pd[SINK], &id, &len, &nbufs));
		ASSERT_EQ(nbufs, 3);
		ASSERT_EQ(id, ids[2]);
	} else {
		for (i = 0; i < 3; i++) {
			ASSERT_TRUE(reap(&t, SINK, &id, &len));
			ASSERT_EQ(id, ids[i]);
		}
	}
	ASSERT_FALSE(reap(&t, SINK, &id, &len));
	tx_fini(&t);
}

static void
event_idx_interrupts_only_past_the_event(const void *arg)
{
	const uint32_t one[] = {16};
	struct vhu_vq *vq;
	eventfd_t v;
	struct tx t;
	int efd, i;

	tx_init(&t, arg);
	vq = t.dev->vq[SINK];
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_TRUE(efd >= 0);
	vq->callfd = efd;
	ASSERT_TRUE(dev_has_feature(t.dev, VIRTIO_RING_F_EVENT_IDX));
	vq->event_idx = true;
	/* The driver wants an interrupt once the used index passes 4. */
	if (t.packed) {
		vq->driver_event->off_wrap = 4 | (1u << 15);
		vq->driver_event->flags = VRING_PACKED_EVENT_FLAG_DESC;
	} else {
		*vring_used_event(vq->avail, vq->size) = 4;
	}
	for (i = 0; i < 2; i++)
		post(&t, SINK, one, 1, NULL);
	ASSERT_EQ(serve(&t, SINK, 1), 1); /* one chain at a time: no batch */
	ASSERT_EQ(serve(&t, SINK, 1), 1);
	ASSERT_EQ(vq->stats.notify, 0);
	ASSERT_TRUE(eventfd_read(efd, &v) != 0); /* nothing signalled */
	for (i = 0; i < 4; i++)
		post(&t, SINK, one, 1, NULL);
	ASSERT_EQ(serve(&t, SINK, 3), 3); /* used 2 -> 5 passes 4 */
	ASSERT_EQ(vq->stats.notify, 1);
	ASSERT_EQ(eventfd_read(efd, &v), 0);
	ASSERT_EQ(v, 1);
	tx_fini(&t); /* closes the call fd */
}

/* Chains the ring's inflight record holds as taken and not returned. */
static int
inflight_count(const struct vhu_vq *vq)
{
	int n = 0, i;

	for (i = 0; i < RING_SIZE; i++)
		n += vq->packed ? vq->inflight_packed->desc[i].inflight
				: vq->inflight_split->desc[i].inflight;
	return n;
}

/* Give ring 'vq' an empty inflight record of its layout; the caller frees it. */
static void *
attach_inflight(struct vhu_vq *vq)
{
	void *rec = calloc(1, vhu_inflight_queue_size(vq->packed, RING_SIZE));

	ASSERT_TRUE(rec != NULL);
	if (vq->packed) {
		vq->inflight_packed = rec;
		vq->inflight_packed->version = 1;
		vq->inflight_packed->desc_num = RING_SIZE;
	} else {
		vq->inflight_split = rec;
		vq->inflight_split->version = 1;
		vq->inflight_split->desc_num = RING_SIZE;
	}
	return rec;
}

static void
inflight_record_holds_taken_chains_until_the_flush(const void *arg)
{
	const uint32_t one[] = {32};
	struct vhu_buf_vec vec[VHU_VEC_MAX];
	struct vhu_cursor cur = { 0 };
	struct vhu_chain c = { 0 };
	struct vhu_burst b;
	struct vhu_vq *vq;
	uint32_t nvec = 0;
	struct tx t;
	void *rec;

	memset(&b, 0, sizeof(b));

	tx_init(&t, arg);
	vq = t.dev->vq[SINK];
	rec = attach_inflight(vq);
	post(&t, SINK, one, 1, NULL);
	post(&t, SINK, one, 1, NULL);
	/* A burst that stops after taking (a crash): the record holds the chain. */
	ASSERT_TRUE(vhu_vq_begin(vq, &cur, &b, true));
	ASSERT_EQ(vhu_vq_pop(vq, &cur, false, vec, &nvec, &c), VHU_CHAIN_OK);
	ASSERT_EQ(inflight_count(vq), 0); /* popped is not taken */
	vhu_vq_take(vq, &c);
	ASSERT_EQ(inflight_count(vq), 1);
	vhu_vq_return(vq, &b, &c, 0);
	vhu_vq_flush(vq, &b);
	ASSERT_EQ(inflight_count(vq), 0);
	/* The device serves the rest as usual, and the record ends empty. */
	ASSERT_EQ(serve(&t, SINK, 32), 1);
	ASSERT_EQ(inflight_count(vq), 0);
	if (!t.packed)
		ASSERT_EQ(vq->inflight_split->used_idx, 2);
	vq->inflight_split = NULL;
	vq->inflight_packed = NULL;
	free(rec);
	tx_fini(&t);
}

static void
dirty_log_marks_the_buffers_written_and_the_used_ring(const void *arg)
{
	const uint32_t one[] = {64};
	struct vhu_log log = {.size = 4096};
	struct vhu_vq *vq;
	uint64_t gpa, used;
	struct tx t;

	tx_init(&t, arg);
	vq = t.dev->vq[SOURCE];
	log.bitmap = calloc(1, log.size);
	ASSERT_TRUE(log.bitmap != NULL);
	t.dev->log = &log;
	ASSERT_TRUE(dev_has_feature(t.dev, VHOST_F_LOG_ALL));
	vq->logging = true;
	post(&t, SOURCE, one, 1, &gpa);
	used = guest_gpa_of(&t.g, t.packed ? (const void *)&vq->desc_packed[0]
					   : (const void *)&vq->used->ring[0]);
	ASSERT_FALSE(log_page_dirty(log.bitmap, gpa));
	ASSERT_EQ(serve(&t, SOURCE, 32), 1);
	ASSERT_TRUE(log_page_dirty(log.bitmap, gpa));
	ASSERT_TRUE(log_page_dirty(log.bitmap, used));
	ASSERT_FALSE(log_page_dirty(log.bitmap, guest_region_gpa(&t.g, 1) + REGION_SIZE - 1));
	t.dev->log = NULL; /* not the library's to unmap */
	vq->logging = false;
	free(log.bitmap);
	tx_fini(&t);
}

static void
hostile_descriptor_latches_the_ring_broken(const void *arg)
{
	const uint32_t one[] = {16};
	struct vhu_vq *vq;
	struct tx t;

	tx_init(&t, arg);
	vq = t.dev->vq[SINK];
	if (t.packed) {
		struct vring_packed_desc d = {.addr = 0x10, .len = 16, .id = 0};

		pdrv_post(&t.pd[SINK], &d, 1);
	} else {
		drv_desc(vq, 0, 0x10, 16, 0, 0); /* below guest memory */
		drv_avail(vq, 0);
		t.next_desc[SINK] = 1;
	}
	ASSERT_EQ(serve(&t, SINK, 32), 0);
	ASSERT_TRUE(vq->broken);
	ASSERT_STR_CONTAINS(vq->broken_reason, "not in guest memory");
	/* Latched: a good chain after it is not served until the ring restarts. */
	post(&t, SINK, one, 1, NULL);
	ASSERT_EQ(serve(&t, SINK, 32), 0);
	ASSERT_EQ(serve(&t, SOURCE, 32), 0); /* the other ring is empty, not broken */
	ASSERT_FALSE(t.dev->vq[SOURCE]->broken);
	tx_fini(&t);
}

static void
one_descriptor_chains_take_the_batched_verbs(const void *arg)
{
	const uint32_t one[] = { 16 };
	uint16_t id, i;
	struct tx t;
	uint32_t len;

	tx_init(&t, arg);
	for (i = 0; i < 8; i++)
		post(&t, SOURCE, one, 1, NULL);
	ASSERT_EQ(serve(&t, SOURCE, 32), 8);
	/* Packed rings take four slots of a cache line at once; split ones one by one. */
	ASSERT_EQ(served(&t, SOURCE)->batched, t.packed ? 8 : 0);
	for (i = 0; i < 8; i++) {
		ASSERT_TRUE(reap(&t, SOURCE, &id, &len));
		ASSERT_EQ(len, 16);
	}
	tx_fini(&t);
}

/*
 * The batch verbs on the other two returns: a sink batch (nothing written,
 * its used descriptors go straight to the ring) and a source batch with a
 * buffer of 0 bytes (nothing written into it, so its used descriptor differs
 * and the four go back one by one). The guest sees what one by one gives.
 */
static void
sink_batches_and_an_empty_source_buffer_come_back_as_one_by_one(const void *arg)
{
	const uint32_t one[] = { 16 }, none[] = { 0 };
	uint16_t id, ids[8], i;
	struct tx t;
	uint32_t len;

	tx_init(&t, arg);
	for (i = 0; i < 8; i++)
		ids[i] = post(&t, SINK, one, 1, NULL);
	ASSERT_EQ(serve(&t, SINK, 32), 8);
	ASSERT_EQ(served(&t, SINK)->batched, t.packed ? 8 : 0);
	ASSERT_EQ(served(&t, SINK)->bytes, 8 * 16);
	for (i = 0; i < 8; i++) {
		ASSERT_TRUE(reap(&t, SINK, &id, &len));
		ASSERT_EQ(id, ids[i]);
		ASSERT_EQ(len, 0);
	}
	ASSERT_FALSE(reap(&t, SINK, &id, &len));
	for (i = 0; i < 4; i++)
		ids[i] = post(&t, SOURCE, i == 2 ? none : one, 1, NULL);
	ASSERT_EQ(serve(&t, SOURCE, 32), 4);
	ASSERT_EQ(served(&t, SOURCE)->batched, t.packed ? 4 : 0);
	for (i = 0; i < 4; i++) {
		ASSERT_TRUE(reap(&t, SOURCE, &id, &len));
		ASSERT_EQ(id, ids[i]);
		ASSERT_EQ(len, i == 2 ? 0 : 16);
	}
	ASSERT_FALSE(reap(&t, SOURCE, &id, &len));
	tx_fini(&t);
}

/*
 * Driver: post on ring 'q' a chain of 'n' buffers of lens[i] bytes, buffer i
 * device-writable if bit i of 'writable' is set. Returns the chain's id.
 */
static uint16_t
post_mixed(struct tx *t, uint16_t q, const uint32_t *lens, uint16_t n, uint32_t writable)
{
	struct vhu_vq *vq = t->dev->vq[q];
	struct vring_packed_desc chain[8];
	uint16_t i, head;

	ASSERT_LE(n, 8);
	head = t->packed ? t->pd[q].avail_idx : (uint16_t)(t->next_desc[q] % RING_SIZE);
	for (i = 0; i < n; i++) {
		uint64_t a = guest_alloc(&t->g, lens[i], 8);
		uint16_t flags = ((writable >> i) & 1 ? VRING_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VRING_DESC_F_NEXT : 0);

		if (t->packed) {
			chain[i] = (struct vring_packed_desc){
				.addr = a, .len = lens[i], .id = head, .flags = flags
			};
		} else {
			uint16_t d = (uint16_t)((t->next_desc[q] + i) % RING_SIZE);

			drv_desc(vq, d, a, lens[i], flags, (uint16_t)((d + 1) % RING_SIZE));
		}
	}
	if (t->packed) {
		pdrv_post(&t->pd[q], chain, n);
	} else {
		t->next_desc[q] = (uint16_t)(t->next_desc[q] + n);
		drv_avail(vq, head);
	}
	return head;
}

static void
request_chain_pops_readable_then_writable(const void *arg)
{
	const uint32_t lens[] = { 16, 512, 512, 1 };
	struct vhu_buf_vec vec[VHU_VEC_MAX];
	struct vhu_cursor cur = { 0 };
	struct vhu_chain c = { 0 };
	uint32_t nvec = 0, n_out = 99;
	struct vhu_burst b;
	struct vhu_vq *vq;
	struct tx t;

	memset(&b, 0, sizeof(b));
	tx_init(&t, arg);
	vq = t.dev->vq[SINK];
	post_mixed(&t, SINK, lens, 4, 0xc); /* header, data out, then data in, status */
	post_mixed(&t, SINK, lens, 2, 0x0); /* readable only: n_out is every piece */
	ASSERT_TRUE(vhu_vq_begin(vq, &cur, &b, false));
	ASSERT_EQ(vhu_vq_pop_rw(vq, &cur, vec, &nvec, &n_out, &c), VHU_CHAIN_OK);
	ASSERT_EQ(nvec, 4);
	ASSERT_EQ(n_out, 2);
	ASSERT_EQ(c.len, 1041);
	nvec = 0;
	ASSERT_EQ(vhu_vq_pop_rw(vq, &cur, vec, &nvec, &n_out, &c), VHU_CHAIN_OK);
	ASSERT_EQ(nvec, 2);
	ASSERT_EQ(n_out, 2);
	ASSERT_FALSE(vq->broken);
	tx_fini(&t);
}

static void
request_chain_readable_after_writable_breaks_the_ring(const void *arg)
{
	const uint32_t lens[] = { 16, 512, 1 };
	struct vhu_buf_vec vec[VHU_VEC_MAX];
	struct vhu_cursor cur = { 0 };
	struct vhu_chain c = { 0 };
	uint32_t nvec = 0, n_out = 0;
	struct vhu_burst b;
	struct vhu_vq *vq;
	struct tx t;

	memset(&b, 0, sizeof(b));
	tx_init(&t, arg);
	vq = t.dev->vq[SINK];
	post_mixed(&t, SINK, lens, 3, 0x2); /* readable, writable, readable */
	ASSERT_TRUE(vhu_vq_begin(vq, &cur, &b, false));
	ASSERT_EQ(vhu_vq_pop_rw(vq, &cur, vec, &nvec, &n_out, &c), VHU_CHAIN_BROKEN);
	ASSERT_TRUE(vq->broken);
	ASSERT_TRUE(strstr(vq->broken_reason, "readable descriptor after") != NULL);
	tx_fini(&t);
}

/* Take every chain posted on the sink into window 'w' in epoch 'epoch'; returns the tickets. */
static uint16_t
take_all_async(struct vhu_vq *vq, struct vhu_window *w, uint32_t epoch, uint32_t *tickets)
{
	struct vhu_buf_vec vec[VHU_VEC_MAX];
	struct vhu_cursor cur = { 0 };
	struct vhu_burst b;
	uint16_t n = 0;

	memset(&b, 0, sizeof(b));
	if (!vhu_vq_begin(vq, &cur, &b, false))
		return 0;
	while (vhu_vq_more(vq, &cur) && vhu_window_room(w) > 0) {
		uint32_t nvec = 0, n_out;
		struct vhu_chain c;

		ASSERT_EQ(vhu_vq_pop_rw(vq, &cur, vec, &nvec, &n_out, &c), VHU_CHAIN_OK);
		tickets[n++] = vhu_vq_take_async(vq, w, &c, epoch);
	}
	return n; /* nothing returned in this burst: no flush */
}

/*
 * Ring 'q''s completion window, made empty for 'entries' chains (a power of
 * two): blk's own, the one its ring stop waits on (VHU_BLK_WINDOW entries of
 * room), or a new one for the test device, which has none.
 */
static struct vhu_window *
window_new(struct tx *t, uint16_t q, uint32_t entries)
{
	struct vhu_window *w;

	if (t->dev->type == &vhu_blk_device_type) {
		ASSERT_LE(entries, VHU_BLK_WINDOW);
		w = &vhu_blk_dev(t->dev)->q[q].w;
	} else {
		w = calloc(1, vhu_window_bytes(entries));
		ASSERT_TRUE(w != NULL);
	}
	vhu_window_init(w, entries);
	return w;
}

static void
window_free(struct tx *t, struct vhu_window *w)
{
	if (t->dev->type != &vhu_blk_device_type)
		free(w);
}

/* Ring 'q''s epoch: blk's, which its start hook moves on; the test's count otherwise. */
static uint32_t
epoch(struct tx *t, uint16_t q)
{
	if (t->dev->type == &vhu_blk_device_type)
		return vhu_blk_dev(t->dev)->q[q].epoch;
	return t->epoch[q];
}

/*
 * Stop ring 'q' as GET_VRING_BASE does (vhu_vq_stop(): the type's stop hook,
 * which for blk waits for the chains out on its window), then start it again
 * from its positions as they are: memory back, the start hook, ready.
 */
static void
restart(struct tx *t, uint16_t q)
{
	struct vhu_vq *vq = t->dev->vq[q];

	vhu_vq_stop(t->dev, vq);
	ASSERT_FALSE(vq->ready);
	if (t->dev->type == &vhu_blk_device_type)
		ASSERT_FALSE(vhu_blk_dev(t->dev)->q[q].held); /* every chain out was complete */
	vq->mem = t->g.mem;
	t->epoch[q]++;
	if (t->dev->type->queue_start != NULL)
		t->dev->type->queue_start(t->dev, vq);
	/* Release: as vhu_vq_try_start() publishes a ring to the lcore's acquire in
	 * vhu_vq_enter(). */
	__atomic_store_n(&vq->ready, true, __ATOMIC_RELEASE);
}

static void
late_completions_are_returned_in_take_order(const void *arg)
{
	const uint32_t one[] = { 32 };
	uint32_t tickets[8], len, e;
	uint16_t ids[3], id;
	struct vhu_window *w;
	struct vhu_vq *vq;
	void *rec;
	struct tx t;

	tx_init(&t, arg);
	vq = t.dev->vq[SINK];
	w = window_new(&t, SINK, 4);
	e = epoch(&t, SINK);
	rec = attach_inflight(vq);
	for (int i = 0; i < 3; i++)
		ids[i] = post(&t, SINK, one, 1, NULL);
	ASSERT_EQ(take_all_async(vq, w, e, tickets), 3);
	ASSERT_EQ(inflight_count(vq), 3);
	ASSERT_EQ(vhu_window_outstanding(w), 3);
	/* The last completes first: it waits for the first, and stays in flight. */
	vhu_window_complete(w, tickets[2], 3);
	ASSERT_EQ(vhu_vq_return_completed(vq, w, e), 0);
	ASSERT_FALSE(reap(&t, SINK, &id, &len));
	ASSERT_EQ(inflight_count(vq), 3);
	vhu_window_complete(w, tickets[0], 1);
	ASSERT_EQ(vhu_vq_return_completed(vq, w, e), 1);
	ASSERT_TRUE(reap(&t, SINK, &id, &len));
	ASSERT_EQ(id, ids[0]);
	ASSERT_EQ(len, 1);
	ASSERT_FALSE(reap(&t, SINK, &id, &len));
	ASSERT_EQ(inflight_count(vq), 2);
	vhu_window_complete(w, tickets[1], 2);
	ASSERT_EQ(vhu_vq_return_completed(vq, w, e), 2);
	for (int i = 1; i < 3; i++) {
		ASSERT_TRUE(reap(&t, SINK, &id, &len));
		ASSERT_EQ(id, ids[i]);
		ASSERT_EQ(len, (uint32_t)i + 1);
	}
	ASSERT_EQ(inflight_count(vq), 0);
	ASSERT_EQ(vhu_window_outstanding(w), 0);
	vq->inflight_split = NULL;
	vq->inflight_packed = NULL;
	free(rec);
	window_free(&t, w);
	tx_fini(&t);
}

static void
full_window_stops_taking_until_a_return(const void *arg)
{
	const uint32_t one[] = { 32 };
	uint32_t tickets[8], len, e;
	struct vhu_window *w;
	struct vhu_vq *vq;
	uint16_t id;
	struct tx t;

	tx_init(&t, arg);
	vq = t.dev->vq[SINK];
	w = window_new(&t, SINK, 2);
	e = epoch(&t, SINK);
	for (int i = 0; i < 3; i++)
		post(&t, SINK, one, 1, NULL);
	ASSERT_EQ(take_all_async(vq, w, e, tickets), 2);
	ASSERT_EQ(vhu_window_room(w), 0);
	ASSERT_EQ(take_all_async(vq, w, e, tickets), 0); /* the third waits in the ring */
	vhu_window_complete(w, tickets[0], 0);
	vhu_window_complete(w, tickets[1], 0);
	ASSERT_EQ(vhu_vq_return_completed(vq, w, e), 2);
	ASSERT_EQ(take_all_async(vq, w, e, tickets), 1);
	vhu_window_complete(w, tickets[0], 0);
	ASSERT_EQ(vhu_vq_return_completed(vq, w, e), 1);
	for (int i = 0; i < 3; i++)
		ASSERT_TRUE(reap(&t, SINK, &id, &len));
	window_free(&t, w);
	tx_fini(&t);
}

static void
completion_of_an_older_epoch_is_dropped(const void *arg)
{
	const uint32_t one[] = { 32 };
	uint32_t tickets[8], len, e;
	struct vhu_window *w;
	struct vhu_vq *vq;
	uint16_t id, used;
	struct tx t;

	tx_init(&t, arg);
	vq = t.dev->vq[SINK];
	w = window_new(&t, SINK, 4);
	e = epoch(&t, SINK);
	post(&t, SINK, one, 1, NULL);
	ASSERT_EQ(take_all_async(vq, w, e, tickets), 1);
	used = vq->last_used_idx;
	/* The chain completes, and the ring restarts before the lcore returns it:
	 * the stop finds nothing out, and the start begins a new epoch. */
	vhu_window_complete(w, tickets[0], 5);
	restart(&t, SINK);
	ASSERT_EQ(epoch(&t, SINK), e + 1);
	ASSERT_EQ(vhu_vq_return_completed(vq, w, epoch(&t, SINK)), 0);
	ASSERT_EQ(vq->last_used_idx, used);
	ASSERT_FALSE(reap(&t, SINK, &id, &len));
	ASSERT_EQ(vhu_window_outstanding(w), 0);
	/* A stopped ring's completions are dropped the same way. */
	post(&t, SINK, one, 1, NULL);
	ASSERT_EQ(take_all_async(vq, w, epoch(&t, SINK), tickets), 1);
	vhu_window_complete(w, tickets[0], 0);
	ASSERT_EQ(vhu_window_drop_completed(w), 1);
	ASSERT_EQ(vhu_window_outstanding(w), 0);
	window_free(&t, w);
	tx_fini(&t);
}

/* The core offers its features and the type's, no more (the test device offers none: no net). */
static void
device_type_offers_its_features_beside_the_core_ones(const void *arg)
{
	const struct vhu_device_type *type = arg;
	struct vhu_vhost_dev *dev = dev_new(type, 3);
	uint64_t f = vhu_dev_offered_features(dev);

	ASSERT_EQ(dev->num_queues, 3);
	ASSERT_TRUE((f & VHU_CORE_FEATURES) == VHU_CORE_FEATURES);
	ASSERT_EQ(f, VHU_CORE_FEATURES | type->features(dev));
	dev_free(dev);
}

/* Send GET_CONFIG or SET_CONFIG of [offset, offset + len) through the dispatcher. */
static enum vhu_msg_action
config_msg(struct vhu_vhost_dev *dev, uint32_t request, uint32_t offset, uint32_t len,
	   struct vhost_user_msg *m)
{
	const char *why = NULL;

	m->hdr.request = request;
	m->hdr.flags = VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK;
	m->hdr.size = offsetof(struct vhost_user_config, payload) + len;
	m->payload.config.offset = offset;
	m->payload.config.size = len;
	m->payload.config.flags = 0;
	return vhu_msg_dispatch(dev, m, NULL, 0, &why);
}

/* A device type fills its config space; the core reads any part of it, zeros past its end. */
static void
config_get_reads_any_range_of_the_space_the_type_fills(void)
{
	static const uint8_t zero[16];
	struct vhu_vhost_dev *dev = dev_new(&testdev_type, 3);
	struct vhost_user_msg m;
	uint32_t magic;

	dev->protocol_features = VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIG);
	memset(&m, 0xaa, sizeof(m));
	ASSERT_EQ(config_msg(dev, VHOST_USER_GET_CONFIG, 0, TESTDEV_CONFIG_SIZE, &m),
		  VHU_MSG_ACT_REPLY);
	ASSERT_EQ(m.payload.config.size, TESTDEV_CONFIG_SIZE);
	ASSERT_EQ(m.payload.config.payload[0] | m.payload.config.payload[1] << 8, 3);
	memcpy(&magic, m.payload.config.payload + 4, sizeof(magic));
	ASSERT_EQ(magic, TESTDEV_CONFIG_MAGIC);
	/* Straddling the end: the magic's last byte, then zeros. */
	memset(&m, 0xaa, sizeof(m));
	ASSERT_EQ(config_msg(dev, VHOST_USER_GET_CONFIG, 7, 9, &m), VHU_MSG_ACT_REPLY);
	ASSERT_EQ(m.payload.config.size, 9);
	ASSERT_EQ(m.payload.config.payload[0], (TESTDEV_CONFIG_MAGIC >> 24) & 0xff);
	ASSERT_MEM_EQ(m.payload.config.payload + 1, zero, 8);
	/* Wholly past the end, up to the last byte the protocol allows. */
	memset(&m, 0xaa, sizeof(m));
	ASSERT_EQ(config_msg(dev, VHOST_USER_GET_CONFIG, VHOST_USER_MAX_CONFIG_SIZE - 16, 16, &m),
		  VHU_MSG_ACT_REPLY);
	ASSERT_EQ(m.payload.config.size, 16);
	ASSERT_MEM_EQ(m.payload.config.payload, zero, sizeof(zero));
	dev_free(dev);
}

/* The core refuses a write outside the space before the type sees it, the type a read-only field.
 */
static void
config_set_is_bounded_by_the_core_and_checked_by_the_type(void)
{
	struct vhu_vhost_dev *dev = dev_new(&testdev_type, 1);
	struct testdev_config *c = vhu_dev_priv(dev);
	struct vhost_user_msg m;

	dev->protocol_features =
		VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIG) | VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK);
	m.payload.config.payload[0] = 0x34;
	m.payload.config.payload[1] = 0x12;
	ASSERT_EQ(vhu_dev_set_config(dev, 2, m.payload.config.payload, 2), 0);
	ASSERT_EQ(c->scratch, 0x1234);
	ASSERT_EQ(c->set_config_calls, 1);
	/* Read-only field: the type refuses it. */
	ASSERT_EQ(vhu_dev_set_config(dev, 0, m.payload.config.payload, 2), -EPERM);
	ASSERT_EQ(c->set_config_calls, 2);
	/* Past the end, or straddling it: the core refuses, the type is not called. */
	ASSERT_EQ(vhu_dev_set_config(dev, 7, m.payload.config.payload, 2), -ERANGE);
	ASSERT_EQ(vhu_dev_set_config(dev, 9, m.payload.config.payload, 1), -ERANGE);
	ASSERT_EQ(vhu_dev_set_config(dev, 2, m.payload.config.payload, UINT32_MAX), -ERANGE);
	ASSERT_EQ(c->set_config_calls, 2);
	/* Through the dispatcher, a refusal is a non-zero REPLY_ACK. */
	memset(m.payload.config.payload, 0, 4);
	ASSERT_EQ(config_msg(dev, VHOST_USER_SET_CONFIG, 200, 4, &m), VHU_MSG_ACT_REPLY);
	ASSERT_EQ(m.payload.u64, 1);
	ASSERT_EQ(c->set_config_calls, 2);
	ASSERT_EQ(c->scratch, 0x1234);
	dev_free(dev);
}

static uint32_t mark_inside; /* the ring's mark as the hook saw it */

static void
record_mark(struct vhu_vq *vq)
{
	mark_inside = __atomic_load_n(&vq->mark.seq, __ATOMIC_RELAXED);
}

/* The control thread waits on a ring's mark: a burst holds it for its whole run. */
static void
serve_marks_the_ring_busy_for_its_whole_burst(const void *arg)
{
	const uint32_t one[] = { 64 };
	struct tx t;
	uint32_t before;

	tx_init(&t, arg);
	post(&t, SINK, one, 1, NULL);
	before = t.dev->vq[SINK]->mark.seq;
	ASSERT_EQ(before & 1, 0);
	testdev_burst_hook = record_mark;
	ASSERT_EQ(serve(&t, SINK, 32), 1);
	testdev_burst_hook = NULL;
	ASSERT_EQ(mark_inside, before + 1);
	ASSERT_EQ(t.dev->vq[SINK]->mark.seq, before + 2);
	/* An empty ring: in and out, idle again. */
	ASSERT_EQ(serve(&t, SINK, 32), 0);
	ASSERT_EQ(t.dev->vq[SINK]->mark.seq, before + 4);
	tx_fini(&t);
}

static const struct {
	const char *name;
	void (*fn)(const void *arg);
} suite[] = {
	{ "pop_and_return_on_the_sink", pop_and_return_on_the_sink },
	{ "push_fills_the_source_and_returns_lengths", push_fills_the_source_and_returns_lengths },
	{ "indirect_chain_is_read_through_its_table", indirect_chain_is_read_through_its_table },
	{ "in_order_sink_burst_comes_back_in_order", in_order_sink_burst_comes_back_in_order },
	{ "event_idx_interrupts_only_past_the_event", event_idx_interrupts_only_past_the_event },
	{ "inflight_record_holds_taken_chains_until_the_flush",
	  inflight_record_holds_taken_chains_until_the_flush },
	{ "dirty_log_marks_the_buffers_written_and_the_used_ring",
	  dirty_log_marks_the_buffers_written_and_the_used_ring },
	{ "hostile_descriptor_latches_the_ring_broken",
	  hostile_descriptor_latches_the_ring_broken },
	{ "one_descriptor_chains_take_the_batched_verbs",
	  one_descriptor_chains_take_the_batched_verbs },
	{ "sink_batches_and_an_empty_source_buffer_come_back_as_one_by_one",
	  sink_batches_and_an_empty_source_buffer_come_back_as_one_by_one },
	{ "request_chain_pops_readable_then_writable", request_chain_pops_readable_then_writable },
	{ "request_chain_readable_after_writable_breaks_the_ring",
	  request_chain_readable_after_writable_breaks_the_ring },
	{ "late_completions_are_returned_in_take_order",
	  late_completions_are_returned_in_take_order },
	{ "full_window_stops_taking_until_a_return", full_window_stops_taking_until_a_return },
	{ "completion_of_an_older_epoch_is_dropped", completion_of_an_older_epoch_is_dropped },
	{ "serve_marks_the_ring_busy_for_its_whole_burst",
	  serve_marks_the_ring_busy_for_its_whole_burst },
};

static const struct run runs[] = {
	{ &testdev_type, false },
	{ &testdev_type, true },
	{ &vhu_blk_device_type, false },
	{ &vhu_blk_device_type, true },
};

__attribute__((constructor)) static void
suite_register(void)
{
	char name[128];
	size_t i, r;

	for (r = 0; r < RTE_DIM(runs); r += 2) {
		snprintf(name, sizeof(name),
			 "device_type_offers_its_features_beside_the_core_ones_%s",
			 runs[r].type->name);
		th_register_arg(__FILE__, __LINE__, name,
				device_type_offers_its_features_beside_the_core_ones, runs[r].type);
	}
	th_register(__FILE__, __LINE__, "config_get_reads_any_range_of_the_space_the_type_fills",
		    config_get_reads_any_range_of_the_space_the_type_fills);
	th_register(__FILE__, __LINE__, "config_set_is_bounded_by_the_core_and_checked_by_the_type",
		    config_set_is_bounded_by_the_core_and_checked_by_the_type);
	for (i = 0; i < RTE_DIM(suite); i++) {
		for (r = 0; r < RTE_DIM(runs); r++) {
			snprintf(name, sizeof(name), "%s_%s_%s", suite[i].name, runs[r].type->name,
				 runs[r].packed ? "packed" : "split");
			th_register_arg(__FILE__, __LINE__, name, suite[i].fn, &runs[r]);
		}
	}
}
