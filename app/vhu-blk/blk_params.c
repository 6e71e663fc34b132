/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-blk's command line (blk_params.h). Every refusal names the option,
 * the value and what would be accepted.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "blk_params.h"

#define DEFAULT_IODEPTH 128
#define MAX_IODEPTH 4096
#define MAX_STATS_PERIOD 86400

enum {
	OPT_SOCKET_PATH = 256,
	OPT_CLIENT,
	OPT_BLK_FILE,
	OPT_NULL,
	OPT_MALLOC,
	OPT_READ_ONLY,
	OPT_QUEUES,
	OPT_BLK_SIZE,
	OPT_SERIAL,
	OPT_WRITE_CACHE,
	OPT_IODEPTH,
	OPT_STATS_PERIOD,
	OPT_PRINT_CAPABILITIES,
};

static const struct option blk_options[] = {
	{"socket-path", required_argument, NULL, OPT_SOCKET_PATH},
	{"client", no_argument, NULL, OPT_CLIENT},
	{"blk-file", required_argument, NULL, OPT_BLK_FILE},
	{"null", required_argument, NULL, OPT_NULL},
	{"malloc", required_argument, NULL, OPT_MALLOC},
	{"read-only", no_argument, NULL, OPT_READ_ONLY},
	{"queues", required_argument, NULL, OPT_QUEUES},
	{"blk-size", required_argument, NULL, OPT_BLK_SIZE},
	{"serial", required_argument, NULL, OPT_SERIAL},
	{"write-cache", required_argument, NULL, OPT_WRITE_CACHE},
	{"iodepth", required_argument, NULL, OPT_IODEPTH},
	{"stats-period", required_argument, NULL, OPT_STATS_PERIOD},
	{"print-capabilities", no_argument, NULL, OPT_PRINT_CAPABILITIES},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

void
blk_params_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [EAL options] -- --socket-path=PATH\n"
		"           (--blk-file=IMAGE | --null=SIZE | --malloc=SIZE) [options]\n"
		"\n"
		"Serve a virtio-blk device over vhost-user on PATH (QEMU: -device\n"
		"vhost-user-blk-pci,chardev=...), polling its request queues on the EAL lcores\n"
		"other than the main one (on the main lcore when it is the only one), until\n"
		"SIGINT or SIGTERM; then print per-queue statistics. Telemetry: /vhu-blk/info,\n"
		"/vhu-blk/stats.\n"
		"\n"
		"Storage (exactly one):\n"
		"  --blk-file=IMAGE      an image file or block device, through io_uring\n"
		"                        (O_DIRECT where the file system allows it)\n"
		"  --null=SIZE           no storage: every request succeeds at once (benchmarks)\n"
		"  --malloc=SIZE         a RAM disk, zero at start\n"
		"                        SIZE: bytes, or with K, M, G, T (powers of 1024)\n"
		"\n"
		"Options:\n"
		"  --socket-path=PATH    the vhost-user UNIX socket (required)\n"
		"  --client              connect to PATH (and reconnect) instead of listening\n"
		"  --read-only           offer a read-only device; writes fail\n"
		"  --queues=N            request queues offered, 1..%u (default 1)\n"
		"  --blk-size=N          logical block size, a power of 2 from 512 to 65536\n"
		"                        (default 512)\n"
		"  --serial=ID           device id the guest reads (at most 20 bytes; default\n"
		"                        from the image name)\n"
		"  --write-cache=on|off  start in write-back (on, default) or write-through mode;\n"
		"                        the guest may change it (VIRTIO_BLK_F_CONFIG_WCE)\n"
		"  --iodepth=N           kernel operations each queue may have out, 1..%u\n"
		"                        (default %u)\n"
		"  --stats-period=SEC    print per-queue statistics every SEC seconds (0: only at\n"
		"                        exit; default 0)\n"
		"  --print-capabilities  print the back-end's capabilities as JSON and exit\n"
		"  -h, --help            this text\n"
		"\n"
		"Exit status: 0 after a signal, 1 on a failure while running, 2 for a bad "
		"option.\n",
		prog, BLK_MAX_QUEUES, MAX_IODEPTH, DEFAULT_IODEPTH);
}

void
blk_print_capabilities(FILE *f)
{
	fprintf(f, "{\n  \"type\": \"blk\",\n  \"features\": [\n    \"blk-file\",\n"
		   "    \"read-only\"\n  ]\n}\n");
}

int
blk_parse_size(const char *s, uint64_t *bytes)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default:
		return -EINVAL;
	}
	if (*end != '\0' || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*bytes = (uint64_t)v << shift;
	return 0;
}

static int
fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return BLK_EXIT_USAGE;
}

/* An unsigned decimal in [min, max]. */
static bool
parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* The default id: the image's file name (its last 20 bytes), or the kind of disk. */
static void
default_serial(struct blk_params *p)
{
	const char *name = p->kind == BDEV_FILE ? strrchr(p->image, '/') : NULL;
	size_t len;

	if (p->kind != BDEV_FILE)
		name = p->kind == BDEV_NULL ? "vhu-blk-null" : "vhu-blk-malloc";
	else
		name = name != NULL ? name + 1 : p->image;
	len = strlen(name);
	if (len > sizeof(p->serial) - 1)
		name += len - (sizeof(p->serial) - 1);
	snprintf(p->serial, sizeof(p->serial), "%s", name);
}

