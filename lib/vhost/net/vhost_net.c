/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-net bursts: the public burst calls, which pick the split
 * (vhost_net_split.c) or packed (vhost_net_packed.c) burst of the ring, the
 * post-migration RARP and the receive stash.
 *
 * Direction is named from the guest's view: the rx ring (even index) carries
 * packets to the guest, filled by vhu_vhost_enqueue_burst(); the tx ring (odd
 * index) carries packets from the guest, drained by vhu_vhost_dequeue_burst().
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>

#include "vhost_net.h"
#include "vhost_net_burst.h"

/* ---- guest TX: ring -> mbufs ---- */

/* Build the RARP that announces the guest's MAC after a migration. */
static struct rte_mbuf *
rarp_build(const struct vhu_net_dev *nd, struct rte_mempool *mp)
{
	static const uint8_t head[] = {
		0x00, 0x01,		/* hardware type: Ethernet */
		0x08, 0x00,		/* protocol type: IPv4 */
		6, 4,			/* address lengths */
		0x00, 0x03,		/* operation: reverse request */
	};
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, 60); /* minimum frame, zero padded */
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(p, 0, 60);
	memset(p, 0xff, 6);			/* broadcast */
	memcpy(p + 6, nd->rarp_mac, 6);	/* from the guest */
	p[12] = 0x80;
	p[13] = 0x35;				/* EtherType RARP */
	memcpy(p + 14, head, sizeof(head));
	memcpy(p + 22, nd->rarp_mac, 6);	/* sender hardware address */
	memcpy(p + 32, nd->rarp_mac, 6);	/* target hardware address */
	return m;
}

uint16_t
vhu_vhost_dequeue_burst(struct vhu_vhost_dev *dev, uint16_t qp, struct rte_mempool *mp,
			struct rte_mbuf **pkts, uint16_t count)
{
	struct vhu_net_dev *nd;
	struct vhu_vq *vq;
	uint16_t n = 0;

	if (count == 0 || mp == NULL || pkts == NULL || (vq = vhu_net_enter(dev, qp, true)) == NULL)
		return 0;
	count = RTE_MIN(count, VHU_MAX_BURST);
	nd = vhu_net_dev(dev);
	/* After a migration, the first packet the guest "sends" is a RARP. */
	if (unlikely(qp == 0 && __atomic_load_n(&nd->rarp_pending, __ATOMIC_RELAXED)) &&
	    __atomic_exchange_n(&nd->rarp_pending, false, __ATOMIC_ACQUIRE)) {
		struct rte_mbuf *rarp = rarp_build(nd, mp);

		if (rarp != NULL)
			pkts[n++] = rarp;
	}
	if (likely(n < count))
		n += vq->packed ? vhu_net_dequeue_packed(vq, mp, pkts + n, count - n)
				: vhu_net_dequeue_split(vq, mp, pkts + n, count - n);
	vhu_vq_leave(vq);
	return n;
}

uint16_t
vhu_net_tx_copy_one(struct vhu_vq *vq, uint8_t *addr, uint32_t len, struct rte_mempool *mp,
		    struct rte_mbuf *m)
{
	const struct vhu_buf_vec vec = { .addr = addr, .len = len };

	if (likely(vhu_net_tx_copy_general(vq, &vec, 1, len, mp, m) == 0))
		return 1;
	/* Dropped: the buffer goes back to the guest, the mbuf is reused. */
	return vhu_net_tx_drop(vq, m);
}

/* ---- guest RX: mbufs -> ring ---- */

void
vhu_net_rx_given_back(struct vhu_vq *vq, uint32_t where, uint32_t nchains, uint64_t need)
{
	struct vhu_net_vq *nq = vhu_net_q(vq);
	uint64_t now = rte_get_tsc_cycles();

	vq->stats.errors += nchains;
	if (nq->rx_long_tsc != 0 && now - nq->rx_long_tsc < rte_get_tsc_hz())
		return;
	nq->rx_long_tsc = now;
	VHU_LOG(WARNING, "%s: ring %u: receive chain at %s %u has more than %u pieces (descriptors "
		"or memory regions) and a %" PRIu64 "-byte packet does not fit in the first %u: "
		"returned unused (length 0) with %u chain(s) reserved before it, counted in the "
		"ring's errors; the guest's driver should post receive buffers of at most %u "
		"descriptors", vq->dev != NULL ? vq->dev->path : "(no device)", vq->index,
		vq->packed ? "slot" : "head", where, VHU_VEC_MAX, need, VHU_VEC_MAX, nchains - 1,
		VHU_VEC_MAX);
}

