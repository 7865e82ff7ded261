"""The raw-bytes prefilter: could this file hold anything x86-only? Decided without decoding.

A few dozen `needle in data` tests (memory speed, as in archlint/source/prefilter.py): every
header, identifier, assembly, attribute and flag the analysis looks for contains one of them.
Most C files of a large tree (CPython, numpy) hold none and are never lexed.
"""

from __future__ import annotations

from archlint import scanning as k

# Headers: x86 intrinsic headers all end in "intrin.h"; the others by name.
_HEADERS = (b"intrin.h", b"cpuid", b"mm_malloc", b"mm3dnow", b"quadmath", b"sys/io.h", b"sys/perm.h",
            b"sys/reg.h", b"sys/vm86.h", b"debugreg", b"platform/x86.h", b"cet.h")  # fmt: skip
# Identifiers (vocab.X86_IDENT): SIMD types, _mm*_ intrinsics, builtins, BMI/RDRAND/CPUID/RDTSC.
_IDENTS = (b"_mm", b"__m128", b"__m256", b"__m512", b"__m64", b"__builtin_ia32", b"__builtin_cpu_", b"_pdep",
           b"_pext", b"_bzhi", b"_bextr", b"cnt_u", b"_blsr", b"_blsi", b"_mulx", b"addcarry", b"subborrow",
           b"_rdrand", b"_rdseed", b"base_u", b"__rdtsc", b"__rdpmc", b"getbv", b"setbv", b"eflags", b"_bswap64",
           b"_bit_scan", b"_may_i_use", b"_xbegin", b"_xend", b"_xabort", b"_xtest", b"__popcnt",
           b"__lzcnt")  # fmt: skip
_ARCH_WORDS = (b"86", b"x64", b"X64", b"md64", b"MD64")


def c_may_match(data: bytes) -> bool:
    if any(n in data for n in _HEADERS) or any(n in data for n in _IDENTS):
        return True
    if b"asm" in data or b"target" in data:
        return True
    return b"error" in data and any(n in data for n in _ARCH_WORDS)


# Cython: the same C names (declared from headers, used in code, or inside verbatim C blocks).
def cython_may_match(data: bytes) -> bool:
    return c_may_match(data)


_FORTRAN = (b"ifport", b"IFPORT", b"ifcore", b"IFCORE", b"ifposix", b"IFPOSIX", b"ifqwin", b"IFQWIN", b"ifwin",
            b"IFWIN", b"mkl", b"MKL", b"DIR$", b"dir$", b"DEC$", b"dec$", b"Dir$", b"Dec$")  # fmt: skip


def fortran_may_match(data: bytes) -> bool:
    return any(n in data for n in _FORTRAN)


# Build files: x86 flags start with -m (gcc/clang), /arch: or -arch: (MSVC), -x/-ax//Qx (Intel);
# x86 feature macros defined for every platform come as -D… or define_macros / add_definitions.
_FLAGS = (b"-m", b"arch:", b"/Qx", b"/Qax", b"-x", b"-ax")
_DEFINES = (b"-D", b"define_macros", b"definitions", b"c_args", b"cpp_args")


def build_may_match(data: bytes) -> bool:
    return any(n in data for n in _FLAGS) or any(n in data for n in _DEFINES)


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
