/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port driver "ring": ports made of rte_rings, for tests and demos that need
 * no socket and no peer process.
 *
 *     ring[,name=NAME][,size=N][,queues=N][,peer=NAME]
 *
 * A ring port owns one ring per queue, and tx queue q enqueues into its ring q.
 * Without peer=, rx queue q dequeues from that same ring: a loopback, what
 * the port sends comes back to it. With peer=B, rx queue q dequeues from ring
 * q of the ring port named B instead; when B says peer= this port in turn, the
 * two form a wire (A's tx is B's rx and B's tx is A's rx).
 *
 * Each ring has one writer and one reader (single-producer, single-consumer
 * rings): the lcore owning the tx queue and the lcore owning the rx queue that
 * reads it. So the rings of a port may be read by one started port only; a
 * second reader is refused at start.
 *
 * Control calls come from one control thread (vhu_port.h), so the list of ring
 * sets needs no lock.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "vhu_port.h"

/* Longest name=, so that "vhur_<name>_<queue>" fits RTE_RING_NAMESIZE. */
#define RING_NAME_MAX	  20
#define RING_SIZE_DEFAULT 1024
#define RING_SIZE_MIN	  32
#define RING_SIZE_MAX	  (1u << 20)

/* The rings one port transmits into, found by the port's name. */
struct ring_set {
	LIST_ENTRY(ring_set) next;    /* in ring_sets while its port exists */
	bool listed;		      /* still in ring_sets (its port not destroyed) */
	char name[RING_NAME_MAX + 1]; /* the owning port's name= */
	unsigned int refs;	      /* the owning port, plus the started port reading it */
	/* The started port whose rx reads these rings, or NULL; read by link_up from any thread. */
	const struct vhu_port *reader;
	uint16_t nb_rings; /* one per queue of the owning port */
	uint32_t size;	   /* entries per ring */
	struct rte_ring *rings[VHU_PORT_MAX_QUEUES];
};

struct ring_port {
	struct ring_set *tx;	      /* the rings this port transmits into */
	struct ring_set *rx;	      /* the rings it receives from while started, else NULL */
	char peer[RING_NAME_MAX + 1]; /* name of the port it receives from; empty: itself */
	/* Copies of tx->rings and rx->rings, so that a burst follows one pointer. */
	struct rte_ring *txr[VHU_PORT_MAX_QUEUES];
	struct rte_ring *rxr[VHU_PORT_MAX_QUEUES];
};

static LIST_HEAD(, ring_set) ring_sets = LIST_HEAD_INITIALIZER(ring_sets);

static struct ring_set *
ring_set_find(const char *name)
{
	struct ring_set *set;

	for (set = LIST_FIRST(&ring_sets); set != NULL; set = LIST_NEXT(set, next)) {
		if (strcmp(set->name, name) == 0)
			return set;
	}
	return NULL;
}

/* Drop a reference; the last one frees the mbufs still queued, the rings and the set. */
static void
ring_set_put(struct ring_set *set)
{
	struct rte_mbuf *m;
	uint16_t q;

	if (--set->refs != 0)
		return;
	if (set->listed)
		LIST_REMOVE(set, next);
	for (q = 0; q < set->nb_rings; q++) {
		while (rte_ring_dequeue(set->rings[q], (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(set->rings[q]);
	}
	rte_free(set);
}

static struct ring_set *
ring_set_create(const struct vhu_port *port, const char *name, uint16_t nb_rings, uint32_t size)
{
	char rname[RTE_RING_NAMESIZE];
	struct ring_set *set;
	uint16_t q;

	set = rte_zmalloc_socket("vhu_ring_set", sizeof(*set), 0, port->socket_id);
	if (set == NULL) {
		VHU_PORT_LOG(ERR, "port %u (%s): out of memory; give EAL more (-m)", port->id,
			     port->devstr);
		rte_errno = ENOMEM;
		return NULL;
	}
	snprintf(set->name, sizeof(set->name), "%s", name);
	set->size = size;
	set->refs = 1;
	for (q = 0; q < nb_rings; q++) {
		/* RING_NAME_MAX keeps it short enough; checked all the same. */
		if (snprintf(rname, sizeof(rname), "vhur_%s_%u", name, q) >= (int)sizeof(rname)) {
			rte_errno = ENAMETOOLONG;
			goto free_rings;
		}
		set->rings[q] = rte_ring_create(rname, size, port->socket_id,
						RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		if (set->rings[q] == NULL)
			goto free_rings;
		set->nb_rings = q + 1;
	}
	set->listed = true;
	LIST_INSERT_HEAD(&ring_sets, set, next);
	return set;

free_rings:
	VHU_PORT_LOG(ERR,
		     "port %u (%s): cannot create ring %u of %u entries: %s; use a smaller "
		     "size= or give EAL more memory (-m)",
		     port->id, port->devstr, q, size, rte_strerror(rte_errno));
	while (q-- > 0)
		rte_ring_free(set->rings[q]);
	rte_free(set);
	return NULL;
}

static bool
ring_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > RING_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)name[i]) && strchr("_-.", name[i]) == NULL)
			return false;
	}
	return true;
}

