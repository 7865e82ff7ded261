"""C, C++, Cython and Fortran sources and native build files (setup.py, pyproject.toml, setup.cfg,
CMake, meson, Makefiles): x86-only code and flags, and whether arm64 has a path (archlint/native/).

Blocking hits become `facts.evidence`, so the image built from a directory whose extension only
compiles on x86 is x86-only, with the C file and line in its evidence.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from archlint import scanning as k
from archlint.facts import Evidence, Facts
from archlint.findings import Finding
from archlint.scanners.source import _finding
from archlint.scanning import MAX_READ_BYTES, ScanContext, Scanner, SourceFile

DEFAULT_MAX_BYTES = 4 * 1024 * 1024  # (archlint.native.analyze keeps the same default)
_SOURCES = frozenset({k.C_SOURCE, k.CYTHON})


class NativeScanner(Scanner):
    name = "native"
    kinds = frozenset({k.C_SOURCE, k.CYTHON, k.FORTRAN, k.CMAKE, k.MESON, k.MAKEFILE, k.SETUP_CFG})
    order = 22

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers  # None: decide by the amount of work (see native/pool.py)

    def scan(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> Iterable[Finding]:
        from archlint.native.cache import SummaryCache
        from archlint.native.interface import Summary

        max_bytes = int(ctx.config.get("native-max-bytes", DEFAULT_MAX_BYTES))
        # setup.py and pyproject.toml belong to other scanners' kinds; their build settings matter
        # here only when there is native code to build, so they are read only in a run that has some.
        mine = [*files, *(f for f in ctx.files if _build_script(f))]
        by_rel = {f.rel: f for f in mine}
        summaries: dict[str, Summary] = {}
        kinds: dict[str, str] = {}
        out: list[Finding] = []
        cache = SummaryCache.open(ctx.cache_dir, max_bytes)
        index = cache.index(ctx.root) if cache else None
        todo: list[SourceFile] = []
        for f in mine:
            kinds[f.rel] = f.kind
            if index is not None and cache is not None and f.data is None:
                # Warm path: an unchanged file is answered from its stat, without reading it.
                try:
                    st = os.stat(f.path)
                except OSError:
                    todo.append(f)  # reported when read
                    continue
                stat_hit = index.get(str(f.path), st.st_size, st.st_mtime_ns)
                known = stat_hit[0] if stat_hit is not None else None
                cached = Summary() if known == "" else cache.get(known) if known else None
                if cached is not None:
                    summaries[f.rel] = cached
                    continue
            todo.append(f)
        if todo:
            from archlint.native.pool import analyze_all

            results = analyze_all([(f.path, f.kind, f.data) for f in todo], max_bytes, self.workers or ctx.workers,
                                  cache)  # fmt: skip
        else:
            results = []
        for f, res in zip(todo, results, strict=True):
            outcome = res.outcome
            if index is not None and res.key is not None and f.data is None:
                index.put(str(f.path), res.size, res.mtime_ns, res.key)
            if isinstance(outcome, Summary):
                summaries[f.rel] = outcome
            elif outcome.startswith("!"):
                out.append(Finding(rule="ARCH004", message=outcome[1:], path=f.rel, key="internal"))
            else:
                out.append(Finding(rule="ARCH001", message=f"cannot read {f.rel}: {outcome}", path=f.rel,
                                   key="unreadable"))  # fmt: skip
        if index is not None:
            index.save()

        if not out and all(not (s.uses or s.hits or s.defines or s.macros) for s in summaries.values()):
            return out  # nothing x86 anywhere (a warm run over an unchanged tree): no tree pass to load

        from archlint.native.findings import tree_hits

        def read(rel: str) -> bytes | None:
            try:
                return by_rel[rel].read_bytes(MAX_READ_BYTES)
            except (OSError, k.FileTooLarge):
                return None

        for rel, hits in tree_hits(summaries, kinds, read).items():
            for hit in hits:
                if hit.blocks is not None:
                    facts.evidence.append(
                        Evidence(rel, hit.line, hit.evidence or hit.message, blocks_arm64=hit.blocks, rule=hit.rule)
                    )
                out.append(_finding(rel, hit))
        return out


def _build_script(f: SourceFile) -> bool:
    return (f.kind == k.PYTHON and f.path.name == "setup.py") or f.kind == k.PYPROJECT
