/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread takes rings and memory back from bursts that registered
 * with nothing (lib/common/vhu_handoff.h): the test thread plays a DPDK
 * application's lcore, moving packets both ways with the public bursts and
 * playing the guest's driver between them, while a control thread on
 * another CPU, through the message handlers a connection uses, over and over
 * replaces the memory table (the packet buffers move to a new file, the old
 * mapping is unmapped), stops and restarts each ring (GET_VRING_BASE, then
 * SET_VRING_BASE and a new kick), swaps the call fd, and disconnects (the
 * device is reset, every mapping gone) and connects again.
 *
 * A burst that used a ring or a mapping the control thread had taken back
 * would touch unmapped memory: the fault fails the test (and AddressSanitizer
 * would see it in the sanitizer build). A handoff that never completes fails
 * it by time: every cycle of the control thread must finish within
 * MAX_SECONDS. The packets the driver gets back are counted and must be
 * some (the bursts did run) and never more than it posted.
 *
 * Run twice: with bursts relying on membarrier() (the library's choice when
 * the kernel has it), then with bursts fencing themselves (the fallback).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "guest.h"
#include "msg_helpers.h"
#include "unit_eal.h"
#include "vhu_handoff.h"

#define RING_SIZE    256
#define RINGS_SIZE   (64 * 1024)  /* the region of the rings, kept across tables */
#define BUF_SIZE     (256 * 1024) /* the region of the buffers, replaced */
#define TX_BUF(slot) (BUF_GPA + 512 * (uint64_t)(slot))		       /* transmit buffers */
#define RX_BUF(slot) (BUF_GPA + BUF_SIZE / 2 + 512 * (uint64_t)(slot)) /* receive */
#define BUF_GPA	     RINGS_SIZE		    /* guest-physical start of the buffers */
#define BUF_UVA	     (UVA_BASE + 0x1000000) /* the front-end's address of the buffers */
#define RING_AREA    0x4000		    /* ring i's table at i * RING_AREA */
#define AVAIL_OFF    0x1000
#define USED_OFF     0x2000
#define HDR	     12
#define PKT	     64
#define BURST	     32
#define CYCLES	     150 /* control cycles per run */
#define MAX_SECONDS  45	 /* for them all: far more than they take loaded, less than meson's 60 */

/* What both threads share. */
struct handoff {
	struct vhu_vhost_dev *dev;
	int rings_fd;	       /* the kept region, as the front-end holds it */
	uint8_t *rings;	       /* our mapping of it: the driver's view */
	struct vhu_vq *drv[2]; /* driver-side ring pointers into 'rings' */
	uint16_t used_seen[2]; /* driver: used entries taken back */
	uint16_t posted[2];    /* driver: avail index */
	uint32_t cycle;	       /* control: cycles done (atomic) */
	bool done;	       /* control: finished (atomic) */
	char error[256];       /* control: first failure, or "" */
	uint64_t packets;      /* driver: buffers got back */
};

static void
ctrl_fail(struct handoff *h, const char *what, int rc)
{
	if (h->error[0] == '\0')
		snprintf(h->error, sizeof(h->error), "cycle %u: %s: %d", h->cycle, what, rc);
}

/* Send 'm' as a connection would; false (recorded) unless it gave 'want'. */
static bool
ctrl_send(struct handoff *h, struct vhost_user_msg *m, int *fds, int nfds, int want)
{
	char why[256] = "";
	int rc;

	if (vhu_msg_validate(h->dev, m, nfds, why, sizeof(why)) != 0) {
		ctrl_fail(h, why, -EINVAL);
		return false;
	}
	rc = vhu_msg_handle(h->dev, m, fds, nfds);
	if (rc != want) {
		ctrl_fail(h, vhu_msg_name(m->hdr.request), rc);
		return false;
	}
	return true;
}

/*
 * A new table: the rings' region again, and the buffers in a fresh file
 * (zeroed: a header of zeros is valid). The buffers' size alternates, so that
 * the new mapping rarely lands where the one before was.
 */
