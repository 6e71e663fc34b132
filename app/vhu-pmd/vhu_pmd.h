/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-pmd: the pieces main.c puts together. Options (params.c), forwarding
 * set-up and lcores (fwd.c), statistics display (stats.c). Everything here
 * runs on the main lcore unless a comment says otherwise.
 */
#ifndef VHU_PMD_H
#define VHU_PMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_lcore.h>
#include <rte_mempool.h>

#include "vhu_port.h"

#define PMD_NAME "vhu-pmd"
/* Largest --burst. */
#define PMD_BURST_MAX 512
/* Most --txpkts segments. */
#define PMD_TX_SEGS_MAX 8
/* Bytes of Ethernet, IPv4 and UDP headers that txonly writes in the first segment. */
#define PMD_TX_HDR_LEN 42

/* Exit codes. */
#define PMD_EXIT_OK	 0
#define PMD_EXIT_FAILURE 1 /* EAL or run-time failure */
#define PMD_EXIT_USAGE	 2 /* bad option or value */

struct fwd_engine;

/* The options, as given on the command line (after "--"). */
struct pmd_config {
	const char *ports[VHU_PORT_MAX]; /* --port device strings, in order */
	unsigned int nb_ports;
	const struct fwd_engine *engine;      /* --forward-mode */
	unsigned int nb_cores;		      /* --nb-cores; 0: every worker lcore */
	uint16_t burst;			      /* --burst */
	uint16_t nb_rxq;		      /* --rxq */
	uint16_t nb_txq;		      /* --txq */
	uint16_t tx_seg_len[PMD_TX_SEGS_MAX]; /* --txpkts segment sizes */
	uint16_t tx_nb_segs;		      /* how many of them */
	uint32_t tx_pkt_len;		      /* their sum: the frame size */
	unsigned int stats_period;	      /* --stats-period seconds; 0: none */
	unsigned int run_time;		      /* --run-time seconds; 0: until a signal */
	uint32_t nb_mbufs;		      /* --total-num-mbufs, per socket */
	bool tx_first;			      /* --tx-first */
};

/* What pmd_parse_args() found. */
enum pmd_parse_result {
	PMD_PARSE_RUN,	 /* options are valid: run */
	PMD_PARSE_HELP,	 /* --help was printed: exit 0 */
	PMD_PARSE_ERROR, /* a message was printed: exit PMD_EXIT_USAGE */
};

/*
 * Parse the application options (argv[0] is the program name, then what
 * follows "--"). Fills cfg with defaults first. Prints one line naming the
 * option and its valid values on error.
 */
enum pmd_parse_result pmd_parse_args(int argc, char **argv, struct pmd_config *cfg);

/* Print the application options (also hooked into EAL's --help). */
void pmd_usage(FILE *f, const char *prog);

/* Print "vhu-pmd: <message>; see 'vhu-pmd -- --help'" on stderr. */
void pmd_usage_error(const char *fmt, ...) __rte_format_printf(1, 2);

/* One forwarding lcore and the streams it polls. */
struct fwd_lcore {
	unsigned int lcore_id;
	const struct fwd_engine *engine;
	struct fwd_stream **streams; /* the streams it polls, each owned by it */
	uint16_t nb_streams;
	const struct pmd_config *cfg; /* the options, for --tx-first */
	bool stop;		      /* set by the main lcore to end the loop */
	bool exited;		      /* set by the lcore when its loop ends */
	int rc;			      /* why it ended early, when it did */
} __rte_cache_aligned;

/* The forwarding set-up: streams and the lcores that poll them. */
struct fwd_ctx {
	const struct fwd_engine *engine;
	struct fwd_stream **streams; /* all streams, in (port, queue) order */
	unsigned int nb_streams;
	struct fwd_lcore *lcores; /* the forwarding lcores in use */
	unsigned int nb_lcores;
	bool launched; /* the lcores run fwd_lcore_main() */
};

/*
 * Make the streams of the configured engine over 'ports' (paired topology)
 * and assign them round-robin to up to cfg->nb_cores of the 'nb_ids' lcores
 * in 'lcore_ids'. Sets each port's rx mempool from 'pools' (per socket).
 * Returns 0 or -errno after printing why.
 */
int fwd_setup(struct fwd_ctx *ctx, const struct pmd_config *cfg, struct vhu_port **ports,
	      unsigned int nb_ports, const unsigned int *lcore_ids, unsigned int nb_ids,
	      struct rte_mempool *const *pools);

/* Print the streams per lcore, like dpdk-testpmd's "start" does. */
void fwd_show_config(const struct fwd_ctx *ctx, const struct pmd_config *cfg,
		     unsigned int nb_ports);

/* Launch the forwarding loop on every lcore of ctx. Returns 0 or -errno. */
int fwd_launch(struct fwd_ctx *ctx);

/* True when a forwarding lcore has left its loop without being told to. */
bool fwd_lcore_failed(const struct fwd_ctx *ctx);

/* Tell the lcores to stop and wait for them. */
void fwd_stop(struct fwd_ctx *ctx);

/* Free what fwd_setup() allocated; the lcores are stopped. */
void fwd_teardown(struct fwd_ctx *ctx);

/* Throughput bookkeeping for the periodic display. */
struct stats_prev {
	/* The port's counters at the last display (or reset). */
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tsc; /* when these were taken */
};

struct stats_state {
	struct stats_prev prev[VHU_PORT_MAX]; /* by position in the port list */
};

/* Zero the port counters and start the throughput clock. */
void stats_reset(struct stats_state *st, struct vhu_port *const *ports, unsigned int nb_ports);

/* The periodic "NIC statistics" display (dpdk-testpmd's format). */
void stats_show_nic(struct stats_state *st, struct vhu_port *const *ports, unsigned int nb_ports);

/* The "Forward statistics" totals shown at the end (dpdk-testpmd's format). */
void stats_show_fwd(struct vhu_port *const *ports, unsigned int nb_ports);

#endif /* VHU_PMD_H */
