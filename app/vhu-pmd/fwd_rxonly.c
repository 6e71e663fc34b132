/* SPDX-License-Identifier: BSD-3-Clause */
/* rxonly: receive and free; a sink that measures what a port delivers. */
#include "fwd.h"

static bool
rxonly_fwd(struct fwd_stream *fs)
{
	struct rte_mbuf *pkts[PMD_BURST_MAX];
	uint16_t n;

	n = fwd_rx(fs, pkts);
	if (n == 0)
		return false;
	rte_pktmbuf_free_bulk(pkts, n);
	return true;
}

const struct fwd_engine fwd_rxonly_engine = {
	.name = "rxonly",
	.rx = true,
	.tx = false,
	.packet_fwd = rxonly_fwd,
};
