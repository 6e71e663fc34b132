/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the virtio-user port driver (vhu's vhost-user front-end) offers
 * beyond the generic port interface of vhu_port.h: its counters as numbers,
 * for tests and tools, and control of its emulated IOMMU.
 *
 * Return contract: 0 or a negative errno. Threads: control threads only
 * (never a data lcore that is online in QSBR: these calls take the
 * control thread's lock).
 */
#ifndef VHU_VIRTIO_USER_H
#define VHU_VIRTIO_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "vhu_port.h"

/* A snapshot of a virtio-user port. */
struct vhu_virtio_user_stats {
	bool connected;		    /* a backend is attached */
	bool running;		    /* rings run: link up */
	uint64_t connections;	    /* connection handshakes completed */
	uint64_t starts;	    /* device start sequences completed */
	uint64_t features;	    /* negotiated virtio features */
	uint64_t protocol_features; /* negotiated protocol features */
	bool hugepages;		    /* shared memory is on hugepages */
	uint32_t nregions;	    /* memory regions shown to the backend */
	uint64_t mem_bytes;	    /* shared memory */
	uint64_t iotlb_misses;	    /* IOTLB misses the backend sent */
	uint64_t iotlb_answered;    /* ... answered with a mapping */
	uint64_t iotlb_refused;	    /* ... refused */
	uint64_t iotlb_invalidates; /* mappings withdrawn */
	uint64_t tx_copies;	    /* tx packets copied into shared memory */
	uint64_t kicks;		    /* notifications sent to the backend */
	uint64_t irqs;		    /* interrupts the backend sent us */
	uint64_t errors;	    /* backend violations and dropped packets */
	uint32_t broken_queues;	    /* rings latched broken */
};

/* True if 'port' was made by the virtio-user driver. Any thread. */
bool vhu_virtio_user_is(const struct vhu_port *port);

/* Fill 'st' for a virtio-user port. 0, or -EINVAL for another kind of port. */
int vhu_virtio_user_stats_get(const struct vhu_port *port, struct vhu_virtio_user_stats *st);

/*
 * With iommu=1: withdraw (true) every IOTLB mapping the backend holds, with
 * INVALIDATE messages, and refuse its misses from then on; or (false)
 * answer misses again, sending at once the mappings refused meanwhile.
 * 0, -ENOTSUP without iommu=1, -EINVAL for another kind of port.
 */
int vhu_virtio_user_iotlb_withdraw(struct vhu_port *port, bool withdraw);

#endif /* VHU_VIRTIO_USER_H */
