"""Where a workload should run, from the verdicts on its images, with the reasons why."""

from __future__ import annotations

from dataclasses import dataclass

from archlint.facts import ImageVerdict

ARM64, AMD64 = "arm64", "amd64"
BOTH = frozenset({AMD64, ARM64})
NO_EVIDENCE = "no build context, override or registry answer"


def arches_of(platforms: tuple[str, ...]) -> frozenset[str]:
    """The CPU architectures of a platform list ("linux/arm64/v8" → arm64); both when not known."""
    if not platforms:
        return BOTH
    out = set()
    for p in platforms:
        parts = p.split("/")
        arch = parts[1] if len(parts) > 1 else parts[0]
        arch = {"x86_64": AMD64, "aarch64": ARM64}.get(arch, arch)
        if arch in BOTH:
            out.add(arch)
    return frozenset(out)


@dataclass(frozen=True)
class Recommendation:
    value: str  # arm64 | multi-arch | amd64 | unknown
    reasons: list[str]


def _blockers(v: ImageVerdict) -> list[str]:
    """Evidence lines that explain an x86-only verdict (skip the link and positive lines)."""
    skip = ("built from", "ci: ", "also named like", "rules/kb/base_images.toml: well-known image", "registry: ")
    lines = [e for e in v.evidence if not e.startswith(skip) and "publishes linux/arm64" not in e]
    return lines or v.evidence


def recommend(images: list[tuple[str, ImageVerdict | None]]) -> Recommendation:
    """`images`: (reference as written, verdict or None) for every container of the pod."""
    if not images:
        return Recommendation("unknown", ["the pod template names no image"])
    x86 = [(ref, v) for ref, v in images if v is not None and v.arm64 is False]
    unknown = [(ref, v) for ref, v in images if v is None or v.arm64 is None]
    if x86:
        reasons: list[str] = []
        for ref, x in x86:
            reasons.extend(f"{ref} is x86-only: {line}" for line in _blockers(x))
        reasons += [f"{ref}: {e}" for ref, x in x86 for e in x.evidence if e.startswith(("built from", "ci: "))]
        return Recommendation(AMD64, reasons)
    if unknown:
        reasons = []
        for ref, v in unknown:
            why = (
                "; ".join(v.evidence)
                if v is not None and v.evidence
                else "no build context, override or registry answer"
            )
            reasons.append(f"nothing vouches for {ref} on arm64: {why}")
        return Recommendation("unknown", reasons)
    # Every image's code runs on arm64: what its builds produce decides.
    common = BOTH
    for _ref, v in images:
        assert v is not None
        common = common & arches_of(v.platforms)
    ready = [f"{ref} is arm64-ready: " + "; ".join(v.evidence) for ref, v in images if v is not None]
    if common == BOTH:
        return Recommendation("multi-arch", ready)
    if common == {ARM64}:
        built = [
            f"{ref} is built for linux/arm64 only ({', '.join(v.platforms)})"
            for ref, v in images
            if v is not None and arches_of(v.platforms) == {ARM64}
        ]
        return Recommendation(ARM64, built + ready)
    if common == {AMD64}:
        amd = []
        for ref, v in images:
            if v is not None and ARM64 not in arches_of(v.platforms):
                builds = "; ".join(e for e in v.evidence if e.startswith("ci: ") or " builds " in e)
                amd.append(
                    f"{ref} is arm64-ready but built for linux/amd64 only: {builds}; add linux/arm64 to its build"
                )
        return Recommendation(AMD64, amd + ready)
    return Recommendation("unknown", ["no single architecture runs every image: " + "; ".join(
        f"{ref} built for {', '.join(v.platforms)}" for ref, v in images if v is not None)])  # fmt: skip
