/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The net bursts of one ring layout each, split (vhost_net_split.c) and
 * packed (vhost_net_packed.c), called by the public bursts in vhost_net.c on
 * a ready ring with 'count' already clamped. Private.
 */
#ifndef VHU_VHOST_NET_BURST_H
#define VHU_VHOST_NET_BURST_H

#include <rte_mbuf.h>

#include "vhost_net.h"

/* Guest TX: take up to 'count' packets into new mbufs from 'mp'; returns how many. */
uint16_t vhu_net_dequeue_split(struct vhu_vq *vq, struct rte_mempool *mp, struct rte_mbuf **pkts,
			       uint16_t count);
uint16_t vhu_net_dequeue_packed(struct vhu_vq *vq, struct rte_mempool *mp,
				struct rte_mbuf **pkts, uint16_t count);

/*
 * Copy the packet in the one buffer of 'len' bytes at 'addr' into mbuf 'm'
 * the general way (its header kept, mbufs chained); returns 1, or 0 if it is
 * dropped (counted; 'm' is reset for the next). For the packets of a run or
 * batch that the plain copy refused (a header to keep, or too long for one
 * mbuf), which the flat copy would refuse again: not tried twice. Out of
 * line: the runs and batches copy most packets without it, and keep their
 * registers.
 */
/* A guest packet dropped on its copy: counted, 'm' reset for the next; returns 0. */
static inline uint16_t
vhu_net_tx_drop(struct vhu_vq *vq, struct rte_mbuf *m)
{
	vq->stats.errors++;
	rte_pktmbuf_reset(m);
	return 0;
}

uint16_t vhu_net_tx_copy_one(struct vhu_vq *vq, uint8_t *addr, uint32_t len, struct rte_mempool *mp,
			     struct rte_mbuf *m);

/* Guest RX: copy up to 'count' packets into the guest's buffers; returns how many. */
uint16_t vhu_net_enqueue_split(struct vhu_vq *vq, struct rte_mbuf **pkts, uint16_t count);
uint16_t vhu_net_enqueue_packed(struct vhu_vq *vq, struct rte_mbuf **pkts, uint16_t count);

/*
 * Reserve receive chains at cursor *at for a packet of 'need' bytes (its
 * header included): one chain, or with MRG_RXBUF as many as it takes, up to
 * VHU_VEC_MAX. Their pieces go to vec[*nvec..], the chains to c[*nc..] with
 * the bytes each holds in 'len', and the cursor moves past them. Returns
 * VHU_CHAIN_OK when the packet fits; VHU_CHAIN_DROP when it cannot (no chain
 * left, a second one without MRG_RXBUF, or VHU_VEC_MAX of them); what the
 * pop returned on a broken ring or an IOTLB miss. *long_chain is set (with
 * VHU_CHAIN_DROP) when the last chain popped, c[*nc], which started at
 * *here, has more pieces than vec holds and the packet does not fit in the
 * pieces kept: the caller may give c[0..*nc] back (see "Receive chains of
 * more pieces" in vhost_net.h) and reserve again after them.
 *
 * The split and packed receive bursts share it. 'packed' is a constant at
 * each call, so each layout gets its own copy calling its verbs directly:
 * always_inline keeps the loop costing what it did written out in each
 * burst (instructions.py --check).
 */
static __rte_always_inline enum vhu_chain_rc
vhu_net_rx_reserve(struct vhu_vq *vq, const bool packed, struct vhu_cursor *at, uint64_t need,
		   struct vhu_buf_vec *vec, uint32_t *nvec, struct vhu_chain *c, uint16_t *nc,
		   struct vhu_cursor *here, bool *long_chain)
{
	uint64_t have = 0;

	*long_chain = false;
	while (have < need) {
		uint32_t first = *nvec;
		enum vhu_chain_rc rc;
		uint64_t got;

		if (*nc == VHU_VEC_MAX || (*nc == 1 && !vhu_net_q(vq)->mrg_rxbuf) ||
		    !(packed ? vhu_packed_more(vq, at) : vhu_split_more(vq, at)))
			return VHU_CHAIN_DROP;
		*here = *at;
		rc = packed ? vhu_packed_pop(vq, at, true, vec, nvec, &c[*nc])
			    : vhu_split_pop(vq, at, true, vec, nvec, &c[*nc]);
		got = c[*nc].len;
		if (unlikely(rc == VHU_CHAIN_DROP)) {
			/* More pieces than vec holds: use those kept if the packet fits. */
			got = vhu_vec_bytes(vec, first, *nvec);
			if (have + got < need) {
				*long_chain = true;
				return VHU_CHAIN_DROP;
			}
			rc = VHU_CHAIN_OK;
		}
		if (rc != VHU_CHAIN_OK)
			return rc;
		c[*nc].len = got;
		(*nc)++;
		have += got;
	}
	return VHU_CHAIN_OK;
}

#endif /* VHU_VHOST_NET_BURST_H */
