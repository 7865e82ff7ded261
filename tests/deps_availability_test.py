"""Availability from recorded real PyPI pages (fixtures/deps/index), no server needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from archlint.deps.availability import classify, status_of
from archlint.deps.index.interface import Project
from archlint.deps.index.simple_json import parse_page, releases
from archlint.deps.upgrade import candidates
from archlint.facts import Target

RECORDED = Path(__file__).resolve().parent.parent / "fixtures" / "deps" / "index"
ARM311 = Target("linux/arm64", "3.11")
AMD311 = Target("linux/amd64", "3.11")


def project(name: str) -> Project:
    return Project(name, "test", releases(parse_page((RECORDED / f"{name}.json").read_bytes(), "test")))


@pytest.mark.parametrize(
    ("name", "version", "target", "expected"),
    [
        ("numpy", "1.19.5", ARM311, "sdist"),  # no cp311 wheels anywhere
        ("numpy", "1.23.2", ARM311, "wheel"),
        ("pyyaml", "5.4", Target("linux/arm64", "3.9"), "sdist"),
        ("pyyaml", "5.4", Target("linux/amd64", "3.9"), "wheel"),
        ("cryptography", "41.0.7", ARM311, "wheel"),  # cp37-abi3
        ("cryptography", "41.0.7", Target("linux/arm64", "3.12", "musl", "1.2"), "wheel"),  # musllinux_1_1
        ("orjson", "3.6.0", Target("linux/arm64", "3.9", "musl", "1.2"), "sdist"),  # no musllinux wheels yet
        ("orjson", "3.10.0", Target("linux/arm64", "3.12", "musl", "1.2"), "wheel"),
        ("requests", "2.31.0", ARM311, "pure"),
        ("requests", "2.32.0", ARM311, "none"),  # every file yanked
        ("docopt", "0.6.2", ARM311, "sdist"),
        ("onnxruntime-gpu", "1.17.0", ARM311, "none"),
        ("onnxruntime-gpu", "1.17.0", AMD311, "wheel"),
        ("onnxruntime-gpu", "1.29.0", ARM311, "wheel"),  # manylinux_2_34 <= 2.36
        ("onnxruntime-gpu", "1.29.0", Target("linux/arm64", "3.11", "glibc", "2.31"), "none"),
    ],
)
def test_classify_recorded_releases(name: str, version: str, target: Target, expected: str) -> None:
    assert classify(project(name).releases[version], target) == expected


def test_requires_python_excludes_files() -> None:
    # numpy 2.0.0 requires Python >= 3.9: nothing (not even the sdist) installs on 3.8.
    assert classify(project("numpy").releases["2.0.0"], Target("linux/arm64", "3.8")) == "none"


def test_hashes_restrict_the_files_that_count() -> None:
    files = project("requests").releases["2.31.0"]
    sdist = next(f for f in files if f.filename.endswith(".tar.gz"))
    assert sdist.sha256
    assert classify(files, ARM311, frozenset({sdist.sha256})) == "sdist"
    assert classify(files, ARM311, frozenset({"0" * 64})) == "none"


def test_status_is_decided_by_arm64_targets() -> None:
    assert status_of({ARM311: "wheel", AMD311: "wheel"}) == "ok"
    assert status_of({ARM311: "pure", AMD311: "sdist"}) == "ok"
    assert status_of({ARM311: "sdist", AMD311: "wheel"}) == "needs-build"
    assert status_of({ARM311: "none", AMD311: "wheel"}) == "unavailable"
    assert status_of({ARM311: "unknown", AMD311: "wheel"}) == "unknown"
    assert status_of({ARM311: "wheel", Target("linux/arm64", "3.12"): "unknown"}) == "unknown"
    assert status_of({AMD311: "wheel"}) == "not-applicable"


def test_upgrade_candidates_prefer_the_current_major_and_skip_yanked() -> None:
    found = candidates(project("numpy"), "1.19.5", [ARM311, AMD311])
    assert str(found.ordered[0]) == "1.23.2"
    assert all(v.major == 1 for v in found.ordered[:3]) and str(found.newest) == "2.4.6"
    assert "2.4.0" not in [str(v) for v in found.ordered]  # yanked
    found = candidates(project("cryptography"), "41.0.7", [ARM311, AMD311])
    assert [str(v) for v in found.ordered] == ["44.0.3"]  # 45.0.0 is yanked
