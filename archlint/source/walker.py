"""The batched pass: one walk over a parsed module, dispatching every node to the handlers of
all rules that want the file (Fixit's batching), plus the Context's own bookkeeping.

A hand-rolled iterative walk over libcst's dataclass fields, not `Module.visit()`: libcst's
visitor machinery costs ~13x more per node (measured on the stdlib), and iteration keeps hostile
nesting depth from hitting the recursion limit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import libcst as cst

from archlint.source import arch
from archlint.source.context import IF, STMT, Context, assigned_names
from archlint.source.interface import SourceRule
from archlint.source.nodes import dotted, literal_text, simple_value

Handler = Callable[[Any, Context], None]

# Fields that never hold code worth visiting (whitespace, punctuation, formatting).
_SKIP_FIELDS = frozenset(
    "lpar rpar comma semicolon leading_lines lines_after_decorators header footer trailing_whitespace newline "
    "dot colon equal star asynchronous lbracket rbracket lbrace rbrace operator relative indent "
    "first_line empty_lines encoding default_indent default_newline has_trailing_newline".split()
)
# CSTNode is an ABC and isinstance() against an ABC is slow; the walk asks once per type.
_IS_NODE: dict[type, bool] = {}


def _learn(t: type) -> bool:
    _IS_NODE[t] = result = issubclass(t, cst.CSTNode)
    return result


def _is_node(t: type) -> bool:
    known = _IS_NODE.get(t)
    return _learn(t) if known is None else known


class Tracker:
    """The Context's bookkeeping, run before the rules on every node."""

    def visit_Module(self, node: cst.Module, ctx: Context) -> None:
        ctx.enter_frame(node)

    def visit_FunctionDef(self, node: cst.FunctionDef, ctx: Context) -> None:
        ctx.enter_frame(node)

    def leave_FunctionDef(self, node: cst.FunctionDef, ctx: Context) -> None:
        ctx.leave_frame()

    def visit_If(self, node: cst.If, ctx: Context) -> None:
        parent = ctx.ancestors[-1] if ctx.ancestors else None
        if not (isinstance(parent, cst.If) and parent.orelse is node):  # an elif belongs to its chain's frame
            ctx.enter_frame(node, IF)

    def leave_If(self, node: cst.If, ctx: Context) -> None:
        if ctx.frame is not None and ctx.frame.node is node:
            ctx.leave_frame()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine, ctx: Context) -> None:
        ctx.enter_frame(node, STMT)

    def leave_SimpleStatementLine(self, node: cst.SimpleStatementLine, ctx: Context) -> None:
        if ctx.frame is not None and ctx.frame.arm:
            ctx.add_arm_names(assigned_names(node))
        ctx.leave_frame()

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite, ctx: Context) -> None:
        ctx.enter_frame(node, STMT)

    def leave_SimpleStatementSuite(self, node: cst.SimpleStatementSuite, ctx: Context) -> None:
        ctx.leave_frame()

    def visit_Import(self, node: cst.Import, ctx: Context) -> None:
        for alias in node.names:
            name = dotted(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                ctx.aliases[alias.asname.name.value] = name
            else:
                head = name.split(".", 1)[0]
                ctx.aliases[head] = head

    def visit_ImportFrom(self, node: cst.ImportFrom, ctx: Context) -> None:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        module = dotted(node.module) or ""
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                continue
            local = alias.asname.name if alias.asname is not None else alias.name
            if isinstance(local, cst.Name):
                ctx.aliases[local.value] = f"{module}.{alias.name.value}"

    def visit_Assign(self, node: cst.Assign, ctx: Context) -> None:
        for t in node.targets:
            if isinstance(t.target, cst.Name):
                self._assigned(t.target.value, node.value, ctx)

    def visit_AnnAssign(self, node: cst.AnnAssign, ctx: Context) -> None:
        if isinstance(node.target, cst.Name) and node.value is not None:
            self._assigned(node.target.value, node.value, ctx)

    @staticmethod
    def _assigned(name: str, value: cst.BaseExpression, ctx: Context) -> None:
        # Flow-insensitive on purpose: a name that ever holds the machine is treated as it.
        if ctx.is_machine(value):
            ctx.machine_vars.add(name)
        elif ctx.is_uname_call(value):
            ctx.uname_vars.add(name)
        else:
            p = ctx.polarity(value)
            if p is not None:
                ctx.bool_vars[name] = p

    def visit_SimpleString(self, node: cst.SimpleString, ctx: Context) -> None:
        v = simple_value(node)
        if v and arch.mentions_arm(v):
            ctx.mark_arm()

    def visit_FormattedString(self, node: cst.FormattedString, ctx: Context) -> None:
        v = literal_text(node)
        if v and arch.mentions_arm(v):
            ctx.mark_arm()

    def visit_Name(self, node: cst.Name, ctx: Context) -> None:
        if arch.name_mentions_arm(node.value) or ctx.is_arm_name(node.value):
            ctx.mark_arm()


class Walker:
    def __init__(self, rules: Sequence[SourceRule]) -> None:
        self.objects: list[Any] = [Tracker(), *rules]
        self.rules = list(rules)
        self._table: dict[type, tuple[tuple[Handler, ...], tuple[Handler, ...], tuple[str, ...]]] = {}

    def _entry(self, t: type) -> tuple[tuple[Handler, ...], tuple[Handler, ...], tuple[str, ...]]:
        name = t.__name__
        visits = tuple(getattr(o, f"visit_{name}") for o in self.objects if hasattr(o, f"visit_{name}"))
        leaves = tuple(getattr(o, f"leave_{name}") for o in self.objects if hasattr(o, f"leave_{name}"))
        fields = tuple(
            f.name for f in dataclasses.fields(t) if f.name not in _SKIP_FIELDS and not f.name.startswith("whitespace")
        )
        entry = (visits, leaves, fields)
        self._table[t] = entry
        return entry

    def run(self, module: cst.Module, ctx: Context) -> None:
        table = self._table
        is_node = _IS_NODE
        ancestors = ctx.ancestors
        stack: list[tuple[Any, bool]] = [(module, False)]
        pop, push = stack.pop, stack.append
        while stack:
            node, leaving = pop()
            t = type(node)
            entry = table.get(t) or self._entry(t)
            if leaving:
                for h in entry[1]:
                    h(node, ctx)
                ancestors.pop()
                continue
            for h in entry[0]:
                h(node, ctx)
            ancestors.append(node)
            push((node, True))
            children: list[Any] = []
            for f in entry[2]:
                v = getattr(node, f)
                vt = type(v)
                if vt is tuple or vt is list:
                    children.extend(x for x in v if _is_node(type(x)))
                else:
                    known = is_node.get(vt)
                    if known or (known is None and _learn(vt)):
                        children.append(v)
            for c in reversed(children):
                push((c, False))
        for r in self.rules:
            r.finish(ctx)
