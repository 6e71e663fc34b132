/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The net bursts' byte copy (vhu_copy(), net/vhost_net_copy.h; and
 * vhu_copy_short(), its form for 256 bytes at most): every length
 * from 0 to past a jumbo frame's, from and to every offset within 16 bytes,
 * copies exactly its bytes and writes nothing before or after them. Its
 * size classes meet at 16, 32, 64 and 128 bytes, and its loop's last step
 * overlaps the one before by up to 127 bytes: the lengths around each of
 * those are where a copy would lose or add a byte. On x86-64 every check
 * runs twice: with the 16-byte moves and with the 32-byte moves the CPU
 * may have (vhu_copy_wide), whose stores align to 32 bytes, so offsets go
 * to 32 there.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "test_harness.h"
#include "vhost_net_copy.h"

#define GUARD	64
#define MAX_LEN 9200
#define MAX_OFF 32 /* offsets are below this */
#define POISON	0xa5

static uint8_t src_buf[MAX_OFF + MAX_LEN + 2 * GUARD];
static uint8_t dst_buf[MAX_OFF + MAX_LEN + 2 * GUARD];

typedef void copy_fn(void *dst, const void *src, size_t n);

/*
 * Copy 'n' bytes between the offsets with 'copy' and check them and GUARD
 * bytes on either side; returns the count of wrong bytes.
 */
static unsigned int
copy_with(copy_fn *copy, size_t n, unsigned int src_off, unsigned int dst_off)
{
	uint8_t *src = src_buf + GUARD + src_off, *dst = dst_buf + GUARD + dst_off;
	unsigned int bad = 0;
	size_t i;

	for (i = 0; i < n; i++)
		src[i] = (uint8_t)(i * 31 + n);
	memset(dst - GUARD, POISON, n + 2 * GUARD);
	copy(dst, src, n);
	for (i = 0; i < GUARD; i++)
		bad += (dst[-1 - (ptrdiff_t)i] != POISON) + (dst[n + i] != POISON);
	for (i = 0; i < n; i++)
		bad += dst[i] != src[i];
	return bad;
}

static unsigned int
copy_and_check(size_t n, unsigned int src_off, unsigned int dst_off)
{
	return copy_with(vhu_copy, n, src_off, dst_off);
}

/* Every length up to 600 at many offset pairs; reports the first five bad copies. */
static void
sweep_short(const char *how)
{
	unsigned int s, d, bad = 0;
	size_t n;

	for (n = 0; n <= 600; n++)
		for (s = 0; s < MAX_OFF; s += 3)
			for (d = 0; d < MAX_OFF; d++)
				if (copy_and_check(n, s, d) != 0 && bad++ < 5)
					th_fail(__FILE__, __LINE__,
						"%s: %zu bytes from offset %u to %u: wrong bytes",
						how, n, s, d);
}

/* Frame and jumbo lengths, around the loop's steps. */
static void
sweep_long(const char *how)
{
	static const size_t lens[] = { 255,  256,  257,	 383,  384,  385,  1023, 1024, 1025,   1500,
				       1506, 1514, 1518, 2048, 4095, 4096, 8999, 9000, MAX_LEN };
	unsigned int i, s, d, bad = 0;

	for (i = 0; i < RTE_DIM(lens); i++)
		for (s = 0; s < MAX_OFF; s += 5)
			for (d = 0; d < MAX_OFF; d += 3)
				if (copy_and_check(lens[i], s, d) != 0 && bad++ < 5)
					th_fail(__FILE__, __LINE__,
						"%s: %zu bytes from offset %u to %u: wrong bytes",
						how, lens[i], s, d);
}

#ifdef VHU_COPY_HAVE_WIDE
static bool
cpu_has_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}
#endif

/* Run 'sweep' with the 16-byte moves, and with the 32-byte ones where the CPU has them. */
static void
with_each_move(void (*sweep)(const char *how))
{
#ifdef VHU_COPY_HAVE_WIDE
	bool saved = vhu_copy_wide;

	vhu_copy_wide = false;
	sweep("16-byte moves");
	if (cpu_has_avx2()) {
		vhu_copy_wide = true;
		sweep("32-byte moves");
	}
	vhu_copy_wide = saved;
#else
	sweep("16-byte moves");
#endif
}

TEST(copy_of_every_length_up_to_600_at_every_offset_is_exact)
{
	with_each_move(sweep_short);
}

TEST(copy_of_frame_and_jumbo_lengths_is_exact)
{
	with_each_move(sweep_long);
}

/* vhu_copy_short(), the receive bursts' deferred copies: every length it takes. */
TEST(short_copy_of_every_length_up_to_256_at_every_offset_is_exact)
{
	unsigned int s, d, bad = 0;
	size_t n;

	for (n = 0; n <= 256; n++)
		for (s = 0; s < MAX_OFF; s++)
			for (d = 0; d < MAX_OFF; d++)
				if (copy_with(vhu_copy_short, n, s, d) != 0 && bad++ < 5)
					th_fail(__FILE__, __LINE__,
						"%zu bytes from offset %u to %u: wrong bytes", n, s,
						d);
}

#ifdef VHU_COPY_HAVE_WIDE
/* The library takes the wide moves where the CPU has them, unless told not to. */
TEST(wide_moves_follow_the_cpu_and_the_environment)
{
	const char *env = getenv("VHU_COPY_AVX2");
	bool want = cpu_has_avx2() && !(env != NULL && strcmp(env, "0") == 0);

	if (vhu_copy_wide != want)
		th_fail(__FILE__, __LINE__,
			"vhu_copy_wide is %d, expected %d (cpu avx2 %d, "
			"VHU_COPY_AVX2=%s)",
			vhu_copy_wide, want, cpu_has_avx2(), env != NULL ? env : "(unset)");
}
#endif
