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


# ------------------------------------------------------------------ images in values (no helm)


@dataclass(frozen=True)
class ValuesImage:
    component: str  # dotted path of the mapping that holds the image ("" at the top)
    ref: str
    line: int
    column: int


@dataclass
class Values:
    """What a chart's values say about the pods it runs, for when it cannot be rendered."""

    rel: str  # the values file
    images: list[ValuesImage]
    doc: Doc | None
    data: dict[str, Any]


_MAX_DEPTH = 8
_IMAGE_PARTS = frozenset({"registry", "repository", "repo", "tag", "digest", "pullPolicy", "pullSecrets"})


def values_images(chart: Chart, path: Path) -> tuple[list[ValuesImage], Doc | None, dict[str, Any]]:
    """Image references in a values file: `image: repo:tag` strings, and `image:` (or any
    `*image*` key's) mappings with `repository` plus optional `registry`, `tag`, `digest`
    (the shapes `helm create` and the big chart collections use), one per component mapping.
    A missing tag is the chart's appVersion, as the usual templates default it."""
    try:
        docs = read_all(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return [], None, {}
    doc = docs[0] if docs else None
    data = doc.data if doc is not None and isinstance(doc.data, dict) else {}
    out: list[ValuesImage] = []
    glob: dict[str, Any] = data["global"] if isinstance(data.get("global"), dict) else {}
    global_registry = glob.get("imageRegistry") if isinstance(glob.get("imageRegistry"), str) else None

    def visit(node: dict[str, Any], path: tuple[str, ...], depth: int, images: bool) -> None:
        if depth > _MAX_DEPTH:
            return
        for key, value in node.items():
            if not isinstance(key, str):
                continue
            here = (*path, key)
            named = key.lower().endswith("image")
            if named or (images and key not in _IMAGE_PARTS):
                ref = _ref_of(value, chart.app_version, global_registry)
                if ref is not None and doc is not None:
                    line, col = doc.locate_key(here)
                    out.append(ValuesImage(".".join(path if key.lower() == "image" else here), ref, line, col))
                    continue
            if isinstance(value, dict):
                visit(value, here, depth + 1, key.lower().endswith("images"))

    visit(data, (), 0, False)
    return out, doc, data


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
