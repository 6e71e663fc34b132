/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Write prefetch of a line the other side of a ring had last, and the
 * process-wide A/B variant that can turn it off: shared by the backend
 * library and the front-end, which both write lines the peer's core holds.
 *
 * PREFETCHW asks for the line exclusive, where a plain prefetch brings it
 * shared and the store then pays a second transfer to take it from the
 * other core (doc/performance.md, "Cycles per packet"). Used where
 * vhu_prefetch_write_on() says so, which a caller tests once a burst (the
 * front-end: once per refill batch of up to 32):
 * vhu_prefetchw is set at load time on x86-64 where CPUID says the CPU has
 * PREFETCHW, elsewhere not; VHU_PREFETCHW=0 in the environment turns it
 * off, to compare, and =1 on (off x86-64: the compiler's write prefetch).
 */
#ifndef VHU_PREFETCH_H
#define VHU_PREFETCH_H

#include <stdbool.h>

#include <rte_common.h>

extern bool vhu_prefetchw;

/*
 * The A/B variant (vhu_vhost_ab_set(), vhu_vhost.h): 0 unless a developer
 * compares two code paths. Code under experiment reads it once per burst
 * (or refill batch) with a relaxed load, never per packet. The built-in experiment: variant 1
 * turns the write prefetches off (vhu_prefetch_write_on()).
 */
extern unsigned int vhu_ab_variant;

/*
 * Should this burst write-prefetch? Read once per burst, not per packet.
 * Always inlined, as vhu_prefetchw_line(): two loads and a compare, which a
 * call would cost more than.
 */
static __rte_always_inline bool
vhu_prefetch_write_on(void)
{
	/* Relaxed: the variant orders nothing else (vhu_vhost_ab_set()). */
	return vhu_prefetchw && __atomic_load_n(&vhu_ab_variant, __ATOMIC_RELAXED) == 0;
}

/* One instruction, in loops of the data path: always inlined, never a call. */
static __rte_always_inline void
vhu_prefetchw_line(const void *p)
{
#ifdef RTE_ARCH_X86_64
	__asm__ volatile("prefetchw %0" : : "m"(*(const volatile char *)p));
#else
	__builtin_prefetch(p, 1, 3);
#endif
}

#endif /* VHU_PREFETCH_H */
