/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The connection to the backend, run on the process's control thread
 * (lib/common/vhu_ctrl.h): sockets (client and server mode), the FIFO of
 * replies due, reply dispatch, timeouts, reconnects, and the API that
 * start() and stop() wait on. The message sequences themselves are in
 * vu_seq.c, the backend's own requests in vu_backend_req.c.
 *
 * Nothing here blocks waiting for a reply: a backend served by the same
 * process (a loopback in one vhu-pmd) answers on this very thread. Requests
 * go out in order; what each reply must be is queued (struct vu_pending)
 * and checked when the reply arrives.
 *
 * Any failure (a bad or refused reply, a timeout, the socket closing) closes
 * the connection: the rings are taken back from the data path, where each
 * resumes is worked out, and a client reconnects every second while the
 * port is started. start() and stop() wait on the control thread's lock
 * with a condition variable.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_malloc.h>

#include "vhu_ctrl.h"
#include "vu_private.h"

/* Blocking sends give up after this long; a backend that stops reading is dead. */
#define VU_SEND_TIMEOUT_S 1
/* How long stop() lets a running backend take what the tx rings hold. */
#define VU_TX_DRAIN_MS 500

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- closing ---- */

/*
 * Drop the connection. 'err' (0 for an orderly close) is what a waiting
 * start() or stop() returns. The rings are taken back first, so no lcore
 * polls them while we work out where each resumes.
 */
void
vu_conn_close(struct vu_dev *dev, int err)
{
	bool rings_out =
		dev->state == VU_STARTING || dev->state == VU_RUNNING || dev->state == VU_STOPPING;

	if (dev->fd < 0)
		return;
	vu_rings_unpublish(dev);
	if (rings_out) {
		vu_rings_recover(dev);
		/* What the backend completed before it went is still ours to receive. */
		if (dev->want_run && !dev->destroying)
			vu_rings_publish(dev, dev->active_qp, false);
	}
	vhu_ctrl_unwatch(dev->fd_handle);
	close(dev->fd);
	dev->fd = -1;
	vu_msgbuf_drop_fds(&dev->in);
	dev->in.got = 0;
	vu_backend_channel_close(dev);
	dev->pend_head = 0;
	dev->pend_count = 0;
	dev->seq_pending = 0;
	dev->phase = VU_PH_NONE;
	dev->state = VU_DISCONNECTED;
	dev->mem_added = false;
	/* The backend is gone, and its IOTLB with it. */
	if (dev->granted != NULL)
		memset(dev->granted, 0, RTE_ALIGN_CEIL(dev->mem.nunits, 64) / 8);
	dev->seq_error = err != 0 ? err : -ECONNRESET;
	dev->seq_gen++;
	pthread_cond_broadcast(&dev->cond);
	if (!dev->server && dev->want_run && !dev->start_waiting && !dev->destroying) {
		VU_LOG(WARNING, "%s: backend disconnected; link down, reconnecting every second",
		       dev->path);
		dev->retry_logged = true;
	} else if (!dev->destroying) {
		VU_LOG(INFO, "%s: backend disconnected; link down%s", dev->path,
		       dev->server ? ", waiting for it to connect again" : "");
	}
}

/* Log why the connection fails, keep it for info(), and close. Returns err. */
int
vu_fail(struct vu_dev *dev, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dev->last_error, sizeof(dev->last_error), fmt, ap);
	va_end(ap);
	VU_LOG(ERR, "%s: %s", dev->path, dev->last_error);
	vu_conn_close(dev, err);
	return err;
}

/* ---- requests ---- */

/*
 * Send 'msg' (request and payload filled in) with 'nfds' fds, and queue
 * what its reply must be: 'kind' is the request's own reply, or
 * VU_REPLY_NONE for a request that has none, which then asks for an ack
 * when REPLY_ACK is negotiated. 'seq' makes the current phase wait for it;
 * 'cb' (optional) sees the validated reply. 0, or -errno with the
 * connection closed.
 */
int
vu_request(struct vu_dev *dev, struct vhost_user_msg *msg, const int *fds, int nfds,
	   enum vu_reply_kind kind, bool seq, vu_reply_cb cb, uint64_t arg)
{
	uint32_t req = msg->hdr.request;
	int rc;

