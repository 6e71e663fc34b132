/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet functions of vhu-pmd's icmpecho, flowgen and csum engines and
 * the header and checksum helpers they share (app/vhu-pmd/fwd_pkt.h), on
 * packets built here byte by byte in mbufs that live on the stack: no EAL,
 * no mempool. Checksums are checked against a byte-wise reference written
 * here and against vectors computed elsewhere (the IPv4 header of RFC 1071's
 * usual example; UDP/IPv4 and TCP/IPv6 packets summed by hand).
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_thash.h>

#include "fwd_pkt.h"
#include "pkt_ref.h"
#include "test_harness.h"

#define ROOM	  2048
#define HEADROOM  128

/* An mbuf with its own data room; one or two segments. */
struct tbuf {
	struct rte_mbuf m;
	uint8_t room[ROOM];
};

static uint8_t *
tb_init(struct tbuf *t, const uint8_t *data, uint16_t len)
{
	memset(&t->m, 0, sizeof(t->m));
	t->m.buf_addr = t->room;
	t->m.buf_len = ROOM;
	t->m.data_off = HEADROOM;
	t->m.nb_segs = 1;
	t->m.data_len = len;
	t->m.pkt_len = len;
	memcpy(t->room + HEADROOM, data, len);
	return t->room + HEADROOM;
}

/* Move the bytes of a from offset 'at' on into b, chained after a. */
static void
tb_split(struct tbuf *a, struct tbuf *b, uint16_t at)
{
	uint16_t rest = a->m.data_len - at;

	tb_init(b, a->room + HEADROOM + at, rest);
	b->m.pkt_len = 0;
	a->m.data_len = at;
	a->m.next = &b->m;
	a->m.nb_segs = 2;
}

/* The packet's bytes, whatever its segments, into out. */
static uint32_t
tb_bytes(const struct rte_mbuf *m, uint8_t *out)
{
	uint32_t n = 0;

	for (; m != NULL; m = m->next) {
		memcpy(out + n, rte_pktmbuf_mtod(m, const uint8_t *), m->data_len);
		n += m->data_len;
	}
	return n;
}

/* --- icmpecho ------------------------------------------------------------------------ */

TEST(arp_request_for_the_port_address_is_answered)
{
	uint8_t pkt[128], want[128];
	struct tbuf t;
	uint16_t len = build_arp(pkt, NULL, ip_peer, ip_port);
	uint8_t *d = tb_init(&t, pkt, len);

	ASSERT_TRUE(icmpecho_answer(&t.m, &port_mac, be_addr(ip_port)));
	memcpy(want, pkt, len);
	memcpy(want, &peer_mac, 6);
	memcpy(want + 6, &port_mac, 6);
	put16(want + ETH_LEN + 6, 2); /* reply */
	memcpy(want + ETH_LEN + 8, &port_mac, 6);
	memcpy(want + ETH_LEN + 14, ip_port, 4);
	memcpy(want + ETH_LEN + 18, &peer_mac, 6);
	memcpy(want + ETH_LEN + 24, ip_peer, 4);
	ASSERT_EQ(t.m.pkt_len, len);
	ASSERT_MEM_EQ(d, want, len);
}

TEST(arp_request_for_another_address_is_not_answered)
{
	static const uint8_t other[4] = {10, 11, 12, 99};
	uint8_t pkt[128];
	struct tbuf t;
	uint16_t len = build_arp(pkt, NULL, ip_peer, other);
	uint8_t *d = tb_init(&t, pkt, len);

	ASSERT_FALSE(icmpecho_answer(&t.m, &port_mac, be_addr(ip_port)));
	ASSERT_MEM_EQ(d, pkt, len);
	/* With any address it is answered... */
	ASSERT_TRUE(icmpecho_answer(&t.m, &port_mac, 0));
	ASSERT_MEM_EQ(d + ETH_LEN + 14, other, 4);
}

