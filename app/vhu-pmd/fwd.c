/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Streams, their assignment to lcores, the forwarding loop, and the shell
 * commands that control them.
 *
 * Topology is dpdk-testpmd's default, "paired": of the started ports in id
 * order, the first and second forward to each other, the third and fourth,
 * and so on; with an odd number of ports the last one forwards to itself. A
 * stream of an engine that receives is (port p, rx queue q) -> (peer of p,
 * tx queue q); of an engine that only transmits, tx queue q of the peer of p.
 * Streams go round-robin to the forwarding lcores, so each queue is polled by
 * exactly one lcore.
 *
 * Changing streams under running lcores (a port started, stopped, attached or
 * detached; "set fwd", "set burst", "set txpkts") never stops them. Each
 * lcore reads its stream list through one pointer, once per loop iteration,
 * and reports a quiescent state after the iteration (vhu_rcu.h: vhu-pmd's
 * own QSBR, for its stream lists and captures; the port libraries need no
 * registration, their bursts hand rings over by themselves). The main
 * lcore builds the new lists, publishes them and waits for a grace period
 * before it frees the old ones or stops a port. A queue must never be polled
 * by two lcores at once, so the change takes two steps: first every lcore
 * gets the part of its old list whose queues stay with it, then, after a
 * grace period, the new lists (fwd_publish()).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "fwd.h"
#include "vhu_rcu.h"

/* Most bursts of "start tx_first N". */
#define TX_FIRST_MAX 10000

/*
 * Pauses after a turn that found nothing (about 100 ns on the reference
 * machine). A turn that finds a ring empty has read the line the guest is
 * writing its next descriptors into; polling it again at once takes the line
 * from the guest's CPU over and over, and the sender, the slower side, slows
 * down. In-process A/B, packed ring, DPDK virtio-user txonly sending to
 * vhu-pmd rxonly, adjacent 4-second blocks in the machine's fast mode, 4
 * pauses against 1: 64 B x1.076 (median of 13 pairs, 11 above 1), 1518 B
 * x1.041 (5 of 5 above 1); host->guest 64 B x1.001 (37 pairs).
 */
#define FWD_IDLE_PAUSES 4

/* What one lcore polls; immutable once published. */
struct fwd_lcore_streams {
	const struct fwd_engine *engine; /* the engine of every stream here */
	uint16_t nb_streams;
	struct fwd_stream *streams[];
};

/* A set of streams and their assignment to lcores. */
struct fwd_table {
	const struct fwd_engine *engine;
	unsigned int nb_ports;		  /* the ports it was made over */
	unsigned int nb_streams;	  /* size of streams; 0 when it does not own them */
	struct fwd_stream **streams;	  /* all streams, in (port, queue) order */
	unsigned int nb_lcores;		  /* size of lcore */
	struct fwd_lcore_streams **lcore; /* the list of each lcore, by index in ctx->lcores */
};

/* What an lcore polls before it has streams, and after a table is gone. */
static const struct fwd_lcore_streams fwd_no_streams;

unsigned int fwd_verbose;

/* "set record-core-cycles": the lcores time their loop iterations. Read by them. */
static bool fwd_record_cycles = true;

static const struct fwd_engine *const fwd_engines[] = {
	&fwd_io_engine,	    &fwd_mac_engine,	&fwd_macswap_engine,
	&fwd_5tswap_engine, &fwd_rxonly_engine, &fwd_txonly_engine,
	&fwd_icmpecho_engine, &fwd_flowgen_engine, &fwd_csum_engine,
};

const struct fwd_engine *
fwd_engine_get(unsigned int i)
{
	return i < RTE_DIM(fwd_engines) ? fwd_engines[i] : NULL;
}

const struct fwd_engine *
fwd_engine_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(fwd_engines); i++) {
		if (strcmp(fwd_engines[i]->name, name) == 0)
			return fwd_engines[i];
	}
	return NULL;
}

/* The lines of "set verbose", built whole so that lcores' lines do not mix. */
void
fwd_dump_burst(const struct fwd_stream *fs, bool tx, struct rte_mbuf *const *pkts, uint16_t n)
{
	const struct vhu_port *port = tx ? fs->tx_port : fs->rx_port;
	char src[RTE_ETHER_ADDR_FMT_SIZE], dst[RTE_ETHER_ADDR_FMT_SIZE], line[256];
	uint16_t i;

	snprintf(line, sizeof(line), "port %u/queue %u: %s %u packets\n", port->id,
		 tx ? fs->tx_queue : fs->rx_queue, tx ? "sent" : "received", n);
	fputs(line, stdout);
	for (i = 0; i < n; i++) {
		const struct rte_ether_hdr *eth = fwd_ether_hdr(pkts[i]);

		if (eth == NULL) {
			snprintf(line, sizeof(line), "  runt of %u bytes - nb_segs=%u\n",
				 pkts[i]->pkt_len, pkts[i]->nb_segs);
		} else {
			rte_ether_format_addr(src, sizeof(src), &eth->src_addr);
			rte_ether_format_addr(dst, sizeof(dst), &eth->dst_addr);
			snprintf(line, sizeof(line),
				 "  src=%s - dst=%s - type=0x%04x - length=%u - nb_segs=%u\n", src,
				 dst, rte_be_to_cpu_16(eth->ether_type), pkts[i]->pkt_len,
				 pkts[i]->nb_segs);
		}
		fputs(line, stdout);
	}
}

