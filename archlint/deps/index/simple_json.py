"""The PEP 691 JSON simple API (the one pip and uv use), over pooled HTTP with a disk cache."""

from __future__ import annotations

import functools
import json
import marshal
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urljoin

import requests
from packaging.utils import canonicalize_name
from packaging.version import Version

from archlint import __version__
from archlint.deps.index import sessions
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
from archlint.netio import DeadlineExceeded, ResponseTooLarge

ACCEPT = "application/vnd.pypi.simple.v1+json"
MAX_BODY = 64 * 1024 * 1024  # the largest real pages (boto3, botocore) are ~10 MB
DEFAULT_TIMEOUT = 10.0  # seconds for a whole request: connect, headers and body (config index-timeout)
DEFAULT_WORKERS = 16
_SDIST_EXTS = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar")

# The cached form of a page: {normalised version: marshal([the index's file dicts, ...])}.
# One blob per release keeps a warm run cheap: it decodes only the releases it looks at; a cold
# run only groups the files by version (the fields of a file are read when its release is).
Page = dict[str, bytes]


def _dist_file(f: dict[str, Any]) -> DistFile | None:
    """A PEP 691 file entry as a DistFile (None: not a usable entry)."""
    fn = f.get("filename")
    if type(fn) is not str:
        return None
    hashes = f.get("hashes")
    sha = hashes.get("sha256") if type(hashes) is dict else None
    rp = f.get("requires-python")
    link = f.get("url")
    # PEP 714: "core-metadata", else the older "dist-info-metadata"; false, true or {hash: value}.
    cm = f.get("core-metadata", f.get("dist-info-metadata"))
    meta = None
    if cm:
        digest = cm.get("sha256") if type(cm) is dict else None
        meta = digest if type(digest) is str else ""
    size = f.get("size")
    # PEP 592: "yanked" is false, true or a reason string.
    return DistFile(fn, bool(f.get("yanked")), rp if type(rp) is str else None, sha if type(sha) is str else None,
                    link if type(link) is str else None, meta, size if type(size) is int else None)  # fmt: skip


class LazyReleases(Mapping[str, tuple[DistFile, ...]]):
    """Releases decoded on first access (a page may hold thousands of files; a pin needs one release)."""

    def __init__(self, blobs: Mapping[str, list[bytes]]) -> None:
        self._blobs = blobs
        self._decoded: dict[str, tuple[DistFile, ...]] = {}

    def __getitem__(self, version: str) -> tuple[DistFile, ...]:
        hit = self._decoded.get(version)
        if hit is None:
            hit = tuple(f for blob in self._blobs[version] for f in _decode(blob))
            self._decoded[version] = hit
        return hit

    def __iter__(self) -> Iterator[str]:
        return iter(self._blobs)

    def __len__(self) -> int:
        return len(self._blobs)


def _decode(blob: bytes) -> list[DistFile]:
    """One release's files; a damaged blob (a cache entry altered on disk) is a release without files."""
    try:
        rows = marshal.loads(blob)
        files = [_dist_file(f) for f in rows if type(f) is dict]
    except (EOFError, ValueError, TypeError):
        return []
    return [f for f in files if f is not None]


def releases(*pages: Page) -> LazyReleases:
    merged: dict[str, list[bytes]] = {}
    for page in pages:
        for v, blob in page.items():
            merged.setdefault(v, []).append(blob)
    return LazyReleases(merged)


def _raw_version(filename: str, project: str | None = None) -> str | None:
    if filename.endswith(".whl"):
        parts = filename.split("-", 2)
        return parts[1] if len(parts) == 3 else None
    for ext in _SDIST_EXTS:
        if filename.endswith(ext):
            stem = filename[: -len(ext)]
            if "-" not in stem:
                return None
            name, version = stem.rsplit("-", 1)
            if project is None or _canonical(name) == project:
                return version or None
            # As pip: the version starts after the first dash whose prefix is the project's name
            # (rare: a version with a dash in it, or a file of another project).
            for i, c in enumerate(stem):
                if c == "-" and _canonical(stem[:i]) == project:
                    return stem[i + 1 :] or None
            return None
    return None  # eggs, installers: pip does not install these


@functools.lru_cache(maxsize=4096)
def _canonical(name: str) -> str:
    return canonicalize_name(name)


def _normalise(raw: str) -> str | None:
    try:
        return str(Version(raw))
    except ValueError:  # InvalidVersion, or a release number too long for int() (thousands of digits)
        return None


def _is_page(payload: object) -> bool:
    return isinstance(payload, dict) and all(type(k) is str and type(v) is bytes for k, v in payload.items())


