/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest address translation (vhost_mem.c, vhost_private.h) over a memory
 * table built by hand whose regions point at heap buffers: inside, at the
 * edges, one past the end, across two regions, with overflowing ranges, with
 * length 0 and with a stale per-queue cache hint. Also the region checks that
 * SET_MEM_TABLE relies on. No EAL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test_harness.h"
#include "vhost_private.h"

/*
 * The standard table: regions 0 and 1 are adjacent in guest-physical and in
 * front-end virtual space but live in unrelated heap buffers; region 2 sits
 * apart, after a gap.
 */
#define R0_GPA 0x10000ull
#define R0_SIZE 0x1000ull
#define R1_GPA (R0_GPA + R0_SIZE)
#define R1_SIZE 0x2000ull
#define R2_GPA 0x40000ull
#define R2_SIZE 0x1000ull
#define UVA 0x7f0000000000ull

struct table {
	struct vhu_mem *mem;
	uint8_t *buf[3];	/* backing of region i */
};

static void
region_set(struct vhu_mem *mem, uint32_t i, uint64_t gpa, uint64_t size, uint64_t uva, void *buf)
{
	mem->regions[i].gpa = gpa;
	mem->regions[i].size = size;
	mem->regions[i].uva = uva;
	mem->regions[i].hva = (uint64_t)(uintptr_t)buf;
}

static void
table_init(struct table *t)
{
	t->mem = vhu_mem_alloc(3);
	t->buf[0] = malloc(R0_SIZE);
	t->buf[1] = malloc(R1_SIZE);
	t->buf[2] = malloc(R2_SIZE);
	if (t->mem == NULL || t->buf[0] == NULL || t->buf[1] == NULL || t->buf[2] == NULL)
		th_fail(__FILE__, __LINE__, "out of memory");
	t->mem->nregions = 3;
	region_set(t->mem, 0, R0_GPA, R0_SIZE, UVA, t->buf[0]);
	region_set(t->mem, 1, R1_GPA, R1_SIZE, UVA + R0_SIZE, t->buf[1]);
	region_set(t->mem, 2, R2_GPA, R2_SIZE, UVA + 0x100000, t->buf[2]);
}

static void
table_fini(struct table *t)
{
	vhu_mem_free(t->mem, NULL);	/* no mmap_addr: frees the table only */
	free(t->buf[0]);
	free(t->buf[1]);
	free(t->buf[2]);
}

/* ---- vhu_gpa_to_hva ---- */

TEST(gpa_to_hva_translates_an_address_inside_a_region)
{
	struct table t;
	uint64_t len = 16;
	uint32_t cache = 0;

	table_init(&t);
	ASSERT_PTR_EQ(vhu_gpa_to_hva(t.mem, R0_GPA + 0x10, &len, &cache), t.buf[0] + 0x10);
	ASSERT_EQ(len, 16);
	table_fini(&t);
}

TEST(gpa_to_hva_translates_the_first_byte_of_a_region)
{
	struct table t;
	uint64_t len = 1;
	uint32_t cache = 0;

	table_init(&t);
	ASSERT_PTR_EQ(vhu_gpa_to_hva(t.mem, R1_GPA, &len, &cache), t.buf[1]);
	ASSERT_EQ(cache, 1);
	table_fini(&t);
}

TEST(gpa_to_hva_cuts_len_to_one_at_the_last_byte_of_memory)
{
	struct table t;
	uint64_t len = 100;
	uint32_t cache = 0;

	table_init(&t);
	ASSERT_PTR_EQ(vhu_gpa_to_hva(t.mem, R2_GPA + R2_SIZE - 1, &len, &cache),
		      t.buf[2] + R2_SIZE - 1);
	ASSERT_EQ(len, 1);
	table_fini(&t);
}

TEST(gpa_to_hva_rejects_one_past_the_end_of_a_region)
{
	struct table t;
	uint64_t len = 1;
	uint32_t cache = 2;

	table_init(&t);
	ASSERT_NULL(vhu_gpa_to_hva(t.mem, R2_GPA + R2_SIZE, &len, &cache));
	table_fini(&t);
}

TEST(gpa_to_hva_rejects_addresses_below_every_region)
{
	struct table t;
	uint64_t len = 1;
	uint32_t cache = 0;

	table_init(&t);
	ASSERT_NULL(vhu_gpa_to_hva(t.mem, R0_GPA - 1, &len, &cache));
	ASSERT_NULL(vhu_gpa_to_hva(t.mem, 0, &len, &cache));
	table_fini(&t);
}

