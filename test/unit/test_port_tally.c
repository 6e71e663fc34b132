/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The port layer's per-burst tally (vhu_port_tally()): whatever the mix of
 * frame sizes and destinations in a burst, the bytes, size bins, broadcast
 * and multicast it adds are those of counting each packet on its own. The
 * mbufs are built on the stack: no EAL.
 */
#include <string.h>

#include <rte_mbuf.h>

#include "test_harness.h"
#include "vhu_port.h"

#define ROOM	 2048
#define HEADROOM 128
#define MAX_PKTS 600

/* An mbuf with its own data room. */
struct tbuf {
	struct rte_mbuf m;
	uint8_t room[ROOM];
};

static struct tbuf bufs[MAX_PKTS];
static struct rte_mbuf *pkts[MAX_PKTS];

enum dst_kind { UNICAST, BROADCAST, MULTICAST };

/* Packet i: 'len' bytes (data_len 'dlen' of them in the first segment) to a 'kind' address. */
static void
pkt_make(unsigned int i, uint32_t len, uint16_t dlen, enum dst_kind kind)
{
	static const uint8_t addr[][6] = {
		[UNICAST] = { 0x02, 0, 0, 0, 0, 1 },
		[BROADCAST] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		[MULTICAST] = { 0x01, 0x00, 0x5e, 0, 0, 1 },
	};
	struct tbuf *t = &bufs[i];

	memset(&t->m, 0, sizeof(t->m));
	t->m.buf_addr = t->room;
	t->m.buf_len = ROOM;
	t->m.data_off = HEADROOM;
	t->m.nb_segs = 1;
	t->m.data_len = dlen;
	t->m.pkt_len = len;
	memset(t->room + HEADROOM, 0x5a, RTE_MIN(dlen, (uint16_t)(ROOM - HEADROOM)));
	memcpy(t->room + HEADROOM, addr[kind], RTE_MIN(dlen, (uint16_t)6));
	pkts[i] = &t->m;
}

/* What counting each packet on its own gives. */
static void
tally_ref(struct vhu_port_tally *t, uint16_t n)
{
	uint16_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < n; i++) {
		const struct rte_mbuf *m = pkts[i];
		const uint8_t *dst = rte_pktmbuf_mtod(m, const uint8_t *);

		t->bytes += m->pkt_len;
		t->size[vhu_port_size_bin(m->pkt_len)]++;
		if (m->data_len >= 6 && (dst[0] & 1)) {
			if (memcmp(dst, "\xff\xff\xff\xff\xff\xff", 6) == 0)
				t->broadcast++;
			else
				t->multicast++;
		}
	}
}

/* vhu_port_tally() of pkts[0..n) agrees with tally_ref(), with and without xstats. */
static void
check_tally(uint16_t n)
{
	struct vhu_port_tally got, want;
	unsigned int b;

	tally_ref(&want, n);
	memset(&got, 0, sizeof(got));
	vhu_port_tally(&got, pkts, n, true);
	ASSERT_EQ(got.bytes, want.bytes);
	for (b = 0; b < VHU_PORT_SIZE_BINS; b++) {
		if (got.size[b] != want.size[b])
			th_fail(__FILE__, __LINE__, "size bin %u: %u packets, want %u", b,
				got.size[b], want.size[b]);
	}
	ASSERT_EQ(got.broadcast, want.broadcast);
	ASSERT_EQ(got.multicast, want.multicast);

	memset(&got, 0, sizeof(got));
	vhu_port_tally(&got, pkts, n, false);
	ASSERT_EQ(got.bytes, want.bytes);
	for (b = 0; b < VHU_PORT_SIZE_BINS; b++)
		ASSERT_EQ(got.size[b], 0);
	ASSERT_EQ(got.broadcast, 0);
	ASSERT_EQ(got.multicast, 0);
}

TEST(uniform_unicast_burst_goes_to_one_bin)
{
	unsigned int i;

	for (i = 0; i < 32; i++)
		pkt_make(i, 64, 64, UNICAST);
	check_tally(32);
	for (i = 0; i < 32; i++)
		pkt_make(i, 1518, 1518, UNICAST);
	check_tally(32);
}

TEST(burst_within_one_bin_but_of_different_lengths)
{
	unsigned int i;

	for (i = 0; i < 32; i++)
		pkt_make(i, 128 + i * 4, 128 + i * 4, UNICAST);
	check_tally(32);
}

