/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu's librte_vhost.so.23 with bad arguments: every exported symbol is
 * called with a vid that does not exist, has gone or was never started, a
 * queue out of range or of the wrong direction, NULL pointers and paths never
 * registered, and must return DPDK's error value (never crash: this runs
 * under ASan in scripts/sanitize.sh). Then the calls that work without a
 * front-end are checked to give DPDK's answers.
 */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_vdpa.h>
#include <rte_vhost.h>
#include <rte_vhost_async.h>
#include <rte_vhost_crypto.h>

#include "test_harness.h"
#include "unit_eal.h"

/* Not in DPDK's installed headers (vdpa_driver.h), exported all the same. */
struct rte_vdpa_dev_ops;
struct rte_vdpa_device *rte_vdpa_register_device(struct rte_device *rte_dev,
						 struct rte_vdpa_dev_ops *ops);
int rte_vdpa_unregister_device(struct rte_vdpa_device *dev);
int rte_vhost_host_notifier_ctrl(int vid, uint16_t qid, bool enable);

static const int bad_vids[] = { -1, 0, 1, 1023, 1024, INT_MAX, INT_MIN };

static void
sock_path(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "/tmp/vhu-unit-rte-%s-%d.sock", what, (int)getpid());
}

/* Every call that takes a vid, with 'vid' that names no started device. */
static void
vid_calls_fail(int vid)
{
	struct rte_mempool *mp = unit_pool(64);
	struct rte_vhost_stat_name names[8];
	struct rte_vhost_stat stats[8];
	struct rte_vhost_memory *mem = NULL;
	struct rte_vhost_vring vring;
	struct rte_vhost_ring_inflight rinf;
	struct rte_vhost_power_monitor_cond pmc;
	struct rte_mbuf *pkts[4] = { NULL };
	uint64_t u64, u64b;
	uint16_t mtu, a, b;
	char name[64];
	int inflight = 0;

	ASSERT_EQ(rte_vhost_get_negotiated_features(vid, &u64), -1);
	ASSERT_EQ(rte_vhost_get_negotiated_protocol_features(vid, &u64), -1);
	ASSERT_LT(rte_vhost_get_mtu(vid, &mtu), 0);
	ASSERT_EQ(rte_vhost_get_numa_node(vid), -1);
	ASSERT_EQ(rte_vhost_get_vring_num(vid), 0);
	ASSERT_EQ(rte_vhost_get_ifname(vid, name, sizeof(name)), -1);
	ASSERT_EQ(rte_vhost_avail_entries(vid, 0), 0);
	ASSERT_EQ(rte_vhost_rx_queue_count(vid, 1), 0);
	ASSERT_EQ(rte_vhost_enable_guest_notification(vid, 0, 0), -1);
	ASSERT_EQ(rte_vhost_vring_call(vid, 0), -1);
	ASSERT_EQ(rte_vhost_vring_call_nonblock(vid, 0), -1);
	ASSERT_EQ(rte_vhost_enqueue_burst(vid, 0, pkts, 4), 0);
	ASSERT_EQ(rte_vhost_dequeue_burst(vid, 1, mp, pkts, 4), 0);
	ASSERT_NULL(pkts[0]);
	ASSERT_EQ(rte_vhost_vring_stats_get_names(vid, 0, names, 8), -1);
	ASSERT_EQ(rte_vhost_vring_stats_get(vid, 0, stats, 8), -1);
	ASSERT_EQ(rte_vhost_vring_stats_reset(vid, 0), -1);
	ASSERT_EQ(rte_vhost_get_mem_table(vid, &mem), -1);
	ASSERT_NULL(mem);
	ASSERT_EQ(rte_vhost_get_vhost_vring(vid, 0, &vring), -1);
	ASSERT_EQ(rte_vhost_get_vhost_ring_inflight(vid, 0, &rinf), -1);
	ASSERT_EQ(rte_vhost_set_inflight_desc_split(vid, 0, 0), -1);
	ASSERT_EQ(rte_vhost_set_inflight_desc_packed(vid, 0, 0, 0, &a), -1);
	ASSERT_EQ(rte_vhost_set_last_inflight_io_split(vid, 0, 0), -1);
	ASSERT_EQ(rte_vhost_set_last_inflight_io_packed(vid, 0, 0), -1);
	ASSERT_EQ(rte_vhost_clr_inflight_desc_split(vid, 0, 0, 0), -1);
	ASSERT_EQ(rte_vhost_clr_inflight_desc_packed(vid, 0, 0), -1);
	ASSERT_EQ(rte_vhost_get_vring_base(vid, 0, &a, &b), -1);
	ASSERT_EQ(rte_vhost_get_vring_base_from_inflight(vid, 0, &a, &b), -1);
	ASSERT_EQ(rte_vhost_set_vring_base(vid, 0, 0, 0), -1);
	ASSERT_EQ(rte_vhost_get_log_base(vid, &u64, &u64b), -1);
	rte_vhost_log_write(vid, 0, 4096);
	rte_vhost_log_used_vring(vid, 0, 0, 8);
	ASSERT_EQ(rte_vhost_get_monitor_addr(vid, 0, &pmc), -1);
	ASSERT_EQ(rte_vhost_extern_callback_register(vid, NULL, NULL), -1);
	ASSERT_EQ(rte_vhost_slave_config_change(vid, true), -1);
	ASSERT_NULL(rte_vhost_get_vdpa_device(vid));
	ASSERT_EQ(rte_vhost_host_notifier_ctrl(vid, 0, true), -1);
	ASSERT_EQ(rte_vdpa_relay_vring_used(vid, 0, NULL), -1);
	ASSERT_EQ(rte_vhost_crypto_create(vid, 0, NULL, 0), -1);
	ASSERT_EQ(rte_vhost_crypto_free(vid), -1);
	ASSERT_EQ(rte_vhost_crypto_set_zero_copy(vid, RTE_VHOST_CRYPTO_ZERO_COPY_ENABLE), -1);
	ASSERT_EQ(rte_vhost_crypto_fetch_requests(vid, 0, NULL, 4), 0);
	ASSERT_EQ(rte_vhost_async_channel_register(vid, 0), -1);
	ASSERT_EQ(rte_vhost_async_channel_unregister(vid, 0), -1);
	ASSERT_EQ(rte_vhost_async_channel_register_thread_unsafe(vid, 0), -1);
	ASSERT_EQ(rte_vhost_async_channel_unregister_thread_unsafe(vid, 0), -1);
	ASSERT_EQ(rte_vhost_submit_enqueue_burst(vid, 0, pkts, 4, 0, 0), 0);
	ASSERT_EQ(rte_vhost_poll_enqueue_completed(vid, 0, pkts, 4, 0, 0), 0);
	ASSERT_EQ(rte_vhost_async_get_inflight(vid, 0), -1);
	ASSERT_EQ(rte_vhost_async_get_inflight_thread_unsafe(vid, 0), -1);
	ASSERT_EQ(rte_vhost_clear_queue_thread_unsafe(vid, 0, pkts, 4, 0, 0), 0);
	ASSERT_EQ(rte_vhost_clear_queue(vid, 0, pkts, 4, 0, 0), 0);
	ASSERT_EQ(rte_vhost_async_try_dequeue_burst(vid, 1, mp, pkts, 4, &inflight, 0, 0), 0);
	ASSERT_NULL(pkts[0]);
}