static int
set_storage(struct blk_params *p, int opt, const char *arg, int *nstorage, char *err,
	    size_t err_len)
{
	const char *name = opt == OPT_NULL ? "--null" : "--malloc";

	(*nstorage)++;
	if (opt == OPT_BLK_FILE) {
		if (*arg == '\0')
			return fail(err, err_len, "--blk-file: give the path of an image file or "
				    "block device");
		p->kind = BDEV_FILE;
		p->image = arg;
		return BLK_EXIT_OK;
	}
	p->kind = opt == OPT_NULL ? BDEV_NULL : BDEV_MALLOC;
	if (blk_parse_size(arg, &p->size) != 0 || p->size == 0 ||
	    (p->size & (VIRTIO_BLK_SECTOR_SIZE - 1)) != 0)
		return fail(err, err_len, "%s=%s: give a size that is a non-zero multiple of 512 "
			    "bytes, e.g. %s=1G", name, arg, name);
	return BLK_EXIT_OK;
}

int
blk_params_parse(struct blk_params *p, int argc, char **argv, bool *help, char *err,
		 size_t err_len)
{
	int opt, rc, nstorage = 0;
	unsigned long v;

	memset(p, 0, sizeof(*p));
	p->queues = 1;
	p->blk_size = VIRTIO_BLK_SECTOR_SIZE;
	p->write_cache = true;
	p->iodepth = DEFAULT_IODEPTH;
	*help = false;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", blk_options, NULL)) != -1) {
		switch (opt) {
		case OPT_SOCKET_PATH:
			/* sun_path holds 107 bytes and the NUL. */
			if (*optarg == '\0' || strlen(optarg) > 107)
				return fail(err, err_len, "--socket-path: give a path of 1 to 107 "
					    "bytes (a UNIX socket's limit)");
			p->socket_path = optarg;
			break;
		case OPT_CLIENT:
			p->client = true;
			break;
		case OPT_BLK_FILE:
		case OPT_NULL:
		case OPT_MALLOC:
			rc = set_storage(p, opt, optarg, &nstorage, err, err_len);
			if (rc != BLK_EXIT_OK)
				return rc;
			break;
		case OPT_READ_ONLY:
			p->read_only = true;
			break;
		case OPT_QUEUES:
			if (!parse_uint(optarg, 1, BLK_MAX_QUEUES, &v))
				return fail(err, err_len, "--queues=%s: give a number of request "
					    "queues from 1 to %u", optarg, BLK_MAX_QUEUES);
			p->queues = (uint16_t)v;
			break;
		case OPT_BLK_SIZE:
			if (!parse_uint(optarg, 512, 65536, &v) || (v & (v - 1)) != 0)
				return fail(err, err_len, "--blk-size=%s: give a power of 2 from 512 "
					    "to 65536", optarg);
			p->blk_size = (uint32_t)v;
			break;
		case OPT_SERIAL:
			if (strlen(optarg) > sizeof(p->serial) - 1)
				return fail(err, err_len, "--serial=%s: the id is at most 20 bytes",
					    optarg);
			snprintf(p->serial, sizeof(p->serial), "%s", optarg);
			break;
		case OPT_WRITE_CACHE:
			if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0)
				return fail(err, err_len, "--write-cache=%s: give on or off", optarg);
			p->write_cache = strcmp(optarg, "on") == 0;
			break;
		case OPT_IODEPTH:
			if (!parse_uint(optarg, 1, MAX_IODEPTH, &v))
				return fail(err, err_len, "--iodepth=%s: give a number from 1 to %u",
					    optarg, MAX_IODEPTH);
			p->iodepth = (uint32_t)v;
			break;
		case OPT_STATS_PERIOD:
			if (!parse_uint(optarg, 0, MAX_STATS_PERIOD, &v))
				return fail(err, err_len, "--stats-period=%s: give seconds from 0 to "
					    "%u", optarg, MAX_STATS_PERIOD);
			p->stats_period = (unsigned int)v;
			break;
		case OPT_PRINT_CAPABILITIES:
			p->print_capabilities = true;
			break;
		case 'h':
			*help = true;
			return BLK_EXIT_OK;
		case ':':
			return fail(err, err_len, "%s needs a value (see --help)",
				    argv[optind - 1]);
		default:
			return fail(err, err_len, "unknown option %s (see --help)",
				    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail(err, err_len, "unexpected argument '%s' (options take the form "
			    "--name=value; see --help)", argv[optind]);
	if (p->print_capabilities)
		return BLK_EXIT_OK;
	if (p->socket_path == NULL)
		return fail(err, err_len, "no --socket-path: give the vhost-user socket to serve");
	if (nstorage != 1)
		return fail(err, err_len, nstorage == 0 ?
			    "no storage: give one of --blk-file=IMAGE, --null=SIZE, --malloc=SIZE" :
			    "more than one of --blk-file, --null, --malloc: give exactly one");
	if (p->kind != BDEV_FILE && (p->size & (p->blk_size - 1)) != 0)
		return fail(err, err_len, "the disk size (%" PRIu64 " bytes) is not a multiple of "
			    "--blk-size=%u", p->size, p->blk_size);
	if (p->serial[0] == '\0')
		default_serial(p);
	return BLK_EXIT_OK;
}
