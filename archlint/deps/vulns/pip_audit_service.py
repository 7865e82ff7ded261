"""pip-audit's vulnerability services (OSV, PyPI) behind our interface.

pip-audit makes the requests itself; its session is replaced by a `netio.DeadlineSession`, so
every query has a total deadline (config `index-timeout`) and a byte cap, and its HTTP cache
(PyPI's JSON API is cached; OSV's POST queries are not) reads and writes through
`archlint.cachefile`, where a damaged entry is a miss.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
from pathlib import Path
from typing import Any

import requests
from cachecontrol.adapter import CacheControlAdapter
from cachecontrol.cache import BaseCache
from packaging.version import InvalidVersion, Version
from pip_audit._service.interface import ResolvedDependency, ServiceError, VulnerabilityService
from pip_audit._service.osv import OsvService
from pip_audit._service.pypi import PyPIService

from archlint.cachefile import read_entry, write_entry
from archlint.deps.index.simple_json import DEFAULT_TIMEOUT
from archlint.deps.index.urls import host_of
from archlint.deps.vulns.interface import Advisory, VulnerabilityServiceError, VulnerabilitySource
from archlint.netio import DeadlineExceeded, DeadlineSession, WatchedPools

MAX_ANSWER_BYTES = 32 * 1024 * 1024  # a package with hundreds of advisories answers a few MB
MAX_CACHE_ENTRY_BYTES = MAX_ANSWER_BYTES + 64 * 1024

# pip-audit reports oddities of an answer (an unknown OSV schema version, an unreadable cache)
# through `logging`; with no handler configured Python would print them on stderr, between
# archlint's own lines. archlint reports what matters itself.
logging.getLogger("pip_audit").addHandler(logging.NullHandler())


class SafeFileCache(BaseCache):
    """CacheControl's cache interface over `archlint.cachefile` entries."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        h = hashlib.sha224(key.encode("utf-8", "surrogateescape")).hexdigest()
        return self.directory / h[:2] / h

    def get(self, key: str) -> bytes | None:
        return read_entry(self._path(key), MAX_CACHE_ENTRY_BYTES)

    def set(self, key: str, value: bytes, expires: Any = None) -> None:
        write_entry(self._path(key), value)

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except OSError:
            pass


class _CachingAdapter(WatchedPools, CacheControlAdapter):
    pass


def session(cache_dir: Path | None, timeout: float) -> DeadlineSession:
    adapter = _CachingAdapter(cache=SafeFileCache(cache_dir), max_retries=0) if cache_dir is not None else None
    s = DeadlineSession(timeout, MAX_ANSWER_BYTES, adapter=adapter)
    s.max_redirects = 5  # as pip-audit's own session
    return s


class PipAuditVulnerabilities(VulnerabilitySource):
    def __init__(
        self,
        service: str = "osv",
        cache_dir: Path | None = None,
        osv_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # seconds for one whole query (config index-timeout)
    ) -> None:
        self.name = "PyPI" if service == "pypi" else "OSV"
        self.timeout = timeout
        # pip-audit's constructors build a session over a cache directory (or ask `pip cache dir`):
        # give them a path they never write to, since the session is replaced right away.
        unused = Path(tempfile.gettempdir()) / "archlint-no-cache"
        svc: VulnerabilityService
        if service == "pypi":
            svc = PyPIService(cache_dir=unused, timeout=int(timeout) + 1)
            self.where = "pypi.org"
        else:
            url = osv_url or OsvService.DEFAULT_OSV_URL
            svc = OsvService(cache_dir=unused, timeout=int(timeout) + 1, osv_url=url)
            self.where = host_of(url)
        svc.session = session(cache_dir, timeout)
        self.service = svc
        self._memo: dict[tuple[str, str], list[Advisory] | VulnerabilityServiceError] = {}
        self._down: VulnerabilityServiceError | None = None
        self._lock = threading.Lock()

    def advisories(self, name: str, version: str) -> list[Advisory]:
        key = (name, version)
        with self._lock:
            if self._down is not None:  # one failure is enough: do not wait on every package
                raise self._down
            hit = self._memo.get(key)
        if hit is None:
            hit = self._query(name, version)
            with self._lock:
                self._memo[key] = hit
                if isinstance(hit, VulnerabilityServiceError):
                    self._down = hit
        if isinstance(hit, VulnerabilityServiceError):
            raise hit
        return hit

    def _query(self, name: str, version: str) -> list[Advisory] | VulnerabilityServiceError:
        try:
            spec = ResolvedDependency(name=name, version=Version(version))
        except InvalidVersion:
            return VulnerabilityServiceError(f"{version!r} is not a valid version")
        try:
            _, results = self.service.query(spec)
            return [Advisory(str(r.id), tuple(sorted(str(a) for a in r.aliases)), r.description) for r in results]
        except DeadlineExceeded:
            return VulnerabilityServiceError(
                f"{self.name} ({self.where}) timed out after {self.timeout:g}s (index-timeout)"
            )
        except (ServiceError, requests.RequestException, ValueError, KeyError, TypeError, AttributeError,
                RecursionError) as e:  # fmt: skip
            # ValueError/KeyError/TypeError/AttributeError/RecursionError: a body that is not the
            # service's JSON (an HTML page, another schema, nesting deeper than the parser allows).
            return VulnerabilityServiceError(f"{self.name} ({self.where}) unreachable: {type(e).__name__}")
