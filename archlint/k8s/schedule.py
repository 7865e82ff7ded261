"""Where a pod can be scheduled: Kubernetes' filter semantics against the cluster profile.

Mirrors kube-scheduler's NodeName, NodeAffinity (nodeSelector + required node affinity) and
TaintToleration filters, and k8s.io/component-helpers' label-selector matching. Preferred
terms only score, so they never change *where* a pod can land.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from archlint.k8s.profile import ARCH_LABEL, BETA_ARCH_LABEL, ClusterProfile, NodePool, Taint


def _label_str(v: Any) -> str:
    # nodeSelector values are strings in the API; tolerate YAML's unquoted true/1 as their text.
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _as_dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _int(s: str) -> int | None:
    try:
        return int(s.strip(), 10)
    except (ValueError, AttributeError):
        return None


def expression_matches(expr: Any, labels: dict[str, str]) -> bool:
    """One NodeSelectorRequirement against a node's labels."""
    if not isinstance(expr, dict):
        return False
    key = expr.get("key")
    op = expr.get("operator")
    values = [_label_str(v) for v in _as_list(expr.get("values"))]
    if not isinstance(key, str):
        return False
    present = key in labels
    if op == "In":
        return present and labels[key] in values
    if op == "NotIn":
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        if not present or len(values) != 1:
            return False
        have, want = _int(labels[key]), _int(values[0])
        if have is None or want is None:
            return False
        return have > want if op == "Gt" else have < want
    return False  # an unknown operator is a validation error; the API server rejects it


def field_matches(expr: Any, node_name: str) -> bool:
    """matchFields supports only metadata.name with In / NotIn."""
    if not isinstance(expr, dict) or expr.get("key") != "metadata.name":
        return False
    values = [_label_str(v) for v in _as_list(expr.get("values"))]
    if expr.get("operator") == "In":
        return node_name in values
    if expr.get("operator") == "NotIn":
        return node_name not in values
    return False


def term_matches(term: Any, pool: NodePool, assume: frozenset[str] = frozenset()) -> bool:
    """A NodeSelectorTerm: its expressions and fields are ANDed; an empty term matches nothing.
    Expressions on a label in `assume` are taken to match (see `assumed_labels`)."""
    t = _as_dict(term)
    exprs = _as_list(t.get("matchExpressions"))
    fields = _as_list(t.get("matchFields"))
    if not exprs and not fields:
        return False
    return all(_as_dict(e).get("key") in assume or expression_matches(e, pool.labels) for e in exprs) and all(
        field_matches(f, pool.node_name) for f in fields
    )


# Operators a node without the label satisfies: nothing to assume for them.
_ABSENCE_OK = ("NotIn", "DoesNotExist")