TEST(vid_never_registered)
{
	for (size_t i = 0; i < sizeof(bad_vids) / sizeof(bad_vids[0]); i++)
		vid_calls_fail(bad_vids[i]);
}

/* Every call that takes a path, with 'path' never registered (or NULL). */
static void
path_calls_fail(const char *path)
{
	static const struct rte_vhost_device_ops ops = { 0 };
	uint64_t u64;
	uint32_t u32;

	ASSERT_EQ(rte_vhost_driver_unregister(path), -1);
	ASSERT_EQ(rte_vhost_driver_callback_register(path, &ops), -1);
	ASSERT_EQ(rte_vhost_driver_start(path), -1);
	ASSERT_EQ(rte_vhost_driver_set_features(path, 1ULL << 32), -1);
	ASSERT_EQ(rte_vhost_driver_enable_features(path, 1ULL << 32), -1);
	ASSERT_EQ(rte_vhost_driver_disable_features(path, 1ULL << 32), -1);
	ASSERT_EQ(rte_vhost_driver_get_features(path, &u64), -1);
	ASSERT_EQ(rte_vhost_driver_set_protocol_features(path, 0), -1);
	ASSERT_EQ(rte_vhost_driver_get_protocol_features(path, &u64), -1);
	ASSERT_EQ(rte_vhost_driver_get_queue_num(path, &u32), -1);
	ASSERT_EQ(rte_vhost_driver_attach_vdpa_device(path, NULL), -1);
	ASSERT_EQ(rte_vhost_driver_detach_vdpa_device(path), -1);
	ASSERT_NULL(rte_vhost_driver_get_vdpa_device(path));
	ASSERT_EQ(rte_vhost_driver_get_vdpa_dev_type(path, &u32), -1);
	ASSERT_EQ(rte_vhost_crypto_driver_start(path), -1);
}

