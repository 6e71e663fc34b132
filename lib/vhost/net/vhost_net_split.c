/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio-net bursts on split rings. Same contract as the packed bursts in
 * vhost_net_packed.c; the public bursts in vhost_net.c call one or the other.
 * Direction is named from the guest's view: rx rings (even) carry packets to
 * the guest, tx rings (odd) from it.
 */
#include "vhost_net.h"
#include "vhost_net_burst.h"

/* A popped transmit chain, waiting for its copy. */
struct tx_chain {
	struct vhu_chain c;
	uint32_t nvec;
	enum vhu_chain_rc rc;
	struct vhu_buf_vec vec[VHU_VEC_MAX];
};

static inline void
tx_pop(struct vhu_vq *vq, struct vhu_cursor *cur, struct tx_chain *t)
{
	t->nvec = 0;
	t->rc = vhu_split_pop(vq, cur, false, t->vec, &t->nvec, &t->c);
	/* The copy reads the packet the frontend's core just wrote: start the
	 * transfer now, one packet ahead, so it overlaps the copy before it. */
	if (t->rc >= 0 && t->nvec > 0) {
		rte_prefetch0(t->vec[0].addr);
		if (t->vec[0].len > RTE_CACHE_LINE_SIZE)
			rte_prefetch0(t->vec[0].addr + RTE_CACHE_LINE_SIZE);
	}
}

/*
 * Guest TX on a split ring, one chain ahead: chain i+1 is popped (its
 * descriptors read, its buffer prefetched) before chain i is copied.
 */
uint16_t
vhu_net_dequeue_split(struct vhu_vq *vq, struct rte_mempool *mp, struct rte_mbuf **pkts,
		  uint16_t count)
{
	struct vhu_split_burst b;
	struct vhu_cursor cur;
	struct tx_chain chains[2];
	uint16_t i, out = 0;

	if (!vhu_split_begin(vq, &cur, &b))
		return 0;
	count = RTE_MIN(count, cur.left);
	if (unlikely(rte_pktmbuf_alloc_bulk(mp, pkts, count) != 0)) {
		vq->stats.nombuf++;
		return 0;
	}
	for (i = 0; i < RTE_MIN(count, 4); i++)
		vhu_split_prefetch(vq, &cur, i);
	tx_pop(vq, &cur, &chains[0]);
	for (i = 0; i < count; i++) {
		struct tx_chain *t = &chains[i & 1];

		if (unlikely(t->rc < 0))
			break; /* broken, or an IOTLB miss: the chain stays in the ring */
		if (i + 4 < count)
			vhu_split_prefetch(vq, &cur, 3); /* the cursor is at chain i + 1 */
		if (i + 1 < count)
			tx_pop(vq, &cur, &chains[(i + 1) & 1]);
		vhu_split_take(vq, &t->c);
		if (likely(t->rc == VHU_CHAIN_OK) &&
		    likely(vhu_net_tx_copy(vq, t->vec, t->nvec, t->c.len, mp, pkts[out]) == 0)) {
			out++;
		} else {
			/* Dropped: return the buffer to the guest, reuse the mbuf. */
			vq->stats.errors++;
			rte_pktmbuf_reset(pkts[out]);
		}
		vhu_split_return(vq, &b, &t->c, 0);
	}
	vhu_split_flush(vq, &b);
	if (out < count)
		rte_pktmbuf_free_bulk(&pkts[out], count - out);
	return out;
}

/*
 * The packet does not fit in the pieces gathered from heads[0..nheads], the
 * last of which has more pieces than were kept (see "Receive chains of more
 * pieces" in vhost_net.h). If that chain alone has more pieces than a packet
 * may span, give it back unused with the heads reserved before it and
 * return true: the packet goes on with the chains after them. Otherwise
 * return false with *rc: VHU_CHAIN_DROP (the packet would need too many
 * pieces of good chains: refused) or what gathering the chain again gave,
 * if the guest has changed it meanwhile.
 */
