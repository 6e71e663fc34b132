#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A vhost-user front-end that speaks the protocol wrongly, against a running backend.

    hostile_client.py --socket S --log LOG --pid PID [--rounds N] [--traffic-port P]
                      [--only NAME]

Each scenario connects to S, misbehaves in one way and checks what the
backend did with it: it closed the connection, or refused the request (a
NACK, an empty reply) and carried on, or accepted it harmlessly; and that the
backend's log (LOG: its standard output and error) gained a line naming the
socket and the reason. After every scenario the connection is gone and the
device must be back to its initial state before the next one starts.

A round runs every cheap scenario once; the scenarios that move packets (a
small split-ring driver in this file, over a memfd the backend maps) run every
tenth round. Throughout, the backend process must stay up and the other
device of the same process (port P of its periodic statistics, a loopback
with traffic) must keep forwarding. After the first round and after the last,
the backend's open fds (/proc/PID/fd), mappings (/proc/PID/maps) and VmRSS
are counted: fds and mappings must be equal, VmRSS within 2 MiB (--rss-slack).

Prints one line per scenario kind with its count, and exits 0 on success, 1
on the first failure (saying which scenario, round and why).
"""
import argparse
import errno
import mmap
import os
import select
import socket
import struct
import sys
import time

# ---- the wire format (lib/virtio/vhost_user_proto.h) ----

GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE = 1, 2, 3, 4, 5
SET_LOG_BASE, SET_LOG_FD, SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE = 6, 7, 8, 9, 10
GET_VRING_BASE, SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR = 11, 12, 13, 14
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE = 15, 16, 17, 18
SET_BACKEND_REQ_FD, IOTLB_MSG, GET_CONFIG, GET_INFLIGHT_FD, SET_INFLIGHT_FD = 21, 22, 24, 31, 32
RESET_DEVICE, GET_MAX_MEM_SLOTS, ADD_MEM_REG, REM_MEM_REG, SET_STATUS, GET_STATUS = \
    34, 36, 37, 38, 39, 40

VERSION, REPLY, NEED_REPLY = 1, 1 << 2, 1 << 3
NOFD = 1 << 8
HDR = struct.Struct('<III')
PAYLOAD_MAX = 272   # sizeof(union vhost_user_payload)

F_VERSION_1, F_PROTOCOL, F_INDIRECT, F_EVENT_IDX, F_MRG_RXBUF = 32, 30, 28, 29, 15
F_PACKED, F_LOG_ALL = 34, 26
PF_MQ, PF_LOG_SHMFD, PF_REPLY_ACK, PF_CONFIG, PF_INFLIGHT, PF_MEM_SLOTS, PF_STATUS = \
    0, 1, 3, 9, 12, 15, 16
PF_BACKEND_REQ, PF_RESET_DEVICE = 5, 13

DESC_F_NEXT, DESC_F_WRITE = 1, 2
UVA = 0x7f5500000000


def bit(*bits):
    v = 0
    for b in bits:
        v |= 1 << b
    return v


PF_USED = bit(PF_MQ, PF_LOG_SHMFD, PF_REPLY_ACK, PF_CONFIG, PF_INFLIGHT, PF_MEM_SLOTS,
              PF_STATUS, PF_BACKEND_REQ, PF_RESET_DEVICE)
FEATURES = bit(F_VERSION_1, F_PROTOCOL, F_INDIRECT)


def msg(req, payload=b'', flags=VERSION, size=None):
    return HDR.pack(req, flags, len(payload) if size is None else size) + payload


def u64(v):
    return struct.pack('<Q', v)


def state(index, num):
    return struct.pack('<II', index, num)


def vring_addr(index, desc, used, avail, flags=0, log=0):
    return struct.pack('<IIQQQQ', index, flags, desc, used, avail, log)


def region(gpa, size, uva, off):
    return struct.pack('<QQQQ', gpa, size, uva, off)


def mem_table(*regions):
    return struct.pack('<II', len(regions), 0) + b''.join(regions)


class Fail(Exception):
    pass


def memfd(size, name='hostile'):
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    os.ftruncate(fd, size)
    return fd


def eventfd():
    return os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)


# ---- a connection ----

class Conn:
    """One front-end connection; every fd it sends is closed on our side once sent."""

    def __init__(self, path, rcvbuf=None):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.connect(path)

    def send(self, data, fds=()):
        try:
            if fds:
                socket.send_fds(self.s, [data], list(fds))
            else:
                self.s.sendall(data)
        finally:
            for fd in fds:
                os.close(fd)

    def recv(self, timeout=3.0):
        """The next message (request, flags, payload), or None if the peer closed."""
        data = b''
        deadline = time.monotonic() + timeout
        want = HDR.size
        size = None
        while len(data) < want:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                raise Fail('no reply within %.1f s' % timeout)
            try:
                chunk, fds, _, _ = socket.recv_fds(self.s, want - len(data), 8)
            except ConnectionResetError:
                return None
            for fd in fds:
                os.close(fd)
            if not chunk:
                return None
            data += chunk
            if size is None and len(data) >= HDR.size:
                _, _, size = HDR.unpack(data[:HDR.size])
                want = HDR.size + size
        req, flags, size = HDR.unpack(data[:HDR.size])
        return req, flags, data[HDR.size:]

    def reply(self, req, timeout=3.0):
        r = self.recv(timeout)
        if r is None:
            raise Fail('the backend closed the connection instead of answering %d' % req)
        if r[0] != req or not r[1] & REPLY:
            raise Fail('answer to %d is request %d flags 0x%x' % (req, r[0], r[1]))
        return r[2]

    def request(self, req, payload=b'', fds=(), ack=False):
        """Send; with ack, ask for REPLY_ACK and return its value (0: done)."""
        self.send(msg(req, payload, VERSION | (NEED_REPLY if ack else 0)), fds)
        if ack:
            return struct.unpack('<Q', self.reply(req))[0]
        return None

    def get_u64(self, req):
        self.send(msg(req))
        p = self.reply(req)
        if len(p) != 8:
            raise Fail('answer to %d has %d bytes' % (req, len(p)))
        return struct.unpack('<Q', p)[0]

    def closed_by_peer(self, timeout=3.0):
        """True once the backend closed the connection; False if it is still open."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if not select.select([self.s], [], [], left)[0]:
                return False
            try:
                chunk, fds, _, _ = socket.recv_fds(self.s, 4096, 8)
            except ConnectionResetError:
                return True
            for fd in fds:
                os.close(fd)
            if not chunk:
                return True

    def close(self):
        self.s.close()


