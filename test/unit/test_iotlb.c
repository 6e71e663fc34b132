/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IOTLB (vhost_iotlb.c) of a device whose front-end plays a vIOMMU:
 * UPDATE and INVALIDATE through the message path, translation and
 * permissions, hostile ranges, eviction, re-mapping after a new memory
 * table, the ring walker translating IOVAs (a miss leaves the chain for
 * later, a permission violation breaks the ring), and a ring whose areas are
 * not mapped yet asking for them on the back-end channel and starting on the
 * UPDATE. No EAL (misses are not queued without it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_dev.h"
#include "guest.h"
#include "test_harness.h"
#include "virtq_split.h"
#include "vhost_iotlb.h"

#define REGION_SIZE (64 * 1024)
#define IOVA 0x80000000ull	/* where the tests map guest memory in I/O space */

struct ix {
	struct guest g;			/* two regions, adjacent in gpa and uva */
	struct vhu_vhost_dev *dev;	/* IOMMU_PLATFORM negotiated, owns a copy of g.mem */
};

static void
ix_init(struct ix *x)
{
	guest_init(&x->g, 2, REGION_SIZE);
	x->dev = fake_dev_new(1, 0);
	x->dev->flags = VHU_VHOST_IOMMU_SUPPORT;
	x->dev->features = VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VIRTIO_F_IOMMU_PLATFORM);
	x->dev->features_set = true;
	x->dev->mem = guest_mem_copy(&x->g);
}

static void
ix_fini(struct ix *x)
{
	fake_dev_free(x->dev);
	guest_fini(&x->g);
}

/* Send IOTLB_MSG; OK or FAIL as its acknowledgement says, or CLOSE. */
static enum vhu_msg_result
iotlb_msg(struct ix *x, uint8_t type, uint64_t iova, uint64_t size, uint64_t uaddr, uint8_t perm)
{
	enum vhu_msg_result rc;
	struct vhost_user_msg m;
	char why[160] = "";

	memset(&m, 0, sizeof(m));
	m.hdr.request = VHOST_USER_IOTLB_MSG;
	m.hdr.flags = VHOST_USER_VERSION;
	m.hdr.size = sizeof(m.payload.iotlb);
	m.payload.iotlb.type = type;
	m.payload.iotlb.iova = iova;
	m.payload.iotlb.size = size;
	m.payload.iotlb.uaddr = uaddr;
	m.payload.iotlb.perm = perm;
	if (vhu_msg_validate(x->dev, &m, 0, why, sizeof(why)) != 0)
		th_fail(__FILE__, __LINE__, "IOTLB_MSG refused by validation: %s", why);
	rc = vhu_msg_handle(x->dev, &m, NULL, 0);
	if (rc == VHU_MSG_CLOSE)
		return rc;
	/* Every IOTLB message is acknowledged with a u64: 0 done, non-zero refused. */
	ASSERT_EQ(rc, VHU_MSG_REPLY);
	ASSERT_EQ(m.hdr.size, sizeof(uint64_t));
	return m.payload.u64 == 0 ? VHU_MSG_OK : VHU_MSG_FAIL;
}

/* UPDATE mapping 'size' bytes at 'iova' to guest-physical 'gpa'. */
static enum vhu_msg_result
update(struct ix *x, uint64_t iova, uint64_t size, uint64_t gpa, uint8_t perm)
{
	return iotlb_msg(x, VHOST_IOTLB_UPDATE, iova, size, GUEST_UVA(gpa), perm);
}

static enum vhu_msg_result
invalidate(struct ix *x, uint64_t iova, uint64_t size)
{
	return iotlb_msg(x, VHOST_IOTLB_INVALIDATE, iova, size, 0, 0);
}

/*
 * Ring 0 of 8 entries with its three areas at 'iova', +0x200 and +0x400,
 * set up as the messages would, and started if it can be.
 */
static struct vhu_vq *
ring_at(struct ix *x, uint64_t iova)
{
	struct vhu_vq *vq = x->dev->vq[0];

	vq->size = 8;
	vq->num_set = vq->addr_set = vq->started = vq->enabled = true;
	vq->desc_uaddr = iova;
	vq->avail_uaddr = iova + 0x200;
	vq->used_uaddr = iova + 0x400;
	vhu_vq_try_start(x->dev, vq);
	return vq;
}

