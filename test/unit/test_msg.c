/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user message validation and the handlers' own checks (vhost_msg.c),
 * on a device built by hand: every check of vhu_msg_validate() and of the
 * ring, feature, config and MTU handlers is fed the bad value it exists for.
 * Memory tables are in test_mem_table.c, whole handshakes in
 * test_handshake.c. No EAL, no socket.
 */
#include <stdio.h>

#include "msg_helpers.h"

/* ---- header checks ---- */

TEST(validate_accepts_version_1_request)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_init(&m, VHOST_USER_GET_FEATURES, 0);
	EXPECT_VALID(dev, &m, 0);
	fake_dev_free(dev);
}

static void
check_bad_flags(uint32_t flags)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_init(&m, VHOST_USER_GET_FEATURES, 0);
	m.hdr.flags = flags;
	EXPECT_INVALID(dev, &m, 0, "bad header flags");
	fake_dev_free(dev);
}

TEST(validate_rejects_version_0)
{
	check_bad_flags(0);
}

TEST(validate_rejects_version_2)
{
	check_bad_flags(2);
}

TEST(validate_rejects_version_3)
{
	check_bad_flags(3);
}

TEST(validate_rejects_reply_flag_on_request)
{
	check_bad_flags(VHOST_USER_VERSION | VHOST_USER_REPLY_MASK);
}

TEST(validate_rejects_unknown_flag_bit_4)
{
	check_bad_flags(VHOST_USER_VERSION | (1u << 4));
}

TEST(validate_rejects_unknown_flag_bit_31)
{
	check_bad_flags(VHOST_USER_VERSION | (1u << 31));
}

TEST(validate_accepts_need_reply_flag)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_init(&m, VHOST_USER_GET_FEATURES, 0);
	m.hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
	EXPECT_VALID(dev, &m, 0);
	fake_dev_free(dev);
}

TEST(validate_rejects_payload_larger_than_any_message)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_init(&m, VHOST_USER_SET_MEM_TABLE, VHOST_USER_PAYLOAD_MAX + 1);
	m.payload.memory.nregions = 1;
	EXPECT_INVALID(dev, &m, 1, "exceeds the largest message");
	fake_dev_free(dev);
}

TEST(validate_rejects_oversized_payload_of_unknown_request)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_init(&m, 1000, 0x10000);
	EXPECT_INVALID(dev, &m, 0, "exceeds the largest message");
	fake_dev_free(dev);
}

/* ---- payload size per request ---- */

static void
check_bad_size(uint32_t request, uint32_t size)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_init(&m, request, size);
	EXPECT_INVALID(dev, &m, 0, "payload is");
	fake_dev_free(dev);
}

TEST(validate_rejects_set_features_with_4_byte_payload)
{
	check_bad_size(VHOST_USER_SET_FEATURES, 4);
}

TEST(validate_rejects_set_features_with_16_byte_payload)
{
	check_bad_size(VHOST_USER_SET_FEATURES, 16);
}

TEST(validate_rejects_get_features_with_a_payload)
{
	check_bad_size(VHOST_USER_GET_FEATURES, 8);
}

TEST(validate_rejects_set_vring_addr_with_32_byte_payload)
{
	check_bad_size(VHOST_USER_SET_VRING_ADDR, 32);
}

TEST(validate_rejects_set_vring_num_with_4_byte_payload)
{
	check_bad_size(VHOST_USER_SET_VRING_NUM, 4);
}

TEST(validate_rejects_get_vring_base_with_12_byte_payload)
{
	check_bad_size(VHOST_USER_GET_VRING_BASE, 12);
}

TEST(validate_rejects_mem_table_shorter_than_its_header)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_init(&m, VHOST_USER_SET_MEM_TABLE, 4);
	m.payload.memory.nregions = 1;
	EXPECT_INVALID(dev, &m, 1, "shorter than a memory table");
	fake_dev_free(dev);
}

TEST(validate_rejects_mem_table_with_0_regions)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_mem_table(&m, 0);
	EXPECT_INVALID(dev, &m, 0, "0 memory regions");
	fake_dev_free(dev);
}

TEST(validate_rejects_mem_table_with_9_regions)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_init(&m, VHOST_USER_SET_MEM_TABLE, sizeof(struct vhost_user_memory));
	m.payload.memory.nregions = 9;
	EXPECT_INVALID(dev, &m, 8, "9 memory regions");
	fake_dev_free(dev);
}

TEST(validate_rejects_mem_table_payload_too_short_for_its_regions)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_mem_table(&m, 1);
	m.payload.memory.nregions = 2;
	EXPECT_INVALID(dev, &m, 2, "does not hold 2 regions");
	fake_dev_free(dev);
}

