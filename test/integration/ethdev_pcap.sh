#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test of the ethdev port with DPDK's net_pcap: a capture of known
# frames, 64 to 9000 bytes, written here, is replayed through vhost-user and
# virtio-user in both directions and must arrive byte for byte, in order:
#
#   in.pcap -> net_pcap0 --io--> vhost-user ==> virtio-user --io--> net_pcap1 -> out.pcap
#   in.pcap -> net_pcap1 --io--> virtio-user ==> vhost-user --io--> net_pcap0 -> back.pcap
#
# One vhu-pmd holds the four ports (0 and 1, 2 and 3 are forwarding pairs);
# forwarding starts once the vhost-user link is up, so that nothing meets a
# ring that is not ready. The frames fit in the rings at once: nothing may be
# dropped even if the forwarding lcore falls behind.
#
# Exit status: 0 pass, 1 fail, 77 skip (no python3, or DPDK has no net_pcap).
# Environment: VHU_PMD, and those of scripts/lib.sh.

set -u
. "$(dirname "$0")/../shell/shell_lib.sh"

command -v python3 >/dev/null 2>&1 || {
	echo "SKIP: python3 is needed to write and compare the captures" >&2
	exit 77
}
sh_require_pmd
vhu_init_work
log=$VHU_WORK/pmd.log
in=$VHU_WORK/in.pcap
out=$VHU_WORK/out.pcap
back=$VHU_WORK/back.pcap

# pcap MODE ARGS: write the input capture (MODE write FILE), count the frames of
# one (count FILE) or compare two (compare IN OUT), in python3: the classic pcap format, little-endian,
# Ethernet link type, a 65535-byte snapshot.
pcap() {
	python3 - "$@" <<'EOF'
import random
import struct
import sys

HDR = struct.Struct('<IHHiIII')
REC = struct.Struct('<IIII')


def frames():
    sizes = [64, 65, 100, 127, 128, 255, 256, 511, 512, 1023, 1024, 1500, 1514, 1518,
             1519, 2000, 2047, 2048, 2049, 3000, 4096, 6000, 8191, 8192, 8999, 9000]
    rnd = random.Random(13)
    sizes += [rnd.randint(64, 9000) for _ in range(24)]
    for seq, size in enumerate(sizes):
        # Locally administered unicast addresses, the IEEE local experimental
        # EtherType, then the frame's number and bytes that differ per frame.
        head = bytes.fromhex('020000000001' '020000000002' '88b5') + struct.pack('>I', seq)
        yield head + bytes(rnd.getrandbits(8) for _ in range(size - len(head)))


def read(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic = HDR.unpack_from(data)[0] if len(data) >= HDR.size else 0
    if magic not in (0xa1b2c3d4, 0xa1b23c4d):
        sys.exit(f'{path}: not a little-endian pcap file')
    off, pkts = HDR.size, []
    while off + REC.size <= len(data):
        _, _, caplen, wirelen = REC.unpack_from(data, off)
        off += REC.size
        pkts.append((data[off:off + caplen], wirelen))
        off += caplen
    return pkts


if sys.argv[1] == 'write':
    with open(sys.argv[2], 'wb') as f:
        f.write(HDR.pack(0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames()):
            f.write(REC.pack(i, 0, len(frame), len(frame)))
            f.write(frame)
    sys.exit(0)
if sys.argv[1] == 'count':
    print(len(read(sys.argv[2])))
    sys.exit(0)
want, got = read(sys.argv[2]), read(sys.argv[3])
for i, (w, g) in enumerate(zip(want, got)):
    if g[0] != w[0] or g[1] != len(w[0]):
        diff = next((j for j in range(min(len(w[0]), len(g[0]))) if w[0][j] != g[0][j]), None)
        sys.exit(f'frame {i} of {len(w[0])} bytes arrived as {len(g[0])} bytes '
                 f'(wire length {g[1]}), first difference at byte {diff}')
if len(got) != len(want):
    sys.exit(f'{len(got)} frames arrived, {len(want)} were sent')
print(f'{len(got)} frames of {min(len(p) for p, _ in want)} to '
      f'{max(len(p) for p, _ in want)} bytes, identical')
EOF
}

pcap write "$in" || sh_fail "cannot write $in"
nb=$(pcap count "$in") || sh_fail "cannot read back $in"

sock=$VHU_WORK/vhost.sock
sh_start pmd "$log" 0,1 --forward-mode=io \
	--port "ethdev,dev=net_pcap0,rx_pcap=$in,tx_pcap=$back" \
	--port "vhost-user,iface=$sock" \
	--port "virtio-user,path=$sock" \
	--port "ethdev,dev=net_pcap1,rx_pcap=$in,tx_pcap=$out"
if grep -q "cannot probe device 'net_pcap0" "$log"; then
	echo "SKIP: DPDK's net_pcap driver is not available to vhu-pmd" >&2
	exit 77
fi

for ((i = 0; i < 100; i++)); do
	sh_cmd "show port info 1"
	grep -q '^Link status: up' <<<"$SH_OUT" && break
	sleep 0.1
done
sh_expect '^Link status: up' "the vhost-user port's link"
sh_ok start
# Both captures carry nb frames, then nothing: wait for both to have arrived.
for ((i = 0; i < 100; i++)); do
	sh_port_field 3 TX-packets
	to_out=$SH_VAL
	sh_port_field 0 TX-packets
	to_back=$SH_VAL
	[ "$to_out" -ge "$nb" ] && [ "$to_back" -ge "$nb" ] && break
	sleep 0.2
done
sh_ok stop
sh_cmd "show port stats all"
stats=$SH_OUT
sh_quit
if [ "$to_out" -ne "$nb" ] || [ "$to_back" -ne "$nb" ]; then
	printf '%s\n' "$stats" >&2
	sh_fail "$nb frames went in each way; $to_out reached out.pcap, $to_back back.pcap"
fi

verdict=$(pcap compare "$in" "$out" 2>&1) || sh_fail "host to guest (out.pcap): $verdict"
vhu_log "host to guest: $verdict"
verdict=$(pcap compare "$in" "$back" 2>&1) || sh_fail "guest to host (back.pcap): $verdict"
vhu_log "guest to host: $verdict"
vhu_log "PASS: a capture replayed through vhost-user and virtio-user arrives byte for byte"
