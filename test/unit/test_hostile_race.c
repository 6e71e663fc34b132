/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A guest that rewrites its rings while the device walks them: a thread
 * plays the guest, offering buffers as a driver does (a few of them bad) and
 * meanwhile writing random values over what it just offered, or anywhere in
 * its descriptors, avail and used rings, indexes and flags, and putting the
 * old values back a moment later; the test thread runs the bursts of both
 * directions. The device reads every descriptor once before it checks and
 * uses it, so whatever the timing it must not read or write outside guest
 * memory (the guard pages around it fault), leak an mbuf, hang, or touch
 * the device's other rings; a ring it latches broken is restarted and the
 * run goes on.
 *
 * The guest thread runs on a CPU EAL did not take: started from the test
 * thread it would inherit EAL's one CPU and only ever run between two bursts,
 * at a scheduler tick. A burst during which the guest's count of writes moved
 * raced it; each layout runs until RACED_BURSTS such bursts moved packets or
 * broke a ring, and fails if that takes longer than MAX_SECONDS (many times
 * what it takes) of CPU time in both threads, so that the test cannot
 * quietly stop racing. The budget is CPU time, not wall time: on a machine
 * loaded by other work the two threads run less, and less often at once,
 * and the race takes longer without being any less raced (WALL_SECONDS
 * bounds the wait). With one CPU there is no race to count: each layout
 * then runs ALONE_SECONDS and says so.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_log.h>
#include <rte_mbuf.h>

#include "fake_dev.h"
#include "guest.h"
#include "test_harness.h"
#include "unit_eal.h"

#define REGION_SIZE (64 * 1024)
#define RING_SIZE 64
#define POOL_SIZE 511
#define RACED_BURSTS 50000	/* per layout: bursts that did work while the guest wrote */
#define MAX_SECONDS \
	20			 /* per layout, CPU seconds each thread may spend to get there: \
				  * many times what it takes */
#define WALL_SECONDS   80	 /* per layout, the longest wait for that CPU time */
#define ALONE_SECONDS 2		/* per layout, with one CPU (no race: see race()) */
#define CORRUPT_ONE_IN 16	/* steps of the guest between two strikes, on average */
#define BAD_ONE_IN 32		/* buffers offered between two bad ones, on average */
#define STUCK_STEPS 64		/* packed: steps without a free slot before the guest forces one */

/* resync[]: set, and the packed wrap counter (bit 15) over the index. */
#define RESYNC (1u << 16)
#define RESYNC_WRAP (1u << 15)

struct race {
	struct guest g;
	struct vhu_vhost_dev *dev;
	uint8_t *lo, *hi;	/* the rings: what the scribbler corrupts */
	uint64_t seed;
	bool stop;		/* set by the test thread; relaxed is enough */
	bool started;		/* set by the guest thread once it runs */
	uint32_t resync[2];	/* after a restart: RESYNC | where the device goes on from */
	uint16_t last_slot[2];	/* packed: the slot the guest offered last */
	uint64_t posts;		/* chains the guest offered */
	uint64_t writes;	/* random writes it made */
	uint64_t wedged[2];	/* packed: times it went on from the device's slot */
	uint64_t stores;	/* its ring writes (posts, strikes, undos), for the test
				 * thread to see them happen; written by the guest only */
};

/* The guest wrote the rings once more: tell the test thread (a plain count, one writer). */
static void
stored(struct race *r)
{
	__atomic_store_n(&r->stores, r->stores + 1, __ATOMIC_RELAXED);
}

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

/*
 * Split: offer one chain on ring q if the ring has room, as a driver would.
 * With 'resync' (RESYNC | the used index the ring was restarted at), first
 * take back whatever was offered and not used, as a driver resetting the ring
 * would: else a bad chain it offered would break the restarted ring again at
 * once, burst after burst, until a random write happened to mend it.
 */