static int
ring_check_name(const struct vhu_port *port, const char *key, const char *name)
{
	if (ring_name_valid(name))
		return 0;
	VHU_PORT_LOG(ERR,
		     "port %u (%s): %s=%s is not valid; give 1..%u letters, digits, '_', "
		     "'-' or '.'",
		     port->id, port->devstr, key, name, RING_NAME_MAX);
	return -EINVAL;
}

static int
ring_create(struct vhu_port *port, const struct rte_kvargs *kvargs)
{
	struct ring_port *rp = port->priv;
	uint64_t size = RING_SIZE_DEFAULT, queues = 1;
	char name[RING_NAME_MAX + 1];
	const char *str;
	int rc;

	str = rte_kvargs_get(kvargs, "name");
	if (str != NULL) {
		rc = ring_check_name(port, "name", str);
		if (rc != 0)
			return rc;
		snprintf(name, sizeof(name), "%s", str);
	} else {
		snprintf(name, sizeof(name), "ring%u", port->id);
	}
	str = rte_kvargs_get(kvargs, "peer");
	if (str != NULL) {
		rc = ring_check_name(port, "peer", str);
		if (rc != 0)
			return rc;
		snprintf(rp->peer, sizeof(rp->peer), "%s", str);
	}
	rc = vhu_port_kvargs_uint(port, kvargs, "size", RING_SIZE_MIN, RING_SIZE_MAX, &size);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kvargs, "queues", 1, VHU_PORT_MAX_QUEUES, &queues);
	if (rc != 0)
		return rc;
	if (ring_set_find(name) != NULL) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): a ring port named '%s' exists already; choose "
			     "another name=",
			     port->id, port->devstr, name);
		return -EEXIST;
	}
	rp->tx = ring_set_create(port, name, queues, size);
	if (rp->tx == NULL)
		return -rte_errno;
	memcpy(rp->txr, rp->tx->rings, sizeof(rp->txr));
	port->max_rxq = queues;
	port->max_txq = queues;
	snprintf(port->name, sizeof(port->name), "ring:%s", name);
	return 0;
}

static void
ring_destroy(struct vhu_port *port)
{
	struct ring_port *rp = port->priv;

	/* Free the name at once; the rings live on while a started peer still reads them. */
	LIST_REMOVE(rp->tx, next);
	rp->tx->listed = false;
	ring_set_put(rp->tx);
	rp->tx = NULL;
}

