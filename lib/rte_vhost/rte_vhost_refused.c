/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * librte_vhost.so.23 on vhu: the calls vhu's backend does not serve. Each
 * returns DPDK's error value for the call (-1, 0 packets or NULL) and logs
 * once per process that it is refused, and why:
 *
 * - vDPA, virtio-crypto and the async (DMA) copy API: vhu is a software net
 *   backend that copies with the CPU;
 * - ring access for applications that walk guest rings themselves (vring
 *   addresses, dirty log writes, power monitor address): vhu's bursts own
 *   the rings and dirty logging, and libvhu does not hand them out (the
 *   memory table, ring bases and inflight records are served, in
 *   rte_vhost_ring.c);
 * - the external message hooks and the backend config-change request, which
 *   only make sense with such ring access.
 *
 * The table in doc/rte-vhost.md lists every symbol.
 */
#include <errno.h>

#include <rte_vdpa.h>
#include <rte_vhost.h>
#include <rte_vhost_async.h>
#include <rte_vhost_crypto.h>

#include "rte_vhost_priv.h"

/* INTERNAL symbols whose declarations DPDK does not install (vdpa_driver.h). */
struct rte_vdpa_dev_ops;
struct rte_vdpa_device *rte_vdpa_register_device(struct rte_device *rte_dev,
						 struct rte_vdpa_dev_ops *ops);
int rte_vdpa_unregister_device(struct rte_vdpa_device *dev);
int rte_vhost_host_notifier_ctrl(int vid, uint16_t qid, bool enable);

#define RV_VDPA	  "vDPA needs a hardware datapath; vhu is a software backend"
#define RV_CRYPTO "vhu serves virtio-net only, not virtio-crypto"
#define RV_ASYNC  "vhu copies with the CPU; the async DMA copy API is not there"
#define RV_RING	  "vhu's bursts own the rings and guest memory; libvhu does not hand them out"

/* --- vDPA ---------------------------------------------------------------------- */

struct rte_vdpa_device *
rte_vdpa_find_device_by_name(const char *name)
{
	RV_REFUSED(RV_VDPA);
	return NULL;
}

struct rte_device *
rte_vdpa_get_rte_device(struct rte_vdpa_device *vdpa_dev)
{
	RV_REFUSED(RV_VDPA);
	return NULL;
}

int
rte_vdpa_get_queue_num(struct rte_vdpa_device *dev, uint32_t *queue_num)
{
	RV_REFUSED(RV_VDPA);
	return -1;
}

int
rte_vdpa_get_features(struct rte_vdpa_device *dev, uint64_t *features)
{
	RV_REFUSED(RV_VDPA);
	return -1;
}

int
rte_vdpa_get_protocol_features(struct rte_vdpa_device *dev, uint64_t *features)
{
	RV_REFUSED(RV_VDPA);
	return -1;
}

int
rte_vdpa_get_stats_names(struct rte_vdpa_device *dev, struct rte_vdpa_stat_name *stats_names,
			 unsigned int size)
{
	RV_REFUSED(RV_VDPA);
	return -1;
}

int
rte_vdpa_get_stats(struct rte_vdpa_device *dev, uint16_t qid, struct rte_vdpa_stat *stats,
		   unsigned int n)
{
	RV_REFUSED(RV_VDPA);
	return -1;
}

int
rte_vdpa_reset_stats(struct rte_vdpa_device *dev, uint16_t qid)
{
	RV_REFUSED(RV_VDPA);
	return -1;
}

struct rte_vdpa_device *
rte_vdpa_register_device(struct rte_device *rte_dev, struct rte_vdpa_dev_ops *ops)
{
	RV_REFUSED(RV_VDPA);
	return NULL;
}

int
rte_vdpa_unregister_device(struct rte_vdpa_device *dev)
{
	RV_REFUSED(RV_VDPA);
	return -1;
}

int
rte_vdpa_relay_vring_used(int vid, uint16_t qid, void *vring_m)
{
	RV_REFUSED(RV_VDPA);
	return -1;
}

int
rte_vhost_host_notifier_ctrl(int vid, uint16_t qid, bool enable)
{
	RV_REFUSED(RV_VDPA);
	return -1;
}

int
rte_vhost_driver_attach_vdpa_device(const char *path, struct rte_vdpa_device *dev)
{
	RV_REFUSED(RV_VDPA);
	return -1;
}

int
rte_vhost_driver_detach_vdpa_device(const char *path)
{
	RV_REFUSED(RV_VDPA);
	return -1;
}

struct rte_vdpa_device *
rte_vhost_driver_get_vdpa_device(const char *path)
{
	/* No device is ever attached: NULL is also DPDK's "none". */
	return NULL;
}

int
rte_vhost_driver_get_vdpa_dev_type(const char *path, uint32_t *type)
{
	RV_REFUSED(RV_VDPA);
	return -1;
}

struct rte_vdpa_device *
rte_vhost_get_vdpa_device(int vid)
{
	return NULL;
}

/* --- virtio-crypto ------------------------------------------------------------- */

int
rte_vhost_crypto_driver_start(const char *path)
{
	RV_REFUSED(RV_CRYPTO);
	return -1;
}

