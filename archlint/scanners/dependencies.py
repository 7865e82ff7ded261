"""Dependency readiness: requirement files against the x86-only knowledge base.

The first, offline layer of the dependency engine: every pin of a distribution that never
ships for arm64 is an error at its line, with the portable replacement as an unsafe fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from packaging.utils import canonicalize_name
from pip_requirements_parser import RequirementsFile

from archlint import scanning as k
from archlint.catalogue import knowledge
from archlint.facts import UNAVAILABLE, UNKNOWN, Dependency, Evidence, Facts
from archlint.findings import Applicability, Edit, Finding, Fix
from archlint.scanning import ScanContext, Scanner, SourceFile, guarded


def x86_only() -> dict[str, dict[str, str]]:
    return knowledge("x86_only")["packages"]


def _name_span(line_text: str, name: str) -> tuple[int, int]:
    """1-based start column and exclusive end column of the requirement (name + specifier)."""
    pattern = re.compile(r"[-_.]".join(re.escape(p) for p in re.split(r"[-_.]+", name)), re.IGNORECASE)
    m = pattern.search(line_text)
    if not m:
        return 1, len(line_text) + 1
    end = m.end()
    # Extend over extras and the version specifier, stopping at a marker, option or comment.
    rest = re.match(r"(\[[^\]]*\])?\s*([<>=!~]=?=?\s*[^\s;#,]+(\s*,\s*[<>=!~]=?=?\s*[^\s;#,]+)*)?", line_text[end:])
    if rest:
        end += len(rest.group(0).rstrip())
    return m.start() + 1, end + 1


class DependencyScanner(Scanner):
    name = "dependencies"
    kinds = frozenset({k.REQUIREMENTS})
    order = 10

    def scan(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> Iterable[Finding]:
        yield from guarded(files, lambda f: self._requirements(f, facts))

    def _requirements(self, f: SourceFile, facts: Facts) -> Iterable[Finding]:
        try:
            text = f.read_text()
        except UnicodeDecodeError as e:
            yield Finding(rule="ARCH002", message=f"not valid UTF-8: {e.reason} at byte {e.start}", path=f.rel)
            return
        lines = text.splitlines()
        # from_file, not from_string: the latter is broken upstream (NameError) and writes a temp file anyway.
        rf = RequirementsFile.from_file(str(f.path), include_nested=False)
        for bad in rf.invalid_lines:
            msg = bad.error_message.strip().splitlines()[0]
            yield Finding(rule="ARCH002", message=f"invalid requirement: {msg}", path=f.rel, line=bad.line_number or 1,
                          key=f"invalid:{(bad.line or '').strip()}")  # fmt: skip
        kb = x86_only()
        for req in rf.requirements:
            if not req.name:
                continue
            name = canonicalize_name(req.name)
            lineno = req.line_number or 1
            line_text = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
            start, end = _name_span(line_text, req.name)
            spec = str(req.specifier or "")
            pinned = req.get_pinned_version if req.is_pinned else None
            dep = Dependency(
                name=name,
                version=str(pinned) if pinned else None,
                specifier=spec,
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
            facts.dependencies.append(dep)
            info = kb.get(name)
            if info is None:
                continue
            dep.status = UNAVAILABLE
            dep.reason = info["reason"]
            facts.evidence.append(
                Evidence(path=f.rel, line=lineno, reason=f"{name}: {info['reason']}", blocks_arm64=True, rule="ARCH101")
            )
            replacement = info.get("replacement", "")
            if replacement:
                desc = f"replace {name} with {replacement}"
                content = replacement
                how = f"; use {replacement} instead"
            else:
                desc = f"remove {name} (an optional x86 accelerator)"
                content = ""
                how = "; drop it (it is an optional x86 accelerator)"
            yield Finding(
                rule="ARCH101",
                message=f"{name}{spec} has no arm64 build: {info['reason']}{how}",
                path=f.rel,
                line=lineno,
                column=start,
                end_line=lineno,
                end_column=end,
                key=name,
                fix=Fix(desc, Applicability.UNSAFE, (Edit(f.rel, lineno, start, lineno, end, content),))
                if content
                else Fix(desc, Applicability.UNSAFE, (Edit(f.rel, lineno, 1, lineno + 1, 1, ""),)),
            )
        for dep in facts.dependencies:
            if dep.path == f.rel and dep.status == UNKNOWN and not dep.reason:
                dep.reason = "availability not checked yet"
