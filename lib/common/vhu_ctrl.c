/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread: one epoll loop per process over listening sockets,
 * front-end connections and back-end channels, of the backend (lib/vhost)
 * and the frontend (drivers/net/virtio_user) alike, plus a once-a-second
 * tick (client reconnects). It never reads or writes ring contents.
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

#include <rte_common.h>
#include <rte_log.h>

#include "vhu_ctrl.h"

RTE_LOG_REGISTER(vhu_ctrl_logtype, vhu.ctrl, INFO);
#define CTRL_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, vhu_ctrl_logtype, "ctrl: " fmt "\n", ##__VA_ARGS__)

#define CTRL_MAX_WATCH 1024
#define CTRL_MAX_TICK 64

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
static struct {
	void (*cb)(void *arg);	/* NULL for a free slot */
	void *arg;
} ctrl_ticks[CTRL_MAX_TICK];	/* run once a second */

int
vhu_ctrl_watch(int fd, void (*cb)(void *arg, uint32_t events), void *arg, uint64_t *handle)
{
	struct epoll_event ev;
	uint32_t i;

	for (i = 0; i < CTRL_MAX_WATCH; i++)
		if (ctrl_watches[i].cb == NULL)
			break;
	if (i == CTRL_MAX_WATCH) {
		CTRL_LOG(ERR, "control thread watches %u fds already; cannot add more",
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

int
vhu_ctrl_add_tick(void (*cb)(void *arg), void *arg)
{
	int i;

	for (i = 0; i < CTRL_MAX_TICK; i++) {
		if (ctrl_ticks[i].cb == NULL) {
			ctrl_ticks[i].cb = cb;
			ctrl_ticks[i].arg = arg;
			return 0;
		}
	}
	return -ENOSPC;
}

void
vhu_ctrl_remove_tick(void (*cb)(void *arg), void *arg)
{
	int i;

	for (i = 0; i < CTRL_MAX_TICK; i++)
		if (ctrl_ticks[i].cb == cb && ctrl_ticks[i].arg == arg)
			ctrl_ticks[i].cb = NULL;
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
			last_tick = now;
			for (i = 0; i < CTRL_MAX_TICK; i++)
				if (ctrl_ticks[i].cb != NULL)
					ctrl_ticks[i].cb(ctrl_ticks[i].arg);
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
		CTRL_LOG(ERR, "cannot create the control thread's epoll fd: %s", strerror(errno));
		goto out;
	}
	rc = rte_ctrl_thread_create(&ctrl_thread, "vhu-ctrl", NULL, ctrl_loop, NULL);
	if (rc != 0) {
		CTRL_LOG(ERR, "cannot start the vhu-ctrl thread: %s", strerror(rc));
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