def parse_page(body: bytes, url: str) -> Page:
    """PEP 691 JSON -> compact page; BadIndexResponse for anything else.

    This loop runs over every file of every release (10^5 files for the biggest projects),
    so it stays deliberately flat: it only groups the entries by version.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadIndexResponse(f"{redact(url)}: invalid JSON ({e})") from None
    except RecursionError:
        raise BadIndexResponse(f"{redact(url)}: JSON nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise BadIndexResponse(f"{redact(url)}: not a PEP 691 project page (no 'files' list)")
    api = str((data.get("meta") or {}).get("api-version", "1.0"))
    if not api.startswith("1."):
        raise BadIndexResponse(f"{redact(url)}: unsupported simple API version {api}")
    grouped: dict[str, list[dict[str, Any]]] = {}
    versions: dict[str, str | None] = {}  # raw version text -> normalised (or None: invalid)
    name = data.get("name")
    project = canonicalize_name(name) if type(name) is str else None
    for f in data["files"]:
        try:
            raw = _raw_version(f["filename"], project)
        except (TypeError, KeyError, AttributeError):
            continue
        if raw is None:
            continue
        v = versions.get(raw, "")
        if v == "":
            v = versions[raw] = _normalise(raw)
        if v is None:
            continue
        link = f.get("url")
        if type(link) is str and "://" not in link:
            f = {**f, "url": urljoin(url, link)}  # PEP 691 allows URLs relative to the page
        files = grouped.get(v)
        if files is None:
            grouped[v] = [f]
        else:
            files.append(f)
    try:
        return {v: marshal.dumps(files) for v, files in grouped.items()}
    except ValueError:  # JSON only holds marshal-able types; never trust that blindly
        raise BadIndexResponse(f"{redact(url)}: unexpected values in the file entries") from None


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
        # trust_env: proxies and ~/.netrc credentials, as pip (computed once per host: sessions.py).
        # `timeout` bounds each whole request (netio).
        self.session = sessions.session(max(4, len(self.urls)), workers, timeout, MAX_BODY)
        self.session.headers.update({"Accept": ACCEPT, "User-Agent": f"archlint/{__version__}"})
        self._memo: dict[str, Project | IndexServiceError] = {}
        # An index that refused a connection or timed out is not asked again in this run:
        # a hundred pins must not wait a hundred timeouts.
        self._down: dict[str, IndexUnreachable] = {}
        self._lock = threading.Lock()
        self.stats = {"requests": 0, "cache_hits": 0, "revalidated": 0}

    def close(self) -> None:
        self.session.close()

    def cached_project(self, name: str) -> Project | None:
        key = canonicalize_name(name)
        with self._lock:
            hit = self._memo.get(key)
        if hit is not None:
            return hit if isinstance(hit, Project) else None
        if self.cache is None:
            return None
        pages = []
        for base in self.urls:
            entry = self.cache.get(f"{base.rstrip('/')}/{key}/")
            if entry is None or not entry.fresh():
                return None  # one index needs asking: the normal path asks them all
            pages.append(entry.payload)
        project = Project(key, ", ".join(host_of(u) for u in self.urls), releases(*pages))
        with self._lock:
            self._memo.setdefault(key, project)
            self.stats["cache_hits"] += len(pages)
        return project

    def page_fingerprints(self, names: Iterable[str]) -> list[tuple[str, int, int, float]] | None:
        if self.cache is None:
            return None
        out = []
        for name in names:
            for base in self.urls:
                fp = self.cache.fingerprint(f"{base.rstrip('/')}/{canonicalize_name(name)}/")
                if fp is None:
                    return None  # a page not cached (a 404, an error): do not keep the result
                out.append(fp)
        return out

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
        pages: list[Page] = []
        found: list[str] = []
        errors: list[IndexServiceError] = []
        for base in self.urls:
            with self._lock:
                down = self._down.get(base)
            if down is not None:
                errors.append(down)
                continue
            try:
                page = self._page(f"{base.rstrip('/')}/{name}/")
            except ProjectNotFound:
                continue
            except IndexUnreachable as e:
                with self._lock:
                    self._down.setdefault(base, e)
                errors.append(e)
                continue
            except IndexServiceError as e:
                errors.append(e)
                continue
            found.append(host_of(base))
            pages.append(page)
        if not found:
            if errors:
                return errors[0]
            where = ", ".join(host_of(u) for u in self.urls)
            return ProjectNotFound(f"{name} was not found on {where}")
        return Project(name, ", ".join(found), releases(*pages))

    def _page(self, url: str) -> Page:
        entry = self.cache.get(url) if self.cache else None
        if entry is not None and not _is_page(entry.payload):
            entry = None  # written by another layout of this cache: a miss
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
            body = resp.content
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
            return self.session.get(url, headers=headers)
        except DeadlineExceeded:
            raise IndexUnreachable(f"{host_of(url)}: timed out after {self.timeout:g}s (index-timeout)") from None
        except ResponseTooLarge:
            raise BadIndexResponse(f"{redact(url)}: response larger than {MAX_BODY} bytes") from None
        except requests.Timeout:
            raise IndexUnreachable(f"{host_of(url)}: timed out after {self.timeout:g}s") from None
        except requests.ConnectionError as e:
            raise IndexUnreachable(f"{host_of(url)}: cannot connect ({_cause(e)})") from None
        except requests.RequestException as e:
            raise IndexUnreachable(f"{host_of(url)}: {redact(type(e).__name__)}") from None


def _cause(e: BaseException) -> str:
    """The innermost reason (e.g. 'Connection refused'), without URLs that might carry secrets."""
    text = str(e)
    for marker in ("Connection refused", "Name or service not known", "Temporary failure in name resolution",
                   "No route to host", "Network is unreachable", "Connection reset", "timed out",
                   "certificate verify failed"):  # fmt: skip
        if marker in text:
            return marker
    return type(e).__name__
