/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lifecycle callbacks (struct vhu_vhost_callbacks): what the application
 * learns of a device without polling it.
 *
 * Message handlers do not call the application. After each message, and
 * when a connection closes, vhu_events_check() compares what the device is
 * now (features, each ring's ready flag, running) with what the application
 * was last told, and queues the differences; a ring stopped and restarted
 * within one message (a memory table replaced) is not news. The control
 * loop delivers the queue once it has released vhu_ctrl_lock
 * (vhu_events_deliver(), its 'after' hook), so a callback may call any vhu
 * function, vhu_vhost_destroy() of its own device included.
 *
 * A device being destroyed drops its queued events; if another thread is
 * delivering one of them at that moment, vhu_events_drop() waits until the
 * callback returned, so that none runs on a freed device.
 *
 * When the front-end leaves or resets a running device, the reset unmaps
 * nothing the application may still read: guest memory stays mapped until
 * device_stopping has returned (vhost_mem.c, mem_stop_owed).
 */
#include <stdlib.h>
#include <sys/queue.h>

#include "vhost_private.h"

enum vhu_event_kind {
	VHU_EV_FEATURES, /* features_changed */
	VHU_EV_VRING,	 /* vring_state */
	VHU_EV_READY,	 /* device_ready */
	VHU_EV_STOPPING, /* device_stopping */
	VHU_EV_CLOSED,	 /* connection_closed */
};

struct vhu_event {
	TAILQ_ENTRY(vhu_event) next;
	struct vhu_vhost_dev *dev;
	enum vhu_event_kind kind;
	uint16_t vq;	   /* VHU_EV_VRING */
	bool enabled;	   /* VHU_EV_VRING */
	uint64_t features; /* VHU_EV_FEATURES */
};

/* Events not yet delivered, oldest first (vhu_ctrl_lock). */
static TAILQ_HEAD(, vhu_event) event_queue = TAILQ_HEAD_INITIALIZER(event_queue);
/* The device whose callback runs now, and on which thread (vhu_ctrl_lock). */
static struct vhu_vhost_dev *event_dev;
static pthread_t event_thread;
/* The running callback destroyed its own device: do not touch it after. */
static bool event_dev_gone;
/* Signalled (with vhu_ctrl_lock) when a callback returns. */
static pthread_cond_t event_done = PTHREAD_COND_INITIALIZER;

static void
event_queue_add(struct vhu_vhost_dev *dev, enum vhu_event_kind kind, uint16_t vq, bool enabled)
{
	struct vhu_event *e = calloc(1, sizeof(*e));

	if (e == NULL) {
		VHU_LOG(ERR, "%s: out of memory: a lifecycle event (%d) is not delivered",
			dev->path, (int)kind);
		return;
	}
	e->dev = dev;
	e->kind = kind;
	e->vq = vq;
	e->enabled = enabled;
	e->features = dev->features;
	TAILQ_INSERT_TAIL(&event_queue, e, next);
}

/*
 * Running: the rings the front-end uses are all ready, one at least. With
 * PROTOCOL_FEATURES the front-end says which it uses (SET_VRING_ENABLE);
 * without, every ring it set up and the other of its pair (rings come in
 * pairs), so that a device does not report ready between a pair's two rings.
 */
bool
vhu_dev_running(const struct vhu_vhost_dev *dev)
{
	bool any = false, pf = dev_has_feature(dev, VHOST_USER_F_PROTOCOL_FEATURES);
	uint16_t i, n = __atomic_load_n(&dev->nr_vqs, __ATOMIC_RELAXED);

	if (!pf)
		n = (uint16_t)((n + 1u) & ~1u);
	for (i = 0; i < n && i < dev->num_queues; i++) {
		bool ready = __atomic_load_n(&dev->vq[i]->ready, __ATOMIC_RELAXED);
		bool used = !pf || __atomic_load_n(&dev->vq[i]->enabled, __ATOMIC_RELAXED);

		if (used && !ready)
			return false;
		any |= ready;
	}
	return any;
}

static bool
vq_reported(const struct vhu_vhost_dev *dev, uint16_t i)
{
	return (dev->ev_vq_ready[i / 64] >> (i % 64)) & 1;
}

static void
vq_set_reported(struct vhu_vhost_dev *dev, uint16_t i, bool ready)
{
	if (ready)
		dev->ev_vq_ready[i / 64] |= UINT64_C(1) << (i % 64);
	else
		dev->ev_vq_ready[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

/* Queue ring changes towards 'ready' (only rings turning on, or only off). */
static void
check_rings(struct vhu_vhost_dev *dev, bool turning_on)
{
	uint16_t i;

	for (i = 0; i < dev->num_queues; i++) {
		bool ready = dev->vq[i]->ready;

		if (ready != turning_on || ready == vq_reported(dev, i))
			continue;
		vq_set_reported(dev, i, ready);
		if (dev->cb.vring_state != NULL)
			event_queue_add(dev, VHU_EV_VRING, i, ready);
	}
}

void
vhu_events_check(struct vhu_vhost_dev *dev)
{
	bool running;

	/* Before anything is told: a ring that moves is stopped and started again. */
	vhu_numa_place_rings(dev);
	running = vhu_dev_running(dev);
	if (dev->features_set && dev->features != dev->ev_features) {
		dev->ev_features = dev->features;
		if (dev->cb.features_changed != NULL)
			event_queue_add(dev, VHU_EV_FEATURES, 0, false);
	}
	/* Stopping: the device first, then its rings; starting: the other way. */
	if (!running && dev->ev_running) {
		dev->ev_running = false;
		if (dev->cb.device_stopping != NULL)
			event_queue_add(dev, VHU_EV_STOPPING, 0, false);
	}
	check_rings(dev, false);
	check_rings(dev, true);
	if (running && !dev->ev_running) {
		dev->ev_running = true;
		/* Cleared when device_stopping returns (vhu_events_deliver()). */
		dev->ev_told = dev->cb.device_stopping != NULL;
		if (dev->cb.device_ready != NULL)
			event_queue_add(dev, VHU_EV_READY, 0, false);
	}
	if (!dev->features_set)
		dev->ev_features = 0;
}

void
vhu_events_closed(struct vhu_vhost_dev *dev)
{
	vhu_events_check(dev);
	if (dev->cb.connection_closed != NULL)
		event_queue_add(dev, VHU_EV_CLOSED, 0, false);
}

void
vhu_events_drop(struct vhu_vhost_dev *dev)
{
	struct vhu_event *e, *tmp;

	for (e = TAILQ_FIRST(&event_queue); e != NULL; e = tmp) {
		tmp = TAILQ_NEXT(e, next);
		if (e->dev == dev) {
			TAILQ_REMOVE(&event_queue, e, next);
			free(e);
		}
	}
	/* A callback on this device runs on another thread: wait until it returns.
	 * From the callback itself (destroying its own device), do not. */
	while (event_dev == dev && !pthread_equal(event_thread, pthread_self()))
		pthread_cond_wait(&event_done, &vhu_ctrl_lock);
	if (event_dev == dev)
		event_dev_gone = true;
}

static void
event_call(const struct vhu_event *e, const struct vhu_vhost_callbacks *cb, void *arg)
{
	switch (e->kind) {
	case VHU_EV_FEATURES:
		cb->features_changed(arg, e->dev, e->features);
		break;
	case VHU_EV_VRING:
		cb->vring_state(arg, e->dev, e->vq, e->enabled);
		break;
	case VHU_EV_READY:
		cb->device_ready(arg, e->dev);
		break;
	case VHU_EV_STOPPING:
		cb->device_stopping(arg, e->dev);
		break;
	case VHU_EV_CLOSED:
		cb->connection_closed(arg, e->dev);
		break;
	}
}

void
vhu_events_deliver(void)
{
	for (;;) {
		struct vhu_vhost_callbacks cb;
		struct vhu_event *e;
		void *arg;

		pthread_mutex_lock(&vhu_ctrl_lock);
		/* One deliverer at a time: a second waits for the first's callback. */
		while (event_dev != NULL)
			pthread_cond_wait(&event_done, &vhu_ctrl_lock);
		e = TAILQ_FIRST(&event_queue);
		if (e == NULL) {
			pthread_mutex_unlock(&vhu_ctrl_lock);
			return;
		}
		TAILQ_REMOVE(&event_queue, e, next);
		cb = e->dev->cb;
		arg = e->dev->cb_arg;
		event_dev = e->dev;
		event_thread = pthread_self();
		pthread_mutex_unlock(&vhu_ctrl_lock);

		event_call(e, &cb, arg);

		pthread_mutex_lock(&vhu_ctrl_lock);
		/* device_stopping returned: guest memory a reset kept for the
		 * application may go now (vhost_mem.c). */
		if (e->kind == VHU_EV_STOPPING && !event_dev_gone && !e->dev->ev_running) {
			e->dev->ev_told = false;
			vhu_dev_stop_told(e->dev);
		}
		event_dev_gone = false;
		event_dev = NULL;
		pthread_cond_broadcast(&event_done);
		pthread_mutex_unlock(&vhu_ctrl_lock);
		free(e);
	}
}
