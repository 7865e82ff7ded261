"""archlint.netio: one deadline over connect, headers and body; a byte cap; plain HTTP and TLS,
fresh and pooled connections, against hostile servers on 127.0.0.1."""

from __future__ import annotations

import datetime
import gzip
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests
from net_support.hostile import DRIP_BODY, DRIP_HEADERS, MODES, SILENT, RawServer, answer
from net_support.quiet import QuietHTTPServer

from archlint.netio import ERROR_BODY_BYTES, DeadlineExceeded, DeadlineSession, ResponseTooLarge

DEADLINE = 1.0
INTERVAL = 0.2  # well inside the deadline: a per-read timeout never fires


class _Handler(BaseHTTPRequestHandler):
    """/ok: a small answer (keep-alive); /big/N: N bytes; /gzip/N: N spaces gzipped; /error: a 500
    with a 1 MB page; /drip-headers, /drip-body, /silent: hostile answers."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        owner: Served = self.server.owner  # type: ignore[attr-defined]
        owner.connections.add(self.client_address)
        name = self.path.strip("/").split("/")
        if name[0] in MODES:
            answer(self.connection, name[0], INTERVAL, give_up=30.0)
            self.close_connection = True
            return
        body, headers, status = b"ok", {}, 200
        if name[0] == "big":
            body = b"x" * int(name[1])
        elif name[0] == "gzip":
            body, headers = gzip.compress(b" " * int(name[1])), {"Content-Encoding": "gzip"}
        elif name[0] == "chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(int(name[1]) // 65536):
                self.wfile.write(b"10000\r\n" + b"y" * 65536 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        elif name[0] == "error":
            body, status = b"e" * 1_000_000, 500
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Served:
    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.httpd = QuietHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.scheme = "https" if context else "http"
        self.connections: set[tuple[str, int]] = set()
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http() -> Iterator[Served]:
    s = Served()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    d = tmp_path_factory.mktemp("tls")
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return d / "cert.pem", d / "key.pem"


@pytest.fixture
def https(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # they would win over the session's `verify`
        monkeypatch.delenv(var, raising=False)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*certificate)
    s = Served(ctx)
    yield s
    s.stop()


def session(cert: Path | None = None, max_bytes: int = 1 << 20) -> DeadlineSession:
    s = DeadlineSession(DEADLINE, max_bytes)
    if cert is not None:
        s.verify = str(cert)
    return s


def timed_failure(s: DeadlineSession, url: str) -> float:
    start = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        s.get(url)
    return time.monotonic() - start


@pytest.mark.parametrize("mode", MODES)
def test_a_hostile_server_is_cut_at_the_deadline(mode: str) -> None:
    threads = threading.active_count()
    srv = RawServer(mode, INTERVAL).start()
    try:
        took = timed_failure(session(), f"http://127.0.0.1:{srv.port}/simple/x/")
    finally:
        srv.stop()
    assert DEADLINE * 0.9 <= took < 3 * DEADLINE
    if mode != SILENT:
        (sent,) = srv.sent
        assert sent >= 3  # it kept talking faster than any per-read timeout: only a deadline ends it
    assert threading.active_count() == threads  # the watchdog timer is gone with the request


@pytest.mark.parametrize("path", [f"/{DRIP_HEADERS}", f"/{DRIP_BODY}"])
def test_a_pooled_connection_is_cut_too(http: Served, path: str) -> None:
    s = session()
    assert s.get(http.url("/ok")).content == b"ok"
    took = timed_failure(s, http.url(path))  # on the connection /ok left in the pool
    assert took < 3 * DEADLINE
    assert len(http.connections) == 1
    assert s.get(http.url("/ok")).content == b"ok"  # the broken connection was not reused


def test_tls_handshake_that_never_comes(certificate: tuple[Path, Path]) -> None:
    srv = RawServer(SILENT).start()  # accepts TCP, never says a word of TLS
    try:
        took = timed_failure(session(certificate[0]), f"https://127.0.0.1:{srv.port}/")
    finally:
        srv.stop()
    assert DEADLINE * 0.9 <= took < 3 * DEADLINE


@pytest.mark.parametrize("path", [f"/{DRIP_HEADERS}", f"/{DRIP_BODY}", f"/{SILENT}"])
def test_tls_fresh_and_pooled_connections(https: Served, certificate: tuple[Path, Path], path: str) -> None:
    assert timed_failure(session(certificate[0]), https.url(path)) < 3 * DEADLINE  # fresh
    s = session(certificate[0])
    assert s.get(https.url("/ok")).content == b"ok"
    assert timed_failure(s, https.url(path)) < 3 * DEADLINE  # pooled (an SSLSocket underneath)
    assert s.get(https.url("/ok")).content == b"ok"


def test_answers_within_the_deadline_are_whole_and_connections_reused(http: Served) -> None:
    s = session()
    got = s.get(http.url("/big/300000"))
    assert got.status_code == 200 and got.content == b"x" * 300000
    assert s.get(http.url("/gzip/500000")).content == b" " * 500000
    assert len(http.connections) == 1


@pytest.mark.parametrize("path", ["/big/2000000", "/gzip/4000000", "/chunked/2000000"])
def test_the_byte_cap_counts_what_is_decoded(http: Served, path: str) -> None:
    with pytest.raises(ResponseTooLarge):
        session(max_bytes=1 << 20).get(http.url(path))
    assert session(max_bytes=1 << 20).request("GET", http.url(path), max_bytes=8 << 20).ok  # per call


def test_error_pages_are_cut_not_refused(http: Served) -> None:
    got = session().get(http.url("/error"))
    assert got.status_code == 500 and len(got.content) == ERROR_BODY_BYTES
    with pytest.raises(requests.HTTPError):
        got.raise_for_status()


def test_through_an_http_proxy_that_trickles(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy's connections come from requests' proxy manager: they are watched too."""
    srv = RawServer(DRIP_HEADERS, INTERVAL).start()
    for var in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{srv.port}")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{srv.port}")
    try:
        took = timed_failure(session(), "http://index.example/simple/numpy/")  # never resolved here
    finally:
        srv.stop()
    assert DEADLINE * 0.9 <= took < 3 * DEADLINE
    assert srv.connections == 1 and srv.sent[0] >= 3
