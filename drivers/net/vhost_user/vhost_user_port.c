/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port driver "vhost-user": a port over a vhu vhost-user backend device
 * (lib/vhost), with the keys of DPDK's net_vhost where they overlap:
 *
 *     vhost-user,iface=PATH[,queues=1..16][,client=0|1][,mtu=N][,mac=XX:XX:XX:XX:XX:XX]
 *                [,iommu-support=0|1][,csum=0|1][,tso=0|1][,burst-cycles=0|1]
 *
 * Port rx queue q is the guest's transmit queue of pair q (what the guest
 * sends, we receive) and port tx queue q its receive queue. The backend
 * copies packets, so tx frees the mbufs it placed. The link follows the
 * backend's lifecycle callbacks (up on device_ready, down when it stops).
 *
 * burst-cycles=1 counts the TSC cycles inside each call into the backend
 * (vhu_vhost_enqueue_burst, vhu_vhost_dequeue_burst), as the LD_PRELOAD
 * interposer test/perf/vhost_burst_cycles.c counts them around DPDK's
 * rte_vhost bursts: the same boundary in both applications, so that the two
 * backends' cost per packet compare (vhu_vhost_user_port_burst_cycles()).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>

#include "vhu_port.h"
#include "vhu_vhost.h"
#include "vhu_vhost_user_port.h"

/* One queue's burst counts in one direction; written by the queue's lcore alone. */
struct vhost_user_queue_cycles {
	struct vhu_vhost_user_burst_cycles enq; /* port tx queue: into the guest */
	struct vhu_vhost_user_burst_cycles deq; /* port rx queue: from the guest */
} __rte_cache_aligned;

struct vhost_user_port {
	struct vhu_vhost_dev *dev; /* the backend device, from create to destroy */
	bool link;		   /* device_ready called, device_stopping not since (atomic) */
	bool burst_cycles;	   /* burst-cycles=1: count cycles inside the bursts */
	uint64_t stall_cycles;	   /* a call longer than this many TSC cycles is stalled */
	/* Per queue, since the port was made (burst_cycles only). */
	struct vhost_user_queue_cycles cycles[VHU_PORT_MAX_QUEUES];
};

static const struct vhu_port_ops vhost_user_ops;

/* Lifecycle callbacks: on the control thread; destroy waits for one running. */
static void
vhost_user_set_link(struct vhu_port *port, bool up, const char *why)
{
	struct vhost_user_port *vp = port->priv;

	/* Relaxed: link_up readers only display it; the bursts need no link. */
	__atomic_store_n(&vp->link, up, __ATOMIC_RELAXED);
	VHU_PORT_LOG(INFO, "port %u (%s): %s", port->id, port->devstr, why);
}

static void
vhost_user_on_ready(void *arg, struct vhu_vhost_dev *dev)
{
	vhost_user_set_link(arg, true, "the front-end started the device");
}

static void
vhost_user_on_stopping(void *arg, struct vhu_vhost_dev *dev)
{
	vhost_user_set_link(arg, false, "the front-end stopped the device");
}

static void
vhost_user_on_closed(void *arg, struct vhu_vhost_dev *dev)
{
	vhost_user_set_link(arg, false, "the front-end disconnected");
}

static const struct vhu_vhost_callbacks vhost_user_callbacks = {
	.device_ready = vhost_user_on_ready,
	.device_stopping = vhost_user_on_stopping,
	.connection_closed = vhost_user_on_closed,
};

static int
vhost_user_parse_mac(struct vhu_port *port, const char *str, struct vhu_vhost_config *cfg)
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
	memcpy(cfg->mac, mac.addr_bytes, sizeof(cfg->mac));
	return 0;
}

