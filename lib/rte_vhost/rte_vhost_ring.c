/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * librte_vhost.so.23 on vhu: the ring-level calls that applications keeping
 * ring state of their own make (storage targets in SPDK's style): the memory
 * table, the rings' base indexes and the inflight records, with DPDK 22.11's
 * semantics and error values, on libvhu's ring-level API. vhu's bursts keep
 * the same indexes and records for the rings they serve.
 *
 * Where DPDK trusts what it is given, these check it: a device that has no
 * memory table yet, a NULL result pointer, a ring base set while the ring
 * runs, an index the front-end wrote into the inflight record.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <rte_vhost.h>

#include "rte_vhost_priv.h"
#include "vhu_vhost.h"

#define RV_BIT(b) (UINT64_C(1) << (b))

int
rte_vhost_get_mem_table(int vid, struct rte_vhost_memory **mem)
{
	struct vhu_vhost_mem_region *r = NULL;
	struct rte_vhost_memory *m = NULL;
	struct rv_dev *d;
	int n = 0, got;

	if (mem == NULL) {
		RV_LOG(ERR, "rte_vhost_get_mem_table: mem is NULL\n");
		return -1;
	}
	d = rv_lookup(vid, "rte_vhost_get_mem_table");
	if (d == NULL)
		return -1;
	/* The table may change between the count and the copy: try again then. */
	for (int tries = 0; tries < 4; tries++) {
		n = vhu_vhost_get_mem_table(rv_vdev(d), NULL, 0);
		if (n <= 0)
			break;
		free(r);
		r = calloc((size_t)n, sizeof(*r));
		if (r == NULL)
			break;
		got = vhu_vhost_get_mem_table(rv_vdev(d), r, (uint32_t)n);
		if (got == 0)
			n = 0; /* the front-end left meanwhile */
		if (got <= 0)
			break;
		if (got > n)
			continue;
		m = malloc(sizeof(*m) + (size_t)got * sizeof(m->regions[0]));
		if (m == NULL)
			break;
		m->nregions = (uint32_t)got;
		for (int i = 0; i < got; i++)
			m->regions[i] = (struct rte_vhost_mem_region){
				.guest_phys_addr = r[i].guest_phys_addr,
				.guest_user_addr = r[i].guest_user_addr,
				.host_user_addr = r[i].host_user_addr,
				.size = r[i].size,
				.mmap_addr = r[i].mmap_addr,
				.mmap_size = r[i].mmap_size,
				.fd = -1, /* vhu keeps no fd once a region is mapped */
			};
		break;
	}
	free(r);
	if (m == NULL) {
		RV_LOG(ERR, "rte_vhost_get_mem_table: device %d has %s\n", vid,
		       n == 0 ? "no memory table yet (wait for new_device)"
			      : "no memory to copy it");
		return -1;
	}
	*mem = m;
	return 0;
}

int
rte_vhost_get_vring_base(int vid, uint16_t queue_id, uint16_t *last_avail_idx,
			 uint16_t *last_used_idx)
{
	struct rv_dev *d;

	if (last_avail_idx == NULL || last_used_idx == NULL) {
		RV_LOG(ERR, "rte_vhost_get_vring_base: a result pointer is NULL\n");
		return -1;
	}
	if (rv_vq(vid, queue_id, -1, "rte_vhost_get_vring_base", &d, NULL) != 0)
		return -1;
	return vhu_vhost_get_vring_base(rv_vdev(d), queue_id, last_avail_idx, last_used_idx) == 0
		       ? 0
		       : -1;
}

int
rte_vhost_set_vring_base(int vid, uint16_t queue_id, uint16_t last_avail_idx,
			 uint16_t last_used_idx)
{
	struct rv_dev *d;
	int r;

	if (rv_vq(vid, queue_id, -1, "rte_vhost_set_vring_base", &d, NULL) != 0)
		return -1;
	r = vhu_vhost_set_vring_base(rv_vdev(d), queue_id, last_avail_idx, last_used_idx);
	if (r == -EINVAL)
		RV_LOG(ERR,
		       "rte_vhost_set_vring_base: device %d queue %u: 0x%x/0x%x point past "
		       "the ring\n",
		       vid, queue_id, last_avail_idx, last_used_idx);
	return r == 0 ? 0 : -1;
}

/*
 * The inflight record of 'vid' ring 'qid' for 'call', a call that hands the
 * record to the application (which reads it once, at new_device): 0 (found,
 * in *inf) or -1 after a log line. Takes the control lock: not for the data
 * path (rv_inflight_hold() below is).
 */
static int
rv_inflight(int vid, uint16_t qid, const char *call, struct rv_dev **dp,
	    struct vhu_vhost_inflight *inf)
{
	int r;

	if (rv_vq(vid, qid, -1, call, dp, NULL) != 0)
		return -1;
	r = vhu_vhost_get_inflight(rv_vdev(*dp), qid, inf);
	if (r != 0) {
		RV_LOG(ERR, "%s: device %d queue %u has no inflight record%s\n", call, vid, qid,
		       r == -ENOENT ? " (the front-end did not set one up)" : "");
		return -1;
	}
	return 0;
}

int
rte_vhost_get_vhost_ring_inflight(int vid, uint16_t vring_idx,
				  struct rte_vhost_ring_inflight *vring)
{
	struct vhu_vhost_inflight inf;
	struct rv_dev *d;

	if (vring == NULL) {
		RV_LOG(ERR, "rte_vhost_get_vhost_ring_inflight: vring is NULL\n");
		return -1;
	}
	if (rv_inflight(vid, vring_idx, "rte_vhost_get_vhost_ring_inflight", &d, &inf) != 0)
		return -1;
	if (inf.packed)
		vring->inflight_packed = inf.record;
	else
		vring->inflight_split = inf.record;
	/* vhu resubmits what was in flight itself when the ring starts. */
	vring->resubmit_inflight = NULL;
	return 0;
}

int
rte_vhost_get_vring_base_from_inflight(int vid, uint16_t queue_id, uint16_t *last_avail_idx,
				       uint16_t *last_used_idx)
{
	struct rte_vhost_inflight_info_packed *r;
	struct vhu_vhost_inflight inf;
	struct rv_dev *d;

	if (last_avail_idx == NULL || last_used_idx == NULL) {
		RV_LOG(ERR, "rte_vhost_get_vring_base_from_inflight: a result pointer is NULL\n");
		return -1;
	}
	if (rv_inflight(vid, queue_id, "rte_vhost_get_vring_base_from_inflight", &d, &inf) != 0)
		return -1;
	if (!inf.packed) {
		RV_LOG(ERR,
		       "rte_vhost_get_vring_base_from_inflight: device %d queue %u is split; "
		       "only packed records hold a base\n",
		       vid, queue_id);
		return -1;
	}
	r = inf.record;
	*last_avail_idx = (uint16_t)(((r->old_used_wrap_counter & 1u) << 15) | r->old_used_idx);
	*last_used_idx = *last_avail_idx;
	return 0;
}

/*
 * The per-request inflight calls run on the lcore that processes the ring,
 * once per request: they hold the ring as a burst does
 * (vhu_vhost_inflight_enter()) and never take the control lock, which the
 * control thread may hold while it waits for that very lcore. 'packed' is
 * the layout the call is for. 1 (held: the record is in *inf), 0
 * (INFLIGHT_SHMFD not negotiated: DPDK's calls then do nothing and return
 * 0) or -1 after a log line.
 */
static int
rv_inflight_hold(int vid, uint16_t qid, bool packed, const char *call,
		 struct vhu_vhost_inflight *inf, struct rv_dev **dp)
{
	struct vhu_vhost_info info;
	int r;

	*dp = rv_lookup(vid, call);
	if (*dp == NULL || vhu_vhost_get_info(rv_vdev(*dp), &info) != 0)
		return -1;
	/* DPDK's order: the feature before the ring index. */
	if (!(info.protocol_features & RV_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD)))
		return 0;
	if (rv_vq(vid, qid, -1, call, dp, NULL) != 0)
		return -1;
	r = vhu_vhost_inflight_enter(rv_vdev(*dp), qid, inf);
	if (r != 0) {
		RV_LOG(ERR, "%s: device %d queue %u %s\n", call, vid, qid,
		       r == -EAGAIN ? "is not running (call it between new_device and "
				      "destroy_device)"
				    : "has no inflight record (the front-end did not set one up)");
		return -1;
	}
	if (inf->packed != packed) {
		RV_LOG(ERR, "%s: device %d queue %u is a %s ring\n", call, vid, qid,
		       inf->packed ? "packed" : "split");
		vhu_vhost_inflight_leave(inf);
		return -1;
	}
	return 1;
}

