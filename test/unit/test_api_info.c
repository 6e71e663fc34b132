/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The public state calls (vhu_vhost.h): a device of the largest size this
 * build allows runs its last ring; vhu_vhost_get_info() and
 * vhu_vhost_get_vq_info() answer from any thread without waiting for the
 * control lock; vhu_vhost_offered_features() and vhu_vhost_get_mtu() answer
 * what the device does. No EAL, no socket.
 */
#include <stdio.h>

#include "msg_helpers.h"

#define RING_SIZE 64
#define DESC_OFF  0x1000
#define AVAIL_OFF 0x2000
#define USED_OFF  0x3000

/* SET_OWNER, SET_FEATURES (VERSION_1), SET_MEM_TABLE over 'memfd'. */
static void
negotiate(struct vhu_vhost_dev *dev, int memfd)
{
	struct vhost_user_msg m;
	int fds[1];

	msg_init(&m, VHOST_USER_SET_OWNER, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_u64(&m, VHOST_USER_SET_FEATURES, VHU_BIT(VIRTIO_F_VERSION_1));
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	fds[0] = dup(memfd);
	msg_mem_table(&m, 1);
	msg_region(&m, 0, 0, GUEST_SIZE, UVA_BASE, 0);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
}

/* NUM, ADDR, BASE, KICK on ring 'index': it starts. */
static void
start_ring(struct vhu_vhost_dev *dev, uint32_t index)
{
	struct vhost_user_msg m;
	int fds[1];

	msg_state(&m, VHOST_USER_SET_VRING_NUM, index, RING_SIZE);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_addr(&m, index, UVA_BASE + DESC_OFF, UVA_BASE + AVAIL_OFF, UVA_BASE + USED_OFF);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_state(&m, VHOST_USER_SET_VRING_BASE, index, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	fds[0] = make_eventfd();
	msg_u64(&m, VHOST_USER_SET_VRING_KICK, index);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
}

TEST(max_queue_pairs_is_the_build_option)
{
	ASSERT_EQ(vhu_vhost_max_queue_pairs(), VHU_MAX_QUEUE_PAIRS);
}

TEST(the_last_ring_of_the_largest_device_runs_and_is_reported)
{
	uint16_t qps = vhu_vhost_max_queue_pairs(), last = 2 * qps - 1;
	struct vhu_vhost_dev *dev = fake_dev_new(qps, 0);
	struct vhu_vhost_vq_info vi;
	struct vhu_vhost_info info;
	struct vhost_user_msg m;
	int memfd = make_memfd(GUEST_SIZE);

	negotiate(dev, memfd);
	start_ring(dev, last);
	ASSERT_EQ(vhu_vhost_get_info(dev, &info), 0);
	ASSERT_EQ(info.queue_pairs, qps);
	ASSERT_EQ(info.nr_vqs, 2 * qps);
	ASSERT_EQ(info.nr_regions, 1);
	ASSERT_EQ(info.mem_bytes, GUEST_SIZE);
	ASSERT_EQ(vhu_vhost_get_vq_info(dev, last, &vi), 0);
	ASSERT_TRUE(vi.ready);
	ASSERT_TRUE(vi.started);
	ASSERT_EQ(vi.size, RING_SIZE);
	ASSERT_TRUE(vi.avail_idx_valid);
	ASSERT_EQ(vhu_vhost_get_vq_info(dev, 0, &vi), 0);
	ASSERT_FALSE(vi.ready);
	ASSERT_EQ(vhu_vhost_get_vq_info(dev, last + 1, &vi), -ERANGE);
	ASSERT_EQ(vhu_vhost_get_vq_info(NULL, 0, &vi), -EINVAL);
	ASSERT_EQ(vhu_vhost_get_info(dev, NULL), -EINVAL);
	/* A ring past the offer is refused. */
	msg_state(&m, VHOST_USER_SET_VRING_NUM, last + 1, RING_SIZE);
	EXPECT_INVALID(dev, &m, 0, "");
	fake_dev_free(dev);
	close(memfd);
}

TEST(a_device_larger_than_the_build_allows_is_refused)
{
	struct vhu_vhost_config cfg = {
		.path = "unit-too-many-queues.sock",
		.queue_pairs = vhu_vhost_max_queue_pairs() + 1,
	};

	log_capture_start();
	ASSERT_NULL(vhu_vhost_create(&cfg));
	ASSERT_STR_CONTAINS(log_capture_stop(), "queue pairs 1..");
}

/*
 * A data lcore may ask while the control thread holds its lock (and, before
 * the grace period it waits for ends, keeps holding it): the calls must not
 * wait. Holding the lock here, a call that took it would hang.
 */
TEST(state_calls_do_not_wait_for_the_control_lock)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhu_vhost_vq_info vi;
	struct vhu_vhost_info info;
	int memfd = make_memfd(GUEST_SIZE);

	negotiate(dev, memfd);
	start_ring(dev, 0);
	start_ring(dev, 1);
	pthread_mutex_lock(&vhu_ctrl_lock);
	ASSERT_EQ(vhu_vhost_get_info(dev, &info), 0);
	ASSERT_TRUE(info.running);
	ASSERT_EQ(vhu_vhost_get_vq_info(dev, 1, &vi), 0);
	ASSERT_TRUE(vi.ready);
	/* Guest memory is read only under the lock: not now. */
	ASSERT_FALSE(vi.avail_idx_valid);
	ASSERT_TRUE(vhu_vhost_link_up(dev));
	pthread_mutex_unlock(&vhu_ctrl_lock);
	ASSERT_EQ(vhu_vhost_get_vq_info(dev, 1, &vi), 0);
	ASSERT_TRUE(vi.avail_idx_valid);
	fake_dev_free(dev);
	close(memfd);
}

TEST(memory_counts_follow_the_table_and_the_reset)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhu_vhost_info info;
	int memfd = make_memfd(GUEST_SIZE);

	ASSERT_EQ(vhu_vhost_get_info(dev, &info), 0);
	ASSERT_EQ(info.nr_regions, 0);
	negotiate(dev, memfd);
	ASSERT_EQ(vhu_vhost_get_info(dev, &info), 0);
	ASSERT_EQ(info.nr_regions, 1);
	ASSERT_EQ(info.mem_bytes, GUEST_SIZE);
	vhu_dev_reset(dev);
	ASSERT_EQ(vhu_vhost_get_info(dev, &info), 0);
	ASSERT_EQ(info.nr_regions, 0);
	ASSERT_EQ(info.mem_bytes, 0);
	fake_dev_free(dev);
	close(memfd);
}

