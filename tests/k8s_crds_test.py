"""Pods of custom resources: Argo Workflows and Spark applications assembled as their controllers
do, multi-pod resources (Ray, Kubeflow, KServe) named per pod, positions and patches for each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from archlint.k8s.crds import merge
from archlint.k8s.objects import PodTemplate, objects, pod_templates
from archlint.k8s.yamlread import read_all
from tests.conftest import FIXTURES, CliResult

PLATFORM = FIXTURES / "k8s" / "platform"
Cli = Callable[..., CliResult]


def pods(text: str) -> dict[str, PodTemplate]:
    [doc] = read_all(text)
    [obj] = list(objects(doc))
    return {t.role: t for t in pod_templates(obj)}


def fixture_pods(rel: str) -> tuple[Any, dict[str, PodTemplate]]:
    [doc] = read_all((PLATFORM / rel).read_text())
    [obj] = list(objects(doc))
    return obj, {t.role: t for t in pod_templates(obj)}


def test_argo_workflow_one_pod_per_container_script_and_container_set_template() -> None:
    obj, got = fixture_pods("workflows/train-pipeline.yaml")
    assert list(got) == ["fetch", "featurize", "train", "evaluate"]  # `main` is a DAG: no pod
    evaluate = [c["image"] for c in got["evaluate"].spec["containers"]]
    assert evaluate == ["registry.example.com/ml/evaluate:4.0.0", "registry.example.com/ml/report:1.2.0"]
    # A script runs its image; its source is not a container field.
    assert got["featurize"].spec["containers"] == [{"image": "python:3.12-slim", "command": ["python"]}]
    # Workflow-level scheduling applies to templates that set none ...
    wf = obj.data["spec"]
    assert got["fetch"].spec["nodeSelector"] == wf["nodeSelector"]
    assert got["fetch"].spec["tolerations"] == wf["tolerations"]
    # ... and a template's own replaces it whole (Argo's addSchedulingConstraints), field by field.
    assert got["train"].spec["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert got["train"].spec["tolerations"][0]["key"] == "nvidia.com/gpu"
    # Edits go into a template only when all its scheduling is its own: an inherited field would
    # be replaced whole by a template-level one.
    assert got["train"].edit_path == ("spec", "templates", 3)
    assert got["fetch"].edit_path is None
    # Positions map back to where each field is written.
    assert got["fetch"].object_path(("containers", 0, "image")) == ("spec", "templates", 1, "container", "image")
    assert got["train"].object_path(("nodeSelector",)) == ("spec", "templates", 3, "nodeSelector")
    assert got["fetch"].object_path(("nodeSelector", "kubernetes.io/arch")) == ("spec", "nodeSelector",
                                                                                 "kubernetes.io/arch")  # fmt: skip
    assert got["evaluate"].object_path(("containers", 1, "image")) == ("spec", "templates", 4, "containerSet",
                                                                       "containers", 1, "image")  # fmt: skip
    # Patches name the template, not its index.
    assert got["train"].patch_path == ("spec", "templates", {"name": "train"})


def test_template_defaults_sidecars_and_cron_workflow_spec() -> None:
    _, infer = fixture_pods("workflows/batch-infer-template.yaml")
    spec = infer["infer"].spec
    assert [c["image"] for c in spec["containers"]] == ["registry.example.com/ml/infer:3.3.0",
                                                        "registry.example.com/ml/metrics-agent:0.9.1"]  # fmt: skip
    assert spec["tolerations"][0]["value"] == "graviton"  # from templateDefaults
    assert infer["infer"].object_path(("tolerations", 0)) == ("spec", "templateDefaults", "tolerations", 0)
    assert infer["infer"].object_path(("containers", 1, "image")) == ("spec", "templates", 0, "sidecars", 0, "image")
    _, cron = fixture_pods("workflows/nightly-retrain.yaml")
    assert cron["retrain"].path == ("spec", "workflowSpec", "templates", 0)
    assert cron["retrain"].edit_path == ("spec", "workflowSpec", "templates", 0)


def test_pod_spec_patch_scheduling_is_applied_last() -> None:
    got = pods(
        """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: w}
spec:
  nodeSelector: {pool: general}
  podSpecPatch: '{"nodeSelector": {"kubernetes.io/arch": "arm64"}}'
  templates:
  - name: a
    container: {image: alpine:3.20}
  - name: b
    podSpecPatch: |
      tolerations:
      - {key: dedicated, operator: Exists, effect: NoSchedule}
    container: {image: alpine:3.20}
  - name: c
    podSpecPatch: '{{inputs.parameters.patch}}'
    container: {image: alpine:3.20}
