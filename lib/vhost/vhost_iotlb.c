/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IOTLB updates, invalidations and misses (see vhost_iotlb.h).
 *
 * Ordering with QEMU: QEMU answers our MISS by sending IOTLB_MSG UPDATE on
 * the main socket and waiting for its REPLY_ACK there before it acknowledges
 * the MISS. The control thread therefore never waits for a reply on the
 * back-end channel: it sends the MISS without NEED_REPLY and returns to the
 * loop, where the UPDATE arrives like any other message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "vhost_iotlb.h"

static struct vhu_iotlb *
iotlb_alloc(uint32_t n)
{
	struct vhu_iotlb *t = malloc(sizeof(*t) + (size_t)n * sizeof(t->e[0]));

	if (t != NULL)
		t->n = 0;
	return t;
}

/*
 * A table is about to be published that lacks a mapping the current one has
 * (INVALIDATE, eviction, re-map, flush): start a new epoch, so that a data
 * lcore posts a miss for an address it asked for before at once, rather than
 * take it for a repeat of a miss still being answered (vhu_iotlb_post_miss()).
 * The epoch is the control thread's; the lcores own their miss records and
 * only compare. Called before the release store that publishes the table.
 */
static void
iotlb_new_epoch(struct vhu_vhost_dev *dev)
{
	__atomic_store_n(&dev->iotlb_epoch, dev->iotlb_epoch + 1, __ATOMIC_RELAXED);
}

/*
 * Publish 't' as the device's table; wait out readers of the old one, then
 * free it. 'withdraws': 't' lacks a mapping the old table had.
 */
static void
iotlb_publish(struct vhu_vhost_dev *dev, struct vhu_iotlb *t, bool withdraws)
{
	struct vhu_iotlb *old = dev->iotlb;

	if (withdraws)
		iotlb_new_epoch(dev);
	/* Release: the entries, and the epoch stored above, are visible to a
	 * data lcore that loads the pointer (acquire in vhu_net_vq()). */
	__atomic_store_n(&dev->iotlb, t, __ATOMIC_RELEASE);
	__atomic_store_n(&dev->iotlb_entries, t != NULL ? t->n : 0, __ATOMIC_RELAXED);
	if (old == NULL)
		return;
	/* Readers hold a table for one burst at most. An invalidation must not
	 * be acknowledged while one may still use the withdrawn entry, and the
	 * old table is freed in any case, so wait for them. */
	vhu_dev_wait_bursts(dev);
	free(old);
}

