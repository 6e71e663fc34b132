/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port driver "virtio-user": vhu's vhost-user front-end, the VMM side of the
 * protocol, with the keys of DPDK's net_virtio_user where they overlap:
 *
 *     virtio-user,path=PATH[,queues=1..8][,queue_size=N][,mrg_rxbuf=0|1]
 *         [,in_order=0|1][,packed_vq=0|1][,server=0|1][,mac=XX:..][,iommu=0|1]
 *         [,mtu=N][,indirect=0|1]
 *
 * Port rx queue q is the device's receiveq q (virtqueue 2q), tx queue q its
 * transmitq q (virtqueue 2q + 1). The port's mempool is the shared pool:
 * received mbufs come from it, and packets built in it are sent without a
 * copy. Files: vu_mem.c (shared memory), vu_msg.c (wire), vu_conn.c
 * (connection and sequences), vu_ring.c (rings, control side), vu_net.c,
 * vu_split.h and vu_packed.h, and vu_buf.h for what both layouts do to a
 * buffer (data path).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_malloc.h>
#include <rte_mbuf_pool_ops.h>

#include "vhu_ctrl.h"
#include "vhu_vhost.h"
#include "vhu_virtio_user.h"
#include "vu_private.h"

/* Rx buffer bytes without MRG_RXBUF: a whole frame of 'mtu' (VLAN-tagged) fits. */
#define VU_FRAME_OVERHEAD (RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN)
#define VU_DEFAULT_MTU	  1500
#define VU_MAX_MTU	  9600
/* Room of one pool mbuf after its headroom. */
#define VU_BUF_LEN 2048
/* Mbufs per ring entry in the pool: rx rings, tx rings, and what the application holds. */
#define VU_MBUFS_PER_ENTRY 4
#define VU_MBUFS_MIN	   4096
#define VU_POOL_CACHE	   256

static const struct vhu_port_ops virtio_user_ops;

/* ---- the net device half of the front-end ---- */

static uint64_t
vu_net_features(const struct vu_dev *dev)
{
	return dev->want_mrg_rxbuf ? VHU_BIT(VIRTIO_NET_F_MRG_RXBUF) : 0;
}

static uint16_t
vu_net_active_queues(const struct vu_dev *dev)
{
	return RTE_MAX(dev->port->nb_rxq, dev->port->nb_txq);
}

/* Virtqueue 2q is receiveq q, 2q + 1 transmitq q. */
static bool
vu_net_ring_tx(uint16_t index)
{
	return index % 2 == 1;
}

static const char *
vu_net_ring_role(const struct vu_vq *vq)
{
	return vq->tx ? "tx" : "rx";
}

static void
vu_net_drop(struct vu_vq *vq, struct vu_slot *s)
{
	rte_pktmbuf_free(s->m);
}

/*
 * Receive rings go to the backend full of buffers, stamped with the port's
 * id. The id is set here and nowhere else: the fill bakes it into the mbuf
 * template (vu_rx_ring_init()) before the ring is published, and every
 * ring that is ever published was filled first (vu_ring_prepare()). A
 * transmit ring never reads it.
 */
static void
vu_net_refill(struct vu_vq *vq)
{
	if (vq->tx)
		return;
	vq->port_id = vq->dev->port->id;
	vu_rx_fill(vq);
}

/* The port's counters for the ring's queue; the port id is the refill's (vu_net_refill()). */
static void
vu_net_publish(struct vu_dev *dev, struct vu_vq *vq)
{
	struct vhu_port *port = dev->port;

	vq->qstats = vq->tx ? &port->txq[vq->index / 2].stats : &port->rxq[vq->index / 2].stats;
}

static void
vu_net_config(struct vu_dev *dev)
{
	const struct virtio_net_config *c = &dev->config.net;

	VU_LOG(INFO,
	       "%s: backend config: mac %02x:%02x:%02x:%02x:%02x:%02x, link %s, %u queue "
	       "pair(s), mtu %u",
	       dev->path, c->mac[0], c->mac[1], c->mac[2], c->mac[3], c->mac[4], c->mac[5],
	       c->status & VIRTIO_NET_S_LINK_UP ? "up" : "down", c->max_virtqueue_pairs, c->mtu);
}

