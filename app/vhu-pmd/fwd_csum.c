/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * csum: forward as io does, checking the IPv4, TCP, UDP and ICMP checksums
 * of what arrives and setting those of what leaves for the abilities of the
 * tx port, as dpdk-testpmd's csum engine: a port that completes a checksum
 * from the mbuf's ol_flags (port->tx_offloads: vhost-user does TCP and
 * UDP) is asked to, and checksums it cannot complete are computed here
 * (vhu's virtio-user and ring ports send packets as they are). "csum set
 * ip|udp|tcp sw PORT" computes one here even where the port could. So a
 * packet crossing from a port with offloads to one without (a guest's
 * partial TCP checksum, say) leaves with every checksum right.
 *
 * Wrong checksums on arrival are counted, by rx port and queue, as
 * Bad-ipcsum and Bad-l4csum in the forward statistics; the rx port's
 * verdict (RTE_MBUF_F_RX_*_CKSUM_GOOD or _BAD) is taken where it gave one,
 * the others are checked here. Packets are forwarded either way, with
 * checksums set anew. Checksums set here and left to the tx port are
 * counted too, by tx port and queue.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ip.h>

#include "fwd.h"
#include "fwd_pkt.h"

/* The checksum offloads this engine asks of a tx port. */
#define CSUM_OFFLOADS                                                                              \
	(RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |                            \
	 RTE_ETH_TX_OFFLOAD_TCP_CKSUM)

/* Counters of one queue of one port, in one direction; written by the lcore owning it. */
struct csum_counters {
	uint64_t bad_ip;     /* rx: IPv4 header checksums wrong on arrival */
	uint64_t bad_l4;     /* rx: TCP, UDP and ICMP checksums wrong on arrival */
	uint64_t ip_sw;	     /* tx: IPv4 header checksums written here */
	uint64_t ip_offload; /* tx: ... left to the port */
	uint64_t l4_sw;	     /* tx: layer-4 checksums written here */
	uint64_t l4_offload; /* tx: ... left to the port */
} __rte_cache_aligned;

/*
 * By port id and queue. Each rx and each tx queue belongs to one stream, and
 * so to one lcore at a time (fwd.c hands queues over across a grace
 * period): one writer each, read by the main lcore. Zeroed at "start".
 */
static struct csum_counters csum_rx[VHU_PORT_MAX][VHU_PORT_MAX_QUEUES];
static struct csum_counters csum_tx[VHU_PORT_MAX][VHU_PORT_MAX_QUEUES];

struct csum_data {
	uint64_t offload;		 /* RTE_ETH_TX_OFFLOAD_* to ask of the tx port */
	struct csum_counters *rx_counts; /* of the stream's rx queue */
	struct csum_counters *tx_counts; /* of the stream's tx queue */
};

static_assert(sizeof(struct csum_data) <= FWD_ENGINE_DATA_SIZE, "csum_data too large");

/* Was the checksum wrong on arrival? 'flag' is the port's verdict, 'ok' checks it here. */
static inline bool
csum_bad(uint64_t flag, uint64_t bad,
	 bool (*ok)(const struct rte_mbuf *, const struct fwd_pkt_hdrs *), const struct rte_mbuf *m,
	 const struct fwd_pkt_hdrs *h)
{
	/* GOOD, BAD, or NONE: the port vouches for the data though the field is not set yet. */
	if (flag != 0)
		return flag == bad;
	return !ok(m, h);
}

/* Ask the tx port for the TCP or UDP checksum: the field holds the pseudo-header sum. */
static bool
csum_l4_offload(struct rte_mbuf *m, const struct fwd_pkt_hdrs *h, uint64_t offload)
{
	uint64_t want = h->l4_proto == IPPROTO_TCP ? RTE_ETH_TX_OFFLOAD_TCP_CKSUM
						   : RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	uint32_t field = h->l2_len + h->l3_len + fwd_pkt_l4_cksum_off(h->l4_proto);
	uint16_t sum;

	/*
	 * A port sums from the layer-4 header to the end of the packet: not with
	 * Ethernet padding after the IP payload, which the checksum leaves out.
	 */
	if ((offload & want) == 0 || h->fragment || field + 2 > m->data_len ||
	    m->pkt_len != (uint32_t)h->l2_len + h->l3_len + h->l4_len ||
	    h->l4_len < fwd_pkt_l4_cksum_off(h->l4_proto) + 2u)
		return false;
	sum = fwd_pkt_phdr_sum(m, h);
	memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, field), &sum, sizeof(sum));
	m->ol_flags |=
		(h->l4_proto == IPPROTO_TCP ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM) |
		(h->ether_type == RTE_ETHER_TYPE_IPV4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6);
	return true;
}

