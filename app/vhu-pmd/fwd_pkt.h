/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet helpers of the engines that read and write headers (icmpecho,
 * flowgen, csum, txonly): finding the layer-3 and layer-4 headers behind
 * VLAN tags, the Internet checksums, building a UDP/IPv4 header. And the
 * packet functions of those engines, exposed for the unit tests.
 *
 * Received packets are hostile: every length comes from the packet and is
 * checked against the mbuf before anything is read. Headers are read and
 * written in the first segment only; payloads (what a checksum covers) may
 * span segments. Pure functions: any thread.
 */
#ifndef VHU_PMD_FWD_PKT_H
#define VHU_PMD_FWD_PKT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "vhu_cksum.h"
#include "vhu_pmd.h"

/* At most this many VLAN tags (802.1Q or 802.1ad) are skipped. */
#define FWD_PKT_VLAN_MAX 2
/* At most this many IPv6 extension headers are walked. */
#define FWD_PKT_IPV6_EXT_MAX 8

/* Where the headers of a packet are, as fwd_pkt_parse() found them. */
struct fwd_pkt_hdrs {
	uint16_t l2_len;     /* Ethernet header and VLAN tags */
	uint16_t l3_len;     /* IPv4 header with options; IPv6 header with extension headers */
	uint16_t ether_type; /* after the tags, host order */
	uint8_t l4_proto;    /* IPPROTO_* of what follows the layer-3 headers */
	bool fragment;	     /* an IP fragment: no whole layer-4 payload here */
	uint32_t l4_len;     /* layer-4 bytes by the IP length field (padding excluded) */
};

/* What fwd_pkt_parse() found. */
enum fwd_pkt_kind {
	FWD_PKT_OTHER,	   /* not IP (h->l2_len and h->ether_type are set when not a runt) */
	FWD_PKT_IPV4,	   /* a well-formed IPv4 header; h is complete */
	FWD_PKT_IPV6,	   /* a well-formed IPv6 header; h is complete */
	FWD_PKT_MALFORMED, /* IP, but a header is truncated or a length is wrong */
};

/*
 * Find the headers of m. The Ethernet header, the VLAN tags and the IP
 * headers must lie in the first segment; the IP length must not claim more
 * than the packet holds (less is padding).
 */
enum fwd_pkt_kind fwd_pkt_parse(const struct rte_mbuf *m, struct fwd_pkt_hdrs *h);

/*
 * The one's complement sum (folded, not inverted) of the IPv4 or IPv6
 * pseudo-header of the layer-4 payload of m, with h->l4_len as its length.
 * This is what a checksum offload wants in the TCP or UDP checksum field.
 */
uint16_t fwd_pkt_phdr_sum(const struct rte_mbuf *m, const struct fwd_pkt_hdrs *h);

/* Is the IPv4 header checksum of m (parsed into h) right? */
bool fwd_pkt_ipv4_cksum_ok(const struct rte_mbuf *m, const struct fwd_pkt_hdrs *h);

/* Write the IPv4 header checksum of m (parsed into h). */
void fwd_pkt_ipv4_cksum_set(struct rte_mbuf *m, const struct fwd_pkt_hdrs *h);

/*
 * Offset of the checksum field in the layer-4 header of h's protocol: 16
 * for TCP, 6 for UDP, 2 for ICMP; 0 for protocols that have none here.
 */
uint16_t fwd_pkt_l4_cksum_off(uint8_t proto);

/*
 * Is the layer-4 checksum of m right? TCP, UDP (0 over IPv4: none, which is
 * right) and ICMP; true for a fragment or another protocol, which have
 * nothing to check here. False too when the header is too short for its
 * checksum field.
 */
bool fwd_pkt_l4_cksum_ok(const struct rte_mbuf *m, const struct fwd_pkt_hdrs *h);

/*
 * Write the layer-4 checksum of m over its whole payload, all segments.
 * Returns false (m untouched) for a fragment, a protocol without a checksum
 * here, or a checksum field outside the first segment.
 */
bool fwd_pkt_l4_cksum_set(struct rte_mbuf *m, const struct fwd_pkt_hdrs *h);

/* Bytes of the Ethernet, IPv4 and UDP headers that fwd_pkt_udp4_hdr() writes. */
#define FWD_PKT_UDP4_HDR_LEN 42

/* A UDP/IPv4 flow: addresses and ports in host order. */
struct fwd_pkt_udp4_flow {
	uint32_t src_ip;
	uint32_t dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
};

/*
 * Write into hdr the Ethernet, IPv4 (TTL 64, checksum set) and UDP headers
 * (no checksum, which IPv4 allows) of a frame of frame_len bytes.
 */
