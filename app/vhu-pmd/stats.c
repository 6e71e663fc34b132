/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Statistics display. The layout is dpdk-testpmd's, line for line and space
 * for space, because test scripts read both programs with the same regular
 * expressions; change it only together with them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "vhu_pmd.h"

void
stats_reset(struct stats_state *st, struct vhu_port *const *ports, unsigned int nb_ports)
{
	uint64_t now = rte_get_tsc_cycles();
	unsigned int p;

	for (p = 0; p < nb_ports; p++) {
		vhu_port_stats_reset(ports[p]);
		st->prev[p] = (struct stats_prev){.tsc = now};
	}
}

/* Events per second over 'cycles' TSC cycles. */
static uint64_t
per_second(uint64_t events, uint64_t cycles)
{
	if (cycles == 0)
		return 0;
	return (uint64_t)((double)events * (double)rte_get_tsc_hz() / (double)cycles);
}

static void
stats_show_nic_port(struct stats_prev *prev, const struct vhu_port *port)
{
	struct vhu_port_stats s;
	uint64_t now, cycles;

	vhu_port_stats_get(port, &s);
	now = rte_get_tsc_cycles();
	cycles = now - prev->tsc;
	printf("\n  ######################## NIC statistics for port %-2u "
	       "########################\n",
	       port->id);
	printf("  RX-packets: %-10" PRIu64 " RX-missed: %-10" PRIu64 " RX-bytes:  %-" PRIu64 "\n",
	       s.rx.packets, s.rx.drops, s.rx.bytes);
	printf("  RX-errors: %-" PRIu64 "\n", s.rx.errors);
	printf("  RX-nombuf:  %-10" PRIu64 "\n", s.rx.nombuf);
	printf("  TX-packets: %-10" PRIu64 " TX-errors: %-10" PRIu64 " TX-bytes:  %-" PRIu64 "\n",
	       s.tx.packets, s.tx.errors, s.tx.bytes);
	printf("\n  Throughput (since last show)\n");
	printf("  Rx-pps: %12" PRIu64 "          Rx-bps: %12" PRIu64 "\n",
	       per_second(s.rx.packets - prev->rx_packets, cycles),
	       per_second(s.rx.bytes - prev->rx_bytes, cycles) * 8);
	printf("  Tx-pps: %12" PRIu64 "          Tx-bps: %12" PRIu64 "\n",
	       per_second(s.tx.packets - prev->tx_packets, cycles),
	       per_second(s.tx.bytes - prev->tx_bytes, cycles) * 8);
	printf("  ############################################################################\n");
	*prev = (struct stats_prev){
		.rx_packets = s.rx.packets,
		.rx_bytes = s.rx.bytes,
		.tx_packets = s.tx.packets,
		.tx_bytes = s.tx.bytes,
		.tsc = now,
	};
}

void
stats_show_nic(struct stats_state *st, struct vhu_port *const *ports, unsigned int nb_ports)
{
	unsigned int p;

	/* Like dpdk-testpmd, redraw in place on a terminal; a log keeps every display. */
	if (isatty(STDOUT_FILENO))
		printf("\033[2J\033[1;1H");
	printf("\nPort statistics ====================================");
	for (p = 0; p < nb_ports; p++)
		stats_show_nic_port(&st->prev[p], ports[p]);
	fflush(stdout);
}

void
stats_show_fwd(struct vhu_port *const *ports, unsigned int nb_ports)
{
	struct vhu_port_stats s, total = {0};
	unsigned int p;

	for (p = 0; p < nb_ports; p++) {
		vhu_port_stats_get(ports[p], &s);
		total.rx.packets += s.rx.packets;
		total.rx.drops += s.rx.drops;
		total.rx.nombuf += s.rx.nombuf;
		total.tx.packets += s.tx.packets;
		total.tx.drops += s.tx.drops;
		printf("\n  ---------------------- Forward statistics for port %-2u "
		       "----------------------\n",
		       ports[p]->id);
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
	fflush(stdout);
}
