"""Image verdicts: does the code an image is built from run on arm64?

x86-only when anything blocks (a dependency, source, binary or Dockerfile finding inside its
build context, or an amd64-only base image); arm64-ready when nothing blocks and the base image
supports arm64; unknown when nothing vouches either way. Config `image-overrides` wins.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from archlint.facts import UNKNOWN, Dependency, Evidence, Facts, ImageVerdict
from archlint.images import name_of
from archlint.placement import baseimages
from archlint.placement.links import Link
from archlint.placement.state import PlacementState

AMD64, ARM64 = "linux/amd64", "linux/arm64"
OVERRIDES = {"arm64": (True, (ARM64,)), "multi-arch": (True, (AMD64, ARM64)), "amd64": (False, (AMD64,))}
MAX_EVIDENCE = 50  # per image; the count of the rest is stated
_DOCKERFILE_KEY = "\0dockerfile:"  # index key of what a Dockerfile itself says


def under(path: str, directory: str) -> bool:
    return directory in ("", ".") or path == directory or path.startswith(directory.rstrip("/") + "/")


@dataclass
class Verdicts:
    """Computes verdicts for every linked image, following base images built in the repository."""

    facts: Facts
    state: PlacementState
    overrides: dict[str, str] = field(default_factory=dict)  # image name -> "arm64" | "multi-arch" | "amd64"
    config_path: str = "config"
    _memo: dict[str, ImageVerdict] = field(default_factory=dict)
    _active: set[str] = field(default_factory=set)
    _index: dict[str, tuple[list[Evidence], list[Dependency]]] | None = None

    def owner(self, path: str) -> str | None:
        """The deepest build-context directory holding `path` (monorepo services own their files)."""
        dirs = {lk.context.directory for lk in self.state.links.values()}
        cur = path
        while True:
            if cur in dirs:
                return cur
            if cur in ("", "."):
                return None
            cur = posixpath.dirname(cur) or "."

    def _owned(self, directory: str) -> tuple[list[Evidence], list[Dependency]]:
        """Evidence and dependencies under `directory` and no deeper context: one pass over all
        of them for every image (a monorepo has hundreds of contexts)."""
        if self._index is None:
            index: dict[str, tuple[list[Evidence], list[Dependency]]] = {}
            for ev in self.facts.evidence:
                for d in {self.owner(ev.path), _DOCKERFILE_KEY + ev.path}:
                    if d is not None:
                        index.setdefault(d, ([], []))[0].append(ev)
            for dep in self.facts.dependencies:
                for d in {self.owner(dep.path), _DOCKERFILE_KEY + dep.path}:
                    if d is not None:
                        index.setdefault(d, ([], []))[1].append(dep)
            self._index = index
        return self._index.get(directory, ([], []))

    def for_name(self, name: str) -> ImageVerdict | None:
        if name in self._memo:
            return self._memo[name]
        if name in self._active:  # a base-image cycle: nothing more to learn down this path
            return None
        self._active.add(name)
        try:
            verdict = self._compute(name)
        finally:
            self._active.discard(name)
        if verdict is not None:
            self._memo[name] = verdict
        return verdict

    def _compute(self, name: str) -> ImageVerdict | None:
        override = self.overrides.get(name)
        link = self.state.links.get(name)
        if override in OVERRIDES:
            arm64, platforms = OVERRIDES[override]
            ev = [f"{self.config_path}: image-overrides says {override}"]
            if link is not None:
                ev.append(f"build context {link.context.directory} (linked by {link.context.link}) not weighed")
            return ImageVerdict(ref=name, arm64=arm64, evidence=ev, platforms=platforms)
        if link is not None:
            return self._from_context(name, link)
        return _known(name, name)

    def for_ref(self, ref: str) -> ImageVerdict | None:
        """The verdict on one reference as written: its name's, else what the reference itself
        says (a tag such as `1.2-linux-amd64` names an x86-64 build)."""
        name = name_of(ref)
        if name is None:
            return None
        verdict = self.for_name(name)
        if verdict is not None or name in self.state.links:
            return verdict
        return _known(ref, name)

    def _belongs(self, path: str, link: Link) -> bool:
        ctx = link.context
        if path in self.state.dockerfiles:
            # Dockerfile evidence belongs to the image built from that Dockerfile only.
            return path == ctx.dockerfile
        if self.owner(path) != ctx.directory:
            return False
        scope = self._root_context_scope(link)
        return scope is None or any(under(path, s) for s in scope)

    def _root_context_scope(self, link: Link) -> list[str] | None:
        """A build from the repository root with a service's Dockerfile (`context: .`,
        `file: services/api/Dockerfile`) sees the whole tree, but only what its Dockerfile copies
        (and the Dockerfile's own directory) ends up in the image. None: no narrowing."""
        ctx = link.context
        df_dir = posixpath.dirname(ctx.dockerfile or "") or "."
        if ctx.directory != "." or df_dir == ".":
            return None
        analysis = self.state.dockerfiles.get(ctx.dockerfile or "")
        sources = [s for c in analysis.copies for s in c.sources] if analysis else []
        if "." in sources:
            return None  # COPY . : everything
        return [df_dir, *sources]

    def _from_context(self, name: str, link: Link) -> ImageVerdict:
        ctx = link.context
        # Blockers come first: consumers quote evidence[0] as the reason.
        evidence: list[str] = []
        where = f"built from {ctx.directory}/" if ctx.directory != "." else "built from the repository root"
        df = f" with {ctx.dockerfile}" if ctx.dockerfile else ""
        link_line = f"{where}{df} (linked by {ctx.link})"
        blockers: list[Evidence] = []
        positives: list[Evidence] = []
        owned_ev, owned_deps = self._owned(ctx.directory)
        df_ev, df_deps = self._owned(_DOCKERFILE_KEY + (ctx.dockerfile or ""))
        for ev in [*owned_ev, *(e for e in df_ev if e not in owned_ev)]:
            if not self._belongs(ev.path, link):
                continue
            if ev.blocks_arm64:
                blockers.append(ev)
            elif ev.arm64_ok:
                positives.append(ev)
        seen_deps = {(e.path, e.line) for e in blockers}
        unknown = 0
        for dep in [*owned_deps, *(d for d in df_deps if d not in owned_deps)]:
            if not self._belongs(dep.path, link):
                continue
            if dep.blocks_arm64 and (dep.path, dep.line) not in seen_deps:
                why = dep.reason or "no arm64 build"
                blockers.append(Evidence(dep.path, dep.line, f"{dep.name}: {why}", True, "dependency"))
            elif dep.status == UNKNOWN:
                unknown += 1
        copies = self.state.dockerfiles.get(ctx.dockerfile or "")
        for ev in blockers[:MAX_EVIDENCE]:
            line = _render(ev)
            # Binaries: say which COPY puts them into the image (the link to the binary finding).
            if copies is not None and ev.rule.startswith("ARCH5") and ev.path not in self.state.dockerfiles:
                cp = next((c for c in copies.copies if any(under(ev.path, s) for s in c.sources)), None)
                if cp is not None:
                    line += f" (copied into the image by {ctx.dockerfile}:{cp.line})"
            evidence.append(line)
        if len(blockers) > MAX_EVIDENCE:
            evidence.append(f"…and {len(blockers) - MAX_EVIDENCE} more blockers")
        evidence.append(link_line)
        if link.ambiguous:
            evidence.append(f"also named like directories {', '.join(link.ambiguous)}; link it in config `images`")
        base_ok = self._base(link, positives, evidence)
        if link.ci:
            for site in link.ci:
                plats = ",".join(site.platforms or ()) or "the runner's platform"
                evidence.append(f"ci: {site.path}:{site.line} builds {plats}")
        elif ctx.platforms:
            evidence.append(f"{link.primary.link} builds {','.join(ctx.platforms)}")
        if unknown:
            evidence.append(f"{unknown} dependenc{'y' if unknown == 1 else 'ies'} of unknown arm64 availability")
        if blockers:
            arm64: bool | None = False
        elif base_ok is None:
            arm64 = None
        else:
            arm64 = base_ok
        return ImageVerdict(ref=name, arm64=arm64, evidence=evidence, platforms=tuple(ctx.platforms))

    def _base(self, link: Link, positives: list[Evidence], evidence: list[str]) -> bool | None:
        """Whether the base image supports arm64 (True/False), None when nothing says."""
        ctx = link.context
        if ctx.dockerfile is None:
            evidence.append(f"no Dockerfile found for {ctx.directory} (expected {link.primary.dockerfile})")
            return None
        analysis = self.state.dockerfiles.get(ctx.dockerfile)
        if analysis is None:
            evidence.append(f"{ctx.dockerfile} could not be analysed")
            return None
        if not analysis.bases:
            return None
        line, base = analysis.bases[0]
        if base.lower() == "scratch":
            evidence.append(f"{ctx.dockerfile}:{line}: FROM scratch (no base image)")
            return True
        for ev in positives:
            if ev.path == ctx.dockerfile:
                evidence.append(_render(ev))
                return True
        if baseimages.lookup(base) is not None:
            return False  # amd64-only base: its blocker is already in the evidence
        base_name = name_of(base)
        if base_name and self.overrides.get(base_name) in OVERRIDES:
            # A team's own base image, declared once in `image-overrides`.
            value = self.overrides[base_name]
            evidence.append(f"{ctx.dockerfile}:{line}: base image {base}: {self.config_path}: image-overrides says "
                            f"{value}")  # fmt: skip
            return OVERRIDES[value][0]
        if base_name and base_name in self.state.links:
            inner = self.for_name(base_name)
            if inner is not None:
                state = {True: "arm64-ready", False: "x86-only", None: "of unknown arm64 support"}[inner.arm64]
                evidence.append(f"{ctx.dockerfile}:{line}: base image {base} is built here and is {state}")
                return inner.arm64
        evidence.append(f"{ctx.dockerfile}:{line}: base image {base}: linux/arm64 support unknown "
                        "(not a well-known image; set image-overrides or use --check-images)")  # fmt: skip
        return None


def _known(ref: str, name: str) -> ImageVerdict | None:
    """What the knowledge base (or the reference's own name) says about an image not built here."""
    info = baseimages.lookup(ref)
    if info is None:
        return None
    platforms = (AMD64, ARM64) if info.arm64 else (AMD64,)
    if info.by_name:
        return ImageVerdict(ref=name, arm64=False, evidence=[f"{ref}: {info.note}"], platforms=platforms)
    what = "publishes linux/arm64" if info.arm64 else "is published for linux/amd64 only"
    note = f" ({info.note})" if info.note else ""
    line = f"rules/kb/base_images.toml: well-known image {name} {what}{note}"
    return ImageVerdict(ref=name, arm64=info.arm64, evidence=[line], platforms=platforms)


def _render(ev: Evidence) -> str:
    # Some scanners start the reason with the path itself; say it once.
    reason = ev.reason.removeprefix(f"{ev.path}: ")
    return Evidence(ev.path, ev.line, reason, ev.blocks_arm64, ev.rule, ev.arm64_ok).render()
