# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Host side of the QEMU guest tests; source it after scripts/lib.sh. The guest
# is the host's own kernel with a busybox initramfs built here at run time,
# holding /init (the test's script), /lib/vhu-guest.sh (guest_lib.sh) and the
# virtio modules.
#
# Environment:
#   VHU_QEMU           QEMU binary (default: qemu-system-x86_64)
#   VHU_QEMU_KERNEL    guest kernel (default: newest /boot/vmlinuz-*); its
#                      modules are taken from /lib/modules/<version>
#   VHU_QEMU_BUSYBOX   statically linked busybox (default: busybox in PATH)

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# qemu_guest_require APPLET...: sets qemu, kernel, kver, moddir and busybox, or
# skips the test when one of them, or a busybox applet the guest needs, is missing.
qemu_guest_require() {
	local applet
	qemu=${VHU_QEMU:-qemu-system-x86_64}
	command -v "$qemu" >/dev/null 2>&1 ||
		skip "$qemu not found; install it with 'apt-get install qemu-system-x86' or set VHU_QEMU"
	kernel=${VHU_QEMU_KERNEL:-$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
	[ -n "$kernel" ] ||
		skip "no kernel in /boot; install one with 'apt-get install linux-image-amd64'" \
			"or set VHU_QEMU_KERNEL"
	[ -f "$kernel" ] || skip "kernel $kernel does not exist; set VHU_QEMU_KERNEL to a kernel image"
	[ -r "$kernel" ] ||
		skip "kernel $kernel is not readable by this user; run as root or set" \
			"VHU_QEMU_KERNEL to a readable copy"
	kver=${kernel##*/vmlinuz-}
	moddir=/lib/modules/$kver
	[ -r "$moddir/modules.dep" ] ||
		skip "no $moddir/modules.dep for kernel $kernel; install the matching linux-image package"
	busybox=${VHU_QEMU_BUSYBOX:-$(command -v busybox 2>/dev/null)}
	[ -x "${busybox:-/nonexistent}" ] ||
		skip "busybox not found; install it with 'apt-get install busybox-static' or set VHU_QEMU_BUSYBOX"
	# The initramfs has no C library, so busybox must be linked statically.
	if ldd "$busybox" >/dev/null 2>&1; then
		skip "$busybox is dynamically linked; install 'busybox-static' or set VHU_QEMU_BUSYBOX"
	fi
	for applet in "$@"; do
		"$busybox" --list 2>/dev/null | grep -qx "$applet" ||
			skip "$busybox has no '$applet' applet; install Debian's 'busybox-static' or set" \
				"VHU_QEMU_BUSYBOX to a busybox that has it"
	done
}

if command -v cpio >/dev/null 2>&1; then
	cpio_create() { cpio --quiet -o -H newc -R 0:0; }
else
	cpio_create() { "$busybox" cpio -o -H newc; }
fi

# Appends to $resolved the modules.dep paths needed to load module $1,
# dependencies first, each once. A module built into the kernel needs none.
resolve_module() {
	local name=$1 line path dep
	grep -q "/$name\.ko" "$moddir/modules.builtin" 2>/dev/null && return 0
	line=$(grep -E "(^|/)$name\.ko(\.(xz|zst|gz))?:" "$moddir/modules.dep") || return 1
	path=${line%%:*}
	case " $resolved " in *" $path "*) return 0 ;; esac
	for dep in ${line#*:}; do
		dep=${dep##*/}
		resolve_module "${dep%%.ko*}" || return 1
	done
	resolved="$resolved $path"
}

# build_initramfs INIT [MODULE...]: $VHU_WORK/initramfs.cpio with INIT as /init
# and the modules (default: virtio_pci virtio_net) with their dependencies. A
# test that needs more files in the guest puts them under $VHU_WORK/initramfs
# before the call.
build_initramfs() {
	local root=$VHU_WORK/initramfs init=$1 mod src dst
	shift
	[ $# -gt 0 ] || set -- virtio_pci virtio_net
	mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" \
		"$root/lib/modules" || return 1
	cp "$busybox" "$root/bin/busybox" || return 1
	cp "$init" "$root/init" && chmod 755 "$root/init" || return 1
	cp "$(dirname "${BASH_SOURCE[0]}")/guest_lib.sh" "$root/lib/vhu-guest.sh" || return 1
	resolved=
	for mod in "$@"; do
		resolve_module "$mod" || {
			vhu_log "kernel $kver has no module $mod in $moddir and does not build it in"
			return 1
		}
	done
	: >"$root/lib/modules/load.list"
	for mod in $resolved; do
		src=$moddir/$mod
		dst=${mod##*/}
		case "$src" in
		*.ko.xz | *.ko.zst | *.ko.gz)
			local tool
			case "$src" in *.xz) tool=xz ;; *.zst) tool=zstd ;; *) tool=gzip ;; esac
			command -v "$tool" >/dev/null 2>&1 ||
				skip "kernel $kver's modules are compressed with $tool, which is not" \
					"installed; install it with 'apt-get install $tool'"
			;;
		esac
		case "$src" in
		*.ko.xz) dst=${dst%.xz}; xz -dc "$src" >"$root/lib/modules/$dst" ;;
		*.ko.zst) dst=${dst%.zst}; zstd -qdc "$src" >"$root/lib/modules/$dst" ;;
		*.ko.gz) dst=${dst%.gz}; gzip -dc "$src" >"$root/lib/modules/$dst" ;;
		*) cp "$src" "$root/lib/modules/$dst" ;;
		esac || {
			vhu_log "cannot unpack $src"
			return 1
		}
		echo "$dst" >>"$root/lib/modules/load.list"
	done
	(cd "$root" && find . | cpio_create) >"$VHU_WORK/initramfs.cpio"
}

# guest_line LOG TAG: the last line of the guest's console log LOG that starts
# with the word TAG, carriage returns removed; nothing while there is none.
guest_line() {
	[ -f "$1" ] || return 0
	tr -d '\r' <"$1" | grep "^$2 " | tail -n 1
}

# guest_field LINE NAME: the value of NAME in LINE, a guest's result line of
# NAME=VALUE words; empty when LINE has no such word.
guest_field() {
	local f
	for f in $1; do
		case "$f" in "$2="*) echo "${f#*=}"; return ;; esac
	done
}
