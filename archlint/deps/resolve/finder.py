"""The version and file pip would install for one project on one target: pip's PackageFinder rules.

For each release, a file counts on a target when pip's LinkEvaluator would accept it there: its
Requires-Python (from the index) admits the target's Python, and a wheel has a tag the target
supports (any sdist is accepted: pip builds it). Versions are filtered by the specifier with
`packaging`'s own pre-release rule (pre-releases only when the specifier names one or nothing else
matches) over the versions that have a file for the target, yanked ones included, exactly as pip
passes them to `SpecifierSet.filter`. Of the matching versions, newest first, pip takes the best
non-yanked file; a yanked one only when every match is yanked and the requirement pins one
version with `==`/`===` (PEP 592, pip's resolver). Within a version, wheels rank by pip's tag
preference, then build tag; an sdist ranks below every wheel.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from archlint.deps.availability import python_allowed
from archlint.deps.index.interface import DistFile, Project
from archlint.deps.targets import tag_priority
from archlint.facts import T_PURE, T_SDIST, T_WHEEL, Target


@dataclass(frozen=True)
class Candidate:
    """One version of a project as pip would install it on one target."""

    version: Version
    file: DistFile  # the file pip picks for this version on this target
    kind: str  # T_WHEEL (binary), T_PURE or T_SDIST


@functools.lru_cache(maxsize=65536)
def _wheel(filename: str) -> tuple[str, tuple[int, str] | tuple[()], frozenset[Tag]] | None:
    try:
        name, _, build, tags = parse_wheel_filename(filename)
    except (InvalidWheelFilename, InvalidVersion):
        return None
    return str(name), build, tags


def version_or_none(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def pinned(specifier: SpecifierSet) -> bool:
    """pip's test for PEP 592: one `===`, or one `==` without a wildcard."""
    for sp in specifier:
        if sp.operator == "===" or (sp.operator == "==" and not sp.version.endswith(".*")):
            return True
    return False


