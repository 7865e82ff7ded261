"""Where a workload should run, from the verdicts on its images, with the reasons why."""

from __future__ import annotations

import re
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


# Evidence lines that explain, vouch or link rather than block (see verdict.py).
_NOT_BLOCKING = re.compile(
    r"^(built from |ci: |also named like |registry: |config image-overrides|[^:]+: image-overrides says )"
    r"|publishes linux/arm64|^\d+ dependenc(y|ies) of unknown| builds [\w/,]+$|: FROM scratch|support unknown"
    r"|is built here and is (arm64-ready|of unknown)"
)


def _blockers(v: ImageVerdict) -> list[str]:
    """Evidence lines that explain an x86-only verdict."""
    lines = [e for e in v.evidence if not _NOT_BLOCKING.search(e)]
    return lines or v.evidence[:1]


def _built(v: ImageVerdict) -> str:
    if not v.platforms:
        return "build platforms not stated (a multi-platform build is assumed possible)"
    return f"built for {', '.join(v.platforms)}"


def _details(ref: str, v: ImageVerdict) -> list[str]:
    return [f"{ref}: {e}" for e in v.evidence]


def recommend(images: list[tuple[str, ImageVerdict | None]]) -> Recommendation:
    """`images`: (reference as written, verdict or None) for every container of the pod.

    reasons[0] is the one-line answer (the report's "top reason"); the rest is the evidence chain.
    """
    if not images:
        return Recommendation("unknown", ["the pod template names no image"])
    x86 = [(ref, v) for ref, v in images if v is not None and v.arm64 is False]
    unknown = [(ref, u) for ref, u in images if u is None or u.arm64 is None]
    reasons: list[str] = []
    if x86:
        for ref, x in x86:
            reasons.extend(f"{ref} is x86-only: {line}" for line in _blockers(x))
        for ref, x in x86:
            reasons.extend(r for r in _details(ref, x) if r not in reasons and not r.endswith(tuple(_blockers(x))))
        return Recommendation(AMD64, reasons)
    if unknown:
        for ref, u in unknown:
            why = "; ".join(u.evidence) if u is not None and u.evidence else NO_EVIDENCE
            reasons.append(f"nothing vouches for {ref} on arm64: {why}")
        return Recommendation("unknown", reasons)
    # Every image's code runs on arm64: what its builds produce decides.
    verdicts = [(ref, v) for ref, v in images if v is not None]
    common = BOTH
    for _ref, v in verdicts:
        common = common & arches_of(v.platforms)
    details = [d for ref, v in verdicts for d in _details(ref, v)]
    if common == BOTH:
        head = [f"{ref} is arm64-ready, {_built(v)}" for ref, v in verdicts]
        return Recommendation("multi-arch", head + details)
    if common == {ARM64}:
        head = [f"{ref} is built for linux/arm64 only" for ref, v in verdicts if arches_of(v.platforms) == {ARM64}]
        return Recommendation(ARM64, head + details)
    if common == {AMD64}:
        head = [
            f"{ref} is arm64-ready but built for linux/amd64 only; build it for linux/arm64 too to run it on both"
            for ref, v in verdicts
            if ARM64 not in arches_of(v.platforms)
        ]
        return Recommendation(AMD64, head + details)
    built = "; ".join(f"{ref} {_built(v)}" for ref, v in verdicts)
    return Recommendation("unknown", [f"no single architecture runs every image: {built}", *details])
