"""pytest fixtures for the registry tests (loaded with `pytest_plugins` by each registry test module).

The registries are started once per session: images are pushed once and only read afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from registry_support.catalog import IMAGES, REFRESH_TOKENS, USERS, Pushed
from registry_support.oci_layout import Layout, Pusher
from registry_support.servers import RegistryProcess, ScriptedServer, TokenServer, registry_binary


def _build(layout: Layout) -> None:
    amd, arm = layout.image("amd64"), layout.image("arm64", variant="v8")
    layout.tag(layout.index([amd, arm]), "multi")
    layout.tag(layout.image("amd64"), "amd64only")
    layout.tag(layout.image("arm64", docker=True), "arm64only")
    children = [layout.image("amd64", docker=True), layout.image("arm", variant="v7", docker=True),
                layout.image("arm64", variant="v8", docker=True)]  # fmt: skip
    layout.tag(layout.index(children, docker=True), "dockerlist")
    subject = layout.image("amd64")
    layout.tag(layout.index([subject, layout.attestation(subject)]), "attested")


def _push_all(layout: Layout, pusher: Pusher, pushed: Pushed, names: list[str]) -> None:
    for name in names:
        repo, tag = name.rsplit(":", 1)
        kind = {"api": "multi"}.get(repo.rsplit("/", 1)[-1], repo.rsplit("/", 1)[-1])
        pushed.digests[name] = pusher.push(layout, repo, kind, tag)


def _need_binary() -> None:
    if registry_binary() is None:
        pytest.skip("the docker-registry binary is not installed (apt-get install docker-registry)")


@pytest.fixture(scope="session")
def oci_layout(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    layout = Layout(tmp_path_factory.mktemp("oci-layout"))
    _build(layout)
    return layout


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory, oci_layout: Layout) -> Iterator[Pushed]:
    """The real docker-registry, no auth, with IMAGES pushed."""
    _need_binary()
    proc = RegistryProcess(tmp_path_factory.mktemp("registry"))
    proc.start()
    try:
        pushed = Pushed(proc)
        _push_all(oci_layout, Pusher(proc.url), pushed, list(IMAGES))
        yield pushed
    finally:
        proc.stop()


def _admin_authorizer(token_server: TokenServer):  # type: ignore[no-untyped-def]
    def authorize(repository: str, _challenge: str) -> str | None:
        user, password = next(iter(USERS.items()))
        r = requests.get(
            f"{token_server.url}/token",
            params={"service": TokenServer.SERVICE, "scope": f"repository:{repository}:pull,push"},
            auth=(user, password),
            timeout=10,
        )
        return f"Bearer {r.json()['token']}" if r.ok else None

    return authorize


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory, oci_layout: Layout) -> Iterator[Pushed]:
    """The real docker-registry with token auth trusting a local token server: `public/multi:1.0`
    is pullable anonymously, `private/amd64only:1.0` only with credentials."""
    _need_binary()
    work = tmp_path_factory.mktemp("token-registry")
    tokens = TokenServer(work, USERS, REFRESH_TOKENS)
    tokens.start()
    proc = RegistryProcess(work, token=tokens.registry_auth())
    try:
        proc.start()
        pushed = Pushed(proc, token_server=tokens)
        pusher = Pusher(proc.url, authorize=_admin_authorizer(tokens))
        for name, kind in (("public/multi:1.0", "multi"), ("private/amd64only:1.0", "amd64only")):
            repo, tag = name.rsplit(":", 1)
            pushed.digests[name] = pusher.push(oci_layout, repo, kind, tag)
        tokens.log.clear()
        yield pushed
    finally:
        proc.stop()
        tokens.stop()


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
