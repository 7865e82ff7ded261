"""Dependency readiness: does every pinned or locked distribution install on the arm64 targets?

Parsing of requirement files, pyproject.toml and lockfiles lives in `archlint.deps.sources`;
this scanner derives the targets per directory, asks the package index (or the lockfile's own
file list, or the bundled knowledge base) and reports gaps with upgrade or replacement fixes.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence

from archlint import scanning as k
from archlint.deps import targets as tg
from archlint.deps.check import DependencyCheck
from archlint.deps.index import make_index, make_metadata
from archlint.deps.sources import SourceResult, parse_file
from archlint.deps.sources.interface import Constraint
from archlint.deps.vulns import make_vulnerability_source
from archlint.facts import Dependency, Facts, Target
from archlint.findings import Finding
from archlint.scanning import ScanContext, Scanner, SourceFile, guarded

# Dependency.source values this scanner evaluates (the placement scanner adds "dockerfile" ones).
SOURCES = frozenset({"requirements", "pyproject", "poetry.lock", "uv.lock", "pdm.lock", "pylock.toml",
                     "Pipfile.lock", "dockerfile"})  # fmt: skip


class DependencyScanner(Scanner):
    name = "dependencies"
    kinds = frozenset({k.REQUIREMENTS, k.PYPROJECT, k.POETRY_LOCK, k.UV_LOCK, k.PDM_LOCK, k.PYLOCK,
                       k.PIPFILE_LOCK, k.PYTHON_VERSION})  # fmt: skip
    order = 10

    def scan(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> Iterable[Finding]:
        results: list[tuple[SourceFile, SourceResult]] = []

        def parse(f: SourceFile) -> Iterable[Finding]:
            r = parse_file(f, ctx)
            results.append((f, r))
            facts.dependencies.extend(r.dependencies)
            return r.findings

        yield from guarded(files, parse)
        deps = [d for d in facts.dependencies if d.source in SOURCES]
        if not deps:
            return
        target_sets = self._targets(deps, results, ctx, facts)
        index = make_index(ctx, [u for _, r in results for u in r.index_urls])
        metadata = make_metadata(ctx)
        vulns = make_vulnerability_source(ctx)
        try:
            # One requirements file with its -r includes is one install set: what a file reports
            # is resolved together with the rest of its set (companions), under its -c lines.
            constraints: dict[str, list[Constraint]] = {}
            companions: dict[str, list[Dependency]] = {}
            for _, r in results:
                every = [*r.dependencies, *r.included]
                for path in {d.path for d in r.dependencies}:
                    constraints.setdefault(path, []).extend(r.constraints)
                    companions.setdefault(path, []).extend(d for d in every if d.path != path)
            check = DependencyCheck(ctx, facts, index, vulns, _lines(deps, ctx), metadata, resolve=ctx.resolve,
                                    constraints=constraints, companions=companions)  # fmt: skip
            yield from check.run(deps, target_sets)
        finally:
            index.close()
            metadata.close()

    def _targets(
        self, deps: list[Dependency], results: list[tuple[SourceFile, SourceResult]], ctx: ScanContext, facts: Facts
    ) -> dict[str, tg.TargetSet]:
        version_files: dict[str, str] = {}
        requires: dict[str, str] = {}
        for f, r in results:
            d = posixpath.dirname(f.rel) or "."
            py = tg.python_from_version_file(r.python_versions)
            if py:
                version_files.setdefault(d, py)
            if r.requires_python and f.kind == k.PYPROJECT:
                requires.setdefault(d, r.requires_python)
        out: dict[str, tg.TargetSet] = {}
        seen: dict[Target, None] = {t: None for t in facts.targets}
        for dep in deps:
            d = posixpath.dirname(dep.path) or "."
            if d not in out:
                out[d] = tg.resolve(
                    d,
                    cli_pythons=ctx.pythons,
                    glibc=ctx.config.get("glibc"),
                    hints=facts.runtime_hints,
                    version_files=version_files,
                    requires_python=requires,
                    platforms=tuple(ctx.config.str_list("platforms")) or (tg.ARM64, tg.AMD64),
                )
                seen.update(dict.fromkeys(out[d].targets))
        facts.targets = list(seen)
        return out


def _lines(deps: list[Dependency], ctx: ScanContext) -> dict[str, list[str]]:
    """The text lines of every file that declares a dependency (fix edits need the line)."""
    by_rel = {f.rel: f for f in ctx.files}
    out: dict[str, list[str]] = {}
    for rel in {d.path for d in deps}:
        sf = by_rel.get(rel)
        if sf is None:
            continue
        try:
            out[rel] = sf.read_bytes().decode("utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError, k.FileTooLarge):
            continue
    return out
