"""Registry credentials and the token flow, the way docker, podman and skopeo find them.

Credentials come from `REGISTRY_AUTH_FILE` (podman/skopeo), then `$DOCKER_CONFIG/config.json`
(default `~/.docker/config.json`): per file, a `credHelpers` entry for the registry, else the
`credsStore`, else `auths`. A registry that answers 401 with `WWW-Authenticate: Bearer …` gets a
token from its realm (anonymously when there are no credentials: public images need a token too).
Secrets never appear in a repr, a message or a log line.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from archlint.images import DOCKER_HUB
from archlint.netio import DeadlineExceeded, DeadlineSession, ResponseTooLarge
from archlint.registry.interface import AuthError, InvalidResponse, RateLimited, Unavailable
from archlint.subprocesses import run_captured

MAX_CONFIG_BYTES = 1024 * 1024
MAX_TOKEN_BYTES = 256 * 1024
HELPER_TIMEOUT = 15.0
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"  # the key docker writes and helpers expect
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)  # an OAuth2 refresh token (`docker login` on some registries)
    source: str = ""  # where they came from, for messages: "~/.docker/config.json auths", "credHelper ecr-login"

    @property
    def basic(self) -> tuple[str, str] | None:
        return (self.username, self.password) if self.username and self.password else None


def _auth_key(key: str) -> str:
    """Normalise an `auths` key ("https://index.docker.io/v1/", "ghcr.io", "quay.io/org") to host[/path]."""
    k = key.strip().lower()
    k = re.sub(r"^[a-z][a-z0-9+.-]*://", "", k)
    host, _, path = k.partition("/")
    if host in _HUB_ALIASES:
        host = DOCKER_HUB
        path = "" if path in ("", "v1", "v1/", "v2", "v2/") else path
    path = path.strip("/")
    if path in ("v1", "v2"):
        path = ""
    return f"{host}/{path}" if path else host


def _decode_auth_entry(entry: Any, source: str) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    token = entry.get("identitytoken")
    user, password = entry.get("username"), entry.get("password")
    raw = entry.get("auth")
    if isinstance(raw, str) and raw:
        try:
            user, _, password = base64.b64decode(raw, validate=False).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
    if isinstance(token, str) and token:
        return Credentials(username=str(user or ""), identity_token=token, source=source)
    if isinstance(user, str) and isinstance(password, str) and user and password:
        return Credentials(username=user, password=password, source=source)
    return None


def _run_helper(helper: str, server: str, source: str) -> Credentials | None:
    """The docker-credential-helpers protocol: `docker-credential-<helper> get`, server URL on stdin."""
    exe = shutil.which(f"docker-credential-{helper}")
    if exe is None:
        return None
    try:
        proc = run_captured([exe, "get"], input=server.encode(), timeout=HELPER_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:  # "credentials not found in native keychain"
        return None
    try:
        data = json.loads(proc.stdout[:MAX_CONFIG_BYTES])
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    user, secret = data.get("Username"), data.get("Secret")
    if not isinstance(secret, str) or not secret:
        return None
    label = f"{source} credHelper {helper}"
    if user == "<token>":
        return Credentials(identity_token=secret, source=label)
    return Credentials(username=str(user or ""), password=secret, source=label)


def _load_json(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError:
        return None
    if len(raw) > MAX_CONFIG_BYTES:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def config_files(env: Mapping[str, str] | None = None) -> list[Path]:
    """The credential files to consult, in order."""
    env = os.environ if env is None else env
    out = []
    if env.get("REGISTRY_AUTH_FILE"):
        out.append(Path(env["REGISTRY_AUTH_FILE"]))
    docker_dir = env.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    out.append(Path(docker_dir) / "config.json")
    return out


class CredentialStore:
    """Looks up credentials per registry; each file is read once."""

    def __init__(self, files: list[Path] | None = None) -> None:
        self._files = config_files() if files is None else files
        self._loaded: list[tuple[Path, dict[str, Any]]] | None = None
        self._memo: dict[tuple[str, str], Credentials | None] = {}
        self._lock = threading.Lock()

    def _configs(self) -> list[tuple[Path, dict[str, Any]]]:
        if self._loaded is None:
            self._loaded = [(p, d) for p in self._files if (d := _load_json(p)) is not None]
        return self._loaded

    def lookup(self, registry: str, repository: str = "") -> Credentials | None:
        with self._lock:
            key = (registry, repository)
            if key not in self._memo:
                self._memo[key] = self._lookup(registry, repository)
            return self._memo[key]

    def _lookup(self, registry: str, repository: str) -> Credentials | None:
        host = _auth_key(registry)
        server = DOCKER_HUB_AUTH_KEY if host == DOCKER_HUB else registry
        full = f"{host}/{repository}" if repository else host
        for path, data in self._configs():
            source = path.name if path.name != "config.json" else str(path)
            helpers = data.get("credHelpers")
            helper = None
            if isinstance(helpers, dict):
                helper = next((v for k, v in helpers.items() if _auth_key(k) == host and isinstance(v, str)), None)
            if helper is None and isinstance(data.get("credsStore"), str):
                helper = data["credsStore"]
            if helper:
                creds = _run_helper(helper, server, source)
                if creds is not None:
                    return creds
            auths = data.get("auths")
            if not isinstance(auths, dict):
                continue
            # The most specific key wins (podman allows "quay.io/org" next to "quay.io").
            matches = [
                (len(k), v)
                for raw, v in auths.items()
                if (k := _auth_key(raw)) == full or full.startswith(k + "/") or k == host
            ]
            for _, entry in sorted(matches, key=lambda m: -m[0]):
                creds = _decode_auth_entry(entry, f"{source} auths")
                if creds is not None:
                    return creds
        return None


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "bearer" | "basic" (lower case)
    params: dict[str, str]


_ITEM = re.compile(r'([A-Za-z0-9_.+-]+)(?:\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*))?')


def parse_challenges(header: str) -> list[Challenge]:
    """Parse `WWW-Authenticate` (RFC 7235): a bare token starts a challenge, `k=v` pairs are its
    parameters; quoted values may hold commas (scope="repository:a:pull,push")."""
    out: list[Challenge] = []
    pos = 0
    while (m := _ITEM.search(header, pos)) is not None:
        name, value = m.group(1), m.group(2)
        if value is None:
            out.append(Challenge(name.lower(), {}))
        elif out:
            if value.startswith('"') and len(value) >= 2:
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            out[-1].params[name.lower()] = value
        pos = max(m.end(), pos + 1)
    return out


@dataclass
class _Token:
    value: str
    expires: float


class TokenCache:
    """Bearer tokens per (realm, service, scope), reused until shortly before they expire."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str], _Token] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> str | None:
        with self._lock:
            tok = self._tokens.get(key)
            return tok.value if tok and tok.expires > time.monotonic() else None

    def put(self, key: tuple[str, str, str], value: str, lifetime: float) -> None:
        with self._lock:
            self._tokens[key] = _Token(value, time.monotonic() + max(lifetime - 10.0, 1.0))


