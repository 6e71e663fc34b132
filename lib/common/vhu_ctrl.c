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
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
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

/* How the loop runs (vhu_ctrl_lock). */
enum ctrl_mode {
	CTRL_NONE,   /* not set up */
	CTRL_THREAD, /* our thread, on ctrl_epfd */
	CTRL_APP,    /* the application's loop, through ctrl_app */
};

pthread_mutex_t vhu_ctrl_lock = PTHREAD_MUTEX_INITIALIZER;
static enum ctrl_mode ctrl_mode;
static struct vhu_ctrl_app_loop ctrl_app; /* CTRL_APP */
static int ctrl_epfd = -1;		  /* CTRL_THREAD */
static int ctrl_wake_fd = -1;		  /* CTRL_THREAD: vhu_ctrl_fini() wakes the loop */
static bool ctrl_stop;			  /* CTRL_THREAD: the loop returns (atomic) */
static pthread_t ctrl_thread;
static uint64_t ctrl_last_tick;	 /* ms of the last tick round */
static void (*ctrl_after)(void); /* vhu_ctrl_set_after() */
/* A handle no watch has (slot and generation are never all ones): the wake fd. */
#define CTRL_WAKE_HANDLE UINT64_MAX
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
	if (ctrl_mode == CTRL_APP) {
		int rc = ctrl_app.add(ctrl_app.ctx, fd);

		if (rc != 0) {
			CTRL_LOG(ERR, "the application's loop refused to watch fd %d: %s", fd,
				 strerror(rc < 0 ? -rc : EINVAL));
			ctrl_watches[i].cb = NULL;
			ctrl_watches[i].fd = -1;
			ctrl_watches[i].gen++;
			return rc < 0 ? rc : -EINVAL;
		}
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u64 = *handle;
	if (epoll_ctl(ctrl_epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		int rc = -errno;

		ctrl_watches[i].cb = NULL;
		ctrl_watches[i].fd = -1;
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
	if (ctrl_mode == CTRL_APP)
		ctrl_app.del(ctrl_app.ctx, ctrl_watches[i].fd);
	else
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

/* Run the tick callbacks if a second has passed since the last round. Lock held. */
static void
ctrl_run_ticks(uint64_t now)
{
	int i;

	if (now - ctrl_last_tick < 1000)
		return;
	ctrl_last_tick = now;
	for (i = 0; i < CTRL_MAX_TICK; i++)
		if (ctrl_ticks[i].cb != NULL)
			ctrl_ticks[i].cb(ctrl_ticks[i].arg);
}

static void
ctrl_run_after(void)
{
	void (*after)(void) = __atomic_load_n(&ctrl_after, __ATOMIC_ACQUIRE);

	if (after != NULL)
		after();
}

void
vhu_ctrl_set_after(void (*after)(void))
{
	/* Release: whatever 'after' uses was set up before (pairs with ctrl_run_after()). */
	__atomic_store_n(&ctrl_after, after, __ATOMIC_RELEASE);
}

static void *
ctrl_loop(void *unused)
{
	struct epoll_event evs[32];

	while (!__atomic_load_n(&ctrl_stop, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(ctrl_epfd, evs, RTE_DIM(evs), 250), i;
		uint64_t now = now_ms();

		pthread_mutex_lock(&vhu_ctrl_lock);
		for (i = 0; i < n; i++) {
			uint64_t h = evs[i].data.u64;
			uint32_t slot = (uint32_t)h;
			struct ctrl_watch *w;

			/* The wake fd, or a stale handle: the slot was released after
			 * epoll_wait returned. The slot is checked before it is used:
			 * the wake handle's is out of range. */
			if (h == CTRL_WAKE_HANDLE || slot >= CTRL_MAX_WATCH)
				continue;
			w = &ctrl_watches[slot];
			if (w->cb == NULL || w->gen != (uint32_t)(h >> 32))
				continue;
			w->cb(w->arg, evs[i].events);
		}
		ctrl_run_ticks(now);
		pthread_mutex_unlock(&vhu_ctrl_lock);
		ctrl_run_after();
	}
	return NULL;
}

int
vhu_ctrl_dispatch(int fd)
{
	int rc = fd >= 0 ? -ENOENT : 0;
	uint32_t i;

	pthread_mutex_lock(&vhu_ctrl_lock);
	if (ctrl_mode != CTRL_APP) {
		pthread_mutex_unlock(&vhu_ctrl_lock);
		return -EPERM;
	}
	for (i = 0; fd >= 0 && i < CTRL_MAX_WATCH; i++) {
		if (ctrl_watches[i].cb != NULL && ctrl_watches[i].fd == fd) {
			ctrl_watches[i].cb(ctrl_watches[i].arg, EPOLLIN);
			rc = 0;
			break;
		}
	}
	ctrl_run_ticks(now_ms());
	pthread_mutex_unlock(&vhu_ctrl_lock);
	ctrl_run_after();
	return rc;
}

/* Start our thread on a new epoll fd. Lock held. */
static int
ctrl_thread_start(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = CTRL_WAKE_HANDLE };
	int rc;

	ctrl_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctrl_epfd < 0) {
		rc = -errno;
		CTRL_LOG(ERR, "cannot create the control thread's epoll fd: %s", strerror(errno));
		return rc;
	}
	ctrl_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ctrl_wake_fd < 0 || epoll_ctl(ctrl_epfd, EPOLL_CTL_ADD, ctrl_wake_fd, &ev) != 0) {
		rc = -errno;
		CTRL_LOG(ERR, "cannot set up the control thread's wake-up fd: %s", strerror(errno));
		goto close_fds;
	}
	ctrl_stop = false;
	rc = rte_ctrl_thread_create(&ctrl_thread, "vhu-ctrl", NULL, ctrl_loop, NULL);
	if (rc != 0) {
		CTRL_LOG(ERR, "cannot start the vhu-ctrl thread: %s", strerror(rc));
		rc = -rc;
		goto close_fds;
	}
	return 0;
close_fds:
	if (ctrl_wake_fd >= 0)
		close(ctrl_wake_fd);
	ctrl_wake_fd = -1;
	close(ctrl_epfd);
	ctrl_epfd = -1;
	return rc;
}

int
vhu_ctrl_init(const struct vhu_ctrl_app_loop *app)
{
	int rc = 0, i;

	if (app != NULL && (app->add == NULL || app->del == NULL))
		return -EINVAL;
	pthread_mutex_lock(&vhu_ctrl_lock);
	if (ctrl_mode != CTRL_NONE) {
		rc = -EALREADY;
		goto out;
	}
	for (i = 0; i < CTRL_MAX_WATCH; i++)
		ctrl_watches[i].fd = -1;
	ctrl_last_tick = 0;
	if (app != NULL) {
		ctrl_app = *app;
		ctrl_mode = CTRL_APP;
		goto out;
	}
	rc = ctrl_thread_start();
	if (rc == 0)
		ctrl_mode = CTRL_THREAD;
out:
	pthread_mutex_unlock(&vhu_ctrl_lock);
	return rc;
}

int
vhu_ctrl_start(void)
{
	int rc = vhu_ctrl_init(NULL);

	return rc == -EALREADY ? 0 : rc;
}

int
vhu_ctrl_fini(void)
{
	uint64_t one = 1;
	uint32_t i, busy = 0;
	enum ctrl_mode mode;

	pthread_mutex_lock(&vhu_ctrl_lock);
	for (i = 0; i < CTRL_MAX_WATCH; i++)
		busy += ctrl_watches[i].cb != NULL;
	if (busy != 0) {
		pthread_mutex_unlock(&vhu_ctrl_lock);
		CTRL_LOG(ERR,
			 "cannot stop the control loop: %u fds are still watched; destroy "
			 "every device and port first",
			 busy);
		return -EBUSY;
	}
	mode = ctrl_mode;
	ctrl_mode = CTRL_NONE;
	for (i = 0; i < CTRL_MAX_TICK; i++)
		ctrl_ticks[i].cb = NULL;
	pthread_mutex_unlock(&vhu_ctrl_lock);
	if (mode != CTRL_THREAD)
		return 0;
	/* Release: pairs with the acquire in ctrl_loop(); the write wakes it. */
	__atomic_store_n(&ctrl_stop, true, __ATOMIC_RELEASE);
	if (write(ctrl_wake_fd, &one, sizeof(one)) != sizeof(one))
		CTRL_LOG(WARNING, "cannot wake the control thread; it stops within 250 ms");
	pthread_join(ctrl_thread, NULL);
	close(ctrl_wake_fd);
	ctrl_wake_fd = -1;
	close(ctrl_epfd);
	ctrl_epfd = -1;
	return 0;
}
