/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pieces shared by the split (virtq_split.h) and packed (virtq_packed.h)
 * ring walkers: the gathered-buffer vector and its checked translation.
 */
#ifndef VHU_VIRTQ_H
#define VHU_VIRTQ_H

#include <string.h>
#include <sys/eventfd.h>

#include <rte_branch_prediction.h>
#include <rte_prefetch.h>

#include "vhost_iotlb.h"
#include "vhost_log.h"
#include "vhost_inflight.h"
#include "vhu_prefetch.h"

/* A contiguous piece of a guest buffer, in our address space. */
struct vhu_buf_vec {
	uint8_t *addr;
	uint32_t len;
};

/* Pieces one packet may span; a longer chain is dropped (counted), not broken. */
#define VHU_VEC_MAX 128

/*
 * Which buffers a chain may hold, in the guest's view: only device-readable
 * ones (a transmit ring), only device-writable ones (a receive ring), or
 * device-readable ones followed by device-writable ones (a request ring:
 * virtio-blk's header and data, then its data and status).
 */
enum vhu_dir {
	VHU_DIR_READ = 0,
	VHU_DIR_WRITE = 1,
	VHU_DIR_RW = 2,
};

/*
 * Check the direction of one descriptor ('write': its WRITE flag) against a
 * chain of 'dir', 'n' pieces gathered so far. For VHU_DIR_RW, *seen_write
 * says a writable descriptor came already, and the first one sets *n_out
 * to 'n' (the readable pieces). False on a violation (the caller latches).
 */
static __rte_always_inline bool
vhu_dir_ok(enum vhu_dir dir, bool write, bool *seen_write, uint32_t n, uint32_t *n_out)
{
	if (dir != VHU_DIR_RW)
		return write == (dir == VHU_DIR_WRITE);
	if (!write)
		return !*seen_write;
	if (!*seen_write) {
		*seen_write = true;
		*n_out = n;
	}
	return true;
}

/* What a descriptor of direction 'write' in a chain of 'dir' may be mapped for. */
static __rte_always_inline uint8_t
vhu_dir_perm(enum vhu_dir dir, bool write)
{
	if (dir == VHU_DIR_RW)
		return write ? VHOST_ACCESS_WO : VHOST_ACCESS_RO;
	return dir == VHU_DIR_WRITE ? VHOST_ACCESS_WO : VHOST_ACCESS_RO;
}

/* The log line for a descriptor of the wrong direction. */
static inline const char *
vhu_dir_why(enum vhu_dir dir)
{
	return dir == VHU_DIR_RW      ? "device-readable descriptor after a device-writable one"
	       : dir == VHU_DIR_WRITE ? "read-only descriptor in a receive chain"
				      : "write-only descriptor in a transmit chain";
}

/* Result of gathering a chain. */
enum vhu_chain_rc {
	VHU_CHAIN_OK = 0,
	VHU_CHAIN_DROP = 1,	/* legal but unusable here: drop it, the ring is fine */
	VHU_CHAIN_BROKEN = -1,	/* the guest violated the spec: ring latched broken */
	VHU_CHAIN_RETRY = -2,	/* an IOTLB miss: leave the chain in the ring, try later */
};

/* Where the next chain is looked for; advanced by pop, not by take (virtq_verbs.h). */
struct vhu_cursor {
	uint16_t idx;		/* split: avail index (free running); packed: slot */
	bool wrap;		/* packed: wrap counter of idx */
	uint16_t left;		/* split: entries made available and not yet popped */
};

/* A chain popped from the ring: what take and return need of it. */
struct vhu_chain {
	uint16_t id;		/* split: head index; packed: buffer id */
	uint16_t slot;		/* split: avail index it was read at; packed: first slot */
	uint16_t ndesc;		/* packed: slots it occupies (split: not set) */
	uint64_t len;		/* bytes in its buffers (all of them, as gathered) */
};

/*
 * Translate [addr, addr + *len) for access 'perm' (VHOST_ACCESS_*): a guest-
 * physical address, or an IOVA when the ring runs behind a vIOMMU. Returns
 * our address with *len cut to what is contiguous, or NULL with *rc saying
 * why: VHU_CHAIN_RETRY (a miss was posted) or VHU_CHAIN_BROKEN (latched).
 */
