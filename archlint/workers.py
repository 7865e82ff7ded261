"""How many worker processes a run may use, and whether it may fork them now.

Shared by the fork pools (source, native, manifests) and the render runner."""

from __future__ import annotations

import multiprocessing
import os
import threading


def cpus() -> int:
    """The CPUs this process may run on (its affinity mask: a container's cpuset, taskset)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def can_fork() -> bool:
    """Fork only while this is the only thread: a child inherits every lock another thread held."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def configured() -> int | None:
    """ARCHLINT_WORKERS: None decides by the amount of work, 1 runs in-process, n forces n."""
    raw = os.environ.get("ARCHLINT_WORKERS", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 256:
        from archlint.errors import FatalError

        raise FatalError(f"ARCHLINT_WORKERS={raw!r}: expected a whole number of worker processes from 1 to 256")
    return int(raw)