static const struct vu_devtype vu_net_type = {
	.name = "net",
	.queue_word = "queue pair(s)",
	.rings_per_queue = 2,
	.mq_feature = VIRTIO_NET_F_MQ,
	.config_size = sizeof(struct virtio_net_config),
	.features = vu_net_features,
	.active_queues = vu_net_active_queues,
	.ring_tx = vu_net_ring_tx,
	.ring_role = vu_net_ring_role,
	.drop = vu_net_drop,
	.refill = vu_net_refill,
	.publish = vu_net_publish,
	.config = vu_net_config,
};

static int
vu_parse_mac(struct vhu_port *port, const char *str)
{
	struct rte_ether_addr mac;

	if (rte_ether_unformat_addr(str, &mac) != 0 || !rte_is_valid_assigned_ether_addr(&mac)) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): mac=%s is not a unicast MAC address; give "
			     "XX:XX:XX:XX:XX:XX with the lowest bit of the first byte clear",
			     port->id, port->devstr, str);
		return -EINVAL;
	}
	rte_ether_addr_copy(&mac, &port->mac);
	return 0;
}

/* Read every key into dev; 0 or -EINVAL after naming the key. */
static int
vu_parse(struct vhu_port *port, struct vu_dev *dev, const struct rte_kvargs *kv)
{
	uint64_t queues = 1, qsize = 256, mrg = 1, in_order = 1, packed = 0, server = 0, iommu = 0,
		 indirect = 1, mtu = VU_DEFAULT_MTU;
	const char *path = rte_kvargs_get(kv, "path"), *mac = rte_kvargs_get(kv, "mac");
	int rc;

	if (path == NULL || strlen(path) >= sizeof(dev->path)) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): path= is required, 1..%zu bytes: the backend's "
			     "vhost-user socket, e.g. virtio-user,path=/tmp/vhu0.sock",
			     port->id, port->devstr, sizeof(dev->path) - 1);
		return -EINVAL;
	}
	rc = vhu_port_kvargs_uint(port, kv, "queues", 1, VU_MAX_QP, &queues);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kv, "queue_size", 1, VIRTQ_MAX_SIZE, &qsize);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kv, "mrg_rxbuf", 0, 1, &mrg);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kv, "in_order", 0, 1, &in_order);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kv, "packed_vq", 0, 1, &packed);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kv, "server", 0, 1, &server);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kv, "iommu", 0, 1, &iommu);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kv, "indirect", 0, 1, &indirect);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kv, "mtu", RTE_ETHER_MIN_MTU, VU_MAX_MTU, &mtu);
	if (rc == 0 && mac != NULL)
		rc = vu_parse_mac(port, mac);
	if (rc != 0)
		return rc;
	if (!packed && !rte_is_power_of_2((uint32_t)qsize)) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): queue_size=%" PRIu64 " is not a power of two, as a "
			     "split ring needs; give a power of two or packed_vq=1",
			     port->id, port->devstr, qsize);
		return -EINVAL;
	}
	snprintf(dev->path, sizeof(dev->path), "%s", path);
	dev->queues = (uint16_t)queues;
	dev->queue_size = (uint16_t)qsize; /* at most VIRTQ_MAX_SIZE */
	dev->want_mrg_rxbuf = mrg != 0;
	dev->want_in_order = in_order != 0;
	dev->want_packed = packed != 0;
	dev->server = server != 0;
	dev->want_iommu = iommu != 0;
	dev->want_indirect = indirect != 0;
	dev->mtu = (uint16_t)mtu;
	dev->mtu_given = rte_kvargs_get(kv, "mtu") != NULL;
	/* Without MRG_RXBUF one buffer holds a whole frame, header included. */
	dev->buf_len = RTE_ALIGN_CEIL(
		RTE_MAX((uint32_t)VU_BUF_LEN,
			sizeof(struct virtio_net_hdr_mrg_rxbuf) + dev->mtu + VU_FRAME_OVERHEAD),
		1024);
	if (dev->want_mrg_rxbuf)
		dev->buf_len = VU_BUF_LEN;
	return 0;
}

