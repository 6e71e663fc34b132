/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Backend internals shared by the files of lib/vhost. Never installed.
 *
 * Ownership: every field of struct vhu_vhost_dev and the control fields of
 * struct vhu_vq belong to the control thread (or to an API call holding
 * vhu_ctrl_lock). The data-path fields of a vq belong to the lcore polling
 * it while vq->ready is true; the control thread touches them only after it
 * cleared vq->ready and waited out the burst that may have seen it set
 * (vhu_vq_stop(), lib/common/vhu_handoff.h).
 */
#ifndef VHU_VHOST_PRIVATE_H
#define VHU_VHOST_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_log.h>

#include "vhu_config.h"
#include "vhu_ctrl.h"
#include "vhu_handoff.h"
#include "vhu_vhost.h"
#include "virtio_net.h"
#include "virtio_ring.h"
#include "vhost_user_proto.h"

extern int vhu_vhost_logtype;
#define VHU_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, vhu_vhost_logtype, "vhost: " fmt "\n", ##__VA_ARGS__)

/* Rings a device may have: -Dmax_queue_pairs sets it at build time. */
#define VHU_MAX_VQS (2 * VHU_MAX_QUEUE_PAIRS)
/* Largest burst a caller may ask for; larger requests are clamped. */
#define VHU_MAX_BURST 256
/* Split used entries a burst collects before it writes them to the ring. */
#define VHU_SHADOW_USED 64

/* ---- guest memory (vhost_mem.c) ---- */

struct vhu_mem_region {
	uint64_t gpa;		/* guest-physical start */
	uint64_t size;		/* bytes */
	uint64_t uva;		/* front-end virtual start */
	uint64_t hva;		/* our virtual address of gpa */
	void *mmap_addr;	/* start of our mapping, for munmap; NULL if not ours */
	uint64_t mmap_size;	/* length of our mapping */
	uint32_t refs;		/* ADD_MEM_REG of this same region, counted (QEMU 7.2 sends
				 * one per queue pair); REM_MEM_REG removes at zero */
	int numa_node;		/* NUMA node of its memory, or -1 (vhost_numa.c) */
};

/* An immutable memory table; replaced whole and published by pointer. */
struct vhu_mem {
	struct vhu_mem *retired_next;	/* next on the device's retired list (vhu_dev_release_mem()) */
	uint32_t nregions;	/* regions in use */
	struct vhu_mem_region regions[]; /* sorted by gpa, non-overlapping */
};

struct vhu_mem *vhu_mem_alloc(uint32_t nregions);
/* Unmap the regions of 'mem' that 'keep' does not also hold, then free 'mem'. */
void vhu_mem_free(struct vhu_mem *mem, const struct vhu_mem *keep);
/*
 * Validate a front-end region description against the fd that backs it and
 * map it. Returns 0 or -errno; 'why' gets a short reason on failure.
 */
int vhu_mem_region_map(struct vhu_mem_region *reg, const struct vhost_user_mem_region *desc,
		       int fd, char *why, size_t why_len);
/* Check a region description for overflow and emptiness (no fd needed). */
int vhu_mem_region_check(const struct vhost_user_mem_region *desc, char *why, size_t why_len);
/* True if 'a' and 'b' overlap in guest-physical or front-end virtual space. */
bool vhu_mem_region_overlap(const struct vhu_mem_region *a, const struct vhu_mem_region *b);
/* Sort regions by gpa (control path). */
void vhu_mem_sort(struct vhu_mem *mem);
/*
 * Front-end virtual range -> our virtual address; the whole of
 * [uva, uva + len) must lie in one region. NULL if it does not.
 */
void *vhu_mem_uva_to_hva(const struct vhu_mem *mem, uint64_t uva, uint64_t len);

/*
 * Guest-physical -> our virtual address for the data path. On success the
 * return is the address of 'gpa' and *len is cut to what is contiguous in
 * that region (at least 1 byte). NULL if 'gpa' is not in guest memory.
 * 'cache' is a per-queue hint of the last region hit.
 */