# ---- the backend's log and statistics ----

class Log:
    """Follows the backend's log: lines about our socket, and the periodic statistics."""

    def __init__(self, path, sock, port):
        self.f = open(path, 'rb')
        self.sock = sock
        self.port = str(port)
        self.partial = b''
        self.lines = []          # lines about our socket since the last mark
        self.disconnects = 0     # "front-end disconnected" lines seen
        self.stats_port = None
        self.rx = {}             # port -> latest RX-packets

    def poll(self):
        data = self.f.read()
        if not data:
            return
        data = self.partial + data
        lines = data.split(b'\n')
        self.partial = lines.pop()
        for raw in lines:
            line = raw.decode('utf-8', 'replace')
            if 'NIC statistics for port' in line:
                self.stats_port = line.split('for port')[1].split()[0]
            elif 'RX-packets:' in line and self.stats_port is not None:
                self.rx[self.stats_port] = int(line.split()[1])
            if self.sock in line:
                self.lines.append(line)
                if 'front-end disconnected' in line:
                    self.disconnects += 1

    def mark(self):
        self.poll()
        self.lines = []

    def expect(self, needle, timeout=3.0):
        """Wait for a line about our socket containing 'needle' (since the mark)."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            for line in self.lines:
                if needle in line:
                    return line
            if time.monotonic() > deadline:
                raise Fail('the backend logged nothing about %s containing "%s" (it logged: %s)'
                           % (self.sock, needle, ' | '.join(self.lines[-4:]) or 'nothing'))
            time.sleep(0.001)

    def wait_disconnects(self, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        while self.disconnects < count:
            if time.monotonic() > deadline:
                raise Fail('the backend did not report the disconnection within %.0f s' % timeout)
            time.sleep(0.001)
            self.poll()

    def traffic(self):
        self.poll()
        return self.rx.get(self.port, 0)


def proc_counts(pid):
    fds = len(os.listdir('/proc/%d/fd' % pid))
    with open('/proc/%d/maps' % pid) as f:
        maps = sum(1 for _ in f)
    rss = 0
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                rss = int(line.split()[1])
    return fds, maps, rss


# ---- a split-ring driver over a memfd, for the scenarios that move packets ----

RING = 256
GUEST = 4 << 20


class Guest:
    """Guest memory and the driver's side of queue pair 0 (rings 0: rx, 1: tx)."""

    def __init__(self):
        self.fd = memfd(GUEST, 'hostile-guest')
        self.m = mmap.mmap(self.fd, GUEST)
        # Indexes are read and written with one 16-bit access each, as a driver
        # must: struct.pack_into zeroes a field before writing it byte by byte,
        # and the device would see the avail index go back to 0 (and break the
        # ring, rightly).
        self.u16 = memoryview(self.m).cast('H')
        self.area = {0: 0x1000, 1: 0x9000}      # desc; avail +0x1000; used +0x2000
        self.buf = {0: 0x100000, 1: 0x200000}   # 2 KiB buffers, one per descriptor
        self.avail_idx = {0: 0, 1: 0}
        self.used_seen = {0: 0, 1: 0}
        self.seq = 0
        self.sent = {}      # tx sequence numbers not yet seen back
        self.received = 0
        self.posted = {0: 0, 1: 0}

    def region(self):
        return region(0, GUEST, UVA, 0)

    def addr_msg(self, index):
        a = self.area[index]
        return vring_addr(index, UVA + a, UVA + a + 0x2000, UVA + a + 0x1000)

    def _desc(self, index, d, gpa, length, flags):
        struct.pack_into('<QIHH', self.m, self.area[index] + 16 * d, gpa, length, flags, 0)

    def _offer(self, index, head):
        a = self.area[index] + 0x1000
        i = self.avail_idx[index]
        self.u16[(a + 4 + 2 * (i % RING)) // 2] = head
        self.avail_idx[index] = (i + 1) & 0xffff
        self.u16[(a + 2) // 2] = self.avail_idx[index]

    def used_idx(self, index):
        return self.u16[(self.area[index] + 0x2000 + 2) // 2]

    def outstanding(self, index):
        return (self.avail_idx[index] - self.used_seen[index]) & 0xffff

    def post_rx(self):
        while self.outstanding(0) < RING:
            d = self.avail_idx[0] % RING
            self._desc(0, d, self.buf[0] + d * 2048, 2048, DESC_F_WRITE)
            self._offer(0, d)

    def post_tx(self, n):
        for _ in range(n):
            if self.outstanding(1) >= RING:
                return
            d = self.avail_idx[1] % RING
            self.seq += 1
            frame = b'\xff' * 6 + b'\x02\x00\x00\x00\x00\x99' + b'\x88\xb5' + \
                struct.pack('<Q', self.seq) + bytes(42)
            g = self.buf[1] + d * 2048
            self.m[g:g + 12] = bytes(12)
            self.m[g + 12:g + 12 + len(frame)] = frame
            self._desc(1, d, g, 12 + len(frame), 0)
            self._offer(1, d)
            self.sent[self.seq] = True

    def reap(self):
        """Take what the device returned; every frame received must be one we sent."""
        self.used_seen[1] = self.used_idx(1)
        u = self.used_idx(0)
        while self.used_seen[0] != u:
            e = self.area[0] + 0x2000 + 4 + 8 * (self.used_seen[0] % RING)
            head, length = struct.unpack_from('<II', self.m, e)
            g = self.buf[0] + head * 2048
            if head >= RING or length < 12 + 22:
                raise Fail('used entry %d: head %d len %d' % (self.used_seen[0], head, length))
            seq = struct.unpack_from('<Q', self.m, g + 12 + 14)[0]
            if seq not in self.sent:
                raise Fail('received a frame (sequence %d) that was never sent or came twice'
                           % seq)
            del self.sent[seq]
            self.received += 1
            self.used_seen[0] = (self.used_seen[0] + 1) & 0xffff

    def resync(self, index, base):
        """After the device restarted a ring at 'base' (its used index)."""
        self.used_seen[index] = base

    def close(self):
        self.u16.release()
        self.m.close()
        os.close(self.fd)


def start_device(c, g, call_fds=None):
    """A whole handshake with REPLY_ACK: rings 0 and 1 of pair 0 running over g."""
    features = c.get_u64(GET_FEATURES)
    if not features & bit(F_VERSION_1):
        raise Fail('the backend does not offer VERSION_1')
    pf = c.get_u64(GET_PROTOCOL_FEATURES)
    if not pf & bit(PF_REPLY_ACK):
        raise Fail('the backend does not offer REPLY_ACK')

    def ack(result):
        if result != 0:
            raise Fail('the backend refused a step of a valid handshake')

    c.request(SET_PROTOCOL_FEATURES, u64(pf & PF_USED))
    ack(c.request(SET_OWNER, ack=True))
    ack(c.request(SET_FEATURES, u64(FEATURES), ack=True))
    ack(c.request(SET_MEM_TABLE, mem_table(g.region()), [os.dup(g.fd)], ack=True))
    for i in (0, 1):
        ack(c.request(SET_VRING_NUM, state(i, RING), ack=True))
        ack(c.request(SET_VRING_ADDR, g.addr_msg(i), ack=True))
        ack(c.request(SET_VRING_BASE, state(i, 0), ack=True))
        fd = call_fds[i] if call_fds is not None else eventfd()
        ack(c.request(SET_VRING_CALL, u64(i), [fd], ack=True))
        ack(c.request(SET_VRING_KICK, u64(i), [eventfd()], ack=True))
        ack(c.request(SET_VRING_ENABLE, state(i, 1), ack=True))


def pump(g, want, timeout=10.0):
    """Send frames until 'want' more came back through the device."""
    goal = g.received + want
    deadline = time.monotonic() + timeout
    g.post_rx()
    while g.received < goal:
        g.post_tx(32)
        time.sleep(0.0002)
        g.reap()
        g.post_rx()
        if time.monotonic() > deadline:
            raise Fail('traffic stalled: %d of %d frames came back in %.0f s'
                       % (want - (goal - g.received), want, timeout))


# ---- scenarios ----

class Ctx:
    def __init__(self, args, log):
        self.path = args.socket
        self.log = log
        self.round = 0

    def conn(self, **kw):
        return Conn(self.path, **kw)


def expect_closed(c, ctx, reason):
    if not c.closed_by_peer():
        raise Fail('the backend kept the connection open')
    ctx.log.expect(reason)


def negotiated(ctx, pf=PF_USED, features=FEATURES):
    c = ctx.conn()
    c.get_u64(GET_FEATURES)
    c.request(SET_PROTOCOL_FEATURES, u64(pf))
    c.request(SET_OWNER)
    c.request(SET_FEATURES, u64(features))
    if c.get_u64(GET_FEATURES) == 0:    # a barrier: everything above was handled
        raise Fail('GET_FEATURES answered 0')
    return c


def sc_truncated_header(ctx):
    c = ctx.conn()
    c.send(msg(GET_FEATURES)[:7])
    c.close()
    ctx.log.expect('front-end disconnected (peer closed the socket)')


def sc_truncated_payload(ctx):
    c = ctx.conn()
    c.send(msg(SET_FEATURES, u64(FEATURES))[:16])
    c.close()
    ctx.log.expect('front-end disconnected (peer closed the socket)')


def sc_header_in_pieces_with_stalls(ctx):
    """Half a header, a stall, the rest: the message is handled, nobody waited."""
    c = ctx.conn()
    m = msg(GET_FEATURES)
    c.send(m[:5])
    time.sleep(0.05)
    c.send(m[5:9])
    time.sleep(0.05)
    c.send(m[9:])
    if len(c.reply(GET_FEATURES)) != 8:
        raise Fail('GET_FEATURES sent in pieces got a malformed answer')
    c.close()


def sc_size_larger_than_payload(ctx):
    c = ctx.conn()
    c.send(msg(SET_FEATURES, u64(FEATURES) + bytes(8)))
    expect_closed(c, ctx, 'payload is 16 bytes, expected 8')
    c.close()


def sc_size_larger_than_any_message(ctx):
    c = ctx.conn()
    c.send(msg(SET_FEATURES, u64(0), size=65536))
    expect_closed(c, ctx, 'announces 65536 payload bytes')
    c.close()


def sc_unknown_request(ctx):
    c = ctx.conn()
    c.send(msg(99, bytes(8)))
    ctx.log.expect('request 99 (UNKNOWN) is not supported by vhu; refused')
    c.get_u64(GET_FEATURES)       # still served
    c.close()


def sc_request_zero(ctx):
    c = ctx.conn()
    c.send(msg(0))
    ctx.log.expect('request 0 (UNKNOWN) is not supported by vhu; refused')
    c.get_u64(GET_FEATURES)
    c.close()


def sc_unimplemented_request_with_fd(ctx):
    c = ctx.conn()
    c.send(msg(SET_LOG_FD), [eventfd()])
    ctx.log.expect('request 7 (SET_LOG_FD) is not supported by vhu; refused')
    c.get_u64(GET_FEATURES)
    c.close()


def sc_bad_version(ctx):
    c = ctx.conn()
    c.send(msg(GET_FEATURES, flags=[0, 2, 3][ctx.round % 3]))
    expect_closed(c, ctx, 'bad header flags')
    c.close()


def sc_reply_flag_on_a_request(ctx):
    c = ctx.conn()
    c.send(msg(GET_FEATURES, flags=VERSION | REPLY))
    expect_closed(c, ctx, 'bad header flags 0x5')
    c.close()


def sc_too_many_fds(ctx):
    c = ctx.conn()
    c.send(msg(SET_VRING_CALL, u64(0)), [eventfd() for _ in range(12)])
    expect_closed(c, ctx, 'more than 8 file descriptors')
    c.close()


def sc_fd_on_a_request_without_fds(ctx):
    c = ctx.conn()
    c.send(msg(GET_FEATURES), [eventfd()])
    expect_closed(c, ctx, 'carries 1 file descriptors, expected 0')
    c.close()


def sc_too_few_fds(ctx):
    c = ctx.conn()
    c.send(msg(SET_MEM_TABLE, mem_table(region(0, 0x10000, UVA, 0),
                                        region(0x10000, 0x10000, UVA + 0x10000, 0))),
           [memfd(0x10000)])
    expect_closed(c, ctx, 'carries 1 file descriptors, expected 2')
    c.close()


def not_memory_fd(kind):
    if kind == 0:
        r, w = os.pipe()
        os.close(w)
        return r
    if kind == 1:
        return eventfd()
    if kind == 2:
        a, b = socket.socketpair()
        b.close()
        return a.detach()
    return os.open('/', os.O_RDONLY | os.O_DIRECTORY)


def sc_memory_fd_that_is_not_memory(ctx):
    c = ctx.conn()
    c.send(msg(SET_MEM_TABLE, mem_table(region(0, 0x10000, UVA, 0))),
           [not_memory_fd(ctx.round % 4)])
    expect_closed(c, ctx, 'is not a memory file')
    c.close()


def sc_region_larger_than_its_file(ctx):
    c = ctx.conn()
    c.send(msg(SET_MEM_TABLE, mem_table(region(0, 0x100000, UVA, 0))), [memfd(0x10000)])
    expect_closed(c, ctx, 'but its file holds only')
    c.close()


def sc_regions_overlapping(ctx):
    c = ctx.conn()
    same_gpa = ctx.round % 2 == 0
    r2 = region(0x8000, 0x10000, UVA + 0x100000, 0) if same_gpa else \
        region(0x100000, 0x10000, UVA + 0x8000, 0)
    c.send(msg(SET_MEM_TABLE, mem_table(region(0, 0x10000, UVA, 0), r2)),
           [memfd(0x10000), memfd(0x10000)])
    expect_closed(c, ctx, 'overlap')
    c.close()


def sc_region_overflowing(ctx):
    c = ctx.conn()
    r = [region(2**64 - 0x1000, 0x10000, UVA, 0), region(0, 0x10000, 2**64 - 0x1000, 0),
         region(0, 2**64 - 0x1000, UVA, 0x10000)][ctx.round % 3]
    c.send(msg(SET_MEM_TABLE, mem_table(r)), [memfd(0x10000)])
    expect_closed(c, ctx, 'overflows 64 bits')
    c.close()


def sc_region_of_size_zero(ctx):
    c = ctx.conn()
    c.send(msg(SET_MEM_TABLE, mem_table(region(0, 0, UVA, 0))), [memfd(0x1000)])
    expect_closed(c, ctx, 'has size 0')
    c.close()


def sc_log_base_overflowing(ctx):
    c = negotiated(ctx)
    c.send(msg(SET_LOG_BASE, struct.pack('<QQ', 2**64 - 0x100, 0x1000)), [memfd(0x1000)])
    expect_closed(c, ctx, 'is empty or overflows')
    c.close()


def sc_log_base_past_its_file(ctx):
    c = negotiated(ctx)
    c.send(msg(SET_LOG_BASE, struct.pack('<QQ', 0x100000, 0)), [memfd(0x1000)])
    expect_closed(c, ctx, 'SET_LOG_BASE fd is not a memory file of at least')
    c.close()


def sc_get_vring_base_on_a_ring_never_started(ctx):
    c = ctx.conn()
    c.send(msg(GET_VRING_BASE, state(ctx.round % 2, 0)))
    p = c.reply(GET_VRING_BASE)
    if struct.unpack('<II', p) != (ctx.round % 2, 0):
        raise Fail('GET_VRING_BASE answered %r' % (struct.unpack('<II', p),))
    c.close()


def sc_ring_index_out_of_range(ctx):
    c = ctx.conn()
    c.send(msg(SET_VRING_NUM, state(200, 256)))
    expect_closed(c, ctx, 'ring index 200 out of range')
    c.close()


def sc_ring_size_not_allowed(ctx):
    c = ctx.conn()
    size = [1000, 0, 65536][ctx.round % 3]
    c.send(msg(SET_VRING_NUM, state(0, size)))
    expect_closed(c, ctx, 'size %d refused' % size)
    c.close()


def sc_misaligned_ring_areas(ctx):
    c = ctx.conn()
    c.send(msg(SET_VRING_ADDR, vring_addr(0, UVA + 8, UVA + 0x1000, UVA + 0x800)))
    expect_closed(c, ctx, 'misaligned areas')
    c.close()


def sc_features_never_offered(ctx):
    c = negotiated(ctx)
    if c.request(SET_FEATURES, u64(FEATURES | bit(60)), ack=True) == 0:
        raise Fail('features never offered were accepted')
    ctx.log.expect('that were not offered')
    c.get_u64(GET_FEATURES)
    c.close()


def sc_refused_without_reply_ack(ctx):
    """A refusal the front-end cannot hear of ends the connection."""
    c = ctx.conn()
    c.send(msg(SET_FEATURES, u64(bit(61))))
    expect_closed(c, ctx, 'request refused without REPLY_ACK')
    c.close()


def sc_messages_out_of_order(ctx):
    """Ring messages before features and memory, memory last: legal, the ring starts."""
    g = Guest()
    try:
        c = ctx.conn()
        c.send(msg(SET_VRING_KICK, u64(1)), [eventfd()])
        c.send(msg(SET_VRING_ADDR, g.addr_msg(1)))
        c.send(msg(SET_VRING_NUM, state(1, RING)))
        c.send(msg(SET_FEATURES, u64(bit(F_VERSION_1))))
        c.send(msg(SET_MEM_TABLE, mem_table(g.region())), [os.dup(g.fd)])
        c.send(msg(SET_OWNER))
        c.get_u64(GET_FEATURES)
        ctx.log.expect('ring 1 started')
        c.send(msg(GET_VRING_BASE, state(1, 0)))
        c.reply(GET_VRING_BASE)
        c.close()
    finally:
        g.close()


def sc_second_front_end(ctx):
    c = ctx.conn()
    c.get_u64(GET_FEATURES)
    d = ctx.conn()
    if not d.closed_by_peer():
        raise Fail('a second front-end was kept while one is attached')
    ctx.log.expect('a second front-end tried to connect')
    d.close()
    c.get_u64(GET_FEATURES)
    c.close()


# The messages of a whole handshake; the peer disconnects after each prefix.
def handshake_steps(g):
    steps = [(msg(GET_FEATURES), []), (msg(GET_PROTOCOL_FEATURES), []),
             (msg(SET_PROTOCOL_FEATURES, u64(PF_USED)), []), (msg(SET_OWNER), []),
             (msg(GET_QUEUE_NUM), []), (msg(SET_FEATURES, u64(FEATURES)), []),
             (msg(SET_MEM_TABLE, mem_table(g.region())), [g.fd])]
    for i in (0, 1):
        steps += [(msg(SET_VRING_NUM, state(i, RING)), []),
                  (msg(SET_VRING_ADDR, g.addr_msg(i)), []),
                  (msg(SET_VRING_BASE, state(i, 0)), []), (msg(SET_VRING_CALL, u64(i)), ['e']),
                  (msg(SET_VRING_KICK, u64(i)), ['e']), (msg(SET_VRING_ENABLE, state(i, 1)), [])]
    steps += [(msg(GET_VRING_BASE, state(1, 0)), []), (msg(GET_VRING_BASE, state(0, 0)), [])]
    return steps


def sc_disconnect_at_every_step(ctx):
    g = Guest()
    try:
        steps = handshake_steps(g)
        k = ctx.round % (len(steps) + 1)
        c = ctx.conn()
        for data, fds in steps[:k]:
            c.send(data, [eventfd() if f == 'e' else os.dup(f) for f in fds])
        c.close()
        # Either reason: the backend may find us gone while it answers a GET.
        ctx.log.expect('front-end disconnected (')
    finally:
        g.close()


def sc_stops_reading_replies(ctx):
    c = ctx.conn(rcvbuf=1024)
    c.s.setblocking(False)
    m = msg(GET_FEATURES)
    sent = 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            sent += c.s.send(m)
        except BlockingIOError:
            time.sleep(0.001)
        except (BrokenPipeError, ConnectionResetError):
            break
        if sent > 2000 * len(m):
            time.sleep(0.01)
    ctx.log.expect('the front-end is not reading', timeout=5)
    c.close()


def sc_call_fd_that_is_not_an_eventfd(ctx):
    """A full pipe as call fd: refused, or it must never block the data path."""
    g = Guest()
    r, w = os.pipe()
    try:
        os.set_blocking(w, False)
        try:
            while os.write(w, bytes(4096)):
                pass
        except BlockingIOError:
            pass
        os.set_blocking(w, True)
        c = ctx.conn()
        try:
            start_device(c, g, call_fds=[os.dup(w), eventfd()])
        except Fail:
            if not c.closed_by_peer():
                raise
            ctx.log.expect('not an eventfd')
            c.close()
            return
        before = ctx.log.traffic()
        try:
            pump(g, 20000)
        except Fail as e:
            stuck = ctx.log.traffic()
            time.sleep(2.5)
            if ctx.log.traffic() <= stuck:
                raise Fail('the data lcore is blocked: with a full pipe as call fd neither this '
                           'device nor the other one forwards any more (%s)' % e)
            raise
        c.close()
        ctx.log.wait_disconnects(ctx.log.disconnects + 1)
        time.sleep(1.5)
        if ctx.log.traffic() <= before:
            raise Fail('the other device stopped forwarding after the call fd filled up')
    finally:
        os.close(r)
        os.close(w)
        g.close()


def sc_tables_and_rings_replaced_under_traffic(ctx):
    """SET_MEM_TABLE, GET/SET_VRING_BASE, ADDR, KICK, ENABLE again and again, packets moving."""
    g = Guest()
    try:
        c = ctx.conn()
        start_device(c, g)
        pump(g, 300)
        for k in range(12):
            what = k % 4
            if what == 0:
                if c.request(SET_MEM_TABLE, mem_table(g.region()), [os.dup(g.fd)], ack=True):
                    raise Fail('SET_MEM_TABLE of the same memory refused')
            elif what == 1:
                c.send(msg(GET_VRING_BASE, state(1, 0)))
                _, base = struct.unpack('<II', c.reply(GET_VRING_BASE))
                if c.request(SET_VRING_NUM, state(1, RING), ack=True) or \
                   c.request(SET_VRING_BASE, state(1, base), ack=True) or \
                   c.request(SET_VRING_ADDR, g.addr_msg(1), ack=True) or \
                   c.request(SET_VRING_KICK, u64(1), [eventfd()], ack=True):
                    raise Fail('restarting ring 1 was refused')
            elif what == 2:
                if c.request(SET_VRING_ENABLE, state(0, 0), ack=True) or \
                   c.request(SET_VRING_ENABLE, state(0, 1), ack=True):
                    raise Fail('disabling and enabling ring 0 was refused')
            else:
                # Not while it runs: refused, and the ring goes on.
                if c.request(SET_VRING_NUM, state(1, 64), ack=True) == 0:
                    raise Fail('SET_VRING_NUM on a running ring was accepted')
            pump(g, 200)
        c.close()
    finally:
        g.close()


CHEAP = [sc_truncated_header, sc_truncated_payload, sc_size_larger_than_payload,
         sc_size_larger_than_any_message, sc_unknown_request, sc_request_zero,
         sc_unimplemented_request_with_fd, sc_bad_version, sc_reply_flag_on_a_request,
         sc_too_many_fds, sc_fd_on_a_request_without_fds, sc_too_few_fds,
         sc_memory_fd_that_is_not_memory, sc_region_larger_than_its_file, sc_regions_overlapping,
         sc_region_overflowing, sc_region_of_size_zero, sc_log_base_overflowing,
         sc_log_base_past_its_file, sc_get_vring_base_on_a_ring_never_started,
         sc_ring_index_out_of_range, sc_ring_size_not_allowed, sc_misaligned_ring_areas,
         sc_features_never_offered, sc_refused_without_reply_ack, sc_second_front_end,
         sc_disconnect_at_every_step]
SLOW = [sc_header_in_pieces_with_stalls, sc_messages_out_of_order, sc_stops_reading_replies,
        sc_tables_and_rings_replaced_under_traffic, sc_call_fd_that_is_not_an_eventfd]


def name(sc):
    return sc.__name__[3:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--socket', required=True)
    ap.add_argument('--log', required=True)
    ap.add_argument('--pid', type=int, required=True)
    ap.add_argument('--rounds', type=int, default=1000)
    ap.add_argument('--traffic-port', type=int, default=0)
    ap.add_argument('--only', help='run only the scenarios whose name contains this')
    ap.add_argument('--rss-slack', type=int, default=2048,
                    help='VmRSS growth allowed between the first and the last round, kB')
    args = ap.parse_args()

    log = Log(args.log, args.socket, args.traffic_port)
    ctx = Ctx(args, log)
    cheap = [s for s in CHEAP if not args.only or args.only in name(s)]
    slow = [s for s in SLOW if not args.only or args.only in name(s)]
    counts = {}
    first = None
    last_traffic, last_traffic_t = log.traffic(), time.monotonic()
    t0 = time.monotonic()
    for rnd in range(1, args.rounds + 1):
        ctx.round = rnd
        todo = cheap + (slow if rnd == 1 or rnd % 10 == 0 else [])
        for sc in todo:
            try:
                os.kill(args.pid, 0)
            except ProcessLookupError:
                print('FAIL: the backend died (before %s, round %d)' % (name(sc), rnd))
                return 1
            log.mark()
            expected = log.disconnects + 1
            try:
                sc(ctx)
                log.wait_disconnects(expected)
            except (Fail, OSError) as e:
                print('FAIL: %s (round %d): %s' % (name(sc), rnd, e))
                return 1
            counts[name(sc)] = counts.get(name(sc), 0) + 1
        now = time.monotonic()
        t = log.traffic()
        if t > last_traffic:
            last_traffic, last_traffic_t = t, now
        elif now - last_traffic_t > 5:
            print('FAIL: port %d stopped forwarding (RX-packets stuck at %d for %.0f s, round %d)'
                  % (args.traffic_port, t, now - last_traffic_t, rnd))
            return 1
        if rnd == 1:
            time.sleep(0.2)
            first = proc_counts(args.pid)
            print('after round 1: %d fds, %d mappings, VmRSS %d kB' % first)
        sys.stdout.flush()
    time.sleep(0.2)
    fds, maps, rss = proc_counts(args.pid)
    print('after round %d: %d fds, %d mappings, VmRSS %d kB' % (args.rounds, fds, maps, rss))
    for n in sorted(counts):
        print('  %-50s %6d' % (n, counts[n]))
    total = sum(counts.values())
    print('%d scenarios run in %.0f s; the other device forwarded %d packets meanwhile'
          % (total, time.monotonic() - t0, log.traffic()))
    if first is not None:
        if fds != first[0]:
            print('FAIL: open fds went from %d to %d' % (first[0], fds))
            return 1
        if maps != first[1]:
            print('FAIL: mappings went from %d to %d' % (first[1], maps))
            return 1
        if rss > first[2] + args.rss_slack:
            print('FAIL: VmRSS grew from %d to %d kB' % (first[2], rss))
            return 1
    print('PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())
