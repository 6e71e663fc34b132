/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The front-end's view of the vhost-user wire: sending requests, assembling
 * replies and backend requests from nonblocking sockets, and checking them.
 *
 * Security model. The backend is a peer, not a friend: a reply is accepted
 * only if it is exactly the reply to the oldest request still waiting (reply
 * flag and version set, no other flag, same request number, exact payload
 * size, no file descriptors, and the fields the request fixes, like the ring
 * index of GET_VRING_BASE, echoed back). Anything else ends the connection
 * with a message naming the socket and the request. The same holds for
 * requests on the backend channel, with the rules of a request.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vu_private.h"

/* The front-end's log type, for both halves. */
RTE_LOG_REGISTER(vu_logtype, vhu.virtio_user, INFO);

static const char *const request_names[VHOST_USER_REQUEST_MAX] = {
	[VHOST_USER_GET_FEATURES] = "GET_FEATURES",
	[VHOST_USER_SET_FEATURES] = "SET_FEATURES",
	[VHOST_USER_SET_OWNER] = "SET_OWNER",
	[VHOST_USER_RESET_OWNER] = "RESET_OWNER",
	[VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VHOST_USER_SET_LOG_BASE] = "SET_LOG_BASE",
	[VHOST_USER_SET_LOG_FD] = "SET_LOG_FD",
	[VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
	[VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
	[VHOST_USER_GET_VRING_BASE] = "GET_VRING_BASE",
	[VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
	[VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
	[VHOST_USER_SET_VRING_ERR] = "SET_VRING_ERR",
	[VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VHOST_USER_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VHOST_USER_SEND_RARP] = "SEND_RARP",
	[VHOST_USER_NET_SET_MTU] = "NET_SET_MTU",
	[VHOST_USER_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
	[VHOST_USER_IOTLB_MSG] = "IOTLB_MSG",
	[VHOST_USER_GET_CONFIG] = "GET_CONFIG",
	[VHOST_USER_SET_CONFIG] = "SET_CONFIG",
	[VHOST_USER_RESET_DEVICE] = "RESET_DEVICE",
	[VHOST_USER_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
	[VHOST_USER_ADD_MEM_REG] = "ADD_MEM_REG",
	[VHOST_USER_REM_MEM_REG] = "REM_MEM_REG",
	[VHOST_USER_SET_STATUS] = "SET_STATUS",
	[VHOST_USER_GET_STATUS] = "GET_STATUS",
};

static const char *const backend_request_names[VHOST_USER_BACKEND_REQUEST_MAX] = {
	[VHOST_USER_BACKEND_IOTLB_MSG] = "IOTLB_MSG",
	[VHOST_USER_BACKEND_CONFIG_CHANGE_MSG] = "CONFIG_CHANGE_MSG",
	[VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG] = "VRING_HOST_NOTIFIER_MSG",
};

const char *
vu_request_name(uint32_t request)
{
	if (request < VHOST_USER_REQUEST_MAX && request_names[request] != NULL)
		return request_names[request];
	return "UNKNOWN";
}

const char *
vu_backend_request_name(uint32_t request)
{
	if (request < VHOST_USER_BACKEND_REQUEST_MAX && backend_request_names[request] != NULL)
		return backend_request_names[request];
	return "UNKNOWN";
}

int
vu_msg_send(int fd, struct vhost_user_msg *msg, const int *fds, int nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
	size_t len = VHOST_USER_HDR_SIZE + msg->hdr.size;
	struct msghdr mh;
	struct iovec iov;
	ssize_t n;

	if (nfds < 0 || nfds > VHOST_USER_MAX_FDS || msg->hdr.size > VHOST_USER_PAYLOAD_MAX)
		return -EINVAL;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = vhost_user_msg_wire(msg);
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	/* A stream socket takes a message this small whole, or times out. */
	return n == (ssize_t)len ? 0 : -EIO;
}

void
vu_msgbuf_drop_fds(struct vu_msgbuf *b)
{
	int i;

	for (i = 0; i < b->nfds; i++)
		close(b->fds[i]);
	b->nfds = 0;
}

/* Keep the fds of a control message; false if there were more than we hold. */
static bool
take_fds(struct vu_msgbuf *b, struct msghdr *mh)
{
	bool ok = (mh->msg_flags & MSG_CTRUNC) == 0;
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n, i;
		int *fds;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)CMSG_DATA(cm);
		for (i = 0; i < n; i++) {
			if (b->nfds < VHOST_USER_MAX_FDS) {
				b->fds[b->nfds++] = fds[i];
			} else {
				close(fds[i]);
				ok = false;
			}
		}
	}
	return ok;
}

int
vu_msg_recv(int fd, struct vu_msgbuf *b)
{
	for (;;) {
		char cbuf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		struct msghdr mh;
		struct iovec iov;
		uint32_t want;
		ssize_t n;

		if (b->got < VHOST_USER_HDR_SIZE)
			want = VHOST_USER_HDR_SIZE - b->got;
		else
			want = VHOST_USER_HDR_SIZE + b->msg.hdr.size - b->got;
		iov.iov_base = vhost_user_msg_wire(&b->msg) + b->got;
		iov.iov_len = want;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		if (!take_fds(b, &mh))
			return -E2BIG;
		b->got += (uint32_t)n;
		if (b->got == VHOST_USER_HDR_SIZE && b->msg.hdr.size > VHOST_USER_PAYLOAD_MAX)
			return -EMSGSIZE;
		if (b->got < VHOST_USER_HDR_SIZE || b->got < VHOST_USER_HDR_SIZE + b->msg.hdr.size)
			continue;
		/* Zero the rest so a short payload never shows stale bytes. */
		memset(vhost_user_msg_wire(&b->msg) + b->got, 0,
		       sizeof(b->msg) - offsetof(struct vhost_user_msg, hdr) - b->got);
		b->got = 0;
		return 1;
	}
}

/*
 * A GET_VRING_BASE answer for the ring asked: a 16-bit index on a split
 * ring; on a packed one (the spec's encoding) bits 0-14 the avail slot and
 * bits 16-30 the used slot, each inside the ring, bits 15 and 31 their wrap
 * counters; a backend that sends only the low half means used == avail.
 */
static bool
vu_vring_base_ok(const struct vu_pending *p, uint32_t index, uint32_t num)
{
	if (index != p->ring)
		return false;
	if (!p->packed)
		return num <= UINT16_MAX;
	return (num & 0x7fff) < p->ring_size && ((num >> 16) & 0x7fff) < p->ring_size;
}

static uint32_t
reply_size(const struct vu_pending *p)
{
	switch (p->kind) {
	case VU_REPLY_ACK:
	case VU_REPLY_U64:
		return sizeof(uint64_t);
	case VU_REPLY_STATE:
		return sizeof(struct vhost_user_vring_state);
	case VU_REPLY_CONFIG:
		return offsetof(struct vhost_user_config, payload) + p->cfg_size;
	default:
		return 0;
	}
}

int
vu_reply_validate(const struct vu_pending *p, const struct vu_msgbuf *b, char *why, size_t len)
{
	const struct vhost_user_msg *m = &b->msg;
	uint32_t want = reply_size(p);

	if (m->hdr.flags != (VHOST_USER_VERSION | VHOST_USER_REPLY_MASK)) {
		snprintf(why, len,
			 "header flags 0x%x (a reply has exactly version 1 and the reply "
			 "bit, 0x%x)",
			 m->hdr.flags, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK);
		return -EPROTO;
	}
	if (m->hdr.request != p->request) {
		snprintf(why, len, "it answers request %u (%s) instead", m->hdr.request,
			 vu_request_name(m->hdr.request));
		return -EPROTO;
	}
	if (b->nfds != 0) {
		snprintf(why, len, "it carries %d file descriptor(s), none expected", b->nfds);
		return -EPROTO;
	}
	/* GET_CONFIG may fail with an empty config payload (size 0). */
	if (p->kind == VU_REPLY_CONFIG &&
	    m->hdr.size == offsetof(struct vhost_user_config, payload) &&
	    m->payload.config.size == 0)
		return 0;
	if (m->hdr.size != want) {
		snprintf(why, len, "payload of %u bytes, expected %u", m->hdr.size, want);
		return -EPROTO;
	}
	switch (p->kind) {
	case VU_REPLY_STATE:
		if (!vu_vring_base_ok(p, m->payload.state.index, m->payload.state.num)) {
			snprintf(
				why, len, "ring %u base 0x%x (asked for ring %u of %u entries, %s)",
				m->payload.state.index, m->payload.state.num, p->ring, p->ring_size,
				p->packed ? "packed: avail and used slots below the size"
					  : "split: a 16-bit index");
			return -EPROTO;
		}
		break;
	case VU_REPLY_CONFIG:
		if (m->payload.config.offset != 0 || m->payload.config.size != p->cfg_size) {
			snprintf(why, len, "config offset %u size %u (asked for 0 and %u)",
				 m->payload.config.offset, m->payload.config.size, p->cfg_size);
			return -EPROTO;
		}
		break;
	default:
		break;
	}
	return 0;
}

int
vu_backend_request_validate(const struct vu_msgbuf *b, char *why, size_t len)
{
	const struct vhost_user_msg *m = &b->msg;
	uint32_t want;

	if ((m->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION ||
	    (m->hdr.flags & ~VHOST_USER_KNOWN_FLAGS) != 0 ||
	    (m->hdr.flags & VHOST_USER_REPLY_MASK) != 0) {
		snprintf(why, len, "header flags 0x%x (version must be 1, no reply bit)",
			 m->hdr.flags);
		return -EPROTO;
	}
	switch (m->hdr.request) {
	case VHOST_USER_BACKEND_IOTLB_MSG:
		want = sizeof(struct vhost_user_iotlb_msg);
		break;
	case VHOST_USER_BACKEND_CONFIG_CHANGE_MSG:
		want = 0;
		break;
	default:
		return 0; /* refused by the caller, with a reply if one is asked for */
	}
	if (m->hdr.size != want) {
		snprintf(why, len, "payload of %u bytes, expected %u", m->hdr.size, want);
		return -EPROTO;
	}
	if (b->nfds != 0) {
		snprintf(why, len, "it carries %d file descriptor(s), none expected", b->nfds);
		return -EPROTO;
	}
	return 0;
}
