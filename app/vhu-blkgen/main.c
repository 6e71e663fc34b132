/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-blkgen: connects to a vhost-user-blk backend as a VMM would (vhu's
 * virtio-blk front-end driver), keeps --iodepth requests in flight on each
 * queue from one polling lcore, and reports IOPS, bandwidth and latency
 * percentiles. With --verify every write carries its offset and a
 * generation number in each sector and every read is checked byte by byte.
 *
 * A run has up to three phases: a prefill (verify with a read-only mode:
 * write the area once so reads have something to check), the measured run,
 * and a read-back (verify with writes: read every block written and check
 * it). Only the measured run counts in the statistics.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "blk_stats.h"
#include "blkgen.h"
#include "vhu_virtio_blk.h"

/* A queue with requests in flight and nothing completed for this long is stuck. */
#define BLKGEN_STALL_S 10
/* Largest working set --verify tracks (a generation per block). */
#define BLKGEN_VERIFY_MAX_BLOCKS (UINT64_C(1) << 26)
#define BLKGEN_POLL_BURST	 32

enum phase { PH_PREFILL, PH_RUN, PH_READBACK };
static const char *const phase_names[] = { "prefill", "run", "read-back" };

/* One request slot of a queue. */
struct slot {
	uint8_t *buf;	/* bs bytes of shared memory */
	uint64_t block; /* block index (offset / bs) */
	uint64_t gen;	/* write: generation written; read: expected (0: not checked) */
	uint64_t tsc;	/* submitted at */
	uint32_t type;	/* VIRTIO_BLK_T_IN or _OUT */
	bool busy;	/* in flight */
};

struct queue {
	struct slot *slots;	    /* iodepth of them */
	uint32_t inflight;	    /* slots busy */
	struct blk_queue_stats *st; /* measured run only */
};

struct gen {
	struct blkgen_params p;
	struct vhu_vblk *b;
	struct vhu_vblk_info info;
	struct queue q[BLKGEN_MAX_QUEUES];
	uint64_t nblocks; /* blocks of bs in the working set */
	uint64_t *gens;	  /* verify: generation of each block (0: not written) */
	uint8_t *busy;	  /* verify: block has a request in flight */
	enum phase phase;
	uint64_t next_seq; /* sequential modes, prefill, read-back: next block */
	uint64_t issued;   /* requests issued in this phase */
	bool issuing;	   /* the phase still issues */
	uint64_t rng;	   /* xorshift state */
	uint64_t tsc_hz;
	uint64_t written;  /* verify: blocks written at least once */
	uint64_t checked;  /* verify/expect-zeroes: reads checked */
	char failure[640]; /* why the run failed ("" if it did not) */
};

static void __rte_format_printf(2, 3) fail(struct gen *g, const char *fmt, ...)
{
	va_list ap;

	if (g->failure[0] != '\0')
		return; /* the first reason is the one worth reading */
	va_start(ap, fmt);
	vsnprintf(g->failure, sizeof(g->failure), fmt, ap);
	va_end(ap);
}

