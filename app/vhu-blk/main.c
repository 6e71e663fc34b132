/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-blk: a polled vhost-user-blk back-end (doc/vhu-blk.md).
 *
 *     vhu-blk [EAL options] -- --socket-path=PATH
 *             (--blk-file=IMAGE | --null=SIZE | --malloc=SIZE) [options]
 *
 * The request queues are spread over the worker lcores, each polled by one;
 * with no worker lcore the main lcore polls them all. The main lcore prints
 * statistics, follows the image's size (a grown or shrunk file is announced
 * to the front-end with CONFIG_CHANGE) and waits for SIGINT or SIGTERM, then
 * lets the pollers finish the requests they have out and prints per-queue
 * statistics.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "vhu_blk_app.h"

/* How long the pollers may take at exit to finish the requests they have out. */
#define BLK_DRAIN_SECONDS 5

static struct blk_app app;

static void
on_signal(int sig)
{
	RTE_SET_USED(sig);
	__atomic_store_n(&app.quit, true, __ATOMIC_RELAXED);
}

static bool
quitting(void)
{
	return __atomic_load_n(&app.quit, __ATOMIC_RELAXED);
}

/* Every request of every queue of 'pl' returned (or the drain timed out). */
static void
blk_drain(struct blk_app *a, const struct blk_poller *pl)
{
	uint64_t end = rte_rdtsc() + BLK_DRAIN_SECONDS * a->tsc_hz;
	uint16_t i;

	for (;;) {
		uint32_t out = 0;

		blk_poll_once(a, pl, true);
		for (i = 0; i < pl->nq; i++)
			out += vhu_blk_outstanding(a->dev, pl->q[i]) +
			       a->queues[pl->q[i]]->backlog_n;
		if (out == 0 || rte_rdtsc() > end)
			return;
	}
}

static int
poller_main(void *arg)
{
	const struct blk_poller *pl = arg;

	while (!quitting())
		blk_poll_once(&app, pl, false);
	blk_drain(&app, pl);
	return 0;
}

/* Queue q goes to poller q % pollers: the worker lcores, or the main one alone. */
static void
assign_queues(struct blk_app *a)
{
	unsigned int lcore;
	uint16_t q;

	a->npollers = 0;
	RTE_LCORE_FOREACH_WORKER (lcore) {
		if (a->npollers == a->p.queues)
			break; /* more lcores than queues: the others stay idle */
		a->pollers[a->npollers++].lcore = lcore;
	}
	a->main_polls = a->npollers == 0;
	if (a->main_polls)
		a->pollers[a->npollers++].lcore = rte_get_main_lcore();
	for (q = 0; q < a->p.queues; q++) {
		struct blk_poller *pl = &a->pollers[q % a->npollers];

		pl->q[pl->nq++] = q;
	}
	for (unsigned int i = 0; i < a->npollers; i++) {
		printf("vhu-blk: lcore %u polls queue%s", a->pollers[i].lcore,
		       a->pollers[i].nq > 1 ? "s" : "");
		for (q = 0; q < a->pollers[i].nq; q++)
			printf(" %u", a->pollers[i].q[q]);
		printf("\n");
	}
	fflush(stdout);
}

static void
print_stats(const struct blk_app *a, struct blk_queue_stats *last, double seconds)
{
	struct blk_queue_stats now, d, total;
	char label[32];
	uint16_t q;

	memset(&total, 0, sizeof(total));
	for (q = 0; q < a->p.queues; q++) {
		blk_stats_snapshot(&a->queues[q]->stats, &now);
		blk_stats_diff(&now, &last[q], &d);
		last[q] = now;
		blk_stats_add(&total, &d);
		snprintf(label, sizeof(label), "queue %u", q);
		blk_stats_print(stdout, label, &d, seconds);
	}
	if (a->p.queues > 1)
		blk_stats_print(stdout, "total", &total, seconds);
	fflush(stdout);
}