static inline uint8_t *
vhu_vq_map(struct vhu_vq *vq, uint32_t head, uint64_t addr, uint64_t *len, uint8_t perm,
	   enum vhu_chain_rc *rc)
{
	uint8_t *p = NULL;

	if (likely(!vq->iommu)) {
		p = vhu_gpa_to_hva(vq->mem, addr, len, &vq->mem_cache);
		if (likely(p != NULL))
			return p;
		vhu_vq_set_broken(vq, "head %u: address 0x%" PRIx64 " is not in guest memory",
				  head, addr);
		*rc = VHU_CHAIN_BROKEN;
		return NULL;
	}
	switch (vhu_iotlb_map(vq->iotlb, addr, len, perm, &p)) {
	case VHU_MAP_OK:
		return p;
	case VHU_MAP_MISS:
		vhu_iotlb_post_miss(vq, addr, perm);
		*rc = VHU_CHAIN_RETRY;
		return NULL;
	default:
		vhu_vq_set_broken(vq, "head %u: iova 0x%" PRIx64 " is mapped without %s access",
				  head, addr, perm == VHOST_ACCESS_RO ? "read" : "write");
		*rc = VHU_CHAIN_BROKEN;
		return NULL;
	}
}

/* As vhu_vq_map(), for a table that must be contiguous in our address space. */
static inline void *
vhu_vq_map_whole(struct vhu_vq *vq, uint32_t head, uint64_t addr, uint64_t len,
		 enum vhu_chain_rc *rc)
{
	uint64_t got = len;
	uint8_t *p;

	if (unlikely(addr + len < addr)) {
		vhu_vq_set_broken(vq, "head %u: table 0x%" PRIx64 "+%" PRIu64 " wraps the address "
				  "space", head, addr, len);
		*rc = VHU_CHAIN_BROKEN;
		return NULL;
	}
	p = vhu_vq_map(vq, head, addr, &got, VHOST_ACCESS_RO, rc);
	if (p == NULL)
		return NULL;
	while (got < len) {	/* a table over several regions or IOTLB entries */
		uint64_t more = len - got;
		uint8_t *q = vhu_vq_map(vq, head, addr + got, &more, VHOST_ACCESS_RO, rc);

		if (q == NULL)
			return NULL;
		if (q != p + got) {
			vhu_vq_set_broken(vq, "head %u: table 0x%" PRIx64 " is not contiguous in "
					  "guest memory", head, addr);
			*rc = VHU_CHAIN_BROKEN;
			return NULL;
		}
		got += more;
	}
	return p;
}

/*
 * Append the guest buffer [gpa, gpa + len) to 'vec' as one piece per memory
 * region (or IOTLB entry) it spans, checking every byte is mapped for access
 * 'perm'. Pieces past VHU_VEC_MAX set *drop instead. 'head' names the chain
 * in the log line.
 */
static inline enum vhu_chain_rc
vhu_vec_add(struct vhu_vq *vq, uint32_t head, uint64_t gpa, uint32_t len, uint8_t perm,
	    struct vhu_buf_vec *vec, uint32_t *n, bool *drop)
{
	uint64_t addr = gpa, left = len;
	enum vhu_chain_rc rc = VHU_CHAIN_OK;

	if (unlikely(gpa + len < gpa)) {
		vhu_vq_set_broken(vq, "head %u: buffer 0x%" PRIx64 "+%u wraps the address space",
				  head, gpa, len);
		return VHU_CHAIN_BROKEN;
	}
	while (left > 0) {
		uint64_t chunk = left;
		uint8_t *p = vhu_vq_map(vq, head, addr, &chunk, perm, &rc);

		if (unlikely(p == NULL))
			return rc;
		if (likely(*n < VHU_VEC_MAX)) {
			vec[*n].addr = p;
			vec[*n].len = (uint32_t)chunk;
			(*n)++;
		} else {
			*drop = true;
		}
		addr += chunk;
		left -= chunk;
	}
	return VHU_CHAIN_OK;
}

/* Write the guest's call eventfd. */
static inline void
vhu_vq_kick_guest(struct vhu_vq *vq, int fd)
{
	vq->stats.notify++;
	if (unlikely(eventfd_write(fd, 1) != 0))
		vq->stats.errors++;
}

#endif /* VHU_VIRTQ_H */