static uint64_t
rnd(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

static bool
rw_random(enum blkgen_rw rw)
{
	return rw == BLKGEN_RANDREAD || rw == BLKGEN_RANDWRITE || rw == BLKGEN_RANDRW;
}

static bool
rw_writes(enum blkgen_rw rw)
{
	return rw == BLKGEN_WRITE || rw == BLKGEN_RANDWRITE || rw == BLKGEN_RANDRW;
}

/* The next block of a sequential walk that no request holds; false when none. */
static bool
pick_free(struct gen *g, uint64_t start, uint64_t *block)
{
	uint64_t i, b;

	if (g->busy == NULL) {
		*block = start;
		return true;
	}
	for (i = 0; i < g->nblocks; i++) {
		b = (start + i) % g->nblocks;
		if (!g->busy[b]) {
			*block = b;
			return true;
		}
	}
	return false;
}

/* What the current phase issues next; false when it issues nothing now. */
static bool
next_io(struct gen *g, uint32_t *type, uint64_t *block)
{
	const struct blkgen_params *p = &g->p;
	bool write;

	switch (g->phase) {
	case PH_PREFILL:
		if (g->next_seq >= g->nblocks)
			return false;
		*type = VIRTIO_BLK_T_OUT;
		*block = g->next_seq++;
		return true;
	case PH_READBACK:
		while (g->next_seq < g->nblocks && g->gens[g->next_seq] == 0)
			g->next_seq++;
		if (g->next_seq >= g->nblocks)
			return false;
		*type = VIRTIO_BLK_T_IN;
		*block = g->next_seq++;
		return true;
	case PH_RUN:
		break;
	}
	if (p->ios != 0 && g->issued >= p->ios)
		return false;
	write = p->rw == BLKGEN_WRITE || p->rw == BLKGEN_RANDWRITE ||
		(p->rw == BLKGEN_RANDRW && rnd(g) % 100 >= p->rwmix_read);
	*type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	if (rw_random(p->rw))
		return pick_free(g, rnd(g) % g->nblocks, block);
	if (!pick_free(g, g->next_seq % g->nblocks, block))
		return false;
	g->next_seq = *block + 1;
	return true;
}

/* Issue what the phase allows on queue 'qi'; false on a failure. */
static bool
fill_queue(struct gen *g, uint16_t qi)
{
	struct queue *q = &g->q[qi];
	const struct blkgen_params *p = &g->p;
	uint32_t i, submitted = 0;

	for (i = 0; i < p->iodepth && g->issuing; i++) {
		struct slot *s = &q->slots[i];
		struct vhu_vblk_req req;
		uint32_t type;
		uint64_t block;
		int rc;

		if (s->busy)
			continue;
		if (!next_io(g, &type, &block))
			break;
		s->block = block;
		s->type = type;
		s->gen = 0;
		if (type == VIRTIO_BLK_T_OUT && g->gens != NULL) {
			s->gen = g->gens[block] + 1;
			blkgen_pattern_fill(s->buf, p->bs, block * p->bs, s->gen);
		} else if (type == VIRTIO_BLK_T_IN && g->gens != NULL) {
			s->gen = g->gens[block];
		}
		req = (struct vhu_vblk_req){ .type = type,
					     .sector = block * p->bs / VIRTIO_BLK_SECTOR_SIZE,
					     .buf = s->buf,
					     .len = p->bs,
					     .cookie = i };
		s->tsc = rte_rdtsc();
		rc = vhu_vblk_submit(g->b, qi, &req);
		if (rc == -EAGAIN)
			break; /* the ring is full: completions make room */
		if (rc != 0) {
			fail(g, "queue %u: cannot submit a request: %s%s%s", qi, strerror(-rc),
			     rc == -EIO ? ": " : "", rc == -EIO ? vhu_vblk_error(g->b, qi) : "");
			return false;
		}
		if (g->busy != NULL)
			g->busy[block] = 1;
		s->busy = true;
		q->inflight++;
		g->issued++;
		submitted++;
	}
	if (submitted != 0)
		vhu_vblk_kick(g->b, qi);
	return true;
}

/* Account for a completion; false on a failure. */
static bool
complete(struct gen *g, uint16_t qi, const struct vhu_vblk_done *d, uint64_t now)
{
	struct queue *q = &g->q[qi];
	const struct blkgen_params *p = &g->p;
	struct slot *s = &q->slots[d->cookie];
	uint64_t off = s->block * p->bs;
	char why[256];

	s->busy = false;
	q->inflight--;
	if (g->busy != NULL)
		g->busy[s->block] = 0;
	if (d->status != VIRTIO_BLK_S_OK) {
		fail(g,
		     "queue %u: %s of %u bytes at offset %" PRIu64 " failed: the backend "
		     "answered %s",
		     qi, s->type == VIRTIO_BLK_T_IN ? "read" : "write", p->bs, off,
		     d->status == VIRTIO_BLK_S_IOERR ? "IOERR (an I/O error on its image)"
						     : "UNSUPP (it does not do this request)");
		return false;
	}
	if (s->type == VIRTIO_BLK_T_OUT && g->gens != NULL) {
		if (g->gens[s->block] == 0)
			g->written++;
		g->gens[s->block] = s->gen;
	} else if (s->type == VIRTIO_BLK_T_IN && s->gen != 0) {
		if (blkgen_pattern_check(s->buf, p->bs, off, s->gen, why, sizeof(why)) != 0) {
			fail(g,
			     "queue %u: verification failed reading %u bytes at offset %" PRIu64
			     ": %s",
			     qi, p->bs, off, why);
			return false;
		}
		g->checked++;
	} else if (s->type == VIRTIO_BLK_T_IN && p->expect_zeroes) {
		if (blkgen_zero_check(s->buf, p->bs, off, why, sizeof(why)) != 0) {
			fail(g, "queue %u: --expect-zeroes: read at offset %" PRIu64 ": %s", qi,
			     off, why);
			return false;
		}
		g->checked++;
	}
	if (g->phase == PH_RUN)
		blk_stats_complete(q->st, s->type == VIRTIO_BLK_T_IN ? BLK_OP_READ : BLK_OP_WRITE,
				   p->bs, d->status,
				   (now - s->tsc) * UINT64_C(1000000000) / g->tsc_hz);
	return true;
}

/* Run one phase to its end: every request issued and completed. */
static int
run_phase(struct gen *g, enum phase ph, double *seconds)
{
	const struct blkgen_params *p = &g->p;
	uint64_t start = rte_rdtsc(), last_done = start, end_tsc = 0, now;
	struct vhu_vblk_done done[BLKGEN_POLL_BURST];
	uint32_t inflight;
	uint16_t qi;
	int n, i;

	g->phase = ph;
	g->next_seq = 0;
	g->issued = 0;
	g->issuing = true;
	if (ph == PH_RUN && p->runtime > 0)
		end_tsc = start + (uint64_t)(p->runtime * (double)g->tsc_hz);
	for (;;) {
		inflight = 0;
		now = rte_rdtsc();
		for (qi = 0; qi < p->queues; qi++) {
			n = vhu_vblk_poll(g->b, qi, done, BLKGEN_POLL_BURST);
			if (n < 0) {
				fail(g, "queue %u: %s", qi,
				     n == -EIO
					     ? vhu_vblk_error(g->b, qi)
					     : "the backend closed the connection during the run");
				return -1;
			}
			if (n > 0) {
				now = rte_rdtsc();
				last_done = now;
			}
			for (i = 0; i < n; i++)
				if (!complete(g, qi, &done[i], now))
					return -1;
			if (!fill_queue(g, qi))
				return -1;
			inflight += g->q[qi].inflight;
		}
		if (end_tsc != 0 && now >= end_tsc)
			g->issuing = false;
		/* Every queue was just filled: nothing in flight means nothing left to issue. */
		if (inflight == 0)
			break;
		if (inflight != 0 && now - last_done > BLKGEN_STALL_S * g->tsc_hz) {
			fail(g,
			     "%s: %u request(s) in flight and none completed for %u s; the "
			     "backend stopped serving the queues",
			     phase_names[ph], inflight, BLKGEN_STALL_S);
			return -1;
		}
	}
	*seconds = (double)(rte_rdtsc() - start) / (double)g->tsc_hz;
	return 0;
}

static void
json_escape(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
}

static void
report_json(FILE *f, const struct gen *g, const struct blk_queue_stats *t, double secs)
{
	const struct blkgen_params *p = &g->p;
	uint64_t ios = blk_stats_requests(t);
	uint64_t bytes = t->bytes_read + t->bytes_written;

	fprintf(f, "{\"tool\": \"vhu-blkgen\", \"socket\": \"");
	json_escape(f, p->socket_path);
	fprintf(f,
		"\", \"rw\": \"%s\", \"bs\": %u, \"iodepth\": %u, \"queues\": %u, "
		"\"ring\": \"%s\", \"indirect\": %s, \"event_idx\": %s, \"seconds\": %.3f, "
		"\"ios\": %" PRIu64 ", \"reads\": %" PRIu64 ", \"writes\": %" PRIu64
		", \"iops\": %.0f, \"mbps\": %.2f, "
		"\"lat_ns\": {\"mean\": %.0f, \"p50\": %" PRIu64 ", \"p99\": %" PRIu64
		", \"p99_9\": %" PRIu64 "}, ",
		blkgen_rw_name(p->rw), p->bs, p->iodepth, p->queues,
		g->info.packed ? "packed" : "split", g->info.indirect ? "true" : "false",
		g->info.event_idx ? "true" : "false", secs, ios, t->ops[BLK_OP_READ],
		t->ops[BLK_OP_WRITE], secs > 0 ? (double)ios / secs : 0,
		secs > 0 ? (double)bytes / secs / 1e6 : 0,
		ios > 0 ? (double)t->lat_sum_ns / (double)ios : 0, blk_stats_percentile(t, 50),
		blk_stats_percentile(t, 99), blk_stats_percentile(t, 99.9));
	fprintf(f,
		"\"verify\": %s, \"expect_zeroes\": %s, \"blocks_written\": %" PRIu64
		", \"reads_checked\": %" PRIu64 ", "
		"\"device\": {\"capacity_sectors\": %" PRIu64 ", \"blk_size\": %u, "
		"\"num_queues\": %u, \"seg_max\": %u, \"size_max\": %u, \"features\": \"0x%" PRIx64
		"\"}}\n",
		p->verify ? "true" : "false", p->expect_zeroes ? "true" : "false", g->written,
		g->checked, g->info.capacity, g->info.blk_size, g->info.num_queues, g->info.seg_max,
		g->info.size_max, g->info.features);
}

static void
report_line(const struct gen *g, const struct blk_queue_stats *t, double secs)
{
	const struct blkgen_params *p = &g->p;
	uint64_t ios = blk_stats_requests(t);

	printf("%s bs=%u iodepth=%u queues=%u (%s rings%s): %.0f IOPS, %.1f MB/s, latency "
	       "mean %.1f us, p50 %.1f us, p99 %.1f us, p99.9 %.1f us (%" PRIu64
	       " requests in %.2f s)",
	       blkgen_rw_name(p->rw), p->bs, p->iodepth, p->queues,
	       g->info.packed ? "packed" : "split", g->info.indirect ? ", indirect" : "",
	       secs > 0 ? (double)ios / secs : 0,
	       secs > 0 ? (double)(t->bytes_read + t->bytes_written) / secs / 1e6 : 0,
	       ios > 0 ? (double)t->lat_sum_ns / (double)ios / 1e3 : 0,
	       (double)blk_stats_percentile(t, 50) / 1e3, (double)blk_stats_percentile(t, 99) / 1e3,
	       (double)blk_stats_percentile(t, 99.9) / 1e3, ios, secs);
	if (p->verify || p->expect_zeroes)
		printf("; %" PRIu64 " read(s) checked, %" PRIu64 " block(s) written", g->checked,
		       g->written);
	printf("\n");
}

/* Check the device against the options and set up the working set; 0 or -1 with g->failure. */
static int
setup_area(struct gen *g)
{
	const struct blkgen_params *p = &g->p;
	uint64_t dev_bytes = g->info.capacity * VIRTIO_BLK_SECTOR_SIZE, area;
	uint16_t qi;
	uint32_t i;

	if (!g->info.config_valid) {
		fail(g, "the backend did not answer GET_CONFIG, so the device's capacity is "
			"unknown; use a backend with the CONFIG protocol feature");
		return -1;
	}
	if (p->bs % g->info.blk_size != 0) {
		fail(g, "--bs=%u is not a multiple of the device's block size %u", p->bs,
		     g->info.blk_size);
		return -1;
	}
	if (g->info.read_only && (rw_writes(p->rw) || p->verify)) {
		fail(g, "the device is read-only (VIRTIO_BLK_F_RO); use --rw=read or randread "
			"without --verify");
		return -1;
	}
	if (p->queues > g->info.queues) {
		fail(g, "--queues=%u but only %u queue(s) run", p->queues, g->info.queues);
		return -1;
	}
	area = p->size != 0 ? p->size : dev_bytes;
	if (area > dev_bytes) {
		fail(g, "--size=%" PRIu64 " is past the device's %" PRIu64 " bytes", area,
		     dev_bytes);
		return -1;
	}
	g->nblocks = area / p->bs;
	if (g->nblocks == 0) {
		fail(g, "the device has %" PRIu64 " bytes, less than one --bs=%u block", dev_bytes,
		     p->bs);
		return -1;
	}
	if (p->verify) {
		if (g->nblocks > BLKGEN_VERIFY_MAX_BLOCKS) {
			fail(g,
			     "--verify over %" PRIu64 " blocks: at most %" PRIu64
			     " are tracked; lower --size or raise --bs",
			     g->nblocks, BLKGEN_VERIFY_MAX_BLOCKS);
			return -1;
		}
		if (g->nblocks < (uint64_t)p->iodepth * p->queues) {
			fail(g,
			     "--verify needs at least as many blocks (%" PRIu64 ") as requests "
			     "in flight (%u); raise --size",
			     g->nblocks, p->iodepth * p->queues);
			return -1;
		}
		g->gens = calloc(g->nblocks, sizeof(*g->gens));
		g->busy = calloc(g->nblocks, 1);
		if (g->gens == NULL || g->busy == NULL) {
			fail(g, "out of memory for --verify's %" PRIu64 " blocks", g->nblocks);
			return -1;
		}
	}
	for (qi = 0; qi < p->queues; qi++) {
		struct queue *q = &g->q[qi];

		q->slots = calloc(p->iodepth, sizeof(*q->slots));
		q->st = calloc(1, sizeof(*q->st));
		if (q->slots == NULL || q->st == NULL) {
			fail(g, "out of memory for %u request slots", p->iodepth);
			return -1;
		}
		for (i = 0; i < p->iodepth; i++) {
			q->slots[i].buf = vhu_vblk_alloc(g->b, p->bs, 4096);
			if (q->slots[i].buf == NULL) {
				fail(g, "shared memory for %u buffers of %u bytes is used up",
				     p->iodepth * p->queues, p->bs);
				return -1;
			}
		}
	}
	return 0;
}

static void
gen_free(struct gen *g)
{
	uint16_t qi;

	for (qi = 0; qi < BLKGEN_MAX_QUEUES; qi++) {
		free(g->q[qi].slots);
		free(g->q[qi].st);
	}
	free(g->gens);
	free(g->busy);
}

/* Phases and report; 0 or -1 with g->failure. */
static int
run(struct gen *g)
{
	const struct blkgen_params *p = &g->p;
	struct blk_queue_stats total;
	double secs = 0, ignored;
	FILE *f;
	uint16_t qi;

	if (p->verify && !rw_writes(p->rw) && run_phase(g, PH_PREFILL, &ignored) != 0)
		return -1;
	if (run_phase(g, PH_RUN, &secs) != 0)
		return -1;
	if (p->verify && rw_writes(p->rw) && run_phase(g, PH_READBACK, &ignored) != 0)
		return -1;
	memset(&total, 0, sizeof(total));
	for (qi = 0; qi < p->queues; qi++)
		blk_stats_add(&total, g->q[qi].st);
	if (!p->quiet)
		report_line(g, &total, secs);
	report_json(stdout, g, &total, secs);
	fflush(stdout);
	if (p->json_path != NULL) {
		f = fopen(p->json_path, "w");
		if (f == NULL) {
			fail(g, "--json=%s: cannot write it: %s", p->json_path, strerror(errno));
			return -1;
		}
		report_json(f, g, &total, secs);
		fclose(f);
	}
	return 0;
}

/* Split argv at "--": EAL's part before, ours after (argv[0] shared). */
static int
split_args(int argc, char **argv, int *eal_argc)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			break;
	*eal_argc = i < argc ? i : 1;
	return i < argc ? i : 0;
}

