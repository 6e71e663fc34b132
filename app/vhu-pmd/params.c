/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Command-line options of vhu-pmd (what follows "--"). Parsed before EAL
 * starts, so that a typo costs no hugepage set-up; values that depend on the
 * EAL lcore list are checked in main.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ab.h"
#include "fwd.h"
#include "vhu_pmd.h"

#define DEFAULT_BURST	 32
#define DEFAULT_TXPKTS	 64
#define DEFAULT_NB_MBUFS 16384
#define MIN_NB_MBUFS	 1024
#define MAX_NB_MBUFS	 (1u << 24)
#define MAX_STATS_PERIOD 86400
#define MAX_RUN_TIME	 (365u * 86400)
/* Largest --txpkts segment: what an mbuf of RTE_MBUF_DEFAULT_BUF_SIZE holds. */
#define MAX_TX_SEG_LEN RTE_MBUF_DEFAULT_DATAROOM

enum {
	OPT_PORT = 256,
	OPT_FORWARD_MODE,
	OPT_NB_CORES,
	OPT_BURST,
	OPT_TXPKTS,
	OPT_RXQ,
	OPT_TXQ,
	OPT_STATS_PERIOD,
	OPT_TOTAL_NUM_MBUFS,
	OPT_RUN_TIME,
	OPT_TX_FIRST,
	OPT_CMDLINE_FILE,
	OPT_AUTO_START,
	OPT_FLOWGEN_FLOWS,
	OPT_ICMPECHO_ADDR,
	OPT_AB_PERIOD,
};

