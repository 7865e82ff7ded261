from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def _findings(report: dict[str, Any], path: str) -> list[tuple[str, int]]:
    return sorted((f["rule"], f["line"]) for f in report["findings"] if f["path"] == path)


@pytest.mark.parametrize(
    ("content", "rule", "line"),
    [
        (b"\xff\xfeFROM x\n", "ARCH002", 1),
        (b"# nothing here\nRUN true\n", "ARCH002", 1),
        (b"FROM debian:bookworm\nRUN true\n%%bogus line\n", "ARCH002", 3),
        (b"FROM debian:bookworm\nRUN echo " + b"a" * 1_100_000 + b"\n", "ARCH002", 2),
    ],
)
def test_bad_dockerfiles_are_findings_not_crashes(
    tmp_path: Path, cli: Callable[..., Any], content: bytes, rule: str, line: int
) -> None:
    (tmp_path / "Dockerfile").write_bytes(content)
    r = cli(["check", str(tmp_path), "--offline", "--format", "json"])
    assert r.rc == 1, r.err
    assert (rule, line) in _findings(r.json(), "Dockerfile")


def test_inline_pip_pin_is_checked_like_a_requirement(tmp_path: Path, cli: Callable[..., Any]) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\nRUN pip install --no-cache-dir tensorflow-intel==2.15.1 numpy==1.26.4\n"
    )
    r = cli(["check", str(tmp_path), "--offline", "--format", "json"])
    report = r.json()
    assert ("ARCH101", 2) in _findings(report, "Dockerfile")
    deps = {d["name"]: d for d in report["dependencies"] if d["path"] == "Dockerfile"}
    assert deps["tensorflow-intel"]["source"] == "dockerfile"
    assert deps["tensorflow-intel"]["status"] == "unavailable"
    # The dependency targets come from the base image: Python 3.11.
    assert set(deps["numpy"]["targets"]) == {"linux/arm64 cp311", "linux/amd64 cp311"}


def test_noqa_on_a_dockerfile_line(tmp_path: Path, cli: Callable[..., Any]) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:bookworm\nRUN apt-get install -y intel-mkl  # noqa: ARCH304\n"
        "RUN curl -O https://example.com/tool_linux_amd64.tgz\n"
    )
    r = cli(["check", str(tmp_path), "--offline", "--format", "json"])
    assert _findings(r.json(), "Dockerfile") == [("ARCH303", 3)]


def test_platform_pin_fix_round_trip(tmp_path: Path, cli: Callable[..., Any]) -> None:
    df = tmp_path / "Dockerfile"
    df.write_text('FROM --platform=linux/amd64 python:3.12-slim\nCMD ["python"]\n')
    r = cli(["check", str(tmp_path), "--offline", "--diff", "--unsafe-fixes"])
    assert "-FROM --platform=linux/amd64 python:3.12-slim" in r.out and "+FROM python:3.12-slim" in r.out
    cli(["check", str(tmp_path), "--offline", "--fix", "--unsafe-fixes"])
    assert df.read_text().splitlines()[0] == "FROM python:3.12-slim"
    r = cli(["check", str(tmp_path), "--offline", "--format", "json"])
    assert _findings(r.json(), "Dockerfile") == []
