/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the message dispatcher (vhu_msg_validate() + vhu_msg_handle())
 * on a device of two queue pairs offering every feature vhu has (checksum,
 * TSO, vIOMMU, MTU), driven as the connection code drives it, with the data
 * path run in between so that whatever state the messages leave is used.
 *
 * An input is a sequence of records, each starting with an opcode byte:
 *
 *   0x00..0x7f  a message: bits 0-2 the number of fds attached (0..7), bits
 *               3-4 their kind (0: the guest memfd, 1: eventfds, 2: fresh
 *               memfds of 4 KiB << 3 * (bits 5-6), 3: a mix of all and a
 *               pipe); then the 12-byte header as on the wire; then the
 *               payload, as many bytes as the header announces (at most the
 *               largest payload, at most what is left).
 *   0x80        the guest writes its memory: offset (u16 LE), length (u8), bytes.
 *   0x81        a data lcore polls: pair (u8), count (u8), length (u16 LE):
 *               dequeue up to count packets, enqueue them back, then enqueue
 *               count fresh packets of that length.
 *   0x82        the front-end writes the inflight buffer: offset (u16 LE),
 *               length (u8), bytes.
 *   other       skipped.
 *
 * Guest memory is one 256 KiB memfd that the inputs map with SET_MEM_TABLE
 * or ADD_MEM_REG (fd kind 0) and write through the fuzzer's own mapping.
 * After every message the rings are checked (fz_check_rings()); after every
 * input the device is reset and freed and the process must hold exactly the
 * fds, mbufs and memfd mappings it held before.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "fuzz_common.h"
#include "vhost_inflight.h"

#define GUEST_SIZE (256 * 1024)
#define MAX_BURST 32

static int guest_fd = -1;	/* the guest's memory, shared with the device by fd */
static uint8_t *guest;		/* the fuzzer's (the front-end's) view of it */
static int base_fds;		/* fds open when the input started */
static unsigned int base_mbufs;	/* free mbufs between inputs */
static int base_maps;		/* memfd mappings between inputs (the guest view) */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_eal_init();
	guest_fd = memfd_create("vhu-fuzz-guest", MFD_CLOEXEC);
	if (guest_fd < 0 || ftruncate(guest_fd, GUEST_SIZE) != 0)
		abort();
	guest = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, guest_fd, 0);
	if (guest == MAP_FAILED)
		abort();
	base_mbufs = rte_mempool_avail_count(fz_pool);
	base_maps = fz_count_memfd_maps();
	return 0;
}

struct input {
	const uint8_t *p;
	size_t left;
};

static bool
take(struct input *in, void *dst, size_t n)
{
	if (in->left < n)
		return false;
	memcpy(dst, in->p, n);
	in->p += n;
	in->left -= n;
	return true;
}

static int
make_memfd(uint64_t size)
{
	int fd = memfd_create("vhu-fuzz-fd", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
		abort();
	return fd;
}

/* The i-th fd of a message whose opcode is 'op'. */
static int
make_fd(uint8_t op, int i)
{
	int kind = (op >> 3) & 3, fd, p[2];

	if (kind == 3)
		kind = i & 3;
	switch (kind) {
	case 0:
		fd = dup(guest_fd);
		break;
	case 1:
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		break;
	case 2:
		fd = make_memfd((uint64_t)4096 << (3 * ((op >> 5) & 3)));
		break;
	default:
		if (pipe2(p, O_CLOEXEC) != 0)
			abort();
		close(p[1]);
		fd = p[0];
		break;
	}
	if (fd < 0)
		abort();
	return fd;
}

/* The library's dispatcher, as conn_dispatch() in vhost_socket.c calls it;
 * what would close the connection resets the device. */
static void
dispatch(struct vhu_vhost_dev *dev, struct vhost_user_msg *msg, int *fds, int nfds)
{
	uint32_t req = msg->hdr.request;
	const char *why = NULL;

	switch (vhu_msg_dispatch(dev, msg, fds, nfds, &why)) {
	case VHU_MSG_ACT_REPLY:
		FZ_CHECK(msg->hdr.size <= VHOST_USER_PAYLOAD_MAX, "%s replied %u bytes",
			 vhu_msg_name(req), msg->hdr.size);
		dev->reply_fd = -1; /* lent to the reply; the device keeps its copy */
		break;
	case VHU_MSG_ACT_CLOSE:
		FZ_CHECK(why != NULL && why[0] != '\0', "request %u closed without a reason", req);
		vhu_dev_reset(dev);
		break;
	default:
		FZ_CHECK(dev->reply_fd < 0, "%s left a reply fd without a reply",
			 vhu_msg_name(req));
		break;
	}
}

static void
message(struct vhu_vhost_dev *dev, struct input *in, uint8_t op)
{
	struct vhost_user_msg msg;
	int fds[8], nfds = op & 7, i;
	uint32_t len;

	memset(&msg, 0, sizeof(msg));
	if (!take(in, &msg.hdr, sizeof(msg.hdr)))
		return;
	/* The connection code refuses a header announcing more than any message holds. */
	if (msg.hdr.size > VHOST_USER_PAYLOAD_MAX) {
		vhu_dev_reset(dev);
		return;
	}
	len = RTE_MIN(msg.hdr.size, (uint32_t)in->left);
	take(in, &msg.payload, len);
	if (len < msg.hdr.size)
		return; /* truncated: the connection would wait for the rest */
	for (i = 0; i < nfds; i++)
		fds[i] = make_fd(op, i);
	dispatch(dev, &msg, fds, nfds);
	fz_check_rings(dev);
}

static void
write_bytes(struct input *in, uint8_t *dst, uint64_t dst_len)
{
	uint16_t off;
	uint8_t len;

	if (!take(in, &off, sizeof(off)) || !take(in, &len, sizeof(len)))
		return;
	len = (uint8_t)RTE_MIN((size_t)len, in->left);
	if (dst != NULL && off < dst_len)
		memcpy(dst + off, in->p, RTE_MIN((uint64_t)len, dst_len - off));
	in->p += len;
	in->left -= len;
}

static struct rte_mbuf *
packet(uint16_t len, uint8_t seed)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fz_pool);
	uint8_t *p;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(p, seed, len);
	return m;
}