static inline void *
vhu_gpa_to_hva(const struct vhu_mem *mem, uint64_t gpa, uint64_t *len, uint32_t *cache)
{
	const struct vhu_mem_region *r;
	uint32_t i = *cache;
	uint64_t off, room;

	if (likely(i < mem->nregions)) {
		r = &mem->regions[i];
		if (likely(gpa - r->gpa < r->size))
			goto hit;
	}
	for (i = 0; i < mem->nregions; i++) {
		r = &mem->regions[i];
		if (gpa - r->gpa < r->size) {
			*cache = i;
			goto hit;
		}
	}
	return NULL;
hit:
	off = gpa - r->gpa;
	room = r->size - off;
	if (*len > room)
		*len = room;
	return (void *)(uintptr_t)(r->hva + off);
}

/* As above, but the whole [gpa, gpa + len) must be contiguous; NULL if not. */
static inline void *
vhu_gpa_to_hva_whole(const struct vhu_mem *mem, uint64_t gpa, uint64_t len, uint32_t *cache)
{
	uint64_t got = len;
	void *p;

	if (unlikely(len == 0 || gpa + len < gpa))
		return NULL;
	p = vhu_gpa_to_hva(mem, gpa, &got, cache);
	return (p != NULL && got == len) ? p : NULL;
}

/* ---- virtqueues ---- */

struct vhu_vq_stats {
	uint64_t errors;	/* guest violations and dropped chains */
	uint64_t nombuf;	/* dequeue bursts cut short by an empty mempool */
	uint64_t notify;	/* interrupts sent to the guest */
	uint64_t log_overflow;	/* writes past the end of the dirty log */
	uint64_t bad_hdr;	/* packets dropped for a virtio-net header that does not fit */
	uint64_t batched;	/* packed: packets that went through the 4-slot batch path */
};

struct vhu_vq {
	/* Odd while a burst runs: what vhu_vq_stop() waits on. Written by bursts
	 * whether the ring is ready or not, so a reset never clears it (first,
	 * for vhu_vq_reset() to spare it). */
	struct vhu_burst_mark mark;
	/* Data path: read on every burst. Valid while 'ready' is true. */
	union {
		struct vring_desc *desc;		/* split: descriptor table */
		struct vring_packed_desc *desc_packed;	/* packed: descriptor ring */
	};
	union {
		struct vring_avail *avail;		/* split: avail ring */
		struct vring_packed_event *driver_event; /* packed: driver's suppression */
	};
	union {
		struct vring_used *used;		/* split: used ring */
		struct vring_packed_event *device_event; /* packed: ours */
	};
	const struct vhu_mem *mem;	/* memory table the ring pointers came from */
	uint16_t size;			/* entries (a power of two for split) */
	uint16_t last_avail_idx;	/* next avail entry to read (data path owns) */
	uint16_t last_used_idx;		/* split: used->idx as last published;
					 * packed: next ring slot to write used */
	bool packed;			/* RING_PACKED negotiated */
	bool avail_wrap;		/* packed: wrap counter of last_avail_idx */
	bool used_wrap;			/* packed: wrap counter of last_used_idx */
	bool ready;			/* data path may run: acquire/release, see vq_start() */
	bool broken;			/* latched on a guest violation, until the ring restarts */
	bool event_idx;			/* EVENT_IDX negotiated */
	bool indirect;			/* INDIRECT_DESC negotiated */
	bool in_order;			/* IN_ORDER negotiated */
	uint32_t mem_cache;		/* last region hit, for translation */
	bool logging;			/* LOG_ALL negotiated: mark pages we write */
	const struct vhu_log *log;	/* the device's dirty log, loaded at burst start */
	bool iommu;			/* addresses are IOVAs: translate with 'iotlb' */
	const struct vhu_iotlb *iotlb;	/* the device's IOTLB, loaded at burst start */
	struct vhu_vhost_dev *dev;	/* owner, for the IOTLB and misses */
	struct vhu_inflight_split *inflight_split;   /* INFLIGHT_SHMFD record, or NULL */
	struct vhu_inflight_packed *inflight_packed; /* same, packed layout */
	uint64_t inflight_counter;	/* fetch order for the records */
	uint64_t miss_iova;		/* last miss posted, to post it once per 100 ms */
	uint64_t miss_tsc;		/* when */
	int callfd;			/* eventfd to interrupt the guest, or -1 */
	struct vhu_vq_stats stats;	/* written by the polling lcore only */
	uint16_t shadow_n;		/* split: used entries waiting in 'shadow' */
	struct vring_used_elem shadow[VHU_SHADOW_USED]; /* split: see vhu_split_push() */
	char broken_reason[64];		/* first violation, written once when latching */
	uint64_t miss_epoch;		/* dev->iotlb_epoch when miss_iova was posted (kept
					 * here, off the lines the bursts use) */

