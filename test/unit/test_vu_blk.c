/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pure parts of the virtio-blk front-end driver and of vhu-blkgen: how a
 * request becomes descriptors (direction flags, the bytes the device may
 * write, segments cut at size_max and bounded by seg_max), which status
 * bytes a completion may carry, the verification pattern's diagnosis, and
 * the load generator's option checks.
 */
#include <string.h>

#include "blkgen.h"
#include "test_harness.h"
#include "vu_blk_req.h"

/* vu_vq_set_broken() is the protocol half's; the pure header only declares it. */
void
vu_vq_set_broken(struct vu_vq *vq, const char *fmt, ...)
{
	(void)vq;
	(void)fmt;
}

static const struct vu_blk_limits no_limits = { .max_pieces = VU_BLK_IND_MAX };

TEST(read_request_is_header_data_status_with_device_writing_data_and_status)
{
	struct vu_piece pc[VU_BLK_IND_MAX];
	uint32_t writable = 0;
	const char *why = NULL;
	int n = vu_blk_pieces(&no_limits, VIRTIO_BLK_T_IN, 0x1000, 0x20000, 4096, 0x1010, pc,
			      &writable, &why);

	ASSERT_EQ(n, 3);
	ASSERT_EQ(pc[0].addr, 0x1000);
	ASSERT_EQ(pc[0].len, 16);
	ASSERT_EQ(pc[0].flags, 0);
	ASSERT_EQ(pc[1].addr, 0x20000);
	ASSERT_EQ(pc[1].len, 4096);
	ASSERT_EQ(pc[1].flags, VRING_DESC_F_WRITE);
	ASSERT_EQ(pc[2].addr, 0x1010);
	ASSERT_EQ(pc[2].len, 1);
	ASSERT_EQ(pc[2].flags, VRING_DESC_F_WRITE);
	ASSERT_EQ(writable, 4097);
}

TEST(write_request_lets_the_device_write_only_the_status)
{
	struct vu_piece pc[VU_BLK_IND_MAX];
	uint32_t writable = 0;
	const char *why = NULL;
	int n = vu_blk_pieces(&no_limits, VIRTIO_BLK_T_OUT, 0x1000, 0x20000, 8192, 0x1010, pc,
			      &writable, &why);

	ASSERT_EQ(n, 3);
	ASSERT_EQ(pc[1].flags, 0);
	ASSERT_EQ(writable, 1);
}

TEST(flush_has_no_data_piece)
{
	struct vu_piece pc[VU_BLK_IND_MAX];
	uint32_t writable = 0;
	const char *why = NULL;

	ASSERT_EQ(vu_blk_pieces(&no_limits, VIRTIO_BLK_T_FLUSH, 0x1000, 0, 0, 0x1010, pc, &writable,
				&why),
		  2);
	ASSERT_EQ(pc[1].len, 1);
	ASSERT_EQ(writable, 1);
}

TEST(data_is_cut_at_size_max)
{
	struct vu_blk_limits lim = { .size_max = 4096, .max_pieces = VU_BLK_IND_MAX };
	struct vu_piece pc[VU_BLK_IND_MAX];
	uint32_t writable = 0;
	const char *why = NULL;
	int n = vu_blk_pieces(&lim, VIRTIO_BLK_T_IN, 0x1000, 0x20000, 10240, 0x1010, pc, &writable,
			      &why);

	ASSERT_EQ(n, 5);
	ASSERT_EQ(pc[1].len, 4096);
	ASSERT_EQ(pc[2].addr, 0x21000);
	ASSERT_EQ(pc[3].addr, 0x22000);
	ASSERT_EQ(pc[3].len, 2048);
	ASSERT_EQ(writable, 10241);
}

