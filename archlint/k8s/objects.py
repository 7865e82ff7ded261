"""Kubernetes objects in parsed documents, and the pod templates (workloads) inside them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from archlint.k8s.yamlread import Doc

# kind -> path from the object to its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
# Built-in kinds that never hold a pod template: not walked.
NO_POD_KINDS = frozenset(
    "ConfigMap Secret Service ServiceAccount Namespace Role RoleBinding ClusterRole ClusterRoleBinding Ingress "
    "IngressClass NetworkPolicy PersistentVolume PersistentVolumeClaim StorageClass HorizontalPodAutoscaler "
    "PodDisruptionBudget CustomResourceDefinition Endpoints EndpointSlice LimitRange ResourceQuota PriorityClass "
    "MutatingWebhookConfiguration ValidatingWebhookConfiguration APIService Node Event Lease".split()
)
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
MAX_WALK_DEPTH = 10
IGNORE_PREFIX = "ignore-check.archlint.io/"


@dataclass
class KObject:
    """One Kubernetes object: a document, or an item of a `kind: List`."""

    data: dict[str, Any]
    doc: Doc
    path: tuple[str | int, ...]  # from the document root ((), or ("items", i))
    default_namespace: str = "default"  # where it goes without metadata.namespace (a Helm release's)

    @property
    def kind(self) -> str:
        return str(self.data.get("kind"))

    @property
    def api_version(self) -> str:
        return str(self.data.get("apiVersion"))

    @property
    def meta(self) -> dict[str, Any]:
        m = self.data.get("metadata")
        return m if isinstance(m, dict) else {}

    @property
    def name(self) -> str:
        n = self.meta.get("name") or self.meta.get("generateName")
        return str(n) if n not in (None, "") else "<unnamed>"

    @property
    def namespace(self) -> str:
        ns = self.meta.get("namespace")
        return str(ns) if ns not in (None, "") else self.default_namespace

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"

    @property
    def lines(self) -> tuple[int, int]:
        if not self.path:
            return self.doc.start_line, self.doc.end_line
        return self.doc.span(self.data)

    @property
    def line(self) -> int:
        """The object's first line: its `kind:` key when it has one (a stable, visible anchor)."""
        return self.doc.locate_key((*self.path, "kind"))[0]

    def locate(self, rel: tuple[str | int, ...]) -> tuple[int, int]:
        return self.doc.locate((*self.path, *rel))

    def locate_key(self, rel: tuple[str | int, ...]) -> tuple[int, int]:
        return self.doc.locate_key((*self.path, *rel))

    def ignored_rules(self) -> frozenset[str]:
        ann = self.meta.get("annotations")
        if not isinstance(ann, dict):
            return frozenset()
        return frozenset(k[len(IGNORE_PREFIX) :] for k in ann if isinstance(k, str) and k.startswith(IGNORE_PREFIX))


def is_object(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("apiVersion"), str) and isinstance(data.get("kind"), str)


MAX_LIST_DEPTH = 4  # kubectl flattens Lists inside Lists; a hostile file may nest them forever


def _is_list(data: dict[str, Any]) -> bool:
    return data["kind"] == "List" or (data["kind"].endswith("List") and isinstance(data.get("items"), list))


def bad_api_version(api_version: str) -> bool:
    """Not `version` or `group/version` (what apimachinery's ParseGroupVersion accepts): kubectl
    refuses the object, so it is reported, not checked."""
    return api_version.count("/") > 1 or api_version.startswith("/") or api_version.endswith("/")


def objects(doc: Doc, default_namespace: str = "default") -> Iterator[KObject]:
    """The Kubernetes objects of a document, `kind: List` items (nested ones too) flattened as
    kubectl does; anything else (Helm values, compose files) and objects kubectl would refuse
    (see `shape_problems`) are skipped."""
    yield from _objects(doc.data, doc, (), 0, default_namespace)