/* Translate through the device's table; NULL unless VHU_MAP_OK. */
static uint8_t *
map(struct ix *x, uint64_t iova, uint64_t *len, uint8_t perm)
{
	uint8_t *p = NULL;

	if (vhu_iotlb_map(x->dev->iotlb, iova, len, perm, &p) != VHU_MAP_OK)
		return NULL;
	return p;
}

static enum vhu_map_rc
map_rc(struct ix *x, uint64_t iova, uint8_t perm)
{
	uint64_t len = 1;
	uint8_t *p;

	return vhu_iotlb_map(x->dev->iotlb, iova, &len, perm, &p);
}

/* ---- UPDATE and translation ---- */

TEST(iotlb_update_maps_an_iova_range_to_guest_memory)
{
	uint64_t len = 16;
	struct ix x;

	ix_init(&x);
	ASSERT_EQ(update(&x, IOVA, 0x2000, GUEST_GPA + 0x1000, VHOST_ACCESS_RW), VHU_MSG_OK);
	ASSERT_PTR_EQ(map(&x, IOVA + 0x10, &len, VHOST_ACCESS_RW),
		      guest_ptr(&x.g, GUEST_GPA + 0x1010));
	ASSERT_EQ(len, 16);
	ASSERT_EQ(x.dev->iotlb_updates, 1);
	ix_fini(&x);
}

TEST(iotlb_map_cuts_len_at_the_end_of_the_entry)
{
	uint64_t len = 0x100;
	struct ix x;

	ix_init(&x);
	ASSERT_EQ(update(&x, IOVA, 0x1000, GUEST_GPA, VHOST_ACCESS_RO), VHU_MSG_OK);
	ASSERT_PTR_EQ(map(&x, IOVA + 0xff0, &len, VHOST_ACCESS_RO),
		      guest_ptr(&x.g, GUEST_GPA + 0xff0));
	ASSERT_EQ(len, 0x10);
	ix_fini(&x);
}

TEST(iotlb_map_misses_just_outside_the_entry)
{
	struct ix x;

	ix_init(&x);
	ASSERT_EQ(map_rc(&x, IOVA, VHOST_ACCESS_RO), VHU_MAP_MISS);	/* empty table */
	ASSERT_EQ(update(&x, IOVA, 0x1000, GUEST_GPA, VHOST_ACCESS_RO), VHU_MSG_OK);
	ASSERT_EQ(map_rc(&x, IOVA - 1, VHOST_ACCESS_RO), VHU_MAP_MISS);
	ASSERT_EQ(map_rc(&x, IOVA + 0x1000, VHOST_ACCESS_RO), VHU_MAP_MISS);
	ASSERT_EQ(map_rc(&x, IOVA + 0xfff, VHOST_ACCESS_RO), VHU_MAP_OK);
	ix_fini(&x);
}

TEST(iotlb_map_enforces_the_entry_permission)
{
	struct ix x;

	ix_init(&x);
	ASSERT_EQ(update(&x, IOVA, 0x1000, GUEST_GPA, VHOST_ACCESS_RO), VHU_MSG_OK);
	ASSERT_EQ(update(&x, IOVA + 0x1000, 0x1000, GUEST_GPA + 0x1000, VHOST_ACCESS_WO),
		  VHU_MSG_OK);
	ASSERT_EQ(map_rc(&x, IOVA, VHOST_ACCESS_WO), VHU_MAP_DENIED);
	ASSERT_EQ(map_rc(&x, IOVA, VHOST_ACCESS_RW), VHU_MAP_DENIED);
	ASSERT_EQ(map_rc(&x, IOVA + 0x1000, VHOST_ACCESS_RO), VHU_MAP_DENIED);
	ASSERT_EQ(map_rc(&x, IOVA + 0x1000, VHOST_ACCESS_WO), VHU_MAP_OK);
	ix_fini(&x);
}

