/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-ramdisk: the smallest block device over libvhu. It serves one
 * vhost-user-blk device backed by memory (zero at start) and does every
 * request at once, on the main lcore.
 *
 *     vhu-ramdisk [EAL options] -- --socket PATH [--size MiB] [--client]
 *
 * The library's control thread serves the socket; this program only polls
 * the request queue: take requests (vhu_blk_dequeue_burst()), do them,
 * complete them (vhu_blk_complete()) and hand them back to the guest
 * (vhu_blk_flush()). It is built against the installed library only:
 *
 *     cc -O2 -o vhu-ramdisk ramdisk.c $(pkg-config --cflags --libs libvhu)
 *
 * SIGINT or SIGTERM stops it; it destroys the device and exits 0.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pause.h>

#include <vhu.h>
#include <vhu_blk.h>
#include <vhu_vhost.h>

#define BURST 32

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [EAL options] -- --socket PATH [--size MiB] [--client]\n", prog);
}

/*
 * Do request 'r' on the disk 'ram': the parser checked every offset and
 * length against the capacity. Returns its status.
 */
static uint8_t
do_request(uint8_t *ram, const struct vhu_blk_request *r)
{
	const struct vhu_blk_req *q = &r->req;
	uint32_t i;

	if (r->answered) /* GET_ID, or a request the device refused */
		return q->status_value;
	switch (q->type) {
	case VIRTIO_BLK_T_IN:
		vhu_iov_from_buf(q->data, q->ndata, 0, ram + q->offset, q->len);
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		vhu_iov_to_buf(q->data, q->ndata, 0, ram + q->offset, q->len);
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		for (i = 0; i < q->nranges; i++)
			memset(ram + q->ranges[i].offset, 0, q->ranges[i].len);
		return VIRTIO_BLK_S_OK;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "size", required_argument, NULL, 'z' },
		{ "client", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct vhu_blk_config cfg = {
		.num_queues = 1,
		.capacity = 16u << 20,
		.blk_size = 512,
		.discard = true,
		.serial = "vhu-ramdisk",
	};
	struct vhu_blk_request *reqs[BURST];
	unsigned long served = 0;
	struct vhu_vhost_dev *dev;
	uint8_t *ram;
	int n, opt;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "vhu-ramdisk: cannot initialise DPDK: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			cfg.path = optarg;
			break;
		case 'z':
			cfg.capacity = strtoull(optarg, NULL, 0) << 20;
			break;
		case 'c':
			cfg.flags |= VHU_VHOST_CLIENT;
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (cfg.path == NULL || cfg.capacity == 0) {
		usage(argv[0]);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ram = calloc(1, cfg.capacity);
	if (ram == NULL) {
		fprintf(stderr, "vhu-ramdisk: no memory for a %llu-byte disk\n",
			(unsigned long long)cfg.capacity);
		return 1;
	}
	n = vhu_init(NULL);
	if (n != 0) {
		fprintf(stderr, "vhu-ramdisk: cannot set libvhu up: %s\n", strerror(-n));
		return 1;
	}
	dev = vhu_blk_create(&cfg);
	if (dev == NULL) {
		fprintf(stderr, "vhu-ramdisk: cannot serve %s: %s\n", cfg.path,
			rte_strerror(rte_errno));
		return 1;
	}
	printf("vhu-ramdisk: serving %s, %llu bytes\n", cfg.path, (unsigned long long)cfg.capacity);
	fflush(stdout);
	while (!quit) {
		uint16_t i;

		/* Bursts on a ring that is not ready return 0: no callback needed. */
		n = vhu_blk_dequeue_burst(dev, 0, reqs, BURST);
		for (i = 0; i < n; i++)
			vhu_blk_complete(dev, reqs[i], do_request(ram, reqs[i]));
		vhu_blk_flush(dev, 0);
		served += (unsigned long)n;
		if (n == 0)
			rte_delay_us_sleep(100);
		else
			rte_pause();
	}
	vhu_vhost_destroy(dev);
	printf("vhu-ramdisk: served %lu requests\n", served);
	n = vhu_fini();
	if (n != 0)
		fprintf(stderr, "vhu-ramdisk: vhu_fini: %s\n", strerror(-n));
	free(ram);
	rte_eal_cleanup();
	return 0;
}
