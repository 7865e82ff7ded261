"""One repository counts once in a fleet, however many of its reports are merged.

Reports of the same repository (the same `repository.id` and scanned `paths`, see
archlint/repository.py) are the same entry: the one from the newest commit is kept; between
reports of the same commit, the one given last on the command line (a re-run of the same
state). Reports without a repository block (written outside git, or by an older archlint) are
the same entry only when they are the same report: identical content. The others are dropped
with a note on stderr naming both files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any


def identity(doc: dict[str, Any]) -> tuple[str, ...]:
    repo = doc.get("repository")
    if repo:
        return ("repository", repo["id"], *repo["paths"])
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode("utf-8")).hexdigest()
    return ("content", digest)


def _when(doc: dict[str, Any]) -> datetime | None:
    stamp = (doc.get("repository") or {}).get("committed_at")
    try:
        return datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        return None


def _describe(doc: dict[str, Any]) -> str:
    repo = doc.get("repository")
    if not repo:
        return "identical reports"
    where = ", ".join(repo["paths"])
    return f"the same repository ({repo['id']}: {where})"


def dedupe(paths: Sequence[str], docs: Sequence[dict[str, Any]]) -> tuple[list[int], list[str]]:
    """Indexes of the reports to merge, in input order, and a note per report left out."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, doc in enumerate(docs):
        groups.setdefault(identity(doc), []).append(i)
    keep, notes = [], []
    for members in groups.values():

        def rank(i: int) -> tuple[bool, float, int]:
            when = _when(docs[i])
            return (when is not None, when.timestamp() if when else 0.0, i)

        best = max(members, key=rank)
        keep.append(best)
        for i in members:
            if i != best:
                why = "its commit is newer" if rank(best)[:2] != rank(i)[:2] else "it was given later"
                notes.append(f"{paths[i]} and {paths[best]} are {_describe(docs[i])}: counted once, "
                             f"from {paths[best]} ({why})")  # fmt: skip
    return sorted(keep), notes
