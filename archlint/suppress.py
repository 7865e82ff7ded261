"""Suppression: `# noqa: ARCH101`, `# archlint: ignore[ARCH101]`, YAML object annotations,
config `ignore` / `per-file-ignores`; and reporting suppressions that suppressed nothing."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from archlint.catalogue import Catalogue, Rule
from archlint.findings import Finding
from archlint.usage import did_you_mean

if TYPE_CHECKING:
    import pathspec

# A bare noqa comment suppresses everything on the line; `# noqa: A, B` only those codes.
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z0-9_-]+(?:[\s,]+[A-Za-z0-9_-]+)*))?", re.IGNORECASE)
_IGNORE = re.compile(r"#\s*archlint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
_CODE = re.compile(r"^ARCH[\w-]*$", re.IGNORECASE)  # ours, even when mistyped (ARCH1O1)

# File kinds whose lines may carry comments.
COMMENT_KINDS = frozenset(
    {"python", "requirements", "dockerfile", "kubernetes", "kustomization", "helm", "skaffold", "compose",
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
    ours_only: bool = False  # the `archlint: ignore[...]` form names only archlint rules; noqa may name others'
    used: set[str] = field(default_factory=set)
    used_blanket: bool = False


def parse_comment(text: str) -> tuple[frozenset[str] | None, int] | None:
    """The rules a line's suppression comment names, and its column; None if no comment."""
    parsed = _parse(text)
    return None if parsed is None else parsed[:2]


def _parse(text: str) -> tuple[frozenset[str] | None, int, bool] | None:
    """`parse_comment`, and whether the comment is archlint's own form (`archlint: ignore`)."""
    for rx in (_IGNORE, _NOQA):
        m = rx.search(text)
        if m:
            raw = m.group("codes")
            if raw is None or not raw.strip():
                return None, m.start() + 1, rx is _IGNORE
            codes = frozenset(c.strip() for c in re.split(r"[\s,]+", raw) if c.strip())
            return codes, m.start() + 1, rx is _IGNORE
    return None


def _python_comments(text: str) -> list[tuple[int, int, str]] | None:
    """(line, column, comment) of every real comment, so `"# noqa: X"` inside a string is not a
    suppression; None when the file does not tokenize (then every `#` counts, as for other kinds)."""
    import tokenize  # 5 ms to import: most runs have no suppression comment to read

    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                out.append((tok.start[0], tok.start[1], tok.string))
    except (tokenize.TokenError, SyntaxError):
        return None
    return out


_MAY_SUPPRESS_TEXT = re.compile(r"(?i)noqa|archlint")


def may_suppress(data: bytes) -> bool:
    """Could `data` hold a suppression comment at all? One lower-casing pass and two substring
    searches (measured on 180 MB of Python: 0.25 s, against 0.64 s for seven case variants and
    1.6 s for a case-insensitive regex)."""
    low = data.lower()
    return b"noqa" in low or b"archlint" in low


def _names_ours(codes: frozenset[str] | None, ours: Callable[[str], bool]) -> bool:
    return codes is not None and any(ours(c) for c in codes)