static unsigned int
peer_port(unsigned int p, unsigned int nb_ports)
{
	unsigned int peer = p ^ 1;

	return peer < nb_ports ? peer : p;
}

/* Streams per port: one per queue in the direction that defines the engine. */
static uint16_t
streams_per_port(const struct pmd_config *cfg)
{
	return cfg->engine->rx ? cfg->nb_rxq : cfg->nb_txq;
}

/* Lcores "start" uses: --nb-cores (or every worker), no more than there are streams. */
static unsigned int
fwd_lcores_wanted(const struct pmd *pmd, unsigned int nb_ports)
{
	unsigned int n = pmd->cfg.nb_cores != 0 ? pmd->cfg.nb_cores : pmd->nb_workers;

	n = RTE_MIN(n, nb_ports * streams_per_port(&pmd->cfg));
	return RTE_MAX(n, 1u);
}

static void
fwd_table_free(struct fwd_table *t)
{
	unsigned int i;

	if (t == NULL)
		return;
	if (t->streams != NULL) {
		for (i = 0; i < t->nb_streams; i++)
			rte_free(t->streams[i]);
		rte_free(t->streams);
	}
	if (t->lcore != NULL) {
		for (i = 0; i < t->nb_lcores; i++)
			rte_free(t->lcore[i]);
		rte_free(t->lcore);
	}
	rte_free(t);
}

/* A table with room for each lcore's list: nb_streams spread over nb_lcores. */
static struct fwd_table *
fwd_table_alloc(const struct pmd *pmd, const struct fwd_engine *eng, unsigned int nb_streams,
		unsigned int nb_lcores)
{
	struct fwd_table *t;
	unsigned int l;

	t = rte_zmalloc("vhu_pmd_fwd_table", sizeof(*t), 0);
	if (t == NULL)
		return NULL;
	t->engine = eng;
	t->nb_lcores = nb_lcores;
	t->lcore = rte_zmalloc("vhu_pmd_fwd_lcores", nb_lcores * sizeof(*t->lcore), 0);
	if (t->lcore == NULL)
		goto free_table;
	for (l = 0; l < nb_lcores; l++) {
		unsigned int lcore_id = pmd->fwd.lcores[l].lcore_id;
		/* At most this many of the streams are this lcore's (round-robin). */
		unsigned int nb = (nb_streams + nb_lcores - 1 - l) / nb_lcores;

		t->lcore[l] =
			rte_zmalloc_socket("vhu_pmd_lcore_streams",
					   sizeof(*t->lcore[l]) + nb * sizeof(struct fwd_stream *),
					   RTE_CACHE_LINE_SIZE, rte_lcore_to_socket_id(lcore_id));
		if (t->lcore[l] == NULL)
			goto free_table;
		t->lcore[l]->engine = eng;
	}
	return t;

free_table:
	fwd_table_free(t);
	return NULL;
}

