"""Known-vulnerability checks for suggested upgrade versions."""

from __future__ import annotations

from archlint.deps.vulns.interface import OfflineVulnerabilities, VulnerabilitySource
from archlint.deps.vulns.pip_audit_service import PipAuditVulnerabilities
from archlint.scanning import ScanContext


def make_vulnerability_source(ctx: ScanContext) -> VulnerabilitySource:
    service = str(ctx.config.get("vulnerability-service", "osv"))
    if ctx.offline:
        return OfflineVulnerabilities("offline (--offline)")
    if service == "none":
        return OfflineVulnerabilities('the vulnerability check is disabled (vulnerability-service = "none")')
    return PipAuditVulnerabilities(
        service=service,
        cache_dir=ctx.cache_dir / "vulns" if ctx.cache_dir else None,
        osv_url=ctx.config.get("osv-url"),
    )
