/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What DPDK's inflight calls do to a ring's inflight record in vhu's
 * librte_vhost.so.23 (lib/rte_vhost/rte_vhost_inflight.c), on records in
 * plain memory: DPDK 22.11's effects, and the indexes the front-end may have
 * written into the record checked before use.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_vhost.h>

#include "rte_vhost_priv.h"
#include "test_harness.h"

#define SIZE 8

static struct rte_vhost_inflight_info_split *
split_record(void)
{
	struct rte_vhost_inflight_info_split *r = calloc(1, sizeof(*r) + SIZE * sizeof(r->desc[0]));

	ASSERT_NOT_NULL(r);
	r->version = 1;
	r->desc_num = SIZE;
	return r;
}

/* A packed record whose free list runs 0 -> 1 -> ... -> SIZE - 1. */
static struct rte_vhost_inflight_info_packed *
packed_record(void)
{
	struct rte_vhost_inflight_info_packed *r =
		calloc(1, sizeof(*r) + SIZE * sizeof(r->desc[0]));

	ASSERT_NOT_NULL(r);
	r->version = 1;
	r->desc_num = SIZE;
	for (uint16_t i = 0; i < SIZE; i++)
		r->desc[i].next = i + 1;
	return r;
}

TEST(split_set_clear_and_last_are_dpdks)
{
	struct rte_vhost_inflight_info_split *r = split_record();

	ASSERT_EQ(rv_inflight_set_split(r, SIZE, 3, 41), 0);
	ASSERT_EQ(r->desc[3].inflight, 1);
	ASSERT_EQ(r->desc[3].counter, 41);
	ASSERT_EQ(rv_inflight_last_split(r, SIZE, 3), 0);
	ASSERT_EQ(r->last_inflight_io, 3);
	ASSERT_EQ(rv_inflight_clr_split(r, SIZE, 9, 3), 0);
	ASSERT_EQ(r->desc[3].inflight, 0);
	ASSERT_EQ(r->used_idx, 9);
	/* An index past the ring touches nothing. */
	ASSERT_EQ(rv_inflight_set_split(r, SIZE, SIZE, 42), -1);
	ASSERT_EQ(rv_inflight_clr_split(r, SIZE, 10, SIZE), -1);
	ASSERT_EQ(rv_inflight_last_split(r, SIZE, 0xffff), -1);
	ASSERT_EQ(r->used_idx, 9);
	ASSERT_EQ(r->last_inflight_io, 3);
	free(r);
}

TEST(packed_chain_is_recorded_then_completed)
{
	struct rte_vhost_inflight_info_packed *r = packed_record();
	struct vring_packed_desc ring[SIZE];
	uint16_t entry = 0xffff;

	for (uint16_t i = 0; i < SIZE; i++)
		ring[i] = (struct vring_packed_desc){
			.addr = 0x1000u * i, .len = 100u + i, .id = 5, .flags = 0x80
		};
	/* A chain of the slots 6, 7 and 0 (it wraps). */
	ASSERT_EQ(rv_inflight_set_packed(r, ring, SIZE, 6, 0, 7, &entry), 0);
	ASSERT_EQ(entry, 0);
	ASSERT_EQ(r->desc[0].inflight, 1);
	ASSERT_EQ(r->desc[0].counter, 7);
	ASSERT_EQ(r->desc[0].num, 3);
	ASSERT_EQ(r->desc[0].last, 2);
	ASSERT_EQ(r->desc[0].addr, 0x6000);
	ASSERT_EQ(r->desc[1].len, 107);
	ASSERT_EQ(r->desc[2].addr, 0);
	ASSERT_EQ(r->free_head, 3);
	ASSERT_EQ(r->old_free_head, 3);
	/* Done: the entries go back to the free list and used moves by 3. */
	r->used_idx = 6;
	ASSERT_EQ(rv_inflight_last_packed(r, SIZE, 0), 0);
	ASSERT_EQ(r->free_head, 0);
	ASSERT_EQ(r->desc[2].next, 3);
	ASSERT_EQ(r->used_idx, 1);
	ASSERT_EQ(r->used_wrap_counter, 1);
	ASSERT_EQ(rv_inflight_clr_packed(r, SIZE, 0), 0);
	ASSERT_EQ(r->desc[0].inflight, 0);
	ASSERT_EQ(r->old_free_head, 0);
	ASSERT_EQ(r->old_used_idx, 1);
	ASSERT_EQ(r->old_used_wrap_counter, 1);
	free(r);
}

TEST(packed_indexes_from_the_front_end_are_checked)
{
	struct rte_vhost_inflight_info_packed *r = packed_record();
	struct vring_packed_desc ring[SIZE];
	uint16_t entry;

	memset(ring, 0, sizeof(ring));
	ASSERT_EQ(rv_inflight_set_packed(r, ring, SIZE, SIZE, 0, 1, &entry), -1);
	/* A free head past the ring (DPDK would write past the record). */
	r->old_free_head = SIZE;
	ASSERT_EQ(rv_inflight_set_packed(r, ring, SIZE, 0, 0, 1, &entry), -1);
	/* A free list that leaves the ring in the middle of a chain. */
	r->old_free_head = 0;
	r->desc[0].next = 0x7777;
	ASSERT_EQ(rv_inflight_set_packed(r, ring, SIZE, 0, 3, 1, &entry), -1);
	/* A 'last' link past the ring. */
	r->desc[2].last = SIZE;
	ASSERT_EQ(rv_inflight_last_packed(r, SIZE, 2), -1);
	ASSERT_EQ(rv_inflight_last_packed(r, SIZE, SIZE), -1);
	ASSERT_EQ(rv_inflight_clr_packed(r, SIZE, SIZE), -1);
	free(r);
}
