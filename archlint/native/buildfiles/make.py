"""Makefiles: x86 flags in `*FLAGS` assignments and compiler command lines, under the
`ifeq`/`ifneq`/`ifdef` that guard them.

`$(shell uname -m)` (and `arch`, `uname -p`) is aarch64 on an arm64 build machine; variables
assigned from it follow. A comparison with an x86 machine name (`ifeq ($(ARCH),x86_64)`) is an
x86 guard even when the variable comes from elsewhere. `$(shell $(CC) -mavx2 …)` is a probe.
"""

from __future__ import annotations

import re

from archlint.native import vocab
from archlint.native.buildfiles.guards import BuildGuard, FlagSite, Pair, live, next_branch, summarize
from archlint.native.cpp import Tri
from archlint.native.interface import Summary

_COND = re.compile(r"^[ \t]*(?:else[ \t]+)?(ifeq|ifneq|ifdef|ifndef)\b[ \t]*(.*)$")
_ASSIGN = re.compile(r"^[ \t]*(?:override[ \t]+|export[ \t]+)?([A-Za-z_][\w.]*)[ \t]*(:{1,3}=|\?=|\+=|!=|=)[ \t]*(.*)$")
_MACHINE = re.compile(
    r"\$\(shell[ \t]+(?:uname[ \t]+-[mpi]|arch|gcc[ \t]+-dumpmachine|\$\(CC\)[ \t]+-dumpmachine)[ \t]*\)"
)
_X86_VALUE = re.compile(r"(?i)^(?:x86_64|x86|amd64|x64|i[3-6]86|i86pc|ia32|x86_64-[\w-]+)$")
_COMPILER = re.compile(
    r"\$\((?:CC|CXX|FC|LD|LINK\.\w+|COMPILE\.\w+)\)|\b(?:gcc|g\+\+|cc|c\+\+|clang\+?\+?|icc|icx|icpx)\b"
)
_SRC = re.compile(r"(?<![\w./-])([\w./-]+\.(?:c|cc|cpp|cxx|pyx|f90|f))\b")
_MACHINES = ("aarch64", "x86_64")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 1
    for n, raw in enumerate(text.split("\n"), 1):
        if not buf:
            start = n
        if raw.endswith("\\"):
            buf.append(raw[:-1])
            continue
        buf.append(raw)
        out.append((start, " ".join(buf)))
        buf = []
    if buf:
        out.append((start, " ".join(buf)))
    return out


def _strip_comment(line: str) -> str:
    i = line.find("#")
    while i > 0 and line[i - 1] == "\\":
        i = line.find("#", i + 1)
    return line if i < 0 else line[:i]


def _expand(text: str, vars_: dict[str, str | None], t: int) -> str | None:
    text = _MACHINE.sub(_MACHINES[t], text)

    def sub(m: re.Match[str]) -> str:
        v = vars_.get(m.group(1) or m.group(2))
        if v is None:
            raise KeyError(m.group())
        return v

    try:
        return re.sub(r"\$\((\w+)\)|\$\{(\w+)\}", sub, text).strip()
    except KeyError:
        return None


def _split_args(body: str) -> tuple[str, str] | None:
    body = body.strip()
    if body.startswith("("):
        depth = 0
        for i, ch in enumerate(body):
            depth += ch == "("
            depth -= ch == ")"
            if ch == "," and depth == 1:
                end = body.rfind(")")
                return body[1:i].strip(), body[i + 1 : end].strip()
        return None
    m = re.match(r"""(["'])(.*?)\1\s+(["'])(.*?)\3""", body)
    return (m.group(2), m.group(4)) if m else None