TEST(iotlb_update_across_two_regions_makes_one_entry_per_region)
{
	uint64_t boundary, len = 0x40;
	struct ix x;

	ix_init(&x);
	boundary = guest_region_gpa(&x.g, 1);
	ASSERT_EQ(update(&x, IOVA, 0x40, boundary - 0x10, VHOST_ACCESS_RW), VHU_MSG_OK);
	ASSERT_EQ(x.dev->iotlb->n, 2);
	ASSERT_PTR_EQ(map(&x, IOVA, &len, VHOST_ACCESS_RO), guest_ptr(&x.g, boundary - 0x10));
	ASSERT_EQ(len, 0x10);
	len = 0x30;
	ASSERT_PTR_EQ(map(&x, IOVA + 0x10, &len, VHOST_ACCESS_RO), x.g.hva[1]);
	ASSERT_EQ(len, 0x30);
	ix_fini(&x);
}

/* ---- hostile updates ---- */

static void
check_bad_update(uint8_t type, uint64_t iova, uint64_t size, uint64_t uaddr, uint8_t perm)
{
	struct ix x;

	ix_init(&x);
	ASSERT_EQ(update(&x, IOVA, 0x1000, GUEST_GPA, VHOST_ACCESS_RW), VHU_MSG_OK);
	ASSERT_EQ(iotlb_msg(&x, type, iova, size, uaddr, perm), VHU_MSG_FAIL);
	/* The table is what it was. */
	ASSERT_EQ(x.dev->iotlb->n, 1);
	ASSERT_EQ(x.dev->iotlb->e[0].iova, IOVA);
	ASSERT_EQ(x.dev->iotlb->e[0].size, 0x1000);
	ix_fini(&x);
}

TEST(iotlb_update_of_memory_the_frontend_never_shared_is_refused)
{
	check_bad_update(VHOST_IOTLB_UPDATE, IOVA + 0x10000, 0x1000, GUEST_UVA(0x40000000),
			 VHOST_ACCESS_RW);
}

TEST(iotlb_update_running_past_guest_memory_is_refused)
{
	check_bad_update(VHOST_IOTLB_UPDATE, IOVA + 0x10000, 0x2000,
			 GUEST_UVA(GUEST_GPA + 2 * REGION_SIZE - 0x1000), VHOST_ACCESS_RW);
}

TEST(iotlb_update_of_size_0_is_refused)
{
	check_bad_update(VHOST_IOTLB_UPDATE, IOVA + 0x10000, 0, GUEST_UVA(GUEST_GPA),
			 VHOST_ACCESS_RW);
}

TEST(iotlb_update_whose_iova_range_wraps_is_refused)
{
	check_bad_update(VHOST_IOTLB_UPDATE, UINT64_MAX - 0xfff, 0x2000, GUEST_UVA(GUEST_GPA),
			 VHOST_ACCESS_RW);
}

TEST(iotlb_update_whose_uaddr_range_wraps_is_refused)
{
	check_bad_update(VHOST_IOTLB_UPDATE, IOVA + 0x10000, 0x2000, UINT64_MAX - 0xfff,
			 VHOST_ACCESS_RW);
}

TEST(iotlb_update_without_permission_is_refused)
{
	check_bad_update(VHOST_IOTLB_UPDATE, IOVA + 0x10000, 0x1000, GUEST_UVA(GUEST_GPA), 0);
}

TEST(iotlb_update_with_an_unknown_permission_is_refused)
{
	check_bad_update(VHOST_IOTLB_UPDATE, IOVA + 0x10000, 0x1000, GUEST_UVA(GUEST_GPA), 4);
}

TEST(iotlb_miss_from_the_frontend_is_refused)
{
	check_bad_update(VHOST_IOTLB_MISS, IOVA, 0x1000, 0, VHOST_ACCESS_RW);
}

TEST(iotlb_access_fail_from_the_frontend_is_refused)
{
	check_bad_update(VHOST_IOTLB_ACCESS_FAIL, IOVA, 0x1000, 0, VHOST_ACCESS_RW);
}

TEST(iotlb_unknown_message_type_is_refused)
{
	check_bad_update(200, IOVA, 0x1000, 0, VHOST_ACCESS_RW);
}

TEST(iotlb_message_without_iommu_platform_is_refused)
{
	struct ix x;

	ix_init(&x);
	x.dev->features = VHU_BIT(VIRTIO_F_VERSION_1);
	ASSERT_EQ(update(&x, IOVA, 0x1000, GUEST_GPA, VHOST_ACCESS_RW), VHU_MSG_FAIL);
	ASSERT_NULL(x.dev->iotlb);
	ix_fini(&x);
}