	msg->hdr.flags = VHOST_USER_VERSION;
	if (kind == VU_REPLY_NONE && vu_has_pf(dev, VHOST_USER_PROTOCOL_F_REPLY_ACK)) {
		msg->hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
		kind = VU_REPLY_ACK;
	}
	if (kind != VU_REPLY_NONE) {
		struct vu_pending *p;

		if (dev->pend_count == VU_PENDING_MAX)
			return vu_fail(dev, -ENOBUFS,
				       "%u requests await replies; the backend is "
				       "not answering %s",
				       VU_PENDING_MAX, vu_request_name(req));
		p = &dev->pending[(dev->pend_head + dev->pend_count) % VU_PENDING_MAX];
		memset(p, 0, sizeof(*p));
		p->request = req;
		p->kind = kind;
		p->seq = seq;
		p->cb = cb;
		p->arg = arg;
		p->deadline_ms = now_ms() + VU_REPLY_TIMEOUT_MS;
		if (req == VHOST_USER_GET_VRING_BASE) {
			const struct vu_vq *vq = dev->vq[msg->payload.state.index];

			p->ring = vq->index;
			p->ring_size = vq->size;
			p->packed = vq->conf.packed;
		}
		if (req == VHOST_USER_GET_CONFIG)
			p->cfg_size = msg->payload.config.size;
		dev->pend_count++;
		if (seq)
			dev->seq_pending++;
	}
	rc = vu_msg_send(dev->fd, msg, fds, nfds);
	if (rc != 0)
		return vu_fail(dev, rc, "cannot send %s: %s; is the backend still running?",
			       vu_request_name(req), strerror(-rc));
	return 0;
}

void
vu_msg_init(struct vhost_user_msg *msg, uint32_t request, uint32_t size)
{
	memset(msg, 0, sizeof(*msg));
	msg->hdr.request = request;
	msg->hdr.size = size;
}

/* A request with no payload and a reply of 'kind'. */
int
vu_req_get(struct vu_dev *dev, uint32_t request, enum vu_reply_kind kind, vu_reply_cb cb)
{
	struct vhost_user_msg msg;

	vu_msg_init(&msg, request, 0);
	return vu_request(dev, &msg, NULL, 0, kind, true, cb, 0);
}

/* A request with a u64 payload (and maybe one fd), acked when REPLY_ACK is on. */
int
vu_req_u64(struct vu_dev *dev, uint32_t request, uint64_t value, int fd)
{
	struct vhost_user_msg msg;

	vu_msg_init(&msg, request, sizeof(uint64_t));
	msg.payload.u64 = value;
	return vu_request(dev, &msg, &fd, fd >= 0 ? 1 : 0, VU_REPLY_NONE, true, NULL, 0);
}

int
vu_req_state(struct vu_dev *dev, uint32_t request, uint32_t index, uint32_t num)
{
	struct vhost_user_msg msg;

	vu_msg_init(&msg, request, sizeof(struct vhost_user_vring_state));
	msg.payload.state.index = index;
	msg.payload.state.num = num;
	return vu_request(dev, &msg, NULL, 0, VU_REPLY_NONE, true, NULL, 0);
}

/* ---- replies ---- */

/* A whole reply is in dev->in: check it against the oldest request and act on it. */
static void
vu_reply(struct vu_dev *dev)
{
	struct vu_pending p;
	char why[160];

	if (dev->pend_count == 0) {
		vu_fail(dev, -EPROTO,
			"the backend sent message %u (%s) that answers no request; "
			"refused",
			dev->in.msg.hdr.request, vu_request_name(dev->in.msg.hdr.request));
		return;
	}
	p = dev->pending[dev->pend_head];
	if (vu_reply_validate(&p, &dev->in, why, sizeof(why)) != 0) {
		vu_msgbuf_drop_fds(&dev->in);
		vu_fail(dev, -EPROTO,
			"reply to %s refused: %s; the backend does not follow the "
			"vhost-user protocol",
			vu_request_name(p.request), why);
		return;
	}
	dev->pend_head = (dev->pend_head + 1) % VU_PENDING_MAX;
	dev->pend_count--;
	if (p.kind == VU_REPLY_ACK && p.cb == NULL && dev->in.msg.payload.u64 != 0) {
		vu_fail(dev, -EPROTO, "the backend refused %s (ack %" PRIu64 "); see its log",
			vu_request_name(p.request), dev->in.msg.payload.u64);
		return;
	}
	if (p.cb != NULL && p.cb(dev, &p, &dev->in.msg) != 0)
		return; /* the callback closed the connection */
	if (p.seq && --dev->seq_pending == 0)
		vu_seq_run(dev);
}

