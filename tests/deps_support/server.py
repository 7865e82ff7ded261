"""A local package index (PEP 691 JSON) and OSV endpoint on 127.0.0.1, serving recorded real responses."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from net_support import hostile
from packaging.utils import canonicalize_name

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "deps" / "index"
PYPI_JSON = "application/vnd.pypi.simple.v1+json"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class IndexServer:
    """Behaviour is set per project: `faults[name]` is "500", "404", "html", "garbage", "slow", "wrong-type",
    or one of net_support.hostile.MODES (a byte every `drip_interval` s, or no answer at all); OSV
    answers with `osv_status`, or the hostile way `osv_fault` names. `bodies[name]` is served in place
    of the recorded page, `osv_body` in place of every OSV answer."""

    directory: Path = RECORDED
    faults: dict[str, str] = field(default_factory=dict)
    cache_control: str | None = None  # sent with every page (None: no caching headers, like the mirror)
    slow_seconds: float = 3.0
    vulns: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)  # OSV answers
    osv_status: int = 200
    osv_fault: str | None = None
    drip_interval: float = 0.25
    bodies: dict[str, bytes] = field(default_factory=dict)
    osv_body: bytes | None = None
    seen: list[Seen] = field(default_factory=list)
    _httpd: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"

    @property
    def osv_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/query"

    def pages(self, name: str | None = None) -> list[Seen]:
        return [s for s in self.seen if s.path.startswith("/simple/") and (name is None or f"/{name}/" in s.path)]

    def start(self) -> IndexServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.seen.append(Seen("GET", self.path, dict(self.headers)))
                parts = [p for p in self.path.split("/") if p]
                if len(parts) != 2 or parts[0] != "simple":
                    return self._send(404, b"not found", "text/plain")
                name = canonicalize_name(parts[1])
                fault = server.faults.get(name)
                if fault == "500":
                    return self._send(500, b"internal error", "text/plain")
                if fault == "html":
                    body = f"<html><body><a href='x'>{name}-1.0.tar.gz</a></body></html>".encode()
                    return self._send(200, body, "text/html")
                if fault == "garbage":
                    return self._send(200, b'{"files": [truncated', PYPI_JSON)
                if fault == "wrong-type":
                    return self._send(200, b"{}", "application/octet-stream")
                if fault == "slow":
                    time.sleep(server.slow_seconds)
                if fault in hostile.MODES:
                    return hostile.answer(self.connection, fault, server.drip_interval, content_type=PYPI_JSON)
                path = server.directory / f"{name}.json"
                if name in server.bodies:
                    body = server.bodies[name]
                elif fault == "404" or not path.is_file():
                    return self._send(404, b"Not Found", "text/plain")
                else:
                    body = path.read_bytes()
                etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
                extra = {"ETag": etag}
                if server.cache_control:
                    extra["Cache-Control"] = server.cache_control
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", None, extra)
                self._send(200, body, PYPI_JSON, extra)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                server.seen.append(Seen("POST", self.path, dict(self.headers), raw))
                if self.path != "/v1/query":
                    return self._send(404, b"not found", "text/plain")
                if server.osv_fault in hostile.MODES:
                    return hostile.answer(self.connection, server.osv_fault, server.drip_interval)
                if server.osv_status != 200:
                    return self._send(server.osv_status, b"unavailable", "text/plain")
                if server.osv_body is not None:
                    return self._send(200, server.osv_body, "application/json")
                q = json.loads(raw)
                key = (canonicalize_name(q["package"]["name"]), q["version"])
                found = server.vulns.get(key, [])
                self._send(200, json.dumps({"vulns": found} if found else {}).encode(), "application/json")

            def _send(self, code: int, body: bytes, ctype: str | None, headers: dict[str, str] | None = None) -> None:
                self.send_response(code)
                if ctype:
                    self.send_header("Content-Type", ctype)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    try:
                        self.wfile.write(body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()


def osv_vuln(vid: str, name: str, fixed: str, aliases: tuple[str, ...] = ()) -> dict[str, Any]:
    """An advisory in OSV's schema (as api.osv.dev returns it)."""
    return {
        "id": vid,
        "aliases": list(aliases),
        "summary": f"test advisory {vid}",
        "published": "2024-01-01T00:00:00Z",
        "schema_version": "1.6.0",
        "affected": [
            {
                "package": {"name": name, "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            }
        ],
    }


def closed_port() -> int:
    """A 127.0.0.1 port where nothing listens (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def running(server: IndexServer) -> Iterator[IndexServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def forbid_internet(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every name lookup other than loopback fail (and record it): tests stay on 127.0.0.1."""
    real = socket.getaddrinfo
    attempts: list[str] = []

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "localhost", "::1", None):
            attempts.append(str(host))
            raise socket.gaierror(socket.EAI_NONAME, f"tests must not resolve {host}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    return attempts
