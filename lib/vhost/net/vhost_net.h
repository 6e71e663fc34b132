/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Copies between gathered guest buffers and mbufs, shared by the split
 * (vhost_net_split.c) and packed (vhost_net_packed.c) net bursts. Private.
 */
#ifndef VHU_VHOST_NET_H
#define VHU_VHOST_NET_H

#include <string.h>

#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "virtq_verbs.h"
#include "vhost_net_copy.h"
#include "vhost_net_offload.h"

/* Packets a receive ring holds while their buffers' IOTLB entries are fetched. */
#define VHU_RX_STASH 64
/* Largest packet the backend assembles from a guest TX chain. */
#define VHU_MAX_PKT_LEN (64 * 1024 + 128)

extern const struct vhu_device_type vhu_net_device_type;

/* The net device's state (after struct vhu_vhost_dev). Control thread, but see rarp_*. */
struct vhu_net_dev {
	uint16_t queue_pairs;	/* offered; rings 2 * qp (rx) and 2 * qp + 1 (tx) */
	uint16_t mtu;		/* offered MTU, 0 for none */
	uint16_t req_mtu;	/* NET_SET_MTU, 0 until the front-end sends one */
	uint32_t flags;		/* VHU_VHOST_CSUM, _TSO (offloads offered), _FRONTEND_MTU,
				 * _MISS_REFUSE */
	uint8_t mac[6];		/* config-space MAC */
	uint8_t rarp_mac[6];	/* SEND_RARP: the guest's MAC to announce */
	bool rarp_pending;	/* a RARP waits for the next dequeue on pair 0 (atomic: the
				 * control thread sets it, that lcore takes it) */
};

/*
 * A net ring's state (after struct vhu_vq). Filled by the control thread
 * before the ring is ready (net_queue_start()); then the polling lcore's.
 */
struct vhu_net_vq {
	uint16_t hdr_len;	/* virtio-net header bytes: 10 or 12 */
	bool mrg_rxbuf;		/* MRG_RXBUF negotiated */
	bool offload;		/* a checksum or TSO feature negotiated */
	bool rx_miss;		/* the last enqueue stopped on an IOTLB miss */
	uint16_t stash_n;	/* packets held in 'stash' */
	uint64_t features;	/* negotiated features, for the header */
	uint64_t rx_long_tsc;	/* last log line about a long receive chain given back
				 * (see below), to write one a second at most */
	struct rte_mbuf *stash[VHU_RX_STASH]; /* held on a miss, in order (a reference each) */
};

static inline struct vhu_net_dev *
vhu_net_dev(const struct vhu_vhost_dev *dev)
{
	return vhu_dev_priv(dev);
}

static inline struct vhu_net_vq *
vhu_net_q(const struct vhu_vq *vq)
{
	return vhu_vq_priv((struct vhu_vq *)(uintptr_t)vq);
}

/*
 * The copies of a burst's small packets into the guest's receive buffers,
 * made together at its end. Each writes a line the frontend's core holds (it
 * read the packet that buffer carried last time). Made one per packet,
 * between the reads of descriptors and headers, each one's transfer is
 * waited for in turn; made back to back, the transfers overlap. Measured on h2g 64 B
 * against DPDK's virtio-user: 18.5 -> 31.9 Mpps. Larger packets are copied
 * at once: their copy is long enough to hide the wait.
 */
#define VHU_COPY_BATCH 32
#define VHU_COPY_DEFER_MAX 256	/* bytes */
_Static_assert(VHU_COPY_DEFER_MAX <= 256, "deferred copies use vhu_copy_short()");

struct vhu_copy_batch {
	uint32_t n;
	struct {
		uint8_t *dst;
		const uint8_t *src;
		uint32_t len;
	} e[VHU_COPY_BATCH];
};

