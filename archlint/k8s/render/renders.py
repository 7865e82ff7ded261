"""Every render of one scan: which kustomizations and Helm releases to render, all of them run
at once by the bounded runner, and what each produced (or why it could not)."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from archlint import scanning as k
from archlint.findings import Finding
from archlint.k8s.render import helm, kustomize, runner
from archlint.k8s.render.charts import chart_of, top_chart

if TYPE_CHECKING:
    from archlint.scanning import ScanContext, SourceFile

_Jobs = list[tuple[runner.Command, Callable[[runner.Outcome], None]]]
KEY = "k8s.renders"  # facts.extra: the Renders of this scan, made before the image prescan


@dataclass
class Unit:
    """One successful render and how to trace its objects back."""

    tool: str  # "kustomize" | "helm"
    anchor: str  # rel of the kustomization or Chart.yaml (findings about the render itself)
    source: str  # what the report calls where its workloads came from
    text: str
    files_read: set[Path] = field(default_factory=set)  # kustomize: the raw files it reads
    chart: helm.Chart | None = None
    namespace: str = "default"  # of objects that name none (helm: the release's)


@dataclass
class Fallback:
    """A chart that could not be rendered: what its values say it runs."""

    chart: helm.Chart
    anchor: str  # rel of Chart.yaml
    source: str
    components: list[helm.Component]
    namespace: str = "default"


@dataclass
class Renders:
    units: list[Unit] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    covered: set[Path] = field(default_factory=set)  # raw files checked only through a render
    fallbacks: list[Fallback] = field(default_factory=list)

    def image_texts(self) -> list[str]:
        """Text in which the image prescan finds every image the renders run."""
        out = [u.text for u in self.units]
        refs = [ref for fb in self.fallbacks for c in fb.components for ref, _ in c.images]
        if refs:
            out.append("".join(f"image: {r}\n" for r in refs))
        return out


def render_all(files: list[SourceFile], ctx: ScanContext) -> Renders:
    out = Renders()
    jobs: _Jobs = []
    _kustomizations([f for f in files if f.kind == k.KUSTOMIZATION], ctx, out, jobs)
    _charts([f for f in files if f.kind == k.HELM], ctx, out, jobs)
    outcomes = runner.run_all([cmd for cmd, _ in jobs])
    for (_, done), outcome in zip(jobs, outcomes, strict=True):
        done(outcome)
    return out


# ------------------------------------------------------------------ kustomize


def _kustomizations(kfiles: list[SourceFile], ctx: ScanContext, out: Renders, jobs: _Jobs) -> None:
    by_path = {kustomize.resolved(f.path): f for f in kfiles}
    plan = kustomize.plan(list(by_path))
    out.covered |= plan.partial
    for kpath, cov in plan.render:
        f = by_path[kpath]
        out.covered |= cov.patches  # partial objects: checked only as part of a render

        def failed(error: str, f: SourceFile = f) -> None:
            out.findings.append(Finding(
                rule="ARCH213",
                message=f"{f.rel}: {error}; its resources are checked as written, without overlays/patches",
                path=f.rel, key="kustomize",
            ))  # fmt: skip

        if ctx.offline and cov.remote:
            failed(f"not rendered in --offline mode: remote base {cov.remote[0]}")
            continue
        cmd = kustomize.command(f.path.parent)
        if cmd is None:
            failed("kubectl is not on PATH")
            continue
        source = ctx.rel(f.path.parent) or "."

        def done(o: runner.Outcome, f: SourceFile = f, cov: kustomize.Coverage = cov, source: str = source,
                 failed: Callable[[str], None] = failed) -> None:  # fmt: skip
            if not o.ok:
                failed(f"`kubectl kustomize` failed: {o.error}")
                return
            out.covered |= cov.files
            out.units.append(Unit("kustomize", f.rel, source, o.stdout, set(cov.files)))

        jobs.append((cmd, done))


# ------------------------------------------------------------------ helm


def _charts(hfiles: list[SourceFile], ctx: ScanContext, out: Renders, jobs: _Jobs) -> None:
    charts: dict[Path, None] = {}
    for f in hfiles:
        c = chart_of(Path(os.path.abspath(f.path)))
        if c is not None:
            charts.setdefault(kustomize.resolved(top_chart(c)), None)
    if not charts:
        return
    releases = helm.releases_from_config(ctx.config)
    kube_version = ctx.config.get("kubernetes-version")
    for directory in charts:
        chart = helm.load_chart(directory)
        anchor = ctx.rel(directory / "Chart.yaml")
        chart_rel = ctx.rel(directory) or "."
        if chart.error is not None:
            out.findings.append(Finding(rule="ARCH002", message=f"Helm chart {chart_rel}: {chart.error}", path=anchor,
                                        key="helm-chart"))  # fmt: skip
            continue
        if chart.library:
            continue  # helm refuses to install (or render) a library chart: it runs nothing itself
        mine = [r for r in releases if r.chart == directory] or [helm.Release(directory)]
        missing = chart.missing_dependencies()
        for rel in mine:
            source = _source(ctx, chart_rel, rel)
            how = _how(ctx, chart, rel)
            if missing:
                names = ", ".join(d.name for d in missing)
                why = (f"its dependencies {names} are not in {chart_rel}/charts/ (archlint does not run "
                       f"`helm dependency build`: it needs the network); after `helm dependency build {chart_rel}`, "
                       f"check it with `{how}`")  # fmt: skip
                _fallback(ctx, out, chart, anchor, source, why, rel)
                continue
            cmd = helm.command(chart, rel, kube_version)
            if cmd is None:
                _fallback(ctx, out, chart, anchor, source, f"helm is not on PATH; check it with `{how}`", rel)
                continue

            def done(o: runner.Outcome, chart: helm.Chart = chart, anchor: str = anchor, source: str = source,
                     namespace: str = rel.namespace or "default") -> None:  # fmt: skip
                if not o.ok:
                    out.findings.append(Finding(
                        rule="ARCH215", message=f"`helm template` failed for {source}: {o.error}",
                        path=anchor, key=f"helm-template:{source}",
                    ))  # fmt: skip
                    return
                out.units.append(Unit("helm", anchor, source, o.stdout, chart=chart, namespace=namespace))

            jobs.append((cmd, done))


def _source(ctx: ScanContext, chart_rel: str, rel: helm.Release) -> str:
    parts = []
    if rel.name:
        parts.append(f"release {rel.name}")
    if rel.namespace:
        parts.append(f"namespace {rel.namespace}")
    parts += [_short(ctx, rel.chart, v) for v in rel.values]
    return f"{chart_rel} ({', '.join(parts)})" if parts else chart_rel


def _short(ctx: ScanContext, chart: Path, p: Path) -> str:
    try:
        return p.relative_to(chart).as_posix()
    except ValueError:
        return ctx.rel(p)


def _how(ctx: ScanContext, chart: helm.Chart, rel: helm.Release) -> str:
    argv = ["helm", "template", rel.name or chart.name, ctx.rel(chart.directory) or "."]
    if rel.namespace:
        argv += ["--namespace", rel.namespace]
    for v in rel.values:
        argv += ["-f", ctx.rel(v)]
    return shlex.join(argv) + " | archlint check -"


def _fallback(ctx: ScanContext, out: Renders, chart: helm.Chart, anchor: str, source: str, why: str,
              release: helm.Release) -> None:  # fmt: skip
    comps = helm.components(chart, release.values)
    files = sorted({ctx.rel(sp.file) for c in comps for _, sp in c.images})
    read = f"; the images it runs were read from {', '.join(files)}" if files else ""
    out.findings.append(Finding(rule="ARCH214", message=f"Helm chart {source} was not rendered: {why}{read}",
                                path=anchor, key=f"helm-not-rendered:{source}"))  # fmt: skip
    if comps:
        label = f"{source[:-1]}; not rendered)" if source.endswith(")") else f"{source} (not rendered)"
        out.fallbacks.append(Fallback(chart, anchor, label, comps, release.namespace or "default"))
