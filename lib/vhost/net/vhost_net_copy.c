/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The long copies of the net bursts on a CPU with AVX2: see vhu_copy() in
 * vhost_net_copy.h, which calls here for VHU_COPY_WIDE_MIN bytes and more.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "vhost_net_copy.h"

#ifdef VHU_COPY_HAVE_WIDE

#include <immintrin.h>

bool vhu_copy_wide;

/*
 * Decided once, before main(): the packages are built for a baseline x86-64
 * CPU, so the 32-byte moves are compiled for AVX2 alone (the target
 * attribute below) and taken only where the CPU and the kernel have it.
 * VHU_COPY_AVX2=0 in the environment keeps the 16-byte moves, to compare.
 */
RTE_INIT(vhu_copy_probe)
{
	const char *env = getenv("VHU_COPY_AVX2");

	__builtin_cpu_init();
	vhu_copy_wide = __builtin_cpu_supports("avx2") && !(env != NULL && strcmp(env, "0") == 0);
}

/* 128 bytes from 's' to 'd' in 32-byte moves, every load before any store. */
static __rte_always_inline __attribute__((target("avx2,tune=haswell"))) void
mov128_wide(uint8_t *d, const uint8_t *s)
{
	__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)s);
	__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(s + 32));
	__m256i c = _mm256_loadu_si256((const __m256i *)(const void *)(s + 64));
	__m256i e = _mm256_loadu_si256((const __m256i *)(const void *)(s + 96));

	_mm256_storeu_si256((__m256i *)(void *)d, a);
	_mm256_storeu_si256((__m256i *)(void *)(d + 32), b);
	_mm256_storeu_si256((__m256i *)(void *)(d + 64), c);
	_mm256_storeu_si256((__m256i *)(void *)(d + 96), e);
}

/*
 * vhu_copy()'s loop in 32-byte moves: the first 32 bytes unaligned, then
 * 128 bytes a step from the next 32-byte boundary of the destination (no
 * store splits a line), the last step ending at the end. n >= 128.
 */
__attribute__((target("avx2,tune=haswell"))) void
vhu_copy_long_wide(uint8_t *d, const uint8_t *s, size_t n)
{
	uint8_t *last = d + n - 128;
	size_t skew = 32 - ((uintptr_t)d & 31);

	_mm256_storeu_si256((__m256i *)(void *)d,
			    _mm256_loadu_si256((const __m256i *)(const void *)s));
	d += skew;
	s += skew;
	while (d < last) {
		mov128_wide(d, s);
		d += 128;
		s += 128;
	}
	mov128_wide(last, s - (d - last));
}

#endif /* VHU_COPY_HAVE_WIDE */
