/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-blkgen: a load generator for any vhost-user-blk backend, built on
 * vhu's virtio-blk front-end driver (vhu_virtio_blk.h). One polling lcore
 * drives every queue; latencies go into vhu-blk's histogram (blk_stats.h).
 */
#ifndef VHU_BLKGEN_H
#define VHU_BLKGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLKGEN_EXIT_OK	    0
#define BLKGEN_EXIT_FAILURE 1 /* the run failed: the backend misbehaved or I/O failed */
#define BLKGEN_EXIT_USAGE   2 /* a bad option */

#define BLKGEN_MAX_QUEUES 16
#define BLKGEN_MAX_DEPTH  1024
#define BLKGEN_MAX_BS	  (1u << 20)

enum blkgen_rw {
	BLKGEN_READ,	  /* sequential reads */
	BLKGEN_WRITE,	  /* sequential writes */
	BLKGEN_RANDREAD,  /* random reads */
	BLKGEN_RANDWRITE, /* random writes */
	BLKGEN_RANDRW,	  /* random, each request a read or a write by --rwmix-read */
};

struct blkgen_params {
	const char *socket_path; /* --socket-path: the backend's socket */
	enum blkgen_rw rw;	 /* --rw */
	uint32_t bs;		 /* --bs: bytes a request, a multiple of 512 */
	uint32_t iodepth;	 /* --iodepth: requests in flight per queue */
	uint16_t queues;	 /* --queues */
	uint16_t queue_size;	 /* --queue-size: ring entries */
	double runtime;		 /* --runtime: seconds (0: until --ios) */
	uint64_t ios;		 /* --ios: requests in all (0: until --runtime) */
	uint64_t size;		 /* --size: bytes of the device used from offset 0 (0: all) */
	unsigned int rwmix_read; /* --rwmix-read: percent reads for randrw */
	bool verify;		 /* --verify: pattern writes, read back, every byte checked */
	bool expect_zeroes;	 /* --expect-zeroes: every read returns zeroes */
	bool packed;		 /* --packed: ask for packed rings */
	bool indirect;		 /* --indirect=0|1: ask for indirect descriptors */
	uint64_t seed;		 /* --seed: random offsets */
	const char *json_path;	 /* --json=FILE: write the JSON result there too */
	bool quiet;		 /* --quiet: only the JSON line */
};

/*
 * Parse the application's argv (after EAL's, argv[0] the program) into 'p'.
 * BLKGEN_EXIT_OK, or BLKGEN_EXIT_USAGE with a message naming the option in
 * 'err'. -h/--help sets *help.
 */
int blkgen_params_parse(struct blkgen_params *p, int argc, char **argv, bool *help, char *err,
			size_t err_len);
void blkgen_usage(const char *prog);
const char *blkgen_rw_name(enum blkgen_rw rw);

/* ---- the verification pattern (blkgen_verify.c) ---- */

/* Each 512-byte sector of a written block starts with this header; the rest
 * is a sequence derived from it, so every byte depends on offset and generation. */
#define BLKGEN_MAGIC UINT64_C(0x6e65676b6c627568) /* "vhublkgen" */
struct blkgen_sector_hdr {
	uint64_t magic;	 /* BLKGEN_MAGIC */
	uint64_t offset; /* byte offset of this sector on the device */
	uint64_t gen;	 /* generation: how many times the block was written */
};

/* Fill 'len' bytes (a multiple of 512) for device offset 'offset', generation 'gen'. */
void blkgen_pattern_fill(uint8_t *buf, uint32_t len, uint64_t offset, uint64_t gen);
/*
 * Check 'len' bytes read at 'offset' against generation 'gen'. 0 when every
 * byte matches; else -1 with 'why' saying which byte differs and what the
 * sector's header claims (a stale generation, a misplaced block, garbage).
 */
int blkgen_pattern_check(const uint8_t *buf, uint32_t len, uint64_t offset, uint64_t gen, char *why,
			 size_t why_len);
/* 0 when every byte is zero, else -1 with the first nonzero byte in 'why'. */
int blkgen_zero_check(const uint8_t *buf, uint32_t len, uint64_t offset, char *why, size_t why_len);

#endif /* VHU_BLKGEN_H */
