"""Value checks for configuration keys and command-line options, past their type.

A check returns None when the value is usable, else what was expected (the caller names the file
and key). Accepted ranges are documented in README.md ("Configuration").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

# CPython versions with manylinux/musllinux wheels worth checking; a newer one needs a new
# archlint (its wheel tags and markers are computed from this list).
PYTHON_MINORS = range(8, 15)
PYTHONS = tuple(f"3.{m}" for m in PYTHON_MINORS)
# aarch64 support arrived in glibc 2.17 (manylinux2014, the oldest arm64 wheel tag); 2.99 leaves
# room for every release to come under the 2.x series.
GLIBC_MINORS = range(17, 100)
MAX_TIMEOUT = 600.0  # seconds: a deadline longer than ten minutes per request is a typo

_XY = re.compile(r"^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$")  # X.Y without leading zeros
_K8S = re.compile(r"^v?[1-9][0-9]{0,2}\.(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,3}))?$")


def python_version(v: str) -> str | None:
    m = _XY.match(v)
    if m is None or m.group(1) != "3" or int(m.group(2)) not in PYTHON_MINORS:
        return f"{v!r} is not a supported Python version: expected {PYTHONS[0]} to {PYTHONS[-1]} (X.Y)"
    return None


def glibc_version(v: str) -> str | None:
    m = _XY.match(v)
    if m is None or m.group(1) != "2" or int(m.group(2)) not in GLIBC_MINORS:
        first, last = GLIBC_MINORS[0], GLIBC_MINORS[-1]
        return f"{v!r} is not a glibc version archlint targets: expected 2.{first} to 2.{last}"
    return None


def timeout(v: float) -> str | None:
    if not (isinstance(v, (int, float)) and math.isfinite(v) and 0 < v <= MAX_TIMEOUT):
        return f"expected seconds, a finite number > 0 and at most {MAX_TIMEOUT:g}, got {v!r}"
    return None


def url(v: str) -> str | None:
    try:
        parts = urlsplit(v)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        ok = False
    if ok:
        return None
    from archlint.deps.index.urls import redact  # never echo credentials

    return f"{redact(v)!r} is not an http:// or https:// URL"


def _each(check: Callable[[str], str | None]) -> Callable[[str | list[str]], str | None]:
    """The check for a key that takes one string or a list of them: the first problem, if any."""

    def each(v: str | list[str]) -> str | None:
        return next((p for one in ([v] if isinstance(v, str) else v) if (p := check(one))), None)

    return each


def patterns(v: list[str]) -> str | None:
    """gitignore-style patterns, compiled as discovery compiles them."""
    import pathspec  # only a config with patterns pays for the import

    for p in v:
        try:
            pathspec.GitIgnoreSpec.from_lines([p])
        except ValueError as e:
            return f"{p!r} is not a valid gitignore-style pattern ({e})"
    return None


def _pattern_table(v: dict[str, Any]) -> str | None:
    return patterns(list(v))


def path(v: str) -> str | None:
    if not v or "\0" in v:
        return f"{v!r} is not a usable path"
    return None


def kubernetes_version(v: str) -> str | None:
    return None if _K8S.match(v) else f"{v!r} is not a Kubernetes version: expected one such as 1.30"


def _paths(v: dict[str, str]) -> str | None:
    for image, directory in v.items():
        if path(directory):
            return f"{image!r}: {directory!r} is not a usable directory"
    return None


# Run after the key's type check (config.KEYS) passed.
CHECKS: dict[str, Callable[[Any], str | None]] = {
    "python": _each(python_version),
    "glibc": glibc_version,
    "index-timeout": timeout,
    "registry-timeout": timeout,
    "index-url": url,
    "extra-index-url": _each(url),
    "osv-url": url,
    "exclude": patterns,
    "extend-exclude": patterns,
    "per-file-ignores": _pattern_table,
    "cache-dir": path,
    "kubernetes-version": kubernetes_version,
    "images": _paths,
}
