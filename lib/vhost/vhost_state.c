/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A device's negotiated state as a whole: the features it offers, the
 * memory table swap and the reset that forgets what a front-end set up, and
 * the config space as the spec has it read and written. This is where the
 * core acts on the rings and the feature modules (IOTLB, dirty log,
 * inflight) together: the feature modules change their own objects and wait
 * out the bursts (vhu_dev_wait_bursts()), but never stop or start a ring.
 */
#include <errno.h>
#include <inttypes.h>

#include "vhost_iotlb.h"
#include "vhost_log.h"
#include "vhost_inflight.h"

uint64_t
vhu_core_offered_features(uint32_t flags, uint64_t type_features, uint64_t disable_features)
{
	uint64_t f = VHU_CORE_FEATURES | type_features;

	if (flags & VHU_VHOST_IOMMU_SUPPORT)
		f |= VHU_BIT(VIRTIO_F_IOMMU_PLATFORM);
	return f & ~disable_features;
}

uint64_t
vhu_core_offered_protocol_features(uint64_t type_protocol_features)
{
	return VHU_PROTOCOL_FEATURES | type_protocol_features;
}

uint64_t
vhu_dev_offered_features(const struct vhu_vhost_dev *dev)
{
	return vhu_core_offered_features(dev->flags, dev->type->features(dev),
					 dev->disable_features);
}

uint64_t
vhu_dev_offered_protocol_features(const struct vhu_vhost_dev *dev)
{
	return vhu_core_offered_protocol_features(
		dev->type->protocol_features != NULL ? dev->type->protocol_features(dev) : 0);
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
	vhu_dev_release_mem(dev, old);
	vhu_dev_restart_all(dev);
}

void
vhu_dev_reset(struct vhu_vhost_dev *dev)
{
	struct vhu_mem *old;
	uint16_t i;

	vhu_dev_stop_all(dev);
	for (i = 0; i < dev->num_queues; i++)
		vhu_vq_reset(dev->vq[i]);
	vhu_iotlb_flush(dev);
	vhu_log_free(dev);
	vhu_inflight_free(dev);
	if (dev->type->reset != NULL)
		dev->type->reset(dev);
	/* The application hears of the stop only after this (vhost_events.c) and
	 * may read guest memory until its device_stopping returns. */
	if (dev->ev_told)
		dev->mem_stop_owed = true;
	old = dev->mem;
	dev->mem = NULL;
	vhu_dev_release_mem(dev, old);
	dev_count_mem(dev);
	dev->features = 0;
	dev->features_set = false;
	dev->protocol_features = 0;
	dev->owner = false;
	dev->status = 0;
	dev->nr_vqs = 0;
	vhu_fd_replace(&dev->backend_req_fd, -1);
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

enum vhu_msg_result
vhu_dev_iotlb_msg(struct vhu_vhost_dev *dev, const struct vhost_user_iotlb_msg *m)
{
	struct vhu_iotlb_change c;
	uint16_t i;

	if (vhu_iotlb_prepare(dev, m, &c) != 0)
		return VHU_MSG_FAIL;
	/* Rings whose areas the withdrawn range covers stop until re-mapped. */
	for (i = 0; i < dev->num_queues; i++)
		if (dev->vq[i]->ready && vhu_iotlb_change_unmaps_ring(dev, &c, dev->vq[i]))
			vhu_vq_stop(dev, dev->vq[i]);
	vhu_iotlb_commit(dev, &c);
	/* Rings waiting for their areas may start now, and each ring stopped
	 * above asks for its areas again (trying to start it sends the MISS): a
	 * front-end like QEMU sends an UPDATE only to answer a MISS, and no burst
	 * runs on a stopped ring to post one, so the ring would wait for good. */
	vhu_dev_restart_all(dev);
	return VHU_MSG_OK;
}

/* The device's config space into 'space' (VHOST_USER_MAX_CONFIG_SIZE bytes); its size. */
static uint32_t
dev_config_space(const struct vhu_vhost_dev *dev, uint8_t *space)
{
	uint32_t size;

	memset(space, 0, VHOST_USER_MAX_CONFIG_SIZE);
	if (dev->type->get_config == NULL)
		return 0;
	size = dev->type->get_config(dev, space);
	return RTE_MIN(size, (uint32_t)VHOST_USER_MAX_CONFIG_SIZE);
}

void
vhu_dev_get_config(const struct vhu_vhost_dev *dev, uint32_t offset, uint8_t *buf, uint32_t len)
{
	uint8_t space[VHOST_USER_MAX_CONFIG_SIZE];
	uint32_t size = dev_config_space(dev, space);

	/* Past the end of the space reads as zeros, as a virtio-pci BAR would. */
	memset(buf, 0, len);
	if (offset < size)
		memcpy(buf, space + offset, RTE_MIN(len, size - offset));
}

int
vhu_dev_set_config(struct vhu_vhost_dev *dev, uint32_t offset, const uint8_t *buf, uint32_t len)
{
	uint8_t space[VHOST_USER_MAX_CONFIG_SIZE];
	uint32_t size = dev_config_space(dev, space);
	int rc;

	if (offset > size || len > size - offset) {
		VHU_LOG(ERR,
			"%s: SET_CONFIG offset %u size %u refused: not inside the %u-byte "
			"config space of a %s device",
			dev->path, offset, len, size, dev->type->name);
		return -ERANGE;
	}
	rc = dev->type->set_config != NULL ? dev->type->set_config(dev, offset, buf, len) : -EPERM;
	if (rc != 0)
		VHU_LOG(ERR,
			"%s: SET_CONFIG offset %u size %u refused: that part of the %s "
			"config space is read-only",
			dev->path, offset, len, dev->type->name);
	return rc;
}
