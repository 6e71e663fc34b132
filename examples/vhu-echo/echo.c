/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-echo: the smallest useful program over libvhu. It serves one
 * vhost-user net device and sends every packet the guest transmits back to
 * the guest, on the same queue pair, unchanged.
 *
 *     vhu-echo [EAL options] -- --socket PATH [--queues N] [--client]
 *
 * It is built against the installed library only:
 *
 *     cc -O2 -o vhu-echo echo.c $(pkg-config --cflags --libs libvhu)
 *
 * SIGINT or SIGTERM stops it; it destroys the device and exits 0.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include <vhu_vhost.h>

#define BURST 32

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [EAL options] -- --socket PATH [--queues N] [--client]\n",
		prog);
}

/* Guest TX of pair 'qp' back into its RX; returns how many packets moved. */
static unsigned int
echo_pair(struct vhu_vhost_dev *dev, uint16_t qp, struct rte_mempool *mp)
{
	struct rte_mbuf *pkts[BURST];
	uint16_t n, sent;

	n = vhu_vhost_dequeue_burst(dev, qp, mp, pkts, BURST);
	if (n == 0) {
		vhu_vhost_enqueue_flush(dev, qp);
		return 0;
	}
	sent = 0;
	/* The guest's receive ring may be full for a moment: retry while it
	 * drains, but never past a stop request. */
	while (sent < n && !quit)
		sent += vhu_vhost_enqueue_burst(dev, qp, pkts + sent, n - sent);
	/* The backend copies: every mbuf is still ours. */
	rte_pktmbuf_free_bulk(pkts, n);
	return n;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "queues", required_argument, NULL, 'q' },
		{ "client", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct vhu_vhost_config cfg = { .queue_pairs = 1 };
	struct rte_mempool *mp;
	struct vhu_vhost_dev *dev;
	unsigned long echoed = 0;
	int n, opt;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "vhu-echo: cannot initialise DPDK: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			cfg.path = optarg;
			break;
		case 'q':
			cfg.queue_pairs = (uint16_t)strtoul(optarg, NULL, 0);
			break;
		case 'c':
			cfg.flags |= VHU_VHOST_CLIENT;
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (cfg.path == NULL) {
		usage(argv[0]);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	mp = rte_pktmbuf_pool_create("echo", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     rte_socket_id());
	if (mp == NULL) {
		fprintf(stderr, "vhu-echo: cannot make the mbuf pool: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	dev = vhu_vhost_create(&cfg);
	if (dev == NULL) {
		fprintf(stderr, "vhu-echo: cannot serve %s: %s\n", cfg.path,
			rte_strerror(rte_errno));
		return 1;
	}
	printf("vhu-echo: serving %s with %u queue pair(s)\n", cfg.path, cfg.queue_pairs);
	fflush(stdout);
	while (!quit) {
		unsigned int moved = 0;
		uint16_t qp;

		for (qp = 0; qp < cfg.queue_pairs; qp++)
			moved += echo_pair(dev, qp, mp);
		echoed += moved;
		if (moved == 0)
			rte_pause();
	}
	vhu_vhost_destroy(dev);
	printf("vhu-echo: echoed %lu packets\n", echoed);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