int
main(int argc, char **argv)
{
	static struct gen g;
	struct vhu_vblk_conf conf;
	char err[256];
	int eal_argc, app_at, rc, status = BLKGEN_EXIT_FAILURE;
	bool help;

	/* Our options first: a typo costs no EAL set-up. */
	app_at = split_args(argc, argv, &eal_argc);
	argv[app_at] = argv[0];
	rc = blkgen_params_parse(&g.p, argc - app_at, argv + app_at, &help, err, sizeof(err));
	if (rc != BLKGEN_EXIT_OK) {
		fprintf(stderr, "vhu-blkgen: %s\n", err);
		return rc;
	}
	if (help) {
		blkgen_usage("vhu-blkgen");
		return BLKGEN_EXIT_OK;
	}
	if (g.p.iodepth > g.p.queue_size) {
		fprintf(stderr,
			"vhu-blkgen: --iodepth=%u exceeds --queue-size=%u; raise "
			"--queue-size\n",
			g.p.iodepth, g.p.queue_size);
		return BLKGEN_EXIT_USAGE;
	}
	if (app_at != 0)
		argv[app_at] = (char *)"--";
	if (rte_eal_init(eal_argc, argv) < 0) {
		fprintf(stderr,
			"vhu-blkgen: EAL init failed: %s; check the EAL options before "
			"'--'\n",
			rte_strerror(rte_errno));
		return BLKGEN_EXIT_FAILURE;
	}
	g.tsc_hz = rte_get_tsc_hz();
	g.rng = g.p.seed * UINT64_C(0x9e3779b97f4a7c15) + 1;
	conf = (struct vhu_vblk_conf){
		.path = g.p.socket_path,
		.queues = g.p.queues,
		.queue_size = g.p.queue_size,
		.packed = g.p.packed,
		.indirect = g.p.indirect,
		/* Room for every buffer even when each starts a 4 KB page, and a spare unit. */
		.data_bytes = (uint64_t)g.p.queues * g.p.iodepth * RTE_ALIGN_CEIL(g.p.bs, 4096) +
			      (UINT64_C(2) << 20),
	};
	g.b = vhu_vblk_create(&conf);
	if (g.b == NULL) {
		fprintf(stderr, "vhu-blkgen: %s: cannot set up the device: %s\n", g.p.socket_path,
			rte_strerror(rte_errno));
		goto out_eal;
	}
	rc = vhu_vblk_start(g.b);
	if (rc != 0) {
		fprintf(stderr,
			"vhu-blkgen: %s: the backend did not start the device: %s (the "
			"log above says why)\n",
			g.p.socket_path, strerror(-rc));
		goto out_dev;
	}
	vhu_vblk_info_get(g.b, &g.info);
	if (setup_area(&g) == 0 && run(&g) == 0)
		status = BLKGEN_EXIT_OK;
	if (g.failure[0] != '\0')
		fprintf(stderr, "vhu-blkgen: %s: %s\n", g.p.socket_path, g.failure);
	vhu_vblk_stop(g.b);
out_dev:
	vhu_vblk_destroy(g.b);
out_eal:
	gen_free(&g);
	rte_eal_cleanup();
	return status;
}
