/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-blk device layout (virtio 1.2, 5.2): feature bits, the config
 * space, the request header and status, shared by the block backend and any
 * block front-end, so they cannot drift. All fields are little-endian on the
 * wire; vhu runs on little-endian hosts only (x86_64, aarch64), as DPDK's
 * vhost does, so they are plain integers here.
 */
#ifndef VHU_VIRTIO_BLK_H
#define VHU_VIRTIO_BLK_H

#include <stdint.h>

/* virtio-blk feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX		1	/* size_max: largest segment */
#define VIRTIO_BLK_F_SEG_MAX		2	/* seg_max: most data segments a request */
#define VIRTIO_BLK_F_GEOMETRY		4
#define VIRTIO_BLK_F_RO			5	/* read-only device */
#define VIRTIO_BLK_F_BLK_SIZE		6	/* blk_size: logical block size */
#define VIRTIO_BLK_F_FLUSH		9	/* VIRTIO_BLK_T_FLUSH */
#define VIRTIO_BLK_F_TOPOLOGY		10	/* physical block exponent, io sizes */
#define VIRTIO_BLK_F_CONFIG_WCE		11	/* writeback is writable */
#define VIRTIO_BLK_F_MQ			12	/* num_queues */
#define VIRTIO_BLK_F_DISCARD		13	/* VIRTIO_BLK_T_DISCARD */
#define VIRTIO_BLK_F_WRITE_ZEROES	14	/* VIRTIO_BLK_T_WRITE_ZEROES */

/* Request types (5.2.6). */
#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_GET_LIFETIME	10
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13
#define VIRTIO_BLK_T_SECURE_ERASE	14

/* Status byte, the last byte of every request's device-writable part. */
#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2

/* Sectors are always 512 bytes, whatever blk_size says. */
#define VIRTIO_BLK_SECTOR_SHIFT		9
#define VIRTIO_BLK_SECTOR_SIZE		(1u << VIRTIO_BLK_SECTOR_SHIFT)
/* GET_ID writes a device id of this many bytes (NUL-padded, not terminated). */
#define VIRTIO_BLK_ID_BYTES		20

/* The device-readable header that starts every request. */
struct virtio_blk_outhdr {
	uint32_t type;		/* VIRTIO_BLK_T_* */
	uint32_t ioprio;	/* ignored by vhu */
	uint64_t sector;	/* first 512-byte sector, for IN and OUT */
} __attribute__((packed));

/* One range of a DISCARD or WRITE_ZEROES request (the data is an array). */
struct virtio_blk_discard_write_zeroes {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;		/* VIRTIO_BLK_WZ_F_UNMAP; other bits reserved */
} __attribute__((packed));

#define VIRTIO_BLK_WZ_F_UNMAP		1u

/* Config space (5.2.4), in the layout both sides read and write. */
struct virtio_blk_config {
	uint64_t capacity;		/* in 512-byte sectors */
	uint32_t size_max;		/* VIRTIO_BLK_F_SIZE_MAX */
	uint32_t seg_max;		/* VIRTIO_BLK_F_SEG_MAX */
	struct {
		uint16_t cylinders;
		uint8_t heads;
		uint8_t sectors;
	} geometry;			/* VIRTIO_BLK_F_GEOMETRY */
	uint32_t blk_size;		/* VIRTIO_BLK_F_BLK_SIZE */
	uint8_t physical_block_exp;	/* VIRTIO_BLK_F_TOPOLOGY: log2(physical / logical) */
	uint8_t alignment_offset;
	uint16_t min_io_size;		/* in logical blocks */
	uint32_t opt_io_size;		/* in logical blocks */
	uint8_t writeback;		/* VIRTIO_BLK_F_CONFIG_WCE: 1 write-back, 0 write-through */
	uint8_t unused0;
	uint16_t num_queues;		/* VIRTIO_BLK_F_MQ */
	uint32_t max_discard_sectors;	/* VIRTIO_BLK_F_DISCARD */
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors; /* VIRTIO_BLK_F_WRITE_ZEROES */
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));

_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "virtio-blk request header is 16 bytes");
_Static_assert(sizeof(struct virtio_blk_discard_write_zeroes) == 16,
	       "virtio-blk discard range is 16 bytes");
_Static_assert(sizeof(struct virtio_blk_config) == 60, "virtio-blk config space is 60 bytes");

#endif /* VHU_VIRTIO_BLK_H */
