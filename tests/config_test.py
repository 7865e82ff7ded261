from __future__ import annotations

from pathlib import Path

import pytest

from archlint import config
from archlint.errors import FatalError


def test_pyproject_table(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.archlint]\npython = ["3.11", "3.12"]\nignore = ["ARCH003"]\n'
        '[tool.archlint.per-file-ignores]\n"tests/*" = ["ARCH1"]\n'
    )
    cfg = config.load(None, tmp_path)
    assert cfg.path == tmp_path / "pyproject.toml"
    assert cfg.str_list("python") == ["3.11", "3.12"]
    assert cfg.get("per-file-ignores") == {"tests/*": ["ARCH1"]}


def test_pyproject_without_table_is_skipped_for_parent_archlint_toml(tmp_path: Path):
    (tmp_path / "archlint.toml").write_text('python = "3.10"\n')
    sub = tmp_path / "svc"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[project]\nname = "svc"\n')
    cfg = config.load(None, sub)
    assert cfg.path == tmp_path / "archlint.toml"
    assert cfg.get("python") == "3.10"


def test_archlint_toml_wins_over_pyproject_in_same_directory(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.archlint]\npython = "3.11"\n')
    (tmp_path / ".archlint.toml").write_text('python = "3.12"\n')
    assert config.load(None, tmp_path).get("python") == "3.12"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("pyhton = '3.11'\n", "pyhton: unknown configuration key"),
        ("python = 3.11\n", "python: expected a string or a list of strings"),
        ("select = 'ARCH1'\n", "select: expected a list of rule codes"),
        ("select = ['NOPE9']\n", "unknown rule code or name 'NOPE9'"),
        ("fail-on = 'info'\n", "fail-on: expected"),
        ("[cluster]\npresets = 'gke'\n", "cluster.presets: unknown configuration key"),
        ("python = \n", "invalid TOML"),
        ("[per-file-ignores]\n'a/*' = 'ARCH1'\n", "per-file-ignores: expected"),
    ],
)
def test_invalid_config_names_file_and_key(tmp_path: Path, text: str, needle: str):
    (tmp_path / "archlint.toml").write_text(text)
    with pytest.raises(FatalError) as e:
        config.load(None, tmp_path)
    assert str(tmp_path / "archlint.toml") in str(e.value)
    assert needle in str(e.value)


def test_pyproject_errors_use_tool_prefix(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.archlint]\nexclude = 'build'\n")
    with pytest.raises(FatalError, match=r"tool\.archlint\.exclude: expected a list"):
        config.load(None, tmp_path)


def test_explicit_missing_config(tmp_path: Path):
    with pytest.raises(FatalError, match="config file not found"):
        config.load(str(tmp_path / "none.toml"), tmp_path)


def test_no_config_is_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ARCHLINT_NO_CONFIG_SEARCH", "1")
    cfg = config.load(None, tmp_path)
    assert cfg.path is None and cfg.values == {}


def test_config_exclude_and_per_file_ignores_apply(cli, tmp_path: Path):
    (tmp_path / "archlint.toml").write_text(
        'exclude = ["legacy/"]\n[per-file-ignores]\n"tools/requirements*.txt" = ["x86-only-dependency"]\n'
    )
    for d in ("legacy", "tools", "svc"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "requirements.txt").write_text("mkl==2024.0.0\n")
    report = cli(["check", str(tmp_path), "--offline", "--format", "json"]).json()
    paths = {f["path"] for f in report["findings"] if f["rule"] == "ARCH101"}
    assert paths == {"svc/requirements.txt"}


def test_platforms_key_validated(tmp_path: Path):
    (tmp_path / "archlint.toml").write_text('platforms = ["linux/amd64"]\n')
    with pytest.raises(FatalError, match="platforms: expected"):
        config.load(None, tmp_path)
    (tmp_path / "archlint.toml").write_text('platforms = ["linux/arm64", "linux/s390x"]\n')
    with pytest.raises(FatalError, match="platforms: expected"):
        config.load(None, tmp_path)


def test_platforms_arm64_only_drops_the_amd64_baseline(cli, tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    both = cli(["check", str(tmp_path), "--offline", "--format", "json"]).json()
    assert {t["platform"] for t in both["targets"]} == {"linux/arm64", "linux/amd64"}
    (tmp_path / "archlint.toml").write_text('platforms = ["linux/arm64"]\n')
    arm = cli(["check", str(tmp_path), "--offline", "--format", "json"]).json()
    assert {t["platform"] for t in arm["targets"]} == {"linux/arm64"}
    [dep] = arm["dependencies"]
    assert dep["targets"] and all(label.startswith("linux/arm64") for label in dep["targets"])


def test_bad_cluster_pool_is_exit_2_even_without_manifests(cli, tmp_path: Path):
    (tmp_path / "archlint.toml").write_text('[[cluster.pools]]\nname = "x"\narch = "sparc"\n')
    (tmp_path / "app.py").write_text("print(1)\n")
    r = cli(["check", str(tmp_path), "--offline"])
    assert r.rc == 2
    assert "archlint.toml" in r.err and "cluster.pools" in r.err
