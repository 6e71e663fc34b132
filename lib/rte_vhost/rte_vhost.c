/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * librte_vhost.so.23 on vhu: DPDK 22.11's vhost library API, with DPDK's
 * documented semantics, served by libvhu's backend. Registration, the
 * lifecycle callbacks, features, queries and the net bursts live here; what
 * vhu does not do (vDPA, crypto, async copy) is in rte_vhost_refused.c.
 *
 * Threads: registration calls take 'rv_lock' (never held across a call into
 * the application). The application's callbacks run on libvhu's control
 * thread. Bursts take no lock: a vid's backend pointer is set by
 * rte_vhost_driver_start() and cleared by rte_vhost_driver_unregister(), and
 * DPDK's rule holds: no burst on a device being unregistered.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_vhost.h>

#include "rte_vhost_priv.h"
#include "vhu.h"
#include "vhu_vhost.h"

RTE_LOG_REGISTER(rv_logtype, lib.vhost.vhu, INFO);

/* DPDK 22.11's MAX_VHOST_DEVICE. */
#define RV_MAX_DEVICES 1024

#define RV_BIT(b) (UINT64_C(1) << (b))
/* The feature bits that decide libvhu's offload flags (linux/virtio_net.h,
 * which rte_vhost.h includes, numbers them). */
#define RV_CSUM_BITS (RV_BIT(VIRTIO_NET_F_CSUM) | RV_BIT(VIRTIO_NET_F_GUEST_CSUM))
#define RV_TSO_BITS \
	(RV_BIT(VIRTIO_NET_F_HOST_TSO4) | RV_BIT(VIRTIO_NET_F_HOST_TSO6) | \
	 RV_BIT(VIRTIO_NET_F_GUEST_TSO4) | RV_BIT(VIRTIO_NET_F_GUEST_TSO6))

/* Flags DPDK defines that vhu accepts: EXTBUF and LINEARBUF describe mbufs
 * vhu makes anyway (one linear mbuf per packet, or a chain it frees itself);
 * NET_COMPLIANT_OL_FLAGS and NET_STATS_ENABLE are honoured. */
#define RV_FLAGS_OK \
	(RTE_VHOST_USER_CLIENT | RTE_VHOST_USER_NO_RECONNECT | RTE_VHOST_USER_IOMMU_SUPPORT | \
	 RTE_VHOST_USER_EXTBUF_SUPPORT | RTE_VHOST_USER_LINEARBUF_SUPPORT | \
	 RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS | RTE_VHOST_USER_NET_STATS_ENABLE)

/* Per-virtqueue counters of rte_vhost_vring_stats_*: written by the one lcore
 * that bursts on the queue, read and reset from the control side. */
struct rv_vq_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t multicast;
	uint64_t broadcast;
	uint64_t notify_base; /* vhu's notify count at the last reset */
	uint64_t errors_base; /* vhu's error count at the last reset */
};

struct rv_dev {
	bool used;
	bool ready;	/* new_device returned; destroy_device owed */
	bool connected; /* new_connection called; destroy_connection owed */
	char path[PATH_MAX];
	uint64_t flags;		    /* RTE_VHOST_USER_* */
	uint64_t supported;	    /* what libvhu can offer here (vhu_vhost_offered_features) */
	uint64_t features;	    /* offered: 'supported' as the application narrowed it */
	uint64_t protocol_features; /* libvhu's, offered as a whole */
	struct rte_vhost_device_ops ops;
	bool has_ops;
	struct vhu_vhost_dev *vdev; /* set while started */
	uint16_t queue_pairs;
	struct rv_vq_stats *stats; /* 2 * queue_pairs, NET_STATS_ENABLE only */
	uint64_t inflight_counter; /* fetch order of the inflight entries the application sets */
};

static pthread_mutex_t rv_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rv_dev rv_devs[RV_MAX_DEVICES];

RTE_INIT(rv_announce)
{
	RV_LOG(INFO, "librte_vhost.so.23 is vhu %s's vhost-user backend\n", VHU_VERSION);
}

