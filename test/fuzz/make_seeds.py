#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of the fuzz targets (corpus/<target>/), and the
inputs that reproduce bugs found without the fuzzer (crashes/<target>/).

Each seed is a well-formed input that takes the target deep into the code:
whole handshakes with traffic for the message target, rings full of valid
chains of every shape for the ring targets. The fuzzer mutates from there.
The input layouts are described at the top of fuzz_msg.c, fuzz_ring.c and
fuzz_pkt.c.

    python3 test/fuzz/make_seeds.py      (rewrites the seed files)
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# vhost-user requests
GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE = 1, 2, 3, 4, 5
SET_LOG_BASE, SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 6, 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR = 12, 13, 14
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE = 15, 16, 17, 18
SEND_RARP, NET_SET_MTU, SET_BACKEND_REQ_FD, IOTLB_MSG = 19, 20, 21, 22
GET_CONFIG, SET_CONFIG, GET_INFLIGHT_FD, SET_INFLIGHT_FD = 24, 25, 31, 32
RESET_DEVICE, GET_MAX_MEM_SLOTS, ADD_MEM_REG, REM_MEM_REG = 34, 36, 37, 38
SET_STATUS, GET_STATUS = 39, 40

# feature bits
F_CSUM, F_GUEST_CSUM, F_MTU, F_GUEST_TSO4, F_GUEST_TSO6 = 0, 1, 3, 7, 8
F_HOST_TSO4, F_HOST_TSO6, F_MRG_RXBUF, F_MQ, F_LOG_ALL = 11, 12, 15, 22, 26
F_INDIRECT, F_EVENT_IDX, F_PROTOCOL, F_VERSION_1, F_IOMMU, F_PACKED = 28, 29, 30, 32, 33, 34
PF = {'MQ': 0, 'LOG_SHMFD': 1, 'RARP': 2, 'REPLY_ACK': 3, 'MTU': 4, 'BACKEND_REQ': 5,
      'CONFIG': 9, 'INFLIGHT_SHMFD': 12, 'RESET_DEVICE': 13, 'CONFIGURE_MEM_SLOTS': 15,
      'STATUS': 16}

DESC_F_NEXT, DESC_F_WRITE, DESC_F_INDIRECT = 1, 2, 4
PACKED_AVAIL, PACKED_USED = 1 << 7, 1 << 15
NEED_REPLY = 1 << 3


def bits(*b):
    v = 0
    for x in b:
        v |= 1 << x
    return v


def pf(*names):
    return bits(*(PF[n] for n in names))


# ---- the message target ----

UVA = 0x7f0000000000
GUEST_SIZE = 256 * 1024
KIND_GUEST, KIND_EVENTFD, KIND_MEMFD, KIND_MIX = 0, 1, 2, 3


def msg(req, payload=b'', nfds=0, kind=KIND_EVENTFD, flags=1, size=None, sz=0):
    op = nfds | (kind << 3) | (sz << 5)
    return bytes([op]) + struct.pack('<III', req, flags, len(payload) if size is None else size) \
        + payload


def u64(v):
    return struct.pack('<Q', v)


def state(index, num):
    return struct.pack('<II', index, num)


def addr(index, desc, used, avail, flags=0, log=0):
    return struct.pack('<IIQQQQ', index, flags, desc, used, avail, log)


def region(gpa, size, uva, off):
    return struct.pack('<QQQQ', gpa, size, uva, off)


def memory(*regions):
    return struct.pack('<II', len(regions), 0) + b''.join(regions)


def iotlb(iova, size, uaddr, perm, typ):
    return struct.pack('<QQQBB6x', iova, size, uaddr, perm, typ)


def inflight(mmap_size, mmap_offset, num_queues, queue_size):
    return struct.pack('<QQHH4x', mmap_size, mmap_offset, num_queues, queue_size)


def config(offset, data):
    return struct.pack('<III', offset, len(data), 0) + data


def gwrite(off, data):
    """Guest memory writes (op 0x80), 255 bytes at a time."""
    out = b''
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        out += bytes([0x80]) + struct.pack('<HB', off + i, len(chunk)) + chunk
    return out


