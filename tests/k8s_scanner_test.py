"""The Kubernetes scanner end to end through the CLI: real manifests, profiles, fixes, bad input."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from archlint.k8s.yamlread import read_all
from tests.conftest import FIXTURES, CliResult

K8S = FIXTURES / "k8s"
Cli = Callable[..., CliResult]

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) not on PATH")

OVERRIDES = """
[image-overrides]
"registry.example.com/shop/checkout" = "amd64"
"registry.example.com/shop/catalog" = "multi-arch"
"envoyproxy/envoy" = "multi-arch"
"registry.example.com/shop/search" = "multi-arch"
"quay.io/prometheus/node-exporter" = "multi-arch"
"ghcr.io/acme/inference" = "arm64"
"ghcr.io/acme/recommender" = "arm64"
"ghcr.io/acme/thumbnailer" = "multi-arch"
"registry.example.com/analytics/report" = "amd64"
"registry.example.com/edge/gateway" = "amd64"
"registry.example.com/finance/billing" = "multi-arch"
"registry.example.com/finance/ledger" = "amd64"
"""


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing `needle`: expectations come from the fixture."""
    hits = [i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line]
    return hits[nth - 1]


def project(tmp_path: Path, files: list[str], config: str = OVERRIDES) -> Path:
    for name in files:
        src = K8S / name
        dst = tmp_path / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy(src, dst)
    (tmp_path / "archlint.toml").write_text(config, encoding="utf-8")
    return tmp_path


def check(cli: Cli, root: Path, *args: str, stdin: bytes | None = None) -> tuple[int, dict[str, Any]]:
    res = cli(["check", *args, "--format", "json", "--offline", "--config", str(root / "archlint.toml")], stdin=stdin)
    assert res.rc in (0, 1), res.err
    return res.rc, res.json()


