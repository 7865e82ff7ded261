"""A structural second filter, on the CPython AST that `analyze._screen` builds anyway.

The raw-bytes prefilter lets through every file that mentions an x86 name near a comparison,
an exit and a machine call: on a large third-party corpus about one file in two hundred, almost
none of which holds an architecture gate (platform tags in packaging, test tolerances per
machine), URLs that name linux/amd64 but are no container platform, build variables that name
a triplet but no artifact. libcst parses those at ~1 MB/s; CPython's parser, already run on
them, is ~10x faster. So a rule whose shape can be ruled out on the AST (ARCH403 gates, ARCH405
artifacts, ARCH406 container platforms) is dropped before libcst is asked.

Each check here must be a superset of its rule: it may say "maybe" where the rule finds
nothing, never "no" where the rule would report. tests/source_astfilter_test.py holds every
rule example and a corpus comparison to that effect.
"""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Iterable, Iterator

from archlint.source import arch

GATE = "ARCH403"
ARTIFACT = "ARCH405"
DOCKER = "ARCH406"
# Every token arch._ARTIFACTS can match, without their context conditions, anchors or lookaheads:
# the rule reads each part of an implicit concatenation on its own, the AST holds them joined,
# and a token inside a part is still inside the join.
ARTIFACT_TOKEN = re.compile(
    r"(?i)ld-linux-x86-64|x86_64-linux-|x86_64-(?:unknown|pc)-linux|linux[-_.](?:amd64|x86[-_]64|x64)"
    r"|/(?:x86_64|amd64)/|_amd64\.(?:deb|snap)|\.x86_64\.rpm|_x86_64\.whl|amd64/"
)


