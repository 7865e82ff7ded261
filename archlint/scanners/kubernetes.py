"""Kubernetes manifests: parse with lines, validate, place every pod template on the cluster
profile's node pools, and report what will break on (or miss out on) arm64 nodes."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archlint import scanning as k
from archlint.engine import STDIN_REL
from archlint.errors import FatalError
from archlint.facts import Facts, ImageVerdict, Placement, Workload
from archlint.findings import Edit, Finding
from archlint.images import name_of
from archlint.k8s import checks, chunks, pool, schedule, validate
from archlint.k8s.crds import dig
from archlint.k8s.edits import Op, document_key, ops_to_edits, remember_documents, remember_documents_by_key
from archlint.k8s.objects import (
    POD_SPEC_PATHS,
    KObject,
    PodTemplate,
    images,
    objects,
    pod_templates,
    shape_problems,
    type_problems,
)
from archlint.k8s.profile import ClusterProfile, load_profile
from archlint.k8s.render import helm
from archlint.k8s.render import renders as rendering
from archlint.k8s.render.sourcemap import HelmSources, Raw, TemplateLines, match, packaged_subchart, template_file
from archlint.k8s.yamlread import Doc, read_documents
from archlint.scanning import ScanContext, Scanner, SourceFile, guarded

_PROBLEM_RULES = {"syntax": "ARCH002", "alias": "ARCH002", "too-deep": "ARCH002", "duplicate-key": "ARCH211",
                  "alias-bomb": "ARCH210"}  # fmt: skip
_SCHEDULING_FIELDS = ("nodeSelector", "affinity", "tolerations", "nodeName")
_OVERRIDE_VERDICTS = {
    "arm64": (True, ("linux/arm64",)),
    "multi-arch": (True, ("linux/amd64", "linux/arm64")),
    "amd64": (False, ("linux/amd64",)),
}


def verdict_lookup(facts: Facts, cfg: Any) -> Callable[[str], ImageVerdict | None]:
    """Image evidence by reference: what earlier scanners put in facts.images, else the
    config's `image-overrides` (so the checks work when no image scanner ran)."""
    overrides: dict[str, str] = {}
    for key, value in (cfg.get("image-overrides") or {}).items():
        overrides[name_of(key) or key] = value

    def verdict(ref: str) -> ImageVerdict | None:
        name = name_of(ref)
        if name is None:
            return None
        v = facts.images.get(name)
        if v is not None:
            return v
        o = overrides.get(name)
        if o in _OVERRIDE_VERDICTS:
            arm64, plats = _OVERRIDE_VERDICTS[o]
            return ImageVerdict(ref, arm64, [f"config image-overrides: {o}"], plats)
        return None

    return verdict


@dataclass
class _Run:
    ctx: ScanContext
    facts: Facts
    profile: ClusterProfile
    version: str
    verdict: Callable[[str], ImageVerdict | None]


@dataclass
class _Where:
    """Where an object's findings, workload rows and edits go: its own file (`text` is that
    file), the raw object of a kustomize render, a Helm template, or (nothing better known)
    line 1 of the kustomization or chart that rendered it."""

    rel: str  # the file findings point at
    source: str  # the workload's source in the report
    text: str | None = None  # the object's own file, for edits (plain manifests)
    raw: Raw | None = None  # kustomize: the raw object it came from
    template: TemplateLines | None = None  # helm: its template
    anchor: int = 0  # helm: 0-based line of its `kind:` in the template
    own: bool = False  # positions are the object's own (a plain manifest, stdin)

    def locate(self, obj: KObject, path: tuple[str | int, ...], key: bool = False) -> tuple[int, int]:
        if self.template is not None:
            return self.template.locate(self.anchor, path)
        if self.raw is not None:
            return _locate(obj, self.raw.obj, path, key)
        if self.own:
            return obj.locate_key(path) if key else obj.locate(path)
        return 1, 1

    def span(self, obj: KObject) -> tuple[int, int]:
        """First and last line of the object where it is written (annotation suppressions)."""
        if self.template is not None:
            return self.template.span(self.anchor)
        if self.raw is not None:
            return self.raw.obj.lines
        return obj.lines if self.own else (1, 1)

    @functools.cached_property
    def manual(self) -> str:
        """How to apply a placement fix that cannot be written here as text edits."""
        if self.template is not None or self.rel.endswith("Chart.yaml"):
            return ("set it through the chart's values (nodeSelector, affinity, tolerations) or in its template; "
                    "the JSON report has the placement patch")  # fmt: skip
        if self.raw is not None:
            return f"add it as a patch in {self.source}; the JSON report has the placement patch"
        return "apply the placement patch from the JSON report"

    def line(self, obj: KObject) -> int:
        if self.template is not None:
            return self.anchor + 1
        if self.raw is not None:
            return self.raw.obj.line
        return obj.line if self.own else 1


