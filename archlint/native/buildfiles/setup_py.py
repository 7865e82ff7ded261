"""setup.py: x86 compiler flags in `Extension(...)` arguments and wherever they are built
(`extra_compile_args=ARGS`, `ARGS = [...]`, `args.append("-mavx2")`, per-compiler tables in a
`build_ext` subclass), each with the `if` that guards it, evaluated for linux/arm64.

Every string literal that is a flag (or a flags string) counts, wherever it sits: setup.py files
build flags in many shapes, and a string such as "-mavx2" means nothing else. Strings that are
only tested or removed (`flags.remove("-march=native")`, `if "-mavx2" in flags`) do not count,
nor do flags passed to a compiler probe (`has_flag(compiler, "-mavx2")`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from archlint.native import vocab
from archlint.native.buildfiles.guards import BuildGuard, FlagSite, summarize
from archlint.native.interface import Summary
from archlint.source.interface import EditSpec, FixSpec
from archlint.source.nodes import dotted, simple_value
from archlint.source.positions import spans

ARM64, X86_64 = "arm64", "x86-64"
_MODEL: dict[str, dict[str, Any]] = {
    ARM64: {"machine": "aarch64", "platform": "linux-aarch64"},
    X86_64: {"machine": "x86_64", "platform": "linux-x86_64"},
}
_MACHINE = frozenset({"platform.machine", "platform.processor", "os.uname().machine", "platform.uname().machine"})
_PLATFORM = frozenset({"sysconfig.get_platform", "distutils.util.get_platform", "sysconfig.get_host_platform",
                       "distutils.util.get_host_platform", "get_platform"})  # fmt: skip
_CONSTANTS: dict[str, Any] = {
    "sys.platform": "linux", "os.name": "posix", "platform.system": "Linux", "sys.maxsize": 2**63 - 1,
    "platform.architecture": ("64bit", "ELF"), "struct.calcsize": 8,
}  # fmt: skip
_CASE: dict[str, Callable[[str], str]] = {"lower": str.lower, "upper": str.upper, "strip": str.strip,
                                           "casefold": str.casefold}  # fmt: skip
# Calls that only test whether the compiler takes a flag (pybind11's has_flag, numpy's helpers).
_PROBE = re.compile(r"(?i)^(?:has|check|test|try|supports?|compiler_has|cc_has)_?\w*(?:flag|arg|option)s?$|flag_?works")
_DROPPERS = frozenset({"remove", "discard", "replace", "startswith", "endswith", "index", "count"})
_SOURCE = re.compile(r"\.(?:c|cc|cpp|cxx|c\+\+|pyx|f|f90)$", re.IGNORECASE)
UNKNOWN = object()


@dataclass
class _Env:
    target: str
    names: dict[str, Any] = field(default_factory=dict)


def evaluate(expr: cst.BaseExpression, env: _Env) -> Any:
    """The value of `expr` on linux/<target>, or UNKNOWN."""
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        v = simple_value(expr) if isinstance(expr, cst.SimpleString) else None
        return UNKNOWN if v is None else v
    if isinstance(expr, cst.Integer):
        return int(expr.value, 0)
    if isinstance(expr, cst.Name):
        if expr.value in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[expr.value]
        return env.names.get(expr.value, UNKNOWN)
    if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
        vals = [evaluate(e.value, env) for e in expr.elements if isinstance(e, cst.Element)]
        return UNKNOWN if any(v is UNKNOWN for v in vals) else tuple(vals)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
        v = evaluate(expr.expression, env)
        return UNKNOWN if v is UNKNOWN else not v
    if isinstance(expr, cst.BooleanOperation):
        left = evaluate(expr.left, env)
        if isinstance(expr.operator, cst.And):
            if left is not UNKNOWN and not left:
                return left
            right = evaluate(expr.right, env)
            if right is not UNKNOWN and not right:
                return right
            return UNKNOWN if UNKNOWN in (left, right) else right
        if left is not UNKNOWN and left:
            return left
        right = evaluate(expr.right, env)
        if right is not UNKNOWN and right:
            return right
        return UNKNOWN if UNKNOWN in (left, right) else right
    if isinstance(expr, cst.Comparison):
        return _compare(expr, env)
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
        base = evaluate(expr.value, env)
        idx = evaluate(expr.slice[0].slice.value, env)
        if isinstance(base, (tuple, str)) and isinstance(idx, int) and -len(base) <= idx < len(base):
            return base[idx]
        if dotted(expr.value) is None and _call_name(expr.value) in ("os.uname", "platform.uname") and idx == 4:
            return _MODEL[env.target]["machine"]
        return UNKNOWN
    if isinstance(expr, cst.Attribute):
        text = _text(expr)
        if text in _CONSTANTS:
            return _CONSTANTS[text]
        if text.endswith(".compiler_type"):
            return "unix"
        if text in _MACHINE:
            return _MODEL[env.target]["machine"]
        return UNKNOWN
    if isinstance(expr, cst.Call):
        name = _call_name(expr.func)
        if name in _MACHINE:
            return _MODEL[env.target]["machine"]
        if name in _PLATFORM:
            return _MODEL[env.target]["platform"]
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name and _PROBE.search(name.rsplit(".", 1)[-1]) and _mentions_x86(expr):
            return False if env.target == ARM64 else UNKNOWN  # an x86 flag is never accepted on arm64
        if isinstance(expr.func, cst.Attribute):
            recv = evaluate(expr.func.value, env)
            meth = expr.func.attr.value
            if isinstance(recv, str):
                if meth in _CASE and not expr.args:
                    return _CASE[meth](recv)
                if meth in ("startswith", "endswith") and len(expr.args) == 1:
                    arg = evaluate(expr.args[0].value, env)
                    if isinstance(arg, (str, tuple)):
                        return getattr(recv, meth)(arg)
        return UNKNOWN
    return UNKNOWN


def _compare(expr: cst.Comparison, env: _Env) -> Any:
    left = evaluate(expr.left, env)
    result: Any = True
    for target in expr.comparisons:
        right = evaluate(target.comparator, env)
        if left is UNKNOWN or right is UNKNOWN:
            result = UNKNOWN if result is not False else False
            left = right
            continue
        op = target.operator
        try:
            if isinstance(op, cst.Equal):
                ok = left == right
            elif isinstance(op, cst.NotEqual):
                ok = left != right
            elif isinstance(op, cst.In):
                ok = left in right
            elif isinstance(op, cst.NotIn):
                ok = left not in right
            elif isinstance(op, cst.GreaterThan):
                ok = left > right
            elif isinstance(op, cst.LessThan):
                ok = left < right
            elif isinstance(op, cst.GreaterThanEqual):
                ok = left >= right
            elif isinstance(op, cst.LessThanEqual):
                ok = left <= right
            else:
                return UNKNOWN
        except TypeError:
            return UNKNOWN
        if not ok:
            return False
        left = right
    return result


def _call_name(func: cst.BaseExpression) -> str:
    if isinstance(func, cst.Call):
        return _call_name(func.func) + "()"
    if isinstance(func, cst.Attribute):
        inner = _call_name(func.value)
        return f"{inner}.{func.attr.value}" if inner else ""
    if isinstance(func, cst.Name):
        return func.value
    return ""


def _text(expr: cst.BaseExpression) -> str:
    return _call_name(expr)


def _mentions_x86(node: cst.CSTNode) -> bool:
    code = cst.Module([]).code_for_node(node)
    for s in re.findall(r"[-/]?[A-Za-z_][\w.+=:-]*", code):
        if vocab.flag_kind(s) == "x86" or vocab.x86_macro(s) or s.lower() in ("x86_64", "amd64", "i686", "x86"):
            return True
    return False


def _flavour(node: cst.CSTNode) -> tuple[bool, bool]:
    code = cst.Module([]).code_for_node(node)
    x86 = _mentions_x86(node)
    arm = bool(re.search(r"(?i)aarch64|arm64|\barm\b|neon", code))
    return x86, arm


class _Visitor(cst.CSTVisitor):
    def __init__(self) -> None:
        self.envs = (_Env(ARM64), _Env(X86_64))
        self.guards: list[BuildGuard] = []
        self.calls: list[str] = []
        self.sites: list[tuple[cst.CSTNode, str, tuple[BuildGuard, ...], bool, cst.List | None]] = []
        self.sources: list[tuple[cst.CSTNode, str, tuple[BuildGuard, ...]]] = []
        self.defines: list[tuple[cst.CSTNode, str, tuple[BuildGuard, ...]]] = []
        self.lists: list[cst.List] = []
        self.depth = 0  # function nesting: names assigned inside functions are not module constants

    # names: module-level constants feed the guards (IS_X86 = platform.machine() in (...))
    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            name = node.targets[0].target.value
            for env in self.envs:
                v = evaluate(node.value, env)
                if name in env.names and env.names[name] != v:
                    v = UNKNOWN
                env.names[name] = v

    def _push(self, test: cst.BaseExpression, negate: bool) -> None:
        vals = []
        for env in self.envs:
            v = evaluate(test, env)
            vals.append(None if v is UNKNOWN else (not v) if negate else bool(v))
        x86, arm = _flavour(test)
        text = " ".join(cst.Module([]).code_for_node(test).split())
        self.guards.append(BuildGuard(("not " if negate else "") + f"`{text}`", vals[0], vals[1], x86, arm))

    def visit_If_body(self, node: cst.If) -> None:
        self._push(node.test, False)

    def leave_If_body(self, node: cst.If) -> None:
        self.guards.pop()

    def visit_If_orelse(self, node: cst.If) -> None:
        self._push(node.test, True)

    def leave_If_orelse(self, node: cst.If) -> None:
        self.guards.pop()

    def visit_IfExp_body(self, node: cst.IfExp) -> None:
        self._push(node.test, False)

    def leave_IfExp_body(self, node: cst.IfExp) -> None:
        self.guards.pop()

    def visit_IfExp_orelse(self, node: cst.IfExp) -> None:
        self._push(node.test, True)

    def leave_IfExp_orelse(self, node: cst.IfExp) -> None:
        self.guards.pop()

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(_call_name(node.func).rsplit(".", 1)[-1])

    def leave_Call(self, node: cst.Call) -> None:
        self.calls.pop()

    def visit_Comparison(self, node: cst.Comparison) -> bool:
        return False  # "-mavx2" in flags: a test, not a flag

    def visit_List(self, node: cst.List) -> None:
        self.lists.append(node)

    def leave_List(self, node: cst.List) -> None:
        self.lists.pop()

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        value = simple_value(node)
        if value is None or (self.calls and self.calls[-1] in _DROPPERS):
            return
        probe = any(_PROBE.search(c) for c in self.calls)
        if _SOURCE.search(value.strip()):
            self.sources.append((node, value.strip(), tuple(self.guards)))
        if vocab.flags_in(" " + value) or vocab.flag_kind(value):
            owner = self.lists[-1] if self.lists else None
            self.sites.append((node, value, tuple(self.guards), probe, owner))
        for m in re.finditer(r"(?:^|\s)-D([A-Za-z_]\w*)", value):
            if vocab.x86_macro(m.group(1)):
                self.defines.append((node, m.group(1), tuple(self.guards)))

    def visit_Tuple(self, node: cst.Tuple) -> None:
        # define_macros=[("HAVE_AVX2", "1")]: an x86 feature macro for every platform.
        if len(node.elements) == 2 and isinstance(node.elements[0].value, cst.SimpleString):
            name = simple_value(node.elements[0].value) or ""
            if re.fullmatch(r"[A-Za-z_]\w*", name) and vocab.x86_macro(name):
                self.defines.append((node, name, tuple(self.guards)))


def analyze_setup_py(data: bytes) -> Summary:
    try:
        module = cst.parse_module(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, cst.ParserSyntaxError, RecursionError):
        return Summary(parsed=True)  # the Python source scanner reports the syntax error
    v = _Visitor()
    module.visit(v)
    nodes = [n for n, *_ in v.sites] + [n for n, *_ in v.sources] + [n for n, *_ in v.defines]
    nodes += [o for *_, o in v.sites if o is not None]
    pos = spans(module, nodes)
    sites: list[FlagSite] = []
    for node, value, guards, probe, owner in v.sites:
        line, col, _, _ = pos[node]
        group = pos[owner][:2] if owner is not None else (line, col)
        sites.append(FlagSite(value, line, col + 1, guards, probe, group=group, fix=_fix(module, owner, pos)))
    sources = [(value, pos[n][0], guards) for n, value, guards in v.sources]
    defines = [(name, pos[n][0], guards) for n, name, guards in v.defines]
    return summarize(sites, sources, defines, "setup.py")


def _fix(module: cst.Module, owner: cst.List | None, pos: dict[cst.CSTNode, tuple[int, int, int, int]]) -> Any:
    """The unsafe rewrite of a literal flags list (see buildfiles/fixes.py for why it is unsafe)."""
    return None if owner is None else setup_py_list_fix(module, owner, pos[owner])


X86_MACHINES = '("x86_64", "amd64", "i386", "i686", "x86")'
_FIRST_IMPORT = re.compile(r"^(?:import|from)[ \t]+(?!__future__\b)", re.MULTILINE)


def setup_py_list_fix(module: cst.Module, node: cst.List, span: tuple[int, int, int, int]) -> FixSpec | None:
    """`["-O3", "-mavx2"]` -> `["-O3"] + (["-mavx2"] if platform.machine().lower() in (...) else [])`."""
    portable: list[str] = []
    x86: list[str] = []
    for el in node.elements:
        if not isinstance(el, cst.Element) or not isinstance(el.value, cst.SimpleString):
            return None
        value = simple_value(el.value)
        if value is None:
            return None
        text = el.value.value
        if vocab.flag_kind(value) == "x86":
            x86.append(text)
        elif vocab.flags_in(" " + value):
            return None  # "-O3 -mavx2" in one string: a person should split it
        else:
            portable.append(text)
    if not x86:
        return None
    cond = f"([{', '.join(x86)}] if platform.machine().lower() in {X86_MACHINES} else [])"
    new = f"[{', '.join(portable)}] + {cond}" if portable else cond
    line, col, end_line, end_col = span
    edits = [EditSpec(line, col + 1, end_line, end_col + 1, new)]
    code = module.code
    if not re.search(r"^import[ \t]+platform\b|^from[ \t]+platform[ \t]+import", code, re.MULTILINE):
        m = _FIRST_IMPORT.search(code)
        if m is None:
            return None
        at = code.count("\n", 0, m.start()) + 1
        edits.insert(0, EditSpec(at, 1, at, 1, "import platform\n"))
    return FixSpec(
        "build the x86 flags only when setup.py runs on x86 (unsafe: platform.machine() is the build machine, "
        "not the target of a cross build)",
        "unsafe",
        tuple(edits),
    )