	/* Control: owned by the control thread. */
	uint16_t index;			/* virtqueue index in the device */
	bool enabled;			/* SET_VRING_ENABLE, or implied without PROTOCOL_FEATURES */
	bool started;			/* kick fd received and not stopped since */
	bool num_set;			/* SET_VRING_NUM received */
	bool addr_set;			/* SET_VRING_ADDR received */
	int kickfd;			/* front-end's kick eventfd, or -1 */
	int errfd;			/* error eventfd, or -1 */
	uint32_t addr_flags;		/* SET_VRING_ADDR flags */
	uint64_t desc_uaddr;		/* front-end virtual addresses of the areas */
	uint64_t avail_uaddr;
	uint64_t used_uaddr;
	uint64_t log_gaddr;		/* guest-physical address of the used ring */
	int numa_node;			/* node of the descriptors' memory while ready, or -1
					 * (vhost_numa.c; read by any thread) */
	const struct vhu_mem *numa_mem; /* the table and descriptor area numa_node was found */
	const void *numa_desc;		/* for: placement is decided once per pair */
	/* The device type's per-ring state (vhu_vq_priv()) follows, cache aligned. */
} __rte_cache_aligned;

/* The device type's state of ring 'vq' (struct vhu_device_type.vq_priv_size bytes). */
static inline void *
vhu_vq_priv(struct vhu_vq *vq)
{
	return vq + 1;
}

/* Latch a ring broken; first reason wins. Data path (the owning lcore). */
void vhu_vq_set_broken(struct vhu_vq *vq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) __rte_cold;

/* ---- devices ---- */

struct vhu_msg_type;

/*
 * What a device type plugs into the core (DESIGN.md "Device types"). The core
 * knows no device: it calls these from the control thread (never from a
 * burst), and a device type moves descriptors only through the core verbs
 * (virtq_verbs.h). Hooks that may be NULL say so.
 */
struct vhu_device_type {
	const char *name;		/* "net", "test": for log lines */
	size_t dev_priv_size;		/* device state after struct vhu_vhost_dev
					 * (vhu_dev_priv()) */
	size_t vq_priv_size;		/* per-ring state after struct vhu_vq (vhu_vq_priv()) */
	/* Rings of a device made from the type's config 'cfg'; 0 (with a log line
	 * naming what is wrong) if 'cfg' is not valid. */
	uint16_t (*queue_count)(const void *cfg);
	/* Fill the device state from 'cfg' (already checked by queue_count). */
	void (*init)(struct vhu_vhost_dev *dev, const void *cfg);
	/* Device feature bits offered, besides the core's (VHU_CORE_FEATURES). */
	uint64_t (*features)(const struct vhu_vhost_dev *dev);
	/* Protocol features offered, besides the core's (VHU_PROTOCOL_FEATURES). */
	uint64_t (*protocol_features)(const struct vhu_vhost_dev *dev);
	/* The GET_QUEUE_NUM reply (net: queue pairs). NULL: the ring count. */
	uint64_t (*queue_num)(const struct vhu_vhost_dev *dev);
	/* Fill the config space into 'space' (VHOST_USER_MAX_CONFIG_SIZE bytes,
	 * zeroed) and return its size in bytes. The core answers GET_CONFIG from
	 * it and refuses a SET_CONFIG outside it (vhu_dev_get_config()). NULL: no
	 * config space (reads as zeros, writes refused). */
	uint32_t (*get_config)(const struct vhu_vhost_dev *dev, uint8_t *space);
	/* The front-end writes [offset, offset + len), which the core checked is
	 * inside the config space: refuse (-EPERM) what is read-only, else apply
	 * it; 0 or -errno. NULL: the whole space is read-only. */
	int (*set_config)(struct vhu_vhost_dev *dev, uint32_t offset, const uint8_t *buf,
			  uint32_t len);
	/* Features are now negotiated (SET_FEATURES). May be NULL. */
	void (*features_set)(struct vhu_vhost_dev *dev);
	/* Ring 'vq' is about to be handed to the data path: fill its state from the
	 * negotiated features. May be NULL. */
	void (*queue_start)(struct vhu_vhost_dev *dev, struct vhu_vq *vq);
	/* Ring 'vq' was taken back: no burst runs on it any more. May be NULL. */
	void (*queue_stop)(struct vhu_vhost_dev *dev, struct vhu_vq *vq);
	/* The front-end went away or reset the device: forget what it negotiated. */
	void (*reset)(struct vhu_vhost_dev *dev);
	/* Chains taken and not yet returned when a ring stops are taken again when
	 * it restarts (completions that outlive the burst, blk): GET_VRING_BASE
	 * then reports the used position, where the ring resumes, not the avail
	 * one. False: every chain is returned in the burst that takes it (net). */
	bool resume_at_used;
	/* Does work taken before a ring stop still write guest memory (I/O that
	 * the stop did not wait out)? While it does, a replaced memory table
	 * stays mapped (vhu_dev_release_mem()). NULL: never. */
	bool (*mem_held)(struct vhu_vhost_dev *dev);
	/* Device-specific requests, VHOST_USER_REQUEST_MAX entries indexed by
	 * request number (an entry without a handler is not the device's), or NULL. */
	const struct vhu_msg_type *msgs;
};