int
rte_vhost_set_inflight_desc_split(int vid, uint16_t vring_idx, uint16_t idx)
{
	struct vhu_vhost_inflight inf;
	struct rv_dev *d;
	int r = rv_inflight_hold(vid, vring_idx, false, __func__, &inf, &d);

	if (r <= 0)
		return r;
	r = rv_inflight_set_split(inf.record, inf.size, idx, rv_inflight_next(d));
	vhu_vhost_inflight_leave(&inf);
	return r;
}

int
rte_vhost_set_inflight_desc_packed(int vid, uint16_t vring_idx, uint16_t head, uint16_t last,
				   uint16_t *inflight_entry)
{
	struct vhu_vhost_inflight inf;
	struct rv_dev *d;
	int r;

	if (inflight_entry == NULL) {
		RV_LOG(ERR, "rte_vhost_set_inflight_desc_packed: inflight_entry is NULL\n");
		return -1;
	}
	r = rv_inflight_hold(vid, vring_idx, true, __func__, &inf, &d);
	if (r <= 0)
		return r;
	r = rv_inflight_set_packed(inf.record, inf.desc_packed, inf.size, head, last,
				   rv_inflight_next(d), inflight_entry);
	vhu_vhost_inflight_leave(&inf);
	return r;
}

int
rte_vhost_set_last_inflight_io_split(int vid, uint16_t vring_idx, uint16_t idx)
{
	struct vhu_vhost_inflight inf;
	struct rv_dev *d;
	int r = rv_inflight_hold(vid, vring_idx, false, __func__, &inf, &d);

	if (r <= 0)
		return r;
	r = rv_inflight_last_split(inf.record, inf.size, idx);
	vhu_vhost_inflight_leave(&inf);
	return r;
}

