"""Hostile servers for the network tests, all on 127.0.0.1: a slow-loris that sends one byte at a
time, and one that accepts a request and never answers. `answer` plugs the behaviour into any
request handler (the index, OSV and registry test servers use it); `RawServer` is a bare TCP
listener that behaves so for every connection (it never speaks TLS either, so a TLS client stalls
in its handshake). Both stop as soon as the client goes away (or after `give_up` seconds), so a
passing test leaves no busy handler thread behind."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator

DRIP_HEADERS = "drip-headers"  # the status line arrives, then a header line that never ends
DRIP_BODY = "drip-body"  # headers at once (Content-Length: 1 MB), then the body a byte at a time
SILENT = "silent"  # the request is read, nothing is ever sent back
MODES = (DRIP_HEADERS, DRIP_BODY, SILENT)


def _gone(probe: socket.socket) -> bool:
    """Has the client closed its end? (`probe` is a plain duplicate: TLS sockets cannot peek.)"""
    try:
        readable, _, _ = select.select([probe], [], [], 0)
        return bool(readable) and probe.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _stream(mode: str, content_type: str) -> Iterator[bytes]:
    if mode == DRIP_HEADERS:
        yield b"HTTP/1.1 200 OK\r\n"
        while True:
            yield b"X-Drip: "
            yield from (b"a" for _ in range(4000))  # far below http.client's 64 KiB line limit
            yield b"\r\n"
    else:
        yield (f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: 1000000\r\n\r\n[").encode()
        while True:
            yield b" "


def answer(sock: socket.socket, mode: str, interval: float, give_up: float = 60.0, content_type: str = "") -> int:
    """Answer the request just read from `sock` the hostile way `mode` names; returns how many
    bytes went out after the first (each `interval` s apart)."""
    end = time.monotonic() + give_up
    probe = socket.fromfd(sock.fileno(), sock.family, sock.type)
    sent = 0
    try:
        if mode == SILENT:
            while time.monotonic() < end:
                readable, _, _ = select.select([probe], [], [], 0.05)
                if readable and not probe.recv(4096):  # whatever the client sends is read and dropped
                    break
            return 0
        data = _stream(mode, content_type or "application/json")
        sock.sendall(next(data))
        for piece in data:
            for i in range(len(piece)):
                if time.monotonic() > end or _gone(probe):
                    return sent
                time.sleep(interval)
                sock.sendall(piece[i : i + 1])
                sent += 1
    except OSError:
        pass  # the client gave up: what the test wants
    finally:
        probe.close()
    return sent


class RawServer:
    """Accepts TCP connections on 127.0.0.1 and answers each the hostile way `mode` names (reading
    the request head first, unless `mode` is SILENT). `sent` holds the bytes dripped per connection."""

    def __init__(self, mode: str, interval: float = 0.2) -> None:
        self.mode = mode
        self.interval = interval
        self.sent: list[int] = []
        self.connections = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.05)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def start(self) -> RawServer:
        self._accepting.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._accepting.join()
        self._sock.close()
        for t in self._threads:
            t.join(timeout=5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self.connections += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            if self.mode != SILENT:  # SILENT reads and drops whatever comes (a TLS hello, a request)
                conn.settimeout(5)
                head = b""
                try:
                    while b"\r\n\r\n" not in head and len(head) < 65536:
                        chunk = conn.recv(4096)
                        if not chunk:
                            return
                        head += chunk
                except OSError:
                    return
            self.sent.append(answer(conn, self.mode, self.interval, give_up=30.0))