/* Transport features the core offers for any device type. */
#define VHU_CORE_FEATURES ( \
	VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VIRTIO_RING_F_INDIRECT_DESC) | \
	VHU_BIT(VIRTIO_RING_F_EVENT_IDX) | VHU_BIT(VIRTIO_F_IN_ORDER) | \
	VHU_BIT(VIRTIO_F_RING_PACKED) | VHU_BIT(VHOST_F_LOG_ALL) | \
	VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES))

/* What the core needs to serve a device of any type. */
struct vhu_dev_config {
	const char *path;		/* UNIX socket path; copied */
	uint32_t flags;			/* VHU_VHOST_CLIENT, _NO_RECONNECT, _IOMMU_SUPPORT */
	uint64_t disable_features;	/* virtio feature bits never to offer */
	const struct vhu_vhost_callbacks *callbacks; /* lifecycle callbacks, or NULL; copied */
	void *callback_arg;		/* their first argument */
};

struct vhu_conn;
struct vhu_iotlb;
struct vhu_log;
struct vhu_inflight;
struct vhu_inflight_split;
struct vhu_inflight_packed;
struct rte_ring;
struct rte_mbuf;

struct vhu_vhost_dev {
	char path[108];			/* socket path (sun_path size) */
	uint32_t flags;			/* VHU_VHOST_* */
	uint16_t num_queues;		/* rings the device has (type->queue_count), each
					 * allocated at creation: vq[0 .. num_queues - 1] */
	uint64_t disable_features;	/* user mask */
	const struct vhu_device_type *type;

	enum vhu_vhost_conn_state conn_state;
	int listen_fd;			/* server mode, or -1 */
	uint64_t listen_handle;		/* control-thread watch of listen_fd */
	struct vhu_conn *conn;		/* the attached front-end, or NULL */
	uint64_t connections;		/* front-ends attached since creation */
	bool destroying;		/* destroy in progress: do not reconnect */
	struct vhu_vhost_dev *next;	/* in the process's device list (vhu_ctrl_lock) */

