/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The split-ring walker (virtq_split.h) over synthetic guest memory with
 * guard pages: valid direct and indirect chains, chains crossing regions,
 * and hostile rings, each of which must latch the ring broken with a reason,
 * count one error and read nothing outside guest memory (a stray access
 * would hit a guard page and crash the test). Also the avail index check
 * and the push/flush/notify verbs. No EAL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fake_dev.h"
#include "guest.h"
#include "test_harness.h"
#include "virtq_split.h"

#define REGION_SIZE (64 * 1024)

struct fx {
	struct guest g;
	struct vhu_vq *vq;
	struct vhu_buf_vec vec[VHU_VEC_MAX];
	uint32_t nvec;
	uint64_t total;
};

static void
fx_init(struct fx *f, uint32_t nregions, uint16_t ring_size)
{
	memset(f, 0, sizeof(*f));
	guest_init(&f->g, nregions, REGION_SIZE);
	f->vq = fake_vq_new(0);
	guest_ring_init(&f->g, f->vq, ring_size);
}

static void
fx_fini(struct fx *f)
{
	if (f->vq->callfd >= 0)
		close(f->vq->callfd);
	free(f->vq);
	guest_fini(&f->g);
}

static enum vhu_chain_rc
gather(struct fx *f, uint32_t head, bool writable)
{
	return vhu_split_gather(f->vq, head, writable, f->vec, &f->nvec, &f->total);
}

/* The ring must be latched broken by this one violation, for 'reason'. */
#define EXPECT_BROKEN(f, rc, reason) \
	do { \
		ASSERT_EQ(rc, VHU_CHAIN_BROKEN); \
		ASSERT_TRUE((f)->vq->broken); \
		ASSERT_STR_CONTAINS((f)->vq->broken_reason, reason); \
		ASSERT_EQ((f)->vq->stats.errors, 1); \
	} while (0)

/* ---- valid chains ---- */

TEST(gather_reads_a_single_descriptor)
{
	struct fx f;
	uint64_t buf;

	fx_init(&f, 1, 8);
	buf = guest_alloc(&f.g, 100, 1);
	drv_desc(f.vq, 3, buf, 100, 0, 0);
	ASSERT_EQ(gather(&f, 3, false), VHU_CHAIN_OK);
	ASSERT_EQ(f.nvec, 1);
	ASSERT_PTR_EQ(f.vec[0].addr, guest_ptr(&f.g, buf));
	ASSERT_EQ(f.vec[0].len, 100);
	ASSERT_EQ(f.total, 100);
	ASSERT_FALSE(f.vq->broken);
	ASSERT_EQ(f.vq->stats.errors, 0);
	fx_fini(&f);
}

TEST(gather_follows_a_chain_in_next_order)
{
	static const uint16_t order[3] = { 5, 2, 7 };
	uint64_t buf[3];
	struct fx f;
	int i;

	fx_init(&f, 1, 8);
	for (i = 0; i < 3; i++)
		buf[i] = guest_alloc(&f.g, 10 + i, 1);
	drv_desc(f.vq, 5, buf[0], 10, VRING_DESC_F_NEXT, 2);
	drv_desc(f.vq, 2, buf[1], 11, VRING_DESC_F_NEXT, 7);
	drv_desc(f.vq, 7, buf[2], 12, 0, 5);	/* 'next' ignored without NEXT */
	ASSERT_EQ(gather(&f, order[0], false), VHU_CHAIN_OK);
	ASSERT_EQ(f.nvec, 3);
	for (i = 0; i < 3; i++) {
		ASSERT_PTR_EQ(f.vec[i].addr, guest_ptr(&f.g, buf[i]));
		ASSERT_EQ(f.vec[i].len, 10 + i);
	}
	ASSERT_EQ(f.total, 33);
	fx_fini(&f);
}

