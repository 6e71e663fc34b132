/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-pmd: make ports from device strings, forward between them on the worker
 * lcores, and keep the main lcore for the rest: the shell (-i), or without
 * it statistics, link changes, the end of the run (a signal or --run-time)
 * and the final totals.
 *
 *     vhu-pmd [EAL options] -- [options]     (see --help or vhu-pmd(1))
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "ab.h"
#include "fwd.h"
#include "vhu.h"
#include "vhu_pmd.h"
#include "vhu_rcu.h"

/* How often the main lcore wakes up to look at signals, links and the clock. */
#define MAIN_TICK_MS 100

/* The last signal received; the main loop and the shell end when it is set. */
static volatile sig_atomic_t pmd_signal;

static void
signal_handler(int sig)
{
	pmd_signal = sig;
}

static void
eal_usage_hook(const char *prog)
{
	printf("\n");
	pmd_usage(stdout, prog);
}

/*
 * Split argv at "--": EAL gets what precedes it, the application what follows
 * (in app_argv, after a copy of argv[0]). Returns the number of EAL arguments.
 */
static int
split_args(int argc, char **argv, int *app_argc, char ***app_argv)
{
	char **args;
	int dd, i;

	for (dd = 1; dd < argc && strcmp(argv[dd], "--") != 0; dd++)
		;
	args = calloc(argc + 1, sizeof(*args));
	if (args == NULL)
		return -1;
	args[0] = argv[0];
	*app_argc = 1;
	for (i = dd + 1; i < argc; i++)
		args[(*app_argc)++] = argv[i];
	*app_argv = args;
	return dd;
}

/* The worker lcores, and --nb-cores checked against them. */
static int
pmd_find_lcores(struct pmd *pmd)
{
	unsigned int id;

	for (id = rte_get_next_lcore(-1, 1, 0); id < RTE_MAX_LCORE;
	     id = rte_get_next_lcore(id, 1, 0))
		pmd->lcore_ids[pmd->nb_workers++] = id;
	if (pmd->nb_workers == 0) {
		pmd_usage_error("no forwarding lcore: the EAL lcore list holds only the main lcore "
				"%u; give two or more, e.g. -l 0,1",
				rte_get_main_lcore());
		return -EINVAL;
	}
	if (pmd->cfg.nb_cores > pmd->nb_workers) {
		pmd_usage_error(
			"--nb-cores=%u: only %u forwarding lcore(s) (the EAL lcores but the "
			"main one); give 1..%u, or more lcores with -l",
			pmd->cfg.nb_cores, pmd->nb_workers, pmd->nb_workers);
		return -EINVAL;
	}
	return 0;
}

/* One pool on the socket of each worker lcore ("set nbcore" may bring in any of them). */
static int
pmd_create_pools(struct pmd *pmd)
{
	unsigned int i;

	for (i = 0; i < pmd->nb_workers; i++) {
		if (pmd_pool_get(pmd, rte_lcore_to_socket_id(pmd->lcore_ids[i])) == NULL)
			return -ENOMEM;
	}
	return 0;
}

static void
pmd_free_pools(struct pmd *pmd)
{
	unsigned int s;

	for (s = 0; s < RTE_DIM(pmd->pools); s++) {
		rte_mempool_free(pmd->pools[s]);
		pmd->pools[s] = NULL;
	}
}

/* The --port ports. Returns an exit code: PMD_EXIT_USAGE for a bad string or queue count. */
static int
pmd_attach_ports(struct pmd *pmd)
{
	unsigned int i;

	for (i = 0; i < pmd->cfg.nb_ports; i++) {
		struct vhu_port *port = ports_attach(pmd, pmd->cfg.ports[i]);

		if (port == NULL && rte_errno == EINVAL) {
			pmd_usage_error("--port %s: cannot make the port (see the message above)",
					pmd->cfg.ports[i]);
			return PMD_EXIT_USAGE;
		}
		if (port == NULL) {
			fprintf(stderr, PMD_NAME ": --port %s: cannot make the port: %s\n",
				pmd->cfg.ports[i], rte_strerror(rte_errno));
			return PMD_EXIT_FAILURE;
		}
		stats_forget(&pmd->stats, port);
	}
	return PMD_EXIT_OK;
}

