/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest memory from the front-end (vhost_mem.c and the SET_MEM_TABLE,
 * ADD_MEM_REG, REM_MEM_REG and SET_LOG_BASE handlers) over memfds: hostile
 * region descriptions and fds that are not memory are refused with their fds
 * closed and nothing left mapped; good tables are mapped at their offsets,
 * sorted, and unmapped when replaced. No EAL, no socket.
 */
#include <stdio.h>

#include "msg_helpers.h"

/* ---- memory tables ---- */

/*
 * Send a one-region table backed by a memfd of 'file_size' bytes and expect
 * it refused with the connection closed, its fd closed, nothing mapped and
 * the device still without memory.
 */
static void
check_bad_region(uint64_t gpa, uint64_t size, uint64_t uva, uint64_t offset, uint64_t file_size,
		 const char *reason)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	int fds_before, maps_before, fds[1];
	struct vhost_user_msg m;

	fds_before = count_open_fds();
	maps_before = count_memfd_mappings();
	fds[0] = make_memfd(file_size);
	msg_mem_table(&m, 1);
	msg_region(&m, 0, gpa, size, uva, offset);
	log_capture_start();
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_CLOSE);
	ASSERT_STR_CONTAINS(log_capture_stop(), reason);
	ASSERT_NULL(dev->mem);
	ASSERT_EQ(count_open_fds(), fds_before);
	ASSERT_EQ(count_memfd_mappings(), maps_before);
	fake_dev_free(dev);
}

TEST(mem_table_rejects_region_of_size_0)
{
	check_bad_region(0, 0, UVA_BASE, 0, 4096, "has size 0");
}

TEST(mem_table_rejects_gpa_plus_size_overflow)
{
	check_bad_region(UINT64_MAX - 0xfff, 0x2000, UVA_BASE, 0, 0x2000, "overflows 64 bits");
}

TEST(mem_table_rejects_uaddr_plus_size_overflow)
{
	check_bad_region(0, 0x2000, UINT64_MAX - 0xfff, 0, 0x2000, "overflows 64 bits");
}

TEST(mem_table_rejects_offset_plus_size_overflow)
{
	check_bad_region(0, 0x2000, UVA_BASE, UINT64_MAX - 0xfff, 0x2000, "overflows 64 bits");
}

TEST(mem_table_rejects_region_larger_than_its_file)
{
	check_bad_region(0, 0x3000, UVA_BASE, 0, 0x2000, "its file holds only 0x2000");
}

TEST(mem_table_rejects_offset_plus_size_past_end_of_file)
{
	check_bad_region(0, 0x2000, UVA_BASE, 0x1000, 0x2000, "needs 0x3000 bytes");
}

TEST(mem_table_rejects_region_too_large_to_map)
{
	check_bad_region(0, 1ull << 63, UVA_BASE, 0, 0x2000, "larger than can be mapped");
}

static void
check_region_fd_not_memory(int fd, const char *reason)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	int fds[1] = { fd };

	msg_mem_table(&m, 1);
	msg_region(&m, 0, 0, 4096, UVA_BASE, 0);
	log_capture_start();
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_CLOSE);
	ASSERT_STR_CONTAINS(log_capture_stop(), reason);
	ASSERT_NULL(dev->mem);
	ASSERT_FALSE(fd_is_open(fd));
	fake_dev_free(dev);
}

TEST(mem_table_rejects_a_pipe_as_memory)
{
	int p[2];

	ASSERT_EQ(pipe(p), 0);
	close(p[1]);
	check_region_fd_not_memory(p[0], "not a memory file");
}

TEST(mem_table_rejects_an_eventfd_as_memory)
{
	check_region_fd_not_memory(make_eventfd(), "not a memory file");
}

TEST(mem_table_rejects_a_closed_fd)
{
	int fd = make_eventfd();

	close(fd);
	check_region_fd_not_memory(fd, "cannot stat region fd");
}