def scan_comments(
    path: str,
    text: str,
    kind: str = "",
    lines_with_findings: Collection[int] | None = None,
    ours: Callable[[str], bool] | None = None,
) -> list[LineSuppression]:
    """The suppression comments of one file.

    With `lines_with_findings` and `ours`, only comments that can matter are kept: those on a
    line with a finding, and those naming an archlint rule (they are reported when unused).
    Tokenizing a Python file costs ~20 ms; of a large tree's files with `# noqa`, nearly all
    carry other linters' codes on lines archlint has nothing to say about."""
    out: list[LineSuppression] = []
    if not _MAY_SUPPRESS_TEXT.search(text):
        return out
    marker = _OTHER_COMMENTS.get(kind)
    if marker is not None:  # C (`//`, `/*`), Fortran (`!`): the comment rewritten as `#…`
        quick = []
        for n, line in enumerate(text.splitlines(), 1):
            m = marker.search(line)
            if m is not None:
                quick.append((n, m.start(), "#" + line[m.end() :]))
    else:
        quick = [(n, 0, line) for n, line in enumerate(text.splitlines(), 1) if "#" in line]
    if lines_with_findings is not None and ours is not None:
        keep = []
        for n, off, line in quick:
            parsed = _parse(line)
            # archlint's own `archlint: ignore[...]` form is always kept: a name in it that is no
            # rule is reported (ARCH015) even on a line without findings.
            if parsed is not None and (n in lines_with_findings or parsed[2] or _names_ours(parsed[0], ours)):
                keep.append((n, off, line))
        if not keep:
            return out
    comments = _python_comments(text) if kind == "python" else None
    if comments is None:
        comments = quick
    for lineno, offset, line in comments:
        parsed = _parse(line)
        if parsed is not None:
            codes, col, ours_only = parsed
            out.append(LineSuppression(path, lineno, offset + col, codes, ours_only))
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

    def _ours(self, sup: LineSuppression) -> list[str]:
        assert sup.codes is not None
        return sorted(c for c in sup.codes if sup.ours_only or _CODE.match(c) or c.lower() in self.catalogue.by_name)

    def unused(self, active_codes: set[str], partial: bool = False) -> list[Finding]:
        """Suppressions naming archlint rules that suppressed nothing (only for rules that ran,
        so `--select` does not make every other suppression look stale).

        On a partial scan (files named one by one, as pre-commit passes them) a rule that draws
        on other files (scope "repository": placement, the Python target, CI) may have had no
        chance to fire: its suppressions are left alone; only a full scan can call them unused."""

        def judged(rule: Rule) -> bool:
            return rule.code in active_codes and (not partial or rule.scope == "file")

        out = []
        for sups in self.lines.values():
            for sup in sups:
                if sup.codes is None:
                    continue
                stale = []
                for c in self._ours(sup):
                    rule = self.catalogue.get(c)
                    if rule is not None and judged(rule) and c not in sup.used:
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
                if rule is None or not judged(rule) or (i, n) in self.used_regions:
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

    def unknown(self) -> list[Finding]:
        """Suppressions naming a rule archlint does not have (ARCH015): a typo silences nothing."""
        known = [*self.catalogue.by_code, *self.catalogue.by_name]
        out = []
        for sups in self.lines.values():
            for sup in sups:
                if sup.codes is None:
                    continue
                for c in self._ours(sup):
                    if self.catalogue.get(c) is None:
                        out.append(self._unknown(c, sup.path, sup.line, sup.column, "in this suppression", known))
        seen = set()
        for path, first, _last, names in self.regions:
            for n in sorted(names):
                if self.catalogue.get(n) is None and (path, first, n) not in seen:
                    seen.add((path, first, n))
                    where = f"in the annotation ignore-check.archlint.io/{n}"
                    out.append(self._unknown(n, path, first, 1, where, known))
        return out

    @staticmethod
    def _unknown(name: str, path: str, line: int, column: int, where: str, known: list[str]) -> Finding:
        return Finding(
            rule="ARCH015",
            message=f"unknown rule {name!r} {where}{did_you_mean(name, known)}; it suppresses nothing",
            path=path,
            line=line,
            column=column,
            key=f"{path}:unknown:{name}",
        )


def build(
    catalogue: Catalogue,
    comment_files: Iterable[tuple[str, str, str]],
    regions: list[tuple[str, int, int, frozenset[str]]],
    per_file_ignores: dict[str, list[str]],
    finding_lines: dict[str, set[int]] | None = None,
) -> Suppressor:
    """`finding_lines` (path -> lines with a finding), when given, lets files be skipped whose
    comments can neither suppress a finding nor be reported as unused."""

    def ours(code: str) -> bool:
        return bool(_CODE.match(code)) or code.lower() in catalogue.by_name

    lines: dict[tuple[str, int], list[LineSuppression]] = defaultdict(list)
    for path, text, kind in comment_files:
        here = None if finding_lines is None else finding_lines.get(path, set())
        for sup in scan_comments(path, text, kind, here, ours if finding_lines is not None else None):
            lines[(sup.path, sup.line)].append(sup)
    per_file = []
    if per_file_ignores:
        import pathspec  # 17 ms to import: only a config with per-file-ignores needs it

        per_file = [
            (pathspec.GitIgnoreSpec.from_lines([pattern]), pattern, codes)
            for pattern, codes in per_file_ignores.items()
        ]
    return Suppressor(catalogue, dict(lines), regions, per_file)