TEST(gpa_to_hva_rejects_addresses_in_the_gap_between_regions)
{
	struct table t;
	uint64_t len = 1;
	uint32_t cache = 1;

	table_init(&t);
	ASSERT_NULL(vhu_gpa_to_hva(t.mem, R1_GPA + R1_SIZE, &len, &cache));
	ASSERT_NULL(vhu_gpa_to_hva(t.mem, R2_GPA - 1, &len, &cache));
	ASSERT_NULL(vhu_gpa_to_hva(t.mem, UINT64_MAX, &len, &cache));
	table_fini(&t);
}

TEST(gpa_to_hva_cuts_a_range_spanning_two_regions_at_the_boundary)
{
	struct table t;
	uint64_t len = 0x40;
	uint32_t cache = 0;

	table_init(&t);
	ASSERT_PTR_EQ(vhu_gpa_to_hva(t.mem, R1_GPA - 0x10, &len, &cache),
		      t.buf[0] + R0_SIZE - 0x10);
	ASSERT_EQ(len, 0x10);
	/* The rest continues in the other buffer, not just after the first. */
	len = 0x30;
	ASSERT_PTR_EQ(vhu_gpa_to_hva(t.mem, R1_GPA, &len, &cache), t.buf[1]);
	ASSERT_EQ(len, 0x30);
	table_fini(&t);
}

TEST(gpa_to_hva_updates_the_cache_to_the_region_hit)
{
	struct table t;
	uint64_t len = 1;
	uint32_t cache = 0;

	table_init(&t);
	ASSERT_PTR_EQ(vhu_gpa_to_hva(t.mem, R2_GPA + 5, &len, &cache), t.buf[2] + 5);
	ASSERT_EQ(cache, 2);
	ASSERT_PTR_EQ(vhu_gpa_to_hva(t.mem, R2_GPA + 6, &len, &cache), t.buf[2] + 6);
	ASSERT_EQ(cache, 2);
	table_fini(&t);
}

TEST(gpa_to_hva_ignores_a_cache_hint_for_another_region)
{
	struct table t;
	uint64_t len = 8;
	uint32_t cache = 2;

	table_init(&t);
	ASSERT_PTR_EQ(vhu_gpa_to_hva(t.mem, R0_GPA + 8, &len, &cache), t.buf[0] + 8);
	ASSERT_EQ(cache, 0);
	table_fini(&t);
}

TEST(gpa_to_hva_survives_a_cache_hint_past_a_shrunken_table)
{
	struct table t;
	uint64_t len = 8;
	uint32_t cache = 2;

	table_init(&t);
	/* The table lost region 2 since the hint was taken. */
	t.mem->nregions = 2;
	ASSERT_NULL(vhu_gpa_to_hva(t.mem, R2_GPA, &len, &cache));
	cache = 1000;
	ASSERT_PTR_EQ(vhu_gpa_to_hva(t.mem, R1_GPA + 8, &len, &cache), t.buf[1] + 8);
	ASSERT_EQ(cache, 1);
	t.mem->nregions = 3;
	table_fini(&t);
}

TEST(gpa_to_hva_on_an_empty_table_returns_null)
{
	struct vhu_mem *mem = vhu_mem_alloc(0);
	uint64_t len = 1;
	uint32_t cache = 0;

	ASSERT_NOT_NULL(mem);
	ASSERT_NULL(vhu_gpa_to_hva(mem, 0, &len, &cache));
	vhu_mem_free(mem, NULL);
}

TEST(gpa_to_hva_at_the_top_of_the_address_space_does_not_wrap)
{
	struct vhu_mem *mem = vhu_mem_alloc(2);
	uint8_t *top = malloc(0x1000), *low = malloc(0x1000);
	uint64_t len = 16;
	uint32_t cache = 0;

	ASSERT_TRUE(mem != NULL && top != NULL && low != NULL);
	mem->nregions = 2;
	region_set(mem, 0, 0, 0x1000, UVA, low);
	region_set(mem, 1, UINT64_MAX - 0xfff, 0x1000, UVA + 0x1000, top);
	ASSERT_PTR_EQ(vhu_gpa_to_hva(mem, UINT64_MAX - 7, &len, &cache), top + 0xff8);
	ASSERT_EQ(len, 8);
	len = 16;
	ASSERT_PTR_EQ(vhu_gpa_to_hva(mem, UINT64_MAX, &len, &cache), top + 0xfff);
	ASSERT_EQ(len, 1);
	vhu_mem_free(mem, NULL);
	free(top);
	free(low);
}

/* ---- vhu_gpa_to_hva_whole ---- */

