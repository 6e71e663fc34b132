/* SPDX-License-Identifier: BSD-3-Clause */
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "test_harness.h"
#include "unit_eal.h"

/* The CPUs the process may use, before EAL pinned it, and the one EAL took. */
static cpu_set_t unit_cpus;
static int unit_eal_cpu = -1;

struct rte_mempool *
unit_pool(unsigned int n)
{
	static struct rte_mempool *pool;
	static bool tried;
	static char lcores[32];
	char *argv[] = {
		"vhu-unit", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
		"--no-telemetry", "--log-level=*:error", "-l", lcores, NULL,
	};
	cpu_set_t set;
	int cpu = 0;

	if (!tried) {
		tried = true;
		/* Run on a CPU we are allowed to use, whatever the machine restricts. */
		if (sched_getaffinity(0, sizeof(set), &set) == 0)
			while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &set))
				cpu++;
		else
			CPU_ZERO(&set);
		unit_cpus = set;
		unit_eal_cpu = cpu;
		snprintf(lcores, sizeof(lcores), "%d", cpu);
		if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0)
			th_fail(__FILE__, __LINE__, "rte_eal_init: %s", rte_strerror(rte_errno));
		/* EAL logs to stdout once started; keep stdout for TAP. */
		rte_openlog_stream(stderr);
		pool = rte_pktmbuf_pool_create("vhu_unit", n, 0, 0,
					       UNIT_POOL_DATA_ROOM + RTE_PKTMBUF_HEADROOM,
					       SOCKET_ID_ANY);
	}
	if (pool == NULL)
		th_fail(__FILE__, __LINE__, "no mbuf pool (EAL did not start)");
	return pool;
}

bool
unit_thread_elsewhere(pthread_t *th, void *(*fn)(void *), void *arg)
{
	cpu_set_t others = unit_cpus;
	pthread_attr_t attr;
	int rc;

	if (unit_eal_cpu < 0)
		th_fail(__FILE__, __LINE__, "unit_thread_elsewhere() before unit_pool()");
	CPU_CLR(unit_eal_cpu, &others);
	if (CPU_COUNT(&others) == 0)
		return false;
	if (pthread_attr_init(&attr) != 0 ||
	    pthread_attr_setaffinity_np(&attr, sizeof(others), &others) != 0)
		th_fail(__FILE__, __LINE__, "cannot set a thread's CPUs");
	rc = pthread_create(th, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		th_fail(__FILE__, __LINE__, "pthread_create: %s", strerror(rc));
	return true;
}
