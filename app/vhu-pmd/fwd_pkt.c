/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet helpers of the engines that read and write headers: see fwd_pkt.h.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_udp.h>

#include "fwd_pkt.h"
#include "vhu_pmd.h"

/* IPv6 extension headers that fwd_pkt_parse() walks (RFC 8200, 4.1). */
#define IPV6_EXT_HOPOPTS  0
#define IPV6_EXT_ROUTING  43
#define IPV6_EXT_FRAGMENT 44
#define IPV6_EXT_DSTOPTS  60
/* Fragment header: offset in its upper 13 bits, "more fragments" in bit 0. */
#define IPV6_FRAG_OFF_MASK 0xfff8
#define IPV6_FRAG_MORE	   0x0001

/* The bytes of the first segment of m at off, or NULL when fewer than len are there. */
static inline const uint8_t *
seg0_at(const struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	if ((uint32_t)m->data_len < off || m->data_len - off < len)
		return NULL;
	return rte_pktmbuf_mtod_offset(m, const uint8_t *, off);
}

static enum fwd_pkt_kind
parse_ipv4(const struct rte_mbuf *m, struct fwd_pkt_hdrs *h)
{
	const struct rte_ipv4_hdr *ip = (const void *)seg0_at(m, h->l2_len, sizeof(*ip));
	uint32_t ihl, total;

	if (ip == NULL || (ip->version_ihl >> 4) != 4)
		return FWD_PKT_MALFORMED;
	ihl = (ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER;
	total = rte_be_to_cpu_16(ip->total_length);
	if (ihl < sizeof(*ip) || seg0_at(m, h->l2_len, ihl) == NULL || total < ihl ||
	    total > m->pkt_len - h->l2_len)
		return FWD_PKT_MALFORMED;
	h->l3_len = (uint16_t)ihl;
	h->l4_proto = ip->next_proto_id;
	h->l4_len = total - ihl;
	h->fragment = (rte_be_to_cpu_16(ip->fragment_offset) &
		       (RTE_IPV4_HDR_OFFSET_MASK | RTE_IPV4_HDR_MF_FLAG)) != 0;
	return FWD_PKT_IPV4;
}

static enum fwd_pkt_kind
parse_ipv6(const struct rte_mbuf *m, struct fwd_pkt_hdrs *h)
{
	const struct rte_ipv6_hdr *ip6 = (const void *)seg0_at(m, h->l2_len, sizeof(*ip6));
	uint32_t payload, off, ext_len;
	uint8_t next;
	unsigned int n;

	if (ip6 == NULL || (rte_be_to_cpu_32(ip6->vtc_flow) >> 28) != 6)
		return FWD_PKT_MALFORMED;
	payload = rte_be_to_cpu_16(ip6->payload_len);
	/* 0 is a jumbogram's, whose length is in an option: not handled. */
	if (payload == 0 || payload > m->pkt_len - h->l2_len - sizeof(*ip6))
		return FWD_PKT_MALFORMED;
	next = ip6->proto;
	off = sizeof(*ip6);
	h->fragment = false;
	for (n = 0; n < FWD_PKT_IPV6_EXT_MAX; n++) {
		const uint8_t *ext;

		if (next != IPV6_EXT_HOPOPTS && next != IPV6_EXT_ROUTING &&
		    next != IPV6_EXT_FRAGMENT && next != IPV6_EXT_DSTOPTS)
			break;
		ext = seg0_at(m, h->l2_len + off, 8);
		if (ext == NULL)
			return FWD_PKT_MALFORMED;
		if (next == IPV6_EXT_FRAGMENT) {
			uint16_t fo = (uint16_t)(ext[2] << 8 | ext[3]);

			if ((fo & (IPV6_FRAG_OFF_MASK | IPV6_FRAG_MORE)) != 0)
				h->fragment = true;
			ext_len = 8;
		} else {
			ext_len = (ext[1] + 1u) * 8;
		}
		next = ext[0];
		off += ext_len;
		if (seg0_at(m, h->l2_len, off) == NULL || off - sizeof(*ip6) > payload)
			return FWD_PKT_MALFORMED;
	}
	if (n == FWD_PKT_IPV6_EXT_MAX)
		return FWD_PKT_MALFORMED;
	h->l3_len = (uint16_t)off;
	h->l4_proto = next;
	h->l4_len = payload - (off - sizeof(*ip6));
	return FWD_PKT_IPV6;
}

enum fwd_pkt_kind
fwd_pkt_parse(const struct rte_mbuf *m, struct fwd_pkt_hdrs *h)
{
	const struct rte_ether_hdr *eth = (const void *)seg0_at(m, 0, sizeof(*eth));
	unsigned int tags;
	uint16_t type;

	memset(h, 0, sizeof(*h));
	if (eth == NULL)
		return FWD_PKT_OTHER;
	type = rte_be_to_cpu_16(eth->ether_type);
	h->l2_len = sizeof(*eth);
	for (tags = 0; tags < FWD_PKT_VLAN_MAX; tags++) {
		const struct rte_vlan_hdr *vlan;

		if (type != RTE_ETHER_TYPE_VLAN && type != RTE_ETHER_TYPE_QINQ)
			break;
		vlan = (const void *)seg0_at(m, h->l2_len, sizeof(*vlan));
		if (vlan == NULL)
			return FWD_PKT_OTHER;
		type = rte_be_to_cpu_16(vlan->eth_proto);
		h->l2_len += sizeof(*vlan);
	}
	h->ether_type = type;
	if (type == RTE_ETHER_TYPE_IPV4)
		return parse_ipv4(m, h);
	if (type == RTE_ETHER_TYPE_IPV6)
		return parse_ipv6(m, h);
	return FWD_PKT_OTHER;
}

uint16_t
fwd_pkt_phdr_sum(const struct rte_mbuf *m, const struct fwd_pkt_hdrs *h)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, h->l2_len);
	uint32_t sum;

	/* The addresses, the protocol and the layer-4 length (RFC 768, RFC 8200 8.1). */
	if (h->ether_type == RTE_ETHER_TYPE_IPV4) {
		const struct rte_ipv4_hdr *ip = (const void *)l3;

		sum = rte_raw_cksum(&ip->src_addr, 2 * sizeof(ip->src_addr));
	} else {
		const struct rte_ipv6_hdr *ip6 = (const void *)l3;

		sum = rte_raw_cksum(ip6->src_addr, 2 * sizeof(ip6->src_addr));
	}
	/* rte_raw_cksum() adds 16-bit words as the CPU loads them: add the rest alike. */
	sum += rte_cpu_to_be_16(h->l4_proto) + rte_cpu_to_be_16(h->l4_len >> 16) +
	       rte_cpu_to_be_16(h->l4_len & 0xffff);
	return vhu_cksum_fold(sum);
}