static int
vhost_user_create(struct vhu_port *port, const struct rte_kvargs *kvargs)
{
	struct vhost_user_port *vp = port->priv;
	struct vhu_vhost_config cfg = {0};
	uint64_t queues = 1, client = 0, mtu = 0, iommu = 0, csum = 0, tso = 0, burst_cycles = 0;
	const char *str;
	int rc;

	cfg.path = rte_kvargs_get(kvargs, "iface");
	if (cfg.path == NULL) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): iface= is required; give the vhost-user socket "
			     "path, e.g. vhost-user,iface=/tmp/vhu0.sock",
			     port->id, port->devstr);
		return -EINVAL;
	}
	rc = vhu_port_kvargs_uint(port, kvargs, "queues", 1,
				  RTE_MIN(vhu_vhost_max_queue_pairs(), VHU_PORT_MAX_QUEUES),
				  &queues);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kvargs, "client", 0, 1, &client);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kvargs, "mtu", RTE_ETHER_MIN_MTU, UINT16_MAX, &mtu);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kvargs, "iommu-support", 0, 1, &iommu);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kvargs, "csum", 0, 1, &csum);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kvargs, "tso", 0, 1, &tso);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kvargs, "burst-cycles", 0, 1, &burst_cycles);
	if (rc != 0)
		return rc;
	str = rte_kvargs_get(kvargs, "mac");
	if (str != NULL) {
		rc = vhost_user_parse_mac(port, str, &cfg);
		if (rc != 0)
			return rc;
	}
	vp->burst_cycles = burst_cycles != 0;
	/* Without a TSC rate nothing is set apart (as the interposer does). */
	vp->stall_cycles = rte_get_tsc_hz() != 0 ? rte_get_tsc_hz() / VHU_VHOST_USER_STALL_PER_SEC
						 : UINT64_MAX;
	cfg.queue_pairs = queues;
	cfg.flags = (client != 0 ? VHU_VHOST_CLIENT : 0) |
		    (iommu != 0 ? VHU_VHOST_IOMMU_SUPPORT : 0) | (csum != 0 ? VHU_VHOST_CSUM : 0) |
		    (tso != 0 ? VHU_VHOST_TSO : 0);
	cfg.mtu = mtu;
	cfg.callbacks = &vhost_user_callbacks;
	cfg.callback_arg = port;
	vp->dev = vhu_vhost_create(&cfg);
	if (vp->dev == NULL) {
		rc = -rte_errno;
		VHU_PORT_LOG(ERR, "port %u (%s): cannot %s vhost-user socket %s: %s", port->id,
			     port->devstr, client != 0 ? "connect to" : "listen on", cfg.path,
			     rte_strerror(rte_errno));
		return rc;
	}
	port->max_rxq = queues;
	port->max_txq = queues;
	/* TCP and UDP checksums asked for are handed to the guest, or finished here. */
	port->tx_offloads = RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	snprintf(port->name, sizeof(port->name), "vhost-user:%s", cfg.path);
	return 0;
}

static void
vhost_user_destroy(struct vhu_port *port)
{
	struct vhost_user_port *vp = port->priv;

	vhu_vhost_destroy(vp->dev);
	vp->dev = NULL;
}

static int
vhost_user_start(struct vhu_port *port)
{
	if (port->mempool == NULL) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): receiving needs a mempool; attach the port with "
			     "one",
			     port->id, port->devstr);
		return -EINVAL;
	}
	return 0;
}

static uint16_t
vhost_user_rx_burst(struct vhu_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vhost_user_port *vp = port->priv;
	uint64_t start;
	uint16_t nb;

	if (likely(!vp->burst_cycles))
		return vhu_vhost_dequeue_burst(vp->dev, queue, port->mempool, pkts, n);
	start = rte_rdtsc();
	nb = vhu_vhost_dequeue_burst(vp->dev, queue, port->mempool, pkts, n);
	vhu_vhost_user_burst_count(&vp->cycles[queue].deq, nb, rte_rdtsc() - start,
				   vp->stall_cycles);
	return nb;
}

