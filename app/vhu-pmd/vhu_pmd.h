/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-pmd: the pieces main.c puts together. Options (params.c), forwarding
 * streams and lcores (fwd.c), statistics (stats.c), ports (ports.c), packet
 * capture (capture.c), the interactive shell (cmdline.c) and DPDK telemetry
 * (telemetry.c).
 *
 * Threads: the main lcore runs the shell (or, without -i, the statistics
 * loop); DPDK's telemetry thread answers /vhu/... requests. Both hold
 * pmd->lock while they touch the ports, the streams or the statistics, so
 * everything here is called with it held unless a comment says otherwise.
 * Forwarding lcores only run the loop in fwd.c.
 */
#ifndef VHU_PMD_H
#define VHU_PMD_H

#include <pthread.h>
#include <signal.h>
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
/* Most --flowgen-flows, and its default. */
#define PMD_FLOWGEN_FLOWS_MAX	  65536
#define PMD_FLOWGEN_FLOWS_DEFAULT 1024

/* Log type "vhu.pmd" (--log-level=vhu.pmd:debug shows each port's status on link changes). */
extern int pmd_logtype;

/*
 * A one-line error for the user, "Error: <message>", on stdout so that it
 * stays in order with the shell's output.
 */
void pmd_error(const char *fmt, ...) __rte_format_printf(1, 2);

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
	uint32_t flowgen_flows;		      /* --flowgen-flows */
	uint32_t icmpecho_addr;		      /* --icmpecho-addr, network order; 0: any */
	/* "csum set ... sw": RTE_ETH_TX_OFFLOAD_* checksums computed in software, by port id */
	uint64_t csum_sw[VHU_PORT_MAX];
	unsigned int stats_period;	      /* --stats-period seconds; 0: none */
	unsigned int run_time;		      /* --run-time seconds; 0: until a signal */
	unsigned int ab_period_ms;	      /* --ab-period milliseconds; 0: no A/B */
	uint32_t nb_mbufs;		      /* --total-num-mbufs, per socket */
	bool tx_first;			      /* --tx-first */
	bool interactive;		      /* -i: run the shell */
	bool auto_start;		      /* --auto-start: with -i, start forwarding at once */
	const char *cmdline_file;	      /* --cmdline-file: commands to run first */
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

/* Parse a decimal number in [min, max]; false if it is not one. Any thread. */
bool pmd_parse_uint(const char *str, unsigned long min, unsigned long max, unsigned long *val);

/*
 * Parse "N" or "N,N,..." as txonly segment sizes (as --txpkts and "set
 * txpkts" take them) into cfg; false, cfg untouched, when it is not valid.
 */
bool pmd_parse_txpkts(const char *str, struct pmd_config *cfg);

/* The rule pmd_parse_txpkts() enforces, for error messages. */
void pmd_txpkts_rule(char *buf, size_t len);

/*
 * Parse an --icmpecho-addr value: a dotted IPv4 address (into *addr in
 * network order) or "any" (0); false when it is neither. Any thread.
 */
bool pmd_parse_icmpecho_addr(const char *str, uint32_t *addr);

/*
 * Counters of one forwarding lcore since the last "start"; written by the
 * lcore only (relaxed stores), read by the main lcore.
 */
struct fwd_lcore_stats {
	uint64_t busy_cycles; /* TSC cycles of loop iterations that moved packets */
	uint64_t idle_cycles; /* TSC cycles of iterations that moved none */
	uint64_t busy_polls;  /* iterations that moved packets */
	uint64_t idle_polls;  /* iterations that moved none */
};

struct fwd_lcore_streams;
struct fwd_table;

/* One forwarding lcore. */
struct fwd_lcore {
	unsigned int lcore_id;
	/*
	 * What the lcore polls: published with release by the main lcore (fwd.c),
	 * read with acquire once per loop iteration; never NULL while it runs.
	 */
	const struct fwd_lcore_streams *streams;
	const struct pmd_config *cfg; /* the options, for tx_first */
	unsigned int tx_first;	      /* txonly bursts per stream before forwarding */
	bool stop;		      /* set by the main lcore to end the loop */
	bool exited;		      /* set by the lcore when its loop ends */
	int rc;			      /* why it ended early, when it did */
	struct fwd_lcore_stats stats; /* its busy and idle cycles */
} __rte_cache_aligned;

