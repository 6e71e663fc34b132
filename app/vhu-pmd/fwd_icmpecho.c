/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * icmpecho: answer ARP requests and ICMP echo requests (ping) addressed to
 * the port, as a host would, and drop everything else. The address is
 * --icmpecho-addr ("set icmpecho-addr"); without one the port answers for
 * every unicast IPv4 address, as dpdk-testpmd's icmpecho does. The answer
 * goes out of the port the request came in on (the engine's 'reply').
 *
 * Answers are made in place from the request: an ARP reply from the port's
 * MAC address, an echo reply with the IP addresses swapped, TTL 64, the
 * options and the payload as they came, and both checksums written anew.
 * A request with a wrong IPv4 or ICMP checksum, a fragment, or one sent to
 * another MAC address is not answered. VLAN tags (up to two) are kept.
 */
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "fwd.h"
#include "fwd_pkt.h"

/* TTL of the echo replies, as a Linux host sends them. */
#define ICMPECHO_TTL 64

struct icmpecho_data {
	rte_be32_t addr;	   /* the port's address; 0: any */
	struct rte_ether_addr mac; /* the rx port's MAC address, the one asked for */
};

static_assert(sizeof(struct icmpecho_data) <= FWD_ENGINE_DATA_SIZE, "icmpecho_data too large");

/* An ARP request for 'addr' (any unicast address when 0) becomes the reply. */
static bool
icmpecho_arp(struct rte_mbuf *m, const struct fwd_pkt_hdrs *h, const struct rte_ether_addr *mac,
	     rte_be32_t addr)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp;
	rte_be32_t tip;

	if (m->data_len < h->l2_len + sizeof(*arp))
		return false;
	if (!rte_is_broadcast_ether_addr(&eth->dst_addr) &&
	    !rte_is_same_ether_addr(&eth->dst_addr, mac))
		return false;
	arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, h->l2_len);
	if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != sizeof(rte_be32_t) ||
	    arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST))
		return false;
	tip = arp->arp_data.arp_tip;
	/* With any address: not a probe (sender 0) or announcement (sender = target). */
	if (addr != 0 ? tip != addr
		      : (tip == 0 || tip == arp->arp_data.arp_sip || arp->arp_data.arp_sip == 0))
		return false;
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&arp->arp_data.arp_sha, &arp->arp_data.arp_tha);
	rte_ether_addr_copy(mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	arp->arp_data.arp_sip = tip;
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(mac, &eth->src_addr);
	return true;
}

/* Is a an address a host answers pings for: not 0, multicast, or broadcast? */
static bool
icmpecho_unicast(rte_be32_t a)
{
	uint32_t v = rte_be_to_cpu_32(a);

	return v != 0 && v != UINT32_MAX && (v >> 28) != 0xe;
}

/* An ICMP echo request to 'mac' and 'addr' becomes the echo reply. */
static bool
icmpecho_ping(struct rte_mbuf *m, const struct fwd_pkt_hdrs *h, const struct rte_ether_addr *mac,
	      rte_be32_t addr)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *icmp;
	rte_be32_t dst;

	if (h->fragment || h->l4_proto != IPPROTO_ICMP || h->l4_len < sizeof(*icmp) ||
	    m->data_len < h->l2_len + h->l3_len + sizeof(*icmp) ||
	    !rte_is_same_ether_addr(&eth->dst_addr, mac))
		return false;
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, h->l2_len);
	icmp = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, h->l2_len + h->l3_len);
	dst = ip->dst_addr;
	if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0 ||
	    (addr != 0 ? dst != addr : !icmpecho_unicast(dst)) || !icmpecho_unicast(ip->src_addr) ||
	    !fwd_pkt_ipv4_cksum_ok(m, h) || !fwd_pkt_l4_cksum_ok(m, h))
		return false;
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(mac, &eth->src_addr);
	ip->dst_addr = ip->src_addr;
	ip->src_addr = dst;
	ip->time_to_live = ICMPECHO_TTL;
	fwd_pkt_ipv4_cksum_set(m, h);
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	return fwd_pkt_l4_cksum_set(m, h);
}

bool
icmpecho_answer(struct rte_mbuf *m, const struct rte_ether_addr *mac, rte_be32_t addr)
{
	struct fwd_pkt_hdrs h;

	switch (fwd_pkt_parse(m, &h)) {
	case FWD_PKT_OTHER:
		return h.ether_type == RTE_ETHER_TYPE_ARP && icmpecho_arp(m, &h, mac, addr);
	case FWD_PKT_IPV4:
		return icmpecho_ping(m, &h, mac, addr);
	default:
		return false;
	}
}

static int
icmpecho_stream_init(struct fwd_stream *fs, const struct pmd_config *cfg)
{
	struct icmpecho_data *d = fwd_engine_data(fs, struct icmpecho_data);

	d->addr = cfg->icmpecho_addr;
	rte_ether_addr_copy(&fs->rx_port->mac, &d->mac);
	return 0;
}

static bool
icmpecho_fwd(struct fwd_stream *fs)
{
	const struct icmpecho_data *d = fwd_engine_data(fs, struct icmpecho_data);
	struct rte_mbuf *pkts[PMD_BURST_MAX];
	uint16_t n, i, nb_tx = 0;

	n = fwd_rx(fs, pkts);
	if (n == 0)
		return false;
	fwd_prefetch_data(pkts, n);
	for (i = 0; i < n; i++) {
		if (icmpecho_answer(pkts[i], &d->mac, d->addr))
			pkts[nb_tx++] = pkts[i];
		else
			rte_pktmbuf_free(pkts[i]);
	}
	if (nb_tx != 0)
		fwd_tx(fs, pkts, nb_tx);
	return true;
}

const struct fwd_engine fwd_icmpecho_engine = {
	.name = "icmpecho",
	.rx = true,
	.tx = true,
	.reply = true,
	.stream_init = icmpecho_stream_init,
	.packet_fwd = icmpecho_fwd,
};

/* --- the shell ----------------------------------------------------------------------- */

int
cmd_set_icmpecho_addr(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct pmd_config old = pmd->cfg;

	if (!pmd_parse_icmpecho_addr(argv[0], &pmd->cfg.icmpecho_addr)) {
		pmd_error("set icmpecho-addr %s: give an IPv4 address such as 10.0.0.2, or 'any'",
			  argv[0]);
		return -EINVAL;
	}
	if (fwd_apply(pmd, &old) != 0)
		return -ENOMEM;
	if (pmd->cfg.icmpecho_addr == 0)
		printf("icmpecho answers ARP and ping for any address\n");
	else
		printf("icmpecho answers ARP and ping for %s only\n", argv[0]);
	return 0;
}