class RenderScanner(Scanner):
    """Renders kustomizations and Helm charts (all at once, before the image prescan, so the
    images they run are linked to build contexts like any other); the Kubernetes scanner
    checks what they produced."""

    name = "render"
    kinds = frozenset({k.KUSTOMIZATION, k.HELM})
    order = 3

    def scan(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> Iterable[Finding]:
        r = rendering.render_all(list(files), ctx)
        facts.extra[rendering.KEY] = r
        return list(r.findings)


class KubernetesScanner(Scanner):
    name = "kubernetes"
    kinds = frozenset({k.KUBERNETES, k.KUSTOMIZATION, k.HELM})
    order = 40

    def scan(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> Iterable[Finding]:
        profile = load_profile(ctx)
        try:
            version = validate.resolve_version(ctx.config.get("kubernetes-version"))
        except validate.UnsupportedVersion as e:
            raise FatalError(f"{ctx.config.where('kubernetes-version')}: {e}") from None
        run = _Run(ctx, facts, profile, version, verdict_lookup(facts, ctx.config))
        renders = facts.extra.get(rendering.KEY)
        if not isinstance(renders, rendering.Renders):  # the render scanner did not run (a direct call)
            renders = rendering.render_all([f for f in files if f.kind in (k.KUSTOMIZATION, k.HELM)], ctx)
            yield from renders.findings
        manifests = [f for f in files if f.kind == k.KUBERNETES]
        jobs = chunks.plan(manifests, renders.covered)
        try:
            results = pool.map_jobs(lambda job: self._file_job(job, run), jobs, [j.size for j in jobs], run.ctx.workers)
        finally:
            chunks.TEXTS.clear()
        offset = 0  # documents before this chunk in its file (files read in chunks number per chunk)
        merged: dict[int, tuple[int, int]] = {}
        for job, (findings, workloads, regions, ranges, count) in zip(jobs, results, strict=True):
            if job.first:
                offset, merged = 0, {}
            yield from findings
            for wl in workloads:
                wl.doc_index += offset
            facts.workloads.extend(workloads)
            facts.region_ignores.extend(regions)
            if ranges is not None:
                key, local = ranges
                merged.update({offset + i: r for i, r in local.items()})
                remember_documents_by_key(key, merged)
            offset += count
        by_rel = {f.rel: f for f in files}
        for unit in renders.units:
            anchor = by_rel.get(unit.anchor) or SourceFile(path=ctx.root / unit.anchor, rel=unit.anchor, kind=k.HELM)
            if unit.tool == "helm":
                yield from guarded([anchor], lambda _f, u=unit: self._helm(u, run))  # type: ignore[misc]
            else:
                yield from guarded([anchor], lambda _f, u=unit: self._kustomized(u, run))  # type: ignore[misc]
        for fb in renders.fallbacks:
            yield from self._fallback(fb, run)
        distinguish(facts.workloads)

    # -------------------------------------------------------------- rendered

    def _kustomized(self, unit: rendering.Unit, run: _Run) -> Iterator[Finding]:
        raws: dict[tuple[str, str], list[Raw]] = {}
        for p in sorted(unit.files_read):
            try:
                raw_text = p.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            rel = run.ctx.rel(p)
            ranges: dict[int, tuple[int, int]] = {}
            remember_documents(raw_text, ranges)
            for doc in read_documents(raw_text):
                ranges[doc.index] = (doc.start_line, doc.end_line)
                for obj in objects(doc) if doc.data is not None else ():
                    raws.setdefault((obj.kind, obj.name), []).append(Raw(rel, raw_text, obj))
        for doc in read_documents(unit.text):
            for obj in objects(doc) if doc.data is not None else ():
                raw = match(obj, raws)
                where = _Where(unit.anchor if raw is None else raw.rel, unit.source, None, raw)
                yield from self._object(obj, run, where, validate_schema=True)

    def _helm(self, unit: rendering.Unit, run: _Run) -> Iterator[Finding]:
        chart = unit.chart
        assert chart is not None
        sources = HelmSources.of(unit.text)
        templates: dict[Path, TemplateLines | None] = {}
        seen: dict[tuple[str, str], int] = {}
        for doc in read_documents(unit.text):
            if doc.data is None:
                continue
            for obj in objects(doc, unit.namespace):
                src = sources.at(obj.line)
                where = _Where(unit.anchor, unit.source, None)
                if src is not None:
                    nth = seen.get((src, obj.kind), 0)
                    seen[(src, obj.kind)] = nth + 1
                    tfile = template_file(chart.directory, chart.name, src)
                    if tfile is not None:
                        if tfile not in templates:
                            try:
                                templates[tfile] = TemplateLines(tfile.read_text(encoding="utf-8"))
                            except (OSError, UnicodeDecodeError):
                                templates[tfile] = None
                        lines = templates[tfile]
                        if lines is not None:
                            where = _Where(run.ctx.rel(tfile), unit.source, None, template=lines,
                                           anchor=lines.anchor(obj.kind, nth))  # fmt: skip
                    else:
                        packaged = packaged_subchart(chart.directory, chart.name, src)
                        if packaged is not None:
                            where = _Where(run.ctx.rel(packaged), unit.source, None)
                yield from self._object(obj, run, where, validate_schema=True)

    # -------------------------------------------------------------- files

    def _file_job(self, job: chunks.Job, run: _Run) -> _FileResult:
        """One file (or a chunk of one), on its own Facts, so a pool worker can send back
        exactly what it found."""
        mine = Facts(images=run.facts.images)
        own = _Run(run.ctx, mine, run.profile, run.version, run.verdict)
        seen = [0]
        findings = list(guarded([job.file], lambda f: self._file(f, own, job.raw_only, job.span, seen)))
        return findings, mine.workloads, mine.region_ignores, mine.extra.get("k8s.ranges"), seen[0]

    def _file(self, f: SourceFile, run: _Run, raw_only: bool, span: tuple[int, int, int] | None = None,
              seen: list[int] | None = None) -> Iterator[Finding]:  # fmt: skip
        """Findings of a file; with `span` (start, end, line offset), of that chunk of it only."""
        try:
            text = chunks.TEXTS.get(f.rel) if span is not None else None
            text = text if text is not None else f.read_text()
        except UnicodeDecodeError as e:
            if span is None or span[0] == 0:
                yield Finding(rule="ARCH002", message=f"not valid UTF-8: {e.reason} at byte {e.start}", path=f.rel,
                              key="utf-8")  # fmt: skip
            return
        ranges: dict[int, tuple[int, int]] = {}
        remember_documents(text, ranges)  # filled as documents arrive; edits compose only theirs
        run.facts.extra["k8s.ranges"] = (document_key(text), ranges)
        part, line_offset = (text, 0) if span is None else (text[span[0] : span[1]], span[2])
        where = _Where(f.rel, f.rel, text, own=True)
        for doc in read_documents(part, line_offset=line_offset, seen=seen):
            ranges[doc.index] = (doc.start_line, doc.end_line)
            yield from _problems(doc, f.rel)
            if doc.data is None or raw_only:
                continue
            for key_path, problem in shape_problems(doc.data):
                line, col = doc.locate_key(key_path)
                yield Finding(rule="ARCH002", message=problem, path=f.rel, line=line, column=col,
                              key=f"shape:{'.'.join(map(str, key_path))}")  # fmt: skip
            for obj in objects(doc):
                yield from self._object(obj, run, where, validate_schema=not doc.problems)

    def _object(self, obj: KObject, run: _Run, where: _Where, validate_schema: bool) -> Iterator[Finding]:
        """Findings for one object, at the positions `where` gives."""
        rel = where.rel
        ignored = obj.ignored_rules() | (where.raw.obj.ignored_rules() if where.raw is not None else frozenset())
        if ignored:
            first, last = where.span(obj)
            run.facts.region_ignores.append((rel, first, last, ignored))
        # Only workload kinds are validated: they are what this tool reasons about, and it keeps
        # the scan fast on large manifests full of ConfigMaps and RBAC.
        if validate_schema and obj.kind in POD_SPEC_PATHS:
            schema_errors = validate.validate(obj.data, run.version)
        else:
            schema_errors = None
        for err in schema_errors or []:
            path = (*err.path, err.unexpected_key) if err.unexpected_key else err.path
            line, col = where.locate(obj, path, key=err.unexpected_key is not None)
            field = ".".join(map(str, path)) or "(object)"
            yield Finding(
                rule="ARCH209",
                message=f"{obj.id}: {field}: {err.message} (Kubernetes {validate_ver(run)} schema)",
                path=rel, line=line, column=col, workload=obj.id, key=f"{obj.id}:schema:{field}",
            )  # fmt: skip
        for tpl in pod_templates(obj):
            yield from self._workload(obj, tpl, run, where, schema_errors)

    def _workload(self, obj: KObject, tpl: PodTemplate, run: _Run, where: _Where,
                  schema_errors: list[validate.SchemaError] | None) -> Iterator[Finding]:  # fmt: skip
        spec = tpl.spec
        rel = where.rel
        anchor = where.raw.obj if where.raw is not None else obj
        verdicts = schedule.pool_verdicts(spec, run.profile)
        edit_text, edit_index, edit_path = _edit_target(obj, tpl, where)
        wl = Workload(
            kind=obj.kind, name=obj.name, namespace=obj.namespace, path=rel,
            line=where.locate(obj, tpl.path)[0] if tpl.role else where.line(obj),  # one pod of several: its own
            images=[ref for _, ref in images(spec)], pod_spec=spec,
            doc_index=edit_index if edit_text is not None else anchor.doc.index,
            spec_path=(*anchor.path, *(edit_path if edit_path is not None else tpl.path)),
            placement=Placement(current=schedule.arches_of(v.pool for v in verdicts if v.fits)),
            source=where.source, role=tpl.role, editable=edit_text is not None,
            patch_path=(*anchor.path, *tpl.patch_path) if tpl.patch_path is not None else None,
            patch_base=tpl.patch_base,
        )  # fmt: skip
        if schema_errors is None:  # no schema (custom resources): check the types we rely on
            for path, msg in type_problems(spec):
                line, col = where.locate(obj, tpl.object_path(path))
                yield Finding(rule="ARCH212", message=f"{wl.id}: {msg}", path=rel, line=line, column=col,
                              workload=wl.id, key=f"{wl.id}:type:{'.'.join(map(str, path))}")  # fmt: skip
        run.facts.workloads.append(wl)

        def edits_for(ops: list[Op]) -> list[Edit]:
            if edit_text is None or edit_path is None or rel == STDIN_REL:  # nowhere to write: the patch only
                return []
            return ops_to_edits(edit_text, edit_index, (*anchor.path, *edit_path), ops, rel)

        c = checks.Context(
            wl=wl, profile=run.profile,
            locate=lambda p: where.locate(obj, tpl.object_path(p)),
            locate_key=lambda p: where.locate(obj, tpl.object_path(p), key=True),
            edits_for=edits_for, verdict=run.verdict, rel=rel, pools=verdicts, manual=where.manual,
        )  # fmt: skip
        yield from checks.check(c)

    # -------------------------------------------------------------- charts helm cannot render

    def _fallback(self, fb: rendering.Fallback, run: _Run) -> Iterator[Finding]:
        """A row per component of a chart that was not rendered (its ARCH214 says why), from
        what the values say: the images, and the scheduling written next to them. Checked like
        any pod; positions are in the values files, and fixes go into the values (the patch is a
        values override)."""
        for comp in fb.components:
            first = comp.images[0][1]
            rel = run.ctx.rel(first.file)
            spec: dict[str, Any] = {"containers": [{"name": comp.name.rsplit(".", 1)[-1] or fb.chart.name,
                                                    "image": ref} for ref, _ in comp.images]}  # fmt: skip
            spec.update({f: v for f, (v, _) in comp.scheduling.items()})
            if type_problems(spec):
                spec = {"containers": spec["containers"]}
            verdicts = schedule.pool_verdicts(spec, run.profile)
            wl = Workload(
                kind="HelmChart", name=fb.chart.name, namespace=fb.namespace, path=rel, line=first.position()[0],
                images=[ref for ref, _ in comp.images], pod_spec=spec, source=fb.source, role=comp.name,
                editable=False, patch_path=comp.scope,
                placement=Placement(current=schedule.arches_of(v.pool for v in verdicts if v.fits)),
            )  # fmt: skip
            run.facts.workloads.append(wl)

            def locate(p: tuple[str | int, ...], comp: helm.Component = comp, first: helm.Spot = first,
                       rel: str = rel) -> tuple[int, int]:  # fmt: skip
                if p[:1] == ("containers",) and len(p) > 1 and isinstance(p[1], int) and p[1] < len(comp.images):
                    sp = comp.images[p[1]][1]
                elif p and p[0] in comp.scheduling:
                    sp = comp.scheduling[str(p[0])][1]
                else:
                    sp = first
                return sp.position() if run.ctx.rel(sp.file) == rel else first.position()

            c = checks.Context(
                wl=wl, profile=run.profile, locate=locate, locate_key=locate, edits_for=lambda ops: [],
                verdict=run.verdict, rel=rel, pools=verdicts,
                manual=f"set it in the chart's values under {'.'.join(comp.scope) or 'the top level'}; "
                "the JSON report's placement patch is that values override",
            )  # fmt: skip
            yield from checks.check(c)


_FileResult = tuple[
    list[Finding],
    list[Workload],
    list[tuple[str, int, int, frozenset[str]]],
    "tuple[tuple[int, int], dict[int, tuple[int, int]]] | None",
    int,  # documents read (the next chunk's first index)
]


def distinguish(workloads: list[Workload]) -> None:
    """Make id + source unique: rows that share both (the same object written twice, a chart
    template that renders one name twice) get their line, then their position, appended."""
    groups: dict[tuple[str, str], list[Workload]] = {}
    for wl in workloads:
        groups.setdefault((wl.id, wl.source or wl.path), []).append(wl)
    for (_, source), same in groups.items():
        if len(same) < 2:
            continue
        lines = [wl.line for wl in same]
        for i, wl in enumerate(same):
            wl.source = f"{source}:{wl.line}" if lines.count(wl.line) == 1 else f"{source}:{wl.line} #{i + 1}"


def _values_at(data: dict[str, Any], component: str) -> dict[str, Any]:
    node: Any = data
    for step in component.split(".") if component else ():
        node = node.get(step) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def validate_ver(run: _Run) -> str:
    return ".".join(run.version.split(".")[:2])


def _problems(doc: Doc, rel: str) -> Iterator[Finding]:
    for p in doc.problems:
        yield Finding(rule=_PROBLEM_RULES.get(p.code, "ARCH002"), message=p.message, path=rel, line=p.line,
                      column=p.column, key=f"{p.code}:{p.message}")  # fmt: skip


def _locate(obj: KObject, anchor: KObject, path: tuple[str | int, ...], key: bool = False) -> tuple[int, int]:
    """Position of `path` (from the object) in the anchor's file: exact when the anchor has it,
    else its nearest ancestor that it has, else the object's `kind:` line."""
    if anchor is not obj:
        node: Any = anchor.data
        for s in path:
            if isinstance(node, dict) and s in node:
                node = node[s]
            elif isinstance(node, list) and isinstance(s, int) and s < len(node):
                node = node[s]
            else:
                return anchor.line, 1
    return anchor.locate_key(path) if key else anchor.locate(path)


def _edit_target(obj: KObject, tpl: PodTemplate, where: _Where) -> tuple[str | None, int, tuple[str | int, ...] | None]:
    """The text edits apply to, its document and the path (from the object) of the mapping that
    holds the scheduling fields: the object's own file; for a kustomize render its raw source
    file when the scheduling fields there are what the render produced (else edits there would
    not change what is deployed); nothing for Helm templates and assembled pods whose fields are
    inherited: the patch only."""
    if tpl.edit_path is None:
        return None, 0, None
    if where.raw is None:
        return (where.text, obj.doc.index, tpl.edit_path) if where.own else (None, 0, None)
    raw = where.raw
    node, rendered = dig(raw.obj.data, tpl.edit_path), dig(obj.data, tpl.edit_path)
    if not isinstance(node, dict) or not isinstance(rendered, dict):
        return None, 0, None
    if all(node.get(f) == rendered.get(f) for f in _SCHEDULING_FIELDS):
        return raw.text, raw.obj.doc.index, tpl.edit_path
    return None, 0, None