def burst(qp, count, length):
    return bytes([0x81]) + struct.pack('<BBH', qp, count, length)


RING = 64
BUF_BASE = 0x8000      # packet buffers; rings sit below


def ring_area(i):
    return 0x1000 + i * 0x1800


def split_ring_msgs(index, size=RING, base=0, enable=True, kickfd=True):
    a = ring_area(index)
    out = msg(SET_VRING_NUM, state(index, size))
    out += msg(SET_VRING_ADDR, addr(index, UVA + a, UVA + a + 0x1000, UVA + a + 0x800))
    out += msg(SET_VRING_BASE, state(index, base))
    out += msg(SET_VRING_CALL, u64(index), nfds=1)
    out += msg(SET_VRING_KICK, u64(index), nfds=1) if kickfd else \
        msg(SET_VRING_KICK, u64(index | 0x100))
    if enable:
        out += msg(SET_VRING_ENABLE, state(index, 1))
    return out


def split_fill(index, n, rx, buf_len):
    """Descriptors, avail ring and buffers of n chains on ring 'index'."""
    a = ring_area(index)
    desc = b''
    bufs = b''
    for k in range(n):
        gpa = BUF_BASE + index * 0x2000 + k * buf_len
        desc += struct.pack('<QIHH', gpa, buf_len, DESC_F_WRITE if rx else 0, 0)
        if not rx:
            bufs += bytes(12) + bytes((k + j) & 0xff for j in range(buf_len - 12))
    avail = struct.pack('<HH', 0, n) + b''.join(struct.pack('<H', k) for k in range(n))
    out = gwrite(a, desc) + gwrite(a + 0x800, avail)
    if bufs:
        out += gwrite(BUF_BASE + index * 0x2000, bufs)
    return out


def packed_fill(index, n, rx, buf_len):
    a = ring_area(index)
    desc = b''
    bufs = b''
    for k in range(n):
        gpa = BUF_BASE + index * 0x2000 + k * buf_len
        flags = PACKED_AVAIL | (DESC_F_WRITE if rx else 0)
        desc += struct.pack('<QIHH', gpa, buf_len, k, flags)
        if not rx:
            bufs += bytes(12) + bytes((k * 3 + j) & 0xff for j in range(buf_len - 12))
    out = gwrite(a, desc)
    if bufs:
        out += gwrite(BUF_BASE + index * 0x2000, bufs)
    return out


def connect(pfeat, features):
    out = msg(GET_FEATURES)
    out += msg(GET_PROTOCOL_FEATURES)
    out += msg(SET_PROTOCOL_FEATURES, u64(pfeat))
    out += msg(SET_OWNER)
    out += msg(SET_FEATURES, u64(features))
    out += msg(SET_MEM_TABLE, memory(region(0, GUEST_SIZE, UVA, 0)), nfds=1, kind=KIND_GUEST)
    return out


BASE = bits(F_VERSION_1, F_PROTOCOL, F_INDIRECT, F_EVENT_IDX, F_MRG_RXBUF)
OFFLOAD = bits(F_CSUM, F_GUEST_CSUM, F_HOST_TSO4, F_HOST_TSO6, F_GUEST_TSO4, F_GUEST_TSO6)
ALL_PF = pf('MQ', 'REPLY_ACK', 'CONFIG', 'STATUS', 'LOG_SHMFD', 'RARP', 'MTU',
            'BACKEND_REQ', 'INFLIGHT_SHMFD', 'RESET_DEVICE', 'CONFIGURE_MEM_SLOTS')


def traffic(packed, pairs=1):
    out = b''
    for qp in range(pairs):
        fill = packed_fill if packed else split_fill
        out += fill(2 * qp, 8, True, 1024) + fill(2 * qp + 1, 8, False, 128)
        out += burst(qp, 8, 100) + burst(qp, 4, 1500)
    return out


