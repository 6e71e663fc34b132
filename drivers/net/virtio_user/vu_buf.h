/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Buffers as both ring layouts post and take them back (vu_split.h,
 * vu_packed.h): the pieces of a chain, the receive refill's policy and the
 * mbuf template it writes, the test and set-up of a plain packet to send,
 * and the freeing of sent mbufs. Nothing here knows a ring layout; each
 * layout's add and reclaim loops call these per buffer.
 */
#ifndef VHU_VU_BUF_H
#define VHU_VU_BUF_H

#include <stddef.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include "vu_private.h"

/* A piece of a descriptor chain. */
struct vu_piece {
	uint64_t addr;	/* device address */
	uint32_t len;	/* bytes */
	uint16_t flags; /* VRING_DESC_F_WRITE for a piece the device writes, else 0 */
};

/* Post rx buffers only in batches of this many, or at half empty on a smaller ring. */
#define VU_RX_REFILL_MIN 32

/*
 * Is it time to post fresh buffers? An empty ring always is: every rx
 * buffer takes one descriptor, so with none posted all 'size' are free, and
 * refill_at is at most 'size'.
 */
static inline bool
vu_rx_wants_refill(const struct vu_vq *vq)
{
	return vq->num_free >= vq->refill_at;
}

/* Copy field 'f' of 'm' to where it lies in bytes 'b', which start at rearm_data. */
#define VU_RX_INIT_PUT(b, m, f) \
	memcpy((b) + offsetof(struct rte_mbuf, f) - offsetof(struct rte_mbuf, rearm_data), &(m).f, \
	       sizeof((m).f))

/*
 * The bytes of struct vu_rx_init for mbufs of 'pool' received on port
 * 'port': the default headroom, one reference, one segment, the port; the
 * offload flags RTE_MBUF_F_EXTERNAL when the pool lends pinned external
 * buffers (a raw mbuf of such a pool has it for life, one of any other pool
 * has none: rte_pktmbuf_detach() clears them), else 0; packet type,
 * lengths, VLAN tag and RSS hash 0. Built field by field, so it holds on
 * any byte order; the compiler folds it to constants and the port.
 */
static inline void
vu_rx_init_make(struct vu_rx_init *init, const struct rte_mempool *pool, uint16_t port)
{
	uint8_t b[sizeof(*init)] = { 0 };
	struct rte_mbuf m;

	RTE_BUILD_BUG_ON(offsetof(struct rte_mbuf, hash) + sizeof(m.hash.rss) -
				 offsetof(struct rte_mbuf, rearm_data) !=
			 sizeof(b));
	m.data_off = RTE_PKTMBUF_HEADROOM;
	m.refcnt = 1;
	m.nb_segs = 1;
	m.port = port;
	m.ol_flags = 0;
	if ((rte_pktmbuf_priv_flags((struct rte_mempool *)(uintptr_t)pool) &
	     RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF) != 0)
		m.ol_flags = RTE_MBUF_F_EXTERNAL;
	VU_RX_INIT_PUT(b, m, data_off);
	VU_RX_INIT_PUT(b, m, refcnt);
	VU_RX_INIT_PUT(b, m, nb_segs);
	VU_RX_INIT_PUT(b, m, port);
	VU_RX_INIT_PUT(b, m, ol_flags);
	memcpy(&init->lo, b, sizeof(init->lo));
	memcpy(&init->hi, b + sizeof(init->lo), sizeof(init->hi));
}

/*
 * Set what the receive refill reads of 'vq' and never changes while the ring
 * is published (its pool is the port's for life, its port id too), so that
 * a refill loads it rather than work it out:
 *  - the free descriptors that make a refill, the smaller of
 *    VU_RX_REFILL_MIN and half the ring (a small ring would run dry between
 *    batches), at least 1; at 0, as half of a one-slot ring was, every poll
 *    wanted a refill and none was idle;
 *  - the mbuf template every refill writes (vu_rx_init_make()), once here
 *    where each refill built it, with a load from the pool's private area.
 * Control side, the ring unpublished (vu_rx_fill()).
 */
static inline void
vu_rx_ring_init(struct vu_vq *vq)
{
	uint16_t half = vq->size / 2;

	vq->refill_at = half == 0 ? 1 : RTE_MIN(half, (uint16_t)VU_RX_REFILL_MIN);
	vu_rx_init_make(&vq->rx_init, vq->pool, vq->port_id);
}

/*
 * Make raw mbuf 'm' a receive buffer, and its slot 's' at ring position
 * 'pos'. A raw mbuf has from the pool one segment, no next and a reference
 * count of 1; everything else is what its last user left. So, as
 * rte_pktmbuf_reset() would: data_off, refcnt, nb_segs, port, the offload
 * flags, packet type and VLAN tag from 'init' (vq->rx_init), the
 * outer VLAN tag and the tx offload fields zeroed; the lengths are set when
 * it receives. The device writes the 'hdr'-byte header just below the data
 * offset. Returns the buffer's device address; *len its size.
 */
