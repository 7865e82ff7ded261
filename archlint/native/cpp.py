"""The preprocessor, run abstractly for linux/arm64 and linux/x86-64.

Each `#if`/`#ifdef`/`#elif` condition is evaluated in three-valued logic (true, false, unknown)
against what gcc and clang predefine on each target, the `#define`s the file itself makes on
the way (a `#define HAVE_SSE 1` inside an `#ifdef __SSE2__` branch never happens on arm64), and,
for macros defined elsewhere (by the build or another header), their names: `NPY_HAVE_AVX2`,
`HWY_ARCH_X86` or `USE_SSE42` are x86 feature macros, never set on arm64. The result is a list
of regions, each with whether arm64 and x86-64 compile it and which directive decides.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from archlint.native import vocab
from archlint.native.lexer import Directive

Tri = bool | None  # three-valued truth: None is "cannot tell"
ARM64, X86_64 = "arm64", "x86-64"

_TOKEN = re.compile(
    r"\s*(?:(?P<num>0[xX][0-9a-fA-F]+|\d+)[uUlL]*|(?P<chr>'(?:[^'\\]|\\.)+')|(?P<id>[A-Za-z_]\w*)"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|<<|>>|[-+*/%<>!~&|^?:(),])|(?P<bad>\S))"
)
_IDENT = re.compile(r"[A-Za-z_]\w*")
_MAX_DEPTH = 12


def and3(*xs: Tri) -> Tri:
    if any(x is False for x in xs):
        return False
    return True if all(x is True for x in xs) else None


def or3(*xs: Tri) -> Tri:
    if any(x is True for x in xs):
        return True
    return False if all(x is False for x in xs) else None


def not3(x: Tri) -> Tri:
    return None if x is None else not x


@dataclass
class Macro:
    state: Tri  # True: defined; False: undefined; None: may be either
    body: str | None = None  # object-like body, when defined and known


class Model:
    """What one target predefines, plus what the file has defined so far."""

    def __init__(self, target: str) -> None:
        self.target = target
        predefined = vocab.ARM64_DEFINED if target == ARM64 else vocab.X86_64_DEFINED
        self.macros: dict[str, Macro] = {k: Macro(True, None if v is None else str(v)) for k, v in predefined.items()}
        off = vocab.NOT_ON_ARM64 if target == ARM64 else vocab.NOT_ON_X86_64
        for name in (*vocab.NOT_ON_LINUX, *off):
            self.macros[name] = Macro(False)
        self.elsewhere: set[str] = set()

    def lookup(self, name: str) -> Macro:
        m = self.macros.get(name)
        if m is not None:
            return m
        if name in self.elsewhere:
            return Macro(False)  # the file defines it only in branches this target skips
        # Defined elsewhere (the build, another header): its name says which CPU it is about.
        if self.target == ARM64 and vocab.x86_macro(name) and not vocab.arm_macro(name):
            return Macro(False)
        if self.target == X86_64 and vocab.arm_macro(name) and not vocab.x86_macro(name):
            return Macro(False)
        return Macro(None)

    def define(self, name: str, body: str | None, live: Tri) -> None:
        if live is False:
            self.elsewhere.add(name)
            return
        if live is True:
            self.macros[name] = Macro(True, body)
        else:
            old = self.lookup(name)
            self.macros[name] = Macro(None if old.state is not True or old.body != body else True, body)

    def undef(self, name: str, live: Tri) -> None:
        if live is True:
            self.macros[name] = Macro(False)
        elif live is None and self.lookup(name).state is not False:
            self.macros[name] = Macro(None)

    def has_include(self, header: str) -> Tri:
        h = header.strip().strip('<>"')
        if vocab.x86_header(h):
            return self.target == X86_64
        if vocab.ARM_HEADERS.match(h):
            return self.target == ARM64
        return None


class _Parser:
    """Pratt parser and evaluator of one #if expression; values are int or None (unknown)."""

    def __init__(self, text: str, model: Model, depth: int) -> None:
        self.toks: list[tuple[str, str]] = []
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup or "bad"
            self.toks.append((kind, m.group(kind)))
        self.i = 0
        self.model = model
        self.depth = depth

    def peek(self) -> tuple[str, str]:
        return self.toks[self.i] if self.i < len(self.toks) else ("end", "")

    def take(self) -> tuple[str, str]:
        t = self.peek()
        self.i += 1
        return t

    def expect(self, op: str) -> None:
        if self.take() != ("op", op):
            raise ValueError(op)

    def parse(self) -> int | None:
        v = self.expr(0)
        if self.peek()[0] != "end":
            raise ValueError("trailing tokens")
        return v

    # binding powers
    _BIN = {
        "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "<": 7, ">": 7, "<=": 7, ">=": 7,
        "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10,
    }  # fmt: skip

    def expr(self, min_bp: int) -> int | None:
        left = self.unary()
        while True:
            kind, op = self.peek()
            if kind != "op":
                return left
            if op == "?" and min_bp == 0:
                self.take()
                a = self.expr(0)
                self.expect(":")
                b = self.expr(0)
                if left is None:
                    return a if a == b else None
                return a if left else b
            bp = self._BIN.get(op)
            if bp is None or bp <= min_bp:
                return left
            self.take()
            right = self.expr(bp)
            left = _binary(op, left, right)

    def unary(self) -> int | None:
        kind, tok = self.take()
        if kind == "num":
            return int(tok, 0) if not (len(tok) > 1 and tok[0] == "0" and tok[1].isdigit()) else int(tok, 8)
        if kind == "chr":
            return None
        if kind == "op":
            if tok == "(":
                v = self.expr(0)
                self.expect(")")
                return v
            v = self.unary()
            if tok == "!":
                return None if v is None else int(not v)
            if tok == "-":
                return None if v is None else -v
            if tok == "+":
                return v
            if tok == "~":
                return None if v is None else ~v
            raise ValueError(tok)
        if kind == "id":
            if tok == "defined":
                paren = self.peek() == ("op", "(")
                if paren:
                    self.take()
                k, name = self.take()
                if k != "id":
                    raise ValueError("defined")
                if paren:
                    self.expect(")")
                st = self.model.lookup(name).state
                return None if st is None else int(st)
            if self.peek() == ("op", "("):
                return self.call(tok)
            return self.ident(tok)
        raise ValueError(tok)

    def call(self, name: str) -> int | None:
        # Skip the balanced argument list; answer the few function-like forms we know.
        self.take()
        depth, args = 1, []
        while depth:
            kind, tok = self.take()
            if kind == "end":
                raise ValueError("unbalanced")
            if tok == "(":
                depth += 1
            elif tok == ")":
                depth -= 1
            if depth:
                args.append(tok)
        joined = "".join(args)
        if name in ("__has_include", "__has_include_next"):
            v = self.model.has_include(joined)
            return None if v is None else int(v)
        if name == "__has_builtin" and joined.startswith("__builtin_ia32_"):
            return int(self.model.target == X86_64)
        return None

    def ident(self, name: str) -> int | None:
        m = self.model.lookup(name)
        if m.state is False:
            return 0  # an undefined identifier is 0 in #if
        if m.state is None or m.body is None or self.depth >= _MAX_DEPTH:
            return None
        body = m.body.strip()
        if not body:
            return None
        try:
            return _Parser(body, self.model, self.depth + 1).parse()
        except (ValueError, IndexError, ZeroDivisionError, OverflowError, RecursionError):
            return None


