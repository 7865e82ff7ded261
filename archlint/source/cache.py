"""Per-file result cache: content hash + rule-set version -> FileResult, as small JSON files.

Safe under concurrent runs: entries are written to a temporary file in the target directory and
renamed into place (atomic on POSIX and Windows), so a reader sees a whole entry or none; two
writers of one key write identical bytes. Any cache trouble (read-only, corrupt entry, full
disk) degrades to recomputing, never to an error.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path

from archlint import __version__
from archlint.catalogue import rules_dir
from archlint.source.interface import FileResult


@functools.cache
def ruleset_version() -> str:
    """Changes whenever anything that shapes results changes: this package's code, the import
    knowledge base, archlint's and libcst's versions."""
    import libcst._version

    h = hashlib.sha256(f"{__version__}\0{libcst._version.__version__}\0".encode())
    here = Path(__file__).resolve().parent
    for p in sorted(here.rglob("*.py")):
        h.update(p.relative_to(here).as_posix().encode() + b"\0" + p.read_bytes())
    h.update(rules_dir().joinpath("kb", "x86_imports.toml").read_bytes())
    return h.hexdigest()[:16]


class ResultCache:
    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory / "source" / ruleset_version()
        self.salt = f"{max_bytes}\0".encode()
        self.writable = True

    @classmethod
    def open(cls, cache_dir: Path | None, max_bytes: int) -> ResultCache | None:
        return None if cache_dir is None else cls(Path(cache_dir), max_bytes)

    def key(self, kind: str, data: bytes) -> str:
        h = hashlib.blake2b(self.salt + kind.encode() + b"\0", digest_size=20)
        h.update(data)
        return h.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> FileResult | None:
        try:
            with open(self._path(key), "rb") as fh:
                return FileResult.from_json(json.loads(fh.read()))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, result: FileResult) -> None:
        if not self.writable:
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(result.to_json(), fh, separators=(",", ":"))
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError:
            self.writable = False  # read-only or full: stop trying for this run
