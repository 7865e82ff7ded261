"""Suppressions that name no rule (ARCH015), and what "unused" (ARCH003) can mean when only
some files are scanned, as pre-commit passes them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, CliResult

ANNOTATION = '    ignore-check.archlint.io/{rule}: "scorer stays on x86 until the MKL port lands"\n'


def _report(cli: Callable[..., CliResult], *args: str, cwd: Path | None = None) -> dict[str, Any]:
    r = cli(["check", *args, "--offline", "--format", "json", "--exit-zero"], cwd=cwd)
    assert r.rc == 0, r.err
    return r.json()


def _at(report: dict[str, Any], rule: str) -> list[tuple[str, int, str]]:
    return [(f["path"], f["line"], f["message"]) for f in report["findings"] if f["rule"] == rule]


def test_unknown_codes_and_names_are_reported_with_the_likely_rule(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    (tmp_path / "requirements.txt").write_text(
        "intel-openmp==2024.2.1  # noqa: ARCH1O1\n"
        "mkl==2024.0.0  # archlint: ignore[x86-only-dependncy]\n"
        "flask==3.0.3  # noqa: E501\n"  # another tool's code: not ours to judge
        "tbb==2021.13.0  # noqa: ARCH101, ARCH999\n"
    )
    report = _report(cli, str(tmp_path))
    unknown = _at(report, "ARCH015")
    assert [(line, msg.split("'")[1]) for _, line, msg in unknown] == [(1, "ARCH1O1"), (2, "x86-only-dependncy"),
                                                                       (4, "ARCH999")]  # fmt: skip
    assert "did you mean 'ARCH101'?" in unknown[0][2]
    assert "did you mean 'x86-only-dependency'?" in unknown[1][2]
    assert {f["severity"] for f in report["findings"] if f["rule"] == "ARCH015"} == {"warning"}
    # The typos suppress nothing; the correct code on line 4 still does its job.
    assert {line for _, line, _ in _at(report, "ARCH101")} == {1, 2}
    assert _at(report, "ARCH003") == []  # unknown is not "unused"


def test_unknown_rule_in_an_object_annotation(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    repo = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", repo)
    scorer = repo / "deploy" / "scorer.yaml"
    text = scorer.read_text().replace("  namespace: shop\n", "  namespace: shop\n  annotations:\n"
                                      + ANNOTATION.format(rule="x86-image-on-arm64-node"), 1)  # fmt: skip
    scorer.write_text(text)
    [(path, line, msg)] = _at(_report(cli, str(repo)), "ARCH015")
    assert (path, line) == ("deploy/scorer.yaml", 2)  # the object (line 1 is a comment)
    assert "ignore-check.archlint.io/x86-image-on-arm64-node" in msg
    assert "did you mean 'x86-image-on-arm64-nodes'?" in msg


@pytest.fixture
def annotated(tmp_path: Path) -> Path:
    """The demo with the scorer's ARCH201 (x86 image on arm64 nodes) accepted on the object,
    and a stale file-local suppression in a requirements file."""
    repo = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", repo)
    scorer = repo / "deploy" / "scorer.yaml"
    scorer.write_text(scorer.read_text().replace("  namespace: shop\n", "  namespace: shop\n  annotations:\n"
                                                 + ANNOTATION.format(rule="x86-image-on-arm64-nodes"), 1))  # fmt: skip
    api = repo / "services" / "api" / "requirements.txt"
    api.write_text(api.read_text().replace("flask==3.0.3", "flask==3.0.3  # noqa: ARCH101", 1))
    return repo


def test_full_scan_uses_the_annotation_and_flags_the_stale_noqa(cli: Callable[..., CliResult], annotated: Path) -> None:
    report = _report(cli, str(annotated))
    assert _at(report, "ARCH201") == []  # the annotation suppressed it ...
    unused = _at(report, "ARCH003")
    assert [(p, line) for p, line, _ in unused] == [("services/api/requirements.txt", 2)]  # ... so it is not unused


def test_partial_scan_does_not_call_what_a_full_scan_needs_unused(
    cli: Callable[..., CliResult], annotated: Path
) -> None:
    # pre-commit passes only the staged files: the manifest, without the build context whose
    # requirements make the image x86-only. ARCH201 cannot fire, yet the annotation is needed.
    files = ["deploy/scorer.yaml", "services/api/requirements.txt"]
    report = _report(cli, "--force-exclude", *files, cwd=annotated)
    assert _at(report, "ARCH201") == []
    unused = _at(report, "ARCH003")
    assert not any(p == "deploy/scorer.yaml" for p, _, _ in unused)
    # ARCH101 is decidable from the requirements file alone: its stale noqa is still reported.
    assert [(p, line) for p, line, _ in unused] == [("services/api/requirements.txt", 2)]
    # A truly unused annotation on a file-local rule is reported on the partial scan too.
    scorer = annotated / "deploy" / "scorer.yaml"
    scorer.write_text(scorer.read_text().replace("x86-image-on-arm64-nodes", "invalid-manifest"))
    again = _report(cli, "--force-exclude", *files, cwd=annotated)
    assert ("deploy/scorer.yaml", 2) in [(p, line) for p, line, _ in _at(again, "ARCH003")]