TEST(arp_probes_announcements_and_other_macs_are_not_answered)
{
	static const uint8_t zero[4] = {0, 0, 0, 0};
	static const struct rte_ether_addr other = {{0x02, 0, 0, 0, 0, 9}};
	uint8_t pkt[128];
	struct tbuf t;

	/* A probe (RFC 5227: sender 0.0.0.0) and an announcement (sender = target). */
	tb_init(&t, pkt, build_arp(pkt, NULL, zero, ip_port));
	ASSERT_FALSE(icmpecho_answer(&t.m, &port_mac, 0));
	tb_init(&t, pkt, build_arp(pkt, NULL, ip_peer, ip_peer));
	ASSERT_FALSE(icmpecho_answer(&t.m, &port_mac, 0));
	/* Sent to another station's MAC. */
	tb_init(&t, pkt, build_arp(pkt, &other, ip_peer, ip_port));
	ASSERT_FALSE(icmpecho_answer(&t.m, &port_mac, be_addr(ip_port)));
	/* Sent to ours: answered. */
	tb_init(&t, pkt, build_arp(pkt, &port_mac, ip_peer, ip_port));
	ASSERT_TRUE(icmpecho_answer(&t.m, &port_mac, be_addr(ip_port)));
}

TEST(arp_truncated_or_not_ethernet_ipv4_is_not_answered)
{
	uint8_t pkt[128];
	struct tbuf t;

	build_arp(pkt, NULL, ip_peer, ip_port);
	tb_init(&t, pkt, ETH_LEN + 27);
	ASSERT_FALSE(icmpecho_answer(&t.m, &port_mac, 0));
	pkt[ETH_LEN + 4] = 8; /* hardware address length */
	tb_init(&t, pkt, 60);
	ASSERT_FALSE(icmpecho_answer(&t.m, &port_mac, 0));
	build_arp(pkt, NULL, ip_peer, ip_port);
	put16(pkt + ETH_LEN + 6, 2); /* a reply is not a request */
	tb_init(&t, pkt, 60);
	ASSERT_FALSE(icmpecho_answer(&t.m, &port_mac, 0));
}

/* Ping the port as row says, compare the answer with expect_pong(). */
struct ping_case {
	unsigned int tags, opt;
	uint16_t data, pad, split; /* split: second segment from this offset; 0: one segment */
};

static const struct ping_case ping_cases[] = {
	{0, 0, 56, 0, 0}, {0, 0, 0, 18, 0},   {1, 0, 56, 0, 0},
	{2, 0, 56, 0, 0}, {0, 2, 56, 0, 0},   {0, 0, 1400, 0, 0},
	{0, 0, 57, 0, 0}, {0, 0, 300, 0, 77}, {1, 1, 201, 0, 53},
};

static void
ping_row(const void *arg)
{
	const struct ping_case *c = arg;
	static uint8_t pkt[ROOM], want[ROOM], got[ROOM];
	uint16_t len = build_ping(pkt, c->tags, c->opt, c->data, c->pad);
	uint16_t ip_off = ETH_LEN + c->tags * VLAN_LEN;
	struct tbuf a, b;

	tb_init(&a, pkt, len);
	if (c->split != 0)
		tb_split(&a, &b, c->split);
	ASSERT_TRUE(icmpecho_answer(&a.m, &port_mac, be_addr(ip_port)));
	memcpy(want, pkt, len);
	expect_pong(want, c->tags, c->opt, c->data);
	ASSERT_EQ(tb_bytes(&a.m, got), len);
	ASSERT_MEM_EQ(got, want, len);
	ASSERT_TRUE(ref_ip4_ok(got + ip_off));
	ASSERT_TRUE(ref_l4_ok(got + ip_off, false, IPPROTO_ICMP,
			      got + ip_off + IP4_LEN + c->opt * 4, 8u + c->data));
}

__attribute__((constructor)) static void
ping_register(void)
{
	unsigned int i;
	char name[96];

	for (i = 0; i < RTE_DIM(ping_cases); i++) {
		const struct ping_case *c = &ping_cases[i];

		snprintf(name, sizeof(name), "ping_answered_tags%u_opt%u_data%u_pad%u_split%u",
			 c->tags, c->opt, c->data, c->pad, c->split);
		th_register_arg(__FILE__, __LINE__, name, ping_row, c);
	}
}

