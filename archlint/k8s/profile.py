"""The cluster profile: which node pools exist, with which architecture, labels and taints.

Comes from config `cluster` (a preset, a `kubectl get nodes -o json` file, explicit pools, or a
mix); with no profile, one amd64 and one arm64 pool, neither tainted: the case where a workload
without an arch requirement lands on arm64 by chance.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archlint.errors import FatalError

if TYPE_CHECKING:
    from archlint.config import Config
    from archlint.scanning import ScanContext

ARCH_LABEL = "kubernetes.io/arch"
BETA_ARCH_LABEL = "beta.kubernetes.io/arch"
OS_LABEL = "kubernetes.io/os"
BETA_OS_LABEL = "beta.kubernetes.io/os"
HOSTNAME_LABEL = "kubernetes.io/hostname"
ARCHES = ("amd64", "arm64")
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_ARCH_ALIASES = {"amd64": "amd64", "x86_64": "amd64", "x86-64": "amd64", "arm64": "arm64", "aarch64": "arm64"}


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str  # NoSchedule | PreferNoSchedule | NoExecute

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"

    @property
    def repels(self) -> bool:
        """PreferNoSchedule only lowers a node's score; the other two keep untolerating pods off."""
        return self.effect in ("NoSchedule", "NoExecute")


@dataclass(frozen=True)
class NodePool:
    name: str
    arch: str  # amd64 | arm64
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    taints: tuple[Taint, ...] = ()

    @property
    def node_name(self) -> str:
        return self.labels.get(HOSTNAME_LABEL, self.name)


@dataclass(frozen=True)
class ClusterProfile:
    pools: tuple[NodePool, ...]
    source: str
    # GKE adds a toleration for kubernetes.io/arch=arm64:NoSchedule to pods that select arm64
    # through a nodeSelector or required node affinity (its admission webhook does it).
    auto_tolerate_arch: bool = False
    # Built from presets only: its pools know just the labels kubelets (and that cloud) set, so
    # a label none of them has says nothing about the real cluster.
    synthetic: bool = False

    def arm64_pools(self) -> tuple[NodePool, ...]:
        return tuple(p for p in self.pools if p.arch == "arm64")

    @functools.cached_property
    def label_keys(self) -> frozenset[str]:
        """Every label key some pool has (what a selector can be judged against)."""
        return frozenset(k for p in self.pools for k in p.labels)


def kubelet_labels(arch: str, labels: dict[str, str] | None = None) -> dict[str, str]:
    """The labels every kubelet sets on its node, plus the pool's own."""
    out = {ARCH_LABEL: arch, BETA_ARCH_LABEL: arch, OS_LABEL: "linux", BETA_OS_LABEL: "linux"}
    out.update(labels or {})
    return out


def _pool(name: str, arch: str, labels: dict[str, str] | None = None, taints: tuple[Taint, ...] = ()) -> NodePool:
    return NodePool(name, arch, kubelet_labels(arch, labels), taints)


_GKE_ARM_TAINT = Taint(ARCH_LABEL, "arm64", "NoSchedule")


