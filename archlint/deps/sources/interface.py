"""What every dependency-source parser returns, and the errors parsers raise.

One module per format beside this one; `archlint.deps.sources.parse_file` dispatches on the
file kind and turns `SourceParseError` into an ARCH002 finding, so a parser can stop at the
first fatal problem while recoverable ones are appended to `SourceResult.findings`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archlint.facts import Dependency
from archlint.findings import Finding

# Dependency.source values (DESIGN.md).
REQUIREMENTS = "requirements"
PYPROJECT = "pyproject"
POETRY_LOCK = "poetry.lock"
UV_LOCK = "uv.lock"
PDM_LOCK = "pdm.lock"
PYLOCK = "pylock.toml"
PIPFILE_LOCK = "Pipfile.lock"


@dataclass(frozen=True)
class Constraint:
    """A `-c` file's line: pip narrows any package of the install set with that name to it
    (direct or pulled in below), and installs nothing for it alone."""

    name: str  # PEP 503-normalised
    specifier: str
    marker: str | None
    path: str  # the constraints file, repo-relative
    line: int


@dataclass
class SourceResult:
    """Everything one file says about the Python environment it describes."""

    dependencies: list[Dependency] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # ARCH002 parse errors and ARCH150-169
    index_urls: list[str] = field(default_factory=list)  # --index-url, [[tool.uv.index]], lock sources...
    requires_python: str | None = None  # a PEP 440 specifier (">=3.10"), when the file states one
    python_versions: list[str] = field(default_factory=list)  # "3.11" (major.minor) from .python-version etc.
    constraints: list[Constraint] = field(default_factory=list)  # from -c files (requirements files)
    # Requirements of -r files that are checked on their own scan (not reported here again), yet
    # installed together with this file's: pip resolves them as one set.
    included: list[Dependency] = field(default_factory=list)

    def add_index(self, url: object) -> None:
        if isinstance(url, str) and url.strip() and url.strip() not in self.index_urls:
            self.index_urls.append(url.strip())


class SourceError(Exception):
    """Base of the errors a dependency-source parser raises."""


class SourceParseError(SourceError):
    """The file as a whole cannot be parsed; becomes one ARCH002 finding at `line`."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