	/* Negotiated state; reset when the front-end goes away. */
	uint64_t features;		/* SET_FEATURES */
	bool features_set;		/* SET_FEATURES received */
	uint64_t protocol_features;	/* SET_PROTOCOL_FEATURES */
	bool owner;			/* SET_OWNER received */
	uint8_t status;			/* SET_STATUS */
	int backend_req_fd;		/* SET_BACKEND_REQ_FD, or -1 */
	struct vhu_mem *mem;		/* current memory table, or NULL */
	struct vhu_mem *mem_retired;	/* replaced tables kept mapped, oldest first; they
					 * outlive a reset (vhu_dev_release_mem()) */
	bool mem_retired_tick;		/* a control-thread tick reaps them */
	bool mem_stop_owed;		/* a reset took the memory of a device whose
					 * device_stopping has not returned (ev_told):
					 * retired tables stay mapped until it has */
	struct vhu_iotlb *iotlb;	/* IOTLB (vIOMMU), published with release, or NULL */
	struct vhu_log *log;		/* dirty log (SET_LOG_BASE), published with release */
	struct vhu_inflight *inflight;	/* INFLIGHT_SHMFD buffer, or NULL */
	int reply_fd;			/* fd to send with the reply being built, or -1 */
	struct rte_ring *miss_ring;	/* IOTLB misses from data lcores (MP/SC) */
	int miss_efd;			/* wakes the control thread for misses */
	uint64_t miss_handle;		/* control-thread watch of miss_efd */
	uint64_t iotlb_misses;		/* MISS requests sent */
	uint64_t iotlb_updates;		/* UPDATE messages applied */
	uint64_t iotlb_invalidations;	/* INVALIDATE messages applied */
	uint64_t iotlb_epoch;		/* bumped before publishing an IOTLB that lacks a
					 * mapping the one before had; lcores read it (atomic) */
	uint16_t nr_vqs;		/* highest ring index touched + 1 */
	struct vhu_vq *vq[VHU_MAX_VQS]; /* the first num_queues allocated at creation */
	/* Copies for vhu_vhost_get_info() from any thread, which must not follow
	 * 'mem' or 'iotlb' (the control thread may free them under it). */
	uint32_t mem_regions;	/* regions of 'mem' (atomic) */
	uint64_t mem_bytes;	/* bytes of 'mem' (atomic) */
	uint32_t iotlb_entries; /* entries of 'iotlb' (atomic) */

	/* Lifecycle callbacks (vhost_events.c): the config's, and what the
	 * application was last told (control thread). */
	struct vhu_vhost_callbacks cb; /* members may be NULL */
	void *cb_arg;		       /* their first argument */
	bool ev_running;	       /* device_ready told, device_stopping not since */
	bool ev_told;		       /* running told, and device_stopping (there is
					* one) not returned since: it may be queued */
	uint64_t ev_features;	       /* features last told */
	uint64_t ev_vq_ready[(VHU_MAX_VQS + 63) / 64]; /* ring states told, a bit per ring */

	/* NUMA placement (vhost_numa.c). */
	bool numa_place;		   /* move ring state beside guest memory (created by
					    * vhu_vhost_create(); devices built by hand stay put) */
	struct vhu_vq_retired *vq_retired; /* ring copies left behind by moves */
	/* The device type's state (vhu_dev_priv()) follows. */
} __rte_aligned(16);

/* The device type's state of 'dev' (struct vhu_device_type.dev_priv_size bytes). */
static inline void *
vhu_dev_priv(const struct vhu_vhost_dev *dev)
{
	return (void *)(uintptr_t)(dev + 1);
}

/*
 * ---- the handoff: taking back what bursts may hold (lib/common/vhu_handoff.h) ----
 *
 * Control thread, after unpublishing something bursts on 'vq' (or on any ring
 * of 'dev') may hold (a ring's 'ready', the IOTLB, the dirty log): return once
 * no such burst is still running, its stores visible. Never from a data lcore
 * (it would wait for itself). Here, below every module of the core, so that a
 * feature module that swaps an object waits without calling the ring module.
 */
static inline void
vhu_vq_wait_burst(struct vhu_vhost_dev *dev, struct vhu_vq *vq)
{
	/* Orders what the caller unpublished before the load of the mark
	 * (vhu_handoff.h: the fence between [C] and [D]). */
	vhu_handoff_barrier();
	vhu_burst_wait(&vq->mark, dev->path, vq->index);
}

static inline void
vhu_dev_wait_bursts(struct vhu_vhost_dev *dev)
{
	uint16_t i;

	/* One barrier covers every mark read below. */
	vhu_handoff_barrier();
	for (i = 0; i < dev->num_queues; i++)
		vhu_burst_wait(&dev->vq[i]->mark, dev->path, i);
}

/* Close what '*slot' holds (if anything) and keep 'fd' there instead. */
static inline void
vhu_fd_replace(int *slot, int fd)
{
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
}

/* Bytes to allocate for a device of type 't' and for each of its rings. */
static inline size_t
vhu_dev_bytes(const struct vhu_device_type *t)
{
	return sizeof(struct vhu_vhost_dev) + RTE_ALIGN_CEIL(t->dev_priv_size, 16);
}