TEST(validate_rejects_mem_table_payload_longer_than_the_table)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_init(&m, VHOST_USER_SET_MEM_TABLE, sizeof(struct vhost_user_memory) + 8);
	m.payload.memory.nregions = 1;
	EXPECT_INVALID(dev, &m, 1, "does not hold 1 regions");
	fake_dev_free(dev);
}

TEST(validate_accepts_mem_table_of_one_region_and_one_fd)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_mem_table(&m, 1);
	msg_region(&m, 0, 0, 4096, UVA_BASE, 0);
	EXPECT_VALID(dev, &m, 1);
	fake_dev_free(dev);
}

/* ---- config space ranges ---- */

TEST(validate_rejects_config_size_field_smaller_than_payload)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	dev->protocol_features = PF(CONFIG);
	msg_config(&m, VHOST_USER_GET_CONFIG, 0, 8);
	m.payload.config.size = 6;
	EXPECT_INVALID(dev, &m, 0, "does not match its size field");
	fake_dev_free(dev);
}

TEST(validate_rejects_config_size_field_larger_than_payload)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	dev->protocol_features = PF(CONFIG);
	msg_config(&m, VHOST_USER_SET_CONFIG, 0, 6);
	m.payload.config.size = 10;
	EXPECT_INVALID(dev, &m, 0, "does not match its size field");
	fake_dev_free(dev);
}

TEST(validate_rejects_config_size_field_over_256)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	dev->protocol_features = PF(CONFIG);
	msg_config(&m, VHOST_USER_GET_CONFIG, 0, 256);
	m.payload.config.size = 257;
	EXPECT_INVALID(dev, &m, 0, "does not match its size field");
	fake_dev_free(dev);
}

TEST(validate_rejects_config_offset_plus_size_past_256)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	dev->protocol_features = PF(CONFIG);
	msg_config(&m, VHOST_USER_GET_CONFIG, 250, 8);
	EXPECT_INVALID(dev, &m, 0, "past the 256-byte space");
	fake_dev_free(dev);
}

TEST(validate_rejects_config_offset_past_256)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	dev->protocol_features = PF(CONFIG);
	msg_config(&m, VHOST_USER_SET_CONFIG, 0xffffff00u, 0);
	EXPECT_INVALID(dev, &m, 0, "past the 256-byte space");
	fake_dev_free(dev);
}

TEST(validate_accepts_config_range_ending_at_256)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	dev->protocol_features = PF(CONFIG);
	msg_config(&m, VHOST_USER_GET_CONFIG, 248, 8);
	EXPECT_VALID(dev, &m, 0);
	fake_dev_free(dev);
}

/* ---- fd counts ---- */

TEST(validate_rejects_mem_table_with_fewer_fds_than_regions)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_mem_table(&m, 2);
	EXPECT_INVALID(dev, &m, 1, "carries 1 file descriptors, expected 2");
	fake_dev_free(dev);
}

TEST(validate_rejects_mem_table_with_more_fds_than_regions)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_mem_table(&m, 2);
	EXPECT_INVALID(dev, &m, 3, "carries 3 file descriptors, expected 2");
	fake_dev_free(dev);
}

TEST(validate_rejects_vring_kick_without_fd_or_nofd_flag)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_u64(&m, VHOST_USER_SET_VRING_KICK, 0);
	EXPECT_INVALID(dev, &m, 0, "carries 0 file descriptors, expected 1");
	fake_dev_free(dev);
}

TEST(validate_rejects_vring_kick_with_fd_and_nofd_flag)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_u64(&m, VHOST_USER_SET_VRING_KICK, VHOST_USER_VRING_NOFD_MASK);
	EXPECT_INVALID(dev, &m, 1, "carries 1 file descriptors, expected 0");
	fake_dev_free(dev);
}

TEST(validate_accepts_vring_kick_with_nofd_flag_and_no_fd)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_u64(&m, VHOST_USER_SET_VRING_KICK, VHOST_USER_VRING_NOFD_MASK | 1);
	EXPECT_VALID(dev, &m, 0);
	fake_dev_free(dev);
}

TEST(validate_rejects_unknown_bits_in_the_vring_kick_word)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_u64(&m, VHOST_USER_SET_VRING_KICK, VHOST_USER_VRING_NOFD_MASK | (1u << 9));
	EXPECT_INVALID(dev, &m, 0, "unknown bits in ring index word");
	msg_u64(&m, VHOST_USER_SET_VRING_CALL, VHU_BIT(63) | 1);
	EXPECT_INVALID(dev, &m, 1, "unknown bits in ring index word");
	fake_dev_free(dev);
}

