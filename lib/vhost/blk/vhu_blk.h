/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu's virtio-blk device: a vhost-user-blk backend on the core (issue 14).
 *
 * The library speaks the protocol, offers the features and the config space
 * of the image the application describes, takes requests from the rings and
 * checks them (blk_req.h); the application does the I/O. A request queue is
 * polled by one lcore, which calls, in its loop:
 *
 *   vhu_blk_dequeue_burst()   take requests: each is checked, and those the
 *                             device answers itself (GET_ID, bad requests)
 *                             come with their status already decided;
 *   vhu_blk_complete()        give a request's status, when its I/O is done,
 *                             in any order and in any later call (or
 *                             vhu_blk_complete_burst() for several);
 *   vhu_blk_flush()           return the completed requests to the guest
 *                             (in the order they were taken) and notify it.
 *
 * A request stays in the inflight record (INFLIGHT_SHMFD) from its take to
 * its return, so a backend restarted with requests outstanding does them
 * again. At most VHU_BLK_WINDOW requests of a queue are out at once; the
 * rest wait in the ring.
 *
 * Complete every request taken, whatever the front-end does. When it stops
 * a ring (GET_VRING_BASE, a new memory table, a disconnect), the library
 * waits up to 5 s for the requests out, reports the ring's used position as
 * its base, and the restarted ring takes again the requests it had not
 * returned, once their first completion is in. Guest memory a request out
 * may still write stays mapped until it completes. Destroy a device only
 * once every request taken from it has completed.
 *
 * Return contract: control calls return 0 or a negative errno; constructors
 * a pointer, or NULL with rte_errno set; bursts return counts.
 * Threads: control calls from a control (non-data) thread; the three data
 * calls of a queue from the one lcore that polls it.
 */
#ifndef VHU_BLK_H
#define VHU_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "blk_req.h"
#include "vhu_vhost.h"

/* Request queues a device may offer. */
#define VHU_BLK_MAX_QUEUES 16
/* Requests of one queue out at once (taken, not yet returned). */
#define VHU_BLK_WINDOW 128
/* Buffers one request may span (the header and the status included); the
 * device offers seg_max = VHU_BLK_SEGS - 2 data segments. */
#define VHU_BLK_SEGS 128

struct vhu_blk_config {
	const char *path;	    /* UNIX socket path; copied */
	uint32_t flags;		    /* VHU_VHOST_CLIENT, VHU_VHOST_NO_RECONNECT */
	uint16_t num_queues;	    /* request queues, 1..VHU_BLK_MAX_QUEUES */
	uint64_t capacity;	    /* bytes, a multiple of 512 */
	uint32_t blk_size;	    /* logical block size: 512..65536, a power of two */
	uint8_t physical_block_exp; /* log2(physical block / logical block) */
	uint16_t min_io_size;	    /* in logical blocks (topology); 0: 1 */
	uint32_t opt_io_size;	    /* in logical blocks (topology); 0: none */
	bool read_only;		    /* offer VIRTIO_BLK_F_RO and refuse writes */
	bool write_cache;	    /* start in write-back mode (the guest may change it) */
	bool discard;		    /* offer DISCARD and WRITE_ZEROES */
	const char *serial;	    /* GET_ID's answer (up to 20 bytes), or NULL */
	uint64_t disable_features;  /* virtio feature bits never to offer */
	const struct vhu_vhost_callbacks *callbacks; /* copied; NULL for none */
	void *callback_arg;			     /* first argument of every callback */
};

/*
 * A request taken from a queue. 'req' is what to do (type, offset, len, data
 * buffers in our address space, ranges); the device owns the rest. Valid
 * from vhu_blk_dequeue_burst() until vhu_blk_complete().
 */
struct vhu_blk_request {
	struct vhu_blk_req req;		/* checked request; data points into 'iov' */
	bool answered;			/* the device answered it (req.status_value): do no I/O,
					 * complete it with that status */
	uint32_t index;			/* 0..VHU_BLK_WINDOW - 1: unique among a queue's requests
					 * out, for the application's own per-request state */
	uint32_t ticket;		/* the device's */
	uint16_t queue;			/* the device's */
	struct iovec iov[VHU_BLK_SEGS]; /* the chain's buffers */
};

/*
 * Make a virtio-blk device and start serving its socket. Returns the device
 * or NULL with rte_errno set (EINVAL: a bad config, with a log line naming
 * it; EEXIST: the path is served already). Destroy it with
 * vhu_vhost_destroy(). Control thread.
 */
struct vhu_vhost_dev *vhu_blk_create(const struct vhu_blk_config *cfg);

/*
 * The image now holds 'capacity' bytes (a multiple of 512): update the config
 * space and tell the front-end (CONFIG_CHANGE on the back-end channel).
 * Returns 0, -EINVAL (not a blk device, or a bad size), -ENOTCONN (no
 * front-end, or it gave no back-end channel: it reads the new size when it
 * next reads the config space) or -EBUSY (the control thread is busy with
 * the device: nothing changed, call again later; this call never waits for
 * it, so a polling lcore may make it). Any non-data thread, or a data lcore.
 */
int vhu_blk_resize(struct vhu_vhost_dev *dev, uint64_t capacity);

/* The write cache mode the guest chose (CONFIG_WCE): true for write-back. Any thread. */
bool vhu_blk_write_back(const struct vhu_vhost_dev *dev);

/*
 * Take up to 'count' requests from request queue 'q' into 'reqs'. Returns how
 * many; 0 if the queue is not ready, broken, empty or has VHU_BLK_WINDOW
 * requests out. A chain that cannot carry a status breaks the ring. Data
 * lcore of 'q'.
 */
uint16_t vhu_blk_dequeue_burst(struct vhu_vhost_dev *dev, uint16_t q, struct vhu_blk_request **reqs,
			       uint16_t count);

/*
 * Request 'r' is done with 'status' (VIRTIO_BLK_S_*); for a read, its data
 * is in the guest's buffers. Writes the status byte; the guest sees it at
 * the next vhu_blk_flush(). Data lcore of the request's queue.
 */
void vhu_blk_complete(struct vhu_vhost_dev *dev, struct vhu_blk_request *r, uint8_t status);

/*
 * The burst form of vhu_blk_complete(): requests reqs[0 .. n), all taken
 * from queue 'q', are done with status[i] each; the ring is held once for
 * them all. Returns how many were completed, the first ones: n, unless
 * reqs[ret] was taken from another queue (a bug of the caller, logged),
 * which is left out with the ones after it, still the caller's to complete
 * on their own queues' lcores. Data lcore of 'q'.
 */
uint16_t vhu_blk_complete_burst(struct vhu_vhost_dev *dev, uint16_t q,
				struct vhu_blk_request *const *reqs, const uint8_t *status,
				uint16_t n);

/*
 * Return the completed requests of queue 'q' to the guest, in take order,
 * and notify it if it asked to be. Returns how many were returned. Data
 * lcore of 'q'.
 */
uint16_t vhu_blk_flush(struct vhu_vhost_dev *dev, uint16_t q);

/* Requests of queue 'q' taken and not yet returned. Data lcore of 'q'. */
uint32_t vhu_blk_outstanding(struct vhu_vhost_dev *dev, uint16_t q);

#endif /* VHU_BLK_H */
