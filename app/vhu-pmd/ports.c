/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports as vhu-pmd manages them: start, stop, attach and detach (while the
 * lcores forward on the other ports), link reports, and the shell commands
 * that show them, "show vhost" among them.
 *
 * The port table of lib/port is the list of ports: a port's number in the
 * shell is its id there. Forwarding uses the started ports, in id order.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "vhu_pmd.h"
#include "vhu_vhost_user_port.h"

/* Room for a port driver's status text. */
#define PORT_INFO_LEN 8192

/*
 * The log type and the mbuf pools (ports receive into them) live here, not
 * in main.c: the rest of vhu-pmd, a library the tests link too, needs them.
 */
RTE_LOG_REGISTER(pmd_logtype, vhu.pmd, INFO);

/* Per-lcore mbuf cache of the pools (dpdk-testpmd uses 250). */
#define POOL_CACHE_SIZE 256

static struct rte_mempool *
pool_create(unsigned int socket, uint32_t nb_mbufs)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;

	snprintf(name, sizeof(name), "vhu_mbuf_pool_%u", socket);
	printf(PMD_NAME ": create a new mbuf pool <%s>: n=%u, size=%u, socket=%u\n", name, nb_mbufs,
	       RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	mp = rte_pktmbuf_pool_create(name, nb_mbufs, POOL_CACHE_SIZE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     socket);
	/* Without hugepages, memory may not be tied to the socket: take it from anywhere. */
	if (mp == NULL && rte_errno == ENOMEM)
		mp = rte_pktmbuf_pool_create(name, nb_mbufs, POOL_CACHE_SIZE, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (mp == NULL)
		fprintf(stderr,
			PMD_NAME
			": cannot create a pool of %u mbufs on socket %u: %s; "
			"lower --total-num-mbufs or give EAL more memory (-m, hugepages)\n",
			nb_mbufs, socket, rte_strerror(rte_errno));
	return mp;
}

struct rte_mempool *
pmd_pool_get(struct pmd *pmd, unsigned int socket)
{
	if (socket >= RTE_DIM(pmd->pools))
		return NULL;
	if (pmd->pools[socket] == NULL)
		pmd->pools[socket] = pool_create(socket, pmd->cfg.nb_mbufs);
	return pmd->pools[socket];
}

unsigned int
pmd_ports(struct vhu_port **ports)
{
	unsigned int n = 0;
	uint16_t id;

	for (id = 0; id < VHU_PORT_MAX; id++) {
		struct vhu_port *port = vhu_port_get(id);

		if (port != NULL)
			ports[n++] = port;
	}
	return n;
}

unsigned int
pmd_fwd_ports(struct vhu_port **ports, const struct vhu_port *leaving)
{
	unsigned int n = 0;
	uint16_t id;

	for (id = 0; id < VHU_PORT_MAX; id++) {
		struct vhu_port *port = vhu_port_get(id);

		if (port != NULL && port->started && port != leaving)
			ports[n++] = port;
	}
	return n;
}

unsigned int
cmd_ports_arg(const char *arg, struct vhu_port **ports)
{
	if (strcmp(arg, "all") == 0)
		return pmd_ports(ports);
	ports[0] = vhu_port_get((uint16_t)strtoul(arg, NULL, 10));
	return ports[0] != NULL ? 1 : 0;
}

int
ports_start(struct pmd *pmd, struct vhu_port *port)
{
	int rc;

	if (port->started) {
		printf("Port %u is already started\n", port->id);
		return 0;
	}
	rc = vhu_port_start(port);
	if (rc != 0) {
		pmd_error("cannot start port %u (%s): %s; see the message above", port->id,
			  port->devstr, strerror(-rc));
		return rc;
	}
	rc = fwd_update(pmd, NULL);
	if (rc != 0) {
		vhu_port_stop(port);
		return rc;
	}
	printf("Port %u started%s\n", port->id,
	       fwd_running(pmd) ? "; the lcores forward on it now" : "");
	return 0;
}

int
ports_stop(struct pmd *pmd, struct vhu_port *port)
{
	int rc;

	if (!port->started) {
		printf("Port %u is already stopped\n", port->id);
		return 0;
	}
	/* Once this returns, no lcore polls the port: it may stop. */
	rc = fwd_update(pmd, port);
	if (rc != 0)
		return rc;
	capture_stop_port(pmd, port);
	vhu_port_stop(port);
	printf("Port %u stopped%s\n", port->id,
	       fwd_running(pmd) ? "; the lcores forward on the other ports" : "");
	return 0;
}

void
ports_detach_all(struct pmd *pmd)
{
	struct vhu_port *ports[VHU_PORT_MAX];
	unsigned int n = pmd_ports(ports);

	while (n > 0) {
		struct vhu_port *port = ports[--n];

		capture_stop_port(pmd, port);
		if (port->started) {
			printf("Stopping port %u...\n", port->id);
			vhu_port_stop(port);
		}
		vhu_port_detach(port);
	}
}

static void
ports_log_info(const struct vhu_port *port)
{
	char *buf;

	if (!rte_log_can_log(pmd_logtype, RTE_LOG_DEBUG))
		return;
	buf = malloc(PORT_INFO_LEN);
	if (buf == NULL)
		return;
	if (vhu_port_info(port, buf, PORT_INFO_LEN) >= 0)
		rte_log(RTE_LOG_DEBUG, pmd_logtype, "Port %u status:\n%s", port->id, buf);
	free(buf);
}

/*
 * A vhost-user port whose front-end just started: take its mbufs from the NUMA
 * node of the guest's memory (the backend reports it per queue), and say so
 * for each forwarding lcore on another node, whose every packet would cross.
 */
static void
ports_numa_check(struct pmd *pmd, struct vhu_port *port)
{
	struct vhu_vhost_dev *dev = vhu_vhost_user_port_dev(port);
	struct rte_mempool *mp;
	struct vhu_vhost_vq_info vi;
	unsigned int i, n;
	int node;

	/* Virtqueue 1 is the guest's first transmit queue: what this port receives. */
	if (dev == NULL || vhu_vhost_get_vq_info(dev, 1, &vi) != 0 || vi.numa_node < 0)
		return;
	node = vi.numa_node;
	mp = pmd_pool_get(pmd, (unsigned int)node);
	if (mp != NULL && mp != port->mempool) {
		/* Relaxed: the receive burst loads it once per burst; both pools live on. */
		__atomic_store_n(&port->mempool, mp, __ATOMIC_RELAXED);
		printf("Port %u: the guest's memory is on NUMA node %d: mbufs now come from %s\n",
		       port->id, node, mp->name);
	}
	n = pmd->fwd.nb_lcores != 0 ? pmd->fwd.nb_lcores : pmd->nb_workers;
	for (i = 0; i < n && i < pmd->nb_workers; i++) {
		unsigned int lcore = pmd->lcore_ids[i];

		if ((int)rte_lcore_to_socket_id(lcore) != node)
			printf("Port %u: WARNING: forwarding lcore %u is on NUMA node %u, the "
			       "guest's memory on node %d: packets cross nodes; give lcores of "
			       "node %d (-l)\n",
			       port->id, lcore, rte_lcore_to_socket_id(lcore), node, node);
	}
}

void
ports_check_links(struct pmd *pmd)
{
	struct vhu_port *ports[VHU_PORT_MAX];
	unsigned int i, n = pmd_ports(ports);

	for (i = 0; i < n; i++) {
		bool up = vhu_port_link_up(ports[i]);

		if (up == pmd->link_up[ports[i]->id])
			continue;
		pmd->link_up[ports[i]->id] = up;
		printf("Port %u: link %s\n", ports[i]->id, up ? "up" : "down");
		if (up)
			ports_numa_check(pmd, ports[i]);
		fflush(stdout);
		ports_log_info(ports[i]);
	}
}

/* --- commands --------------------------------------------------------------------- */

static void
show_port_info(const struct pmd *pmd, const struct vhu_port *port)
{
	const char *hint = port->ops->link_down_hint;
	char mac[RTE_ETHER_ADDR_FMT_SIZE], *buf;
	bool up = vhu_port_link_up(port);

	rte_ether_format_addr(mac, sizeof(mac), &port->mac);
	printf("\n********************* Infos for port %-2u *********************\n", port->id);
	printf("MAC address: %s\n", mac);
	printf("Device name: %s\n", port->name);
	printf("Device string: %s\n", port->devstr);
	printf("Driver name: %s\n", port->ops->name);
	printf("Link status: %s%s%s\n", up ? "up" : "down", !up && hint != NULL ? ", " : "",
	       !up && hint != NULL ? hint : "");
	printf("Port state: %s\n", port->started ? "started" : "stopped");
	printf("Max possible RX queues: %u\n", port->max_rxq);
	printf("Current number of RX queues: %u\n", port->nb_rxq);
	printf("Max possible TX queues: %u\n", port->max_txq);
	printf("Current number of TX queues: %u\n", port->nb_txq);
	printf("Mbuf pool: %s\n", port->mempool != NULL ? port->mempool->name : "none");
	capture_show(pmd, port);
	buf = malloc(PORT_INFO_LEN);
	if (buf != NULL && vhu_port_info(port, buf, PORT_INFO_LEN) > 0)
		printf("Driver status:\n%s", buf);
	free(buf);
}

int
cmd_show_port_info(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct vhu_port *ports[VHU_PORT_MAX];
	unsigned int i, n = cmd_ports_arg(argv[0], ports);

	if (n == 0)
		printf("No port is attached; attach one with 'port attach SPEC'\n");
	for (i = 0; i < n; i++)
		show_port_info(pmd, ports[i]);
	return 0;
}

int
cmd_port_start(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct vhu_port *ports[VHU_PORT_MAX];
	unsigned int i, n = cmd_ports_arg(argv[0], ports);
	int rc = 0, r;

	for (i = 0; i < n; i++) {
		r = ports_start(pmd, ports[i]);
		if (r != 0)
			rc = r;
	}
	return rc;
}

int
cmd_port_stop(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct vhu_port *ports[VHU_PORT_MAX];
	unsigned int i, n = cmd_ports_arg(argv[0], ports);
	int rc = 0, r;

	for (i = 0; i < n; i++) {
		r = ports_stop(pmd, ports[i]);
		if (r != 0)
			rc = r;
	}
	return rc;
}

struct vhu_port *
ports_attach(struct pmd *pmd, const char *devstr)
{
	unsigned int socket = rte_lcore_to_socket_id(pmd->lcore_ids[0]);
	struct vhu_port_conf conf = {
		/* Ports receive into the pool of the first forwarding lcore's socket... */
		.mempool = pmd->pools[socket],
		.nb_rxq = pmd->cfg.nb_rxq,
		.nb_txq = pmd->cfg.nb_txq,
		.socket_id = socket,
	};
	struct vhu_port *port = vhu_port_attach(devstr, &conf);
	struct rte_mempool *mp;

	/* ...unless the driver placed the port on its device's socket: then into a pool there. */
	if (port == NULL || port->socket_id < 0 || (unsigned int)port->socket_id == socket ||
	    port->mempool != conf.mempool)
		return port;
	mp = pmd_pool_get(pmd, port->socket_id);
	if (mp != NULL)
		port->mempool = mp;
	else
		printf("Port %u: no mbuf pool on socket %d, its device's; it receives into "
		       "socket %u's\n",
		       port->id, port->socket_id, socket);
	return port;
}

int
cmd_port_attach(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct vhu_port *port;

	port = ports_attach(pmd, argv[0]);
	if (port == NULL && rte_errno == EINVAL) {
		pmd_error("port attach %s: bad device string or queue count (see the message "
			  "above); 'vhu-pmd -- --help' lists the drivers and their keys",
			  argv[0]);
		return -EINVAL;
	}
	if (port == NULL) {
		pmd_error("port attach %s: cannot make the port: %s", argv[0],
			  rte_strerror(rte_errno));
		return -rte_errno;
	}
	pmd->link_up[port->id] = false;
	stats_forget(&pmd->stats, port);
	printf("Port %u attached: %s. Now total ports is %u; 'port start %u' to forward on it\n",
	       port->id, port->name, vhu_port_count(), port->id);
	return 0;
}

int
cmd_port_detach(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct vhu_port *port = vhu_port_get((uint16_t)strtoul(argv[0], NULL, 10));
	uint16_t id = port->id;
	int rc;

	if (port->started) {
		rc = ports_stop(pmd, port);
		if (rc != 0)
			return rc;
	}
	capture_stop_port(pmd, port);
	rc = vhu_port_detach(port);
	if (rc != 0) {
		pmd_error("cannot detach port %u: %s", id, strerror(-rc));
		return rc;
	}
	pmd->link_up[id] = false;
	printf("Port %u detached. Now total ports is %u\n", id, vhu_port_count());
	return 0;
}

/* --- show vhost ------------------------------------------------------------------- */

static const char *
vhost_conn_name(enum vhu_vhost_conn_state conn)
{
	switch (conn) {
	case VHU_VHOST_LISTENING:
		return "listening (waiting for a front-end)";
	case VHU_VHOST_CONNECTING:
		return "connecting to the front-end";
	case VHU_VHOST_CONNECTED:
		return "connected";
	}
	return "unknown";
}

/* "  NAME NAME bit40", wrapped at about 76 columns under a label. */
static void
show_bits(const char *label, uint64_t bits, const char *(*name_of)(unsigned int bit))
{
	unsigned int bit, col;

	col = printf("%s 0x%016" PRIx64 ":", label, bits);
	for (bit = 0; bit < 64; bit++) {
		char unknown[16];
		const char *name;

		if ((bits & (UINT64_C(1) << bit)) == 0)
			continue;
		name = name_of(bit);
		if (name == NULL) {
			snprintf(unknown, sizeof(unknown), "bit%u", bit);
			name = unknown;
		}
		if (col + 1 + strlen(name) > 76) {
			printf("\n   ");
			col = 3;
		}
		col += printf(" %s", name);
	}
	printf("\n");
}

int
cmd_show_vhost(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct vhu_port *port = vhu_port_get((uint16_t)strtoul(argv[0], NULL, 10));
	struct vhu_vhost_dev *dev = vhu_vhost_user_port_dev(port);
	struct vhu_vhost_vq_info vqi;
	struct vhu_vhost_info info;
	unsigned int i;
	int rc;

	if (dev == NULL) {
		pmd_error("show vhost %s: port %u is a %s port, not a vhost-user one; see 'show "
			  "port info all'",
			  argv[0], port->id, port->ops->name);
		return -EINVAL;
	}
	rc = vhu_vhost_get_info(dev, &info);
	if (rc != 0) {
		pmd_error("port %u: cannot read the vhost-user state: %s", port->id, strerror(-rc));
		return rc;
	}
	printf("\n********************* vhost-user port %-2u *********************\n", port->id);
	printf("Socket: %s\n", vhu_vhost_path(dev));
	printf("State: %s, %s; %" PRIu64 " front-end connection(s) so far\n",
	       vhost_conn_name(info.conn), info.running ? "running" : "not running",
	       info.connections);
	show_bits("Features", info.features, vhu_virtio_feature_name);
	show_bits("Protocol features", info.protocol_features, vhu_protocol_feature_name);
	printf("Device status: 0x%02x; memory: %u region(s), %" PRIu64 " bytes\n", info.status,
	       info.nr_regions, info.mem_bytes);
	printf("IOTLB: %u entries, %" PRIu64 " misses, %" PRIu64 " updates, %" PRIu64
	       " invalidations\n",
	       info.iotlb_entries, info.iotlb_misses, info.iotlb_updates, info.iotlb_invalidations);
	if (info.nr_vqs == 0)
		printf("Virtqueues: none set up yet\n");
	for (i = 0; i < info.nr_vqs && vhu_vhost_get_vq_info(dev, i, &vqi) == 0; i++) {
		const struct vhu_vhost_vq_info *vq = &vqi;

		/* Even virtqueues are the guest's receive queues: what the port transmits. */
		printf("vq %-2u (guest %s %u, port %s queue %u): %s, %s, %s, %s ring of %u\n", i,
		       i % 2 == 0 ? "rx" : "tx", i / 2, i % 2 == 0 ? "tx" : "rx", i / 2,
		       vq->enabled ? "enabled" : "disabled", vq->started ? "started" : "stopped",
		       vq->ready ? "ready" : "not ready", vq->packed ? "packed" : "split",
		       vq->size);
		if (vq->numa_node >= 0)
			printf("      NUMA node %d (guest memory and ring state)\n", vq->numa_node);
		printf("      last_avail %u, avail_idx %u, used_idx %u; errors %" PRIu64
		       ", nombuf %" PRIu64 ", bad_hdr %" PRIu64 ", notifications %" PRIu64 "\n",
		       vq->last_avail, vq->avail_idx, vq->used_idx, vq->errors, vq->nombuf,
		       vq->bad_hdr, vq->notify);
		if (vq->broken)
			printf("      BROKEN: %s (the front-end must reset the device)\n",
			       vq->broken_reason[0] != '\0' ? vq->broken_reason
							    : "no reason given");
		else
			printf("      not broken\n");
	}
	return 0;
}