void
csum_packet(struct rte_mbuf *m, uint64_t offload, struct csum_result *res)
{
	enum fwd_pkt_kind kind;
	struct fwd_pkt_hdrs h;
	uint64_t ol = m->ol_flags;
	bool partial = (ol & RTE_MBUF_F_TX_L4_MASK) != 0;

	memset(res, 0, sizeof(*res));
	kind = fwd_pkt_parse(m, &h);
	/* Segmentation is the tx port's business, with the checksums that go with it. */
	if ((kind != FWD_PKT_IPV4 && kind != FWD_PKT_IPV6) || (ol & RTE_MBUF_F_TX_TCP_SEG) != 0)
		return;
	if (kind == FWD_PKT_IPV4)
		res->bad_ip = csum_bad(ol & RTE_MBUF_F_RX_IP_CKSUM_MASK, RTE_MBUF_F_RX_IP_CKSUM_BAD,
				       fwd_pkt_ipv4_cksum_ok, m, &h);
	/* A partial checksum (a guest's NEEDS_CSUM) is not wrong, only unfinished. */
	if (!partial)
		res->bad_l4 = csum_bad(ol & RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_BAD,
				       fwd_pkt_l4_cksum_ok, m, &h);
	m->ol_flags &= ~(RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IPV4 |
			 RTE_MBUF_F_TX_IPV6);
	m->l2_len = h.l2_len;
	m->l3_len = h.l3_len;
	if (kind == FWD_PKT_IPV4) {
		if ((offload & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0) {
			rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, h.l2_len)->hdr_checksum =
				0;
			m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_IPV4;
			res->ip_offload = true;
		} else {
			fwd_pkt_ipv4_cksum_set(m, &h);
			res->ip_sw = true;
		}
	}
	if ((h.l4_proto == IPPROTO_TCP || h.l4_proto == IPPROTO_UDP) &&
	    csum_l4_offload(m, &h, offload))
		res->l4_offload = true;
	else
		res->l4_sw = fwd_pkt_l4_cksum_set(m, &h);
}

static int
csum_stream_init(struct fwd_stream *fs, const struct pmd_config *cfg)
{
	struct csum_data *d = fwd_engine_data(fs, struct csum_data);

	d->offload = fs->tx_port->tx_offloads & CSUM_OFFLOADS & ~cfg->csum_sw[fs->tx_port->id];
	d->rx_counts = &csum_rx[fs->rx_port->id][fs->rx_queue];
	d->tx_counts = &csum_tx[fs->tx_port->id][fs->tx_queue];
	return 0;
}

static bool
csum_fwd(struct fwd_stream *fs)
{
	const struct csum_data *d = fwd_engine_data(fs, struct csum_data);
	struct rte_mbuf *pkts[PMD_BURST_MAX];
	struct csum_counters c = {0};
	struct csum_result r;
	uint16_t n, i;

	n = fwd_rx(fs, pkts);
	if (n == 0)
		return false;
	fwd_prefetch_data(pkts, n);
	for (i = 0; i < n; i++) {
		csum_packet(pkts[i], d->offload, &r);
		c.bad_ip += r.bad_ip;
		c.bad_l4 += r.bad_l4;
		c.ip_sw += r.ip_sw;
		c.ip_offload += r.ip_offload;
		c.l4_sw += r.l4_sw;
		c.l4_offload += r.l4_offload;
	}
	vhu_port_counter_add(&d->rx_counts->bad_ip, c.bad_ip);
	vhu_port_counter_add(&d->rx_counts->bad_l4, c.bad_l4);
	vhu_port_counter_add(&d->tx_counts->ip_sw, c.ip_sw);
	vhu_port_counter_add(&d->tx_counts->ip_offload, c.ip_offload);
	vhu_port_counter_add(&d->tx_counts->l4_sw, c.l4_sw);
	vhu_port_counter_add(&d->tx_counts->l4_offload, c.l4_offload);
	fwd_tx(fs, pkts, n);
	return true;
}

/* Forwarding starts: the counters start from zero. Main lcore, no lcore running. */
static void
csum_begin(void)
{
	memset(csum_rx, 0, sizeof(csum_rx));
	memset(csum_tx, 0, sizeof(csum_tx));
}

