from __future__ import annotations

import os
from pathlib import Path

import pytest

from archlint import scanning as k
from archlint.discover import classify, discover

ELF_X86_HEADER = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\x03\x00\x3e\x00"  # ET_DYN, EM_X86_64


def kinds(root: Path, **kw) -> dict[str, str]:
    return {f.rel: f.kind for f in discover([root], root, [], **kw).files}


def test_classifies_every_kind(tmp_path: Path):
    files = {
        "app/main.py": "print(1)\n",
        "nb.ipynb": "{}",
        "requirements.txt": "x==1\n",
        "requirements-dev.txt": "x==1\n",
        "requirements/base.in": "x\n",
        "constraints.txt": "x==1\n",
        "pyproject.toml": "",
        "poetry.lock": "",
        "uv.lock": "",
        "Pipfile.lock": "{}",
        "pdm.lock": "",
        "pylock.toml": "",
        "pylock.dev.toml": "",
        ".python-version": "3.11\n",
        "Dockerfile": "FROM x\n",
        "svc/Dockerfile.prod": "FROM x\n",
        "svc/api.dockerfile": "FROM x\n",
        "Containerfile": "FROM x\n",
        "deploy/app.yaml": "apiVersion: v1\nkind: Pod\n",
        "deploy/list.json": '{"apiVersion": "v1", "kind": "List", "items": []}',
        "deploy/values.yaml": "replicas: 3\n",
        "kustomization.yaml": "resources: []\n",
        "skaffold.yaml": "apiVersion: skaffold/v4beta6\nkind: Config\n",
        "docker-compose.yml": "services: {}\n",
        "compose.prod.yaml": "services: {}\n",
        ".github/workflows/build.yml": "on: push\n",
        ".gitlab-ci.yml": "build: {}\n",
        "dist/pkg-1.0-py3-none-any.whl": "PK",
        "image.tar": "",
    }
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "libfast.so.1.2").write_bytes(ELF_X86_HEADER + b"\0" * 64)
    (tmp_path / "vendor" / "tool").write_bytes(ELF_X86_HEADER + b"\0" * 64)
    (tmp_path / "vendor" / "libx.a").write_bytes(b"!<arch>\n")
    (tmp_path / "vendor" / "notes").write_bytes(b"just text")
    got = kinds(tmp_path)
    assert got["app/main.py"] == k.PYTHON
    assert got["nb.ipynb"] == k.NOTEBOOK
    for rel in ("requirements.txt", "requirements-dev.txt", "requirements/base.in", "constraints.txt"):
        assert got[rel] == k.REQUIREMENTS, rel
    assert got["pyproject.toml"] == k.PYPROJECT
    assert got["poetry.lock"] == k.POETRY_LOCK
    assert got["uv.lock"] == k.UV_LOCK
    assert got["Pipfile.lock"] == k.PIPFILE_LOCK
    assert got["pdm.lock"] == k.PDM_LOCK
    assert got["pylock.toml"] == got["pylock.dev.toml"] == k.PYLOCK
    assert got[".python-version"] == k.PYTHON_VERSION
    for rel in ("Dockerfile", "svc/Dockerfile.prod", "svc/api.dockerfile", "Containerfile"):
        assert got[rel] == k.DOCKERFILE, rel
    assert got["deploy/app.yaml"] == got["deploy/list.json"] == k.KUBERNETES
    assert "deploy/values.yaml" not in got  # not a Kubernetes object
    assert got["kustomization.yaml"] == k.KUSTOMIZATION
    assert got["skaffold.yaml"] == k.SKAFFOLD
    assert got["docker-compose.yml"] == got["compose.prod.yaml"] == k.COMPOSE
    assert got[".github/workflows/build.yml"] == k.GITHUB_WORKFLOW
    assert got[".gitlab-ci.yml"] == k.GITLAB_CI
    assert got["dist/pkg-1.0-py3-none-any.whl"] == k.WHEEL
    assert got["image.tar"] == k.TARBALL
    assert got["vendor/libfast.so.1.2"] == got["vendor/tool"] == k.ELF  # by magic, whatever the name
    assert got["vendor/libx.a"] == k.AR_ARCHIVE
    assert "vendor/notes" not in got


def test_gitignore_nested_and_negation(tmp_path: Path):
    (tmp_path / ".gitignore").write_text("build/\n*.txt\n!keep/requirements.txt\n")
    for rel in ("build/requirements.txt", "a/requirements.txt", "keep/requirements.txt", "sub/x.py", "sub/gen/y.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x==1\n")
    (tmp_path / "sub" / ".gitignore").write_text("gen/\n")
    got = kinds(tmp_path)
    assert set(got) == {"keep/requirements.txt", "sub/x.py"}
    assert set(kinds(tmp_path, respect_gitignore=False)) >= {"build/requirements.txt", "sub/gen/y.py"}


def test_parent_gitignore_applies_to_named_subdirectory(tmp_path: Path):
    (tmp_path / ".gitignore").write_text("generated/\n")
    (tmp_path / "svc" / "generated").mkdir(parents=True)
    (tmp_path / "svc" / "generated" / "x.py").write_text("")
    (tmp_path / "svc" / "y.py").write_text("")
    got = {f.rel for f in discover([tmp_path / "svc"], tmp_path, []).files}
    assert got == {"svc/y.py"}