def label_uses(pod_spec: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str, str]]:
    """(path from the pod spec, label key, how it is used) for every label the pod requires of
    its node: nodeSelector entries and required node-affinity expressions."""
    out: list[tuple[tuple[str | int, ...], str, str]] = []
    for k, v in _as_dict(pod_spec.get("nodeSelector")).items():
        out.append((("nodeSelector", k), str(k), f"nodeSelector {k}={_label_str(v)}"))
    base = ("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
    for i, term in enumerate(required_terms(pod_spec) or []):
        for j, e in enumerate(_as_list(_as_dict(term).get("matchExpressions"))):
            e = _as_dict(e)
            key, op = e.get("key"), e.get("operator")
            if isinstance(key, str) and op not in _ABSENCE_OK:
                values = ",".join(_label_str(v) for v in _as_list(e.get("values")))
                out.append(((*base, i, "matchExpressions", j), key, f"node affinity {key} {op} {values}".rstrip()))
    return out


def assumed_labels(pod_spec: dict[str, Any], profile: ClusterProfile) -> frozenset[str]:
    """Labels the pod requires that no pool of a synthetic profile has: the profile cannot
    know them, so they are taken to be on whichever pool the rest of the pod's constraints
    admit (empty for a profile that describes the real cluster)."""
    if not profile.synthetic or ("nodeSelector" not in pod_spec and "affinity" not in pod_spec):
        return frozenset()
    known = profile.label_keys
    keys = [k for k in _as_dict(pod_spec.get("nodeSelector")) if k not in known]
    for term in required_terms(pod_spec) or []:
        for e in _as_list(_as_dict(term).get("matchExpressions")):
            key = e.get("key") if isinstance(e, dict) else None
            if isinstance(key, str) and key not in known and e.get("operator") not in _ABSENCE_OK:
                keys.append(key)
    return frozenset(keys)


def required_terms(pod_spec: dict[str, Any]) -> list[Any] | None:
    """The required node-selector terms, or None when there is no required node affinity."""
    na = _as_dict(_as_dict(pod_spec.get("affinity")).get("nodeAffinity"))
    req = na.get("requiredDuringSchedulingIgnoredDuringExecution")
    if req is None:
        return None
    return _as_list(_as_dict(req).get("nodeSelectorTerms"))


def toleration_matches(tol: Any, taint: Taint) -> bool:
    """v1.Toleration.ToleratesTaint."""
    if not isinstance(tol, dict):
        return False
    effect = tol.get("effect") or ""
    if effect and effect != taint.effect:
        return False
    key = tol.get("key") or ""
    # An empty key matches every key: with Exists it tolerates everything (of that effect).
    # (With Equal, which the API server rejects, it still compares values, as the Go code does.)
    if key and key != taint.key:
        return False
    op = tol.get("operator") or "Equal"
    if op == "Exists":
        return True
    if op == "Equal":
        return _label_str(tol.get("value")) == taint.value
    return False


def selects_arm64(pod_spec: dict[str, Any]) -> bool:
    """Does the pod ask for arm64 explicitly (what GKE keys its automatic toleration on)?"""
    sel = _as_dict(pod_spec.get("nodeSelector"))
    if _label_str(sel.get(ARCH_LABEL)) == "arm64":
        return True
    for term in required_terms(pod_spec) or []:
        for e in _as_list(_as_dict(term).get("matchExpressions")):
            if isinstance(e, dict) and e.get("key") == ARCH_LABEL and e.get("operator") == "In":
                if "arm64" in [_label_str(v) for v in _as_list(e.get("values"))]:
                    return True
    return False


def effective_tolerations(pod_spec: dict[str, Any], profile: ClusterProfile) -> list[Any]:
    tols = list(_as_list(pod_spec.get("tolerations")))
    if profile.auto_tolerate_arch and selects_arm64(pod_spec):
        tols.append({"key": ARCH_LABEL, "operator": "Equal", "value": "arm64", "effect": "NoSchedule"})
    return tols


@dataclass(frozen=True)
class PoolVerdict:
    pool: NodePool
    reason: str | None  # None: the pod can be scheduled there
    by_taint: bool = False  # rejected only because of untolerated taints

    @property
    def fits(self) -> bool:
        return self.reason is None


def untolerated(
    pod_spec: dict[str, Any], pool: NodePool, profile: ClusterProfile, *, bound: bool = False
) -> list[Taint]:
    """The pool's taints that keep this pod off it. A pod bound with nodeName skips the
    scheduler, so only NoExecute taints (which evict) count then."""
    tols = effective_tolerations(pod_spec, profile)
    out = []
    for t in pool.taints:
        if not t.repels or (bound and t.effect != "NoExecute"):
            continue
        if not any(toleration_matches(tol, t) for tol in tols):
            out.append(t)
    return out


def selector_reason(pod_spec: dict[str, Any], pool: NodePool, assume: frozenset[str] = frozenset()) -> str | None:
    """Why nodeSelector / required node affinity exclude the pool (None: they admit it)."""
    sel = pod_spec.get("nodeSelector")
    for k, v in _as_dict(sel).items():
        if k in assume:
            continue
        if pool.labels.get(k) != _label_str(v):
            have = pool.labels.get(k)
            return (
                f"nodeSelector {k}={_label_str(v)} (node has {k}={have})"
                if have is not None
                else (f"nodeSelector {k}={_label_str(v)} (node lacks the label)")
            )
    terms = required_terms(pod_spec)
    if terms is not None and not any(term_matches(t, pool, assume) for t in terms):
        if not terms:
            return "required node affinity has no nodeSelectorTerms (matches no node)"
        return "no required node-affinity term matches"
    return None


def pool_verdicts(pod_spec: dict[str, Any], profile: ClusterProfile) -> list[PoolVerdict]:
    spec = pod_spec if isinstance(pod_spec, dict) else {}
    node_name = spec.get("nodeName")
    bound = isinstance(node_name, str) and node_name != ""
    named = bound and any(p.node_name == node_name for p in profile.pools)
    assume = assumed_labels(spec, profile)
    out = []
    for pool in profile.pools:
        if named and pool.node_name != node_name:
            out.append(PoolVerdict(pool, f"nodeName {node_name} is another node"))
            continue
        reason = selector_reason(spec, pool, assume)
        if reason:
            out.append(PoolVerdict(pool, reason))
            continue
        taints = untolerated(spec, pool, profile, bound=bound)
        if taints:
            what = ", ".join(str(t) for t in taints)
            out.append(PoolVerdict(pool, f"taint {what} not tolerated", by_taint=True))
            continue
        out.append(PoolVerdict(pool, None))
    return out


def landing_pools(pod_spec: dict[str, Any], profile: ClusterProfile) -> list[NodePool]:
    return [v.pool for v in pool_verdicts(pod_spec, profile) if v.fits]


def arches_of(pools: Iterable[NodePool]) -> list[str]:
    return sorted({p.arch for p in pools})


def landing_arches(pod_spec: dict[str, Any], profile: ClusterProfile) -> list[str]:
    return arches_of(landing_pools(pod_spec, profile))


def arch_restriction(pod_spec: dict[str, Any]) -> bool:
    """Does the pod constrain the architecture at all (selector or required affinity)?"""
    sel = _as_dict(pod_spec.get("nodeSelector"))
    if ARCH_LABEL in sel or BETA_ARCH_LABEL in sel:
        return True
    for term in required_terms(pod_spec) or []:
        for e in _as_list(_as_dict(term).get("matchExpressions")):
            if isinstance(e, dict) and e.get("key") in (ARCH_LABEL, BETA_ARCH_LABEL):
                return True
    return False


def prefers_arch(pod_spec: dict[str, Any], arch: str) -> bool:
    """A preferred node-affinity term with positive weight that favours `arch`."""
    na = _as_dict(_as_dict(pod_spec.get("affinity")).get("nodeAffinity"))
    for p in _as_list(na.get("preferredDuringSchedulingIgnoredDuringExecution")):
        p = _as_dict(p)
        w = p.get("weight")
        if not isinstance(w, int) or w <= 0:
            continue
        for e in _as_list(_as_dict(p.get("preference")).get("matchExpressions")):
            if isinstance(e, dict) and e.get("key") in (ARCH_LABEL, BETA_ARCH_LABEL) and e.get("operator") == "In":
                if arch in [_label_str(v) for v in _as_list(e.get("values"))]:
                    return True
    return False
