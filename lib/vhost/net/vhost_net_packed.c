/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio-net bursts on packed rings. Same contract as the split bursts in
 * vhost_net_split.c; the public bursts in vhost_net.c call one or the other.
 */
#include "vhost_net.h"
#include "virtq_packed.h"
#include "vhost_net_burst.h"

/*
 * Guest TX, batch path (see VHU_PACKED_BATCH): take the four packets at the
 * cursor into pkts[*out..], if they are a batch whose buffers map whole.
 * Returns false, having changed nothing, if they are not. The packets
 * without a header to keep that fit one mbuf (most) are copied here, the
 * others by vhu_net_tx_copy_one(), which drops what the single path would.
 *
 * Always inlined: called once per four packets, its call, spills and
 * reloads cost 9 instructions a packet (packed/g2h-64, test/perf/instructions.py).
 */
static __rte_always_inline bool
dequeue_batch(struct vhu_vq *vq, struct vhu_cursor *cur, struct vhu_packed_batch *batch,
	      struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t *out)
{
	const struct vhu_net_vq *nq = vhu_net_q(vq);
	const uint32_t hdr_len = nq->hdr_len;
	const bool offload = nq->offload;
	uint64_t tail[VHU_PACKED_BATCH], addr[VHU_PACKED_BATCH];
	struct vhu_buf_vec vec[VHU_PACKED_BATCH];
	uint16_t k, n = *out;

	if (!vhu_packed_read_four(vq, cur->idx, cur->wrap, false, tail, addr) ||
	    !vhu_packed_map_four(vq, cur->idx, false, tail, addr, NULL, vec))
		return false;
	VHU_PACKED_FOR_EACH (k)
		rte_prefetch0(vec[k].addr);
	vhu_packed_take_four(vq, tail);
	VHU_PACKED_FOR_EACH (k) {
		if (likely(!offload) && likely(vhu_net_tx_copy_plain(pkts[n], vec[k].addr + hdr_len,
								     vec[k].len - hdr_len)))
			n++;
		else
			n += vhu_net_tx_copy_one(vq, vec[k].addr, vec[k].len, mp, pkts[n]);
	}
	vhu_packed_return_four(vq, batch, tail, NULL);
	vhu_packed_advance(vq, &cur->idx, &cur->wrap, VHU_PACKED_BATCH);
	*out = n;
	vq->stats.batched += VHU_PACKED_BATCH;
	return true;
}

uint16_t
vhu_net_dequeue_packed(struct vhu_vq *vq, struct rte_mempool *mp, struct rte_mbuf **pkts,
		       uint16_t count)
{
	struct vhu_buf_vec vec[VHU_VEC_MAX];
	struct vhu_packed_batch batch;
	struct vhu_cursor cur;
	uint16_t i, out = 0;

	if (!vhu_packed_begin(vq, &cur, &batch, true))
		return 0;
	if (unlikely(rte_pktmbuf_alloc_bulk(mp, pkts, count) != 0)) {
		vq->stats.nombuf++;
		return 0;
	}
	for (i = 0; i < count; i++) {
		struct vhu_chain c;
		uint32_t nvec = 0;
		enum vhu_chain_rc rc;

		if (count - i >= VHU_PACKED_BATCH &&
		    dequeue_batch(vq, &cur, &batch, mp, pkts, &out)) {
			i += VHU_PACKED_BATCH - 1;
			continue;
		}
		if (i > 0 && !vhu_packed_more(vq, &cur))
			break;
		rc = vhu_packed_pop(vq, &cur, false, vec, &nvec, &c);
		if (unlikely(rc < 0))
			break; /* broken, or an IOTLB miss: the chain stays in the ring */
		vhu_packed_take(vq, &c);
		if (likely(rc == VHU_CHAIN_OK) &&
		    likely(vhu_net_tx_copy(vq, vec, nvec, c.len, mp, pkts[out]) == 0)) {
			out++;
		} else {
			vq->stats.errors++;
			rte_pktmbuf_reset(pkts[out]);
		}
		vhu_packed_return(vq, &batch, &c, 0);
	}
	vhu_packed_flush(vq, &batch);
	if (out < count)
		rte_pktmbuf_free_bulk(&pkts[out], count - out);
	return out;
}

/*
 * vhu_net_rx_fill() of packet 'm' into a buffer of one piece, 'len' bytes at
 * 'addr'. Out of line: the batch's rare path (offloads, dirty logging, a full
 * copy batch), kept out of its registers.
 */
