/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counts of the cycles inside calls into a vhost backend: vhu-pmd's
 * vhost-user port (burst-cycles=1) and the LD_PRELOAD interposer of
 * test/perf (vhost_burst_cycles.c) count DPDK's rte_vhost bursts with the
 * same struct and the same rule, so that the two figures compare.
 */
#ifndef VHU_BURST_CYCLES_H
#define VHU_BURST_CYCLES_H

#include <stdint.h>

#include <rte_branch_prediction.h>

/*
 * The TSC cycles spent inside a port's calls into the backend, one direction,
 * all queues, since the port was made (its device string has burst-cycles=1).
 * The application's mbuf work around the calls is not in them. No burst of
 * frames up to 1518 B takes 50 us (32 of them take a few): a longer call was
 * preempted, and is counted apart so that another process's time stays out
 * of the figure. (A burst of 64 KB TSO frames or long mergeable chains can
 * take longer and is then counted as stalled too: the figure is meant for
 * frames up to 1518 B; vhost_vs_dpdk.py warns when many calls are stalled.)
 */
struct vhu_vhost_user_burst_cycles {
	uint64_t cycles;       /* inside calls that moved at least one packet */
	uint64_t packets;      /* packets those calls moved */
	uint64_t calls;	       /* calls that moved at least one packet */
	uint64_t empty_calls;  /* calls that moved none (no room, or nothing to receive) */
	uint64_t empty_cycles; /* inside those */
	/* Calls longer than VHU_VHOST_USER_STALL_PER_SEC's limit, in none of the
	 * above: the thread was preempted or interrupted inside them. */
	uint64_t stalled_calls;
	uint64_t stalled_packets; /* packets those moved */
	uint64_t stalled_cycles;  /* inside those */
};

/* A call longer than 1 / this of a second (50 us) is counted as stalled. */
#define VHU_VHOST_USER_STALL_PER_SEC 20000

/*
 * Adds one call of 'cycles' that moved 'nb' packets to 'c'; a call over
 * 'stall' cycles is counted as stalled. Single writer (the queue's lcore): plain
 * loads, relaxed stores so that a reader on another thread sees whole values.
 */
static inline void
vhu_vhost_user_burst_count(struct vhu_vhost_user_burst_cycles *c, uint16_t nb, uint64_t cycles,
			   uint64_t stall)
{
	if (unlikely(cycles > stall)) {
		__atomic_store_n(&c->stalled_calls, c->stalled_calls + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&c->stalled_packets, c->stalled_packets + nb, __ATOMIC_RELAXED);
		__atomic_store_n(&c->stalled_cycles, c->stalled_cycles + cycles, __ATOMIC_RELAXED);
	} else if (nb != 0) {
		__atomic_store_n(&c->cycles, c->cycles + cycles, __ATOMIC_RELAXED);
		__atomic_store_n(&c->packets, c->packets + nb, __ATOMIC_RELAXED);
		__atomic_store_n(&c->calls, c->calls + 1, __ATOMIC_RELAXED);
	} else {
		__atomic_store_n(&c->empty_calls, c->empty_calls + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&c->empty_cycles, c->empty_cycles + cycles, __ATOMIC_RELAXED);
	}
}

#endif /* VHU_BURST_CYCLES_H */
