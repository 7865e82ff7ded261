"""A Markdown summary sized for a pull-request comment or a job summary."""

from __future__ import annotations

from typing import Any

from archlint.report.safe import code_span, markdown

_ICON = {"error": "🔴", "warning": "🟡", "info": "🔵"}
MAX_ROWS = 50  # PR comments have a size limit; the full list is in SARIF/JSON


def _cell(s: str) -> str:
    return markdown(s.replace("\n", " "))


def _short(s: str, limit: int = 160) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _evidence(workloads: list[dict[str, Any]]) -> list[str]:
    """The evidence chain behind each non-trivial recommendation, folded away."""
    shown = [w for w in workloads if w["placement"]["recommendation"] != "multi-arch"][:MAX_ROWS]
    if not shown:
        return []
    out = ["<details><summary>Why (evidence per workload)</summary>", ""]
    for w in shown:
        p = w["placement"]
        out.append(f"**{code_span(w['id'])}** ({_cell(w.get('source') or w['path'])}) → {p['recommendation']}")
        out.extend(f"- {_cell(_short(r, 300))}" for r in p["reasons"][:8])
        if len(p["reasons"]) > 8:
            out.append(f"- …{len(p['reasons']) - 8} more")
        out.append("")
    out += ["</details>", ""]
    return out


def render(report: dict[str, Any]) -> str:
    s = report["summary"]
    out = ["## archlint: arm64 readiness", ""]
    verdict = "❌ blocking problems found" if s["errors"] else "✅ no blocking problems"
    out.append(f"**{verdict}**: {s['errors']} error(s), {s['warnings']} warning(s), {s['infos']} info "
               f"in {s['files']} file(s).")  # fmt: skip
    out.append("")
    if report["workloads"]:
        wl = s["workloads"]
        out += [
            f"Workloads: **{wl['arm64']}** arm64, **{wl['multi-arch']}** multi-arch, "
            f"**{wl['amd64']}** amd64, **{wl['unknown']}** unknown.",
            "",
            "| Workload | Source | Can land on | Recommendation | Why |",
            "|---|---|---|---|---|",
        ]
        errors = {f["workload"] for f in report["findings"] if f["workload"] and f["severity"] == "error"}
        for w in report["workloads"][:MAX_ROWS]:
            p = w["placement"]
            mark = f"{_ICON['error']} " if w["id"] in errors else ""
            out.append(
                f"| {mark}{code_span(w['id'])} | {_cell(w.get('source') or w['path'])} "
                f"| {', '.join(p['current']) or 'unschedulable'} | {p['recommendation']} "
                f"| {_cell(_short(p['reasons'][0])) if p['reasons'] else ''} |"
            )
        if len(report["workloads"]) > MAX_ROWS:
            out.append(f"\n…and {len(report['workloads']) - MAX_ROWS} more workloads (see the JSON report).")
        out.append("")
        out += _evidence(report["workloads"])
    findings = report["findings"]
    if findings:
        out += ["| | Rule | Location | Message |", "|---|---|---|---|"]
        for f in findings[:MAX_ROWS]:
            where = code_span(f"{f['path']}:{f['line']}")
            out.append(f"| {_ICON[f['severity']]} | `{f['rule']}` {f['name']} | {where} | {_cell(f['message'])} |")
        if len(findings) > MAX_ROWS:
            out.append(f"\n…and {len(findings) - MAX_ROWS} more (see the SARIF or JSON report).")
        out.append("")
    deps = [d for d in report["dependencies"] if d["status"] in ("unavailable", "needs-build")]
    if deps:
        out += ["<details><summary>Dependencies without arm64 wheels</summary>", "",
                "| Package | Version | Status | Suggestion |", "|---|---|---|---|"]  # fmt: skip
        for d in deps[:MAX_ROWS]:
            sug = d["suggestion"]["version"] if d["suggestion"] else ""
            out.append(
                f"| {_cell(d['name'])} | {_cell(d['version'] or d['specifier'])} | {d['status']} | {_cell(sug)} |"
            )
        out += ["", "</details>", ""]
    return "\n".join(out)
