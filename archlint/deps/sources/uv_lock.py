"""uv.lock: packages with their sdist and wheels (file names answer availability offline).

uv.lock has no per-package environment marker; a package's marker is derived from the markers
on the dependency edges that lead to it from the project (OR over the paths that reach it).
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Any

from packaging.utils import canonicalize_name

from archlint.deps.sources.interface import UV_LOCK, SourceParseError, SourceResult
from archlint.deps.sources.lockcommon import (
    as_table,
    bad_entry,
    entry_at,
    file_names,
    file_ref,
    hash_strings,
    locked,
    strings,
    tables,
    toml_entries,
)
from archlint.deps.sources.tomltext import TomlText, loads
from archlint.scanning import ScanContext, SourceFile

_LOCAL = ("editable", "virtual", "directory", "path")
_MAX_ALTERNATIVES = 8  # a marker ORing more paths than this is treated as "always" (conservative)
_MAX_MARKER = 400


def parse(f: SourceFile, ctx: ScanContext, result: SourceResult) -> None:
    text = f.read_text()
    data = loads(text)
    packages = data.get("package", [])
    if not isinstance(packages, list):
        raise SourceParseError("uv.lock: `package` must be an array of tables")
    rp = data.get("requires-python")
    if isinstance(rp, str):
        result.requires_python = rp
    entries = toml_entries(TomlText(text), "package")
    markers = _markers(packages)
    counts = Counter(
        canonicalize_name(p["name"]) for p in packages if isinstance(p, dict) and isinstance(p.get("name"), str)
    )
    for i, pkg in enumerate(packages):
        entry = entry_at(entries, i)
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            bad_entry(result, f.rel, entry, "uv.lock", "package entry without a name")
            continue
        source = as_table(pkg.get("source"))
        if any(source.get(key) == "." for key in _LOCAL):
            continue  # the project itself
        url: str | None = None
        if isinstance(source.get("registry"), str):
            if "://" in source["registry"]:
                result.add_index(source["registry"])
        elif isinstance(source.get("git"), str):
            url = "git+" + source["git"]
        elif isinstance(source.get("url"), str):
            url = source["url"]
        else:
            url = next((source[key] for key in _LOCAL if isinstance(source.get(key), str)), None)
        files: list[str] = []
        hashes: list[str] = []
        refs = []
        for dist in [pkg.get("sdist"), *tables(pkg.get("wheels"))]:
            if not isinstance(dist, dict):
                continue
            ref = file_ref(dist.get("url"), dist.get("hash"))
            if ref is not None:
                refs.append(ref)
            files += file_names(
                [dist.get("filename") or dist.get("url") or dist.get("path")], result, f.rel, entry, "uv.lock"
            )
            hashes.extend(hash_strings(dist.get("hash")))
        result.dependencies.append(
            locked(
                pkg["name"],
                pkg.get("version"),
                f.rel,
                entry,
                UV_LOCK,
                marker=_fork_marker(pkg)
                if counts[canonicalize_name(pkg["name"])] > 1
                else markers.get(canonicalize_name(pkg["name"])),
                files=files,
                hashes=hashes,
                url=url,
                editable="editable" in source,
                file_refs=refs,
            )
        )


def _fork_marker(pkg: dict[str, Any]) -> str | None:
    """A package locked at several versions (a forked resolution): each version's
    `resolution-markers` say where it is the one installed."""
    forks = strings(pkg.get("resolution-markers"))
    if not forks:
        return None
    return forks[0] if len(forks) == 1 else " or ".join(f"({m})" for m in forks)


def _edges(pkg: dict[str, Any]) -> list[tuple[str, str | None]]:
    groups = [pkg.get("dependencies")]
    for key in ("optional-dependencies", "dev-dependencies"):
        extra = pkg.get(key)
        if isinstance(extra, dict):
            groups.extend(extra.values())
    out: list[tuple[str, str | None]] = []
    for group in groups:
        for dep in tables(group):
            if isinstance(dep.get("name"), str):
                marker = dep.get("marker")
                out.append((canonicalize_name(dep["name"]), marker if isinstance(marker, str) else None))
    return out


def _markers(packages: list[Any]) -> dict[str, str | None]:
    """name -> the environment marker under which the project installs it (None: always)."""
    edges: dict[str, list[tuple[str, str | None]]] = {}
    roots: list[str] = []
    for pkg in packages:
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            continue
        name = canonicalize_name(pkg["name"])
        edges.setdefault(name, []).extend(_edges(pkg))
        source = as_table(pkg.get("source"))
        if any(source.get(key) == "." for key in _LOCAL):
            roots.append(name)
    if not roots:
        targets = {child for es in edges.values() for child, _ in es}
        roots = [n for n in edges if n not in targets]
    # None: unconditional; a frozenset: the OR of these conditions.
    cond: dict[str, frozenset[str] | None] = {r: None for r in roots}
    queue = deque(roots)
    budget = 50 * (len(edges) + 1)
    while queue and budget > 0:
        budget -= 1
        parent = queue.popleft()
        for child, marker in edges.get(parent, []):
            new = _merge(cond[child], _and(cond[parent], marker)) if child in cond else _and(cond[parent], marker)
            if child not in cond or new != cond[child]:
                cond[child] = new
                queue.append(child)
    out: dict[str, str | None] = {}
    for node, c in cond.items():
        if c is None:
            out[node] = None
        else:
            out[node] = " or ".join(f"({m})" for m in sorted(c)) if len(c) > 1 else next(iter(c))
    return out


def _and(parent: frozenset[str] | None, marker: str | None) -> frozenset[str] | None:
    if parent is None:
        return frozenset({marker}) if marker else None
    if not marker:
        return parent
    combined = frozenset(f"({p}) and ({marker})" if p != marker else p for p in parent)
    return None if any(len(m) > _MAX_MARKER for m in combined) else combined


def _merge(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None or b is None:
        return None
    merged = a | b
    return None if len(merged) > _MAX_ALTERNATIVES else merged
