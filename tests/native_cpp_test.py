"""The abstract preprocessor (archlint/native/cpp.py) against the real one: Debian's aarch64 and
x86-64 gcc run `-E` over the same text, and wherever archlint gives a definite answer (this line
is / is not compiled for that CPU) the compiler must agree. "Unknown" is always allowed."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from archlint.native.cpp import ARM64, X86_64, Model, Simulation, evaluate
from archlint.native.lexer import Text

CPP = {ARM64: shutil.which("aarch64-linux-gnu-gcc"), X86_64: shutil.which("x86_64-linux-gnu-gcc")}
needs_cpp = pytest.mark.skipif(None in CPP.values(), reason="needs Debian's aarch64 and x86-64 gcc")

SNIPPETS = [
    # numpy/xxHash-style ladders
    """
    #if defined(NPY_HAVE_AVX512F)
    M
    #elif defined(NPY_HAVE_AVX2)
    M
    #elif defined(__SSE2__) || defined(_M_X64)
    M
    #elif defined(__ARM_NEON) || defined(__aarch64__)
    M
    #else
    M
    #endif
    """,
    """
    #define XXH_SCALAR 0
    #define XXH_SSE2 1
    #define XXH_NEON 4
    #if defined(__SSE2__)
    #  define XXH_VECTOR XXH_SSE2
    #elif defined(__ARM_NEON)
    #  define XXH_VECTOR XXH_NEON
    #else
    #  define XXH_VECTOR XXH_SCALAR
    #endif
    #if XXH_VECTOR == XXH_SSE2
    M
    #elif XXH_VECTOR == XXH_NEON
    M
    #endif
    #if XXH_VECTOR >= 2 && XXH_VECTOR < 8
    M
    #endif
    """,
    # include guards and overridable defaults
    """
    #ifndef MY_H
    #define MY_H
    M
    #ifndef HAVE_FAST
    #if defined(__x86_64__) || defined(__i386__)
    #define HAVE_FAST 1
    #else
    #define HAVE_FAST 0
    #endif
    #endif
    #if HAVE_FAST
    M
    #else
    M
    #endif
    #endif
    """,
    # a macro defined only in an x86 branch, #undef, bodies that are expressions
    """
    #if defined(__SSE4_2__) || defined(__x86_64__)
    #define FAST_CRC 1
    #endif
    #ifdef FAST_CRC
    M
    #endif
    #define IS_ARM (defined(__aarch64__) || defined(__arm__))
    #define ARCH_BITS (__SIZEOF_POINTER__ * 8)
    #if ARCH_BITS == 64
    M
    #endif
    #define X 1
    #undef X
    #ifdef X
    M
    #endif
    """,
    # compiler, OS and architecture macros
    """
    #if defined(_MSC_VER) && defined(_M_X64)
    M
    #endif
    #if defined(__linux__) && defined(__aarch64__)
    M
    #endif
    #if __ARM_ARCH >= 8
    M
    #endif
    #if defined(__arm__) || defined(_M_ARM)
    M
    #endif
    #if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    M
    #endif
    #if !defined(__x86_64__) && !defined(_M_X64)
    M
    #endif
    #if 0
    M
    #elif 1
    M
    #endif
    #if (1 ? 0 : 1) || (2 > 3)
    M
    #endif
    #ifdef __APPLE__
    M
    #endif
    """,
    # __has_include, nested branches, #elif after a taken branch
    """
    #if defined(__has_include)
    #if __has_include(<immintrin.h>)
    M
    #endif
    #if __has_include(<arm_neon.h>)
    M
    #endif
    #endif
    #if defined(__x86_64__)
      #if defined(__AVX2__)
      M
      #else
      M
      #endif
    #elif defined(__aarch64__)
      #ifdef __ARM_FEATURE_SVE
      M
      #else
      M
      #endif
    #endif
    """,
]


def _numbered(src: str) -> str:
    """Each `M` line becomes a unique marker token."""
    out = []
    for i, line in enumerate(src.strip("\n").split("\n")):
        out.append(re.sub(r"^(\s*)M\s*$", rf"\1MARK_{i}", line))
    return "\n".join(line.strip() if line.lstrip().startswith("#") else line for line in out) + "\n"


def _real(target: str, text: str, tmp: Path) -> set[str]:
    f = tmp / "t.c"
    f.write_text(text)
    cpp = CPP[target]
    assert cpp is not None
    out = subprocess.run([cpp, "-E", "-P", "-x", "c", str(f)], capture_output=True, text=True, timeout=60, check=True)
    return set(re.findall(r"MARK_\d+", out.stdout))


def _ours(text: str) -> dict[str, tuple[bool | None, bool | None]]:
    t = Text(text)
    sim = Simulation(t.directives, len(text))
    return {m.group(): (sim.at(m.start()).arm64, sim.at(m.start()).x86_64) for m in re.finditer(r"MARK_\d+", text)}


def _agree(text: str, tmp: Path) -> int:
    ours = _ours(text)
    real = {ARM64: _real(ARM64, text, tmp), X86_64: _real(X86_64, text, tmp)}
    decided = 0
    for mark, (arm, x86) in ours.items():
        for target, mine in ((ARM64, arm), (X86_64, x86)):
            if mine is None:
                continue
            decided += 1
            assert (mark in real[target]) == mine, f"{mark} on {target}: archlint says {mine}\n{text}"
    return decided


@needs_cpp
@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_definite_answers_match_gcc(index: int, tmp_path: Path) -> None:
    text = _numbered(SNIPPETS[index])
    decided = _agree(text, tmp_path)
    assert decided >= 4  # the snippet is decided, not all "unknown"


_ATOMS = ["defined(__aarch64__)", "defined(__x86_64__)", "defined(_M_X64)", "defined(__ARM_NEON)", "defined(__SSE2__)",
          "defined(NPY_HAVE_AVX2)", "defined(__linux__)", "defined(_WIN32)", "__ARM_ARCH", "__SIZEOF_POINTER__",
          "defined(__i386__)", "defined(__APPLE__)", "0", "1", "8", "defined(__ARM_FEATURE_FMA)", "HAVE_X",
          "defined(__AVX2__)", "__LP64__", "defined(__arm__)"]  # fmt: skip


def _expr(rng: random.Random, depth: int = 0) -> str:
    if depth > 3 or rng.random() < 0.3:
        return rng.choice(_ATOMS)
    op = rng.choice(["&&", "||", "==", ">=", "<", "!", "?", "+"])
    if op == "!":
        return f"!({_expr(rng, depth + 1)})"
    if op == "?":
        return f"({_expr(rng, depth + 1)} ? {_expr(rng, depth + 1)} : {_expr(rng, depth + 1)})"
    return f"({_expr(rng, depth + 1)} {op} {_expr(rng, depth + 1)})"


@needs_cpp
def test_random_conditions_match_gcc(tmp_path: Path) -> None:
    rng = random.Random(16)
    lines = ["#if defined(__x86_64__) || defined(__SSE2__)", "#define HAVE_X 1", "#endif"]
    for i in range(400):
        lines += [f"#if {_expr(rng)}", f"MARK_{i}", "#endif"]
    decided = _agree("\n".join(lines) + "\n", tmp_path)
    assert decided > 400


def test_unknown_macros_stay_unknown_and_names_decide_feature_macros() -> None:
    arm, x86 = Model(ARM64), Model(X86_64)
    assert evaluate("defined(USE_SIMD)", arm) is None  # says nothing about a CPU
    assert evaluate("defined(NPY_HAVE_AVX2)", arm) is False and evaluate("defined(NPY_HAVE_AVX2)", x86) is None
    assert evaluate("defined(NPY_HAVE_NEON)", x86) is False and evaluate("defined(NPY_HAVE_NEON)", arm) is None
    assert evaluate("HWY_ARCH_X86 && HWY_TARGET == 8", arm) is False
    assert evaluate("defined(__GNUC__) && __GNUC__ >= 4", arm) is None  # gcc or clang: version unknown
    assert evaluate("((((((1", arm) is None  # malformed: unknown, never an exception
    assert evaluate("(" * 5000 + "1" + ")" * 5000, arm) in (True, None)
