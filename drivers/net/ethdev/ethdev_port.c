/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port driver "ethdev": any DPDK ethdev as a vhu port, so that vhu-pmd can
 * forward between a VM and a NIC, the host kernel (net_tap, net_af_packet),
 * a capture file (net_pcap) or a sink and source at line rate (net_null).
 *
 *     ethdev,dev=NAME[,KEY=VALUE...]   a virtual device made from its devargs:
 *                                      every key this driver does not know is
 *                                      the device's, e.g. ethdev,dev=net_tap0,iface=vhu0
 *     ethdev,pci=DOMAIN:BUS:DEV.FN     a PCI device (probed by EAL, or here)
 *     ethdev,port=N                    DPDK port N, which EAL probed (--vdev, -a)
 *
 * with the driver's own keys rxd=, txd= (descriptors per queue), mtu=,
 * promisc=0|1 and mac=. A device this driver probed is removed with the port;
 * one EAL probed is only stopped, so that it can be attached again.
 *
 * The device is configured at every start, with the port's queue counts and
 * mbuf pool, so that both may change while the port is stopped. Checksum,
 * TSO, scatter and multi-segment offloads the device offers are turned on and
 * published in port->rx_offloads and port->tx_offloads; IPv4, TCP and UDP
 * checksums a packet asks for and the device cannot compute are finished in
 * software before it is sent (a TSO packet goes to the device as it is).
 *
 * Failures are reported naming the port and what to change; a device string
 * or a configuration the device refuses is -EINVAL (a usage error to vhu-pmd).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>

#include "vhu_port.h"

/* Descriptors per queue unless rxd=/txd= say otherwise (within the device's limits). */
#define ETHDEV_DESC_DEFAULT 1024
/* Offload requests in an mbuf's ol_flags that send a burst down the slow path. */
#define ETHDEV_TX_OFFLOAD_FLAGS                                                                    \
	(RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG)
/* Room for the devargs of a virtual device: its name and its keys. */
#define ETHDEV_DEVARGS_LEN 512

/* Offloads turned on wherever the device offers them. */
#define ETHDEV_RX_OFFLOADS (RTE_ETH_RX_OFFLOAD_CHECKSUM | RTE_ETH_RX_OFFLOAD_SCATTER)
#define ETHDEV_TX_OFFLOADS                                                                         \
	(RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |                            \
	 RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_TSO |                               \
	 RTE_ETH_TX_OFFLOAD_MULTI_SEGS)

struct ethdev_port {
	uint16_t pid;		   /* the DPDK port id */
	struct rte_device *rdev;   /* its device, for removal */
	bool probed;		   /* this driver probed the device: remove it at destroy */
	bool promisc;		   /* promisc= (default on, as dpdk-testpmd) */
	bool mac_given;		   /* mac= was given: set it at start */
	uint16_t mtu;		   /* mtu=, or 0 to leave the device's */
	uint16_t nb_rxd;	   /* descriptors per rx queue, adjusted to the device at start */
	uint16_t nb_txd;	   /* descriptors per tx queue, adjusted to the device at start */
	struct rte_ether_addr mac; /* mac= */
	/* RTE_MBUF_F_TX_* checksum requests the device carries out (the rest: ethdev_tx_csum_sw).
	 */
	uint64_t tx_flags_done;
	/* Device counters when the port was made, so that the port's start at zero. */
	struct rte_eth_stats base;
	char devname[RTE_ETH_NAME_MAX_LEN]; /* the ethdev's name, e.g. "net_tap0" */
};

/* DPDK ports some vhu port drives; one vhu port per ethdev. Control thread only. */
static bool ethdev_in_use[RTE_MAX_ETHPORTS];

/* This driver's own keys; any other key after dev= belongs to the device. */
static const char *const ethdev_keys[] = {"dev", "pci",	    "port", "rxd", "txd",
					  "mtu", "promisc", "mac",  NULL};

