"""Progress on a terminal: per scanner, files done of total and time; never in a pipe; no thread."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import threading
from pathlib import Path

from archlint.progress import TerminalProgress


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    for i in range(40):
        (root / "pkg" / f"m{i}.py").write_text(f"X = {i}\n")
    (root / "requirements.txt").write_text("intel-openmp==2024.2.1\n")
    return root


def _run(root: Path, tty: bool) -> tuple[str, str]:
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    env.pop("ARCHLINT_RAISE", None)
    cmd = [sys.executable, "-m", "archlint", "check", str(root), "--offline", "--format", "json"]
    if not tty:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        return p.stdout, p.stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    err = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            err += chunk
        elif proc.poll() is not None:
            break
    out = proc.stdout.read().decode() if proc.stdout else ""
    proc.wait(timeout=60)
    os.close(master)
    return out, err.decode("utf-8", "replace")


def test_progress_shows_on_a_terminal_and_leaves_the_report_alone(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    out_tty, err_tty = _run(root, tty=True)
    out_pipe, err_pipe = _run(root, tty=False)
    assert out_tty == out_pipe and '"findings"' in out_tty  # the report on stdout is the same
    assert "archlint: source" in err_tty and "40/40" in err_tty and "files" in err_tty
    assert "archlint: source" not in err_pipe and "\x1b" not in err_pipe  # never in a pipe


def test_terminal_progress_starts_no_thread() -> None:
    # A live thread would keep the source scanner from forking its pool.
    before = threading.active_count()
    p = TerminalProgress(io.StringIO())
    p.begin("source", 3)
    p.advance()
    assert threading.active_count() == before
    p.end()
    p.close()
    assert threading.active_count() == before
