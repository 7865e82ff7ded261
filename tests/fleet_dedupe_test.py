"""`report merge` counts one repository once: reports carry the repository they describe
(remote, scanned paths, commit), written by the real CLI inside a real git repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from archlint.repository import normalise_remote
from tests.conftest import FIXTURES, CliResult

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")


def git(repo: Path, *args: str, when: str = "2024-01-01T10:00:00+00:00") -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run([GIT or "git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args], cwd=repo,
                   env=env, capture_output=True, check=True)  # fmt: skip


def shop(tmp_path: Path) -> Path:
    repo = tmp_path / "shop"
    shutil.copytree(FIXTURES / "demo", repo)
    git(repo, "init", "-q")
    git(repo, "remote", "add", "origin", "https://ci-token:s3cret@GitHub.com/acme/shop.git")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one")
    return repo


def report(cli: Callable[..., CliResult], path: Path, out: Path, cwd: Path | None = None) -> dict[str, Any]:
    r = cli(["check", str(path), "--offline", "--format", "json", "-o", str(out), "--exit-zero"], cwd=cwd)
    assert r.rc == 0, r.err
    doc: dict[str, Any] = CliResult(0, out.read_text(), "").json()  # validated against the schema
    return doc


def merge(cli: Callable[..., CliResult], *reports: Path) -> tuple[dict[str, Any], str]:
    r = cli(["report", "merge", *map(str, reports), "--format", "json"])
    assert r.rc == 0, r.err
    return json.loads(r.out), r.err


def test_reports_name_their_repository_without_credentials(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    repo = shop(tmp_path)
    doc = report(cli, repo, tmp_path / "r.json")
    assert doc["repository"]["id"] == "github.com/acme/shop"
    assert doc["repository"]["paths"] == ["."]
    assert doc["repository"]["committed_at"] == "2024-01-01T10:00:00+00:00"
    assert "s3cret" not in (tmp_path / "r.json").read_text() and "ci-token" not in (tmp_path / "r.json").read_text()
    assert normalise_remote("git@github.com:acme/shop.git") == "github.com/acme/shop"
    assert normalise_remote("ssh://git@gitlab.example:2222/g/sub/p.git/") == "gitlab.example:2222/g/sub/p"


def test_the_same_repository_twice_counts_once_keeping_the_newest(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    repo = shop(tmp_path)
    old = tmp_path / "reports" / "old" / "shop.json"
    old.parent.mkdir(parents=True)
    report(cli, repo, old)
    # The x86-only pins are dropped and committed a day later.
    req = repo / "services" / "scorer" / "requirements.txt"
    req.write_text("".join(line for line in req.read_text().splitlines(True) if "intel" not in line))
    git(repo, "commit", "-qam", "two", when="2024-01-02T10:00:00+00:00")
    new = tmp_path / "reports" / "new" / "shop.json"
    new.parent.mkdir(parents=True)
    newest = report(cli, repo, new)
    billing = tmp_path / "reports" / "billing.json"
    shutil.copy(FIXTURES / "fleet" / "reports" / "billing.json", billing)

    fleet, err = merge(cli, new, old, billing)
    assert fleet["totals"]["repositories"] == 2
    [entry] = [r for r in fleet["repositories"] if r["report"] == str(new)]
    assert entry["errors"] == newest["summary"]["errors"]
    assert str(old) in err and "counted once" in err and "newer" in err
    # The order of the inputs does not matter: the newer commit wins.
    again, _ = merge(cli, old, new, billing)
    assert {r["report"] for r in again["repositories"]} == {str(new), str(billing)}
    # The very same file twice.
    twice, err = merge(cli, old, old)
    assert twice["totals"]["repositories"] == 1 and twice["totals"]["workloads"] == 2


def test_two_subprojects_of_one_monorepo_are_two_entries(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    repo = tmp_path / "mono"
    for app in ("shop", "billing"):
        shutil.copytree(FIXTURES / "demo", repo / "apps" / app)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one")
    a = report(cli, repo / "apps" / "shop", tmp_path / "shop.json")
    b = report(cli, Path("."), tmp_path / "billing.json", cwd=repo / "apps" / "billing")
    assert a["repository"]["id"] == b["repository"]["id"] and a["repository"]["id"].startswith("git:")
    assert (a["repository"]["paths"], b["repository"]["paths"]) == (["apps/shop"], ["apps/billing"])
    fleet, err = merge(cli, tmp_path / "shop.json", tmp_path / "billing.json")
    assert fleet["totals"]["repositories"] == 2 and err == ""


def test_reports_from_outside_git_count_once_when_identical(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES / "demo", tree)
    one = report(cli, tree, tmp_path / "a.json")
    assert "repository" not in one
    shutil.copy(tmp_path / "a.json", tmp_path / "copy.json")
    fleet, err = merge(cli, tmp_path / "a.json", tmp_path / "copy.json")
    assert fleet["totals"]["repositories"] == 1 and "identical reports" in err
    (tree / "services" / "api" / "requirements.txt").write_text("intel-openmp==2024.2.1\n")
    report(cli, tree, tmp_path / "b.json")
    fleet, _ = merge(cli, tmp_path / "a.json", tmp_path / "b.json")
    assert fleet["totals"]["repositories"] == 2