static inline size_t
vhu_vq_bytes(const struct vhu_device_type *t)
{
	return sizeof(struct vhu_vq) + RTE_ALIGN_CEIL(t->vq_priv_size, RTE_CACHE_LINE_SIZE);
}

static inline bool
dev_has_feature(const struct vhu_vhost_dev *dev, unsigned int bit)
{
	return (dev->features & VHU_BIT(bit)) != 0;
}

static inline bool
dev_has_protocol_feature(const struct vhu_vhost_dev *dev, unsigned int bit)
{
	return (dev->protocol_features & VHU_BIT(bit)) != 0;
}

/* Protocol features the core offers for any device type. */
#define VHU_PROTOCOL_FEATURES ( \
	VHU_BIT(VHOST_USER_PROTOCOL_F_MQ) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIG) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_RESET_DEVICE) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_STATUS) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD))

/* vhost_state.c: a device's negotiated state (control thread). */
/* What a device of these core flags offers on top of its type's bits. */
uint64_t vhu_core_offered_features(uint32_t flags, uint64_t type_features,
				   uint64_t disable_features);
uint64_t vhu_core_offered_protocol_features(uint64_t type_protocol_features);
uint64_t vhu_dev_offered_features(const struct vhu_vhost_dev *dev);
uint64_t vhu_dev_offered_protocol_features(const struct vhu_vhost_dev *dev);
/*
 * Install the memory table 'mem' (its regions mapped): learn their NUMA nodes,
 * stop the rings, re-map the IOTLB, unmap what 'mem' does not keep, restart.
 */
void vhu_dev_replace_mem(struct vhu_vhost_dev *dev, struct vhu_mem *mem);
/* Forget all a front-end set up: rings, memory, IOTLB, log, inflight, features. */
void vhu_dev_reset(struct vhu_vhost_dev *dev);
/*
 * GET_CONFIG: copy [offset, offset + len) of the device's config space
 * (struct vhu_device_type.get_config) into 'buf', zeros past its end.
 */
void vhu_dev_get_config(const struct vhu_vhost_dev *dev, uint32_t offset, uint8_t *buf,
			uint32_t len);
/*
 * SET_CONFIG: 0; -ERANGE if [offset, offset + len) is not inside the config
 * space, -EPERM if the type has no set_config, or set_config's -errno (logged).
 */
int vhu_dev_set_config(struct vhu_vhost_dev *dev, uint32_t offset, const uint8_t *buf,
		       uint32_t len);

/* vhost_dev.c: devices (control thread). */
/*
 * Tell the front-end that the config space changed (CONFIG_CHANGE_MSG on the
 * back-end channel, no reply asked). 0, or -ENOTCONN without a channel, or
 * -EIO. Control thread, or with vhu_ctrl_lock held.
 */
int vhu_dev_config_changed(struct vhu_vhost_dev *dev);
/*
 * Make a device of type 'type' from the core's config and the type's 'type_cfg'
 * and start serving its socket. Returns the device, or NULL with rte_errno set
 * (EINVAL for a bad config, EEXIST for a path already served, ENOMEM, or the
 * error from socket set-up). A control (non-data) thread.
 */
struct vhu_vhost_dev *vhu_dev_create(const struct vhu_device_type *type,
				     const struct vhu_dev_config *cfg, const void *type_cfg);
/*
 * Fill a device of vhu_dev_bytes(type) zeroed bytes whose vq[] are allocated
 * (vhu_vq_bytes(type) zeroed bytes each, any memory), as vhu_dev_create() does;
 * 0, or -EINVAL if the configs are not valid.
 */
int vhu_dev_init(struct vhu_vhost_dev *dev, const struct vhu_device_type *type,
		 const struct vhu_dev_config *cfg, const void *type_cfg);
/*
 * Memory table 'old' (NULL: none) is no longer the device's: unmap it, or,
 * while the device type says work from before still writes guest memory
 * (mem_held), keep it mapped on the device's retired list until it does not.
 * Control thread, rings stopped.
 */
void vhu_dev_release_mem(struct vhu_vhost_dev *dev, struct vhu_mem *old);
/* Unmap the retired tables the device type is done with; true if some remain. Control thread. */
bool vhu_dev_reap_mem(struct vhu_vhost_dev *dev);
/* Unmap every retired table, done or not (the device is being freed). Control thread. */
void vhu_dev_drop_retired_mem(struct vhu_vhost_dev *dev);
/* device_stopping returned: unmap what mem_stop_owed kept. Under vhu_ctrl_lock. */
void vhu_dev_stop_told(struct vhu_vhost_dev *dev);

