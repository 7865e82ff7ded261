"""Python source and notebooks: x86-only imports, architecture gates, native loads, artifacts.

Only files the raw-bytes prefilter selects are hashed, looked up in the cache and parsed (see
archlint/source/); the blocking hits become `facts.evidence` for placement.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterable, Sequence

from archlint import scanning as k
from archlint.facts import Evidence, Facts
from archlint.findings import Applicability, Edit, Finding, Fix, Severity
from archlint.progress import tick
from archlint.scanning import ScanContext, Scanner, SourceFile
from archlint.source.cache import ResultCache, StatIndex
from archlint.source.interface import FileResult, Hit
from archlint.source.pool import Probed, Workers

DEFAULT_MAX_BYTES = 1024 * 1024  # larger files that could match are skipped with an ARCH499 info


class SourceScanner(Scanner):
    name = "source"
    kinds = frozenset({k.PYTHON, k.NOTEBOOK})
    order = 20

    # Begun first by the engine and collected just before the scanners that use its evidence.
    overlaps = True

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers  # None: decide by the amount of work (see source/pool.py)
        self._started: _Started | None = None

    def begin(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> None:
        """Hand the files to the worker pool now; `scan` collects the results later. The engine
        calls this before any other scanner (while it is the only thread, so the pool can fork),
        and the other scanners run while the workers read and parse."""
        if self._started is None:
            self._started = self._start(files, ctx)

    def abort(self) -> None:
        if self._started is not None:
            self._started.workers.__exit__(None, None, None)
            self._started = None

    def _start(self, files: Sequence[SourceFile], ctx: ScanContext) -> _Started:
        max_bytes = int(ctx.config.get("source-max-bytes", DEFAULT_MAX_BYTES))
        cache = ResultCache.open(ctx.cache_dir, max_bytes)
        st = _Started(max_bytes, cache, cache.index(ctx.root) if cache else None, Workers(self.workers or ctx.workers))
        for i, f in enumerate(files):
            if st.index is not None and f.data is None:
                # Warm path: an unchanged file is answered from its stat, without reading it.
                try:
                    stat = os.stat(f.path)
                except OSError as e:
                    st.early.append(_unreadable(f, e.strerror or str(e)))
                    continue
                stat_hit = st.index.get(str(f.path), stat.st_size, stat.st_mtime_ns)
                known = stat_hit[0] if stat_hit is not None else None
                if stat_hit is not None:
                    f.may_suppress = stat_hit[1]
                if known == "":
                    tick()
                    continue
                cached = cache.get(known) if cache and known else None
                if cached is not None:
                    st.results[i] = cached
                    tick()
                    continue
            st.todo.append(i)
        jobs = [(files[i].path, files[i].kind, files[i].data) for i in st.todo]
        st.collect = st.workers.start_probe(jobs, max_bytes, cache.base if cache else None)
        return st

    def scan(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> Iterable[Finding]:
        st, self._started = self._started or self._start(files, ctx), None
        with st.workers as workers:
            yield from st.early
            cache, index, results = st.cache, st.index, st.results
            probes = st.collect()
            pending: list[tuple[int, str, bytes]] = []
            for i, pr in zip(st.todo, probes, strict=True):
                f = files[i]
                if pr.error is not None:
                    yield _unreadable(f, pr.error)
                    continue
                f.may_suppress = pr.suppress
                if index is not None and f.data is None:
                    index.put(str(f.path), pr.size, pr.mtime_ns, pr.key or "", pr.suppress)
                if pr.result is not None:
                    results[i] = pr.result  # analysed (and cached) by a worker
                    continue
                if pr.key is None or pr.data is None:
                    continue
                cached = cache.get(pr.key) if cache else None
                if cached is not None:
                    results[i] = cached
                else:
                    pending.append((i, pr.key, pr.data))
            computed = workers.analyze([(files[i].kind, data) for i, _, data in pending], st.max_bytes)
        for (i, key, _), result in zip(pending, computed, strict=True):
            results[i] = result
            if cache:
                cache.put(key, result)
        if index is not None:
            index.save()
        for i in sorted(results):
            f = files[i]
            for hit in results[i].hits:
                if hit.blocks is not None:
                    facts.evidence.append(
                        Evidence(f.rel, hit.line, hit.evidence or hit.message, blocks_arm64=hit.blocks, rule=hit.rule)
                    )
                yield _finding(f.rel, hit)


@dataclasses.dataclass
class _Started:
    """A source scan handed to the workers, waiting to be collected."""

    max_bytes: int
    cache: ResultCache | None
    index: StatIndex | None
    workers: Workers
    results: dict[int, FileResult] = dataclasses.field(default_factory=dict)
    todo: list[int] = dataclasses.field(default_factory=list)
    early: list[Finding] = dataclasses.field(default_factory=list)  # unreadable files met before the pool
    collect: Callable[[], list[Probed]] = lambda: []


def _unreadable(f: SourceFile, reason: str) -> Finding:
    return Finding(rule="ARCH001", message=f"cannot read {f.rel}: {reason}", path=f.rel, key="unreadable")


# Test modules: paths in them are test data (a mocked build tree, a recorded download URL).
_TEST_PATH = re.compile(r"(?:^|/)(?:tests?|testing)/|(?:^|/)(?:test_[^/]*|[^/]*_tests?|conftest)\.pyi?$")


def _finding(rel: str, hit: Hit) -> Finding:
    if hit.rule == "ARCH405" and _TEST_PATH.search(rel):
        hit = dataclasses.replace(hit, severity="info", message=hit.message + " (in a test module: likely test data)")
    fix = None
    if hit.fix is not None:
        edits = tuple(
            Edit(rel, e.start_line, e.start_column, e.end_line, e.end_column, e.content) for e in hit.fix.edits
        )
        fix = Fix(hit.fix.description, Applicability(hit.fix.applicability), edits)
    return Finding(
        rule=hit.rule,
        message=hit.message,
        path=rel,
        line=hit.line,
        column=hit.column,
        end_line=hit.end_line,
        end_column=hit.end_column,
        severity=Severity.parse(hit.severity) if hit.severity else None,
        key=hit.key,
        fix=fix,
    )
