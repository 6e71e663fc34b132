/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Whole handshakes on a device built by hand, over memfd-backed guest
 * memory: the ring starts when the spec says it should, stops and restarts
 * on GET_VRING_BASE, SET_VRING_KICK and address changes, and a reset leaves
 * no fd or mapping behind. No EAL, no socket.
 */
#include <stdio.h>

#include "msg_helpers.h"

/* ---- a whole handshake ---- */

/* Ring areas inside the one-region guest, for a ring of RING_SIZE entries. */
#define RING_SIZE 256
#define DESC_OFF 0x1000
#define AVAIL_OFF 0x3000
#define USED_OFF 0x4000

struct frontend {
	int memfd;		/* guest RAM */
	uint8_t *ram;		/* our view of it, as the front-end would have */
	int kickfd, callfd;	/* eventfds handed to the device */
};

static void
frontend_open(struct frontend *fe)
{
	fe->memfd = make_memfd(GUEST_SIZE);
	fe->ram = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fe->memfd, 0);
	if (fe->ram == MAP_FAILED)
		th_fail(__FILE__, __LINE__, "mmap guest: %s", strerror(errno));
	fe->kickfd = -1;
	fe->callfd = -1;
}

static void
frontend_close(struct frontend *fe)
{
	munmap(fe->ram, GUEST_SIZE);
	close(fe->memfd);
}

/* The split-ring features these tests negotiate, less what a test removes. */
#define HANDSHAKE_FEATURES (VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VIRTIO_NET_F_MRG_RXBUF) | \
			    VHU_BIT(VIRTIO_RING_F_INDIRECT_DESC) | \
			    VHU_BIT(VIRTIO_RING_F_EVENT_IDX) | \
			    VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES))