/*
 * Make the deferred copies. Before anything that hands their buffers to the
 * guest. The count and the end are read once, into locals: the copies'
 * stores may alias 'b' as far as the compiler knows, and reading b->n again
 * after each cost 1 to 2 instructions a packet (packed/h2g-64,
 * test/perf/instructions.py).
 */
static inline void
vhu_copy_batch_flush(struct vhu_copy_batch *b)
{
	const uint32_t n = b->n;
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint8_t *dst = b->e[i].dst;
		const uint8_t *src = b->e[i].src;
		const uint32_t len = b->e[i].len;

		vhu_copy_short(dst, src, len);
	}
	b->n = 0;
}

/*
 * Copy a packet of 'plen' bytes at 'src' into the fresh mbuf 'm' if it fits
 * its one segment; false (nothing done) if it does not, or is empty.
 */
static __rte_always_inline bool
vhu_net_tx_copy_plain(struct rte_mbuf *m, const uint8_t *src, uint32_t plen)
{
	/* plen - 1 wraps when the buffer holds no more than the header: refused too. */
	if (plen - 1 >= rte_pktmbuf_tailroom(m))
		return false;
	vhu_copy(rte_pktmbuf_mtod(m, void *), src, plen);
	m->data_len = (uint16_t)plen;
	m->pkt_len = plen;
	return true;
}

/*
 * The common case of vhu_net_tx_copy(): a chain of one buffer whose packet,
 * less the header, fits the fresh mbuf 'm', without offloads (no header to
 * keep). Copies it and returns true; false (nothing done) when it does not
 * apply. The general copy's loop costs about 60 instructions more a packet.
 * Always inlined: gcc 12 calls it out of line from the packed batch, 14 of
 * that batch's 173 instructions a packet more (test/perf/instructions.py).
 */
static __rte_always_inline bool
vhu_net_tx_copy_flat(const struct vhu_vq *vq, const struct vhu_buf_vec *vec, struct rte_mbuf *m)
{
	const struct vhu_net_vq *nq = vhu_net_q(vq);

	return !nq->offload &&
	       vhu_net_tx_copy_plain(m, vec->addr + nq->hdr_len, vec->len - nq->hdr_len);
}

/*
 * Copy the gathered chain, less its virtio-net header, into 'm' (a fresh
 * mbuf), chaining more mbufs from 'mp' if needed, the general way: for a
 * chain vhu_net_tx_copy_flat() refused, or that is not flat. Returns 0, or
 * -1 to drop. (Not deferred like the receive copies: the dequeue gathers a
 * chain ahead and prefetches it, and deferring on top measured no better:
 * g2h 64 B best 19.2 against 19.9 Mpps.)
 *
 * Always inlined: out of line in the split burst's file it cost 9
 * instructions a packet there and 19 in the packed one
 * (test/perf/instructions.py, split/g2h-64 and packed/g2h-64).
 */
