/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: the one interface by which vhu-pmd and its forwarding engines move
 * packets, whatever is behind it (a vhost-user socket, a pair of rings, ...).
 *
 * A port driver fills a const struct vhu_port_ops and registers it with
 * VHU_PORT_DRIVER_REGISTER(); a port is made from a device string such as
 * "vhost-user,iface=/tmp/vh0.sock,queues=1" or "ring,name=r0": the text
 * before the first comma names the driver, the rest is a list of key=value
 * pairs (rte_kvargs syntax) checked against the keys the driver accepts.
 *
 * Return contract: control calls return 0 or a negative errno; constructors
 * return a pointer, or NULL with rte_errno set; burst calls return counts.
 *
 * Counting: the bursts count packets and bytes per queue, and, while the
 * port's xstats switch is on, frames by size and by destination (broadcast,
 * multicast); drivers may add counters of their own (queue_stats) and
 * extended statistics (xstats). A tap (vhu_port_tap_set) sees copies of what
 * a port receives and sends, for packet capture.
 *
 * Threads: the port table and every control call (attach, detach, start,
 * stop, stats reset, xstats switch, tap) belong to one control thread at a
 * time, the main lcore in vhu-pmd; they are not safe against each other from
 * several threads. Burst calls on queue q of a port come from the one lcore
 * that owns q. Counters are written only by that lcore and may be read by
 * any thread.
 */
#ifndef VHU_PORT_H
#define VHU_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/queue.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_kvargs.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

/* Size of the port table: port ids are 0..VHU_PORT_MAX - 1. */
#define VHU_PORT_MAX 32
/* Most rx (and most tx) queues a port can have. */
#define VHU_PORT_MAX_QUEUES 16
/* Room for a port name, terminator included. */
#define VHU_PORT_NAME_LEN 64

/* Log type "vhu.port", shared by the port layer and the port drivers. */
extern int vhu_port_logtype;

