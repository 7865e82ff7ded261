"""Benchmark the Python source scanner against ruff on the interpreter's own stdlib.

    python bench/source_bench.py [--repeat 3] [--tree DIR]

Copies the stdlib (without site-packages and __pycache__) to a temporary tree, then runs, in
the same session and on the same tree, each as a fresh process:
  ruff        ruff check --select F401 --no-cache --isolated TREE
  scanner     the SourceScanner alone on every .py/.pyi/.ipynb (cold: empty cache; warm: again)
  cli         archlint check TREE --offline (cold: empty cache; warm: again) - this also walks
              and classifies every file and runs every other scanner
Prints median wall and CPU (user+sys of the process and its workers) per command, and the
ratios against ruff's cold wall time. Targets: scanner cold <= 2x ruff, scanner warm <= 1x ruff.
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
import time
from pathlib import Path

SCANNER = """
import os, sys
from pathlib import Path
from archlint.config import Config
from archlint.facts import Facts
from archlint.scanning import NOTEBOOK, PYTHON, ScanContext, SourceFile
from archlint.scanners.source import SourceScanner

root = Path(sys.argv[1])
cache = None if sys.argv[2] == "-" else Path(sys.argv[2])
files = []
for d, dirs, names in os.walk(root):
    dirs.sort()
    for n in sorted(names):
        if n.endswith((".py", ".pyi", ".ipynb")):
            p = Path(d, n)
            files.append(SourceFile(p, p.relative_to(root).as_posix(), NOTEBOOK if n.endswith(".ipynb") else PYTHON))
findings = list(SourceScanner().scan(files, ScanContext(root=root, config=Config(), cache_dir=cache), Facts()))
print(len(files), len(findings))
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, cpu, proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


def copy_stdlib(dest: Path) -> Path:
    src = Path(sysconfig.get_paths()["stdlib"])
    tree = dest / "stdlib"
    if not tree.exists():
        shutil.copytree(
            src, tree, ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc"), symlinks=True
        )
    return tree


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tree", help="scan this tree instead of a copy of the stdlib")
    args = ap.parse_args()
    ruff = shutil.which("ruff")
    if ruff is None:
        raise SystemExit("ruff is not on PATH (pip install ruff)")
    work = Path(tempfile.mkdtemp(prefix="archlint-bench-"))
    try:
        tree = Path(args.tree).resolve() if args.tree else copy_stdlib(work)
        n = sum(1 for _, _, names in os.walk(tree) for x in names if x.endswith((".py", ".pyi")))
        print(f"tree: {tree} ({n} Python files); {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}")
        env = {**os.environ, "ARCHLINT_NO_CONFIG_SEARCH": "1"}
        env.pop("ARCHLINT_CACHE_DIR", None)
        runs: dict[str, list[tuple[float, float]]] = {}
        notes: dict[str, str] = {}
        for i in range(args.repeat):
            sc, cc = work / f"scanner-cache-{i}", work / f"cli-cache-{i}"
            cli = [sys.executable, "-m", "archlint", "check", str(tree), "--offline", "--format", "json",
                   "--output", os.devnull, "--exit-zero"]  # fmt: skip
            plan = [
                ("ruff (cold, F401)", [ruff, "check", "--select", "F401", "--no-cache", "--isolated", "-q", str(tree)]),
                ("scanner cold", [sys.executable, "-c", SCANNER, str(tree), str(sc)]),
                ("scanner warm", [sys.executable, "-c", SCANNER, str(tree), str(sc)]),
                ("scanner no cache", [sys.executable, "-c", SCANNER, str(tree), "-"]),
                ("cli cold", [*cli, "--cache-dir", str(cc)]),
                ("cli warm", [*cli, "--cache-dir", str(cc)]),
            ]
            for name, cmd in plan:
                wall, cpu, out = timed(cmd, env)
                runs.setdefault(name, []).append((wall, cpu))
                if name.startswith("scanner"):
                    notes[name] = out
        ruff_wall = statistics.median(w for w, _ in runs["ruff (cold, F401)"])
        ruff_cpu = statistics.median(c for _, c in runs["ruff (cold, F401)"])
        print(
            f"{'command':<20} {'wall s':>8} {'cpu s':>8} {'wall/ruff':>10} {'cpu/ruff':>9}  (median of {args.repeat})"
        )
        for name, vals in runs.items():
            wall = statistics.median(w for w, _ in vals)
            cpu = statistics.median(c for _, c in vals)
            print(f"{name:<20} {wall:8.3f} {cpu:8.3f} {wall / ruff_wall:10.2f} {cpu / ruff_cpu:9.2f}")
        cold = statistics.median(w for w, _ in runs["scanner cold"]) / ruff_wall
        warm = statistics.median(w for w, _ in runs["scanner warm"]) / ruff_wall
        cli_cold = statistics.median(w for w, _ in runs["cli cold"]) / ruff_wall
        cli_warm = statistics.median(w for w, _ in runs["cli warm"]) / ruff_wall
        print(f"scanner files/findings: {notes.get('scanner cold', '')}")
        print(f"RATIO scanner cold/ruff = {cold:.2f} (target <= 2.00) {'OK' if cold <= 2 else 'MISSED'}")
        print(f"RATIO scanner warm/ruff = {warm:.2f} (target <= 1.00) {'OK' if warm <= 1 else 'MISSED'}")
        print(f"RATIO cli cold/ruff = {cli_cold:.2f}; cli warm/ruff = {cli_warm:.2f} (whole CLI, for reference)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
