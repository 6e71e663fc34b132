/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture: "capture start PORT FILE [SNAPLEN]" writes what a port
 * receives and sends to a pcapng file, until "capture stop PORT".
 *
 * The forwarding lcores only copy: a tap on the port (vhu_port.h) formats
 * each packet of their bursts as a pcapng Enhanced Packet Block in an mbuf of
 * the capture's own pool (rte_pcapng_copy()) and puts it on a multi-producer
 * ring. A control thread per capture drains the ring into the file. When the
 * pool or the ring runs out, packets are left out of the capture and counted,
 * never held back: forwarding does not wait for the disk.
 *
 * DPDK 22.11's librte_pcapng writes the file header (rte_pcapng_fdopen()) and
 * one Interface Description Block per ethdev; vhu ports are not ethdevs, so
 * this file writes the port's block itself, after the library's. It writes
 * the packet blocks itself too: rte_pcapng_write_packets() maps each mbuf's
 * port number to an interface through a table that only ethdevs fill in.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_ring.h>
#include <rte_version.h>

#include "vhu_config.h"
#include "vhu_pmd.h"
#include "vhu_rcu.h"

#define SNAPLEN_DEFAULT 2048
#define SNAPLEN_MIN	64
/* An mbuf's data room is 16 bits wide; keep the pcapng block and headroom inside it. */
#define SNAPLEN_MAX 60000
/* Memory for the copies of one capture, and bounds on their number. */
#define POOL_BYTES     (32u << 20)
#define POOL_MBUFS_MAX 4095
#define POOL_MBUFS_MIN 511
#define POOL_CACHE     32
#define RING_SIZE      4096
/* Blocks the writer takes off the ring at a time. */
#define WRITE_BURST 64
/* How long the writer sleeps when the ring is empty. */
#define WRITER_IDLE_NS (1000 * 1000)
/* Where an Enhanced Packet Block keeps its interface number and the packet's length. */
#define EPB_INTERFACE_OFF 8
#define EPB_ORIG_LEN_OFF  24

struct capture {
	struct vhu_port_tap tap; /* what the port layer calls on the lcores */
	uint16_t port_id;
	uint32_t snaplen;	/* bytes kept of each packet */
	uint32_t if_index;	/* our interface block's number in the file */
	char path[PATH_MAX];	/* the file, as given */
	rte_pcapng_t *pcapng;	/* the library's handle; owns the fd */
	int fd;			/* the file */
	struct rte_mempool *mp; /* the copies */
	struct rte_ring *ring;	/* copies on their way to the writer */
	pthread_t writer;	/* drains ring into fd */
	bool stop;		/* main lcore -> writer: drain and return */
	/* Packets left out, counted by the lcores (several may tap one port). */
	uint64_t lost_nombuf; /* no mbuf for the copy */
	uint64_t lost_ring;   /* the ring was full */
	/* Written by the writer; read by the main lcore (relaxed) while it runs. */
	uint64_t written;	/* packets in the file */
	uint64_t written_bytes; /* their original lengths */
	int write_errno;	/* the first write error; the writer then only drains */
};

/* Copies of the packets of one burst; on the lcore that owns the queue. */
static void
capture_copy(struct vhu_port_tap *tap, const struct vhu_port *port, uint16_t queue,
	     enum vhu_port_dir dir, struct rte_mbuf *const *pkts, uint16_t n,
	     struct rte_mbuf **copies)
{
	struct capture *cap = container_of(tap, struct capture, tap);
	enum rte_pcapng_direction pdir =
		dir == VHU_PORT_DIR_RX ? RTE_PCAPNG_DIRECTION_IN : RTE_PCAPNG_DIRECTION_OUT;
	uint64_t tsc = rte_get_tsc_cycles();
	uint16_t i, lost = 0;

