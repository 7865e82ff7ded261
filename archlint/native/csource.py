"""C and C++ sources: x86 headers, intrinsics, inline assembly, target attributes, `#error`s,
each placed in the preprocessor branch that holds it (cpp.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from archlint.native import vocab
from archlint.native.cpp import Region, Simulation
from archlint.native.interface import GUARDED, UNDECIDED, UNGUARDED, Summary, Use
from archlint.native.lexer import Text, matching_paren, string_contents

_INCLUDE = re.compile(r'\s*(?:<([^>\n]+)>|"([^"\n]+)")')
# A file that defines the x86 SIMD types itself is an emulation layer (sse2neon, a project shim):
# `typedef float32x4_t __m128;` or `#define __m128 …`.
_TYPE_NAME = re.compile(r"__m(?:64|128|256|512)[dhi]?(?:\s*;|\b)")
_WORD = re.compile(r"[\w$]")
MAX_NAMES = 25  # distinct unguarded intrinsics reported per file; the rest are counted


@dataclass
class _Collector:
    sim: Simulation
    uses: dict[tuple[str, str, str], Use] = field(default_factory=dict)
    macros: set[str] = field(default_factory=set)

    def add(self, code: str, what: str, line: int, column: int, region: Region, end_column: int | None = None) -> None:
        placed = place(region, self.sim)
        if placed is None:
            return
        state, guard, arm64_path, macros = placed
        key = (code, what, state)
        old = self.uses.get(key)
        if old is not None:
            self.uses[key] = Use(old.code, old.what, old.line, old.column, old.state, old.guard, old.arm64_path,
                                 old.count + 1, old.detail, old.end_column)  # fmt: skip
            return
        self.uses[key] = Use(code, what, line, column, state, guard, arm64_path, end_column=end_column)
        self.macros.update(macros)


def _guard_text(line: int, text: str) -> str:
    return f"`{text}` (line {line})"


def place(region: Region, sim: Simulation) -> tuple[str, str, bool, set[str]] | None:
    """(state, guard, arm64 path, outside macros deciding) for code in `region`; None when arm64
    and x86-64 both skip it (#if 0, Windows-only) or only arm64 compiles it (a NEON shim)."""
    if region.arm64 is False and region.x86_64 is False:
        return None
    if region.x86_64 is False:
        return None  # arm64-only code that uses x86 names: a translation layer
    if region.arm64 is True:
        return UNGUARDED, "", False, set()
    g = region.guard()
    if g is not None:
        chain, br = g
        macros = {
            n for n in re.findall(r"[A-Za-z_]\w*", br.text) if vocab.x86_macro(n) and not n.startswith(("__", "_M_"))
        }
        return GUARDED, _guard_text(br.line, br.text), chain.arm64_path(br) or sim.arm_branch, macros
    u = region.undecided()
    if u is None:  # cannot happen: an unknown region has an unknown branch
        return UNGUARDED, "", False, set()
    chain, br = u
    return UNDECIDED, _guard_text(br.line, br.text), chain.arm64_path(br) or sim.arm_branch, set()


def analyze_c(data: bytes) -> Summary:
    text = Text(data.decode("utf-8", "replace"))
    sim = Simulation(text.directives, len(text.raw))
    col = _Collector(sim)
    portable = _emulates_types(text.code)
    other_arch = False
    includes: list[tuple[str, int, str]] = []
    skip: list[tuple[int, int]] = []  # directive spans whose identifiers are not uses
    for d, region in sim.includes:
        m = _INCLUDE.match(d.body)
        if not m:
            continue
        name = (m.group(1) or m.group(2)).strip()
        if vocab.PORTABLE_SIMD.search(name) and region.arm64 is not False:
            portable = True
        if vocab.ARM_SHIM_HEADER.search(name) and region.arm64 is True and region.x86_64 is False:
            portable = True  # the project's own arm64 emulation of the x86 names
        if vocab.OTHER_ARCH_HEADERS.match(name) and region.arm64 is not False and region.x86_64 is not False:
            other_arch = True  # unguarded arm_neon.h / lsxintrin.h: this file is another CPU's code
        if vocab.x86_header(name):
            col.add("ARCH701", name, d.line, text.column(d.offset), region)
        elif m.group(2) is not None or "/" in name:
            placed = place(region, sim)
            includes.append((name, d.line, placed[0] if placed else "dead"))
    for d, _ in [*sim.includes, *sim.errors, *sim.pragmas]:
        skip.append((d.offset, d.end))
    for d in text.directives:
        if d.name in ("if", "ifdef", "ifndef", "elif", "undef", "elifdef", "elifndef"):
            skip.append((d.offset, d.end))
        elif d.name == "define":
            # The macro's name is not a use (a shim may #define _mm_pause), its body is.
            m = re.match(r"[ \t]*#[ \t]*define[ \t]+[A-Za-z_]\w*", text.code[d.offset : d.end])
            if m:
                skip.append((d.offset, d.offset + m.end()))
    skip.sort()
    _identifiers(text, sim, col, skip, portable or other_arch)
    _asm(text, sim, col)
    _targets(text, sim, col)
    _errors(text, sim, col)
    uses = sorted(col.uses.values(), key=lambda u: (u.line, u.column, u.code))
    return Summary(
        uses=tuple(uses), includes=tuple(includes), macros=tuple(sorted(col.macros)),
        portable=portable, arm_path=sim.arm_branch or other_arch, parsed=True,
    )  # fmt: skip


_NEON_NAME = re.compile(r"\bv[a-z]+q?_(?:n_|lane_|laneq_)?[suf](?:8|16|32|64)\b|\bsv[a-z]+_[a-z0-9_]+\b")
_MACRO = re.compile(r"([A-Z_][A-Z0-9_]*)\s*$")


def _macro_argument_with_neon(bare: str, pos: int, end: int) -> bool:
    """`CROARING_BITSET_CONTAINER_FN(or, |, _mm256_or_si256, vorrq_u64)`: an intrinsic handed, not
    called, to a macro that also gets its NEON twin; the macro's per-CPU definition picks one."""
    after = bare[end : end + 40].lstrip()
    if not after or after[0] not in ",)":
        return False
    depth, i = 0, pos - 1
    while i >= max(0, pos - 600):
        c = bare[i]
        if c == ")":
            depth += 1
        elif c == "(":
            if depth == 0:
                break
            depth -= 1
        i -= 1
    else:
        return False
    if i < 0 or not _MACRO.search(bare, max(0, i - 80), i):
        return False
    close = matching_paren(bare, i, 2000)
    return bool(_NEON_NAME.search(bare, i, close))


def _emulates_types(code: str) -> bool:
    for m in _TYPE_NAME.finditer(code):
        stmt = code[max(code.rfind(";", 0, m.start()), code.rfind("}", 0, m.start()), code.rfind("\n#", 0, m.start()))
                    + 1 : m.end()]  # fmt: skip
        if m.group().rstrip().endswith(";") and re.match(r"\s*typedef\b", stmt):
            return True
        if re.fullmatch(r"\s*#\s*define\s+", stmt[: stmt.rfind("__m")]):
            return True
    return False


def _identifiers(text: Text, sim: Simulation, col: _Collector, skip: list[tuple[int, int]], portable: bool) -> None:
    if portable:
        return  # sse2neon/SIMDe provide these names on arm64
    bare = text.bare
    found: list[tuple[int, int]] = []
    for rx, needle in vocab.X86_IDENT_PARTS:
        if needle in bare:
            found.extend(m.span() for m in rx.finditer(bare))
    if any(n in bare for n in vocab.X86_IDENT_RARE_NEEDLES):
        found.extend(m.span() for m in vocab.X86_IDENT.finditer(bare) if m.group("intrin") and not m.group()
                     .startswith(("_mm", "__builtin_ia32_")))  # fmt: skip
    si = 0
    for pos, end in sorted(found):
        if pos and _WORD.match(bare, pos - 1):
            continue  # TIMEDELTA_mm_m_add, simde__m128
        while si < len(skip) and skip[si][1] <= pos:
            si += 1
        if si < len(skip) and skip[si][0] <= pos < skip[si][1]:
            continue
        if _macro_argument_with_neon(bare, pos, end):
            continue
        col.add("ARCH702", bare[pos:end], text.line(pos), text.column(pos), sim.at(pos), text.column(end))
    if "__builtin_cpu_" not in text.code:
        return
    for m in vocab.CPU_BUILTIN.finditer(text.code):
        if vocab.x86_target_string(m.group(1)):
            pos = m.start()
            what = f'{m.group().split("(")[0].strip()}("{m.group(1)}")'
            col.add("ARCH702", what, text.line(pos), text.column(pos), sim.at(pos))


def _asm(text: Text, sim: Simulation, col: _Collector) -> None:
    bare, code = text.bare, text.code
    for pos in _occurrences(bare, "asm"):
        start = _prefixed(bare, pos, "__") if pos >= 2 else pos
        start = _prefixed(bare, start, "_") if start == pos and pos >= 1 else start
        m = vocab.ASM_START.match(bare, start)
        if m is None:
            continue
        if start and _WORD.match(bare, start - 1):
            continue
        if m.group("open") != "(":
            continue
        open_at = m.end() - 1
        close = matching_paren(code, open_at)
        template = "\n".join(s for _, s in string_contents(code, open_at, close))
        reg = vocab.X86_ASM_MNEMONIC.search(template) or vocab.X86_ASM_REGISTER.search(template)
        if reg is None:
            continue
        what = reg.groupdict().get("m") or reg.group().strip()
        pos = m.start()
        col.add("ARCH703", what, text.line(pos), text.column(pos), sim.at(pos))
    for pos in _occurrences(bare, "_asm"):
        start = _prefixed(bare, pos, "_") if pos >= 1 else pos
        if vocab.MSVC_ASM.match(bare, start) and not (start and _WORD.match(bare, start - 1)):
            col.add("ARCH703", "MSVC __asm block", text.line(start), text.column(start), sim.at(start))


def _prefixed(text: str, pos: int, prefix: str) -> int:
    """`pos` moved back over `prefix` when the text has it there (`__asm__` found at "asm")."""
    return pos - len(prefix) if text.startswith(prefix, pos - len(prefix)) else pos


def _occurrences(text: str, needle: str) -> list[int]:
    out = []
    i = text.find(needle)
    while i != -1:
        out.append(i)
        i = text.find(needle, i + 1)
    return out


def _targets(text: Text, sim: Simulation, col: _Collector) -> None:
    code = text.code
    for pos in _occurrences(code, "target"):
        start = _prefixed(code, pos, "__") if pos >= 2 else pos
        m = vocab.TARGET_ATTR.match(code, start)
        if m is None or (start and _WORD.match(code, start - 1)):
            continue
        args = m.group(1)
        if not vocab.x86_target_string(args):
            continue
        pos = m.start()
        if text.code.rfind("#", text.code.rfind("\n", 0, pos) + 1, pos) != -1:
            continue  # a #pragma: see below
        col.add("ARCH704", f"{m.group().split('(')[0].strip()}({args.strip()})", text.line(pos), text.column(pos),
                sim.at(pos))  # fmt: skip
    for d, region in sim.pragmas:
        pm = vocab.TARGET_ATTR.search(d.body)
        if pm and vocab.x86_target_string(pm.group(1)):
            col.add("ARCH704", f"#pragma {d.body}", d.line, 1, region)


def _errors(text: Text, sim: Simulation, col: _Collector) -> None:
    for d, region in sim.errors:
        if region.arm64 is not True:
            continue
        tests = [b for chain, _ in region.stack for b in chain.branches if b.x86 or b.arm]
        if tests:
            what = f"#error {d.body}".strip()
            guard = _guard_text(tests[0].line, tests[0].text)
            col.uses.setdefault(("ARCH706", what, UNGUARDED), Use("ARCH706", what, d.line, 1, UNGUARDED, guard))
