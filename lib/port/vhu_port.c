/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The port layer's control path: the driver registry, device-string parsing,
 * the port table and the counter getters. The data path is inline in
 * vhu_port.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "vhu_port.h"

RTE_LOG_REGISTER(vhu_port_logtype, vhu.port, INFO);

/* Longest driver name accepted in a device string. */
#define DRIVER_NAME_MAX 32

/* Filled by constructors before main(), read-only afterwards. */
static STAILQ_HEAD(, vhu_port_driver) port_drivers = STAILQ_HEAD_INITIALIZER(port_drivers);

/* The port table; a NULL slot is free. */
static struct vhu_port *port_table[VHU_PORT_MAX];
static unsigned int port_count;

void
vhu_port_driver_register(struct vhu_port_driver *drv)
{
	STAILQ_INSERT_TAIL(&port_drivers, drv, next);
}

const struct vhu_port_ops *
vhu_port_driver_get(unsigned int i)
{
	const struct vhu_port_driver *drv;

	for (drv = STAILQ_FIRST(&port_drivers); drv != NULL; drv = STAILQ_NEXT(drv, next)) {
		if (i-- == 0)
			return drv->ops;
	}
	return NULL;
}

static const struct vhu_port_ops *
driver_find(const char *name)
{
	const struct vhu_port_driver *drv;

	for (drv = STAILQ_FIRST(&port_drivers); drv != NULL; drv = STAILQ_NEXT(drv, next)) {
		if (strcmp(drv->ops->name, name) == 0)
			return drv->ops;
	}
	return NULL;
}

/* "ring, vhost-user": the registered driver names, for error messages. */
static void
driver_names(char *buf, size_t len)
{
	const struct vhu_port_driver *drv;
	size_t off = 0;

	buf[0] = '\0';
	for (drv = STAILQ_FIRST(&port_drivers); drv != NULL; drv = STAILQ_NEXT(drv, next)) {
		int n = snprintf(buf + off, len - off, "%s%s", off == 0 ? "" : ", ",
				 drv->ops->name);

		if (n < 0 || (size_t)n >= len - off)
			break;
		off += n;
	}
}

/* "name, size, queues": the keys a driver accepts, for error messages. */
static void
driver_keys(const struct vhu_port_ops *ops, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; ops->keys != NULL && ops->keys[i] != NULL; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i == 0 ? "" : ", ", ops->keys[i]);

		if (n < 0 || (size_t)n >= len - off)
			break;
		off += n;
	}
	if (i == 0)
		snprintf(buf, len, "none");
}

static bool
driver_has_key(const struct vhu_port_ops *ops, const char *key)
{
	unsigned int i;

	for (i = 0; ops->keys != NULL && ops->keys[i] != NULL; i++) {
		if (strcmp(ops->keys[i], key) == 0)
			return true;
	}
	return false;
}

/*
 * Split 'devstr' into its driver and its key=value pairs and check the keys.
 * On success *ops is the driver and *kvargs the pairs (the caller frees them
 * with rte_kvargs_free). Returns 0 or -EINVAL after logging what is wrong.
 */
