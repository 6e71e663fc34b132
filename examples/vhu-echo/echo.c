/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-echo: the smallest useful program over libvhu. It serves one
 * vhost-user net device and sends every packet the guest transmits back to
 * the guest, on the same queue pair, unchanged.
 *
 *     vhu-echo [EAL options] -- --socket PATH [--queues N] [--client] [--app-loop]
 *
 * The library's control thread serves the socket; with --app-loop this
 * program runs the control loop itself instead, polling the fds the library
 * asks it to watch between bursts on its one lcore (vhu_init() with watch
 * callbacks, vhu_dispatch()). Lifecycle callbacks say when to poll.
 *
 * It is built against the installed library only:
 *
 *     cc -O2 -o vhu-echo echo.c $(pkg-config --cflags --libs libvhu)
 *
 * SIGINT or SIGTERM stops it; it destroys the device and exits 0.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include <vhu.h>
#include <vhu_vhost.h>

#define BURST	32
#define MAX_FDS 16

static volatile sig_atomic_t quit;
/* Set by the callbacks: the device is ready, poll its queues. */
static volatile bool running;

/* --app-loop: the fds the library asked us to watch. */
static struct pollfd fds[MAX_FDS];
static unsigned int nfds;

static int
watch_add(void *ctx, int fd)
{
	(void)ctx;
	if (nfds == MAX_FDS)
		return -ENOSPC;
	fds[nfds++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	return 0;
}

static void
watch_del(void *ctx, int fd)
{
	unsigned int i;

	(void)ctx;
	for (i = 0; i < nfds; i++)
		if (fds[i].fd == fd)
			fds[i] = fds[--nfds];
}

/* One round of the control loop, without waiting. */
static void
control_round(void)
{
	struct pollfd ready[MAX_FDS];
	unsigned int i, n = nfds;

	memcpy(ready, fds, sizeof(ready[0]) * n);
	if (poll(ready, n, 0) > 0)
		for (i = 0; i < n; i++)
			if (ready[i].revents != 0)
				vhu_dispatch(ready[i].fd);
	vhu_dispatch(-1);
}

static void
on_ready(void *arg, struct vhu_vhost_dev *dev)
{
	(void)arg;
	printf("vhu-echo: %s: the front-end started the device\n", vhu_vhost_path(dev));
	fflush(stdout);
	running = true;
}

static void
on_stopping(void *arg, struct vhu_vhost_dev *dev)
{
	(void)arg;
	printf("vhu-echo: %s: the device stopped\n", vhu_vhost_path(dev));
	fflush(stdout);
	running = false;
}

static void
on_closed(void *arg, struct vhu_vhost_dev *dev)
{
	(void)arg;
	printf("vhu-echo: %s: the front-end disconnected\n", vhu_vhost_path(dev));
	fflush(stdout);
}

static const struct vhu_vhost_callbacks callbacks = {
	.device_ready = on_ready,
	.device_stopping = on_stopping,
	.connection_closed = on_closed,
};

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL options] -- --socket PATH [--queues N] [--client] [--app-loop]\n",
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
		{ "app-loop", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct vhu_watch_ops watch = { .add = watch_add, .del = watch_del };
	struct vhu_vhost_config cfg = { .queue_pairs = 1, .callbacks = &callbacks };
	struct vhu_init_params params = { .watch = NULL };
	unsigned long turns = 0;
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
		case 'a':
			params.watch = &watch;
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

	n = vhu_init(&params);
	if (n != 0) {
		fprintf(stderr, "vhu-echo: cannot set libvhu up: %s\n", strerror(-n));
		return 1;
	}
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
	printf("vhu-echo: serving %s with %u queue pair(s), %s\n", cfg.path, cfg.queue_pairs,
	       params.watch != NULL ? "running the control loop itself" : "on libvhu's thread");
	fflush(stdout);
	while (!quit) {
		unsigned int moved = 0;
		uint16_t qp;

		/* Own loop: a control round every 256 turns, and every turn while idle. */
		if (params.watch != NULL && (!running || (++turns & 255) == 0))
			control_round();
		if (!running) {
			rte_delay_us_sleep(1000);
			continue;
		}
		for (qp = 0; qp < cfg.queue_pairs; qp++)
			moved += echo_pair(dev, qp, mp);
		echoed += moved;
		if (moved == 0)
			rte_pause();
	}
	vhu_vhost_destroy(dev);
	printf("vhu-echo: echoed %lu packets\n", echoed);
	n = vhu_fini();
	if (n != 0)
		fprintf(stderr, "vhu-echo: vhu_fini: %s\n", strerror(-n));
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
