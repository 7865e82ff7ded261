"""Dependency readiness: does every pinned or locked distribution install on the arm64 targets?

Parsing of requirement files, pyproject.toml and lockfiles lives in `archlint.deps.sources`;
this scanner derives the targets per directory, asks the package index (or the lockfile's own
file list, or the bundled knowledge base) and reports gaps with upgrade or replacement fixes.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from archlint import scanning as k
from archlint.deps import targets as tg
from archlint.deps.check import DependencyCheck
from archlint.deps.index import make_index
from archlint.deps.vulns import make_vulnerability_source
from archlint.facts import Dependency, Facts, Target
from archlint.findings import Finding
from archlint.scanning import ScanContext, Scanner, SourceFile, guarded

# Dependency.source values this scanner evaluates (the placement scanner adds "dockerfile" ones).
SOURCES = frozenset({"requirements", "pyproject", "poetry.lock", "uv.lock", "pdm.lock", "pylock.toml",
                     "Pipfile.lock", "dockerfile"})  # fmt: skip

try:  # the parsers (helper H1a); until they land, requirement files are parsed inline below
    from archlint.deps.sources import SourceResult, parse_file
except ImportError:  # pragma: no cover - transitional
    from pip_requirements_parser import RequirementsFile

    @dataclass
    class SourceResult:  # type: ignore[no-redef]
        dependencies: list[Dependency] = field(default_factory=list)
        findings: list[Finding] = field(default_factory=list)
        index_urls: list[str] = field(default_factory=list)
        requires_python: str | None = None
        python_versions: list[str] = field(default_factory=list)

    def _name_span(line_text: str, name: str) -> tuple[int, int]:
        pattern = re.compile(r"[-_.]".join(re.escape(p) for p in re.split(r"[-_.]+", name)), re.IGNORECASE)
        m = pattern.search(line_text)
        if not m:
            return 1, len(line_text) + 1
        end = m.end()
        rest = re.match(r"(\[[^\]]*\])?\s*([<>=!~]=?=?\s*[^\s;#,]+(\s*,\s*[<>=!~]=?=?\s*[^\s;#,]+)*)?", line_text[end:])
        if rest:
            end += len(rest.group(0).rstrip())
        return m.start() + 1, end + 1

    def parse_file(f: SourceFile, ctx: ScanContext) -> SourceResult:
        out = SourceResult()
        if f.kind == k.PYTHON_VERSION:
            out.python_versions = f.read_text().split()
            return out
        if f.kind != k.REQUIREMENTS:
            return out
        lines = f.read_text().splitlines()
        rf = RequirementsFile.from_file(str(f.path), include_nested=False)
        for bad in rf.invalid_lines:
            msg = bad.error_message.strip().splitlines()[0]
            key = f"invalid:{(bad.line or '').strip()}"
            out.findings.append(
                Finding(
                    rule="ARCH002",
                    message=f"invalid requirement: {msg}",
                    path=f.rel,
                    line=bad.line_number or 1,
                    key=key,
                )
            )
        for opt in rf.options:
            for key in ("index_url", "extra_index_urls"):
                val = opt.options.get(key)
                out.index_urls.extend([val] if isinstance(val, str) else (val or []))
        for req in rf.requirements:
            if not req.name:
                continue
            lineno = req.line_number or 1
            start, end = _name_span(lines[lineno - 1] if 0 < lineno <= len(lines) else "", req.name)
            pinned = req.get_pinned_version if req.is_pinned else None
            out.dependencies.append(
                Dependency(
                    name=canonicalize_name(req.name),
                    version=str(pinned) if pinned else None,
                    specifier=str(req.specifier or ""),
                    path=f.rel,
                    line=lineno,
                    source="requirements",
                    marker=str(req.marker) if req.marker else None,
                    extras=tuple(sorted(req.extras or ())),
                    hashes=tuple(req.hash_options or ()),
                    url=str(req.link) if req.link else None,
                    editable=bool(req.is_editable),
                    column=start,
                    end_column=end,
                )
            )
        return out


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
        vulns = make_vulnerability_source(ctx)
        vulns.warm_up()
        try:
            check = DependencyCheck(ctx, facts, index, vulns, _lines(deps, ctx))
            yield from check.run(deps, target_sets)
        finally:
            index.close()

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
