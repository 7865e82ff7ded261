"""Faults a registry can answer with (401/403/429/5xx, timeouts, hostile content), served by a
scripted local HTTP server with manifests built by the OCI layout builder."""

from __future__ import annotations

import email.utils
import hashlib
import json
import time
from pathlib import Path

import pytest
import requests
from registry_support.oci_layout import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, Descriptor, Layout
from registry_support.servers import Reply, ScriptedServer

from archlint.images import parse
from archlint.registry.auth import CredentialStore
from archlint.registry.cache import PlatformCache
from archlint.registry.interface import AuthError, InvalidResponse, RateLimited, Unavailable
from archlint.registry.oci import ACCEPT, MAX_MANIFEST_BYTES, OCIRegistryClient, _retry_after

pytest_plugins = ["registry_support.fixtures"]

PATH = "/v2/acme/api/manifests/1.0"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(
    sleeps: Sleeps | None = None, cache: Path | None = None, store: CredentialStore | None = None, **kw: object
) -> OCIRegistryClient:
    return OCIRegistryClient(
        credentials=store or CredentialStore([]),
        cache=PlatformCache(cache),
        sleep=sleeps if sleeps is not None else Sleeps(),
        **kw,  # type: ignore[arg-type]
    )


def manifest_reply(layout: Layout, desc: Descriptor) -> Reply:
    return Reply(200, {"Content-Type": desc["mediaType"], "Docker-Content-Digest": desc["digest"]},
                 layout.read(desc["digest"]))  # fmt: skip


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout(tmp_path / "layout")


def serve_index(server: ScriptedServer, layout: Layout, *replies_before: Reply) -> Descriptor:
    index = layout.index([layout.image("amd64"), layout.image("arm64", variant="v8")])
    server.on(PATH, *replies_before, manifest_reply(layout, index))
    return index


def ref(server: ScriptedServer) -> str:
    return f"{server.host}/acme/api:1.0"


def test_accept_header_lists_index_and_manifest_types(scripted: ScriptedServer, layout: Layout) -> None:
    serve_index(scripted, layout)
    got = make_client().platforms(parse(ref(scripted)))
    assert got.platforms == ("linux/amd64", "linux/arm64")
    methods = [m for m, p, _ in scripted.log]
    assert methods == ["HEAD", "GET"]  # HEAD first
    for _, _, headers in scripted.log:
        accepted = {t.strip() for t in headers["Accept"].split(",")}
        assert {
            OCI_INDEX,
            OCI_MANIFEST,
            DOCKER_MANIFEST,
            "application/vnd.docker.distribution.manifest.list.v2+json",
        } <= accepted
    assert headers["User-Agent"].startswith("archlint/")
    assert ACCEPT.index(OCI_INDEX) < ACCEPT.index(OCI_MANIFEST)


def test_429_retry_after_is_honoured(scripted: ScriptedServer, layout: Layout) -> None:
    serve_index(scripted, layout, Reply(429, {"Retry-After": "2"}))
    sleeps = Sleeps()
    got = make_client(sleeps).platforms(parse(ref(scripted)))
    assert got.platforms == ("linux/amd64", "linux/arm64")
    assert sleeps == [2.0]
    assert [m for m, _, _ in scripted.log] == ["HEAD", "HEAD", "GET"]


def test_retry_after_longer_than_the_cap_fails_at_once(scripted: ScriptedServer) -> None:
    scripted.on(PATH, Reply(429, {"Retry-After": "3600"}))
    sleeps = Sleeps()
    with pytest.raises(RateLimited, match="retry after 3600s"):
        make_client(sleeps, max_retry_after=30).platforms(parse(ref(scripted)))
    assert sleeps == [] and len(scripted.log) == 1