def preset(name: str) -> ClusterProfile | None:
    n = name.lower()
    if n == "default":
        return ClusterProfile((_pool("amd64", "amd64"), _pool("arm64", "arm64")), "preset default", synthetic=True)
    if n == "gke":
        # GKE taints Arm (T2A/C4A/Axion) nodes and tolerates the taint for pods that ask for arm64.
        return ClusterProfile(
            (
                _pool("default-pool", "amd64", {"cloud.google.com/gke-nodepool": "default-pool"}),
                _pool(
                    "arm-pool",
                    "arm64",
                    {"cloud.google.com/gke-nodepool": "arm-pool", "cloud.google.com/machine-family": "t2a"},
                    (_GKE_ARM_TAINT,),
                ),
            ),
            "preset gke",
            auto_tolerate_arch=True,
            synthetic=True,
        )
    if n == "eks":
        # EKS managed node groups: Graviton groups carry no taint unless the team adds one.
        return ClusterProfile(
            (
                _pool("ng-x86", "amd64", {"eks.amazonaws.com/nodegroup": "ng-x86",
                                          "node.kubernetes.io/instance-type": "m6i.large"}),
                _pool("ng-graviton", "arm64", {"eks.amazonaws.com/nodegroup": "ng-graviton",
                                               "node.kubernetes.io/instance-type": "m7g.large"}),
            ),
            "preset eks",
            synthetic=True,
        )  # fmt: skip
    if n == "karpenter":
        # One Karpenter NodePool allowing both architectures: nodes of either arch, same labels.
        labels = {"karpenter.sh/nodepool": "default", "karpenter.sh/capacity-type": "on-demand"}
        return ClusterProfile(
            (_pool("karpenter-amd64", "amd64", labels), _pool("karpenter-arm64", "arm64", labels)),
            "preset karpenter",
            synthetic=True,
        )
    if n == "aks":
        return ClusterProfile(
            (
                _pool("nodepool1", "amd64", {"kubernetes.azure.com/agentpool": "nodepool1", "agentpool": "nodepool1"}),
                _pool("armpool", "arm64", {"kubernetes.azure.com/agentpool": "armpool", "agentpool": "armpool"}),
            ),
            "preset aks",
            synthetic=True,
        )
    return None


PRESETS = ("default", "gke", "eks", "aks", "karpenter")


def _fatal(cfg: Config, key: str, msg: str) -> FatalError:
    return FatalError(f"{cfg.where(key)}: {msg}")


def _norm_arch(v: Any) -> str | None:
    return _ARCH_ALIASES.get(v.lower()) if isinstance(v, str) else None


def _taint(cfg: Config, key: str, raw: Any) -> Taint:
    if not isinstance(raw, dict):
        raise _fatal(cfg, key, f"expected a table with key, value, effect, got {raw!r}")
    unknown = set(raw) - {"key", "value", "effect"}
    if unknown:
        raise _fatal(cfg, key, f"unknown taint field(s) {', '.join(sorted(unknown))}")
    tkey, value, effect = raw.get("key"), raw.get("value", ""), raw.get("effect")
    if not isinstance(tkey, str) or not tkey:
        raise _fatal(cfg, f"{key}.key", "expected a non-empty string")
    if not isinstance(value, str):
        raise _fatal(cfg, f"{key}.value", "expected a string")
    if effect not in EFFECTS:
        raise _fatal(cfg, f"{key}.effect", f"expected one of {', '.join(EFFECTS)}, got {effect!r}")
    return Taint(tkey, value, effect)


def pools_from_config(cfg: Config, raw_pools: list[Any]) -> list[NodePool]:
    out = []
    for i, raw in enumerate(raw_pools):
        base = f"cluster.pools[{i}]"
        if not isinstance(raw, dict):
            raise _fatal(cfg, base, "expected a table")
        unknown = set(raw) - {"name", "arch", "labels", "taints"}
        if unknown:
            raise _fatal(cfg, base, f"unknown pool field(s) {', '.join(sorted(unknown))}")
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise _fatal(cfg, f"{base}.name", "expected a non-empty string")
        arch = _norm_arch(raw.get("arch"))
        if arch is None:
            raise _fatal(cfg, f"{base}.arch", f'expected "amd64" or "arm64", got {raw.get("arch")!r}')
        labels = raw.get("labels", {})
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise _fatal(cfg, f"{base}.labels", "expected a table of strings")
        taints = raw.get("taints", [])
        if not isinstance(taints, list):
            raise _fatal(cfg, f"{base}.taints", "expected an array of tables")
        tt = tuple(_taint(cfg, f"{base}.taints[{j}]", t) for j, t in enumerate(taints))
        out.append(_pool(name, arch, labels, tt))
    return out