	for (i = 0; i < n; i++) {
		copies[i] =
			rte_pcapng_copy(port->id, queue, pkts[i], cap->mp, cap->snaplen, tsc, pdir);
		if (unlikely(copies[i] == NULL))
			lost++;
	}
	if (unlikely(lost != 0))
		__atomic_fetch_add(&cap->lost_nombuf, lost, __ATOMIC_RELAXED);
}

/* Hand copies to the writer; what does not fit on the ring is freed and counted. */
static void
capture_submit(struct vhu_port_tap *tap, struct rte_mbuf **copies, uint16_t n)
{
	struct capture *cap = container_of(tap, struct capture, tap);
	uint16_t i, k = 0;
	unsigned int enq;

	for (i = 0; i < n; i++) {
		if (copies[i] != NULL)
			copies[k++] = copies[i];
	}
	if (k == 0)
		return;
	enq = rte_ring_mp_enqueue_burst(cap->ring, (void **)copies, k, NULL);
	if (unlikely(enq < k)) {
		rte_pktmbuf_free_bulk(&copies[enq], k - enq);
		__atomic_fetch_add(&cap->lost_ring, k - enq, __ATOMIC_RELAXED);
	}
}

/* Write iov[0..cnt) whole, resuming after short writes. Returns 0 or -errno. */
static int
writev_all(int fd, struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		ssize_t w = writev(fd, iov, cnt);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		while (cnt > 0 && (size_t)w >= iov->iov_len) {
			w -= iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= w;
		}
	}
	return 0;
}

/* Write blocks made by rte_pcapng_copy(), naming our interface in each. */
static void
capture_write(struct capture *cap, struct rte_mbuf **pkts, unsigned int n)
{
	struct iovec iov[WRITE_BURST * 4];
	uint64_t bytes = 0;
	unsigned int i, cnt = 0, done = 0;
	uint32_t orig_len;
	int rc;

	for (i = 0; i < n; i++) {
		uint8_t *epb = rte_pktmbuf_mtod(pkts[i], uint8_t *);
		const struct rte_mbuf *seg;

		memcpy(epb + EPB_INTERFACE_OFF, &cap->if_index, sizeof(cap->if_index));
		memcpy(&orig_len, epb + EPB_ORIG_LEN_OFF, sizeof(orig_len));
		bytes += orig_len;
		/* The pool's mbufs hold a whole block; a chain would still be written whole. */
		for (seg = pkts[i]; seg != NULL && cnt < RTE_DIM(iov); seg = seg->next) {
			iov[cnt].iov_base = rte_pktmbuf_mtod(seg, void *);
			iov[cnt].iov_len = seg->data_len;
			cnt++;
		}
		done++;
		if (cnt + 4 > RTE_DIM(iov))
			break;
	}
	rc = writev_all(cap->fd, iov, cnt);
	if (rc != 0) {
		__atomic_store_n(&cap->write_errno, -rc, __ATOMIC_RELAXED);
		return;
	}
	/* Relaxed: single writer; "show port info" only displays them. */
	__atomic_store_n(&cap->written, cap->written + done, __ATOMIC_RELAXED);
	__atomic_store_n(&cap->written_bytes, cap->written_bytes + bytes, __ATOMIC_RELAXED);
	if (done < n)
		capture_write(cap, &pkts[done], n - done);
}

/* The writer thread: drain the ring until told to stop, then drain it once more. */
static void *
capture_writer(void *arg)
{
	const struct timespec idle = {.tv_nsec = WRITER_IDLE_NS};
	struct capture *cap = arg;
	struct rte_mbuf *pkts[WRITE_BURST];
	bool stopping = false;
	unsigned int n;

	for (;;) {
		n = rte_ring_sc_dequeue_burst(cap->ring, (void **)pkts, WRITE_BURST, NULL);
		if (n != 0) {
			if (__atomic_load_n(&cap->write_errno, __ATOMIC_RELAXED) == 0)
				capture_write(cap, pkts, n);
			rte_pktmbuf_free_bulk(pkts, n);
			continue;
		}
		if (stopping)
			break;
		/*
		 * Acquire: pairs with the release in capture_stop_port(), which follows
		 * a grace period after the last enqueue; the next dequeues see them all.
		 */
		if (__atomic_load_n(&cap->stop, __ATOMIC_ACQUIRE))
			stopping = true;
		else
			nanosleep(&idle, NULL);
	}
	return NULL;
}

