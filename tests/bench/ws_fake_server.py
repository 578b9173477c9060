#!/usr/bin/env python3
"""A fake venued for venue-loadgen's WebSocket client (BENCHMARKS.md, "With
its own epoll transport"). It speaks just enough of the venue.v1 protocol
(welcome, joined, poses) to let the generator join and walk, and sends what
venued (libwebsockets) never does: every message in three fragments with a
ping between them, frames with 64-bit lengths, a 70 KB joined, and message
types the generator does not know. It counts the pongs and checks that each
echoes its ping. 127.0.0.1 only; it ends by itself after SECONDS.

    python3 tests/bench/ws_fake_server.py PORT SECONDS &
    build-test/tests/venue-loadgen --port PORT --clients 8 --probes 3 \\
        --duration 3 --warmup 1 --join-timeout 10

Exit status 0 when some pongs came back and none was wrong.
"""
import asyncio
import base64
import hashlib
import json
import os
import struct
import sys

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
clients = {}  # writer -> [uid, newest pose p]
pongs = {"ok": 0, "bad": 0}


def dumps(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def frame(op, payload, fin=True):
    n, b0 = len(payload), (0x80 if fin else 0) | op
    if n < 126:
        head = struct.pack("!BB", b0, n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, 126, n)
    else:
        head = struct.pack("!BBQ", b0, 127, n)
    return head + payload


def fragments(data, ping):
    """A text message in three frames, a ping after the first."""
    a, b = len(data) // 3, 2 * len(data) // 3
    return (frame(1, data[:a], False) + frame(9, ping) + frame(0, data[a:b], False)
            + frame(0, data[b:]))


async def read_frame(r):
    h = await r.readexactly(2)
    n = h[1] & 0x7F
    if n == 126:
        n = struct.unpack("!H", await r.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await r.readexactly(8))[0]
    if not h[1] & 0x80:
        raise ValueError("client frame not masked")
    mask = await r.readexactly(4)
    p = bytearray(await r.readexactly(n))
    for i in range(n):
        p[i] ^= mask[i & 3]
    return h[0] & 0x0F, bytes(p)


async def handle(r, w):
    req = await r.readuntil(b"\r\n\r\n")
    if req.startswith(b"GET /metrics"):
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await w.drain()
        w.close()
        return
    keys = [l.split(b":", 1)[1].strip() for l in req.split(b"\r\n")
            if l.lower().startswith(b"sec-websocket-key:")]
    if not keys or b"Sec-WebSocket-Protocol: venue.v1" not in req:
        w.close()
        return
    accept = base64.b64encode(hashlib.sha1(keys[0] + GUID).digest())
    w.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
            b"\r\nSec-WebSocket-Protocol: venue.v1\r\n\r\n")
    uid = "u-%016x" % int.from_bytes(os.urandom(8), "big")
    ping = b"pi" + uid[-4:].encode()
    try:
        while True:
            op, p = await read_frame(r)
            if op == 0xA:
                pongs["ok" if p == ping else "bad"] += 1
                continue
            if op == 0x8:
                break
            m = json.loads(p)
            if m["type"] == "hello":
                w.write(fragments(dumps({"type": "welcome", "tick_hz": 20, "user": {"id": uid},
                                         "pad": "x" * 300}), ping))
            elif m["type"] == "join":
                clients[w] = [uid, [0.0, 0.0, 0.0]]
                w.write(fragments(dumps({"type": "joined",
                                         "users": [{"id": uid, "p": [1.5, 0.0, 2.5]}],
                                         "pad": "y" * 70000}), ping))
            elif m["type"] == "pose" and w in clients:
                clients[w][1] = m["p"]
            await w.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    clients.pop(w, None)
    w.close()


async def ticker():
    tick = 0
    while True:
        await asyncio.sleep(0.05)
        tick += 1
        msg = dumps({"type": "poses", "tick": tick,
                     "users": [{"id": u, "p": p, "q": [0, 0, 0, 1]} for u, p in clients.values()]})
        for w, (uid, _) in list(clients.items()):
            if tick % 3 == 0:
                w.write(fragments(msg, b"pi" + uid[-4:].encode()))
            elif tick % 3 == 1:
                w.write(frame(1, msg))
            else:
                w.write(frame(1, msg + b" " * 70000))  # a 64-bit length
            if tick % 7 == 0:
                w.write(frame(1, b'{"type":"presence","x":1}'))


async def main(port, seconds):
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    task = asyncio.get_running_loop().create_task(ticker())
    async with server:
        await asyncio.sleep(seconds)
    task.cancel()
    print("pongs", pongs, flush=True)
    return 0 if pongs["ok"] and not pongs["bad"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]), min(float(sys.argv[2]), 600.0))))
