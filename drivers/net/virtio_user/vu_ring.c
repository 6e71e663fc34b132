/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rings seen from the control side: carving them out of the shared area,
 * resetting or resuming them at start, handing them to the data path and
 * taking them back, and working out where each resumes after the backend
 * died without telling us (GET_VRING_BASE impossible).
 *
 * A ring is handed over by vu_rings_publish(): its fields are filled, then
 * 'ready' is set with a release store that the burst's acquire load pairs
 * with. vu_rings_unpublish() clears 'ready' and waits on each ring's burst
 * mark (vhu_handoff.h): afterwards no burst runs on the ring and its fields
 * are ours.
 *
 * While the backend is away the rings stay with the data path, draining:
 * like a guest whose host restarts its vhost-user backend, the driver still
 * consumes what the backend completed before it went, and nothing else
 * moves until a backend resumes the rings from where they stand.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_malloc.h>

#include "vu_packed.h"
#include "vu_split.h"

void
vu_vq_set_broken(struct vu_vq *vq, const char *fmt, ...)
{
	va_list ap;

	vq->stats.errors++;
	if (vq->qstats != NULL)
		vhu_port_counter_add(&vq->qstats->errors, 1);
	if (vq->broken)
		return;
	va_start(ap, fmt);
	vsnprintf(vq->broken_reason, sizeof(vq->broken_reason), fmt, ap);
	va_end(ap);
	/* Relaxed: only this lcore acts on it; info() may see it late. */
	__atomic_store_n(&vq->broken, true, __ATOMIC_RELAXED);
	VU_LOG(ERR,
	       "%s: %s queue %u (virtqueue %u) broken by the backend: %s; the queue stops "
	       "until the backend reconnects or the device restarts, other queues carry on",
	       vq->dev->path, vq->dev->type->ring_role(vq),
	       vq->index / vq->dev->type->rings_per_queue, vq->index, vq->broken_reason);
}

/* Byte sizes of a ring's three areas, large enough for either layout. */
static uint64_t
area_desc_size(uint16_t size)
{
	return (uint64_t)size * 16;
}

static uint64_t
area_driver_size(uint16_t size)
{
	return RTE_MAX(vring_avail_size(size, true), sizeof(struct vring_packed_event));
}

static uint64_t
area_device_size(uint16_t size)
{
	return RTE_MAX(vring_used_size(size, true), sizeof(struct vring_packed_event));
}

/*
 * Carve every ring's areas from 'mem' in a fixed order; with 'commit' store
 * the pointers. Run uncommitted on an unmapped vu_mem to size the area.
 * Returns 0 or -ENOSPC.
 */
static int
rings_carve(struct vu_dev *dev, struct vu_mem *mem, bool commit)
{
	uint16_t size = dev->queue_size, i;

	for (i = 0; i < vu_rings_of(dev, dev->queues); i++) {
		bool tx = dev->type->ring_tx(i);
		/* Each area must be IOVA-contiguous, so none straddles a unit. Driver-
		 * and device-written areas get their own cache lines. */
		uint64_t d = vu_mem_carve(mem, area_desc_size(size), 4096, true);
		uint64_t a = vu_mem_carve(mem, area_driver_size(size), 64, true);
		uint64_t u = vu_mem_carve(mem, area_device_size(size), 64, true);
		/* Tx areas are used per slot; a slot never straddles a unit. */
		uint64_t t = tx ? vu_mem_carve(mem, (uint64_t)size * VU_TX_AREA_SIZE,
					       VU_TX_AREA_SIZE, false)
				: 0;

		if (d == UINT64_MAX || a == UINT64_MAX || u == UINT64_MAX || t == UINT64_MAX)
			return -ENOSPC;
		if (commit) {
			struct vu_vq *vq = dev->vq[i];

			vq->area_desc = mem->va + d;
			vq->area_driver = mem->va + a;
			vq->area_device = mem->va + u;
			vq->tx_area = tx ? (struct vu_tx_area *)(mem->va + t) : NULL;
		}
	}
	mem->ring_used = RTE_ALIGN_CEIL(mem->ring_used, 64);
	return 0;
}

uint64_t
vu_rings_bytes(struct vu_dev *dev)
{
	struct vu_mem plan;

	memset(&plan, 0, sizeof(plan));
	plan.ring_size = UINT64_MAX / 4;
	if (rings_carve(dev, &plan, false) != 0)
		return UINT64_MAX;
	return plan.ring_used;
}

