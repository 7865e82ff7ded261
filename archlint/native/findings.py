"""Summaries of every native file -> hits: the tree decides what is guarded, the rules render it.

Per file: unguarded x86 code is an error per distinct thing (at most MAX_NAMES intrinsics, then
one line for the rest); code an undecidable condition holds with no other branch is a warning;
everything guarded (an x86-only branch, a per-architecture file, a header only x86 code
includes, a source the build compiles only on x86) is one info that says why.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace

from archlint.native import vocab
from archlint.native.interface import GUARDED, UNDECIDED, Summary, Use
from archlint.native.rules import rule
from archlint.native.tree import Tree
from archlint.scanning import C_SOURCE
from archlint.source.interface import Hit

MAX_NAMES = 25  # distinct unguarded intrinsics reported per file
_INCLUDE = re.compile(rb'#[ \t]*include[ \t]*[<"]([^>"\n]+)[>"]')
_HEADER = re.compile(r"\.(?:h|hh|hpp|hxx|inl|h\+\+)$", re.IGNORECASE)
_SOURCE_CODES = frozenset({"ARCH701", "ARCH702", "ARCH703", "ARCH704", "ARCH706"})


def tree_hits(
    summaries: Mapping[str, Summary],
    kinds: Mapping[str, str] | None = None,
    read: Callable[[str], bytes | None] | None = None,
) -> dict[str, list[Hit]]:
    """Hits per file. `read` gives the bytes of a file the prefilter skipped: headers with x86 code
    need every file that includes them, and an #include line carries no x86 needle."""
    summaries = dict(summaries)
    tree = Tree(summaries)
    if read is not None and kinds is not None and _parse_includers(summaries, kinds, read, tree):
        tree = Tree(summaries)
    out = {path: file_hits(path, s, tree) for path, s in summaries.items() if s.uses or s.hits}
    for path, hit in _macros_everywhere(summaries, tree):
        out.setdefault(path, []).append(hit)
    return out


def _macros_everywhere(summaries: Mapping[str, Summary], tree: Tree) -> list[tuple[str, Hit]]:
    """ARCH714: a build file defines an x86 feature macro for every platform, and a source uses
    that macro to keep x86 code off other CPUs, so arm64 builds compile the x86 code after all."""
    out: list[tuple[str, Hit]] = []
    guarded: dict[str, tuple[str, Use]] = {}
    for cpath, s in sorted(summaries.items()):
        for u in s.uses:
            if u.state != GUARDED or u.code not in _SOURCE_CODES:
                continue
            for name in _enabling(u.guard):
                guarded.setdefault(name, (cpath, u))
    for bpath, s in sorted(summaries.items()):
        if not s.defines or tree.x86_only(bpath):
            continue  # meson_cpu/x86/meson.build defines x86 macros for x86 builds only
        for name, line in s.defines:
            if name in guarded:
                cpath, u = guarded[name]
                use = Use("ARCH714", name, line, detail=bpath.rsplit("/", 1)[-1],
                          guard=f"{cpath}:{u.line}, {u.what} under {u.guard}")  # fmt: skip
                out.append((bpath, rule("ARCH714").render(use, bpath)))
    return out


def _parse_includers(
    summaries: dict[str, Summary], kinds: Mapping[str, str], read: Callable[[str], bytes | None], tree: Tree
) -> bool:
    """Headers with x86 code the tree does not already explain need their includers' #include
    lines; read (and lex) the files that include them. True when any summary changed."""
    from archlint.native.csource import analyze_c

    names = {
        p.rsplit("/", 1)[-1].encode()
        for p, s in summaries.items()
        if _HEADER.search(p)
        and any(u.code in _SOURCE_CODES and not _quiet(u) for u in s.uses)
        and not tree.x86_only(p, includes=False)
    }
    if not names:
        return False
    changed = False
    for p, s in summaries.items():
        if s.parsed or kinds.get(p) != C_SOURCE:
            continue
        data = read(p)
        if data is None or b"include" not in data:
            continue
        targets = {t.rsplit(b"/", 1)[-1] for t in _INCLUDE.findall(data)}
        if targets & names:
            summaries[p] = analyze_c(data)
            changed = True
    return changed


