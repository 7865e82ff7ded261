"""Python source and notebooks: x86-only imports, architecture gates, native loads, artifacts.

Only files the raw-bytes prefilter selects are hashed, looked up in the cache and parsed; the
blocking hits become `facts.evidence` for placement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from archlint import scanning as k
from archlint.facts import Evidence, Facts
from archlint.findings import Applicability, Edit, Finding, Fix, Severity
from archlint.scanning import FileTooLarge, ScanContext, Scanner, SourceFile
from archlint.source import pool
from archlint.source.analyze import DEFAULT_MAX_BYTES, analyze, notebook_may_match, wanted
from archlint.source.cache import ResultCache
from archlint.source.interface import FileResult, Hit


class SourceScanner(Scanner):
    name = "source"
    kinds = frozenset({k.PYTHON, k.NOTEBOOK})
    order = 20

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers  # None: decide by input size (see source/pool.py)

    def scan(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> Iterable[Finding]:
        max_bytes = int(ctx.config.get("source-max-bytes", DEFAULT_MAX_BYTES))
        cache = ResultCache.open(ctx.cache_dir, max_bytes)
        results: dict[int, FileResult] = {}
        pending: list[tuple[int, str, bytes, str | None]] = []
        for i, f in enumerate(files):
            try:
                data = f.read_bytes()
            except (FileTooLarge, OSError) as e:
                yield Finding(rule="ARCH001", message=f"cannot read {f.rel}: {e}", path=f.rel, key="unreadable")
                continue
            if not (notebook_may_match(data) if f.kind == k.NOTEBOOK else wanted(data)):
                continue  # the common case: nothing in the file can match, no hash, no parse
            if len(data) > max_bytes:
                results[i] = analyze(f.kind, data, max_bytes)  # a quick ARCH499, not worth caching
                continue
            key = cache.key(f.kind, data) if cache else None
            cached = cache.get(key) if cache and key else None
            if cached is not None:
                results[i] = cached
            else:
                pending.append((i, f.kind, data, key))
        computed = pool.run_all([(kind, data) for _, kind, data, _ in pending], max_bytes, self.workers)
        for (i, _, _, key), result in zip(pending, computed, strict=True):
            results[i] = result
            if cache and key:
                cache.put(key, result)
        for i in sorted(results):
            f = files[i]
            for hit in results[i].hits:
                if hit.blocks is not None:
                    facts.evidence.append(
                        Evidence(f.rel, hit.line, hit.evidence or hit.message, blocks_arm64=hit.blocks, rule=hit.rule)
                    )
                yield _finding(f.rel, hit)


def _finding(rel: str, hit: Hit) -> Finding:
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