int
rte_vhost_set_last_inflight_io_packed(int vid, uint16_t vring_idx, uint16_t head)
{
	struct vhu_vhost_inflight inf;
	struct rv_dev *d;
	int r = rv_inflight_hold(vid, vring_idx, true, __func__, &inf, &d);

	if (r <= 0)
		return r;
	r = rv_inflight_last_packed(inf.record, inf.size, head);
	vhu_vhost_inflight_leave(&inf);
	return r;
}

int
rte_vhost_clr_inflight_desc_split(int vid, uint16_t vring_idx, uint16_t last_used_idx, uint16_t idx)
{
	struct vhu_vhost_inflight inf;
	struct rv_dev *d;
	int r = rv_inflight_hold(vid, vring_idx, false, __func__, &inf, &d);

	if (r <= 0)
		return r;
	r = rv_inflight_clr_split(inf.record, inf.size, last_used_idx, idx);
	vhu_vhost_inflight_leave(&inf);
	return r;
}

int
rte_vhost_clr_inflight_desc_packed(int vid, uint16_t vring_idx, uint16_t head)
{
	struct vhu_vhost_inflight inf;
	struct rv_dev *d;
	int r = rv_inflight_hold(vid, vring_idx, true, __func__, &inf, &d);

	if (r <= 0)
		return r;
	r = rv_inflight_clr_packed(inf.record, inf.size, head);
	vhu_vhost_inflight_leave(&inf);
	return r;
}
