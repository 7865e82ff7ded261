"""Resolve the whole dependency tree of one install set (a requirements file, a pyproject) per target.

First exactly as pip would (resolvelib, no placeholders): the result is what `pip install` puts
in the image on that target. When pip would fail, resolve again with placeholders so that the
report can name what blocks and the chain that pulls it in, instead of "ResolutionImpossible".
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version
from resolvelib import BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver

from archlint.deps.index.interface import IndexServiceError
from archlint.deps.resolve.fetch import Fetcher, metadata_file
from archlint.deps.resolve.finder import Candidate, Releases, version_or_none
from archlint.deps.resolve.provider import PYTHON, Cand, Provider, Req, TooMuchWork
from archlint.deps.targets import full_python
from archlint.facts import Target

MAX_ROUNDS = 20000  # resolvelib rounds (pip allows 200000); the metadata budgets bound the work first
# Metadata reads of the first pass (the whole tree, and pip's backtracking over conflicts).
FIRST_BUDGET = 1200
# Releases of a direct requirement checked for a way around a project with no file for the target.
AROUND_CHECKED = 30
# Metadata reads pip's backtracking may add beyond the first pass (fetched a few at a time ahead
# of the search). Real requirement files with stale ranges need a few hundred (open-webui's: ~250).
BACKTRACK_BUDGET = 400


@dataclass
class Node:
    name: str
    version: Version | None  # None: nothing installs (a blocker)
    found: Candidate | None  # the file pip picks, when version is set
    chain: tuple[str, ...]  # from the direct requirement down to this package (names)
    specifier: str = ""  # what its parent(s) ask for
    unknown: str | None = None  # why its own dependencies are not known
    missing: str | None = None  # why nothing installs (version None)
    error: bool = False  # version None because the index could not be asked (unknown, not missing)
    conflict: bool = False  # version None because its requirements conflict (each alone would install)
    parents: tuple[str, ...] = ()  # identifiers that require it ("name" or "name[extra]")
    extra_only: bool = False  # every parent asks for it only through one of its extras


@dataclass
class TreeResult:
    target: Target
    nodes: dict[str, Node] = field(default_factory=dict)  # canonical name -> node
    pip_fails: str | None = None  # why pip itself would not finish (then nodes come from the placeholder pass)
    looked_up: set[str] = field(default_factory=set)  # every project whose page the resolution read
    abandoned: bool = False  # pip's search was cut short: the placeholders are not known to be pip's failures


@dataclass(frozen=True)
class Direct:
    """A top-level requirement of the install set, as the resolver sees it."""

    name: str
    specifier: SpecifierSet
    extras: frozenset[str]
    exact_pin: Version | None = None


def resolve_tree(fetcher: Fetcher, target: Target, directs: Sequence[Direct],
                 constraints: Mapping[str, SpecifierSet] | None = None) -> TreeResult:  # fmt: skip
    """pip's resolution, with a placeholder where a package cannot be installed on this target at
    all (a blocker: no release a requirement on it allows has a file here); conflicts between
    requirements are backtracked over, as pip does. No placeholder pinned: that is pip's answer.
    Blockers: pip itself would then backtrack further, to older releases of what needs them; that
    search runs (bounded) unless it cannot help, and if it finds a way around, that is the answer
    (older versions on this target), else pip fails and the blockers are reported with their
    chains. A conflict that no backtracking resolves is named by a last pass with placeholders
    for anything. `constraints` (a -c file's, by name) narrow whatever package they name, as pip's
    do, and bring nothing in."""
    cons = dict(constraints or {})
    locked = verify_pins(fetcher, target, directs) if not cons else None
    if locked is not None:
        locked.looked_up = {d.name for d in directs}
        return locked
    reqs = [Req(d.name, d.specifier, d.extras, text=f"{d.name}{d.specifier}") for d in directs]
    for d in directs:
        fetcher.speculate(d.name, d.specifier, d.extras, [target])
    out = TreeResult(target)
    order = {r.key: i for i, r in enumerate(reqs)}
    first = Provider(fetcher, target, placeholders=True, missing_only=True, metadata_budget=FIRST_BUDGET,
                     constraints=cons)  # fmt: skip
    first.order = order
    try:
        result = Resolver(first, BaseReporter()).resolve(reqs, max_rounds=MAX_ROUNDS)
    except ResolutionImpossible as e:
        out.pip_fails = _impossible(e)
        return _name_conflicts(out, fetcher, target, reqs, order, directs, first)
    except (ResolutionTooDeep, TooMuchWork) as e:
        out.pip_fails = f"pip would backtrack through many older releases; archlint stopped ({e or type(e).__name__})"
        out.abandoned = True
        return _name_conflicts(out, fetcher, target, reqs, order, directs, first)
    out.looked_up |= first.looked_up
    if not first.placeholders_pinned(result):
        _collect(out, result, first, directs)
        return out
    reason = "the pinned requirements leave pip nothing to backtrack to" if _hopeless(result, directs) else (
        _no_way_around(fetcher, target, result, directs))  # fmt: skip
    if reason is not None:
        _collect(out, result, first, directs)
        out.pip_fails = reason
        return out
    search = Provider(fetcher, target, seen=first.fetched, metadata_budget=BACKTRACK_BUDGET, constraints=cons)
    search.order = order
    try:
        exact = Resolver(search, BaseReporter()).resolve(reqs, max_rounds=MAX_ROUNDS)
    except ResolutionImpossible as e:
        out.pip_fails = _impossible(e)
    except ResolutionTooDeep:
        out.pip_fails = f"pip would still be backtracking after {MAX_ROUNDS} rounds"
    except TooMuchWork as e:
        out.pip_fails = f"pip would backtrack through older releases; archlint stopped: it {e}"
        out.abandoned = True
    else:
        out.looked_up |= search.looked_up
        _collect(out, exact, search, directs)
        return out
    out.looked_up |= search.looked_up
    _collect(out, result, first, directs)
    return out


def _name_conflicts(out: TreeResult, fetcher: Fetcher, target: Target, reqs: list[Req], order: dict[str, int],
                    directs: Sequence[Direct], first: Provider) -> TreeResult:  # fmt: skip
    """pip fails (or archlint gave up): a pass with placeholders for anything names what conflicts."""
    out.looked_up |= first.looked_up
    naming = Provider(fetcher, target, placeholders=True, constraints=first.constraints)
    naming.order = order
    try:
        named = Resolver(naming, BaseReporter()).resolve(reqs, max_rounds=MAX_ROUNDS)
    except (ResolutionImpossible, ResolutionTooDeep, TooMuchWork) as e:
        out.pip_fails = f"{out.pip_fails}; the conflicts could not be isolated ({type(e).__name__})"
        return out
    _collect(out, named, naming, directs)
    return out


def verify_pins(fetcher: Fetcher, target: Target, directs: Sequence[Direct]) -> TreeResult | None:
    """A requirements file that pins every package of its own tree, consistently (pip-compile's and
    uv's output): pip has no choice to make, so its resolution is the pins. Checked from each pin's
    metadata without resolvelib; None (resolve normally) at the first thing that does not fit."""
    if not directs or not all(_pinned(d.specifier) for d in directs):
        return None
    fixed: dict[str, tuple[Direct, Candidate, Releases]] = {}
    for d in directs:
        ans = fetcher.project(d.name)
        if not isinstance(ans, Releases) or d.name in fixed:
            return None
        c = ans.finder(target).best(d.specifier)
        if c is None:
            return None
        fixed[d.name] = (d, c, ans)
    files = {name: metadata_file(c, ans) for name, (_, c, ans) in fixed.items()}
    for f in files.values():
        fetcher.want_metadata(f)
    python = Version(full_python(target.python))
    # Each pinned package with the extras asked of it (locks often strip extras from their lines:
    # the extras' own requirements must then be pinned too).
    todo = [(name, d.extras) for name, (d, _, _) in fixed.items()]
    done: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in done:
            continue
        done.add((name, extras))
        _, c, _ = fixed[name]
        pm = fetcher.parsed(files[name])
        if (
            isinstance(pm, IndexServiceError)
            or pm.bad
            or pm.md.name != name
            or version_or_none(pm.md.version) != c.version
        ):
            return None
        if pm.md.requires_python and not _admits(pm.md.requires_python, python):
            return None
        for r in pm.applicable(target, extras):
            dep_name = canonicalize_name(r.name)
            dep = fixed.get(dep_name)
            if r.url or dep is None or not r.specifier.contains(dep[1].version, prereleases=True):
                return None
            if r.extras:
                todo.append((dep_name, frozenset(canonicalize_name(e) for e in r.extras)))
    out = TreeResult(target)
    for name, (_, c, _) in fixed.items():
        out.nodes[name] = Node(name, c.version, c, (name,))
    return out


def _admits(requires_python: str, python: Version) -> bool:
    try:
        return SpecifierSet(requires_python).contains(python, prereleases=True)
    except ValueError:
        return True


def _hopeless(result: Any, directs: Sequence[Direct]) -> bool:
    """Whether pip's search cannot help: every placeholder is a package whose requirements all come
    from exactly pinned direct requirements (or the requirements file itself), whose versions pip
    cannot change. (A pinned requirements file that conflicts with itself fails at once in pip too.)"""
    fixed = {d.name for d in directs if _pinned(d.specifier)}
    for key, cand in result.mapping.items():
        if cand.version is not None:
            continue
        for info in result.criteria[key].information:
            parent = info.parent
            if parent is None:
                if _base(key) not in fixed:
                    return False
            elif parent.extras or parent.name not in fixed:
                return False
    return True


def _no_way_around(fetcher: Fetcher, target: Target, result: Any, directs: Sequence[Direct]) -> str | None:
    """Why pip's search would fail anyway, when it would: every placeholder is a project with no
    file at all for this target, asked for only by direct requirements, and none of the newest
    releases of those requirements (AROUND_CHECKED) does without it (qwen-vl-utils[decord] ->
    decord). None when a way around may exist: then pip's own search runs."""
    by_name = {d.name: d for d in directs}
    reasons = []
    for key, cand in result.mapping.items():
        if cand.version is not None:
            continue
        name = _base(key)
        ans = fetcher.project(name)
        if not isinstance(ans, Releases):
            return None
        finder = ans.finder(target)
        if any(finder.evaluate(v, k) != (None, None) for v, k in ans.versions):
            return None  # some release installs here: a version conflict pip may resolve
        for info in result.criteria[key].information:
            parent = info.parent
            if parent is None:
                continue  # the requirements file asks for it itself: nothing to go around
            d = by_name.get(parent.name)
            rel = fetcher.project(parent.name)
            if d is None or not isinstance(rel, Releases) or parent.extras != d.extras:
                return None  # a transitive parent: other ways around are possible
            tried = list(itertools.islice(rel.finder(target).matches(d.specifier), AROUND_CHECKED))
            files = [metadata_file(c, rel) for c in tried]
            for f in files:
                fetcher.want_metadata(f)  # all at once
            for f in files:
                pm = fetcher.parsed(f)
                if isinstance(pm, IndexServiceError):
                    return None
                if not any(canonicalize_name(r.name) == name for r in pm.applicable(target, d.extras)):
                    return None  # this release does without it: pip would get there
            allowed = str(d.specifier) or "any version"
            reasons.append(f"none of the {len(tried)} newest releases of {parent.key} that {allowed!r} allows "
                           f"does without {name}, which has no file for {target.label}")  # fmt: skip
    return "; ".join(dict.fromkeys(reasons)) if reasons else None


def _pinned(spec: SpecifierSet) -> bool:
    return any(s.operator in ("==", "===") and not s.version.endswith(".*") for s in spec)


def _impossible(e: ResolutionImpossible) -> str:
    parts: dict[str, None] = {}
    for cause in e.causes:
        req = cause.requirement
        who = cause.parent.key if cause.parent is not None else "the requirements"
        parts.setdefault(f"{who} requires {req.text or req.key + str(req.specifier)}")
    listed = list(parts)
    more = f" and {len(listed) - 4} more" if len(listed) > 4 else ""
    return "no set of versions satisfies every requirement (" + "; ".join(listed[:4]) + more + ")"


def _collect(out: TreeResult, result: object, provider: Provider, directs: Sequence[Direct]) -> None:
    out.looked_up |= provider.looked_up
    mapping: dict[str, Cand] = result.mapping  # type: ignore[attr-defined]
    graph = result.graph  # type: ignore[attr-defined]
    criteria = result.criteria  # type: ignore[attr-defined]
    # Breadth-first from the direct requirements: each package's chain is its shortest path.
    chains: dict[str, tuple[str, ...]] = {}
    visited: set[str] = set()
    queue: deque[str] = deque()
    for d in directs:
        for k in (_key(d.name, d.extras), d.name):
            if k in mapping and k not in visited:
                visited.add(k)
                chains.setdefault(_base(k), (d.name,))
                queue.append(k)
    while queue:
        k = queue.popleft()
        chain = chains[_base(k)]
        for child in sorted(c for c in graph.iter_children(k) if c not in (None, PYTHON)):
            b = _base(child)
            if b not in chains:
                chains[b] = chain if b == _base(k) else (*chain, b)
            if child not in visited:
                visited.add(child)
                queue.append(child)
    for key, cand in mapping.items():
        if key == PYTHON:
            continue
        name = _base(key)
        node = out.nodes.get(name)
        parents = tuple(dict.fromkeys(i.parent.key for i in criteria[key].information if i.parent is not None))
        if node is None:
            specs = [str(i.requirement.specifier) for i in criteria[key].information if i.parent is not None]
            node = Node(name, cand.version, cand.found, chains.get(name, (name,)), ",".join(s for s in specs if s))
            out.nodes[name] = node
        node.parents = tuple(dict.fromkeys((*node.parents, *(p for p in parents if _base(p) != name))))
        node.extra_only = bool(node.parents) and all((p, name) in provider.extra_only for p in node.parents)
        if cand.version is None:
            node.missing = provider.missing.get(name) or _why(provider, name, criteria[key])
            node.error = name in provider.errors
            node.conflict = name in provider.conflicts
        if name in provider.unknown:
            node.unknown = provider.unknown[name]
    py = mapping.get(PYTHON)
    if py is not None and py.version is None:
        # A candidate whose Requires-Python excludes the target was kept (placeholders): name it.
        for info in criteria[PYTHON].information:
            if info.parent is not None:
                parent = out.nodes.get(_base(info.parent.key))
                if parent is not None and parent.version is not None:
                    parent.missing = f"{parent.name} {parent.version} requires Python {info.requirement.specifier}"


def _why(provider: Provider, name: str, criterion: object) -> str:
    reqs: list[Req] = [i.requirement for i in criterion.information]  # type: ignore[attr-defined]
    ans = provider.fetcher.project(name)
    if isinstance(ans, IndexServiceError):
        return str(ans)
    assert isinstance(ans, Releases)
    spec = provider.constraints.get(name, SpecifierSet())
    for r in reqs:
        spec &= r.specifier
    return provider._why_missing(name, ans, spec, reqs)


def _key(name: str, extras: frozenset[str]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


def _base(key: str) -> str:
    return key.split("[", 1)[0]


Job = tuple[Target, Sequence[Direct], Mapping[str, SpecifierSet]]  # target, requirements, constraints


def resolve_many(fetcher: Fetcher, jobs: Sequence[Job], workers: int = 4) -> list[TreeResult]:
    """Resolve several jobs, a few at a time: each mostly waits on the fetcher."""
    if len(jobs) <= 1:
        return [_guarded(fetcher, *job) for job in jobs]
    with ThreadPoolExecutor(max_workers=min(workers, len(jobs)), thread_name_prefix="archlint-resolve") as pool:
        return list(pool.map(lambda job: _guarded(fetcher, *job), jobs))


def _guarded(fetcher: Fetcher, target: Target, directs: Sequence[Direct],
             constraints: Mapping[str, SpecifierSet]) -> TreeResult:  # fmt: skip
    """A bug in one tree must not cost the whole dependency report: that tree is said to be unknown."""
    try:
        return resolve_tree(fetcher, target, directs, constraints)
    except Exception as e:
        if os.environ.get("ARCHLINT_RAISE"):
            raise
        return TreeResult(target, pip_fails=f"archlint could not resolve it (internal error: {type(e).__name__})")
