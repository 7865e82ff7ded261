"""Decide, for every dependency, what pip installs on each target, its status, and the findings.

Per requirement and target, the version is the one pip would pick (archlint.deps.resolve.finder,
pip's PackageFinder rules); then, unless `--no-resolve`, each install set (a requirements file, a
pyproject, a Dockerfile's `pip install` line) is resolved as a whole per target with resolvelib
from core metadata (archlint.deps.resolve.tree): the direct requirements take the versions the
whole resolution gives them, and every package below them becomes a transitive dependency with
the chain that pulls it in. Lockfiles are the tree already and are never resolved again.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from archlint.catalogue import knowledge
from archlint.deps.availability import applicable, classify, release_files, status_of
from archlint.deps.index.interface import DistFile, IndexServiceError, PackageIndex, Project
from archlint.deps.index.metadata import MetadataSource
from archlint.deps.index.urls import redact
from archlint.deps.resolve.fetch import Fetcher
from archlint.deps.resolve.finder import Releases, explain
from archlint.deps.resolve.memo import TreeMemo
from archlint.deps.resolve.tree import Direct, Node, TreeResult, resolve_many
from archlint.deps.sources.interface import Constraint
from archlint.deps.targets import ARM64, TargetSet, marker_applies
from archlint.deps.upgrade import suggest
from archlint.deps.verdicts import Verdicts
from archlint.deps.vulns.interface import VulnerabilitySource
from archlint.deps.work import Pick, Work, exact_version, sha256_hashes
from archlint.facts import (
    NEEDS_BUILD,
    NOT_APPLICABLE,
    OK,
    T_NONE,
    T_PURE,
    T_SDIST,
    T_UNKNOWN,
    T_WHEEL,
    UNAVAILABLE,
    UNKNOWN,
    Dependency,
    Facts,
    Suggestion,
    Target,
)
from archlint.findings import Finding
from archlint.scanning import ScanContext

# Sources where a range is normal (libraries declare ranges; the lock pins): no "unpinned" finding.
_RANGE_SOURCES = frozenset({"pyproject"})
LOCK_SOURCES = frozenset({"poetry.lock", "uv.lock", "pdm.lock", "pylock.toml", "Pipfile.lock"})


def x86_only() -> dict[str, dict[str, str]]:
    return knowledge("x86_only")["packages"]


class DependencyCheck:
    def __init__(
        self,
        ctx: ScanContext,
        facts: Facts,
        index: PackageIndex,
        vulns: VulnerabilitySource,
        lines: Mapping[str, list[str]],
        metadata: MetadataSource | None = None,
        resolve: bool = True,
        constraints: Mapping[str, Sequence[Constraint]] | None = None,
        companions: Mapping[str, Sequence[Dependency]] | None = None,
    ) -> None:
        self.ctx = ctx
        self.facts = facts
        self.index = index
        self.vulns = vulns
        self.lines = lines  # path -> file lines, for fix edits
        self.metadata = metadata  # core metadata and sdist listings (None: neither is read)
        self.resolve = resolve and metadata is not None  # --no-resolve: only the requirements as written
        self.verdicts = Verdicts(facts, lines, index)
        self.constraints = constraints or {}  # requirements file -> its -c lines
        self._constraints_memo: dict[tuple[str, Target | None], dict[str, SpecifierSet]] = {}
        self.companions = companions or {}  # file -> requirements installed with its own (-r includes)

    def _companions(self, path: str, t: Target) -> list[Direct]:
        """The requirements installed with `path`'s on `t` that another scan reports (its -r
        includes): in its tree, as pip resolves them, but not reported here."""
        out = []
        for d in self.companions.get(path, ()):
            if d.url or d.editable or not marker_applies(d.marker, t):
                continue
            w = Work(d, [t])
            w.constraint = self._constraints(path).get(d.name)
            spec = w.specifier()
            if spec is not None:
                out.append(Direct(d.name, spec, frozenset(d.extras)))
        return out

    def _constraints(self, path: str, t: Target | None = None) -> dict[str, SpecifierSet]:
        """What the -c lines of `path` allow of each package: on target `t` (markers evaluated),
        or, without `t`, on every target (the lines without a marker)."""
        known = self._constraints_memo.get((path, t))
        if known is not None:
            return known
        out: dict[str, SpecifierSet] = {}
        for c in self.constraints.get(path, ()):
            if (c.marker is not None) if t is None else not marker_applies(c.marker, t):
                continue
            try:
                spec = SpecifierSet(c.specifier)
            except InvalidSpecifier:
                continue  # the constraints file's own scan reports the line
            out[c.name] = out.get(c.name, SpecifierSet()) & spec
        self._constraints_memo[(path, t)] = out
        return out

    def run(self, deps: Sequence[Dependency], target_sets: Mapping[str, TargetSet]) -> Iterator[Finding]:
        kb = x86_only()
        work: list[Work] = []
        # A pyproject.toml dependency that a lockfile beside it pins takes the lock's answer
        # (the lock says what is installed); findings are reported once, on the lock.
        locked = {(posixpath.dirname(d.path), d.name): d for d in deps if d.source in LOCK_SOURCES}
        covered: list[tuple[Dependency, Dependency]] = []
        for dep in deps:
            ts = target_sets[posixpath.dirname(dep.path) or "."]
            w = Work(dep, applicable(dep.marker, ts.targets), kb=kb.get(dep.name))
            w.constraint = self._constraints(dep.path).get(dep.name)
            if not any(t.platform == ARM64 for t in w.targets):
                dep.status = NOT_APPLICABLE
                dep.reason = f"the marker {dep.marker!r} excludes every arm64 target"
                continue
            if dep.url or dep.editable:
                yield from self.verdicts.direct_reference(w)
                continue
            lock = locked.get((posixpath.dirname(dep.path), dep.name)) if dep.source == "pyproject" else None
            if lock is not None:
                covered.append((dep, lock))
                continue
            work.append(w)
        # Lockfile file lists answer without the index.
        need: list[str] = []
        for w in work:
            w.hashes = sha256_hashes(w.dep.hashes)
            version = exact_version(w.dep)
            if version and w.dep.files:
                w.from_lock = True
                files = release_files(w.dep.files, w.dep.file_refs)
                # The wheel for any platform, for a look inside (ARCH113), where the lock says where it is.
                pure = next((f for f in files if f.filename.endswith("-any.whl") and f.url), None)
                w.picks = {t: Pick(version, kind, pure if kind == T_PURE else None)
                           for t in w.targets for kind in (classify(files, t),)}  # fmt: skip
                if any(p.kind not in (T_WHEEL, T_PURE) for p in w.picks.values()):
                    need.append(w.dep.name)  # for an upgrade suggestion
            else:
                need.append(w.dep.name)
        answers = self.index.projects(need) if need else {}
        releases: dict[str, Releases | IndexServiceError] = {
            n: Releases(a) if isinstance(a, Project) else a for n, a in answers.items()
        }
        for w in work:
            ans = releases.get(w.dep.name)
            if isinstance(ans, Releases):
                w.releases = ans
            elif ans is not None:
                w.error = ans
            if not w.from_lock:
                self._pick(w)
        transitive: list[Work] = []
        if self.resolve:
            transitive = self._resolve(work, target_sets, releases)
        self._inspect_wheels([*work, *transitive])
        for w in work:
            self._settle(w)
        for w in transitive:
            self._settle(w)
        self._inspect_sdists([*work, *transitive])
        for dep, lock in covered:
            dep.status, dep.targets, dep.suggestion = lock.status, dict(lock.targets), lock.suggestion
            dep.resolved = dict(lock.resolved)
            dep.reason = f"locked in {lock.path} at {lock.version}: {lock.reason}"
        self.facts.dependencies.extend(w.dep for w in transitive)
        for w in work:
            yield from self.verdicts.report(w)
        for w in transitive:
            yield from self.verdicts.report(w)

    # -- one requirement, per target (pip's finder) ----------------------------------------------

    def _pick(self, w: Work) -> None:
        dep = w.dep
        if w.releases is None:
            w.unknown(redact(str(w.error)) if w.error else "not looked up")
            w.unpinned = not exact_version(dep) and dep.source not in _RANGE_SOURCES
            return
        spec = w.specifier()
        if spec is None:
            w.unknown(f"the version specifier {dep.specifier!r} does not parse")
            return
        pin = exact_version(dep)
        w.unpinned = pin is None and dep.source not in _RANGE_SOURCES
        if pin and w.hashes is not None:
            files = _release_files(w.releases, pin)
            if files and not any((f.sha256 or "") in w.hashes for f in files):
                w.unknown(
                    f"none of its {len(w.hashes)} sha256 hashes matches a file of {dep.name} {pin} "
                    f"on {w.releases.project.index}"
                )
                return
        for t in w.targets:
            c = w.releases.finder(t, w.hashes).best(spec)
            if c is None:
                w.picks[t] = Pick(None, T_NONE, why=explain(w.releases, spec, t))
            else:
                w.picks[t] = Pick(str(c.version), c.kind, c.file)
                if c.file.yanked:
                    w.yanked_pin = True

    # -- the tree (resolvelib), per install set and target ---------------------------------------

    def _resolve(self, work: list[Work], target_sets: Mapping[str, TargetSet],
                 releases: Mapping[str, Releases | IndexServiceError]) -> list[Work]:  # fmt: skip
        assert self.metadata is not None
        groups: dict[tuple[str, int | None], list[Work]] = {}
        for w in work:
            dep = w.dep
            if dep.source in LOCK_SOURCES or w.releases is None:
                continue
            groups.setdefault((dep.path, dep.line if dep.source == "dockerfile" else None), []).append(w)
        jobs: list[tuple[Target, list[Direct], dict[str, SpecifierSet]]] = []
        owners: list[tuple[list[Work], Target]] = []
        for ws in groups.values():
            if all(w.hashes is not None for w in ws):
                continue  # a hash-pinned file is a lock (pip requires every package of the tree pinned)
            ts = target_sets[posixpath.dirname(ws[0].dep.path) or "."]
            for t in ts.targets:
                directs = []
                for w in ws:
                    spec = w.specifier()
                    if t in w.targets and spec is not None:
                        directs.append(Direct(w.dep.name, spec, frozenset(w.dep.extras)))
                directs += self._companions(ws[0].dep.path, t)
                if directs:
                    jobs.append((t, directs, self._constraints(ws[0].dep.path, t)))
                    owners.append((ws, t))
        if not jobs:
            return []
        memo = self._memo()
        keys = [memo.key(t, d, c) for t, d, c in jobs] if memo else []
        results: list[TreeResult | None] = [memo.get(k, t) for k, (t, _, _) in zip(keys, jobs, strict=True)] if (
            memo) else [None] * len(jobs)  # fmt: skip
        misses = [i for i, r in enumerate(results) if r is None]
        fetcher = Fetcher(self.index, self.metadata)
        try:
            fetcher.seed(releases)
            if misses:
                for i, r in zip(misses, resolve_many(fetcher, [jobs[i] for i in misses]), strict=True):
                    results[i] = r
                    if memo:
                        memo.put(keys[i], r, r.looked_up)
            transitive: dict[tuple[int, str], Work] = {}
            for (ws, t), result in zip(owners, results, strict=True):
                assert result is not None
                self._apply(ws, t, result, transitive)
            for tw in transitive.values():
                tw.releases = fetcher.known(tw.dep.name)
                if tw.releases is None and any(p.kind not in (T_WHEEL, T_PURE) for p in tw.picks.values()):
                    ans = fetcher.project(tw.dep.name)  # a reused tree: its messages need the page
                    tw.releases = ans if isinstance(ans, Releases) else None
        finally:
            fetcher.close()
        return list(transitive.values())

    def _memo(self) -> TreeMemo | None:
        urls = getattr(self.index, "urls", None)
        if self.ctx.cache_dir is None or urls is None:
            return None
        return TreeMemo(self.ctx.cache_dir / "trees-v1", self.index, urls)

    def _apply(self, ws: list[Work], t: Target, result: TreeResult, transitive: dict[tuple[int, str], Work]) -> None:
        by_name: dict[str, Work] = {}
        for w in ws:
            by_name.setdefault(w.dep.name, w)
        for node in result.nodes.values():
            pick = _node_pick(node)
            owner = by_name.get(node.chain[0]) if node.chain else None
            if node.conflict:
                # Each requirement on it alone would install: a conflict, not a missing file; and
                # if pip's search was cut short, not even known to be one.
                who = by_name.get(node.name) or owner or ws[0]
                if result.abandoned:
                    who.tree_unknown.append((node.name, "search", node.missing or ""))
                else:
                    who.conflicts.append((t, node.name, node.missing or ""))
                continue
            if node.name in by_name:
                for w in ws:  # a name written twice (two lines, or two markers): each gets pip's answer
                    if w.dep.name == node.name and t in w.targets:
                        w.picks[t] = pick
                if node.unknown:
                    by_name[node.name].tree_unknown.append((node.name, "deps", node.unknown))
                continue
            if owner is None:
                continue
            if node.unknown:
                owner.tree_unknown.append((node.name, "deps", node.unknown))
            if node.error:
                owner.tree_unknown.append((node.name, "lookup", node.missing or "the index could not be asked"))
            key = (id(owner), node.name)
            tw = transitive.get(key)
            if tw is None:
                d = owner.dep
                dep = Dependency(
                    name=node.name, version=None, specifier=node.specifier, path=d.path, line=d.line,
                    source=d.source, column=d.column, end_column=d.end_column, direct=False, via=node.chain,
                )  # fmt: skip
                tw = transitive[key] = Work(dep, [], owner=owner, kb=x86_only().get(node.name))
            if t not in tw.targets:
                tw.targets.append(t)
            tw.picks[t] = pick
            owner_key = f"{owner.dep.name}[{','.join(sorted(owner.dep.extras))}]"
            if t.platform == ARM64 and owner.dep.extras and node.extra_only and node.parents == (owner_key,):
                tw.extra_route = True
        explained = any(n.version is None for n in result.nodes.values()) and not result.abandoned
        if result.pip_fails and t.platform == ARM64 and not explained:
            ws[0].tree_failed = f"{t.label}: {result.pip_fails}"

    def _inspect_wheels(self, works: Sequence[Work]) -> None:
        """Wheels tagged for any platform that pip installs on arm64: do they carry x86 binaries?
        (bitsandbytes before 0.43 bundled its x86-64 libraries in a py3-none-any wheel.) One
        range request per wheel for its central directory, a few more for ELF headers; in
        parallel, cached for good."""
        source = self.metadata
        if source is None:
            return
        todo: dict[str, DistFile] = {}
        hosts: set[str] | None = None  # only a lockfile's URLs are checked against them
        for w in works:
            for p in w.arm().values():
                if p.kind == T_PURE and p.file is not None and p.file.filename.endswith(".whl"):
                    if w.from_lock and hosts is None:
                        hosts = self._file_hosts(works)
                    if w.from_lock and _netloc(p.file.url or "") not in (hosts or ()):
                        continue  # a lockfile's URL elsewhere: a pull request must not make CI fetch it
                    todo.setdefault(p.file.filename, p.file)
        found: dict[str, tuple[tuple[str, str], ...] | None] = {}
        if source.cache is not None:  # a warm run: answered from the cache, no threads
            for name, f in list(todo.items()):
                hit = source.cache.get_binaries(f)
                if hit is not None:
                    found[name] = hit
                    del todo[name]
        if todo:
            with ThreadPoolExecutor(max_workers=min(16, len(todo)), thread_name_prefix="archlint-wheel") as pool:
                found.update(zip(todo, pool.map(source.wheel_binaries, todo.values()), strict=True))
        for w in works:
            for t, p in w.arm().items():
                binaries = found.get(p.file.filename) if p.kind == T_PURE and p.file is not None else None
                if not binaries:
                    continue
                families = {fam for _, fam in binaries}
                if "x86" in families and "arm64" not in families:
                    w.x86_bundled[t] = tuple(n for n, fam in binaries if fam == "x86")

    def _file_hosts(self, works: Sequence[Work]) -> set[str]:
        """Hosts archlint reads distribution files from: the package index's own, those its pages
        point to, and PyPI's file host when the index is PyPI."""
        hosts = {_netloc(u) for u in getattr(self.index, "urls", ())}
        if "pypi.org" in hosts:
            hosts.add("files.pythonhosted.org")
        for w in works:  # an index serves its files from one host or a few: a file per project says
            if w.releases is not None:
                first = next((f for fs in w.releases.project.releases.values() for f in fs if f.url), None)
                if first is not None and first.url:
                    hosts.add(_netloc(first.url))
        return hosts

    def _inspect_sdists(self, works: Sequence[Work]) -> None:
        """Whether the sdists pip would build on arm64 have native code, where the release's own wheels
        do not tell (sdist-only releases): a few bounded listings, in parallel, cached for good."""
        source = self.metadata
        if source is None:
            return
        todo: dict[str, DistFile] = {}
        for w in works:
            files = w.releases.project.releases.get(w.checked_version() or "", ()) if w.releases else ()
            if any(f.filename.endswith(".whl") for f in files):
                continue  # the wheels answer (binary: native; pure only: not)
            for p in w.arm().values():
                if p.kind == T_SDIST and p.file is not None:
                    todo.setdefault(p.file.filename, p.file)
        if not todo:
            return
        with ThreadPoolExecutor(max_workers=min(8, len(todo)), thread_name_prefix="archlint-sdist") as pool:
            found = dict(zip(todo, pool.map(source.sdist_native, todo.values()), strict=True))
        self.verdicts.native.update(found)

    # -- status ------------------------------------------------------------------------------------

    def _settle(self, w: Work) -> None:
        dep = w.dep
        dep.targets = {t.label: p.kind for t, p in w.picks.items()}
        dep.resolved = {t.label: p.version for t, p in w.picks.items()}
        if w.transitive:
            versions = {p.version for p in w.picks.values() if p.version}
            dep.version = versions.pop() if len(versions) == 1 else None
        if not w.picks:
            dep.status = NOT_APPLICABLE
            return
        dep.status = status_of({t: p.kind for t, p in w.picks.items()})
        if dep.status == UNKNOWN and all(p.kind == T_UNKNOWN for p in w.picks.values()):
            dep.reason = next(iter(w.picks.values())).why
        else:
            dep.reason = self.verdicts.reason(w)
        if w.x86_bundled and dep.status == OK:
            dep.status = UNAVAILABLE  # it installs, but cannot run: as good as missing on arm64
            names = sorted({n.rsplit("/", 1)[-1] for ns in w.x86_bundled.values() for n in ns})
            dep.reason += f"; its wheel carries x86-64 binaries ({', '.join(names[:3])})"
            # The usual suggestion (wheels for every target) could be another such wheel.
            newer = self.verdicts.first_arm_wheel(w) if not w.transitive else None
            if newer is not None:
                dep.suggestion = Suggestion(newer, f"{newer} is the first newer release with a linux arm64 wheel")
            return
        if dep.status in (NEEDS_BUILD, UNAVAILABLE) and w.releases is not None and not w.transitive:
            current = w.checked_version() or exact_version(dep)
            if current:
                dep.suggestion = suggest(w.releases.project, current, w.targets, self.vulns)


def _netloc(url: str) -> str:
    """host[:port] of a URL, without credentials; "" when it does not parse."""
    try:
        return urlsplit(url).netloc.rpartition("@")[2].lower()
    except ValueError:
        return ""


def _node_pick(node: Node) -> Pick:
    if node.version is None or node.found is None:
        return Pick(None, T_UNKNOWN if node.error else T_NONE, why=node.missing or "nothing installs")
    return Pick(str(node.version), node.found.kind, node.found.file)


def _release_files(releases: Releases, version: str) -> tuple[DistFile, ...]:
    try:
        want = Version(version)
    except InvalidVersion:
        return ()
    for v, key in releases.versions:
        if v == want:
            return releases.project.releases[key]
    return ()
