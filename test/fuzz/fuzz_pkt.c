/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the packet functions of vhu-pmd's icmpecho and csum engines
 * (icmpecho_answer(), csum_packet() and the header parser under them) on
 * any packet a guest or a wire could send, in up to four segments, each in
 * a heap block of exactly its size so that AddressSanitizer catches a read
 * or write past any of them.
 *
 * An input is:
 *
 *   byte 0      bits 0-2: the tx port's checksum offloads (IPv4, UDP, TCP);
 *               bits 3-4: the rx port's verdict on the IPv4 checksum
 *               (unknown, bad, good, none), bits 5-6 the same for layer 4;
 *               bit 7: the packet carries a partial UDP checksum
 *               (RTE_MBUF_F_TX_UDP_CKSUM) as a guest's NEEDS_CSUM leaves it.
 *   byte 1      bits 0-1: segments - 1; bit 2: icmpecho answers for any
 *               address (else 10.11.12.2).
 *   then        a 16-bit little-endian length for each segment but the last;
 *   the rest    the packet.
 *
 * Oracles: what csum_packet() says it computed in software must check out
 * (IPv4 and layer-4 checksums right, so a second pass finds nothing wrong);
 * what it left to the offload must carry the pseudo-header sum and the
 * flags; an answer of icmpecho_answer() must be an ARP reply or an ICMP
 * echo reply with right checksums, as long as the request.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "fuzz_common.h"
#include "fwd_pkt.h"

#define MAX_SEGS 4

static const struct rte_ether_addr port_mac = {{0x02, 0x76, 0x68, 0x75, 0x00, 0x00}};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

/* A chain of segments over pkt[0..len), split as the input says; NULL when it says nonsense. */
static struct rte_mbuf *
chain(const uint8_t *pkt, size_t len, const uint16_t *seg_len, unsigned int nb_segs)
{
	struct rte_mbuf *head = NULL, *prev = NULL;
	size_t off = 0;
	unsigned int s;

	for (s = 0; s < nb_segs; s++) {
		size_t n = s + 1 == nb_segs ? len - off : seg_len[s];
		struct rte_mbuf *m = calloc(1, sizeof(*m));

		FZ_CHECK(m != NULL, "out of memory");
		m->buf_addr = malloc(n != 0 ? n : 1);
		FZ_CHECK(m->buf_addr != NULL, "out of memory");
		memcpy(m->buf_addr, pkt + off, n);
		m->buf_len = (uint16_t)n;
		m->data_len = (uint16_t)n;
		m->nb_segs = 1;
		off += n;
		if (prev == NULL)
			head = m;
		else
			prev->next = m;
		prev = m;
	}
	head->nb_segs = (uint16_t)nb_segs;
	head->pkt_len = (uint32_t)len;
	return head;
}

static void
unchain(struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		free(m->buf_addr);
		free(m);
		m = next;
	}
}