/* SET_OWNER, GET_FEATURES, SET_FEATURES (HANDSHAKE_FEATURES less 'remove'), SET_MEM_TABLE. */
static void
negotiate(struct vhu_vhost_dev *dev, struct frontend *fe, uint64_t remove)
{
	uint64_t want = HANDSHAKE_FEATURES & ~remove;
	struct vhost_user_msg m;
	int fds[1];

	msg_init(&m, VHOST_USER_SET_OWNER, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_init(&m, VHOST_USER_GET_FEATURES, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_EQ(m.payload.u64 & want, want);
	msg_u64(&m, VHOST_USER_SET_FEATURES, want);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	fds[0] = dup(fe->memfd);
	msg_mem_table(&m, 1);
	msg_region(&m, 0, 0, GUEST_SIZE, UVA_BASE, 0);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
}

/* SET_VRING_NUM, ADDR, BASE, CALL, KICK on ring 'index', areas placed at 'area'. */
static void
setup_ring(struct vhu_vhost_dev *dev, struct frontend *fe, uint32_t index, uint64_t area)
{
	struct vhost_user_msg m;
	int fds[1];

	msg_state(&m, VHOST_USER_SET_VRING_NUM, index, RING_SIZE);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_addr(&m, index, UVA_BASE + area + DESC_OFF, UVA_BASE + area + AVAIL_OFF,
		 UVA_BASE + area + USED_OFF);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_state(&m, VHOST_USER_SET_VRING_BASE, index, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	fds[0] = fe->callfd = make_eventfd();
	msg_u64(&m, VHOST_USER_SET_VRING_CALL, index);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	fds[0] = fe->kickfd = make_eventfd();
	msg_u64(&m, VHOST_USER_SET_VRING_KICK, index);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
}

TEST(handshake_starts_the_ring)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct frontend fe;
	struct vhu_vq *vq = dev->vq[1];
	uint16_t used_flags;

	frontend_open(&fe);
	negotiate(dev, &fe, VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	setup_ring(dev, &fe, 1, 0);
	ASSERT_TRUE(vq->ready);
	ASSERT_TRUE(vq->started);
	ASSERT_TRUE(vq->enabled);
	ASSERT_FALSE(vq->broken);
	ASSERT_EQ(vq->size, RING_SIZE);
	ASSERT_PTR_EQ(vq->mem, dev->mem);
	ASSERT_EQ(vq->kickfd, fe.kickfd);
	ASSERT_EQ(vq->callfd, fe.callfd);
	ASSERT_EQ(dev->nr_vqs, 2);
	ASSERT_FALSE(dev->vq[0]->ready);
	/* The ring pointers land in the shared memory: the device asked the
	 * driver not to kick, and we see it through our own mapping. */
	memcpy(&used_flags, fe.ram + USED_OFF, sizeof(used_flags));
	ASSERT_EQ(used_flags, VRING_USED_F_NO_NOTIFY);
	ASSERT_EQ(vhu_net_q(vq)->hdr_len, sizeof(struct virtio_net_hdr_mrg_rxbuf));
	ASSERT_TRUE(vhu_net_q(vq)->mrg_rxbuf);
	ASSERT_TRUE(vq->indirect);
	ASSERT_TRUE(vq->event_idx);
	ASSERT_TRUE(vhu_vhost_link_up(dev));
	fake_dev_free(dev);
	frontend_close(&fe);
}

TEST(handshake_without_mrg_rxbuf_and_version_1_uses_the_10_byte_header)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct frontend fe;

	frontend_open(&fe);
	negotiate(dev, &fe, VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
			    VHU_BIT(VIRTIO_NET_F_MRG_RXBUF) | VHU_BIT(VIRTIO_F_VERSION_1) |
			    VHU_BIT(VIRTIO_RING_F_INDIRECT_DESC));
	setup_ring(dev, &fe, 0, 0);
	ASSERT_TRUE(dev->vq[0]->ready);
	ASSERT_EQ(vhu_net_q(dev->vq[0])->hdr_len, sizeof(struct virtio_net_hdr));
	ASSERT_FALSE(dev->vq[0]->indirect);
	fake_dev_free(dev);
	frontend_close(&fe);
}

TEST(handshake_with_protocol_features_waits_for_vring_enable)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	struct frontend fe;

	frontend_open(&fe);
	negotiate(dev, &fe, 0);
	setup_ring(dev, &fe, 0, 0);
	ASSERT_FALSE(dev->vq[0]->ready);
	ASSERT_TRUE(dev->vq[0]->started);
	msg_state(&m, VHOST_USER_SET_VRING_ENABLE, 0, 1);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_TRUE(dev->vq[0]->ready);
	msg_state(&m, VHOST_USER_SET_VRING_ENABLE, 0, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_FALSE(dev->vq[0]->ready);
	fake_dev_free(dev);
	frontend_close(&fe);
}

TEST(handshake_without_kick_leaves_the_ring_stopped)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	struct frontend fe;

	frontend_open(&fe);
	negotiate(dev, &fe, VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	msg_state(&m, VHOST_USER_SET_VRING_NUM, 0, RING_SIZE);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_addr(&m, 0, UVA_BASE + DESC_OFF, UVA_BASE + AVAIL_OFF, UVA_BASE + USED_OFF);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_FALSE(dev->vq[0]->ready);
	ASSERT_FALSE(vhu_vhost_link_up(dev));
	fake_dev_free(dev);
	frontend_close(&fe);
}

TEST(ring_whose_used_area_ends_past_guest_memory_does_not_start)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct frontend fe;

	frontend_open(&fe);
	negotiate(dev, &fe, VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	/* The used ring of 256 entries needs 2054 bytes; only 0x7f0 remain. */
	setup_ring(dev, &fe, 0, GUEST_SIZE - USED_OFF - 0x7f0);
	ASSERT_FALSE(dev->vq[0]->ready);
	ASSERT_TRUE(dev->vq[0]->started);
	fake_dev_free(dev);
	frontend_close(&fe);
}

TEST(mem_table_arriving_after_the_kick_starts_the_ring)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	struct frontend fe;
	int fds[1];

	frontend_open(&fe);
	msg_u64(&m, VHOST_USER_SET_FEATURES, VHU_BIT(VIRTIO_F_VERSION_1));
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	setup_ring(dev, &fe, 0, 0);
	ASSERT_FALSE(dev->vq[0]->ready);
	fds[0] = dup(fe.memfd);
	msg_mem_table(&m, 1);
	msg_region(&m, 0, 0, GUEST_SIZE, UVA_BASE, 0);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	ASSERT_TRUE(dev->vq[0]->ready);
	ASSERT_PTR_EQ(dev->vq[0]->mem, dev->mem);
	fake_dev_free(dev);
	frontend_close(&fe);
}

TEST(get_vring_base_stops_the_ring_and_returns_its_index)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	struct frontend fe;

	frontend_open(&fe);
	negotiate(dev, &fe, VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	setup_ring(dev, &fe, 1, 0);
	ASSERT_TRUE(dev->vq[1]->ready);
	dev->vq[1]->last_avail_idx = 77;	/* as if the data path had consumed 77 */
	msg_state(&m, VHOST_USER_GET_VRING_BASE, 1, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_EQ(m.hdr.size, sizeof(struct vhost_user_vring_state));
	ASSERT_EQ(m.payload.state.index, 1);
	ASSERT_EQ(m.payload.state.num, 77);
	ASSERT_FALSE(dev->vq[1]->ready);
	ASSERT_FALSE(dev->vq[1]->started);
	ASSERT_NULL(dev->vq[1]->mem);
	ASSERT_EQ(dev->vq[1]->kickfd, -1);
	ASSERT_FALSE(fd_is_open(fe.kickfd));
	fake_dev_free(dev);
	frontend_close(&fe);
}

TEST(set_vring_num_and_base_are_refused_while_the_ring_runs)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	struct frontend fe;

	frontend_open(&fe);
	negotiate(dev, &fe, VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	setup_ring(dev, &fe, 0, 0);
	msg_state(&m, VHOST_USER_SET_VRING_NUM, 0, 128);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_FAIL);
	msg_state(&m, VHOST_USER_SET_VRING_BASE, 0, 5);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_FAIL);
	ASSERT_EQ(dev->vq[0]->size, RING_SIZE);
	ASSERT_EQ(dev->vq[0]->last_avail_idx, 0);
	ASSERT_TRUE(dev->vq[0]->ready);
	fake_dev_free(dev);
	frontend_close(&fe);
}