static bool
ethdev_own_key(const char *key)
{
	unsigned int i;

	for (i = 0; ethdev_keys[i] != NULL; i++) {
		if (strcmp(ethdev_keys[i], key) == 0)
			return true;
	}
	return false;
}

/*
 * The devargs of dev=NAME: "NAME,KEY=VALUE,..." with every key not this
 * driver's, in the order given. Returns how many such keys there are, or -EINVAL.
 */
static int
ethdev_devargs(const struct vhu_port *port, const struct rte_kvargs *kv, const char *name,
	       char *buf, size_t len)
{
	size_t off = 0;
	unsigned int i;
	int n = 0;

	vhu_port_info_append(buf, len, &off, "%s", name);
	for (i = 0; i < kv->count; i++) {
		if (ethdev_own_key(kv->pairs[i].key))
			continue;
		vhu_port_info_append(buf, len, &off, ",%s=%s", kv->pairs[i].key,
				     kv->pairs[i].value);
		n++;
	}
	if (off >= len) {
		VHU_PORT_LOG(ERR, "port %u (%s): the device's arguments are longer than %zu bytes",
			     port->id, port->devstr, len - 1);
		return -EINVAL;
	}
	return n;
}

/*
 * net_tap and net_tun would attach to an existing interface of the same name
 * (as one more queue of it) or fail obscurely: refuse a name in use up front.
 */
static int
ethdev_check_iface(const struct vhu_port *port, const char *name, const struct rte_kvargs *kv)
{
	const char *iface = rte_kvargs_get(kv, "iface");

	if (strncmp(name, "net_tap", 7) != 0 && strncmp(name, "net_tun", 7) != 0)
		return 0;
	if (iface == NULL || if_nametoindex(iface) == 0)
		return 0;
	VHU_PORT_LOG(ERR,
		     "port %u (%s): the host already has an interface named '%s'; choose "
		     "another iface= (or delete it: ip link del %s)",
		     port->id, port->devstr, iface, iface);
	return -EINVAL;
}

/* Probe 'devargs', whose ethdev is called 'name', into ep->pid. 0 or -EINVAL, logged. */
static int
ethdev_probe(struct vhu_port *port, struct ethdev_port *ep, const char *name, const char *devargs,
	     const char *hint)
{
	int rc = rte_dev_probe(devargs);

	if (rc < 0) {
		VHU_PORT_LOG(ERR, "port %u (%s): cannot probe device '%s': %s; %s", port->id,
			     port->devstr, devargs, rte_strerror(-rc), hint);
		return -EINVAL;
	}
	if (rte_eth_dev_get_port_by_name(name, &ep->pid) != 0) {
		struct rte_dev_iterator it;
		uint16_t pid;

		/* A PCI device may name its ethdev differently: find it by its devargs. */
		RTE_ETH_FOREACH_MATCHING_DEV(pid, devargs, &it)
		{
			ep->pid = pid;
			rte_eth_iterator_cleanup(&it);
			ep->probed = true;
			return 0;
		}
		VHU_PORT_LOG(ERR,
			     "port %u (%s): device '%s' was probed but is not a network device "
			     "(no ethdev named '%s'); give a net_* device",
			     port->id, port->devstr, devargs, name);
		return -EINVAL;
	}
	ep->probed = true;
	return 0;
}