/* Registered device with 'path', or NULL. Under rv_lock. */
static struct rv_dev *
rv_find(const char *path)
{
	for (int i = 0; i < RV_MAX_DEVICES; i++)
		if (rv_devs[i].used && strcmp(rv_devs[i].path, path) == 0)
			return &rv_devs[i];
	return NULL;
}

/* rv_find() with the log line DPDK's calls give for an unknown path. */
static struct rv_dev *
rv_find_path(const char *path, const char *call)
{
	struct rv_dev *d = path ? rv_find(path) : NULL;

	if (d == NULL)
		RV_LOG(ERR, "%s: socket file %s is not registered\n", call, path ? path : "(null)");
	return d;
}

static int
rv_vid(const struct rv_dev *d)
{
	return (int)(d - rv_devs);
}

struct vhu_vhost_dev *
rv_vdev(const struct rv_dev *d)
{
	return __atomic_load_n(&d->vdev, __ATOMIC_ACQUIRE);
}

uint64_t
rv_inflight_next(struct rv_dev *d)
{
	return __atomic_fetch_add(&d->inflight_counter, 1, __ATOMIC_RELAXED);
}

struct rv_dev *
rv_lookup(int vid, const char *call)
{
	struct rv_dev *d;

	if (vid < 0 || vid >= RV_MAX_DEVICES) {
		RV_LOG(ERR, "%s: device %d does not exist\n", call, vid);
		return NULL;
	}
	d = &rv_devs[vid];
	if (!__atomic_load_n(&d->used, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&d->vdev, __ATOMIC_ACQUIRE) == NULL) {
		RV_LOG(ERR, "%s: device %d does not exist or is not started\n", call, vid);
		return NULL;
	}
	return d;
}

/* --- callbacks from libvhu's control thread --------------------------------- */

static struct rv_dev *
rv_of(void *arg)
{
	return &rv_devs[(uintptr_t)arg];
}

static void
rv_device_ready(void *arg, struct vhu_vhost_dev *vdev)
{
	struct rv_dev *d = rv_of(arg);
	struct vhu_vhost_info info;
	int vid = rv_vid(d);

	if (!__atomic_exchange_n(&d->connected, true, __ATOMIC_ACQ_REL) && d->ops.new_connection)
		d->ops.new_connection(vid);
	if (__atomic_load_n(&d->ready, __ATOMIC_ACQUIRE))
		return;
	if (vhu_vhost_get_info(vdev, &info) == 0)
		RV_LOG(INFO, "(%s) negotiated Virtio features: 0x%" PRIx64 "\n", d->path,
		       info.features);
	if (d->ops.new_device && d->ops.new_device(vid) != 0) {
		RV_LOG(ERR, "device %d (%s): the application refused it (new_device)\n", vid,
		       d->path);
		return;
	}
	__atomic_store_n(&d->ready, true, __ATOMIC_RELEASE);
}

/* destroy_device, once per new_device: from the control thread or the
 * unregistering one, whichever comes first. */
static void
rv_stop(struct rv_dev *d)
{
	if (__atomic_exchange_n(&d->ready, false, __ATOMIC_ACQ_REL) && d->ops.destroy_device)
		d->ops.destroy_device(rv_vid(d));
}

static void
rv_device_stopping(void *arg, struct vhu_vhost_dev *vdev)
{
	rv_stop(rv_of(arg));
}

static void
rv_vring_state(void *arg, struct vhu_vhost_dev *vdev, uint16_t vq, bool enabled)
{
	struct rv_dev *d = rv_of(arg);

	if (d->ops.vring_state_changed)
		d->ops.vring_state_changed(rv_vid(d), vq, enabled);
}

static void
rv_features_changed(void *arg, struct vhu_vhost_dev *vdev, uint64_t features)
{
	struct rv_dev *d = rv_of(arg);

	if (d->ops.features_changed)
		d->ops.features_changed(rv_vid(d), features);
}

