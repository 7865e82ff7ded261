"""The registry scanner on hand-made workload facts, against the real docker-registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from registry_support.catalog import Pushed

from archlint.config import Config
from archlint.facts import BuildContext, Facts, ImageVerdict, Placement, Workload
from archlint.findings import Finding
from archlint.registry.interface import RegistryClient
from archlint.scanners.registry import EXTRA_CONFLICTS, RegistryScanner
from archlint.scanning import ScanContext

pytest_plugins = ["registry_support.fixtures"]


def workload(name: str, images: list[str], current: list[str], line: int = 1) -> Workload:
    return Workload(
        kind="Deployment",
        name=name,
        namespace="shop",
        path="deploy/app.yaml",
        line=line,
        images=images,
        pod_spec={"containers": [{"name": "c", "image": i} for i in images]},
        placement=Placement(current=current),
    )


def context(tmp_path: Path, *, offline: bool = False, check: bool = True) -> ScanContext:
    return ScanContext(
        root=tmp_path, config=Config(), offline=offline, cache_dir=tmp_path / "cache", check_images=check
    )


def scan(ctx: ScanContext, facts: Facts, scanner: RegistryScanner | None = None) -> list[Finding]:
    return list((scanner or RegistryScanner()).scan([], ctx, facts))


class Refusing(RegistryClient):
    """Fails the test if the scanner asks a registry."""

    def __init__(self) -> None:
        self.calls = 0

    def platforms(self, ref):  # type: ignore[no-untyped-def]
        self.calls += 1
        raise AssertionError(f"network use for {ref}")


def test_nothing_happens_without_check_images(registry: Pushed, tmp_path: Path) -> None:
    refusing = Refusing()
    facts = Facts(workloads=[workload("api", [registry.ref("archlint/amd64only:1.0")], ["amd64", "arm64"])])
    assert scan(context(tmp_path, check=False), facts, RegistryScanner(lambda ctx: refusing)) == []
    assert refusing.calls == 0 and facts.images == {} and facts.workloads[0].image_verdicts == []


def test_amd64_only_image_on_an_arm64_capable_workload(registry: Pushed, tmp_path: Path) -> None:
    ref = registry.ref("archlint/amd64only:1.0")
    wl = workload("api", [ref], ["amd64", "arm64"], line=7)
    facts = Facts(workloads=[wl])
    (finding,) = scan(context(tmp_path), facts)
    digest = registry.digests["archlint/amd64only:1.0"]
    assert finding.rule == "ARCH601"
    assert finding.workload == "Deployment/shop/api"
    assert (finding.path, finding.line) == ("deploy/app.yaml", 7)
    assert "published only for linux/amd64" in finding.message and digest in finding.message
    assert finding.fix is not None and "kubernetes.io/arch=amd64" in finding.fix.description
    name = f"{registry.host}/archlint/amd64only"
    verdict = facts.images[name]
    assert verdict.arm64 is False and verdict.platforms == ("linux/amd64",)
    assert verdict.evidence[0] == f"registry: {ref} published for linux/amd64 (digest {digest})"
    (mine,) = wl.image_verdicts
    assert mine.ref == ref and mine.arm64 is False and mine.evidence == verdict.evidence
    assert (wl.label, name) in facts.extra[EXTRA_CONFLICTS]


def test_one_id_rendered_twice_is_two_workloads(registry: Pushed, tmp_path: Path) -> None:
    # The same base through two overlays: only the arm64-capable render conflicts, and only its
    # conflict is recorded as reported (placement still judges the other one itself).
    ref = registry.ref("archlint/amd64only:1.0")
    arm, amd = workload("api", [ref], ["amd64", "arm64"]), workload("api", [ref], ["amd64"])
    arm.source, amd.source = "overlays/graviton", "overlays/x86"
    facts = Facts(workloads=[arm, amd])
    (finding,) = scan(context(tmp_path), facts)
    assert finding.rule == "ARCH601" and arm.id == amd.id
    name = f"{registry.host}/archlint/amd64only"
    assert facts.extra[EXTRA_CONFLICTS] == {(arm.label, name)}


@pytest.mark.parametrize(
    ("image", "current", "rules"),
    [
        ("archlint/multi:1.0", ["amd64", "arm64"], []),
        ("archlint/dockerlist:1.0", ["arm64"], []),
        ("archlint/amd64only:1.0", ["amd64"], []),
        ("archlint/amd64only:1.0", [], []),
        ("archlint/arm64only:1.0", ["arm64"], []),
        ("archlint/arm64only:1.0", ["amd64", "arm64"], ["ARCH602"]),
        ("archlint/attested:1.0", ["arm64"], ["ARCH601"]),  # the attestation entry is no arm64 build
        ("team/deep/nested/api:2.0", ["amd64", "arm64"], []),
    ],
)
def test_conflicts_by_where_the_pod_can_land(
    registry: Pushed, tmp_path: Path, image: str, current: list[str], rules: list[str]
) -> None:
    facts = Facts(workloads=[workload("w", [registry.ref(image)], current)])
    assert [f.rule for f in scan(context(tmp_path), facts)] == rules


def test_registry_answer_overrides_the_build_context_verdict(registry: Pushed, tmp_path: Path) -> None:
    ref = registry.ref("archlint/multi:1.0")
    name = f"{registry.host}/archlint/multi"
    facts = Facts(workloads=[workload("api", [ref], ["amd64", "arm64"])])
    facts.images[name] = ImageVerdict(ref=name, arm64=None, evidence=["api/Dockerfile:1: base image unknown"])
    assert scan(context(tmp_path), facts) == []
    verdict = facts.images[name]
    assert verdict.arm64 is True and verdict.platforms == ("linux/amd64", "linux/arm64")
    assert verdict.evidence[0].startswith(f"registry: {ref} published for linux/amd64, linux/arm64 (digest sha256:")
    assert verdict.evidence[1] == "api/Dockerfile:1: base image unknown"


def test_published_platforms_differ_from_the_build(registry: Pushed, tmp_path: Path) -> None:
    amd = registry.ref("archlint/amd64only:1.0")
    multi = registry.ref("archlint/multi:1.0")
    facts = Facts(
        workloads=[workload("api", [amd], ["amd64"]), workload("web", [multi], ["amd64", "arm64"])],
        build_contexts=[
            BuildContext(image=f"{registry.host}/archlint/amd64only", directory="api", dockerfile="api/Dockerfile",
                         link="ci: .github/workflows/api.yml:14", platforms=("linux/amd64", "linux/arm64")),
            BuildContext(image=f"{registry.host}/archlint/multi", directory="web", dockerfile="web/Dockerfile",
                         link="skaffold.yaml:9", platforms=("linux/arm64/v8", "linux/amd64")),
        ],
    )  # fmt: skip
    (drift,) = scan(context(tmp_path), facts)
    assert drift.rule == "ARCH603" and drift.workload is None
    assert "missing linux/arm64" in drift.message and ".github/workflows/api.yml:14" in drift.message
    assert drift.key.endswith("archlint/amd64only:1.0:drift")


def test_failures_leave_the_image_unknown(registry: Pushed, tmp_path: Path) -> None:
    missing = registry.ref("archlint/amd64only:9.9")
    facts = Facts(workloads=[workload("a", [missing], ["amd64", "arm64"]), workload("b", [missing], ["arm64"])])
    findings = scan(context(tmp_path), facts)
    assert [(f.rule, f.workload) for f in findings] == [
        ("ARCH604", "Deployment/shop/a"),
        ("ARCH604", "Deployment/shop/b"),
    ]
    assert "not found" in findings[0].message
    verdict = facts.images[f"{registry.host}/archlint/amd64only"]
    assert verdict.arm64 is None and verdict.platforms == ()
    assert "platforms unknown" in verdict.evidence[0] and "not found" in verdict.evidence[0]
    assert all(v.arm64 is None for wl in facts.workloads for v in wl.image_verdicts)


def test_a_failure_never_vouches_and_never_erases(registry: Pushed, tmp_path: Path) -> None:
    good, bad = registry.ref("archlint/amd64only:1.0"), registry.ref("archlint/amd64only:2.0")
    name = f"{registry.host}/archlint/amd64only"
    facts = Facts(workloads=[workload("a", [good], ["amd64"]), workload("b", [bad], ["amd64"])])
    facts.images[name] = ImageVerdict(ref=name, arm64=True, evidence=["web/Dockerfile: builds for arm64"])
    rules = [f.rule for f in scan(context(tmp_path), facts)]
    assert rules == ["ARCH604"]
    verdict = facts.images[name]
    assert verdict.arm64 is False  # the one tag the registry answered is amd64-only
    assert any("2.0: platforms unknown" in e for e in verdict.evidence)
    assert "web/Dockerfile: builds for arm64" in verdict.evidence


def test_unreachable_registry(tmp_path: Path) -> None:
    from registry_support.servers import free_port

    ref = f"127.0.0.1:{free_port()}/acme/api:1.0"
    facts = Facts(workloads=[workload("api", [ref], ["arm64"])])
    (finding,) = scan(context(tmp_path), facts)
    assert finding.rule == "ARCH604" and "cannot connect" in finding.message
    assert facts.workloads[0].image_verdicts[0].arm64 is None


def test_offline_asks_no_registry_but_uses_cached_digests(registry: Pushed, tmp_path: Path) -> None:
    digest = registry.digests["archlint/multi:1.0"]
    pinned = f"{registry.host}/archlint/multi@{digest}"
    tagged = registry.ref("archlint/amd64only:1.0")
    # Online once, to fill the cache.
    scan(context(tmp_path), Facts(workloads=[workload("warm", [pinned], ["arm64"])]))
    refusing = Refusing()
    facts = Facts(workloads=[workload("api", [pinned, tagged], ["amd64", "arm64"])])
    findings = scan(context(tmp_path, offline=True), facts, RegistryScanner(lambda ctx: refusing))
    assert [f.rule for f in findings] == ["ARCH605"]
    assert "--offline" in findings[0].message
    assert refusing.calls == 0
    by_ref = {v.ref: v for v in facts.workloads[0].image_verdicts}
    assert by_ref[pinned].arm64 is True and "published for linux/amd64, linux/arm64" in by_ref[pinned].evidence[0]
    assert by_ref[tagged].arm64 is None and "--offline" in by_ref[tagged].evidence[0]


def test_references_that_are_not_images_are_skipped(registry: Pushed, tmp_path: Path) -> None:
    facts = Facts(workloads=[workload("t", ["{{ .Values.image }}", "${IMAGE}", ""], ["arm64"])])
    assert scan(context(tmp_path), facts) == []
    assert facts.images == {}