/* What a config would offer is what the device made from it answers. */
static void
check_offered(uint16_t queue_pairs, uint16_t mtu)
{
	struct vhu_vhost_config cfg = { .path = "x", .queue_pairs = queue_pairs, .mtu = mtu };
	struct vhu_vhost_dev *dev = fake_dev_new(queue_pairs, mtu);
	struct vhost_user_msg m;
	uint64_t f = 0, pf = 0;

	ASSERT_EQ(vhu_vhost_offered_features(&cfg, &f, &pf), 0);
	msg_init(&m, VHOST_USER_GET_FEATURES, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_EQ(f, m.payload.u64);
	msg_init(&m, VHOST_USER_GET_PROTOCOL_FEATURES, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_EQ(pf, m.payload.u64);
	fake_dev_free(dev);
}

TEST(offered_features_are_what_get_features_answers)
{
	check_offered(1, 0);
	check_offered(4, 9000);
}

TEST(offered_features_apply_flags_and_disable_features)
{
	struct vhu_vhost_config cfg = {
		.path = "x",
		.queue_pairs = 2,
		.flags = VHU_VHOST_IOMMU_SUPPORT | VHU_VHOST_TSO,
		.disable_features = VHU_BIT(VIRTIO_NET_F_MRG_RXBUF),
	};
	uint64_t f = 0, pf = 0;

	ASSERT_EQ(vhu_vhost_offered_features(&cfg, &f, &pf), 0);
	ASSERT_NE(f & VHU_BIT(VIRTIO_F_IOMMU_PLATFORM), 0);
	ASSERT_NE(f & VHU_BIT(VIRTIO_NET_F_HOST_TSO4), 0);
	ASSERT_NE(f & VHU_BIT(VIRTIO_NET_F_MQ), 0);
	ASSERT_EQ(f & VHU_BIT(VIRTIO_NET_F_MRG_RXBUF), 0);
	ASSERT_EQ(f & VHU_BIT(VIRTIO_NET_F_MTU), 0);
	ASSERT_EQ(pf & VHU_BIT(VHOST_USER_PROTOCOL_F_MTU), 0);
	ASSERT_EQ(vhu_vhost_offered_features(NULL, &f, &pf), -EINVAL);
	ASSERT_EQ(vhu_vhost_offered_features(&cfg, NULL, &pf), -EINVAL);
	ASSERT_EQ(vhu_vhost_offered_features(&cfg, &f, NULL), -EINVAL);
}

/* VHU_VHOST_FRONTEND_MTU: VIRTIO_NET_F_MTU and NET_MTU with no MTU of the backend's. */
TEST(frontend_mtu_offers_the_feature_without_an_mtu)
{
	struct vhu_vhost_config cfg = { .path = "x", .queue_pairs = 1 };
	uint64_t f = 0, pf = 0;

	ASSERT_EQ(vhu_vhost_offered_features(&cfg, &f, &pf), 0);
	ASSERT_FALSE(f & VHU_BIT(VIRTIO_NET_F_MTU));
	ASSERT_FALSE(pf & PF(MTU));
	cfg.flags = VHU_VHOST_FRONTEND_MTU;
	ASSERT_EQ(vhu_vhost_offered_features(&cfg, &f, &pf), 0);
	ASSERT_TRUE(f & VHU_BIT(VIRTIO_NET_F_MTU));
	ASSERT_TRUE(pf & PF(MTU));
}

TEST(get_mtu_needs_the_feature_then_gives_the_front_ends_mtu)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 1500);
	struct vhost_user_msg m;
	uint16_t mtu = 0;

	ASSERT_EQ(vhu_vhost_get_mtu(dev, &mtu), -ENOTSUP);
	msg_u64(&m, VHOST_USER_SET_FEATURES,
		VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VIRTIO_NET_F_MTU));
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_EQ(vhu_vhost_get_mtu(dev, &mtu), 0);
	ASSERT_EQ(mtu, 1500);
	dev->protocol_features = VHU_BIT(VHOST_USER_PROTOCOL_F_MTU);
	msg_u64(&m, VHOST_USER_NET_SET_MTU, 9000);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_EQ(vhu_vhost_get_mtu(dev, &mtu), 0);
	ASSERT_EQ(mtu, 9000);
	ASSERT_EQ(vhu_vhost_get_mtu(NULL, &mtu), -EINVAL);
	ASSERT_EQ(vhu_vhost_get_mtu(dev, NULL), -EINVAL);
	fake_dev_free(dev);
}

