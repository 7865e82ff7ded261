"""The PEP 691 JSON simple API (the one pip and uv use), over pooled HTTP with a disk cache."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import requests
from packaging.utils import canonicalize_name

from archlint import __version__
from archlint.deps.index import sessions
from archlint.deps.index.cache import HttpCache
from archlint.deps.index.interface import (
    BadIndexResponse,
    IndexServiceError,
    IndexUnreachable,
    PackageIndex,
    Project,
    ProjectNotFound,
)
from archlint.deps.index.pages import (
    ACCEPT,
    DEFAULT_TIMEOUT,
    DEFAULT_WORKERS,
    MAX_BODY,
    Page,
    is_page,
    parse_page,
    releases,
)
from archlint.deps.index.urls import host_of, redact
from archlint.netio import DeadlineExceeded, ResponseTooLarge


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
        if entry is not None and not is_page(entry.payload):
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
