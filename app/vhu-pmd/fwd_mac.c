/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mac: forward with the Ethernet source set to the sending port's address and
 * the destination to its peer's (02:00:00:00:00:<tx port>, as dpdk-testpmd).
 */
#include <assert.h>

#include "fwd.h"

struct mac_data {
	struct rte_ether_addr src; /* the tx port's address */
	struct rte_ether_addr dst; /* the peer address of the tx port */
};

static_assert(sizeof(struct mac_data) <= FWD_ENGINE_DATA_SIZE, "mac_data too large");

static int
mac_stream_init(struct fwd_stream *fs, const struct pmd_config *cfg)
{
	struct mac_data *md = fwd_engine_data(fs, struct mac_data);

	rte_ether_addr_copy(&fs->tx_port->mac, &md->src);
	fwd_peer_mac(fs->tx_port->id, &md->dst);
	return 0;
}

static bool
mac_fwd(struct fwd_stream *fs)
{
	const struct mac_data *md = fwd_engine_data(fs, struct mac_data);
	struct rte_mbuf *pkts[PMD_BURST_MAX];
	struct rte_ether_hdr *eth;
	uint16_t n, i;

	n = fwd_rx(fs, pkts);
	if (n == 0)
		return false;
	fwd_prefetch_data(pkts, n);
	for (i = 0; i < n; i++) {
		eth = fwd_ether_hdr(pkts[i]);
		if (unlikely(eth == NULL))
			continue;
		rte_ether_addr_copy(&md->dst, &eth->dst_addr);
		rte_ether_addr_copy(&md->src, &eth->src_addr);
	}
	fwd_tx(fs, pkts, n);
	return true;
}

const struct fwd_engine fwd_mac_engine = {
	.name = "mac",
	.rx = true,
	.tx = true,
	.stream_init = mac_stream_init,
	.packet_fwd = mac_fwd,
};
