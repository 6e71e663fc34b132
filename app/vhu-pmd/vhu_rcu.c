/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "vhu_rcu.h"

struct rte_rcu_qsbr *vhu_rcu;

int
vhu_rcu_init(void)
{
	struct rte_rcu_qsbr *v;
	size_t sz;

	if (__atomic_load_n(&vhu_rcu, __ATOMIC_ACQUIRE) != NULL)
		return 0;
	sz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);
	v = rte_zmalloc("vhu_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (v == NULL)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(v, RTE_MAX_LCORE) != 0) {
		rte_free(v);
		return -EINVAL;
	}
	/* Pairs with the acquire above: a second caller sees an initialised variable. */
	__atomic_store_n(&vhu_rcu, v, __ATOMIC_RELEASE);
	return 0;
}

int
vhu_lcore_register(unsigned int id)
{
	int rc = vhu_rcu_init();

	if (rc != 0)
		return rc;
	if (id >= RTE_MAX_LCORE)
		return -EINVAL;
	return rte_rcu_qsbr_thread_register(vhu_rcu, id) == 0 ? 0 : -rte_errno;
}

void
vhu_lcore_unregister(unsigned int id)
{
	if (vhu_rcu != NULL && id < RTE_MAX_LCORE)
		rte_rcu_qsbr_thread_unregister(vhu_rcu, id);
}

void
vhu_rcu_synchronize(void)
{
	if (vhu_rcu != NULL)
		rte_rcu_qsbr_synchronize(vhu_rcu, RTE_QSBR_THRID_INVALID);
}
