"""Dependency readiness speed: 100 pinned requirements against the real package index.

    python bench/deps_bench.py                 # archlint cold + warm, then pip per pin
    python bench/deps_bench.py --no-pip        # archlint only
    python bench/deps_bench.py --pip-workers 4 # pip processes in parallel

archlint answers "does every pin install from a wheel on linux/arm64 cp311 (glibc 2.36)?" for all
100 pins in one run: cold (empty cache) then warm (same cache). The baseline asks pip the same
question per pin: `pip install --dry-run --only-binary=:all: --no-deps --platform
manylinux_2_36_aarch64 --platform manylinux_2_35_aarch64 ... --python-version 3.11 --target DIR PIN`
(every platform tag archlint accepts). pip --dry-run also downloads the chosen wheel.
Targets: cold < 3 s, warm < 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
PINS = HERE / "deps_requirements-100.txt"


def archlint_run(root: Path, cache: Path) -> tuple[float, float, dict[str, str]]:
    from archlint import engine
    from archlint.scanners import all_scanners

    os.environ["ARCHLINT_NO_CONFIG_SEARCH"] = "1"
    all_scanners()  # module imports are start-up cost, not index work: keep them out of the timing
    t0, c0 = time.perf_counter(), time.process_time()
    result = engine.run(engine.Options(paths=[str(root)], cache_dir=cache, pythons=["3.11"]))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    return elapsed, cpu, {d.name: d.status for d in result.facts.dependencies}


def pip_platforms() -> list[str]:
    # The same platform tags archlint accepts for linux/arm64 glibc 2.36 (older pips do not expand
    # manylinux_2_36 to the older manylinux tags themselves).
    from archlint.deps.targets import platform_tags
    from archlint.facts import Target

    return [a for p in platform_tags(Target("linux/arm64", "3.11", "glibc", "2.36")) for a in ("--platform", p)]


def pip_one(pin: str, cache: str | None) -> tuple[str, bool, float]:
    with tempfile.TemporaryDirectory() as target:
        cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--only-binary=:all:", "--no-deps",
               *pip_platforms(), "--python-version", "3.11", "--target", target,
               "--disable-pip-version-check", pin]  # fmt: skip
        cmd += ["--cache-dir", cache] if cache else ["--no-cache-dir"]
        t0 = time.perf_counter()
        ok = subprocess.run(cmd, capture_output=True).returncode == 0
        return pin, ok, time.perf_counter() - t0


def pip_run(pins: list[str], workers: int, cache: str | None) -> tuple[float, dict[str, bool]]:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda p: pip_one(p, cache), pins))
    return time.perf_counter() - t0, {p.split("==")[0].lower(): ok for p, ok, _ in results}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-pip", action="store_true")
    ap.add_argument("--pip-workers", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3, help="warm runs (the best is shown)")
    args = ap.parse_args()
    pins = [line.strip() for line in PINS.read_text().splitlines() if line.strip()]
    work = Path(tempfile.mkdtemp(prefix="archlint-bench-"))
    try:
        root = work / "repo"
        root.mkdir()
        shutil.copy(PINS, root / "requirements.txt")
        cache = work / "cache"
        cold, cold_cpu, statuses = archlint_run(root, cache)
        warm, warm_cpu, _ = min(archlint_run(root, cache) for _ in range(args.runs))
        counts: dict[str, int] = {}
        for s in statuses.values():
            counts[s] = counts.get(s, 0) + 1
        print(f"{len(pins)} pinned dependencies, target linux/arm64 cp311 glibc 2.36 (+ linux/amd64 baseline)")
        print(f"{'':28}{'cold':>10}{'warm':>10}")
        print(f"{'archlint check':28}{cold:>9.2f}s{warm:>9.3f}s   statuses: {counts}")
        load = os.getloadavg()[0]
        print(f"{'  (CPU time, all threads)':28}{cold_cpu:>9.2f}s{warm_cpu:>9.3f}s   load average: {load:.1f}")
        if not args.no_pip:
            pcold, answers = pip_run(pins, args.pip_workers, None)
            pcache = str(work / "pip-cache")
            pip_run(pins, args.pip_workers, pcache)
            pwarm, _ = pip_run(pins, args.pip_workers, pcache)
            label = f"pip --dry-run x{len(pins)} (j{args.pip_workers})"
            print(f"{label:28}{pcold:>9.2f}s{pwarm:>9.2f}s   installable from wheels: {sum(answers.values())}")
            agree = sum(1 for n, ok in answers.items() if ok == (statuses.get(n) == "ok"))
            print(f"agreement (pip installs a wheel <=> archlint status ok): {agree}/{len(answers)}")
            for n, ok in sorted(answers.items()):
                if ok != (statuses.get(n) == "ok"):
                    print(f"  differs: {n}: pip {'ok' if ok else 'fails'}, archlint {statuses.get(n)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    raise SystemExit(main())
