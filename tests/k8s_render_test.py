"""Helm charts and kustomize overlays end to end, on a repository shaped like a real platform
repository (fixtures/k8s/platform), with the real `helm template` and `kubectl kustomize` as the
oracle for what archlint extracts from each render."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import FIXTURES, CliResult, validate_report

PLATFORM = FIXTURES / "k8s" / "platform"
CHART = "deploy/helm/shop"
Cli = Callable[..., CliResult]

needs_helm = pytest.mark.skipif(shutil.which("helm") is None, reason="helm not on PATH (.ci/run installs it from npm)")
needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) not on PATH")

# The blockers of the "broken" variant: images the team's registry says are x86-only.
X86 = ("registry.example.com/shop/cart", "registry.example.com/shop/order-worker", "registry.example.com/ml/trainer")


def repo(tmp_path: Path, x86: tuple[str, ...] = ()) -> Path:
    root = tmp_path / "platform"
    shutil.copytree(PLATFORM, root)
    cfg = root / "archlint.toml"
    text = cfg.read_text(encoding="utf-8")
    for image in x86:
        text = text.replace(f'"{image}" = "multi-arch"', f'"{image}" = "amd64"')
    cfg.write_text(text, encoding="utf-8")
    return root


def check(cli: Cli, root: Path, *args: str, under: str = "") -> tuple[int, dict[str, Any]]:
    """`archlint check` of the repository (or of the directory `under` it) with its config."""
    target = root / under if under else root
    res = cli(["check", str(target), *args, "--format", "json", "--offline", "--config", str(root / "archlint.toml")])
    assert res.rc in (0, 1), res.err
    return res.rc, res.json()


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    hits = [i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line]
    return hits[nth - 1]


def rows(report: dict[str, Any], source: str) -> dict[str, dict[str, Any]]:
    return {w["id"]: w for w in report["workloads"] if w["source"] == source}


def by_rule(report: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule"] == rule]


# ---------------------------------------------------------------- the oracle

TEMPLATE_SPEC = ("spec", "template", "spec")
POD_SPEC = {"Deployment": TEMPLATE_SPEC, "StatefulSet": TEMPLATE_SPEC, "DaemonSet": TEMPLATE_SPEC, "Job": TEMPLATE_SPEC,
            "Pod": ("spec",)}  # fmt: skip


def oracle(argv: list[str], cwd: Path, namespace: str = "default") -> dict[str, dict[str, Any]]:
    """The workloads of the real tool's output, read with PyYAML: id -> images and scheduling."""
    out = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=True, timeout=120).stdout
    found = {}
    for obj in yaml.safe_load_all(out):
        if not isinstance(obj, dict) or obj.get("kind") not in POD_SPEC:
            continue
        spec = obj
        for step in POD_SPEC[obj["kind"]]:
            spec = spec[step]
        meta = obj["metadata"]
        wid = f"{obj['kind']}/{meta.get('namespace') or namespace}/{meta['name']}"
        found[wid] = {
            "images": [c["image"] for c in spec["containers"]],
            "scheduling": {k: spec[k] for k in ("nodeSelector", "tolerations", "affinity") if k in spec},
        }
    return found


def extracted(row: dict[str, Any]) -> dict[str, Any]:
    return {"images": [i["ref"] for i in row["images"]]}


# ---------------------------------------------------------------- the clean repository


