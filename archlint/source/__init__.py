"""Python source rules (ARCH401-ARCH499): what in the code keeps it from running on arm64.

interface.py  rule base class, examples, result records, errors
arch.py       the vocabulary: x86 and arm64 values, artifacts, CPU flags
nodes.py      questions about libcst nodes
context.py    per-file state shared by rules during the single pass
walker.py     the batched pass over one parsed module
rules/        one module per rule family (VALID/INVALID examples live with each rule)
decode.py     bytes -> text as Python reads them (PEP 263)
analyze.py    one file (or notebook): prefilter, decode, parse, walk
cache.py      per-file result cache (content hash + rule-set version)
pool.py       many files on a process pool
"""

from __future__ import annotations
