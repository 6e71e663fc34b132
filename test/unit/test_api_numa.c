/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NUMA placement with an injected node lookup and allocator (this machine
 * may have one node): guest memory "on node 1" makes each running ring report
 * node 1 and moves its state there, once; a node where nothing can be
 * allocated leaves the state where it is, said once; a move waits for the
 * burst inside the ring; the real lookup agrees with get_mempolicy. No EAL,
 * no socket.
 */
#include <numaif.h>
#include <pthread.h>
#include <stdio.h>

#include "msg_helpers.h"

#define RING_SIZE  64
#define MAX_ALLOCS 16

/* ---- an injected machine: guest RAM on node 1, what we allocate where we ask ---- */

static struct {
	void *p;
	int node;
} allocs[MAX_ALLOCS];
static unsigned int n_allocs;
static bool alloc_fails;

/* True if 'a' lies in a mapping of the tests' guest RAM (a memfd, see make_memfd()). */
static bool
in_guest_ram(uintptr_t a)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi;
	char line[512];
	bool found = false;

	if (f == NULL)
		th_fail(__FILE__, __LINE__, "cannot read /proc/self/maps");
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = sscanf(line, "%lx-%lx", &lo, &hi) == 2 && a >= lo && a < hi &&
			strstr(line, "vhu-unit-guest") != NULL;
	fclose(f);
	return found;
}

static int
fake_node_of(const void *addr)
{
	unsigned int i;

	for (i = 0; i < n_allocs; i++)
		if (allocs[i].p == addr)
			return allocs[i].node;
	return in_guest_ram((uintptr_t)addr) ? 1 : 0;
}

static void *
fake_alloc(size_t size, int node)
{
	void *p;

	if (alloc_fails || n_allocs == MAX_ALLOCS)
		return NULL;
	p = aligned_alloc(64, (size + 63) & ~(size_t)63);
	if (p == NULL)
		return NULL;
	memset(p, 0, size);
	allocs[n_allocs].p = p;
	allocs[n_allocs].node = node;
	n_allocs++;
	return p;
}

static const struct vhu_numa_ops fake_numa = {
	.node_of = fake_node_of,
	.alloc = fake_alloc,
	.free = free,
};

/* A device with rings 0 and 1 running over guest RAM. */
static struct vhu_vhost_dev *
running_device(int memfd)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	uint32_t i;
	int fds[1];

	dev->numa_place = true;
	msg_init(&m, VHOST_USER_SET_OWNER, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_u64(&m, VHOST_USER_SET_FEATURES, VHU_BIT(VIRTIO_F_VERSION_1));
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	fds[0] = dup(memfd);
	msg_mem_table(&m, 1);
	msg_region(&m, 0, 0, GUEST_SIZE, UVA_BASE, 0);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	for (i = 0; i < 2; i++) {
		uint64_t area = UVA_BASE + 0x10000 * (i + 1);

		msg_state(&m, VHOST_USER_SET_VRING_NUM, i, RING_SIZE);
		ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
		msg_addr(&m, i, area, area + 0x1000, area + 0x2000);
		ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
		fds[0] = make_eventfd();
		msg_u64(&m, VHOST_USER_SET_VRING_KICK, i);
		ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	}
	return dev;
}

static void
device_free(struct vhu_vhost_dev *dev)
{
	vhu_numa_free_retired(dev);
	fake_dev_free(dev);
	vhu_numa_set_ops(NULL);
	n_allocs = 0;
	alloc_fails = false;
}

TEST(rings_over_memory_on_node_1_report_it_and_move_their_state_there)
{
	struct vhu_vhost_dev *dev;
	struct vhu_vhost_vq_info vi;
	struct vhu_vq *before[2];
	int memfd = make_memfd(GUEST_SIZE);

	vhu_numa_set_ops(&fake_numa);
	dev = running_device(memfd);
	/* The region's node was looked up as the table was installed. */
	ASSERT_EQ(dev->mem->regions[0].numa_node, 1);
	before[0] = dev->vq[0];
	before[1] = dev->vq[1];
	ASSERT_EQ(fake_node_of(before[1]), 0);
	/* As after every message: the rings move, then run again. */
	vhu_events_check(dev);
	ASSERT_EQ(n_allocs, 2);
	ASSERT_EQ(allocs[0].node, 1);
	ASSERT_EQ(allocs[1].node, 1);
	ASSERT_TRUE(dev->vq[0] != before[0] && dev->vq[1] != before[1]);
	ASSERT_EQ(fake_node_of(dev->vq[1]), 1);
	ASSERT_TRUE(dev->vq[0]->ready && dev->vq[1]->ready);
	/* The old copies stay (a late burst may read their 'ready'), stopped. */
	ASSERT_FALSE(before[0]->ready || before[1]->ready);
	ASSERT_EQ(vhu_vhost_get_vq_info(dev, 1, &vi), 0);
	ASSERT_TRUE(vi.ready);
	ASSERT_EQ(vi.numa_node, 1);
	/* Placed: nothing more moves. */
	vhu_events_check(dev);
	ASSERT_EQ(n_allocs, 2);
	device_free(dev);
	close(memfd);
}