def by_rule(report: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule"] == rule]


def workload(report: dict[str, Any], wid: str) -> dict[str, Any]:
    return next(w for w in report["workloads"] if w["id"] == wid)


def test_x86_image_that_can_land_on_arm64_is_an_error_at_its_image_line(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, ["deployments.yaml"])
    rc, rep = check(cli, root, str(root / "deployments.yaml"))
    assert rc == 1
    [f] = by_rule(rep, "ARCH201")
    assert f["workload"] == "Deployment/shop/checkout"
    assert f["line"] == line_of(root / "deployments.yaml", 'image: "registry.example.com/shop/checkout')
    assert f["path"] == "deployments.yaml"
    assert f["fix"]["applicability"] == "safe"
    assert workload(rep, "Deployment/shop/checkout")["placement"]["current"] == ["amd64", "arm64"]
    # The catalog pins amd64 with the beta label while its images are multi-arch: warning + opportunity.
    beta = by_rule(rep, "ARCH204")
    assert [b["line"] for b in beta] == [line_of(root / "deployments.yaml", "beta.kubernetes.io/arch: amd64")]
    [opp] = by_rule(rep, "ARCH206")
    assert opp["workload"] == "Deployment/shop/catalog" and opp["severity"] == "info"


def test_fix_then_check_is_clean_and_keeps_the_yaml(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, ["deployments.yaml", "cronjob.yaml", "manifest.json", "rollout.yaml", "list.yaml"])
    before = {p.name: p.read_text(encoding="utf-8") for p in root.glob("*.*")}
    fixable = ("ARCH201", "ARCH202", "ARCH204", "ARCH205", "ARCH206")
    _, rep = check(cli, root, str(root))
    assert {f["rule"] for f in rep["findings"]} >= {"ARCH201", "ARCH204", "ARCH205", "ARCH206"}
    res = cli(["check", str(root), "--fix", "--unsafe-fixes", "--offline", "--config", str(root / "archlint.toml")])
    assert "applied" in res.err
    _, after = check(cli, root, str(root))
    assert [f for f in after["findings"] if f["rule"] in fixable] == []
    text = (root / "deployments.yaml").read_text(encoding="utf-8")
    # Comments, quoting and flow style survive; only lines were added or renamed.
    for keep in ("# the API", 'image: "registry.example.com/shop/checkout:2.14.1"', "value: '/opt/oracle'",
                 "requests: {cpu: 250m, memory: 512Mi}", "# no node selector yet"):  # fmt: skip
        assert keep in text
    # Only lines were added, except the catalog's amd64 pin, which the multi-arch fix removes.
    old_lines = before["deployments.yaml"].splitlines()
    assert [ln for ln in old_lines if ln not in text.splitlines()] == [
        "        beta.kubernetes.io/arch: amd64   # legacy label from the 1.12 days"
    ]
    json.loads((root / "manifest.json").read_text(encoding="utf-8"))  # still JSON
    gw = workload(after, "Deployment/edge/gateway")
    assert gw["placement"]["current"] == ["amd64"]
    cron = workload(after, "CronJob/analytics/nightly-report")
    assert cron["placement"]["current"] == ["amd64"]
    assert workload(after, "Rollout/ml/recommender")["placement"]["current"] == ["arm64"]
    assert workload(after, "Deployment/shop/catalog")["placement"]["current"] == ["amd64", "arm64"]


def test_safe_fixes_rename_beta_labels_in_place(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, ["deployments.yaml"])
    cli(["check", str(root), "--fix", "--offline", "--config", str(root / "archlint.toml")])
    text = (root / "deployments.yaml").read_text(encoding="utf-8")
    assert "        kubernetes.io/arch: amd64   # legacy label from the 1.12 days\n" in text
    _, rep = check(cli, root, str(root))
    assert by_rule(rep, "ARCH204") == [] and by_rule(rep, "ARCH201") == []
    assert by_rule(rep, "ARCH206")  # the opportunity is an unsafe fix: left for --unsafe-fixes


def test_cronjob_patch_goes_through_the_job_template(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, ["cronjob.yaml"])
    _, rep = check(cli, root, str(root / "cronjob.yaml"))
    [f] = by_rule(rep, "ARCH201")
    assert f["line"] == line_of(root / "cronjob.yaml", "image: registry.example.com/analytics/report")
    [edit] = f["fix"]["edits"]
    assert edit["content"].startswith("          nodeSelector:\n")  # at the pod spec's indentation
    from archlint.findings import Edit
    from archlint.fixes import apply_edits

    new, _ = apply_edits((root / "cronjob.yaml").read_text(), [Edit(**{k: edit[k] for k in edit})])
    spec = read_all(new)[0].data["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"kubernetes.io/arch": "amd64"}


def test_cluster_profile_from_nodes_file_tainted_arm64_pool(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, ["deployments.yaml", "helm-output.yaml", "cluster/nodes.json"],
                   OVERRIDES + '\n[cluster]\nnodes-file = "cluster/nodes.json"\n')  # fmt: skip
    _, rep = check(cli, root, str(root / "deployments.yaml"), str(root / "helm-output.yaml"))
    taint = {f["workload"]: f for f in by_rule(rep, "ARCH202")}
    assert set(taint) == {"StatefulSet/shop/search", "Deployment/default/release-name-inference"}
    assert "hardware-type=agi-arm:NoSchedule" in taint["StatefulSet/shop/search"]["message"]
    assert taint["StatefulSet/shop/search"]["line"] == line_of(root / "deployments.yaml", "kubernetes.io/arch: arm64")
    assert workload(rep, "StatefulSet/shop/search")["placement"]["current"] == []
    # Under this profile the x86-only checkout cannot reach the tainted arm64 pool: no ARCH201.
    assert by_rule(rep, "ARCH201") == []
    # The inference pod asks for 1500m CPU on a dedicated arm64 pool: QoS info once it can land.
    cli(["check", str(root), "--fix", "--offline", "--config", str(root / "archlint.toml")])
    _, after = check(cli, root, str(root / "deployments.yaml"), str(root / "helm-output.yaml"))
    assert by_rule(after, "ARCH202") == []
    assert workload(after, "Deployment/default/release-name-inference")["placement"]["current"] == ["arm64"]
    [qos] = by_rule(after, "ARCH207")
    assert qos["workload"] == "Deployment/default/release-name-inference" and "fractional CPU" in qos["message"]
    text = (root / "helm-output.yaml").read_text(encoding="utf-8")
    assert "# Source: inference/templates/deployment.yaml" in text and "securityContext:\n        {}" in text


def test_list_items_annotation_suppression_and_node_name(cli: Cli, tmp_path: Path) -> None:
    root = project(
        tmp_path, ["list.yaml", "cluster/nodes.json"], OVERRIDES + '\n[cluster]\nnodes-file = "cluster/nodes.json"\n'
    )
    _, rep = check(cli, root, str(root / "list.yaml"))
    # billing's beta label is suppressed by its ignore-check annotation; the workload is still there.
    assert by_rule(rep, "ARCH204") == []
    billing = workload(rep, "Deployment/finance/billing")
    assert billing["line"] == line_of(root / "list.yaml", "kind: Deployment")
    assert billing["placement"]["current"] == ["amd64"]
    assert billing["placement"]["patch"] is None or "items" not in json.dumps(billing["placement"]["patch"])
    # The bound pod runs on the node its nodeName names: an amd64 node.
    assert workload(rep, "Pod/finance/ledger-migrate-7bq2x")["placement"]["current"] == ["amd64"]
    _, unsuppressed = check(cli, root, str(root / "list.yaml"), "--select", "ARCH204")
    assert unsuppressed["findings"] == [] and by_rule(rep, "ARCH204") == []


def test_annotation_removed_shows_the_finding(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, ["list.yaml"])
    p = root / "list.yaml"
    p.write_text("\n".join(ln for ln in p.read_text().splitlines() if "ignore-check.archlint.io" not in ln) + "\n")
    _, rep = check(cli, root, str(p))
    [f] = by_rule(rep, "ARCH204")
    assert f["line"] == line_of(p, "key: beta.kubernetes.io/arch")


def test_custom_resources_found_by_walking_to_containers(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, ["rollout.yaml", "knative.yaml"])
    _, rep = check(cli, root, str(root))
    ids = {w["id"] for w in rep["workloads"]}
    assert {"Rollout/ml/recommender", "Service/media/thumbnailer"} <= ids
    [f] = by_rule(rep, "ARCH205")
    assert f["workload"] == "Rollout/ml/recommender" and f["severity"] == "warning"
    assert f["line"] == line_of(root / "rollout.yaml", "image: ghcr.io/acme/recommender")
    assert workload(rep, "Service/media/thumbnailer")["placement"]["current"] == ["amd64", "arm64"]


def test_stdin_helm_template_output(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, [])
    data = (K8S / "helm-output.yaml").read_bytes()
    _, rep = check(cli, root, "-", stdin=data)
    inf = workload(rep, "Deployment/default/release-name-inference")
    assert inf["path"] == "<stdin>"
    assert inf["line"] == line_of(K8S / "helm-output.yaml", "kind: Deployment")
    # The built-in default profile cannot know the team's hardware-type label: a warning that
    # says so and how to import the real nodes, and the pod is judged by its arch selector.
    assert inf["placement"]["current"] == ["arm64"]
    assert by_rule(rep, "ARCH203") == []
    [f] = by_rule(rep, "ARCH216")
    assert f["severity"] == "warning" and f["path"] == "<stdin>"
    assert f["line"] == line_of(K8S / "helm-output.yaml", "hardware-type: agi-arm")
    assert "nodeSelector hardware-type=agi-arm" in f["message"] and "nodes-file" in f["message"]
    assert "kubectl get nodes -o json" in f["message"]
    # A profile that describes the real pools (none has the label) makes it a real error.
    pools = '[[cluster.pools]]\nname = "x86"\narch = "amd64"\n[[cluster.pools]]\nname = "arm"\narch = "arm64"\n'
    (root / "archlint.toml").write_text(pools, encoding="utf-8")
    _, real = check(cli, root, "-", stdin=data)
    assert workload(real, "Deployment/default/release-name-inference")["placement"]["current"] == []
    assert by_rule(real, "ARCH216") == []
    [f] = by_rule(real, "ARCH203")
    assert f["path"] == "<stdin>" and "hardware-type=agi-arm (node lacks the label)" in f["message"]
    (root / "archlint.toml").write_text(OVERRIDES, encoding="utf-8")
    # Fixes cannot be written back to stdin: the placement patch only.
    _, more = check(cli, root, "-", stdin=data + b"---\n" + (K8S / "cronjob.yaml").read_bytes())
    [x86] = by_rule(more, "ARCH201")
    assert x86["path"] == "<stdin>" and x86["fix"]["applicability"] == "manual" and x86["fix"]["edits"] == []
    assert x86["line"] == data.count(b"\n") + 1 + line_of(K8S / "cronjob.yaml", "image:")


@needs_kubectl
def test_kustomization_rendered_and_reported_at_the_base(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, ["kustomize"])
    _, everything = check(cli, root, str(root / "kustomize"))
    # Each overlay's render, once: not the raw base on its own, not the patches as workloads.
    assert sorted(w["id"] for w in everything["workloads"]) == ["Deployment/canary/orders-arm",
                                                                 "Deployment/prod/prod-orders"]  # fmt: skip
    _, rep = check(cli, root, str(root / "kustomize/overlays/prod"))
    [f] = by_rule(rep, "ARCH201")
    base = root / "kustomize/base/deployment.yaml"
    assert f["path"] == "kustomize/base/deployment.yaml"
    assert f["line"] == line_of(base, "image: registry.example.com/shop/checkout")
    assert f["fix"]["applicability"] == "safe"  # the base's pod spec is what renders: editing it works
    cli(["check", str(root / "kustomize/overlays/prod"), "--fix", "--offline", "--config", str(root / "archlint.toml")])
    _, after = check(cli, root, str(root / "kustomize/overlays/prod"))
    assert by_rule(after, "ARCH201") == []
    assert "kubernetes.io/arch: amd64" in base.read_text()


@needs_kubectl
def test_overlay_that_sets_the_placement_gets_no_edits_in_the_base(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, ["kustomize"])
    base = root / "kustomize/base/deployment.yaml"
    before = base.read_text()
    _, rep = check(cli, root, str(root / "kustomize/overlays/arm"))
    [f] = by_rule(rep, "ARCH201")
    assert f["workload"] == "Deployment/canary/orders-arm"
    assert f["path"] == "kustomize/base/deployment.yaml"  # where the image is written
    assert f["fix"]["applicability"] == "manual" and f["fix"]["edits"] == []
    assert workload(rep, "Deployment/canary/orders-arm")["placement"]["current"] == ["arm64"]
    cli(["check", str(root / "kustomize/overlays/arm"), "--fix", "--unsafe-fixes", "--offline",
         "--config", str(root / "archlint.toml")])  # fmt: skip
    assert base.read_text() == before


def test_kustomization_without_kubectl_says_so_and_checks_raw_files(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path, ["kustomize"])
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    _, rep = check(cli, root, str(root / "kustomize"))
    missing = by_rule(rep, "ARCH213")
    assert missing and all("kubectl is not on PATH" in f["message"] for f in missing)
    # The raw base is checked as written; the overlays' patches (partial objects) are not.
    assert [w["id"] for w in rep["workloads"]] == ["Deployment/default/orders"]
    assert not by_rule(rep, "ARCH209")


def test_remote_bases_are_not_fetched_offline(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, ["kustomize"])
    k = root / "kustomize/overlays/prod/kustomization.yaml"
    k.write_text(
        k.read_text().replace(
            "  - ../../base\n", "  - ../../base\n  - https://github.com/acme/platform//base?ref=v1.2.0\n"
        )
    )
    _, rep = check(cli, root, str(root / "kustomize/overlays/prod"))
    [f] = by_rule(rep, "ARCH213")
    assert "--offline" in f["message"] and "github.com/acme/platform" in f["message"]


def test_bad_input_is_findings_with_lines_and_the_scan_continues(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, ["bad"])
    (root / "bad" / "latin1.yaml").write_bytes(b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: caf\xe9\n")
    _, rep = check(cli, root, str(root / "bad"))
    bomb = by_rule(rep, "ARCH210")
    assert [f["path"] for f in bomb] == ["bad/alias-bomb.yaml"]
    assert "Pod/default/after-the-bomb" in {w["id"] for w in rep["workloads"]}
    [syntax] = [f for f in by_rule(rep, "ARCH002") if f["path"] == "bad/malformed.yaml"]
    assert syntax["line"] in (
        line_of(root / "bad/malformed.yaml", "image:"),
        line_of(root / "bad/malformed.yaml", "---"),
    )
    assert "Pod/default/still-read" in {w["id"] for w in rep["workloads"]}
    [dup] = by_rule(rep, "ARCH211")
    assert dup["line"] == line_of(root / "bad/duplicate-keys.yaml", "nodeSelector:", 2)
    [typed] = [f for f in by_rule(rep, "ARCH209") if "typed-wrong" in f["message"]]
    assert typed["line"] == line_of(root / "bad/wrong-types.yaml", "containers: 7")
    types = by_rule(rep, "ARCH212")
    assert {f["line"] for f in types} == {line_of(root / "bad/wrong-types.yaml", "nodeSelector: ["),
                                          line_of(root / "bad/wrong-types.yaml", "image: 42")}  # fmt: skip
    assert any(f["path"] == "bad/latin1.yaml" and f["rule"] == "ARCH002" for f in rep["findings"])
    assert not by_rule(rep, "ARCH004")


def test_schema_validation_points_at_the_unknown_field(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, ["deployments.yaml"])
    p = root / "deployments.yaml"
    p.write_text(
        p.read_text().replace("      serviceAccountName: checkout", "      nodeSelecter:\n        disktype: ssd")
    )
    _, rep = check(cli, root, str(p))
    [f] = by_rule(rep, "ARCH209")
    assert f["line"] == line_of(p, "nodeSelecter:") and "nodeSelecter" in f["message"]
    assert "Kubernetes 1." in f["message"]


def test_non_kubernetes_yaml_is_skipped_quietly(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, [])
    (root / "values.yaml").write_text("image:\n  repository: nginx\nkind: values\napiVersion: 3\n")
    (root / "empty.yaml").write_text("---\n---\n")
    rc, rep = check(cli, root, str(root))
    assert rc == 0 and rep["findings"] == [] and rep["workloads"] == []


@pytest.mark.parametrize(
    ("cluster", "needle"),
    [
        ('[[cluster.pools]]\nname = "x"\narch = "sparc"\n', "cluster.pools[0].arch"),
        ('[[cluster.pools]]\narch = "arm64"\n', "cluster.pools[0].name"),
        (
            '[[cluster.pools]]\nname = "a"\narch = "arm64"\ntaints = [{key = "k", effect = "Sometimes"}]\n',
            "cluster.pools[0].taints[0].effect",
        ),
        ('[cluster]\npreset = "openshift"\n', "cluster.preset"),
        ('[cluster]\nnodes-file = "missing.json"\n', "cluster.nodes-file"),
        ('kubernetes-version = "1.2"\n', "kubernetes-version"),
    ],
)
def test_bad_cluster_config_exits_2_naming_file_and_key(cli: Cli, tmp_path: Path, cluster: str, needle: str) -> None:
    root = project(tmp_path, ["cronjob.yaml"], cluster)
    res = cli(["check", str(root), "--offline", "--config", str(root / "archlint.toml")])
    assert res.rc == 2
    assert "archlint.toml" in res.err and needle in res.err


def test_config_pools_and_presets(cli: Cli, tmp_path: Path) -> None:
    pools = """
[[cluster.pools]]
name = "general"
arch = "amd64"

[[cluster.pools]]
name = "agi-arm"
arch = "arm64"
labels = { "hardware-type" = "agi-arm" }
taints = [ { key = "hardware-type", value = "agi-arm", effect = "NoSchedule" } ]
"""
    root = project(tmp_path, ["deployments.yaml"], OVERRIDES + pools)
    _, rep = check(cli, root, str(root / "deployments.yaml"))
    assert workload(rep, "Deployment/shop/checkout")["placement"]["current"] == ["amd64"]
    assert by_rule(rep, "ARCH202")[0]["workload"] == "StatefulSet/shop/search"
    (root / "archlint.toml").write_text(OVERRIDES + '\n[cluster]\npreset = "gke"\n')
    _, gke = check(cli, root, str(root / "deployments.yaml"))
    # GKE tolerates its arm64 taint for pods that select arm64: search can land.
    assert workload(gke, "StatefulSet/shop/search")["placement"]["current"] == ["arm64"]
    assert workload(gke, "Deployment/shop/checkout")["placement"]["current"] == ["amd64"]


def test_noqa_comment_on_the_line_suppresses(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, ["cronjob.yaml"])
    p = root / "cronjob.yaml"
    p.write_text(p.read_text().replace("# built FROM an amd64-only base", "# noqa: ARCH201"))
    _, rep = check(cli, root, str(p))
    assert by_rule(rep, "ARCH201") == []
    assert workload(rep, "CronJob/analytics/nightly-report")["placement"]["current"] == ["amd64", "arm64"]


def test_diff_shows_the_fix_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, ["cronjob.yaml"])
    before = (root / "cronjob.yaml").read_text()
    res = cli(["check", str(root), "--diff", "--offline", "--config", str(root / "archlint.toml")])
    assert res.rc == 1
    assert "+++ b/cronjob.yaml" in res.out
    assert "+          nodeSelector:\n+            kubernetes.io/arch: amd64\n" in res.out
    assert (root / "cronjob.yaml").read_text() == before


def test_pool_and_in_process_agree(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from archlint import workers
    from archlint.k8s import pool

    names = ["deployments.yaml", "helm-output.yaml", "list.yaml", "rollout.yaml", "cronjob.yaml", "manifest.json"]
    root = project(tmp_path, names)
    monkeypatch.setattr(pool, "MIN_FILES", 10**9)
    _, alone = check(cli, root, str(root))
    monkeypatch.setattr(pool, "MIN_FILES", 2)
    monkeypatch.setattr(pool, "MIN_BYTES", 0)
    calls: list[int] = []
    real = pool.ProcessPoolExecutor

    def spy(*a: Any, **kw: Any) -> Any:
        calls.append(1)
        return real(*a, **kw)

    monkeypatch.setattr(pool, "ProcessPoolExecutor", spy)
    _, pooled = check(cli, root, str(root))
    if workers.cpus() > 1 and workers.can_fork():
        assert calls, "the pool was not used"
    assert pooled["findings"] == alone["findings"]
    assert pooled["workloads"] == alone["workloads"]


def test_preferred_arm64_behind_a_taint_fix_requires_and_tolerates(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, ["rollout.yaml", "cluster/nodes.json"],
                   OVERRIDES + '\n[cluster]\nnodes-file = "cluster/nodes.json"\n')  # fmt: skip
    _, rep = check(cli, root, str(root / "rollout.yaml"))
    [f] = by_rule(rep, "ARCH205")
    assert "cannot reach an arm64 pool" in f["message"]
    assert workload(rep, "Rollout/ml/recommender")["placement"]["current"] == ["amd64"]
    cli(["check", str(root), "--fix", "--offline", "--config", str(root / "archlint.toml")])
    _, after = check(cli, root, str(root / "rollout.yaml"))
    assert by_rule(after, "ARCH205") == []
    assert workload(after, "Rollout/ml/recommender")["placement"]["current"] == ["arm64"]
    spec = read_all((root / "rollout.yaml").read_text())[0].data["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"kubernetes.io/arch": "arm64"}
    assert spec["tolerations"] == [
        {"key": "hardware-type", "operator": "Equal", "value": "agi-arm", "effect": "NoSchedule"}
    ]


def test_the_example_cluster_config(cli: Cli) -> None:
    """fixtures/k8s/cluster/archlint.toml: a nodes-file profile, a Kubernetes version, overrides."""
    res = cli(["check", str(K8S / "helm-output.yaml"), "--format", "json", "--offline",
               "--config", str(K8S / "cluster/archlint.toml")])  # fmt: skip
    rep = res.json()
    [f] = by_rule(rep, "ARCH202")
    assert f["workload"] == "Deployment/default/release-name-inference"
    assert f["fix"]["applicability"] == "safe" and "hardware-type=agi-arm:NoSchedule" in f["fix"]["description"]


def test_arm64_only_image_pinned_to_amd64_is_not_an_opportunity(cli: Cli, tmp_path: Path) -> None:
    root = project(tmp_path, [])
    (root / "pinned.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: infer}\nspec:\n  nodeSelector: {kubernetes.io/arch: amd64}\n"
        "  containers:\n  - {name: a, image: 'ghcr.io/acme/inference:2.1.0'}\n"
    )
    _, rep = check(cli, root, str(root / "pinned.yaml"))
    assert by_rule(rep, "ARCH206") == []
    # ... it is an error, which the placement scanner reports (no gap between the two scanners).
    assert [f["workload"] for f in by_rule(rep, "ARCH307")] == ["Pod/default/infer"]


def test_big_files_read_in_chunks_give_the_same_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file cut at its `---` lines and read by several workers: same findings (with the same
    edits), same workloads with the same document indices, as one reader over the whole file."""
    from archlint import engine
    from archlint.k8s import chunks, pool

    parts = [(K8S / n).read_text() for n in ("deployments.yaml", "list.yaml", "cronjob.yaml", "rollout.yaml")]
    broken = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: x\n"  # a syntax error between documents
    (tmp_path / "all.yaml").write_text("---\n".join(parts[:2]) + "---\n---\n" + broken + "---\n".join(parts[2:]))
    project(tmp_path, [])

    def run() -> engine.Result:
        return engine.run(engine.Options(paths=[str(tmp_path)], config=str(tmp_path / "archlint.toml"), offline=True))

    monkeypatch.setattr(pool, "MIN_BYTES", 10**12)
    whole = run()
    monkeypatch.setattr(pool, "MIN_BYTES", 0)
    monkeypatch.setattr(chunks, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(chunks, "SPLIT_CHUNK_BYTES", 1)  # a chunk per document
    monkeypatch.setattr(pool, "will_pool", lambda n, b: True)
    jobs = chunks.plan([next(f for f in whole.ctx.files if f.rel == "all.yaml")], set())
    assert len(jobs) > 5
    chunked = run()
    assert [(w.id, w.doc_index, w.spec_path, w.line) for w in chunked.facts.workloads] == [
        (w.id, w.doc_index, w.spec_path, w.line) for w in whole.facts.workloads
    ]
    assert chunked.findings == whole.findings
    assert any(f.rule == "ARCH002" for f in whole.findings) and any(f.fix and f.fix.edits for f in whole.findings)
    patches = [w.placement.patch for w in whole.facts.workloads if w.placement]
    assert [w.placement.patch for w in chunked.facts.workloads if w.placement] == patches
