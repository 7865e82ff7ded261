"""YAML for skaffold, compose and CI files: plain data that knows where each key and item is.

Parsed with the Kubernetes scanner's event reader (libyaml, safe by construction, alias bombs
refused while counting, duplicate keys reported) — ~40x faster than a round-trip loader — then
wrapped so that every mapping and sequence carries the positions the text edits need.
"""

from __future__ import annotations

from typing import Any

from archlint.k8s.yamlread import read_all

MAX_YAML_BYTES = 8 * 1024 * 1024
MAX_DOCUMENTS = 1000


class YamlError(ValueError):
    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


class YMap(dict[Any, Any]):
    """A mapping with `pos[key] = (key line, key column, value line, value column)`, 1-based."""

    __slots__ = ("pos",)
    pos: dict[Any, tuple[int, int, int, int]]


class YSeq(list[Any]):
    """A sequence with `pos[i] = (line, column)` of each item's content, 1-based."""

    __slots__ = ("pos",)
    pos: list[tuple[int, int]]


def _wrap(obj: Any, pos: dict[int, Any], memo: dict[int, Any]) -> Any:
    # memo keeps alias-shared subtrees shared: wrapping never expands them.
    if isinstance(obj, dict):
        if id(obj) in memo:
            return memo[id(obj)]
        m = YMap()
        memo[id(obj)] = m
        m.pos = pos.get(id(obj)) or {}
        for k, v in obj.items():
            m[k] = _wrap(v, pos, memo)
        return m
    if isinstance(obj, list):
        if id(obj) in memo:
            return memo[id(obj)]
        s = YSeq()
        memo[id(obj)] = s
        s.pos = pos.get(id(obj)) or []
        s.extend(_wrap(v, pos, memo) for v in obj)
        return s
    return obj


def load_all(text: str) -> list[Any]:
    """The documents of `text`; YamlError (with its line) for anything a tool would reject."""
    if len(text) > MAX_YAML_BYTES:
        raise YamlError(f"larger than {MAX_YAML_BYTES} bytes; not parsed")
    docs = read_all(text)
    if len(docs) > MAX_DOCUMENTS:
        raise YamlError(f"more than {MAX_DOCUMENTS} YAML documents")
    problems = sorted((p for d in docs for p in d.problems), key=lambda p: (p.line, p.column))
    if problems:
        raise YamlError(problems[0].message, problems[0].line)
    try:
        return [_wrap(d.data, d.pos, {}) for d in docs]
    except RecursionError:
        raise YamlError("YAML nested too deeply") from None


def key_line(node: Any, key: Any) -> int:
    """1-based line of `key` in a mapping loaded by load_all (1 when unknown)."""
    p = node.pos.get(key) if isinstance(node, YMap) else None
    return int(p[0]) if p else 1


def value_pos(node: Any, key: Any) -> tuple[int, int] | None:
    """1-based (line, column) where the value of `key` starts."""
    p = node.pos.get(key) if isinstance(node, YMap) else None
    return (int(p[2]), int(p[3])) if p else None


def item_pos(seq: Any, index: int) -> tuple[int, int] | None:
    """1-based (line, column) where item `index` of a sequence starts (its content, after `- `)."""
    if isinstance(seq, YSeq) and 0 <= index < len(seq.pos):
        line, col = seq.pos[index][:2]
        return int(line), int(col)
    return None
