/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How a control thread takes a queue back from the lcore polling it, with no
 * help from the application (DESIGN.md, "Control and data meet without
 * locks"). The only rule the application keeps is DPDK's: one lcore per
 * queue at a time.
 *
 * Each queue has a burst mark, a counter that its burst makes odd on entry
 * and even again on exit. A control thread that wants a queue's state back
 * first unpublishes (clears the queue's `ready`, or swaps a pointer the
 * bursts load), then calls vhu_handoff_barrier(), then vhu_burst_wait() on
 * the mark of every queue that could hold the old state. When the last
 * returns, no burst that could have seen the old state is still running,
 * and every store such a burst made is visible to the caller.
 *
 * Why it holds. The burst does [A] store mark odd, [B] load `ready` (or the
 * pointer); the control thread does [C] store `ready = false`, [D] load the
 * mark. This is Dekker's pattern: with a full fence between A and B and one
 * between C and D, at least one side sees the other's store. Either the
 * burst sees `ready == false` and touches nothing, or the control thread
 * sees the mark odd and waits until it changes; the burst's exit store is a
 * release and the wait's load an acquire, so what the burst did to the ring
 * happens before what the control thread does next.
 *
 * The fence on the burst's side costs a locked instruction per burst. When
 * the kernel offers membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) the burst
 * pays only a compiler barrier: vhu_handoff_barrier() makes the kernel run a
 * full fence on every CPU that runs a thread of this process (and a context
 * switch is one for the others), which is the fence between A and B wherever
 * the burst stands. Without it (an old kernel, a seccomp filter) the burst
 * fences itself; vhu_handoff_init() decides once, before any burst.
 */
#ifndef VHU_HANDOFF_H
#define VHU_HANDOFF_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_atomic.h>
#include <rte_branch_prediction.h>

/* One per queue. Written by the lcore in a burst on the queue, read by control threads. */
struct vhu_burst_mark {
	uint32_t seq; /* odd while a burst runs; +1 on entry, +1 on exit */
};

/* True when bursts must fence themselves (no expedited membarrier). Set once by init. */
extern bool vhu_handoff_burst_fence;

/*
 * Choose how bursts fence (idempotent, any thread, before the first burst).
 * Returns 0; it cannot fail: without membarrier the bursts fence themselves.
 */
int vhu_handoff_init(void);

/* Make bursts fence themselves, as without membarrier. Tests only, before any burst. */
void vhu_handoff_force_burst_fence(void);

/*
 * Burst entry: mark the queue busy. Call before loading the queue's `ready`
 * flag or any pointer the control thread may unpublish. The lcore that owns
 * the queue only, and not while already inside a burst on it.
 */
static inline void
vhu_burst_enter(struct vhu_burst_mark *m)
{
	/* Relaxed load: only this lcore writes the mark. */
	uint32_t s = __atomic_load_n(&m->seq, __ATOMIC_RELAXED);

	__atomic_store_n(&m->seq, s + 1, __ATOMIC_RELAXED);
	/* Orders the mark store [A] before the `ready` load [B] that follows.
	 * Pairs with the fence (or membarrier) in vhu_handoff_barrier(). */
	if (unlikely(vhu_handoff_burst_fence))
		rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	else
		rte_compiler_barrier();
}

/* Burst exit: mark the queue idle. Every path out of a burst that entered calls it once. */
static inline void
vhu_burst_exit(struct vhu_burst_mark *m)
{
	uint32_t s = __atomic_load_n(&m->seq, __ATOMIC_RELAXED);

	/* Release: the burst's accesses to the ring and to memory the control
	 * thread may free happen before this store. Pairs with the acquire load
	 * in vhu_burst_wait(). */
	__atomic_store_n(&m->seq, s + 1, __ATOMIC_RELEASE);
}

/*
 * Control thread, after unpublishing and before reading marks: a full fence
 * here [C-D], and one at the current point of every running burst [A-B]
 * when bursts do not fence themselves. Any thread; never fails.
 */
void vhu_handoff_barrier(void);

/*
 * Control thread, after vhu_handoff_barrier(): return once the burst that
 * the mark shows running, if any, has left. 'what' names the queue in the
 * warning logged when a burst runs for over a second (an lcore stopped in a
 * burst?). Never call from the lcore that owns the queue.
 */
void vhu_burst_wait(const struct vhu_burst_mark *m, const char *what, unsigned int index);

#endif /* VHU_HANDOFF_H */
