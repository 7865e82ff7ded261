"""pyproject.toml: PEP 621 dependencies and optional-dependencies, PEP 735 dependency groups,
Poetry's `[tool.poetry.*dependencies]`, requires-python, and the package indexes that uv,
Poetry and PDM are configured with."""

from __future__ import annotations

import re
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from archlint.deps.sources import pep508
from archlint.deps.sources.interface import PYPROJECT, SourceResult
from archlint.deps.sources.lockcommon import as_table, normal_marker
from archlint.deps.sources.specifiers import pinned_version, poetry_to_pep440
from archlint.deps.sources.tomltext import TomlText, loads
from archlint.facts import Dependency
from archlint.findings import Finding
from archlint.scanning import ScanContext, SourceFile

_URL_KEYS = ("git", "url", "path", "file")
_INDENT = re.compile(r"[ \t]*")


def parse(f: SourceFile, ctx: ScanContext, result: SourceResult) -> None:
    text = f.read_text()
    data = loads(text)
    p = _Pyproject(f.rel, TomlText(text), result)
    tool = as_table(data.get("tool"))
    project = data.get("project")
    if isinstance(project, dict):
        rp = project.get("requires-python")
        if isinstance(rp, str):
            result.requires_python = rp
        p.pep508_array(project.get("dependencies"), "project", "dependencies")
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for group, reqs in optional.items():
                p.pep508_array(reqs, "project.optional-dependencies", group, parent="project")
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        for group, reqs in groups.items():
            p.pep508_array(reqs, "dependency-groups", group)
    _apply_uv_sources(result, f.rel, as_table(as_table(tool.get("uv")).get("sources")))
    poetry = tool.get("poetry")
    if isinstance(poetry, dict):
        p.poetry(poetry)
    _indexes(tool, result)


def _apply_uv_sources(result: SourceResult, rel: str, sources: dict[str, Any]) -> None:
    """`[tool.uv.sources]` turns a plain name into a git, URL, path or workspace dependency: give
    it the url, so it is not looked up on the package index under a name that may not exist there."""
    by_name: dict[str, Any] = {canonicalize_name(str(k)): v for k, v in sources.items()}
    for dep in result.dependencies:
        src = by_name.get(dep.name)
        if dep.path != rel or dep.url is not None or not isinstance(src, dict):
            continue  # a list of sources (per marker) or a named index: the name stands
        if isinstance(src.get("git"), str):
            ref = next((src[k] for k in ("rev", "tag", "branch") if isinstance(src.get(k), str)), None)
            dep.url = "git+" + src["git"] + (f"@{ref}" if ref else "")
        elif isinstance(src.get("url"), str):
            dep.url = src["url"]
        elif isinstance(src.get("path"), str):
            dep.url = src["path"]
            dep.editable = src.get("editable") is True
        elif src.get("workspace") is True:
            dep.url, dep.editable = "workspace", True
        else:
            continue
        dep.version = None


def _indexes(tool: dict[str, Any], result: SourceResult) -> None:
    uv = as_table(tool.get("uv"))
    for entry in _tables(uv.get("index")):
        result.add_index(entry.get("url"))
    result.add_index(uv.get("index-url"))
    extra = uv.get("extra-index-url")
    for url in extra if isinstance(extra, list) else [extra]:
        result.add_index(url)
    for name in ("poetry", "pdm"):
        table = as_table(tool.get(name))
        for entry in _tables(table.get("source")):
            result.add_index(entry.get("url"))