@needs_helm
@needs_kubectl
def test_clean_repository_exits_0_and_every_row_is_distinguishable(cli: Cli, tmp_path: Path) -> None:
    root = repo(tmp_path)
    rc, rep = check(cli, root)
    assert rc == 0, [f["message"] for f in rep["findings"] if f["severity"] == "error"]
    # Templates are never parsed as YAML, a Component is never rendered on its own.
    assert not by_rule(rep, "ARCH002") and not by_rule(rep, "ARCH213")
    # The one warning: a GPU label the built-in profile cannot know.
    assert [(f["rule"], f["severity"]) for f in rep["findings"]] == [("ARCH216", "warning")]
    keys = [(w["id"], w["source"]) for w in rep["workloads"]]
    assert len(keys) == len(set(keys)) == 27
    # The same base through two overlays, the same chart through two releases: one row each.
    assert {s for i, s in keys if i == "Deployment/shop/cart"} == {"deploy/kustomize/overlays/prod",
                                                                   "deploy/kustomize/overlays/staging"}  # fmt: skip
    prod_release = f"{CHART} (namespace shop-prod, values-prod.yaml)"
    assert {s for i, s in keys if i.endswith("/shop-worker")} == {CHART, prod_release}
    # ... and so in the text table: id and source side by side, every pair once.
    text = cli(["check", str(root), "--offline", "--config", str(root / "archlint.toml")]).out
    rows = [ln for ln in text[text.index("Placement") :].splitlines() if ln.startswith("  ") and "→" in ln]
    assert len(rows) == 27
    for ident, source in keys:  # each id + source pair is on exactly one row
        assert sum(1 for r in rows if r.split()[0] == ident and f" {source} " in r) == 1, (ident, source)
    # ... and in the fleet report merged from it.
    report = tmp_path / "platform.json"
    report.write_text(json.dumps(rep), encoding="utf-8")
    merged = cli(["report", "merge", str(report), "--format", "json"])
    assert merged.rc == 0, merged.err
    fleet_rows = [(w["id"], w["source"]) for w in json.loads(merged.out)["workloads"]]
    assert sorted(fleet_rows) == sorted(keys)
    md = cli(["report", "merge", str(report), "--format", "markdown"]).out
    assert md  # rendered without error (the clean repository keeps nothing on amd64)


@needs_helm
def test_helm_renders_match_helm_template(cli: Cli, tmp_path: Path) -> None:
    root = repo(tmp_path)
    _, rep = check(cli, root)
    for source, argv, ns in [
        (CHART, ["helm", "template", "shop", CHART, "--skip-tests"], "default"),
        (f"{CHART} (namespace shop-prod, values-prod.yaml)",
         ["helm", "template", "shop", CHART, "--skip-tests", "--namespace", "shop-prod", "-f",
          f"{CHART}/values-prod.yaml"], "shop-prod"),
    ]:  # fmt: skip
        want = oracle(argv, root, ns)
        got = rows(rep, source)
        assert set(got) == set(want) == {f"Deployment/{ns}/shop-frontend", f"Deployment/{ns}/shop-cart",
                                         f"Deployment/{ns}/shop-worker", f"StatefulSet/{ns}/shop-redis"}  # fmt: skip
        for wid, w in want.items():
            assert extracted(got[wid])["images"] == w["images"], wid
            arm_only = w["scheduling"].get("nodeSelector", {}).get("kubernetes.io/arch") == "arm64"
            assert got[wid]["placement"]["current"] == (["arm64"] if arm_only else ["amd64", "arm64"]), wid
    # Every row points at its template (subchart templates included), at the `kind:` line.
    prod = rows(rep, CHART)
    tpl = root / CHART / "templates"
    assert prod["Deployment/default/shop-worker"]["path"] == f"{CHART}/templates/worker.yaml"
    assert prod["Deployment/default/shop-worker"]["line"] == line_of(tpl / "worker.yaml", "kind: Deployment")
    assert prod["Deployment/default/shop-cart"]["path"] == f"{CHART}/templates/deployment.yaml"
    redis = prod["StatefulSet/default/shop-redis"]
    assert redis["path"] == f"{CHART}/charts/redis/templates/statefulset.yaml"
    assert redis["line"] == line_of(root / redis["path"], "kind: StatefulSet")
    # The test hook (run only by `helm test`) is not a workload of the release.
    assert not [w for w in rep["workloads"] if "test-connection" in w["id"]]


@needs_kubectl
def test_kustomize_overlays_match_kubectl_kustomize(cli: Cli, tmp_path: Path) -> None:
    root = repo(tmp_path)
    _, rep = check(cli, root, under="deploy/kustomize")
    assert not by_rule(rep, "ARCH213")
    # Only the overlays are rendered: the base they include and the Component they use are not.
    assert {w["source"] for w in rep["workloads"]} == {"deploy/kustomize/overlays/prod",
                                                       "deploy/kustomize/overlays/staging"}  # fmt: skip
    for overlay in ("prod", "staging"):
        want = oracle(["kubectl", "kustomize", f"deploy/kustomize/overlays/{overlay}"], root)
        got = rows(rep, f"deploy/kustomize/overlays/{overlay}")
        assert set(got) == set(want) == {"Deployment/shop/frontend", "Deployment/shop/cart"}
        for wid, w in want.items():
            assert extracted(got[wid])["images"] == w["images"], (overlay, wid)
            arm_only = w["scheduling"].get("nodeSelector", {}).get("kubernetes.io/arch") == "arm64"
            assert got[wid]["placement"]["current"] == (["arm64"] if arm_only else ["amd64", "arm64"])
            # Rows point at the base resource that holds the object.
            base = "cart" if wid.endswith("cart") else "frontend"
            assert got[wid]["path"] == f"deploy/kustomize/base/{base}.yaml"
            assert got[wid]["line"] == line_of(root / got[wid]["path"], "kind: Deployment")


