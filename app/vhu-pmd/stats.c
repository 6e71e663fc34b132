/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Statistics display, and the shell commands that show and clear counters.
 * The layout of the "NIC statistics" and "Forward statistics" blocks is
 * dpdk-testpmd's, line for line and space for space, because test scripts
 * read both programs with the same regular expressions; change it only
 * together with them. Lines vhu adds (per queue, per lcore) start with words
 * that those expressions do not match.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "fwd.h"
#include "vhu_pmd.h"
#include "vhu_vhost_user_port.h"

void
stats_forget(struct stats_state *st, const struct vhu_port *port)
{
	struct vhu_port_stats s = {0};
	uint64_t now = rte_get_tsc_cycles();
	uint16_t q;

	vhu_port_stats_get(port, &s);
	st->prev[port->id] = (struct stats_prev){
		.rx_packets = s.rx.packets,
		.rx_bytes = s.rx.bytes,
		.tx_packets = s.tx.packets,
		.tx_bytes = s.tx.bytes,
		.tsc = now,
	};
	for (q = 0; q < VHU_PORT_MAX_QUEUES; q++) {
		vhu_port_queue_stats_get(port, q, &s);
		st->qprev[port->id][q] = (struct stats_prev){
			.rx_packets = s.rx.packets,
			.rx_bytes = s.rx.bytes,
			.tx_packets = s.tx.packets,
			.tx_bytes = s.tx.bytes,
			.tsc = now,
		};
	}
	vhu_port_stats_get(port, &st->fwd_base[port->id]);
}

void
stats_fwd_begin(struct stats_state *st)
{
	struct vhu_port *ports[VHU_PORT_MAX];
	unsigned int i, n = pmd_ports(ports);

	for (i = 0; i < n; i++)
		vhu_port_stats_get(ports[i], &st->fwd_base[ports[i]->id]);
}

/* Events per second over 'cycles' TSC cycles. */
static uint64_t
per_second(uint64_t events, uint64_t cycles)
{
	if (cycles == 0)
		return 0;
	return (uint64_t)((double)events * (double)rte_get_tsc_hz() / (double)cycles);
}

/* Rates since 'prev', which then becomes 's' at 'now'. */
static void
stats_rates(struct stats_prev *prev, const struct vhu_port_stats *s, uint64_t now, uint64_t *rx_pps,
	    uint64_t *rx_bps, uint64_t *tx_pps, uint64_t *tx_bps)
{
	uint64_t cycles = now - prev->tsc;

	*rx_pps = per_second(s->rx.packets - prev->rx_packets, cycles);
	*rx_bps = per_second(s->rx.bytes - prev->rx_bytes, cycles) * 8;
	*tx_pps = per_second(s->tx.packets - prev->tx_packets, cycles);
	*tx_bps = per_second(s->tx.bytes - prev->tx_bytes, cycles) * 8;
	*prev = (struct stats_prev){
		.rx_packets = s->rx.packets,
		.rx_bytes = s->rx.bytes,
		.tx_packets = s->tx.packets,
		.tx_bytes = s->tx.bytes,
		.tsc = now,
	};
}

/* One line per queue in use, when the port has more than one. */
static void
stats_show_queues(struct stats_state *st, const struct vhu_port *port, uint64_t now)
{
	uint64_t rx_pps, rx_bps, tx_pps, tx_bps;
	struct vhu_port_stats s;
	uint16_t q, nb = RTE_MAX(port->nb_rxq, port->nb_txq);

	if (nb < 2)
		return;
	printf("\n  Per queue (rates since last show)\n");
	for (q = 0; q < nb; q++) {
		vhu_port_queue_stats_get(port, q, &s);
		stats_rates(&st->qprev[port->id][q], &s, now, &rx_pps, &rx_bps, &tx_pps, &tx_bps);
		if (q < port->nb_rxq)
			printf("  Queue %2u rx: packets %-12" PRIu64 " bytes %-14" PRIu64
			       " missed %" PRIu64 " errors %" PRIu64 " nombuf %" PRIu64
			       " pps %" PRIu64 " bps %" PRIu64 "\n",
			       q, s.rx.packets, s.rx.bytes, s.rx.drops, s.rx.errors, s.rx.nombuf,
			       rx_pps, rx_bps);
		if (q < port->nb_txq)
			printf("  Queue %2u tx: packets %-12" PRIu64 " bytes %-14" PRIu64
			       " dropped %" PRIu64 " errors %" PRIu64 " pps %" PRIu64
			       " bps %" PRIu64 "\n",
			       q, s.tx.packets, s.tx.bytes, s.tx.drops, s.tx.errors, tx_pps,
			       tx_bps);
	}
}

