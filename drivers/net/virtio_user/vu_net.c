/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-net driver's bursts over split and packed rings.
 *
 * Receive is zero-copy: the rx ring holds mbufs of the shared pool, posted
 * so that the device writes the virtio-net header into their headroom and
 * the frame at their data offset; a received mbuf goes to the caller as it
 * is (several chained under MRG_RXBUF) and a fresh one takes its place.
 *
 * Transmit is zero-copy for mbufs whose bytes live in the shared pool: the
 * header goes into the headroom when the mbuf is ours alone, else into the
 * slot's tx area, and a chain of segments becomes one indirect descriptor
 * (a direct chain without INDIRECT_DESC). Other mbufs are copied into the
 * shared pool first, and counted. Plain packets (one direct segment of the
 * shared pool, ours alone: vu_tx_plain()), the usual case, take a fast path
 * of one descriptor each and go back to the pool in bulk once sent; the
 * slot remembers which path posted a packet, so reclaim knows how to free it.
 *
 * A burst on a queue the port does not have returns 0 (vu_queue_exists()).
 * Each burst marks its queue busy (vhu_burst_enter()), then checks the
 * queue's ready flag (acquire), so the control thread can take a ring back
 * at any time (vu_rings_unpublish() clears 'ready' and waits on the mark). While the
 * backend is away, rx still delivers what it completed and tx takes nothing.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_prefetch.h>

#include "vu_buf.h"
#include "vu_packed.h"
#include "vu_split.h"

/* ---- receive ---- */

/* Post up to 'n' fresh mbufs; returns how many. */
static inline uint16_t
vu_rx_post(struct vu_vq *vq, uint16_t n)
{
	struct rte_mbuf *ms[VU_MAX_BURST];

	n = RTE_MIN(n, (uint16_t)VU_MAX_BURST);
	/* Raw: the fields a received packet needs are set below, once. */
	if (unlikely(rte_mempool_get_bulk(vq->pool, (void **)ms, n) != 0)) {
		vq->stats.nombuf += n;
		if (vq->qstats != NULL)
			vhu_port_counter_add(&vq->qstats->nombuf, n);
		return 0;
	}
	if (vq->conf.packed)
		vu_packed_add_rx(vq, ms, n);
	else
		vu_split_add_rx(vq, ms, n);
	return n;
}

/* Refill what the burst consumed, publish and notify. */
static inline void
vu_rx_refill(struct vu_vq *vq)
{
	if (vu_rx_wants_refill(vq)) {
		while (vq->num_free > 0 && vu_rx_post(vq, vq->num_free) != 0)
			;
	}
	if (!vq->conf.packed)
		vu_split_quiet(vq);
	vu_flush_kick(vq);
}

void
vu_rx_fill(struct vu_vq *vq)
{
	vu_rx_ring_init(vq);
	while (vq->num_free > 0 && vu_rx_post(vq, vq->num_free) != 0)
		;
	if (!vq->conf.packed)
		vu_split_flush(vq);
	vq->added = 0; /* the backend reads the ring when it starts */
}

/* The virtio-net header the device wrote below the data offset of 'm'. */
static inline const struct virtio_net_hdr_mrg_rxbuf *
vu_rx_hdr(const struct vu_vq *vq, const struct rte_mbuf *m)
{
	return (const void *)((const uint8_t *)m->buf_addr + RTE_PKTMBUF_HEADROOM -
			      vq->conf.hdr_len);
}

/* How many buffers the packet starting with buffer 'id' spans; 0 if bogus. */
static inline uint16_t
vu_rx_nbufs(struct vu_vq *vq, uint32_t id)
{
	uint16_t nb;

	if (!vq->conf.mrg_rxbuf)
		return 1;
	nb = __atomic_load_n(&vu_rx_hdr(vq, vq->slots[id].m)->num_buffers, __ATOMIC_RELAXED);
	if (unlikely(nb == 0 || nb > vq->inflight)) {
		vu_vq_set_broken(vq, "num_buffers %u in the header of id %u (%u buffers posted)",
				 nb, id, vq->inflight);
		return 0;
	}
	return nb;
}

