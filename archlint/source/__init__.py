"""Python source rules (ARCH401-ARCH499): what in the code keeps it from running on arm64.

interface.py  rule base class, examples, result records, errors
arch.py       the vocabulary: x86 and arm64 values, artifacts, CPU flags
nodes.py      questions about libcst nodes
context.py    per-file state shared by rules during the single pass
walker.py     the batched pass over one parsed module
rules/        one module per rule family (VALID/INVALID examples live with each rule)
prefilter.py  raw-bytes filters: which rules could match a file (no libcst import)
positions.py  line/column for the few nodes that carry a finding
decode.py     bytes -> text as Python reads them (PEP 263)
analyze.py    one file (or notebook): prefilter, decode, screen, parse, walk
cache.py      per-file result cache (content hash + rule-set version) and a stat index
pool.py       many files on a process pool
"""

from __future__ import annotations
