/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the vhost-user port driver offers beyond the port interface: the
 * backend device behind a port, for status displays (vhu-pmd's "show vhost",
 * its telemetry).
 */
#ifndef VHU_VHOST_USER_PORT_H
#define VHU_VHOST_USER_PORT_H

#include "vhu_port.h"
#include "vhu_vhost.h"

/*
 * The backend device of a vhost-user port, or NULL when 'port' is NULL or
 * another driver's. Valid until the port is detached. Control thread.
 */
struct vhu_vhost_dev *vhu_vhost_user_port_dev(const struct vhu_port *port);

/*
 * The TSC cycles spent inside a port's calls into the backend, one direction,
 * all queues, since the port was made (its device string has burst-cycles=1).
 * The application's mbuf work around the calls is not in them. No burst of
 * frames up to 1518 B takes 50 us (32 of them take a few): a longer call was
 * preempted, and is counted apart so that another process's time stays out
 * of the figure. (A burst of 64 KB TSO frames or long mergeable chains can
 * take longer and is then counted as stalled too: the figure is meant for
 * frames up to 1518 B; vhost_vs_dpdk.py warns when many calls are stalled.)
 */
struct vhu_vhost_user_burst_cycles {
	uint64_t cycles;       /* inside calls that moved at least one packet */
	uint64_t packets;      /* packets those calls moved */
	uint64_t calls;	       /* calls that moved at least one packet */
	uint64_t empty_calls;  /* calls that moved none (no room, or nothing to receive) */
	uint64_t empty_cycles; /* inside those */
	/* Calls longer than VHU_VHOST_USER_STALL_PER_SEC's limit, in none of the
	 * above: the thread was preempted or interrupted inside them. */
	uint64_t stalled_calls;
	uint64_t stalled_packets; /* packets those moved */
	uint64_t stalled_cycles;  /* inside those */
};

/* A call longer than 1 / this of a second (50 us) is counted as stalled. */
#define VHU_VHOST_USER_STALL_PER_SEC 20000

/*
 * Fills enq (vhu_vhost_enqueue_burst: host to guest) and deq
 * (vhu_vhost_dequeue_burst: guest to host). Returns 0, -EINVAL when 'port' is
 * NULL or another driver's (or enq or deq is NULL), -ENOTSUP when the port
 * does not count (burst-cycles=0). Any thread; exact once the bursts stopped.
 */
int vhu_vhost_user_port_burst_cycles(const struct vhu_port *port,
				     struct vhu_vhost_user_burst_cycles *enq,
				     struct vhu_vhost_user_burst_cycles *deq);

#endif /* VHU_VHOST_USER_PORT_H */