/* Build a good ping, spoil it with 'spoil', check that nothing is answered or changed. */
static void
ping_refused(void (*spoil)(uint8_t *p, uint16_t *len), rte_be32_t addr)
{
	uint8_t pkt[256];
	uint16_t len = build_ping(pkt, 0, 0, 32, 0);
	struct tbuf t;
	uint8_t *d;

	spoil(pkt, &len);
	d = tb_init(&t, pkt, len);
	ASSERT_FALSE(icmpecho_answer(&t.m, &port_mac, addr));
	ASSERT_MEM_EQ(d, pkt, len);
}

static void
spoil_ip_cksum(uint8_t *p, uint16_t *len)
{
	p[ETH_LEN + 10] ^= 1;
}

static void
spoil_icmp_cksum(uint8_t *p, uint16_t *len)
{
	p[ETH_LEN + IP4_LEN + 8] ^= 0x80; /* a payload byte */
}

static void
spoil_fragment(uint8_t *p, uint16_t *len)
{
	put16(p + ETH_LEN + 6, 0x2000); /* more fragments */
	put16(p + ETH_LEN + 10, 0);
	put16(p + ETH_LEN + 10, (uint16_t)~ref_fold(ref_add(0, p + ETH_LEN, IP4_LEN)));
}

static void
spoil_dst_mac(uint8_t *p, uint16_t *len)
{
	p[5] ^= 0x10;
}

static void
spoil_truncate(uint8_t *p, uint16_t *len)
{
	*len -= 1; /* the IP length now claims one byte more than the frame */
}

static void
spoil_short_header(uint8_t *p, uint16_t *len)
{
	*len = ETH_LEN + IP4_LEN - 1;
}

static void
spoil_ihl(uint8_t *p, uint16_t *len)
{
	p[ETH_LEN] = 0x44; /* a header shorter than 20 bytes */
}

static void
spoil_not_request(uint8_t *p, uint16_t *len)
{
	p[ETH_LEN + IP4_LEN] = 0; /* an echo reply is not answered */
	ref_l4_set(p + ETH_LEN, false, IPPROTO_ICMP, p + ETH_LEN + IP4_LEN, 8 + 32, 2);
}

static void
spoil_broadcast_dst(uint8_t *p, uint16_t *len)
{
	memset(p + ETH_LEN + 16, 0xff, 4);
	put16(p + ETH_LEN + 10, 0);
	put16(p + ETH_LEN + 10, (uint16_t)~ref_fold(ref_add(0, p + ETH_LEN, IP4_LEN)));
}

TEST(ping_with_a_wrong_ip_checksum_is_not_answered)
{
	ping_refused(spoil_ip_cksum, 0);
}

TEST(ping_with_a_wrong_icmp_checksum_is_not_answered)
{
	ping_refused(spoil_icmp_cksum, 0);
}

TEST(ping_fragment_is_not_answered)
{
	ping_refused(spoil_fragment, 0);
}

TEST(ping_to_another_mac_is_not_answered)
{
	ping_refused(spoil_dst_mac, 0);
}

TEST(ping_to_another_address_is_not_answered)
{
	static const uint8_t other[4] = {10, 11, 12, 3};

	ping_refused(spoil_not_request, 0);
	ping_refused(spoil_broadcast_dst, 0);
	{
		uint8_t pkt[256];
		struct tbuf t;

		tb_init(&t, pkt, build_ping(pkt, 0, 0, 32, 0));
		ASSERT_FALSE(icmpecho_answer(&t.m, &port_mac, be_addr(other)));
	}
}

TEST(ping_truncated_or_with_wrong_lengths_is_not_answered)
{
	ping_refused(spoil_truncate, 0);
	ping_refused(spoil_short_header, 0);
	ping_refused(spoil_ihl, 0);
}

/* --- flowgen ------------------------------------------------------------------------- */

