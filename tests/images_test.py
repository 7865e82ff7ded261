from __future__ import annotations

import pytest

from archlint.images import InvalidReference, name_of, parse


@pytest.mark.parametrize(
    ("ref", "registry", "repository", "tag", "digest"),
    [
        ("python", "docker.io", "library/python", None, None),
        ("python:3.11-slim", "docker.io", "library/python", "3.11-slim", None),
        ("bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", None),
        ("docker.io/library/nginx:1.27", "docker.io", "library/nginx", "1.27", None),
        ("index.docker.io/library/nginx", "docker.io", "library/nginx", None, None),
        ("registry-1.docker.io/acme/api", "docker.io", "acme/api", None, None),
        ("ghcr.io/acme/team/api:v1.2.3", "ghcr.io", "acme/team/api", "v1.2.3", None),
        ("localhost:5000/api:dev", "localhost:5000", "api", "dev", None),
        ("localhost/api", "localhost", "api", None, None),
        ("10.0.0.1:5000/a/b@sha256:" + "a" * 64, "10.0.0.1:5000", "a/b", None, "sha256:" + "a" * 64),
        ("nginx:1.27@sha256:" + "b" * 64, "docker.io", "library/nginx", "1.27", "sha256:" + "b" * 64),
    ],
)
def test_parse(ref, registry, repository, tag, digest):
    r = parse(ref)
    assert (r.registry, r.repository, r.tag, r.digest) == (registry, repository, tag, digest)


@pytest.mark.parametrize("ref", ["", "Nginx", "a b", "${IMAGE}", "{{ .Values.image }}", "nginx@sha256:zz", "x:bad tag"])
def test_invalid(ref):
    with pytest.raises(InvalidReference):
        parse(ref)
    assert name_of(ref) is None


def test_name_links_tags_and_digests_of_one_image():
    assert name_of("acme/api:1") == name_of("docker.io/acme/api@sha256:" + "c" * 64) == "docker.io/acme/api"
    assert parse("acme/api").reference == "latest"
