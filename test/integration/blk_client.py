#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A small virtio-blk driver in Python, against a running vhu-blk.

    blk_client.py --socket S --log LOG --mode rw|ro|resize|listen [--image IMG]

It connects to S (listens on S with --mode listen), starts one split request queue over a memfd and sends the
requests vhu-blkgen does not: FLUSH, DISCARD, WRITE_ZEROES, GET_ID, and
hostile ones (a range past the capacity, a length that is not a multiple
of 512, a header shorter than 16 bytes, a header after the data, no
writable status byte, more data segments than seg_max). Each
answer is checked byte for byte; a malformed chain must break the ring (no
answer, a log line in LOG naming the reason) while vhu-blk stays up and
serves the next connection.

  rw      a writable malloc or file device
  ro      a --read-only device: writes answer IOERR, DISCARD is not offered
  resize  a file device: IMG grows by 1 MiB while connected; the front-end
          must get CONFIG_CHANGE on its back-end channel and read the new
          capacity
  listen  a writable device started with --client: the front-end listens on
          S, vhu-blk connects; the front-end writes and reads back, goes
          away (closing S), listens again; vhu-blk must reconnect, and what
          was written before must read back

Exits 0 on success, 1 on the first failure (saying which check and why).
"""
import argparse
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'hostile'))
from hostile_client import (DESC_F_NEXT, DESC_F_WRITE, F_PROTOCOL,  # noqa: E402
                            F_VERSION_1, GET_CONFIG, GET_FEATURES, GET_PROTOCOL_FEATURES,
                            NEED_REPLY, PF_BACKEND_REQ, PF_CONFIG, PF_REPLY_ACK,
                            SET_BACKEND_REQ_FD, SET_FEATURES, SET_MEM_TABLE, SET_OWNER,
                            SET_PROTOCOL_FEATURES, SET_VRING_ADDR, SET_VRING_BASE,
                            SET_VRING_CALL, SET_VRING_ENABLE, SET_VRING_KICK, SET_VRING_NUM,
                            UVA, VERSION, Conn, Fail, bit, eventfd, mem_table, memfd, msg,
                            region, state, u64, vring_addr)

F_SEG_MAX, F_RO, F_BLK_SIZE, F_FLUSH, F_WCE, F_DISCARD, F_WZ = 2, 5, 6, 9, 11, 13, 14
T_IN, T_OUT, T_FLUSH, T_GET_ID, T_DISCARD, T_WZ = 0, 1, 4, 8, 11, 13
S_OK, S_IOERR, S_UNSUPP = 0, 1, 2
CONFIG_CHANGE_MSG = 2
RING = 256
GUEST = 4 << 20
DESC, AVAIL, USED = 0x1000, 0x4000, 0x5000
BUFS = 0x10000


class Driver:
    """Guest memory and the driver's side of request queue 0 (split)."""

    def __init__(self, c):
        self.c = c
        self.fd = memfd(GUEST, 'blk-client')
        import mmap
        self.m = mmap.mmap(self.fd, GUEST)
        self.u16 = memoryview(self.m).cast('H')
        self.avail = 0
        self.used = 0
        self.next_desc = 0
        self.next_buf = BUFS
        self.backend = None

    def alloc(self, size):
        if self.next_buf + size > GUEST:
            self.next_buf = BUFS
        a = self.next_buf
        self.next_buf += (size + 511) & ~511
        return a

    def start(self, want_features):
        c = self.c
        offered = c.get_u64(GET_FEATURES)
        pf = c.get_u64(GET_PROTOCOL_FEATURES)
        for b in (PF_REPLY_ACK, PF_CONFIG, PF_BACKEND_REQ):
            if not pf & bit(b):
                raise Fail('protocol feature %d not offered (0x%x)' % (b, pf))
        c.request(SET_PROTOCOL_FEATURES, u64(bit(PF_REPLY_ACK, PF_CONFIG, PF_BACKEND_REQ)))
        self.features = offered & (bit(F_VERSION_1, F_PROTOCOL) | want_features)
        for step in (lambda: c.request(SET_OWNER, ack=True),
                     lambda: c.request(SET_FEATURES, u64(self.features), ack=True)):
            if step() != 0:
                raise Fail('a step of a valid handshake was refused')
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.backend = mine
        if c.request(SET_BACKEND_REQ_FD, b'', [os.dup(theirs.fileno())], ack=True) != 0:
            raise Fail('SET_BACKEND_REQ_FD refused')
        theirs.close()
        steps = [(SET_MEM_TABLE, mem_table(region(0, GUEST, UVA, 0)), [os.dup(self.fd)]),
                 (SET_VRING_NUM, state(0, RING), []),
                 (SET_VRING_ADDR, vring_addr(0, UVA + DESC, UVA + USED, UVA + AVAIL), []),
                 (SET_VRING_BASE, state(0, 0), []),
                 (SET_VRING_CALL, u64(0), [eventfd()]),
                 (SET_VRING_KICK, u64(0), [eventfd()]),
                 (SET_VRING_ENABLE, state(0, 1), [])]
        for req, payload, fds in steps:
            if c.request(req, payload, fds, ack=True) != 0:
                raise Fail('request %d of a valid handshake refused' % req)
        return offered

    def config(self):
        self.c.send(msg(GET_CONFIG, struct.pack('<III', 0, 60, 0) + bytes(60)))
        p = self.c.reply(GET_CONFIG)
        off, size, _ = struct.unpack_from('<III', p)
        if size != 60:
            raise Fail('GET_CONFIG answered %d bytes' % size)
        cap, size_max, seg_max = struct.unpack_from('<QII', p, 12)
        blk_size = struct.unpack_from('<I', p, 12 + 20)[0]
        return {'capacity': cap, 'seg_max': seg_max, 'blk_size': blk_size}

    def post(self, bufs):
        """bufs: (gpa, len, writable) in order. Returns the head."""
        head = self.next_desc % RING
        for i, (gpa, length, w) in enumerate(bufs):
            d = (self.next_desc + i) % RING
            flags = (DESC_F_WRITE if w else 0) | (DESC_F_NEXT if i + 1 < len(bufs) else 0)
            struct.pack_into('<QIHH', self.m, DESC + 16 * d, gpa, length, flags,
                             (d + 1) % RING)
        self.next_desc += len(bufs)
        self.u16[(AVAIL + 4 + 2 * (self.avail % RING)) // 2] = head
        self.avail = (self.avail + 1) & 0xffff
        self.u16[(AVAIL + 2) // 2] = self.avail
        return head

    def wait_used(self, timeout=5.0):
        """The next used entry (head, len), or None after 'timeout' seconds."""
        deadline = time.monotonic() + timeout
        while self.u16[(USED + 2) // 2] == self.used:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.001)
        e = USED + 4 + 8 * (self.used % RING)
        self.used = (self.used + 1) & 0xffff
        return struct.unpack_from('<II', self.m, e)

    def request(self, rtype, sector=0, data=b'', data_in=0):
        """One request; returns (status, bytes read). Fails if there is no answer."""
        hdr = self.alloc(16)
        struct.pack_into('<IIQ', self.m, hdr, rtype, 0, sector)
        bufs = [(hdr, 16, False)]
        if data:
            g = self.alloc(len(data))
            self.m[g:g + len(data)] = data
            bufs.append((g, len(data), False))
        if data_in:
            gin = self.alloc(data_in)
            self.m[gin:gin + data_in] = b'\xee' * data_in
            bufs.append((gin, data_in, True))
        st = self.alloc(1)
        self.m[st] = 0xff
        bufs.append((st, 1, True))
        head = self.post(bufs)
        u = self.wait_used()
        if u is None:
            raise Fail('request type %d got no answer' % rtype)
        if u[0] != head:
            raise Fail('used head %d, posted %d' % (u[0], head))
        got = bytes(self.m[gin:gin + data_in]) if data_in else b''
        return self.m[st], got

    def close(self):
        self.u16.release()
        self.m.close()
        os.close(self.fd)
        if self.backend is not None:
            self.backend.close()
        self.c.close()


class Accepted(Conn):
    """A connection the back-end made to our listening socket."""

    def __init__(self, s):
        self.s = s


def check(cond, what):
    if not cond:
        raise Fail(what)


def ranges(*rs):
    return b''.join(struct.pack('<QII', s, n, f) for s, n, f in rs)


def wait_log(path, text, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, errors='replace') as f:
            if text in f.read():
                return
        time.sleep(0.05)
    raise Fail('the log never said %r' % text)


ALL = bit(F_SEG_MAX, F_RO, F_BLK_SIZE, F_FLUSH, F_WCE, F_DISCARD, F_WZ)


def scenario_rw(a):
    d = Driver(Conn(a.socket))
    offered = d.start(ALL)
    for f in (F_FLUSH, F_DISCARD, F_WZ, F_WCE, F_BLK_SIZE, F_SEG_MAX):
        check(offered & bit(f), 'feature %d not offered' % f)
    cap = d.config()['capacity']
    pattern = bytes((i * 7) & 0xff for i in range(4096))
    check(d.request(T_OUT, 8, pattern)[0] == S_OK, 'write failed')
    s, got = d.request(T_IN, 8, data_in=4096)
    check(s == S_OK and got == pattern, 'read back differs')
    check(d.request(T_FLUSH)[0] == S_OK, 'flush failed')
    check(d.request(T_DISCARD, data=ranges((8, 4, 0)))[0] == S_OK, 'discard failed')
    check(d.request(T_WZ, data=ranges((12, 4, 0)))[0] == S_OK, 'write zeroes failed')
    s, got = d.request(T_IN, 12, data_in=2048)
    check(s == S_OK and got == bytes(2048), 'write-zeroes range does not read as zeroes')
    s, got = d.request(T_GET_ID, data_in=20)
    check(s == S_OK and got.rstrip(b'\0') != b'', 'GET_ID gave no id')
    # Hostile requests the device answers.
    check(d.request(T_IN, cap, data_in=512)[0] == S_IOERR, 'read past the end not IOERR')
    check(d.request(T_IN, 2 ** 63, data_in=512)[0] == S_IOERR, 'overflowing sector not IOERR')
    check(d.request(T_IN, 0, data_in=100)[0] == S_IOERR, 'a 100-byte read not IOERR')
    check(d.request(T_DISCARD, data=ranges((cap - 1, 2, 0)))[0] == S_IOERR,
          'discard past the end not IOERR')
    check(d.request(99)[0] == S_UNSUPP, 'unknown type not UNSUPP')
    d.close()
    # Chains that cannot be answered break the ring, each on a connection of
    # its own; the daemon serves the next front-end every time.
    broken = [
        ('an 8-byte header', 'shorter than the 16-byte header',
         lambda d: [(d.alloc(8), 8, False), (d.alloc(1), 1, True)]),
        ('its header after the data', 'device-readable descriptor after a device-writable',
         lambda d: [(d.alloc(512), 512, True), (d.alloc(16), 16, False),
                    (d.alloc(1), 1, True)]),
        ('no writable status byte', 'no device-writable byte for the status',
         lambda d: [(d.alloc(16), 16, False), (d.alloc(512), 512, False)]),
        ('127 data segments (seg_max 126)', 'seg_max',
         lambda d: [(d.alloc(16), 16, False)] + [(d.alloc(512), 512, True)] * 127 +
                   [(d.alloc(1), 1, True)]),
    ]
    for what, reason, chain in broken:
        d = Driver(Conn(a.socket))
        d.start(ALL)
        d.post(chain(d))
        check(d.wait_used(1.0) is None, 'a chain with %s was answered' % what)
        wait_log(a.log, reason)
        d.close()
    d = Driver(Conn(a.socket))
    d.start(ALL)
    check(d.request(T_FLUSH)[0] == S_OK, 'flush after the broken rings failed')
    d.close()


def scenario_ro(a):
    d = Driver(Conn(a.socket))
    offered = d.start(ALL)
    check(offered & bit(F_RO), 'RO not offered')
    check(not offered & bit(F_DISCARD), 'DISCARD offered on a read-only device')
    check(d.request(T_OUT, 0, bytes(512))[0] == S_IOERR, 'a write was not refused')
    check(d.request(T_IN, 0, data_in=512)[0] == S_OK, 'a read failed')
    check(d.request(T_DISCARD, data=ranges((0, 1, 0)))[0] == S_UNSUPP,
          'a discard was not UNSUPP')
    d.close()


def scenario_resize(a):
    d = Driver(Conn(a.socket))
    d.start(ALL)
    before = d.config()['capacity']
    with open(a.image, 'r+b') as f:
        f.truncate(before * 512 + (1 << 20))
    d.backend.settimeout(5.0)
    try:
        hdr = d.backend.recv(12)
    except socket.timeout:
        raise Fail('no CONFIG_CHANGE within 5 s of the resize')
    req, flags, _ = struct.unpack('<III', hdr)
    check(req == CONFIG_CHANGE_MSG, 'back-end message %d, not CONFIG_CHANGE' % req)
    check(flags & 0x3 == VERSION and not flags & NEED_REPLY, 'bad flags 0x%x' % flags)
    after = d.config()['capacity']
    check(after == before + 2048, 'capacity %d after growing %d by 2048' % (after, before))
    check(d.request(T_IN, after - 1, data_in=512)[0] == S_OK, 'the new last sector fails')
    d.close()


def accept_backend(path, timeout):
    """Listen on 'path' and take the back-end's connection; the socket file is
    gone again when this returns, as when a front-end goes away."""
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        srv.bind(path)
        srv.listen(1)
        srv.settimeout(timeout)
        try:
            s, _ = srv.accept()
        except socket.timeout:
            raise Fail('vhu-blk did not connect to %s within %.0f s' % (path, timeout))
    finally:
        srv.close()
        os.unlink(path)
    s.settimeout(None)
    return s


def scenario_listen(a):
    patterns = [bytes((i * 13 + r) & 0xff for i in range(4096)) for r in range(2)]
    for r in range(2):
        # vhu-blk retries once a second: 15 s is ample, even on a loaded machine.
        d = Driver(Accepted(accept_backend(a.socket, 15.0)))
        d.start(ALL)
        check(d.request(T_OUT, 8 + 8 * r, patterns[r])[0] == S_OK,
              'write failed on connection %d' % (r + 1))
        for k in range(r + 1):
            s, got = d.request(T_IN, 8 + 8 * k, data_in=4096)
            check(s == S_OK and got == patterns[k],
                  'connection %d reads back other data at sector %d' % (r + 1, 8 + 8 * k))
        d.close()
        if r == 0:
            time.sleep(0.5)  # away for a moment before it listens again


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--socket', required=True)
    p.add_argument('--log', required=True)
    p.add_argument('--mode', choices=('rw', 'ro', 'resize', 'listen'), required=True)
    p.add_argument('--image')
    a = p.parse_args()
    try:
        {'rw': scenario_rw, 'ro': scenario_ro, 'resize': scenario_resize,
         'listen': scenario_listen}[a.mode](a)
    except Fail as e:
        print('blk_client: %s: FAIL: %s' % (a.mode, e))
        return 1
    print('blk_client: %s: PASS' % a.mode)
    return 0


if __name__ == '__main__':
    sys.exit(main())