/* ---- replacing and withdrawing entries ---- */

TEST(iotlb_update_replaces_the_overlapped_part_of_an_older_entry)
{
	uint64_t len = 1;
	struct ix x;

	ix_init(&x);
	ASSERT_EQ(update(&x, IOVA, 0x3000, GUEST_GPA, VHOST_ACCESS_RW), VHU_MSG_OK);
	ASSERT_EQ(update(&x, IOVA + 0x1000, 0x1000, GUEST_GPA + 0x8000, VHOST_ACCESS_RO),
		  VHU_MSG_OK);
	ASSERT_EQ(x.dev->iotlb->n, 3);
	ASSERT_PTR_EQ(map(&x, IOVA + 0xfff, &len, VHOST_ACCESS_RO),
		      guest_ptr(&x.g, GUEST_GPA + 0xfff));
	ASSERT_PTR_EQ(map(&x, IOVA + 0x1000, &len, VHOST_ACCESS_RO),
		      guest_ptr(&x.g, GUEST_GPA + 0x8000));
	ASSERT_EQ(map_rc(&x, IOVA + 0x1000, VHOST_ACCESS_WO), VHU_MAP_DENIED);
	ASSERT_PTR_EQ(map(&x, IOVA + 0x2000, &len, VHOST_ACCESS_WO),
		      guest_ptr(&x.g, GUEST_GPA + 0x2000));
	ix_fini(&x);
}

TEST(iotlb_invalidate_carves_a_hole_and_keeps_both_ends)
{
	uint64_t len = 0x2000;
	struct ix x;

	ix_init(&x);
	ASSERT_EQ(update(&x, IOVA, 0x3000, GUEST_GPA, VHOST_ACCESS_RW), VHU_MSG_OK);
	ASSERT_EQ(invalidate(&x, IOVA + 0x1000, 0x1000), VHU_MSG_OK);
	ASSERT_EQ(x.dev->iotlb_invalidations, 1);
	ASSERT_EQ(map_rc(&x, IOVA + 0x1000, VHOST_ACCESS_RO), VHU_MAP_MISS);
	ASSERT_EQ(map_rc(&x, IOVA + 0x1fff, VHOST_ACCESS_RO), VHU_MAP_MISS);
	ASSERT_PTR_EQ(map(&x, IOVA, &len, VHOST_ACCESS_RO), guest_ptr(&x.g, GUEST_GPA));
	ASSERT_EQ(len, 0x1000);
	len = 0x2000;
	ASSERT_PTR_EQ(map(&x, IOVA + 0x2000, &len, VHOST_ACCESS_RO),
		      guest_ptr(&x.g, GUEST_GPA + 0x2000));
	ASSERT_EQ(len, 0x1000);
	ix_fini(&x);
}

TEST(iotlb_invalidate_of_everything_empties_the_table)
{
	struct ix x;

	ix_init(&x);
	ASSERT_EQ(update(&x, IOVA, 0x1000, GUEST_GPA, VHOST_ACCESS_RW), VHU_MSG_OK);
	ASSERT_EQ(update(&x, 0, 0x1000, GUEST_GPA, VHOST_ACCESS_RW), VHU_MSG_OK);
	ASSERT_EQ(invalidate(&x, 0, UINT64_MAX), VHU_MSG_OK);
	ASSERT_EQ(x.dev->iotlb->n, 0);
	ASSERT_EQ(map_rc(&x, 0, VHOST_ACCESS_RO), VHU_MAP_MISS);
	ix_fini(&x);
}

TEST(iotlb_invalidate_whose_range_wraps_is_refused)
{
	check_bad_update(VHOST_IOTLB_INVALIDATE, IOVA, UINT64_MAX, 0, 0);
}

TEST(iotlb_entries_stay_sorted_whatever_the_update_order)
{
	static const uint64_t order[5] = { 3, 0, 4, 1, 2 };
	uint64_t len;
	struct ix x;
	uint32_t i;

	ix_init(&x);
	for (i = 0; i < 5; i++)
		ASSERT_EQ(update(&x, IOVA + order[i] * 0x1000, 0x1000,
				 GUEST_GPA + order[i] * 0x1000, VHOST_ACCESS_RW), VHU_MSG_OK);
	ASSERT_EQ(x.dev->iotlb->n, 5);
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(x.dev->iotlb->e[i].iova, IOVA + i * 0x1000);
		len = 1;
		ASSERT_PTR_EQ(map(&x, IOVA + i * 0x1000 + 7, &len, VHOST_ACCESS_RO),
			      guest_ptr(&x.g, GUEST_GPA + i * 0x1000 + 7));
	}
	ix_fini(&x);
}