static uint16_t
vhost_user_tx_burst(struct vhu_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vhost_user_port *vp = port->priv;
	uint16_t nb;

	/* One test of the flag a call, as in vhost_user_rx_burst(). */
	if (likely(!vp->burst_cycles)) {
		nb = vhu_vhost_enqueue_burst(vp->dev, queue, pkts, n);
	} else {
		uint64_t start = rte_rdtsc();

		nb = vhu_vhost_enqueue_burst(vp->dev, queue, pkts, n);
		/* The free below is the application's mbuf work, outside the
		 * boundary as in net_vhost. */
		vhu_vhost_user_burst_count(&vp->cycles[queue].enq, nb, rte_rdtsc() - start,
					   vp->stall_cycles);
	}
	/* The backend copied them into guest buffers: the mbufs are ours to free. */
	if (nb != 0)
		rte_pktmbuf_free_bulk(pkts, nb);
	return nb;
}

static void
vhost_user_tx_flush(struct vhu_port *port, uint16_t queue)
{
	struct vhost_user_port *vp = port->priv;

	vhu_vhost_enqueue_flush(vp->dev, queue);
}

static bool
vhost_user_link_up(const struct vhu_port *port)
{
	const struct vhost_user_port *vp = port->priv;

	return __atomic_load_n(&vp->link, __ATOMIC_RELAXED);
}

static const char *
vhost_user_conn_name(enum vhu_vhost_conn_state conn)
{
	switch (conn) {
	case VHU_VHOST_LISTENING:
		return "listening, waiting for a front-end";
	case VHU_VHOST_CONNECTING:
		return "connecting to the front-end";
	case VHU_VHOST_CONNECTED:
		return "connected";
	}
	return "unknown";
}

static int
vhost_user_features(const struct vhu_port *port, char *buf, size_t len)
{
	const struct vhost_user_port *vp = port->priv;
	struct vhu_vhost_info info;
	size_t off = 0;
	int rc;

	if (len > 0)
		buf[0] = '\0';
	rc = vhu_vhost_get_info(vp->dev, &info);
	if (rc != 0 || info.features == 0)
		return rc;
	vhu_port_info_append_bits(buf, len, &off, info.features, vhu_virtio_feature_name);
	return (int)off;
}

static int
vhost_user_info(const struct vhu_port *port, char *buf, size_t len)
{
	const struct vhost_user_port *vp = port->priv;
	struct vhu_vhost_vq_info vqi;
	struct vhu_vhost_info info;
	size_t off = 0;
	unsigned int i;
	int rc;

	if (len > 0)
		buf[0] = '\0';
	rc = vhu_vhost_get_info(vp->dev, &info);
	if (rc != 0)
		return rc;
	vhu_port_info_append(buf, len, &off,
			     "vhost-user %s: %s, %s, %" PRIu64 " front-end connection(s) so far\n",
			     vhu_vhost_path(vp->dev), vhost_user_conn_name(info.conn),
			     info.running ? "running" : "not running", info.connections);
	vhu_port_info_append(buf, len, &off, "  features ");
	vhu_port_info_append_bits(buf, len, &off, info.features, vhu_virtio_feature_name);
	vhu_port_info_append(buf, len, &off, "\n  protocol features ");
	vhu_port_info_append_bits(buf, len, &off, info.protocol_features, vhu_protocol_feature_name);
	vhu_port_info_append(buf, len, &off,
			     "\n  status 0x%02x, %u memory region(s), %" PRIu64 " bytes\n",
			     info.status, info.nr_regions, info.mem_bytes);
	for (i = 0; i < info.nr_vqs && vhu_vhost_get_vq_info(vp->dev, i, &vqi) == 0; i++) {
		const struct vhu_vhost_vq_info *vq = &vqi;

		/* Even virtqueues are the guest's receive queues, odd ones its transmit queues. */
		vhu_port_info_append(
			buf, len, &off,
			"  vq %u (guest %s %u): %s %s %s %s, %s, size %u, last_avail "
			"%u, avail_idx %u, used_idx %u, errors %" PRIu64 "%s%s\n",
			i, i % 2 == 0 ? "rx" : "tx", i / 2, vq->enabled ? "enabled" : "disabled",
			vq->started ? "started" : "stopped", vq->ready ? "ready" : "not-ready",
			vq->broken ? "BROKEN" : "ok", vq->packed ? "packed" : "split", vq->size,
			vq->last_avail, vq->avail_idx, vq->used_idx, vq->errors,
			vq->broken ? ": " : "", vq->broken ? vq->broken_reason : "");
	}
	return (int)off;
}

