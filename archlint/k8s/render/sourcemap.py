"""From a rendered object back to where it is written: for Helm, the template file named by the
`# Source:` comment helm puts before every document, and the line in it (the template's lines
are found by key, in order, since templating moves them); for kustomize, the raw object in the
files the kustomization reads (same kind, and the same name or that name inside kustomize's
namePrefix/nameSuffix)."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path

from archlint.k8s.objects import KObject, pod_templates

Path_ = tuple[str | int, ...]
_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$", re.MULTILINE)
_DOC_START = re.compile(r"^---(?:\s|$)")


# ------------------------------------------------------------------ helm


@dataclass
class HelmSources:
    """The `# Source:` comments of `helm template` output, by line."""

    lines: list[int] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, text: str) -> HelmSources:
        out = cls()
        for m in _SOURCE.finditer(text):
            out.lines.append(text.count("\n", 0, m.start()) + 1)
            out.paths.append(m.group(1))
        return out

    def at(self, line: int) -> str | None:
        """The source of the document whose content includes `line` (the last comment above it)."""
        i = bisect.bisect_right(self.lines, line) - 1
        return self.paths[i] if i >= 0 else None


def template_file(chart_dir: Path, chart_name: str, source: str) -> Path | None:
    """`shop/templates/x.yaml` or `shop/charts/redis/templates/y.yaml` -> the file in the chart
    directory (subcharts are named by directory in the Source path); None when it is not there
    (a subchart packaged as .tgz)."""
    parts = source.split("/")
    if len(parts) < 2 or parts[0] != chart_name or ".." in parts:
        return None
    p = chart_dir.joinpath(*parts[1:])
    return p if p.is_file() else None


def packaged_subchart(chart_dir: Path, chart_name: str, source: str) -> Path | None:
    """For a Source inside a packaged subchart (charts/redis/… with charts/redis-1.2.3.tgz), the
    archive: the nearest real file a finding can point at."""
    parts = source.split("/")
    if len(parts) < 4 or parts[0] != chart_name or parts[1] != "charts":
        return None
    for p in sorted((chart_dir / "charts").glob(f"{parts[2]}-*.tgz")):
        return p
    return None


class TemplateLines:
    """Finds the line of a rendered field in its template by following the keys of its path in
    order from the object's `kind:` line (the n-th list item's key as its n-th occurrence)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self._kinds: dict[str, list[int]] = {}
        self._starts = [i for i, ln in enumerate(self.lines) if _DOC_START.match(ln)]

    def kind_lines(self, kind: str) -> list[int]:
        if kind not in self._kinds:
            pat = re.compile(rf"^\s*kind:\s*[\"']?{re.escape(kind)}[\"']?\s*(?:#.*)?$")
            self._kinds[kind] = [i for i, ln in enumerate(self.lines) if pat.match(ln)]
        return self._kinds[kind]

    def _region(self, start: int) -> tuple[int, int]:
        """The lines of the template document that holds line `start` (0-based, half-open)."""
        i = bisect.bisect_right(self._starts, start)
        lo = self._starts[i - 1] if i > 0 else 0
        hi = self._starts[i] if i < len(self._starts) else len(self.lines)
        return lo, hi

    def anchor(self, kind: str, nth: int) -> int:
        """0-based line of the nth (0-based) `kind:` of this kind, else of the first, else 0."""
        ks = self.kind_lines(kind)
        if not ks:
            return 0
        return ks[nth] if nth < len(ks) else ks[0]

    def span(self, anchor: int) -> tuple[int, int]:
        """1-based first and last line of the template document from its `kind:` line."""
        _lo, hi = self._region(anchor)
        return anchor + 1, max(anchor + 1, hi)

    def locate(self, anchor: int, path: Path_) -> tuple[int, int]:
        """(line, column), 1-based, of the deepest key of `path` found; the anchor otherwise."""
        lo, hi = self._region(anchor)
        pos = anchor if anchor >= lo else lo
        found = (pos, self._col(pos))
        nth = 0
        for step in path:
            if isinstance(step, int):
                nth = step
                continue
            pat = re.compile(rf"^(\s*(?:-\s+)?)[\"']?{re.escape(step)}[\"']?\s*:")
            hits = 0
            for i in range(pos, hi):
                m = pat.match(self.lines[i])
                if m:
                    if hits == nth:
                        pos = i
                        found = (i, len(m.group(1)) + 1)
                        break
                    hits += 1
            else:
                break
            nth = 0
        return found[0] + 1, found[1]

    def _col(self, i: int) -> int:
        if i >= len(self.lines):
            return 1
        ln = self.lines[i]
        return len(ln) - len(ln.lstrip()) + 1


# ------------------------------------------------------------------ kustomize


@dataclass
class Raw:
    """A raw object in a file a kustomization renders: where rendered findings point."""

    rel: str
    text: str
    obj: KObject


def match(obj: KObject, raws: dict[tuple[str, str], list[Raw]]) -> Raw | None:
    """The raw object a rendered one came from: same kind, and the raw name is the rendered
    name or what is left of it after kustomize's namePrefix/nameSuffix."""
    exact = raws.get((obj.kind, obj.name))
    candidates = exact or [r for (kind, name), rs in raws.items() if kind == obj.kind and name in obj.name for r in rs]
    if not candidates:
        return None
    # Prefer full objects (with images) over strategic-merge patches, then the longest name.
    return max(candidates, key=lambda r: (any(True for _ in pod_templates(r.obj)), len(r.obj.name)))
