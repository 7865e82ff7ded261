"""What a TOML dependency declaration sits beside, so fixes never write a second key or entry
for a distribution that is already there (a duplicate key makes the whole file unparseable)."""

from __future__ import annotations

import re
from typing import Any

import tomllib
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

_HEADER = re.compile(r"^\s*\[([^\[\]]+)\]\s*(?:#.*)?$")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
MAX_DEPTH = 16


def _requirement_name(text: str) -> str | None:
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        m = _NAME.match(text)
        return canonicalize_name(m.group(1)) if m else None


def _table_path(header: str) -> list[str] | None:
    """The key path of a `[a."b.c".d]` header, as TOML reads it."""
    try:
        doc: Any = tomllib.loads(f"[{header}]\n")
    except tomllib.TOMLDecodeError:
        return None
    path = []
    while isinstance(doc, dict) and len(doc) == 1:
        key = next(iter(doc))
        path.append(key)
        doc = doc[key]
    return path


def _arrays_with(node: Any, name: str, depth: int = 0) -> list[list[str]]:
    """Arrays of requirement strings anywhere in `node` that declare `name`."""
    out: list[list[str]] = []
    if depth > MAX_DEPTH:
        return out
    if isinstance(node, dict):
        for v in node.values():
            out.extend(_arrays_with(v, name, depth + 1))
    elif isinstance(node, list):
        strings = [x for x in node if isinstance(x, str)]
        if strings and any(_requirement_name(x) == name for x in strings):
            out.append(strings)
        for v in node:
            if isinstance(v, (dict, list)):
                out.extend(_arrays_with(v, name, depth + 1))
    return out


def declared_beside(lines: list[str], line: int, name: str) -> set[str]:
    """Canonical names declared next to `name` at 1-based `line`: the other keys of its table
    (Poetry's `[tool.poetry.dependencies]`, with `[table.key]` sub-tables) or the other entries
    of its requirement array (PEP 621, PEP 735). Empty when the file does not parse."""
    try:
        doc = tomllib.loads("\n".join(lines))
    except tomllib.TOMLDecodeError:
        return set()
    out: set[str] = set()
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    for array in _arrays_with(doc, name):
        if any(f'"{x}"' in text or f"'{x}'" in text for x in array if _requirement_name(x) == name):
            out.update(n for n in (_requirement_name(x) for x in array) if n)
    for i in range(min(line, len(lines)) - 1, -1, -1):
        m = _HEADER.match(lines[i])
        if m is None:
            continue
        path = _table_path(m.group(1).strip())
        table: Any = doc
        for key in path or []:
            table = table.get(key) if isinstance(table, dict) else None
        if isinstance(table, dict) and any(canonicalize_name(k) == name for k in table):
            out.update(canonicalize_name(k) for k in table)
        break
    out.discard(name)
    return out


def array_item_span(line: str, column: int, end_column: int) -> tuple[int, int]:
    """1-based [start, end) columns that remove one string of an inline array: the quotes around
    the span and one separating comma, so `["a", "b"]` becomes `["b"]`, never `[, "b"]`."""
    start, end = column - 1, end_column - 1
    if start > 0 and end < len(line) and line[start - 1] in "\"'" and line[end] == line[start - 1]:
        start, end = start - 1, end + 1
    after = end
    while after < len(line) and line[after] in " \t":
        after += 1
    if after < len(line) and line[after] == ",":
        after += 1
        while after < len(line) and line[after] in " \t":
            after += 1
        return start + 1, after + 1
    before = start
    while before > 0 and line[before - 1] in " \t":
        before -= 1
    if before > 0 and line[before - 1] == ",":
        return before, end + 1
    return start + 1, end + 1
