"""Resolved trees kept on disk, reused while every page they were computed from is unchanged.

A tree is a pure function of its requirements, the target, archlint's own rules, the index pages it
read and the core metadata of the files it chose; metadata never changes, and the pages are in the
HTTP cache. So a stored tree records each page's cache file (mtime, size) and when the first of them
goes stale; a later run reuses the tree only if none of those files changed and none is stale (a
stale page is revalidated by the normal path, which rewrites the file). Trees that depend on
something that failed (a metadata read, an index error) are never stored: the next run tries again.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from archlint import __version__
from archlint.atomic import write_atomic
from archlint.deps.index.interface import DistFile, PackageIndex
from archlint.deps.resolve.finder import Candidate
from archlint.deps.resolve.tree import Direct, Node, TreeResult
from archlint.facts import Target

_FORMAT = 1


class TreeMemo:
    def __init__(self, directory: Path, index: PackageIndex, index_urls: Sequence[str]) -> None:
        self.directory = directory
        self.index = index
        self.urls = tuple(index_urls)

    def key(self, target: Target, directs: Sequence[Direct], constraints: Mapping[str, SpecifierSet] | None = None
            ) -> str:  # fmt: skip
        parts = [str(_FORMAT), __version__, target.platform, target.python, target.libc, target.libc_version,
                 *self.urls]  # fmt: skip
        parts += sorted(f"{d.name}[{','.join(sorted(d.extras))}]{d.specifier}" for d in directs)
        parts += sorted(f"-c {name}{spec}" for name, spec in (constraints or {}).items())
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.marshal"

    def get(self, key: str, target: Target) -> TreeResult | None:
        try:
            fmt, pages, pip_fails, nodes = marshal.loads(self._path(key).read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return None
        if fmt != _FORMAT:
            return None
        now = time.time()
        for path, mtime, size, until in pages:
            if until <= now:
                return None
            try:
                st = os.stat(path)
            except OSError:
                return None
            if st.st_mtime_ns != mtime or st.st_size != size:
                return None
        try:
            out = TreeResult(target, pip_fails=pip_fails)
            for raw in nodes:
                node = _node(raw)
                out.nodes[node.name] = node
        except (ValueError, TypeError, InvalidVersion):
            return None
        return out

    def put(self, key: str, result: TreeResult, looked_up: Iterable[str]) -> None:
        if result.abandoned or any(n.error or (n.unknown and "only an sdist" not in n.unknown)
                                   for n in result.nodes.values()):  # fmt: skip
            return  # it rests on a failure or a search cut short: the next run tries again
        pages = self.index.page_fingerprints(sorted(set(looked_up)))
        if not pages:
            return
        data = marshal.dumps((_FORMAT, pages, result.pip_fails, [_raw(n) for n in result.nodes.values()]))
        try:
            write_atomic(self._path(key), data, private=True)
        except OSError:
            pass


def _file(f: DistFile) -> tuple[object, ...]:
    return (f.filename, f.yanked, f.requires_python, f.sha256, f.url, f.core_metadata, f.size)


def _raw(n: Node) -> tuple[object, ...]:
    found = (str(n.found.version), _file(n.found.file), n.found.kind) if n.found else None
    return (n.name, str(n.version) if n.version else None, found, n.chain, n.specifier, n.unknown, n.missing,
            n.parents, n.extra_only, n.error, n.conflict)  # fmt: skip


def _node(raw: tuple[Any, ...]) -> Node:
    name, version, found, chain, specifier, unknown, missing, parents, extra_only, error, conflict = raw
    cand = None
    if found is not None:
        v, f, kind = found
        cand = Candidate(Version(v), DistFile(*f), kind)
    return Node(
        name=str(name), version=Version(str(version)) if version else None, found=cand, chain=tuple(chain),
        specifier=str(specifier), unknown=unknown, missing=missing, parents=tuple(parents),
        extra_only=bool(extra_only), error=bool(error), conflict=bool(conflict),
    )  # fmt: skip