TEST(validate_rejects_vring_call_without_fd_or_nofd_flag)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_u64(&m, VHOST_USER_SET_VRING_CALL, 1);
	EXPECT_INVALID(dev, &m, 0, "carries 0 file descriptors, expected 1");
	fake_dev_free(dev);
}

TEST(validate_rejects_backend_req_fd_without_fd)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	dev->protocol_features = PF(BACKEND_REQ);
	msg_init(&m, VHOST_USER_SET_BACKEND_REQ_FD, 0);
	EXPECT_INVALID(dev, &m, 0, "carries 0 file descriptors, expected 1");
	fake_dev_free(dev);
}

TEST(validate_rejects_get_features_carrying_an_fd)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_init(&m, VHOST_USER_GET_FEATURES, 0);
	EXPECT_INVALID(dev, &m, 1, "carries 1 file descriptors, expected 0");
	fake_dev_free(dev);
}

/* ---- protocol features a request needs ---- */

static void
check_needs_protocol_feature(uint32_t request, uint32_t size, int nfds, unsigned int bit)
{
	struct vhu_vhost_dev *dev = fake_dev_new(2, 1500);
	struct vhost_user_msg m;
	char part[64];

	/* Everything vhu offers except the one the request needs. */
	dev->protocol_features = vhu_dev_offered_protocol_features(dev) & ~VHU_BIT(bit);
	msg_init(&m, request, size);
	if (request == VHOST_USER_GET_CONFIG)
		m.payload.config.size = size - offsetof(struct vhost_user_config, payload);
	if (request == VHOST_USER_NET_SET_MTU)
		m.payload.u64 = 1500;
	snprintf(part, sizeof(part), "protocol feature %s was not negotiated",
		 vhu_protocol_feature_name(bit));
	EXPECT_INVALID(dev, &m, nfds, part);
	/* And the same message passes once the feature is there. */
	dev->protocol_features = vhu_dev_offered_protocol_features(dev);
	EXPECT_VALID(dev, &m, nfds);
	fake_dev_free(dev);
}

TEST(validate_rejects_get_queue_num_without_mq)
{
	check_needs_protocol_feature(VHOST_USER_GET_QUEUE_NUM, 0, 0, VHOST_USER_PROTOCOL_F_MQ);
}

TEST(validate_rejects_backend_req_fd_without_backend_req)
{
	check_needs_protocol_feature(VHOST_USER_SET_BACKEND_REQ_FD, 0, 1,
				     VHOST_USER_PROTOCOL_F_BACKEND_REQ);
}

TEST(validate_rejects_get_config_without_config)
{
	check_needs_protocol_feature(VHOST_USER_GET_CONFIG, 12 + 10, 0,
				     VHOST_USER_PROTOCOL_F_CONFIG);
}

TEST(validate_rejects_net_set_mtu_without_mtu)
{
	check_needs_protocol_feature(VHOST_USER_NET_SET_MTU, 8, 0, VHOST_USER_PROTOCOL_F_MTU);
}

TEST(validate_rejects_add_mem_reg_without_configure_mem_slots)
{
	check_needs_protocol_feature(VHOST_USER_ADD_MEM_REG,
				     sizeof(struct vhost_user_mem_reg_single), 1,
				     VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS);
}

TEST(validate_rejects_get_status_without_status)
{
	check_needs_protocol_feature(VHOST_USER_GET_STATUS, 0, 0, VHOST_USER_PROTOCOL_F_STATUS);
}

TEST(validate_rejects_reset_device_without_reset_device)
{
	check_needs_protocol_feature(VHOST_USER_RESET_DEVICE, 0, 0,
				     VHOST_USER_PROTOCOL_F_RESET_DEVICE);
}

/* ---- ring indexes ---- */

TEST(validate_rejects_vring_num_index_past_last_ring)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_state(&m, VHOST_USER_SET_VRING_NUM, 2, 256);
	EXPECT_INVALID(dev, &m, 0, "ring index 2 out of range (device has 2 rings)");
	fake_dev_free(dev);
}

TEST(validate_accepts_vring_num_index_of_last_ring)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_state(&m, VHOST_USER_SET_VRING_NUM, 1, 256);
	EXPECT_VALID(dev, &m, 0);
	fake_dev_free(dev);
}

