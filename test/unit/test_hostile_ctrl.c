/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A hostile front-end, at the message level: sequences of well-formed
 * messages in orders that are legal one by one but that a careless backend
 * would turn into a memory-safety bug, and refusals repeated a thousand
 * times that must not leak an fd or a mapping. The process-level version,
 * over a real socket against vhu-pmd, is test/hostile.
 */
#include <stdio.h>

#include "msg_helpers.h"
#include "vhost_inflight.h"

#define RING_SIZE 256
#define DESC_OFF 0x1000
#define AVAIL_OFF 0x6000	/* past a packed ring of 256 x 16 bytes */
#define USED_OFF 0x7000

struct fe {
	int memfd;		/* guest RAM */
	uint8_t *ram;		/* the front-end's view of it */
};

static void
fe_open(struct fe *fe)
{
	fe->memfd = make_memfd(GUEST_SIZE);
	fe->ram = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fe->memfd, 0);
	if (fe->ram == MAP_FAILED)
		th_fail(__FILE__, __LINE__, "mmap guest: %s", strerror(errno));
}

static void
fe_close(struct fe *fe)
{
	munmap(fe->ram, GUEST_SIZE);
	close(fe->memfd);
}

#define BASE_FEATURES (VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES))

static void
set_features(struct vhu_vhost_dev *dev, uint64_t f)
{
	struct vhost_user_msg m;

	msg_u64(&m, VHOST_USER_SET_FEATURES, f);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
}

static void
set_protocol_features(struct vhu_vhost_dev *dev, uint64_t pf)
{
	struct vhost_user_msg m;

	msg_u64(&m, VHOST_USER_SET_PROTOCOL_FEATURES, pf);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
}

static void
set_mem_table(struct vhu_vhost_dev *dev, struct fe *fe)
{
	struct vhost_user_msg m;
	int fds[1] = { dup(fe->memfd) };

	msg_mem_table(&m, 1);
	msg_region(&m, 0, 0, GUEST_SIZE, UVA_BASE, 0);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
}

/* NUM, ADDR, BASE, KICK (no fd) and ENABLE on ring 'index'. */
static void
start_ring(struct vhu_vhost_dev *dev, uint32_t index, uint32_t num, uint32_t base)
{
	struct vhost_user_msg m;

	msg_state(&m, VHOST_USER_SET_VRING_NUM, index, num);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_addr(&m, index, UVA_BASE + DESC_OFF + index * 0x10000,
		 UVA_BASE + AVAIL_OFF + index * 0x10000, UVA_BASE + USED_OFF + index * 0x10000);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_state(&m, VHOST_USER_SET_VRING_BASE, index, base);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_u64(&m, VHOST_USER_SET_VRING_KICK, index | VHOST_USER_VRING_NOFD_MASK);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_state(&m, VHOST_USER_SET_VRING_ENABLE, index, 1);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
}

/* The ring's inflight record, if it has one, must lie inside the mapped buffer. */
static void
check_inflight_record_fits(struct vhu_vhost_dev *dev, struct vhu_vq *vq)
{
	const uint8_t *lo, *hi, *end;

	if (vq->inflight_split == NULL && vq->inflight_packed == NULL)
		return;
	ASSERT_NOT_NULL(dev->inflight);
	lo = dev->inflight->addr;
	hi = lo + dev->inflight->size;
	if (vq->packed) {
		ASSERT_NULL(vq->inflight_split);
		end = (const uint8_t *)&vq->inflight_packed->desc[vq->size];
		ASSERT_GE((uintptr_t)vq->inflight_packed, (uintptr_t)lo);
	} else {
		ASSERT_NULL(vq->inflight_packed);
		end = (const uint8_t *)&vq->inflight_split->desc[vq->size];
		ASSERT_GE((uintptr_t)vq->inflight_split, (uintptr_t)lo);
	}
	if (end > hi)
		th_fail(__FILE__, __LINE__, "ring %u's %s inflight record ends %td bytes past the "
			"%" PRIu64 "-byte buffer", vq->index, vq->packed ? "packed" : "split",
			end - hi, dev->inflight->size);
}

/*
 * GET_INFLIGHT_FD before SET_FEATURES (the order QEMU uses for its
 * vhost-user-blk devices) sizes the buffer for split rings; the front-end
 * then negotiates packed rings. The ring must not take the packed layout,
 * twice as large, over a buffer made for the split one.
 */
