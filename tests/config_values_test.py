"""The user's own mistakes are exit 2 with a message naming the file and the key, before any scan:
a bad config value, a bad --python, a nodes-file of the wrong shape, an unreadable directory on
the command line. The library's own wording is never asserted, only what archlint promises."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import CliResult

Cli = Callable[..., CliResult]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "requirements.txt").write_text("numpy==1.26.4\nintel-openmp==2024.2.1\n")
    return root


def only_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("archlint: error: "), err
    assert "Traceback" not in err
    return lines[0]


BAD = [
    ("python", '"three"'),
    ("python", '"2.7"'),
    ("python", '"3.011"'),
    ("python", '["3.11", "3.99"]'),
    ("python", "3.11"),  # a float, not a string
    ("glibc", '"banana"'),
    ("glibc", '"2.5"'),  # older than any aarch64 glibc
    ("glibc", '"3.1"'),
    ("index-timeout", "inf"),
    ("index-timeout", "-inf"),
    ("index-timeout", "nan"),
    ("index-timeout", "0"),
    ("index-timeout", "-1"),
    ("index-timeout", "86400"),
    ("index-timeout", "true"),
    ("registry-timeout", "inf"),
    ("exclude", '["!"]'),
    ("extend-exclude", '["\\\\"]'),
    ("per-file-ignores", '{ "!" = ["ARCH101"] }'),
    ("index-url", '"banana"'),
    ("index-url", '"ftp://mirror.example/simple"'),
    ("extra-index-url", '["https://mirror.example/simple", "mirror.example"]'),
    ("osv-url", '"not a url"'),
    ("kubernetes-version", '"x"'),
    ("kubernetes-version", '"1.30.0.1"'),
    ("cache-dir", '""'),
]


@pytest.mark.parametrize(("key", "value"), BAD, ids=[f"{k}={v}" for k, v in BAD])
def test_bad_values_are_exit_2_naming_file_and_key(cli: Cli, tree: Path, key: str, value: str) -> None:
    config = tree / "archlint.toml"
    config.write_text(f"{key} = {value}\n")
    res = cli(["check", "--offline", str(tree)])
    assert res.rc == 2 and res.out == ""
    line = only_error_line(res.err)
    assert f"{config}: {key}:" in line


def test_pyproject_keys_are_named_with_their_table(cli: Cli, tree: Path) -> None:
    (tree / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.archlint]\nglibc = "banana"\n')
    res = cli(["check", "--offline", str(tree)])
    assert res.rc == 2
    assert f"{tree / 'pyproject.toml'}: tool.archlint.glibc:" in only_error_line(res.err)


def test_credentials_in_a_bad_url_are_not_echoed(cli: Cli, tree: Path) -> None:
    (tree / "archlint.toml").write_text('index-url = "https://deploy:s3cret@/simple"\n')
    res = cli(["check", "--offline", str(tree)])
    assert res.rc == 2 and "index-url" in only_error_line(res.err)
    assert "s3cret" not in res.err


GOOD = [
    ("python", '"3.8"'),
    ("python", '["3.11", "3.14"]'),
    ("glibc", '"2.17"'),
    ("glibc", '"2.39"'),
    ("index-timeout", "0.5"),
    ("index-timeout", "600"),
    ("registry-timeout", "45"),
    ("exclude", '["build/", "!build/keep.py", "*.pyc"]'),
    ("index-url", '"https://user:token@mirror.example:8443/simple/"'),
    ("kubernetes-version", '"v1.29.3"'),
    ("cache-dir", '".archlint-cache"'),
]


@pytest.mark.parametrize(("key", "value"), GOOD, ids=[f"{k}={v}" for k, v in GOOD])
def test_good_values_are_accepted(cli: Cli, tree: Path, key: str, value: str) -> None:
    (tree / "archlint.toml").write_text(f"{key} = {value}\n")
    res = cli(["check", "--offline", "--no-cache", str(tree)])
    assert res.rc == 1, res.err  # intel-openmp: ARCH101, found with every accepted value
    assert "ARCH101" in res.out


def test_python_targets_from_config_reach_the_report(cli: Cli, tree: Path) -> None:
    (tree / "archlint.toml").write_text('python = ["3.9", "3.13"]\n')
    report = cli(["check", "--offline", "--format", "json", str(tree)]).json()
    assert {t["python"] for t in report["targets"]} == {"3.9", "3.13"}


@pytest.mark.parametrize("value", ["3.99", "3.011", "3", "three", "2.7", "3.11.4"])
def test_bad_python_option(cli: Cli, tree: Path, value: str) -> None:
    res = cli(["check", "--offline", "--python", value, str(tree)])
    assert res.rc == 2
    line = only_error_line(res.err)
    assert "--python" in line and repr(value) in line


NODE = {
    "metadata": '{"name": "n1", "labels": %s}',
    "spec": '{"taints": %s}',
    "status": '{"nodeInfo": %s}',
}


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [("metadata.labels", "metadata", '"x"'), ("spec.taints", "spec", '"x"'), ("status.nodeInfo", "status", "[1]")],
)
def test_a_nodes_file_of_the_wrong_shape(cli: Cli, tree: Path, where: str, field: str, value: str) -> None:
    good = {"metadata": '{"name": "n1", "labels": {"kubernetes.io/arch": "arm64"}}', "spec": "{}", "status": "{}"}
    good[field] = NODE[field] % value
    node = ", ".join(f'"{k}": {v}' for k, v in good.items())
    (tree / "nodes.json").write_text(f'{{"kind": "List", "items": [{{"kind": "Node", {node}}}]}}')
    config = tree / "archlint.toml"
    config.write_text('[cluster]\nnodes-file = "nodes.json"\n')
    res = cli(["check", "--offline", str(tree)])
    assert res.rc == 2
    line = only_error_line(res.err)
    assert f"{config}: cluster.nodes-file" in line and "nodes.json" in line and f"items[0].{where}" in line


def test_the_console_script_reports_a_config_error(tree: Path) -> None:
    """The same through the installed `archlint` command, as CI runs it."""
    exe = shutil.which("archlint", path=os.path.dirname(sys.executable)) or shutil.which("archlint")
    assert exe is not None
    config = tree / "archlint.toml"
    config.write_text('python = "three"\n')
    proc = subprocess.run([exe, "check", str(tree)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"{config}: python:" in only_error_line(proc.stderr)


def _as_nobody() -> list[str] | None:
    """A command prefix that runs as nobody (root reads any directory), or None when this machine
    cannot run the interpreter so (setpriv missing, or the interpreter not reachable for nobody)."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    try:
        # From "/", as the test runs it: the installed package must be readable for nobody, not
        # merely the checkout that happens to be the current directory.
        probe = subprocess.run(
            [*prefix, sys.executable, "-c", "import archlint"], capture_output=True, check=False, cwd="/"
        )
    except OSError:
        return None
    return prefix if probe.returncode == 0 else None


