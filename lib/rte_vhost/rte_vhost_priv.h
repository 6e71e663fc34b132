/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * librte_vhost.so.23 on vhu: what the library's files share.
 *
 * A DPDK "vid" names one registered socket path here (DPDK gives one per
 * connection; an application cannot tell: it learns the vid from new_device
 * and the path from rte_vhost_get_ifname). Every call looks the vid up and
 * checks it, its queue index and its pointers, and returns DPDK's error
 * value with one log line when they are wrong.
 */
#ifndef RTE_VHOST_PRIV_H
#define RTE_VHOST_PRIV_H

#include <stdint.h>

#include <rte_log.h>

extern int rv_logtype;

#define RV_LOG(level, ...) rte_log(RTE_LOG_##level, rv_logtype, "VHOST_CONFIG: vhu: " __VA_ARGS__)

/* Log, once per call site and process, that 'call' is refused and why. */
#define RV_REFUSE(call, why) \
	do { \
		static int rv_said_; \
		if (!__atomic_exchange_n(&rv_said_, 1, __ATOMIC_RELAXED)) \
			RV_LOG(ERR, "%s: not supported by vhu's backend (%s)\n", (call), (why)); \
	} while (0)

/* The same, in the refused call itself, which it names. */
#define RV_REFUSED(why) RV_REFUSE(__func__, (why))

struct rv_dev;

/* The registered device of 'vid' with a live backend (started), or NULL
 * after one log line naming 'call'. */
struct rv_dev *rv_lookup(int vid, const char *call);

#endif /* RTE_VHOST_PRIV_H */
