/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu's vhost-user backend: the device side of the protocol.
 *
 * A device is made with vhu_vhost_create() and served by the process's
 * control loop (vhu.h: vhu_init() starts it, or the application runs it),
 * which speaks the protocol on the device's UNIX socket and tells the
 * application what happens through lifecycle callbacks. The application's
 * data lcores move packets with vhu_vhost_enqueue_burst() and
 * vhu_vhost_dequeue_burst().
 *
 * Return contract: control calls return 0 or a negative errno; constructors
 * return a pointer, or NULL with rte_errno set; burst calls return counts.
 *
 * Threads: control calls may be made from any non-data thread, one at a time
 * per device. Burst calls on one queue pair must come from one lcore at a
 * time (DPDK's rule); nothing else is asked of the application. Each burst
 * marks its ring busy for its duration, and the control thread waits for
 * that mark to clear before it changes a ring or guest memory under it, so
 * a burst costs two stores and no lock (doc/architecture.md, "How control
 * and data meet without locks").
 */
#ifndef VHU_VHOST_H
#define VHU_VHOST_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "vhu.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vhu_vhost_dev;

/*
 * Lifecycle callbacks: what happened to a device, so the application need not
 * poll it. Each is called on the control thread (vhu.h), after the library
 * released its own locks: a callback may call any vhu function, including
 * vhu_vhost_destroy() of this very device (then no further callback comes
 * for it), but not vhu_dispatch(). They run one at a time, in the order
 * things happened; a state that changed and changed back within one message
 * (rings stopped while the memory table is replaced) is not reported. The
 * bursts need none of them for safety: a burst on a ring that is not ready
 * returns 0. Any member may be NULL. 'arg' is the config's callback_arg.
 */
struct vhu_vhost_callbacks {
	/* Every ring the front-end enabled is ready (at least one): start polling. */
	void (*device_ready)(void *arg, struct vhu_vhost_dev *dev);
	/* The device is no longer ready (a ring stopped, the front-end reset or
	 * left); its rings are already stopped and bursts on them return 0.
	 * After a reset or a disconnect, guest memory stays mapped until this
	 * returns. */
	void (*device_stopping)(void *arg, struct vhu_vhost_dev *dev);
	/* Virtqueue 'vq' became ready for the data path (enabled) or stopped. */
	void (*vring_state)(void *arg, struct vhu_vhost_dev *dev, uint16_t vq, bool enabled);
	/* The front-end negotiated 'features' (SET_FEATURES with a new value). */
	void (*features_changed)(void *arg, struct vhu_vhost_dev *dev, uint64_t features);
	/* The front-end's connection closed; the device is reset and waits for
	 * the next (server: listening; client: reconnecting unless NO_RECONNECT). */
	void (*connection_closed)(void *arg, struct vhu_vhost_dev *dev);
};

/* Device creation flags. */
#define VHU_VHOST_CLIENT	(1u << 0) /* connect to the socket instead of listening */
#define VHU_VHOST_NO_RECONNECT	(1u << 1) /* client: give up instead of retrying */
#define VHU_VHOST_IOMMU_SUPPORT (1u << 2) /* offer VIRTIO_F_IOMMU_PLATFORM (vIOMMU) */
#define VHU_VHOST_CSUM		(1u << 3) /* offer checksum offload (CSUM, GUEST_CSUM) */
#define VHU_VHOST_TSO		(1u << 4) /* offer TSO (HOST_TSO4/6, GUEST_TSO4/6); needs CSUM */
/* Offer VIRTIO_NET_F_MTU and NET_SET_MTU with no MTU of the backend's: the
 * front-end has it and tells it (DPDK's vhost library does so). */
#define VHU_VHOST_FRONTEND_MTU (1u << 5)
/* Guest RX behind a vIOMMU: refuse a packet whose buffer missed the IOTLB
 * (the burst returns short; the caller retries or drops, as with DPDK's
 * library) instead of holding it until the next burst or flush. */
#define VHU_VHOST_MISS_REFUSE (1u << 6)

struct vhu_vhost_config {
	const char *path;	   /* UNIX socket path; copied */
	uint32_t flags;		   /* VHU_VHOST_* */
	uint16_t queue_pairs;	   /* queue pairs offered, 1..vhu_vhost_max_queue_pairs() */
	uint64_t disable_features; /* virtio feature bits never to offer */
	uint16_t mtu;		   /* offered with VIRTIO_NET_F_MTU when non-zero */
	uint8_t mac[6];		   /* config-space MAC; all zero for none */
	const struct vhu_vhost_callbacks *callbacks; /* copied; NULL for none */
	void *callback_arg;			     /* first argument of every callback */
};

/*
 * Make a net device and start serving its socket (listening, or connecting
 * with retries in client mode). Returns the device, or NULL with rte_errno set
 * (EINVAL for a bad config, EEXIST for a path already served, or the error
 * from socket set-up). Without vhu_init(), the first device starts the
 * control thread. Call from a control (non-data) thread.
 */
struct vhu_vhost_dev *vhu_vhost_create(const struct vhu_vhost_config *cfg);

/*
 * Stop serving the device, drop the connection, unmap guest memory, close
 * every fd and free it; a listening socket file is removed. NULL is a no-op.
 * The caller must have stopped calling bursts on it. No callback for it runs
 * once this returns (a callback running on another thread is waited for).
 * Call from a control thread, or from one of the device's own callbacks.
 */
void vhu_vhost_destroy(struct vhu_vhost_dev *dev);

/*
 * Guest RX: copy up to 'count' mbufs into the guest's receive queue of pair
 * 'qp'. Returns how many were placed; the caller still owns all mbufs and
 * frees them (the backend only copies). Data lcore only.
 */
uint16_t vhu_vhost_enqueue_burst(struct vhu_vhost_dev *dev, uint16_t qp, struct rte_mbuf **pkts,
				 uint16_t count);

/*
 * Guest RX: deliver packets the queue pair holds for a guest behind a vIOMMU
 * (a packet whose buffer missed the IOTLB is held, not dropped, until the
 * front-end maps it). Call when the lcore owning the queue has nothing to
 * send, so held packets do not wait for the next one. Data lcore only.
 */
void vhu_vhost_enqueue_flush(struct vhu_vhost_dev *dev, uint16_t qp);

/*
 * Guest TX: take up to 'count' packets from the guest's transmit queue of pair
 * 'qp' into new mbufs from 'mp'. Returns how many were stored in 'pkts'; the
 * caller owns them. Data lcore only.
 */
uint16_t vhu_vhost_dequeue_burst(struct vhu_vhost_dev *dev, uint16_t qp, struct rte_mempool *mp,
				 struct rte_mbuf **pkts, uint16_t count);

/*
 * The virtio feature bits and vhost-user protocol feature bits a device made
 * from 'cfg' would offer (its flags, queue pairs, MTU and disable_features
 * applied), without making one: for an application that shows or narrows
 * them before it creates the device. Returns 0, or -EINVAL (a NULL
 * argument). Any thread.
 */
int vhu_vhost_offered_features(const struct vhu_vhost_config *cfg, uint64_t *features,
			       uint64_t *protocol_features);

/*
 * The device's MTU when the front-end negotiated VIRTIO_NET_F_MTU: the one it
 * set with NET_SET_MTU, else the config's. Returns 0, -ENOTSUP (the feature
 * is not negotiated; a device offers it only with a config MTU) or -EINVAL
 * (a NULL argument, or not a net device). Any thread, without waiting.
 */
int vhu_vhost_get_mtu(struct vhu_vhost_dev *dev, uint16_t *mtu);

/* Connection state, for status displays. */
enum vhu_vhost_conn_state {
	VHU_VHOST_LISTENING,  /* server: waiting for a front-end */
	VHU_VHOST_CONNECTING, /* client: retrying the connection */
	VHU_VHOST_CONNECTED,  /* a front-end is attached */
};

/*
 * Largest number of queue pairs a device may offer: fixed when the library is
 * built (meson -Dmax_queue_pairs, 128 by default). Any thread.
 */
uint16_t vhu_vhost_max_queue_pairs(void);

/* Per-virtqueue state snapshot (vhu_vhost_get_vq_info()). */
struct vhu_vhost_vq_info {
	bool enabled;		/* SET_VRING_ENABLE (or no PROTOCOL_FEATURES) */
	bool started;		/* has a kick fd and has not been stopped */
	bool ready;		/* the data path may use it now */
	bool broken;		/* latched after a guest violated the spec */
	bool packed;		/* packed layout */
	bool avail_idx_valid;	/* avail_idx was read (split, ready, control lock free) */
	uint16_t size;		/* entries */
	uint16_t last_avail;	/* next avail entry the device will read */
	uint16_t avail_idx;	/* avail->idx read from guest memory, if avail_idx_valid */
	uint16_t used_idx;	/* used->idx as last published */
	char broken_reason[64]; /* why it broke; empty when not broken */
	uint64_t errors;	/* guest violations and dropped chains on this ring */
	uint64_t nombuf;	/* guest TX bursts cut short by an empty mempool */
	uint64_t bad_hdr;	/* packets dropped for a virtio-net header that does not fit */
	uint64_t notify;	/* interrupts sent to the guest */
	int numa_node;		/* NUMA node of the ring's guest memory while ready (its
				 * state is placed there too), or -1 if unknown */
};

/* Device state snapshot (vhu_vhost_get_info()); rings are read one by one. */
struct vhu_vhost_info {
	enum vhu_vhost_conn_state conn;
	bool running;		      /* every ring the guest uses is ready (device_ready) */
	uint64_t features;	      /* negotiated virtio features */
	uint64_t protocol_features;   /* negotiated protocol features */
	uint8_t status;		      /* last SET_STATUS */
	uint16_t queue_pairs;	      /* offered (the config's queue_pairs) */
	uint16_t nr_vqs;	      /* virtqueues the front-end set up: ask for 0 .. nr_vqs - 1 */
	uint32_t nr_regions;	      /* guest memory regions mapped */
	uint64_t mem_bytes;	      /* guest memory mapped */
	uint64_t connections;	      /* front-ends served since creation */
	uint64_t iotlb_misses;	      /* IOTLB MISS requests sent (vIOMMU) */
	uint64_t iotlb_updates;	      /* IOTLB UPDATE messages applied */
	uint64_t iotlb_invalidations; /* IOTLB INVALIDATE messages applied */
	uint32_t iotlb_entries;	      /* entries in the IOTLB now */
};

/*
 * Fill 'info' with a snapshot of the device. Returns 0 or -EINVAL (NULL
 * argument). Any thread, data lcores included: it takes no lock and never
 * waits. Each field is current; they are not taken at one instant.
 */
int vhu_vhost_get_info(struct vhu_vhost_dev *dev, struct vhu_vhost_info *info);

/*
 * Fill 'info' with a snapshot of virtqueue 'vq' (pair q has the guest's
 * receive queue 2q and transmit queue 2q + 1). Returns 0, -EINVAL (NULL
 * argument) or -ERANGE ('vq' is not below 2 * queue_pairs). Any thread,
 * without waiting: avail_idx, which lives in guest memory, is read only when
 * the control thread is idle at that moment (see avail_idx_valid).
 */
int vhu_vhost_get_vq_info(struct vhu_vhost_dev *dev, uint16_t vq, struct vhu_vhost_vq_info *info);

/* True while the front-end has the device running (link up). Any thread. */
bool vhu_vhost_link_up(const struct vhu_vhost_dev *dev);

/* The socket path the device serves. */
const char *vhu_vhost_path(const struct vhu_vhost_dev *dev);

/* Name of virtio feature bit 'bit', or NULL if vhu does not know it. */
const char *vhu_virtio_feature_name(unsigned int bit);
/* Name of vhost-user protocol feature bit 'bit', or NULL. */
const char *vhu_protocol_feature_name(unsigned int bit);

/*
 * ---- Ring-level access ----
 *
 * For an application that keeps ring state of its own besides vhu's bursts
 * (DPDK's rte_vhost API as storage targets use it): the rings' base indexes,
 * the memory table and the inflight records. The bursts need none of it.
 */

/*
 * The next avail entry the device reads and the next used entry it writes on
 * virtqueue 'vq', as GET_VRING_BASE would say: split rings give the
 * free-running indexes; packed rings give the slot with its wrap counter in
 * bit 15. Returns 0, -EINVAL (NULL argument) or -ERANGE ('vq' is not below
 * 2 * queue_pairs). Any thread, without waiting; the values stay put only
 * while the ring is not ready.
 */
int vhu_vhost_get_vring_base(struct vhu_vhost_dev *dev, uint16_t vq, uint16_t *last_avail,
			     uint16_t *last_used);

/*
 * Set them (same encoding) on a ring that is not ready: the front-end reads
 * them back with GET_VRING_BASE, and a ring started without a SET_VRING_BASE
 * resumes there. Returns 0, -EINVAL (no device, or a packed slot past the
 * ring), -ERANGE, or -EBUSY (the data path owns the ring). Any non-data
 * thread; takes the control lock, so not from a watch callback (vhu.h).
 */
int vhu_vhost_set_vring_base(struct vhu_vhost_dev *dev, uint16_t vq, uint16_t last_avail,
			     uint16_t last_used);

/* One region of guest memory (vhu_vhost_get_mem_table()). */
struct vhu_vhost_mem_region {
	uint64_t guest_phys_addr; /* guest-physical start */
	uint64_t guest_user_addr; /* the front-end's virtual address of it */
	uint64_t host_user_addr;  /* ours */
	uint64_t size;		  /* bytes */
	void *mmap_addr;	  /* start of our mapping (it may begin before the region) */
	uint64_t mmap_size;	  /* bytes mapped */
};

/*
 * Copy up to 'max' regions of the device's memory table into 'regions'.
 * Returns how many regions the table has (more than 'max': call again with
 * room for all), 0 before the front-end sent one, or -EINVAL. The addresses
 * stay mapped until the front-end replaces the table or leaves. Any non-data
 * thread; takes the control lock.
 */
int vhu_vhost_get_mem_table(struct vhu_vhost_dev *dev, struct vhu_vhost_mem_region *regions,
			    uint32_t max);

/* A ring's inflight record (vhu_vhost_get_inflight()). */
struct vhu_vhost_inflight {
	void *record;		 /* the ring's region of the INFLIGHT_SHMFD buffer, laid out
				  * as vhost-user.rst's QueueRegionSplit or QueueRegionPacked */
	const void *desc_packed; /* packed and ready: the descriptor ring; else NULL */
	uint16_t size;		 /* ring entries */
	bool packed;		 /* packed layout */
	void *held;		 /* the ring vhu_vhost_inflight_enter() holds; else NULL */
};

/*
 * The inflight record of virtqueue 'vq', which vhu's own bursts also keep.
 * Returns 0, -EINVAL, -ERANGE, or -ENOENT (no record: INFLIGHT_SHMFD was not
 * negotiated, or the ring has not started with one). The record stays
 * mapped until the front-end leaves. Any non-data thread; takes the control
 * lock, so a data lcore uses vhu_vhost_inflight_enter() instead.
 */
int vhu_vhost_get_inflight(struct vhu_vhost_dev *dev, uint16_t vq, struct vhu_vhost_inflight *inf);

/*
 * The data path's way to the same record, for an application that keeps it
 * per request (DPDK's rte_vhost_set/clr_inflight_desc_*): holds virtqueue
 * 'vq' as a burst does and gives its record while the ring runs. Returns 0
 * (held: the record stays mapped, for a ring stop waits until
 * vhu_vhost_inflight_leave()), -EINVAL, -ERANGE, -EAGAIN (the ring is not
 * running) or -ENOENT (it runs without a record); nothing is held on error.
 * Never waits: no lock, one compiler barrier (a fence without expedited
 * membarrier). Call it from the one thread that polls 'vq', as the bursts,
 * and not from within a burst on it; leave before the next burst.
 */
int vhu_vhost_inflight_enter(struct vhu_vhost_dev *dev, uint16_t vq,
			     struct vhu_vhost_inflight *inf);

/* Release the ring vhu_vhost_inflight_enter() held in 'inf' (nothing if none). */
void vhu_vhost_inflight_leave(struct vhu_vhost_inflight *inf);

/*
 * The A/B switch: a tool for comparing two code paths of a development build
 * inside one process, where two runs of two builds differ by more than the
 * effect looked for (doc/performance.md, "A/B inside one process"). One
 * process-wide variant, 0 (the default) or 1 (at most VHU_VHOST_AB_MAX),
 * that code under experiment reads once per burst (or per refill batch):
 * the application flips it on a timer and attributes its counters to the
 * variant that was on (vhu-pmd --ab-period). Built-in experiment: variant 1
 * runs without the write prefetches (PREFETCHW): the packed receive
 * burst's of the guest's buffers, and, in a binary that links vhu's
 * virtio-user front-end and libvhu statically (vhu-pmd), the front-end's
 * of the split (in_order) ring descriptors it refills for receive; every
 * other path is the same in both variants, and so are those where the
 * prefetch is off (a CPU without PREFETCHW, or VHU_PREFETCHW=0: an A/A
 * run). What variant 1 does changes with the experiment of the day: a
 * development tool, not a stable interface; no release depends on it.
 */
#define VHU_VHOST_AB_MAX 1

/*
 * Set the variant the bursts run. Returns 0, or -EINVAL when 'variant' is
 * over VHU_VHOST_AB_MAX. Any thread; relaxed, without order: the data
 * lcores' bursts see it soon after, each burst whole in the variant it read.
 */
int vhu_vhost_ab_set(unsigned int variant);

/* The variant the bursts run. Any thread. */
unsigned int vhu_vhost_ab_get(void);

#ifdef __cplusplus
}
#endif

#endif /* VHU_VHOST_H */
