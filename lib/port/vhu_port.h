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
 * Threads: the port table and every control call (attach, detach, start,
 * stop, stats reset) belong to one control thread, the main lcore in
 * vhu-pmd; they are not safe against each other from several threads. Burst
 * calls on queue q of a port come from the one lcore that owns q. Counters
 * are written only by that lcore and may be read by any thread.
 */
#ifndef VHU_PORT_H
#define VHU_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

/* What a port driver provides. Every function pointer is required unless marked optional. */
struct vhu_port_ops {
	/* Driver name as written at the start of a device string. */
	const char *name;
	/* NULL-terminated list of the keys the driver accepts. */
	const char *const *keys;
	/* The device string syntax with the valid values, e.g. "ring[,size=32..1048576]". */
	const char *usage;
	/* Bytes of driver state allocated (zeroed) with each port, reached as port->priv. */
	size_t priv_size;
	/*
	 * Make the port from its key=value pairs, all of them keys from 'keys' and
	 * each given at most once. Sets port->max_rxq and port->max_txq, may set
	 * port->name and port->mac. Returns 0 or -errno after logging which key
	 * is wrong and what it accepts. Nothing to undo on failure.
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
	/* True while packets can flow (a front-end is attached, a peer is started). */
	bool (*link_up)(const struct vhu_port *port);
	/* Optional: why the link may be down, for "link down, <hint>" messages. */
	const char *link_down_hint;
	/*
	 * Optional: write a multi-line, driver-specific status text into buf
	 * (always terminated when len > 0). Returns the length of the full text
	 * as snprintf() does, or -errno. Control thread.
	 */
	int (*info)(const struct vhu_port *port, char *buf, size_t len);
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
 * Live counters of one queue, on their own cache line so that lcores owning
 * neighbouring queues do not share one. Single writer: the owning lcore.
 */
struct vhu_port_queue {
	struct vhu_port_qstats stats;
} __rte_cache_aligned;

/* A port. Fields are read-only to users except where a comment says otherwise. */
struct vhu_port {
	const struct vhu_port_ops *ops; /* its driver */
	void *priv;			/* driver state, ops->priv_size bytes */
	uint16_t id;			/* index in the port table */
	uint16_t nb_rxq;		/* rx queues in use, 1..max_rxq */
	uint16_t nb_txq;		/* tx queues in use, 1..max_txq */
	uint16_t max_rxq;		/* rx queues the device offers (set by create) */
	uint16_t max_txq;		/* tx queues the device offers (set by create) */
	bool started;			/* between a successful start and stop */
	/* rx allocates mbufs from it; may be changed while the port is stopped. */
	struct rte_mempool *mempool;
	int socket_id;		      /* NUMA socket for driver allocations */
	struct rte_ether_addr mac;    /* its MAC address (engines write it as source) */
	char name[VHU_PORT_NAME_LEN]; /* short name for messages, e.g. "ring:r0" */
	char *devstr;		      /* the device string it was made from */
	struct vhu_port_queue rxq[VHU_PORT_MAX_QUEUES]; /* live rx counters */
	struct vhu_port_queue txq[VHU_PORT_MAX_QUEUES]; /* live tx counters */
	/* Counter values at the last reset, per queue; owned by the control thread. */
	struct vhu_port_stats offset[VHU_PORT_MAX_QUEUES];
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

/*
 * Receive up to n packets from rx queue 'queue' (which must be < nb_rxq) of a
 * started port, counting them. Returns how many were stored in pkts; the
 * caller owns them. Owning lcore only.
 */
static inline uint16_t
vhu_port_rx_burst(struct vhu_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vhu_port_qstats *st = &port->rxq[queue].stats;
	uint64_t bytes = 0;
	uint16_t nb, i;

	nb = port->ops->rx_burst(port, queue, pkts, n);
	if (nb == 0)
		return 0;
	for (i = 0; i < nb; i++)
		bytes += pkts[i]->pkt_len;
	vhu_port_counter_add(&st->packets, nb);
	vhu_port_counter_add(&st->bytes, bytes);
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
	struct vhu_port_qstats *st = &port->txq[queue].stats;
	uint64_t bytes = 0;
	uint16_t nb, i;

	/* Sum before the call: accepted mbufs may be freed by the time it returns. */
	for (i = 0; i < n; i++)
		bytes += pkts[i]->pkt_len;
	nb = port->ops->tx_burst(port, queue, pkts, n);
	for (i = nb; i < n; i++)
		bytes -= pkts[i]->pkt_len;
	if (nb == 0)
		return 0;
	vhu_port_counter_add(&st->packets, nb);
	vhu_port_counter_add(&st->bytes, bytes);
	return nb;
}

/* Count n packets refused by tx queue 'queue' and freed by the caller. Owning lcore only. */
static inline void
vhu_port_tx_dropped(struct vhu_port *port, uint16_t queue, uint16_t n)
{
	if (n != 0)
		vhu_port_counter_add(&port->txq[queue].stats.drops, n);
}

#endif /* VHU_PORT_H */
