/* SPDX-License-Identifier: BSD-3-Clause */
/* GET_INFLIGHT_FD / SET_INFLIGHT_FD (see vhost_inflight.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost_inflight.h"
#include "vhost_log.h"

#ifdef VHU_INFLIGHT_TEST_HOOK
void (*vhu_inflight_test_hook)(const struct vhu_vq *vq, enum vhu_inflight_point at);
#endif

uint64_t
vhu_inflight_queue_size(bool packed, uint16_t queue_size)
{
	uint64_t sz = packed ? sizeof(struct vhu_inflight_packed) +
				       (uint64_t)queue_size * sizeof(struct vhu_inflight_desc_packed) :
			       sizeof(struct vhu_inflight_split) +
				       (uint64_t)queue_size * sizeof(struct vhu_inflight_desc_split);

	return RTE_ALIGN_CEIL(sz, 64);
}

static void
inflight_unmap(struct vhu_vhost_dev *dev)
{
	struct vhu_inflight *in = dev->inflight;
	uint16_t i;

	if (in == NULL)
		return;
	for (i = 0; i < dev->num_queues; i++) {
		/* Rings were stopped by the caller; they no longer point into it. */
		dev->vq[i]->inflight_split = NULL;
		dev->vq[i]->inflight_packed = NULL;
	}
	munmap(in->addr, in->size);
	if (in->fd >= 0)
		close(in->fd);
	free(in);
	dev->inflight = NULL;
}

void
vhu_inflight_free(struct vhu_vhost_dev *dev)
{
	inflight_unmap(dev);
}

static int
check_geometry(struct vhu_vhost_dev *dev, const struct vhost_user_inflight *in)
{
	if (in->num_queues == 0 || in->num_queues > dev->num_queues ||
	    in->queue_size == 0 || in->queue_size > VIRTQ_MAX_SIZE) {
		VHU_LOG(ERR, "%s: inflight buffer for %u queues of %u entries refused (1..%u queues "
			"of 1..%u)", dev->path, in->num_queues, in->queue_size,
			dev->num_queues, VIRTQ_MAX_SIZE);
		return -EINVAL;
	}
	return 0;
}

int
vhu_inflight_new(struct vhu_vhost_dev *dev, const struct vhost_user_inflight *req,
		 struct vhu_inflight **out)
{
	bool packed = dev_has_feature(dev, VIRTIO_F_RING_PACKED);
	uint64_t qsz, size;
	struct vhu_inflight *in;
	uint16_t q, j;
	void *addr;
	int fd, rc;

