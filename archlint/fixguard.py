"""Withdraw fixes that would hide a blocker instead of removing it.

Runs once per scan, after every scanner, because the two sides of each check come from
different scanners (a requirement from the dependency scanner, the code that needs it from
the source scanner). A withdrawn fix keeps its edits for `--show-fixes` but becomes manual, and
its finding says why:

- Dropping (or swapping out) an x86-only distribution while code in its build context still
  imports a module or loads a library that only that distribution provides: the image would
  then fail at import on every architecture, and the blocker would no longer be visible as one.
- Rewriting an architecture gate to admit aarch64 while code behind it (the same file or its
  package) is still x86-only: the gate is what stops the process before it crashes there.
"""

from __future__ import annotations

import fnmatch
import functools
import posixpath
from collections.abc import Iterable
from dataclasses import replace

from archlint.catalogue import knowledge
from archlint.facts import Evidence, Facts
from archlint.findings import Applicability, Finding

DROP_RULES = frozenset({"ARCH101"})
GATE_RULES = frozenset({"ARCH403"})
# Source rules whose key names what the code needs: an import's top-level module, or "load:<lib>".
IMPORT_RULES = frozenset({"ARCH401"})
LOAD_RULES = frozenset({"ARCH404"})


@functools.cache
def _provides() -> dict[str, tuple[frozenset[str], tuple[str, ...]]]:
    """distribution -> (top-level modules, library name globs) that only it provides."""
    modules: dict[str, set[str]] = {}
    for mod, info in knowledge("x86_imports").get("modules", {}).items():
        modules.setdefault(str(info.get("distribution", "")), set()).add(mod)
    out: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {}
    packages = knowledge("x86_only").get("packages", {})
    for dist in {*modules, *packages}:
        libs = tuple(packages.get(dist, {}).get("libraries", ()))
        out[dist] = (frozenset(modules.get(dist, ())), libs)
    return out


def _within(path: str, directory: str) -> bool:
    return directory in ("", ".") or path == directory or path.startswith(directory.rstrip("/") + "/")


def _context_dir(path: str, facts: Facts) -> str:
    """The build context that holds `path` (the deepest one), else the file's own directory."""
    best = ""
    for bc in facts.build_contexts:
        d = bc.directory
        if _within(path, d) and len(d) > len(best):
            best = d
    return best or posixpath.dirname(path) or "."


def _needs(dist: str, context: str, findings: Iterable[Finding]) -> Finding | None:
    """A finding in `context` whose code imports or loads what only `dist` provides."""
    modules, libs = _provides().get(dist, (frozenset(), ()))
    if not modules and not libs:
        return None
    for f in findings:
        if not _within(f.path, context) or (f.severity is not None and f.severity.label != "error"):
            continue
        if f.rule in IMPORT_RULES and f.key in modules:
            return f
        if f.rule in LOAD_RULES and f.key.startswith("load:"):
            lib = posixpath.basename(f.key[5:])
            if any(fnmatch.fnmatch(lib, pat) for pat in libs):
                return f
    return None


def _behind_gate(gate: Finding, evidence: Iterable[Evidence]) -> Evidence | None:
    """Blocking evidence in the gate's file or package (other than gates themselves)."""
    package = posixpath.dirname(gate.path)
    for e in evidence:
        if not e.blocks_arm64 or e.rule in GATE_RULES or not e.rule.startswith("ARCH4"):
            continue
        if e.path == gate.path or posixpath.dirname(e.path) == package:
            return e
    return None


def _withdraw(f: Finding, where: str, why: str) -> Finding:
    assert f.fix is not None
    fix = replace(f.fix, applicability=Applicability.MANUAL, description=f"{f.fix.description}, once {why}")
    return replace(f, fix=fix, message=f"{f.message}; not fixed automatically while {where}")


def guard(findings: list[Finding], facts: Facts) -> list[Finding]:
    """`findings` with the fixes that would hide a blocker withdrawn (made manual)."""
    applicable = (Applicability.SAFE, Applicability.UNSAFE)
    out: list[Finding] = []
    for f in findings:
        if f.fix is None or f.fix.applicability not in applicable:
            out.append(f)
            continue
        if f.rule in DROP_RULES:
            dist = f.key.split(";", 1)[0]
            need = _needs(dist, _context_dir(f.path, facts), findings)
            if need is not None:
                what = f"imports {need.key}" if need.rule in IMPORT_RULES else f"loads {need.key[5:]}"
                where = f"{need.path}:{need.line} {what}"
                f = _withdraw(f, where, f"the code at {where} (which only {dist} provides) is gone")
        elif f.rule in GATE_RULES:
            e = _behind_gate(f, facts.evidence)
            if e is not None:
                where = f"{e.path}:{e.line} behind it is x86-only" if e.line else f"{e.path} behind it is x86-only"
                f = _withdraw(f, where, f"the x86-only code behind the gate ({e.render()}) has an arm64 path")
        out.append(f)
    return out
