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


def test_files_compose_and_ci_name_as_dockerfiles_are_read(tmp_path: Path, cli: Callable[..., Any]) -> None:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "api.build").write_text("FROM debian:bookworm-slim\nRUN apt-get install -y intel-mkl\n")
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "worker.img").write_text("FROM alpine:3.20\nRUN apk add --no-cache intel-openmp\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  api:\n    image: ghcr.io/acme/api:1\n    build:\n      context: .\n"
        "      dockerfile: docker/api.build\n"
    )
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "images.yml").write_text(
        "on: push\njobs:\n  worker:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: docker buildx build --platform linux/amd64,linux/arm64 -f ci/worker.img\n"
        "          -t ghcr.io/acme/worker:1 .\n"
    )
    r = cli(["check", str(tmp_path), "--offline", "--format", "json"])
    found = sorted((f["path"], f["line"]) for f in r.json()["findings"] if f["rule"] == "ARCH304")
    assert r.rc == 1 and found == [("ci/worker.img", 2), ("docker/api.build", 2)]
    # An excluded directory stays excluded, even when something names a file in it.
    (tmp_path / "archlint.toml").write_text('exclude = ["ci/"]\n')
    r = cli(["check", str(tmp_path), "--offline", "--format", "json"])
    assert sorted(f["path"] for f in r.json()["findings"] if f["rule"] == "ARCH304") == ["docker/api.build"]
