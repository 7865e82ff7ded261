"""meson.build: x86 flags in `add_project_arguments`, `c_args:`/`cpp_args:` and the variables they
come from, under the `if`s (and `? :`) that guard them.

Conditions are evaluated for linux/arm64 and linux/x86-64: `host_machine.cpu_family()` is
'aarch64' or 'x86_64' (meson's host machine is the one the code runs on, cross builds included),
`cc.get_id() == 'msvc'` is false, and a compiler probe of an x86 flag or x86 code
(`cc.has_argument('-mavx2')`, `cc.compiles(avx_code)`) is false on arm64. Flags handed to probes,
or filtered by `cc.get_supported_arguments()`, are not reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from archlint.native import vocab
from archlint.native.buildfiles.fixes import MESON_TEST, wrap_fix
from archlint.native.buildfiles.guards import BuildGuard, FlagSite, Logic, Pair, Tri, live, next_branch, summarize
from archlint.native.cpp import not3
from archlint.native.interface import Summary

_TOKEN = re.compile(
    r"(?P<comment>#[^\n]*)|(?P<mstring>f?'''.*?''')|(?P<string>f?'(?:[^'\\\n]|\\.)*')|(?P<nl>\n)|(?P<ws>[ \t\r]+)"
    r"|(?P<num>\d+)|(?P<name>[A-Za-z_]\w*)|(?P<op>==|!=|<=|>=|\+=|[-+*/%<>?:.,()\[\]{}=])|(?P<bad>\S)",
    re.DOTALL,
)
_PROBES = frozenset({"has_argument", "has_multi_arguments", "get_supported_arguments", "first_supported_argument",
                     "compiles", "links", "run", "has_link_argument", "has_multi_link_arguments",
                     "get_supported_link_arguments", "first_supported_link_argument", "has_header", "check_header",
                     "has_function", "has_header_symbol", "get_define"})  # fmt: skip
_SRC = re.compile(r"\.(?:c|cc|cpp|cxx|c\+\+|pyx|f|f90)$", re.IGNORECASE)
_CPU = {0: "aarch64", 1: "x86_64"}


@dataclass(frozen=True)
class _CompilerId:
    """`cc.get_id()` on Linux: gcc or clang (never msvc; Intel's only on x86)."""

    target: int

    def equals(self, other: object) -> Any:
        if other in ("msvc", "clang-cl", "intel-cl", "intel-llvm-cl"):
            return False
        if other in ("intel", "intel-llvm"):
            return False if self.target == 0 else None
        return None


@dataclass
class Tok:
    kind: str
    text: str
    line: int
    column: int

    @property
    def value(self) -> str:
        t = self.text[1:] if self.text.startswith("f") else self.text
        return t[3:-3] if t.startswith("'''") else re.sub(r"\\(.)", r"\1", t[1:-1])


def _tokens(text: str) -> list[Tok]:
    out: list[Tok] = []
    line, start = 1, 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "bad"
        tok = m.group()
        if kind not in ("comment", "ws"):
            kind = "string" if kind == "mstring" else kind
            out.append(Tok(kind, tok, line, m.start() - start + 1))
        n = tok.count("\n")
        if n:
            line += n
            start = m.start() + tok.rfind("\n") + 1
    return out


def _statements(toks: list[Tok]) -> list[list[Tok]]:
    """Logical lines: newlines inside brackets do not end a statement."""
    out: list[list[Tok]] = []
    cur: list[Tok] = []
    depth = 0
    for t in toks:
        if t.kind == "nl" and depth == 0:
            if cur:
                out.append(cur)
            cur = []
            continue
        if t.kind == "nl":
            continue
        if t.text in "([{":
            depth += 1
        elif t.text in ")]}":
            depth = max(0, depth - 1)
        cur.append(t)
    if cur:
        out.append(cur)
    return out


class _Eval(Logic):
    """Meson expressions, enough for conditions: literals, lists, variables, `and/or/not`, `in`,
    comparisons, `? :`, `host_machine.cpu_family()` and friends, compiler probes."""

    def __init__(self, toks: list[Tok], target: int, names: dict[str, Any]) -> None:
        self.t = toks
        self.i = 0
        self.target = target
        self.names = names

    def peek(self) -> str:
        return self.t[self.i].text if self.i < len(self.t) else ""

    def run(self) -> Any:
        try:
            v = self.ternary()
        except (IndexError, ValueError):
            return None
        return v if self.i >= len(self.t) else None

    def ternary(self) -> Any:
        c = self.or_()
        if self.peek() == "?":
            self.i += 1
            a = self.ternary()
            if self.peek() != ":":
                raise ValueError(":")
            self.i += 1
            b = self.ternary()
            if c is None:
                return a if a == b else None
            return a if c else b
        return c

    def operand(self) -> Any:
        return self.compare()

    def compare(self) -> Any:
        left = self.postfix()
        op = self.peek()
        if op == "not" and self.i + 1 < len(self.t) and self.t[self.i + 1].text == "in":
            self.i += 2
            right = self.postfix()
            return None if None in (left, right) or not isinstance(right, list) else left not in right
        if op in ("==", "!=", "in"):
            self.i += 1
            right = self.postfix()
            if left is None or right is None:
                return None
            cid = left if isinstance(left, _CompilerId) else right if isinstance(right, _CompilerId) else None
            if cid is not None and op != "in":
                eq = cid.equals(right if cid is left else left)
                return eq if eq is None or op == "==" else not eq
            if isinstance(left, _CompilerId) or isinstance(right, _CompilerId):
                return None
            if op == "in":
                return left in right if isinstance(right, (list, str)) else None
            return (left == right) if op == "==" else (left != right)
        return left

    def postfix(self) -> Any:
        tok = self.t[self.i]
        self.i += 1
        if tok.kind == "string":
            return tok.value
        if tok.kind == "num":
            return int(tok.text)
        if tok.text == "(":
            v = self.ternary()
            self.i += 1
            return v
        if tok.text == "[":
            items = []
            while self.peek() != "]":
                items.append(self.ternary())
                if self.peek() == ",":
                    self.i += 1
            self.i += 1
            return None if any(x is None for x in items) else items
        if tok.kind != "name":
            raise ValueError(tok.text)
        if tok.text in ("true", "false"):
            return tok.text == "true"
        name = tok.text
        value: Any = self.names.get(name)
        if value is None and name not in self.names and self.target == 0 and vocab.x86_macro(name):
            value = False  # is_x86, have_avx2: never true for arm64
        chain = name
        while self.peek() == ".":
            self.i += 1
            meth = self.t[self.i].text
            self.i += 1
            args: list[Any] = []
            raw: list[Tok] = []
            if self.peek() == "(":
                depth = 0
                while True:
                    t = self.t[self.i]
                    self.i += 1
                    if t.text == "(":
                        depth += 1
                    elif t.text == ")":
                        depth -= 1
                        if depth == 0:
                            break
                    raw.append(t)
                args = [t.value for t in raw if t.kind == "string"]
            value = self._method(chain, meth, args, raw, value)
            chain = f"{chain}.{meth}"
        return value

    def _method(self, obj: str, meth: str, args: list[str], raw: list[Tok], recv: Any) -> Any:
        if obj in ("host_machine", "build_machine", "target_machine"):
            if meth in ("cpu_family", "cpu"):
                return _CPU[self.target]
            if meth == "system":
                return "linux"
            if meth == "endian":
                return "little"
            return None
        if meth == "get_id":
            return _CompilerId(self.target)
        if meth in _PROBES:
            x86 = any(vocab.flags_in(" " + a) or vocab.X86_IDENT.search(a) or vocab.x86_header(a) for a in args) or any(
                vocab.x86_macro(t.text) for t in raw if t.kind == "name"
            )
            return False if (x86 and self.target == 0) else None
        if isinstance(recv, str):
            if meth in ("to_lower", "to_upper"):
                return recv.lower() if meth == "to_lower" else recv.upper()
            if meth in ("startswith", "endswith", "contains") and args:
                return {"startswith": recv.startswith, "endswith": recv.endswith,
                        "contains": recv.__contains__}[meth](args[0])  # fmt: skip
        return None


def _msvc_fix(toks: list[Tok]) -> list[Tok]:
    """`cc.get_id() == 'msvc'` is false with gcc/clang on Linux: substitute the constant."""
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        w = toks[i : i + 7]
        if (len(w) == 7 and w[0].kind == "name" and [x.text for x in w[1:5]] == [".", "get_id", "(", ")"]
                and w[5].text in ("==", "!=") and w[6].kind == "string"
                and w[6].value in ("msvc", "intel-cl", "clang-cl")):  # fmt: skip
            out.append(Tok("name", "false" if w[5].text == "==" else "true", w[0].line, w[0].column))
            i += 7
            continue
        out.append(toks[i])
        i += 1
    return out


def _flavour(toks: list[Tok]) -> tuple[bool, bool]:
    x86 = arm = False
    for t in toks:
        v = t.value if t.kind == "string" else t.text
        if re.search(r"(?i)x86|amd64|i[3-6]86", v) or vocab.x86_macro(v) or vocab.flags_in(" " + v):
            x86 = True
        if re.search(r"(?i)aarch64|arm|neon|sve", v):
            arm = True
    return x86, arm


@dataclass
class _Frame:
    prev: Pair
    guard: BuildGuard
    text: str


def analyze_meson(data: bytes) -> Summary:
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    stmts = _statements(_tokens(text))
    names: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
    stack: list[_Frame] = []
    sites: list[FlagSite] = []
    sources: list[tuple[str, int, tuple[BuildGuard, ...]]] = []
    defines: list[tuple[str, int, tuple[BuildGuard, ...]]] = []
    for st in stmts:
        head = st[0].text
        if head in ("if", "elif", "else", "endif"):
            _branch(st, stack, names, lines)
            continue
        if head in ("foreach", "endforeach", "break", "continue"):
            continue
        guards = tuple(f.guard for f in stack)
        now = live(guards)
        body = _msvc_fix(st)
        if len(body) > 2 and body[0].kind == "name" and body[1].text in ("=", "+="):
            for t in range(2):
                if now[t] is False:
                    continue
                v = _Eval(body[2:], t, names[t]).run()
                if body[1].text == "+=" or now[t] is None:
                    v = None if body[1].text == "=" else names[t].get(body[0].text)
                names[t][body[0].text] = v
        _scan(st, body, guards, lines, sites, sources, defines)
    return summarize(sites, sources, defines, "meson")


def _scan(st: list[Tok], body: list[Tok], guards: tuple[BuildGuard, ...], lines: list[str],
          sites: list[FlagSite], sources: list[tuple[str, int, tuple[BuildGuard, ...]]],
          defines: list[tuple[str, int, tuple[BuildGuard, ...]]]) -> None:  # fmt: skip
    """Strings of one statement: flags (with the ternary branch and probe around each), sources."""
    calls: list[str] = []
    prev: Tok | None = None
    tern: list[tuple[int, BuildGuard]] = []  # depth, guard of the ? branch we are in
    depth = 0
    flag_toks: list[tuple[Tok, tuple[BuildGuard, ...], bool]] = []
    for i, t in enumerate(st):
        if t.text == "(":
            name = prev.text if prev is not None and prev.kind == "name" else ""
            recv = st[i - 3].text if name and i >= 3 and st[i - 2].text == "." else ""
            # The features module (numpy, meson's `features`) declares per-CPU args and applies them only
            # for CPUs that have the feature: `mod_features.new('AVX2', …, args: '-mavx2')`.
            calls.append("has_argument" if name == "new" and "feature" in recv.lower() else name)
            depth += 1
        elif t.text == ")":
            if calls:
                calls.pop()
            depth -= 1
            tern = [x for x in tern if x[0] <= depth]
        elif t.text == "?":
            cond = _cond_before(st, i)
            g = _ternary_guard(cond, True)
            tern = [x for x in tern if x[0] != depth] + [(depth, g)]
        elif t.text == ":" and tern and tern[-1][0] == depth and tern[-1][1].text.startswith("`"):
            g = tern[-1][1]
            tern[-1] = (depth, BuildGuard("not " + g.text, not3(g.arm64), not3(g.x86_64), g.x86, g.arm))
        elif t.kind == "string":
            v = t.value
            probe = any(c in _PROBES for c in calls)
            gs = guards + tuple(g for _, g in tern)
            if _SRC.search(v.strip()):
                sources.append((v.strip(), t.line, gs))
            if vocab.flags_in(" " + v):
                flag_toks.append((t, gs, probe))
            for m in re.finditer(r"(?:^|\s)-D([A-Za-z_]\w*)", v):
                if vocab.x86_macro(m.group(1)):
                    defines.append((m.group(1), t.line, gs))
        prev = t
    if not flag_toks:
        return
    fix = None
    first, last = st[0].line, st[-1].line
    flags = [t.value for t in st if t.kind == "string" and t.value.startswith("-")]
    call = st[0].kind == "name" and st[0].text.startswith("add_") and st[0].text.endswith("arguments")
    if call and all(vocab.flag_kind(f) == "x86" for f in flags):
        fix = wrap_fix(lines, first, last, MESON_TEST, "endif", "these flags")
    for t, gs, probe in flag_toks:
        sites.append(FlagSite(t.value, t.line, t.column, gs, probe, group=(first, st[0].column), fix=fix))


def _cond_before(st: list[Tok], q: int) -> list[Tok]:
    """The condition of a `?`: back to the start of the expression (an `=`, `:`, `(`, `,` or `[`)."""
    depth = 0
    j = q - 1
    while j >= 0:
        t = st[j].text
        if t in ")]":
            depth += 1
        elif t in "([":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and t in ("=", ":", ",", "+="):
            break
        j -= 1
    return st[j + 1 : q]


def _ternary_guard(cond: list[Tok], _: bool) -> BuildGuard:
    body = _msvc_fix(cond)
    vals = [_Eval(body, t, {}).run() for t in range(2)]
    tri = [None if v is None else bool(v) for v in vals]
    x86, arm = _flavour(cond)
    text = "`" + "".join(t.text if t.kind != "name" else f" {t.text} " for t in cond).strip() + "`"
    return BuildGuard(text, tri[0], tri[1], x86, arm)


def _branch(st: list[Tok], stack: list[_Frame], names: tuple[dict[str, Any], dict[str, Any]], lines: list[str]) -> None:
    head = st[0].text
    if head == "endif":
        if stack:
            stack.pop()
        return
    if head == "if":
        stack.append(_Frame((False, False), BuildGuard("", True, True), ""))
    if not stack:
        return
    frame = stack[-1]
    if head == "else":
        truth: list[Tri] = [True, True]
        x86, arm = frame.guard.x86, frame.guard.arm
        text = f"the else of `if {frame.text}`"
    else:
        cond = _msvc_fix(st[1:])
        vals = [_Eval(cond, t, names[t]).run() for t in range(2)]
        truth = [None if v is None else bool(v) for v in vals]
        x86, arm = _flavour(st[1:])
        written = " ".join(lines[st[0].line - 1 : st[-1].line]).strip()
        if head == "if":
            frame.text = written[2:].strip()
        text = f"`{written}`"
    eff, frame.prev = next_branch(frame.prev, (truth[0], truth[1]))
    frame.guard = BuildGuard(f"{text} (line {st[0].line})", eff[0], eff[1], x86, arm)
