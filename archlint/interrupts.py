"""Ctrl-C reaches every process of the terminal's foreground group: archlint's own, its fork
pools and the children of its dependencies. Only archlint should answer ("archlint: interrupted"),
never a worker or a child with a KeyboardInterrupt traceback of its own."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


def ignore_in_worker() -> None:
    """Initializer of fork-pool workers: the parent handles Ctrl-C and shuts the pool down (a
    worker idle in its queue would otherwise print a traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Block SIGINT in this thread while the body runs. A child process inherits the signal mask of
    the thread that starts it, so Ctrl-C interrupts archlint (another thread, or this one when
    the body is done) but not the child. For pip-audit's import, which runs `python -m pip
    --version` (pip-api)."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no process-group SIGINT to the child
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
