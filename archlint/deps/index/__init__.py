"""Package indexes: `make_index` picks the implementation for a run."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from archlint.deps.index.cache import HttpCache
from archlint.deps.index.interface import OfflineIndex, PackageIndex
from archlint.deps.index.offline import CachedOfflineIndex
from archlint.deps.index.pages import DEFAULT_TIMEOUT
from archlint.deps.index.urls import index_urls
from archlint.scanning import ScanContext

if TYPE_CHECKING:
    from archlint.deps.index.metadata import MetadataSource


def cache_for(cache_dir: Path | None) -> HttpCache | None:
    return HttpCache(cache_dir / "index-v1") if cache_dir is not None else None


def make_index(ctx: ScanContext, file_urls: Iterable[str] = ()) -> PackageIndex:
    cfg = ctx.config
    urls = index_urls(cfg.get("index-url"), cfg.str_list("extra-index-url"), file_urls)
    if ctx.offline:
        cache = cache_for(ctx.cache_dir)
        return CachedOfflineIndex(urls, cache) if cache is not None else OfflineIndex()
    from archlint.deps.index.simple_json import SimpleJsonIndex  # HTTP (requests): only online

    timeout = float(cfg.get("index-timeout", DEFAULT_TIMEOUT))
    return SimpleJsonIndex(urls, cache_for(ctx.cache_dir), timeout=timeout)


def make_metadata(ctx: ScanContext) -> MetadataSource:
    """Where core metadata (for the trees) and sdist listings (native code or not) come from."""
    from archlint.deps.index.metadata import MetadataCache, MetadataSource

    cache = MetadataCache(ctx.cache_dir / "metadata-v1") if ctx.cache_dir is not None else None
    timeout = float(ctx.config.get("index-timeout", DEFAULT_TIMEOUT))
    return MetadataSource(cache, timeout=timeout, offline=ctx.offline)
