"""How fast placement is: Dockerfile analysis, and the whole pipeline on a large monorepo.

    python bench/placement_bench.py [--dockerfiles 2000] [--services 200]

1. Dockerfiles: parse + analyse N real-world-shaped Dockerfiles (the monorepo fixture's, varied),
   side by side with the baseline `dockerfile-parse` (the pure-Python parser used by OpenShift's
   build tooling; structure only, no analysis) when it is installed.
2. A synthetic monorepo built from fixtures/monorepo: S services (each a Dockerfile, requirements,
   a skaffold artifact, a CI matrix entry) and 3 workloads per service. Reports the time of each
   placement scanner (links + Dockerfiles, verdicts, placement) next to the whole `check --offline`
   run, so the overhead of placement is visible against the baseline of everything else.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from archlint import engine  # noqa: E402
from archlint.placement.dockerfile import parse  # noqa: E402
from archlint.placement.dockerfile_checks import analyse  # noqa: E402
from archlint.scanners import all_scanners  # noqa: E402

MONOREPO = REPO / "fixtures" / "monorepo"


def dockerfiles(n: int) -> list[str]:
    texts = sorted(p.read_text() for p in MONOREPO.glob("services/*/Dockerfile"))
    out = []
    for i in range(n):
        base = texts[i % len(texts)]
        # Vary them so nothing is cached by accident: different pins and an extra RUN each.
        out.append(base + f"RUN pip install --no-cache-dir pkg{i}=={i % 7}.{i % 11}.0 && echo {i}\n")
    return out


def bench_dockerfiles(n: int) -> None:
    texts = dockerfiles(n)
    total_bytes = sum(len(t) for t in texts)
    start = time.perf_counter()
    for i, t in enumerate(texts):
        analyse(parse(t), f"s{i}/Dockerfile", f"s{i}", f"s{i}")
    ours = time.perf_counter() - start
    print(f"Dockerfiles: {n} files, {total_bytes / 1e6:.2f} MB")
    print(f"  archlint parse+analyse      {ours * 1000:8.1f} ms   {n / ours:9.0f} files/s")
    try:
        from dockerfile_parse import DockerfileParser
    except ImportError:
        print("  dockerfile-parse (baseline) not installed: pip install dockerfile-parse")
        return
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for t in texts:
            p = DockerfileParser(path=tmp)
            p.content = t
            _ = p.structure, p.baseimage
        base = time.perf_counter() - start
    print(f"  dockerfile-parse (parse)    {base * 1000:8.1f} ms   {n / base:9.0f} files/s   (baseline)")
    print(f"  ratio: archlint is {base / ours:.1f}x the baseline's speed while also analysing")


def build_monorepo(root: Path, services: int) -> None:
    shutil.copytree(MONOREPO, root)
    svc_src = MONOREPO / "services" / "api"
    artifacts, matrix, manifests = [], [], []
    for i in range(services):
        name = f"svc{i:03d}"
        shutil.copytree(svc_src, root / "services" / name)
        artifacts.append(f"    - image: ghcr.io/acme/{name}\n      context: services/{name}\n")
        matrix.append(name)
        for kind, extra in (("Deployment", ""), ("StatefulSet", "  serviceName: x\n"), ("DaemonSet", "")):
            manifests.append(
                f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}-{kind.lower()}\n  namespace: shop\n"
                f"spec:\n{extra}  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n"
                f"      labels:\n        app: {name}\n    spec:\n      tolerations:\n        - operator: Exists\n"
                f"      containers:\n        - name: c\n          image: ghcr.io/acme/{name}:1.0\n"
            )
    (root / "skaffold-bench.yaml").write_text("")  # not a skaffold name: ignored
    sk = (root / "skaffold.yaml").read_text().replace("  artifacts:\n", "  artifacts:\n" + "".join(artifacts), 1)
    (root / "skaffold.yaml").write_text(sk)
    wf = (root / ".github/workflows/images.yml").read_text()
    wf = wf.replace("service: [web, ml]", f"service: [web, ml, {', '.join(matrix)}]")
    (root / ".github/workflows/images.yml").write_text(wf)
    (root / "k8s" / "bench.yaml").write_text("---\n".join(manifests))


def bench_monorepo(services: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mono"
        build_monorepo(root, services)
        timings: dict[str, float] = {}
        scanners = all_scanners()
        for s in scanners:
            original = s.scan

            def timed(files, ctx, facts, _orig=original, _name=s.name):  # type: ignore[no-untyped-def]
                start = time.perf_counter()
                out = list(_orig(files, ctx, facts))
                timings[_name] = timings.get(_name, 0.0) + time.perf_counter() - start
                return out

            s.scan = timed  # type: ignore[method-assign]
        import archlint.engine as eng

        # The engine asks scanners_for(kinds): hand it the instrumented instances instead.
        by_name = {s.name: s for s in scanners}
        original_for = eng.scanners_for
        eng.scanners_for = lambda kinds: [by_name[s.name] for s in original_for(kinds)]  # type: ignore[assignment]
        start = time.perf_counter()
        result = engine.run(engine.Options(paths=[str(root)], offline=True, no_cache=True))
        total = time.perf_counter() - start
        ours = sum(timings.get(n, 0.0) for n in ("docker", "image-verdicts", "placement"))
        print(f"\nMonorepo: {services + 8} services, {len(result.facts.workloads)} workloads, "
              f"{len(result.facts.build_contexts)} build contexts, {result.files} files")  # fmt: skip
        for name in ("docker", "image-verdicts", "placement"):
            print(f"  {name:<16} {timings.get(name, 0.0) * 1000:8.1f} ms")
        print(f"  placement total  {ours * 1000:8.1f} ms   ({ours / total:.0%} of the run)")
        print(f"  whole check      {total * 1000:8.1f} ms   (baseline: every scanner, offline)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dockerfiles", type=int, default=2000)
    ap.add_argument("--services", type=int, default=200)
    args = ap.parse_args()
    bench_dockerfiles(args.dockerfiles)
    bench_monorepo(args.services)


if __name__ == "__main__":
    main()