TEST(gather_appends_after_the_entries_already_gathered)
{
	struct fx f;
	uint64_t buf;

	fx_init(&f, 1, 8);
	buf = guest_alloc(&f.g, 64, 1);
	drv_desc(f.vq, 0, buf, 64, VRING_DESC_F_WRITE, 0);
	f.nvec = 2;
	f.total = 1000;
	ASSERT_EQ(gather(&f, 0, true), VHU_CHAIN_OK);
	ASSERT_EQ(f.nvec, 3);
	ASSERT_PTR_EQ(f.vec[2].addr, guest_ptr(&f.g, buf));
	ASSERT_EQ(f.total, 1064);
	fx_fini(&f);
}

TEST(gather_accepts_a_writable_chain_for_receive)
{
	struct fx f;
	uint64_t a, b;

	fx_init(&f, 1, 8);
	a = guest_alloc(&f.g, 12, 1);
	b = guest_alloc(&f.g, 1500, 1);
	drv_desc(f.vq, 1, a, 12, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 4);
	drv_desc(f.vq, 4, b, 1500, VRING_DESC_F_WRITE, 0);
	ASSERT_EQ(gather(&f, 1, true), VHU_CHAIN_OK);
	ASSERT_EQ(f.nvec, 2);
	ASSERT_EQ(f.total, 1512);
	fx_fini(&f);
}

TEST(gather_skips_zero_length_descriptors)
{
	struct fx f;
	uint64_t a, b;

	fx_init(&f, 1, 8);
	a = guest_alloc(&f.g, 20, 1);
	b = guest_alloc(&f.g, 30, 1);
	drv_desc(f.vq, 0, a, 20, VRING_DESC_F_NEXT, 1);
	drv_desc(f.vq, 1, guest_end(&f.g) + 0x1000, 0, VRING_DESC_F_NEXT, 2);
	drv_desc(f.vq, 2, b, 30, 0, 0);
	ASSERT_EQ(gather(&f, 0, false), VHU_CHAIN_OK);
	ASSERT_EQ(f.nvec, 2);
	ASSERT_PTR_EQ(f.vec[1].addr, guest_ptr(&f.g, b));
	ASSERT_EQ(f.total, 50);
	fx_fini(&f);
}

TEST(gather_accepts_a_chain_as_long_as_the_ring)
{
	struct fx f;
	uint64_t buf;
	uint16_t i;

	fx_init(&f, 1, 8);
	buf = guest_alloc(&f.g, 8, 1);
	for (i = 0; i < 8; i++)
		drv_desc(f.vq, i, buf + i, 1, i < 7 ? VRING_DESC_F_NEXT : 0, i + 1);
	ASSERT_EQ(gather(&f, 0, false), VHU_CHAIN_OK);
	ASSERT_EQ(f.nvec, 8);
	ASSERT_EQ(f.total, 8);
	fx_fini(&f);
}

