"""Apply the text edits that findings carry: atomically, idempotently, or as a diff."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
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
    new_texts: dict[str, tuple[Path, str, str]]  # rel -> (abs path, old, new)
    applied: int


def plan(findings: list[Finding], root: Path, unsafe: bool) -> FixPlan:
    by_path: dict[str, list[Edit]] = defaultdict(list)
    for f in selected_fixes(findings, unsafe):
        assert f.fix is not None
        # All edits of one fix go together; a fix never spans a file we cannot map.
        for e in f.fix.edits:
            by_path[e.path].append(e)
    texts: dict[str, tuple[Path, str, str]] = {}
    applied = 0
    for rel, edits in sorted(by_path.items()):
        path = root / rel
        try:
            with open(path, encoding="utf-8", newline="") as fh:
                old = fh.read()
        except (OSError, UnicodeDecodeError):
            continue
        new, n = apply_edits(old, edits)
        if new != old:
            texts[rel] = (path, old, new)
            applied += n
    return FixPlan(texts, applied)


def write(p: FixPlan) -> None:
    # Atomic and mode-preserving: a crash never leaves a half-written manifest or lockfile.
    for path, _old, new in p.new_texts.values():
        write_atomic(path, new)


def unified_diff(p: FixPlan) -> str:
    chunks: list[str] = []
    for rel, (_path, old, new) in sorted(p.new_texts.items()):
        chunks.extend(
            difflib.unified_diff(
                old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=f"a/{rel}", tofile=f"b/{rel}"
            )
        )
    out = "".join(chunks)
    return out if not out or out.endswith("\n") else out + "\n"
