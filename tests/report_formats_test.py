"""GitLab Code Quality and JUnit XML, through the real CLI, validated against the consumers'
own schemas (fixtures/schemas: GitLab's codeclimate.json, the Ant JUnit XSD and the Jenkins
xunit plugin's junit-10.xsd) and the rules their documentation adds."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema

from tests.conftest import FIXTURES, CliResult

SCHEMAS = FIXTURES / "schemas"
GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    repo = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", repo)
    return repo


def _gitlab(cli: Callable[..., CliResult], repo: Path) -> list[dict[str, Any]]:
    r = cli(["check", str(repo), "--offline", "--format", "gitlab"])
    assert r.rc == 1, r.err
    issues = json.loads(r.out)
    validator = jsonschema.Draft7Validator(json.loads((SCHEMAS / "gitlab-codeclimate.json").read_text()))
    for issue in issues:
        validator.validate(issue)
        # What GitLab's documentation adds to its schema.
        assert issue["severity"] in GITLAB_SEVERITIES
        assert issue["check_name"] and issue["description"]
        assert isinstance(issue["location"]["lines"]["begin"], int) and issue["location"]["lines"]["begin"] >= 1
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)  # GitLab shows only the first of a fingerprint
    return issues


def test_gitlab_code_quality_report(cli: Callable[..., CliResult], demo: Path) -> None:
    issues = _gitlab(cli, demo)
    report = cli(["check", str(demo), "--offline", "--format", "json"]).json()
    assert len(issues) == len(report["findings"])
    for issue, f in zip(issues, report["findings"], strict=True):
        assert issue["location"]["path"] == f["path"] and (demo / f["path"]).is_file()
        assert issue["location"]["lines"]["begin"] == f["line"]
        assert issue["check_name"] == f["rule"]
        assert issue["severity"] == {"error": "major", "warning": "minor", "info": "info"}[f["severity"]]
    assert any(i["check_name"] == "ARCH101" and i["severity"] == "major" for i in issues)


def test_gitlab_fingerprints_are_unique_and_survive_moved_lines(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    # The same pin twice in one file: one archlint fingerprint, two GitLab issues.
    (repo / "requirements.txt").write_text("intel-openmp==2024.2.1\nintel-openmp==2024.2.1\n")
    before = {(i["location"]["lines"]["begin"], i["fingerprint"]) for i in _gitlab(cli, repo)}
    assert len(before) == 2
    (repo / "requirements.txt").write_text("# moved\n\nintel-openmp==2024.2.1\nintel-openmp==2024.2.1\n")
    after = {(i["location"]["lines"]["begin"], i["fingerprint"]) for i in _gitlab(cli, repo)}
    assert {fp for _, fp in after} == {fp for _, fp in before}  # the merge request sees no new issue
    assert {line for line, _ in after} == {3, 4}


@pytest.fixture(scope="module")
def junit_schemas() -> list[xmlschema.XMLSchema]:
    return [
        xmlschema.XMLSchema(str(SCHEMAS / "junit-ant.xsd")),
        xmlschema.XMLSchema(str(SCHEMAS / "junit-jenkins-10.xsd")),
    ]


def _junit(cli: Callable[..., CliResult], repo: Path, schemas: list[xmlschema.XMLSchema], *extra: str) -> ET.Element:
    r = cli(["check", str(repo), "--offline", "--format", "junit", *extra])
    assert r.rc in (0, 1), r.err
    for schema in schemas:
        schema.validate(r.out)
    return ET.fromstring(r.out)


def test_junit_validates_and_agrees_with_the_exit_code(
    cli: Callable[..., CliResult], demo: Path, junit_schemas: list[xmlschema.XMLSchema]
) -> None:
    report = cli(["check", str(demo), "--offline", "--format", "json"]).json()
    root = _junit(cli, demo, junit_schemas)
    suites = root.findall("testsuite")
    assert sorted(s.get("name") for s in suites) == sorted({f["path"] for f in report["findings"]})
    cases = root.findall("testsuite/testcase")
    assert len(cases) == len(report["findings"])
    by_severity = {s: sum(1 for f in report["findings"] if f["severity"] == s) for s in ("error", "warning", "info")}
    assert len(root.findall("testsuite/testcase/failure")) == by_severity["error"]
    assert len(root.findall("testsuite/testcase/skipped")) == by_severity["warning"] + by_severity["info"]
    assert sum(int(s.get("failures", "0")) for s in suites) == by_severity["error"]
    failure = next(c for c in cases if c.get("name", "").startswith("ARCH101"))
    assert failure.get("classname") == "services/scorer/requirements.txt"
    assert "services/scorer/requirements.txt:4:1: ARCH101" in (failure.findtext("failure") or "")
    # --fail-on warning: warnings fail the build, and fail in the test report too.
    strict = _junit(cli, demo, junit_schemas, "--fail-on", "warning")
    assert len(strict.findall("testsuite/testcase/failure")) == by_severity["error"] + by_severity["warning"]


def test_junit_of_a_clean_tree_is_one_passing_test(
    cli: Callable[..., CliResult], tmp_path: Path, junit_schemas: list[xmlschema.XMLSchema]
) -> None:
    (tmp_path / "app.py").write_text("print('hello')\n")
    root = _junit(cli, tmp_path, junit_schemas)
    [case] = root.findall("testsuite/testcase")
    assert list(case) == [] and root.find("testsuite").get("tests") == "1"  # type: ignore[union-attr]


def test_junit_stays_valid_xml_with_control_characters_in_names(
    cli: Callable[..., CliResult], tmp_path: Path, junit_schemas: list[xmlschema.XMLSchema]
) -> None:
    hostile = tmp_path / "svc\x1b[2J\x07\u202e"
    hostile.mkdir()
    (hostile / "requirements.txt").write_text("intel-openmp==2024.2.1\n")
    root = _junit(cli, tmp_path, junit_schemas)  # XML 1.0 cannot hold ESC or BEL: they must be escaped
    names = [s.get("name") or "" for s in root.findall("testsuite")]
    assert any("\\x1b[2J\\x07\\u202e" in n for n in names), names