static void
vu_main_event(void *arg, uint32_t events)
{
	struct vu_dev *dev = arg;

	while (dev->fd >= 0) {
		int rc = vu_msg_recv(dev->fd, &dev->in);

		if (rc == 0)
			return;
		if (rc == -ECONNRESET && dev->pend_count > 0) {
			vu_fail(dev, rc,
				"the backend closed the connection instead of answering %s",
				vu_request_name(dev->pending[dev->pend_head].request));
			return;
		}
		if (rc == -ECONNRESET) {
			snprintf(dev->last_error, sizeof(dev->last_error),
				 "the backend closed the connection");
			vu_conn_close(dev, rc);
			return;
		}
		if (rc < 0) {
			vu_fail(dev, rc, "cannot read a reply: %s",
				rc == -EMSGSIZE
					? "its header announces more payload than any message has"
				: rc == -E2BIG ? "it carries too many file descriptors"
					       : strerror(-rc));
			return;
		}
		vu_reply(dev);
	}
}

/* ---- sockets ---- */

static int
vu_attach(struct vu_dev *dev, int fd)
{
	struct timeval tv = {.tv_sec = VU_SEND_TIMEOUT_S};
	int rc;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = vhu_ctrl_watch(fd, vu_main_event, dev, &dev->fd_handle);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	dev->fd = fd;
	memset(&dev->in, 0, sizeof(dev->in));
	dev->pend_head = 0;
	dev->pend_count = 0;
	dev->seq_pending = 0;
	dev->state = VU_HANDSHAKE;
	dev->phase = VU_PH_GET_FEATURES;
	dev->retry_logged = false;
	vu_seq_run(dev);
	return 0;
}

static void
fill_addr(const struct vu_dev *dev, struct sockaddr_un *un)
{
	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	snprintf(un->sun_path, sizeof(un->sun_path), "%s", dev->path);
}

/* Client mode: connect once. 'quiet' for the retries of the tick. */
static int
vu_connect(struct vu_dev *dev, bool quiet)
{
	struct sockaddr_un un;
	int fd, rc;

	fill_addr(dev, &un);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) != 0) {
		rc = -errno;
		close(fd);
		if (!quiet)
			VU_LOG(ERR,
			       "%s: cannot connect to the backend: %s; start the backend first%s",
			       dev->path, strerror(-rc),
			       dev->port != NULL ? " or use server=1" : "");
		return rc;
	}
	rc = vu_attach(dev, fd);
	if (rc == 0 && quiet)
		VU_LOG(INFO, "%s: reconnected to the backend", dev->path);
	return rc;
}

static void
vu_listen_event(void *arg, uint32_t events)
{
	struct vu_dev *dev = arg;
	int fd = accept4(dev->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (dev->fd >= 0) {
		VU_LOG(WARNING,
		       "%s: a second backend tried to connect while one is attached; "
		       "refused",
		       dev->path);
		close(fd);
		return;
	}
	VU_LOG(INFO, "%s: a backend connected", dev->path);
	if (vu_attach(dev, fd) != 0)
		VU_LOG(ERR, "%s: cannot serve the backend that connected", dev->path);
}

static int
vu_listen(struct vu_dev *dev)
{
	struct sockaddr_un un;
	struct stat st;
	int fd, rc;

	fill_addr(dev, &un);
	if (stat(dev->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			VU_LOG(ERR,
			       "%s exists and is not a socket; remove it or choose another "
			       "path",
			       dev->path);
			return -EEXIST;
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0) {
			close(fd);
			VU_LOG(ERR,
			       "%s is served by another process; stop it or choose another "
			       "path",
			       dev->path);
			return -EADDRINUSE;
		}
		if (fd >= 0)
			close(fd);
		unlink(dev->path); /* left behind by a process that died */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&un, sizeof(un)) != 0 || listen(fd, 4) != 0) {
		rc = -errno;
		VU_LOG(ERR, "cannot listen on %s: %s; check the directory exists and is writable",
		       dev->path, strerror(-rc));
		close(fd);
		return rc;
	}
	rc = vhu_ctrl_watch(fd, vu_listen_event, dev, &dev->listen_handle);
	if (rc != 0) {
		close(fd);
		unlink(dev->path);
		return rc;
	}
	dev->listen_fd = fd;
	return 0;
}

