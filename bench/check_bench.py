"""Benchmark the whole `archlint check` against ruff on real trees (issue: speed on real trees).

    python bench/check_bench.py [--repeat 3] [--trees stdlib,thirdparty] [--corpus-venv DIR]

Trees, built once under the temporary directory:
  stdlib      a copy of the interpreter's standard library (without site-packages, __pycache__),
              which also holds libpython3.11.a (the binaries scanner reads its members)
  thirdparty  the .py files of a data-science environment (numpy, scipy, pandas, scikit-learn,
              matplotlib, django, sqlalchemy, boto3, numba, pyarrow, tensorflow); the packages are
              pip-installed into --corpus-venv once (about 3 GB, several minutes, needs the index)

Each command runs as a fresh process, on the same tree, in the same session (ratios are
measured side by side, medians of --repeat runs):
  ruff        ruff check --select F401 --no-cache --isolated --exit-zero TREE
  cold        archlint check TREE --offline --no-cache --exit-zero
  warm        archlint check TREE --offline --exit-zero, with a cache filled by one earlier run
Printed per command: wall, CPU (user+sys of the process and its workers), peak RSS summed over
the process tree (sampled every 20 ms), and the ratio to ruff's wall.
Targets: cold <= 2x ruff, warm <= 1x ruff, peak memory < 500 MB.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

CORPUS_PACKAGES = (
    "numpy", "scipy", "pandas", "scikit-learn", "matplotlib", "django", "sqlalchemy", "boto3", "numba",
    "pyarrow", "tensorflow",
)  # fmt: skip


def _tree_rss_kb(root_pid: int) -> int:
    """Resident memory of a process and all its descendants (fork-pool workers included)."""
    total, todo, seen = 0, [root_pid], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """(wall s, cpu s, peak tree RSS MB, last stdout line)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err[-2000:]}")
    lines = out.strip().splitlines()
    return wall, cpu, peak / 1024, lines[-1] if lines else ""


def stdlib_tree(base: Path) -> Path:
    tree = base / "stdlib"
    if not tree.exists():
        shutil.copytree(
            sysconfig.get_paths()["stdlib"],
            tree,
            ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc"),
            symlinks=True,
        )
    return tree


def thirdparty_tree(base: Path, venv: Path) -> Path:
    tree = base / "thirdparty"
    if tree.exists():
        return tree
    site = next(venv.glob("lib/python3*/site-packages"), None)
    if site is None or not (site / "numpy").exists():
        print(f"installing the corpus into {venv} (once) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *CORPUS_PACKAGES], check=True)
        site = next(venv.glob("lib/python3*/site-packages"))
    for src in site.rglob("*.py"):
        dst = tree / src.relative_to(site)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    return tree


def run_tree(name: str, tree: Path, repeat: int, env: dict[str, str], archlint: list[str], ruff: str) -> None:
    cache = Path(tempfile.mkdtemp(prefix="archlint-bench-cache-"))
    cmds = {
        "ruff": [ruff, "check", "--select", "F401", "--no-cache", "--isolated", "--exit-zero", "--quiet", str(tree)],
        "cold": [*archlint, "check", str(tree), "--offline", "--no-cache", "--exit-zero", "--format", "json",
                 "-o", os.devnull],
        "warm": [*archlint, "check", str(tree), "--offline", "--exit-zero", "--cache-dir", str(cache),
                 "--format", "json", "-o", os.devnull],
    }  # fmt: skip
    timed(cmds["warm"], env)  # fill the cache
    rows: dict[str, list[tuple[float, float, float]]] = {k: [] for k in cmds}
    for _ in range(repeat):
        for k, cmd in cmds.items():  # interleaved, so load changes hit every command alike
            wall, cpu, rss, _ = timed(cmd, env)
            rows[k].append((wall, cpu, rss))
    files = sum(1 for _ in tree.rglob("*") if _.is_file())
    ruff_wall = statistics.median(w for w, _, _ in rows["ruff"])
    print(f"\n{name}: {tree} ({files} files), median of {repeat}, load {os.getloadavg()[0]:.2f}")
    print(f"  {'command':<6} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'x ruff wall':>12}")
    for k, vals in rows.items():
        wall = statistics.median(v[0] for v in vals)
        cpu = statistics.median(v[1] for v in vals)
        rss = max(v[2] for v in vals)
        print(f"  {k:<6} {wall:8.2f} {cpu:8.2f} {rss:8.0f} {wall / ruff_wall:12.2f}")
    shutil.rmtree(cache, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--trees", default="stdlib,thirdparty")
    ap.add_argument("--corpus-venv", default=os.path.join(tempfile.gettempdir(), "archlint-bench-corpus-venv"))
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "archlint-bench-trees"))
    args = ap.parse_args()
    ruff = shutil.which("ruff")
    if ruff is None:
        raise SystemExit("ruff is not on PATH (pip install ruff)")
    archlint = [sys.executable, "-m", "archlint"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("ARCHLINT_CACHE_DIR", None)
    base = Path(args.work)
    base.mkdir(parents=True, exist_ok=True)
    for name in args.trees.split(","):
        if name == "stdlib":
            tree = stdlib_tree(base)
        elif name == "thirdparty":
            tree = thirdparty_tree(base, Path(args.corpus_venv))
        else:
            tree = Path(name)
        run_tree(name, tree, args.repeat, env, archlint, ruff)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