def walk_nodes(node: ast.AST) -> Iterator[ast.AST]:
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
    """A string (bytes too: the rule reads their text) or a container of them, one of which
    names x86 (the rule wants all of them to)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        v = node.value
        return arch.is_x86_value(v if isinstance(v, str) else v.decode("latin-1"))
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_x86_literal(e) for e in node.elts)
    return False


_EQUALITY = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)
_IDENTITY = (ast.Is, ast.IsNot)


class ModuleFacts:
    """What the gate check needs from a module, from a walk over its statements only.

    Expressions are looked into only where a gate could be: If and Assert tests, and the values
    assigned to names those tests use (most of a module's nodes are expressions nobody needs)."""

    def __init__(self, tree: ast.Module) -> None:
        self.assigned: dict[str, list[ast.expr]] = {}  # name -> every value assigned to it
        # local name -> everything it was imported as anywhere (the walker's ctx.aliases holds
        # one at a time, as it meets the imports)
        self.aliases: dict[str, set[str]] = {}
        self.blocks: list[list[ast.stmt]] = []  # every statement list: bodies, else branches, handlers, cases
        self._x86: dict[str, bool] = {}
        self._machine: dict[str, bool] = {}
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
                            self.aliases.setdefault(a.asname, set()).add(a.name)
                        else:
                            head = a.name.split(".", 1)[0]
                            self.aliases.setdefault(head, set()).add(head)
                elif isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
                    for a in stmt.names:
                        if a.name != "*":
                            self.aliases.setdefault(a.asname or a.name, set()).add(f"{stmt.module}.{a.name}")

    def _is_x86_name(self, name: str) -> bool:
        """Was `name` ever assigned a test on x86 values (the walker's flow-insensitive bool_vars),
        directly or through other such names (`NOT_X86 = not IS_X86`)?"""
        hit = self._x86.get(name)
        if hit is None:
            self._x86[name] = False  # a cycle (A = not B; B = not A) proves nothing
            hit = self._x86[name] = any(self.mentions_x86(v) for v in self.assigned.get(name, ()))
        return hit

    def qualified(self, func: ast.expr) -> set[str]:
        """Every name a call's dotted name can stand for: itself, and through each import of its
        head (the walker qualifies with the one in force where it stands)."""
        name = _dotted(func)
        if name is None:
            return set()
        head, dot, rest = name.partition(".")
        return {name, *(target + dot + rest for target in self.aliases.get(head, ()))}

    def machine_possible(self, expr: ast.expr) -> bool:
        """Superset of Context.is_machine: could this expression be the machine's name?"""
        if isinstance(expr, ast.Name):
            return expr.id.lower() in arch.MACHINE_NAMES or self._is_machine_name(expr.id)
        if isinstance(expr, ast.Call):
            func = expr.func
            if isinstance(func, ast.Attribute) and func.attr in arch.CASE_METHODS:
                return self.machine_possible(func.value)
            names = self.qualified(func)
            if names & arch.MACHINE_CALLS:
                return True
            return "str" in names and bool(expr.args) and self.machine_possible(expr.args[0])
        if isinstance(expr, ast.Attribute):
            return expr.attr.lower() in arch.MACHINE_NAMES  # `.machine` of a uname result is among them
        if isinstance(expr, ast.Subscript):  # os.uname()[4]
            idx = expr.slice
            return isinstance(idx, ast.Constant) and type(idx.value) is int and idx.value == 4
        return False

    def _is_machine_name(self, name: str) -> bool:
        """Was `name` ever assigned the machine's name (the walker's flow-insensitive machine_vars)?"""
        hit = self._machine.get(name)
        if hit is None:
            self._machine[name] = False  # a cycle (a = b; b = a) proves nothing
            hit = self._machine[name] = any(self.machine_possible(v) for v in self.assigned.get(name, ()))
        return hit

    def is_x86_leaf(self, node: ast.AST) -> bool:
        """Superset of Context.machine_leaf giving X86 or OTHER: one comparison (or a startswith/
        endswith test) between the machine's name and x86 values."""
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                return False
            op, left, right = node.ops[0], node.left, node.comparators[0]
            if not isinstance(op, _EQUALITY) and not isinstance(op, _IDENTITY):
                return False
            if _x86_literal(right) and self.machine_possible(left):
                return True
            return isinstance(op, _EQUALITY) and _x86_literal(left) and self.machine_possible(right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            return (
                node.func.attr in ("startswith", "endswith")
                and bool(node.args)
                and _x86_literal(node.args[0])
                and self.machine_possible(node.func.value)
            )
        return False

    def mentions_x86(self, expr: ast.AST) -> bool:
        for sub in walk_nodes(expr):
            if self.is_x86_leaf(sub):
                return True
            if isinstance(sub, ast.Name) and sub.id in self.assigned and self._is_x86_name(sub.id):
                return True
        return False


def _is_exit(stmt: ast.stmt, aliases: dict[str, set[str]]) -> bool:
    """Superset of nodes.is_exit: every raise (skips included), and calls of the exit functions
    (under any of the names their head was imported as)."""
    if isinstance(stmt, ast.Raise):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        name = _dotted(stmt.value.func)
        if name is None:
            return False
        head = name.split(".", 1)[0]
        return arch.is_exit_call(name, {}) or any(arch.is_exit_call(name, {head: t}) for t in aliases.get(head, ()))
    return False


def _chain(node: ast.If) -> Iterator[ast.If]:
    cur: ast.If | None = node
    while cur is not None:
        yield cur
        cur = cur.orelse[0] if len(cur.orelse) == 1 and isinstance(cur.orelse[0], ast.If) else None


def _any_exit(stmts: Iterable[ast.stmt], aliases: dict[str, set[str]]) -> bool:
    return any(_is_exit(s, aliases) for s in stmts)


def gate_possible(tree: ast.Module) -> bool:
    """Could ARCH403 (an architecture gate that exits on arm64) report anything in `tree`?"""
    mod = ModuleFacts(tree)
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


def token_value(token: str) -> str | None:
    """A plain string token's text as the rule reads it (nodes.simple_value); None for an
    f-string or anything unexpected."""
    i = 0
    while i < len(token) and token[i] not in "'\"":
        i += 1
    prefix = token[:i].lower()
    if "f" in prefix or i == len(token):
        return None
    q = 3 if token[i : i + 3] in ('"""', "'''") else 1
    body = token[i + q : len(token) - q]
    if "\\" not in body or "r" in prefix:
        return body
    try:
        value = ast.literal_eval(token)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value.decode("latin-1") if isinstance(value, bytes) else value if isinstance(value, str) else None


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class SourceLines:
    """A module's lines, split once: node segments and character columns from the AST's UTF-8
    byte offsets (ast.get_source_segment splits the whole text again on every call)."""

    def __init__(self, text: str) -> None:
        # CPython numbers lines after \r\n and lone \r too
        self.lines = _LINE_BREAK.split(text) if "\r" in text else text.split("\n")

    def col(self, line: int, byte_col: int) -> int:
        s = self.lines[line - 1]
        return byte_col if s.isascii() else len(s.encode("utf-8")[:byte_col].decode("utf-8", "replace"))

    def segment(self, node: ast.AST) -> str | None:
        line, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        col, end_col = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
        if line is None or end is None or col is None or end_col is None or end > len(self.lines):
            return None
        if line == end:
            return self.lines[line - 1].encode("utf-8")[col:end_col].decode("utf-8", "replace")
        first = self.lines[line - 1].encode("utf-8")[col:].decode("utf-8", "replace")
        last = self.lines[end - 1].encode("utf-8")[:end_col].decode("utf-8", "replace")
        return "\n".join([first, *self.lines[line : end - 1], last])


def _parts_name_artifact(node: ast.AST, lines: SourceLines) -> bool:
    """Several literals side by side ("a" "b"): libcst reads each on its own, the AST holds
    them joined. Does any part name an artifact? When unsure (an f-string part), say yes."""
    import tokenize  # 5 ms to import; most runs never get here

    seg = lines.segment(node)
    if seg is None:
        return True
    kinds = {tokenize.STRING, getattr(tokenize, "FSTRING_START", -1)}
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(seg).readline) if t.type in kinds]
    except (tokenize.TokenError, SyntaxError, ValueError):
        return True
    for t in tokens:
        value = token_value(t.string) if t.type == tokenize.STRING else None
        if value is None or arch.artifact(value) is not None:
            return True
    return False


