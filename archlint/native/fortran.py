"""Fortran (.f, .f90, .F …): only what ties it to Intel's x86-only toolchain.

`use ifport` (and ifcore, ifposix, ifqwin …) and MKL's Fortran modules exist only with Intel's
compilers and libraries, which ship for x86-64 only: gfortran on arm64 stops at the `use`
("Cannot open module file"). Intel compiler directives (`!DIR$`, `!DEC$`) that name x86
processors or ISAs are ignored by gfortran and flang, so they are reported at info only.
"""

from __future__ import annotations

import re

from archlint.native.interface import UNGUARDED, Summary, Use

_USE = re.compile(
    r"^[ \t]*use[ \t]*(?:,[ \t]*(?:intrinsic|non_intrinsic)[ \t]*::)?[ \t]*(?:::)?[ \t]*"
    r"(ifport|ifcore|ifposix|ifqwin|ifwin|iflogm|ifcom|ifauto|ifnls|ifestablish|ifmt|mkl_\w+|mkl95_\w+|lapack95|blas95"
    r"|f95_precision)\b",
    re.IGNORECASE | re.MULTILINE,
)
_INCLUDE = re.compile(r"^[ \t]*include[ \t]*['\"](mkl\w*\.(?:fi|f90|f))['\"]", re.IGNORECASE | re.MULTILINE)
_DIRECTIVE = re.compile(r"^[ \t]*[!cC*][ \t]*(?:DIR|DEC)\$[ \t]*(.*)$", re.IGNORECASE | re.MULTILINE)
_X86_DIRECTIVE = re.compile(
    r"(?i)processor\s*\(|\barch\s*=|\b(?:core[-_]?avx\w*|common[-_]avx512|avx\w*|sse\w*|mic[-_]avx512|haswell|skylake"
    r"\w*|broadwell|icelake\w*|sapphirerapids|atom\w*|pentium\w*|core_\w+)\b"
)


def analyze_fortran(data: bytes) -> Summary:
    text = data.decode("utf-8", "replace")
    uses: list[Use] = []
    for m in _USE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        uses.append(Use("ARCH708", f"use {m.group(1).lower()}", line, detail="module"))
    for m in _INCLUDE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        uses.append(Use("ARCH708", f"include '{m.group(1)}'", line, detail="module"))
    for m in _DIRECTIVE.finditer(text):
        if _X86_DIRECTIVE.search(m.group(1)):
            line = text.count("\n", 0, m.start()) + 1
            uses.append(Use("ARCH708", m.group().strip(), line, state=UNGUARDED, detail="directive"))
    return Summary(uses=tuple(uses), parsed=True)
