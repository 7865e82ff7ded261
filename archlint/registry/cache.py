"""On-disk cache of registry answers, keyed by manifest digest.

A digest names immutable content, so its platforms never change: entries never expire. Tags
move, so a tag still costs one HEAD (which Docker Hub does not count against its pull limit)
to learn the digest; a reference pinned by digest is answered without any request.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from archlint.cachefile import read_entry, write_entry

_DIGEST = re.compile(r"^(sha256|sha512):([a-f0-9]{64}|[a-f0-9]{128})$")
MAX_ENTRY_BYTES = 64 * 1024
VERSION = 2  # 2: entries written through archlint.cachefile


class PlatformCache:
    """`<cache_dir>/registry/v1/<algorithm>/<hex>.json`; `root=None` disables it (--no-cache)."""

    def __init__(self, root: Path | None) -> None:
        self.dir = root / "registry" / f"v{VERSION}" if root is not None else None

    def _path(self, digest: str) -> Path | None:
        m = _DIGEST.match(digest)
        if self.dir is None or m is None:  # a strict pattern also keeps digests from naming other paths
            return None
        return self.dir / m.group(1) / f"{m.group(2)}.json"

    def get(self, digest: str) -> tuple[tuple[str, ...], str] | None:
        """(platforms, source) recorded for `digest`; a missing or corrupt entry is a miss."""
        path = self._path(digest)
        if path is None:
            return None
        raw = read_entry(path, MAX_ENTRY_BYTES)  # a damaged or planted entry is a miss
        try:
            data = json.loads(raw) if raw is not None else None
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, dict) or data.get("digest") != digest:
            return None
        platforms, source = data.get("platforms"), data.get("source")
        if not isinstance(platforms, list) or not all(isinstance(p, str) for p in platforms):
            return None
        if not isinstance(source, str):
            return None
        return tuple(platforms), source

    def put(self, digest: str, platforms: tuple[str, ...], source: str) -> None:
        """Write atomically; a cache that cannot be written only costs speed."""
        path = self._path(digest)
        if path is None:
            return
        data = json.dumps({"digest": digest, "platforms": list(platforms), "source": source})
        write_entry(path, data.encode())
