"""Ignore files are honoured as git honours them: inside a work tree git itself is asked
(`.git/info/exclude`, the user's global excludes, tracked files a pattern matches); outside
one, archlint reads the .gitignore files. The oracle is `git ls-files` on the same tree."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")
PIN = "intel-openmp==2024.2.1\n"


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run([GIT or "git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args], cwd=repo,
                          capture_output=True, text=True, check=True)  # fmt: skip
    return proc.stdout


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose requirement files are ignored, or not, by each of git's sources."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "global-ignore").write_text("*.scratch.txt\n")
    (home / "gitconfig").write_text(f"[core]\n\texcludesFile = {home / 'global-ignore'}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    repo = tmp_path / "repo"
    files = {
        ".gitignore": "build/\nvendored-requirements.txt\n",
        "requirements.txt": PIN,
        "app/requirements.txt": PIN,  # untracked, not ignored
        "build/requirements.txt": PIN,  # .gitignore
        "local/requirements.txt": PIN,  # .git/info/exclude
        "notes/requirements.scratch.txt": PIN,  # the user's global excludes
        "vendored-requirements.txt": PIN,  # ignored by pattern, but tracked (force-added)
        "sub/.gitignore": "*-requirements.txt\n!keep-requirements.txt\n",
        "sub/keep-requirements.txt": PIN,  # the last matching pattern wins: kept
        "sub/dev-requirements.txt": PIN,  # ignored by sub/.gitignore
    }
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git(repo, "init", "-q")
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("local/\n")
    git(repo, "add", "requirements.txt", ".gitignore")
    git(repo, "add", "-f", "vendored-requirements.txt")
    git(repo, "commit", "-qm", "init")
    return repo


def _scanned(cli: Callable[..., CliResult], *args: str, cwd: Path | None = None) -> set[str]:
    r = cli(["check", *args, "--offline", "--format", "json", "--exit-zero"], cwd=cwd)
    assert r.rc == 0, r.err
    return {f["path"] for f in r.json()["findings"] if f["rule"] == "ARCH101"}


def test_inside_a_work_tree_git_decides(cli: Callable[..., CliResult], tree: Path) -> None:
    listed = git(tree, "ls-files", "-co", "--exclude-standard").split()
    want = {p for p in listed if p.endswith(".txt")}
    assert want == {"requirements.txt", "app/requirements.txt", "vendored-requirements.txt",
                    "sub/keep-requirements.txt"}  # fmt: skip
    assert _scanned(cli, str(tree)) == want
    assert _scanned(cli, cwd=tree) == want  # from inside, with the default path "."
    # A subdirectory named on the command line: git is asked about it alone, same answer.
    assert _scanned(cli, str(tree / "sub")) == {"sub/keep-requirements.txt"}


def test_a_named_ignored_directory_is_scanned(cli: Callable[..., CliResult], tree: Path) -> None:
    assert _scanned(cli, str(tree / "build")) == {"build/requirements.txt"}


def test_respect_gitignore_false_reads_everything(cli: Callable[..., CliResult], tree: Path) -> None:
    (tree / "archlint.toml").write_text("respect-gitignore = false\n")
    assert len(_scanned(cli, str(tree))) == 8


def test_without_git_on_path_the_gitignore_files_still_apply(
    cli: Callable[..., CliResult], tree: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "no-git"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    scanned = _scanned(cli, str(tree))
    # .gitignore files are read; what only git knows (info/exclude, global excludes, tracked) is not.
    assert "build/requirements.txt" not in scanned and "sub/dev-requirements.txt" not in scanned
    assert {
        "requirements.txt",
        "app/requirements.txt",
        "local/requirements.txt",
        "sub/keep-requirements.txt",
    } <= scanned


def test_outside_a_work_tree_the_gitignore_files_apply(cli: Callable[..., CliResult], tree: Path) -> None:
    shutil.rmtree(tree / ".git")
    assert _scanned(cli, str(tree)) == {"requirements.txt", "app/requirements.txt", "local/requirements.txt",
                                        "notes/requirements.scratch.txt", "sub/keep-requirements.txt"}  # fmt: skip


def test_a_nested_repository_is_walked_with_its_own_gitignore(cli: Callable[..., CliResult], tree: Path) -> None:
    nested = tree / "third_party" / "lib"
    nested.mkdir(parents=True)
    (nested / "requirements.txt").write_text(PIN)
    (nested / "gen").mkdir()
    (nested / "gen" / "requirements.txt").write_text(PIN)
    (nested / ".gitignore").write_text("gen/\n")
    git(nested, "init", "-q")
    scanned = _scanned(cli, str(tree))
    assert "third_party/lib/requirements.txt" in scanned and "third_party/lib/gen/requirements.txt" not in scanned
    assert os.path.isdir(nested / ".git")
