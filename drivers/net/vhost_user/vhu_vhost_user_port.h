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

#endif /* VHU_VHOST_USER_PORT_H */