/* dev=NAME: the device EAL made from --vdev NAME, or a new one from its devargs. */
static int
ethdev_find_vdev(struct vhu_port *port, struct ethdev_port *ep, const struct rte_kvargs *kv,
		 const char *name)
{
	char devargs[ETHDEV_DEVARGS_LEN];
	int n, rc;

	if (name[0] == '\0' || strpbrk(name, " =:/") != NULL) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): dev=%s is not a device name; give a DPDK virtual "
			     "device such as net_tap0, net_pcap0 or net_null0",
			     port->id, port->devstr, name);
		return -EINVAL;
	}
	n = ethdev_devargs(port, kv, name, devargs, sizeof(devargs));
	if (n < 0)
		return n;
	if (rte_eth_dev_get_port_by_name(name, &ep->pid) == 0) {
		if (n == 0)
			return 0;
		VHU_PORT_LOG(ERR,
			     "port %u (%s): device '%s' exists already (EAL's --vdev or another "
			     "port made it), so its keys cannot apply; give another dev= name, "
			     "or port=%u without the device's keys",
			     port->id, port->devstr, name, ep->pid);
		return -EINVAL;
	}
	rc = ethdev_check_iface(port, name, kv);
	if (rc != 0)
		return rc;
	return ethdev_probe(port, ep, name, devargs,
			    "check the device's name and keys (DPDK's guide to the device "
			    "lists them), and the messages above");
}

/* pci=ADDR: the ethdev EAL probed at that address, or one probed now. */
static int
ethdev_find_pci(struct vhu_port *port, struct ethdev_port *ep, const char *addr)
{
	if (rte_eth_dev_get_port_by_name(addr, &ep->pid) == 0)
		return 0;
	return ethdev_probe(port, ep, addr, addr,
			    "give DOMAIN:BUS:DEVICE.FUNCTION of a NIC bound to a DPDK-capable "
			    "kernel driver (vfio-pci: see dpdk-devbind.py --status)");
}

/* port=N: a DPDK port that exists. */
static int
ethdev_find_port(struct vhu_port *port, struct ethdev_port *ep, const struct rte_kvargs *kv)
{
	uint64_t pid = 0;
	int rc;

	rc = vhu_port_kvargs_uint(port, kv, "port", 0, RTE_MAX_ETHPORTS - 1, &pid);
	if (rc != 0)
		return rc;
	if (!rte_eth_dev_is_valid_port((uint16_t)pid)) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): there is no DPDK port %" PRIu64 " (DPDK has %u); "
			     "give EAL the device (--vdev, -a) or use dev=/pci=",
			     port->id, port->devstr, pid, rte_eth_dev_count_avail());
		return -EINVAL;
	}
	ep->pid = (uint16_t)pid;
	return 0;
}

/* Exactly one of dev=, pci=, port=: the device into ep->pid. */
static int
ethdev_find(struct vhu_port *port, struct ethdev_port *ep, const struct rte_kvargs *kv)
{
	const char *dev = rte_kvargs_get(kv, "dev");
	const char *pci = rte_kvargs_get(kv, "pci");
	bool by_port = rte_kvargs_get(kv, "port") != NULL;
	unsigned int i;

	if ((dev != NULL) + (pci != NULL) + by_port != 1) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): give exactly one of dev=NAME (a virtual device), "
			     "pci=ADDRESS or port=N (a DPDK port)",
			     port->id, port->devstr);
		return -EINVAL;
	}
	if (dev == NULL) {
		for (i = 0; i < kv->count; i++) {
			if (ethdev_own_key(kv->pairs[i].key))
				continue;
			VHU_PORT_LOG(ERR,
				     "port %u (%s): key '%s' is not the ethdev driver's, and "
				     "only a device made with dev= takes the device's own keys",
				     port->id, port->devstr, kv->pairs[i].key);
			return -EINVAL;
		}
	}
	if (dev != NULL)
		return ethdev_find_vdev(port, ep, kv, dev);
	if (pci != NULL)
		return ethdev_find_pci(port, ep, pci);
	return ethdev_find_port(port, ep, kv);
}

