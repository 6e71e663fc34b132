/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of vhu's vhost-user front-end shared by its files. Never installed.
 *
 * The front-end has two halves. The protocol half (vu_conn.c, vu_msg.c,
 * vu_seq.c, vu_mem.c, vu_ring.c, vu_backend_req.c, and the ring verbs of
 * vu_split.h and vu_packed.h) knows no device: it connects, runs the
 * message sequences, owns the shared memory that plays guest RAM, and
 * allocates, publishes and recovers rings. A device half (the net port in
 * virtio_user_port.c and vu_net.c; the blk driver in drivers/blk/virtio_user)
 * fills in a struct vu_devtype and moves buffers through the ring verbs.
 *
 * Ownership. Everything in struct vu_dev belongs to the control side: the
 * vhu-ctrl thread, or an API call (create, start, stop, info, destroy)
 * holding vhu_ctrl_lock. A struct vu_vq has two owners in turn: while
 * vq->ready is true the lcore polling that queue owns its data-path fields;
 * the control side clears vq->ready, waits out the burst that may have seen
 * it set (its burst mark, vhu_handoff.h), and only then touches them
 * (vu_rings_unpublish()).
 */
#ifndef VHU_VU_PRIVATE_H
#define VHU_VU_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "vhost_user_proto.h"
#include "vhu_handoff.h"
#include "vhu_port.h"
#include "virtio_blk.h"
#include "virtio_net.h"
#include "virtio_ring.h"

