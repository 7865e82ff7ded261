"""Reading the per-repository JSON reports that a fleet report merges.

Every input is validated against the report schema shipped in the package: a merge that
silently skipped a truncated artifact would under-count the fleet. A bad input is a
FatalError (exit 2) naming the file.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from archlint.errors import FatalError

MAX_REPORT_BYTES = 256 * 1024 * 1024
# File names CI tends to give every report; the directory above says more about the repository.
_GENERIC = frozenset({"archlint", "report", "archlint-report", "arm64", "results", "output", "scan"})
_AFFIX = re.compile(r"(^archlint[-_.])|([-_.]archlint(?:[-_.]report)?$)|([-_.]report$)", re.IGNORECASE)


@dataclass(frozen=True)
class RepoReport:
    name: str  # the repository's name in the fleet report
    source: str  # the file it came from, as given
    report: dict[str, Any]  # a valid schema_version 1 report


@functools.cache
def report_schema() -> dict[str, Any]:
    text = resources.files("archlint.schema").joinpath("report-v1.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_report(path: str) -> dict[str, Any]:
    import jsonschema

    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_REPORT_BYTES + 1)
    except OSError as e:
        raise FatalError(f"{path}: cannot read report: {e.strerror or e}") from None
    if len(raw) > MAX_REPORT_BYTES:
        raise FatalError(f"{path}: larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB; not an archlint report")
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FatalError(f"{path}: not valid JSON ({e}); was it written by `archlint check --format json`?") from None
    validator = jsonschema.Draft202012Validator(report_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise FatalError(f"{path}: not an archlint JSON report (schema_version 1): at {where}: {error.message[:300]}")
    return doc


def default_names(paths: Sequence[str]) -> list[str]:
    """Repository names from file names: `shop-api.json` -> shop-api, `shop-api.archlint.json` ->
    shop-api; generic or clashing names (`reports/shop-api/archlint.json`, as CI artifact
    downloads lay them out) take the directory's name instead."""
    stems = []
    for p in paths:
        path = Path(p)
        stem = path.name[: -len(".json")] if path.name.lower().endswith(".json") else path.name
        cleaned = _AFFIX.sub("", stem) or stem
        stems.append((cleaned, path))
    names = []
    for cleaned, path in stems:
        clash = sum(1 for c, _ in stems if c == cleaned) > 1
        parent = path.resolve().parent.name
        if (cleaned.lower() in _GENERIC or clash) and parent:
            names.append(parent if cleaned.lower() in _GENERIC else f"{parent}/{cleaned}")
        else:
            names.append(cleaned)
    # Still ambiguous (same directory names in different trees): number them, stably.
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if names.count(n) == 1 else f"{n} ({seen[n]})")
    return out


def load_all(paths: Sequence[str], names: Sequence[str] = (), notes: list[str] | None = None) -> list[RepoReport]:
    """Load and validate every report; reports of one repository count once (see dedupe.py),
    with a line in `notes` for each report left out."""
    from archlint.fleet.dedupe import dedupe

    if len(names) > len(paths):
        raise FatalError(f"{len(names)} --name values for {len(paths)} report(s): one --name per report, in order")
    given = [n.strip() for n in names]
    if any(not n for n in given):
        raise FatalError("--name: a repository name cannot be empty")
    docs = [load_report(p) for p in paths]
    keep, dropped = dedupe(paths, docs)
    if notes is not None:
        notes.extend(dropped)
    kept_paths = [paths[i] for i in keep]
    defaults = default_names(kept_paths)
    final = [given[i] if i < len(given) else defaults[j] for j, i in enumerate(keep)]
    dupes = sorted({n for n in final if final.count(n) > 1})
    if dupes:
        raise FatalError(f"repository name {dupes[0]!r} given to more than one report (use --name to tell them apart)")
    return [RepoReport(name=n, source=paths[i], report=docs[i]) for n, i in zip(final, keep, strict=True)]
