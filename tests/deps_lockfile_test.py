"""Lockfiles: file lists answer offline; hash-only locks map hashes to files through the index."""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, CliResult
from deps_support.server import IndexServer

Cli = Callable[..., CliResult]
UV_GAP = FIXTURES / "deps" / "lock" / "uv-gap"  # real `uv lock` output; its Dockerfile is python:3.11-alpine
PIPENV = FIXTURES / "deps" / "sources" / "pipenv"  # real `pipenv lock` output (hashes only)


def copy(src: Path, tmp_path: Path, config: str = "") -> Path:
    root = tmp_path / src.name
    shutil.copytree(src, root)
    (root / "archlint.toml").write_text(config)
    return root


def run(cli: Cli, root: Path, *args: str) -> dict[str, Any]:
    res = cli(["check", "--format", "json", *args, str(root)], cwd=root)
    assert res.rc in (0, 1), res.err
    return res.json()


def deps(report: dict[str, Any], source: str) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in report["dependencies"] if d["source"] == source}


def test_uv_lock_answers_offline_without_a_socket(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*a: object, **k: object) -> None:
        raise AssertionError(f"network used offline: {a}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    report = run(cli, copy(UV_GAP, tmp_path), "--offline")
    lock = deps(report, "uv.lock")
    assert lock["pyyaml"]["status"] == "needs-build"  # no musllinux aarch64 wheel for 6.0.1
    assert lock["pyyaml"]["targets"] == {"linux/arm64 cp311 musl": "sdist", "linux/amd64 cp311 musl": "wheel"}
    assert (
        lock["requests"]["status"] == "ok"
        and lock["charset-normalizer"]["targets"]["linux/arm64 cp311 musl"] == "wheel"
    )
    assert lock["docopt"]["status"] == "needs-build"
    assert all(d["status"] != "unknown" for d in lock.values())
    # pyproject.toml declares what uv.lock pins: it takes the lock's answer, findings stay on the lock.
    declared = deps(report, "pyproject")
    assert declared["pyyaml"]["status"] == "needs-build" and declared["requests"]["status"] == "ok"
    rules = sorted((f["path"], f["rule"]) for f in report["findings"] if f["rule"] in ("ARCH102", "ARCH104"))
    assert rules == [("uv.lock", "ARCH102"), ("uv.lock", "ARCH104")]
    arch102 = next(f for f in report["findings"] if f["rule"] == "ARCH102")
    assert "run without --offline" in arch102["message"] and arch102["fix"] is None


def test_uv_lock_upgrade_is_a_lock_command(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    root = copy(UV_GAP, tmp_path, f'index-url = "{server.url}"\nosv-url = "{server.osv_url}"\n')
    report = run(cli, root)
    pyyaml = deps(report, "uv.lock")["pyyaml"]
    assert pyyaml["suggestion"]["version"] == "6.0.3" and pyyaml["suggestion"]["vulnerabilities"] == []
    arch102 = next(f for f in report["findings"] if f["rule"] == "ARCH102")
    assert arch102["fix"]["applicability"] == "manual" and arch102["fix"]["edits"] == []
    assert "`uv lock --upgrade-package pyyaml`" in arch102["fix"]["description"]
    assert not server.pages("requests")  # locked files answered; the index is only asked about gaps


def test_pipfile_lock_hashes_are_mapped_through_the_index(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    root = copy(PIPENV, tmp_path, f'index-url = "{server.url}"\nvulnerability-service = "none"\n')
    cache = ("--cache-dir", str(tmp_path / "cache"))
    offline = deps(run(cli, root, "--python", "3.11", "--offline", *cache), "Pipfile.lock")
    assert offline["numpy"]["status"] == "unknown"  # hashes alone cannot be classified offline
    report = run(cli, root, "--python", "3.11", *cache)
    lock = deps(report, "Pipfile.lock")
    assert lock["numpy"]["status"] == "ok" and lock["numpy"]["targets"]["linux/arm64 cp311"] == "wheel"
    assert lock["pyyaml"]["status"] == "ok" and lock["requests"]["targets"]["linux/arm64 cp311"] == "pure"
    assert lock["docopt"]["status"] == "needs-build"
    assert lock["colorama"]["status"] == "not-applicable"  # sys_platform == 'win32'
    # Offline again: the pages the online run cached answer now, without a request.
    asked = len(server.pages())
    offline = deps(run(cli, root, "--python", "3.11", "--offline", *cache), "Pipfile.lock")
    assert offline["numpy"]["status"] == "ok" and offline["docopt"]["status"] == "needs-build"
    assert len(server.pages()) == asked


def test_pipfile_lock_hashes_that_match_nothing_are_unknown(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    root = copy(PIPENV, tmp_path, f'index-url = "{server.url}"\nvulnerability-service = "none"\n')
    lock = json.loads((root / "Pipfile.lock").read_text())
    lock["default"]["numpy"]["hashes"] = ["sha256:" + "0" * 64]
    (root / "Pipfile.lock").write_text(json.dumps(lock, indent=4))
    report = run(cli, root, "--python", "3.11")
    numpy = deps(report, "Pipfile.lock")["numpy"]
    assert numpy["status"] == "unknown"
    msg = next(f["message"] for f in report["findings"] if f["rule"] == "ARCH105" and "numpy" in f["message"])
    assert "none of its 1 sha256 hashes matches a file of numpy 2.1.3" in msg
