"""Nothing but archlint speaks on stderr, and nothing archlint starts outlives it.

The real CLI runs in a subprocess, in its own process group (as a shell job), on a tree whose
dependencies are looked up on a local index: with its stdout closed after one line (`| head -1`),
cold and warm cache, after a config error, and interrupted with Ctrl-C (SIGINT to the whole
group, as a terminal sends it) at several moments. stderr may only hold `archlint: ...` lines,
and no process of the group (a pool worker, pip run by pip-audit's import, kubectl) may remain.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from deps_support.server import IndexServer, running
from net_support.procs import archlint, foreign_lines, group_members, launcher, leftovers

REQUIREMENTS = "numpy==1.19.5\nrequests==2.31.0\nonnxruntime-gpu==1.17.0\npyyaml==5.3.1\n"
KUSTOMIZATION = "resources:\n  - deploy.yaml\n"
DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: "registry.example/api:1.0"}]
"""


@pytest.fixture(scope="module")
def index() -> Iterator[IndexServer]:
    yield from running(IndexServer())


def make_tree(root: Path, index: IndexServer, python_files: int = 150) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "k8s").mkdir()
    (root / "requirements.txt").write_text(REQUIREMENTS)
    (root / "archlint.toml").write_text(f'index-url = "{index.url}"\nosv-url = "{index.osv_url}"\n')
    (root / "k8s" / "kustomization.yaml").write_text(KUSTOMIZATION)
    (root / "k8s" / "deploy.yaml").write_text(DEPLOY)
    for i in range(python_files):  # enough findings that the report outgrows a pipe's buffer
        (root / "app" / f"m{i}.py").write_text(f"import mkl\nimport numpy\n\nVALUE_{i} = mkl.get_max_threads()\n")
    return root


