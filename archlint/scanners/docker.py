"""Dockerfiles and the files that say which image is built from where (skaffold, compose,
config, CI workflows): build contexts, runtime hints, Dockerfile findings and evidence; and,
once dependencies are checked, whether the image builds can compile what has no arm64 wheel."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from packaging.utils import canonicalize_name

from archlint import scanning as k
from archlint.deps import edits
from archlint.facts import NEEDS_BUILD, T_PURE, T_SDIST, T_WHEEL, Dependency, Evidence, Facts
from archlint.findings import Applicability, Finding, Fix
from archlint.placement import ci, links, sites, state, toolchain
from archlint.placement.dockerfile import DockerfileError, parse
from archlint.placement.dockerfile_checks import Analysis, analyse
from archlint.placement.yamlio import YamlError, load_all
from archlint.scanning import ScanContext, Scanner, SourceFile, guarded

ARM64 = "linux/arm64"


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
        dockerfiles = [f for f in files if f.kind == k.DOCKERFILE]
        yield from guarded([f for f in files if f.kind != k.DOCKERFILE], lambda f: self._sites(f, st.sites))
        # A Dockerfile that skaffold, compose or CI names (`dockerfile: build/api.df`) is one,
        # whatever its name.
        dockerfiles.extend(referenced_dockerfiles(ctx, st.sites, {f.rel for f in dockerfiles}))
        st.dockerfile_paths = sorted(f.rel for f in dockerfiles)
        st.sites.extend(self._config_sites(ctx, st.dockerfile_paths))
        manifests = []
        for f in ctx.files:
            if f.kind in (k.KUBERNETES, k.KUSTOMIZATION):
                try:
                    manifests.append(f.read_bytes().decode("utf-8", errors="replace"))
                except Exception:  # unreadable manifests are reported by the Kubernetes scanner
                    continue
        renders: Any = facts.extra.get("k8s.renders")  # kustomize and Helm output (the render scanner's)
        manifests.extend(renders.image_texts() if hasattr(renders, "image_texts") else [])
        st.wanted = links.wanted_images(manifests)
        st.links = links.choose(st.sites, st.wanted, st.dockerfile_paths)
        facts.build_contexts.extend(link.context for link in st.links.values())
        yield from guarded(dockerfiles, lambda f: self._dockerfile(f, facts, st))

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
        mine = [lk for lk in st.links.values() if lk.context.dockerfile == f.rel]
        context = mine[0].context.directory if mine else posixpath.dirname(f.rel) or "."
        # The stage the build asks for (skaffold docker.target, compose build.target) is the image.
        target = next((lk.primary.target for lk in mine if lk.primary.target), None)
        # Dependency targets: the context, unless it is the whole repository and the Dockerfile
        # sits in a service directory (where its requirements usually are).
        hint_dir = context if context != "." else (posixpath.dirname(f.rel) or ".")
        result = analyse(df, f.rel, context, hint_dir, target)
        st.dockerfiles[f.rel] = result
        facts.evidence.extend(result.evidence)
        facts.dependencies.extend(result.dependencies)
        if result.hint is not None:
            facts.runtime_hints.append(result.hint)
        yield from result.findings


def referenced_dockerfiles(ctx: ScanContext, found: list[sites.BuildSite], known: set[str]) -> list[SourceFile]:
    """Files the build sites name as their Dockerfile that discovery did not classify as one:
    inside the tree, regular files, not excluded by the config, not already of another kind."""
    other = {f.rel for f in ctx.files}
    excludes = [*ctx.config.str_list("exclude"), *ctx.config.str_list("extend-exclude")]
    spec = None
    if excludes:
        import pathspec  # only a config with excludes needs it

        spec = pathspec.GitIgnoreSpec.from_lines(excludes)
    out: list[SourceFile] = []
    for rel in sorted({s.dockerfile for s in found if s.dockerfile}):
        if rel in known or rel in other or rel.startswith("../") or rel == ".." or "*" in rel:
            continue
        if spec is not None and spec.match_file(rel):
            continue
        path = ctx.root / rel
        try:
            if not path.is_file() or (path.is_symlink() and not path.resolve().is_relative_to(ctx.root.resolve())):
                continue
        except OSError:
            continue
        sf = SourceFile(path=path, rel=rel, kind=k.DOCKERFILE)
        out.append(sf)
        ctx.files.append(sf)  # suppression comments and fixes read it like any other file
        known.add(rel)
    return out


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


class BuildToolchainScanner(Scanner):
    """After the dependency check: a dependency the image build compiles on arm64 (no arm64
    wheel) in a stage without a compiler or the libraries its sdist needs breaks the arm64 image
    (ARCH311/ARCH312); with both, ARCH102 (a warning about build time) says enough."""

    name = "build-toolchain"
    kinds = frozenset[str]()
    order = 12

    def scan(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> Iterable[Finding]:
        st = state.get(facts)
        if not any(a.installs for a in st.dockerfiles.values()):
            return []
        return list(toolchain_findings(ctx, facts, st))


def _source_built_on_arm64(dep: Dependency) -> bool:
    """No arm64 wheel but an sdist, while amd64 installs a wheel: pip compiles it on arm64 only."""
    arm = [v for label, v in dep.targets.items() if label.startswith(ARM64)]
    amd = [v for label, v in dep.targets.items() if not label.startswith(ARM64)]
    return dep.status == NEEDS_BUILD and T_SDIST in arm and all(v in (T_WHEEL, T_PURE) for v in amd)


def _requirement_includes(ctx: ScanContext, path: str, known: set[str], depth: int = 0) -> list[str]:
    """`path` and the requirement files it includes with -r (pip reads them too)."""
    out = [path]
    if depth > 8:
        return out
    sf = next((f for f in ctx.files if f.rel == path), None)
    try:
        text = sf.read_text() if sf is not None else ""
    except (OSError, UnicodeDecodeError, k.FileTooLarge):
        return out
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] in ("-r", "--requirement"):
            inc = posixpath.normpath(posixpath.join(posixpath.dirname(path), words[1]))
            if inc in known and inc not in out:
                out.extend(p for p in _requirement_includes(ctx, inc, known, depth + 1) if p not in out)
    return out


def _installed(inst: toolchain.PythonInstall, rel: str, analysis: Analysis, ctx: ScanContext,
               by_path: dict[str, list[Dependency]]) -> list[Dependency]:  # fmt: skip
    """The dependencies one Python install command puts into the image."""
    out: list[Dependency] = []
    inline = {canonicalize_name(n) for n in inst.inline}
    out.extend(d for d in by_path.get(rel, []) if d.source == "dockerfile" and d.name in inline)
    known = set(by_path)
    copied = [s for c in analysis.copies for s in c.sources]
    for arg in inst.requirement_files:
        for path in toolchain.requirement_paths(arg, analysis.context, copied, known):
            for p in _requirement_includes(ctx, path, known):
                out.extend(by_path.get(p, []))
    if inst.project:
        for name in toolchain.PROJECT_FILES.get(inst.tool, ("pyproject.toml",)):
            path = posixpath.normpath(posixpath.join(analysis.context, name))
            if path in by_path:
                out.extend(by_path[path])
                break
    seen: set[int] = set()
    return [d for d in out if not (id(d) in seen or seen.add(id(d)))]  # type: ignore[func-returns-value]


def toolchain_findings(ctx: ScanContext, facts: Facts, st: state.PlacementState) -> Iterator[Finding]:
    by_path: dict[str, list[Dependency]] = {}
    for dep in facts.dependencies:
        by_path.setdefault(dep.path, []).append(dep)
    lines: dict[str, list[str]] = {}
    for rel, analysis in sorted(st.dockerfiles.items()):
        for inst in analysis.installs:
            if inst.compiler is None and not inst.only_binary:
                continue  # a base image archlint does not know: no claim either way
            for dep in _installed(inst, rel, analysis, ctx, by_path):
                if not _source_built_on_arm64(dep):
                    continue
                found = _toolchain_finding(ctx, rel, inst, dep, lines)
                if found is None:
                    continue
                finding, why = found
                facts.evidence.append(
                    Evidence(
                        rel,
                        inst.line,
                        f"{dep.name} has no arm64 wheel and cannot be compiled here: {why}",
                        True,
                        finding.rule,
                    )
                )
                yield finding


def _line_text(ctx: ScanContext, dep: Dependency, cache: dict[str, list[str]]) -> str | None:
    if dep.path not in cache:
        sf = next((f for f in ctx.files if f.rel == dep.path), None)
        try:
            cache[dep.path] = sf.read_text().splitlines() if sf is not None else []
        except (OSError, UnicodeDecodeError, k.FileTooLarge):
            cache[dep.path] = []
    ls = cache[dep.path]
    return ls[dep.line - 1] if dep.line and dep.line <= len(ls) else None


def _toolchain_finding(ctx: ScanContext, rel: str, inst: toolchain.PythonInstall, dep: Dependency,
                       cache: dict[str, list[str]]) -> tuple[Finding, str] | None:  # fmt: skip
    arm = ", ".join(label for label, v in dep.targets.items() if label.startswith(ARM64) and v == T_SDIST)
    what = f"{dep.name}=={dep.version}" if dep.version else f"{dep.name}{dep.specifier}"
    where = "" if dep.path == rel else f" ({dep.path}:{dep.line})"
    if inst.only_binary:
        rule, why = "ARCH311", "pip runs with --only-binary=:all:, so it refuses the sdist"
    elif inst.compiler is False:
        rule, why = "ARCH311", inst.compiler_why
    else:
        missing = toolchain.missing_libraries(dep.name, inst.packages) if inst.base_compiler is False else []
        if not missing:
            return None  # compiles (slowly): ARCH102 already says so
        rule, why = "ARCH312", f"this stage does not install {' or '.join(missing[:1])}" + (
            f" (nor {', '.join(missing[1:])})" if missing[1:] else "")  # fmt: skip
    sug = dep.suggestion
    fix = None
    if sug is not None:
        fix = edits.upgrade_fix(dep, sug.version, _line_text(ctx, dep, cache))
        how = f"; upgrade to {sug.version}, which has wheels for every target"
        if sug.vulnerabilities:
            how += f" (known vulnerabilities: {', '.join(sug.vulnerabilities)})"
    else:
        family = "apk add build-base" if "alpine" in inst.base else "apt-get install -y build-essential"
        how = (f"; no release has arm64 wheels: install the build tools before this line (`{family}`)"
               if rule == "ARCH311" else "; install them before this line")  # fmt: skip
        fix = Fix(how[2:], Applicability.MANUAL)
    message = (f"{what}{where} has no wheel for {arm}, so this {inst.tool} install compiles it there but {why}: "
               f"the arm64 image does not build{how}")  # fmt: skip
    inline = dep.path == rel and dep.source == "dockerfile" and dep.line
    finding = Finding(
        rule=rule,
        message=message,
        path=rel,
        line=dep.line if inline and dep.line else inst.line,
        column=dep.column if inline else inst.column,
        end_line=(dep.line if inline else None),
        end_column=(dep.end_column if inline else None),
        key=f"toolchain:{dep.name}:{inst.stage}",
        fix=fix,
    )
    return finding, why