static __rte_noinline void
rx_fill_one(struct vhu_vq *vq, uint8_t *addr, uint32_t len, struct rte_mbuf *m,
	    struct vhu_copy_batch *cb)
{
	const struct vhu_buf_vec vec = { .addr = addr, .len = len };

	vhu_net_rx_fill(vq, &vec, m, 1, cb);
}

/*
 * The batch's four plain packets (no offloads, no dirty logging): each
 * buffer gets the header 'hdr' of 'hdr_len' bytes and its packet, whose copy
 * is deferred to 'cb' if small (room for four checked by the caller).
 * Inlined with 'hdr_len' a constant where it is one, the header goes in
 * without a test of its length per packet: instructions a packet
 * (test/perf/instructions.py) packed/h2g-64 140.4 -> 138.4, 1518 B 278.0
 * -> 273.5.
 */
static __rte_always_inline void
rx_fill_plain_four(const struct vhu_buf_vec *vec, struct rte_mbuf **pkts, struct vhu_copy_batch *cb,
		   const struct virtio_net_hdr_mrg_rxbuf *hdr, const uint32_t hdr_len,
		   const bool pfw)
{
	uint32_t n = cb->n; /* a local: the header stores could alias cb->n */
	uint16_t k;

	VHU_PACKED_FOR_EACH (k) {
		const struct rte_mbuf *m = pkts[k];

		/* The line the packet starts in, which the front-end's core had
		 * last: asked for now, it comes before the deferred copy (virtq.h). */
		if (pfw)
			vhu_prefetchw_line(vec[k].addr + hdr_len);
		rx_put_hdr(vec[k].addr, hdr, hdr_len);
		if (m->data_len <= VHU_COPY_DEFER_MAX) {
			cb->e[n].dst = vec[k].addr + hdr_len;
			cb->e[n].src = rte_pktmbuf_mtod(m, const uint8_t *);
			cb->e[n].len = m->data_len;
			n++;
		} else {
			vhu_copy(vec[k].addr + hdr_len, rte_pktmbuf_mtod(m, const uint8_t *),
				 m->data_len);
		}
	}
	cb->n = n;
}

/*
 * Guest RX, batch path (see VHU_PACKED_BATCH): give pkts[0..4), each of one
 * segment and fitting one buffer, to the four slots at the cursor. Returns
 * false, having changed nothing, if they do not qualify. 'hdr' is the header
 * of a packet without offloads in one buffer (num_buffers 1); 'offload' the
 * mbuf flags that give a packet another (worked out once a burst, where
 * once a batch cost 1.8 instructions a packet: packed/h2g-64,
 * test/perf/instructions.py).
 *
 * Four plain packets (no offload flags) without dirty logging, the common
 * case, are written here: the one header every such packet gets, and the
 * packet's copy deferred (vhu_net_rx_fill() for the rest). A packet is
 * checked for the two once per batch with its neighbours, not once each.
 * Always inlined: 14 instructions a packet less (packed/h2g-64,
 * test/perf/instructions.py).
 */
