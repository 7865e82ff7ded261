"""The fleet report as one static HTML file: inline CSS and SVG, nothing fetched.

A Content-Security-Policy that allows no network source makes "no external requests" a
property a browser enforces, not just a habit of this template.
"""

from __future__ import annotations

from html import escape
from typing import Any

from archlint.fleet import svg
from archlint.fleet.aggregate import RECOMMENDATIONS
from archlint.fleet.markdown import pct

COLORS = {"arm64": "#1b873f", "multi-arch": "#2f6fdf", "amd64": "#d1352b", "unknown": "#9aa4b2"}
DEPENDENCY_COLOR = "#e07b00"
BASE_IMAGE_COLOR = "#7b4fd0"
IMAGE_COLOR = "#0f8b8d"
CHART_ROWS = 12  # bars per chart; tables below carry the rest
MAX_TABLE_ROWS = 500

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f5f7fa; color: #1d2330;
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 20px 48px; }
header h1 { font-size: 26px; margin: 0 0 2px; letter-spacing: -0.01em; }
header p { margin: 0 0 18px; color: #5b6475; }
.kpis { display: grid; grid-template-columns: repeat(4, 1fr); gap: 14px; margin-bottom: 16px; }
.kpi, .card { background: #fff; border: 1px solid #e3e7ee; border-radius: 10px; }
.kpi { padding: 12px 16px; }
.kpi .v { font-size: 28px; font-weight: 700; line-height: 1.2; font-variant-numeric: tabular-nums; }
.kpi .l { color: #5b6475; font-size: 13px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; margin-bottom: 16px; }
.card { padding: 14px 18px 16px; overflow: hidden; }
.card h2 { font-size: 16px; margin: 0 0 10px; }
.card p.note { color: #5b6475; font-size: 13px; margin: 6px 0 0; }
.donut-row { display: flex; align-items: center; gap: 22px; }
.legend { list-style: none; margin: 0; padding: 0; font-size: 14px; }
.legend li { display: flex; align-items: center; gap: 8px; margin: 4px 0; font-variant-numeric: tabular-nums; }
.legend.inline { display: flex; gap: 16px; margin-top: 10px; font-size: 13px; color: #5b6475; }
.sw { width: 12px; height: 12px; border-radius: 3px; display: inline-block; }
.chart { display: block; max-width: 100%; height: auto; }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eef1f5; vertical-align: top; }
th { color: #5b6475; font-weight: 600; font-size: 13px; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
code { font: 13px/1.4 ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", monospace; }
.empty { color: #5b6475; font-size: 14px; margin: 4px 0; }
section.card { margin-bottom: 16px; }
footer { color: #5b6475; font-size: 12px; margin-top: 24px; }
.scroll { overflow-x: auto; }
/* A phone (390 px): one column; charts keep their size, so their 13 px labels stay readable, and
   scroll sideways inside their card; the page itself never scrolls sideways. */
@media (max-width: 640px) {
  main { padding: 14px 10px 32px; }
  header h1 { font-size: 21px; }
  .kpis { grid-template-columns: 1fr 1fr; gap: 10px; }
  .kpi { padding: 10px 12px; }
  .kpi .v { font-size: 22px; }
  .grid { grid-template-columns: 1fr; gap: 12px; margin-bottom: 12px; }
  .card { padding: 12px; }
  .donut-row { flex-direction: column; align-items: flex-start; gap: 10px; }
  .chart { max-width: none; }
  .legend.inline { flex-wrap: wrap; gap: 6px 14px; }
  table { font-size: 13px; min-width: 560px; }  /* scrolls in its card rather than breaking words */
  th, td { padding: 5px 6px; }
}
"""


def _legend(counts: dict[str, int], inline: bool = False) -> str:
    if inline:  # a key for the per-repository bars, without the fleet counts
        keys = "".join(f'<li><span class="sw" style="background:{COLORS[k]}"></span>{escape(k)}</li>' for k in COLORS)
        return f'<ul class="legend inline">{keys}</ul>'

    items = "".join(
        f'<li><span class="sw" style="background:{COLORS[k]}"></span>{escape(k)} <strong>{counts[k]}</strong></li>'
        for k in RECOMMENDATIONS
    )
    return f'<ul class="legend">{items}</ul>'


def _segments(counts: dict[str, int]) -> tuple[svg.Segment, ...]:
    return tuple(svg.Segment(k, counts[k], COLORS[k]) for k in RECOMMENDATIONS)


def _short(ref: str) -> str:
    # Docker Hub's implied prefixes only take room in a chart label (the tooltip keeps the full name).
    for prefix in ("docker.io/library/", "docker.io/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _blocker_chart(entries: list[dict[str, Any]], label: str, color: str, empty: str, wide: bool = False) -> str:
    if not entries:
        return f'<p class="empty">{escape(empty)}</p>'
    by_workloads = any(e["workloads"] for e in entries)
    metric = "workloads" if by_workloads else "repositories"
    bars = [
        svg.Bar(
            _short(e[label]),
            e[metric],
            f"{e[label]}: blocks {e['workloads']} workload(s) in "
            f"{e['repositories']} repositories ({', '.join(e['repository_names'])})",
        )
        for e in entries[:CHART_ROWS]
    ]
    note = "workloads blocked" if by_workloads else "repositories affected (no workloads found)"
    chart = svg.hbars(bars, color, width=1100, label_width=340) if wide else svg.hbars(bars, color)
    return f'<div class="scroll">{chart}</div><p class="note">Bar length: {note}.</p>'


def render(fleet: dict[str, Any]) -> str:
    t = fleet["totals"]
    repos = fleet["repositories"]
    blockers = fleet["blockers"]
    share = pct(t["arm64_ready_share"])
    ranked = sorted(repos, key=lambda r: (-(r["arm64_ready_share"] or 0), -r["workloads"], r["name"]))
    rows = [
        svg.StackedRow(r["name"], _segments(r["by_recommendation"]), pct(r["arm64_ready_share"])) for r in ranked[:40]
    ]
    more = f'<p class="note">…and {len(ranked) - 40} more in the table below.</p>' if len(ranked) > 40 else ""
    kpis = [
        (share, "of workloads can run on arm64 today"),
        (str(t["workloads"]), f"workloads in {t['repositories']} repositories"),
        (str(t["by_recommendation"]["amd64"]), "must stay on amd64"),
        (str(t["blocking_dependencies"]), "dependencies without an arm64 build"),
    ]
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(fleet['title'])}</title><style>{CSS}</style></head><body><main>",
        f"<header><h1>{escape(fleet['title'])}</h1><p>{t['repositories']} repositories, {t['workloads']} workloads, "
        f"{t['errors']} error(s) and {t['warnings']} warning(s) · archlint {escape(fleet['tool']['version'])}</p>"
        "</header>",
        '<div class="kpis">'
        + "".join(
            f'<div class="kpi"><div class="v">{escape(v)}</div><div class="l">{escape(label)}</div></div>'
            for v, label in kpis
        )
        + "</div>",
        '<div class="grid">',
        '<div class="card" id="by-recommendation"><h2>Workloads by recommendation</h2><div class="donut-row">'
        + svg.donut(_segments(t["by_recommendation"]), centre=share, sub="arm64-ready")
        + _legend(t["by_recommendation"])
        + "</div></div>",
        '<div class="card" id="per-repository"><h2>arm64-ready share per repository</h2>'
        + (f'<div class="scroll">{svg.stacked_bars(rows)}</div>' if rows else '<p class="empty">No reports.</p>')
        + more
        + _legend(t["by_recommendation"], inline=True)
        + "</div>",
        "</div>",
        '<div class="grid">',
        '<div class="card" id="blocking-dependencies"><h2>Dependencies that block the most workloads</h2>'
        + _blocker_chart(blockers["dependencies"], "name", DEPENDENCY_COLOR, "No dependency lacks an arm64 build.")
        + "</div>",
        '<div class="card" id="blocking-base-images"><h2>Base images that block the most workloads</h2>'
        + _blocker_chart(
            blockers["base_images"], "image", BASE_IMAGE_COLOR, "No workload is held back by an amd64-only base image."
        )
        + "</div>",
        "</div>",
        '<section class="card" id="blocking-images"><h2>Images that keep the most workloads on amd64</h2>'
        + _blocker_chart(blockers["images"], "image", IMAGE_COLOR, "No workload image is held on amd64.", wide=True)
        + '<p class="note">x86-only images, and arm64-ready images that CI builds for linux/amd64 only.</p>'
        + "</section>",
        _repo_table(ranked),
        _stuck_table(fleet["workloads"]),
        f"<footer>Generated by archlint {escape(fleet['tool']['version'])} from {t['repositories']} JSON report(s) "
        "with <code>archlint report merge</code>.</footer>",
        "</main></body></html>",
    ]
    return "\n".join(out) + "\n"


def _repo_table(repos: list[dict[str, Any]]) -> str:
    head = (
        "<tr><th>Repository</th><th class=n>arm64-ready</th><th class=n>Workloads</th><th class=n>arm64</th>"
        "<th class=n>multi-arch</th><th class=n>amd64</th><th class=n>unknown</th><th class=n>Errors</th>"
        "<th class=n>Blocking deps</th></tr>"
    )
    body = []
    for r in repos[:MAX_TABLE_ROWS]:
        b = r["by_recommendation"]
        cells = [
            pct(r["arm64_ready_share"]),
            r["workloads"],
            b["arm64"],
            b["multi-arch"],
            b["amd64"],
            b["unknown"],
            r["errors"],
            r["blocking_dependencies"],
        ]
        body.append(
            f"<tr><td>{escape(r['name'])}</td>" + "".join(f"<td class=n>{escape(str(c))}</td>" for c in cells) + "</tr>"
        )
    return (f'<section class="card"><h2>Repositories</h2><div class="scroll"><table>{head}{"".join(body)}</table>'
            "</div></section>")  # fmt: skip


def _stuck_table(workloads: list[dict[str, Any]]) -> str:
    stuck = [w for w in workloads if w["recommendation"] == "amd64"]
    if not stuck:
        return ""
    rows = "".join(
        f"<tr><td>{escape(w['repository'])}</td><td><code>{escape(w['id'])}</code></td>"
        f"<td>{escape(w['source'])}</td><td>{escape(w['reason'] or '')}</td></tr>"
        for w in stuck[:MAX_TABLE_ROWS]
    )
    return (
        f'<section class="card"><h2>Workloads that must stay on amd64 ({len(stuck)})</h2><div class="scroll"><table>'
        f"<tr><th>Repository</th><th>Workload</th><th>Source</th><th>Why</th></tr>{rows}</table></div></section>"
    )