TEST(inflight_buffer_made_for_split_rings_is_not_used_as_packed)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	struct fe fe;

	fe_open(&fe);
	set_protocol_features(dev, PF(INFLIGHT_SHMFD));
	msg_init(&m, VHOST_USER_GET_INFLIGHT_FD, sizeof(m.payload.inflight));
	m.payload.inflight.num_queues = 1;
	m.payload.inflight.queue_size = RING_SIZE;
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
	ASSERT_EQ(m.payload.inflight.mmap_size, vhu_inflight_queue_size(false, RING_SIZE));
	set_features(dev, BASE_FEATURES | VHU_BIT(VIRTIO_F_RING_PACKED));
	set_mem_table(dev, &fe);
	start_ring(dev, 0, RING_SIZE, 0x8000);	/* slot 0, wrap counter 1 */
	ASSERT_TRUE(dev->vq[0]->ready);
	ASSERT_TRUE(dev->vq[0]->packed);
	check_inflight_record_fits(dev, dev->vq[0]);
	fake_dev_free(dev);
	fe_close(&fe);
}

/*
 * The same with a buffer the front-end made itself, exactly as large as two
 * split rings need, with a packed header forged where the second packed
 * record would start.
 */
TEST(inflight_buffer_of_the_front_end_too_small_for_packed_rings_is_not_used)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	uint64_t split_sz = vhu_inflight_queue_size(false, RING_SIZE);
	uint64_t packed_sz = vhu_inflight_queue_size(true, RING_SIZE);
	struct vhu_inflight_packed forged;
	struct vhost_user_msg m;
	int fds[1];
	struct fe fe;

	fe_open(&fe);
	set_protocol_features(dev, PF(INFLIGHT_SHMFD));
	set_features(dev, BASE_FEATURES);
	fds[0] = make_memfd(2 * split_sz);
	memset(&forged, 0, sizeof(forged));
	forged.version = 1;
	forged.desc_num = RING_SIZE;
	ASSERT_EQ(pwrite(fds[0], &forged, sizeof(forged), (off_t)packed_sz),
		  (ssize_t)sizeof(forged));
	msg_init(&m, VHOST_USER_SET_INFLIGHT_FD, sizeof(m.payload.inflight));
	m.payload.inflight.mmap_size = 2 * split_sz;
	m.payload.inflight.num_queues = 2;
	m.payload.inflight.queue_size = RING_SIZE;
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	set_features(dev, BASE_FEATURES | VHU_BIT(VIRTIO_F_RING_PACKED));
	set_mem_table(dev, &fe);
	start_ring(dev, 1, RING_SIZE, 0x8000);
	ASSERT_TRUE(dev->vq[1]->ready);
	check_inflight_record_fits(dev, dev->vq[1]);
	fake_dev_free(dev);
	fe_close(&fe);
}

/* The control case: a buffer made after packed rings were negotiated is used. */
TEST(inflight_buffer_made_for_packed_rings_is_used)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	struct fe fe;

	fe_open(&fe);
	set_protocol_features(dev, PF(INFLIGHT_SHMFD));
	set_features(dev, BASE_FEATURES | VHU_BIT(VIRTIO_F_RING_PACKED));
	msg_init(&m, VHOST_USER_GET_INFLIGHT_FD, sizeof(m.payload.inflight));
	m.payload.inflight.num_queues = 2;
	m.payload.inflight.queue_size = RING_SIZE;
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
	set_mem_table(dev, &fe);
	start_ring(dev, 1, RING_SIZE, 0x8000);
	ASSERT_NOT_NULL(dev->vq[1]->inflight_packed);
	check_inflight_record_fits(dev, dev->vq[1]);
	fake_dev_free(dev);
	fe_close(&fe);
}

/*
 * SET_VRING_NUM accepts any size while packed rings are negotiated; the
 * front-end then renegotiates split rings (legal: no ring runs). A split ring
 * must have a power-of-two size (virtio 1.2, 2.7): it must not start.
 */
TEST(split_ring_of_a_size_set_for_packed_does_not_start)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	struct fe fe;

	fe_open(&fe);
	set_features(dev, BASE_FEATURES | VHU_BIT(VIRTIO_F_RING_PACKED));
	msg_state(&m, VHOST_USER_SET_VRING_NUM, 0, 100);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	set_features(dev, BASE_FEATURES);
	set_mem_table(dev, &fe);
	msg_addr(&m, 0, UVA_BASE + DESC_OFF, UVA_BASE + AVAIL_OFF, UVA_BASE + USED_OFF);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_u64(&m, VHOST_USER_SET_VRING_KICK, VHOST_USER_VRING_NOFD_MASK);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_state(&m, VHOST_USER_SET_VRING_ENABLE, 0, 1);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_FALSE(dev->vq[0]->ready);
	fake_dev_free(dev);
	fe_close(&fe);
}

