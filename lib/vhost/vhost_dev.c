/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Device objects and ring state transitions.
 *
 * A ring is handed to the data path by vq_start(): the control thread fills
 * the data-path fields, then sets vq->ready with a release store. A burst
 * reads vq->ready with acquire before it touches anything else (pairing
 * edge), so it sees complete ring pointers and indexes. vhu_vq_stop() clears
 * vq->ready and waits on the ring's burst mark (vhu_handoff.h); after that no
 * burst runs on the ring and its fields belong to the control thread again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "vhost_iotlb.h"
#include "vhost_log.h"
#include "vhost_inflight.h"

RTE_LOG_REGISTER(vhu_vhost_logtype, vhu.vhost, INFO);

/* Every device of the process, to refuse a second one on the same path. */
static struct vhu_vhost_dev *dev_list;

static struct vhu_vhost_dev *
dev_find(const char *path)
{
	struct vhu_vhost_dev *d;

	for (d = dev_list; d != NULL; d = d->next)
		if (strcmp(d->path, path) == 0)
			return d;
	return NULL;
}

static void
dev_unlist(struct vhu_vhost_dev *dev)
{
	struct vhu_vhost_dev **p;

	for (p = &dev_list; *p != NULL; p = &(*p)->next) {
		if (*p == dev) {
			*p = dev->next;
			return;
		}
	}
}

void
vhu_fd_replace(int *slot, int fd)
{
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
}

void
vhu_vq_set_broken(struct vhu_vq *vq, const char *fmt, ...)
{
	va_list ap;

	vq->stats.errors++;
	if (vq->broken)
		return;
	va_start(ap, fmt);
	vsnprintf(vq->broken_reason, sizeof(vq->broken_reason), fmt, ap);
	va_end(ap);
	/* Release: a reader of the info snapshot that sees the latch (acquire in
	 * vhu_vhost_get_vq_info()) sees the reason written above. */
	__atomic_store_n(&vq->broken, true, __ATOMIC_RELEASE);
	VHU_LOG(ERR, "%s: ring %u broken by the guest: %s; the ring stays stopped until the "
		"front-end restarts it, other rings carry on",
		vq->dev != NULL ? vq->dev->path : "(no device)", vq->index, vq->broken_reason);
}

uint64_t
vhu_dev_offered_features(const struct vhu_vhost_dev *dev)
{
	return dev->type->features(dev) & ~dev->disable_features;
}

/* The fields of a new or reset ring that are not zero. */
static void
vq_set_initial(struct vhu_vq *vq, uint16_t index, struct vhu_vhost_dev *dev)
{
	vq->index = index;
	vq->dev = dev;
	vq->kickfd = -1;
	vq->callfd = -1;
	vq->errfd = -1;
	vq->numa_node = -1;
	vq->avail_wrap = true; /* packed rings start in wrap round 1 (2.8.1) */
	vq->used_wrap = true;
}

void
vhu_vq_reset(struct vhu_vq *vq)
{
	struct vhu_vhost_dev *dev = vq->dev;
	uint16_t index = vq->index;

	vhu_fd_replace(&vq->kickfd, -1);
	vhu_fd_replace(&vq->callfd, -1);
	vhu_fd_replace(&vq->errfd, -1);
	/* All but the mark: a burst that found the ring stopped may be writing
	 * it right now, and one that sees it cleared under it would leave it
	 * odd between bursts, so that the control thread waits out nothing. */
	RTE_BUILD_BUG_ON(offsetof(struct vhu_vq, mark) != 0);
	memset((char *)vq + sizeof(vq->mark), 0, sizeof(*vq) - sizeof(vq->mark));
	vq_set_initial(vq, index, dev);
}

