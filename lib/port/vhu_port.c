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

		if (!driver_has_key(*ops, key)) {
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

/* dst = live - offset, counter by counter. */
static void
qstats_since(struct vhu_port_qstats *dst, const struct vhu_port_qstats *live,
	     const struct vhu_port_qstats *offset)
{
	dst->packets = vhu_port_counter_read(&live->packets) - offset->packets;
	dst->bytes = vhu_port_counter_read(&live->bytes) - offset->bytes;
	dst->drops = vhu_port_counter_read(&live->drops) - offset->drops;
	dst->errors = vhu_port_counter_read(&live->errors) - offset->errors;
	dst->nombuf = vhu_port_counter_read(&live->nombuf) - offset->nombuf;
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

int
vhu_port_queue_stats_get(const struct vhu_port *port, uint16_t queue, struct vhu_port_stats *stats)
{
	if (port == NULL || stats == NULL || queue >= VHU_PORT_MAX_QUEUES)
		return -EINVAL;
	qstats_since(&stats->rx, &port->rxq[queue].stats, &port->offset[queue].rx);
	qstats_since(&stats->tx, &port->txq[queue].stats, &port->offset[queue].tx);
	return 0;
}

int
vhu_port_stats_get(const struct vhu_port *port, struct vhu_port_stats *stats)
{
	struct vhu_port_stats q;
	uint16_t i;

	if (port == NULL || stats == NULL)
		return -EINVAL;
	memset(stats, 0, sizeof(*stats));
	/* Every queue, not only those in use: counts survive a change of queue number. */
	for (i = 0; i < VHU_PORT_MAX_QUEUES; i++) {
		vhu_port_queue_stats_get(port, i, &q);
		qstats_add(&stats->rx, &q.rx);
		qstats_add(&stats->tx, &q.tx);
	}
	return 0;
}

void
vhu_port_stats_reset(struct vhu_port *port)
{
	static const struct vhu_port_qstats zero;
	uint16_t i;

	if (port == NULL)
		return;
	for (i = 0; i < VHU_PORT_MAX_QUEUES; i++) {
		qstats_since(&port->offset[i].rx, &port->rxq[i].stats, &zero);
		qstats_since(&port->offset[i].tx, &port->txq[i].stats, &zero);
	}
}