TEST(validate_rejects_vring_addr_index_past_last_ring)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_addr(&m, 7, 0x1000, 0x2000, 0x3000);
	EXPECT_INVALID(dev, &m, 0, "ring index 7 out of range");
	fake_dev_free(dev);
}

TEST(validate_rejects_vring_kick_index_past_last_ring)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_u64(&m, VHOST_USER_SET_VRING_KICK, 2);
	EXPECT_INVALID(dev, &m, 1, "ring index 2 out of range");
	fake_dev_free(dev);
}

TEST(validate_rejects_vring_call_index_255_with_nofd)
{
	struct vhu_vhost_dev *dev = fake_dev_new(8, 0);
	struct vhost_user_msg m;

	msg_u64(&m, VHOST_USER_SET_VRING_CALL, VHOST_USER_VRING_NOFD_MASK | 0xff);
	EXPECT_INVALID(dev, &m, 0, "ring index 255 out of range");
	fake_dev_free(dev);
}

TEST(validate_rejects_ring_index_16_with_8_queue_pairs)
{
	struct vhu_vhost_dev *dev = fake_dev_new(8, 0);
	struct vhost_user_msg m;

	msg_state(&m, VHOST_USER_GET_VRING_BASE, 16, 0);
	EXPECT_INVALID(dev, &m, 0, "ring index 16 out of range (device has 16 rings)");
	msg_state(&m, VHOST_USER_GET_VRING_BASE, 15, 0);
	EXPECT_VALID(dev, &m, 0);
	fake_dev_free(dev);
}

TEST(validate_rejects_vring_enable_index_near_uint32_max)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_state(&m, VHOST_USER_SET_VRING_ENABLE, UINT32_MAX, 1);
	EXPECT_INVALID(dev, &m, 0, "out of range");
	fake_dev_free(dev);
}

/* ---- handler checks on ring set-up ---- */

static void
check_ring_size(uint32_t num, enum vhu_msg_result want)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_state(&m, VHOST_USER_SET_VRING_NUM, 0, num);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), want);
	ASSERT_EQ(dev->vq[0]->num_set, want == VHU_MSG_OK);
	if (want == VHU_MSG_OK)
		ASSERT_EQ(dev->vq[0]->size, num);
	fake_dev_free(dev);
}

TEST(handle_rejects_ring_size_0)
{
	check_ring_size(0, VHU_MSG_CLOSE);
}

TEST(handle_rejects_ring_size_not_a_power_of_two)
{
	check_ring_size(384, VHU_MSG_CLOSE);
}

TEST(handle_rejects_ring_size_over_32768)
{
	check_ring_size(65536, VHU_MSG_CLOSE);
}

TEST(handle_rejects_ring_size_2_pow_31)
{
	check_ring_size(1u << 31, VHU_MSG_CLOSE);
}

TEST(handle_accepts_ring_size_32768)
{
	check_ring_size(32768, VHU_MSG_OK);
}

TEST(handle_accepts_ring_size_1)
{
	check_ring_size(1, VHU_MSG_OK);
}

static void
check_ring_addr(uint64_t desc, uint64_t avail, uint64_t used, uint32_t flags,
		enum vhu_msg_result want, const char *reason)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_addr(&m, 1, desc, avail, used);
	m.payload.addr.flags = flags;
	log_capture_start();
	ASSERT_EQ(SEND(dev, &m, NULL, 0), want);
	ASSERT_STR_CONTAINS(log_capture_stop(), reason);
	ASSERT_EQ(dev->vq[1]->addr_set, want == VHU_MSG_OK);
	fake_dev_free(dev);
}

TEST(handle_rejects_descriptor_table_not_16_byte_aligned)
{
	check_ring_addr(UVA_BASE + 8, UVA_BASE + 0x2000, UVA_BASE + 0x3000, 0, VHU_MSG_CLOSE,
		"misaligned");
}

TEST(handle_rejects_avail_ring_not_2_byte_aligned)
{
	check_ring_addr(UVA_BASE + 0x1000, UVA_BASE + 0x2001, UVA_BASE + 0x3000, 0, VHU_MSG_CLOSE,
		"misaligned");
}

TEST(handle_rejects_used_ring_not_4_byte_aligned)
{
	check_ring_addr(UVA_BASE + 0x1000, UVA_BASE + 0x2000, UVA_BASE + 0x3002, 0, VHU_MSG_CLOSE,
		"misaligned");
}

TEST(handle_accepts_minimally_aligned_ring_areas)
{
	check_ring_addr(UVA_BASE + 0x1010, UVA_BASE + 0x2002, UVA_BASE + 0x3004, 0, VHU_MSG_OK, "");
}