static void
vq_free(struct vu_vq *vq)
{
	if (vq == NULL)
		return;
	if (vq->kickfd >= 0)
		close(vq->kickfd);
	if (vq->callfd >= 0)
		close(vq->callfd);
	rte_free(vq->slots);
	rte_free(vq->next);
	rte_free(vq->ids);
	rte_free(vq);
}

int
vu_rings_alloc(struct vu_dev *dev)
{
	int socket = dev->socket_id;
	uint16_t size = dev->queue_size, i;

	for (i = 0; i < vu_rings_of(dev, dev->queues); i++) {
		struct vu_vq *vq =
			rte_zmalloc_socket("vu_vq", sizeof(*vq), RTE_CACHE_LINE_SIZE, socket);

		if (vq == NULL)
			goto nomem;
		dev->vq[i] = vq;
		vq->kickfd = -1;
		vq->callfd = -1;
		vq->index = i;
		vq->tx = dev->type->ring_tx(i);
		vq->size = size;
		vq->dev = dev;
		vq->mem = &dev->mem;
		vq->pool = dev->pool;
		vq->slots = rte_zmalloc_socket("vu_slots", size * sizeof(*vq->slots),
					       RTE_CACHE_LINE_SIZE, socket);
		vq->next = rte_zmalloc_socket("vu_next", size * sizeof(*vq->next),
					      RTE_CACHE_LINE_SIZE, socket);
		vq->ids = rte_zmalloc_socket("vu_ids", size * sizeof(*vq->ids), RTE_CACHE_LINE_SIZE,
					     socket);
		if (vq->slots == NULL || vq->next == NULL || vq->ids == NULL)
			goto nomem;
		/* Kept for the port's lifetime: every connection gets copies of the same
		 * eventfds, so reconnects cost no fds and the data path never sees a swap. */
		vq->kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		vq->callfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vq->kickfd < 0 || vq->callfd < 0) {
			VU_LOG(ERR,
			       "%s: cannot create eventfds for virtqueue %u: %s; raise the "
			       "open-files limit (ulimit -n)",
			       dev->path, i, strerror(errno));
			vu_rings_free(dev);
			return -EMFILE;
		}
	}
	if (rings_carve(dev, &dev->mem, true) != 0) {
		VU_LOG(ERR, "%s: ring area of the shared memory is too small", dev->path);
		vu_rings_free(dev);
		return -ENOSPC;
	}
	return 0;
nomem:
	VU_LOG(ERR, "%s: out of memory for %u rings of %u entries; give EAL more (-m)", dev->path,
	       vu_rings_of(dev, dev->queues), size);
	vu_rings_free(dev);
	return -ENOMEM;
}

/* Forget every posted buffer (the device half frees what it holds). Control side,
 * ring unpublished. */
static void
vq_drop_buffers(struct vu_vq *vq)
{
	const struct vu_devtype *type = vq->dev->type;
	uint16_t id;

	for (id = 0; id < vq->size; id++) {
		if (vq->slots[id].ndescs != 0) {
			if (type->drop != NULL)
				type->drop(vq, &vq->slots[id]);
			vq->slots[id].ndescs = 0;
		}
	}
	vq->inflight = 0;
}

void
vu_rings_free(struct vu_dev *dev)
{
	uint16_t i;

	/* A burst that found its ring stopped may still be leaving: it writes
	 * its mark on the way out. */
	vhu_handoff_barrier();
	for (i = 0; i < VU_MAX_VQS; i++)
		if (dev->vq[i] != NULL)
			vhu_burst_wait(&dev->vq[i]->mark, dev->path, i);
	for (i = 0; i < VU_MAX_VQS; i++) {
		if (dev->vq[i] != NULL && dev->vq[i]->slots != NULL)
			vq_drop_buffers(dev->vq[i]);
		vq_free(dev->vq[i]);
		dev->vq[i] = NULL;
	}
}