TEST(flowgen_flows_are_distinct_and_well_formed)
{
	static const struct rte_ether_addr src = {{0x02, 0x76, 0x68, 0x75, 0, 1}};
	static const struct rte_ether_addr dst = {{0x02, 0, 0, 0, 0, 1}};
	static uint8_t seen[65536 / 8];
	uint8_t hdr[FWD_PKT_UDP4_HDR_LEN];
	struct fwd_pkt_udp4_flow f;
	uint32_t i;

	memset(seen, 0, sizeof(seen));
	flowgen_flow(0, &f);
	fwd_pkt_udp4_hdr(hdr, &src, &dst, &f, 128);
	ASSERT_EQ(be16_at(hdr + 12), TYPE_IPV4);
	ASSERT_EQ(be16_at(hdr + ETH_LEN + 2), 128 - ETH_LEN);
	ASSERT_EQ(be16_at(hdr + ETH_LEN + IP4_LEN + 4), 128 - ETH_LEN - IP4_LEN);
	for (i = 0; i < 65536; i++) {
		uint32_t key;

		flowgen_set_flow(hdr, i);
		ASSERT_TRUE(ref_ip4_ok(hdr + ETH_LEN));
		/* 198.18.0.1 -> 198.19.<i / 256>.<i % 256>, source port 1024 + i % 64512. */
		ASSERT_EQ(hdr[ETH_LEN + 12], 198);
		ASSERT_EQ(hdr[ETH_LEN + 13], 18);
		ASSERT_EQ(hdr[ETH_LEN + 16], 198);
		ASSERT_EQ(hdr[ETH_LEN + 17], 19);
		ASSERT_EQ(be16_at(hdr + ETH_LEN + 18), i);
		ASSERT_EQ(be16_at(hdr + ETH_LEN + IP4_LEN), 1024 + i % 64512);
		ASSERT_EQ(be16_at(hdr + ETH_LEN + IP4_LEN + 2), 9);
		key = be16_at(hdr + ETH_LEN + 18);
		ASSERT_EQ(seen[key / 8] & (1u << (key % 8)), 0);
		seen[key / 8] |= (uint8_t)(1u << (key % 8));
	}
}

/* RSS over 4 queues, as a NIC with the usual Toeplitz key and a round-robin table does. */
static void
rss_spread(uint32_t nb_flows, unsigned int queues, unsigned int *per_queue)
{
	static const uint8_t key[40] = {
		0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
		0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
		0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
	};
	uint8_t hdr[FWD_PKT_UDP4_HDR_LEN];
	struct fwd_pkt_udp4_flow f;
	uint32_t i, tuple[3];

	memset(per_queue, 0, queues * sizeof(*per_queue));
	flowgen_flow(0, &f);
	fwd_pkt_udp4_hdr(hdr, &port_mac, &peer_mac, &f, 64);
	for (i = 0; i < nb_flows; i++) {
		flowgen_set_flow(hdr, i);
		/* Source and destination address, then the ports, as rte_softrss() wants them. */
		tuple[0] = (uint32_t)hdr[ETH_LEN + 12] << 24 | hdr[ETH_LEN + 13] << 16 |
			   hdr[ETH_LEN + 14] << 8 | hdr[ETH_LEN + 15];
		tuple[1] = (uint32_t)hdr[ETH_LEN + 16] << 24 | hdr[ETH_LEN + 17] << 16 |
			   hdr[ETH_LEN + 18] << 8 | hdr[ETH_LEN + 19];
		tuple[2] = (uint32_t)be16_at(hdr + ETH_LEN + IP4_LEN) << 16 |
			   be16_at(hdr + ETH_LEN + IP4_LEN + 2);
		per_queue[(rte_softrss(tuple, 3, key) & 127) % queues]++;
	}
}

