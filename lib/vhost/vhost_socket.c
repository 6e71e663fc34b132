/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user sockets: listening (server mode), connecting with retries
 * (client mode), and one connection per device, read without ever blocking
 * the control thread: a message is assembled from as many reads as it takes,
 * so a peer that sends half a header and stalls delays nobody.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vhost_private.h"

struct vhu_conn {
	int fd;				/* connected socket */
	uint64_t handle;		/* control-thread watch */
	struct vhu_vhost_dev *dev;	/* device it serves */
	uint32_t got;			/* bytes of 'msg' received so far */
	int nfds;			/* fds received with this message */
	int fds[VHOST_USER_MAX_FDS];
	struct vhost_user_msg msg;	/* message being assembled */
};

static void conn_event(void *arg, uint32_t events);

static void
close_pending_fds(struct vhu_conn *c)
{
	int i;

	for (i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	c->nfds = 0;
}

void
vhu_conn_close(struct vhu_vhost_dev *dev, const char *why)
{
	struct vhu_conn *c = dev->conn;

	if (c == NULL)
		return;
	vhu_ctrl_unwatch(c->handle);
	close(c->fd);
	close_pending_fds(c);
	free(c);
	dev->conn = NULL;
	vhu_dev_reset(dev);
	vhu_events_closed(dev);
	VHU_LOG(INFO, "%s: front-end disconnected (%s)", dev->path, why);
	if (dev->destroying)
		return;
	if (dev->flags & VHU_VHOST_CLIENT) {
		if (dev->flags & VHU_VHOST_NO_RECONNECT) {
			dev->conn_state = VHU_VHOST_CONNECTING;
			return;
		}
		dev->conn_state = VHU_VHOST_CONNECTING;
		VHU_LOG(INFO, "%s: reconnecting every second until the front-end is back",
			dev->path);
	} else {
		dev->conn_state = VHU_VHOST_LISTENING;
	}
}

static int
conn_attach(struct vhu_vhost_dev *dev, int fd)
{
	struct vhu_conn *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->dev = dev;
	rc = vhu_ctrl_watch(fd, conn_event, c, &c->handle);
	if (rc != 0) {
		close(fd);
		free(c);
		return rc;
	}
	dev->conn = c;
	dev->conn_state = VHU_VHOST_CONNECTED;
	dev->connections++;
	VHU_LOG(INFO, "%s: front-end connected", dev->path);
	return 0;
}

/* Send 'msg', with 'fd' attached when it is not -1. */
static int
conn_send(struct vhu_conn *c, struct vhost_user_msg *msg, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	size_t len = VHOST_USER_HDR_SIZE + msg->hdr.size;
	struct iovec iov = { .iov_base = vhost_user_msg_wire(msg), .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do {
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -EIO;
}

static int
send_reply(struct vhu_conn *c, struct vhost_user_msg *msg)
{
	int fd = c->dev->reply_fd;

	c->dev->reply_fd = -1; /* the device keeps its own copy; this one is lent */
	msg->hdr.flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	return conn_send(c, msg, fd);
}

/* Handle the assembled message. Returns false if the connection was closed. */
static bool
conn_dispatch(struct vhu_conn *c)
{
	struct vhu_vhost_dev *dev = c->dev;
	const char *why = NULL;
	int nfds = c->nfds;

	c->nfds = 0; /* the dispatcher owns the fds from here on */
	switch (vhu_msg_dispatch(dev, &c->msg, c->fds, nfds, &why)) {
	case VHU_MSG_ACT_REPLY:
		if (send_reply(c, &c->msg) != 0) {
			vhu_conn_close(dev, "cannot send the reply; the front-end is not reading");
			return false;
		}
		return true;
	case VHU_MSG_ACT_CLOSE:
		vhu_conn_close(dev, why);
		return false;
	default:
		return true;
	}
}

static void
take_fds(struct vhu_conn *c, struct msghdr *mh, bool *too_many)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n, i;
		int *fds;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)CMSG_DATA(cm);
		for (i = 0; i < n; i++) {
			if (c->nfds < VHOST_USER_MAX_FDS) {
				c->fds[c->nfds++] = fds[i];
			} else {
				close(fds[i]);
				*too_many = true;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		*too_many = true;
}

static void
conn_event(void *arg, uint32_t events)
{
	struct vhu_conn *c = arg;
	struct vhu_vhost_dev *dev = c->dev;

	for (;;) {
		char cbuf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		uint32_t want;
		bool too_many = false;
		struct iovec iov;
		struct msghdr mh;
		ssize_t n;

		if (c->got < VHOST_USER_HDR_SIZE)
			want = VHOST_USER_HDR_SIZE - c->got;
		else
			want = VHOST_USER_HDR_SIZE + c->msg.hdr.size - c->got;
		iov.iov_base = vhost_user_msg_wire(&c->msg) + c->got;
		iov.iov_len = want;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			vhu_conn_close(dev, n == 0 ? "peer closed the socket" : strerror(errno));
			return;
		}
		take_fds(c, &mh, &too_many);
		if (too_many) {
			VHU_LOG(ERR, "%s: a message carried more than %d file descriptors; closing "
				"the connection", dev->path, VHOST_USER_MAX_FDS);
			vhu_conn_close(dev, "too many file descriptors");
			return;
		}
		c->got += (uint32_t)n;
		if (c->got == VHOST_USER_HDR_SIZE && c->msg.hdr.size > VHOST_USER_PAYLOAD_MAX) {
			VHU_LOG(ERR, "%s: %s header announces %u payload bytes (at most %zu); "
				"closing the connection", dev->path, vhu_msg_name(c->msg.hdr.request),
				c->msg.hdr.size, VHOST_USER_PAYLOAD_MAX);
			vhu_conn_close(dev, "oversized message");
			return;
		}
		if (c->got < VHOST_USER_HDR_SIZE || c->got < VHOST_USER_HDR_SIZE + c->msg.hdr.size)
			continue;
		/* Whole message: zero the rest of the payload so handlers never see stale bytes. */
		memset(vhost_user_msg_wire(&c->msg) + c->got, 0,
		       sizeof(c->msg) - offsetof(struct vhost_user_msg, hdr) - c->got);
		c->got = 0;
		if (!conn_dispatch(c))
			return;
		vhu_events_check(dev);
		close_pending_fds(c);
	}
}

static void
listen_event(void *arg, uint32_t events)
{
	struct vhu_vhost_dev *dev = arg;
	int fd = accept4(dev->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (dev->conn != NULL) {
		VHU_LOG(WARNING, "%s: a second front-end tried to connect while one is attached; "
			"refused", dev->path);
		close(fd);
		return;
	}
	conn_attach(dev, fd);
}

static int
fill_addr(struct vhu_vhost_dev *dev, struct sockaddr_un *un)
{
	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	snprintf(un->sun_path, sizeof(un->sun_path), "%s", dev->path);
	return 0;
}

/* Is a socket file at 'path' served by a live listener? */
static bool
path_is_live(const struct sockaddr_un *un)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)un, sizeof(*un)) == 0;
	close(fd);
	return live;
}