/* A packed base set for a split ring: the slot must be checked when the ring starts. */
TEST(packed_ring_with_a_base_set_for_split_does_not_start)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	struct fe fe;

	fe_open(&fe);
	set_features(dev, BASE_FEATURES);
	msg_state(&m, VHOST_USER_SET_VRING_BASE, 0, 0x7000);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	set_features(dev, BASE_FEATURES | VHU_BIT(VIRTIO_F_RING_PACKED));
	set_mem_table(dev, &fe);
	msg_state(&m, VHOST_USER_SET_VRING_NUM, 0, RING_SIZE);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_addr(&m, 0, UVA_BASE + DESC_OFF, UVA_BASE + AVAIL_OFF, UVA_BASE + USED_OFF);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_u64(&m, VHOST_USER_SET_VRING_KICK, VHOST_USER_VRING_NOFD_MASK);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_state(&m, VHOST_USER_SET_VRING_ENABLE, 0, 1);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_FALSE(dev->vq[0]->ready);
	fake_dev_free(dev);
	fe_close(&fe);
}

/* GET_VRING_BASE on rings never set up answers 0 and changes nothing. */
TEST(get_vring_base_on_a_ring_never_started_answers_0)
{
	struct vhu_vhost_dev *dev = fake_dev_new(8, 0);
	struct vhost_user_msg m;
	uint32_t i;

	for (i = 0; i < 16; i++) {
		msg_state(&m, VHOST_USER_GET_VRING_BASE, i, 0);
		ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
		ASSERT_EQ(m.payload.state.index, i);
		ASSERT_EQ(m.payload.state.num, 0);
		ASSERT_FALSE(dev->vq[i]->ready);
	}
	fake_dev_free(dev);
}

/*
 * Ring messages before any feature, owner or memory (without
 * PROTOCOL_FEATURES, so the kick enables the ring): accepted, nothing runs
 * until the memory arrives.
 */
TEST(ring_set_up_before_features_and_memory_waits_for_them)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	struct fe fe;

	fe_open(&fe);
	msg_state(&m, VHOST_USER_SET_VRING_NUM, 0, RING_SIZE);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_addr(&m, 0, UVA_BASE + DESC_OFF, UVA_BASE + AVAIL_OFF, UVA_BASE + USED_OFF);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	msg_u64(&m, VHOST_USER_SET_VRING_KICK, VHOST_USER_VRING_NOFD_MASK);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_FALSE(dev->vq[0]->ready);
	set_features(dev, VHU_BIT(VIRTIO_F_VERSION_1));
	ASSERT_FALSE(dev->vq[0]->ready);
	set_mem_table(dev, &fe);
	ASSERT_TRUE(dev->vq[0]->ready);
	fake_dev_free(dev);
	fe_close(&fe);
}

/* ---- refusals repeated: nothing may leak ---- */

#define ROUNDS 1000

TEST(a_thousand_refused_memory_tables_leak_no_fd_and_no_mapping)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	int fds0 = count_open_fds(), maps0 = count_memfd_mappings(), i;
	struct vhost_user_msg m;

	for (i = 0; i < ROUNDS; i++) {
		int fds[2] = { make_memfd(8192), make_memfd(8192) };

		/* The second region overlaps the first: the first was mapped already. */
		msg_mem_table(&m, 2);
		msg_region(&m, 0, 0, 8192, UVA_BASE, 0);
		msg_region(&m, 1, 4096, 4096, UVA_BASE + 0x10000, 0);
		ASSERT_EQ(SEND(dev, &m, fds, 2), VHU_MSG_CLOSE);
	}
	ASSERT_EQ(count_open_fds(), fds0);
	ASSERT_EQ(count_memfd_mappings(), maps0);
	fake_dev_free(dev);
}

