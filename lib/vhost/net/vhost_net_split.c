/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio-net bursts on split rings. Same contract as the packed bursts in
 * vhost_net_packed.c; the public bursts in vhost_net.c call one or the other.
 * Direction is named from the guest's view: rx rings (even) carry packets to
 * the guest, tx rings (odd) from it.
 */
#include "vhost_net.h"
#include "vhost_net_burst.h"

/*
 * Copy the chain gathered in vec[0..nvec), 'len' bytes, into mbuf 'm';
 * returns 1, or 0 if it is dropped (counted; 'm' is reset for the next).
 * Out of line: the runs copy most packets without it, and their loop keeps
 * its registers (split g2h 64 B: 5 instructions a packet less).
 */
static __rte_noinline uint16_t
tx_copy(struct vhu_vq *vq, const struct vhu_buf_vec *vec, uint32_t nvec, uint64_t len,
	struct rte_mempool *mp, struct rte_mbuf *m)
{
	if (likely(vhu_net_tx_copy(vq, vec, nvec, len, mp, m) == 0))
		return 1;
	/* Dropped: the buffer goes back to the guest, the mbuf is reused. */
	return vhu_net_tx_drop(vq, m);
}

/*
 * The chain at the cursor is not flat: take it the general way into
 * pkts[*out]. Returns false, the chain left in the ring, if the ring is
 * broken or a translation missed.
 */
static __rte_noinline bool
dequeue_chain(struct vhu_vq *vq, struct vhu_cursor *cur, struct vhu_split_burst *b,
	      struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t *out)
{
	struct vhu_buf_vec vec[VHU_VEC_MAX];
	struct vhu_chain c;
	uint32_t nvec = 0;
	enum vhu_chain_rc rc;

	rc = vhu_split_pop(vq, cur, false, vec, &nvec, &c);
	if (unlikely(rc < 0))
		return false;
	vhu_split_take(vq, &c);
	if (rc == VHU_CHAIN_OK) {
		*out += tx_copy(vq, vec, nvec, c.len, mp, pkts[*out]);
	} else {
		/* More pieces than a packet may span: dropped (see vhost_net.h). */
		vq->stats.errors++;
	}
	vhu_split_return(vq, b, &c, 0);
	return true;
}

/*
 * Copy the run of flat chains vec[0..n) into pkts[*out..]. The packets
 * without a header to keep that fit one mbuf (most) are copied here, with
 * the ring's fields read once for the run; the others the general way,
 * without trying the flat copy again.
 */
static inline void
dequeue_run(struct vhu_vq *vq, const struct vhu_buf_vec *vec, uint16_t n, struct rte_mempool *mp,
	    struct rte_mbuf **pkts, uint16_t *out)
{
	const struct vhu_net_vq *nq = vhu_net_q(vq);
	const uint32_t hdr_len = nq->hdr_len;
	const bool offload = nq->offload;
	uint16_t k, o = *out;

	for (k = 0; k < n; k++) {
		if (likely(!offload) && likely(vhu_net_tx_copy_plain(pkts[o], vec[k].addr + hdr_len,
								     vec[k].len - hdr_len)))
			o++;
		else
			o += vhu_net_tx_copy_one(vq, vec[k].addr, vec[k].len, mp, pkts[o]);
	}
	*out = o;
}

/*
 * Guest TX on a split ring, in runs of flat chains (see VHU_SPLIT_RUN):
 * every chain of a run is read and its buffer prefetched before the first
 * is copied, so the transfers of the buffers the frontend's core just wrote
 * overlap each other and the copies. A chain that is not flat is taken on
 * its own between runs.
 */