def _test(kind: str, body: str, vars_: tuple[dict[str, str | None], dict[str, str | None]]) -> tuple[Pair, bool, bool]:
    x86 = bool(re.search(r"(?i)x86|amd64|i[3-6]86", body)) or any(vocab.x86_macro(w) for w in re.findall(r"\w+", body))
    arm = bool(re.search(r"(?i)aarch64|arm64|\barm\b|armv\d", body))
    if kind in ("ifdef", "ifndef"):
        name = body.split()[0] if body.split() else ""
        vals: list[Tri] = []
        for t in range(2):
            if name in vars_[t]:
                v: Tri = vars_[t][name] not in (None, "") if vars_[t][name] is not None else None
            elif t == 0 and vocab.x86_macro(name):
                v = False
            else:
                v = None
            vals.append(v if kind == "ifdef" or v is None else not v)
        return (vals[0], vals[1]), x86, arm
    args = _split_args(body)
    if args is None:
        return (None, None), x86, arm
    out: list[Tri] = []
    for t in range(2):
        a, b = (_expand(x, vars_[t], t) for x in args)
        if a is not None and b is not None:
            eq: Tri = a == b
        elif (a is None) != (b is None) and _X86_VALUE.match((a if a is not None else b) or ""):
            eq = False if t == 0 else None  # $(ARCH) == x86_64: never true when building for arm64
        else:
            eq = None
        out.append(eq if kind == "ifeq" or eq is None else not eq)
    return (out[0], out[1]), x86, arm


def analyze_makefile(data: bytes) -> Summary:
    text = data.decode("utf-8", "replace")
    vars_: tuple[dict[str, str | None], dict[str, str | None]] = ({}, {})
    stack: list[tuple[Pair, BuildGuard]] = []
    sites: list[FlagSite] = []
    sources: list[tuple[str, int, tuple[BuildGuard, ...]]] = []
    defines: list[tuple[str, int, tuple[BuildGuard, ...]]] = []
    for line_no, raw in _logical_lines(text):
        line = _strip_comment(raw)
        stripped = line.strip()
        m = _COND.match(line)
        if m or stripped == "else" or stripped.startswith("else ") or stripped == "endif":
            if stripped == "endif":
                if stack:
                    stack.pop()
                continue
            is_else = stripped.startswith("else")
            if not is_else and m:
                stack.append(((False, False), BuildGuard("", True, True)))
            if not stack:
                continue
            prev, old = stack[-1]
            if m:
                truth, x86, arm = _test(m.group(1), m.group(2), vars_)
                text_ = f"`{stripped}`"
            else:
                truth, x86, arm = (True, True), old.x86, old.arm
                text_ = f"the else of {old.text.split(' (line')[0]}"
            taken, prev = next_branch(prev, truth)
            stack[-1] = (prev, BuildGuard(f"{text_} (line {line_no})", taken[0], taken[1], x86, arm))
            continue
        guards = tuple(g for _, g in stack)
        now = live(guards)
        a = _ASSIGN.match(line) if not line.startswith("\t") else None
        if a:
            name, op, value = a.groups()
            for t in range(2):
                if now[t] is False:
                    continue
                v = _expand(value, vars_[t], t) if op != "!=" else None
                if op == "+=":
                    old_v = vars_[t].get(name, "")
                    v = None if v is None or old_v is None else f"{old_v} {v}".strip()
                elif op == "?=" and name in vars_[t]:
                    continue
                vars_[t][name] = v if now[t] is True else None
        is_flags = bool(a and re.search(r"FLAGS|OPTS|ARGS|CC|CXX|DEFS", a.group(1)))
        is_recipe = line.startswith("\t") and bool(_COMPILER.search(line))
        if not (is_flags or is_recipe):
            continue
        if is_recipe and re.match(r"\t[@-]*\s*(?:echo|printf)\b", line):
            continue
        for sm in _SRC.finditer(line):
            sources.append((sm.group(1), line_no, guards))
        for dm in re.finditer(r"(?:^|\s)-D([A-Za-z_]\w*)", line):
            if vocab.x86_macro(dm.group(1)):
                defines.append((dm.group(1), line_no, guards))
        for off, flag, _kind in vocab.flags_in(line):
            probe = "$(shell" in line[:off] and ")" not in line[line.rfind("$(shell", 0, off) : off]
            col = off + 1 if off < len(raw) else 1
            sites.append(FlagSite(flag, line_no, col, guards, probe, group=(line_no, 1)))
    return summarize(sites, sources, defines, "Makefile")
