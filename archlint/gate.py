"""The pull-request gate: narrow a run to new findings (`--baseline`) in changed code
(`--diff-base`), and the `archlint baseline` command that records today's findings.

Both inputs are checked before scanning, so a missing baseline or an unknown git ref fails
(exit 2) in a second, not after a full scan.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from archlint import baseline as baseline_mod
from archlint import gitdiff
from archlint.engine import STDIN, Result


@dataclass
class Gate:
    baseline: baseline_mod.Baseline | None = None
    changes: gitdiff.ChangeSet | None = None

    @classmethod
    def prepare(cls, baseline_path: str | None, diff_base: str | None, paths: list[str]) -> Gate:
        base = baseline_mod.load(baseline_path) if baseline_path else None
        changes = None
        if diff_base:
            first = next((p for p in paths if p != STDIN), ".")
            changes = gitdiff.changed_files(diff_base, Path(first).resolve())
        return cls(base, changes)

    @property
    def active(self) -> bool:
        return self.baseline is not None or self.changes is not None

    def apply(self, result: Result) -> list[str]:
        """Drop old findings from `result` in place; returns one note per filter for stderr."""
        notes = []
        if self.changes is not None:
            changed = self.changes.relative_to(result.ctx.root)
            result.findings, dropped = gitdiff.narrow(result.findings, result.facts, changed)
            notes.append(
                f"{dropped} finding(s) outside the {len(changed)} file(s) changed since {self.changes.ref} not shown"
            )
        if self.baseline is not None:
            result.findings, dropped = baseline_mod.apply(result.findings, self.baseline)
            notes.append(f"{dropped} finding(s) recorded in baseline {self.baseline.path} not shown")
        return notes


def cmd_baseline(args: argparse.Namespace) -> int:
    from archlint import engine

    opts = engine.Options(
        paths=args.paths,
        config=args.config,
        select=args.select,
        ignore=args.ignore,
        offline=args.offline,
        cache_dir=Path(args.cache_dir) if args.cache_dir else None,
        no_cache=args.no_cache,
        pythons=list(args.python),
        check_images=args.check_images,
        no_resolve=args.no_resolve,
    )
    result = engine.run(opts)
    n = baseline_mod.write(args.output, result.findings)
    print(f"archlint: recorded {n} finding(s) in {args.output}", file=sys.stderr)
    return 0
