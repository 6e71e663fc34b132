#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Prepares a machine to build and run vhu, then builds it. Idempotent: each
# step is skipped when it is already done.
#
#   scripts/setup.sh [--test]     (or: . scripts/setup.sh; vhu_setup [--test])
#
# 1. As root, installs the Debian packages that are missing (with --test, the
#    ones the test suites need as well), running apt-get update first if the
#    package lists are empty or out of date.
# 2. As root, reserves 2 GB of 2 MB hugepages and mounts them on /dev/hugepages
#    (dpdk-hugepages.py) unless that is done already; where it cannot (no
#    privileges, a container that forbids it), the processes run on ordinary
#    memory (--no-huge) instead, which is slower but works.
# 3. Builds with meson and ninja into VHU_BUILD_DIR (default <repo>/build),
#    re-using the build directory when there is one.
#
# Sourced, it leaves VHU_EAL_MEM (the EAL memory options every process should
# use: "--single-file-segments" on hugepages, "--no-huge -m 1024" without) and
# VHU_BUILD_DIR exported for the scripts that follow.
#
# Environment: VHU_NO_HUGE=1 forces --no-huge; VHU_EAL_MEM forces the EAL
# memory options; VHU_SKIP_PACKAGES=1 skips step 1; VHU_MESON_OPTIONS adds
# options to the first meson setup (e.g. "-Dbuildtype=debug").

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VHU_PACKAGES_BUILD="build-essential gcc meson ninja-build pkg-config libdpdk-dev dpdk dpdk-dev
	libnuma-dev libedit-dev liburing-dev python3 python3-pyelftools procps"
VHU_PACKAGES_TEST="qemu-system-x86 linux-image-amd64 busybox-static cpio clang libclang-rt-14-dev
	valgrind iproute2 tshark python3-matplotlib clang-format qemu-system-common
	openvswitch-switch-dpdk"

# Runs a command as root: directly when we are root, through sudo when that
# works without a password (CI runners), else fails.
vhu_as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		return 1
	fi
}

vhu_can_be_root() {
	vhu_as_root true 2>/dev/null
}

vhu_setup_packages() {
	local want=$VHU_PACKAGES_BUILD pkg missing=() updated=0
	[ "${1:-}" = --test ] && want="$want $VHU_PACKAGES_TEST"
	if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
		vhu_log "not a Debian system: install the equivalents of these yourself: $want"
		return 0
	fi
	for pkg in $want; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if ! vhu_can_be_root; then
		vhu_log "missing packages: ${missing[*]}; run this script as root, or install them" \
			"with 'apt-get install ${missing[*]}'"
		return 1
	fi
	# Fresh machines (and containers) come with empty package lists.
	for pkg in "${missing[@]}"; do
		if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [^(]'; then
			vhu_apt_update || return 1
			updated=1
			break
		fi
	done
	vhu_log "installing ${missing[*]}"
	vhu_apt_install "${missing[@]}" && return 0
	# Lists that name versions the mirror no longer has: update once, retry.
	if [ "$updated" = 0 ]; then
		vhu_apt_update && vhu_apt_install "${missing[@]}" && return 0
	fi
	vhu_log "apt-get install ${missing[*]} failed; see its messages above"
	return 1
}

vhu_apt_update() {
	vhu_log "updating the package lists (apt-get update)"
	vhu_as_root apt-get update -q && return 0
	vhu_log "apt-get update failed; check the network and /etc/apt/sources.list"
	return 1
}

vhu_apt_install() {
	vhu_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

vhu_setup_hugepages() {
	local sys=/sys/kernel/mm/hugepages/hugepages-2048kB total
	if [ "${VHU_NO_HUGE:-0}" = 1 ] || [ -n "${VHU_EAL_MEM:-}" ]; then
		return 0
	fi
	total=$(cat "$sys/nr_hugepages" 2>/dev/null || echo 0)
	# 2 GB of 2 MB pages, mounted: done already (by us or by the administrator).
	if [ "$total" -ge 1024 ] && [ -n "$(vhu_huge_mount)" ]; then
		return 0
	fi
	if ! vhu_can_be_root || ! command -v dpdk-hugepages.py >/dev/null 2>&1; then
		vhu_log "cannot set up hugepages (needs root and dpdk-hugepages.py);" \
			"running without them (--no-huge), which is slower"
		return 0
	fi
	vhu_as_root mkdir -p /dev/hugepages 2>/dev/null
	if [ "$total" = 0 ] && [ -z "$(vhu_huge_mount)" ]; then
		# Nothing uses hugepages yet, so the full set-up (clear, unmount,
		# reserve, mount) disturbs nobody.
		vhu_as_root dpdk-hugepages.py -p 2M --setup 2G >/dev/null 2>&1
	else
		# Someone uses hugepages already: add pages and mount, clear nothing.
		[ "$total" -lt 1024 ] && vhu_as_root dpdk-hugepages.py -p 2M --reserve 2G >/dev/null 2>&1
		[ -z "$(vhu_huge_mount)" ] && vhu_as_root dpdk-hugepages.py -p 2M --mount >/dev/null 2>&1
	fi
	if [ -z "$(vhu_huge_mount)" ] || [ "$(vhu_huge_free_mb)" -lt "$VHU_HUGE_NEED_MB" ]; then
		vhu_log "could not reserve and mount 2 MB hugepages (is this a container without" \
			"the privilege?); running without them (--no-huge), which is slower"
	fi
}

vhu_setup_build() {
	local dir=$VHU_BUILD_DIR
	local log=${TMPDIR:-/tmp}/vhu-meson-setup.$$.log again=
	if [ ! -f "$dir/build.ninja" ]; then
		# A directory a failed setup left behind is configured again, not wiped.
		[ -d "$dir/meson-private" ] && again=--reconfigure
		vhu_log "configuring $dir"
		# shellcheck disable=SC2086 # options are words
		if ! meson setup $again ${VHU_MESON_OPTIONS:-} "$dir" "$VHU_ROOT" >"$log" 2>&1; then
			cat "$log" >&2
			rm -f "$log"
			vhu_log "meson setup $dir failed (messages above)"
			return 1
		fi
		rm -f "$log"
	fi
	vhu_log "building in $dir"
	ninja -C "$dir" >"$dir/vhu-build.log" 2>&1 || {
		tail -n 60 "$dir/vhu-build.log" >&2
		vhu_log "the build failed (last lines above; all of it in $dir/vhu-build.log)"
		return 1
	}
}

# vhu_setup [--test]: the three steps; returns non-zero if packages are missing
# and cannot be installed, or if the build fails.
vhu_setup() {
	if [ "${VHU_SKIP_PACKAGES:-0}" != 1 ]; then
		vhu_setup_packages "$@" || return 1
	fi
	vhu_setup_hugepages
	VHU_EAL_MEM=$(vhu_eal_mem)
	export VHU_EAL_MEM VHU_BUILD_DIR
	vhu_log "EAL memory options: $VHU_EAL_MEM"
	vhu_setup_build
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	case "${1:-}" in
	'' | --test) ;;
	*)
		echo "usage: $0 [--test]" >&2
		exit 2
		;;
	esac
	vhu_setup "$@"
fi
