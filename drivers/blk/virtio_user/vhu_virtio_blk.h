/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu's virtio-blk driver over a vhost-user-blk backend: the blk device half
 * of the front-end whose protocol half is in drivers/net/virtio_user. It
 * plays the guest of a VMM: shared memory that stands for guest RAM, request
 * queues on split or packed rings, requests built there and polled for.
 *
 * Return contract: control calls return 0 or a negative errno, the
 * constructor a pointer or NULL with rte_errno set; every failure is also
 * logged with the socket path and the reason. Threads: create, start, stop,
 * destroy and info from a control thread; submit, kick and poll of one queue
 * from one lcore at a time. Each of those marks the queue busy while it runs
 * (vhu_handoff.h), so the control thread can take the ring back whenever the
 * backend goes away; the caller joins nothing.
 */
#ifndef VHU_VIRTIO_BLK_DRIVER_H
#define VHU_VIRTIO_BLK_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio_blk.h"

/* Most request queues a device drives. */
#define VHU_VBLK_MAX_QUEUES 16

struct vhu_vblk;

struct vhu_vblk_conf {
	const char *path;    /* the backend's UNIX socket (we connect to it) */
	uint16_t queues;     /* request queues, 1..VHU_VBLK_MAX_QUEUES */
	uint16_t queue_size; /* entries per ring: a power of two for split rings */
	bool packed;	     /* ask for packed rings (split if the backend has none) */
	bool indirect;	     /* ask for indirect descriptors */
	uint64_t data_bytes; /* shared memory for vhu_vblk_alloc() */
};

/* What the device and the negotiation gave. */
struct vhu_vblk_info {
	uint64_t features;   /* negotiated virtio features */
	uint64_t capacity;   /* 512-byte sectors */
	uint32_t blk_size;   /* logical block size (512 without BLK_SIZE) */
	uint32_t size_max;   /* largest data segment (0: no limit) */
	uint32_t seg_max;    /* most data segments a request (0: no limit) */
	uint16_t num_queues; /* queues the device offers (1 without MQ) */
	uint16_t queues;     /* queues running */
	bool packed;	     /* packed rings */
	bool indirect;	     /* indirect descriptors */
	bool event_idx;	     /* EVENT_IDX */
	bool read_only;	     /* VIRTIO_BLK_F_RO */
	bool config_valid;   /* the backend answered GET_CONFIG */
};

/* A request. 'buf' lies in memory from vhu_vblk_alloc(). */
struct vhu_vblk_req {
	uint32_t type;	 /* VIRTIO_BLK_T_IN, _OUT, _FLUSH, _GET_ID */
	uint64_t sector; /* 512-byte sector of the first byte */
	void *buf;	 /* data; NULL for FLUSH */
	uint32_t len;	 /* data bytes: a multiple of 512 for IN and OUT */
	uint64_t cookie; /* returned with the completion */
};

/* A completed request. */
struct vhu_vblk_done {
	uint64_t cookie;   /* the request's */
	uint32_t used_len; /* bytes the device says it wrote (data and status) */
	uint8_t status;	   /* VIRTIO_BLK_S_OK, _IOERR or _UNSUPP */
};

/* Create a device over a connection to conf->path; not connected yet. */
struct vhu_vblk *vhu_vblk_create(const struct vhu_vblk_conf *conf);
/* Connect, negotiate and start every queue; waits for the backend (at most 30 s). */
int vhu_vblk_start(struct vhu_vblk *b);
/* Stop the queues (requests still in flight are forgotten) and keep the connection. */
void vhu_vblk_stop(struct vhu_vblk *b);
/* Disconnect and free everything, including vhu_vblk_alloc() memory. */
void vhu_vblk_destroy(struct vhu_vblk *b);
/* Fill 'info'. 0, or -ENOTCONN before the device ran once. */
int vhu_vblk_info_get(struct vhu_vblk *b, struct vhu_vblk_info *info);
/*
 * 'len' bytes of shared memory aligned to 'align' (a power of two, at most
 * 4096) that the backend can reach; never across a 2 MB boundary, so 'len'
 * is at most 2 MB. NULL when the area given by data_bytes is used up.
 */
void *vhu_vblk_alloc(struct vhu_vblk *b, uint32_t len, uint32_t align);

/*
 * Put a request on queue 'q'; the backend sees it after vhu_vblk_kick().
 * 0; -EAGAIN when the ring is full (poll first); -EINVAL for a request
 * the driver cannot describe (buffer outside vhu_vblk_alloc() memory,
 * length not a multiple of 512, more segments than the device takes);
 * -ENOTCONN when the queue is not running; -EIO when it is broken (see
 * vhu_vblk_error()); -EINVAL for a queue 'q' the device does not have.
 */
int vhu_vblk_submit(struct vhu_vblk *b, uint16_t q, const struct vhu_vblk_req *req);
/* Publish what was submitted on 'q' and notify the backend unless it suppressed that. */
void vhu_vblk_kick(struct vhu_vblk *b, uint16_t q);
/*
 * Take up to 'n' completions of queue 'q'. Returns the count, or -EIO when
 * the backend broke the ring: a used id it was not given, a used length
 * past the bytes it may write, or a status byte that is not OK, IOERR or
 * UNSUPP (vhu_vblk_error() says which). -ENOTCONN when the queue is not
 * running, or when the backend went away with requests in flight and
 * nothing completed is left to take (a backend that reconnects resumes them).
 * -EINVAL for a queue 'q' the device does not have.
 */
int vhu_vblk_poll(struct vhu_vblk *b, uint16_t q, struct vhu_vblk_done *done, uint16_t n);
/* Why queue 'q' is broken ("" when it is not). Any thread. */
const char *vhu_vblk_error(struct vhu_vblk *b, uint16_t q);
/* Requests submitted on 'q' and not completed yet. */
uint32_t vhu_vblk_inflight(struct vhu_vblk *b, uint16_t q);

#endif /* VHU_VIRTIO_BLK_DRIVER_H */
