"""Coloured text for people: findings grouped by file, a placement table, a summary."""

from __future__ import annotations

from collections import defaultdict
from typing import IO, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
# Placement table: workloads with an error on them are red; the recommendation is coloured by how
# far it lets the workload go on arm64.
_REC_STYLE = {"arm64": "green", "multi-arch": "green", "amd64": "yellow", "unknown": "magenta"}


def render(report: dict[str, Any], out: IO[str], color: bool, show_fixes: bool = False) -> None:
    console = Console(file=out, force_terminal=color, no_color=not color, highlight=False, width=None if color else 200,
                      soft_wrap=True)  # fmt: skip
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in report["findings"]:
        by_file[f["path"]].append(f)
    for path in sorted(by_file):
        console.print(Text(path, style="bold underline"))
        for f in by_file[path]:
            line = Text("  ")
            line.append(f"{f['line']}:{f['column']}", style="dim")
            line.append("  ")
            line.append(f"{f['severity']:<7}", style=_STYLE[f["severity"]])
            line.append(f" {f['rule']} ", style="bold")
            line.append(f["message"])
            if f["workload"]:
                line.append(f"  [{f['workload']}]", style="dim")
            if f["fix"]:
                # ruff's convention: [*] marks what --fix applies; [~] needs --unsafe-fixes; [m] is manual.
                mark = {"safe": "[*]", "unsafe": "[~]", "manual": "[m]"}[f["fix"]["applicability"]]
                line.append(f"  {mark}", style="green")
                if show_fixes:
                    line.append(f" {f['fix']['description']}", style="green")
            console.print(line)
        console.print()
    workloads = report["workloads"]
    if workloads:
        table = Table(title="Placement", title_justify="left", show_lines=False)
        for col in ("workload", "source", "current", "recommendation", "top reason"):
            table.add_column(col, overflow="fold")
        errors = {f["workload"] for f in report["findings"] if f["workload"] and f["severity"] == "error"}
        for w in workloads:
            p = w["placement"]
            current = Text(", ".join(p["current"]) or "unschedulable", style="" if p["current"] else "bold red")
            ident = Text(w["id"], style="bold red" if w["id"] in errors else "")
            rec = Text(p["recommendation"], style=_REC_STYLE.get(p["recommendation"], ""))
            source = w.get("source") or w["path"]
            table.add_row(ident, Text(source, style="dim"), current, rec, p["reasons"][0] if p["reasons"] else "")
        console.print(table)
        console.print()
    s = report["summary"]
    summary = Text()
    summary.append(f"{s['errors']} error(s)", style=_STYLE["error"] if s["errors"] else "")
    summary.append(", ")
    summary.append(f"{s['warnings']} warning(s)", style=_STYLE["warning"] if s["warnings"] else "")
    summary.append(f", {s['infos']} info in {s['files']} file(s)")
    if report["dependencies"]:
        summary.append(f"; {len(report['dependencies'])} dependencies ({s['unknown_dependencies']} unknown)")
    if workloads:
        wl = s["workloads"]
        summary.append(
            f"; workloads: {wl['arm64']} arm64, {wl['multi-arch']} multi-arch, "
            f"{wl['amd64']} amd64, {wl['unknown']} unknown"
        )
    fixes = [f["fix"]["applicability"] for f in report["findings"] if f["fix"]]
    safe, unsafe = fixes.count("safe"), fixes.count("unsafe")
    if safe or unsafe:
        summary.append(f"\n[*] {safe} fixable with --fix")
        if unsafe:
            summary.append(f"; [~] {unsafe} more with --fix --unsafe-fixes")
        summary.append("; --diff previews them")
        if not show_fixes:
            summary.append("; --show-fixes describes each")
    console.print(summary)