/* vhu_mem_region_map() on its own: the reason it gives, and what it maps. */
static int
map_region(int fd, uint64_t size, uint64_t offset, struct vhu_mem_region *reg, char *why,
	   size_t why_len)
{
	struct vhost_user_mem_region d = { 0x40000, size, UVA_BASE, offset };

	return vhu_mem_region_map(reg, &d, fd, why, why_len);
}

TEST(region_map_refuses_a_pipe_as_not_a_memory_file)
{
	struct vhu_mem_region reg;
	char why[160] = "";
	int p[2];

	ASSERT_EQ(pipe(p), 0);
	ASSERT_EQ(map_region(p[0], 4096, 0, &reg, why, sizeof(why)), -EINVAL);
	ASSERT_STR_CONTAINS(why, "not a memory file");
	close(p[0]);
	close(p[1]);
}

TEST(region_map_refuses_an_eventfd_as_not_a_memory_file)
{
	struct vhu_mem_region reg;
	int fd = make_eventfd();
	char why[160] = "";

	ASSERT_EQ(map_region(fd, 4096, 0, &reg, why, sizeof(why)), -EINVAL);
	ASSERT_STR_CONTAINS(why, "not a memory file");
	close(fd);
}

TEST(region_map_refuses_a_region_ending_past_its_file)
{
	struct vhu_mem_region reg;
	int fd = make_memfd(0x3000);
	char why[160] = "";

	ASSERT_EQ(map_region(fd, 0x2000, 0x1001, &reg, why, sizeof(why)), -EINVAL);
	ASSERT_STR_CONTAINS(why, "needs 0x3001 bytes but its file holds only 0x3000");
	close(fd);
}

TEST(region_map_maps_a_region_at_its_file_offset)
{
	struct vhu_mem_region reg;
	int fd = make_memfd(0x3000), maps = count_memfd_mappings();
	char why[160] = "";

	ASSERT_EQ(pwrite(fd, "abcd", 4, 0x1000), 4);
	ASSERT_EQ(map_region(fd, 0x2000, 0x1000, &reg, why, sizeof(why)), 0);
	ASSERT_EQ(reg.gpa, 0x40000);
	ASSERT_EQ(reg.size, 0x2000);
	ASSERT_EQ(reg.uva, UVA_BASE);
	/* Only the region is mapped, from the page holding its first byte. */
	ASSERT_EQ(reg.hva, (uint64_t)(uintptr_t)reg.mmap_addr);
	ASSERT_EQ(reg.mmap_size, 0x2000);
	ASSERT_MEM_EQ((void *)(uintptr_t)reg.hva, "abcd", 4);
	ASSERT_EQ(count_memfd_mappings(), maps + 1);
	munmap(reg.mmap_addr, reg.mmap_size);
	close(fd);
}

/* Two regions from two memfds; expect the table refused and everything released. */
static void
check_two_regions(uint64_t gpa0, uint64_t uva0, uint64_t gpa1, uint64_t uva1,
		  enum vhu_msg_result want)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	int fds_before, maps_before, fds[2];
	struct vhost_user_msg m;

	fds_before = count_open_fds();
	maps_before = count_memfd_mappings();
	fds[0] = make_memfd(0x10000);
	fds[1] = make_memfd(0x10000);
	msg_mem_table(&m, 2);
	msg_region(&m, 0, gpa0, 0x10000, uva0, 0);
	msg_region(&m, 1, gpa1, 0x10000, uva1, 0);
	log_capture_start();
	ASSERT_EQ(SEND(dev, &m, fds, 2), want);
	if (want != VHU_MSG_OK)
		ASSERT_STR_CONTAINS(log_capture_stop(), "regions 0 and 1 overlap");
	else
		log_capture_stop();
	ASSERT_EQ(count_open_fds(), fds_before);
	if (want == VHU_MSG_OK) {
		ASSERT_NOT_NULL(dev->mem);
		ASSERT_EQ(dev->mem->nregions, 2);
		ASSERT_EQ(count_memfd_mappings(), maps_before + 2);
	} else {
		ASSERT_NULL(dev->mem);
		ASSERT_EQ(count_memfd_mappings(), maps_before);
	}
	fake_dev_free(dev);
	ASSERT_EQ(count_memfd_mappings(), maps_before);
}

