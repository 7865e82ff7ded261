"""Project pages and core metadata, fetched concurrently and ahead of the resolver.

resolvelib asks one question at a time; each answer that needs the network would cost a round
trip. So, as uv does, the fetcher runs ahead: when a project page arrives it picks the candidate
pip would try first on each target and fetches that file's metadata; when metadata arrives, it
fetches the pages of the dependencies that apply on that target, and so on down the tree. The
resolver then mostly finds its answers ready. Speculation follows only first choices, so it stays
bounded by the size of the tree; anything else (backtracking) is fetched on demand.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from archlint.deps.index.interface import DistFile, IndexServiceError, PackageIndex, Project
from archlint.deps.index.metadata import CoreMetadata, MetadataSource, MetadataUnavailable
from archlint.deps.resolve.finder import Candidate, Releases
from archlint.deps.targets import marker_environment
from archlint.facts import T_SDIST, Target

_T = TypeVar("_T")
ProjectAnswer = Releases | IndexServiceError
MetadataAnswer = CoreMetadata | IndexServiceError


class ParsedMetadata:
    """A file's metadata with its Requires-Dist parsed once (bad lines kept as reasons)."""

    def __init__(self, md: CoreMetadata, source: DistFile) -> None:
        self.md = md
        self.source = source  # the file the metadata was read from (may be another wheel of the release)
        self.requirements: list[Requirement] = []
        self.bad: list[str] = []
        for line in md.requires_dist:
            try:
                self.requirements.append(Requirement(line))
            except InvalidRequirement:
                self.bad.append(line)

    def applicable(self, target: Target, extras: Iterable[str] = ()) -> list[Requirement]:
        """Requirements whose marker holds on `target` for the base package or any of `extras`."""
        wanted = ("", *sorted(extras))
        return [r for r in self.requirements if r.marker is None or any(_holds(r.marker, target, e) for e in wanted)]


_MARKERS: dict[tuple[str, Target, str], bool] = {}


def _holds(marker: Marker, target: Target, extra: str) -> bool:
    key = (str(marker), target, extra)
    hit = _MARKERS.get(key)
    if hit is None:
        env = marker_environment(target)
        env["extra"] = extra
        try:
            hit = bool(marker.evaluate(env))
        except Exception:  # a marker packaging cannot evaluate: pip would fail; say it applies
            hit = True
        _MARKERS[key] = hit
    return hit


def metadata_file(candidate: Candidate, releases: Releases) -> DistFile:
    """The file whose metadata describes `candidate`: its own wheel; for an sdist, a wheel of the
    same release if there is one (all wheels of a release declare the same dependencies, and pip
    would have to build the sdist to learn them), else the sdist itself (its PKG-INFO)."""
    if candidate.kind != T_SDIST:
        return candidate.file
    files = releases.project.releases.get(str(candidate.version)) or ()
    wheels = [f for f in files if f.filename.endswith(".whl") and not f.yanked]
    pure = [f for f in wheels if f.filename.endswith("-none-any.whl")]
    return (pure or wheels or [candidate.file])[0]


def _done(value: _T) -> Future[_T]:
    fut: Future[_T] = Future()
    fut.set_result(value)
    return fut


