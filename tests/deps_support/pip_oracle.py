"""pip's own PackageFinder as the oracle for archlint's candidate selection (test-only code).

pip has no public API for "which version would you install"; its internals move between releases.
This adapter touches only the few internal names that have been stable since pip 22
(PackageFinder.create, LinkCollector, SearchScope.create, SelectionPreferences, TargetPython,
find_best_candidate) and passes only the keyword arguments each signature still has. When they
are gone the caller skips with the reason `OracleUnavailable` carries.

On top of PackageFinder, `choose` applies the one rule pip's resolver adds (PEP 592, in
pip/_internal/resolution/resolvelib/factory.py): yanked candidates are skipped unless every
applicable one is yanked and the requirement pins a single version with `==` or `===`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any


class OracleUnavailable(Exception):
    pass


@dataclass(frozen=True)
class Choice:
    version: str | None
    kind: str | None  # "wheel" (binary), "pure", "sdist" or None


def _kwargs(fn: Any, **wanted: Any) -> dict[str, Any]:
    params = inspect.signature(fn).parameters
    return {k: v for k, v in wanted.items() if k in params}


class PipOracle:
    """One PackageFinder per target (pip caches each project page per finder)."""

    def __init__(self, index_url: str) -> None:
        try:
            import pip
            from pip._internal.index.collector import LinkCollector
            from pip._internal.index.package_finder import PackageFinder
            from pip._internal.models.search_scope import SearchScope
            from pip._internal.models.selection_prefs import SelectionPreferences
            from pip._internal.models.target_python import TargetPython
            from pip._internal.network.session import PipSession
            from pip._vendor.packaging import __version__ as vendored_packaging
            from pip._vendor.packaging.specifiers import SpecifierSet
            from pip._vendor.packaging.utils import parse_wheel_filename
        except ImportError as e:
            raise OracleUnavailable(f"pip's internal PackageFinder API is not where it was: {e}") from None
        self.pip_version = pip.__version__
        self.vendored_packaging = vendored_packaging
        self._SpecifierSet = SpecifierSet
        self._parse_wheel = parse_wheel_filename
        self._TargetPython = TargetPython
        self._PackageFinder = PackageFinder
        self._session = PipSession(**_kwargs(PipSession.__init__, retries=0))
        scope = SearchScope.create(**_kwargs(SearchScope.create, find_links=[], index_urls=[index_url], no_index=False))
        self._collector = LinkCollector(session=self._session, search_scope=scope)
        self._prefs = SelectionPreferences(**_kwargs(SelectionPreferences.__init__, allow_yanked=True))
        self._finders: dict[tuple[str, tuple[str, ...]], Any] = {}

    def _finder(self, python: str, platforms: tuple[str, ...]) -> Any:
        key = (python, platforms)
        if key not in self._finders:
            version = tuple(int(x) for x in python.split("."))  # archlint's full_python(), e.g. (3, 11, 99)
            target = self._TargetPython(
                **_kwargs(
                    self._TargetPython.__init__,
                    platforms=list(platforms),
                    py_version_info=version,
                    abis=None,
                    implementation="cp",
                )
            )
            create = self._PackageFinder.create
            self._finders[key] = create(
                **_kwargs(create, link_collector=self._collector, selection_prefs=self._prefs, target_python=target)
            )
        return self._finders[key]

    def choose(self, project: str, specifier: str, python: str, platforms: tuple[str, ...]) -> Choice:
        finder = self._finder(python, platforms)
        spec = self._SpecifierSet(specifier)
        result = finder.find_best_candidate(project, specifier=spec)
        # pip < 24 exposes the applicable candidates through iter_applicable(), later ones as a list
        icans = list(result.iter_applicable() if hasattr(result, "iter_applicable") else result.applicable_candidates)
        all_yanked = all(c.link.is_yanked for c in icans)
        is_pinned = any(s.operator == "===" or (s.operator == "==" and not s.version.endswith(".*")) for s in spec)
        for c in reversed(icans):  # PackageFinder sorts worst first
            if c.link.is_yanked and not (all_yanked and is_pinned):
                continue
            return Choice(str(c.version), self._kind(c.link.filename))
        return Choice(None, None)

    def filter(self, specifier: str, versions: list[str]) -> list[str]:
        """pip's vendored packaging's pre-release rule, as pip applies it (strings in, strings out)."""
        return [str(v) for v in self._SpecifierSet(specifier).filter(versions)]

    def _kind(self, filename: str) -> str:
        if not filename.endswith(".whl"):
            return "sdist"
        tags = self._parse_wheel(filename)[3]
        return "pure" if all(t.platform == "any" for t in tags) else "wheel"

    def close(self) -> None:
        self._session.close()