void fwd_pkt_udp4_hdr(uint8_t hdr[FWD_PKT_UDP4_HDR_LEN], const struct rte_ether_addr *src,
		      const struct rte_ether_addr *dst, const struct fwd_pkt_udp4_flow *flow,
		      uint32_t frame_len);

/*
 * Chain segments of seg_len[1..nb_segs) bytes from mp after head, whose own
 * length the caller sets. Returns false (head untouched) when mp is short of
 * mbufs.
 */
bool fwd_pkt_chain_segs(struct rte_mempool *mp, struct rte_mbuf *head, const uint16_t *seg_len,
			uint16_t nb_segs);

/* The frames an engine makes (txonly, flowgen): headers and --txpkts segments. */
struct fwd_pkt_template {
	uint8_t hdr[FWD_PKT_UDP4_HDR_LEN]; /* copied to the start of each frame */
	uint16_t seg_len[PMD_TX_SEGS_MAX]; /* data length of each segment */
	uint16_t nb_segs;
	uint32_t pkt_len; /* their sum */
};

/* Fill t's segment sizes from the options (--txpkts); the headers are the caller's. */
void fwd_pkt_template_init(struct fwd_pkt_template *t, const struct pmd_config *cfg);

/*
 * Allocate up to n frames of template t from mp into pkts, the headers
 * copied, the segments chained and their lengths set. Returns how many
 * (0 when mp is short of mbufs). Forwarding lcore.
 */
static inline uint16_t
fwd_pkt_frames(struct rte_mempool *mp, const struct fwd_pkt_template *t, struct rte_mbuf **pkts,
	       uint16_t n)
{
	uint16_t i;

	if (unlikely(rte_pktmbuf_alloc_bulk(mp, pkts, n) != 0))
		return 0;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (t->nb_segs > 1 &&
		    unlikely(!fwd_pkt_chain_segs(mp, m, t->seg_len, t->nb_segs))) {
			rte_pktmbuf_free_bulk(&pkts[i], n - i);
			return i;
		}
		rte_memcpy(rte_pktmbuf_mtod(m, void *), t->hdr, sizeof(t->hdr));
		m->data_len = t->seg_len[0];
		m->pkt_len = t->pkt_len;
		m->l2_len = sizeof(struct rte_ether_hdr);
		m->l3_len = sizeof(struct rte_ipv4_hdr);
	}
	return n;
}

/* --- the engines' packet functions ------------------------------------------------- */

/*
 * icmpecho: turn m, received on a port whose address is 'mac', into the
 * answer to it, in place: an ARP reply to an ARP request for 'addr', or an
 * ICMP echo reply to an echo request sent to 'mac' and 'addr' whose
 * checksums are right. 'addr' is in network order; 0 answers for any
 * unicast address. Returns true when m is now the answer, false (m
 * untouched) when it asks nothing of this port.
 */
bool icmpecho_answer(struct rte_mbuf *m, const struct rte_ether_addr *mac, rte_be32_t addr);

/* flowgen: the flow of number 'flow' (0..65535) in flowgen's address plan. */
void flowgen_flow(uint32_t flow, struct fwd_pkt_udp4_flow *f);

/*
 * flowgen: rewrite the headers hdr (as fwd_pkt_udp4_hdr() wrote them) for
 * flow number 'flow': addresses, ports and the IPv4 checksum.
 */
void flowgen_set_flow(uint8_t hdr[FWD_PKT_UDP4_HDR_LEN], uint32_t flow);

/* What csum_packet() found and did to one packet. */
struct csum_result {
	bool bad_ip;	 /* the IPv4 header checksum was wrong on arrival */
	bool bad_l4;	 /* the TCP, UDP or ICMP checksum was wrong on arrival */
	bool ip_sw;	 /* the IPv4 header checksum was written here */
	bool ip_offload; /* ... or left to the tx port (RTE_MBUF_F_TX_IP_CKSUM) */
	bool l4_sw;	 /* the TCP or UDP checksum was written here */
	bool l4_offload; /* ... or left to the tx port (RTE_MBUF_F_TX_TCP/UDP_CKSUM) */
};

/*
 * csum: check the checksums of m as received (trusting the rx port's
 * RTE_MBUF_F_RX_*_CKSUM_GOOD/BAD flags where it set them; a TCP or UDP
 * checksum still to be completed, RTE_MBUF_F_TX_*_CKSUM, is not wrong),
 * then set the IPv4, TCP and UDP checksums for a tx port that completes the
 * RTE_ETH_TX_OFFLOAD_* checksums in 'offload': those it completes are asked
 * of it through ol_flags (the TCP/UDP field then holds the pseudo-header
 * sum), the others are written here. Packets that are not IP, malformed,
 * or TSO are left as they are.
 */
void csum_packet(struct rte_mbuf *m, uint64_t offload, struct csum_result *res);

#endif /* VHU_PMD_FWD_PKT_H */
