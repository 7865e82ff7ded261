from __future__ import annotations

from archlint.placement.links import choose, wanted_images
from archlint.placement.sites import BuildSite, compose_sites, config_sites, normalise_image, skaffold_sites
from archlint.placement.yamlio import load_all

SKAFFOLD = """\
apiVersion: skaffold/v4beta11
kind: Config
build:
  platforms: ["linux/amd64", "linux/arm64"]
  artifacts:
    - image: api
      context: ../services/api
      docker:
        dockerfile: docker/Dockerfile.prod
        target: runtime
    - image: ghcr.io/acme/worker
      context: ../services/worker
      platforms: [linux/arm64]
profiles:
  - name: gpu
    build:
      artifacts:
        - image: ghcr.io/acme/gpu
          context: ../services/gpu
"""


def test_skaffold_artifacts_relative_to_the_file() -> None:
    sites = {s.image: s for s in skaffold_sites(load_all(SKAFFOLD), "deploy/skaffold.yaml")}
    api = sites["docker.io/library/api"]
    assert (api.context, api.dockerfile, api.target) == ("services/api", "services/api/docker/Dockerfile.prod",
                                                          "runtime")  # fmt: skip
    assert api.platforms == ("linux/amd64", "linux/arm64") and api.link == "deploy/skaffold.yaml:6"
    assert sites["ghcr.io/acme/worker"].platforms == ("linux/arm64",)
    assert sites["ghcr.io/acme/gpu"].context == "services/gpu" and sites["ghcr.io/acme/gpu"].platforms is None


def test_compose_build_forms() -> None:
    text = (
        "services:\n"
        "  a:\n    image: acme/a:1\n    build: ./a\n    platform: linux/amd64\n"
        "  b:\n    image: ghcr.io/acme/b\n    build:\n      context: b\n      dockerfile: Containerfile\n"
        "      platforms: [linux/amd64, linux/arm64]\n"
        "  c:\n    build: ./c\n"  # no image name: compose makes one up; nothing to link
        "  d:\n    image: redis:7\n"  # pulled, not built
    )
    sites = {s.image: s for s in compose_sites(load_all(text), "dev/compose.yaml")}
    assert set(sites) == {"docker.io/acme/a", "ghcr.io/acme/b"}
    assert (sites["docker.io/acme/a"].context, sites["docker.io/acme/a"].platforms) == ("dev/a", ("linux/amd64",))
    assert sites["ghcr.io/acme/b"].dockerfile == "dev/b/Containerfile"
    assert sites["ghcr.io/acme/b"].platforms == ("linux/amd64", "linux/arm64")


def test_precedence_config_then_build_tools_then_ci_then_directory() -> None:
    dockerfiles = ["cfg/Dockerfile", "sk/Dockerfile", "co/Dockerfile", "ci/Dockerfile", "services/api/Dockerfile"]
    name = "ghcr.io/acme/api"
    sk = BuildSite(name, "sk", "sk/Dockerfile", "skaffold", "skaffold.yaml", 3)
    co = BuildSite(name, "co", "co/Dockerfile", "compose", "compose.yaml", 4)
    ci = BuildSite(name, "ci", "ci/Dockerfile", "ci", ".github/workflows/b.yml", 9, ("linux/amd64",))
    cfg = config_sites({"ghcr.io/acme/api:1": "cfg"}, "archlint.toml", lambda p: p in dockerfiles)
    assert choose([ci, co, sk, *cfg], [name], dockerfiles)[name].context.link == "archlint.toml: images"
    assert choose([ci, co, sk], [name], dockerfiles)[name].context.link == "skaffold.yaml:3"
    assert choose([ci, co], [name], dockerfiles)[name].context.link == "compose.yaml:4"
    link = choose([ci], [name], dockerfiles)[name]
    assert (link.context.link, link.context.directory) == ("ci: .github/workflows/b.yml:9", "ci")
    # CI platforms describe what is pushed, whichever link named the directory.
    assert choose([ci, sk], [name], dockerfiles)[name].context.platforms == ("linux/amd64",)
    assert choose([], [name], dockerfiles)[name].context.link == "directory name (services/api)"


def test_directory_names_only_inside_the_repositorys_namespace() -> None:
    dockerfiles = ["services/agent/Dockerfile", "tools/agent/Dockerfile", "services/api/Dockerfile"]
    built = BuildSite("ghcr.io/acme/api", "services/api", "services/api/Dockerfile", "skaffold", "skaffold.yaml", 1)
    links = choose([built], ["ghcr.io/acme/agent", "registry.example.com/vendor/agent"], dockerfiles)
    assert "registry.example.com/vendor/agent" not in links
    agent = links["ghcr.io/acme/agent"]
    assert agent.context.directory == "services/agent"
    assert agent.ambiguous == ["tools/agent"]
    # With nothing else to go by, any namespace may use a directory name.
    assert "registry.example.com/vendor/agent" in choose([], ["registry.example.com/vendor/agent"], dockerfiles)


