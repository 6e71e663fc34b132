/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "fuzz_common.h"
#include "vhost_inflight.h"

struct rte_mempool *fz_pool;

void
fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: oracle failed: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void
fz_eal_init(void)
{
	static char lcores[32];
	char *argv[] = {
		"vhu-fuzz", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
		"--no-telemetry", "--log-level=*:critical", "-l", lcores, NULL,
	};
	cpu_set_t set;
	int cpu = 0;

	if (fz_pool != NULL)
		return;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &set))
			cpu++;
	snprintf(lcores, sizeof(lcores), "%d", cpu);
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		abort();
	}
	/* The library logs every refusal; at fuzzing speed that is noise, unless
	 * VHU_FUZZ_LOG asks for it (to see how far an input gets). */
	if (getenv("VHU_FUZZ_LOG") != NULL) {
		rte_log_set_global_level(RTE_LOG_DEBUG);
		rte_log_set_level_pattern("vhu.*", RTE_LOG_DEBUG);
	}
	rte_openlog_stream(stderr);
	fz_pool = rte_pktmbuf_pool_create("vhu_fuzz", 1023, 0, 0,
					  2048 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	if (fz_pool == NULL) {
		fprintf(stderr, "cannot make the mbuf pool: %s\n", rte_strerror(rte_errno));
		abort();
	}
}

struct vhu_vhost_dev *
fz_dev_new(uint16_t queue_pairs, uint32_t flags, uint16_t mtu)
{
	struct vhu_vhost_dev *dev = calloc(1, vhu_dev_bytes(&vhu_net_device_type));
	struct vhu_vhost_config cfg = {
		.path = "fuzz-dev",
		.flags = flags,
		.queue_pairs = queue_pairs,
		.mtu = mtu,
		.mac = { 0x02, 0, 0, 0, 0, 1 },
	};
	struct vhu_dev_config core = { .path = cfg.path, .flags = flags };
	size_t vq_bytes = vhu_vq_bytes(&vhu_net_device_type);
	uint16_t i;

	if (dev == NULL)
		abort();
	/* The device's rings only, as vhu_dev_create() allocates them: the
	 * VHU_MAX_VQS of an earlier version were a megabyte to allocate, clear
	 * and free for every input (most of an input's time under ASan). */
	for (i = 0; i < 2 * queue_pairs; i++) {
		dev->vq[i] = aligned_alloc(RTE_CACHE_LINE_SIZE, vq_bytes);
		if (dev->vq[i] == NULL)
			abort();
		memset(dev->vq[i], 0, vq_bytes);
	}
	/* The library's own initialisation; without the miss queue (no control
	 * thread here) IOTLB misses from the data path are not posted. */
	if (vhu_dev_init(dev, &vhu_net_device_type, &core, &cfg) != 0)
		abort();
	return dev;
}

void
fz_dev_free(struct vhu_vhost_dev *dev)
{
	uint16_t i;

	vhu_dev_reset(dev);
	for (i = 0; i < dev->num_queues; i++)
		free(dev->vq[i]);
	free(dev);
}

int
fz_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		abort();
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

void
fz_dump_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[300], target[300];
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		fprintf(stderr, "  fd %s -> %s\n", e->d_name, target);
	}
	closedir(d);
}

int
fz_count_memfd_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	if (f == NULL)
		abort();
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "/memfd:") != NULL)
			n++;
	fclose(f);
	return n;
}

/*
 * Is every byte of [p, p + len) inside a region of 'mem' (our side)? Through
 * an IOTLB an area may span regions whose mappings happen to be adjacent.
 */
static bool
in_mem(const struct vhu_mem *mem, const void *p, uint64_t len)
{
	uint64_t h = (uint64_t)(uintptr_t)p;

	while (len > 0) {
		const struct vhu_mem_region *r = NULL;
		uint64_t room;
		uint32_t i;

		for (i = 0; mem != NULL && i < mem->nregions; i++)
			if (h - mem->regions[i].hva < mem->regions[i].size)
				r = &mem->regions[i];
		if (r == NULL)
			return false;
		room = r->size - (h - r->hva);
		if (room >= len)
			return true;
		h += room;
		len -= room;
	}
	return true;
}

void
fz_check_rings(const struct vhu_vhost_dev *dev)
{
	uint16_t i;

	for (i = 0; i < dev->num_queues; i++) {
		const struct vhu_vq *vq = dev->vq[i];
		bool ev = vq->event_idx;

		if (!vq->ready)
			continue;
		FZ_CHECK(vq->mem == dev->mem, "ring %u runs on a memory table that is not the "
			 "device's", i);
		FZ_CHECK(vq->size > 0 && vq->size <= VIRTQ_MAX_SIZE, "ring %u size %u", i, vq->size);
		/* The indexes are accessed atomically: naturally aligned, in our mapping. */
		FZ_CHECK(((uintptr_t)vq->desc & 15) == 0 && ((uintptr_t)vq->avail & 1) == 0 &&
			 ((uintptr_t)vq->used & 3) == 0, "ring %u's areas %p %p %p are misaligned",
			 i, (void *)vq->desc, (void *)vq->avail, (void *)vq->used);
		if (vq->packed) {
			FZ_CHECK(vq->last_avail_idx < vq->size && vq->last_used_idx < vq->size,
				 "packed ring %u at slots %u/%u of %u", i, vq->last_avail_idx,
				 vq->last_used_idx, vq->size);
			FZ_CHECK(in_mem(dev->mem, vq->desc_packed,
					(uint64_t)vq->size * sizeof(*vq->desc_packed)),
				 "packed ring %u's descriptors are not in guest memory", i);
		} else {
			FZ_CHECK((vq->size & (vq->size - 1)) == 0, "split ring %u of %u entries", i,
				 vq->size);
			FZ_CHECK(in_mem(dev->mem, vq->desc, vring_desc_size(vq->size)) &&
				 in_mem(dev->mem, vq->avail, vring_avail_size(vq->size, ev)) &&
				 in_mem(dev->mem, vq->used, vring_used_size(vq->size, ev)),
				 "split ring %u's areas are not in guest memory", i);
		}
		if (vq->inflight_split != NULL || vq->inflight_packed != NULL) {
			const struct vhu_inflight *in = dev->inflight;
			const uint8_t *lo, *end;

			FZ_CHECK(in != NULL, "ring %u has an inflight record but no buffer", i);
			lo = in->addr;
			end = vq->packed ? (const uint8_t *)&vq->inflight_packed->desc[vq->size] :
					   (const uint8_t *)&vq->inflight_split->desc[vq->size];
			FZ_CHECK((vq->packed ? (const uint8_t *)vq->inflight_packed :
					       (const uint8_t *)vq->inflight_split) >= lo &&
				 end <= lo + in->size,
				 "ring %u's %s inflight record runs %td bytes past the %" PRIu64
				 "-byte buffer", i, vq->packed ? "packed" : "split",
				 end - (lo + in->size), in->size);
		}
	}
}

uint8_t *
fz_guarded_alloc(size_t len)
{
	uint8_t *p = mmap(NULL, len + 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + 4096, len, PROT_READ | PROT_WRITE) != 0)
		abort();
	return p + 4096;
}

void
fz_guarded_free(uint8_t *p, size_t len)
{
	munmap(p - 4096, len + 2 * 4096);
}
