from __future__ import annotations

from pathlib import Path

import pytest

from archlint.fixes import apply_edits
from archlint.placement.ci import github_sites, parse_build_command
from archlint.placement.sites import BuildSite
from archlint.placement.yamlio import load_all

MONOREPO_WORKFLOW = Path(__file__).resolve().parent.parent / "fixtures/monorepo/.github/workflows/images.yml"
REL = ".github/workflows/images.yml"


def sites_of(text: str) -> list[BuildSite]:
    out: list[BuildSite] = []
    for doc in load_all(text):
        out.extend(github_sites(doc, REL, text.splitlines()))
    return out


def by_image(sites: list[BuildSite]) -> dict[str, BuildSite]:
    return {s.image: s for s in sites}


def apply_fix(text: str, site: BuildSite) -> str:
    assert site.fix is not None
    new, _ = apply_edits(text, list(site.fix.edits))
    return new


def test_monorepo_workflow_builds() -> None:
    sites = by_image(sites_of(MONOREPO_WORKFLOW.read_text()))
    assert set(sites) == {
        "ghcr.io/acme/api",
        "ghcr.io/acme/web",
        "ghcr.io/acme/ml",
        "ghcr.io/acme/worker",
        "ghcr.io/acme/edge",
    }
    # metadata-action images + build-push-action platforms
    assert sites["ghcr.io/acme/api"].platforms == ("linux/amd64", "linux/arm64")
    assert sites["ghcr.io/acme/api"].context == "services/api" and sites["ghcr.io/acme/api"].fix is None
    # the matrix expands the context and the tags
    assert sites["ghcr.io/acme/web"].context == "services/web"
    assert sites["ghcr.io/acme/ml"].context == "services/ml"
    assert sites["ghcr.io/acme/web"].platforms == ("linux/amd64",)
    # docker buildx build in a run step, tag from the workflow env
    worker = sites["ghcr.io/acme/worker"]
    assert (worker.platforms, worker.context, worker.line) == (("linux/amd64",), "services/worker", 64)
    # no platforms input on an arm64 runner: the runner's platform
    assert sites["ghcr.io/acme/edge"].platforms == ("linux/arm64",)
    assert all(s.link.startswith("ci: .github/workflows/images.yml:") for s in sites.values())


def test_fix_adds_arm64_and_setup_steps_keeping_the_yaml() -> None:
    text = MONOREPO_WORKFLOW.read_text()
    web = by_image(sites_of(text))["ghcr.io/acme/web"]
    new = apply_fix(text, web)
    assert "          platforms: linux/amd64,linux/arm64  # arm64 later\n" in new
    assert "      - uses: docker/setup-qemu-action@v3\n      - uses: docker/setup-buildx-action@v3\n" in new
    # Comments and everything else survive; the result parses and now builds arm64.
    assert new.count("\n") == text.count("\n") + 2
    assert "# Built natively on an arm64 runner" in new
    after = by_image(sites_of(new))
    assert after["ghcr.io/acme/web"].platforms == ("linux/amd64", "linux/arm64")
    assert after["ghcr.io/acme/web"].fix is None


def test_run_step_fix_extends_the_platform_flag() -> None:
    text = MONOREPO_WORKFLOW.read_text()
    worker = by_image(sites_of(text))["ghcr.io/acme/worker"]
    new = apply_fix(text, worker)
    assert "            --platform linux/amd64,linux/arm64 \\\n" in new
    assert by_image(sites_of(new))["ghcr.io/acme/worker"].platforms == ("linux/amd64", "linux/arm64")


WORKFLOW = """\
name: build
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: docker/build-push-action@v6
        with:
          context: ./app
          file: ./app/Containerfile
          push: true
          tags: "ghcr.io/${{ github.repository_owner }}/app:latest, docker.io/acme/app:1"
      - run: docker buildx build -t quay.io/acme/tool:1 -f tools/Dockerfile tools
      - run: |
          docker build -t quay.io/acme/legacy:1 legacy
          docker push quay.io/acme/legacy:1
"""


