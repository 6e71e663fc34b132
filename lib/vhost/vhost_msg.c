/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user front-end requests: validation and handlers.
 *
 * Security model. The front-end (a VMM, or anything that can open the
 * socket) is not trusted. Every message is checked completely by
 * vhu_msg_validate() before any handler runs: header version and flags,
 * payload size against what the request carries, the number of fds against
 * what the request takes, ring indexes, ring sizes and alignment, region
 * counts, and address/size/offset arithmetic for overflow. A message that
 * fails is refused and the connection is closed; state is never half
 * updated. Handlers own the fds they are given and close what they do not
 * keep. Guest memory is mapped only after its fd was shown to be a memory
 * file large enough for the region (vhost_mem.c). Nothing a peer sends can
 * make the library exit or touch memory outside what it mapped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost_iotlb.h"
#include "vhost_log.h"
#include "vhost_inflight.h"

static const struct vhu_msg_type msg_types[VHOST_USER_REQUEST_MAX];

const char *
vhu_msg_name(uint32_t request)
{
	if (request < VHOST_USER_REQUEST_MAX && msg_types[request].name != NULL)
		return msg_types[request].name;
	return "UNKNOWN";
}

/*
 * The table entry that serves 'request' on 'dev': the device type's if it
 * handles it, else the core's; NULL for a request number out of range.
 */
static const struct vhu_msg_type *
msg_type(const struct vhu_vhost_dev *dev, uint32_t request)
{
	const struct vhu_msg_type *own;

	if (request == VHOST_USER_NONE || request >= VHOST_USER_REQUEST_MAX)
		return NULL;
	own = dev->type->msgs != NULL ? &dev->type->msgs[request] : NULL;
	return own != NULL && own->handler != NULL ? own : &msg_types[request];
}

bool
vhu_msg_has_reply(const struct vhu_vhost_dev *dev, uint32_t request)
{
	const struct vhu_msg_type *t = msg_type(dev, request);

	return t != NULL && t->has_reply;
}

bool
vhu_msg_implemented(const struct vhu_vhost_dev *dev, uint32_t request)
{
	const struct vhu_msg_type *t = msg_type(dev, request);

	return t != NULL && t->handler != NULL;
}

static uint32_t
expected_size(enum vhu_msg_size rule)
{
	switch (rule) {
	case VHU_SZ_NONE: return 0;
	case VHU_SZ_U64: return sizeof(uint64_t);
	case VHU_SZ_STATE: return sizeof(struct vhost_user_vring_state);
	case VHU_SZ_ADDR: return sizeof(struct vhost_user_vring_addr);
	case VHU_SZ_LOG: return sizeof(struct vhost_user_log);
	case VHU_SZ_IOTLB: return sizeof(struct vhost_user_iotlb_msg);
	case VHU_SZ_MEM_REG: return sizeof(struct vhost_user_mem_reg_single);
	case VHU_SZ_INFLIGHT: return sizeof(struct vhost_user_inflight);
	default: return UINT32_MAX;
	}
}

static int
check_size(const struct vhu_msg_type *t, const struct vhost_user_msg *msg, char *why, size_t len)
{
	uint32_t size = msg->hdr.size;
	uint32_t want, n;

	switch (t->size) {
	case VHU_SZ_MEM:
		if (size < 8) {
			snprintf(why, len, "payload of %u bytes is shorter than a memory table", size);
			return -EINVAL;
		}
		n = msg->payload.memory.nregions;
		if (n == 0 || n > VHOST_USER_MEMORY_MAX_NREGIONS) {
			snprintf(why, len, "%u memory regions (must be 1..%u)", n,
				 VHOST_USER_MEMORY_MAX_NREGIONS);
			return -EINVAL;
		}
		want = 8 + n * sizeof(struct vhost_user_mem_region);
		if (size < want || size > sizeof(struct vhost_user_memory)) {
			snprintf(why, len, "payload of %u bytes does not hold %u regions", size, n);
			return -EINVAL;
		}
		return 0;
	case VHU_SZ_CONFIG:
		want = offsetof(struct vhost_user_config, payload);
		if (size < want || msg->payload.config.size > VHOST_USER_MAX_CONFIG_SIZE ||
		    size != want + msg->payload.config.size) {
			snprintf(why, len, "config payload of %u bytes does not match its size field",
				 size);
			return -EINVAL;
		}
		if (msg->payload.config.offset > VHOST_USER_MAX_CONFIG_SIZE ||
		    msg->payload.config.size > VHOST_USER_MAX_CONFIG_SIZE -
						       msg->payload.config.offset) {
			snprintf(why, len, "config range offset %u size %u is past the %u-byte space",
				 msg->payload.config.offset, msg->payload.config.size,
				 VHOST_USER_MAX_CONFIG_SIZE);
			return -EINVAL;
		}
		return 0;
	default:
		want = expected_size(t->size);
		if (size != want) {
			snprintf(why, len, "payload is %u bytes, expected %u", size, want);
			return -EINVAL;
		}
		return 0;
	}
}

static int
check_fds(const struct vhu_msg_type *t, const struct vhost_user_msg *msg, int nfds, char *why,
	  size_t len)
{
	int want;

	switch (t->fds) {
	case VHU_FD_NONE: want = 0; break;
	case VHU_FD_ONE: want = 1; break;
	case VHU_FD_VRING:
		want = (msg->payload.u64 & VHOST_USER_VRING_NOFD_MASK) ? 0 : 1;
		break;
	case VHU_FD_REGIONS: want = (int)msg->payload.memory.nregions; break;
	case VHU_FD_ANY_ONE:
		if (nfds <= 1)
			return 0;
		want = 1;
		break;
	default: want = 0; break;
	}
	if (nfds != want) {
		snprintf(why, len, "carries %d file descriptors, expected %d", nfds, want);
		return -EINVAL;
	}
	return 0;
}

