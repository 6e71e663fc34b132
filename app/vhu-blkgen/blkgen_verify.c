/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-blkgen's verification pattern: every 512-byte sector carries its
 * device offset and the block's generation, then 488 bytes that follow from
 * them (xorshift64*), so a sector that lands in the wrong place, an old
 * write that overtakes a newer one, and a torn or corrupted sector all fail
 * the byte-by-byte check with a message that says which.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "blkgen.h"
#include "virtio_blk.h"

static uint64_t
pattern_seed(uint64_t offset, uint64_t gen)
{
	uint64_t x = offset ^ (gen * UINT64_C(0x9e3779b97f4a7c15)) ^ BLKGEN_MAGIC;

	return x != 0 ? x : 1; /* xorshift never leaves 0 */
}

static void
sector_fill(uint8_t *s, uint64_t offset, uint64_t gen)
{
	struct blkgen_sector_hdr h = { .magic = BLKGEN_MAGIC, .offset = offset, .gen = gen };
	uint64_t x = pattern_seed(offset, gen), v;
	size_t i;

	memcpy(s, &h, sizeof(h));
	for (i = sizeof(h); i < VIRTIO_BLK_SECTOR_SIZE; i += sizeof(v)) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		v = x * UINT64_C(0x2545f4914f6cdd1d);
		memcpy(s + i, &v, sizeof(v));
	}
}

void
blkgen_pattern_fill(uint8_t *buf, uint32_t len, uint64_t offset, uint64_t gen)
{
	uint32_t off;

	for (off = 0; off < len; off += VIRTIO_BLK_SECTOR_SIZE)
		sector_fill(buf + off, offset + off, gen);
}

int
blkgen_pattern_check(const uint8_t *buf, uint32_t len, uint64_t offset, uint64_t gen, char *why,
		     size_t why_len)
{
	uint8_t want[VIRTIO_BLK_SECTOR_SIZE];
	struct blkgen_sector_hdr got;
	uint32_t off, i;

	for (off = 0; off < len; off += VIRTIO_BLK_SECTOR_SIZE) {
		const uint8_t *s = buf + off;

		sector_fill(want, offset + off, gen);
		if (memcmp(s, want, sizeof(want)) == 0)
			continue;
		for (i = 0; s[i] == want[i]; i++)
			;
		memcpy(&got, s, sizeof(got));
		snprintf(why, why_len,
			 "byte %" PRIu64 " reads 0x%02x, expected 0x%02x (generation %" PRIu64
			 "); the sector %s",
			 offset + off + i, s[i], want[i], gen,
			 got.magic != BLKGEN_MAGIC ? "holds no pattern header (never written, or "
						     "overwritten by something else)"
			 : got.offset != offset + off ? "holds the pattern of another offset "
							"(misplaced write or read)"
			 : got.gen != gen
				 ? "holds another generation (a write lost or reordered)"
				 : "has the right header but wrong bytes (corrupted data)");
		if (got.magic == BLKGEN_MAGIC && got.offset != offset + off) {
			size_t l = strlen(why);

			snprintf(why + l, why_len - l, ": it says offset %" PRIu64, got.offset);
		} else if (got.magic == BLKGEN_MAGIC && got.gen != gen) {
			size_t l = strlen(why);

			snprintf(why + l, why_len - l, ": it says generation %" PRIu64, got.gen);
		}
		return -1;
	}
	return 0;
}

int
blkgen_zero_check(const uint8_t *buf, uint32_t len, uint64_t offset, char *why, size_t why_len)
{
	uint32_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] != 0) {
			snprintf(why, why_len, "byte %" PRIu64 " reads 0x%02x, expected zero",
				 offset + i, buf[i]);
			return -1;
		}
	}
	return 0;
}
