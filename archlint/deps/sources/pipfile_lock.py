"""Pipfile.lock (JSON): pinned versions, markers and hashes — no file names; the index maps
hashes to files. `_meta.sources` are the indexes; `_meta.requires` the Python version."""

from __future__ import annotations

import json
import re

from archlint.deps.sources.interface import PIPFILE_LOCK, SourceParseError, SourceResult
from archlint.deps.sources.lockcommon import Entry, as_table, bad_entry, locked, strings, tables
from archlint.deps.sources.python_version import major_minor
from archlint.deps.sources.specifiers import pinned_version
from archlint.deps.sources.tomltext import TomlText
from archlint.nesting import deep_line, long_number_line
from archlint.scanning import ScanContext, SourceFile

SECTIONS = ("default", "develop")


def parse(f: SourceFile, ctx: ScanContext, result: SourceResult) -> None:
    text = f.read_text()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SourceParseError(f"invalid JSON: {e.msg}", e.lineno, e.colno) from None
    except RecursionError:
        raise SourceParseError("invalid JSON: arrays or objects nested too deeply", deep_line(text)) from None
    except ValueError:  # a number past CPython's digit limit
        raise SourceParseError("invalid JSON: a number too long to read", long_number_line(text)) from None
    if not isinstance(data, dict):
        raise SourceParseError("Pipfile.lock must be a JSON object")
    meta = as_table(data.get("_meta"))
    for source in tables(meta.get("sources")):
        result.add_index(source.get("url"))
    requires = as_table(meta.get("requires"))
    for key in ("python_version", "python_full_version"):
        mm = major_minor(str(requires.get(key, "")))
        if mm and mm not in result.python_versions:
            result.python_versions.append(mm)
    tt = TomlText(text)  # only for offset -> line/column
    for section in SECTIONS:
        packages = data.get(section)
        if packages is None:
            continue
        m = re.search(rf'"{section}"\s*:', text)
        cursor = m.end() if m else 0
        if not isinstance(packages, dict):
            raise SourceParseError(f"Pipfile.lock: `{section}` must be an object", tt.line_of(cursor) if m else None)
        for name, info in packages.items():
            pos = _key(text, name, cursor)
            if pos is not None:
                cursor = pos + len(name) + 2
                line, column = tt.position(pos)
                entry = Entry(line, column, tt.line_end_column(line))
            else:
                entry = Entry(None)
            if not isinstance(info, dict):
                bad_entry(result, f.rel, entry, "Pipfile.lock", f"{section}.{name} must be an object")
                continue
            version = info.get("version")
            spec = version.strip() if isinstance(version, str) and version.strip() != "*" else ""
            url = None
            if isinstance(info.get("git"), str):
                ref = info.get("ref")
                url = "git+" + info["git"] + (f"@{ref}" if isinstance(ref, str) and ref else "")
            elif isinstance(info.get("file"), str):
                url = info["file"]
            elif isinstance(info.get("path"), str):
                url = info["path"]
            dep = locked(name, pinned_version(spec) if spec else None, f.rel, entry, PIPFILE_LOCK,
                         marker=info.get("markers"), hashes=strings(info.get("hashes")), url=url,
                         editable=info.get("editable") is True, extras=strings(info.get("extras")))  # fmt: skip
            dep.specifier = spec
            result.dependencies.append(dep)


def _key(text: str, name: str, start: int) -> int | None:
    """Offset of the next `"name":` key at or after `start` (pipenv writes `"name": {`)."""
    pos = text.find(f'"{name}": ', start)
    if pos >= 0:
        return pos
    m = re.compile(rf'"{re.escape(name)}"\s*:').search(text, start)
    return m.start() if m else None
