#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A vhost-user backend that answers one request badly.

    fake_backend.py SOCKET MODE [REQUEST]

It listens on SOCKET, serves one front-end and answers every request the
way a backend should, except REQUEST (a name such as GET_FEATURES, default
per mode), whose reply it spoils as MODE says:

  flags        reply without the reply bit
  version      reply with version 2
  request      reply naming another request
  size         a u64 reply of 4 bytes
  oversize     a header announcing more payload than any message
  fd           a reply carrying a file descriptor
  nack         REPLY_ACK answered with 1 (refused)
  silent       no reply at all (the front-end must time out)
  unsolicited  an extra reply nobody asked for, after REQUEST
  close        hang up on REQUEST
  queues       GET_QUEUE_NUM answers 0 queue pairs
  status       GET_STATUS answers without FEATURES_OK
  breq-unknown on SET_BACKEND_REQ_FD, send backend request 99 with
               NEED_REPLY on the new channel and check that the front-end
               refuses it (prints "fake: backend request refused with N"),
               then spoil GET_STATUS like 'status' so that the start ends
  breq-bad     on SET_BACKEND_REQ_FD, send an IOTLB message of a wrong size
               on the new channel (the front-end must drop the connection)
  hostile-id   answer everything well, map guest memory, and once the driver
               is running return a used entry on receive ring 0 whose id was
               never posted
  hostile-len  ... a used entry longer than its buffer
  hostile-unused
               ... a used entry of length 0 (a buffer given back unused, which
               is legal: the front-end must count it, not break the ring)
  hostile-idx  ... a used index 5000 entries ahead
  hostile-idx-legacy
               hostile-idx with a legacy backend: no PROTOCOL_FEATURES (so no
               REPLY_ACK: the front-end ends its start with a GET_FEATURES),
               no VERSION_1 (a 10-byte header)

