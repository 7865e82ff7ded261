"""Merge per-repository reports into the fleet document (fleet_schema_version 1).

The fleet document is to `report merge` what the JSON report is to `check`: the one document
the Markdown and HTML renderers draw from, with its schema shipped next to this module.

Blocker attribution works from what each report already says. A workload that must stay on
amd64 names its blockers in its placement reasons and image evidence ("path:line: why"); a
dependency blocks it when that text points at the dependency's declaration or names it, and
a base image blocks it when the text names it as an amd64-only base image. Dependencies that
cannot install on arm64 in a repository without workloads still count per repository.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from archlint import __version__, images
from archlint.fleet.inputs import RepoReport

FLEET_SCHEMA_VERSION = 1
RECOMMENDATIONS = ("arm64", "multi-arch", "amd64", "unknown")
READY = frozenset({"arm64", "multi-arch"})  # can run on arm64 nodes today
BLOCKING_STATUSES = frozenset({"unavailable", "needs-build"})
TOP = 25  # blockers listed per kind; the long tail is in the per-repository reports

_BASE_IMAGE = re.compile(r"\bbase image [`'\"]?([^\s`'\",;]+)")
_POSITIVE = re.compile(r"publishes linux/arm64|multi-arch|supports arm64", re.IGNORECASE)


def _texts(workload: dict[str, Any]) -> list[str]:
    out = list(workload["placement"]["reasons"])
    for image in workload["images"]:
        out.extend(image["evidence"])
    return out


def _mentions(name: str, text: str) -> bool:
    # PEP 503 names compare loosely ("intel_openmp" == "intel-openmp"); the name must stand alone
    # so that "mkl" does not match inside "mkl-fft".
    pattern = r"[-_.]+".join(re.escape(p) for p in re.split(r"[-_.]+", name))
    return re.search(rf"(?<![\w.-]){pattern}(?![\w-]|\.\w)", text, re.IGNORECASE) is not None


@dataclass
class _Blocker:
    key: str
    workloads: list[str] = field(default_factory=list)  # "repository: Kind/ns/name"
    repositories: set[str] = field(default_factory=set)
    versions: set[str] = field(default_factory=set)

    def to_json(self, label: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            label: self.key,
            "workloads": len(self.workloads),
            "repositories": len(self.repositories),
            "repository_names": sorted(self.repositories),
            "workload_ids": sorted(self.workloads),
        }
        if label == "name":
            out["versions"] = sorted(self.versions)
        return out


def _rank(blockers: Iterable[_Blocker], label: str) -> list[dict[str, Any]]:
    ordered = sorted(blockers, key=lambda b: (-len(b.workloads), -len(b.repositories), b.key))
    return [b.to_json(label) for b in ordered[:TOP]]


def _share(ready: int, total: int) -> float | None:
    return round(ready / total, 4) if total else None


def _repository(r: RepoReport) -> dict[str, Any]:
    rep = r.report
    counts = dict.fromkeys(RECOMMENDATIONS, 0)
    for w in rep["workloads"]:
        counts[w["placement"]["recommendation"]] += 1
    total = len(rep["workloads"])
    ready = sum(counts[k] for k in READY)
    s = rep["summary"]
    return {
        "name": r.name,
        "report": r.source,
        "tool_version": rep["tool"]["version"],
        "workloads": total,
        "by_recommendation": counts,
        "arm64_ready": ready,
        "arm64_ready_share": _share(ready, total),
        "errors": s["errors"],
        "warnings": s["warnings"],
        "infos": s["infos"],
        "dependencies": len(rep["dependencies"]),
        "blocking_dependencies": len({d["name"] for d in rep["dependencies"] if d["status"] == "unavailable"}),
        "unknown_dependencies": s["unknown_dependencies"],
    }


def _hit(table: dict[str, _Blocker], key: str, label: str, repo: str, version: str | None = None) -> None:
    b = table.setdefault(key, _Blocker(key))
    if label not in b.workloads:
        b.workloads.append(label)
    b.repositories.add(repo)
    if version:
        b.versions.add(version)


def _blocking_images(w: dict[str, Any]) -> Iterator[str]:
    """Images of an amd64-bound workload that hold it there: x86-only ones, and arm64-ready ones
    that CI builds for linux/amd64 only. Keyed by name without tag, so versions aggregate."""
    reasons = w["placement"]["reasons"]
    for image in w["images"]:
        ref = image["ref"]
        amd64_build = any(r.startswith(f"{ref} ") and "amd64 only" in r for r in reasons)
        if image["arm64"] is False or amd64_build:
            yield images.name_of(ref) or ref


def merge(inputs: Sequence[RepoReport], title: str) -> dict[str, Any]:
    deps: dict[str, _Blocker] = {}
    bases: dict[str, _Blocker] = {}
    workload_images: dict[str, _Blocker] = {}
    workloads_out = []
    for r in inputs:
        rep = r.report
        candidates = [d for d in rep["dependencies"] if d["status"] in BLOCKING_STATUSES]
        for d in candidates:
            if d["status"] == "unavailable":
                b = deps.setdefault(d["name"], _Blocker(d["name"]))
                b.repositories.add(r.name)
                if d["version"]:
                    b.versions.add(d["version"])
        ids = [w["id"] for w in rep["workloads"]]
        for w in rep["workloads"]:
            rec = w["placement"]["recommendation"]
            reasons = w["placement"]["reasons"]
            source = w.get("source") or w["path"]  # reports before 0.x have no source
            workloads_out.append(
                {
                    "repository": r.name,
                    "id": w["id"],
                    "source": source,
                    "recommendation": rec,
                    "current": list(w["placement"]["current"]),
                    "reason": reasons[0] if reasons else None,
                }
            )
            if rec != "amd64":
                continue
            # One row per deployed workload: an id that several overlays or releases render is
            # told apart by its source, so each counts.
            label = f"{r.name}: {w['id']}" + (f" ({source})" if ids.count(w["id"]) > 1 else "")
            texts = _texts(w)
            for d in candidates:
                where = f"{d['path']}:{d['line']}:" if d["line"] else None
                if any((where and where in t) or _mentions(d["name"], t) for t in texts):
                    _hit(deps, d["name"], label, r.name, d["version"])
            for t in texts:
                if _POSITIVE.search(t):
                    continue
                for m in _BASE_IMAGE.finditer(t):
                    _hit(bases, m.group(1), label, r.name)
            for name in _blocking_images(w):
                _hit(workload_images, name, label, r.name)
    repos = [_repository(r) for r in inputs]
    by_rec = {k: sum(x["by_recommendation"][k] for x in repos) for k in RECOMMENDATIONS}
    total = sum(x["workloads"] for x in repos)
    ready = sum(x["arm64_ready"] for x in repos)
    return {
        "fleet_schema_version": FLEET_SCHEMA_VERSION,
        "tool": {"name": "archlint", "version": __version__},
        "title": title,
        "totals": {
            "repositories": len(repos),
            "workloads": total,
            "by_recommendation": by_rec,
            "arm64_ready": ready,
            "arm64_ready_share": _share(ready, total),
            "errors": sum(x["errors"] for x in repos),
            "warnings": sum(x["warnings"] for x in repos),
            "dependencies": sum(x["dependencies"] for x in repos),
            "blocking_dependencies": len([b for b in deps.values() if b.repositories]),
        },
        "repositories": repos,
        "blockers": {
            "dependencies": _rank(deps.values(), "name"),
            "base_images": _rank(bases.values(), "image"),
            "images": _rank(workload_images.values(), "image"),
        },
        "workloads": workloads_out,
    }