/* rxd= or txd= into *val, within the device's limits. */
static int
ethdev_desc(const struct vhu_port *port, const struct rte_kvargs *kv, const char *key,
	    const struct rte_eth_desc_lim *lim, uint16_t *val)
{
	uint64_t n = ETHDEV_DESC_DEFAULT;
	int rc;

	rc = vhu_port_kvargs_uint(port, kv, key, RTE_MAX(lim->nb_min, 1), lim->nb_max, &n);
	if (rc != 0)
		return rc;
	if (lim->nb_align > 1 && n % lim->nb_align != 0 && rte_kvargs_get(kv, key) != NULL) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): %s=%" PRIu64 " is not a multiple of %u, which "
			     "the device needs",
			     port->id, port->devstr, key, n, lim->nb_align);
		return -EINVAL;
	}
	*val = (uint16_t)RTE_MIN(n, lim->nb_max);
	return 0;
}

/* The driver's keys that tune the device, checked against what it offers. */
static int
ethdev_parse(struct vhu_port *port, struct ethdev_port *ep, const struct rte_kvargs *kv,
	     const struct rte_eth_dev_info *info)
{
	uint64_t mtu = 0, promisc = 1;
	const char *str;
	int rc;

	rc = ethdev_desc(port, kv, "rxd", &info->rx_desc_lim, &ep->nb_rxd);
	if (rc == 0)
		rc = ethdev_desc(port, kv, "txd", &info->tx_desc_lim, &ep->nb_txd);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kv, "mtu",
					  RTE_MAX(info->min_mtu, RTE_ETHER_MIN_MTU), info->max_mtu,
					  &mtu);
	if (rc == 0)
		rc = vhu_port_kvargs_uint(port, kv, "promisc", 0, 1, &promisc);
	if (rc != 0)
		return rc;
	ep->mtu = (uint16_t)mtu;
	ep->promisc = promisc != 0;
	str = rte_kvargs_get(kv, "mac");
	if (str != NULL) {
		if (rte_ether_unformat_addr(str, &ep->mac) != 0 ||
		    !rte_is_valid_assigned_ether_addr(&ep->mac)) {
			VHU_PORT_LOG(
				ERR,
				"port %u (%s): mac=%s is not a unicast MAC address; give "
				"XX:XX:XX:XX:XX:XX with the lowest bit of the first byte clear",
				port->id, port->devstr, str);
			return -EINVAL;
		}
		ep->mac_given = true;
	}
	return 0;
}

/* Undo the probe of a device this driver made. */
static void
ethdev_remove(struct ethdev_port *ep)
{
	if (!ep->probed)
		return;
	rte_eth_dev_close(ep->pid);
	if (ep->rdev != NULL)
		rte_dev_remove(ep->rdev);
	ep->probed = false;
}

static int
ethdev_create(struct vhu_port *port, const struct rte_kvargs *kv)
{
	struct ethdev_port *ep = port->priv;
	struct rte_eth_dev_info info;
	int rc, socket;

	rc = ethdev_find(port, ep, kv);
	if (rc != 0)
		return rc;
	rc = rte_eth_dev_get_name_by_port(ep->pid, ep->devname);
	if (rc == 0 && ethdev_in_use[ep->pid]) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): DPDK port %u (%s) is already a vhu port; detach that "
			     "one first",
			     port->id, port->devstr, ep->pid, ep->devname);
		return -EINVAL;
	}
	if (rc == 0)
		rc = rte_eth_dev_info_get(ep->pid, &info);
	if (rc != 0) {
		VHU_PORT_LOG(ERR, "port %u (%s): cannot read DPDK port %u: %s", port->id,
			     port->devstr, ep->pid, rte_strerror(-rc));
		goto remove;
	}
	ep->rdev = info.device;
	rc = ethdev_parse(port, ep, kv, &info);
	if (rc != 0)
		goto remove;
	rte_eth_stats_get(ep->pid, &ep->base);
	port->max_rxq = RTE_MIN(info.max_rx_queues, VHU_PORT_MAX_QUEUES);
	port->max_txq = RTE_MIN(info.max_tx_queues, VHU_PORT_MAX_QUEUES);
	/* The device's socket, so that vhu-pmd gives it a pool there; virtual devices have none. */
	socket = rte_eth_dev_socket_id(ep->pid);
	if (socket >= 0)
		port->socket_id = socket;
	if (ep->mac_given)
		rte_ether_addr_copy(&ep->mac, &port->mac);
	else if (rte_eth_macaddr_get(ep->pid, &port->mac) != 0)
		VHU_PORT_LOG(WARNING, "port %u (%s): the device has no MAC address; using %s",
			     port->id, port->devstr, "the port's own");
	snprintf(port->name, sizeof(port->name), "ethdev:%.*s", (int)sizeof(port->name) - 8,
		 ep->devname);
	ethdev_in_use[ep->pid] = true;
	return 0;