def msg_seeds():
    s = {}
    for packed in (False, True):
        name = 'packed' if packed else 'split'
        f = BASE | OFFLOAD | (bits(F_PACKED) if packed else 0)
        base = 0x8000 if packed else 0  # packed: wrap counter 1, slot 0
        body = connect(ALL_PF, f)
        for i in range(2):
            body += split_ring_msgs(i, base=base)
        body += traffic(packed)
        body += msg(GET_VRING_BASE, state(1, 0)) + msg(GET_VRING_BASE, state(0, 0))
        body += msg(GET_STATUS) + msg(RESET_DEVICE)
        s['handshake-' + name] = body
        # Two queue pairs, REPLY_ACK on every request.
        body = connect(ALL_PF, f | bits(F_MQ))
        for i in range(4):
            body += split_ring_msgs(i, base=base)
        body += traffic(packed, 2)
        s['handshake-mq-' + name] = body
        # In-flight tracking, asked for after the features.
        body = connect(ALL_PF, f)
        body += msg(GET_INFLIGHT_FD, inflight(0, 0, 2, RING))
        for i in range(2):
            body += split_ring_msgs(i, base=base)
        body += traffic(packed) + bytes([0x82]) + struct.pack('<HB', 8, 4) + b'\x01\x00\x40\x00'
        body += msg(GET_VRING_BASE, state(1, 0)) + split_ring_msgs(1, base=base)
        body += traffic(packed)
        s['inflight-' + name] = body
    # Without PROTOCOL_FEATURES: the kick enables the ring; a 10-byte header.
    body = connect(0, bits(F_INDIRECT))
    for i in range(2):
        body += split_ring_msgs(i, enable=False)
    body += traffic(False)
    s['legacy-split'] = body
    # A vIOMMU: the rings and buffers are IOVAs mapped by IOTLB updates.
    body = connect(ALL_PF, BASE | bits(F_IOMMU))
    body += msg(SET_BACKEND_REQ_FD, nfds=1, kind=KIND_EVENTFD)
    body += msg(IOTLB_MSG, iotlb(0x100000, GUEST_SIZE, UVA, 3, 2))
    for i in range(2):
        a = ring_area(i)
        io = 0x100000
        body += msg(SET_VRING_NUM, state(i, RING))
        body += msg(SET_VRING_ADDR, addr(i, io + a, io + a + 0x1000, io + a + 0x800))
        body += msg(SET_VRING_KICK, u64(i | 0x100)) + msg(SET_VRING_ENABLE, state(i, 1))
    body += traffic(False)
    body += msg(IOTLB_MSG, iotlb(0x100000 + 0x1000, 0x1000, 0, 0, 3))
    body += burst(0, 4, 64) + msg(IOTLB_MSG, iotlb(0x101000, 0x1000, UVA + 0x1000, 1, 2))
    s['iommu-split'] = body
    # Dirty logging: a log, LOG_ALL switched on under traffic, logged rings.
    body = connect(ALL_PF, BASE)
    for i in range(2):
        body += split_ring_msgs(i)
    body += msg(SET_LOG_BASE, struct.pack('<QQ', 4096, 0), nfds=1, kind=KIND_MEMFD)
    body += msg(SET_FEATURES, u64(BASE | bits(F_LOG_ALL)))
    body += msg(SET_VRING_ADDR, addr(0, UVA + 0x1000, UVA + 0x2000, UVA + 0x1800, flags=1,
                                     log=0x2000))
    body += traffic(False) + msg(SET_FEATURES, u64(BASE))
    s['dirty-log-split'] = body
    # Memory slots: a region added, rings in it, then removed under them.
    body = connect(ALL_PF, BASE)[:-(1 + 12 + 8 + 32)]
    reg = region(0, GUEST_SIZE, UVA, 0)
    body += msg(GET_MAX_MEM_SLOTS)
    body += msg(ADD_MEM_REG, u64(0) + reg, nfds=1, kind=KIND_GUEST)
    for i in range(2):
        body += split_ring_msgs(i)
    body += traffic(False)
    body += msg(REM_MEM_REG, u64(0) + reg) + burst(0, 4, 64)
    body += msg(ADD_MEM_REG, u64(0) + reg, nfds=1, kind=KIND_GUEST) + traffic(False)
    s['mem-slots-split'] = body
    # Device configuration and status.
    body = msg(GET_PROTOCOL_FEATURES) + msg(SET_PROTOCOL_FEATURES, u64(ALL_PF))
    body += msg(GET_QUEUE_NUM) + msg(GET_CONFIG, config(0, bytes(12)))
    body += msg(SET_CONFIG, config(0, b'\x02\x00\x00\x00\x00\x07'))
    body += msg(NET_SET_MTU, u64(9000)) + msg(SEND_RARP, u64(0x0102030405))
    body += msg(SET_STATUS, u64(0xf)) + msg(GET_STATUS) + msg(SET_VRING_ERR, u64(0), nfds=1)
    body += msg(GET_CONFIG, config(250, bytes(6)))
    s['config-status'] = body
    # Memory tables replaced under running rings.
    body = connect(ALL_PF, BASE)
    for i in range(2):
        body += split_ring_msgs(i)
    body += traffic(False)
    body += msg(SET_MEM_TABLE, memory(region(0, 0x20000, UVA, 0),
                                      region(0x20000, 0x20000, UVA + 0x20000, 0x20000)),
                nfds=2, kind=KIND_GUEST)
    body += traffic(False)
    s['mem-table-replaced'] = body
    # One of each request on its own, with NEED_REPLY.
    for req in range(0, 42):
        s['request-%02d' % req] = msg(req, bytes(8), flags=1 | NEED_REPLY)
    # Malformed: bad flags, an oversized header, a truncated payload, extra fds.
    s['malformed'] = (msg(GET_FEATURES, flags=0) + msg(GET_FEATURES, flags=5) +
                      msg(SET_FEATURES, u64(0), size=4096) + msg(GET_FEATURES, nfds=3) +
                      msg(SET_MEM_TABLE, memory(region(0, 0x1000, UVA, 0)), nfds=1,
                          kind=3) + msg(SET_FEATURES, b'\x00\x00'))
    return s


