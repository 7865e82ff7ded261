"""Apply the text edits that findings carry: atomically, idempotently, or as a diff."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from archlint.atomic import write_atomic
from archlint.findings import Applicability, Edit, Finding


def selected_fixes(findings: Iterable[Finding], unsafe: bool) -> list[Finding]:
    ok = {Applicability.SAFE} | ({Applicability.UNSAFE} if unsafe else set())
    return [f for f in findings if f.fix is not None and f.fix.applicability in ok and f.fix.edits]


def _offset(lines: list[str], line: int, column: int) -> int:
    """Character offset of a 1-based (line, column); positions past the end clamp to it."""
    if line > len(lines):
        return sum(len(x) for x in lines)
    return sum(len(x) for x in lines[: line - 1]) + min(column - 1, len(lines[line - 1]))


def apply_edits(text: str, edits: list[Edit]) -> tuple[str, int]:
    """Apply non-overlapping edits (later ones that overlap an earlier one are skipped and
    left for the next pass). Returns the new text and how many edits were applied."""
    lines = text.splitlines(keepends=True)
    spans = []
    for e in edits:
        start = _offset(lines, e.start_line, e.start_column)
        end = _offset(lines, e.end_line, e.end_column)
        spans.append((start, end, e.content))
    spans.sort(key=lambda s: (s[0], s[1]))
    chosen: list[tuple[int, int, str]] = []
    last_end = -1
    for start, end, content in spans:
        if start < last_end or (chosen and start == chosen[-1][0] == end == chosen[-1][1] and content == chosen[-1][2]):
            continue
        chosen.append((start, end, content))
        last_end = max(end, start)
    out = text
    for start, end, content in reversed(chosen):
        out = out[:start] + content + out[end:]
    return out, len(chosen)


@dataclass
class FixPlan:
    """What `--fix` writes and `--diff` shows: one plan, computed once, for both."""

    new_texts: dict[str, tuple[Path, str, str]]  # rel -> (file written: a link's target, old, new)
    applied: int
    refused: list[tuple[str, str]] = field(default_factory=list)  # (rel, why the file is left alone)


def _write_target(path: Path, root: Path) -> tuple[Path | None, str]:
    """The file an edit of `path` must be written to, or None and why not.

    A symlink is written through (the link stays a link) when its target lies inside the
    scanned tree; a target outside it is somebody else's file. A file with several hard links
    is refused: the atomic rename would give this name a new inode and silently split it from
    its other names."""
    target = path
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError) as e:  # RuntimeError: a symlink loop on older Pythons
            return None, f"is a symlink that cannot be resolved ({type(e).__name__})"
        try:
            target.relative_to(root.resolve())
        except ValueError:
            return None, f"is a symlink to {target}, outside the scanned tree; not rewritten"
    try:
        links = os.stat(target).st_nlink
    except OSError as e:
        return None, f"cannot be read ({e.strerror})"
    if links > 1:
        return None, f"has {links} hard links; rewriting it would split them, so it is left as it is"
    return target, ""


def plan(findings: list[Finding], root: Path, unsafe: bool) -> FixPlan:
    by_path: dict[str, list[Edit]] = defaultdict(list)
    for f in selected_fixes(findings, unsafe):
        assert f.fix is not None
        # All edits of one fix go together; a fix never spans a file we cannot map.
        for e in f.fix.edits:
            by_path[e.path].append(e)
    # Two names of one file (a symlink and its target) share one text and one set of edits.
    by_target: dict[Path, tuple[str, list[Edit]]] = {}
    refused: list[tuple[str, str]] = []
    for rel, edits in sorted(by_path.items()):
        target, why = _write_target(root / rel, root)
        if target is None:
            refused.append((rel, why))
            continue
        first = by_target.setdefault(target, (rel, []))
        first[1].extend(edits)
    texts: dict[str, tuple[Path, str, str]] = {}
    applied = 0
    for target, (rel, edits) in by_target.items():
        try:
            with open(target, encoding="utf-8", newline="") as fh:
                old = fh.read()
        except (OSError, UnicodeDecodeError):
            continue
        new, n = apply_edits(old, edits)
        if new != old:
            texts[rel] = (target, old, new)
            applied += n
    return FixPlan(dict(sorted(texts.items())), applied, refused)


def write(p: FixPlan) -> None:
    # Atomic and mode-preserving: a crash never leaves a half-written manifest or lockfile.
    # Paths are link targets (see _write_target), so symlinks stay symlinks.
    for path, _old, new in p.new_texts.values():
        write_atomic(path, new)


def refusal_findings(p: FixPlan) -> list[Finding]:
    """The files `plan` left alone, as finalised findings for the report."""
    from archlint.catalogue import catalogue

    severity = catalogue().by_code["ARCH020"].severity
    return [
        Finding(
            rule="ARCH020", message=f"fix not applied: {rel} {why}", path=rel, key=f"fix-refused:{rel}"
        ).with_defaults(severity)
        for rel, why in p.refused
    ]


def unified_diff(p: FixPlan) -> str:
    from archlint.report.patch import git_patch

    return git_patch((rel, old, new) for rel, (_path, old, new) in sorted(p.new_texts.items()))