/*
 * The backend counts per virtqueue what it could not deliver. Port rx queue q
 * is the guest's transmit virtqueue 2q + 1, port tx queue q its receive
 * virtqueue 2q (vhost_user_info() below).
 */
static void
vhost_user_queue_stats(const struct vhu_port *port, struct vhu_port_stats *qs)
{
	const struct vhost_user_port *vp = port->priv;
	struct vhu_vhost_vq_info vqi;
	struct vhu_vhost_info info;
	unsigned int i;

	if (vhu_vhost_get_info(vp->dev, &info) != 0)
		return;
	for (i = 0; i < info.nr_vqs && vhu_vhost_get_vq_info(vp->dev, i, &vqi) == 0; i++) {
		const struct vhu_vhost_vq_info *vq = &vqi;
		struct vhu_port_stats *q = &qs[i / 2];

		if (i / 2 >= VHU_PORT_MAX_QUEUES)
			break;
		if (i % 2 == 1) {
			q->rx.errors += vq->errors + vq->bad_hdr;
			q->rx.nombuf += vq->nombuf;
		} else {
			q->tx.errors += vq->errors;
		}
	}
}

/* Appends one statistic when there is room; counts it either way. */
static void __rte_format_printf(5, 6)
	vhost_user_xstat(struct vhu_port_xstat *xs, unsigned int n, unsigned int *count,
			 uint64_t value, const char *fmt, ...)
{
	va_list ap;

	if (*count < n) {
		va_start(ap, fmt);
		vsnprintf(xs[*count].name, sizeof(xs[*count].name), fmt, ap);
		va_end(ap);
		xs[*count].value = value;
	}
	(*count)++;
}

/* Errors by kind, per queue, named from the port's side as the generic ones are. */
static int
vhost_user_xstats(const struct vhu_port *port, struct vhu_port_xstat *xs, unsigned int n)
{
	const struct vhost_user_port *vp = port->priv;
	struct vhu_vhost_vq_info vqi;
	struct vhu_vhost_info info;
	unsigned int i, count = 0;
	int rc;

	rc = vhu_vhost_get_info(vp->dev, &info);
	if (rc != 0)
		return rc;
	for (i = 0; i < info.nr_vqs && vhu_vhost_get_vq_info(vp->dev, i, &vqi) == 0; i++) {
		const struct vhu_vhost_vq_info *vq = &vqi;
		unsigned int q = i / 2;

		if (i % 2 == 1) {
			vhost_user_xstat(xs, n, &count, vq->errors, "rx_q%u_guest_errors", q);
			vhost_user_xstat(xs, n, &count, vq->bad_hdr, "rx_q%u_bad_virtio_hdr", q);
			vhost_user_xstat(xs, n, &count, vq->nombuf, "rx_q%u_nombuf_bursts", q);
			vhost_user_xstat(xs, n, &count, vq->notify, "rx_q%u_guest_notifications",
					 q);
			vhost_user_xstat(xs, n, &count, vq->broken, "rx_q%u_broken", q);
		} else {
			vhost_user_xstat(xs, n, &count, vq->errors, "tx_q%u_guest_errors", q);
			vhost_user_xstat(xs, n, &count, vq->notify, "tx_q%u_guest_notifications",
					 q);
			vhost_user_xstat(xs, n, &count, vq->broken, "tx_q%u_broken", q);
		}
	}
	vhost_user_xstat(xs, n, &count, info.connections, "vhost_connections");
	vhost_user_xstat(xs, n, &count, info.iotlb_misses, "vhost_iotlb_misses");
	vhost_user_xstat(xs, n, &count, info.iotlb_updates, "vhost_iotlb_updates");
	vhost_user_xstat(xs, n, &count, info.iotlb_invalidations, "vhost_iotlb_invalidations");
	return (int)count;
}