/* The control thread's part: place the rings (after a message), then say so. */
struct ctrl_run {
	struct vhu_vhost_dev *dev;
	bool done; /* atomic */
};

static void *
ctrl_place(void *arg)
{
	struct ctrl_run *c = arg;

	vhu_events_check(c->dev);
	__atomic_store_n(&c->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * A burst is inside ring 0 (entered, not left) when the control thread moves
 * the ring's state: the move stops the ring, then waits for the burst to
 * leave before it copies the state, so that what the burst wrote goes with
 * it. A burst entry that did not mark the ring it returns lets the copy go
 * on under the burst.
 */
TEST(a_ring_moves_only_after_the_burst_inside_it_leaves)
{
	struct ctrl_run c = { 0 };
	struct vhu_vq *old, *vq;
	pthread_t ctrl;
	int memfd = make_memfd(GUEST_SIZE), i;

	vhu_numa_set_ops(&fake_numa);
	c.dev = running_device(memfd);
	old = c.dev->vq[0];
	vq = vhu_vq_enter(c.dev, 0);
	ASSERT_PTR_EQ(vq, old);
	ASSERT_EQ(old->mark.seq & 1, 1);
	ASSERT_EQ(pthread_create(&ctrl, NULL, ctrl_place, &c), 0);
	/* The move has begun once the ring is stopped; give it time to go wrong. */
	for (i = 0; i < 5000 && __atomic_load_n(&old->ready, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	ASSERT_FALSE(__atomic_load_n(&old->ready, __ATOMIC_ACQUIRE));
	usleep(100 * 1000);
	ASSERT_FALSE(__atomic_load_n(&c.done, __ATOMIC_ACQUIRE));
	ASSERT_PTR_EQ(__atomic_load_n(&c.dev->vq[0], __ATOMIC_ACQUIRE), old);
	/* The burst's own work lands in the state that moves. */
	vq->stats.errors = 7;
	vhu_vq_leave(vq);
	ASSERT_EQ(pthread_join(ctrl, NULL), 0);
	ASSERT_TRUE(c.done);
	ASSERT_TRUE(c.dev->vq[0] != old);
	ASSERT_EQ(c.dev->vq[0]->stats.errors, 7);
	/* The next burst enters the new copy, marked on it; the old one stays idle. */
	vq = vhu_vq_enter(c.dev, 0);
	ASSERT_PTR_EQ(vq, c.dev->vq[0]);
	ASSERT_EQ(vq->mark.seq & 1, 1);
	ASSERT_EQ(old->mark.seq & 1, 0);
	vhu_vq_leave(vq);
	ASSERT_EQ(vq->mark.seq & 1, 0);
	device_free(c.dev);
	close(memfd);
}

TEST(a_node_without_memory_for_the_state_leaves_it_and_says_so_once)
{
	struct vhu_vhost_dev *dev;
	struct vhu_vhost_vq_info vi;
	struct vhu_vq *before;
	const char *log;
	int memfd = make_memfd(GUEST_SIZE);

	vhu_numa_set_ops(&fake_numa);
	alloc_fails = true;
	dev = running_device(memfd);
	before = dev->vq[1];
	log_capture_start();
	vhu_events_check(dev);
	vhu_events_check(dev);
	log = log_capture_stop();
	ASSERT_STR_CONTAINS(log, "ring 1: guest memory is on NUMA node 1 but its state cannot be "
				 "allocated there");
	ASSERT_TRUE(strstr(strstr(log, "ring 1: guest memory") + 1, "ring 1: guest memory") ==
		    NULL);
	ASSERT_PTR_EQ(dev->vq[1], before);
	ASSERT_TRUE(dev->vq[1]->ready);
	ASSERT_EQ(vhu_vhost_get_vq_info(dev, 1, &vi), 0);
	ASSERT_EQ(vi.numa_node, 1);
	device_free(dev);
	close(memfd);
}

TEST(a_stopped_ring_reports_no_node)
{
	struct vhu_vhost_dev *dev;
	struct vhu_vhost_vq_info vi;
	int memfd = make_memfd(GUEST_SIZE);

	vhu_numa_set_ops(&fake_numa);
	dev = running_device(memfd);
	vhu_events_check(dev);
	vhu_dev_reset(dev);
	vhu_events_check(dev);
	ASSERT_EQ(vhu_vhost_get_vq_info(dev, 1, &vi), 0);
	ASSERT_EQ(vi.numa_node, -1);
	device_free(dev);
	close(memfd);
}

TEST(the_kernel_lookup_agrees_with_get_mempolicy)
{
	struct vhu_vhost_dev *dev;
	struct vhu_vhost_vq_info vi;
	int memfd = make_memfd(GUEST_SIZE), node = -1;

	dev = running_device(memfd);
	vhu_events_check(dev);
	if (get_mempolicy(&node, NULL, 0, (void *)(uintptr_t)dev->mem->regions[0].hva,
			  MPOL_F_NODE | MPOL_F_ADDR) != 0)
		node = -1;
	ASSERT_EQ(dev->mem->regions[0].numa_node, node);
	ASSERT_EQ(vhu_vhost_get_vq_info(dev, 1, &vi), 0);
	ASSERT_EQ(vi.numa_node, node);
	device_free(dev);
	close(memfd);
}
