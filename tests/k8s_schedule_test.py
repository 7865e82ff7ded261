"""Kubernetes scheduling semantics, table-style, against hand-checked expectations.

Each row is a pod spec and the pools it may land on under a small hand-built profile; the
expectations follow kube-scheduler's NodeAffinity / TaintToleration / NodeName filters.
"""

from __future__ import annotations

from typing import Any

import pytest

from archlint.k8s.profile import ClusterProfile, NodePool, Taint, kubelet_labels, preset
from archlint.k8s.schedule import landing_arches, landing_pools, pool_verdicts, toleration_matches

AMD = NodePool(
    "amd", "amd64", kubelet_labels("amd64", {"disktype": "ssd", "cores": "8", "kubernetes.io/hostname": "n-amd"})
)
ARM = NodePool("arm", "arm64", kubelet_labels("arm64", {"cores": "64", "kubernetes.io/hostname": "n-arm"}))
AI = NodePool(
    "agi-arm",
    "arm64",
    kubelet_labels("arm64", {"hardware-type": "agi-arm", "kubernetes.io/hostname": "n-ai"}),
    (Taint("hardware-type", "agi-arm", "NoSchedule"),),
)
EVICT = NodePool("evict", "amd64", kubelet_labels("amd64", {"kubernetes.io/hostname": "n-ev"}),
                 (Taint("maintenance", "", "NoExecute"),))  # fmt: skip
SOFT = NodePool("soft", "arm64", kubelet_labels("arm64", {"kubernetes.io/hostname": "n-soft"}),
                (Taint("spot", "true", "PreferNoSchedule"),))  # fmt: skip
PROFILE = ClusterProfile((AMD, ARM, AI, EVICT, SOFT), "test")


def _req(*terms: dict[str, Any]) -> dict[str, Any]:
    return {
        "affinity": {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}
        }
    }


def _expr(key: str, op: str, *values: str) -> dict[str, Any]:
    e: dict[str, Any] = {"key": key, "operator": op}
    if values:
        e["values"] = list(values)
    return e


def _term(*exprs: dict[str, Any]) -> dict[str, Any]:
    return {"matchExpressions": list(exprs)}