remove:
	ethdev_remove(ep);
	return rc;
}

static void
ethdev_destroy(struct vhu_port *port)
{
	struct ethdev_port *ep = port->priv;

	ethdev_in_use[ep->pid] = false;
	ethdev_remove(ep);
}

/* Log a step of start() the device refused; returns -EINVAL (its configuration is wrong). */
static int
ethdev_refused(const struct vhu_port *port, int rc, const char *what, const char *hint)
{
	VHU_PORT_LOG(ERR, "port %u (%s): the device refuses %s: %s; %s", port->id, port->devstr,
		     what, rte_strerror(-rc), hint);
	return -EINVAL;
}

/* Configure the device for the port's queues, pool and keys. 0 or -EINVAL, logged. */
static int
ethdev_configure(struct vhu_port *port, struct ethdev_port *ep)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	char what[64];
	uint16_t q;
	int rc;

	rc = rte_eth_dev_info_get(ep->pid, &info);
	if (rc != 0)
		return ethdev_refused(port, rc, "to tell what it offers", "see the messages above");
	conf.rxmode.offloads = info.rx_offload_capa & ETHDEV_RX_OFFLOADS;
	conf.txmode.offloads = info.tx_offload_capa & ETHDEV_TX_OFFLOADS;
	snprintf(what, sizeof(what), "%u rx and %u tx queues", port->nb_rxq, port->nb_txq);
	rc = rte_eth_dev_configure(ep->pid, port->nb_rxq, port->nb_txq, &conf);
	if (rc != 0)
		return ethdev_refused(port, rc, what, "use fewer with --rxq/--txq");
	if (ep->mtu != 0) {
		snprintf(what, sizeof(what), "mtu=%u", ep->mtu);
		rc = rte_eth_dev_set_mtu(ep->pid, ep->mtu);
		if (rc != 0)
			return ethdev_refused(port, rc, what,
					      "leave mtu= out to keep the device's own");
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(ep->pid, &ep->nb_rxd, &ep->nb_txd);
	if (rc != 0)
		return ethdev_refused(port, rc, "its descriptor counts", "change rxd=/txd=");
	for (q = 0; q < port->nb_rxq; q++) {
		rc = rte_eth_rx_queue_setup(ep->pid, q, ep->nb_rxd, port->socket_id, NULL,
					    port->mempool);
		if (rc != 0)
			return ethdev_refused(port, rc, "an rx queue",
					      "try fewer rxd= or a bigger mbuf pool "
					      "(--total-num-mbufs)");
	}
	for (q = 0; q < port->nb_txq; q++) {
		rc = rte_eth_tx_queue_setup(ep->pid, q, ep->nb_txd, port->socket_id, NULL);
		if (rc != 0)
			return ethdev_refused(port, rc, "a tx queue", "try fewer txd=");
	}
	if (ep->mac_given) {
		rc = rte_eth_dev_default_mac_addr_set(ep->pid, &ep->mac);
		if (rc != 0)
			return ethdev_refused(port, rc, "mac=", "leave mac= out");
	}
	port->rx_offloads = conf.rxmode.offloads;
	port->tx_offloads = conf.txmode.offloads;
	ep->tx_flags_done =
		((port->tx_offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) ? RTE_MBUF_F_TX_IP_CKSUM : 0) |
		((port->tx_offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) &&
				 (port->tx_offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM)
			 ? RTE_MBUF_F_TX_L4_MASK
			 : 0);
	return 0;
}

