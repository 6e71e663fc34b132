#!/bin/busybox sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Shared by the /init scripts of the throwaway guests the QEMU tests boot
# (sourced as /lib/vhu-guest.sh): the mounts, the result line, the virtio
# modules and the virtio-net interface.

/bin/busybox mkdir -p /proc /sys /dev /bin /sbin /usr/bin /usr/sbin /tmp
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1

hold=0
# finish TEXT: print "VHU-QEMU-RESULT TEXT", the line the host side parses,
# then power off, or with hold=1 wait for the host to end the machine (so that
# it can read the backend's state while the device is still in use).
finish() {
	echo "VHU-QEMU-RESULT $*"
	sync
	if [ "$hold" = 1 ]; then
		while :; do sleep 60; done
	fi
	poweroff -f
	# poweroff -f does not return; if it does, exiting makes the kernel
	# panic and QEMU stop.
	exit 1
}

# Load the modules listed in /lib/modules/load.list, dependencies first.
load_modules() {
	echo "vhu guest: kernel $(uname -r), $(nproc) CPU(s), loading modules"
	[ -f /lib/modules/load.list ] || return 0
	while read -r mod; do
		[ -n "$mod" ] || continue
		insmod "/lib/modules/$mod" || finish "error=insmod-failed module=$mod"
	done </lib/modules/load.list
}

# The virtio-net interface into $iface and its sysfs directory into $sys. The
# virtio-pci probe is asynchronous: wait for the interface to appear.
find_iface() {
	local tries=0 dev
	iface=
	while [ -z "$iface" ] && [ $tries -lt 100 ]; do
		for dev in /sys/class/net/*; do
			[ -e "$dev/device/driver" ] || continue
			case "$(readlink "$dev/device/driver")" in
			*/virtio_net) iface=${dev##*/} ;;
			esac
		done
		[ -n "$iface" ] || sleep 0.1
		tries=$((tries + 1))
	done
	[ -n "$iface" ] || finish "error=no-virtio-net-interface"
	sys=/sys/class/net/$iface
}

# iface_up ADDR/N: give $iface the address, bring it up and wait for the
# carrier, which the device reports once the backend is ready.
iface_up() {
	local tries=0
	ip link set lo up
	ip addr add "$1" dev "$iface" || finish "error=addr-failed iface=$iface"
	ip link set "$iface" up || finish "error=link-up-failed iface=$iface"
	while [ "$(cat "$sys/operstate")" != up ] && [ $tries -lt 100 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
}