TEST(gather_reads_an_indirect_table)
{
	struct vring_desc *table;
	uint64_t t, buf[3];
	struct fx f;
	int i;

	fx_init(&f, 1, 8);
	t = guest_alloc(&f.g, 3 * sizeof(struct vring_desc), 16);
	table = guest_ptr(&f.g, t);
	for (i = 0; i < 3; i++)
		buf[i] = guest_alloc(&f.g, 100, 1);
	/* The table's own chain runs 0 -> 2 -> 1. */
	drv_table(table, 0, buf[0], 100, VRING_DESC_F_NEXT, 2);
	drv_table(table, 2, buf[2], 50, VRING_DESC_F_NEXT, 1);
	drv_table(table, 1, buf[1], 25, 0, 0);
	drv_desc(f.vq, 6, t, 3 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
	ASSERT_EQ(gather(&f, 6, false), VHU_CHAIN_OK);
	ASSERT_EQ(f.nvec, 3);
	ASSERT_PTR_EQ(f.vec[0].addr, guest_ptr(&f.g, buf[0]));
	ASSERT_PTR_EQ(f.vec[1].addr, guest_ptr(&f.g, buf[2]));
	ASSERT_PTR_EQ(f.vec[2].addr, guest_ptr(&f.g, buf[1]));
	ASSERT_EQ(f.total, 175);
	fx_fini(&f);
}

TEST(gather_accepts_an_indirect_table_as_large_as_the_ring)
{
	struct vring_desc *table;
	uint64_t t, buf;
	struct fx f;
	uint16_t i;

	fx_init(&f, 1, 16);
	t = guest_alloc(&f.g, 16 * sizeof(struct vring_desc), 16);
	table = guest_ptr(&f.g, t);
	buf = guest_alloc(&f.g, 16, 1);
	for (i = 0; i < 16; i++)
		drv_table(table, i, buf + i, 1, i < 15 ? VRING_DESC_F_NEXT : 0, i + 1);
	drv_desc(f.vq, 0, t, 16 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
	ASSERT_EQ(gather(&f, 0, false), VHU_CHAIN_OK);
	ASSERT_EQ(f.nvec, 16);
	fx_fini(&f);
}

TEST(gather_splits_a_buffer_crossing_two_regions)
{
	uint64_t boundary;
	struct fx f;

	fx_init(&f, 2, 8);
	boundary = guest_region_gpa(&f.g, 1);
	drv_desc(f.vq, 0, boundary - 10, 30, 0, 0);
	ASSERT_EQ(gather(&f, 0, false), VHU_CHAIN_OK);
	ASSERT_EQ(f.nvec, 2);
	ASSERT_PTR_EQ(f.vec[0].addr, guest_ptr(&f.g, boundary - 10));
	ASSERT_EQ(f.vec[0].len, 10);
	/* Not the next byte in our space (that is a guard page): region 1's start. */
	ASSERT_PTR_EQ(f.vec[1].addr, f.g.hva[1]);
	ASSERT_EQ(f.vec[1].len, 20);
	ASSERT_EQ(f.total, 30);
	fx_fini(&f);
}

TEST(gather_follows_a_chain_whose_buffers_are_in_two_regions)
{
	uint64_t a, b;
	struct fx f;

	fx_init(&f, 2, 8);
	a = guest_alloc(&f.g, 64, 1);
	b = guest_region_gpa(&f.g, 1) + 128;
	drv_desc(f.vq, 0, a, 64, VRING_DESC_F_NEXT, 1);
	drv_desc(f.vq, 1, b, 64, 0, 0);
	ASSERT_EQ(gather(&f, 0, false), VHU_CHAIN_OK);
	ASSERT_EQ(f.nvec, 2);
	ASSERT_PTR_EQ(f.vec[1].addr, f.g.hva[1] + 128);
	fx_fini(&f);
}

TEST(gather_drops_without_breaking_a_chain_of_more_pieces_than_it_holds)
{
	uint16_t i, n = VHU_VEC_MAX + 2;
	uint64_t buf;
	struct fx f;

	fx_init(&f, 1, 256);
	buf = guest_alloc(&f.g, n, 1);
	for (i = 0; i < n; i++)
		drv_desc(f.vq, i, buf + i, 1, i + 1 < n ? VRING_DESC_F_NEXT : 0, i + 1);
	ASSERT_EQ(gather(&f, 0, false), VHU_CHAIN_DROP);
	ASSERT_FALSE(f.vq->broken);
	ASSERT_EQ(f.vq->stats.errors, 0);
	ASSERT_EQ(f.nvec, VHU_VEC_MAX);
	fx_fini(&f);
}

/* ---- hostile chains ---- */

TEST(gather_breaks_on_a_head_equal_to_the_ring_size)
{
	struct fx f;

	fx_init(&f, 1, 8);
	EXPECT_BROKEN(&f, gather(&f, 8, false), "head 8 out of range");
	fx_fini(&f);
}

TEST(gather_breaks_on_a_head_far_out_of_range)
{
	struct fx f;

	fx_init(&f, 1, 8);
	EXPECT_BROKEN(&f, gather(&f, 0xffff, false), "head 65535 out of range");
	fx_fini(&f);
}

TEST(gather_breaks_on_a_descriptor_pointing_to_itself)
{
	struct fx f;
	uint64_t buf;

	fx_init(&f, 1, 8);
	buf = guest_alloc(&f.g, 16, 1);
	drv_desc(f.vq, 3, buf, 16, VRING_DESC_F_NEXT, 3);
	EXPECT_BROKEN(&f, gather(&f, 3, false), "loops");
	fx_fini(&f);
}

TEST(gather_breaks_on_a_two_descriptor_loop)
{
	struct fx f;
	uint64_t buf;

	fx_init(&f, 1, 8);
	buf = guest_alloc(&f.g, 16, 1);
	drv_desc(f.vq, 0, buf, 16, VRING_DESC_F_NEXT, 1);
	drv_desc(f.vq, 1, buf, 16, VRING_DESC_F_NEXT, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "loops");
	fx_fini(&f);
}

TEST(gather_breaks_on_a_chain_longer_than_the_ring)
{
	struct fx f;
	uint64_t buf;
	uint16_t i;

	fx_init(&f, 1, 8);
	buf = guest_alloc(&f.g, 8, 1);
	/* Every descriptor once, then back to the head: 9 > 8 descriptors. */
	for (i = 0; i < 8; i++)
		drv_desc(f.vq, i, buf + i, 1, VRING_DESC_F_NEXT, (i + 1) % 8);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "exceeds 8 descriptors");
	fx_fini(&f);
}

TEST(gather_breaks_on_a_loop_inside_an_indirect_table)
{
	struct vring_desc *table;
	uint64_t t, buf;
	struct fx f;

	fx_init(&f, 1, 8);
	t = guest_alloc(&f.g, 4 * sizeof(struct vring_desc), 16);
	table = guest_ptr(&f.g, t);
	buf = guest_alloc(&f.g, 16, 1);
	drv_table(table, 0, buf, 16, VRING_DESC_F_NEXT, 1);
	drv_table(table, 1, buf, 16, VRING_DESC_F_NEXT, 2);
	drv_table(table, 2, buf, 16, VRING_DESC_F_NEXT, 1);
	drv_table(table, 3, buf, 16, 0, 0);
	drv_desc(f.vq, 0, t, 4 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "exceeds 4 descriptors");
	fx_fini(&f);
}

TEST(gather_breaks_on_a_next_index_equal_to_the_ring_size)
{
	struct fx f;
	uint64_t buf;

	fx_init(&f, 1, 8);
	buf = guest_alloc(&f.g, 16, 1);
	drv_desc(f.vq, 0, buf, 16, VRING_DESC_F_NEXT, 8);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "next index 8 out of range");
	fx_fini(&f);
}