/* A receive buffer the device gave back with nothing in it: counted, freed, posted anew. */
static void __rte_cold
vu_rx_unused(struct vu_vq *vq, struct rte_mbuf *m)
{
	vq->stats.errors++;
	rte_pktmbuf_free(m);
}

/* Turn the first buffer of a packet into the packet's head mbuf; false if too short. */
static inline bool
vu_rx_head(struct vu_vq *vq, struct rte_mbuf *m, uint32_t len)
{
	uint16_t hdr = vq->conf.hdr_len;

	if (unlikely(len < hdr)) {
		vu_vq_set_broken(vq, "used length %u is shorter than the %u-byte header", len, hdr);
		rte_pktmbuf_free(m);
		return false;
	}
	m->data_len = (uint16_t)(len - hdr);
	m->pkt_len = len - hdr;
	m->port = vq->port_id;
	return true;
}

/* Chain a further buffer of a mergeable packet; its data starts where the header would. */
static inline void
vu_rx_append(struct vu_vq *vq, struct rte_mbuf *head, struct rte_mbuf **tail, struct rte_mbuf *m,
	     uint32_t len)
{
	m->data_off = RTE_PKTMBUF_HEADROOM - vq->conf.hdr_len;
	m->data_len = (uint16_t)len;
	head->pkt_len += len;
	head->nb_segs++;
	(*tail)->next = m;
	*tail = m;
}

static uint16_t
vu_rx_split(struct vu_vq *vq, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t avail = vu_split_used_count(vq), i = 0, nb = 0, k;

	/* Packets of one buffer each, the usual case, in one pass; the general
	 * loop below takes what it left (a violation it latches, an unused
	 * buffer, mergeable buffers). */
	if (!vq->conf.mrg_rxbuf) {
		nb = vu_split_rx_fast(vq, pkts, RTE_MIN(n, avail), vq->conf.hdr_len);
		i = nb;
	}
	while (nb < n && i < avail) {
		struct rte_mbuf *head, *tail, *m;
		uint32_t id, len;
		uint16_t nbufs;

		if (i + 2 < avail) {
			uint32_t pid, plen;

			vu_split_used_peek(vq, 2, &pid, &plen);
			if (pid < vq->size)
				rte_prefetch0(vq->slots[pid].m);
		}
		vu_split_used_peek(vq, 0, &id, &len);
		/* The entry is checked whole before the buffer's header is believed. */
		if (unlikely(!vu_split_id_ok(vq, id) || len > vq->slots[id].len)) {
			vu_split_rx_take(vq, id, len); /* latches with the reason */
			break;
		}
		if (unlikely(len == 0)) {
			/* Given back unused (legal for a receive buffer; a device does
			 * so with a buffer it cannot use): count it, post a new one. */
			m = vu_split_rx_take(vq, id, len);
			if (unlikely(m == NULL))
				break;
			vu_rx_unused(vq, m);
			i++;
			continue;
		}
		nbufs = vu_rx_nbufs(vq, id);
		if (unlikely(nbufs == 0))
			break;
		if (nbufs > avail - i)
			break; /* the rest of the packet is not published yet */
		head = vu_split_rx_take(vq, id, len);
		if (unlikely(head == NULL) || unlikely(!vu_rx_head(vq, head, len)))
			break;
		tail = head;
		i++;
		for (k = 1; k < nbufs; k++, i++) {
			vu_split_used_peek(vq, 0, &id, &len);
			m = vu_split_rx_take(vq, id, len);
			if (unlikely(m == NULL)) {
				rte_pktmbuf_free(head);
				goto out;
			}
			vu_rx_append(vq, head, &tail, m, len);
		}
		pkts[nb++] = head;
	}
out:
	return nb;
}

