"""Every fix archlint writes into a TOML file leaves a file tomllib parses, with no distribution
declared twice in one table or array: over every fixture tree that holds TOML dependency files,
with x86-only dependencies added in each declaration shape (Poetry keys, PEP 621 and PEP 735
arrays, inline and multi-line), next to their replacement and without it."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import tomllib
from conftest import FIXTURES, CliResult
from deps_support.server import IndexServer
from packaging.utils import canonicalize_name

Cli = Callable[..., CliResult]
TREES = [
    "deps/sources/poetry",
    "deps/sources/poetry14",
    "deps/sources/poetry-legacy",
    "deps/sources/pdm",
    "deps/sources/uv",
    "deps/sources/uv-fork",
    "deps/lock/uv-gap",
    "monorepo",
    "boutique",
]
# x86-only distributions and their replacements from rules/kb/x86_only.toml, added to every
# pyproject.toml: once where the replacement is declared beside them, once where it is not.
POETRY_EXTRA = [
    'intel-extension-for-pytorch = "^2.5"',
    'torch = "^2.5"',
    'tensorflow-intel = "2.15.1"',
    'mkl-service = "*"',
]
PEP621_EXTRA = '"intel-extension-for-pytorch==2.5.0", "torch>=2.5", "mkl-service", "tensorflow-intel==2.15.1"'


def _declared(node: object) -> list[list[str]]:
    """Canonical names per table (keys) and per requirement array (entries)."""
    out: list[list[str]] = []
    if isinstance(node, dict):
        out.append([canonicalize_name(k) for k in node])
        for v in node.values():
            out += _declared(v)
    elif isinstance(node, list):
        strings = [x for x in node if isinstance(x, str) and ";" not in x]  # one per environment marker is fine
        out.append([canonicalize_name(re.split(r"[<>=!~\[; @]", x)[0]) for x in strings])
        for v in node:
            out += _declared(v)
    return out


def _locked_beside(pyproject: Path, name: str) -> bool:
    """Does a lockfile beside `pyproject` pin `name`?"""
    for lock in ("uv.lock", "poetry.lock", "pdm.lock", "pylock.toml"):
        p = pyproject.parent / lock
        if p.is_file() and re.search(rf'(?m)^name = "{re.escape(name)}"', p.read_text()):
            return True
    return False


def _add_x86_dependencies(root: Path) -> int:
    n = 0
    for pyproject in root.rglob("pyproject.toml"):
        text = pyproject.read_text()
        doc = tomllib.loads(text)
        if "[tool.poetry.dependencies]\n" in text:
            poetry = doc["tool"]["poetry"]["dependencies"]
            extra = "".join(
                f"{line}\n" for line in POETRY_EXTRA if not ("torch" in poetry and line.startswith("torch"))
            )
            text = text.replace("[tool.poetry.dependencies]\n", "[tool.poetry.dependencies]\n" + extra, 1)
            n += 1
        if isinstance(doc.get("project", {}).get("dependencies"), list):
            text = re.sub(r"(?m)^dependencies = \[", f"dependencies = [{PEP621_EXTRA}, ", text, count=1)
            n += 1
        text += '\n[dependency-groups]\nx86 = [\n  "daal4py==2024.7.0",\n  "intel-openmp",\n]\n' if (
            "[dependency-groups]" not in text) else ""  # fmt: skip
        pyproject.write_text(text)
    return n


@pytest.mark.parametrize("tree", TREES)
def test_every_toml_fix_leaves_parseable_toml_without_duplicates(
    cli: Cli, server: IndexServer, tmp_path: Path, tree: str
) -> None:
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES / tree, root)
    assert _add_x86_dependencies(root) >= 1
    config = root / "archlint.toml"
    config.write_text(f'index-url = "{server.url}"\nosv-url = "{server.osv_url}"\n')
    before = {p: p.read_text() for p in root.rglob("*.toml")}
    report = cli(["check", "--format", "json", "--exit-zero", str(root)], cwd=root).json()
    res = cli(["check", "--fix", "--unsafe-fixes", "--exit-zero", str(root)], cwd=root)
    assert res.rc == 0, res.err
    changed = [p for p in root.rglob("*.toml") if p.read_text() != before[p]]
    assert changed, "the x86-only dependencies were not fixed"
    for path in changed:
        doc = tomllib.loads(path.read_text())  # raises on a duplicate key or a broken array
        for names in _declared(doc):
            assert len(names) == len(set(names)), f"{path}: declared twice in {names}"
        text = path.read_text()
        for gone in ("intel-extension-for-pytorch", "tensorflow-intel", "mkl-service", "daal4py", "intel-openmp"):
            if _locked_beside(path, gone):
                # The lock pins it: the lock's answer is the report's, and its fix is to remove the
                # declaration and re-lock (a pyproject edit alone would leave the lock stale).
                assert any(f["rule"] == "ARCH101" and gone in f["message"] and f["fix"]
                           and f["fix"]["applicability"] == "manual" and "re-lock" in f["fix"]["description"]
                           for f in report["findings"]), f"{path}: no re-lock fix for {gone}"  # fmt: skip
                continue
            assert gone not in text, f"{path} still declares {gone}"