uint16_t
vhu_net_dequeue_split(struct vhu_vq *vq, struct rte_mempool *mp, struct rte_mbuf **pkts,
		      uint16_t count)
{
	struct vhu_buf_vec vec[VHU_SPLIT_RUN];
	uint16_t heads[VHU_SPLIT_RUN];
	struct vhu_split_burst b;
	struct vhu_cursor cur;
	uint16_t i = 0, out = 0;

	if (!vhu_split_begin(vq, &cur, &b))
		return 0;
	count = RTE_MIN(count, cur.left);
	if (unlikely(rte_pktmbuf_alloc_bulk(mp, pkts, count) != 0)) {
		vq->stats.nombuf++;
		return 0;
	}
	while (i < count) {
		uint16_t want = RTE_MIN(count - i, VHU_SPLIT_RUN), n;
		struct vhu_cursor at = cur; /* a local the run keeps in registers */

		vhu_split_peek(vq, &at, want, heads);
		n = vhu_split_pop_run(vq, &at, heads, want, false, NULL, vec);
		cur = at;
		vhu_split_take_run(vq, heads, n);
		dequeue_run(vq, vec, n, mp, pkts, &out);
		vhu_split_return_run(vq, heads, NULL, n);
		i += n;
		if (n < want) {
			if (!dequeue_chain(vq, &cur, &b, mp, pkts, &out))
				break; /* broken, or an IOTLB miss: the chain stays in the ring */
			i++;
		}
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

/*
 * Give packet 'm' to the guest at the cursor the general way: any chains,
 * several with MRG_RXBUF, any segments and offloads. Returns false if it is
 * not taken (no room, a broken ring, an IOTLB miss, a header refused): the
 * burst ends there and the caller keeps pkts[i..].
 */
static __rte_noinline bool
enqueue_one(struct vhu_vq *vq, struct vhu_cursor *cur, struct vhu_split_burst *b,
	    struct rte_mbuf *m, struct vhu_copy_batch *cb)
{
	struct vhu_net_vq *nq = vhu_net_q(vq);
	uint64_t need = (uint64_t)nq->hdr_len + m->pkt_len, left;
	struct vhu_buf_vec vec[VHU_VEC_MAX];
	struct vhu_chain heads[VHU_VEC_MAX];
	uint32_t nvec = 0;
	uint16_t nheads = 0, h;
	enum vhu_chain_rc rc;
	struct vhu_cursor at = *cur; /* where this packet's heads are popped */

	if (unlikely(vhu_net_rx_prepare(vq, m) != 0)) {
		vq->stats.bad_hdr++;
		return false;
	}
	/* Reserve heads until the packet fits: one without MRG_RXBUF. A head
	 * of too many pieces is given back, and the packet tries the next. */
	for (;;) {
		struct vhu_cursor here;
		bool long_chain;

		rc = vhu_net_rx_reserve(vq, false, &at, need, vec, &nvec, heads, &nheads, &here,
					&long_chain);
		if (likely(!long_chain) || !rx_split_give_back(vq, b, heads, nheads, need, &rc))
			break;
		*cur = at;
		nheads = 0;
		nvec = 0;
	}
	if (unlikely(rc != VHU_CHAIN_OK)) {
		nq->rx_miss = rc == VHU_CHAIN_RETRY;
		return false; /* broken ring, no room or a miss */
	}
	if (vhu_split_more(vq, &at))
		vhu_split_prefetch(vq, &at, 0);
	vhu_net_rx_fill(vq, vec, m, nheads, cb);
	left = need;
	for (h = 0; h < nheads; h++) {
		uint32_t used = (uint32_t)RTE_MIN(left, heads[h].len);

		vhu_split_take(vq, &heads[h]);
		vhu_split_return(vq, b, &heads[h], used);
		left -= used;
	}
	*cur = at;
	return true;
}

/*
 * Can packet 'm' go into one flat chain as it is? One segment, and no
 * offload to finish or refuse (vhu_net_rx_prepare() has nothing to do).
 */
static inline bool
rx_plain(const struct rte_mbuf *m)
{
	return m->nb_segs == 1 && !(m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK));
}

/*
 * Guest RX on a split ring, in runs (see VHU_SPLIT_RUN): the plain packets
 * at the burst's position, each into a flat chain that holds it whole,
 * their headers written and copies deferred (vhu_copy_batch) as the run
 * goes, their used entries written once. A packet or a chain that does not
 * qualify goes the general way (enqueue_one()) between runs.
 */
uint16_t
vhu_net_enqueue_split(struct vhu_vq *vq, struct rte_mbuf **pkts, uint16_t count)
{
	const uint32_t hdr_len = vhu_net_q(vq)->hdr_len;
	struct vhu_copy_batch cb; /* only cb.n set: an initialiser would clear 776 bytes */
	struct vhu_buf_vec vec[VHU_SPLIT_RUN];
	uint32_t need[VHU_SPLIT_RUN];
	uint16_t heads[VHU_SPLIT_RUN];
	struct vhu_split_burst b;
	struct vhu_cursor cur;
	uint16_t i = 0;

	if (!vhu_split_begin(vq, &cur, &b))
		return 0;
	cb.n = 0;
	while (i < count) {
		uint16_t want = RTE_MIN(count - i, cur.left), n = 0, k;
		struct vhu_cursor at = cur; /* a local the run keeps in registers */

		want = RTE_MIN(want, VHU_SPLIT_RUN);
		while (n < want && rx_plain(pkts[i + n])) {
			need[n] = hdr_len + pkts[i + n]->data_len;
			n++;
		}
		vhu_split_peek(vq, &at, n, heads);
		n = vhu_split_pop_run(vq, &at, heads, n, true, need, vec);
		cur = at;
		vhu_split_take_run(vq, heads, n);
		for (k = 0; k < n; k++)
			vhu_net_rx_fill(vq, &vec[k], pkts[i + k], 1, &cb);
		vhu_split_return_run(vq, heads, need, n);
		i += n;
		if (n == VHU_SPLIT_RUN || i == count)
			continue;
		if (!enqueue_one(vq, &cur, &b, pkts[i], &cb))
			break;
		i++;
	}
	vhu_copy_batch_flush(&cb);
	vhu_split_flush(vq, &b);
	return i;
}
