"""`archlint check --check-images` end to end: manifests pointing at images in the real
docker-registry, through the CLI, validated JSON reports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CliResult
from registry_support.catalog import Pushed

pytest_plugins = ["registry_support.fixtures"]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: shop
spec:
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: {name}
          image: {image}
"""


@pytest.fixture(autouse=True)
def _no_config_search(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHLINT_NO_CONFIG_SEARCH", "1")


def repo(tmp_path: Path, images: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    (root / "deploy").mkdir(parents=True)
    docs = [DEPLOYMENT.format(name=name, image=image) for name, image in images.items()]
    (root / "deploy" / "apps.yaml").write_text("---\n".join(docs))
    return root


def workloads(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {w["id"]: w for w in report["workloads"]}


def registry_findings(report: dict[str, Any]) -> list[tuple[str, str | None]]:
    return sorted((f["rule"], f["workload"]) for f in report["findings"] if f["rule"].startswith("ARCH6"))


def test_check_images_end_to_end(cli: Callable[..., CliResult], registry: Pushed, tmp_path: Path) -> None:
    amd, multi = registry.ref("archlint/amd64only:1.0"), registry.ref("archlint/multi:1.0")
    root = repo(tmp_path, {"api": amd, "web": multi})
    result = cli(["check", str(root), "--check-images", "--format", "json"])
    report = result.json()
    assert result.rc == 1, result.err
    assert registry_findings(report) == [("ARCH601", "Deployment/shop/api")]
    (finding,) = [f for f in report["findings"] if f["rule"] == "ARCH601"]
    assert finding["path"] == "deploy/apps.yaml" and finding["severity"] == "error"
    assert registry.digests["archlint/amd64only:1.0"] in finding["message"]
    by_id = workloads(report)
    (api_image,) = by_id["Deployment/shop/api"]["images"]
    assert api_image["ref"] == amd and api_image["arm64"] is False
    assert api_image["evidence"][0] == (
        f"registry: {amd} published for linux/amd64 (digest {registry.digests['archlint/amd64only:1.0']})"
    )
    (web_image,) = by_id["Deployment/shop/web"]["images"]
    assert web_image["arm64"] is True
    assert web_image["evidence"][0].startswith(f"registry: {multi} published for linux/amd64, linux/arm64 (digest ")
    assert by_id["Deployment/shop/web"]["placement"]["recommendation"] == "multi-arch"
    assert by_id["Deployment/shop/api"]["placement"]["recommendation"] == "amd64"
    # The placement scanner does not report the same conflict a second time.
    api_errors = [
        f["rule"] for f in report["findings"] if f["workload"] == "Deployment/shop/api" and f["severity"] == "error"
    ]
    assert api_errors == ["ARCH601"]
    # A second run answers from the cache (ARCHLINT_CACHE_DIR) with the same report.
    again = cli(["check", str(root), "--check-images", "--format", "json"]).json()
    assert again["findings"] == report["findings"] and again["workloads"] == report["workloads"]


def test_without_the_flag_no_registry_is_asked(cli: Callable[..., CliResult], registry: Pushed, tmp_path: Path) -> None:
    root = repo(tmp_path, {"api": registry.ref("archlint/amd64only:1.0")})
    report = cli(["check", str(root), "--format", "json"]).json()
    assert registry_findings(report) == []
    (image,) = workloads(report)["Deployment/shop/api"]["images"]
    assert not any(e.startswith("registry: ") for e in image["evidence"])


def test_config_key_turns_it_on(cli: Callable[..., CliResult], registry: Pushed, tmp_path: Path) -> None:
    root = repo(tmp_path, {"worker": registry.ref("archlint/arm64only:1.0")})
    (root / "archlint.toml").write_text("check-images = true\n")
    report = cli(["check", str(root), "--config", str(root / "archlint.toml"), "--format", "json"]).json()
    assert registry_findings(report) == [("ARCH602", "Deployment/shop/worker")]


def test_offline_wins_and_says_so(cli: Callable[..., CliResult], registry: Pushed, tmp_path: Path) -> None:
    root = repo(tmp_path, {"api": registry.ref("archlint/amd64only:1.0")})
    result = cli(["check", str(root), "--check-images", "--offline", "--format", "json"])
    report = result.json()
    assert registry_findings(report) == [("ARCH605", None)]
    (note,) = [f for f in report["findings"] if f["rule"] == "ARCH605"]
    assert note["severity"] == "info" and "--offline" in note["message"]
    (image,) = workloads(report)["Deployment/shop/api"]["images"]
    assert image["arm64"] is None
    assert any("not checked: --offline" in e for e in image["evidence"])


def test_unknown_images_stay_unknown(cli: Callable[..., CliResult], registry: Pushed, tmp_path: Path) -> None:
    root = repo(tmp_path, {"ghost": registry.ref("archlint/never-pushed:1.0")})
    report = cli(["check", str(root), "--check-images", "--format", "json"]).json()
    assert ("ARCH604", "Deployment/shop/ghost") in registry_findings(report)
    (image,) = workloads(report)["Deployment/shop/ghost"]["images"]
    assert image["arm64"] is None
    assert "not found" in image["evidence"][0]
    assert workloads(report)["Deployment/shop/ghost"]["placement"]["recommendation"] == "unknown"


def test_text_report_and_suppression(cli: Callable[..., CliResult], registry: Pushed, tmp_path: Path) -> None:
    root = repo(tmp_path, {"api": registry.ref("archlint/amd64only:1.0")})
    text = cli(["check", str(root), "--check-images"])
    assert "ARCH601" in text.out and "exec format error" in text.out
    ignored = cli(["check", str(root), "--check-images", "--ignore", "ARCH601", "--format", "json"]).json()
    assert registry_findings(ignored) == []


def test_annotation_suppresses_on_the_object(cli: Callable[..., CliResult], registry: Pushed, tmp_path: Path) -> None:
    root = repo(tmp_path, {"api": registry.ref("archlint/amd64only:1.0")})
    path = root / "deploy" / "apps.yaml"
    annotated = path.read_text().replace(
        "  namespace: shop\n",
        "  namespace: shop\n  annotations:\n"
        '    ignore-check.archlint.io/image-published-without-arm64: "webhook pins it"\n',
        1,
    )
    path.write_text(annotated)
    report = cli(["check", str(root), "--check-images", "--format", "json"]).json()
    assert registry_findings(report) == []
    assert workloads(report)["Deployment/shop/api"]["images"][0]["arm64"] is False