/* Once a second: reply timeouts, and client reconnects while the port is started. */
static void
vu_tick(void *arg)
{
	struct vu_dev *dev = arg;

	if (dev->fd >= 0 && dev->pend_count > 0 &&
	    now_ms() > dev->pending[dev->pend_head].deadline_ms) {
		vu_fail(dev, -ETIMEDOUT, "no reply to %s within %u s; the backend is hung",
			vu_request_name(dev->pending[dev->pend_head].request),
			VU_REPLY_TIMEOUT_MS / 1000);
		return;
	}
	if (dev->fd < 0 && !dev->server && dev->want_run && !dev->start_waiting && !dev->destroying)
		vu_connect(dev, true);
}

/* ---- API (any control thread; takes vhu_ctrl_lock) ---- */

int
vu_conn_init(struct vu_dev *dev)
{
	pthread_condattr_t attr;
	int rc;

	dev->fd = -1;
	dev->breq_fd = -1;
	dev->listen_fd = -1;
	dev->state = VU_DISCONNECTED;
	dev->granted = rte_zmalloc("vu_iotlb", 2 * (RTE_ALIGN_CEIL(dev->mem.nunits, 64) / 8), 0);
	if (dev->granted == NULL)
		return -ENOMEM;
	dev->refused = dev->granted + RTE_ALIGN_CEIL(dev->mem.nunits, 64) / 64;
	rc = vhu_handoff_init();
	if (rc == 0)
		rc = vhu_ctrl_start();
	if (rc != 0)
		goto free_maps;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&dev->cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_lock(&vhu_ctrl_lock);
	rc = dev->server ? vu_listen(dev) : 0;
	if (rc == 0)
		rc = vhu_ctrl_add_tick(vu_tick, dev);
	if (rc != 0 && dev->listen_fd >= 0) {
		vhu_ctrl_unwatch(dev->listen_handle);
		close(dev->listen_fd);
		unlink(dev->path);
		dev->listen_fd = -1;
	}
	pthread_mutex_unlock(&vhu_ctrl_lock);
	if (rc != 0) {
		pthread_cond_destroy(&dev->cond);
		goto free_maps;
	}
	if (dev->server)
		VU_LOG(INFO, "%s: listening for a backend (server mode)", dev->path);
	return 0;
free_maps:
	rte_free(dev->granted);
	dev->granted = NULL;
	return rc;
}

void
vu_conn_fini(struct vu_dev *dev)
{
	pthread_mutex_lock(&vhu_ctrl_lock);
	dev->destroying = true;
	vhu_ctrl_remove_tick(vu_tick, dev);
	vu_conn_close(dev, -ESHUTDOWN);
	if (dev->listen_fd >= 0) {
		vhu_ctrl_unwatch(dev->listen_handle);
		close(dev->listen_fd);
		unlink(dev->path);
		dev->listen_fd = -1;
	}
	pthread_mutex_unlock(&vhu_ctrl_lock);
	pthread_cond_destroy(&dev->cond);
	rte_free(dev->granted);
	dev->granted = NULL;
	dev->refused = NULL;
}

/*
 * Wait (lock held) until the state is 'target' or the connection is gone.
 * Returns 0, the failure of the sequence, or VU_WAIT_EXPIRED.
 */
#define VU_WAIT_EXPIRED 1
static int
vu_wait(struct vu_dev *dev, enum vu_state target)
{
	struct timespec ts;
	uint64_t deadline = now_ms() + VU_SEQ_TIMEOUT_MS;

	while (dev->state != target) {
		if (dev->state == VU_DISCONNECTED)
			return dev->seq_error != 0 ? dev->seq_error : -ECONNRESET;
		ts.tv_sec = (time_t)(deadline / 1000);
		ts.tv_nsec = (long)(deadline % 1000) * 1000000;
		if (pthread_cond_timedwait(&dev->cond, &vhu_ctrl_lock, &ts) == ETIMEDOUT &&
		    dev->state != target && dev->state != VU_DISCONNECTED)
			return VU_WAIT_EXPIRED;
	}
	return 0;
}

