/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-net device type: what it offers (features, protocol features,
 * config space), its own requests (NET_SET_MTU, SEND_RARP), the per-ring
 * state it derives from the negotiated features, and vhu_vhost_create().
 * The core calls these from the control thread; the bursts are in
 * vhost_net.c, vhost_net_split.c and vhost_net_packed.c.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include "vhost_net.h"

static uint16_t
net_queue_count(const void *cfg)
{
	const struct vhu_vhost_config *c = cfg;

	if (c->queue_pairs == 0 || c->queue_pairs > VHU_MAX_QUEUE_PAIRS) {
		VHU_LOG(ERR, "cannot create net device %s: %u queue pairs (1..%u)",
			c->path != NULL ? c->path : "(null)", c->queue_pairs,
			VHU_MAX_QUEUE_PAIRS);
		return 0;
	}
	return 2 * c->queue_pairs;
}

static void
net_init(struct vhu_vhost_dev *dev, const void *cfg)
{
	const struct vhu_vhost_config *c = cfg;
	struct vhu_net_dev *nd = vhu_net_dev(dev);

	nd->queue_pairs = c->queue_pairs;
	nd->mtu = c->mtu;
	nd->flags = c->flags & (VHU_VHOST_CSUM | VHU_VHOST_TSO | VHU_VHOST_FRONTEND_MTU |
				VHU_VHOST_MISS_REFUSE);
	memcpy(nd->mac, c->mac, sizeof(nd->mac));
}

/* The virtio-net feature bits a device of these settings offers. */
static uint64_t
net_feature_bits(uint16_t queue_pairs, uint16_t mtu, uint32_t flags)
{
	uint64_t f = VHU_BIT(VIRTIO_F_ANY_LAYOUT) | VHU_BIT(VIRTIO_NET_F_MRG_RXBUF);

	if (queue_pairs > 1)
		f |= VHU_BIT(VIRTIO_NET_F_MQ);
	if (mtu != 0 || (flags & VHU_VHOST_FRONTEND_MTU))
		f |= VHU_BIT(VIRTIO_NET_F_MTU);
	if (flags & (VHU_VHOST_CSUM | VHU_VHOST_TSO))
		f |= VHU_BIT(VIRTIO_NET_F_CSUM) | VHU_BIT(VIRTIO_NET_F_GUEST_CSUM);
	if (flags & VHU_VHOST_TSO)
		f |= VHU_BIT(VIRTIO_NET_F_HOST_TSO4) | VHU_BIT(VIRTIO_NET_F_HOST_TSO6) |
		     VHU_BIT(VIRTIO_NET_F_GUEST_TSO4) | VHU_BIT(VIRTIO_NET_F_GUEST_TSO6);
	return f;
}

/* MTU is offered only with an MTU to offer, ours or the front-end's
 * (VIRTIO_NET_F_MTU goes with it). */
static uint64_t
net_protocol_bits(uint16_t mtu, uint32_t flags)
{
	return VHU_BIT(VHOST_USER_PROTOCOL_F_RARP) |
	       (mtu != 0 || (flags & VHU_VHOST_FRONTEND_MTU) ? VHU_BIT(VHOST_USER_PROTOCOL_F_MTU)
							     : 0);
}

static uint64_t
net_features(const struct vhu_vhost_dev *dev)
{
	const struct vhu_net_dev *nd = vhu_net_dev(dev);

	return net_feature_bits(nd->queue_pairs, nd->mtu, nd->flags);
}

static uint64_t
net_protocol_features(const struct vhu_vhost_dev *dev)
{
	return net_protocol_bits(vhu_net_dev(dev)->mtu, vhu_net_dev(dev)->flags);
}

/* GET_QUEUE_NUM: QEMU's vhost-user net compares it with its queue pairs. */
static uint64_t
net_queue_num(const struct vhu_vhost_dev *dev)
{
	return vhu_net_dev(dev)->queue_pairs;
}