CASES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("no constraints: every untainted pool, PreferNoSchedule only scores", {}, {"amd", "arm", "soft"}),
    ("nodeSelector arch", {"nodeSelector": {"kubernetes.io/arch": "arm64"}}, {"arm", "soft"}),
    ("nodeSelector entries are ANDed", {"nodeSelector": {"kubernetes.io/arch": "amd64", "disktype": "ssd"}}, {"amd"}),
    ("nodeSelector AND contradictory", {"nodeSelector": {"kubernetes.io/arch": "arm64", "disktype": "ssd"}}, set()),
    ("beta arch label is set by the kubelet too", {"nodeSelector": {"beta.kubernetes.io/arch": "amd64"}}, {"amd"}),
    ("os label", {"nodeSelector": {"kubernetes.io/os": "windows"}}, set()),
    ("required In", _req(_term(_expr("kubernetes.io/arch", "In", "arm64"))), {"arm", "soft"}),
    ("terms are ORed", _req(_term(_expr("disktype", "In", "ssd")), _term(_expr("cores", "In", "64"))), {"amd", "arm"}),
    (
        "expressions in a term are ANDed",
        _req(_term(_expr("kubernetes.io/arch", "In", "amd64", "arm64"), _expr("cores", "In", "64"))),
        {"arm"},
    ),
    ("NotIn matches nodes lacking the key", _req(_term(_expr("disktype", "NotIn", "ssd"))), {"arm", "soft"}),
    ("NotIn on arch", _req(_term(_expr("kubernetes.io/arch", "NotIn", "arm64"))), {"amd"}),
    ("Exists", _req(_term(_expr("disktype", "Exists"))), {"amd"}),
    ("DoesNotExist matches nodes lacking the key", _req(_term(_expr("cores", "DoesNotExist"))), {"soft"}),
    ("Gt compares integers", _req(_term(_expr("cores", "Gt", "8"))), {"arm"}),
    ("Lt compares integers", _req(_term(_expr("cores", "Lt", "9"))), {"amd"}),
    ("Gt on a missing label never matches", _req(_term(_expr("gpus", "Gt", "0"))), set()),
    ("Gt with a non-integer value never matches", _req(_term(_expr("cores", "Gt", "eight"))), set()),
    ("an empty term matches nothing", _req({}), set()),
    ("an empty term ORed with a real one", _req({}, _term(_expr("disktype", "Exists"))), {"amd"}),
    ("no terms at all matches nothing", _req(), set()),
    ("unknown operator matches nothing", _req(_term(_expr("cores", "Like", "6*"))), set()),
    (
        "matchFields on metadata.name",
        _req({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n-arm"]}]}),
        {"arm"},
    ),
    (
        "nodeSelector AND required affinity",
        {"nodeSelector": {"kubernetes.io/arch": "arm64"}, **_req(_term(_expr("cores", "Exists")))},
        {"arm"},
    ),
    (
        "preferred terms only score",
        {
            "affinity": {
                "nodeAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 100, "preference": _term(_expr("kubernetes.io/arch", "In", "arm64"))}
                    ]
                }
            }
        },
        {"amd", "arm", "soft"},
    ),
    (
        "toleration Equal",
        {"tolerations": [{"key": "hardware-type", "operator": "Equal", "value": "agi-arm", "effect": "NoSchedule"}]},
        {"amd", "arm", "agi-arm", "soft"},
    ),
    (
        "toleration Equal is the default operator",
        {"tolerations": [{"key": "hardware-type", "value": "agi-arm"}]},
        {"amd", "arm", "agi-arm", "soft"},
    ),
    (
        "toleration Equal with the wrong value",
        {"tolerations": [{"key": "hardware-type", "value": "other"}]},
        {"amd", "arm", "soft"},
    ),
    (
        "toleration Exists ignores the value",
        {"tolerations": [{"key": "hardware-type", "operator": "Exists"}]},
        {"amd", "arm", "agi-arm", "soft"},
    ),
    (
        "toleration with the wrong effect",
        {"tolerations": [{"key": "hardware-type", "operator": "Exists", "effect": "NoExecute"}]},
        {"amd", "arm", "soft"},
    ),
    (
        "empty key with Exists tolerates everything",
        {"tolerations": [{"operator": "Exists"}]},
        {"amd", "arm", "agi-arm", "evict", "soft"},
    ),
    (
        "empty key with Exists limited to one effect",
        {"tolerations": [{"operator": "Exists", "effect": "NoExecute"}]},
        {"amd", "arm", "evict", "soft"},
    ),
    (
        "NoExecute taints repel scheduling too",
        {"tolerations": [{"key": "maintenance", "operator": "Exists"}]},
        {"amd", "arm", "evict", "soft"},
    ),
    (
        "empty key with Equal compares values only (kube-scheduler's code; the API server rejects it)",
        {"tolerations": [{"operator": "Equal", "value": "agi-arm"}]},
        {"amd", "arm", "agi-arm", "soft"},
    ),
    ("selector to arm64 without the taint's toleration", {"nodeSelector": {"hardware-type": "agi-arm"}}, set()),
    (
        "selector to arm64 with the toleration",
        {"nodeSelector": {"hardware-type": "agi-arm"}, "tolerations": [{"key": "hardware-type", "operator": "Exists"}]},
        {"agi-arm"},
    ),
    ("nodeName binds to that node, skipping the NoSchedule taint", {"nodeName": "n-ai"}, {"agi-arm"}),
    ("nodeName still evicted by an untolerated NoExecute taint", {"nodeName": "n-ev"}, set()),
    (
        "nodeName still checks the nodeSelector (kubelet admission)",
        {"nodeName": "n-arm", "nodeSelector": {"kubernetes.io/arch": "amd64"}},
        set(),
    ),
    (
        "nodeName of a node outside the profile: any pool but NoExecute ones",
        {"nodeName": "elsewhere"},
        {"amd", "arm", "agi-arm", "soft"},
    ),
    (
        "wrong types are treated as absent",
        {"nodeSelector": ["kubernetes.io/arch", "amd64"], "tolerations": 7},
        {"amd", "arm", "soft"},
    ),
]