/* One stream, initialised for the engine. Returns it, or NULL with rte_errno set. */
static struct fwd_stream *
fwd_stream_make(const struct pmd *pmd, struct vhu_port *rx, struct vhu_port *tx, uint16_t q,
		unsigned int lcore_id)
{
	const struct pmd_config *cfg = &pmd->cfg;
	unsigned int socket = rte_lcore_to_socket_id(lcore_id);
	struct fwd_stream *fs;
	int rc;

	fs = rte_zmalloc_socket("vhu_pmd_stream", sizeof(*fs), RTE_CACHE_LINE_SIZE, socket);
	if (fs == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	fs->rx_port = cfg->engine->rx ? rx : NULL;
	fs->tx_port = tx;
	fs->rx_queue = q;
	fs->tx_queue = q;
	fs->burst = cfg->burst;
	fs->lcore_id = lcore_id;
	/* Packets an engine makes come from the tx port's pool: a virtio-user
	 * port's pool lives in its shared memory, so they go out without a copy.
	 * Other drivers' ports use this socket's pool anyway. */
	fs->mp = tx != NULL && tx->mempool != NULL ? tx->mempool : pmd->pools[socket];
	if (cfg->engine->stream_init != NULL) {
		rc = cfg->engine->stream_init(fs, cfg);
		if (rc != 0) {
			rte_free(fs);
			rte_errno = -rc;
			return NULL;
		}
	}
	return fs;
}

/*
 * The streams of the configured engine over 'ports' (paired topology), spread
 * over the first nb_lcores of pmd->fwd.lcores. Returns the table, or NULL
 * after printing why.
 */
static struct fwd_table *
fwd_table_build(const struct pmd *pmd, struct vhu_port **ports, unsigned int nb_ports,
		unsigned int nb_lcores)
{
	const struct pmd_config *cfg = &pmd->cfg;
	uint16_t per_port = streams_per_port(cfg), q;
	unsigned int nb_streams = nb_ports * per_port, p, i = 0;
	struct fwd_table *t;

	t = fwd_table_alloc(pmd, cfg->engine, nb_streams, nb_lcores);
	if (t == NULL)
		goto nomem;
	t->nb_ports = nb_ports;
	if (nb_streams != 0) {
		t->streams = rte_zmalloc("vhu_pmd_streams", nb_streams * sizeof(*t->streams), 0);
		if (t->streams == NULL)
			goto nomem;
	}
	for (p = 0; p < nb_ports; p++) {
		for (q = 0; q < per_port; q++, i++) {
			struct fwd_lcore_streams *ls = t->lcore[i % nb_lcores];
			struct fwd_stream *fs;

			fs = fwd_stream_make(pmd, ports[p],
					     ports[cfg->engine->reply ? p : peer_port(p, nb_ports)], q,
					     pmd->fwd.lcores[i % nb_lcores].lcore_id);
			if (fs == NULL && rte_errno == ENOMEM)
				goto nomem;
			if (fs == NULL) {
				pmd_error("cannot set up %s forwarding on port %u: %s",
					  cfg->engine->name, ports[p]->id, rte_strerror(rte_errno));
				fwd_table_free(t);
				return NULL;
			}
			t->streams[t->nb_streams++] = fs;
			ls->streams[ls->nb_streams++] = fs;
		}
	}
	return t;

nomem:
	pmd_error("out of memory for the forwarding streams; give EAL more (-m)");
	fwd_table_free(t);
	return NULL;
}

/* Which lcore (index + 1; 0: none) polls each queue, by port id, direction and queue. */
struct queue_owners {
	uint16_t lcore[VHU_PORT_MAX][2][VHU_PORT_MAX_QUEUES];
	bool port[VHU_PORT_MAX]; /* the port is among those forwarded */
};

static void
queue_owners_of(struct queue_owners *o, const struct fwd_table *t, struct vhu_port *const *ports,
		unsigned int nb_ports)
{
	unsigned int l, i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < nb_ports; i++)
		o->port[ports[i]->id] = true;
	for (l = 0; l < t->nb_lcores; l++) {
		for (i = 0; i < t->lcore[l]->nb_streams; i++) {
			const struct fwd_stream *fs = t->lcore[l]->streams[i];

			if (fs->rx_port != NULL)
				o->lcore[fs->rx_port->id][0][fs->rx_queue] = l + 1;
			if (fs->tx_port != NULL)
				o->lcore[fs->tx_port->id][1][fs->tx_queue] = l + 1;
		}
	}
}

/* May lcore l keep polling its queue (port, dir, q) while the next table is published? */
static bool
queue_stays(const struct queue_owners *o, const struct vhu_port *port, int dir, uint16_t q,
	    unsigned int l)
{
	uint16_t owner;

	if (port == NULL)
		return true;
	if (!o->port[port->id])
		return false;
	owner = o->lcore[port->id][dir][q];
	return owner == 0 || owner == l + 1;
}

/*
 * The interim lists of fwd_publish(): for each lcore, the streams of 'prev'
 * it may go on polling while others take up the streams of the next table.
 * Points at prev's streams without owning them.
 */
static struct fwd_table *
fwd_table_interim(const struct pmd *pmd, const struct fwd_table *prev,
		  const struct queue_owners *next)
{
	struct fwd_table *t;
	unsigned int l, i;

	t = fwd_table_alloc(pmd, prev->engine, prev->nb_streams, prev->nb_lcores);
	if (t == NULL)
		return NULL;
	for (l = 0; l < prev->nb_lcores; l++) {
		const struct fwd_lcore_streams *old = prev->lcore[l];
		struct fwd_lcore_streams *ls = t->lcore[l];

		for (i = 0; i < old->nb_streams; i++) {
			struct fwd_stream *fs = old->streams[i];

			if (queue_stays(next, fs->rx_port, 0, fs->rx_queue, l) &&
			    queue_stays(next, fs->tx_port, 1, fs->tx_queue, l))
				ls->streams[ls->nb_streams++] = fs;
		}
	}
	return t;
}