static void
net_config(const struct vhu_vhost_dev *dev, struct virtio_net_config *cfg)
{
	const struct vhu_net_dev *nd = vhu_net_dev(dev);

	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->mac, nd->mac, sizeof(cfg->mac));
	cfg->status = VIRTIO_NET_S_LINK_UP;
	cfg->max_virtqueue_pairs = nd->queue_pairs;
	cfg->mtu = nd->req_mtu != 0 ? nd->req_mtu : nd->mtu;
}

static uint32_t
net_get_config(const struct vhu_vhost_dev *dev, uint8_t *space)
{
	struct virtio_net_config cfg;

	RTE_BUILD_BUG_ON(sizeof(cfg) > VHOST_USER_MAX_CONFIG_SIZE);
	net_config(dev, &cfg);
	memcpy(space, &cfg, sizeof(cfg));
	return sizeof(cfg);
}

static int
net_set_config(struct vhu_vhost_dev *dev, uint32_t offset, const uint8_t *buf, uint32_t len)
{
	struct vhu_net_dev *nd = vhu_net_dev(dev);

	/* Only the MAC is writable (legacy drivers set it this way). */
	if (offset + len > sizeof(nd->mac))
		return -EPERM;
	memcpy(nd->mac + offset, buf, len);
	return 0;
}

/* Derive the ring's header layout and offloads from the negotiated features. */
static void
net_queue_start(struct vhu_vhost_dev *dev, struct vhu_vq *vq)
{
	struct vhu_net_vq *nq = vhu_net_q(vq);
	const uint64_t offloads =
		VHU_BIT(VIRTIO_NET_F_CSUM) | VHU_BIT(VIRTIO_NET_F_GUEST_CSUM) |
		VHU_BIT(VIRTIO_NET_F_HOST_TSO4) | VHU_BIT(VIRTIO_NET_F_HOST_TSO6) |
		VHU_BIT(VIRTIO_NET_F_GUEST_TSO4) | VHU_BIT(VIRTIO_NET_F_GUEST_TSO6);

	nq->mrg_rxbuf = dev_has_feature(dev, VIRTIO_NET_F_MRG_RXBUF);
	nq->features = dev->features;
	nq->offload = (dev->features & offloads) != 0;
	nq->hdr_len = (nq->mrg_rxbuf || dev_has_feature(dev, VIRTIO_F_VERSION_1))
			      ? sizeof(struct virtio_net_hdr_mrg_rxbuf)
			      : sizeof(struct virtio_net_hdr);
	nq->rx_miss = false;
}

/* Drop the packets a stopped ring held for an IOTLB miss (counted as errors). */
static void
net_queue_stop(struct vhu_vhost_dev *dev, struct vhu_vq *vq)
{
	struct vhu_net_vq *nq = vhu_net_q(vq);

	RTE_SET_USED(dev);
	if (nq->stash_n == 0)
		return;
	vq->stats.errors += nq->stash_n;
	rte_pktmbuf_free_bulk(nq->stash, nq->stash_n);
	nq->stash_n = 0;
}

static void
net_reset(struct vhu_vhost_dev *dev)
{
	struct vhu_net_dev *nd = vhu_net_dev(dev);

	nd->rarp_pending = false;
	nd->req_mtu = 0;
}

static enum vhu_msg_result
net_set_mtu(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	uint64_t mtu = msg->payload.u64;

	RTE_SET_USED(fds);
	RTE_SET_USED(nfds);
	if (mtu < 68 || mtu > 65535) {
		VHU_LOG(ERR, "%s: MTU %" PRIu64 " refused (must be 68..65535)", dev->path, mtu);
		return VHU_MSG_FAIL;
	}
	vhu_net_dev(dev)->req_mtu = (uint16_t)mtu;
	return VHU_MSG_OK;
}

static enum vhu_msg_result
net_send_rarp(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	struct vhu_net_dev *nd = vhu_net_dev(dev);
	const uint8_t *m = nd->rarp_mac;

	RTE_SET_USED(fds);
	RTE_SET_USED(nfds);
	memcpy(nd->rarp_mac, &msg->payload.u64, sizeof(nd->rarp_mac));
	/* Release: the MAC is in place before the dequeue that takes the flag. */
	__atomic_store_n(&nd->rarp_pending, true, __ATOMIC_RELEASE);
	VHU_LOG(INFO, "%s: announcing %02x:%02x:%02x:%02x:%02x:%02x with a RARP", dev->path, m[0],
		m[1], m[2], m[3], m[4], m[5]);
	return VHU_MSG_OK;
}

