"""HTTP requests with a wall-clock deadline over connect, headers and body, and a byte cap.

requests' `timeout` bounds each socket operation, not the request: a server that sends one byte
every few seconds keeps a read alive forever (a slow-loris). Here every request runs under a
watchdog timer; when the deadline passes it shuts the request's socket down, which ends whatever
read is waiting (in the status line, the headers, the TLS handshake or the body) at once. The
body is read in full under the same deadline, up to a byte cap, so callers get a response whose
`.content` is already there.

One session class serves every network client: the package index, the vulnerability service
(pip-audit's session is replaced by one of these) and container registries.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import pool_classes_by_scheme as _DEFAULT_POOLS

CHUNK = 1 << 16
ERROR_BODY_BYTES = 64 * 1024  # enough of an error page for a message; the rest is not read


class DeadlineExceeded(requests.Timeout):
    """No complete answer (connect, headers and body) within the request's deadline."""


class ResponseTooLarge(requests.RequestException):
    """The body is larger than the request's byte cap."""


_local = threading.local()


class _Watch:
    """The sockets of one request, shut down together when its deadline passes."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.fired = False
        self._done = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.expires - time.monotonic()

    def add(self, sock: socket.socket) -> None:
        # A duplicate descriptor, as a plain socket: shutdown() acts on the connection behind every
        # descriptor of it, survives TLS wrapping (which detaches the original socket object), and
        # an SSLSocket cannot be dup()ed itself.
        try:
            dup = socket.fromfd(sock.fileno(), sock.family, sock.type)
        except (OSError, ValueError):
            return
        with self._lock:
            if not self._done:
                self._socks.append(dup)
                if self.fired:
                    _shutdown(dup)
                return
        dup.close()

    def fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            for s in self._socks:
                _shutdown(s)

    def finish(self) -> None:
        with self._lock:
            self._done = True
            socks, self._socks = self._socks, []
        for s in socks:
            s.close()


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the other side


def _watch_socket(sock: socket.socket | None) -> None:
    watch: _Watch | None = getattr(_local, "watch", None)
    if watch is not None and sock is not None:
        watch.add(sock)


class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch_socket(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch_socket(self.sock)  # a pooled connection, reused: its socket exists already
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch_socket(sock)  # before the TLS handshake, which a slow server can stall too
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch_socket(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class WatchedPools:
    """Mixin for a requests HTTPAdapter: its connections report their sockets to the watchdog
    (direct and through HTTP proxies; SOCKS proxies keep their own connection classes, where the
    per-read timeout, set to the time left, still ends the request near the deadline)."""

    poolmanager: Any
    proxy_manager: dict[str, Any]

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)  # type: ignore[misc]
        self.poolmanager.pool_classes_by_scheme = WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)  # type: ignore[misc]
        if manager.pool_classes_by_scheme is _DEFAULT_POOLS:
            manager.pool_classes_by_scheme = WATCHED_POOLS
        return manager


class WatchedAdapter(WatchedPools, HTTPAdapter):
    pass


class DeadlineSession(requests.Session):
    """A requests Session whose every request ends within `deadline` seconds, body included.

    `request()` (and so get/post/head) also takes `deadline=` and `max_bytes=` for one call.
    Raises DeadlineExceeded (a requests.Timeout) or ResponseTooLarge (a RequestException); a
    returned response's body is read (`.content`), at most `max_bytes` for a 2xx/3xx answer and a
    truncated `ERROR_BODY_BYTES` for an error answer.
    """

    def __init__(
        self,
        deadline: float,
        max_bytes: int,
        *,
        pool_connections: int = 10,
        pool_maxsize: int = 10,
        adapter: HTTPAdapter | None = None,
    ) -> None:
        super().__init__()
        self.deadline = deadline
        self.max_bytes = max_bytes
        if adapter is None:
            adapter = WatchedAdapter(pool_connections=pool_connections, pool_maxsize=pool_maxsize, max_retries=0)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def request(
        self,
        method: str | bytes,
        url: str | bytes,
        *args: Any,
        deadline: float | None = None,
        max_bytes: int | None = None,
        stream_body: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        """With `stream_body`, the body is left for the caller to read (a tarball streamed until
        one member is found) and the deadline goes on covering it until `resp.close()`; the
        connection is then never reused, so the watchdog cannot reach a later request's socket."""
        seconds = self.deadline if deadline is None else deadline
        cap = self.max_bytes if max_bytes is None else max_bytes
        watch = _Watch(seconds)
        outer = getattr(_local, "watch", None)
        _local.watch = watch
        timer = threading.Timer(seconds, watch.fire)
        timer.daemon = True
        timer.start()
        handed = False
        try:
            # Each socket operation may take at most the whole deadline; the watchdog ends it sooner.
            kwargs["timeout"] = max(seconds, 0.001)
            kwargs["stream"] = True
            if stream_body:
                kwargs["headers"] = {**(kwargs.get("headers") or {}), "Connection": "close"}
            try:
                resp = super().request(method, url, *args, **kwargs)
                if stream_body:
                    _hand_over(resp, timer, watch)
                    handed = True
                    return resp
                _read_body(resp, str(method), cap, watch)
                if watch.fired:  # http.client can take a socket shut mid-headers for their end
                    raise DeadlineExceeded(f"no complete answer within {seconds:g}s")
            except (requests.RequestException, urllib3.exceptions.HTTPError, http.client.HTTPException, OSError):
                if watch.fired or watch.remaining() <= 0:
                    raise DeadlineExceeded(f"no complete answer within {seconds:g}s") from None
                raise
            return resp
        finally:
            if not handed:
                timer.cancel()
                timer.join()
                watch.finish()
            _local.watch = outer


def _hand_over(resp: requests.Response, timer: threading.Timer, watch: _Watch) -> None:
    """The response's close() ends the deadline's watch (once)."""
    close = resp.close

    def closing() -> None:
        try:
            close()
        finally:
            timer.cancel()
            if timer is not threading.current_thread():
                timer.join()
            watch.finish()

    resp.close = closing  # type: ignore[method-assign]


def _read_body(resp: requests.Response, method: str, cap: int, watch: _Watch) -> None:
    error = resp.status_code >= 400
    limit = min(cap, ERROR_BODY_BYTES) if error else cap
    if not error and method.upper() != "HEAD":
        length = resp.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > limit:
            resp.close()
            raise ResponseTooLarge(f"the answer is {length} bytes, more than the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    complete = True
    for chunk in resp.iter_content(CHUNK):
        if watch.fired or watch.remaining() <= 0:
            resp.close()
            raise DeadlineExceeded(f"no complete answer within {watch.seconds:g}s")
        size += len(chunk)
        if size > limit:
            if not error:
                resp.close()
                raise ResponseTooLarge(f"the answer is larger than the {limit}-byte limit")
            chunks.append(chunk[: limit - (size - len(chunk))])
            complete = False
            break
        chunks.append(chunk)
    resp._content = b"".join(chunks)
    if complete:
        resp._content_consumed = True  # type: ignore[attr-defined]  # the connection goes back to the pool
    resp.close()
