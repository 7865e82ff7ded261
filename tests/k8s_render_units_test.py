"""The pieces of k8s/render: the bounded parallel runner, the source map, which kustomizations
are rendered, which files belong to a chart, and rows made unique by their source."""

from __future__ import annotations

import shutil
import sys
import threading
from pathlib import Path

import pytest

from archlint.facts import Workload
from archlint.k8s.render import kustomize, runner
from archlint.k8s.render.charts import chart_of, top_chart
from archlint.k8s.render.helm import components, load_chart
from archlint.k8s.render.sourcemap import HelmSources, TemplateLines, template_file
from archlint.scanners.kubernetes import distinguish
from tests.conftest import FIXTURES

PLATFORM = FIXTURES / "k8s" / "platform"
CHART = PLATFORM / "deploy/helm/shop"


def _py(code: str) -> runner.Command:
    return runner.Command((sys.executable, "-c", code))


@pytest.mark.skipif(runner.workers() < 2, reason="needs two CPUs to run two renders at once")
def test_renders_run_at_the_same_time(tmp_path: Path) -> None:
    """Each command waits for the other's file: run one after another, the first would time out."""
    a, b = tmp_path / "a", tmp_path / "b"
    wait = "import pathlib, sys, time\nmine, other = map(pathlib.Path, sys.argv[1:])\nmine.touch()\n" \
           "while not other.exists(): time.sleep(0.01)\nprint('done')"  # fmt: skip
    cmds = [runner.Command((sys.executable, "-c", wait, str(a), str(b))),
            runner.Command((sys.executable, "-c", wait, str(b), str(a)))]  # fmt: skip
    out = runner.run_all(cmds, timeout=60)
    assert [(o.ok, o.stdout.strip()) for o in out] == [(True, "done"), (True, "done")]
    assert threading.active_count() == 1  # the pool's threads are gone: a fork pool may start next


def test_a_slow_render_times_out_and_a_failing_one_says_why() -> None:
    out = runner.run_all([_py("import time; time.sleep(30)"),
                          _py("import sys; sys.stderr.write('Error: no chart here\\nUse --debug\\n'); sys.exit(1)"),
                          runner.Command(("/nonexistent/helm", "template"))], timeout=0.5)  # fmt: skip
    assert not out[0].ok and "did not finish within" in out[0].error
    assert not out[1].ok and out[1].error == "Error: no chart here"
    assert not out[2].ok and out[2].error.startswith("cannot run helm")


def test_all_renders_share_one_deadline() -> None:
    out = runner.run_all([_py("import time; time.sleep(0.3)")] * 4 + [_py("print(1)")], timeout=10, total=0.0)
    assert all(not o.ok and "ran out of time" in o.error for o in out)


def test_helm_sources_and_template_lines() -> None:
    text = "---\n# Source: shop/templates/a.yaml\napiVersion: v1\nkind: Service\n---\n# Source: shop/charts/r/templates/b.yaml\nkind: Pod\n"  # noqa: E501
    src = HelmSources.of(text)
    assert src.at(4) == "shop/templates/a.yaml" and src.at(7) == "shop/charts/r/templates/b.yaml" and src.at(1) is None
    assert template_file(CHART, "shop", "shop/templates/worker.yaml") == CHART / "templates/worker.yaml"
    assert template_file(CHART, "shop", "shop/charts/redis/templates/statefulset.yaml") is not None
    assert template_file(CHART, "shop", "other/templates/worker.yaml") is None
    assert template_file(CHART, "shop", "shop/../../../etc/passwd") is None
    lines = TemplateLines((CHART / "templates/deployment.yaml").read_text())
    anchor = lines.anchor("Deployment", 0)
    raw = lines.lines
    assert raw[anchor].strip() == "kind: Deployment"
    # Keys in order from the object's kind: line; a key templating hides gives its nearest parent.
    line, col = lines.locate(anchor, ("spec", "template", "spec", "containers", 0, "image"))
    assert raw[line - 1].strip().startswith("image:") and col == raw[line - 1].index("image") + 1
    line, _ = lines.locate(anchor, ("spec", "template", "spec", "nodeSelector", "kubernetes.io/arch"))
    assert raw[line - 1].strip() == "nodeSelector:"
    assert lines.locate(anchor, ("spec", "nope"))[0] == raw.index("spec:") + 1


