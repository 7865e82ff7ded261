"""Which environments a dependency file must install into, and what each one accepts.

A target is a (platform, Python, libc) triple. Python versions come, in order, from
`--python`/config, the build context's base image (a RuntimeHint), `.python-version`,
`requires-python`, else 3.12. Every arm64 target gets an amd64 twin with the same Python and
libc, so a package that builds from source everywhere is not mistaken for an arm64 gap.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging import tags
from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from archlint.facts import RuntimeHint, Target

DEFAULT_PYTHON = "3.12"
DEFAULT_GLIBC = "2.36"
DEFAULT_MUSL = "1.2"
ARM64 = "linux/arm64"
AMD64 = "linux/amd64"
# Minor versions considered when narrowing requires-python to one interpreter.
KNOWN_PYTHONS = tuple(f"3.{m}" for m in range(8, 15))
_MACHINE = {"arm64": "aarch64", "amd64": "x86_64"}
# The oldest manylinux glibc each architecture has wheels for (manylinux2014 / manylinux1).
_GLIBC_FLOOR = {"aarch64": 17, "x86_64": 5}
_LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}


@dataclass(frozen=True)
class TargetSet:
    """The targets for one directory, and where the Python version came from."""

    targets: tuple[Target, ...]
    origin: str  # "--python", "Dockerfile:1: FROM python:3.11-slim", ".python-version", ...

    @property
    def arm64(self) -> tuple[Target, ...]:
        return tuple(t for t in self.targets if t.platform == ARM64)


def _version_tuple(v: str, default: tuple[int, int]) -> tuple[int, int]:
    parts = v.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return default


def platform_tags(t: Target) -> list[str]:
    """Platform tags a pip on this target accepts, most specific first."""
    machine = _MACHINE[t.arch]
    out: list[str] = []
    if t.libc == "musl":
        major, minor = _version_tuple(t.libc_version, (1, 2))
        out = [f"musllinux_{major}_{m}_{machine}" for m in range(minor, -1, -1)]
    else:
        _, minor = _version_tuple(t.libc_version, (2, 36))
        for m in range(minor, _GLIBC_FLOOR[machine] - 1, -1):
            out.append(f"manylinux_2_{m}_{machine}")
            if m in _LEGACY_MANYLINUX:
                out.append(f"{_LEGACY_MANYLINUX[m]}_{machine}")
    out.append(f"linux_{machine}")
    return out


@functools.lru_cache(maxsize=64)
def tag_priority(t: Target) -> dict[tags.Tag, int]:
    """Every wheel tag CPython `t.python` on `t` installs (binary, abi3 and pure), mapped to its
    rank in pip's order of preference (0 = most preferred), as `pip debug --verbose` lists them."""
    major, minor = _version_tuple(t.python, (3, 12))
    interp = f"cp{major}{minor}"
    plats = platform_tags(t)
    ordered = [*tags.cpython_tags((major, minor), abis=[interp], platforms=plats),
               *tags.compatible_tags((major, minor), interp, plats)]  # fmt: skip
    out: dict[tags.Tag, int] = {}
    for i, tag in enumerate(ordered):
        out.setdefault(tag, i)
    return out


@functools.lru_cache(maxsize=64)
def tag_set(t: Target) -> frozenset[tags.Tag]:
    """Every wheel tag CPython `t.python` on `t` installs (binary, abi3 and pure)."""
    return frozenset(tag_priority(t))


# A target "3.11" is the newest 3.11 release, as `FROM python:3.11` and setup-python give: a
# patch number above any real one, so that Requires-Python ">=3.11.5" (soupsieve 4.1) admits it
# and `python_full_version < "3.11.3"` (redis) does not, as on the real image. (pip and uv read
# `--python-version 3.11` as 3.11.0 and pick older releases for such cut-offs.)
NEWEST_PATCH = 99


def full_python(python: str) -> str:
    """'3.11' -> '3.11.99': the newest patch release of that minor version (see NEWEST_PATCH)."""
    return python if python.count(".") >= 2 else f"{python}.{NEWEST_PATCH}"


