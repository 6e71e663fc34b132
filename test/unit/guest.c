/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest.h"
#include "vhost_log.h"
#include "test_harness.h"

#define PAGE 4096ull

void
guest_init(struct guest *g, uint32_t nregions, uint64_t region_size)
{
	uint32_t i;

	memset(g, 0, sizeof(*g));
	if (nregions == 0 || nregions > GUEST_MAX_REGIONS || region_size % PAGE != 0)
		th_fail(__FILE__, __LINE__, "bad guest layout %u x %lu", nregions,
			(unsigned long)region_size);
	g->nregions = nregions;
	g->region_size = region_size;
	/* [guard][region 0][guard][region 1]...[guard] */
	g->map_len = nregions * region_size + (nregions + 1) * PAGE;
	g->map = mmap(NULL, g->map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->map == MAP_FAILED)
		th_fail(__FILE__, __LINE__, "mmap guest: %s", strerror(errno));
	g->mem = vhu_mem_alloc(nregions);
	if (g->mem == NULL)
		th_fail(__FILE__, __LINE__, "out of memory");
	g->mem->nregions = nregions;
	for (i = 0; i < nregions; i++) {
		struct vhu_mem_region *r = &g->mem->regions[i];

		g->hva[i] = g->map + PAGE + i * (region_size + PAGE);
		if (mprotect(g->hva[i], region_size, PROT_READ | PROT_WRITE) != 0)
			th_fail(__FILE__, __LINE__, "mprotect guest: %s", strerror(errno));
		r->gpa = guest_region_gpa(g, i);
		r->size = region_size;
		r->uva = GUEST_UVA(r->gpa);
		r->hva = (uint64_t)(uintptr_t)g->hva[i];
	}
	g->next = GUEST_GPA;
}

void
guest_fini(struct guest *g)
{
	vhu_mem_free(g->mem, NULL);	/* regions carry no mmap_addr: table only */
	munmap(g->map, g->map_len);
	memset(g, 0, sizeof(*g));
}

struct vhu_mem *
guest_mem_copy(const struct guest *g)
{
	struct vhu_mem *mem = vhu_mem_alloc(g->nregions);

	if (mem == NULL)
		th_fail(__FILE__, __LINE__, "out of memory");
	memcpy(mem, g->mem, sizeof(*mem) + g->nregions * sizeof(mem->regions[0]));
	return mem;
}

uint64_t
guest_region_gpa(const struct guest *g, uint32_t i)
{
	return GUEST_GPA + i * g->region_size;
}

uint64_t
guest_end(const struct guest *g)
{
	return guest_region_gpa(g, g->nregions);
}

uint64_t
guest_alloc(struct guest *g, uint64_t size, uint64_t align)
{
	uint64_t gpa = (g->next + align - 1) & ~(align - 1);
	uint64_t off = (gpa - GUEST_GPA) % g->region_size;

	if (off + size > g->region_size) /* keep each allocation inside one region */
		gpa += g->region_size - off;
	if (size > g->region_size || gpa + size > guest_end(g))
		th_fail(__FILE__, __LINE__, "guest memory exhausted (%lu bytes wanted)",
			(unsigned long)size);
	g->next = gpa + size;
	return gpa;
}

void *
guest_ptr(const struct guest *g, uint64_t gpa)
{
	uint64_t i;

	if (gpa < GUEST_GPA || gpa >= guest_end(g))
		th_fail(__FILE__, __LINE__, "gpa 0x%lx is not guest memory", (unsigned long)gpa);
	i = (gpa - GUEST_GPA) / g->region_size;
	return g->hva[i] + (gpa - guest_region_gpa(g, (uint32_t)i));
}

void
guest_write(const struct guest *g, uint64_t gpa, const void *src, uint64_t len)
{
	const uint8_t *s = src;

	while (len > 0) {
		uint64_t room = g->region_size - (gpa - GUEST_GPA) % g->region_size;
		uint64_t c = len < room ? len : room;

		memcpy(guest_ptr(g, gpa), s, c);
		gpa += c;
		s += c;
		len -= c;
	}
}

