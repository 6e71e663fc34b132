/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Streams, their assignment to lcores, and the forwarding loop.
 *
 * Topology is dpdk-testpmd's default, "paired": ports 0 and 1 forward to each
 * other, 2 and 3, and so on; with an odd number of ports the last one forwards
 * to itself. A stream of an engine that receives is (port p, rx queue q) ->
 * (peer of p, tx queue q); of an engine that only transmits, tx queue q of
 * the peer of p. Streams go round-robin to the forwarding lcores, so each
 * queue is polled by exactly one lcore.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_pause.h>

#include "fwd.h"
#include "vhu_rcu.h"

static const struct fwd_engine *const fwd_engines[] = {
	&fwd_io_engine,	    &fwd_mac_engine,	&fwd_macswap_engine,
	&fwd_5tswap_engine, &fwd_rxonly_engine, &fwd_txonly_engine,
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

static unsigned int
peer_port(unsigned int p, unsigned int nb_ports)
{
	unsigned int peer = p ^ 1;

	return peer < nb_ports ? peer : p;
}

static struct rte_mempool *
socket_pool(struct rte_mempool *const *pools, unsigned int lcore_id)
{
	return pools[rte_lcore_to_socket_id(lcore_id)];
}

/* Streams per port: one per queue in the direction that defines the engine. */
static uint16_t
streams_per_port(const struct pmd_config *cfg)
{
	return cfg->engine->rx ? cfg->nb_rxq : cfg->nb_txq;
}

static int
fwd_make_streams(struct fwd_ctx *ctx, const struct pmd_config *cfg, struct vhu_port **ports,
		 unsigned int nb_ports, struct rte_mempool *const *pools)
{
	const struct fwd_engine *eng = cfg->engine;
	uint16_t per_port = streams_per_port(cfg), q;
	unsigned int p, i = 0;
	int rc;

	ctx->nb_streams = nb_ports * per_port;
	ctx->streams = rte_zmalloc("vhu_pmd_streams", ctx->nb_streams * sizeof(*ctx->streams), 0);
	if (ctx->streams == NULL)
		return -ENOMEM;
	for (p = 0; p < nb_ports; p++) {
		for (q = 0; q < per_port; q++, i++) {
			unsigned int lcore_id = ctx->lcores[i % ctx->nb_lcores].lcore_id;
			struct fwd_stream *fs;

			fs = rte_zmalloc_socket("vhu_pmd_stream", sizeof(*fs), RTE_CACHE_LINE_SIZE,
						rte_lcore_to_socket_id(lcore_id));
			if (fs == NULL)
				return -ENOMEM;
			ctx->streams[i] = fs;
			fs->rx_port = eng->rx ? ports[p] : NULL;
			fs->tx_port = eng->tx ? ports[peer_port(p, nb_ports)] : NULL;
			fs->rx_queue = q;
			fs->tx_queue = q;
			fs->burst = cfg->burst;
			fs->lcore_id = lcore_id;
			fs->mp = socket_pool(pools, lcore_id);
			if (eng->stream_init != NULL) {
				rc = eng->stream_init(fs, cfg);
				if (rc != 0)
					return rc;
			}
		}
	}
	return 0;
}

/* Give each lcore the streams assigned to it, in stream order. */
static int
fwd_assign_streams(struct fwd_ctx *ctx)
{
	unsigned int i, l;

	for (l = 0; l < ctx->nb_lcores; l++) {
		struct fwd_lcore *fl = &ctx->lcores[l];
		unsigned int nb = (ctx->nb_streams - l + ctx->nb_lcores - 1) / ctx->nb_lcores;

		fl->streams = rte_zmalloc_socket("vhu_pmd_lcore_streams", nb * sizeof(*fl->streams),
						 RTE_CACHE_LINE_SIZE,
						 rte_lcore_to_socket_id(fl->lcore_id));
		if (fl->streams == NULL)
			return -ENOMEM;
	}
	for (i = 0; i < ctx->nb_streams; i++) {
		struct fwd_lcore *fl = &ctx->lcores[i % ctx->nb_lcores];

		fl->streams[fl->nb_streams++] = ctx->streams[i];
	}
	return 0;
}

/* Each port receives into mbufs of the socket of the lcore polling its first rx queue. */
static void
fwd_set_port_pools(struct fwd_ctx *ctx)
{
	unsigned int i;

	for (i = ctx->nb_streams; i-- > 0;) {
		struct fwd_stream *fs = ctx->streams[i];

		if (fs->rx_port != NULL)
			fs->rx_port->mempool = fs->mp;
	}
}

int
fwd_setup(struct fwd_ctx *ctx, const struct pmd_config *cfg, struct vhu_port **ports,
	  unsigned int nb_ports, const unsigned int *lcore_ids, unsigned int nb_ids,
	  struct rte_mempool *const *pools)
{
	unsigned int nb_lcores = cfg->nb_cores != 0 ? cfg->nb_cores : nb_ids;
	unsigned int l;
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	ctx->engine = cfg->engine;
	/* More lcores than streams would only spin. */
	nb_lcores = RTE_MIN(nb_lcores, nb_ports * streams_per_port(cfg));
	ctx->lcores = rte_zmalloc("vhu_pmd_lcores", nb_lcores * sizeof(*ctx->lcores),
				  RTE_CACHE_LINE_SIZE);
	if (ctx->lcores == NULL)
		goto nomem;
	ctx->nb_lcores = nb_lcores;
	for (l = 0; l < nb_lcores; l++) {
		ctx->lcores[l].lcore_id = lcore_ids[l];
		ctx->lcores[l].engine = cfg->engine;
		ctx->lcores[l].cfg = cfg;
	}
	rc = fwd_make_streams(ctx, cfg, ports, nb_ports, pools);
	if (rc == -ENOMEM)
		goto nomem;
	if (rc != 0) {
		fprintf(stderr, PMD_NAME ": cannot set up %s forwarding: %s\n", cfg->engine->name,
			strerror(-rc));
		fwd_teardown(ctx);
		return rc;
	}
	if (fwd_assign_streams(ctx) != 0)
		goto nomem;
	fwd_set_port_pools(ctx);
	return 0;

nomem:
	fprintf(stderr,
		PMD_NAME ": out of memory for the forwarding streams; give EAL more (-m)\n");
	fwd_teardown(ctx);
	return -ENOMEM;
}

static void
fwd_show_stream(const struct fwd_stream *fs)
{
	char peer[RTE_ETHER_ADDR_FMT_SIZE];
	struct rte_ether_addr mac;

	if (fs->rx_port != NULL)
		printf("  RX P=%u/Q=%u (socket %u)", fs->rx_port->id, fs->rx_queue,
		       rte_lcore_to_socket_id(fs->lcore_id));
	else
		printf("  RX none");
	if (fs->tx_port != NULL) {
		fwd_peer_mac(fs->tx_port->id, &mac);
		rte_ether_format_addr(peer, sizeof(peer), &mac);
		printf(" -> TX P=%u/Q=%u (socket %u) peer=%s\n", fs->tx_port->id, fs->tx_queue,
		       rte_lcore_to_socket_id(fs->lcore_id), peer);
	} else {
		printf(" -> TX none\n");
	}
}

void
fwd_show_config(const struct fwd_ctx *ctx, const struct pmd_config *cfg, unsigned int nb_ports)
{
	unsigned int l, s;

	printf("%s packet forwarding - ports=%u - cores=%u - streams=%u\n", ctx->engine->name,
	       nb_ports, ctx->nb_lcores, ctx->nb_streams);
	for (l = 0; l < ctx->nb_lcores; l++) {
		const struct fwd_lcore *fl = &ctx->lcores[l];

		printf("Logical Core %u (socket %u) forwards packets on %u streams:\n",
		       fl->lcore_id, rte_lcore_to_socket_id(fl->lcore_id), fl->nb_streams);
		for (s = 0; s < fl->nb_streams; s++)
			fwd_show_stream(fl->streams[s]);
	}
	printf("\n  %s packet forwarding packets/burst=%u\n", ctx->engine->name, cfg->burst);
	if (ctx->engine == &fwd_txonly_engine)
		printf("  packet len=%" PRIu32 " - nb packet segments=%u\n", cfg->tx_pkt_len,
		       cfg->tx_nb_segs);
	printf("  nb forwarding cores=%u - nb forwarding ports=%u\n", ctx->nb_lcores, nb_ports);
	printf("  rx queues=%u - tx queues=%u per port\n", cfg->nb_rxq, cfg->nb_txq);
	fflush(stdout);
}

/*
 * --tx-first: one txonly burst on each stream that transmits, from the lcore
 * that owns its tx queue. On a copy of the stream, because the engine state of
 * the stream belongs to the configured engine.
 */
static void
fwd_lcore_tx_first(struct fwd_lcore *fl)
{
	struct fwd_stream tmp;
	uint16_t i;

	for (i = 0; i < fl->nb_streams; i++) {
		if (fl->streams[i]->tx_port == NULL)
			continue;
		tmp = *fl->streams[i];
		if (fwd_txonly_engine.stream_init(&tmp, fl->cfg) == 0)
			fwd_txonly_engine.packet_fwd(&tmp);
	}
}

/*
 * The forwarding loop of one lcore: every stream once per iteration, then a
 * quiescent state, so that the vhost control thread knows this lcore holds no
 * reference to anything it unpublished before.
 */
static int
fwd_lcore_main(void *arg)
{
	struct fwd_lcore *fl = arg;
	const struct fwd_engine *eng = fl->engine;
	unsigned int id = fl->lcore_id;
	uint16_t i;
	int rc;

	rc = vhu_lcore_register(id);
	if (rc != 0) {
		fprintf(stderr, PMD_NAME ": lcore %u: cannot register with RCU: %s\n", id,
			strerror(-rc));
		fl->rc = rc;
		/* Relaxed: the main lcore polls it only to notice; the return value is collected
		 * by rte_eal_wait_lcore(), which orders everything. */
		__atomic_store_n(&fl->exited, true, __ATOMIC_RELAXED);
		return rc;
	}
	vhu_lcore_online(id);
	if (fl->cfg->tx_first)
		fwd_lcore_tx_first(fl);
	/* Relaxed: the flag carries no data; rte_eal_wait_lcore() orders what follows. */
	while (!__atomic_load_n(&fl->stop, __ATOMIC_RELAXED)) {
		bool busy = false;

		for (i = 0; i < fl->nb_streams; i++)
			busy |= eng->packet_fwd(fl->streams[i]);
		vhu_lcore_quiescent(id);
		if (!busy)
			rte_pause();
	}
	vhu_lcore_offline(id);
	vhu_lcore_unregister(id);
	__atomic_store_n(&fl->exited, true, __ATOMIC_RELAXED);
	return 0;
}

int
fwd_launch(struct fwd_ctx *ctx)
{
	unsigned int l;
	int rc;

	for (l = 0; l < ctx->nb_lcores; l++) {
		struct fwd_lcore *fl = &ctx->lcores[l];

		fl->stop = false;
		fl->exited = false;
		fl->rc = 0;
		rc = rte_eal_remote_launch(fwd_lcore_main, fl, fl->lcore_id);
		if (rc != 0) {
			fprintf(stderr, PMD_NAME ": cannot launch forwarding on lcore %u: %s\n",
				fl->lcore_id, strerror(-rc));
			ctx->launched = l > 0;
			fwd_stop(ctx);
			return rc;
		}
	}
	ctx->launched = true;
	return 0;
}

bool
fwd_lcore_failed(const struct fwd_ctx *ctx)
{
	unsigned int l;

	for (l = 0; l < ctx->nb_lcores; l++) {
		const struct fwd_lcore *fl = &ctx->lcores[l];

		if (__atomic_load_n(&fl->exited, __ATOMIC_RELAXED) &&
		    !__atomic_load_n(&fl->stop, __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

void
fwd_stop(struct fwd_ctx *ctx)
{
	unsigned int l;

	if (!ctx->launched)
		return;
	for (l = 0; l < ctx->nb_lcores; l++)
		__atomic_store_n(&ctx->lcores[l].stop, true, __ATOMIC_RELAXED);
	for (l = 0; l < ctx->nb_lcores; l++)
		rte_eal_wait_lcore(ctx->lcores[l].lcore_id);
	ctx->launched = false;
}

void
fwd_teardown(struct fwd_ctx *ctx)
{
	unsigned int i;

	if (ctx->streams != NULL) {
		for (i = 0; i < ctx->nb_streams; i++)
			rte_free(ctx->streams[i]);
		rte_free(ctx->streams);
	}
	if (ctx->lcores != NULL) {
		for (i = 0; i < ctx->nb_lcores; i++)
			rte_free(ctx->lcores[i].streams);
		rte_free(ctx->lcores);
	}
	memset(ctx, 0, sizeof(*ctx));
}
