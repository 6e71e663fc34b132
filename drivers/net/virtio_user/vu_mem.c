/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shared area that plays guest RAM: one memfd (on 2 MB hugepages when
 * there are enough, else ordinary memory), mapped MAP_SHARED once and shown
 * to the backend as regions of it. The first region holds the rings and the
 * per-slot tx areas; the mbuf pool fills the rest, in regions of at most
 * VU_REGION_MAX_SIZE. Regions sit at guest-physical addresses with a hole
 * between them, so a driver bug that hands out virtual addresses, or that
 * assumes guest memory is contiguous, shows up at once.
 *
 * With iommu=1 the device addresses are IOVAs: unit u of the area is mapped
 * at VU_IOVA_BASE + (nunits - 1 - u) * 2 MB, i.e. in reverse order, so they
 * differ from guest-physical addresses in more than an offset.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vu_private.h"

#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT 26
#endif

/* Create and map a memfd of 'size' bytes; hugepages when 'huge'. 0 or -errno. */
static int
mem_map(struct vu_mem *mem, const char *name, uint64_t size, bool huge)
{
	unsigned int flags = MFD_CLOEXEC;
	void *va;
	int fd, rc;

	if (huge)
		flags |= MFD_HUGETLB | (VU_UNIT_SHIFT << MFD_HUGE_SHIFT);
	fd = memfd_create(name, flags);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) != 0) {
		rc = -errno;
		goto close_fd;
	}
	/* Populate now: a hugetlbfs shortage then fails here, not as SIGBUS later. */
	va = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (va == MAP_FAILED) {
		rc = -errno;
		goto close_fd;
	}
	mem->fd = fd;
	mem->va = va;
	mem->hugepages = huge;
	return 0;
close_fd:
	close(fd);
	return rc;
}

/* Cut the area into regions and give each unit its GPA and IOVA. 0 or -errno. */
static int
mem_layout(struct vu_mem *mem)
{
	uint64_t off = 0, gpa = VU_GPA_BASE;
	uint32_t u, r;

	while (off < mem->size) {
		uint64_t size =
			off == 0 ? mem->ring_size : RTE_MIN(mem->size - off, VU_REGION_MAX_SIZE);

		if (mem->nregions == VHOST_USER_MEMORY_MAX_NREGIONS)
			return -E2BIG;
		mem->regions[mem->nregions++] = (struct vu_region){off, size, gpa};
		gpa += size + VU_GPA_HOLE;
		off += size;
	}
	mem->nunits = (uint32_t)(mem->size >> VU_UNIT_SHIFT);
	mem->unit_iova = calloc(mem->nunits, sizeof(*mem->unit_iova));
	mem->unit_gpa = calloc(mem->nunits, sizeof(*mem->unit_gpa));
	if (mem->unit_iova == NULL || mem->unit_gpa == NULL)
		return -ENOMEM;
	for (u = 0, r = 0; u < mem->nunits; u++) {
		uint64_t uoff = (uint64_t)u << VU_UNIT_SHIFT;

		while (uoff >= mem->regions[r].offset + mem->regions[r].size)
			r++;
		mem->unit_gpa[u] = mem->regions[r].gpa + (uoff - mem->regions[r].offset);
		mem->unit_iova[u] = mem->iommu ? VU_IOVA_BASE + ((uint64_t)(mem->nunits - 1 - u)
								 << VU_UNIT_SHIFT)
					       : mem->unit_gpa[u];
	}
	return 0;
}

int
vu_mem_create(struct vu_mem *mem, const char *name, uint64_t ring_bytes, uint64_t pool_bytes,
	      bool iommu)
{
	int rc;

	memset(mem, 0, sizeof(*mem));
	mem->fd = -1;
	mem->iommu = iommu;
	mem->ring_size = RTE_ALIGN_CEIL(ring_bytes, VU_UNIT_SIZE);
	mem->size = mem->ring_size + RTE_ALIGN_CEIL(pool_bytes, VU_UNIT_SIZE);
	rc = mem_map(mem, name, mem->size, true);
	if (rc != 0) {
		VU_LOG(INFO,
		       "%s: no 2 MB hugepages for %" PRIu64 " MB of shared memory (%s); "
		       "using ordinary memory",
		       name, mem->size >> 20, strerror(-rc));
		rc = mem_map(mem, name, mem->size, false);
	}
	if (rc != 0) {
		VU_LOG(ERR,
		       "%s: cannot create %" PRIu64 " MB of shared memory: %s; free some "
		       "memory or use a smaller queue_size/queues",
		       name, mem->size >> 20, strerror(-rc));
		return rc;
	}
	rc = mem_layout(mem);
	if (rc != 0) {
		VU_LOG(ERR,
		       "%s: %" PRIu64 " MB of shared memory does not fit in %u regions of "
		       "%" PRIu64 " MB; use a smaller queue_size/queues",
		       name, mem->size >> 20, VHOST_USER_MEMORY_MAX_NREGIONS,
		       VU_REGION_MAX_SIZE >> 20);
		vu_mem_destroy(mem);
		return rc;
	}
	return 0;
}

void
vu_mem_destroy(struct vu_mem *mem)
{
	if (mem->va != NULL)
		munmap(mem->va, mem->size);
	if (mem->fd >= 0)
		close(mem->fd);
	free(mem->unit_iova);
	free(mem->unit_gpa);
	memset(mem, 0, sizeof(*mem));
	mem->fd = -1;
}

uint64_t
vu_mem_carve(struct vu_mem *mem, uint64_t size, uint64_t align, bool no_cross)
{
	uint64_t off = RTE_ALIGN_CEIL(mem->ring_used, align);

	if (no_cross && (off & (VU_UNIT_SIZE - 1)) + size > VU_UNIT_SIZE)
		off = RTE_ALIGN_CEIL(off, VU_UNIT_SIZE);
	if (size > mem->ring_size || off > mem->ring_size - size)
		return UINT64_MAX;
	mem->ring_used = off + size;
	return off;
}

int
vu_mem_populate(struct vu_mem *mem, struct rte_mempool *mp)
{
	uint64_t off;
	int rc;

	for (off = mem->ring_size; off < mem->size && mp->populated_size < mp->size;
	     off += VU_UNIT_SIZE) {
		/* One chunk per unit: no object straddles units, so each mbuf buffer
		 * is contiguous in IOVA space even when units are permuted. */
		rc = rte_mempool_populate_iova(mp, (char *)mem->va + off,
					       mem->unit_iova[off >> VU_UNIT_SHIFT], VU_UNIT_SIZE,
					       NULL, NULL);
		if (rc < 0)
			return rc;
	}
	return mp->populated_size == mp->size ? 0 : -ENOSPC;
}

const struct vu_region *
vu_mem_unit_region(const struct vu_mem *mem, uint32_t unit)
{
	uint64_t off = (uint64_t)unit << VU_UNIT_SHIFT;
	uint32_t r;

	for (r = 0; r < mem->nregions; r++)
		if (off - mem->regions[r].offset < mem->regions[r].size)
			return &mem->regions[r];
	return NULL;
}
