/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * io: send every received packet out unchanged. The cheapest engine: it never
 * touches packet data, so it measures the ports alone.
 */
#include "fwd.h"

static bool
io_fwd(struct fwd_stream *fs)
{
	struct rte_mbuf *pkts[PMD_BURST_MAX];
	uint16_t n;

	n = fwd_rx(fs, pkts);
	if (n == 0)
		return false;
	fwd_tx(fs, pkts, n);
	return true;
}

const struct fwd_engine fwd_io_engine = {
	.name = "io",
	.rx = true,
	.tx = true,
	.packet_fwd = io_fwd,
};
