"""`archlint baseline` + `check --baseline`: only new findings fail, robust to line moves."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from archlint import baseline
from archlint.findings import Finding, Severity
from tests.conftest import CliResult

# Only pins the bundled knowledge base decides offline, so every finding is an ARCH101 error.
PINS = "intel-openmp==2024.2.1\nmkl==2024.0\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "requirements.txt").write_text(PINS)
    return root


def _record(cli: Callable[..., CliResult], tree: Path) -> Path:
    out = tree.parent / "archlint-baseline.json"
    r = cli(["baseline", str(tree), "--offline", "-o", str(out)])
    assert r.rc == 0, r.err
    return out


def test_baseline_records_the_fingerprints_check_reports(cli: Callable[..., CliResult], tree: Path) -> None:
    out = _record(cli, tree)
    report = cli(["check", str(tree), "--offline", "--format", "json"]).json()
    doc = json.loads(out.read_text())
    assert doc["format"] == "archlint-baseline" and doc["version"] == 1
    assert sorted(e["fingerprint"] for e in doc["findings"]) == sorted(f["fingerprint"] for f in report["findings"])
    assert {e["rule"] for e in doc["findings"]} == {"ARCH101"}
    assert len(doc["findings"]) == 2


def test_check_with_baseline_passes_and_counts_what_it_hid(cli: Callable[..., CliResult], tree: Path) -> None:
    out = _record(cli, tree)
    r = cli(["check", str(tree), "--offline", "--baseline", str(out), "--format", "json"])
    assert r.rc == 0, r.out
    assert r.json()["findings"] == []
    assert r.json()["summary"]["errors"] == 0
    assert "2 finding(s) recorded in baseline" in r.err


def test_baseline_survives_line_moves_but_new_findings_fail(cli: Callable[..., CliResult], tree: Path) -> None:
    out = _record(cli, tree)
    # Move every line down and reorder: the recorded findings are still recognised.
    (tree / "requirements.txt").write_text("# pinned for the x86 build\n\nmkl==2024.0\n\n\n"
                                           "intel-openmp==2024.2.1\n")  # fmt: skip
    r = cli(["check", str(tree), "--offline", "--baseline", str(out)])
    assert r.rc == 0, r.out
    # A new x86-only pin is not in the baseline: it alone is reported and fails the run.
    (tree / "requirements.txt").write_text(PINS + "tbb==2021.13.0\n")
    r = cli(["check", str(tree), "--offline", "--baseline", str(out), "--format", "json"])
    assert r.rc == 1
    findings = r.json()["findings"]
    assert [(f["rule"], f["line"]) for f in findings] == [("ARCH101", 3)]
    assert "tbb" in findings[0]["message"]


def test_fixed_findings_do_not_linger(cli: Callable[..., CliResult], tree: Path) -> None:
    out = _record(cli, tree)
    (tree / "requirements.txt").write_text("# nothing x86-only left\n")
    r = cli(["check", str(tree), "--offline", "--baseline", str(out)])
    assert r.rc == 0
    assert "0 finding(s) recorded in baseline" in r.err


def _f(fp: str) -> Finding:
    return Finding(rule="ARCH101", message="m", path="r.txt", severity=Severity.ERROR, fingerprint=fp)


def test_apply_matches_occurrences_not_just_presence() -> None:
    # One recorded occurrence absorbs one finding; a second one with the same fingerprint is new.
    base = baseline.Baseline(path="b.json", counts=Counter({"aaaa1111": 1}))
    kept, dropped = baseline.apply([_f("aaaa1111"), _f("aaaa1111"), _f("bbbb2222")], base)
    assert dropped == 1
    assert [f.fingerprint for f in kept] == ["aaaa1111", "bbbb2222"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "file not found"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b'{"findings": []}', "not an archlint baseline"),
        (b'{"format": "archlint-baseline", "version": 7, "findings": []}', "unsupported version 7"),
        (b'{"format": "archlint-baseline", "version": 1, "findings": {}}', '"findings" must be a list'),
        (b'{"format": "archlint-baseline", "version": 1, "findings": [{"rule": "ARCH101"}]}', "findings[0]"),
    ],
)
def test_bad_baseline_is_exit_2_naming_the_file(
    cli: Callable[..., CliResult], tree: Path, content: bytes | None, message: str
) -> None:
    path = tree.parent / "my-baseline.json"
    if content is not None:
        path.write_bytes(content)
    r = cli(["check", str(tree), "--offline", "--baseline", str(path)])
    assert r.rc == 2
    assert str(path) in r.err and message in r.err


def test_baseline_command_accepts_scan_options(cli: Callable[..., CliResult], tree: Path) -> None:
    out = tree.parent / "sel.json"
    r = cli(["baseline", str(tree), "--offline", "--ignore", "ARCH101", "-o", str(out)])
    assert r.rc == 0
    assert json.loads(out.read_text())["findings"] == []
    assert "recorded 0 finding(s)" in r.err
