/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * txonly: send UDP/IPv4 frames of --txpkts bytes as fast as the port takes
 * them, from the tx port's address to its peer's (02:00:00:00:00:<port>),
 * 198.18.0.1:9 to 198.18.0.2:9 (the benchmarking range of RFC 2544). The
 * headers are built once per stream, with the IPv4 checksum; UDP carries no
 * checksum, which IPv4 allows. The payload is left as the mbuf holds it.
 */
#include <assert.h>
#include <string.h>

#include <rte_ip.h>

#include "fwd.h"
#include "fwd_pkt.h"

/* 198u: DPDK 22.11's RTE_IPV4() shifts its first byte as an int, which for
 * 198 << 24 overflows (undefined; UBSan aborts). */
#define TXONLY_SRC_IP	RTE_IPV4(198u, 18, 0, 1)
#define TXONLY_DST_IP	RTE_IPV4(198u, 18, 0, 2)
#define TXONLY_UDP_PORT 9 /* discard */

static_assert(sizeof(struct fwd_pkt_template) <= FWD_ENGINE_DATA_SIZE, "template too large");
static_assert(PMD_TX_HDR_LEN == FWD_PKT_UDP4_HDR_LEN, "PMD_TX_HDR_LEN is not the header size");

static int
txonly_stream_init(struct fwd_stream *fs, const struct pmd_config *cfg)
{
	struct fwd_pkt_template *t = fwd_engine_data(fs, struct fwd_pkt_template);
	const struct fwd_pkt_udp4_flow flow = {
		.src_ip = TXONLY_SRC_IP,
		.dst_ip = TXONLY_DST_IP,
		.src_port = TXONLY_UDP_PORT,
		.dst_port = TXONLY_UDP_PORT,
	};
	struct rte_ether_addr peer;

	fwd_peer_mac(fs->tx_port->id, &peer);
	fwd_pkt_template_init(t, cfg);
	fwd_pkt_udp4_hdr(t->hdr, &fs->tx_port->mac, &peer, &flow, cfg->tx_pkt_len);
	return 0;
}

static bool
txonly_fwd(struct fwd_stream *fs)
{
	const struct fwd_pkt_template *t = fwd_engine_data(fs, struct fwd_pkt_template);
	struct rte_mbuf *pkts[PMD_BURST_MAX];
	uint16_t n;

	n = fwd_pkt_frames(fs->mp, t, pkts, fs->burst);
	if (n == 0)
		return false;
	fwd_tx(fs, pkts, n);
	return true;
}

const struct fwd_engine fwd_txonly_engine = {
	.name = "txonly",
	.rx = false,
	.tx = true,
	.stream_init = txonly_stream_init,
	.packet_fwd = txonly_fwd,
};
