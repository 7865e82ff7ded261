from __future__ import annotations

from archlint.fixes import apply_edits
from archlint.placement.ci import gitlab_sites
from archlint.placement.yamlio import load_all

GITLAB = """\
stages: [build, deploy]

variables:
  IMAGE: $CI_REGISTRY_IMAGE/api

default:
  image: docker:27

build-api:
  stage: build
  services: [docker:27-dind]
  before_script:
    - docker login -u "$CI_REGISTRY_USER" -p "$CI_REGISTRY_PASSWORD" $CI_REGISTRY
  script:
    - docker buildx create --use
    - docker buildx build --platform linux/amd64 --tag "$IMAGE:$CI_COMMIT_SHA" --push services/api

build-arm:
  stage: build
  tags: [saas-linux-medium-arm64]
  script: docker build -t registry.gitlab.com/acme/shop/edge:1 services/edge && docker push "$EDGE"

deploy:
  stage: deploy
  script:
    - kubectl apply -f k8s/
"""


def test_gitlab_buildx_and_runner_arch() -> None:
    sites = gitlab_sites(load_all(GITLAB)[0], ".gitlab-ci.yml", GITLAB.splitlines())
    api = next(s for s in sites if s.image.endswith("/api"))
    # $CI_REGISTRY_IMAGE is only known in the pipeline: any registry/namespace matches.
    assert api.image == "*/api"
    assert api.matches("registry.gitlab.com/acme/shop/api")
    assert (api.context, api.platforms, api.line) == ("services/api", ("linux/amd64",), 16)
    assert api.fix is not None
    new, _ = apply_edits(GITLAB, list(api.fix.edits))
    assert "docker buildx build --platform linux/amd64,linux/arm64 --tag" in new
    after = gitlab_sites(load_all(new)[0], ".gitlab-ci.yml", new.splitlines())
    assert next(s for s in after if s.image.endswith("/api")).platforms == ("linux/amd64", "linux/arm64")
    edge = next(s for s in sites if s.image.endswith("/edge"))
    # A plain docker build on an arm64-tagged runner builds linux/arm64.
    assert (edge.image, edge.platforms) == ("registry.gitlab.com/acme/shop/edge", ("linux/arm64",))
    assert len(sites) == 2


def test_gitlab_garbage_is_ignored() -> None:
    assert gitlab_sites(["not", "a", "mapping"], ".gitlab-ci.yml", []) == []
    assert gitlab_sites({"job": {"script": [7, None]}}, ".gitlab-ci.yml", []) == []


KANIKO = """\
build-worker:
  image: {name: gcr.io/kaniko-project/executor:v1.23.2-debug, entrypoint: [""]}
  script:
    - /kaniko/executor
      --context "${CI_PROJECT_DIR}/services/worker"
      --dockerfile "${CI_PROJECT_DIR}/services/worker/Dockerfile"
      --destination "registry.gitlab.com/acme/shop/worker:${CI_COMMIT_TAG}"
"""


def test_kaniko_builds_one_platform_and_says_how_to_add_arm64() -> None:
    (site,) = gitlab_sites(load_all(KANIKO)[0], ".gitlab-ci.yml", KANIKO.splitlines())
    assert (site.image, site.context, site.dockerfile) == (
        "registry.gitlab.com/acme/shop/worker", "services/worker", "services/worker/Dockerfile"
    )  # fmt: skip
    assert site.platforms == ("linux/amd64",)
    assert site.fix is None and "kaniko builds one platform per job" in site.fix_note