@pytest.mark.parametrize(("spec", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_landing_pools(spec: dict[str, Any], expected: set[str]) -> None:
    assert {p.name for p in landing_pools(spec, PROFILE)} == expected


@pytest.mark.parametrize(("spec", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_landing_arches_are_the_pools_arches(spec: dict[str, Any], expected: set[str]) -> None:
    arches = {p.arch for p in PROFILE.pools if p.name in expected}
    assert landing_arches(spec, PROFILE) == sorted(arches)


def test_default_profile_lets_a_bare_pod_land_on_both() -> None:
    default = preset("default")
    assert default is not None
    assert landing_arches({"containers": [{"name": "a", "image": "x"}]}, default) == ["amd64", "arm64"]


def test_gke_tolerates_its_arch_taint_only_for_pods_that_ask_for_arm64() -> None:
    gke = preset("gke")
    assert gke is not None
    assert landing_arches({}, gke) == ["amd64"]
    assert landing_arches({"nodeSelector": {"kubernetes.io/arch": "arm64"}}, gke) == ["arm64"]
    asks = _req(_term(_expr("kubernetes.io/arch", "In", "amd64", "arm64")))
    assert landing_arches(asks, gke) == ["amd64", "arm64"]
    # A preference is not a selection: GKE adds no toleration, so arm64 stays out of reach.
    prefers = {"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "preference": _term(_expr("kubernetes.io/arch", "In", "arm64"))}]}}}  # fmt: skip
    assert landing_arches(prefers, gke) == ["amd64"]


def test_verdicts_name_the_reason_per_pool() -> None:
    verdicts = {v.pool.name: v for v in pool_verdicts({"nodeSelector": {"hardware-type": "agi-arm"}}, PROFILE)}
    assert verdicts["agi-arm"].by_taint and "hardware-type=agi-arm:NoSchedule" in (verdicts["agi-arm"].reason or "")
    assert not verdicts["amd"].by_taint and "lacks the label" in (verdicts["amd"].reason or "")


@pytest.mark.parametrize(
    ("tol", "taint", "ok"),
    [
        ({"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}, Taint("k", "v", "NoSchedule"), True),
        ({"key": "k", "value": "v"}, Taint("k", "v", "NoExecute"), True),  # empty effect matches all effects
        ({"key": "k", "operator": "Exists"}, Taint("k", "", "NoSchedule"), True),
        ({"key": "k", "operator": "Equal", "value": ""}, Taint("k", "", "NoSchedule"), True),
        ({"key": "k", "operator": "Equal"}, Taint("k", "v", "NoSchedule"), False),
        ({"key": "other", "operator": "Exists"}, Taint("k", "v", "NoSchedule"), False),
        ({"operator": "Exists"}, Taint("anything", "x", "NoExecute"), True),
        ({"key": "", "operator": "Equal", "value": "v"}, Taint("k", "v", "NoSchedule"), True),
        ({"key": "", "operator": "Equal", "value": "w"}, Taint("k", "v", "NoSchedule"), False),
        ({"key": "k", "operator": "Exists", "effect": "NoSchedule"}, Taint("k", "v", "NoExecute"), False),
        ({"key": "k", "operator": "Gt", "value": "v"}, Taint("k", "v", "NoSchedule"), False),
    ],
)
def test_toleration_matching(tol: dict[str, Any], taint: Taint, ok: bool) -> None:
    assert toleration_matches(tol, taint) is ok


# Against a synthetic (preset-only) profile, a label no pool has cannot be judged: it is assumed
# present wherever the pod's other constraints admit it. Absence operators need no assumption.
SYNTHETIC = preset("default")
GPU = "cloud.google.com/gke-accelerator"


@pytest.mark.parametrize(
    ("spec", "arches", "assumed"),
    [
        ({"nodeSelector": {GPU: "nvidia-l4"}}, ["amd64", "arm64"], {GPU}),
        ({"nodeSelector": {GPU: "nvidia-l4", "kubernetes.io/arch": "arm64"}}, ["arm64"], {GPU}),
        (_req({"matchExpressions": [{"key": GPU, "operator": "Exists"},
                                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}),
         ["amd64"], {GPU}),
        (_req({"matchExpressions": [{"key": GPU, "operator": "DoesNotExist"}]}), ["amd64", "arm64"], set()),
        (_req({"matchExpressions": [{"key": GPU, "operator": "NotIn", "values": ["x"]}]}), ["amd64", "arm64"], set()),
        # A label the profile knows is judged as written.
        ({"nodeSelector": {"kubernetes.io/os": "windows"}}, [], set()),
    ],
)  # fmt: skip
def test_labels_a_synthetic_profile_cannot_know(spec: dict[str, Any], arches: list[str], assumed: set[str]) -> None:
    from archlint.k8s.schedule import assumed_labels

    assert SYNTHETIC is not None and SYNTHETIC.synthetic
    assert landing_arches(spec, SYNTHETIC) == arches
    assert assumed_labels(spec, SYNTHETIC) == assumed
    # A profile that describes the cluster (config pools, a nodes file) knows its labels: a
    # label none of its pools has excludes every pool.
    assert assumed_labels(spec, PROFILE) == set()
    if assumed:
        assert landing_arches(spec, PROFILE) == []