def _binary(op: str, a: int | None, b: int | None) -> int | None:
    if op == "&&":
        if a == 0 or b == 0:
            return 0
        return None if a is None or b is None else 1
    if op == "||":
        if (a is not None and a != 0) or (b is not None and b != 0):
            return 1
        return None if a is None or b is None else 0
    if a is None or b is None:
        return None
    if op in ("/", "%") and b == 0:
        return None
    if op in ("<<", ">>") and not 0 <= b < 256:
        return None
    return int(_OPS[op](a, b))


_OPS: dict[str, Callable[[int, int], int | bool]] = {
    "|": lambda a, b: a | b, "^": lambda a, b: a ^ b, "&": lambda a, b: a & b, "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b, "<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b, "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b, "+": lambda a, b: a + b,
    "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: int(a / b), "%": lambda a, b: a % b,
}  # fmt: skip


def evaluate(text: str, model: Model) -> Tri:
    try:
        v = _Parser(text, model, 0).parse()
    except (ValueError, IndexError, ZeroDivisionError, OverflowError, RecursionError):
        return None
    return None if v is None else v != 0


# --- branches --------------------------------------------------------------------------------------


@dataclass
class Branch:
    line: int
    text: str  # as written: "#elif defined(__ARM_NEON)"
    x86: bool  # the condition names x86 (macros, headers)
    arm: bool  # the condition names arm64
    arm64: Tri = None  # does arm64 compile it (this branch and every enclosing one)
    x86_64: Tri = None


@dataclass
class Chain:
    """One #if … #elif … #else … #endif."""

    branches: list[Branch] = field(default_factory=list)
    closed: bool = False

    def arm64_path(self, other_than: Branch) -> bool:
        """Does arm64 compile another branch of this chain that is not x86 code (an #else, an
        #elif for NEON, a generic path)?"""
        return any(b is not other_than and b.arm64 is not False and not (b.x86 and not b.arm) for b in self.branches)


