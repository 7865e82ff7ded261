"""`archlint check` on a small repository whose package index is the local test server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import CliResult

from deps_support.server import IndexServer

Cli = Callable[..., CliResult]


def repo(tmp_path: Path, requirements: str, server: IndexServer, extra: str = "") -> Path:
    """requirements.txt, and an archlint.toml that points at `server` (no vulnerability lookups)."""
    (tmp_path / "requirements.txt").write_text(requirements)
    (tmp_path / "archlint.toml").write_text(f'index-url = "{server.url}"\nvulnerability-service = "none"\n' + extra)
    return tmp_path


def check(cli: Cli, root: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """Exit code and the JSON report (validated against the schema) of a check for Python 3.11."""
    res = cli(["check", "--format", "json", "--python", "3.11", *args, str(root)], cwd=root)
    assert res.rc in (0, 1), res.err
    return res.rc, res.json()
