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
#include "vhu_burst_cycles.h"

/*
 * The backend device of a vhost-user port, or NULL when 'port' is NULL or
 * another driver's. Valid until the port is detached. Control thread.
 */
struct vhu_vhost_dev *vhu_vhost_user_port_dev(const struct vhu_port *port);

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