static void
vq_reset(struct vu_dev *dev, struct vu_vq *vq, const struct vu_vq_conf *conf)
{
	uint16_t size = vq->size, i;

	vq_drop_buffers(vq);
	memset(vq->slots, 0, size * sizeof(*vq->slots));
	memset(vq->area_desc, 0, area_desc_size(size));
	memset(vq->area_driver, 0, area_driver_size(size));
	memset(vq->area_device, 0, area_device_size(size));
	if (vq->tx_area != NULL)
		memset(vq->tx_area, 0, (size_t)size * VU_TX_AREA_SIZE);
	vq->conf = *conf;
	vq->num_free = size;
	vq->avail_idx = 0;
	vq->last_used = 0;
	vq->next_desc = 0;
	vq->oldest = 0;
	vq->added = 0;
	if (conf->packed) {
		vq->packed.desc = (struct vring_packed_desc *)vq->area_desc;
		vq->packed.driver = (struct vring_packed_event *)vq->area_driver;
		vq->packed.device = (struct vring_packed_event *)vq->area_device;
		/* We poll: the device never needs to interrupt us. */
		vq->packed.driver->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
		vq->avail_wrap = true;
		vq->used_wrap = true;
		vq->avail_flags = VRING_PACKED_DESC_F_AVAIL;
		for (i = 0; i < size; i++)
			vq->ids[i] = size - 1 - i;
		vq->id_top = size;
		vq->base = 1u << 15; /* index 0, wrap counter 1 */
	} else {
		vq->split.desc = (struct vring_desc *)vq->area_desc;
		vq->split.avail = (struct vring_avail *)vq->area_driver;
		vq->split.used = (struct vring_used *)vq->area_device;
		/* We poll: without EVENT_IDX the flag says so, with it used_event does. */
		vq->split.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
		vq->used_event = 0x8000;
		*vring_used_event(vq->split.avail, size) = vq->used_event;
		for (i = 0; i < size; i++)
			vq->next[i] = (i + 1) & (size - 1);
		vq->free_head = 0;
		vq->base = 0;
	}
	vq->broken = false;
	vq->broken_reason[0] = '\0';
	vq->initialized = true;
	if (dev->type->refill != NULL)
		dev->type->refill(vq);
	VU_LOG(DEBUG, "%s: virtqueue %u reset (%s, %u entries)", dev->path, vq->index,
	       conf->packed ? "packed" : "split", size);
}

void
vu_ring_prepare(struct vu_dev *dev, struct vu_vq *vq, const struct vu_vq_conf *conf)
{
	const struct vu_vq_conf *c = &vq->conf;

	if (!vq->initialized || vq->broken || c->packed != conf->packed ||
	    c->in_order != conf->in_order || c->event_idx != conf->event_idx ||
	    c->indirect != conf->indirect || c->mrg_rxbuf != conf->mrg_rxbuf ||
	    c->hdr_len != conf->hdr_len) {
		vq_reset(dev, vq, conf);
		return;
	}
	/* Resume: the buffers still posted stay posted; the backend goes on from vq->base. */
	if (dev->type->refill != NULL)
		dev->type->refill(vq);
}

void
vu_ring_addrs(const struct vu_dev *dev, const struct vu_vq *vq, struct vhost_user_vring_addr *addr)
{
	const struct vu_mem *mem = &dev->mem;

	memset(addr, 0, sizeof(*addr));
	addr->index = vq->index;
	if (mem->iommu) {
		/* With an IOMMU the rings are addressed by IOVA, like the buffers. */
		addr->desc_user_addr = vu_mem_iova(mem, vq->area_desc);
		addr->avail_user_addr = vu_mem_iova(mem, vq->area_driver);
		addr->used_user_addr = vu_mem_iova(mem, vq->area_device);
	} else {
		addr->desc_user_addr = (uint64_t)(uintptr_t)vq->area_desc;
		addr->avail_user_addr = (uint64_t)(uintptr_t)vq->area_driver;
		addr->used_user_addr = (uint64_t)(uintptr_t)vq->area_device;
	}
	addr->log_guest_addr = vu_mem_gpa(mem, vq->area_device);
}

void
vu_rings_publish(struct vu_dev *dev, uint16_t nqp, bool tx_open)
{
	uint16_t i;

	for (i = 0; i < vu_rings_of(dev, nqp); i++) {
		struct vu_vq *vq = dev->vq[i];

		if (!vq->initialized)
			continue;
		vq->tx_open = tx_open;
		if (dev->type->publish != NULL)
			dev->type->publish(dev, vq);
		/* Release: every field set since the ring was taken back is visible
		 * to the lcore whose acquire load of 'ready' starts a burst. */
		__atomic_store_n(&vq->ready, true, __ATOMIC_RELEASE);
	}
}

void
vu_rings_unpublish(struct vu_dev *dev)
{
	bool any = false;
	uint16_t i;

	for (i = 0; i < vu_rings_of(dev, dev->queues); i++) {
		if (dev->vq[i]->ready) {
			/* Relaxed: vhu_handoff_barrier() below orders it before the marks. */
			__atomic_store_n(&dev->vq[i]->ready, false, __ATOMIC_RELAXED);
			any = true;
		}
	}
	if (!any)
		return;
	/* Once every wait returns no burst that saw ready == true still runs,
	 * and its stores to ring state are visible here. */
	vhu_handoff_barrier();
	for (i = 0; i < vu_rings_of(dev, dev->queues); i++)
		vhu_burst_wait(&dev->vq[i]->mark, dev->path, i);
}

