"""The pre-commit hooks run offline by default and answer from the warm cache: no request to the
package index, the same statuses an online run found, and `--online` to ask the index again.
The index is the recorded-PyPI server on 127.0.0.1 (tests/deps_support)."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from deps_support.server import IndexServer

from archlint.main import build_parser
from tests.conftest import REPO, CliResult

REQUIREMENTS = "numpy==1.26.4\nrequests==2.31.0\nflask==3.0.3\n"  # flask: not in the recording


def hook_argv(hook_id: str) -> list[str]:
    with open(REPO / ".pre-commit-hooks.yaml", encoding="utf-8") as fh:
        hooks = {h["id"]: h for h in yaml.safe_load(fh)}
    return shlex.split(hooks[hook_id]["entry"])[1:]


def test_hooks_are_offline_unless_asked_online() -> None:
    for hook_id in ("archlint", "archlint-fix"):
        argv = hook_argv(hook_id)
        assert build_parser().parse_args([*argv, "requirements.txt"]).offline is True
        # `args: [--online]` in .pre-commit-config.yaml comes after the entry and wins.
        assert build_parser().parse_args([*argv, "--online", "requirements.txt"]).offline is False


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    return {d["name"]: d["status"] for d in report["dependencies"]}


def test_the_hook_answers_from_the_warm_cache_without_asking_the_index(
    cli: Callable[..., CliResult], server: IndexServer, tmp_path: Path
) -> None:
    server.cache_control = "max-age=0"  # every cached page is stale at once: only offline skips the index
    (tmp_path / "archlint.toml").write_text(f'index-url = "{server.url}"\nvulnerability-service = "none"\n')
    (tmp_path / "requirements.txt").write_text(REQUIREMENTS)
    online = cli(["check", "--format", "json", "--python", "3.12", "requirements.txt"], cwd=tmp_path)
    assert online.rc in (0, 1), online.err
    warm = _statuses(online.json())
    assert warm["numpy"] == "ok" and warm["requests"] == "ok"
    asked = len(server.pages())
    assert asked >= 2

    hook = cli([*hook_argv("archlint"), "--format", "json", "--python", "3.12", "requirements.txt"], cwd=tmp_path)
    assert hook.rc == 0, hook.err  # unknown is an info finding offline: it does not fail the commit
    assert len(server.pages()) == asked  # not one request
    offline = _statuses(hook.json())
    assert offline["numpy"] == warm["numpy"] and offline["requests"] == warm["requests"]
    assert offline["flask"] == "unknown"
    [note] = [f for f in hook.json()["findings"] if f["rule"] == "ARCH105"]
    assert note["severity"] == "info" and "no earlier run cached" in note["message"]

    again = cli([*hook_argv("archlint"), "--online", "--format", "json", "--python", "3.12", "requirements.txt"],
                cwd=tmp_path)  # fmt: skip
    assert again.rc in (0, 1), again.err
    assert len(server.pages()) > asked  # --online revalidates with the index
