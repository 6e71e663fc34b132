/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu's state over DPDK telemetry, for dpdk-telemetry.py and monitoring
 * agents while vhu-pmd runs:
 *
 *     /vhu/ports            the ports: ids, names, drivers, link, state
 *     /vhu/port/stats,N     port N's counters, in total and per queue
 *     /vhu/port/xstats,N    port N's extended statistics
 *     /vhu/vhost/info,N     the vhost-user state of port N
 *
 * Telemetry answers on its own thread; each request takes pmd->lock, so that
 * it sees the ports between two shell commands, never in the middle of one.
 * DPDK 22.11 telemetry containers hold only numbers or strings, so lists of
 * records are given as parallel arrays ("vq_size": [256, 256], ...).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "fwd.h"
#include "vhu_pmd.h"
#include "vhu_vhost_user_port.h"

/* The application telemetry answers for; NULL before init and after fini. */
static struct pmd *tel_pmd;
static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;

/* Take pmd->lock; NULL (and nothing held) when vhu-pmd is going away. */
static struct pmd *
tel_enter(void)
{
	struct pmd *pmd;

	pthread_mutex_lock(&tel_lock);
	pmd = tel_pmd;
	if (pmd != NULL)
		pthread_mutex_lock(&pmd->lock);
	pthread_mutex_unlock(&tel_lock);
	return pmd;
}

static void
tel_leave(struct pmd *pmd)
{
	pthread_mutex_unlock(&pmd->lock);
}

/* The attached port named by the parameter "N", or NULL. */
static struct vhu_port *
tel_port(const char *params)
{
	unsigned long id;

	if (params == NULL || !pmd_parse_uint(params, 0, VHU_PORT_MAX - 1, &id))
		return NULL;
	return vhu_port_get(id);
}

/* An array container of strings or numbers, or NULL; freed with the answer. */
static struct rte_tel_data *
tel_array(enum rte_tel_value_type type)
{
	struct rte_tel_data *a = rte_tel_data_alloc();

	if (a != NULL)
		rte_tel_data_start_array(a, type);
	return a;
}

static void
tel_add_array(struct rte_tel_data *d, const char *name, struct rte_tel_data *a)
{
	if (a != NULL && rte_tel_data_add_dict_container(d, name, a, 0) != 0)
		rte_tel_data_free(a);
}

static int
tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *ids, *names, *drivers, *devstrs, *links, *started;
	struct vhu_port *ports[VHU_PORT_MAX];
	struct pmd *pmd;
	unsigned int i, n;

	pmd = tel_enter();
	if (pmd == NULL)
		return -ENODEV;
	n = pmd_ports(ports);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "count", n);
	rte_tel_data_add_dict_string(d, "fwd_mode", pmd->cfg.engine->name);
	rte_tel_data_add_dict_u64(d, "forwarding", fwd_running(pmd));
	ids = tel_array(RTE_TEL_U64_VAL);
	names = tel_array(RTE_TEL_STRING_VAL);
	drivers = tel_array(RTE_TEL_STRING_VAL);
	devstrs = tel_array(RTE_TEL_STRING_VAL);
	links = tel_array(RTE_TEL_U64_VAL);
	started = tel_array(RTE_TEL_U64_VAL);
	for (i = 0; i < n; i++) {
		if (ids != NULL)
			rte_tel_data_add_array_u64(ids, ports[i]->id);
		if (names != NULL)
			rte_tel_data_add_array_string(names, ports[i]->name);
		if (drivers != NULL)
			rte_tel_data_add_array_string(drivers, ports[i]->ops->name);
		if (devstrs != NULL)
			rte_tel_data_add_array_string(devstrs, ports[i]->devstr);
		if (links != NULL)
			rte_tel_data_add_array_u64(links, vhu_port_link_up(ports[i]));
		if (started != NULL)
			rte_tel_data_add_array_u64(started, ports[i]->started);
	}
	tel_add_array(d, "ids", ids);
	tel_add_array(d, "names", names);
	tel_add_array(d, "drivers", drivers);
	tel_add_array(d, "devstrs", devstrs);
	tel_add_array(d, "link_up", links);
	tel_add_array(d, "started", started);
	tel_leave(pmd);
	return 0;
}

/* One per-queue counter of the port's queues in use, as an array. */
static void
tel_queue_array(struct rte_tel_data *d, const char *name, const struct vhu_port_stats *qs,
		uint16_t nb, size_t offset)
{
	struct rte_tel_data *a = tel_array(RTE_TEL_U64_VAL);
	uint16_t q;

	if (a == NULL)
		return;
	for (q = 0; q < nb; q++) {
		uint64_t v;

		memcpy(&v, (const char *)&qs[q] + offset, sizeof(v));
		rte_tel_data_add_array_u64(a, v);
	}
	tel_add_array(d, name, a);
}

#define QSTAT(dir, field) offsetof(struct vhu_port_stats, dir.field)