static int
devstr_parse(const char *devstr, const struct vhu_port_ops **ops, struct rte_kvargs **kvargs)
{
	char name[DRIVER_NAME_MAX + 1], list[256];
	const char *args;
	struct rte_kvargs *kv;
	unsigned int i;
	size_t len;

	if (devstr == NULL || devstr[0] == '\0') {
		driver_names(list, sizeof(list));
		VHU_PORT_LOG(ERR,
			     "empty device string: expected DRIVER[,KEY=VALUE...] "
			     "with DRIVER one of: %s",
			     list);
		return -EINVAL;
	}
	args = strchr(devstr, ',');
	len = args != NULL ? (size_t)(args - devstr) : strlen(devstr);
	args = args != NULL ? args + 1 : "";
	if (len > DRIVER_NAME_MAX)
		len = DRIVER_NAME_MAX;
	memcpy(name, devstr, len);
	name[len] = '\0';
	*ops = driver_find(name);
	if (*ops == NULL) {
		driver_names(list, sizeof(list));
		VHU_PORT_LOG(ERR, "device string '%s': unknown port driver '%s'; valid drivers: %s",
			     devstr, name, list);
		return -EINVAL;
	}
	kv = rte_kvargs_parse(args, NULL);
	if (kv == NULL) {
		VHU_PORT_LOG(ERR,
			     "device string '%s': cannot parse '%s' as KEY=VALUE[,KEY=VALUE...] "
			     "(at most %d pairs)",
			     devstr, args, RTE_KVARGS_MAX);
		return -EINVAL;
	}
	for (i = 0; i < kv->count; i++) {
		const char *key = kv->pairs[i].key;

		if (!(*ops)->any_keys && !driver_has_key(*ops, key)) {
			driver_keys(*ops, list, sizeof(list));
			VHU_PORT_LOG(ERR,
				     "device string '%s': port driver '%s' has no key '%s'; "
				     "valid keys: %s",
				     devstr, name, key, list);
			goto bad;
		}
		if (kv->pairs[i].value == NULL || kv->pairs[i].value[0] == '\0') {
			VHU_PORT_LOG(ERR,
				     "device string '%s': key '%s' needs a value (%s=VALUE); "
				     "%s usage: %s",
				     devstr, key, key, name, (*ops)->usage);
			goto bad;
		}
		if (rte_kvargs_count(kv, key) > 1) {
			VHU_PORT_LOG(ERR,
				     "device string '%s': key '%s' is given more than once; "
				     "give it once",
				     devstr, key);
			goto bad;
		}
	}
	*kvargs = kv;
	return 0;
bad:
	rte_kvargs_free(kv);
	return -EINVAL;
}

int
vhu_port_devstr_check(const char *devstr)
{
	const struct vhu_port_ops *ops;
	struct rte_kvargs *kv;
	int rc;

	rc = devstr_parse(devstr, &ops, &kv);
	if (rc == 0)
		rte_kvargs_free(kv);
	return rc;
}

int
vhu_port_kvargs_uint(const struct vhu_port *port, const struct rte_kvargs *kvargs, const char *key,
		     uint64_t min, uint64_t max, uint64_t *val)
{
	const char *str = rte_kvargs_get(kvargs, key);
	unsigned long long v;
	char *end;

	if (str == NULL)
		return 0;
	errno = 0;
	v = strtoull(str, &end, 10);
	if (str[0] < '0' || str[0] > '9' || errno != 0 || *end != '\0' || v < min || v > max) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): %s=%s is not valid; give an integer in "
			     "%" PRIu64 "..%" PRIu64,
			     port->id, port->devstr, key, str, min, max);
		return -EINVAL;
	}
	*val = v;
	return 0;
}

void
vhu_port_info_append(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (*off < len)
		n = vsnprintf(buf + *off, len - *off, fmt, ap);
	else
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += n;
}

static int
conf_check(const char *devstr, const struct vhu_port_conf *conf)
{
	if (conf == NULL) {
		VHU_PORT_LOG(ERR, "port '%s': no configuration given", devstr);
		return -EINVAL;
	}
	if (conf->nb_rxq == 0 || conf->nb_rxq > VHU_PORT_MAX_QUEUES || conf->nb_txq == 0 ||
	    conf->nb_txq > VHU_PORT_MAX_QUEUES) {
		VHU_PORT_LOG(ERR,
			     "port '%s': %u rx and %u tx queues requested; each must be "
			     "1..%u",
			     devstr, conf->nb_rxq, conf->nb_txq, VHU_PORT_MAX_QUEUES);
		return -EINVAL;
	}
	return 0;
}

static int
queues_check(const struct vhu_port *port)
{
	if (port->nb_rxq > port->max_rxq || port->nb_txq > port->max_txq) {
		VHU_PORT_LOG(ERR,
			     "port %u (%s): %u rx and %u tx queues requested but the device "
			     "offers %u rx and %u tx queues; raise its queues= or use fewer",
			     port->id, port->devstr, port->nb_rxq, port->nb_txq, port->max_rxq,
			     port->max_txq);
		return -EINVAL;
	}
	return 0;
}