bool
fwd_pkt_ipv4_cksum_ok(const struct rte_mbuf *m, const struct fwd_pkt_hdrs *h)
{
	const void *ip = rte_pktmbuf_mtod_offset(m, const void *, h->l2_len);

	return rte_raw_cksum(ip, h->l3_len) == 0xffff;
}

void
fwd_pkt_ipv4_cksum_set(struct rte_mbuf *m, const struct fwd_pkt_hdrs *h)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, h->l2_len);

	ip->hdr_checksum = 0;
	ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip, h->l3_len);
}

uint16_t
fwd_pkt_l4_cksum_off(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 16;
	case IPPROTO_UDP:
		return 6;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 2;
	default:
		return 0;
	}
}

/* Does h's protocol have a checksum that covers a pseudo-header on this IP version? */
static bool
l4_has_cksum(const struct fwd_pkt_hdrs *h, bool *phdr)
{
	bool v4 = h->ether_type == RTE_ETHER_TYPE_IPV4;

	if (h->fragment || fwd_pkt_l4_cksum_off(h->l4_proto) == 0)
		return false;
	/* ICMP belongs to IPv4 and has no pseudo-header; ICMPv6 to IPv6 and has one. */
	if ((h->l4_proto == IPPROTO_ICMP && !v4) || (h->l4_proto == IPPROTO_ICMPV6 && v4))
		return false;
	*phdr = h->l4_proto != IPPROTO_ICMP;
	return true;
}

