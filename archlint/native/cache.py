"""Per-file summary cache: content hash + analysis version -> Summary, as small JSON files, plus the
source scanner's stat index ((path, size, mtime) -> content key, "" where the prefilter found
nothing), so a warm run over an unchanged tree neither reads nor analyses its files.

Summaries depend only on a file's kind and bytes (and the size limit), never on the tree: the
tree context is computed afresh each run (archlint/native/tree.py) from the cached summaries.
Cache trouble (read-only, corrupt or planted entry) degrades to recomputing, as in archlint/source/cache.py.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from pathlib import Path
from typing import Any

from archlint import __version__
from archlint.catalogue import rules_dir
from archlint.native.interface import Summary, Use
from archlint.source.cache import EntryCache
from archlint.source.interface import EditSpec, FixSpec


@functools.cache
def analysis_version() -> str:
    """Changes whenever anything that shapes summaries changes: this package's code and data."""
    h = hashlib.sha256(f"{__version__}\0".encode())
    here = Path(__file__).resolve().parent
    for p in sorted(here.rglob("*.py")):
        h.update(p.relative_to(here).as_posix().encode() + b"\0" + p.read_bytes())
    h.update(rules_dir().joinpath("kb", "neon_equivalents.toml").read_bytes())
    return h.hexdigest()[:16]


def to_json(s: Summary) -> dict[str, Any]:
    return dataclasses.asdict(s)


def from_json(d: dict[str, Any]) -> Summary:
    uses = []
    for u in d["uses"]:
        fix = u.pop("fix")
        if fix is not None:
            fix = FixSpec(fix["description"], fix["applicability"], tuple(EditSpec(**e) for e in fix["edits"]))
        uses.append(Use(**u, fix=fix))
    return Summary(
        uses=tuple(uses),
        includes=tuple((str(a), int(b), str(c)) for a, b, c in d["includes"]),
        macros=tuple(d["macros"]),
        portable=bool(d["portable"]),
        arm_path=bool(d["arm_path"]),
        sources=tuple((str(a), int(b), str(c)) for a, b, c in d["sources"]),
        defines=tuple((str(a), int(b)) for a, b in d["defines"]),
        parsed=bool(d["parsed"]),
    )


class SummaryCache(EntryCache[Summary]):
    """The same hardened entries as the source scanner's (archlint/cachefile.py)."""

    namespace = "native"
    version = staticmethod(analysis_version)

    @staticmethod
    def decode(doc: dict[str, Any]) -> Summary:
        return from_json(doc)

    @staticmethod
    def encode(result: Summary) -> dict[str, Any]:
        return to_json(result)

    @staticmethod
    def salt_for(max_bytes: int) -> bytes:
        return f"native\0{max_bytes}\0".encode()
