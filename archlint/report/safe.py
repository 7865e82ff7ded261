"""Text from scanned files made safe to print on a terminal or in Markdown.

Names, messages and reasons carry bytes from the scanned tree (a file name, a package name, a
manifest's label). Control characters (ESC sequences, NUL, CR) in them must not drive the
user's terminal, and bidirectional overrides must not reorder what a reviewer reads (the
"Trojan Source" trick), so both are shown as visible escapes.
"""

from __future__ import annotations

import unicodedata

# Bidi embeddings, overrides and isolates, and the invisible direction marks.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_UNSAFE_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def _escape(ch: str) -> str:
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def printable(s: str) -> str:
    if s.isprintable():  # fast path: no Cc/Cf/Z* other than space at all
        return s
    return "".join(_escape(ch) if ch in _BIDI or unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch for ch in s)


def markdown(s: str) -> str:
    """`printable`, then what would break out of a table cell or start HTML in Markdown."""
    return printable(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def code_span(s: str) -> str:
    """A Markdown code span that holds any text: fenced with more backticks than it contains."""
    s = printable(s)
    run = longest = 0
    for ch in s:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    cell = s.replace("|", "\\|")  # GFM tables split on | even inside code spans
    return f"{fence}{pad}{cell}{pad}{fence}"
