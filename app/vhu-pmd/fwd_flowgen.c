/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowgen: send UDP/IPv4 frames of --txpkts bytes spread over
 * --flowgen-flows flows, and drop what comes in, as dpdk-testpmd's flowgen.
 * Frames go from the tx port's address to its peer's
 * (02:00:00:00:00:<port>); flow i runs from 198.18.0.1, UDP port 1024 + i
 * mod 64512, to 198.19.<i / 256>.<i % 256>, UDP port 9, all in the
 * benchmarking range of RFC 2544. Varying the destination address and the
 * source port spreads the flows over the queues of a receiver that hashes
 * addresses and ports (RSS), and over its lcores.
 *
 * Consecutive frames of a stream are consecutive flows, each stream starting
 * at its own share of the flows (tx queue q of n starts at flow q * flows /
 * n), so that queues do not send the same flow at the same time. The IPv4
 * checksum is set per frame; UDP carries none, which IPv4 allows.
 */
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_udp.h>

#include "fwd.h"
#include "fwd_pkt.h"

/* 198u: DPDK 22.11's RTE_IPV4() shifts its first byte as an int (see fwd_txonly.c). */
#define FLOWGEN_SRC_IP	 RTE_IPV4(198u, 18, 0, 1)
#define FLOWGEN_DST_NET	 RTE_IPV4(198u, 19, 0, 0)
#define FLOWGEN_SRC_PORT 1024
#define FLOWGEN_DST_PORT 9 /* discard */
/* Source ports 1024..65535. */
#define FLOWGEN_PORTS 64512

struct flowgen_data {
	struct fwd_pkt_template t; /* flow 0's frame */
	uint32_t nb_flows;	   /* --flowgen-flows */
	uint32_t next;		   /* the flow of the next frame */
};

static_assert(sizeof(struct flowgen_data) <= FWD_ENGINE_DATA_SIZE, "flowgen_data too large");
static_assert(PMD_FLOWGEN_FLOWS_MAX <= 65536, "flows must fit the low 16 bits of 198.19/16");

void
flowgen_flow(uint32_t flow, struct fwd_pkt_udp4_flow *f)
{
	f->src_ip = FLOWGEN_SRC_IP;
	f->dst_ip = FLOWGEN_DST_NET | (flow & 0xffff);
	f->src_port = (uint16_t)(FLOWGEN_SRC_PORT + flow % FLOWGEN_PORTS);
	f->dst_port = FLOWGEN_DST_PORT;
}

void
flowgen_set_flow(uint8_t hdr[FWD_PKT_UDP4_HDR_LEN], uint32_t flow)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(hdr + sizeof(struct rte_ether_hdr));
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	struct fwd_pkt_udp4_flow f;

	flowgen_flow(flow, &f);
	ip->dst_addr = rte_cpu_to_be_32(f.dst_ip);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(f.src_port);
}

static int
flowgen_stream_init(struct fwd_stream *fs, const struct pmd_config *cfg)
{
	struct flowgen_data *d = fwd_engine_data(fs, struct flowgen_data);
	struct rte_ether_addr peer;
	struct fwd_pkt_udp4_flow f;

	fwd_peer_mac(fs->tx_port->id, &peer);
	flowgen_flow(0, &f);
	fwd_pkt_template_init(&d->t, cfg);
	fwd_pkt_udp4_hdr(d->t.hdr, &fs->tx_port->mac, &peer, &f, cfg->tx_pkt_len);
	d->nb_flows = cfg->flowgen_flows;
	d->next = (uint32_t)((uint64_t)fs->tx_queue * d->nb_flows / cfg->nb_txq);
	return 0;
}

static bool
flowgen_fwd(struct fwd_stream *fs)
{
	struct flowgen_data *d = fwd_engine_data(fs, struct flowgen_data);
	struct rte_mbuf *pkts[PMD_BURST_MAX];
	uint16_t n, i;
	bool busy = false;

	/* What comes in is dropped (and counted by the port). */
	n = fwd_rx(fs, pkts);
	if (n != 0) {
		rte_pktmbuf_free_bulk(pkts, n);
		busy = true;
	}
	n = fwd_pkt_frames(fs->mp, &d->t, pkts, fs->burst);
	for (i = 0; i < n; i++) {
		flowgen_set_flow(rte_pktmbuf_mtod(pkts[i], uint8_t *), d->next);
		if (++d->next == d->nb_flows)
			d->next = 0;
	}
	if (n == 0)
		return busy;
	fwd_tx(fs, pkts, n);
	return true;
}

const struct fwd_engine fwd_flowgen_engine = {
	.name = "flowgen",
	.rx = true,
	.tx = true,
	.stream_init = flowgen_stream_init,
	.packet_fwd = flowgen_fwd,
};

/* --- the shell ----------------------------------------------------------------------- */

int
cmd_set_flowgen_flows(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct pmd_config old = pmd->cfg;
	unsigned long n;

	if (!pmd_parse_uint(argv[0], 1, PMD_FLOWGEN_FLOWS_MAX, &n)) {
		pmd_error("set flowgen-flows %s: give a number of flows, 1..%u", argv[0],
			  PMD_FLOWGEN_FLOWS_MAX);
		return -EINVAL;
	}
	pmd->cfg.flowgen_flows = n;
	if (fwd_apply(pmd, &old) != 0)
		return -ENOMEM;
	printf("flowgen now sends %lu flow(s)\n", n);
	return 0;
}
