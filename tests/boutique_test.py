"""The build side of real repositories, through the real CLI, on fixtures/boutique (a microservices
demo: skaffold artifacts under a default repository, every Dockerfile naming style, every
multi-stage lineage shape that is right on a cross build). The clean tree exits 0; each test breaks
one thing the way real repositories do and checks the finding, its line and its fix — and, where
the fix is an edit, that applying it makes the tree clean again."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomllib
from conftest import FIXTURES, CliResult
from deps_support.server import IndexServer

Cli = Callable[..., CliResult]
BOUTIQUE = FIXTURES / "boutique"
RELEASE = "us-docker.pkg.dev/google-samples/microservices-demo"
ARTIFACTS = {
    "emailservice": "src/emailservice/Dockerfile",
    "recommendationservice": "src/recommendationservice/recommendation.Dockerfile",
    "shippingservice": "src/shippingservice/non_dist_Dockerfile",
    "cartservice": "src/cartservice/src/Dockerfile.prod",
    "frontend": "src/frontend/Dockerfile",
    "adservice": "src/adservice/app.Dockerfile-temurin",
    "web": "src/web/Containerfile",
    "tools": "docker/tools.df",
    "shoppingassistantservice": "src/shoppingassistantservice/Dockerfile",
    "loadgenerator": "src/loadgenerator/Dockerfile-locust",
}
UNREFERENCED = ["src/tools/Dockerfile-package", "src/tools/ci.dockerfile", "src/tools/Containerfile.debug"]


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "boutique"
    shutil.copytree(BOUTIQUE, root)
    return root


def check(cli: Cli, root: Path, *args: str) -> tuple[int, dict[str, Any]]:
    res = cli(["check", "--format", "json", *args, str(root)], cwd=root)
    assert res.rc in (0, 1), res.err
    return res.rc, res.json()


def findings(report: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule"] == rule]


def workload(report: dict[str, Any], name: str) -> dict[str, Any]:
    (w,) = [w for w in report["workloads"] if w["name"] == name]
    return w


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_clean_repository_exits_zero_and_every_image_is_linked(cli: Cli, shop: Path) -> None:
    rc, report = check(cli, shop, "--offline")
    loud = [f for f in report["findings"] if f["severity"] != "info"]
    assert rc == 0 and loud == []
    assert report["summary"]["workloads"] == {"arm64": 0, "multi-arch": 11, "amd64": 0, "unknown": 0}
    for name, dockerfile in ARTIFACTS.items():
        (image,) = workload(report, name)["images"]
        assert image["ref"] == f"{RELEASE}/{name}:v0.10.6" and image["arm64"] is True
        # The link says how: skaffold's default-repo rewriting of the artifact's image name.
        link = image["evidence"][0]
        assert f"with {dockerfile} (linked by skaffold.yaml:" in link, link
        assert f"artifact {name} pushed under skaffold's default-repo {RELEASE}" in link


@pytest.mark.parametrize("dockerfile", [*ARTIFACTS.values(), *UNREFERENCED])
def test_every_dockerfile_name_is_read(cli: Cli, shop: Path, dockerfile: str) -> None:
    path = shop / dockerfile
    path.write_text(path.read_text() + "RUN apt-get update && apt-get install -y intel-mkl\n")
    line = len(path.read_text().splitlines())
    rc, report = check(cli, shop, "--offline")
    assert rc == 1
    assert [(f["path"], f["line"]) for f in findings(report, "ARCH304")] == [(dockerfile, line)]


def test_a_dockerfile_named_on_the_command_line_is_read_by_its_content(cli: Cli, shop: Path) -> None:
    release = shop / "docker" / "release.build"
    edit(release, "ca-certificates", "ca-certificates intel-mkl")
    rc, report = check(cli, shop, "--offline")
    assert rc == 0 and not findings(report, "ARCH304")  # walked: not a Dockerfile by its name
    res = cli(["check", "--format", "json", "--offline", str(shop), str(release)], cwd=shop)
    assert res.rc == 1
    assert [(f["path"], f["line"]) for f in findings(res.json(), "ARCH304")] == [("docker/release.build", 4)]


def test_python_runtime_pinned_to_the_build_platform(cli: Cli, shop: Path) -> None:
    df = shop / ARTIFACTS["emailservice"]
    edit(df, "FROM python:3.12.8-slim AS base", "FROM --platform=$BUILDPLATFORM python:3.12.8-slim AS base")
    rc, report = check(cli, shop, "--offline")
    assert rc == 1
    (f,) = findings(report, "ARCH309")
    assert (f["path"], f["line"], f["column"], f["severity"]) == (ARTIFACTS["emailservice"], 1, 6, "error")
    assert "FROM base" in f["message"]  # the runtime stage reaches the pin through `FROM base`
    assert f["fix"]["applicability"] == "unsafe"
    w = workload(report, "emailservice")
    assert w["placement"]["recommendation"] == "amd64"
    assert "runs on the build platform" in w["placement"]["reasons"][0]
    assert cli(["check", "--offline", "--fix", "--unsafe-fixes", str(shop)], cwd=shop).rc == 0
    assert df.read_text().splitlines()[0] == "FROM python:3.12.8-slim AS base"


def test_build_platform_through_a_global_arg_default(cli: Cli, shop: Path) -> None:
    df = shop / ARTIFACTS["tools"]
    edit(
        df,
        "FROM debian:bookworm-slim",
        "ARG BUILDPLATFORM=linux/amd64\nFROM --platform=${BUILDPLATFORM} debian:bookworm-slim",
    )
    rc, report = check(cli, shop, "--offline")
    (f,) = findings(report, "ARCH309")
    assert rc == 1 and (f["path"], f["line"]) == ("docker/tools.df", 3)
    assert workload(report, "tools")["placement"]["recommendation"] == "amd64"


def test_go_builder_that_stops_cross_compiling(cli: Cli, shop: Path) -> None:
    df = shop / ARTIFACTS["frontend"]
    edit(df, "CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build", "CGO_ENABLED=0 go build")
    edit(df, "ARG TARGETOS\nARG TARGETARCH\n", "")
    rc, report = check(cli, shop, "--offline")
    assert rc == 1
    (f,) = findings(report, "ARCH310")
    assert (f["path"], f["line"]) == (ARTIFACTS["frontend"], line_of(df, "COPY --from=builder"))
    assert "`go build` without cross-compiling" in f["message"]
    assert workload(report, "frontend")["placement"]["recommendation"] == "amd64"
    # The fix drops --platform from the builder: it then builds under emulation per target.
    assert cli(["check", "--offline", "--fix", "--unsafe-fixes", str(shop)], cwd=shop).rc == 0
    assert "FROM golang:1.23.4-alpine AS builder" in df.read_text()


def test_c_build_copied_into_the_runtime(cli: Cli, shop: Path) -> None:
    df = shop / ARTIFACTS["tools"]
    df.write_text(
        "FROM --platform=$BUILDPLATFORM debian:bookworm AS build\n"
        "RUN apt-get update && apt-get install -y build-essential\n"
        "COPY tools/ /src\n"
        "RUN make -C /src && install -m 0755 /src/kctl /usr/local/bin/kctl\n"
        "\n"
        "FROM debian:bookworm-slim\n"
        "COPY --from=build /usr/local/bin/kctl /usr/local/bin/kctl\n"
        'ENTRYPOINT ["kctl"]\n'
    )
    rc, report = check(cli, shop, "--offline")
    (f,) = findings(report, "ARCH310")
    assert rc == 1 and (f["path"], f["line"]) == ("docker/tools.df", 7)
    assert f["fix"]["edits"][0]["start_line"] == 1
    assert workload(report, "tools")["placement"]["recommendation"] == "amd64"


def test_x86_only_images_by_knowledge_and_by_name(cli: Cli, shop: Path) -> None:
    manifests = shop / "release" / "kubernetes-manifests.yaml"
    edit(manifests, "image: redis:alpine", "image: intel/intel-optimized-tensorflow:2.15.0")
    edit(manifests, "image: gcr.io/distroless/static-debian12:nonroot", "image: registry.k8s.io/pause-amd64:3.1")
    rc, report = check(cli, shop, "--offline")
    assert rc == 1
    w = workload(report, "redis-cart")
    assert w["placement"]["recommendation"] == "amd64"
    assert {i["ref"]: i["arm64"] for i in w["images"]} == {
        "intel/intel-optimized-tensorflow:2.15.0": False,
        "registry.k8s.io/pause-amd64:3.1": False,
    }
    reasons = " ".join(w["placement"]["reasons"])
    assert "Intel's TensorFlow build" in reasons and "'pause-amd64' names an x86-64 build" in reasons
    conflicts = [f for f in report["findings"] if f["workload"] == "Deployment/default/redis-cart"]
    assert conflicts and all(f["severity"] == "error" and f["fix"] for f in conflicts)


def test_poetry_replacement_already_declared_is_dropped_not_duplicated(cli: Cli, shop: Path) -> None:
    pyproject = shop / "src" / "shoppingassistantservice" / "pyproject.toml"
    edit(pyproject, 'torch = "^2.5"\n', 'torch = "^2.5"\nintel-extension-for-pytorch = "^2.5"\n')
    rc, report = check(cli, shop, "--offline")
    (f,) = findings(report, "ARCH101")
    assert rc == 1 and (f["path"], f["line"]) == ("src/shoppingassistantservice/pyproject.toml", 12)
    assert "torch is already declared beside it" in f["fix"]["description"]
    assert cli(["check", "--offline", "--fix", "--unsafe-fixes", str(shop)], cwd=shop).rc == 0
    deps = tomllib.loads(pyproject.read_text())["tool"]["poetry"]["dependencies"]
    assert deps == {"python": "^3.12", "flask": "^3.1", "torch": "^2.5", "sentence-transformers": "^3.3"}


def index_config(root: Path, server: IndexServer) -> None:
    (root / "archlint.toml").write_text(f'index-url = "{server.url}"\nosv-url = "{server.osv_url}"\n')


def test_sdist_only_on_arm64_in_an_alpine_stage_without_a_compiler(cli: Cli, shop: Path, server: IndexServer) -> None:
    index_config(shop, server)
    reqs = shop / "src" / "loadgenerator" / "requirements.txt"
    reqs.write_text("pyyaml==6.0.1\nrequests==2.32.3\n")
    df = shop / ARTIFACTS["loadgenerator"]
    # As given, g++ is installed first: compiling PyYAML is slow but works (ARCH102, a warning).
    rc, report = check(cli, shop)
    assert not findings(report, "ARCH311")
    assert [(f["path"], f["line"]) for f in findings(report, "ARCH102")] == [("src/loadgenerator/requirements.txt", 1)]
    assert workload(report, "loadgenerator")["placement"]["recommendation"] == "multi-arch"
    # Without the compiler the arm64 image does not build.
    edit(df, "wget g++ linux-headers", "wget linux-headers")
    rc, report = check(cli, shop)
    (f,) = findings(report, "ARCH311")
    assert rc == 1 and (f["path"], f["line"]) == (ARTIFACTS["loadgenerator"], line_of(df, "pip install"))
    assert "python:3.12.8-alpine has no compiler" in f["message"] and "linux/arm64 cp312 musl" in f["message"]
    assert f["fix"]["edits"] == [
        {"path": "src/loadgenerator/requirements.txt", "start_line": 1, "start_column": 1, "end_line": 1,
         "end_column": 14, "content": "pyyaml==6.0.3"}
    ]  # fmt: skip
    w = workload(report, "loadgenerator")
    assert w["placement"]["recommendation"] == "amd64" and "pyyaml" in w["placement"]["reasons"][0]
    assert cli(["check", "--fix", "--unsafe-fixes", str(shop)], cwd=shop).rc == 0
    assert reqs.read_text() == "pyyaml==6.0.3\nrequests==2.32.3\n"
    _, report = check(cli, shop)
    assert workload(report, "loadgenerator")["placement"]["recommendation"] == "multi-arch"


def test_inline_pin_in_a_slim_stage_and_a_missing_system_library(cli: Cli, shop: Path, server: IndexServer) -> None:
    index_config(shop, server)
    df = shop / ARTIFACTS["recommendationservice"]
    edit(df, "FROM python:3.12.8-slim AS base", "FROM python:3.9-slim AS base")
    # build-essential is there, libpq-dev is not: psycopg2's sdist needs pg_config.
    edit(df, 'RUN pip install --prefix="/install" -r requirements.txt',
         'RUN pip install --prefix="/install" -r requirements.txt psycopg2-binary==2.8.6')  # fmt: skip
    (shop / "src" / "recommendationservice" / "requirements.txt").write_text("pyyaml==5.4\n")
    rc, report = check(cli, shop)
    (lib,) = findings(report, "ARCH312")
    assert rc == 1 and lib["path"] == ARTIFACTS["recommendationservice"]
    assert lib["line"] == line_of(df, "psycopg2-binary==2.8.6") and "libpq-dev" in lib["message"]
    assert not findings(report, "ARCH311")  # PyYAML compiles: the stage has build-essential
    # Drop the compiler: now both fail, PyYAML from requirements.txt reported on the pip line.
    edit(df, "        build-essential", "        ca-certificates")
    rc, report = check(cli, shop)
    assert sorted((f["line"], f["message"].split("==")[0]) for f in findings(report, "ARCH311")) == [
        (line_of(df, "pip install"), "psycopg2-binary"),
        (line_of(df, "pip install"), "pyyaml"),
    ]


def test_a_teams_own_base_image_declared_once_in_image_overrides(cli: Cli, shop: Path) -> None:
    df = shop / ARTIFACTS["tools"]
    edit(df, "FROM debian:bookworm-slim", "FROM registry.internal/platform/debian:12")
    rc, report = check(cli, shop, "--offline")
    assert workload(report, "tools")["placement"]["recommendation"] == "unknown"
    (warning,) = findings(report, "ARCH306")
    assert "registry.internal/platform/debian:12: linux/arm64 support unknown" in warning["message"]
    config = shop / "archlint.toml"
    config.write_text(config.read_text() + '\n[image-overrides]\n"registry.internal/platform/debian" = "multi-arch"\n')
    rc, report = check(cli, shop, "--offline")
    assert rc == 0 and not findings(report, "ARCH306")
    (image,) = workload(report, "tools")["images"]
    assert image["arm64"] is True
    assert "docker/tools.df:2: base image registry.internal/platform/debian:12: archlint.toml: image-overrides says " \
        "multi-arch" in image["evidence"]  # fmt: skip
    config.write_text(config.read_text().replace('= "multi-arch"', '= "amd64"'))
    rc, report = check(cli, shop, "--offline")
    assert rc == 1 and workload(report, "tools")["placement"]["recommendation"] == "amd64"
