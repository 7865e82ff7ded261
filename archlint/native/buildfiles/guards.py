"""What every build-file parser hands over: flags found, with the conditions around them, turned
into uses (ARCH711/712/713), the sources the build lists and the macros it defines everywhere."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from archlint.native import vocab
from archlint.native.cpp import Tri, and3, not3, or3
from archlint.native.interface import GUARDED, UNDECIDED, UNGUARDED, Summary, Use
from archlint.source.interface import FixSpec

Pair = tuple[Tri, Tri]  # (linux/arm64, linux/x86-64)


@dataclass(frozen=True)
class BuildGuard:
    """One condition around a build statement, evaluated on linux/arm64 and linux/x86-64."""

    text: str  # as written, for messages: "`if(CMAKE_SYSTEM_PROCESSOR MATCHES x86_64)` (line 4)"
    arm64: Tri
    x86_64: Tri
    x86: bool = False  # the condition is about x86 (names an x86 CPU, feature or flag)
    arm: bool = False


@dataclass(frozen=True)
class FlagSite:
    value: str  # the string holding flags ("-mavx2", "-O3 -mavx2", "-DCMAKE_C_FLAGS=-mavx2")
    line: int
    column: int
    guards: tuple[BuildGuard, ...] = ()
    probe: bool = False  # passed to a compiler probe (check_c_compiler_flag, cc.has_argument)
    group: tuple[int, int] | None = None  # sites with one group (a list, a command) are one finding
    fix: FixSpec | None = None


class Logic:
    """`not`/`and`/`or` with their precedence over three-valued operands, for the condition
    languages of build files (CMake's if(), meson); subclasses read operands and name the words."""

    words = ("or", "and", "not")
    i: int

    def peek(self) -> str:
        raise NotImplementedError

    def operand(self) -> Any:
        raise NotImplementedError

    def or_(self) -> Any:
        v = self.and_()
        while self.peek() == self.words[0]:
            self.i += 1
            v = or3(v, self.and_())
        return v

    def and_(self) -> Any:
        v = self.not_()
        while self.peek() == self.words[1]:
            self.i += 1
            v = and3(v, self.not_())
        return v

    def not_(self) -> Any:
        if self.peek() == self.words[2]:
            self.i += 1
            return not3(self.not_())
        return self.operand()


def next_branch(prev: Pair, truth: Pair) -> tuple[Pair, Pair]:
    """One more branch of an if/elif/else chain: (does each target take it, has each taken one)."""
    taken = (and3(not3(prev[0]), truth[0]), and3(not3(prev[1]), truth[1]))
    return taken, (or3(prev[0], truth[0]), or3(prev[1], truth[1]))


def live(guards: Iterable[BuildGuard]) -> Pair:
    gs = list(guards)
    return and3(*(g.arm64 for g in gs)), and3(*(g.x86_64 for g in gs))


def place(guards: Iterable[BuildGuard], probe: bool = False) -> tuple[str, str] | None:
    """(state, guard) for a build statement; None when no Linux build runs it (Windows-only)."""
    gs = list(guards)
    for g in gs:
        if g.arm64 is False and g.x86_64 is False:
            return None
    for g in gs:
        if g.arm64 is False:
            return GUARDED, f"under {g.text}"
    for g in gs:
        if g.arm64 is None and g.x86 and not g.arm:
            return GUARDED, f"under {g.text}"
    if probe:
        return GUARDED, "in a compiler probe (it only asks whether the compiler takes the flag)"
    for g in gs:
        if g.arm64 is None:
            return UNDECIDED, g.text
    return UNGUARDED, ""


def summarize(
    sites: Sequence[FlagSite],
    sources: Iterable[tuple[str, int, tuple[BuildGuard, ...]]] = (),
    defines: Iterable[tuple[str, int, tuple[BuildGuard, ...]]] = (),
    what: str = "",
) -> Summary:
    groups: dict[tuple[tuple[int, int], str, str], list[tuple[FlagSite, str, str, str]]] = {}
    for site in sites:
        placed = place(site.guards, site.probe)
        if placed is None:
            continue
        for _, flag, kind in vocab.flags_in(" " + site.value):
            state, guard = placed
            if flag.startswith("/") and state != GUARDED:
                # MSVC syntax (/arch:AVX2): gcc and clang on Linux take it for a file name, so a
                # project that builds on Linux at all passes it on Windows only.
                state, guard = GUARDED, "as MSVC syntax (only Windows builds can use it)"
            code = "ARCH713" if kind == "host" else "ARCH712" if state == GUARDED else "ARCH711"
            key = (site.group or (site.line, site.column), code, state)
            groups.setdefault(key, []).append((site, flag, state, guard))
    uses = []
    for (_, code, state), members in groups.items():
        first = min(members, key=lambda m: (m[0].line, m[0].column))
        flags = list(dict.fromkeys(flag for _, flag, _, _ in members))
        uses.append(Use(code, " ".join(flags), first[0].line, first[0].column, state, first[3],
                        count=len(flags), detail=what, fix=first[0].fix if code == "ARCH711" else None))  # fmt: skip
    out_sources = []
    for value, line, guards in sources:
        placed = place(guards)
        if placed is not None:
            out_sources.append((value, line, placed[1] if placed[0] == GUARDED else ""))
    out_defines = []
    for name, line, guards in defines:
        placed = place(guards)
        if placed is not None and placed[0] == UNGUARDED:
            out_defines.append((name, line))
    return Summary(
        uses=tuple(sorted(uses, key=lambda u: (u.line, u.column))), sources=tuple(out_sources),
        defines=tuple(out_defines), parsed=True,
    )  # fmt: skip
