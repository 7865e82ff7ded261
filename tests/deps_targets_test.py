from __future__ import annotations

from packaging.tags import Tag

from archlint.deps import targets as tg
from archlint.facts import RuntimeHint, Target


def _resolve(directory: str = "svc", **kw: object) -> tg.TargetSet:
    args: dict[str, object] = {
        "cli_pythons": (),
        "glibc": None,
        "hints": [],
        "version_files": {},
        "requires_python": {},
    }
    args.update(kw)
    return tg.resolve(directory, **args)  # type: ignore[arg-type]


def test_arm64_glibc_tags_respect_the_glibc_ceiling() -> None:
    t = Target("linux/arm64", "3.11", "glibc", "2.31")
    tags = tg.tag_set(t)
    assert Tag("cp311", "cp311", "manylinux_2_31_aarch64") in tags
    assert Tag("cp311", "cp311", "manylinux2014_aarch64") in tags
    assert Tag("cp311", "cp311", "manylinux_2_34_aarch64") not in tags
    assert Tag("cp311", "cp311", "manylinux_2_17_x86_64") not in tags
    assert Tag("cp37", "abi3", "manylinux_2_28_aarch64") in tags  # abi3 from older CPythons
    assert Tag("py3", "none", "any") in tags
    assert Tag("cp311", "cp311", "musllinux_1_1_aarch64") not in tags


def test_musl_targets_take_musllinux_not_manylinux() -> None:
    tags = tg.tag_set(Target("linux/arm64", "3.12", "musl", "1.2"))
    assert Tag("cp312", "cp312", "musllinux_1_1_aarch64") in tags
    assert Tag("cp312", "cp312", "musllinux_1_2_aarch64") in tags
    assert Tag("cp312", "cp312", "manylinux_2_17_aarch64") not in tags


def test_amd64_reaches_manylinux1() -> None:
    tags = tg.tag_set(Target("linux/amd64", "3.9", "glibc", "2.36"))
    assert Tag("cp39", "cp39", "manylinux1_x86_64") in tags
    assert Tag("cp39", "cp39", "manylinux2014_aarch64") not in tags


def test_markers_are_evaluated_per_target() -> None:
    arm = Target("linux/arm64", "3.11")
    amd = Target("linux/amd64", "3.8")
    assert not tg.marker_applies('platform_machine == "x86_64"', arm)
    assert tg.marker_applies('platform_machine == "x86_64"', amd)
    assert not tg.marker_applies('sys_platform == "win32"', arm)
    assert tg.marker_applies('python_version >= "3.10"', arm)
    assert not tg.marker_applies('python_version >= "3.10"', amd)
    assert tg.marker_applies('extra == "gpu" or python_version < "4"', arm)
    assert tg.marker_applies("this is not a marker", arm)  # unparsable: check rather than skip


def test_python_precedence_cli_then_hint_then_version_file_then_requires_python() -> None:
    hint = RuntimeHint("svc", "3.10", "glibc", "2.31", "svc/Dockerfile:1: FROM python:3.10-slim-bullseye")
    vf = {".": "3.9"}
    rp = {"svc": ">=3.8,<3.12"}
    assert {t.python for t in _resolve(cli_pythons=("3.11", "3.12"), hints=[hint]).targets} == {"3.11", "3.12"}
    ts = _resolve(hints=[hint], version_files=vf, requires_python=rp)
    assert {t.python for t in ts.targets} == {"3.10"} and ts.origin.startswith("svc/Dockerfile")
    assert {t.libc_version for t in ts.targets} == {"2.31"}
    ts = _resolve(version_files=vf, requires_python=rp)
    assert [t.python for t in ts.targets] == ["3.9", "3.9"] and ts.origin == ".python-version"
    ts = _resolve(requires_python=rp)
    assert {t.python for t in ts.targets} == {"3.11"}  # the newest the range allows (3.12 is excluded)
    assert {t.python for t in _resolve().targets} == {"3.12"}


def test_every_arm64_target_has_an_amd64_twin_and_config_glibc_wins() -> None:
    hint = RuntimeHint(".", "3.11", "glibc", "2.31", "Dockerfile:1")
    ts = _resolve(hints=[hint], glibc="2.28")
    assert [(t.platform, t.libc_version) for t in ts.targets] == [("linux/arm64", "2.28"), ("linux/amd64", "2.28")]
    musl = RuntimeHint("svc", "3.12", "musl", None, "svc/Dockerfile:1: FROM python:3.12-alpine")
    ts = _resolve("svc/sub", hints=[hint, musl])
    assert {(t.libc, t.libc_version) for t in ts.targets} == {("musl", "1.2")}
    assert [t.label for t in ts.targets] == ["linux/arm64 cp312 musl", "linux/amd64 cp312 musl"]


def test_version_file_and_requires_python_parsing() -> None:
    assert tg.python_from_version_file(["system", "3.11.4"]) == "3.11"
    assert tg.python_from_version_file(["pypy3.10-7.3"]) is None
    assert tg.python_from_requires(">=3.9") == "3.12"
    assert tg.python_from_requires("<3.10") == "3.9"
    assert tg.python_from_requires("not a spec") is None
