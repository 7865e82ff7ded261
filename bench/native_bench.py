"""Benchmark the native scanner (C/C++/Cython/Fortran and build files) against grep and ripgrep
on a large real C tree: numpy's sdist (2,100 C/C++ files, 18 MB of C, vendored highway,
x86-simd-sort and meson), downloaded from the package index into a cache directory.

    python bench/native_bench.py [--repeat 3] [--tree DIR] [--numpy 2.5.5] [--workdir /tmp/archlint-bench]

Runs, each as a fresh process on the same tree:
  grep -rEn   the needles the prefilter looks for, over the same file names (the baseline)
  rg -n       the same with ripgrep (one thread, and default threads), when installed
  scanner     the NativeScanner alone: read, prefilter, analyse, tree context, findings (no cache)
  scanner warm  the same with a filled cache: the stat index answers unchanged files unread
  cli         archlint check TREE --offline --select ARCH7 --no-cache (walk, classify, every scanner)
Prints median wall and CPU (user+sys), files/s, and ratios against grep's wall time, with the load
average before and after (the machine may be shared: CPU time is the steadier number).
Target: the scanner within 3x of grep.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from source_bench import timed

# The prefilter's needles (archlint/native/prefilter.py) as one extended regex, plus build flags.
NEEDLES = (
    r"intrin\.h|cpuid|_mm_|_mm256_|_mm512_|__m128|__m256|__m512|__m64|__mmask|__builtin_ia32|__builtin_cpu|rdtsc"
    r"|rdpmc|etbv|__readeflags|__writeeflags|bswap64|_bit_scan|_may_i_use|_xbegin|_xtest|mm_malloc|mm3dnow|quadmath"
    r"|cet\.h|_rdrand|_rdseed|asm|target|#[[:space:]]*error|-m[a-z0-9]|arch:|-D[A-Za-z_]"
)
GLOBS = ["*.c", "*.h", "*.cc", "*.cpp", "*.cxx", "*.c++", "*.hpp", "*.hh", "*.hxx", "*.h++", "*.inl", "*.pyx",
         "*.pxd", "*.pxi", "*.f", "*.for", "*.f77", "*.f90", "*.f95", "*.f03", "*.f08", "*.cmake", "*.mk", "*.mak",
         "CMakeLists.txt", "meson.build", "Makefile", "makefile", "GNUmakefile", "setup.cfg", "setup.py",
         "pyproject.toml"]  # fmt: skip

SCANNER = """
import os, sys
from pathlib import Path
from archlint.catalogue import catalogue
from archlint.config import Config
from archlint.discover import classify
from archlint.facts import Facts
from archlint.scanning import ScanContext, SourceFile
from archlint.scanners.native import NativeScanner

root = Path(sys.argv[1])
scanner = NativeScanner()
files, builds = [], []
for d, dirs, names in os.walk(root):
    dirs.sort()
    for n in sorted(names):
        p = Path(d, n)
        kind, _ = classify(p, p.relative_to(root).as_posix())
        if kind in scanner.kinds:
            files.append(SourceFile(p, p.relative_to(root).as_posix(), kind))
        elif kind in ("python", "pyproject") and n in ("setup.py", "pyproject.toml"):
            builds.append(SourceFile(p, p.relative_to(root).as_posix(), kind))
cache = None if sys.argv[2] == "-" else Path(sys.argv[2])
ctx = ScanContext(root=root, config=Config(), files=files + builds, cache_dir=cache)
findings = list(scanner.scan(files, ctx, Facts()))
cat = catalogue().by_code
loud = sum((f.severity or cat[f.rule].severity) > 1 for f in findings)
print(f"{len(files) + len(builds)} files, {len(findings)} findings, {loud} above info")
"""


def numpy_tree(workdir: Path, version: str) -> Path:
    tree = workdir / f"numpy-{version}"
    if tree.is_dir():
        return tree
    workdir.mkdir(parents=True, exist_ok=True)
    req = urllib.request.Request(
        "https://pypi.org/simple/numpy/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        index = json.load(resp)
    name = f"numpy-{version}.tar.gz"
    url = next(f["url"] for f in index["files"] if f["filename"] == name)
    archive = workdir / name
    with urllib.request.urlopen(url, timeout=300) as resp, open(archive, "wb") as out:
        shutil.copyfileobj(resp, out)
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")  # a benchmark input, not a scanned archive
    return tree


def count_files(tree: Path) -> int:
    import fnmatch

    n = 0
    for _, _, names in os.walk(tree):
        n += sum(1 for name in names if any(fnmatch.fnmatch(name, g) for g in GLOBS))
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tree", help="scan this tree instead of numpy's sdist")
    ap.add_argument("--numpy", default="2.5.5", help="numpy sdist version (default %(default)s)")
    ap.add_argument("--workdir", default="/tmp/archlint-bench")
    args = ap.parse_args()
    tree = Path(args.tree) if args.tree else numpy_tree(Path(args.workdir), args.numpy)
    files = count_files(tree)
    includes = [f"--include={g}" for g in GLOBS]
    commands: dict[str, list[str]] = {"grep -rEn": ["grep", "-rEn", *includes, NEEDLES, str(tree)]}
    rg = shutil.which("rg")
    if rg:
        globs = [a for g in GLOBS for a in ("-g", g)]
        commands["rg -n -j1"] = [rg, "-n", "-j1", "--no-ignore", "--hidden", *globs, NEEDLES, str(tree)]
        commands["rg -n"] = [rg, "-n", "--no-ignore", "--hidden", *globs, NEEDLES, str(tree)]
    cache = Path(tempfile.mkdtemp(prefix="archlint-native-bench-"))
    commands["scanner"] = [sys.executable, "-c", SCANNER, str(tree), "-"]
    commands["scanner warm"] = [sys.executable, "-c", SCANNER, str(tree), str(cache)]
    archlint = shutil.which("archlint") or "archlint"
    commands["cli"] = [archlint, "check", str(tree), "--offline", "--select", "ARCH7", "--no-cache", "-o", os.devnull]
    load_before = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    results: dict[str, tuple[float, float, str]] = {}
    env = dict(os.environ)
    timed(commands["scanner warm"], env)  # fill the cache (and its stat index) once
    for name, cmd in commands.items():
        runs = [timed(cmd, env) for _ in range(args.repeat)]
        results[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), runs[-1][2])
    load_after = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    shutil.rmtree(cache, ignore_errors=True)
    base = results["grep -rEn"][0]
    print(f"tree: {tree} ({files} native and build files); {args.repeat} runs each, medians")
    cpu_base = results["grep -rEn"][1]
    print(f"{'command':<13} {'wall s':>7} {'cpu s':>7} {'files/s':>8} {'x grep wall':>11} {'x grep cpu':>10}  output")
    for name, (wall, cpu, out) in results.items():
        shown = out if name.startswith("scanner") else ""  # grep/rg print matches, not a summary
        ratios = f"{wall / base:11.1f} {cpu / cpu_base:10.1f}"
        print(f"{name:<13} {wall:7.3f} {cpu:7.3f} {files / wall:8.0f} {ratios}  {shown}")
    print(f"load average before: {' '.join(load_before)}  after: {' '.join(load_after)}  (cpus: {os.cpu_count()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
