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
struct vhu_vhost_dev;
struct vhu_vhost_vq_info;
struct rte_vhost_inflight_info_split;
struct rte_vhost_inflight_info_packed;
struct vring_packed_desc;

/* The registered device of 'vid' with a live backend (started), or NULL
 * after one log line naming 'call'. */
struct rv_dev *rv_lookup(int vid, const char *call);

/*
 * rv_lookup(), and 'qid' checked to be one of its virtqueues: a guest RX
 * queue (parity 0), TX queue (1) or either (-1); then its state in 'q'
 * unless q is NULL. 0, or -1 after one log line.
 */
int rv_vq(int vid, uint16_t qid, int parity, const char *call, struct rv_dev **dp,
	  struct vhu_vhost_vq_info *q);

/* The libvhu device of a started 'd'. */
struct vhu_vhost_dev *rv_vdev(const struct rv_dev *d);

/* The next fetch-order number for an inflight entry the application sets. */
uint64_t rv_inflight_next(struct rv_dev *d);

/*
 * rte_vhost_inflight.c: DPDK's inflight calls on a ring's record 'r' of a
 * 'size'-entry ring, checked against the record's own indexes, which the
 * front-end can write: 0, or -1 when an index is out of range.
 */
int rv_inflight_set_split(struct rte_vhost_inflight_info_split *r, uint16_t size, uint16_t idx,
			  uint64_t counter);
int rv_inflight_clr_split(struct rte_vhost_inflight_info_split *r, uint16_t size,
			  uint16_t last_used_idx, uint16_t idx);
int rv_inflight_last_split(struct rte_vhost_inflight_info_split *r, uint16_t size, uint16_t idx);
/* Record the chain of ring slots head..last of 'desc' in flight; *entry gets its record entry. */
int rv_inflight_set_packed(struct rte_vhost_inflight_info_packed *r,
			   const struct vring_packed_desc *desc, uint16_t size, uint16_t head,
			   uint16_t last, uint64_t counter, uint16_t *entry);
int rv_inflight_clr_packed(struct rte_vhost_inflight_info_packed *r, uint16_t size, uint16_t head);
int rv_inflight_last_packed(struct rte_vhost_inflight_info_packed *r, uint16_t size, uint16_t head);

#endif /* RTE_VHOST_PRIV_H */