static void
split_post(struct race *r, uint64_t *s, uint16_t q, uint32_t resync)
{
	struct vhu_vq *vq = r->dev->vq[q];
	uint16_t used = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
	uint16_t avail = __atomic_load_n(&vq->avail->idx, __ATOMIC_RELAXED), head;
	uint16_t flags = q == 0 ? VRING_DESC_F_WRITE : 0;
	uint64_t addr;
	uint32_t len;

	if (resync != 0) {
		avail = (uint16_t)resync;
		__atomic_store_n(&vq->avail->idx, avail, __ATOMIC_RELEASE);
		__atomic_store_n(&vq->used->idx, avail, __ATOMIC_RELAXED);
		used = avail;
		stored(r);
	}
	if ((uint16_t)(avail - used) > RING_SIZE) {
		/* Its own index was vandalised: a driver would start over from used. */
		__atomic_store_n(&vq->avail->idx, used, __ATOMIC_RELEASE);
		stored(r);
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
	stored(r);
}

/*
 * Packed: offer one descriptor at the driver's slot if the device is done
 * with it, or in any case with 'force' (the slot a restarted ring resumes at).
 * True if it did.
 */
static bool
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
		return false;
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
	stored(r);
	return true;
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
	stored(r);
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
	uint16_t slot[2] = { 0, 0 }, stuck[2] = { 0, 0 }, q;
	bool wrap[2] = { true, true };
	uint8_t *hit = NULL;

	__atomic_store_n(&r->started, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		for (q = 0; q < 2; q++) {
			uint32_t rs = __atomic_exchange_n(&r->resync[q], 0, __ATOMIC_ACQUIRE);
			struct vhu_vq *vq = r->dev->vq[q];

			if (rs != 0 && vq->packed) {
				slot[q] = (uint16_t)(rs & (RESYNC_WRAP - 1));
				wrap[q] = (rs & RESYNC_WRAP) != 0;
			} else if (vq->packed && stuck[q] >= STUCK_STEPS) {
				/* A strike made the device take a slot the guest had not
				 * offered, and each now waits for the other (or the
				 * receive ring is just full): go on from where the
				 * device stands, read racily as a guest would guess it
				 * (so perhaps half updated: kept inside the ring). */
				slot[q] = __atomic_load_n(&vq->last_avail_idx, __ATOMIC_RELAXED) %
					  RING_SIZE;
				wrap[q] = __atomic_load_n(&vq->avail_wrap, __ATOMIC_RELAXED);
				rs = RESYNC;
				r->wedged[q]++;
			}
			if (vq->packed) {
				if (packed_post(r, &s, q, &slot[q], &wrap[q], rs != 0))
					stuck[q] = 0;
				else
					stuck[q]++;
				r->last_slot[q] = (uint16_t)((slot[q] + RING_SIZE - 1) % RING_SIZE);
			} else {
				split_post(r, &s, q, rs);
			}
		}
		step++;
		if (hit != NULL && step >= undo_at) {
			/* Unless the device wrote there meanwhile (a used descriptor). */
			if (memcmp(hit, &written, sizeof(written)) == 0) {
				memcpy(hit, &old, sizeof(old));
				stored(r);
			}
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

/*
 * What the front-end would do for a broken ring: start it again where it
 * stands, and tell the guest, which takes back what it had offered beyond.
 */
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
				 RESYNC | vq->last_avail_idx | (vq->avail_wrap ? RESYNC_WRAP : 0),
				 __ATOMIC_RELEASE);
	} else {
		vq->last_used_idx = __atomic_load_n(&vq->used->idx, __ATOMIC_RELAXED);
		vq->last_avail_idx = vq->last_used_idx;
		__atomic_store_n(&r->resync[q], RESYNC | vq->last_avail_idx, __ATOMIC_RELEASE);
	}
}

/*
 * The device's second queue pair took no part in the race: nothing in its
 * rings' state may have moved (compared byte for byte with 'before'), and it
 * carries a packet each way once the guest has stopped. Its ring memory is
 * laid out afresh first: the hostile guest may have pointed a receive buffer
 * anywhere in guest memory, over these rings too, and the device rightly
 * wrote there.
 */
