"""`check --diff-base REF`: only findings in files changed since REF (real git repositories),
plus workloads whose build context changed."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from archlint import gitdiff
from archlint.facts import BuildContext, Facts, ImageVerdict, Workload
from archlint.findings import Finding
from tests.conftest import FIXTURES, CliResult


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(var, "archlint tests")
    for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(var, "tests@archlint.invalid")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(tmp_path))  # no user gitconfig surprises


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    (root / "a" / "requirements.txt").write_text("intel-openmp==2024.2.1\n")
    (root / "b" / "requirements.txt").write_text("mkl==2024.0\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "init")
    git(root, "checkout", "-q", "-b", "feature")
    return root


def _check(cli: Callable[..., CliResult], repo: Path, *extra: str) -> CliResult:
    return cli(["check", str(repo), "--offline", "--format", "json", *extra])


def test_only_findings_in_changed_files(cli: Callable[..., CliResult], repo: Path) -> None:
    (repo / "b" / "requirements.txt").write_text("mkl==2024.0\ntbb==2021.13.0\n")
    git(repo, "commit", "-qam", "add tbb")
    r = _check(cli, repo, "--diff-base", "main")
    assert r.rc == 1
    assert sorted((f["path"], f["line"]) for f in r.json()["findings"]) == [
        ("b/requirements.txt", 1),
        ("b/requirements.txt", 2),
    ]
    assert "1 finding(s) outside the 1 file(s) changed since main" in r.err
    # Without the option, the untouched file's finding is there too.
    assert len(_check(cli, repo).json()["findings"]) == 3


def test_nothing_changed_passes(cli: Callable[..., CliResult], repo: Path) -> None:
    r = _check(cli, repo, "--diff-base", "main")
    assert r.rc == 0
    assert r.json()["findings"] == []
    assert r.json()["summary"]["errors"] == 0


def test_uncommitted_and_untracked_files_count_as_changed(cli: Callable[..., CliResult], repo: Path) -> None:
    (repo / "a" / "requirements.txt").write_text("intel-openmp==2024.2.1\n# touched\n")  # modified, not staged
    (repo / "c").mkdir()
    (repo / "c" / "requirements.txt").write_text("tbb==2021.13.0\n")  # untracked
    (repo / ".gitignore").write_text("ignored/\n")
    (repo / "ignored").mkdir()
    (repo / "ignored" / "requirements.txt").write_text("mkl==2024.0\n")  # ignored: never scanned anyway
    r = _check(cli, repo, "--diff-base", "main")
    assert sorted(f["path"] for f in r.json()["findings"]) == ["a/requirements.txt", "c/requirements.txt"]


def test_compares_with_the_merge_base(cli: Callable[..., CliResult], repo: Path) -> None:
    # main moves on after the branch point: its changes are not this branch's findings.
    git(repo, "checkout", "-q", "main")
    (repo / "a" / "requirements.txt").write_text("intel-openmp==2024.2.1\nmkl-fft==1.3.8\n")
    git(repo, "commit", "-qam", "main moves on")
    git(repo, "checkout", "-q", "feature")
    (repo / "b" / "requirements.txt").write_text("mkl==2024.0\n\n")
    git(repo, "commit", "-qam", "touch b")
    r = _check(cli, repo, "--diff-base", "main")
    assert [f["path"] for f in r.json()["findings"]] == ["b/requirements.txt"]


def test_diff_base_and_baseline_combine(cli: Callable[..., CliResult], repo: Path, tmp_path: Path) -> None:
    base = tmp_path / "baseline.json"
    assert cli(["baseline", str(repo), "--offline", "-o", str(base)]).rc == 0
    (repo / "b" / "requirements.txt").write_text("mkl==2024.0\ntbb==2021.13.0\n")
    r = _check(cli, repo, "--diff-base", "main", "--baseline", str(base))
    assert r.rc == 1
    assert [f["message"].split("=")[0] for f in r.json()["findings"]] == ["tbb"]


def test_not_a_git_repository_is_exit_2(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests\n")
    r = cli(["check", str(tmp_path), "--offline", "--diff-base", "main"])
    assert r.rc == 2
    assert "not inside a git work tree" in r.err and r.out == ""


@pytest.mark.parametrize("ref", ["no-such-branch", "--output=x", "HEAD~5"])
def test_unknown_ref_is_exit_2(cli: Callable[..., CliResult], repo: Path, ref: str) -> None:
    r = cli(["check", str(repo), "--offline", f"--diff-base={ref}"])
    assert r.rc == 2
    assert f"--diff-base {ref}" in r.err or f"--diff-base {ref!r}" in r.err
    assert not (repo / "x").exists()


def _facts(contexts: list[BuildContext], evidence: list[str] | None = None) -> Facts:
    w = Workload(kind="Deployment", name="api", namespace="shop", path="deploy/api.yaml", line=1,
                 images=["ghcr.io/acme/api:1.4.2"], pod_spec={})  # fmt: skip
    if evidence is not None:
        w.image_verdicts = [ImageVerdict(ref="ghcr.io/acme/api:1.4.2", arm64=False, evidence=evidence)]
    return Facts(workloads=[w], build_contexts=contexts)


API_CONTEXT = BuildContext(image="ghcr.io/acme/api", directory="services/api", dockerfile="services/api/Dockerfile",
                           link="skaffold.yaml:8")  # fmt: skip


@pytest.mark.parametrize(
    ("changed", "touched"),
    [
        ({"services/api/requirements.txt"}, True),  # a pin inside the build context
        ({"services/api/Dockerfile"}, True),
        ({"deploy/api.yaml"}, True),  # the manifest itself
        ({"services/apix/requirements.txt"}, False),  # a sibling directory that shares a prefix
        ({"services/web/app.py", "README.md"}, False),
    ],
)
def test_workload_touched_through_its_build_context(changed: set[str], touched: bool) -> None:
    ids = gitdiff.touched_workloads(_facts([API_CONTEXT]), frozenset(changed))
    assert (ids == {"Deployment/shop/api"}) is touched


def test_build_context_link_absent_falls_back_to_verdict_evidence() -> None:
    facts = _facts([], evidence=["services/api/requirements.txt:3: intel-openmp: x86-64 wheels only"])
    assert gitdiff.touched_workloads(facts, frozenset({"services/api/requirements.txt"})) == {"Deployment/shop/api"}
    assert gitdiff.touched_workloads(facts, frozenset({"services/api/other.txt"})) == set()
    # Neither link nor evidence: only the manifest itself counts.
    assert gitdiff.touched_workloads(_facts([]), frozenset({"services/api/requirements.txt"})) == set()


def test_narrow_keeps_placement_findings_of_touched_workloads() -> None:
    placement = Finding(rule="ARCH501", message="pinned to amd64", path="deploy/api.yaml", key="x",
                        workload="Deployment/shop/api")  # fmt: skip
    other = Finding(rule="ARCH101", message="mkl", path="services/web/requirements.txt", key="mkl")
    kept, dropped = gitdiff.narrow([placement, other], _facts([API_CONTEXT]), frozenset({"services/api/Dockerfile"}))
    assert kept == [placement] and dropped == 1


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "demo")
    git(root, "checkout", "-q", "-b", "feature")
    return root


def _workloads_and_paths(r: CliResult) -> tuple[set[str], set[str]]:
    findings = r.json()["findings"]
    return {f["workload"] for f in findings if f["workload"]}, {f["path"] for f in findings}


def test_build_context_change_reports_its_workloads_end_to_end(cli: Callable[..., CliResult], demo: Path) -> None:
    # The demo's config maps ghcr.io/acme/scorer to services/scorer; no manifest changes here.
    full = _workloads_and_paths(_check(cli, demo, "--exit-zero"))
    assert {"Deployment/shop/scorer", "Deployment/shop/api"} <= full[0]
    with open(demo / "services" / "scorer" / "requirements.txt", "a") as fh:
        fh.write("# bumped\n")
    workloads, paths = _workloads_and_paths(_check(cli, demo, "--exit-zero", "--diff-base", "main"))
    assert workloads == {"Deployment/shop/scorer"}
    assert paths <= {"services/scorer/requirements.txt", "deploy/scorer.yaml"}
    assert "deploy/scorer.yaml" in paths  # reported although the manifest did not change
    git(demo, "checkout", "-q", "--", "services/scorer/requirements.txt")
    (demo / "services" / "api" / "app" / "extra.py").write_text("VALUE = 1\n")
    workloads, paths = _workloads_and_paths(_check(cli, demo, "--exit-zero", "--diff-base", "main"))
    assert workloads == {"Deployment/shop/api"} and paths == {"deploy/api.yaml"}
