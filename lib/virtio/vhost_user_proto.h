/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vhost-user wire format (QEMU docs/interop/vhost-user.rst), shared by
 * vhu's backend (lib/vhost) and frontend (drivers/net/virtio_user) so that
 * the two cannot drift apart. Only layouts and constants live here.
 */
#ifndef VHU_VHOST_USER_PROTO_H
#define VHU_VHOST_USER_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* Front-end requests. */
enum vhost_user_request {
	VHOST_USER_NONE = 0,
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SEND_RARP = 19,
	VHOST_USER_NET_SET_MTU = 20,
	VHOST_USER_SET_BACKEND_REQ_FD = 21,
	VHOST_USER_IOTLB_MSG = 22,
	VHOST_USER_SET_VRING_ENDIAN = 23,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_CREATE_CRYPTO_SESSION = 26,
	VHOST_USER_CLOSE_CRYPTO_SESSION = 27,
	VHOST_USER_POSTCOPY_ADVISE = 28,
	VHOST_USER_POSTCOPY_LISTEN = 29,
	VHOST_USER_POSTCOPY_END = 30,
	VHOST_USER_GET_INFLIGHT_FD = 31,
	VHOST_USER_SET_INFLIGHT_FD = 32,
	VHOST_USER_GPU_SET_SOCKET = 33,
	VHOST_USER_RESET_DEVICE = 34,
	VHOST_USER_VRING_KICK = 35,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_ADD_MEM_REG = 37,
	VHOST_USER_REM_MEM_REG = 38,
	VHOST_USER_SET_STATUS = 39,
	VHOST_USER_GET_STATUS = 40,
	VHOST_USER_REQUEST_MAX = 41	/* one past the last request vhu knows by name */
};

/* Back-end requests, sent on the channel given by SET_BACKEND_REQ_FD. */
enum vhost_user_backend_request {
	VHOST_USER_BACKEND_NONE = 0,
	VHOST_USER_BACKEND_IOTLB_MSG = 1,
	VHOST_USER_BACKEND_CONFIG_CHANGE_MSG = 2,
	VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG = 3,
	VHOST_USER_BACKEND_REQUEST_MAX = 4
};

/* Protocol feature bits (GET/SET_PROTOCOL_FEATURES). */
#define VHOST_USER_PROTOCOL_F_MQ		0
#define VHOST_USER_PROTOCOL_F_LOG_SHMFD		1
#define VHOST_USER_PROTOCOL_F_RARP		2
#define VHOST_USER_PROTOCOL_F_REPLY_ACK		3
#define VHOST_USER_PROTOCOL_F_MTU		4
#define VHOST_USER_PROTOCOL_F_BACKEND_REQ	5
#define VHOST_USER_PROTOCOL_F_CROSS_ENDIAN	6
#define VHOST_USER_PROTOCOL_F_CRYPTO_SESSION	7
#define VHOST_USER_PROTOCOL_F_PAGEFAULT		8
#define VHOST_USER_PROTOCOL_F_CONFIG		9
#define VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD	10
#define VHOST_USER_PROTOCOL_F_HOST_NOTIFIER	11
#define VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD	12
#define VHOST_USER_PROTOCOL_F_RESET_DEVICE	13
#define VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS 14
#define VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS 15
#define VHOST_USER_PROTOCOL_F_STATUS		16

/* Header flags. */
#define VHOST_USER_VERSION_MASK	0x3u
#define VHOST_USER_VERSION	0x1u
#define VHOST_USER_REPLY_MASK	(1u << 2)
#define VHOST_USER_NEED_REPLY_MASK (1u << 3)
#define VHOST_USER_KNOWN_FLAGS	(VHOST_USER_VERSION_MASK | VHOST_USER_REPLY_MASK | \
				 VHOST_USER_NEED_REPLY_MASK)

/* SET_VRING_KICK/CALL/ERR payload: ring index and the "no fd" flag. */
#define VHOST_USER_VRING_IDX_MASK	0xffu
#define VHOST_USER_VRING_NOFD_MASK	(1u << 8)

/* Limits. */
#define VHOST_USER_MEMORY_MAX_NREGIONS	8	/* SET_MEM_TABLE */
#define VHOST_USER_MAX_MEM_SLOTS	509	/* ADD/REM_MEM_REG */
#define VHOST_USER_MAX_FDS		8	/* fds one message may carry */
#define VHOST_USER_MAX_CONFIG_SIZE	256

