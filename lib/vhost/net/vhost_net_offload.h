/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-net header <-> mbuf offload flags (virtio 1.2, 5.1.6.2).
 *
 * The header a guest sends is as hostile as the rest of its ring:
 * csum_start, csum_offset, hdr_len and gso_size are checked against the
 * packet before anything uses them (CVE-2024-11614 was a checksum offset
 * trusted past the end of the packet). A header that does not fit its
 * packet, or asks for an offload that was not negotiated, drops the packet
 * (counted); the ring carries on.
 */
#ifndef VHU_VHOST_NET_OFFLOAD_H
#define VHU_VHOST_NET_OFFLOAD_H

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_net.h>

#include "vhost_private.h"
#include "vhu_cksum.h"

/*
 * Complete a partial checksum in software: sum [start, end), store at
 * start + off. vhu_cksum_mbuf(), not DPDK 22.11's rte_raw_cksum_mbuf(),
 * which is wrong on a segment that follows an odd-length one (vhu_cksum.h).
 */
static inline int
vhu_net_csum_fill(struct rte_mbuf *m, uint32_t start, uint32_t off)
{
	uint16_t raw, csum;
	uint8_t *p;

	if (vhu_cksum_mbuf(m, start, m->pkt_len - start, &raw) != 0)
		return -1;
	csum = (uint16_t)~raw;
	if (csum == 0)
		csum = 0xffff; /* 0 means "no checksum" for UDP; 0xffff is equal in TCP */
	if (start + off + 2 > m->data_len)
		return -1; /* the field must be in the first segment (checked by the caller) */
	p = rte_pktmbuf_mtod_offset(m, uint8_t *, start + off);
	memcpy(p, &csum, sizeof(csum));
	return 0;
}

/*
 * Guest TX: apply the header 'h' to the packet in 'm'. 'features' are the
 * negotiated ones. Returns 0, or -1 to drop the packet.
 */
static inline int
vhu_net_hdr_to_mbuf(const struct virtio_net_hdr *h, struct rte_mbuf *m, uint64_t features)
{
	struct rte_net_hdr_lens lens;
	uint32_t ptype, l4_off;

	if (likely(h->flags == 0 && h->gso_type == VIRTIO_NET_HDR_GSO_NONE))
		return 0;
	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return -1;
	if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID) /* only meaningful host->guest */
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
		/* GSO without a partial checksum is malformed (5.1.6.2.1). */
		return h->gso_type == VIRTIO_NET_HDR_GSO_NONE ? 0 : -1;
	}
	if (!(features & VHU_BIT(VIRTIO_NET_F_CSUM)))
		return -1;
	/* The checksum field must lie inside the packet and the first segment. */
	if ((uint32_t)h->csum_start >= m->pkt_len ||
	    (uint32_t)h->csum_start + h->csum_offset + 2 > m->data_len)
		return -1;
	ptype = rte_net_get_ptype(m, &lens, RTE_PTYPE_L2_MASK | RTE_PTYPE_L3_MASK |
					     RTE_PTYPE_L4_MASK);
	l4_off = lens.l2_len + lens.l3_len;
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
		bool v4 = gso == VIRTIO_NET_HDR_GSO_TCPV4;

		if ((gso != VIRTIO_NET_HDR_GSO_TCPV4 && gso != VIRTIO_NET_HDR_GSO_TCPV6) ||
		    !(features & VHU_BIT(v4 ? VIRTIO_NET_F_HOST_TSO4 : VIRTIO_NET_F_HOST_TSO6)) ||
		    ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) &&
		     !(features & VHU_BIT(VIRTIO_NET_F_HOST_ECN))) ||
		    h->gso_size == 0 || (ptype & RTE_PTYPE_L4_MASK) != RTE_PTYPE_L4_TCP ||
		    h->csum_start != l4_off || lens.l4_len == 0 ||
		    l4_off + lens.l4_len >= m->pkt_len)
			return -1;
		m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM |
			       (v4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6);
		m->tso_segsz = h->gso_size;
		m->l2_len = lens.l2_len;
		m->l3_len = lens.l3_len;
		m->l4_len = lens.l4_len;
		return 0;
	}
	/* A plain partial checksum: hand TCP and UDP to the next hop, finish the rest here. */
	if (h->csum_start == l4_off &&
	    (((ptype & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_TCP && h->csum_offset == 16) ||
	     ((ptype & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_UDP && h->csum_offset == 6))) {
		m->ol_flags |= ((ptype & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_TCP ?
					RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM) |
			       (RTE_ETH_IS_IPV4_HDR(ptype) ? RTE_MBUF_F_TX_IPV4 :
							      RTE_MBUF_F_TX_IPV6);
		m->l2_len = lens.l2_len;
		m->l3_len = lens.l3_len;
		return 0;
	}
	return vhu_net_csum_fill(m, h->csum_start, h->csum_offset);
}

/*
 * Guest RX: describe the offloads of 'm' in header 'h' (zeroed by the
 * caller). Work the guest did not negotiate is done here (checksums), or
 * refused (a TSO packet for a guest without GUEST_TSO: -1, drop).
 */
static inline int
vhu_net_mbuf_to_hdr(struct rte_mbuf *m, struct virtio_net_hdr *h, uint64_t features)
{
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;
	bool guest_csum = (features & VHU_BIT(VIRTIO_NET_F_GUEST_CSUM)) != 0;
	uint32_t start = m->l2_len + m->l3_len;

	if (likely(!(m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK |
				    RTE_MBUF_F_RX_L4_CKSUM_GOOD))))
		return 0;
	if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) {
		bool v4 = (m->ol_flags & RTE_MBUF_F_TX_IPV4) != 0;

		if (!guest_csum ||
		    !(features & VHU_BIT(v4 ? VIRTIO_NET_F_GUEST_TSO4 : VIRTIO_NET_F_GUEST_TSO6)))
			return -1;
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->gso_type = v4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
		h->gso_size = m->tso_segsz;
		h->hdr_len = (uint16_t)(start + m->l4_len);
		h->csum_start = (uint16_t)start;
		h->csum_offset = 16;
		return 0;
	}
	if (l4 == RTE_MBUF_F_TX_TCP_CKSUM || l4 == RTE_MBUF_F_TX_UDP_CKSUM) {
		uint16_t off = l4 == RTE_MBUF_F_TX_TCP_CKSUM ? 16 : 6;

		if (start + off + 2 > m->data_len)
			return -1;
		if (!guest_csum) {
			if (vhu_net_csum_fill(m, start, off) != 0)
				return -1;
			m->ol_flags &= ~RTE_MBUF_F_TX_L4_MASK; /* done: never twice */
			return 0;
		}
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = (uint16_t)start;
		h->csum_offset = off;
		return 0;
	}
	if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_GOOD) && guest_csum)
		h->flags = VIRTIO_NET_HDR_F_DATA_VALID;
	return 0;
}

#endif /* VHU_VHOST_NET_OFFLOAD_H */