TEST(path_never_registered)
{
	char path[PATH_MAX];

	sock_path(path, sizeof(path), "never");
	path_calls_fail(path);
	path_calls_fail(NULL);
	path_calls_fail("");
}

TEST(register_refuses_bad_input)
{
	char path[PATH_MAX], longp[PATH_MAX + 8];

	sock_path(path, sizeof(path), "reg");
	ASSERT_EQ(rte_vhost_driver_register(NULL, 0), -1);
	ASSERT_EQ(rte_vhost_driver_register("", 0), -1);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	ASSERT_EQ(rte_vhost_driver_register(longp, 0), -1);
	ASSERT_EQ(rte_vhost_driver_register(path, RTE_VHOST_USER_POSTCOPY_SUPPORT), -1);
	ASSERT_EQ(rte_vhost_driver_register(path, RTE_VHOST_USER_ASYNC_COPY), -1);
	ASSERT_EQ(rte_vhost_driver_register(path, RTE_VHOST_USER_RESERVED_1), -1);
	ASSERT_EQ(rte_vhost_driver_register(path, 1ULL << 40), -1);
	/* Refused registrations left nothing behind. */
	path_calls_fail(path);

	ASSERT_EQ(rte_vhost_driver_register(path, 0), 0);
	ASSERT_EQ(rte_vhost_driver_register(path, 0), -1);
	ASSERT_EQ(rte_vhost_driver_callback_register(path, NULL), -1);
	ASSERT_EQ(rte_vhost_driver_get_features(path, NULL), -1);
	ASSERT_EQ(rte_vhost_driver_get_protocol_features(path, NULL), -1);
	ASSERT_EQ(rte_vhost_driver_get_queue_num(path, NULL), -1);
	ASSERT_EQ(rte_vhost_driver_unregister(path), 0);
	path_calls_fail(path);
}