static __rte_always_inline int
vhu_net_tx_copy_general(struct vhu_vq *vq, const struct vhu_buf_vec *vec, uint32_t nvec,
			uint64_t total, struct rte_mempool *mp, struct rte_mbuf *m)
{
	struct vhu_net_vq *nq = vhu_net_q(vq);
	uint32_t skip = nq->hdr_len, i, room, hoff = 0;
	struct virtio_net_hdr_mrg_rxbuf hdr;
	struct rte_mbuf *cur = m;
	uint64_t pkt_len;

	if (unlikely(total <= skip || total - skip > VHU_MAX_PKT_LEN))
		return -1; /* header longer than the chain, empty or oversized packet */
	pkt_len = total - skip;
	room = rte_pktmbuf_tailroom(cur);
	for (i = 0; i < nvec; i++) {
		const uint8_t *src = vec[i].addr;
		uint32_t len = vec[i].len;

		if (skip > 0) {
			uint32_t s = RTE_MIN(skip, len);

			/* Keep a copy of the header: the guest may rewrite its memory. */
			if (nq->offload)
				memcpy((uint8_t *)&hdr + hoff, src, s);
			hoff += s;
			src += s;
			len -= s;
			skip -= s;
		}
		while (len > 0) {
			uint32_t c;

			if (unlikely(room == 0)) {
				struct rte_mbuf *seg = rte_pktmbuf_alloc(mp);

				if (seg == NULL) {
					vq->stats.nombuf++;
					goto fail;
				}
				cur->next = seg;
				cur = seg;
				m->nb_segs++;
				room = rte_pktmbuf_tailroom(cur);
			}
			c = RTE_MIN(len, room);
			rte_memcpy(rte_pktmbuf_mtod_offset(cur, void *, cur->data_len), src, c);
			cur->data_len += c;
			room -= c;
			src += c;
			len -= c;
		}
	}
	m->pkt_len = (uint32_t)pkt_len;
	if (unlikely(nq->offload) && vhu_net_hdr_to_mbuf(&hdr.hdr, m, nq->features) != 0) {
		vq->stats.bad_hdr++;
		goto fail;
	}
	return 0;
fail:
	/* Free the segments chained so far; the caller resets and reuses 'm'. */
	rte_pktmbuf_free(m->next);
	m->next = NULL;
	return -1;
}

/* Copy the gathered chain into 'm': flat if it can (vhu_net_tx_copy_flat()), else in general. */
static __rte_always_inline int
vhu_net_tx_copy(struct vhu_vq *vq, const struct vhu_buf_vec *vec, uint32_t nvec, uint64_t total,
		struct rte_mempool *mp, struct rte_mbuf *m)
{
	if (likely(nvec == 1) && vhu_net_tx_copy_flat(vq, vec, m))
		return 0;
	return vhu_net_tx_copy_general(vq, vec, nvec, total, mp, m);
}

/* Copy 'len' bytes from 'src' into the vec at (*vi, *voff). */
static inline void
rx_write(const struct vhu_buf_vec *vec, uint32_t *vi, uint32_t *voff, const uint8_t *src,
	 uint32_t len)
{
	while (len > 0) {
		uint32_t room = vec[*vi].len - *voff, c = RTE_MIN(room, len);

		rte_memcpy(vec[*vi].addr + *voff, src, c);
		*voff += c;
		src += c;
		len -= c;
		if (*voff == vec[*vi].len) {
			(*vi)++;
			*voff = 0;
		}
	}
}

_Static_assert(sizeof(struct virtio_net_hdr) == 10 && sizeof(struct virtio_net_hdr_mrg_rxbuf) == 12,
	       "rx_put_hdr() compares the header as 8 + 2 or 8 + 4 bytes");

/*
 * Store the header 'hdr' of 'len' bytes (10 or 12) at 'dst' unless dst already
 * holds it. The frontend reads the header of every packet, and most headers
 * are what the same buffer held last time (num_buffers 1, no offload): a load
 * keeps the line shared between the two cores, where a store would take it
 * from the frontend's cache and make its next read miss. (A frontend that
 * puts the header in its buffer's headroom has it on a line of its own.)
 * The guest may change dst under us at any time; that only changes what it
 * reads back, never what we do.
 *
 * Always inlined: GCC 12 at -O3 inlines it without being told to (no
 * out-of-line copy is left), but the code it then makes costs more
 * instructions a packet on every receive path (vhu's, instructions.py
 * --paths h2g, forced -> not forced): split/h2g-64 170.1 -> 172.1,
 * split/h2g-1518 305.2 -> 307.2, packed/h2g-64 135.2 -> 137.2,
 * packed/h2g-1518 270.7 -> 275.5.
 */
