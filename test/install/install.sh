#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# libvhu as an outside program sees it: install the build into a temporary
# root (meson install --destdir), check that exactly the public headers, the
# shared and static libraries and libvhu.pc are there and that the shared
# library exports exactly the symbols of its version script, all of them
# declared in the installed headers; then build examples/vhu-echo with its
# own Makefile against the installed tree (pkg-config --cflags --libs libvhu)
# and have vhu's frontend (vu_traffic over a virtio-user port) pass traffic
# through it: every frame must come back byte for byte.
#
#   install.sh RING QUEUES [thread|app-loop]
#   install.sh blk
#
# thread (the default): the library's control thread serves the socket;
# app-loop: vhu-echo --app-loop runs the control loop itself between bursts.
# blk: build examples/vhu-ramdisk the same way instead, a blk device on the
# installed vhu_blk.h, and drive it with blk_client.py (reads, writes,
# flush, discard, write-zeroes, GET_ID, hostile chains).
#
# Exit status: 0 pass, 1 fail, 77 skip. Environment: VHU_BUILD_DIR,
# VHU_SOURCE_DIR, VU_TRAFFIC, VHU_PUBLIC_HEADERS (space-separated names),
# VHU_SANITIZE (meson's b_sanitize), and those of scripts/lib.sh.

set -u
. "$(dirname "$0")/../../scripts/lib.sh"

ring=${1:-split}
queues=${2:-1}
mode=${3:-thread}
VHU_PROG="install-$ring-$queues-$mode"

fail() {
	vhu_log "FAIL: $*"
	local role
	for role in install make backend frontend; do
		[ -f "$VHU_WORK/$role.log" ] && vhu_show_log "$role" "$VHU_WORK/$role.log" 60
	done
	exit 1
}

[ -x "$VU_TRAFFIC" ] || vhu_die "vu_traffic not found at $VU_TRAFFIC; build the tests"
command -v make >/dev/null || { echo "SKIP: make is not installed" >&2; exit 77; }
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config is not installed" >&2; exit 77; }
vhu_init_work
root=$VHU_WORK/root

# --- the installed tree ---------------------------------------------------------
meson install -C "$VHU_BUILD_DIR" --destdir "$root" --no-rebuild --quiet \
	>"$VHU_WORK/install.log" 2>&1 || fail "meson install failed"
pc=$(find "$root" -name libvhu.pc -print -quit)
[ -n "$pc" ] || fail "no libvhu.pc installed"
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
for f in libvhu.so libvhu.a; do
	[ -e "$libdir/$f" ] || fail "$f is not installed beside libvhu.pc ($libdir)"
