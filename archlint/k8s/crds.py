"""Pod specs of custom resources whose controllers assemble the pod from parts, and names for
the pods of multi-pod custom resources.

- Argo Workflows (`Workflow`, `WorkflowTemplate`, `ClusterWorkflowTemplate`, and `CronWorkflow`
  under `spec.workflowSpec`): one pod per template that has a `container`, `script` or
  `containerSet`, with its `sidecars` and `initContainers`. `templateDefaults` are merged into
  each template first (the template wins, mappings merge); then nodeSelector, affinity and
  tolerations come from the template when it sets them, else from the workflow spec (the
  controller's addSchedulingConstraints); a `podSpecPatch` (workflow, then template) is applied
  last.
- Spark operator (`SparkApplication`, `ScheduledSparkApplication` under `spec.template`): a driver
  and an executor pod; the image is the role's `image`, else the application's; nodeSelector is
  the role's, else the application's; tolerations and affinity are per role.

Everything else with pod specs (Rollouts, Knative, KServe, Ray, Kubeflow training, JobSet,
LeaderWorkerSet, Volcano, ...) writes real pod specs out and is found by walking to them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from archlint.k8s.objects import PodTemplate

Path = tuple[str | int, ...]
SCHEDULING = ("nodeSelector", "affinity", "tolerations")
MAX_POD_SPEC_PATCH = 64 * 1024

ARGO_GROUP = "argoproj.io/"
ARGO_WORKFLOW_SPECS: dict[str, Path] = {
    "Workflow": ("spec",),
    "WorkflowTemplate": ("spec",),
    "ClusterWorkflowTemplate": ("spec",),
    "CronWorkflow": ("spec", "workflowSpec"),
}
SPARK_GROUP = "sparkoperator.k8s.io/"
SPARK_APP_SPECS: dict[str, Path] = {"SparkApplication": ("spec",), "ScheduledSparkApplication": ("spec", "template")}
SPARK_ROLES = ("driver", "executor")


def pod_templates(api_version: str, kind: str, data: dict[str, Any]) -> list[PodTemplate] | None:
    """The pods of a custom resource whose controller assembles them; None for other kinds."""
    if api_version.startswith(ARGO_GROUP) and kind in ARGO_WORKFLOW_SPECS:
        return _argo(data, ARGO_WORKFLOW_SPECS[kind])
    if api_version.startswith(SPARK_GROUP) and kind in SPARK_APP_SPECS:
        return _spark(data, SPARK_APP_SPECS[kind])
    return None


def dig(node: Any, path: Path) -> Any:
    for s in path:
        if isinstance(node, dict) and isinstance(s, str):
            node = node.get(s)
        elif isinstance(node, list) and isinstance(s, int) and 0 <= s < len(node):
            node = node[s]
        else:
            return None
    return node


def merge(base: Any, over: Any) -> Any:
    """`over` on top of `base`: mappings merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(base.get(k), v) if k in base else v
        return out
    return over


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _set(v: Any) -> bool:
    """Argo's test for a template field being given: non-empty maps and lists, non-nil structs."""
    if isinstance(v, (dict, list)):
        return len(v) > 0
    return v is not None


def _pod_spec_patch(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, str) or len(raw) > MAX_POD_SPEC_PATCH or "{{" in raw:
        return None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def _pod(owner: dict[str, Any], at: Path, containers: list[Any], cpaths: list[Path]) -> dict[str, Any]:
    """A pod spec of the main containers plus the owner's `sidecars` and `initContainers` (both
    Argo templates and Spark roles have them); `cpaths` gets where each container is written."""
    for j, c in enumerate(_list(owner.get("sidecars"))):
        containers.append(c)
        cpaths.append((*at, "sidecars", j))
    spec: dict[str, Any] = {"containers": containers}
    if isinstance(owner.get("initContainers"), list):
        spec["initContainers"] = owner["initContainers"]
    return spec


# ------------------------------------------------------------------ Argo Workflows


def _argo(data: dict[str, Any], base: Path) -> list[PodTemplate]:
    wf = dig(data, base)
    if not isinstance(wf, dict) or not isinstance(wf.get("templates"), list):
        return []
    defaults = _dict(wf.get("templateDefaults"))
    wf_patch = _pod_spec_patch(wf.get("podSpecPatch"))
    out = []
    for i, raw in enumerate(wf["templates"]):
        if not isinstance(raw, dict):
            continue
        tpath: Path = (*base, "templates", i)
        t: dict[str, Any] = merge(defaults, raw) if defaults else raw
        containers: list[Any] = []
        cpaths: list[Path] = []
        if isinstance(t.get("container"), dict):
            containers.append(t["container"])
            cpaths.append((*tpath, "container"))
        elif isinstance(t.get("script"), dict):
            containers.append({k: v for k, v in t["script"].items() if k != "source"})
            cpaths.append((*tpath, "script"))
        elif isinstance(dig(t, ("containerSet", "containers")), list):
            for j, c in enumerate(t["containerSet"]["containers"]):
                containers.append(c)
                cpaths.append((*tpath, "containerSet", "containers", j))
        else:
            continue  # steps, dag, resource, suspend, http, plugin, data: no pod of the user's images
        spec = _pod(t, tpath, containers, cpaths)
        where: dict[str, Path] = {}
        for f in SCHEDULING:
            if _set(raw.get(f)):
                spec[f], where[f] = raw[f], (*tpath, f)
            elif _set(defaults.get(f)):
                spec[f], where[f] = defaults[f], (*base, "templateDefaults", f)
            elif _set(wf.get(f)):
                spec[f], where[f] = wf[f], (*base, f)
        for owner, patch in ((base, wf_patch), (tpath, _pod_spec_patch(raw.get("podSpecPatch")))):
            for f in SCHEDULING:
                if patch is not None and f in patch:
                    spec[f] = merge(spec.get(f), patch[f])
                    where[f] = (*owner, "podSpecPatch")
        own = {f: raw[f] for f in SCHEDULING if f in raw}
        # Edits go into the template when it is where every scheduling field it has comes from;
        # a field inherited from the workflow would be replaced whole by a template-level one.
        editable = all(w == (*tpath, f) for f, w in where.items())
        out.append(PodTemplate(
            spec, tpath, role=str(raw.get("name") or f"templates[{i}]"),
            to_object=_mapper(tpath, cpaths, where),
            edit_path=tpath if editable else None,
            patch_base=own,
            patch_path=(*base, "templates", {"name": raw["name"]} if isinstance(raw.get("name"), str) else {}),
        ))  # fmt: skip
    return out


