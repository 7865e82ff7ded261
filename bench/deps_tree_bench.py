"""Dependency-tree speed: a typical ML service's 16 top-level requirements, resolved per target.

    python bench/deps_tree_bench.py            # archlint cold + warm, then uv cold + warm
    python bench/deps_tree_bench.py --no-uv    # archlint only

archlint resolves the whole tree (about 100 packages) for linux/arm64 and linux/amd64 (Python
3.11, glibc 2.36) from PEP 658 metadata or HTTP range requests, inside a full `check` (index
pages, availability, findings). The baseline is `uv pip compile --python-platform
aarch64-manylinux_2_28 --python-version 3.11` on the same file: one target, no availability
verdicts. Cold: empty caches; warm: the same cache again (best of --runs). Targets: archlint cold
within 2x of uv cold; archlint warm under 0.5 s. CPU time (user+sys, all threads and children)
is printed beside wall time, with the load average, because the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQS = HERE / "deps_tree_requirements.in"


def archlint_run(root: Path, cache: Path) -> tuple[float, float, dict[str, str | None], int]:
    from archlint import engine
    from archlint.scanners import all_scanners

    os.environ["ARCHLINT_NO_CONFIG_SEARCH"] = "1"
    all_scanners()  # module imports are start-up cost, not resolution work: keep them out of the timing
    t0, c0 = time.perf_counter(), time.process_time()
    result = engine.run(engine.Options(paths=[str(root)], cache_dir=cache, pythons=["3.11"]))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    arm = {d.name: d.resolved.get("linux/arm64 cp311") for d in result.facts.dependencies}
    return elapsed, cpu, arm, len(result.findings)


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def uv_run(reqs: Path, cache: Path, python: str = "3.11") -> tuple[float, float, dict[str, str]]:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    cmd = [uv, "pip", "compile", "--python-platform", "aarch64-manylinux_2_28", "--python-version", python,
           "--index-url", os.environ.get("BENCH_INDEX_URL", "https://pypi.org/simple"), "--no-header",
           "--no-annotate", "--quiet", str(reqs)]  # fmt: skip
    env = {**os.environ, "UV_CACHE_DIR": str(cache), "UV_NO_CONFIG": "1"}
    c0 = children_cpu()
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    elapsed = time.perf_counter() - t0
    pins = {}
    for line in out.splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==(\S+)", line)
        if m:
            pins[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(3)
    return elapsed, children_cpu() - c0, pins


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-uv", action="store_true")
    ap.add_argument("--runs", type=int, default=3, help="warm runs (the best is shown)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="archlint-tree-bench-"))
    try:
        root = work / "repo"
        root.mkdir()
        shutil.copy(REQS, root / "requirements.txt")
        cache = work / "cache"
        load = os.getloadavg()
        cold, cold_cpu, arm, findings = archlint_run(root, cache)
        warm, warm_cpu, _, _ = min(archlint_run(root, cache) for _ in range(args.runs))
        top = sum(1 for line in REQS.read_text().splitlines() if line.strip())
        print(f"{top} top-level requirements; archlint resolves linux/arm64 + linux/amd64 cp311, uv linux/arm64 only")
        print(f"{'':34}{'cold':>9}{'cpu':>8}{'warm':>9}{'cpu':>8}")
        print(f"{'archlint check (tree, 2 targets)':34}{cold:>8.2f}s{cold_cpu:>7.2f}s{warm:>8.3f}s{warm_cpu:>7.3f}s"
              f"   {len(arm)} packages, {findings} findings")  # fmt: skip
        if not args.no_uv:
            ucache = work / "uv-cache"
            ucold, ucold_cpu, pins = uv_run(REQS, ucache)
            uwarm, uwarm_cpu, _ = min(uv_run(REQS, ucache) for _ in range(args.runs))
            print(f"{'uv pip compile (aarch64)':34}{ucold:>8.2f}s{ucold_cpu:>7.2f}s{uwarm:>8.3f}s{uwarm_cpu:>7.3f}s"
                  f"   {len(pins)} packages")  # fmt: skip
            print(f"cold ratio archlint/uv: {cold / ucold:.2f} (target <= 2)")
            # Versions: uv reads "3.11" as 3.11.0, archlint as the newest 3.11 patch release (what
            # `FROM python:3.11` runs); compare them on the same footing.
            _, _, pins = uv_run(REQS, ucache, "3.11.99")
            same = sum(1 for n, v in pins.items() if arm.get(n) == v)
            print(f"same version as uv (--python-version 3.11.99) on linux/arm64: {same}/{len(pins)}")
            for n in sorted(set(pins) | {n for n, v in arm.items() if v}):
                if arm.get(n) != pins.get(n):
                    print(f"  differs: {n}: archlint {arm.get(n)}, uv {pins.get(n)}")
        end = os.getloadavg()
        print(f"load average: {load[0]:.1f} at start, {end[0]:.1f} at end ({os.cpu_count()} CPUs)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    raise SystemExit(main())
