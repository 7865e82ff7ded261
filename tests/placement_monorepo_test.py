"""The issue's acceptance test: a realistic monorepo (fixtures/monorepo), offline.

Every workload gets the right `current` and `recommendation`, every conflict is an error on its
workload, and `check --fix --unsafe-fixes` followed by `check` leaves no error on any workload.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from archlint.placement.yamlio import load_all
from tests.conftest import FIXTURES

MONOREPO = FIXTURES / "monorepo"

# workload -> (current, recommendation) before any fix
EXPECTED = {
    "Deployment/shop/api": (["amd64"], "multi-arch"),  # clean, CI builds both; the arm64 pool is tainted
    "Deployment/ml/ml-inference": (["amd64", "arm64"], "amd64"),  # tensorflow-intel pinned in its Dockerfile
    "StatefulSet/ml/trainer": (["arm64"], "amd64"),  # amd64 pin, x86_64 Miniconda download, IPEX import
    "DaemonSet/kube-system/node-agent": (["amd64", "arm64"], "amd64"),  # vendored x86-64 .so
    "Job/shop/db-migrate": (["arm64"], "multi-arch"),
    "CronJob/shop/nightly-report": (["amd64", "arm64"], "amd64"),  # ready, but CI builds linux/amd64 only
    "Job/data/batch-import": (["amd64"], "amd64"),  # apt-get install intel-mkl
    "Deployment/shop/worker": (["arm64"], "amd64"),  # ready, `docker buildx build --platform linux/amd64`
    "ReplicaSet/edge/edge-gateway": (["amd64", "arm64"], "arm64"),  # built natively on an arm64 runner only
    "Pod/default/debug-shell": (["amd64"], "multi-arch"),  # busybox: well-known multi-arch image
    "ReplicationController/data/legacy-db": (["amd64", "arm64"], "amd64"),  # SQL Server: amd64-only image
    "Deployment/data/vendor-agent": (["amd64"], "unknown"),  # nothing vouches for a vendor's image
    "Rollout/shop/storefront": (["amd64"], "multi-arch"),  # a custom resource's pod template
}

# The conflicts: workloads that can land where one of their images cannot run.
CONFLICTS = {
    "Deployment/ml/ml-inference",
    "StatefulSet/ml/trainer",
    "DaemonSet/kube-system/node-agent",
    "ReplicationController/data/legacy-db",
    "ReplicaSet/edge/edge-gateway",
    "CronJob/shop/nightly-report",
    "Deployment/shop/worker",
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tests.conftest import _run

    # The fixture is a repository of its own: scanned where it lies, inside archlint's git work
    # tree, its paths would start with fixtures/monorepo/ (paths are relative to the git top).
    repo = tmp_path_factory.mktemp("monorepo") / "monorepo"
    shutil.copytree(MONOREPO, repo, symlinks=True)
    r = _run(["check", str(repo), "--offline", "--format", "json"])
    assert r.rc == 1, r.err
    return r.json()


def _workloads(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {w["id"]: w for w in report["workloads"]}


def test_every_workload_gets_current_and_recommendation(report: dict[str, Any]) -> None:
    got = {wid: (w["placement"]["current"], w["placement"]["recommendation"]) for wid, w in _workloads(report).items()}
    assert got == EXPECTED
    assert report["summary"]["workloads"] == {"arm64": 1, "multi-arch": 4, "amd64": 7, "unknown": 1}


def test_every_conflict_is_an_error_on_its_workload_with_a_fix(report: dict[str, Any]) -> None:
    errors = [f for f in report["findings"] if f["severity"] == "error" and f["workload"]]
    assert {f["workload"] for f in errors} == CONFLICTS
    assert all(f["fix"] and f["fix"]["applicability"] in ("safe", "unsafe") for f in errors)
    # The CI conflicts point at the workflow step that builds without linux/arm64.
    ci = {f["workload"]: (f["path"], f["line"]) for f in errors if f["rule"] == "ARCH305"}
    assert ci == {
        "CronJob/shop/nightly-report": (".github/workflows/images.yml", 48),
        "Deployment/shop/worker": (".github/workflows/images.yml", 64),
    }
    unknown = [f for f in report["findings"] if f["rule"] == "ARCH306"]
    assert [(f["workload"], f["severity"]) for f in unknown] == [("Deployment/data/vendor-agent", "warning")]


def test_reasons_name_the_evidence_and_the_link(report: dict[str, Any]) -> None:
    wl = _workloads(report)
    reasons = {wid: w["placement"]["reasons"] for wid, w in wl.items()}
    assert reasons["DaemonSet/kube-system/node-agent"][0].startswith(
        "ghcr.io/acme/agent:3.1.0 is x86-only: services/agent/vendor/lib/libfastcrc.so"
    )
    assert "copied into the image by services/agent/Dockerfile:7" in reasons["DaemonSet/kube-system/node-agent"][0]
    assert any("linked by directory name (services/agent)" in r for r in reasons["DaemonSet/kube-system/node-agent"])
    assert reasons["Deployment/ml/ml-inference"][0] == (
        "ghcr.io/acme/ml:2.3.0 is x86-only: services/ml/Dockerfile:6: tensorflow-intel: Intel's build of TensorFlow "
        "for x86-64"
    )
    trainer = reasons["StatefulSet/ml/trainer"]
    assert any("services/trainer/Dockerfile:1: FROM --platform=linux/amd64" in r for r in trainer)
    assert any("Miniconda3-py311_24.7.1-0-Linux-x86_64.sh" in r for r in trainer)
    assert any("linked by compose.yaml:4" in r for r in trainer)
    assert any("services/trainer/train.py:1: imports intel_extension_for_pytorch" in r for r in trainer)
    assert any("linked by archlint.toml: images" in r for r in reasons["Job/data/batch-import"])
    assert any("linked by skaffold.yaml:9" in r for r in reasons["Deployment/shop/api"])
    assert any("ci: .github/workflows/images.yml:74 builds linux/arm64" in r for r in
               reasons["ReplicaSet/edge/edge-gateway"])  # fmt: skip
    # Per-image verdicts in the workload's report.
    images = {i["ref"]: i for w in wl.values() for i in w["images"]}
    assert images["ghcr.io/acme/api:1.8.0"]["arm64"] is True
    assert images["ghcr.io/acme/agent:3.1.0"]["arm64"] is False
    assert images["quay.io/prometheus/node-exporter:v1.8.2"]["arm64"] is True
    assert images["registry.example.com/vendor/agent:4.2"] == {
        "ref": "registry.example.com/vendor/agent:4.2", "arm64": None, "evidence": []
    }  # fmt: skip


def test_patches_implement_the_recommendation(report: dict[str, Any]) -> None:
    wl = _workloads(report)
    for wid, w in wl.items():
        rec = w["placement"]["recommendation"]
        if rec == "unknown":
            assert w["placement"]["patch"] is None, wid

    def pod(patch: dict[str, Any]) -> dict[str, Any]:
        return patch["spec"]["template"]["spec"]  # type: ignore[no-any-return]

    # arm64-only image: require arm64 (the pod already tolerates the pool's taint).
    assert pod(wl["ReplicaSet/edge/edge-gateway"]["placement"]["patch"]) == {
        "nodeSelector": {"kubernetes.io/arch": "arm64"}
    }
    assert pod(wl["DaemonSet/kube-system/node-agent"]["placement"]["patch"]) == {
        "nodeSelector": {"kubernetes.io/arch": "amd64"}
    }
    # multi-arch: allow both, prefer arm64, tolerate the tainted arm64 pool.
    api = pod(wl["Deployment/shop/api"]["placement"]["patch"])
    assert api["tolerations"] == [{"key": "hardware-type", "operator": "Equal", "value": "agi-arm",
                                   "effect": "NoSchedule"}]  # fmt: skip
    pref = api["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert pref["preference"]["matchExpressions"][0]["values"] == ["arm64"]
    # Pinned to arm64 with a multi-arch image: the pin goes (null deletes in a merge patch), arm64 stays preferred.
    migrate = pod(wl["Job/shop/db-migrate"]["placement"]["patch"])
    assert migrate["nodeSelector"] is None and "preferredDuringSchedulingIgnoredDuringExecution" in str(migrate)


def test_fix_then_check_leaves_no_error_on_any_workload(tmp_path: Path, cli: Callable[..., Any]) -> None:
    repo = tmp_path / "monorepo"
    shutil.copytree(MONOREPO, repo)
    fixed = cli(["check", str(repo), "--offline", "--fix", "--unsafe-fixes"])
    assert "applied" in fixed.err
    r = cli(["check", str(repo), "--offline", "--format", "json"])
    after = r.json()
    workload_errors = [f for f in after["findings"] if f["severity"] == "error" and f["workload"]]
    assert workload_errors == []
    # The edits kept every manifest valid: no key added twice, nothing left unparsable.
    assert not [f for f in after["findings"] if f["rule"] in ("ARCH002", "ARCH211", "ARCH209")]
    for manifest in (repo / "k8s").glob("*.yaml"):
        load_all(manifest.read_text())  # raises on duplicate keys and syntax errors
    got = {w["id"]: (w["placement"]["current"], w["placement"]["recommendation"]) for w in after["workloads"]}
    assert got["ReplicaSet/edge/edge-gateway"] == (["arm64"], "arm64")
    assert got["Deployment/shop/worker"] == (["arm64"], "multi-arch")
    assert got["CronJob/shop/nightly-report"] == (["amd64", "arm64"], "multi-arch")
    # uv.lock still locks intel-openmp (a lockfile is re-locked, not edited): ml stays on amd64.
    for wid in (
        "StatefulSet/ml/trainer",
        "DaemonSet/kube-system/node-agent",
        "ReplicationController/data/legacy-db",
        "Deployment/ml/ml-inference",
    ):
        assert got[wid] == (["amd64"], "amd64"), wid
    # The workflow was edited in place: comments kept, arm64 added, QEMU set up once per job.
    wf = (repo / ".github/workflows/images.yml").read_text()
    assert "platforms: linux/amd64,linux/arm64  # arm64 later" in wf
    assert "--platform linux/amd64,linux/arm64 \\" in wf
    assert wf.count("docker/setup-qemu-action@v3") == 3
    # The original fixture is untouched.
    assert "platforms: linux/amd64  # arm64 later" in (MONOREPO / ".github/workflows/images.yml").read_text()


def test_full_text_report_ends_with_the_placement_table(
    cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # wide enough for the table (narrower: see text_output_test.py)
    out = cli(["check", str(MONOREPO), "--offline", "--output-format", "full"]).out
    table = out[out.index("Placement") :]
    rows = {line.split("│")[1].strip(): line for line in table.splitlines() if line.count("│") == 6}
    for wid, (current, rec) in EXPECTED.items():
        assert wid in rows, wid
        cells = [c.strip() for c in rows[wid].split("│")[1:-1]]
        assert cells[2:4] == [", ".join(current), rec], wid
        # The source: the manifest it is written in (paths are relative to the git top level).
        assert (Path(__file__).resolve().parents[1] / cells[1]).is_file(), wid
    assert "ghcr.io/acme/agent:3.1.0 is x86-only" in rows["DaemonSet/kube-system/node-agent"]
    # After the table only the summary (and the fix hint) follows.
    tail = out[out.rindex("└") :].splitlines()[1:]
    assert re.match(r"\d+ error\(s\), \d+ warning\(s\)", next(t for t in tail if t.strip()))


def test_concise_text_report_lists_each_workload_on_one_aligned_row(
    cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    out = cli(["check", str(MONOREPO), "--offline"]).out
    block = out[out.index("Placement:") :].split("\n\n")[0].splitlines()[1:]
    rows = {line.split()[0]: line for line in block if not line.startswith("    ")}
    assert set(rows) == set(EXPECTED)
    arrows = {line.index(" → ") for line in rows.values()}
    assert len(arrows) == 1  # the columns line up
    for wid, (current, rec) in EXPECTED.items():
        before, after = rows[wid].split(" → ")
        _ident, source, rest = before.split(None, 2)
        assert rest.strip() == ", ".join(current), wid
        assert (Path(__file__).resolve().parents[1] / source).is_file(), wid  # where it came from
        assert after.split()[0] == rec, wid


def test_markdown_summary_fits_a_pr_comment(cli: Callable[..., Any], tmp_path: Path) -> None:
    shutil.copytree(MONOREPO, tmp_path / "monorepo", symlinks=True)  # a repository of its own
    md = cli(["check", str(tmp_path / "monorepo"), "--offline", "--format", "markdown"]).out
    assert len(md) < 65536  # GitHub's comment size limit
    assert "| 🔴 `ReplicaSet/edge/edge-gateway` | k8s/edge.yaml | amd64, arm64 | arm64 |" in md
    assert "| `Deployment/data/vendor-agent` | k8s/misc.yaml | amd64 | unknown |" in md
    why = md[md.index("<summary>Why") :]
    assert "**`StatefulSet/ml/trainer`** (k8s/trainer.yaml) → amd64" in why and "linked by compose.yaml:4" in why


def test_default_profile_without_pools(tmp_path: Path, cli: Callable[..., Any]) -> None:
    """No cluster profile: one amd64 and one arm64 pool, untainted — where a missing arch
    requirement bites. Every x86-only image without a requirement is now a conflict too."""
    repo = tmp_path / "monorepo"
    shutil.copytree(MONOREPO, repo)
    cfg = repo / "archlint.toml"
    cfg.write_text(cfg.read_text().split("[[cluster.pools]]")[0])
    report = cli(["check", str(repo), "--offline", "--format", "json"]).json()
    errors = {f["workload"] for f in report["findings"] if f["severity"] == "error" and f["workload"]}
    assert errors == CONFLICTS | {"Job/data/batch-import"}
    current = {w["id"]: w["placement"]["current"] for w in report["workloads"]}
    assert current["Deployment/shop/api"] == ["amd64", "arm64"]
    cli(["check", str(repo), "--offline", "--fix", "--unsafe-fixes"])
    after = cli(["check", str(repo), "--offline", "--format", "json"]).json()
    assert not [f for f in after["findings"] if f["severity"] == "error" and f["workload"]]
    assert not [f for f in after["findings"] if f["rule"] in ("ARCH002", "ARCH211")]