struct vhu_port *
vhu_port_attach(const char *devstr, const struct vhu_port_conf *conf)
{
	const struct vhu_port_ops *ops;
	struct rte_kvargs *kv;
	struct vhu_port *port;
	uint16_t id;
	int rc;

	rc = devstr_parse(devstr, &ops, &kv);
	if (rc != 0) {
		rte_errno = -rc;
		return NULL;
	}
	rc = conf_check(devstr, conf);
	if (rc != 0)
		goto free_kvargs;
	for (id = 0; id < VHU_PORT_MAX && port_table[id] != NULL; id++)
		;
	if (id == VHU_PORT_MAX) {
		VHU_PORT_LOG(ERR, "port '%s': the port table is full (%u ports); detach one first",
			     devstr, VHU_PORT_MAX);
		rc = -ENOSPC;
		goto free_kvargs;
	}
	port = rte_zmalloc_socket("vhu_port", sizeof(*port), RTE_CACHE_LINE_SIZE, conf->socket_id);
	if (port == NULL) {
		VHU_PORT_LOG(ERR, "port '%s': out of memory for the port; give EAL more (-m)",
			     devstr);
		rc = -ENOMEM;
		goto free_kvargs;
	}
	port->devstr = strdup(devstr);
	if (port->devstr == NULL) {
		rc = -ENOMEM;
		goto free_port;
	}
	if (ops->priv_size != 0) {
		port->priv = rte_zmalloc_socket("vhu_port_priv", ops->priv_size,
						RTE_CACHE_LINE_SIZE, conf->socket_id);
		if (port->priv == NULL) {
			VHU_PORT_LOG(ERR,
				     "port '%s': out of memory for driver state; give EAL "
				     "more (-m)",
				     devstr);
			rc = -ENOMEM;
			goto free_devstr;
		}
	}
	port->ops = ops;
	port->id = id;
	port->nb_rxq = conf->nb_rxq;
	port->nb_txq = conf->nb_txq;
	port->mempool = conf->mempool;
	port->socket_id = conf->socket_id;
	port->xstats = !ops->xstats_off;
	/* A locally administered unicast address that names vhu ("vhu" = 76:68:75) and the port. */
	port->mac = (struct rte_ether_addr){{0x02, 0x76, 0x68, 0x75, 0x00, (uint8_t)id}};
	snprintf(port->name, sizeof(port->name), "%s:%u", ops->name, id);
	rc = ops->create(port, kv);
	if (rc != 0)
		goto free_priv;
	rc = queues_check(port);
	if (rc != 0)
		goto destroy;
	rte_kvargs_free(kv);
	port_table[id] = port;
	port_count++;
	return port;

destroy:
	ops->destroy(port);
free_priv:
	rte_free(port->priv);
free_devstr:
	free(port->devstr);
free_port:
	rte_free(port);
free_kvargs:
	rte_kvargs_free(kv);
	rte_errno = -rc;
	return NULL;
}

int
vhu_port_detach(struct vhu_port *port)
{
	if (port == NULL || port->id >= VHU_PORT_MAX || port_table[port->id] != port)
		return -EINVAL;
	if (port->started) {
		VHU_PORT_LOG(ERR, "port %u (%s): cannot detach a started port; stop it first",
			     port->id, port->name);
		return -EBUSY;
	}
	port->ops->destroy(port);
	port_table[port->id] = NULL;
	port_count--;
	rte_free(port->priv);
	free(port->devstr);
	rte_free(port);
	return 0;
}

struct vhu_port *
vhu_port_get(uint16_t id)
{
	return id < VHU_PORT_MAX ? port_table[id] : NULL;
}

unsigned int
vhu_port_count(void)
{
	return port_count;
}

int
vhu_port_start(struct vhu_port *port)
{
	int rc;

	if (port == NULL)
		return -EINVAL;
	if (port->started)
		return -EALREADY;
	if (port->ops->start != NULL) {
		rc = port->ops->start(port);
		if (rc != 0)
			return rc;
	}
	port->started = true;
	return 0;
}

int
vhu_port_stop(struct vhu_port *port)
{
	if (port == NULL)
		return -EINVAL;
	if (!port->started)
		return -EALREADY;
	if (port->ops->stop != NULL)
		port->ops->stop(port);
	port->started = false;
	return 0;
}

bool
vhu_port_link_up(const struct vhu_port *port)
{
	return port != NULL && port->ops->link_up(port);
}

int
vhu_port_info(const struct vhu_port *port, char *buf, size_t len)
{
	if (port == NULL || (buf == NULL && len != 0))
		return -EINVAL;
	if (port->ops->info == NULL)
		return -ENOTSUP;
	return port->ops->info(port, buf, len);
}