/* vhost_vq.c: ring state transitions (control thread). */
/* Put a ring in its initial state (no fds: callers close them first). */
void vhu_vq_init(struct vhu_vq *vq, uint16_t index, struct vhu_vhost_dev *dev);
/* Close the ring's fds and put it in its initial state. */
void vhu_vq_reset(struct vhu_vq *vq);
/* Take the ring back from the data path: clear 'ready' and wait out the burst
 * that may have seen it set (a no-op if not ready). */
void vhu_vq_stop(struct vhu_vhost_dev *dev, struct vhu_vq *vq);
/* Hand the ring to the data path if it has all it needs; logs why not otherwise. */
void vhu_vq_try_start(struct vhu_vhost_dev *dev, struct vhu_vq *vq);
/*
 * Set a stopped packed ring's positions from a base as GET_VRING_BASE
 * encodes it: 'avail' and 'used' each a slot (bits 0-14) and its wrap
 * counter (bit 15). Returns 0, or -EINVAL (nothing set) if the ring's size
 * is known and a slot is past it. SET_VRING_BASE and vhu_vhost_set_vring_base().
 */
int vhu_vq_set_packed_base(struct vhu_vq *vq, uint16_t avail, uint16_t used);
/* vhu_vq_stop() every ring with one wait for their bursts, and restart them after. */
void vhu_dev_stop_all(struct vhu_vhost_dev *dev);
void vhu_dev_restart_all(struct vhu_vhost_dev *dev);

/* vhost_events.c: lifecycle callbacks (vhu_ctrl_lock held, but for deliver). */
/* The rings the front-end uses are all ready, one at least. Any thread. */
bool vhu_dev_running(const struct vhu_vhost_dev *dev);
/* Queue what changed since the application was last told. */
void vhu_events_check(struct vhu_vhost_dev *dev);
/* The connection closed (the device was reset): check, then connection_closed. */
void vhu_events_closed(struct vhu_vhost_dev *dev);
/* Forget the device's queued events; wait for its callback running elsewhere. */
void vhu_events_drop(struct vhu_vhost_dev *dev);
/* Call the queued callbacks, without the lock: the control loop's 'after' hook. */
void vhu_events_deliver(void);

/* vhost_numa.c: NUMA placement (control thread). */
struct vhu_numa_ops {
	int (*node_of)(const void *addr);      /* node of the page at addr, or -1 */
	void *(*alloc)(size_t size, int node); /* zeroed, cache-aligned, on node; or NULL */
	void (*free)(void *p);		       /* what alloc returned */
};
/* Replace the lookup and allocator (tests); NULL restores get_mempolicy and rte_malloc. */
void vhu_numa_set_ops(const struct vhu_numa_ops *ops);
/* Look up the node of each region of a table about to be installed. */
void vhu_numa_learn_regions(struct vhu_mem *mem);
/* Note each ready ring's node, and move its state there (once the handler returned). */
void vhu_numa_place_rings(struct vhu_vhost_dev *dev);
/* Free the copies moves left behind (the device is being freed). */
void vhu_numa_free_retired(struct vhu_vhost_dev *dev);

/* vhost_msg.c: validation and dispatch. */

/* Outcome of handling one message. */
enum vhu_msg_result {
	VHU_MSG_OK,		/* done; ack 0 if asked */
	VHU_MSG_REPLY,		/* done; 'msg' now holds the reply to send */
	VHU_MSG_FAIL,		/* refused; ack non-zero if asked, else close */
	VHU_MSG_CLOSE,		/* malformed: close the connection */
};

/*
 * vhost_state.c, IOTLB_MSG (UPDATE or INVALIDATE): apply what vhost_iotlb.c prepares,
 * stopping the rings whose areas lose their translations first and trying to
 * start every ring after. VHU_MSG_OK or VHU_MSG_FAIL (logged).
 */
enum vhu_msg_result vhu_dev_iotlb_msg(struct vhu_vhost_dev *dev,
				      const struct vhost_user_iotlb_msg *m);

