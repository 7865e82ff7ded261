"""Helm charts: read Chart.yaml, check that dependencies are vendored, build the `helm template`
command for each release, and (without helm) read the images a chart runs from its values.

Rendering never touches the network: `helm dependency build` is not run, and a chart whose
dependencies are not in its charts/ directory is reported instead of rendered.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archlint.errors import FatalError
from archlint.k8s.render.charts import CHART_FILE, is_chart_dir
from archlint.k8s.render.runner import Command
from archlint.k8s.yamlread import Doc, read_all

if TYPE_CHECKING:
    from archlint.config import Config

RELEASE_KEYS = ("chart", "values", "name", "namespace")


def helm() -> str | None:
    return shutil.which("helm")


@dataclass(frozen=True)
class Dependency:
    name: str
    alias: str | None
    repository: str


@dataclass
class Chart:
    directory: Path  # absolute
    name: str
    app_version: str | None = None
    library: bool = False  # `type: library`: templates for other charts, nothing to install
    dependencies: list[Dependency] = field(default_factory=list)
    error: str | None = None  # Chart.yaml could not be read

    def missing_dependencies(self) -> list[Dependency]:
        """Dependencies with no subchart in charts/ (a directory whose Chart.yaml has that name,
        or a packaged `<name>-<version>.tgz`): what `helm template` refuses without
        `helm dependency build`, which needs the network."""
        have: set[str] = set()
        vendored = self.directory / "charts"
        try:
            entries = list(vendored.iterdir()) if vendored.is_dir() else []
        except OSError:
            entries = []
        for e in entries:
            if e.is_dir() and is_chart_dir(str(e)):
                sub = load_chart(e)
                have.add(sub.name)
            elif e.name.endswith(".tgz"):
                have.add(e.name[: -len(".tgz")])
        return [d for d in self.dependencies if d.name not in have and not _packaged(d.name, have)]


def _packaged(name: str, have: set[str]) -> bool:
    # charts/redis-18.1.0.tgz holds chart "redis"
    return any(h.startswith(name + "-") and h[len(name) + 1 : len(name) + 2].isdigit() for h in have)


def _doc_data(path: Path) -> tuple[Any, str | None]:
    try:
        docs = read_all(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        return None, f"cannot read {path.name}: {e}"
    if not docs:
        return None, None
    bad = next((p for d in docs for p in d.problems), None)
    if bad is not None:
        return None, f"{path.name}:{bad.line}: {bad.message}"
    return docs[0].data, None


def load_chart(directory: Path) -> Chart:
    data, error = _doc_data(directory / CHART_FILE)
    if error is not None or not isinstance(data, dict):
        return Chart(directory, directory.name, error=error or f"{CHART_FILE} is not a mapping")
    name = data.get("name")
    chart = Chart(directory, str(name) if name else directory.name)
    if data.get("appVersion") is not None:
        chart.app_version = str(data["appVersion"])
    chart.library = data.get("type") == "library"
    deps: Any = data.get("dependencies")
    if deps is None and data.get("apiVersion") == "v1":
        req, _ = _doc_data(directory / "requirements.yaml")  # Helm 2 charts list them there
        deps = req.get("dependencies") if isinstance(req, dict) else None
    for d in deps if isinstance(deps, list) else []:
        if isinstance(d, dict) and isinstance(d.get("name"), str):
            chart.dependencies.append(Dependency(d["name"], d.get("alias"), str(d.get("repository") or "")))
    return chart


# ------------------------------------------------------------------ releases (config)


@dataclass(frozen=True)
class Release:
    """One way a chart is installed: what `helm template` is given."""

    chart: Path  # absolute chart directory
    values: tuple[Path, ...] = ()  # absolute values files, in order
    name: str | None = None  # release name (default: the chart's name)
    namespace: str | None = None
    where: str = ""  # the config key it came from, for messages


def releases_from_config(cfg: Config) -> list[Release]:
    """`[[tool.archlint.helm.releases]]`: chart, values, name, namespace (paths relative to the
    config file). Raises FatalError naming the key for anything wrong."""
    helm_cfg = cfg.get("helm")
    if helm_cfg is None:
        return []
    if not isinstance(helm_cfg, dict):
        raise FatalError(f"{cfg.where('helm')}: expected a table")
    unknown = set(helm_cfg) - {"releases"}
    if unknown:
        raise FatalError(f"{cfg.where('helm.' + sorted(unknown)[0])}: unknown configuration key")
    raw = helm_cfg.get("releases", [])
    if not isinstance(raw, list):
        raise FatalError(f"{cfg.where('helm.releases')}: expected an array of tables ([[tool.archlint.helm.releases]])")
    base = (cfg.directory or Path.cwd()).resolve()
    out = []
    for i, r in enumerate(raw):
        key = f"helm.releases[{i}]"
        if not isinstance(r, dict):
            raise FatalError(f"{cfg.where(key)}: expected a table")
        bad = sorted(set(r) - set(RELEASE_KEYS))
        if bad:
            raise FatalError(
                f"{cfg.where(key + '.' + bad[0])}: unknown configuration key (one of {', '.join(RELEASE_KEYS)})"
            )
        chart = r.get("chart")
        if not isinstance(chart, str) or not chart:
            raise FatalError(
                f"{cfg.where(key + '.chart')}: expected the chart's directory (relative to the config file)"
            )
        chart_dir = (base / chart).resolve()
        if not is_chart_dir(str(chart_dir)):
            raise FatalError(f"{cfg.where(key + '.chart')}: {chart} is not a chart directory (no {CHART_FILE})")
        values = r.get("values", [])
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise FatalError(f"{cfg.where(key + '.values')}: expected a list of values files")
        paths = []
        for v in values:
            p = (base / v).resolve()
            if not p.is_file():
                raise FatalError(f"{cfg.where(key + '.values')}: no such values file {v}")
            paths.append(p)
        for opt in ("name", "namespace"):
            if opt in r and (not isinstance(r[opt], str) or not r[opt]):
                raise FatalError(f"{cfg.where(key + '.' + opt)}: expected a non-empty string")
        out.append(Release(chart_dir, tuple(paths), r.get("name"), r.get("namespace"), cfg.where(key)))
    return out


def command(chart: Chart, release: Release, kube_version: str | None) -> Command | None:
    """`helm template` for one release; None when helm is not on PATH. Test hooks (run only by
    `helm test`) are left out; CRDs are plain files archlint reads itself."""
    exe = helm()
    if exe is None:
        return None
    argv = [exe, "template", release.name or chart.name, str(chart.directory), "--skip-tests"]
    if release.namespace:
        argv += ["--namespace", release.namespace]
    for v in release.values:
        argv += ["--values", str(v)]
    if kube_version:
        argv += ["--kube-version", kube_version]
    return Command(tuple(argv))


# ------------------------------------------------------------------ what values say (no helm)

SCHEDULING = ("nodeSelector", "affinity", "tolerations")
_MAX_DEPTH = 8
_IMAGE_PARTS = frozenset({"registry", "repository", "repo", "tag", "digest", "pullPolicy", "pullSecrets"})


@dataclass(frozen=True)
class Spot:
    """Where a value is written: a values file, its document and the key path in it."""

    file: Path
    doc: Doc
    path: tuple[str, ...]

    def position(self) -> tuple[int, int]:
        return self.doc.locate_key(self.path)


@dataclass
class Component:
    """A pod the chart probably runs, as its values describe it: the images of one mapping of
    the values (`worker`, `services.frontend`, a subchart's), and the nodeSelector, affinity and
    tolerations next to them, else at the top of its chart's values (as `helm create` passes
    them through)."""

    name: str  # dotted key path ("" for images at the top); a subchart's start with its name
    images: list[tuple[str, Spot]]  # (reference, where it is written)
    scheduling: dict[str, tuple[Any, Spot]]  # field -> (value, where it is written)
    scope: tuple[str, ...]  # the key path in the parent chart's values where its scheduling keys go


_Layer = tuple[Doc, Path, tuple[str, ...]]  # a values document, its file, where this chart's values are in it


def _load(path: Path) -> Doc | None:
    try:
        docs = read_all(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    return docs[0] if docs and isinstance(docs[0].data, dict) and not docs[0].problems else None


def components(chart: Chart, values: tuple[Path, ...] = ()) -> list[Component]:
    """The components of a chart and of the subcharts in its charts/ directory, from its
    values.yaml with the release's values files on top (later files win, maps merge, as in helm)."""
    files = (chart.directory / "values.yaml", *values)
    layers: list[_Layer] = [(d, p, ()) for p in files if (d := _load(p)) is not None]
    out = _chart_components(chart, layers, ())
    vendored = chart.directory / "charts"
    for sub in sorted(vendored.iterdir()) if vendored.is_dir() else []:
        if not (sub.is_dir() and is_chart_dir(str(sub))):
            continue
        subchart = load_chart(sub)
        own = _load(sub / "values.yaml")
        sub_layers: list[_Layer] = [(own, sub / "values.yaml", ())] if own is not None else []
        sub_layers += [(d, p, (subchart.name,)) for d, p, _ in layers]
        out += _chart_components(subchart, sub_layers, (subchart.name,))
    return out


