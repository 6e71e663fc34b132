/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The process's control thread ("vhu-ctrl", DESIGN.md "Threads"): one epoll
 * loop shared by the backend and the frontend. Users register fds with a
 * callback, and once-a-second ticks. Callbacks run on the control thread
 * with vhu_ctrl_lock held; any other thread that changes state those
 * callbacks use must hold the lock too. Callbacks must not block for long:
 * every device of the process waits behind them.
 */
#ifndef VHU_CTRL_H
#define VHU_CTRL_H

#include <pthread.h>
#include <stdint.h>

/* Held while any callback runs; take it to change what callbacks use. */
extern pthread_mutex_t vhu_ctrl_lock;

/*
 * The application's loop, when it runs the control loop itself: called, with
 * the lock held, to add and remove the fds of vhu_ctrl_watch().
 */
struct vhu_ctrl_app_loop {
	int (*add)(void *ctx, int fd); /* 0 or -errno */
	void (*del)(void *ctx, int fd);
	void *ctx;
};

/*
 * Set the loop up: on a control thread of our own ('app' NULL), or run by the
 * application through 'app' and vhu_ctrl_dispatch(). 0, -EALREADY or -errno.
 */
int vhu_ctrl_init(const struct vhu_ctrl_app_loop *app);
/* Stop the thread (if ours) and release the loop. 0 or -EBUSY (fds still watched). */
int vhu_ctrl_fini(void);
/* Make sure a loop runs: the control thread, unless vhu_ctrl_init() chose. 0 or -errno. */
int vhu_ctrl_start(void);
/*
 * Application-run loop: run the callback of 'fd' (-1: none) and the ticks
 * that are due, then the 'after' hook. 0, -ENOENT (fd not watched) or -EPERM
 * (the loop is the control thread's).
 */
int vhu_ctrl_dispatch(int fd);
/*
 * Called on the loop's thread, without the lock, after each round of
 * callbacks: the library delivers what the callbacks queued for the
 * application (lifecycle events) there. One hook per process.
 */
void vhu_ctrl_set_after(void (*after)(void));

/*
 * Call cb(arg, epoll events) on the control thread whenever 'fd' is readable
 * or hung up. '*handle' names the watch for vhu_ctrl_unwatch(). Returns 0 or
 * -errno. Call with vhu_ctrl_lock held.
 */
int vhu_ctrl_watch(int fd, void (*cb)(void *arg, uint32_t events), void *arg, uint64_t *handle);

/*
 * Stop watching. After it returns (lock held), the callback will not run
 * again for this handle, even for an event already fetched. The caller
 * still owns and closes the fd.
 */
void vhu_ctrl_unwatch(uint64_t handle);

/* Run cb(arg) about once a second on the control thread. 0 or -ENOSPC. Lock held. */
int vhu_ctrl_add_tick(void (*cb)(void *arg), void *arg);
/* Remove a tick added with the same cb and arg. Lock held. */
void vhu_ctrl_remove_tick(void (*cb)(void *arg), void *arg);

#endif /* VHU_CTRL_H */
