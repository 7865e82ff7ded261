"""CMakeLists.txt and *.cmake: x86 flags in commands, under the `if()`s that guard them.

Conditions are evaluated for linux/arm64 and linux/x86-64 with what CMake knows there
(CMAKE_SYSTEM_PROCESSOR is aarch64 or x86_64, MSVC/WIN32/APPLE are false), the variables the
file sets (`set`, `option`) and the results of compiler probes (`check_c_compiler_flag(-mavx2
HAVE_AVX2)` is false on arm64). Flags inside probes, `message()` and `option()` texts do not
count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from archlint.native import vocab
from archlint.native.buildfiles.fixes import CMAKE_TEST, wrap_fix
from archlint.native.buildfiles.guards import BuildGuard, FlagSite, Logic, Pair, Tri, live, next_branch, summarize
from archlint.native.interface import Summary
from archlint.source.interface import FixSpec

_TOKEN = re.compile(
    r"(?P<bcomment>#\[(?P<e1>=*)\[.*?\](?P=e1)\])|(?P<comment>#[^\n]*)|(?P<bracket>\[(?P<e2>=*)\[.*?\](?P=e2)\])"
    r"|(?P<quoted>\"(?:[^\"\\]|\\.)*\")|(?P<open>\()|(?P<close>\))|(?P<ws>\s+)"
    r"|(?P<word>(?:[^\s()#\"\\]|\\.)(?:[^\s()\"\\]|\\.|\"(?:[^\"\\]|\\.)*\")*)",
    re.DOTALL,
)
_PROBES = frozenset(
    "check_c_compiler_flag check_cxx_compiler_flag check_compiler_flag check_c_source_compiles "
    "check_cxx_source_compiles check_source_compiles check_c_source_runs check_cxx_source_runs check_source_runs "
    "check_include_file check_include_files check_include_file_cxx check_symbol_exists check_cxx_symbol_exists "
    "check_function_exists check_linker_flag try_compile try_run".split()
)
_QUIET = frozenset({"message", "option", "cmake_dependent_option", "include", "find_package", "project",
                    "cmake_minimum_required", "install"})  # fmt: skip
_SOURCE_CMDS = frozenset(
    "add_library add_executable target_sources pybind11_add_module python_add_library python3_add_library "
    "nanobind_add_module add_cython_target cython_transpile".split()
)
_DEFINE_CMDS = frozenset({"add_definitions", "add_compile_definitions", "target_compile_definitions"})
_WRAPPABLE = frozenset({"add_compile_options", "target_compile_options", "add_definitions", "add_link_options",
                        "target_link_options", "set_source_files_properties", "set_property", "string", "set",
                        "list", "set_target_properties"})  # fmt: skip
_SRC = re.compile(r"\.(?:c|cc|cpp|cxx|c\+\+|pyx|f|f90)$", re.IGNORECASE)
_FALSE = re.compile(r"^(?:0|OFF|NO|FALSE|N|IGNORE|NOTFOUND|.*-NOTFOUND|)$", re.IGNORECASE)
_TRUE = re.compile(r"^(?:1|ON|YES|TRUE|Y|[1-9]\d*)$", re.IGNORECASE)
_VARREF = re.compile(r"\$\{([A-Za-z_][\w.+-]*)\}")
_ARM64, _X86 = 0, 1

# What CMake sets on Linux, per target: a variable's possible values.
_KNOWN: tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]] = tuple(
    {
        "CMAKE_SYSTEM_PROCESSOR": frozenset({cpu}), "CMAKE_HOST_SYSTEM_PROCESSOR": frozenset({cpu}),
        "CMAKE_SYSTEM_NAME": frozenset({"Linux"}), "CMAKE_HOST_SYSTEM_NAME": frozenset({"Linux"}),
        "CMAKE_C_COMPILER_ID": ids, "CMAKE_CXX_COMPILER_ID": ids, "CMAKE_Fortran_COMPILER_ID": ids | {"Flang"},
        "CMAKE_C_COMPILER_ARCHITECTURE_ID": frozenset({""}), "CMAKE_CXX_COMPILER_ARCHITECTURE_ID": frozenset({""}),
        "CMAKE_GENERATOR_PLATFORM": frozenset({""}), "CMAKE_OSX_ARCHITECTURES": frozenset({""}),
        "CMAKE_SIZEOF_VOID_P": frozenset({"8"}), "CMAKE_LIBRARY_ARCHITECTURE": frozenset({f"{cpu}-linux-gnu"}),
        "MSVC": frozenset({""}), "WIN32": frozenset({""}), "APPLE": frozenset({""}), "CYGWIN": frozenset({""}),
        "MINGW": frozenset({""}), "MSYS": frozenset({""}), "IOS": frozenset({""}), "ANDROID": frozenset({""}),
        "BORLAND": frozenset({""}), "WATCOM": frozenset({""}), "UNIX": frozenset({"1"}), "LINUX": frozenset({"1"}),
        "CMAKE_HOST_UNIX": frozenset({"1"}), "CMAKE_HOST_WIN32": frozenset({""}), "CMAKE_HOST_APPLE": frozenset({""}),
        "MSVC_VERSION": frozenset({""}), "CMAKE_CL_64": frozenset({""}),
    }
    for cpu, ids in (("aarch64", frozenset({"GNU", "Clang"})),
                     ("x86_64", frozenset({"GNU", "Clang", "Intel", "IntelLLVM"})))
)  # type: ignore[assignment]  # fmt: skip
_PROCESSOR_VARS = re.compile(r"PROCESSOR|ARCHITECTURE|_ARCH\b|PLATFORM|OSX_ARCH", re.IGNORECASE)
_X86_VALUE = re.compile(r"(?i)x86|amd64|x64|i[3-6]86|ia32|\bem64t\b")
_ARM_VALUE = re.compile(r"(?i)aarch64|arm64|\barm\b|armv\d")


@dataclass
class Arg:
    text: str  # as written (quotes kept)
    value: str  # unquoted
    line: int
    column: int
    quoted: bool = False


@dataclass
class Command:
    name: str  # lower-cased
    args: list[Arg]
    line: int
    end_line: int
    column: int


def commands(text: str) -> list[Command]:
    out: list[Command] = []
    line = 1
    line_start = 0
    pending: tuple[str, int, int] | None = None  # a word that may start a command
    cur: Command | None = None
    depth = 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        tok = m.group()
        col = m.start() - line_start + 1
        if kind in ("ws", "comment", "bcomment"):
            pass
        elif cur is None:
            if kind == "word" and re.fullmatch(r"[A-Za-z_]\w*", tok):
                pending = (tok, line, col)
            elif kind == "open" and pending is not None:
                cur = Command(pending[0].lower(), [], pending[1], pending[1], pending[2])
                depth = 1
                pending = None
            else:
                pending = None
        elif kind == "open":
            depth += 1
            cur.args.append(Arg("(", "(", line, col))
        elif kind == "close":
            depth -= 1
            if depth == 0:
                cur.end_line = line
                out.append(cur)
                cur = None
            else:
                cur.args.append(Arg(")", ")", line, col))
        elif kind == "quoted":
            cur.args.append(Arg(tok, tok[1:-1], line, col, quoted=True))
        elif kind == "bracket":
            inner = re.match(r"\[(=*)\[(.*)\]\1\]", tok, re.DOTALL)
            cur.args.append(Arg(tok, inner.group(2) if inner else tok, line, col, quoted=True))
        elif kind == "word":
            cur.args.append(Arg(tok, tok, line, col))
        nl = tok.count("\n")
        if nl:
            line += nl
            line_start = m.start() + tok.rfind("\n") + 1
    if cur is not None:  # unterminated at the end of the file: CMake refuses it, we read what is there
        cur.end_line = line
        out.append(cur)
    return out


Values = frozenset[str] | None  # None: unknown


@dataclass
class _Model:
    target: int
    vars: dict[str, Values] = field(default_factory=dict)

    def get(self, name: str) -> Values:
        if name in self.vars:
            return self.vars[name]
        known = _KNOWN[self.target].get(name)
        if known is not None:
            return known
        if name.startswith("CMAKE_") or name.startswith("ENV{"):
            return None
        if self.target == _ARM64 and vocab.x86_macro(name) and not vocab.arm_macro(name):
            return frozenset({""})  # HAVE_AVX2, USE_SSE42: never set for arm64
        if self.target == _X86 and vocab.arm_macro(name) and not vocab.x86_macro(name):
            return frozenset({""})
        return None

    def expand(self, s: str) -> Values:
        if "${" not in s:
            return frozenset({s})
        outs = [""]
        pos = 0
        for m in _VARREF.finditer(s):
            vals = self.get(m.group(1))
            if vals is None or len(vals) > 4:
                return None
            outs = [o + s[pos : m.start()] + v for o in outs for v in vals]
            pos = m.end()
        return frozenset(o + s[pos:] for o in outs)


class _Cond(Logic):
    """CMake's if() grammar over the argument list, three-valued, one model."""

    words = ("OR", "AND", "NOT")

    _UNARY = frozenset({"EXISTS", "COMMAND", "DEFINED", "TARGET", "POLICY", "TEST", "IS_DIRECTORY", "IS_SYMLINK",
                        "IS_ABSOLUTE", "IS_READABLE", "IS_WRITABLE", "IS_EXECUTABLE"})  # fmt: skip
    _BINARY = frozenset({"MATCHES", "STREQUAL", "EQUAL", "LESS", "GREATER", "LESS_EQUAL", "GREATER_EQUAL",
                         "STRLESS", "STRGREATER", "STRLESS_EQUAL", "STRGREATER_EQUAL", "VERSION_LESS",
                         "VERSION_GREATER", "VERSION_EQUAL", "VERSION_LESS_EQUAL", "VERSION_GREATER_EQUAL",
                         "IN_LIST", "IS_NEWER_THAN", "PATH_EQUAL"})  # fmt: skip

    def __init__(self, args: list[Arg], model: _Model) -> None:
        self.args = args
        self.i = 0
        self.m = model

    def peek(self) -> str:
        a = self.args[self.i] if self.i < len(self.args) else None
        return "" if a is None or a.quoted else a.value

    def run(self) -> Tri:
        try:
            v = self.or_()
        except IndexError:
            return None
        return v if self.i >= len(self.args) else None

    def operand(self) -> Tri:
        return self.primary()

    def primary(self) -> Tri:
        a = self.args[self.i]
        if not a.quoted and a.value == "(":
            self.i += 1
            v = self.or_()
            if self.peek() == ")":
                self.i += 1
            return v
        if not a.quoted and a.value in self._UNARY:
            self.i += 2
            if a.value == "DEFINED":
                vals = self.m.get(self.args[self.i - 1].value)
                return None if vals is None else vals != frozenset({""})
            return None
        self.i += 1
        op = self.peek()
        if op in self._BINARY:
            self.i += 1
            b = self.args[self.i]
            self.i += 1
            return self._binary(a, op, b)
        return self._truth(a)

    def _values(self, a: Arg, literal: bool = False) -> Values:
        """An unquoted word names a variable when one is set; else it is itself (`literal`) or,
        as a bare truth test, a variable set elsewhere (cache, command line, another file)."""
        if a.quoted or not re.fullmatch(r"[A-Za-z_][\w.+-]*", a.value):
            return self.m.expand(a.value)
        if a.value in self.m.vars or a.value in _KNOWN[self.m.target]:
            return self.m.get(a.value)
        return frozenset({a.value}) if literal else self.m.get(a.value)

    def _truth(self, a: Arg) -> Tri:
        if not a.quoted and (_TRUE.match(a.value) or (_FALSE.match(a.value) and a.value)):
            return bool(_TRUE.match(a.value))
        vals = self._values(a)
        if vals is None:
            return None
        truths = {not _FALSE.match(v) for v in vals}
        return truths.pop() if len(truths) == 1 else None

    def _binary(self, a: Arg, op: str, b: Arg) -> Tri:
        left = self._values(a, literal=True)
        right = self.m.expand(b.value) if op == "MATCHES" else self._values(b, literal=True)
        if left is None or right is None:
            return None
        results = set()
        for x in left:
            for y in right:
                if op == "MATCHES":
                    try:
                        results.add(re.search(y, x) is not None)
                    except re.error:
                        return None
                elif op == "STREQUAL":
                    results.add(x == y)
                elif op == "IN_LIST":
                    return None
                else:
                    return None
        return results.pop() if len(results) == 1 else None