static __rte_always_inline void
rx_put_hdr(uint8_t *dst, const struct virtio_net_hdr_mrg_rxbuf *hdr, uint32_t len)
{
	/* Compared as two words in registers, the buffer's read once: a
	 * byte-wise memcmp() of a copy on the stack cost about 20 instructions
	 * a packet more (packed/h2g-64, test/perf/instructions.py). */
	uint64_t want0, have0;

	memcpy(&want0, hdr, sizeof(want0));
	memcpy(&have0, dst, sizeof(have0));
	if (len == sizeof(*hdr)) {
		uint32_t want1, have1;

		memcpy(&want1, (const uint8_t *)hdr + 8, sizeof(want1));
		memcpy(&have1, dst + 8, sizeof(have1));
		if (((have0 ^ want0) | (have1 ^ want1)) != 0) {
			memcpy(dst, &want0, sizeof(want0));
			memcpy(dst + 8, &want1, sizeof(want1));
		}
	} else {
		uint16_t want1, have1;

		memcpy(&want1, (const uint8_t *)hdr + 8, sizeof(want1));
		memcpy(&have1, dst + 8, sizeof(have1));
		if (((have0 ^ want0) | (uint16_t)(have1 ^ want1)) != 0) {
			memcpy(dst, &want0, sizeof(want0));
			memcpy(dst + 8, &want1, sizeof(want1));
		}
	}
}

/*
 * Write header (with num_buffers) and the packet into the gathered buffers.
 * The packet passed vhu_net_rx_prepare() first. A small one-segment packet's
 * copy may go into 'cb' (if not NULL), to be made by vhu_copy_batch_flush()
 * before the burst publishes its buffers; not while dirty logging, where a
 * page must be marked after it is written.
 *
 * Always inlined: 4 to 6 instructions a packet less on every receive burst
 * (test/perf/instructions.py, split/h2g and packed/h2g).
 */
static __rte_always_inline void
vhu_net_rx_fill(struct vhu_vq *vq, const struct vhu_buf_vec *vec, struct rte_mbuf *m,
	uint16_t num_buffers, struct vhu_copy_batch *cb)
{
	struct vhu_net_vq *nq = vhu_net_q(vq);
	struct virtio_net_hdr_mrg_rxbuf hdr;
	uint32_t vi = 0, voff = 0;
	const struct rte_mbuf *seg;

	memset(&hdr, 0, sizeof(hdr));
	hdr.num_buffers = num_buffers;
	if (unlikely(nq->offload))
		vhu_net_mbuf_to_hdr(m, &hdr.hdr, nq->features);
	if (likely(m->nb_segs == 1 && vec[0].len >= nq->hdr_len + m->data_len)) {
		rx_put_hdr(vec[0].addr, &hdr, nq->hdr_len);
		if (cb != NULL && m->data_len <= VHU_COPY_DEFER_MAX && likely(vq->log == NULL)) {
			if (unlikely(cb->n == VHU_COPY_BATCH))
				vhu_copy_batch_flush(cb);
			cb->e[cb->n].dst = vec[0].addr + nq->hdr_len;
			cb->e[cb->n].src = rte_pktmbuf_mtod(m, const uint8_t *);
			cb->e[cb->n].len = m->data_len;
			cb->n++;
			return;
		}
		vhu_copy(vec[0].addr + nq->hdr_len, rte_pktmbuf_mtod(m, void *), m->data_len);
		if (unlikely(vq->log != NULL))
			vhu_log_hva(vq, vec[0].addr, nq->hdr_len + m->data_len);
		return;
	}
	if (vec[0].len >= nq->hdr_len) {
		rx_put_hdr(vec[0].addr, &hdr, nq->hdr_len);
		voff = nq->hdr_len;
		if (voff == vec[0].len) {
			vi = 1;
			voff = 0;
		}
	} else {
		rx_write(vec, &vi, &voff, (const uint8_t *)&hdr, nq->hdr_len);
	}
	for (seg = m; seg != NULL; seg = seg->next)
		rx_write(vec, &vi, &voff, rte_pktmbuf_mtod(seg, const uint8_t *), seg->data_len);
	if (unlikely(vq->log != NULL)) {
		uint32_t i;

		for (i = 0; i < vi; i++)
			vhu_log_hva(vq, vec[i].addr, vec[i].len);
		if (voff > 0) /* vi may be one past the last piece when all were filled */
			vhu_log_hva(vq, vec[vi].addr, voff);
	}
}