int
vhu_port_features(const struct vhu_port *port, char *buf, size_t len)
{
	if (port == NULL || (buf == NULL && len != 0))
		return -EINVAL;
	if (port->ops->features == NULL)
		return -ENOTSUP;
	return port->ops->features(port, buf, len);
}

/* The live counters of one queue direction, read untorn. */
static void
qstats_read(struct vhu_port_qstats *dst, const struct vhu_port_qstats *live)
{
	dst->packets = vhu_port_counter_read(&live->packets);
	dst->bytes = vhu_port_counter_read(&live->bytes);
	dst->drops = vhu_port_counter_read(&live->drops);
	dst->errors = vhu_port_counter_read(&live->errors);
	dst->nombuf = vhu_port_counter_read(&live->nombuf);
}

/* dst -= offset, counter by counter. */
static void
qstats_sub(struct vhu_port_qstats *dst, const struct vhu_port_qstats *offset)
{
	dst->packets -= offset->packets;
	dst->bytes -= offset->bytes;
	dst->drops -= offset->drops;
	dst->errors -= offset->errors;
	dst->nombuf -= offset->nombuf;
}

static void
qstats_add(struct vhu_port_qstats *sum, const struct vhu_port_qstats *q)
{
	sum->packets += q->packets;
	sum->bytes += q->bytes;
	sum->drops += q->drops;
	sum->errors += q->errors;
	sum->nombuf += q->nombuf;
}

/* Every queue's counters since the port was made: the port layer's plus the driver's. */
static void
stats_raw(const struct vhu_port *port, struct vhu_port_stats raw[VHU_PORT_MAX_QUEUES])
{
	uint16_t q;

	for (q = 0; q < VHU_PORT_MAX_QUEUES; q++) {
		qstats_read(&raw[q].rx, &port->rxq[q].stats);
		qstats_read(&raw[q].tx, &port->txq[q].stats);
	}
	if (port->ops->queue_stats != NULL)
		port->ops->queue_stats(port, raw);
}

int
vhu_port_queue_stats_get(const struct vhu_port *port, uint16_t queue, struct vhu_port_stats *stats)
{
	struct vhu_port_stats raw[VHU_PORT_MAX_QUEUES];

	if (port == NULL || stats == NULL || queue >= VHU_PORT_MAX_QUEUES)
		return -EINVAL;
	stats_raw(port, raw);
	*stats = raw[queue];
	qstats_sub(&stats->rx, &port->offset[queue].stats.rx);
	qstats_sub(&stats->tx, &port->offset[queue].stats.tx);
	return 0;
}

int
vhu_port_stats_get(const struct vhu_port *port, struct vhu_port_stats *stats)
{
	struct vhu_port_stats raw[VHU_PORT_MAX_QUEUES];
	uint16_t q;

	if (port == NULL || stats == NULL)
		return -EINVAL;
	stats_raw(port, raw);
	memset(stats, 0, sizeof(*stats));
	/* Every queue, not only those in use: counts survive a change of queue number. */
	for (q = 0; q < VHU_PORT_MAX_QUEUES; q++) {
		qstats_sub(&raw[q].rx, &port->offset[q].stats.rx);
		qstats_sub(&raw[q].tx, &port->offset[q].stats.tx);
		qstats_add(&stats->rx, &raw[q].rx);
		qstats_add(&stats->tx, &raw[q].tx);
	}
	return 0;
}

/* The live extended counters of one queue direction, read untorn. */
static void
xqstats_read(struct vhu_port_xqstats *dst, const struct vhu_port_xqstats *live)
{
	unsigned int b;

	for (b = 0; b < VHU_PORT_SIZE_BINS; b++)
		dst->size[b] = vhu_port_counter_read(&live->size[b]);
	dst->broadcast = vhu_port_counter_read(&live->broadcast);
	dst->multicast = vhu_port_counter_read(&live->multicast);
}

/* sum += live - offset. */
static void
xqstats_add_since(struct vhu_port_xqstats *sum, const struct vhu_port_xqstats *live,
		  const struct vhu_port_xqstats *offset)
{
	struct vhu_port_xqstats now;
	unsigned int b;

	xqstats_read(&now, live);
	for (b = 0; b < VHU_PORT_SIZE_BINS; b++)
		sum->size[b] += now.size[b] - offset->size[b];
	sum->broadcast += now.broadcast - offset->broadcast;
	sum->multicast += now.multicast - offset->multicast;
}

