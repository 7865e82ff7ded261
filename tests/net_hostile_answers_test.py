"""What a server says cannot break the scan: JSON nested deeper than any parser allows, or a version
with thousands of digits (Python refuses to turn such a string into an int), from the package
index, OSV or a registry makes that one package or image unknown, never an ARCH004 for the whole
dependency scan."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CliResult
from deps_support.server import RECORDED, IndexServer, osv_vuln
from registry_support.servers import Reply, ScriptedServer

from archlint.images import parse
from archlint.registry.auth import CredentialStore
from archlint.registry.cache import PlatformCache
from archlint.registry.interface import InvalidResponse
from archlint.registry.oci import OCI_INDEX, OCIRegistryClient

pytest_plugins = ["registry_support.fixtures"]

Cli = Callable[..., CliResult]
NESTED = b"[" * 100_000
HUGE = "9" * 5000  # more digits than int() accepts from a string (sys.int_info.str_digits_check_threshold)


def check(cli: Cli, tmp_path: Path, server: IndexServer, requirements: str) -> dict[str, Any]:
    (tmp_path / "requirements.txt").write_text(requirements)
    (tmp_path / "archlint.toml").write_text(f'index-url = "{server.url}"\nosv-url = "{server.osv_url}"\n')
    res = cli(["check", "--format", "json", "--python", "3.11", str(tmp_path)], cwd=tmp_path)
    assert res.rc in (0, 1), res.err
    report = res.json()
    assert not [f for f in report["findings"] if f["rule"] == "ARCH004"]
    return report


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in report["dependencies"]}


def unknown_reason(report: dict[str, Any], name: str) -> str:
    (msg,) = [f["message"] for f in report["findings"] if f["rule"] == "ARCH105" and f" {name}==" in f["message"]]
    return str(msg)


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text())
    return data


def test_nested_json_from_the_index_is_unknown_for_that_package(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    server.bodies["numpy"] = NESTED
    report = check(cli, tmp_path, server, "numpy==1.19.5\nrequests==2.31.0\n")
    deps = by_name(report)
    assert deps["numpy"]["status"] == "unknown" and "nested too deeply" in unknown_reason(report, "numpy")
    assert deps["requests"]["status"] == "ok"


def test_versions_with_thousands_of_digits_from_the_index(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    page = recorded("numpy")
    extra = copy.deepcopy(page["files"][0])
    extra["filename"] = f"numpy-1.{HUGE}-cp311-cp311-manylinux_2_17_aarch64.whl"
    page["files"].append(extra)
    # A Requires-Python nobody can evaluate is ignored, as pip ignores an invalid one.
    for f in page["files"]:
        if f["filename"].startswith("numpy-1.26.4-"):
            f["requires-python"] = f">=3.{HUGE}"
    server.bodies["numpy"] = json.dumps(page).encode()
    every = recorded("requests")
    for f in every["files"]:
        f["filename"] = f["filename"].replace("requests-2.31.0", f"requests-2.{HUGE}")
    server.bodies["requests"] = json.dumps(every).encode()
    report = check(cli, tmp_path, server, "numpy==1.26.4\nrequests==2.31.0\nidna==3.20\n")
    deps = by_name(report)
    assert deps["numpy"]["status"] == "ok"  # the hostile file is skipped, the pin is answered
    assert deps["numpy"]["targets"]["linux/arm64 cp311"] == "wheel"
    # Its 2.31.0 files now carry the unreadable version: pip finds nothing to install on any target,
    # which is not an arm64 gap (ARCH109, info), and never a scanner-wide internal error.
    assert deps["requests"]["status"] in ("unknown", "unavailable")
    gap = [f for f in report["findings"] if "requests" in f["message"] and f["severity"] != "info"]
    assert gap == [] and not [f for f in report["findings"] if f["rule"] == "ARCH004"]
    assert deps["idna"]["status"] == "ok"


@pytest.mark.parametrize(
    "body",
    [NESTED, json.dumps({"vulns": [osv_vuln("PYSEC-2099-9", "numpy", f"1.{HUGE}")]}).encode()],
    ids=["nested", "huge-fixed-version"],
)
def test_hostile_osv_answers_leave_the_vulnerability_status_unknown(
    cli: Cli, server: IndexServer, tmp_path: Path, body: bytes
) -> None:
    server.osv_body = body
    numpy = by_name(check(cli, tmp_path, server, "numpy==1.19.5\n"))["numpy"]
    assert numpy["status"] == "needs-build"
    assert numpy["suggestion"]["version"] == "1.23.2" and numpy["suggestion"]["vulnerabilities"] is None
    assert "vulnerability status unknown" in numpy["suggestion"]["reason"]


PATH = "/v2/acme/api/manifests/1.0"


def client() -> OCIRegistryClient:
    return OCIRegistryClient(credentials=CredentialStore([]), cache=PlatformCache(None), sleep=lambda s: None)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, {"Content-Type": OCI_INDEX}, NESTED),
        Reply(200, {"Content-Type": OCI_INDEX}, b'{"schemaVersion": 2, "manifests": [{"size": 1%s}]}' % HUGE.encode()),
    ],
    ids=["nested", "huge-number"],
)
def test_hostile_manifests_are_invalid_responses(scripted: ScriptedServer, reply: Reply) -> None:
    scripted.on(PATH, reply)
    with pytest.raises(InvalidResponse):
        client().platforms(parse(f"{scripted.host}/acme/api:1.0"))


def test_a_nested_token_answer_is_an_invalid_response(scripted: ScriptedServer) -> None:
    challenge = f'Bearer realm="{scripted.url}/token",service="scripted"'
    scripted.on(PATH, Reply(401, {"WWW-Authenticate": challenge}))
    scripted.on("/token", Reply(200, {"Content-Type": "application/json"}, NESTED))
    with pytest.raises(InvalidResponse, match="token service"):
        client().platforms(parse(f"{scripted.host}/acme/api:1.0"))