def test_rate_limited_for_good_after_bounded_retries(scripted: ScriptedServer) -> None:
    scripted.on(PATH, Reply(429))
    sleeps = Sleeps()
    with pytest.raises(RateLimited, match="after 3 attempts"):
        make_client(sleeps, max_attempts=3).platforms(parse(ref(scripted)))
    assert len(scripted.log) == 3
    assert sleeps == [0.5, 1.0]  # exponential backoff without Retry-After, none after the last try


def test_retry_after_as_http_date() -> None:
    later = email.utils.formatdate(time.time() + 20, usegmt=True)
    wait = _retry_after(later)
    assert wait is not None and 15 <= wait <= 21
    assert _retry_after("7") == 7.0
    assert _retry_after("soon") is None and _retry_after(None) is None


def test_server_errors_are_retried(scripted: ScriptedServer, layout: Layout) -> None:
    serve_index(scripted, layout, Reply(500), Reply(503))
    sleeps = Sleeps()
    assert make_client(sleeps).platforms(parse(ref(scripted))).arches == {"amd64", "arm64"}
    assert sleeps == [0.5, 1.0]


def test_server_errors_for_good(scripted: ScriptedServer) -> None:
    scripted.on(PATH, Reply(500, body=b"oops"))
    with pytest.raises(Unavailable, match="HTTP 500 after 3 attempts"):
        make_client().platforms(parse(ref(scripted)))
    assert len(scripted.log) == 3


def test_timeouts(scripted: ScriptedServer, layout: Layout) -> None:
    scripted.on(PATH, Reply(200, delay=0.6))
    started = time.monotonic()
    client = make_client(timeout=0.15, max_attempts=2)
    with pytest.raises(Unavailable, match="timed out"):
        client.platforms(parse(ref(scripted)))
    assert time.monotonic() - started < 2.0
    # A request that used its whole deadline is not retried, and the registry is not asked again.
    assert len(scripted.log) == 1
    with pytest.raises(Unavailable, match="timed out"):
        client.platforms(parse(f"{scripted.host}/acme/other:2.0"))
    assert len(scripted.log) == 1


def test_anonymous_bearer_flow(scripted: ScriptedServer, layout: Layout) -> None:
    challenge = f'Bearer realm="{scripted.url}/token",service="scripted",scope="repository:acme/api:pull"'
    serve_index(scripted, layout, Reply(401, {"WWW-Authenticate": challenge}))
    scripted.on("/token", Reply(200, {"Content-Type": "application/json"}, b'{"token": "tok-123", "expires_in": 300}'))
    assert make_client().platforms(parse(ref(scripted))).arches == {"amd64", "arm64"}
    token_req = next(p for m, p, _ in scripted.log if p.startswith("/token"))
    assert "service=scripted" in token_req and "scope=repository%3Aacme%2Fapi%3Apull" in token_req
    authorized = [h.get("Authorization") for m, p, h in scripted.log if p == PATH]
    assert authorized == [None, "Bearer tok-123", "Bearer tok-123"]


@pytest.mark.parametrize(
    ("token_reply", "error", "match"),
    [
        (Reply(401), AuthError, "refused access anonymously"),
        (Reply(503), Unavailable, "HTTP 503"),
        (Reply(429, {"Retry-After": "60"}), RateLimited, "Retry-After 60"),
        (Reply(200, body=b"<html>"), InvalidResponse, "not JSON"),
        (Reply(200, body=b'{"nothing": 1}'), InvalidResponse, "no token"),
    ],
)
def test_token_service_failures(
    scripted: ScriptedServer, token_reply: Reply, error: type[Exception], match: str
) -> None:
    scripted.on(PATH, Reply(401, {"WWW-Authenticate": f'Bearer realm="{scripted.url}/token",service="s"'}))
    scripted.on("/token", token_reply)
    with pytest.raises(error, match=match):
        make_client().platforms(parse(ref(scripted)))


