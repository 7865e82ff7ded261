"""Per-file result cache: content hash + rule-set version -> FileResult, as small JSON files.

Safe under concurrent runs: entries are written to a temporary file in the target directory and
renamed into place (atomic on POSIX and Windows), so a reader sees a whole entry or none; two
writers of one key write identical bytes. Any cache trouble (read-only, corrupt or planted entry,
full disk) degrades to recomputing, never to an error: entries go through `archlint.cachefile`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from archlint import __version__
from archlint.cachefile import read_entry, write_entry
from archlint.catalogue import rules_dir
from archlint.source.interface import FileResult


@functools.cache
def ruleset_version() -> str:
    """Changes whenever anything that shapes results changes: this package's code, the import
    knowledge base, archlint's and libcst's versions."""
    from importlib.metadata import version

    # The installed distribution's metadata, not `import libcst`: a warm run that parses nothing
    # must not pay half a second to import the parser.
    h = hashlib.sha256(f"{__version__}\0{version('libcst')}\0".encode())
    here = Path(__file__).resolve().parent
    for p in sorted(here.rglob("*.py")):
        h.update(p.relative_to(here).as_posix().encode() + b"\0" + p.read_bytes())
    h.update(rules_dir().joinpath("kb", "x86_imports.toml").read_bytes())
    return h.hexdigest()[:16]


def salt(max_bytes: int) -> bytes:
    return f"{max_bytes}\0".encode()


def content_key(kind: str, data: bytes, salt: bytes) -> str:
    h = hashlib.blake2b(salt + kind.encode() + b"\0", digest_size=20)
    h.update(data)
    return h.hexdigest()


T = TypeVar("T")
C = TypeVar("C", bound="EntryCache[Any]")
MAX_ENTRY_BYTES = 16 * 1024 * 1024  # one file's hits
MAX_INDEX_BYTES = 256 * 1024 * 1024  # (path, size, mtime) of every file of a tree


def _write(path: Path, payload: bytes) -> None:
    if not write_entry(path, payload):
        raise OSError(f"cannot write {path}")


class EntryCache(Generic[T]):
    """Content key -> one scanner's result for a file, as a small JSON entry under
    `<cache>/<namespace>/<version>/`; read and written through `archlint.cachefile`. Subclasses
    say how a result becomes JSON and back."""

    namespace: ClassVar[str]

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.base = directory  # what open() was given (pool workers reopen it)
        self.directory = directory / self.namespace / self.version()
        self.salt = self.salt_for(max_bytes)
        self.writable = True

    @classmethod
    def open(cls: type[C], cache_dir: Path | None, max_bytes: int) -> C | None:
        return None if cache_dir is None else cls(Path(cache_dir), max_bytes)

    @staticmethod
    def version() -> str:
        raise NotImplementedError

    @staticmethod
    def salt_for(max_bytes: int) -> bytes:
        return salt(max_bytes)

    @staticmethod
    def decode(doc: dict[str, Any]) -> T:
        raise NotImplementedError

    @staticmethod
    def encode(result: T) -> dict[str, Any]:
        raise NotImplementedError

    def key(self, kind: str, data: bytes) -> str:
        return content_key(kind, data, self.salt)

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> T | None:
        data = read_entry(self._path(key), MAX_ENTRY_BYTES)
        if data is None:
            return None
        try:
            return self.decode(json.loads(data))
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None  # another layout, or damage the checksum did not catch: a miss

    def put(self, key: str, result: T) -> None:
        if not self.writable:
            return
        try:
            _write(self._path(key), json.dumps(self.encode(result), separators=(",", ":")).encode())
        except OSError:
            self.writable = False  # read-only or full: stop trying for this run

    def index(self, root: Path) -> StatIndex:
        scope = hashlib.blake2b(str(root).encode(), digest_size=8).hexdigest()
        return StatIndex(self.directory / f"index-{scope}.json", self)


class ResultCache(EntryCache[FileResult]):
    namespace = "source"
    version = staticmethod(ruleset_version)

    @staticmethod
    def decode(doc: dict[str, Any]) -> FileResult:
        return FileResult.from_json(doc)

    @staticmethod
    def encode(result: FileResult) -> dict[str, Any]:
        return result.to_json()


class StatIndex:
    """(path, size, mtime) -> content key, or "" where the prefilter found nothing: a warm run
    neither reads nor hashes unchanged files (ruff's cache trusts the same stat fields). Entries
    younger than RACY_NS are not recorded: a file rewritten within the mtime granularity could
    keep its stat. Concurrent runs: last writer wins; a lost entry only costs a re-read."""

    RACY_NS = 2_000_000_000

    def __init__(self, path: Path, cache: EntryCache[Any]) -> None:
        self.path = path
        self.cache = cache
        self.entries: dict[str, list[Any]] = {}
        self.dirty = False
        data = read_entry(path, MAX_INDEX_BYTES)
        try:
            raw = json.loads(data) if data is not None else None
        except (ValueError, RecursionError):
            raw = None
        if isinstance(raw, dict):
            self.entries = raw

    def get(self, path: str, size: int, mtime_ns: int) -> tuple[str, bool] | None:
        """(content key, whether the file may hold a suppression comment) of an unchanged file."""
        e = self.entries.get(path)
        if isinstance(e, list) and len(e) in (3, 4) and e[0] == size and e[1] == mtime_ns and isinstance(e[2], str):
            return e[2], e[3] is not False if len(e) == 4 else True
        return None

    def put(self, path: str, size: int, mtime_ns: int, key: str, suppress: bool = True) -> None:
        if mtime_ns > time.time_ns() - self.RACY_NS:
            self.entries.pop(path, None)
            return
        entry = [size, mtime_ns, key, suppress]
        if self.entries.get(path) != entry:
            self.entries[path] = entry
            self.dirty = True

    def save(self) -> None:
        if not self.dirty or not self.cache.writable:
            return
        try:
            _write(self.path, json.dumps(self.entries, separators=(",", ":")).encode())
        except OSError:
            self.cache.writable = False
