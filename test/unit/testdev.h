/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small device type that links the core without any net object, the way
 * Linux's drivers/vhost/test.c is a whole device over vhost_get_vq_desc and
 * vhost_add_used_and_signal: it proves the seam (struct vhu_device_type and
 * the core verbs of virtq_verbs.h) and lets the generic ring suite
 * (test_testdev.c) run over split and packed rings without mbufs.
 *
 * Even rings are sinks: the device reads every buffer the driver posts,
 * adds its bytes to a checksum and returns the chain with length 0. Odd
 * rings are sources: the device fills every buffer with a byte pattern and
 * returns it with its whole length.
 */
#ifndef VHU_TEST_TESTDEV_H
#define VHU_TEST_TESTDEV_H

#include <stdint.h>

#include "vhost_private.h"

struct testdev_config {
	uint16_t queues;   /* rings, 1..VHU_MAX_VQS */
	uint64_t features; /* device feature bits to offer */
	/* The device's state (a copy of the config above it): */
	uint16_t scratch;	   /* config space bytes 2-3, the one writable field */
	uint32_t set_config_calls; /* set_config hook calls: the core's checks come first */
};

/*
 * The test device's config space: TESTDEV_CONFIG_SIZE bytes, the ring count
 * (le16), the writable scratch field (le16), TESTDEV_CONFIG_MAGIC (le32).
 */
#define TESTDEV_CONFIG_SIZE  8
#define TESTDEV_CONFIG_MAGIC 0x74736574u /* "test" */

/* Per-ring state (after struct vhu_vq), written by serve only. */
struct testdev_vq {
	uint64_t chains;  /* chains returned */
	uint64_t bytes;	  /* bytes read (sink) or written (source) */
	uint64_t sum;	  /* sink: sum of every byte read */
	uint64_t batched; /* chains that went through the batched verbs */
	uint8_t fill;	  /* source: the next byte of the pattern */
};

extern const struct vhu_device_type testdev_type;

static inline struct testdev_vq *
testdev_q(struct vhu_vq *vq)
{
	return vhu_vq_priv(vq);
}

/*
 * Serve up to 'max' chains of ring 'q' with the core verbs: begin, pop (the
 * batched form where it applies), take, return, flush. Returns the chains
 * returned; 0 when the ring is not ready, broken, or empty.
 */
uint16_t testdev_serve(struct vhu_vhost_dev *dev, uint16_t q, uint16_t max);

/*
 * testdev_serve() on ring 'q' of a device of any type, counting in 'tq'
 * rather than beside the ring (another type's rings have no room for it):
 * the core verbs know no device type, so the generic ring suite serves
 * every type's rings the test device's way.
 */
uint16_t testdev_serve_into(struct vhu_vhost_dev *dev, uint16_t q, uint16_t max,
			    struct testdev_vq *tq);

/* Called by testdev_serve() inside a burst that found chains, before the
 * first pop (NULL: not called). Tests look at the ring from there. */
extern void (*testdev_burst_hook)(struct vhu_vq *vq);

#endif /* VHU_TEST_TESTDEV_H */