static void
stats_show_nic_port(struct stats_state *st, const struct vhu_port *port)
{
	uint64_t rx_pps, rx_bps, tx_pps, tx_bps, now;
	char features[512];
	struct vhu_port_stats s;

	vhu_port_stats_get(port, &s);
	now = rte_get_tsc_cycles();
	stats_rates(&st->prev[port->id], &s, now, &rx_pps, &rx_bps, &tx_pps, &tx_bps);
	printf("\n  ######################## NIC statistics for port %-2u "
	       "########################\n",
	       port->id);
	printf("  RX-packets: %-10" PRIu64 " RX-missed: %-10" PRIu64 " RX-bytes:  %-" PRIu64 "\n",
	       s.rx.packets, s.rx.drops, s.rx.bytes);
	printf("  RX-errors: %-" PRIu64 "\n", s.rx.errors);
	printf("  RX-nombuf:  %-10" PRIu64 "\n", s.rx.nombuf);
	printf("  TX-packets: %-10" PRIu64 " TX-errors: %-10" PRIu64 " TX-bytes:  %-" PRIu64 "\n",
	       s.tx.packets, s.tx.errors, s.tx.bytes);
	/* dpdk-testpmd has no TX-dropped line here; vhu counts refused packets, so it shows them.
	 */
	printf("  TX-dropped: %-10" PRIu64 "\n", s.tx.drops);
	/* What the peer agreed to decides the work per packet: show it with the rates. */
	if (vhu_port_features(port, features, sizeof(features)) > 0)
		printf("  Features: %s\n", features);
	printf("\n  Throughput (since last show)\n");
	printf("  Rx-pps: %12" PRIu64 "          Rx-bps: %12" PRIu64 "\n", rx_pps, rx_bps);
	printf("  Tx-pps: %12" PRIu64 "          Tx-bps: %12" PRIu64 "\n", tx_pps, tx_bps);
	stats_show_queues(st, port, now);
	printf("  ############################################################################\n");
}

void
stats_show_nic(struct stats_state *st)
{
	struct vhu_port *ports[VHU_PORT_MAX];
	unsigned int i, n = pmd_ports(ports);

	/* Like dpdk-testpmd, redraw in place on a terminal; a log keeps every display. */
	if (isatty(STDOUT_FILENO))
		printf("\033[2J\033[1;1H");
	printf("\nPort statistics ====================================");
	for (i = 0; i < n; i++)
		stats_show_nic_port(st, ports[i]);
	fflush(stdout);
}

static void
stats_show_burst_cycles_dir(unsigned int port_id, const char *what,
			    const struct vhu_vhost_user_burst_cycles *c)
{
	printf("  port %u vhost %s: backend cycles/packet=%.2f (cycles=%" PRIu64
	       " / packets=%" PRIu64 "; calls=%" PRIu64 ", empty calls=%" PRIu64
	       ", empty cycles=%" PRIu64 "; stalled calls=%" PRIu64 ", stalled packets=%" PRIu64
	       ", stalled cycles=%" PRIu64 ") at %" PRIu64 " MHz Clock, since the port was made\n",
	       port_id, what, c->packets != 0 ? (double)c->cycles / (double)c->packets : 0.0,
	       c->cycles, c->packets, c->calls, c->empty_calls, c->empty_cycles, c->stalled_calls,
	       c->stalled_packets, c->stalled_cycles, rte_get_tsc_hz() / 1000000);
}

/*
 * The cycles inside each vhost-user port's backend calls (burst-cycles=1),
 * since the port was made, in the line test/perf/vhost_burst_cycles.c prints
 * for DPDK's rte_vhost bursts.
 */
static void
stats_show_burst_cycles(struct vhu_port *const *ports, unsigned int n)
{
	struct vhu_vhost_user_burst_cycles enq, deq;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (vhu_vhost_user_port_burst_cycles(ports[i], &enq, &deq) != 0)
			continue;
		stats_show_burst_cycles_dir(ports[i]->id, "enqueue", &enq);
		stats_show_burst_cycles_dir(ports[i]->id, "dequeue", &deq);
	}
}

