"""Dockerfiles and the files that say which image is built from where (skaffold, compose,
config, CI workflows): build contexts, runtime hints, Dockerfile findings and evidence."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from typing import Any

from archlint import scanning as k
from archlint.facts import Facts
from archlint.findings import Finding
from archlint.placement import ci, links, sites, state
from archlint.placement.dockerfile import DockerfileError, parse
from archlint.placement.dockerfile_checks import analyse
from archlint.placement.yamlio import YamlError, load_all
from archlint.scanning import ScanContext, Scanner, SourceFile, guarded


def _text(f: SourceFile) -> tuple[str | None, Finding | None]:
    try:
        return f.read_text(), None
    except UnicodeDecodeError as e:
        return None, Finding(rule="ARCH002", message=f"not valid UTF-8: {e.reason} at byte {e.start}", path=f.rel,
                             key="utf8")  # fmt: skip


class DockerScanner(Scanner):
    name = "docker"
    kinds = frozenset({k.DOCKERFILE, k.SKAFFOLD, k.COMPOSE, k.GITHUB_WORKFLOW, k.GITLAB_CI})
    order = 5

    def scan(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> Iterable[Finding]:
        st = state.get(facts)
        st.dockerfile_paths = sorted(f.rel for f in files if f.kind == k.DOCKERFILE)
        yield from guarded([f for f in files if f.kind != k.DOCKERFILE], lambda f: self._sites(f, st.sites))
        st.sites.extend(self._config_sites(ctx, st.dockerfile_paths))
        manifests = []
        for f in ctx.files:
            if f.kind in (k.KUBERNETES, k.KUSTOMIZATION):
                try:
                    manifests.append(f.read_bytes().decode("utf-8", errors="replace"))
                except Exception:  # unreadable manifests are reported by the Kubernetes scanner
                    continue
        st.wanted = links.wanted_images(manifests)
        st.links = links.choose(st.sites, st.wanted, st.dockerfile_paths)
        facts.build_contexts.extend(link.context for link in st.links.values())
        yield from guarded([f for f in files if f.kind == k.DOCKERFILE], lambda f: self._dockerfile(f, facts, st))

    def _config_sites(self, ctx: ScanContext, dockerfiles: list[str]) -> list[sites.BuildSite]:
        images = ctx.config.get("images") or {}
        if not images:
            return []
        known = set(dockerfiles)
        rel = ctx.rel(ctx.config.path) if ctx.config.path else ""
        return sites.config_sites(images, rel, lambda p: p in known)

    def _sites(self, f: SourceFile, out: list[sites.BuildSite]) -> Iterable[Finding]:
        text, err = _text(f)
        if err or text is None:
            yield err  # type: ignore[misc]
            return
        try:
            docs = load_all(text)
        except YamlError as e:
            yield Finding(rule="ARCH002", message=f"{e}", path=f.rel, line=e.line, key="yaml")
            return
        lines = text.splitlines()
        found: list[sites.BuildSite] = []
        problems: list[tuple[int, str]] = []
        for doc in docs:
            found.extend(_sites_of(f.kind, doc, f.rel, lines, problems))
        out.extend(found)
        for line, problem in problems:
            yield Finding(rule="ARCH002", message=f"{f.kind}: {problem}", path=f.rel, line=line, key=f"shape:{line}")

    def _dockerfile(self, f: SourceFile, facts: Facts, st: state.PlacementState) -> Iterable[Finding]:
        text, err = _text(f)
        if err or text is None:
            yield err  # type: ignore[misc]
            return
        try:
            df = parse(text)
        except DockerfileError as e:
            yield Finding(rule="ARCH002", message=f"Dockerfile: {e}", path=f.rel, line=e.line, key="dockerfile")
            return
        for line, problem in df.problems:
            yield Finding(rule="ARCH002", message=f"Dockerfile: {problem}", path=f.rel, line=line, key=f"df:{line}")
        if not df.stages:
            yield Finding(rule="ARCH002", message="Dockerfile has no FROM instruction", path=f.rel, key="no-from")
            return
        context = next((lk.context.directory for lk in st.links.values() if lk.context.dockerfile == f.rel), None)
        context = context or posixpath.dirname(f.rel) or "."
        # Dependency targets: the context, unless it is the whole repository and the Dockerfile
        # sits in a service directory (where its requirements usually are).
        hint_dir = context if context != "." else (posixpath.dirname(f.rel) or ".")
        result = analyse(df, f.rel, context, hint_dir)
        st.dockerfiles[f.rel] = result
        facts.evidence.extend(result.evidence)
        facts.dependencies.extend(result.dependencies)
        if result.hint is not None:
            facts.runtime_hints.append(result.hint)
        yield from result.findings


def _sites_of(
    kind: str, doc: Any, rel: str, lines: list[str], problems: list[tuple[int, str]]
) -> list[sites.BuildSite]:
    if kind == k.SKAFFOLD:
        return sites.skaffold_sites([doc], rel, lines, problems)
    if kind == k.COMPOSE:
        return sites.compose_sites([doc], rel, lines)
    if kind == k.GITHUB_WORKFLOW:
        return ci.github_sites(doc, rel, lines)
    if kind == k.GITLAB_CI:
        return ci.gitlab_sites(doc, rel, lines)
    return []
