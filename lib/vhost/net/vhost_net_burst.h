/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The net bursts of one ring layout each, split (vhost_net_split.c) and
 * packed (vhost_net_packed.c), called by the public bursts in vhost_net.c on
 * a ready ring with 'count' already clamped. Private.
 */
#ifndef VHU_VHOST_NET_BURST_H
#define VHU_VHOST_NET_BURST_H

#include <rte_mbuf.h>

struct vhu_vq;

/* Guest TX: take up to 'count' packets into new mbufs from 'mp'; returns how many. */
uint16_t vhu_net_dequeue_split(struct vhu_vq *vq, struct rte_mempool *mp, struct rte_mbuf **pkts,
			       uint16_t count);
uint16_t vhu_net_dequeue_packed(struct vhu_vq *vq, struct rte_mempool *mp,
				struct rte_mbuf **pkts, uint16_t count);

/* Guest RX: copy up to 'count' packets into the guest's buffers; returns how many. */
uint16_t vhu_net_enqueue_split(struct vhu_vq *vq, struct rte_mbuf **pkts, uint16_t count);
uint16_t vhu_net_enqueue_packed(struct vhu_vq *vq, struct rte_mbuf **pkts, uint16_t count);

#endif /* VHU_VHOST_NET_BURST_H */
