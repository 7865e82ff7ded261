"""Resolve the whole dependency tree of one install set (a requirements file, a pyproject) per target.

First exactly as pip would (resolvelib, no placeholders): the result is what `pip install` puts
in the image on that target. When pip would fail, resolve again with placeholders so that the
report can name what blocks and the chain that pulls it in, instead of "ResolutionImpossible".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from packaging.specifiers import SpecifierSet
from packaging.version import Version
from resolvelib import BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver

from archlint.deps.index.interface import IndexServiceError
from archlint.deps.resolve.fetch import Fetcher
from archlint.deps.resolve.finder import Candidate, Releases
from archlint.deps.resolve.provider import PYTHON, Cand, Provider, Req, TooMuchWork
from archlint.facts import Target

MAX_ROUNDS = 3000
# Metadata reads pip's backtracking may add beyond the first pass (each is a round trip or two).
BACKTRACK_BUDGET = 24


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
    parents: tuple[str, ...] = ()  # identifiers that require it ("name" or "name[extra]")
    extra_only: bool = False  # every parent asks for it only through one of its extras


@dataclass
class TreeResult:
    target: Target
    nodes: dict[str, Node] = field(default_factory=dict)  # canonical name -> node
    pip_fails: str | None = None  # why pip itself would not finish (then nodes come from the placeholder pass)


@dataclass(frozen=True)
class Direct:
    """A top-level requirement of the install set, as the resolver sees it."""

    name: str
    specifier: SpecifierSet
    extras: frozenset[str]
    exact_pin: Version | None = None


def resolve_tree(fetcher: Fetcher, target: Target, directs: Sequence[Direct]) -> TreeResult:
    """First with placeholders: that pass always ends, without backtracking, and when it pins no
    placeholder its answer is pip's. A placeholder stands where pip would backtrack (a package with
    nothing for this target, or requirements that conflict); only then does pip's own search run
    (bounded: a blocker that every parent version needs sends pip through every release of it), and
    if that finds a solution, it is the answer (older versions on this target), else pip fails and
    the placeholder pass names the blockers and the chains to them."""
    reqs = [Req(d.name, d.specifier, d.extras, text=f"{d.name}{d.specifier}") for d in directs]
    for d in directs:
        fetcher.speculate(d.name, d.specifier, d.extras, [target])
    out = TreeResult(target)
    order = {r.key: i for i, r in enumerate(reqs)}
    first = Provider(fetcher, target, placeholders=True)
    first.order = order
    try:
        result = Resolver(first, BaseReporter()).resolve(reqs, max_rounds=MAX_ROUNDS)
    except (ResolutionImpossible, ResolutionTooDeep, TooMuchWork) as e:
        out.pip_fails = f"the tree could not be resolved ({type(e).__name__})"
        return out
    if not first.placeholders_pinned(result):
        _collect(out, result, first, directs)
        return out
    search = Provider(fetcher, target, seen=first.fetched, metadata_budget=BACKTRACK_BUDGET)
    search.order = order
    try:
        exact = Resolver(search, BaseReporter()).resolve(reqs, max_rounds=MAX_ROUNDS)
    except ResolutionImpossible as e:
        out.pip_fails = _impossible(e)
    except ResolutionTooDeep:
        out.pip_fails = f"pip would still be backtracking after {MAX_ROUNDS} rounds"
    except TooMuchWork as e:
        out.pip_fails = f"pip would backtrack through older releases; archlint stopped: it {e}"
    else:
        _collect(out, exact, search, directs)
        return out
    _collect(out, result, first, directs)
    return out


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
    spec = SpecifierSet()
    for r in reqs:
        spec &= r.specifier
    return provider._why_missing(name, ans, spec, reqs)


def _key(name: str, extras: frozenset[str]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


def _base(key: str) -> str:
    return key.split("[", 1)[0]


def resolve_many(fetcher: Fetcher, jobs: Sequence[tuple[Target, Sequence[Direct]]], workers: int = 4
                 ) -> list[TreeResult]:  # fmt: skip
    """Resolve several (target, requirements) jobs, a few at a time: each mostly waits on the fetcher."""
    if len(jobs) <= 1:
        return [resolve_tree(fetcher, t, d) for t, d in jobs]
    with ThreadPoolExecutor(max_workers=min(workers, len(jobs)), thread_name_prefix="archlint-resolve") as pool:
        return list(pool.map(lambda job: resolve_tree(fetcher, job[0], job[1]), jobs))
