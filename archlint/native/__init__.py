"""C, C++, Cython and Fortran sources and the files that build them (ARCH701-ARCH799): x86-only
headers, intrinsics, assembly, target attributes and compiler flags, and whether arm64 has a path.

vocab.py      the vocabulary: x86 headers, identifiers, assembly, macros, flags
prefilter.py  raw-bytes filters: could a file hold anything x86-only (no decoding)
lexer.py      C text without comments, with lines and directives
cpp.py        the preprocessor run abstractly for linux/arm64 and linux/x86-64
csource.py    C/C++ files -> uses, each in the branch that holds it
cython.py     .pyx/.pxd/.pxi: `cdef extern from` x86 headers, verbatim C, intrinsic calls
fortran.py    Intel-only Fortran modules and x86 compiler directives
buildfiles/   setup.py (libcst), pyproject.toml, setup.cfg, CMake, meson, Makefiles: x86 flags
interface.py  the records (Use, Summary) and the rule base class
tree.py       what the tree says: per-architecture layouts, includers, the build's source lists
findings.py   summaries -> hits (errors, warnings, one info per guarded file)
rules/        one module per rule family, each rule with VALID/INVALID examples
analyze.py    one file -> Summary; a tree of files -> hits
"""

from __future__ import annotations
