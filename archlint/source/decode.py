"""Bytes to source text the way Python itself would read them (PEP 263 / PEP 3120)."""

from __future__ import annotations

import codecs
import io
import tokenize

from archlint.source.interface import UndecodableSource


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding). Raises UndecodableSource with the line Python would complain about."""
    nul = data.find(b"\x00")
    if nul != -1:
        raise UndecodableSource("source contains a null byte", data.count(b"\n", 0, nul) + 1)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as e:  # an unknown codec in the cookie, a cookie contradicting a BOM, or bad UTF-8
        if "invalid or missing encoding declaration" in e.msg:
            bad = _first_bad_utf8(data)
            line = data.count(b"\n", 0, bad) + 1
            raise UndecodableSource(
                f"not valid UTF-8 (byte {data[bad]:#04x} at offset {bad}) and no PEP 263 coding declaration", line
            ) from None
        raise UndecodableSource(f"bad coding declaration: {e.msg}", e.lineno or 1) from None
    try:
        codecs.lookup(encoding)
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise UndecodableSource(f"cannot decode as {encoding}: {e.reason} at byte {e.start}", line) from None
    except LookupError:
        raise UndecodableSource(f"unknown encoding {encoding!r}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, encoding


def _first_bad_utf8(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start
    return 0