/* Net's own requests, checked by the core's dispatcher like its own. */
static const struct vhu_msg_type net_msgs[VHOST_USER_REQUEST_MAX] = {
	[VHOST_USER_SEND_RARP] =
		{
			.name = "SEND_RARP",
			.handler = net_send_rarp,
			.size = VHU_SZ_U64,
			.fds = VHU_FD_NONE,
			.protocol_feature = VHOST_USER_PROTOCOL_F_RARP,
		},
	[VHOST_USER_NET_SET_MTU] =
		{
			.name = "NET_SET_MTU",
			.handler = net_set_mtu,
			.size = VHU_SZ_U64,
			.fds = VHU_FD_NONE,
			.protocol_feature = VHOST_USER_PROTOCOL_F_MTU,
		},
};

const struct vhu_device_type vhu_net_device_type = {
	.name = "net",
	.dev_priv_size = sizeof(struct vhu_net_dev),
	.vq_priv_size = sizeof(struct vhu_net_vq),
	.queue_count = net_queue_count,
	.init = net_init,
	.features = net_features,
	.protocol_features = net_protocol_features,
	.queue_num = net_queue_num,
	.get_config = net_get_config,
	.set_config = net_set_config,
	.queue_start = net_queue_start,
	.queue_stop = net_queue_stop,
	.reset = net_reset,
	.msgs = net_msgs,
};

struct vhu_vhost_dev *
vhu_vhost_create(const struct vhu_vhost_config *cfg)
{
	struct vhu_dev_config core = { 0 };

	if (cfg == NULL || cfg->path == NULL || cfg->path[0] == '\0' ||
	    strlen(cfg->path) >= sizeof(((struct vhu_vhost_dev *)NULL)->path) ||
	    cfg->queue_pairs == 0 || cfg->queue_pairs > VHU_MAX_QUEUE_PAIRS) {
		VHU_LOG(ERR,
			"cannot create device %s: the socket path must be 1..107 bytes and "
			"queue pairs 1..%u (this build's -Dmax_queue_pairs)",
			cfg != NULL && cfg->path != NULL ? cfg->path : "(null)",
			VHU_MAX_QUEUE_PAIRS);
		rte_errno = EINVAL;
		return NULL;
	}
	core.path = cfg->path;
	core.flags = cfg->flags;
	core.disable_features = cfg->disable_features;
	core.callbacks = cfg->callbacks;
	core.callback_arg = cfg->callback_arg;
	return vhu_dev_create(&vhu_net_device_type, &core, cfg);
}

int
vhu_vhost_offered_features(const struct vhu_vhost_config *cfg, uint64_t *features,
			   uint64_t *protocol_features)
{
	if (cfg == NULL || features == NULL || protocol_features == NULL)
		return -EINVAL;
	*features = vhu_core_offered_features(
		cfg->flags, net_feature_bits(cfg->queue_pairs, cfg->mtu, cfg->flags),
		cfg->disable_features);
	*protocol_features =
		vhu_core_offered_protocol_features(net_protocol_bits(cfg->mtu, cfg->flags));
	return 0;
}

int
vhu_vhost_get_mtu(struct vhu_vhost_dev *dev, uint16_t *mtu)
{
	const struct vhu_net_dev *nd;

	if (dev == NULL || mtu == NULL || dev->type != &vhu_net_device_type)
		return -EINVAL;
	if (!(__atomic_load_n(&dev->features, __ATOMIC_RELAXED) & VHU_BIT(VIRTIO_NET_F_MTU)))
		return -ENOTSUP;
	nd = vhu_net_dev(dev);
	/* The control thread writes req_mtu; a 16-bit load sees the old or the new value. */
	*mtu = __atomic_load_n(&nd->req_mtu, __ATOMIC_RELAXED);
	if (*mtu == 0)
		*mtu = nd->mtu;
	return 0;
}
