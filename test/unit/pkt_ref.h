/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packets built byte by byte and a reference Internet checksum (16-bit
 * big-endian words, one byte at a time), for the tests of vhu-pmd's
 * icmpecho, flowgen and csum engines: the unit test and the integration
 * peer (test/integration/engine_peer.c). Written apart from the code under
 * test so that the two do not share a mistake.
 */
#ifndef VHU_TEST_PKT_REF_H
#define VHU_TEST_PKT_REF_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ether.h>

#define ETH_LEN	  14
#define IP4_LEN	  20
#define IP6_LEN	  40
#define VLAN_LEN  4
#define TYPE_IPV4 0x0800
#define TYPE_IPV6 0x86dd
#define TYPE_ARP  0x0806
#define TYPE_VLAN 0x8100
#define TYPE_QINQ 0x88a8

/* The addresses of the tests: vhu-pmd's port 0 and the peer that pings it. */
static const __rte_unused struct rte_ether_addr port_mac = {{0x02, 0x76, 0x68, 0x75, 0x00, 0x00}};
static const __rte_unused struct rte_ether_addr peer_mac = {{0x52, 0x54, 0x00, 0x0c, 0x00, 0x01}};
static const __rte_unused uint8_t ip_port[4] = {10, 11, 12, 2};
static const __rte_unused uint8_t ip_peer[4] = {10, 11, 12, 1};

/* --- a reference checksum: 16-bit big-endian words, byte by byte ------------------- */

static inline uint32_t
ref_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static inline uint16_t
ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static inline uint16_t
be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* The pseudo-header sum of an L4 payload of 'len' bytes behind the IP header at l3. */
static inline uint32_t
ref_phdr(const uint8_t *l3, bool v6, uint8_t proto, uint32_t len)
{
	uint32_t sum = v6 ? ref_add(0, l3 + 8, 32) : ref_add(0, l3 + 12, 8);

	return sum + proto + (len >> 16) + (len & 0xffff);
}

/* Is the checksum of the L4 payload at l4 right (pseudo-header unless ICMP over IPv4)? */
static inline bool
ref_l4_ok(const uint8_t *l3, bool v6, uint8_t proto, const uint8_t *l4, uint32_t len)
{
	uint32_t sum = proto == IPPROTO_ICMP ? 0 : ref_phdr(l3, v6, proto, len);

	return ref_fold(ref_add(sum, l4, len)) == 0xffff;
}

/* Write the right checksum at l4 + off. */
static inline void
ref_l4_set(const uint8_t *l3, bool v6, uint8_t proto, uint8_t *l4, uint32_t len, uint16_t off)
{
	uint32_t sum = proto == IPPROTO_ICMP ? 0 : ref_phdr(l3, v6, proto, len);

	put16(l4 + off, 0);
	put16(l4 + off, (uint16_t)~ref_fold(ref_add(sum, l4, len)));
}

static inline bool
ref_ip4_ok(const uint8_t *l3)
{
	return ref_fold(ref_add(0, l3, (l3[0] & 0xf) * 4u)) == 0xffff;
}

/* --- packet builders ---------------------------------------------------------------- */

static inline uint16_t
put_eth(uint8_t *p, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
	uint16_t type)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	put16(p + 12, type);
	return ETH_LEN;
}

/* An IPv4 header of 'opt' option words and total length 'total', checksum right. */
static inline uint16_t
put_ip4(uint8_t *p, unsigned int opt, uint16_t total, uint8_t proto, const uint8_t *src,
	const uint8_t *dst)
{
	unsigned int i;

	memset(p, 0, IP4_LEN + opt * 4);
	p[0] = (uint8_t)(0x45 + opt);
	put16(p + 2, total);
	put16(p + 4, 0x1234);
	p[8] = 17; /* TTL */
	p[9] = proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	for (i = 0; i < opt * 4; i++)
		p[IP4_LEN + i] = i == 0 ? 0x94 /* router alert */ : (i == 1 ? 4 : 0);
	put16(p + 10, (uint16_t)~ref_fold(ref_add(0, p, IP4_LEN + opt * 4)));
	return (uint16_t)(IP4_LEN + opt * 4);
}