TEST(more_segments_than_seg_max_are_refused)
{
	struct vu_blk_limits lim = { .size_max = 4096, .seg_max = 2, .max_pieces = VU_BLK_IND_MAX };
	struct vu_piece pc[VU_BLK_IND_MAX];
	uint32_t writable = 0;
	const char *why = NULL;

	ASSERT_EQ(vu_blk_pieces(&lim, VIRTIO_BLK_T_IN, 0, 0x20000, 8192, 0, pc, &writable, &why),
		  4);
	ASSERT_EQ(vu_blk_pieces(&lim, VIRTIO_BLK_T_IN, 0, 0x20000, 12288, 0, pc, &writable, &why),
		  -EINVAL);
	ASSERT_STR_CONTAINS(why, "seg_max");
}

TEST(more_pieces_than_a_table_holds_are_refused)
{
	struct vu_blk_limits lim = { .size_max = 512, .max_pieces = 4 };
	struct vu_piece pc[VU_BLK_IND_MAX];
	uint32_t writable = 0;
	const char *why = NULL;

	ASSERT_EQ(vu_blk_pieces(&lim, VIRTIO_BLK_T_OUT, 0, 0, 1024, 0, pc, &writable, &why), 4);
	ASSERT_EQ(vu_blk_pieces(&lim, VIRTIO_BLK_T_OUT, 0, 0, 1536, 0, pc, &writable, &why),
		  -EINVAL);
}

TEST(bad_lengths_and_types_are_refused_with_a_reason)
{
	struct vu_piece pc[VU_BLK_IND_MAX];
	uint32_t writable = 0;
	const char *why = NULL;

	ASSERT_EQ(vu_blk_pieces(&no_limits, VIRTIO_BLK_T_IN, 0, 0, 1000, 0, pc, &writable, &why),
		  -EINVAL);
	ASSERT_STR_CONTAINS(why, "multiple of 512");
	ASSERT_EQ(vu_blk_pieces(&no_limits, VIRTIO_BLK_T_OUT, 0, 0, 0, 0, pc, &writable, &why),
		  -EINVAL);
	ASSERT_EQ(vu_blk_pieces(&no_limits, VIRTIO_BLK_T_FLUSH, 0, 0, 512, 0, pc, &writable, &why),
		  -EINVAL);
	ASSERT_STR_CONTAINS(why, "flush");
	ASSERT_EQ(vu_blk_pieces(&no_limits, VIRTIO_BLK_T_GET_ID, 0, 0, 512, 0, pc, &writable, &why),
		  -EINVAL);
	ASSERT_EQ(vu_blk_pieces(&no_limits, 99, 0, 0, 512, 0, pc, &writable, &why), -EINVAL);
	ASSERT_STR_CONTAINS(why, "type");
}

TEST(only_ok_ioerr_and_unsupp_are_statuses)
{
	ASSERT_NULL(vu_blk_done_check(VIRTIO_BLK_S_OK));
	ASSERT_NULL(vu_blk_done_check(VIRTIO_BLK_S_IOERR));
	ASSERT_NULL(vu_blk_done_check(VIRTIO_BLK_S_UNSUPP));
	ASSERT_STR_CONTAINS(vu_blk_done_check(3), "not OK, IOERR or UNSUPP");
	ASSERT_STR_CONTAINS(vu_blk_done_check(VU_BLK_STATUS_UNSET), "never written");
}

TEST(pattern_reads_back_and_every_byte_counts)
{
	static uint8_t buf[4096];
	char why[256];
	uint32_t i;

	blkgen_pattern_fill(buf, sizeof(buf), 8192, 3);
	ASSERT_EQ(blkgen_pattern_check(buf, sizeof(buf), 8192, 3, why, sizeof(why)), 0);
	for (i = 0; i < sizeof(buf); i += 997) {
		buf[i] ^= 0x40;
		ASSERT_EQ(blkgen_pattern_check(buf, sizeof(buf), 8192, 3, why, sizeof(why)), -1);
		buf[i] ^= 0x40;
	}
	buf[4000] ^= 1;
	blkgen_pattern_check(buf, sizeof(buf), 8192, 3, why, sizeof(why));
	ASSERT_STR_CONTAINS(why, "byte 12192 ");
	ASSERT_STR_CONTAINS(why, "corrupted");
}