static int
ethdev_start(struct vhu_port *port)
{
	struct ethdev_port *ep = port->priv;
	int rc;

	if (port->mempool == NULL) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): receiving needs a mempool; attach the port with one",
			     port->id, port->devstr);
		return -EINVAL;
	}
	rc = ethdev_configure(port, ep);
	if (rc != 0)
		return rc;
	rc = rte_eth_dev_start(ep->pid);
	if (rc != 0) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): the device does not start: %s; see the messages "
			     "above",
			     port->id, port->devstr, rte_strerror(-rc));
		return rc;
	}
	rc = ep->promisc ? rte_eth_promiscuous_enable(ep->pid)
			 : rte_eth_promiscuous_disable(ep->pid);
	if (rc != 0 && rc != -ENOTSUP)
		VHU_PORT_LOG(WARNING, "port %u (%s): cannot turn promiscuous mode %s: %s", port->id,
			     port->devstr, ep->promisc ? "on" : "off", rte_strerror(-rc));
	return 0;
}

static void
ethdev_stop(struct vhu_port *port)
{
	struct ethdev_port *ep = port->priv;
	int rc = rte_eth_dev_stop(ep->pid);

	if (rc != 0)
		VHU_PORT_LOG(WARNING, "port %u (%s): the device did not stop cleanly: %s", port->id,
			     port->devstr, rte_strerror(-rc));
}

static uint16_t
ethdev_rx_burst(struct vhu_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	const struct ethdev_port *ep = port->priv;

	return rte_eth_rx_burst(ep->pid, queue, pkts, n);
}

/*
 * Finish in software the checksums packet m asks for (ol_flags) and the
 * device does not compute: a vhost-user port with csum=1 hands on the guest's
 * partial checksums that way. The fields must lie in the first segment (the
 * vhost-user port checks that); a packet whose headers do not fit is left as
 * it is, for the device to send or refuse.
 */
static void
ethdev_tx_csum_sw(struct rte_mbuf *m, uint64_t missing)
{
	uint32_t l3_off = m->l2_len, l4_off = l3_off + m->l3_len;
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;
	uint16_t field = l4 == RTE_MBUF_F_TX_TCP_CKSUM ? 16 : 6;
	uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t *sum;

	if ((missing & RTE_MBUF_F_TX_IP_CKSUM) && (m->ol_flags & RTE_MBUF_F_TX_IPV4) &&
	    l3_off + sizeof(struct rte_ipv4_hdr) <= m->data_len) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(data + l3_off);

		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		m->ol_flags &= ~RTE_MBUF_F_TX_IP_CKSUM;
	}
	if (!(missing & RTE_MBUF_F_TX_L4_MASK) ||
	    (l4 != RTE_MBUF_F_TX_TCP_CKSUM && l4 != RTE_MBUF_F_TX_UDP_CKSUM) ||
	    l4_off + field + 2 > m->data_len)
		return;
	sum = (uint16_t *)(data + l4_off + field);
	*sum = 0;
	if (m->ol_flags & RTE_MBUF_F_TX_IPV4)
		*sum = rte_ipv4_udptcp_cksum_mbuf(m, (struct rte_ipv4_hdr *)(data + l3_off),
						  l4_off);
	else
		*sum = rte_ipv6_udptcp_cksum_mbuf(m, (struct rte_ipv6_hdr *)(data + l3_off),
						  l4_off);
	m->ol_flags &= ~RTE_MBUF_F_TX_L4_MASK;
}

