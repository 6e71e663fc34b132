/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Internet checksum over an mbuf's segments (vhu_cksum.h), against a
 * plain byte-by-byte reference sum, and the backend's software checksum for
 * a guest without GUEST_CSUM (vhu_net_csum_fill()) on multi-segment mbufs.
 * The mbufs are built by hand over static buffers: no EAL, no mempool.
 */
#include <stdio.h>
#include <string.h>

#include "test_harness.h"
#include "vhost_net_offload.h"
#include "vhu_cksum.h"

#define MAX_SEGS 6
#define SEG_ROOM 2048

static uint8_t room[MAX_SEGS][SEG_ROOM];
static struct rte_mbuf segs[MAX_SEGS];

/* A chain of n segments of lens[i] bytes, each at an offset 'shift' into its buffer. */
static struct rte_mbuf *
chain(const uint16_t *lens, unsigned int n, uint16_t shift)
{
	uint32_t total = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		memset(&segs[i], 0, sizeof(segs[i]));
		segs[i].buf_addr = room[i];
		segs[i].buf_len = SEG_ROOM;
		segs[i].data_off = shift;
		segs[i].data_len = lens[i];
		segs[i].next = i + 1 < n ? &segs[i + 1] : NULL;
		total += lens[i];
	}
	segs[0].pkt_len = total;
	segs[0].nb_segs = (uint16_t)n;
	return &segs[0];
}

/* Fill the chain's bytes from a simple generator; bytes near 0xff make carries. */
static void
fill(struct rte_mbuf *m, uint32_t seed)
{
	struct rte_mbuf *s;
	uint16_t i;

	for (s = m; s != NULL; s = s->next)
		for (i = 0; i < s->data_len; i++) {
			seed = seed * 1103515245u + 12345u;
			rte_pktmbuf_mtod(s, uint8_t *)[i] = (uint8_t)(0xe0 | (seed >> 16));
		}
}

/* Byte at packet offset 'at'. */
static uint8_t
byte_at(const struct rte_mbuf *m, uint32_t at)
{
	while (at >= m->data_len) {
		at -= m->data_len;
		m = m->next;
	}
	return rte_pktmbuf_mtod(m, const uint8_t *)[at];
}

/*
 * The reference: the folded sum of bytes [off, off + len) as 16-bit words in
 * the CPU's byte order, as rte_raw_cksum() adds them (an odd last byte is
 * the low-address half of a word padded with zero), one byte at a time.
 */
static uint16_t
ref_sum(const struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < len; i++) {
		uint16_t w = 0;

		((uint8_t *)&w)[i & 1] = byte_at(m, off + i);
		sum += w;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static const uint16_t layouts[][MAX_SEGS + 1] = {
	/* count, then the segment lengths */
	{ 2, 61, 1400 }, /* odd, then a longer one: what DPDK 22.11 gets wrong */
	{ 2, 1, 1500 },	       { 3, 33, 77, 900 },
	{ 2, 64, 1400 }, /* even first: all agree */
	{ 4, 7, 9, 11, 1300 }, { 6, 1, 1, 1, 1, 1, 1000 },
	{ 1, 1514 },
};

TEST(mbuf_sum_matches_the_reference_on_every_layout_offset_and_alignment)
{
	unsigned int l, shift;
	uint32_t off;

	for (l = 0; l < RTE_DIM(layouts); l++) {
		for (shift = 0; shift < 2; shift++) {
			struct rte_mbuf *m = chain(&layouts[l][1], layouts[l][0], 128 + shift);

			fill(m, l * 7 + shift);
			for (off = 0; off < 80; off += 13) {
				uint16_t got = 0;

				ASSERT_EQ(vhu_cksum_mbuf(m, off, m->pkt_len - off, &got), 0);
				ASSERT_EQ(got, ref_sum(m, off, m->pkt_len - off));
			}
		}
	}
}

TEST(mbuf_sum_refuses_a_range_past_the_packet_or_its_segments)
{
	const uint16_t lens[] = { 100, 100 };
	struct rte_mbuf *m = chain(lens, 2, 128);
	uint16_t got;

	ASSERT_EQ(vhu_cksum_mbuf(m, 150, 51, &got), -1);
	ASSERT_EQ(vhu_cksum_mbuf(m, 201, 0, &got), -1);
	m->pkt_len = 300; /* says more than its segments hold */
	ASSERT_EQ(vhu_cksum_mbuf(m, 0, 300, &got), -1);
}

/*
 * The backend finishes a TCP checksum for a guest that did not negotiate
 * GUEST_CSUM: the packet's checksum must verify whatever its segments. The
 * sender left the pseudo-header's sum in the field; a receiver adds the
 * pseudo-header to the L4 bytes, the finished field included: 0xffff.
 */
TEST(software_checksum_for_the_guest_is_right_on_multi_segment_packets)
{
	unsigned int l, wrong_dpdk = 0;

	for (l = 0; l < RTE_DIM(layouts); l++) {
		struct rte_mbuf *m = chain(&layouts[l][1], layouts[l][0], 128);
		const uint32_t start = 0, off = 16; /* the TCP checksum field at 16 */
		const uint8_t seed[2] = { 0x12, 0x34 };
		uint16_t raw = 0, phdr;

		if (m->data_len < start + off + 2)
			continue; /* the field must lie in the first segment */
		fill(m, 1000 + l);
		/* Seed the field as a sender leaves it (the pseudo-header sum). */
		memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, start + off), seed, 2);
		memcpy(&phdr, seed, 2);
		if (rte_raw_cksum_mbuf(m, start, m->pkt_len - start, &raw) == 0 &&
		    raw != ref_sum(m, start, m->pkt_len - start))
			wrong_dpdk++;
		ASSERT_EQ(vhu_net_csum_fill(m, start, off), 0);
		ASSERT_EQ(vhu_cksum_fold((uint32_t)ref_sum(m, start, m->pkt_len - start) + phdr),
			  0xffff);
	}
	printf("# rte_raw_cksum_mbuf() of this DPDK disagrees with the reference on %u of %zu "
	       "layouts\n",
	       wrong_dpdk, RTE_DIM(layouts));
}
