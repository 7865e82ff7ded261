"""The raw-bytes prefilter: could this file hold anything x86-only? Decided without decoding.

A few dozen `needle in data` tests (memory speed, as in archlint/source/prefilter.py): every
header, identifier, assembly, attribute and flag the analysis looks for contains one of them.
Most C files of a large tree (CPython, numpy) hold none and are never lexed.
"""

from __future__ import annotations

import re

from archlint import scanning as k
from archlint.native import vocab
from archlint.source.prefilter import Probe

# Every header, identifier and builtin vocab.py knows contains one of these (intrin.h headers, cpuid,
# _mm*_ and __m128/256/512 names, gcc builtins, rdtsc …). Fewer, shorter needles: each one is a
# pass over the file (~1 GB/s); the analysis weeds out the few files they select needlessly.
_NEEDLES = (b"intrin.h", b"cpuid", b"_mm_", b"_mm256_", b"_mm512_", b"__m128", b"__m256", b"__m512", b"__m64",
            b"__mmask", b"__builtin_ia32", b"__builtin_cpu", b"rdtsc", b"rdpmc", b"etbv", b"__readeflags",
            b"__writeeflags", b"bswap64", b"_bit_scan", b"_may_i_use", b"_xbegin", b"_xtest", b"mm_malloc",
            b"mm3dnow", b"quadmath", b"cet.h", b"_rdrand", b"_rdseed")  # fmt: skip
_SYS_HEADERS = (b"sys/io.h", b"sys/perm.h", b"sys/reg.h", b"sys/vm86.h", b"debugreg", b"platform/x86.h")
_BMI = (b"_pdep", b"_pext", b"_bzhi", b"_bextr", b"cnt_u", b"_blsr", b"_blsi", b"_mulx", b"addcarry", b"subborrow",
        b"base_u")  # fmt: skip
_ARCH_WORDS = (b"86", b"x64", b"X64", b"md64", b"MD64")
# "asm", "target" and "error" are common words: only their statement forms count (looked for in a
# window around each occurrence, as source/prefilter.py does).
_ASM = re.compile(rb"(?:__asm__|__asm|\basm)(?:\s|volatile|__volatile__|goto|inline)*[({]|_asm\s+[A-Za-z_]")
_TARGET = re.compile(rb'target(?:_clones)?(?:__)?\s*\(\s*"')
_ERROR = re.compile(rb"#[ \t]*error\b")


def c_may_match(data: bytes) -> bool:
    if any(n in data for n in _NEEDLES):
        return True
    if (b"_u32" in data or b"_u64" in data) and any(n in data for n in _BMI):
        return True
    if b"sys/" in data and any(n in data for n in _SYS_HEADERS):
        return True
    p = Probe(data)
    if p.near((b"asm",), _ASM, 6, 40) or p.near((b"target",), _TARGET, 2, 30):
        return True
    return p.any(_ARCH_WORDS) and p.near((b"error",), _ERROR, 8, 6)


# Cython: the same C names (declared from headers, used in code, or inside verbatim C blocks).
def cython_may_match(data: bytes) -> bool:
    return c_may_match(data)


_FORTRAN = (b"ifport", b"IFPORT", b"ifcore", b"IFCORE", b"ifposix", b"IFPOSIX", b"ifqwin", b"IFQWIN", b"ifwin",
            b"IFWIN", b"mkl", b"MKL", b"DIR$", b"dir$", b"DEC$", b"dec$", b"Dir$", b"Dec$")  # fmt: skip


def fortran_may_match(data: bytes) -> bool:
    return any(n in data for n in _FORTRAN)


# Build files: x86 flags start with -m (gcc/clang), /arch: or -arch: (MSVC), -x/-ax//Qx (Intel);
# x86 feature macros defined for every platform come as -D… or define_macros / add_definitions.
_FLAG_TOKEN = re.compile(rb"(?:-m|[/-]arch:|[/-]Qa?x|-a?x)[\w.=+:-]*")
_DEFINED = re.compile(rb"-D([A-Za-z_]\w*)|[\"']([A-Za-z_]\w*)[\"']")


def build_may_match(data: bytes) -> bool:
    """An x86 or host-CPU flag, or an x86 feature macro that may be defined (`-DUSE_AVX2`,
    `define_macros=[("USE_AVX2", 1)]`, `add_compile_definitions(USE_AVX2)`)."""
    if any(n in data for n in (b"-m", b"arch:", b"Qx", b"Qax", b"-x", b"-ax")):
        if any(vocab.flag_kind(m.group().decode("latin-1")) for m in _FLAG_TOKEN.finditer(data)):
            return True
    if b"-D" in data or b"define_macros" in data:
        return any(vocab.x86_macro((m.group(1) or m.group(2)).decode("latin-1")) for m in _DEFINED.finditer(data))
    return b"definitions" in data and any(vocab.x86_macro(w.decode("latin-1")) for w in re.findall(rb"\w+", data))


MAY_MATCH = {
    k.C_SOURCE: c_may_match,
    k.CYTHON: cython_may_match,
    k.FORTRAN: fortran_may_match,
    k.CMAKE: build_may_match,
    k.MESON: build_may_match,
    k.MAKEFILE: build_may_match,
    k.SETUP_CFG: build_may_match,
    k.PYPROJECT: build_may_match,
    k.PYTHON: build_may_match,  # setup.py only (the scanner passes no other Python file)
}


def may_match(kind: str, data: bytes) -> bool:
    f = MAY_MATCH.get(kind)
    return f is not None and f(data)