/* Give every running lcore its list of t, and wait until none holds an older one. */
static void
fwd_publish_lists(struct fwd_ctx *ctx, const struct fwd_table *t)
{
	unsigned int l;

	for (l = 0; l < ctx->nb_lcores; l++)
		/* Release: pairs with the acquire in fwd_lcore_main(); the streams are ready. */
		__atomic_store_n(&ctx->lcores[l].streams, t->lcore[l], __ATOMIC_RELEASE);
	/* Each lcore reports a quiescent state after an iteration, between two loads. */
	vhu_rcu_synchronize();
}

/*
 * Replace the running lcores' streams by 'next' (made over 'ports'), in two
 * grace periods so that no queue is ever polled by two lcores. Frees the old
 * table. Returns 0 or -ENOMEM (nothing changed).
 */
static int
fwd_publish(struct pmd *pmd, struct fwd_table *next, struct vhu_port *const *ports,
	    unsigned int nb_ports)
{
	struct fwd_ctx *ctx = &pmd->fwd;
	struct fwd_table *prev = ctx->table, *interim;
	struct queue_owners owners;

	queue_owners_of(&owners, next, ports, nb_ports);
	interim = fwd_table_interim(pmd, prev, &owners);
	if (interim == NULL)
		return -ENOMEM;
	fwd_publish_lists(ctx, interim);
	fwd_publish_lists(ctx, next);
	ctx->table = next;
	/* The interim table does not own its streams: prev does. */
	fwd_table_free(interim);
	fwd_table_free(prev);
	return 0;
}

int
fwd_update(struct pmd *pmd, const struct vhu_port *leaving)
{
	struct vhu_port *ports[VHU_PORT_MAX];
	struct fwd_table *next;
	unsigned int nb_ports;
	int rc;

	if (!pmd->fwd.launched)
		return 0;
	nb_ports = pmd_fwd_ports(ports, leaving);
	next = fwd_table_build(pmd, ports, nb_ports, pmd->fwd.nb_lcores);
	if (next == NULL)
		return -ENOMEM;
	rc = fwd_publish(pmd, next, ports, nb_ports);
	if (rc != 0) {
		pmd_error("out of memory to change the forwarding streams; give EAL more (-m)");
		fwd_table_free(next);
	}
	return rc;
}

static void
fwd_show_stream(const struct fwd_engine *eng, const struct fwd_stream *fs)
{
	char peer[RTE_ETHER_ADDR_FMT_SIZE];
	struct rte_ether_addr mac;

	if (fs->rx_port != NULL)
		printf("  RX P=%u/Q=%u (socket %u)", fs->rx_port->id, fs->rx_queue,
		       rte_lcore_to_socket_id(fs->lcore_id));
	else
		printf("  RX none");
	if (eng->tx) {
		fwd_peer_mac(fs->tx_port->id, &mac);
		rte_ether_format_addr(peer, sizeof(peer), &mac);
		printf(" -> TX P=%u/Q=%u (socket %u) peer=%s\n", fs->tx_port->id, fs->tx_queue,
		       rte_lcore_to_socket_id(fs->lcore_id), peer);
	} else {
		printf(" -> TX none\n");
	}
}

static void
fwd_show_table(const struct pmd *pmd, const struct fwd_table *t)
{
	const struct pmd_config *cfg = &pmd->cfg;
	unsigned int l, s;

	printf("%s packet forwarding - ports=%u - cores=%u - streams=%u\n", t->engine->name,
	       t->nb_ports, t->nb_lcores, t->nb_streams);
	for (l = 0; l < t->nb_lcores; l++) {
		const struct fwd_lcore_streams *ls = t->lcore[l];
		unsigned int lcore_id = pmd->fwd.lcores[l].lcore_id;

		printf("Logical Core %u (socket %u) forwards packets on %u streams:\n", lcore_id,
		       rte_lcore_to_socket_id(lcore_id), ls->nb_streams);
		for (s = 0; s < ls->nb_streams; s++)
			fwd_show_stream(t->engine, ls->streams[s]);
	}
	printf("\n  %s packet forwarding packets/burst=%u\n", t->engine->name, cfg->burst);
	if (t->engine == &fwd_txonly_engine || t->engine == &fwd_flowgen_engine)
		printf("  packet len=%" PRIu32 " - nb packet segments=%u\n", cfg->tx_pkt_len,
		       cfg->tx_nb_segs);
	if (t->engine == &fwd_flowgen_engine)
		printf("  flows=%" PRIu32 "\n", cfg->flowgen_flows);
	printf("  nb forwarding cores=%u - nb forwarding ports=%u\n", t->nb_lcores, t->nb_ports);
	printf("  rx queues=%u - tx queues=%u per port\n", cfg->nb_rxq, cfg->nb_txq);
	fflush(stdout);
}

