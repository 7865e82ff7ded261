"""Many native files on a fork pool: each worker reads, prefilters and analyses a chunk of files
and sends back their summaries (small frozen records). Used when there are enough files to pay for
the workers (a large C tree); in-process otherwise, and wherever forking is unsafe (other threads
running) — the same policy as archlint/source/pool.py, whose checks it shares."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from archlint.native.analyze import analyze_matched
from archlint.native.cache import SummaryCache
from archlint.native.interface import Summary
from archlint.native.prefilter import may_match
from archlint.scanning import internal_error
from archlint.source.pool import read_with_stat
from archlint.workers import can_fork, cpus

POOL_MIN_FILES = 400
CHUNK = 64

Job = tuple[Path, str, bytes | None]  # (path, kind, preloaded bytes)


@dataclass(frozen=True)
class Result:
    outcome: Summary | str  # a summary, or why the file could not be read ("!" + an internal error)
    size: int = 0
    mtime_ns: int = 0
    key: str | None = None  # the content key of a candidate, "" when the prefilter found nothing


def run_one(path: Path, kind: str, data: bytes | None, max_bytes: int, cache: SummaryCache | None) -> Result:
    size = mtime = 0
    if data is None:
        read = read_with_stat(path)
        if isinstance(read, str):
            return Result(read)
        data, size, mtime = read
    if not may_match(kind, data):
        return Result(Summary(), size, mtime, "")
    key = cache.key(kind, data) if cache is not None else None
    if cache is not None and key is not None:
        cached = cache.get(key)
        if cached is not None:
            return Result(cached, size, mtime, key)
    try:
        summary = analyze_matched(kind, data, max_bytes)
    except Exception as e:
        if os.environ.get("ARCHLINT_RAISE"):
            raise
        return Result("!" + internal_error("", e).message)
    if cache is not None and key is not None:
        cache.put(key, summary)
    return Result(summary, size, mtime, key)


def _chunk(args: tuple[list[Job], int, Path | None]) -> list[Result]:
    jobs, max_bytes, cache_dir = args
    cache = SummaryCache.open(cache_dir, max_bytes)
    return [run_one(p, k, d, max_bytes, cache) for p, k, d in jobs]


def analyze_all(
    jobs: Sequence[Job], max_bytes: int, workers: int | None = None, cache: SummaryCache | None = None
) -> list[Result]:
    """Results in the order of `jobs`. `workers`: None decides by the amount of work, 1 forces
    in-process, n > 1 forces a pool of n (tests, benchmarks)."""
    n = workers or cpus()
    # Never fork while another thread runs (the source scanner's pool may be working meanwhile):
    # a forked child can inherit a lock that thread held.
    use_pool = workers != 1 and n > 1 and can_fork() and (workers is not None or len(jobs) >= POOL_MIN_FILES)
    if use_pool and "fork" in multiprocessing.get_all_start_methods():
        chunks = [list(jobs[i : i + CHUNK]) for i in range(0, len(jobs), CHUNK)]
        base = cache.base if cache is not None else None
        try:
            with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("fork")) as ex:
                return [r for part in ex.map(_chunk, [(c, max_bytes, base) for c in chunks]) for r in part]
        except (BrokenProcessPool, OSError):
            pass  # a worker died (OOM killer, fork refused): go on in-process
    return [run_one(p, k, d, max_bytes, cache) for p, k, d in jobs]
