/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VMM's message sequences, as phases run by vu_seq_run(): each phase
 * sends its requests, and the next runs once every reply of the phase has
 * arrived and passed its check. With REPLY_ACK every request without a
 * reply of its own asks for an ack; without it a GET_FEATURES ends each
 * sequence, proving the backend processed the rest.
 *
 *   connect:  GET_FEATURES, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES,
 *             SET_OWNER, GET_QUEUE_NUM, GET_MAX_MEM_SLOTS, SET_BACKEND_REQ_FD
 *   start:    SET_FEATURES, SET_STATUS(FEATURES_OK), GET_STATUS, NET_SET_MTU (net),
 *             SET_MEM_TABLE or ADD_MEM_REG per region, per ring
 *             SET_VRING_NUM/BASE/ADDR/CALL/KICK, SET_VRING_ENABLE,
 *             GET_CONFIG, SET_STATUS(DRIVER_OK)
 *   stop:     GET_VRING_BASE per ring, SET_STATUS(0), IOTLB invalidations
 *
 * What differs by device (features, queue count, config space, what a ring
 * holds before the backend gets it) comes from dev->type.
 *
 * Control thread (or an API call holding vhu_ctrl_lock).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "vu_private.h"

/* Protocol features vhu's front-end uses when offered. */
#define VU_WANTED_PF                                                                               \
	(VHU_BIT(VHOST_USER_PROTOCOL_F_MQ) | VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) |            \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ) | VHU_BIT(VHOST_USER_PROTOCOL_F_STATUS) |      \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIG) | VHU_BIT(VHOST_USER_PROTOCOL_F_MTU) |              \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS))

/* ---- replies ---- */

static int
cb_features(struct vu_dev *dev, const struct vu_pending *p, const struct vhost_user_msg *r)
{
	dev->offered_features = r->payload.u64;
	return 0;
}

/* Without REPLY_ACK a GET_FEATURES ends each sequence: its answer must not have changed. */
static int
cb_barrier(struct vu_dev *dev, const struct vu_pending *p, const struct vhost_user_msg *r)
{
	if (r->payload.u64 != dev->offered_features)
		return vu_fail(dev, -EPROTO,
			       "GET_FEATURES answered 0x%" PRIx64 " after 0x%" PRIx64
			       " earlier; the backend changed its features mid-connection",
			       r->payload.u64, dev->offered_features);
	return 0;
}

static int
cb_protocol_features(struct vu_dev *dev, const struct vu_pending *p, const struct vhost_user_msg *r)
{
	dev->offered_pf = r->payload.u64;
	return 0;
}

static int
cb_queue_num(struct vu_dev *dev, const struct vu_pending *p, const struct vhost_user_msg *r)
{
	dev->queue_num = r->payload.u64;
	if (dev->queue_num < dev->queues)
		return vu_fail(
			dev, -EINVAL,
			"the backend offers %" PRIu64 " %s but the "
			"%s device has queues=%u; lower queues= or raise the backend's queues",
			dev->queue_num, dev->type->queue_word, dev->type->name, dev->queues);
	return 0;
}

static int
cb_max_mem_slots(struct vu_dev *dev, const struct vu_pending *p, const struct vhost_user_msg *r)
{
	dev->max_mem_slots = r->payload.u64;
	if (dev->max_mem_slots < dev->mem.nregions)
		return vu_fail(dev, -EINVAL,
			       "the backend takes %" PRIu64 " memory slots, the "
			       "port's memory has %u regions",
			       dev->max_mem_slots, dev->mem.nregions);
	return 0;
}

static int
cb_status(struct vu_dev *dev, const struct vu_pending *p, const struct vhost_user_msg *r)
{
	if (r->payload.u64 > UINT8_MAX)
		return vu_fail(dev, -EPROTO,
			       "GET_STATUS answered 0x%" PRIx64 ", not an 8-bit "
			       "status",
			       r->payload.u64);
	dev->status_read = (uint8_t)r->payload.u64;
	return 0;
}

static int
cb_vring_base(struct vu_dev *dev, const struct vu_pending *p, const struct vhost_user_msg *r)
{
	struct vu_vq *vq = dev->vq[p->ring];

	vq->base = r->payload.state.num;
	return 0;
}

static int
cb_config(struct vu_dev *dev, const struct vu_pending *p, const struct vhost_user_msg *r)
{
	if (r->payload.config.size == 0) {
		VU_LOG(INFO, "%s: the backend has no config space to show (GET_CONFIG failed)",
		       dev->path);
		dev->config_valid = false;
		return 0;
	}
	/* vu_reply_validate() checked the size is the one asked for. */
	memcpy(dev->config.bytes, r->payload.config.payload, dev->type->config_size);
	dev->config_valid = true;
	if (dev->type->config != NULL)
		dev->type->config(dev);
	return 0;
}

