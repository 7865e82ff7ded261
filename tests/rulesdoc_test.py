"""docs/rules.md: generated from the catalogue, never stale, and where SARIF's helpUri points."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from archlint.catalogue import catalogue
from archlint.report.sarif import HELP_URI
from tests.conftest import FIXTURES, REPO, CliResult

RULES_MD = REPO / "docs" / "rules.md"


def github_anchors(markdown: str) -> set[str]:
    """The fragments GitHub gives a page's headings (lower case; punctuation other than - and _
    dropped; spaces to -), plus explicit ids."""
    out = set()
    for line in markdown.splitlines():
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m:
            out.add(re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-"))
    out.update(re.findall(r'id="([^"]+)"', markdown))
    return out


def test_rules_md_is_regenerated_from_the_catalogue(cli: Callable[..., CliResult]) -> None:
    r = cli(["rules", "--format", "markdown"])
    assert r.rc == 0
    assert RULES_MD.read_text(encoding="utf-8") == r.out, (
        "docs/rules.md is stale: run `archlint rules --format markdown > docs/rules.md`"
    )


def test_every_rule_is_documented_under_its_own_anchor() -> None:
    text = RULES_MD.read_text(encoding="utf-8")
    anchors = github_anchors(text)
    for rule in catalogue().rules:
        assert rule.code.lower() in anchors, rule.code
        section = text.split(f"\n### {rule.code}\n", 1)[1].split("\n### ", 1)[0]
        assert f"**{rule.name}**" in section and rule.fix in section and "#### Why is this bad on arm64" in section


def test_sarif_help_uris_resolve_to_anchors_in_rules_md(cli: Callable[..., CliResult]) -> None:
    anchors = github_anchors(RULES_MD.read_text(encoding="utf-8"))
    r = cli(["check", str(FIXTURES / "monorepo"), "--offline", "--format", "sarif"])
    rules = json.loads(r.out)["runs"][0]["tool"]["driver"]["rules"]
    assert len(rules) > 10
    for rule in rules:
        page, fragment = rule["helpUri"].split("#")
        assert page.endswith("/docs/rules.md") and (REPO / "docs" / "rules.md").is_file()
        assert fragment == rule["id"].lower() and fragment in anchors
    # and for every rule, not only those this scan reported
    for code in catalogue().by_code:
        assert HELP_URI.format(code=code.lower()).split("#")[1] in anchors