/* Ring-level access: the bases follow the front-end's and may be set only on a stopped ring. */
TEST(vring_base_reads_any_ring_and_is_set_only_while_stopped)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	uint16_t a = 1, u = 1;
	int memfd = make_memfd(GUEST_SIZE);

	negotiate(dev, memfd);
	ASSERT_EQ(vhu_vhost_set_vring_base(dev, 0, 7, 5), 0);
	ASSERT_EQ(vhu_vhost_get_vring_base(dev, 0, &a, &u), 0);
	ASSERT_EQ(a, 7);
	ASSERT_EQ(u, 5);
	/* GET_VRING_BASE tells the front-end what was set. */
	msg_state(&m, VHOST_USER_GET_VRING_BASE, 0, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_EQ(m.payload.state.num, 7);
	start_ring(dev, 0);
	ASSERT_EQ(vhu_vhost_get_vring_base(dev, 0, &a, &u), 0);
	ASSERT_EQ(a, 0); /* start_ring sent SET_VRING_BASE 0 */
	log_capture_start();
	ASSERT_EQ(vhu_vhost_set_vring_base(dev, 0, 3, 3), -EBUSY);
	ASSERT_STR_CONTAINS(log_capture_stop(), "only while it is stopped");
	ASSERT_EQ(vhu_vhost_get_vring_base(dev, 2, &a, &u), -ERANGE);
	ASSERT_EQ(vhu_vhost_set_vring_base(dev, 2, 0, 0), -ERANGE);
	ASSERT_EQ(vhu_vhost_get_vring_base(dev, 0, NULL, &u), -EINVAL);
	ASSERT_EQ(vhu_vhost_get_vring_base(NULL, 0, &a, &u), -EINVAL);
	ASSERT_EQ(vhu_vhost_set_vring_base(NULL, 0, 0, 0), -EINVAL);
	fake_dev_free(dev);
	close(memfd);
}

