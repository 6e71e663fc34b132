/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-blk's state, shared by its main loop (main.c), its queue pollers
 * (poll.c) and its telemetry commands (telemetry.c).
 *
 * Ownership: each request queue's context belongs to the lcore that polls
 * it; the main lcore reads its statistics with relaxed loads (blk_stats.h).
 * Everything else is set before the pollers start and read-only after,
 * except 'quit' (atomic).
 */
#ifndef VHU_BLK_APP_H
#define VHU_BLK_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "bdev.h"
#include "blk_params.h"
#include "blk_stats.h"
#include "vhu_blk.h"

/* Requests one poll takes from a queue at most. */
#define BLK_BURST 32

/* One request queue, owned by its polling lcore. */
struct blk_queue {
	uint16_t id;				     /* request queue index */
	struct bdev_queue bq;			     /* the backend's submission context */
	struct bdev_io io[VHU_BLK_WINDOW];	     /* by request index */
	struct vhu_blk_request *req[VHU_BLK_WINDOW]; /* the request of each io */
	uint64_t start_tsc[VHU_BLK_WINDOW];	     /* when each was taken */
	/* Requests taken but not yet submitted for want of backend room. */
	struct vhu_blk_request *backlog[VHU_BLK_WINDOW];
	uint32_t backlog_head, backlog_n;
	/* Requests done in this poll and their status, handed to the device together. */
	struct vhu_blk_request *done[VHU_BLK_WINDOW];
	uint8_t done_status[VHU_BLK_WINDOW];
	uint32_t ndone;
	struct blk_queue_stats stats; /* written by the poller only */
};

/* One polling lcore and the queues it owns. */
struct blk_poller {
	unsigned int lcore;
	uint16_t nq;
	uint16_t q[BLK_MAX_QUEUES];
};

struct blk_app {
	struct blk_params p;
	struct bdev bdev;
	struct vhu_vhost_dev *dev;
	struct blk_queue *queues[BLK_MAX_QUEUES];
	struct blk_poller pollers[RTE_MAX_LCORE];
	unsigned int npollers;
	bool main_polls; /* no worker lcores: the main lcore polls as well */
	uint64_t tsc_hz;
	uint64_t tsc_ns_scale;	 /* blk_tsc_ns_scale(tsc_hz), for latencies */
	uint64_t start_tsc;	 /* when serving started, for rates */
	uint64_t announced_size; /* the image size the device was last given */
	bool quit;		 /* SIGINT or SIGTERM (atomic) */
};

/* Poll every queue of 'pl' once: reap, take, submit, return. Returns work done. */
uint32_t blk_poll_once(struct blk_app *a, const struct blk_poller *pl, bool draining);
/* Set up and tear down a queue's context (main lcore, before and after polling). */
int blk_queue_init(struct blk_app *a, uint16_t q);
void blk_queue_fini(struct blk_app *a, uint16_t q);
/* Sum of every queue's statistics, snapshotted. */
void blk_stats_total(const struct blk_app *a, struct blk_queue_stats *out);

/* Telemetry commands /vhu-blk/... (telemetry.c). */
int blk_telemetry_init(struct blk_app *a);
void blk_telemetry_fini(void);

#endif /* VHU_BLK_APP_H */