void
stats_show_fwd(struct pmd *pmd)
{
	struct vhu_port_stats s, total = {0};
	struct vhu_port *ports[VHU_PORT_MAX];
	unsigned int i, n = pmd_ports(ports);

	for (i = 0; i < n; i++) {
		const struct vhu_port_stats *base = &pmd->stats.fwd_base[ports[i]->id];

		vhu_port_stats_get(ports[i], &s);
		s.rx.packets -= base->rx.packets;
		s.rx.drops -= base->rx.drops;
		s.rx.errors -= base->rx.errors;
		s.rx.nombuf -= base->rx.nombuf;
		s.tx.packets -= base->tx.packets;
		s.tx.drops -= base->tx.drops;
		total.rx.packets += s.rx.packets;
		total.rx.drops += s.rx.drops;
		total.rx.nombuf += s.rx.nombuf;
		total.tx.packets += s.tx.packets;
		total.tx.drops += s.tx.drops;
		printf("\n  ---------------------- Forward statistics for port %-2u "
		       "----------------------\n",
		       ports[i]->id);
		printf("  RX-packets: %-14" PRIu64 " RX-dropped: %-14" PRIu64 "RX-total: %-" PRIu64
		       "\n",
		       s.rx.packets, s.rx.drops, s.rx.packets + s.rx.drops);
		if (s.rx.errors + s.rx.nombuf > 0) {
			printf("  RX-error: %-" PRIu64 "\n", s.rx.errors);
			printf("  RX-nombufs: %-14" PRIu64 "\n", s.rx.nombuf);
		}
		printf("  TX-packets: %-14" PRIu64 " TX-dropped: %-14" PRIu64 "TX-total: %-" PRIu64
		       "\n",
		       s.tx.packets, s.tx.drops, s.tx.packets + s.tx.drops);
		if (pmd->cfg.engine->show_port != NULL)
			pmd->cfg.engine->show_port(ports[i]);
		printf("  -------------------------------------------------------------------------"
		       "---\n");
	}
	printf("\n  +++++++++++++++ Accumulated forward statistics for all ports"
	       "+++++++++++++++\n");
	printf("  RX-packets: %-14" PRIu64 " RX-dropped: %-14" PRIu64 "RX-total: %-" PRIu64 "\n",
	       total.rx.packets, total.rx.drops, total.rx.packets + total.rx.drops);
	printf("  TX-packets: %-14" PRIu64 " TX-dropped: %-14" PRIu64 "TX-total: %-" PRIu64 "\n",
	       total.tx.packets, total.tx.drops, total.tx.packets + total.tx.drops);
	if (total.rx.nombuf > 0)
		printf("  RX-nombufs: %-14" PRIu64 "\n", total.rx.nombuf);
	printf("  ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++\n");
	/* Packets per busy cycle: what was received, or sent by an engine that only sends. */
	fwd_show_lcore_stats(pmd, pmd->cfg.engine->rx ? total.rx.packets : total.tx.packets);
	stats_show_burst_cycles(ports, n);
	fflush(stdout);
}

/* --- commands --------------------------------------------------------------------- */

int
cmd_show_port_stats(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct vhu_port *ports[VHU_PORT_MAX];
	unsigned int i, n = cmd_ports_arg(argv[0], ports);

	if (n == 0)
		printf("No port is attached; attach one with 'port attach SPEC'\n");
	for (i = 0; i < n; i++)
		stats_show_nic_port(&pmd->stats, ports[i]);
	return 0;
}

int
cmd_clear_port_stats(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct vhu_port *ports[VHU_PORT_MAX];
	struct vhu_port_stats before, *base;
	unsigned int i, n = cmd_ports_arg(argv[0], ports);

	for (i = 0; i < n; i++) {
		/*
		 * The forward statistics count from "start", not from this reset: move
		 * their base back by what the reset takes away (modulo 2^64, which
		 * the subtraction in stats_show_fwd() undoes).
		 */
		vhu_port_stats_get(ports[i], &before);
		vhu_port_stats_reset(ports[i]);
		base = &pmd->stats.fwd_base[ports[i]->id];
		base->rx.packets -= before.rx.packets;
		base->rx.drops -= before.rx.drops;
		base->rx.errors -= before.rx.errors;
		base->rx.nombuf -= before.rx.nombuf;
		base->tx.packets -= before.tx.packets;
		base->tx.drops -= before.tx.drops;
		pmd->stats.prev[ports[i]->id] = (struct stats_prev){.tsc = rte_get_tsc_cycles()};
		memset(pmd->stats.qprev[ports[i]->id], 0, sizeof(pmd->stats.qprev[0]));
		printf("\n  NIC statistics for port %u cleared\n", ports[i]->id);
	}
	return 0;
}

/* Enough for every statistic of a port with all its queues in use. */
#define XSTATS_MAX 1024

int
cmd_show_port_xstats(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct vhu_port *ports[VHU_PORT_MAX];
	unsigned int i, n = cmd_ports_arg(argv[0], ports);
	struct vhu_port_xstat *xs;
	int nb, j;

	xs = calloc(XSTATS_MAX, sizeof(*xs));
	if (xs == NULL) {
		pmd_error("out of memory for the extended statistics");
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		nb = vhu_port_xstats_get(ports[i], xs, XSTATS_MAX);
		printf("###### NIC extended statistics for port %-2u\n", ports[i]->id);
		if (nb < 0) {
			pmd_error("port %u: cannot read its extended statistics: %s", ports[i]->id,
				  strerror(-nb));
			continue;
		}
		for (j = 0; j < nb && j < XSTATS_MAX; j++)
			printf("%s: %" PRIu64 "\n", xs[j].name, xs[j].value);
		if (!ports[i]->xstats)
			printf("(size bins and broadcast/multicast are not counted: 'set xstats "
			       "on')\n");
	}
	free(xs);
	return 0;
}

int
cmd_show_fwd_stats(struct pmd *pmd, unsigned int argc, char **argv)
{
	stats_show_fwd(pmd);
	return 0;
}

int
cmd_set_xstats(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct vhu_port *ports[VHU_PORT_MAX];
	bool on = strcmp(argv[0], "on") == 0;
	unsigned int i, n = pmd_ports(ports);

	for (i = 0; i < n; i++)
		vhu_port_xstats_enable(ports[i], on);
	printf("Counting of frame sizes, broadcast and multicast is %s on every port\n",
	       on ? "on" : "off");
	return 0;
}
