/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the fuzz targets: EAL and an mbuf pool, a device built the way
 * vhu_vhost_create() builds one but without a socket, guest memory between
 * PROT_NONE guard pages, and the oracles that turn a silent fault into a
 * crash the fuzzer reports: fds, mbufs and mappings must come back to where
 * they were after every input, and a running ring must point into its
 * memory. The targets are libFuzzer entry points; replay.c runs them from a
 * corpus without libFuzzer.
 */
#ifndef VHU_FUZZ_COMMON_H
#define VHU_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <rte_mempool.h>

#include "vhost_private.h"
#include "vhost_net.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort with a message: the fuzzer saves the input that got here. */
#define FZ_CHECK(cond, ...) \
	do { \
		if (!(cond)) \
			fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)
void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), noreturn));

/* Start EAL (no hugepages, logs off) and make the pool; idempotent. */
void fz_eal_init(void);
extern struct rte_mempool *fz_pool;

/* A net device of 'queue_pairs' pairs and VHU_VHOST_* 'flags', as vhu_vhost_create() makes it. */
struct vhu_vhost_dev *fz_dev_new(uint16_t queue_pairs, uint32_t flags, uint16_t mtu);
/* Reset (closing its fds, unmapping its memory) and free. */
void fz_dev_free(struct vhu_vhost_dev *dev);

/* Open fds of the process. */
int fz_count_fds(void);
/* List them on stderr with what they are, to explain a failed fd oracle. */
void fz_dump_fds(void);
/* memfd mappings of the process (guest memory, logs, inflight buffers). */
int fz_count_memfd_maps(void);

/*
 * Every running ring of 'dev' must point into the memory it was started
 * with (or through the IOTLB, into guest memory), naturally aligned, have a
 * size its layout allows, and its inflight record (if any) must lie inside
 * the buffer.
 */
void fz_check_rings(const struct vhu_vhost_dev *dev);

/* Anonymous memory of 'len' bytes (a page multiple) between two guard pages. */
uint8_t *fz_guarded_alloc(size_t len);
void fz_guarded_free(uint8_t *p, size_t len);

#endif /* VHU_FUZZ_COMMON_H */