TEST(mem_table_rejects_regions_overlapping_in_guest_physical_space)
{
	check_two_regions(0, UVA_BASE, 0xf000, UVA_BASE + 0x100000, VHU_MSG_CLOSE);
}

TEST(mem_table_rejects_regions_overlapping_in_frontend_virtual_space)
{
	check_two_regions(0, UVA_BASE, 0x100000, UVA_BASE + 0xffff, VHU_MSG_CLOSE);
}

TEST(mem_table_rejects_identical_regions)
{
	check_two_regions(0, UVA_BASE, 0, UVA_BASE, VHU_MSG_CLOSE);
}

TEST(mem_table_accepts_adjacent_regions)
{
	check_two_regions(0, UVA_BASE, 0x10000, UVA_BASE + 0x10000, VHU_MSG_OK);
}

TEST(mem_table_sorts_regions_by_guest_address)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	int fds[2];

	fds[0] = make_memfd(0x10000);
	fds[1] = make_memfd(0x10000);
	msg_mem_table(&m, 2);
	msg_region(&m, 0, 0x100000, 0x10000, UVA_BASE, 0);
	msg_region(&m, 1, 0x0, 0x8000, UVA_BASE + 0x100000, 0x8000);
	ASSERT_EQ(SEND(dev, &m, fds, 2), VHU_MSG_OK);
	ASSERT_EQ(dev->mem->regions[0].gpa, 0);
	ASSERT_EQ(dev->mem->regions[0].size, 0x8000);
	ASSERT_EQ(dev->mem->regions[0].uva, UVA_BASE + 0x100000);
	ASSERT_EQ(dev->mem->regions[0].hva, (uint64_t)(uintptr_t)dev->mem->regions[0].mmap_addr);
	ASSERT_EQ(dev->mem->regions[0].mmap_size, 0x8000);
	ASSERT_EQ(dev->mem->regions[1].gpa, 0x100000);
	fake_dev_free(dev);
}

TEST(mem_table_maps_the_shared_file_at_its_offset)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	int memfd = make_memfd(0x4000), fds[1];
	struct vhost_user_msg m;
	uint8_t *mine, *theirs;

	mine = mmap(NULL, 0x4000, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ASSERT_TRUE(mine != MAP_FAILED);
	fds[0] = dup(memfd);
	msg_mem_table(&m, 1);
	msg_region(&m, 0, 0x80000, 0x2000, UVA_BASE, 0x2000);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	theirs = vhu_mem_uva_to_hva(dev->mem, UVA_BASE + 0x10, 4);
	ASSERT_NOT_NULL(theirs);
	memcpy(mine + 0x2010, "vhu!", 4);
	ASSERT_MEM_EQ(theirs, "vhu!", 4);
	ASSERT_NULL(vhu_mem_uva_to_hva(dev->mem, UVA_BASE + 0x1ffe, 4));
	fake_dev_free(dev);
	munmap(mine, 0x4000);
	close(memfd);
}

TEST(mem_table_replacement_unmaps_the_old_table)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	int maps_before = count_memfd_mappings(), fds_before = count_open_fds(), fds[1];
	struct vhost_user_msg m;

	fds[0] = make_memfd(0x10000);
	msg_mem_table(&m, 1);
	msg_region(&m, 0, 0, 0x10000, UVA_BASE, 0);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	ASSERT_EQ(count_memfd_mappings(), maps_before + 1);
	fds[0] = make_memfd(0x20000);
	msg_mem_table(&m, 1);
	msg_region(&m, 0, 0, 0x20000, UVA_BASE, 0);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	ASSERT_EQ(dev->mem->regions[0].size, 0x20000);
	ASSERT_EQ(count_memfd_mappings(), maps_before + 1);
	ASSERT_EQ(count_open_fds(), fds_before);
	fake_dev_free(dev);
	ASSERT_EQ(count_memfd_mappings(), maps_before);
}

