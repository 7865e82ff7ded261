"""Analyse one file: prefilter, decode, parse once, walk once with every rule that wants it.

Pure functions of (kind, bytes, limit): results depend on nothing else, which is what makes the
per-file cache (keyed by content hash) and the process pool correct.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import warnings

from archlint.scanning import NOTEBOOK
from archlint.source import astfilter
from archlint.source.decode import decode
from archlint.source.interface import FileResult, Hit, UndecodableSource
from archlint.source.prefilter import notebook_may_match, wanted_codes

DEFAULT_MAX_BYTES = 1024 * 1024  # larger files that could match are skipped with an ARCH499 info
# (the scanner keeps its own copy so that importing it does not import libcst)

_BRACKETS = re.compile(r"[^][(){}]+")
_MAGIC = re.compile(r"^(\s*)(?:[%!]|\S.*\?$)")


def wanted(data: bytes) -> frozenset[str]:
    """The rules whose raw-bytes prefilter matches: only these run, and none means no parse."""
    return wanted_codes(data)


def analyze(kind: str, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> FileResult:
    if kind == NOTEBOOK:
        return analyze_notebook(data, max_bytes)
    rules = wanted(data)
    if not rules:
        return FileResult()
    if len(data) > max_bytes:
        return FileResult((_too_large(len(data), max_bytes),))
    try:
        text, encoding = decode(data)
    except UndecodableSource as e:
        return FileResult((Hit("ARCH002", e.message, e.line, key="decode"),))
    return FileResult(tuple(analyze_text(text, rules, fixable=encoding.startswith("utf-8"))), parsed=True)


def _too_large(size: int, limit: int) -> Hit:
    return Hit(
        "ARCH499",
        f"not analysed: {size} bytes is over the {limit}-byte parse limit (config `source-max-bytes`); "
        "a file this large is usually generated",
        1,
        key="too-large",
    )


_ARTIFACT_ONLY = frozenset({astfilter.ARTIFACT})
MAX_EXPR_DEPTH = 100  # libcst's parser slows down cubically with expression nesting (f(f(f(…))), a.b.c…)


def analyze_text(text: str, codes: frozenset[str], fixable: bool = True) -> list[Hit]:
    screened, tree = _screen(text)
    if screened is not None:
        return [screened]
    if tree is not None:
        # The AST the screen built anyway rules out most prefilter candidates (astfilter.py);
        # only what is left is worth the depth check and libcst's parse.
        codes = astfilter.narrow(tree, codes, text)
        if not codes:
            return []
        complex_ = _too_complex(tree)
        if complex_ is not None:
            return [complex_]
        if codes == _ARTIFACT_ONLY:
            from archlint.source import astartifacts  # tokenize: 5 ms to import, rarely needed

            hits = astartifacts.artifact_hits(tree, text)  # exact where it answers: no libcst
            if hits is not None:
                return hits
    # libcst (0.1 s to import) only now: most runs never get here.
    from archlint.source.cstpass import run_rules

    return run_rules(text, codes, fixable)


def _screen(text: str) -> tuple[Hit | None, ast.Module | None]:
    """CPython's parser first (C, ~10x faster than libcst): real syntax errors get Python's own
    message and line, and shapes that make libcst's parser crawl (measured: a 2,000-link
    attribute chain takes 16 s, 190 nested calls 2 s) are skipped instead of hanging the run."""
    # Brackets first: they leave no AST node, yet nest in both parsers (CPython 3.11's overflows
    # its C stack on a few thousand, libcst's crawls).
    brackets = _max_bracket_depth(text)
    if brackets > MAX_EXPR_DEPTH:
        return Hit(
            "ARCH499", f"not analysed: brackets nested {brackets} deep (more than {MAX_EXPR_DEPTH})", 1, key="too-deep"
        ), None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except SyntaxError as se:
        from archlint.source.cstpass import libcst_parses

        if libcst_parses(text):  # newer syntax than this interpreter's that libcst knows: let libcst decide
            return None, None
        else:
            line = se.lineno or 1
            return Hit("ARCH002", f"syntax error: {se.msg}", line, se.offset or 1, key="syntax"), None
    except (RecursionError, MemoryError, ValueError):
        return Hit("ARCH499", "not analysed: nested too deeply to parse", 1, key="too-deep"), None
    return None, tree


def _too_complex(tree: ast.Module) -> Hit | None:
    depth, line = _max_expr_depth(tree)
    if depth > MAX_EXPR_DEPTH:
        return Hit(
            "ARCH499",
            f"not analysed: an expression nested {depth} deep (more than {MAX_EXPR_DEPTH}); usually generated code",
            line,
            key="too-complex",
        )
    return None


def _max_expr_depth(tree: ast.AST) -> tuple[int, int]:
    best, where = 0, 1
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    node_t, expr_t = ast.AST, ast.expr
    while stack:
        node, depth = stack.pop()
        d = depth + 1 if isinstance(node, expr_t) else 0
        if d > best:
            best, where = d, getattr(node, "lineno", 1)
        for name in node._fields:
            v = getattr(node, name, None)
            if type(v) is list:
                stack.extend((x, d) for x in v if isinstance(x, node_t))
            elif isinstance(v, node_t):
                stack.append((v, d))
    return best, where


_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")


def _max_bracket_depth(text: str) -> int:
    # Brackets inside strings and comments count too: an over-estimate only skips a file early.
    best = depth = 0
    for ch in _BRACKETS.sub("", text):
        if ch in _OPEN:
            depth += 1
            if depth > best:
                best = depth
        elif depth:
            depth -= 1
    return best


# --- notebooks -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Cell:
    number: int  # 1-based position among all cells, as Jupyter shows them
    start: int  # first line of the cell in the combined module
    lines: int


def _cells(nb: object) -> list[tuple[int, str]]:
    if not isinstance(nb, dict):
        raise ValueError("not a notebook: the top level is not an object")
    cells = nb.get("cells")
    if cells is None:  # nbformat 3
        cells = [c for ws in nb.get("worksheets") or [] if isinstance(ws, dict) for c in ws.get("cells") or []]
    if not isinstance(cells, list):
        raise ValueError("not a notebook: `cells` is not a list")
    out = []
    for i, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", cell.get("input", ""))
        if isinstance(src, list) and all(isinstance(s, str) for s in src):
            src = "".join(src)
        if not isinstance(src, str):
            raise ValueError(f"cell {i}: `source` is neither a string nor a list of strings")
        out.append((i, src))
    return out


def _python_lines(src: str) -> list[str]:
    """The cell's lines with IPython magics and shell escapes blanked to `pass` (keeping
    numbering and indentation); a cell magic (%%bash …) makes the whole cell non-Python."""
    lines = src.split("\n")
    if src.lstrip().startswith("%%"):
        return [""] * len(lines)
    out = []
    for line in lines:
        m = _MAGIC.match(line)
        out.append(f"{m.group(1)}pass" if m else line)
    return out


def analyze_notebook(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> FileResult:
    """All code cells as one module (imports in one cell serve the next), findings mapped back
    to `cell N, line L` with L counted within the cell's source."""
    if not notebook_may_match(data):
        return FileResult()
    if len(data) > max_bytes:
        return FileResult((_too_large(len(data), max_bytes),))
    try:
        nb = json.loads(data.decode("utf-8-sig"))
        cells = _cells(nb)
    except UnicodeDecodeError as e:
        return FileResult((Hit("ARCH002", f"notebook is not UTF-8: {e.reason} at byte {e.start}", 1, key="decode"),))
    except json.JSONDecodeError as e:
        return FileResult((Hit("ARCH002", f"invalid notebook JSON: {e.msg}", e.lineno, e.colno, key="json"),))
    except (ValueError, RecursionError) as e:
        return FileResult((Hit("ARCH002", f"invalid notebook: {e}", 1, key="json"),))
    parts: list[str] = []
    spans: list[_Cell] = []
    line = 1
    for number, src in cells:
        lines = _python_lines(src)
        spans.append(_Cell(number, line, len(lines)))
        parts.extend(lines)
        line += len(lines)
    text = "\n".join(parts) + "\n"
    rules = wanted(text.encode("utf-8", "surrogatepass"))
    if not rules:
        return FileResult()
    hits = analyze_text(text, rules, fixable=False)
    if len(hits) == 1 and hits[0].rule in ("ARCH002", "ARCH499") and len(cells) > 1:
        # One scratch cell that does not parse must not hide the others: go cell by cell.
        hits = []
        for cell, (_, src) in zip(spans, cells, strict=True):
            cell_text = "\n".join(_python_lines(src)) + "\n"
            cell_rules = wanted(cell_text.encode("utf-8", "surrogatepass"))
            screened, _ = _screen(cell_text)
            found = [screened] if screened else analyze_text(cell_text, cell_rules, False) if cell_rules else []
            shift = cell.start - 1
            for h in found:
                end = None if h.end_line is None else h.end_line + shift
                hits.append(dataclasses.replace(h, line=h.line + shift, end_line=end))
    return FileResult(tuple(_to_cell(h, spans) for h in hits), parsed=True)


def _to_cell(hit: Hit, spans: list[_Cell]) -> Hit:
    for cell in reversed(spans):
        if hit.line >= cell.start:
            line = hit.line - cell.start + 1
            end = hit.end_line - cell.start + 1 if hit.end_line is not None else None
            sev = "warning" if hit.rule == "ARCH002" else hit.severity  # notebooks often hold scratch code
            return dataclasses.replace(
                hit, message=f"cell {cell.number}, line {line}: {hit.message}", line=line, end_line=end,
                key=f"cell:{hit.key}", severity=sev, fix=None,
                evidence=f"cell {cell.number}: {hit.evidence}" if hit.evidence else "",
            )  # fmt: skip
    return hit