/* The forwarding state: the lcores and the streams they poll. */
struct fwd_ctx {
	struct fwd_lcore *lcores; /* one per worker lcore, in EAL order */
	unsigned int nb_workers;  /* size of lcores */
	unsigned int nb_lcores;	  /* lcores launched by the last "start" */
	struct fwd_table *table;  /* the streams published to them, NULL when stopped */
	bool launched;		  /* the lcores run the forwarding loop */
	uint64_t start_tsc;	  /* when forwarding last started */
};

/* Throughput bookkeeping for "since last show" rates. */
struct stats_prev {
	/* The port's counters at the last display (or reset). */
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tsc; /* when these were taken */
};

struct stats_state {
	/* By port id, then for each queue; rebased when a port comes or goes. */
	struct stats_prev prev[VHU_PORT_MAX];
	struct stats_prev qprev[VHU_PORT_MAX][VHU_PORT_MAX_QUEUES];
	/* Port counters at the last "start", for the forward statistics. */
	struct vhu_port_stats fwd_base[VHU_PORT_MAX];
};

struct capture;
struct ab_state;

/* The whole application state. */
struct pmd {
	struct pmd_config cfg;
	unsigned int lcore_ids[RTE_MAX_LCORE]; /* the worker lcores, in EAL order */
	unsigned int nb_workers;
	struct rte_mempool *pools[RTE_MAX_NUMA_NODES]; /* by socket; NULL where not needed */
	bool link_up[VHU_PORT_MAX];		       /* as last reported, by port id */
	struct fwd_ctx fwd;
	struct stats_state stats;
	struct capture *captures[VHU_PORT_MAX]; /* running captures, by port id */
	struct ab_state *ab;			/* --ab-period's periods (ab.c); NULL: off */
	/* Held by the shell (or the statistics loop) and by telemetry requests. */
	pthread_mutex_t lock;
	bool quit; /* "quit" was typed */
};

/*
 * The mbuf pool of NUMA socket 'socket', made (--total-num-mbufs) the first
 * time it is asked for. Returns NULL after printing why it cannot be made.
 */
struct rte_mempool *pmd_pool_get(struct pmd *pmd, unsigned int socket);

/* The attached ports in id order, into ports[VHU_PORT_MAX]; returns how many. */
unsigned int pmd_ports(struct vhu_port **ports);

/* The started ports in id order, except 'leaving' (may be NULL); returns how many. */
unsigned int pmd_fwd_ports(struct vhu_port **ports, const struct vhu_port *leaving);

/* --- fwd.c: streams and lcores -------------------------------------------------- */

/* Prepare an lcore slot per worker. Returns 0 or -ENOMEM after printing why. */
int fwd_init(struct pmd *pmd);

/* Free what fwd_init() and the streams hold; forwarding is stopped. */
void fwd_teardown(struct pmd *pmd);

/*
 * Make streams over the started ports and launch the forwarding loop on up
 * to --nb-cores lcores, each first sending 'tx_first' txonly bursts on each
 * of its streams. Prints the configuration like dpdk-testpmd's "start".
 * Returns 0 or -errno after printing why.
 */
int fwd_start(struct pmd *pmd, unsigned int tx_first);

/* Tell the lcores to stop and wait for them; a no-op when they are not running. */
void fwd_stop(struct pmd *pmd);

/* True while the lcores forward. */
bool fwd_running(const struct pmd *pmd);

/*
 * After a change of ports or options, give the running lcores new streams
 * over the started ports except 'leaving' (NULL for none), without stopping
 * them: once this returns, no lcore polls 'leaving' any more. A no-op when
 * forwarding is stopped. Returns 0 or -errno after printing why (the old
 * streams then stay, 'leaving' among them).
 */
int fwd_update(struct pmd *pmd, const struct vhu_port *leaving);

/*
 * After a change of pmd->cfg by a command, give the running lcores streams
 * made with it. Returns 0, or -ENOMEM after printing why, with the
 * configuration put back to 'old'.
 */
int fwd_apply(struct pmd *pmd, const struct pmd_config *old);

/* True when a forwarding lcore has left its loop without being told to. */
bool fwd_lcore_failed(const struct pmd *pmd);

/* Print the streams per lcore (dpdk-testpmd's "show config fwd"). */
void fwd_show_config(struct pmd *pmd);

/* Print each lcore's busy and idle cycles, and cycles per packet over 'rx_packets'. */
void fwd_show_lcore_stats(const struct pmd *pmd, uint64_t packets);