static void
check_csum(const uint8_t *pkt, size_t len, const uint16_t *seg_len, unsigned int nb_segs,
	   uint8_t flags)
{
	static const uint64_t ip_verdict[] = {0, RTE_MBUF_F_RX_IP_CKSUM_BAD,
					      RTE_MBUF_F_RX_IP_CKSUM_GOOD,
					      RTE_MBUF_F_RX_IP_CKSUM_NONE};
	static const uint64_t l4_verdict[] = {0, RTE_MBUF_F_RX_L4_CKSUM_BAD,
					      RTE_MBUF_F_RX_L4_CKSUM_GOOD,
					      RTE_MBUF_F_RX_L4_CKSUM_NONE};
	uint64_t offload = ((flags & 1) ? RTE_ETH_TX_OFFLOAD_IPV4_CKSUM : 0) |
			   ((flags & 2) ? RTE_ETH_TX_OFFLOAD_UDP_CKSUM : 0) |
			   ((flags & 4) ? RTE_ETH_TX_OFFLOAD_TCP_CKSUM : 0);
	struct rte_mbuf *m = chain(pkt, len, seg_len, nb_segs);
	struct csum_result r, again;
	struct fwd_pkt_hdrs h;
	enum fwd_pkt_kind kind;

	m->ol_flags = ip_verdict[(flags >> 3) & 3] | l4_verdict[(flags >> 5) & 3] |
		      ((flags & 0x80) ? RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_IPV4 : 0);
	csum_packet(m, offload, &r);
	FZ_CHECK(m->pkt_len == len, "csum_packet changed the length");
	kind = fwd_pkt_parse(m, &h);
	FZ_CHECK(!(r.ip_sw && r.ip_offload) && !(r.l4_sw && r.l4_offload), "both ways at once");
	if (r.ip_sw)
		FZ_CHECK(kind == FWD_PKT_IPV4 && fwd_pkt_ipv4_cksum_ok(m, &h),
			 "the IPv4 checksum written is wrong");
	if (r.ip_offload)
		FZ_CHECK((m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) != 0 &&
				 (offload & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0,
			 "IPv4 checksum left to a port that cannot");
	if (r.l4_sw)
		FZ_CHECK(fwd_pkt_l4_cksum_ok(m, &h), "the layer-4 checksum written is wrong");
	if (r.l4_offload) {
		uint16_t field, off = fwd_pkt_l4_cksum_off(h.l4_proto);

		memcpy(&field, rte_pktmbuf_mtod_offset(m, uint8_t *, h.l2_len + h.l3_len + off),
		       sizeof(field));
		FZ_CHECK((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) != 0, "no offload flag");
		FZ_CHECK(field == fwd_pkt_phdr_sum(m, &h), "no pseudo-header sum in the field");
	}
	/* Set in software, a second pass finds nothing wrong. */
	if (offload == 0 && (r.ip_sw || r.l4_sw)) {
		m->ol_flags = 0;
		csum_packet(m, 0, &again);
		FZ_CHECK(!again.bad_ip && (!r.l4_sw || !again.bad_l4),
			 "checksums set here are found wrong on a second pass");
	}
	unchain(m);
}

static void
check_icmpecho(const uint8_t *pkt, size_t len, const uint16_t *seg_len, unsigned int nb_segs,
	       bool any)
{
	static const uint8_t addr[4] = {10, 11, 12, 2};
	struct rte_mbuf *m = chain(pkt, len, seg_len, nb_segs);
	struct fwd_pkt_hdrs h;
	rte_be32_t a = 0;
	const uint8_t *p;

	if (!any)
		memcpy(&a, addr, sizeof(a));
	if (icmpecho_answer(m, &port_mac, a)) {
		FZ_CHECK(m->pkt_len == len, "an answer of another length");
		p = rte_pktmbuf_mtod(m, const uint8_t *);
		FZ_CHECK(memcmp(p + 6, &port_mac, 6) == 0, "an answer not from the port");
		if (fwd_pkt_parse(m, &h) == FWD_PKT_IPV4) {
			FZ_CHECK(h.l4_proto == IPPROTO_ICMP && p[h.l2_len + h.l3_len] == 0,
				 "an answer that is no echo reply");
			FZ_CHECK(fwd_pkt_ipv4_cksum_ok(m, &h) && fwd_pkt_l4_cksum_ok(m, &h),
				 "an echo reply with a wrong checksum");
		} else {
			FZ_CHECK(h.ether_type == RTE_ETHER_TYPE_ARP &&
					 p[h.l2_len + 6] == 0 && p[h.l2_len + 7] == 2,
				 "an answer that is no ARP reply");
		}
	}
	unchain(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t seg_len[MAX_SEGS];
	unsigned int nb_segs, s;
	size_t off = 2, total = 0;

	if (size < 2)
		return 0;
	nb_segs = (data[1] & 3) + 1;
	for (s = 0; s + 1 < nb_segs; s++) {
		if (size < off + 2)
			return 0;
		seg_len[s] = (uint16_t)(data[off] | data[off + 1] << 8);
		total += seg_len[s];
		off += 2;
	}
	/* Each segment is within the packet; an mbuf holds at most 64 KiB. */
	if (total > size - off || size - off > UINT16_MAX)
		return 0;
	check_csum(data + off, size - off, seg_len, nb_segs, data[0]);
	check_icmpecho(data + off, size - off, seg_len, nb_segs, (data[1] & 4) != 0);
	return 0;
}