static __rte_noinline bool
rx_split_give_back(struct vhu_vq *vq, struct vhu_split_burst *b, const struct vhu_chain *heads,
		   uint32_t nheads, uint64_t need, enum vhu_chain_rc *rc)
{
	uint32_t h;

	if (nheads > 0) {
		/* Its pieces were counted after the other heads': count them alone. */
		struct vhu_buf_vec vec[VHU_VEC_MAX];
		uint64_t total = 0;
		uint32_t nvec = 0;

		*rc = vhu_split_gather(vq, heads[nheads].id, true, vec, &nvec, &total);
		if (*rc != VHU_CHAIN_DROP) {
			if (*rc == VHU_CHAIN_OK)
				*rc = VHU_CHAIN_DROP;
			return false;
		}
	}
	for (h = 0; h <= nheads; h++) {
		vhu_split_take(vq, &heads[h]);
		vhu_split_return(vq, b, &heads[h], 0);
	}
	vhu_net_rx_given_back(vq, heads[nheads].id, nheads + 1, need);
	*rc = VHU_CHAIN_OK;
	return true;
}

uint16_t
vhu_net_enqueue_split(struct vhu_vq *vq, struct rte_mbuf **pkts, uint16_t count)
{
	struct vhu_net_vq *nq = vhu_net_q(vq);
	struct vhu_copy_batch cb = { .n = 0 };
	struct vhu_buf_vec vec[VHU_VEC_MAX];
	struct vhu_chain heads[VHU_VEC_MAX];
	struct vhu_split_burst b;
	struct vhu_cursor cur;
	uint16_t i;

	if (!vhu_split_begin(vq, &cur, &b))
		return 0;
	vhu_split_prefetch(vq, &cur, 0);
	for (i = 0; i < count; i++) {
		struct rte_mbuf *m = pkts[i];
		uint64_t need = (uint64_t)nq->hdr_len + m->pkt_len, have = 0, left;
		uint32_t nvec = 0, nheads = 0, h;
		enum vhu_chain_rc rc = VHU_CHAIN_OK;
		struct vhu_cursor at = cur;	/* where this packet's heads are popped */

		if (unlikely(vhu_net_rx_prepare(vq, m) != 0)) {
			vq->stats.bad_hdr++;
			break; /* the caller keeps (and drops) pkts[i..] */
		}

		/* Reserve heads until the packet fits: one without MRG_RXBUF. */
		while (have < need) {
			uint32_t first = nvec;
			uint64_t got;

			if (!vhu_split_more(vq, &at) || nheads == VHU_VEC_MAX ||
			    (nheads == 1 && !nq->mrg_rxbuf)) {
				rc = VHU_CHAIN_DROP;
				break;
			}
			rc = vhu_split_pop(vq, &at, true, vec, &nvec, &heads[nheads]);
			got = heads[nheads].len;
			if (unlikely(rc == VHU_CHAIN_DROP)) {
				/* More pieces than vec holds: use those kept if the packet
				 * fits, else give the chain back (see vhost_net.h). */
				got = vhu_vec_bytes(vec, first, nvec);
				if (have + got < need) {
					if (!rx_split_give_back(vq, &b, heads, nheads, need, &rc))
						break;
					cur = at;
					nheads = 0;
					nvec = 0;
					have = 0;
					continue;
				}
				rc = VHU_CHAIN_OK;
			}
			if (rc != VHU_CHAIN_OK)
				break;
			heads[nheads].len = got;
			nheads++;
			have += got;
		}
		if (unlikely(rc != VHU_CHAIN_OK)) {
			nq->rx_miss = rc == VHU_CHAIN_RETRY;
			break;	/* broken ring, no room or a miss: pkts[i..] not taken */
		}
		if (vhu_split_more(vq, &at))
			vhu_split_prefetch(vq, &at, 0);
		vhu_net_rx_fill(vq, vec, m, nheads, &cb);
		left = need;
		for (h = 0; h < nheads; h++) {
			uint32_t used = (uint32_t)RTE_MIN(left, heads[h].len);

			vhu_split_take(vq, &heads[h]);
			vhu_split_return(vq, &b, &heads[h], used);
			left -= used;
		}
		cur = at;
	}
	vhu_copy_batch_flush(&cb);
	vhu_split_flush(vq, &b);
	return i;
}
