/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-pmd: make ports from device strings, forward between them on the worker
 * lcores, and keep the main lcore for the rest: statistics, link changes, the
 * end of the run (a signal or --run-time) and the final totals.
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

#include "fwd.h"
#include "vhu_pmd.h"
#include "vhu_rcu.h"

RTE_LOG_REGISTER(pmd_logtype, vhu.pmd, INFO);

/* Per-lcore mbuf cache of the pools (dpdk-testpmd uses 250). */
#define POOL_CACHE_SIZE 256
/* How often the main lcore wakes up to look at signals, links and the clock. */
#define MAIN_TICK_MS 100
/* Room for a port's status text in debug logs. */
#define PORT_INFO_LEN 4096

/* The last signal received; the main loop ends when it is set. */
static volatile sig_atomic_t pmd_signal;

struct pmd {
	struct pmd_config cfg;
	unsigned int lcore_ids[RTE_MAX_LCORE]; /* the worker lcores, in EAL order */
	unsigned int nb_workers;
	struct rte_mempool *pools[RTE_MAX_NUMA_NODES]; /* by socket; NULL where not needed */
	struct vhu_port *ports[VHU_PORT_MAX];	       /* in --port order */
	unsigned int nb_ports;
	bool link_up[VHU_PORT_MAX]; /* as last reported */
	struct fwd_ctx fwd;
	struct stats_state stats;
};

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