TEST(pattern_check_tells_a_stale_generation_from_a_misplaced_block)
{
	static uint8_t buf[1024];
	char why[256];

	blkgen_pattern_fill(buf, sizeof(buf), 4096, 2);
	ASSERT_EQ(blkgen_pattern_check(buf, sizeof(buf), 4096, 3, why, sizeof(why)), -1);
	ASSERT_STR_CONTAINS(why, "says generation 2");
	ASSERT_EQ(blkgen_pattern_check(buf, sizeof(buf), 8192, 2, why, sizeof(why)), -1);
	ASSERT_STR_CONTAINS(why, "says offset 4096");
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(blkgen_pattern_check(buf, sizeof(buf), 4096, 2, why, sizeof(why)), -1);
	ASSERT_STR_CONTAINS(why, "no pattern header");
	ASSERT_EQ(blkgen_zero_check(buf, sizeof(buf), 0, why, sizeof(why)), 0);
	buf[700] = 9;
	ASSERT_EQ(blkgen_zero_check(buf, sizeof(buf), 0, why, sizeof(why)), -1);
	ASSERT_STR_CONTAINS(why, "byte 700 ");
}

static int
parse(const char *const *args, struct blkgen_params *p, char *err, size_t len)
{
	char *argv[16];
	bool help;
	int argc = 0;

	argv[argc++] = (char *)"vhu-blkgen";
	for (; *args != NULL; args++)
		argv[argc++] = (char *)*args;
	return blkgen_params_parse(p, argc, argv, &help, err, len);
}

TEST(blkgen_options_parse_and_default)
{
	const char *args[] = { "--socket-path=/x", "--rw=randrw", "--bs=64K", "--iodepth=32",
			       "--queues=2",	   "--ios=1000",  "--verify", NULL };
	struct blkgen_params p;
	char err[256];

	ASSERT_EQ(parse(args, &p, err, sizeof(err)), BLKGEN_EXIT_OK);
	ASSERT_EQ(p.rw, BLKGEN_RANDRW);
	ASSERT_EQ(p.bs, 65536);
	ASSERT_EQ(p.iodepth, 32);
	ASSERT_EQ(p.queues, 2);
	ASSERT_EQ(p.ios, 1000);
	ASSERT_TRUE(p.verify);
	ASSERT_TRUE(p.runtime == 0); /* --ios alone: no time limit */
}

TEST(blkgen_bad_options_name_themselves)
{
	static const struct {
		const char *arg, *needle;
	} bad[] = {
		{ "--rw=randomread", "--rw=randomread" },
		{ "--bs=1000", "--bs=1000" },
		{ "--bs=2M", "--bs=2M" },
		{ "--iodepth=0", "--iodepth=0" },
		{ "--queues=17", "--queues=17" },
		{ "--runtime=-1", "--runtime=-1" },
		{ "--queue-size=100", "--queue-size" },
		{ "--bogus", "--bogus" },
		{ "--indirect=2", "--indirect=2" },
		{ "--size=100", "--size=100" },
	};
	struct blkgen_params p;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[] = { "--socket-path=/x", bad[i].arg, NULL };

		ASSERT_EQ(parse(args, &p, err, sizeof(err)), BLKGEN_EXIT_USAGE);
		ASSERT_STR_CONTAINS(err, bad[i].needle);
	}
	{
		const char *args[] = { "--rw=read", NULL };

		ASSERT_EQ(parse(args, &p, err, sizeof(err)), BLKGEN_EXIT_USAGE);
		ASSERT_STR_CONTAINS(err, "--socket-path is required");
	}
	{
		const char *args[] = { "--socket-path=/x", "--rw=write", "--expect-zeroes", NULL };

		ASSERT_EQ(parse(args, &p, err, sizeof(err)), BLKGEN_EXIT_USAGE);
		ASSERT_STR_CONTAINS(err, "--expect-zeroes");
	}
}