/*
 * The image file changed size: tell the device, which tells the front-end.
 * A device busy with the front-end (-EBUSY) is told at a later tick.
 */
static void
follow_image_size(struct blk_app *a)
{
	uint64_t size;
	int rc;

	if (a->bdev.kind != BDEV_FILE || bdev_refresh(&a->bdev) != 0)
		return;
	size = a->bdev.size - a->bdev.size % a->p.blk_size;
	if (size == a->announced_size || size == 0)
		return;
	rc = vhu_blk_resize(a->dev, size);
	if (rc == -EBUSY)
		return;
	printf("vhu-blk: %s is now %" PRIu64 " bytes (was %" PRIu64 ")%s\n", a->bdev.name, size,
	       a->announced_size, rc == 0 ? "; the front-end was told" : "");
	fflush(stdout);
	a->announced_size = size;
}

/* The main lcore: statistics, the image's size and signals; and the queues if alone. */
static void
main_loop(struct blk_app *a)
{
	struct blk_queue_stats last[BLK_MAX_QUEUES];
	uint64_t now, next_tick = rte_rdtsc() + a->tsc_hz, last_print = rte_rdtsc();
	unsigned int ticks = 0;

	memset(last, 0, sizeof(last));
	while (!quitting()) {
		if (a->main_polls)
			blk_poll_once(a, &a->pollers[0], false);
		else
			rte_delay_us_sleep(100 * 1000);
		now = rte_rdtsc();
		if (now < next_tick)
			continue;
		next_tick = now + a->tsc_hz;
		ticks++;
		/* The write cache mode the guest chose decides whether writes are synced. */
		__atomic_store_n(&a->bdev.write_through, !vhu_blk_write_back(a->dev),
				 __ATOMIC_RELAXED);
		follow_image_size(a);
		if (a->p.stats_period != 0 && ticks % a->p.stats_period == 0) {
			print_stats(a, last, (double)(now - last_print) / (double)a->tsc_hz);
			last_print = now;
		}
	}
	if (a->main_polls)
		blk_drain(a, &a->pollers[0]);
}

static int
open_device(struct blk_app *a)
{
	struct vhu_blk_config cfg = {
		.path = a->p.socket_path,
		.flags = a->p.client ? VHU_VHOST_CLIENT : 0,
		.num_queues = a->p.queues,
		.capacity = a->bdev.size - a->bdev.size % a->p.blk_size,
		.blk_size = a->p.blk_size,
		.read_only = a->bdev.read_only,
		.write_cache = a->p.write_cache,
		.discard = a->bdev.kind != BDEV_NULL,
		.serial = a->p.serial,
	};

	if (cfg.capacity == 0) {
		fprintf(stderr,
			"vhu-blk: %s: %" PRIu64 " bytes is smaller than one %u-byte block; "
			"use a larger image\n",
			a->bdev.name, a->bdev.size, a->p.blk_size);
		return -EINVAL;
	}
	a->announced_size = cfg.capacity;
	a->dev = vhu_blk_create(&cfg);
	if (a->dev == NULL) {
		fprintf(stderr, "vhu-blk: cannot serve %s: %s\n", a->p.socket_path,
			strerror(rte_errno));
		return -rte_errno;
	}
	printf("vhu-blk: %s on %s: %" PRIu64 " bytes, %u-byte blocks, %u queue%s%s%s\n",
	       a->bdev.name, a->p.socket_path, cfg.capacity, cfg.blk_size, cfg.num_queues,
	       cfg.num_queues > 1 ? "s" : "", cfg.read_only ? ", read-only" : "",
	       a->p.client ? ", client" : "");
	fflush(stdout);
	return 0;
}

/* Split argv at "--": EAL's part before, ours after (with argv[0] as program name). */
static int
split_args(int argc, char **argv, int *app_argc, char ***app_argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			break;
	if (i == argc) { /* no "--": no options of ours */
		*app_argc = 1;
		*app_argv = argv;
		return i;
	}
	*app_argc = argc - i;
	*app_argv = argv + i;
	(*app_argv)[0] = argv[0]; /* "--" becomes the program name getopt expects */
	return i;
}

