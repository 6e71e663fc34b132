/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * txonly: send UDP/IPv4 frames of --txpkts bytes as fast as the port takes
 * them, from the tx port's address to its peer's (02:00:00:00:00:<port>),
 * 198.18.0.1:9 to 198.18.0.2:9 (the benchmarking range of RFC 2544). The
 * headers are built once per stream, with the IPv4 checksum; UDP carries no
 * checksum, which IPv4 allows. The payload is left as the mbuf holds it.
 */
#include <assert.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "fwd.h"

/* 198u: DPDK 22.11's RTE_IPV4() shifts its first byte as an int, which for
 * 198 << 24 overflows (undefined; UBSan aborts). */
#define TXONLY_SRC_IP	RTE_IPV4(198u, 18, 0, 1)
#define TXONLY_DST_IP	RTE_IPV4(198u, 18, 0, 2)
#define TXONLY_UDP_PORT 9 /* discard */

struct txonly_data {
	uint8_t hdr[PMD_TX_HDR_LEN];	   /* Ethernet + IPv4 + UDP, ready to copy */
	uint16_t seg_len[PMD_TX_SEGS_MAX]; /* data length of each segment */
	uint16_t nb_segs;
	uint32_t pkt_len; /* their sum */
};

static_assert(sizeof(struct txonly_data) <= FWD_ENGINE_DATA_SIZE, "txonly_data too large");
static_assert(PMD_TX_HDR_LEN == sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
					sizeof(struct rte_udp_hdr),
	      "PMD_TX_HDR_LEN is not the header size");

static int
txonly_stream_init(struct fwd_stream *fs, const struct pmd_config *cfg)
{
	struct txonly_data *td = fwd_engine_data(fs, struct txonly_data);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)td->hdr;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint32_t l3_len = cfg->tx_pkt_len - sizeof(*eth);

	memset(td, 0, sizeof(*td));
	rte_ether_addr_copy(&fs->tx_port->mac, &eth->src_addr);
	fwd_peer_mac(fs->tx_port->id, &eth->dst_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(l3_len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(TXONLY_SRC_IP);
	ip->dst_addr = rte_cpu_to_be_32(TXONLY_DST_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(TXONLY_UDP_PORT);
	udp->dst_port = rte_cpu_to_be_16(TXONLY_UDP_PORT);
	udp->dgram_len = rte_cpu_to_be_16(l3_len - sizeof(*ip));
	memcpy(td->seg_len, cfg->tx_seg_len, sizeof(td->seg_len));
	td->nb_segs = cfg->tx_nb_segs;
	td->pkt_len = cfg->tx_pkt_len;
	return 0;
}

/* Chain the segments after the first onto head. Returns false (head untouched) when short of mbufs.
 */
static inline bool
txonly_add_segs(struct fwd_stream *fs, const struct txonly_data *td, struct rte_mbuf *head)
{
	struct rte_mbuf *segs[PMD_TX_SEGS_MAX];
	struct rte_mbuf *prev = head;
	uint16_t s;

	if (rte_pktmbuf_alloc_bulk(fs->mp, segs, td->nb_segs - 1) != 0)
		return false;
	for (s = 1; s < td->nb_segs; s++) {
		struct rte_mbuf *seg = segs[s - 1];

		seg->data_len = td->seg_len[s];
		prev->next = seg;
		prev = seg;
	}
	head->nb_segs = td->nb_segs;
	return true;
}

static bool
txonly_fwd(struct fwd_stream *fs)
{
	const struct txonly_data *td = fwd_engine_data(fs, struct txonly_data);
	struct rte_mbuf *pkts[PMD_BURST_MAX];
	uint16_t n = fs->burst, i;

	if (unlikely(rte_pktmbuf_alloc_bulk(fs->mp, pkts, n) != 0))
		return false;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (td->nb_segs > 1 && unlikely(!txonly_add_segs(fs, td, m))) {
			rte_pktmbuf_free_bulk(&pkts[i], n - i);
			n = i;
			break;
		}
		rte_memcpy(rte_pktmbuf_mtod(m, void *), td->hdr, sizeof(td->hdr));
		m->data_len = td->seg_len[0];
		m->pkt_len = td->pkt_len;
		m->l2_len = sizeof(struct rte_ether_hdr);
		m->l3_len = sizeof(struct rte_ipv4_hdr);
	}
	if (n == 0)
		return false;
	fwd_tx(fs, pkts, n);
	return true;
}

const struct fwd_engine fwd_txonly_engine = {
	.name = "txonly",
	.rx = false,
	.tx = true,
	.stream_init = txonly_stream_init,
	.packet_fwd = txonly_fwd,
};