class Fetcher:
    def __init__(self, index: PackageIndex, metadata: MetadataSource, workers: int = 16) -> None:
        self.index = index
        self.metadata = metadata
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archlint-fetch")
        self._lock = threading.Lock()
        self._projects: dict[str, Future[ProjectAnswer]] = {}
        self._metadata: dict[str, Future[MetadataAnswer]] = {}
        self._parsed: dict[str, ParsedMetadata] = {}
        self._speculated: set[tuple[str, str, frozenset[str], Target]] = set()
        self._closed = False

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self.pool.shutdown(wait=True, cancel_futures=True)

    # -- projects -------------------------------------------------------------------------------

    def want_project(self, name: str) -> Future[ProjectAnswer]:
        key = canonicalize_name(name)
        with self._lock:
            fut = self._projects.get(key)
        if fut is not None:
            return fut
        hit = self.index.cached_project(key)  # warm: answered here, no thread
        with self._lock:
            fut = self._projects.get(key)
            if fut is None:
                if hit is not None:
                    fut = _done(Releases(hit))
                else:
                    fut = self._submit(self._load_project, key)
                self._projects[key] = fut
        return fut

    def _load_project(self, name: str) -> ProjectAnswer:
        try:
            return Releases(self.index.project(name))
        except IndexServiceError as e:
            return e

    def project(self, name: str) -> ProjectAnswer:
        return self.want_project(name).result()

    def known(self, name: str) -> Releases | None:
        """A project page already fetched (never waits, never fetches)."""
        with self._lock:
            fut = self._projects.get(canonicalize_name(name))
        if fut is None or not fut.done():
            return None
        ans = fut.result()
        return ans if isinstance(ans, Releases) else None

    def seed(self, projects: Mapping[str, Releases | Project | IndexServiceError]) -> None:
        """Pages the caller already has (the direct requirements' lookups)."""
        with self._lock:
            for name, ans in projects.items():
                if name not in self._projects:
                    self._projects[name] = _done(Releases(ans) if isinstance(ans, Project) else ans)

    # -- metadata -------------------------------------------------------------------------------

    def want_metadata(self, f: DistFile) -> Future[MetadataAnswer]:
        key = f.url or f.filename
        with self._lock:
            fut = self._metadata.get(key)
        if fut is not None:
            return fut
        hit = self.metadata.cached(f)
        with self._lock:
            fut = self._metadata.get(key)
            if fut is None:
                fut = self._metadata[key] = _done(hit) if hit is not None else self._submit(self._load_metadata, f)
        return fut

    def _load_metadata(self, f: DistFile) -> MetadataAnswer:
        try:
            return self.metadata.fetch(f)
        except IndexServiceError as e:
            return e
        except Exception as e:  # never let one odd file kill the worker's answer
            return MetadataUnavailable(f"{f.filename}: {type(e).__name__}")

    def parsed(self, f: DistFile) -> ParsedMetadata | IndexServiceError:
        ans = self.want_metadata(f).result()
        if isinstance(ans, IndexServiceError):
            return ans
        key = f.url or f.filename
        with self._lock:
            hit = self._parsed.get(key)
        if hit is None:
            hit = ParsedMetadata(ans, f)
            with self._lock:
                self._parsed.setdefault(key, hit)
        return hit

    # -- speculation ----------------------------------------------------------------------------

    def speculate(self, name: str, specifier: SpecifierSet, extras: frozenset[str], targets: Iterable[Target]) -> None:
        """Fetch, in the background, what resolving `name<specifier>` on each target will ask first."""
        todo = []
        with self._lock:
            if self._closed:
                return
            for t in targets:
                key = (canonicalize_name(name), str(specifier), extras, t)
                if key not in self._speculated:
                    self._speculated.add(key)
                    todo.append(t)
        if not todo:
            return

        def on_project(f: Future[ProjectAnswer]) -> None:
            self._on_project(f.result(), specifier, extras, todo)

        self.want_project(name).add_done_callback(self._guard(on_project))

    def _on_project(self, ans: ProjectAnswer, specifier: SpecifierSet, extras: frozenset[str],
                    targets: list[Target]) -> None:  # fmt: skip
        if not isinstance(ans, Releases):
            return
        for t in targets:
            best = ans.finder(t).best(specifier)
            if best is None:
                continue
            source = metadata_file(best, ans)

            def on_metadata(_f: Future[MetadataAnswer], s: DistFile = source, t: Target = t) -> None:
                self._on_metadata(s, extras, t)

            self.want_metadata(source).add_done_callback(self._guard(on_metadata))

    def _on_metadata(self, source: DistFile, extras: frozenset[str], target: Target) -> None:
        pm = self.parsed(source)
        if isinstance(pm, IndexServiceError):
            return
        for req in pm.applicable(target, extras):
            self.speculate(req.name, req.specifier, frozenset(canonicalize_name(e) for e in req.extras), [target])

    def _guard(self, fn: Callable[[Future[_T]], None]) -> Callable[[Future[_T]], None]:
        def run(f: Future[_T]) -> None:
            try:
                fn(f)
            except Exception:  # speculation is an optimisation: the resolver asks again and reports
                pass

        return run

    def _submit(self, fn: Callable[..., _T], *args: object) -> Future[_T]:
        with_lock_closed = self._closed
        if not with_lock_closed:
            try:
                return self.pool.submit(fn, *args)
            except RuntimeError:  # the pool is shutting down
                pass
        fut: Future[Any] = Future()
        fut.set_result(IndexServiceError("the run is over"))
        return fut