def file_hits(path: str, s: Summary, tree: Tree) -> list[Hit]:
    hits = list(s.hits)
    loud = [u for u in s.uses if u.code in _SOURCE_CODES and not _quiet(u)]
    why = tree.x86_only(path) if loud else ""
    other = tree.other_arch(path)
    errors: list[Use] = []
    quiet: list[Use] = []
    for u in s.uses:
        if u.code == "ARCH711":
            reason = tree.x86_only(path)
            if reason:
                u = replace(u, code="ARCH712", guard=f"in the {reason}", fix=None)
        if u.code not in _SOURCE_CODES:
            hits.append(rule(u.code).render(u, path))
            continue
        if other and u.code == "ARCH702" and u.what.startswith("__m"):
            continue  # LoongArch/NEON shims reuse the x86 type names
        if why or _quiet(u) or (u.code == "ARCH702" and vocab.MSVC_ONLY_INTRINSIC.fullmatch(u.what)):
            quiet.append(u)
        elif u.state == UNDECIDED:
            hits.append(rule("ARCH707").render(u, path))
        else:
            errors.append(u)
    hits.extend(_errors(errors, path))
    if quiet:
        hits.append(_summary(quiet, why, path))
    return sorted(hits, key=lambda h: (h.line, h.column, h.rule))


_TESTED = re.compile(r"(!\s*)?(?:defined\s*\(?\s*)?\b([A-Za-z_]\w*)")


def _enabling(guard: str) -> set[str]:
    """Macros whose presence lets the guarded code in: tested by `#ifdef X`, `defined(X)` or `#if X`,
    not by `#ifndef X` or `!defined(X)` (defining HWY_DISABLE_AVX2 turns x86 code off, not on)."""
    text = guard.split("`")[1] if "`" in guard else guard
    if text.startswith("#ifndef"):
        return set()
    body = text.split(None, 1)[1] if " " in text else ""
    return {m.group(2) for m in _TESTED.finditer(body) if not m.group(1) and m.group(2) != "defined"}


def _quiet(u: Use) -> bool:
    return u.state == GUARDED or (u.state == UNDECIDED and u.arm64_path)


def _errors(errors: list[Use], path: str) -> list[Hit]:
    out: list[Hit] = []
    names = 0
    rest: list[Use] = []
    for u in errors:
        if u.code == "ARCH702":
            names += 1
            if names > MAX_NAMES:
                rest.append(u)
                continue
        out.append(rule(u.code).render(u, path))
    if rest:
        uses = sum(u.count for u in rest)
        first = rest[0]
        more = ", ".join(u.what for u in rest[:5]) + (", …" if len(rest) > 5 else "")
        out.append(
            Hit(
                "ARCH702",
                f"…and {len(rest)} more x86 intrinsics and types ({uses} uses: {more}) where arm64 compiles them",
                first.line,
                first.column,
                key="intrinsic:more",
                blocks=True,
                evidence=f"uses {len(rest) + MAX_NAMES} distinct x86 intrinsics",
            )
        )
    return out


def _summary(quiet: list[Use], why: str, path: str) -> Hit:
    first = min(quiet, key=lambda u: (u.line, u.column))
    names: list[str] = []
    for u in sorted(quiet, key=lambda u: (u.line, u.column)):
        if u.what not in names:
            names.append(u.what)
    shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
    places = sum(u.count for u in quiet)
    if why:
        detail = f"x86-only code ({shown}) in a file arm64 does not compile: {why}"
    else:
        guarded = [u for u in quiet if u.guard]
        g = min(guarded, key=lambda u: (u.line, u.column)) if guarded else first
        arm = any(u.arm64_path for u in quiet)
        detail = (
            f"x86 code only behind x86-only preprocessor guards ({places} place{'s' if places > 1 else ''}: {shown}; "
            f"first under {g.guard})"
            + ("; arm64 compiles another branch" if arm else "; arm64 builds without it (no NEON counterpart: slower?)")
        )
    return rule("ARCH705").render(Use("ARCH705", "guarded", first.line, first.column, detail=detail), path)