TEST(mem_table_refused_midway_keeps_the_old_table)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	int maps_before = count_memfd_mappings(), fds[2], p[2];
	struct vhost_user_msg m;
	struct vhu_mem *old;

	fds[0] = make_memfd(0x10000);
	msg_mem_table(&m, 1);
	msg_region(&m, 0, 0, 0x10000, UVA_BASE, 0);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	old = dev->mem;
	/* The first region is fine and gets mapped; the second is a pipe. */
	ASSERT_EQ(pipe(p), 0);
	close(p[1]);
	fds[0] = make_memfd(0x10000);
	fds[1] = p[0];
	msg_mem_table(&m, 2);
	msg_region(&m, 0, 0, 0x10000, UVA_BASE, 0);
	msg_region(&m, 1, 0x10000, 0x10000, UVA_BASE + 0x10000, 0);
	log_capture_start();
	ASSERT_EQ(SEND(dev, &m, fds, 2), VHU_MSG_CLOSE);
	ASSERT_STR_CONTAINS(log_capture_stop(), "not a memory file");
	ASSERT_PTR_EQ(dev->mem, old);
	ASSERT_EQ(count_memfd_mappings(), maps_before + 1);
	fake_dev_free(dev);
}

/* ---- dirty log (SET_LOG_BASE) and LOG_ALL ---- */

static void
msg_log_base(struct vhost_user_msg *m, uint64_t size, uint64_t offset)
{
	msg_init(m, VHOST_USER_SET_LOG_BASE, sizeof(struct vhost_user_log));
	m->payload.log.mmap_size = size;
	m->payload.log.mmap_offset = offset;
}

TEST(set_log_base_maps_the_log_and_replies_0)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	int fds_before = count_open_fds(), maps_before = count_memfd_mappings(), fds[1];
	struct vhost_user_msg m;

	dev->protocol_features = PF(LOG_SHMFD);
	fds[0] = make_memfd(0x3000);
	msg_log_base(&m, 0x1000, 0x2000);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_REPLY);
	ASSERT_EQ(m.hdr.size, 8);
	ASSERT_EQ(m.payload.u64, 0);
	ASSERT_NOT_NULL(dev->log);
	ASSERT_EQ(count_open_fds(), fds_before);	/* mapped, then closed */
	ASSERT_EQ(count_memfd_mappings(), maps_before + 1);
	/* A second log replaces the first. */
	fds[0] = make_memfd(0x1000);
	msg_log_base(&m, 0x1000, 0);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_REPLY);
	ASSERT_EQ(count_memfd_mappings(), maps_before + 1);
	vhu_dev_reset(dev);
	ASSERT_NULL(dev->log);
	ASSERT_EQ(count_memfd_mappings(), maps_before);
	fake_dev_free(dev);
}

static void
check_bad_log_base(uint64_t size, uint64_t offset, int fd)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	int maps_before = count_memfd_mappings(), fds[1] = { fd };
	struct vhost_user_msg m;

	dev->protocol_features = PF(LOG_SHMFD);
	msg_log_base(&m, size, offset);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_CLOSE);
	ASSERT_NULL(dev->log);
	ASSERT_FALSE(fd_is_open(fd));
	ASSERT_EQ(count_memfd_mappings(), maps_before);
	fake_dev_free(dev);
}

TEST(set_log_base_of_size_0_is_refused)
{
	check_bad_log_base(0, 0, make_memfd(0x1000));
}

TEST(set_log_base_whose_offset_plus_size_overflows_is_refused)
{
	check_bad_log_base(0x1000, UINT64_MAX - 0xfff, make_memfd(0x1000));
}