TEST(whole_translates_a_range_inside_one_region)
{
	struct table t;
	uint32_t cache = 0;

	table_init(&t);
	ASSERT_PTR_EQ(vhu_gpa_to_hva_whole(t.mem, R1_GPA + 0x100, 0x200, &cache),
		      t.buf[1] + 0x100);
	ASSERT_EQ(cache, 1);
	table_fini(&t);
}

TEST(whole_accepts_a_range_ending_exactly_at_the_region_end)
{
	struct table t;
	uint32_t cache = 0;

	table_init(&t);
	ASSERT_PTR_EQ(vhu_gpa_to_hva_whole(t.mem, R2_GPA + 0xf00, 0x100, &cache), t.buf[2] + 0xf00);
	ASSERT_PTR_EQ(vhu_gpa_to_hva_whole(t.mem, R2_GPA, R2_SIZE, &cache), t.buf[2]);
	table_fini(&t);
}

TEST(whole_rejects_a_range_one_byte_past_the_end_of_memory)
{
	struct table t;
	uint32_t cache = 0;

	table_init(&t);
	ASSERT_NULL(vhu_gpa_to_hva_whole(t.mem, R2_GPA + 0xf00, 0x101, &cache));
	table_fini(&t);
}

TEST(whole_rejects_a_range_spanning_two_adjacent_regions)
{
	struct table t;
	uint32_t cache = 0;

	table_init(&t);
	/* Contiguous in guest-physical space, not in ours. */
	ASSERT_NULL(vhu_gpa_to_hva_whole(t.mem, R1_GPA - 8, 16, &cache));
	table_fini(&t);
}

TEST(whole_rejects_len_0)
{
	struct table t;
	uint32_t cache = 0;

	table_init(&t);
	ASSERT_NULL(vhu_gpa_to_hva_whole(t.mem, R0_GPA, 0, &cache));
	table_fini(&t);
}

TEST(whole_rejects_a_range_outside_memory)
{
	struct table t;
	uint32_t cache = 0;

	table_init(&t);
	ASSERT_NULL(vhu_gpa_to_hva_whole(t.mem, 0x30000, 16, &cache));
	table_fini(&t);
}

TEST(whole_rejects_a_huge_len)
{
	struct table t;
	uint32_t cache = 0;

	table_init(&t);
	ASSERT_NULL(vhu_gpa_to_hva_whole(t.mem, R0_GPA, UINT64_MAX, &cache));
	ASSERT_NULL(vhu_gpa_to_hva_whole(t.mem, R0_GPA + 1, UINT64_MAX - R0_GPA, &cache));
	table_fini(&t);
}

TEST(whole_rejects_gpa_plus_len_wrapping_past_2_pow_64)
{
	struct vhu_mem *mem = vhu_mem_alloc(2);
	uint8_t *top = malloc(0x1000), *low = malloc(0x1000);
	uint32_t cache = 0;

	ASSERT_TRUE(mem != NULL && top != NULL && low != NULL);
	/* Memory at both ends, so a wrapped range would land in real memory. */
	mem->nregions = 2;
	region_set(mem, 0, 0, 0x1000, UVA, low);
	region_set(mem, 1, UINT64_MAX - 0xfff, 0x1000, UVA + 0x1000, top);
	ASSERT_NULL(vhu_gpa_to_hva_whole(mem, UINT64_MAX - 7, 16, &cache));
	ASSERT_PTR_EQ(vhu_gpa_to_hva_whole(mem, UINT64_MAX - 0xfff, 16, &cache), top);
	vhu_mem_free(mem, NULL);
	free(top);
	free(low);
}

/* ---- vhu_mem_uva_to_hva ---- */

TEST(uva_to_hva_translates_a_range_inside_a_region)
{
	struct table t;

	table_init(&t);
	ASSERT_PTR_EQ(vhu_mem_uva_to_hva(t.mem, UVA + R0_SIZE + 0x40, 0x100), t.buf[1] + 0x40);
	ASSERT_PTR_EQ(vhu_mem_uva_to_hva(t.mem, UVA + 0x100000, R2_SIZE), t.buf[2]);
	table_fini(&t);
}

TEST(uva_to_hva_rejects_a_range_one_byte_past_the_region_end)
{
	struct table t;

	table_init(&t);
	ASSERT_NULL(vhu_mem_uva_to_hva(t.mem, UVA + 0x100000 + 1, R2_SIZE));
	ASSERT_NULL(vhu_mem_uva_to_hva(t.mem, UVA + 0x100000 + R2_SIZE, 1));
	table_fini(&t);
}