static struct rte_mempool *
pool_create(unsigned int socket, uint32_t nb_mbufs)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;

	snprintf(name, sizeof(name), "vhu_mbuf_pool_%u", socket);
	printf(PMD_NAME ": create a new mbuf pool <%s>: n=%u, size=%u, socket=%u\n", name, nb_mbufs,
	       RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	mp = rte_pktmbuf_pool_create(name, nb_mbufs, POOL_CACHE_SIZE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     socket);
	/* Without hugepages, memory may not be tied to the socket: take it from anywhere. */
	if (mp == NULL && rte_errno == ENOMEM)
		mp = rte_pktmbuf_pool_create(name, nb_mbufs, POOL_CACHE_SIZE, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (mp == NULL)
		fprintf(stderr,
			PMD_NAME
			": cannot create a pool of %u mbufs on socket %u: %s; "
			"lower --total-num-mbufs or give EAL more memory (-m, hugepages)\n",
			nb_mbufs, socket, rte_strerror(rte_errno));
	return mp;
}

/* One pool on the socket of each lcore that may forward. */
static int
pmd_create_pools(struct pmd *pmd)
{
	unsigned int n = pmd->cfg.nb_cores != 0 ? pmd->cfg.nb_cores : pmd->nb_workers;
	unsigned int i;

	for (i = 0; i < n; i++) {
		unsigned int socket = rte_lcore_to_socket_id(pmd->lcore_ids[i]);

		if (pmd->pools[socket] != NULL)
			continue;
		pmd->pools[socket] = pool_create(socket, pmd->cfg.nb_mbufs);
		if (pmd->pools[socket] == NULL)
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

/* Returns an exit code: PMD_EXIT_USAGE for a bad device string or queue count. */
static int
pmd_attach_ports(struct pmd *pmd)
{
	unsigned int socket = rte_lcore_to_socket_id(pmd->lcore_ids[0]);
	struct vhu_port_conf conf = {
		/* fwd_setup() picks each port's pool once it knows which lcore polls it. */
		.mempool = pmd->pools[socket],
		.nb_rxq = pmd->cfg.nb_rxq,
		.nb_txq = pmd->cfg.nb_txq,
		.socket_id = socket,
	};
	unsigned int i;

	for (i = 0; i < pmd->cfg.nb_ports; i++) {
		struct vhu_port *port = vhu_port_attach(pmd->cfg.ports[i], &conf);

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
		pmd->ports[pmd->nb_ports++] = port;
	}
	return PMD_EXIT_OK;
}

static void
pmd_detach_ports(struct pmd *pmd)
{
	while (pmd->nb_ports > 0) {
		struct vhu_port *port = pmd->ports[--pmd->nb_ports];

		if (port->started) {
			printf("Stopping port %u...\n", port->id);
			vhu_port_stop(port);
		}
		vhu_port_detach(port);
	}
}

static int
pmd_start_ports(struct pmd *pmd)
{
	unsigned int i;
	int rc;

	for (i = 0; i < pmd->nb_ports; i++) {
		rc = vhu_port_start(pmd->ports[i]);
		if (rc != 0) {
			fprintf(stderr, PMD_NAME ": cannot start port %u (%s): %s\n", i,
				pmd->ports[i]->devstr, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static void
pmd_log_port_info(const struct vhu_port *port)
{
	char *buf;

	if (!rte_log_can_log(pmd_logtype, RTE_LOG_DEBUG))
		return;
	buf = malloc(PORT_INFO_LEN);
	if (buf == NULL)
		return;
	if (vhu_port_info(port, buf, PORT_INFO_LEN) >= 0)
		rte_log(RTE_LOG_DEBUG, pmd_logtype, "Port %u status:\n%s", port->id, buf);
	free(buf);
}

static void
pmd_show_ports(struct pmd *pmd)
{
	unsigned int i;

	for (i = 0; i < pmd->nb_ports; i++) {
		const struct vhu_port *port = pmd->ports[i];
		const char *hint = port->ops->link_down_hint;

		pmd->link_up[i] = vhu_port_link_up(port);
		if (pmd->link_up[i])
			printf("Port %u: %s (link up)\n", port->id, port->devstr);
		else
			printf("Port %u: %s (link down%s%s)\n", port->id, port->devstr,
			       hint != NULL ? ", " : "", hint != NULL ? hint : "");
		pmd_log_port_info(port);
	}
}

static void
pmd_check_links(struct pmd *pmd)
{
	unsigned int i;

	for (i = 0; i < pmd->nb_ports; i++) {
		bool up = vhu_port_link_up(pmd->ports[i]);

		if (up == pmd->link_up[i])
			continue;
		pmd->link_up[i] = up;
		printf("Port %u: link %s\n", pmd->ports[i]->id, up ? "up" : "down");
		fflush(stdout);
		pmd_log_port_info(pmd->ports[i]);
	}
}

/* Until a signal, --run-time or a failed lcore. Returns an exit code. */
static int
pmd_main_loop(struct pmd *pmd)
{
	const struct timespec tick = {.tv_nsec = MAIN_TICK_MS * 1000 * 1000};
	const uint64_t hz = rte_get_timer_hz();
	const uint64_t period = pmd->cfg.stats_period * hz;
	uint64_t now = rte_get_timer_cycles();
	uint64_t next_stats = period != 0 ? now + period : UINT64_MAX;
	uint64_t end = pmd->cfg.run_time != 0 ? now + pmd->cfg.run_time * hz : UINT64_MAX;

	while (pmd_signal == 0) {
		nanosleep(&tick, NULL);
		now = rte_get_timer_cycles();
		pmd_check_links(pmd);
		if (fwd_lcore_failed(&pmd->fwd)) {
			fprintf(stderr,
				PMD_NAME ": a forwarding lcore failed (see above); stopping\n");
			return PMD_EXIT_FAILURE;
		}
		if (now >= next_stats) {
			stats_show_nic(&pmd->stats, pmd->ports, pmd->nb_ports);
			next_stats += period;
			/* After a stall longer than a period, skip the missed displays. */
			if (next_stats <= now)
				next_stats = now + period;
		}
		if (now >= end) {
			printf("\nRun time of %u s is over, stopping.\n", pmd->cfg.run_time);
			return PMD_EXIT_OK;
		}
	}
	printf("\nSignal %d received, preparing to exit...\n", (int)pmd_signal);
	return PMD_EXIT_OK;
}

static void
pmd_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = signal_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
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
	if (pmd_find_lcores(pmd) != 0)
		return PMD_EXIT_USAGE;
	if (pmd_create_pools(pmd) != 0) {
		code = PMD_EXIT_FAILURE;
		goto free_pools;
	}
	code = pmd_attach_ports(pmd);
	if (code != PMD_EXIT_OK)
		goto detach_ports;
	code = PMD_EXIT_FAILURE;
	if (fwd_setup(&pmd->fwd, &pmd->cfg, pmd->ports, pmd->nb_ports, pmd->lcore_ids,
		      pmd->nb_workers, pmd->pools) != 0)
		goto detach_ports;
	if (pmd_start_ports(pmd) != 0)
		goto teardown_fwd;
	pmd_show_ports(pmd);
	fwd_show_config(&pmd->fwd, &pmd->cfg, pmd->nb_ports);
	stats_reset(&pmd->stats, pmd->ports, pmd->nb_ports);
	if (fwd_launch(&pmd->fwd) != 0)
		goto teardown_fwd;
	printf("Press Ctrl-C to stop forwarding%s.\n",
	       pmd->cfg.run_time != 0 ? ", or wait for --run-time" : "");
	fflush(stdout);

	code = pmd_main_loop(pmd);
	printf("Telling cores to stop...\nWaiting for lcores to finish...\n");
	fwd_stop(&pmd->fwd);
	stats_show_fwd(pmd->ports, pmd->nb_ports);
	printf("\nDone.\n\n");
teardown_fwd:
	fwd_teardown(&pmd->fwd);
detach_ports:
	pmd_detach_ports(pmd);
free_pools:
	pmd_free_pools(pmd);
	return code;
}

int
main(int argc, char **argv)
{
	static struct pmd pmd;
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