def test_config_excludes_and_default_excludes(tmp_path: Path):
    for rel in ("node_modules/a.py", ".venv/lib/b.py", "legacy/c.py", "src/d.py", ".git/hooks/e.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    got = {f.rel for f in discover([tmp_path], tmp_path, ["legacy/"]).files}
    assert got == {"src/d.py"}


def test_explicit_file_is_scanned_even_if_excluded(tmp_path: Path):
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "c.py").write_text("")
    got = {f.rel for f in discover([tmp_path / "legacy" / "c.py"], tmp_path, ["legacy/"]).files}
    assert got == {"legacy/c.py"}


def test_symlink_loops_do_not_stop_the_run(tmp_path: Path):
    (tmp_path / "a.py").write_text("")
    (tmp_path / "self").symlink_to(tmp_path / "self")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "up").symlink_to(tmp_path)  # a directory loop
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    d = discover([tmp_path], tmp_path, [])
    assert {f.rel for f in d.files} == {"a.py"}
    reported = {f.path for f in d.findings if f.rule == "ARCH001"}
    assert {"self", "dangling.py", "dir/up"} <= reported


def test_unreadable_directory_is_a_finding(tmp_path: Path, monkeypatch):
    (tmp_path / "locked").mkdir()
    (tmp_path / "ok.py").write_text("")
    real_scandir = os.scandir

    def scandir(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    d = discover([tmp_path], tmp_path, [])
    assert [f.path for f in d.findings] == ["locked"]
    assert "Permission denied" in d.findings[0].message
    assert {f.rel for f in d.files} == {"ok.py"}


def test_yaml_classification_reads_content(tmp_path: Path):
    p = tmp_path / "x.yaml"
    p.write_text("---\n# comment\n- apiVersion: v1\n  kind: ConfigMap\n")
    assert classify(p, "x.yaml")[0] == k.KUBERNETES


def test_directory_alias_is_scanned_once_and_not_called_a_loop(tmp_path: Path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "m.py").write_text("")
    (tmp_path / "lib64").symlink_to("lib")  # as in every virtualenv and container filesystem
    d = discover([tmp_path], tmp_path, [])
    assert [f.rel for f in d.files] == ["lib/m.py"]
    assert d.findings == []


def test_force_exclude_applies_excludes_to_named_files(tmp_path: Path):
    for rel in ("legacy/requirements.txt", "svc/requirements.txt", "node_modules/x/requirements.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("mkl==1\n")
    named = [tmp_path / "legacy/requirements.txt", tmp_path / "svc/requirements.txt",
             tmp_path / "node_modules/x/requirements.txt"]  # fmt: skip
    assert len(discover(named, tmp_path, ["legacy/"]).files) == 3  # named on purpose: scanned
    forced = discover(named, tmp_path, ["legacy/"], force_exclude=True).files
    assert [f.rel for f in forced] == ["svc/requirements.txt"]


def test_force_exclude_on_the_cli(cli, tmp_path: Path):
    (tmp_path / "archlint.toml").write_text('exclude = ["vendor/"]\n')
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "requirements.txt").write_text("mkl==2024.0.0\n")
    target = str(tmp_path / "vendor" / "requirements.txt")
    assert cli(["check", target, "--offline"]).rc == 1
    assert cli(["check", target, "--offline", "--force-exclude"]).rc == 0


DOCKERFILE_NAMES = [
    "Dockerfile", "dockerfile", "Dockerfile.prod", "api.Dockerfile", "api.dockerfile", "Dockerfile-package",
    "app.Dockerfile-ubuntu", "non_dist_Dockerfile", "Containerfile", "Containerfile.arm64", "web.containerfile",
    "build-Dockerfile",
]  # fmt: skip
NOT_DOCKERFILES = [
    "Dockerfile.dockerignore", "api.Dockerfile.dockerignore", "dockerfile-lint.json", "Dockerfile.md",
    "dockerfile_utils.py", "Dockerfiles", "mydockerfile", "docker-compose.yml",
]  # fmt: skip


def test_every_dockerfile_naming_style(tmp_path: Path) -> None:
    for name in DOCKERFILE_NAMES + NOT_DOCKERFILES:
        (tmp_path / name).write_text("FROM alpine:3.20\n")
    got = kinds(tmp_path)
    assert {n for n in DOCKERFILE_NAMES if got.get(n) == k.DOCKERFILE} == set(DOCKERFILE_NAMES)
    assert [n for n in NOT_DOCKERFILES if got.get(n) == k.DOCKERFILE] == []


@pytest.mark.parametrize(
    ("text", "dockerfile"),
    [
        ("FROM alpine:3.20\nRUN true\n", True),
        ("# syntax=docker/dockerfile:1\n\n# builder\nARG GO=1.22\nFROM golang:${GO} AS build\n", True),
        ("from --platform=$BUILDPLATFORM alpine as x\n", True),
        ("from os import path\nprint(path)\n", False),  # a Python script without an extension
        ("ARG = 1\nFROM = 2\n", False),
        ("ARG X\nRUN true\n", False),  # no FROM: not buildable
        ("#!/bin/sh\necho FROM alpine\n", False),
        ("FROM alpine\x00binary", False),
    ],
)
def test_a_named_file_is_classified_by_content(tmp_path: Path, text: str, dockerfile: bool) -> None:
    path = tmp_path / "docker" / "build.df"
    path.parent.mkdir()
    path.write_text(text)
    walked = kinds(tmp_path)
    assert "docker/build.df" not in walked  # walking never sniffs unknown names
    named = {f.rel: f.kind for f in discover([path], tmp_path, []).files}
    assert (named.get("docker/build.df") == k.DOCKERFILE) is dockerfile
