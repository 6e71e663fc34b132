/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ethdev port over DPDK's net_pcap, which writes what the port sends to a
 * capture file the test reads back: checksums that packets ask for and the
 * device cannot compute are finished in software, byte for byte what a
 * correct sender would have put there, and packets that ask for nothing go
 * out untouched. Needs DPDK's net_pcap driver (skipped without it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "test_harness.h"
#include "unit_eal.h"
#include "vhu_port.h"

#define PAYLOAD 100

/* A pcap file header alone (little-endian, Ethernet, snapshot 65535). */
static const uint8_t pcap_header[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2,    0,    4, 0, 0, 0, 0, 0,
					0,    0,    0,	  0,	0xff, 0xff, 0, 0, 1, 0, 0, 0};

struct frame {
	uint8_t data[256];
	uint32_t len;
};

/*
 * An Ethernet frame with an IPv4/TCP (v6 false) or IPv6/UDP header and a
 * payload, every checksum zero.
 */
static uint32_t
frame_build(uint8_t *buf, bool v6)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	uint8_t *l3 = buf + sizeof(*eth), *l4, *p;
	uint32_t l3_len = v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	uint32_t l4_len = v6 ? sizeof(struct rte_udp_hdr) : sizeof(struct rte_tcp_hdr);
	uint32_t i;

	memset(buf, 0, sizeof(*eth) + l3_len + l4_len + PAYLOAD);
	eth->dst_addr = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, 1}};
	eth->src_addr = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, 2}};
	l4 = l3 + l3_len;
	if (v6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)l3;
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)l4;

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(l4_len + PAYLOAD);
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = 64;
		ip->src_addr[15] = 1;
		ip->dst_addr[15] = 2;
		udp->src_port = rte_cpu_to_be_16(4000);
		udp->dst_port = rte_cpu_to_be_16(5000);
		udp->dgram_len = rte_cpu_to_be_16(l4_len + PAYLOAD);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;
		struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)l4;

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(l3_len + l4_len + PAYLOAD);
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_TCP;
		ip->src_addr = rte_cpu_to_be_32(UINT32_C(0xc0000201)) /* 192.0.2.1: DPDK 22.11's RTE_IPV4() shifts an int */;
		ip->dst_addr = rte_cpu_to_be_32(UINT32_C(0xc0000202)) /* 192.0.2.2 */;
		tcp->src_port = rte_cpu_to_be_16(4000);
		tcp->dst_port = rte_cpu_to_be_16(5000);
		tcp->data_off = 5 << 4;
		tcp->tcp_flags = RTE_TCP_ACK_FLAG;
		tcp->rx_win = rte_cpu_to_be_16(1000);
	}
	p = l4 + l4_len;
	for (i = 0; i < PAYLOAD; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	return sizeof(*eth) + l3_len + l4_len + PAYLOAD;
}

/* The same frame with every checksum computed over the whole of it. */
static void
frame_checksum(uint8_t *buf, bool v6)
{
	uint8_t *l3 = buf + sizeof(struct rte_ether_hdr);

	if (v6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)l3;
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;
		struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);

		ip->hdr_checksum = rte_ipv4_cksum(ip);
		tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	}
}

/* The frames of a little-endian pcap file, at most 'max'; returns how many. */
static unsigned int
pcap_read(const char *path, struct frame *frames, unsigned int max)
{
	uint8_t hdr[24], rec[16];
	unsigned int n = 0;
	FILE *f = fopen(path, "rb");

	ASSERT_NOT_NULL(f);
	ASSERT_EQ(fread(hdr, 1, sizeof(hdr), f), sizeof(hdr));
	while (n < max && fread(rec, 1, sizeof(rec), f) == sizeof(rec)) {
		uint32_t caplen;

		memcpy(&caplen, rec + 8, sizeof(caplen));
		ASSERT_LE(caplen, sizeof(frames[n].data));
		ASSERT_EQ(fread(frames[n].data, 1, caplen, f), caplen);
		frames[n++].len = caplen;
	}
	fclose(f);
	return n;
}

TEST(ethdev_port_finishes_checksums_the_device_cannot)
{
	char dir[] = "/tmp/vhu-unit-ethdev.XXXXXX", in[64], out[64], devstr[200];
	struct vhu_port_conf conf = {.nb_rxq = 1, .nb_txq = 1, .socket_id = SOCKET_ID_ANY};
	struct rte_mbuf *pkts[3];
	struct frame got[4], want;
	struct vhu_port *port;
	unsigned int i;
	FILE *f;

	conf.mempool = unit_pool(1024);
	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(in, sizeof(in), "%s/in.pcap", dir);
	snprintf(out, sizeof(out), "%s/out.pcap", dir);
	f = fopen(in, "wb");
	ASSERT_NOT_NULL(f);
	ASSERT_EQ(fwrite(pcap_header, 1, sizeof(pcap_header), f), sizeof(pcap_header));
	fclose(f);
	snprintf(devstr, sizeof(devstr), "ethdev,dev=net_pcap9,rx_pcap=%s,tx_pcap=%s", in, out);
	port = vhu_port_attach(devstr, &conf);
	if (port == NULL) {
		th_diag("SKIP: no net_pcap device (%s)", devstr);
		goto clean;
	}
	ASSERT_EQ(vhu_port_start(port), 0);
	/* net_pcap computes no checksum: these must be done by the port. */
	ASSERT_EQ(port->tx_offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM, 0);
	for (i = 0; i < RTE_DIM(pkts); i++) {
		bool v6 = i == 1;
		struct rte_mbuf *m = rte_pktmbuf_alloc(conf.mempool);
		uint32_t len;

		ASSERT_NOT_NULL(m);
		len = frame_build(rte_pktmbuf_mtod(m, uint8_t *), v6);
		m->data_len = m->pkt_len = len;
		m->l2_len = sizeof(struct rte_ether_hdr);
		m->l3_len = v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
		/* The third asks for nothing: it must go out as it is, zero checksums. */
		if (i == 0)
			m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
				      RTE_MBUF_F_TX_TCP_CKSUM;
		else if (i == 1)
			m->ol_flags = RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM;
		pkts[i] = m;
	}
	ASSERT_EQ(vhu_port_tx_burst(port, 0, pkts, RTE_DIM(pkts)), RTE_DIM(pkts));
	ASSERT_EQ(vhu_port_stop(port), 0);
	/* Detaching removes the device, which closes the capture file. */
	ASSERT_EQ(vhu_port_detach(port), 0);

	ASSERT_EQ(pcap_read(out, got, RTE_DIM(got)), RTE_DIM(pkts));
	for (i = 0; i < RTE_DIM(pkts); i++) {
		want.len = frame_build(want.data, i == 1);
		if (i < 2)
			frame_checksum(want.data, i == 1);
		ASSERT_EQ(got[i].len, want.len);
		ASSERT_MEM_EQ(got[i].data, want.data, want.len);
	}
clean:
	unlink(out);
	unlink(in);
	rmdir(dir);
}