void
fwd_show_config(struct pmd *pmd)
{
	struct vhu_port *ports[VHU_PORT_MAX];
	struct fwd_table *t;
	unsigned int nb_ports;

	if (pmd->fwd.table != NULL) {
		fwd_show_table(pmd, pmd->fwd.table);
		return;
	}
	/* Stopped: what "start" would do now. */
	nb_ports = pmd_fwd_ports(ports, NULL);
	t = fwd_table_build(pmd, ports, nb_ports, fwd_lcores_wanted(pmd, nb_ports));
	if (t == NULL)
		return;
	fwd_show_table(pmd, t);
	fwd_table_free(t);
}

/*
 * start tx_first N: N txonly bursts on each stream that transmits, from the
 * lcore that owns its tx queue. On a copy of the stream, because the engine
 * state of the stream belongs to the configured engine.
 */
static void
fwd_lcore_tx_first(struct fwd_lcore *fl)
{
	const struct fwd_lcore_streams *ls = fl->streams;
	struct fwd_stream tmp;
	unsigned int b;
	uint16_t i;

	for (i = 0; i < ls->nb_streams; i++) {
		tmp = *ls->streams[i];
		if (fwd_txonly_engine.stream_init(&tmp, fl->cfg) != 0)
			continue;
		for (b = 0; b < fl->tx_first; b++)
			fwd_txonly_engine.packet_fwd(&tmp);
	}
}

/* Add one loop iteration of 'cycles' to the lcore's counters. */
static inline void
fwd_account(struct fwd_lcore *fl, struct fwd_lcore_stats *st, bool busy, uint64_t cycles)
{
	/* Relaxed stores of values only this lcore writes: untorn for the main lcore. */
	if (busy) {
		st->busy_cycles += cycles;
		st->busy_polls++;
		__atomic_store_n(&fl->stats.busy_cycles, st->busy_cycles, __ATOMIC_RELAXED);
		__atomic_store_n(&fl->stats.busy_polls, st->busy_polls, __ATOMIC_RELAXED);
	} else {
		st->idle_cycles += cycles;
		st->idle_polls++;
		__atomic_store_n(&fl->stats.idle_cycles, st->idle_cycles, __ATOMIC_RELAXED);
		__atomic_store_n(&fl->stats.idle_polls, st->idle_polls, __ATOMIC_RELAXED);
	}
}

/*
 * The forwarding loop of one lcore: every stream of its list once per
 * iteration, then a quiescent state, so that the main lcore and the vhost
 * control thread know this lcore holds no reference to anything they
 * unpublished before. Each iteration is timed (one TSC read) and counted as
 * busy when it moved a packet.
 */
static int
fwd_lcore_main(void *arg)
{
	struct fwd_lcore *fl = arg;
	struct fwd_lcore_stats st = {0};
	unsigned int id = fl->lcore_id;
	bool timing = false;
	uint64_t prev = 0;
	uint16_t i;
	int rc;

	rc = vhu_lcore_register(id);
	if (rc != 0) {
		printf("Error: lcore %u cannot register with RCU: %s; forwarding on it stopped\n",
		       id, strerror(-rc));
		fl->rc = rc;
		/* Relaxed: the main lcore polls it only to notice; the return value is collected
		 * by rte_eal_wait_lcore(), which orders everything. */
		__atomic_store_n(&fl->exited, true, __ATOMIC_RELAXED);
		return rc;
	}
	vhu_lcore_online(id);
	if (fl->tx_first != 0)
		fwd_lcore_tx_first(fl);
	/* Relaxed: the flag carries no data; rte_eal_wait_lcore() orders what follows. */
	while (!__atomic_load_n(&fl->stop, __ATOMIC_RELAXED)) {
		/* Acquire: pairs with the release in fwd_publish_lists(); streams initialised. */
		const struct fwd_lcore_streams *ls =
			__atomic_load_n(&fl->streams, __ATOMIC_ACQUIRE);
		bool busy = false;

		for (i = 0; i < ls->nb_streams; i++) {
			struct fwd_stream *fs = ls->streams[i];

			if (ls->engine->packet_fwd(fs))
				busy = true;
			else if (fs->tx_port != NULL)
				vhu_port_tx_flush(fs->tx_port, fs->tx_queue);
		}
		vhu_lcore_quiescent(id);
		if (!busy)
			for (i = 0; i < FWD_IDLE_PAUSES; i++)
				rte_pause();
		if (likely(__atomic_load_n(&fwd_record_cycles, __ATOMIC_RELAXED))) {
			uint64_t now = rte_rdtsc();

			if (timing)
				fwd_account(fl, &st, busy, now - prev);
			prev = now;
			timing = true;
		} else {
			timing = false;
		}
	}
	vhu_lcore_offline(id);
	vhu_lcore_unregister(id);
	__atomic_store_n(&fl->exited, true, __ATOMIC_RELAXED);
	return 0;
}