TEST(features_before_start)
{
	char path[PATH_MAX];
	uint64_t f, pf;
	uint32_t qn;

	sock_path(path, sizeof(path), "feat");
	ASSERT_EQ(rte_vhost_driver_register(path, RTE_VHOST_USER_IOMMU_SUPPORT), 0);
	ASSERT_EQ(rte_vhost_driver_get_features(path, &f), 0);
	ASSERT_TRUE(f & (1ULL << 32)); /* VERSION_1 */
	ASSERT_TRUE(f & (1ULL << 33)); /* IOMMU_PLATFORM, asked for */
	ASSERT_TRUE(f & (1ULL << 34)); /* RING_PACKED */
	ASSERT_TRUE(f & (1ULL << 3));  /* MTU, the front-end's, as DPDK offers it */
	ASSERT_EQ(rte_vhost_driver_get_protocol_features(path, &pf), 0);
	ASSERT_TRUE(pf & (1ULL << VHOST_USER_PROTOCOL_F_NET_MTU));
	ASSERT_EQ(rte_vhost_driver_disable_features(path, 1ULL << 34), 0);
	ASSERT_EQ(rte_vhost_driver_get_features(path, &f), 0);
	ASSERT_FALSE(f & (1ULL << 34));
	ASSERT_EQ(rte_vhost_driver_enable_features(path, 1ULL << 34), 0);
	ASSERT_EQ(rte_vhost_driver_get_features(path, &f), 0);
	ASSERT_TRUE(f & (1ULL << 34));
	/* A feature vhu cannot offer (VIRTIO_F_NOTIFICATION_DATA, 38). */
	ASSERT_EQ(rte_vhost_driver_enable_features(path, 1ULL << 38), -1);
	ASSERT_EQ(rte_vhost_driver_set_features(path, (1ULL << 32) | (1ULL << 38)), 0);
	ASSERT_EQ(rte_vhost_driver_get_features(path, &f), 0);
	ASSERT_EQ(f, 1ULL << 32);
	ASSERT_EQ(rte_vhost_driver_get_protocol_features(path, &pf), 0);
	ASSERT_TRUE(pf & (1ULL << VHOST_USER_PROTOCOL_F_MQ));
	ASSERT_EQ(rte_vhost_driver_set_protocol_features(path, pf), 0);
	ASSERT_EQ(rte_vhost_driver_set_protocol_features(path, 0), -1);
	ASSERT_EQ(rte_vhost_driver_get_queue_num(path, &qn), 0);
	ASSERT_GE(qn, 1);
	ASSERT_EQ(rte_vhost_driver_unregister(path), 0);
}

static int ready_calls;

static int
count_new_device(int vid)
{
	ready_calls++;
	return 0;
}

/*
 * The ring-level calls on a started device that no front-end has reached:
 * no memory table yet, ring bases readable and settable (the rings are
 * stopped), inflight calls doing nothing (INFLIGHT_SHMFD not negotiated:
 * DPDK returns 0) or finding no record.
 */
static void
ring_calls_before_a_front_end(int vid, uint32_t qn)
{
	struct rte_vhost_memory *mem = NULL;
	struct rte_vhost_ring_inflight rinf;
	uint16_t a = 1, b = 1, e;

	ASSERT_EQ(rte_vhost_get_mem_table(vid, &mem), -1);
	ASSERT_NULL(mem);
	ASSERT_EQ(rte_vhost_get_mem_table(vid, NULL), -1);
	ASSERT_EQ(rte_vhost_get_vring_base(vid, 0, &a, &b), 0);
	ASSERT_EQ(a, 0);
	ASSERT_EQ(b, 0);
	ASSERT_EQ(rte_vhost_set_vring_base(vid, 1, 12, 10), 0);
	ASSERT_EQ(rte_vhost_get_vring_base(vid, 1, &a, &b), 0);
	ASSERT_EQ(a, 12);
	ASSERT_EQ(b, 10);
	ASSERT_EQ(rte_vhost_set_vring_base(vid, 1, 0, 0), 0);
	ASSERT_EQ(rte_vhost_get_vring_base(vid, 2 * qn, &a, &b), -1);
	ASSERT_EQ(rte_vhost_set_vring_base(vid, 2 * qn, 0, 0), -1);
	ASSERT_EQ(rte_vhost_get_vring_base(vid, 0, NULL, &b), -1);
	ASSERT_EQ(rte_vhost_get_vring_base(vid, 0, &a, NULL), -1);
	ASSERT_EQ(rte_vhost_get_vhost_ring_inflight(vid, 0, &rinf), -1);
	ASSERT_EQ(rte_vhost_get_vhost_ring_inflight(vid, 0, NULL), -1);
	ASSERT_EQ(rte_vhost_get_vring_base_from_inflight(vid, 0, &a, &b), -1);
	ASSERT_EQ(rte_vhost_set_inflight_desc_split(vid, 0, 0), 0);
	ASSERT_EQ(rte_vhost_set_inflight_desc_packed(vid, 0, 0, 0, &e), 0);
	ASSERT_EQ(rte_vhost_set_inflight_desc_packed(vid, 0, 0, 0, NULL), -1);
	ASSERT_EQ(rte_vhost_set_last_inflight_io_split(vid, 0, 0), 0);
	ASSERT_EQ(rte_vhost_set_last_inflight_io_packed(vid, 0, 0), 0);
	ASSERT_EQ(rte_vhost_clr_inflight_desc_split(vid, 0, 0, 0), 0);
	ASSERT_EQ(rte_vhost_clr_inflight_desc_packed(vid, 0, 0), 0);
}