def test_kustomize_plan_renders_overlays_only(tmp_path: Path) -> None:
    root = tmp_path / "k"
    shutil.copytree(PLATFORM / "deploy/kustomize", root)
    files = sorted(root.rglob("kustomization.yaml"))
    plan = kustomize.plan(files)
    assert sorted(p.parent.name for p, _ in plan.render) == ["prod", "staging"]
    assert plan.partial == set()  # prod includes the Component: its patch is covered there
    prod = next(c for p, c in plan.render if p.parent.name == "prod")
    assert (root / "components/graviton/graviton.yaml").resolve() in prod.patches
    assert kustomize.is_component(root / "components/graviton/kustomization.yaml")
    # A Component nothing includes is neither rendered nor checked on its own.
    alone = kustomize.plan([root / "components/graviton/kustomization.yaml"])
    assert alone.render == [] and alone.partial == {(root / "components/graviton/graviton.yaml").resolve()}


def test_chart_files_are_classified_by_their_chart() -> None:
    assert chart_of(CHART / "Chart.yaml") == CHART
    assert chart_of(CHART / "values-prod.yaml") == CHART
    assert chart_of(CHART / "templates/tests/test-connection.yaml") == CHART
    sub = CHART / "charts/redis"
    assert chart_of(sub / "templates/statefulset.yaml") == sub and top_chart(sub) == CHART
    assert chart_of(PLATFORM / "workflows/train-pipeline.yaml") is None
    assert chart_of(PLATFORM / "deploy/kustomize/base/cart.yaml") is None


def test_values_components_merge_release_values(tmp_path: Path) -> None:
    chart = load_chart(CHART)
    base = {c.name: c for c in components(chart)}
    assert sorted(base) == ["redis", "services.cart", "services.frontend", "worker"]
    assert [r for r, _ in base["services.frontend"].images] == ["registry.example.com/shop/frontend:1.6.0"]
    assert base["worker"].scheduling == {} and base["worker"].scope == ("worker",)
    assert base["services.cart"].scope == ()  # no scheduling keys next to it: the top level's apply
    prod = {c.name: c for c in components(chart, (CHART / "values-prod.yaml",))}
    value, spot = prod["worker"].scheduling["nodeSelector"]
    assert value == {"kubernetes.io/arch": "arm64"} and spot.file == CHART / "values-prod.yaml"
    assert prod["services.cart"].scheduling["nodeSelector"][0] == {"kubernetes.io/arch": "arm64"}
    # The shapes of the big chart collections: registry/repository/tag/digest, `image: repo:tag`,
    # `*Image` keys, entries under an `images` map; templated values are not guessed at.
    d = tmp_path / "c"
    d.mkdir()
    (d / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\nappVersion: 2.0.0\n")
    (d / "values.yaml").write_text(
        "global: {imageRegistry: mirror.example.com}\n"
        "api: {image: {repository: acme/api, digest: 'sha256:abc'}}\n"
        "web: {image: 'nginx:1.27'}\n"
        "initImage: busybox\n"
        "images: {sidecar: {repository: envoyproxy/envoy, tag: v1.30.1}, pullPolicy: Always}\n"
        "tpl: {image: '{{ .Values.x }}'}\n"
        "other: {imagePullPolicy: IfNotPresent}\n"
    )
    got = {c.name: [r for r, _ in c.images] for c in components(load_chart(d))}
    assert got == {"api": ["mirror.example.com/acme/api@sha256:abc"], "web": ["nginx:1.27"], "initImage": ["busybox"],
                   "images.sidecar": ["mirror.example.com/envoyproxy/envoy:v1.30.1"]}  # fmt: skip


def _wl(kind: str, name: str, source: str, line: int) -> Workload:
    return Workload(kind=kind, name=name, namespace="ns", path=source, line=line, images=[], pod_spec={},
                    source=source)  # fmt: skip


def test_rows_sharing_id_and_source_get_their_line() -> None:
    a, b, c = _wl("Deployment", "api", "k8s/api.yaml", 3), _wl("Deployment", "api", "k8s/api.yaml", 30), \
        _wl("Deployment", "web", "k8s/api.yaml", 60)  # fmt: skip
    d, e = _wl("Pod", "p", "x.yaml", 5), _wl("Pod", "p", "x.yaml", 5)
    distinguish([a, b, c, d, e])
    assert (a.source, b.source, c.source) == ("k8s/api.yaml:3", "k8s/api.yaml:30", "k8s/api.yaml")
    assert (d.source, e.source) == ("x.yaml:5 #1", "x.yaml:5 #2")
