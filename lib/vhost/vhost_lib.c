/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu.h: setting the library up and the application-run control loop. The
 * loop itself is lib/common's (vhu_ctrl.c), shared with the frontend; this
 * adds the library's part, delivering lifecycle events after each round.
 */
#include <errno.h>

#include "vhu.h"
#include "vhost_private.h"

int
vhu_init(const struct vhu_init_params *params)
{
	struct vhu_ctrl_app_loop app;
	int rc;

	if (params != NULL && params->watch != NULL &&
	    (params->watch->add == NULL || params->watch->del == NULL)) {
		VHU_LOG(ERR, "vhu_init: the watch callbacks need both add and del");
		return -EINVAL;
	}
	vhu_ctrl_set_after(vhu_events_deliver);
	if (params == NULL || params->watch == NULL)
		return vhu_ctrl_init(NULL);
	app.add = params->watch->add;
	app.del = params->watch->del;
	app.ctx = params->watch->ctx;
	rc = vhu_ctrl_init(&app);
	if (rc == -EALREADY)
		VHU_LOG(ERR, "vhu_init: the control loop runs already (vhu_init() was called, or "
			     "a device was created before it); call vhu_init() first");
	return rc;
}

int
vhu_fini(void)
{
	return vhu_ctrl_fini();
}

int
vhu_dispatch(int fd)
{
	return vhu_ctrl_dispatch(fd);
}
