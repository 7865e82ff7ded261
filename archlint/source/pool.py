"""Run the analysis of many files on a process pool; in-process for small inputs.

libcst's parse holds the GIL, so threads do not help. A pool costs a fork per worker (and a
spawn would re-import libcst, ~0.3 s), so it is used only when there is enough parsing to win.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from archlint.scanning import internal_error
from archlint.source.analyze import DEFAULT_MAX_BYTES, analyze
from archlint.source.interface import FileResult, Hit

POOL_MIN_FILES = 4
POOL_MIN_BYTES = 128 * 1024  # below this, parsing is faster than starting workers


def analyze_safely(job: tuple[str, bytes], max_bytes: int = DEFAULT_MAX_BYTES) -> FileResult:
    kind, data = job
    try:
        return analyze(kind, data, max_bytes)
    except Exception as e:
        if os.environ.get("ARCHLINT_RAISE"):
            raise
        f = internal_error("", e)
        return FileResult((Hit("ARCH004", f.message, 1, key=f.key),))


def _worker(args: tuple[str, bytes, int]) -> FileResult:
    return analyze_safely((args[0], args[1]), args[2])


def _can_fork() -> bool:
    # fork is the cheap start method; forking a process that runs other threads can deadlock.
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def workers_for(jobs: Sequence[tuple[str, bytes]]) -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cpus < 2 or len(jobs) < POOL_MIN_FILES or sum(len(d) for _, d in jobs) < POOL_MIN_BYTES or not _can_fork():
        return 1
    return min(cpus, len(jobs))


def run_all(
    jobs: Sequence[tuple[str, bytes]], max_bytes: int = DEFAULT_MAX_BYTES, workers: int | None = None
) -> list[FileResult]:
    """Results in the order of `jobs`."""
    n = workers if workers is not None else workers_for(jobs)
    results: list[FileResult | None] = [None] * len(jobs)
    if n > 1:
        # Largest first, so one big file does not finish last on an otherwise idle pool.
        order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i][1]))
        try:
            with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("fork")) as ex:
                futures = {i: ex.submit(_worker, (jobs[i][0], jobs[i][1], max_bytes)) for i in order}
                for i, fut in futures.items():
                    results[i] = fut.result()
        except (BrokenProcessPool, OSError):
            pass  # a worker died (OOM killer, fork refused): finish what is left in-process
    for i, r in enumerate(results):
        if r is None:
            results[i] = analyze_safely(jobs[i], max_bytes)
    return [r for r in results if r is not None]