/* Translate the ring areas; false (and a log line) if any is not in guest memory. */
static bool
vq_translate(struct vhu_vhost_dev *dev, struct vhu_vq *vq)
{
	bool ev = dev_has_feature(dev, VIRTIO_RING_F_EVENT_IDX);
	const struct vhu_mem *mem = dev->mem;
	uint32_t num = vq->size;

	if (dev_has_feature(dev, VIRTIO_F_RING_PACKED)) {
		vq->desc_packed = vhu_dev_map_ring_area(dev, vq->desc_uaddr,
						(uint64_t)num * sizeof(struct vring_packed_desc),
						VHOST_ACCESS_RW);
		vq->driver_event = vhu_dev_map_ring_area(dev, vq->avail_uaddr,
						sizeof(struct vring_packed_event), VHOST_ACCESS_RO);
		vq->device_event = vhu_dev_map_ring_area(dev, vq->used_uaddr,
						sizeof(struct vring_packed_event), VHOST_ACCESS_WO);
	} else {
		vq->desc = vhu_dev_map_ring_area(dev, vq->desc_uaddr, vring_desc_size(num),
						 VHOST_ACCESS_RO);
		vq->avail = vhu_dev_map_ring_area(dev, vq->avail_uaddr, vring_avail_size(num, ev),
						  VHOST_ACCESS_RO);
		vq->used = vhu_dev_map_ring_area(dev, vq->used_uaddr, vring_used_size(num, ev),
						 VHOST_ACCESS_RW);
	}
	if (vq->desc == NULL || vq->avail == NULL || vq->used == NULL) {
		if (dev_has_feature(dev, VIRTIO_F_IOMMU_PLATFORM)) {
			/* A miss was sent; the UPDATE restarts the ring. */
			VHU_LOG(DEBUG, "%s: ring %u waits for IOTLB entries of its areas", dev->path,
				vq->index);
			return false;
		}
		VHU_LOG(ERR, "%s: ring %u: descriptor, avail or used area (0x%" PRIx64 ", 0x%" PRIx64
			", 0x%" PRIx64 ", %u entries) is not inside guest memory; ring not started",
			dev->path, vq->index, vq->desc_uaddr, vq->avail_uaddr, vq->used_uaddr, num);
		return false;
	}
	/* SET_VRING_ADDR checked the front-end's addresses; what we access is our
	 * mapping of them, which a region whose userspace_addr is not aligned like
	 * its mmap_offset (or an IOTLB entry) can shift. The indexes are read and
	 * written atomically: they must be naturally aligned here. */
	if (((uintptr_t)vq->desc & 15) != 0 || ((uintptr_t)vq->avail & 1) != 0 ||
	    ((uintptr_t)vq->used & 3) != 0) {
		VHU_LOG(ERR, "%s: ring %u: areas at 0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 " are "
			"misaligned as mapped (a memory region's userspace_addr and mmap_offset, "
			"or an IOTLB entry's iova and uaddr, differ in alignment); ring not started",
			dev->path, vq->index, vq->desc_uaddr, vq->avail_uaddr, vq->used_uaddr);
		return false;
	}
	vq->mem = mem;
	return true;
}