static const struct option pmd_options[] = {
	{ "port", required_argument, NULL, OPT_PORT },
	{ "forward-mode", required_argument, NULL, OPT_FORWARD_MODE },
	{ "nb-cores", required_argument, NULL, OPT_NB_CORES },
	{ "burst", required_argument, NULL, OPT_BURST },
	{ "txpkts", required_argument, NULL, OPT_TXPKTS },
	{ "rxq", required_argument, NULL, OPT_RXQ },
	{ "txq", required_argument, NULL, OPT_TXQ },
	{ "stats-period", required_argument, NULL, OPT_STATS_PERIOD },
	{ "total-num-mbufs", required_argument, NULL, OPT_TOTAL_NUM_MBUFS },
	{ "run-time", required_argument, NULL, OPT_RUN_TIME },
	{ "tx-first", no_argument, NULL, OPT_TX_FIRST },
	{ "interactive", no_argument, NULL, 'i' },
	{ "cmdline-file", required_argument, NULL, OPT_CMDLINE_FILE },
	{ "auto-start", no_argument, NULL, OPT_AUTO_START },
	{ "flowgen-flows", required_argument, NULL, OPT_FLOWGEN_FLOWS },
	{ "icmpecho-addr", required_argument, NULL, OPT_ICMPECHO_ADDR },
	{ "ab-period", required_argument, NULL, OPT_AB_PERIOD },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void
pmd_usage(FILE *f, const char *prog)
{
	const struct vhu_port_ops *ops;
	const struct fwd_engine *eng;
	unsigned int i;

	fprintf(f,
		"Usage: %s [EAL options] -- [options]\n"
		"\n"
		"Forward packets between ports until SIGINT or SIGTERM (or --run-time), printing\n"
		"statistics in dpdk-testpmd's format; or, with -i, under the control of a shell\n"
		"of dpdk-testpmd's commands ('help' lists them). Ports are paired: 0 <-> 1,\n"
		"2 <-> 3, ...; an odd last port forwards to itself. Every EAL lcore but the main\n"
		"one may forward.\n"
		"\n"
		"Options:\n"
		"  --port SPEC           add a port (repeatable, at most %u); SPEC is one of\n",
		prog, VHU_PORT_MAX);
	for (i = 0; (ops = vhu_port_driver_get(i)) != NULL; i++)
		fprintf(f, "    %s\n", ops->usage);
	fprintf(f, "                        (see vhu-pmd(1) for each key and its default)\n"
		   "  --forward-mode=MODE   forwarding engine (default io), one of:\n"
		   "                       ");
	for (i = 0; (eng = fwd_engine_get(i)) != NULL; i++)
		fprintf(f, "%s%s %s", i == 0 ? "" : ",",
			i != 0 && i % 6 == 0 ? "\n                       " : "", eng->name);
	fprintf(f,
		"\n"
		"                        io: as received; mac: source MAC of the tx port,\n"
		"                        destination 02:00:00:00:00:<tx port>; macswap: MACs\n"
		"                        swapped; 5tswap: MACs, IP addresses and TCP/UDP ports\n"
		"                        swapped; rxonly: receive and free; txonly: send\n"
		"                        UDP/IPv4 frames of --txpkts bytes; icmpecho: answer\n"
		"                        ARP and ping on the port they came in on, drop the\n"
		"                        rest; flowgen: send --txpkts frames over\n"
		"                        --flowgen-flows UDP flows, drop what comes in; csum:\n"
		"                        as io, counting wrong IPv4/TCP/UDP/ICMP checksums and\n"
		"                        setting them anew, by the tx port's offload where it\n"
		"                        has one, else in software ('csum show PORT')\n"
		"  --nb-cores=N          forwarding lcores, 1..(EAL lcores - 1) (default: all\n"
		"                        but the main lcore, no more than there are streams)\n"
		"  --burst=N             packets per burst, 1..%u (default %u)\n"
		"  --txpkts=N[,N...]     txonly and flowgen frame size in bytes, or the sizes of\n"
		"                        up to %u segments, each 1..%u, the first at least %u\n"
		"                        (default %u)\n"
		"  --flowgen-flows=N     flows of flowgen, 1..%u (default %u)\n"
		"  --icmpecho-addr=A     the IPv4 address icmpecho answers for, or 'any'\n"
		"                        (default any: every unicast address, as a proxy)\n"
		"  --rxq=N               rx queues used per port, 1..%u (default 1), at most\n"
		"                        the port's queues=; forwarding needs --txq >= --rxq\n"
		"  --txq=N               tx queues used per port, 1..%u (default 1)\n"
		"  --stats-period=S      show port statistics every S seconds, 0..%u\n"
		"                        (default 0: only the totals at exit)\n"
		"  --total-num-mbufs=N   mbufs in the pool of each NUMA socket, %u..%u\n"
		"                        (default %u)\n"
		"  --run-time=S          stop after S seconds, 0..%u (default 0: run until\n"
		"                        SIGINT or SIGTERM)\n"
		"  --ab-period=MS        A/B switch, to compare two code paths in one run: flip\n"
		"                        libvhu's variant (0, 1) every MS ms, %u..%u, and\n"
		"                        print cycles/packet and Mpps per variant with the\n"
		"                        --stats-period display and at exit (default 0: off;\n"
		"                        variant 1: without the write prefetches)\n"
		"  --tx-first            send one burst of txonly frames on every stream before\n"
		"                        forwarding starts (e.g. to feed a ring loopback)\n"
		"  -i, --interactive     run the shell instead of forwarding at once; it reads\n"
		"                        commands from standard input (line editing on a\n"
		"                        terminal), 'help' lists them, 'quit' or end of input\n"
		"                        ends it; --stats-period and --run-time do not apply\n"
		"  --cmdline-file=F      with -i: run the commands in file F first\n"
		"  --auto-start          with -i: start forwarding before the first command\n"
		"  -h, --help            show this help and exit\n"
		"\n"
		"Exit status: 0 after a clean stop, 1 on an EAL or run-time failure, 2 on a bad\n"
		"option or value.\n",
		PMD_BURST_MAX, DEFAULT_BURST, PMD_TX_SEGS_MAX, MAX_TX_SEG_LEN, PMD_TX_HDR_LEN,
		DEFAULT_TXPKTS, PMD_FLOWGEN_FLOWS_MAX, PMD_FLOWGEN_FLOWS_DEFAULT,
		VHU_PORT_MAX_QUEUES, VHU_PORT_MAX_QUEUES, MAX_STATS_PERIOD, MIN_NB_MBUFS,
		MAX_NB_MBUFS, DEFAULT_NB_MBUFS, MAX_RUN_TIME, AB_PERIOD_MIN_MS, AB_PERIOD_MAX_MS);
}

void
pmd_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PMD_NAME ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see '" PMD_NAME " -- --help'\n");
}

