/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-net device type: the features and config space it offers, and
 * the packet bursts between split rings and mbufs.
 *
 * Direction is named from the guest's view: the rx ring (even index) carries
 * packets to the guest, filled by vhu_vhost_enqueue_burst(); the tx ring (odd
 * index) carries packets from the guest, drained by vhu_vhost_dequeue_burst().
 */
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "virtq_split.h"

static uint64_t
net_features(const struct vhu_vhost_dev *dev)
{
	uint64_t f = VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VIRTIO_F_ANY_LAYOUT) |
		     VHU_BIT(VIRTIO_RING_F_INDIRECT_DESC) | VHU_BIT(VIRTIO_RING_F_EVENT_IDX) |
		     VHU_BIT(VIRTIO_F_IN_ORDER) | VHU_BIT(VIRTIO_NET_F_MRG_RXBUF) |
		     VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES);

	if (dev->queue_pairs > 1)
		f |= VHU_BIT(VIRTIO_NET_F_MQ);
	if (dev->mtu != 0)
		f |= VHU_BIT(VIRTIO_NET_F_MTU);
	return f;
}

static void
net_config(const struct vhu_vhost_dev *dev, struct virtio_net_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->mac, dev->mac, sizeof(cfg->mac));
	cfg->status = VIRTIO_NET_S_LINK_UP;
	cfg->max_virtqueue_pairs = dev->queue_pairs;
	cfg->mtu = dev->req_mtu != 0 ? dev->req_mtu : dev->mtu;
}

static int
net_get_config(const struct vhu_vhost_dev *dev, uint32_t offset, uint8_t *buf, uint32_t len)
{
	struct virtio_net_config cfg;

	/* offset + len <= 256 was checked by the message validator. */
	net_config(dev, &cfg);
	memset(buf, 0, len);
	if (offset < sizeof(cfg))
		memcpy(buf, (uint8_t *)&cfg + offset, RTE_MIN(len, sizeof(cfg) - offset));
	return 0;
}

static int
net_set_config(struct vhu_vhost_dev *dev, uint32_t offset, const uint8_t *buf, uint32_t len)
{
	/* Only the MAC is writable (legacy drivers set it this way). */
	if (offset + len > sizeof(dev->mac))
		return -EPERM;
	memcpy(dev->mac + offset, buf, len);
	return 0;
}

const struct vhu_device_type vhu_net_device_type = {
	.name = "net",
	.features = net_features,
	.get_config = net_get_config,
	.set_config = net_set_config,
};

/* Look up the ring of queue pair 'qp' in direction 'tx'; NULL if unusable now. */
static inline struct vhu_vq *
net_vq(struct vhu_vhost_dev *dev, uint16_t qp, bool tx)
{
	struct vhu_vq *vq;

	if (unlikely(dev == NULL || qp >= dev->queue_pairs))
		return NULL;
	vq = dev->vq[2 * qp + tx];
	/* Acquire: pairs with the release store in vhu_vq_try_start(); the ring
	 * pointers and indexes read below are the ones published with it. */
	if (unlikely(!__atomic_load_n(&vq->ready, __ATOMIC_ACQUIRE) || vq->broken))
		return NULL;
	return vq;
}

/* ---- guest TX: ring -> mbufs ---- */

/*
 * Copy the gathered chain, less its virtio-net header, into 'm' (a fresh
 * mbuf), chaining more mbufs from 'mp' if needed. Returns 0, or -1 to drop.
 */
static inline int
tx_copy(struct vhu_vq *vq, const struct vhu_buf_vec *vec, uint32_t nvec, uint64_t total,
	struct rte_mempool *mp, struct rte_mbuf *m)
{
	uint32_t skip = vq->vhdr_len, i, room;
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
	return 0;
fail:
	/* Free the segments chained so far; the caller resets and reuses 'm'. */
	rte_pktmbuf_free(m->next);
	m->next = NULL;
	return -1;
}

uint16_t
vhu_vhost_dequeue_burst(struct vhu_vhost_dev *dev, uint16_t qp, struct rte_mempool *mp,
			struct rte_mbuf **pkts, uint16_t count)
{
	struct vhu_buf_vec vec[VHU_VEC_MAX];
	struct vhu_vq *vq = net_vq(dev, qp, true);
	uint16_t old_used, i, out = 0;
	uint32_t avail;