/* Ask for the config space; 'seq' when part of a start. */
int
vu_req_config(struct vu_dev *dev, bool seq)
{
	struct vhost_user_msg msg;

	RTE_BUILD_BUG_ON(sizeof(struct virtio_net_config) > sizeof(dev->config) ||
			 sizeof(struct virtio_blk_config) > sizeof(dev->config));
	vu_msg_init(&msg, VHOST_USER_GET_CONFIG,
		    offsetof(struct vhost_user_config, payload) + dev->type->config_size);
	msg.payload.config.offset = 0;
	msg.payload.config.size = dev->type->config_size;
	return vu_request(dev, &msg, NULL, 0, VU_REPLY_CONFIG, seq, cb_config, 0);
}

static int
ph_get_features(struct vu_dev *dev)
{
	dev->phase = VU_PH_PROTOCOL;
	return vu_req_get(dev, VHOST_USER_GET_FEATURES, VU_REPLY_U64, cb_features);
}

static int
ph_protocol(struct vu_dev *dev)
{
	dev->phase = VU_PH_OWNER;
	dev->offered_pf = 0;
	if (!(dev->offered_features & VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES)))
		return 0;
	return vu_req_get(dev, VHOST_USER_GET_PROTOCOL_FEATURES, VU_REPLY_U64,
			  cb_protocol_features);
}

static int
ph_owner(struct vu_dev *dev)
{
	struct vhost_user_msg msg;
	int rc;

	dev->phase = VU_PH_CONN_DONE;
	dev->pf = 0;
	dev->queue_num = 1;
	if (dev->offered_features & VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES)) {
		/* Sent before dev->pf is set: REPLY_ACK applies from the next request on. */
		vu_msg_init(&msg, VHOST_USER_SET_PROTOCOL_FEATURES, sizeof(uint64_t));
		msg.payload.u64 = dev->offered_pf & VU_WANTED_PF;
		rc = vu_request(dev, &msg, NULL, 0, VU_REPLY_NONE, true, NULL, 0);
		if (rc != 0)
			return rc;
		dev->pf = msg.payload.u64;
	}
	rc = vu_req_get(dev, VHOST_USER_SET_OWNER, VU_REPLY_NONE, NULL);
	if (rc == 0 && vu_has_pf(dev, VHOST_USER_PROTOCOL_F_MQ))
		rc = vu_req_get(dev, VHOST_USER_GET_QUEUE_NUM, VU_REPLY_U64, cb_queue_num);
	else if (rc == 0 && dev->queues > 1)
		return vu_fail(dev, -EINVAL,
			       "the backend does not offer the MQ protocol feature, "
			       "so it serves one queue unit; the %s device has queues=%u",
			       dev->type->name, dev->queues);
	if (rc == 0 && vu_has_pf(dev, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS))
		rc = vu_req_get(dev, VHOST_USER_GET_MAX_MEM_SLOTS, VU_REPLY_U64, cb_max_mem_slots);
	if (rc == 0 && vu_has_pf(dev, VHOST_USER_PROTOCOL_F_BACKEND_REQ))
		rc = vu_backend_channel_open(dev);
	return rc;
}

static int
ph_conn_done(struct vu_dev *dev)
{
	dev->connections++;
	dev->state = VU_IDLE;
	dev->phase = dev->want_run ? VU_PH_START_FEATURES : VU_PH_NONE;
	dev->last_error[0] = '\0';
	VU_LOG(INFO,
	       "%s: connected to the backend (features 0x%" PRIx64 ", protocol features 0x%" PRIx64
	       ", %" PRIu64 " %s)",
	       dev->path, dev->offered_features, dev->offered_pf, dev->queue_num,
	       dev->type->queue_word);
	pthread_cond_broadcast(&dev->cond);
	return 0;
}

/* The virtio features vhu's driver uses, given the device's keys. */
static uint64_t
wanted_features(const struct vu_dev *dev)
{
	uint64_t f = VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VIRTIO_F_ANY_LAYOUT) |
		     VHU_BIT(VIRTIO_RING_F_EVENT_IDX) | VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
		     dev->type->features(dev);

	if (dev->want_indirect)
		f |= VHU_BIT(VIRTIO_RING_F_INDIRECT_DESC);
	if (dev->want_in_order)
		f |= VHU_BIT(VIRTIO_F_IN_ORDER);
	if (dev->want_packed)
		f |= VHU_BIT(VIRTIO_F_RING_PACKED);
	if (dev->want_iommu)
		f |= VHU_BIT(VIRTIO_F_IOMMU_PLATFORM);
	if (dev->queues > 1)
		f |= VHU_BIT(dev->type->mq_feature);
	return f;
}

