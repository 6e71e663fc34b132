/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Device objects: creation from a device type and its config, destruction,
 * the process's device list, and the state snapshots of the public API. What
 * a connection negotiates (features, memory table, reset) is vhost_state.c's;
 * ring state changes are in vhost_vq.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "vhost_iotlb.h"

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

int
vhu_dev_config_changed(struct vhu_vhost_dev *dev)
{
	struct vhost_user_msg msg;
	ssize_t n;

	if (dev->backend_req_fd < 0)
		return -ENOTCONN;
	memset(&msg, 0, sizeof(msg));
	msg.hdr.request = VHOST_USER_BACKEND_CONFIG_CHANGE_MSG;
	msg.hdr.flags = VHOST_USER_VERSION;
	msg.hdr.size = 0;
	do {
		n = send(dev->backend_req_fd, vhost_user_msg_wire(&msg), VHOST_USER_HDR_SIZE,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)VHOST_USER_HDR_SIZE ? 0 : -EIO;
}

int
vhu_dev_init(struct vhu_vhost_dev *dev, const struct vhu_device_type *type,
	     const struct vhu_dev_config *cfg, const void *type_cfg)
{
	uint16_t i, nq;

	if (cfg == NULL || cfg->path == NULL || cfg->path[0] == '\0' ||
	    strlen(cfg->path) >= sizeof(dev->path)) {
		VHU_LOG(ERR, "cannot create a %s device on %s: the socket path must be 1..%zu "
			"bytes", type->name, cfg != NULL && cfg->path != NULL ? cfg->path :
			"(null)", sizeof(dev->path) - 1);
		return -EINVAL;
	}
	nq = type->queue_count(type_cfg);
	if (nq == 0 || nq > VHU_MAX_VQS) {
		VHU_LOG(ERR, "cannot create a %s device on %s: %u rings (1..%u)", type->name,
			cfg->path, nq, VHU_MAX_VQS);
		return -EINVAL;
	}
	dev->type = type;
	dev->num_queues = nq;
	for (i = 0; i < nq; i++)
		vhu_vq_init(dev->vq[i], i, dev);
	snprintf(dev->path, sizeof(dev->path), "%s", cfg->path);
	dev->flags = cfg->flags;
	dev->disable_features = cfg->disable_features;
	if (cfg->callbacks != NULL)
		dev->cb = *cfg->callbacks;
	dev->cb_arg = cfg->callback_arg;
	dev->listen_fd = -1;
	dev->backend_req_fd = -1;
	dev->miss_efd = -1;
	dev->reply_fd = -1;
	type->init(dev, type_cfg);
	return 0;
}

static void
dev_free(struct vhu_vhost_dev *dev)
{
	uint16_t i;

	vhu_numa_free_retired(dev);
	for (i = 0; i < dev->num_queues; i++)
		rte_free(dev->vq[i]);
	rte_free(dev);
}

/* A device with 'nq' rings of type 'type', zeroed; NULL if memory is short. */
static struct vhu_vhost_dev *
dev_alloc(const struct vhu_device_type *type, uint16_t nq)
{
	struct vhu_vhost_dev *dev;
	uint16_t i;

	dev = rte_zmalloc("vhu_vhost_dev", vhu_dev_bytes(type), RTE_CACHE_LINE_SIZE);
	if (dev == NULL)
		return NULL;
	for (i = 0; i < nq; i++) {
		dev->vq[i] = rte_zmalloc("vhu_vq", vhu_vq_bytes(type), RTE_CACHE_LINE_SIZE);
		if (dev->vq[i] == NULL)
			goto free_vqs;
	}
	dev->num_queues = nq;
	return dev;
free_vqs:
	while (i-- > 0)
		rte_free(dev->vq[i]);
	rte_free(dev);
	return NULL;
}

struct vhu_vhost_dev *
vhu_dev_create(const struct vhu_device_type *type, const struct vhu_dev_config *cfg,
	       const void *type_cfg)
{
	struct vhu_vhost_dev *dev;
	uint16_t nq;
	int rc;

	nq = type->queue_count(type_cfg);
	if (nq == 0 || nq > VHU_MAX_VQS) {
		VHU_LOG(ERR, "cannot create a %s device on %s: %u rings (1..%u, this build's "
			"-Dmax_queue_pairs)", type->name, cfg != NULL && cfg->path != NULL ?
			cfg->path : "(null)", nq, VHU_MAX_VQS);
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
	dev = dev_alloc(type, nq);
	if (dev == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	rc = vhu_dev_init(dev, type, cfg, type_cfg);
	if (rc != 0) {
		dev_free(dev);
		rte_errno = -rc;
		return NULL;
	}
	dev->numa_place = true;
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
	vhu_dev_drop_retired_mem(dev);
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
	for (i = 0; i < dev->num_queues; i++)
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
	info->queue_pairs = dev->type->queue_num != NULL ? (uint16_t)dev->type->queue_num(dev) :
							   dev->num_queues;
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
	if (index >= dev->num_queues)
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
