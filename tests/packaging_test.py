"""The wheel must carry the rule catalogue, knowledge base and report schema (they are data)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_wheel_ships_rules_kb_and_schema(tmp_path: Path):
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run(
        [*cmd, "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("archlint-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    rule_files = {p.name for p in (REPO / "rules").glob("*.toml")}
    kb_files = {p.name for p in (REPO / "rules" / "kb").glob("*.toml")}
    assert rule_files and kb_files
    assert {f"archlint/rules/{n}" for n in rule_files} <= names
    assert {f"archlint/rules/kb/{n}" for n in kb_files} <= names
    assert "archlint/schema/report-v1.schema.json" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "archlint").rglob("*.py")}
    missing = {m for m in modules if m not in names and "__pycache__" not in m}
    assert not missing, f"modules not shipped in the wheel (add their package to pyproject.toml): {missing}"