def _objects(data: Any, doc: Doc, path: tuple[str | int, ...], depth: int, default_namespace: str) -> Iterator[KObject]:
    if not is_object(data) or bad_api_version(data["apiVersion"]):
        return
    if _is_list(data):
        items = data.get("items")
        if depth < MAX_LIST_DEPTH and isinstance(items, list):
            for i, item in enumerate(items):
                yield from _objects(item, doc, (*path, "items", i), depth + 1, default_namespace)
        return
    yield KObject(data, doc, path, default_namespace)


def shape_problems(
    data: Any, path: tuple[str | int, ...] = (), depth: int = 0
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(path, message) for what makes kubectl refuse a document: an apiVersion that is not
    group/version, a List whose items are not a list, Lists nested past MAX_LIST_DEPTH."""
    if not is_object(data):
        return
    if bad_api_version(data["apiVersion"]):
        yield (*path, "apiVersion"), f"apiVersion {data['apiVersion'][:100]!r} is not `version` or `group/version`"
        return
    if not _is_list(data):
        return
    items = data.get("items")
    if items is not None and not isinstance(items, list):
        yield (*path, "items"), f"{data['kind']}: items must be a list, not {type(items).__name__}"
    elif isinstance(items, list):
        if depth >= MAX_LIST_DEPTH:
            yield (*path, "items"), f"Lists nested more than {MAX_LIST_DEPTH} deep: the inner items are not checked"
            return
        for i, item in enumerate(items):
            yield from shape_problems(item, (*path, "items", i), depth + 1)


@dataclass
class PodTemplate:
    """A pod spec inside an object. For built-in kinds and most custom resources it is written
    out at `path`; some controllers (Argo Workflows, the Spark operator) assemble it from parts,
    and then `to_object` says where each field of the assembled spec is written."""

    spec: dict[str, Any]
    path: tuple[str | int, ...]  # from the object to the pod spec (for assembled specs: to its owner)
    role: str = ""  # which pod of a multi-pod object ("train", "driver", "workerGroupSpecs[gpu]")
    to_object: Callable[[tuple[str | int, ...]], tuple[str | int, ...]] | None = None
    # Where scheduling edits go (a mapping with nodeSelector/affinity/tolerations keys); None:
    # nowhere safe (the fields come from elsewhere), so fixes offer the patch only.
    edit_path: tuple[str | int, ...] | None = None
    patch_base: dict[str, Any] | None = None  # the fields as written at edit_path, for the patch
    patch_path: tuple[Any, ...] | None = None  # path with list items as identity mappings

    def __post_init__(self) -> None:
        if self.to_object is None and self.edit_path is None:
            self.edit_path = self.path

    def object_path(self, p: tuple[str | int, ...]) -> tuple[str | int, ...]:
        return self.to_object(p) if self.to_object is not None else (*self.path, *p)


def _looks_like_pod_spec(d: dict[str, Any]) -> bool:
    c = d.get("containers")
    return isinstance(c, list) and any(isinstance(x, dict) and "image" in x for x in c)


def _walk(node: Any, path: tuple[str | int, ...], depth: int) -> Iterator[PodTemplate]:
    if depth > MAX_WALK_DEPTH:
        return
    if isinstance(node, dict):
        if _looks_like_pod_spec(node):
            yield PodTemplate(node, path)
            return
        for k, v in node.items():
            if isinstance(v, (dict, list)) and k not in ("metadata", "status"):
                yield from _walk(v, (*path, k), depth + 1)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            if isinstance(v, (dict, list)):
                yield from _walk(v, (*path, i), depth + 1)


def pod_templates(obj: KObject) -> Iterator[PodTemplate] | list[PodTemplate]:
    """Pod specs in an object: at the known path for built-in kinds, assembled as their
    controllers do for Argo Workflows and Spark applications, and by a walk to `containers`
    for other custom resources (Argo Rollout, Knative Service, KServe, Ray, Kubeflow, ...)."""
    kind = obj.kind
    known = POD_SPEC_PATHS.get(kind)
    if known is not None and obj.api_version in _BUILTIN_GROUPS.get(kind, (obj.api_version,)):
        node: Any = obj.data
        for step in known:
            node = node.get(step) if isinstance(node, dict) else None
        return [PodTemplate(node, known)] if isinstance(node, dict) else []
    if is_builtin_group(obj.api_version) and (kind in NO_POD_KINDS or kind in POD_SPEC_PATHS):
        return []
    from archlint.k8s import crds

    assembled = crds.pod_templates(obj.api_version, kind, obj.data)
    if assembled is not None:
        return assembled
    if not isinstance(obj.data.get("spec"), dict):
        return []
    found = list(_walk(obj.data["spec"], ("spec",), 0))
    for t in found:
        t.role = crds.role_of(obj.data, t.path, len(found))
        t.patch_path = crds.identity_path(obj.data, t.path)
    return found


_BUILTIN_GROUPS: dict[str, tuple[str, ...]] = {
    "Pod": ("v1",),
    "PodTemplate": ("v1",),
    "ReplicationController": ("v1",),
    "Deployment": ("apps/v1", "apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"),
    "StatefulSet": ("apps/v1", "apps/v1beta1", "apps/v1beta2"),
    "DaemonSet": ("apps/v1", "apps/v1beta2", "extensions/v1beta1"),
    "ReplicaSet": ("apps/v1", "apps/v1beta2", "extensions/v1beta1"),
    "Job": ("batch/v1",),
    "CronJob": ("batch/v1", "batch/v1beta1"),
}


def is_builtin_group(api_version: str) -> bool:
    """Core ("v1") and *.k8s.io groups; a Knative `Service` is not a core Service."""
    group = api_version.rpartition("/")[0]
    return group in ("", "apps", "batch", "extensions", "policy", "autoscaling") or group.endswith(".k8s.io")


def images(spec: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """(path from the pod spec, reference) for every container image, as written."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    for key in CONTAINER_LISTS:
        cs = spec.get(key)
        if isinstance(cs, list):
            for i, c in enumerate(cs):
                if isinstance(c, dict) and isinstance(c.get("image"), str) and c["image"]:
                    out.append(((key, i, "image"), c["image"]))
    return out


_TYPES: dict[str, tuple[type, str]] = {
    "nodeSelector": (dict, "a mapping of label = value"),
    "affinity": (dict, "a mapping"),
    "tolerations": (list, "a list of tolerations"),
    "nodeName": (str, "a string"),
}


def type_problems(spec: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Fields the scheduling analysis relies on that have the wrong type (path, message)."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    for key in CONTAINER_LISTS:
        cs = spec.get(key)
        if cs is None:
            continue
        if not isinstance(cs, list):
            out.append(((key,), f"{key} must be a list of containers, not {_tname(cs)} {cs!r:.40}"))
            continue
        for i, c in enumerate(cs):
            if not isinstance(c, dict):
                out.append(((key, i), f"{key}[{i}] must be a mapping, not {_tname(c)}"))
            elif "image" in c and not isinstance(c["image"], str):
                out.append(((key, i, "image"), f"{key}[{i}].image must be a string, not {_tname(c['image'])}"))
    if "containers" not in spec:
        out.append(((), "the pod spec has no containers"))
    for key, (typ, what) in _TYPES.items():
        v = spec.get(key)
        if v is not None and not isinstance(v, typ):
            out.append(((key,), f"{key} must be {what}, not {_tname(v)}"))
    sel = spec.get("nodeSelector")
    if isinstance(sel, dict):
        for k, v in sel.items():
            if not isinstance(v, str):
                out.append((("nodeSelector", k), f"nodeSelector value for {k} must be a string, not {_tname(v)}"))
    tols = spec.get("tolerations")
    if isinstance(tols, list):
        for i, t in enumerate(tols):
            if not isinstance(t, dict):
                out.append((("tolerations", i), f"tolerations[{i}] must be a mapping, not {_tname(t)}"))
    return out


def _tname(v: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "null"}.get(type(v), type(v).__name__)  # fmt: skip
