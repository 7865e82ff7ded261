"""Registry evidence (`--check-images`): which platforms each workload image is published for.

Runs after the Kubernetes scanner (workloads, `placement.current`) and before placement, which
reads `facts.images`: the registry's answer replaces the build-context prediction as the
strongest evidence. A failed check leaves the image unknown with the reason; it never vouches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from archlint import images
from archlint.facts import Facts, ImageVerdict, Workload
from archlint.findings import Applicability, Finding, Fix
from archlint.registry.cache import PlatformCache
from archlint.registry.interface import (
    ImagePlatforms,
    OfflineError,
    RegistryClient,
    RegistryError,
    normalise_platform,
)
from archlint.scanning import ScanContext, Scanner, SourceFile

EXTRA_RESULTS = "registry.results"  # facts.extra: normalised ref -> ImagePlatforms | RegistryError
EXTRA_CONFLICTS = "registry.conflicts"  # facts.extra: {(workload label, image name)} already reported here
OFFLINE_REASON = "not checked: --offline forbids network access"


@dataclass
class _Uses:
    """Where one reference is written: (workload, the ref as written)."""

    sites: list[tuple[Workload, str]] = field(default_factory=list)


class _CacheOnly(RegistryClient):
    """Under --offline: a reference pinned by digest can still be answered from the cache."""

    def __init__(self, cache: PlatformCache) -> None:
        self.cache = cache

    def platforms(self, ref: images.ImageRef) -> ImagePlatforms:
        hit = self.cache.get(ref.digest) if ref.digest else None
        if hit is None:
            raise OfflineError(OFFLINE_REASON)
        return ImagePlatforms(str(ref), ref.digest or "", hit[0], hit[1], cached=True)


def _normalised(platforms: Iterable[str]) -> frozenset[str]:
    out = set()
    for p in platforms:
        parts = p.split("/")
        if len(parts) >= 2:
            out.add(normalise_platform(parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
    return frozenset(out)


def _listing(platforms: Iterable[str]) -> str:
    return ", ".join(sorted(platforms)) or "nothing"


class RegistryScanner(Scanner):
    name = "registry"
    kinds = frozenset[str]()
    order = 45

    def __init__(self, client_factory: Callable[[ScanContext], RegistryClient] | None = None) -> None:
        self.client_factory = client_factory

    def scan(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> Iterable[Finding]:
        if not ctx.check_images:
            return []
        return list(self._scan(ctx, facts))

    def _client(self, ctx: ScanContext, cache: PlatformCache) -> RegistryClient:
        if self.client_factory is not None:
            return self.client_factory(ctx)
        from archlint.registry.oci import DEFAULT_TIMEOUT, OCIRegistryClient  # requests loads only when needed

        return OCIRegistryClient(cache=cache, timeout=float(ctx.config.get("registry-timeout", DEFAULT_TIMEOUT)))

    def _scan(self, ctx: ScanContext, facts: Facts) -> Iterator[Finding]:
        uses: dict[images.ImageRef, _Uses] = {}
        for wl in facts.workloads:
            for written in wl.images:
                try:
                    ref = images.parse(written)
                except images.InvalidReference:
                    continue  # templated or malformed: the Kubernetes scanner reports those
                uses.setdefault(ref, _Uses()).sites.append((wl, written))
        if not uses:
            return
        cache = PlatformCache(ctx.cache_dir)
        if ctx.offline:
            first_wl = next(iter(uses.values())).sites[0][0]
            yield Finding(
                rule="ARCH605",
                message="--check-images was given with --offline: registries were not asked, so image platforms "
                "stay unknown (only digest-pinned images already in the cache were answered)",
                path=first_wl.path,
                line=first_wl.line,
                key="check-images-offline",
            )
            client: RegistryClient = _CacheOnly(cache)
        else:
            client = self._client(ctx, cache)
        # What each image's build context says it is built for (CI, skaffold, compose platforms). Not
        # facts.images[...].platforms: those may come from overrides or the well-known-image list.
        predicted: dict[str, tuple[tuple[str, ...], str]] = {}
        for bc in facts.build_contexts:
            name = images.name_of(bc.image)
            if name and bc.platforms and name not in predicted:
                predicted[name] = (bc.platforms, bc.link)
        from archlint.registry.oci import check_many

        results = check_many(client, uses)
        facts.extra.setdefault(EXTRA_RESULTS, {}).update({str(r): res for r, res in results.items()})
        conflicts: set[tuple[str, str]] = facts.extra.setdefault(EXTRA_CONFLICTS, set())
        by_name: dict[str, list[tuple[images.ImageRef, ImagePlatforms | RegistryError]]] = {}
        for ref, res in results.items():
            by_name.setdefault(ref.name, []).append((ref, res))
        for ref, res in results.items():
            sites = uses[ref].sites
            if isinstance(res, ImagePlatforms):
                self._record_workloads(sites, res.platforms, "arm64" in res.arches, f"registry: {res.describe()}")
                yield from self._conflicts(ref, res, sites, conflicts)
                yield from self._drift(ref, res, sites, predicted.get(ref.name))
            else:
                line = f"registry: {ref}: platforms unknown ({res})"
                self._record_workloads(sites, None, None, line)
                if not isinstance(res, OfflineError):
                    for wl, written in sites:
                        yield Finding(
                            rule="ARCH604",
                            message=f"could not ask the registry which platforms {written} is published for "
                            f"({res.reason}: {res}); its arm64 support stays unknown",
                            path=wl.path,
                            line=wl.line,
                            workload=wl.id,
                            key=f"{ref}:unknown",
                        )
        for name, answers in by_name.items():
            self._record_image(facts, name, answers, uses)

    # --- verdicts -----------------------------------------------------------------------------

    @staticmethod
    def _record_workloads(
        sites: list[tuple[Workload, str]], platforms: tuple[str, ...] | None, arm64: bool | None, line: str
    ) -> None:
        """The per-reference verdict each workload reports (JSON `workloads[].images[]`)."""
        for wl, written in sites:
            verdict = next((v for v in wl.image_verdicts if v.ref == written), None)
            if verdict is None:
                verdict = ImageVerdict(ref=written, arm64=None)
                wl.image_verdicts.append(verdict)
            if line in verdict.evidence:
                continue
            if platforms is None:
                verdict.evidence.append(line)
                continue
            verdict.evidence.insert(0, line)
            verdict.platforms = platforms
            verdict.arm64 = arm64

    @staticmethod
    def _record_image(
        facts: Facts,
        name: str,
        answers: list[tuple[images.ImageRef, ImagePlatforms | RegistryError]],
        uses: dict[images.ImageRef, _Uses],
    ) -> None:
        """facts.images[name]: the registry's answer is the strongest evidence. With several tags of
        one image, only the platforms every referenced tag is published for count."""
        verdict = facts.images.get(name)
        if verdict is None:
            verdict = facts.images[name] = ImageVerdict(ref=uses[answers[0][0]].sites[0][1], arm64=None)
        published = [res for _, res in answers if isinstance(res, ImagePlatforms)]
        lines = [f"registry: {res.describe()}" for res in published]
        lines += [f"registry: {ref}: platforms unknown ({res})" for ref, res in answers if isinstance(res, Exception)]
        verdict.evidence[:0] = [ln for ln in lines if ln not in verdict.evidence]
        if published:
            common = set(published[0].platforms).intersection(*(r.platforms for r in published[1:]))
            verdict.platforms = tuple(sorted(common))
            verdict.arm64 = all("arm64" in r.arches for r in published)

    # --- findings -----------------------------------------------------------------------------

    @staticmethod
    def _conflicts(
        ref: images.ImageRef, res: ImagePlatforms, sites: list[tuple[Workload, str]], seen: set[tuple[str, str]]
    ) -> Iterator[Finding]:
        published = _listing(res.platforms)
        for wl, written in sites:
            current = wl.placement.current if wl.placement is not None else []
            for arch, rule, other in (("arm64", "ARCH601", "amd64"), ("amd64", "ARCH602", "arm64")):
                if arch not in current or arch in res.arches:
                    continue
                seen.add((wl.label, ref.name))  # the label tells two renders of one id apart
                yield Finding(
                    rule=rule,
                    message=f"{wl.label} can be scheduled on {arch} nodes, but {written} is published only for "
                    f"{published} (digest {res.digest}): on an {arch} node the container fails with "
                    "`exec format error`",
                    path=wl.path,
                    line=wl.line,
                    workload=wl.id,
                    key=f"{ref.name}:{arch}",
                    fix=Fix(
                        f"require kubernetes.io/arch={other} for {wl.label}, or publish {written} for linux/{arch} "
                        f"(docker buildx build --platform linux/{other},linux/{arch} --push)",
                        Applicability.MANUAL,
                    ),
                )

    @staticmethod
    def _drift(
        ref: images.ImageRef,
        res: ImagePlatforms,
        sites: list[tuple[Workload, str]],
        predicted: tuple[tuple[str, ...], str] | None,
    ) -> Iterator[Finding]:
        if not predicted:
            return
        # Normalised, so a build for linux/arm64 and a published linux/arm64/v8 agree.
        want, have = _normalised(predicted[0]), _normalised(res.platforms)
        if not want or want == have:
            return
        missing, extra = sorted(want - have), sorted(have - want)
        detail = "; ".join(
            part
            for part in (
                f"missing {_listing(missing)}" if missing else "",
                f"not built by CI: {_listing(extra)}" if extra else "",
            )
            if part
        )
        wl, written = sites[0]
        yield Finding(
            rule="ARCH603",
            message=f"{written} is published for {_listing(res.platforms)} but its build ({predicted[1]}) produces "
            f"{_listing(want)} ({detail}): the tag was pushed by another pipeline or before the build changed",
            path=wl.path,
            line=wl.line,
            key=f"{ref}:drift",
        )