@dataclass(frozen=True)
class Region:
    start: int  # offset where it begins (it ends where the next begins)
    arm64: Tri
    x86_64: Tri
    stack: tuple[tuple[Chain, Branch], ...]  # enclosing branches, outermost first

    def guard(self) -> tuple[Chain, Branch] | None:
        """The enclosing branch that keeps arm64 out: the outermost one arm64 does not compile, or
        (when that cannot be decided) one whose condition is about x86 and not about arm64."""
        for chain, br in self.stack:
            if br.arm64 is False and br.x86_64 is not False:
                return chain, br
        for chain, br in self.stack:
            if br.arm64 is None and br.x86 and not br.arm:
                return chain, br
        return None

    def undecided(self) -> tuple[Chain, Branch] | None:
        """The innermost enclosing branch arm64 may or may not compile (no arch in its condition)."""
        for chain, br in reversed(self.stack):
            if br.arm64 is None:
                return chain, br
        return None


def _x86_context(stack: tuple[tuple[Chain, Branch], ...], body: str) -> bool:
    """Is a #define here about x86: inside a branch that tests for x86 (and not arm64), or made of
    x86 macros (`#define HAVE_FAST (defined(__AVX2__))`)?"""
    if any(br.x86 and not br.arm for _, br in stack):
        return True
    x86, arm = _flavour(body)
    return x86 and not arm


def _names(text: str) -> list[str]:
    return [n for n in _IDENT.findall(text) if n != "defined"]


@functools.lru_cache(maxsize=16384)
def _flavour(text: str) -> tuple[bool, bool]:
    names = _names(text)
    headers = re.findall(r"<([^>]+)>|\"([^\"]+)\"", text)
    x86 = any(vocab.x86_macro(n) for n in names) or any(vocab.x86_header(a or b) for a, b in headers)
    arm = any(vocab.arm_macro(n) for n in names) or any(vocab.ARM_HEADERS.match(a or b) for a, b in headers)
    return x86, arm


def _tracked(directives: list[Directive]) -> set[str]:
    """Macros whose definitions can matter: those conditions test, and those their bodies use
    (big headers #define thousands of names no #if ever looks at)."""
    names: set[str] = set()
    bodies: dict[str, list[str]] = {}
    for d in directives:
        if d.name in ("if", "elif", "ifdef", "ifndef", "elifdef", "elifndef"):
            names.update(_IDENT.findall(d.body))
        elif d.name == "define":
            m = _IDENT.match(d.body)
            if m:
                bodies.setdefault(m.group(), []).append(d.body[m.end() :])
    todo = [n for n in names if n in bodies]
    while todo:
        for body in bodies.pop(todo.pop(), ()):
            for n in _IDENT.findall(body):
                if n not in names:
                    names.add(n)
                    if n in bodies:
                        todo.append(n)
    return names


_NOT_DEFINED = re.compile(r"!\s*defined\s*(?:\(\s*([A-Za-z_]\w*)\s*\)|([A-Za-z_]\w*))")


def _defaults(directives: list[Directive]) -> set[int]:
    """Indexes of `#ifndef X` (or `#if !defined(X)`) blocks that #define X themselves: include
    guards and overridable defaults (`#ifndef HWY_ENABLE_ASM // allow override`). They are read
    as taken: the code means what it says unless the build overrides it."""
    out: set[int] = set()
    open_: list[tuple[int, str]] = []
    defined: set[str] = set()
    for i, d in enumerate(directives):
        if d.name in ("if", "ifdef", "ifndef"):
            tested = ""
            if d.name == "ifndef":
                tested = (d.body.split() or [""])[0]
            elif d.name == "if":
                m = _NOT_DEFINED.fullmatch(d.body.strip())
                tested = (m.group(1) or m.group(2)) if m else ""
            open_.append((i, tested))
        elif d.name == "define":
            defined.add((d.body.split() or [""])[0].split("(")[0])
        elif d.name == "endif" and open_:
            i0, tested = open_.pop()
            if tested and tested in defined:
                out.add(i0)
    return out


_DEFINE = re.compile(r"([A-Za-z_]\w*)(\()?\s*(.*)", re.DOTALL)


@dataclass
class _Frame:
    chain: Chain
    parent: tuple[Tri, Tri]
    prev: tuple[Tri, Tri]  # "an earlier branch of the chain was taken", per target


