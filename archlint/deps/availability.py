"""Per-target availability of one release, and the dependency status DESIGN.md defines."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import parse_wheel_filename

from archlint.deps.index.interface import DistFile
from archlint.deps.targets import ARM64, full_python, marker_applies, tag_set
from archlint.facts import (
    NEEDS_BUILD,
    NOT_APPLICABLE,
    OK,
    T_NONE,
    T_PURE,
    T_SDIST,
    T_UNKNOWN,
    T_WHEEL,
    UNAVAILABLE,
    UNKNOWN,
    Target,
)

_RANK = {T_NONE: 0, T_SDIST: 1, T_PURE: 2, T_WHEEL: 3}


@functools.lru_cache(maxsize=65536)
def wheel_tags(filename: str) -> frozenset[Tag] | None:
    try:
        return parse_wheel_filename(filename)[3]
    except ValueError:  # InvalidWheelFilename, or a version too long for int()
        return None


@functools.lru_cache(maxsize=4096)
def python_allowed(requires_python: str | None, python: str) -> bool:
    if not requires_python:
        return True
    try:
        # The target "3.11" is the newest 3.11 patch release (targets.full_python).
        return SpecifierSet(requires_python).contains(full_python(python), prereleases=True)
    except ValueError:  # InvalidSpecifier, or a version too long for int() (an index's data)
        return True  # pip ignores an invalid Requires-Python too


def classify(files: Iterable[DistFile], target: Target, hashes: frozenset[str] | None = None) -> str:
    """wheel | pure | sdist | none for one release on one target.

    Yanked files never count; with `hashes` (hash-checking mode), only files whose sha256 is
    listed do, exactly as pip would refuse any other file.
    """
    best = T_NONE
    accepted = tag_set(target)
    for f in files:
        if f.yanked or (hashes is not None and (f.sha256 or "") not in hashes):
            continue
        if not python_allowed(f.requires_python, target.python):
            continue
        if f.filename.endswith(".whl"):
            tags = wheel_tags(f.filename)
            match = tags & accepted if tags else frozenset()
            if not match:
                continue
            kind = T_PURE if all(t.platform == "any" for t in match) else T_WHEEL
        else:
            kind = T_SDIST
        if _RANK[kind] > _RANK[best]:
            best = kind
            if best == T_WHEEL:
                break
    return best


def applicable(marker: str | None, targets: Sequence[Target]) -> list[Target]:
    return [t for t in targets if marker_applies(marker, t)]


def status_of(per_target: Mapping[Target, str]) -> str:
    """The dependency status from its per-target answers (applicable targets only).

    Only arm64 targets decide: ok = every arm64 target gets a wheel; needs-build = one gets only
    an sdist; unavailable = one gets nothing; unknown = one could not be answered (never ok).
    """
    arm = [v for t, v in per_target.items() if t.platform == ARM64]
    if not arm:
        return NOT_APPLICABLE
    if T_NONE in arm:
        return UNAVAILABLE
    if T_UNKNOWN in arm:
        return UNKNOWN
    if T_SDIST in arm:
        return NEEDS_BUILD
    return OK


def all_wheels(per_target: Mapping[Target, str]) -> bool:
    return bool(per_target) and all(v in (T_WHEEL, T_PURE) for v in per_target.values())


def release_files(
    files: Iterable[str], refs: Iterable[tuple[str, str | None, str | None]] = ()
) -> tuple[DistFile, ...]:
    """Lockfile file names as DistFiles (lockfiles do not list yanked files), with the URL and
    sha256 the lockfile records for each, where it does."""
    known = {name: (url, sha) for name, url, sha in refs}
    return tuple(DistFile(name, url=known.get(name, (None, None))[0], sha256=known.get(name, (None, None))[1])
                 for name in files)  # fmt: skip