void
vhu_vq_try_start(struct vhu_vhost_dev *dev, struct vhu_vq *vq)
{
	uint16_t used_idx;

	if (vq->ready || !vq->started || !vq->enabled || !vq->num_set || !vq->addr_set ||
	    dev->mem == NULL)
		return;
	/* SET_VRING_NUM checked the size against the features of its time; the
	 * front-end may have renegotiated split rings since. */
	if (!dev_has_feature(dev, VIRTIO_F_RING_PACKED) && (vq->size & (vq->size - 1)) != 0) {
		VHU_LOG(ERR, "%s: ring %u: a split ring of %u entries (not a power of two); ring "
			"not started, set its size again", dev->path, vq->index, vq->size);
		return;
	}
	if (!vq_translate(dev, vq))
		return;
	vq->dev = dev;
	vq->iommu = dev_has_feature(dev, VIRTIO_F_IOMMU_PLATFORM);
	vq->iotlb = NULL;
	vq->logging = dev_has_feature(dev, VHOST_F_LOG_ALL);
	vq->log = NULL;
	vq->event_idx = dev_has_feature(dev, VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = dev_has_feature(dev, VIRTIO_RING_F_INDIRECT_DESC);
	vq->mrg_rxbuf = dev_has_feature(dev, VIRTIO_NET_F_MRG_RXBUF);
	vq->in_order = dev_has_feature(dev, VIRTIO_F_IN_ORDER);
	vq->features = dev->features;
	vq->offload = (dev->features & (VHU_BIT(VIRTIO_NET_F_CSUM) |
					VHU_BIT(VIRTIO_NET_F_GUEST_CSUM) |
					VHU_BIT(VIRTIO_NET_F_HOST_TSO4) |
					VHU_BIT(VIRTIO_NET_F_HOST_TSO6) |
					VHU_BIT(VIRTIO_NET_F_GUEST_TSO4) |
					VHU_BIT(VIRTIO_NET_F_GUEST_TSO6))) != 0;
	vq->vhdr_len = (vq->mrg_rxbuf || dev_has_feature(dev, VIRTIO_F_VERSION_1)) ?
			       sizeof(struct virtio_net_hdr_mrg_rxbuf) :
			       sizeof(struct virtio_net_hdr);
	vq->packed = dev_has_feature(dev, VIRTIO_F_RING_PACKED);
	if (vq->packed) {
		if (vq->last_avail_idx >= vq->size) {
			VHU_LOG(ERR, "%s: ring %u: base slot %u is past the %u-entry ring; ring not "
				"started", dev->path, vq->index, vq->last_avail_idx, vq->size);
			return;
		}
		/* Chains between the used and avail positions were taken by a
		 * previous backend and never returned: take them again. We complete
		 * every chain in the order we take it, so used follows avail. */
		if (vq->last_used_idx != vq->last_avail_idx || vq->used_wrap != vq->avail_wrap) {
			if (vq->last_used_idx >= vq->size) {
				VHU_LOG(ERR, "%s: ring %u: used slot %u is past the %u-entry ring; "
					"ring not started", dev->path, vq->index, vq->last_used_idx,
					vq->size);
				return;
			}
			VHU_LOG(WARNING, "%s: ring %u: avail slot %u differs from used slot %u; "
				"resuming at %u (in-flight chains are taken again)", dev->path,
				vq->index, vq->last_avail_idx, vq->last_used_idx, vq->last_used_idx);
			vq->last_avail_idx = vq->last_used_idx;
			vq->avail_wrap = vq->used_wrap;
		}
		/* We poll: no kicks, please. */
		__atomic_store_n(&vq->device_event->flags, VRING_PACKED_EVENT_FLAG_DISABLE,
				 __ATOMIC_RELAXED);
		goto publish;
	}
	/* The used index is ours; a front-end that restarted kept it in guest memory. */
	used_idx = __atomic_load_n(&vq->used->idx, __ATOMIC_RELAXED);
	if (used_idx != vq->last_avail_idx) {
		VHU_LOG(WARNING, "%s: ring %u: base %u differs from used index %u; resuming at %u "
			"(in-flight packets are lost)", dev->path, vq->index, vq->last_avail_idx,
			used_idx, used_idx);
		vq->last_avail_idx = used_idx;
	}
	vq->last_used_idx = used_idx;
	/* We poll: ask the driver not to kick (it may still, harmlessly). */
	__atomic_store_n(&vq->used->flags, VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
	vhu_log_hva_stopped(dev, vq, &vq->used->flags, sizeof(vq->used->flags));
publish:
	vhu_inflight_ring_start(dev, vq);
	vq->inflight_counter = 0;
	vq->broken = false;
	vq->broken_reason[0] = '\0';
	/* Release: publishes every field above to the lcore whose acquire load
	 * of vq->ready starts a burst. */
	__atomic_store_n(&vq->ready, true, __ATOMIC_RELEASE);
	VHU_LOG(INFO, "%s: ring %u started (%u entries, base %u)", dev->path, vq->index, vq->size,
		vq->last_avail_idx);
}

/* Drop the packets a stopped ring held for an IOTLB miss (counted as errors). */
static void
vq_drop_stash(struct vhu_vq *vq)
{
	if (vq->stash_n == 0)
		return;
	vq->stats.errors += vq->stash_n;
	rte_pktmbuf_free_bulk(vq->stash, vq->stash_n);
	vq->stash_n = 0;
}

void
vhu_vq_wait_burst(struct vhu_vhost_dev *dev, struct vhu_vq *vq)
{
	/* Orders what the caller unpublished before the load of the mark
	 * (vhu_handoff.h: the fence between [C] and [D]). */
	vhu_handoff_barrier();
	vhu_burst_wait(&vq->mark, dev->path, vq->index);
}

void
vhu_dev_wait_bursts(struct vhu_vhost_dev *dev)
{
	uint16_t i;

	/* One barrier covers every mark read below. */
	vhu_handoff_barrier();
	for (i = 0; i < dev->max_vqs; i++)
		vhu_burst_wait(&dev->vq[i]->mark, dev->path, i);
}

void
vhu_vq_stop(struct vhu_vhost_dev *dev, struct vhu_vq *vq)
{
	if (!vq->ready)
		return;
	/* Relaxed: vhu_vq_wait_burst() fences before it reads the mark. */
	__atomic_store_n(&vq->ready, false, __ATOMIC_RELAXED);
	/* Once it returns no burst that saw ready == true is still running, and
	 * the burst's last stores (indexes, stats) are visible to us. */
	vhu_vq_wait_burst(dev, vq);
	vq->mem = NULL;
	vq_drop_stash(vq);
}

void
vhu_dev_stop_all(struct vhu_vhost_dev *dev)
{
	bool any = false;
	uint16_t i;

	for (i = 0; i < dev->max_vqs; i++) {
		if (dev->vq[i]->ready) {
			__atomic_store_n(&dev->vq[i]->ready, false, __ATOMIC_RELAXED);
			any = true;
		}
	}
	/* One barrier covers every ring cleared above. */
	if (any)
		vhu_dev_wait_bursts(dev);
	for (i = 0; i < dev->max_vqs; i++) {
		dev->vq[i]->mem = NULL;
		vq_drop_stash(dev->vq[i]);
	}
}

void
vhu_dev_restart_all(struct vhu_vhost_dev *dev)
{
	uint16_t i;

	for (i = 0; i < dev->max_vqs; i++)
		vhu_vq_try_start(dev, dev->vq[i]);
}

/* Keep the copies vhu_vhost_get_info() reads from any thread in step with dev->mem. */
static void
dev_count_mem(struct vhu_vhost_dev *dev)
{
	uint64_t bytes = 0;
	uint32_t i, n = dev->mem != NULL ? dev->mem->nregions : 0;

	for (i = 0; i < n; i++)
		bytes += dev->mem->regions[i].size;
	__atomic_store_n(&dev->mem_regions, n, __ATOMIC_RELAXED);
	__atomic_store_n(&dev->mem_bytes, bytes, __ATOMIC_RELAXED);
}

void
vhu_dev_replace_mem(struct vhu_vhost_dev *dev, struct vhu_mem *mem)
{
	struct vhu_mem *old = dev->mem;

	vhu_dev_stop_all(dev);
	vhu_numa_learn_regions(mem);
	dev->mem = mem;
	dev_count_mem(dev);
	/* IOTLB entries point into the old mappings: re-map them first. */
	vhu_iotlb_remap(dev);
	vhu_mem_free(old, mem);
	vhu_dev_restart_all(dev);
}

void
vhu_dev_reset(struct vhu_vhost_dev *dev)
{
	uint16_t i;

	vhu_dev_stop_all(dev);
	for (i = 0; i < dev->max_vqs; i++)
		vhu_vq_reset(dev->vq[i]);
	vhu_iotlb_flush(dev);
	vhu_log_free(dev);
	vhu_inflight_free(dev);
	dev->rarp_pending = false;
	vhu_mem_free(dev->mem, NULL);
	dev->mem = NULL;
	dev_count_mem(dev);
	dev->features = 0;
	dev->features_set = false;
	dev->protocol_features = 0;
	dev->owner = false;
	dev->status = 0;
	dev->req_mtu = 0;
	dev->nr_vqs = 0;
	vhu_fd_replace(&dev->backend_req_fd, -1);
}

uint64_t
vhu_dev_offered_protocol_features(const struct vhu_vhost_dev *dev)
{
	uint64_t pf = VHU_PROTOCOL_FEATURES;

	/* MTU is offered only with an MTU to offer (VIRTIO_NET_F_MTU goes with it). */
	if (dev->mtu == 0)
		pf &= ~VHU_BIT(VHOST_USER_PROTOCOL_F_MTU);
	return pf;
}

void
vhu_vq_init(struct vhu_vq *vq, uint16_t index, struct vhu_vhost_dev *dev)
{
	memset(vq, 0, sizeof(*vq));
	vq_set_initial(vq, index, dev);
}

void
vhu_dev_init(struct vhu_vhost_dev *dev, const struct vhu_vhost_config *cfg)
{
	uint16_t i;

	dev->max_vqs = 2 * cfg->queue_pairs;
	for (i = 0; i < dev->max_vqs; i++)
		vhu_vq_init(dev->vq[i], i, dev);
	snprintf(dev->path, sizeof(dev->path), "%s", cfg->path);
	dev->flags = cfg->flags;
	dev->queue_pairs = cfg->queue_pairs;
	dev->disable_features = cfg->disable_features;
	dev->mtu = cfg->mtu;
	memcpy(dev->mac, cfg->mac, sizeof(dev->mac));
	if (cfg->callbacks != NULL)
		dev->cb = *cfg->callbacks;
	dev->cb_arg = cfg->callback_arg;
	dev->type = &vhu_net_device_type;
	dev->listen_fd = -1;
	dev->backend_req_fd = -1;
	dev->miss_efd = -1;
	dev->reply_fd = -1;
}

static struct vhu_vhost_dev *
dev_alloc(const struct vhu_vhost_config *cfg)
{
	struct vhu_vhost_dev *dev;
	uint16_t i;

	dev = rte_zmalloc("vhu_vhost_dev", sizeof(*dev), RTE_CACHE_LINE_SIZE);
	if (dev == NULL)
		return NULL;
	for (i = 0; i < 2u * cfg->queue_pairs; i++) {
		dev->vq[i] = rte_zmalloc("vhu_vq", sizeof(struct vhu_vq), RTE_CACHE_LINE_SIZE);
		if (dev->vq[i] == NULL)
			goto free_vqs;
	}
	vhu_dev_init(dev, cfg);
	dev->numa_place = true;
	return dev;
free_vqs:
	while (i-- > 0)
		rte_free(dev->vq[i]);
	rte_free(dev);
	return NULL;
}

static void
dev_free(struct vhu_vhost_dev *dev)
{
	uint16_t i;

	vhu_numa_free_retired(dev);
	for (i = 0; i < dev->max_vqs; i++)
		rte_free(dev->vq[i]);
	rte_free(dev);
}

struct vhu_vhost_dev *
vhu_vhost_create(const struct vhu_vhost_config *cfg)
{
	struct vhu_vhost_dev *dev;
	int rc;

	if (cfg == NULL || cfg->path == NULL || cfg->path[0] == '\0' ||
	    strlen(cfg->path) >= sizeof(dev->path) || cfg->queue_pairs == 0 ||
	    cfg->queue_pairs > VHU_MAX_QUEUE_PAIRS) {
		VHU_LOG(ERR,
			"cannot create device %s: the socket path must be 1..107 bytes and "
			"queue pairs 1..%u (this build's -Dmax_queue_pairs)",
			cfg != NULL && cfg->path != NULL ? cfg->path : "(null)",
			VHU_MAX_QUEUE_PAIRS);
		rte_errno = EINVAL;
		return NULL;
	}
	rc = vhu_handoff_init();
	/* Without vhu_init(), the first device starts the control thread. */
	vhu_ctrl_set_after(vhu_events_deliver);
	if (rc == 0)
		rc = vhu_ctrl_start();
	if (rc != 0) {
		rte_errno = -rc;
		return NULL;
	}
	dev = dev_alloc(cfg);
	if (dev == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_lock(&vhu_ctrl_lock);
	if (dev_find(dev->path) != NULL) {
		VHU_LOG(ERR, "%s is already served by a device of this process; choose another "
			"path", dev->path);
		rc = -EEXIST;
	} else {
		rc = vhu_iotlb_dev_init(dev);
	}
	if (rc == 0) {
		rc = vhu_socket_open(dev);
		if (rc != 0)
			vhu_iotlb_dev_fini(dev);
	}
	if (rc == 0) {
		dev->next = dev_list;
		dev_list = dev;
	}
	pthread_mutex_unlock(&vhu_ctrl_lock);
	if (rc != 0) {
		dev_free(dev);
		rte_errno = -rc;
		return NULL;
	}
	return dev;
}

void
vhu_vhost_destroy(struct vhu_vhost_dev *dev)
{
	if (dev == NULL)
		return;
	pthread_mutex_lock(&vhu_ctrl_lock);
	dev->destroying = true;
	dev_unlist(dev);
	if (dev->conn != NULL)
		vhu_conn_close(dev, "device destroyed");
	vhu_socket_close(dev);
	vhu_dev_reset(dev);
	vhu_iotlb_dev_fini(dev);
	/* Last: closing the connection above queued events of its own. */
	vhu_events_drop(dev);
	pthread_mutex_unlock(&vhu_ctrl_lock);
	/* A burst that found its ring stopped may still be leaving: it writes
	 * its mark on the way out. */
	vhu_dev_wait_bursts(dev);
	dev_free(dev);
}

bool
vhu_vhost_link_up(const struct vhu_vhost_dev *dev)
{
	uint16_t i;

	if (dev == NULL)
		return false;
	for (i = 0; i < dev->max_vqs; i++)
		if (__atomic_load_n(&dev->vq[i]->ready, __ATOMIC_RELAXED))
			return true;
	return false;
}

const char *
vhu_vhost_path(const struct vhu_vhost_dev *dev)
{
	return dev != NULL ? dev->path : NULL;
}

uint16_t
vhu_vhost_max_queue_pairs(void)
{
	return VHU_MAX_QUEUE_PAIRS;
}

/*
 * Any thread, without the control lock (a data lcore that waited for it could
 * hold up the grace period the lock holder waits for). Every field is a
 * scalar the control thread or the ring's lcore stores whole; the snapshot is
 * consistent field by field, not as a whole, which is enough for displays.
 */
int
vhu_vhost_get_info(struct vhu_vhost_dev *dev, struct vhu_vhost_info *info)
{
	uint16_t nr_vqs;

	if (dev == NULL || info == NULL)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->conn = __atomic_load_n(&dev->conn_state, __ATOMIC_RELAXED);
	info->features = __atomic_load_n(&dev->features, __ATOMIC_RELAXED);
	info->protocol_features = __atomic_load_n(&dev->protocol_features, __ATOMIC_RELAXED);
	info->status = __atomic_load_n(&dev->status, __ATOMIC_RELAXED);
	info->queue_pairs = dev->queue_pairs;
	nr_vqs = __atomic_load_n(&dev->nr_vqs, __ATOMIC_RELAXED);
	info->nr_vqs = nr_vqs;
	info->connections = __atomic_load_n(&dev->connections, __ATOMIC_RELAXED);
	info->iotlb_misses = __atomic_load_n(&dev->iotlb_misses, __ATOMIC_RELAXED);
	info->iotlb_updates = __atomic_load_n(&dev->iotlb_updates, __ATOMIC_RELAXED);
	info->iotlb_invalidations = __atomic_load_n(&dev->iotlb_invalidations, __ATOMIC_RELAXED);
	info->iotlb_entries = __atomic_load_n(&dev->iotlb_entries, __ATOMIC_RELAXED);
	info->nr_regions = __atomic_load_n(&dev->mem_regions, __ATOMIC_RELAXED);
	info->mem_bytes = __atomic_load_n(&dev->mem_bytes, __ATOMIC_RELAXED);
	info->running = vhu_dev_running(dev);
	return 0;
}

int
vhu_vhost_get_vq_info(struct vhu_vhost_dev *dev, uint16_t index, struct vhu_vhost_vq_info *vi)
{
	const struct vhu_vq *vq;

	if (dev == NULL || vi == NULL)
		return -EINVAL;
	if (index >= dev->max_vqs)
		return -ERANGE;
	vq = dev->vq[index];
	memset(vi, 0, sizeof(*vi));
	vi->enabled = __atomic_load_n(&vq->enabled, __ATOMIC_RELAXED);
	vi->started = __atomic_load_n(&vq->started, __ATOMIC_RELAXED);
	vi->ready = __atomic_load_n(&vq->ready, __ATOMIC_RELAXED);
	vi->packed = __atomic_load_n(&vq->packed, __ATOMIC_RELAXED);
	vi->size = __atomic_load_n(&vq->size, __ATOMIC_RELAXED);
	vi->last_avail = __atomic_load_n(&vq->last_avail_idx, __ATOMIC_RELAXED);
	vi->used_idx = __atomic_load_n(&vq->last_used_idx, __ATOMIC_RELAXED);
	vi->errors = __atomic_load_n(&vq->stats.errors, __ATOMIC_RELAXED);
	vi->nombuf = __atomic_load_n(&vq->stats.nombuf, __ATOMIC_RELAXED);
	vi->bad_hdr = __atomic_load_n(&vq->stats.bad_hdr, __ATOMIC_RELAXED);
	vi->notify = __atomic_load_n(&vq->stats.notify, __ATOMIC_RELAXED);
	vi->numa_node = __atomic_load_n(&vq->numa_node, __ATOMIC_RELAXED);
	/* Acquire: pairs with the release store in vhu_vq_set_broken(), after the reason. */
	vi->broken = __atomic_load_n(&vq->broken, __ATOMIC_ACQUIRE);
	if (vi->broken)
		snprintf(vi->broken_reason, sizeof(vi->broken_reason), "%s", vq->broken_reason);
	/* The avail index lives in guest memory, which the control thread unmaps
	 * under its lock: read it only while holding the lock, and only if the
	 * lock is free now, so that no caller ever waits for it. */
	if (vi->ready && pthread_mutex_trylock(&vhu_ctrl_lock) == 0) {
		if (vq->ready && !vq->packed && vq->avail != NULL) {
			vi->avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_RELAXED);
			vi->avail_idx_valid = true;
		}
		pthread_mutex_unlock(&vhu_ctrl_lock);
	}
	return 0;
}

static const char *const virtio_feature_names[64] = {
	[VIRTIO_NET_F_CSUM] = "CSUM",
	[VIRTIO_NET_F_GUEST_CSUM] = "GUEST_CSUM",
	[VIRTIO_NET_F_MTU] = "MTU",
	[VIRTIO_NET_F_MAC] = "MAC",
	[VIRTIO_NET_F_GUEST_TSO4] = "GUEST_TSO4",
	[VIRTIO_NET_F_GUEST_TSO6] = "GUEST_TSO6",
	[VIRTIO_NET_F_GUEST_ECN] = "GUEST_ECN",
	[VIRTIO_NET_F_GUEST_UFO] = "GUEST_UFO",
	[VIRTIO_NET_F_HOST_TSO4] = "HOST_TSO4",
	[VIRTIO_NET_F_HOST_TSO6] = "HOST_TSO6",
	[VIRTIO_NET_F_HOST_ECN] = "HOST_ECN",
	[VIRTIO_NET_F_HOST_UFO] = "HOST_UFO",
	[VIRTIO_NET_F_MRG_RXBUF] = "MRG_RXBUF",
	[VIRTIO_NET_F_STATUS] = "STATUS",
	[VIRTIO_NET_F_CTRL_VQ] = "CTRL_VQ",
	[VIRTIO_NET_F_CTRL_RX] = "CTRL_RX",
	[VIRTIO_NET_F_GUEST_ANNOUNCE] = "GUEST_ANNOUNCE",
	[VIRTIO_NET_F_MQ] = "MQ",
	[VIRTIO_F_NOTIFY_ON_EMPTY] = "NOTIFY_ON_EMPTY",
	[VHOST_F_LOG_ALL] = "LOG_ALL",
	[VIRTIO_F_ANY_LAYOUT] = "ANY_LAYOUT",
	[VIRTIO_RING_F_INDIRECT_DESC] = "INDIRECT_DESC",
	[VIRTIO_RING_F_EVENT_IDX] = "EVENT_IDX",
	[VHOST_USER_F_PROTOCOL_FEATURES] = "PROTOCOL_FEATURES",
	[VIRTIO_F_VERSION_1] = "VERSION_1",
	[VIRTIO_F_IOMMU_PLATFORM] = "IOMMU_PLATFORM",
	[VIRTIO_F_RING_PACKED] = "RING_PACKED",
	[VIRTIO_F_IN_ORDER] = "IN_ORDER",
	[VIRTIO_F_ORDER_PLATFORM] = "ORDER_PLATFORM",
	[VIRTIO_F_NOTIFICATION_DATA] = "NOTIFICATION_DATA",
};

static const char *const protocol_feature_names[64] = {
	[VHOST_USER_PROTOCOL_F_MQ] = "MQ",
	[VHOST_USER_PROTOCOL_F_LOG_SHMFD] = "LOG_SHMFD",
	[VHOST_USER_PROTOCOL_F_RARP] = "RARP",
	[VHOST_USER_PROTOCOL_F_REPLY_ACK] = "REPLY_ACK",
	[VHOST_USER_PROTOCOL_F_MTU] = "MTU",
	[VHOST_USER_PROTOCOL_F_BACKEND_REQ] = "BACKEND_REQ",
	[VHOST_USER_PROTOCOL_F_CROSS_ENDIAN] = "CROSS_ENDIAN",
	[VHOST_USER_PROTOCOL_F_CRYPTO_SESSION] = "CRYPTO_SESSION",
	[VHOST_USER_PROTOCOL_F_PAGEFAULT] = "PAGEFAULT",
	[VHOST_USER_PROTOCOL_F_CONFIG] = "CONFIG",
	[VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD] = "BACKEND_SEND_FD",
	[VHOST_USER_PROTOCOL_F_HOST_NOTIFIER] = "HOST_NOTIFIER",
	[VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD] = "INFLIGHT_SHMFD",
	[VHOST_USER_PROTOCOL_F_RESET_DEVICE] = "RESET_DEVICE",
	[VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS] = "INBAND_NOTIFICATIONS",
	[VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS] = "CONFIGURE_MEM_SLOTS",
	[VHOST_USER_PROTOCOL_F_STATUS] = "STATUS",
};

const char *
vhu_virtio_feature_name(unsigned int bit)
{
	return bit < 64 ? virtio_feature_names[bit] : NULL;
}

const char *
vhu_protocol_feature_name(unsigned int bit)
{
	return bit < 64 ? protocol_feature_names[bit] : NULL;
}
