/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread: one epoll loop per process over listening sockets,
 * front-end connections and back-end channels, plus a once-a-second tick
 * that retries client connections. It never reads or writes ring contents.
 *
 * Every callback runs with vhu_ctrl_lock held, and API calls that change
 * devices take it too, so device state has one writer at a time. Watched fds
 * are named by a handle (slot and generation): an event that arrives for a
 * slot that was released meanwhile carries a stale generation and is ignored,
 * so a callback never runs on a freed object.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "vhost_private.h"

#define CTRL_MAX_WATCH 1024

struct ctrl_watch {
	int fd;				/* watched fd, or -1 for a free slot */
	uint32_t gen;			/* bumped on release */
	void (*cb)(void *arg, uint32_t events);
	void *arg;
};

pthread_mutex_t vhu_ctrl_lock = PTHREAD_MUTEX_INITIALIZER;
static int ctrl_epfd = -1;
static pthread_t ctrl_thread;
static struct ctrl_watch ctrl_watches[CTRL_MAX_WATCH];
static struct vhu_vhost_dev *ctrl_devs;	/* devices, for the reconnect tick */

int
vhu_ctrl_watch(int fd, void (*cb)(void *arg, uint32_t events), void *arg, uint64_t *handle)
{
	struct epoll_event ev;
	uint32_t i;

	for (i = 0; i < CTRL_MAX_WATCH; i++)
		if (ctrl_watches[i].cb == NULL)
			break;
	if (i == CTRL_MAX_WATCH) {
		VHU_LOG(ERR, "control thread watches %u fds already; cannot add more",
			CTRL_MAX_WATCH);
		return -ENOSPC;
	}
	ctrl_watches[i].fd = fd;
	ctrl_watches[i].cb = cb;
	ctrl_watches[i].arg = arg;
	*handle = ((uint64_t)ctrl_watches[i].gen << 32) | i;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u64 = *handle;
	if (epoll_ctl(ctrl_epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		int rc = -errno;

		ctrl_watches[i].cb = NULL;
		ctrl_watches[i].gen++;
		return rc;
	}
	return 0;
}

void
vhu_ctrl_unwatch(uint64_t handle)
{
	uint32_t i = (uint32_t)handle;

	if (i >= CTRL_MAX_WATCH || ctrl_watches[i].gen != (uint32_t)(handle >> 32) ||
	    ctrl_watches[i].cb == NULL)
		return;
	epoll_ctl(ctrl_epfd, EPOLL_CTL_DEL, ctrl_watches[i].fd, NULL);
	ctrl_watches[i].cb = NULL;
	ctrl_watches[i].fd = -1;
	ctrl_watches[i].gen++;
}

void
vhu_ctrl_add_dev(struct vhu_vhost_dev *dev)
{
	dev->next = ctrl_devs;
	ctrl_devs = dev;
}

void
vhu_ctrl_remove_dev(struct vhu_vhost_dev *dev)
{
	struct vhu_vhost_dev **p;

	for (p = &ctrl_devs; *p != NULL; p = &(*p)->next) {
		if (*p == dev) {
			*p = dev->next;
			return;
		}
	}
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void *
ctrl_loop(void *unused)
{
	struct epoll_event evs[32];
	uint64_t last_tick = 0;

	for (;;) {
		int n = epoll_wait(ctrl_epfd, evs, RTE_DIM(evs), 250), i;
		uint64_t now = now_ms();

		pthread_mutex_lock(&vhu_ctrl_lock);
		for (i = 0; i < n; i++) {
			uint64_t h = evs[i].data.u64;
			uint32_t slot = (uint32_t)h;
			struct ctrl_watch *w = &ctrl_watches[slot];

			/* A stale handle: the slot was released after epoll_wait returned. */
			if (slot >= CTRL_MAX_WATCH || w->cb == NULL || w->gen != (uint32_t)(h >> 32))
				continue;
			w->cb(w->arg, evs[i].events);
		}
		if (now - last_tick >= 1000) {
			struct vhu_vhost_dev *dev;

			last_tick = now;
			for (dev = ctrl_devs; dev != NULL; dev = dev->next)
				if (dev->conn_state == VHU_VHOST_CONNECTING)
					vhu_socket_retry_connect(dev);
		}
		pthread_mutex_unlock(&vhu_ctrl_lock);
	}
	return NULL;
}

int
vhu_ctrl_start(void)
{
	static bool started;
	int rc = 0, i;

	pthread_mutex_lock(&vhu_ctrl_lock);
	if (started)
		goto out;
	for (i = 0; i < CTRL_MAX_WATCH; i++)
		ctrl_watches[i].fd = -1;
	ctrl_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctrl_epfd < 0) {
		rc = -errno;
		VHU_LOG(ERR, "cannot create the control thread's epoll fd: %s", strerror(errno));
		goto out;
	}
	rc = rte_ctrl_thread_create(&ctrl_thread, "vhu-ctrl", NULL, ctrl_loop, NULL);
	if (rc != 0) {
		VHU_LOG(ERR, "cannot start the vhu-ctrl thread: %s", strerror(rc));
		close(ctrl_epfd);
		ctrl_epfd = -1;
		rc = -rc;
		goto out;
	}
	started = true;
out:
	pthread_mutex_unlock(&vhu_ctrl_lock);
	return rc;
}