static void
rv_connection_closed(void *arg, struct vhu_vhost_dev *vdev)
{
	struct rv_dev *d = rv_of(arg);

	rv_stop(d);
	if (__atomic_exchange_n(&d->connected, false, __ATOMIC_ACQ_REL) &&
	    d->ops.destroy_connection)
		d->ops.destroy_connection(rv_vid(d));
}

static const struct vhu_vhost_callbacks rv_callbacks = {
	.device_ready = rv_device_ready,
	.device_stopping = rv_device_stopping,
	.vring_state = rv_vring_state,
	.features_changed = rv_features_changed,
	.connection_closed = rv_connection_closed,
};

/* --- registration ------------------------------------------------------------ */

/*
 * What libvhu's net device can offer on d's path, as libvhu itself says
 * (every offload on, the flags' IOMMU support, the queue pairs, and
 * VIRTIO_NET_F_MTU with the front-end's MTU, as DPDK offers it). The
 * application narrows d->features with set/enable/disable_features; the
 * start turns them into libvhu's flags and disable_features.
 */
static void
rv_supported(struct rv_dev *d)
{
	struct vhu_vhost_config cfg = {
		.path = d->path,
		.queue_pairs = d->queue_pairs,
		.flags = VHU_VHOST_CSUM | VHU_VHOST_TSO | VHU_VHOST_FRONTEND_MTU |
			 ((d->flags & RTE_VHOST_USER_IOMMU_SUPPORT) ? VHU_VHOST_IOMMU_SUPPORT : 0),
	};

	/* It cannot fail: every pointer is given. */
	vhu_vhost_offered_features(&cfg, &d->supported, &d->protocol_features);
}

int
rte_vhost_driver_register(const char *path, uint64_t flags)
{
	struct rv_dev *d = NULL;
	int ret = -1;

	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(d->path)) {
		RV_LOG(ERR,
		       "rte_vhost_driver_register: a socket path is needed (and "
		       "shorter than %zu bytes)\n",
		       sizeof(d->path));
		return -1;
	}
	if (flags & ~(uint64_t)RV_FLAGS_OK) {
		RV_LOG(ERR,
		       "rte_vhost_driver_register %s: flags 0x%" PRIx64 " are not supported "
		       "by vhu's backend (postcopy, async copy, dequeue zero copy)\n",
		       path, flags & ~(uint64_t)RV_FLAGS_OK);
		return -1;
	}
	pthread_mutex_lock(&rv_lock);
	if (rv_find(path) != NULL) {
		RV_LOG(ERR, "rte_vhost_driver_register: %s is already registered\n", path);
		goto out;
	}
	for (int i = 0; i < RV_MAX_DEVICES && d == NULL; i++)
		if (!rv_devs[i].used)
			d = &rv_devs[i];
	if (d == NULL) {
		RV_LOG(ERR, "rte_vhost_driver_register %s: all %d devices are in use\n", path,
		       RV_MAX_DEVICES);
		goto out;
	}
	memset(d, 0, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "%s", path);
	d->flags = flags;
	d->queue_pairs = vhu_vhost_max_queue_pairs();
	rv_supported(d);
	d->features = d->supported;
	__atomic_store_n(&d->used, true, __ATOMIC_RELEASE);
	ret = 0;
out:
	pthread_mutex_unlock(&rv_lock);
	return ret;
}

int
rte_vhost_driver_unregister(const char *path)
{
	struct rv_dev *d;
	struct vhu_vhost_dev *vdev;
	struct rv_vq_stats *stats;

	pthread_mutex_lock(&rv_lock);
	d = rv_find_path(path, "rte_vhost_driver_unregister");
	if (d == NULL) {
		pthread_mutex_unlock(&rv_lock);
		return -1;
	}
	vdev = d->vdev;
	pthread_mutex_unlock(&rv_lock);
	/* The application stops its bursts in destroy_device; only then does the
	 * backend go (and guest memory with it). No lock is held meanwhile. */
	rv_stop(d);
	vhu_vhost_destroy(vdev);
	if (__atomic_exchange_n(&d->connected, false, __ATOMIC_ACQ_REL) &&
	    d->ops.destroy_connection)
		d->ops.destroy_connection(rv_vid(d));
	pthread_mutex_lock(&rv_lock);
	stats = d->stats;
	__atomic_store_n(&d->vdev, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&d->used, false, __ATOMIC_RELEASE);
	d->stats = NULL;
	pthread_mutex_unlock(&rv_lock);
	free(stats);
	return 0;
}

