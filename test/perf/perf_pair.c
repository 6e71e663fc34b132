/* SPDX-License-Identifier: BSD-3-Clause */
/* A backend and vhu's front-end on one socket in this process: see perf_pair.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_vhost.h>

#include "perf_pair.h"

#define RING_SIZE 256
/* Seconds to wait for a handshake to bring the device up. */
#define LINK_TIMEOUT_S 10

/* Offloads vhu offers only when asked (VHU_VHOST_CSUM, VHU_VHOST_TSO). */
#define DPDK_OFFLOADS_OFF                                                                          \
	((1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) |                         \
	 (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) |                     \
	 (1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_GUEST_TSO6))

/* DPDK's device id once new_device ran, else -1: written by its vhost thread. */
static int dpdk_vid = -1;

static int
dpdk_new_device(int vid)
{
	/* Polled: the guest need not kick, as net_vhost asks too. */
	rte_vhost_enable_guest_notification(vid, 0, 0);
	rte_vhost_enable_guest_notification(vid, 1, 0);
	__atomic_store_n(&dpdk_vid, vid, __ATOMIC_RELEASE);
	return 0;
}

static void
dpdk_destroy_device(int vid)
{
	__atomic_store_n(&dpdk_vid, -1, __ATOMIC_RELEASE);
}

static const struct rte_vhost_device_ops dpdk_ops = {
	.new_device = dpdk_new_device,
	.destroy_device = dpdk_destroy_device,
};

const char *
perf_backend_name(enum perf_backend kind)
{
	return kind == PERF_VHU ? "vhu" : "dpdk";
}

static int
backend_start(struct perf_pair *pp)
{
	unlink(pp->path);
	if (pp->kind == PERF_VHU) {
		struct vhu_vhost_config cfg = {.path = pp->path, .queue_pairs = 1};

		pp->vhu = vhu_vhost_create(&cfg);
		if (pp->vhu == NULL) {
			fprintf(stderr, "vhu_vhost_create(%s): %s\n", pp->path,
				rte_strerror(rte_errno));
			return -1;
		}
		return 0;
	}
	/*
	 * As dpdk-testpmd's net_vhost sets it up by default; the offloads vhu
	 * does not offer by default are turned off, so that both backends
	 * negotiate the same features and do the same work.
	 */
	__atomic_store_n(&dpdk_vid, -1, __ATOMIC_RELEASE);
	if (rte_vhost_driver_register(pp->path, RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS) != 0 ||
	    rte_vhost_driver_disable_features(pp->path, DPDK_OFFLOADS_OFF) != 0 ||
	    rte_vhost_driver_callback_register(pp->path, &dpdk_ops) != 0 ||
	    rte_vhost_driver_start(pp->path) != 0) {
		fprintf(stderr, "cannot serve %s with DPDK's vhost library\n", pp->path);
		rte_vhost_driver_unregister(pp->path);
		return -1;
	}
	return 0;
}

static void
backend_stop(struct perf_pair *pp)
{
	if (pp->kind == PERF_VHU) {
		vhu_vhost_destroy(pp->vhu);
		pp->vhu = NULL;
	} else {
		rte_vhost_driver_unregister(pp->path);
	}
	unlink(pp->path);
}

static bool
backend_up(struct perf_pair *pp)
{
	if (pp->kind == PERF_VHU)
		return vhu_vhost_link_up(pp->vhu);
	pp->vid = __atomic_load_n(&dpdk_vid, __ATOMIC_ACQUIRE);
	return pp->vid >= 0;
}

static uint64_t
backend_features(const struct perf_pair *pp)
{
	uint64_t features = 0;

	if (pp->kind == PERF_VHU) {
		struct vhu_vhost_info info;

		if (vhu_vhost_get_info(pp->vhu, &info) == 0)
			features = info.features;
	} else {
		rte_vhost_get_negotiated_features(pp->vid, &features);
	}
	return features;
}

static struct vhu_port *
front_attach(const char *path, const char *keys, struct rte_mempool *mp)
{
	struct vhu_port_conf conf = {
		.mempool = mp,
		.nb_rxq = 1,
		.nb_txq = 1,
		.socket_id = SOCKET_ID_ANY,
	};
	char devstr[256];
	struct vhu_port *front;

	snprintf(devstr, sizeof(devstr), "virtio-user,path=%s,queue_size=%u%s%s", path, RING_SIZE,
		 keys[0] != '\0' ? "," : "", keys);
	front = vhu_port_attach(devstr, &conf);
	if (front == NULL) {
		fprintf(stderr, "cannot attach %s: %s\n", devstr, rte_strerror(rte_errno));
		return NULL;
	}
	if (vhu_port_start(front) != 0) {
		fprintf(stderr, "cannot start %s\n", devstr);
		vhu_port_detach(front);
		return NULL;
	}
	return front;
}

