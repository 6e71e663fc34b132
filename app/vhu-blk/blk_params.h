/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-blk's command line (what follows "--"), with the names vhost-user's
 * "back-end program conventions" give (--socket-path, --blk-file,
 * --read-only, --print-capabilities). Parsed before EAL starts, so a typo
 * costs no hugepage set-up.
 */
#ifndef VHU_BLK_PARAMS_H
#define VHU_BLK_PARAMS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bdev.h"

/* Most request queues a device offers (virtio-blk MQ). */
#define BLK_MAX_QUEUES 16
/* Exit codes: as vhu-pmd's. */
#define BLK_EXIT_OK 0
#define BLK_EXIT_FAILURE 1
#define BLK_EXIT_USAGE 2

struct blk_params {
	const char *socket_path;	/* --socket-path */
	bool client;			/* --client: connect (and reconnect) instead of listening */
	enum bdev_kind kind;		/* from --blk-file, --null or --malloc */
	const char *image;		/* --blk-file */
	uint64_t size;			/* --null, --malloc: bytes */
	bool read_only;			/* --read-only */
	uint16_t queues;		/* --queues: request queues offered, 1..BLK_MAX_QUEUES */
	uint32_t blk_size;		/* --blk-size: logical block size, 512..65536, power of 2 */
	char serial[21];		/* --serial: what GET_ID answers (at most 20 bytes) */
	bool write_cache;		/* --write-cache=on|off: start in write-back mode */
	uint32_t iodepth;		/* --iodepth: kernel operations each queue may have out */
	unsigned int stats_period;	/* --stats-period: seconds between statistics, 0 none */
	bool print_capabilities;	/* --print-capabilities: print JSON and exit */
};

/*
 * Parse argv (the application's part, argv[0] being the program name) into
 * 'p'. Returns BLK_EXIT_OK, or BLK_EXIT_USAGE with a message naming the
 * option and what to do in 'err'. -h/--help sets *help and returns OK.
 */
int blk_params_parse(struct blk_params *p, int argc, char **argv, bool *help, char *err,
		     size_t err_len);

/* Print the usage text. */
void blk_params_usage(FILE *f, const char *prog);

/* Print --print-capabilities' JSON object (the conventions' format). */
void blk_print_capabilities(FILE *f);

/* Parse "512", "64K", "1M", "20G", "1T" (powers of 1024) into bytes; 0 or -EINVAL. */
int blk_parse_size(const char *s, uint64_t *bytes);

#endif /* VHU_BLK_PARAMS_H */
