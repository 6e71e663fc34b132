/* SPDX-License-Identifier: BSD-3-Clause */
/* Packed-ring net bursts, called by the public bursts in vhost_net.c. Private. */
#ifndef VHU_VHOST_NET_PACKED_H
#define VHU_VHOST_NET_PACKED_H

#include <rte_mbuf.h>

struct vhu_vq;

/* Guest TX on a ready packed ring; 'count' already clamped. */
uint16_t vhu_net_dequeue_packed(struct vhu_vq *vq, struct rte_mempool *mp,
				struct rte_mbuf **pkts, uint16_t count);
/* Guest RX on a ready packed ring; 'count' already clamped. */
uint16_t vhu_net_enqueue_packed(struct vhu_vq *vq, struct rte_mbuf **pkts, uint16_t count);

#endif /* VHU_VHOST_NET_PACKED_H */