static bool
ctrl_mem_table(struct handoff *h)
{
	uint64_t size = BUF_SIZE + (h->cycle % 2) * 4096;
	struct vhost_user_msg m;
	int fds[2];

	fds[0] = dup(h->rings_fd);
	fds[1] = memfd_create("vhu-unit-buffers", MFD_CLOEXEC);
	if (fds[0] < 0 || fds[1] < 0 || ftruncate(fds[1], (off_t)size) != 0) {
		ctrl_fail(h, "cannot make the buffers' file", -errno);
		return false;
	}
	msg_mem_table(&m, 2);
	msg_region(&m, 0, 0, RINGS_SIZE, UVA_BASE, 0);
	msg_region(&m, 1, BUF_GPA, size, BUF_UVA, 0);
	return ctrl_send(h, &m, fds, 2, VHU_MSG_OK);
}

/* Give ring 'i' to the data path from the used index the driver sees. */
static bool
ctrl_ring_up(struct handoff *h, uint32_t i)
{
	uint64_t area = UVA_BASE + i * RING_AREA;
	uint16_t base = __atomic_load_n(&h->drv[i]->used->idx, __ATOMIC_ACQUIRE);
	struct vhost_user_msg m;
	int fd[1];

	msg_state(&m, VHOST_USER_SET_VRING_NUM, i, RING_SIZE);
	if (!ctrl_send(h, &m, NULL, 0, VHU_MSG_OK))
		return false;
	msg_addr(&m, i, area, area + AVAIL_OFF, area + USED_OFF);
	if (!ctrl_send(h, &m, NULL, 0, VHU_MSG_OK))
		return false;
	msg_state(&m, VHOST_USER_SET_VRING_BASE, i, base);
	if (!ctrl_send(h, &m, NULL, 0, VHU_MSG_OK))
		return false;
	fd[0] = make_eventfd();
	msg_u64(&m, VHOST_USER_SET_VRING_CALL, i);
	if (!ctrl_send(h, &m, fd, 1, VHU_MSG_OK))
		return false;
	msg_u64(&m, VHOST_USER_SET_VRING_KICK, i | VHOST_USER_VRING_NOFD_MASK);
	if (!ctrl_send(h, &m, NULL, 0, VHU_MSG_OK))
		return false;
	msg_state(&m, VHOST_USER_SET_VRING_ENABLE, i, 1);
	return ctrl_send(h, &m, NULL, 0, VHU_MSG_OK);
}