TEST(set_features_change_is_refused_while_a_ring_runs)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	struct frontend fe;
	uint64_t f;

	frontend_open(&fe);
	negotiate(dev, &fe, VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	setup_ring(dev, &fe, 0, 0);
	f = dev->features;
	msg_u64(&m, VHOST_USER_SET_FEATURES, f & ~VHU_BIT(VIRTIO_NET_F_MRG_RXBUF));
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_FAIL);
	ASSERT_EQ(dev->features, f);
	/* The same features again are harmless. */
	msg_u64(&m, VHOST_USER_SET_FEATURES, f);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	fake_dev_free(dev);
	frontend_close(&fe);
}

TEST(set_vring_addr_on_a_running_ring_moves_it)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	struct frontend fe;
	const uint64_t area = 0x10000;

	frontend_open(&fe);
	negotiate(dev, &fe, VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	setup_ring(dev, &fe, 0, 0);
	msg_addr(&m, 0, UVA_BASE + area + DESC_OFF, UVA_BASE + area + AVAIL_OFF,
		 UVA_BASE + area + USED_OFF);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_TRUE(dev->vq[0]->ready);
	ASSERT_PTR_EQ(dev->vq[0]->desc,
		      vhu_mem_uva_to_hva(dev->mem, UVA_BASE + area + DESC_OFF, 16));
	fake_dev_free(dev);
	frontend_close(&fe);
}

TEST(set_vring_kick_clears_a_broken_latch)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	struct frontend fe;
	int fds[1];

	frontend_open(&fe);
	negotiate(dev, &fe, VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	setup_ring(dev, &fe, 0, 0);
	vhu_vq_set_broken(dev->vq[0], "test violation %d", 1);
	ASSERT_TRUE(dev->vq[0]->broken);
	ASSERT_STR_CONTAINS(dev->vq[0]->broken_reason, "test violation 1");
	fds[0] = make_eventfd();
	msg_u64(&m, VHOST_USER_SET_VRING_KICK, 0);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	ASSERT_TRUE(dev->vq[0]->ready);
	ASSERT_FALSE(dev->vq[0]->broken);
	ASSERT_EQ(dev->vq[0]->broken_reason[0], '\0');
	ASSERT_FALSE(fd_is_open(fe.kickfd));	/* the old kick fd was replaced */
	fake_dev_free(dev);
	frontend_close(&fe);
}

TEST(start_resumes_at_the_used_index_found_in_guest_memory)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct frontend fe;
	uint16_t used_idx = 1234;

	frontend_open(&fe);
	memcpy(fe.ram + USED_OFF + 2, &used_idx, sizeof(used_idx));
	negotiate(dev, &fe, VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	setup_ring(dev, &fe, 0, 0);
	ASSERT_TRUE(dev->vq[0]->ready);
	ASSERT_EQ(dev->vq[0]->last_used_idx, 1234);
	ASSERT_EQ(dev->vq[0]->last_avail_idx, 1234);
	fake_dev_free(dev);
	frontend_close(&fe);
}

