"""Baselines: record today's findings so a pull-request gate fails only on new ones.

Findings are matched by fingerprint (rule, path, workload and a line-independent key), so a
recorded finding stays recorded when the code around it moves. Matching counts occurrences:
a baseline that holds one finding with a fingerprint absorbs one, and a second, new
occurrence of the same problem still fails.

The file is the user's own (usually committed next to the code), so a missing or corrupt
baseline is a FatalError (exit 2), never a silently empty baseline that would let everything
through or fail everything.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archlint import __version__
from archlint.atomic import write_atomic
from archlint.errors import FatalError
from archlint.findings import Finding

FORMAT = "archlint-baseline"
VERSION = 1
DEFAULT_PATH = "archlint-baseline.json"


@dataclass(frozen=True)
class Baseline:
    path: str
    counts: Counter[str]  # fingerprint -> how many findings with it were recorded

    def __len__(self) -> int:
        return sum(self.counts.values())


def to_json(findings: Iterable[Finding]) -> dict[str, Any]:
    # Rule, path and message ride along for people reading the file in review; only the
    # fingerprint is used for matching.
    entries = sorted(
        ({"fingerprint": f.fingerprint, "rule": f.rule, "path": f.path, "message": f.message} for f in findings),
        key=lambda e: (e["path"], e["rule"], e["fingerprint"]),
    )
    return {"format": FORMAT, "version": VERSION, "tool_version": __version__, "findings": entries}


def write(path: str, findings: Iterable[Finding]) -> int:
    """Write the baseline atomically; returns the number of findings recorded."""
    doc = to_json(findings)
    target = Path(path)
    try:
        write_atomic(target, json.dumps(doc, indent=2) + "\n")
    except OSError as e:
        raise FatalError(f"baseline {path}: cannot write: {e.strerror or e}") from None
    return len(doc["findings"])


def load(path: str) -> Baseline:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(64 * 1024 * 1024 + 1)
    except FileNotFoundError:
        raise FatalError(f"baseline {path}: file not found (create it with `archlint baseline`)") from None
    except OSError as e:
        raise FatalError(f"baseline {path}: cannot read: {e.strerror or e}") from None
    if len(raw) > 64 * 1024 * 1024:
        raise FatalError(f"baseline {path}: larger than 64 MiB; not an archlint baseline")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FatalError(f"baseline {path}: not valid JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise FatalError(f'baseline {path}: not an archlint baseline (expected "format": "{FORMAT}")')
    if doc.get("version") != VERSION:
        raise FatalError(f"baseline {path}: unsupported version {doc.get('version')!r} (expected {VERSION})")
    entries = doc.get("findings")
    if not isinstance(entries, list):
        raise FatalError(f'baseline {path}: "findings" must be a list')
    counts: Counter[str] = Counter()
    for i, entry in enumerate(entries):
        fp = entry.get("fingerprint") if isinstance(entry, dict) else None
        if not isinstance(fp, str) or not fp:
            raise FatalError(f"baseline {path}: findings[{i}] has no fingerprint")
        counts[fp] += 1
    return Baseline(path=path, counts=counts)


def apply(findings: list[Finding], baseline: Baseline) -> tuple[list[Finding], int]:
    """The findings not in the baseline, and how many were dropped because they were."""
    left = Counter(baseline.counts)
    kept: list[Finding] = []
    dropped = 0
    for f in findings:
        if left[f.fingerprint] > 0:
            left[f.fingerprint] -= 1
            dropped += 1
        else:
            kept.append(f)
    return kept, dropped
