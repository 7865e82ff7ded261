"""Progress of one run, per scanner: files done of files given, and time elapsed.

Scanners call `tick()` as they finish files; the engine opens and closes a step per scanner.
Nothing here starts a thread: rich's live display refreshes only when a tick arrives (at most
ten times a second), because a running thread would stop the source scanner from forking its
worker pool.
"""

from __future__ import annotations

import time
from typing import IO, Protocol


class Progress(Protocol):
    def begin(self, name: str, total: int) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def end(self) -> None: ...
    def close(self) -> None: ...


_current: Progress | None = None


def tick(n: int = 1) -> None:
    """`n` more files done by the scanner that is running (a no-op without a display)."""
    if _current is not None:
        _current.advance(n)


def install(p: Progress | None) -> None:
    global _current
    _current = p


class TerminalProgress:
    """A transient rich display on stderr: one line per scanner, gone when the run ends."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self._rich = RichProgress(
            SpinnerColumn(),
            TextColumn("archlint: {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files"),
            TimeElapsedColumn(),
            console=Console(file=stream),
            transient=True,
            auto_refresh=False,
        )
        self._task: object | None = None
        self._shown = 0.0
        self._started = False

    def _refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._shown >= 0.1:
            self._shown = now
            self._rich.refresh()

    def begin(self, name: str, total: int) -> None:
        if not self._started:
            self._rich.start()
            self._started = True
        self._task = self._rich.add_task(name, total=max(total, 1))
        self._refresh(force=True)

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._rich.advance(self._task, n)  # type: ignore[arg-type]
            self._refresh()

    def end(self) -> None:
        if self._task is not None:
            task = self._task
            total = next(t.total for t in self._rich.tasks if t.id == task)
            self._rich.update(task, completed=total)  # type: ignore[arg-type]
            self._task = None
            self._refresh(force=True)

    def close(self) -> None:
        if self._started:
            self._rich.stop()
            self._started = False


class VerboseProgress:
    """-v: a line per scanner with its file count and time."""

    def __init__(self, say: object) -> None:
        self._say = say
        self._name = ""
        self._total = 0
        self._t0 = 0.0

    def begin(self, name: str, total: int) -> None:
        self._name, self._total, self._t0 = name, total, time.monotonic()

    def advance(self, n: int = 1) -> None:
        pass

    def end(self) -> None:
        self._say(f"{self._name}: {self._total} file(s) in {time.monotonic() - self._t0:.2f}s")  # type: ignore[operator]

    def close(self) -> None:
        pass
