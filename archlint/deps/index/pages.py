"""PEP 691 project pages: parsed into the compact form the cache keeps, and read back lazily.

No HTTP here (simple_json.py fetches), so an offline run answered from the cache never imports
requests (~45 ms of a pre-commit run's start-up)."""

from __future__ import annotations

import functools
import json
import marshal
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urljoin

from packaging.utils import canonicalize_name
from packaging.version import Version

from archlint.deps.index.interface import BadIndexResponse, DistFile
from archlint.deps.index.urls import redact

ACCEPT = "application/vnd.pypi.simple.v1+json"
MAX_BODY = 64 * 1024 * 1024  # the largest real pages (boto3, botocore) are ~10 MB
DEFAULT_TIMEOUT = 10.0  # seconds for a whole request: connect, headers and body (config index-timeout)
DEFAULT_WORKERS = 16
_SDIST_EXTS = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar")

# The cached form of a page: {normalised version: marshal([the index's file dicts, ...])}.
# One blob per release keeps a warm run cheap: it decodes only the releases it looks at; a cold
# run only groups the files by version (the fields of a file are read when its release is).
Page = dict[str, bytes]


def _dist_file(f: dict[str, Any]) -> DistFile | None:
    """A PEP 691 file entry as a DistFile (None: not a usable entry)."""
    fn = f.get("filename")
    if type(fn) is not str:
        return None
    hashes = f.get("hashes")
    sha = hashes.get("sha256") if type(hashes) is dict else None
    rp = f.get("requires-python")
    link = f.get("url")
    # PEP 714: "core-metadata", else the older "dist-info-metadata"; false, true or {hash: value}.
    cm = f.get("core-metadata", f.get("dist-info-metadata"))
    meta = None
    if cm:
        digest = cm.get("sha256") if type(cm) is dict else None
        meta = digest if type(digest) is str else ""
    size = f.get("size")
    # PEP 592: "yanked" is false, true or a reason string.
    return DistFile(fn, bool(f.get("yanked")), rp if type(rp) is str else None, sha if type(sha) is str else None,
                    link if type(link) is str else None, meta, size if type(size) is int else None)  # fmt: skip


class LazyReleases(Mapping[str, tuple[DistFile, ...]]):
    """Releases decoded on first access (a page may hold thousands of files; a pin needs one release)."""

    def __init__(self, blobs: Mapping[str, list[bytes]]) -> None:
        self._blobs = blobs
        self._decoded: dict[str, tuple[DistFile, ...]] = {}

    def __getitem__(self, version: str) -> tuple[DistFile, ...]:
        hit = self._decoded.get(version)
        if hit is None:
            hit = tuple(f for blob in self._blobs[version] for f in _decode(blob))
            self._decoded[version] = hit
        return hit

    def __iter__(self) -> Iterator[str]:
        return iter(self._blobs)

    def __len__(self) -> int:
        return len(self._blobs)


def _decode(blob: bytes) -> list[DistFile]:
    """One release's files; a damaged blob (a cache entry altered on disk) is a release without files."""
    try:
        rows = marshal.loads(blob)
        files = [_dist_file(f) for f in rows if type(f) is dict]
    except (EOFError, ValueError, TypeError):
        return []
    return [f for f in files if f is not None]


def releases(*pages: Page) -> LazyReleases:
    merged: dict[str, list[bytes]] = {}
    for page in pages:
        for v, blob in page.items():
            merged.setdefault(v, []).append(blob)
    return LazyReleases(merged)


def _raw_version(filename: str, project: str | None = None) -> str | None:
    if filename.endswith(".whl"):
        parts = filename.split("-", 2)
        return parts[1] if len(parts) == 3 else None
    for ext in _SDIST_EXTS:
        if filename.endswith(ext):
            stem = filename[: -len(ext)]
            if "-" not in stem:
                return None
            name, version = stem.rsplit("-", 1)
            if project is None or _canonical(name) == project:
                return version or None
            # As pip: the version starts after the first dash whose prefix is the project's name
            # (rare: a version with a dash in it, or a file of another project).
            for i, c in enumerate(stem):
                if c == "-" and _canonical(stem[:i]) == project:
                    return stem[i + 1 :] or None
            return None
    return None  # eggs, installers: pip does not install these


@functools.lru_cache(maxsize=4096)
def _canonical(name: str) -> str:
    return canonicalize_name(name)


def _normalise(raw: str) -> str | None:
    try:
        return str(Version(raw))
    except ValueError:  # InvalidVersion, or a release number too long for int() (thousands of digits)
        return None


def is_page(payload: object) -> bool:
    return isinstance(payload, dict) and all(type(k) is str and type(v) is bytes for k, v in payload.items())


def parse_page(body: bytes, url: str) -> Page:
    """PEP 691 JSON -> compact page; BadIndexResponse for anything else.

    This loop runs over every file of every release (10^5 files for the biggest projects),
    so it stays deliberately flat: it only groups the entries by version.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadIndexResponse(f"{redact(url)}: invalid JSON ({e})") from None
    except RecursionError:
        raise BadIndexResponse(f"{redact(url)}: JSON nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise BadIndexResponse(f"{redact(url)}: not a PEP 691 project page (no 'files' list)")
    api = str((data.get("meta") or {}).get("api-version", "1.0"))
    if not api.startswith("1."):
        raise BadIndexResponse(f"{redact(url)}: unsupported simple API version {api}")
    grouped: dict[str, list[dict[str, Any]]] = {}
    versions: dict[str, str | None] = {}  # raw version text -> normalised (or None: invalid)
    name = data.get("name")
    project = canonicalize_name(name) if type(name) is str else None
    for f in data["files"]:
        try:
            raw = _raw_version(f["filename"], project)
        except (TypeError, KeyError, AttributeError):
            continue
        if raw is None:
            continue
        v = versions.get(raw, "")
        if v == "":
            v = versions[raw] = _normalise(raw)
        if v is None:
            continue
        link = f.get("url")
        if type(link) is str and "://" not in link:
            f = {**f, "url": urljoin(url, link)}  # PEP 691 allows URLs relative to the page
        files = grouped.get(v)
        if files is None:
            grouped[v] = [f]
        else:
            files.append(f)
    try:
        return {v: marshal.dumps(files) for v, files in grouped.items()}
    except ValueError:  # JSON only holds marshal-able types; never trust that blindly
        raise BadIndexResponse(f"{redact(url)}: unexpected values in the file entries") from None
