/* SPDX-License-Identifier: BSD-3-Clause */
/* The A/B variant (vhu_ab.h); set by vhu_vhost_ab_set(). */
#include "vhu_ab.h"

unsigned int vhu_ab_variant;