"""
    )
    # A pod spec patch merges into the selector (maps merge) and replaces lists.
    assert got["a"].spec["nodeSelector"] == {"pool": "general", "kubernetes.io/arch": "arm64"}
    assert got["a"].object_path(("nodeSelector", "pool")) == ("spec", "podSpecPatch")
    assert got["b"].spec["tolerations"] == [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}]
    assert got["b"].edit_path is None
    assert "tolerations" not in got["c"].spec  # a templated patch is not guessed at


def test_non_argo_kinds_with_the_same_names_are_walked() -> None:
    got = pods("apiVersion: example.com/v1\nkind: Workflow\nmetadata: {name: x}\nspec:\n  templates:\n"
               "  - name: a\n    container: {image: alpine}\n")  # fmt: skip
    assert got == {}  # not Argo's: no pod spec to walk to either


def test_spark_application_driver_and_executor() -> None:
    obj, got = fixture_pods("ml/spark-etl.yaml")
    assert list(got) == ["driver", "executor"]
    for role in got:
        spec = got[role].spec
        assert spec["containers"][0]["image"] == "registry.example.com/data/spark-etl:3.5.1"
        assert spec["nodeSelector"] == {"kubernetes.io/arch": "arm64"}  # the application's
        assert spec["tolerations"] == obj.data["spec"][role]["tolerations"]
        assert got[role].object_path(("containers", 0, "image")) == ("spec", "image")
        assert got[role].edit_path is None  # its nodeSelector is the application's, shared by both
    override = pods(
        """
apiVersion: sparkoperator.k8s.io/v1beta2
kind: ScheduledSparkApplication
metadata: {name: s}
spec:
  schedule: "@daily"
  template:
    image: spark:3.5.1
    driver: {image: spark-driver:3.5.1, nodeSelector: {kubernetes.io/arch: amd64}}
    executor: {}
"""
    )
    assert override["driver"].spec["containers"][0]["image"] == "spark-driver:3.5.1"
    assert override["driver"].object_path(("containers", 0, "image")) == ("spec", "template", "driver", "image")
    assert override["driver"].edit_path == ("spec", "template", "driver")
    assert override["executor"].spec["containers"][0]["image"] == "spark:3.5.1"


def test_multi_pod_resources_get_a_role_per_pod() -> None:
    _, ray = fixture_pods("ml/ray-cluster.yaml")
    assert list(ray) == ["headGroupSpec", "workerGroupSpecs[cpu]", "workerGroupSpecs[arm]"]
    assert ray["workerGroupSpecs[arm]"].patch_path == ("spec", "workerGroupSpecs", {"groupName": "arm"}, "template",
                                                       "spec")  # fmt: skip
    _, job = fixture_pods("ml/pytorchjob.yaml")
    assert list(job) == ["pytorchReplicaSpecs.Master", "pytorchReplicaSpecs.Worker"]
    _, isvc = fixture_pods("ml/inference-service.yaml")
    assert list(isvc) == ["predictor", "transformer"]
    # One pod at the usual place keeps the plain id.
    rollout = pods("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  template:\n"
                   "    spec:\n      containers: [{name: a, image: nginx}]\n")  # fmt: skip
    assert list(rollout) == [""]


def test_merge_is_mapping_deep_and_list_replacing() -> None:
    assert merge({"a": {"b": 1, "c": [1]}, "d": 1}, {"a": {"c": [2]}, "e": 2}) == {"a": {"b": 1, "c": [2]}, "d": 1,
                                                                                  "e": 2}  # fmt: skip
    assert merge({"a": 1}, None) is None


def test_argo_findings_point_at_the_template_and_fix_it(cli: Cli, tmp_path: Path) -> None:
    wf = tmp_path / "wf.yaml"
    wf.write_text(
        """apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: etl
  namespace: data
spec:
  entrypoint: run
  templates:
    - name: run
      steps:
        - - name: load
            template: load
    - name: load
      container:
        image: registry.example.com/data/loader:1.0
"""
    )
    (tmp_path / "archlint.toml").write_text('[image-overrides]\n"registry.example.com/data/loader" = "amd64"\n')
    args = ["check", str(tmp_path), "--offline", "--format", "json", "--config", str(tmp_path / "archlint.toml")]
    rep = cli(args).json()
    [f] = [f for f in rep["findings"] if f["rule"] == "ARCH201"]
    assert f["workload"] == "WorkflowTemplate/data/etl[load]" and f["line"] == 15
    assert f["fix"]["applicability"] == "safe"
    [w] = rep["workloads"]
    assert w["line"] == 13  # the template, not the object
    assert w["placement"]["patch"] == {"spec": {"templates": [{"name": "load", "nodeSelector": {
        "kubernetes.io/arch": "amd64"}}]}}  # fmt: skip
    assert cli(["check", str(tmp_path), "--offline", "--fix", "--config", str(tmp_path / "archlint.toml")]).rc == 0
    assert "      nodeSelector:\n        kubernetes.io/arch: amd64\n" in wf.read_text()
    after = cli(args).json()
    assert [f["rule"] for f in after["findings"]] == [] and after["workloads"][0]["placement"]["current"] == ["amd64"]