TEST(a_thousand_replaced_logs_and_inflight_buffers_leak_nothing)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	int fds0 = count_open_fds(), maps0 = count_memfd_mappings(), i;
	struct vhost_user_msg m;

	set_protocol_features(dev, PF(LOG_SHMFD) | PF(INFLIGHT_SHMFD));
	for (i = 0; i < ROUNDS; i++) {
		int fds[1] = { make_memfd(4096) };

		msg_init(&m, VHOST_USER_SET_LOG_BASE, sizeof(m.payload.log));
		m.payload.log.mmap_size = 4096;
		ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_REPLY);
		msg_init(&m, VHOST_USER_GET_INFLIGHT_FD, sizeof(m.payload.inflight));
		m.payload.inflight.num_queues = 2;
		m.payload.inflight.queue_size = 64;
		ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_REPLY);
		dev->reply_fd = -1;	/* lent to the reply, which is not sent here */
		fds[0] = make_memfd(4096);
		msg_init(&m, VHOST_USER_SET_LOG_BASE, sizeof(m.payload.log));
		m.payload.log.mmap_size = UINT64_MAX;	/* overflows with any offset */
		m.payload.log.mmap_offset = 1;
		ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_CLOSE);
	}
	/* One log and one inflight buffer (with its fd) are held now. */
	ASSERT_EQ(count_open_fds(), fds0 + 1);
	ASSERT_EQ(count_memfd_mappings(), maps0 + 2);
	fake_dev_free(dev);
	ASSERT_EQ(count_open_fds(), fds0);
	ASSERT_EQ(count_memfd_mappings(), maps0);
}

TEST(a_thousand_unknown_requests_with_fds_leak_no_fd)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	int fds0 = count_open_fds(), i;
	struct vhost_user_msg m;

	for (i = 0; i < ROUNDS; i++) {
		int fds[3] = { make_eventfd(), make_memfd(4096), make_eventfd() };

		msg_init(&m, 1000 + (uint32_t)i, 0);
		ASSERT_EQ(SEND(dev, &m, fds, 3), VHU_MSG_FAIL);
	}
	ASSERT_EQ(count_open_fds(), fds0);
	fake_dev_free(dev);
}

/* ---- alignment of the rings in our address space ---- */

static bool
ring_aligned(const struct vhu_vq *vq)
{
	/* Descriptors 16 bytes, avail (or driver event) 2, used (or device event) 4. */
	return ((uintptr_t)vq->desc & 15) == 0 && ((uintptr_t)vq->avail & 1) == 0 &&
	       ((uintptr_t)vq->used & 3) == 0;
}

/*
 * SET_VRING_ADDR checks the alignment of the front-end's addresses, but what
 * the data path uses is our mapping of them: a region whose userspace_addr is
 * not aligned like its mmap_offset shifts every ring in it. Running such a
 * ring means misaligned atomic loads and stores of its indexes (undefined in
 * C, torn on x86 across a cache line, a fault on other CPUs).
 */
TEST(rings_misaligned_by_the_memory_table_do_not_run)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	int fds[1];
	struct fe fe;

	fe_open(&fe);
	set_features(dev, BASE_FEATURES);
	fds[0] = dup(fe.memfd);
	msg_mem_table(&m, 1);
	msg_region(&m, 0, 0, GUEST_SIZE - 64, UVA_BASE + 0x23, 0);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	start_ring(dev, 0, RING_SIZE, 0);
	ASSERT_FALSE(dev->vq[0]->ready && !ring_aligned(dev->vq[0]));
	fake_dev_free(dev);
	fe_close(&fe);
}

TEST(packed_rings_misaligned_by_the_memory_table_do_not_run)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	int fds[1];
	struct fe fe;

	fe_open(&fe);
	set_features(dev, BASE_FEATURES | VHU_BIT(VIRTIO_F_RING_PACKED));
	fds[0] = dup(fe.memfd);
	msg_mem_table(&m, 1);
	msg_region(&m, 0, 0, GUEST_SIZE - 64, UVA_BASE + 0x11, 0);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	start_ring(dev, 0, RING_SIZE, 0x8000);
	ASSERT_FALSE(dev->vq[0]->ready && !ring_aligned(dev->vq[0]));
	fake_dev_free(dev);
	fe_close(&fe);
}

/* The control case: a region at an offset aligned like its address runs. */
TEST(rings_of_a_region_aligned_like_its_offset_run)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	int fds[1];
	struct fe fe;

	fe_open(&fe);
	set_features(dev, BASE_FEATURES);
	fds[0] = dup(fe.memfd);
	msg_mem_table(&m, 1);
	msg_region(&m, 0, 0, GUEST_SIZE - 0x40, UVA_BASE + 0x40, 0x40);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	start_ring(dev, 0, RING_SIZE, 0);
	ASSERT_TRUE(dev->vq[0]->ready);
	ASSERT_TRUE(ring_aligned(dev->vq[0]));
	fake_dev_free(dev);
	fe_close(&fe);
}