/* The sums over the queues of one port. */
static void
csum_port_counts(uint16_t id, struct csum_counters *s)
{
	unsigned int q;

	memset(s, 0, sizeof(*s));
	for (q = 0; q < VHU_PORT_MAX_QUEUES; q++) {
		s->bad_ip += vhu_port_counter_read(&csum_rx[id][q].bad_ip);
		s->bad_l4 += vhu_port_counter_read(&csum_rx[id][q].bad_l4);
		s->ip_sw += vhu_port_counter_read(&csum_tx[id][q].ip_sw);
		s->ip_offload += vhu_port_counter_read(&csum_tx[id][q].ip_offload);
		s->l4_sw += vhu_port_counter_read(&csum_tx[id][q].l4_sw);
		s->l4_offload += vhu_port_counter_read(&csum_tx[id][q].l4_offload);
	}
}

/* The port's lines in the forward statistics (dpdk-testpmd's Bad-ipcsum and Bad-l4csum). */
static void
csum_show_port(const struct vhu_port *port)
{
	struct csum_counters s;

	csum_port_counts(port->id, &s);
	printf("  Bad-ipcsum: %-14" PRIu64 " Bad-l4csum: %" PRIu64 "\n", s.bad_ip, s.bad_l4);
	printf("  TX-csum-sw: ip %" PRIu64 " l4 %" PRIu64 " - TX-csum-offload: ip %" PRIu64
	       " l4 %" PRIu64 "\n",
	       s.ip_sw, s.l4_sw, s.ip_offload, s.l4_offload);
}

const struct fwd_engine fwd_csum_engine = {
	.name = "csum",
	.rx = true,
	.tx = true,
	.stream_init = csum_stream_init,
	.packet_fwd = csum_fwd,
	.begin = csum_begin,
	.show_port = csum_show_port,
};

/* --- the shell ----------------------------------------------------------------------- */

/* The RTE_ETH_TX_OFFLOAD_* bit and the name of "ip", "udp" or "tcp". */
static uint64_t
csum_offload_of(const char *proto, const char **name)
{
	if (strcmp(proto, "ip") == 0) {
		*name = "IPv4 header";
		return RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	}
	*name = strcmp(proto, "udp") == 0 ? "UDP" : "TCP";
	return strcmp(proto, "udp") == 0 ? RTE_ETH_TX_OFFLOAD_UDP_CKSUM
					 : RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
}

int
cmd_csum_set(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct vhu_port *ports[VHU_PORT_MAX];
	struct pmd_config old = pmd->cfg;
	const char *name;
	uint64_t bit = csum_offload_of(argv[0], &name);
	bool hw = strcmp(argv[1], "hw") == 0;
	struct vhu_port *port;

	cmd_ports_arg(argv[2], ports);
	port = ports[0];
	if (hw && (port->tx_offloads & bit) == 0) {
		pmd_error("csum set %s hw %u: port %u (%s) cannot complete %s checksums; csum "
			  "computes them in software for it",
			  argv[0], port->id, port->id, port->name, name);
		return -ENOTSUP;
	}
	if (hw)
		pmd->cfg.csum_sw[port->id] &= ~bit;
	else
		pmd->cfg.csum_sw[port->id] |= bit;
	if (fwd_apply(pmd, &old) != 0)
		return -ENOMEM;
	printf("%s checksums sent on port %u are now set %s\n", name, port->id,
	       hw ? "by the port (offload)" : "in software");
	return 0;
}

int
cmd_csum_show(struct pmd *pmd, unsigned int argc, char **argv)
{
	static const char *const protos[] = {"ip", "udp", "tcp"};
	struct vhu_port *ports[VHU_PORT_MAX];
	const struct vhu_port *port;
	const char *name;
	unsigned int i;

	cmd_ports_arg(argv[0], ports);
	port = ports[0];
	printf("Checksums of the csum engine on port %u (%s), as it transmits:\n", port->id,
	       port->name);
	for (i = 0; i < RTE_DIM(protos); i++) {
		uint64_t bit = csum_offload_of(protos[i], &name);

		if ((port->tx_offloads & bit) == 0)
			printf("  %-11s sw (the port cannot complete them)\n", name);
		else if ((pmd->cfg.csum_sw[port->id] & bit) != 0)
			printf("  %-11s sw (set so; the port could: 'csum set %s hw %u')\n", name,
			       protos[i], port->id);
		else
			printf("  %-11s hw (the port completes them)\n", name);
	}
	return 0;
}