/* A started device with no front-end: its vid exists, queues are checked. */
TEST(started_device_checks_queues)
{
	static const struct rte_vhost_device_ops ops = { .new_device = count_new_device };
	struct rte_mempool *mp = unit_pool(64);
	struct rte_vhost_stat_name names[8];
	struct rte_vhost_stat stats[8];
	struct rte_mbuf *pkts[4] = { NULL };
	char path[PATH_MAX], name[PATH_MAX];
	uint64_t f;
	uint16_t mtu;
	uint32_t qn;
	int vid = -1;

	sock_path(path, sizeof(path), "start");
	unlink(path);
	ASSERT_EQ(rte_vhost_driver_register(path, RTE_VHOST_USER_NET_STATS_ENABLE), 0);
	ASSERT_EQ(rte_vhost_driver_callback_register(path, &ops), 0);
	ASSERT_EQ(rte_vhost_driver_start(path), 0);
	ASSERT_EQ(rte_vhost_driver_start(path), -1);
	/* Too late to change what is offered. */
	ASSERT_EQ(rte_vhost_driver_disable_features(path, 1ULL << 34), -1);
	ASSERT_EQ(rte_vhost_driver_callback_register(path, &ops), -1);
	ASSERT_EQ(rte_vhost_driver_get_queue_num(path, &qn), 0);
	for (int v = 0; v < 1024 && vid < 0; v++)
		if (rte_vhost_get_ifname(v, name, sizeof(name)) == 0 && strcmp(name, path) == 0)
			vid = v;
	ASSERT_GE(vid, 0);
	ASSERT_EQ(rte_vhost_get_ifname(vid, NULL, 8), -1);
	ASSERT_EQ(rte_vhost_get_ifname(vid, name, 0), -1);
	ASSERT_EQ(rte_vhost_get_ifname(vid, name, 4), 0);
	ASSERT_EQ(strlen(name), 3);
	ASSERT_EQ(rte_vhost_get_negotiated_features(vid, NULL), -1);
	ASSERT_EQ(rte_vhost_get_negotiated_features(vid, &f), 0);
	ASSERT_EQ(f, 0);
	ASSERT_LT(rte_vhost_get_mtu(vid, NULL), 0);
	/* Not ready (no front-end): DPDK says -EAGAIN. */
	ASSERT_EQ(rte_vhost_get_mtu(vid, &mtu), -EAGAIN);
	ASSERT_EQ(rte_vhost_get_vring_num(vid), 0);
	/* Queues: out of range, wrong direction, NULL arrays. */
	ASSERT_EQ(rte_vhost_enqueue_burst(vid, 2 * qn, pkts, 4), 0);
	ASSERT_EQ(rte_vhost_enqueue_burst(vid, 1, pkts, 4), 0);
	ASSERT_EQ(rte_vhost_enqueue_burst(vid, 0, NULL, 4), 0);
	ASSERT_EQ(rte_vhost_enqueue_burst(vid, 0, pkts, 4), 0);
	ASSERT_EQ(rte_vhost_dequeue_burst(vid, 0, mp, pkts, 4), 0);
	ASSERT_EQ(rte_vhost_dequeue_burst(vid, 2 * qn + 1, mp, pkts, 4), 0);
	ASSERT_EQ(rte_vhost_dequeue_burst(vid, 1, NULL, pkts, 4), 0);
	ASSERT_EQ(rte_vhost_dequeue_burst(vid, 1, mp, NULL, 4), 0);
	ASSERT_EQ(rte_vhost_dequeue_burst(vid, 1, mp, pkts, 4), 0);
	ASSERT_NULL(pkts[0]);
	ASSERT_EQ(rte_vhost_rx_queue_count(vid, 0), 0);
	ASSERT_EQ(rte_vhost_rx_queue_count(vid, 2 * qn + 1), 0);
	ASSERT_EQ(rte_vhost_avail_entries(vid, 2 * qn), 0);
	ASSERT_EQ(rte_vhost_enable_guest_notification(vid, 2 * qn, 0), -1);
	ASSERT_EQ(rte_vhost_enable_guest_notification(vid, 0, 0), 0);
	ASSERT_EQ(rte_vhost_enable_guest_notification(vid, 0, 1), -1);
	ASSERT_EQ(rte_vhost_vring_call(vid, 2 * qn), -1);
	ASSERT_EQ(rte_vhost_vring_call(vid, 0), 0);
	/* Statistics: sizes, NULL, a queue out of range. */
	ASSERT_EQ(rte_vhost_vring_stats_get_names(vid, 2 * qn, names, 8), -1);
	ASSERT_EQ(rte_vhost_vring_stats_get_names(vid, 1, NULL, 0), 6);
	ASSERT_EQ(rte_vhost_vring_stats_get_names(vid, 1, names, 8), 6);
	ASSERT_STR_CONTAINS(names[0].name, "rx_q0_good_packets");
	ASSERT_EQ(rte_vhost_vring_stats_get(vid, 0, NULL, 8), 6);
	ASSERT_EQ(rte_vhost_vring_stats_get(vid, 0, stats, 2), 6);
	ASSERT_EQ(rte_vhost_vring_stats_get(vid, 0, stats, 8), 6);
	ASSERT_EQ(stats[0].value, 0);
	ASSERT_EQ(rte_vhost_vring_stats_reset(vid, 2 * qn), -1);
	ASSERT_EQ(rte_vhost_vring_stats_reset(vid, 0), 0);
	ring_calls_before_a_front_end(vid, qn);
	ASSERT_EQ(ready_calls, 0);
	ASSERT_EQ(rte_vhost_driver_unregister(path), 0);
	ASSERT_EQ(access(path, F_OK), -1);
	/* The vid has gone with it. */
	vid_calls_fail(vid);
	path_calls_fail(path);
}

