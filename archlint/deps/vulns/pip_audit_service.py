"""pip-audit's vulnerability services (OSV, PyPI) behind our interface."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import requests
from packaging.version import InvalidVersion, Version
from pip_audit._service.interface import ResolvedDependency, ServiceError, VulnerabilityService
from pip_audit._service.osv import OsvService
from pip_audit._service.pypi import PyPIService

from archlint.deps.index.urls import host_of
from archlint.deps.vulns.interface import Advisory, VulnerabilityServiceError, VulnerabilitySource

TIMEOUT = 10


class PipAuditVulnerabilities(VulnerabilitySource):
    def __init__(self, service: str = "osv", cache_dir: Path | None = None, osv_url: str | None = None) -> None:
        self.name = "PyPI" if service == "pypi" else "OSV"
        # Without a cache directory pip-audit would pick (and create, and clean up) its own user
        # cache, or ask `pip cache dir`: give it a path it never writes to (the session is replaced).
        given = cache_dir if cache_dir is not None else Path(tempfile.gettempdir()) / "archlint-no-cache"
        svc: VulnerabilityService
        if service == "pypi":
            svc = PyPIService(cache_dir=given, timeout=TIMEOUT)
            self.where = "pypi.org"
        else:
            url = osv_url or OsvService.DEFAULT_OSV_URL
            svc = OsvService(cache_dir=given, timeout=TIMEOUT, osv_url=url)
            self.where = host_of(url)
        if cache_dir is None:  # --no-cache
            svc.session = requests.Session()
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
        except (ServiceError, requests.RequestException, ValueError, KeyError, TypeError) as e:
            # ValueError/KeyError/TypeError: a body that is not the service's JSON.
            return VulnerabilityServiceError(f"{self.name} ({self.where}) unreachable: {type(e).__name__}")
        return [Advisory(str(r.id), tuple(sorted(str(a) for a in r.aliases)), r.description) for r in results]
