"""archlint's candidate choice against pip's own PackageFinder, on recorded PyPI pages served locally.

For every (requirement, Python 3.9 to 3.13, linux/arm64 and linux/amd64, glibc and one musl target),
the version and the kind of file archlint says pip installs must be the ones pip's finder picks
(plus pip's resolver rule for yanked files, see deps_support/pip_oracle.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from deps_support.pip_oracle import OracleUnavailable, PipOracle
from deps_support.server import RECORDED, IndexServer, running
from packaging import __version__ as packaging_version
from packaging.specifiers import SpecifierSet

from archlint.deps.index.interface import Project
from archlint.deps.index.simple_json import parse_page, releases
from archlint.deps.resolve.finder import Releases
from archlint.deps.targets import full_python, platform_tags
from archlint.facts import Target

WIDE = RECORDED / "wide"
PYTHONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]

# Ranged and exact requirements on the projects recorded in fixtures/deps/index/wide.
CASES: dict[str, list[str]] = {
    "numpy": [
        "",
        ">=1.20",
        "~=1.21.0",
        "==1.21.*",
        "<2",
        ">=2.0.0rc1",
        "!=2.0.0",
        "==1.26.4",
        ">=1.24,<1.26",
        "~=2.1",
        ">=2.5",
        "==2.0.0rc2",
        "<1.22",
        ">1.26.4,<2.1",
        "==1.21",
        "===1.21.1",
    ],
    "tensorflow": ["", ">=2.16", "~=2.18.0", "<2.19", "==2.*", ">=2.20.0rc0", "==2.16.1"],
    "requests": [
        "",
        "==2.32.0",
        "==2.32.1",
        ">=2.32.0,<2.32.2",
        "~=2.31",
        "<=2.32.1",
        "===2.32.0",
        "==2.32.*",
        ">=3",
        "<2.0",
        "==2.31.0",
    ],
    "tensorflow-probability": ["==0.5", "==0.5.0", "<0.8", "", ">=0.7.0rc0", "~=0.7"],
    "mxnet": ["", "==1.9.1", ">=2.0.0a0", "<1.9", "==2.0.0b1", "~=1.8.0"],
    "paddlepaddle": ["", ">=3", "~=2.6.0", "<3.3", "==3.3.1", "!=3.3.1"],
    "scipy": ["", ">=1.9,<1.12", "~=1.10.0", "<1.11", "==1.9.3"],
    "pandas": ["", "~=2.0.0", "<2.2", ">=2.1,!=2.2.0", "==2.2.*"],
    "pydantic": ["", ">=2.5,<2.6", ">=2.12.0a1", "<2.10", "==2.6.0b1"],
    "markupsafe": ["==2.1.3", "", "<3", "~=2.0.0", "==2.1.*"],
    "pyyaml": ["", "==6.0.2rc1", "<6", "==5.4", ">=6.0.2rc1", "==6.0", "<5.4"],
    "onnxruntime": ["", "<1.20", "==1.17.*", ">=1.19,<1.21"],
    "torch": ["", "==2.4.0", "<2.6", ">=2.5,!=2.5.1", "~=2.4.0"],
    "psycopg2-binary": ["", "==2.9.1", "<2.9.5", "~=2.9.0"],
    "orjson": ["", "<3.11", "==3.10.*"],
    "docopt": ["", "==0.6.2", ">=0.6"],
}


def targets() -> list[Target]:
    out = [Target(p, py) for py in PYTHONS for p in ("linux/arm64", "linux/amd64")]
    out += [Target("linux/arm64", "3.12", "musl", "1.2"), Target("linux/amd64", "3.12", "musl", "1.2")]
    return out


@pytest.fixture(scope="module")
def wide_server() -> Iterator[IndexServer]:
    yield from running(IndexServer(directory=WIDE))


@pytest.fixture(scope="module")
def oracle(wide_server: IndexServer) -> Iterator[PipOracle]:
    try:
        o = PipOracle(wide_server.url)
    except OracleUnavailable as e:
        pytest.skip(str(e))
    yield o
    o.close()


def same_filter(oracle: PipOracle, spec: str, versions: list[str]) -> bool:
    """Whether pip's vendored packaging filters these versions as the installed one does. Old pips
    (23.x vendors packaging 21.3) apply other pre-release rules than current ones (and archlint,
    which follows the installed packaging, like pip 24.1+): cases where that decides are left out."""
    return list(oracle.filter(spec, versions)) == [str(v) for v in SpecifierSet(spec).filter(versions)]


def load(name: str) -> Releases:
    return Releases(Project(name, "wide", releases(parse_page((WIDE / f"{name}.json").read_bytes(), "wide"))))


@pytest.mark.parametrize("target", targets(), ids=lambda t: t.label.replace(" ", "-").replace("/", "-"))
def test_choices_match_pips_package_finder(oracle: PipOracle, target: Target) -> None:
    plats = tuple(platform_tags(target))
    compared, mismatches, chosen, left_out = 0, [], 0, 0
    for name, specs in CASES.items():
        rel = load(name)
        finder = rel.finder(target)
        with_files = [k for v, k in rel.versions if finder.evaluate(v, k) != (None, None)]
        for spec in specs:
            if not same_filter(oracle, spec, with_files):
                left_out += 1
                continue
            mine = finder.best(SpecifierSet(spec))
            got = (str(mine.version), mine.kind) if mine else (None, None)
            want = oracle.choose(name, spec, full_python(target.python), plats)
            compared += 1
            chosen += got[0] is not None
            if got != (want.version, want.kind):
                mismatches.append(f"{name}{spec}: archlint {got}, pip {(want.version, want.kind)}")
    assert not mismatches, "\n".join(mismatches)
    assert compared + left_out == sum(len(v) for v in CASES.values())
    if oracle.vendored_packaging.split(".")[0] == packaging_version.split(".")[0]:
        assert left_out == 0  # a current pip: every case is compared
    assert compared >= 60 and chosen > compared // 2  # most install something: the comparison is not vacuous


def test_the_issues_examples(oracle: PipOracle) -> None:
    """The cases the issue names, with the answer spelled out (pip agrees: the test above)."""
    arm311, amd311 = Target("linux/arm64", "3.11"), Target("linux/amd64", "3.11")
    numpy = load("numpy")
    best = numpy.finder(arm311).best(SpecifierSet(">=1.20"))
    assert best is not None and best.kind == "wheel" and best.version.release[:2] == (2, 4)  # 2.5.x needs 3.12
    old = numpy.finder(arm311).best(SpecifierSet("~=1.21.0"))
    assert old is not None and (str(old.version), old.kind) == ("1.21.1", "sdist")  # 1.21.2+ say <3.11
    tf = load("tensorflow").finder(arm311).best(SpecifierSet(""))
    assert tf is not None and not tf.version.is_prerelease
    req = load("requests").finder(arm311)
    pinned = req.best(SpecifierSet("==2.32.0"))
    assert pinned is not None and pinned.file.yanked  # PEP 592: an exact pin of a yanked release installs
    assert req.best(SpecifierSet(">=2.32.0,<2.32.2")) is None  # a range never picks a yanked release
    tfp = load("tensorflow-probability").finder(arm311).best(SpecifierSet("==0.5"))
    assert tfp is not None and str(tfp.version) == "0.5.0"
    mx = load("mxnet").finder(arm311).best(SpecifierSet(""))
    assert mx is not None and str(mx.version) == "1.9.1" and mx.kind == "wheel"
    paddle = load("paddlepaddle")
    on_amd, on_arm = paddle.finder(amd311).best(SpecifierSet("")), paddle.finder(arm311).best(SpecifierSet(""))
    assert on_amd is not None and on_arm is not None and on_arm.version < on_amd.version
    for spec in ("", ">=1.20", "==2.32.0"):
        for name in ("numpy", "requests"):
            w = oracle.choose(name, spec, full_python("3.11"), tuple(platform_tags(arm311)))
            m = load(name).finder(arm311).best(SpecifierSet(spec))
            assert w.version == (str(m.version) if m else None)


def test_oracle_pages_are_real_recordings() -> None:
    for name in CASES:
        page = (WIDE / f"{name}.json").read_text()
        assert '"url": "https://files.pythonhosted.org/packages/' in page
    assert sum(p.stat().st_size for p in Path(WIDE).glob("*.json")) < 8 * 1024 * 1024
