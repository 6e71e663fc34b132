/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A guest that rewrites its rings while the device walks them: a thread
 * plays the guest, offering buffers as a driver does (a few of them bad) and
 * meanwhile writing random values over what it just offered, or anywhere in
 * its descriptors, avail and used rings, indexes and flags, and putting the
 * old values back a moment later; the test thread runs the bursts of both
 * directions. The device reads every descriptor once before it checks and
 * uses it, so whatever the timing it must not read or write outside guest
 * memory (the guard pages around it fault), leak an mbuf, or hang; a ring
 * it latches broken is restarted and the run goes on.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_mbuf.h>

#include "fake_dev.h"
#include "guest.h"
#include "test_harness.h"
#include "unit_eal.h"

#define REGION_SIZE (64 * 1024)
#define RING_SIZE 64
#define POOL_SIZE 511
#define SECONDS 2		/* per layout */
#define CORRUPT_ONE_IN 16	/* steps of the guest between two strikes, on average */
#define BAD_ONE_IN 32		/* buffers offered between two bad ones, on average */

struct race {
	struct guest g;
	struct vhu_vhost_dev *dev;
	uint8_t *lo, *hi;	/* the rings: what the scribbler corrupts */
	uint64_t seed;
	bool stop;		/* set by the test thread; relaxed is enough */
	bool started;		/* set by the guest thread once it runs */
	uint16_t resync[2];	/* packed: the slot to go on from after a restart, + 1 */
	uint16_t last_slot[2];	/* packed: the slot the guest offered last */
	uint64_t posts;		/* chains the guest offered */
	uint64_t writes;	/* random writes it made */
};

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * A buffer in region 1, 12..1512 bytes; one time in BAD_ONE_IN, a bad one
 * instead (outside guest memory, or an indirect table of a bad length), so
 * that the checks are reached on every layout whatever the timing.
 */
static void
plausible(struct race *r, uint64_t *s, uint64_t *addr, uint32_t *len, uint16_t *flags)
{
	uint64_t v = xorshift(s);

	*len = (uint32_t)(12 + xorshift(s) % 1500);
	*addr = guest_region_gpa(&r->g, 1) + xorshift(s) % (REGION_SIZE - 1600);
	if (v % BAD_ONE_IN != 0)
		return;
	if ((v >> 16) & 1) {
		*addr = xorshift(s);
	} else {
		*flags = VRING_DESC_F_INDIRECT;
		*len = (uint32_t)(xorshift(s) % 4096);
	}
}

/* Split: offer one chain on ring q if the ring has room, as a driver would. */
static void
split_post(struct race *r, uint64_t *s, uint16_t q)
{
	struct vhu_vq *vq = r->dev->vq[q];
	uint16_t used = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
	uint16_t avail = __atomic_load_n(&vq->avail->idx, __ATOMIC_RELAXED), head;
	uint16_t flags = q == 0 ? VRING_DESC_F_WRITE : 0;
	uint64_t addr;
	uint32_t len;

	if ((uint16_t)(avail - used) > RING_SIZE) {
		/* Its own index was vandalised: a driver would start over from used. */
		__atomic_store_n(&vq->avail->idx, used, __ATOMIC_RELEASE);
		return;
	}
	if ((uint16_t)(avail - used) == RING_SIZE)
		return;
	head = avail % RING_SIZE;
	plausible(r, s, &addr, &len, &flags);
	vq->desc[head].addr = addr;
	vq->desc[head].len = len;
	vq->desc[head].flags = flags;
	vq->desc[head].next = 0;
	vq->avail->ring[head] = head;
	__atomic_store_n(&vq->avail->idx, (uint16_t)(avail + 1), __ATOMIC_RELEASE);
	r->posts++;
}

/*
 * Packed: offer one descriptor at the driver's slot if the device is done
 * with it, or in any case with 'force' (the slot a restarted ring resumes at).
 */
