"""Hostile or broken skaffold, compose and CI files: findings, never crashes or hangs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

LAUGHS = "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
    f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
    for i in range(8)
)


@pytest.mark.parametrize(
    ("rel", "content", "line"),
    [
        ("skaffold.yaml", b"build:\n  artifacts:\n    - image: [unclosed\n", 4),
        ("compose.yaml", b"services:\n  a:\n    image: x\n    image: y\n", 4),  # duplicate key
        (".github/workflows/ci.yml", b"jobs:\n  b:\n\t- tab\n", 3),
        (".gitlab-ci.yml", b"\xff\xfe\x00garbage", 1),
    ],
)
def test_broken_files_are_parse_errors(
    tmp_path: Path, cli: Callable[..., Any], rel: str, content: bytes, line: int
) -> None:
    p = tmp_path / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(content)
    report = cli(["check", str(tmp_path), "--offline", "--format", "json"]).json()
    errors = [(f["rule"], f["line"]) for f in report["findings"] if f["path"] == rel]
    assert errors == [("ARCH002", line)]


@pytest.mark.parametrize(
    "text",
    [
        # An alias bomb in the places we read strings from: never stringified whole.
        LAUGHS + "jobs:\n  b:\n    runs-on: *i\n    steps:\n      - uses: docker/build-push-action@v6\n"
        "        with:\n          tags: *i\n          platforms: *i\n          context: *i\n",
        # A matrix with 20 axes of 10 values (10^20 combinations).
        "jobs:\n  b:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n"
        + "".join(f"        x{i}: [0,1,2,3,4,5,6,7,8,9]\n" for i in range(20))
        + "    steps:\n      - uses: docker/build-push-action@v6\n        with:\n"
        "          tags: acme/${{ matrix.x0 }}-img:1\n",
        # Wrong types everywhere.
        "jobs: [1, 2]\n",
        "jobs:\n  b:\n    steps: {a: 1}\n",
        "jobs:\n  b:\n    steps:\n      - uses: 7\n        with: [1]\n      - run: [docker build .]\n",
    ],
)
def test_hostile_workflows_finish_quickly(tmp_path: Path, cli: Callable[..., Any], text: str) -> None:
    wf = tmp_path / ".github/workflows/ci.yml"
    wf.parent.mkdir(parents=True)
    wf.write_text(text)
    start = time.perf_counter()
    r = cli(["check", str(tmp_path), "--offline", "--format", "json"])
    assert time.perf_counter() - start < 20
    report = r.json()
    assert not [f for f in report["findings"] if f["rule"] == "ARCH004"]


def test_hostile_skaffold_and_compose(tmp_path: Path, cli: Callable[..., Any]) -> None:
    (tmp_path / "skaffold.yaml").write_text(
        LAUGHS + "build:\n  platforms: *i\n  artifacts:\n    - image: acme/a\n      context: *i\n"
    )
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a:\n    image: acme/a\n    build: {context: [x], dockerfile: {y: 1}}\n  b: 7\n"
    )
    (tmp_path / "skaffold" / "skaffold.yaml").parent.mkdir()
    (tmp_path / "skaffold" / "skaffold.yaml").write_text(
        "build:\n  platforms: {a: 1}\n  artifacts:\n    - image: acme/a\n      context: [x]\n"
        "      docker: 5\n    - 7\n    - image: [1]\n"
    )
    report = cli(["check", str(tmp_path), "--offline", "--format", "json"]).json()
    problems = [(f["rule"], f["path"]) for f in report["findings"] if f["rule"] in ("ARCH004", "ARCH002")]
    # The alias bomb is refused before it expands; wrong types elsewhere are just not links.
    assert problems == [("ARCH002", "skaffold.yaml")]
    assert "alias" in next(f["message"] for f in report["findings"] if f["path"] == "skaffold.yaml")