bool
pmd_parse_uint(const char *str, unsigned long min, unsigned long max, unsigned long *val)
{
	unsigned long v;
	char *end;

	if (str[0] < '0' || str[0] > '9')
		return false;
	errno = 0;
	v = strtoul(str, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*val = v;
	return true;
}

static bool
parse_opt_uint(const char *opt, const char *str, unsigned long min, unsigned long max,
	       unsigned long *val)
{
	if (pmd_parse_uint(str, min, max, val))
		return true;
	pmd_usage_error("--%s=%s: not a number in the valid range %lu..%lu", opt, str, min, max);
	return false;
}

void
pmd_txpkts_rule(char *buf, size_t len)
{
	snprintf(buf, len,
		 "give a frame size or up to %u comma-separated segment sizes, each 1..%u, "
		 "the first at least %u (Ethernet, IPv4 and UDP headers)",
		 PMD_TX_SEGS_MAX, MAX_TX_SEG_LEN, PMD_TX_HDR_LEN);
}

/* "64" or "42,1024,1024". */
bool
pmd_parse_txpkts(const char *str, struct pmd_config *cfg)
{
	uint16_t seg_len[PMD_TX_SEGS_MAX];
	char buf[128], *tok, *save = NULL;
	unsigned long len;
	uint16_t n = 0;
	uint32_t total = 0;

	if (strlen(str) >= sizeof(buf))
		return false;
	strcpy(buf, str);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (n == PMD_TX_SEGS_MAX || !pmd_parse_uint(tok, 1, MAX_TX_SEG_LEN, &len))
			return false;
		seg_len[n++] = len;
		total += len;
	}
	/* strtok_r() skips empty fields: refuse them here rather than guess. */
	if (n == 0 || seg_len[0] < PMD_TX_HDR_LEN || str[0] == ',' || str[strlen(str) - 1] == ',' ||
	    strstr(str, ",,") != NULL)
		return false;
	memcpy(cfg->tx_seg_len, seg_len, n * sizeof(seg_len[0]));
	cfg->tx_nb_segs = n;
	cfg->tx_pkt_len = total;
	return true;
}

bool
pmd_parse_icmpecho_addr(const char *str, uint32_t *addr)
{
	struct in_addr a;

	if (strcmp(str, "any") == 0) {
		*addr = 0;
		return true;
	}
	if (inet_pton(AF_INET, str, &a) != 1 || a.s_addr == 0)
		return false;
	*addr = a.s_addr;
	return true;
}

static bool
parse_txpkts(const char *str, struct pmd_config *cfg)
{
	char rule[160];

	if (pmd_parse_txpkts(str, cfg))
		return true;
	pmd_txpkts_rule(rule, sizeof(rule));
	pmd_usage_error("--txpkts=%s: %s", str, rule);
	return false;
}

static bool
parse_forward_mode(const char *str, struct pmd_config *cfg)
{
	const struct fwd_engine *eng;
	char names[128] = "";
	size_t off = 0;
	unsigned int i;

	cfg->engine = fwd_engine_find(str);
	if (cfg->engine != NULL)
		return true;
	for (i = 0; (eng = fwd_engine_get(i)) != NULL && off < sizeof(names); i++)
		off += snprintf(names + off, sizeof(names) - off, "%s%s", i == 0 ? "" : ", ",
				eng->name);
	pmd_usage_error("--forward-mode=%s: unknown mode; valid modes: %s", str, names);
	return false;
}

static bool
parse_port(const char *str, struct pmd_config *cfg)
{
	if (cfg->nb_ports == VHU_PORT_MAX) {
		pmd_usage_error("--port %s: too many ports; at most %u", str, VHU_PORT_MAX);
		return false;
	}
	/* Driver and keys now, before EAL starts; the port layer logs what is wrong. */
	if (vhu_port_devstr_check(str) != 0) {
		pmd_usage_error("--port %s: bad device string (see the message above)", str);
		return false;
	}
	cfg->ports[cfg->nb_ports++] = str;
	return true;
}

static void
config_defaults(struct pmd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->engine = &fwd_io_engine;
	cfg->burst = DEFAULT_BURST;
	cfg->nb_rxq = 1;
	cfg->nb_txq = 1;
	cfg->tx_seg_len[0] = DEFAULT_TXPKTS;
	cfg->tx_nb_segs = 1;
	cfg->tx_pkt_len = DEFAULT_TXPKTS;
	cfg->nb_mbufs = DEFAULT_NB_MBUFS;
	cfg->flowgen_flows = PMD_FLOWGEN_FLOWS_DEFAULT;
}