/* The folded sum of the layer-4 payload and its pseudo-header; false when it cannot be read. */
static bool
l4_sum(const struct rte_mbuf *m, const struct fwd_pkt_hdrs *h, bool phdr, uint16_t *sum)
{
	uint16_t raw;

	if (vhu_cksum_mbuf(m, h->l2_len + h->l3_len, h->l4_len, &raw) != 0)
		return false;
	*sum = vhu_cksum_fold((uint32_t)raw + (phdr ? fwd_pkt_phdr_sum(m, h) : 0));
	return true;
}

bool
fwd_pkt_l4_cksum_ok(const struct rte_mbuf *m, const struct fwd_pkt_hdrs *h)
{
	uint16_t off, sum, field;
	const void *p;
	bool phdr;

	if (!l4_has_cksum(h, &phdr))
		return true;
	off = fwd_pkt_l4_cksum_off(h->l4_proto);
	if (h->l4_len < off + 2u)
		return false; /* too short for its own header */
	p = rte_pktmbuf_read(m, h->l2_len + h->l3_len + off, sizeof(field), &field);
	if (p == NULL)
		return false;
	if (p != &field)
		memcpy(&field, p, sizeof(field));
	if (h->l4_proto == IPPROTO_UDP && field == 0)
		return h->ether_type == RTE_ETHER_TYPE_IPV4; /* IPv6 requires one */
	return l4_sum(m, h, phdr, &sum) && sum == 0xffff;
}

bool
fwd_pkt_l4_cksum_set(struct rte_mbuf *m, const struct fwd_pkt_hdrs *h)
{
	uint16_t off, sum, csum;
	uint8_t *p;
	bool phdr;

	if (!l4_has_cksum(h, &phdr))
		return false;
	off = fwd_pkt_l4_cksum_off(h->l4_proto);
	p = (uint8_t *)(uintptr_t)seg0_at(m, h->l2_len + h->l3_len, off + 2);
	if (p == NULL || h->l4_len < off + 2u)
		return false;
	memset(p + off, 0, 2);
	if (!l4_sum(m, h, phdr, &sum))
		return false;
	csum = (uint16_t)~sum;
	/* A UDP checksum of 0 means "none"; 0xffff is the same sum (RFC 768). */
	if (csum == 0 && h->l4_proto == IPPROTO_UDP)
		csum = 0xffff;
	memcpy(p + off, &csum, sizeof(csum));
	return true;
}

void
fwd_pkt_udp4_hdr(uint8_t hdr[FWD_PKT_UDP4_HDR_LEN], const struct rte_ether_addr *src,
		 const struct rte_ether_addr *dst, const struct fwd_pkt_udp4_flow *flow,
		 uint32_t frame_len)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)hdr;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint32_t l3_len = frame_len - sizeof(*eth);

	memset(hdr, 0, FWD_PKT_UDP4_HDR_LEN);
	rte_ether_addr_copy(src, &eth->src_addr);
	rte_ether_addr_copy(dst, &eth->dst_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(l3_len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(flow->src_ip);
	ip->dst_addr = rte_cpu_to_be_32(flow->dst_ip);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(flow->src_port);
	udp->dst_port = rte_cpu_to_be_16(flow->dst_port);
	udp->dgram_len = rte_cpu_to_be_16(l3_len - sizeof(*ip));
}

bool
fwd_pkt_chain_segs(struct rte_mempool *mp, struct rte_mbuf *head, const uint16_t *seg_len,
		   uint16_t nb_segs)
{
	struct rte_mbuf *segs[PMD_TX_SEGS_MAX];
	struct rte_mbuf *prev = head;
	uint16_t s;

	if (nb_segs <= 1)
		return true;
	if (nb_segs > PMD_TX_SEGS_MAX || rte_pktmbuf_alloc_bulk(mp, segs, nb_segs - 1) != 0)
		return false;
	for (s = 1; s < nb_segs; s++) {
		struct rte_mbuf *seg = segs[s - 1];

		seg->data_len = seg_len[s];
		prev->next = seg;
		prev = seg;
	}
	head->nb_segs = nb_segs;
	return true;
}

void
fwd_pkt_template_init(struct fwd_pkt_template *t, const struct pmd_config *cfg)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->seg_len, cfg->tx_seg_len, sizeof(t->seg_len));
	t->nb_segs = cfg->tx_nb_segs;
	t->pkt_len = cfg->tx_pkt_len;
}
