/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-pmd's QSBR variable, by which the main lcore learns that forwarding
 * lcores no longer hold a stream table or capture it unpublished (fwd.c,
 * capture.c). It is vhu-pmd's own business: the libraries take their rings
 * back from bursts with their own handoff (lib/common/vhu_handoff.h) and
 * need no registration from the application.
 *
 * A data lcore calls vhu_lcore_register() once, vhu_lcore_online() before
 * it starts polling, vhu_lcore_quiescent() once per loop iteration (outside
 * any burst) and vhu_lcore_offline() when it stops polling. A control thread
 * calls vhu_rcu_synchronize() after unpublishing, before it frees.
 */
#ifndef VHU_RCU_H
#define VHU_RCU_H

#include <rte_lcore.h>
#include <rte_rcu_qsbr.h>

/* The shared variable; created by vhu_rcu_init(). */
extern struct rte_rcu_qsbr *vhu_rcu;

/* Create the QSBR variable (idempotent). Returns 0 or -ENOMEM. */
int vhu_rcu_init(void);

/* Register lcore 'id' as a reader. Returns 0 or a negative errno. */
int vhu_lcore_register(unsigned int id);
/* Unregister lcore 'id'; it must be offline. */
void vhu_lcore_unregister(unsigned int id);

static inline void
vhu_lcore_online(unsigned int id)
{
	rte_rcu_qsbr_thread_online(vhu_rcu, id);
}

static inline void
vhu_lcore_offline(unsigned int id)
{
	rte_rcu_qsbr_thread_offline(vhu_rcu, id);
}

/* Data lcore: "I hold no reference to anything published before now". */
static inline void
vhu_lcore_quiescent(unsigned int id)
{
	rte_rcu_qsbr_quiescent(vhu_rcu, id);
}

/*
 * Control thread: wait until every online reader has passed a quiescent
 * state, so nothing unpublished before this call is still referenced.
 * Must not be called from a registered online lcore (it would wait for itself).
 */
void vhu_rcu_synchronize(void);

#endif /* VHU_RCU_H */