class Releases:
    """A project's releases, newest first, with one TargetFinder per target (computed on demand)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._versions: list[tuple[Version, str]] | None = None
        self._finders: dict[tuple[Target, frozenset[str] | None], TargetFinder] = {}
        self._matching: dict[str, Iterable[tuple[Version, str]]] = {}

    @property
    def versions(self) -> list[tuple[Version, str]]:
        """(version, key in project.releases), newest first."""
        if self._versions is None:
            out = []
            for key in self.project.releases:
                try:
                    out.append((Version(key), key))
                except InvalidVersion:
                    continue
            out.sort(key=lambda p: p[0], reverse=True)
            self._versions = out
        return self._versions

    def matching(self, specifier: SpecifierSet) -> Iterable[tuple[Version, str]]:
        """Versions the specifier contains (pre-releases included), newest first; memoised. An exact
        `==V` looks only at the keys that can equal V, without parsing every version of the page."""
        key = str(specifier)
        hit = self._matching.get(key)
        if hit is None:
            exact = _exact_prefix(specifier)
            if exact is not None and self._versions is None:
                keys = [k for k in self.project.releases if k.startswith(exact)]
                found = []
                for k in keys:
                    try:
                        v = Version(k)
                    except InvalidVersion:
                        continue
                    if specifier.contains(v, prereleases=True):
                        found.append((v, k))
                hit = sorted(found, key=lambda p: p[0], reverse=True)
            else:
                hit = _Replay(p for p in self.versions if specifier.contains(p[0], prereleases=True))
            self._matching[key] = hit
        return hit

    def finder(self, target: Target, hashes: frozenset[str] | None = None) -> TargetFinder:
        key = (target, hashes)
        f = self._finders.get(key)
        if f is None:
            f = self._finders[key] = TargetFinder(self, target, hashes)
        return f


class TargetFinder:
    """One project on one target (optionally restricted to files with known sha256 hashes)."""

    def __init__(self, releases: Releases, target: Target, hashes: frozenset[str] | None = None) -> None:
        self.releases = releases
        self.target = target
        self.hashes = hashes
        self._name = canonicalize_name(releases.project.name)
        # version key -> (best non-yanked candidate, best yanked candidate); (None, None): no file fits
        self._best: dict[str, tuple[Candidate | None, Candidate | None]] = {}

    def evaluate(self, version: Version, key: str) -> tuple[Candidate | None, Candidate | None]:
        hit = self._best.get(key)
        if hit is not None:
            return hit
        prio = tag_priority(self.target)
        worst = len(prio)
        best: Candidate | None = None
        best_rank: tuple[int, tuple[int, str] | tuple[()]] = (-(worst + 1), ())
        yanked: Candidate | None = None
        yanked_rank = best_rank
        for f in self.releases.project.releases[key]:
            if self.hashes is not None and (f.sha256 or "") not in self.hashes:
                continue
            if not python_allowed(f.requires_python, self.target.python):
                continue
            name = f.filename
            if name.endswith(".whl"):
                parsed = _wheel(name)
                if parsed is None or parsed[0] != self._name:
                    continue
                ranks = [prio[t] for t in parsed[2] if t in prio]
                if not ranks:
                    continue
                pure = all(t.platform == "any" for t in parsed[2] if t in prio)
                rank: tuple[int, tuple[int, str] | tuple[()]] = (-min(ranks), parsed[1])
                kind = T_PURE if pure else T_WHEEL
            else:
                if name.endswith(".zip") and "macosx10" in (f.url or name):
                    continue  # pip skips these old Mac installers
                rank, kind = (-worst, ()), T_SDIST
            if f.yanked:
                if rank > yanked_rank:
                    yanked, yanked_rank = Candidate(version, f, kind), rank
            elif rank > best_rank:
                best, best_rank = Candidate(version, f, kind), rank
        hit = self._best[key] = (best, yanked)
        return hit

    def _with_files(self, versions: Iterable[tuple[Version, str]]) -> Iterator[Version]:
        for v, key in versions:
            best, yanked = self.evaluate(v, key)
            if best is not None or yanked is not None:
                yield v

    def matches(self, specifier: SpecifierSet, allow_yanked_pin: bool = True) -> Iterator[Candidate]:
        """Candidates in the order pip's resolver tries them (best first), lazily.

        Versions outside the specifier never reach `SpecifierSet.filter` (it would drop them
        anyway), so their files are never looked at; the pre-release rule sees exactly the
        matching versions that have a file for the target, as in pip."""
        keys: dict[Version, str] = {}

        def remember(pairs: Iterable[tuple[Version, str]]) -> Iterator[tuple[Version, str]]:
            for v, k in pairs:
                keys[v] = k
                yield v, k

        held: list[Candidate] = []
        found = False
        for v in specifier.filter(self._with_files(remember(self.releases.matching(specifier)))):
            best, yanked = self.evaluate(v, keys[v])
            if best is not None:
                found = True
                yield best
            elif yanked is not None and not found:
                held.append(yanked)
        if not found and allow_yanked_pin and held and pinned(specifier):
            yield from held

    def best(self, specifier: SpecifierSet) -> Candidate | None:
        return next(self.matches(specifier), None)


class _Replay(Iterable[tuple[Version, str]]):
    """A lazily computed list: every iteration replays what earlier ones produced, then goes on."""

    def __init__(self, source: Iterator[tuple[Version, str]]) -> None:
        self._source: Iterator[tuple[Version, str]] | None = source
        self._items: list[tuple[Version, str]] = []
        self._lock = threading.Lock()  # two targets' resolutions may read it at once

    def __iter__(self) -> Iterator[tuple[Version, str]]:
        i = 0
        while True:
            if i < len(self._items):
                yield self._items[i]
                i += 1
                continue
            with self._lock:
                if i < len(self._items):
                    continue
                if self._source is None:
                    return
                nxt = next(self._source, None)
                if nxt is None:
                    self._source = None
                    return
                self._items.append(nxt)


def _exact_prefix(specifier: SpecifierSet) -> str | None:
    """For a lone `==V` (no wildcard): a prefix every normalised key equal to V starts with (V's
    release without trailing zeros, so `==0.5` finds `0.5.0`); else None."""
    specs = list(specifier)
    if len(specs) != 1 or specs[0].operator != "==" or specs[0].version.endswith(".*"):
        return None
    try:
        v = Version(specs[0].version)
    except InvalidVersion:
        return None
    release = list(v.release)
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    epoch = f"{v.epoch}!" if v.epoch else ""
    return epoch + ".".join(map(str, release))


def explain(releases: Releases, specifier: SpecifierSet, target: Target) -> str:
    """Why no file of `releases` installs on `target` under `specifier` (for messages)."""
    name = releases.project.name
    matching = [(v, k) for v, k in releases.versions if specifier.contains(v, prereleases=True)]
    if not matching:
        return f"no release of {name} matches {str(specifier) or 'any version'!r}"
    finals = [(v, k) for v, k in matching if not v.is_prerelease] or matching
    v, key = finals[0]
    files = releases.project.releases[key]
    return f"{name} {v}: " + describe_files(files, target)


def describe_files(files: Sequence[DistFile], target: Target) -> str:
    """What the files of one release offer a target that cannot install any of them."""
    if not files:
        return "no files"
    if all(f.yanked for f in files):
        return "every file is yanked"
    live = [f for f in files if not f.yanked]
    sdists = [f for f in live if not f.filename.endswith(".whl")]
    py_ok = [f for f in live if python_allowed(f.requires_python, target.python)]
    parts = []
    if not py_ok:
        needs = sorted({f.requires_python or "" for f in live} - {""})
        return f"its files require Python {' or '.join(needs)} (target: {target.python})"
    wheels = [f for f in py_ok if f.filename.endswith(".whl")]
    if wheels:
        parts.append(f"no wheel for {target.label} among its {len(wheels)} wheels ({platforms(wheels)})")
    if not sdists:
        parts.append("no sdist")
    elif not any(f in py_ok for f in sdists):
        parts.append(f"its sdist requires Python {sdists[0].requires_python}")
    return ", ".join(parts) or "no installable file"


def platforms(wheels: Sequence[DistFile]) -> str:
    """A short summary of the platforms some wheels are built for, e.g. 'manylinux x86_64, win_amd64'."""
    seen: dict[str, None] = {}
    for f in wheels:
        parsed = _wheel(f.filename)
        for t in parsed[2] if parsed else ():
            plat = t.platform
            if plat.startswith(("manylinux", "musllinux")):
                family = plat.split("_", 1)[0].rstrip("0123456789")
                arch = (
                    plat.split("_", 3)[-1] if plat.startswith(("manylinux_", "musllinux_")) else plat.split("_", 1)[1]
                )
                plat = f"{family} {arch}"
            elif m := re.match(r"macosx_\d+_\d+_(.+)", plat):
                plat = f"macosx {m.group(1)}"
            elif plat == "any":
                plat = f"{t.interpreter}-none-any" if t.abi == "none" else f"{t.interpreter}-{t.abi}-any"
            seen.setdefault(plat, None)
    names = list(seen)
    return ", ".join(names[:6]) + (f", … ({len(names)} platforms)" if len(names) > 6 else "")
