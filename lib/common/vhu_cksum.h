/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Internet checksum (RFC 1071) of bytes spread over an mbuf's segments,
 * shared by the backend (a checksum the guest cannot finish) and vhu-pmd's
 * engines.
 *
 * Not rte_raw_cksum_mbuf(): DPDK 22.11's truncates a segment's 32-bit sum to
 * 16 bits before it swaps it into place after an odd number of bytes, so the
 * carries of any segment longer than a few dozen bytes that follows an
 * odd-length one are lost and the checksum is wrong (test_cksum.c shows it).
 * Here each segment's sum is folded to 16 bits first, which keeps them.
 */
#ifndef VHU_CKSUM_H
#define VHU_CKSUM_H

#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

/* Fold a 32-bit one's complement sum to 16 bits (not inverted). */
static inline uint16_t
vhu_cksum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * The folded sum (not inverted) of 'len' bytes of 'm' from offset 'off', in
 * *out. Returns 0, or -1 if the packet (or its chain of segments) is shorter.
 * Any thread; reads the mbuf only.
 */
static inline int
vhu_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint16_t *out)
{
	const struct rte_mbuf *seg = m;
	uint32_t done = 0, sum = 0, n, s;

	if (off > m->pkt_len || len > m->pkt_len - off)
		return -1;
	while (seg != NULL && off >= seg->data_len) {
		off -= seg->data_len;
		seg = seg->next;
	}
	for (; done < len; seg = seg->next, off = 0) {
		if (seg == NULL)
			return -1; /* segments shorter than pkt_len says */
		n = RTE_MIN((uint32_t)seg->data_len - off, len - done);
		s = rte_raw_cksum(rte_pktmbuf_mtod_offset(seg, const void *, off), n);
		/* After an odd number of bytes, this segment's bytes sit in swapped
		 * lanes; s is folded, so the swap loses nothing. */
		sum += (done & 1) != 0 ? rte_bswap16((uint16_t)s) : s;
		done += n;
	}
	*out = vhu_cksum_fold(sum);
	return 0;
}

#endif /* VHU_CKSUM_H */
