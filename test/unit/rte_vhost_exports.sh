#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# vhu's librte_vhost.so.23 is a drop-in for DPDK 22.11's: same soname, and
# every symbol DPDK's library exports, each with DPDK's symbol version, and
# nothing else exported. Compared with the installed DPDK's library when there
# is one, and always with the version script the library is linked with.
#
#   rte_vhost_exports.sh LIBRARY VERSION_SCRIPT
#
# Exit status: 0 pass, 1 fail.

set -u
lib=$1 map=$2
dpdk_lib=${VHU_DPDK_RTE_VHOST:-}
if [ -z "$dpdk_lib" ]; then
	dpdk_lib=$(ldconfig -p 2>/dev/null | awk '$1 == "librte_vhost.so.23" { print $NF; exit }')
fi

fail() {
	echo "rte_vhost_exports: FAIL: $*" >&2
	exit 1
}

command -v objdump >/dev/null || fail "objdump not found (binutils)"
[ -e "$lib" ] || fail "$lib not found; build it with ninja"

# "VERSION SYMBOL" per exported function, sorted.
exports() {
	objdump -T "$1" | awk '$0 !~ /\*UND\*/ && $NF ~ /^rte_/ { print $(NF - 1), $NF }' | sort
}

soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = librte_vhost.so.23 ] || fail "$lib has soname '$soname', not librte_vhost.so.23"

ours=$(exports "$lib")
# Only what the version script names, and all of it.
extra=$(objdump -T "$lib" | awk '$0 !~ /\*UND\*/ && $2 == "g" && $NF !~ /^(rte_|DPDK_23|EXPERIMENTAL|INTERNAL)/ { print $NF }')
[ -z "$extra" ] || fail "$lib exports symbols DPDK's does not: $extra"
from_map=$(awk '
	/^[A-Z_0-9]+ *\{/ { node = $1; next }
	node != "" && $1 ~ /^rte_[a-z_0-9]+;$/ { sub(";", "", $1); print node, $1 }' "$map" | sort)
[ "$ours" = "$from_map" ] || fail "$lib's exports differ from $map:
$(diff <(echo "$ours") <(echo "$from_map"))"

if [ -n "$dpdk_lib" ] && [ -e "$dpdk_lib" ]; then
	theirs=$(exports "$dpdk_lib")
	[ "$ours" = "$theirs" ] || fail "exports differ from DPDK's $dpdk_lib (< vhu, > DPDK):
$(diff <(echo "$ours") <(echo "$theirs"))"
	echo "rte_vhost_exports: $(echo "$ours" | wc -l) symbols, as $dpdk_lib exports them"
else
	echo "rte_vhost_exports: DPDK's librte_vhost.so.23 is not installed;" \
		"checked against $map only"
fi
