/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-blkgen's command line (what follows "--"), checked before EAL starts
 * so that a typo costs no memory set-up. Every refusal names the option and
 * says what it takes.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "blk_params.h"
#include "blkgen.h"

static const char *const rw_names[] = {
	[BLKGEN_READ] = "read",		[BLKGEN_WRITE] = "write",
	[BLKGEN_RANDREAD] = "randread", [BLKGEN_RANDWRITE] = "randwrite",
	[BLKGEN_RANDRW] = "randrw",
};

const char *
blkgen_rw_name(enum blkgen_rw rw)
{
	return rw_names[rw];
}

void
blkgen_usage(const char *prog)
{
	printf("Usage: %s [EAL options] -- --socket-path=PATH [options]\n"
	       "\n"
	       "Drives a vhost-user-blk backend (vhu-blk, qemu-storage-daemon, SPDK) over its\n"
	       "socket as a VMM's guest would, from one polling lcore, and reports IOPS,\n"
	       "MB/s and latency percentiles as a line and as JSON.\n"
	       "\n"
	       "  --socket-path=PATH   the backend's socket (required)\n"
	       "  --rw=MODE            read, write, randread (default), randwrite, randrw\n"
	       "  --rwmix-read=PCT     percent reads for randrw (default 50)\n"
	       "  --bs=SIZE            bytes a request, a multiple of 512 (default 4K; K, M)\n"
	       "  --iodepth=N          requests in flight per queue, 1..%u (default 1)\n"
	       "  --queues=N           request queues, 1..%u (default 1)\n"
	       "  --queue-size=N       ring entries, a power of two (default 256)\n"
	       "  --runtime=SECONDS    how long to run (default 10 unless --ios is given)\n"
	       "  --ios=N              requests in all; with --runtime, whichever ends first\n"
	       "  --size=SIZE          use the first SIZE bytes of the device (default all)\n"
	       "  --verify             write a pattern (offset and generation in every\n"
	       "                       512-byte sector), read it back, check every byte;\n"
	       "                       read modes write the area first\n"
	       "  --expect-zeroes      every read must return zeroes (qemu's null-co with\n"
	       "                       read-zeroes=on, a fresh image)\n"
	       "  --packed             ask for packed rings (split when not offered)\n"
	       "  --indirect=0|1       ask for indirect descriptors (default 1)\n"
	       "  --seed=N             seed of the random offsets (default 1)\n"
	       "  --json=FILE          also write the JSON result to FILE\n"
	       "  --quiet              print only the JSON line\n"
	       "  -h, --help           this text\n"
	       "\n"
	       "Exit status: 0 success, 1 the run failed (the backend misbehaved, a request\n"
	       "failed, a verification mismatch), 2 a bad option.\n",
	       prog, BLKGEN_MAX_DEPTH, BLKGEN_MAX_QUEUES);
}

enum {
	OPT_SOCKET = 256,
	OPT_RW,
	OPT_RWMIX,
	OPT_BS,
	OPT_IODEPTH,
	OPT_QUEUES,
	OPT_QUEUE_SIZE,
	OPT_RUNTIME,
	OPT_IOS,
	OPT_SIZE,
	OPT_VERIFY,
	OPT_ZEROES,
	OPT_PACKED,
	OPT_INDIRECT,
	OPT_SEED,
	OPT_JSON,
	OPT_QUIET,
};

static const struct option long_opts[] = {
	{ "socket-path", required_argument, NULL, OPT_SOCKET },
	{ "rw", required_argument, NULL, OPT_RW },
	{ "rwmix-read", required_argument, NULL, OPT_RWMIX },
	{ "bs", required_argument, NULL, OPT_BS },
	{ "iodepth", required_argument, NULL, OPT_IODEPTH },
	{ "queues", required_argument, NULL, OPT_QUEUES },
	{ "queue-size", required_argument, NULL, OPT_QUEUE_SIZE },
	{ "runtime", required_argument, NULL, OPT_RUNTIME },
	{ "ios", required_argument, NULL, OPT_IOS },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "expect-zeroes", no_argument, NULL, OPT_ZEROES },
	{ "packed", no_argument, NULL, OPT_PACKED },
	{ "indirect", required_argument, NULL, OPT_INDIRECT },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* A whole number in [lo, hi]; 0 or -EINVAL. */
static int
parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s == '\0' || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

#define FAIL(...) \
	do { \
		snprintf(err, err_len, __VA_ARGS__); \
		return BLKGEN_EXIT_USAGE; \
	} while (0)

static int
check(struct blkgen_params *p, bool runtime_given, char *err, size_t err_len)
{
	if (p->socket_path == NULL)
		FAIL("--socket-path is required: the vhost-user-blk backend's socket");
	if (p->verify && p->expect_zeroes)
		FAIL("--verify and --expect-zeroes exclude each other: one checks a written "
		     "pattern, the other that nothing was written");
	if (p->expect_zeroes && p->rw != BLKGEN_READ && p->rw != BLKGEN_RANDREAD)
		FAIL("--expect-zeroes needs --rw=read or --rw=randread: writes would change "
		     "the zeroes");
	if (!runtime_given && p->ios == 0)
		p->runtime = 10;
	if (p->size != 0 && p->size < p->bs)
		FAIL("--size=%" PRIu64 " is smaller than --bs=%u", p->size, p->bs);
	return BLKGEN_EXIT_OK;
}

