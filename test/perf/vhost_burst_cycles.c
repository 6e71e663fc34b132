/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An LD_PRELOAD interposer for an unchanged DPDK application (dpdk-testpmd's
 * net_vhost, OVS-DPDK): it defines rte_vhost_enqueue_burst and
 * rte_vhost_dequeue_burst under librte_vhost.so.23's version node DPDK_23,
 * forwards every call to the library's own (DPDK's, or vhu's drop-in one)
 * and counts the TSC cycles spent inside each call:
 *
 *   - calls that moved at least one packet: their cycles, packets and number;
 *   - calls that moved none (the ring was full, or empty): number and cycles;
 *   - calls that took longer than 50 us (VHU_VHOST_USER_STALL_PER_SEC), whatever they
 *     moved: number, packets and cycles. No burst of frames up to 1518 B
 *     takes that long (32 of them are a few microseconds); the thread was
 *     preempted or interrupted inside the call, which on a shared machine
 *     would otherwise put another process's time into the figure. (Bursts of
 *     64 KB TSO frames can take longer and land here too: the figure is
 *     meant for frames up to 1518 B.)
 *
 * The boundary is the application's call into the backend, the same one
 * vhu-pmd's vhost-user port counts with burst-cycles=1 (around
 * vhu_vhost_enqueue_burst/dequeue_burst), so that both backends' cost per
 * packet is measured alike: ring reads, copies, used write-back and the
 * notification check are in; the application's own mbuf work and the calls
 * that found no room or nothing to receive are out (reported apart).
 *
 * When the process exits, one line per direction goes to stderr:
 *
 *   vhost enqueue: backend cycles/packet=N.NN (cycles=N / packets=N; calls=N,
 *   empty calls=N, empty cycles=N; stalled calls=N, stalled packets=N,
 *   stalled cycles=N) at N MHz Clock
 *
 * (nothing when no burst was called). test/perf/vhost_vs_dpdk.py reads it. Counters are per thread
 * (a slot each, taken at a thread's first call), so forwarding lcores never share a line.
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_vhost.h>

#include "vhu_burst_cycles.h"

/* Threads that may call bursts; the calls of any beyond are forwarded uncounted. */
#define BURST_CYCLES_SLOTS 128

/* One thread's counts, alone on its cache lines. */
struct burst_slot {
	struct vhu_vhost_user_burst_cycles enq; /* rte_vhost_enqueue_burst: host to guest */
	struct vhu_vhost_user_burst_cycles deq; /* rte_vhost_dequeue_burst: guest to host */
} __rte_cache_aligned;

static struct burst_slot slots[BURST_CYCLES_SLOTS];
/* Slots handed out so far (atomic); may exceed BURST_CYCLES_SLOTS. */
static unsigned int nb_slots;
/* This thread's slot, NULL until its first call (or when none was left). */
static __thread struct burst_slot *my_slot;
static __thread int my_slot_taken;
/* The stall limit in TSC cycles, set at a thread's first call (the EAL knows the rate by then). */
static __thread uint64_t my_stall_cycles;

typedef uint16_t (*enqueue_fn)(int vid, uint16_t queue_id, struct rte_mbuf **pkts, uint16_t count);
typedef uint16_t (*dequeue_fn)(int vid, uint16_t queue_id, struct rte_mempool *mbuf_pool,
			       struct rte_mbuf **pkts, uint16_t count);

/*
 * The library's own calls, found at the first call (atomic): dpdk-testpmd
 * loads net_vhost, and with it librte_vhost.so.23, as a plugin after start-up.
 */
static enqueue_fn real_enqueue;
static dequeue_fn real_dequeue;

/*
 * The library's definition of 'name'. RTLD_NEXT finds it when the
 * application links librte_vhost.so.23; dpdk-testpmd loads it with the
 * net_vhost plugin instead, into the plugin's own scope, which RTLD_NEXT does
 * not search: then the already loaded library is asked by its soname.
 */
static void *
burst_lookup(const char *name)
{
	void *fn = dlvsym(RTLD_NEXT, name, "DPDK_23");
	void *lib;

	if (fn != NULL)
		return fn;
	lib = dlopen("librte_vhost.so.23", RTLD_LAZY | RTLD_NOLOAD);
	if (lib != NULL) {
		fn = dlvsym(lib, name, "DPDK_23");
		/* The library stays loaded: the application holds it too. */
		dlclose(lib);
	}
	if (fn == NULL || fn == (void *)rte_vhost_enqueue_burst ||
	    fn == (void *)rte_vhost_dequeue_burst) {
		fprintf(stderr,
			"vhost_burst_cycles: %s@DPDK_23 not found in librte_vhost.so.23 (%s); "
			"preload the interposer only into a process that loads that library\n",
			name, lib == NULL ? "the library is not loaded" : "no such symbol");
		abort();
	}
	return fn;
}

static struct burst_slot *
burst_slot(void)
{
	if (unlikely(!my_slot_taken)) {
		unsigned int i = __atomic_fetch_add(&nb_slots, 1, __ATOMIC_RELAXED);

		my_slot = i < BURST_CYCLES_SLOTS ? &slots[i] : NULL;
		my_stall_cycles = rte_get_tsc_hz() != 0
					  ? rte_get_tsc_hz() / VHU_VHOST_USER_STALL_PER_SEC
					  : UINT64_MAX;
		my_slot_taken = 1;
	}
	return my_slot;
}

uint16_t
rte_vhost_enqueue_burst(int vid, uint16_t queue_id, struct rte_mbuf **pkts, uint16_t count)
{
	struct burst_slot *s = burst_slot();
	enqueue_fn fn = __atomic_load_n(&real_enqueue, __ATOMIC_RELAXED);
	uint64_t start;
	uint16_t nb;

	if (unlikely(fn == NULL)) {
		/* Racing threads find and store the same pointer. */
		fn = (enqueue_fn)burst_lookup("rte_vhost_enqueue_burst");
		__atomic_store_n(&real_enqueue, fn, __ATOMIC_RELAXED);
	}
	start = rte_rdtsc();
	nb = fn(vid, queue_id, pkts, count);

	if (likely(s != NULL))
		vhu_vhost_user_burst_count(&s->enq, nb, rte_rdtsc() - start, my_stall_cycles);
	return nb;
}

uint16_t
rte_vhost_dequeue_burst(int vid, uint16_t queue_id, struct rte_mempool *mbuf_pool,
			struct rte_mbuf **pkts, uint16_t count)
{
	struct burst_slot *s = burst_slot();
	dequeue_fn fn = __atomic_load_n(&real_dequeue, __ATOMIC_RELAXED);
	uint64_t start;
	uint16_t nb;

	if (unlikely(fn == NULL)) {
		fn = (dequeue_fn)burst_lookup("rte_vhost_dequeue_burst");
		__atomic_store_n(&real_dequeue, fn, __ATOMIC_RELAXED);
	}
	start = rte_rdtsc();
	nb = fn(vid, queue_id, mbuf_pool, pkts, count);

	if (likely(s != NULL))
		vhu_vhost_user_burst_count(&s->deq, nb, rte_rdtsc() - start, my_stall_cycles);
	return nb;
}

static void
burst_print(const char *what, const struct vhu_vhost_user_burst_cycles *c, uint64_t hz)
{
	fprintf(stderr,
		"vhost %s: backend cycles/packet=%.2f (cycles=%" PRIu64 " / packets=%" PRIu64
		"; calls=%" PRIu64 ", empty calls=%" PRIu64 ", empty cycles=%" PRIu64
		"; stalled calls=%" PRIu64 ", stalled packets=%" PRIu64 ", stalled cycles=%" PRIu64
		") at %" PRIu64 " MHz Clock\n",
		what, c->packets != 0 ? (double)c->cycles / (double)c->packets : 0.0, c->cycles,
		c->packets, c->calls, c->empty_calls, c->empty_cycles, c->stalled_calls,
		c->stalled_packets, c->stalled_cycles, hz / 1000000);
}

static void
burst_add(struct vhu_vhost_user_burst_cycles *sum, const struct vhu_vhost_user_burst_cycles *c)
{
	sum->cycles += __atomic_load_n(&c->cycles, __ATOMIC_RELAXED);
	sum->packets += __atomic_load_n(&c->packets, __ATOMIC_RELAXED);
	sum->calls += __atomic_load_n(&c->calls, __ATOMIC_RELAXED);
	sum->empty_calls += __atomic_load_n(&c->empty_calls, __ATOMIC_RELAXED);
	sum->empty_cycles += __atomic_load_n(&c->empty_cycles, __ATOMIC_RELAXED);
	sum->stalled_calls += __atomic_load_n(&c->stalled_calls, __ATOMIC_RELAXED);
	sum->stalled_packets += __atomic_load_n(&c->stalled_packets, __ATOMIC_RELAXED);
	sum->stalled_cycles += __atomic_load_n(&c->stalled_cycles, __ATOMIC_RELAXED);
}

/*
 * At exit the forwarding lcores have stopped (dpdk-testpmd stops forwarding
 * and closes its ports before main() returns), so the counts are final.
 * rte_get_tsc_hz() reads a value the EAL set at start-up; 0 if it never did.
 */
static void __attribute__((destructor)) burst_cycles_report(void)
{
	unsigned int n = RTE_MIN(__atomic_load_n(&nb_slots, __ATOMIC_RELAXED),
				 (unsigned int)BURST_CYCLES_SLOTS);
	struct vhu_vhost_user_burst_cycles enq = { 0 }, deq = { 0 };
	unsigned int i;

	/* No burst was called: a wrapper script's shell, say, which passed the
	 * preload on to the application; its lines would hide the application's. */
	if (n == 0)
		return;

	for (i = 0; i < n; i++) {
		burst_add(&enq, &slots[i].enq);
		burst_add(&deq, &slots[i].deq);
	}
	burst_print("enqueue", &enq, rte_get_tsc_hz());
	burst_print("dequeue", &deq, rte_get_tsc_hz());
}