TEST(iotlb_full_table_evicts_the_lowest_entries)
{
	uint32_t i, n = VHU_IOTLB_MAX_ENTRIES + 16;
	struct ix x;

	ix_init(&x);
	for (i = 0; i < n; i++)
		ASSERT_EQ(update(&x, IOVA + (uint64_t)i * 0x1000, 0x10, GUEST_GPA + (i % 16) * 16,
				 VHOST_ACCESS_RW), VHU_MSG_OK);
	ASSERT_LT(x.dev->iotlb->n, VHU_IOTLB_MAX_ENTRIES);
	ASSERT_EQ(map_rc(&x, IOVA + (uint64_t)(n - 1) * 0x1000, VHOST_ACCESS_RO), VHU_MAP_OK);
	ASSERT_EQ(map_rc(&x, IOVA, VHOST_ACCESS_RO), VHU_MAP_MISS);
	ix_fini(&x);
}

TEST(iotlb_new_memory_table_remaps_entries_and_drops_orphans)
{
	uint8_t *moved = aligned_alloc(4096, REGION_SIZE);
	struct vhu_mem *mem;
	uint64_t len = 1;
	struct ix x;

	ASSERT_NOT_NULL(moved);
	ix_init(&x);
	ASSERT_EQ(update(&x, IOVA, 0x1000, GUEST_GPA, VHOST_ACCESS_RW), VHU_MSG_OK);
	ASSERT_EQ(update(&x, IOVA + 0x100000, 0x1000, guest_region_gpa(&x.g, 1),
			 VHOST_ACCESS_RW), VHU_MSG_OK);
	/* Region 0 now lives elsewhere in our space; region 1 is gone. */
	mem = vhu_mem_alloc(1);
	ASSERT_NOT_NULL(mem);
	mem->nregions = 1;
	mem->regions[0] = x.g.mem->regions[0];
	mem->regions[0].hva = (uint64_t)(uintptr_t)moved;
	vhu_dev_replace_mem(x.dev, mem);
	ASSERT_PTR_EQ(map(&x, IOVA + 8, &len, VHOST_ACCESS_RO), moved + 8);
	ASSERT_EQ(map_rc(&x, IOVA + 0x100000, VHOST_ACCESS_RO), VHU_MAP_MISS);
	ix_fini(&x);
	free(moved);
}

TEST(iotlb_is_dropped_by_a_device_reset)
{
	struct ix x;

	ix_init(&x);
	ASSERT_EQ(update(&x, IOVA, 0x1000, GUEST_GPA, VHOST_ACCESS_RW), VHU_MSG_OK);
	ASSERT_NOT_NULL(x.dev->iotlb);
	vhu_dev_reset(x.dev);
	ASSERT_NULL(x.dev->iotlb);
	ix_fini(&x);
}

/* ---- the ring walker behind a vIOMMU ---- */

/* Ring 0 of the device, laid out in guest memory, addressing buffers by IOVA. */
static struct vhu_vq *
iommu_ring(struct ix *x)
{
	struct vhu_vq *vq = x->dev->vq[0];

	guest_ring_init(&x->g, vq, 8);
	vq->iommu = true;
	vq->iotlb = x->dev->iotlb;
	return vq;
}

TEST(gather_translates_iovas_through_the_iotlb)
{
	struct vhu_buf_vec vec[4];
	uint64_t total = 0;
	uint32_t nvec = 0;
	struct vhu_vq *vq;
	struct ix x;

	ix_init(&x);
	ASSERT_EQ(update(&x, IOVA, 0x1000, GUEST_GPA + 0x8000, VHOST_ACCESS_RO), VHU_MSG_OK);
	vq = iommu_ring(&x);
	drv_desc(vq, 0, IOVA + 0x100, 64, 0, 0);
	ASSERT_EQ(vhu_split_gather(vq, 0, false, vec, &nvec, &total), VHU_CHAIN_OK);
	ASSERT_EQ(nvec, 1);
	ASSERT_PTR_EQ(vec[0].addr, guest_ptr(&x.g, GUEST_GPA + 0x8100));
	ASSERT_EQ(total, 64);
	ix_fini(&x);
}