TEST(gather_breaks_on_a_next_index_past_an_indirect_table)
{
	struct vring_desc *table;
	uint64_t t, buf;
	struct fx f;

	fx_init(&f, 1, 8);
	t = guest_alloc(&f.g, 2 * sizeof(struct vring_desc), 16);
	table = guest_ptr(&f.g, t);
	buf = guest_alloc(&f.g, 16, 1);
	/* 2 is a valid ring index but past this 2-entry table. */
	drv_table(table, 0, buf, 16, VRING_DESC_F_NEXT, 2);
	drv_table(table, 1, buf, 16, 0, 0);
	drv_desc(f.vq, 0, t, 2 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "next index 2 out of range (2)");
	fx_fini(&f);
}

TEST(gather_breaks_on_a_buffer_outside_guest_memory)
{
	struct fx f;

	fx_init(&f, 1, 8);
	drv_desc(f.vq, 0, guest_end(&f.g) + 0x1000, 64, 0, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "is not in guest memory");
	fx_fini(&f);
}

TEST(gather_breaks_on_a_buffer_below_guest_memory)
{
	struct fx f;

	fx_init(&f, 1, 8);
	drv_desc(f.vq, 0, GUEST_GPA - 64, 64, 0, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "is not in guest memory");
	fx_fini(&f);
}