def _flavour(args: list[Arg]) -> tuple[bool, bool]:
    text = " ".join(a.value for a in args)
    words = re.findall(r"[A-Za-z_][\w.+-]*", text)
    x86 = bool(_X86_VALUE.search(text)) or any(vocab.x86_macro(w) for w in words) or bool(vocab.flags_in(text))
    arm = bool(_ARM_VALUE.search(text)) or any(vocab.arm_macro(w) for w in words)
    proc = any(_PROCESSOR_VARS.search(w) for w in words)
    return x86 or (proc and not arm), arm


@dataclass
class _Frame:
    prev: Pair
    guard: BuildGuard


def analyze_cmake(data: bytes) -> Summary:
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    models = (_Model(_ARM64), _Model(_X86))
    stack: list[_Frame] = []
    sites: list[FlagSite] = []
    sources: list[tuple[str, int, tuple[BuildGuard, ...]]] = []
    defines: list[tuple[str, int, tuple[BuildGuard, ...]]] = []
    cmds = commands(text)
    line_owner: dict[int, int] = {}
    for i, c in enumerate(cmds):
        for ln in range(c.line, c.end_line + 1):
            line_owner[ln] = -1 if ln in line_owner else i
    for i, c in enumerate(cmds):
        name = c.name
        if name in ("if", "elseif", "else", "endif"):
            _branch(c, stack, models)
            continue
        guards = tuple(f.guard for f in stack)
        if name in ("set", "option") and c.args:
            _assign(c, models, live(guards))
            if c.args[0].value in ("CMAKE_REQUIRED_FLAGS", "CMAKE_REQUIRED_DEFINITIONS", "CMAKE_REQUIRED_OPTIONS"):
                continue  # the flags of the next probe
        if name in _PROBES:
            _probe_result(c, models)
            continue
        if name in _QUIET:
            continue
        if name in _SOURCE_CMDS or (name in ("set", "list") and len(c.args) > 1):
            for a in c.args[1:]:
                if _SRC.search(a.value):
                    sources.append((a.value, a.line, guards))
        if name in _DEFINE_CMDS:
            for a in c.args:
                m = re.match(r"(?:-D)?([A-Za-z_]\w*)", a.value)
                if m and vocab.x86_macro(m.group(1)) and a.value not in ("PUBLIC", "PRIVATE", "INTERFACE"):
                    defines.append((m.group(1), a.line, guards))
        flagged = [(a, vocab.flags_in(" " + a.value)) for a in c.args]
        flagged = [(a, f) for a, f in flagged if f]
        if not flagged:
            continue
        fix = _fix(c, lines, line_owner, i)
        for a, _ in flagged:
            g = guards + _genex_guard(a.value)
            sites.append(FlagSite(a.value, a.line, a.column, g, group=(c.line, c.column), fix=fix))
    return summarize(sites, sources, defines, "CMake")


