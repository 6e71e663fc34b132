/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libvhu, process-wide: initialisation and the control loop.
 *
 * The library does its protocol work (sockets, messages, reconnects, IOTLB
 * misses) on one control loop per process. Either vhu_init() starts it on a
 * thread of its own ("vhu-ctrl"), or the application runs it: it passes
 * watch callbacks, keeps the file descriptors they name in its own poll or
 * epoll set, and calls vhu_dispatch() when one is readable (and at least
 * once a second for timers). The loop's thread, whichever it is, is "the
 * control thread" of this API: lifecycle callbacks (vhu_vhost.h) run there.
 *
 * Return contract: 0 or a negative errno.
 */
#ifndef VHU_H
#define VHU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The application's control loop: how the library asks it to watch a file
 * descriptor. Both are called on the control thread or from a vhu call of
 * the application's (device creation and destruction), with a library lock
 * held: they must only update the application's fd set, never call into vhu.
 */
struct vhu_watch_ops {
	/* Watch 'fd' for input and hang-up; 0 or -errno (the library gives up
	 * what needed the fd, and reports the error to its caller). */
	int (*add)(void *ctx, int fd);
	/* Stop watching 'fd'; it is closed right after. */
	void (*del)(void *ctx, int fd);
	void *ctx; /* passed to both */
};

struct vhu_init_params {
	/* NULL: vhu_init() starts the control thread. Else the application
	 * runs the loop through these callbacks and vhu_dispatch(). */
	const struct vhu_watch_ops *watch;
};

/*
 * Set the library up: call once, after rte_eal_init(), before the first
 * device. 'params' may be NULL (a control thread of the library's own).
 * Returns 0, -EALREADY (vhu_init() was called, or a device was created,
 * which starts the control thread when vhu_init() was not called), -EINVAL,
 * or the error that starting the thread met. Any thread but a data lcore.
 */
int vhu_init(const struct vhu_init_params *params);

/*
 * Undo vhu_init(): stop and join the control thread (if the library runs
 * it) and release the loop, so that vhu_init() may be called again. Every
 * device must have been destroyed. Returns 0 or -EBUSY (file descriptors
 * are still watched: a device or a frontend port is alive). Not from the
 * control thread or a callback.
 */
int vhu_fini(void);

/*
 * Application-run loop: handle what 'fd' (a descriptor the watch callbacks
 * named) has to say; with fd == -1, only run the timers that are due (client
 * reconnects). Call it when fd is readable or hung up, and at least once a
 * second. Lifecycle callbacks of what happened run before it returns, on
 * the calling thread. Returns 0, -ENOENT ('fd' is not watched now: it was
 * removed meanwhile, which is harmless) or -EPERM (the library runs its own
 * control thread). One thread at a time.
 */
int vhu_dispatch(int fd);

#ifdef __cplusplus
}
#endif

#endif /* VHU_H */