/* A front-end connecting: features, the memory table, both rings. */
static bool
ctrl_connect(struct handoff *h)
{
	struct vhost_user_msg m;

	msg_u64(&m, VHOST_USER_SET_FEATURES,
		VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	return ctrl_send(h, &m, NULL, 0, VHU_MSG_OK) && ctrl_mem_table(h) && ctrl_ring_up(h, 0) &&
	       ctrl_ring_up(h, 1);
}

static bool
ctrl_cycle(struct handoff *h)
{
	struct vhost_user_msg m;
	uint32_t i;
	int fd[1];

	if (!ctrl_mem_table(h))
		return false;
	for (i = 0; i < 2; i++) {
		msg_state(&m, VHOST_USER_GET_VRING_BASE, i, 0);
		if (!ctrl_send(h, &m, NULL, 0, VHU_MSG_REPLY) || !ctrl_ring_up(h, i))
			return false;
	}
	fd[0] = make_eventfd();
	msg_u64(&m, VHOST_USER_SET_VRING_CALL, 1);
	if (!ctrl_send(h, &m, fd, 1, VHU_MSG_OK))
		return false;
	if (h->cycle % 5 == 4) {
		/* The front-end goes away and comes back. */
		vhu_dev_reset(h->dev);
		return ctrl_connect(h);
	}
	return true;
}

static void *
ctrl_main(void *arg)
{
	struct handoff *h = arg;

	while (__atomic_load_n(&h->cycle, __ATOMIC_RELAXED) < CYCLES && ctrl_cycle(h)) {
		__atomic_fetch_add(&h->cycle, 1, __ATOMIC_RELAXED);
		/* Let a few bursts run on the rings as they are now. */
		usleep(200);
	}
	/* Release: the error text is complete when 'done' is seen. */
	__atomic_store_n(&h->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Driver: take back what the device used on ring 'i', then offer free buffers. */
static void
drv_turn(struct handoff *h, uint32_t i)
{
	struct vhu_vq *d = h->drv[i];
	uint16_t used = __atomic_load_n(&d->used->idx, __ATOMIC_ACQUIRE), k;

	h->packets += (uint16_t)(used - h->used_seen[i]);
	h->used_seen[i] = used;
	/* After a reset the device resumes from the used index: what was still
	 * offered stays offered, the same descriptors in the same slots. */
	for (k = 0; k < BURST && (uint16_t)(h->posted[i] - used) < RING_SIZE; k++) {
		uint16_t slot = h->posted[i] % RING_SIZE;

		if (i == 1)
			drv_desc(d, slot, TX_BUF(slot), HDR + PKT, 0, 0);
		else
			drv_desc(d, slot, RX_BUF(slot), 512, VRING_DESC_F_WRITE, 0);
		d->avail->ring[slot] = slot;
		h->posted[i]++;
		/* Release: the descriptor is written before the device sees the index. */
		__atomic_store_n(&d->avail->idx, h->posted[i], __ATOMIC_RELEASE);
	}
}

static void
handoff_run(void)
{
	static struct handoff h;
	struct rte_mempool *mp = unit_pool(511);
	struct rte_mbuf *out[BURST], *in[BURST];
	uint64_t bursts = 0, start = time(NULL);
	bool elsewhere;
	pthread_t th;
	uint32_t i;

	memset(&h, 0, sizeof(h));
	h.dev = fake_dev_new(1, 0);
	h.rings_fd = make_memfd(RINGS_SIZE);
	h.rings = mmap(NULL, RINGS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, h.rings_fd, 0);
	ASSERT_TRUE(h.rings != MAP_FAILED);
	for (i = 0; i < 2; i++) {
		h.drv[i] = fake_vq_new((uint16_t)i);
		h.drv[i]->size = RING_SIZE;
		h.drv[i]->desc = (void *)(h.rings + i * RING_AREA);
		h.drv[i]->avail = (void *)(h.rings + i * RING_AREA + AVAIL_OFF);
		h.drv[i]->used = (void *)(h.rings + i * RING_AREA + USED_OFF);
	}
	ASSERT_TRUE(ctrl_connect(&h));
	for (i = 0; i < BURST; i++) {
		out[i] = rte_pktmbuf_alloc(mp);
		ASSERT_NOT_NULL(out[i]);
		ASSERT_NOT_NULL(rte_pktmbuf_append(out[i], PKT));
	}
	elsewhere = unit_thread_elsewhere(&th, ctrl_main, &h);
	if (!elsewhere) {
		th_diag("one CPU: the control thread shares it with the bursts");
		ASSERT_EQ(pthread_create(&th, NULL, ctrl_main, &h), 0);
	}
	/* Acquire: pairs with the release store of 'done' in ctrl_main(). */
	while (!__atomic_load_n(&h.done, __ATOMIC_ACQUIRE)) {
		uint16_t n;

		if ((uint64_t)time(NULL) - start > MAX_SECONDS)
			th_fail(__FILE__, __LINE__,
				"the control thread is stuck at cycle %u of %u "
				"after %d s: a handoff never completed",
				h.cycle, CYCLES, MAX_SECONDS);
		drv_turn(&h, 0);
		drv_turn(&h, 1);
		n = vhu_vhost_dequeue_burst(h.dev, 0, mp, in, BURST);
		rte_pktmbuf_free_bulk(in, n);
		vhu_vhost_enqueue_burst(h.dev, 0, out, BURST);
		bursts += 2;
		if (!elsewhere)
			sched_yield();
	}
	pthread_join(th, NULL);
	th_diag("%u control cycles in %" PRIu64 " s against %" PRIu64 " bursts that moved %" PRIu64
		" packets",
		h.cycle, (uint64_t)time(NULL) - start, bursts, h.packets);
	if (h.error[0] != '\0')
		th_fail(__FILE__, __LINE__, "the control thread failed: %s", h.error);
	ASSERT_EQ(h.cycle, CYCLES);
	ASSERT_GT(h.packets, 0);
	ASSERT_FALSE(h.dev->vq[0]->broken);
	ASSERT_FALSE(h.dev->vq[1]->broken);
	rte_pktmbuf_free_bulk(out, BURST);
	fake_dev_free(h.dev);
	for (i = 0; i < 2; i++)
		free(h.drv[i]);
	munmap(h.rings, RINGS_SIZE);
	close(h.rings_fd);
}

TEST(bursts_without_registration_survive_table_ring_and_connection_changes_membarrier)
{
	vhu_handoff_init();
	if (vhu_handoff_burst_fence)
		th_diag("membarrier is unavailable here: bursts fence themselves in both runs");
	handoff_run();
}

TEST(bursts_without_registration_survive_table_ring_and_connection_changes_fenced)
{
	vhu_handoff_force_burst_fence();
	handoff_run();
}