class Simulation:
    """Walk the directives once with both models; regions, defines and includes with their state."""

    def __init__(self, directives: list[Directive], eof: int) -> None:
        self.models = (Model(ARM64), Model(X86_64))
        self.regions: list[Region] = [Region(0, True, True, ())]
        self.chains: list[Chain] = []
        self.errors: list[tuple[Directive, Region]] = []  # #error directives and where they are
        self.includes: list[tuple[Directive, Region]] = []
        self.defines: list[tuple[Directive, Region]] = []
        self.pragmas: list[tuple[Directive, Region]] = []
        self.arm_branch = False  # some condition tests for arm64 and arm64 compiles it
        self.x86_derived: set[str] = set()  # macros this file defines from x86 conditions
        stack: list[_Frame] = []
        defaults = _defaults(directives)
        tracked = _tracked(directives)
        for i, d in enumerate(directives):
            name = d.name
            cur = self.regions[-1]
            if name in ("if", "ifdef", "ifndef", "elif", "else", "elifdef", "elifndef"):
                cond = d.body
                if name in ("ifdef", "elifdef"):
                    cond = f"defined({d.body.split()[0] if d.body.split() else '_'})"
                elif name in ("ifndef", "elifndef"):
                    cond = f"!defined({d.body.split()[0] if d.body.split() else '_'})"
                if name in ("if", "ifdef", "ifndef"):
                    frame = _Frame(Chain(), (cur.arm64, cur.x86_64), (False, False))
                    stack.append(frame)
                    self.chains.append(frame.chain)
                elif not stack:
                    continue  # a stray #elif/#else: ignore, as compilers report it
                frame = stack[-1]
                truth: tuple[Tri, Tri]
                if name == "else":
                    truth = (True, True)
                    x86, arm = False, False
                elif i in defaults:
                    # `#ifndef X` + `#define X`: an include guard, or a default the build may override;
                    # either way the code reads as the file intends.
                    truth = (True, True)
                    x86, arm = self._flavour(cond)
                else:
                    truth = (evaluate(cond, self.models[0]), evaluate(cond, self.models[1]))
                    x86, arm = self._flavour(cond)
                taken = (
                    and3(frame.parent[0], not3(frame.prev[0]), truth[0]),
                    and3(frame.parent[1], not3(frame.prev[1]), truth[1]),
                )
                frame.prev = (or3(frame.prev[0], truth[0]), or3(frame.prev[1], truth[1]))
                br = Branch(d.line, f"#{name} {d.body}".strip(), x86, arm, taken[0], taken[1])
                if arm and taken[0] is not False:
                    self.arm_branch = True
                frame.chain.branches.append(br)
                outer = tuple((f.chain, f.chain.branches[-1]) for f in stack)
                self.regions.append(Region(d.end, taken[0], taken[1], outer))
            elif name == "endif":
                if not stack:
                    continue
                frame = stack.pop()
                frame.chain.closed = True
                outer = tuple((f.chain, f.chain.branches[-1]) for f in stack)
                self.regions.append(Region(d.end, frame.parent[0], frame.parent[1], outer))
            elif name == "define":
                m = _DEFINE.match(d.body)
                if m and m.group(1) in tracked and _x86_context(cur.stack, m.group(3)):
                    # HWY_ENABLE_MONITORX set from `#if HWY_ARCH_X86 …`: a project macro made from x86
                    # ones is itself about x86.
                    self.x86_derived.add(m.group(1))
                if m and m.group(1) in tracked:
                    body = None if m.group(2) else m.group(3)
                    for model, here in zip(self.models, (cur.arm64, cur.x86_64), strict=True):
                        model.define(m.group(1), body, here)
                    self.defines.append((d, cur))
            elif name == "undef":
                parts = d.body.split()
                if parts and parts[0] in tracked:
                    for model, here in zip(self.models, (cur.arm64, cur.x86_64), strict=True):
                        model.undef(parts[0], here)
            elif name in ("include", "include_next", "import"):
                self.includes.append((d, cur))
            elif name == "error":
                self.errors.append((d, cur))
            elif name == "pragma":
                self.pragmas.append((d, cur))
        self._starts = [r.start for r in self.regions]
        self.eof = eof

    def _flavour(self, cond: str) -> tuple[bool, bool]:
        x86, arm = _flavour(cond)
        if not x86 and self.x86_derived:
            x86 = any(n in self.x86_derived for n in _IDENT.findall(cond))
        return x86, arm

    def at(self, offset: int) -> Region:
        return self.regions[bisect.bisect_right(self._starts, offset) - 1]

    def iter_regions(self) -> Iterator[tuple[int, int, Region]]:
        for i, r in enumerate(self.regions):
            end = self.regions[i + 1].start if i + 1 < len(self.regions) else self.eof
            if end > r.start:
                yield r.start, end, r