/* SET_VRING_ADDR flags. */
#define VHOST_VRING_F_LOG	0

/* IOTLB message types and permissions. */
#define VHOST_IOTLB_MISS		1
#define VHOST_IOTLB_UPDATE		2
#define VHOST_IOTLB_INVALIDATE		3
#define VHOST_IOTLB_ACCESS_FAIL		4
#define VHOST_ACCESS_RO			1
#define VHOST_ACCESS_WO			2
#define VHOST_ACCESS_RW			3

struct vhost_user_vring_state {
	uint32_t index;	/* virtqueue index */
	uint32_t num;	/* size, base or enable flag, by request */
};

struct vhost_user_vring_addr {
	uint32_t index;	/* virtqueue index */
	uint32_t flags;	/* VHOST_VRING_F_LOG */
	uint64_t desc_user_addr;	/* front-end virtual addresses of the areas */
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;	/* guest-physical address of the used ring, for logging */
};

struct vhost_user_mem_region {
	uint64_t guest_phys_addr;	/* where the region sits in guest memory */
	uint64_t memory_size;		/* bytes */
	uint64_t userspace_addr;	/* where the front-end mapped it */
	uint64_t mmap_offset;		/* offset of the region in the fd */
};

struct vhost_user_memory {
	uint32_t nregions;	/* regions used, at most VHOST_USER_MEMORY_MAX_NREGIONS */
	uint32_t padding;
	struct vhost_user_mem_region regions[VHOST_USER_MEMORY_MAX_NREGIONS];
};

struct vhost_user_mem_reg_single {
	uint64_t padding;
	struct vhost_user_mem_region region;
};

struct vhost_user_log {
	uint64_t mmap_size;	/* bytes of dirty bitmap */
	uint64_t mmap_offset;	/* offset of the bitmap in the fd */
};

struct vhost_user_iotlb_msg {
	uint64_t iova;	/* I/O virtual address */
	uint64_t size;	/* bytes */
	uint64_t uaddr;	/* front-end virtual address it maps to */
	uint8_t perm;	/* VHOST_ACCESS_* */
	uint8_t type;	/* VHOST_IOTLB_* */
};

struct vhost_user_config {
	uint32_t offset;	/* into the device config space */
	uint32_t size;		/* bytes of payload used */
	uint32_t flags;		/* 0 writable, 1 live migration */
	uint8_t payload[VHOST_USER_MAX_CONFIG_SIZE];
};

struct vhost_user_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
};

/* Every message starts with this 12-byte header. */
struct vhost_user_hdr {
	uint32_t request;	/* enum vhost_user_request or _backend_request */
	uint32_t flags;		/* version, reply, need-reply */
	uint32_t size;		/* payload bytes that follow */
};

union vhost_user_payload {
	uint64_t u64;
	struct vhost_user_vring_state state;
	struct vhost_user_vring_addr addr;
	struct vhost_user_memory memory;
	struct vhost_user_mem_reg_single mem_reg;
	struct vhost_user_log log;
	struct vhost_user_iotlb_msg iotlb;
	struct vhost_user_config config;
	struct vhost_user_inflight inflight;
};

/*
 * A message buffer. On the wire the payload follows the 12-byte header
 * directly; the leading pad puts the payload on an 8-byte boundary in memory
 * so handlers can use its fields in place. Send and receive start at &hdr.
 */
struct vhost_user_msg {
	uint32_t align_pad;	/* not sent */
	struct vhost_user_hdr hdr;
	union vhost_user_payload payload;
};

/* Start of the wire bytes of 'msg'. */
static inline uint8_t *
vhost_user_msg_wire(struct vhost_user_msg *msg)
{
	return (uint8_t *)&msg->hdr;
}

_Static_assert(sizeof(struct vhost_user_hdr) == 12, "vhost-user header is 12 bytes");
_Static_assert(offsetof(struct vhost_user_msg, payload) ==
	       offsetof(struct vhost_user_msg, hdr) + 12, "payload follows the header");

#define VHOST_USER_HDR_SIZE sizeof(struct vhost_user_hdr)
#define VHOST_USER_PAYLOAD_MAX sizeof(union vhost_user_payload)

#endif /* VHU_VHOST_USER_PROTO_H */