/* Append the part of [iova, iova + size) that maps to guest memory, split per region. */
static int
iotlb_add_mapped(struct vhu_vhost_dev *dev, struct vhu_iotlb *t, uint32_t cap, uint64_t iova,
		 uint64_t size, uint64_t uaddr, uint8_t perm)
{
	while (size > 0) {
		const struct vhu_mem_region *r = NULL;
		uint64_t chunk;
		uint32_t i;

		for (i = 0; dev->mem != NULL && i < dev->mem->nregions; i++) {
			const struct vhu_mem_region *c = &dev->mem->regions[i];

			if (uaddr >= c->uva && uaddr - c->uva < c->size) {
				r = c;
				break;
			}
		}
		if (r == NULL)
			return -EFAULT;
		if (t->n == cap)
			return -ENOSPC;
		chunk = RTE_MIN(size, r->size - (uaddr - r->uva));
		t->e[t->n++] = (struct vhu_iotlb_entry){
			.iova = iova,
			.size = chunk,
			.hva = r->hva + (uaddr - r->uva),
			.uaddr = uaddr,
			.perm = perm,
		};
		iova += chunk;
		uaddr += chunk;
		size -= chunk;
	}
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct vhu_iotlb_entry *x = a, *y = b;

	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

/*
 * Copy the entries of 'old' into a new table with [iova, iova + size)
 * carved out (entries that straddle the edges keep their outer parts).
 */
static struct vhu_iotlb *
iotlb_without(const struct vhu_iotlb *old, uint64_t iova, uint64_t size, uint32_t extra)
{
	uint32_t n = old != NULL ? old->n : 0, i;
	uint64_t end = iova + size - 1; /* inclusive, checked not to overflow */
	struct vhu_iotlb *t = iotlb_alloc(n + 1 + extra);

	if (t == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		struct vhu_iotlb_entry e = old->e[i];
		uint64_t e_end = e.iova + e.size - 1;

		if (e_end < iova || e.iova > end) {
			t->e[t->n++] = e;
			continue;
		}
		if (e.iova < iova) {	/* keep the head */
			struct vhu_iotlb_entry h = e;

			h.size = iova - e.iova;
			t->e[t->n++] = h;
		}
		if (e_end > end) {	/* keep the tail */
			struct vhu_iotlb_entry tl = e;
			uint64_t cut = end + 1 - e.iova;

			tl.iova += cut;
			tl.hva += cut;
			tl.uaddr += cut;
			tl.size -= cut;
			t->e[t->n++] = tl;
		}
	}
	return t;
}

/* Does [iova, iova + size) overlap [a, a + len)? Written so that neither end wraps. */
static bool
range_hits(uint64_t iova, uint64_t size, uint64_t a, uint64_t len)
{
	return a <= iova + (size - 1) && iova <= a + (len - 1);
}

/*
 * Does the invalidated range cover part of the ring's areas? Exact sizes:
 * with a strict vIOMMU the guest unmaps buffers next to its rings all the
 * time, and stopping a ring for each of those would drop the packets it
 * holds for the next burst.
 */
static bool
ring_uses(const struct vhu_vhost_dev *dev, const struct vhu_vq *vq, uint64_t iova, uint64_t size)
{
	bool ev = dev_has_feature(dev, VIRTIO_RING_F_EVENT_IDX);

	if (vq->packed)
		return range_hits(iova, size, vq->desc_uaddr,
				  (uint64_t)vq->size * sizeof(struct vring_packed_desc)) ||
		       range_hits(iova, size, vq->avail_uaddr, sizeof(struct vring_packed_event)) ||
		       range_hits(iova, size, vq->used_uaddr, sizeof(struct vring_packed_event));
	return range_hits(iova, size, vq->desc_uaddr, vring_desc_size(vq->size)) ||
	       range_hits(iova, size, vq->avail_uaddr, vring_avail_size(vq->size, ev)) ||
	       range_hits(iova, size, vq->used_uaddr, vring_used_size(vq->size, ev));
}

int
vhu_iotlb_prepare(struct vhu_vhost_dev *dev, const struct vhost_user_iotlb_msg *m,
		  struct vhu_iotlb_change *c)
{
	struct vhu_iotlb *t;
	uint64_t end;

	memset(c, 0, sizeof(*c));
	if (!dev_has_feature(dev, VIRTIO_F_IOMMU_PLATFORM)) {
		VHU_LOG(ERR, "%s: IOTLB message without IOMMU_PLATFORM negotiated; refused",
			dev->path);
		return -EPERM;
	}
	if (m->type != VHOST_IOTLB_UPDATE && m->type != VHOST_IOTLB_INVALIDATE) {
		VHU_LOG(ERR, "%s: IOTLB message type %u refused (only UPDATE and INVALIDATE come "
			"from a front-end)", dev->path, m->type);
		return -EINVAL;
	}
	if (m->size == 0 || __builtin_add_overflow(m->iova, m->size - 1, &end) ||
	    (m->type == VHOST_IOTLB_UPDATE &&
	     (__builtin_add_overflow(m->uaddr, m->size - 1, &end) || m->perm == 0 ||
	      m->perm > VHOST_ACCESS_RW))) {
		VHU_LOG(ERR, "%s: IOTLB %s iova 0x%" PRIx64 " size 0x%" PRIx64 " uaddr 0x%" PRIx64
			" perm %u is invalid (zero or overflowing size, or bad permission)",
			dev->path, m->type == VHOST_IOTLB_UPDATE ? "UPDATE" : "INVALIDATE",
			m->iova, m->size, m->uaddr, m->perm);
		return -EINVAL;
	}
	if (m->type == VHOST_IOTLB_INVALIDATE) {
		t = iotlb_without(dev->iotlb, m->iova, m->size, 0);
		if (t == NULL)
			return -ENOMEM;
		*c = (struct vhu_iotlb_change){ .table = t,
						.withdraws = true,
						.invalidate = true,
						.iova = m->iova,
						.size = m->size };
		return 0;
	}
	/* UPDATE replaces whatever overlapped the range. */
	t = iotlb_without(dev->iotlb, m->iova, m->size, 8);
	if (t == NULL)
		return -ENOMEM;
	if (t->n + 8 >= VHU_IOTLB_MAX_ENTRIES) {
		/* Full: evict the lowest half; misses will bring back what is used. */
		memmove(t->e, t->e + t->n / 2, (t->n - t->n / 2) * sizeof(t->e[0]));
		t->n -= t->n / 2;
		c->withdraws = true;
	}
	if (iotlb_add_mapped(dev, t, t->n + 8, m->iova, m->size, m->uaddr, m->perm) != 0) {
		VHU_LOG(ERR, "%s: IOTLB UPDATE iova 0x%" PRIx64 " maps uaddr 0x%" PRIx64 "+0x%" PRIx64
			" outside guest memory (or across too many regions); refused", dev->path,
			m->iova, m->uaddr, m->size);
		free(t);
		return -EFAULT;
	}
	qsort(t->e, t->n, sizeof(t->e[0]), entry_cmp);
	/* What the update replaced it maps again; only an eviction withdraws. */
	c->table = t;
	return 0;
}

bool
vhu_iotlb_change_unmaps_ring(const struct vhu_vhost_dev *dev, const struct vhu_iotlb_change *c,
			     const struct vhu_vq *vq)
{
	return c->invalidate && ring_uses(dev, vq, c->iova, c->size);
}

void
vhu_iotlb_commit(struct vhu_vhost_dev *dev, struct vhu_iotlb_change *c)
{
	iotlb_publish(dev, c->table, c->withdraws);
	c->table = NULL;
	if (c->invalidate)
		dev->iotlb_invalidations++;
	else
		dev->iotlb_updates++;
}

void
vhu_iotlb_remap(struct vhu_vhost_dev *dev)
{
	const struct vhu_iotlb *old = dev->iotlb;
	struct vhu_iotlb *t;
	uint32_t i;

	if (old == NULL)
		return;
	t = iotlb_alloc(old->n * 2 + 8);
	if (t == NULL) {
		vhu_iotlb_flush(dev);
		return;
	}
	for (i = 0; i < old->n; i++) {
		const struct vhu_iotlb_entry *e = &old->e[i];

		/* An entry whose memory went away is dropped; a miss will ask again. */
		if (iotlb_add_mapped(dev, t, old->n * 2 + 8, e->iova, e->size, e->uaddr,
				     e->perm) != 0)
			continue;
	}
	qsort(t->e, t->n, sizeof(t->e[0]), entry_cmp);
	iotlb_publish(dev, t, true);
}

void
vhu_iotlb_flush(struct vhu_vhost_dev *dev)
{
	struct vhu_iotlb *old = dev->iotlb;

	if (old == NULL)
		return;
	iotlb_new_epoch(dev);
	/* Release: pairs with the acquire in vhu_net_vq(), as in iotlb_publish(). */
	__atomic_store_n(&dev->iotlb, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&dev->iotlb_entries, 0, __ATOMIC_RELAXED);
	vhu_dev_wait_bursts(dev);
	free(old);
}

int
vhu_iotlb_send_miss(struct vhu_vhost_dev *dev, uint64_t iova, uint8_t perm)
{
	struct vhost_user_msg msg;
	size_t len;
	ssize_t n;

	if (dev->backend_req_fd < 0) {
		VHU_LOG(ERR, "%s: IOTLB miss at 0x%" PRIx64 " but the front-end gave no back-end "
			"channel (SET_BACKEND_REQ_FD); the ring waits", dev->path, iova);
		return -ENOTCONN;
	}
	memset(&msg, 0, sizeof(msg));
	msg.hdr.request = VHOST_USER_BACKEND_IOTLB_MSG;
	msg.hdr.flags = VHOST_USER_VERSION;
	msg.hdr.size = sizeof(msg.payload.iotlb);
	msg.payload.iotlb.iova = iova;
	msg.payload.iotlb.perm = perm;
	msg.payload.iotlb.type = VHOST_IOTLB_MISS;
	len = VHOST_USER_HDR_SIZE + msg.hdr.size;
	do {
		n = send(dev->backend_req_fd, vhost_user_msg_wire(&msg), len,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len)
		return -EIO;
	dev->iotlb_misses++;
	return 0;
}

/*
 * The miss record (miss_iova, miss_tsc, miss_epoch) belongs to the lcore
 * polling the ring, like the rest of its data-path fields; the control
 * thread never writes it. A miss for the address last asked for is a repeat,
 * not posted, while it is younger than 100 ms and no mapping was withdrawn
 * since (same epoch). After a withdrawal the address may have been mapped
 * and unmapped in between (a guest reusing the IOVA of a buffer it has just
 * unmapped): holding that miss back would stall the ring for up to 100 ms.
 * An UPDATE that answers the miss needs no new epoch: the address then
 * translates, and can only miss again after a withdrawal.
 */
void
vhu_iotlb_post_miss(struct vhu_vq *vq, uint64_t iova, uint8_t perm)
{
	struct vhu_vhost_dev *dev = vq->dev;
	struct vhu_iotlb_miss m = { .iova = iova, .perm = perm };
	uint64_t now = rte_get_tsc_cycles();
	/* Relaxed: the burst loaded the table with acquire (vhu_net_vq()), which
	 * orders this after the epoch stored before that table was published. */
	uint64_t epoch = __atomic_load_n(&dev->iotlb_epoch, __ATOMIC_RELAXED);

	if (iova == vq->miss_iova && epoch == vq->miss_epoch &&
	    now - vq->miss_tsc < rte_get_tsc_hz() / 10)
		return;
	vq->miss_iova = iova;
	vq->miss_tsc = now;
	vq->miss_epoch = epoch;
	if (dev->miss_ring == NULL ||
	    rte_ring_mp_enqueue_elem(dev->miss_ring, &m, sizeof(m)) != 0)
		return; /* full: the ring retries after 100 ms */
	if (eventfd_write(dev->miss_efd, 1) != 0)
		vq->stats.errors++;
}

/* Control thread: drain the misses posted by data lcores. */
static void
miss_event(void *arg, uint32_t events)
{
	struct vhu_vhost_dev *dev = arg;
	struct vhu_iotlb_miss m;
	eventfd_t v;

	if (eventfd_read(dev->miss_efd, &v) != 0)
		return;
	while (rte_ring_sc_dequeue_elem(dev->miss_ring, &m, sizeof(m)) == 0) {
		uint64_t len = 1;
		uint8_t *p;

		/* Answered meanwhile? */
		if (vhu_iotlb_map(dev->iotlb, m.iova, &len, (uint8_t)m.perm, &p) == VHU_MAP_OK)
			continue;
		vhu_iotlb_send_miss(dev, m.iova, (uint8_t)m.perm);
	}
}

int
vhu_iotlb_dev_init(struct vhu_vhost_dev *dev)
{
	char name[RTE_RING_NAMESIZE];
	int rc;

	snprintf(name, sizeof(name), "vhu_miss_%p", (void *)dev);
	dev->miss_ring = rte_ring_create_elem(name, sizeof(struct vhu_iotlb_miss), 64,
					      SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (dev->miss_ring == NULL)
		return -ENOMEM;
	dev->miss_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dev->miss_efd < 0) {
		rc = -errno;
		goto free_ring;
	}
	rc = vhu_ctrl_watch(dev->miss_efd, miss_event, dev, &dev->miss_handle);
	if (rc != 0)
		goto close_efd;
	return 0;
close_efd:
	close(dev->miss_efd);
	dev->miss_efd = -1;
free_ring:
	rte_ring_free(dev->miss_ring);
	dev->miss_ring = NULL;
	return rc;
}

void
vhu_iotlb_dev_fini(struct vhu_vhost_dev *dev)
{
	if (dev->miss_efd >= 0) {
		vhu_ctrl_unwatch(dev->miss_handle);
		close(dev->miss_efd);
		dev->miss_efd = -1;
	}
	rte_ring_free(dev->miss_ring);
	dev->miss_ring = NULL;
}

void *
vhu_dev_map_ring_area(struct vhu_vhost_dev *dev, uint64_t addr, uint64_t len, uint8_t perm)
{
	uint8_t *start = NULL, *p;
	uint64_t done = 0;

	if (!dev_has_feature(dev, VIRTIO_F_IOMMU_PLATFORM))
		return vhu_mem_uva_to_hva(dev->mem, addr, len);
	if (len == 0 || addr + len < addr)
		return NULL;
	/* IOTLB entries may be per page: walk them, requiring our side to be contiguous. */
	while (done < len) {
		uint64_t chunk = len - done;

		switch (vhu_iotlb_map(dev->iotlb, addr + done, &chunk, perm, &p)) {
		case VHU_MAP_OK:
			break;
		case VHU_MAP_MISS:
			vhu_iotlb_send_miss(dev, addr + done, perm);
			return NULL;
		default:
			VHU_LOG(ERR, "%s: ring area at iova 0x%" PRIx64 " lacks %s permission",
				dev->path, addr + done, perm == VHOST_ACCESS_RO ? "read" : "write");
			return NULL;
		}
		if (start == NULL)
			start = p;
		else if (p != start + done)
			return NULL; /* not contiguous in our address space */
		done += chunk;
	}
	return start;
}
