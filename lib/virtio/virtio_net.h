/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Virtio feature bits and the virtio-net device layout (virtio 1.2, 5.1 and 6),
 * shared by the backend and the frontend.
 */
#ifndef VHU_VIRTIO_NET_H
#define VHU_VIRTIO_NET_H

#include <stdint.h>

/* Device-independent feature bits. */
#define VIRTIO_F_NOTIFY_ON_EMPTY	24
#define VIRTIO_F_ANY_LAYOUT		27
#define VIRTIO_RING_F_INDIRECT_DESC	28
#define VIRTIO_RING_F_EVENT_IDX		29
#define VHOST_USER_F_PROTOCOL_FEATURES	30
#define VIRTIO_F_VERSION_1		32
#define VIRTIO_F_IOMMU_PLATFORM		33
#define VIRTIO_F_RING_PACKED		34
#define VIRTIO_F_IN_ORDER		35
#define VIRTIO_F_ORDER_PLATFORM		36
#define VIRTIO_F_NOTIFICATION_DATA	38
#define VHOST_F_LOG_ALL			26

/* virtio-net feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_MTU		3
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_ECN		9
#define VIRTIO_NET_F_GUEST_UFO		10
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_ECN		13
#define VIRTIO_NET_F_HOST_UFO		14
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_NET_F_CTRL_VQ		17
#define VIRTIO_NET_F_CTRL_RX		18
#define VIRTIO_NET_F_GUEST_ANNOUNCE	21
#define VIRTIO_NET_F_MQ			22

#define VHU_BIT(b) ((uint64_t)1 << (b))

/* Device status bits (2.1). */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE	1
#define VIRTIO_CONFIG_S_DRIVER		2
#define VIRTIO_CONFIG_S_DRIVER_OK	4
#define VIRTIO_CONFIG_S_FEATURES_OK	8
#define VIRTIO_CONFIG_S_NEEDS_RESET	0x40
#define VIRTIO_CONFIG_S_FAILED		0x80

/* virtio_net_hdr flags and GSO types (5.1.6). */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM	1
#define VIRTIO_NET_HDR_F_DATA_VALID	2
#define VIRTIO_NET_HDR_GSO_NONE		0
#define VIRTIO_NET_HDR_GSO_TCPV4	1
#define VIRTIO_NET_HDR_GSO_UDP		3
#define VIRTIO_NET_HDR_GSO_TCPV6	4
#define VIRTIO_NET_HDR_GSO_ECN		0x80

/* The legacy header, used without MRG_RXBUF and without VERSION_1. */
struct virtio_net_hdr {
	uint8_t flags;		/* VIRTIO_NET_HDR_F_* */
	uint8_t gso_type;	/* VIRTIO_NET_HDR_GSO_* */
	uint16_t hdr_len;	/* length of the headers to replicate per segment */
	uint16_t gso_size;	/* payload bytes per segment */
	uint16_t csum_start;	/* where checksumming starts */
	uint16_t csum_offset;	/* where to store it, from csum_start */
} __attribute__((packed));

/* The header with num_buffers, used with MRG_RXBUF or VERSION_1. */
struct virtio_net_hdr_mrg_rxbuf {
	struct virtio_net_hdr hdr;
	uint16_t num_buffers;	/* RX: how many used heads this packet spans */
} __attribute__((packed));

/* virtio-net config space (5.1.4), as far as vhu uses it. */
#define VIRTIO_NET_S_LINK_UP 1
struct virtio_net_config {
	uint8_t mac[6];			/* valid with VIRTIO_NET_F_MAC */
	uint16_t status;		/* VIRTIO_NET_S_* */
	uint16_t max_virtqueue_pairs;	/* valid with VIRTIO_NET_F_MQ */
	uint16_t mtu;			/* valid with VIRTIO_NET_F_MTU */
} __attribute__((packed));

#endif /* VHU_VIRTIO_NET_H */
