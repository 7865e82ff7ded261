"""Pieces the lockfile parsers share: entry positions, file names and hashes, per-entry errors."""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.utils import canonicalize_name

from archlint.deps.sources.interface import SourceResult
from archlint.deps.sources.tomltext import TomlText
from archlint.facts import Dependency
from archlint.findings import Finding


@dataclass(frozen=True)
class Entry:
    """Where one lock entry is written: the line of its `name = ...` key (else its header)."""

    line: int | None
    column: int = 1
    end_column: int | None = None


def toml_entries(tt: TomlText, header: str) -> list[Entry]:
    out = []
    for start, end in tt.array_tables(header):
        off = tt.key("name", start, end)
        line = tt.line_of(start if off is None else off)
        out.append(Entry(line, 1, tt.line_end_column(line)))
    return out


def entry_at(entries: list[Entry], i: int) -> Entry:
    # Entries written inline (package = [{...}]) have no headers to count: no line then.
    return entries[i] if i < len(entries) else Entry(None)


def file_name(url_or_path: object) -> str | None:
    """The file name at the end of a URL or path; raises ValueError for a URL that cannot be
    parsed (`http://[::1` is an invalid IPv6 host)."""
    if not isinstance(url_or_path, str) or not url_or_path:
        return None
    name = PurePosixPath(urllib.parse.unquote(urllib.parse.urlparse(url_or_path).path)).name
    return name or None


def file_ref(url: object, hashes: object) -> tuple[str, str | None, str | None] | None:
    """(file name, http(s) URL, sha256) of one file a lockfile records with a URL, else None."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return None
    try:
        name = file_name(url)
    except ValueError:
        return None
    if not name:
        return None
    sha = next((h.split(":", 1)[1].lower() for h in hash_strings(hashes) if h.lower().startswith("sha256:")), None)
    return name, url, sha


def file_names(values: Iterable[object], result: SourceResult, rel: str, entry: Entry, what: str) -> list[str]:
    """`file_name` of each value; an unparsable URL is an ARCH002 on the entry, and skipped."""
    out = []
    for v in values:
        try:
            name = file_name(v)
        except ValueError as e:
            bad_entry(result, rel, entry, what, f"invalid URL {str(v)[:200]!r} ({e})")
            continue
        if name:
            out.append(name)
    return out


def hash_strings(hashes: object) -> list[str]:
    """ "sha256:..." strings from a {algo = value} table or a "algo:value" / "algo=value" string."""
    if isinstance(hashes, Mapping):
        return [f"{k}:{v}" for k, v in hashes.items() if isinstance(v, str)]
    if isinstance(hashes, str) and hashes:
        return [hashes.replace("=", ":", 1) if ":" not in hashes else hashes]
    return []


def strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def tables(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def bad_entry(result: SourceResult, rel: str, entry: Entry, what: str, message: str) -> None:
    result.findings.append(
        Finding(rule="ARCH002", message=f"{what}: {message}", path=rel, line=entry.line or 1, key=f"entry:{message}")
    )


def locked(
    name: object,
    version: object,
    rel: str,
    entry: Entry,
    source: str,
    *,
    marker: object = None,
    files: Iterable[str] = (),
    hashes: Iterable[str] = (),
    url: str | None = None,
    editable: bool = False,
    extras: Iterable[str] = (),
    file_refs: Iterable[tuple[str, str | None, str | None]] = (),
) -> Dependency:
    """A Dependency for one locked package; the caller has checked that `name` is a string."""
    ver = version if isinstance(version, str) and version else None
    return Dependency(
        name=canonicalize_name(str(name)),
        version=ver,
        specifier=f"=={ver}" if ver else "",
        path=rel,
        line=entry.line,
        source=source,
        marker=normal_marker(marker),
        extras=tuple(sorted(set(extras))),
        files=tuple(dict.fromkeys(files)),
        file_refs=tuple(file_refs),
        hashes=tuple(dict.fromkeys(hashes)),
        url=url,
        editable=editable,
        column=entry.column,
        end_column=entry.end_column,
    )


def as_table(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def normal_marker(marker: object) -> str | None:
    """The marker in packaging's normal form (double quotes), so every source spells it alike;
    a marker packaging cannot parse is kept as written."""
    if not isinstance(marker, str) or not marker.strip():
        return None
    return _normal_marker(marker)


@functools.lru_cache(maxsize=4096)  # a lock repeats a handful of markers on hundreds of entries
def _normal_marker(marker: str) -> str:
    try:
        return str(Marker(marker))
    except InvalidMarker:
        return marker.strip()
