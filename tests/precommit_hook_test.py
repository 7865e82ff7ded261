"""The pre-commit hooks: the manifest, its `files:` pattern against discovery, and the real
`pre-commit` running the hook from this repository against a temporary git repository."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from archlint.discover import classify
from archlint.main import build_parser
from tests.conftest import REPO

MANIFEST = REPO / ".pre-commit-hooks.yaml"


def hooks() -> dict[str, dict[str, Any]]:
    with open(MANIFEST, encoding="utf-8") as fh:
        return {h["id"]: h for h in yaml.safe_load(fh)}


def test_manifest_is_valid_for_pre_commit() -> None:
    pre_commit = shutil.which("pre-commit")
    assert pre_commit, "pre-commit is a test dependency"
    r = subprocess.run([pre_commit, "validate-manifest", str(MANIFEST)], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_hooks_run_archlint_check_serially_on_the_changed_files() -> None:
    h = hooks()
    assert set(h) == {"archlint", "archlint-fix"}
    for hook in h.values():
        assert hook["language"] == "python"
        assert hook["require_serial"] is True and hook["pass_filenames"] is True
        argv = shlex.split(hook["entry"])
        assert argv[0] == "archlint"
        args = build_parser().parse_args([*argv[1:], "requirements.txt", "Dockerfile"])
        assert args.command == "check" and args.paths == ["requirements.txt", "Dockerfile"]
    assert build_parser().parse_args(shlex.split(h["archlint-fix"]["entry"])[1:]).fix is True
    assert h["archlint"]["files"] == h["archlint-fix"]["files"]


# Files archlint classifies by name, and what to write into them so classify() can decide.
SCANNED = {
    "app/main.py": "", "stubs/x.pyi": "", "nb/explore.ipynb": "{}",
    "requirements.txt": "", "requirements-dev.txt": "", "dev-requirements.in": "", "requirements/base.txt": "",
    "constraints.txt": "", "pyproject.toml": "", "poetry.lock": "", "uv.lock": "", "Pipfile.lock": "{}",
    "pdm.lock": "", "pylock.toml": "", "pylock.dev.toml": "", ".python-version": "3.12",
    "dist/pkg-1.0-py3-none-any.whl": "", "Dockerfile": "", "services/api/Dockerfile.prod": "",
    "api.Containerfile": "", "Containerfile": "", "compose.yaml": "", "docker-compose.yml": "",
    "skaffold.yaml": "", "k8s/kustomization.yaml": "", ".gitlab-ci.yml": "", ".github/workflows/ci.yml": "",
    "deploy/api.yaml": "apiVersion: apps/v1\nkind: Deployment\n", "deploy/job.yml": "apiVersion: v1\nkind: Pod\n",
    # A Helm chart: Chart.yaml first, so that its templates are known as the chart's.
    "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n", "charts/web/values.yaml": "image: {}\n",
    "charts/web/templates/deployment.yaml": "{{- if .Values.enabled }}\nkind: Deployment\n{{- end }}\n",
    "ext/k.c": "", "ext/k.h": "", "src/k.cpp": "", "src/k.hpp": "", "pkg/_k.pyx": "", "pkg/_k.pxd": "",
    "src/f.f90": "", "CMakeLists.txt": "", "cmake/simd.cmake": "", "meson.build": "", "Makefile": "",
    "setup.cfg": "", "build/rules.mk": "",
}  # fmt: skip
NOT_SCANNED = ["README.md", "src/app.js", ".gitignore", "logo.png", "docs/index.rst", "package.json", "Cargo.toml",
               "go.sum", "requirements.md", "meson.options", "src/main.rs"]  # fmt: skip


def test_files_pattern_covers_everything_archlint_classifies_by_name(tmp_path: Path) -> None:
    pattern = re.compile(hooks()["archlint"]["files"])
    for rel, content in SCANNED.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        kind, _ = classify(path, rel)
        assert kind is not None, f"discovery no longer classifies {rel}: update SCANNED"
        assert pattern.search(rel), f"{rel} ({kind}) is scanned by archlint but skipped by the hook"
    for rel in NOT_SCANNED:
        assert not pattern.search(rel), rel
        assert classify(tmp_path / rel, rel)[0] is None


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _try_repo(repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["pre-commit", "try-repo", str(REPO), "archlint", "--all-files", "--color", "never"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_real_pre_commit_fails_on_x86_pin_and_passes_once_fixed(tmp_path: Path) -> None:
    """pre-commit builds a virtualenv from this repository (pip, from PyPI) and runs the hook:
    the slowest test of the area, kept in the default run because it is the user's real path.
    try-repo installs into a fresh temporary store every time, so this is two installs (pip's
    wheel cache makes the second one quicker)."""
    repo = tmp_path / "app"
    repo.mkdir()
    # Own PRE_COMMIT_HOME (no stale hook envs); HOME stays, so pip's wheel cache speeds up the venv.
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_NOSYSTEM": "1"}  # fmt: skip
    env.pop("ARCHLINT_RAISE", None)  # the hook runs as users run it
    env.pop("PIP_INDEX_URL", None)  # conftest points it at a closed port; pre-commit must install from PyPI
    (repo / "requirements.txt").write_text("requests==2.32.3\nintel-openmp==2024.2.1\n")
    (repo / "app.py").write_text("import requests\n")
    (repo / "README.md").write_text("not scanned\n")
    # A Helm chart: pre-commit passes its templates by name; they are not YAML and must not fail.
    chart = repo / "charts" / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: '1.0'\n")
    (chart / "values.yaml").write_text("image:\n  repository: nginx\n  tag: '1.27'\n")
    (chart / "templates" / "_helpers.tpl").write_text('{{- define "web.name" -}}{{ .Chart.Name }}{{- end }}\n')
    (chart / "templates" / "deployment.yaml").write_text(
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include "web.name" . }}\nspec:\n'
        "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n"
        "      containers:\n        - name: web\n"
        '          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
    )
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "init")

    r = _try_repo(repo, env)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "Failed" in out and "- hook id: archlint" in out
    assert "requirements.txt" in out and "ARCH101" in out and "intel-openmp==2024.2.1" in out

    (repo / "requirements.txt").write_text("requests==2.32.3\n")  # what `--fix --unsafe-fixes` does
    _git(repo, "add", "requirements.txt")
    r = _try_repo(repo, env)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert re.search(r"archlint \(arm64 readiness\)\.+Passed", out), out
    assert "ARCH002" not in out