TEST(flowgen_flows_spread_evenly_over_rss_queues)
{
	unsigned int per_queue[4], q;

	/* Within a fifth of the fair share, for the default and a small number of flows. */
	rss_spread(1024, 4, per_queue);
	for (q = 0; q < 4; q++) {
		th_diag("1024 flows: queue %u gets %u", q, per_queue[q]);
		ASSERT_GE(per_queue[q], 256 - 51);
		ASSERT_LE(per_queue[q], 256 + 51);
	}
	rss_spread(64, 4, per_queue);
	for (q = 0; q < 4; q++)
		ASSERT_GE(per_queue[q], 8);
}

/* --- checksums ----------------------------------------------------------------------- */

TEST(ipv4_header_checksum_matches_the_known_vector)
{
	static const uint8_t ip[IP4_LEN] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
					    0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
					    0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	uint8_t pkt[ROOM] = {0};
	struct fwd_pkt_hdrs h;
	struct tbuf t;
	uint8_t *d;

	put_eth(pkt, &port_mac, &peer_mac, TYPE_IPV4);
	memcpy(pkt + ETH_LEN, ip, sizeof(ip));
	d = tb_init(&t, pkt, ETH_LEN + 0x73);
	ASSERT_EQ(fwd_pkt_parse(&t.m, &h), FWD_PKT_IPV4);
	ASSERT_FALSE(fwd_pkt_ipv4_cksum_ok(&t.m, &h));
	fwd_pkt_ipv4_cksum_set(&t.m, &h);
	ASSERT_EQ(be16_at(d + ETH_LEN + 10), 0xb861);
	ASSERT_TRUE(fwd_pkt_ipv4_cksum_ok(&t.m, &h));
}

/* UDP/IPv4 192.168.0.1:1024 -> 192.168.0.199:53, "vhu-csum!": checksum 0x9407. */
static uint16_t
build_udp4_vector(uint8_t *p)
{
	static const uint8_t src[4] = {192, 168, 0, 1}, dst[4] = {192, 168, 0, 199};
	uint16_t off = put_eth(p, &port_mac, &peer_mac, TYPE_IPV4);

	off += put_ip4(p + off, 0, IP4_LEN + 8 + 9, IPPROTO_UDP, src, dst);
	put16(p + off, 1024);
	put16(p + off + 2, 53);
	put16(p + off + 4, 8 + 9);
	put16(p + off + 6, 0x1111); /* wrong */
	memcpy(p + off + 8, "vhu-csum!", 9);
	return off + 17;
}

/* TCP/IPv6 2001:db8::1.49152 -> 2001:db8::2.80, SYN, "GET": checksum 0xf8d3. */
static uint16_t
build_tcp6_vector(uint8_t *p, bool hop_by_hop)
{
	uint16_t off = put_eth(p, &port_mac, &peer_mac, TYPE_IPV6), ext = hop_by_hop ? 8 : 0;

	off += put_ip6(p + off, (uint16_t)(ext + 23), hop_by_hop ? 0 : IPPROTO_TCP);
	if (hop_by_hop) {
		memset(p + off, 0, 8);
		p[off] = IPPROTO_TCP;
		p[off + 2] = 1; /* PadN */
		p[off + 3] = 4;
		off += 8;
	}
	memset(p + off, 0, 20);
	put16(p + off, 49152);
	put16(p + off + 2, 80);
	p[off + 7] = 1;	    /* sequence number 1 */
	p[off + 12] = 0x50; /* 20-byte header */
	p[off + 13] = 0x02; /* SYN */
	put16(p + off + 14, 65535);
	put16(p + off + 16, 0xdead); /* wrong */
	memcpy(p + off + 20, "GET", 3);
	return off + 23;
}