def test_still_unauthorized_with_a_token(scripted: ScriptedServer) -> None:
    scripted.on(PATH, Reply(401, {"WWW-Authenticate": f'Bearer realm="{scripted.url}/token"'}))
    scripted.on("/token", Reply(200, body=b'{"token": "t"}'))
    with pytest.raises(AuthError, match="unauthorized even with"):
        make_client().platforms(parse(ref(scripted)))


def test_basic_auth_challenge(scripted: ScriptedServer, layout: Layout, tmp_path: Path) -> None:
    serve_index(scripted, layout, Reply(401, {"WWW-Authenticate": 'Basic realm="private"'}))
    with pytest.raises(AuthError, match="no credentials"):
        make_client().platforms(parse(ref(scripted)))
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"auths": {scripted.host: {"username": "bob", "password": "pw"}}}))
    serve_index(scripted, layout, Reply(401, {"WWW-Authenticate": 'Basic realm="private"'}))
    make_client(store=CredentialStore([cfg])).platforms(parse(ref(scripted)))
    assert scripted.log[-1][2]["Authorization"] == "Basic Ym9iOnB3"


@pytest.mark.parametrize(
    ("reply", "match"),
    [(Reply(401), "without a usable WWW-Authenticate"), (Reply(403), "access denied"), (Reply(418), "HTTP 418")],
)
def test_refusals(scripted: ScriptedServer, reply: Reply, match: str) -> None:
    scripted.on(PATH, reply)
    with pytest.raises((AuthError, InvalidResponse), match=match):
        make_client().platforms(parse(ref(scripted)))


def test_head_rejected_falls_back_to_get(scripted: ScriptedServer, layout: Layout) -> None:
    serve_index(scripted, layout)
    scripted.on(f"HEAD {PATH}", Reply(405))
    assert make_client().platforms(parse(ref(scripted))).arches == {"amd64", "arm64"}


def test_single_manifest_is_read_through_its_config(scripted: ScriptedServer, layout: Layout) -> None:
    desc = layout.image("arm", variant="v7", docker=True)
    scripted.on(PATH, manifest_reply(layout, desc))
    manifest = json.loads(layout.read(desc["digest"]))
    config = manifest["config"]["digest"]
    scripted.on(
        f"/v2/acme/api/blobs/{config}", Reply(200, {"Content-Type": "application/octet-stream"}, layout.read(config))
    )
    assert make_client().platforms(parse(ref(scripted))).platforms == ("linux/arm/v7",)


def test_config_blob_that_does_not_match_its_digest(scripted: ScriptedServer, layout: Layout) -> None:
    desc = layout.image("amd64")
    scripted.on(PATH, manifest_reply(layout, desc))
    config = json.loads(layout.read(desc["digest"]))["config"]["digest"]
    scripted.on(f"/v2/acme/api/blobs/{config}", Reply(200, body=b'{"architecture": "arm64", "os": "linux"}'))
    with pytest.raises(InvalidResponse, match="does not match its digest"):
        make_client().platforms(parse(ref(scripted)))


