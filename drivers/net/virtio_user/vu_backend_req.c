/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The backend request channel (SET_BACKEND_REQ_FD) and the emulated IOMMU.
 *
 * The backend asks; we check each request as strictly as a reply (header,
 * exact size, no fds) and answer it if it asked for an answer: IOTLB MISS
 * gets an UPDATE on the main socket, acknowledged before the miss is
 * answered (QEMU's order); CONFIG_CHANGE_MSG makes us read the config space
 * again; anything else is refused with a log line.
 *
 * With iommu=1 the backend reaches guest memory only through mappings of
 * whole 2 MB units that it asked for; withdrawing them (stop, or
 * vhu_virtio_user_iotlb_withdraw()) sends INVALIDATE for each.
 *
 * Control thread (or an API call holding vhu_ctrl_lock).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhu_ctrl.h"
#include "vu_private.h"

/* What an UPDATE is for (its arg): answering a miss, which may want a reply. */
#define VU_UPDATE_MISS	1u /* it answers a miss */
#define VU_UPDATE_REPLY 2u /* ... and the miss asked for a reply */

static bool
bit_test(const uint64_t *map, uint32_t i)
{
	return (map[i / 64] >> (i % 64)) & 1;
}

static void
bit_set(uint64_t *map, uint32_t i, bool on)
{
	if (on)
		map[i / 64] |= UINT64_C(1) << (i % 64);
	else
		map[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

/* The unit an IOVA falls in, or UINT32_MAX. */
static uint32_t
iova_unit(const struct vu_mem *mem, uint64_t iova)
{
	uint64_t k;

	if (iova < VU_IOVA_BASE)
		return UINT32_MAX;
	k = (iova - VU_IOVA_BASE) >> VU_UNIT_SHIFT;
	return k < mem->nunits ? mem->nunits - 1 - (uint32_t)k : UINT32_MAX;
}

/* Answer a backend request that asked for a reply. */
static void
breq_reply(struct vu_dev *dev, uint32_t request, uint64_t result)
{
	struct vhost_user_msg msg;
	int rc;

	if (dev->breq_fd < 0)
		return;
	vu_msg_init(&msg, request, sizeof(uint64_t));
	msg.hdr.flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	msg.payload.u64 = result;
	rc = vu_msg_send(dev->breq_fd, &msg, NULL, 0);
	if (rc != 0)
		VU_LOG(WARNING, "%s: cannot answer backend request %s: %s", dev->path,
		       vu_backend_request_name(request), strerror(-rc));
}

static int
cb_update(struct vu_dev *dev, const struct vu_pending *p, const struct vhost_user_msg *r)
{
	uint64_t result = r->payload.u64;

	if (result != 0)
		VU_LOG(ERR,
		       "%s: the backend refused an IOTLB UPDATE (ack %" PRIu64 "); its I/O "
		       "through that mapping will fail",
		       dev->path, result);
	else if (p->arg & VU_UPDATE_MISS)
		dev->iotlb_answered++;
	/* QEMU's order: the UPDATE is acknowledged before the MISS is answered. */
	if (p->arg & VU_UPDATE_REPLY)
		breq_reply(dev, VHOST_USER_BACKEND_IOTLB_MSG, result != 0);
	return 0;
}

/* Map unit 'u' for the backend; 'why' is VU_UPDATE_* flags (0: not for a miss). */
static int
iotlb_update(struct vu_dev *dev, uint32_t u, uint64_t why)
{
	struct vhost_user_msg msg;
	int rc;

	vu_msg_init(&msg, VHOST_USER_IOTLB_MSG, sizeof(struct vhost_user_iotlb_msg));
	msg.payload.iotlb.iova = dev->mem.unit_iova[u];
	msg.payload.iotlb.size = VU_UNIT_SIZE;
	msg.payload.iotlb.uaddr =
		(uint64_t)(uintptr_t)(dev->mem.va + ((uint64_t)u << VU_UNIT_SHIFT));
	msg.payload.iotlb.perm = VHOST_ACCESS_RW;
	msg.payload.iotlb.type = VHOST_IOTLB_UPDATE;
	bit_set(dev->granted, u, true);
	rc = vu_request(dev, &msg, NULL, 0, VU_REPLY_NONE, false, cb_update, why);
	if (rc == 0 && !vu_has_pf(dev, VHOST_USER_PROTOCOL_F_REPLY_ACK)) {
		/* No ack to wait for: the UPDATE is on the wire ahead of the answer. */
		if (why & VU_UPDATE_MISS)
			dev->iotlb_answered++;
		if (why & VU_UPDATE_REPLY)
			breq_reply(dev, VHOST_USER_BACKEND_IOTLB_MSG, 0);
	}
	return rc;
}

/* Withdraw every mapping; 'seq' when the stop sequence waits for the acks. */
int
vu_iotlb_invalidate_all(struct vu_dev *dev, bool seq)
{
	struct vhost_user_msg msg;
	uint32_t u;
	int rc;

	for (u = 0; u < dev->mem.nunits; u++) {
		if (!bit_test(dev->granted, u))
			continue;
		vu_msg_init(&msg, VHOST_USER_IOTLB_MSG, sizeof(struct vhost_user_iotlb_msg));
		msg.payload.iotlb.iova = dev->mem.unit_iova[u];
		msg.payload.iotlb.size = VU_UNIT_SIZE;
		msg.payload.iotlb.type = VHOST_IOTLB_INVALIDATE;
		bit_set(dev->granted, u, false);
		dev->iotlb_invalidates++;
		rc = vu_request(dev, &msg, NULL, 0, VU_REPLY_NONE, seq, NULL, 0);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void
iotlb_miss(struct vu_dev *dev, const struct vhost_user_iotlb_msg *m, bool need_reply)
{
	uint32_t u = dev->mem.iommu ? iova_unit(&dev->mem, m->iova) : UINT32_MAX;

	dev->iotlb_misses++;
	if (u == UINT32_MAX || m->perm == 0 || m->perm > VHOST_ACCESS_RW) {
		dev->iotlb_refused++;
		VU_LOG(ERR, "%s: IOTLB miss for IOVA 0x%" PRIx64 " (perm %u) refused: %s",
		       dev->path, m->iova, m->perm,
		       !dev->mem.iommu	 ? "iommu=0, the port maps nothing"
		       : u == UINT32_MAX ? "no guest memory there"
					 : "bad permission");
		if (need_reply)
			breq_reply(dev, VHOST_USER_BACKEND_IOTLB_MSG, 1);
		return;
	}
	if (dev->withdrawn) {
		/* Remembered, so that restoring the mappings can answer it late. */
		dev->iotlb_refused++;
		bit_set(dev->refused, u, true);
		if (need_reply)
			breq_reply(dev, VHOST_USER_BACKEND_IOTLB_MSG, 1);
		return;
	}
	if (dev->state == VU_DISCONNECTED || dev->state == VU_HANDSHAKE) {
		if (need_reply)
			breq_reply(dev, VHOST_USER_BACKEND_IOTLB_MSG, 1);
		return;
	}
	iotlb_update(dev, u, VU_UPDATE_MISS | (need_reply ? VU_UPDATE_REPLY : 0));
}

int
vu_iotlb_withdraw(struct vu_dev *dev, bool withdraw)
{
	uint32_t u, n = 0;
	int rc = 0;

	if (!dev->mem.iommu)
		return -ENOTSUP;
	pthread_mutex_lock(&vhu_ctrl_lock);
	dev->withdrawn = withdraw;
	if (dev->fd >= 0 && dev->state != VU_HANDSHAKE) {
		if (withdraw) {
			/* Remember what the backend had: restoring maps it again at once,
			 * so a backend that believes a miss is still pending (and will
			 * not ask again) gets its mapping anyway. */
			for (u = 0; u < dev->mem.nunits; u++) {
				if (bit_test(dev->granted, u)) {
					bit_set(dev->refused, u, true);
					n++;
				}
			}
			rc = vu_iotlb_invalidate_all(dev, false);
		} else {
			for (u = 0; u < dev->mem.nunits && rc == 0; u++) {
				if (bit_test(dev->refused, u)) {
					bit_set(dev->refused, u, false);
					rc = iotlb_update(dev, u, 0);
					n++;
				}
			}
		}
	}
	if (!withdraw)
		memset(dev->refused, 0, RTE_ALIGN_CEIL(dev->mem.nunits, 64) / 8);
	pthread_mutex_unlock(&vhu_ctrl_lock);
	VU_LOG(INFO, "%s: %u IOTLB mapping(s) %s", dev->path, n,
	       withdraw ? "withdrawn; misses are refused until they are restored" : "restored");
	return rc;
}

static void
breq_handle(struct vu_dev *dev)
{
	struct vhost_user_msg *m = &dev->breq_in.msg;
	bool need_reply = (m->hdr.flags & VHOST_USER_NEED_REPLY_MASK) != 0;
	uint32_t req = m->hdr.request;
	char why[160];

	dev->backend_requests++;
	if (vu_backend_request_validate(&dev->breq_in, why, sizeof(why)) != 0) {
		vu_msgbuf_drop_fds(&dev->breq_in);
		vu_fail(dev, -EPROTO,
			"backend request %u (%s) refused: %s; the backend does not "
			"follow the vhost-user protocol",
			req, vu_backend_request_name(req), why);
		return;
	}
	switch (req) {
	case VHOST_USER_BACKEND_IOTLB_MSG:
		if (m->payload.iotlb.type != VHOST_IOTLB_MISS) {
			VU_LOG(ERR,
			       "%s: backend sent IOTLB message type %u; only MISS (%u) may come "
			       "from a backend; refused",
			       dev->path, m->payload.iotlb.type, VHOST_IOTLB_MISS);
			if (need_reply)
				breq_reply(dev, req, 1);
			return;
		}
		iotlb_miss(dev, &m->payload.iotlb, need_reply);
		return;
	case VHOST_USER_BACKEND_CONFIG_CHANGE_MSG:
		VU_LOG(INFO, "%s: the backend reports a config change%s", dev->path,
		       vu_has_pf(dev, VHOST_USER_PROTOCOL_F_CONFIG) ? "; reading it again" : "");
		if (need_reply)
			breq_reply(dev, req, 0);
		if (vu_has_pf(dev, VHOST_USER_PROTOCOL_F_CONFIG) && dev->state != VU_HANDSHAKE)
			vu_req_config(dev, false);
		return;
	default:
		VU_LOG(ERR,
		       "%s: backend request %u (%s) is not supported by vhu's front-end; "
		       "refused",
		       dev->path, req, vu_backend_request_name(req));
		vu_msgbuf_drop_fds(&dev->breq_in);
		if (need_reply)
			breq_reply(dev, req, 1);
		return;
	}
}

static void
vu_breq_event(void *arg, uint32_t events)
{
	struct vu_dev *dev = arg;

	while (dev->breq_fd >= 0) {
		int rc = vu_msg_recv(dev->breq_fd, &dev->breq_in);

		if (rc == 0)
			return;
		if (rc == -ECONNRESET) {
			VU_LOG(INFO, "%s: the backend closed its request channel", dev->path);
			vu_backend_channel_close(dev);
			return;
		}
		if (rc < 0) {
			vu_fail(dev, -EPROTO,
				"backend request channel: %s; the backend does not "
				"follow the vhost-user protocol",
				rc == -EMSGSIZE
					? "a header announces more payload than any message has"
				: rc == -E2BIG ? "a message carries too many file descriptors"
					       : strerror(-rc));
			return;
		}
		breq_handle(dev);
	}
}

void
vu_backend_channel_close(struct vu_dev *dev)
{
	if (dev->breq_fd < 0)
		return;
	vhu_ctrl_unwatch(dev->breq_handle);
	close(dev->breq_fd);
	dev->breq_fd = -1;
	vu_msgbuf_drop_fds(&dev->breq_in);
	dev->breq_in.got = 0;
}

/* Give the backend its end of a new request channel. */
int
vu_backend_channel_open(struct vu_dev *dev)
{
	struct timeval tv = {.tv_sec = 1};
	struct vhost_user_msg msg;
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return vu_fail(dev, -errno, "cannot create the backend request channel: %s",
			       strerror(errno));
	/* Answers are sent blocking: a backend that stops reading must not hold us. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	rc = vhu_ctrl_watch(sv[0], vu_breq_event, dev, &dev->breq_handle);
	if (rc != 0) {
		close(sv[0]);
		close(sv[1]);
		return vu_fail(dev, rc, "cannot watch the backend request channel: %s",
			       strerror(-rc));
	}
	dev->breq_fd = sv[0];
	memset(&dev->breq_in, 0, sizeof(dev->breq_in));
	vu_msg_init(&msg, VHOST_USER_SET_BACKEND_REQ_FD, 0);
	rc = vu_request(dev, &msg, &sv[1], 1, VU_REPLY_NONE, true, NULL, 0);
	close(sv[1]); /* the backend has its copy now */
	return rc;
}