int
rte_vhost_driver_callback_register(const char *path, struct rte_vhost_device_ops const *const ops)
{
	struct rv_dev *d;
	int ret = -1;

	if (ops == NULL) {
		RV_LOG(ERR, "rte_vhost_driver_callback_register: ops is NULL\n");
		return -1;
	}
	pthread_mutex_lock(&rv_lock);
	d = rv_find_path(path, "rte_vhost_driver_callback_register");
	if (d != NULL && d->vdev != NULL)
		RV_LOG(ERR, "rte_vhost_driver_callback_register %s: already started\n", path);
	else if (d != NULL) {
		d->ops = *ops;
		d->has_ops = true;
		ret = 0;
	}
	pthread_mutex_unlock(&rv_lock);
	return ret;
}

int
rte_vhost_driver_start(const char *path)
{
	struct vhu_vhost_config cfg = { 0 };
	struct vhu_vhost_dev *vdev;
	struct rv_dev *d;
	int ret = -1, r;

	pthread_mutex_lock(&rv_lock);
	d = rv_find_path(path, "rte_vhost_driver_start");
	if (d == NULL)
		goto out;
	if (d->vdev != NULL) {
		RV_LOG(ERR, "rte_vhost_driver_start %s: already started\n", path);
		goto out;
	}
	r = vhu_init(NULL);
	if (r != 0 && r != -EALREADY) {
		RV_LOG(ERR, "rte_vhost_driver_start %s: vhu_init: %s\n", path, strerror(-r));
		goto out;
	}
	if ((d->flags & RTE_VHOST_USER_NET_STATS_ENABLE) && d->stats == NULL) {
		d->stats = calloc(2u * d->queue_pairs, sizeof(*d->stats));
		if (d->stats == NULL) {
			RV_LOG(ERR, "rte_vhost_driver_start %s: out of memory\n", path);
			goto out;
		}
	}
	cfg.path = d->path;
	cfg.queue_pairs = d->queue_pairs;
	cfg.flags =
		((d->flags & RTE_VHOST_USER_CLIENT) ? VHU_VHOST_CLIENT : 0) |
		((d->flags & RTE_VHOST_USER_NO_RECONNECT) ? VHU_VHOST_NO_RECONNECT : 0) |
		((d->features & RV_BIT(VIRTIO_F_IOMMU_PLATFORM)) ? VHU_VHOST_IOMMU_SUPPORT : 0) |
		((d->features & RV_CSUM_BITS) ? VHU_VHOST_CSUM : 0) |
		((d->features & RV_TSO_BITS) ? VHU_VHOST_CSUM | VHU_VHOST_TSO : 0) |
		((d->features & RV_BIT(VIRTIO_NET_F_MTU)) ? VHU_VHOST_FRONTEND_MTU : 0) |
		/* A frame whose guest buffer missed the IOTLB is refused, as DPDK's
		 * library does: DPDK applications retry or drop it, and none calls
		 * the flush that libvhu's holding would need. */
		VHU_VHOST_MISS_REFUSE;
	cfg.disable_features = ~d->features;
	cfg.callbacks = &rv_callbacks;
	cfg.callback_arg = (void *)(uintptr_t)rv_vid(d);
	/* The control thread's callbacks look at d->ops: set before it runs. */
	vdev = vhu_vhost_create(&cfg);
	if (vdev == NULL) {
		RV_LOG(ERR, "rte_vhost_driver_start %s: %s\n", path, strerror(rte_errno));
		goto out;
	}
	__atomic_store_n(&d->vdev, vdev, __ATOMIC_RELEASE);
	ret = 0;
out:
	pthread_mutex_unlock(&rv_lock);
	return ret;
}

