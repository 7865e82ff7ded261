"""Which manifest reads to run, and how to cut big files so a pool of workers can share them.

A `---` line always starts a document (YAML forbids it inside any scalar), so cutting a file at
such lines gives chunks that parse exactly as they would in the whole file; only document
numbers are per chunk, and the scanner renumbers them.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

from archlint import scanning as k
from archlint.engine import STDIN_REL
from archlint.k8s import pool
from archlint.k8s.edits import document_key
from archlint.scanning import SourceFile

SPLIT_MIN_BYTES = 1024 * 1024  # a file this big is read in chunks when a pool runs
SPLIT_CHUNK_BYTES = 512 * 1024
_DOC_START = re.compile(rb"^---(?=[ \t\r\n]|$)", re.MULTILINE)


@dataclass
class Job:
    file: SourceFile
    raw_only: bool
    size: int
    span: tuple[int, int, int] | None = None  # (start, end, line offset) in the decoded text
    first: bool = True  # the first (or only) chunk of its file


def plan(manifests: list[SourceFile], covered: set[Path]) -> list[Job]:
    """One job per file; big files are cut at document starts (a `---` line always starts a
    document: YAML forbids it inside any scalar) into chunks workers can read in parallel."""
    sizes = [file_size(f) for f in manifests]
    split = pool.will_pool(max(len(manifests), pool.MIN_FILES), sum(sizes))
    out: list[Job] = []
    for f, size in zip(manifests, sizes, strict=True):
        raw_only = f.rel != STDIN_REL and _resolved(f.path) in covered
        spans = _spans(f) if split and size >= SPLIT_MIN_BYTES else None
        if not spans:
            out.append(Job(f, raw_only, size))
            continue
        out.extend(Job(f, raw_only, e - s, (s, e, lo), i == 0) for i, (s, e, lo) in enumerate(spans))
    return out


# Decoded text of the files being read in chunks, shared with the forked workers (read once).
TEXTS: dict[str, str] = {}


def _spans(f: SourceFile) -> list[tuple[int, int, int]] | None:
    try:
        text = f.read_text()
    except (UnicodeDecodeError, OSError, k.FileTooLarge):
        return None
    if "\n%" in text or text.startswith("%"):
        return None  # directives belong to the next document: keep such files whole
    data = text.encode("utf-8")
    if len(data) != len(text):
        return None  # offsets below are byte offsets: only for ASCII text (almost all manifests)
    starts = [m.start() for m in _DOC_START.finditer(data)]
    cuts = [0]
    for s in starts:
        if s - cuts[-1] >= SPLIT_CHUNK_BYTES:
            cuts.append(s)
    if len(cuts) < 2:
        return None
    bounds = [*cuts, len(text)]
    document_key(text)  # hash it once here: forked workers inherit the cached hash
    TEXTS[f.rel] = text
    out = []
    lines = 0
    for a, b in itertools.pairwise(bounds):
        out.append((a, b, lines))
        lines += text.count("\n", a, b)
    return out


def file_size(f: SourceFile) -> int:
    if f.data is not None:
        return len(f.data)
    try:
        return f.path.stat().st_size
    except OSError:
        return 0


def _resolved(p: Path) -> Path:
    try:
        return p.resolve()
    except OSError:
        return p
