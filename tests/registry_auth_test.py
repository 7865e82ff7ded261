"""Registry credentials (docker config, credHelpers, REGISTRY_AUTH_FILE) and the bearer-token flow
against the real docker-registry configured for token auth."""

from __future__ import annotations

import base64
import json
import logging
import sys
from pathlib import Path

import pytest
from registry_support.catalog import REFRESH_TOKENS, USERS, Pushed, basic_auth_entry

from archlint.images import parse
from archlint.registry.auth import Credentials, CredentialStore, config_files, parse_challenges
from archlint.registry.cache import PlatformCache
from archlint.registry.interface import AuthError
from archlint.registry.oci import OCIRegistryClient

pytest_plugins = ["registry_support.fixtures"]

USER, PASSWORD = next(iter(USERS.items()))


def write_config(path: Path, doc: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def client(store: CredentialStore) -> OCIRegistryClient:
    return OCIRegistryClient(credentials=store, cache=PlatformCache(None), sleep=lambda s: None)


HELPER = """#!{python}
import json, sys
server = sys.stdin.read().strip()
with open({log!r}, "a") as fh:
    fh.write(sys.argv[1] + " " + server + "\\n")
answers = {answers!r}
if server not in answers:
    print("credentials not found in native keychain")
    sys.exit(1)
user, secret = answers[server]
print(json.dumps({{"ServerURL": server, "Username": user, "Secret": secret}}))
"""


def install_helper(bin_dir: Path, name: str, answers: dict[str, tuple[str, str]]) -> Path:
    """A real docker-credential-<name> executable speaking the credential-helpers protocol."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    log = bin_dir / f"{name}.log"
    exe = bin_dir / f"docker-credential-{name}"
    exe.write_text(HELPER.format(python=sys.executable, log=str(log), answers=answers))
    exe.chmod(0o755)
    return log


# --- credential lookup ------------------------------------------------------------------------


def test_auths_entries_and_key_forms(tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path / "config.json",
        {
            "auths": {
                "https://index.docker.io/v1/": basic_auth_entry("hubuser", "hubpass"),
                "ghcr.io": {"username": "gh", "password": "ghp_x"},
                "https://quay.io": {"identitytoken": "quay-refresh"},
                "quay.io/org": basic_auth_entry("orgbot", "orgpass"),
                "broken.example": {"auth": "!!!not base64"},
            }
        },
    )
    store = CredentialStore([cfg])
    hub = store.lookup("docker.io", "library/python")
    assert hub is not None and hub.basic == ("hubuser", "hubpass")
    gh = store.lookup("ghcr.io", "acme/api")
    assert gh is not None and gh.basic == ("gh", "ghp_x")
    org = store.lookup("quay.io", "org/app")  # the most specific key wins
    assert org is not None and org.basic == ("orgbot", "orgpass")
    other = store.lookup("quay.io", "someone/app")
    assert other is not None and other.identity_token == "quay-refresh" and other.basic is None
    assert store.lookup("broken.example", "x") is None
    assert store.lookup("registry.example.com", "x") is None


def test_registry_auth_file_comes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    auth_file = write_config(
        tmp_path / "containers" / "auth.json", {"auths": {"ghcr.io": basic_auth_entry("podman", "p1")}}
    )
    docker_dir = tmp_path / "docker"
    write_config(docker_dir / "config.json", {"auths": {"ghcr.io": basic_auth_entry("docker", "d1"),
                                                        "gcr.io": basic_auth_entry("docker", "d2")}})  # fmt: skip
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth_file))
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_dir))
    assert config_files() == [auth_file, docker_dir / "config.json"]
    store = CredentialStore()
    ghcr = store.lookup("ghcr.io", "a/b")
    assert ghcr is not None and ghcr.basic == ("podman", "p1")
    gcr = store.lookup("gcr.io", "a/b")  # not in REGISTRY_AUTH_FILE: the docker config answers
    assert gcr is not None and gcr.basic == ("docker", "d2")
    monkeypatch.delenv("REGISTRY_AUTH_FILE")
    again = CredentialStore().lookup("ghcr.io", "a/b")
    assert again is not None and again.basic == ("docker", "d1")


def test_cred_helpers_and_creds_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    ecr_log = install_helper(bin_dir, "ecr", {"123.dkr.ecr.eu-west-1.amazonaws.com": ("AWS", "ecr-pass")})
    store_log = install_helper(bin_dir, "desktop", {"https://index.docker.io/v1/": ("<token>", "hub-identity")})
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin")
    cfg = write_config(
        tmp_path / "config.json",
        {
            "credsStore": "desktop",
            "credHelpers": {"123.dkr.ecr.eu-west-1.amazonaws.com": "ecr", "gcr.io": "not-installed"},
            "auths": {"gcr.io": basic_auth_entry("_json_key", "from-auths")},
        },
    )
    store = CredentialStore([cfg])
    ecr = store.lookup("123.dkr.ecr.eu-west-1.amazonaws.com", "team/api")
    assert ecr is not None and ecr.basic == ("AWS", "ecr-pass") and "credHelper ecr" in ecr.source
    assert ecr_log.read_text() == "get 123.dkr.ecr.eu-west-1.amazonaws.com\n"
    hub = store.lookup("docker.io", "library/python")  # credsStore, asked with Docker Hub's legacy key
    assert hub is not None and hub.identity_token == "hub-identity" and hub.basic is None
    assert "get https://index.docker.io/v1/" in store_log.read_text()
    gcr = store.lookup("gcr.io", "p/i")  # the helper is not installed: fall back to auths
    assert gcr is not None and gcr.basic == ("_json_key", "from-auths")
    assert store.lookup("nothing.example", "x") is None  # the store's "not found" exit is no credentials


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe\x00garbage", b"[1, 2]", b'{"auths": []}', b'{"auths": {"ghcr.io": 7}}',
     b'{"credHelpers": {"ghcr.io": 7}, "auths": {"ghcr.io": {"auth": 5}}}', b" " * (2 * 1024 * 1024)],
    ids=["not-json", "binary", "list", "auths-list", "auth-int", "helper-int", "2MiB-blank"],
)  # fmt: skip
def test_bad_config_files_mean_no_credentials(tmp_path: Path, content: bytes) -> None:
    cfg = tmp_path / "config.json"
    cfg.write_bytes(content)
    assert CredentialStore([cfg, tmp_path / "missing.json"]).lookup("ghcr.io", "a/b") is None


def test_secrets_never_in_repr() -> None:
    creds = Credentials(username="u", password="hunter2", identity_token="refresh-xyz", source="test")
    assert "hunter2" not in repr(creds) and "refresh-xyz" not in repr(creds)


def test_parse_challenges() -> None:
    (bearer,) = parse_challenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/python:pull,push"'
    )
    assert bearer.scheme == "bearer"
    assert bearer.params == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:library/python:pull,push",
    }
    basic, second = parse_challenges('Basic realm="Registry Realm", Bearer realm="https://t/x\\"y",error=invalid_token')
    assert basic.scheme == "basic" and basic.params == {"realm": "Registry Realm"}
    assert second.params == {"realm": 'https://t/x"y', "error": "invalid_token"}
    assert parse_challenges("") == []


# --- the token flow against the real registry -------------------------------------------------


def test_anonymous_token_for_a_public_image(token_registry: Pushed) -> None:
    tokens = token_registry.token_server
    assert tokens is not None
    tokens.log.clear()
    c = client(CredentialStore([]))
    got = c.platforms(parse(token_registry.ref("public/multi:1.0")))
    assert got.platforms == ("linux/amd64", "linux/arm64")
    (req,) = tokens.log  # one token, reused for HEAD and GET
    assert req["authorization"] == ""
    assert req["query"]["scope"] == ["repository:public/multi:pull"]
    assert req["query"]["service"] == [tokens.SERVICE]
    # The cached token is reused for the next request to the same repository.
    c.platforms(parse(token_registry.ref("public/multi:1.0")))
    assert len(tokens.log) == 1


def test_private_image_needs_credentials(token_registry: Pushed, tmp_path: Path) -> None:
    with pytest.raises(AuthError, match="unauthorized"):
        client(CredentialStore([])).platforms(parse(token_registry.ref("private/amd64only:1.0")))
    cfg = write_config(tmp_path / "config.json", {"auths": {token_registry.host: basic_auth_entry(USER, PASSWORD)}})
    got = client(CredentialStore([cfg])).platforms(parse(token_registry.ref("private/amd64only:1.0")))
    assert got.platforms == ("linux/amd64",)
    assert token_registry.token_server is not None
    sent = token_registry.token_server.log[-1]["authorization"]
    assert base64.b64decode(sent.removeprefix("Basic ")).decode() == f"{USER}:{PASSWORD}"


def test_wrong_password_is_an_auth_error_that_leaks_nothing(
    token_registry: Pushed, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "wr0ng-but-secret"
    cfg = write_config(tmp_path / "config.json", {"auths": {token_registry.host: basic_auth_entry(USER, secret)}})
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as info:
        client(CredentialStore([cfg])).platforms(parse(token_registry.ref("private/amd64only:1.0")))
    message = str(info.value)
    assert "refused access with credentials from" in message and "HTTP 401" in message
    encoded = base64.b64encode(f"{USER}:{secret}".encode()).decode()
    for leak in (secret, encoded):
        assert leak not in message
        assert leak not in caplog.text


def test_identity_token_uses_the_refresh_grant(token_registry: Pushed, tmp_path: Path) -> None:
    refresh = next(iter(REFRESH_TOKENS))
    cfg = write_config(tmp_path / "config.json", {"auths": {token_registry.host: {"identitytoken": refresh}}})
    got = client(CredentialStore([cfg])).platforms(parse(token_registry.ref("private/amd64only:1.0")))
    assert got.platforms == ("linux/amd64",)
    assert token_registry.token_server is not None
    post = token_registry.token_server.log[-1]
    assert post["method"] == "POST"
    assert post["form"]["grant_type"] == ["refresh_token"]
    assert post["form"]["scope"] == ["repository:private/amd64only:pull"]
