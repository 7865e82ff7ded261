"""The cluster profile: presets, config pools, `kubectl get nodes -o json` import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archlint.config import Config
from archlint.errors import FatalError
from archlint.k8s.profile import PRESETS, Taint, preset, profile_from_config
from tests.conftest import FIXTURES


def cfg(tmp_path: Path, cluster: dict) -> Config:  # type: ignore[type-arg]
    return Config(path=tmp_path / "archlint.toml", values={"cluster": cluster})


def test_default_is_one_untainted_pool_per_arch() -> None:
    p = profile_from_config(Config())
    assert [(x.arch, x.taints) for x in p.pools] == [("amd64", ()), ("arm64", ())]
    for pool in p.pools:
        assert pool.labels["kubernetes.io/arch"] == pool.labels["beta.kubernetes.io/arch"] == pool.arch
        assert pool.labels["kubernetes.io/os"] == "linux"


@pytest.mark.parametrize("name", PRESETS)
def test_presets_have_both_arches(name: str) -> None:
    p = preset(name)
    assert p is not None and {x.arch for x in p.pools} == {"amd64", "arm64"}


def test_gke_taints_arm_and_tolerates_automatically() -> None:
    p = preset("gke")
    assert p is not None and p.auto_tolerate_arch
    assert p.arm64_pools()[0].taints == (Taint("kubernetes.io/arch", "arm64", "NoSchedule"),)


def test_nodes_file_import(tmp_path: Path) -> None:
    nodes = json.loads((FIXTURES / "k8s/cluster/nodes.json").read_text())
    nodes["items"].append({"kind": "Node", "metadata": {"name": "cordoned", "labels": {"kubernetes.io/arch": "amd64"}},
                           "spec": {"unschedulable": True}})  # fmt: skip
    nodes["items"].append({"kind": "Node", "metadata": {"name": "z", "labels": {"kubernetes.io/arch": "s390x"}}})
    (tmp_path / "nodes.json").write_text(json.dumps(nodes))
    p = profile_from_config(cfg(tmp_path, {"nodes-file": "nodes.json"}))
    by = {x.name: x for x in p.pools}
    assert set(by) == {"ip-10-0-3-17.ec2.internal", "ip-10-0-5-88.ec2.internal", "cordoned"}
    assert by["ip-10-0-5-88.ec2.internal"].taints == (Taint("hardware-type", "agi-arm", "NoSchedule"),)
    assert by["ip-10-0-5-88.ec2.internal"].labels["hardware-type"] == "agi-arm"
    assert by["cordoned"].taints == (Taint("node.kubernetes.io/unschedulable", "", "NoSchedule"),)
    assert p.source == "nodes-file nodes.json"


def test_preset_plus_pools(tmp_path: Path) -> None:
    taint = {"key": "hardware-type", "value": "agi-arm", "effect": "NoSchedule"}
    pool = {"name": "agi-arm", "arch": "aarch64", "taints": [taint]}
    p = profile_from_config(cfg(tmp_path, {"preset": "eks", "pools": [pool]}))
    assert [x.name for x in p.pools] == ["ng-x86", "ng-graviton", "agi-arm"]
    assert p.pools[-1].arch == "arm64"


@pytest.mark.parametrize(
    ("cluster", "key"),
    [
        ({"pools": [{"name": "a", "arch": "arm64", "labels": {"x": 1}}]}, "cluster.pools[0].labels"),
        ({"pools": [{"name": "a", "arch": "arm64", "taints": [{"key": "k"}]}]}, "cluster.pools[0].taints[0].effect"),
        ({"pools": [{"name": "a", "arch": "arm64", "zone": "b"}]}, "cluster.pools[0]"),
        ({"pools": [{"name": "a", "arch": "arm64"}, {"name": "a", "arch": "amd64"}]}, "cluster.pools"),
        ({"nodes-file": "nodes.json"}, "cluster.nodes-file"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, cluster: dict, key: str) -> None:  # type: ignore[type-arg]
    (tmp_path / "nodes.json").write_text("{not json")
    with pytest.raises(FatalError) as e:
        profile_from_config(cfg(tmp_path, cluster))
    assert str(tmp_path / "archlint.toml") in str(e.value) and key in str(e.value)


def test_only_preset_profiles_are_synthetic(tmp_path: Path) -> None:
    """Presets know the labels kubelets and their cloud set, nothing of a team's pools."""
    assert profile_from_config(Config()).synthetic
    assert all(p is not None and p.synthetic for p in map(preset, PRESETS))
    assert profile_from_config(cfg(tmp_path, {"preset": "gke"})).synthetic
    pools = [{"name": "x86", "arch": "amd64"}]
    assert not profile_from_config(cfg(tmp_path, {"preset": "gke", "pools": pools})).synthetic
    (tmp_path / "nodes.json").write_text((FIXTURES / "k8s/cluster/nodes.json").read_text())
    assert not profile_from_config(cfg(tmp_path, {"nodes-file": "nodes.json"})).synthetic