def _branch(c: Command, stack: list[_Frame], models: tuple[_Model, _Model]) -> None:
    if c.name == "endif":
        if stack:
            stack.pop()
        return
    if c.name == "if":
        stack.append(_Frame((False, False), BuildGuard("", True, True)))
    if not stack:
        return
    frame = stack[-1]
    if c.name == "else":
        truth: Pair = (True, True)
        x86, arm = frame.guard.x86, frame.guard.arm
        text = f"the else() of `{frame.guard.text.split('`')[1] if '`' in frame.guard.text else ''}`"
    else:
        truth = (_Cond(c.args, models[0]).run(), _Cond(c.args, models[1]).run())
        x86, arm = _flavour(c.args)
        text = f"`{c.name}({' '.join(a.text for a in c.args)})`"
    eff, frame.prev = next_branch(frame.prev, truth)
    frame.guard = BuildGuard(f"{text} (line {c.line})", eff[0], eff[1], x86, arm)


def _assign(c: Command, models: tuple[_Model, _Model], live: Pair) -> None:
    var = c.args[0].value
    if c.name == "option":
        rest = [a.value for a in c.args[2:3]] or ["OFF"]
        values = [rest[0]]
    else:
        values = []
        for a in c.args[1:]:
            if not a.quoted and a.value in ("CACHE", "PARENT_SCOPE"):
                break
            values.append(a.value)
    for t, model in enumerate(models):
        if live[t] is False:
            continue
        vals = model.expand(";".join(values))
        model.vars[var] = vals if live[t] is True else None