static void
vhost_user_add_cycles(struct vhu_vhost_user_burst_cycles *sum,
		      const struct vhu_vhost_user_burst_cycles *c)
{
	sum->cycles += __atomic_load_n(&c->cycles, __ATOMIC_RELAXED);
	sum->packets += __atomic_load_n(&c->packets, __ATOMIC_RELAXED);
	sum->calls += __atomic_load_n(&c->calls, __ATOMIC_RELAXED);
	sum->empty_calls += __atomic_load_n(&c->empty_calls, __ATOMIC_RELAXED);
	sum->empty_cycles += __atomic_load_n(&c->empty_cycles, __ATOMIC_RELAXED);
	sum->stalled_calls += __atomic_load_n(&c->stalled_calls, __ATOMIC_RELAXED);
	sum->stalled_packets += __atomic_load_n(&c->stalled_packets, __ATOMIC_RELAXED);
	sum->stalled_cycles += __atomic_load_n(&c->stalled_cycles, __ATOMIC_RELAXED);
}

int
vhu_vhost_user_port_burst_cycles(const struct vhu_port *port,
				 struct vhu_vhost_user_burst_cycles *enq,
				 struct vhu_vhost_user_burst_cycles *deq)
{
	const struct vhost_user_port *vp;
	unsigned int q;

	if (port == NULL || port->ops != &vhost_user_ops || enq == NULL || deq == NULL)
		return -EINVAL;
	vp = port->priv;
	if (!vp->burst_cycles)
		return -ENOTSUP;
	memset(enq, 0, sizeof(*enq));
	memset(deq, 0, sizeof(*deq));
	for (q = 0; q < VHU_PORT_MAX_QUEUES; q++) {
		vhost_user_add_cycles(enq, &vp->cycles[q].enq);
		vhost_user_add_cycles(deq, &vp->cycles[q].deq);
	}
	return 0;
}

struct vhu_vhost_dev *
vhu_vhost_user_port_dev(const struct vhu_port *port)
{
	const struct vhost_user_port *vp;

	if (port == NULL || port->ops != &vhost_user_ops)
		return NULL;
	vp = port->priv;
	return vp->dev;
}

static const char *const vhost_user_keys[] = {
	"iface",	 "queues", "client", "mtu",	     "mac",
	"iommu-support", "csum",   "tso",    "burst-cycles", NULL,
};

static const struct vhu_port_ops vhost_user_ops = {
	.name = "vhost-user",
	.keys = vhost_user_keys,
	.usage = "vhost-user,iface=PATH[,queues=1..16][,client=0|1][,mtu=68..65535][,mac=MAC]"
		 "[,iommu-support=0|1][,csum=0|1][,tso=0|1][,burst-cycles=0|1]",
	.priv_size = sizeof(struct vhost_user_port),
	.create = vhost_user_create,
	.destroy = vhost_user_destroy,
	.start = vhost_user_start,
	.rx_burst = vhost_user_rx_burst,
	.tx_burst = vhost_user_tx_burst,
	.tx_flush = vhost_user_tx_flush,
	.link_up = vhost_user_link_up,
	.link_down_hint = "waiting for front-end",
	.info = vhost_user_info,
	.features = vhost_user_features,
	.queue_stats = vhost_user_queue_stats,
	.xstats = vhost_user_xstats,
};

VHU_PORT_DRIVER_REGISTER(vhost_user_ops)
