"""What the dependency check knows about one dependency while it decides (shared by check and verdicts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from archlint.deps.index.interface import DistFile, IndexServiceError
from archlint.deps.resolve.finder import Releases
from archlint.deps.targets import AMD64, ARM64
from archlint.facts import T_NONE, T_UNKNOWN, Dependency, Target


@dataclass
class Pick:
    """What pip installs for one dependency on one target."""

    version: str | None
    kind: str  # T_WHEEL | T_PURE | T_SDIST | T_NONE | T_UNKNOWN
    file: DistFile | None = None
    why: str = ""  # for T_NONE / T_UNKNOWN: the reason


@dataclass
class Work:
    dep: Dependency
    targets: list[Target]  # applicable targets (marker evaluated)
    releases: Releases | None = None
    error: IndexServiceError | None = None
    picks: dict[Target, Pick] = field(default_factory=dict)
    hashes: frozenset[str] | None = None
    unpinned: bool = False
    kb: Mapping[str, str] | None = None  # the knowledge base's entry, when it has one
    from_lock: bool = False  # picks come from the lockfile's own file list
    yanked_pin: bool = False  # an exact pin of a release whose files are all yanked
    owner: Work | None = None  # transitive: the direct requirement that pulls it in
    extra_route: bool = False  # transitive: only the owner's extras bring it in (on some arm64 target)
    # direct: what below it could not be followed: (package, "deps" | "lookup", why)
    tree_unknown: list[tuple[str, str, str]] = field(default_factory=list)
    tree_failed: str | None = None  # direct: pip could not resolve the tree (per arm64 target)
    conflicts: list[tuple[Target, str, str]] = field(default_factory=list)  # direct: (target, package, why)
    constraint: SpecifierSet | None = None  # what the -c lines without a marker allow of it
    # arm64 targets whose pick is a wheel tagged for any platform that carries x86 ELF files
    # (and none for arm64): pip installs it there, and it fails when it loads them
    x86_bundled: dict[Target, tuple[str, ...]] = field(default_factory=dict)

    @property
    def transitive(self) -> bool:
        return self.owner is not None

    def arm(self) -> dict[Target, Pick]:
        return {t: p for t, p in self.picks.items() if t.platform == ARM64}

    def twin(self, t: Target) -> Pick | None:
        """The amd64 pick for an arm64 target (same Python and libc)."""
        return self.picks.get(Target(AMD64, t.python, t.libc, t.libc_version))

    def checked_version(self) -> str | None:
        for p in self.arm().values():
            if p.version:
                return p.version
        return next((p.version for p in self.picks.values() if p.version), None)

    def specifier(self) -> SpecifierSet | None:
        """The requirement's specifier, narrowed to its -c constraints; None when it does not parse."""
        dep = self.dep
        try:
            spec = SpecifierSet(dep.specifier or "")
        except InvalidSpecifier:
            return None
        if self.constraint is not None:
            spec &= self.constraint
        if dep.version and not any(s.operator in ("==", "===") for s in spec):
            try:
                spec &= SpecifierSet(f"=={dep.version}")
            except InvalidSpecifier:
                return None
        return spec

    def unknown(self, reason: str) -> None:
        self.picks = {t: Pick(None, T_UNKNOWN, why=reason) for t in self.targets}

    def none_anywhere(self) -> bool:
        """Nothing installs on any target of this dependency (amd64 included)."""
        return bool(self.picks) and all(p.kind == T_NONE for p in self.picks.values())


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
    """The one version a requirement pins (`==1.2`, `===1.2`, or a -c constraint), else None."""
    if dep.version:
        return dep.version
    try:
        spec = list(SpecifierSet(dep.specifier)) if dep.specifier else []
    except InvalidSpecifier:
        return None
    if len(spec) == 1 and spec[0].operator in ("==", "===") and "*" not in spec[0].version:
        return spec[0].version
    return None
