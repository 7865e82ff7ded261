"""placement_edits against real manifests: the edited file parses, the pod lands where asked,
a second plan is empty, and everything the edit did not have to touch is byte-for-byte kept."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from archlint.facts import Workload
from archlint.findings import Edit
from archlint.fixes import apply_edits
from archlint.k8s.edits import _RANGES, ops_to_edits, placement_edits, plan, remember_documents
from archlint.k8s.objects import objects, pod_templates
from archlint.k8s.profile import ClusterProfile, NodePool, Taint, kubelet_labels, preset
from archlint.k8s.schedule import landing_arches, prefers_arch
from archlint.k8s.yamlread import read_all
from tests.conftest import FIXTURES

K8S = FIXTURES / "k8s"
DEFAULT = preset("default")
TAINTED = ClusterProfile(
    (
        NodePool("general", "amd64", kubelet_labels("amd64")),
        NodePool("agi-arm", "arm64", kubelet_labels("arm64", {"hardware-type": "agi-arm"}),
                 (Taint("hardware-type", "agi-arm", "NoSchedule"),)),
        NodePool("graviton", "arm64", kubelet_labels("arm64"), (Taint("arch", "arm64", "NoExecute"),)),
    ),
    "test",
)  # fmt: skip
FILES = ["deployments.yaml", "helm-output.yaml", "list.yaml", "rollout.yaml", "knative.yaml", "cronjob.yaml",
         "manifest.json", "kustomize/base/deployment.yaml"]  # fmt: skip
EXPECT = {"amd64": ["amd64"], "arm64": ["arm64"], "multi-arch": ["amd64", "arm64"]}


def workloads(path: Path, text: str) -> list[Workload]:
    out = []
    for doc in read_all(text):
        for obj in objects(doc) if doc.data is not None else ():
            for tpl in pod_templates(obj):
                out.append(Workload(obj.kind, obj.name, obj.namespace, path.name, obj.line, [], tpl.spec,
                                    doc.index, (*obj.path, *tpl.path)))  # fmt: skip
    return out


def spec_at(text: str, wl: Workload) -> dict:  # type: ignore[type-arg]
    node = read_all(text)[[d.index for d in read_all(text)].index(wl.doc_index)].data
    for s in wl.spec_path:
        node = node[s]
    return node  # type: ignore[no-any-return]


CASES = [(f, w, p) for f in FILES for w in EXPECT for p in ("default", "tainted")]


@pytest.mark.parametrize(("fname", "want", "prof"), CASES, ids=[f"{f}-{w}-{p}" for f, w, p in CASES])
def test_edits_make_every_workload_land_where_asked(fname: str, want: str, prof: str) -> None:
    profile = DEFAULT if prof == "default" else TAINTED
    assert profile is not None
    path = K8S / fname
    text = path.read_text(encoding="utf-8")
    wls = workloads(path, text)
    assert wls
    for wl in wls:
        patch, edits = placement_edits(wl, text, want, profile)
        # A selector on a label only some pools have (the inference chart's hardware-type) limits
        # where the pod lands whatever the arch requirement says.
        pinned = "hardware-type" in json.dumps(wl.pod_spec.get("nodeSelector", {}))
        if pinned and want == "amd64":
            continue
        if not edits:
            assert patch is None, f"{wl.id}: a patch without edits"
            assert pinned or landing_arches(wl.pod_spec, profile) == EXPECT[want] or want == "multi-arch"
            continue
        # Composing only the workload's document (what the scanner does) gives the same edits.
        remember_documents(text, {d.index: (d.start_line, d.end_line) for d in read_all(text)})
        assert placement_edits(wl, text, want, profile) == (patch, edits)
        _RANGES.clear()
        new, applied = apply_edits(text, edits)
        assert applied == len(edits), f"{wl.id}: overlapping edits"
        if fname.endswith(".json"):
            json.loads(new)
        spec = spec_at(new, wl)
        if not pinned:
            assert landing_arches(spec, profile) == EXPECT[want], f"{wl.id}\n{new}"
        if want == "multi-arch":
            assert prefers_arch(spec, "arm64")
        assert plan(spec, want, profile) == [], f"{wl.id}: not idempotent"
        # The patch describes the same change: applying it to the old spec gives the new one.
        merged = dict(wl.pod_spec)
        inner = patch
        for s in [s for s in wl.spec_path if not isinstance(s, int) and s != "items"]:
            inner = inner[s]  # type: ignore[index]
        for k, v in inner.items():  # type: ignore[union-attr]
            if v is None:
                merged.pop(k, None)
            elif k == "nodeSelector" and isinstance(merged.get(k), dict):
                merged[k] = {**merged[k], **v}
                merged[k] = {a: b for a, b in merged[k].items() if b is not None}
            else:
                merged[k] = v
        assert merged == spec
        # Nothing else changed: every removed line was an arch selector line.
        removed = [ln for ln in difflib.ndiff(text.splitlines(), new.splitlines()) if ln.startswith("- ")]
        new_lines = set(new.splitlines())
        for ln in removed:
            # JSON: a closing bracket gains the comma that separates the new member.
            assert any(w in ln for w in ("arch", "amd64", "arm64", "nodeSelector")) or ln[2:] + "," in new_lines, ln


def test_multi_document_edits_touch_only_their_document() -> None:
    text = (K8S / "deployments.yaml").read_text(encoding="utf-8")
    wls = workloads(K8S / "deployments.yaml", text)
    checkout = next(w for w in wls if w.name == "checkout")
    _, edits = placement_edits(checkout, text, "amd64", DEFAULT)  # type: ignore[arg-type]
    [e] = edits
    first, last = read_all(text)[0].start_line, read_all(text)[0].end_line
    assert first <= e.start_line <= last + 1
    assert e.content == "      nodeSelector:\n        kubernetes.io/arch: amd64\n"


def test_json_stays_json_with_the_files_indentation() -> None:
    text = (K8S / "manifest.json").read_text(encoding="utf-8")
    [wl] = workloads(K8S / "manifest.json", text)
    _, edits = placement_edits(wl, text, "arm64", TAINTED)
    new, _ = apply_edits(text, edits)
    data = json.loads(new)
    spec = data["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"kubernetes.io/arch": "arm64"}
    assert {t["key"] for t in spec["tolerations"]} == {"hardware-type", "arch"}
    assert '\n        "nodeSelector": {\n          "kubernetes.io/arch": "arm64"\n        }' in new


def test_flow_style_mappings_get_flow_entries() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec: {nodeSelector: {disktype: ssd}, containers: [{name: a, image: x}]}\n"
    )
    [wl] = workloads(Path("p.yaml"), text)
    _, edits = placement_edits(wl, text, "amd64", DEFAULT)  # type: ignore[arg-type]
    new, _ = apply_edits(text, edits)
    assert (
        new.splitlines()[3]
        == "spec: {nodeSelector: {disktype: ssd, kubernetes.io/arch: amd64}, containers: [{name: a, image: x}]}"
    )


def test_file_without_trailing_newline() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: x"
    [wl] = workloads(Path("p.yaml"), text)
    _, edits = placement_edits(wl, text, "multi-arch", TAINTED)
    new, _ = apply_edits(text, edits)
    spec = read_all(new)[0].data["spec"]
    assert landing_arches(spec, TAINTED) == ["amd64", "arm64"]
    assert new.startswith(text + "\n")


def test_quoted_values_keep_their_quotes() -> None:
    text = (
        "kind: Pod\napiVersion: v1\nspec:\n  nodeSelector:\n    \"kubernetes.io/arch\": 'amd64'\n"
        "  containers:\n  - {name: a, image: x}\n"
    )
    [wl] = workloads(Path("p.yaml"), text)
    _, edits = placement_edits(wl, text, "arm64", DEFAULT)  # type: ignore[arg-type]
    new, _ = apply_edits(text, edits)
    assert "    \"kubernetes.io/arch\": 'arm64'\n" in new


def test_unparseable_text_gives_the_patch_but_no_edits() -> None:
    text = (K8S / "cronjob.yaml").read_text(encoding="utf-8")
    [wl] = workloads(K8S / "cronjob.yaml", text)
    patch, edits = placement_edits(wl, text + "\n  bad: [\n", "amd64", DEFAULT)  # type: ignore[arg-type]
    assert patch == {
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {"nodeSelector": {"kubernetes.io/arch": "amd64"}}}}}}
    }
    assert edits == []


def test_beta_label_rename_edit_is_exact() -> None:
    from archlint.k8s.edits import beta_label_ops

    text = (K8S / "list.yaml").read_text(encoding="utf-8")
    wl = workloads(K8S / "list.yaml", text)[0]
    [(_path, op)] = beta_label_ops(wl.pod_spec)
    [e] = ops_to_edits(text, wl.doc_index, wl.spec_path, [op], "list.yaml")
    line = text.splitlines()[e.start_line - 1]
    assert line[e.start_column - 1 : e.end_column - 1] == "beta.kubernetes.io/arch"
    assert e == Edit("list.yaml", e.start_line, e.start_column, e.start_line, e.end_column, "kubernetes.io/arch")


def test_beta_os_and_arch_labels_everywhere() -> None:
    from archlint.k8s.edits import beta_label_ops

    text = """apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  nodeSelector:
    beta.kubernetes.io/os: linux
    kubernetes.io/os: linux
  affinity:
    nodeAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 10
        preference:
          matchExpressions:
          - {key: "beta.kubernetes.io/arch", operator: In, values: [arm64]}
  containers: [{name: a, image: x}]
"""
    [wl] = workloads(Path("p.yaml"), text)
    ops = [op for _, op in beta_label_ops(wl.pod_spec)]
    assert [op.kind for op in ops] == ["delete", "set"]  # the GA os key is already there: drop the beta one
    new, n = apply_edits(text, ops_to_edits(text, 0, wl.spec_path, ops, "p.yaml"))
    assert n == 2
    spec = read_all(new)[0].data["spec"]
    assert spec["nodeSelector"] == {"kubernetes.io/os": "linux"}
    pref = spec["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert pref["preference"]["matchExpressions"][0]["key"] == "kubernetes.io/arch"
    assert '{key: "kubernetes.io/arch", operator: In, values: [arm64]}' in new  # quotes kept


def test_windows_line_endings_are_kept() -> None:
    text = (K8S / "cronjob.yaml").read_text(encoding="utf-8").replace("\n", "\r\n")
    [wl] = workloads(K8S / "cronjob.yaml", text)
    _, edits = placement_edits(wl, text, "multi-arch", TAINTED)
    new, _ = apply_edits(text, edits)
    assert "\n" not in new.replace("\r\n", "")
    spec = spec_at(new, wl)
    assert landing_arches(spec, TAINTED) == ["amd64", "arm64"]
