"""Text for people.

The default is ruff's concise layout, one finding per line, `path:line:col: CODE [*] message`,
which editors, terminals and grep understand; then the placement of each workload and a
summary. `--output-format full` is the long form: findings grouped by file with aligned
columns, and the placement as a table.

Width comes from COLUMNS, else the terminal, else 80; text is wrapped at word boundaries only.
Colour: `--color always|never`, else NO_COLOR (off) and FORCE_COLOR (on), else a terminal.
Names and messages come from the scanned tree: they go through `printable` and into rich `Text`
(never markup strings), so neither control characters nor "[...]" reach the terminal as such.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections import defaultdict
from collections.abc import Iterable
from typing import IO, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from archlint.report.safe import printable as P

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
# Workloads with an error on them are red; the recommendation is coloured by how far it lets the
# workload go on arm64.
_REC_STYLE = {"arm64": "green", "multi-arch": "green", "amd64": "yellow", "unknown": "magenta"}
# ruff's convention: [*] is applied by --fix; [~] needs --unsafe-fixes; manual fixes carry no mark.
FIX_MARK = {"safe": "[*]", "unsafe": "[~]"}
DEFAULT_WIDTH = 80


def width_for(out: IO[str]) -> int:
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if out.isatty():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return DEFAULT_WIDTH


def console_for(out: IO[str], color: bool, width: int) -> Console:
    return Console(file=out, force_terminal=color, no_color=not color, highlight=False, width=width, soft_wrap=True,
                   emoji=False, markup=False)  # fmt: skip


def _wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` columns (at least 20), broken between words only: a
    word longer than a line (a long path) stands alone on it, whole."""
    return textwrap.wrap(text, width=max(width, 20), break_long_words=False, break_on_hyphens=False) or [""]


def _mark(f: dict[str, Any]) -> str:
    return FIX_MARK.get(f["fix"]["applicability"], "") if f["fix"] else ""


def concise_line(f: dict[str, Any]) -> Text:
    line = Text()
    line.append(P(f["path"]), style="bold")
    line.append(f":{f['line']}:{f['column']}:", style="cyan")
    line.append(" ")
    line.append(f["rule"], style=_STYLE[f["severity"]])
    mark = _mark(f)
    if mark:
        line.append(" ")
        line.append(mark, style="cyan")
    line.append(" ")
    line.append(P(f["message"]))
    if f["workload"]:
        line.append(f" [{P(f['workload'])}]", style="dim")
    return line


def _concise(console: Console, findings: list[dict[str, Any]], show_fixes: bool) -> None:
    for f in findings:
        console.print(concise_line(f))
        if show_fixes and f["fix"]:
            mark = _mark(f) or "[m]"  # [m]: manual, shown and never applied
            console.print(Text(f"    {mark} {P(f['fix']['description'])}", style="green"))


def _full(console: Console, findings: list[dict[str, Any]], show_fixes: bool) -> None:
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        by_file[f["path"]].append(f)
    for path in sorted(by_file):
        group = by_file[path]
        console.print(Text(P(path), style="bold underline"))
        pos_w = max(len(f"{f['line']}:{f['column']}") for f in group)
        for f in group:
            head = f"  {f['line']}:{f['column']}".ljust(pos_w + 2) + "  "
            indent = len(head) + 8 + len(f["rule"]) + 1
            words = P(f["message"])
            if f["workload"]:
                words += f" [{P(f['workload'])}]"
            mark = _mark(f)
            if mark:
                words += f" {mark}"
            body = _wrap(words, console.width - indent)
            line = Text(head, style="dim")
            line.append(f"{f['severity']:<7}", style=_STYLE[f["severity"]])
            line.append(f" {f['rule']} ", style="bold")
            line.append(body[0])
            console.print(line)
            for more in body[1:]:
                console.print(Text(" " * indent + more))
            if show_fixes and f["fix"]:
                for fix_line in _wrap(f"fix: {P(f['fix']['description'])}", console.width - indent):
                    console.print(Text(" " * indent + fix_line, style="green"))
        console.print()