def _tables(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


class _Pyproject:
    def __init__(self, rel: str, tt: TomlText, result: SourceResult) -> None:
        self.rel = rel
        self.tt = tt
        self.result = result

    def error(self, message: str, line: int, key: str) -> None:
        self.result.findings.append(Finding(rule="ARCH002", message=message, path=self.rel, line=line, key=key))

    def _key_offset(self, table: str, key: str, parent: str | None = None) -> int | None:
        """Where `key` of `table` is assigned: in `[table]`, else inline under `[parent]`."""
        for name in (table, parent):
            region = self.tt.table(name) if name else None
            if region:
                off = self.tt.key(key, *region)
                if off is not None:
                    return off
        return self.tt.key(key, 0, len(self.tt.text))

    def pep508_array(self, value: object, table: str, key: str, parent: str | None = None) -> None:
        if value is None:
            return
        start = self._key_offset(table, key, parent)
        key_line = self.tt.line_of(start) if start is not None else 1
        if not isinstance(value, list):
            self.error(f"{table}.{key} must be an array of requirement strings", key_line, f"type:{table}.{key}")
            return
        cursor = start or 0
        for item in value:
            if isinstance(item, dict):  # PEP 735 {include-group = "..."}
                continue
            if not isinstance(item, str):
                self.error(f"{table}.{key}: {item!r} is not a requirement string", key_line, f"type:{table}.{key}")
                continue
            found = self.tt.string(item, cursor)
            if found:
                cursor = found[1]
                line, col, end = self.tt.span(*found)
            else:
                line, col, end = key_line, 1, None
            try:
                dep = pep508.dependency(item, self.rel, line, PYPROJECT, col, end)
            except pep508.InvalidRequirement as e:
                msg = " ".join(str(e).split())
                self.error(f"invalid requirement {item!r} in {table}.{key}: {msg}", line, f"invalid:{item}")
                continue
            self.result.dependencies.append(dep)

    # --- Poetry ------------------------------------------------------------------------------
    def poetry(self, poetry: dict[str, Any]) -> None:
        tables: list[tuple[str, object]] = [
            ("tool.poetry.dependencies", poetry.get("dependencies")),
            ("tool.poetry.dev-dependencies", poetry.get("dev-dependencies")),
        ]
        groups = poetry.get("group")
        if isinstance(groups, dict):
            for name, group in groups.items():
                if isinstance(group, dict):
                    tables.append((f"tool.poetry.group.{name}.dependencies", group.get("dependencies")))
        for table, deps in tables:
            if not isinstance(deps, dict):
                continue
            region = self.tt.table(table)
            for key, value in deps.items():
                off = self.tt.key(key, *region) if region else None
                if off is None:  # [tool.poetry.dependencies.numpy] sub-table
                    sub = self.tt.table(f"{table}.{key}")
                    off = sub[0] if sub else None
                if key.lower() == "python":
                    if self.result.requires_python is None and isinstance(value, str):
                        self.result.requires_python = poetry_to_pep440(value) or value
                    continue
                line = self.tt.line_of(off) if off is not None else None
                items = value if isinstance(value, list) else [value]
                for item in items:
                    dep = self._poetry_dep(key, item, table, line, off)
                    if dep is not None:
                        self.result.dependencies.append(dep)

    def _poetry_dep(self, key: str, item: object, table: str, line: int | None, off: int | None) -> Dependency | None:
        constraint: object = item
        extras: tuple[str, ...] = ()
        marker: str | None = None
        url: str | None = None
        editable = False
        if isinstance(item, dict):
            constraint = item.get("version", "")
            raw_extras = item.get("extras")
            if isinstance(raw_extras, list):
                extras = tuple(sorted(str(e) for e in raw_extras))
            marker = _poetry_marker(item)
            for url_key in _URL_KEYS:
                if isinstance(item.get(url_key), str):
                    url = str(item[url_key])
                    if url_key == "git":
                        url = "git+" + url + (f"@{item['rev']}" if isinstance(item.get("rev"), str) else "")
                    break
            editable = bool(item.get("develop"))
        if not isinstance(constraint, str):
            self.error(f"{table}.{key}: unsupported value {item!r}", line or 1, f"type:{table}.{key}")
            return None
        spec = poetry_to_pep440(constraint)
        if spec is None:
            spec = constraint  # a || union: no PEP 440 equivalent; kept as written
        if off is not None:
            ln, col = self.tt.position(off)
            col += _INDENT.match(self.tt.text, off).end() - off  # type: ignore[union-attr]  # always matches
            end: int | None = self.tt.line_end_column(ln)
        else:
            col, end = 1, None
        return Dependency(
            name=canonicalize_name(key),
            version=pinned_version(spec) if spec and url is None else None,
            specifier=spec,
            path=self.rel,
            line=line,
            source=PYPROJECT,
            marker=marker,
            extras=extras,
            url=url,
            editable=editable,
            column=col,
            end_column=end,
        )


def _poetry_marker(item: dict[str, Any]) -> str | None:
    parts = []
    markers = item.get("markers")
    if isinstance(markers, str) and markers.strip():
        parts.append(markers.strip())
    python = item.get("python")
    if isinstance(python, str):
        spec = poetry_to_pep440(python)
        try:
            specs = list(SpecifierSet(spec)) if spec else []
        except InvalidSpecifier:
            specs = []
        if specs:
            parts.append(" and ".join(f'python_version {s.operator} "{s.version}"' for s in specs))
    if len(parts) > 1:
        return normal_marker(" and ".join(f"({p})" for p in parts))
    return normal_marker(parts[0]) if parts else None