TEST(packed_vring_base_carries_the_wrap_counters_in_bit_15)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	uint16_t a, u;

	msg_u64(&m, VHOST_USER_SET_FEATURES,
		VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VIRTIO_F_RING_PACKED));
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_state(&m, VHOST_USER_SET_VRING_NUM, 1, RING_SIZE);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	/* Packed base: avail slot 3 in wrap round 1, used slot 2 in round 0. */
	msg_state(&m, VHOST_USER_SET_VRING_BASE, 1, 3u | 1u << 15 | 2u << 16);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_EQ(vhu_vhost_get_vring_base(dev, 1, &a, &u), 0);
	ASSERT_EQ(a, 0x8003);
	ASSERT_EQ(u, 2);
	ASSERT_EQ(vhu_vhost_set_vring_base(dev, 1, 0x0004, 0x8004), 0);
	ASSERT_EQ(vhu_vhost_get_vring_base(dev, 1, &a, &u), 0);
	ASSERT_EQ(a, 4);
	ASSERT_EQ(u, 0x8004);
	/* A slot past the 64-entry ring is refused. */
	ASSERT_EQ(vhu_vhost_set_vring_base(dev, 1, RING_SIZE, 0), -EINVAL);
	fake_dev_free(dev);
}

/*
 * SET_VRING_BASE and vhu_vhost_set_vring_base() decode a packed base in one
 * place: for each base, the message and the call leave the same positions,
 * and refuse the same slots past the ring, leaving the old ones.
 */
TEST(packed_vring_base_message_and_call_agree)
{
	static const struct {
		uint16_t avail, used;
	} bases[] = {
		{ 0, 0 },	    { 0x8003, 2 },
		{ 5, 0x8005 },	    { 0x8000 | (RING_SIZE - 1), RING_SIZE - 1 },
		{ RING_SIZE, 0 },   { 0, 0x8000 | RING_SIZE },
		{ 0xffff, 0xffff },
	};
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	uint16_t a_msg, u_msg, a_call, u_call;
	struct vhost_user_msg m;
	enum vhu_msg_result mr;
	unsigned int i;
	int cr;

	msg_u64(&m, VHOST_USER_SET_FEATURES,
		VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VIRTIO_F_RING_PACKED));
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_state(&m, VHOST_USER_SET_VRING_NUM, 1, RING_SIZE);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	for (i = 0; i < RTE_DIM(bases); i++) {
		const bool fits = (bases[i].avail & 0x7fff) < RING_SIZE &&
				  (bases[i].used & 0x7fff) < RING_SIZE;

		/* A known state first, 1 and 0x8001, for a refusal to leave. */
		ASSERT_EQ(vhu_vhost_set_vring_base(dev, 1, 1, 0x8001), 0);
		msg_state(&m, VHOST_USER_SET_VRING_BASE, 1,
			  bases[i].avail | (uint32_t)bases[i].used << 16);
		mr = SEND(dev, &m, NULL, 0);
		ASSERT_EQ(vhu_vhost_get_vring_base(dev, 1, &a_msg, &u_msg), 0);
		ASSERT_EQ(vhu_vhost_set_vring_base(dev, 1, 1, 0x8001), 0);
		cr = vhu_vhost_set_vring_base(dev, 1, bases[i].avail, bases[i].used);
		ASSERT_EQ(vhu_vhost_get_vring_base(dev, 1, &a_call, &u_call), 0);
		ASSERT_EQ(mr, fits ? VHU_MSG_OK : VHU_MSG_CLOSE);
		ASSERT_EQ(cr, fits ? 0 : -EINVAL);
		ASSERT_EQ(a_msg, a_call);
		ASSERT_EQ(u_msg, u_call);
		ASSERT_EQ(a_call, fits ? bases[i].avail : 1);
		ASSERT_EQ(u_call, fits ? bases[i].used : 0x8001);
	}
	fake_dev_free(dev);
}