	if (vq == NULL || count == 0 || mp == NULL || pkts == NULL)
		return 0;
	count = RTE_MIN(count, VHU_MAX_BURST);
	avail = vhu_split_avail_count(vq);
	if (avail == 0 || avail == UINT32_MAX)
		return 0;
	count = RTE_MIN(count, avail);
	if (unlikely(rte_pktmbuf_alloc_bulk(mp, pkts, count) != 0)) {
		vq->stats.nombuf++;
		return 0;
	}
	old_used = vq->last_used_idx;
	vhu_split_prefetch_head(vq, 0);
	for (i = 0; i < count; i++) {
		uint16_t head = vhu_split_avail_head(vq, i);
		uint32_t nvec = 0;
		uint64_t total = 0;
		enum vhu_chain_rc rc;

		if (i + 1 < count)
			vhu_split_prefetch_head(vq, i + 1);
		rc = vhu_split_gather(vq, head, false, vec, &nvec, &total);
		if (unlikely(rc == VHU_CHAIN_BROKEN))
			break;
		if (nvec > 0)
			rte_prefetch0(vec[0].addr);
		if (likely(rc == VHU_CHAIN_OK) &&
		    likely(tx_copy(vq, vec, nvec, total, mp, pkts[out]) == 0)) {
			out++;
		} else {
			/* Dropped: return the buffer to the guest, reuse the mbuf. */
			vq->stats.errors++;
			rte_pktmbuf_reset(pkts[out]);
		}
		vhu_split_push(vq, head, 0);
	}
	vq->last_avail_idx += i;
	vhu_split_flush(vq, old_used);
	if (out < count)
		rte_pktmbuf_free_bulk(&pkts[out], count - out);
	return out;
}

/* ---- guest RX: mbufs -> ring ---- */

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

/* Write header (with num_buffers) and the packet into the gathered buffers. */
static inline void
rx_fill(struct vhu_vq *vq, const struct vhu_buf_vec *vec, struct rte_mbuf *m,
	uint16_t num_buffers)
{
	struct virtio_net_hdr_mrg_rxbuf hdr;
	uint32_t vi = 0, voff = 0;
	const struct rte_mbuf *seg;

	memset(&hdr, 0, sizeof(hdr));
	hdr.num_buffers = num_buffers;
	if (likely(m->nb_segs == 1 && vec[0].len >= vq->vhdr_len + m->data_len)) {
		memcpy(vec[0].addr, &hdr, vq->vhdr_len);
		rte_memcpy(vec[0].addr + vq->vhdr_len, rte_pktmbuf_mtod(m, void *), m->data_len);
		return;
	}
	rx_write(vec, &vi, &voff, (const uint8_t *)&hdr, vq->vhdr_len);
	for (seg = m; seg != NULL; seg = seg->next)
		rx_write(vec, &vi, &voff, rte_pktmbuf_mtod(seg, const uint8_t *), seg->data_len);
}

/* Bytes of the gathered heads used by a packet of 'need' bytes, per head. */
struct rx_head {
	uint16_t id;		/* head index */
	uint64_t len;		/* buffer bytes in this head */
};

uint16_t
vhu_vhost_enqueue_burst(struct vhu_vhost_dev *dev, uint16_t qp, struct rte_mbuf **pkts,
			uint16_t count)
{
	struct vhu_buf_vec vec[VHU_VEC_MAX];
	struct rx_head heads[VHU_VEC_MAX];
	struct vhu_vq *vq = net_vq(dev, qp, false);
	uint32_t avail, taken = 0;
	uint16_t old_used, i;

	if (vq == NULL || count == 0 || pkts == NULL)
		return 0;
	count = RTE_MIN(count, VHU_MAX_BURST);
	avail = vhu_split_avail_count(vq);
	if (avail == 0 || avail == UINT32_MAX)
		return 0;
	old_used = vq->last_used_idx;
	vhu_split_prefetch_head(vq, 0);
	for (i = 0; i < count; i++) {
		struct rte_mbuf *m = pkts[i];
		uint64_t need = (uint64_t)vq->vhdr_len + m->pkt_len, have = 0, left;
		uint32_t nvec = 0, nheads = 0, h;
		enum vhu_chain_rc rc = VHU_CHAIN_OK;

		/* Reserve heads until the packet fits: one without MRG_RXBUF. */
		while (have < need) {
			uint64_t got = 0;

			if (taken + nheads >= avail || nheads == VHU_VEC_MAX ||
			    (nheads == 1 && !vq->mrg_rxbuf)) {
				rc = VHU_CHAIN_DROP;
				break;
			}
			heads[nheads].id = vhu_split_avail_head(vq, taken + nheads);
			rc = vhu_split_gather(vq, heads[nheads].id, true, vec, &nvec, &got);
			if (rc != VHU_CHAIN_OK)
				break;
			heads[nheads].len = got;
			nheads++;
			have += got;
		}
		if (unlikely(rc != VHU_CHAIN_OK))
			break;	/* broken ring, or no room: the caller keeps pkts[i..] */
		if (taken + nheads < avail)
			vhu_split_prefetch_head(vq, taken + nheads);
		rx_fill(vq, vec, m, nheads);
		left = need;
		for (h = 0; h < nheads; h++) {
			uint32_t used = (uint32_t)RTE_MIN(left, heads[h].len);

			vhu_split_push(vq, heads[h].id, used);
			left -= used;
		}
		taken += nheads;
	}
	vq->last_avail_idx += taken;
	vhu_split_flush(vq, old_used);
	return i;
}
