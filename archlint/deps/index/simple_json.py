"""The PEP 691 JSON simple API (the one pip and uv use), over pooled HTTP with a disk cache."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence

import requests
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from requests.adapters import HTTPAdapter

from archlint import __version__
from archlint.deps.index.cache import HttpCache
from archlint.deps.index.interface import (
    BadIndexResponse,
    DistFile,
    IndexServiceError,
    IndexUnreachable,
    PackageIndex,
    Project,
    ProjectNotFound,
)
from archlint.deps.index.urls import host_of, redact

ACCEPT = "application/vnd.pypi.simple.v1+json"
MAX_BODY = 64 * 1024 * 1024  # the largest real pages (boto3, botocore) are ~10 MB
DEFAULT_TIMEOUT = 10.0
DEFAULT_WORKERS = 16
_SDIST_EXTS = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar")

# Compact, marshal-friendly page: {normalised version: [(filename, yanked, requires_python, sha256), ...]}
Page = dict[str, list[tuple[str, bool, str | None, str | None]]]


def _version_of(filename: str, memo: dict[str, str | None]) -> str | None:
    if filename.endswith(".whl"):
        parts = filename.split("-")
        raw = parts[1] if len(parts) >= 5 else None
    else:
        stem = next((filename[: -len(e)] for e in _SDIST_EXTS if filename.endswith(e)), None)
        raw = stem.rsplit("-", 1)[1] if stem and "-" in stem else None
    if raw is None:
        return None  # eggs, installers: pip does not install these
    if raw not in memo:
        try:
            memo[raw] = str(Version(raw))
        except InvalidVersion:
            memo[raw] = None
    return memo[raw]


def parse_page(body: bytes, url: str) -> Page:
    """PEP 691 JSON -> compact page; BadIndexResponse for anything else."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadIndexResponse(f"{redact(url)}: invalid JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise BadIndexResponse(f"{redact(url)}: not a PEP 691 project page (no 'files' list)")
    api = str((data.get("meta") or {}).get("api-version", "1.0"))
    if not api.startswith("1."):
        raise BadIndexResponse(f"{redact(url)}: unsupported simple API version {api}")
    page: Page = {}
    memo: dict[str, str | None] = {}
    for f in data["files"]:
        if not isinstance(f, dict) or not isinstance(f.get("filename"), str):
            continue
        fn = f["filename"]
        v = _version_of(fn, memo)
        if v is None:
            continue
        hashes = f.get("hashes")
        sha = hashes.get("sha256") if isinstance(hashes, dict) else None
        rp = f.get("requires-python")
        # PEP 592: "yanked" is false or true or a reason string.
        page.setdefault(v, []).append((fn, bool(f.get("yanked")), rp if isinstance(rp, str) else None, sha))
    return page


class SimpleJsonIndex(PackageIndex):
    def __init__(
        self,
        urls: Sequence[str],
        cache: HttpCache | None,
        timeout: float = DEFAULT_TIMEOUT,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self.urls = list(urls)
        self.cache = cache
        self.timeout = timeout
        self.workers = workers
        self.session = requests.Session()  # trust_env: proxies and ~/.netrc credentials, as pip
        adapter = HTTPAdapter(pool_connections=max(4, len(self.urls)), pool_maxsize=workers, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update({"Accept": ACCEPT, "User-Agent": f"archlint/{__version__}"})
        self._memo: dict[str, Project | IndexServiceError] = {}
        self._lock = threading.Lock()
        self.stats = {"requests": 0, "cache_hits": 0, "revalidated": 0}

    def close(self) -> None:
        self.session.close()

    def project(self, name: str) -> Project:
        key = canonicalize_name(name)
        with self._lock:
            hit = self._memo.get(key)
        if hit is None:
            hit = self._project(key)
            with self._lock:
                self._memo[key] = hit
        if isinstance(hit, IndexServiceError):
            raise hit
        return hit

    def _project(self, name: str) -> Project | IndexServiceError:
        merged: dict[str, list[DistFile]] = {}
        found: list[str] = []
        errors: list[IndexServiceError] = []
        for base in self.urls:
            try:
                page = self._page(f"{base.rstrip('/')}/{name}/")
            except ProjectNotFound:
                continue
            except IndexServiceError as e:
                errors.append(e)
                continue
            found.append(host_of(base))
            for v, files in page.items():
                merged.setdefault(v, []).extend(DistFile(*f) for f in files)
        if not found:
            if errors:
                return errors[0]
            where = ", ".join(host_of(u) for u in self.urls)
            return ProjectNotFound(f"{name} was not found on {where}")
        return Project(name, ", ".join(found), {v: tuple(fs) for v, fs in merged.items()})

    def _page(self, url: str) -> Page:
        entry = self.cache.get(url) if self.cache else None
        if entry is not None and entry.fresh():
            with self._lock:
                self.stats["cache_hits"] += 1
            return entry.payload
        headers = entry.conditional_headers() if entry is not None else {}
        resp = self._get(url, headers)
        try:
            if resp.status_code == 304 and entry is not None and self.cache is not None:
                with self._lock:
                    self.stats["revalidated"] += 1
                return self.cache.refresh(entry, resp.headers).payload
            if resp.status_code == 404:
                raise ProjectNotFound(f"{redact(url)}: 404 Not Found")
            if resp.status_code >= 400:
                raise BadIndexResponse(f"{redact(url)}: HTTP {resp.status_code} {resp.reason or ''}".rstrip())
            ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if "html" in ctype:
                raise BadIndexResponse(
                    f"{redact(url)}: the index answered with HTML ({ctype}), not PEP 691 JSON; "
                    "use an index that serves application/vnd.pypi.simple.v1+json"
                )
            if ctype not in (ACCEPT, "application/json"):
                raise BadIndexResponse(f"{redact(url)}: unexpected Content-Type {ctype or '(none)'!r}")
            body = self._read(resp, url)
        finally:
            resp.close()
        page = parse_page(body, url)
        if self.cache is not None:
            self.cache.put(url, resp.headers, page)
        return page

    def _get(self, url: str, headers: dict[str, str]) -> requests.Response:
        with self._lock:
            self.stats["requests"] += 1
        try:
            return self.session.get(url, headers=headers, timeout=self.timeout, stream=True)
        except requests.Timeout:
            raise IndexUnreachable(f"{host_of(url)}: timed out after {self.timeout:g}s") from None
        except requests.ConnectionError as e:
            raise IndexUnreachable(f"{host_of(url)}: cannot connect ({_cause(e)})") from None
        except requests.RequestException as e:
            raise IndexUnreachable(f"{host_of(url)}: {redact(type(e).__name__)}") from None

    def _read(self, resp: requests.Response, url: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in resp.iter_content(1 << 16):
                size += len(chunk)
                if size > MAX_BODY:
                    raise BadIndexResponse(f"{redact(url)}: response larger than {MAX_BODY} bytes")
                chunks.append(chunk)
        except requests.Timeout:
            raise IndexUnreachable(f"{host_of(url)}: timed out after {self.timeout:g}s") from None
        except requests.RequestException as e:
            raise IndexUnreachable(f"{host_of(url)}: connection broken ({_cause(e)})") from None
        return b"".join(chunks)


def _cause(e: BaseException) -> str:
    """The innermost reason (e.g. 'Connection refused'), without URLs that might carry secrets."""
    text = str(e)
    for marker in ("Connection refused", "Name or service not known", "Temporary failure in name resolution",
                   "No route to host", "Network is unreachable", "Connection reset", "timed out",
                   "certificate verify failed"):  # fmt: skip
        if marker in text:
            return marker
    return type(e).__name__