/* The pool, empty: its object size decides how much shared memory it needs. */
static struct rte_mempool *
vu_pool_create(struct vhu_port *port, struct vu_dev *dev, uint32_t n)
{
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = (uint16_t)(RTE_PKTMBUF_HEADROOM + dev->buf_len),
		.mbuf_priv_size = 0,
	};
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;

	snprintf(name, sizeof(name), "vu%u_%d", port->id, (int)getpid());
	/* NO_IOVA_CONTIG only lifts the "no object across a page" rule, which would
	 * waste 40% of the area on 4 KB pages: each unit is IOVA-contiguous anyway. */
	mp = rte_mempool_create_empty(name, n, sizeof(struct rte_mbuf) + priv.mbuf_data_room_size,
				      VU_POOL_CACHE, sizeof(priv), port->socket_id,
				      RTE_MEMPOOL_F_NO_IOVA_CONTIG);
	if (mp == NULL)
		return NULL;
	if (rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL) != 0) {
		rte_mempool_free(mp);
		return NULL;
	}
	rte_pktmbuf_pool_init(mp, &priv);
	return mp;
}

static int
vu_create(struct vhu_port *port, const struct rte_kvargs *kvargs)
{
	struct vu_dev *dev = port->priv;
	uint64_t obj, per_unit, ring_bytes;
	char name[64];
	uint32_t n;
	int rc;

	dev->port = port;
	dev->type = &vu_net_type;
	dev->socket_id = port->socket_id;
	rc = vu_parse(port, dev, kvargs);
	if (rc != 0)
		return rc;
	n = RTE_MAX((uint32_t)VU_MBUFS_MIN,
		    (uint32_t)dev->queues * dev->queue_size * VU_MBUFS_PER_ENTRY);
	dev->pool = vu_pool_create(port, dev, n);
	if (dev->pool == NULL) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): cannot create a pool of %u mbufs: %s; give EAL "
			     "more memory (-m)",
			     port->id, port->devstr, n, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	obj = dev->pool->header_size + dev->pool->elt_size + dev->pool->trailer_size;
	per_unit = VU_UNIT_SIZE / obj - 1;
	ring_bytes = vu_rings_bytes(dev);
	snprintf(name, sizeof(name), "vhu-virtio-user-%u", port->id);
	rc = vu_mem_create(&dev->mem, name, ring_bytes,
			   (n + per_unit - 1) / per_unit * VU_UNIT_SIZE, dev->want_iommu);
	if (rc != 0)
		goto free_pool;
	rc = vu_mem_populate(&dev->mem, dev->pool);
	if (rc != 0) {
		VHU_PORT_LOG(ERR, "port %u (%s): cannot place %u mbufs in shared memory: %s",
			     port->id, port->devstr, n, strerror(-rc));
		goto free_mem;
	}
	rte_mempool_obj_iter(dev->pool, rte_pktmbuf_init, NULL);
	rc = vu_rings_alloc(dev);
	if (rc != 0)
		goto free_mem;
	rc = vu_conn_init(dev);
	if (rc != 0)
		goto free_rings;
	port->max_rxq = dev->queues;
	port->max_txq = dev->queues;
	port->mempool = dev->pool;
	snprintf(port->name, sizeof(port->name), "virtio-user:%.51s", dev->path);
	VU_LOG(INFO,
	       "%s: port %u: %" PRIu64 " MB of shared memory on %s in %u region(s), %u "
	       "mbufs of %u bytes",
	       dev->path, port->id, dev->mem.size >> 20,
	       dev->mem.hugepages ? "2 MB hugepages" : "ordinary pages", dev->mem.nregions, n,
	       dev->buf_len);
	return 0;
