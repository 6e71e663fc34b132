/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building vhost-user messages for the handler tests, and sending them
 * through vhu_msg_validate() and vhu_msg_handle() the way the connection
 * code does, on a device from fake_dev.h.
 */
#ifndef VHU_TEST_MSG_HELPERS_H
#define VHU_TEST_MSG_HELPERS_H

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fake_dev.h"
#include "test_harness.h"

#define PF(x) VHU_BIT(VHOST_USER_PROTOCOL_F_##x)

/* Where the simulated front-end "mapped" guest memory in its own address space. */
#define UVA_BASE 0x7f1200000000ull
#define GUEST_SIZE (1u << 20)

static inline void
msg_init(struct vhost_user_msg *m, uint32_t request, uint32_t size)
{
	/* The connection code zeroes what follows the payload; so do we. */
	memset(m, 0, sizeof(*m));
	m->hdr.request = request;
	m->hdr.flags = VHOST_USER_VERSION;
	m->hdr.size = size;
}

static inline void
msg_state(struct vhost_user_msg *m, uint32_t request, uint32_t index, uint32_t num)
{
	msg_init(m, request, sizeof(struct vhost_user_vring_state));
	m->payload.state.index = index;
	m->payload.state.num = num;
}

static inline void
msg_u64(struct vhost_user_msg *m, uint32_t request, uint64_t v)
{
	msg_init(m, request, sizeof(uint64_t));
	m->payload.u64 = v;
}

static inline void
msg_addr(struct vhost_user_msg *m, uint32_t index, uint64_t desc, uint64_t avail, uint64_t used)
{
	msg_init(m, VHOST_USER_SET_VRING_ADDR, sizeof(struct vhost_user_vring_addr));
	m->payload.addr.index = index;
	m->payload.addr.desc_user_addr = desc;
	m->payload.addr.avail_user_addr = avail;
	m->payload.addr.used_user_addr = used;
}

static inline void
msg_mem_table(struct vhost_user_msg *m, uint32_t nregions)
{
	msg_init(m, VHOST_USER_SET_MEM_TABLE, 8 + nregions * sizeof(struct vhost_user_mem_region));
	m->payload.memory.nregions = nregions;
}

static inline void
msg_region(struct vhost_user_msg *m, uint32_t i, uint64_t gpa, uint64_t size, uint64_t uva,
	   uint64_t offset)
{
	struct vhost_user_mem_region *r = &m->payload.memory.regions[i];

	r->guest_phys_addr = gpa;
	r->memory_size = size;
	r->userspace_addr = uva;
	r->mmap_offset = offset;
}

static inline void
msg_config(struct vhost_user_msg *m, uint32_t request, uint32_t offset, uint32_t size)
{
	msg_init(m, request, offsetof(struct vhost_user_config, payload) + size);
	m->payload.config.offset = offset;
	m->payload.config.size = size;
}

/* vhu_msg_validate() must refuse 'm' and say why (the reason contains 'part'). */
#define EXPECT_INVALID(dev, m, nfds, part) \
	do { \
		char why_[256] = ""; \
		ASSERT_EQ(vhu_msg_validate(dev, m, nfds, why_, sizeof(why_)), -EINVAL); \
		ASSERT_STR_CONTAINS(why_, part); \
	} while (0)

#define EXPECT_VALID(dev, m, nfds) \
	do { \
		char why_[256] = ""; \
		if (vhu_msg_validate(dev, m, nfds, why_, sizeof(why_)) != 0) \
			th_fail(__FILE__, __LINE__, "vhu_msg_validate refused %s: %s", \
				vhu_msg_name((m)->hdr.request), why_); \
	} while (0)

/* Validate (which must pass) and handle, as the connection code does. */
#define SEND(dev, m, fds, nfds) \
	__extension__({ \
		EXPECT_VALID(dev, m, nfds); \
		vhu_msg_handle(dev, m, fds, nfds); \
	})

static inline int
make_memfd(uint64_t size)
{
	int fd = memfd_create("vhu-unit-guest", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
		th_fail(__FILE__, __LINE__, "memfd_create/ftruncate: %s", strerror(errno));
	return fd;
}

static inline int
make_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		th_fail(__FILE__, __LINE__, "eventfd: %s", strerror(errno));
	return fd;
}

#endif /* VHU_TEST_MSG_HELPERS_H */
