"""The hostile-input corpus (tests/hostile_support/corpus.py) through the real CLI, each case in
a child process under a 1 GiB address-space limit and a timeout: every case ends in the finding
it deserves (rule, path, line), never an internal error, a crash, exit 2 or a foreign traceback,
and what hides behind a hostile part of a file (the x86 library after a 40 MiB tar member or a
bomb layer, the good Deployment after a bad one) is still reported.

The limit and the timeout are guards, not speed assertions: before the fixes these inputs took
6-9 GB, minutes, or a MemoryError (bench/hostile_bench.py measures them).
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_support.corpus import CASES, Case, GzipWriter, _header, repo, x86_so

from archlint.binaries.interface import Limits
from archlint.scanners.binaries import BinaryScanner
from tests.conftest import CliResult, validate_report

MEMORY_LIMIT = 1024**3
TIMEOUT = 300  # a hang guard on a busy machine; the cases take a second or two


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_cli(root: Path, select: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "archlint", "check", str(root), "--offline", "--format", "json", "--select", select]
    # ARCHLINT_RAISE=1 (set by conftest) is inherited: an internal error is a traceback and exit 2.
    return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, preexec_fn=_limit, env=os.environ)


@pytest.mark.parametrize("case", [c for c in CASES if c.in_tests], ids=lambda c: c.name)
def test_hostile_input_is_a_finding_in_bounded_memory(case: Case, tmp_path: Path) -> None:
    root = repo(tmp_path / "repo")
    expected = case.build(root, case.default_scale)
    proc = run_cli(root, case.select)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr, proc.stderr[-3000:]
    report = validate_report(json.loads(proc.stdout))
    found = report["findings"]
    assert not [f for f in found if f["rule"] == "ARCH004"], found
    for e in expected:
        hits = [f for f in found if f["rule"] == e.rule and f["path"] == e.path]
        assert hits, f"expected {e.rule} on {e.path}; got {[(f['rule'], f['path'], f['message']) for f in found]}"
        if e.line is not None:
            assert e.line in [f["line"] for f in hits], (e, hits)
    ids = [w["id"] for w in report["workloads"]]
    for wl in case.workloads:
        assert wl in ids


def test_x86_library_behind_a_big_member_fails_the_run(tmp_path: Path) -> None:
    """The docker save case end to end: exit 1 because of the .so, and the 40 MiB blob is not
    called a bomb."""
    case = next(c for c in CASES if c.name == "docker-save-40MiB-first-member")
    root = repo(tmp_path / "repo")
    case.build(root, 1)
    proc = run_cli(root, "ARCH0,ARCH5")
    assert proc.returncode == 1, proc.stderr
    found = json.loads(proc.stdout)["findings"]
    assert [f["rule"] for f in found] == ["ARCH501"]
    assert "libhello.so" in found[0]["message"]


def test_many_bomb_layers_stop_at_the_budget_of_the_file(
    tmp_path: Path, cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each bomb layer alone is skipped at the ratio cap and the scan goes on; thirty of them stop
    at the budget for the whole file (here 5 x its size; 50 x by default), so no file costs more."""
    monkeypatch.setattr(BinaryScanner, "limits", Limits(tar_ratio_floor=1 << 20, max_tar_total_ratio=5))
    root = repo(tmp_path / "repo")
    bomb = tmp_path / "bomb.tar.gz"
    out = GzipWriter(bomb)
    out.write(_header("zeros", 64 << 20))
    out.repeat(b"\0", 64 << 20)
    out.write(b"\0" * 1024)
    out.close()
    data = bomb.read_bytes()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for i in range(30):
            info = tarfile.TarInfo(f"blobs/sha256/{i:064x}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        so = x86_so()
        info = tarfile.TarInfo("blobs/sha256/" + "d" * 64)
        layer = io.BytesIO()
        with tarfile.open(fileobj=layer, mode="w") as inner:
            ti = tarfile.TarInfo("usr/lib/libhello.so")
            ti.size = len(so)
            inner.addfile(ti, io.BytesIO(so))
        info.size = len(layer.getvalue())
        tf.addfile(info, io.BytesIO(layer.getvalue()))
    (root / "image.tar").write_bytes(buf.getvalue())
    res = cli(["check", str(root), "--offline", "--format", "json", "--select", "ARCH0,ARCH5"])
    found = res.json()["findings"]
    rules = sorted(f["rule"] for f in found)
    assert rules == ["ARCH508", "ARCH508"], found  # the layers skipped so far, then the file's budget
    messages = " ".join(f["message"] for f in found)
    assert "a tar bomb" in messages and "all layers together" in messages

    # One bomb layer alone: skipped, and the x86 library in the next layer is reported.
    monkeypatch.setattr(BinaryScanner, "limits", Limits(tar_ratio_floor=1 << 20))
    with tarfile.open(root / "image.tar", "w") as tf:
        info = tarfile.TarInfo("blobs/sha256/" + "0" * 64)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("blobs/sha256/" + "d" * 64)
        info.size = len(layer.getvalue())
        tf.addfile(info, io.BytesIO(layer.getvalue()))
    found = cli(["check", str(root), "--offline", "--format", "json", "--select", "ARCH0,ARCH5"]).json()["findings"]
    assert sorted(f["rule"] for f in found) == ["ARCH501", "ARCH508"]


@pytest.mark.parametrize(
    "body",
    ["x = " + "[" * 1000 + "]" * 1000, "x = " + "9" * 5000, "x = [", "tool = 5"],
    ids=["nested-1000-deep", "5000-digit-number", "truncated", "tool-not-a-table"],
)
def test_a_broken_pyproject_met_while_searching_for_config(
    body: str, tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    """Without a [tool.archlint] header it is just a scanned file: ARCH002, and the run goes on.
    With one, its owner meant it as archlint's config: exit 2 naming the file, rather than a run
    that silently drops their settings. Never an internal error."""
    root = repo(tmp_path / "repo")
    (root / "requirements.txt").write_text("numpy==1.26.4\n")
    (root / "pyproject.toml").write_text(body + '\n[project]\nname = "x"\n')
    res = cli(["check", str(root), "--offline", "--format", "json", "--select", "ARCH0"])
    if body == "tool = 5":  # parses: not a config (no tool.archlint table), nothing wrong to report
        assert res.rc == 0 and res.json()["findings"] == []
    else:
        assert res.rc == 1, res.err
        assert [(f["rule"], f["path"]) for f in res.json()["findings"]] == [("ARCH002", "pyproject.toml")]
    (root / "pyproject.toml").write_text(body + '\n[tool.archlint]\nselect = ["ARCH1"]\n')
    res = cli(["check", str(root), "--offline", "--format", "json"])
    assert res.rc == 2 and "pyproject.toml" in res.err and "internal error" not in res.err, res.err
