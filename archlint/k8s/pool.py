"""Manifest files on a fork pool when there are enough of them to pay for the workers.

The YAML reader is pure Python over libyaml events and holds the GIL, so threads do not help.
A forked worker inherits the scan's state (profile, schema validators, image verdicts) for free;
only the file's findings, workloads and suppression regions travel back, pickled.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from archlint.interrupts import ignore_in_worker
from archlint.workers import can_fork, cpus

MIN_FILES = 2
MIN_BYTES = 1024 * 1024  # below this, starting workers costs more than it saves

J = TypeVar("J")
R = TypeVar("R")

# The job function of the current map(); set before forking so workers inherit it.
_FN: Callable[[Any], Any] | None = None


def _call(job: Any) -> Any:
    assert _FN is not None
    return _FN(job)


def will_pool(n_jobs: int, total_bytes: int) -> bool:
    """Would map_jobs (with workers=None) use a pool for this much work?"""
    return cpus() >= 2 and can_fork() and n_jobs >= MIN_FILES and total_bytes >= MIN_BYTES


def map_jobs(fn: Callable[[J], R], jobs: Sequence[J], sizes: Sequence[int], workers: int | None = None) -> list[R]:
    """fn over jobs, in order: on a fork pool when the work is big enough (or `workers` > 1
    asks for one), in-process otherwise or when the pool breaks."""
    global _FN
    n = workers or cpus()
    big = len(jobs) >= MIN_FILES and sum(sizes) >= MIN_BYTES
    if n < 2 or workers == 1 or not can_fork() or (workers is None and not big):
        return [fn(j) for j in jobs]
    _FN = fn
    results: list[Any] = [None] * len(jobs)
    done = [False] * len(jobs)
    try:
        with ProcessPoolExecutor(
            max_workers=min(n, len(jobs)), mp_context=multiprocessing.get_context("fork"), initializer=ignore_in_worker
        ) as ex:
            # Largest first, so one big file does not finish last on an otherwise idle pool.
            order = sorted(range(len(jobs)), key=lambda i: -sizes[i])
            futures = {i: ex.submit(_call, jobs[i]) for i in order}
            for i, fut in futures.items():
                results[i] = fut.result()
                done[i] = True
    except (BrokenProcessPool, OSError):
        pass  # a worker died (OOM killer, fork refused): finish in-process
    finally:
        _FN = None
    return [r if ok else fn(j) for r, ok, j in zip(results, done, jobs, strict=True)]