TEST(mem_table_copies_the_regions_and_counts_them)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhu_vhost_mem_region r[2];
	int memfd = make_memfd(GUEST_SIZE);

	ASSERT_EQ(vhu_vhost_get_mem_table(dev, r, 2), 0);
	negotiate(dev, memfd);
	ASSERT_EQ(vhu_vhost_get_mem_table(dev, NULL, 0), 1);
	memset(r, 0, sizeof(r));
	ASSERT_EQ(vhu_vhost_get_mem_table(dev, r, 2), 1);
	ASSERT_EQ(r[0].guest_phys_addr, 0);
	ASSERT_EQ(r[0].guest_user_addr, UVA_BASE);
	ASSERT_EQ(r[0].size, GUEST_SIZE);
	ASSERT_NE(r[0].host_user_addr, 0);
	ASSERT_NOT_NULL(r[0].mmap_addr);
	ASSERT_GE(r[0].mmap_size, GUEST_SIZE);
	/* Our address is guest memory: the front-end's bytes read back. */
	ASSERT_EQ(pwrite(memfd, "vhu", 4, 4096), 4);
	ASSERT_STR_CONTAINS((const char *)(uintptr_t)(r[0].host_user_addr + 4096), "vhu");
	ASSERT_EQ(vhu_vhost_get_mem_table(NULL, r, 2), -EINVAL);
	ASSERT_EQ(vhu_vhost_get_mem_table(dev, NULL, 2), -EINVAL);
	vhu_dev_reset(dev);
	ASSERT_EQ(vhu_vhost_get_mem_table(dev, r, 2), 0);
	fake_dev_free(dev);
	close(memfd);
}

/* INFLIGHT_SHMFD: GET_INFLIGHT_FD for two rings, and the buffer handed back. */
static void
give_inflight(struct vhu_vhost_dev *dev)
{
	struct vhost_user_msg m;
	__typeof__(m.payload.inflight) given;
	int fds[1];

	dev->protocol_features |= PF(INFLIGHT_SHMFD);
	msg_init(&m, VHOST_USER_GET_INFLIGHT_FD, sizeof(m.payload.inflight));
	m.payload.inflight.num_queues = 2;
	m.payload.inflight.queue_size = RING_SIZE;
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_GE(dev->reply_fd, 0);
	fds[0] = dup(dev->reply_fd);
	given = m.payload.inflight;
	msg_init(&m, VHOST_USER_SET_INFLIGHT_FD, sizeof(m.payload.inflight));
	m.payload.inflight = given;
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
}