@pytest.fixture
def unreadable_dir() -> Iterator[tuple[Path, list[str]]]:
    """A directory the run cannot list: mode 000 (and, as root, who reads anything, a run as nobody)."""
    base = Path(tempfile.mkdtemp(prefix="archlint-unreadable-"))
    os.chmod(base, 0o755)
    secret = base / "secret"
    secret.mkdir()
    (secret / "requirements.txt").write_text("intel-openmp==2024.2.1\n")
    secret.chmod(0)
    try:
        prefix: list[str] | None = []
        if os.geteuid() == 0:
            prefix = _as_nobody()
            if prefix is None:
                pytest.skip("running as root, and this interpreter cannot be run as nobody here")
        yield secret, prefix or []
    finally:
        secret.chmod(0o755)
        shutil.rmtree(base)


def test_an_unreadable_directory_on_the_command_line(unreadable_dir: tuple[Path, list[str]]) -> None:
    secret, prefix = unreadable_dir
    env = {**os.environ, "ARCHLINT_NO_CONFIG_SEARCH": "1"}
    cmd = [*prefix, sys.executable, "-m", "archlint", "check", "--offline", "--no-cache", str(secret)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, env=env, cwd=secret.parent)
    assert proc.returncode == 2 and proc.stdout == ""
    line = only_error_line(proc.stderr)
    assert str(secret) in line and "internal error" not in line
