/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rte_ring_app: a DPDK application of its own on the rte_vhost API, linked
 * to vhu's librte_vhost.so.23, the way storage targets use the library
 * rather than through net_vhost: it sends back every packet the front-end
 * sends (queue pair 0) and reports what the ring-level calls say.
 *
 *   rte_ring_app [EAL options] -- SOCKET
 *
 * SOCKET is registered in server mode. On new_device it prints
 *   MEM regions=N bytes=B readable=1
 * from rte_vhost_get_mem_table() (each region's first and last byte read
 * through host_user_addr), and while the device runs, every change of
 *   BASE vq=Q avail=A used=U
 * from rte_vhost_get_vring_base() on virtqueues 0 and 1. It exits 0 on
 * SIGINT or SIGTERM, 1 on an error, printing the counts:
 *   DONE received=R sent=S
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_vhost.h>

#define BURST 32

static volatile sig_atomic_t quit;
static int dev_vid = -1; /* the running device, or -1 (atomic) */
static int in_burst;	 /* the main loop is using dev_vid (atomic) */

static void
on_signal(int sig)
{
	quit = 1;
}

/* Reads every region's first and last byte: the addresses must be mapped. */
static int
report_mem(int vid)
{
	struct rte_vhost_memory *mem = NULL;
	uint64_t bytes = 0;

	if (rte_vhost_get_mem_table(vid, &mem) != 0 || mem == NULL) {
		printf("MEM error: rte_vhost_get_mem_table failed\n");
		return -1;
	}
	for (uint32_t i = 0; i < mem->nregions; i++) {
		const struct rte_vhost_mem_region *r = &mem->regions[i];
		const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)r->host_user_addr;

		if (p == NULL || r->size == 0) {
			printf("MEM error: region %u has address %p and size %" PRIu64 "\n", i,
			       (const void *)p, r->size);
			free(mem);
			return -1;
		}
		/* Volatile reads: a region not mapped here faults. */
		(void)p[0];
		(void)p[r->size - 1];
		bytes += r->size;
	}
	printf("MEM regions=%u bytes=%" PRIu64 " readable=1\n", mem->nregions, bytes);
	free(mem);
	return 0;
}

static int
new_device(int vid)
{
	uint16_t mtu = 0;

	if (report_mem(vid) != 0)
		return -1;
	printf("MTU rc=%d mtu=%u\n", rte_vhost_get_mtu(vid, &mtu), mtu);
	__atomic_store_n(&dev_vid, vid, __ATOMIC_RELEASE);
	return 0;
}

static void
destroy_device(int vid)
{
	/* DPDK's contract: no burst on the device once this returns. The loop
	 * marks itself in a burst before it reads dev_vid (both sequentially
	 * consistent), so after the store, waiting for the mark to clear is
	 * enough. */
	__atomic_store_n(&dev_vid, -1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&in_burst, __ATOMIC_SEQ_CST))
		;
}

static const struct rte_vhost_device_ops ops = {
	.new_device = new_device,
	.destroy_device = destroy_device,
};

/* Prints the bases of virtqueues 0 and 1 when they changed since last time. */
static void
report_bases(int vid, uint16_t last[2][2])
{
	for (uint16_t q = 0; q < 2; q++) {
		uint16_t a, u;

		if (rte_vhost_get_vring_base(vid, q, &a, &u) != 0)
			continue;
		if (a != last[q][0] || u != last[q][1])
			printf("BASE vq=%u avail=%u used=%u\n", q, a, u);
		last[q][0] = a;
		last[q][1] = u;
	}
}

int
main(int argc, char **argv)
{
	uint64_t received = 0, sent = 0, polls = 0;
	struct rte_mbuf *pkts[BURST];
	uint16_t last[2][2] = { { 0, 0 }, { 0, 0 } };
	struct rte_mempool *mp;
	const char *path;
	int n, vid, rc = 1;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "cannot initialise EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (argc - n != 2) {
		fprintf(stderr, "usage: %s [EAL options] -- SOCKET\n", argv[0]);
		goto out;
	}
	path = argv[n + 1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	mp = rte_pktmbuf_pool_create("rte_ring_app", 8192, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     SOCKET_ID_ANY);
	if (mp == NULL) {
		fprintf(stderr, "cannot create a mbuf pool: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	if (rte_vhost_driver_register(path, 0) != 0 ||
	    rte_vhost_driver_callback_register(path, &ops) != 0 ||
	    rte_vhost_driver_start(path) != 0) {
		fprintf(stderr, "cannot serve %s with rte_vhost\n", path);
		goto out;
	}
	while (!quit) {
		uint16_t got, put = 0;

		__atomic_store_n(&in_burst, 1, __ATOMIC_SEQ_CST);
		vid = __atomic_load_n(&dev_vid, __ATOMIC_SEQ_CST);
		if (vid < 0) {
			__atomic_store_n(&in_burst, 0, __ATOMIC_SEQ_CST);
			continue;
		}
		if ((++polls & 0x3ff) == 0)
			report_bases(vid, last);
		got = rte_vhost_dequeue_burst(vid, 1, mp, pkts, BURST);
		received += got;
		/* Every packet goes back; a full guest ring is tried again. */
		for (int tries = 0; put < got && tries < 1000000 && !quit; tries++)
			put += rte_vhost_enqueue_burst(vid, 0, pkts + put, got - put);
		sent += put;
		rte_pktmbuf_free_bulk(pkts, got);
		__atomic_store_n(&in_burst, 0, __ATOMIC_SEQ_CST);
	}
	printf("DONE received=%" PRIu64 " sent=%" PRIu64 "\n", received, sent);
	rc = rte_vhost_driver_unregister(path) == 0 ? 0 : 1;
out:
	rte_eal_cleanup();
	return rc;
}