@needs_kubectl
def test_a_component_alone_is_not_rendered_and_a_base_alone_is(cli: Cli, tmp_path: Path) -> None:
    root = repo(tmp_path)
    _, comp = check(cli, root, under="deploy/kustomize/components")
    assert comp["findings"] == [] and comp["workloads"] == []  # its patch is a partial object
    # A base nothing in the scan includes is what gets rendered: its own workloads, once.
    _, base = check(cli, root, under="deploy/kustomize/base")
    assert sorted((w["id"], w["source"]) for w in base["workloads"]) == [
        ("Deployment/shop/cart", "deploy/kustomize/base"),
        ("Deployment/shop/frontend", "deploy/kustomize/base"),
    ]


# ---------------------------------------------------------------- real blockers


@needs_helm
@needs_kubectl
def test_blockers_are_reported_at_their_lines_with_fixes(cli: Cli, tmp_path: Path) -> None:
    root = repo(tmp_path, X86)
    rc, rep = check(cli, root)
    assert rc == 1
    errors = {(f["workload"], f["path"], f["message"].split(" can be")[0]): f for f in by_rule(rep, "ARCH201")}
    tpl = root / CHART / "templates"
    # Helm: at the template's image line; the fix says where (values or template) and the patch is in the report.
    for ns, src in (("default", CHART), ("shop-prod", f"{CHART} (namespace shop-prod, values-prod.yaml)")):
        f = errors[(f"Deployment/{ns}/shop-worker", f"{CHART}/templates/worker.yaml",
                    f"Deployment/{ns}/shop-worker from {src}")]  # fmt: skip
        assert f["line"] == line_of(tpl / "worker.yaml", "image:")
        assert f["fix"]["applicability"] == "manual" and "chart's values" in f["fix"]["description"]
        cart = errors[(f"Deployment/{ns}/shop-cart", f"{CHART}/templates/deployment.yaml",
                       f"Deployment/{ns}/shop-cart from {src}")]  # fmt: skip
        assert cart["line"] == line_of(tpl / "deployment.yaml", "image:")
        wl = next(w for w in rep["workloads"] if w["id"] == f"Deployment/{ns}/shop-worker" and w["source"] == src)
        assert wl["placement"]["recommendation"] == "amd64"
        assert wl["placement"]["patch"]["spec"]["template"]["spec"]["nodeSelector"] == {"kubernetes.io/arch": "amd64"}
    # kustomize: at the base's image line, once per overlay; staging's fix edits the base (it
    # renders the base's placement), prod's is manual (its Component sets the placement).
    cart_base = root / "deploy/kustomize/base/cart.yaml"
    staging = errors[("Deployment/shop/cart", "deploy/kustomize/base/cart.yaml",
                      "Deployment/shop/cart from deploy/kustomize/overlays/staging")]  # fmt: skip
    prod = errors[("Deployment/shop/cart", "deploy/kustomize/base/cart.yaml",
                   "Deployment/shop/cart from deploy/kustomize/overlays/prod")]  # fmt: skip
    assert staging["line"] == prod["line"] == line_of(cart_base, "image:")
    assert staging["fix"]["applicability"] == "safe"
    assert prod["fix"]["applicability"] == "manual" and "overlays/prod" in prod["fix"]["description"]
    # Argo: at the template's image line; the fix goes into the template.
    wf = root / "workflows/train-pipeline.yaml"
    train = errors[("Workflow/ml/train-pipeline-[train]", "workflows/train-pipeline.yaml",
                    "Workflow/ml/train-pipeline-[train]")]  # fmt: skip
    assert train["line"] == line_of(wf, "image: registry.example.com/ml/trainer")
    assert train["fix"]["applicability"] == "safe"
    cron = errors[("CronWorkflow/ml/nightly-retrain[retrain]", "workflows/nightly-retrain.yaml",
                   "CronWorkflow/ml/nightly-retrain[retrain]")]  # fmt: skip
    assert cron["fix"]["applicability"] == "safe"
    assert len(errors) == 8
    # --fix writes the safe ones; what is left is what needs a human (chart values, the prod overlay).
    cli(["check", str(root), "--fix", "--offline", "--config", str(root / "archlint.toml")])
    assert "kubernetes.io/arch: amd64" in cart_base.read_text()
    after_wf = yaml.safe_load(wf.read_text())
    train_tpl = next(t for t in after_wf["spec"]["templates"] if t["name"] == "train")
    # Argo replaces the workflow's selector with the template's: the GPU label stays next to it.
    assert train_tpl["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4", "kubernetes.io/arch": "amd64"}
    _, after = check(cli, root)
    left = sorted((f["path"], f["fix"]["applicability"]) for f in by_rule(after, "ARCH201"))
    assert left == [("deploy/helm/shop/templates/deployment.yaml", "manual")] * 2 + [
        ("deploy/helm/shop/templates/worker.yaml", "manual")
    ] * 2 + [("deploy/kustomize/base/cart.yaml", "manual")]