/* How a request's payload size is checked. */
enum vhu_msg_size {
	VHU_SZ_NONE,		/* no payload */
	VHU_SZ_U64,		/* one u64 */
	VHU_SZ_STATE,		/* struct vhost_user_vring_state */
	VHU_SZ_ADDR,		/* struct vhost_user_vring_addr */
	VHU_SZ_MEM,		/* memory table: 8 + nregions * 32 .. full struct */
	VHU_SZ_LOG,		/* struct vhost_user_log */
	VHU_SZ_IOTLB,		/* struct vhost_user_iotlb_msg */
	VHU_SZ_CONFIG,		/* 12-byte config header + its size */
	VHU_SZ_MEM_REG,		/* struct vhost_user_mem_reg_single */
	VHU_SZ_INFLIGHT,	/* struct vhost_user_inflight */
};

/* How many fds a request carries. */
enum vhu_msg_fds {
	VHU_FD_NONE,		/* none */
	VHU_FD_ONE,		/* exactly one */
	VHU_FD_VRING,		/* one, or none when the NOFD bit is set */
	VHU_FD_REGIONS,		/* one per memory region */
	VHU_FD_ANY_ONE,		/* none or one, to be closed (REM_MEM_REG, spec compatibility) */
};

/*
 * One request of the message table, the core's (vhost_msg.c) or a device
 * type's (struct vhu_device_type.msgs): the dispatcher checks size, fds, ring
 * index and protocol feature before the handler runs. The handler owns the
 * fds (closes what it does not keep).
 */
struct vhu_msg_type {
	const char *name;
	enum vhu_msg_result (*handler)(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg,
				       int *fds, int nfds); /* NULL: refused as unsupported */
	enum vhu_msg_size size;
	enum vhu_msg_fds fds;
	bool has_reply;		/* always replies (GET_* requests) */
	bool vring_index;	/* payload starts with a ring index to check */
	int protocol_feature;	/* needs this protocol feature negotiated, or -1 */
};

/*
 * Check a complete message (header + 'len' payload bytes already read, 'nfds'
 * fds attached) against the request's rules, before any state is touched.
 * Returns 0 or -EINVAL with 'why' filled.
 */
int vhu_msg_validate(const struct vhu_vhost_dev *dev, const struct vhost_user_msg *msg,
		     int nfds, char *why, size_t why_len);
/*
 * Handle one validated message. Takes ownership of 'fds' (closes what it
 * does not keep). On VHU_MSG_REPLY, 'msg' holds the reply header and payload.
 */
enum vhu_msg_result vhu_msg_handle(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg,
				   int *fds, int nfds);
/* What the connection does after a message (vhu_msg_dispatch()). */
enum vhu_msg_action {
	VHU_MSG_ACT_NONE,	/* nothing to send */
	VHU_MSG_ACT_REPLY,	/* send 'msg' as the reply (with dev->reply_fd, if set) */
	VHU_MSG_ACT_CLOSE,	/* close the connection, for the reason in *why */
};

/*
 * The dispatcher: validate one complete message, run its handler (the
 * device type's or the core's), and decide the answer: a reply, a REPLY_ACK
 * (0 or 1), an empty reply for a refused GET, or closing the connection.
 * Takes ownership of 'fds' in every case. On VHU_MSG_ACT_REPLY 'msg' holds
 * the reply payload and size; the caller sets the header flags and sends.
 */
enum vhu_msg_action vhu_msg_dispatch(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg,
				     int *fds, int nfds, const char **why);
const char *vhu_msg_name(uint32_t request);
/* True if the request, by itself, always produces a reply (GET_*) on 'dev'. */
bool vhu_msg_has_reply(const struct vhu_vhost_dev *dev, uint32_t request);
/* True if 'dev' has a handler for the request (false: refused as unsupported). */
bool vhu_msg_implemented(const struct vhu_vhost_dev *dev, uint32_t request);


/* vhost_socket.c: sockets and connections. */
int vhu_socket_open(struct vhu_vhost_dev *dev);
void vhu_socket_close(struct vhu_vhost_dev *dev);
void vhu_socket_retry_connect(struct vhu_vhost_dev *dev);
void vhu_conn_close(struct vhu_vhost_dev *dev, const char *why);

#endif /* VHU_VHOST_PRIVATE_H */
