"""pdm.lock: packages with their files, markers (inherit_metadata strategy) and extras."""

from __future__ import annotations

from packaging.utils import canonicalize_name

from archlint.deps.sources.interface import PDM_LOCK, SourceParseError, SourceResult
from archlint.deps.sources.lockcommon import (
    as_table,
    bad_entry,
    entry_at,
    file_names,
    hash_strings,
    locked,
    strings,
    tables,
    toml_entries,
)
from archlint.deps.sources.tomltext import TomlText, loads
from archlint.scanning import ScanContext, SourceFile


def parse(f: SourceFile, ctx: ScanContext, result: SourceResult) -> None:
    text = f.read_text()
    data = loads(text)
    packages = data.get("package", [])
    if not isinstance(packages, list):
        raise SourceParseError("pdm.lock: `package` must be an array of tables")
    metadata = as_table(data.get("metadata"))
    for target in tables(metadata.get("targets")):
        if isinstance(target.get("requires_python"), str):
            result.requires_python = target["requires_python"]
            break
    else:
        if isinstance(metadata.get("requires_python"), str):  # lock_version 4.4 and older
            result.requires_python = metadata["requires_python"]
    # lock_version < 4.1 kept the file lists apart: [metadata.files] "name version" = [...]
    old_files: dict[tuple[str, str], object] = {}
    for key, value in as_table(metadata.get("files")).items():
        name, _, version = str(key).partition(" ")
        old_files[(canonicalize_name(name), version.strip())] = value
    entries = toml_entries(TomlText(text), "package")
    for i, pkg in enumerate(packages):
        entry = entry_at(entries, i)
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            bad_entry(result, f.rel, entry, "pdm.lock", "package entry without a name")
            continue
        if "files" in pkg:
            file_list = tables(pkg.get("files"))
        else:
            file_list = tables(old_files.get((canonicalize_name(pkg["name"]), str(pkg.get("version", "")))))
        files = file_names((d.get("file") or d.get("url") for d in file_list), result, f.rel, entry, "pdm.lock")
        hashes = [h for d in file_list for h in hash_strings(d.get("hash"))]
        url = None
        if isinstance(pkg.get("git"), str):
            rev = pkg.get("revision") or pkg.get("ref")
            url = "git+" + pkg["git"] + (f"@{rev}" if isinstance(rev, str) and rev else "")
        elif isinstance(pkg.get("url"), str):
            url = pkg["url"]
        elif isinstance(pkg.get("path"), str):
            url = pkg["path"]
        result.dependencies.append(
            locked(
                pkg["name"],
                pkg.get("version"),
                f.rel,
                entry,
                PDM_LOCK,
                marker=pkg.get("marker"),
                files=files,
                hashes=hashes,
                url=url,
                editable=pkg.get("editable") is True,
                extras=strings(pkg.get("extras")),
            )
        )