static uint16_t
vu_rx_packed(struct vu_vq *vq, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t nb = 0, k, id, pid;
	uint32_t len, plen;

	/* As in vu_rx_split(): the usual case in one pass first. */
	if (!vq->conf.mrg_rxbuf)
		nb = vu_packed_rx_fast(vq, pkts, n, vq->conf.hdr_len);
	while (nb < n && vu_packed_used_peek(vq, 0, &id, &len)) {
		struct rte_mbuf *head, *tail, *m;
		uint16_t nbufs;

		if (vu_packed_used_peek(vq, 1, &pid, &plen) && pid < vq->size)
			rte_prefetch0(vq->slots[pid].m);
		/* The entry is checked whole before the buffer's header is believed. */
		if (unlikely(!vu_packed_id_ok(vq, id) || len > vq->slots[id].len)) {
			vu_packed_rx_take(vq, id, len); /* latches with the reason */
			break;
		}
		if (unlikely(len == 0)) {
			/* Given back unused: see vu_rx_split(). */
			m = vu_packed_rx_take(vq, id, len);
			if (unlikely(m == NULL))
				break;
			vu_rx_unused(vq, m);
			continue;
		}
		nbufs = vu_rx_nbufs(vq, id);
		if (unlikely(nbufs == 0))
			break;
		if (nbufs > 1 && !vu_packed_used_peek(vq, nbufs - 1, &pid, &plen))
			break; /* the rest of the packet is not published yet */
		head = vu_packed_rx_take(vq, id, len);
		if (unlikely(head == NULL) || unlikely(!vu_rx_head(vq, head, len)))
			break;
		tail = head;
		for (k = 1; k < nbufs; k++) {
			if (unlikely(!vu_packed_used_peek(vq, 0, &id, &len))) {
				vu_vq_set_broken(vq,
						 "buffer %u of %u of a packet is no longer used", k,
						 nbufs);
				rte_pktmbuf_free(head);
				goto out;
			}
			m = vu_packed_rx_take(vq, id, len);
			if (unlikely(m == NULL)) {
				rte_pktmbuf_free(head);
				goto out;
			}
			vu_rx_append(vq, head, &tail, m, len);
		}
		pkts[nb++] = head;
	}
out:
	return nb;
}

/* Has the device returned a buffer, or is it time to post fresh ones? Else an idle poll. */
static inline bool
vu_rx_busy(const struct vu_vq *vq)
{
	return (vq->conf.packed ? vu_packed_used_pending(vq) : vu_split_used_pending(vq)) ||
	       vu_rx_wants_refill(vq);
}

/*
 * A poll with something to do: take, refill, notify. Out of line, so that
 * an idle poll, which only calls vu_rx_busy(), saves and restores none of
 * the registers this needs (17 instructions a poll, front/packed/h2g-idle).
 */
static __rte_noinline uint16_t
vu_rx_burst_busy(struct vu_vq *vq, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t nb;

	n = RTE_MIN(n, (uint16_t)VU_MAX_BURST);
	nb = vq->conf.packed ? vu_rx_packed(vq, pkts, n) : vu_rx_split(vq, pkts, n);
	if (likely(!vq->broken))
		vu_rx_refill(vq);
	return nb;
}

uint16_t
vu_rx_burst(struct vu_dev *dev, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vhu_burst_mark *mark;
	struct vu_vq *vq;
	uint16_t nb = 0;

	if (unlikely(!vu_queue_exists(dev, queue)))
		return 0;
	mark = &dev->vq[2u * queue]->mark;
	vhu_burst_enter(mark);
	vq = vu_data_vq(dev, 2u * queue);
	if (vq != NULL && vu_rx_busy(vq))
		nb = vu_rx_burst_busy(vq, pkts, n);
	vhu_burst_exit(mark);
	return nb;
}

/* ---- transmit ---- */

/* Can the device read every segment where it lies? */
static inline bool
vu_tx_shared(const struct vu_vq *vq, const struct rte_mbuf *m)
{
	for (; m != NULL; m = m->next)
		if (unlikely(!vu_mem_holds(vq->mem, rte_pktmbuf_mtod(m, void *), m->data_len)))
			return false;
	return true;
}