free_rings:
	vu_rings_free(dev);
free_mem:
	vu_mem_destroy(&dev->mem);
free_pool:
	rte_mempool_free(dev->pool);
	dev->pool = NULL;
	return rc;
}

static void
vu_destroy(struct vhu_port *port)
{
	struct vu_dev *dev = port->priv;

	unsigned int held;

	vu_conn_fini(dev);
	/* Buffers still posted go back to the pool before it goes. */
	vu_rings_free(dev);
	if (port->mempool == dev->pool)
		port->mempool = NULL;
	held = rte_mempool_in_use_count(dev->pool);
	if (held != 0) {
		/* Unmapping would turn the application's next touch of those mbufs
		 * into a crash: keep the memory (a leak, said once) instead. */
		VU_LOG(WARNING,
		       "%s: port %u destroyed while the application holds %u mbufs of "
		       "its shared pool; the pool and its %" PRIu64 " MB stay mapped. Free "
		       "them before detaching the port.",
		       dev->path, port->id, held, dev->mem.size >> 20);
		dev->pool = NULL;
		return;
	}
	rte_mempool_free(dev->pool);
	dev->pool = NULL;
	vu_mem_destroy(&dev->mem);
}

static int
vu_start(struct vhu_port *port)
{
	struct vu_dev *dev = port->priv;

	/* Received mbufs always come from the shared pool, whatever was set. */
	port->mempool = dev->pool;
	return vu_conn_start(dev);
}

static void
vu_stop(struct vhu_port *port)
{
	vu_conn_stop(port->priv);
}

static uint16_t
vu_port_rx_burst(struct vhu_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	return vu_rx_burst(port->priv, queue, pkts, n);
}

static uint16_t
vu_port_tx_burst(struct vhu_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	return vu_tx_burst(port->priv, queue, pkts, n);
}

static bool
vu_link_up(const struct vhu_port *port)
{
	const struct vu_dev *dev = port->priv;

	return __atomic_load_n(&dev->state, __ATOMIC_RELAXED) == VU_RUNNING;
}

static const char *
vu_state_name(enum vu_state s)
{
	switch (s) {
	case VU_DISCONNECTED:
		return "disconnected";
	case VU_HANDSHAKE:
		return "connected, negotiating";
	case VU_IDLE:
		return "connected, stopped";
	case VU_STARTING:
		return "connected, starting";
	case VU_RUNNING:
		return "running";
	case VU_STOPPING:
		return "connected, stopping";
	}
	return "unknown";
}

/* Read back the interrupts the backend sent since last time (lock held). */
static void
vu_read_irqs(struct vu_vq *vq)
{
	uint64_t v;

	if (vq->callfd >= 0 && read(vq->callfd, &v, sizeof(v)) == sizeof(v))
		vq->irqs += v;
}

static void
vu_info_vq(struct vu_vq *vq, char *buf, size_t len, size_t *off)
{
	bool broken = __atomic_load_n(&vq->broken, __ATOMIC_RELAXED);

	vu_read_irqs(vq);
	vhu_port_info_append(buf, len, off, "  %sq %u (virtqueue %u): ", vq->tx ? "tx" : "rx",
			     vq->index / 2, vq->index);
	if (!vq->initialized) {
		vhu_port_info_append(buf, len, off, "not set up\n");
		return;
	}
	vhu_port_info_append(
		buf, len, off,
		"%s, %u entries, avail %u, used %u (device %u), "
		"%u posted, base %u, kicks %" PRIu64 ", interrupts %" PRIu64 ", errors %" PRIu64,
		vq->conf.packed ? "packed" : "split", vq->size,
		__atomic_load_n(&vq->avail_idx, __ATOMIC_RELAXED),
		__atomic_load_n(&vq->last_used, __ATOMIC_RELAXED),
		vq->conf.packed ? 0 : __atomic_load_n(&vq->split.used->idx, __ATOMIC_RELAXED),
		__atomic_load_n(&vq->inflight, __ATOMIC_RELAXED), vq->base,
		__atomic_load_n(&vq->stats.kicks, __ATOMIC_RELAXED), vq->irqs,
		__atomic_load_n(&vq->stats.errors, __ATOMIC_RELAXED));
	if (vq->tx)
		vhu_port_info_append(buf, len, off, ", copies %" PRIu64,
				     __atomic_load_n(&vq->stats.copies, __ATOMIC_RELAXED));
	else
		vhu_port_info_append(buf, len, off, ", nombuf %" PRIu64,
				     __atomic_load_n(&vq->stats.nombuf, __ATOMIC_RELAXED));
	vhu_port_info_append(buf, len, off, ", %s%s%s\n", broken ? "BROKEN: " : "ok",
			     broken ? vq->broken_reason : "", "");
}