# ---- the ring targets ----

R0 = 0x10000  # gpa of region 0; region 1 follows, region 2 is at 0x40000


def ring_cfg(size_byte, flags, deq, enq, pkt_len, start=0x8000, ol=0, l2=14, l3=20, logb=0):
    return bytes([size_byte, flags, deq, enq]) + struct.pack('<HH', pkt_len, start) + \
        bytes([ol, l2, l3, logb])


class Image:
    """Guest memory from gpa 0x10000 on, as the ring targets take it."""

    def __init__(self):
        self.b = bytearray()     # grows to the last byte a seed sets; the rest is zero

    def put(self, gpa, data):
        off = gpa - R0
        if off + len(data) > len(self.b):
            self.b.extend(bytes(off + len(data) - len(self.b)))
        self.b[off:off + len(data)] = data

    def bytes(self):
        return bytes(self.b)


RX_AREA, TX_AREA = R0, R0 + 0x2000


def hdr(flags=0, gso=0, hdr_len=0, gso_size=0, csum_start=0, csum_offset=0):
    return struct.pack('<BBHHHHH', flags, gso, hdr_len, gso_size, csum_start, csum_offset, 0)


def udp_packet(plen=40):
    eth = b'\x02' * 12 + b'\x08\x00'
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + 8 + plen, 0, 0, 64, 17, 0, b'\x0a\0\0\1',
                     b'\x0a\0\0\2')
    udp = struct.pack('>HHHH', 1000, 2000, 8 + plen, 0)
    return eth + ip + udp + bytes(range(plen))


def tcp_packet(plen=200):
    eth = b'\x02' * 12 + b'\x08\x00'
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + 20 + plen, 0, 0, 64, 6, 0, b'\x0a\0\0\1',
                     b'\x0a\0\0\2')
    tcp = struct.pack('>HHIIBBHHH', 1000, 2000, 1, 0, 5 << 4, 0x18, 65535, 0, 0)
    return eth + ip + tcp + bytes(i & 0xff for i in range(plen))