/* --- features ------------------------------------------------------------------ */

/* Runs 'op' on the offered features of 'path' unless started: 0 or -1. */
static int
rv_features_op(const char *path, const char *call, uint64_t bits, int op)
{
	struct rv_dev *d;
	int ret = -1;

	pthread_mutex_lock(&rv_lock);
	d = rv_find_path(path, call);
	if (d == NULL)
		goto out;
	if (d->vdev != NULL) {
		RV_LOG(ERR, "%s %s: the driver is started; change features before\n", call, path);
		goto out;
	}
	if (op > 0 && (bits & ~d->supported)) {
		RV_LOG(ERR, "%s %s: features 0x%" PRIx64 " are not supported by vhu\n", call, path,
		       bits & ~d->supported);
		goto out;
	}
	if (op == 0)
		d->features = bits & d->supported;
	else if (op > 0)
		d->features |= bits;
	else
		d->features &= ~bits;
	ret = 0;
out:
	pthread_mutex_unlock(&rv_lock);
	return ret;
}

int
rte_vhost_driver_set_features(const char *path, uint64_t features)
{
	return rv_features_op(path, "rte_vhost_driver_set_features", features, 0);
}

int
rte_vhost_driver_enable_features(const char *path, uint64_t features)
{
	return rv_features_op(path, "rte_vhost_driver_enable_features", features, 1);
}

int
rte_vhost_driver_disable_features(const char *path, uint64_t features)
{
	return rv_features_op(path, "rte_vhost_driver_disable_features", features, -1);
}

/* Reads a per-path value under the lock: 0 or -1. */
static int
rv_path_get(const char *path, const char *call, uint64_t *out, int what)
{
	struct rv_dev *d;

	if (out == NULL) {
		RV_LOG(ERR, "%s: the result pointer is NULL\n", call);
		return -1;
	}
	pthread_mutex_lock(&rv_lock);
	d = rv_find_path(path, call);
	if (d != NULL)
		*out = what == 0 ? d->features : what == 1 ? d->protocol_features : d->queue_pairs;
	pthread_mutex_unlock(&rv_lock);
	return d != NULL ? 0 : -1;
}

int
rte_vhost_driver_get_features(const char *path, uint64_t *features)
{
	return rv_path_get(path, "rte_vhost_driver_get_features", features, 0);
}

int
rte_vhost_driver_get_protocol_features(const char *path, uint64_t *protocol_features)
{
	return rv_path_get(path, "rte_vhost_driver_get_protocol_features", protocol_features, 1);
}

int
rte_vhost_driver_set_protocol_features(const char *path, uint64_t protocol_features)
{
	uint64_t have;

	if (rv_path_get(path, "rte_vhost_driver_set_protocol_features", &have, 1) != 0)
		return -1;
	if ((protocol_features & have) != have) {
		RV_LOG(ERR,
		       "rte_vhost_driver_set_protocol_features %s: vhu offers its protocol "
		       "features 0x%" PRIx64 " as a whole; 0x%" PRIx64 " leaves some out\n",
		       path, have, protocol_features);
		return -1;
	}
	return 0;
}

int
rte_vhost_driver_get_queue_num(const char *path, uint32_t *queue_num)
{
	uint64_t n;

	if (queue_num == NULL) {
		RV_LOG(ERR, "rte_vhost_driver_get_queue_num: queue_num is NULL\n");
		return -1;
	}
	if (rv_path_get(path, "rte_vhost_driver_get_queue_num", &n, 2) != 0)
		return -1;
	*queue_num = (uint32_t)n;
	return 0;
}

/* --- device queries ------------------------------------------------------------ */

/* The device's info: 0, or -1 after a log line. */
static int
rv_info(int vid, const char *call, const void *out, struct vhu_vhost_info *info, struct rv_dev **dp)
{
	struct rv_dev *d;

	if (out == NULL) {
		RV_LOG(ERR, "%s: the result pointer is NULL\n", call);
		return -1;
	}
	d = rv_lookup(vid, call);
	if (d == NULL || vhu_vhost_get_info(d->vdev, info) != 0)
		return -1;
	if (dp)
		*dp = d;
	return 0;
}