def _probe_result(c: Command, models: tuple[_Model, _Model]) -> None:
    if len(c.args) < 2:
        return
    var = c.args[-1].value
    x86 = any(vocab.flags_in(" " + a.value) or vocab.X86_IDENT.search(a.value) or vocab.x86_header(a.value)
              for a in c.args[:-1])  # fmt: skip
    if x86:
        models[0].vars[var] = frozenset({""})  # aarch64 compilers reject x86 flags, code and headers
        models[1].vars[var] = None


def _genex_guard(value: str) -> tuple[BuildGuard, ...]:
    """A generator expression around a flag: `$<$<CXX_COMPILER_ID:MSVC>:/arch:AVX2>`."""
    if "$<" not in value:
        return ()
    cond = value[: value.rfind(":")] if ":" in value else value
    if re.search(r"MSVC|WIN32|PLATFORM_ID:Windows", cond):
        return (BuildGuard(f"`{value}`", False, False),)
    if _X86_VALUE.search(cond) or re.search(r"PROCESSOR", cond):
        return (BuildGuard(f"`{value}`", False, None, True, False),)
    return ()


def _fix(c: Command, lines: list[str], owner: dict[int, int], index: int) -> FixSpec | None:
    """Safe: the command on lines of its own, every flag in it x86-only -> wrap it in a test of
    CMAKE_SYSTEM_PROCESSOR (the target's CPU, cross builds included)."""
    if c.name not in _WRAPPABLE or any(owner.get(ln) != index for ln in range(c.line, c.end_line + 1)):
        return None
    flags = [a for a in c.args if a.value.startswith(("-", "/")) or " -" in a.value]
    for a in flags:
        tokens = [t for t in re.split(r"\s+", a.value.strip()) if t and not t.startswith("${")]
        if not tokens or any(vocab.flag_kind(t) != "x86" for t in tokens):
            return None
    if c.name in ("set", "string", "list") and not flags:
        return None
    return wrap_fix(lines, c.line, c.end_line, CMAKE_TEST, "endif()", "these flags")