static __rte_always_inline bool
enqueue_batch(struct vhu_vq *vq, struct vhu_cursor *cur, struct vhu_packed_batch *batch,
	      struct rte_mbuf **pkts, struct vhu_copy_batch *cb,
	      const struct virtio_net_hdr_mrg_rxbuf *hdr, const uint64_t offload, const bool pfw)
{
	struct vhu_net_vq *nq = vhu_net_q(vq);
	const uint32_t hdr_len = nq->hdr_len;
	uint64_t tail[VHU_PACKED_BATCH], addr[VHU_PACKED_BATCH];
	struct vhu_buf_vec vec[VHU_PACKED_BATCH];
	uint32_t want[VHU_PACKED_BATCH];
	uint64_t odd = 0;
	uint16_t k;

	VHU_PACKED_FOR_EACH (k) {
		odd |= (pkts[k]->nb_segs ^ 1u) | (pkts[k]->ol_flags & offload);
		want[k] = hdr_len + pkts[k]->data_len;
	}
	if (unlikely(odd != 0)) {
		for (k = 0; k < VHU_PACKED_BATCH; k++)
			if (pkts[k]->nb_segs != 1 || vhu_net_rx_prepare(vq, pkts[k]) != 0)
				return false;
	}
	if (!vhu_packed_read_four(vq, cur->idx, cur->wrap, true, tail, addr) ||
	    !vhu_packed_map_four(vq, cur->idx, true, tail, addr, want, vec))
		return false;
	vhu_packed_take_four(vq, tail);
	/* Returned before the copies, whose buffers' flags wait for the flush:
	 * the slots' lengths are written while they are in registers, and the
	 * copies that follow need no more of the slots than their addresses. A
	 * full shadow is written out first: copies before it. */
	if (unlikely(batch->n + VHU_PACKED_BATCH > VHU_SHADOW_USED))
		vhu_copy_batch_flush(cb);
	if (unlikely(!vhu_packed_return_four_read(vq, batch, cur->idx, cur->wrap, want))) {
		/* The used position is not the read one (a front-end set the two
		 * bases apart). vhu_packed_return_four() may then push the four
		 * one by one, and a push that finds the shadow full writes flags
		 * out, which must not overtake this batch's copies, not made yet:
		 * a shadow that cannot take the four is written out now, its
		 * copies made just above. */
		if (unlikely(batch->n + VHU_PACKED_BATCH > VHU_SHADOW_USED))
			vhu_packed_batch_out(vq, batch);
		vhu_packed_return_four(vq, batch, tail, want);
	}
	if (likely(odd == 0 && vq->log == NULL && cb->n + VHU_PACKED_BATCH <= VHU_COPY_BATCH)) {
		/* The header of every VERSION_1 device, a constant there. */
		if (likely(hdr_len == sizeof(*hdr)))
			rx_fill_plain_four(vec, pkts, cb, hdr, sizeof(*hdr), pfw);
		else
			rx_fill_plain_four(vec, pkts, cb, hdr, hdr_len, pfw);
	} else {
		VHU_PACKED_FOR_EACH (k)
			rx_fill_one(vq, vec[k].addr, vec[k].len, pkts[k], cb);
	}
	vhu_packed_advance(vq, &cur->idx, &cur->wrap, VHU_PACKED_BATCH);
	vq->stats.batched += VHU_PACKED_BATCH;
	return true;
}

/*
 * The packet does not fit in the pieces gathered from bufs[0..nbufs], the
 * last of which has more pieces than were kept (see "Receive chains of more
 * pieces" in vhost_net.h). If that chain alone has more pieces than a packet
 * may span, give it back unused with the chains reserved before it and
 * return true: the packet goes on with the chains after them. Otherwise
 * return false with *rc: VHU_CHAIN_DROP (the packet would need too many
 * pieces of good chains: refused) or what gathering the chain again gave,
 * if the guest has changed it meanwhile.
 */
static __rte_noinline bool
rx_packed_give_back(struct vhu_vq *vq, struct vhu_packed_batch *batch,
		    const struct vhu_chain *bufs, uint16_t nbufs, uint64_t need,
		    enum vhu_chain_rc *rc)
{
	uint16_t b;

	if (nbufs > 0) {
		/* Its pieces were counted after the other chains': count them alone. */
		struct vhu_buf_vec vec[VHU_VEC_MAX];
		uint16_t ndesc = 0, id = 0;
		uint64_t total = 0;
		uint32_t nvec = 0;

		*rc = vhu_packed_gather(vq, bufs[nbufs].slot, true, vec, &nvec, &total, &ndesc,
					&id);
		if (*rc != VHU_CHAIN_DROP) {
			if (*rc == VHU_CHAIN_OK)
				*rc = VHU_CHAIN_DROP;
			return false;
		}
	}
	for (b = 0; b <= nbufs; b++) {
		vhu_packed_take(vq, &bufs[b]);
		vhu_packed_return(vq, batch, &bufs[b], 0);
	}
	vhu_net_rx_given_back(vq, bufs[nbufs].slot, nbufs + 1, need);
	*rc = VHU_CHAIN_OK;
	return true;
}

/*
 * The receive burst, with or without the write prefetch of the batch's
 * buffers ('pfw', a constant in each of the two copies below: decided once
 * a burst, not once a packet, where a test of the flag cost 6 instructions
 * a packet, test/perf/instructions.py).
 */
