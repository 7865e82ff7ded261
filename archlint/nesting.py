"""Where a JSON, TOML or YAML-flow text nests too deeply or holds a number too long to read: the
line to report when a parser gave up (json and tomli raise RecursionError and ValueError without
a position)."""

from __future__ import annotations

import re

# Quoted strings (skipped whole), brackets, and newlines (counted for the line).
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|[\[\]{}]|\n')


# No real version, specifier or marker has a number this long; packaging's Version raises a bare
# ValueError (not InvalidVersion) past CPython's 4,300-digit int() limit, and big numbers make
# every comparison slow before that.
ABSURD_NUMBER = re.compile(r"\d{256}")


def long_number_line(text: str) -> int | None:
    """The 1-based line of the first run of digits too long for int() (CPython refuses more than
    4,300 decimal digits by default), or None."""
    m = re.search(r"\d{4301}", text)
    return text.count("\n", 0, m.start()) + 1 if m else None


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
