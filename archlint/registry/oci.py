"""The OCI distribution API client: which platforms is an image reference published for?

`HEAD /v2/<name>/manifests/<ref>` first (cheap, not counted by Docker Hub's pull limit) to learn
the digest, answered from the cache when known; else `GET` the manifest. The Accept header lists
both index types: without them a registry silently resolves a multi-arch tag to its amd64 child
and the image looks amd64-only. An index gives the platforms directly (attestation entries,
`unknown/unknown`, are skipped); a single manifest is read through its config blob.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import ipaddress
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import requests

from archlint import __version__
from archlint.images import ImageRef, registry_endpoint
from archlint.netio import DeadlineSession, ResponseTooLarge
from archlint.registry.auth import Challenge, Credentials, CredentialStore, TokenCache, fetch_token, parse_challenges
from archlint.registry.cache import PlatformCache
from archlint.registry.interface import (
    SOURCE_DOCKER_LIST,
    SOURCE_DOCKER_MANIFEST,
    SOURCE_DOCKER_V1,
    SOURCE_OCI_INDEX,
    SOURCE_OCI_MANIFEST,
    AuthError,
    ImagePlatforms,
    InvalidResponse,
    NotFound,
    RateLimited,
    RegistryClient,
    RegistryError,
    Unavailable,
    normalise_platform,
)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_V1 = (
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
)
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
CONFIG_TYPES = ("application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json")

MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # distribution's own limit for manifests
MAX_CONFIG_BYTES = 8 * 1024 * 1024
DEFAULT_TIMEOUT = 30.0  # seconds for one whole request, body included (config registry-timeout)
ATTESTATION = "attestation-manifest"


def _scheme(host: str) -> str:
    """Loopback registries speak plain HTTP, as docker allows by default for 127.0.0.0/8."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1 : host.find("]")]
    if name == "localhost":
        return "http"
    try:
        return "http" if ipaddress.ip_address(name).is_loopback else "https"
    except ValueError:
        return "https"


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    v = value.strip()
    if v.isdigit():
        return float(v)
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _digest_of(body: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"


def _verify(body: bytes, expected: str, what: str) -> None:
    algorithm = expected.split(":", 1)[0]
    if algorithm not in ("sha256", "sha512"):
        return
    actual = _digest_of(body, algorithm)
    if actual != expected:
        raise InvalidResponse(f"{what}: content does not match its digest {expected} (got {actual})")


@dataclass
class _Answer:
    status: int
    headers: requests.structures.CaseInsensitiveDict[str]
    body: bytes


class OCIRegistryClient(RegistryClient):
    def __init__(
        self,
        *,
        credentials: CredentialStore | None = None,
        cache: PlatformCache | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_attempts: int = 3,
        max_retry_after: float = 30.0,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.credentials = credentials if credentials is not None else CredentialStore()
        self.cache = cache if cache is not None else PlatformCache(None)
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.max_retry_after = max_retry_after
        self.backoff = backoff
        self.sleep = sleep
        self._tokens = TokenCache()
        self._local = threading.local()
        # A registry that let a request run out its deadline is not asked again in this run:
        # twenty images on one stalled registry must not wait twenty deadlines.
        self._down: dict[str, Unavailable] = {}
        self._down_lock = threading.Lock()

    # --- public -----------------------------------------------------------------------------

    def platforms(self, ref: ImageRef) -> ImagePlatforms:
        name = str(ref)
        if ref.digest:
            hit = self.cache.get(ref.digest)
            if hit is not None:
                return ImagePlatforms(name, ref.digest, hit[0], hit[1], cached=True)
        path = f"/v2/{ref.repository}/manifests/{ref.reference}"
        digest = ref.digest
        try:
            head = self._request("HEAD", ref, path, ACCEPT, 0)
        except (NotFound, AuthError, RateLimited, Unavailable):
            raise
        except RegistryError:
            head = None  # some registries reject HEAD; the GET below still answers
        if head is not None and not digest:
            digest = head.headers.get("Docker-Content-Digest") or None
            if digest:
                hit = self.cache.get(digest)
                if hit is not None:
                    return ImagePlatforms(name, digest, hit[0], hit[1], cached=True)
        got = self._request("GET", ref, path, ACCEPT, MAX_MANIFEST_BYTES)
        header_digest = got.headers.get("Docker-Content-Digest")
        if ref.digest:
            _verify(got.body, ref.digest, f"manifest {name}")
        elif header_digest:
            _verify(got.body, header_digest, f"manifest {name}")
        digest = ref.digest or header_digest or _digest_of(got.body)
        platforms, source = self._parse_manifest(ref, got)
        self.cache.put(digest, platforms, source)
        return ImagePlatforms(name, digest, platforms, source)

    # --- manifests ----------------------------------------------------------------------------

    def _parse_manifest(self, ref: ImageRef, got: _Answer) -> tuple[tuple[str, ...], str]:
        try:
            doc = json.loads(got.body)
        except (ValueError, RecursionError):
            raise InvalidResponse(f"manifest of {ref}: not JSON") from None
        if not isinstance(doc, dict):
            raise InvalidResponse(f"manifest of {ref}: not a JSON object")
        declared = doc.get("mediaType")
        mt = declared if isinstance(declared, str) and declared else _media_type(got.headers.get("Content-Type"))
        if mt in (OCI_INDEX, DOCKER_LIST) or (mt not in (OCI_MANIFEST, DOCKER_MANIFEST) and "manifests" in doc):
            source = SOURCE_DOCKER_LIST if mt == DOCKER_LIST else SOURCE_OCI_INDEX
            return self._index_platforms(ref, doc), source
        if mt in DOCKER_V1 or doc.get("schemaVersion") == 1:
            arch = doc.get("architecture")
            if not isinstance(arch, str) or not arch:
                raise InvalidResponse(f"manifest of {ref}: schema 1 manifest without an architecture")
            return (normalise_platform("linux", arch),), SOURCE_DOCKER_V1
        if mt in (OCI_MANIFEST, DOCKER_MANIFEST) or "config" in doc:
            source = SOURCE_DOCKER_MANIFEST if mt == DOCKER_MANIFEST else SOURCE_OCI_MANIFEST
            return (self._config_platform(ref, doc),), source
        raise InvalidResponse(f"manifest of {ref}: unsupported media type {mt or 'unknown'!r}")

    def _index_platforms(self, ref: ImageRef, doc: dict[str, Any]) -> tuple[str, ...]:
        entries = doc.get("manifests")
        if not isinstance(entries, list):
            raise InvalidResponse(f"index of {ref}: `manifests` is not a list")
        found: set[str] = set()
        for entry in entries:
            if not isinstance(entry, dict):
                raise InvalidResponse(f"index of {ref}: an entry is not an object")
            annotations = entry.get("annotations")
            if isinstance(annotations, dict) and annotations.get("vnd.docker.reference.type") == ATTESTATION:
                continue
            plat = entry.get("platform")
            if not isinstance(plat, dict):
                continue  # artifacts and nested indexes carry no platform
            os_, arch, variant = plat.get("os"), plat.get("architecture"), plat.get("variant") or ""
            if not isinstance(os_, str) or not isinstance(arch, str) or not isinstance(variant, str):
                raise InvalidResponse(f"index of {ref}: malformed platform {plat!r:.80}")
            if "unknown" in (os_, arch) or not os_ or not arch:
                continue  # buildx provenance/SBOM attestations are published as unknown/unknown
            found.add(normalise_platform(os_, arch, variant))
        if not found:
            raise InvalidResponse(f"index of {ref} lists no image platform (only attestations or artifacts)")
        return tuple(sorted(found))

    def _config_platform(self, ref: ImageRef, doc: dict[str, Any]) -> str:
        config = doc.get("config")
        if not isinstance(config, dict) or not isinstance(config.get("digest"), str):
            raise InvalidResponse(f"manifest of {ref}: no config descriptor")
        ctype = config.get("mediaType")
        if ctype not in CONFIG_TYPES:
            raise InvalidResponse(f"manifest of {ref}: config type {ctype!r} is not a container image")
        digest = config["digest"]
        size = config.get("size")
        if isinstance(size, int) and size > MAX_CONFIG_BYTES:
            raise InvalidResponse(f"config of {ref}: {size} bytes is more than {MAX_CONFIG_BYTES}")
        got = self._request("GET", ref, f"/v2/{ref.repository}/blobs/{digest}", "*/*", MAX_CONFIG_BYTES)
        _verify(got.body, digest, f"config of {ref}")
        try:
            cfg = json.loads(got.body)
        except (ValueError, RecursionError):
            raise InvalidResponse(f"config of {ref}: not JSON") from None
        if not isinstance(cfg, dict):
            raise InvalidResponse(f"config of {ref}: not a JSON object")
        os_, arch, variant = cfg.get("os"), cfg.get("architecture"), cfg.get("variant") or ""
        if not isinstance(os_, str) or not isinstance(arch, str) or not arch or not isinstance(variant, str):
            raise InvalidResponse(f"config of {ref}: no os/architecture")
        return normalise_platform(os_ or "linux", arch, variant)

    # --- HTTP ---------------------------------------------------------------------------------

    def _session(self) -> DeadlineSession:
        session = getattr(self._local, "session", None)
        if session is None:
            session = DeadlineSession(self.timeout, MAX_CONFIG_BYTES)
            session.headers["User-Agent"] = f"archlint/{__version__}"
            self._local.session = session
        return session

    def _request(self, method: str, ref: ImageRef, path: str, accept: str, limit: int) -> _Answer:
        """One API call with auth, bounded retries for 429/5xx/refused connections, a total deadline
        per request (never retried: a server that needed all of it will not do better), and a body
        size cap."""
        host = registry_endpoint(ref.registry)
        url = f"{_scheme(host)}://{host}{path}"
        where = f"{ref.registry} ({method} {path})"
        with self._down_lock:
            down = self._down.get(host)
        if down is not None:
            raise down
        auth_key = (host, ref.repository, "")
        authenticated = False
        last: RegistryError = Unavailable(f"{where}: no answer")
        attempt = 0
        while attempt < self.max_attempts:
            attempt += 1
            headers = {"Accept": accept}
            authz = self._tokens.get(auth_key)
            if authz:
                headers["Authorization"] = authz
            try:
                answer = self._send(method, url, headers, limit, where)
            except requests.Timeout:  # netio.DeadlineExceeded
                err = Unavailable(f"{where}: timed out after {self.timeout:g}s (registry-timeout)")
                with self._down_lock:
                    self._down.setdefault(host, err)
                raise err from None
            except requests.ConnectionError as e:
                last = Unavailable(f"{where}: cannot connect ({_brief(e)})")
                self._pause(attempt, None)
                continue
            except requests.RequestException as e:
                raise Unavailable(f"{where}: {type(e).__name__}") from None
            status = answer.status
            if status == 401:
                if authenticated:
                    raise AuthError(f"{where}: unauthorized even with the token/credentials obtained")
                self._authenticate(ref, host, answer.headers.get("WWW-Authenticate", ""), where)
                authenticated = True
                attempt -= 1  # the auth round trip is not a retry
                continue
            if status == 403:
                raise AuthError(f"{where}: access denied (HTTP 403)")
            if status == 404:
                raise NotFound(f"{ref.registry}: {ref.repository}:{ref.reference} not found (manifest unknown)")
            if status == 429:
                wait = _retry_after(answer.headers.get("Retry-After"))
                if wait is not None and wait > self.max_retry_after:
                    raise RateLimited(f"{where}: rate limited; the registry asks to retry after {wait:.0f}s")
                last = RateLimited(f"{where}: rate limited (HTTP 429) after {attempt} attempts")
                self._pause(attempt, wait)
                continue
            if status >= 500:
                last = Unavailable(f"{where}: HTTP {status} after {attempt} attempts")
                self._pause(attempt, _retry_after(answer.headers.get("Retry-After")))
                continue
            if not 200 <= status < 300:
                raise InvalidResponse(f"{where}: unexpected HTTP {status}")
            return answer
        raise last

    def _pause(self, attempt: int, wait: float | None) -> None:
        if attempt >= self.max_attempts:
            return
        delay = wait if wait is not None else self.backoff * (2 ** (attempt - 1))
        self.sleep(min(delay, self.max_retry_after))

    def _send(self, method: str, url: str, headers: dict[str, str], limit: int, where: str) -> _Answer:
        try:
            resp = self._session().request(method, url, headers=headers, allow_redirects=True, max_bytes=limit)
        except ResponseTooLarge:
            raise InvalidResponse(f"{where}: answer larger than the {limit}-byte limit") from None
        body = resp.content if method != "HEAD" and resp.status_code < 300 else b""
        return _Answer(resp.status_code, resp.headers, body)

    def _authenticate(self, ref: ImageRef, host: str, header: str, where: str) -> None:
        challenges = parse_challenges(header)
        creds = self.credentials.lookup(ref.registry, ref.repository)
        scope = f"repository:{ref.repository}:pull"
        bearer = next((c for c in challenges if c.scheme == "bearer"), None)
        if bearer is not None:
            token, lifetime = self._token(bearer, scope, creds)
            self._tokens.put((host, ref.repository, ""), f"Bearer {token}", lifetime)
            return
        if any(c.scheme == "basic" for c in challenges):
            if creds is None or creds.basic is None:
                raise AuthError(f"{where}: the registry wants a login; no credentials for {ref.registry} were found")
            user, password = creds.basic
            value = base64.b64encode(f"{user}:{password}".encode()).decode()
            self._tokens.put((host, ref.repository, ""), f"Basic {value}", 1e9)
            return
        raise AuthError(f"{where}: unauthorized (HTTP 401) without a usable WWW-Authenticate challenge")

    def _token(self, challenge: Challenge, scope: str, creds: Credentials | None) -> tuple[str, float]:
        return fetch_token(self._session(), challenge, scope, creds)


def _brief(e: BaseException) -> str:
    """A connection error's gist without the urllib3 object dump."""
    text = str(e)
    for marker in ("Connection refused", "Name or service not known", "Temporary failure in name resolution",
                   "No route to host", "Network is unreachable", "timed out"):  # fmt: skip
        if marker in text:
            return marker
    return type(e).__name__


def check_many(client: RegistryClient, refs: Iterable[ImageRef], workers: int = 8) -> dict[ImageRef, Any]:
    """Ask for many references concurrently; each value is an ImagePlatforms or a RegistryError."""
    from concurrent.futures import ThreadPoolExecutor

    todo = list(dict.fromkeys(refs))
    out: dict[ImageRef, Any] = {}

    def one(r: ImageRef) -> Any:
        try:
            return client.platforms(r)
        except RegistryError as e:
            return e

    if not todo:
        return out
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(todo)))) as pool:
        for r, result in zip(todo, pool.map(one, todo), strict=True):
            out[r] = result
    return out
