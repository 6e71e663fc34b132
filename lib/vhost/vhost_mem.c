/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest memory: regions the front-end shares with us by fd, and address
 * translation. Every number in a region description comes from the peer and
 * is checked for overflow, and every region must lie inside the file that
 * backs it, so that no later access can fault (SIGBUS past the end of a
 * memfd or hugetlbfs file) or reach outside the mapping.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_malloc.h>

#include "vhost_private.h"

struct vhu_mem *
vhu_mem_alloc(uint32_t nregions)
{
	struct vhu_mem *mem;

	mem = calloc(1, sizeof(*mem) + (size_t)nregions * sizeof(mem->regions[0]));
	return mem;
}

static bool
mem_holds_mapping(const struct vhu_mem *mem, const void *addr)
{
	uint32_t i;

	if (mem == NULL)
		return false;
	for (i = 0; i < mem->nregions; i++)
		if (mem->regions[i].mmap_addr == addr)
			return true;
	return false;
}

/* Unmap the regions of 'mem' that neither 'keep' nor a table on the retired
 * list 'rest' holds, and free 'mem'. */
static void
mem_free_unless_held(struct vhu_mem *mem, const struct vhu_mem *keep, const struct vhu_mem *rest)
{
	uint32_t i;

	if (mem == NULL)
		return;
	for (i = 0; i < mem->nregions; i++) {
		struct vhu_mem_region *r = &mem->regions[i];
		const struct vhu_mem *t;
		bool held = mem_holds_mapping(keep, r->mmap_addr);

		for (t = rest; t != NULL && !held; t = t->retired_next)
			held = mem_holds_mapping(t, r->mmap_addr);
		if (r->mmap_addr != NULL && !held)
			munmap(r->mmap_addr, r->mmap_size);
	}
	free(mem);
}

void
vhu_mem_free(struct vhu_mem *mem, const struct vhu_mem *keep)
{
	mem_free_unless_held(mem, keep, NULL);
}

/*
 * Retired tables. A device type whose work outlives a ring stop (blk: I/O a
 * ring stop did not wait out) may still write guest memory of a table the
 * front-end has since replaced; unmapping it would make that write fault,
 * or land in whatever is mapped at that address next. Such a table stays
 * mapped on the device's retired list until the device type says that work
 * is over, which the control thread asks at each table change and once a
 * second (a tick, only while the list is not empty). Tables share mappings
 * (ADD/REM_MEM_REG copy the others' regions): a mapping is unmapped with
 * the last table, current or retired, that holds it.
 *
 * A reset (the front-end left or reset the device) also retires the table
 * of a device the application was told runs (mem_stop_owed): its
 * device_stopping comes after the reset, and until it returns the
 * application may still read guest memory it found through the table
 * (DPDK's destroy_device promises as much). vhu_dev_stop_told() unmaps it.
 */

static void
mem_free_retired(struct vhu_vhost_dev *dev)
{
	while (dev->mem_retired != NULL) {
		struct vhu_mem *m = dev->mem_retired;

		dev->mem_retired = m->retired_next;
		mem_free_unless_held(m, dev->mem, dev->mem_retired);
	}
}

bool
vhu_dev_reap_mem(struct vhu_vhost_dev *dev)
{
	if (dev->mem_retired == NULL)
		return false;
	if (dev->mem_stop_owed)
		return true;
	if (dev->type->mem_held != NULL && dev->type->mem_held(dev))
		return true;
	mem_free_retired(dev);
	return false;
}

static void
mem_retired_tick(void *arg)
{
	struct vhu_vhost_dev *dev = arg;

	if (vhu_dev_reap_mem(dev))
		return;
	VHU_LOG(INFO, "%s: the I/O left out by a ring stop is over; replaced guest memory unmapped",
		dev->path);
	vhu_ctrl_remove_tick(mem_retired_tick, dev);
	dev->mem_retired_tick = false;
}

void
vhu_dev_release_mem(struct vhu_vhost_dev *dev, struct vhu_mem *old)
{
	struct vhu_mem **tail = &dev->mem_retired;

	/* On the list first, so that its mappings are counted as held while the
	 * older tables are freed. */
	while (*tail != NULL)
		tail = &(*tail)->retired_next;
	if (old != NULL) {
		old->retired_next = NULL;
		*tail = old;
	}
	if (!vhu_dev_reap_mem(dev) || old == NULL)
		return;
	/* Waiting for the application, which is no news; the tick is for the
	 * device type's I/O. */
	if (dev->mem_stop_owed)
		return;
	VHU_LOG(WARNING,
		"%s: guest memory replaced while I/O a ring stop did not wait out may "
		"still write it: the old table stays mapped until that I/O completes",
		dev->path);
	if (!dev->mem_retired_tick && vhu_ctrl_add_tick(mem_retired_tick, dev) == 0)
		dev->mem_retired_tick = true;
}

void
vhu_dev_stop_told(struct vhu_vhost_dev *dev)
{
	if (!dev->mem_stop_owed)
		return;
	dev->mem_stop_owed = false;
	if (vhu_dev_reap_mem(dev)) {
		/* The device type's I/O still writes it: its tick takes over. */
		if (!dev->mem_retired_tick && vhu_ctrl_add_tick(mem_retired_tick, dev) == 0)
			dev->mem_retired_tick = true;
		return;
	}
	if (dev->mem_retired_tick) {
		vhu_ctrl_remove_tick(mem_retired_tick, dev);
		dev->mem_retired_tick = false;
	}
}