static int
ph_start_features(struct vu_dev *dev)
{
	uint64_t f = dev->offered_features & wanted_features(dev);
	int rc;

	dev->state = VU_STARTING;
	dev->active_qp = dev->type->active_queues(dev);
	if (dev->want_iommu && !(f & VHU_BIT(VIRTIO_F_IOMMU_PLATFORM)))
		return vu_fail(dev, -ENOTSUP,
			       "iommu=1 but the backend does not offer "
			       "IOMMU_PLATFORM; use a backend with IOMMU support (DPDK net_vhost "
			       "iommu-support=1) or iommu=0");
	if (dev->want_iommu && !(dev->pf & VHU_BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ)))
		return vu_fail(dev, -ENOTSUP,
			       "iommu=1 but the backend has no BACKEND_REQ channel "
			       "to send IOTLB misses on; use iommu=0");
	if (dev->queues > 1 && !(f & VHU_BIT(dev->type->mq_feature)))
		return vu_fail(dev, -ENOTSUP,
			       "queues=%u but the backend does not offer MQ; use "
			       "queues=1",
			       dev->queues);
	if (dev->want_packed && !(f & VHU_BIT(VIRTIO_F_RING_PACKED))) {
		if (!rte_is_power_of_2(dev->queue_size))
			return vu_fail(dev, -ENOTSUP,
				       "packed_vq=1 is not offered by the backend "
				       "and queue_size=%u is not a power of two, as a split ring "
				       "needs; use a power of two",
				       dev->queue_size);
		VU_LOG(NOTICE, "%s: the backend does not offer packed rings; using split rings",
		       dev->path);
	}
	dev->features = f;
	rc = vu_req_u64(dev, VHOST_USER_SET_FEATURES, f, -1);
	if (rc == 0 && vu_has_pf(dev, VHOST_USER_PROTOCOL_F_STATUS)) {
		dev->status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			      VIRTIO_CONFIG_S_FEATURES_OK;
		rc = vu_req_u64(dev, VHOST_USER_SET_STATUS, dev->status, -1);
		if (rc == 0)
			rc = vu_req_get(dev, VHOST_USER_GET_STATUS, VU_REPLY_U64, cb_status);
	}
	dev->phase = VU_PH_START_MEM;
	return rc;
}