TEST(gather_breaks_on_a_buffer_running_past_the_end_of_memory)
{
	struct fx f;

	fx_init(&f, 2, 8);
	drv_desc(f.vq, 0, guest_end(&f.g) - 8, 16, 0, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "is not in guest memory");
	fx_fini(&f);
}

TEST(gather_breaks_on_a_maximal_length_buffer)
{
	struct fx f;

	fx_init(&f, 1, 8);
	drv_desc(f.vq, 0, GUEST_GPA, UINT32_MAX, 0, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "is not in guest memory");
	fx_fini(&f);
}

/*
 * A buffer whose addr + len wraps past 2^64. With memory at both ends of the
 * address space, walking it piece by piece would continue at guest address 0;
 * the range is not a range, so the ring must break.
 */
TEST(gather_breaks_on_a_buffer_whose_end_wraps_past_2_pow_64)
{
	uint8_t *low = aligned_alloc(4096, 4096), *top = aligned_alloc(4096, 4096);
	struct vhu_mem *mem = vhu_mem_alloc(3);
	struct fx f;

	ASSERT_TRUE(low != NULL && top != NULL && mem != NULL);
	fx_init(&f, 1, 8);
	mem->nregions = 3;
	mem->regions[0] = (struct vhu_mem_region){ .gpa = 0, .size = 4096,
						   .hva = (uint64_t)(uintptr_t)low };
	mem->regions[1] = f.g.mem->regions[0];
	mem->regions[2] = (struct vhu_mem_region){ .gpa = UINT64_MAX - 4095, .size = 4096,
						   .hva = (uint64_t)(uintptr_t)top };
	f.vq->mem = mem;
	drv_desc(f.vq, 0, UINT64_MAX - 7, 16, 0, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "wraps the address space");
	fx_fini(&f);
	vhu_mem_free(mem, NULL);
	free(low);
	free(top);
}

/*
 * An indirect descriptor whose table is the ring's own descriptor table: the
 * walk enters it, meets the same indirect descriptor, and must see that as
 * nesting. (A check of the table's address against the ring's took it for
 * the ring itself and walked round for ever: a data lcore stalled by the
 * guest, found by fuzz_split.)
 */
TEST(gather_breaks_on_an_indirect_table_that_is_the_ring_itself)
{
	uint64_t ring;
	struct fx f;

	fx_init(&f, 1, 8);
	f.vq->indirect = true;
	ring = guest_gpa_of(&f.g, f.vq->desc);
	drv_desc(f.vq, 0, ring, 8 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "nested indirect table");
	fx_fini(&f);
}

TEST(gather_breaks_on_a_nested_indirect_table)
{
	struct vring_desc *table;
	uint64_t t;
	struct fx f;

	fx_init(&f, 1, 8);
	t = guest_alloc(&f.g, 2 * sizeof(struct vring_desc), 16);
	table = guest_ptr(&f.g, t);
	drv_table(table, 0, t, 2 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
	drv_desc(f.vq, 0, t, 2 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "nested indirect table");
	fx_fini(&f);
}

TEST(gather_breaks_on_an_indirect_descriptor_with_next)
{
	struct vring_desc *table;
	uint64_t t, buf;
	struct fx f;

	fx_init(&f, 1, 8);
	t = guest_alloc(&f.g, sizeof(struct vring_desc), 16);
	table = guest_ptr(&f.g, t);
	buf = guest_alloc(&f.g, 16, 1);
	drv_table(table, 0, buf, 16, 0, 0);
	drv_desc(f.vq, 0, t, sizeof(struct vring_desc), VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT,
		 1);
	drv_desc(f.vq, 1, buf, 16, 0, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "indirect descriptor with NEXT");
	fx_fini(&f);
}

static void
check_bad_indirect_len(uint32_t len, const char *reason)
{
	uint64_t t;
	struct fx f;

	fx_init(&f, 1, 8);
	t = guest_alloc(&f.g, 16 * sizeof(struct vring_desc), 16);
	drv_desc(f.vq, 0, t, len, VRING_DESC_F_INDIRECT, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, false), reason);
	fx_fini(&f);
}