/* Append a pcapng option (code, length, value padded to 32 bits) at buf + *off. */
static void
idb_option(uint8_t *buf, size_t *off, uint16_t code, const void *val, uint16_t len)
{
	memcpy(buf + *off, &code, sizeof(code));
	memcpy(buf + *off + 2, &len, sizeof(len));
	if (len > 0)	/* opt_endofopt has no value: memcpy() must not see NULL */
		memcpy(buf + *off + 4, val, len);
	memset(buf + *off + 4 + len, 0, RTE_ALIGN(len, 4) - len);
	*off += 4 + RTE_ALIGN(len, 4);
}

/*
 * The Interface Description Block of the captured port (pcapng, section 4.2):
 * Ethernet link type, the snap length, and options naming the port, with
 * nanosecond timestamps as rte_pcapng_copy() writes them.
 */
static int
capture_write_idb(struct capture *cap, const struct vhu_port *port)
{
	const uint32_t type = 1, snaplen = cap->snaplen;
	const uint16_t linktype = 1, reserved = 0; /* LINKTYPE_ETHERNET */
	const uint8_t tsresol = 9;		   /* 10^-9 s */
	uint8_t buf[1024];
	char name[VHU_PORT_NAME_LEN + 16], desc[256];
	size_t off = 8;
	uint32_t len;
	struct iovec iov;

	snprintf(name, sizeof(name), "vhu%u:%s", port->id, port->name);
	snprintf(desc, sizeof(desc), "vhu-pmd port %u: %s", port->id, port->devstr);
	memcpy(buf, &type, 4);
	memcpy(buf + off, &linktype, 2);
	memcpy(buf + off + 2, &reserved, 2);
	memcpy(buf + off + 4, &snaplen, 4);
	off += 8;
	idb_option(buf, &off, 2, name, strlen(name));	   /* if_name */
	idb_option(buf, &off, 3, desc, strlen(desc));	   /* if_description */
	idb_option(buf, &off, 6, port->mac.addr_bytes, 6); /* if_MACaddr */
	idb_option(buf, &off, 9, &tsresol, 1);		   /* if_tsresol */
	idb_option(buf, &off, 0, NULL, 0);		   /* opt_endofopt */
	len = off + 4;
	memcpy(buf + 4, &len, 4);
	memcpy(buf + off, &len, 4);
	iov = (struct iovec){.iov_base = buf, .iov_len = len};
	return writev_all(cap->fd, &iov, 1);
}

static void
capture_free(struct capture *cap)
{
	if (cap->pcapng != NULL)
		rte_pcapng_close(cap->pcapng); /* closes fd */
	else if (cap->fd >= 0)
		close(cap->fd);
	rte_ring_free(cap->ring);
	rte_mempool_free(cap->mp);
	rte_free(cap);
}