/*
 * Before a packet is given to the guest: complete what the guest cannot do
 * (checksums it did not negotiate) and refuse what it cannot take (TSO
 * without GUEST_TSO). Returns 0, or -1 if the packet cannot be delivered.
 */
static inline int
vhu_net_rx_prepare(struct vhu_vq *vq, struct rte_mbuf *m)
{
	struct vhu_net_vq *nq = vhu_net_q(vq);
	struct virtio_net_hdr h;

	if (likely(!(m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK))))
		return 0;
	memset(&h, 0, sizeof(h));
	return vhu_net_mbuf_to_hdr(m, &h, nq->offload ? nq->features : 0);
}

/*
 * Receive chains of more pieces than one packet may span (VHU_VEC_MAX).
 *
 * Such a chain is legal (a chain may be as long as the ring) but longer than
 * the device gathers: vhu_vec_add() keeps its first VHU_VEC_MAX pieces and
 * the walk reports VHU_CHAIN_DROP. Leaving it in the ring until something
 * fits would stop the ring for good, and silently: the guest never takes back
 * a buffer it has posted, and every packet after would wait behind it. So:
 *
 *  - if the packet fits in the pieces kept, it goes there: a device may
 *    write any leading part of a device-writable buffer, and the used length
 *    tells the driver how much it wrote;
 *  - if not, the chain goes back to the guest used with length 0, which is
 *    legal for a device-writable buffer; drivers count and recycle such a
 *    buffer (Linux's virtio-net as rx_length_errors, DPDK's virtio PMD as
 *    receive errors). It is counted in the ring's errors and logged at most
 *    once a second per ring, and the packet goes on to the chains behind it,
 *    so only the packets that find no buffer at all are left with the caller;
 *  - with MRG_RXBUF, the buffers the packet had reserved before such a chain
 *    go back with it: the packet cannot reach past that chain, and left in
 *    place they would stop every packet that needs them and the chain too.
 *
 * A packet that would spread over more than VHU_VEC_MAX pieces of chains
 * that are each within the limit (MRG_RXBUF with many small buffers) is
 * refused and left with the caller, as a packet too big for the guest's
 * buffers is: nothing is wrong with the chains, and smaller packets use them.
 *
 * The transmit rings drop such a chain (used with length 0, counted): a
 * packet cut to its first pieces would be a different packet.
 */

/* Bytes held by the pieces vec[from..to). */
static inline uint64_t
vhu_vec_bytes(const struct vhu_buf_vec *vec, uint32_t from, uint32_t to)
{
	uint64_t n = 0;

	for (; from < to; from++)
		n += vec[from].len;
	return n;
}

/*
 * Count 'nchains' receive chains given back unused because of the long chain
 * at 'where' (split: head; packed: slot), for a packet of 'need' bytes with
 * its header, and log it at most once a second per ring. The owning lcore.
 */
void vhu_net_rx_given_back(struct vhu_vq *vq, uint32_t where, uint32_t nchains, uint64_t need)
	__rte_cold;

/*
 * Enter a burst on the ring of queue pair 'qp' in direction 'tx' (guest
 * transmit): the ring, marked busy until vhu_vq_leave(), or NULL if there is
 * no such queue or it is unusable now (nothing to leave).
 */
static inline struct vhu_vq *
vhu_net_enter(struct vhu_vhost_dev *dev, uint16_t qp, bool tx)
{
	if (unlikely(dev == NULL || qp >= vhu_net_dev(dev)->queue_pairs))
		return NULL;
	return vhu_vq_enter(dev, 2 * qp + tx);
}

#endif /* VHU_VHOST_NET_H */