TEST(handle_rejects_unknown_vring_addr_flags)
{
	check_ring_addr(UVA_BASE + 0x1000, UVA_BASE + 0x2000, UVA_BASE + 0x3000, 2, VHU_MSG_CLOSE,
		"unknown address flags 0x2");
}

TEST(handle_rejects_vring_enable_value_2)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	dev->features = VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	dev->features_set = true;
	msg_state(&m, VHOST_USER_SET_VRING_ENABLE, 0, 2);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_CLOSE);
	ASSERT_FALSE(dev->vq[0]->enabled);
	fake_dev_free(dev);
}

TEST(handle_refuses_vring_enable_after_features_without_protocol_features)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	dev->features = VHU_BIT(VIRTIO_F_VERSION_1);
	dev->features_set = true;
	msg_state(&m, VHOST_USER_SET_VRING_ENABLE, 0, 1);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_FAIL);
	ASSERT_FALSE(dev->vq[0]->enabled);
	fake_dev_free(dev);
}

/* QEMU disables every ring at device reset, before SET_FEATURES. */
TEST(handle_accepts_vring_enable_before_set_features)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_state(&m, VHOST_USER_SET_VRING_ENABLE, 1, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_FALSE(dev->vq[1]->enabled);
	msg_state(&m, VHOST_USER_SET_VRING_ENABLE, 0, 1);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_TRUE(dev->vq[0]->enabled);
	fake_dev_free(dev);
}

/* QEMU sends a packed base as avail | wrap << 15 | used << 16 | used wrap << 31. */
TEST(handle_decodes_qemu_packed_vring_base)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	dev->features = VHU_BIT(VIRTIO_F_RING_PACKED);
	dev->features_set = true;
	msg_state(&m, VHOST_USER_SET_VRING_NUM, 0, 256);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_state(&m, VHOST_USER_SET_VRING_BASE, 0, 0x80058007u);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_EQ(dev->vq[0]->last_avail_idx, 7);
	ASSERT_TRUE(dev->vq[0]->avail_wrap);
	ASSERT_EQ(dev->vq[0]->last_used_idx, 5);
	ASSERT_TRUE(dev->vq[0]->used_wrap);
	msg_state(&m, VHOST_USER_GET_VRING_BASE, 0, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_EQ(m.payload.state.num, 0x80058007u);
	msg_state(&m, VHOST_USER_SET_VRING_BASE, 0, 0x80008000u | 300u);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_CLOSE); /* avail slot past the ring */
	fake_dev_free(dev);
}

TEST(handle_rejects_vring_base_over_16_bits)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_state(&m, VHOST_USER_SET_VRING_BASE, 0, 0x10000);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_CLOSE);
	ASSERT_EQ(dev->vq[0]->last_avail_idx, 0);
	fake_dev_free(dev);
}

TEST(handle_sets_vring_base)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_state(&m, VHOST_USER_SET_VRING_BASE, 1, 0xfffe);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_EQ(dev->vq[1]->last_avail_idx, 0xfffe);
	ASSERT_EQ(dev->vq[1]->last_used_idx, 0xfffe);
	ASSERT_EQ(dev->nr_vqs, 2);
	fake_dev_free(dev);
}

/* ---- feature negotiation ---- */

TEST(get_features_offers_mq_only_with_several_queue_pairs)
{
	struct vhu_vhost_dev *one = fake_dev_new(1, 0), *two = fake_dev_new(2, 0);
	struct vhost_user_msg m;

	msg_init(&m, VHOST_USER_GET_FEATURES, 0);
	ASSERT_EQ(SEND(one, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_EQ(m.hdr.size, 8);
	ASSERT_EQ(m.payload.u64 & VHU_BIT(VIRTIO_NET_F_MQ), 0);
	ASSERT_NE(m.payload.u64 & VHU_BIT(VIRTIO_F_VERSION_1), 0);
	ASSERT_NE(m.payload.u64 & VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES), 0);
	msg_init(&m, VHOST_USER_GET_FEATURES, 0);
	ASSERT_EQ(SEND(two, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_NE(m.payload.u64 & VHU_BIT(VIRTIO_NET_F_MQ), 0);
	fake_dev_free(one);
	fake_dev_free(two);
}

TEST(get_features_honours_the_user_mask)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	dev->disable_features = VHU_BIT(VIRTIO_NET_F_MRG_RXBUF);
	msg_init(&m, VHOST_USER_GET_FEATURES, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_EQ(m.payload.u64 & VHU_BIT(VIRTIO_NET_F_MRG_RXBUF), 0);
	/* And asking for it anyway is refused. */
	msg_u64(&m, VHOST_USER_SET_FEATURES, VHU_BIT(VIRTIO_NET_F_MRG_RXBUF));
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_FAIL);
	fake_dev_free(dev);
}

TEST(handle_refuses_set_features_with_unoffered_bits)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	/* MQ is not offered with one queue pair; bit 63 is never offered. */
	msg_u64(&m, VHOST_USER_SET_FEATURES,
		VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VIRTIO_NET_F_MQ));
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_FAIL);
	msg_u64(&m, VHOST_USER_SET_FEATURES, VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(63));
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_FAIL);
	ASSERT_FALSE(dev->features_set);
	ASSERT_EQ(dev->features, 0);
	fake_dev_free(dev);
}