def _mapper(owner: Path, cpaths: list[Path], where: dict[str, Path]) -> Callable[[Path], Path]:
    def to_object(p: Path) -> Path:
        if not p:
            return owner
        head = p[0]
        if head == "containers" and len(p) > 1 and isinstance(p[1], int) and p[1] < len(cpaths):
            return (*cpaths[p[1]], *p[2:])
        if head in where:
            w = where[head]
            return w if w[-1] == "podSpecPatch" else (*w, *p[1:])
        return (*owner, *p)

    return to_object


# ------------------------------------------------------------------ Spark operator


def _spark(data: dict[str, Any], base: Path) -> list[PodTemplate]:
    app = dig(data, base)
    if not isinstance(app, dict):
        return []
    out = []
    for role in SPARK_ROLES:
        part = app.get(role)
        if not isinstance(part, dict):
            continue
        rpath: Path = (*base, role)
        image_at: Path = (*rpath, "image") if isinstance(part.get("image"), str) else (*base, "image")
        image = dig(data, image_at)
        main: dict[str, Any] = {"name": f"spark-kubernetes-{role}"}
        if isinstance(image, str):
            main["image"] = image
        containers: list[Any] = [main]
        cpaths: list[Path] = [rpath]
        spec = _pod(part, rpath, containers, cpaths)
        where: dict[str, Path] = {}
        for f in SCHEDULING:
            if _set(part.get(f)):
                spec[f], where[f] = part[f], (*rpath, f)
            elif f == "nodeSelector" and _set(app.get(f)):
                spec[f], where[f] = app[f], (*base, f)
        editable = all(w == (*rpath, f) for f, w in where.items())

        def to_object(p: Path, rpath: Path = rpath, cpaths: list[Path] = cpaths, where: dict[str, Path] = where,
                      image_at: Path = image_at) -> Path:  # fmt: skip
            if p[:3] == ("containers", 0, "image"):
                return image_at
            return _mapper(rpath, cpaths, where)(p)

        out.append(PodTemplate(spec, rpath, role=role, to_object=to_object, edit_path=rpath if editable else None,
                               patch_base={f: part[f] for f in SCHEDULING if f in part},
                               patch_path=(*base, role)))  # fmt: skip
    return out


# ------------------------------------------------------------------ names of walked pods

# Path steps that say nothing about which pod it is.
_GENERIC = frozenset({"spec", "template", "podTemplate", "podSpec", "pod", "podTemplateSpec"})
_CANONICAL: frozenset[Path] = frozenset(
    {("spec",), ("spec", "template", "spec"), ("spec", "jobTemplate", "spec", "template", "spec")}
)
_ITEM_NAMES = ("name", "groupName", "replicaType")


def _item_name(item: Any) -> str | None:
    if isinstance(item, dict):
        for k in _ITEM_NAMES:
            if isinstance(item.get(k), str) and item[k]:
                return str(item[k])
    return None


def role_of(data: dict[str, Any], path: Path, count: int) -> str:
    """A name for the pod at `path` among the `count` pods of an object: empty for the one pod
    at the usual place, else the path's telling steps (list items by their name):
    `workerGroupSpecs[gpu]`, `pytorchReplicaSpecs.Worker`, `predictor`."""
    if count == 1 and path in _CANONICAL:
        return ""
    parts: list[str] = []
    for i, step in enumerate(path):
        if isinstance(step, int):
            name = _item_name(dig(data, path[: i + 1]))
            label = f"[{name or step}]"
            if parts:
                parts[-1] += label
            else:
                parts.append(label)
        elif step not in _GENERIC:
            parts.append(step)
    return ".".join(parts) or ".".join(map(str, path))


def identity_path(data: dict[str, Any], path: Path) -> tuple[Any, ...]:
    """`path` with each list index replaced by the item's identity (`{"name": ...}`), for patches."""
    out: list[Any] = []
    for i, step in enumerate(path):
        if isinstance(step, int):
            item = dig(data, path[: i + 1])
            key = next((k for k in _ITEM_NAMES if isinstance(item, dict) and isinstance(item.get(k), str)), None)
            out.append({key: item[key]} if key and isinstance(item, dict) else {})
        else:
            out.append(step)
    return tuple(out)
