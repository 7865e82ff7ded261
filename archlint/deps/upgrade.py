"""The smallest upgrade that installs from wheels on every target, checked for advisories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from packaging.version import InvalidVersion, Version

from archlint.deps.availability import all_wheels, classify
from archlint.deps.index.interface import Project
from archlint.deps.vulns.interface import VulnerabilityServiceError, VulnerabilitySource
from archlint.facts import Suggestion, Target

# How many candidate versions to put to the vulnerability service before giving up on
# finding a clean one (each is one request).
MAX_VULN_QUERIES = 6


@dataclass
class Candidates:
    ordered: list[Version]  # smallest first, same major version first
    newest: Version | None
    skipped: list[tuple[str, list[str]]] = field(default_factory=list)  # (version, advisory ids)


def candidates(project: Project, current: str, targets: Sequence[Target]) -> Candidates:
    """Releases newer than `current` whose non-yanked files give every target a wheel
    (requires-python is honoured per file by `classify`)."""
    try:
        cur = Version(current)
    except InvalidVersion:
        return Candidates([], None)
    good: list[Version] = []
    for raw, files in project.releases.items():
        try:
            v = Version(raw)
        except InvalidVersion:
            continue
        if v <= cur or (v.is_prerelease and not cur.is_prerelease):
            continue
        if all_wheels({t: classify(files, t) for t in targets}):
            good.append(v)
    good.sort()
    same = [v for v in good if v.major == cur.major]
    return Candidates(same + [v for v in good if v.major != cur.major], good[-1] if good else None)


def suggest(project: Project, current: str, targets: Sequence[Target], vulns: VulnerabilitySource) -> Suggestion | None:
    found = candidates(project, current, targets)
    if not found.ordered:
        return None
    labels = ", ".join(t.label for t in targets)
    newest = str(found.newest) if found.newest else None
    chosen: Version | None = None
    chosen_advisories: list[str] | None = None
    unknown_reason = ""
    for v in found.ordered[:MAX_VULN_QUERIES]:
        try:
            advisories = vulns.advisories(project.name, str(v))
        except VulnerabilityServiceError as e:
            chosen, chosen_advisories, unknown_reason = v, None, str(e)
            break
        ids = [a.id for a in advisories]
        if not ids:
            chosen, chosen_advisories = v, []
            break
        found.skipped.append((str(v), ids))
    if chosen is None:
        # Every candidate we asked about has advisories: suggest the smallest and name them.
        first, ids = found.skipped[0]
        return Suggestion(
            version=first,
            reason=f"{first} is the smallest release with wheels for {labels} (newest: {newest}); "
            f"it has known vulnerabilities: {', '.join(ids)} — and so do {_skipped(found.skipped[1:])}",
            vulnerabilities=ids,
            newest=newest,
        )
    reason = f"{chosen} is the smallest release with wheels for {labels}"
    if found.ordered[0].major == Version(current).major and chosen.major != Version(current).major:
        reason += " (none within the current major version is free of known vulnerabilities)"
    if newest and newest != str(chosen):
        reason += f"; newest: {newest}"
    if found.skipped:
        reason += f"; skipped {_skipped(found.skipped)}"
    if chosen_advisories is None:
        reason += f"; vulnerability status unknown ({unknown_reason})"
    else:
        reason += f"; no known vulnerabilities in {chosen} ({vulns.name})"
    return Suggestion(version=str(chosen), reason=reason, vulnerabilities=chosen_advisories, newest=newest)


def _skipped(items: list[tuple[str, list[str]]]) -> str:
    return ", ".join(f"{v} ({', '.join(ids)})" for v, ids in items) or "no other candidate"
