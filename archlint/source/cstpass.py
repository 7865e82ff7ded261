"""The libcst pass: parse once, walk once with every rule the filters left.

Kept apart from analyze.py so that libcst (0.1 s to import) is loaded only by a run where some
file gets past both the raw-bytes prefilter and the AST filter."""

from __future__ import annotations

import functools
import gc

import libcst as cst

from archlint.source.context import Context
from archlint.source.interface import Hit, SourceRule
from archlint.source.rules import all_rules
from archlint.source.walker import Walker


@functools.cache
def _walker(codes: frozenset[str]) -> Walker:
    rules: tuple[SourceRule, ...] = tuple(r for r in all_rules() if r.code in codes)
    return Walker(rules)


def libcst_parses(text: str) -> bool:
    try:
        cst.parse_module(text)
    except Exception:
        return False
    return True


def run_rules(text: str, codes: frozenset[str], fixable: bool = True) -> list[Hit]:
    # A parse allocates a million objects and no cycles: the cyclic GC, triggered over and over
    # by the allocations alone, would cost more than the parse (measured 3.5x on platform.py).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError as e:
            return [_unparsable(e)]
        except (RecursionError, MemoryError):
            return [Hit("ARCH499", "not analysed: nested too deeply to parse", 1, key="too-deep")]
        ctx = Context(module, fixable=fixable)
        _walker(codes).run(module, ctx)
        return ctx.hits()
    finally:
        if gc_was_enabled:
            gc.enable()


def _unparsable(e: cst.ParserSyntaxError) -> Hit:
    # Python accepted it (see analyze._screen): libcst's grammar lags behind the interpreter's.
    first = str(e.message).splitlines()[0] if e.message else "unsupported syntax"
    return Hit("ARCH499", f"not analysed: libcst cannot parse line {e.raw_line} ({first})", e.raw_line, key="libcst")
