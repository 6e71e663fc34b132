/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The A/B switch of vhu-pmd: flip libvhu's variant on a timer and attribute
 * the counters to the variant that was on (ab.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "ab.h"
#include "fwd.h"
#include "vhu_pmd.h"
#include "vhu_vhost.h"
#include "vhu_vhost_user_port.h"

/* Periods of each variant dropped after the start: caches and branch history warm up. */
#define AB_WARMUP_PERIODS 1

/* The counters at one instant, summed over lcores and ports. */
struct ab_counters {
	uint64_t tsc;
	uint64_t busy_cycles;
	uint64_t busy_polls;
	uint64_t packets;
	uint64_t burst_cycles;
	uint64_t burst_packets;
};

struct ab_state {
	uint64_t period_tsc;		  /* --ab-period in TSC cycles */
	uint64_t next_flip;		  /* TSC of the next flip */
	unsigned int variant;		  /* the one on now */
	struct ab_counters last;	  /* at the last flip */
	unsigned int seen[AB_VARIANTS];	  /* periods ended, warm-up included */
	struct ab_period *p[AB_VARIANTS]; /* periods kept, in order */
	unsigned int n[AB_VARIANTS];	  /* how many */
	unsigned int cap[AB_VARIANTS];	  /* room in p */
	bool full;			  /* out of memory for more: said once */
};

/* --- the arithmetic ------------------------------------------------------------------ */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median, min and max of v[0..n), sorted in place; all 0 when n is 0. */
static void
stat_spread(double *v, unsigned int n, struct ab_stat *s)
{
	s->n = n;
	if (n == 0) {
		s->median = s->min = s->max = 0;
		return;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	s->min = v[0];
	s->max = v[n - 1];
	s->median = n % 2 != 0 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
ratio(uint64_t num, uint64_t den)
{
	return den != 0 ? (double)num / (double)den : 0;
}

void
ab_figures(const struct ab_period *p, unsigned int n, uint64_t hz, struct ab_figures *f)
{
	uint64_t cycles = 0, packets = 0, bcycles = 0, bpackets = 0, tsc = 0;
	double *v = calloc(n != 0 ? n : 1, sizeof(*v));
	unsigned int i, k;

	memset(f, 0, sizeof(*f));
	f->periods = n;
	for (i = 0; i < n; i++) {
		cycles += p[i].busy_cycles;
		packets += p[i].packets;
		bcycles += p[i].burst_cycles;
		bpackets += p[i].burst_packets;
		tsc += p[i].tsc;
	}
	f->packets = packets;
	f->cpp.pooled = ratio(cycles, packets);
	f->burst.pooled = ratio(bcycles, bpackets);
	f->mpps.pooled = ratio(packets, tsc) * (double)hz / 1e6;
	if (v == NULL)
		return; /* pooled figures only */
	for (i = k = 0; i < n; i++)
		if (p[i].packets != 0)
			v[k++] = ratio(p[i].busy_cycles, p[i].packets);
	stat_spread(v, k, &f->cpp);
	for (i = k = 0; i < n; i++)
		if (p[i].burst_packets != 0)
			v[k++] = ratio(p[i].burst_cycles, p[i].burst_packets);
	stat_spread(v, k, &f->burst);
	for (i = k = 0; i < n; i++)
		if (p[i].tsc != 0)
			v[k++] = ratio(p[i].packets, p[i].tsc) * (double)hz / 1e6;
	stat_spread(v, k, &f->mpps);
	free(v);
}

void
ab_ratio(const struct ab_period *p0, unsigned int n0, const struct ab_period *p1, unsigned int n1,
	 bool burst, struct ab_stat *r)
{
	unsigned int i, k, n = n0 < n1 ? n0 : n1;
	uint64_t c0 = 0, d0 = 0, c1 = 0, d1 = 0;
	double *v = calloc(n != 0 ? n : 1, sizeof(*v));

	memset(r, 0, sizeof(*r));
	for (i = 0; i < n0; i++) {
		c0 += burst ? p0[i].burst_cycles : p0[i].busy_cycles;
		d0 += burst ? p0[i].burst_packets : p0[i].packets;
	}
	for (i = 0; i < n1; i++) {
		c1 += burst ? p1[i].burst_cycles : p1[i].busy_cycles;
		d1 += burst ? p1[i].burst_packets : p1[i].packets;
	}
	if (d0 != 0 && d1 != 0 && c1 != 0)
		r->pooled = ratio(c0, d0) / ratio(c1, d1);
	if (v == NULL)
		return;
	for (i = k = 0; i < n; i++) {
		uint64_t a = burst ? p0[i].burst_cycles : p0[i].busy_cycles;
		uint64_t b = burst ? p0[i].burst_packets : p0[i].packets;
		uint64_t c = burst ? p1[i].burst_cycles : p1[i].busy_cycles;
		uint64_t d = burst ? p1[i].burst_packets : p1[i].packets;

		if (b != 0 && d != 0 && c != 0)
			v[k++] = ratio(a, b) / ratio(c, d);
	}
	stat_spread(v, k, r);
	free(v);
}

/* ", NAME POOLED (median MEDIAN, MIN-MAX)", with 'prec' decimals. */
static void
print_stat(FILE *f, const char *name, const struct ab_stat *s, int prec)
{
	fprintf(f, ", %s %.*f (median %.*f, %.*f-%.*f)", name, prec, s->pooled, prec, s->median,
		prec, s->min, prec, s->max);
}

void
ab_print(FILE *f, unsigned int period_ms, const struct ab_period *const p[AB_VARIANTS],
	 const unsigned int n[AB_VARIANTS], uint64_t hz)
{
	struct ab_figures fig[AB_VARIANTS];
	struct ab_stat r;
	unsigned int v;

	for (v = 0; v < AB_VARIANTS; v++) {
		ab_figures(p[v], n[v], hz, &fig[v]);
		fprintf(f, "  A/B (period %u ms) variant %u: periods %u, packets %" PRIu64,
			period_ms, v, fig[v].periods, fig[v].packets);
		print_stat(f, "cycles/packet", &fig[v].cpp, 2);
		if (fig[v].burst.n != 0)
			print_stat(f, "burst cycles/packet", &fig[v].burst, 2);
		print_stat(f, "Mpps", &fig[v].mpps, 3);
		fprintf(f, "\n");
	}
	fprintf(f, "  A/B (period %u ms) variant 0 / variant 1:", period_ms);
	ab_ratio(p[0], n[0], p[1], n[1], false, &r);
	fprintf(f, " pairs %u", r.n);
	print_stat(f, "cycles/packet", &r, 3);
	if (fig[0].burst.n != 0 && fig[1].burst.n != 0) {
		ab_ratio(p[0], n[0], p[1], n[1], true, &r);
		print_stat(f, "burst cycles/packet", &r, 3);
	}
	fprintf(f, "\n");
}

/* --- on the main lcore ------------------------------------------------------------- */

static void
ab_take(const struct pmd *pmd, struct ab_counters *c)
{
	const struct fwd_ctx *ctx = &pmd->fwd;
	struct vhu_vhost_user_burst_cycles enq, deq;
	struct vhu_port *ports[VHU_PORT_MAX];
	unsigned int i, n = pmd_ports(ports);
	struct vhu_port_stats s;

	memset(c, 0, sizeof(*c));
	c->tsc = rte_get_tsc_cycles();
	for (i = 0; i < ctx->nb_lcores; i++) {
		const struct fwd_lcore_stats *ls = &ctx->lcores[i].stats;

		c->busy_cycles += __atomic_load_n(&ls->busy_cycles, __ATOMIC_RELAXED);
		c->busy_polls += __atomic_load_n(&ls->busy_polls, __ATOMIC_RELAXED);
	}
	for (i = 0; i < n; i++) {
		vhu_port_stats_get(ports[i], &s);
		/* The packets of "CPU cycles/packet" (stats_show_fwd()). */
		c->packets += pmd->cfg.engine->rx ? s.rx.packets : s.tx.packets;
		if (vhu_vhost_user_port_burst_cycles(ports[i], &enq, &deq) != 0)
			continue;
		c->burst_cycles += enq.cycles + deq.cycles;
		c->burst_packets += enq.packets + deq.packets;
	}
}

/* Attribute the period that ends at 'now' to the variant that was on. */
static void
ab_attribute(struct ab_state *ab, const struct ab_counters *now)
{
	unsigned int v = ab->variant;
	struct ab_period d = {
		.tsc = now->tsc - ab->last.tsc,
		.busy_cycles = now->busy_cycles - ab->last.busy_cycles,
		.busy_polls = now->busy_polls - ab->last.busy_polls,
		.packets = now->packets - ab->last.packets,
		.burst_cycles = now->burst_cycles - ab->last.burst_cycles,
		.burst_packets = now->burst_packets - ab->last.burst_packets,
	};

	ab->last = *now;
	if (ab->seen[v]++ < AB_WARMUP_PERIODS)
		return;
	if (ab->n[v] == ab->cap[v]) {
		size_t cap = ab->cap[v] != 0 ? 2 * (size_t)ab->cap[v] : 256;
		struct ab_period *p = cap <= UINT_MAX ? realloc(ab->p[v], cap * sizeof(*p)) : NULL;

		if (p == NULL) {
			if (!ab->full)
				pmd_error("A/B: out of memory for more periods; the figures "
					  "stop here (use a longer --ab-period or a shorter "
					  "--run-time)");
			ab->full = true;
			return;
		}
		ab->p[v] = p;
		ab->cap[v] = (unsigned int)cap;
	}
	ab->p[v][ab->n[v]++] = d;
}

int
ab_begin(struct pmd *pmd)
{
	struct ab_state *ab;

	if (pmd->cfg.ab_period_ms == 0)
		return 0;
	ab_free(pmd);
	ab = calloc(1, sizeof(*ab));
	if (ab == NULL) {
		pmd_error("A/B: out of memory; forwarding runs without --ab-period");
		return -ENOMEM;
	}
	ab->period_tsc = rte_get_tsc_hz() * pmd->cfg.ab_period_ms / 1000;
	vhu_vhost_ab_set(0);
	ab_take(pmd, &ab->last);
	ab->next_flip = ab->last.tsc + ab->period_tsc;
	pmd->ab = ab;
	printf("A/B: flipping libvhu's variant every %u ms (variant 1: %s)\n",
	       pmd->cfg.ab_period_ms,
	       "without the write prefetches of the packed receive burst and of virtio-user's "
	       "split in_order receive refill, where vhu_prefetchw is on (CPUID, VHU_PREFETCHW); "
	       "elsewhere the same as variant 0");
	return 0;
}

uint64_t
ab_tick(struct pmd *pmd, uint64_t now)
{
	struct ab_state *ab = pmd->ab;
	struct ab_counters c;

	if (ab == NULL)
		return UINT64_MAX;
	if (now < ab->next_flip)
		return ab->next_flip;
	ab_take(pmd, &c);
	ab_attribute(ab, &c);
	ab->variant = (ab->variant + 1) % AB_VARIANTS;
	vhu_vhost_ab_set(ab->variant);
	ab->next_flip += ab->period_tsc;
	/* After a stall longer than a period, count from now. */
	if (ab->next_flip <= c.tsc)
		ab->next_flip = c.tsc + ab->period_tsc;
	return ab->next_flip;
}

void
ab_show(const struct pmd *pmd)
{
	const struct ab_state *ab = pmd->ab;
	const struct ab_period *p[AB_VARIANTS];
	unsigned int v;

	if (ab == NULL)
		return;
	for (v = 0; v < AB_VARIANTS; v++)
		p[v] = ab->p[v];
	ab_print(stdout, pmd->cfg.ab_period_ms, p, ab->n, rte_get_tsc_hz());
}

void
ab_end(struct pmd *pmd)
{
	if (pmd->ab == NULL)
		return;
	vhu_vhost_ab_set(0);
	pmd->ab->next_flip = UINT64_MAX;
}

void
ab_free(struct pmd *pmd)
{
	unsigned int v;

	if (pmd->ab == NULL)
		return;
	for (v = 0; v < AB_VARIANTS; v++)
		free(pmd->ab->p[v]);
	free(pmd->ab);
	pmd->ab = NULL;
}