def _dig(node: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    return node


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, dict) else v
    return out


def _chart_components(chart: Chart, layers: list[_Layer], prefix: tuple[str, ...]) -> list[Component]:
    merged: dict[str, Any] = {}
    for doc, _, at in layers:
        data = _dig(doc.data, at)
        if isinstance(data, dict):
            merged = _merge(merged, data)

    def spot(path: tuple[str, ...]) -> Spot | None:
        """Where the effective value at `path` is written: the last layer that has it."""
        for doc, file, at in reversed(layers):
            if _dig(doc.data, (*at, *path)) is not None:
                return Spot(file, doc, (*at, *path))
        return None

    glob: dict[str, Any] = merged["global"] if isinstance(merged.get("global"), dict) else {}
    registry = glob.get("imageRegistry") if isinstance(glob.get("imageRegistry"), str) else None
    found: dict[tuple[str, ...], Component] = {}
    for owner, key, ref in _images(merged, (), chart.app_version, registry, 0, False):
        where = spot(key)
        if where is None:
            continue
        comp = found.get(owner)
        if comp is None:
            scheduling: dict[str, tuple[Any, Spot]] = {}
            here = _dig(merged, owner) if owner else merged
            local = isinstance(here, dict) and any(f in here for f in SCHEDULING)
            scope = owner if local else ()
            for f in SCHEDULING:
                v, sp = _dig(merged, (*scope, f)), spot((*scope, f))
                if isinstance(v, (dict, list)) and v and sp is not None:
                    scheduling[f] = (v, sp)
            comp = Component(".".join((*prefix, *owner)), [], scheduling, (*prefix, *(owner if local else ())))
            found[owner] = comp
        comp.images.append((ref, where))
    return list(found.values())