/* The slow path of a burst with offload requests: the ones the device lacks, then its own. */
static uint16_t
ethdev_tx_offloaded(const struct ethdev_port *ep, uint16_t queue, struct rte_mbuf **pkts,
		    uint16_t n)
{
	uint16_t i, nb;

	for (i = 0; i < n; i++) {
		uint64_t missing = pkts[i]->ol_flags & ~ep->tx_flags_done;

		if (missing & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK))
			ethdev_tx_csum_sw(pkts[i], missing);
	}
	/* The device may want headers prepared (pseudo-header sums, lengths) for its offloads. */
	nb = rte_eth_tx_prepare(ep->pid, queue, pkts, n);
	return rte_eth_tx_burst(ep->pid, queue, pkts, nb);
}

static uint16_t
ethdev_tx_burst(struct vhu_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	const struct ethdev_port *ep = port->priv;
	uint64_t flags = 0;
	uint16_t i;

	for (i = 0; i < n; i++)
		flags |= pkts[i]->ol_flags;
	if (unlikely(flags & ETHDEV_TX_OFFLOAD_FLAGS))
		return ethdev_tx_offloaded(ep, queue, pkts, n);
	return rte_eth_tx_burst(ep->pid, queue, pkts, n);
}

static bool
ethdev_link_up(const struct vhu_port *port)
{
	const struct ethdev_port *ep = port->priv;
	struct rte_eth_link link;

	return port->started && rte_eth_link_get_nowait(ep->pid, &link) == 0 &&
	       link.link_status == RTE_ETH_LINK_UP;
}

/* The device's drop and error counters (its packet counts are the port layer's). */
static void
ethdev_queue_stats(const struct vhu_port *port, struct vhu_port_stats *qs)
{
	const struct ethdev_port *ep = port->priv;
	struct rte_eth_stats s;

	if (rte_eth_stats_get(ep->pid, &s) != 0)
		return;
	qs[0].rx.drops += s.imissed - ep->base.imissed;
	qs[0].rx.errors += s.ierrors - ep->base.ierrors;
	qs[0].rx.nombuf += s.rx_nombuf - ep->base.rx_nombuf;
	qs[0].tx.errors += s.oerrors - ep->base.oerrors;
}

/* The device's extended statistics, named "dev_<its name>" in telemetry's alphabet. */
static int
ethdev_xstats(const struct vhu_port *port, struct vhu_port_xstat *xs, unsigned int n)
{
	const struct ethdev_port *ep = port->priv;
	struct rte_eth_xstat_name *names;
	struct rte_eth_xstat *values;
	int count, i, rc;
	char *c;

	count = rte_eth_xstats_get_names(ep->pid, NULL, 0);
	if (count <= 0 || n == 0)
		return count;
	names = calloc(count, sizeof(*names));
	values = calloc(count, sizeof(*values));
	rc = -ENOMEM;
	if (names == NULL || values == NULL)
		goto free;
	rc = rte_eth_xstats_get_names(ep->pid, names, count);
	if (rc == count)
		rc = rte_eth_xstats_get(ep->pid, values, count);
	if (rc != count) {
		rc = rc < 0 ? rc : -EAGAIN;
		goto free;
	}
	for (i = 0; i < count && (unsigned int)i < n; i++) {
		/* Long names are cut: the precision keeps the compiler from warning. */
		snprintf(xs[i].name, sizeof(xs[i].name), "dev_%.*s", (int)sizeof(xs[i].name) - 5,
			 names[values[i].id].name);
		for (c = xs[i].name; *c != '\0'; c++) {
			if (!isalnum((unsigned char)*c) && *c != '_')
				*c = '_';
		}
		xs[i].value = values[i].value;
	}
	rc = count;
free:
	free(values);
	free(names);
	return rc;
}

static const char *
ethdev_tx_offload_name(unsigned int bit)
{
	return rte_eth_dev_tx_offload_name(UINT64_C(1) << bit);
}

static const char *
ethdev_rx_offload_name(unsigned int bit)
{
	return rte_eth_dev_rx_offload_name(UINT64_C(1) << bit);
}

