"""Every network request of `archlint check` has a total deadline: a package index, an OSV service
or a container registry that sends one byte at a time (a slow-loris) or accepts and never
answers costs one deadline, not the whole run. The affected package or image is `unknown` with
the reason; everything else is answered as usual.

The servers drip a byte every 0.25 s, well inside the deadline: a per-read socket timeout never
fires against them, only a deadline over the whole request does. The bound on the run (3x the
deadline) is a behaviour bound, not a speed target: without the deadline these runs do not end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CliResult
from deps_support.server import IndexServer
from net_support.hostile import DRIP_BODY, DRIP_HEADERS, SILENT, RawServer
from registry_support.catalog import Pushed

pytest_plugins = ["registry_support.fixtures"]

Cli = Callable[..., CliResult]
DEADLINE = 1.5
BOUND = 3 * DEADLINE


@pytest.fixture(autouse=True)
def _no_config_search(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHLINT_NO_CONFIG_SEARCH", "1")


def timed_check(cli: Cli, root: Path, *args: str) -> tuple[float, CliResult, dict[str, Any]]:
    start = time.monotonic()
    res = cli(["check", "--format", "json", "--python", "3.11", "--config", str(root / "archlint.toml"),
               *args, str(root)])  # fmt: skip
    took = time.monotonic() - start
    assert res.rc in (0, 1), res.err
    return took, res, res.json()


def deps_repo(tmp_path: Path, requirements: str, server: IndexServer, extra: str = "") -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "requirements.txt").write_text(requirements)
    (root / "archlint.toml").write_text(
        f'index-url = "{server.url}"\nosv-url = "{server.osv_url}"\nindex-timeout = {DEADLINE}\n{extra}'
    )
    return root


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in report["dependencies"]}


@pytest.mark.parametrize("mode", [DRIP_HEADERS, DRIP_BODY, SILENT])
def test_a_stalling_index_page_costs_one_deadline(cli: Cli, server: IndexServer, tmp_path: Path, mode: str) -> None:
    server.faults["numpy"] = mode
    root = deps_repo(tmp_path, "numpy==1.19.5\nrequests==2.31.0\nonnxruntime-gpu==1.17.0\n", server)
    took, _, report = timed_check(cli, root)
    assert took < BOUND
    deps = by_name(report)
    assert deps["numpy"]["status"] == "unknown"
    assert set(deps["numpy"]["targets"].values()) == {"unknown"}
    (finding,) = [f for f in report["findings"] if f["rule"] == "ARCH105"]
    assert f"timed out after {DEADLINE:g}s" in finding["message"] and "index-timeout" in finding["message"]
    # The other pages came from the same index in the same run, unaffected.
    assert deps["requests"]["status"] == "ok"
    assert deps["onnxruntime-gpu"]["status"] == "unavailable"
    assert deps["onnxruntime-gpu"]["suggestion"]["vulnerabilities"] == []


@pytest.mark.parametrize("mode", [DRIP_HEADERS, SILENT])
def test_a_stalling_vulnerability_service_is_unknown_not_a_hang(
    cli: Cli, server: IndexServer, tmp_path: Path, mode: str
) -> None:
    server.osv_fault = mode
    root = deps_repo(tmp_path, "numpy==1.19.5\nrequests==2.31.0\n", server)
    took, _, report = timed_check(cli, root)
    assert took < BOUND
    deps = by_name(report)
    assert deps["requests"]["status"] == "ok"
    numpy = deps["numpy"]
    assert numpy["status"] == "needs-build"  # the index answered; only the advisory check is unknown
    assert numpy["suggestion"]["version"] == "1.23.2" and numpy["suggestion"]["vulnerabilities"] is None
    reason = numpy["suggestion"]["reason"]
    assert "vulnerability status unknown (OSV (" in reason
    assert f"timed out after {DEADLINE:g}s (index-timeout)" in reason
    queries = [s for s in server.seen if s.path == "/v1/query"]
    assert len(queries) == 1  # the first timeout marks the service down for the run


@pytest.fixture
def hostile_registry(request: pytest.FixtureRequest) -> Iterator[RawServer]:
    srv = RawServer(request.param, interval=0.25).start()
    yield srv
    srv.stop()


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: {name}, image: "{image}"}}]
"""


@pytest.mark.parametrize("hostile_registry", [DRIP_HEADERS, DRIP_BODY, SILENT], indirect=True)
def test_a_stalling_registry_costs_one_deadline(
    cli: Cli, registry: Pushed, hostile_registry: RawServer, tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    (root / "deploy").mkdir(parents=True)
    stalled = [f"127.0.0.1:{hostile_registry.port}/acme/{name}:1.0" for name in ("api", "web", "jobs")]
    images = {"api": stalled[0], "web": stalled[1], "jobs": stalled[2], "shop": registry.ref("archlint/multi:1.0")}
    (root / "deploy" / "apps.yaml").write_text(
        "---\n".join(DEPLOYMENT.format(name=n, image=i) for n, i in images.items())
    )
    (root / "archlint.toml").write_text(f"registry-timeout = {DEADLINE}\n")
    took, _, report = timed_check(cli, root, "--check-images")
    assert took < BOUND
    workloads = {w["name"]: w for w in report["workloads"]}
    for name in ("api", "web", "jobs"):
        (image,) = workloads[name]["images"]
        assert image["arm64"] is None
        assert f"timed out after {DEADLINE:g}s (registry-timeout)" in image["evidence"][0]
    unchecked = sorted(f["workload"] for f in report["findings"] if f["rule"] == "ARCH604")
    assert unchecked == ["Deployment/shop/api", "Deployment/shop/jobs", "Deployment/shop/web"]
    (shop,) = workloads["shop"]["images"]
    assert shop["arm64"] is True and shop["evidence"][0].startswith("registry: ")
