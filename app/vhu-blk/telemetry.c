/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-blk's state over DPDK telemetry (dpdk-telemetry.py, monitoring agents),
 * as vhu-pmd's /vhu/... commands:
 *
 *     /vhu-blk/info         the device: socket, image, size, queues, state
 *     /vhu-blk/stats        counters since start, in total and per queue
 *                           (parallel arrays: "reads": [q0, q1, ...])
 *     /vhu-blk/stats,N      the counters of queue N alone
 *
 * Telemetry answers on its own thread; the counters are read with relaxed
 * loads (blk_stats.h), the device through vhu_vhost_get_info(), which any
 * thread may call. The app pointer is cleared before the device goes.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_telemetry.h>

#include "vhu_blk_app.h"

static struct blk_app *tel_app;
static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *
tel_conn_name(enum vhu_vhost_conn_state s)
{
	switch (s) {
	case VHU_VHOST_LISTENING:
		return "listening";
	case VHU_VHOST_CONNECTING:
		return "connecting";
	case VHU_VHOST_CONNECTED:
		return "connected";
	}
	return "unknown";
}

static int
tel_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct vhu_vhost_info info;
	struct blk_app *a;
	int rc = -ENODEV;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	pthread_mutex_lock(&tel_lock);
	a = tel_app;
	if (a != NULL && (rc = vhu_vhost_get_info(a->dev, &info)) == 0) {
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_string(d, "socket", a->p.socket_path);
		rte_tel_data_add_dict_string(d, "image", a->bdev.name);
		rte_tel_data_add_dict_u64(d, "size", a->bdev.size);
		rte_tel_data_add_dict_u64(d, "blk_size", a->p.blk_size);
		rte_tel_data_add_dict_u64(d, "queues", a->p.queues);
		rte_tel_data_add_dict_u64(d, "read_only", a->bdev.read_only);
		rte_tel_data_add_dict_u64(d, "write_back", vhu_blk_write_back(a->dev));
		rte_tel_data_add_dict_string(d, "state", tel_conn_name(info.conn));
		rte_tel_data_add_dict_u64(d, "running", info.running);
		rte_tel_data_add_dict_u64(d, "features", info.features);
		rte_tel_data_add_dict_u64(d, "protocol_features", info.protocol_features);
		rte_tel_data_add_dict_u64(d, "connections", info.connections);
	}
	pthread_mutex_unlock(&tel_lock);
	return rc;
}

/* The counters a stats reply carries, by name; tel_field() reads them. */
static const char *const tel_fields[] = {
	"requests",	"reads",      "writes",	    "flushes",	     "discards",
	"write_zeroes", "other",      "bytes_read", "bytes_written", "ioerr",
	"unsupp",	"lat_p50_ns", "lat_p99_ns", "lat_p999_ns",   "lat_mean_ns",
};

static uint64_t
tel_field(const struct blk_queue_stats *s, size_t f)
{
	uint64_t n = blk_stats_requests(s);

	switch (f) {
	case 0:
		return n;
	case 1:
		return s->ops[BLK_OP_READ];
	case 2:
		return s->ops[BLK_OP_WRITE];
	case 3:
		return s->ops[BLK_OP_FLUSH];
	case 4:
		return s->ops[BLK_OP_DISCARD];
	case 5:
		return s->ops[BLK_OP_WRITE_ZEROES];
	case 6:
		return s->ops[BLK_OP_OTHER];
	case 7:
		return s->bytes_read;
	case 8:
		return s->bytes_written;
	case 9:
		return s->ioerr;
	case 10:
		return s->unsupp;
	case 11:
		return blk_stats_percentile(s, 50);
	case 12:
		return blk_stats_percentile(s, 99);
	case 13:
		return blk_stats_percentile(s, 99.9);
	default:
		return n != 0 ? s->lat_sum_ns / n : 0;
	}
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct blk_queue_stats *snap, total;
	struct blk_app *a;
	unsigned long one = ULONG_MAX;
	uint16_t q, nq;
	size_t f;

	RTE_SET_USED(cmd);
	pthread_mutex_lock(&tel_lock);
	a = tel_app;
	if (a == NULL) {
		pthread_mutex_unlock(&tel_lock);
		return -ENODEV;
	}
	nq = a->p.queues;
	if (params != NULL && *params != '\0') {
		char *end;

		one = strtoul(params, &end, 10);
		if (*end != '\0' || one >= nq) {
			pthread_mutex_unlock(&tel_lock);
			return -EINVAL;
		}
	}
	snap = calloc(nq, sizeof(*snap));
	if (snap == NULL) {
		pthread_mutex_unlock(&tel_lock);
		return -ENOMEM;
	}
	memset(&total, 0, sizeof(total));
	for (q = 0; q < nq; q++) {
		blk_stats_snapshot(&a->queues[q]->stats, &snap[q]);
		blk_stats_add(&total, &snap[q]);
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "seconds", (rte_rdtsc() - a->start_tsc) / a->tsc_hz);
	for (f = 0; f < RTE_DIM(tel_fields); f++) {
		struct rte_tel_data *arr;

		if (one != ULONG_MAX) {
			rte_tel_data_add_dict_u64(d, tel_fields[f], tel_field(&snap[one], f));
			continue;
		}
		rte_tel_data_add_dict_u64(d, tel_fields[f], tel_field(&total, f));
		arr = rte_tel_data_alloc();
		if (arr == NULL)
			continue;
		rte_tel_data_start_array(arr, RTE_TEL_U64_VAL);
		for (q = 0; q < nq; q++)
			rte_tel_data_add_array_u64(arr, tel_field(&snap[q], f));
		{
			char name[64];

			snprintf(name, sizeof(name), "queue_%s", tel_fields[f]);
			rte_tel_data_add_dict_container(d, name, arr, 0);
		}
	}
	free(snap);
	pthread_mutex_unlock(&tel_lock);
	return 0;
}

int
blk_telemetry_init(struct blk_app *a)
{
	int rc;

	pthread_mutex_lock(&tel_lock);
	tel_app = a;
	pthread_mutex_unlock(&tel_lock);
	rc = rte_telemetry_register_cmd("/vhu-blk/info", tel_info,
					"vhu-blk's device: socket, image, size, queues, state. "
					"No parameters");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/vhu-blk/stats", tel_stats,
						"vhu-blk's counters since start, in total and per "
						"queue. Parameter: a queue number (optional)");
	return rc;
}

void
blk_telemetry_fini(void)
{
	pthread_mutex_lock(&tel_lock);
	tel_app = NULL;
	pthread_mutex_unlock(&tel_lock);
}
