/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A vhost-user device built by hand for unit tests: the same struct the
 * backend uses, filled the way vhu_vhost_create() would fill it, but from the
 * C heap and with no socket, no control thread and no EAL. Plus counters of
 * process resources, to check that handlers release what they take.
 */
#ifndef VHU_TEST_FAKE_DEV_H
#define VHU_TEST_FAKE_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost_private.h"
#include "vhost_net.h"

/*
 * A net device offering 'queue_pairs' pairs and 'mtu' (0: none), without the
 * IOTLB miss queue (which needs EAL): misses are dropped. Its fields are set
 * as dev_alloc() in vhost_dev.c sets them; keep the two in step. Never NULL.
 */
struct vhu_vhost_dev *fake_dev_new(uint16_t queue_pairs, uint16_t mtu);
/* Reset (closing fds, unmapping memory) and free. */
void fake_dev_free(struct vhu_vhost_dev *dev);

/* A zeroed, cache-aligned ring with no fds, as dev_alloc() makes them. Never NULL. */
struct vhu_vq *fake_vq_new(uint16_t index);

/* Entries in /proc/self/fd (open file descriptors). */
int count_open_fds(void);
/* Mappings of memfd files in /proc/self/maps (guest memory, dirty logs). */
int count_memfd_mappings(void);
/* True if 'fd' is an open file descriptor. */
bool fd_is_open(int fd);

/*
 * Capture what the library logs between start and stop, so a test can check
 * that a refusal gave the reason it was meant to give. stop() returns the
 * text (valid until the next start()), echoes it to stderr and sends logs
 * back to stderr.
 */
void log_capture_start(void);
const char *log_capture_stop(void);

#endif /* VHU_TEST_FAKE_DEV_H */
