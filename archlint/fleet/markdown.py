"""The fleet report as Markdown: for a wiki page, an issue, or a job summary."""

from __future__ import annotations

from typing import Any

from archlint.fleet.aggregate import RECOMMENDATIONS

MAX_ROWS = 50


def _cell(s: object) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def pct(share: float | None) -> str:
    return "n/a" if share is None else f"{share * 100:.0f}%"


def _bar(share: float | None, width: int = 10) -> str:
    if share is None:
        return ""
    full = round(share * width)
    return "█" * full + "░" * (width - full)


def render(fleet: dict[str, Any]) -> str:
    t = fleet["totals"]
    rec = t["by_recommendation"]
    out = [f"# {fleet['title']}", ""]
    out.append(
        f"**{pct(t['arm64_ready_share'])}** of {t['workloads']} workload(s) in {t['repositories']} repositories can "
        f"run on arm64 today ({t['arm64_ready']} ready)."
    )
    out += ["", "| Recommendation | Workloads |", "|---|---:|"]
    out += [f"| {k} | {rec[k]} |" for k in RECOMMENDATIONS]
    out += [
        "",
        "## Repositories",
        "",
        "| Repository | arm64-ready | | Workloads | arm64 | multi-arch | amd64 | unknown | Errors | Blocking deps |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in fleet["repositories"]:
        b = r["by_recommendation"]
        out.append(
            f"| {_cell(r['name'])} | {pct(r['arm64_ready_share'])} | {_bar(r['arm64_ready_share'])} | {r['workloads']} "
            f"| {b['arm64']} | {b['multi-arch']} | {b['amd64']} | {b['unknown']} | {r['errors']} "
            f"| {r['blocking_dependencies']} |"
        )
    deps = fleet["blockers"]["dependencies"]
    out += ["", "## Dependencies that block the most workloads", ""]
    if deps:
        out += ["| Dependency | Versions | Workloads blocked | Repositories |", "|---|---|---:|---|"]
        for d in deps[:MAX_ROWS]:
            out.append(
                f"| `{_cell(d['name'])}` | {_cell(', '.join(d['versions']) or '-')} | {d['workloads']} "
                f"| {_cell(', '.join(d['repository_names']))} |"
            )
    else:
        out.append("None: no dependency lacks an arm64 build.")
    out += _image_table(
        fleet["blockers"]["base_images"],
        "Base images that block the most workloads",
        "| Base image | Workloads blocked | Repositories |",
        "None: no workload is held back by an amd64-only base image.",
    )
    out += _image_table(
        fleet["blockers"]["images"], "Images that keep the most workloads on amd64",
        "| Image | Workloads | Repositories |", "None.",
    )  # fmt: skip
    stuck = [w for w in fleet["workloads"] if w["recommendation"] == "amd64"]
    if stuck:
        out += ["", "## Workloads that must stay on amd64", "", "| Repository | Workload | Source | Why |",
                "|---|---|---|---|"]  # fmt: skip
        for w in stuck[:MAX_ROWS]:
            out.append(f"| {_cell(w['repository'])} | `{_cell(w['id'])}` | {_cell(w['source'])} "
                       f"| {_cell(w['reason'] or '')} |")  # fmt: skip
        if len(stuck) > MAX_ROWS:
            out.append(f"\n…and {len(stuck) - MAX_ROWS} more (see the JSON fleet report).")
    out.append("")
    return "\n".join(out)


def _image_table(rows: list[dict[str, Any]], title: str, header: str, empty: str) -> list[str]:
    out = ["", f"## {title}", ""]
    if not rows:
        return [*out, empty]
    out += [header, "|---|---:|---|"]
    for i in rows[:MAX_ROWS]:
        out.append(f"| `{_cell(i['image'])}` | {i['workloads']} | {_cell(', '.join(i['repository_names']))} |")
    return out
