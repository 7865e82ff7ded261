"""pylock.toml (PEP 751): validated with `packaging.pylock` (packaging >= 25) when available; a
file it rejects is reported and then read leniently from the raw tables, as with older packaging."""

from __future__ import annotations

from typing import Any

from archlint.deps.sources.interface import PYLOCK, SourceParseError, SourceResult
from archlint.deps.sources.lockcommon import (
    Entry,
    bad_entry,
    entry_at,
    file_names,
    file_ref,
    hash_strings,
    locked,
    tables,
    toml_entries,
)
from archlint.deps.sources.tomltext import TomlText, loads
from archlint.findings import Finding
from archlint.scanning import ScanContext, SourceFile

try:
    from packaging import pylock as _pylock
except ImportError:  # packaging < 25
    _pylock = None  # type: ignore[assignment]


def parse(f: SourceFile, ctx: ScanContext, result: SourceResult) -> None:
    text = f.read_text()
    data = loads(text)
    entries = toml_entries(TomlText(text), "packages")
    if _pylock is not None:
        try:
            lock = _pylock.Pylock.from_dict(data)
        except Exception as e:  # PylockValidationError, PylockUnsupportedVersionError, or a library bug
            result.findings.append(
                Finding(
                    rule="ARCH002",
                    message=f"invalid pylock.toml: {e}",
                    path=f.rel,
                    line=_error_line(e, entries),
                    key=f"pylock:{type(e).__name__}",
                )
            )
        else:
            _from_pylock(lock, f.rel, entries, result)
            return
    _from_raw(data, f.rel, entries, result)


def _error_line(e: Exception, entries: list[Entry]) -> int:
    # PylockValidationError names the failing key, e.g. "packages[3].wheels[0].hashes".
    context = getattr(e, "context", None) or str(e)
    if isinstance(context, str) and context.startswith("packages["):
        try:
            return entry_at(entries, int(context[len("packages[") :].split("]", 1)[0])).line or 1
        except ValueError:
            pass
    return 1


def _from_pylock(lock: Any, rel: str, entries: list[Entry], result: SourceResult) -> None:
    if lock.requires_python is not None:
        result.requires_python = str(lock.requires_python)
    for i, pkg in enumerate(lock.packages):
        entry = entry_at(entries, i)
        if pkg.index:
            result.add_index(pkg.index)
        dists = [d for d in [pkg.sdist, *(pkg.wheels or ())] if d is not None]
        files = [d.name for d in dists if d.name]
        files += file_names((d.url or d.path for d in dists if not d.name), result, rel, entry, "pylock.toml")
        refs = [r for d in dists if (r := file_ref(d.url, dict(d.hashes))) is not None]
        hashes = [h for d in dists for h in hash_strings(dict(d.hashes))]
        url = None
        editable = False
        if pkg.vcs is not None:
            url = f"{pkg.vcs.type}+{pkg.vcs.url or pkg.vcs.path}@{pkg.vcs.commit_id}"
        elif pkg.archive is not None:
            url = pkg.archive.url or pkg.archive.path
            hashes.extend(hash_strings(dict(pkg.archive.hashes)))
        elif pkg.directory is not None:
            url, editable = pkg.directory.path, bool(pkg.directory.editable)
        result.dependencies.append(
            locked(
                pkg.name,
                str(pkg.version) if pkg.version else None,
                rel,
                entry,
                PYLOCK,
                marker=str(pkg.marker) if pkg.marker else None,
                files=files,
                hashes=hashes,
                url=url,
                editable=editable,
                file_refs=refs,
            )
        )


def _from_raw(data: dict[str, Any], rel: str, entries: list[Entry], result: SourceResult) -> None:
    packages = data.get("packages", [])
    if not isinstance(packages, list):
        raise SourceParseError("pylock.toml: `packages` must be an array of tables")
    if isinstance(data.get("requires-python"), str):
        result.requires_python = data["requires-python"]
    for i, pkg in enumerate(packages):
        entry = entry_at(entries, i)
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            bad_entry(result, rel, entry, "pylock.toml", "package entry without a name")
            continue
        if isinstance(pkg.get("index"), str):
            result.add_index(pkg["index"])
        sdist = pkg.get("sdist")
        dists = ([sdist] if isinstance(sdist, dict) else []) + tables(pkg.get("wheels"))
        files = [d["name"] for d in dists if isinstance(d.get("name"), str) and d["name"]]
        unnamed = (d.get("url") or d.get("path") for d in dists if not (isinstance(d.get("name"), str) and d["name"]))
        files += file_names(unnamed, result, rel, entry, "pylock.toml")
        refs = [r for d in dists if (r := file_ref(d.get("url"), d.get("hashes"))) is not None]
        hashes = [h for d in dists for h in hash_strings(d.get("hashes"))]
        url = None
        editable = False
        vcs, archive, directory = pkg.get("vcs"), pkg.get("archive"), pkg.get("directory")
        if isinstance(vcs, dict):
            url = f"{vcs.get('type', 'git')}+{vcs.get('url') or vcs.get('path')}@{vcs.get('commit-id', '')}"
        elif isinstance(archive, dict):
            url = archive.get("url") or archive.get("path")
            hashes.extend(hash_strings(archive.get("hashes")))
        elif isinstance(directory, dict):
            url, editable = directory.get("path"), directory.get("editable") is True
        result.dependencies.append(
            locked(
                pkg["name"],
                pkg.get("version"),
                rel,
                entry,
                PYLOCK,
                marker=pkg.get("marker"),
                files=files,
                hashes=hashes,
                url=url if isinstance(url, str) else None,
                editable=editable,
                file_refs=refs,
            )
        )