static inline uint16_t
net_enqueue(struct vhu_vq *vq, struct rte_mbuf **pkts, uint16_t count)
{
	vhu_net_q(vq)->rx_miss = false;
	return vq->packed ? vhu_net_enqueue_packed(vq, pkts, count) :
			    vhu_net_enqueue_split(vq, pkts, count);
}

/*
 * Hold 'pkts' until their buffers are mapped, taking a reference on every
 * segment: the caller frees its own reference at once, and a segment without
 * ours would go back to the pool, be reused and be delivered with other bytes.
 */
static uint16_t
net_stash(struct vhu_vq *vq, struct rte_mbuf **pkts, uint16_t count)
{
	struct vhu_net_vq *nq = vhu_net_q(vq);
	uint16_t n = RTE_MIN(count, (uint16_t)(VHU_RX_STASH - nq->stash_n)), i;

	for (i = 0; i < n; i++) {
		rte_pktmbuf_refcnt_update(pkts[i], 1);
		nq->stash[nq->stash_n++] = pkts[i];
	}
	return n;
}

/* Deliver what the ring holds, oldest first; returns how many are still held. */
static uint16_t
net_stash_drain(struct vhu_vq *vq)
{
	struct vhu_net_vq *nq = vhu_net_q(vq);
	uint16_t n = net_enqueue(vq, nq->stash, nq->stash_n);

	rte_pktmbuf_free_bulk(nq->stash, n); /* our references; the guest has copies */
	memmove(nq->stash, nq->stash + n, (nq->stash_n - n) * sizeof(nq->stash[0]));
	nq->stash_n -= n;
	return nq->stash_n;
}

/*
 * Behind a vIOMMU, a guest maps each receive buffer just before it posts it,
 * so the first packet for a fresh buffer often misses the IOTLB. Dropping it
 * would lose a packet for every new mapping; instead the packets that met a
 * miss are held (a reference each, at most VHU_RX_STASH per ring) and go
 * first at the next burst, when the front-end has answered. The caller sees
 * them accepted, as the backend copies: it frees its own reference.
 */
uint16_t
vhu_vhost_enqueue_burst(struct vhu_vhost_dev *dev, uint16_t qp, struct rte_mbuf **pkts,
			uint16_t count)
{
	struct vhu_net_vq *nq;
	struct vhu_vq *vq;
	uint16_t n;

	if (count == 0 || pkts == NULL || (vq = vhu_net_enter(dev, qp, false)) == NULL)
		return 0;
	count = RTE_MIN(count, VHU_MAX_BURST);
	nq = vhu_net_q(vq);
	if (unlikely(nq->stash_n > 0) && net_stash_drain(vq) > 0) {
		/* Still waiting: keep the order, queue behind. */
		n = nq->rx_miss ? net_stash(vq, pkts, count) : 0;
	} else {
		n = net_enqueue(vq, pkts, count);
		/* MISS_REFUSE: the caller keeps what missed, as DPDK's library has it. */
		if (unlikely(nq->rx_miss) && n < count &&
		    !(vhu_net_dev(dev)->flags & VHU_VHOST_MISS_REFUSE))
			n += net_stash(vq, pkts + n, count - n);
	}
	vhu_vq_leave(vq);
	return n;
}

void
vhu_vhost_enqueue_flush(struct vhu_vhost_dev *dev, uint16_t qp)
{
	struct vhu_vq *vq;

	if (unlikely(dev == NULL || qp >= vhu_net_dev(dev)->queue_pairs))
		return;
	/* Relaxed peek outside a burst: only this lcore writes stash_n, and a
	 * copy of the ring left by a NUMA move stays allocated (vhost_numa.c). */
	if (likely(vhu_net_q(dev->vq[2 * qp])->stash_n == 0))
		return;
	vq = vhu_vq_enter(dev, 2 * qp);
	if (vq == NULL)
		return;
	net_stash_drain(vq);
	vhu_vq_leave(vq);
}
