/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The byte copy of the net bursts: a packet between a guest buffer and an
 * mbuf, in either direction. Private.
 *
 * Why not rte_memcpy(): the packages build for a baseline x86-64 CPU
 * (-march=corei7, 16-byte SSE moves), and rte_memcpy() then spends much of
 * a packet copy on its choice of method (alignment of both ends, six size
 * classes) and on a loop of 64 bytes a step. Here there are four size
 * classes, each copied with overlapping moves from both ends, and 128
 * bytes a step beyond, with the stores aligned. Instructions a packet
 * (test/perf/instructions.py): split g2h 64 B 142.0 -> 138.1, 1518 B
 * 429.0 -> 388.1; h2g 64 B 185.5 -> 176.9, 1518 B 448.5 -> 395.9. The
 * moves are the same 16-byte loads and stores, on the same lines.
 */
#ifndef VHU_VHOST_NET_COPY_H
#define VHU_VHOST_NET_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

/*
 * On x86-64, copies of VHU_COPY_WIDE_MIN bytes and more go to
 * vhu_copy_long_wide() (vhost_net_copy.c) where the CPU has AVX2: the same
 * loop in 32-byte moves, half the loads and stores. Instructions a packet
 * (test/perf/instructions.py), 16-byte -> 32-byte moves: split g2h 1518 B
 * 393.7 -> 306.7, h2g 399.3 -> 309.3; packed g2h 380.4 -> 292.7, h2g
 * 379.9 -> 288.6. Below 256 bytes the call would cost what it saves.
 */
#ifdef RTE_ARCH_X86_64
#define VHU_COPY_HAVE_WIDE 1
#define VHU_COPY_WIDE_MIN  256
extern bool vhu_copy_wide; /* set before main() */
void vhu_copy_long_wide(uint8_t *d, const uint8_t *s, size_t n);
#endif

/* Fixed-size copies: the compiler makes each one register-wide moves, no call. */
static __rte_always_inline void
vhu_mov16(uint8_t *d, const uint8_t *s)
{
	memcpy(d, s, 16);
}

static __rte_always_inline void
vhu_mov64(uint8_t *d, const uint8_t *s)
{
	memcpy(d, s, 64);
}

static __rte_always_inline void
vhu_mov128(uint8_t *d, const uint8_t *s)
{
	memcpy(d, s, 128);
}

/*
 * Copy 'n' bytes from 'src' to 'dst'; the two do not overlap. Up to 128
 * bytes, the first and the last moves of a size class overlap in the
 * middle; beyond, 128 bytes a step from a 16-byte aligned destination
 * (so no store splits a cache line), the last step ending at the end.
 */
static __rte_always_inline void
vhu_copy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	uint8_t *last;
	size_t skew;

	if (n < 16) {
		if (n >= 8) {
			memcpy(d, s, 8);
			memcpy(d + n - 8, s + n - 8, 8);
		} else if (n >= 4) {
			memcpy(d, s, 4);
			memcpy(d + n - 4, s + n - 4, 4);
		} else if (n > 0) {
			d[0] = s[0];
			d[n / 2] = s[n / 2];
			d[n - 1] = s[n - 1];
		}
		return;
	}
	if (n <= 32) {
		vhu_mov16(d, s);
		vhu_mov16(d + n - 16, s + n - 16);
		return;
	}
	if (n <= 64) {
		memcpy(d, s, 32);
		memcpy(d + n - 32, s + n - 32, 32);
		return;
	}
	if (n <= 128) {
		vhu_mov64(d, s);
		vhu_mov64(d + n - 64, s + n - 64);
		return;
	}
#ifdef VHU_COPY_HAVE_WIDE
	if (n >= VHU_COPY_WIDE_MIN && likely(vhu_copy_wide)) {
		vhu_copy_long_wide(d, s, n);
		return;
	}
#endif
	/* The first 16 bytes unaligned, then from the next 16-byte boundary. */
	vhu_mov16(d, s);
	skew = 16 - ((uintptr_t)d & 15);
	last = d + n - 128;
	d += skew;
	s += skew;
	while (d < last) {
		vhu_mov128(d, s);
		d += 128;
		s += 128;
	}
	vhu_mov128(last, s - (d - last));
}

/*
 * vhu_copy() of 'n' bytes, n at most 256 (the deferred copies of the
 * receive bursts, most of them between 33 and 64 bytes): the size classes
 * tested from the middle, and no loop. Up to 128 bytes the same moves as
 * vhu_copy(); from 129 two overlapping 128-byte moves, unaligned, where
 * vhu_copy() steps from a 16-byte aligned destination (and at 256 takes
 * the wide moves where the CPU has them). The instruction gate measures
 * 64 and 1518 bytes only: this range is checked for bytes, not cost.
 */
static __rte_always_inline void
vhu_copy_short(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (n > 64) {
		if (n <= 128) {
			vhu_mov64(d, s);
			vhu_mov64(d + n - 64, s + n - 64);
		} else {
			vhu_mov128(d, s);
			vhu_mov128(d + n - 128, s + n - 128);
		}
	} else if (n > 32) {
		memcpy(d, s, 32);
		memcpy(d + n - 32, s + n - 32, 32);
	} else {
		vhu_copy(d, s, n);
	}
}

#endif /* VHU_VHOST_NET_COPY_H */
