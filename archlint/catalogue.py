"""The rule catalogue and knowledge base, loaded from the data files in `rules/`.

`rules/` sits at the top of the repository and ships inside the wheel as the
`archlint.rules` package (see pyproject.toml), so rule docs and knowledge live as data.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import tomllib

from archlint.findings import Severity


@dataclass(frozen=True)
class Rule:
    code: str  # e.g. ARCH101
    name: str  # kebab-case
    severity: Severity
    summary: str  # one line
    what: str  # What it does
    why: str  # Why is this bad (on arm64)
    example: str
    fix: str
    references: tuple[str, ...]
    fixable: str  # "safe" | "unsafe" | "manual" | "none"
    area: str
    # "file": whether it fires at a place depends on that file alone (and the config), so a scan of
    # some files (pre-commit) can tell its suppressions are unused; "repository" (the default):
    # it draws on other files (build contexts, CI, the Python target), so only a full scan can.
    scope: str = "repository"


@dataclass(frozen=True)
class Catalogue:
    rules: tuple[Rule, ...]

    @functools.cached_property
    def by_code(self) -> dict[str, Rule]:
        return {r.code: r for r in self.rules}

    @functools.cached_property
    def by_name(self) -> dict[str, Rule]:
        return {r.name: r for r in self.rules}

    def get(self, code_or_name: str) -> Rule | None:
        return self.by_code.get(code_or_name.upper()) or self.by_name.get(code_or_name.lower())

    def select(self, selector: str) -> list[Rule]:
        """Rules a selector names: a code, a code prefix (ARCH1, ARCH10), a name, or ALL."""
        s = selector.strip()
        if s.upper() == "ALL":
            return list(self.rules)
        rule = self.by_name.get(s.lower())
        if rule:
            return [rule]
        return [r for r in self.rules if r.code.startswith(s.upper())]

    def matches_any(self, selector: str) -> bool:
        return bool(self.select(selector))


def rules_dir() -> Traversable:
    """The rules data: the installed `archlint.rules` package, or `rules/` beside the package
    when running from a source tree (where the local `archlint/` shadows the installed mapping)."""
    try:
        return resources.files("archlint.rules")
    except (ModuleNotFoundError, TypeError):
        return Path(__file__).resolve().parent.parent / "rules"


def _rule_files() -> list[tuple[str, str]]:
    out = []
    for entry in sorted(rules_dir().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml") and entry.is_file():
            out.append((entry.name, entry.read_text(encoding="utf-8")))
    return out


@functools.cache
def catalogue() -> Catalogue:
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for fname, text in _rule_files():
        data = tomllib.loads(text)
        area = data.get("area", fname.removesuffix(".toml"))
        for raw in data.get("rule", []):
            code = raw["code"]
            if code in seen:
                raise RuntimeError(f"rules/{fname}: duplicate rule code {code} (also in {seen[code]})")
            seen[code] = fname
            rules.append(
                Rule(
                    code=code,
                    name=raw["name"],
                    severity=Severity.parse(raw["severity"]),
                    summary=raw["summary"],
                    what=raw.get("what", raw["summary"]),
                    why=raw.get("why", ""),
                    example=raw.get("example", ""),
                    fix=raw.get("fix", ""),
                    references=tuple(raw.get("references", ())),
                    fixable=raw.get("fixable", "none"),
                    area=area,
                    scope=raw.get("scope", "repository"),
                )
            )
    rules.sort(key=lambda r: r.code)
    return Catalogue(tuple(rules))


@functools.cache
def knowledge(name: str) -> dict[str, Any]:
    """A knowledge-base file from rules/kb/<name>.toml."""
    text = rules_dir().joinpath("kb", f"{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)