static int
ring_start(struct vhu_port *port)
{
	struct ring_port *rp = port->priv;
	struct ring_set *src;

	src = rp->peer[0] != '\0' ? ring_set_find(rp->peer) : rp->tx;
	if (src == NULL) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): there is no ring port named '%s' to receive "
			     "from; attach one (ring,name=%s,peer=%s) before starting this one",
			     port->id, port->devstr, rp->peer, rp->peer, rp->tx->name);
		return -ENODEV;
	}
	if (src->reader != NULL) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): the rings of ring port '%s' are already read by "
			     "port %u (%s); a ring has one reader, so make each port the "
			     "other's peer=",
			     port->id, port->devstr, src->name, src->reader->id,
			     src->reader->devstr);
		return -EBUSY;
	}
	if (src->nb_rings < port->nb_rxq) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): %u rx queues but ring port '%s' has %u queues; "
			     "give both the same queues=",
			     port->id, port->devstr, port->nb_rxq, src->name, src->nb_rings);
		return -EINVAL;
	}
	src->refs++;
	memcpy(rp->rxr, src->rings, sizeof(rp->rxr));
	/* Relaxed: link_up readers only display these; the bursts start after start() returns. */
	__atomic_store_n(&src->reader, port, __ATOMIC_RELAXED);
	__atomic_store_n(&rp->rx, src, __ATOMIC_RELAXED);
	return 0;
}

static void
ring_stop(struct vhu_port *port)
{
	struct ring_port *rp = port->priv;
	struct ring_set *src = rp->rx;

	__atomic_store_n(&rp->rx, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&src->reader, NULL, __ATOMIC_RELAXED);
	memset(rp->rxr, 0, sizeof(rp->rxr));
	ring_set_put(src);
}

static uint16_t
ring_rx_burst(struct vhu_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct ring_port *rp = port->priv;

	return rte_ring_dequeue_burst(rp->rxr[queue], (void **)pkts, n, NULL);
}

static uint16_t
ring_tx_burst(struct vhu_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct ring_port *rp = port->priv;

	return rte_ring_enqueue_burst(rp->txr[queue], (void **)pkts, n, NULL);
}

/* Up while this port receives and someone receives what it sends. */
static bool
ring_link_up(const struct vhu_port *port)
{
	const struct ring_port *rp = port->priv;

	return __atomic_load_n(&rp->rx, __ATOMIC_RELAXED) != NULL && rp->tx != NULL &&
	       __atomic_load_n(&rp->tx->reader, __ATOMIC_RELAXED) != NULL;
}

static int
ring_info(const struct vhu_port *port, char *buf, size_t len)
{
	const struct ring_port *rp = port->priv;
	const struct ring_set *tx = rp->tx;
	size_t off = 0;
	uint16_t q;

	if (len > 0)
		buf[0] = '\0';
	vhu_port_info_append(buf, len, &off, "ring port '%s': %s, %u queue(s) of %u entries\n",
			     tx->name, rp->peer[0] == '\0' ? "loopback" : "receives from its peer",
			     tx->nb_rings, tx->size);
	if (rp->peer[0] != '\0')
		vhu_port_info_append(buf, len, &off, "  peer '%s': %s\n", rp->peer,
				     ring_set_find(rp->peer) != NULL ? "attached" : "not attached");
	vhu_port_info_append(buf, len, &off, "  its rings are read by: %s\n",
			     tx->reader != NULL ? tx->reader->name : "nobody (not started)");
	for (q = 0; q < tx->nb_rings; q++)
		vhu_port_info_append(buf, len, &off, "  tx ring %u: %u of %u entries in use\n", q,
				     rte_ring_count(tx->rings[q]), tx->size);
	return (int)off;
}

static const char *const ring_keys[] = {"name", "size", "queues", "peer", NULL};

static const struct vhu_port_ops ring_ops = {
	.name = "ring",
	.keys = ring_keys,
	.usage = "ring[,name=NAME][,size=32..1048576][,queues=1..16][,peer=NAME]",
	.priv_size = sizeof(struct ring_port),
	.create = ring_create,
	.destroy = ring_destroy,
	.start = ring_start,
	.stop = ring_stop,
	.rx_burst = ring_rx_burst,
	.tx_burst = ring_tx_burst,
	.link_up = ring_link_up,
	.link_down_hint = "waiting for its peer",
	/* A ring burst costs a few cycles per packet: counting sizes would add a third. */
	.xstats_off = true,
	.info = ring_info,
};

VHU_PORT_DRIVER_REGISTER(ring_ops)