def test_expressions_files_and_commands() -> None:
    sites = sites_of(WORKFLOW)
    app = [s for s in sites if s.image.endswith("/app")]
    assert {s.image for s in app} == {"ghcr.io/*/app", "docker.io/acme/app"}
    wild = next(s for s in app if "*" in s.image)
    assert wild.matches("ghcr.io/acme/app") and not wild.matches("ghcr.io/acme/other")
    assert all(s.dockerfile == "app/Containerfile" and s.context == "app" for s in app)
    assert all(s.platforms == ("linux/amd64",) for s in sites)
    text = apply_fix(WORKFLOW, app[0])
    assert "          platforms: linux/amd64,linux/arm64\n          context: ./app\n" in text
    assert "      - uses: docker/setup-qemu-action@v3\n" in text
    tool = next(s for s in sites if s.image == "quay.io/acme/tool")
    assert (tool.context, tool.dockerfile) == ("tools", "tools/Dockerfile")
    fixed = apply_fix(WORKFLOW, tool)
    assert "docker buildx build --platform linux/amd64,linux/arm64 -t quay.io/acme/tool:1" in fixed
    # A plain docker build cannot push a multi-platform image: no automatic fix, a clear note.
    legacy = next(s for s in sites if s.image == "quay.io/acme/legacy")
    assert legacy.fix is None and "buildx" in legacy.fix_note


def test_block_scalar_and_quoted_platforms() -> None:
    text = (
        "jobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: docker/setup-qemu-action@v3\n      - uses: docker/setup-buildx-action@v3\n"
        "      - uses: docker/build-push-action@v6\n        with:\n          platforms: |\n            linux/amd64\n"
        "          tags: acme/a:1\n"
        "      - uses: docker/build-push-action@v6\n        with:\n          platforms: 'linux/amd64'\n"
        "          tags: acme/b:1\n"
    )
    sites = by_image(sites_of(text))
    a = apply_fix(text, sites["docker.io/acme/a"])
    assert "          platforms: |\n            linux/amd64\n            linux/arm64\n          tags" in a
    b = apply_fix(text, sites["docker.io/acme/b"])
    assert "platforms: 'linux/amd64,linux/arm64'" in b
    for new in (a, b):
        assert new.count("setup-qemu-action") == 1
    assert by_image(sites_of(a))["docker.io/acme/a"].platforms == ("linux/amd64", "linux/arm64")


def test_platforms_from_an_expression_get_no_automatic_fix() -> None:
    text = (
        "jobs:\n  b:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        p: [linux/amd64]\n"
        "    steps:\n      - uses: docker/build-push-action@v6\n        with:\n"
        "          platforms: ${{ matrix.p }}\n          tags: acme/a:1\n"
    )
    (site,) = sites_of(text)
    assert site.platforms == ("linux/amd64",) and site.fix is None and "expression" in site.fix_note


@pytest.mark.parametrize(
    ("cmd", "tags", "platforms", "context", "file"),
    [
        ("docker buildx build --platform=linux/amd64,linux/arm64 -t a/b:1 --push .", ("a/b:1",),
         ("linux/amd64", "linux/arm64"), ".", None),
        ("docker build --build-arg X=1 -f d/Dockerfile --tag x:1 --no-cache d", ("x:1",), (), "d", "d/Dockerfile"),
        ("docker image build -t y .", ("y",), (), ".", None),
        ("podman build -t z --platform linux/arm64 ctx", ("z",), ("linux/arm64",), "ctx", None),
    ],
)  # fmt: skip
def test_parse_build_command(cmd: str, tags: tuple[str, ...], platforms: tuple[str, ...], context: str,
                             file: str | None) -> None:  # fmt: skip
    b = parse_build_command(cmd.split())
    assert b is not None
    assert (b.tags, b.platforms, b.context, b.file) == (tags, platforms, context, file)


def test_not_a_build_command() -> None:
    assert parse_build_command("docker run --rm x".split()) is None
    assert parse_build_command([]) is None