TEST(set_log_base_past_the_end_of_its_file_is_refused)
{
	check_bad_log_base(0x1000, 0x1000, make_memfd(0x1800));
}

TEST(set_log_base_on_an_eventfd_is_refused)
{
	check_bad_log_base(0x1000, 0, make_eventfd());
}

/* ---- ADD_MEM_REG / REM_MEM_REG ---- */

static void
msg_mem_reg(struct vhost_user_msg *m, uint32_t request, uint64_t gpa, uint64_t size, uint64_t uva)
{
	msg_init(m, request, sizeof(struct vhost_user_mem_reg_single));
	m->payload.mem_reg.region.guest_phys_addr = gpa;
	m->payload.mem_reg.region.memory_size = size;
	m->payload.mem_reg.region.userspace_addr = uva;
}

TEST(add_mem_reg_adds_and_rem_mem_reg_removes_a_region)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	int maps_before = count_memfd_mappings(), fds_before = count_open_fds(), fds[1];
	struct vhost_user_msg m;

	dev->protocol_features = PF(CONFIGURE_MEM_SLOTS);
	fds[0] = make_memfd(0x10000);
	msg_mem_reg(&m, VHOST_USER_ADD_MEM_REG, 0x100000, 0x10000, UVA_BASE + 0x100000);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	fds[0] = make_memfd(0x10000);
	msg_mem_reg(&m, VHOST_USER_ADD_MEM_REG, 0, 0x10000, UVA_BASE);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	ASSERT_EQ(dev->mem->nregions, 2);
	ASSERT_EQ(dev->mem->regions[0].gpa, 0);
	ASSERT_EQ(dev->mem->regions[1].gpa, 0x100000);
	ASSERT_EQ(count_memfd_mappings(), maps_before + 2);
	msg_mem_reg(&m, VHOST_USER_REM_MEM_REG, 0x100000, 0x10000, UVA_BASE + 0x100000);
	ASSERT_EQ(SEND(dev, &m, NULL, 0), VHU_MSG_OK);
	ASSERT_EQ(dev->mem->nregions, 1);
	ASSERT_EQ(dev->mem->regions[0].gpa, 0);
	ASSERT_EQ(count_memfd_mappings(), maps_before + 1);
	ASSERT_EQ(count_open_fds(), fds_before);
	fake_dev_free(dev);
	ASSERT_EQ(count_memfd_mappings(), maps_before);
}

TEST(add_mem_reg_rejects_an_overlapping_region)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	int maps_before = count_memfd_mappings(), fds_before = count_open_fds(), fds[1];
	struct vhost_user_msg m;

	dev->protocol_features = PF(CONFIGURE_MEM_SLOTS);
	fds[0] = make_memfd(0x10000);
	msg_mem_reg(&m, VHOST_USER_ADD_MEM_REG, 0, 0x10000, UVA_BASE);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_OK);
	fds[0] = make_memfd(0x10000);
	msg_mem_reg(&m, VHOST_USER_ADD_MEM_REG, 0x8000, 0x10000, UVA_BASE + 0x100000);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_CLOSE);
	ASSERT_EQ(dev->mem->nregions, 1);
	ASSERT_EQ(count_memfd_mappings(), maps_before + 1);
	ASSERT_EQ(count_open_fds(), fds_before);
	fake_dev_free(dev);
}

TEST(rem_mem_reg_refuses_an_unknown_region_and_closes_its_fd)
{
	struct vhu_vhost_dev *dev = fake_dev_new(1, 0);
	struct vhost_user_msg m;
	int fds[1] = { make_eventfd() }, fd = fds[0];

	dev->protocol_features = PF(CONFIGURE_MEM_SLOTS);
	msg_mem_reg(&m, VHOST_USER_REM_MEM_REG, 0, 0x10000, UVA_BASE);
	ASSERT_EQ(SEND(dev, &m, fds, 1), VHU_MSG_FAIL);
	ASSERT_FALSE(fd_is_open(fd));
	fake_dev_free(dev);
}
