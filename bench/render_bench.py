"""Benchmark: rendering a repository's kustomize overlays and Helm releases, one after another
versus on the render runner (one render per CPU at once).

    python bench/render_bench.py [--overlays N] [--releases M] [--repeat R]

Generates a base with three Deployments, N overlays of it (namespace, image tag, a nodeSelector
patch, a Component on every other one) and one Helm chart rendered for M releases (values files)
in a temporary directory, and reports the best of R runs of:

- the renders alone, sequentially (`max_workers=1`) and on the runner (default workers);
- `archlint check` of the whole tree (rendering, then checking every rendered workload).

The motivation (issue 14): the 14 `kubectl kustomize` renders of one repository ran one after
another for 3.4 s. Each render is a separate process that mostly waits on its own I/O and Go
start-up, so one per CPU at once divides the wall time by about the CPU count; the CPU seconds
stay the same. Wall time on a shared machine mostly measures the neighbours: CPU seconds and the
load average are printed too. kubectl and helm must be on PATH.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from archlint.k8s.render import helm, kustomize, runner  # noqa: E402
from archlint.main import main as archlint_main  # noqa: E402

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: app
          image: registry.example.com/shop/{name}:1.0.0
"""
OVERLAY = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: team-{i}
resources: [../../base]
{components}images:
  - name: registry.example.com/shop/api
    newTag: 1.{i}.0
patches:
  - path: pool.yaml
    target: {{kind: Deployment}}
"""
PATCH = """apiVersion: apps/v1
kind: Deployment
metadata: {name: any}
spec:
  template:
    spec:
      nodeSelector: {pool: pool-%d}
"""
COMPONENT = """apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - patch: |-
      - op: add
        path: /spec/template/spec/tolerations
        value: [{key: dedicated, operator: Exists, effect: NoSchedule}]
    target: {kind: Deployment}
"""
CHART = """apiVersion: v2
name: web
version: 0.1.0
appVersion: "1.0.0"
"""
TEMPLATE = """{{- range $name := .Values.services }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $.Release.Name }}-{{ $name }}
spec:
  selector: {matchLabels: {app: {{ $name }}}}
  template:
    metadata: {labels: {app: {{ $name }}}}
    spec:
      containers:
        - name: app
          image: "registry.example.com/web/{{ $name }}:{{ $.Values.tag }}"
      {{- with $.Values.nodeSelector }}
      nodeSelector: {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
"""


def build(root: Path, overlays: int, releases: int) -> None:
    k = root / "deploy" / "kustomize"
    (k / "base").mkdir(parents=True)
    names = ["api", "web", "worker"]
    for n in names:
        (k / "base" / f"{n}.yaml").write_text(DEPLOYMENT.format(name=n))
    (k / "base" / "kustomization.yaml").write_text("resources:\n" + "".join(f"  - {n}.yaml\n" for n in names))
    (k / "components" / "tolerate").mkdir(parents=True)
    (k / "components" / "tolerate" / "kustomization.yaml").write_text(COMPONENT)
    for i in range(overlays):
        d = k / "overlays" / f"o{i:02d}"
        d.mkdir(parents=True)
        comps = "components: [../../components/tolerate]\n" if i % 2 else ""
        (d / "kustomization.yaml").write_text(OVERLAY.format(i=i, components=comps))
        (d / "pool.yaml").write_text(PATCH % i)
    chart = root / "deploy" / "helm" / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART)
    (chart / "values.yaml").write_text("services: [front, back]\ntag: 1.0.0\nnodeSelector: {}\n")
    (chart / "templates" / "deployment.yaml").write_text(TEMPLATE)
    cfg = []
    for j in range(releases):
        (chart / f"values-{j}.yaml").write_text(f"tag: 1.{j}.0\nnodeSelector: {{pool: pool-{j}}}\n")
        cfg.append(f'[[helm.releases]]\nchart = "deploy/helm/web"\nvalues = ["deploy/helm/web/values-{j}.yaml"]\n'
                   f'namespace = "env-{j}"\n')  # fmt: skip
    (root / "archlint.toml").write_text("\n".join(cfg))


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(best wall seconds, CPU seconds of that run, children included)."""
    out = (float("inf"), 0.0)
    for _ in range(repeat):
        c, t = _cpu(), time.perf_counter()
        fn()
        wall, cpu = time.perf_counter() - t, _cpu() - c
        out = min(out, (wall, cpu))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--overlays", type=int, default=14)
    ap.add_argument("--releases", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    if not (shutil.which("kubectl") and shutil.which("helm")):
        print("kubectl and helm must be on PATH", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="archlint-render-bench-") as tmp:
        root = Path(tmp)
        build(root, args.overlays, args.releases)
        cmds = [c for c in (kustomize.command(p) for p in sorted((root / "deploy/kustomize/overlays").iterdir()))
                if c is not None]  # fmt: skip
        chart = helm.load_chart(root / "deploy/helm/web")
        for j in range(args.releases):
            rel = helm.Release(chart.directory, (chart.directory / f"values-{j}.yaml",), None, f"env-{j}")
            cmd = helm.command(chart, rel, None)
            assert cmd is not None
            cmds.append(cmd)
        assert all(o.ok for o in runner.run_all(cmds)), "a render failed"
        rows = [
            ("renders, one after another", best(lambda: runner.run_all(cmds, max_workers=1), args.repeat)),
            (f"renders on the runner ({min(runner.workers(), len(cmds))} at once)",
             best(lambda: runner.run_all(cmds), args.repeat)),
        ]  # fmt: skip
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            check = best(lambda: archlint_main(["check", str(root), "--offline", "--no-cache", "--exit-zero"]),
                         args.repeat)  # fmt: skip
        rows.append(("archlint check of the tree (renders + checks)", check))
        load = os.getloadavg()[0]
        print(f"{args.overlays} kustomize overlays + {args.releases} Helm releases = {len(cmds)} renders; best of "
              f"{args.repeat}; {runner.workers()} CPUs, load average {load:.1f}\n")  # fmt: skip
        print(f"{'':50} {'wall s':>8} {'CPU s':>8}")
        for name, (wall, cpu) in rows:
            print(f"{name:50} {wall:8.2f} {cpu:8.2f}")
        seq, par = rows[0][1][0], rows[1][1][0]
        print(f"\nspeed-up of the runner: {seq / par:.1f}x wall")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