static void
packed_post(struct race *r, uint64_t *s, uint16_t q, uint16_t *slot, bool *wrap, bool force)
{
	struct vring_packed_desc *d = &r->dev->vq[q]->desc_packed[*slot];
	uint16_t f = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
	uint16_t flags = q == 0 ? VRING_DESC_F_WRITE : 0;
	uint64_t addr;
	uint32_t len;

	/* Free: used by the device (AVAIL == USED), or never offered. */
	if (!force &&
	    ((f & VRING_PACKED_DESC_F_AVAIL) != 0) != ((f & VRING_PACKED_DESC_F_USED) != 0))
		return;
	plausible(r, s, &addr, &len, &flags);
	d->addr = addr;
	d->len = len;
	d->id = *slot;
	__atomic_store_n(&d->flags, (uint16_t)(pdrv_avail_flags(*wrap) | flags),
			 __ATOMIC_RELEASE);
	if (++*slot == RING_SIZE) {
		*slot = 0;
		*wrap = !*wrap;
	}
	r->posts++;
}

/*
 * A random value written over 1, 2, 4 or 8 bytes at 'p' (8-byte aligned);
 * the old ones are kept so that the guest can put them back a moment later,
 * the way a racing guest flips a field back and forth.
 */
static void
corrupt(struct race *r, uint64_t *s, uint8_t *p, uint64_t *old, uint64_t *written)
{
	uint64_t v = xorshift(s);

	memcpy(old, p, sizeof(*old));
	switch (v & 3) {
	case 0:
		__atomic_store_n(p + (v >> 8) % 8, (uint8_t)(v >> 16), __ATOMIC_RELAXED);
		break;
	case 1:
		__atomic_store_n((uint16_t *)p + (v >> 8) % 4, (uint16_t)(v >> 16),
				 __ATOMIC_RELAXED);
		break;
	case 2:
		__atomic_store_n((uint32_t *)p + (v >> 8) % 2, (uint32_t)(v >> 16),
				 __ATOMIC_RELAXED);
		break;
	default:
		__atomic_store_n((uint64_t *)p, v, __ATOMIC_RELAXED);
		break;
	}
	memcpy(written, p, sizeof(*written));
	r->writes++;
}

/* Where to strike: what was just offered (most likely read next), or anywhere in the rings. */
static uint8_t *
target(struct race *r, uint64_t *s, uint16_t q)
{
	struct vhu_vq *vq = r->dev->vq[q];
	uint64_t v = xorshift(s), off;
	uint16_t i;

	if (v % 4 == 0) {
		off = xorshift(s) % (uint64_t)(r->hi - r->lo);
		return r->lo + (off & ~7ull);
	}
	if (vq->packed) {
		i = (uint16_t)((r->last_slot[q] + RING_SIZE - (v >> 8) % 2) % RING_SIZE);
		return (uint8_t *)&vq->desc_packed[i] + ((v >> 16) % 2) * 8;
	}
	i = (uint16_t)(__atomic_load_n(&vq->avail->idx, __ATOMIC_RELAXED) - 1 - (v >> 8) % 2) %
	    RING_SIZE;
	if ((v >> 16) % 3 == 0)
		return (uint8_t *)&vq->avail->ring[i & ~3];
	return (uint8_t *)&vq->desc[i] + ((v >> 24) % 2) * 8;
}

/* The hostile guest: a driver offering buffers, that now and then vandalises them. */
static void *
guest_thread(void *arg)
{
	struct race *r = arg;
	uint64_t s = r->seed, old = 0, written = 0, step = 0, undo_at = 0;
	uint16_t slot[2] = { 0, 0 }, q;
	bool wrap[2] = { true, true };
	uint8_t *hit = NULL;

	__atomic_store_n(&r->started, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		for (q = 0; q < 2; q++) {
			uint16_t rs = __atomic_exchange_n(&r->resync[q], 0, __ATOMIC_ACQUIRE);

			if (rs != 0) {
				slot[q] = (uint16_t)((rs - 1) & 0x7fff);
				wrap[q] = ((rs - 1) & 0x8000) != 0;
			}
			if (r->dev->vq[q]->packed) {
				packed_post(r, &s, q, &slot[q], &wrap[q], rs != 0);
				r->last_slot[q] = (uint16_t)((slot[q] + RING_SIZE - 1) % RING_SIZE);
			} else {
				split_post(r, &s, q);
			}
		}
		step++;
		if (hit != NULL && step >= undo_at) {
			/* Unless the device wrote there meanwhile (a used descriptor). */
			if (memcmp(hit, &written, sizeof(written)) == 0)
				memcpy(hit, &old, sizeof(old));
			hit = NULL;
		}
		if (hit == NULL && xorshift(&s) % CORRUPT_ONE_IN == 0) {
			hit = target(r, &s, (uint16_t)(xorshift(&s) % 2));
			corrupt(r, &s, hit, &old, &written);
			undo_at = step + xorshift(&s) % 64;
		}
	}
	return NULL;
}