TEST(uva_to_hva_rejects_a_range_spanning_two_adjacent_regions)
{
	struct table t;

	table_init(&t);
	ASSERT_NULL(vhu_mem_uva_to_hva(t.mem, UVA + R0_SIZE - 4, 8));
	table_fini(&t);
}

TEST(uva_to_hva_rejects_an_address_below_a_region)
{
	struct table t;

	table_init(&t);
	ASSERT_NULL(vhu_mem_uva_to_hva(t.mem, UVA - 1, 2));
	table_fini(&t);
}

TEST(uva_to_hva_rejects_len_0)
{
	struct table t;

	table_init(&t);
	ASSERT_NULL(vhu_mem_uva_to_hva(t.mem, UVA, 0));
	table_fini(&t);
}

TEST(uva_to_hva_rejects_a_huge_len)
{
	struct table t;

	table_init(&t);
	ASSERT_NULL(vhu_mem_uva_to_hva(t.mem, UVA + 1, UINT64_MAX));
	table_fini(&t);
}

TEST(uva_to_hva_without_a_table_returns_null)
{
	ASSERT_NULL(vhu_mem_uva_to_hva(NULL, UVA, 1));
}

/* ---- region checks used by SET_MEM_TABLE and ADD_MEM_REG ---- */

static int
check_region(uint64_t gpa, uint64_t size, uint64_t uva, uint64_t offset)
{
	struct vhost_user_mem_region d = { gpa, size, uva, offset };
	char why[160] = "";

	return vhu_mem_region_check(&d, why, sizeof(why));
}

TEST(region_check_accepts_a_region_ending_at_the_top_of_the_address_space)
{
	ASSERT_EQ(check_region(UINT64_MAX - 0xfff, 0x1000, UINT64_MAX - 0xfff, 0), 0);
}

TEST(region_check_rejects_a_guest_range_past_2_pow_64)
{
	ASSERT_EQ(check_region(UINT64_MAX - 0xfff, 0x1001, UVA, 0), -EINVAL);
}

TEST(region_check_rejects_a_frontend_range_past_2_pow_64)
{
	ASSERT_EQ(check_region(0, 0x1001, UINT64_MAX - 0xfff, 0), -EINVAL);
}

TEST(region_check_rejects_an_offset_plus_size_past_2_pow_64)
{
	ASSERT_EQ(check_region(0, 0x1000, UVA, UINT64_MAX - 0xffe), -EINVAL);
}

TEST(region_check_rejects_size_0)
{
	ASSERT_EQ(check_region(0, 0, UVA, 0), -EINVAL);
}

TEST(region_check_rejects_a_region_too_large_to_map)
{
	ASSERT_EQ(check_region(0, 1ull << 63, UVA, 0), -EINVAL);
}

TEST(region_overlap_detects_guest_and_frontend_overlaps_only)
{
	struct vhu_mem_region a = { .gpa = 0x1000, .size = 0x1000, .uva = UVA };
	struct vhu_mem_region b = a;

	b.gpa = 0x2000;			/* adjacent in guest space, same uva: overlap */
	ASSERT_TRUE(vhu_mem_region_overlap(&a, &b));
	b.uva = UVA + 0x1000;		/* adjacent in both */
	ASSERT_FALSE(vhu_mem_region_overlap(&a, &b));
	b.gpa = 0x1fff;			/* one byte shared in guest space */
	ASSERT_TRUE(vhu_mem_region_overlap(&a, &b));
	ASSERT_TRUE(vhu_mem_region_overlap(&b, &a));
	b.gpa = 0x1800;			/* contained */
	b.size = 0x100;
	ASSERT_TRUE(vhu_mem_region_overlap(&a, &b));
	ASSERT_TRUE(vhu_mem_region_overlap(&b, &a));
}

TEST(mem_sort_orders_regions_by_guest_address)
{
	struct vhu_mem *mem = vhu_mem_alloc(3);

	ASSERT_NOT_NULL(mem);
	mem->nregions = 3;
	mem->regions[0].gpa = 0x300000;
	mem->regions[1].gpa = 0x100000;
	mem->regions[2].gpa = UINT64_MAX - 0xfff;
	mem->regions[0].size = 1;
	mem->regions[1].size = 2;
	mem->regions[2].size = 3;
	vhu_mem_sort(mem);
	ASSERT_EQ(mem->regions[0].gpa, 0x100000);
	ASSERT_EQ(mem->regions[0].size, 2);
	ASSERT_EQ(mem->regions[1].gpa, 0x300000);
	ASSERT_EQ(mem->regions[2].size, 3);
	vhu_mem_free(mem, NULL);
}
