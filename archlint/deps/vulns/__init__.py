"""Known-vulnerability checks for suggested upgrade versions."""

from __future__ import annotations

import threading
from collections.abc import Callable

from archlint import interrupts
from archlint.deps.index.pages import DEFAULT_TIMEOUT
from archlint.deps.vulns.answers import AnswerCache
from archlint.deps.vulns.interface import Advisory, OfflineVulnerabilities, VulnerabilitySource
from archlint.scanning import ScanContext


class LazyVulnerabilities(VulnerabilitySource):
    """Imports pip-audit (about a second of start-up) only when a suggestion needs checking and
    no answer of the last day is kept (`answers`)."""

    def __init__(
        self, make: Callable[[], VulnerabilitySource], answers: AnswerCache | None = None, name: str | None = None
    ) -> None:
        if name:
            self.name = name  # known before the import: answers from the cache name it too
        self._make = make
        self._source: VulnerabilitySource | None = None
        self._lock = threading.Lock()
        self._answers = answers

    def _get(self) -> VulnerabilitySource:
        with self._lock:
            if self._source is None:
                with interrupts.held():  # pip-audit's import runs pip: Ctrl-C must not reach it
                    self._source = self._make()
                self.name = self._source.name
            return self._source

    def advisories(self, name: str, version: str) -> list[Advisory]:
        if self._answers is not None:
            kept = self._answers.get(name, version)
            if kept is not None:
                return kept
        ads = self._get().advisories(name, version)  # raises when the service cannot answer
        if self._answers is not None:
            self._answers.put(name, version, ads)
        return ads


def make_vulnerability_source(ctx: ScanContext) -> VulnerabilitySource:
    service = str(ctx.config.get("vulnerability-service", "osv"))
    if ctx.offline:
        return OfflineVulnerabilities("offline (--offline)")
    if service == "none":
        return OfflineVulnerabilities('the vulnerability check is disabled (vulnerability-service = "none")')
    cache_dir = ctx.cache_dir / "vulns-v2" if ctx.cache_dir else None  # v2: archlint.cachefile entries
    osv_url = ctx.config.get("osv-url")
    timeout = float(ctx.config.get("index-timeout", DEFAULT_TIMEOUT))

    def make() -> VulnerabilitySource:
        from archlint.deps.vulns.pip_audit_service import PipAuditVulnerabilities

        return PipAuditVulnerabilities(service=service, cache_dir=cache_dir, osv_url=osv_url, timeout=timeout)

    answers = AnswerCache(ctx.cache_dir / "vuln-answers-v1", f"{service} {osv_url or ''}") if ctx.cache_dir else None
    return LazyVulnerabilities(make, answers, name="PyPI" if service == "pypi" else "OSV")
