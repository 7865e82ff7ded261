"""Per-file analysis state shared by all rules during the one pass: import aliases, variables
that hold the machine name, enclosing frames and what they mention, and the reported hits.

Hits are collected as candidates and only turned into positions at the end of the file (see
positions.py): most parsed files report nothing, and positions for every node cost more than
the parse itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from archlint.source import arch
from archlint.source.interface import EditSpec, FixSpec, Hit
from archlint.source.nodes import block_exits, block_terminates, dotted, literal_values
from archlint.source.positions import spans

X86, OTHER, ARM, NOTARM = "x86", "other", "arm", "notarm"  # polarity: what a true test implies
_FLIP = {X86: OTHER, OTHER: X86, ARM: NOTARM, NOTARM: ARM}

MACHINE_CALLS = arch.MACHINE_CALLS
UNAME_CALLS = arch.UNAME_CALLS
_MACHINE_NAMES = arch.MACHINE_NAMES
_CASE_METHODS = arch.CASE_METHODS
_OS_NAMES = frozenset({"sys.platform", "os.name"})
_NON_LINUX = ("win32", "nt", "cygwin", "darwin", "msys", "java")


SCOPE, IF, STMT = "scope", "if", "stmt"


@dataclass(eq=False, slots=True)
class Frame:
    """Where an arm64 mention excuses a hit: the if/elif/else chain it sits in, else the one
    statement (a per-architecture table). A module or function is never excused whole by one
    mention: `if machine() == "aarch64": pass` says nothing about the rest of the file."""

    node: cst.CSTNode
    parent: Frame | None
    kind: str = SCOPE  # SCOPE (module, function) | IF (an if-chain) | STMT (one statement line)
    arm: bool = False  # the code here mentions arm64 (a branch, a mapping, a download)
    arm_ifs: list[Frame] | None = None  # arm64 if-chains directly inside this frame
    # SCOPE frames: names assigned here by statements that mention arm64 (`ARCHES = {…"aarch64"…}`,
    # `arch = ARCHES[machine()]`); a statement that uses one takes an arm64-aware value.
    arm_names: set[str] | None = None

    def arm_in_scope(self) -> bool:
        f: Frame | None = self
        while f is not None:
            if f.arm:
                return True
            f = f.parent
        return False


@dataclass(eq=False)
class Candidate:
    node: cst.CSTNode
    rule: str
    message: str
    frame: Frame
    arm_guard: bool
    key: str
    severity: str | None
    blocks: bool | None
    evidence: str
    fix: tuple[str, str, tuple[tuple[cst.CSTNode, str], ...]] | None  # description, applicability, replacements


@dataclass
class Guard:
    """What protects a statement from running unconditionally on arm64."""

    kind: str | None = None  # "try" | "arch" | "os" | "typing" | None
    in_function: bool = False


@dataclass(eq=False)
class Context:
    module: cst.Module
    fixable: bool = True  # edits are offered only where positions map onto the file (not notebooks)
    ancestors: list[cst.CSTNode] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> qualified name
    machine_vars: set[str] = field(default_factory=set)
    uname_vars: set[str] = field(default_factory=set)
    bool_vars: dict[str, str] = field(default_factory=dict)  # name -> polarity of what it holds
    scope: Frame | None = None  # the innermost module/function frame
    any_arm_names: bool = False  # the fast answer for most files
    frame: Frame | None = None
    candidates: list[Candidate] = field(default_factory=list)
    _state: dict[str, Any] = field(default_factory=dict)

    def state(self, owner: object) -> dict[str, Any]:
        return self._state.setdefault(type(owner).__name__, {})

    # --- names -------------------------------------------------------------------------------
    def qualify(self, expr: cst.BaseExpression) -> str | None:
        name = dotted(expr)
        if name is None:
            return None
        head, dot, rest = name.partition(".")
        return self.aliases.get(head, head) + dot + rest

    def is_machine(self, expr: cst.BaseExpression) -> bool:
        """Does the expression evaluate to the machine's architecture name?"""
        if isinstance(expr, cst.Name):
            return expr.value in self.machine_vars or expr.value.lower() in _MACHINE_NAMES
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Attribute) and func.attr.value in _CASE_METHODS:
                return self.is_machine(func.value)
            q = self.qualify(func)
            if q in MACHINE_CALLS:
                return True
            if q == "str" and expr.args:
                return self.is_machine(expr.args[0].value)
            return False
        if isinstance(expr, cst.Attribute) and expr.attr.value == "machine" and self._is_uname(expr.value):
            return True
        if isinstance(expr, cst.Attribute) and expr.attr.value.lower() in _MACHINE_NAMES:
            # A value some module computed from the machine: PyInstaller's `compat.machine`,
            # `self.arch`, `config.ARCH`. Compared with x86 names, it is an architecture test.
            return dotted(expr) is not None
        if isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
            idx = expr.slice[0].slice
            if isinstance(idx, cst.Index) and isinstance(idx.value, cst.Integer) and idx.value.value == "4":
                return self._is_uname(expr.value)
        return False

    def _is_uname(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Name):
            return expr.value in self.uname_vars
        return isinstance(expr, cst.Call) and self.qualify(expr.func) in UNAME_CALLS

    def is_uname_call(self, expr: cst.BaseExpression) -> bool:
        return isinstance(expr, cst.Call) and self.qualify(expr.func) in UNAME_CALLS

    # --- tests -------------------------------------------------------------------------------
    def machine_leaf(self, expr: cst.BaseExpression) -> str | None:
        """Polarity of one machine comparison: `machine() == "x86_64"` -> X86."""
        if isinstance(expr, cst.Name):
            return self.bool_vars.get(expr.value)
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            if expr.func.attr.value in ("startswith", "endswith") and expr.args and self.is_machine(expr.func.value):
                return _values_polarity(literal_values(expr.args[0].value), True)
            return None
        if not isinstance(expr, cst.Comparison) or len(expr.comparisons) != 1:
            return None
        target = expr.comparisons[0]
        op, left, right = target.operator, expr.left, target.comparator
        positive = isinstance(op, (cst.Equal, cst.In, cst.Is))
        if not positive and not isinstance(op, (cst.NotEqual, cst.NotIn, cst.IsNot)):
            return None
        if self.is_machine(left):
            values = literal_values(right)
        elif self.is_machine(right) and isinstance(op, (cst.Equal, cst.NotEqual, cst.In, cst.NotIn)):
            values = literal_values(left)  # "x86" in machine: a substring test
        else:
            return None
        return _values_polarity(values, positive)

    def polarity(self, expr: cst.BaseExpression, leaf: Any = None) -> str | None:
        """What a true `expr` implies about the machine (X86/OTHER/ARM/NOTARM), or None."""
        leaf = leaf or self.machine_leaf
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
            p = self.polarity(expr.expression, leaf)
            return _FLIP[p] if p else None
        if isinstance(expr, cst.BooleanOperation):
            a, b = self.polarity(expr.left, leaf), self.polarity(expr.right, leaf)
            if isinstance(expr.operator, cst.And):
                if self.non_linux_test(expr.left) or self.non_linux_test(expr.right):
                    return None  # never true on a Linux node
                if X86 in (a, b):
                    return X86  # not x86 -> the conjunction is false
                if OTHER in (a, b) and (a == b or self.is_os_test(expr.left) or self.is_os_test(expr.right)):
                    return OTHER  # `linux and not x86`: true on every arm64 Linux node
                return None
            if OTHER in (a, b):
                return OTHER  # not x86 -> the disjunction is true
            return X86 if a == b == X86 else None
        result: str | None = leaf(expr)
        return result

    def is_os_test(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Comparison):
            sides = [expr.left, *(t.comparator for t in expr.comparisons)]
            return any(self.qualify(s) in _OS_NAMES or self._is_system_call(s) for s in sides)
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            return self.qualify(expr.func.value) in _OS_NAMES
        return False

    def _is_system_call(self, expr: cst.BaseExpression) -> bool:
        return isinstance(expr, cst.Call) and self.qualify(expr.func) == "platform.system"

    def non_linux_test(self, expr: cst.BaseExpression) -> bool:
        """`sys.platform == "win32"`, `os.name == "nt"`, `sys.platform.startswith("darwin")`."""
        if isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.And):
            return self.non_linux_test(expr.left) or self.non_linux_test(expr.right)
        if not self.is_os_test(expr):
            return False
        if isinstance(expr, cst.Comparison):
            ops = expr.comparisons
            if len(ops) != 1 or not isinstance(ops[0].operator, (cst.Equal, cst.In)):
                return False
            side = ops[0].comparator if not isinstance(ops[0].comparator, cst.Name) else expr.left
            values = literal_values(side) or literal_values(expr.left) or []
        else:
            assert isinstance(expr, cst.Call)
            values = (literal_values(expr.args[0].value) if expr.args else None) or []
        return bool(values) and all(v.lower().startswith(_NON_LINUX) for v in values)

    def exits(self, block: cst.BaseSuite) -> bool:
        return block_exits(block, self.aliases)

    # --- where a node sits ---------------------------------------------------------------------
    def guard(self, node: cst.CSTNode, catches: frozenset[str], portable: Callable[[str], bool] | None = None) -> Guard:
        """The innermost protection around `node`: a try whose handler catches one of `catches`
        and falls back (does not re-raise or exit), an x86-only branch, a non-Linux branch, or
        `if TYPE_CHECKING:`. With `portable` (module name -> whether it runs on arm64), also the
        `except ImportError:` branch of a try that first imports a portable module, however deep
        inside it (Django: `import oracledb` … `except ImportError: import cx_Oracle`): only
        where the preferred import fails does the fallback run. Also whether `node` sits in a
        function (runs only when called)."""
        g = Guard()
        anc = self.ancestors
        child: cst.CSTNode = node
        handler: cst.ExceptHandler | None = None
        for a in reversed(anc):
            if g.kind is None:
                if isinstance(a, cst.Try) and child is a.body and self._falls_back(a, catches):
                    g.kind = "try"
                elif isinstance(a, cst.Try) and handler is not None and portable is not None:
                    if _imports_first(a, portable):
                        g.kind = "fallback"
                elif isinstance(a, cst.If):
                    g.kind = self._if_guard(a, child)
                elif isinstance(a, cst.With) and child is a.body and self._suppresses(a, catches):
                    g.kind = "try"
                elif isinstance(a, (cst.IndentedBlock, cst.Module)) and self._returned_early(a, child):
                    g.kind = "arch"
            if isinstance(a, (cst.FunctionDef, cst.Lambda)):
                g.in_function = True
            handler = a if isinstance(a, cst.ExceptHandler) and child is a.body and _catches(a.type, _IMPORT_FAILS) \
                else None  # fmt: skip
            child = a
        return g

    def _if_guard(self, node: cst.If, child: cst.CSTNode) -> str | None:
        test = node.test
        if child is node.body:
            if self.qualify(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                return "typing"
            if self.non_linux_test(test):
                return "os"
            return "arch" if self.polarity(test) in (X86, NOTARM) else None
        if child is node.orelse:
            return "arch" if self.polarity(test) in (OTHER, ARM) else None
        return None

    def _returned_early(self, block: cst.IndentedBlock | cst.Module, child: cst.CSTNode) -> bool:
        """`if machine() != "x86_64": return fallback` earlier in the block: only x86 gets here."""
        for stmt in block.body:
            if stmt is child:
                return False
            if (
                isinstance(stmt, cst.If)
                and stmt.orelse is None
                and self.polarity(stmt.test) in (OTHER, ARM)
                and block_terminates(stmt.body)
            ):
                return True
        return False

    def _falls_back(self, node: cst.Try, catches: frozenset[str]) -> bool:
        for h in node.handlers:
            if _catches(h.type, catches) and not self.exits(h.body):
                return True
        return False

    def _suppresses(self, node: cst.With, catches: frozenset[str]) -> bool:
        for item in node.items:
            call = item.item
            if isinstance(call, cst.Call) and self.qualify(call.func) in ("contextlib.suppress", "suppress"):
                if any(_catches(a.value, catches) for a in call.args):
                    return True
        return False

    # --- frames --------------------------------------------------------------------------------
    def enter_frame(self, node: cst.CSTNode, kind: str = SCOPE) -> None:
        self.frame = Frame(node, self.frame, kind)
        if kind == SCOPE:
            self.scope = self.frame

    def leave_frame(self) -> None:
        assert self.frame is not None
        left = self.frame
        self.frame = left.parent
        if left.kind == SCOPE:
            f = self.frame
            while f is not None and f.kind != SCOPE:
                f = f.parent
            self.scope = f

    def add_arm_names(self, names: set[str]) -> None:
        if names and self.scope is not None:
            self.scope.arm_names = (self.scope.arm_names or set()) | names
            self.any_arm_names = True

    def is_arm_name(self, name: str) -> bool:
        """`name` holds an arm64-aware value here (assigned so in this function or the module)."""
        if not self.any_arm_names:
            return False
        f = self.scope
        while f is not None:
            if f.arm_names and name in f.arm_names:
                return True
            f = f.parent
            while f is not None and f.kind != SCOPE:
                f = f.parent
        return False

    def mark_arm(self) -> None:
        """An arm64 mention here: it excuses its statement and the if-chain around it, no more."""
        f = self.frame
        while f is not None and f.kind != SCOPE and not f.arm:
            f.arm = True
            if f.kind == IF:
                if f.parent is not None:
                    f.parent.arm_ifs = [*(f.parent.arm_ifs or []), f]
                break
            f = f.parent

    # --- reporting -----------------------------------------------------------------------------
    def report(
        self,
        node: cst.CSTNode,
        rule: str,
        message: str,
        *,
        key: str,
        severity: str | None = None,
        blocks: bool | None = None,
        evidence: str = "",
        arm_guard: bool = True,
        fix: tuple[str, str, tuple[tuple[cst.CSTNode, str], ...]] | None = None,
    ) -> None:
        """Record a hit at `node`. With `arm_guard`, the hit is dropped at the end of the file if
        the enclosing function or the module mentions arm64 (an arm64 path exists)."""
        assert self.frame is not None
        self.candidates.append(
            Candidate(node, rule, message, self.frame, arm_guard, key, severity, blocks, evidence, fix)
        )

    def hits(self) -> list[Hit]:
        kept = [c for c in self.candidates if not (c.arm_guard and _excused(c.frame))]
        # A string a loader call loads (ARCH404) is not reported again as a hard-coded artifact.
        loaded = {id(c.node) for c in kept if c.rule == "ARCH404"}
        if loaded:
            kept = [c for c in kept if not (c.rule == "ARCH405" and id(c.node) in loaded)]
        if not kept:
            return []
        targets = [c.node for c in kept] + [n for c in kept if c.fix for n, _ in c.fix[2]]
        pos = spans(self.module, targets)
        out: list[Hit] = []
        for c in kept:
            line, col, end_line, end_col = pos[c.node]
            fix = None
            if c.fix is not None and self.fixable:
                edits = []
                for n, content in c.fix[2]:
                    e = pos[n]
                    edits.append(EditSpec(e[0], e[1] + 1, e[2], e[3] + 1, content))
                fix = FixSpec(c.fix[0], c.fix[1], tuple(edits))
            out.append(
                Hit(
                    rule=c.rule,
                    message=c.message,
                    line=line,
                    column=col + 1,
                    end_line=end_line,
                    end_column=end_col + 1,
                    key=c.key,
                    severity=c.severity,
                    blocks=c.blocks,
                    evidence=c.evidence,
                    fix=fix,
                )
            )
        return out

    def code_for(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)


def _excused(frame: Frame) -> bool:
    """An arm64 path covers the hit: it sits in an arm64-mentioning statement or if-chain, or
    assigns a name that an arm64 branch beside it assigns again (`LIB = "x86_64.so"` followed by
    `if machine() == "aarch64": LIB = "aarch64.so"`)."""
    if frame.arm_in_scope():
        return True
    f: Frame | None = frame
    while f is not None and f.kind == STMT:
        parent = f.parent
        if parent is not None and parent.arm_ifs:
            names = assigned_names(f.node)
            if names and any(names & _assigned_in_chain(i.node) for i in parent.arm_ifs):
                return True
        f = parent
    return False


def assigned_names(stmt: cst.CSTNode) -> set[str]:
    """Names a simple statement line assigns (`a = …`, `a: T = …`, `a += …`, `obj.attr = …`)."""
    out: set[str] = set()
    body = getattr(stmt, "body", ())
    for small in body if isinstance(body, (tuple, list)) else ():
        targets: list[cst.BaseExpression] = []
        if isinstance(small, cst.Assign):
            targets = [t.target for t in small.targets]
        elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
            targets = [small.target]
        for t in targets:
            name = dotted(t)
            if name:
                out.add(name)
    return out


def _assigned_in_chain(node: cst.CSTNode) -> set[str]:
    out: set[str] = set()
    cur: cst.CSTNode | None = node
    while cur is not None:
        body = getattr(cur, "body", None)
        for stmt in getattr(body, "body", ()) if body is not None else ():
            out |= assigned_names(stmt)
        if isinstance(body, cst.SimpleStatementSuite):
            out |= assigned_names(body)
        orelse = getattr(cur, "orelse", None)
        cur = orelse if isinstance(orelse, (cst.If, cst.Else)) else None
    return out


def _values_polarity(values: list[str] | None, positive: bool) -> str | None:
    if not values:
        return None
    if all(arch.is_x86_value(v) for v in values):
        return X86 if positive else OTHER
    if all(arch.mentions_arm(v) for v in values):
        return ARM if positive else NOTARM
    return None


_IMPORT_FAILS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


def _imports_first(node: cst.Try, portable: Callable[[str], bool]) -> bool:
    """The try's body imports a module that runs on arm64 (the preferred path)."""
    for stmt in node.body.body:
        for small in getattr(stmt, "body", ()) if isinstance(stmt, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.Import):
                if any(portable(dotted(a.name) or "") for a in small.names):
                    return True
            elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                if portable(dotted(small.module) or ""):
                    return True
    return False


def _catches(expr: cst.BaseExpression | None, catches: frozenset[str]) -> bool:
    if expr is None:
        return True  # bare except
    if isinstance(expr, cst.Tuple):
        return any(_catches(el.value, catches) for el in expr.elements)
    name = dotted(expr)
    return name is not None and name.rsplit(".", 1)[-1] in catches
