"""Known-vulnerability checks for suggested upgrade versions."""

from __future__ import annotations

import threading
from collections.abc import Callable

from archlint import interrupts
from archlint.deps.index.simple_json import DEFAULT_TIMEOUT
from archlint.deps.vulns.interface import Advisory, OfflineVulnerabilities, VulnerabilitySource
from archlint.scanning import ScanContext


class LazyVulnerabilities(VulnerabilitySource):
    """Imports pip-audit (about a second of start-up) only when a suggestion needs checking."""

    def __init__(self, make: Callable[[], VulnerabilitySource]) -> None:
        self._make = make
        self._source: VulnerabilitySource | None = None
        self._lock = threading.Lock()
        self._warming: threading.Thread | None = None

    def _get(self) -> VulnerabilitySource:
        with self._lock:
            if self._source is None:
                with interrupts.held():  # pip-audit's import runs pip: Ctrl-C must not reach it
                    self._source = self._make()
                self.name = self._source.name
            return self._source

    def advisories(self, name: str, version: str) -> list[Advisory]:
        return self._get().advisories(name, version)

    def warm_up(self) -> None:
        """Start the import in the background, overlapping it with the index requests."""
        if self._warming is None:
            self._warming = threading.Thread(target=self._warm, name="archlint-vulns-warm-up")
            self._warming.start()

    def _warm(self) -> None:
        try:
            self._get()
        except Exception:  # the first real query makes the same call and reports what failed
            return

    def close(self) -> None:
        # pip-audit's import runs `python -m pip --version` (pip-api). A warm-up thread left
        # running when archlint exits would orphan that child, whose BrokenPipeError traceback
        # then lands on the user's terminal; a live thread also keeps the source scanner from
        # forking its pool. So the thread is always joined before the scan ends.
        if self._warming is not None:
            self._warming.join()
            self._warming = None


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

    return LazyVulnerabilities(make)