int
rte_vhost_get_negotiated_features(int vid, uint64_t *features)
{
	struct vhu_vhost_info info;

	if (rv_info(vid, "rte_vhost_get_negotiated_features", features, &info, NULL) != 0)
		return -1;
	*features = info.features;
	return 0;
}

int
rte_vhost_get_negotiated_protocol_features(int vid, uint64_t *protocol_features)
{
	struct vhu_vhost_info info;

	if (rv_info(vid, "rte_vhost_get_negotiated_protocol_features", protocol_features, &info,
		    NULL) != 0)
		return -1;
	*protocol_features = info.protocol_features;
	return 0;
}

int
rte_vhost_get_mtu(int vid, uint16_t *mtu)
{
	struct vhu_vhost_info info;
	struct rv_dev *d;

	if (rv_info(vid, "rte_vhost_get_mtu", mtu, &info, &d) != 0)
		return -ENODEV;
	/* DPDK's values: -EAGAIN until the device is ready, -ENOTSUP unless
	 * VIRTIO_NET_F_MTU was negotiated; then the MTU the front-end gave with
	 * NET_SET_MTU (0 if it gave none, as in DPDK). */
	if (!info.running)
		return -EAGAIN;
	return vhu_vhost_get_mtu(d->vdev, mtu) == 0 ? 0 : -ENOTSUP;
}

int
rte_vhost_get_numa_node(int vid)
{
	struct vhu_vhost_vq_info q;
	struct rv_dev *d = rv_lookup(vid, "rte_vhost_get_numa_node");

	if (d == NULL || vhu_vhost_get_vq_info(d->vdev, 0, &q) != 0)
		return -1;
	return q.numa_node;
}

uint16_t
rte_vhost_get_vring_num(int vid)
{
	struct vhu_vhost_info info;
	struct rv_dev *d = rv_lookup(vid, "rte_vhost_get_vring_num");

	if (d == NULL || vhu_vhost_get_info(d->vdev, &info) != 0)
		return 0;
	return info.nr_vqs;
}

int
rte_vhost_get_ifname(int vid, char *buf, size_t len)
{
	struct rv_dev *d;

	if (buf == NULL || len == 0) {
		RV_LOG(ERR, "rte_vhost_get_ifname: buf is NULL or len is 0\n");
		return -1;
	}
	d = rv_lookup(vid, "rte_vhost_get_ifname");
	if (d == NULL)
		return -1;
	snprintf(buf, len, "%s", d->path);
	return 0;
}

/* The device of 'vid' and the state of its virtqueue 'qid', checked to be a
 * guest RX (even, want_odd false) or TX (odd) queue: 0, or -1. */
int
rv_vq(int vid, uint16_t qid, int parity, const char *call, struct rv_dev **dp,
      struct vhu_vhost_vq_info *q)
{
	struct rv_dev *d = rv_lookup(vid, call);

	if (d == NULL)
		return -1;
	if (qid >= 2u * d->queue_pairs || (parity >= 0 && (qid & 1u) != (unsigned int)parity)) {
		RV_LOG(ERR, "%s: device %d has no %s queue %u\n", call, vid,
		       parity == 0   ? "guest RX (even)"
		       : parity == 1 ? "guest TX (odd)"
				     : "",
		       qid);
		return -1;
	}
	*dp = d;
	return q ? vhu_vhost_get_vq_info(d->vdev, qid, q) : 0;
}

uint16_t
rte_vhost_avail_entries(int vid, uint16_t queue_id)
{
	struct vhu_vhost_vq_info q;
	struct rv_dev *d;

	if (rv_vq(vid, queue_id, -1, "rte_vhost_avail_entries", &d, &q) != 0 || !q.ready ||
	    !q.avail_idx_valid)
		return 0;
	return (uint16_t)(q.avail_idx - q.last_avail);
}