# ---------------------------------------------------------------- without helm


def _no_helm_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH with kubectl (when there is one) but no helm."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = shutil.which("kubectl")
    if kubectl:
        os.symlink(kubectl, bin_dir / "kubectl")
    monkeypatch.setenv("PATH", str(bin_dir))


def test_without_helm_one_info_per_release_and_images_from_values(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path, X86)
    _no_helm_path(tmp_path, monkeypatch)
    _, rep = check(cli, root, under="deploy/helm")
    assert not by_rule(rep, "ARCH002")
    infos = by_rule(rep, "ARCH214")
    assert [f["severity"] for f in infos] == ["info", "info"]
    assert all(f["path"] == f"{CHART}/Chart.yaml" and "helm is not on PATH" in f["message"] for f in infos)
    assert any(f"`helm template shop {CHART} | archlint check -`" in f["message"] for f in infos)
    assert any(f"--namespace shop-prod -f {CHART}/values-prod.yaml | archlint check -`" in f["message"] for f in infos)
    values = root / CHART / "values.yaml"
    got = {(w["id"], w["source"]): w for w in rep["workloads"]}
    default = f"{CHART} (not rendered)"
    prod = f"{CHART} (namespace shop-prod, values-prod.yaml; not rendered)"
    assert {i for i, _ in got} == {f"HelmChart/{ns}/shop[{c}]" for ns in ("default", "shop-prod")
                                   for c in ("services.frontend", "services.cart", "worker", "redis")}  # fmt: skip
    worker = got[("HelmChart/default/shop[worker]", default)]
    assert [i["ref"] for i in worker["images"]] == ["registry.example.com/shop/order-worker:1.6.0"]  # appVersion
    assert worker["path"] == f"{CHART}/values.yaml" and worker["line"] == line_of(values, "image:", 3)
    redis = got[("HelmChart/default/shop[redis]", default)]
    assert [i["ref"] for i in redis["images"]] == ["docker.io/library/redis:7.2.5-alpine"]
    assert redis["path"] == f"{CHART}/charts/redis/values.yaml"
    # The release's values files count: prod's worker is on arm64 only.
    assert got[("HelmChart/shop-prod/shop[worker]", prod)]["placement"]["current"] == ["arm64"]
    assert worker["placement"]["current"] == ["amd64", "arm64"]
    # An x86-only image that the values let onto arm64 is reported at its values line; the patch
    # is a values override for that component.
    f = next(f for f in by_rule(rep, "ARCH201") if f["workload"] == "HelmChart/default/shop[worker]")
    assert f["path"] == f"{CHART}/values.yaml" and f["line"] == worker["line"]
    assert f["fix"]["applicability"] == "manual" and "values under worker" in f["fix"]["description"]
    assert worker["placement"]["patch"] == {"worker": {"nodeSelector": {"kubernetes.io/arch": "amd64"}}}