@pytest.fixture
def tree(tmp_path: Path, index: IndexServer) -> Path:
    return make_tree(tmp_path / "repo", index)


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(archlint(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def read_one_line_then_close(proc: subprocess.Popen[bytes]) -> bytes:
    """What `archlint ... | head -1` does to archlint's stdout."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    proc.stdout.close()
    return line


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, str, list[str]]:
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    rc = proc.wait(timeout=120)
    return rc, err, leftovers(proc.pid)


@pytest.mark.slow
def test_stdout_closed_early_cold_then_warm(tree: Path, tmp_path: Path) -> None:
    # Warm runs are the quick ones, where the vulnerability warm-up (which runs pip) used to be
    # still running when archlint exited: pip then printed its BrokenPipeError traceback.
    cache = tmp_path / "cache"
    for run, fmt in (("cold", "text"), ("warm", "text"), ("warm", "json"), ("warm", "text")):
        proc = start("check", "--format", fmt, "--cache-dir", str(cache), str(tree))
        first = read_one_line_then_close(proc)
        rc, err, left = finish(proc)
        assert first, f"{run}: no output at all ({err})"
        assert foreign_lines(err) == [], f"{run} {fmt} run, rc {rc}:\n{err}"
        assert "Traceback" not in err
        assert left == [], f"{run} {fmt} run left {left}"
        assert rc in (0, 1), err


def test_a_config_error_is_one_line_and_nothing_else(tree: Path) -> None:
    (tree / "archlint.toml").write_text('python = "three"\n')
    proc = start("check", str(tree))
    assert proc.stdout is not None
    out = proc.stdout.read()
    rc, err, left = finish(proc)
    assert rc == 2 and out == b""
    assert len(err.strip().splitlines()) == 1 and foreign_lines(err) == [], err
    assert left == []


def test_a_scanner_config_error_after_the_dependency_scan(tree: Path) -> None:
    """The cluster profile fails after the dependency scan (and its vulnerability warm-up) ran."""
    (tree / "archlint.toml").write_text((tree / "archlint.toml").read_text() + '[cluster]\nnodes-file = "nodes.json"\n')
    (tree / "nodes.json").write_text('{"kind": "List", "items": [{"kind": "Node", "metadata": {"labels": "x"}}]}')
    proc = start("check", "--no-cache", str(tree))
    read_one_line_then_close(proc)
    rc, err, left = finish(proc)
    assert rc == 2 and foreign_lines(err) == [] and "nodes.json" in err, err
    assert left == []


def interrupt_after(proc: subprocess.Popen[bytes], seconds: float) -> None:
    time.sleep(seconds)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)  # the whole foreground group, as a terminal does


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.3, 0.6, 1.2])
def test_ctrl_c_while_dependencies_are_looked_up(index: IndexServer, tmp_path: Path, delay: float) -> None:
    # A slow index keeps the run in the dependency scan, where pip-audit loads (and runs pip) in
    # the background while index requests are in flight on a thread pool. Ctrl-C comes `delay`
    # seconds after the first index request, i.e. inside the scan, whatever the machine's load.
    index.faults["numpy"] = "slow"
    index.slow_seconds = 3.0
    index.seen.clear()
    try:
        tree = make_tree(tmp_path / "repo", index, python_files=10)
        proc = start("check", "--no-cache", str(tree))
        end = time.monotonic() + 60
        while proc.poll() is None and not index.pages() and time.monotonic() < end:
            time.sleep(0.01)
        interrupt_after(proc, delay)
        rc, err, left = finish(proc)
    finally:
        index.faults.clear()
    assert foreign_lines(err) == [] and "Traceback" not in err, f"rc {rc}:\n{err}"
    assert rc == 130 and "archlint: interrupted" in err
    assert left == []


@pytest.mark.slow
def test_ctrl_c_drops_the_queued_lookups(index: IndexServer, tmp_path: Path) -> None:
    """200 pins on an index that takes 1.5 s a page: thirteen waves of sixteen lookups. Ctrl-C in
    the first wave ends the run when that wave's requests end (each bounded by index-timeout),
    not after the other twelve (Executor.map cancels what it has not started)."""
    names = [f"slowpkg{i}" for i in range(200)]
    for name in names:
        index.faults[name] = "slow"
    index.slow_seconds = 1.5
    index.seen.clear()
    try:
        root = tmp_path / "repo"
        root.mkdir()
        (root / "requirements.txt").write_text("".join(f"{n}==1.0\n" for n in names))
        (root / "archlint.toml").write_text(f'index-url = "{index.url}"\nindex-timeout = 2\n')
        proc = start("check", "--no-cache", str(root))
        end = time.monotonic() + 60
        while proc.poll() is None and not index.pages() and time.monotonic() < end:
            time.sleep(0.01)
        interrupt_after(proc, 0.2)
        interrupted = time.monotonic()
        rc, err, left = finish(proc)
        took = time.monotonic() - interrupted
    finally:
        index.faults.clear()
    assert rc == 130 and foreign_lines(err) == [], err
    assert took < 3 * 2  # three deadlines at most, where the queue alone would take 18 s
    assert len(index.pages()) < 100
    assert left == []


@pytest.mark.slow
@pytest.mark.parametrize("after_pool", [0.05, 0.5])
def test_ctrl_c_while_the_fork_pool_runs(index: IndexServer, tmp_path: Path, after_pool: float) -> None:
    tree = make_tree(tmp_path / "repo", index, python_files=450)  # enough files for the source pool
    proc = start("check", "--offline", "--no-cache", str(tree))
    end = time.monotonic() + 60
    while proc.poll() is None and len(group_members(proc.pid)) < 2 and time.monotonic() < end:
        time.sleep(0.01)  # until a worker is forked
    interrupt_after(proc, after_pool)
    rc, err, left = finish(proc)
    assert foreign_lines(err) == [] and "Traceback" not in err, f"rc {rc}:\n{err}"
    assert left == []


MAP_JOBS = """
import os, signal, sys, time
from archlint.k8s.pool import map_jobs

def interrupt_myself(job):
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C reaches every process of the group, workers too
    time.sleep(0.05)
    return (job * 2, os.getpid())

got = map_jobs(interrupt_myself, list(range(6)), [1] * 6, workers=2)
assert all(pid != os.getpid() for _, pid in got), "ran in-process, not on the pool"
print([v for v, _ in got])
"""


def test_manifest_pool_workers_leave_ctrl_c_to_archlint() -> None:
    # In a fresh interpreter: the pool forks only where no other thread runs (test servers do here).
    proc = subprocess.run([*launcher(), sys.executable, "-c", MAP_JOBS], capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[0, 2, 4, 6, 8, 10]" and proc.stderr == ""


def test_idle_source_pool_workers_leave_ctrl_c_to_archlint(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    import multiprocessing

    from archlint.scanning import PYTHON
    from archlint.source.pool import Workers

    files = []
    for i in range(4):
        p = tmp_path / f"m{i}.py"
        p.write_text("import mkl\n" if i % 2 else "x = 1\n")
        files.append((p, PYTHON, None))
    with Workers(2) as workers:
        first = workers.probe(files, 1 << 20)
        children = multiprocessing.active_children()
        assert children  # the pool is up, its workers idle in their queue
        for child in children:
            assert child.pid is not None
            os.kill(child.pid, signal.SIGINT)
        time.sleep(0.5)
        assert all(child.is_alive() for child in children)
        assert workers.probe(files, 1 << 20) == first  # and still at work
    assert "Traceback" not in capfd.readouterr().err
