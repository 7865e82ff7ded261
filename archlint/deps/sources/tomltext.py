"""TOML for dependency sources: decoding with line-numbered errors, and finding where an entry
sits in the raw text (tomllib keeps no positions, and every Dependency needs its line)."""

from __future__ import annotations

import bisect
import functools
import re
from typing import Any

try:  # pip-audit brings tomli; its compiled wheels decode lockfiles ~3x faster than the stdlib's tomllib
    import tomli as _toml
except ImportError:  # pragma: no cover
    import tomllib as _toml  # type: ignore[no-redef]

from archlint.deps.sources.interface import SourceParseError
from archlint.nesting import deep_line, long_number_line

_ERR_POS = re.compile(r"\(at line (\d+), column (\d+)\)")
_ERR_END = re.compile(r"\(at end of document\)")
# A table or array-of-tables header on its own line ([x.y], [[x]], quoted parts allowed).
_HEADER = re.compile(r"""^[ \t]*\[(\[?)[ \t]*([A-Za-z0-9_\-"'. \t]+?)[ \t]*\]\]?[ \t]*(?:#.*)?$""", re.MULTILINE)


def loads(text: str) -> dict[str, Any]:
    try:
        return _toml.loads(text)
    except RecursionError:  # tomli refuses past 400 levels, the stdlib parser at the stack's end
        raise SourceParseError("invalid TOML: arrays or inline tables nested too deeply", deep_line(text)) from None
    except _toml.TOMLDecodeError as e:
        m = _ERR_POS.search(str(e))
        msg = _ERR_POS.sub("", str(e)).strip()
        if m:
            raise SourceParseError(f"invalid TOML: {msg}", int(m.group(1)), int(m.group(2))) from None
        if _ERR_END.search(msg):  # truncated files: the error is on the last line
            msg = _ERR_END.sub("(at end of file)", msg)
            raise SourceParseError(
                f"invalid TOML: {msg}", text.count("\n") + (0 if text.endswith("\n") else 1)
            ) from None
        raise SourceParseError(f"invalid TOML: {msg}") from None
    except ValueError:  # a number past CPython's digit limit: int() refuses it inside the parser
        raise SourceParseError("invalid TOML: a number too long to read", long_number_line(text)) from None


def _norm_header(raw: str) -> str:
    return re.sub(r"""[\s"']""", "", raw)


class TomlText:
    """The raw text of a TOML document, with lookups from parsed entries back to positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    @functools.cached_property
    def headers(self) -> list[tuple[int, bool, str]]:
        """(offset of the header line, is array table, normalised dotted name), in order."""
        return [(m.start(), bool(m.group(1)), _norm_header(m.group(2))) for m in _HEADER.finditer(self.text)]

    # --- positions -------------------------------------------------------------------------
    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        i = bisect.bisect_right(self._starts, offset) - 1
        return i + 1, offset - self._starts[i] + 1

    def line_of(self, offset: int) -> int:
        return self.position(offset)[0]

    def line_end_column(self, line: int) -> int:
        """Exclusive end column of a line's content (without the newline)."""
        start = self._starts[line - 1]
        end = self.text.find("\n", start)
        end = len(self.text) if end < 0 else end
        return len(self.text[start:end].rstrip("\r")) + 1

    # --- tables ----------------------------------------------------------------------------
    def table(self, name: str) -> tuple[int, int] | None:
        """(start, end) offsets of the body of table `[name]`, or None when it is not written as one."""
        for i, (off, is_array, hname) in enumerate(self.headers):
            if not is_array and hname == name:
                return off, self._next_header(i)
        return None

    def array_tables(self, name: str) -> list[tuple[int, int]]:
        """(start, end) offsets of each `[[name]]` entry, in document order. Sub-tables such as
        `[package.source]` belong to the entry before them."""
        out = []
        for i, (off, is_array, hname) in enumerate(self.headers):
            if is_array and hname == name:
                end = len(self.text)
                for off2, is_array2, hname2 in self.headers[i + 1 :]:
                    if not hname2.startswith(name + ".") or (is_array2 and hname2 == name):
                        end = off2
                        break
                out.append((off, end))
        return out

    def _next_header(self, i: int) -> int:
        return self.headers[i + 1][0] if i + 1 < len(self.headers) else len(self.text)

    def key(self, key: str, start: int, end: int) -> int | None:
        """Offset of the line assigning `key` (bare or quoted, at the start of a line) in [start, end)."""
        pat = re.compile(rf"""^[ \t]*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')[ \t]*=""", re.MULTILINE)
        m = pat.search(self.text, start, end)
        return m.start() if m else None

    def string(self, value: str, start: int, end: int | None = None) -> tuple[int, int] | None:
        """Offsets of the content of the next string literal equal to `value` at or after `start`
        (basic or literal quoting), excluding the quotes."""
        end = len(self.text) if end is None else end
        basic = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        best: int | None = None
        blen = 0
        for cand in (basic, "'" + value + "'"):
            if cand.startswith("''") and value == "":
                continue
            pos = self.text.find(cand, start, end)
            if pos >= 0 and (best is None or pos < best):
                best, blen = pos, len(cand)
        if best is None:
            return None
        return best + 1, best + blen - 1

    def span(self, start: int, end: int) -> tuple[int, int, int]:
        """(line, start column, end column) of a single-line offset range."""
        line, col = self.position(start)
        return line, col, col + (end - start)