def _errors_by_workload(report: dict[str, Any]) -> set[str]:
    return {f["workload"] for f in report["findings"] if f["workload"] and f["severity"] == "error"}


def _placement_lines(console: Console, report: dict[str, Any]) -> None:
    """Concise placement: one aligned row per workload, the top reason wrapped after it."""
    workloads = report["workloads"]
    errors = _errors_by_workload(report)
    rows = []
    for w in workloads:
        p = w["placement"]
        rows.append((P(w["id"]), P(_source(w)), ", ".join(p["current"]) or "unschedulable", p["recommendation"],
                     P(p["reasons"][0]) if p["reasons"] else "", w["id"] in errors))  # fmt: skip
    id_w = min(max(len(r[0]) for r in rows), 48)
    src_w = min(max(len(r[1]) for r in rows), 40)
    cur_w = max(len(r[2]) for r in rows)
    rec_w = max(len(r[3]) for r in rows)
    console.print(Text("Placement:", style="bold"))
    lead = 2 + id_w + 2 + src_w + 2 + cur_w + 3 + rec_w + 2
    for ident, source, current, rec, reason, failing in rows:
        line = Text("  ")
        line.append(ident.ljust(id_w), style="bold red" if failing else "bold")
        line.append("  ")
        line.append(source.ljust(src_w), style="dim")
        line.append("  ")
        line.append(current.ljust(cur_w), style="" if current != "unschedulable" else "bold red")
        line.append(" → ")
        line.append(rec.ljust(rec_w), style=_REC_STYLE.get(rec, ""))
        if reason:
            if console.width - lead >= 30:
                wrapped = _wrap(reason, console.width - lead)
                line.append("  " + wrapped[0], style="dim")
                console.print(line)
                for more in wrapped[1:]:
                    console.print(Text(" " * lead + more, style="dim"))
                continue
            line.rstrip()  # too narrow for a column: the reason goes below
            console.print(line)
            for more in _wrap(reason, console.width - 4):
                console.print(Text("    " + more, style="dim"))
            continue
        line.rstrip()
        console.print(line)


def _source(w: dict[str, Any]) -> str:
    """Where the workload came from (file, overlay, chart): with the id, it tells rows apart."""
    return str(w.get("source") or w["path"])


def _placement_table(console: Console, report: dict[str, Any]) -> None:
    rows = [(P(w["id"]), ", ".join(w["placement"]["current"]) or "unschedulable", P(_source(w)))
            for w in report["workloads"]]  # fmt: skip
    fixed = (max(len(r[0]) for r in rows) + max(max(len(r[1]) for r in rows), 7) + len("recommendation")
             + max(max(len(r[2]) for r in rows), 6) + 16)  # fmt: skip
    longest = max((len(word) for w in report["workloads"] for word in " ".join(w["placement"]["reasons"][:1]).split()),
                   default=0)  # fmt: skip
    if console.width - fixed < max(longest, 24):
        # A table would have to break a word of a reason; the line layout never does.
        _placement_lines(console, report)
        return
    table = Table(title="Placement", title_justify="left", show_lines=False)
    # Names never wrap; the reason takes the rest of the width and wraps between words.
    table.add_column("workload", no_wrap=True)
    table.add_column("source", no_wrap=True, style="dim")
    table.add_column("current", no_wrap=True)
    table.add_column("recommendation", no_wrap=True)
    table.add_column("top reason", overflow="fold", ratio=1)
    errors = _errors_by_workload(report)
    for w in report["workloads"]:
        p = w["placement"]
        current = Text(", ".join(p["current"]) or "unschedulable", style="" if p["current"] else "bold red")
        ident = Text(P(w["id"]), style="bold red" if w["id"] in errors else "")
        rec = Text(p["recommendation"], style=_REC_STYLE.get(p["recommendation"], ""))
        table.add_row(ident, Text(P(_source(w))), current, rec, Text(P(p["reasons"][0]) if p["reasons"] else ""))
    console.print(table, soft_wrap=False)


