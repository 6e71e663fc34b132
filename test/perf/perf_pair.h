/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A vhost-user device in one process, for the benchmarks of test/perf: a
 * backend (vhu's library, or DPDK's librte_vhost as dpdk-testpmd's net_vhost
 * sets it up) serving a socket, and vhu's virtio-user front-end connected to
 * it with a real handshake, playing the guest. Both backends negotiate the
 * same features with the same front-end, so they do the same work.
 *
 * The caller moves packets with the backend's own burst calls on the fields
 * below (so that a measurement can wrap exactly those calls) and with the
 * front-end's port bursts. Control calls from the main lcore; any lcore may
 * call the bursts, one per queue at a time (vhu asks for no registration).
 *
 * For measuring front-ends, the guest may instead be DPDK's virtio-user
 * (net_virtio_user, driven through the ethdev API), on the same backend.
 */
#ifndef VHU_PERF_PAIR_H
#define VHU_PERF_PAIR_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>
#include <rte_vhost.h>

#include "vhu_port.h"
#include "vhu_vhost.h"

enum perf_backend { PERF_VHU, PERF_DPDK };

struct perf_pair {
	enum perf_backend kind;	   /* the backend */
	enum perf_backend fkind;   /* the front-end: vhu's virtio-user or DPDK's */
	char path[108];		   /* the socket */
	struct vhu_vhost_dev *vhu; /* kind PERF_VHU: the device */
	int vid;		   /* kind PERF_DPDK: its device id */
	struct vhu_port *front;	   /* fkind PERF_VHU: the guest, vhu's virtio-user port */
	uint16_t front_port;	   /* fkind PERF_DPDK: the guest, a net_virtio_user ethdev */
	char front_name[32];	   /* fkind PERF_DPDK: its vdev name */
	uint64_t features;	   /* what the backend negotiated */
};

/* "vhu" or "dpdk". */
const char *perf_backend_name(enum perf_backend kind);

/*
 * Serve 'path' with backend 'kind', connect a virtio-user front-end with the
 * extra keys 'front_keys' (e.g. "packed_vq=1,in_order=0"; queue_size is
 * 256) and wait until both ends run. 0, or -1 after saying why on stderr
 * (nothing left to close). Only one DPDK pair may be open at a time.
 */
int perf_pair_open(struct perf_pair *pp, enum perf_backend kind, const char *path,
		   const char *front_keys, struct rte_mempool *mp);

/*
 * perf_pair_open() with the front-end chosen too: 'fkind' PERF_DPDK makes
 * the guest DPDK's net_virtio_user (an ethdev, 'front_port', one queue pair
 * of 256 descriptors, its receive buffers from 'mp'; 'front_keys' take its
 * devargs names, which for packed_vq, in_order and mrg_rxbuf are vhu's).
 */
int perf_pair_open_front(struct perf_pair *pp, enum perf_backend kind, enum perf_backend fkind,
			 const char *path, const char *front_keys, struct rte_mempool *mp);

/* Disconnect the front-end and stop serving the socket. */
void perf_pair_close(struct perf_pair *pp);

/* Guest TX: the backend takes up to n packets into mbufs from 'mp'. Data lcore. */
static inline uint16_t
perf_pair_dequeue(struct perf_pair *pp, struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t n)
{
	if (pp->kind == PERF_VHU)
		return vhu_vhost_dequeue_burst(pp->vhu, 0, mp, pkts, n);
	return rte_vhost_dequeue_burst(pp->vid, 1, mp, pkts, n);
}

/* Guest RX: the backend copies up to n packets to the guest; the caller keeps them. */
static inline uint16_t
perf_pair_enqueue(struct perf_pair *pp, struct rte_mbuf **pkts, uint16_t n)
{
	if (pp->kind == PERF_VHU)
		return vhu_vhost_enqueue_burst(pp->vhu, 0, pkts, n);
	return rte_vhost_enqueue_burst(pp->vid, 0, pkts, n);
}

#endif /* VHU_PERF_PAIR_H */
