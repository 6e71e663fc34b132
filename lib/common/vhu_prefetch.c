/* SPDX-License-Identifier: BSD-3-Clause */
/* The write prefetch's load-time probe (vhu_prefetch.h). */
#include <stdlib.h>
#include <string.h>

#include "vhu_prefetch.h" /* before the #ifdef: rte_config.h says which architecture */

#ifdef RTE_ARCH_X86_64
#include <cpuid.h>
#endif

bool vhu_prefetchw;

/*
 * PREFETCHW where the CPU has it (x86-64, CPUID 0x80000001, ECX bit 8).
 * VHU_PREFETCHW=0 turns it off, =1 on whatever CPUID says (valgrind hides
 * the bit but runs the instruction: test/perf/instructions.py counts the
 * path the CPUs that have it take; off x86-64 it turns on the compiler's
 * write prefetch).
 */
RTE_INIT(vhu_prefetchw_probe)
{
	const char *env = getenv("VHU_PREFETCHW");

	if (env != NULL && strcmp(env, "0") == 0) {
		vhu_prefetchw = false;
	} else if (env != NULL && strcmp(env, "1") == 0) {
		vhu_prefetchw = true;
	} else {
#ifdef RTE_ARCH_X86_64
		unsigned int a, b, c, d;

		vhu_prefetchw = __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & bit_PRFCHW) != 0;
#endif
	}
}