int
vhu_msg_validate(const struct vhu_vhost_dev *dev, const struct vhost_user_msg *msg, int nfds,
		 char *why, size_t len)
{
	uint32_t req = msg->hdr.request;
	const struct vhu_msg_type *t;
	uint32_t index;

	if ((msg->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION ||
	    (msg->hdr.flags & ~VHOST_USER_KNOWN_FLAGS) != 0 ||
	    (msg->hdr.flags & VHOST_USER_REPLY_MASK) != 0) {
		snprintf(why, len, "bad header flags 0x%x (version must be 1, no reply bit)",
			 msg->hdr.flags);
		return -EINVAL;
	}
	if (msg->hdr.size > VHOST_USER_PAYLOAD_MAX) {
		snprintf(why, len, "payload size %u exceeds the largest message (%zu)", msg->hdr.size,
			 VHOST_USER_PAYLOAD_MAX);
		return -EINVAL;
	}
	t = msg_type(dev, req);
	if (t == NULL || t->handler == NULL)
		return 0; /* refused later, with the connection kept */
	if (check_size(t, msg, why, len) != 0 || check_fds(t, msg, nfds, why, len) != 0)
		return -EINVAL;
	if (t->protocol_feature >= 0 && !dev_has_protocol_feature(dev, t->protocol_feature)) {
		snprintf(why, len, "protocol feature %s was not negotiated",
			 vhu_protocol_feature_name(t->protocol_feature));
		return -EINVAL;
	}
	if (t->fds == VHU_FD_VRING &&
	    (msg->payload.u64 & ~(uint64_t)(VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD_MASK))) {
		snprintf(why, len, "unknown bits in ring index word 0x%" PRIx64, msg->payload.u64);
		return -EINVAL;
	}
	if (t->vring_index) {
		index = msg->payload.state.index;
		if (t->fds == VHU_FD_VRING)
			index = msg->payload.u64 & VHOST_USER_VRING_IDX_MASK;
		if (index >= dev->num_queues) {
			snprintf(why, len, "ring index %u out of range (device has %u rings)", index,
				 dev->num_queues);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- handlers ---- */

static enum vhu_msg_result
reply_u64(struct vhost_user_msg *msg, uint64_t v)
{
	msg->hdr.size = sizeof(uint64_t);
	msg->payload.u64 = v;
	return VHU_MSG_REPLY;
}

static enum vhu_msg_result
handle_get_features(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	return reply_u64(msg, vhu_dev_offered_features(dev));
}

static enum vhu_msg_result
handle_set_features(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	uint64_t f = msg->payload.u64, offered = vhu_dev_offered_features(dev);
	uint16_t i;

	if ((f & ~offered) != 0) {
		VHU_LOG(ERR, "%s: front-end asked for features 0x%" PRIx64 " that were not offered",
			dev->path, f & ~offered);
		return VHU_MSG_FAIL;
	}
	if (dev->features_set && ((f ^ dev->features) & ~VHU_BIT(VHOST_F_LOG_ALL)) != 0) {
		for (i = 0; i < dev->num_queues; i++) {
			if (dev->vq[i]->ready) {
				VHU_LOG(ERR, "%s: features changed while ring %u runs; stop rings first",
					dev->path, i);
				return VHU_MSG_FAIL;
			}
		}
	}
	if (dev->features_set && (f ^ dev->features) == VHU_BIT(VHOST_F_LOG_ALL)) {
		/* Only LOG_ALL may change under running rings (migration starts
		 * or ends): take the rings back, switch, hand them out again. */
		vhu_dev_stop_all(dev);
		dev->features = f;
		vhu_dev_restart_all(dev);
		VHU_LOG(INFO, "%s: dirty logging %s", dev->path,
			(f & VHU_BIT(VHOST_F_LOG_ALL)) ? "started" : "stopped");
		return VHU_MSG_OK;
	}
	dev->features = f;
	dev->features_set = true;
	if (dev->type->features_set != NULL)
		dev->type->features_set(dev);
	VHU_LOG(INFO, "%s: negotiated features 0x%" PRIx64, dev->path, f);
	return VHU_MSG_OK;
}

static enum vhu_msg_result
handle_set_owner(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	dev->owner = true;
	return VHU_MSG_OK;
}

static enum vhu_msg_result
handle_reset(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	uint64_t pf = dev->protocol_features;

	vhu_dev_reset(dev);
	/* The connection's protocol features survive a device reset (REPLY_ACK
	 * still applies to this very message). */
	dev->protocol_features = pf;
	VHU_LOG(INFO, "%s: device reset by the front-end", dev->path);
	return VHU_MSG_OK;
}

static void
close_fds(int *fds, int nfds)
{
	int i;

	for (i = 0; i < nfds; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

static enum vhu_msg_result
handle_set_mem_table(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	const struct vhost_user_memory *m = &msg->payload.memory;
	struct vhu_mem *mem;
	char why[160];
	uint32_t i, j;

	mem = vhu_mem_alloc(m->nregions);
	if (mem == NULL) {
		close_fds(fds, nfds);
		return VHU_MSG_FAIL;
	}
	for (i = 0; i < m->nregions; i++) {
		if (vhu_mem_region_map(&mem->regions[i], &m->regions[i], fds[i], why,
				       sizeof(why)) != 0)
			goto bad;
		mem->nregions = i + 1;
		for (j = 0; j < i; j++) {
			if (vhu_mem_region_overlap(&mem->regions[i], &mem->regions[j])) {
				snprintf(why, sizeof(why), "regions %u and %u overlap", j, i);
				goto bad;
			}
		}
	}
	close_fds(fds, nfds);
	vhu_mem_sort(mem);
	vhu_dev_replace_mem(dev, mem);
	VHU_LOG(INFO, "%s: memory table with %u regions mapped", dev->path, mem->nregions);
	return VHU_MSG_OK;
bad:
	VHU_LOG(ERR, "%s: SET_MEM_TABLE refused: %s; check the front-end's memory backend",
		dev->path, why);
	close_fds(fds, nfds);
	vhu_mem_free(mem, NULL);
	return VHU_MSG_CLOSE;
}

static enum vhu_msg_result
handle_get_max_mem_slots(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds,
			 int nfds)
{
	return reply_u64(msg, VHOST_USER_MAX_MEM_SLOTS);
}

/* Does the front-end's description name this region (REM_MEM_REG ignores the offset)? */
static bool
region_is(const struct vhu_mem_region *r, const struct vhost_user_mem_region *d)
{
	return r->gpa == d->guest_phys_addr && r->size == d->memory_size &&
	       r->uva == d->userspace_addr;
}

static enum vhu_msg_result
handle_add_mem_reg(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	uint32_t n = dev->mem != NULL ? dev->mem->nregions : 0, i;
	struct vhu_mem_region reg;
	struct vhu_mem *mem;
	char why[160];

	for (i = 0; i < n; i++) {
		struct vhu_mem_region *r = &dev->mem->regions[i];

		/* QEMU 7.2 has one vhost device per queue pair and each adds the
		 * same regions: count the duplicate instead of refusing it. The
		 * table is the control thread's; the data path never reads refs. */
		if (region_is(r, &msg->payload.mem_reg.region)) {
			r->refs++;
			close_fds(fds, nfds);
			return VHU_MSG_OK;
		}
	}
	if (n >= VHOST_USER_MAX_MEM_SLOTS) {
		VHU_LOG(ERR, "%s: ADD_MEM_REG refused: all %u slots are in use", dev->path, n);
		close_fds(fds, nfds);
		return VHU_MSG_FAIL;
	}
	if (vhu_mem_region_map(&reg, &msg->payload.mem_reg.region, fds[0], why, sizeof(why)) != 0)
		goto bad;
	for (i = 0; i < n; i++) {
		if (vhu_mem_region_overlap(&reg, &dev->mem->regions[i])) {
			snprintf(why, sizeof(why), "region at gpa 0x%" PRIx64 " overlaps region %u",
				 reg.gpa, i);
			munmap(reg.mmap_addr, reg.mmap_size);
			goto bad;
		}
	}
	mem = vhu_mem_alloc(n + 1);
	if (mem == NULL) {
		munmap(reg.mmap_addr, reg.mmap_size);
		close_fds(fds, nfds);
		return VHU_MSG_FAIL;
	}
	if (n > 0)
		memcpy(mem->regions, dev->mem->regions, n * sizeof(reg));
	reg.refs = 1;
	mem->regions[n] = reg;
	mem->nregions = n + 1;
	vhu_mem_sort(mem);
	close_fds(fds, nfds);
	vhu_dev_replace_mem(dev, mem);
	return VHU_MSG_OK;
bad:
	VHU_LOG(ERR, "%s: ADD_MEM_REG refused: %s", dev->path, why);
	close_fds(fds, nfds);
	return VHU_MSG_CLOSE;
}

static enum vhu_msg_result
handle_rem_mem_reg(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	const struct vhost_user_mem_region *d = &msg->payload.mem_reg.region;
	uint32_t n = dev->mem != NULL ? dev->mem->nregions : 0, i, k = 0;
	struct vhu_mem *mem;
	bool found = false;

	close_fds(fds, nfds); /* the spec says to close any fd sent with it */
	for (i = 0; i < n; i++) {
		struct vhu_mem_region *r = &dev->mem->regions[i];

		if (region_is(r, d) && r->refs > 1) {
			r->refs--; /* another queue pair's device still uses it */
			return VHU_MSG_OK;
		}
	}
	mem = vhu_mem_alloc(n);
	if (mem == NULL)
		return VHU_MSG_FAIL;
	for (i = 0; i < n; i++) {
		const struct vhu_mem_region *r = &dev->mem->regions[i];

		if (!found && region_is(r, d)) {
			found = true;
			continue;
		}
		mem->regions[k++] = *r;
	}
	if (!found) {
		VHU_LOG(ERR, "%s: REM_MEM_REG refused: no region at gpa 0x%" PRIx64 " size 0x%" PRIx64,
			dev->path, d->guest_phys_addr, d->memory_size);
		free(mem);
		return VHU_MSG_FAIL;
	}
	mem->nregions = k;
	vhu_dev_replace_mem(dev, mem);
	return VHU_MSG_OK;
}

static struct vhu_vq *
msg_vq(struct vhu_vhost_dev *dev, uint32_t index)
{
	/* The index was range-checked in vhu_msg_validate(). */
	if (index + 1u > dev->nr_vqs)
		dev->nr_vqs = index + 1;
	return dev->vq[index];
}

static enum vhu_msg_result
handle_set_vring_num(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	struct vhu_vq *vq = msg_vq(dev, msg->payload.state.index);
	uint32_t num = msg->payload.state.num;

	bool packed = dev_has_feature(dev, VIRTIO_F_RING_PACKED);

	if (num == 0 || num > VIRTQ_MAX_SIZE || (!packed && (num & (num - 1)) != 0)) {
		VHU_LOG(ERR, "%s: ring %u: size %u refused (must be %s1..%u)", dev->path,
			vq->index, num, packed ? "" : "a power of two, ", VIRTQ_MAX_SIZE);
		return VHU_MSG_CLOSE;
	}
	if (vq->ready) {
		VHU_LOG(ERR, "%s: ring %u: SET_VRING_NUM while the ring runs; stop it first",
			dev->path, vq->index);
		return VHU_MSG_FAIL;
	}
	vq->size = num;
	vq->num_set = true;
	return VHU_MSG_OK;
}

static enum vhu_msg_result
handle_set_vring_addr(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	const struct vhost_user_vring_addr *a = &msg->payload.addr;
	struct vhu_vq *vq = msg_vq(dev, a->index);
	bool was_ready = vq->ready;

	if ((a->desc_user_addr & 15) != 0 || (a->avail_user_addr & 1) != 0 ||
	    (a->used_user_addr & 3) != 0) {
		VHU_LOG(ERR, "%s: ring %u: misaligned areas desc 0x%" PRIx64 " avail 0x%" PRIx64
			" used 0x%" PRIx64 " (need 16, 2 and 4-byte alignment)", dev->path,
			vq->index, a->desc_user_addr, a->avail_user_addr, a->used_user_addr);
		return VHU_MSG_CLOSE;
	}
	if ((a->flags & ~VHU_BIT(VHOST_VRING_F_LOG)) != 0) {
		VHU_LOG(ERR, "%s: ring %u: unknown address flags 0x%x", dev->path, vq->index,
			a->flags);
		return VHU_MSG_CLOSE;
	}
	/* A running ring may be re-addressed (QEMU does so to toggle logging):
	 * stop it, change, restart. */
	vhu_vq_stop(dev, vq);
	vq->desc_uaddr = a->desc_user_addr;
	vq->avail_uaddr = a->avail_user_addr;
	vq->used_uaddr = a->used_user_addr;
	vq->log_gaddr = a->log_guest_addr;
	vq->addr_flags = a->flags;
	vq->addr_set = true;
	if (was_ready)
		vhu_vq_try_start(dev, vq);
	return VHU_MSG_OK;
}

static enum vhu_msg_result
handle_set_vring_base(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	struct vhu_vq *vq = msg_vq(dev, msg->payload.state.index);
	uint32_t base = msg->payload.state.num;

	if (vq->ready) {
		VHU_LOG(ERR, "%s: ring %u: SET_VRING_BASE while the ring runs; stop it first",
			dev->path, vq->index);
		return VHU_MSG_FAIL;
	}
	if (dev_has_feature(dev, VIRTIO_F_RING_PACKED)) {
		/* Packed (QEMU's encoding): the low half the avail slot and its
		 * wrap counter, the high half the used ones. A front-end that
		 * sends only the low half means used == avail. */
		uint16_t avail = (uint16_t)base, used = base <= UINT16_MAX ? avail : base >> 16;

		if (vhu_vq_set_packed_base(vq, avail, used) != 0) {
			VHU_LOG(ERR, "%s: ring %u: packed base 0x%x points past the %u-entry ring",
				dev->path, vq->index, base, vq->size);
			return VHU_MSG_CLOSE;
		}
		return VHU_MSG_OK;
	}
	if (base > UINT16_MAX) {
		VHU_LOG(ERR, "%s: ring %u: base %u is not a 16-bit index", dev->path, vq->index,
			base);
		return VHU_MSG_CLOSE;
	}
	vq->last_avail_idx = (uint16_t)base;
	vq->last_used_idx = (uint16_t)base;
	return VHU_MSG_OK;
}

static enum vhu_msg_result
handle_get_vring_base(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	struct vhu_vq *vq = msg_vq(dev, msg->payload.state.index);

	vhu_vq_stop(dev, vq);
	vq->started = false;
	vhu_fd_replace(&vq->kickfd, -1);
	/* Chains in [used, avail) are not complete: whoever resumes the ring (we,
	 * or another back-end after a migration) must take them again. */
	if (dev->type->resume_at_used) {
		vq->last_avail_idx = vq->last_used_idx;
		vq->avail_wrap = vq->used_wrap;
	}
	msg->hdr.size = sizeof(struct vhost_user_vring_state);
	msg->payload.state.num = vq->last_avail_idx;
	if (dev_has_feature(dev, VIRTIO_F_RING_PACKED))
		msg->payload.state.num |= (uint32_t)vq->avail_wrap << 15 |
					  (uint32_t)vq->last_used_idx << 16 |
					  (uint32_t)vq->used_wrap << 31;
	VHU_LOG(INFO, "%s: ring %u stopped at %u", dev->path, vq->index, vq->last_avail_idx);
	return VHU_MSG_REPLY;
}

static enum vhu_msg_result
handle_set_vring_kick(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	struct vhu_vq *vq = msg_vq(dev, msg->payload.u64 & VHOST_USER_VRING_IDX_MASK);

	/* A new kick restarts the ring: stop what runs, clear a broken latch. */
	vhu_vq_stop(dev, vq);
	vhu_fd_replace(&vq->kickfd, nfds > 0 ? fds[0] : -1);
	vq->started = true;
	if (!dev_has_feature(dev, VHOST_USER_F_PROTOCOL_FEATURES))
		vq->enabled = true;
	vhu_vq_try_start(dev, vq);
	return VHU_MSG_OK;
}

/*
 * The data path writes the call fd with eventfd_write() and must never block
 * there: an eventfd only would after 2^64 - 1 interrupts, but a pipe or a
 * socket the front-end stops reading blocks once full, and with it every
 * ring of the lcore. An eventfd is an anonymous inode (no file type); so are
 * the other anon fds, on which a write fails at once instead of blocking.
 */
static bool
fd_is_anon_inode(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == 0;
}

static enum vhu_msg_result
handle_set_vring_call(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	struct vhu_vq *vq = msg_vq(dev, msg->payload.u64 & VHOST_USER_VRING_IDX_MASK);
	int old = vq->callfd;

	if (nfds > 0 && !fd_is_anon_inode(fds[0])) {
		VHU_LOG(ERR, "%s: ring %u: the call fd is not an eventfd (a pipe or socket would "
			"block the data path when full); refused", dev->path, vq->index);
		close_fds(fds, nfds);
		return VHU_MSG_CLOSE;
	}

	/* The data path may be writing the old fd: swap, wait, then close.
	 * Relaxed: vhu_vq_wait_burst() fences before it reads the mark. */
	__atomic_store_n(&vq->callfd, nfds > 0 ? fds[0] : -1, __ATOMIC_RELAXED);
	if (old >= 0) {
		if (vq->ready)
			vhu_vq_wait_burst(dev, vq);
		close(old);
	}
	return VHU_MSG_OK;
}

static enum vhu_msg_result
handle_set_vring_err(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	struct vhu_vq *vq = msg_vq(dev, msg->payload.u64 & VHOST_USER_VRING_IDX_MASK);

	vhu_fd_replace(&vq->errfd, nfds > 0 ? fds[0] : -1);
	return VHU_MSG_OK;
}

static enum vhu_msg_result
handle_get_protocol_features(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds,
			     int nfds)
{
	return reply_u64(msg, vhu_dev_offered_protocol_features(dev));
}

static enum vhu_msg_result
handle_set_protocol_features(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds,
			     int nfds)
{
	uint64_t pf = msg->payload.u64, offered = vhu_dev_offered_protocol_features(dev);

	if ((pf & ~offered) != 0) {
		VHU_LOG(ERR, "%s: front-end asked for protocol features 0x%" PRIx64
			" that were not offered", dev->path, pf & ~offered);
		return VHU_MSG_FAIL;
	}
	dev->protocol_features = pf;
	return VHU_MSG_OK;
}

static enum vhu_msg_result
handle_get_queue_num(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	if (dev->type->queue_num != NULL)
		return reply_u64(msg, dev->type->queue_num(dev));
	return reply_u64(msg, dev->num_queues);
}

static enum vhu_msg_result
handle_set_vring_enable(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds,
			int nfds)
{
	struct vhu_vq *vq = msg_vq(dev, msg->payload.state.index);
	uint32_t enable = msg->payload.state.num;

	if (enable > 1) {
		VHU_LOG(ERR, "%s: ring %u: enable value %u (must be 0 or 1)", dev->path, vq->index,
			enable);
		return VHU_MSG_CLOSE;
	}
	/* QEMU disables every ring at device reset, before SET_FEATURES: accept
	 * the message whenever PROTOCOL_FEATURES was offered (it always is), and
	 * let a later kick without PROTOCOL_FEATURES enable the ring anyway. */
	if (dev->features_set && !dev_has_feature(dev, VHOST_USER_F_PROTOCOL_FEATURES)) {
		VHU_LOG(ERR, "%s: SET_VRING_ENABLE after features without PROTOCOL_FEATURES were "
			"negotiated; refused", dev->path);
		return VHU_MSG_FAIL;
	}
	vq->enabled = enable == 1;
	if (vq->enabled)
		vhu_vq_try_start(dev, vq);
	else
		vhu_vq_stop(dev, vq);
	VHU_LOG(INFO, "%s: ring %u %s", dev->path, vq->index, enable ? "enabled" : "disabled");
	return VHU_MSG_OK;
}

static enum vhu_msg_result
handle_set_backend_req_fd(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds,
			  int nfds)
{
	vhu_fd_replace(&dev->backend_req_fd, fds[0]);
	return VHU_MSG_OK;
}

static enum vhu_msg_result
handle_set_log_base(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	enum vhu_msg_result rc = vhu_log_set_base(dev, &msg->payload.log, fds[0]);

	fds[0] = -1; /* consumed */
	if (rc != VHU_MSG_OK)
		return rc;
	/* The front-end waits for this reply before it relies on the log. */
	return reply_u64(msg, 0);
}

/* Rings attach to the inflight buffer as they start: stop them, swap it, restart them. */
static void
dev_swap_inflight(struct vhu_vhost_dev *dev, struct vhu_inflight *in)
{
	vhu_dev_stop_all(dev);
	vhu_inflight_install(dev, in);
	vhu_dev_restart_all(dev);
}

static enum vhu_msg_result
handle_get_inflight_fd(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds,
		       int nfds)
{
	struct vhost_user_inflight *req = &msg->payload.inflight;
	struct vhu_inflight *in;

	if (vhu_inflight_new(dev, req, &in) != 0)
		return VHU_MSG_FAIL;
	dev_swap_inflight(dev, in);
	req->mmap_size = in->size;
	req->mmap_offset = 0;
	dev->reply_fd = in->fd; /* sent with the reply; we keep our copy */
	msg->hdr.size = sizeof(*req);
	return VHU_MSG_REPLY;
}

static enum vhu_msg_result
handle_set_inflight_fd(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds,
		       int nfds)
{
	struct vhu_inflight *in;
	int fd = fds[0];

	fds[0] = -1; /* consumed */
	if (vhu_inflight_open(dev, &msg->payload.inflight, fd, &in) != 0)
		return VHU_MSG_CLOSE;
	dev_swap_inflight(dev, in);
	return VHU_MSG_OK;
}

static enum vhu_msg_result
handle_iotlb_msg(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	enum vhu_msg_result rc = vhu_dev_iotlb_msg(dev, &msg->payload.iotlb);

	/* The spec has the back-end acknowledge every IOTLB message, REPLY_ACK or not. */
	return reply_u64(msg, rc == VHU_MSG_OK ? 0 : 1);
}

static enum vhu_msg_result
handle_get_config(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	struct vhost_user_config *c = &msg->payload.config;

	/* The validator checked offset + size <= VHOST_USER_MAX_CONFIG_SIZE. */
	vhu_dev_get_config(dev, c->offset, c->payload, c->size);
	msg->hdr.size = offsetof(struct vhost_user_config, payload) + c->size;
	return VHU_MSG_REPLY;
}

static enum vhu_msg_result
handle_set_config(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	struct vhost_user_config *c = &msg->payload.config;

	return vhu_dev_set_config(dev, c->offset, c->payload, c->size) == 0 ? VHU_MSG_OK
									    : VHU_MSG_FAIL;
}

static enum vhu_msg_result
handle_set_status(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	uint64_t status = msg->payload.u64;

	if (status > UINT8_MAX) {
		VHU_LOG(ERR, "%s: status 0x%" PRIx64 " is not an 8-bit value", dev->path, status);
		return VHU_MSG_FAIL;
	}
	dev->status = (uint8_t)status;
	if (status & VIRTIO_CONFIG_S_FAILED)
		VHU_LOG(WARNING, "%s: the driver reports FAILED status", dev->path);
	return VHU_MSG_OK;
}

static enum vhu_msg_result
handle_get_status(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	return reply_u64(msg, dev->status);
}

/*
 * The core's requests, by request number. SEND_RARP and NET_SET_MTU are named
 * here for log lines; they are net's (struct vhu_device_type.msgs).
 */
static const struct vhu_msg_type msg_types[VHOST_USER_REQUEST_MAX] = {
	[VHOST_USER_GET_FEATURES] = {
		.name = "GET_FEATURES",
		.handler = handle_get_features,
		.size = VHU_SZ_NONE, .fds = VHU_FD_NONE,
		.has_reply = true, .protocol_feature = -1,
	},
	[VHOST_USER_SET_FEATURES] = {
		.name = "SET_FEATURES",
		.handler = handle_set_features,
		.size = VHU_SZ_U64, .fds = VHU_FD_NONE,
		.protocol_feature = -1,
	},
	[VHOST_USER_SET_OWNER] = {
		.name = "SET_OWNER",
		.handler = handle_set_owner,
		.size = VHU_SZ_NONE, .fds = VHU_FD_NONE,
		.protocol_feature = -1,
	},
	[VHOST_USER_RESET_OWNER] = {
		.name = "RESET_OWNER",
		.handler = handle_reset,
		.size = VHU_SZ_NONE, .fds = VHU_FD_NONE,
		.protocol_feature = -1,
	},
	[VHOST_USER_SET_MEM_TABLE] = {
		.name = "SET_MEM_TABLE",
		.handler = handle_set_mem_table,
		.size = VHU_SZ_MEM, .fds = VHU_FD_REGIONS,
		.protocol_feature = -1,
	},
	[VHOST_USER_SET_LOG_BASE] = {
		.name = "SET_LOG_BASE",
		.handler = handle_set_log_base,
		.size = VHU_SZ_LOG, .fds = VHU_FD_ONE,
		.has_reply = true, .protocol_feature = VHOST_USER_PROTOCOL_F_LOG_SHMFD,
	},
	[VHOST_USER_SET_LOG_FD] = {
		.name = "SET_LOG_FD",
		.size = VHU_SZ_NONE, .fds = VHU_FD_ONE,
		.protocol_feature = -1,
	},
	[VHOST_USER_SET_VRING_NUM] = {
		.name = "SET_VRING_NUM",
		.handler = handle_set_vring_num,
		.size = VHU_SZ_STATE, .fds = VHU_FD_NONE,
		.vring_index = true, .protocol_feature = -1,
	},
	[VHOST_USER_SET_VRING_ADDR] = {
		.name = "SET_VRING_ADDR",
		.handler = handle_set_vring_addr,
		.size = VHU_SZ_ADDR, .fds = VHU_FD_NONE,
		.vring_index = true, .protocol_feature = -1,
	},
	[VHOST_USER_SET_VRING_BASE] = {
		.name = "SET_VRING_BASE",
		.handler = handle_set_vring_base,
		.size = VHU_SZ_STATE, .fds = VHU_FD_NONE,
		.vring_index = true, .protocol_feature = -1,
	},
	[VHOST_USER_GET_VRING_BASE] = {
		.name = "GET_VRING_BASE",
		.handler = handle_get_vring_base,
		.size = VHU_SZ_STATE, .fds = VHU_FD_NONE,
		.has_reply = true, .vring_index = true, .protocol_feature = -1,
	},
	[VHOST_USER_SET_VRING_KICK] = {
		.name = "SET_VRING_KICK",
		.handler = handle_set_vring_kick,
		.size = VHU_SZ_U64, .fds = VHU_FD_VRING,
		.vring_index = true, .protocol_feature = -1,
	},
	[VHOST_USER_SET_VRING_CALL] = {
		.name = "SET_VRING_CALL",
		.handler = handle_set_vring_call,
		.size = VHU_SZ_U64, .fds = VHU_FD_VRING,
		.vring_index = true, .protocol_feature = -1,
	},
	[VHOST_USER_SET_VRING_ERR] = {
		.name = "SET_VRING_ERR",
		.handler = handle_set_vring_err,
		.size = VHU_SZ_U64, .fds = VHU_FD_VRING,
		.vring_index = true, .protocol_feature = -1,
	},
	[VHOST_USER_GET_PROTOCOL_FEATURES] = {
		.name = "GET_PROTOCOL_FEATURES",
		.handler = handle_get_protocol_features,
		.size = VHU_SZ_NONE, .fds = VHU_FD_NONE,
		.has_reply = true, .protocol_feature = -1,
	},
	[VHOST_USER_SET_PROTOCOL_FEATURES] = {
		.name = "SET_PROTOCOL_FEATURES",
		.handler = handle_set_protocol_features,
		.size = VHU_SZ_U64, .fds = VHU_FD_NONE,
		.protocol_feature = -1,
	},
	[VHOST_USER_GET_QUEUE_NUM] = {
		.name = "GET_QUEUE_NUM",
		.handler = handle_get_queue_num,
		.size = VHU_SZ_NONE, .fds = VHU_FD_NONE,
		.has_reply = true, .protocol_feature = VHOST_USER_PROTOCOL_F_MQ,
	},
	[VHOST_USER_SET_VRING_ENABLE] = {
		.name = "SET_VRING_ENABLE",
		.handler = handle_set_vring_enable,
		.size = VHU_SZ_STATE, .fds = VHU_FD_NONE,
		.vring_index = true, .protocol_feature = -1,
	},
	[VHOST_USER_SEND_RARP] = { .name = "SEND_RARP" },
	[VHOST_USER_NET_SET_MTU] = { .name = "NET_SET_MTU" },
	[VHOST_USER_SET_BACKEND_REQ_FD] = {
		.name = "SET_BACKEND_REQ_FD",
		.handler = handle_set_backend_req_fd,
		.size = VHU_SZ_NONE, .fds = VHU_FD_ONE,
		.protocol_feature = VHOST_USER_PROTOCOL_F_BACKEND_REQ,
	},
	[VHOST_USER_IOTLB_MSG] = {
		.name = "IOTLB_MSG",
		.handler = handle_iotlb_msg,
		.size = VHU_SZ_IOTLB, .fds = VHU_FD_NONE,
		.has_reply = true, .protocol_feature = -1,
	},
	[VHOST_USER_SET_VRING_ENDIAN] = {
		.name = "SET_VRING_ENDIAN",
		.size = VHU_SZ_STATE, .fds = VHU_FD_NONE,
		.vring_index = true, .protocol_feature = VHOST_USER_PROTOCOL_F_CROSS_ENDIAN,
	},
	[VHOST_USER_GET_CONFIG] = {
		.name = "GET_CONFIG",
		.handler = handle_get_config,
		.size = VHU_SZ_CONFIG, .fds = VHU_FD_NONE,
		.has_reply = true, .protocol_feature = VHOST_USER_PROTOCOL_F_CONFIG,
	},
	[VHOST_USER_SET_CONFIG] = {
		.name = "SET_CONFIG",
		.handler = handle_set_config,
		.size = VHU_SZ_CONFIG, .fds = VHU_FD_NONE,
		.protocol_feature = VHOST_USER_PROTOCOL_F_CONFIG,
	},
	[VHOST_USER_CREATE_CRYPTO_SESSION] = {
		.name = "CREATE_CRYPTO_SESSION",
		.size = VHU_SZ_NONE, .fds = VHU_FD_NONE,
		.has_reply = true, .protocol_feature = -1,
	},
	[VHOST_USER_CLOSE_CRYPTO_SESSION] = {
		.name = "CLOSE_CRYPTO_SESSION",
		.size = VHU_SZ_NONE, .fds = VHU_FD_NONE,
		.protocol_feature = -1,
	},
	[VHOST_USER_POSTCOPY_ADVISE] = {
		.name = "POSTCOPY_ADVISE",
		.size = VHU_SZ_NONE, .fds = VHU_FD_NONE,
		.has_reply = true, .protocol_feature = -1,
	},
	[VHOST_USER_POSTCOPY_LISTEN] = {
		.name = "POSTCOPY_LISTEN",
		.size = VHU_SZ_NONE, .fds = VHU_FD_NONE,
		.protocol_feature = -1,
	},
	[VHOST_USER_POSTCOPY_END] = {
		.name = "POSTCOPY_END",
		.size = VHU_SZ_NONE, .fds = VHU_FD_NONE,
		.has_reply = true, .protocol_feature = -1,
	},
	[VHOST_USER_GET_INFLIGHT_FD] = {
		.name = "GET_INFLIGHT_FD",
		.handler = handle_get_inflight_fd,
		.size = VHU_SZ_INFLIGHT, .fds = VHU_FD_NONE,
		.has_reply = true, .protocol_feature = VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD,
	},
	[VHOST_USER_SET_INFLIGHT_FD] = {
		.name = "SET_INFLIGHT_FD",
		.handler = handle_set_inflight_fd,
		.size = VHU_SZ_INFLIGHT, .fds = VHU_FD_ONE,
		.protocol_feature = VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD,
	},
	[VHOST_USER_GPU_SET_SOCKET] = {
		.name = "GPU_SET_SOCKET",
		.size = VHU_SZ_NONE, .fds = VHU_FD_NONE,
		.protocol_feature = -1,
	},
	[VHOST_USER_RESET_DEVICE] = {
		.name = "RESET_DEVICE",
		.handler = handle_reset,
		.size = VHU_SZ_NONE, .fds = VHU_FD_NONE,
		.protocol_feature = VHOST_USER_PROTOCOL_F_RESET_DEVICE,
	},
	[VHOST_USER_VRING_KICK] = {
		.name = "VRING_KICK",
		.size = VHU_SZ_STATE, .fds = VHU_FD_NONE,
		.vring_index = true, .protocol_feature = -1,
	},
	[VHOST_USER_GET_MAX_MEM_SLOTS] = {
		.name = "GET_MAX_MEM_SLOTS",
		.handler = handle_get_max_mem_slots,
		.size = VHU_SZ_NONE, .fds = VHU_FD_NONE,
		.has_reply = true, .protocol_feature = VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS,
	},
	[VHOST_USER_ADD_MEM_REG] = {
		.name = "ADD_MEM_REG",
		.handler = handle_add_mem_reg,
		.size = VHU_SZ_MEM_REG, .fds = VHU_FD_ONE,
		.protocol_feature = VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS,
	},
	[VHOST_USER_REM_MEM_REG] = {
		.name = "REM_MEM_REG",
		.handler = handle_rem_mem_reg,
		.size = VHU_SZ_MEM_REG, .fds = VHU_FD_ANY_ONE,
		.protocol_feature = VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS,
	},
	[VHOST_USER_SET_STATUS] = {
		.name = "SET_STATUS",
		.handler = handle_set_status,
		.size = VHU_SZ_U64, .fds = VHU_FD_NONE,
		.protocol_feature = VHOST_USER_PROTOCOL_F_STATUS,
	},
	[VHOST_USER_GET_STATUS] = {
		.name = "GET_STATUS",
		.handler = handle_get_status,
		.size = VHU_SZ_NONE, .fds = VHU_FD_NONE,
		.has_reply = true, .protocol_feature = VHOST_USER_PROTOCOL_F_STATUS,
	},
};

enum vhu_msg_result
vhu_msg_handle(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	uint32_t req = msg->hdr.request;
	const struct vhu_msg_type *t = msg_type(dev, req);

	if (t == NULL || t->handler == NULL) {
		VHU_LOG(ERR, "%s: request %u (%s) is not supported by vhu; refused (%s device)",
			dev->path, req, vhu_msg_name(req), dev->type->name);
		close_fds(fds, nfds);
		return VHU_MSG_FAIL;
	}
	return t->handler(dev, msg, fds, nfds);
}

enum vhu_msg_action
vhu_msg_dispatch(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds,
		 const char **why)
{
	uint32_t req = msg->hdr.request;
	bool ask = (msg->hdr.flags & VHOST_USER_NEED_REPLY_MASK) != 0;
	bool ack = dev_has_protocol_feature(dev, VHOST_USER_PROTOCOL_F_REPLY_ACK);
	bool has_reply = vhu_msg_has_reply(dev, req);
	char reason[160];

	if (vhu_msg_validate(dev, msg, nfds, reason, sizeof(reason)) != 0) {
		VHU_LOG(ERR, "%s: %s (request %u) refused: %s; closing the connection", dev->path,
			vhu_msg_name(req), req, reason);
		close_fds(fds, nfds);
		*why = "malformed message";
		return VHU_MSG_ACT_CLOSE;
	}
	switch (vhu_msg_handle(dev, msg, fds, nfds)) {
	case VHU_MSG_REPLY:
		return VHU_MSG_ACT_REPLY;
	case VHU_MSG_OK:
		/* REPLY_ACK negotiated by this very message counts. */
		ack = ack || dev_has_protocol_feature(dev, VHOST_USER_PROTOCOL_F_REPLY_ACK);
		if (!ask || has_reply || !ack)
			return VHU_MSG_ACT_NONE;
		reply_u64(msg, 0);
		return VHU_MSG_ACT_REPLY;
	case VHU_MSG_FAIL:
		ack = ack || dev_has_protocol_feature(dev, VHOST_USER_PROTOCOL_F_REPLY_ACK);
		if (ask && !has_reply && ack) {
			reply_u64(msg, 1);
			return VHU_MSG_ACT_REPLY;
		}
		if (has_reply) {
			msg->hdr.size = 0; /* an empty reply tells the front-end it failed */
			return VHU_MSG_ACT_REPLY;
		}
		if (vhu_msg_implemented(dev, req)) {
			/* A refused request the front-end believes succeeded: it would go
			 * on with a device in a state it does not know. */
			*why = "request refused without REPLY_ACK";
			return VHU_MSG_ACT_CLOSE;
		}
		return VHU_MSG_ACT_NONE;
	case VHU_MSG_CLOSE:
	default:
		*why = "invalid request";
		return VHU_MSG_ACT_CLOSE;
	}
}
