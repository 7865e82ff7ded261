"""Run render commands in parallel: at most one per CPU, each within its own timeout and all
within one deadline, never reading stdin, never raising.

The work is in the child processes, so threads are enough to wait on them; the pool is shut
down (its threads joined) before this returns, so a fork pool started later still may fork.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from archlint.subprocesses import run_captured
from archlint.workers import cpus

JOB_TIMEOUT = 120.0  # seconds for one render
TOTAL_TIMEOUT = 300.0  # seconds for all renders of one run
MAX_OUTPUT = 64 * 1024 * 1024  # bytes of output a render may print (the manifest size cap)


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]


@dataclass
class Outcome:
    ok: bool
    stdout: str = ""
    error: str = ""  # why it failed: the tool's error line, a timeout, a missing program


workers = cpus  # renders at once: one per CPU


def _run(cmd: Command, deadline: float, timeout: float) -> Outcome:
    start = time.monotonic()
    left = min(timeout, deadline - start)
    name = os.path.basename(cmd.argv[0])
    if left <= 0:
        return Outcome(False, error="not run: the renders of this scan ran out of time")
    try:
        # Its own process group, killed whole on a timeout or Ctrl-C: plugins helm or kubectl
        # start must not outlive the scan (archlint/subprocesses.py).
        proc = run_captured(cmd.argv, timeout=left)
    except subprocess.TimeoutExpired:
        return Outcome(False, error=f"`{name}` did not finish within {left:.0f} s")
    except OSError as e:
        return Outcome(False, error=f"cannot run {name}: {e.strerror or e}")
    lines = [ln for ln in proc.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    if proc.returncode != 0:
        # helm and kubectl print "Error: ..." (then maybe a hint such as "Use --debug flag ...").
        errors = [ln.strip() for ln in lines if ln.lstrip().lower().startswith("error")]
        error = errors[-1] if errors else lines[-1].strip() if lines else f"exit {proc.returncode}"
        return Outcome(False, error=error)
    if len(proc.stdout) > MAX_OUTPUT:
        return Outcome(False, error=f"`{name}` printed more than {MAX_OUTPUT // (1024 * 1024)} MiB")
    return Outcome(True, stdout=proc.stdout.decode("utf-8", "replace"))


def run_all(commands: Sequence[Command], timeout: float = JOB_TIMEOUT, total: float = TOTAL_TIMEOUT,
            max_workers: int | None = None) -> list[Outcome]:  # fmt: skip
    """Each command's outcome, in order; at most `max_workers` (default: one per CPU) at once."""
    if not commands:
        return []
    deadline = time.monotonic() + total
    n = min(max_workers or workers(), len(commands))
    if n == 1:
        return [_run(c, deadline, timeout) for c in commands]
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="archlint-render") as ex:
        return list(ex.map(lambda c: _run(c, deadline, timeout), commands))