static int
server_open(struct vhu_vhost_dev *dev)
{
	struct sockaddr_un un;
	struct stat st;
	int fd, rc;

	fill_addr(dev, &un);
	if (stat(dev->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			VHU_LOG(ERR, "%s exists and is not a socket; remove it or choose another "
				"path", dev->path);
			return -EEXIST;
		}
		if (path_is_live(&un)) {
			VHU_LOG(ERR, "%s is served by another process; stop it or choose another "
				"path", dev->path);
			return -EADDRINUSE;
		}
		unlink(dev->path); /* a stale socket left by a process that died */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&un, sizeof(un)) != 0 || listen(fd, 8) != 0) {
		rc = -errno;
		VHU_LOG(ERR, "cannot listen on %s: %s; check the directory exists and is writable",
			dev->path, strerror(errno));
		close(fd);
		return rc;
	}
	dev->listen_fd = fd;
	rc = vhu_ctrl_watch(fd, listen_event, dev, &dev->listen_handle);
	if (rc != 0) {
		close(fd);
		unlink(dev->path);
		dev->listen_fd = -1;
		return rc;
	}
	dev->conn_state = VHU_VHOST_LISTENING;
	VHU_LOG(INFO, "%s: waiting for a front-end (server mode)", dev->path);
	return 0;
}

/* Control-thread tick: a client device without a front-end tries again. */
static void
client_tick(void *arg)
{
	struct vhu_vhost_dev *dev = arg;

	if (dev->conn_state == VHU_VHOST_CONNECTING && !(dev->flags & VHU_VHOST_NO_RECONNECT))
		vhu_socket_retry_connect(dev);
}

void
vhu_socket_retry_connect(struct vhu_vhost_dev *dev)
{
	struct sockaddr_un un;
	int fd;

	if (dev->conn != NULL || dev->destroying)
		return;
	fill_addr(dev, &un);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) != 0) {
		close(fd);
		return;
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		close(fd);
		return;
	}
	conn_attach(dev, fd);
}

int
vhu_socket_open(struct vhu_vhost_dev *dev)
{
	int rc;

	if (!(dev->flags & VHU_VHOST_CLIENT))
		return server_open(dev);
	rc = vhu_ctrl_add_tick(client_tick, dev);
	if (rc != 0)
		return rc;
	dev->conn_state = VHU_VHOST_CONNECTING;
	VHU_LOG(INFO, "%s: connecting to the front-end (client mode, retrying every second)",
		dev->path);
	vhu_socket_retry_connect(dev);
	return 0;
}

void
vhu_socket_close(struct vhu_vhost_dev *dev)
{
	if (dev->flags & VHU_VHOST_CLIENT)
		vhu_ctrl_remove_tick(client_tick, dev);
	if (dev->listen_fd >= 0) {
		vhu_ctrl_unwatch(dev->listen_handle);
		close(dev->listen_fd);
		unlink(dev->path);
		dev->listen_fd = -1;
	}
}
