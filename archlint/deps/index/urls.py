"""Which indexes to ask, in order, and how to name them without leaking credentials."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit, urlunsplit

PYPI_SIMPLE = "https://pypi.org/simple/"
_USERINFO = re.compile(r"(?<=//)[^/@\s]+@")


def redact(text: str) -> str:
    """Hide user:password@ (or token@) in every URL inside `text`."""
    return _USERINFO.sub("***@", text)


def host_of(url: str) -> str:
    """`url` without credentials, query or fragment; the port is kept (two indexes on one host
    differ only by it)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _split(value: str | None) -> list[str]:
    return [u for u in (value or "").split() if u]


def index_urls(
    config_index: str | None,
    config_extra: Sequence[str],
    file_urls: Iterable[str],
    environ: os._Environ[str] | dict[str, str] | None = None,
) -> list[str]:
    """Primary index first, then extras, deduplicated.

    Primary: config `index-url`, else PIP_INDEX_URL, else UV_INDEX_URL (uv's variable may hold
    several, space-separated), else PyPI. The requirement files' own `--index-url` /
    `--extra-index-url` lines and the extra-index variables are asked too, as pip merges them.
    A configured primary replaces PyPI everywhere, including a lockfile's record that its
    packages came from pypi.org: users behind a mirror expect no traffic to PyPI.
    """
    env = os.environ if environ is None else environ
    primary: list[str] = []
    if config_index:
        primary = [config_index]
    elif env.get("PIP_INDEX_URL"):
        primary = _split(env.get("PIP_INDEX_URL"))
    elif env.get("UV_INDEX_URL"):
        primary = _split(env.get("UV_INDEX_URL"))
    extras = [
        *config_extra,
        *file_urls,
        *_split(env.get("PIP_EXTRA_INDEX_URL")),
        *_split(env.get("UV_EXTRA_INDEX_URL")),
        *_split(env.get("UV_INDEX")),
    ]
    urls = primary or [PYPI_SIMPLE]
    if primary:
        extras = [u for u in extras if _norm(u) not in _PYPI_ALIASES]
    out: list[str] = []
    seen: set[str] = set()
    for u in [*urls, *extras]:
        n = _norm(u)
        if n and n not in seen:
            seen.add(n)
            out.append(u if u.endswith("/") else u + "/")
    return out


def _norm(url: str) -> str:
    return url.strip().rstrip("/")


_PYPI_ALIASES = frozenset({"https://pypi.org/simple", "https://pypi.python.org/simple"})