TEST(gather_breaks_on_an_indirect_table_not_a_multiple_of_16_bytes)
{
	check_bad_indirect_len(24, "indirect table of 24 bytes");
}

TEST(gather_breaks_on_an_empty_indirect_table)
{
	check_bad_indirect_len(0, "indirect table of 0 bytes");
}

TEST(gather_breaks_on_an_indirect_table_larger_than_the_ring)
{
	check_bad_indirect_len(9 * sizeof(struct vring_desc), "indirect table of 144 bytes");
}

TEST(gather_breaks_on_an_indirect_descriptor_without_the_feature)
{
	struct vring_desc *table;
	uint64_t t, buf;
	struct fx f;

	fx_init(&f, 1, 8);
	f.vq->indirect = false;
	t = guest_alloc(&f.g, sizeof(struct vring_desc), 16);
	table = guest_ptr(&f.g, t);
	buf = guest_alloc(&f.g, 16, 1);
	drv_table(table, 0, buf, 16, 0, 0);
	drv_desc(f.vq, 0, t, sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "indirect descriptor not negotiated");
	fx_fini(&f);
}

TEST(gather_breaks_on_an_indirect_table_outside_guest_memory)
{
	struct fx f;

	fx_init(&f, 1, 8);
	drv_desc(f.vq, 0, guest_end(&f.g) - 16, 2 * sizeof(struct vring_desc),
		 VRING_DESC_F_INDIRECT, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "is not in guest memory");
	fx_fini(&f);
}

TEST(gather_breaks_on_an_indirect_table_split_across_regions)
{
	struct fx f;

	fx_init(&f, 2, 8);
	drv_desc(f.vq, 0, guest_region_gpa(&f.g, 1) - 16, 2 * sizeof(struct vring_desc),
		 VRING_DESC_F_INDIRECT, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "is not contiguous in guest memory");
	fx_fini(&f);
}

TEST(gather_breaks_on_a_write_only_descriptor_in_a_transmit_chain)
{
	struct fx f;
	uint64_t buf;

	fx_init(&f, 1, 8);
	buf = guest_alloc(&f.g, 32, 1);
	drv_desc(f.vq, 0, buf, 16, VRING_DESC_F_NEXT, 1);
	drv_desc(f.vq, 1, buf + 16, 16, VRING_DESC_F_WRITE, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, false), "write-only descriptor in a transmit chain");
	fx_fini(&f);
}

TEST(gather_breaks_on_a_read_only_descriptor_in_a_receive_chain)
{
	struct fx f;
	uint64_t buf;

	fx_init(&f, 1, 8);
	buf = guest_alloc(&f.g, 32, 1);
	drv_desc(f.vq, 0, buf, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	drv_desc(f.vq, 1, buf + 16, 16, 0, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, true), "read-only descriptor in a receive chain");
	fx_fini(&f);
}

