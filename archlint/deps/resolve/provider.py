"""The resolvelib provider: pip's model of requirements and candidates, for one target.

Identifiers are a project's name, or `name[extra,...]` for a project with extras (whose candidate
depends on the same version of the plain project, as in pip). Candidates come from the target's
TargetFinder in pip's order; their dependencies from core metadata, markers evaluated for the
target and extras. A candidate whose metadata says Requires-Python excludes the target depends on
the unsatisfiable `<python>` requirement, so the resolver backtracks as pip's does. With
`placeholders`, every identifier gets a last-resort `Missing` candidate that satisfies anything:
resolution then always ends, and the Missing nodes are the blockers (used when pip would fail).
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version
from resolvelib import AbstractProvider

from archlint.deps.index.interface import IndexServiceError
from archlint.deps.index.metadata import MetadataUnknowable
from archlint.deps.resolve.fetch import Fetcher, ParsedMetadata, metadata_file
from archlint.deps.resolve.finder import Candidate, Releases, explain, version_or_none
from archlint.deps.targets import full_python
from archlint.facts import Target

PYTHON = "<python>"
PREFETCH = 6  # releases whose metadata pip's search fetches ahead of the one it tries


@dataclass(frozen=True)
class Req:
    name: str  # canonical project name, or PYTHON
    specifier: SpecifierSet
    extras: frozenset[str] = frozenset()
    exact: Version | None = None  # an extras candidate's base: exactly this version
    parent: str | None = None  # the identifier whose metadata asks for it (None: a direct requirement)
    text: str = ""

    @property
    def key(self) -> str:
        return f"{self.name}[{','.join(sorted(self.extras))}]" if self.extras else self.name


@dataclass(frozen=True)
class Cand:
    name: str
    version: Version | None  # None: Missing (nothing satisfies it here)
    extras: frozenset[str] = frozenset()
    found: Candidate | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return f"{self.name}[{','.join(sorted(self.extras))}]" if self.extras else self.name


class TooMuchWork(Exception):
    """pip's search was abandoned: it needed more metadata than the budget allows, or metadata that
    cannot be read (pip itself would stop there)."""


class Provider(AbstractProvider):
    def __init__(self, fetcher: Fetcher, target: Target, placeholders: bool = False, metadata_budget: int = 1000,
                 seen: set[tuple[str, Version]] | None = None, missing_only: bool = False,
                 constraints: Mapping[str, SpecifierSet] | None = None) -> None:  # fmt: skip
        self.fetcher = fetcher
        self.constraints = dict(constraints or {})  # name -> what a -c file allows (pip's Constraint)
        self.target = target
        self.placeholders = placeholders
        # Placeholders only for what one requirement on it alone cannot install here (a blocker);
        # requirements that conflict are backtracked over, as pip does.
        self.missing_only = missing_only
        self.budget = metadata_budget  # candidates whose metadata may be read beyond `seen`
        self.seen = seen or set()
        self.fetched: set[tuple[str, Version]] = set()
        self.extra = 0
        self.unknown: dict[str, str] = {}  # name -> why its dependencies are not known
        self.missing: dict[str, str] = {}  # name -> why nothing satisfies it (placeholders)
        self.errors: set[str] = set()  # names the index could not answer for (unknown, not missing)
        self.conflicts: set[str] = set()  # names each requirement alone could install, but not all together
        self._satisfied: dict[tuple[int, Version], bool] = {}
        self.extra_only: set[tuple[str, str]] = set()  # (name[extras], dependency) an extra alone brings in
        self.looked_up: set[str] = set()  # projects whose page this resolution read
        self.python = Version(full_python(target.python))
        self.order: dict[str, int] = {}  # identifier -> position among the direct requirements

    def placeholders_pinned(self, result: Any) -> bool:
        return any(c.version is None for c in result.mapping.values())

    # -- resolvelib interface ------------------------------------------------------------------

    def identify(self, requirement_or_candidate: Req | Cand) -> str:
        return requirement_or_candidate.key

    def narrow_requirement_selection(self, identifiers: Iterable[str], resolutions: Mapping[str, Cand],
                                     candidates: Mapping[str, Any], information: Mapping[str, Iterable[Any]],
                                     backtrack_causes: Sequence[Any]) -> Iterable[str]:  # fmt: skip
        """As pip: Requires-Python alone first, then the identifiers behind the last conflict."""
        ids = list(identifiers)
        if PYTHON in ids:
            return [PYTHON]
        causes = {c.requirement.key for c in backtrack_causes} | {
            c.parent.key for c in backtrack_causes if c.parent is not None
        }
        narrowed = [i for i in ids if i in causes]
        if narrowed:
            return narrowed
        # get_preference ranks exact, then pinned, first: only those compete while any is left
        # (the same choice, without ranking every identifier every round).
        for test in (self._exact, self._pinned):
            narrowed = [i for i in ids if test(information[i])]
            if narrowed:
                return narrowed
        return ids

    @staticmethod
    def _exact(infos: Iterable[Any]) -> bool:
        return any(i.requirement.exact is not None for i in infos)

    @staticmethod
    def _pinned(infos: Iterable[Any]) -> bool:
        return any(s.operator[:2] == "==" and "*" not in s.version for i in infos for s in i.requirement.specifier)

    def get_preference(self, identifier: str, resolutions: Mapping[str, Cand], candidates: Mapping[str, Any],
                       information: Mapping[str, Iterable[Any]], backtrack_causes: Sequence[Any]) -> Any:  # fmt: skip
        """pip's order: exact (an extras candidate's base), pinned, upper-bounded, as the user listed
        them, constrained at all, then by name."""
        reqs = [i.requirement for i in information[identifier]]
        ops = [(s.operator, s.version) for r in reqs for s in r.specifier]
        exact = any(r.exact is not None for r in reqs)
        pinned = any(op[:2] == "==" and "*" not in v for op, v in ops)
        upper = any(op in ("<", "<=", "~=") or (op == "==" and "*" in v) for op, v in ops)
        order = self.order.get(identifier, len(self.order))
        return (not exact, not pinned, not upper, order, not ops, identifier)

    def find_matches(self, identifier: str, requirements: Mapping[str, Iterator[Req]],
                     incompatibilities: Mapping[str, Iterator[Cand]]) -> Any:  # fmt: skip
        reqs = list(requirements[identifier])
        bad = {c.version for c in incompatibilities[identifier]}
        name = reqs[0].name if reqs else identifier
        extras = reqs[0].extras if reqs else frozenset()
        if name == PYTHON:
            if all(self.python in r.specifier for r in reqs):
                return [Cand(PYTHON, self.python)]
            return [Cand(PYTHON, None)] if self.placeholders and not self.missing_only else []
        spec = self.constraints.get(name, SpecifierSet())
        exact: set[Version] = set()
        for r in reqs:
            spec &= r.specifier
            if r.exact is not None:
                exact.add(r.exact)
        return functools.partial(self._matches, name, extras, spec, frozenset(exact), bad, reqs)

    def _matches(self, name: str, extras: frozenset[str], spec: SpecifierSet, exact: frozenset[Version],
                 bad: set[Version | None], reqs: list[Req]) -> Iterator[Cand]:  # fmt: skip
        ans = self.fetcher.project(name)
        self.looked_up.add(name)
        yielded = False
        if isinstance(ans, Releases):
            found = (c for c in ans.finder(self.target).matches(spec)
                     if c.version not in bad and (not exact or c.version in exact))  # fmt: skip
            window: collections.deque[Candidate] = collections.deque()
            # pip's search goes down the releases one by one, each needing its metadata: once it
            # goes past the first (or comes back after a conflict), the next few are fetched ahead,
            # in parallel, while the resolver looks at this one.
            ahead = PREFETCH if bad and not self.placeholders else 1
            while True:
                while len(window) < ahead:
                    nxt = next(found, None)
                    if nxt is None:
                        break
                    window.append(nxt)
                    if not self.placeholders:
                        self.fetcher.want_metadata(metadata_file(nxt, ans))
                if not window:
                    break
                c = window.popleft()
                yielded = True
                yield Cand(name, c.version, extras, c)
                if not self.placeholders:
                    ahead = PREFETCH
        if self.placeholders and None not in bad:
            if self.missing_only and not self._blocked(ans, reqs):
                return  # a conflict: resolvelib backtracks, as pip's does
            if not yielded:
                self.missing[name] = self._why_missing(name, ans, spec, reqs)
            yield Cand(name, None, extras)

    def _blocked(self, ans: Releases | IndexServiceError, reqs: list[Req]) -> bool:
        """Whether some requirement on it could not be met here even alone (or the index failed)."""
        if isinstance(ans, IndexServiceError):
            return True
        finder = ans.finder(self.target)
        allowed = self.constraints.get(reqs[0].name if reqs else "", SpecifierSet())
        return any(next(finder.matches(r.specifier & allowed), None) is None for r in reqs if r.exact is None)

    def _why_missing(self, name: str, ans: Releases | IndexServiceError, spec: SpecifierSet, reqs: list[Req]) -> str:
        if isinstance(ans, IndexServiceError):
            self.errors.add(name)
            return str(ans)
        finder = ans.finder(self.target)
        allowed = self.constraints.get(name)
        wants = [f"{r.parent or 'the requirements'} wants {name}{r.specifier or ''}" for r in reqs]
        if allowed is not None:
            wants.append(f"a constraints file allows {name}{allowed}")
        if len(wants) > 1 and all(next(finder.matches(r.specifier), None) is not None for r in reqs) and (
                allowed is None or next(finder.matches(allowed), None) is not None):  # fmt: skip
            self.conflicts.add(name)
            return f"no release satisfies every requirement on it ({'; '.join(dict.fromkeys(wants))})"
        return explain(ans, spec, self.target)

    def is_satisfied_by(self, requirement: Req, candidate: Cand) -> bool:
        if candidate.version is None:
            return True  # Missing stands for anything
        if requirement.exact is not None:
            return candidate.version == requirement.exact
        key = (id(requirement), candidate.version)  # resolvelib asks the same pairs every round
        hit = self._satisfied.get(key)
        if hit is None:
            hit = self._satisfied[key] = requirement.specifier.contains(candidate.version, prereleases=True)
        return hit

    def get_dependencies(self, candidate: Cand) -> Iterable[Req]:
        if candidate.version is None or candidate.name == PYTHON or candidate.found is None:
            return []
        out: list[Req] = []
        if candidate.extras:
            out.append(Req(candidate.name, SpecifierSet(), exact=candidate.version, parent=candidate.key))
        pm = self._metadata(candidate)
        if pm is None:
            return out
        if pm.md.requires_python:
            try:
                rp = SpecifierSet(pm.md.requires_python)
            except ValueError:
                rp = None
            if rp is not None and not rp.contains(self.python, prereleases=True):
                out.append(Req(PYTHON, rp, parent=candidate.key, text=f"Requires-Python {rp}"))
        base = {id(r) for r in pm.applicable(self.target)} if candidate.extras else set()
        for r in pm.applicable(self.target, candidate.extras):
            name = canonicalize_name(r.name)
            if candidate.extras and id(r) not in base:
                self.extra_only.add((candidate.key, name))
            if r.url:
                self.unknown.setdefault(candidate.name, f"it requires {r.name} from a URL ({r.url})")
                continue
            out.append(Req(name, r.specifier, frozenset(canonicalize_name(e) for e in r.extras),
                           parent=candidate.key, text=str(r)))  # fmt: skip
            self.fetcher.speculate(name, r.specifier, frozenset(canonicalize_name(e) for e in r.extras), [self.target])
        return out

    def _metadata(self, candidate: Cand) -> ParsedMetadata | None:
        assert candidate.version is not None and candidate.found is not None
        key = (candidate.name, candidate.version)
        if key not in self.fetched:
            self.fetched.add(key)
            if key not in self.seen:
                self.extra += 1
                if self.extra > self.budget:
                    raise TooMuchWork(f"read the metadata of {self.budget} more releases")
        ans = self.fetcher.project(candidate.name)
        if not isinstance(ans, Releases):
            return None
        source = metadata_file(candidate.found, ans)
        pm = self.fetcher.parsed(source)
        if isinstance(pm, IndexServiceError):
            if not self.placeholders and not isinstance(pm, MetadataUnknowable):
                # A read that failed now may work next time: pip's answer here is not known.
                raise TooMuchWork(f"needed the metadata of {candidate.name} {candidate.version} ({pm})")
            self.unknown[candidate.name] = str(pm)
            return None
        if pm.md.name != candidate.name or version_or_none(pm.md.version) != candidate.version:
            self.unknown[candidate.name] = (
                f"{source.filename} says it is {pm.md.name} {pm.md.version} in its metadata; its dependencies "
                "were not followed"
            )
            return None
        if pm.bad:
            self.unknown[candidate.name] = f"a requirement in its metadata does not parse: {pm.bad[0]!r}"
        return pm
