"""Where a JSON, TOML or YAML-flow text nests too deeply: the line to report when a parser gave
up (json and tomli raise RecursionError without a position)."""

from __future__ import annotations

import re

# Quoted strings (skipped whole), brackets, and newlines (counted for the line).
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|[\[\]{}]|\n')


def deep_line(text: str, limit: int = 100) -> int | None:
    """The 1-based line on which bracket nesting first exceeds `limit`, or None."""
    depth, line = 0, 1
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok == "\n":
            line += 1
        elif tok in "[{":
            depth += 1
            if depth > limit:
                return line
        elif tok in "]}":
            depth = max(depth - 1, 0)
    return None
