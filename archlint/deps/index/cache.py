"""A disk cache for index responses with HTTP caching semantics.

Each entry keeps the validators (ETag, Last-Modified) and freshness (Cache-Control max-age,
Expires) of the response, plus the *parsed* page in marshal form, so a warm run neither
re-downloads nor re-parses multi-megabyte JSON. Entries are read and written through `archlint.cachefile`
(a damaged or planted entry is a miss, and is replaced). A stale entry is revalidated with a
conditional request; `no-store` responses are never written. Responses without any freshness
information (some mirrors send none) are fresh for DEFAULT_TTL, PyPI's own max-age.
"""

from __future__ import annotations

import email.utils
import hashlib
import marshal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archlint.cachefile import read_entry, write_entry

DEFAULT_TTL = 600.0
_FORMAT = 4  # bump when the payload layout changes
MAX_ENTRY_BYTES = 64 * 1024 * 1024  # a parsed page is about a third of its JSON (capped at 64 MB too)


@dataclass
class Entry:
    url: str
    stored_at: float
    max_age: float  # seconds of freshness from stored_at
    etag: str | None
    last_modified: str | None
    must_revalidate: bool  # Cache-Control: no-cache
    payload: Any

    def fresh(self, now: float | None = None) -> bool:
        if self.must_revalidate:
            return False
        return (now if now is not None else time.time()) < self.stored_at + self.max_age

    def conditional_headers(self) -> dict[str, str]:
        h = {}
        if self.etag:
            h["If-None-Match"] = self.etag
        if self.last_modified:
            h["If-Modified-Since"] = self.last_modified
        return h


def _directives(headers: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for part in headers.get("Cache-Control", "").split(","):
        k, _, v = part.strip().partition("=")
        if k:
            out[k.lower()] = v.strip().strip('"')
    return out


def freshness(headers: Mapping[str, str], default_ttl: float = DEFAULT_TTL) -> tuple[float, bool, bool]:
    """(max_age seconds, must_revalidate, storable) for a response's headers (RFC 9111)."""
    cc = _directives(headers)
    if "no-store" in cc:
        return 0.0, True, False
    no_cache = "no-cache" in cc
    age = _float(headers.get("Age")) or 0.0
    for key in ("s-maxage", "max-age"):
        if key in cc:
            v = _float(cc[key])
            if v is not None:
                return max(0.0, v - age), no_cache, True
    expires = headers.get("Expires")
    if expires:
        exp = _http_date(expires)
        date = _http_date(headers.get("Date", "")) or time.time()
        return (max(0.0, exp - date) if exp is not None else 0.0), no_cache, True
    return default_ttl, no_cache, True


def _float(v: str | None) -> float | None:
    try:
        return float(v) if v is not None else None
    except ValueError:
        return None


def _http_date(v: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(v).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


class HttpCache:
    def __init__(self, directory: Path, default_ttl: float = DEFAULT_TTL) -> None:
        self.directory = directory
        self.default_ttl = default_ttl

    def _path(self, url: str) -> Path:
        key = _key(url)
        return self.directory / key[:2] / f"{key}.marshal"

    def get(self, url: str) -> Entry | None:
        data = read_entry(self._path(url), MAX_ENTRY_BYTES)
        if data is None:
            return None
        try:
            raw = marshal.loads(data)
            if raw.get("format") != _FORMAT or raw.get("key") != _key(url):
                return None
            return Entry(
                url=url,
                stored_at=raw["stored_at"],
                max_age=raw["max_age"],
                etag=raw["etag"],
                last_modified=raw["last_modified"],
                must_revalidate=raw["must_revalidate"],
                payload=raw["payload"],
            )
        except (ValueError, EOFError, TypeError, KeyError, AttributeError):
            return None  # another layout (a foreign marshal version): a miss, overwritten by the next store

    def fingerprint(self, url: str) -> tuple[str, int, int, float] | None:
        """(file, mtime_ns, size, fresh until) of the stored entry, for results derived from it."""
        entry = self.get(url)
        if entry is None:
            return None
        path = self._path(url)
        try:
            st = path.stat()
        except OSError:
            return None
        return str(path), st.st_mtime_ns, st.st_size, entry.stored_at + entry.max_age

    def put(self, url: str, headers: Mapping[str, str], payload: Any) -> Entry | None:
        max_age, must_revalidate, storable = freshness(headers, self.default_ttl)
        entry = Entry(
            url=url,
            stored_at=time.time(),
            max_age=max_age,
            etag=headers.get("ETag"),
            last_modified=headers.get("Last-Modified"),
            must_revalidate=must_revalidate,
            payload=payload,
        )
        if storable and (max_age > 0 or entry.etag or entry.last_modified):
            self._write(entry)
        return entry

    def refresh(self, entry: Entry, headers: Mapping[str, str]) -> Entry:
        """After a 304: the stored body stays, freshness restarts (updated validators win)."""
        max_age, must_revalidate, storable = freshness(headers, self.default_ttl)
        entry.stored_at = time.time()
        entry.max_age = max_age
        entry.must_revalidate = must_revalidate
        entry.etag = headers.get("ETag") or entry.etag
        entry.last_modified = headers.get("Last-Modified") or entry.last_modified
        if storable:
            self._write(entry)
        return entry

    def _write(self, entry: Entry) -> None:
        path = self._path(entry.url)
        data = marshal.dumps(
            {
                "format": _FORMAT,
                "key": _key(entry.url),  # never the URL itself: it may carry credentials
                "stored_at": entry.stored_at,
                "max_age": entry.max_age,
                "etag": entry.etag,
                "last_modified": entry.last_modified,
                "must_revalidate": entry.must_revalidate,
                "payload": entry.payload,
            }
        )
        write_entry(path, data)  # atomic: concurrent runs never read a partial entry
