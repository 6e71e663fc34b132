/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The process-wide A/B variant (vhu_vhost_ab_set(), vhu_vhost.h): 0 unless a
 * developer compares two code paths in one run (vhu-pmd --ab-period). One
 * variable, shared by the backend library and the front-end, so one switch
 * flips both. Code under experiment reads it once per burst (or refill
 * batch) with a relaxed load, never per packet: the variant orders nothing
 * else. The built-in experiment: variant 1 turns the write prefetches off
 * (vhu_prefetch_write_on(), vhu_prefetch.h).
 */
#ifndef VHU_AB_H
#define VHU_AB_H

extern unsigned int vhu_ab_variant;

#endif /* VHU_AB_H */
