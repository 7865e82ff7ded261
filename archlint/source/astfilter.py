"""A structural second filter, on the CPython AST that `analyze._screen` builds anyway.

The raw-bytes prefilter lets through every file that mentions an x86 name near a comparison,
an exit and a machine call: on a large third-party corpus about one file in two hundred, almost
none of which holds an architecture gate (platform tags in packaging, test tolerances per
machine). libcst parses those at ~1 MB/s; CPython's parser, already run on them, is ~10x
faster. So a rule whose shape can be ruled out on the AST is dropped before libcst is asked.

Each check here must be a superset of its rule: it may say "maybe" where the rule finds
nothing, never "no" where the rule would report. tests/source_astfilter_test.py holds every
rule example and a corpus comparison to that effect.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable, Iterator

from archlint.source import arch

GATE = "ARCH403"
ARTIFACT = "ARCH405"
# Every token arch._ARTIFACTS can match, without their context conditions, anchors or lookaheads:
# the rule reads each part of an implicit concatenation on its own, the AST holds them joined,
# and a token inside a part is still inside the join.
_ARTIFACT_TOKEN = re.compile(
    r"(?i)ld-linux-x86-64|x86_64-linux-|x86_64-(?:unknown|pc)-linux|linux[-_.](?:amd64|x86[-_]64|x64)"
    r"|/(?:x86_64|amd64)/|_amd64\.(?:deb|snap)|\.x86_64\.rpm|_x86_64\.whl|amd64/"
)


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """ast.walk without its per-node generators (3x faster on large modules)."""
    stack = [node]
    ast_t = ast.AST
    while stack:
        n = stack.pop()
        yield n
        for name in n._fields:
            v = getattr(n, name, None)
            if type(v) is list:
                stack.extend(x for x in v if isinstance(x, ast_t))
            elif isinstance(v, ast_t):
                stack.append(v)


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _x86_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return arch.is_x86_value(node.value)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_x86_literal(e) for e in node.elts)
    return False


def _is_x86_leaf(node: ast.AST) -> bool:
    """A comparison or startswith/endswith test with an x86 value on one side: the only
    leaves whose polarity can be X86 or OTHER (Context.machine_leaf)."""
    if isinstance(node, ast.Compare):
        return _x86_literal(node.left) or any(_x86_literal(c) for c in node.comparators)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in ("startswith", "endswith") and bool(node.args) and _x86_literal(node.args[0])
    return False


class _Module:
    """What the gate check needs from a module, from a walk over its statements only.

    Expressions are looked into only where a gate could be: If and Assert tests, and the values
    assigned to names those tests use (most of a module's nodes are expressions nobody needs)."""

    def __init__(self, tree: ast.Module) -> None:
        self.assigned: dict[str, list[ast.expr]] = {}  # name -> every value assigned to it
        self.aliases: dict[str, str] = {}  # local name -> what it was imported as (the walker's ctx.aliases)
        self.blocks: list[list[ast.stmt]] = []  # every statement list: bodies, else branches, handlers, cases
        self._x86: dict[str, bool] = {}
        stack: list[list[ast.stmt]] = [tree.body]
        while stack:
            block = stack.pop()
            self.blocks.append(block)
            for stmt in block:
                for field in ("body", "orelse", "finalbody"):
                    sub = getattr(stmt, field, None)
                    if type(sub) is list and sub and isinstance(sub[0], ast.stmt):
                        stack.append(sub)
                if isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
                    stack.extend(h.body for h in stmt.handlers)  # type: ignore[attr-defined]
                elif isinstance(stmt, ast.Match):
                    stack.extend(c.body for c in stmt.cases)
                elif isinstance(stmt, ast.Assign):
                    for t in stmt.targets:
                        if isinstance(t, ast.Name):
                            self.assigned.setdefault(t.id, []).append(stmt.value)
                elif isinstance(stmt, ast.AnnAssign):
                    if stmt.value is not None and isinstance(stmt.target, ast.Name):
                        self.assigned.setdefault(stmt.target.id, []).append(stmt.value)
                elif isinstance(stmt, ast.Import):
                    for a in stmt.names:
                        if a.asname:
                            self.aliases[a.asname] = a.name
                        else:
                            head = a.name.split(".", 1)[0]
                            self.aliases[head] = head
                elif isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
                    for a in stmt.names:
                        if a.name != "*":
                            self.aliases[a.asname or a.name] = f"{stmt.module}.{a.name}"

    def _is_x86_name(self, name: str) -> bool:
        """Was `name` ever assigned a test on x86 values (the walker's flow-insensitive bool_vars),
        directly or through other such names (`NOT_X86 = not IS_X86`)?"""
        hit = self._x86.get(name)
        if hit is None:
            self._x86[name] = False  # a cycle (A = not B; B = not A) proves nothing
            hit = self._x86[name] = any(self.mentions_x86(v) for v in self.assigned.get(name, ()))
        return hit

    def mentions_x86(self, expr: ast.AST) -> bool:
        for sub in _walk(expr):
            if _is_x86_leaf(sub):
                return True
            if isinstance(sub, ast.Name) and sub.id in self.assigned and self._is_x86_name(sub.id):
                return True
        return False


def _is_exit(stmt: ast.stmt, aliases: dict[str, str]) -> bool:
    """Superset of nodes.is_exit: every raise (skips included), and calls of the exit functions."""
    if isinstance(stmt, ast.Raise):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        name = _dotted(stmt.value.func)
        return name is not None and arch.is_exit_call(name, aliases)
    return False


def _chain(node: ast.If) -> Iterator[ast.If]:
    cur: ast.If | None = node
    while cur is not None:
        yield cur
        cur = cur.orelse[0] if len(cur.orelse) == 1 and isinstance(cur.orelse[0], ast.If) else None


def _any_exit(stmts: Iterable[ast.stmt], aliases: dict[str, str]) -> bool:
    return any(_is_exit(s, aliases) for s in stmts)


def gate_possible(tree: ast.Module) -> bool:
    """Could ARCH403 (an architecture gate that exits on arm64) report anything in `tree`?"""
    mod = _Module(tree)
    aliases = mod.aliases
    for block in mod.blocks:
        for i, stmt in enumerate(block):
            if isinstance(stmt, ast.Assert) and mod.mentions_x86(stmt.test):
                return True
            if not isinstance(stmt, ast.If):
                continue
            links = list(_chain(stmt))
            if not any(mod.mentions_x86(link.test) for link in links):
                continue
            if any(_any_exit(link.body, aliases) or _any_exit(link.orelse, aliases) for link in links):
                return True
            if i + 1 < len(block) and _is_exit(block[i + 1], aliases):
                return True
    return False


def _literal_text(node: ast.Constant | ast.JoinedStr) -> str | None:
    """The text the rule reads (nodes.literal_text): an f-string's literal parts with `{}` for
    each field; None for bytes (read loosely below)."""
    if isinstance(node, ast.JoinedStr):
        parts = [p.value if isinstance(p, ast.Constant) and isinstance(p.value, str) else "{}" for p in node.values]
        return "".join(parts)
    return node.value if isinstance(node.value, str) else None


def _concatenated(node: ast.AST, text: str) -> bool:
    """Is this literal several literals side by side ("a" "b")? libcst reads each on its own,
    the AST holds them joined; when unsure, say yes (the rule then decides)."""
    seg = ast.get_source_segment(text, node)
    if seg is None:
        return True
    kinds = {tokenize.STRING, getattr(tokenize, "FSTRING_START", -1)}
    try:
        n = sum(1 for t in tokenize.generate_tokens(io.StringIO(seg).readline) if t.type in kinds)
    except (tokenize.TokenError, SyntaxError, ValueError):
        return True
    return n != 1


def artifact_possible(tree: ast.Module, text: str | None = None) -> bool:
    """Could ARCH405 (an x86-only artifact named in a string) report anything in `tree`? The
    raw-bytes prefilter also matches comments and names; the rule reads string literals only,
    not docstrings (strings that are a statement of their own), and `arch.artifact` decides."""
    skip: set[int] = set()
    for node in _walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, (ast.Constant, ast.JoinedStr)):
            skip.add(id(node.value))  # a docstring-like statement: the rule leaves it alone
        elif isinstance(node, ast.JoinedStr):
            skip.update(id(p) for p in node.values)  # read as part of the f-string
        if id(node) in skip or not isinstance(node, (ast.Constant, ast.JoinedStr)):
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
            if _ARTIFACT_TOKEN.search(node.value.decode("latin-1")):
                return True
            continue
        value = _literal_text(node)
        if value is None or not _ARTIFACT_TOKEN.search(value):
            continue
        if arch.artifact(value) is not None or text is None or _concatenated(node, text):
            return True
    return False


def narrow(tree: ast.Module, codes: frozenset[str], text: str | None = None) -> frozenset[str]:
    """`codes` without the rules the AST rules out (`text`: the module's source, which lets
    the artifact check tell joined literals apart)."""
    if GATE in codes and not gate_possible(tree):
        codes = codes - {GATE}
    if ARTIFACT in codes and not artifact_possible(tree, text):
        codes = codes - {ARTIFACT}
    return codes
