/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forwarding engines and the helpers they share.
 *
 * A stream is one (rx port, rx queue) -> (tx port, tx queue) pair polled by
 * one lcore; an engine is a struct of callbacks run on each stream in turn.
 * Every engine receives and transmits with fwd_rx() and fwd_tx(), so the
 * counting of packets and drops lives in one place.
 */
#ifndef VHU_PMD_FWD_H
#define VHU_PMD_FWD_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "vhu_port.h"
#include "vhu_pmd.h"

/* Room for an engine's per-stream state. */
#define FWD_ENGINE_DATA_SIZE 128

struct fwd_stream {
	struct vhu_port *rx_port; /* where it receives; NULL when the engine does not */
	/* Where it sends; also set for rxonly, whose streams send only for "start tx_first". */
	struct vhu_port *tx_port;
	uint16_t rx_queue;	/* its rx queue on rx_port */
	uint16_t tx_queue;	/* its tx queue on tx_port: the same number */
	uint16_t burst;		/* packets per burst (--burst) */
	unsigned int lcore_id;	/* the lcore that polls it */
	struct rte_mempool *mp; /* for engines that make packets: the lcore's socket */
	/* Engine state, written by its stream_init; read through fwd_engine_data(). */
	alignas(8) uint8_t engine_data[FWD_ENGINE_DATA_SIZE];
} __rte_cache_aligned;

struct fwd_engine {
	const char *name; /* as given to --forward-mode */
	bool rx;	  /* its streams receive (one per rx queue) */
	bool tx;	  /* its streams transmit (one per tx queue when not rx) */
	bool reply;	  /* its streams send on the port they receive from, not its peer */
	/* Optional: set up fs->engine_data before the lcores start. 0 or -errno. */
	int (*stream_init)(struct fwd_stream *fs, const struct pmd_config *cfg);
	/* One burst on one stream; returns true if it moved any packet. Forwarding lcore. */
	bool (*packet_fwd)(struct fwd_stream *fs);
	/* Optional: forwarding starts ("start"); reset the engine's counters. Main lcore. */
	void (*begin)(void);
	/* Optional: print the engine's lines of a port's forward statistics. Main lcore. */
	void (*show_port)(const struct vhu_port *port);
};

extern const struct fwd_engine fwd_io_engine;
extern const struct fwd_engine fwd_mac_engine;
extern const struct fwd_engine fwd_macswap_engine;
extern const struct fwd_engine fwd_5tswap_engine;
extern const struct fwd_engine fwd_rxonly_engine;
extern const struct fwd_engine fwd_txonly_engine;
extern const struct fwd_engine fwd_icmpecho_engine;
extern const struct fwd_engine fwd_flowgen_engine;
extern const struct fwd_engine fwd_csum_engine;

/*
 * "set verbose": bit 0 prints every packet received, bit 1 every packet
 * sent. Written by the main lcore, read by the forwarding lcores.
 */
extern unsigned int fwd_verbose;

/* Print a line per packet of a burst (for fwd_verbose). Forwarding lcore. */
void fwd_dump_burst(const struct fwd_stream *fs, bool tx, struct rte_mbuf *const *pkts, uint16_t n);

/* The i-th engine, or NULL past the last. */
const struct fwd_engine *fwd_engine_get(unsigned int i);
/* The engine called 'name', or NULL. */
const struct fwd_engine *fwd_engine_find(const char *name);

/*
 * The engine state of a stream, as the engine's own type; each engine with
 * state checks at build time that its type fits FWD_ENGINE_DATA_SIZE.
 */
#define fwd_engine_data(fs, type) ((type *)(void *)(fs)->engine_data)

/* Receive one burst on the stream's rx queue. */
static inline uint16_t
fwd_rx(struct fwd_stream *fs, struct rte_mbuf **pkts)
{
	uint16_t n = vhu_port_rx_burst(fs->rx_port, fs->rx_queue, pkts, fs->burst);

	/* Relaxed: a change of verbosity orders nothing else. */
	if (unlikely(n != 0 && (__atomic_load_n(&fwd_verbose, __ATOMIC_RELAXED) & 1) != 0))
		fwd_dump_burst(fs, false, pkts, n);
	return n;
}

/* Send n packets on the stream's tx queue; free and count as dropped those refused. */
static inline void
fwd_tx(struct fwd_stream *fs, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t sent;

	if (unlikely((__atomic_load_n(&fwd_verbose, __ATOMIC_RELAXED) & 2) != 0))
		fwd_dump_burst(fs, true, pkts, n);
	sent = vhu_port_tx_burst(fs->tx_port, fs->tx_queue, pkts, n);
	if (unlikely(sent < n)) {
		rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
		vhu_port_tx_dropped(fs->tx_port, fs->tx_queue, n - sent);
	}
}

/* The Ethernet header of m, or NULL when its first segment is too short for one. */
static inline struct rte_ether_hdr *
fwd_ether_hdr(struct rte_mbuf *m)
{
	if (unlikely(m->data_len < sizeof(struct rte_ether_hdr)))
		return NULL;
	return rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
}

/* Prefetch the packet data that engines rewriting headers will touch. */
static inline void
fwd_prefetch_data(struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
}

/* The MAC address dpdk-testpmd uses for the peer of port 'port_id' (02:00:00:00:00:id). */
static inline void
fwd_peer_mac(uint16_t port_id, struct rte_ether_addr *mac)
{
	*mac = (struct rte_ether_addr){{0x02, 0x00, 0x00, 0x00, 0x00, (uint8_t)port_id}};
}

#endif /* VHU_PMD_FWD_H */
