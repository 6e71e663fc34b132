/* SPDX-License-Identifier: BSD-3-Clause */
/* macswap: forward with the Ethernet source and destination swapped. */
#include "fwd.h"

static bool
macswap_fwd(struct fwd_stream *fs)
{
	struct rte_mbuf *pkts[PMD_BURST_MAX];
	struct rte_ether_addr tmp;
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
		rte_ether_addr_copy(&eth->dst_addr, &tmp);
		rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
		rte_ether_addr_copy(&tmp, &eth->src_addr);
	}
	fwd_tx(fs, pkts, n);
	return true;
}

const struct fwd_engine fwd_macswap_engine = {
	.name = "macswap",
	.rx = true,
	.tx = true,
	.packet_fwd = macswap_fwd,
};
