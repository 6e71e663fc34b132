#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A vhost-user-blk backend that completes requests, then one badly.

    fake_blk_backend.py SOCKET MODE[-packed]

It listens on SOCKET, serves one front-end with one request queue (split,
or packed with the -packed suffix; indirect descriptors, EVENT_IDX, a 1 MiB
device of 512-byte blocks whose reads return zeroes), polls the ring, and
answers the fifth request as MODE says:

  good      like the others: status OK, the right used length
  status    status byte 7, which no virtio-blk device sends
  nostatus  no status byte written at all
  len       a used length 4096 bytes past what the driver let it write
  id        a used id the driver never made available
  ioerr     status IOERR (legal: the driver reports an I/O error)

It prints what it does on stdout and exits when the front-end hangs up.
It shares fake_backend.py's message helpers.
"""
import os
import select
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_backend import (HDR, NEED_REPLY, REPLY, VERSION, log, recv_exact,  # noqa: E402
                          send, serve_one)

REQ = {'GET_FEATURES': 1, 'SET_MEM_TABLE': 5, 'SET_VRING_NUM': 8, 'SET_VRING_ADDR': 9,
       'SET_VRING_BASE': 10, 'GET_VRING_BASE': 11, 'GET_PROTOCOL_FEATURES': 15,
       'GET_QUEUE_NUM': 17, 'GET_CONFIG': 24, 'SET_STATUS': 39, 'GET_STATUS': 40}
# VERSION_1, PROTOCOL_FEATURES, EVENT_IDX, INDIRECT_DESC, SEG_MAX, BLK_SIZE, FLUSH
FEATURES = (1 << 32) | (1 << 30) | (1 << 29) | (1 << 28) | (1 << 2) | (1 << 6) | (1 << 9)
# REPLY_ACK, CONFIG, STATUS
PROTOCOL_FEATURES = (1 << 3) | (1 << 9) | (1 << 16)
CAPACITY = 2048  # sectors
SEG_MAX = 8
SPOIL_AT = 5
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4


def store16(m, off, value):
    """One 2-byte store, as a device publishes an index or flags. struct.pack_into
    zeroes its bytes before it writes them, and the driver polls these."""
    memoryview(m)[off:off + 2].cast('H')[0] = value


class Memory:
    """Guest memory by guest-physical and by front-end virtual address."""

    def __init__(self):
        self.regions = []  # (gpa, uaddr, size, mapping, offset)

    def add(self, payload, fds):
        import mmap
        n = struct.unpack('<I', payload[:4])[0]
        for i in range(n):
            gpa, size, uaddr, off = struct.unpack('<QQQQ', payload[8 + 32 * i:40 + 32 * i])
            m = mmap.mmap(fds[i], off + size, mmap.MAP_SHARED,
                          mmap.PROT_READ | mmap.PROT_WRITE)
            self.regions.append((gpa, uaddr, size, m, off))

    def at(self, addr, length, virtual=False):
        for gpa, uaddr, size, m, off in self.regions:
            base = uaddr if virtual else gpa
            if base <= addr and addr + length <= base + size:
                return m, off + addr - base
        raise ValueError(f'{addr:#x}+{length} is not in guest memory')


class Ring:
    def __init__(self, mem, size, desc, used, avail):
        self.mem, self.size = mem, size
        self.desc = mem.at(desc, 16 * size, True)
        self.used = mem.at(used, 4 + 8 * size, True)
        self.avail = mem.at(avail, 4 + 2 * size, True)
        self.last_avail = 0
        self.requests = 0

    def chain(self, head):
        """The request's descriptors: (addr, len, flags), indirect tables followed."""
        dm, do = self.desc
        out, idx = [], head
        for _ in range(self.size):
            addr, length, flags, nxt = struct.unpack_from('<QIHH', dm, do + 16 * idx)
            if flags & F_INDIRECT:
                tm, to = self.mem.at(addr, length)
                for i in range(length // 16):
                    a, l, f, _ = struct.unpack_from('<QIHH', tm, to + 16 * i)
                    out.append((a, l, f))
                return out
            out.append((addr, length, flags))
            if not flags & F_NEXT:
                return out
            idx = nxt
        raise ValueError('descriptor loop')

    def complete(self, head, descs, mode):
        """Do the request; returns (used id, used length) as MODE spoils them."""
        rtype = struct.unpack_from('<I', *self.mem.at(descs[0][0], 16))[0]
        written = 1
        for addr, length, flags in descs[1:-1]:
            if flags & F_WRITE:
                m, o = self.mem.at(addr, length)
                m[o:o + length] = bytes(length)
                written += length
        self.requests += 1
        spoil = mode if self.requests == SPOIL_AT else 'good'
        status = {'status': 7, 'ioerr': 1}.get(spoil, 0)
        if spoil != 'nostatus':
            m, o = self.mem.at(descs[-1][0], 1)
            m[o] = status
        uid = self.size + 3 if spoil == 'id' else head
        ulen = written + 4096 if spoil == 'len' else written
        if spoil != 'good':
            log(f'request {self.requests} (type {rtype}, id {head}) answered as '
                f'{spoil}: status {status}, used id {uid}, used length {ulen}')
        return uid, ulen

    def serve(self, mode):
        am, ao = self.avail
        um, uo = self.used
        idx = struct.unpack_from('<H', am, ao + 2)[0]
        while self.last_avail != idx:
            head = struct.unpack_from('<H', am, ao + 4 + 2 * (self.last_avail % self.size))[0]
            self.last_avail = (self.last_avail + 1) & 0xffff
            descs = self.chain(head)
            uid, ulen = self.complete(head, descs, mode)
            used_idx = struct.unpack_from('<H', um, uo + 2)[0]
            struct.pack_into('<II', um, uo + 4 + 8 * (used_idx % self.size), uid, ulen)
            store16(um, uo + 2, (used_idx + 1) & 0xffff)


class PackedRing(Ring):
    """The same device on a packed ring: descriptors come back in place."""
    AVAIL, USED = 1 << 7, 1 << 15

    def __init__(self, mem, size, desc, used, avail):
        super().__init__(mem, size, desc, used, avail)
        self.pos, self.wrap = 0, True           # next available descriptor
        self.upos, self.uwrap = 0, True         # next used descriptor

    def desc_at(self, pos):
        dm, do = self.desc
        return struct.unpack_from('<QIHH', dm, do + 16 * pos)

    def available(self, flags):
        return bool(flags & self.AVAIL) == self.wrap and bool(flags & self.USED) != self.wrap

    def serve(self, mode):
        dm, do = self.desc
        while self.available(self.desc_at(self.pos)[3]):
            descs, n = [], 0
            while True:
                addr, length, bid, flags = self.desc_at(self.pos)
                n += 1
                self.pos += 1
                if self.pos == self.size:
                    self.pos, self.wrap = 0, not self.wrap
                if flags & F_INDIRECT:
                    tm, to = self.mem.at(addr, length)
                    for i in range(length // 16):
                        a, l, _, f = struct.unpack_from('<QIHH', tm, to + 16 * i)
                        descs.append((a, l, f))
                    break
                descs.append((addr, length, flags))
                if not flags & F_NEXT:
                    break
            uid, ulen = self.complete(bid, descs, mode)
            uflags = (self.AVAIL | self.USED) if self.uwrap else 0
            struct.pack_into('<QIH', dm, do + 16 * self.upos, 0, ulen, uid)
            store16(dm, do + 16 * self.upos + 14, uflags)
            self.upos += n
            if self.upos >= self.size:
                self.upos, self.uwrap = self.upos - self.size, not self.uwrap
            self.last_avail = self.pos | (int(self.wrap) << 15)


def config_space():
    # capacity, size_max, seg_max, geometry, blk_size, topology, writeback..num_queues, rest
    c = struct.pack('<QIIHBBIBBHIBBH', CAPACITY, 0, SEG_MAX, 0, 0, 0, 512, 0, 0, 0, 0, 0, 0, 1)
    return c + bytes(60 - len(c))


def serve(conn, mode, packed):
    mem, ring, status = Memory(), None, 0
    sizes, addrs = {}, {}
    while True:
        readable, _, _ = select.select([conn], [], [], 0 if ring is not None else None)
        if not readable:
            ring.serve(mode)
            continue
        fds = []
        hdr = recv_exact(conn, HDR.size, fds)
        if hdr is None:
            log('front-end hung up')
            return
        request, flags, size = HDR.unpack(hdr)
        payload = recv_exact(conn, size, fds) if size else b''
        if request == REQ['SET_MEM_TABLE']:
            mem.add(payload, fds)
        for fd in fds:
            os.close(fd)
        if request == REQ['SET_VRING_NUM']:
            index, num = struct.unpack('<II', payload)
            sizes[index] = num
        if request == REQ['SET_VRING_ADDR']:
            index, _, desc, used, avail, _ = struct.unpack('<IIQQQQ', payload)
            addrs[index] = (desc, used, avail)
        value, body = None, None
        if request == REQ['GET_FEATURES']:
            value = FEATURES | (1 << 34 if packed else 0)  # RING_PACKED
        elif request == REQ['GET_PROTOCOL_FEATURES']:
            value = PROTOCOL_FEATURES
        elif request == REQ['GET_QUEUE_NUM']:
            value = 1
        elif request == REQ['GET_STATUS']:
            value = status
        elif request == REQ['GET_CONFIG']:
            offset, length, cflags = struct.unpack('<III', payload[:12])
            body = struct.pack('<III', offset, length, cflags) + config_space()[:length]
        elif request == REQ['GET_VRING_BASE']:
            body = payload[:4] + struct.pack('<I', ring.last_avail if ring else 0)
            ring = None
        elif flags & NEED_REPLY:
            value = 0
        if request == REQ['SET_STATUS']:
            status = struct.unpack('<Q', payload)[0]
            if status & 0x4 and 0 in addrs:
                ring = (PackedRing if packed else Ring)(mem, sizes[0], *addrs[0])
                log(f'serving ring 0 of {sizes[0]} entries')
        if value is not None:
            send(conn, request, VERSION | REPLY, struct.pack('<Q', value))
        elif body is not None:
            send(conn, request, VERSION | REPLY, body)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, mode = sys.argv[1], sys.argv[2]
    packed = mode.endswith('-packed')
    mode = mode[:-len('-packed')] if packed else mode
    serve_one(path, f'mode {mode}, {"packed" if packed else "split"} ring',
              lambda conn: serve(conn, mode, packed))
    return 0


if __name__ == '__main__':
    sys.exit(main())