def summary(report: dict[str, Any], show_fixes: bool) -> list[list[Text]]:
    """The closing lines: counts, then what --fix would do. Parts are joined into lines that
    fit the width (see `_fit`), so the terminal never breaks them inside a word."""
    s = report["summary"]
    counts = Text()
    counts.append(f"{s['errors']} error(s)", style=_STYLE["error"] if s["errors"] else "")
    counts.append(", ")
    counts.append(f"{s['warnings']} warning(s)", style=_STYLE["warning"] if s["warnings"] else "")
    counts.append(f", {s['infos']} info in {s['files']} file(s)")
    parts = [counts]
    if report["dependencies"]:
        parts.append(Text(f"{len(report['dependencies'])} dependencies ({s['unknown_dependencies']} unknown)"))
    if report["workloads"]:
        wl = s["workloads"]
        parts.append(Text(f"workloads: {wl['arm64']} arm64, {wl['multi-arch']} multi-arch, "
                          f"{wl['amd64']} amd64, {wl['unknown']} unknown"))  # fmt: skip
    lines = [parts]
    fixes = [f["fix"]["applicability"] for f in report["findings"] if f["fix"]]
    safe, unsafe = fixes.count("safe"), fixes.count("unsafe")
    if safe or unsafe:
        hints = [Text(f"[*] {safe} fixable with --fix")]
        if unsafe:
            hints.append(Text(f"[~] {unsafe} more with --fix --unsafe-fixes"))
        hints.append(Text("--diff previews them"))
        if not show_fixes:
            hints.append(Text("--show-fixes describes each"))
        lines.append(hints)
    return lines


def _fit(parts: list[Text], width: int) -> list[Text]:
    """Join parts with "; " into as few lines as fit `width`."""
    out: list[Text] = []
    for part in parts:
        if out and out[-1].cell_len + 2 + part.cell_len <= width:
            out[-1].append("; ")
            out[-1].append_text(part)
        else:
            out.append(part.copy())
    return out


def render(report: dict[str, Any], out: IO[str], color: bool, show_fixes: bool = False, *, full: bool = False,
           quiet: bool = False, width: int | None = None) -> None:  # fmt: skip
    console = console_for(out, color, width or width_for(out))
    findings = report["findings"]
    (_full if full else _concise)(console, findings, show_fixes)
    if quiet:
        return
    if report["workloads"]:
        if findings and not full:
            console.print()
        (_placement_table if full else _placement_lines)(console, report)
        console.print()
    elif findings and not full:
        console.print()
    for group in summary(report, show_fixes):
        for line in _fit(group, console.width):
            console.print(line)


def statistics(findings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings counted per rule, most frequent first (`--statistics`)."""
    by_rule: dict[str, dict[str, Any]] = {}
    for f in findings:
        s = by_rule.setdefault(f["rule"], {"code": f["rule"], "name": f["name"], "count": 0, "severity": f["severity"],
                                           "fixable": None})  # fmt: skip
        s["count"] += 1
        if f["fix"] and f["fix"]["applicability"] in FIX_MARK and s["fixable"] != "safe":
            s["fixable"] = f["fix"]["applicability"]
    return sorted(by_rule.values(), key=lambda s: (-s["count"], s["code"]))


def render_statistics(stats: list[dict[str, Any]], out: IO[str], color: bool, width: int | None = None) -> None:
    console = console_for(out, color, width or width_for(out))
    count_w = max((len(str(s["count"])) for s in stats), default=1)
    for s in stats:
        line = Text(f"{s['count']:>{count_w}}  ")
        line.append(s["code"], style=_STYLE[s["severity"]])
        line.append("  ")
        mark = FIX_MARK.get(s["fixable"] or "", "   ")
        line.append(mark, style="cyan")
        line.append(f" {s['name']}")
        console.print(line)