TEST(gather_breaks_on_a_wrong_direction_inside_an_indirect_table)
{
	struct vring_desc *table;
	uint64_t t, buf;
	struct fx f;

	fx_init(&f, 1, 8);
	t = guest_alloc(&f.g, 2 * sizeof(struct vring_desc), 16);
	table = guest_ptr(&f.g, t);
	buf = guest_alloc(&f.g, 32, 1);
	drv_table(table, 0, buf, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	drv_table(table, 1, buf + 16, 16, 0, 0);
	drv_desc(f.vq, 0, t, 2 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
	EXPECT_BROKEN(&f, gather(&f, 0, true), "read-only descriptor in a receive chain");
	fx_fini(&f);
}

TEST(broken_latch_keeps_the_first_reason_and_counts_every_violation)
{
	struct fx f;

	fx_init(&f, 1, 8);
	ASSERT_EQ(gather(&f, 100, false), VHU_CHAIN_BROKEN);
	drv_desc(f.vq, 0, 0, 16, VRING_DESC_F_NEXT, 0);
	ASSERT_EQ(gather(&f, 0, false), VHU_CHAIN_BROKEN);
	ASSERT_STR_CONTAINS(f.vq->broken_reason, "head 100 out of range");
	ASSERT_EQ(f.vq->stats.errors, 2);
	fx_fini(&f);
}

/* ---- the avail index ---- */

static void
set_avail_idx(struct fx *f, uint16_t idx)
{
	f->vq->avail->idx = idx;
}

TEST(avail_count_returns_the_entries_offered_since_last_look)
{
	struct fx f;

	fx_init(&f, 1, 8);
	ASSERT_EQ(vhu_split_avail_count(f.vq), 0);
	set_avail_idx(&f, 5);
	ASSERT_EQ(vhu_split_avail_count(f.vq), 5);
	f.vq->last_avail_idx = 3;
	ASSERT_EQ(vhu_split_avail_count(f.vq), 2);
	ASSERT_FALSE(f.vq->broken);
	fx_fini(&f);
}

TEST(avail_count_follows_the_index_across_its_16_bit_wrap)
{
	struct fx f;

	fx_init(&f, 1, 8);
	f.vq->last_avail_idx = 65533;
	set_avail_idx(&f, 3);
	ASSERT_EQ(vhu_split_avail_count(f.vq), 6);
	ASSERT_FALSE(f.vq->broken);
	fx_fini(&f);
}

TEST(avail_count_accepts_a_full_ring)
{
	struct fx f;

	fx_init(&f, 1, 8);
	f.vq->last_avail_idx = 100;
	set_avail_idx(&f, 108);
	ASSERT_EQ(vhu_split_avail_count(f.vq), 8);
	ASSERT_FALSE(f.vq->broken);
	fx_fini(&f);
}

TEST(avail_count_breaks_on_a_jump_of_more_than_the_ring_size)
{
	struct fx f;

	fx_init(&f, 1, 8);
	f.vq->last_avail_idx = 100;
	set_avail_idx(&f, 109);
	ASSERT_EQ(vhu_split_avail_count(f.vq), UINT32_MAX);
	ASSERT_TRUE(f.vq->broken);
	ASSERT_STR_CONTAINS(f.vq->broken_reason, "avail index jumped from 100 to 109");
	ASSERT_EQ(f.vq->stats.errors, 1);
	fx_fini(&f);
}

TEST(avail_count_breaks_on_an_index_moving_backwards)
{
	struct fx f;

	fx_init(&f, 1, 8);
	f.vq->last_avail_idx = 10;
	set_avail_idx(&f, 9);
	ASSERT_EQ(vhu_split_avail_count(f.vq), UINT32_MAX);
	ASSERT_TRUE(f.vq->broken);
	fx_fini(&f);
}

TEST(avail_head_reads_the_ring_modulo_its_size)
{
	struct fx f;

	fx_init(&f, 1, 8);
	f.vq->avail->ring[1] = 6;
	f.vq->last_avail_idx = 7;
	ASSERT_EQ(vhu_split_avail_head(f.vq, 2), 6);
	fx_fini(&f);
}

/* ---- push, flush, notify ---- */

static uint64_t
eventfd_count(int fd)
{
	eventfd_t v = 0;

	if (eventfd_read(fd, &v) != 0)
		return 0;	/* EAGAIN: never written */
	return v;
}

static int
make_callfd(struct fx *f)
{
	f->vq->callfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (f->vq->callfd < 0)
		th_fail(__FILE__, __LINE__, "eventfd: %s", strerror(errno));
	return f->vq->callfd;
}

TEST(push_is_invisible_until_flush_publishes_the_used_index)
{
	struct fx f;

	fx_init(&f, 1, 8);
	vhu_split_push(f.vq, 4, 100);
	vhu_split_push(f.vq, 1, 0);
	vhu_split_push(f.vq, 7, 64);
	ASSERT_EQ(f.vq->used->idx, 0);
	ASSERT_EQ(f.vq->last_used_idx, 3);
	vhu_split_publish(f.vq, 0);
	ASSERT_EQ(f.vq->used->idx, 3);
	ASSERT_EQ(f.vq->used->ring[0].id, 4);
	ASSERT_EQ(f.vq->used->ring[0].len, 100);
	ASSERT_EQ(f.vq->used->ring[1].id, 1);
	ASSERT_EQ(f.vq->used->ring[2].id, 7);
	ASSERT_EQ(f.vq->used->ring[2].len, 64);
	fx_fini(&f);
}

TEST(push_wraps_around_the_used_ring)
{
	struct fx f;

	fx_init(&f, 1, 8);
	f.vq->last_used_idx = 65535;
	vhu_split_push(f.vq, 2, 1);
	vhu_split_push(f.vq, 3, 2);
	vhu_split_publish(f.vq, 65535);
	ASSERT_EQ(f.vq->used->ring[7].id, 2);
	ASSERT_EQ(f.vq->used->ring[0].id, 3);
	ASSERT_EQ(f.vq->used->idx, 1);
	fx_fini(&f);
}

TEST(flush_without_new_entries_does_not_notify)
{
	struct fx f;
	int fd;

	fx_init(&f, 1, 8);
	fd = make_callfd(&f);
	vhu_split_publish(f.vq, 0);
	ASSERT_EQ(eventfd_count(fd), 0);
	ASSERT_EQ(f.vq->stats.notify, 0);
	fx_fini(&f);
}

TEST(flush_notifies_once_for_a_burst)
{
	struct fx f;
	int fd;

	fx_init(&f, 1, 8);
	fd = make_callfd(&f);
	vhu_split_push(f.vq, 0, 1);
	vhu_split_push(f.vq, 1, 1);
	vhu_split_publish(f.vq, 0);
	ASSERT_EQ(eventfd_count(fd), 1);
	ASSERT_EQ(f.vq->stats.notify, 1);
	fx_fini(&f);
}

TEST(flush_honours_no_interrupt)
{
	struct fx f;
	int fd;

	fx_init(&f, 1, 8);
	fd = make_callfd(&f);
	f.vq->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	vhu_split_push(f.vq, 0, 1);
	vhu_split_publish(f.vq, 0);
	ASSERT_EQ(f.vq->used->idx, 1);
	ASSERT_EQ(eventfd_count(fd), 0);
	ASSERT_EQ(f.vq->stats.notify, 0);
	fx_fini(&f);
}

TEST(flush_with_event_idx_notifies_when_used_event_is_crossed)
{
	struct fx f;
	int fd;

	fx_init(&f, 1, 8);
	fd = make_callfd(&f);
	f.vq->event_idx = true;
	f.vq->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;	/* ignored with EVENT_IDX */
	*vring_used_event(f.vq->avail, 8) = 1;
	vhu_split_push(f.vq, 0, 1);
	vhu_split_push(f.vq, 1, 1);
	vhu_split_push(f.vq, 2, 1);
	vhu_split_publish(f.vq, 0);
	ASSERT_EQ(eventfd_count(fd), 1);
	fx_fini(&f);
}

TEST(flush_with_event_idx_stays_quiet_before_used_event)
{
	struct fx f;
	int fd;

	fx_init(&f, 1, 8);
	fd = make_callfd(&f);
	f.vq->event_idx = true;
	*vring_used_event(f.vq->avail, 8) = 3;
	vhu_split_push(f.vq, 0, 1);
	vhu_split_push(f.vq, 1, 1);
	vhu_split_push(f.vq, 2, 1);
	vhu_split_publish(f.vq, 0);
	ASSERT_EQ(f.vq->used->idx, 3);
	ASSERT_EQ(eventfd_count(fd), 0);
	fx_fini(&f);
}