TEST(vdpa_and_async_refused)
{
	struct rte_vdpa_stat_name sn[2];
	struct rte_vdpa_stat st[2];
	uint64_t u64;
	uint32_t u32;
	int nr;

	ASSERT_NULL(rte_vdpa_find_device_by_name(NULL));
	ASSERT_NULL(rte_vdpa_find_device_by_name("nope"));
	ASSERT_NULL(rte_vdpa_get_rte_device(NULL));
	ASSERT_EQ(rte_vdpa_get_queue_num(NULL, &u32), -1);
	ASSERT_EQ(rte_vdpa_get_features(NULL, &u64), -1);
	ASSERT_EQ(rte_vdpa_get_protocol_features(NULL, &u64), -1);
	ASSERT_EQ(rte_vdpa_get_stats_names(NULL, sn, 2), -1);
	ASSERT_EQ(rte_vdpa_get_stats(NULL, 0, st, 2), -1);
	ASSERT_EQ(rte_vdpa_reset_stats(NULL, 0), -1);
	ASSERT_NULL(rte_vdpa_register_device(NULL, NULL));
	ASSERT_EQ(rte_vdpa_unregister_device(NULL), -1);
	ASSERT_EQ(rte_vhost_async_dma_configure(0, 0), -1);
	ASSERT_EQ(rte_vhost_async_dma_unconfigure(-1, 0), -1);
	ASSERT_EQ(rte_vhost_crypto_finalize_requests(NULL, 4, NULL, NULL), 0);
	ASSERT_EQ(rte_vhost_async_try_dequeue_burst(-1, 0, NULL, NULL, 0, NULL, 0, 0), 0);
	nr = 5;
	ASSERT_EQ(rte_vhost_async_try_dequeue_burst(-1, 0, NULL, NULL, 0, &nr, 0, 0), 0);
	ASSERT_EQ(nr, -1);
}