/* SET_MEM_TABLE with every region, or ADD_MEM_REG per region (CONFIGURE_MEM_SLOTS). */
static int
send_memory(struct vu_dev *dev)
{
	const struct vu_mem *mem = &dev->mem;
	int fds[VHOST_USER_MEMORY_MAX_NREGIONS];
	struct vhost_user_msg msg;
	uint32_t r;
	int rc;

	if (vu_has_pf(dev, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
		if (dev->mem_added)
			return 0; /* the backend still has them from the last start */
		for (r = 0; r < mem->nregions; r++) {
			struct vhost_user_mem_region *d = &msg.payload.mem_reg.region;

			vu_msg_init(&msg, VHOST_USER_ADD_MEM_REG,
				    sizeof(struct vhost_user_mem_reg_single));
			d->guest_phys_addr = mem->regions[r].gpa;
			d->memory_size = mem->regions[r].size;
			d->userspace_addr = (uint64_t)(uintptr_t)(mem->va + mem->regions[r].offset);
			d->mmap_offset = mem->regions[r].offset;
			rc = vu_request(dev, &msg, &mem->fd, 1, VU_REPLY_NONE, true, NULL, 0);
			if (rc != 0)
				return rc;
		}
		dev->mem_added = true;
		return 0;
	}
	vu_msg_init(&msg, VHOST_USER_SET_MEM_TABLE,
		    8 + mem->nregions * sizeof(struct vhost_user_mem_region));
	msg.payload.memory.nregions = mem->nregions;
	for (r = 0; r < mem->nregions; r++) {
		struct vhost_user_mem_region *d = &msg.payload.memory.regions[r];

		d->guest_phys_addr = mem->regions[r].gpa;
		d->memory_size = mem->regions[r].size;
		d->userspace_addr = (uint64_t)(uintptr_t)(mem->va + mem->regions[r].offset);
		d->mmap_offset = mem->regions[r].offset;
		fds[r] = mem->fd; /* one fd per region, as the message requires */
	}
	return vu_request(dev, &msg, fds, (int)mem->nregions, VU_REPLY_NONE, true, NULL, 0);
}

static int
ph_start_mem(struct vu_dev *dev)
{
	int rc = 0;

	dev->phase = VU_PH_START_RINGS;
	if (vu_has_pf(dev, VHOST_USER_PROTOCOL_F_STATUS) &&
	    !(dev->status_read & VIRTIO_CONFIG_S_FEATURES_OK))
		return vu_fail(dev, -ENOTSUP,
			       "the backend cleared FEATURES_OK (status 0x%x): it "
			       "refuses features 0x%" PRIx64 "; try other mrg_rxbuf/in_order/"
			       "packed_vq values",
			       dev->status_read, dev->features);
	if (dev->mtu_given && vu_has_pf(dev, VHOST_USER_PROTOCOL_F_MTU))
		rc = vu_req_u64(dev, VHOST_USER_NET_SET_MTU, dev->mtu, -1);
	if (rc == 0)
		rc = send_memory(dev);
	return rc;
}

/* The ring configuration the negotiated features give. */
static void
ring_conf(const struct vu_dev *dev, struct vu_vq_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->packed = vu_has_feature(dev, VIRTIO_F_RING_PACKED);
	c->in_order = vu_has_feature(dev, VIRTIO_F_IN_ORDER);
	c->event_idx = vu_has_feature(dev, VIRTIO_RING_F_EVENT_IDX);
	c->indirect = vu_has_feature(dev, VIRTIO_RING_F_INDIRECT_DESC);
	c->mrg_rxbuf = vu_has_feature(dev, VIRTIO_NET_F_MRG_RXBUF);
	c->hdr_len = (c->mrg_rxbuf || vu_has_feature(dev, VIRTIO_F_VERSION_1))
			     ? sizeof(struct virtio_net_hdr_mrg_rxbuf)
			     : sizeof(struct virtio_net_hdr);
}

static int
ph_start_rings(struct vu_dev *dev)
{
	struct vhost_user_msg msg;
	struct vu_vq_conf conf;
	uint16_t i;
	int rc;

	dev->phase = VU_PH_START_ENABLE;
	ring_conf(dev, &conf);
	/* Rings left draining after a backend went away come back to us first. */
	vu_rings_unpublish(dev);
	for (i = 0; i < vu_rings_of(dev, dev->active_qp); i++) {
		struct vu_vq *vq = dev->vq[i];

		vu_ring_prepare(dev, vq, &conf);
		rc = vu_req_state(dev, VHOST_USER_SET_VRING_NUM, i, vq->size);
		if (rc == 0)
			rc = vu_req_state(dev, VHOST_USER_SET_VRING_BASE, i, vq->base);
		if (rc != 0)
			return rc;
		vu_msg_init(&msg, VHOST_USER_SET_VRING_ADDR, sizeof(struct vhost_user_vring_addr));
		vu_ring_addrs(dev, vq, &msg.payload.addr);
		rc = vu_request(dev, &msg, NULL, 0, VU_REPLY_NONE, true, NULL, 0);
		if (rc == 0)
			rc = vu_req_u64(dev, VHOST_USER_SET_VRING_CALL, i, vq->callfd);
		if (rc == 0)
			rc = vu_req_u64(dev, VHOST_USER_SET_VRING_KICK, i, vq->kickfd);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
ph_start_enable(struct vu_dev *dev)
{
	uint16_t i;
	int rc = 0;

	dev->phase = VU_PH_START_DONE;
	if (vu_has_feature(dev, VHOST_USER_F_PROTOCOL_FEATURES))
		for (i = 0; i < vu_rings_of(dev, dev->active_qp) && rc == 0; i++)
			rc = vu_req_state(dev, VHOST_USER_SET_VRING_ENABLE, i, 1);
	if (rc == 0 && vu_has_pf(dev, VHOST_USER_PROTOCOL_F_CONFIG))
		rc = vu_req_config(dev, true);
	if (rc == 0 && vu_has_pf(dev, VHOST_USER_PROTOCOL_F_STATUS)) {
		dev->status |= VIRTIO_CONFIG_S_DRIVER_OK;
		rc = vu_req_u64(dev, VHOST_USER_SET_STATUS, dev->status, -1);
	}
	if (rc == 0 && !vu_has_pf(dev, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		rc = vu_req_get(dev, VHOST_USER_GET_FEATURES, VU_REPLY_U64, cb_barrier);
	return rc;
}

static int
ph_start_done(struct vu_dev *dev)
{
	const struct vu_vq_conf *c = &dev->vq[0]->conf;
	char hdr[32] = "";

	dev->phase = VU_PH_NONE;
	dev->state = VU_RUNNING;
	dev->starts++;
	/* Kick before publishing: the counters are the control side's until then. */
	vu_rings_kick(dev);
	vu_rings_publish(dev, dev->active_qp, true);
	dev->seq_error = 0;
	dev->seq_gen++;
	pthread_cond_broadcast(&dev->cond);
	if (dev->port != NULL)
		snprintf(hdr, sizeof(hdr), ", %u-byte header", c->hdr_len);
	VU_LOG(INFO, "%s: %s device running %u %s: %s rings of %u%s%s%s%s%s, link up", dev->path,
	       dev->type->name, dev->active_qp, dev->type->queue_word,
	       c->packed ? "packed" : "split", dev->queue_size, hdr,
	       c->mrg_rxbuf ? ", mergeable rx" : "", c->in_order ? ", in order" : "",
	       c->indirect ? ", indirect" : "", dev->mem.iommu ? ", behind an IOMMU" : "");
	return 0;
}

/* The ring to stop 'i'-th: every transmit ring, then the others, each in index order. */
static uint32_t
stop_order(const struct vu_dev *dev, uint32_t i)
{
	uint32_t n = vu_rings_of(dev, dev->active_qp), r, k = 0;

	for (r = 0; r < n; r++)
		if (dev->vq[r]->tx && k++ == i)
			return r;
	for (r = 0; r < n; r++)
		if (!dev->vq[r]->tx && k++ == i)
			return r;
	return i; /* not reached: i < n */
}

static int
ph_stop_rings(struct vu_dev *dev)
{
	struct vhost_user_msg msg;
	uint16_t i;
	int rc;

	dev->phase = VU_PH_STOP_RESET;
	/* Driver-filled (transmit) rings first: a backend forwarding back what it
	 * takes from them still finds the receive rings running for what it holds. */
	for (i = 0; i < vu_rings_of(dev, dev->active_qp); i++) {
		vu_msg_init(&msg, VHOST_USER_GET_VRING_BASE, sizeof(struct vhost_user_vring_state));
		msg.payload.state.index = stop_order(dev, i);
		rc = vu_request(dev, &msg, NULL, 0, VU_REPLY_STATE, true, cb_vring_base, 0);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
ph_stop_reset(struct vu_dev *dev)
{
	int rc = 0;

	dev->phase = VU_PH_STOP_DONE;
	if (vu_has_pf(dev, VHOST_USER_PROTOCOL_F_STATUS)) {
		dev->status = 0;
		rc = vu_req_u64(dev, VHOST_USER_SET_STATUS, 0, -1);
	}
	/* The device is stopped: it must not reach guest memory any more. */
	if (rc == 0 && dev->mem.iommu)
		rc = vu_iotlb_invalidate_all(dev, true);
	if (rc == 0 && !vu_has_pf(dev, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		rc = vu_req_get(dev, VHOST_USER_GET_FEATURES, VU_REPLY_U64, cb_barrier);
	return rc;
}

static int
ph_stop_done(struct vu_dev *dev)
{
	dev->phase = VU_PH_NONE;
	dev->state = VU_IDLE;
	dev->seq_error = 0;
	dev->seq_gen++;
	pthread_cond_broadcast(&dev->cond);
	VU_LOG(INFO, "%s: stopped; link down", dev->path);
	return 0;
}

typedef int (*vu_phase_fn)(struct vu_dev *dev);

static const vu_phase_fn vu_phases[] = {
	[VU_PH_GET_FEATURES] = ph_get_features,
	[VU_PH_PROTOCOL] = ph_protocol,
	[VU_PH_OWNER] = ph_owner,
	[VU_PH_CONN_DONE] = ph_conn_done,
	[VU_PH_START_FEATURES] = ph_start_features,
	[VU_PH_START_MEM] = ph_start_mem,
	[VU_PH_START_RINGS] = ph_start_rings,
	[VU_PH_START_ENABLE] = ph_start_enable,
	[VU_PH_START_DONE] = ph_start_done,
	[VU_PH_STOP_RINGS] = ph_stop_rings,
	[VU_PH_STOP_RESET] = ph_stop_reset,
	[VU_PH_STOP_DONE] = ph_stop_done,
};

/* Run phases while the current one has no reply outstanding. */
void
vu_seq_run(struct vu_dev *dev)
{
	while (dev->fd >= 0 && dev->seq_pending == 0 && dev->phase != VU_PH_NONE) {
		if (vu_phases[dev->phase](dev) != 0)
			return; /* the phase closed the connection with the reason */
	}
}
