"""poetry.lock: both layouts — per-package `files = [...]` (lock-version 2.x, Poetry >= 1.3) and
the older `[metadata.files]` table (lock-version 1.x)."""

from __future__ import annotations

from typing import Any

from packaging.utils import canonicalize_name

from archlint.deps.sources.interface import POETRY_LOCK, SourceParseError, SourceResult
from archlint.deps.sources.lockcommon import (
    as_table,
    bad_entry,
    entry_at,
    file_names,
    hash_strings,
    locked,
    tables,
    toml_entries,
)
from archlint.deps.sources.specifiers import poetry_to_pep440
from archlint.deps.sources.tomltext import TomlText, loads
from archlint.scanning import ScanContext, SourceFile


def parse(f: SourceFile, ctx: ScanContext, result: SourceResult) -> None:
    text = f.read_text()
    data = loads(text)
    packages = data.get("package", [])
    if not isinstance(packages, list):
        raise SourceParseError("poetry.lock: `package` must be an array of tables")
    metadata = as_table(data.get("metadata"))
    pv = metadata.get("python-versions")
    if isinstance(pv, str) and pv.strip() and pv.strip() != "*":
        result.requires_python = poetry_to_pep440(pv) or pv
    old_files = as_table(metadata.get("files"))
    by_name = {canonicalize_name(str(k)): v for k, v in old_files.items()}
    entries = toml_entries(TomlText(text), "package")
    for i, pkg in enumerate(packages):
        entry = entry_at(entries, i)
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            bad_entry(result, f.rel, entry, "poetry.lock", "package entry without a name")
            continue
        name = canonicalize_name(pkg["name"])
        file_list = tables(pkg.get("files")) if "files" in pkg else tables(by_name.get(name))
        files = file_names((d.get("file") for d in file_list), result, f.rel, entry, "poetry.lock")
        hashes = [h for d in file_list for h in hash_strings(d.get("hash"))]
        url, editable = _source(pkg.get("source"), result)
        result.dependencies.append(
            locked(
                pkg["name"],
                pkg.get("version"),
                f.rel,
                entry,
                POETRY_LOCK,
                marker=_marker(pkg),
                files=files,
                hashes=hashes,
                url=url,
                editable=editable,
            )
        )


def _source(source: object, result: SourceResult) -> tuple[str | None, bool]:
    if not isinstance(source, dict):
        return None, False
    kind, url = source.get("type"), source.get("url")
    if not isinstance(url, str):
        return None, False
    if kind == "legacy":
        result.add_index(url)
        return None, False
    if kind == "git":
        ref = source.get("resolved_reference") or source.get("reference")
        return "git+" + url + (f"@{ref}" if isinstance(ref, str) and ref else ""), False
    return url, bool(source.get("develop"))  # directory, file, url


def _marker(pkg: dict[str, Any]) -> str | None:
    markers = pkg.get("markers")
    if isinstance(markers, str):
        return markers
    if isinstance(markers, dict):  # Poetry 2: per group; a group without one installs it always
        groups = [g for g in pkg.get("groups", []) if isinstance(g, str)] or list(markers)
        values = [markers.get(g) for g in groups]
        if all(isinstance(v, str) and v for v in values):
            unique = list(dict.fromkeys(str(v) for v in values))
            return unique[0] if len(unique) == 1 else " or ".join(f"({v})" for v in unique)
    return None