static __rte_always_inline uint16_t
enqueue_packed(struct vhu_vq *vq, struct rte_mbuf **pkts, uint16_t count, const bool pfw)
{
	struct vhu_net_vq *nq = vhu_net_q(vq);
	struct vhu_copy_batch cb;
	struct virtio_net_hdr_mrg_rxbuf hdr = { .num_buffers = 1 };
	struct vhu_buf_vec vec[VHU_VEC_MAX];
	struct vhu_chain bufs[VHU_VEC_MAX];
	struct vhu_packed_batch batch;
	struct vhu_cursor cur, start;
	/* A packet whose header is not the plain template: an offload to ask
	 * for or refuse, or, with an offload negotiated, a checksum already
	 * good (DATA_VALID for a GUEST_CSUM guest: vhu_net_mbuf_to_hdr()). The
	 * batches' test, worked out once a burst. */
	const uint64_t offload = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK |
				 (nq->offload ? RTE_MBUF_F_RX_L4_CKSUM_GOOD : 0);
	uint16_t i;

	if (!vhu_packed_begin(vq, &cur, &batch, false))
		return 0;
	cb.n = 0; /* not the whole struct: its entries are written before they are read */
	start = cur;
	for (i = 0; i < count; i++) {
		struct rte_mbuf *m;
		uint64_t need, left;
		enum vhu_chain_rc rc;
		struct vhu_cursor at;
		uint16_t nbufs = 0, b;
		uint32_t nvec = 0;

		if (count - i >= VHU_PACKED_BATCH &&
		    enqueue_batch(vq, &cur, &batch, pkts + i, &cb, &hdr, offload, pfw)) {
			i += VHU_PACKED_BATCH - 1;
			continue;
		}
		/* Only now: a batch would not use them, and they stayed live across it. */
		m = pkts[i];
		need = (uint64_t)nq->hdr_len + m->pkt_len;
		at = cur;	/* where this packet's chains are popped */
		if (unlikely(vhu_net_rx_prepare(vq, m) != 0)) {
			vq->stats.bad_hdr++;
			break; /* the caller keeps (and drops) pkts[i..] */
		}

		/* Reserve chains until the packet fits: one without MRG_RXBUF. A
		 * chain of too many pieces is given back, and the packet tries the
		 * next, within one lap of the ring per burst: no driver makes more
		 * available, but a hostile one re-posting behind us would keep
		 * this going for ever. */
		for (;;) {
			struct vhu_cursor here;
			bool long_chain;

			rc = vhu_net_rx_reserve(vq, true, &at, need, vec, &nvec, bufs, &nbufs,
						&here, &long_chain);
			if (likely(!long_chain) ||
			    vhu_packed_dist(vq, start.idx, start.wrap, here.idx, here.wrap) >=
				    vq->size ||
			    !rx_packed_give_back(vq, &batch, bufs, nbufs, need, &rc))
				break;
			cur = at;
			nbufs = 0;
			nvec = 0;
		}
		if (unlikely(rc != VHU_CHAIN_OK)) {
			nq->rx_miss = rc == VHU_CHAIN_RETRY;
			break;	/* broken ring, no room or a miss: pkts[i..] not taken */
		}
		vhu_net_rx_fill(vq, vec, m, nbufs, &cb);
		/* The pushes below write out a full shadow, flags and all, before
		 * the burst's end: make the deferred copies of those packets first. */
		if (unlikely(batch.n + nbufs > VHU_SHADOW_USED))
			vhu_copy_batch_flush(&cb);
		left = need;
		for (b = 0; b < nbufs; b++) {
			uint32_t used = (uint32_t)RTE_MIN(left, bufs[b].len);

			vhu_packed_take(vq, &bufs[b]);
			vhu_packed_return(vq, &batch, &bufs[b], used);
			left -= used;
		}
		cur = at;
	}
	vhu_copy_batch_flush(&cb);
	vhu_packed_flush(vq, &batch);
	return i;
}

static __rte_noinline uint16_t
enqueue_packed_prefetchw(struct vhu_vq *vq, struct rte_mbuf **pkts, uint16_t count)
{
	return enqueue_packed(vq, pkts, count, true);
}

static __rte_noinline uint16_t
enqueue_packed_plain(struct vhu_vq *vq, struct rte_mbuf **pkts, uint16_t count)
{
	return enqueue_packed(vq, pkts, count, false);
}

/*
 * The A/B switch's built-in experiment (vhu_vhost_ab_set()): variant 1 runs
 * without the write prefetch, so one process can compare the two. The
 * variant is read only where the prefetch is on, once per burst.
 */
uint16_t
vhu_net_enqueue_packed(struct vhu_vq *vq, struct rte_mbuf **pkts, uint16_t count)
{
	return likely(vhu_prefetch_write_on()) ? enqueue_packed_prefetchw(vq, pkts, count)
					       : enqueue_packed_plain(vq, pkts, count);
}
