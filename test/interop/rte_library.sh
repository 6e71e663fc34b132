#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Which librte_vhost.so.23 each process of a test runs on.
#
#   rte_library.sh
#
# meson puts the directory of vhu's librte_vhost.so.23 in LD_LIBRARY_PATH of
# a test that depends on it (this one does, on purpose), and a DPDK
# application that finds it there runs on it without a word. The test
# scripts drop it (scripts/lib.sh) and give it back to the backend of a
# VHU_BACKEND=rte run alone. This test checks, in each process's
# /proc/PID/maps, that:
#   1. a reference run (VHU_BACKEND=dpdk: dpdk-testpmd's net_vhost) maps the
#      system's (DPDK's) library, though LD_LIBRARY_PATH named vhu's;
#   2. a VHU_BACKEND=rte run's backend maps vhu's library and logs the line
#      naming vhu, while its frontend (dpdk-testpmd's virtio-user, which
#      loads net_vhost's driver too) maps the system's.
#
# Exit status: 0 pass, 1 fail, 77 skip (no dpdk-testpmd, or a sanitizer
# build, whose library DPDK's binaries cannot load).

set -u
# What a leak looks like (meson's doing, or a user's): vhu's library first in
# LD_LIBRARY_PATH of the environment the test scripts are given.
root=$(cd "$(dirname "$0")/../.." && pwd)
export LD_LIBRARY_PATH=${VHU_BUILD_DIR:-$root/build}/lib/rte_vhost${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
case ":${LD_LIBRARY_PATH:-}:" in
*":$VHU_RTE_LIB_DIR:"*) vhu_die "scripts/lib.sh left $VHU_RTE_LIB_DIR in LD_LIBRARY_PATH" ;;
esac

VHU_PROG=rte-library
vhu_require_testpmd
[ -e "$VHU_RTE_LIB_DIR/librte_vhost.so.23" ] ||
	vhu_die "vhu's librte_vhost.so.23 not found in $VHU_RTE_LIB_DIR; build it with" \
		"'ninja -C $VHU_BUILD_DIR'"
vhu_init_work
sock=$VHU_WORK/vhost.sock

# 1. The reference run.
VHU_BACKEND=dpdk
vhu_require_backend
vhu_start_backend backend "$VHU_WORK/dpdk.log" "$sock" 0 --stats-period=3600
vhu_wait_socket backend "$sock" || vhu_die "DPDK's net_vhost did not come up"
vhu_require_vhost_lib backend system
vhu_stop backend || vhu_die "DPDK's net_vhost did not stop cleanly"
rm -f "$sock"

# 2. The rte run.
VHU_BACKEND=rte
vhu_require_backend
vhu_start_backend backend "$VHU_WORK/rte.log" "$sock" 0 --stats-period=3600
vhu_wait_socket backend "$sock" || vhu_die "net_vhost on vhu's library did not come up"
vhu_require_vhost_lib backend vhu "$VHU_WORK/rte.log"
vhu_start_frontend frontend "$VHU_WORK/frontend.log" "path=$sock,queues=1" --stats-period=3600
vhu_require_vhost_lib frontend system
vhu_stop frontend || vhu_die "the frontend did not stop cleanly"
vhu_stop backend || vhu_die "net_vhost on vhu's library did not stop cleanly"
vhu_log "PASS: the reference run and the frontend on DPDK's library, the rte backend on vhu's"