void
vhu_port_stats_reset(struct vhu_port *port)
{
	struct vhu_port_stats raw[VHU_PORT_MAX_QUEUES];
	uint16_t q;

	if (port == NULL)
		return;
	stats_raw(port, raw);
	for (q = 0; q < VHU_PORT_MAX_QUEUES; q++) {
		port->offset[q].stats = raw[q];
		xqstats_read(&port->offset[q].xrx, &port->rxq[q].xstats);
		xqstats_read(&port->offset[q].xtx, &port->txq[q].xstats);
	}
}

/* Where vhu_port_xstats_get() writes: the array, its size, and how many there are so far. */
struct xstats_out {
	struct vhu_port_xstat *xs;
	unsigned int n;
	unsigned int count;
};

static void __rte_format_printf(3, 4)
	xstat_add(struct xstats_out *out, uint64_t value, const char *fmt, ...)
{
	va_list ap;

	if (out->count < out->n) {
		struct vhu_port_xstat *x = &out->xs[out->count];

		va_start(ap, fmt);
		vsnprintf(x->name, sizeof(x->name), fmt, ap);
		va_end(ap);
		x->value = value;
	}
	out->count++;
}

static const char *const size_bin_names[VHU_PORT_SIZE_BINS] = {
	[VHU_PORT_SIZE_UNDERSIZE] = "undersize_packets",
	[VHU_PORT_SIZE_64] = "size_64_packets",
	[VHU_PORT_SIZE_65_127] = "size_65_to_127_packets",
	[VHU_PORT_SIZE_128_255] = "size_128_to_255_packets",
	[VHU_PORT_SIZE_256_511] = "size_256_to_511_packets",
	[VHU_PORT_SIZE_512_1023] = "size_512_to_1023_packets",
	[VHU_PORT_SIZE_1024_1518] = "size_1024_to_1518_packets",
	[VHU_PORT_SIZE_1519_MAX] = "size_1519_to_max_packets",
};

/* The size bins, broadcast, multicast and unicast of one direction. */
static void
xstats_add_bins(struct xstats_out *out, const char *dir, const struct vhu_port_xqstats *x)
{
	uint64_t sized = 0;
	unsigned int b;

	for (b = 0; b < VHU_PORT_SIZE_BINS; b++) {
		xstat_add(out, x->size[b], "%s_%s", dir, size_bin_names[b]);
		sized += x->size[b];
	}
	xstat_add(out, x->broadcast, "%s_broadcast_packets", dir);
	xstat_add(out, x->multicast, "%s_multicast_packets", dir);
	xstat_add(out, sized - x->broadcast - x->multicast, "%s_unicast_packets", dir);
}