/* --- stats.c: counters and their display ---------------------------------------- */

/* Forget the rates and forward base of port 'id' (attached or detached). */
void stats_forget(struct stats_state *st, const struct vhu_port *port);

/* Take the forward statistics base of every attached port ("start"). */
void stats_fwd_begin(struct stats_state *st);

/* The periodic "NIC statistics" display of every port (dpdk-testpmd's format). */
void stats_show_nic(struct stats_state *st);

/*
 * The "Forward statistics" since the last start, per port and accumulated
 * (dpdk-testpmd's format), then each lcore's load.
 */
void stats_show_fwd(struct pmd *pmd);

/* --- the shell's commands, in the modules they control (cmdline.c has the table) --- */

/*
 * A command handler gets the arguments after the command words, already
 * checked against the command's syntax (counts, port numbers, modes, literal
 * words). It returns 0, or -EINVAL after printing a one-line error about an
 * argument (the shell then prints the usage), or another -errno after
 * printing what went wrong.
 */
typedef int (*pmd_cmd_fn)(struct pmd *pmd, unsigned int argc, char **argv);

int cmd_help(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_quit(struct pmd *pmd, unsigned int argc, char **argv);

int cmd_start(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_start_tx_first(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_stop(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_show_config(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_set_fwd(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_set_burst(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_set_txpkts(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_set_nbcore(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_set_verbose(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_set_record_core_cycles(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_set_icmpecho_addr(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_set_flowgen_flows(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_csum_set(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_csum_show(struct pmd *pmd, unsigned int argc, char **argv);

int cmd_show_port_stats(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_clear_port_stats(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_show_port_xstats(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_show_fwd_stats(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_set_xstats(struct pmd *pmd, unsigned int argc, char **argv);

int cmd_show_port_info(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_port_start(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_port_stop(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_port_attach(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_port_detach(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_show_vhost(struct pmd *pmd, unsigned int argc, char **argv);

int cmd_capture_start(struct pmd *pmd, unsigned int argc, char **argv);
int cmd_capture_stop(struct pmd *pmd, unsigned int argc, char **argv);

/*
 * For handlers taking "all|PORT": the ports it names, in id order, into
 * ports[VHU_PORT_MAX]; returns how many (0 when "all" and none is attached).
 * The shell has checked that PORT is attached.
 */
unsigned int cmd_ports_arg(const char *arg, struct vhu_port **ports);

/* --- ports.c -------------------------------------------------------------------- */

/*
 * Attach a port from its device string with the options' queue counts, its
 * mbuf pool on the socket of its device (or of the first forwarding lcore).
 * Returns it, or NULL with rte_errno set as vhu_port_attach().
 */
struct vhu_port *ports_attach(struct pmd *pmd, const char *devstr);

/*
 * Start a port, and when forwarding runs, add its streams. Returns 0 or
 * -errno after printing why.
 */
int ports_start(struct pmd *pmd, struct vhu_port *port);

/*
 * Stop a port: first take its streams away from the running lcores and stop
 * its capture. Returns 0 or -errno after printing why.
 */
int ports_stop(struct pmd *pmd, struct vhu_port *port);

/* Stop and detach every port (exit). */
void ports_detach_all(struct pmd *pmd);

/* Print link changes since the last call ("Port 0: link up"). */
void ports_check_links(struct pmd *pmd);

/* --- capture.c ------------------------------------------------------------------- */

/* The "Capture:" line of "show port info": off, or where to and how much so far. */
void capture_show(const struct pmd *pmd, const struct vhu_port *port);

/* Stop the capture of a port, if there is one, and print what it wrote. */
void capture_stop_port(struct pmd *pmd, const struct vhu_port *port);

/* --- cmdline.c: the shell -------------------------------------------------------- */

/*
 * Run the shell until "quit", end of input or a signal: first the commands of
 * --cmdline-file, then standard input (with line editing when it is a
 * terminal). Takes pmd->lock around each command. Returns 0, or -errno when
 * the command file cannot be read.
 */
int cmdline_run(struct pmd *pmd, volatile const sig_atomic_t *signal_seen);

/* --- telemetry.c ------------------------------------------------------------------ */

/* Register the /vhu/... telemetry commands, answering for 'pmd'. Returns 0 or -errno. */
int telemetry_init(struct pmd *pmd);

/* Stop answering for pmd (before it is torn down); requests then get an error. */
void telemetry_fini(void);

#endif /* VHU_PMD_H */