static int
vu_features(const struct vhu_port *port, char *buf, size_t len)
{
	struct vu_dev *dev = port->priv;
	uint64_t features;
	size_t off = 0;

	if (len > 0)
		buf[0] = '\0';
	pthread_mutex_lock(&vhu_ctrl_lock);
	/* Features are settled once the rings run; before that they may be an offer. */
	features = dev->state == VU_RUNNING ? dev->features : 0;
	pthread_mutex_unlock(&vhu_ctrl_lock);
	if (features == 0)
		return 0;
	vhu_port_info_append_bits(buf, len, &off, features, vhu_virtio_feature_name);
	return (int)off;
}

static int
vu_info(const struct vhu_port *port, char *buf, size_t len)
{
	struct vu_dev *dev = port->priv;
	const struct virtio_net_config *c = &dev->config.net;
	size_t off = 0;
	uint32_t u, mapped = 0;
	uint16_t i;

	if (len > 0)
		buf[0] = '\0';
	pthread_mutex_lock(&vhu_ctrl_lock);
	vhu_port_info_append(buf, len, &off,
			     "virtio-user %s (%s mode): %s, link %s; %" PRIu64
			     " connection(s), %" PRIu64 " start(s)\n",
			     dev->path, dev->server ? "server" : "client",
			     vu_state_name(dev->state), dev->state == VU_RUNNING ? "up" : "down",
			     dev->connections, dev->starts);
	if (dev->last_error[0] != '\0')
		vhu_port_info_append(buf, len, &off, "  last error: %s\n", dev->last_error);
	vhu_port_info_append(
		buf, len, &off,
		"  memory: %" PRIu64 " MB memfd on %s, %u region(s) "
		"sent by %s; pool of %u mbufs of %u bytes\n",
		dev->mem.size >> 20, dev->mem.hugepages ? "2 MB hugepages" : "ordinary pages",
		dev->mem.nregions,
		dev->pf & VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) ? "ADD_MEM_REG"
									     : "SET_MEM_TABLE",
		dev->pool->size, dev->buf_len);
	vhu_port_info_append(buf, len, &off, "  features ");
	vhu_port_info_append_bits(buf, len, &off, dev->features, vhu_virtio_feature_name);
	vhu_port_info_append(buf, len, &off, "\n  protocol features ");
	vhu_port_info_append_bits(buf, len, &off, dev->pf, vhu_protocol_feature_name);
	vhu_port_info_append(buf, len, &off, "\n");
	if (dev->config_valid)
		vhu_port_info_append(buf, len, &off,
				     "  backend config: mac "
				     "%02x:%02x:%02x:%02x:%02x:%02x, link %s, %u queue pair(s), "
				     "mtu %u\n",
				     c->mac[0], c->mac[1], c->mac[2], c->mac[3], c->mac[4],
				     c->mac[5], c->status & VIRTIO_NET_S_LINK_UP ? "up" : "down",
				     c->max_virtqueue_pairs, c->mtu);
	if (dev->mem.iommu) {
		for (u = 0; u < dev->mem.nunits; u++)
			mapped += (dev->granted[u / 64] >> (u % 64)) & 1;
		vhu_port_info_append(buf, len, &off,
				     "  iommu: IOTLB misses %" PRIu64 ", answered %" PRIu64
				     ", refused %" PRIu64 ", invalidations %" PRIu64
				     ", %u of %u units mapped%s\n",
				     dev->iotlb_misses, dev->iotlb_answered, dev->iotlb_refused,
				     dev->iotlb_invalidates, mapped, dev->mem.nunits,
				     dev->withdrawn ? ", mappings withdrawn" : "");
	}
	for (i = 0; i < 2 * dev->queues; i++)
		vu_info_vq(dev->vq[i], buf, len, &off);
	pthread_mutex_unlock(&vhu_ctrl_lock);
	return (int)off;
}