def artifact_possible(tree: ast.Module, text: str | None = None) -> bool:
    """Could ARCH405 (an x86-only artifact named in a string) report anything in `tree`? The
    raw-bytes prefilter also matches comments and names; the rule reads string literals only,
    not docstrings (strings that are a statement of their own), and `arch.artifact` decides."""
    skip: set[int] = set()
    lines = SourceLines(text) if text is not None else None
    for node in walk_nodes(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, (ast.Constant, ast.JoinedStr)):
            skip.add(id(node.value))  # a docstring-like statement: the rule leaves it alone
        elif isinstance(node, ast.JoinedStr):
            skip.update(id(p) for p in node.values)  # read as part of the f-string
        if id(node) in skip or not isinstance(node, (ast.Constant, ast.JoinedStr)):
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
            if ARTIFACT_TOKEN.search(node.value.decode("latin-1")):
                return True
            continue
        value = _literal_text(node)
        if value is None or not ARTIFACT_TOKEN.search(value):
            continue
        if arch.artifact(value) is not None or lines is None or _parts_name_artifact(node, lines):
            return True
    return False


def docker_possible(tree: ast.Module) -> bool:
    """Could ARCH406 (a container built or run for linux/amd64 alone) report anything? The rule
    reports a literal (or the text of an f-string, or of literals side by side) that is such a
    platform once stripped; the prefilter also passes URLs and lists naming linux/amd64."""
    for node in walk_nodes(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            v = node.value
            value: str | None = v if isinstance(v, str) else v.decode("latin-1")
        elif isinstance(node, ast.JoinedStr):
            value = _literal_text(node)
        else:
            continue
        if value is not None and "linux/amd64" in value and arch.AMD64_ONLY.search(value.strip()):
            return True
    return False


def narrow(tree: ast.Module, codes: frozenset[str], text: str | None = None) -> frozenset[str]:
    """`codes` without the rules the AST rules out (`text`: the module's source, which lets
    the artifact check tell joined literals apart)."""
    if GATE in codes and not gate_possible(tree):
        codes = codes - {GATE}
    if ARTIFACT in codes and not artifact_possible(tree, text):
        codes = codes - {ARTIFACT}
    if DOCKER in codes and not docker_possible(tree):
        codes = codes - {DOCKER}
    return codes