TEST(gather_on_an_iotlb_miss_retries_without_breaking)
{
	struct vhu_buf_vec vec[4];
	uint64_t total = 0;
	uint32_t nvec = 0;
	struct vhu_vq *vq;
	struct ix x;

	ix_init(&x);
	ASSERT_EQ(update(&x, IOVA, 0x1000, GUEST_GPA + 0x8000, VHOST_ACCESS_RO), VHU_MSG_OK);
	vq = iommu_ring(&x);
	drv_desc(vq, 0, IOVA + 0x1000, 64, 0, 0);	/* just past the entry */
	ASSERT_EQ(vhu_split_gather(vq, 0, false, vec, &nvec, &total), VHU_CHAIN_RETRY);
	ASSERT_FALSE(vq->broken);
	ASSERT_EQ(vq->stats.errors, 0);
	ASSERT_EQ(vq->miss_iova, IOVA + 0x1000);
	ix_fini(&x);
}

TEST(gather_writing_through_a_read_only_iotlb_entry_breaks_the_ring)
{
	struct vhu_buf_vec vec[4];
	uint64_t total = 0;
	uint32_t nvec = 0;
	struct vhu_vq *vq;
	struct ix x;

	ix_init(&x);
	ASSERT_EQ(update(&x, IOVA, 0x1000, GUEST_GPA + 0x8000, VHOST_ACCESS_RO), VHU_MSG_OK);
	vq = iommu_ring(&x);
	drv_desc(vq, 0, IOVA, 64, VRING_DESC_F_WRITE, 0);
	ASSERT_EQ(vhu_split_gather(vq, 0, true, vec, &nvec, &total), VHU_CHAIN_BROKEN);
	ASSERT_TRUE(vq->broken);
	ASSERT_STR_CONTAINS(vq->broken_reason, "without write access");
	ix_fini(&x);
}

TEST(gather_accepts_an_indirect_table_over_two_adjacent_iotlb_entries)
{
	struct vring_desc *table;
	struct vhu_buf_vec vec[4];
	uint64_t total = 0;
	uint32_t nvec = 0;
	struct vhu_vq *vq;
	struct ix x;

	ix_init(&x);
	/* Two entries, one per 16-byte descriptor, contiguous on our side too. */
	ASSERT_EQ(update(&x, IOVA, 16, GUEST_GPA + 0x8000, VHOST_ACCESS_RO), VHU_MSG_OK);
	ASSERT_EQ(update(&x, IOVA + 16, 16, GUEST_GPA + 0x8010, VHOST_ACCESS_RO), VHU_MSG_OK);
	ASSERT_EQ(update(&x, IOVA + 0x1000, 0x100, GUEST_GPA + 0x9000, VHOST_ACCESS_RO),
		  VHU_MSG_OK);
	vq = iommu_ring(&x);
	table = guest_ptr(&x.g, GUEST_GPA + 0x8000);
	drv_table(table, 0, IOVA + 0x1000, 32, VRING_DESC_F_NEXT, 1);
	drv_table(table, 1, IOVA + 0x1020, 32, 0, 0);
	drv_desc(vq, 0, IOVA, 32, VRING_DESC_F_INDIRECT, 0);
	ASSERT_EQ(vhu_split_gather(vq, 0, false, vec, &nvec, &total), VHU_CHAIN_OK);
	ASSERT_EQ(nvec, 2);
	ASSERT_EQ(total, 64);
	ix_fini(&x);
}

TEST(gather_breaks_on_an_indirect_table_over_scattered_iotlb_entries)
{
	struct vhu_buf_vec vec[4];
	uint64_t total = 0;
	uint32_t nvec = 0;
	struct vhu_vq *vq;
	struct ix x;

	ix_init(&x);
	ASSERT_EQ(update(&x, IOVA, 16, GUEST_GPA + 0x8000, VHOST_ACCESS_RO), VHU_MSG_OK);
	ASSERT_EQ(update(&x, IOVA + 16, 16, GUEST_GPA + 0xa000, VHOST_ACCESS_RO), VHU_MSG_OK);
	vq = iommu_ring(&x);
	drv_desc(vq, 0, IOVA, 32, VRING_DESC_F_INDIRECT, 0);
	ASSERT_EQ(vhu_split_gather(vq, 0, false, vec, &nvec, &total), VHU_CHAIN_BROKEN);
	ASSERT_STR_CONTAINS(vq->broken_reason, "not contiguous");
	ix_fini(&x);
}