TEST(handle_accepts_set_features_with_offered_bits)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	uint64_t f = VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VIRTIO_NET_F_MRG_RXBUF);

	msg_u64(&m, VHOST_USER_SET_FEATURES, f);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_TRUE(dev->features_set);
	ASSERT_EQ(dev->features, f);
	fake_dev_free(dev);
}

/* The lowest protocol feature bit 'dev' does not offer. */
static unsigned int
unoffered_protocol_bit(struct vhu_vhost_dev *dev)
{
	struct vhost_user_msg m;
	unsigned int bit = 0;

	msg_init(&m, VHOST_USER_GET_PROTOCOL_FEATURES, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
	while (bit < 63 && (m.payload.u64 & VHU_BIT(bit)) != 0)
		bit++;
	return bit;
}

TEST(handle_refuses_set_protocol_features_with_unoffered_bits)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 1500);
	unsigned int bit = unoffered_protocol_bit(dev);
	struct vhost_user_msg m;

	msg_u64(&m, VHOST_USER_SET_PROTOCOL_FEATURES, PF(MQ) | VHU_BIT(bit));
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_FAIL);
	msg_u64(&m, VHOST_USER_SET_PROTOCOL_FEATURES, PF(MQ) | VHU_BIT(40));
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_FAIL);
	ASSERT_EQ(dev->protocol_features, 0);
	msg_u64(&m, VHOST_USER_SET_PROTOCOL_FEATURES, PF(MQ) | PF(REPLY_ACK));
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_EQ(dev->protocol_features, PF(MQ) | PF(REPLY_ACK));
	fake_dev_free(dev);
}

TEST(get_protocol_features_offers_mtu_only_with_an_mtu)
{
	struct vhu_vhost_dev *none = fake_dev_new(1, 0), *mtu = fake_dev_new(1, 9000);
	struct vhost_user_msg m;

	msg_init(&m, VHOST_USER_GET_PROTOCOL_FEATURES, 0);
	ASSERT_EQ(SEND(none, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_EQ(m.payload.u64 & PF(MTU), 0);
	ASSERT_NE(m.payload.u64 & PF(REPLY_ACK), 0);
	msg_init(&m, VHOST_USER_GET_PROTOCOL_FEATURES, 0);
	ASSERT_EQ(SEND(mtu, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_NE(m.payload.u64 & PF(MTU), 0);
	fake_dev_free(none);
	fake_dev_free(mtu);
}

/*
 * A device with no MTU does not offer PROTOCOL_F_MTU (test above), so a
 * front-end that sets it asks for a feature it was not offered.
 */
TEST(handle_refuses_protocol_mtu_feature_when_no_mtu_offered)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	msg_u64(&m, VHOST_USER_SET_PROTOCOL_FEATURES, PF(REPLY_ACK) | PF(MTU));
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_FAIL);
	ASSERT_EQ(dev->protocol_features & PF(MTU), 0);
	fake_dev_free(dev);
}

static void
check_mtu(uint64_t mtu, enum vhu_msg_result want)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 1500);
	struct vhost_user_msg m;

	dev->protocol_features = PF(MTU);
	msg_u64(&m, VHOST_USER_NET_SET_MTU, mtu);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), want);
	ASSERT_EQ(vhu_net_dev(dev)->req_mtu, want == VHU_MSG_OK ? mtu : 0);
	fake_dev_free(dev);
}

TEST(handle_refuses_mtu_67)
{
	check_mtu(67, VHU_MSG_FAIL);
}

TEST(handle_refuses_mtu_65536)
{
	check_mtu(65536, VHU_MSG_FAIL);
}

TEST(handle_refuses_mtu_with_high_bits_set)
{
	check_mtu(VHU_BIT(32) | 1500, VHU_MSG_FAIL);
}