extern int vu_logtype;
#define VU_LOG(level, fmt, ...)                                                                    \
	rte_log(RTE_LOG_##level, vu_logtype, "virtio-user: " fmt "\n", ##__VA_ARGS__)

/* Most queue pairs a port drives (the backend caps it further with GET_QUEUE_NUM). */
#define VU_MAX_QP  8
#define VU_MAX_VQS (2 * VU_MAX_QP)
/* Largest burst; larger requests are clamped. */
#define VU_MAX_BURST 64
/* How long the backend has to answer any request. */
#define VU_REPLY_TIMEOUT_MS 5000
/* How long start() and stop() wait for the whole sequence. */
#define VU_SEQ_TIMEOUT_MS 30000

/* ---- shared memory (vu_mem.c) ---- */

/*
 * The shared area is cut into units of 2 MB: the emulated IOMMU maps whole
 * units, mempool chunks are units (so no mbuf straddles two), and regions are
 * whole units (so hugetlbfs accepts them).
 */
#define VU_UNIT_SHIFT 21
#define VU_UNIT_SIZE  (UINT64_C(1) << VU_UNIT_SHIFT)
/* Guest-physical address of the first region, and the hole between regions
 * (a PCI hole, as a real guest has): guest addresses are never our virtual
 * addresses, and are not contiguous across regions. */
#define VU_GPA_BASE UINT64_C(0x100000000)
#define VU_GPA_HOLE UINT64_C(0x40000000)
/* Largest region; the pool is split into several beyond this. */
#define VU_REGION_MAX_SIZE (UINT64_C(256) << 20)
/* I/O virtual addresses with iommu=1 start here (units in reverse order). */
#define VU_IOVA_BASE UINT64_C(0xfe000000000)

struct vu_region {
	uint64_t offset; /* in the memfd and from mem->va */
	uint64_t size;	 /* bytes, whole units */
	uint64_t gpa;	 /* guest-physical start */
};

struct vu_mem {
	int fd;		    /* the memfd playing guest RAM, or -1 */
	bool hugepages;	    /* backed by 2 MB hugepages */
	uint8_t *va;	    /* our mapping of the whole memfd */
	uint64_t size;	    /* bytes, whole units */
	uint64_t ring_size; /* bytes at the start holding rings; the pool follows */
	uint64_t ring_used; /* bytes of the ring area carved so far */
	uint32_t nregions;
	struct vu_region regions[VHOST_USER_MEMORY_MAX_NREGIONS];
	uint32_t nunits;
	uint64_t *unit_iova; /* per unit: its IOVA (its GPA when iommu=0) */
	uint64_t *unit_gpa;  /* per unit: its guest-physical address */
	bool iommu;	     /* IOVAs differ from GPAs */
};

int vu_mem_create(struct vu_mem *mem, const char *name, uint64_t ring_bytes, uint64_t pool_bytes,
		  bool iommu);
void vu_mem_destroy(struct vu_mem *mem);
/*
 * Carve 'size' bytes aligned to 'align' from the ring area; returns the offset,
 * or UINT64_MAX when full. With 'no_cross' the piece never straddles a unit
 * (it must be IOVA-contiguous). Works on an unmapped 'mem' to plan sizes.
 */
uint64_t vu_mem_carve(struct vu_mem *mem, uint64_t size, uint64_t align, bool no_cross);
/* Fill the mempool with the pool area, one chunk per unit. 0 or -errno. */
int vu_mem_populate(struct vu_mem *mem, struct rte_mempool *mp);
/* The region holding unit 'unit'. */
const struct vu_region *vu_mem_unit_region(const struct vu_mem *mem, uint32_t unit);

/* The device address (IOVA, or GPA without iommu) of a byte of the shared area. */
static inline uint64_t
vu_mem_iova(const struct vu_mem *mem, const void *va)
{
	uint64_t off = (uint64_t)((const uint8_t *)va - mem->va);

	return mem->unit_iova[off >> VU_UNIT_SHIFT] + (off & (VU_UNIT_SIZE - 1));
}

/* Guest-physical address of a byte of the shared area. */
static inline uint64_t
vu_mem_gpa(const struct vu_mem *mem, const void *va)
{
	uint64_t off = (uint64_t)((const uint8_t *)va - mem->va);

	return mem->unit_gpa[off >> VU_UNIT_SHIFT] + (off & (VU_UNIT_SIZE - 1));
}

/*
 * True when [va, va + len) lies in the pool part of the shared area and in
 * one unit, so the device can reach it at vu_mem_iova(va) without a copy.
 */
static inline bool
vu_mem_holds(const struct vu_mem *mem, const void *va, uint32_t len)
{
	uint64_t off = (uint64_t)((const uint8_t *)va - mem->va);

	return off >= mem->ring_size && off < mem->size && len <= mem->size - off &&
	       (off & (VU_UNIT_SIZE - 1)) + len <= VU_UNIT_SIZE;
}

/* ---- virtqueues ---- */

/* A tx descriptor slot's private area in shared memory: a header the device
 * reads when the packet's own headroom cannot take one, and an indirect table.
 * Other device halves lay their own struct over the same VU_TX_AREA_SIZE bytes. */
#define VU_TX_AREA_SIZE 512
#define VU_IND_MAX	((VU_TX_AREA_SIZE - 16) / 16)
struct vu_tx_area {
	struct virtio_net_hdr_mrg_rxbuf hdr; /* always zero: vhu negotiates no offload */
	uint8_t pad[16 - sizeof(struct virtio_net_hdr_mrg_rxbuf)];
	struct vring_desc table[VU_IND_MAX]; /* split and packed layouts are both 16 bytes */
};

/* A net tx slot's 'len': how reclaim frees the mbuf. */
#define VU_TX_PLAIN   0		 /* a plain packet (vu_tx_plain()): back to the pool in bulk */
#define VU_TX_GENERAL UINT32_MAX /* any other: through vu_free_sent()'s checks */

/* What the driver keeps per buffer it posted, by head (split) or buffer id (packed). */
struct vu_slot {
	struct rte_mbuf
		*m;	 /* net rx: the posted mbuf; tx: the chain to free when used; blk: NULL */
	uint32_t len;	 /* bytes the device may write (a used length past it is a violation);
			  * net tx, where the device writes nothing: VU_TX_PLAIN or VU_TX_GENERAL */
	uint16_t ndescs; /* ring descriptors the buffer takes; 0 when not posted */
	uint16_t last;	 /* split: last descriptor of the chain (free list splice) */
};

/* Ring configuration fixed at start by negotiation; a change resets the ring. */
struct vu_vq_conf {
	bool packed;	  /* VIRTIO_F_RING_PACKED */
	bool in_order;	  /* VIRTIO_F_IN_ORDER */
	bool event_idx;	  /* VIRTIO_RING_F_EVENT_IDX */
	bool indirect;	  /* VIRTIO_RING_F_INDIRECT_DESC */
	bool mrg_rxbuf;	  /* VIRTIO_NET_F_MRG_RXBUF */
	uint16_t hdr_len; /* virtio-net header: 10 or 12 bytes */
};

struct vu_vq_stats {
	uint64_t kicks;	 /* notifications written to the kick eventfd */
	uint64_t copies; /* tx: packets copied into the shared pool */
	uint64_t errors; /* protocol violations and dropped packets */
	uint64_t nombuf; /* rx: refills cut short by an empty pool */
};

/* Sixteen bytes in a vector register: GCC's generic vectors, lowered where there are none. */
typedef uint64_t vu_u64x2 __attribute__((vector_size(16)));

/*
 * Bytes rearm_data..hash.rss of struct rte_mbuf as a refill writes them into
 * every receive mbuf (vu_rx_buf_init()), built once for the ring
 * (vu_rx_ring_init()): two 16-byte stores per mbuf rather than a load, a
 * mask and six narrow stores.
 */
struct vu_rx_init {
	vu_u64x2 lo, hi;
};

struct vu_vq {
	/* Data path. Valid while 'ready' is true; owned by the polling lcore. */
	bool ready;		/* acquire in bursts; see vu_rings_publish() */
	bool tx_open;		/* tx takes new packets (a backend is there to take them) */
	bool broken;		/* latched on a backend violation until the ring resets */
	bool tx;		/* driver-to-device ring (transmitq) */
	struct vhu_burst_mark mark; /* odd while a burst runs: what vu_rings_unpublish() waits on */
	struct vu_vq_conf conf; /* negotiated ring configuration */
	uint16_t size;		/* entries */
	uint16_t num_free;	/* free descriptors */
	uint16_t inflight;	/* buffers posted and not yet used */
	uint16_t refill_at;	/* rx: free descriptors that make a refill (vu_rx_ring_init()) */
	uint16_t avail_idx;	/* split: next avail index; packed: next avail position */
	uint16_t last_used;	/* split: next used index; packed: next used position */
	uint16_t next_desc;	/* split in-order: next descriptor to allocate */
	uint16_t free_head;	/* split: head of the private descriptor free list */
	uint16_t oldest;	/* in-order: head/id of the oldest posted buffer */
	uint16_t added;		/* buffers made available since the last kick check */
	uint16_t id_top;	/* packed: free buffer ids on the stack */
	bool avail_wrap;	/* packed: driver ring wrap counter */
	bool used_wrap;		/* packed: device ring wrap counter */
	uint16_t avail_flags;	/* packed: AVAIL/USED bits for the current lap */
	uint16_t used_event;	/* split+EVENT_IDX: used_event value last written */
	union {
		struct {
			struct vring_desc *desc;
			struct vring_avail *avail;
			struct vring_used *used;
		} split;
		struct {
			struct vring_packed_desc *desc;
			struct vring_packed_event *driver; /* we write */
			struct vring_packed_event *device; /* the backend writes */
		} packed;
	};
	struct vu_slot *slots;		/* per head / buffer id */
	uint16_t *next;			/* split: free list links (private, never shared) */
	uint16_t *ids;			/* packed: stack of free buffer ids */
	struct vu_tx_area *tx_area;	/* tx: per head / id, in shared memory */
	const struct vu_mem *mem;	/* for address translation */
	struct rte_mempool *pool;	/* the shared pool (rx refill, tx copies) */
	uint16_t port_id;		/* rx: stamped into received mbufs (set by the refill) */
	struct vu_rx_init rx_init;	/* rx: what a refill writes into each mbuf */
	struct vhu_port_qstats *qstats; /* the port's counters of this queue */
	int kickfd;			/* eventfd we write to notify the device */
	struct vu_vq_stats stats;	/* written by the polling lcore only */
	char broken_reason[96];		/* first violation, written once when latching */

	/* Control: owned by the control side. */
	uint16_t index;	    /* virtqueue index: 2q receiveq, 2q + 1 transmitq */
	bool initialized;   /* ring memory and state set up once */
	int callfd;	    /* eventfd the backend may interrupt us through */
	uint32_t base;	    /* SET_VRING_BASE value for the next start */
	uint64_t irqs;	    /* interrupts read back from callfd (should stay 0) */
	uint8_t *area_desc; /* the three ring areas, carved at create */
	uint8_t *area_driver;
	uint8_t *area_device;
	struct vu_dev *dev; /* owner, for messages */
} __rte_cache_aligned;

/*
 * What a device half tells the protocol half. Queue numbers count the
 * device's queue units: net queue pairs (a receiveq and a transmitq each),
 * blk request queues (one ring each).
 */
struct vu_devtype {
	const char *name;	  /* "net", "blk": for messages */
	const char *queue_word;	  /* "queue pair(s)", "queue(s)": for messages */
	uint16_t rings_per_queue; /* rings of one queue unit */
	unsigned int mq_feature;  /* the device's multi-queue feature bit */
	uint32_t config_size;	  /* bytes of config space GET_CONFIG asks for */
	/* Device feature bits wanted on top of the ring and protocol ones. */
	uint64_t (*features)(const struct vu_dev *dev);
	/* Queue units the next start runs (the port's queues, or all). */
	uint16_t (*active_queues)(const struct vu_dev *dev);
	/* True for a ring the driver fills with data for the device (gets a
	 * per-slot area in shared memory for headers and indirect tables). */
	bool (*ring_tx)(uint16_t index);
	/* "rx", "tx", "request": the ring's role in messages. */
	const char *(*ring_role)(const struct vu_vq *vq);
	/* A reset ring drops posted buffer 's' (optional). Control side. */
	void (*drop)(struct vu_vq *vq, struct vu_slot *s);
	/* A reset or resumed ring is about to go to the backend: post what the
	 * device needs up front, as net rx buffers (optional). Control side. */
	void (*refill)(struct vu_vq *vq);
	/* A ring is about to be published (optional): stamp what the data path needs. */
	void (*publish)(struct vu_dev *dev, struct vu_vq *vq);
	/* GET_CONFIG answered 'config_size' bytes, kept in dev->config (optional: log them). */
	void (*config)(struct vu_dev *dev);
};

/* Latch 'vq' broken; the first reason wins and is logged once. Data path. */
void vu_vq_set_broken(struct vu_vq *vq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) __rte_cold;

/* ---- connection, protocol (vu_conn.c, vu_msg.c) ---- */

enum vu_state {
	VU_DISCONNECTED, /* no backend: client retries each second, server listens */
	VU_HANDSHAKE,	 /* connection-level negotiation under way */
	VU_IDLE,	 /* negotiated; rings not running */
	VU_STARTING,	 /* device start sequence under way */
	VU_RUNNING,	 /* rings run: link up */
	VU_STOPPING,	 /* device stop sequence under way */
};

/* What the reply to a request must look like. */
enum vu_reply_kind {
	VU_REPLY_NONE,	 /* no reply */
	VU_REPLY_ACK,	 /* REPLY_ACK: u64, 0 = success */
	VU_REPLY_U64,	 /* GET_* returning a u64 */
	VU_REPLY_STATE,	 /* GET_VRING_BASE: struct vhost_user_vring_state */
	VU_REPLY_CONFIG, /* GET_CONFIG: config header + the size asked */
};

struct vu_dev;
struct vu_pending;
/* Called with a validated reply; returns 0, or -errno after logging why it is refused. */
typedef int (*vu_reply_cb)(struct vu_dev *dev, const struct vu_pending *p,
			   const struct vhost_user_msg *reply);

/* A request sent on the main socket whose reply has not arrived yet. */
struct vu_pending {
	uint32_t request; /* what we sent */
	enum vu_reply_kind kind;
	uint32_t ring;	      /* GET_VRING_BASE: the ring asked */
	uint16_t ring_size;   /* ... its entries */
	bool packed;	      /* ... its layout, which decides the answer's encoding */
	uint32_t cfg_size;    /* GET_CONFIG: bytes asked */
	bool seq;	      /* part of the start/stop sequence (counts in seq_pending) */
	vu_reply_cb cb;	      /* optional */
	uint64_t arg;	      /* for cb */
	uint64_t deadline_ms; /* monotonic time by which the reply is due */
};

#define VU_PENDING_MAX 256

/* A message being assembled from a nonblocking socket. */
struct vu_msgbuf {
	uint32_t got; /* wire bytes received so far */
	int nfds;     /* fds received with it */
	int fds[VHOST_USER_MAX_FDS];
	struct vhost_user_msg msg;
};

/* Where the start and stop sequences are. */
enum vu_phase {
	VU_PH_NONE,
	VU_PH_GET_FEATURES,
	VU_PH_PROTOCOL,
	VU_PH_OWNER,
	VU_PH_CONN_DONE,
	VU_PH_START_FEATURES,
	VU_PH_START_MEM,
	VU_PH_START_RINGS,
	VU_PH_START_ENABLE,
	VU_PH_START_DONE,
	VU_PH_STOP_RINGS,
	VU_PH_STOP_RESET,
	VU_PH_STOP_DONE,
};

struct vu_dev {
	/* Configuration: set by create, read-only afterwards. */
	const struct vu_devtype *type; /* the device half */
	int socket_id;		       /* NUMA socket for ring state */
	struct vhu_port *port;	       /* net: the port; NULL for other devices */
	char path[108];		       /* socket path (sun_path size) */
	bool server;		       /* we listen, the backend connects */
	uint16_t queues;	       /* queue units (net: pairs, queues=) */
	uint16_t queue_size;	       /* entries per ring (queue_size=) */
	bool want_mrg_rxbuf;	       /* mrg_rxbuf= */
	bool want_in_order;	       /* in_order= */
	bool want_packed;	       /* packed_vq= */
	bool want_iommu;	       /* iommu= */
	bool want_indirect;	       /* indirect= */
	uint16_t mtu;		       /* mtu=; sizes rx buffers without MRG_RXBUF */
	bool mtu_given;		       /* mtu= was given: tell the backend */
	uint32_t buf_len;	       /* rx buffer bytes from the data offset */
	struct vu_mem mem;	       /* the shared area */
	struct rte_mempool *pool;      /* mbufs in the shared area */
	struct vu_vq *vq[VU_MAX_VQS];  /* vu_rings_of(queues) rings, allocated at create */

	/* Connection state. */
	enum vu_state state;
	enum vu_phase phase;
	bool want_run;	    /* the port is started: run the rings when connected */
	bool start_waiting; /* start() waits for the sequence: no reconnects */
	bool destroying;
	int listen_fd; /* server mode, or -1 */
	uint64_t listen_handle;
	int fd; /* the main socket, or -1 */
	uint64_t fd_handle;
	int breq_fd; /* our end of the backend request channel, or -1 */
	uint64_t breq_handle;
	struct vu_msgbuf in;			   /* reply being assembled */
	struct vu_msgbuf breq_in;		   /* backend request being assembled */
	struct vu_pending pending[VU_PENDING_MAX]; /* FIFO of replies due, in send order */
	uint32_t pend_head;
	uint32_t pend_count;
	uint32_t seq_pending;	   /* replies the current phase still waits for */
	uint16_t active_qp;	   /* queue units of the current start */
	uint64_t offered_features; /* GET_FEATURES */
	uint64_t features;	   /* what we set */
	uint64_t offered_pf;	   /* GET_PROTOCOL_FEATURES */
	uint64_t pf;		   /* what we set */
	uint64_t queue_num;	   /* GET_QUEUE_NUM, in queue units (1 without MQ) */
	uint64_t max_mem_slots;	   /* GET_MAX_MEM_SLOTS */
	bool mem_added;		   /* ADD_MEM_REG done on this connection */
	uint8_t status;		   /* last SET_STATUS */
	uint8_t status_read;	   /* last GET_STATUS */
	union {
		struct virtio_net_config net;
		struct virtio_blk_config blk;
		uint8_t bytes[64];
	} config; /* last GET_CONFIG, type->config_size bytes */
	bool config_valid;
	bool retry_logged;    /* "backend gone, retrying" said for this outage */
	uint64_t connections; /* connection handshakes completed */
	uint64_t starts;      /* device starts completed */
	int seq_error;	      /* -errno of the last failed sequence, for waiters */
	uint64_t seq_gen;     /* bumped when a sequence ends, for waiters */
	char last_error[192]; /* last failure, for info() */
	pthread_cond_t cond;  /* with vhu_ctrl_lock: state changes */

	/* Emulated IOMMU (iommu=1). */
	uint64_t *granted;	    /* bitmap of units mapped by UPDATE */
	uint64_t *refused;	    /* bitmap of units to map again when restored */
	bool withdrawn;		    /* misses are refused */
	uint64_t iotlb_misses;	    /* MISS requests received */
	uint64_t iotlb_answered;    /* answered with an UPDATE */
	uint64_t iotlb_refused;	    /* refused */
	uint64_t iotlb_invalidates; /* INVALIDATE messages sent */
	uint64_t backend_requests;  /* backend channel requests of any kind */
};

/* vu_msg.c */
const char *vu_request_name(uint32_t request);
const char *vu_backend_request_name(uint32_t request);
/* Send one message with fds; 0 or -errno. Blocks at most the socket's send timeout. */
int vu_msg_send(int fd, struct vhost_user_msg *msg, const int *fds, int nfds);
/*
 * Read from a nonblocking socket into 'b'. Returns 1 when a whole message is
 * there, 0 when more bytes are needed, or -errno: -ECONNRESET when the peer
 * closed, -EMSGSIZE for a payload larger than any message, -E2BIG for more
 * than VHOST_USER_MAX_FDS fds.
 */
int vu_msg_recv(int fd, struct vu_msgbuf *b);
/* Close and forget the fds of 'b'. */
void vu_msgbuf_drop_fds(struct vu_msgbuf *b);
/*
 * Check a reply against what was asked; 0, or -EPROTO with 'why' filled.
 * Checks flags, request, exact size, fds and the fields the request fixes.
 */
int vu_reply_validate(const struct vu_pending *p, const struct vu_msgbuf *b, char *why, size_t len);
/* Check a backend request's header, size and fds; 0 or -EPROTO with 'why'. */
int vu_backend_request_validate(const struct vu_msgbuf *b, char *why, size_t len);

/* The ring of 'index' if the data path may use it now, else NULL. Data path. */
static inline struct vu_vq *
vu_data_vq(struct vu_dev *dev, uint32_t index)
{
	struct vu_vq *vq = dev->vq[index];

	/* Acquire: pairs with the release store in vu_rings_publish(); every ring
	 * field read below is the one published with it. */
	if (unlikely(!__atomic_load_n(&vq->ready, __ATOMIC_ACQUIRE) || vq->broken))
		return NULL;
	return vq;
}

/*
 * Does 'dev' have queue unit 'queue'? A data-path entry point asks before it
 * touches dev->vq[]: the port layer takes the queue number from its caller
 * unchecked (vhu_port_rx_burst() states the bound, checks none), and a ring
 * past dev->queues is NULL or past the array. Below it, dev->vq[] holds a
 * ring from create to destroy, whatever the connection does (a ring not
 * running, before a start or after a disconnect, is stopped, never freed),
 * so the burst may mark it and read 'ready'. As the vhost-user port's bursts
 * do (vhu_net_enter(): a queue pair past the device's is NULL, always), not
 * as DPDK's ethdev (checked only with RTE_ETHDEV_DEBUG_RX): one compare.
 */
static inline bool
vu_queue_exists(const struct vu_dev *dev, uint16_t queue)
{
	return queue < dev->queues;
}

/* Rings of 'queues' queue units. */
static inline uint32_t
vu_rings_of(const struct vu_dev *dev, uint16_t queues)
{
	return (uint32_t)queues * dev->type->rings_per_queue;
}

static inline bool
vu_has_pf(const struct vu_dev *dev, unsigned int bit)
{
	return (dev->pf & VHU_BIT(bit)) != 0;
}

static inline bool
vu_has_feature(const struct vu_dev *dev, unsigned int bit)
{
	return (dev->features & VHU_BIT(bit)) != 0;
}

/* vu_conn.c: the connection (control thread, vhu_ctrl_lock held). */
int vu_conn_init(struct vu_dev *dev);
void vu_conn_fini(struct vu_dev *dev);
/* Port start/stop: run the device sequences and wait for them (lock not held). */
int vu_conn_start(struct vu_dev *dev);
void vu_conn_stop(struct vu_dev *dev);
/* Drop the connection; 'err' is what a waiting start()/stop() returns. */
void vu_conn_close(struct vu_dev *dev, int err);
/* Log why the connection fails, keep it for info(), close it. Returns err. */
int vu_fail(struct vu_dev *dev, int err, const char *fmt, ...) __rte_format_printf(3, 4);
/*
 * Send 'msg' (request and payload filled in) with 'nfds' fds, and queue what
 * its reply must be: 'kind' is the request's own reply, or VU_REPLY_NONE
 * for a request without one, which then asks for an ack when REPLY_ACK is
 * negotiated. 'seq' makes the current phase wait for it; 'cb' (optional)
 * sees the validated reply. 0, or -errno with the connection closed.
 */
int vu_request(struct vu_dev *dev, struct vhost_user_msg *msg, const int *fds, int nfds,
	       enum vu_reply_kind kind, bool seq, vu_reply_cb cb, uint64_t arg);
void vu_msg_init(struct vhost_user_msg *msg, uint32_t request, uint32_t size);
/* Sequence requests: no payload; a u64 (and maybe an fd); a ring state. */
int vu_req_get(struct vu_dev *dev, uint32_t request, enum vu_reply_kind kind, vu_reply_cb cb);
int vu_req_u64(struct vu_dev *dev, uint32_t request, uint64_t value, int fd);
int vu_req_state(struct vu_dev *dev, uint32_t request, uint32_t index, uint32_t num);

/* vu_seq.c: the sequences. */
/* Run phases while the current one has no reply outstanding. */
void vu_seq_run(struct vu_dev *dev);
/* Ask for the config space; 'seq' when part of a start. */
int vu_req_config(struct vu_dev *dev, bool seq);

/* vu_backend_req.c: the backend request channel and the emulated IOMMU. */
/* Give the backend its end of a new channel (SET_BACKEND_REQ_FD). */
int vu_backend_channel_open(struct vu_dev *dev);
void vu_backend_channel_close(struct vu_dev *dev);
/* Withdraw every mapping; 'seq' when the stop sequence waits for the acks. */
int vu_iotlb_invalidate_all(struct vu_dev *dev, bool seq);
int vu_iotlb_withdraw(struct vu_dev *dev, bool withdraw);

/* vu_ring.c: control-side ring management. */
/* Bytes of shared memory the rings of 'dev' take (its queues and queue_size). */
uint64_t vu_rings_bytes(struct vu_dev *dev);
int vu_rings_alloc(struct vu_dev *dev);
void vu_rings_free(struct vu_dev *dev);
/* Make ring 'vq' ready to be handed to the backend with configuration 'conf':
 * resume it, or reset it when it is new, broken or configured differently. */
void vu_ring_prepare(struct vu_dev *dev, struct vu_vq *vq, const struct vu_vq_conf *conf);
/* Device addresses of the ring's three areas, for SET_VRING_ADDR. */
void vu_ring_addrs(const struct vu_dev *dev, const struct vu_vq *vq,
		   struct vhost_user_vring_addr *addr);
/*
 * Hand the rings of queue units [0, nqp) to the data path (release). Without 'tx_open' the
 * data path only drains them: rx delivers what the backend completed before
 * it went away, tx reclaims and takes nothing new.
 */
void vu_rings_publish(struct vu_dev *dev, uint16_t nqp, bool tx_open);
/* Take every ring back from the data path and wait for a grace period. */
void vu_rings_unpublish(struct vu_dev *dev);
/* After a connection died: compute where each ring resumes. Rings unpublished. */
void vu_rings_recover(struct vu_dev *dev);
/* Buffers posted on 'vq' that the device has not returned yet (rings not running). */
uint32_t vu_ring_tx_pending(const struct vu_vq *vq);
/* Notify every running ring once (a backend that waits for kicks sees the rx buffers). */
void vu_rings_kick(struct vu_dev *dev);

/* vu_net.c: bursts. */
uint16_t vu_rx_burst(struct vu_dev *dev, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
uint16_t vu_tx_burst(struct vu_dev *dev, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
/* Post rx buffers into every free descriptor (control side, ring unpublished). */
void vu_rx_fill(struct vu_vq *vq);

#endif /* VHU_VU_PRIVATE_H */
