"""Kubernetes manifests: parse with lines, validate, place every pod template on the cluster
profile's node pools, and report what will break on (or miss out on) arm64 nodes."""

from __future__ import annotations

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
from archlint.k8s import checks, chunks, kustomize, pool, schedule, validate
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
class _Raw:
    """A raw object in a file a kustomization renders: where rendered findings point."""

    rel: str
    text: str
    obj: KObject


class KubernetesScanner(Scanner):
    name = "kubernetes"
    kinds = frozenset({k.KUBERNETES, k.KUSTOMIZATION})
    order = 40

    def scan(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> Iterable[Finding]:
        profile = load_profile(ctx)
        try:
            version = validate.resolve_version(ctx.config.get("kubernetes-version"))
        except validate.UnsupportedVersion as e:
            raise FatalError(f"{ctx.config.where('kubernetes-version')}: {e}") from None
        run = _Run(ctx, facts, profile, version, verdict_lookup(facts, ctx.config))
        kfiles = [f for f in files if f.kind == k.KUSTOMIZATION]
        manifests = [f for f in files if f.kind == k.KUBERNETES]
        covered: set[Path] = set()
        rendered: list[tuple[SourceFile, str, set[Path]]] = []
        yield from self._kustomizations(kfiles, ctx, covered, rendered)
        jobs = chunks.plan(manifests, covered)
        try:
            results = pool.map_jobs(lambda job: self._file_job(job, run), jobs, [j.size for j in jobs])
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
        for kf, text, files_read in rendered:
            yield from guarded([kf], lambda kf, text=text, fr=files_read: self._rendered(kf, text, fr, run))  # type: ignore[misc]

    # -------------------------------------------------------------- kustomize

    def _kustomizations(self, kfiles: list[SourceFile], ctx: ScanContext, covered: set[Path],
                        rendered: list[tuple[SourceFile, str, set[Path]]]) -> Iterator[Finding]:  # fmt: skip
        covs = {f: kustomize.coverage(f.path) for f in kfiles}
        nested = set().union(*(c.kustomizations for c in covs.values())) if covs else set()
        for f, cov in covs.items():
            if _resolved(f.path) in nested:
                continue  # rendered as part of the overlay that includes it
            if ctx.offline and cov.remote:
                result = kustomize.Rendered(False, error=f"not rendered in --offline mode: remote base {cov.remote[0]}")
            else:
                result = kustomize.render(f.path.parent)
            covered |= cov.patches  # partial objects: checked only as part of a render
            if not result.ok:
                yield Finding(
                    rule="ARCH213",
                    message=f"{f.rel}: {result.error}; its resources are checked as written, without overlays/patches",
                    path=f.rel, key="kustomize",
                )  # fmt: skip
                continue
            covered |= cov.files
            rendered.append((f, result.text, cov.files))

    def _rendered(self, kf: SourceFile, text: str, files_read: set[Path], run: _Run) -> Iterator[Finding]:
        raws: dict[tuple[str, str], list[_Raw]] = {}
        for p in sorted(files_read):
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
                    raws.setdefault((obj.kind, obj.name), []).append(_Raw(rel, raw_text, obj))
        for doc in read_documents(text):
            for obj in objects(doc) if doc.data is not None else ():
                raw = _match(obj, raws)
                yield from self._object(obj, run, kf.rel if raw is None else raw.rel, None, raw, validate_schema=True)

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
        for doc in read_documents(part, line_offset=line_offset, seen=seen):
            ranges[doc.index] = (doc.start_line, doc.end_line)
            yield from _problems(doc, f.rel)
            if doc.data is None or raw_only:
                continue
            for where, problem in shape_problems(doc.data):
                line, col = doc.locate_key(where)
                yield Finding(rule="ARCH002", message=problem, path=f.rel, line=line, column=col,
                              key=f"shape:{'.'.join(map(str, where))}")  # fmt: skip
            for obj in objects(doc):
                yield from self._object(obj, run, f.rel, text, None, validate_schema=not doc.problems)

    def _object(self, obj: KObject, run: _Run, rel: str, text: str | None, raw: _Raw | None,
                validate_schema: bool) -> Iterator[Finding]:  # fmt: skip
        """Findings for one object. `text` is the file the object is in (edits go there); for a
        rendered object, `raw` is its source object (positions and, when safe, edits go there)."""
        anchor = raw.obj if raw is not None else obj
        first, last = anchor.lines
        ignored = obj.ignored_rules() | anchor.ignored_rules()
        if ignored:
            run.facts.region_ignores.append((rel, first, last, ignored))
        # Only workload kinds are validated: they are what this tool reasons about, and it keeps
        # the scan fast on large manifests full of ConfigMaps and RBAC.
        if validate_schema and obj.kind in POD_SPEC_PATHS:
            schema_errors = validate.validate(obj.data, run.version)
        else:
            schema_errors = None
        for err in schema_errors or []:
            path = (*err.path, err.unexpected_key) if err.unexpected_key else err.path
            where = _locate(obj, anchor, path, key=err.unexpected_key is not None)
            field = ".".join(map(str, path)) or "(object)"
            yield Finding(
                rule="ARCH209",
                message=f"{obj.id}: {field}: {err.message} (Kubernetes {validate_ver(run)} schema)",
                path=rel, line=where[0], column=where[1], workload=obj.id, key=f"{obj.id}:schema:{field}",
            )  # fmt: skip
        for tpl in pod_templates(obj):
            yield from self._workload(obj, tpl, run, rel, text, raw, anchor, schema_errors)

    def _workload(self, obj: KObject, tpl: PodTemplate, run: _Run, rel: str, text: str | None, raw: _Raw | None,
                  anchor: KObject, schema_errors: list[validate.SchemaError] | None) -> Iterator[Finding]:  # fmt: skip
        spec = tpl.spec
        if schema_errors is None:  # no schema (custom resources): check the types we rely on
            for path, msg in type_problems(spec):
                where = _locate(obj, anchor, (*tpl.path, *path))
                yield Finding(rule="ARCH212", message=f"{obj.id}: {msg}", path=rel, line=where[0], column=where[1],
                              workload=obj.id, key=f"{obj.id}:type:{'.'.join(map(str, path))}")  # fmt: skip
        spec_path = (*anchor.path, *tpl.path)
        verdicts = schedule.pool_verdicts(spec, run.profile)
        wl = Workload(
            kind=obj.kind, name=obj.name, namespace=obj.namespace, path=rel, line=anchor.line,
            images=[ref for _, ref in images(spec)], pod_spec=spec,
            doc_index=anchor.doc.index, spec_path=spec_path,
            placement=Placement(current=schedule.arches_of(v.pool for v in verdicts if v.fits)),
        )  # fmt: skip
        run.facts.workloads.append(wl)
        edit_text, edit_index = _edit_target(obj, tpl, text, raw)

        def edits_for(ops: list[Op]) -> list[Edit]:
            if edit_text is None or rel == STDIN_REL:  # nothing to write back to: the patch only
                return []
            return ops_to_edits(edit_text, edit_index, spec_path, ops, rel)

        c = checks.Context(
            wl=wl, profile=run.profile,
            locate=lambda p: _locate(obj, anchor, (*tpl.path, *p)),
            locate_key=lambda p: _locate(obj, anchor, (*tpl.path, *p), key=True),
            edits_for=edits_for, verdict=run.verdict, rel=rel, pools=verdicts,
        )  # fmt: skip
        yield from checks.check(c)


_FileResult = tuple[
    list[Finding],
    list[Workload],
    list[tuple[str, int, int, frozenset[str]]],
    "tuple[tuple[int, int], dict[int, tuple[int, int]]] | None",
    int,  # documents read (the next chunk's first index)
]


def validate_ver(run: _Run) -> str:
    return ".".join(run.version.split(".")[:2])


def _resolved(p: Path) -> Path:
    try:
        return p.resolve()
    except OSError:
        return p


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


def _edit_target(obj: KObject, tpl: PodTemplate, text: str | None, raw: _Raw | None) -> tuple[str | None, int]:
    """The text edits apply to: the object's own file, or for a rendered object its raw source
    file when the scheduling fields there are what the render produced (else edits there would
    not change what is deployed: only the patch is offered)."""
    if raw is None:
        return text, obj.doc.index
    node: Any = raw.obj.data
    for s in tpl.path:
        node = node.get(s) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return None, 0
    if all(node.get(f) == tpl.spec.get(f) for f in _SCHEDULING_FIELDS):
        return raw.text, raw.obj.doc.index
    return None, 0


def _match(obj: KObject, raws: dict[tuple[str, str], list[_Raw]]) -> _Raw | None:
    """The raw object a rendered one came from: same kind, and the raw name is the rendered
    name or what is left of it after kustomize's namePrefix/nameSuffix."""
    exact = raws.get((obj.kind, obj.name))
    candidates = exact or [r for (kind, name), rs in raws.items() if kind == obj.kind and name in obj.name for r in rs]
    if not candidates:
        return None
    # Prefer full objects (with images) over strategic-merge patches, then the longest name.
    return max(candidates, key=lambda r: (any(True for _ in pod_templates(r.obj)), len(r.obj.name)))