TEST(inflight_record_is_there_only_when_the_front_end_set_one_up)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhu_vhost_inflight inf;
	int memfd = make_memfd(GUEST_SIZE);

	negotiate(dev, memfd);
	start_ring(dev, 0);
	ASSERT_EQ(vhu_vhost_get_inflight(dev, 0, &inf), -ENOENT);
	ASSERT_EQ(vhu_vhost_get_inflight(dev, 2, &inf), -ERANGE);
	ASSERT_EQ(vhu_vhost_get_inflight(dev, 0, NULL), -EINVAL);
	/* The front-end asks for a buffer, hands it back, restarts ring 1 with it. */
	give_inflight(dev);
	start_ring(dev, 1);
	ASSERT_EQ(vhu_vhost_get_inflight(dev, 1, &inf), 0);
	ASSERT_NOT_NULL(inf.record);
	ASSERT_FALSE(inf.packed);
	ASSERT_EQ(inf.size, RING_SIZE);
	ASSERT_NULL(inf.desc_packed);
	fake_dev_free(dev);
	close(memfd);
}

/* The control thread stopping ring 1, as GET_VRING_BASE does. */
struct ring_stopper {
	struct vhu_vhost_dev *dev;
	bool done; /* the stop returned */
};

static void *
stop_ring_1(void *arg)
{
	struct ring_stopper *st = arg;

	pthread_mutex_lock(&vhu_ctrl_lock);
	vhu_vq_stop(st->dev, st->dev->vq[1]);
	pthread_mutex_unlock(&vhu_ctrl_lock);
	__atomic_store_n(&st->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * A data lcore records each request in the inflight record (DPDK's
 * rte_vhost_set/clr_inflight_desc_*): reaching the record must not wait for
 * the control lock, which the control thread holds while it waits for that
 * lcore (this thread holds it: a call that took it would hang). And since
 * the control thread unmaps the record once a ring stops, a stop must wait
 * until the lcore lets go of the ring.
 */
TEST(inflight_enter_takes_no_lock_and_a_ring_stop_waits_for_its_leave)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhu_vhost_inflight inf, ctl;
	struct ring_stopper st = { .dev = dev };
	int memfd = make_memfd(GUEST_SIZE);
	pthread_t t;

	negotiate(dev, memfd);
	start_ring(dev, 0);
	pthread_mutex_lock(&vhu_ctrl_lock);
	/* Ring 0 runs without a record; ring 1 does not run. Nothing is held. */
	ASSERT_EQ(vhu_vhost_inflight_enter(dev, 0, &inf), -ENOENT);
	ASSERT_NULL(inf.held);
	ASSERT_EQ(vhu_vhost_inflight_enter(dev, 1, &inf), -EAGAIN);
	ASSERT_NULL(inf.held);
	pthread_mutex_unlock(&vhu_ctrl_lock);
	give_inflight(dev);
	start_ring(dev, 1);
	pthread_mutex_lock(&vhu_ctrl_lock);
	ASSERT_EQ(vhu_vhost_inflight_enter(dev, 1, &inf), 0);
	pthread_mutex_unlock(&vhu_ctrl_lock);
	ASSERT_NOT_NULL(inf.held);
	ASSERT_FALSE(inf.packed);
	ASSERT_EQ(inf.size, RING_SIZE);
	ASSERT_EQ(vhu_vhost_get_inflight(dev, 1, &ctl), 0);
	ASSERT_EQ(inf.record, ctl.record);
	/* Held: the stop waits. */
	ASSERT_EQ(pthread_create(&t, NULL, stop_ring_1, &st), 0);
	usleep(200 * 1000);
	ASSERT_FALSE(__atomic_load_n(&st.done, __ATOMIC_ACQUIRE));
	vhu_vhost_inflight_leave(&inf);
	ASSERT_NULL(inf.held);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	ASSERT_TRUE(__atomic_load_n(&st.done, __ATOMIC_ACQUIRE));
	ASSERT_EQ(vhu_vhost_inflight_enter(dev, 1, &inf), -EAGAIN);
	ASSERT_EQ(vhu_vhost_inflight_enter(dev, 2, &inf), -ERANGE);
	ASSERT_EQ(vhu_vhost_inflight_enter(dev, 1, NULL), -EINVAL);
	ASSERT_EQ(vhu_vhost_inflight_enter(NULL, 1, &inf), -EINVAL);
	vhu_vhost_inflight_leave(NULL);
	fake_dev_free(dev);
	close(memfd);
}