#define VHU_PORT_LOG(level, fmt, ...)                                                              \
	rte_log(RTE_LOG_##level, vhu_port_logtype, "vhu.port: " fmt "\n", ##__VA_ARGS__)

struct vhu_port;
struct vhu_port_stats;

/* Room for an extended statistic's name, terminator included. */
#define VHU_PORT_XSTAT_NAME_LEN 64

/* One extended statistic, as vhu_port_xstats_get() returns it. */
struct vhu_port_xstat {
	char name[VHU_PORT_XSTAT_NAME_LEN]; /* e.g. "rx_size_64_packets" */
	uint64_t value;
};

/* What a port driver provides. Every function pointer is required unless marked optional. */
struct vhu_port_ops {
	/* Driver name as written at the start of a device string. */
	const char *name;
	/* NULL-terminated list of the keys the driver accepts. */
	const char *const *keys;
	/*
	 * Accept keys beyond 'keys' too: create() checks them (the ethdev driver
	 * hands them to the DPDK device it makes, as its devargs).
	 */
	bool any_keys;
	/* The device string syntax with the valid values, e.g. "ring[,size=32..1048576]". */
	const char *usage;
	/* Bytes of driver state allocated (zeroed) with each port, reached as port->priv. */
	size_t priv_size;
	/*
	 * Make the port from its key=value pairs, all of them keys from 'keys'
	 * (unless any_keys) and each given at most once. Sets port->max_rxq and
	 * port->max_txq, may set port->name, port->mac and port->socket_id.
	 * Returns 0 or -errno after logging which key is wrong and what it
	 * accepts. Nothing to undo on failure.
	 */
	int (*create)(struct vhu_port *port, const struct rte_kvargs *kvargs);
	/* Release everything create() and start() acquired; the port is stopped. */
	void (*destroy)(struct vhu_port *port);
	/* Optional: get ready for bursts on port->nb_rxq/nb_txq queues. 0 or -errno. */
	int (*start)(struct vhu_port *port);
	/* Optional: undo start(); no burst is running or will run until the next start. */
	void (*stop)(struct vhu_port *port);
	/* Receive up to n packets from rx queue 'queue' into pkts; the caller owns them. */
	uint16_t (*rx_burst)(struct vhu_port *port, uint16_t queue, struct rte_mbuf **pkts,
			     uint16_t n);
	/*
	 * Transmit up to n packets on tx queue 'queue'. Returns how many were
	 * accepted, always the first ones: the port now owns (and eventually frees)
	 * pkts[0..ret), the caller keeps pkts[ret..n).
	 */
	uint16_t (*tx_burst)(struct vhu_port *port, uint16_t queue, struct rte_mbuf **pkts,
			     uint16_t n);
	/*
	 * Optional: tx queue 'queue' has nothing new to send; push out whatever
	 * the driver holds (vhost-user holds packets whose guest buffer missed
	 * the IOTLB). Owning lcore only.
	 */
	void (*tx_flush)(struct vhu_port *port, uint16_t queue);
	/* True while packets can flow (a front-end is attached, a peer is started). */
	bool (*link_up)(const struct vhu_port *port);
	/* Optional: why the link may be down, for "link down, <hint>" messages. */
	const char *link_down_hint;
	/*
	 * Attach ports with the counting of frame sizes and destinations off
	 * (vhu_port_xstats_enable() turns it on): for drivers whose bursts are so
	 * cheap that a look at each packet would show (ring: a third slower).
	 */
	bool xstats_off;
	/*
	 * Optional: write a multi-line, driver-specific status text into buf
	 * (always terminated when len > 0). Returns the length of the full text
	 * as snprintf() does, or -errno. Control thread.
	 */
	int (*info)(const struct vhu_port *port, char *buf, size_t len);
	/*
	 * Optional: the features the port negotiated with its peer, one line
	 * without newline ("0x... NAME NAME ..."), into buf as info(); 0 (and an
	 * empty buf) while nothing is negotiated. For the periodic statistics.
	 * Any thread but a data lcore.
	 */
	int (*features)(const struct vhu_port *port, char *buf, size_t len);
	/*
	 * Optional: add the driver's own counters of each queue (packets it lost,
	 * malformed packets, mbuf shortages) to qs[0..VHU_PORT_MAX_QUEUES), which
	 * holds the port layer's counters. The values must only grow. Any thread.
	 */
	void (*queue_stats)(const struct vhu_port *port, struct vhu_port_stats *qs);
	/*
	 * Optional: write the driver's extended statistics into xs[0..n) and
	 * return how many it has (possibly more than n), or -errno. Not reset by
	 * vhu_port_stats_reset(). Control thread.
	 */
	int (*xstats)(const struct vhu_port *port, struct vhu_port_xstat *xs, unsigned int n);
};

/* One registry entry; VHU_PORT_DRIVER_REGISTER() makes one per driver. */
struct vhu_port_driver {
	const struct vhu_port_ops *ops;	    /* the driver */
	STAILQ_ENTRY(vhu_port_driver) next; /* registry link */
};

/* Add a driver to the registry. Called from constructors, before main(). */
void vhu_port_driver_register(struct vhu_port_driver *drv);

/* Register 'drv_ops' (a const struct vhu_port_ops variable) at program start. */
#define VHU_PORT_DRIVER_REGISTER(drv_ops)                                                          \
	static struct vhu_port_driver vhu_port_driver_##drv_ops = {.ops = &(drv_ops)};             \
	RTE_INIT(vhu_port_driver_init_##drv_ops)                                                   \
	{                                                                                          \
		vhu_port_driver_register(&vhu_port_driver_##drv_ops);                              \
	}

/*
 * The i-th registered driver (in registration order), or NULL past the last;
 * for listing drivers and their usage. Any thread once main() runs.
 */
const struct vhu_port_ops *vhu_port_driver_get(unsigned int i);

/*
 * For a driver's create(): read the value of 'key' as a decimal integer
 * in [min, max] into *val; *val is left alone when the key is absent.
 * Returns 0, or -EINVAL after logging the port, the key, the value given and
 * the valid range.
 */
int vhu_port_kvargs_uint(const struct vhu_port *port, const struct rte_kvargs *kvargs,
			 const char *key, uint64_t min, uint64_t max, uint64_t *val);

/*
 * For a driver's info(): append printf-style text at buf + *off and advance
 * *off by the length of the text, written or not, as snprintf() counts it;
 * buf stays terminated when len > 0.
 */
void vhu_port_info_append(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__rte_format_printf(4, 5);

/*
 * For a driver's info() and features(): append a feature list, "0x<16 hex
 * digits>:" then " NAME" for every set bit of 'bits', named by name_of(bit),
 * or " bitN" where it has no name.
 */
void vhu_port_info_append_bits(char *buf, size_t len, size_t *off, uint64_t bits,
			       const char *(*name_of)(unsigned int bit));

/* Counters of one queue in one direction. */
struct vhu_port_qstats {
	uint64_t packets; /* packets received, or accepted for transmission */
	uint64_t bytes;	  /* their total pkt_len */
	uint64_t drops;	  /* rx: lost by the driver; tx: refused and freed by the caller */
	uint64_t errors;  /* malformed or failed packets */
	uint64_t nombuf;  /* rx only: lost for want of an mbuf */
};

/* Counters of a port or of one of its queue numbers, as returned by the getters. */
struct vhu_port_stats {
	struct vhu_port_qstats rx;
	struct vhu_port_qstats tx;
};

/*
 * Frame size bins of the extended statistics, by pkt_len: the frame as the
 * mbuf holds it, without an FCS (so the smallest Ethernet frame is 60 bytes,
 * "undersize", and dpdk-testpmd's default txonly frame 64).
 */
enum vhu_port_size_bin {
	VHU_PORT_SIZE_UNDERSIZE, /* < 64 */
	VHU_PORT_SIZE_64,
	VHU_PORT_SIZE_65_127,
	VHU_PORT_SIZE_128_255,
	VHU_PORT_SIZE_256_511,
	VHU_PORT_SIZE_512_1023,
	VHU_PORT_SIZE_1024_1518,
	VHU_PORT_SIZE_1519_MAX,
	VHU_PORT_SIZE_BINS,
};

/*
 * Extended counters of one queue in one direction, counted while the port's
 * xstats switch is on. Unicast packets are the sum of the size bins minus
 * broadcast and multicast, so they cost nothing to count.
 */
struct vhu_port_xqstats {
	uint64_t size[VHU_PORT_SIZE_BINS]; /* packets per frame size bin */
	uint64_t broadcast;		   /* destination ff:ff:ff:ff:ff:ff */
	uint64_t multicast;		   /* any other group destination */
};

/*
 * Live counters of one queue in one direction, on cache lines of their own so
 * that lcores owning neighbouring queues do not share one. Single writer: the
 * owning lcore.
 */
struct vhu_port_queue {
	struct vhu_port_qstats stats;
	struct vhu_port_xqstats xstats;
} __rte_cache_aligned;

/* Counter values at the last reset of one queue number; owned by the control thread. */
struct vhu_port_queue_offset {
	struct vhu_port_stats stats; /* port layer and driver counters, rx and tx */
	struct vhu_port_xqstats xrx; /* rx extended counters */
	struct vhu_port_xqstats xtx; /* tx extended counters */
};

enum vhu_port_dir {
	VHU_PORT_DIR_RX, /* packets the port received */
	VHU_PORT_DIR_TX, /* packets handed to the port for transmission */
};

/*
 * A tap sees copies of the packets a port receives and transmits, e.g. to
 * capture them. Its functions run on the lcore that owns the queue, inside
 * the burst, so they must be short: copy, then hand the copies to another
 * thread.
 */
struct vhu_port_tap {
	/*
	 * Make copies[i] a copy of pkts[i] for i < n, or NULL where it cannot
	 * (counting the loss itself). Must not keep or change pkts.
	 */
	void (*copy)(struct vhu_port_tap *tap, const struct vhu_port *port, uint16_t queue,
		     enum vhu_port_dir dir, struct rte_mbuf *const *pkts, uint16_t n,
		     struct rte_mbuf **copies);
	/*
	 * Take ownership of copies[0..n), skipping NULL entries: the copies of
	 * packets that were received, or that the port accepted for transmission.
	 */
	void (*submit)(struct vhu_port_tap *tap, struct rte_mbuf **copies, uint16_t n);
};

/* A port. Fields are read-only to users except where a comment says otherwise. */
struct vhu_port {
	/* What every burst reads comes first, on the struct's first cache line. */
	const struct vhu_port_ops *ops; /* its driver */
	void *priv;			/* driver state, ops->priv_size bytes */
	/* Published with release by vhu_port_tap_set(), read with acquire by every burst. */
	struct vhu_port_tap *tap;
	/* Count size bins and broadcast/multicast (vhu_port_xstats_enable); read by bursts. */
	bool xstats;
	bool started;	  /* between a successful start and stop */
	uint16_t id;	  /* index in the port table */
	uint16_t nb_rxq;  /* rx queues in use, 1..max_rxq */
	uint16_t nb_txq;  /* tx queues in use, 1..max_txq */
	uint16_t max_rxq; /* rx queues the device offers (set by create) */
	uint16_t max_txq; /* tx queues the device offers (set by create) */
	/* rx allocates mbufs from it; may be changed while the port is stopped. A
	 * driver may set its own pool at create or start (virtio-user does: its
	 * mbufs must live in the memory it shares with the backend). */
	struct rte_mempool *mempool;
	/* NUMA socket for driver allocations; create() may set the device's own. */
	int socket_id;
	/*
	 * RTE_ETH_RX_OFFLOAD_* the port does for what it receives (checksum
	 * checks: RTE_MBUF_F_RX_*_CKSUM_* in ol_flags), and RTE_ETH_TX_OFFLOAD_*
	 * it does for packets that ask in ol_flags (checksums, TSO, multi-segment
	 * mbufs); 0 where the driver does not say. Set by create or start.
	 */
	uint64_t rx_offloads;
	uint64_t tx_offloads;
	struct rte_ether_addr mac;    /* its MAC address (engines write it as source) */
	char name[VHU_PORT_NAME_LEN]; /* short name for messages, e.g. "ring:r0" */
	char *devstr;		      /* the device string it was made from */
	struct vhu_port_queue rxq[VHU_PORT_MAX_QUEUES]; /* live rx counters */
	struct vhu_port_queue txq[VHU_PORT_MAX_QUEUES]; /* live tx counters */
	/* Counter values at the last reset, per queue; owned by the control thread. */
	struct vhu_port_queue_offset offset[VHU_PORT_MAX_QUEUES];
};

/* How to attach a port. */
struct vhu_port_conf {
	struct rte_mempool *mempool; /* for rx allocations; required by drivers that allocate */
	uint16_t nb_rxq;	     /* rx queues to use, 1..VHU_PORT_MAX_QUEUES */
	uint16_t nb_txq;	     /* tx queues to use, 1..VHU_PORT_MAX_QUEUES */
	int socket_id;		     /* NUMA socket for driver allocations, or SOCKET_ID_ANY */
};

/*
 * Check the syntax of a device string: a known driver, known keys, each once,
 * each with a value. Values are checked by attach. Needs no EAL. Returns 0 or
 * -EINVAL after logging what is wrong and what is valid. Any thread.
 */
int vhu_port_devstr_check(const char *devstr);

/*
 * Make a port from 'devstr' and put it in the lowest free slot of the port
 * table. The port is stopped. Returns it, or NULL with rte_errno set: EINVAL
 * for a bad device string or configuration (logged, naming the key and the
 * valid values), ENOSPC when the table is full, or the driver's error.
 * Control thread.
 */
struct vhu_port *vhu_port_attach(const char *devstr, const struct vhu_port_conf *conf);

/*
 * Destroy a stopped port and free its slot. Returns 0, -EINVAL for NULL or a
 * port not in the table, or -EBUSY if it is started. Control thread.
 */
int vhu_port_detach(struct vhu_port *port);

/* The port with id 'id', or NULL if the slot is free. Control thread. */
struct vhu_port *vhu_port_get(uint16_t id);

/* Number of attached ports. Control thread. */
unsigned int vhu_port_count(void);

/*
 * Start a port: bursts may be called afterwards. Returns 0, -EALREADY if
 * started, -EINVAL for a port whose driver needs a mempool and has none, or
 * the driver's error. Control thread.
 */
int vhu_port_start(struct vhu_port *port);

/*
 * Stop a started port; no lcore may be in a burst on it or call one until the
 * next start. Returns 0 or -EALREADY if it was stopped. Control thread.
 */
int vhu_port_stop(struct vhu_port *port);

/* True while packets can flow on the port. Any thread. */
bool vhu_port_link_up(const struct vhu_port *port);

/*
 * Driver-specific status text into buf, as ops->info; -ENOTSUP if the driver
 * has none, -EINVAL for bad arguments. Control thread.
 */
int vhu_port_info(const struct vhu_port *port, char *buf, size_t len);

/*
 * The negotiated features as one line, as ops->features; -ENOTSUP if the
 * driver negotiates none, -EINVAL for bad arguments. Not on a data lcore.
 */
int vhu_port_features(const struct vhu_port *port, char *buf, size_t len);

/*
 * Counters since the last reset, summed over all queues. Returns 0 or -EINVAL.
 * Any thread (values are individually consistent, not a snapshot in time).
 */
int vhu_port_stats_get(const struct vhu_port *port, struct vhu_port_stats *stats);

/* Counters of rx and tx queue 'queue' since the last reset. Returns 0 or -EINVAL. */
int vhu_port_queue_stats_get(const struct vhu_port *port, uint16_t queue,
			     struct vhu_port_stats *stats);

/*
 * Make the counters read zero from now on. The live counters are not written
 * (they have a single writer, the lcore owning each queue): the current values
 * are remembered and subtracted by the getters. Control thread.
 */
void vhu_port_stats_reset(struct vhu_port *port);

/*
 * Extended statistics since the last reset: the port's counters, each queue
 * in use, frame size bins, broadcast, multicast and unicast per direction,
 * then the driver's own. Writes up to n of them into xs and returns how many
 * there are (call with n = 0 to size xs), or -EINVAL. Control thread.
 */
int vhu_port_xstats_get(const struct vhu_port *port, struct vhu_port_xstat *xs, unsigned int n);

/*
 * Turn the counting of frame size bins, broadcast and multicast on or off (on
 * after attach unless the driver says xstats_off). Costs a look at each
 * packet's length and destination address while on. Control thread; bursts
 * see the change at their next call.
 */
void vhu_port_xstats_enable(struct vhu_port *port, bool on);

/*
 * Attach 'tap' to the port, or detach the current one with NULL. Returns 0,
 * -EINVAL for a bad port, or -EBUSY when the port has a tap already. After
 * detaching, the caller must wait until no lcore can still be inside a burst
 * of the port (a grace period of vhu's RCU) before freeing the tap; bursts
 * that start afterwards do not see it. Control thread.
 */
int vhu_port_tap_set(struct vhu_port *port, struct vhu_port_tap *tap);

/* The slow paths of the bursts while a tap is attached; called only from them. */
void vhu_port_tap_rx(struct vhu_port_tap *tap, const struct vhu_port *port, uint16_t queue,
		     struct rte_mbuf *const *pkts, uint16_t n);
uint16_t vhu_port_tx_burst_tapped(struct vhu_port *port, struct vhu_port_tap *tap, uint16_t queue,
				  struct rte_mbuf **pkts, uint16_t n);

/*
 * Add n to a live counter. Only the lcore owning the counter's queue may call
 * it: the plain read cannot race with another write, and the relaxed atomic
 * store keeps the 64-bit value untorn for readers on other threads.
 */
static inline void
vhu_port_counter_add(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, *counter + n, __ATOMIC_RELAXED);
}

/* Read a live counter from any thread. */
static inline uint64_t
vhu_port_counter_read(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* What a burst adds to the counters of its queue, summed locally then added once. */
struct vhu_port_tally {
	uint64_t bytes;
	uint32_t size[VHU_PORT_SIZE_BINS];
	uint32_t broadcast;
	uint32_t multicast;
};

/*
 * Packets binned per pass of vhu_port_tally_bins(): the size bins are counted in
 * eight 8-bit lanes of one register, which hold up to 255 each.
 */
#define VHU_PORT_TALLY_LANE_MAX 255

/* The size bin of a frame of 'len' bytes. */
static inline unsigned int
vhu_port_size_bin(uint32_t len)
{
	if (len < 64)
		return VHU_PORT_SIZE_UNDERSIZE;
	if (len == 64)
		return VHU_PORT_SIZE_64;
	/* 65..1023: one bin per power of two, 2^6 (65..127) to 2^9 (512..1023). */
	if (len < 1024)
		return VHU_PORT_SIZE_65_127 + (31 - __builtin_clz(len)) - 6;
	return len <= 1518 ? VHU_PORT_SIZE_1024_1518 : VHU_PORT_SIZE_1519_MAX;
}

/*
 * Add packet m's destination to *group if it is a group address, and to
 * *broadcast too if it is the broadcast one (multicast is the difference).
 * The one place that decides; inlined, the sums stay in the caller's
 * registers.
 */
static inline void
vhu_port_count_cast(const struct rte_mbuf *m, uint32_t *group, uint32_t *broadcast)
{
	const uint8_t *dst = rte_pktmbuf_mtod(m, const uint8_t *);

	/* The group bit is the lowest bit of the first byte; a runt is nobody's group. */
	if (unlikely(dst[0] & 1) && m->data_len >= RTE_ETHER_ADDR_LEN) {
		(*group)++;
		*broadcast += rte_is_broadcast_ether_addr((const struct rte_ether_addr *)dst);
	}
}

/* Take a refused packet back out of a tally made with the extended counters. */
static inline void
vhu_port_untally_x(struct vhu_port_tally *t, const struct rte_mbuf *m)
{
	uint32_t group = 0, broadcast = 0;

	t->size[vhu_port_size_bin(m->pkt_len)]--;
	vhu_port_count_cast(m, &group, &broadcast);
	t->broadcast -= broadcast;
	t->multicast -= group - broadcast;
}

/* The size bins of pkts[0..n), one by one: for vhu_port_tally() of a burst that mixes bins. */
static inline void
vhu_port_tally_bins(struct vhu_port_tally *t, struct rte_mbuf *const *pkts, uint16_t n)
{
	uint16_t i, end, b;
	uint64_t lanes;

	/* Eight 8-bit lanes of one register rather than t->size[], whose
	 * increments would chain through memory from one packet to the next. */
	for (i = 0; i < n; i = end) {
		end = RTE_MIN(n, i + VHU_PORT_TALLY_LANE_MAX);
		lanes = 0;
		for (; i < end; i++)
			lanes += UINT64_C(1) << (vhu_port_size_bin(pkts[i]->pkt_len) * 8);
		for (b = 0; b < VHU_PORT_SIZE_BINS; b++)
			t->size[b] += (lanes >> (b * 8)) & 0xff;
	}
}

/*
 * Tally pkts[0..n): bytes always, the extended counters when 'x'. Each
 * packet adds to sums kept in registers: its bytes, the smallest and the
 * largest length, and when its destination is a group, to the group and
 * broadcast counts. Size bins are ranges of lengths, so when the smallest
 * and the largest length share a bin the whole burst goes to it at once;
 * only a burst that mixes bins takes a second pass (vhu_port_tally_bins()).
 */
static inline void
vhu_port_tally(struct vhu_port_tally *t, struct rte_mbuf *const *pkts, uint16_t n, bool x)
{
	uint32_t lo = UINT32_MAX, hi = 0, group = 0, broadcast = 0;
	uint64_t bytes = 0;
	uint16_t i;

	if (!x) {
		for (i = 0; i < n; i++)
			bytes += pkts[i]->pkt_len;
		t->bytes += bytes;
		return;
	}
	for (i = 0; i < n; i++) {
		const struct rte_mbuf *m = pkts[i];
		uint32_t len = m->pkt_len;

		bytes += len;
		lo = RTE_MIN(lo, len);
		hi = RTE_MAX(hi, len);
		vhu_port_count_cast(m, &group, &broadcast);
	}
	t->bytes += bytes;
	t->broadcast += broadcast;
	t->multicast += group - broadcast;
	if (n == 0)
		return;
	if (likely(vhu_port_size_bin(lo) == vhu_port_size_bin(hi)))
		t->size[vhu_port_size_bin(lo)] += n;
	else
		vhu_port_tally_bins(t, pkts, n);
}

/* Add a tally of nb packets to the live counters of queue q. Owning lcore only. */
static inline void
vhu_port_tally_commit(struct vhu_port_queue *q, uint16_t nb, const struct vhu_port_tally *t, bool x)
{
	unsigned int b;

	vhu_port_counter_add(&q->stats.packets, nb);
	vhu_port_counter_add(&q->stats.bytes, t->bytes);
	if (!x)
		return;
	for (b = 0; b < VHU_PORT_SIZE_BINS; b++) {
		if (t->size[b] != 0)
			vhu_port_counter_add(&q->xstats.size[b], t->size[b]);
	}
	if (t->broadcast != 0)
		vhu_port_counter_add(&q->xstats.broadcast, t->broadcast);
	if (t->multicast != 0)
		vhu_port_counter_add(&q->xstats.multicast, t->multicast);
}

/*
 * Receive up to n packets from rx queue 'queue' (which must be < nb_rxq) of a
 * started port, counting them. Returns how many were stored in pkts; the
 * caller owns them. Owning lcore only.
 */
static inline uint16_t
vhu_port_rx_burst(struct vhu_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vhu_port_tally t;
	struct vhu_port_tap *tap;
	bool x;
	uint16_t nb;

	nb = port->ops->rx_burst(port, queue, pkts, n);
	if (nb == 0)
		return 0;
	/* Zeroed here, not at the declaration: an empty poll need not pay for it. */
	memset(&t, 0, sizeof(t));
	x = __atomic_load_n(&port->xstats, __ATOMIC_RELAXED);
	vhu_port_tally(&t, pkts, nb, x);
	vhu_port_tally_commit(&port->rxq[queue], nb, &t, x);
	/* Acquire: pairs with the release in vhu_port_tap_set(), so the tap is initialised. */
	tap = __atomic_load_n(&port->tap, __ATOMIC_ACQUIRE);
	if (unlikely(tap != NULL))
		vhu_port_tap_rx(tap, port, queue, pkts, nb);
	return nb;
}

/* vhu_port_tx_burst() without a tap; for it and vhu_port_tx_burst_tapped() only. */
static inline uint16_t
vhu_port_tx_burst_counted(struct vhu_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vhu_port_tally t = {0};
	uint16_t nb, i;
	bool x;

	/* Tally before the call: accepted mbufs may be freed by the time it returns. */
	x = __atomic_load_n(&port->xstats, __ATOMIC_RELAXED);
	vhu_port_tally(&t, pkts, n, x);
	nb = port->ops->tx_burst(port, queue, pkts, n);
	if (nb == 0)
		return 0;
	/* The caller still owns the refused ones: take them back out of the tally. */
	for (i = nb; i < n; i++) {
		t.bytes -= pkts[i]->pkt_len;
		if (x)
			vhu_port_untally_x(&t, pkts[i]);
	}
	vhu_port_tally_commit(&port->txq[queue], nb, &t, x);
	return nb;
}

/*
 * Transmit up to n packets on tx queue 'queue' (which must be < nb_txq) of a
 * started port, counting those accepted. Returns how many were accepted, the
 * first ones: the port owns pkts[0..ret), the caller keeps pkts[ret..n) and
 * should free them and count them with vhu_port_tx_dropped(). Owning lcore only.
 */
static inline uint16_t
vhu_port_tx_burst(struct vhu_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	/* Acquire: pairs with the release in vhu_port_tap_set(), so the tap is initialised. */
	struct vhu_port_tap *tap = __atomic_load_n(&port->tap, __ATOMIC_ACQUIRE);

	if (unlikely(tap != NULL))
		return vhu_port_tx_burst_tapped(port, tap, queue, pkts, n);
	return vhu_port_tx_burst_counted(port, queue, pkts, n);
}

/* Tx queue 'queue' is idle: let the driver push what it holds. Owning lcore only. */
static inline void
vhu_port_tx_flush(struct vhu_port *port, uint16_t queue)
{
	if (port->ops->tx_flush != NULL)
		port->ops->tx_flush(port, queue);
}

/* Count n packets refused by tx queue 'queue' and freed by the caller. Owning lcore only. */
static inline void
vhu_port_tx_dropped(struct vhu_port *port, uint16_t queue, uint16_t n)
{
	if (n != 0)
		vhu_port_counter_add(&port->txq[queue].stats.drops, n);
}

#endif /* VHU_PORT_H */