bool
vhu_virtio_user_is(const struct vhu_port *port)
{
	return port != NULL && port->ops == &virtio_user_ops;
}

int
vhu_virtio_user_stats_get(const struct vhu_port *port, struct vhu_virtio_user_stats *st)
{
	struct vu_dev *dev;
	uint16_t i;

	if (!vhu_virtio_user_is(port) || st == NULL)
		return -EINVAL;
	dev = port->priv;
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&vhu_ctrl_lock);
	st->connected = dev->fd >= 0;
	st->running = dev->state == VU_RUNNING;
	st->connections = dev->connections;
	st->starts = dev->starts;
	st->features = dev->features;
	st->protocol_features = dev->pf;
	st->hugepages = dev->mem.hugepages;
	st->nregions = dev->mem.nregions;
	st->mem_bytes = dev->mem.size;
	st->iotlb_misses = dev->iotlb_misses;
	st->iotlb_answered = dev->iotlb_answered;
	st->iotlb_refused = dev->iotlb_refused;
	st->iotlb_invalidates = dev->iotlb_invalidates;
	for (i = 0; i < 2 * dev->queues; i++) {
		struct vu_vq *vq = dev->vq[i];

		vu_read_irqs(vq);
		st->tx_copies += __atomic_load_n(&vq->stats.copies, __ATOMIC_RELAXED);
		st->kicks += __atomic_load_n(&vq->stats.kicks, __ATOMIC_RELAXED);
		st->errors += __atomic_load_n(&vq->stats.errors, __ATOMIC_RELAXED);
		st->irqs += vq->irqs;
		st->broken_queues += __atomic_load_n(&vq->broken, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&vhu_ctrl_lock);
	return 0;
}

int
vhu_virtio_user_iotlb_withdraw(struct vhu_port *port, bool withdraw)
{
	if (!vhu_virtio_user_is(port))
		return -EINVAL;
	return vu_iotlb_withdraw(port->priv, withdraw);
}

static const char *const virtio_user_keys[] = {
	"path",	  "queues", "queue_size", "mrg_rxbuf", "in_order", "packed_vq",
	"server", "mac",    "iommu",	  "mtu",       "indirect", NULL,
};

static const struct vhu_port_ops virtio_user_ops = {
	.name = "virtio-user",
	.keys = virtio_user_keys,
	.usage = "virtio-user,path=PATH[,queues=1..8 (1)][,queue_size=N (256)][,mrg_rxbuf=0|1 (1)]"
		 "[,in_order=0|1 (1)][,packed_vq=0|1 (0)][,server=0|1 (0)][,mac=XX:XX:XX:XX:XX:XX]"
		 "[,iommu=0|1 (0)][,mtu=68..9600 (1500)][,indirect=0|1 (1)]: a vhost-user "
		 "front-end driving the backend at the UNIX socket PATH (server=1: listening "
		 "on it)",
	.priv_size = sizeof(struct vu_dev),
	.create = vu_create,
	.destroy = vu_destroy,
	.start = vu_start,
	.stop = vu_stop,
	.rx_burst = vu_port_rx_burst,
	.tx_burst = vu_port_tx_burst,
	.link_up = vu_link_up,
	.link_down_hint = "waiting for the vhost-user backend",
	.info = vu_info,
	.features = vu_features,
};

VHU_PORT_DRIVER_REGISTER(virtio_user_ops)