/* May the header go into the headroom of 'm'? Only if the bytes are ours alone. */
static inline bool
vu_tx_can_push(const struct vu_vq *vq, const struct rte_mbuf *m)
{
	return RTE_MBUF_DIRECT(m) && m->pool == vq->pool && rte_mbuf_refcnt_read(m) == 1 &&
	       rte_pktmbuf_headroom(m) >= vq->conf.hdr_len;
}

/* Ring descriptors a packet of 'segs' segments takes. */
static inline uint16_t
vu_tx_descs(const struct vu_vq *vq, uint16_t segs, bool push)
{
	if ((segs == 1 && push) || vq->conf.indirect)
		return 1;
	return segs + !push;
}

/*
 * Describe the packet as pieces: the header (in the headroom, pushed, or
 * in the slot's tx area) and each segment. Returns the piece count.
 */
static inline uint16_t
vu_tx_pieces(struct vu_vq *vq, struct rte_mbuf *m, bool push, struct vu_tx_area *area,
	     struct vu_piece *pc)
{
	uint16_t hdr = vq->conf.hdr_len, n = 0;
	const struct rte_mbuf *seg = m;

	if (push) {
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *) - hdr;

		/* A received mbuf sent back still holds the device's header. */
		vu_tx_hdr_clear(p, hdr);
		pc[n].addr = vu_mem_iova(vq->mem, p);
		pc[n].len = hdr + m->data_len;
		pc[n].flags = 0;
		n++;
		seg = m->next;
	} else {
		pc[n].addr = vu_mem_iova(vq->mem, &area->hdr);
		pc[n].len = hdr;
		pc[n].flags = 0;
		n++;
	}
	for (; seg != NULL; seg = seg->next, n++) {
		pc[n].addr = vu_mem_iova(vq->mem, rte_pktmbuf_mtod(seg, void *));
		pc[n].len = seg->data_len;
		pc[n].flags = 0;
	}
	return n;
}

/* Post packet 'm' (its bytes in shared memory) as buffer 'id' through an indirect table. */
static inline void
vu_tx_add_indirect(struct vu_vq *vq, struct rte_mbuf *m, bool push, uint16_t id)
{
	struct vu_tx_area *area = &vq->tx_area[id];
	struct vu_piece pc[VU_IND_MAX];
	uint16_t n = vu_tx_pieces(vq, m, push, area, pc);

	vu_add_indirect(vq, area->table, pc, n, m);
}

/*
 * vu_tx_add() for a packet of several pieces (segments, or a header apart):
 * out of line, so that the usual one-piece packet's path inlines into the
 * burst loop.
 */
static __rte_noinline void
vu_tx_add_pieces(struct vu_vq *vq, struct rte_mbuf *m, bool push)
{
	uint16_t id = vq->conf.packed ? vu_packed_next_id(vq) : vu_split_next_head(vq);
	struct vu_piece pc[VU_IND_MAX];
	uint16_t n;

	if (vq->conf.indirect) {
		vu_tx_add_indirect(vq, m, push, id);
		return;
	}
	n = vu_tx_pieces(vq, m, push, &vq->tx_area[id], pc);
	vu_add_chain(vq, pc, n, m);
}

/*
 * Post packet 'm' (its bytes in shared memory; the descriptors it needs are
 * free) by the general path: its slot says so, for reclaim to free it with
 * checks.
 */
static inline void
vu_tx_add(struct vu_vq *vq, struct rte_mbuf *m, bool push)
{
	uint16_t hdr = vq->conf.hdr_len;
	uint16_t id = vq->conf.packed ? vu_packed_next_id(vq) : vu_split_next_head(vq);
	uint8_t *p;
	uint64_t addr;

	if (unlikely(m->nb_segs != 1 || !push)) {
		vu_tx_add_pieces(vq, m, push);
	} else {
		p = rte_pktmbuf_mtod(m, uint8_t *) - hdr;
		vu_tx_hdr_clear(p, hdr);
		addr = vu_mem_iova(vq->mem, p);
		if (vq->conf.packed)
			vu_packed_add(vq, addr, hdr + m->data_len, 0, m);
		else
			vu_split_add(vq, addr, hdr + m->data_len, 0, m);
	}
	vq->slots[id].len = VU_TX_GENERAL;
}