void
vhu_dev_drop_retired_mem(struct vhu_vhost_dev *dev)
{
	/* The application is not told any more: no reason to keep it. */
	dev->mem_stop_owed = false;
	dev->ev_told = false;
	if (dev->mem_retired_tick) {
		vhu_ctrl_remove_tick(mem_retired_tick, dev);
		dev->mem_retired_tick = false;
	}
	if (vhu_dev_reap_mem(dev)) {
		VHU_LOG(ERR,
			"%s: freed with I/O still out on it; unmapping its guest memory anyway "
			"(complete every request before destroying the device)",
			dev->path);
		mem_free_retired(dev);
	}
}

int
vhu_mem_region_check(const struct vhost_user_mem_region *d, char *why, size_t why_len)
{
	uint64_t end;

	if (d->memory_size == 0) {
		snprintf(why, why_len, "region at gpa 0x%" PRIx64 " has size 0", d->guest_phys_addr);
		return -EINVAL;
	}
	if (__builtin_add_overflow(d->guest_phys_addr, d->memory_size - 1, &end) ||
	    __builtin_add_overflow(d->userspace_addr, d->memory_size - 1, &end) ||
	    __builtin_add_overflow(d->mmap_offset, d->memory_size, &end)) {
		snprintf(why, why_len,
			 "region gpa 0x%" PRIx64 " size 0x%" PRIx64 " offset 0x%" PRIx64
			 " overflows 64 bits", d->guest_phys_addr, d->memory_size, d->mmap_offset);
		return -EINVAL;
	}
	if (end > (uint64_t)SIZE_MAX / 2) {
		snprintf(why, why_len, "region end 0x%" PRIx64 " is larger than can be mapped", end);
		return -EINVAL;
	}
	return 0;
}

int
vhu_mem_region_map(struct vhu_mem_region *reg, const struct vhost_user_mem_region *d, int fd,
		   char *why, size_t why_len)
{
	struct stat st;
	uint64_t need, align, map_len, map_off;
	void *addr;
	int rc;

	rc = vhu_mem_region_check(d, why, why_len);
	if (rc != 0)
		return rc;
	if (fstat(fd, &st) != 0) {
		snprintf(why, why_len, "cannot stat region fd: %s", strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "region fd is not a memory file (memfd or hugetlbfs)");
		return -EINVAL;
	}
	need = d->mmap_offset + d->memory_size; /* checked above */
	if ((uint64_t)st.st_size < need) {
		snprintf(why, why_len,
			 "region needs 0x%" PRIx64 " bytes but its file holds only 0x%" PRIx64,
			 need, (uint64_t)st.st_size);
		return -EINVAL;
	}
	/* hugetlbfs reports its page size as the block size; a mapping must start
	 * on a page of that size. Map only the region, from the page holding
	 * its first byte, not the whole file before it. */
	align = st.st_blksize > 0 ? (uint64_t)st.st_blksize : 4096;
	if ((align & (align - 1)) != 0 || align < 4096)
		align = 4096;
	map_off = RTE_ALIGN_FLOOR(d->mmap_offset, align);
	map_len = RTE_ALIGN_CEIL(need - map_off, align);
	if (map_off + map_len > (uint64_t)st.st_size)
		map_len = need - map_off; /* not hugetlbfs: the partial tail page is fine */
	addr = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)map_off);
	if (addr == MAP_FAILED) {
		rc = -errno;
		snprintf(why, why_len, "cannot map 0x%" PRIx64 " bytes of guest memory: %s", map_len,
			 strerror(errno));
		return rc;
	}
	reg->gpa = d->guest_phys_addr;
	reg->size = d->memory_size;
	reg->uva = d->userspace_addr;
	reg->hva = (uint64_t)(uintptr_t)addr + (d->mmap_offset - map_off);
	reg->mmap_addr = addr;
	reg->mmap_size = map_len;
	reg->refs = 1;
	return 0;
}

static bool
ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	/* Inclusive ends cannot overflow: regions were checked. */
	return a <= b + (blen - 1) && b <= a + (alen - 1);
}

bool
vhu_mem_region_overlap(const struct vhu_mem_region *a, const struct vhu_mem_region *b)
{
	return ranges_overlap(a->gpa, a->size, b->gpa, b->size) ||
	       ranges_overlap(a->uva, a->size, b->uva, b->size);
}

static int
region_cmp(const void *a, const void *b)
{
	const struct vhu_mem_region *ra = a, *rb = b;

	return ra->gpa < rb->gpa ? -1 : ra->gpa > rb->gpa;
}

void
vhu_mem_sort(struct vhu_mem *mem)
{
	qsort(mem->regions, mem->nregions, sizeof(mem->regions[0]), region_cmp);
}

void *
vhu_mem_uva_to_hva(const struct vhu_mem *mem, uint64_t uva, uint64_t len)
{
	uint32_t i;

	if (mem == NULL || len == 0)
		return NULL;
	for (i = 0; i < mem->nregions; i++) {
		const struct vhu_mem_region *r = &mem->regions[i];
		uint64_t off = uva - r->uva;

		if (uva >= r->uva && off < r->size && len <= r->size - off)
			return (void *)(uintptr_t)(r->hva + off);
	}
	return NULL;
}