/* Apply one option; false after printing why it is wrong. */
static bool
parse_one(int opt, const char *arg, struct pmd_config *cfg)
{
	unsigned long v;

	switch (opt) {
	case OPT_PORT:
		return parse_port(arg, cfg);
	case OPT_FORWARD_MODE:
		return parse_forward_mode(arg, cfg);
	case OPT_TXPKTS:
		return parse_txpkts(arg, cfg);
	case OPT_NB_CORES:
		if (!parse_opt_uint("nb-cores", arg, 1, RTE_MAX_LCORE - 1, &v))
			return false;
		cfg->nb_cores = v;
		return true;
	case OPT_BURST:
		if (!parse_opt_uint("burst", arg, 1, PMD_BURST_MAX, &v))
			return false;
		cfg->burst = v;
		return true;
	case OPT_RXQ:
		if (!parse_opt_uint("rxq", arg, 1, VHU_PORT_MAX_QUEUES, &v))
			return false;
		cfg->nb_rxq = v;
		return true;
	case OPT_TXQ:
		if (!parse_opt_uint("txq", arg, 1, VHU_PORT_MAX_QUEUES, &v))
			return false;
		cfg->nb_txq = v;
		return true;
	case OPT_STATS_PERIOD:
		if (!parse_opt_uint("stats-period", arg, 0, MAX_STATS_PERIOD, &v))
			return false;
		cfg->stats_period = v;
		return true;
	case OPT_TOTAL_NUM_MBUFS:
		if (!parse_opt_uint("total-num-mbufs", arg, MIN_NB_MBUFS, MAX_NB_MBUFS, &v))
			return false;
		cfg->nb_mbufs = v;
		return true;
	case OPT_TX_FIRST:
		cfg->tx_first = true;
		return true;
	case OPT_RUN_TIME:
		if (!parse_opt_uint("run-time", arg, 0, MAX_RUN_TIME, &v))
			return false;
		cfg->run_time = v;
		return true;
	case 'i':
		cfg->interactive = true;
		return true;
	case OPT_CMDLINE_FILE:
		cfg->cmdline_file = arg;
		return true;
	case OPT_AUTO_START:
		cfg->auto_start = true;
		return true;
	case OPT_FLOWGEN_FLOWS:
		if (!parse_opt_uint("flowgen-flows", arg, 1, PMD_FLOWGEN_FLOWS_MAX, &v))
			return false;
		cfg->flowgen_flows = v;
		return true;
	case OPT_AB_PERIOD:
		if (!parse_opt_uint("ab-period", arg, AB_PERIOD_MIN_MS, AB_PERIOD_MAX_MS, &v))
			return false;
		cfg->ab_period_ms = v;
		return true;
	case OPT_ICMPECHO_ADDR:
		if (pmd_parse_icmpecho_addr(arg, &cfg->icmpecho_addr))
			return true;
		pmd_usage_error("--icmpecho-addr=%s: give an IPv4 address such as 10.0.0.2, or "
				"'any'",
				arg);
		return false;
	}
	return false;
}

/* Checks between options, once all are known. */
static bool
config_check(const struct pmd_config *cfg)
{
	if (!cfg->interactive && (cfg->cmdline_file != NULL || cfg->auto_start)) {
		pmd_usage_error("%s only applies to the shell; add -i",
				cfg->cmdline_file != NULL ? "--cmdline-file" : "--auto-start");
		return false;
	}
	if (cfg->interactive && cfg->ab_period_ms != 0) {
		pmd_usage_error("--ab-period=%u flips variants from the statistics loop, which "
				"the shell (-i) does not run; drop -i",
				cfg->ab_period_ms);
		return false;
	}
	/* The shell can attach ports later. */
	if (cfg->nb_ports == 0 && !cfg->interactive) {
		pmd_usage_error("no port given; add at least one --port SPEC, e.g. --port ring "
				"(or run the shell, -i, and 'port attach' them)");
		return false;
	}
	if (cfg->engine->rx && cfg->engine->tx && cfg->nb_rxq > cfg->nb_txq) {
		pmd_usage_error(
			"--rxq=%u is more than --txq=%u: %s forwarding sends what rx queue q "
			"receives on tx queue q; give --txq=%u or more",
			cfg->nb_rxq, cfg->nb_txq, cfg->engine->name, cfg->nb_rxq);
		return false;
	}
	return true;
}

enum pmd_parse_result
pmd_parse_args(int argc, char **argv, struct pmd_config *cfg)
{
	int opt, idx;

	config_defaults(cfg);
	/* EAL may have run getopt on another argv; start afresh, and report errors ourselves. */
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hi", pmd_options, &idx)) != -1) {
		switch (opt) {
		case 'h':
			pmd_usage(stdout, PMD_NAME);
			return PMD_PARSE_HELP;
		case ':':
			pmd_usage_error("%s needs a value", argv[optind - 1]);
			return PMD_PARSE_ERROR;
		case '?':
			if (strncmp(argv[optind - 1], "--", 2) == 0)
				pmd_usage_error("unknown option '%s'", argv[optind - 1]);
			else
				pmd_usage_error("unknown option '-%c'", optopt);
			return PMD_PARSE_ERROR;
		default:
			if (!parse_one(opt, optarg, cfg))
				return PMD_PARSE_ERROR;
		}
	}
	if (optind < argc) {
		pmd_usage_error("unexpected argument '%s'", argv[optind]);
		return PMD_PARSE_ERROR;
	}
	return config_check(cfg) ? PMD_PARSE_RUN : PMD_PARSE_ERROR;
}