def marker_environment(t: Target) -> dict[str, str]:
    return {
        "implementation_name": "cpython",
        "implementation_version": full_python(t.python),
        "os_name": "posix",
        "platform_machine": _MACHINE[t.arch],
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": full_python(t.python),
        "platform_python_implementation": "CPython",
        "python_version": t.python,
        "sys_platform": "linux",
        "extra": "",
    }


def marker_applies(marker: str | None, t: Target) -> bool:
    """Whether `marker` selects target `t`; an unparsable marker is assumed to apply (we would
    rather check a dependency needlessly than skip a real one)."""
    if not marker:
        return True
    try:
        return bool(Marker(marker).evaluate(marker_environment(t)))
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return True


def python_from_requires(spec: str) -> str | None:
    """One interpreter for a requires-python range: the default if allowed, else the newest allowed."""
    try:
        ss = SpecifierSet(spec)
    except InvalidSpecifier:
        return None
    if ss.contains(DEFAULT_PYTHON):
        return DEFAULT_PYTHON
    allowed = [p for p in KNOWN_PYTHONS if ss.contains(p)]
    return allowed[-1] if allowed else None


def python_from_version_file(lines: Iterable[str]) -> str | None:
    """'3.11.4' / '3.11' -> '3.11'; pyenv names that are not CPython versions are skipped."""
    for raw in lines:
        v = raw.strip()
        parts = v.split(".")
        if len(parts) >= 2 and parts[0] == "3" and parts[1].isdigit():
            return f"3.{parts[1]}"
    return None


def nearest(directory: str, by_dir: Mapping[str, object]) -> str | None:
    """The key of `by_dir` that is `directory` or its closest ancestor ("." is the root)."""
    d = directory
    while True:
        if d in by_dir:
            return d
        if d in ("", "."):
            return None
        d = d.rsplit("/", 1)[0] if "/" in d else "."


def nearest_hint(directory: str, hints: Sequence[RuntimeHint]) -> RuntimeHint | None:
    by_dir: dict[str, RuntimeHint] = {}
    for h in hints:
        by_dir.setdefault(h.directory or ".", h)
    key = nearest(directory, by_dir)
    return by_dir[key] if key is not None else None


def build_targets(
    pythons: Sequence[str],
    libc: str,
    libc_version: str | None,
    origin: str,
    platforms: Sequence[str] = (ARM64, AMD64),
) -> TargetSet:
    version = libc_version or (DEFAULT_MUSL if libc == "musl" else DEFAULT_GLIBC)
    out = [Target(p, py, libc, version) for py in dict.fromkeys(pythons) for p in platforms]
    return TargetSet(tuple(out), origin)


def resolve(
    directory: str,
    *,
    cli_pythons: Sequence[str],
    glibc: str | None,
    hints: Sequence[RuntimeHint],
    version_files: Mapping[str, str],
    requires_python: Mapping[str, str],
    platforms: Sequence[str] = (ARM64, AMD64),
) -> TargetSet:
    """The targets for dependency files in `directory` (see the module docstring for the order)."""
    hint = nearest_hint(directory, hints)
    libc = hint.libc if hint else "glibc"
    libc_version = hint.libc_version if hint else None
    if libc == "glibc" and glibc:  # an explicit config `glibc` outranks the base image, as `python` does
        libc_version = glibc
    if cli_pythons:
        return build_targets(cli_pythons, libc, libc_version, "--python/config", platforms)
    if hint and hint.python:
        return build_targets([hint.python], libc, libc_version, hint.source, platforms)
    key = nearest(directory, version_files)
    if key is not None:
        return build_targets([version_files[key]], libc, libc_version, f"{_join(key, '.python-version')}", platforms)
    key = nearest(directory, requires_python)
    if key is not None:
        py = python_from_requires(requires_python[key])
        if py:
            return build_targets([py], libc, libc_version, f"requires-python {requires_python[key]!r}", platforms)
    return build_targets([DEFAULT_PYTHON], libc, libc_version, "default", platforms)


def _join(directory: str, name: str) -> str:
    return name if directory in ("", ".") else f"{directory}/{name}"
