"""What `check` says on stderr besides the report: nothing with -q, the steps and their times
with -v, a one-line progress indicator on a terminal otherwise."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

from archlint.progress import Progress, TerminalProgress, VerboseProgress


@dataclass
class Chatter:
    quiet: bool = False
    verbose: bool = False
    started: float = field(default_factory=time.monotonic)
    _live: TerminalProgress | None = None

    def note(self, msg: str) -> None:
        """A remark about the run (fixes applied, findings a gate left out); -q silences it."""
        if not self.quiet:
            self.clear()
            print(f"archlint: {msg}", file=sys.stderr)

    def detail(self, msg: str) -> None:
        """Only with -v."""
        if self.verbose:
            print(f"archlint: [{time.monotonic() - self.started:6.2f}s] {msg}", file=sys.stderr)

    def progress(self) -> Progress | None:
        """Per-scanner progress on a terminal (never in a pipe or a log); step times with -v."""
        if self.verbose:
            return VerboseProgress(self.detail)
        if self.quiet or not sys.stderr.isatty():
            return None
        self._live = TerminalProgress(sys.stderr)
        return self._live

    def clear(self) -> None:
        if self._live is not None:
            self._live.close()
            self._live = None

    def scanned(self, result: Any) -> None:
        self.clear()
        if not self.verbose:
            return
        ctx = result.ctx
        self.detail(f"config: {ctx.config.path or 'none (defaults)'}")
        self.detail(f"paths are relative to {ctx.root}")
        kinds: dict[str, int] = {}
        for f in ctx.files:
            kinds[f.kind] = kinds.get(f.kind, 0) + 1
        listed = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
        self.detail(f"{result.files} file(s) seen, {len(ctx.files)} analysed ({listed or 'none'})")
        self.detail(f"{len(result.findings)} finding(s), {result.suppressed} suppressed")