static const __rte_unused uint8_t ip6_src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const __rte_unused uint8_t ip6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static inline uint16_t
put_ip6(uint8_t *p, uint16_t payload, uint8_t next)
{
	memset(p, 0, IP6_LEN);
	p[0] = 0x60;
	put16(p + 4, payload);
	p[6] = next;
	p[7] = 64;
	memcpy(p + 8, ip6_src, 16);
	memcpy(p + 24, ip6_dst, 16);
	return IP6_LEN;
}

/*
 * An ICMP echo request from the peer to the port, 'data' payload bytes, 'opt'
 * IPv4 option words, 'tags' VLAN tags, 'pad' bytes of Ethernet padding.
 */
static inline uint16_t
build_ping(uint8_t *p, unsigned int tags, unsigned int opt, uint16_t data, uint16_t pad)
{
	uint16_t off, ip_off, l4;
	unsigned int t, i;

	off = put_eth(p, &port_mac, &peer_mac,
		      tags == 0 ? TYPE_IPV4 : (tags == 2 ? TYPE_QINQ : TYPE_VLAN));
	for (t = 0; t < tags; t++) {
		put16(p + off, (uint16_t)(100 + t));
		put16(p + off + 2, t + 1 == tags ? TYPE_IPV4 : TYPE_VLAN);
		off += VLAN_LEN;
	}
	ip_off = off;
	off += put_ip4(p + off, opt, (uint16_t)(IP4_LEN + opt * 4 + 8 + data), IPPROTO_ICMP,
		       ip_peer, ip_port);
	l4 = off;
	p[off] = 8; /* echo request */
	p[off + 1] = 0;
	put16(p + off + 4, 0x4242);
	put16(p + off + 6, 7);
	for (i = 0; i < data; i++)
		p[off + 8 + i] = (uint8_t)(i * 7 + 3);
	ref_l4_set(p + ip_off, false, IPPROTO_ICMP, p + l4, 8u + data, 2);
	off += 8 + data;
	memset(p + off, 0, pad);
	return off + pad;
}

/* What the answer to build_ping()'s request must be, byte for byte. */
static inline void
expect_pong(uint8_t *p, unsigned int tags, unsigned int opt, uint16_t data)
{
	uint16_t ip_off = ETH_LEN + tags * VLAN_LEN, l4 = ip_off + IP4_LEN + opt * 4;

	memcpy(p, &peer_mac, 6);
	memcpy(p + 6, &port_mac, 6);
	memcpy(p + ip_off + 12, ip_port, 4);
	memcpy(p + ip_off + 16, ip_peer, 4);
	p[ip_off + 8] = 64;
	put16(p + ip_off + 10, 0);
	put16(p + ip_off + 10, (uint16_t)~ref_fold(ref_add(0, p + ip_off, IP4_LEN + opt * 4)));
	p[l4] = 0; /* echo reply */
	ref_l4_set(p + ip_off, false, IPPROTO_ICMP, p + l4, 8u + data, 2);
}

static inline uint16_t
build_arp(uint8_t *p, const struct rte_ether_addr *dst, const uint8_t *sip, const uint8_t *tip)
{
	static const struct rte_ether_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
	uint16_t off = put_eth(p, dst != NULL ? dst : &bcast, &peer_mac, TYPE_ARP);

	put16(p + off, 1);
	put16(p + off + 2, TYPE_IPV4);
	p[off + 4] = 6;
	p[off + 5] = 4;
	put16(p + off + 6, 1); /* request */
	memcpy(p + off + 8, &peer_mac, 6);
	memcpy(p + off + 14, sip, 4);
	memset(p + off + 18, 0, 6);
	memcpy(p + off + 24, tip, 4);
	memset(p + off + 28, 0, 18); /* padding to 60 bytes */
	return 60;
}

static inline rte_be32_t
be_addr(const uint8_t *a)
{
	rte_be32_t v;

	memcpy(&v, a, 4);
	return v;
}

#endif /* VHU_TEST_PKT_REF_H */
