"""Dependency sources: requirement files, pyproject.toml, lockfiles and .python-version, parsed
into `Dependency` records (pip-audit's `_dependency_source` layout: `interface.py` plus one module
per format).

`parse_file` is the one entry point: it never raises for bad input; a file that cannot be
parsed becomes an ARCH002 finding (with the line where known) and an empty or partial result.
"""

from __future__ import annotations

from collections.abc import Callable

from archlint import scanning as k
from archlint.deps.sources import (
    pdm_lock,
    pipfile_lock,
    poetry_lock,
    pylock,
    pyproject,
    python_version,
    requirements,
    uv_lock,
)
from archlint.deps.sources.interface import SourceError, SourceParseError, SourceResult
from archlint.facts import Dependency
from archlint.findings import Finding
from archlint.nesting import ABSURD_NUMBER
from archlint.scanning import ScanContext, SourceFile

Parser = Callable[[SourceFile, ScanContext, SourceResult], None]

PARSERS: dict[str, Parser] = {
    k.REQUIREMENTS: requirements.parse,
    k.PYPROJECT: pyproject.parse,
    k.POETRY_LOCK: poetry_lock.parse,
    k.UV_LOCK: uv_lock.parse,
    k.PDM_LOCK: pdm_lock.parse,
    k.PYLOCK: pylock.parse,
    k.PIPFILE_LOCK: pipfile_lock.parse,
    k.PYTHON_VERSION: python_version.parse,
}

KINDS = frozenset(PARSERS)


def parse_file(f: SourceFile, ctx: ScanContext) -> SourceResult:
    """Parse one dependency source of a kind in KINDS (other kinds give an empty result).

    Unreadable files (OSError, FileTooLarge) propagate, for `scanning.guarded` to report as ARCH001.
    """
    result = SourceResult()
    parser = PARSERS.get(f.kind)
    if parser is None:
        return result
    try:
        parser(f, ctx, result)
    except UnicodeDecodeError as e:
        data = f.data or b""
        line = data[: e.start].count(b"\n") + 1 if data else 1
        result.findings.append(
            Finding(
                rule="ARCH002",
                message=f"not valid UTF-8: {e.reason} at byte {e.start}",
                path=f.rel,
                line=line,
                key="encoding",
            )
        )
    except SourceParseError as e:
        result.findings.append(
            Finding(
                rule="ARCH002",
                message=e.message,
                path=f.rel,
                line=e.line or 1,
                column=e.column or 1,
                key=f"parse:{e.message}",
            )
        )
    result.dependencies = drop_absurd(result.dependencies, result.findings)
    if result.requires_python and ABSURD_NUMBER.search(result.requires_python):
        result.findings.append(Finding(rule="ARCH002", message="requires-python holds a number hundreds of digits "
                                       "long; ignored", path=f.rel, line=1, key="absurd:requires-python"))  # fmt: skip
        result.requires_python = None
    result.python_versions = [v for v in result.python_versions if not ABSURD_NUMBER.search(v)]
    return result


def drop_absurd(deps: list[Dependency], findings: list[Finding]) -> list[Dependency]:
    """Dependencies whose version, specifier, marker or file names hold a number no installer
    can compare (hundreds of digits) are reported (ARCH002) and left out of the checks."""
    kept = []
    for d in deps:
        if ABSURD_NUMBER.search(" ".join((d.version or "", d.specifier, d.marker or "", *d.files))):
            findings.append(Finding(rule="ARCH002", message=f"{d.name}: a version number hundreds of digits long; "
                                    "not checked", path=d.path, line=d.line or 1, key=f"absurd:{d.name}"))  # fmt: skip
        else:
            kept.append(d)
    return kept


__all__ = ["KINDS", "PARSERS", "SourceError", "SourceParseError", "SourceResult", "parse_file"]
