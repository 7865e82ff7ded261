from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from archlint import engine
from archlint.facts import Facts, ImageVerdict, Placement, Workload
from archlint.placement import state
from archlint.placement.recommend import recommend
from archlint.scanners.placement import PlacementScanner
from archlint.scanning import ScanContext
from tests.conftest import FIXTURES

PROFILE = """
[[cluster.pools]]
name = "general"
arch = "amd64"

[[cluster.pools]]
name = "arm"
arch = "arm64"
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def deployment(name: str, image: str, extra: str = "") -> str:
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  selector:\n    matchLabels:\n"
        f"      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n{extra}"
        f"      containers:\n        - name: c\n          image: {image}\n"
    )


def facts_of(root: Path) -> Facts:
    return engine.run(engine.Options(paths=[str(root)], offline=True)).facts


def test_base_image_built_in_the_repository_passes_its_verdict_on(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "archlint.toml": PROFILE,
        "images/base/Dockerfile": "FROM ubuntu:22.04\nRUN apt-get install -y intel-mkl\n",
        "services/app/Dockerfile": "FROM ghcr.io/acme/base:1\nCOPY . /app\n",
        "skaffold.yaml": "build:\n  artifacts:\n    - image: ghcr.io/acme/base\n      context: images/base\n"
                         "    - image: ghcr.io/acme/app\n      context: services/app\n",
        "k8s/app.yaml": deployment("app", "ghcr.io/acme/app:2"),
    })  # fmt: skip
    facts = facts_of(root)
    app = facts.images["ghcr.io/acme/app"]
    assert app.arm64 is False
    assert any("base image ghcr.io/acme/base:1 is built here and is x86-only" in e for e in app.evidence)
    # The base's own blocker stays with the base image.
    assert not any("intel-mkl" in e for e in app.evidence)
    assert any("intel-mkl" in e for e in facts.images["ghcr.io/acme/base"].evidence)


def test_unknown_base_image_makes_the_verdict_unknown(tmp_path: Path, cli: Callable[..., Any]) -> None:
    write(tmp_path, {
        "archlint.toml": PROFILE,
        "app/Dockerfile": "FROM registry.internal/platform/python:3.11\nCOPY . /app\n",
        "compose.yaml": "services:\n  app:\n    image: ghcr.io/acme/app\n    build: app\n",
        "k8s/app.yaml": deployment("app", "ghcr.io/acme/app:2"),
    })  # fmt: skip
    report = cli(["check", str(tmp_path), "--offline", "--format", "json"]).json()
    (wl,) = report["workloads"]
    assert wl["placement"]["recommendation"] == "unknown"
    assert wl["images"][0]["arm64"] is None
    assert any("registry.internal/platform/python:3.11: linux/arm64 support unknown" in e
               for e in wl["images"][0]["evidence"])  # fmt: skip
    warnings = [f for f in report["findings"] if f["rule"] == "ARCH306"]
    assert [w["workload"] for w in warnings] == ["Deployment/default/app"]


def test_evidence_belongs_to_the_deepest_context_and_its_own_dockerfile(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "archlint.toml": PROFILE + '\n[images]\n"ghcr.io/acme/root" = "."\n"ghcr.io/acme/svc" = "svc"\n',
        "Dockerfile": "FROM python:3.12-slim\nCOPY . /src\n",
        "requirements.txt": "requests==2.32.3\n",
        "svc/Dockerfile": "FROM python:3.12-slim\nRUN pip install intel-openmp==2024.2.1\n",
        # A development Dockerfile beside it is not what the image is built from.
        "svc/Dockerfile.dev": "FROM --platform=linux/amd64 python:3.12-slim\n",
        "k8s/a.yaml": deployment("root", "ghcr.io/acme/root:1") + "---\n" + deployment("svc", "ghcr.io/acme/svc:1"),
    })  # fmt: skip
    facts = facts_of(root)
    assert facts.images["ghcr.io/acme/root"].arm64 is True
    svc = facts.images["ghcr.io/acme/svc"]
    assert svc.arm64 is False
    assert svc.evidence[0].startswith("svc/Dockerfile:2: intel-openmp")
    assert not any("Dockerfile.dev" in e for e in svc.evidence)


def test_image_overrides_win(tmp_path: Path, cli: Callable[..., Any]) -> None:
    write(tmp_path, {
        "archlint.toml": PROFILE + '\n[image-overrides]\n"ghcr.io/acme/app" = "arm64"\n',
        "app/Dockerfile": "FROM --platform=linux/amd64 python:3.12-slim\n",
        "compose.yaml": "services:\n  app:\n    image: ghcr.io/acme/app\n    build: app\n",
        "k8s/app.yaml": deployment("app", "ghcr.io/acme/app:2"),
    })  # fmt: skip
    report = cli(["check", str(tmp_path), "--offline", "--format", "json"]).json()
    (wl,) = report["workloads"]
    assert wl["images"][0]["arm64"] is True
    assert wl["images"][0]["evidence"][0] == "archlint.toml: image-overrides says arm64"
    assert wl["placement"]["recommendation"] == "arm64"
    # arm64-only, and the untainted amd64 pool admits it: an error with a fix requiring arm64.
    errors = [f for f in report["findings"] if f["workload"] == wl["id"] and f["severity"] == "error"]
    assert [f["rule"] for f in errors] == ["ARCH307"]
    assert "kubernetes.io/arch" in errors[0]["fix"]["edits"][0]["content"]


def test_bad_override_value_is_a_config_error(tmp_path: Path, cli: Callable[..., Any]) -> None:
    write(tmp_path, {"archlint.toml": '[image-overrides]\n"ghcr.io/acme/app" = "x86"\n'})
    r = cli(["check", str(tmp_path), "--offline"])
    assert r.rc == 2 and "image-overrides" in r.err


def test_recommendation_logic() -> None:
    both = ImageVerdict("a", True, ["ok"], ("linux/amd64", "linux/arm64"))
    arm = ImageVerdict("b", True, ["ok"], ("linux/arm64",))
    amd_built = ImageVerdict("c", True, ["ok"], ("linux/amd64",))
    unstated = ImageVerdict("d", True, ["ok"], ())
    x86 = ImageVerdict("e", False, ["Dockerfile:3: installs x86-only package intel-mkl", "built from e/ (linked)"])
    assert recommend([("a", both), ("d", unstated)]).value == "multi-arch"
    assert recommend([("b", arm), ("a", both)]).value == "arm64"
    assert recommend([("c", amd_built)]).value == "amd64"
    assert recommend([("b", arm), ("c", amd_built)]).value == "unknown"
    r = recommend([("a", both), ("e", x86), ("z", None)])
    assert r.value == "amd64" and r.reasons[0] == "e is x86-only: Dockerfile:3: installs x86-only package intel-mkl"
    assert recommend([("a", both), ("z", None)]).value == "unknown"
    assert recommend([]).value == "unknown"


def test_late_verdicts_report_their_own_conflicts(tmp_path: Path) -> None:
    """A verdict the Kubernetes scanner never saw (made only at placement time) still yields the
    x86-only conflict error, once (ARCH308), on the workload."""
    ctx = ScanContext(root=tmp_path, config=engine.config_mod.Config())
    facts = Facts()
    wl = Workload("Deployment", "db", "default", "k8s/db.yaml", 5, ["mcr.microsoft.com/mssql/server:2022-latest"],
                  {"containers": [{"name": "c", "image": "mcr.microsoft.com/mssql/server:2022-latest"}]},
                  placement=Placement(current=["amd64", "arm64"]))  # fmt: skip
    facts.workloads.append(wl)
    findings = list(PlacementScanner().scan([], ctx, facts))
    assert [(f.rule, f.workload) for f in findings] == [("ARCH308", "Deployment/default/db")]
    assert wl.placement is not None and wl.placement.recommendation == "amd64"
    # Seen before the Kubernetes scanner ran: reported there, not again here.
    facts2 = Facts()
    state.get(facts2).preseen = {"mcr.microsoft.com/mssql/server"}
    wl.image_verdicts.clear()
    facts2.workloads.append(wl)
    assert [f.rule for f in PlacementScanner().scan([], ctx, facts2)] == []


def test_monorepo_runtime_hints_feed_dependency_targets(tmp_path: Path) -> None:
    # A copy: the fixture is a repository of its own (in place, paths start with fixtures/monorepo/).
    shutil.copytree(FIXTURES / "monorepo", tmp_path / "m", symlinks=True)
    facts = engine.run(engine.Options(paths=[str(tmp_path / "m")], offline=True)).facts
    hints = {h.directory: (h.python, h.libc) for h in facts.runtime_hints}
    assert hints["services/web"] == ("3.12", "musl")
    assert hints["services/ml"] == ("3.11", "glibc")
    web = [d for d in facts.dependencies if d.path == "services/web/requirements.txt"]
    assert web and all(set(d.targets) == {"linux/arm64 cp312 musl", "linux/amd64 cp312 musl"} for d in web)


def test_monorepo_copy_is_independent(tmp_path: Path) -> None:
    # Guard for the acceptance test: the fixture copies cleanly (no symlinks, no ignored files).
    shutil.copytree(FIXTURES / "monorepo", tmp_path / "m")
    assert (tmp_path / "m/services/agent/vendor/lib/libfastcrc.so").read_bytes()[:4] == b"\x7fELF"


def test_root_context_builds_see_only_what_their_dockerfile_copies(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "archlint.toml": PROFILE,
        "services/api/Dockerfile": "FROM python:3.12-slim\nCOPY libs/common /libs/common\nCOPY services/api /app\n",
        "services/api/requirements.txt": "requests==2.32.3\n",
        "services/ml/Dockerfile": "FROM python:3.12-slim\nCOPY services/ml /app\n",
        "services/ml/requirements.txt": "intel-openmp==2024.2.1\n",
        "libs/common/requirements.txt": "attrs==24.2.0\n",
        "tools/requirements.txt": "mkl==2024.2.2\n",  # not in any image
        ".github/workflows/b.yml": (
            "jobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n"
            + "".join(
                f"      - uses: docker/build-push-action@v6\n        with:\n          context: .\n"
                f"          file: services/{s}/Dockerfile\n          platforms: linux/amd64,linux/arm64\n"
                f"          tags: ghcr.io/acme/{s}:1\n"
                for s in ("api", "ml")
            )
        ),
        "k8s/a.yaml": deployment("api", "ghcr.io/acme/api:1") + "---\n" + deployment("ml", "ghcr.io/acme/ml:1"),
    })  # fmt: skip
    facts = facts_of(root)
    assert facts.images["ghcr.io/acme/api"].arm64 is True
    ml = facts.images["ghcr.io/acme/ml"]
    assert ml.arm64 is False
    assert [e for e in ml.evidence if "mkl" in e or "intel-openmp" in e] == [
        "services/ml/requirements.txt:1: intel-openmp: Intel OpenMP runtime (libiomp5): x86-64 wheels only"
    ]


@pytest.mark.parametrize(
    ("skaffold", "expect"),
    [
        ('  platforms: ["linux/amd64"]\n  artifacts:\n    - image: ghcr.io/acme/app\n      context: app\n',
         '  platforms: ["linux/amd64", "linux/arm64"]\n'),
        ("  artifacts:\n    - image: ghcr.io/acme/app\n      context: app\n      platforms:\n        - linux/amd64\n",
         "      platforms:\n        - linux/amd64\n        - linux/arm64\n"),
    ],
)  # fmt: skip
def test_build_config_platforms_without_ci(tmp_path: Path, cli: Callable[..., Any], skaffold: str, expect: str) -> None:
    """No CI builds the image: skaffold's platforms are what gets built, and they lack arm64."""
    write(tmp_path, {
        "archlint.toml": PROFILE,
        "app/Dockerfile": "FROM python:3.12-slim\n",
        "skaffold.yaml": "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n" + skaffold,
        "k8s/app.yaml": deployment("app", "ghcr.io/acme/app:2"),
    })  # fmt: skip
    report = cli(["check", str(tmp_path), "--offline", "--format", "json"]).json()
    errors = [f for f in report["findings"] if f["severity"] == "error" and f["workload"]]
    assert [(f["rule"], f["path"]) for f in errors] == [("ARCH305", "skaffold.yaml")]
    assert report["workloads"][0]["placement"]["recommendation"] == "amd64"
    cli(["check", str(tmp_path), "--offline", "--fix", "--unsafe-fixes"])
    assert expect in (tmp_path / "skaffold.yaml").read_text()
    after = cli(["check", str(tmp_path), "--offline", "--format", "json"]).json()
    assert not [f for f in after["findings"] if f["severity"] == "error"]
    assert after["workloads"][0]["placement"]["recommendation"] == "multi-arch"


def test_compose_build_platforms_fix(tmp_path: Path, cli: Callable[..., Any]) -> None:
    write(tmp_path, {
        "archlint.toml": PROFILE,
        "app/Dockerfile": "FROM python:3.12-slim\n",
        "compose.yaml": "services:\n  app:\n    image: ghcr.io/acme/app\n    build:\n      context: app\n"
                        "      platforms: [linux/amd64]  # for now\n",
        "k8s/app.yaml": deployment("app", "ghcr.io/acme/app:2"),
    })  # fmt: skip
    cli(["check", str(tmp_path), "--offline", "--fix", "--unsafe-fixes"])
    assert "      platforms: [linux/amd64, linux/arm64]  # for now\n" in (tmp_path / "compose.yaml").read_text()
