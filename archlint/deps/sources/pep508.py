"""PEP 508 requirement strings (pyproject.toml arrays) to Dependency records."""

from __future__ import annotations

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from archlint.deps.sources.specifiers import pinned_version
from archlint.facts import Dependency


def dependency(text: str, path: str, line: int | None, source: str, column: int = 1,
               end_column: int | None = None) -> Dependency:  # fmt: skip
    """Raises InvalidRequirement for a string that is not PEP 508."""
    req = Requirement(text)
    spec = str(req.specifier)
    return Dependency(
        name=canonicalize_name(req.name),
        version=pinned_version(spec) if spec and not req.url else None,
        specifier=spec,
        path=path,
        line=line,
        source=source,
        marker=str(req.marker) if req.marker else None,
        extras=tuple(sorted(req.extras)),
        url=req.url or None,
        column=column,
        end_column=end_column,
    )


__all__ = ["InvalidRequirement", "dependency"]