/* Post plain packets (vu_tx_plain()) from pkts[0..n) until another; returns how many. */
static inline uint16_t
vu_tx_add_plain(struct vu_vq *vq, struct rte_mbuf *const *pkts, uint16_t n)
{
	return vq->conf.packed ? vu_packed_add_tx(vq, pkts, n) : vu_split_add_tx(vq, pkts, n);
}

/* Reclaim used tx buffers; false if the ring broke. */
static inline bool
vu_tx_reclaim(struct vu_vq *vq)
{
	return vq->conf.packed ? vu_packed_tx_reclaim(vq) : vu_split_tx_reclaim(vq);
}

static uint16_t
vu_tx_burst_marked(struct vu_dev *dev, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vu_vq *vq = vu_data_vq(dev, 2u * queue + 1);
	struct vhu_port_qstats *st = &dev->port->txq[queue].stats;
	uint32_t seg_room = dev->buf_len;
	uint16_t i;

	if (vq == NULL)
		return 0;
	n = RTE_MIN(n, (uint16_t)VU_MAX_BURST);
	if (vq->num_free < vq->size / 2 + n && unlikely(!vu_tx_reclaim(vq)))
		return 0;
	/* Relaxed: set before the release of 'ready' that vu_data_vq() acquired. */
	if (unlikely(!vq->tx_open))
		return 0; /* no backend to take them: the caller drops them, counted */
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m;
		bool shared, push;
		uint16_t segs, need;

		/* Plain packets, the usual case, in one pass; the rest of this loop
		 * takes the next other one (or finds the ring full), then the pass
		 * resumes. */
		i += vu_tx_add_plain(vq, pkts + i, RTE_MIN((uint16_t)(n - i), vq->num_free));
		if (i == n)
			break;
		m = pkts[i];
		shared = vu_tx_shared(vq, m);
		if (i + 1 < n)
			rte_prefetch0(pkts[i + 1]);
		segs = m->nb_segs;
		push = shared && vu_tx_can_push(vq, m);
		if (unlikely(!shared || segs + !push > VU_IND_MAX)) {
			/* Copied into as few shared mbufs as the length needs. */
			shared = false;
			segs = (uint16_t)RTE_MIN((m->pkt_len + seg_room - 1) / seg_room,
						 (uint32_t)UINT16_MAX);
			segs += segs == 0;
			push = true;
		}
		if (unlikely(segs > VU_IND_MAX)) {
			/* Longer than a descriptor table can describe: drop it, counted. */
			vq->stats.errors++;
			vhu_port_counter_add(&st->errors, 1);
			rte_pktmbuf_free(m);
			continue;
		}
		need = vu_tx_descs(vq, segs, push);
		if (unlikely(need > vq->num_free))
			break;
		if (unlikely(!shared)) {
			struct rte_mbuf *c = rte_pktmbuf_copy(m, vq->pool, 0, UINT32_MAX);

			if (c == NULL)
				break; /* the shared pool is empty: the caller keeps the rest */
			vq->stats.copies++;
			rte_pktmbuf_free(m);
			m = c;
		}
		vu_tx_add(vq, m, push);
	}
	vu_flush_kick(vq);
	return i;
}

uint16_t
vu_tx_burst(struct vu_dev *dev, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vhu_burst_mark *mark;
	uint16_t nb;

	if (unlikely(!vu_queue_exists(dev, queue)))
		return 0; /* the caller keeps them all */
	mark = &dev->vq[2u * queue + 1]->mark;
	vhu_burst_enter(mark);
	nb = vu_tx_burst_marked(dev, queue, pkts, n);
	vhu_burst_exit(mark);
	return nb;
}