/* ---- ring start behind a vIOMMU ---- */

static void
send_ok(struct vhu_vhost_dev *dev, struct vhost_user_msg *m, int *fds, int nfds)
{
	char why[160] = "";

	if (vhu_msg_validate(dev, m, nfds, why, sizeof(why)) != 0)
		th_fail(__FILE__, __LINE__, "%s refused: %s", vhu_msg_name(m->hdr.request), why);
	ASSERT_EQ(vhu_msg_handle(dev, m, fds, nfds), VHU_MSG_OK);
}

TEST(ring_behind_a_viommu_asks_for_its_areas_and_starts_on_the_update)
{
	struct vhost_user_msg m, miss;
	int sv[2];
	struct ix x;
	ssize_t n;

	ix_init(&x);
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	x.dev->backend_req_fd = sv[0];	/* closed by the reset */
	memset(&m, 0, sizeof(m));
	m.hdr.flags = VHOST_USER_VERSION;
	m.hdr.request = VHOST_USER_SET_VRING_NUM;
	m.hdr.size = sizeof(m.payload.state);
	m.payload.state.num = 8;
	send_ok(x.dev, &m, NULL, 0);
	memset(&m.payload, 0, sizeof(m.payload));
	m.hdr.request = VHOST_USER_SET_VRING_ADDR;
	m.hdr.size = sizeof(m.payload.addr);
	m.payload.addr.index = 0;
	m.payload.addr.desc_user_addr = IOVA;
	m.payload.addr.avail_user_addr = IOVA + 0x200;
	m.payload.addr.used_user_addr = IOVA + 0x400;
	send_ok(x.dev, &m, NULL, 0);
	memset(&m.payload, 0, sizeof(m.payload));
	m.hdr.request = VHOST_USER_SET_VRING_KICK;
	m.hdr.size = sizeof(m.payload.u64);
	m.payload.u64 = VHOST_USER_VRING_NOFD_MASK;
	send_ok(x.dev, &m, NULL, 0);
	ASSERT_FALSE(x.dev->vq[0]->ready);

	/* The first MISS asks for the descriptor table. */
	memset(&miss, 0, sizeof(miss));
	n = recv(sv[1], vhost_user_msg_wire(&miss),
		 VHOST_USER_HDR_SIZE + sizeof(miss.payload.iotlb), 0);
	ASSERT_EQ(n, VHOST_USER_HDR_SIZE + sizeof(miss.payload.iotlb));
	ASSERT_EQ(miss.hdr.request, VHOST_USER_BACKEND_IOTLB_MSG);
	ASSERT_EQ(miss.payload.iotlb.type, VHOST_IOTLB_MISS);
	ASSERT_EQ(miss.payload.iotlb.iova, IOVA);
	ASSERT_GE(x.dev->iotlb_misses, 1);

	ASSERT_EQ(update(&x, IOVA, 0x1000, GUEST_GPA + 0x8000, VHOST_ACCESS_RW), VHU_MSG_OK);
	ASSERT_TRUE(x.dev->vq[0]->ready);
	ASSERT_PTR_EQ(x.dev->vq[0]->desc, guest_ptr(&x.g, GUEST_GPA + 0x8000));
	ASSERT_PTR_EQ(x.dev->vq[0]->used, guest_ptr(&x.g, GUEST_GPA + 0x8400));
	ASSERT_TRUE(x.dev->vq[0]->iommu);
	close(sv[1]);
	ix_fini(&x);
}

