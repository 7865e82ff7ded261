"""Small, fast questions about libcst nodes (no metadata needed)."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from archlint.source.arch import is_exit_call

# Calls that end the process (or the import of a module) on the path they sit on.
# Raising these skips a test; a test that skips on arm64 does not keep a workload off arm64.
_SKIPS = ("SkipTest", "skip", "Skipped", "SkipException")


def dotted(expr: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if isinstance(expr, cst.Name):
        parts.append(expr.value)
        return ".".join(reversed(parts))
    return None


def module_name(expr: cst.BaseExpression | None) -> str | None:
    """The dotted name of an import's module expression."""
    if expr is None:
        return None
    return dotted(expr)


def string_value(expr: cst.BaseExpression) -> str | None:
    """The value of a plain string literal (or an implicit concatenation of them)."""
    if isinstance(expr, cst.SimpleString):
        return simple_value(expr)
    if isinstance(expr, cst.ConcatenatedString):
        left, right = string_value(expr.left), string_value(expr.right)
        return None if left is None or right is None else left + right
    return None


def simple_value(node: cst.SimpleString) -> str | None:
    """A string literal's value; sliced from the source text when no escape needs evaluating
    (libcst's evaluated_value runs literal_eval, which is slow on every string of a file)."""
    v = node.value
    i = 0
    while v[i] not in "'\"":
        i += 1
    prefix = v[:i].lower()
    q = 3 if v[i : i + 3] in ('"""', "'''") else 1
    body = v[i + q : len(v) - q]
    if "\\" not in body or "r" in prefix:
        return body
    try:
        ev = node.evaluated_value
    except Exception:  # malformed escapes survive parsing; treat as non-literal
        return None
    return ev.decode("latin-1") if isinstance(ev, bytes) else ev


def literal_text(expr: cst.BaseExpression) -> str | None:
    """Like string_value, but an f-string gives its literal parts with `{}` for each field,
    so a hard-coded "linux-amd64" inside f"...{version}/tool-linux-amd64" is still seen."""
    if isinstance(expr, cst.FormattedString):
        out = []
        for part in expr.parts:
            out.append(part.value if isinstance(part, cst.FormattedStringText) else "{}")
        return "".join(out)
    if isinstance(expr, cst.ConcatenatedString):
        left, right = literal_text(expr.left), literal_text(expr.right)
        return None if left is None or right is None else left + right
    return string_value(expr)


def strings_in(expr: cst.BaseExpression, depth: int = 0) -> Iterator[tuple[cst.BaseExpression, str]]:
    """String literals inside an argument expression: through calls (os.path.join), operators,
    containers and f-strings; bounded depth so hostile nesting stays cheap."""
    if depth > 6:
        return
    text = literal_text(expr)
    if text is not None:
        yield expr, text
        return
    if isinstance(expr, cst.Call):
        for a in expr.args:
            yield from strings_in(a.value, depth + 1)
    elif isinstance(expr, cst.BinaryOperation):
        yield from strings_in(expr.left, depth + 1)
        yield from strings_in(expr.right, depth + 1)
    elif isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        for el in expr.elements:
            yield from strings_in(el.value, depth + 1)
    elif isinstance(expr, cst.Subscript):
        yield from strings_in(expr.value, depth + 1)


def literal_values(expr: cst.BaseExpression) -> list[str] | None:
    """A string, or a tuple/list/set of strings, as a list; None if anything is not literal."""
    if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
        out = []
        for el in expr.elements:
            if isinstance(el, cst.StarredElement):
                return None
            v = string_value(el.value)
            if v is None:
                return None
            out.append(v)
        return out
    v = string_value(expr)
    return None if v is None else [v]


def _raise_is_skip(node: cst.Raise) -> bool:
    exc = node.exc
    if isinstance(exc, cst.Call):
        exc = exc.func
    name = dotted(exc) if exc is not None else None
    return name is not None and name.rsplit(".", 1)[-1].endswith(_SKIPS)


def statements(block: cst.BaseSuite) -> list[cst.BaseSmallStatement | cst.BaseCompoundStatement]:
    """The statements of a suite, small statements of `a; b` lines flattened."""
    out: list[cst.BaseSmallStatement | cst.BaseCompoundStatement] = []
    body = block.body
    for stmt in body if isinstance(body, (tuple, list)) else (body,):
        if isinstance(stmt, cst.SimpleStatementLine):
            out.extend(stmt.body)
        elif isinstance(stmt, cst.BaseSmallStatement):
            out.append(stmt)
        else:
            out.append(stmt)
    return out


def is_exit(stmt: cst.CSTNode, resolve: dict[str, str]) -> bool:
    """Does this statement end the process (raise, sys.exit(), os._exit() …)?"""
    if isinstance(stmt, cst.SimpleStatementLine):
        return any(is_exit(s, resolve) for s in stmt.body)
    if isinstance(stmt, cst.Raise):
        return not _raise_is_skip(stmt)
    if isinstance(stmt, cst.Expr) and isinstance(stmt.value, cst.Call):
        name = dotted(stmt.value.func)
        return name is not None and is_exit_call(name, resolve)
    return False


def block_exits(block: cst.BaseSuite, resolve: dict[str, str]) -> bool:
    """Does the block end the process on its straight-line path (any top-level exit)?"""
    return any(is_exit(s, resolve) for s in statements(block))


def block_terminates(block: cst.BaseSuite) -> bool:
    """Does control leave the block (return/raise/continue/break as its last statement)?"""
    stmts = statements(block)
    return bool(stmts) and isinstance(stmts[-1], (cst.Return, cst.Raise, cst.Continue, cst.Break))
