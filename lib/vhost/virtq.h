/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pieces shared by the split (virtq_split.h) and packed (virtq_packed.h)
 * ring walkers: the gathered-buffer vector and its checked translation.
 */
#ifndef VHU_VIRTQ_H
#define VHU_VIRTQ_H

#include <sys/eventfd.h>

#include <rte_branch_prediction.h>
#include <rte_prefetch.h>

#include "vhost_private.h"

/* A contiguous piece of a guest buffer, in our address space. */
struct vhu_buf_vec {
	uint8_t *addr;
	uint32_t len;
};

/* Pieces one packet may span; a longer chain is dropped (counted), not broken. */
#define VHU_VEC_MAX 128

/* Result of gathering a chain. */
enum vhu_chain_rc {
	VHU_CHAIN_OK = 0,
	VHU_CHAIN_DROP = 1,	/* legal but unusable here: drop it, the ring is fine */
	VHU_CHAIN_BROKEN = -1,	/* the guest violated the spec: ring latched broken */
};

/*
 * Append the guest buffer [gpa, gpa + len) to 'vec' as one piece per memory
 * region it spans. A buffer any byte of which is outside guest memory breaks
 * the ring (returns false). Pieces past VHU_VEC_MAX set *drop instead.
 * 'head' names the chain in the log line.
 */
static inline bool
vhu_vec_add(struct vhu_vq *vq, uint32_t head, uint64_t gpa, uint32_t len,
	    struct vhu_buf_vec *vec, uint32_t *n, bool *drop)
{
	uint64_t addr = gpa, left = len;

	if (unlikely(gpa + len < gpa)) {
		vhu_vq_set_broken(vq, "head %u: buffer 0x%" PRIx64 "+%u wraps the address space",
				  head, gpa, len);
		return false;
	}
	while (left > 0) {
		uint64_t chunk = left;
		uint8_t *p = vhu_gpa_to_hva(vq->mem, addr, &chunk, &vq->mem_cache);

		if (unlikely(p == NULL)) {
			vhu_vq_set_broken(vq, "head %u: buffer 0x%" PRIx64 "+%u is not in guest "
					  "memory", head, gpa, len);
			return false;
		}
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
	return true;
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
