/* SPDX-License-Identifier: BSD-3-Clause */
/* The control side of the burst handoff; the protocol is in vhu_handoff.h. */
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_log.h>
#include <rte_pause.h>

#include "vhu_handoff.h"

RTE_LOG_REGISTER(vhu_handoff_logtype, vhu.handoff, INFO);
#define HANDOFF_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, vhu_handoff_logtype, "handoff: " fmt "\n", ##__VA_ARGS__)

/* Written once by handoff_choose() before any burst runs; read by every burst. */
bool vhu_handoff_burst_fence = true;

static pthread_once_t handoff_once = PTHREAD_ONCE_INIT;

static long
membarrier(int cmd)
{
	return syscall(__NR_membarrier, cmd, 0, 0);
}

static void
handoff_choose(void)
{
	long cmds = membarrier(MEMBARRIER_CMD_QUERY);

	if (cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 &&
	    membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0) {
		vhu_handoff_burst_fence = false;
		return;
	}
	HANDOFF_LOG(INFO,
		    "membarrier(PRIVATE_EXPEDITED) is unavailable (%s): each burst fences "
		    "itself, a few nanoseconds more per burst",
		    cmds < 0 ? strerror(errno) : "not offered by this kernel");
}

int
vhu_handoff_init(void)
{
	pthread_once(&handoff_once, handoff_choose);
	return 0;
}

void
vhu_handoff_force_burst_fence(void)
{
	vhu_handoff_init();
	vhu_handoff_burst_fence = true;
}

void
vhu_handoff_barrier(void)
{
	/* Orders the caller's unpublishing stores [C] before its mark loads [D];
	 * pairs with the fence in vhu_burst_enter() when bursts fence themselves. */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&vhu_handoff_burst_fence, __ATOMIC_RELAXED))
		return;
	/* The kernel fences every CPU running one of our threads before this
	 * returns: that is the fence between [A] and [B] of a burst in flight.
	 * The process registered in handoff_choose(), the one documented cause
	 * of failure; should the call fail anyway, retry rather than go on
	 * without the fence. */
	while (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) {
		HANDOFF_LOG(ERR, "membarrier(PRIVATE_EXPEDITED) failed: %s; retrying",
			    strerror(errno));
		sched_yield();
	}
}

void
vhu_burst_wait(const struct vhu_burst_mark *m, const char *what, unsigned int index)
{
	/* Acquire: pairs with the release store in vhu_burst_exit(). */
	uint32_t s = __atomic_load_n(&m->seq, __ATOMIC_ACQUIRE);
	uint64_t start, hz = rte_get_timer_hz();
	bool warned = false;

	if ((s & 1) == 0)
		return;
	start = rte_get_timer_cycles();
	while (__atomic_load_n(&m->seq, __ATOMIC_ACQUIRE) == s) {
		uint64_t waited = rte_get_timer_cycles() - start;

		/* Past 10 us, yield: the lcore may share this CPU and need it to finish. */
		if (waited < hz / 100000) {
			rte_pause();
			continue;
		}
		sched_yield();
		if (!warned && waited > hz) {
			HANDOFF_LOG(WARNING,
				    "%s: queue %u: a burst has run for over a second; "
				    "waiting for it to return (is its lcore stopped inside a "
				    "burst?)",
				    what, index);
			warned = true;
		}
	}
}