static int
ethdev_info(const struct vhu_port *port, char *buf, size_t len)
{
	const struct ethdev_port *ep = port->priv;
	struct rte_eth_dev_info info;
	struct rte_eth_link link;
	char linktext[RTE_ETH_LINK_MAX_STR_LEN];
	uint16_t mtu = 0;
	size_t off = 0;
	int rc;

	if (len > 0)
		buf[0] = '\0';
	rc = rte_eth_dev_info_get(ep->pid, &info);
	if (rc != 0)
		return rc;
	vhu_port_info_append(buf, len, &off, "DPDK port %u: %s, driver %s, socket %d, %s\n",
			     ep->pid, ep->devname, info.driver_name, rte_eth_dev_socket_id(ep->pid),
			     ep->probed ? "probed by this port" : "probed by EAL");
	if (rte_eth_link_get_nowait(ep->pid, &link) == 0 &&
	    rte_eth_link_to_str(linktext, sizeof(linktext), &link) > 0)
		vhu_port_info_append(buf, len, &off, "  %s\n", linktext);
	rte_eth_dev_get_mtu(ep->pid, &mtu);
	vhu_port_info_append(buf, len, &off,
			     "  mtu %u (device allows %u..%u), promiscuous %s, queues: %u rx and "
			     "%u tx of %u, %u descriptors\n",
			     mtu, info.min_mtu, info.max_mtu,
			     rte_eth_promiscuous_get(ep->pid) == 1 ? "on" : "off",
			     info.nb_rx_queues, info.nb_tx_queues, ep->nb_rxd, ep->nb_txd);
	vhu_port_info_append(buf, len, &off, "  rx offloads offered ");
	vhu_port_info_append_bits(buf, len, &off, info.rx_offload_capa, ethdev_rx_offload_name);
	vhu_port_info_append(buf, len, &off, "\n  rx offloads in use ");
	vhu_port_info_append_bits(buf, len, &off, port->rx_offloads, ethdev_rx_offload_name);
	vhu_port_info_append(buf, len, &off, "\n  tx offloads offered ");
	vhu_port_info_append_bits(buf, len, &off, info.tx_offload_capa, ethdev_tx_offload_name);
	vhu_port_info_append(buf, len, &off, "\n  tx offloads in use ");
	vhu_port_info_append_bits(buf, len, &off, port->tx_offloads, ethdev_tx_offload_name);
	vhu_port_info_append(buf, len, &off, "\n");
	return (int)off;
}

static const struct vhu_port_ops ethdev_ops = {
	.name = "ethdev",
	.keys = ethdev_keys,
	.any_keys = true,
	.usage = "ethdev,dev=NAME[,DEVICE-KEY=VALUE...]|pci=DOMAIN:BUS:DEV.FN|port=0..31"
		 "[,rxd=N (1024)][,txd=N (1024)][,mtu=N][,promisc=0|1 (1)][,mac=MAC]: a DPDK "
		 "ethdev (net_tap, net_af_packet, net_pcap, net_null, a NIC), e.g. "
		 "ethdev,dev=net_tap0,iface=vhu0",
	.priv_size = sizeof(struct ethdev_port),
	.create = ethdev_create,
	.destroy = ethdev_destroy,
	.start = ethdev_start,
	.stop = ethdev_stop,
	.rx_burst = ethdev_rx_burst,
	.tx_burst = ethdev_tx_burst,
	.link_up = ethdev_link_up,
	.link_down_hint = "the device reports no link (a tap interface must be up)",
	/*
	 * A NIC's or net_null's burst costs tens of instructions per packet, and
	 * counting sizes and destinations adds about 15 more in each direction
	 * (callgrind, net_null -> io -> net_null: 180 instead of 149 per packet);
	 * the device's own xstats have sizes on most NICs. "set xstats on" counts.
	 */
	.xstats_off = true,
	.info = ethdev_info,
	.queue_stats = ethdev_queue_stats,
	.xstats = ethdev_xstats,
};

VHU_PORT_DRIVER_REGISTER(ethdev_ops)
