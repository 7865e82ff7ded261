"""`archlint report merge`: many repositories' reports into one fleet view (json, markdown)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import FIXTURES, CliResult

REPORTS = FIXTURES / "fleet" / "reports"
ORDER = ["shop-api", "search", "billing", "data-jobs"]


def fleet_schema() -> dict[str, Any]:
    text = resources.files("archlint.fleet").joinpath("fleet-v1.schema.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def merged(cli: Callable[..., CliResult], *paths: str | Path, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    r = cli(["report", "merge", *map(str, paths), "--format", "json", *extra])
    assert r.rc == 0, r.err
    doc: dict[str, Any] = json.loads(r.out)
    jsonschema.Draft202012Validator(fleet_schema()).validate(doc)
    return doc


@pytest.fixture
def fleet(cli: Callable[..., CliResult]) -> dict[str, Any]:
    return merged(cli, *(REPORTS / f"{n}.json" for n in ORDER))


def test_totals_by_recommendation_and_ready_share(fleet: dict[str, Any]) -> None:
    t = fleet["totals"]
    assert t["repositories"] == 4 and t["workloads"] == 6
    assert t["by_recommendation"] == {"arm64": 1, "multi-arch": 1, "amd64": 3, "unknown": 1}
    assert t["arm64_ready"] == 2 and t["arm64_ready_share"] == pytest.approx(2 / 6, abs=1e-4)
    assert t["errors"] == 6  # the sum of the four reports' error counts


def test_ready_share_per_repository(fleet: dict[str, Any]) -> None:
    repos = {r["name"]: r for r in fleet["repositories"]}
    assert list(repos) == ORDER  # the names come from the file names, in input order
    assert repos["shop-api"]["arm64_ready_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert repos["search"]["arm64_ready_share"] == 0.5
    assert repos["billing"]["arm64_ready_share"] == 0.0  # one workload, unknown: not ready
    assert repos["data-jobs"]["arm64_ready_share"] is None  # no workloads: no share, not 0%
    assert repos["search"]["blocking_dependencies"] == 2
    assert repos["shop-api"]["report"].endswith("shop-api.json")


def test_dependencies_ranked_by_workloads_they_block(fleet: dict[str, Any]) -> None:
    deps = fleet["blockers"]["dependencies"]
    assert [(d["name"], d["workloads"], d["repositories"]) for d in deps] == [
        ("intel-openmp", 2, 3),  # by location in shop-api, by (underscored) name in search; data-jobs has no workloads
        ("mkl", 1, 1),
        ("tbb", 0, 1),  # unavailable, but no workload uses it
    ]
    openmp = deps[0]
    assert openmp["repository_names"] == ["data-jobs", "search", "shop-api"]
    assert openmp["versions"] == ["2023.2.0", "2024.2.1"]
    assert openmp["workload_ids"] == ["search: Deployment/search/indexer", "shop-api: Deployment/shop/api"]
    # mkl-fft needs a build and is never named as a blocker ("mkl" inside "mkl-fft" does not count either way).
    assert "mkl-fft" not in {d["name"] for d in deps}


def test_base_images_only_from_blocking_evidence(fleet: dict[str, Any]) -> None:
    images = fleet["blockers"]["base_images"]
    # python:3.12-slim appears in an amd64 workload's evidence too, as publishing arm64: not a blocker.
    assert [(i["image"], i["workloads"], i["workload_ids"]) for i in images] == [
        ("docker.io/acme/legacy-base:2", 1, ["shop-api: CronJob/shop/nightly-report"])
    ]


def test_images_holding_workloads_on_amd64(fleet: dict[str, Any]) -> None:
    images = fleet["blockers"]["images"]
    # The x86-only images of the three amd64-bound workloads, by name without tag; multi-arch and
    # unknown images are not blockers.
    assert sorted((i["image"], i["workloads"]) for i in images) == [
        ("ghcr.io/acme/api", 1),
        ("ghcr.io/acme/report", 1),
        ("registry.example.com/search/indexer", 1),
    ]


def test_workload_list_carries_repository_and_first_reason(fleet: dict[str, Any]) -> None:
    stuck = [(w["repository"], w["id"]) for w in fleet["workloads"] if w["recommendation"] == "amd64"]
    assert stuck == [
        ("shop-api", "Deployment/shop/api"),
        ("shop-api", "CronJob/shop/nightly-report"),
        ("search", "Deployment/search/indexer"),
    ]
    ledger = next(w for w in fleet["workloads"] if w["id"] == "Deployment/billing/ledger")
    assert ledger["reason"] == "no evidence about image ledger:latest" and ledger["current"] == ["amd64", "arm64"]


def test_markdown_has_the_same_numbers(cli: Callable[..., CliResult]) -> None:
    r = cli(["report", "merge", *(str(REPORTS / f"{n}.json") for n in ORDER), "--title", "Acme fleet"])
    assert r.rc == 0
    md = r.out
    assert md.startswith("# Acme fleet\n")
    assert "**33%** of 6 workload(s) in 4 repositories" in md
    assert "| search | 50% | █████░░░░░ | 2 | 1 | 0 | 1 | 0 | 2 | 2 |" in md
    assert "| data-jobs | n/a |" in md
    assert "| `intel-openmp` | 2023.2.0, 2024.2.1 | 2 | data-jobs, search, shop-api |" in md
    assert "| `docker.io/acme/legacy-base:2` | 1 | shop-api |" in md
    # Reports without a workload source (older archlint) show the workload's file instead.
    row = "| shop-api | `CronJob/shop/nightly-report` | deploy/report.yaml | base image docker.io/acme/legacy-base:2"
    assert row in md


def test_names_in_order_then_from_files(cli: Callable[..., CliResult]) -> None:
    doc = merged(cli, REPORTS / "search.json", REPORTS / "billing.json", extra=("--name", "acme/search"))
    assert [r["name"] for r in doc["repositories"]] == ["acme/search", "billing"]
    assert doc["workloads"][0]["repository"] == "acme/search"


def test_generic_artifact_names_use_their_directory(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    # actions/download-artifact lays reports out as <artifact>/<file>: every file has the same name.
    for repo, src in (("shop-api", "shop-api"), ("search", "search")):
        (tmp_path / repo).mkdir()
        shutil.copy(REPORTS / f"{src}.json", tmp_path / repo / "archlint.json")
    shutil.copy(REPORTS / "billing.json", tmp_path / "billing.archlint.json")
    doc = merged(cli, tmp_path / "shop-api" / "archlint.json", tmp_path / "search" / "archlint.json",
                 tmp_path / "billing.archlint.json")  # fmt: skip
    assert [r["name"] for r in doc["repositories"]] == ["shop-api", "search", "billing"]


def test_same_file_name_in_two_directories(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    for team in ("team-a", "team-b"):
        (tmp_path / team).mkdir()
        # Two repositories called search (identical copies would be one report given twice).
        doc = json.loads((REPORTS / "search.json").read_text())
        doc["repository"] = {"id": f"git.example/{team}/search", "paths": ["."], "commit": None, "committed_at": None}
        (tmp_path / team / "search.json").write_text(json.dumps(doc))
    doc = merged(cli, tmp_path / "team-a" / "search.json", tmp_path / "team-b" / "search.json")
    assert [r["name"] for r in doc["repositories"]] == ["team-a/search", "team-b/search"]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["a", "b", "c"], "3 --name values for 2 report(s)"),
        (["same", "same"], "repository name 'same' given to more than one report"),
        (["billing"], "repository name 'billing' given to more than one report"),
        ([" "], "cannot be empty"),
    ],
)
def test_bad_names_are_exit_2(cli: Callable[..., CliResult], names: list[str], message: str) -> None:
    args = ["report", "merge", str(REPORTS / "search.json"), str(REPORTS / "billing.json")]
    r = cli([*args, *(x for n in names for x in ("--name", n))])
    assert r.rc == 2 and message in r.err and r.out == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{trunc", "not valid JSON"),
        (b"\xff\xfe\xfa", "not valid JSON"),
        (b'{"version": "2.1.0", "runs": []}', "not an archlint JSON report (schema_version 1): at (top level)"),
        (None, "cannot read report"),
    ],
)
def test_bad_input_is_exit_2_naming_it(
    cli: Callable[..., CliResult], tmp_path: Path, content: bytes | None, message: str
) -> None:
    bad = tmp_path / "broken-repo.json"
    if content is not None:
        bad.write_bytes(content)
    r = cli(["report", "merge", str(REPORTS / "search.json"), str(bad), "--format", "json"])
    assert r.rc == 2
    assert f"{bad}: " in r.err and message in r.err
    assert r.out == ""


def test_schema_violation_names_the_location(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    doc = json.loads((REPORTS / "search.json").read_text())
    doc["workloads"][1]["placement"]["recommendation"] = "arm"
    bad = tmp_path / "edited.json"
    bad.write_text(json.dumps(doc))
    r = cli(["report", "merge", str(bad)])
    assert r.rc == 2
    assert f"{bad}: not an archlint JSON report" in r.err and "workloads/1/placement/recommendation" in r.err


def test_output_file(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    out = tmp_path / "fleet.md"
    r = cli(["report", "merge", str(REPORTS / "search.json"), "--output", str(out)])
    assert r.rc == 0 and r.out == ""
    assert out.read_text().startswith("# arm64 readiness across the fleet")
    assert out.stat().st_mode & 0o044 == 0o044  # readable like any file open() creates (umask 022)


def test_real_reports_from_check(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    # End to end: reports written by `archlint check --format json` merge as they are.
    paths = []
    for name, pins in (("svc-a", "intel-openmp==2024.2.1\nflask==3.0.3\n"), ("svc-b", "requests==2.32.3\n")):
        repo = tmp_path / name
        repo.mkdir()
        (repo / ".git").mkdir()
        (repo / "requirements.txt").write_text(pins)
        report = tmp_path / f"{name}.json"
        r = cli(["check", str(repo), "--offline", "--format", "json", "--output", str(report), "--exit-zero"])
        assert r.rc == 0, r.err
        paths.append(report)
    demo = tmp_path / "demo.json"
    cli(["check", str(FIXTURES / "demo"), "--offline", "--format", "json", "--output", str(demo), "--exit-zero"])
    paths.append(demo)
    inputs = [json.loads(p.read_text()) for p in paths]
    doc = merged(cli, *paths)
    assert [r["name"] for r in doc["repositories"]] == ["svc-a", "svc-b", "demo"]
    assert doc["totals"]["errors"] == sum(i["summary"]["errors"] for i in inputs)
    assert doc["totals"]["workloads"] == sum(len(i["workloads"]) for i in inputs)
    for rec in ("arm64", "multi-arch", "amd64", "unknown"):
        assert doc["totals"]["by_recommendation"][rec] == sum(i["summary"]["workloads"][rec] for i in inputs)
    openmp = next(d for d in doc["blockers"]["dependencies"] if d["name"] == "intel-openmp")
    assert "svc-a" in openmp["repository_names"] and "svc-b" not in openmp["repository_names"]


def test_blockers_from_real_placement_output(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    # Contract with placement: the evidence it writes is what fleet attribution reads.
    paths = []
    for name in ("demo", "monorepo"):
        out = tmp_path / f"{name}.json"
        r = cli(["check", str(FIXTURES / name), "--offline", "--format", "json", "-o", str(out), "--exit-zero"])
        assert r.rc == 0, r.err
        paths.append(out)
    doc = merged(cli, *paths)
    deps = {d["name"]: d for d in doc["blockers"]["dependencies"]}
    assert "demo: Deployment/shop/scorer" in deps["intel-openmp"]["workload_ids"]
    assert "monorepo: Deployment/ml/ml-inference" in deps["intel-openmp"]["workload_ids"]
    assert deps["intel-openmp"]["repository_names"] == ["demo", "monorepo"]
    held = {i["image"]: i for i in doc["blockers"]["images"]}
    assert held["mcr.microsoft.com/mssql/server"]["workload_ids"] == ["monorepo: ReplicationController/data/legacy-db"]
    stuck = {f"{w['repository']}: {w['id']}" for w in doc["workloads"] if w["recommendation"] == "amd64"}
    assert stuck == {label for i in held.values() for label in i["workload_ids"]}  # each names its image


def test_one_id_from_two_overlays_is_two_workloads(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """A base rendered by a staging and a prod overlay deploys twice: each row keeps its source,
    and each counts against the image that holds it on amd64."""
    rep = json.loads((REPORTS / "shop-api.json").read_text())
    api = next(w for w in rep["workloads"] if w["id"] == "Deployment/shop/api")
    staging, prod = json.loads(json.dumps(api)), json.loads(json.dumps(api))
    staging["source"], prod["source"] = "k8s/overlays/staging", "k8s/overlays/prod"
    rep["workloads"] = [w for w in rep["workloads"] if w is not api] + [staging, prod]
    path = tmp_path / "shop-api.json"
    path.write_text(json.dumps(rep))
    doc = merged(cli, path)
    rows = [(w["id"], w["source"]) for w in doc["workloads"] if w["id"] == "Deployment/shop/api"]
    assert rows == [("Deployment/shop/api", "k8s/overlays/staging"), ("Deployment/shop/api", "k8s/overlays/prod")]
    [held] = [i for i in doc["blockers"]["images"] if i["image"] == "ghcr.io/acme/api"]
    assert held["workloads"] == 2
    assert held["workload_ids"] == ["shop-api: Deployment/shop/api (k8s/overlays/prod)",
                                    "shop-api: Deployment/shop/api (k8s/overlays/staging)"]  # fmt: skip
    md = cli(["report", "merge", str(path)]).out
    assert "| shop-api | `Deployment/shop/api` | k8s/overlays/staging |" in md
    assert "| shop-api | `Deployment/shop/api` | k8s/overlays/prod |" in md
