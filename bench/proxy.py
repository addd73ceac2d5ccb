"""bench/proxy.py -- a loopback PostgreSQL proxy that counts round trips.

The stand-in for tests/proxy/pgproxy.c when that one is missing or does not
build; same command line and control protocol:

    python bench/proxy.py --listen 127.0.0.1:0 --upstream unix:/dir/.s.PGSQL.5432 \
        [--delay-us N] --control 127.0.0.1:0

prints `listen=PORT control=PORT` as its first stdout line.  The control
port takes one line command per connection: `stats` answers
`conns=.. total_conns=.. round_trips=.. queries=..`, `reset` answers `ok`
(zeroes the counters), `quit` stops the proxy.

A round trip is a client->server burst that follows a server->client burst
(or starts the connection).  `queries` counts Query and Execute messages.
With --delay-us every chunk is held that long in each direction, in order.
Threads rather than asyncio: time.sleep() is precise to tens of
microseconds, asyncio's timers only to a millisecond.
"""

import argparse
import collections
import socket
import struct
import sys
import threading
import time

lock = threading.Lock()
stats = {"conns": 0, "total_conns": 0, "round_trips": 0, "queries": 0}


def parse_addr(text):
    if text.startswith("unix:"):
        return socket.AF_UNIX, text[5:]
    host, _, port = text.rpartition(":")
    return socket.AF_INET, (host or "127.0.0.1", int(port))


class Pipe:
    """One proxied connection: two pumps, and the direction last seen."""

    def __init__(self, client, upstream_addr, delay):
        self.client = client
        family, addr = upstream_addr
        self.server = socket.socket(family, socket.SOCK_STREAM)
        self.server.connect(addr)
        for s in (self.client, self.server):
            if s.family == socket.AF_INET:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.delay = delay
        self.last = None          # "c2s" or "s2c"
        self.buf = b""            # client->server bytes not yet framed
        self.startup = True       # still in the untyped startup messages
        self.closed = False

    def start(self):
        with lock:
            stats["conns"] += 1
            stats["total_conns"] += 1
        for src, dst, name in ((self.client, self.server, "c2s"),
                               (self.server, self.client, "s2c")):
            threading.Thread(target=self.pump, args=(src, dst, name), daemon=True).start()

    def count(self, name, data):
        with lock:
            if name == "c2s":
                if self.last != "c2s":
                    stats["round_trips"] += 1
                self.last = "c2s"
                stats["queries"] += self.frame(data)
            else:
                self.last = "s2c"

    def frame(self, data):
        """Count Query ('Q') and Execute ('E') messages in the client's stream."""
        self.buf += data
        n = 0
        while True:
            if self.startup:
                if len(self.buf) < 8:
                    break
                length, code = struct.unpack("!II", self.buf[:8])
                if len(self.buf) < length:
                    break
                self.buf = self.buf[length:]
                if code == 196608:          # StartupMessage, protocol 3.0
                    self.startup = False
                continue
            if len(self.buf) < 5:
                break
            kind = self.buf[0:1]
            (length,) = struct.unpack("!I", self.buf[1:5])
            if len(self.buf) < 1 + length:
                break
            if kind in (b"Q", b"E"):
                n += 1
            self.buf = self.buf[1 + length:]
        return n

    def pump(self, src, dst, name):
        queue = None
        if self.delay > 0:
            queue = collections.deque()
            ready = threading.Condition()
            threading.Thread(target=self.delayed_writer, args=(dst, queue, ready),
                             daemon=True).start()
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self.count(name, data)
                if queue is None:
                    dst.sendall(data)
                else:
                    with ready:
                        queue.append((time.monotonic() + self.delay, data))
                        ready.notify()
        except OSError:
            pass
        if queue is not None:
            with ready:
                queue.append((0, None))
                ready.notify()
        else:
            self.close()

    def delayed_writer(self, dst, queue, ready):
        try:
            while True:
                with ready:
                    while not queue:
                        ready.wait()
                    due, data = queue.popleft()
                if data is None:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                dst.sendall(data)
        except OSError:
            pass
        self.close()

    def close(self):
        with lock:
            if self.closed:
                return
            self.closed = True
            stats["conns"] -= 1
        for s in (self.client, self.server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def control_loop(sock, stop):
    while True:
        conn, _ = sock.accept()
        with conn:
            line = conn.makefile("r").readline().strip()
            if line == "stats":
                with lock:
                    reply = "conns={conns} total_conns={total_conns} " \
                            "round_trips={round_trips} queries={queries}".format(**stats)
            elif line == "reset":
                with lock:
                    stats["total_conns"] = 0
                    stats["round_trips"] = 0
                    stats["queries"] = 0
                reply = "ok"
            elif line == "quit":
                conn.sendall(b"ok\n")
                stop.set()
                return
            else:
                reply = "error unknown command"
            conn.sendall(reply.encode() + b"\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--delay-us", type=int, default=0)
    ap.add_argument("--control", default="127.0.0.1:0")
    args = ap.parse_args()
    upstream = parse_addr(args.upstream)

    def bound(text):
        _, addr = parse_addr(text)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(addr)
        s.listen(128)
        return s

    listener, ctl = bound(args.listen), bound(args.control)
    print("listen=%d control=%d" % (listener.getsockname()[1], ctl.getsockname()[1]), flush=True)
    stop = threading.Event()
    threading.Thread(target=control_loop, args=(ctl, stop), daemon=True).start()

    def accept_loop():
        while True:
            client, _ = listener.accept()
            try:
                Pipe(client, upstream, args.delay_us / 1e6).start()
            except OSError as exc:
                print("proxy: upstream: %s" % exc, file=sys.stderr)
                client.close()

    threading.Thread(target=accept_loop, daemon=True).start()
    stop.wait()


if __name__ == "__main__":
    main()
