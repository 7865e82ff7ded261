"""The cache cannot hurt a run. Every entry of a warm cache (package index pages, source results and
their stat index, native summaries, registry answers) is damaged one way at a time — truncated, garbage, a 5-byte
marshal bomb, a FIFO, a symlink to /dev/zero, a directory — and `archlint check`, run as users run
it (a subprocess, under a memory limit and a time limit), reports exactly what a `--no-cache` run
reports; the damaged entries are whole again afterwards. Concurrent runs sharing one cache agree
and leave only whole entries."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from deps_support.server import IndexServer, running
from net_support import procs
from registry_support.catalog import Pushed

from archlint.cachefile import read_entry

pytest_plugins = ["registry_support.fixtures"]

MEMORY_LIMIT = 2 << 30  # address space; the /dev/zero entry alone used to take 3.3 GB
RUN_TIMEOUT = 120  # a FIFO entry used to block the run forever

REQUIREMENTS = "numpy==1.19.5\nrequests==2.31.0\nonnxruntime-gpu==1.17.0\n"
APP = "import mkl\nimport numpy\n\nmkl.set_num_threads(4)\n"
WORKER = "import platform\n\nif platform.machine() == 'x86_64':\n    import intel_extension_for_pytorch\n"
KERNEL = "#include <immintrin.h>\nvoid add(float *a) { _mm256_storeu_ps(a, _mm256_setzero_ps()); }\n"
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      containers: [{{name: api, image: "{image}"}}]
"""


def run(root: Path, *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        procs.archlint("check", "--format", "json", "--check-images", *args, str(root), memory_limit=MEMORY_LIMIT),
        capture_output=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr.decode()
    assert proc.stderr == b"", proc.stderr.decode()
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def essence(report: dict[str, Any]) -> dict[str, Any]:
    return {k: report[k] for k in ("findings", "dependencies", "workloads", "summary")}


@pytest.fixture(scope="module")
def index_server() -> Iterator[IndexServer]:
    yield from running(IndexServer())


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory, index_server: IndexServer, registry: Pushed) -> Path:
    root = tmp_path_factory.mktemp("damage") / "repo"
    (root / "app").mkdir(parents=True)
    (root / "deploy").mkdir()
    (root / "requirements.txt").write_text(REQUIREMENTS)
    (root / "app" / "main.py").write_text(APP)
    (root / "app" / "worker.py").write_text(WORKER)
    (root / "ext").mkdir()
    (root / "ext" / "k.c").write_text(KERNEL)  # the native scanner's summary cache gets damaged too
    (root / "deploy" / "api.yaml").write_text(DEPLOYMENT.format(image=registry.ref("archlint/amd64only:1.0")))
    (root / "archlint.toml").write_text(f'index-url = "{index_server.url}"\nosv-url = "{index_server.osv_url}"\n')
    for p in root.rglob("*"):  # old enough for the source scan's stat index to record them
        os.utime(p, (1_600_000_000, 1_600_000_000))
    return root


@pytest.fixture(scope="module")
def expected(tree: Path) -> dict[str, Any]:
    """What a run without any cache reports."""
    return essence(run(tree, "--no-cache"))


@pytest.fixture(scope="module")
def warm_cache(tree: Path, expected: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("warm") / "cache"
    assert essence(run(tree, "--cache-dir", str(cache))) == expected
    kinds = {p.relative_to(cache).parts[0] for p in entries(cache)}
    assert {"index-v1", "source", "native", "registry"} <= kinds, kinds  # every cache has entries to damage
    return cache


def entries(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*") if p.is_file() and not p.name.startswith("."))


def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _garbage(p: Path) -> None:
    p.write_bytes(os.urandom(4096))


def _marshal_bomb(p: Path) -> None:
    p.write_bytes(b"[\xff\xff\xff\x7f")  # marshal.loads of this asks for a 16 GB list


def _replace(p: Path, make: Callable[[Path], None]) -> None:
    p.unlink()
    make(p)


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": _truncate,
    "garbage": _garbage,
    "marshal-bomb": _marshal_bomb,
    "fifo": lambda p: _replace(p, os.mkfifo),
    "symlink-to-dev-zero": lambda p: _replace(p, lambda q: q.symlink_to("/dev/zero")),
    "directory": lambda p: _replace(p, lambda q: (q.mkdir(), (q / "x").write_text("x"))),
}


@pytest.mark.slow
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_cache_changes_nothing(
    tree: Path, expected: dict[str, Any], warm_cache: Path, tmp_path: Path, damage: str
) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(warm_cache, cache, symlinks=True)
    damaged = entries(cache)
    for p in damaged:
        DAMAGE[damage](p)
    assert essence(run(tree, "--cache-dir", str(cache))) == expected
    for p in damaged:  # each bad entry was a miss, and was replaced
        assert read_entry(p, 1 << 30) is not None, p


@pytest.mark.slow
def test_concurrent_runs_share_one_cache(tree: Path, expected: dict[str, Any], tmp_path: Path) -> None:
    cache = tmp_path / "shared"
    cmd = [sys.executable, "-m", "archlint", "check", "--format", "json", "--check-images", "--cache-dir", str(cache)]
    procs = [subprocess.Popen([*cmd, str(tree)], stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    outs = [p.communicate(timeout=RUN_TIMEOUT) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode in (0, 1) and err == b"", err.decode()
        assert essence(json.loads(out)) == expected
    leftovers = [p for p in cache.rglob("*") if p.is_file() and p.name.startswith(".")]
    assert leftovers == []  # no temporary file left behind
    assert entries(cache)
    for p in entries(cache):
        assert read_entry(p, 1 << 30) is not None, p


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_the_vulnerability_services_http_cache(server: IndexServer, tmp_path: Path, damage: str) -> None:
    """pip-audit's PyPI service caches its GETs (OSV's POSTs are not cached); its cache is ours."""
    from archlint.deps.vulns.pip_audit_service import session

    server.cache_control = "max-age=600"
    url = f"{server.url}requests/"
    first = session(tmp_path, 5.0).get(url).content
    assert session(tmp_path, 5.0).get(url).content == first
    assert len(server.pages("requests")) == 1  # the second answer came from the cache
    (entry,) = entries(tmp_path)
    DAMAGE[damage](entry)
    done: list[bytes] = []
    t = threading.Thread(target=lambda: done.append(session(tmp_path, 5.0).get(url).content), daemon=True)
    t.start()
    t.join(timeout=30)
    assert done == [first]
    assert len(server.pages("requests")) == 2  # a miss: asked again ...
    assert read_entry(entry, 1 << 30) is not None  # ... and stored again