TEST(csum_in_software_matches_the_udp4_vector)
{
	uint8_t pkt[ROOM];
	struct csum_result r;
	struct tbuf t;
	uint16_t len = build_udp4_vector(pkt);
	uint8_t *d;

	pkt[ETH_LEN + 10] ^= 0x55; /* the IPv4 checksum too */
	d = tb_init(&t, pkt, len);
	csum_packet(&t.m, 0, &r);
	ASSERT_TRUE(r.bad_ip);
	ASSERT_TRUE(r.bad_l4);
	ASSERT_TRUE(r.ip_sw);
	ASSERT_TRUE(r.l4_sw);
	ASSERT_FALSE(r.ip_offload || r.l4_offload);
	ASSERT_EQ(be16_at(d + ETH_LEN + IP4_LEN + 6), 0x9407);
	ASSERT_TRUE(ref_ip4_ok(d + ETH_LEN));
	ASSERT_EQ(t.m.ol_flags, 0);
	ASSERT_EQ(t.m.l2_len, ETH_LEN);
	ASSERT_EQ(t.m.l3_len, IP4_LEN);
	/* Once right, nothing is counted wrong. */
	csum_packet(&t.m, 0, &r);
	ASSERT_FALSE(r.bad_ip || r.bad_l4);
}

TEST(csum_in_software_matches_the_tcp6_vector_with_extension_header)
{
	uint8_t pkt[ROOM];
	struct csum_result r;
	struct tbuf t;
	uint16_t len;
	uint8_t *d;

	len = build_tcp6_vector(pkt, false);
	d = tb_init(&t, pkt, len);
	csum_packet(&t.m, 0, &r);
	ASSERT_TRUE(r.bad_l4);
	ASSERT_FALSE(r.bad_ip || r.ip_sw);
	ASSERT_TRUE(r.l4_sw);
	ASSERT_EQ(be16_at(d + ETH_LEN + IP6_LEN + 16), 0xf8d3);
	/* A hop-by-hop header: not in the pseudo-header's length, so the same checksum. */
	len = build_tcp6_vector(pkt, true);
	d = tb_init(&t, pkt, len);
	csum_packet(&t.m, 0, &r);
	ASSERT_TRUE(r.l4_sw);
	ASSERT_EQ(t.m.l3_len, IP6_LEN + 8);
	ASSERT_EQ(be16_at(d + ETH_LEN + IP6_LEN + 8 + 16), 0xf8d3);
}

TEST(csum_asks_a_port_with_offloads_through_ol_flags)
{
	const uint64_t all = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
			     RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	uint8_t pkt[ROOM];
	struct csum_result r;
	struct fwd_pkt_hdrs h;
	struct tbuf t;
	uint16_t len = build_udp4_vector(pkt);
	uint8_t *d = tb_init(&t, pkt, len);

	csum_packet(&t.m, all, &r);
	ASSERT_TRUE(r.ip_offload);
	ASSERT_TRUE(r.l4_offload);
	ASSERT_FALSE(r.ip_sw || r.l4_sw);
	ASSERT_EQ(t.m.ol_flags,
		  RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM);
	ASSERT_EQ(be16_at(d + ETH_LEN + 10), 0);
	/* The UDP field holds the pseudo-header sum, as a NIC (and virtio) wants it. */
	ASSERT_EQ(be16_at(d + ETH_LEN + IP4_LEN + 6),
		  ref_fold(ref_phdr(d + ETH_LEN, false, IPPROTO_UDP, 17)));
	ASSERT_EQ(fwd_pkt_parse(&t.m, &h), FWD_PKT_IPV4);
	ASSERT_EQ(fwd_pkt_phdr_sum(&t.m, &h), rte_cpu_to_be_16(be16_at(d + ETH_LEN + IP4_LEN + 6)));
	/* Only the TCP and UDP offload: the IPv4 header is summed here. */
	d = tb_init(&t, pkt, len);
	csum_packet(&t.m, RTE_ETH_TX_OFFLOAD_UDP_CKSUM, &r);
	ASSERT_TRUE(r.ip_sw && r.l4_offload);
	ASSERT_TRUE(ref_ip4_ok(d + ETH_LEN));
	ASSERT_EQ(t.m.ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM);
	/* A TCP offload does nothing for UDP. */
	d = tb_init(&t, pkt, len);
	csum_packet(&t.m, RTE_ETH_TX_OFFLOAD_TCP_CKSUM, &r);
	ASSERT_TRUE(r.l4_sw);
	ASSERT_EQ(be16_at(d + ETH_LEN + IP4_LEN + 6), 0x9407);
}

