"""Dependency-source parsing speed: one real ~130-160 package lock of each format.

    python bench/deps_sources_bench.py              # 20 rounds per file, median reported
    python bench/deps_sources_bench.py --rounds 50

The files in bench/deps_sources/ were produced by the real tools for one project
(jupyterlab, pandas, scikit-learn, boto3, fastapi, sqlalchemy, celery, matplotlib):
`uv lock`, `uv export --format pylock.toml`, `pdm lock`, `poetry lock`, `pipenv lock` and
`uv pip compile --generate-hashes`. The baseline is the bare decode of the same bytes with the
standard library (`tomllib.loads` / `json.loads`; for requirements, pip-requirements-parser's
`from_file`), i.e. what a naive parser pays before doing anything; archlint adds line positions,
names, files, hashes and markers (and decodes TOML with the compiled tomli when installed).
Target: no slower than the baseline for TOML locks and requirements (ratio <= 1.0; pylock.toml
<= 2.5, as packaging.pylock parses every wheel file name to validate it), and < 20 ms for Pipfile.lock.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import tomllib
from pip_requirements_parser import RequirementsFile

from archlint import scanning as k
from archlint.config import Config
from archlint.deps.sources import parse_file
from archlint.scanning import ScanContext, SourceFile

DATA = Path(__file__).resolve().parent / "deps_sources"
FILES = [
    ("uv.lock", k.UV_LOCK),
    ("pylock.toml", k.PYLOCK),
    ("poetry.lock", k.POETRY_LOCK),
    ("pdm.lock", k.PDM_LOCK),
    ("Pipfile.lock", k.PIPFILE_LOCK),
    ("requirements.txt", k.REQUIREMENTS),
]


def median_ms(fn: Callable[[], object], rounds: int) -> float:
    fn()  # warm-up: imports and caches are not parsing
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def baseline(path: Path, kind: str) -> Callable[[], object]:
    if kind == k.PIPFILE_LOCK:
        return lambda: json.loads(path.read_text(encoding="utf-8"))
    if kind == k.REQUIREMENTS:
        return lambda: RequirementsFile.from_file(str(path))
    return lambda: tomllib.loads(path.read_text(encoding="utf-8"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    ctx = ScanContext(root=DATA, config=Config(), offline=True)
    print(f"{'file':<18}{'packages':>9}{'KiB':>7}{'archlint ms':>13}{'baseline ms':>13}{'ratio':>7}{'µs/pkg':>8}")
    for name, kind in FILES:
        path = DATA / name

        def run(path: Path = path, kind: str = kind) -> int:
            # A fresh SourceFile each round: no cached bytes, the read is part of the cost.
            result = parse_file(SourceFile(path=path, rel=path.name, kind=kind), ctx)
            assert not result.findings, result.findings
            return len(result.dependencies)

        count = run()
        ours = median_ms(run, args.rounds)
        base = median_ms(baseline(path, kind), args.rounds)
        size = path.stat().st_size / 1024
        per_pkg = ours * 1000 / count
        print(f"{name:<18}{count:>9}{size:>7.0f}{ours:>13.1f}{base:>13.1f}{ours / base:>7.1f}{per_pkg:>8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