def _doc_reply(doc: object, media_type: str, digest_header: str | None = None) -> Reply:
    body = json.dumps(doc).encode()
    digest = digest_header or "sha256:" + hashlib.sha256(body).hexdigest()
    return Reply(200, {"Content-Type": media_type, "Docker-Content-Digest": digest}, body)


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        (Reply(200, {"Content-Type": OCI_INDEX}, b"\x89PNG not json"), "not JSON"),
        (_doc_reply([1, 2], OCI_INDEX), "not a JSON object"),
        (_doc_reply({"schemaVersion": 2, "manifests": "nope"}, OCI_INDEX), "not a list"),
        (_doc_reply({"schemaVersion": 2, "manifests": [7]}, OCI_INDEX), "not an object"),
        (_doc_reply({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "a" * 64, "size": 1,
             "platform": {"architecture": "unknown", "os": "unknown"}}]}, OCI_INDEX), "lists no image platform"),
        (_doc_reply({"schemaVersion": 2, "manifests": [{"platform": {"architecture": 5, "os": "linux"}}]}, OCI_INDEX),
         "malformed platform"),
        (_doc_reply({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {
            "mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": "sha256:" + "b" * 64, "size": 9},
            "layers": []}, OCI_MANIFEST), "is not a container image"),
        (_doc_reply({"schemaVersion": 2, "mediaType": OCI_MANIFEST}, OCI_MANIFEST), "no config descriptor"),
        (_doc_reply({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + "c" * 64,
            "size": 10**10}, "layers": []}, OCI_MANIFEST), "is more than"),
        (_doc_reply({"weird": True}, "text/plain"), "unsupported media type"),
        (_doc_reply({"schemaVersion": 2, "manifests": []}, OCI_INDEX, "sha256:" + "0" * 64), "does not match"),
        (Reply(200, {"Content-Type": OCI_INDEX}, b" " * (MAX_MANIFEST_BYTES + 1)), "limit"),
    ],
)  # fmt: skip
def test_hostile_or_broken_manifests(scripted: ScriptedServer, reply: Reply, match: str) -> None:
    scripted.on(PATH, reply)
    with pytest.raises(InvalidResponse, match=match):
        make_client().platforms(parse(ref(scripted)))


def test_digest_pinned_reference_is_verified(scripted: ScriptedServer, layout: Layout) -> None:
    index = layout.index([layout.image("amd64")])
    other = "sha256:" + hashlib.sha256(b"something else").hexdigest()
    scripted.on(f"/v2/acme/api/manifests/{other}", manifest_reply(layout, index))
    with pytest.raises(InvalidResponse, match="does not match its digest"):
        make_client().platforms(parse(f"{scripted.host}/acme/api@{other}"))


def test_schema1_manifest(scripted: ScriptedServer) -> None:
    doc = {"schemaVersion": 1, "name": "acme/api", "tag": "1.0", "architecture": "arm64", "fsLayers": []}
    scripted.on(PATH, _doc_reply(doc, "application/vnd.docker.distribution.manifest.v1+prettyjws"))
    assert make_client().platforms(parse(ref(scripted))).platforms == ("linux/arm64",)


def test_cache_hit_after_head_skips_the_get(scripted: ScriptedServer, layout: Layout, tmp_path: Path) -> None:
    serve_index(scripted, layout)
    first = make_client(cache=tmp_path).platforms(parse(ref(scripted)))
    second = make_client(cache=tmp_path).platforms(parse(ref(scripted)))
    assert (first.cached, second.cached) == (False, True)
    assert second.platforms == first.platforms and second.digest == first.digest
    assert (scripted.count("HEAD"), scripted.count("GET")) == (2, 1)


def test_docker_hub_references_go_to_registry_1(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def fake_request(self: requests.Session, method: str, url: str, **kw: object) -> requests.Response:
        asked.append(url)
        raise requests.ConnectionError("Connection refused (test)")

    monkeypatch.setattr(requests.Session, "request", fake_request)
    with pytest.raises(Unavailable, match="Connection refused"):
        make_client(max_attempts=1).platforms(parse("python:3.12-slim"))
    assert asked == ["https://registry-1.docker.io/v2/library/python/manifests/3.12-slim"]


def test_compressed_bomb_is_cut_at_the_limit(scripted: ScriptedServer) -> None:
    import gzip
    import tracemalloc

    bomb = gzip.compress(b" " * (16 * 1024 * 1024), compresslevel=6)  # 16 MiB of spaces, ~16 KiB on the wire
    scripted.on(PATH, Reply(200, {"Content-Type": OCI_INDEX, "Content-Encoding": "gzip"}, bomb))
    tracemalloc.start()
    try:
        with pytest.raises(InvalidResponse, match="limit"):
            make_client().platforms(parse(ref(scripted)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_MANIFEST_BYTES