uint32_t
rte_vhost_rx_queue_count(int vid, uint16_t qid)
{
	struct vhu_vhost_vq_info q;
	struct rv_dev *d;

	if (rv_vq(vid, qid, 1, "rte_vhost_rx_queue_count", &d, &q) != 0 || !q.ready ||
	    !q.avail_idx_valid)
		return 0;
	return (uint16_t)(q.avail_idx - q.last_avail);
}

int
rte_vhost_enable_guest_notification(int vid, uint16_t queue_id, int enable)
{
	struct rv_dev *d;

	if (rv_vq(vid, queue_id, -1, "rte_vhost_enable_guest_notification", &d, NULL) != 0)
		return -1;
	if (enable == 0)
		return 0; /* vhu polls: the guest's kicks are never needed */
	RV_REFUSE("rte_vhost_enable_guest_notification(enable=1)",
		  "vhu's backend is polled; Rx interrupt mode is not available");
	return -1;
}

int
rte_vhost_vring_call(int vid, uint16_t vring_idx)
{
	struct rv_dev *d;

	/* vhu's bursts notify the guest themselves, as its event index asks. */
	return rv_vq(vid, vring_idx, -1, "rte_vhost_vring_call", &d, NULL) != 0 ? -1 : 0;
}

int
rte_vhost_vring_call_nonblock(int vid, uint16_t vring_idx)
{
	struct rv_dev *d;

	return rv_vq(vid, vring_idx, -1, "rte_vhost_vring_call_nonblock", &d, NULL) != 0 ? -1 : 0;
}

/*
 * Refused (ring access: see rte_vhost_refused.c), but with what vhu can say
 * filled in: OVS's port status reads 'size' whatever the call returns. The
 * addresses are NULL and the fds -1, so the error is never mistaken for a
 * ring.
 */
int
rte_vhost_get_vhost_vring(int vid, uint16_t vring_idx, struct rte_vhost_vring *vring)
{
	struct vhu_vhost_vq_info q;
	struct rv_dev *d;

	if (vring == NULL) {
		RV_LOG(ERR, "rte_vhost_get_vhost_vring: vring is NULL\n");
		return -1;
	}
	memset(vring, 0, sizeof(*vring));
	vring->kickfd = -1;
	vring->callfd = -1;
	if (rv_vq(vid, vring_idx, -1, "rte_vhost_get_vhost_vring", &d, &q) == 0)
		vring->size = q.size;
	RV_REFUSE("rte_vhost_get_vhost_vring",
		  "vhu's bursts own the rings and guest memory; only the size is given");
	return -1;
}

/* --- bursts ---------------------------------------------------------------------- */

static void
rv_count(struct rv_vq_stats *s, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		const struct rte_ether_addr *a = rte_pktmbuf_mtod(pkts[i], struct rte_ether_addr *);

		s->bytes += rte_pktmbuf_pkt_len(pkts[i]);
		if (rte_is_multicast_ether_addr(a)) {
			if (rte_is_broadcast_ether_addr(a))
				s->broadcast++;
			else
				s->multicast++;
		}
	}
	s->packets += n;
}

uint16_t
rte_vhost_enqueue_burst(int vid, uint16_t queue_id, struct rte_mbuf **pkts, uint16_t count)
{
	struct rv_dev *d;
	uint16_t n;

	if (rv_vq(vid, queue_id, 0, "rte_vhost_enqueue_burst", &d, NULL) != 0)
		return 0;
	if (pkts == NULL || count == 0)
		return 0;
	n = vhu_vhost_enqueue_burst(d->vdev, queue_id / 2, pkts, count);
	if (d->stats)
		rv_count(&d->stats[queue_id], pkts, n);
	return n;
}

uint16_t
rte_vhost_dequeue_burst(int vid, uint16_t queue_id, struct rte_mempool *mbuf_pool,
			struct rte_mbuf **pkts, uint16_t count)
{
	struct rv_dev *d;
	uint16_t n;

