"""The vocabulary against the compilers it describes (Debian's gcc 12 for x86-64 and aarch64):
the x86-only headers are exactly those only the x86 compiler ships, the x86 flags are those the
aarch64 compiler rejects, and every macro the x86 compiler predefines and the aarch64 one does not
is read as an x86 macro (and none of aarch64's)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from archlint.native import vocab

AARCH64 = shutil.which("aarch64-linux-gnu-gcc")
X86 = shutil.which("x86_64-linux-gnu-gcc")
needs_both = pytest.mark.skipif(AARCH64 is None or X86 is None, reason="needs Debian's aarch64 and x86-64 gcc")


def _include_dir(gcc: str) -> Path:
    out = subprocess.run([gcc, "-print-file-name=include"], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


@needs_both
def test_x86_headers_are_the_ones_only_x86_gcc_ships() -> None:
    assert AARCH64 is not None and X86 is not None
    x86 = {p.name for p in _include_dir(X86).glob("*.h")}
    arm = {p.name for p in _include_dir(AARCH64).glob("*.h")}
    only_x86 = x86 - arm
    assert len(only_x86) > 50
    assert {h for h in only_x86 if not vocab.x86_header(h)} == set()
    assert {h for h in arm if vocab.x86_header(h)} == set()


@needs_both
def test_x86_only_system_headers_exist_only_in_the_x86_sysroot() -> None:
    for header in vocab.X86_SYSTEM_HEADERS:
        assert Path("/usr/include/x86_64-linux-gnu", header).exists(), header
        assert not Path("/usr/aarch64-linux-gnu/include", header).exists(), header


FLAGS = [
    "-mavx", "-mavx2", "-mavx512f", "-mavx512bw", "-msse", "-msse2", "-msse3", "-mssse3", "-msse4", "-msse4.1",
    "-msse4.2", "-msse4a", "-mfma", "-mfma4", "-mbmi", "-mbmi2", "-mpopcnt", "-mlzcnt", "-mf16c", "-mxop", "-maes",
    "-mpclmul", "-msha", "-mrdrnd", "-mrdseed", "-mmovbe", "-madx", "-mxsave", "-mcx16", "-mmmx", "-mno-avx",
    "-mno-sse2", "-mfpmath=sse", "-mstackrealign", "-mno-red-zone", "-mprefer-vector-width=256", "-mvzeroupper",
    "-mtls-dialect=gnu2", "-mcmodel=medium", "-m32", "-m64", "-mx32", "-march=haswell", "-march=skylake-avx512",
    "-march=x86-64", "-march=x86-64-v3", "-march=znver3", "-march=core-avx2", "-march=corei7", "-march=sandybridge",
    "-mtune=haswell", "-mtune=intel", "-mtune=znver2", "-mcpu=haswell", "-mgfni", "-mvaes", "-mcrc32",
    "-mlong-double-64",
    # left alone: aarch64 gcc takes them
    "-O3", "-mtune=generic", "-march=armv8.2-a", "-march=armv8-a+crc", "-mcpu=neoverse-n1", "-mabi=lp64",
    "-mstrict-align", "-mgeneral-regs-only", "-fno-omit-frame-pointer", "-mbranch-protection=standard",
    "-moutline-atomics", "-mcmodel=small", "-ffast-math", "-funroll-loops", "-Wall", "-std=c11",
]  # fmt: skip


@needs_both
@pytest.mark.parametrize("flag", FLAGS)
def test_x86_flags_are_exactly_those_aarch64_gcc_rejects(flag: str, tmp_path: Path) -> None:
    assert AARCH64 is not None and X86 is not None
    src = tmp_path / "t.c"
    src.write_text("int x;\n")
    arm = subprocess.run([AARCH64, flag, "-c", str(src), "-o", str(tmp_path / "t.o")], capture_output=True)
    x86 = subprocess.run([X86, flag, "-c", str(src), "-o", str(tmp_path / "u.o")], capture_output=True)
    kind = vocab.flag_kind(flag)
    if kind == "x86":
        assert arm.returncode != 0, f"aarch64 gcc takes {flag}"
        assert x86.returncode == 0 or flag == "-mx32", f"x86-64 gcc rejects {flag} too: not an x86 flag"
    else:
        assert arm.returncode == 0, f"aarch64 gcc rejects {flag}, archlint leaves it alone"


def test_host_cpu_flags_are_not_x86_flags() -> None:
    # A cross compiler cannot answer -march=native (no host CPU to ask), so these are not in the
    # oracle above; arm64 gcc running on arm64 takes them.
    for flag in ("-march=native", "-mtune=native", "-mcpu=native", "-xHost", "/QxHost"):
        assert vocab.flag_kind(flag) == "host", flag
    assert [f for _, f, _ in vocab.flags_in('-DCMAKE_C_FLAGS="-O3 -mavx2" -Dc_args=-march=haswell')] == [
        "-mavx2", "-march=haswell"]  # fmt: skip
    assert vocab.flags_in("python -m pip install --no-cache-dir -march.txt x86-mavx2") == []


def _macros(gcc: str, *flags: str) -> set[str]:
    out = subprocess.run([gcc, *flags, "-dM", "-E", "-"], input="", capture_output=True, text=True, check=True)
    return {line.split()[1].split("(")[0] for line in out.stdout.splitlines() if line.startswith("#define")}


@needs_both
def test_macro_names_tell_x86_from_arm64() -> None:
    assert AARCH64 is not None and X86 is not None
    x86 = _macros(X86, "-march=sapphirerapids")
    arm = _macros(AARCH64, "-march=armv9-a+sve2+crypto")
    only_x86 = {m for m in x86 - arm if not m.startswith("__DEC")}  # decimal-float limits, not CPU macros
    assert {m for m in only_x86 if not vocab.x86_macro(m) and m not in vocab.X86_64_DEFINED} == set()
    assert {m for m in arm if vocab.x86_macro(m)} == set()
    baseline = _macros(AARCH64)
    assert {m for m in vocab.ARM64_DEFINED if m not in baseline} == set()
    assert {m for m in vocab.NOT_ON_ARM64 if m in baseline} == set()
