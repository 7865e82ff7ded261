"""The servers registry tests talk to, all on 127.0.0.1 and all started and stopped by the tests:

- `RegistryProcess`: the real `docker-registry` (distribution v2, Debian package) serving a
  temporary storage directory, without auth or with token auth;
- `TokenServer`: a tiny token service issuing RS256 JWTs that registry trusts (its certificate
  is the registry's `rootcertbundle`), with basic-auth users and the OAuth2 refresh-token grant;
- `ScriptedServer`: answers scripted per path (401/429/500, slow answers, recorded manifests),
  and logs every request so tests can count them.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import requests
from net_support.quiet import QuietHTTPServer

REGISTRY_BINARY = "docker-registry"


def registry_binary() -> str | None:
    # /usr/bin may be missing from PATH in minimal CI shells.
    fallback = f"/usr/bin/{REGISTRY_BINARY}"
    return shutil.which(REGISTRY_BINARY) or (fallback if os.path.exists(fallback) else None)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RegistryProcess:
    """`docker-registry serve <config>` on a free loopback port; never the system service."""

    def __init__(self, workdir: Path, token: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.token = token
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def _config(self) -> str:
        lines = [
            "version: 0.1",
            "log:",
            "  level: error",
            "  accesslog:",
            "    disabled: true",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {self.workdir / 'storage'}",
            "  delete:",
            "    enabled: true",
            "http:",
            f"  addr: 127.0.0.1:{self.port}",
        ]
        if self.token:
            lines += ["auth:", "  token:"] + [f"    {k}: {v}" for k, v in self.token.items()]
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        binary = registry_binary()
        assert binary is not None
        for _ in range(5):  # a free port can be taken between probing and binding: try another
            self.port = free_port()
            config = self.workdir / "config.yml"
            config.write_text(self._config())
            log = open(self.workdir / "registry.log", "wb")
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.workdir)}
            self.proc = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log, env=env)
            log.close()
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    r = requests.get(f"{self.url}/v2/", timeout=1)
                    if r.status_code in (200, 401):
                        return
                except requests.RequestException:
                    pass
                time.sleep(0.05)
            self.stop()
        raise RuntimeError(f"docker-registry did not start: {(self.workdir / 'registry.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class _Server:
    """A ThreadingHTTPServer on a free loopback port, run in a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = QuietHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        # A short poll interval: shutdown() waits for the loop to notice, once per server.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer(_Server):
    """Issues registry bearer tokens (RS256 JWT with the signing certificate in `x5c`).

    Anonymous callers get `pull` on repositories under `public/`; `users` (basic auth) and holders
    of a `refresh_tokens` entry get pull and push everywhere. Every request is logged.
    """

    SERVICE = "archlint-test-registry"
    ISSUER = "archlint-test-token-issuer"

    def __init__(self, workdir: Path, users: dict[str, str], refresh_tokens: set[str]) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        super().__init__(_TokenHandler)
        self.users = users
        self.refresh_tokens = refresh_tokens
        self.log: list[dict[str, Any]] = []
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "archlint test token signer")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_path = workdir / "token-signer.pem"
        self.cert_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def registry_auth(self) -> dict[str, str]:
        return {
            "realm": f"{self.url}/token",
            "service": self.SERVICE,
            "issuer": self.ISSUER,
            "rootcertbundle": str(self.cert_path),
        }

    def issue(self, subject: str, scopes: list[str], privileged: bool) -> str:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding

        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) != 3 or parts[0] != "repository":
                continue
            wanted = parts[2].split(",")
            if privileged:
                granted = wanted
            elif parts[1].startswith("public/"):
                granted = [a for a in wanted if a == "pull"]
            else:
                granted = []
            access.append({"type": "repository", "name": parts[1], "actions": granted})
        now = int(time.time())
        der = self.cert.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        claims = {
            "iss": self.ISSUER,
            "sub": subject,
            "aud": self.SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": _b64url(os.urandom(12)),
            "access": access,
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"


class _TokenHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def owner(self) -> TokenServer:
        return self.server.owner  # type: ignore[attr-defined,no-any-return]

    def _answer(self, status: int, doc: dict[str, Any]) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        scopes = query.get("scope", [])
        authz = self.headers.get("Authorization", "")
        self.owner.log.append({"method": "GET", "query": query, "authorization": authz})
        subject, privileged = "", False
        if authz.startswith("Basic "):
            user, _, password = base64.b64decode(authz[6:]).decode().partition(":")
            if self.owner.users.get(user) != password:
                self._answer(401, {"details": "incorrect username or password"})
                return
            subject, privileged = user, True
        self._answer(200, {"token": self.owner.issue(subject, scopes, privileged), "expires_in": 300})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        self.owner.log.append({"method": "POST", "form": form})
        refresh = form.get("refresh_token", [""])[0]
        if form.get("grant_type") != ["refresh_token"] or refresh not in self.owner.refresh_tokens:
            self._answer(401, {"error": "invalid_grant"})
            return
        scopes = form.get("scope", [])
        self._answer(200, {"access_token": self.owner.issue("refresh-user", scopes, True), "expires_in": 300})


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds to wait before answering (timeouts)


class ScriptedServer(_Server):
    """Answers each path from a script: `script[path]` (or `script["HEAD /path"]` for one method)
    is a list of replies consumed in order, the last one repeating. Unknown paths get 404.
    `log` records (method, path, headers)."""

    def __init__(self) -> None:
        super().__init__(_ScriptedHandler)
        self.script: dict[str, list[Reply]] = {}
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()

    def on(self, path: str, *replies: Reply) -> None:
        self.script[path] = list(replies)

    def next_reply(self, method: str, path: str, headers: dict[str, str]) -> Reply:
        with self._lock:
            self.log.append((method, path, headers))
            bare = path.split("?", 1)[0]
            replies = self.script.get(f"{method} {bare}") or self.script.get(bare)
            if not replies:
                return Reply(404, {"Content-Type": "application/json"}, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def count(self, method: str, path_part: str = "") -> int:
        return sum(1 for m, p, _ in self.log if m == method and path_part in p)


class _ScriptedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self, method: str) -> None:
        owner: ScriptedServer = self.server.owner  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        reply = owner.next_reply(method, self.path, dict(self.headers.items()))
        if reply.delay:
            time.sleep(reply.delay)
        try:
            self.send_response(reply.status)
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")
