"""`--offline` with a warm cache: the index pages earlier runs fetched, however old, and never a
request (as `uv --offline` answers from its cache). A package no run has fetched is unknown.

This is what keeps the pre-commit hook fast and offline by default while it still knows which
pins have arm64 wheels: CI (or any online run) fills and refreshes the cache.
"""

from __future__ import annotations

from archlint.deps.index.interface import Offline
from archlint.deps.index.simple_json import Page, SimpleJsonIndex

OFFLINE = "offline (--offline): the package index was not consulted"


class CachedIndex(SimpleJsonIndex):
    def _page(self, url: str) -> Page:
        entry = self.cache.get(url) if self.cache is not None else None
        if entry is None:
            raise Offline(f"{OFFLINE} and no earlier run cached this package")
        with self._lock:
            self.stats["cache_hits"] += 1
        return entry.payload