/*
 * Walk the used descriptors of a packed ring we have not read yet, without
 * consuming them: *pos and *wrap end past the last one, *bufs counts the
 * buffers they return (under IN_ORDER one may stand for a batch ending at
 * its id). False if they do not match what we posted.
 */
static bool
vq_packed_scan(const struct vu_vq *vq, uint32_t *pos, bool *wrap, uint32_t *bufs)
{
	uint32_t p = vq->last_used, n = 0;
	bool w = vq->used_wrap;

	while (n < vq->inflight) {
		const struct vring_packed_desc *d = &vq->packed.desc[p];
		uint16_t id;

		if (!vu_packed_is_used(__atomic_load_n(&d->flags, __ATOMIC_ACQUIRE), w))
			break;
		id = d->id;
		if (id >= vq->size || vq->slots[id].ndescs == 0)
			return false;
		do {
			uint16_t cur = vq->conf.in_order ? (uint16_t)p : id;

			if (vq->slots[cur].ndescs == 0 || ++n > vq->inflight)
				return false;
			p += vq->slots[cur].ndescs;
			if (p >= vq->size) {
				p -= vq->size;
				w = !w;
			}
			if (cur == id)
				break;
		} while (vq->conf.in_order);
	}
	*pos = p;
	*wrap = w;
	*bufs = n;
	return true;
}

/* Buffers of a split ring the device returned that we have not read yet. */
static uint32_t
vq_split_returned(const struct vu_vq *vq)
{
	uint16_t idx = __atomic_load_n(&vq->split.used->idx, __ATOMIC_ACQUIRE);
	uint16_t n = idx - vq->last_used, pos;
	uint32_t id, bufs = 0;

	if (n > vq->inflight)
		return vq->inflight; /* bogus: the data path will latch it; do not wait on it */
	if (n == 0 || !vq->conf.in_order)
		return n;
	/* Under IN_ORDER the last entry's id says how far the device got. */
	id = __atomic_load_n(&vq->split.used->ring[(uint16_t)(idx - 1) & (vq->size - 1)].id,
			     __ATOMIC_RELAXED);
	for (pos = vq->oldest; bufs < vq->inflight;
	     pos = (pos + vq->slots[pos].ndescs) & (vq->size - 1)) {
		if (vq->slots[pos].ndescs == 0)
			break;
		bufs++;
		if (pos == id)
			break;
	}
	return bufs;
}

uint32_t
vu_ring_tx_pending(const struct vu_vq *vq)
{
	uint32_t pos, bufs;
	bool wrap;

	if (!vq->initialized || vq->broken)
		return 0;
	if (vq->conf.packed)
		return vq_packed_scan(vq, &pos, &wrap, &bufs) ? vq->inflight - bufs : 0;
	return vq->inflight - vq_split_returned(vq);
}

/* Where the device stopped on a packed ring: past every used descriptor we have not read. */
static void
vq_recover_packed(struct vu_vq *vq)
{
	uint32_t pos, bufs;
	bool wrap;

	if (!vq_packed_scan(vq, &pos, &wrap, &bufs)) {
		vu_vq_set_broken(vq, "used descriptors do not match posted buffers");
		return;
	}
	vq->base = pos | (uint32_t)wrap << 15;
}

void
vu_rings_recover(struct vu_dev *dev)
{
	uint16_t i;

	for (i = 0; i < vu_rings_of(dev, dev->queues); i++) {
		struct vu_vq *vq = dev->vq[i];

		if (!vq->initialized || vq->broken)
			continue;
		/* Like a VMM whose backend died: the device restarts where its used
		 * ring says it was; chains it read but never returned are read again. */
		if (vq->conf.packed)
			vq_recover_packed(vq);
		else
			vq->base = __atomic_load_n(&vq->split.used->idx, __ATOMIC_ACQUIRE);
	}
}

void
vu_rings_kick(struct vu_dev *dev)
{
	uint16_t i;

	for (i = 0; i < vu_rings_of(dev, dev->active_qp); i++)
		if (eventfd_write(dev->vq[i]->kickfd, 1) == 0)
			dev->vq[i]->stats.kicks++;
}