def test_missing_dependency_is_reported_not_fetched(cli: Cli, tmp_path: Path) -> None:
    root = repo(tmp_path)
    shutil.rmtree(root / CHART / "charts" / "redis")
    (root / "archlint.toml").write_text((root / "archlint.toml").read_text().split("[[helm.releases]]")[0])
    _, rep = check(cli, root, under=CHART)
    [f] = by_rule(rep, "ARCH214")
    assert "dependencies redis are not in deploy/helm/shop/charts/" in f["message"]
    assert "helm dependency build deploy/helm/shop" in f["message"]
    assert not by_rule(rep, "ARCH215") and not by_rule(rep, "ARCH002")
    assert {w["id"] for w in rep["workloads"]} == {"HelmChart/default/shop[services.frontend]",
                                                   "HelmChart/default/shop[services.cart]",
                                                   "HelmChart/default/shop[worker]"}  # fmt: skip


def test_a_packaged_dependency_counts_as_vendored(tmp_path: Path) -> None:
    from archlint.k8s.render.helm import load_chart

    root = repo(tmp_path)
    chart = load_chart(root / CHART)
    assert chart.name == "shop" and [d.name for d in chart.dependencies] == ["redis"]
    assert chart.missing_dependencies() == []
    shutil.rmtree(root / CHART / "charts" / "redis")
    assert [d.name for d in chart.missing_dependencies()] == ["redis"]
    (root / CHART / "charts" / "redis-0.2.0.tgz").write_bytes(b"")  # `helm dependency build` output
    assert chart.missing_dependencies() == []


@needs_helm
def test_a_chart_helm_cannot_render_is_a_warning(cli: Cli, tmp_path: Path) -> None:
    root = repo(tmp_path)
    tpl = root / CHART / "templates" / "worker.yaml"
    tpl.write_text(
        tpl.read_text().replace(
            ".Values.worker.image.pullPolicy",
            'required "worker.image.pullSecret is required" .Values.worker.image.pullSecret',
        )
    )
    (root / "archlint.toml").write_text((root / "archlint.toml").read_text().split("[[helm.releases]]")[0])
    _, rep = check(cli, root, under="deploy/helm")
    [f] = by_rule(rep, "ARCH215")
    assert f["severity"] == "warning" and f["path"] == f"{CHART}/Chart.yaml"
    assert "worker.image.pullSecret is required" in f["message"]


@needs_helm
def test_template_files_named_on_the_command_line_render_their_chart(cli: Cli, tmp_path: Path) -> None:
    """What the pre-commit hook passes: changed files by name, templates among them."""
    root = repo(tmp_path)
    tpl = f"{CHART}/templates"
    res = cli(["check", "--force-exclude", "--format", "json", "--offline", f"{tpl}/deployment.yaml",
               f"{tpl}/_helpers.tpl", f"{tpl}/NOTES.txt", f"{tpl}/tests/test-connection.yaml",
               f"{CHART}/charts/redis/templates/statefulset.yaml"], cwd=root)  # fmt: skip
    assert res.rc == 0, res.out + res.err
    rep = res.json()
    assert not by_rule(rep, "ARCH002")
    assert {w["source"] for w in rep["workloads"]} == {CHART, f"{CHART} (namespace shop-prod, values-prod.yaml)"}


@pytest.mark.parametrize(
    ("helm_cfg", "needle"),
    [
        ('[[helm.releases]]\nchart = "deploy/helm/nope"\n', "helm.releases[0].chart: deploy/helm/nope is not a chart"),
        ('[[helm.releases]]\nchart = "deploy/helm/shop"\nvalues = ["missing.yaml"]\n',
         "helm.releases[0].values: no such values file missing.yaml"),
        ('[[helm.releases]]\nchart = "deploy/helm/shop"\nrelease = "x"\n', "helm.releases[0].release: unknown"),
        ("[helm]\nrelease = 1\n", "helm.release: unknown configuration key"),
        ('helm = "x"\n', "helm: expected a table"),
    ],
)  # fmt: skip
def test_bad_helm_config_exits_2_naming_the_key(cli: Cli, tmp_path: Path, helm_cfg: str, needle: str) -> None:
    root = repo(tmp_path)
    (root / "archlint.toml").write_text(helm_cfg)
    res = cli(["check", str(root), "--offline", "--config", str(root / "archlint.toml")])
    assert res.rc == 2 and needle in res.err, res.err