/* What the front-end would do for a broken ring: start it again where it stands. */
static void
restart(struct race *r, uint16_t q)
{
	struct vhu_vq *vq = r->dev->vq[q];

	vq->broken = false;
	vq->broken_reason[0] = '\0';
	if (vq->packed) {
		vq->last_used_idx = vq->last_avail_idx;
		vq->used_wrap = vq->avail_wrap;
		__atomic_store_n(&r->resync[q],
				 (uint16_t)((vq->last_avail_idx | (vq->avail_wrap << 15)) + 1),
				 __ATOMIC_RELEASE);
	} else {
		vq->last_used_idx = __atomic_load_n(&vq->used->idx, __ATOMIC_RELAXED);
		vq->last_avail_idx = vq->last_used_idx;
	}
}

static void
race(bool packed)
{
	struct rte_mempool *mp = unit_pool(POOL_SIZE);
	unsigned int free0 = rte_mempool_avail_count(mp), broken = 0, moved = 0, bursts = 0;
	struct packed_drv pd[2];
	struct rte_mbuf *pkts[32];
	struct timespec t0, t;
	pthread_t th;
	struct race r;
	uint16_t q;

	memset(&r, 0, sizeof(r));
	guest_init(&r.g, 2, REGION_SIZE);
	r.dev = fake_dev_new(1, 0);
	for (q = 0; q < 2; q++) {
		if (packed)
			guest_packed_ring_init(&r.g, r.dev->vq[q], RING_SIZE, &pd[q]);
		else
			guest_ring_init(&r.g, r.dev->vq[q], RING_SIZE);
		r.dev->vq[q]->mrg_rxbuf = q == 0;
	}
	/* The rings sit at the start of region 0; the buffers are in region 1. */
	r.lo = r.g.hva[0];
	r.hi = (uint8_t *)guest_ptr(&r.g, r.g.next);
	r.seed = packed ? 0x9e3779b97f4a7c15ull : 0xd1b54a32d192ed03ull;
	ASSERT_EQ(pthread_create(&th, NULL, guest_thread, &r), 0);
	while (!__atomic_load_n(&r.started, __ATOMIC_ACQUIRE))
		sched_yield();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		uint16_t n = vhu_vhost_dequeue_burst(r.dev, 0, mp, pkts, 32);

		moved += n + vhu_vhost_enqueue_burst(r.dev, 0, pkts, n);
		rte_pktmbuf_free_bulk(pkts, n);
		for (q = 0; q < 2; q++) {
			if (r.dev->vq[q]->broken) {
				if (broken++ % 50000 == 0)
					th_diag("ring %u broken: %s", q, r.dev->vq[q]->broken_reason);
				restart(&r, q);
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		bursts++;
	} while (t.tv_sec - t0.tv_sec < SECONDS);
	__atomic_store_n(&r.stop, true, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	th_diag("%u bursts in %d s against a guest that offered %" PRIu64 " buffers and made %"
		PRIu64 " random writes: %u packets moved, %u rings broken and restarted", bursts,
		SECONDS, r.posts, r.writes, moved, broken);
	ASSERT_GT(moved, 0);	/* the walks went deep */
	ASSERT_GT(broken, 0);	/* and the corruption reached the checks */
	fake_dev_free(r.dev);
	guest_fini(&r.g);
	ASSERT_EQ(rte_mempool_avail_count(mp), free0);
}

TEST(split_rings_rewritten_during_bursts_stay_inside_guest_memory)
{
	race(false);
}

TEST(packed_rings_rewritten_during_bursts_stay_inside_guest_memory)
{
	race(true);
}