int
vu_conn_start(struct vu_dev *dev)
{
	int rc = 0;

	pthread_mutex_lock(&vhu_ctrl_lock);
	dev->want_run = true;
	if (dev->state == VU_DISCONNECTED) {
		if (dev->server) {
			VU_LOG(INFO, "%s: started; link up once a backend connects (server mode)",
			       dev->path);
			goto out;
		}
		rc = vu_connect(dev, false);
		if (rc != 0)
			goto fail;
	} else if (dev->state == VU_IDLE) {
		dev->phase = VU_PH_START_FEATURES;
		vu_seq_run(dev);
	}
	/* While we wait no tick reconnects: a failed start must fail, not retry. */
	dev->start_waiting = true;
	rc = vu_wait(dev, VU_RUNNING);
	dev->start_waiting = false;
	if (rc == VU_WAIT_EXPIRED)
		rc = vu_fail(dev, -ETIMEDOUT,
			     "the backend did not finish the start sequence "
			     "within %u s",
			     VU_SEQ_TIMEOUT_MS / 1000);
	if (rc != 0)
		goto fail;
out:
	pthread_mutex_unlock(&vhu_ctrl_lock);
	return 0;
fail:
	dev->want_run = false;
	pthread_mutex_unlock(&vhu_ctrl_lock);
	VU_LOG(ERR, "%s: %s device not started: %s", dev->path, dev->type->name,
	       dev->last_error[0] != '\0' ? dev->last_error : strerror(-rc));
	return rc;
}

/*
 * Give a running backend a moment to take what the tx rings still hold,
 * as a driver drains its transmit queues before it stops the device:
 * otherwise packets the application counts as sent would never leave.
 * No burst runs now (the caller stopped them), so the rings can be read.
 */
static void
vu_tx_drain(struct vu_dev *dev)
{
	uint64_t deadline = now_ms() + VU_TX_DRAIN_MS;
	uint32_t pending;
	uint16_t q;

	if (__atomic_load_n(&dev->state, __ATOMIC_RELAXED) != VU_RUNNING)
		return;
	do {
		pending = 0;
		for (q = 0; q < vu_rings_of(dev, dev->active_qp); q++)
			if (dev->vq[q]->tx)
				pending += vu_ring_tx_pending(dev->vq[q]);
		if (pending == 0)
			return;
		usleep(1000);
	} while (now_ms() < deadline);
	VU_LOG(WARNING,
	       "%s: %u packet(s) still in the tx rings after %u ms; the backend takes "
	       "them if the port starts again",
	       dev->path, pending, VU_TX_DRAIN_MS);
}

void
vu_conn_stop(struct vu_dev *dev)
{
	int rc = 0;

	vu_tx_drain(dev);
	pthread_mutex_lock(&vhu_ctrl_lock);
	dev->want_run = false;
	/* A sequence under way finishes first (it ends in IDLE now that want_run is off,
	 * or in RUNNING for a start already past the features). */
	if (dev->state == VU_HANDSHAKE || dev->state == VU_STARTING) {
		rc = vu_wait(dev, dev->state == VU_HANDSHAKE ? VU_IDLE : VU_RUNNING);
		if (rc == VU_WAIT_EXPIRED)
			vu_fail(dev, -ETIMEDOUT,
				"the backend did not finish its sequence; closing");
	}
	if (dev->state == VU_RUNNING) {
		vu_rings_unpublish(dev);
		dev->state = VU_STOPPING;
		dev->phase = VU_PH_STOP_RINGS;
		vu_seq_run(dev);
		rc = vu_wait(dev, VU_IDLE);
		if (rc == VU_WAIT_EXPIRED)
			vu_fail(dev, -ETIMEDOUT,
				"the backend did not finish the stop sequence within "
				"%u s; closing",
				VU_SEQ_TIMEOUT_MS / 1000);
	}
	/* Rings left draining after the backend went away come back too. */
	vu_rings_unpublish(dev);
	pthread_mutex_unlock(&vhu_ctrl_lock);
}
