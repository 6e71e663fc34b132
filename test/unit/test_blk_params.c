/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-blk's command line (app/vhu-blk/blk_params.c): defaults, every option,
 * and a clear refusal naming the option for each kind of bad value.
 */
#include <string.h>

#include <rte_common.h>

#include "blk_params.h"
#include "test_harness.h"

static struct blk_params p;
static char err[256];
static bool help;

/* Parse a NULL-terminated list of arguments (program name added). */
#define PARSE(...) parse((const char *[]){ "vhu-blk", __VA_ARGS__, NULL })

static int
parse(const char **args)
{
	char *argv[32];
	int argc = 0;

	while (args[argc] != NULL) {
		argv[argc] = (char *)(uintptr_t)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	err[0] = '\0';
	return blk_params_parse(&p, argc, argv, &help, err, sizeof(err));
}

TEST(minimal_command_line_takes_the_defaults)
{
	ASSERT_EQ(PARSE("--socket-path=/run/blk.sock", "--null=1G"), BLK_EXIT_OK);
	ASSERT_STR_CONTAINS(p.socket_path, "/run/blk.sock");
	ASSERT_EQ(p.kind, BDEV_NULL);
	ASSERT_EQ(p.size, 1ull << 30);
	ASSERT_EQ(p.queues, 1);
	ASSERT_EQ(p.blk_size, 512);
	ASSERT_TRUE(p.write_cache);
	ASSERT_FALSE(p.read_only);
	ASSERT_FALSE(p.client);
	ASSERT_STR_CONTAINS(p.serial, "vhu-blk-null");
}

TEST(every_option_is_taken)
{
	ASSERT_EQ(PARSE("--socket-path", "/tmp/s", "--blk-file=/var/lib/images/disk0.img",
			"--read-only", "--queues=4", "--blk-size=4096", "--write-cache=off",
			"--iodepth=64", "--stats-period=2", "--client"),
		  BLK_EXIT_OK);
	ASSERT_EQ(p.kind, BDEV_FILE);
	ASSERT_STR_CONTAINS(p.image, "disk0.img");
	ASSERT_TRUE(p.read_only);
	ASSERT_EQ(p.queues, 4);
	ASSERT_EQ(p.blk_size, 4096);
	ASSERT_FALSE(p.write_cache);
	ASSERT_EQ(p.iodepth, 64);
	ASSERT_EQ(p.stats_period, 2);
	ASSERT_TRUE(p.client);
	ASSERT_EQ(strcmp(p.serial, "disk0.img"), 0);
}

TEST(serial_defaults_to_the_last_20_bytes_of_the_image_name)
{
	ASSERT_EQ(PARSE("--socket-path=s", "--blk-file=/a/a-very-long-image-name-indeed.qcow"),
		  BLK_EXIT_OK);
	ASSERT_EQ(strlen(p.serial), 20);
	ASSERT_EQ(strcmp(p.serial, "age-name-indeed.qcow"), 0);
}

TEST(sizes_take_binary_suffixes_and_refuse_the_rest)
{
	uint64_t b;

	ASSERT_EQ(blk_parse_size("512", &b), 0);
	ASSERT_EQ(b, 512);
	ASSERT_EQ(blk_parse_size("64K", &b), 0);
	ASSERT_EQ(b, 65536);
	ASSERT_EQ(blk_parse_size("3g", &b), 0);
	ASSERT_EQ(b, 3ull << 30);
	ASSERT_EQ(blk_parse_size("2T", &b), 0);
	ASSERT_EQ(b, 2ull << 40);
	ASSERT_NE(blk_parse_size("1.5G", &b), 0);
	ASSERT_NE(blk_parse_size("-1", &b), 0);
	ASSERT_NE(blk_parse_size("G", &b), 0);
	ASSERT_NE(blk_parse_size("1GB", &b), 0);
	ASSERT_NE(blk_parse_size("99999999999T", &b), 0);
}

TEST(bad_values_are_refused_naming_the_option)
{
	static const struct {
		const char *arg, *needle;
	} cases[] = {
		{ "--queues=0", "--queues=0" },
		{ "--queues=17", "from 1 to 16" },
		{ "--queues=two", "--queues=two" },
		{ "--blk-size=1000", "power of 2" },
		{ "--blk-size=256", "--blk-size=256" },
		{ "--write-cache=yes", "on or off" },
		{ "--iodepth=0", "--iodepth=0" },
		{ "--stats-period=-1", "--stats-period" },
		{ "--serial=123456789012345678901", "20 bytes" },
		{ "--bogus", "unknown option --bogus" },
	};
	unsigned int i;

	for (i = 0; i < RTE_DIM(cases); i++) {
		ASSERT_EQ(PARSE("--socket-path=s", "--null=1M", cases[i].arg), BLK_EXIT_USAGE);
		ASSERT_STR_CONTAINS(err, cases[i].needle);
	}
}

TEST(storage_must_be_given_exactly_once_with_a_valid_size)
{
	ASSERT_EQ(PARSE("--socket-path=s"), BLK_EXIT_USAGE);
	ASSERT_STR_CONTAINS(err, "no storage");
	ASSERT_EQ(PARSE("--socket-path=s", "--null=1M", "--malloc=1M"), BLK_EXIT_USAGE);
	ASSERT_STR_CONTAINS(err, "exactly one");
	ASSERT_EQ(PARSE("--socket-path=s", "--malloc=1000"), BLK_EXIT_USAGE);
	ASSERT_STR_CONTAINS(err, "multiple of 512");
	ASSERT_EQ(PARSE("--socket-path=s", "--malloc=0"), BLK_EXIT_USAGE);
	ASSERT_EQ(PARSE("--socket-path=s", "--malloc=1536", "--blk-size=1024"), BLK_EXIT_USAGE);
	ASSERT_STR_CONTAINS(err, "--blk-size=1024");
	ASSERT_EQ(PARSE("--socket-path=s", "--blk-file="), BLK_EXIT_USAGE);
	ASSERT_STR_CONTAINS(err, "--blk-file");
}

TEST(socket_path_is_required_and_bounded)
{
	char longpath[200];

	ASSERT_EQ(PARSE("--null=1M"), BLK_EXIT_USAGE);
	ASSERT_STR_CONTAINS(err, "--socket-path");
	memset(longpath, 'a', sizeof(longpath));
	memcpy(longpath, "--socket-path=", 14);
	longpath[sizeof(longpath) - 1] = '\0';
	ASSERT_EQ(PARSE(longpath, "--null=1M"), BLK_EXIT_USAGE);
	ASSERT_STR_CONTAINS(err, "107 bytes");
}

TEST(missing_value_and_stray_arguments_are_refused)
{
	ASSERT_EQ(PARSE("--null=1M", "--socket-path"), BLK_EXIT_USAGE);
	ASSERT_STR_CONTAINS(err, "needs a value");
	ASSERT_EQ(PARSE("--socket-path=s", "--null=1M", "extra"), BLK_EXIT_USAGE);
	ASSERT_STR_CONTAINS(err, "'extra'");
}

TEST(print_capabilities_and_help_need_nothing_else)
{
	ASSERT_EQ(PARSE("--print-capabilities"), BLK_EXIT_OK);
	ASSERT_TRUE(p.print_capabilities);
	ASSERT_EQ(PARSE("--help"), BLK_EXIT_OK);
	ASSERT_TRUE(help);
}
