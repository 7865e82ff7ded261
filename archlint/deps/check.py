"""Decide, for every dependency, its per-target availability, status, suggestion and findings."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from archlint.catalogue import knowledge
from archlint.deps import edits
from archlint.deps.availability import applicable, classify, release_files, status_of
from archlint.deps.index.interface import DistFile, IndexServiceError, Offline, PackageIndex, Project
from archlint.deps.index.urls import redact
from archlint.deps.targets import AMD64, ARM64, TargetSet
from archlint.deps.upgrade import candidates, suggest
from archlint.deps.vulns.interface import VulnerabilitySource
from archlint.facts import (
    NEEDS_BUILD,
    NOT_APPLICABLE,
    T_NONE,
    T_PURE,
    T_SDIST,
    T_UNKNOWN,
    T_WHEEL,
    UNAVAILABLE,
    UNKNOWN,
    Dependency,
    Evidence,
    Facts,
    Target,
)
from archlint.findings import Finding, Fix, Severity
from archlint.scanning import ScanContext

# Sources where a range is normal (libraries declare ranges; the lock pins): no "unpinned" finding.
_RANGE_SOURCES = frozenset({"pyproject"})
LOCK_SOURCES = frozenset({"poetry.lock", "uv.lock", "pdm.lock", "pylock.toml", "Pipfile.lock"})


def x86_only() -> dict[str, dict[str, str]]:
    return knowledge("x86_only")["packages"]


@dataclass
class _Work:
    dep: Dependency
    targets: list[Target]  # applicable targets (marker evaluated)
    checked_version: str | None = None  # the release whose files were classified
    files: tuple[DistFile, ...] | None = None
    hashes: frozenset[str] | None = None
    project: Project | None = None
    error: IndexServiceError | None = None
    per_target: dict[Target, str] = field(default_factory=dict)
    unpinned: bool = False


def sha256_hashes(raw: Sequence[str]) -> frozenset[str] | None:
    """sha256 digests from `--hash=sha256:...` / lockfile values; None when there are none."""
    out = set()
    for h in raw:
        algo, _, digest = h.partition(":")
        if not digest:
            algo, _, digest = h.partition("=")
        if algo.strip().lower() == "sha256" and digest:
            out.add(digest.strip().lower())
    return frozenset(out) or None


def exact_version(dep: Dependency) -> str | None:
    if dep.version:
        return dep.version
    try:
        spec = list(SpecifierSet(dep.specifier)) if dep.specifier else []
    except InvalidSpecifier:
        return None
    if len(spec) == 1 and spec[0].operator in ("==", "===") and "*" not in spec[0].version:
        return spec[0].version
    return None


def newest_matching(project: Project, specifier: str) -> str | None:
    """The newest non-yanked release the specifier allows (pre-releases only if it names one)."""
    try:
        spec = SpecifierSet(specifier)
    except InvalidSpecifier:
        return None
    best: Version | None = None
    for raw, files in project.releases.items():
        if not any(not f.yanked for f in files):
            continue
        try:
            v = Version(raw)
        except InvalidVersion:
            continue
        if spec.contains(v) and (best is None or v > best):
            best = v
    return str(best) if best else None


def _release(project: Project, version: str) -> tuple[DistFile, ...] | None:
    try:
        key = str(Version(version))
    except InvalidVersion:
        return None
    return project.releases.get(key)


class DependencyCheck:
    def __init__(
        self,
        ctx: ScanContext,
        facts: Facts,
        index: PackageIndex,
        vulns: VulnerabilitySource,
        lines: Mapping[str, list[str]],
    ) -> None:
        self.ctx = ctx
        self.facts = facts
        self.index = index
        self.vulns = vulns
        self.lines = lines  # path -> file lines, for fix edits

    def line_text(self, dep: Dependency) -> str | None:
        ls = self.lines.get(dep.path)
        if ls is None or not dep.line or dep.line > len(ls):
            return None
        return ls[dep.line - 1]

    def run(self, deps: Sequence[Dependency], target_sets: Mapping[str, TargetSet]) -> Iterator[Finding]:
        kb = x86_only()
        work: list[_Work] = []
        # A pyproject.toml dependency that a lockfile beside it pins takes the lock's answer
        # (the lock says what is installed); findings are reported once, on the lock.
        locked = {(posixpath.dirname(d.path), d.name): d for d in deps if d.source in LOCK_SOURCES}
        covered: list[tuple[Dependency, Dependency]] = []
        for dep in deps:
            ts = target_sets[posixpath.dirname(dep.path) or "."]
            w = _Work(dep, applicable(dep.marker, ts.targets))
            if not any(t.platform == ARM64 for t in w.targets):
                dep.status = NOT_APPLICABLE
                dep.reason = f"the marker {dep.marker!r} excludes every arm64 target"
                continue
            if dep.name in kb:
                yield from self._known_x86(w, kb[dep.name])
                continue
            if dep.url or dep.editable:
                yield from self._direct(w)
                continue
            lock = locked.get((posixpath.dirname(dep.path), dep.name)) if dep.source == "pyproject" else None
            if lock is not None:
                covered.append((dep, lock))
                continue
            work.append(w)
        # Lockfile file lists answer without the index.
        need: list[str] = []
        for w in work:
            version = exact_version(w.dep)
            w.hashes = sha256_hashes(w.dep.hashes)
            if version and w.dep.files:
                w.checked_version = version
                w.files = release_files(w.dep.files)
                w.per_target = {t: classify(w.files, t) for t in w.targets}
                if any(v not in (T_WHEEL, T_PURE) for v in w.per_target.values()):
                    need.append(w.dep.name)  # for an upgrade suggestion
            else:
                need.append(w.dep.name)
        answers = self.index.projects(need) if need else {}
        for w in work:
            ans = answers.get(w.dep.name)
            if isinstance(ans, Project):
                w.project = ans
            elif ans is not None:
                w.error = ans
            self._evaluate(w)
        for dep, lock in covered:
            dep.status, dep.targets, dep.suggestion = lock.status, dict(lock.targets), lock.suggestion
            dep.reason = f"locked in {lock.path} at {lock.version}: {lock.reason}"
        for w in work:
            yield from self._report(w)

    # -- evaluation ------------------------------------------------------------------------

    def _evaluate(self, w: _Work) -> None:
        dep = w.dep
        if w.files is not None:
            pass  # classified from the lockfile already
        elif w.project is None:
            reason = str(w.error) if w.error else "not looked up"
            self._unknown(w, reason)
            if not exact_version(dep) and dep.source not in _RANGE_SOURCES:
                w.unpinned = True
            return
        else:
            version = exact_version(dep)
            if version is None:
                w.unpinned = dep.source not in _RANGE_SOURCES
                version = newest_matching(w.project, dep.specifier)
                if version is None:
                    self._unknown(w, f"no release on {w.project.index} matches {dep.specifier or 'any version'!r}")
                    return
            files = _release(w.project, version)
            if not files:
                self._unknown(w, f"{w.project.index} has no release {version} of {dep.name}")
                return
            w.checked_version = version
            w.files = files
            if w.hashes is not None:
                if not any((f.sha256 or "") in w.hashes for f in files):
                    self._unknown(
                        w,
                        f"none of its {len(w.hashes)} sha256 hashes matches a file of {dep.name} {version} "
                        f"on {w.project.index}",
                    )
                    return
            w.per_target = {t: classify(files, t, w.hashes) for t in w.targets}
        dep.targets = {t.label: v for t, v in w.per_target.items()}
        dep.status = status_of(w.per_target)
        dep.reason = self._reason(w)
        if dep.status in (NEEDS_BUILD, UNAVAILABLE) and w.project is not None and w.checked_version:
            dep.suggestion = suggest(w.project, w.checked_version, w.targets, self.vulns)
        elif dep.status in (NEEDS_BUILD, UNAVAILABLE) and w.checked_version and isinstance(w.error, Offline):
            dep.reason += "; upgrade candidates need the package index (offline)"

    def _unknown(self, w: _Work, reason: str) -> None:
        w.dep.status = UNKNOWN
        w.dep.reason = redact(reason)
        w.dep.targets = {t.label: T_UNKNOWN for t in w.targets}

    def _reason(self, w: _Work) -> str:
        arm = {t.label: v for t, v in w.per_target.items() if t.platform == ARM64}
        parts = [f"{label}: {v}" for label, v in arm.items()]
        src = f"files listed in {w.dep.path}" if w.dep.files or w.project is None else w.project.index
        return f"{w.dep.name} {w.checked_version} ({src}): " + ", ".join(parts)

    def _direct(self, w: _Work) -> Iterator[Finding]:
        dep = w.dep
        what = "an editable install" if dep.editable else "a direct reference"
        self._unknown(w, f"{what} ({redact(dep.url or dep.path)}): its files are not on an index")
        yield self._finding(
            dep,
            "ARCH107",
            f"{dep.name} comes from {what} ({redact(dep.url or dep.path)}): arm64 availability cannot be checked "
            "from an index; build it for linux/arm64 in CI to find out",
        )

    # -- findings ----------------------------------------------------------------------------

    def _finding(self, dep: Dependency, rule: str, message: str, severity: Severity | None = None,
                 fix: Fix | None = None) -> Finding:  # fmt: skip
        line = dep.line or 1
        return Finding(
            rule=rule,
            message=message,
            path=dep.path,
            line=line,
            column=dep.column if dep.line else 1,
            end_line=line if dep.line and dep.end_column else None,
            end_column=dep.end_column if dep.line else None,
            severity=severity,
            key=dep.name + (f";{dep.marker}" if dep.marker else ""),
            fix=fix,
        )

    def _display(self, w: _Work) -> str:
        dep = w.dep
        if w.unpinned and w.checked_version:
            return f"{dep.name}{dep.specifier} (newest matching: {w.checked_version})"
        return f"{dep.name}=={w.checked_version}" if w.checked_version else f"{dep.name}{dep.specifier}"

    def _report(self, w: _Work) -> Iterator[Finding]:
        dep = w.dep
        if w.unpinned:
            checked = f"checked the newest matching release {w.checked_version}: {dep.status}" if (
                w.checked_version) else "its availability depends on what the resolver picks"  # fmt: skip
            yield self._finding(dep, "ARCH106", f"{dep.name}{dep.specifier} is not pinned to one version; {checked}")
        if dep.status == UNKNOWN:
            sev = Severity.INFO if isinstance(w.error, Offline) else None  # the user asked for offline
            msg = f"arm64 availability of {self._display(w)} is unknown: {dep.reason}"
            yield self._finding(dep, "ARCH105", msg, severity=sev)
            return
        if dep.status not in (NEEDS_BUILD, UNAVAILABLE):
            return
        arm_bad = [t.label for t, v in w.per_target.items() if t.platform == ARM64 and v in (T_SDIST, T_NONE)]
        amd = [v for t, v in w.per_target.items() if t.platform == AMD64]
        sug = dep.suggestion
        fix = None
        if sug is not None and not w.unpinned:
            fix = edits.upgrade_fix(dep, sug.version, self.line_text(dep))
            hint = f"; {sug.reason}"
        elif w.project is not None and w.checked_version:
            newer = candidates(w.project, w.checked_version, w.targets)
            hint = "; no newer release has wheels for every target" if not newer.ordered else ""
        elif isinstance(w.error, Offline):
            hint = "; run without --offline to look for a release with wheels"
        else:
            hint = ""
        hashed = " (only files matching its --hash values count)" if w.hashes is not None and not dep.files else ""
        yanked = ""
        if w.files and all(f.yanked for f in w.files):
            yanked = " (every file of this release is yanked)"
        if dep.status == UNAVAILABLE:
            msg = (f"{self._display(w)} cannot be installed on {', '.join(arm_bad)}: no compatible wheel and no "
                   f"sdist{yanked}{hashed}{hint}")  # fmt: skip
            rule = "ARCH103"
            self.facts.evidence.append(Evidence(dep.path, dep.line, msg, blocks_arm64=True, rule=rule))
        elif amd and all(v == T_SDIST for v in amd):
            msg = (f"{self._display(w)} ships no wheel for any target (sdist only): it is compiled from source on "
                   f"amd64 too, so this is not an arm64 gap{hint}")  # fmt: skip
            rule = "ARCH104"
        else:
            msg = (f"{self._display(w)} has no wheel for {', '.join(arm_bad)}{hashed}: pip builds it from the sdist "
                   f"there (compiler, headers and build time in the image){hint}")  # fmt: skip
            rule = "ARCH102"
            self.facts.evidence.append(Evidence(dep.path, dep.line, msg, blocks_arm64=False, rule=rule))
        yield self._finding(dep, rule, msg, fix=fix)

    def _known_x86(self, w: _Work, info: Mapping[str, str]) -> Iterator[Finding]:
        dep = w.dep
        dep.status = UNAVAILABLE
        dep.reason = info["reason"]
        dep.targets = {t.label: (T_NONE if t.platform == ARM64 else T_UNKNOWN) for t in w.targets}
        replacement = info.get("replacement", "")
        version = exact_version(dep)
        keep: str | None = None
        note = ""
        if replacement:
            keep, note = self._replacement_version(replacement, version, w.targets)
            how = f"; use {replacement}{'==' + keep if keep else ''} instead{note}"
        else:
            how = "; drop it (it is an optional x86 accelerator)"
        self.facts.evidence.append(
            Evidence(dep.path, dep.line, f"{dep.name}: {info['reason']}", blocks_arm64=True, rule="ARCH101")
        )
        fix = edits.replace_fix(dep, replacement, keep, self.line_text(dep), self.lines.get(dep.path))
        yield self._finding(dep, "ARCH101", f"{dep.name}{dep.specifier} has no arm64 build: {info['reason']}{how}",
                            fix=fix)  # fmt: skip

    def _replacement_version(self, replacement: str, version: str | None, targets: Sequence[Target]
                             ) -> tuple[str | None, str]:  # fmt: skip
        """Keep the pinned version for the replacement where that release exists with wheels."""
        if not version:
            return None, ""
        ans = self.index.projects([replacement]).get(replacement)
        if not isinstance(ans, Project):
            return version, f" (version {version} not verified: {ans})" if ans else ""
        files = _release(ans, version)
        if files and all(classify(files, t) in (T_WHEEL, T_PURE) for t in targets):
            return version, ""
        # Versions of two projects are not comparable: take the replacement's newest release with
        # wheels for every target.
        newest = candidates(ans, "0", targets).newest
        if newest is not None:
            why = "has no wheels for every target" if files else "does not exist"
            return str(newest), f" ({replacement} {version} {why})"
        return None, f" ({replacement} has no release with wheels for every target)"
