"""The parallel paths (fork pools of the source, native and manifest scanners, the render runner)
give the same report as the in-process ones, on every fixture repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES

TREES = ["demo", "monorepo", "boutique", "native/issue", "native/numpy-shapes", "k8s", "source/project"]


def _report(root: Path, workers: str) -> dict[str, Any]:
    env = {**os.environ, "ARCHLINT_WORKERS": workers}
    env.pop("ARCHLINT_RAISE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "archlint", "check", str(root), "--offline", "--no-cache", "--format", "json"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


@pytest.mark.parametrize("tree", TREES)
def test_pools_and_in_process_give_the_same_report(tree: str, tmp_path: Path) -> None:
    if not (FIXTURES / tree).is_dir():
        pytest.skip(f"fixtures/{tree} is not there")
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / tree, root, symlinks=True)
    serial, pooled = _report(root, "1"), _report(root, "2")
    assert serial["findings"] or serial["workloads"]  # the comparison is about something
    assert pooled == serial


def test_a_bad_worker_count_is_a_usage_error(tmp_path: Path) -> None:
    env = {**os.environ, "ARCHLINT_WORKERS": "lots"}
    proc = subprocess.run([sys.executable, "-m", "archlint", "check", str(tmp_path), "--offline"],
                          capture_output=True, text=True, env=env, timeout=60, check=False)  # fmt: skip
    assert proc.returncode == 2 and "ARCHLINT_WORKERS" in proc.stderr and "Traceback" not in proc.stderr
