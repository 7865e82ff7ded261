"""The composite GitHub Action: its structure, every archlint command line in it parses with
archlint's own parser, and its run step, executed by bash the way the runner does, annotates,
writes SARIF and the job summary, and hands archlint's exit code to the last step."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from archlint.main import build_parser
from tests.conftest import REPO

ACTION = REPO / "action.yml"
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def action() -> dict[str, Any]:
    with open(ACTION, encoding="utf-8") as fh:
        doc: dict[str, Any] = yaml.safe_load(fh)
    return doc


def step(name: str) -> dict[str, Any]:
    return next(s for s in action()["runs"]["steps"] if s["name"] == name)


def test_structure() -> None:
    doc = action()
    assert doc["name"] == "archlint" and doc["description"] and doc["branding"]
    assert doc["runs"]["using"] == "composite"
    for name, spec in doc["inputs"].items():
        assert spec["description"], name
        assert "default" in spec or spec.get("required"), name
    steps = doc["runs"]["steps"]
    for s in steps:
        assert ("uses" in s) != ("run" in s), s["name"]
        if "run" in s:
            assert s["shell"] == "bash", s["name"]  # composite run steps must name their shell
    uses = [s["uses"] for s in steps if "uses" in s]
    assert "github/codeql-action/upload-sarif@v3" in uses and "actions/setup-python@v5" in uses
    upload = step("Upload SARIF to code scanning")
    assert upload["if"].startswith("always()")
    assert upload["with"]["sarif_file"] == "${{ steps.check.outputs.sarif-file }}"
    last = steps[-1]
    assert last["if"] == "always()" and 'exit "$code"' in last["run"]
    assert doc["outputs"]["exit-code"]["value"] == "${{ steps.check.outputs.exit-code }}"
    # Inputs reach scripts through env, never spliced into the script text (no shell injection).
    for s in steps:
        if "run" in s:
            assert not EXPR.search(s["run"]), s["name"]
    # Every expression refers to an input or step output that exists.
    text = ACTION.read_text()
    for expr in EXPR.findall(text):
        for ref in re.findall(r"inputs\.([\w-]+)", expr):
            assert ref in doc["inputs"], ref
        for sid in re.findall(r"steps\.([\w-]+)\.", expr):
            assert any(s.get("id") == sid for s in steps), sid


SAMPLE = {'"${paths[@]}"': ["services", "deploy"], '"${opts[@]}"': ["--fail-on", "warning", "--baseline", "b.json",
          "--diff-base", "origin/main"], '"${extra[@]}"': ["--offline", "--config", "ci/archlint.toml"],
          '"$INPUT_SARIF_FILE"': ["archlint.sarif"]}  # fmt: skip


def archlint_command_lines() -> list[str]:
    lines = []
    for s in action()["runs"]["steps"]:
        for line in s.get("run", "").splitlines():
            line = line.strip()
            if line.startswith("archlint "):
                lines.append(line)
    return lines


def test_every_archlint_command_line_parses() -> None:
    lines = archlint_command_lines()
    assert len(lines) == 4  # --version, github, sarif, markdown
    formats = set()
    for line in lines:
        words = line.split(" >>")[0].split()  # a redirection is the shell's, not archlint's
        argv: list[str] = []
        for w in words[1:]:
            argv.extend(SAMPLE.get(w, [w]))
        argv = shlex.split(" ".join(shlex.quote(a) for a in argv))
        if argv == ["--version"]:
            continue
        args = build_parser().parse_args(argv)
        assert args.command == "check" and args.paths == ["services", "deploy"], line
        assert args.baseline == "b.json" and args.diff_base == "origin/main" and args.offline
        formats.add(args.format)
    assert formats == {"github", "sarif", "markdown"}


def _run_step(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # The runner's `shell: bash` is `bash --noprofile --norc -eo pipefail {0}`.
    argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def _step_env(name: str, inputs: dict[str, str], outputs: dict[str, str]) -> dict[str, str]:
    """The step's env with ${{ inputs.x }} / ${{ steps.check.outputs.y }} resolved as the runner would."""
    defaults = {k: str(v.get("default", "")) for k, v in action()["inputs"].items()}
    values = {**defaults, **inputs}

    def resolve(v: str) -> str:
        def one(m: re.Match[str]) -> str:
            expr = m.group(1)
            if expr.startswith("inputs."):
                return values[expr[len("inputs.") :]]
            if expr.startswith("steps.check.outputs."):
                return outputs.get(expr[len("steps.check.outputs.") :], "")
            raise AssertionError(expr)

        return EXPR.sub(one, v)

    return {k: resolve(str(v)) for k, v in (step(name).get("env") or {}).items()}


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "svc").mkdir(parents=True)
    (ws / ".git").mkdir()
    (ws / "svc" / "requirements.txt").write_text("flask==3.0.3\nintel-openmp==2024.2.1\n")
    return ws


@pytest.mark.skipif(shutil.which("archlint") is None, reason="needs the archlint console script on PATH")
@pytest.mark.parametrize("clean", [False, True])
def test_run_step_annotates_writes_sarif_and_summary_and_propagates(
    workspace: Path, tmp_path: Path, clean: bool
) -> None:
    if clean:
        (workspace / "svc" / "requirements.txt").write_text("flask==3.0.3\n")
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    summary.touch()
    output.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHLINT_RAISE")}
    env.update(GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(output))
    env.update(_step_env("Run archlint", {"paths": "svc\n", "args": "--offline --select 'ARCH101'"}, {}))
    r = _run_step(step("Run archlint")["run"], env, workspace)
    assert r.returncode == 0, r.stderr  # the step succeeds so that the upload runs
    outs = _outputs(output)
    assert outs["exit-code"] == ("0" if clean else "1")
    assert outs["sarif-file"] == "archlint.sarif"
    sarif = json.loads((workspace / "archlint.sarif").read_text())
    results = sarif["runs"][0]["results"]
    md = summary.read_text()
    assert md.startswith("## archlint")
    if clean:
        assert results == [] and "::error" not in r.stdout and "no blocking problems" in md
    else:
        assert [x["ruleId"] for x in results] == ["ARCH101"]
        assert re.search(r"^::error file=svc/requirements\.txt,line=2,.*intel-openmp", r.stdout, re.MULTILINE)
        assert "intel-openmp" in md
    # The last step turns the recorded code into the job's result.
    last = _run_step(step("Fail with archlint's exit code")["run"],
                     {**env, **_step_env("Fail with archlint's exit code", {}, outs)}, workspace)  # fmt: skip
    assert last.returncode == (0 if clean else 1)


def test_usage_error_is_exit_2_and_missing_code_fails(workspace: Path, tmp_path: Path) -> None:
    output = tmp_path / "output"
    output.touch()
    env = {**os.environ, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}
    env.update(_step_env("Run archlint", {"baseline": "missing-baseline.json", "args": "--offline"}, {}))
    r = _run_step(step("Run archlint")["run"], env, workspace)
    assert r.returncode == 0
    assert _outputs(output)["exit-code"] == "2" and "missing-baseline.json" in r.stderr
    # If the run step never recorded a code, the job must not pass silently.
    last = _run_step(step("Fail with archlint's exit code")["run"], dict(os.environ), workspace)
    assert last.returncode == 2