TEST(handle_accepts_mtu_68)
{
	check_mtu(68, VHU_MSG_OK);
}

TEST(handle_accepts_mtu_65535)
{
	check_mtu(65535, VHU_MSG_OK);
}

TEST(get_queue_num_replies_the_queue_pairs)
{
	struct vhu_vhost_dev *dev = fake_dev_new(3, 0);
	struct vhost_user_msg m;

	dev->protocol_features = PF(MQ);
	msg_init(&m, VHOST_USER_GET_QUEUE_NUM, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_EQ(m.hdr.size, 8);
	ASSERT_EQ(m.payload.u64, 3);
	fake_dev_free(dev);
}

TEST(set_status_then_get_status_round_trips)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	dev->protocol_features = PF(STATUS);
	msg_u64(&m, VHOST_USER_SET_STATUS, 0x0f);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_init(&m, VHOST_USER_GET_STATUS, 0);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_EQ(m.payload.u64, 0x0f);
	msg_u64(&m, VHOST_USER_SET_STATUS, 0x100);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_FAIL);
	ASSERT_EQ(dev->status, 0x0f);
	fake_dev_free(dev);
}

/* ---- config space ---- */

TEST(get_config_returns_mac_link_and_queue_pairs)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct vhu_vhost_dev *dev = fake_dev_new(4, 9000);
	struct virtio_net_config cfg;
	struct vhost_user_msg m;

	memcpy(vhu_net_dev(dev)->mac, mac, sizeof(mac));
	dev->protocol_features = PF(CONFIG);
	msg_config(&m, VHOST_USER_GET_CONFIG, 0, sizeof(cfg));
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_EQ(m.hdr.size, offsetof(struct vhost_user_config, payload) + sizeof(cfg));
	ASSERT_EQ(m.payload.config.size, sizeof(cfg));
	memcpy(&cfg, m.payload.config.payload, sizeof(cfg));
	ASSERT_MEM_EQ(cfg.mac, mac, sizeof(mac));
	ASSERT_EQ(cfg.status, VIRTIO_NET_S_LINK_UP);
	ASSERT_EQ(cfg.max_virtqueue_pairs, 4);
	ASSERT_EQ(cfg.mtu, 9000);
	fake_dev_free(dev);
}

TEST(get_config_past_the_net_config_reads_zeroes)
{
	static const uint8_t zero[16];
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	dev->protocol_features = PF(CONFIG);
	msg_config(&m, VHOST_USER_GET_CONFIG, 240, 16);
	memset(m.payload.config.payload, 0xaa, 16);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_EQ(m.payload.config.size, 16);
	ASSERT_MEM_EQ(m.payload.config.payload, zero, sizeof(zero));
	fake_dev_free(dev);
}

TEST(set_config_writes_the_mac)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	dev->protocol_features = PF(CONFIG);
	msg_config(&m, VHOST_USER_SET_CONFIG, 0, 6);
	memcpy(m.payload.config.payload, mac, 6);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_MEM_EQ(vhu_net_dev(dev)->mac, mac, 6);
	fake_dev_free(dev);
}

TEST(set_config_refuses_read_only_fields)
{
	static const uint8_t zero[6];
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;

	dev->protocol_features = PF(CONFIG);
	msg_config(&m, VHOST_USER_SET_CONFIG, 4, 4);	/* last MAC bytes + status */
	memset(m.payload.config.payload, 0xff, 4);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_FAIL);
	ASSERT_MEM_EQ(vhu_net_dev(dev)->mac, zero, 6);
	fake_dev_free(dev);
}

/* ---- requests vhu does not implement ---- */

static void
check_unsupported(uint32_t request, uint32_t size)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	int fds[1] = { make_eventfd() }, fd = fds[0];

	msg_init(&m, request, size);
	EXPECT_VALID(dev, &m, 1);	/* refused by the handler, the connection kept */
	ASSERT_FALSE(vhu_msg_implemented(dev, request));
	ASSERT_EQ(vhu_msg_handle(dev, &m, fds, 1), VHU_MSG_FAIL);
	ASSERT_EQ(fds[0], -1);
	ASSERT_FALSE(fd_is_open(fd));
	fake_dev_free(dev);
}

TEST(handle_refuses_request_0_and_closes_its_fd)
{
	check_unsupported(0, 0);
}

TEST(handle_refuses_request_41_and_closes_its_fd)
{
	check_unsupported(41, 8);
}

TEST(handle_refuses_request_1000_and_closes_its_fd)
{
	check_unsupported(1000, 40);
}

