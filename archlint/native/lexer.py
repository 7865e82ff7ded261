"""C/C++ text without comments: what the compiler sees, with every offset and line kept.

Comments become spaces (newlines stay, so lines and columns do not move); a second copy also
blanks the contents of string and character literals, so that identifiers are only found in
code. Preprocessor directives are read from the comment-free text with their continuation
lines joined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Comments, string literals, character literals (short: C++14 digit separators such as
# 1'000'000 must not open a literal that swallows the line).
_LEXEME = re.compile(
    r"//(?:[^\n\\]|\\.)*|/\*.*?(?:\*/|\Z)|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.){1,8}'",
    re.DOTALL,
)
DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*([A-Za-z_]\w*)[ \t]*((?:[^\n\\]|\\.)*)", re.MULTILINE | re.DOTALL)
_CONTINUATION = re.compile(r"\\\r?\n")


@dataclass(frozen=True)
class Directive:
    name: str  # if, ifdef, ifndef, elif, else, endif, define, undef, include, error, pragma …
    body: str  # the rest, continuation lines joined
    line: int
    offset: int  # of the `#`
    end: int  # offset just past the directive (its last line)


class Text:
    """One file: comment-free code (`code`), code with literal contents blanked (`bare`), lines."""

    __slots__ = ("_at", "bare", "code", "directives", "raw")

    def __init__(self, raw: str) -> None:
        self.raw = raw
        code: list[str] = []
        bare: list[str] = []
        pos = 0
        for m in _LEXEME.finditer(raw):
            start, end = m.span()
            if start > pos:
                chunk = raw[pos:start]
                code.append(chunk)
                bare.append(chunk)
            lex = m.group()
            if lex[0] == "/":
                blank = _blank(lex)
                code.append(blank)
                bare.append(blank)
            else:
                code.append(lex)
                bare.append(lex[0] + _blank(lex[1:-1]) + lex[-1])
            pos = end
        code.append(raw[pos:])
        bare.append(raw[pos:])
        self.code = "".join(code)
        self.bare = "".join(bare)
        self._at = (0, 1)  # (offset, its line): line numbers are counted forward from the last one asked
        self.directives = [
            Directive(m.group(1), _join(m.group(2)), self.line(m.start()), m.start(), m.end())
            for m in DIRECTIVE.finditer(self.code)
        ]

    def line(self, offset: int) -> int:
        """1-based line of `offset`. Callers ask in increasing order (one pass at a time), so this
        counts newlines since the previous answer: linear in the file per pass, at C speed."""
        at, line = self._at
        if offset < at:
            at, line = 0, 1
        line += self.raw.count("\n", at, offset)
        self._at = (offset, line)
        return line

    def column(self, offset: int) -> int:
        return offset - self.raw.rfind("\n", 0, offset)


def _blank(s: str) -> str:
    """Spaces for every character but newlines (split/join run in C; a regex sub per comment does not)."""
    return " " * len(s) if "\n" not in s else "\n".join(" " * len(part) for part in s.split("\n"))


def _join(body: str) -> str:
    return (_CONTINUATION.sub(" ", body) if "\\" in body else body).strip()


def string_contents(code: str, start: int, end: int) -> list[tuple[int, str]]:
    """(offset of the opening quote, contents) of the string literals in code[start:end]."""
    out = []
    for m in _LEXEME.finditer(code, start, end):
        lex = m.group()
        if lex[0] == '"':
            out.append((m.start(), lex[1:-1]))
    return out


def matching_paren(code: str, open_at: int, limit: int = 20000) -> int:
    """Offset just past the `)` (or `}`) matching the bracket at `open_at`; the limit if none."""
    opening = code[open_at]
    closing = ")" if opening == "(" else "}"
    depth = 0
    end = min(len(code), open_at + limit)
    i = open_at
    while i < end:
        c = code[i]
        if c == '"':
            m = _LEXEME.match(code, i)
            i = m.end() if m else i + 1
            continue
        if c == opening:
            depth += 1
        elif c == closing:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return end
