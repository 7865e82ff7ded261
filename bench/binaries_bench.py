"""Benchmark: archlint's binary scanner against `readelf` and `file` on a real installed environment.

    python bench/binaries_bench.py [--venv DIR] [--repeat N] [--no-torch] [--wheel FILE.whl ...]

The environment is a scratch virtualenv under /tmp with large native wheels (numpy, scipy, pyarrow,
and torch's CPU build unless --no-torch); it is created on the first run. Every tool gets the same
list of ELF files (found once by magic bytes, symlinks skipped), the page cache is warmed first, and
the best of N runs is reported (wall and CPU seconds; files/s and MB/s from wall time, MB = the
ELF files' total size). CPU time includes the child processes, so it stays fair on a busy machine:

- archlint header pass: the scanner's first step alone, the 64-byte header of every file;
- archlint scan: the binaries scanner on the discovered ELF files (header for every file; the
  dynamic section, interpreter and GNU property notes too for x86 files, i.e. all of them here);
- archlint discover+scan: the same plus discovery walking and classifying the whole venv;
- readelf -h: `find ... -type f -exec readelf -h {} +`, restricted to the ELF files (xargs batches
  exactly like `-exec ... +`); readelf -hldn also prints what archlint reads for x86 files;
- file: `file` on the same list (libmagic).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from archlint.binaries.examine import examine  # noqa: E402
from archlint.binaries.interface import FileSource, Limits  # noqa: E402
from archlint.config import Config  # noqa: E402
from archlint.discover import discover  # noqa: E402
from archlint.facts import Facts  # noqa: E402
from archlint.scanners.binaries import BinaryScanner  # noqa: E402
from archlint.scanning import ELF, WHEEL, ScanContext, SourceFile  # noqa: E402

DEFAULT_VENV = Path("/tmp/archlint-binbench-venv")
PACKAGES = ["numpy", "scipy", "pyarrow"]
TORCH = "torch==2.13.0"  # the CPU build


def ensure_venv(venv: Path, torch: bool) -> None:
    if (venv / "pyvenv.cfg").exists():
        return
    print(f"creating {venv} with {', '.join(PACKAGES + ([TORCH] if torch else []))} (one-off, minutes)...")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, *PACKAGES], check=True)
    if torch:
        subprocess.run([*pip, TORCH], check=False)  # optional: skip when it cannot be installed


def elf_files(root: Path) -> list[Path]:
    out = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            p = Path(dirpath, name)
            if p.is_symlink() or not p.is_file():
                continue
            with open(p, "rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    out.append(p)
    return sorted(out)


def _cpu() -> float:
    """CPU seconds of this process and its waited-for children: fair when the machine is busy."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds) over `repeat` warm runs."""
    fn()  # warm the page cache and imports
    walls, cpus = [], []
    for _ in range(repeat):
        c, t = _cpu(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(_cpu() - c)
    return min(walls), min(cpus)


def run_xargs(cmd: list[str], files: list[Path]) -> None:
    data = b"\0".join(str(p).encode() for p in files)
    subprocess.run(["xargs", "-0", *cmd], input=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--wheel", type=Path, action="append", default=[], help="also time scanning this wheel")
    args = ap.parse_args(argv)
    venv: Path = args.venv.resolve()
    ensure_venv(venv, torch=not args.no_torch)

    files = elf_files(venv)
    total = sum(p.stat().st_size for p in files)
    mb = total / 1e6
    print(f"environment: {venv}")
    print(f"ELF files: {len(files)}, {mb:.1f} MB; packages: {', '.join(sorted(_top_packages(venv, files)))}")
    print(f"cores: {os.cpu_count()}, best of {args.repeat} warm runs\n")

    ctx = ScanContext(root=venv, config=Config())
    sources = [SourceFile(path=p, rel=p.relative_to(venv).as_posix(), kind=ELF) for p in files]
    scanner = BinaryScanner()

    def archlint_scan() -> None:
        list(scanner.scan(sources, ctx, Facts()))

    def archlint_headers() -> None:
        # The scanner's first step alone: the 64-byte header of every file (what `readelf -h` prints).
        for p in files:
            fd = os.open(p, os.O_RDONLY)
            try:
                examine(FileSource(fd, os.fstat(fd).st_size), limits, deep=False)
            finally:
                os.close(fd)

    def archlint_full() -> None:
        disc = discover([venv], venv, [])
        list(scanner.scan([f for f in disc.files if f.kind == ELF], ctx, Facts()))

    limits = Limits()
    rows: list[tuple[str, tuple[float, float]]] = [
        ("archlint header pass (64 bytes per file)", best_of(args.repeat, archlint_headers)),
        ("archlint scan (ELF files)", best_of(args.repeat, archlint_scan)),
        ("archlint discover+scan (whole venv)", best_of(args.repeat, archlint_full)),
    ]
    if shutil.which("readelf"):
        rows.append(("find -exec readelf -h {} +", best_of(args.repeat, lambda: run_xargs(["readelf", "-h"], files))))
        rows.append(("readelf -hldn (same facts as archlint)",
                     best_of(args.repeat, lambda: run_xargs(["readelf", "-hldnW"], files))))  # fmt: skip
    if shutil.which("file"):
        rows.append(("file", best_of(args.repeat, lambda: run_xargs(["file"], files))))

    print(f"{'tool':42} {'wall s':>9} {'CPU s':>9} {'files/s':>10} {'MB/s':>10}")
    for name, (secs, cpu) in rows:
        print(f"{name:42} {secs:9.3f} {cpu:9.3f} {len(files) / secs:10.0f} {mb / secs:10.0f}")
    print(f"\nfastest (wall): {min(rows, key=lambda r: r[1][0])[0]}; (CPU): {min(rows, key=lambda r: r[1][1])[0]}")
    for wheel in args.wheel:
        size = wheel.stat().st_size / 1e6
        secs, _ = best_of(1, lambda w=wheel: list(scanner.scan([SourceFile(w, w.name, WHEEL)], ctx, Facts())))
        print(f"wheel {wheel.name}: {secs:.2f} s, {size / secs:.0f} MB/s compressed")
    return 0


def _top_packages(venv: Path, files: list[Path]) -> set[str]:
    names = set()
    for p in files:
        parts = p.relative_to(venv).parts
        if "site-packages" in parts:
            i = parts.index("site-packages")
            if i + 1 < len(parts):
                names.add(parts[i + 1].removesuffix(".libs"))
    return names


if __name__ == "__main__":
    raise SystemExit(main())