TEST(invalidating_a_ring_area_stops_the_ring_until_the_next_update)
{
	struct vhu_vq *vq;
	struct ix x;

	ix_init(&x);
	ASSERT_EQ(update(&x, IOVA, 0x1000, GUEST_GPA + 0x8000, VHOST_ACCESS_RW), VHU_MSG_OK);
	vq = ring_at(&x, IOVA);
	ASSERT_TRUE(vq->ready);
	ASSERT_EQ(invalidate(&x, IOVA + 0x400, 0x100), VHU_MSG_OK);
	ASSERT_FALSE(vq->ready);
	ASSERT_EQ(update(&x, IOVA + 0x400, 0x100, GUEST_GPA + 0x8400, VHOST_ACCESS_RW), VHU_MSG_OK);
	ASSERT_TRUE(vq->ready);
	ix_fini(&x);
}

/*
 * The stopped ring asks for the withdrawn area at once: a front-end like QEMU
 * sends an UPDATE only to answer a MISS, and no burst runs on a stopped ring
 * to post one, so without it the ring would never start again.
 */
TEST(invalidating_a_ring_area_asks_for_it_again)
{
	struct vhost_user_msg miss;
	struct vhu_vq *vq;
	int sv[2];
	struct ix x;
	ssize_t n;

	ix_init(&x);
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	x.dev->backend_req_fd = sv[0];	/* closed by the reset */
	ASSERT_EQ(update(&x, IOVA, 0x1000, GUEST_GPA + 0x8000, VHOST_ACCESS_RW), VHU_MSG_OK);
	vq = ring_at(&x, IOVA);
	ASSERT_TRUE(vq->ready);
	ASSERT_EQ(x.dev->iotlb_misses, 0);

	ASSERT_EQ(invalidate(&x, IOVA + 0x400, 0x100), VHU_MSG_OK);
	ASSERT_FALSE(vq->ready);
	memset(&miss, 0, sizeof(miss));
	n = recv(sv[1], vhost_user_msg_wire(&miss),
		 VHOST_USER_HDR_SIZE + sizeof(miss.payload.iotlb), 0);
	ASSERT_EQ(n, VHOST_USER_HDR_SIZE + sizeof(miss.payload.iotlb));
	ASSERT_EQ(miss.hdr.request, VHOST_USER_BACKEND_IOTLB_MSG);
	ASSERT_EQ(miss.payload.iotlb.type, VHOST_IOTLB_MISS);
	ASSERT_EQ(miss.payload.iotlb.iova, IOVA + 0x400);
	ASSERT_EQ(miss.payload.iotlb.perm, VHOST_ACCESS_RW);
	ASSERT_EQ(x.dev->iotlb_misses, 1);

	/* The answer starts it again. */
	ASSERT_EQ(update(&x, IOVA + 0x400, 0x100, GUEST_GPA + 0x8400, VHOST_ACCESS_RW), VHU_MSG_OK);
	ASSERT_TRUE(vq->ready);
	close(sv[1]);
	ix_fini(&x);
}

/*
 * The same, with the ring in the last page of the 64-bit I/O space: the
 * check of which rings an invalidation touches must not wrap around 2^64
 * and miss it (the ring would go on using memory the vIOMMU took back).
 */
TEST(invalidating_a_ring_area_at_the_top_of_io_space_stops_the_ring)
{
	const uint64_t top = 0xfffffffffffff000ull;
	struct vhu_vq *vq;
	struct ix x;

	ix_init(&x);
	ASSERT_EQ(update(&x, top, 0x1000, GUEST_GPA + 0x8000, VHOST_ACCESS_RW), VHU_MSG_OK);
	vq = ring_at(&x, top);
	ASSERT_TRUE(vq->ready);
	ASSERT_EQ(invalidate(&x, top + 0x400, 0x100), VHU_MSG_OK);
	ASSERT_FALSE(vq->ready);
	ix_fini(&x);
}

/* An aligned IOVA mapped to a misaligned place: the ring must not run misaligned. */
TEST(ring_mapped_by_the_iotlb_to_a_misaligned_place_does_not_run)
{
	struct vhu_vq *vq;
	struct ix x;

	ix_init(&x);
	ASSERT_EQ(update(&x, IOVA, 0x1000, GUEST_GPA + 0x8002, VHOST_ACCESS_RW), VHU_MSG_OK);
	vq = ring_at(&x, IOVA);
	ASSERT_FALSE(vq->ready && (((uintptr_t)vq->desc & 15) != 0 ||
				   ((uintptr_t)vq->used & 3) != 0));
	ix_fini(&x);
}
