/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "fake_dev.h"
#include "guest.h"
#include "test_harness.h"

struct vhu_vq *
fake_vq_new(uint16_t index)
{
	size_t bytes = vhu_vq_bytes(&vhu_net_device_type);
	struct vhu_vq *vq = aligned_alloc(RTE_CACHE_LINE_SIZE, bytes);

	if (vq == NULL)
		th_fail(__FILE__, __LINE__, "out of memory for a ring");
	memset(vq, 0, bytes);
	vhu_vq_init(vq, index, NULL);
	return vq;
}

struct vhu_vhost_dev *
fake_dev_new(uint16_t queue_pairs, uint16_t mtu)
{
	struct vhu_vhost_dev *dev = calloc(1, vhu_dev_bytes(&vhu_net_device_type));
	struct vhu_vhost_config cfg = {
		.path = "unit-test-dev",
		.queue_pairs = queue_pairs,
		.mtu = mtu,
	};
	struct vhu_dev_config core = { .path = cfg.path };
	uint16_t i;

	if (dev == NULL)
		th_fail(__FILE__, __LINE__, "out of memory for a device");
	for (i = 0; i < 2u * queue_pairs; i++)
		dev->vq[i] = fake_vq_new(i);
	/* The library's own initialisation; no IOTLB miss queue, so misses are not posted. */
	if (vhu_dev_init(dev, &vhu_net_device_type, &core, &cfg) != 0)
		th_fail(__FILE__, __LINE__, "a net device of %u queue pairs", queue_pairs);
	return dev;
}

void
fake_dev_free(struct vhu_vhost_dev *dev)
{
	uint16_t i;

	if (dev == NULL)
		return;
	vhu_dev_reset(dev);
	for (i = 0; i < dev->num_queues; i++)
		free(dev->vq[i]);
	free(dev);
}

int
count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		th_fail(__FILE__, __LINE__, "cannot open /proc/self/fd: %s", strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory stream's own fd */
}

int
count_memfd_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	if (f == NULL)
		th_fail(__FILE__, __LINE__, "cannot open /proc/self/maps: %s", strerror(errno));
	/* Only memfd mappings: guest memory and logs. The allocator's own
	 * mappings come and go (sanitizers add many) and would blur the count. */
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "/memfd:") != NULL)
			n++;
	fclose(f);
	return n;
}

bool
fd_is_open(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) != -1;
}

static FILE *capture_file;	/* memstream the library logs into, or NULL */
static char *capture_buf;	/* its text */
static size_t capture_len;

void
log_capture_start(void)
{
	if (capture_file != NULL) {
		/* A failed assertion left the previous capture open. */
		rte_openlog_stream(stderr);
		fclose(capture_file);
		capture_file = NULL;
	}
	free(capture_buf);
	capture_buf = NULL;
	capture_len = 0;
	capture_file = open_memstream(&capture_buf, &capture_len);
	if (capture_file == NULL)
		th_fail(__FILE__, __LINE__, "open_memstream: %s", strerror(errno));
	rte_openlog_stream(capture_file);
}

const char *
log_capture_stop(void)
{
	rte_openlog_stream(stderr);
	if (capture_file != NULL) {
		fclose(capture_file);
		capture_file = NULL;
	}
	if (capture_buf == NULL)
		return "";
	fputs(capture_buf, stderr);
	return capture_buf;
}

/* The net rings of guest.h: the core's fields, then net's defaults. */
void
guest_ring_init(struct guest *g, struct vhu_vq *vq, uint16_t size)
{
	guest_split_ring_core(g, vq, size);
	vhu_net_q(vq)->hdr_len = sizeof(struct virtio_net_hdr_mrg_rxbuf);
	vhu_net_q(vq)->mrg_rxbuf = false;
}

void
guest_packed_ring_init(struct guest *g, struct vhu_vq *vq, uint16_t size, struct packed_drv *d)
{
	guest_packed_ring_core(g, vq, size, d);
	vhu_net_q(vq)->hdr_len = sizeof(struct virtio_net_hdr_mrg_rxbuf);
	vhu_net_q(vq)->mrg_rxbuf = false;
}