TEST(csum_completes_a_partial_checksum_for_a_port_without_offloads)
{
	uint8_t pkt[ROOM];
	struct csum_result r;
	struct tbuf t;
	uint16_t len = build_udp4_vector(pkt);
	uint8_t *d = tb_init(&t, pkt, len);

	/* As a guest's NEEDS_CSUM arrives: the field holds the pseudo-header sum. */
	put16(d + ETH_LEN + IP4_LEN + 6, ref_fold(ref_phdr(d + ETH_LEN, false, IPPROTO_UDP, 17)));
	t.m.ol_flags = RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_IPV4;
	csum_packet(&t.m, 0, &r);
	ASSERT_FALSE(r.bad_l4); /* unfinished, not wrong */
	ASSERT_TRUE(r.l4_sw);
	ASSERT_EQ(t.m.ol_flags, 0);
	ASSERT_EQ(be16_at(d + ETH_LEN + IP4_LEN + 6), 0x9407);
}

TEST(csum_trusts_the_rx_ports_verdict)
{
	uint8_t pkt[ROOM];
	struct csum_result r;
	struct tbuf t;
	uint16_t len = build_udp4_vector(pkt);

	/* Wrong UDP checksum, but the port says good (it checked before us): not counted. */
	tb_init(&t, pkt, len);
	t.m.ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	csum_packet(&t.m, 0, &r);
	ASSERT_FALSE(r.bad_l4 || r.bad_ip);
	/* Right checksums, but the port says bad: counted. */
	tb_init(&t, pkt, len);
	csum_packet(&t.m, 0, &r);
	t.m.ol_flags = RTE_MBUF_F_RX_L4_CKSUM_BAD | RTE_MBUF_F_RX_IP_CKSUM_BAD;
	csum_packet(&t.m, 0, &r);
	ASSERT_TRUE(r.bad_l4 && r.bad_ip);
}

TEST(csum_fixes_checksums_behind_vlan_tags_and_ip_options)
{
	uint8_t pkt[ROOM], *d;
	struct csum_result r;
	struct tbuf t;
	uint16_t len, ip_off;

	/* A ping with two VLAN tags and IPv4 options: ICMP is always summed here. */
	len = build_ping(pkt, 2, 2, 100, 0);
	ip_off = ETH_LEN + 2 * VLAN_LEN;
	pkt[ip_off + IP4_LEN + 8 + 8 + 50] ^= 1;
	pkt[ip_off + 8] = 3; /* the TTL: the IPv4 checksum is wrong now too */
	d = tb_init(&t, pkt, len);
	csum_packet(&t.m, RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM, &r);
	ASSERT_TRUE(r.bad_ip && r.bad_l4 && r.ip_sw && r.l4_sw);
	ASSERT_EQ(t.m.l2_len, ip_off);
	ASSERT_EQ(t.m.l3_len, IP4_LEN + 8);
	ASSERT_TRUE(ref_ip4_ok(d + ip_off));
	ASSERT_TRUE(ref_l4_ok(d + ip_off, false, IPPROTO_ICMP, d + ip_off + IP4_LEN + 8, 108));
}

TEST(csum_sums_payloads_across_segments)
{
	static uint8_t pkt[ROOM], got[ROOM];
	struct csum_result r;
	struct tbuf a, b;
	uint16_t len = build_tcp6_vector(pkt, false), split;

	/* Odd and even splits inside the payload. */
	for (split = ETH_LEN + IP6_LEN + 18; split < len; split++) {
		tb_init(&a, pkt, len);
		tb_split(&a, &b, split);
		csum_packet(&a.m, 0, &r);
		ASSERT_TRUE(r.l4_sw);
		tb_bytes(&a.m, got);
		ASSERT_EQ(be16_at(got + ETH_LEN + IP6_LEN + 16), 0xf8d3);
	}
	/* A checksum field in the second segment cannot be written: left alone. */
	tb_init(&a, pkt, len);
	tb_split(&a, &b, ETH_LEN + IP6_LEN + 10);
	csum_packet(&a.m, 0, &r);
	ASSERT_FALSE(r.l4_sw || r.l4_offload);
}