/* Start every port. Returns an exit code: PMD_EXIT_USAGE when a device refuses its settings. */
static int
pmd_start_ports(struct pmd *pmd)
{
	struct vhu_port *ports[VHU_PORT_MAX];
	unsigned int i, n = pmd_ports(ports);
	int rc;

	for (i = 0; i < n; i++) {
		rc = vhu_port_start(ports[i]);
		if (rc != 0) {
			fprintf(stderr, PMD_NAME ": cannot start port %u (%s): %s\n", ports[i]->id,
				ports[i]->devstr, strerror(-rc));
			return rc == -EINVAL ? PMD_EXIT_USAGE : PMD_EXIT_FAILURE;
		}
	}
	return PMD_EXIT_OK;
}

static void
pmd_show_ports(struct pmd *pmd)
{
	struct vhu_port *ports[VHU_PORT_MAX];
	unsigned int i, n = pmd_ports(ports);

	for (i = 0; i < n; i++) {
		const struct vhu_port *port = ports[i];
		const char *hint = port->ops->link_down_hint;

		pmd->link_up[port->id] = vhu_port_link_up(port);
		if (pmd->link_up[port->id])
			printf("Port %u: %s (link up)\n", port->id, port->devstr);
		else
			printf("Port %u: %s (link down%s%s)\n", port->id, port->devstr,
			       hint != NULL ? ", " : "", hint != NULL ? hint : "");
	}
}

/* Sleep until TSC 'when' (or a signal). */
static void
pmd_sleep_until(uint64_t when)
{
	uint64_t now = rte_get_tsc_cycles(), ns;
	struct timespec ts;

	if (when <= now)
		return;
	ns = (uint64_t)((double)(when - now) * 1e9 / (double)rte_get_tsc_hz());
	ts.tv_sec = ns / 1000000000;
	ts.tv_nsec = ns % 1000000000;
	nanosleep(&ts, NULL);
}

/*
 * Until a signal, --run-time or a failed lcore, waking every MAIN_TICK_MS
 * and at each --ab-period flip. Returns an exit code.
 */
static int
pmd_main_loop(struct pmd *pmd)
{
	const uint64_t tick = rte_get_tsc_hz() / 1000 * MAIN_TICK_MS;
	const uint64_t hz = rte_get_tsc_hz();
	const uint64_t period = pmd->cfg.stats_period * hz;
	uint64_t now = rte_get_tsc_cycles();
	uint64_t next_stats = period != 0 ? now + period : UINT64_MAX;
	uint64_t end = pmd->cfg.run_time != 0 ? now + pmd->cfg.run_time * hz : UINT64_MAX;
	uint64_t next_flip = ab_tick(pmd, now);
	int code = -1;

	while (pmd_signal == 0 && code < 0) {
		pmd_sleep_until(RTE_MIN(now + tick, next_flip));
		now = rte_get_tsc_cycles();
		pthread_mutex_lock(&pmd->lock);
		next_flip = ab_tick(pmd, now);
		ports_check_links(pmd);
		if (fwd_lcore_failed(pmd)) {
			fprintf(stderr,
				PMD_NAME ": a forwarding lcore failed (see above); stopping\n");
			code = PMD_EXIT_FAILURE;
		} else if (now >= end) {
			printf("\nRun time of %u s is over, stopping.\n", pmd->cfg.run_time);
			code = PMD_EXIT_OK;
		} else if (now >= next_stats) {
			stats_show_nic(&pmd->stats);
			ab_show(pmd);
			next_stats += period;
			/* After a stall longer than a period, skip the missed displays. */
			if (next_stats <= now)
				next_stats = now + period;
		}
		pthread_mutex_unlock(&pmd->lock);
	}
	if (code >= 0)
		return code;
	printf("\nSignal %d received, preparing to exit...\n", (int)pmd_signal);
	return PMD_EXIT_OK;
}