def test_reports_validate_with_sources(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even without helm and kubectl, each row has a source and the report matches the schema."""
    root = repo(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    _, rep = check(cli, root)
    validate_report(rep)
    assert all(w["source"] for w in rep["workloads"])
    keys = [(w["id"], w["source"]) for w in rep["workloads"]]
    assert len(keys) == len(set(keys))


@needs_helm
def test_images_a_chart_renders_are_linked_to_their_build_contexts(cli: Cli, tmp_path: Path) -> None:
    """The renders run before the image prescan: an image that only a template names is linked to
    the Dockerfile in the directory named like it, and its evidence decides the recommendation."""
    root = repo(tmp_path)
    cfg = root / "archlint.toml"
    cfg.write_text(cfg.read_text().replace('"registry.example.com/shop/cart" = "multi-arch"\n', ""))
    shutil.rmtree(root / "deploy/kustomize")  # its manifests name the image too: the chart alone does here
    (root / "src/cart").mkdir(parents=True)
    (root / "src/cart/Dockerfile").write_text(
        "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends intel-mkl\n"
    )
    _, rep = check(cli, root)
    carts = [w for w in rep["workloads"] if w["id"].endswith("/shop-cart")]
    assert len(carts) == 2
    for w in carts:
        assert w["placement"]["recommendation"] == "amd64", w
        assert any("src/cart/Dockerfile:2" in e for e in w["images"][0]["evidence"]), w["images"]
    # The release that can land on arm64 is an error at the template's image line.
    [f] = [f for f in by_rule(rep, "ARCH201") if f["workload"] == "Deployment/default/shop-cart"]
    assert f["path"] == f"{CHART}/templates/deployment.yaml"


@needs_helm
def test_suppressions_in_templates_and_on_rendered_objects(cli: Cli, tmp_path: Path) -> None:
    root = repo(tmp_path, ("registry.example.com/shop/order-worker",))
    (root / "archlint.toml").write_text((root / "archlint.toml").read_text().split("[[helm.releases]]")[0])
    worker = root / CHART / "templates/worker.yaml"
    text = worker.read_text()
    _, before = check(cli, root, under="deploy/helm")
    assert [f["workload"] for f in by_rule(before, "ARCH201")] == ["Deployment/default/shop-worker"]
    # A comment on the template line ...
    worker.write_text(text.replace('.Chart.AppVersion }}"\n', '.Chart.AppVersion }}"  # noqa: ARCH201\n'))
    _, rep = check(cli, root, under="deploy/helm")
    assert by_rule(rep, "ARCH201") == [] and by_rule(rep, "ARCH003") == []
    # ... or the annotation on the object the template renders.
    worker.write_text(text.replace("  labels:\n    {{- include", "  annotations:\n"
                                   '    ignore-check.archlint.io/x86-image-on-arm64-nodes: "batch queue, amd64 only"\n'
                                   "  labels:\n    {{- include", 1))  # fmt: skip
    _, rep = check(cli, root, under="deploy/helm")
    assert by_rule(rep, "ARCH201") == []


def test_a_broken_chart_yaml_is_a_parse_error_with_its_line(cli: Cli, tmp_path: Path) -> None:
    root = repo(tmp_path)
    (root / CHART / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: [0.4.0\n")
    _, rep = check(cli, root, under="deploy/helm")
    [f] = by_rule(rep, "ARCH002")
    assert f["path"] == f"{CHART}/Chart.yaml" and "Chart.yaml:" in f["message"]
    assert rep["workloads"] == [] and not by_rule(rep, "ARCH214")


def test_a_library_chart_renders_nothing_and_says_nothing(cli: Cli, tmp_path: Path) -> None:
    lib = tmp_path / "common"
    (lib / "templates").mkdir(parents=True)
    (lib / "Chart.yaml").write_text("apiVersion: v2\nname: common\ntype: library\nversion: 1.0.0\n")
    (lib / "templates" / "_deployment.yaml").write_text(
        '{{- define "common.deployment" -}}\nkind: Deployment\n{{- end }}\n'
    )
    (tmp_path / "archlint.toml").write_text("")
    res = cli(["check", str(tmp_path), "--offline", "--format", "json", "--config", str(tmp_path / "archlint.toml")])
    assert res.rc == 0 and res.json()["findings"] == [] and res.json()["workloads"] == []
