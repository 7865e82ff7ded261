"""Paths in every format are relative to the repository root, also when the config sits in a
subfolder (apps/shop/archlint.toml); `--diff` output is a patch `git apply` takes from there.

Oracles: real git (`git apply --check`, `git apply`), the OASIS SARIF schema, and the files on
disk (every reported path must open)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import FIXTURES, CliResult

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")

# A manifest whose fixable line is the last one, without a newline, under a name git quotes.
ODD_NAME = "deploy/batch job é.yaml"
ODD_MANIFEST = (
    "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: batch\n  namespace: shop\nspec:\n  template:\n"
    "    spec:\n      containers:\n        - name: batch\n          image: ghcr.io/acme/scorer:2.0.1\n"
    "      restartPolicy: Never\n      nodeSelector:\n        beta.kubernetes.io/os: linux"
)


def git(repo: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env_args = ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "core.autocrlf=false"]
    return subprocess.run([GIT or "git", *env_args, *args], cwd=repo, input=input, capture_output=True, text=True,
                          check=False)  # fmt: skip


def monorepo(tmp_path: Path) -> Path:
    """A git repository with the demo project in apps/shop (its config is apps/shop/archlint.toml)
    next to another app, plus a CRLF manifest and one with an unusual name and no final newline."""
    repo = tmp_path / "mono"
    shutil.copytree(FIXTURES / "demo", repo / "apps" / "shop")
    (repo / "apps" / "billing").mkdir()
    (repo / "apps" / "billing" / "requirements.txt").write_text("requests==2.32.3\n")
    shop = repo / "apps" / "shop"
    (shop / ODD_NAME).write_text(ODD_MANIFEST, encoding="utf-8")
    crlf = (FIXTURES / "demo" / "deploy" / "scorer.yaml").read_text().replace("name: scorer", "name: crlf")
    (shop / "deploy" / "crlf.yaml").write_bytes(crlf.replace("\n", "\r\n").encode())
    assert git(repo, "init", "-q").returncode == 0
    git(repo, "add", "-A")
    assert git(repo, "commit", "-qm", "init").returncode == 0
    return repo


def test_diff_from_a_subfolder_config_applies_with_git_from_the_repository_root(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    repo = monorepo(tmp_path)
    shop = repo / "apps" / "shop"
    d = cli(["check", "--diff", "--unsafe-fixes", "--offline"], cwd=shop)
    assert d.rc == 1, d.err
    headers = [line for line in d.out.splitlines() if line.startswith("diff --git ")]
    assert 'diff --git "a/apps/shop/deploy/batch job \\303\\251.yaml" "b/apps/shop/deploy/batch job \\303\\251.yaml"' \
        in headers  # fmt: skip
    assert "diff --git a/apps/shop/deploy/scorer.yaml b/apps/shop/deploy/scorer.yaml" in headers
    assert "diff --git a/apps/shop/deploy/crlf.yaml b/apps/shop/deploy/crlf.yaml" in headers
    assert "\\ No newline at end of file" in d.out
    check = git(repo, "apply", "--check", "-", input=d.out)
    assert check.returncode == 0, check.stderr
    # Applied by git, the tree is exactly what --fix writes into an identical repository.
    assert git(repo, "apply", "-", input=d.out).returncode == 0
    twin = monorepo(tmp_path / "twin")
    f = cli(["check", "--fix", "--unsafe-fixes", "--offline"], cwd=twin / "apps" / "shop")
    assert "applied" in f.err
    for rel in ("deploy/scorer.yaml", "deploy/crlf.yaml", ODD_NAME):
        assert (shop / rel).read_bytes() == (twin / "apps" / "shop" / rel).read_bytes(), rel
    assert (shop / "deploy" / "crlf.yaml").read_bytes().count(b"\r\n") > 10  # line ends kept


def _paths_in_sarif(doc: dict[str, Any]) -> list[tuple[str, int]]:
    out = []
    for run in doc["runs"]:
        for result in run["results"]:
            for loc in result["locations"]:
                phys = loc["physicalLocation"]
                out.append((phys["artifactLocation"]["uri"], phys["region"]["startLine"]))
    return out


def test_every_format_names_files_from_the_repository_root(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    repo = monorepo(tmp_path)
    shop = repo / "apps" / "shop"
    # SARIF: every location opens at a file that exists, on a line it has.
    sarif = cli(["check", "--offline", "--format", "sarif", "--exit-zero"], cwd=shop)
    doc = json.loads(sarif.out)
    schema = json.loads((FIXTURES / "schemas" / "sarif-2.1.0.json").read_text())
    jsonschema.Draft7Validator(schema).validate(doc)
    locations = _paths_in_sarif(doc)
    assert len(locations) > 5
    for uri, line in locations:
        assert uri.startswith("apps/shop/"), uri
        assert line <= len((repo / uri).read_bytes().split(b"\n")), (uri, line)
    assert ("apps/shop/services/scorer/requirements.txt", 4) in locations
    # JSON: findings, edits, dependencies and workloads.
    report = cli(["check", "--offline", "--format", "json", "--exit-zero"], cwd=shop).json()
    named = [f["path"] for f in report["findings"]]
    named += [e["path"] for f in report["findings"] if f["fix"] for e in f["fix"]["edits"]]
    named += [d["path"] for d in report["dependencies"]] + [w["path"] for w in report["workloads"]]
    assert named and all((repo / p).is_file() for p in named), [p for p in named if not (repo / p).is_file()]
    # The evidence chain names the same files (fleet attribution matches it against dependency paths).
    scorer = next(w for w in report["workloads"] if w["id"] == "Deployment/shop/scorer")
    assert any(e.startswith("apps/shop/services/scorer/requirements.txt:4:") for e in scorer["images"][0]["evidence"])
    # GitHub annotations and the concise text output.
    gh = cli(["check", "--offline", "--format", "github", "--exit-zero"], cwd=shop).out
    assert "file=apps/shop/services/scorer/requirements.txt,line=4," in gh
    text = cli(["check", "--offline", "--exit-zero"], cwd=shop).out
    assert "apps/shop/services/scorer/requirements.txt:4:1: ARCH101" in text


def test_config_patterns_stay_relative_to_the_config(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    repo = monorepo(tmp_path)
    shop = repo / "apps" / "shop"
    cfg = shop / "archlint.toml"
    # Anchored patterns (a slash inside) are relative to the config's directory, as in ruff.
    cfg.write_text('exclude = ["services/api/"]\n' + cfg.read_text()
                   + '[per-file-ignores]\n"services/scorer/*.txt" = ["ARCH101"]\n')  # fmt: skip
    report = cli(["check", "--offline", "--format", "json", "--exit-zero"], cwd=shop).json()
    paths = {f["path"] for f in report["findings"]}
    assert not any(p.startswith("apps/shop/services/api/") for p in paths)
    assert not any(f["rule"] == "ARCH101" for f in report["findings"])
    assert "apps/shop/services/scorer/scorer/__main__.py" in paths  # not matched by the *.txt pattern


def test_two_paths_outside_git_are_relative_to_their_common_parent(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    one, two = tmp_path / "one", tmp_path / "two" / "nested"
    for d in (one, two):
        d.mkdir(parents=True)
        (d / "requirements.txt").write_text("intel-openmp==2024.2.1\n")
    report = cli(["check", str(one), str(two), "--offline", "--format", "json", "--exit-zero"],
                 cwd=tmp_path.parent).json()  # fmt: skip
    paths = sorted({f["path"] for f in report["findings"]})
    assert paths == ["one/requirements.txt", "two/nested/requirements.txt"]
    d = cli(["check", str(one), str(two), "--offline", "--diff", "--unsafe-fixes"])
    assert d.rc == 1 and "diff --git a/two/nested/requirements.txt b/two/nested/requirements.txt" in d.out
    assert all(not line.startswith(("--- /", "+++ /")) for line in d.out.splitlines())
    check = git(tmp_path, "apply", "--check", "-", input=d.out)  # outside a repository git apply works too
    assert check.returncode == 0, check.stderr
