""".python-version (pyenv, uv): the interpreter versions a directory runs, as "3.11"."""

from __future__ import annotations

import re

from archlint.deps.sources.interface import SourceResult
from archlint.scanning import ScanContext, SourceFile

_VERSION = re.compile(r"^(?:cpython-|python-?|pypy-?|graalpy-?)?(\d+)\.(\d+)(?:[.\-+a-z0-9]*)$", re.IGNORECASE)


def major_minor(text: str) -> str | None:
    m = _VERSION.match(text.strip())
    return f"{int(m.group(1))}.{int(m.group(2))}" if m else None


def parse(f: SourceFile, ctx: ScanContext, result: SourceResult) -> None:
    # Not UTF-8 or not a version ("system", a virtualenv name): nothing to learn, nothing wrong.
    text = f.read_bytes().decode("utf-8", errors="replace")
    for raw in text.splitlines():
        for word in raw.split("#", 1)[0].split():
            mm = major_minor(word)
            if mm and mm not in result.python_versions:
                result.python_versions.append(mm)
