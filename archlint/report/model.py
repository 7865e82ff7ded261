"""The JSON report (schema_version 1): the one document every other format is rendered from."""

from __future__ import annotations

from typing import Any

from archlint import __version__
from archlint.engine import Result
from archlint.facts import Target
from archlint.findings import Finding, Severity

RECOMMENDATIONS = ("arm64", "multi-arch", "amd64", "unknown")


def finding_to_json(f: Finding) -> dict[str, Any]:
    from archlint.catalogue import catalogue

    rule = catalogue().by_code[f.rule]
    return {
        "rule": f.rule,
        "name": rule.name,
        "severity": f.sev.label,
        "message": f.message,
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "end_column": f.end_column,
        "workload": f.workload,
        "fingerprint": f.fingerprint,
        "fix": None
        if f.fix is None
        else {
            "description": f.fix.description,
            "applicability": f.fix.applicability.value,
            "edits": [
                {
                    "path": e.path,
                    "start_line": e.start_line,
                    "start_column": e.start_column,
                    "end_line": e.end_line,
                    "end_column": e.end_column,
                    "content": e.content,
                }
                for e in f.fix.edits
            ],
        },
    }


def default_targets(result: Result) -> list[Target]:
    if result.facts.targets:
        return result.facts.targets
    pythons = result.ctx.pythons or ("3.12",)
    glibc = str(result.ctx.config.get("glibc", "2.36"))
    return [Target(p, py, "glibc", glibc) for py in pythons for p in ("linux/arm64", "linux/amd64")]


def build(result: Result) -> dict[str, Any]:
    findings = result.findings
    counts = {s: sum(1 for f in findings if f.sev == s) for s in Severity}
    workloads = {r: 0 for r in RECOMMENDATIONS}
    wl_json = []
    for w in result.facts.workloads:
        p = w.placement
        rec = p.recommendation if p else "unknown"
        workloads[rec] = workloads.get(rec, 0) + 1
        verdicts = {v.ref: v for v in w.image_verdicts}
        wl_json.append(
            {
                "id": w.id,
                "kind": w.kind,
                "name": w.name,
                "namespace": w.namespace,
                "path": w.path,
                "line": w.line,
                "source": w.source or w.path,
                "images": [
                    {
                        "ref": ref,
                        "arm64": verdicts[ref].arm64 if ref in verdicts else None,
                        "evidence": list(verdicts[ref].evidence) if ref in verdicts else [],
                    }
                    for ref in w.images
                ],
                "placement": {
                    "current": list(p.current) if p else [],
                    "recommendation": rec,
                    "reasons": list(p.reasons) if p else [],
                    "patch": p.patch if p else None,
                },
            }
        )
    deps = result.facts.dependencies
    return {
        "schema_version": 1,
        "tool": {"name": "archlint", "version": __version__},
        "targets": [t.to_json() for t in default_targets(result)],
        "summary": {
            "files": result.files,
            "errors": counts[Severity.ERROR],
            "warnings": counts[Severity.WARNING],
            "infos": counts[Severity.INFO],
            "unknown_dependencies": sum(1 for d in deps if d.status == "unknown"),
            "workloads": workloads,
        },
        "findings": [finding_to_json(f) for f in findings],
        "dependencies": [d.to_json() for d in deps],
        "workloads": wl_json,
    }
