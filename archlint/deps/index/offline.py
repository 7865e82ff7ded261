"""--offline with a cache: answer from the pages earlier runs stored, whatever their age."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from packaging.utils import canonicalize_name

from archlint.deps.index.cache import HttpCache
from archlint.deps.index.interface import Offline, PackageIndex, Project
from archlint.deps.index.pages import releases
from archlint.deps.index.urls import host_of


class CachedOfflineIndex(PackageIndex):
    """Never opens a socket. A project some earlier run fetched is answered from the disk cache
    (stale or not: the user asked for no network); only what the cache lacks is `Offline`."""

    def __init__(self, urls: Sequence[str], cache: HttpCache) -> None:
        self.urls = list(urls)
        self.cache = cache

    def cached_project(self, name: str) -> Project | None:
        try:
            return self.project(name)
        except Offline:
            return None

    def page_fingerprints(self, names: Iterable[str]) -> list[tuple[str, int, int, float]] | None:
        out = []
        for name in names:
            for base in self.urls:
                fp = self.cache.fingerprint(f"{base.rstrip('/')}/{canonicalize_name(name)}/")
                if fp is not None:  # offline: whatever its age
                    out.append((fp[0], fp[1], fp[2], float("inf")))
        return out

    def project(self, name: str) -> Project:
        key = canonicalize_name(name)
        pages, found = [], []
        for base in self.urls:
            entry = self.cache.get(f"{base.rstrip('/')}/{key}/")
            if entry is not None:
                pages.append(entry.payload)
                found.append(host_of(base))
        if not pages:
            raise Offline(f"offline (--offline): the package index was not consulted and no earlier run cached {key}")
        return Project(key, ", ".join(found) + " (cached)", releases(*pages))
