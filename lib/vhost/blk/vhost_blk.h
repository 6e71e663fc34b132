/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-blk device type's internals (never installed): the device
 * state after struct vhu_vhost_dev, and each request queue's state, which
 * belongs to the lcore polling the queue.
 *
 * A queue's state is kept in the device, not beside its ring (vhu_vq_priv()):
 * requests outlive a ring restart (their I/O is still out), and ring state
 * may move to another NUMA node when the ring starts.
 */
#ifndef VHU_VHOST_BLK_H
#define VHU_VHOST_BLK_H

#include "vhost_private.h"
#include "virtq_async.h"
#include "vhu_blk.h"

_Static_assert(VHU_BLK_SEGS == VHU_VEC_MAX, "a request holds what a chain pop gathers");
_Static_assert((VHU_BLK_WINDOW & (VHU_BLK_WINDOW - 1)) == 0, "the window is a power of two");

/* One request queue. */
struct vhu_blk_queue {
	/* Bumped by the control thread when the ring starts (queue_start), read
	 * by the lcore after the acquire load of vq->ready: a completion taken
	 * in an older epoch is not returned (virtq_async.h). */
	uint32_t epoch;
	/* Control thread: a ring stop gave up waiting for the requests out
	 * ('held'), those before window position 'held_end'; their I/O may still
	 * write guest memory, which stays mapped until they complete (mem_held). */
	uint32_t held_end;
	bool held;
	/* The lcore's: requests of other queues it was handed to complete
	 * (vhu_blk_complete_burst() refuses them; logged). */
	uint64_t foreign;
	/* The lcore's: requests out, by window position. */
	struct vhu_blk_request slots[VHU_BLK_WINDOW];
	union {
		struct vhu_window w; /* requests taken and not returned, in take order */
		uint8_t w_bytes[sizeof(struct vhu_window) +
				VHU_BLK_WINDOW * sizeof(struct vhu_window_entry)];
	};
};

/* The device state (vhu_dev_priv()). */
struct vhu_blk_dev {
	/* What the parser checks requests against. 'capacity' changes under the
	 * lcores (vhu_blk_resize(): atomic); the negotiated flags are set while
	 * the rings are stopped (SET_FEATURES). */
	struct vhu_blk_limits lim;
	uint16_t num_queues;	    /* request queues offered */
	uint32_t blk_size;	    /* logical block size */
	uint8_t physical_block_exp; /* topology */
	uint16_t min_io_size;
	uint32_t opt_io_size;
	bool discard;		 /* DISCARD and WRITE_ZEROES offered */
	bool write_back;	 /* the cache mode: the config's, then the guest's (atomic) */
	bool write_back_initial; /* the config's, restored on reset */
	char serial[VIRTIO_BLK_ID_BYTES + 1]; /* GET_ID's answer, NUL-terminated */
	uint32_t stop_wait_us;		      /* how long a ring stop waits for requests out */
	struct vhu_blk_queue q[VHU_BLK_MAX_QUEUES];
};

extern const struct vhu_device_type vhu_blk_device_type;

static inline struct vhu_blk_dev *
vhu_blk_dev(const struct vhu_vhost_dev *dev)
{
	return vhu_dev_priv(dev);
}

/* Is 'dev' a blk device? */
static inline bool
vhu_is_blk(const struct vhu_vhost_dev *dev)
{
	return dev != NULL && dev->type == &vhu_blk_device_type;
}

/* The config space as the guest reads it now. */
void vhu_blk_config_space(const struct vhu_vhost_dev *dev, struct virtio_blk_config *cfg);

#endif /* VHU_VHOST_BLK_H */