def split_chains(img, area, chains, rx, start=0):
    """chains: list of [(gpa, len, extra_flags)] ; returns nothing."""
    d = 0
    avail = []
    for chain in chains:
        head = d
        for i, (gpa, ln, fl) in enumerate(chain):
            flags = fl | (DESC_F_WRITE if rx and not fl & DESC_F_INDIRECT else 0)
            nxt = 0
            if i + 1 < len(chain):
                flags |= DESC_F_NEXT
                nxt = d + 1
            img.put(area + 16 * d, struct.pack('<QIHH', gpa, ln, flags, nxt))
            d += 1
        avail.append(head)
    ring = b''.join(struct.pack('<H', h) for h in avail)
    img.put(area + 0x1000, struct.pack('<HH', 0, (start + len(avail)) & 0xffff))
    for i, h in enumerate(avail):
        img.put(area + 0x1000 + 4 + 2 * ((start + i) % 64), struct.pack('<H', h))
    img.put(area + 0x1400, struct.pack('<HH', 1, start))


def packed_chains(img, area, chains, rx):
    slot = 0
    for n, chain in enumerate(chains):
        for i, (gpa, ln, fl) in enumerate(chain):
            flags = fl | PACKED_AVAIL | (DESC_F_WRITE if rx and not fl & DESC_F_INDIRECT else 0)
            if i + 1 < len(chain):
                flags |= DESC_F_NEXT
            img.put(area + 16 * slot, struct.pack('<QIHH', gpa, ln, n, flags))
            slot += 1


def split_table(img, gpa, entries, rx):
    for i, (bg, ln) in enumerate(entries):
        flags = (DESC_F_NEXT if i + 1 < len(entries) else 0) | (DESC_F_WRITE if rx else 0)
        img.put(gpa + 16 * i, struct.pack('<QIHH', bg, ln, flags, i + 1))


def packed_table(img, gpa, entries, rx):
    for i, (bg, ln) in enumerate(entries):
        img.put(gpa + 16 * i, struct.pack('<QIHH', bg, ln, 0, DESC_F_WRITE if rx else 0))