	if (rv_vq(vid, queue_id, 1, "rte_vhost_dequeue_burst", &d, NULL) != 0)
		return 0;
	if (mbuf_pool == NULL || pkts == NULL) {
		RV_LOG(ERR, "rte_vhost_dequeue_burst: mbuf_pool or pkts is NULL\n");
		return 0;
	}
	n = vhu_vhost_dequeue_burst(d->vdev, queue_id / 2, mbuf_pool, pkts, count);
	if (d->stats)
		rv_count(&d->stats[queue_id], pkts, n);
	return n;
}

/* --- per-virtqueue statistics (RTE_VHOST_USER_NET_STATS_ENABLE) ------------------ */

static const char *const rv_stat_names[] = {
	"good_packets",	     "good_bytes",	    "multicast_packets",
	"broadcast_packets", "guest_notifications", "errors",
};
#define RV_NSTATS ((unsigned int)(sizeof(rv_stat_names) / sizeof(rv_stat_names[0])))

/* The stats of 'vid' queue 'qid': 0, or -1 (no such queue, stats off). */
static int
rv_stats_of(int vid, uint16_t qid, const char *call, struct rv_dev **dp)
{
	if (rv_vq(vid, qid, -1, call, dp, NULL) != 0)
		return -1;
	if ((*dp)->stats == NULL) {
		RV_LOG(ERR,
		       "%s: device %d was registered without "
		       "RTE_VHOST_USER_NET_STATS_ENABLE\n",
		       call, vid);
		return -1;
	}
	return 0;
}

int
rte_vhost_vring_stats_get_names(int vid, uint16_t queue_id, struct rte_vhost_stat_name *name,
				unsigned int size)
{
	struct rv_dev *d;

	if (rv_stats_of(vid, queue_id, "rte_vhost_vring_stats_get_names", &d) != 0)
		return -1;
	if (name == NULL || size < RV_NSTATS)
		return (int)RV_NSTATS;
	for (unsigned int i = 0; i < RV_NSTATS; i++)
		snprintf(name[i].name, sizeof(name[i].name), "%s_q%u_%s",
			 queue_id & 1 ? "rx" : "tx", queue_id / 2, rv_stat_names[i]);
	return (int)RV_NSTATS;
}

int
rte_vhost_vring_stats_get(int vid, uint16_t queue_id, struct rte_vhost_stat *stats, unsigned int n)
{
	struct vhu_vhost_vq_info q;
	struct rv_vq_stats *s;
	struct rv_dev *d;
	uint64_t v[RV_NSTATS];

	if (rv_stats_of(vid, queue_id, "rte_vhost_vring_stats_get", &d) != 0)
		return -1;
	if (stats == NULL || n < RV_NSTATS)
		return (int)RV_NSTATS;
	if (vhu_vhost_get_vq_info(d->vdev, queue_id, &q) != 0)
		return -1;
	s = &d->stats[queue_id];
	v[0] = __atomic_load_n(&s->packets, __ATOMIC_RELAXED);
	v[1] = __atomic_load_n(&s->bytes, __ATOMIC_RELAXED);
	v[2] = __atomic_load_n(&s->multicast, __ATOMIC_RELAXED);
	v[3] = __atomic_load_n(&s->broadcast, __ATOMIC_RELAXED);
	v[4] = q.notify - s->notify_base;
	v[5] = q.errors - s->errors_base;
	for (unsigned int i = 0; i < RV_NSTATS; i++) {
		stats[i].id = i;
		stats[i].value = v[i];
	}
	return (int)RV_NSTATS;
}

int
rte_vhost_vring_stats_reset(int vid, uint16_t queue_id)
{
	struct vhu_vhost_vq_info q;
	struct rv_vq_stats *s;
	struct rv_dev *d;

	if (rv_stats_of(vid, queue_id, "rte_vhost_vring_stats_reset", &d) != 0 ||
	    vhu_vhost_get_vq_info(d->vdev, queue_id, &q) != 0)
		return -1;
	s = &d->stats[queue_id];
	__atomic_store_n(&s->packets, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->bytes, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->multicast, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->broadcast, 0, __ATOMIC_RELAXED);
	s->notify_base = q.notify;
	s->errors_base = q.errors;
	return 0;
}