int
rte_vhost_crypto_create(int vid, uint8_t cryptodev_id, struct rte_mempool *sess_pool, int socket_id)
{
	RV_REFUSED(RV_CRYPTO);
	return -1;
}

int
rte_vhost_crypto_free(int vid)
{
	RV_REFUSED(RV_CRYPTO);
	return -1;
}

int
rte_vhost_crypto_set_zero_copy(int vid, enum rte_vhost_crypto_zero_copy option)
{
	RV_REFUSED(RV_CRYPTO);
	return -1;
}

uint16_t
rte_vhost_crypto_fetch_requests(int vid, uint32_t qid, struct rte_crypto_op **ops, uint16_t nb_ops)
{
	RV_REFUSED(RV_CRYPTO);
	return 0;
}

uint16_t
rte_vhost_crypto_finalize_requests(struct rte_crypto_op **ops, uint16_t nb_ops, int *callfds,
				   uint16_t *nb_callfds)
{
	RV_REFUSED(RV_CRYPTO);
	return 0;
}

/* --- async (DMA) copy ---------------------------------------------------------- */

int
rte_vhost_async_channel_register(int vid, uint16_t queue_id)
{
	RV_REFUSED(RV_ASYNC);
	return -1;
}

int
rte_vhost_async_channel_unregister(int vid, uint16_t queue_id)
{
	RV_REFUSED(RV_ASYNC);
	return -1;
}

int
rte_vhost_async_channel_register_thread_unsafe(int vid, uint16_t queue_id)
{
	RV_REFUSED(RV_ASYNC);
	return -1;
}

int
rte_vhost_async_channel_unregister_thread_unsafe(int vid, uint16_t queue_id)
{
	RV_REFUSED(RV_ASYNC);
	return -1;
}

uint16_t
rte_vhost_submit_enqueue_burst(int vid, uint16_t queue_id, struct rte_mbuf **pkts, uint16_t count,
			       int16_t dma_id, uint16_t vchan_id)
{
	RV_REFUSED(RV_ASYNC);
	return 0;
}

uint16_t
rte_vhost_poll_enqueue_completed(int vid, uint16_t queue_id, struct rte_mbuf **pkts, uint16_t count,
				 int16_t dma_id, uint16_t vchan_id)
{
	RV_REFUSED(RV_ASYNC);
	return 0;
}

int
rte_vhost_async_get_inflight(int vid, uint16_t queue_id)
{
	RV_REFUSED(RV_ASYNC);
	return -1;
}

int
rte_vhost_async_get_inflight_thread_unsafe(int vid, uint16_t queue_id)
{
	RV_REFUSED(RV_ASYNC);
	return -1;
}

uint16_t
rte_vhost_clear_queue_thread_unsafe(int vid, uint16_t queue_id, struct rte_mbuf **pkts,
				    uint16_t count, int16_t dma_id, uint16_t vchan_id)
{
	RV_REFUSED(RV_ASYNC);
	return 0;
}

uint16_t
rte_vhost_clear_queue(int vid, uint16_t queue_id, struct rte_mbuf **pkts, uint16_t count,
		      int16_t dma_id, uint16_t vchan_id)
{
	RV_REFUSED(RV_ASYNC);
	return 0;
}

int
rte_vhost_async_dma_configure(int16_t dma_id, uint16_t vchan_id)
{
	RV_REFUSED(RV_ASYNC);
	return -1;
}

int
rte_vhost_async_dma_unconfigure(int16_t dma_id, uint16_t vchan_id)
{
	RV_REFUSED(RV_ASYNC);
	return -1;
}

uint16_t
rte_vhost_async_try_dequeue_burst(int vid, uint16_t queue_id, struct rte_mempool *mbuf_pool,
				  struct rte_mbuf **pkts, uint16_t count, int *nr_inflight,
				  int16_t dma_id, uint16_t vchan_id)
{
	RV_REFUSED(RV_ASYNC);
	if (nr_inflight != NULL)
		*nr_inflight = -1;
	return 0;
}

/* --- ring-level access ------------------------------------------------------------ */

int
rte_vhost_get_log_base(int vid, uint64_t *log_base, uint64_t *log_size)
{
	RV_REFUSED(RV_RING);
	return -1;
}

void
rte_vhost_log_write(int vid, uint64_t addr, uint64_t len)
{
	/* Only an application that wrote guest memory itself needs it, and none
	 * can (no memory table): vhu's bursts log their own writes. */
	RV_REFUSED(RV_RING);
}

void
rte_vhost_log_used_vring(int vid, uint16_t vring_idx, uint64_t offset, uint64_t len)
{
	RV_REFUSED(RV_RING);
}

int
rte_vhost_get_monitor_addr(int vid, uint16_t queue_id, struct rte_vhost_power_monitor_cond *pmc)
{
	RV_REFUSED(RV_RING);
	return -1;
}

int
rte_vhost_extern_callback_register(int vid, struct rte_vhost_user_extern_ops const *const ops,
				   void *ctx)
{
	RV_REFUSED(RV_RING);
	return -1;
}

int
rte_vhost_slave_config_change(int vid, bool need_reply)
{
	RV_REFUSED(RV_RING);
	return -1;
}