def ring_seeds(packed):
    chains_fn = packed_chains if packed else split_chains
    table_fn = packed_table if packed else split_table
    size = 63 if packed else 6  # 64 entries either way
    s = {}
    buf = R0 + 0x4000

    # Plain: 8 packets out, 8 buffers in.
    img = Image()
    tx = []
    for k in range(8):
        g = buf + k * 256
        img.put(g, hdr() + bytes((k + j) & 0xff for j in range(100)))
        tx.append([(g, 112, 0)])
    chains_fn(img, TX_AREA, tx, False)
    rx = [[(buf + 0x3000 + k * 2048, 2048, 0)] for k in range(8)]
    chains_fn(img, RX_AREA, rx, True)
    s['plain'] = ring_cfg(size, 0x01, 8, 8, 300) + img.bytes()

    # Chains: header alone, then the packet over several descriptors.
    img = Image()
    tx = []
    for k in range(6):
        g = buf + k * 512
        img.put(g, hdr() + bytes(range(200)))
        tx.append([(g, 12, 0), (g + 12, 50, 0), (g + 62, 150, 0)])
    chains_fn(img, TX_AREA, tx, False)
    rx = [[(buf + 0x3000 + k * 1024, 12, 0), (buf + 0x3000 + k * 1024 + 12, 1000, 0)]
          for k in range(6)]
    chains_fn(img, RX_AREA, rx, True)
    s['chains'] = ring_cfg(size, 0x01, 6, 6, 500) + img.bytes()

    # Indirect tables both ways.
    img = Image()
    tx = []
    for k in range(4):
        g = buf + k * 512
        t = R0 + 0x9000 + k * 64
        img.put(g, hdr() + bytes(range(150)))
        table_fn(img, t, [(g, 12), (g + 12, 150)], False)
        tx.append([(t, 32, DESC_F_INDIRECT)])
    chains_fn(img, TX_AREA, tx, False)
    rx = []
    for k in range(4):
        t = R0 + 0x9800 + k * 64
        table_fn(img, t, [(buf + 0x3000 + k * 2048, 1024), (buf + 0x3400 + k * 2048, 1024)],
                 True)
        rx.append([(t, 32, DESC_F_INDIRECT)])
    chains_fn(img, RX_AREA, rx, True)
    s['indirect'] = ring_cfg(size, 0x01, 4, 4, 1500) + img.bytes()

    # Mergeable receive buffers of 512 bytes for 3000-byte packets; event index and a call fd.
    img = Image()
    rx = [[(buf + 0x3000 + k * 512, 512, 0)] for k in range(32)]
    chains_fn(img, RX_AREA, rx, True)
    s['mergeable'] = ring_cfg(size, 0x01 | 0x02 | 0x04 | 0x20, 0, 4, 3000) + img.bytes()

    # Offloads: partial checksums and TSO from the guest; checksum requests to it.
    img = Image()
    tx = []
    pk = [(hdr(1, 0, 0, 0, 34, 6), udp_packet()),
          (hdr(1, 1, 54, 1000, 34, 16), tcp_packet(3000 - 54)),
          (hdr(1, 0, 0, 0, 34, 16), tcp_packet()), (hdr(2), udp_packet())]
    g = buf
    for h, p in pk:
        img.put(g, h + p)
        tx.append([(g, len(h) + len(p), 0)])
        g += (len(h) + len(p) + 255) & ~255
    chains_fn(img, TX_AREA, tx, False)
    rx = [[(buf + 0x5000 + k * 2048, 2048, 0)] for k in range(4)]
    chains_fn(img, RX_AREA, rx, True)
    s['offload'] = ring_cfg(size, 0x01 | 0x08, 4, 4, 200, ol=0x01) + img.bytes()
    s['offload-udp-v6'] = ring_cfg(size, 0x01 | 0x08, 4, 4, 200, ol=0x0a, l3=40) + img.bytes()

    # Buffers across the boundary of regions 0 and 1, dirty logging, inflight records.
    img = Image()
    g = 0x20000 - 40
    img.put(g, hdr() + bytes(range(100)))
    chains_fn(img, TX_AREA, [[(g, 112, 0)]], False)
    chains_fn(img, RX_AREA, [[(0x20000 - 30, 200, 0)]], True)
    s['cross-region'] = ring_cfg(size, 0x01 | 0x40 | 0x80, 2, 2, 100, logb=8) + img.bytes()

    # The legacy 10-byte header.
    img = Image()
    img.put(buf, bytes(10) + bytes(range(90)))
    chains_fn(img, TX_AREA, [[(buf, 100, 0)]], False)
    chains_fn(img, RX_AREA, [[(buf + 0x1000, 1500, 0)]], True)
    s['legacy-header'] = ring_cfg(size, 0x10, 1, 1, 64) + img.bytes()
    return s


def regressions():
    """Inputs that reproduce bugs found without the fuzzer, kept beside its crashes."""
    s = {}
    # GET_INFLIGHT_FD before SET_FEATURES sizes the buffer for split rings;
    # packed rings negotiated afterwards must not use it with their layout.
    body = msg(GET_PROTOCOL_FEATURES) + msg(SET_PROTOCOL_FEATURES, u64(ALL_PF))
    body += msg(GET_INFLIGHT_FD, inflight(0, 0, 1, RING))
    body += msg(SET_FEATURES, u64(BASE | bits(F_PACKED)))
    body += msg(SET_MEM_TABLE, memory(region(0, GUEST_SIZE, UVA, 0)), nfds=1, kind=KIND_GUEST)
    body += split_ring_msgs(0, base=0x8000)
    body += packed_fill(0, 8, True, 1024) + burst(0, 8, 100)
    s['inflight-split-buffer-used-as-packed'] = body
    return s