void
guest_read(const struct guest *g, uint64_t gpa, void *dst, uint64_t len)
{
	uint8_t *d = dst;

	while (len > 0) {
		uint64_t room = g->region_size - (gpa - GUEST_GPA) % g->region_size;
		uint64_t c = len < room ? len : room;

		memcpy(d, guest_ptr(g, gpa), c);
		gpa += c;
		d += c;
		len -= c;
	}
}

void
guest_split_ring_core(struct guest *g, struct vhu_vq *vq, uint16_t size)
{
	uint64_t desc = guest_alloc(g, vring_desc_size(size), 16);
	uint64_t avail = guest_alloc(g, vring_avail_size(size, true), 2);
	uint64_t used = guest_alloc(g, vring_used_size(size, true), 4);

	vq->desc = guest_ptr(g, desc);
	vq->avail = guest_ptr(g, avail);
	vq->used = guest_ptr(g, used);
	memset(vq->desc, 0, vring_desc_size(size));
	memset(vq->avail, 0, vring_avail_size(size, true));
	memset(vq->used, 0, vring_used_size(size, true));
	vq->mem = g->mem;
	vq->size = size;
	vq->last_avail_idx = 0;
	vq->last_used_idx = 0;
	vq->broken = false;
	vq->broken_reason[0] = '\0';
	vq->event_idx = false;
	vq->indirect = true;
	vq->mem_cache = 0;
	vq->callfd = -1;
	vq->used->flags = VRING_USED_F_NO_NOTIFY;
	vq->ready = true;
}

void
drv_desc(struct vhu_vq *vq, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
	 uint16_t next)
{
	drv_table(vq->desc, i, addr, len, flags, next);
}

void
drv_table(struct vring_desc *table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
	  uint16_t next)
{
	table[i].addr = addr;
	table[i].len = len;
	table[i].flags = flags;
	table[i].next = next;
}

void
drv_avail(struct vhu_vq *vq, uint16_t head)
{
	uint16_t idx = vq->avail->idx;

	vq->avail->ring[idx & (vq->size - 1)] = head;
	/* Release: the head before the index, as a driver publishes it. */
	__atomic_store_n(&vq->avail->idx, (uint16_t)(idx + 1), __ATOMIC_RELEASE);
}

void
guest_packed_ring_core(struct guest *g, struct vhu_vq *vq, uint16_t size, struct packed_drv *d)
{
	uint64_t desc = guest_alloc(g, (uint64_t)size * sizeof(struct vring_packed_desc), 16);
	uint64_t drv_ev = guest_alloc(g, sizeof(struct vring_packed_event), 4);
	uint64_t dev_ev = guest_alloc(g, sizeof(struct vring_packed_event), 4);

	if (size == 0 || size > PDRV_MAX_SIZE)
		th_fail(__FILE__, __LINE__, "packed ring of %u entries (1..%u)", size,
			PDRV_MAX_SIZE);
	vq->desc_packed = guest_ptr(g, desc);
	vq->driver_event = guest_ptr(g, drv_ev);
	vq->device_event = guest_ptr(g, dev_ev);
	memset(vq->desc_packed, 0, (size_t)size * sizeof(struct vring_packed_desc));
	memset(vq->driver_event, 0, sizeof(*vq->driver_event));
	memset(vq->device_event, 0, sizeof(*vq->device_event));
	vq->mem = g->mem;
	vq->size = size;
	vq->packed = true;
	vq->last_avail_idx = 0;
	vq->avail_wrap = true;
	vq->last_used_idx = 0;
	vq->used_wrap = true;
	vq->broken = false;
	vq->broken_reason[0] = '\0';
	vq->event_idx = false;
	vq->indirect = true;
	vq->mem_cache = 0;
	vq->callfd = -1;
	vq->device_event->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
	vq->ready = true;
	memset(d, 0, sizeof(*d));
	d->vq = vq;
	d->avail_wrap = true;
	d->used_wrap = true;
}

uint16_t
pdrv_avail_flags(bool wrap)
{
	return wrap ? VRING_PACKED_DESC_F_AVAIL : VRING_PACKED_DESC_F_USED;
}

