/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL for the unit tests that need mbufs: started once per process on first
 * use, without hugepages, PCI or shared files, on one CPU the process may use,
 * with EAL's logs on stderr so that stdout stays TAP.
 */
#ifndef VHU_TEST_UNIT_EAL_H
#define VHU_TEST_UNIT_EAL_H

#include <pthread.h>
#include <stdbool.h>

#include <rte_mempool.h>

/* Data room of the pool's mbufs (past the headroom). */
#define UNIT_POOL_DATA_ROOM 2048

/*
 * The process's mbuf pool of 'n' mbufs without a per-lcore cache (so its free
 * count is exact), made on the first call; later calls return it whatever
 * 'n'. Fails the running test if EAL or the pool cannot be set up.
 */
struct rte_mempool *unit_pool(unsigned int n);

/*
 * Start thread 'fn(arg)' as a racing guest: on the CPUs the process had
 * before EAL pinned it to one (a thread would inherit that one CPU and never
 * run while the test thread does), less EAL's. False, starting nothing, if
 * there is no other CPU. Call after unit_pool().
 */
bool unit_thread_elsewhere(pthread_t *th, void *(*fn)(void *), void *arg);

#endif /* VHU_TEST_UNIT_EAL_H */