TEST(csum_leaves_padding_out_and_does_not_offload_padded_frames)
{
	uint8_t pkt[ROOM], *d;
	struct csum_result r;
	struct tbuf t;
	uint16_t len = build_udp4_vector(pkt);

	memset(pkt + len, 0xa5, 60 - len + 20); /* non-zero padding */
	d = tb_init(&t, pkt, 80);
	csum_packet(&t.m, RTE_ETH_TX_OFFLOAD_UDP_CKSUM, &r);
	ASSERT_TRUE(r.l4_sw);
	ASSERT_FALSE(r.l4_offload);
	ASSERT_EQ(be16_at(d + ETH_LEN + IP4_LEN + 6), 0x9407);
}

TEST(csum_fixes_only_the_ip_header_of_a_fragment)
{
	uint8_t pkt[ROOM], *d;
	struct csum_result r;
	struct tbuf t;
	uint16_t len = build_udp4_vector(pkt);

	put16(pkt + ETH_LEN + 6, 0x2000); /* more fragments */
	d = tb_init(&t, pkt, len);
	csum_packet(&t.m, RTE_ETH_TX_OFFLOAD_UDP_CKSUM, &r);
	ASSERT_TRUE(r.bad_ip && r.ip_sw);
	ASSERT_FALSE(r.bad_l4 || r.l4_sw || r.l4_offload);
	ASSERT_TRUE(ref_ip4_ok(d + ETH_LEN));
	ASSERT_EQ(be16_at(d + ETH_LEN + IP4_LEN + 6), 0x1111);
}

TEST(csum_leaves_malformed_and_non_ip_packets_alone)
{
	uint8_t pkt[ROOM], *d;
	struct csum_result r;
	struct tbuf t;
	uint16_t len = build_udp4_vector(pkt);

	/* IP length beyond the frame, IP length below the header, a truncated header. */
	d = tb_init(&t, pkt, len - 1);
	csum_packet(&t.m, 0, &r);
	ASSERT_FALSE(r.bad_ip || r.bad_l4 || r.ip_sw || r.l4_sw);
	ASSERT_MEM_EQ(d, pkt, len - 1);
	put16(pkt + ETH_LEN + 2, 19);
	d = tb_init(&t, pkt, len);
	csum_packet(&t.m, 0, &r);
	ASSERT_FALSE(r.ip_sw || r.l4_sw);
	ASSERT_MEM_EQ(d, pkt, len);
	len = build_udp4_vector(pkt);
	d = tb_init(&t, pkt, ETH_LEN + 19);
	csum_packet(&t.m, 0, &r);
	ASSERT_FALSE(r.ip_sw || r.l4_sw);
	/* ARP. */
	len = build_arp(pkt, NULL, ip_peer, ip_port);
	d = tb_init(&t, pkt, len);
	csum_packet(&t.m, 0, &r);
	ASSERT_FALSE(r.ip_sw || r.l4_sw);
	ASSERT_MEM_EQ(d, pkt, len);
}

TEST(csum_counts_a_zero_udp_checksum_bad_over_ipv6_only)
{
	uint8_t pkt[ROOM];
	struct csum_result r;
	struct tbuf t;
	uint16_t len = build_udp4_vector(pkt), off;

	put16(pkt + ETH_LEN + IP4_LEN + 6, 0);
	tb_init(&t, pkt, len);
	csum_packet(&t.m, 0, &r);
	ASSERT_FALSE(r.bad_l4);
	off = put_eth(pkt, &port_mac, &peer_mac, TYPE_IPV6);
	off += put_ip6(pkt + off, 12, IPPROTO_UDP);
	memset(pkt + off, 0, 12);
	put16(pkt + off + 4, 12);
	tb_init(&t, pkt, off + 12);
	csum_packet(&t.m, 0, &r);
	ASSERT_TRUE(r.bad_l4 && r.l4_sw);
}