static int
tel_port_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct vhu_port_stats s, qs[VHU_PORT_MAX_QUEUES];
	struct vhu_port *port;
	struct pmd *pmd;
	uint16_t q;

	pmd = tel_enter();
	if (pmd == NULL)
		return -ENODEV;
	port = tel_port(params);
	if (port == NULL) {
		tel_leave(pmd);
		return -EINVAL;
	}
	vhu_port_stats_get(port, &s);
	for (q = 0; q < VHU_PORT_MAX_QUEUES; q++)
		vhu_port_queue_stats_get(port, q, &qs[q]);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "port", port->id);
	rte_tel_data_add_dict_u64(d, "rx_packets", s.rx.packets);
	rte_tel_data_add_dict_u64(d, "rx_bytes", s.rx.bytes);
	rte_tel_data_add_dict_u64(d, "rx_missed", s.rx.drops);
	rte_tel_data_add_dict_u64(d, "rx_errors", s.rx.errors);
	rte_tel_data_add_dict_u64(d, "rx_nombuf", s.rx.nombuf);
	rte_tel_data_add_dict_u64(d, "tx_packets", s.tx.packets);
	rte_tel_data_add_dict_u64(d, "tx_bytes", s.tx.bytes);
	rte_tel_data_add_dict_u64(d, "tx_dropped", s.tx.drops);
	rte_tel_data_add_dict_u64(d, "tx_errors", s.tx.errors);
	tel_queue_array(d, "rx_q_packets", qs, port->nb_rxq, QSTAT(rx, packets));
	tel_queue_array(d, "rx_q_bytes", qs, port->nb_rxq, QSTAT(rx, bytes));
	tel_queue_array(d, "rx_q_missed", qs, port->nb_rxq, QSTAT(rx, drops));
	tel_queue_array(d, "rx_q_errors", qs, port->nb_rxq, QSTAT(rx, errors));
	tel_queue_array(d, "tx_q_packets", qs, port->nb_txq, QSTAT(tx, packets));
	tel_queue_array(d, "tx_q_bytes", qs, port->nb_txq, QSTAT(tx, bytes));
	tel_queue_array(d, "tx_q_dropped", qs, port->nb_txq, QSTAT(tx, drops));
	tel_queue_array(d, "tx_q_errors", qs, port->nb_txq, QSTAT(tx, errors));
	tel_leave(pmd);
	return 0;
}

/* Telemetry names allow letters, digits, '_' and '/'; xstats names use no others. */
#define TEL_XSTATS_MAX RTE_TEL_MAX_DICT_ENTRIES

static int
tel_port_xstats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct vhu_port_xstat *xs;
	struct vhu_port *port;
	struct pmd *pmd;
	int n, i;

	xs = calloc(TEL_XSTATS_MAX, sizeof(*xs));
	if (xs == NULL)
		return -ENOMEM;
	pmd = tel_enter();
	if (pmd == NULL) {
		free(xs);
		return -ENODEV;
	}
	port = tel_port(params);
	n = port != NULL ? vhu_port_xstats_get(port, xs, TEL_XSTATS_MAX) : -EINVAL;
	tel_leave(pmd);
	if (n >= 0) {
		rte_tel_data_start_dict(d);
		for (i = 0; i < n && i < TEL_XSTATS_MAX; i++)
			rte_tel_data_add_dict_u64(d, xs[i].name, xs[i].value);
	}
	free(xs);
	return n < 0 ? n : 0;
}

/* The names of the set bits, as an array of strings. */
static void
tel_bit_names(struct rte_tel_data *d, const char *name, uint64_t bits,
	      const char *(*name_of)(unsigned int bit))
{
	struct rte_tel_data *a = tel_array(RTE_TEL_STRING_VAL);
	unsigned int bit;

	if (a == NULL)
		return;
	for (bit = 0; bit < 64; bit++) {
		char unknown[16];
		const char *n;

		if ((bits & (UINT64_C(1) << bit)) == 0)
			continue;
		n = name_of(bit);
		if (n == NULL) {
			snprintf(unknown, sizeof(unknown), "bit%u", bit);
			n = unknown;
		}
		rte_tel_data_add_array_string(a, n);
	}
	tel_add_array(d, name, a);
}