static void
pmd_install_signals(void)
{
	struct sigaction sa;

	/* No SA_RESTART: a signal interrupts the shell's read, which then quits. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = signal_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Forwarding from the start to a signal or --run-time. Returns the exit code. */
static int
pmd_run_batch(struct pmd *pmd)
{
	int code, rc;

	pthread_mutex_lock(&pmd->lock);
	rc = fwd_start(pmd, pmd->cfg.tx_first ? 1 : 0);
	if (rc == 0)
		ab_begin(pmd);
	pthread_mutex_unlock(&pmd->lock);
	if (rc != 0)
		return PMD_EXIT_FAILURE;
	printf("Press Ctrl-C to stop forwarding%s.\n",
	       pmd->cfg.run_time != 0 ? ", or wait for --run-time" : "");
	fflush(stdout);
	code = pmd_main_loop(pmd);
	return code;
}

/* The shell. Returns the exit code. */
static int
pmd_run_shell(struct pmd *pmd)
{
	int rc;

	if (pmd->cfg.auto_start) {
		pthread_mutex_lock(&pmd->lock);
		rc = fwd_start(pmd, pmd->cfg.tx_first ? 1 : 0);
		pthread_mutex_unlock(&pmd->lock);
		if (rc != 0)
			return PMD_EXIT_FAILURE;
	}
	rc = cmdline_run(pmd, &pmd_signal);
	if (pmd_signal != 0)
		printf("\nSignal %d received, preparing to exit...\n", (int)pmd_signal);
	return rc == 0 ? PMD_EXIT_OK : PMD_EXIT_USAGE;
}

/* Everything after EAL is up. Returns the exit code. */
static int
pmd_run(struct pmd *pmd)
{
	int rc, code;

	pmd_install_signals();
	rc = vhu_rcu_init();
	if (rc != 0) {
		fprintf(stderr, PMD_NAME ": cannot set up RCU: %s; give EAL more memory (-m)\n",
			strerror(-rc));
		return PMD_EXIT_FAILURE;
	}
	/* libvhu's control thread; the vhost-user and virtio-user ports run on it. */
	rc = vhu_init(NULL);
	if (rc != 0) {
		fprintf(stderr, PMD_NAME ": cannot start the vhu control thread: %s\n",
			strerror(-rc));
		return PMD_EXIT_FAILURE;
	}
	code = PMD_EXIT_USAGE;
	if (pmd_find_lcores(pmd) != 0)
		goto fini;
	code = PMD_EXIT_FAILURE;
	if (fwd_init(pmd) != 0)
		goto fini;
	if (pmd_create_pools(pmd) != 0)
		goto free_pools;
	code = pmd_attach_ports(pmd);
	if (code != PMD_EXIT_OK)
		goto detach_ports;
	code = pmd_start_ports(pmd);
	if (code != PMD_EXIT_OK)
		goto detach_ports;
	pmd_show_ports(pmd);
	rc = telemetry_init(pmd);
	if (rc != 0)
		printf(PMD_NAME ": telemetry commands are not available: %s\n", strerror(-rc));

	code = pmd->cfg.interactive ? pmd_run_shell(pmd) : pmd_run_batch(pmd);
	pthread_mutex_lock(&pmd->lock);
	if (fwd_running(pmd)) {
		printf("Telling cores to stop...\nWaiting for lcores to finish...\n");
		ab_end(pmd);
		fwd_stop(pmd);
		stats_show_fwd(pmd);
		ab_show(pmd);
		printf("\nDone.\n\n");
	}
	pthread_mutex_unlock(&pmd->lock);
	/* Without the lock: a telemetry request may be waiting for it while holding its own. */
	telemetry_fini();
detach_ports:
	pthread_mutex_lock(&pmd->lock);
	ports_detach_all(pmd);
	pthread_mutex_unlock(&pmd->lock);
free_pools:
	ab_free(pmd);
	fwd_teardown(pmd);
	pmd_free_pools(pmd);
fini:
	rc = vhu_fini();
	if (rc != 0)
		fprintf(stderr, PMD_NAME ": cannot stop the vhu control thread: %s\n",
			strerror(-rc));
	return code;
}

int
main(int argc, char **argv)
{
	static struct pmd pmd = {.lock = PTHREAD_MUTEX_INITIALIZER};
	char **app_argv;
	int eal_argc, app_argc, code;

	/* Lines appear in order with EAL's log lines, and at once when a script reads them. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	eal_argc = split_args(argc, argv, &app_argc, &app_argv);
	if (eal_argc < 0) {
		fprintf(stderr, PMD_NAME ": out of memory\n");
		return PMD_EXIT_FAILURE;
	}
	switch (pmd_parse_args(app_argc, app_argv, &pmd.cfg)) {
	case PMD_PARSE_HELP:
		free(app_argv);
		return PMD_EXIT_OK;
	case PMD_PARSE_ERROR:
		free(app_argv);
		return PMD_EXIT_USAGE;
	case PMD_PARSE_RUN:
		break;
	}
	rte_set_application_usage_hook(eal_usage_hook);
	if (rte_eal_init(eal_argc, argv) < 0) {
		fprintf(stderr,
			PMD_NAME ": cannot initialise EAL: %s; check the EAL options "
				 "before '--' (without hugepages, add --no-huge -m 512)\n",
			rte_strerror(rte_errno));
		free(app_argv);
		return PMD_EXIT_FAILURE;
	}
	code = pmd_run(&pmd);
	if (code == PMD_EXIT_OK)
		printf("Bye...\n");
	rte_eal_cleanup();
	free(app_argv);
	return code;
}