int
fwd_init(struct pmd *pmd)
{
	struct fwd_ctx *ctx = &pmd->fwd;
	unsigned int l;

	memset(ctx, 0, sizeof(*ctx));
	ctx->lcores = rte_zmalloc("vhu_pmd_lcores", pmd->nb_workers * sizeof(*ctx->lcores),
				  RTE_CACHE_LINE_SIZE);
	if (ctx->lcores == NULL) {
		fprintf(stderr, PMD_NAME ": out of memory for the lcores; give EAL more (-m)\n");
		return -ENOMEM;
	}
	ctx->nb_workers = pmd->nb_workers;
	for (l = 0; l < pmd->nb_workers; l++) {
		ctx->lcores[l].lcore_id = pmd->lcore_ids[l];
		ctx->lcores[l].cfg = &pmd->cfg;
		ctx->lcores[l].streams = &fwd_no_streams;
	}
	return 0;
}

bool
fwd_running(const struct pmd *pmd)
{
	return pmd->fwd.launched;
}

int
fwd_start(struct pmd *pmd, unsigned int tx_first)
{
	struct fwd_ctx *ctx = &pmd->fwd;
	struct vhu_port *ports[VHU_PORT_MAX];
	unsigned int nb_ports, nb_lcores, l;
	struct fwd_table *t;
	int rc;

	if (ctx->launched) {
		pmd_error("packet forwarding already started; 'stop' it first");
		return -EALREADY;
	}
	nb_ports = pmd_fwd_ports(ports, NULL);
	if (nb_ports == 0) {
		pmd_error("no port is started, so there is nothing to forward; start one "
			  "('port start all') or attach one ('port attach SPEC')");
		return -ENODEV;
	}
	nb_lcores = fwd_lcores_wanted(pmd, nb_ports);
	t = fwd_table_build(pmd, ports, nb_ports, nb_lcores);
	if (t == NULL)
		return -ENOMEM;
	ctx->table = t;
	ctx->nb_lcores = nb_lcores;
	for (l = 0; l < nb_lcores; l++) {
		struct fwd_lcore *fl = &ctx->lcores[l];

		fl->streams = t->lcore[l];
		fl->tx_first = tx_first;
		fl->stop = false;
		fl->exited = false;
		fl->rc = 0;
		memset(&fl->stats, 0, sizeof(fl->stats));
	}
	fwd_show_table(pmd, t);
	stats_fwd_begin(&pmd->stats);
	if (pmd->cfg.engine->begin != NULL)
		pmd->cfg.engine->begin();
	ctx->start_tsc = rte_get_tsc_cycles();
	for (l = 0; l < nb_lcores; l++) {
		rc = rte_eal_remote_launch(fwd_lcore_main, &ctx->lcores[l],
					   ctx->lcores[l].lcore_id);
		if (rc != 0) {
			pmd_error("cannot launch forwarding on lcore %u: %s; is it busy?",
				  ctx->lcores[l].lcore_id, strerror(-rc));
			ctx->nb_lcores = l;
			ctx->launched = true;
			fwd_stop(pmd);
			return rc;
		}
	}
	ctx->launched = true;
	return 0;
}