uint16_t
pdrv_post(struct packed_drv *d, const struct vring_packed_desc *chain, uint16_t n)
{
	struct vring_packed_desc *ring = d->vq->desc_packed;
	uint16_t head = d->avail_idx, size = d->vq->size, i, slot = head;
	bool wrap = d->avail_wrap;
	uint16_t head_flags = 0;

	if (n == 0)
		th_fail(__FILE__, __LINE__, "a packed chain needs at least one descriptor");
	for (i = 0; i < n; i++) {
		uint16_t flags = (chain[i].flags & ~(VRING_PACKED_DESC_F_AVAIL |
						      VRING_PACKED_DESC_F_USED)) |
				 pdrv_avail_flags(wrap);

		ring[slot].addr = chain[i].addr;
		ring[slot].len = chain[i].len;
		ring[slot].id = chain[i].id;
		if (i == 0)
			head_flags = flags;
		else
			ring[slot].flags = flags;
		if (++slot == size) {
			slot = 0;
			wrap = !wrap;
		}
	}
	/* Release: the whole chain before the head's flags, as a driver publishes it. */
	__atomic_store_n(&ring[head].flags, head_flags, __ATOMIC_RELEASE);
	d->ndesc[head] = n;
	d->id[head] = chain[n - 1].id; /* a chain's id is in its last descriptor */
	d->avail_idx = slot;
	d->avail_wrap = wrap;
	return head;
}

bool
pdrv_take_used(struct packed_drv *d, uint16_t *id, uint32_t *len)
{
	struct vring_packed_desc *e = &d->vq->desc_packed[d->used_idx];
	uint16_t f = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE), n;
	bool avail = (f & VRING_PACKED_DESC_F_AVAIL) != 0, used = (f & VRING_PACKED_DESC_F_USED) != 0;

	/* Only a slot where the driver has a chain outstanding can hold a used one. */
	n = d->ndesc[d->used_idx];
	if (n == 0 || avail != d->used_wrap || used != d->used_wrap)
		return false;
	*id = e->id;
	*len = e->len;
	d->ndesc[d->used_idx] = 0;
	d->used_idx = (uint16_t)(d->used_idx + n);
	if (d->used_idx >= d->vq->size) {
		d->used_idx = (uint16_t)(d->used_idx - d->vq->size);
		d->used_wrap = !d->used_wrap;
	}
	return true;
}

bool
pdrv_take_used_in_order(struct packed_drv *d, uint16_t *id, uint32_t *len, uint16_t *nbufs)
{
	uint16_t want, k, outstanding = 0, slot = d->used_idx;

	if (!pdrv_take_used(d, id, len))
		return false;
	/* The first buffer is taken; walk on, in ring order, to the one named. */
	want = *id;
	*id = d->id[slot];
	*nbufs = 1;
	for (k = 0; k < d->vq->size; k++)
		if (d->ndesc[k] != 0)
			outstanding++;
	while (*id != want) {
		uint16_t n = d->ndesc[d->used_idx];

		if (outstanding == 0 || n == 0)
			th_fail(__FILE__, __LINE__, "used id %u is not an outstanding buffer",
				want);
		*id = d->id[d->used_idx];
		d->ndesc[d->used_idx] = 0;
		outstanding--;
		(*nbufs)++;
		d->used_idx = (uint16_t)(d->used_idx + n);
		if (d->used_idx >= d->vq->size) {
			d->used_idx = (uint16_t)(d->used_idx - d->vq->size);
			d->used_wrap = !d->used_wrap;
		}
	}
	return true;
}

uint64_t
guest_gpa_of(const struct guest *g, const void *p)
{
	const uint8_t *q = p;
	uint32_t i;

	for (i = 0; i < g->nregions; i++)
		if (q >= g->hva[i] && q < g->hva[i] + g->region_size)
			return guest_region_gpa(g, i) + (uint64_t)(q - g->hva[i]);
	th_fail(__FILE__, __LINE__, "%p is not guest memory", p);
}

bool
log_page_dirty(const uint8_t *bitmap, uint64_t gpa)
{
	uint64_t page = gpa >> VHU_LOG_PAGE_SHIFT;

	return (bitmap[page / 8] >> (page % 8)) & 1;
}
