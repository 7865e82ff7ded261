"""The package-index interface: what availability checks need from an index, nothing more."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DistFile:
    """One distribution file of one release."""

    filename: str
    yanked: bool = False
    requires_python: str | None = None
    sha256: str | None = None
    url: str | None = None  # absolute download URL (None: a lockfile's file name only)
    # PEP 658/714 core metadata at url + ".metadata": None = not advertised, "" = advertised
    # without a hash, else its sha256.
    core_metadata: str | None = None
    size: int | None = None  # bytes (PEP 700), when the index says


@dataclass(frozen=True)
class Project:
    name: str  # PEP 503-normalised
    index: str  # the (redacted) index URL(s) it came from, for messages
    releases: Mapping[str, tuple[DistFile, ...]] = field(default_factory=dict)  # normalised version -> files


class IndexServiceError(Exception):
    """The index could not answer for a project; the message is safe to show (no secrets)."""


class Offline(IndexServiceError):
    pass


class ProjectNotFound(IndexServiceError):
    pass


class IndexUnreachable(IndexServiceError):
    """Connection refused, DNS failure, timeout."""


class BadIndexResponse(IndexServiceError):
    """A server error, HTML instead of PEP 691 JSON, malformed or oversized JSON."""


class PackageIndex(abc.ABC):
    """A source of release file lists (PEP 691 simple API, or nothing when offline)."""

    workers: int = 1

    @abc.abstractmethod
    def project(self, name: str) -> Project:
        """The project's releases; raises IndexServiceError."""

    def cached_project(self, name: str) -> Project | None:
        """The project if it can be answered now without the network (a fresh cache entry), else None."""
        return None

    def page_fingerprints(self, names: Iterable[str]) -> list[tuple[str, int, int, float]] | None:
        """Where the cached pages of `names` live and until when they are fresh, so that a result
        computed from them can be reused while they are unchanged; None: no cache to tie it to."""
        return None

    def projects(self, names: Iterable[str]) -> Mapping[str, Project | IndexServiceError]:
        """Fetch many projects, `workers` at a time; each answer is a Project or the error. What
        the cache answers is taken first, in this thread: a warm run starts no thread."""
        out: dict[str, Project | IndexServiceError] = {}
        unique = []
        for n in dict.fromkeys(names):
            hit = self.cached_project(n)
            if hit is not None:
                out[n] = hit
            else:
                unique.append(n)

        def one(n: str) -> Project | IndexServiceError:
            try:
                return self.project(n)
            except IndexServiceError as e:
                return e

        if self.workers <= 1 or len(unique) <= 1:
            out.update({n: one(n) for n in unique})
            return out
        with ThreadPoolExecutor(max_workers=min(self.workers, len(unique))) as pool:
            out.update(zip(unique, pool.map(one, unique), strict=True))
        return out

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


class OfflineIndex(PackageIndex):
    """--offline: never opens a socket; every question is answered 'unknown (offline)'."""

    def project(self, name: str) -> Project:
        raise Offline("offline (--offline): the package index was not consulted")
