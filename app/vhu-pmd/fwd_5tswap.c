/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 5tswap: send each packet back where it came from, as a reply would go:
 * swap the Ethernet addresses, the IPv4 or IPv6 addresses and the TCP or UDP
 * ports. A guest pinging any address through it gets its echo back. The
 * checksums stay right: each is a sum in which the swapped fields both appear.
 *
 * Only the first segment is parsed; whatever lies beyond it, or beyond a
 * header this engine does not know (IPv6 extension headers, a non-first IPv4
 * fragment), is left as it is.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "fwd.h"

/* At most this many VLAN tags (802.1Q or 802.1ad) are skipped. */
#define TSWAP_VLAN_MAX 2

/* Swap n bytes at a and b, which need not be aligned. */
static inline void
tswap_bytes(void *a, void *b, size_t n)
{
	uint8_t tmp[16];

	memcpy(tmp, a, n);
	memcpy(a, b, n);
	memcpy(b, tmp, n);
}

/* Swap the layer-3 addresses at p + off; returns the layer-4 offset and protocol, or 0. */
static inline uint32_t
tswap_l3(uint8_t *p, uint32_t len, uint32_t off, rte_be16_t type, uint8_t *proto)
{
	if (type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + off);
		uint32_t ihl;

		if (len < off + sizeof(*ip))
			return 0;
		ihl = (ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER;
		if (ihl < sizeof(*ip) || len < off + ihl)
			return 0;
		tswap_bytes(&ip->src_addr, &ip->dst_addr, sizeof(ip->src_addr));
		/* A non-first fragment carries no layer-4 header. */
		if ((rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK) != 0)
			return 0;
		*proto = ip->next_proto_id;
		return off + ihl;
	}
	if (type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(p + off);

		if (len < off + sizeof(*ip6))
			return 0;
		tswap_bytes(ip6->src_addr, ip6->dst_addr, sizeof(ip6->src_addr));
		*proto = ip6->proto;
		return off + sizeof(*ip6);
	}
	return 0;
}

static inline void
tswap_packet(struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = m->data_len, off;
	struct rte_ether_hdr *eth;
	rte_be16_t type;
	uint8_t proto;
	unsigned int tags;

	eth = fwd_ether_hdr(m);
	if (unlikely(eth == NULL))
		return;
	tswap_bytes(&eth->src_addr, &eth->dst_addr, RTE_ETHER_ADDR_LEN);
	type = eth->ether_type;
	off = sizeof(*eth);
	for (tags = 0; tags < TSWAP_VLAN_MAX; tags++) {
		if (type != RTE_BE16(RTE_ETHER_TYPE_VLAN) && type != RTE_BE16(RTE_ETHER_TYPE_QINQ))
			break;
		if (len < off + sizeof(struct rte_vlan_hdr))
			return;
		memcpy(&type, p + off + offsetof(struct rte_vlan_hdr, eth_proto), sizeof(type));
		off += sizeof(struct rte_vlan_hdr);
	}
	off = tswap_l3(p, len, off, type, &proto);
	if (off == 0)
		return;
	/* TCP and UDP both start with the source and destination ports. */
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) && len >= off + 4)
		tswap_bytes(p + off, p + off + 2, 2);
}

static bool
tswap_fwd(struct fwd_stream *fs)
{
	struct rte_mbuf *pkts[PMD_BURST_MAX];
	uint16_t n, i;

	n = fwd_rx(fs, pkts);
	if (n == 0)
		return false;
	fwd_prefetch_data(pkts, n);
	for (i = 0; i < n; i++)
		tswap_packet(pkts[i]);
	fwd_tx(fs, pkts, n);
	return true;
}

const struct fwd_engine fwd_5tswap_engine = {
	.name = "5tswap",
	.rx = true,
	.tx = true,
	.packet_fwd = tswap_fwd,
};