bool
fwd_lcore_failed(const struct pmd *pmd)
{
	const struct fwd_ctx *ctx = &pmd->fwd;
	unsigned int l;

	if (!ctx->launched)
		return false;
	for (l = 0; l < ctx->nb_lcores; l++) {
		const struct fwd_lcore *fl = &ctx->lcores[l];

		if (__atomic_load_n(&fl->exited, __ATOMIC_RELAXED) &&
		    !__atomic_load_n(&fl->stop, __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

void
fwd_stop(struct pmd *pmd)
{
	struct fwd_ctx *ctx = &pmd->fwd;
	unsigned int l;

	if (!ctx->launched)
		return;
	for (l = 0; l < ctx->nb_lcores; l++)
		__atomic_store_n(&ctx->lcores[l].stop, true, __ATOMIC_RELAXED);
	for (l = 0; l < ctx->nb_lcores; l++) {
		rte_eal_wait_lcore(ctx->lcores[l].lcore_id);
		ctx->lcores[l].streams = &fwd_no_streams;
	}
	ctx->launched = false;
	/* The lcores have returned: nothing polls the streams any more. */
	fwd_table_free(ctx->table);
	ctx->table = NULL;
}

void
fwd_teardown(struct pmd *pmd)
{
	fwd_stop(pmd);
	rte_free(pmd->fwd.lcores);
	memset(&pmd->fwd, 0, sizeof(pmd->fwd));
}

static double
percent(uint64_t part, uint64_t whole)
{
	return whole != 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

void
fwd_show_lcore_stats(const struct pmd *pmd, uint64_t packets)
{
	const struct fwd_ctx *ctx = &pmd->fwd;
	uint64_t busy_total = 0;
	unsigned int l;

	printf("\n  ---------------------- Forwarding lcores since the last start "
	       "-------------\n");
	if (ctx->nb_lcores == 0)
		printf("  none: forwarding has not started\n");
	for (l = 0; l < ctx->nb_lcores; l++) {
		const struct fwd_lcore_stats *s = &ctx->lcores[l].stats;
		uint64_t busy = __atomic_load_n(&s->busy_cycles, __ATOMIC_RELAXED);
		uint64_t idle = __atomic_load_n(&s->idle_cycles, __ATOMIC_RELAXED);

		busy_total += busy;
		printf("  Lcore %-3u busy %6.2f%% of %" PRIu64 " cycles: %" PRIu64
		       " busy polls (%" PRIu64 " cycles), %" PRIu64 " idle polls\n",
		       ctx->lcores[l].lcore_id, percent(busy, busy + idle), busy + idle,
		       __atomic_load_n(&s->busy_polls, __ATOMIC_RELAXED), busy,
		       __atomic_load_n(&s->idle_polls, __ATOMIC_RELAXED));
	}
	if (!__atomic_load_n(&fwd_record_cycles, __ATOMIC_RELAXED))
		printf("  (cycle recording is off; 'set record-core-cycles on' to count)\n");
	if (packets != 0)
		printf("  CPU cycles/packet=%.2f (busy cycles=%" PRIu64 " / total packets=%" PRIu64
		       ") at %" PRIu64 " MHz Clock\n",
		       (double)busy_total / (double)packets, busy_total, packets,
		       rte_get_tsc_hz() / 1000000);
	printf("  ----------------------------------------------------------------------------\n");
}

/* --- commands --------------------------------------------------------------------- */

int
cmd_start(struct pmd *pmd, unsigned int argc, char **argv)
{
	return fwd_start(pmd, pmd->cfg.tx_first ? 1 : 0);
}

int
cmd_start_tx_first(struct pmd *pmd, unsigned int argc, char **argv)
{
	unsigned long n = 1;

	if (argc > 0 && !pmd_parse_uint(argv[0], 1, TX_FIRST_MAX, &n)) {
		pmd_error("start tx_first %s: give a number of bursts, 1..%u", argv[0],
			  TX_FIRST_MAX);
		return -EINVAL;
	}
	return fwd_start(pmd, n);
}

int
cmd_stop(struct pmd *pmd, unsigned int argc, char **argv)
{
	if (!fwd_running(pmd)) {
		pmd_error("packet forwarding is not started; 'start' it first");
		return -EALREADY;
	}
	printf("Telling cores to stop...\nWaiting for lcores to finish...\n");
	fwd_stop(pmd);
	stats_show_fwd(pmd);
	printf("\nDone.\n");
	return 0;
}

static void
show_config_cores(const struct pmd *pmd)
{
	unsigned int l, n;

	n = pmd->cfg.nb_cores != 0 ? pmd->cfg.nb_cores : pmd->nb_workers;
	printf("List of forwarding lcores:");
	for (l = 0; l < n; l++)
		printf(" %2u", pmd->lcore_ids[l]);
	printf("\n  (main lcore %u; %u worker lcore(s); nbcore %u%s)\n", rte_get_main_lcore(),
	       pmd->nb_workers, n, pmd->cfg.nb_cores == 0 ? ", all workers" : "");
	if (fwd_running(pmd))
		printf("  %u of them forward now\n", pmd->fwd.nb_lcores);
}

static void
show_config_rxtx(const struct pmd *pmd)
{
	const struct pmd_config *cfg = &pmd->cfg;
	char addr[INET_ADDRSTRLEN];
	unsigned int i;

	printf("  %s packet forwarding packets/burst=%u\n", cfg->engine->name, cfg->burst);
	printf("  txonly packet len=%" PRIu32 " - segments:", cfg->tx_pkt_len);
	for (i = 0; i < cfg->tx_nb_segs; i++)
		printf("%s%u", i == 0 ? " " : ",", cfg->tx_seg_len[i]);
	if (cfg->icmpecho_addr == 0 ||
	    inet_ntop(AF_INET, &cfg->icmpecho_addr, addr, sizeof(addr)) == NULL)
		snprintf(addr, sizeof(addr), "any");
	printf("\n  flowgen flows=%" PRIu32 " - icmpecho addr=%s\n", cfg->flowgen_flows, addr);
	printf("  nb forwarding cores=%u - rx queues=%u - tx queues=%u per port\n",
	       cfg->nb_cores != 0 ? cfg->nb_cores : pmd->nb_workers, cfg->nb_rxq, cfg->nb_txq);
	printf("  mbufs per socket=%u - verbose=%u - record-core-cycles %s\n", cfg->nb_mbufs,
	       __atomic_load_n(&fwd_verbose, __ATOMIC_RELAXED),
	       __atomic_load_n(&fwd_record_cycles, __ATOMIC_RELAXED) ? "on" : "off");
}

int
cmd_show_config(struct pmd *pmd, unsigned int argc, char **argv)
{
	if (strcmp(argv[0], "fwd") == 0)
		fwd_show_config(pmd);
	else if (strcmp(argv[0], "cores") == 0)
		show_config_cores(pmd);
	else
		show_config_rxtx(pmd);
	return 0;
}

int
fwd_apply(struct pmd *pmd, const struct pmd_config *old)
{
	int rc = fwd_update(pmd, NULL);

	if (rc != 0)
		pmd->cfg = *old;
	return rc;
}

int
cmd_set_fwd(struct pmd *pmd, unsigned int argc, char **argv)
{
	const struct fwd_engine *eng = fwd_engine_find(argv[0]);
	struct pmd_config old = pmd->cfg;

	if (eng->rx && eng->tx && pmd->cfg.nb_rxq > pmd->cfg.nb_txq) {
		pmd_error("set fwd %s: %u rx queues but %u tx queues; %s forwarding sends what rx "
			  "queue q receives on tx queue q, so it needs --txq >= --rxq",
			  eng->name, pmd->cfg.nb_rxq, pmd->cfg.nb_txq, eng->name);
		return -EINVAL;
	}
	pmd->cfg.engine = eng;
	if (fwd_apply(pmd, &old) != 0)
		return -ENOMEM;
	printf("Set %s packet forwarding mode%s\n", eng->name,
	       fwd_running(pmd) ? " (the lcores switched at once)" : "");
	return 0;
}

int
cmd_set_burst(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct pmd_config old = pmd->cfg;
	unsigned long n;

	if (!pmd_parse_uint(argv[0], 1, PMD_BURST_MAX, &n)) {
		pmd_error("set burst %s: give a number of packets, 1..%u", argv[0], PMD_BURST_MAX);
		return -EINVAL;
	}
	pmd->cfg.burst = n;
	if (fwd_apply(pmd, &old) != 0)
		return -ENOMEM;
	printf("Number of packets per burst set to %u\n", pmd->cfg.burst);
	return 0;
}

int
cmd_set_txpkts(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct pmd_config old = pmd->cfg;
	char rule[160];

	if (!pmd_parse_txpkts(argv[0], &pmd->cfg)) {
		pmd_txpkts_rule(rule, sizeof(rule));
		pmd_error("set txpkts %s: %s", argv[0], rule);
		return -EINVAL;
	}
	if (fwd_apply(pmd, &old) != 0)
		return -ENOMEM;
	printf("txonly frames are now %" PRIu32 " bytes in %u segment(s)\n", pmd->cfg.tx_pkt_len,
	       pmd->cfg.tx_nb_segs);
	return 0;
}

int
cmd_set_nbcore(struct pmd *pmd, unsigned int argc, char **argv)
{
	unsigned long n;

	if (!pmd_parse_uint(argv[0], 1, pmd->nb_workers, &n)) {
		pmd_error("set nbcore %s: give 1..%u, the worker lcores (EAL lcores but the main "
			  "one)",
			  argv[0], pmd->nb_workers);
		return -EINVAL;
	}
	if (fwd_running(pmd)) {
		pmd_error("set nbcore: forwarding runs on %u lcore(s); 'stop' it, set nbcore, then "
			  "'start' again",
			  pmd->fwd.nb_lcores);
		return -EBUSY;
	}
	pmd->cfg.nb_cores = n;
	printf("Number of forwarding cores set to %lu\n", n);
	return 0;
}

int
cmd_set_verbose(struct pmd *pmd, unsigned int argc, char **argv)
{
	unsigned long n;
	unsigned int old = __atomic_load_n(&fwd_verbose, __ATOMIC_RELAXED);

	if (!pmd_parse_uint(argv[0], 0, 3, &n)) {
		pmd_error("set verbose %s: give 0 (quiet), 1 (print received packets), 2 (sent) "
			  "or 3 (both)",
			  argv[0]);
		return -EINVAL;
	}
	__atomic_store_n(&fwd_verbose, (unsigned int)n, __ATOMIC_RELAXED);
	printf("Change verbose level from %u to %lu\n", old, n);
	return 0;
}

int
cmd_set_record_core_cycles(struct pmd *pmd, unsigned int argc, char **argv)
{
	bool on = strcmp(argv[0], "on") == 0;

	__atomic_store_n(&fwd_record_cycles, on, __ATOMIC_RELAXED);
	printf("Recording of busy and idle cycles per lcore is %s\n", on ? "on" : "off");
	return 0;
}