int
vhu_port_xstats_get(const struct vhu_port *port, struct vhu_port_xstat *xs, unsigned int n)
{
	struct xstats_out out = {.xs = xs, .n = xs != NULL ? n : 0};
	struct vhu_port_xqstats xrx = {0}, xtx = {0};
	struct vhu_port_stats total, q;
	uint16_t i;
	int rc;

	if (port == NULL)
		return -EINVAL;
	vhu_port_stats_get(port, &total);
	xstat_add(&out, total.rx.packets, "rx_good_packets");
	xstat_add(&out, total.rx.bytes, "rx_good_bytes");
	xstat_add(&out, total.rx.drops, "rx_missed_errors");
	xstat_add(&out, total.rx.errors, "rx_errors");
	xstat_add(&out, total.rx.nombuf, "rx_mbuf_allocation_errors");
	xstat_add(&out, total.tx.packets, "tx_good_packets");
	xstat_add(&out, total.tx.bytes, "tx_good_bytes");
	xstat_add(&out, total.tx.drops, "tx_dropped");
	xstat_add(&out, total.tx.errors, "tx_errors");
	for (i = 0; i < port->nb_rxq; i++) {
		vhu_port_queue_stats_get(port, i, &q);
		xstat_add(&out, q.rx.packets, "rx_q%u_packets", i);
		xstat_add(&out, q.rx.bytes, "rx_q%u_bytes", i);
		xstat_add(&out, q.rx.drops, "rx_q%u_missed", i);
		xstat_add(&out, q.rx.errors, "rx_q%u_errors", i);
		xstat_add(&out, q.rx.nombuf, "rx_q%u_nombuf", i);
	}
	for (i = 0; i < port->nb_txq; i++) {
		vhu_port_queue_stats_get(port, i, &q);
		xstat_add(&out, q.tx.packets, "tx_q%u_packets", i);
		xstat_add(&out, q.tx.bytes, "tx_q%u_bytes", i);
		xstat_add(&out, q.tx.drops, "tx_q%u_dropped", i);
		xstat_add(&out, q.tx.errors, "tx_q%u_errors", i);
	}
	for (i = 0; i < VHU_PORT_MAX_QUEUES; i++) {
		xqstats_add_since(&xrx, &port->rxq[i].xstats, &port->offset[i].xrx);
		xqstats_add_since(&xtx, &port->txq[i].xstats, &port->offset[i].xtx);
	}
	xstats_add_bins(&out, "rx", &xrx);
	xstats_add_bins(&out, "tx", &xtx);
	if (port->ops->xstats != NULL) {
		rc = port->ops->xstats(port, out.count < out.n ? &xs[out.count] : NULL,
				       out.count < out.n ? out.n - out.count : 0);
		if (rc < 0)
			return rc;
		out.count += rc;
	}
	return (int)out.count;
}

void
vhu_port_xstats_enable(struct vhu_port *port, bool on)
{
	if (port != NULL)
		__atomic_store_n(&port->xstats, on, __ATOMIC_RELAXED);
}

int
vhu_port_tap_set(struct vhu_port *port, struct vhu_port_tap *tap)
{
	if (port == NULL || port->id >= VHU_PORT_MAX || port_table[port->id] != port)
		return -EINVAL;
	if (tap != NULL && port->tap != NULL)
		return -EBUSY;
	/* Release: pairs with the acquire in the bursts, which then see an initialised tap. */
	__atomic_store_n(&port->tap, tap, __ATOMIC_RELEASE);
	return 0;
}

/* Packets a tap copies at a time; bounds the array of copies on the lcore's stack. */
#define TAP_CHUNK 64

void
vhu_port_tap_rx(struct vhu_port_tap *tap, const struct vhu_port *port, uint16_t queue,
		struct rte_mbuf *const *pkts, uint16_t n)
{
	struct rte_mbuf *copies[TAP_CHUNK];
	uint16_t off, k;

	for (off = 0; off < n; off += k) {
		k = RTE_MIN(n - off, TAP_CHUNK);
		tap->copy(tap, port, queue, VHU_PORT_DIR_RX, &pkts[off], k, copies);
		tap->submit(tap, copies, k);
	}
}

/*
 * Copies are made before the packets go, since the port may free what it
 * accepts; the copies of the packets it refuses are freed here.
 */
uint16_t
vhu_port_tx_burst_tapped(struct vhu_port *port, struct vhu_port_tap *tap, uint16_t queue,
			 struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *copies[TAP_CHUNK];
	uint16_t off, k, nb, i;

	for (off = 0; off < n; off += nb) {
		k = RTE_MIN(n - off, TAP_CHUNK);
		tap->copy(tap, port, queue, VHU_PORT_DIR_TX, &pkts[off], k, copies);
		nb = vhu_port_tx_burst_counted(port, queue, &pkts[off], k);
		tap->submit(tap, copies, nb);
		for (i = nb; i < k; i++)
			rte_pktmbuf_free(copies[i]);
		if (nb < k)
			return off + nb;
	}
	return n;
}

void
vhu_port_info_append_bits(char *buf, size_t len, size_t *off, uint64_t bits,
			  const char *(*name_of)(unsigned int bit))
{
	unsigned int bit;

	vhu_port_info_append(buf, len, off, "0x%016" PRIx64 ":", bits);
	for (bit = 0; bit < 64; bit++) {
		const char *name;

		if ((bits & (UINT64_C(1) << bit)) == 0)
			continue;
		name = name_of(bit);
		if (name != NULL)
			vhu_port_info_append(buf, len, off, " %s", name);
		else
			vhu_port_info_append(buf, len, off, " bit%u", bit);
	}
}