TEST(every_bin_edge_in_one_burst)
{
	static const uint32_t lens[] = { 0,   1,   59,	60,   63,   64,	  65,	127,  128,  255,
					 256, 511, 512, 1023, 1024, 1518, 1519, 1520, 2047, 9000 };
	unsigned int i;

	for (i = 0; i < RTE_DIM(lens); i++)
		pkt_make(i, lens[i], (uint16_t)RTE_MIN(lens[i], 1600u), UNICAST);
	check_tally(RTE_DIM(lens));
	/* Each pair of neighbours alone: the smallest and largest differ by one bin. */
	for (i = 0; i + 1 < RTE_DIM(lens); i++) {
		pkt_make(0, lens[i], (uint16_t)RTE_MIN(lens[i], 1600u), UNICAST);
		pkt_make(1, lens[i + 1], (uint16_t)RTE_MIN(lens[i + 1], 1600u), UNICAST);
		check_tally(2);
	}
}

TEST(two_bins_apart_with_the_bin_between_empty)
{
	pkt_make(0, 64, 64, UNICAST);
	pkt_make(1, 1518, 1518, UNICAST);
	pkt_make(2, 64, 64, UNICAST);
	check_tally(3);
}

TEST(broadcast_and_multicast_anywhere_in_a_burst)
{
	unsigned int i, at;

	for (at = 0; at < 32; at += 31) {
		for (i = 0; i < 32; i++)
			pkt_make(i, 64, 64, UNICAST);
		pkt_make(at, 64, 64, BROADCAST);
		check_tally(32);
		pkt_make(at, 64, 64, MULTICAST);
		check_tally(32);
	}
	for (i = 0; i < 32; i++)
		pkt_make(i, 100, 100, i % 3 == 0 ? BROADCAST : i % 3 == 1 ? MULTICAST : UNICAST);
	check_tally(32);
}

TEST(runt_with_group_bit_is_neither_broadcast_nor_multicast)
{
	pkt_make(0, 5, 5, BROADCAST);
	pkt_make(1, 64, 64, UNICAST);
	check_tally(2);
	/* A chain whose first segment is too short for an address. */
	pkt_make(0, 64, 4, MULTICAST);
	check_tally(2);
}

/*
 * A transmit burst whose last packets the port refused: taking each back out
 * (vhu_port_untally_x()) leaves what tallying only the accepted ones gives,
 * for every kind of destination, runts with the group bit included.
 */
TEST(untally_takes_back_exactly_what_the_tally_added)
{
	static const enum dst_kind kinds[] = { UNICAST, BROADCAST, MULTICAST };
	struct vhu_port_tally got, want;
	unsigned int i, accepted, b;

	for (i = 0; i < 12; i++)
		pkt_make(i, 60 + i * 40, (uint16_t)(60 + i * 40), kinds[i % 3]);
	pkt_make(12, 5, 5, BROADCAST);	/* a runt */
	pkt_make(13, 64, 4, MULTICAST); /* an address split across segments */
	for (accepted = 0; accepted <= 14; accepted++) {
		memset(&got, 0, sizeof(got));
		vhu_port_tally(&got, pkts, 14, true);
		for (i = accepted; i < 14; i++) {
			got.bytes -= pkts[i]->pkt_len;
			vhu_port_untally_x(&got, pkts[i]);
		}
		tally_ref(&want, (uint16_t)accepted);
		ASSERT_EQ(got.bytes, want.bytes);
		for (b = 0; b < VHU_PORT_SIZE_BINS; b++)
			ASSERT_EQ(got.size[b], want.size[b]);
		ASSERT_EQ(got.broadcast, want.broadcast);
		ASSERT_EQ(got.multicast, want.multicast);
	}
}

TEST(long_mixed_burst_past_the_lane_limit)
{
	unsigned int i;

	/* More than VHU_PORT_TALLY_LANE_MAX packets in one bin of a mixed burst. */
	for (i = 0; i < MAX_PKTS; i++)
		pkt_make(i, i == MAX_PKTS - 1 ? 1518 : 64, i == MAX_PKTS - 1 ? 1518 : 64,
			 i % 100 == 0 ? MULTICAST : UNICAST);
	check_tally(MAX_PKTS);
}

TEST(empty_burst_adds_nothing)
{
	struct vhu_port_tally t;
	unsigned int b;

	memset(&t, 0, sizeof(t));
	vhu_port_tally(&t, pkts, 0, true);
	ASSERT_EQ(t.bytes, 0);
	for (b = 0; b < VHU_PORT_SIZE_BINS; b++)
		ASSERT_EQ(t.size[b], 0);
}

TEST(tallies_add_up_across_bursts)
{
	struct vhu_port_tally t;
	unsigned int i;

	for (i = 0; i < 8; i++)
		pkt_make(i, 64, 64, UNICAST);
	memset(&t, 0, sizeof(t));
	vhu_port_tally(&t, pkts, 8, true);
	vhu_port_tally(&t, pkts, 8, true);
	ASSERT_EQ(t.size[VHU_PORT_SIZE_64], 16);
	ASSERT_EQ(t.bytes, 16 * 64);
}