def inet_sum(data):
    """The Internet checksum of data, as the 16-bit value stored big-endian."""
    if len(data) & 1:
        data += b'\0'
    t = sum(struct.unpack('>%dH' % (len(data) // 2), data))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff


def ip4(proto, payload, dst=b'\x0a\x0b\x0c\x02', opts=b'', frag=0):
    """An IPv4 header with a right checksum, then payload."""
    ihl = 5 + len(opts) // 4
    h = struct.pack('>BBHHHBBH4s4s', 0x40 | ihl, 0, ihl * 4 + len(payload), 7, frag, 64, proto, 0,
                    b'\x0a\x0b\x0c\x01', dst) + opts
    return h[:10] + struct.pack('>H', inet_sum(h)) + h[12:] + payload


def pkt_input(frame, flags=0, segs=(), any_addr=False):
    """An input of fuzz_pkt.c: flags, segment count and lengths, the frame."""
    return (bytes([flags, len(segs) | (4 if any_addr else 0)]) +
            b''.join(struct.pack('<H', n) for n in segs) + frame)


def pkt_seeds():
    """Packets for icmpecho and csum: ARP, pings, TCP/UDP over IPv4 and IPv6, in segments."""
    port, peer = b'\x02\x76\x68\x75\x00\x00', b'\x52\x54\x00\x0c\x00\x01'
    eth = port + peer + b'\x08\x00'
    icmp = b'\x08\x00\x00\x00\x42\x42\x00\x07' + bytes(range(56))
    icmp = icmp[:2] + struct.pack('>H', inet_sum(icmp)) + icmp[4:]
    ping = eth + ip4(1, icmp)
    arp = (b'\xff' * 6 + peer + b'\x08\x06' + struct.pack('>HHBBH', 1, 0x800, 6, 4, 1) + peer +
           b'\x0a\x0b\x0c\x01' + b'\0' * 6 + b'\x0a\x0b\x0c\x02' + b'\0' * 18)
    udp = eth + ip4(17, struct.pack('>HHHH', 1024, 53, 17, 0x1111) + b'vhu-csum!')
    tcp = eth + ip4(6, struct.pack('>HHIIBBHHH', 40000, 80, 1, 0, 0x50, 0x18, 65535, 0, 0) +
                    bytes(200))
    hop = bytes([6, 0, 1, 4, 0, 0, 0, 0])
    tcp6 = (port + peer + b'\x86\xdd' + struct.pack('>IHBB', 0x60000000, 8 + 23, 0, 64) +
            b'\x20\x01\x0d\xb8' + b'\0' * 11 + b'\x01' + b'\x20\x01\x0d\xb8' + b'\0' * 11 +
            b'\x02' + hop + struct.pack('>HHIIBBHHH', 49152, 80, 1, 0, 0x50, 2, 65535, 0, 0) +
            b'GET')
    vlan = port + peer + b'\x81\x00\x00\x64\x08\x00' + ip4(
        17, struct.pack('>HHHH', 1, 2, 8 + 64, 0) + bytes(64), opts=b'\x94\x04\x00\x00')
    frag = eth + ip4(17, struct.pack('>HHHH', 1, 2, 208, 0) + bytes(200), frag=0x2000)
    return {
        'arp': pkt_input(arp),
        'ping': pkt_input(ping),
        'ping-any-3-segs': pkt_input(ping, segs=(37, 1), any_addr=True),
        'udp-sw': pkt_input(udp),
        'udp-offload': pkt_input(udp, flags=7),
        'udp-partial': pkt_input(udp, flags=0x80 | 2),
        'tcp-2-segs': pkt_input(tcp, flags=4, segs=(61,)),
        'tcp-verdicts': pkt_input(tcp, flags=(1 << 3) | (2 << 5)),
        'tcp6-ext': pkt_input(tcp6, flags=4),
        'udp-vlan-options': pkt_input(vlan, flags=1),
        'udp-fragment': pkt_input(frag),
        'udp-padded': pkt_input(udp + b'\xee' * 9, flags=2),
    }


def write(target, seeds, where='corpus'):
    d = os.path.join(HERE, where, target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)


def main():
    write('msg', msg_seeds())
    write('msg', regressions(), 'crashes')
    write('split', ring_seeds(False))
    write('packed', ring_seeds(True))
    write('pkt', pkt_seeds())


if __name__ == '__main__':
    main()
