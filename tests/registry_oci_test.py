"""The OCI distribution client against the real docker-registry server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from registry_support.catalog import IMAGES, Pushed
from registry_support.oci_layout import DOCKER_MANIFEST, Layout
from registry_support.servers import free_port

from archlint.cachefile import read_entry, write_entry
from archlint.images import DOCKER_HUB_ENDPOINT, parse, registry_endpoint
from archlint.registry.auth import CredentialStore
from archlint.registry.cache import VERSION as CACHE_VERSION
from archlint.registry.cache import PlatformCache
from archlint.registry.interface import (
    SOURCE_DOCKER_LIST,
    SOURCE_DOCKER_MANIFEST,
    SOURCE_OCI_INDEX,
    SOURCE_OCI_MANIFEST,
    NotFound,
    Unavailable,
    normalise_platform,
)
from archlint.registry.oci import OCIRegistryClient, _scheme, check_many

pytest_plugins = ["registry_support.fixtures"]


def client(cache_dir: Path | None = None) -> OCIRegistryClient:
    return OCIRegistryClient(credentials=CredentialStore([]), cache=PlatformCache(cache_dir), sleep=lambda s: None)


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_platforms_of_every_pushed_image(registry: Pushed, name: str) -> None:
    got = client().platforms(parse(registry.ref(name)))
    assert got.platforms == IMAGES[name]
    assert got.digest == registry.digests[name]
    assert not got.cached


def test_sources_name_what_the_tag_resolved_to(registry: Pushed) -> None:
    c = client()
    assert c.platforms(parse(registry.ref("archlint/multi:1.0"))).source == SOURCE_OCI_INDEX
    assert c.platforms(parse(registry.ref("archlint/dockerlist:1.0"))).source == SOURCE_DOCKER_LIST
    assert c.platforms(parse(registry.ref("archlint/amd64only:1.0"))).source == SOURCE_OCI_MANIFEST
    assert c.platforms(parse(registry.ref("archlint/arm64only:1.0"))).source == SOURCE_DOCKER_MANIFEST


def test_attestation_entries_are_not_platforms(registry: Pushed) -> None:
    got = client().platforms(parse(registry.ref("archlint/attested:1.0")))
    assert got.platforms == ("linux/amd64",)
    assert got.arches == {"amd64"}


def test_without_list_types_the_registry_silently_answers_the_amd64_child(registry: Pushed) -> None:
    # Why the Accept header must list both index types: the registry falls back to one child.
    url = f"{registry.registry.url}/v2/archlint/dockerlist/manifests/1.0"
    r = requests.get(url, headers={"Accept": DOCKER_MANIFEST}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == DOCKER_MANIFEST
    assert r.headers["Docker-Content-Digest"] != registry.digests["archlint/dockerlist:1.0"]
    assert "manifests" not in json.loads(r.content)
    # The client sees the whole list.
    assert client().platforms(parse(registry.ref("archlint/dockerlist:1.0"))).arches == {"amd64", "arm", "arm64"}


def test_digest_pinned_reference(registry: Pushed) -> None:
    digest = registry.digests["archlint/multi:1.0"]
    got = client().platforms(parse(f"{registry.host}/archlint/multi@{digest}"))
    assert got.digest == digest
    assert got.platforms == ("linux/amd64", "linux/arm64")
    # Tag and digest together: the digest is what is asked for.
    got = client().platforms(parse(f"{registry.host}/archlint/multi:no-such-tag@{digest}"))
    assert got.platforms == ("linux/amd64", "linux/arm64")


def test_unknown_tag_and_repository_are_not_found(registry: Pushed) -> None:
    with pytest.raises(NotFound, match=r"archlint/multi:9\.9"):
        client().platforms(parse(registry.ref("archlint/multi:9.9")))
    with pytest.raises(NotFound, match="not found"):
        client().platforms(parse(registry.ref("archlint/never-pushed:1.0")))


def test_cache_by_digest(registry: Pushed, tmp_path: Path) -> None:
    name = "archlint/dockerlist:1.0"
    first = client(tmp_path).platforms(parse(registry.ref(name)))
    assert not first.cached
    again = client(tmp_path).platforms(parse(registry.ref(name)))
    assert again.cached and again.platforms == first.platforms and again.digest == first.digest
    # A digest-pinned reference is answered from the cache without any request: here nothing even
    # listens on the registry's address.
    dead = f"127.0.0.1:{free_port()}/archlint/dockerlist@{first.digest}"
    got = client(tmp_path).platforms(parse(dead))
    assert got.cached and got.platforms == ("linux/amd64", "linux/arm/v7", "linux/arm64")
    # Without the cache the same reference cannot be answered.
    with pytest.raises(Unavailable, match="cannot connect"):
        client(None).platforms(parse(dead))


def test_corrupt_cache_entries_are_misses(registry: Pushed, tmp_path: Path) -> None:
    name = "archlint/multi:1.0"
    digest = registry.digests[name]
    entry = tmp_path / "registry" / f"v{CACHE_VERSION}" / "sha256" / f"{digest[7:]}.json"
    entry.parent.mkdir(parents=True)
    good_json_wrong_answer = (
        b'{"digest": "sha256:other", "platforms": ["linux/s390x"], "source": "x"}',
        b'{"digest": "%s", "platforms": "linux/s390x", "source": "x"}' % digest.encode(),
    )
    for junk in (b"\xff\xfe not json", *good_json_wrong_answer):
        entry.write_bytes(junk)  # not written by the cache: fails its checksum
        got = client(tmp_path).platforms(parse(registry.ref(name)))
        assert not got.cached and got.platforms == ("linux/amd64", "linux/arm64")
    for junk in (b"\xff\xfe not json", *good_json_wrong_answer):
        write_entry(entry, junk)  # an intact entry whose content is not a registry answer
        got = client(tmp_path).platforms(parse(registry.ref(name)))
        assert not got.cached and got.platforms == ("linux/amd64", "linux/arm64")
    # ... and the good answer replaced the junk.
    stored = read_entry(entry, 1 << 16)
    assert stored is not None and json.loads(stored)["platforms"] == ["linux/amd64", "linux/arm64"]


def test_cache_disabled_writes_nothing(registry: Pushed, tmp_path: Path) -> None:
    client(None).platforms(parse(registry.ref("archlint/multi:1.0")))
    assert not any(tmp_path.iterdir())
    cache = PlatformCache(tmp_path)
    cache.put("sha256:../../etc/passwd", ("linux/amd64",), "x")  # not a digest: never a path
    assert not any(tmp_path.iterdir())


def test_check_many_concurrently_with_errors_as_values(registry: Pushed) -> None:
    refs = [parse(registry.ref(n)) for n in IMAGES] + [parse(registry.ref("archlint/nope:1"))]
    results = check_many(client(), refs + refs[:2], workers=4)
    assert len(results) == len(refs)
    for n in IMAGES:
        assert results[parse(registry.ref(n))].platforms == IMAGES[n]
    assert isinstance(results[parse(registry.ref("archlint/nope:1"))], NotFound)


def test_oci_layout_on_disk_is_a_valid_image_layout(oci_layout: Layout) -> None:
    # The pushed images come from a real OCI image layout: index.json names them, blobs exist.
    index = json.loads((oci_layout.root / "index.json").read_text())
    names = {d["annotations"]["org.opencontainers.image.ref.name"] for d in index["manifests"]}
    assert {"multi", "amd64only", "arm64only", "dockerlist", "attested"} <= names
    assert json.loads((oci_layout.root / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    for d in index["manifests"]:
        assert len(oci_layout.read(d["digest"])) == d["size"]


def test_endpoints_and_schemes() -> None:
    assert registry_endpoint(parse("python:3.12").registry) == DOCKER_HUB_ENDPOINT
    assert registry_endpoint(parse("index.docker.io/acme/api").registry) == DOCKER_HUB_ENDPOINT
    assert registry_endpoint(parse("ghcr.io/acme/api").registry) == "ghcr.io"
    assert parse("python:3.12").repository == "library/python"
    assert _scheme("127.0.0.1:5000") == "http"
    assert _scheme("localhost:5000") == "http"
    assert _scheme("[::1]:5000") == "http"
    assert _scheme("registry-1.docker.io") == "https"
    assert _scheme("10.0.0.1:5000") == "https"


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        (("linux", "arm64", "v8"), "linux/arm64"),
        (("linux", "aarch64", ""), "linux/arm64"),
        (("Linux", "x86_64", ""), "linux/amd64"),
        (("linux", "arm", "v7"), "linux/arm/v7"),
        (("windows", "amd64", ""), "windows/amd64"),
    ],
)
def test_normalise_platform(raw: tuple[str, str, str], want: str) -> None:
    assert normalise_platform(*raw) == want


@pytest.mark.network
def test_docker_hub_live() -> None:
    # The real thing: anonymous token from auth.docker.io, an OCI index with attestation entries.
    got = client().platforms(parse("python:3.12-slim"))
    assert {"amd64", "arm64"} <= got.arches
    assert not any("unknown" in p for p in got.platforms)