static void
bystander_check(struct race *r, bool packed, const struct vhu_vq *before, struct rte_mempool *mp)
{
	static uint8_t want[60], got[sizeof(want)];
	struct vhu_vq *rx = r->dev->vq[2], *tx = r->dev->vq[3];
	struct rte_mbuf *m, *pkts[4];
	struct packed_drv pd[2];
	uint64_t buf[2];
	uint32_t len = 0;
	uint16_t id, k;

	for (k = 0; k < 2; k++) {
		ASSERT_FALSE(r->dev->vq[2 + k]->broken);
		ASSERT_EQ(r->dev->vq[2 + k]->stats.errors, 0);
		ASSERT_MEM_EQ(r->dev->vq[2 + k], &before[k], sizeof(before[k]));
	}
	for (k = 0; k < 2; k++) {
		if (packed)
			guest_packed_ring_init(&r->g, r->dev->vq[2 + k], RING_SIZE, &pd[k]);
		else
			guest_ring_init(&r->g, r->dev->vq[2 + k], RING_SIZE);
		buf[k] = guest_alloc(&r->g, 2048, 64);
	}
	for (k = 0; k < sizeof(want); k++)
		want[k] = (uint8_t)(k * 7 + 1);

	/* Guest TX on ring 3: a zero header, then the frame. */
	guest_write(&r->g, buf[1] + vhu_net_q(tx)->hdr_len, want, sizeof(want));
	if (packed) {
		pdrv_post(&pd[1], &(struct vring_packed_desc){ .addr = buf[1],
			  .len = vhu_net_q(tx)->hdr_len + sizeof(want), .id = 5 }, 1);
	} else {
		drv_desc(tx, 0, buf[1], vhu_net_q(tx)->hdr_len + sizeof(want), 0, 0);
		drv_avail(tx, 0);
	}
	ASSERT_EQ(vhu_vhost_dequeue_burst(r->dev, 1, mp, pkts, 4), 1);
	ASSERT_EQ(rte_pktmbuf_pkt_len(pkts[0]), sizeof(want));
	ASSERT_MEM_EQ(rte_pktmbuf_read(pkts[0], 0, sizeof(want), got), want, sizeof(want));
	if (packed) {
		ASSERT_TRUE(pdrv_take_used(&pd[1], &id, &len));
		ASSERT_EQ(id, 5);
	} else {
		ASSERT_EQ(tx->used->idx, 1);
	}

	/* Guest RX on ring 2: the same frame back, behind a header. */
	if (packed) {
		pdrv_post(&pd[0], &(struct vring_packed_desc){ .addr = buf[0], .len = 2048,
			  .id = 9, .flags = VRING_DESC_F_WRITE }, 1);
	} else {
		drv_desc(rx, 0, buf[0], 2048, VRING_DESC_F_WRITE, 0);
		drv_avail(rx, 0);
	}
	m = pkts[0];
	ASSERT_EQ(vhu_vhost_enqueue_burst(r->dev, 1, &m, 1), 1);
	rte_pktmbuf_free(m);
	if (packed) {
		ASSERT_TRUE(pdrv_take_used(&pd[0], &id, &len));
		ASSERT_EQ(id, 9);
	} else {
		ASSERT_EQ(rx->used->idx, 1);
		len = rx->used->ring[0].len;
	}
	ASSERT_EQ(len, vhu_net_q(rx)->hdr_len + sizeof(want));
	guest_read(&r->g, buf[0] + vhu_net_q(rx)->hdr_len, got, sizeof(got));
	ASSERT_MEM_EQ(got, want, sizeof(want));
	ASSERT_FALSE(rx->broken);
	ASSERT_FALSE(tx->broken);
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* CPU time clock 'c' has counted, in seconds. */
static double
cpu_seconds(clockid_t c)
{
	struct timespec t;

	if (clock_gettime(c, &t) != 0)
		th_fail(__FILE__, __LINE__, "clock_gettime of a thread's CPU clock failed");
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
race(bool packed)
{
	struct rte_mempool *mp = unit_pool(POOL_SIZE);
	unsigned int free0 = rte_mempool_avail_count(mp), broken = 0, moved = 0, bursts = 0;
	unsigned int raced = 0, raced_work = 0;
	int log_level = rte_log_get_level(vhu_vhost_logtype);
	struct packed_drv pd[2];
	struct rte_mbuf *pkts[32];
	struct vhu_vq before[2];
	double secs, cpu_bursts = 0, cpu_guest = 0, bursts0 = 0, guest0 = 0;
	clockid_t guest_clock;
	struct timespec t0;
	bool elsewhere;
	pthread_t th;
	struct race r;
	uint16_t q;

	memset(&r, 0, sizeof(r));
	guest_init(&r.g, 2, REGION_SIZE);
	r.dev = fake_dev_new(2, 0);
	for (q = 0; q < 2; q++) {
		if (packed)
			guest_packed_ring_init(&r.g, r.dev->vq[q], RING_SIZE, &pd[q]);
		else
			guest_ring_init(&r.g, r.dev->vq[q], RING_SIZE);
		vhu_net_q(r.dev->vq[q])->mrg_rxbuf = q == 0;
	}
	/* The rings sit at the start of region 0; the buffers are in region 1. */
	r.lo = r.g.hva[0];
	r.hi = (uint8_t *)guest_ptr(&r.g, r.g.next);
	/* The second pair, out of the guest's reach, to check it is left alone. */
	for (q = 0; q < 2; q++) {
		if (packed)
			guest_packed_ring_init(&r.g, r.dev->vq[2 + q], RING_SIZE, &pd[q]);
		else
			guest_ring_init(&r.g, r.dev->vq[2 + q], RING_SIZE);
		memcpy(&before[q], r.dev->vq[2 + q], sizeof(before[q]));
	}
	r.seed = packed ? 0x9e3779b97f4a7c15ull : 0xd1b54a32d192ed03ull;
	/* Every broken ring would log a line: hundreds of thousands of them. */
	rte_log_set_level(vhu_vhost_logtype, RTE_LOG_CRIT);
	elsewhere = unit_thread_elsewhere(&th, guest_thread, &r);
	if (!elsewhere) {
		th_diag("one CPU only: the guest runs between bursts, at scheduler ticks; the "
			"race itself is not tested");
		ASSERT_EQ(pthread_create(&th, NULL, guest_thread, &r), 0);
	}
	while (!__atomic_load_n(&r.started, __ATOMIC_ACQUIRE))
		sched_yield();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (elsewhere) {
		ASSERT_EQ(pthread_getcpuclockid(th, &guest_clock), 0);
		bursts0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
		guest0 = cpu_seconds(guest_clock);
	}
	do {
		uint64_t stores = __atomic_load_n(&r.stores, __ATOMIC_RELAXED);
		unsigned int broke = 0, n, did;

		n = vhu_vhost_dequeue_burst(r.dev, 0, mp, pkts, 32);
		did = n + vhu_vhost_enqueue_burst(r.dev, 0, pkts, n);
		rte_pktmbuf_free_bulk(pkts, n);
		for (q = 0; q < 2; q++)
			broke += r.dev->vq[q]->broken;
		if (__atomic_load_n(&r.stores, __ATOMIC_RELAXED) != stores) {
			raced++;
			raced_work += did > 0 || broke > 0;
		}
		moved += did;
		for (q = 0; q < 2; q++) {
			if (r.dev->vq[q]->broken) {
				if (broken++ % 50000 == 0)
					th_diag("ring %u broken: %s", q, r.dev->vq[q]->broken_reason);
				restart(&r, q);
			}
		}
		bursts++;
		if (bursts % 256 != 0)
			continue;
		secs = seconds_since(&t0);
		if (!elsewhere) {
			if (secs >= ALONE_SECONDS)
				break;
			continue;
		}
		cpu_bursts = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - bursts0;
		cpu_guest = cpu_seconds(guest_clock) - guest0;
		if (raced_work >= RACED_BURSTS || RTE_MIN(cpu_bursts, cpu_guest) >= MAX_SECONDS ||
		    secs >= WALL_SECONDS)
			break;
	} while (true);
	__atomic_store_n(&r.stop, true, __ATOMIC_RELAXED);
	ASSERT_EQ(pthread_join(th, NULL), 0);
	rte_log_set_level(vhu_vhost_logtype, (uint32_t)log_level);
	th_diag("%u bursts in %.2f s against a guest that offered %" PRIu64
		" buffers and made %" PRIu64
		" random writes: %u packets moved, %u rings broken and restarted; %u bursts "
		"ran while the guest wrote the rings, %u of them moved packets or broke a ring; "
		"the guest went on from the device's slot %" PRIu64 " times; CPU: %.1f s bursts, "
		"%.1f s guest",
		bursts, secs, r.posts, r.writes, moved, broken, raced, raced_work,
		r.wedged[0] + r.wedged[1], cpu_bursts, cpu_guest);
	ASSERT_GT(moved, 0);	/* the walks went deep */
	ASSERT_GT(broken, 0);	/* and the corruption reached the checks */
	if (elsewhere) {
		/* It raced, and not only while the rings were empty. */
		if (raced_work < RACED_BURSTS)
			th_diag("the guest thread hardly ran while the bursts did: in %.1f s the "
				"bursts had %.1f s of CPU and the guest %.1f s (%s)",
				secs, cpu_bursts, cpu_guest,
				RTE_MIN(cpu_bursts, cpu_guest) >= MAX_SECONDS
					? "both ran: they did not run at once, or the race is gone"
					: "a machine far too loaded, or valgrind, which runs one "
					  "thread at a time");
		ASSERT_GE(raced_work, RACED_BURSTS);
	}
	bystander_check(&r, packed, before, mp);
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
