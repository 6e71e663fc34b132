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
/* Packets a receive ring holds while their buffers' IOTLB entries are fetched. */
#define VHU_RX_STASH 64
/* Split used entries a burst collects before it writes them to the ring. */
#define VHU_SHADOW_USED 64
/* Largest packet the backend assembles from a guest TX chain. */
#define VHU_MAX_PKT_LEN (64 * 1024 + 128)

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
	uint16_t vhdr_len;		/* virtio-net header bytes: 10 or 12 */
	bool ready;			/* data path may run: acquire/release, see vq_start() */
	bool broken;			/* latched on a guest violation, until the ring restarts */
	bool event_idx;			/* EVENT_IDX negotiated */
	bool indirect;			/* INDIRECT_DESC negotiated */
	bool mrg_rxbuf;			/* MRG_RXBUF negotiated */
	bool in_order;			/* IN_ORDER negotiated */
	bool offload;			/* a checksum or TSO feature negotiated */
	uint64_t features;		/* negotiated features, for the header */
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
	bool rx_miss;			/* the last enqueue stopped on an IOTLB miss */
	uint16_t stash_n;		/* packets held in 'stash' */
	struct rte_mbuf *stash[VHU_RX_STASH]; /* held on a miss, in order (a reference each) */
	char broken_reason[64];		/* first violation, written once when latching */
	uint64_t miss_epoch;		/* dev->iotlb_epoch when miss_iova was posted (kept
					 * here, off the lines the bursts use) */
	uint64_t rx_long_tsc;		/* last log line about a long receive chain given back
					 * (see vhost_net.h), to write one a second at most */

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
} __rte_cache_aligned;

/* Latch a ring broken; first reason wins. Data path (the owning lcore). */
void vhu_vq_set_broken(struct vhu_vq *vq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) __rte_cold;

/* ---- devices ---- */

/* What a device type plugs into the core (DESIGN.md "Device types"). */
struct vhu_device_type {
	const char *name;
	/* Virtio features the device offers, before the user's mask. */
	uint64_t (*features)(const struct vhu_vhost_dev *dev);
	/* Copy config space [offset, offset + len) into 'buf'; 0 or -errno. */
	int (*get_config)(const struct vhu_vhost_dev *dev, uint32_t offset, uint8_t *buf,
			  uint32_t len);
	/* Front-end writes config space; 0 or -errno. */
	int (*set_config)(struct vhu_vhost_dev *dev, uint32_t offset, const uint8_t *buf,
			  uint32_t len);
	/* Features are now negotiated: derive per-queue settings. */
	void (*features_set)(struct vhu_vhost_dev *dev);
};

extern const struct vhu_device_type vhu_net_device_type;

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
	uint16_t queue_pairs;		/* offered */
	uint16_t max_vqs;		/* rings allocated at creation: vq[0 .. max_vqs - 1] */
	uint64_t disable_features;	/* user mask */
	uint16_t mtu;			/* offered MTU, 0 for none */
	uint8_t mac[6];			/* config-space MAC */
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
	uint16_t req_mtu;		/* NET_SET_MTU */
	int backend_req_fd;		/* SET_BACKEND_REQ_FD, or -1 */
	struct vhu_mem *mem;		/* current memory table, or NULL */
	struct vhu_iotlb *iotlb;	/* IOTLB (vIOMMU), published with release, or NULL */
	struct vhu_log *log;		/* dirty log (SET_LOG_BASE), published with release */
	struct vhu_inflight *inflight;	/* INFLIGHT_SHMFD buffer, or NULL */
	int reply_fd;			/* fd to send with the reply being built, or -1 */
	uint8_t rarp_mac[6];		/* SEND_RARP: the guest's MAC to announce */
	bool rarp_pending;		/* a RARP waits for the next dequeue on pair 0 */
	struct rte_ring *miss_ring;	/* IOTLB misses from data lcores (MP/SC) */
	int miss_efd;			/* wakes the control thread for misses */
	uint64_t miss_handle;		/* control-thread watch of miss_efd */
	uint64_t iotlb_misses;		/* MISS requests sent */
	uint64_t iotlb_updates;		/* UPDATE messages applied */
	uint64_t iotlb_invalidations;	/* INVALIDATE messages applied */
	uint64_t iotlb_epoch;		/* bumped before publishing an IOTLB that lacks a
					 * mapping the one before had; lcores read it (atomic) */
	uint16_t nr_vqs;		/* highest ring index touched + 1 */
	struct vhu_vq *vq[VHU_MAX_VQS]; /* the first max_vqs allocated at creation */
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
	uint64_t ev_features;	       /* features last told */
	uint64_t ev_vq_ready[(VHU_MAX_VQS + 63) / 64]; /* ring states told, a bit per ring */

	/* NUMA placement (vhost_numa.c). */
	bool numa_place;		   /* move ring state beside guest memory (created by
					    * vhu_vhost_create(); devices built by hand stay put) */
	struct vhu_vq_retired *vq_retired; /* ring copies left behind by moves */
};

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

