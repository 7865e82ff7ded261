"""Suppression: `# noqa: ARCH101`, `# archlint: ignore[ARCH101]`, YAML object annotations,
config `ignore` / `per-file-ignores`; and reporting suppressions that suppressed nothing."""

from __future__ import annotations

import io
import re
import tokenize
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import pathspec

from archlint.catalogue import Catalogue
from archlint.findings import Finding

# A bare noqa comment suppresses everything on the line; `# noqa: A, B` only those codes.
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z0-9_-]+(?:[\s,]+[A-Za-z0-9_-]+)*))?", re.IGNORECASE)
_IGNORE = re.compile(r"#\s*archlint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
_CODE = re.compile(r"^ARCH\d+$", re.IGNORECASE)

# File kinds whose lines may carry comments.
COMMENT_KINDS = frozenset(
    {"python", "requirements", "dockerfile", "kubernetes", "kustomization", "skaffold", "compose",
     "github-workflow", "gitlab-ci", "pyproject", "c-source", "cython", "fortran", "cmake", "meson", "makefile",
     "setup.cfg"}
)  # fmt: skip
# Kinds whose comments do not start with `#`: C/C++ (`// noqa: ARCH702`, `/* noqa: ARCH702 */`) and
# Fortran (`! noqa: ARCH708`). The comment marker is read as `#`; the rest is parsed as usual.
_OTHER_COMMENTS = {"c-source": re.compile(r"//|/\*"), "fortran": re.compile(r"!")}


@dataclass
class LineSuppression:
    path: str
    line: int
    column: int
    codes: frozenset[str] | None  # None: blanket (all rules)
    used: set[str] = field(default_factory=set)
    used_blanket: bool = False


def parse_comment(text: str) -> tuple[frozenset[str] | None, int] | None:
    """The rules a line's suppression comment names, and its column; None if no comment."""
    for rx in (_IGNORE, _NOQA):
        m = rx.search(text)
        if m:
            raw = m.group("codes")
            if raw is None or not raw.strip():
                return None, m.start() + 1
            codes = frozenset(c.strip() for c in re.split(r"[\s,]+", raw) if c.strip())
            return codes, m.start() + 1
    return None


def _python_comments(text: str) -> list[tuple[int, int, str]] | None:
    """(line, column, comment) of every real comment, so `"# noqa: X"` inside a string is not a
    suppression; None when the file does not tokenize (then every `#` counts, as for other kinds)."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                out.append((tok.start[0], tok.start[1], tok.string))
    except (tokenize.TokenError, SyntaxError):
        return None
    return out


def scan_comments(path: str, text: str, kind: str = "") -> list[LineSuppression]:
    out: list[LineSuppression] = []
    if "noqa" not in text and "archlint" not in text:
        return out
    comments = _python_comments(text) if kind == "python" else None
    marker = _OTHER_COMMENTS.get(kind)
    if marker is not None:
        comments = []
        for n, line in enumerate(text.splitlines(), 1):
            m = marker.search(line)
            if m is not None:
                comments.append((n, m.start(), "#" + line[m.end() :]))
    if comments is None:
        comments = [(n, 0, line) for n, line in enumerate(text.splitlines(), 1) if "#" in line]
    for lineno, offset, line in comments:
        parsed = parse_comment(line)
        if parsed is not None:
            codes, col = parsed
            out.append(LineSuppression(path, lineno, offset + col, codes))
    return out


def _rule_matches(rule_code: str, rule_name: str, names: Iterable[str]) -> str | None:
    for n in names:
        if n.upper() == rule_code or n.lower() == rule_name:
            return n
    return None


@dataclass
class Suppressor:
    catalogue: Catalogue
    lines: dict[tuple[str, int], list[LineSuppression]]
    regions: list[tuple[str, int, int, frozenset[str]]]
    per_file: list[tuple[pathspec.GitIgnoreSpec, str, list[str]]]
    used_regions: set[tuple[int, str]] = field(default_factory=set)  # (region index, name that matched)

    def suppressed(self, f: Finding) -> bool:
        rule = self.catalogue.by_code.get(f.rule)
        name = rule.name if rule else ""
        for sup in self.lines.get((f.path, f.line), ()):
            if sup.codes is None:
                sup.used_blanket = True
                return True
            hit = _rule_matches(f.rule, name, sup.codes)
            if hit:
                sup.used.add(hit)
                return True
        for i, (path, first, last, names) in enumerate(self.regions):
            if path == f.path and first <= f.line <= last:
                hit = _rule_matches(f.rule, name, names)
                if hit:
                    self.used_regions.add((i, hit))
                    return True
        for spec, _pattern, codes in self.per_file:
            if spec.match_file(f.path) and any(self.catalogue_match(c, f.rule) for c in codes):
                return True
        return False

    def catalogue_match(self, selector: str, code: str) -> bool:
        return any(r.code == code for r in self.catalogue.select(selector))

    def unused(self, active_codes: set[str]) -> list[Finding]:
        """Suppressions naming archlint codes that suppressed nothing (only for rules that ran,
        so `--select` does not make every other suppression look stale)."""
        out = []
        for sups in self.lines.values():
            for sup in sups:
                if sup.codes is None:
                    continue
                ours = sorted(c for c in sup.codes if _CODE.match(c) or c.lower() in self.catalogue.by_name)
                stale = []
                for c in ours:
                    rule = self.catalogue.get(c)
                    if rule is None or (rule.code in active_codes and c not in sup.used):
                        stale.append(c)
                if stale:
                    what = ", ".join(stale)
                    out.append(
                        Finding(
                            rule="ARCH003",
                            message=f"unused suppression: {what} reported nothing on this line",
                            path=sup.path,
                            line=sup.line,
                            column=sup.column,
                            key=f"{sup.path}:{what}",
                        )
                    )
        for i, (path, first, _last, names) in enumerate(self.regions):
            for n in sorted(names):
                rule = self.catalogue.get(n)
                if rule is None or rule.code not in active_codes or (i, n) in self.used_regions:
                    continue
                out.append(
                    Finding(
                        rule="ARCH003",
                        message=f"unused suppression: annotation ignore-check.archlint.io/{n} on this object "
                        "suppressed nothing",
                        path=path,
                        line=first,
                        key=f"{path}:annotation:{n}",
                    )
                )
        return out


def build(
    catalogue: Catalogue,
    comment_files: Iterable[tuple[str, str, str]],
    regions: list[tuple[str, int, int, frozenset[str]]],
    per_file_ignores: dict[str, list[str]],
) -> Suppressor:
    lines: dict[tuple[str, int], list[LineSuppression]] = defaultdict(list)
    for path, text, kind in comment_files:
        for sup in scan_comments(path, text, kind):
            lines[(sup.path, sup.line)].append(sup)
    per_file = [
        (pathspec.GitIgnoreSpec.from_lines([pattern]), pattern, codes) for pattern, codes in per_file_ignores.items()
    ]
    return Suppressor(catalogue, dict(lines), regions, per_file)
