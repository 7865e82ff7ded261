"""DT_NEEDED names of libraries that exist only for x86 (rules/kb/x86_libraries.toml)."""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass

from archlint.catalogue import knowledge


@dataclass(frozen=True)
class X86Library:
    pattern: str
    vendor: str
    reason: str
    replacement: str


@functools.cache
def _table() -> tuple[re.Pattern[str], tuple[X86Library, ...]]:
    libs = tuple(
        X86Library(e["pattern"], e["vendor"], e["reason"], e.get("replacement", ""))
        for e in knowledge("x86_libraries")["library"]
    )
    # One alternation: matching every DT_NEEDED of every x86 file must stay cheap.
    combined = re.compile("|".join(f"(?P<g{i}>{fnmatch.translate(lib.pattern)})" for i, lib in enumerate(libs)))
    return combined, libs


@functools.lru_cache(maxsize=4096)  # the same few dozen names recur in every file
def x86_library(needed: str) -> X86Library | None:
    combined, libs = _table()
    m = combined.match(needed)
    if m is None or m.lastgroup is None:
        return None
    return libs[int(m.lastgroup[1:])]