/* The pool and the ring of a capture. Returns 0 or -errno after printing why. */
static int
capture_alloc_copies(struct capture *cap, const struct vhu_port *port)
{
	uint32_t room = RTE_PKTMBUF_HEADROOM + rte_pcapng_mbuf_size(cap->snaplen);
	unsigned int nb = POOL_BYTES / (room + sizeof(struct rte_mbuf));
	char name[RTE_MEMPOOL_NAMESIZE];

	nb = RTE_MIN(nb, (unsigned int)POOL_MBUFS_MAX);
	nb = RTE_MAX(nb, (unsigned int)POOL_MBUFS_MIN);
	snprintf(name, sizeof(name), "vhu_cap_%u", port->id);
	cap->mp = rte_pktmbuf_pool_create(name, nb, POOL_CACHE, 0, room, port->socket_id);
	if (cap->mp == NULL && rte_errno == ENOMEM)
		cap->mp = rte_pktmbuf_pool_create(name, nb, POOL_CACHE, 0, room, SOCKET_ID_ANY);
	if (cap->mp == NULL) {
		pmd_error("capture on port %u: cannot create a pool of %u mbufs of %u bytes: %s; "
			  "give EAL more memory (-m) or a smaller SNAPLEN",
			  port->id, nb, room, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	cap->ring = rte_ring_create(name, RING_SIZE, port->socket_id, RING_F_SC_DEQ);
	if (cap->ring == NULL) {
		pmd_error("capture on port %u: cannot create its ring: %s; give EAL more memory "
			  "(-m)",
			  port->id, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

/* Open the file and write its header blocks. Returns 0 or -errno after printing why. */
static int
capture_open_file(struct capture *cap, const struct vhu_port *port)
{
	char os[2 * sizeof(((struct utsname *)NULL)->release) + 2], app[128], comment[128];
	struct utsname uts;
	int rc;

	cap->fd = open(cap->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (cap->fd < 0) {
		rc = -errno;
		pmd_error("capture on port %u: cannot open %s for writing: %s; check the "
			  "directory exists and is writable",
			  port->id, cap->path, strerror(-rc));
		return rc;
	}
	if (uname(&uts) == 0)
		snprintf(os, sizeof(os), "%s %s", uts.sysname, uts.release);
	else
		snprintf(os, sizeof(os), "Linux");
	snprintf(app, sizeof(app), PMD_NAME " %s (%s)", VHU_VERSION, rte_version());
	snprintf(comment, sizeof(comment), "port %u: %s", port->id, port->name);
	/* The library writes the section header, then one interface block per ethdev. */
	cap->if_index = rte_eth_dev_count_avail();
	cap->pcapng = rte_pcapng_fdopen(cap->fd, os, NULL, app, comment);
	if (cap->pcapng == NULL) {
		rc = -rte_errno;
		pmd_error("capture on port %u: cannot write the pcapng header to %s: %s", port->id,
			  cap->path, rte_strerror(rte_errno));
		return rc != 0 ? rc : -EIO;
	}
	rc = capture_write_idb(cap, port);
	if (rc != 0)
		pmd_error("capture on port %u: cannot write to %s: %s", port->id, cap->path,
			  strerror(-rc));
	return rc;
}

void
capture_show(const struct pmd *pmd, const struct vhu_port *port)
{
	const struct capture *cap = pmd->captures[port->id];

	if (cap == NULL) {
		printf("Capture: off\n");
		return;
	}
	printf("Capture: running to %s (snaplen %" PRIu32 "), %" PRIu64 " packets (%" PRIu64
	       " bytes) written so far, %" PRIu64 " left out\n",
	       cap->path, cap->snaplen, __atomic_load_n(&cap->written, __ATOMIC_RELAXED),
	       __atomic_load_n(&cap->written_bytes, __ATOMIC_RELAXED),
	       __atomic_load_n(&cap->lost_nombuf, __ATOMIC_RELAXED) +
		       __atomic_load_n(&cap->lost_ring, __ATOMIC_RELAXED));
}

/* --- commands --------------------------------------------------------------------- */

int
cmd_capture_start(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct vhu_port *port = vhu_port_get((uint16_t)strtoul(argv[0], NULL, 10));
	char tname[RTE_MAX_THREAD_NAME_LEN];
	unsigned long snaplen = SNAPLEN_DEFAULT;
	struct capture *cap;
	int rc;

	if (argc > 2 && !pmd_parse_uint(argv[2], SNAPLEN_MIN, SNAPLEN_MAX, &snaplen)) {
		pmd_error("capture start: SNAPLEN %s is not valid; give the bytes to keep of each "
			  "packet, %u..%u (default %u)",
			  argv[2], SNAPLEN_MIN, SNAPLEN_MAX, SNAPLEN_DEFAULT);
		return -EINVAL;
	}
	if (strlen(argv[1]) >= PATH_MAX) {
		pmd_error("capture start: the file name is too long (%u bytes at most)",
			  PATH_MAX - 1);
		return -EINVAL;
	}
	if (pmd->captures[port->id] != NULL) {
		pmd_error("port %u is already being captured to %s; 'capture stop %u' first",
			  port->id, pmd->captures[port->id]->path, port->id);
		return -EBUSY;
	}
	cap = rte_zmalloc("vhu_capture", sizeof(*cap), RTE_CACHE_LINE_SIZE);
	if (cap == NULL) {
		pmd_error("out of memory for a capture; give EAL more (-m)");
		return -ENOMEM;
	}
	cap->fd = -1;
	cap->port_id = port->id;
	cap->snaplen = snaplen;
	cap->tap.copy = capture_copy;
	cap->tap.submit = capture_submit;
	snprintf(cap->path, sizeof(cap->path), "%s", argv[1]);
	rc = capture_alloc_copies(cap, port);
	if (rc == 0)
		rc = capture_open_file(cap, port);
	if (rc != 0)
		goto free_cap;
	snprintf(tname, sizeof(tname), "vhu-cap-%u", port->id);
	rc = rte_ctrl_thread_create(&cap->writer, tname, NULL, capture_writer, cap);
	if (rc != 0) {
		pmd_error("capture on port %u: cannot start its writer thread: %s", port->id,
			  strerror(rc));
		rc = -rc;
		goto free_cap;
	}
	rc = vhu_port_tap_set(port, &cap->tap);
	if (rc != 0) {
		pmd_error("capture on port %u: the port has a tap already (%s)", port->id,
			  strerror(-rc));
		__atomic_store_n(&cap->stop, true, __ATOMIC_RELEASE);
		pthread_join(cap->writer, NULL);
		goto free_cap;
	}
	pmd->captures[port->id] = cap;
	printf("Port %u: capturing received and sent packets to %s (pcapng, snaplen %" PRIu32 ")\n",
	       port->id, cap->path, cap->snaplen);
	return 0;

free_cap:
	capture_free(cap);
	return rc;
}

void
capture_stop_port(struct pmd *pmd, const struct vhu_port *port)
{
	struct capture *cap = pmd->captures[port->id];
	uint64_t lost_nombuf, lost_ring;

	if (cap == NULL)
		return;
	vhu_port_tap_set(vhu_port_get(port->id), NULL);
	/* After a grace period no lcore is inside the tap: every copy is on the ring. */
	vhu_rcu_synchronize();
	/* Release: pairs with the acquire in capture_writer(). */
	__atomic_store_n(&cap->stop, true, __ATOMIC_RELEASE);
	pthread_join(cap->writer, NULL);
	pmd->captures[port->id] = NULL;
	lost_nombuf = __atomic_load_n(&cap->lost_nombuf, __ATOMIC_RELAXED);
	lost_ring = __atomic_load_n(&cap->lost_ring, __ATOMIC_RELAXED);
	printf("Port %u: capture stopped: %" PRIu64 " packets (%" PRIu64 " bytes) written to %s; "
	       "%" PRIu64 " left out for want of a copy buffer, %" PRIu64
	       " because the writer fell behind\n",
	       port->id, cap->written, cap->written_bytes, cap->path, lost_nombuf, lost_ring);
	if (cap->write_errno != 0)
		pmd_error("writing %s failed: %s; the capture ends at the first failed write",
			  cap->path, strerror(cap->write_errno));
	capture_free(cap);
}

int
cmd_capture_stop(struct pmd *pmd, unsigned int argc, char **argv)
{
	struct vhu_port *port = vhu_port_get((uint16_t)strtoul(argv[0], NULL, 10));

	if (pmd->captures[port->id] == NULL) {
		pmd_error("port %u is not being captured; 'capture start %u FILE' starts it",
			  port->id, port->id);
		return -EALREADY;
	}
	capture_stop_port(pmd, port);
	return 0;
}