def fetch_token(
    session: DeadlineSession,
    challenge: Challenge,
    scope: str,
    creds: Credentials | None,
) -> tuple[str, float]:
    """The distribution token flow: GET realm?service&scope (basic auth when we have a password),
    or the OAuth2 refresh-token POST for identity tokens. Returns (token, lifetime seconds).
    The session's deadline bounds the request."""
    realm = challenge.params.get("realm", "")
    if not realm.startswith(("https://", "http://")):
        raise AuthError(f"bearer challenge without a usable realm ({realm!r})")
    service = challenge.params.get("service", "")
    scope = challenge.params.get("scope") or scope
    try:
        if creds is not None and creds.identity_token:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": creds.identity_token,
                "service": service,
                "scope": scope,
                "client_id": "archlint",
            }
            resp = session.request("POST", realm, data=form, max_bytes=MAX_TOKEN_BYTES)
        else:
            params = {k: v for k, v in (("service", service), ("scope", scope)) if v}
            auth = creds.basic if creds is not None else None
            resp = session.request("GET", realm, params=params, auth=auth, max_bytes=MAX_TOKEN_BYTES)
        body = resp.content
        status = resp.status_code
        retry_after = resp.headers.get("Retry-After")
    except ResponseTooLarge:
        raise InvalidResponse(f"token service {realm}: answer larger than {MAX_TOKEN_BYTES} bytes") from None
    except DeadlineExceeded:
        raise Unavailable(f"token service {realm}: timed out after {session.deadline:g}s (registry-timeout)") from None
    except requests.RequestException as e:
        raise Unavailable(f"token service {realm}: {type(e).__name__}") from None
    if status == 429:
        later = f" (Retry-After {retry_after})" if retry_after else ""
        raise RateLimited(f"token service {realm} answered HTTP 429{later}")
    if status in (401, 403):
        who = f"with credentials from {creds.source}" if creds is not None else "anonymously"
        raise AuthError(f"token service {realm} refused access {who} (HTTP {status})")
    if status >= 500:
        raise Unavailable(f"token service {realm} answered HTTP {status}")
    if status != 200:
        raise AuthError(f"token service {realm} answered HTTP {status}")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidResponse(f"token service {realm}: answer is not JSON") from None
    token = data.get("token") or data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise InvalidResponse(f"token service {realm}: no token in the answer")
    lifetime = data.get("expires_in", 60)
    return token, float(lifetime) if isinstance(lifetime, (int, float)) and lifetime > 0 else 60.0