static inline uint64_t
vu_rx_buf_init(struct rte_mbuf *m, const struct vu_rx_init *init, uint16_t hdr, struct vu_slot *s,
	       uint16_t pos, uint32_t *len)
{
	uint8_t *b = (uint8_t *)m + offsetof(struct rte_mbuf, rearm_data);

	memcpy(b, &init->lo, sizeof(init->lo));
	memcpy(b + sizeof(init->lo), &init->hi, sizeof(init->hi));
	m->vlan_tci_outer = 0;
	m->tx_offload = 0;
	*len = m->buf_len - RTE_PKTMBUF_HEADROOM + hdr;
	s->m = m;
	s->len = *len;
	s->ndescs = 1;
	s->last = pos;
	return m->buf_iova + RTE_PKTMBUF_HEADROOM - hdr;
}

/*
 * Is 'm' a plain packet to send: one direct segment of the shared pool
 * 'pool', ours alone, with room for the 'hdr'-byte header in its headroom?
 * Then its bytes lie in shared memory at its buf_iova (the pool is
 * populated unit by unit, vu_mem_populate()), the header goes into its
 * headroom, and once sent it goes straight back to the pool (what
 * rte_pktmbuf_free() would do with it), so the fast path takes it with
 * none of vu_tx_burst()'s general checks.
 */
static inline bool
vu_tx_plain(const struct rte_mbuf *m, const struct rte_mempool *pool, uint16_t hdr)
{
	return m->pool == pool && RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 &&
	       m->nb_segs == 1 && m->next == NULL && m->data_off >= hdr;
}

/*
 * Zero the virtio-net header at 'p', 10 bytes or (with MRG_RXBUF or
 * VERSION_1) 12: constant sizes, so stores rather than a call to memset
 * (12 to 17 instructions a packet, front/split/g2h-64). A received mbuf
 * sent back still holds the device's header.
 */
static inline void
vu_tx_hdr_clear(uint8_t *p, uint16_t hdr)
{
	memset(p, 0, sizeof(struct virtio_net_hdr));
	if (hdr == sizeof(struct virtio_net_hdr_mrg_rxbuf))
		memset(p + sizeof(struct virtio_net_hdr), 0, sizeof(uint16_t));
}

/*
 * Zero the 'hdr'-byte virtio-net header just below the data of plain packet
 * 'm', and fill its slot 's' at ring position 'pos'. Returns the device
 * address of the header; *len is the bytes from there to the end of the frame.
 */
static inline uint64_t
vu_tx_buf_init(struct rte_mbuf *m, uint16_t hdr, struct vu_slot *s, uint16_t pos, uint32_t *len)
{
	vu_tx_hdr_clear(rte_pktmbuf_mtod(m, uint8_t *) - hdr, hdr);
	*len = hdr + m->data_len;
	s->m = m;
	s->len = VU_TX_PLAIN;
	s->ndescs = 1;
	s->last = pos;
	return m->buf_iova + m->data_off - hdr;
}

/*
 * Free n sent mbufs. When all are what rte_pktmbuf_free() would put back
 * unchanged (one direct segment of one pool, the last reference) they go
 * back in one rte_mempool_put_bulk(); anything else takes the general
 * rte_pktmbuf_free_bulk(). The check costs less than that function's own
 * per-mbuf work: 40 instructions a packet fell to about 20
 * (front/split/g2h-64/io1).
 */
static inline void
vu_free_sent(struct rte_mbuf **ms, uint16_t n)
{
	struct rte_mempool *mp = ms[0]->pool;
	uint16_t i;

	for (i = 0; i < n; i++) {
		const struct rte_mbuf *m = ms[i];

		if (unlikely(m->pool != mp || rte_mbuf_refcnt_read(m) != 1 || !RTE_MBUF_DIRECT(m) ||
			     m->next != NULL || m->nb_segs != 1)) {
			rte_pktmbuf_free_bulk(ms, n);
			return;
		}
	}
	rte_mempool_put_bulk(mp, (void **)ms, n);
}

/*
 * Free n sent mbufs whose slots' 'len' OR to 'kinds': when all were plain
 * (VU_TX_PLAIN, checked at post by vu_tx_plain()) they go back to the
 * shared pool in one rte_mempool_put_bulk() without a look at any of them;
 * otherwise through vu_free_sent().
 */
static inline void
vu_tx_free(const struct vu_vq *vq, struct rte_mbuf **ms, uint16_t n, uint32_t kinds)
{
	if (likely(kinds == VU_TX_PLAIN))
		rte_mempool_put_bulk(vq->pool, (void **)ms, n);
	else
		vu_free_sent(ms, n);
}

#endif /* VHU_VU_BUF_H */