/*
 * DPDK's virtio-user as the guest: a net_virtio_user vdev on 'path' with one
 * queue pair, started. 0, or -1 after saying why (nothing left to remove).
 */
static int
dpdk_front_attach(struct perf_pair *pp, const char *keys, struct rte_mempool *mp)
{
	static unsigned int seq;
	struct rte_eth_conf conf = { 0 };
	char args[256];
	int rc;

	snprintf(pp->front_name, sizeof(pp->front_name), "net_virtio_user%u", seq++);
	snprintf(args, sizeof(args), "%s,path=%s,mac=02:00:00:00:00:02,queues=1,queue_size=%u%s%s",
		 pp->front_name, pp->path, RING_SIZE, keys[0] != '\0' ? "," : "", keys);
	rc = rte_dev_probe(args);
	if (rc != 0) {
		fprintf(stderr, "cannot create %s: %s (is DPDK's net_virtio driver there?)\n", args,
			rte_strerror(-rc));
		return -1;
	}
	rc = rte_eth_dev_get_port_by_name(pp->front_name, &pp->front_port);
	if (rc == 0)
		rc = rte_eth_dev_configure(pp->front_port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(pp->front_port, 0, RING_SIZE, SOCKET_ID_ANY, NULL, mp);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(pp->front_port, 0, RING_SIZE, SOCKET_ID_ANY, NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(pp->front_port);
	if (rc != 0) {
		fprintf(stderr, "cannot start %s on %s: %s\n", pp->front_name, pp->path,
			rte_strerror(-rc));
		rte_eal_hotplug_remove("vdev", pp->front_name);
		return -1;
	}
	return 0;
}

static void
front_detach(struct perf_pair *pp)
{
	if (pp->fkind == PERF_VHU) {
		vhu_port_stop(pp->front);
		vhu_port_detach(pp->front);
		pp->front = NULL;
		return;
	}
	rte_eth_dev_stop(pp->front_port);
	rte_eth_dev_close(pp->front_port);
	rte_eal_hotplug_remove("vdev", pp->front_name);
}

static bool
front_up(struct perf_pair *pp)
{
	struct rte_eth_link link;

	if (pp->fkind == PERF_VHU)
		return vhu_port_link_up(pp->front);
	return rte_eth_link_get_nowait(pp->front_port, &link) == 0 &&
	       link.link_status == RTE_ETH_LINK_UP;
}

int
perf_pair_open(struct perf_pair *pp, enum perf_backend kind, const char *path,
	       const char *front_keys, struct rte_mempool *mp)
{
	return perf_pair_open_front(pp, kind, PERF_VHU, path, front_keys, mp);
}

int
perf_pair_open_front(struct perf_pair *pp, enum perf_backend kind, enum perf_backend fkind,
		     const char *path, const char *front_keys, struct rte_mempool *mp)
{
	uint64_t end;

	memset(pp, 0, sizeof(*pp));
	pp->kind = kind;
	pp->fkind = fkind;
	pp->vid = -1;
	if (strlen(path) >= sizeof(pp->path)) {
		fprintf(stderr, "socket path %s is longer than %zu bytes\n", path,
			sizeof(pp->path) - 1);
		return -1;
	}
	strcpy(pp->path, path);
	if (backend_start(pp) != 0)
		return -1;
	if (fkind == PERF_VHU) {
		pp->front = front_attach(pp->path, front_keys, mp);
		if (pp->front == NULL)
			goto stop_backend;
	} else if (dpdk_front_attach(pp, front_keys, mp) != 0) {
		goto stop_backend;
	}
	end = rte_get_timer_cycles() + LINK_TIMEOUT_S * rte_get_timer_hz();
	while (!(front_up(pp) && backend_up(pp))) {
		if (rte_get_timer_cycles() >= end) {
			fprintf(stderr, "%s: the device did not come up in %d s\n", pp->path,
				LINK_TIMEOUT_S);
			goto detach;
		}
		rte_delay_us_sleep(1000);
	}
	pp->features = backend_features(pp);
	return 0;
detach:
	front_detach(pp);
stop_backend:
	backend_stop(pp);
	return -1;
}

void
perf_pair_close(struct perf_pair *pp)
{
	front_detach(pp);
	backend_stop(pp);
}