/* Protocol features vhu offers. */
#define VHU_PROTOCOL_FEATURES ( \
	VHU_BIT(VHOST_USER_PROTOCOL_F_MQ) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_RARP) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_MTU) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIG) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_RESET_DEVICE) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_STATUS) | \
	VHU_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD))

/* vhost_dev.c: ring state transitions (control thread). */
uint64_t vhu_dev_offered_features(const struct vhu_vhost_dev *dev);
uint64_t vhu_dev_offered_protocol_features(const struct vhu_vhost_dev *dev);
/* Fill a device whose vq[] are allocated (any memory), as vhu_vhost_create() does. */
void vhu_dev_init(struct vhu_vhost_dev *dev, const struct vhu_vhost_config *cfg);
/* Put a ring in its initial state (no fds: callers close them first). */
void vhu_vq_init(struct vhu_vq *vq, uint16_t index, struct vhu_vhost_dev *dev);
void vhu_vq_reset(struct vhu_vq *vq);
/*
 * Control thread, after unpublishing something bursts on 'vq' (or on any ring
 * of 'dev') may hold: return once no such burst is still running, its stores
 * visible. Never from a data lcore (it would wait for itself).
 */
void vhu_vq_wait_burst(struct vhu_vhost_dev *dev, struct vhu_vq *vq);
void vhu_dev_wait_bursts(struct vhu_vhost_dev *dev);
/* Clear 'ready' and wait out the burst that may have seen it set. */
void vhu_vq_stop(struct vhu_vhost_dev *dev, struct vhu_vq *vq);
void vhu_vq_try_start(struct vhu_vhost_dev *dev, struct vhu_vq *vq);
void vhu_dev_stop_all(struct vhu_vhost_dev *dev);
void vhu_dev_restart_all(struct vhu_vhost_dev *dev);
void vhu_dev_replace_mem(struct vhu_vhost_dev *dev, struct vhu_mem *mem);
void vhu_dev_reset(struct vhu_vhost_dev *dev);
void vhu_fd_replace(int *slot, int fd);

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
const char *vhu_msg_name(uint32_t request);
/* True if the request, by itself, always produces a reply (GET_*). */
bool vhu_msg_has_reply(uint32_t request);
/* True if vhu has a handler for the request (false: refused as unsupported). */
bool vhu_msg_implemented(uint32_t request);


/* vhost_socket.c: sockets and connections. */
int vhu_socket_open(struct vhu_vhost_dev *dev);
void vhu_socket_close(struct vhu_vhost_dev *dev);
void vhu_socket_retry_connect(struct vhu_vhost_dev *dev);
void vhu_conn_close(struct vhu_vhost_dev *dev, const char *why);

#endif /* VHU_VHOST_PRIVATE_H */