static int
run(struct blk_app *a)
{
	struct blk_queue_stats total;
	unsigned int i;
	uint16_t q;
	int rc = BLK_EXIT_OK;

	for (q = 0; q < a->p.queues; q++) {
		int err = blk_queue_init(a, q);

		if (err != 0) {
			fprintf(stderr,
				"vhu-blk: queue %u: cannot set up its %s backend queue: %s\n", q,
				a->bdev.name, strerror(-err));
			rc = BLK_EXIT_FAILURE;
			goto fini_queues;
		}
	}
	if (open_device(a) != 0) {
		rc = BLK_EXIT_FAILURE;
		goto fini_queues;
	}
	blk_telemetry_init(a);
	assign_queues(a);
	a->start_tsc = rte_rdtsc();
	if (!a->main_polls)
		for (i = 0; i < a->npollers; i++)
			rte_eal_remote_launch(poller_main, &a->pollers[i], a->pollers[i].lcore);
	main_loop(a);
	rte_eal_mp_wait_lcore();
	blk_telemetry_fini();
	vhu_vhost_destroy(a->dev);
	a->dev = NULL;
	printf("vhu-blk: stopped; statistics since start:\n");
	{
		struct blk_queue_stats zero[BLK_MAX_QUEUES];

		memset(zero, 0, sizeof(zero));
		print_stats(a, zero, (double)(rte_rdtsc() - a->start_tsc) / (double)a->tsc_hz);
	}
	blk_stats_total(a, &total);
	if (total.broken != 0)
		printf("vhu-blk: %" PRIu64 " malformed requests broke a ring\n", total.broken);
fini_queues:
	for (q = 0; q < a->p.queues; q++)
		blk_queue_fini(a, q);
	return rc;
}

int
main(int argc, char **argv)
{
	int app_argc, eal_argc, rc;
	char **app_argv, err[256];
	bool help = false;

	eal_argc = split_args(argc, argv, &app_argc, &app_argv);
	if (eal_argc == argc && argc > 1) {
		fprintf(stderr,
			"vhu-blk: no '--' on the command line: EAL options go before it, "
			"vhu-blk's (--socket-path=..., storage) after it.\nTry '%s -- --help'.\n",
			argv[0]);
		return BLK_EXIT_USAGE;
	}
	rc = blk_params_parse(&app.p, app_argc, app_argv, &help, err, sizeof(err));
	if (rc != BLK_EXIT_OK) {
		fprintf(stderr, "vhu-blk: %s\nTry '%s -- --help'.\n", err, argv[0]);
		return rc;
	}
	if (help) {
		blk_params_usage(stdout, argv[0]);
		return BLK_EXIT_OK;
	}
	if (app.p.print_capabilities) {
		blk_print_capabilities(stdout);
		return BLK_EXIT_OK;
	}
	rc = bdev_open(&app.bdev, app.p.kind, app.p.image, app.p.size, app.p.read_only, err,
		       sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "vhu-blk: %s\n", err);
		return BLK_EXIT_FAILURE;
	}
	app.bdev.blk_size = app.p.blk_size;
	app.bdev.write_through = !app.p.write_cache;
	if (rte_eal_init(eal_argc, argv) < 0) {
		fprintf(stderr,
			"vhu-blk: EAL initialisation failed: %s (check the EAL options "
			"before '--')\n",
			rte_strerror(rte_errno));
		bdev_close(&app.bdev);
		return BLK_EXIT_FAILURE;
	}
	app.tsc_hz = rte_get_tsc_hz();
	app.tsc_ns_scale = blk_tsc_ns_scale(app.tsc_hz);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = run(&app);
	bdev_close(&app.bdev);
	rte_eal_cleanup();
	return rc;
}
