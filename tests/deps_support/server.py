"""A local package index (PEP 691 JSON), file host and OSV endpoint on 127.0.0.1, serving recorded
real responses.

Project pages come from fixtures/deps/index; their file URLs (files.pythonhosted.org) are rewritten
to this server's /files/. A file is served from its recording in fixtures/deps/wheels (the real
bytes of the zip's central directory and of its METADATA member, at their real offsets, see
record.py there): Range requests as the real host answers them (206), or, with `ranges="ignore"`,
the whole file as a host without Range support would (200). Bytes that were never recorded (the
wheel's other members, which no metadata reader looks at) are served as zeros.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
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
from net_support.quiet import QuietHTTPServer
from packaging.utils import canonicalize_name

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "deps" / "index"
WHEELS = Path(__file__).resolve().parents[2] / "fixtures" / "deps" / "wheels"
PYPI_JSON = "application/vnd.pypi.simple.v1+json"
FILES_HOST = "https://files.pythonhosted.org/"
GARBAGE = b"\xff\xfe\x00\x01 this is not core metadata\n\x00\x00"


@dataclass
class RecordedFile:
    """A recorded distribution file: its size, the byte ranges kept, and its core metadata."""

    filename: str
    size: int
    segments: list[tuple[int, bytes]]
    metadata: bytes | None

    @classmethod
    def load(cls, path: Path) -> RecordedFile:
        raw = json.loads(path.read_text())
        segs = [(int(off), base64.b64decode(data)) for off, data in raw["segments"]]
        md = base64.b64decode(raw["metadata"]) if raw.get("metadata") else None
        return cls(raw["filename"], int(raw["size"]), segs, md)

    def read(self, start: int, end: int) -> bytes:
        """Bytes [start, end), zeros where nothing was recorded."""
        out = bytearray(end - start)
        for off, data in self.segments:
            lo, hi = max(start, off), min(end, off + len(data))
            if lo < hi:
                out[lo - start : hi - start] = data[lo - off : hi - off]
        return bytes(out)


def recorded_files(directory: Path = WHEELS) -> dict[str, RecordedFile]:
    out = {}
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else ():
        rf = RecordedFile.load(path)
        out[rf.filename] = rf
    return out


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
    of the recorded page, `osv_body` in place of every OSV answer. Per file name: `file_faults[filename]`
    is "404", "garbage-metadata" (what PEP 658 serves, and advertises, is not metadata),
    "tampered-metadata" (the index advertises the real metadata's hash, the file host serves something
    else), "zeros" (the file's bytes are all zero) or "cut" (the connection drops halfway)."""

    directory: Path = RECORDED
    faults: dict[str, str] = field(default_factory=dict)
    wheels: Path = WHEELS
    ranges: str = "206"  # "206": honour Range; "ignore": always answer 200 with the whole file
    core_metadata: str = "none"  # "none", "advertise" (PEP 658/714, served), "advertise-404" (advertised, 404)
    file_faults: dict[str, str] = field(default_factory=dict)
    pages_override: dict[str, bytes] = field(default_factory=dict)  # project -> page body served instead
    served_bytes: dict[str, int] = field(default_factory=dict)  # file name -> bytes of it sent
    rewrite_files: bool = True  # False: pages keep their real file URLs (the recorders use this)
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
    _files: dict[str, RecordedFile] | None = None

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

    def file_requests(self, filename: str | None = None) -> list[Seen]:
        return [s for s in self.seen if s.path.startswith("/files/") and (filename is None or s.path.endswith(
            "/" + filename))]  # fmt: skip

    @property
    def files(self) -> dict[str, RecordedFile]:
        if self._files is None:
            self._files = recorded_files(self.wheels)
        return self._files

    def page_body(self, name: str) -> bytes | None:
        """The project page as this server serves it (file URLs pointing here, PEP 658 as configured)."""
        if name in self.pages_override:
            body = self.pages_override[name]
        elif name in self.bodies:  # served as given, with its file URLs pointing here like the others
            body = self.bodies[name]
        else:
            path = self.directory / f"{name}.json"
            if not path.is_file():
                return None
            body = path.read_bytes()
        files_url = f"http://127.0.0.1:{self.port}/files/" if self.rewrite_files else FILES_HOST
        if self.core_metadata == "none":
            return body.replace(FILES_HOST.encode(), files_url.encode())
        page = json.loads(body)
        for f in page.get("files", []):
            if isinstance(f.get("url"), str):
                f["url"] = f["url"].replace(FILES_HOST, files_url)
            rec = self.files.get(f.get("filename"))
            if rec is not None and rec.metadata is not None:
                md = GARBAGE if self.file_faults.get(rec.filename) == "garbage-metadata" else rec.metadata
                f["core-metadata"] = {"sha256": hashlib.sha256(md).hexdigest()}
        return json.dumps(page).encode()

    def start(self) -> IndexServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.seen.append(Seen("GET", self.path, dict(self.headers)))
                if self.path.startswith("/files/"):
                    return self._file(self.path.rsplit("/", 1)[-1])
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
                body = server.page_body(name)
                if fault == "404" or body is None:
                    return self._send(404, b"Not Found", "text/plain")
                etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
                extra = {"ETag": etag}
                if server.cache_control:
                    extra["Cache-Control"] = server.cache_control
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", None, extra)
                self._send(200, body, PYPI_JSON, extra)

            def _file(self, filename: str) -> None:
                if filename.endswith(".metadata"):
                    rec = server.files.get(filename.removesuffix(".metadata"))
                    fault = server.file_faults.get(filename.removesuffix(".metadata"))
                    if server.core_metadata != "advertise" or rec is None or rec.metadata is None:
                        return self._send(404, b"Not Found", "text/plain")
                    if fault in ("garbage-metadata", "tampered-metadata"):
                        return self._send(200, GARBAGE, "application/octet-stream")
                    return self._send(200, rec.metadata, "application/octet-stream")
                rec = server.files.get(filename)
                fault = server.file_faults.get(filename)
                if rec is None or fault == "404":
                    return self._send(404, b"Not Found", "text/plain")
                wanted = _byte_range(self.headers.get("Range"), rec.size)
                if wanted is None or server.ranges == "ignore":
                    start, end, code = 0, rec.size, 200
                else:
                    start, end = wanted
                    code = 206
                headers = {"Accept-Ranges": "bytes"} if server.ranges != "ignore" else {}
                if code == 206:
                    headers["Content-Range"] = f"bytes {start}-{end - 1}/{rec.size}"
                self._stream(code, rec, start, end, headers, cut=fault == "cut", zeros=fault == "zeros")

            def _stream(self, code: int, rec: RecordedFile, start: int, end: int, headers: dict[str, str],
                        cut: bool, zeros: bool) -> None:  # fmt: skip
                self.send_response(code)
                self.send_header("Content-Type", "application/octet-stream")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(end - start))
                self.end_headers()
                sent = 0
                try:
                    for pos in range(start, end, 1 << 16):
                        stop = min(end, pos + (1 << 16))
                        chunk = bytes(stop - pos) if zeros else rec.read(pos, stop)
                        if cut and sent + len(chunk) > (end - start) // 2:
                            self.wfile.write(chunk[: len(chunk) // 2])
                            self.close_connection = True
                            return
                        self.wfile.write(chunk)
                        sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    server.served_bytes[rec.filename] = server.served_bytes.get(rec.filename, 0) + sent

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

        self._httpd = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """[start, end) of a single-range `Range: bytes=...` header, as a real host reads it."""
    m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header or "")
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if not m.group(1):
        return max(0, size - int(m.group(2))), size
    start = int(m.group(1))
    end = min(size, int(m.group(2)) + 1) if m.group(2) else size
    return (start, end) if start < end else None


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
