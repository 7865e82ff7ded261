"""Image verdicts (before the Kubernetes scanner) and placement per workload (last of all)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from archlint.facts import Facts, ImageVerdict, Placement, Workload
from archlint.findings import Applicability, Finding, Fix
from archlint.images import name_of
from archlint.placement import state
from archlint.placement.recommend import AMD64, ARM64, arches_of, recommend
from archlint.placement.sites import BuildSite
from archlint.placement.verdict import Verdicts
from archlint.scanning import ScanContext, Scanner, SourceFile

REGISTRY_CONFLICTS = "registry.conflicts"  # set by the registry scanner: {(workload label, image name)}


def _verdicts(ctx: ScanContext, facts: Facts) -> Verdicts:
    st = state.get(facts)
    v = facts.extra.get("placement.verdicts")
    if isinstance(v, Verdicts):
        return v
    overrides = {}
    for ref, value in (ctx.config.get("image-overrides") or {}).items():
        name = name_of(ref)
        if name:
            overrides[name] = value
    where = ctx.rel(ctx.config.path) if ctx.config.path else "config"
    v = Verdicts(facts, st, overrides, f"{where}")
    facts.extra["placement.verdicts"] = v
    return v


class ImageVerdictScanner(Scanner):
    """facts.images for every linked image and every well-known image manifests use, so the
    Kubernetes scanner can report conflicts as it reads the workloads."""

    name = "image-verdicts"
    kinds = frozenset[str]()
    order = 35

    def scan(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> Iterable[Finding]:
        st = state.get(facts)
        verdicts = _verdicts(ctx, facts)
        names = set(st.links) | set(st.wanted) | set(verdicts.overrides)
        for name in sorted(names):
            v = verdicts.for_ref(st.wanted.get(name, name))
            if v is not None and name not in facts.images:
                facts.images[name] = v
        st.preseen = set(facts.images)
        return []


def _text_of(ctx: ScanContext, path: str) -> str | None:
    for f in ctx.files:
        if f.rel == path:
            try:
                return f.read_text()
            except Exception:
                return None
    return None


def _profile(ctx: ScanContext) -> Any:
    try:
        from archlint.k8s.profile import load_profile
    except ImportError:
        return None
    try:
        return load_profile(ctx)
    except Exception:  # a bad profile is reported (exit 2) by the Kubernetes scanner
        return None


def _placement_edits(wl: Workload, text: str | None, want: str, profile: Any) -> tuple[dict[str, Any] | None, Any]:
    if text is None or profile is None:
        return None, ()
    try:
        from archlint.k8s.edits import placement_edits
    except ImportError:
        return None, ()
    patch, edits = placement_edits(wl, text, want, profile)
    return patch, tuple(edits)


class PlacementScanner(Scanner):
    name = "placement"
    kinds = frozenset[str]()
    order = 90

    def scan(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> Iterable[Finding]:
        if not facts.workloads:
            return []
        return list(self._scan(ctx, facts))

    def _scan(self, ctx: ScanContext, facts: Facts) -> Iterator[Finding]:
        st = state.get(facts)
        verdicts = _verdicts(ctx, facts)
        profile = _profile(ctx)
        reported: set[tuple[str, str]] = facts.extra.get(REGISTRY_CONFLICTS) or set()
        texts: dict[str, str | None] = {}
        for wl in facts.workloads:
            pairs: list[tuple[str, ImageVerdict | None]] = []
            for ref in wl.images:
                name = name_of(ref)
                verdict = facts.images.get(name) if name else None
                if verdict is None and name:
                    verdict = verdicts.for_ref(ref)  # a tag may say what the name does not
                    if verdict is not None and verdicts.for_name(name) is not None:
                        facts.images[name] = verdict
                pairs.append((ref, self._attach(wl, ref, verdict)))
            rec = recommend(pairs)
            current = list(wl.placement.current) if wl.placement else []
            reasons = rec.reasons
            if wl.path not in texts:
                texts[wl.path] = _text_of(ctx, wl.path)
            patch = None
            if rec.value != "unknown":
                patch, _ = _placement_edits(wl, texts[wl.path], rec.value, profile)
            if wl.placement is None:
                wl.placement = Placement(current=current)
            wl.placement.recommendation = rec.value
            wl.placement.reasons = reasons
            wl.placement.patch = patch
            yield from self._findings(wl, pairs, current, st, reported, texts[wl.path], profile)

    @staticmethod
    def _attach(wl: Workload, ref: str, verdict: ImageVerdict | None) -> ImageVerdict | None:
        """The per-reference verdict in the workload's report; a registry answer already there wins."""
        existing = next((v for v in wl.image_verdicts if v.ref == ref), None)
        if verdict is None:
            return existing
        if existing is None:
            mine = ImageVerdict(ref=ref, arm64=verdict.arm64, evidence=list(verdict.evidence),
                                platforms=verdict.platforms)  # fmt: skip
            wl.image_verdicts.append(mine)
            return mine
        existing.evidence.extend(e for e in verdict.evidence if e not in existing.evidence)
        if existing.arm64 is None:
            existing.arm64 = verdict.arm64
            existing.platforms = existing.platforms or verdict.platforms
        return existing

    def _findings(
        self,
        wl: Workload,
        pairs: list[tuple[str, ImageVerdict | None]],
        current: list[str],
        st: state.PlacementState,
        reported: set[tuple[str, str]],
        text: str | None,
        profile: Any,
    ) -> Iterator[Finding]:
        for ref, v in pairs:
            name = name_of(ref) or ref
            if v is None or v.arm64 is None:
                why = (
                    "; ".join(v.evidence)
                    if v is not None and v.evidence
                    else "no build context, override or registry answer"
                )
                yield Finding(
                    rule="ARCH306",
                    message=f"nothing vouches for {ref} on arm64 ({why}); link it in config `images`, set "
                    "`image-overrides`, or run with --check-images",
                    path=wl.path,
                    line=wl.line,
                    workload=wl.id,
                    key=f"unknown:{name}",
                )
                continue
            if (wl.label, name) in reported:
                continue  # the registry scanner reported this conflict from the published manifest
            arches = arches_of(v.platforms)
            # x86-only images that had a verdict before the Kubernetes scanner ran had their
            # conflict reported there (ARCH201); only later verdicts are ours. arm64-only images
            # that can land on amd64 are always ours (ARCH307; the Kubernetes scanner reports the
            # preferred-only case as ARCH205).
            late = name not in st.preseen
            if v.arm64 is False and ARM64 in current and late:
                yield self._pin(wl, ref, name, "ARCH308", AMD64, text, profile,
                                f"{wl.label} can be scheduled on arm64 nodes but {ref} is x86-only: "
                                + v.evidence[0])  # fmt: skip
            elif v.arm64 and arches == {ARM64} and AMD64 in current and not self._prefers_arm64(wl):
                msg = f"{wl.label} can be scheduled on amd64 nodes but {ref} is built for linux/arm64 only"
                yield self._pin(wl, ref, name, "ARCH307", ARM64, text, profile, msg)
            elif v.arm64 is not False and ARM64 in current and ARM64 not in arches:
                # What publishes the image: its CI builds; without any, a build tool that names
                # its platforms (skaffold, compose).
                link = st.links.get(name)
                builds = (link.ci or [s for s in link.sites if s.platforms is not None]) if link else []
                for site in builds:
                    if site.platforms is not None and ARM64 not in arches_of(site.platforms):
                        yield self._ci(wl, ref, name, site)

    @staticmethod
    def _prefers_arm64(wl: Workload) -> bool:
        try:
            from archlint.k8s import schedule
        except ImportError:
            return False
        return bool(schedule.prefers_arch(wl.pod_spec, "arm64")) and not schedule.arch_restriction(wl.pod_spec)

    @staticmethod
    def _pin(wl: Workload, ref: str, name: str, rule: str, want: str, text: str | None, profile: Any,
             message: str) -> Finding:  # fmt: skip
        _patch, edits = _placement_edits(wl, text, want, profile)
        fix = Fix(f"require kubernetes.io/arch: {want} on {wl.label}", Applicability.UNSAFE, edits) if edits else None
        return Finding(rule=rule, message=message, path=wl.path, line=wl.line, workload=wl.id,
                       key=f"{rule}:{name}", fix=fix)  # fmt: skip

    @staticmethod
    def _ci(wl: Workload, ref: str, name: str, site: BuildSite) -> Finding:
        plats = ", ".join(site.platforms or ()) or "the runner's platform only"
        note = f"; {site.fix_note}" if site.fix is None and site.fix_note else ""
        return Finding(
            rule="ARCH305",
            message=f"{wl.label} can be scheduled on arm64 nodes but this build of {ref} produces {plats} only "
            f"(no linux/arm64){note}",
            path=site.path,
            line=site.line,
            workload=wl.id,
            key=f"ci:{name}",
            fix=site.fix,
        )