def pools_from_nodes(data: Any, where: str) -> list[NodePool]:
    """One pool per distinct node shape in `kubectl get nodes -o json` output (a List of Nodes,
    or a single Node). Hostnames stay in the labels so nodeName/hostname selectors still work."""
    items = data.get("items") if isinstance(data, dict) and "items" in data else [data]
    if not isinstance(items, list):
        raise FatalError(f"{where}: expected `kubectl get nodes -o json` output (a List of Nodes)")
    out: list[NodePool] = []
    for i, node in enumerate(items):
        if not isinstance(node, dict) or node.get("kind", "Node") != "Node":
            raise FatalError(f"{where}: items[{i}] is not a Node")
        meta = _object(node, "metadata", f"{where}: items[{i}]")
        spec = _object(node, "spec", f"{where}: items[{i}]")
        status = _object(node, "status", f"{where}: items[{i}]")
        raw_labels = _object(meta, "labels", f"{where}: items[{i}].metadata")
        labels = {str(k): str(v) for k, v in raw_labels.items()}
        info = _object(status, "nodeInfo", f"{where}: items[{i}].status")
        arch = _norm_arch(labels.get(ARCH_LABEL) or info.get("architecture"))
        if arch is None:
            continue  # s390x, ppc64le, ...: not a target of this tool
        raw_taints = spec.get("taints") or []
        if not isinstance(raw_taints, list):
            raise FatalError(f"{where}: items[{i}].spec.taints: expected a list, got {type(raw_taints).__name__}")
        taints = []
        for t in raw_taints:
            if isinstance(t, dict) and t.get("effect") in EFFECTS and isinstance(t.get("key"), str):
                taints.append(Taint(t["key"], str(t.get("value") or ""), t["effect"]))
        if spec.get("unschedulable"):
            taints.append(Taint("node.kubernetes.io/unschedulable", "", "NoSchedule"))
        name = str(meta.get("name") or f"node-{i}")
        out.append(NodePool(name, arch, kubelet_labels(arch, labels), tuple(taints)))
    return out


def _object(parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    """parent[key] as a mapping ({} when absent or null); anything else is the user's mistake."""
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FatalError(f"{where}.{key}: expected an object, got {type(value).__name__} {value!r:.40}")
    return value


def load_profile(ctx: ScanContext) -> ClusterProfile:
    return profile_from_config(ctx.config)


def profile_from_config(cfg: Config) -> ClusterProfile:
    cluster = cfg.get("cluster") or {}
    pools: list[NodePool] = []
    sources = []
    auto = False
    if "preset" in cluster:
        pre = preset(cluster["preset"])
        if pre is None:
            raise _fatal(cfg, "cluster.preset", f"unknown preset {cluster['preset']!r} (one of {', '.join(PRESETS)})")
        pools.extend(pre.pools)
        sources.append(pre.source)
        auto = pre.auto_tolerate_arch
    if "nodes-file" in cluster:
        base = cfg.directory or Path.cwd()
        path = base / cluster["nodes-file"]
        where = cfg.where("cluster.nodes-file")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise FatalError(f"{where}: cannot read {path}: {e.strerror or e}") from None
        except (ValueError, UnicodeDecodeError) as e:
            raise FatalError(f"{where}: {path} is not JSON: {e}") from None
        except RecursionError:
            raise FatalError(f"{where}: {path} is nested too deeply to be `kubectl get nodes` output") from None
        pools.extend(pools_from_nodes(data, f"{where} ({path})"))
        sources.append(f"nodes-file {cluster['nodes-file']}")
    if "pools" in cluster:
        pools.extend(pools_from_config(cfg, cluster["pools"]))
        sources.append("config pools")
    if not sources:
        default = preset("default")
        assert default is not None
        return default
    names = [p.name for p in pools]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes and "pools" in cluster:
        raise _fatal(cfg, "cluster.pools", f"duplicate pool name(s) {', '.join(dupes)}")
    synthetic = "nodes-file" not in cluster and "pools" not in cluster
    return ClusterProfile(tuple(pools), " + ".join(sources), auto_tolerate_arch=auto, synthetic=synthetic)