TEST(handle_refuses_every_known_request_it_does_not_implement)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	uint32_t req;
	int n = 0;

	for (req = 1; req < VHOST_USER_REQUEST_MAX; req++) {
		if (vhu_msg_implemented(dev, req))
			continue;
		ASSERT_STR_CONTAINS(vhu_msg_name(req), "_");	/* known by name */
		check_unsupported(req, 0);
		n++;
	}
	th_diag("%d known requests are refused as unsupported", n);
	fake_dev_free(dev);
}

TEST(msg_name_of_unknown_request_is_unknown)
{
	ASSERT_STR_CONTAINS(vhu_msg_name(1000), "UNKNOWN");
	ASSERT_STR_CONTAINS(vhu_msg_name(0), "UNKNOWN");
	ASSERT_STR_CONTAINS(vhu_msg_name(VHOST_USER_SET_MEM_TABLE), "SET_MEM_TABLE");
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);

	ASSERT_TRUE(vhu_msg_has_reply(dev, VHOST_USER_GET_VRING_BASE));
	ASSERT_FALSE(vhu_msg_has_reply(dev, VHOST_USER_SET_VRING_BASE));
	ASSERT_FALSE(vhu_msg_has_reply(dev, 1000));
	fake_dev_free(dev);
}

/* ---- the dispatcher: what the connection sends after each message ---- */

TEST(dispatch_acks_a_set_with_need_reply_once_reply_ack_is_negotiated)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	const char *why = NULL;

	dev->protocol_features = PF(REPLY_ACK);
	msg_init(&m, VHOST_USER_SET_OWNER, 0);
	m.hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
	ASSERT_EQ(vhu_msg_dispatch(dev, &m, NULL, 0, &why), VHU_MSG_ACT_REPLY);
	ASSERT_EQ(m.hdr.size, sizeof(uint64_t));
	ASSERT_EQ(m.payload.u64, 0);
	/* Without NEED_REPLY nothing is sent. */
	msg_init(&m, VHOST_USER_SET_OWNER, 0);
	ASSERT_EQ(vhu_msg_dispatch(dev, &m, NULL, 0, &why), VHU_MSG_ACT_NONE);
	fake_dev_free(dev);
}

TEST(dispatch_acks_a_refused_set_with_1_under_reply_ack)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 1500);
	struct vhost_user_msg m;
	const char *why = NULL;

	dev->protocol_features = PF(REPLY_ACK) | PF(MTU);
	msg_u64(&m, VHOST_USER_NET_SET_MTU, 20);	/* below 68: refused by net */
	m.hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
	ASSERT_EQ(vhu_msg_dispatch(dev, &m, NULL, 0, &why), VHU_MSG_ACT_REPLY);
	ASSERT_EQ(m.payload.u64, 1);
	fake_dev_free(dev);
}

TEST(dispatch_closes_on_a_refused_set_the_front_end_cannot_learn_of)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 1500);
	struct vhost_user_msg m;
	const char *why = NULL;

	dev->protocol_features = PF(MTU);
	msg_u64(&m, VHOST_USER_NET_SET_MTU, 20);
	ASSERT_EQ(vhu_msg_dispatch(dev, &m, NULL, 0, &why), VHU_MSG_ACT_CLOSE);
	ASSERT_STR_CONTAINS(why, "REPLY_ACK");
	fake_dev_free(dev);
}

TEST(dispatch_closes_on_a_malformed_message_and_closes_its_fds)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	int fds[1] = { make_eventfd() }, fd = fds[0];
	const char *why = NULL;

	msg_init(&m, VHOST_USER_SET_OWNER, 8);	/* SET_OWNER carries no payload */
	ASSERT_EQ(vhu_msg_dispatch(dev, &m, fds, 1, &why), VHU_MSG_ACT_CLOSE);
	ASSERT_STR_CONTAINS(why, "malformed");
	ASSERT_FALSE(fd_is_open(fd));
	fake_dev_free(dev);
}

TEST(dispatch_sends_an_empty_reply_for_a_refused_get)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	const char *why = NULL;

	dev->protocol_features = PF(INFLIGHT_SHMFD);
	msg_init(&m, VHOST_USER_GET_INFLIGHT_FD, sizeof(struct vhost_user_inflight));
	m.payload.inflight.num_queues = 99;	/* more rings than the device has: refused */
	m.payload.inflight.queue_size = 64;
	ASSERT_EQ(vhu_msg_dispatch(dev, &m, NULL, 0, &why), VHU_MSG_ACT_REPLY);
	ASSERT_EQ(m.hdr.size, 0);
	fake_dev_free(dev);
}
