/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The A/B switch of vhu-pmd (--ab-period): the main lcore flips libvhu's
 * variant (vhu_vhost_ab_set()) every period while the lcores forward, and
 * at each flip attributes the counters' deltas to the variant that was on.
 * Two code paths are then compared inside one process, period against the
 * neighbouring period, so that the machine's slow drifts and mode changes
 * hit both alike (doc/performance.md, "A/B inside one process").
 *
 * The arithmetic (ab_figures(), ab_ratio()) is pure, for the unit tests;
 * the rest runs on the main lcore with pmd->lock held.
 */
#ifndef VHU_PMD_AB_H
#define VHU_PMD_AB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vhu_vhost.h"

/* Range of --ab-period, in milliseconds. */
#define AB_PERIOD_MIN_MS 10
#define AB_PERIOD_MAX_MS 60000

/* Variants compared: 0 and 1 (VHU_VHOST_AB_MAX + 1). */
#define AB_VARIANTS (VHU_VHOST_AB_MAX + 1)

/* The deltas of one period, all variants alike. */
struct ab_period {
	uint64_t tsc;		/* TSC cycles the period lasted */
	uint64_t busy_cycles;	/* forwarding lcores' busy cycles, summed */
	uint64_t busy_polls;	/* their busy polls, summed */
	uint64_t packets;	/* received (or sent, by an engine that only sends), all ports */
	uint64_t burst_cycles;	/* inside vhost-user backend calls (burst-cycles=1 ports) */
	uint64_t burst_packets; /* packets those calls moved */
};

/* Per-period figures of one variant: pooled over the periods, and their spread. */
struct ab_stat {
	double pooled; /* sum of numerators / sum of denominators */
	double median; /* of the per-period figures */
	double min;
	double max;
	unsigned int n; /* periods that have the figure (a denominator > 0) */
};

/* What one variant's periods add up to. */
struct ab_figures {
	unsigned int periods; /* periods kept */
	uint64_t packets;     /* over them */
	struct ab_stat cpp;   /* busy cycles per packet */
	struct ab_stat burst; /* backend cycles per packet; n = 0 when not counted */
	struct ab_stat mpps;  /* million packets per second */
};

/*
 * The figures of 'n' periods of one variant, with the TSC at 'hz'. A figure
 * whose denominator is 0 in a period (no packet) leaves that period out of
 * its median and range.
 */
void ab_figures(const struct ab_period *p, unsigned int n, uint64_t hz, struct ab_figures *f);

/*
 * Variant 0 / variant 1 cycles per packet (burst: backend cycles per packet)
 * period by period: period k of variant 0 against period k of variant 1,
 * which ran next to it. 'pooled' is the ratio of the pooled figures; the
 * median and range are those of the per-pair ratios (pairs where both have
 * packets, counted in n).
 */
void ab_ratio(const struct ab_period *p0, unsigned int n0, const struct ab_period *p1,
	      unsigned int n1, bool burst, struct ab_stat *r);

/* Print the A/B block (format: doc/performance.md, "A/B inside one process"). */
void ab_print(FILE *f, unsigned int period_ms, const struct ab_period *const p[AB_VARIANTS],
	      const unsigned int n[AB_VARIANTS], uint64_t hz);

struct pmd;

/*
 * Start flipping (after "start"): variant 0 on, counters taken. Returns 0,
 * or -ENOMEM after printing why (forwarding then runs without A/B).
 */
int ab_begin(struct pmd *pmd);

/*
 * When the period is over at TSC 'now', attribute it and flip. Returns the
 * TSC of the next flip (UINT64_MAX when A/B is off).
 */
uint64_t ab_tick(struct pmd *pmd, uint64_t now);

/* Print the A/B block so far (nothing when A/B is off). */
void ab_show(const struct pmd *pmd);

/* Stop flipping (before "stop"): variant 0 again; the partial period is dropped. */
void ab_end(struct pmd *pmd);

/* Free what ab_begin() holds. */
void ab_free(struct pmd *pmd);

#endif /* VHU_PMD_AB_H */