done
incdir=$(find "$root" -type d -path '*/include/vhu' -print -quit)
[ -n "$incdir" ] || fail "no include/vhu directory installed"
got=$(cd "$incdir" && ls | sort | tr '\n' ' ')
want=$(echo "$VHU_PUBLIC_HEADERS" | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ')
[ "$got" = "$want" ] || fail "installed headers are '$got', expected the public ones '$want'"
headers=$(find "$root" -name '*.h' | wc -l)
[ "$headers" = "$(echo "$want" | wc -w)" ] || fail "$headers headers installed; only the public ones may be"

# Exported = the version script's globals = what the headers declare.
exported=$(nm -D --defined-only "$libdir/libvhu.so" | awk '$2 == "T" || $2 == "D" || $2 == "B" {sub(/@.*/, "", $3); print $3}' | sort -u)
mapped=$(sed -n '/global:/,/local:/p' "$VHU_SOURCE_DIR/lib/libvhu/libvhu.map" | grep -oE '^[[:space:]]*vhu_[a-z0-9_]+;' | tr -d ' \t;' | sort -u)
declared=$(cat "$incdir"/*.h | grep -E '^[a-z].*[ *]vhu_[a-z0-9_]+\(' | grep -oE 'vhu_[a-z0-9_]+\(' | tr -d '(' | sort -u)
[ -n "$exported" ] || fail "libvhu.so exports nothing"
[ "$exported" = "$mapped" ] || fail "libvhu.so exports differ from libvhu.map: $(diff <(echo "$exported") <(echo "$mapped") | grep '^[<>]' | tr '\n' ' ')"
[ "$exported" = "$declared" ] || fail "libvhu.so exports differ from the functions the headers declare: $(diff <(echo "$exported") <(echo "$declared") | grep '^[<>]' | tr '\n' ' ')"
vhu_log "installed: $(echo "$exported" | wc -l) exported functions, headers: $got"

# --- examples, built from the installed tree only -----------------------------------
# build_example DIR PROGRAM: copy examples/DIR, make it against the installed tree.
build_example() {
	mkdir -p "$VHU_WORK/$1"
	cp "$VHU_SOURCE_DIR/examples/$1/"*.c "$VHU_SOURCE_DIR/examples/$1/Makefile" "$VHU_WORK/$1/"
	local cflags="-O2 -g -Werror"
	[ "${VHU_SANITIZE:-none}" != none ] && cflags="$cflags -fsanitize=$VHU_SANITIZE"
	# libvhu.pc is relocatable (its prefix is relative to its own directory).
	PKG_CONFIG_PATH=$pcdir make -C "$VHU_WORK/$1" CFLAGS="$cflags" >"$VHU_WORK/make.log" 2>&1 ||
		fail "examples/$1 does not build against the installed libvhu"
	grep -q -- "-I$pcdir/../../../include/vhu" "$VHU_WORK/make.log" ||
		fail "examples/$1 was not compiled with the installed headers"
	ldd "$VHU_WORK/$1/$2" | grep -q "libvhu.so.0 => $libdir/" ||
		fail "$2 is not linked against the installed libvhu.so: $(ldd "$VHU_WORK/$1/$2" | grep vhu)"
}
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

if [ "$ring" = blk ]; then
	command -v python3 >/dev/null || { echo "SKIP: python3 is not installed" >&2; exit 77; }
	build_example vhu-ramdisk vhu-ramdisk
	sock=$VHU_WORK/blk.sock
	vhu_eal backend 0
	vhu_spawn backend "$VHU_WORK/backend.log" "$VHU_WORK/vhu-ramdisk/vhu-ramdisk" \
		"${VHU_EAL_ARGS[@]}" -- --socket "$sock" --size 16
	vhu_wait_socket backend "$sock" || fail "vhu-ramdisk did not come up"
	python3 "$VHU_SOURCE_DIR/test/integration/blk_client.py" --socket "$sock" \
		--log "$VHU_WORK/backend.log" --mode rw >"$VHU_WORK/frontend.log" 2>&1 ||
		fail "blk_client.py against vhu-ramdisk: $(tail -1 "$VHU_WORK/frontend.log")"
	vhu_stop backend 10 || fail "vhu-ramdisk did not exit cleanly on SIGINT"
	grep -E 'served [1-9][0-9]* requests' "$VHU_WORK/backend.log" >&2 ||
		fail "vhu-ramdisk reports no request served"
	vhu_log "PASS: $(tail -1 "$VHU_WORK/frontend.log")"
	exit 0
fi

build_example vhu-echo vhu-echo

# --- traffic through it -------------------------------------------------------------
sock=$VHU_WORK/vhost.sock
vhu_eal backend 1
args=(--socket "$sock" --queues "$queues")
[ "$mode" = app-loop ] && args+=(--app-loop)
vhu_spawn backend "$VHU_WORK/backend.log" "$VHU_WORK/vhu-echo/vhu-echo" "${VHU_EAL_ARGS[@]}" -- \
	"${args[@]}"
vhu_wait_socket backend "$sock" || fail "vhu-echo did not come up"
keys="queues=$queues"
[ "$ring" = packed ] && keys="$keys,packed_vq=1"
need=$([ "$ring" = packed ] && echo RING_PACKED || echo VERSION_1)
vhu_eal frontend 0
echo "$VU_TRAFFIC ${VHU_EAL_ARGS[*]}" >"$VHU_WORK/frontend.log"
"$VU_TRAFFIC" "${VHU_EAL_ARGS[@]}" -- --frontend "virtio-user,path=$sock,$keys" \
	--queues "$queues" --sizes 64,1518 --count 20000 --require "$need" \
	>>"$VHU_WORK/frontend.log" 2>&1
rc=$?
grep -E '^(RESULT|SKIP)' "$VHU_WORK/frontend.log" >&2
[ $rc = 0 ] || fail "vu_traffic through vhu-echo exited with $rc"
vhu_stop backend 10 || fail "vhu-echo did not exit cleanly on SIGINT"
grep -E 'echoed [1-9][0-9]* packets' "$VHU_WORK/backend.log" >&2 ||
	fail "vhu-echo reports no packets echoed"
# It learnt of the front-end from the lifecycle callbacks, not by polling.
for what in 'the front-end started the device' 'the front-end disconnected'; do
	grep -q "vhu-echo: $sock: $what" "$VHU_WORK/backend.log" ||
		fail "vhu-echo's callbacks did not say '$what'"
done
vhu_log "PASS"
