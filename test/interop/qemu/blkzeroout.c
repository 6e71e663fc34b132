/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * blkzeroout: the write-zeroes half of the guest's block tools, which busybox
 * lacks (its blkdiscard has no -z). It asks the kernel to zero a byte range
 * of a block device with the BLKZEROOUT ioctl; on a virtio-blk disk whose
 * device offers VIRTIO_BLK_F_WRITE_ZEROES the kernel sends that range as
 * VIRTIO_BLK_T_WRITE_ZEROES requests.
 *
 *   blkzeroout -o OFFSET -l LENGTH DEVICE
 *
 * OFFSET and LENGTH are bytes, multiples of 512. Linked statically: the QEMU
 * tests' initramfs has no C library. Exit status 0 on success, 1 when the
 * kernel refuses (with its reason), 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int
usage(const char *why)
{
	fprintf(stderr, "blkzeroout: %s\nusage: blkzeroout -o OFFSET -l LENGTH DEVICE\n", why);
	return 2;
}

/* A byte count in decimal, or false if 's' is not one. */
static bool
parse_bytes(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

int
main(int argc, char **argv)
{
	uint64_t range[2]; /* offset, length: what BLKZEROOUT takes */
	bool have_off = false, have_len = false;
	int opt, fd;

	while ((opt = getopt(argc, argv, "o:l:")) != -1) {
		if (opt == 'o' && parse_bytes(optarg, &range[0]))
			have_off = true;
		else if (opt == 'l' && parse_bytes(optarg, &range[1]))
			have_len = true;
		else
			return usage("-o and -l take a number of bytes");
	}
	if (!have_off || !have_len || optind != argc - 1)
		return usage("give an offset, a length and one device");
	if (range[0] % 512 != 0 || range[1] % 512 != 0 || range[1] == 0)
		return usage("offset and length must be multiples of 512, the length not 0");

	fd = open(argv[optind], O_WRONLY);
	if (fd < 0) {
		fprintf(stderr, "blkzeroout: cannot open %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	if (ioctl(fd, BLKZEROOUT, range) != 0) {
		fprintf(stderr,
			"blkzeroout: BLKZEROOUT of %" PRIu64 " bytes at %" PRIu64
			" on %s failed: %s\n",
			range[1], range[0], argv[optind], strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	return 0;
}