/* One field of every virtqueue, as an array. */
#define TEL_VQ_ARRAY(d, vqs, n, field) \
	do { \
		struct rte_tel_data *a_ = tel_array(RTE_TEL_U64_VAL); \
		unsigned int i_; \
\
		for (i_ = 0; a_ != NULL && i_ < (n); i_++) \
			rte_tel_data_add_array_u64(a_, (vqs)[i_].field); \
		tel_add_array(d, "vq_" #field, a_); \
	} while (0)

static const char *
tel_conn_name(enum vhu_vhost_conn_state conn)
{
	switch (conn) {
	case VHU_VHOST_LISTENING:
		return "listening";
	case VHU_VHOST_CONNECTING:
		return "connecting";
	case VHU_VHOST_CONNECTED:
		return "connected";
	}
	return "unknown";
}

/* One array per field, indexed by virtqueue, over the rings the front-end set up. */
static void
tel_vhost_vqs(struct rte_tel_data *d, struct vhu_vhost_dev *dev, const struct vhu_vhost_info *info)
{
	struct rte_tel_data *reasons = tel_array(RTE_TEL_STRING_VAL);
	struct vhu_vhost_vq_info *vqs;
	unsigned int i, n = 0;

	vqs = calloc(info->nr_vqs > 0 ? info->nr_vqs : 1, sizeof(*vqs));
	while (vqs != NULL && n < info->nr_vqs && vhu_vhost_get_vq_info(dev, n, &vqs[n]) == 0)
		n++;
	TEL_VQ_ARRAY(d, vqs, n, enabled);
	TEL_VQ_ARRAY(d, vqs, n, started);
	TEL_VQ_ARRAY(d, vqs, n, ready);
	TEL_VQ_ARRAY(d, vqs, n, packed);
	TEL_VQ_ARRAY(d, vqs, n, size);
	TEL_VQ_ARRAY(d, vqs, n, last_avail);
	TEL_VQ_ARRAY(d, vqs, n, avail_idx);
	TEL_VQ_ARRAY(d, vqs, n, used_idx);
	TEL_VQ_ARRAY(d, vqs, n, broken);
	TEL_VQ_ARRAY(d, vqs, n, errors);
	TEL_VQ_ARRAY(d, vqs, n, nombuf);
	TEL_VQ_ARRAY(d, vqs, n, bad_hdr);
	TEL_VQ_ARRAY(d, vqs, n, notify);
	for (i = 0; reasons != NULL && i < n; i++)
		rte_tel_data_add_array_string(reasons, vqs[i].broken_reason);
	tel_add_array(d, "vq_broken_reason", reasons);
	free(vqs);
}

static int
tel_vhost_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct vhu_vhost_info info;
	struct vhu_vhost_dev *dev;
	struct pmd *pmd;
	int rc;

	pmd = tel_enter();
	if (pmd == NULL)
		return -ENODEV;
	dev = vhu_vhost_user_port_dev(tel_port(params));
	rc = dev != NULL ? vhu_vhost_get_info(dev, &info) : -EINVAL;
	if (rc != 0) {
		tel_leave(pmd);
		return rc;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "socket", vhu_vhost_path(dev));
	rte_tel_data_add_dict_string(d, "state", tel_conn_name(info.conn));
	rte_tel_data_add_dict_u64(d, "running", info.running);
	rte_tel_data_add_dict_u64(d, "features", info.features);
	tel_bit_names(d, "feature_names", info.features, vhu_virtio_feature_name);
	rte_tel_data_add_dict_u64(d, "protocol_features", info.protocol_features);
	tel_bit_names(d, "protocol_feature_names", info.protocol_features,
		      vhu_protocol_feature_name);
	rte_tel_data_add_dict_u64(d, "status", info.status);
	rte_tel_data_add_dict_u64(d, "nr_regions", info.nr_regions);
	rte_tel_data_add_dict_u64(d, "mem_bytes", info.mem_bytes);
	rte_tel_data_add_dict_u64(d, "connections", info.connections);
	rte_tel_data_add_dict_u64(d, "iotlb_misses", info.iotlb_misses);
	rte_tel_data_add_dict_u64(d, "iotlb_updates", info.iotlb_updates);
	rte_tel_data_add_dict_u64(d, "iotlb_invalidations", info.iotlb_invalidations);
	rte_tel_data_add_dict_u64(d, "iotlb_entries", info.iotlb_entries);
	rte_tel_data_add_dict_u64(d, "nr_vqs", info.nr_vqs);
	tel_vhost_vqs(d, dev, &info);
	tel_leave(pmd);
	return 0;
}

int
telemetry_init(struct pmd *pmd)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{"/vhu/ports", tel_ports,
		 "vhu-pmd's ports: ids, names, drivers, device strings, link, started. No "
		 "parameters"},
		{"/vhu/port/stats", tel_port_stats,
		 "Counters of a vhu-pmd port, in total and per queue. Parameter: port id"},
		{"/vhu/port/xstats", tel_port_xstats,
		 "Extended statistics of a vhu-pmd port. Parameter: port id"},
		{"/vhu/vhost/info", tel_vhost_info,
		 "vhost-user state of a vhu-pmd port: socket, features, virtqueues. Parameter: "
		 "port id"},
	};
	unsigned int i;
	int rc;

	pthread_mutex_lock(&tel_lock);
	tel_pmd = pmd;
	pthread_mutex_unlock(&tel_lock);
	for (i = 0; i < RTE_DIM(cmds); i++) {
		rc = rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn, cmds[i].help);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void
telemetry_fini(void)
{
	pthread_mutex_lock(&tel_lock);
	tel_pmd = NULL;
	pthread_mutex_unlock(&tel_lock);
}
