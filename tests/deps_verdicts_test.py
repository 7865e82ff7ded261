"""What archlint says about requirements as written, on recorded whole-range PyPI pages: the issue's
cases, each finding true (the version named is pip's, "no sdist" only when there is none, "ships no
wheels" only of a release without any, only arm64 gaps are arm64 errors, the index over the
knowledge base). The versions themselves are checked against pip in deps_resolve_finder_test.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CliResult
from deps_support.server import RECORDED, IndexServer, running

Cli = Callable[..., CliResult]
ARM, AMD = "linux/arm64 cp311", "linux/amd64 cp311"


@pytest.fixture
def wide() -> Iterator[IndexServer]:
    yield from running(IndexServer(directory=RECORDED / "wide"))


def check(cli: Cli, tmp_path: Path, server: IndexServer, requirements: str, *args: str,
          dockerfile: str | None = None) -> tuple[int, dict[str, Any]]:  # fmt: skip
    (tmp_path / "requirements.txt").write_text(requirements)
    (tmp_path / "archlint.toml").write_text(
        f'index-url = "{server.url}"\nvulnerability-service = "none"\nresolve = false\n'
    )
    if dockerfile:
        (tmp_path / "Dockerfile").write_text(dockerfile)
    res = cli(["check", "--format", "json", *args, str(tmp_path)], cwd=tmp_path)
    assert res.rc in (0, 1), res.err
    return res.rc, res.json()


def one(report: dict[str, Any], rule: str) -> dict[str, Any]:
    (f,) = [f for f in report["findings"] if f["rule"] == rule]
    return f


def rules(report: dict[str, Any]) -> list[str]:
    return sorted(f["rule"] for f in report["findings"])


def test_a_range_gets_the_release_pip_installs(cli: Cli, tmp_path: Path, wide: IndexServer) -> None:
    # numpy 2.5.x needs Python >= 3.12: pip installs 2.4.6 from an aarch64 wheel (the first case).
    rc, report = check(cli, tmp_path, wide, "numpy>=1.20\n", "--python", "3.11")
    (dep,) = report["dependencies"]
    assert rc == 0 and dep["status"] == "ok" and dep["resolved"] == {ARM: "2.4.6", AMD: "2.4.6"}
    assert rules(report) == ["ARCH106"] and "pip picks 2.4.6 on linux/arm64 cp311" in report["findings"][0]["message"]


def test_a_compatible_release_that_only_builds_from_source(cli: Cli, tmp_path: Path, wide: IndexServer) -> None:
    # numpy~=1.21.0 on 3.11: 1.21.2-1.21.6 say Requires-Python <3.11; pip builds 1.21.1 from its sdist.
    rc, report = check(cli, tmp_path, wide, "numpy~=1.21.0\n", "--python", "3.11")
    (dep,) = report["dependencies"]
    assert dep["resolved"] == {ARM: "1.21.1", AMD: "1.21.1"} and dep["targets"] == {ARM: "sdist", AMD: "sdist"}
    f = one(report, "ARCH104")
    assert rc == 0 and "ARCH103" not in rules(report)
    assert "has no wheel for linux/arm64 cp311 or linux/amd64 cp311 (its wheels:" in f["message"]
    assert "ships no wheels at all" not in f["message"] and "compiled from source on amd64 too" in f["message"]


def test_an_unpinned_requirement_never_gets_a_release_candidate(cli: Cli, tmp_path: Path, wide: IndexServer) -> None:
    _, report = check(cli, tmp_path, wide, "tensorflow\n", "--python", "3.11")
    (dep,) = report["dependencies"]
    assert dep["resolved"][ARM] == "2.21.0" and "rc" not in dep["resolved"][AMD]


def test_pep_440_normalisation(cli: Cli, tmp_path: Path, wide: IndexServer) -> None:
    rc, report = check(cli, tmp_path, wide, "tensorflow-probability==0.5\n", "--python", "3.11")
    (dep,) = report["dependencies"]
    assert rc == 0 and dep["status"] == "ok" and dep["resolved"] == {ARM: "0.5.0", AMD: "0.5.0"}


def test_arm64_gets_an_older_release(cli: Cli, tmp_path: Path, wide: IndexServer) -> None:
    # paddlepaddle 3.3.1 ships no aarch64 wheel (and no sdist): pip falls back to 3.2.2 on arm64 only.
    rc, report = check(cli, tmp_path, wide, "paddlepaddle\n", "--python", "3.11")
    (dep,) = report["dependencies"]
    assert dep["status"] == "ok" and dep["resolved"] == {ARM: "3.2.2", AMD: "3.3.1"}
    f = one(report, "ARCH108")
    assert f["severity"] == "warning" and rc == 0
    assert "installs 3.3.1 on linux/amd64 cp311 but 3.2.2 on linux/arm64 cp311" in f["message"]
    assert "no wheel for linux/arm64 cp311 among its" in f["message"] and "no sdist" in f["message"]
    assert f["fix"]["applicability"] == "unsafe" and f["fix"]["edits"][0]["content"] == "paddlepaddle==3.2.2"


def test_nothing_installs_anywhere_is_not_an_arm64_error(cli: Cli, tmp_path: Path, wide: IndexServer) -> None:
    # tensorflow 2.16.1 has wheels up to cp312 and no sdist at all.
    rc, report = check(cli, tmp_path, wide, "tensorflow==2.16.1\n", "--python", "3.13")
    (dep,) = report["dependencies"]
    assert rc == 0 and "ARCH103" not in rules(report)
    assert dep["targets"] == {"linux/arm64 cp313": "none", "linux/amd64 cp313": "none"}
    f = one(report, "ARCH109")
    assert f["message"].startswith("tensorflow==2.16.1 cannot be installed on any target") and f["severity"] == "info"
    assert "no sdist" in f["message"] and "not an arm64 gap" in f["message"]
    # numpy 2.5 has an sdist, but like its wheels it requires Python >= 3.12: "no sdist" would be false.
    rc, report = check(cli, tmp_path, wide, "numpy>=2.5\n", "--python", "3.11")
    f = one(report, "ARCH109")
    assert rc == 0 and "require Python >=3.12" in f["message"] and "no sdist" not in f["message"]


def test_only_arm64_gaps_are_errors(cli: Cli, tmp_path: Path, wide: IndexServer) -> None:
    rc, report = check(cli, tmp_path, wide, "paddlepaddle==3.3.1\n", "--python", "3.11")
    (dep,) = report["dependencies"]
    assert dep["targets"] == {ARM: "none", AMD: "wheel"} and dep["status"] == "unavailable"
    f = one(report, "ARCH103")
    assert rc == 1 and "amd64 installs paddlepaddle 3.3.1" in f["message"]
    assert "the newest release arm64 can install at all is 3.2.2" in f["message"]


def test_a_yanked_pin_installs(cli: Cli, tmp_path: Path, wide: IndexServer) -> None:
    rc, report = check(cli, tmp_path, wide, "requests==2.32.0\nrequests>=2.32.0,<2.32.2; python_version < '3'\n",
                       "--python", "3.11")  # fmt: skip
    assert rc == 0 and rules(report) == ["ARCH111"]


def test_the_index_outranks_the_knowledge_base(cli: Cli, tmp_path: Path, wide: IndexServer) -> None:
    # cx-oracle is in the knowledge base (abandoned, no aarch64 wheels), but the index lists its sdist:
    # pip builds it on arm64. Not ARCH101; the knowledge base explains.
    rc, report = check(cli, tmp_path, wide, "cx-oracle==8.3.0\n", "--python", "3.10")
    (dep,) = report["dependencies"]
    assert dep["status"] == "needs-build"
    assert dep["targets"] == {"linux/arm64 cp310": "sdist", "linux/amd64 cp310": "wheel"}
    f = one(report, "ARCH102")
    assert "ARCH101" not in rules(report) and rc == 0
    assert "pip compiles it from the sdist there" in f["message"]
    assert "knowledge base: cx_Oracle is abandoned" in f["message"] and "consider oracledb" in f["message"]


def test_markupsafe_on_a_brand_new_python_is_not_called_wheel_less(cli: Cli, tmp_path: Path, wide: IndexServer) -> None:
    rc, report = check(cli, tmp_path, wide, "markupsafe==2.1.3\n", dockerfile="FROM python:3.14-alpine\n")
    assert rc == 0
    (dep,) = (d for d in report["dependencies"] if d["path"] == "requirements.txt")
    assert dep["targets"] == {"linux/arm64 cp314 musl": "sdist", "linux/amd64 cp314 musl": "sdist"}
    f = one(report, "ARCH104")
    assert "ships no wheels at all" not in f["message"] and "(its wheels:" in f["message"]
    assert "has no wheel for linux/arm64 cp314 musl or linux/amd64 cp314 musl" in f["message"]
