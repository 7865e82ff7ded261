"""The shipped examples: the Kubernetes Indexed Job passes archlint itself, and every archlint
command line in the CI examples parses with archlint's own argument parser."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from archlint.main import build_parser
from tests.conftest import REPO, CliResult

EXAMPLES = REPO / "examples"
K8S = EXAMPLES / "kubernetes"


def _check(cli: Callable[..., CliResult], *extra: str) -> dict[str, Any]:
    r = cli(["check", str(K8S), "--offline", "--format", "json", *extra])
    assert r.rc == 0, r.out + r.err
    return r.json()


def test_indexed_job_example_passes_archlint(cli: Callable[..., CliResult]) -> None:
    report = _check(cli, "--fail-on", "warning")
    assert report["findings"] == []
    by_id = {w["id"]: w for w in report["workloads"]}
    assert set(by_id) == {"Job/platform/archlint-fleet-scan", "Job/platform/archlint-fleet-merge"}
    for w in by_id.values():
        # A multi-arch image that may land on either architecture.
        assert w["placement"]["recommendation"] == "multi-arch", w["placement"]
        assert w["placement"]["current"] == ["amd64", "arm64"]
    job = next(d for d in yaml.safe_load_all((K8S / "fleet-scan-job.yaml").read_text()) if d["kind"] == "Job")
    assert job["spec"]["completionMode"] == "Indexed"
    repos = next(d for d in yaml.safe_load_all((K8S / "fleet-scan-job.yaml").read_text()) if d["kind"] == "ConfigMap")
    assert job["spec"]["completions"] == len(repos["data"]["repos.txt"].split())


@pytest.mark.parametrize(
    "taint",
    [
        '{ key = "kubernetes.io/arch", value = "arm64", effect = "NoSchedule" }',  # GKE's Arm node taint
        '{ key = "hardware-type", value = "agi-arm", effect = "NoSchedule" }',  # a dedicated pool's taint
    ],
)
def test_indexed_job_reaches_tainted_arm64_pools(cli: Callable[..., CliResult], tmp_path: Path, taint: str) -> None:
    config = tmp_path / "archlint.toml"
    config.write_text(f"""
[[cluster.pools]]
name = "x86"
arch = "amd64"

[[cluster.pools]]
name = "arm"
arch = "arm64"
labels = {{ "hardware-type" = "agi-arm" }}
taints = [ {taint} ]
""")
    report = _check(cli, "--config", str(config), "--fail-on", "warning")
    assert report["findings"] == []
    for w in report["workloads"]:
        assert "arm64" in w["placement"]["current"], w["id"]


def _shell_lines(doc: Any) -> Iterator[str]:
    """Every line of every string in a YAML document (scripts hide in run:, script:, args:)."""
    if isinstance(doc, dict):
        for v in doc.values():
            yield from _shell_lines(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _shell_lines(v)
    elif isinstance(doc, str):
        for line in doc.splitlines():
            yield line.strip()


SAMPLE_VALUES = {"format": "html"}  # loop variables whose value archlint's parser checks


def _archlint_argv(line: str) -> list[str] | None:
    m = re.search(r"(?:^|/|\s)archlint (check|report|baseline)\b(.*)$", line)
    if not m:
        return None
    text = f"{m.group(1)}{m.group(2)}"
    text = re.split(r"\s(?:>>|>|\|\||&&|\|)\s", text)[0]  # the shell's redirections and chains
    # Shell and CI variables stand for one word each; $opts expands to options.
    text = text.replace("$opts", "--baseline b.json --diff-base origin/main")
    text = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: SAMPLE_VALUES.get(m.group(1), "value"), text)
    return shlex.split(text)


EXAMPLE_FILES = sorted(p for p in EXAMPLES.rglob("*") if p.suffix in (".yml", ".yaml"))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.relative_to(EXAMPLES).as_posix())
def test_example_command_lines_parse(path: Path) -> None:
    docs = list(yaml.safe_load_all(path.read_text()))
    assert docs and all(d is not None for d in docs)
    argvs = [a for line in _shell_lines(docs) if (a := _archlint_argv(line)) is not None]
    if path.name == "archlint-pr.yml":
        assert argvs == []  # it uses the action instead
        return
    assert argvs, f"{path} runs no archlint command"
    for argv in argvs:
        args = build_parser().parse_args(argv)
        assert args.command in ("check", "report", "baseline"), argv


def test_pr_example_uses_only_inputs_the_action_declares() -> None:
    action_inputs = yaml.safe_load((REPO / "action.yml").read_text())["inputs"]
    workflow = yaml.safe_load((EXAMPLES / "github-actions" / "archlint-pr.yml").read_text())
    steps = workflow["jobs"]["arm64-readiness"]["steps"]
    uses = [s for s in steps if s.get("uses", "").startswith("archlint/archlint@")]
    assert len(uses) == 1
    assert set(uses[0]["with"]) <= set(action_inputs)
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # --diff-base needs history
