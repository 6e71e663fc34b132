/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Write prefetch of a line the other side of a ring had last: shared by the
 * backend library and the front-end, which both write lines the peer's core
 * holds. The A/B variant (vhu_ab.h) can turn it off.
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

#include "vhu_ab.h"

extern bool vhu_prefetchw;

/*
 * Should this burst write-prefetch? Where the CPU has it, and only under
 * A/B variant 0 (vhu_ab.h). Read once per burst, not per packet. Always
 * inlined, as vhu_prefetchw_line(): two loads and a compare, which a call
 * would cost more than.
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