TEST(set_vring_call_replaces_and_closes_the_old_fd)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	int first = make_eventfd(), second = make_eventfd(), fds[1];

	fds[0] = first;
	msg_u64(&m, VHOST_USER_SET_VRING_CALL, 1);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	ASSERT_EQ(dev->vq[1]->callfd, first);
	fds[0] = second;
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	ASSERT_EQ(dev->vq[1]->callfd, second);
	ASSERT_FALSE(fd_is_open(first));
	msg_u64(&m, VHOST_USER_SET_VRING_CALL, 1 | VHOST_USER_VRING_NOFD_MASK);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_EQ(dev->vq[1]->callfd, -1);
	ASSERT_FALSE(fd_is_open(second));
	fake_dev_free(dev);
}

TEST(set_backend_req_fd_keeps_the_fd_until_reset)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	int fd = make_eventfd(), fds[1] = { fd };

	dev->protocol_features = PF(BACKEND_REQ);
	msg_init(&m, VHOST_USER_SET_BACKEND_REQ_FD, 0);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	ASSERT_EQ(dev->backend_req_fd, fd);
	ASSERT_TRUE(fd_is_open(fd));
	vhu_dev_reset(dev);
	ASSERT_EQ(dev->backend_req_fd, -1);
	ASSERT_FALSE(fd_is_open(fd));
	fake_dev_free(dev);
}

TEST(reset_closes_every_fd_and_unmaps_guest_memory)
{
	struct vhu_vhost_dev *dev = fake_dev_new(2, 0);
	int fds_before, maps_before, fds[1];
	struct vhost_user_msg m;
	struct frontend fe;
	uint16_t i;

	frontend_open(&fe);
	fds_before = count_open_fds();
	maps_before = count_memfd_mappings();
	negotiate(dev, &fe, VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	setup_ring(dev, &fe, 0, 0);
	setup_ring(dev, &fe, 1, 0x10000);
	setup_ring(dev, &fe, 3, 0x20000);
	fds[0] = make_eventfd();
	msg_u64(&m, VHOST_USER_SET_VRING_ERR, 3);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	ASSERT_TRUE(dev->vq[0]->ready && dev->vq[1]->ready && dev->vq[3]->ready);
	/* 3 rings x (kick + call) + 1 err eventfd; one mapping of guest RAM. */
	ASSERT_EQ(count_open_fds(), fds_before + 7);
	ASSERT_EQ(count_memfd_mappings(), maps_before + 1);

	vhu_dev_reset(dev);
	ASSERT_EQ(count_open_fds(), fds_before);
	ASSERT_EQ(count_memfd_mappings(), maps_before);
	ASSERT_NULL(dev->mem);
	ASSERT_FALSE(dev->features_set);
	ASSERT_EQ(dev->nr_vqs, 0);
	for (i = 0; i < dev->num_queues; i++) {
		ASSERT_FALSE(dev->vq[i]->ready);
		ASSERT_EQ(dev->vq[i]->index, i);
		ASSERT_EQ(dev->vq[i]->kickfd, -1);
		ASSERT_EQ(dev->vq[i]->callfd, -1);
		ASSERT_EQ(dev->vq[i]->errfd, -1);
	}
	fake_dev_free(dev);
	frontend_close(&fe);
}

TEST(reset_device_message_keeps_protocol_features)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	int maps_before = count_memfd_mappings();
	struct vhost_user_msg m;
	struct frontend fe;

	frontend_open(&fe);
	negotiate(dev, &fe, 0);
	dev->protocol_features = PF(RESET_DEVICE) | PF(REPLY_ACK);
	msg_init(&m, VHOST_USER_RESET_DEVICE, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_EQ(dev->protocol_features, PF(RESET_DEVICE) | PF(REPLY_ACK));
	ASSERT_FALSE(dev->features_set);
	ASSERT_NULL(dev->mem);
	ASSERT_EQ(count_memfd_mappings(), maps_before + 1);	/* only our own view remains */
	fake_dev_free(dev);
	frontend_close(&fe);
}

TEST(log_all_may_be_switched_while_a_ring_runs)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	struct frontend fe;
	uint64_t f;

	frontend_open(&fe);
	negotiate(dev, &fe, VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	setup_ring(dev, &fe, 0, 0);
	ASSERT_FALSE(dev->vq[0]->logging);
	f = dev->features;
	msg_u64(&m, VHOST_USER_SET_FEATURES, f | VHU_BIT(VHOST_F_LOG_ALL));
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_TRUE(dev->vq[0]->ready);
	ASSERT_TRUE(dev->vq[0]->logging);
	msg_u64(&m, VHOST_USER_SET_FEATURES, f);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_TRUE(dev->vq[0]->ready);
	ASSERT_FALSE(dev->vq[0]->logging);
	fake_dev_free(dev);
	frontend_close(&fe);
}