def test_wildcard_sites_match_concrete_images() -> None:
    site = BuildSite("ghcr.io/*/app", "app", "app/Dockerfile", "ci", "w.yml", 1, ("linux/amd64",))
    links = choose([site], ["ghcr.io/acme/app", "ghcr.io/acme/other"], ["app/Dockerfile"])
    assert set(links) == {"ghcr.io/acme/app"}
    assert normalise_image("$X/api:1".replace("$X", "*")) == "*/api"
    assert normalise_image("*:latest") is None  # nothing literal to match on
    assert normalise_image("ghcr.io/acme/*:*") is None


def test_wanted_images_prescan() -> None:
    yaml_text = "spec:\n  containers:\n    - image: ghcr.io/acme/api:1.8.0\n      imagePullPolicy: Always\n" \
                "    - {name: x, image: 'nginx:1.27'}\n"  # fmt: skip
    json_text = '{"spec": {"containers": [{"name": "a", "image": "quay.io/acme/b@sha256:' + "a" * 64 + '"}]}}'
    kustomization = "images:\n  - name: api\n    newName: ghcr.io/acme/renamed\n    newTag: '2'\n"
    wanted = wanted_images([yaml_text, json_text, "image: ${TEMPLATED}\n", kustomization])
    assert wanted == {
        "ghcr.io/acme/api": "ghcr.io/acme/api:1.8.0",
        "docker.io/library/nginx": "nginx:1.27",
        "quay.io/acme/b": "quay.io/acme/b@sha256:" + "a" * 64,
        "ghcr.io/acme/renamed": "ghcr.io/acme/renamed",
    }


def _skaffold(*images: str) -> list[BuildSite]:
    arts = "".join(f"    - image: {i}\n      context: {i.rsplit('/', 1)[-1]}\n" for i in images)
    return skaffold_sites(load_all(f"apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n{arts}"),
                          "skaffold.yaml")  # fmt: skip


def test_skaffold_default_repo_concatenates_on_artifact_registry_and_gcr() -> None:
    # skaffold docs (environment/image-registries): with a gcr.io / *-docker.pkg.dev default repo
    # the artifact's name is appended; a shared gcr.io/<project>/ prefix is not repeated.
    sites = _skaffold("frontend", "microservices-demo/cart", "gcr.io/k8s-skaffold/skaffold-example")
    wanted = [
        "us-docker.pkg.dev/google-samples/microservices-demo/frontend",
        "europe-docker.pkg.dev/p/r/microservices-demo/cart",
        "gcr.io/k8s-skaffold/myimage/skaffold-example",
    ]
    links = choose(sites, wanted, ["frontend/Dockerfile", "cart/Dockerfile", "skaffold-example/Dockerfile"])
    assert links[wanted[0]].context.directory == "frontend"
    assert links[wanted[0]].primary.default_repo == "us-docker.pkg.dev/google-samples/microservices-demo"
    assert "artifact frontend pushed under skaffold's default-repo" in links[wanted[0]].context.link
    assert links[wanted[1]].context.directory == "cart"
    assert links[wanted[2]].context.directory == "skaffold-example"


def test_skaffold_default_repo_escapes_elsewhere() -> None:
    # Other registries (ECR, Docker Hub …): `[/._:@]` in the artifact's name become `_`.
    sites = _skaffold("gcr.io/k8s-skaffold/skaffold-example", "web")
    ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    wanted = [
        f"{ecr}/gcr_io_k8s-skaffold_skaffold-example",
        f"{ecr}/web",
        f"{ecr}/gcr.io/k8s-skaffold/skaffold-example",
    ]
    links = choose(sites, wanted, ["skaffold-example/Dockerfile", "web/Dockerfile"])
    assert links[wanted[0]].context.directory == "skaffold-example"
    assert links[wanted[1]].context.directory == "web"
    assert wanted[2] not in links  # concatenation is the GCR/Artifact Registry strategy only


def test_one_docker_hub_image_ending_like_an_artifact_is_not_a_default_repo() -> None:
    sites = _skaffold("redis", "api")
    # bitnami/redis is a third-party image; only a namespace serving several artifacts is one.
    links = choose(sites, ["docker.io/bitnami/redis"], ["redis/Dockerfile", "api/Dockerfile"])
    assert "docker.io/bitnami/redis" not in links
    links = choose(sites, ["docker.io/acme/redis", "docker.io/acme/api"], ["redis/Dockerfile", "api/Dockerfile"])
    assert links["docker.io/acme/redis"].context.directory == "redis"
    # A well-known image is never taken for an artifact pushed under a default repository.
    assert "gcr.io/distroless/static" not in choose(_skaffold("static"), ["gcr.io/distroless/static"], [])
    assert choose(_skaffold("static"), ["quay.io/acme/static"], [])["quay.io/acme/static"].primary.default_repo
