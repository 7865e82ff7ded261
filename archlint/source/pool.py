"""Many files on a process pool, in two phases; in-process for small inputs.

Phase 1 (probe): read each file and run the raw-bytes prefilter; only candidates come back,
with their bytes and content key (on the pool, already analysed by the worker that read them).
Phase 2 (analyze): parse and walk the candidates that the cache does not already answer.
libcst's parser holds the GIL, so threads do not help; a forked worker costs a few milliseconds
(a spawned one would re-import everything), so the pool is used only when there is enough work,
and never where forking is unsafe (other threads running).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from archlint.interrupts import ignore_in_worker
from archlint.progress import tick
from archlint.scanning import MAX_READ_BYTES, NOTEBOOK, internal_error
from archlint.source.cache import ResultCache, content_key, salt
from archlint.source.interface import FileResult, Hit
from archlint.source.prefilter import notebook_may_match, wanted_codes
from archlint.suppress import may_suppress
from archlint.workers import can_fork, cpus

PROBE_MIN_FILES = 400  # reading + prefiltering fewer files is faster than starting workers
PROBE_CHUNK = 64
ANALYZE_MIN_FILES = 3
ANALYZE_MIN_BYTES = 96 * 1024  # below this, parsing in-process beats starting workers


@dataclass(frozen=True)
class Probed:
    size: int = 0
    mtime_ns: int = 0
    key: str | None = None  # None: the prefilter found nothing to look at
    data: bytes | None = None  # the bytes of a candidate
    error: str | None = None  # could not read (becomes ARCH001)
    result: FileResult | None = None  # a candidate already analysed (or found in the cache) by a worker
    suppress: bool = True  # may hold a suppression comment (False: finalise need not read it again)


def read_with_stat(path: Path) -> tuple[bytes, int, int] | str:
    """(bytes, size, mtime_ns) of a file read once (the stat index keys on them), or why not."""
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            data = fh.read(MAX_READ_BYTES + 1)
    except OSError as e:
        return e.strerror or str(e)
    if len(data) > MAX_READ_BYTES:
        return f"larger than {MAX_READ_BYTES} bytes"
    return data, st.st_size, st.st_mtime_ns


def probe(path: Path, kind: str, data: bytes | None, max_bytes: int) -> Probed:
    size = mtime = 0
    if data is None:
        read = read_with_stat(path)
        if isinstance(read, str):
            return Probed(error=read)
        data, size, mtime = read
    match = notebook_may_match(data) if kind == NOTEBOOK else bool(wanted_codes(data))
    sup = may_suppress(data)
    if not match:
        return Probed(size, mtime, suppress=sup)
    return Probed(size, mtime, content_key(kind, data, salt(max_bytes)), data, suppress=sup)


def _probe_chunk(args: tuple[list[tuple[Path, str, bytes | None]], int, Path | None]) -> list[Probed]:
    """In a worker: probe, and analyze the candidates right there (no second round trip, and
    parsing overlaps other workers' probing). The cache is shared safely (atomic writes)."""
    jobs, max_bytes, cache_dir = args
    cache = ResultCache.open(cache_dir, max_bytes)
    out = []
    for path, kind, data in jobs:
        pr = probe(path, kind, data, max_bytes)
        if pr.key is not None and pr.data is not None:
            result = cache.get(pr.key) if cache else None
            if result is None:
                result = analyze_safely(kind, pr.data, max_bytes)
                if cache:
                    cache.put(pr.key, result)
            pr = Probed(pr.size, pr.mtime_ns, pr.key, None, None, result)
        out.append(pr)
    return out


def analyze_safely(kind: str, data: bytes, max_bytes: int) -> FileResult:
    from archlint.source.analyze import analyze  # imports libcst: only when something is parsed

    try:
        return analyze(kind, data, max_bytes)
    except Exception as e:
        if os.environ.get("ARCHLINT_RAISE"):
            raise
        f = internal_error("", e)
        return FileResult((Hit("ARCH004", f.message, 1, key=f.key),))


def _analyze(args: tuple[str, bytes, int]) -> FileResult:
    return analyze_safely(*args)


class Workers:
    """A lazily started fork pool shared by both phases. `workers`: None decides by the amount
    of work, 1 forces in-process, n > 1 forces a pool of n (tests, benchmarks)."""

    def __init__(self, workers: int | None = None) -> None:
        self.requested = workers
        self._ex: Executor | None = None
        self._broken = False

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        if self._ex is not None:
            self._ex.shutdown(wait=True, cancel_futures=True)

    def _pool(self, wanted: bool) -> Executor | None:
        if self._broken or self.requested == 1:
            return None
        n = self.requested or cpus()
        if n < 2 or (self.requested is None and (not wanted or not can_fork())):
            return None
        if self._ex is None:
            self._ex = ProcessPoolExecutor(
                max_workers=n, mp_context=multiprocessing.get_context("fork"), initializer=ignore_in_worker
            )
        return self._ex

    def probe(
        self, jobs: Sequence[tuple[Path, str, bytes | None]], max_bytes: int, cache_dir: Path | None = None
    ) -> list[Probed]:
        """Probe every job. On the pool (large inputs), candidates come back already analysed
        (`result` set, cache consulted and filled); in-process, with their bytes for `analyze`."""
        return self.start_probe(jobs, max_bytes, cache_dir)()

    def start_probe(
        self, jobs: Sequence[tuple[Path, str, bytes | None]], max_bytes: int, cache_dir: Path | None = None
    ) -> Callable[[], list[Probed]]:
        """`probe`, in two steps: the work goes to the pool now (the caller goes on with other
        scanners meanwhile), the returned function collects it. In-process, the work is done
        when collected."""
        ex = self._pool(len(jobs) >= PROBE_MIN_FILES)
        if ex is not None:
            chunks = [list(jobs[i : i + PROBE_CHUNK]) for i in range(0, len(jobs), PROBE_CHUNK)]
            try:
                parts = ex.map(_probe_chunk, [(c, max_bytes, cache_dir) for c in chunks])  # submits every chunk
            except (BrokenProcessPool, OSError):
                self._broken = True
            else:

                def collect() -> list[Probed]:
                    try:
                        out: list[Probed] = []
                        for part in parts:
                            out.extend(part)
                            tick(len(part))
                        return out
                    except (BrokenProcessPool, OSError):
                        self._broken = True  # a worker died (OOM killer, fork refused): go on in-process
                        return self._probe_here(jobs, max_bytes)

                return collect
        return lambda: self._probe_here(jobs, max_bytes)

    @staticmethod
    def _probe_here(jobs: Sequence[tuple[Path, str, bytes | None]], max_bytes: int) -> list[Probed]:
        done = []
        for p, k, d in jobs:
            done.append(probe(p, k, d, max_bytes))
            tick()
        return done

    def analyze(self, jobs: Sequence[tuple[str, bytes]], max_bytes: int) -> list[FileResult]:
        """Results in the order of `jobs`."""
        big = len(jobs) >= ANALYZE_MIN_FILES and sum(len(d) for _, d in jobs) >= ANALYZE_MIN_BYTES
        ex = self._pool(big)
        results: list[FileResult | None] = [None] * len(jobs)
        if ex is not None:
            # Largest first, so one big file does not finish last on an otherwise idle pool.
            order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i][1]))
            try:
                futures = {i: ex.submit(_analyze, (jobs[i][0], jobs[i][1], max_bytes)) for i in order}
                for i, fut in futures.items():
                    results[i] = fut.result()
            except (BrokenProcessPool, OSError):
                self._broken = True
        return [
            r if r is not None else analyze_safely(k, d, max_bytes) for r, (k, d) in zip(results, jobs, strict=True)
        ]
