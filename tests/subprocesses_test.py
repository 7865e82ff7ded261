"""Helper programs (kubectl, git, docker credential helpers) never outlive the call that ran them,
even when they start children of their own that hold on to the output pipes."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from archlint.k8s.render import kustomize, runner
from archlint.registry import auth
from archlint.subprocesses import run_captured

MARKER = "417.25"  # a sleep no other process on the machine runs


def sleepers(grace: float = 2.0) -> list[str]:
    """The marked sleeps still alive `grace` seconds on (SIGKILL is delivered, not waited for)."""
    end = time.monotonic() + grace
    while True:
        out = []
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    cmd = fh.read().split(b"\0")
            except OSError:
                continue
            if cmd[:2] == [b"sleep", MARKER.encode()]:
                out.append(entry)
        if not out or time.monotonic() > end:
            return out
        time.sleep(0.05)


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


@pytest.fixture
def stubborn(tmp_path: Path) -> Path:
    """A program that leaves a child holding its stdout and stderr, then waits too."""
    return script(tmp_path / "stubborn", f"sleep {MARKER} &\nsleep {MARKER}\n")


def test_the_whole_group_is_killed_at_the_timeout(stubborn: Path) -> None:
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_captured([str(stubborn)], timeout=1.0)
    assert time.monotonic() - start < 10
    assert sleepers() == []  # subprocess.run would leave the grandchild running


def test_output_input_and_exit_status(tmp_path: Path) -> None:
    echo = script(tmp_path / "echo", 'read line\necho "got $line"\necho oops >&2\nexit 3\n')
    done = run_captured([str(echo)], input=b"hello\n", timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (3, b"got hello\n", b"oops\n")


def stubborn_on_path(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script(bin_dir / name, f"sleep {MARKER} &\nsleep {MARKER}\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_a_hanging_credential_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stubborn_on_path("docker-credential-stuck", tmp_path, monkeypatch)
    monkeypatch.setattr(auth, "HELPER_TIMEOUT", 1.0)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"credsStore": "stuck"}))
    start = time.monotonic()
    assert auth.CredentialStore([config]).lookup("registry.example") is None  # as if it had no credentials
    assert time.monotonic() - start < 10
    assert sleepers() == []


def test_a_hanging_kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stubborn_on_path("kubectl", tmp_path, monkeypatch)
    (tmp_path / "kustomization.yaml").write_text("resources: []\n")
    cmd = kustomize.command(tmp_path)
    assert cmd is not None
    [got] = runner.run_all([cmd], timeout=1.0)
    assert not got.ok and "did not finish" in got.error
    assert sleepers() == []
