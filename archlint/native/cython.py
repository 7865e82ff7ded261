""".pyx/.pxd/.pxi: `cdef extern from "immintrin.h"`, verbatim C in `cdef extern from *` blocks
(analysed as C, lines mapped back), and calls of x86 intrinsics in Cython code.

Declarations inside `cdef extern from` blocks are not uses (the block's header is the finding);
calls elsewhere are. Cython's compile-time `IF UNAME_MACHINE == "x86_64":` is a guard.
"""

from __future__ import annotations

import re
from dataclasses import replace

from archlint.native import vocab
from archlint.native.csource import analyze_c
from archlint.native.interface import GUARDED, UNGUARDED, Summary, Use

_LEXEME = re.compile(
    r"#[^\n]*|(?P<prefix>[rRbBuUfF]{0,2})(?P<q>'''|\"\"\"|'|\")",
)
_EXTERN = re.compile(r"^([ \t]*)cdef[ \t]+extern[ \t]+from[ \t]+(\*|\"([^\"]*)\"|'([^']*)')", re.MULTILINE)
_IF = re.compile(r"^([ \t]*)(IF|ELIF|ELSE)\b[ \t]*(.*?):[ \t]*$")
_X86_LITERAL = re.compile(r"""["'](?:x86_64|AMD64|amd64|i[3-6]86|x86)["']""")
_ARM_LITERAL = re.compile(r"""["'](?:aarch64|arm64|ARM64)["']""")


def _blank(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Comments and string contents blanked (newlines kept); the triple-quoted strings with their
    content offsets, for verbatim C."""
    out: list[str] = []
    triples: list[tuple[int, int, str]] = []
    pos = 0
    i = 0
    n = len(text)
    while i < n:
        m = _LEXEME.search(text, i)
        if m is None:
            break
        start = m.start()
        if m.group().startswith("#"):
            out.append(text[pos:start])
            out.append(" " * (m.end() - start))
            pos = i = m.end()
            continue
        q = m.group("q")
        j = m.end()
        while j < n:
            if text[j] == "\\":
                j += 2
                continue
            if text.startswith(q, j):
                break
            if len(q) == 1 and text[j] == "\n":
                break
            j += 1
        end = min(n, j + len(q))
        body_start = m.end()
        body = text[body_start:j]
        if len(q) == 3:
            triples.append((body_start, j, body))
        out.append(text[pos:body_start])
        out.append(re.sub(r"[^\n]", " ", body))
        out.append(text[j:end])
        pos = i = end
    out.append(text[pos:])
    return "".join(out), triples


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def analyze_cython(data: bytes) -> Summary:
    text = data.decode("utf-8", "replace")
    bare, triples = _blank(text)
    lines = bare.split("\n")
    line_starts = [0]
    for ln in lines:
        line_starts.append(line_starts[-1] + len(ln) + 1)
    uses: dict[tuple[str, str, str], Use] = {}
    includes: list[tuple[str, int, str]] = []
    extern_blocks: list[tuple[int, int]] = []  # (first line, last line) of cdef extern blocks (1-based)
    guards: list[tuple[int, str, bool | None]] = []  # IF blocks: (indent, text, arm64 compiles it)
    arm_path = False
    portable = False
    block_guard: dict[int, tuple[str, bool | None]] = {}
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        ind = _indent(line)
        m = _IF.match(line)
        if m and m.group(2) in ("ELIF", "ELSE"):
            while guards and guards[-1][0] > ind:
                guards.pop()
            prev = guards.pop()[2] if guards and guards[-1][0] == ind else None
            arm64 = False if prev is True else _cond(m.group(2), m.group(3), prev)
            guards.append((ind, f"`{line.strip()}` (line {no})", arm64))
            continue
        while guards and guards[-1][0] >= ind:
            guards.pop()
        if m:
            arm64 = _cond("IF", m.group(3), None)
            if arm64 is not False and _ARM_LITERAL.search(m.group(3)):
                arm_path = True
            guards.append((ind, f"`{line.strip()}` (line {no})", arm64))
            continue
        if guards:
            block_guard[no] = next(((t, a) for _, t, a in reversed(guards) if a is not True), ("", True))
    for m in _EXTERN.finditer(text):
        no = text.count("\n", 0, m.start()) + 1
        ind = len(m.group(1))
        last = no
        for j in range(no, len(lines)):
            if lines[j].strip() and _indent(lines[j]) <= ind:
                break
            last = j + 1
        extern_blocks.append((no, last))
        header = m.group(3) or m.group(4)
        state, guard = _state(block_guard.get(no))
        if header is None:
            continue
        if vocab.PORTABLE_SIMD.search(header):
            portable = True
        if vocab.x86_header(header.strip("<>")):
            _add(uses, Use("ARCH701", header.strip("<>"), no, m.start(2) - m.start() + 1, state, guard))
        elif header.endswith((".h", ".hpp")):
            includes.append((header, no, state))
    # verbatim C: the docstring right under `cdef extern from *:`
    for start, _end, body in triples:
        no = text.count("\n", 0, start) + 1
        if not any(b0 <= no <= b1 for b0, b1 in extern_blocks):
            continue
        c = analyze_c(body.encode("utf-8"))
        shift = no - 1
        for u in c.uses:
            _add(uses, replace(u, line=u.line + shift, guard=_shift_lines(u.guard, shift)))
        includes.extend((t, ln + shift, st) for t, ln, st in c.includes)
        arm_path = arm_path or c.arm_path
        portable = portable or c.portable
    # Cython code: intrinsic calls outside extern blocks and strings.
    in_block = [False] * (len(lines) + 2)
    for b0, b1 in extern_blocks:
        for j in range(b0, b1 + 1):
            in_block[j] = True
    if not portable:
        for m in vocab.X86_IDENT.finditer(bare):
            no = bare.count("\n", 0, m.start()) + 1
            if in_block[no]:
                continue
            col = m.start() - line_starts[no - 1] + 1
            state, guard = _state(block_guard.get(no))
            _add(uses, Use("ARCH702", m.group(), no, col, state, guard, end_column=col + len(m.group())))
    return Summary(
        uses=tuple(sorted(uses.values(), key=lambda u: (u.line, u.column))), includes=tuple(includes),
        portable=portable, arm_path=arm_path, parsed=True,
    )  # fmt: skip


def _cond(kind: str, cond: str, prev: bool | None) -> bool | None:
    """Does arm64 compile this IF/ELIF/ELSE branch (Cython's compile-time conditionals)?"""
    if kind == "ELSE":
        return None if prev is None else not prev
    if "UNAME_SYSNAME" in cond and re.search(r"""["'](?:Windows|Darwin)["']""", cond) and "!=" not in cond:
        return False
    if "UNAME_MACHINE" in cond and _X86_LITERAL.search(cond):
        negated = "!=" in cond or "not in" in cond
        return True if negated else False
    return None


def _state(g: tuple[str, bool | None] | None) -> tuple[str, str]:
    if g is None or g[1] is True or not g[0]:
        return UNGUARDED, ""
    return GUARDED, g[0]  # false, or undecided under a compile-time IF: Cython code in an IF block is opt-in


def _add(uses: dict[tuple[str, str, str], Use], u: Use) -> None:
    key = (u.code, u.what, u.state)
    old = uses.get(key)
    uses[key] = u if old is None else replace(old, count=old.count + u.count)


def _shift_lines(guard: str, shift: int) -> str:
    """`#if X` (line 2) of a verbatim C block -> the line in the .pyx file."""
    return re.sub(r"\(line (\d+)\)", lambda g: f"(line {int(g.group(1)) + shift})", guard)