It prints what it does on stdout, and exits when the front-end hangs up.
"""
import array
import mmap
import os
import socket
import struct
import sys

REQ = {
    'GET_FEATURES': 1, 'SET_FEATURES': 2, 'SET_OWNER': 3, 'SET_MEM_TABLE': 5,
    'SET_VRING_NUM': 8, 'SET_VRING_ADDR': 9, 'SET_VRING_BASE': 10, 'GET_VRING_BASE': 11,
    'SET_VRING_KICK': 12, 'SET_VRING_CALL': 13, 'GET_PROTOCOL_FEATURES': 15,
    'SET_PROTOCOL_FEATURES': 16, 'GET_QUEUE_NUM': 17, 'SET_VRING_ENABLE': 18,
    'SET_BACKEND_REQ_FD': 21, 'GET_CONFIG': 24, 'SET_STATUS': 39, 'GET_STATUS': 40,
}
NAME = {v: k for k, v in REQ.items()}
DEFAULT_REQUEST = {
    'nack': 'SET_MEM_TABLE', 'queues': 'GET_QUEUE_NUM', 'status': 'GET_STATUS',
    'unsolicited': 'SET_OWNER', 'breq-unknown': 'SET_BACKEND_REQ_FD',
    'breq-bad': 'SET_BACKEND_REQ_FD',
}
VERSION, REPLY, NEED_REPLY = 0x1, 0x4, 0x8
# VERSION_1, PROTOCOL_FEATURES, MRG_RXBUF, EVENT_IDX
FEATURES = (1 << 32) | (1 << 30) | (1 << 15) | (1 << 29)
# MQ, REPLY_ACK, BACKEND_REQ, CONFIG, STATUS
PROTOCOL_FEATURES = (1 << 0) | (1 << 3) | (1 << 5) | (1 << 9) | (1 << 16)
HDR = struct.Struct('<III')


def log(*args):
    print('fake:', *args, flush=True)


def recv_exact(conn, n, fds):
    data = b''
    while len(data) < n:
        msg, anc, _, _ = conn.recvmsg(n - len(data), socket.CMSG_SPACE(8 * 4))
        if not msg:
            return None
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                got = array.array('i')
                got.frombytes(payload[:len(payload) - len(payload) % got.itemsize])
                fds.extend(got)
        data += msg
    return data


def send(conn, request, flags, payload, fds=()):
    msg = HDR.pack(request, flags, len(payload)) + payload
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', fds))] if fds else []
    conn.sendmsg([msg], anc)


class Guest:
    """Guest memory and the rings the front-end set up, for the hostile modes."""

    def __init__(self):
        self.regions = []   # (userspace_addr, size, mmap offset, mapping)
        self.sizes = {}     # ring index -> entries
        self.addrs = {}     # ring index -> (desc, used, avail) front-end addresses

    def add_regions(self, payload, fds):
        nregions = struct.unpack('<I', payload[:4])[0]
        for i in range(nregions):
            _, size, uaddr, offset = struct.unpack('<QQQQ', payload[8 + 32 * i:40 + 32 * i])
            m = mmap.mmap(fds[i], offset + size, mmap.MAP_SHARED,
                          mmap.PROT_READ | mmap.PROT_WRITE)
            self.regions.append((uaddr, size, offset, m))

    def at(self, addr):
        for uaddr, size, offset, m in self.regions:
            if uaddr <= addr < uaddr + size:
                return m, offset + addr - uaddr
        raise ValueError(f'address {addr:#x} is not in guest memory')

    def spoil_rx(self, mode):
        """Write one bad used entry on receive ring 0 (split layout)."""
        size = self.sizes[0]
        _, used, avail = self.addrs[0]
        um, uo = self.at(used)
        am, ao = self.at(avail)
        idx = struct.unpack_from('<H', um, uo + 2)[0]
        head = struct.unpack_from('<H', am, ao + 4)[0]
        if mode == 'hostile-idx':
            struct.pack_into('<H', um, uo + 2, (idx + 5000) & 0xffff)
            log(f'used index of ring 0 moved from {idx} to {idx + 5000}')
            return
        if mode == 'hostile-id':
            entry = (size + 7, 64)
        elif mode == 'hostile-unused':
            entry = (head, 0)
        else:
            entry = (head, 1 << 20)
        struct.pack_into('<II', um, uo + 4 + 8 * (idx % size), *entry)
        struct.pack_into('<H', um, uo + 2, (idx + 1) & 0xffff)
        log(f'used entry id {entry[0]} len {entry[1]} written on ring 0')


def expect_refusal(chan):
    """Send an unknown backend request that asks for a reply; report the answer."""
    send(chan, 99, VERSION | NEED_REPLY, b'')
    chan.settimeout(5)
    try:
        hdr = chan.recv(HDR.size)
        request, flags, size = HDR.unpack(hdr)
        value = struct.unpack('<Q', chan.recv(size))[0]
        log(f'backend request refused with {value}' if request == 99 and flags & REPLY
            else f'odd answer to backend request 99: {request} {flags:#x}')
    except (OSError, struct.error) as e:
        log('no answer to backend request 99:', e)


def serve(conn, mode, target):
    status = 0
    chan = None
    guest = Guest()
    hostile = mode.startswith('hostile-')
    legacy = mode.endswith('-legacy')
    features = (1 << 29) if legacy else FEATURES  # EVENT_IDX only
    get_features = 0
    while True:
        fds = []
        hdr = recv_exact(conn, HDR.size, fds)
        if hdr is None:
            log('front-end hung up')
            return
        request, flags, size = HDR.unpack(hdr)
        payload = recv_exact(conn, size, fds) if size else b''
        name = NAME.get(request, str(request))
        spoil = name == target
        log(f'{name} flags={flags:#x} size={size} fds={len(fds)}{" (spoiled)" if spoil else ""}')
        if request == REQ['SET_BACKEND_REQ_FD'] and fds:
            chan = socket.socket(fileno=os.dup(fds[0]))
        if hostile and request == REQ['SET_MEM_TABLE']:
            guest.add_regions(payload, fds)
        if hostile and request == REQ['SET_VRING_NUM']:
            index, num = struct.unpack('<II', payload)
            guest.sizes[index] = num
        if hostile and request == REQ['SET_VRING_ADDR']:
            index, _, desc, used, avail, _ = struct.unpack('<IIQQQQ', payload)
            guest.addrs[index] = (desc, used, avail)
        for fd in fds:
            os.close(fd)
        if spoil and mode == 'close':
            return
        if spoil and mode == 'silent':
            continue
        if request == REQ['SET_STATUS']:
            status = struct.unpack('<Q', payload)[0]
            if hostile and status & 0x4:  # DRIVER_OK: the driver runs the rings now
                guest.spoil_rx(mode)
        value = None   # a u64 reply of a GET, or None
        body = None    # another reply body
        if request == REQ['GET_FEATURES']:
            value = features
            get_features += 1
            # A legacy front-end's start ends with GET_FEATURES: the rings run now.
            if hostile and legacy and get_features == 2:
                guest.spoil_rx(mode.replace('-legacy', ''))
        elif request == REQ['GET_PROTOCOL_FEATURES']:
            value = PROTOCOL_FEATURES
        elif request == REQ['GET_QUEUE_NUM']:
            value = 0 if spoil and mode == 'queues' else 1
        elif request == REQ['GET_STATUS']:
            value = status & ~0x8 if (spoil and mode == 'status') or mode == 'breq-unknown' \
                else status
        elif request == REQ['GET_VRING_BASE']:
            body = payload[:4] + struct.pack('<I', 0)
        elif request == REQ['GET_CONFIG']:
            offset, length, cflags = struct.unpack('<III', payload[:12])
            body = struct.pack('<III', offset, length, cflags) + bytes(length)
        elif flags & NEED_REPLY:
            value = 1 if spoil and mode == 'nack' else 0
        if spoil and mode in ('breq-unknown', 'breq-bad') and chan is not None:
            if mode == 'breq-unknown':
                if value is not None:
                    send(conn, request, VERSION | REPLY, struct.pack('<Q', value))
                    value = None
                expect_refusal(chan)
            else:
                send(chan, 1, VERSION, bytes(20))  # IOTLB_MSG: 20 bytes, not 32
                log('sent a 20-byte IOTLB message on the backend channel')
        if spoil and mode == 'unsolicited':
            if value is not None:
                send(conn, request, VERSION | REPLY, struct.pack('<Q', value))
            send(conn, request, VERSION | REPLY, struct.pack('<Q', 0))
            log('sent an extra reply')
            continue
        if value is None and body is None:
            continue
        reply = body if body is not None else struct.pack('<Q', value)
        rflags = VERSION | REPLY
        rfds = ()
        if spoil:
            if mode == 'flags':
                rflags = VERSION
            elif mode == 'version':
                rflags = 0x2 | REPLY
            elif mode == 'request':
                request = request + 1
            elif mode == 'size':
                reply = reply[:4]
            elif mode == 'oversize':
                conn.sendall(HDR.pack(request, rflags, 0x10000))
                continue
            elif mode == 'fd':
                rfds = (os.open('/dev/null', os.O_RDONLY),)
        send(conn, request, rflags, reply, rfds)
        for fd in rfds:
            os.close(fd)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, mode = sys.argv[1], sys.argv[2]
    target = sys.argv[3] if len(sys.argv) > 3 else DEFAULT_REQUEST.get(mode, 'GET_FEATURES')
    if mode.startswith('hostile-'):
        target = None  # every reply is right; the rings are what goes wrong
    serve_one(path, f'mode {mode}, spoiling {target or "no reply"}',
              lambda conn: serve(conn, mode, target))
    return 0


def serve_one(path, what, fn):
    """Listen on 'path', serve the first front-end with fn(conn), then clean up."""
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    log(f'listening on {path}, {what}')
    srv.settimeout(60)
    conn, _ = srv.accept()
    try:
        fn(conn)
    except (BrokenPipeError, ConnectionResetError):
        log('front-end hung up')
    conn.close()
    srv.close()
    os.unlink(path)


if __name__ == '__main__':
    sys.exit(main())