int
blkgen_params_parse(struct blkgen_params *p, int argc, char **argv, bool *help, char *err,
		    size_t err_len)
{
	bool runtime_given = false;
	uint64_t v;
	char *end;
	int c, i;

	memset(p, 0, sizeof(*p));
	p->rw = BLKGEN_RANDREAD;
	p->bs = 4096;
	p->iodepth = 1;
	p->queues = 1;
	p->queue_size = 256;
	p->rwmix_read = 50;
	p->indirect = true;
	p->seed = 1;
	*help = false;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		const char *a = optarg;

		switch (c) {
		case OPT_SOCKET:
			if (*a == '\0' || strlen(a) >= 108)
				FAIL("--socket-path='%s': give a path of 1 to 107 bytes", a);
			p->socket_path = a;
			break;
		case OPT_RW:
			for (i = 0; i < (int)RTE_DIM(rw_names); i++)
				if (strcmp(a, rw_names[i]) == 0)
					break;
			if (i == (int)RTE_DIM(rw_names))
				FAIL("--rw=%s: use read, write, randread, randwrite or randrw", a);
			p->rw = (enum blkgen_rw)i;
			break;
		case OPT_RWMIX:
			if (parse_u64(a, 0, 100, &v) != 0)
				FAIL("--rwmix-read=%s: give a percentage from 0 to 100", a);
			p->rwmix_read = (unsigned int)v;
			break;
		case OPT_BS:
			if (blk_parse_size(a, &v) != 0 || v == 0 || v % 512 != 0 ||
			    v > BLKGEN_MAX_BS)
				FAIL("--bs=%s: give a multiple of 512 bytes up to 1M (e.g. 4K)", a);
			p->bs = (uint32_t)v;
			break;
		case OPT_IODEPTH:
			if (parse_u64(a, 1, BLKGEN_MAX_DEPTH, &v) != 0)
				FAIL("--iodepth=%s: give 1 to %u requests in flight per queue", a,
				     BLKGEN_MAX_DEPTH);
			p->iodepth = (uint32_t)v;
			break;
		case OPT_QUEUES:
			if (parse_u64(a, 1, BLKGEN_MAX_QUEUES, &v) != 0)
				FAIL("--queues=%s: give 1 to %u request queues", a,
				     BLKGEN_MAX_QUEUES);
			p->queues = (uint16_t)v;
			break;
		case OPT_QUEUE_SIZE:
			if (parse_u64(a, 2, 32768, &v) != 0 || (v & (v - 1)) != 0)
				FAIL("--queue-size=%s: give a power of two from 2 to 32768", a);
			p->queue_size = (uint16_t)v;
			break;
		case OPT_RUNTIME:
			errno = 0;
			p->runtime = strtod(a, &end);
			if (errno != 0 || *end != '\0' || !(p->runtime > 0) || p->runtime > 86400)
				FAIL("--runtime=%s: give seconds, more than 0 and at most 86400",
				     a);
			runtime_given = true;
			break;
		case OPT_IOS:
			if (parse_u64(a, 1, UINT64_MAX, &v) != 0)
				FAIL("--ios=%s: give a positive number of requests", a);
			p->ios = v;
			break;
		case OPT_SIZE:
			if (blk_parse_size(a, &v) != 0 || v == 0 || v % 512 != 0)
				FAIL("--size=%s: give a multiple of 512 bytes (K, M, G, T)", a);
			p->size = v;
			break;
		case OPT_VERIFY:
			p->verify = true;
			break;
		case OPT_ZEROES:
			p->expect_zeroes = true;
			break;
		case OPT_PACKED:
			p->packed = true;
			break;
		case OPT_INDIRECT:
			if (strcmp(a, "0") != 0 && strcmp(a, "1") != 0)
				FAIL("--indirect=%s: give 0 or 1", a);
			p->indirect = a[0] == '1';
			break;
		case OPT_SEED:
			if (parse_u64(a, 0, UINT64_MAX, &v) != 0)
				FAIL("--seed=%s: give a whole number", a);
			p->seed = v;
			break;
		case OPT_JSON:
			if (*a == '\0')
				FAIL("--json needs a file name");
			p->json_path = a;
			break;
		case OPT_QUIET:
			p->quiet = true;
			break;
		case 'h':
			*help = true;
			return BLKGEN_EXIT_OK;
		case ':':
			FAIL("%s needs a value", argv[optind - 1]);
		default:
			FAIL("%s is not an option of vhu-blkgen; see --help",
			     optopt != 0 && optopt < 256 ? "a short option" : argv[optind - 1]);
		}
	}
	if (optind < argc)
		FAIL("'%s' is not an option; options take the form --name=value", argv[optind]);
	return check(p, runtime_given, err, err_len);
}