	rc = check_geometry(dev, req);
	if (rc != 0)
		return rc;
	qsz = vhu_inflight_queue_size(packed, req->queue_size);
	size = qsz * req->num_queues;
	fd = memfd_create("vhu-inflight", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		rc = -errno;
		VHU_LOG(ERR, "%s: cannot make the inflight buffer: %s", dev->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	in = calloc(1, sizeof(*in));
	if (addr == MAP_FAILED || in == NULL) {
		if (addr != MAP_FAILED)
			munmap(addr, size);
		free(in);
		close(fd);
		return -ENOMEM;
	}
	for (q = 0; q < req->num_queues; q++) {
		uint8_t *base = (uint8_t *)addr + q * qsz;

		if (packed) {
			struct vhu_inflight_packed *r = (void *)base;

			r->version = 1;
			r->desc_num = req->queue_size;
			r->pos.f.used_idx = VHU_INFLIGHT_NO_POS;
			r->pos.f.old_used_idx = VHU_INFLIGHT_NO_POS;
			r->pos.f.used_wrap_counter = 1;
			r->pos.f.old_used_wrap_counter = 1;
			for (j = 0; j < req->queue_size; j++)
				r->desc[j].next = j + 1;
		} else {
			struct vhu_inflight_split *r = (void *)base;

			r->version = 1;
			r->desc_num = req->queue_size;
		}
	}
	in->addr = addr;
	in->size = size;
	in->fd = fd;
	in->num_queues = req->num_queues;
	in->queue_size = req->queue_size;
	*out = in;
	return 0;
}

int
vhu_inflight_open(struct vhu_vhost_dev *dev, const struct vhost_user_inflight *req, int fd,
		  struct vhu_inflight **out)
{
	bool packed = dev_has_feature(dev, VIRTIO_F_RING_PACKED);
	struct vhu_inflight *in;
	struct stat st;
	uint64_t need, end;
	void *addr;

	if (check_geometry(dev, req) != 0)
		goto bad;
	need = vhu_inflight_queue_size(packed, req->queue_size) * req->num_queues;
	if (req->mmap_size < need || __builtin_add_overflow(req->mmap_offset, req->mmap_size, &end) ||
	    fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < end ||
	    (req->mmap_offset & 4095) != 0) {
		VHU_LOG(ERR, "%s: inflight buffer (size 0x%" PRIx64 " offset 0x%" PRIx64 ") does not "
			"fit its file or the %u x %u layout; refused", dev->path, req->mmap_size,
			req->mmap_offset, req->num_queues, req->queue_size);
		goto bad;
	}
	addr = mmap(NULL, req->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    (off_t)req->mmap_offset);
	in = calloc(1, sizeof(*in));
	if (addr == MAP_FAILED || in == NULL) {
		if (addr != MAP_FAILED)
			munmap(addr, req->mmap_size);
		free(in);
		close(fd);
		return -ENOMEM;
	}
	in->addr = addr;
	in->size = req->mmap_size;
	in->fd = fd;
	in->num_queues = req->num_queues;
	in->queue_size = req->queue_size;
	*out = in;
	return 0;
bad:
	close(fd);
	return -EINVAL;
}

void
vhu_inflight_install(struct vhu_vhost_dev *dev, struct vhu_inflight *in)
{
	inflight_unmap(dev);
	dev->inflight = in;
}

/*
 * Did the chain made available at slot 'idx' in round 'wrap' go back to the
 * driver? Available, its USED bit is !wrap; we set it to wrap when we give
 * it back, and the driver keeps it so when it posts the slot again in the
 * next round (AVAIL flips, USED stays). A guest goes on posting while its
 * backend is down, so the AVAIL bit says nothing here.
 */
static bool
packed_slot_returned(const struct vhu_vq *vq, uint16_t idx, bool wrap)
{
	uint16_t f = __atomic_load_n(&vq->desc_packed[idx].flags, __ATOMIC_RELAXED);

	return ((f & VRING_PACKED_DESC_F_USED) != 0) == wrap;
}

/*
 * Write back the head of an in-flight chain at 'slot', available in round
 * 'wrap', as the record has it; our used descriptor may be over it. The
 * slot is the device's (the driver made it available and never got it back).
 */
static bool
packed_restore_head(struct vhu_vhost_dev *dev, struct vhu_vq *vq, uint16_t slot, bool wrap,
		    const struct vhu_inflight_desc_packed *rec)
{
	struct vring_packed_desc *d = &vq->desc_packed[slot];
	uint16_t flags = (rec->flags & ~(VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED)) |
			 (wrap ? VRING_PACKED_DESC_F_AVAIL : VRING_PACKED_DESC_F_USED);

	if (d->id == rec->id && d->len == rec->len && d->flags == flags)
		return false;
	d->id = rec->id;
	d->len = rec->len;
	/* Release: the head whole before the flags that make it available again
	 * (the ring is stopped; this is for the driver, which reads flags first). */
	__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
	vhu_log_hva_stopped(dev, vq, d, sizeof(*d));
	return true;
}

/*
 * A packed ring starts with a record (control thread, ring stopped): resume
 * at the position last handed over, or at the one being handed over if its
 * flags reached the ring before the crash, write back the heads of the
 * chains taken from there, and make the record describe the ring as it
 * starts. A record with no position yet leaves the front-end's base alone.
 */
static void
packed_recover(struct vhu_vhost_dev *dev, struct vhu_vq *vq, struct vhu_inflight_packed *r)
{
	union vhu_inflight_pos p = { .all = r->pos.all };
	uint16_t slot, i, chains = 0, restored = 0, walked = 0;
	bool wrap;

	if (p.f.old_used_idx >= vq->size)
		goto track;
	if ((p.f.used_idx != p.f.old_used_idx ||
	     p.f.used_wrap_counter != p.f.old_used_wrap_counter) && p.f.used_idx < vq->size &&
	    packed_slot_returned(vq, p.f.old_used_idx, p.f.old_used_wrap_counter != 0)) {
		/* The interrupted burst was handed over: it is complete. */
		p.f.old_used_idx = p.f.used_idx;
		p.f.old_used_wrap_counter = p.f.used_wrap_counter;
	}
	slot = p.f.old_used_idx;
	wrap = p.f.old_used_wrap_counter != 0;
	/* The record's inflight flags are those of the chains taken since then,
	 * in ring order (bursts are handed over whole, and in order). */
	while (walked < vq->size && r->desc[slot].inflight != 0) {
		uint16_t n = r->desc[slot].num;

		if (n == 0 || n > vq->size - walked)
			break; /* not a record of ours: stop there */
		restored += packed_restore_head(dev, vq, slot, wrap, &r->desc[slot]);
		chains++;
		walked += n;
		slot += n;
		if (slot >= vq->size) {
			slot -= vq->size;
			wrap = !wrap;
		}
	}
	if (chains > 0 || p.f.old_used_idx != vq->last_avail_idx ||
	    (p.f.old_used_wrap_counter != 0) != vq->avail_wrap)
		VHU_LOG(INFO, "%s: ring %u: resuming at slot %u (wrap %u) from the inflight record, "
			"base was %u (wrap %u); %u chains in flight are taken again (%u heads "
			"written back)", dev->path, vq->index, p.f.old_used_idx,
			p.f.old_used_wrap_counter, vq->last_avail_idx, vq->avail_wrap, chains,
			restored);
	vq->last_avail_idx = p.f.old_used_idx;
	vq->avail_wrap = p.f.old_used_wrap_counter != 0;
	vq->last_used_idx = vq->last_avail_idx;
	vq->used_wrap = vq->avail_wrap;
track:
	/* The ring now holds every chain in flight again, as available ones. */
	for (i = 0; i < vq->size; i++)
		r->desc[i].inflight = 0;
	p.f.used_idx = vq->last_used_idx;
	p.f.old_used_idx = vq->last_used_idx;
	p.f.used_wrap_counter = vq->used_wrap;
	p.f.old_used_wrap_counter = vq->used_wrap;
	r->pos.all = p.all;
}

void
vhu_inflight_ring_start(struct vhu_vhost_dev *dev, struct vhu_vq *vq)
{
	struct vhu_inflight *in = dev->inflight;
	uint64_t qsz;
	uint8_t *base;

	vq->inflight_split = NULL;
	vq->inflight_packed = NULL;
	if (in == NULL || vq->index >= in->num_queues || vq->size != in->queue_size)
		return;
	/* The buffer was sized for the ring layout negotiated when it was made
	 * (GET/SET_INFLIGHT_FD may come before SET_FEATURES); a packed record
	 * is twice a split one, so check it fits the layout the ring runs now. */
	qsz = vhu_inflight_queue_size(vq->packed, vq->size);
	if ((uint64_t)(vq->index + 1) * qsz > in->size) {
		VHU_LOG(ERR, "%s: ring %u: the %" PRIu64 "-byte inflight buffer has no room for "
			"%s records of %u entries; the ring runs without inflight tracking "
			"(send GET/SET_INFLIGHT_FD after SET_FEATURES)", dev->path, vq->index,
			in->size, vq->packed ? "packed" : "split", vq->size);
		return;
	}
	base = (uint8_t *)in->addr + vq->index * qsz;
	if (vq->packed) {
		struct vhu_inflight_packed *r = (void *)base;

		if (r->version != 1 || r->desc_num != vq->size)
			return;
		vq->inflight_packed = r;
		packed_recover(dev, vq, r);
	} else {
		struct vhu_inflight_split *r = (void *)base;
		uint16_t i, n = 0;

		if (r->version != 1 || r->desc_num != vq->size)
			return;
		vq->inflight_split = r;
		for (i = 0; i < vq->size; i++)
			n += r->desc[i].inflight != 0;
		if (n > 0)
			VHU_LOG(INFO, "%s: ring %u: %u chains were in flight; resubmitting them from "
				"used index %u", dev->path, vq->index, n, vq->last_used_idx);
		/* vhu_vq_try_start() resumed at used->idx, i.e. at the oldest of them. */
		for (i = 0; i < vq->size; i++)
			r->desc[i].inflight = 0;
		r->used_idx = vq->last_used_idx;
	}
}
