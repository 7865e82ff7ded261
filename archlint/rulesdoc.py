"""Rule documentation as Markdown: `archlint rule CODE` for one rule, and docs/rules.md for all
of them (`archlint rules --format markdown > docs/rules.md`), where SARIF's helpUri points.

Each rule's heading is its bare code, so its anchor is `#arch101` on GitHub and in every
renderer that slugs headings (lower case, nothing else to drop).
"""

from __future__ import annotations

from archlint.catalogue import Rule

AREAS = {
    "core": "The scan itself (ARCH0xx)",
    "dependencies": "Dependencies (ARCH1xx)",
    "dependency-sources": "Requirement files (ARCH15x)",
    "kubernetes": "Kubernetes manifests (ARCH2xx)",
    "placement": "Placement, Dockerfiles and CI (ARCH3xx)",
    "source": "Python source (ARCH4xx)",
    "binaries": "Native binaries (ARCH5xx)",
    "registry": "Registry images (ARCH6xx)",
}


def _fence(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}\n{text.rstrip()}\n{fence}"


def sections(rule: Rule, level: int) -> list[str]:
    """What it does, why it matters, example, fix, references: headings at `level`."""
    h = "#" * level
    lines = [f"{h} What it does", rule.what, "", f"{h} Why is this bad on arm64", rule.why]
    if rule.example:
        lines += ["", f"{h} Example", _fence(rule.example)]
    lines += ["", f"{h} Fix", rule.fix]
    if rule.references:
        lines += ["", f"{h} References", *[f"- {u}" for u in rule.references]]
    return lines


def document(rules: tuple[Rule, ...]) -> str:
    out = [
        "# archlint rules",
        "",
        "<!-- Generated from rules/*.toml by `archlint rules --format markdown`; do not edit by hand. -->",
        "",
        "Codes have a prefix per area. Select or ignore them by code, prefix (`ARCH1`) or name; "
        "silence one on a line with `# noqa: ARCH101` or `# archlint: ignore[ARCH101]`.",
        "",
        "| Code | Name | Severity | Fix | Summary |",
        "|---|---|---|---|---|",
    ]
    out += [f"| [{r.code}](#{r.code.lower()}) | {r.name} | {r.severity.label} | {r.fixable} | {r.summary} |"
            for r in rules]  # fmt: skip
    area = None
    for r in rules:
        if r.area != area:
            area = r.area
            out += ["", f"## {AREAS.get(area, area.replace('-', ' ').capitalize())}"]
        out += ["", f"### {r.code}", "", f"**{r.name}** · default severity: {r.severity.label} · fix: {r.fixable}",
                "", r.summary, "", *sections(r, 4)]  # fmt: skip
    return "\n".join(out).rstrip() + "\n"