static void
poll_rings(struct vhu_vhost_dev *dev, struct input *in)
{
	struct rte_mbuf *pkts[MAX_BURST];
	uint8_t qp, count;
	uint16_t len, n, sent, i;

	if (!take(in, &qp, 1) || !take(in, &count, 1) || !take(in, &len, 2))
		return;
	qp %= 2;
	count %= MAX_BURST + 1;
	len = (uint16_t)(len % 2048 + 1);
	n = vhu_vhost_dequeue_burst(dev, qp, fz_pool, pkts, count);
	FZ_CHECK(n <= count, "dequeue returned %u of %u", n, count);
	for (i = 0; i < n; i++)
		FZ_CHECK(pkts[i]->pkt_len <= VHU_MAX_PKT_LEN, "a %u-byte packet", pkts[i]->pkt_len);
	sent = vhu_vhost_enqueue_burst(dev, qp, pkts, n);
	FZ_CHECK(sent <= n, "enqueue placed %u of %u", sent, n);
	rte_pktmbuf_free_bulk(pkts, n);
	for (n = 0; n < count; n++) {
		pkts[n] = packet(len, (uint8_t)n);
		if (pkts[n] == NULL)
			break;
	}
	sent = vhu_vhost_enqueue_burst(dev, qp, pkts, n);
	FZ_CHECK(sent <= n, "enqueue placed %u of %u", sent, n);
	rte_pktmbuf_free_bulk(pkts, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct vhu_vhost_dev *dev;
	int fds;

	if (guest == NULL)
		LLVMFuzzerInitialize(NULL, NULL);
	/* Counted per input: libFuzzer itself opens pipes between inputs (its symbolizer). */
	base_fds = fz_count_fds();
	/* Zero the guest's memory by punching its pages out of the memfd: that
	 * costs what the last input touched, where a memset of all of it was
	 * most of an input's instructions. */
	if (fallocate(guest_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, GUEST_SIZE) != 0)
		memset(guest, 0, GUEST_SIZE);
	dev = fz_dev_new(2, VHU_VHOST_CSUM | VHU_VHOST_TSO | VHU_VHOST_IOMMU_SUPPORT, 1500);
	while (in.left > 0) {
		uint8_t op = *in.p;

		in.p++;
		in.left--;
		if (op < 0x80)
			message(dev, &in, op);
		else if (op == 0x80)
			write_bytes(&in, guest, GUEST_SIZE);
		else if (op == 0x81)
			poll_rings(dev, &in);
		else if (op == 0x82)
			write_bytes(&in, dev->inflight != NULL ? dev->inflight->addr : NULL,
				    dev->inflight != NULL ? dev->inflight->size : 0);
	}
	fz_dev_free(dev);
	fds = fz_count_fds();
	if (fds != base_fds)
		fz_dump_fds();
	FZ_CHECK(fds == base_fds, "%d fds open after the input, %d before", fds, base_fds);
	FZ_CHECK(rte_mempool_avail_count(fz_pool) == base_mbufs, "%u mbufs free, %u before",
		 rte_mempool_avail_count(fz_pool), base_mbufs);
#ifdef VHU_FUZZ_REPLAY
	/* Too slow at fuzzing speed; the replay of the corpus checks it. */
	FZ_CHECK(fz_count_memfd_maps() == base_maps, "%d memfd mappings after the input, %d "
		 "before", fz_count_memfd_maps(), base_maps);
#endif
	return 0;
}