def _images(node: dict[str, Any], path: tuple[str, ...], app_version: str | None, registry: str | None, depth: int,
            listed: bool) -> list[tuple[tuple[str, ...], tuple[str, ...], str]]:  # fmt: skip
    """(owner path, key path, reference) of the images in `node`: `image: repo:tag` strings and
    `*image` mappings with `repository` plus optional `registry`, `tag`, `digest` (the shapes
    `helm create` and the big chart collections use); under an `*images` mapping, each entry. A
    missing tag is the chart's appVersion, as the usual templates default it."""
    out: list[tuple[tuple[str, ...], tuple[str, ...], str]] = []
    if depth > _MAX_DEPTH:
        return out
    for key, value in node.items():
        if not isinstance(key, str):
            continue
        here = (*path, key)
        if key.lower().endswith("image") or (listed and key not in _IMAGE_PARTS):
            ref = _ref_of(value, app_version, registry)
            if ref is not None:
                out.append((path if key.lower() == "image" else here, here, ref))
                continue
        if isinstance(value, dict):
            out += _images(value, here, app_version, registry, depth + 1, key.lower().endswith("images"))
    return out


def _ref_of(value: Any, app_version: str | None, global_registry: str | None) -> str | None:
    if isinstance(value, str):
        v = value.strip()
        return v if _plain(v) else None
    if not isinstance(value, dict):
        return None
    repo = value.get("repository") or value.get("repo")
    if not isinstance(repo, str) or not repo or "{{" in repo:
        return None
    registry = value.get("registry") if isinstance(value.get("registry"), str) else global_registry
    ref = f"{registry.rstrip('/')}/{repo}" if registry else repo
    digest = value.get("digest")
    tag = value.get("tag")
    if isinstance(digest, str) and digest:
        return f"{ref}@{digest}"
    if tag not in (None, "") and not isinstance(tag, (dict, list)):
        return f"{ref}:{tag}"
    return f"{ref}:{app_version}" if app_version else ref


def _plain(v: str) -> bool:
    """A bare image name (`nginx`): letters, digits and the separators image names allow."""
    return bool(v) and v[0].isalnum() and all(c.isalnum() or c in "._-/:@" for c in v)
