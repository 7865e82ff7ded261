"""ARCH405 decided on CPython's AST and tokens, where that is provably what the libcst rule says.

A file that names an x86-only artifact in a plain string (test data, a build path) and mentions
arm64 nowhere, with no branch, handler or early exit around the string that could excuse it,
gets its hits here: the rule's reading of each literal, its docstring exception, its per-file
cap, and libcst's positions (a string token's span). libcst costs ~0.1 s to import and ~1 MB/s
to parse; this costs one tokenize pass. Anything this module cannot decide exactly (an arm64
mention, an enclosing `if`, an f-string, literals side by side, a `\\r` line ending) returns None
and goes to libcst. tests/source_astartifacts_test.py holds both paths to the same hits.
"""

from __future__ import annotations

import ast
import io
import tokenize

from archlint.source import arch
from archlint.source.astfilter import ARTIFACT_TOKEN, ModuleFacts, SourceLines, token_value, walk_nodes
from archlint.source.interface import Hit

CODE = "ARCH405"
_PER_FILE = 5  # rules/artifacts.py's cap
_HINTS = ("arm", "aarch", "neon", "asimd", "sve")
# Where libcst's walk does not follow the source order (its fields: a def's decorators and a
# class's bases after the body, an except clause's type after its body, an if-expression's test
# first): only the per-file cap and the once-per-token rule care.
_HEADER_PARENTS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# Python 3.12+ splits f-strings (3.14: t-strings) into tokens; their text parts come as these.
_FSTRING_TEXT = frozenset(getattr(tokenize, n) for n in ("FSTRING_MIDDLE", "TSTRING_MIDDLE") if hasattr(tokenize, n))


def _tokens(text: str) -> list[tokenize.TokenInfo] | None:
    try:
        return list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def _arm_possible(tokens: list[tokenize.TokenInfo]) -> bool:
    """Could the walker mark anything arm64 (a name or a string mentioning it)? Then a hit may be
    excused by its statement, its if-chain or a name assigned beside an arm64 branch."""
    for t in tokens:
        if t.type == tokenize.NAME:
            if arch.name_mentions_arm(t.string):
                return True
        elif t.type == tokenize.STRING or t.type in _FSTRING_TEXT:
            value = token_value(t.string) if t.type == tokenize.STRING else None
            if value is None:  # an f-string or its text: read loosely
                low = t.string.lower()
                if any(h in low for h in _HINTS):
                    return True
            elif arch.mentions_arm(value):
                return True
    return False


def artifact_hits(tree: ast.Module, text: str) -> list[Hit] | None:
    """The ARCH405 hits of a module, or None when only libcst can say."""
    if "\r" in text:
        return None  # libcst and CPython could count lines differently
    tokens = _tokens(text)
    if tokens is None or _arm_possible(tokens):
        return None
    strings = {t.start: t for t in tokens if t.type == tokenize.STRING}
    lines = SourceLines(text)
    facts = ModuleFacts(tree)
    found: list[tuple[tuple[int, int], tokenize.TokenInfo, str, bool]] = []  # (start, token, artifact, in order)
    parents: dict[int, ast.AST] = {}
    for node in walk_nodes(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
        if isinstance(node, ast.JoinedStr):
            if ARTIFACT_TOKEN.search("".join(str(p.value) for p in node.values if isinstance(p, ast.Constant))):
                return None  # an f-string naming one: libcst reads its parts
            continue
        if not isinstance(node, ast.Constant) or not isinstance(node.value, (str, bytes)):
            continue
        value = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
        if not ARTIFACT_TOKEN.search(value):
            continue
        parent = parents.get(id(node))
        if isinstance(parent, ast.JoinedStr):
            return None
        start = (node.lineno, lines.col(node.lineno, node.col_offset))
        tok = strings.get(start)
        if tok is None or node.end_lineno is None or node.end_col_offset is None:
            return None
        if tok.end != (node.end_lineno, lines.col(node.end_lineno, node.end_col_offset)):
            return None  # literals side by side: the rule reads each part
        token = arch.artifact(token_value(tok.string) or "")
        if token is None or isinstance(parent, ast.Expr):  # a docstring-like statement: left alone
            continue
        ordered = _unguarded(node, parents, facts)
        if ordered is None:
            return None
        found.append((start, tok, token, ordered))
    found.sort(key=lambda f: f[0])
    keys = [f[2].lower() for f in found]
    if (len(set(keys)) != len(keys) or len(set(keys)) > _PER_FILE) and not all(f[3] for f in found):
        return None  # which of them the rule keeps depends on libcst's walk order
    seen: set[str] = set()
    out: list[Hit] = []
    for (line, col), tok, token, _ in found:
        if token.lower() in seen or len(seen) >= _PER_FILE:
            continue
        seen.add(token.lower())
        out.append(
            Hit(
                CODE,
                arch.artifact_message(token),
                line,
                col + 1,
                tok.end[0],
                tok.end[1] + 1,
                key=f"artifact:{token.lower()}",
                blocks=False,
                evidence=f"names x86-only artifact {token}",
            )
        )
    return out


def _unguarded(node: ast.AST, parents: dict[int, ast.AST], facts: ModuleFacts) -> bool | None:
    """None when something around `node` could guard it (Context.guard with no exceptions to
    catch: an if, a bare except that falls back, an earlier `if <not x86>: return` in a block);
    else whether libcst's walk meets it in source order."""
    ordered = True
    child: ast.AST = node
    parent = parents.get(id(child))
    while parent is not None:
        if isinstance(parent, (ast.If, ast.IfExp, ast.arguments)):
            return None
        if isinstance(parent, ast.Try) or type(parent).__name__ == "TryStar":
            if any(h.type is None for h in parent.handlers):  # type: ignore[attr-defined]
                return None
        if isinstance(parent, _HEADER_PARENTS) and child not in parent.body:
            ordered = False
        elif isinstance(parent, ast.ExceptHandler) and child is parent.type:
            ordered = False
        elif isinstance(parent, ast.match_case) and child is parent.guard:
            ordered = False
        for field in ("body", "orelse", "finalbody"):
            block = getattr(parent, field, None)
            if type(block) is list and child in block:
                for stmt in block[: block.index(child)]:
                    if isinstance(stmt, ast.If) and not stmt.orelse and facts.mentions_x86(stmt.test):
                        return None  # `if machine() != "x86_64": return`: only x86 gets past it
        child, parent = parent, parents.get(id(parent))
    return ordered
