"""The CLI contract: exit codes, every output format naming the finding at its line, fixes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from archlint import __version__
from tests.conftest import FIXTURES

PIN = "flask==3.0.3\nintel-openmp==2024.2.1\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "requirements.txt").write_text(PIN)
    (tmp_path / ".git").mkdir()  # the root for repo-relative paths
    return tmp_path


def _args(repo: Path, *extra: str) -> list[str]:
    return ["check", str(repo), "--offline", *extra]


def test_x86_pin_fails_with_line_in_text(cli, repo):
    r = cli(_args(repo))
    assert r.rc == 1
    assert "requirements.txt" in r.out
    assert "2:1" in r.out and "ARCH101" in r.out and "intel-openmp" in r.out


def test_x86_pin_in_json(cli, repo):
    r = cli(_args(repo, "--format", "json"))
    assert r.rc == 1
    report = r.json()
    [f] = [f for f in report["findings"] if f["rule"] == "ARCH101"]
    assert (f["path"], f["line"], f["column"], f["severity"]) == ("requirements.txt", 2, 1, "error")
    assert f["end_column"] == len("intel-openmp==2024.2.1") + 1
    assert f["name"] == "x86-only-dependency"
    assert report["summary"]["errors"] >= 1
    deps = {d["name"]: d for d in report["dependencies"]}
    assert deps["intel-openmp"]["status"] == "unavailable"
    assert deps["intel-openmp"]["line"] == 2
    assert deps["flask"]["status"] in ("ok", "unknown")  # offline: only a lockfile or the KB can say ok


def test_x86_pin_in_sarif_validates_against_oasis_schema(cli, repo):
    r = cli(_args(repo, "--format", "sarif"))
    assert r.rc == 1
    sarif = json.loads(r.out)
    schema = json.loads((FIXTURES / "schemas" / "sarif-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)
    run = sarif["runs"][0]
    [res] = [x for x in run["results"] if x["ruleId"] == "ARCH101"]
    loc = res["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "requirements.txt"  # repo-relative
    assert loc["region"]["startLine"] == 2
    assert res["partialFingerprints"]["archlint/v1"]
    rule = run["tool"]["driver"]["rules"][res["ruleIndex"]]
    assert rule["id"] == "ARCH101" and "arm64" in rule["help"]["markdown"]


def test_x86_pin_in_github_annotations(cli, repo):
    r = cli(_args(repo, "--format", "github"))
    assert r.rc == 1
    lines = [x for x in r.out.splitlines() if "ARCH101" in x]
    assert lines and lines[0].startswith("::error file=requirements.txt,line=2,col=1,")


def test_x86_pin_in_markdown(cli, repo):
    r = cli(_args(repo, "--format", "markdown"))
    assert r.rc == 1
    assert "`requirements.txt:2`" in r.out and "ARCH101" in r.out
    assert "blocking problems found" in r.out


def test_clean_tree_exits_zero(cli, tmp_path):
    (tmp_path / "requirements.txt").write_text("intel-openmp==2024.2.1  # noqa: ARCH101\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    r = cli(["check", str(tmp_path), "--offline", "--select", "ARCH0,ARCH101"])
    assert r.rc == 0, r.out + r.err


def test_output_file(cli, repo, tmp_path):
    out = tmp_path / "report.json"
    r = cli(_args(repo, "--format", "json", "--output", str(out)))
    assert r.rc == 1 and r.out == ""
    from tests.conftest import validate_report

    validate_report(json.loads(out.read_text()))


def test_exit_zero_and_fail_on(cli, repo):
    assert cli(_args(repo, "--exit-zero")).rc == 0
    # Only info-level findings left after ignoring ARCH101: --fail-on warning still passes.
    assert cli(_args(repo, "--ignore", "ARCH101", "--fail-on", "warning", "--select", "ARCH0,ARCH101")).rc == 0


def test_fail_on_warning_fails_on_warning(cli, tmp_path):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")  # ARCH001 is a warning
    assert cli(["check", str(tmp_path), "--offline"]).rc == 0
    assert cli(["check", str(tmp_path), "--offline", "--fail-on", "warning"]).rc == 1


def test_select_by_prefix_and_name(cli, repo):
    r = cli(_args(repo, "--select", "x86-only-dependency", "--format", "json"))
    assert {f["rule"] for f in r.json()["findings"]} == {"ARCH101"}
    r = cli(_args(repo, "--select", "ARCH0", "--format", "json"))
    assert "ARCH101" not in {f["rule"] for f in r.json()["findings"]}


def test_unknown_rule_is_usage_error(cli, repo):
    r = cli(_args(repo, "--select", "ARCH999"))
    assert r.rc == 2 and "ARCH999" in r.err


def test_bad_flag_and_missing_path_exit_2(cli, tmp_path):
    assert cli(["check", "--format", "xml"]).rc == 2
    r = cli(["check", str(tmp_path / "nope")])
    assert r.rc == 2 and "no such file" in r.err
    assert cli(["check", str(tmp_path), "--python", "three"]).rc == 2


def test_bad_config_exits_2_naming_file_and_key(cli, repo):
    (repo / "archlint.toml").write_text("python = 3.11\n")
    r = cli(_args(repo))
    assert r.rc == 2
    assert "archlint.toml" in r.err and "python" in r.err and "expected a string" in r.err


def test_version(cli, capsys):
    r = cli(["--version"])
    assert r.rc == 0 and __version__ in r.out


def test_rules_and_rule(cli):
    r = cli(["rules"])
    assert r.rc == 0 and "ARCH101" in r.out and "x86-only-dependency" in r.out
    r = cli(["rule", "ARCH101"])
    assert r.rc == 0
    for heading in ("## What it does", "## Why is this bad on arm64", "## Example", "## Fix", "## References"):
        assert heading in r.out
    assert cli(["rule", "x86-only-dependency"]).out == r.out
    assert cli(["rule", "ARCH999"]).rc == 2
    data = json.loads(cli(["rules", "--format", "json"]).out)
    assert any(x["code"] == "ARCH101" for x in data)


def test_diff_writes_nothing(cli, repo):
    before = (repo / "requirements.txt").read_text()
    r = cli(_args(repo, "--diff"))
    assert r.out == ""  # the knowledge-base fix is unsafe: nothing without --unsafe-fixes
    r = cli(_args(repo, "--diff", "--unsafe-fixes"))
    assert r.rc == 1
    assert "-intel-openmp==2024.2.1" in r.out and "+++ b/requirements.txt" in r.out
    assert (repo / "requirements.txt").read_text() == before


def test_fix_applies_and_is_idempotent(cli, repo):
    (repo / "requirements.txt").write_text(
        "flask==3.0.3\ntensorflow-intel==2.15.1  # the Intel build\nintel-openmp==2024.2.1\n"
    )
    r = cli(_args(repo, "--fix", "--unsafe-fixes", "--select", "ARCH1"))
    assert r.rc == 0, r.out
    text = (repo / "requirements.txt").read_text()
    assert "intel-openmp" not in text and "tensorflow-intel" not in text
    assert text.startswith("flask==3.0.3\ntensorflow")
    assert "# the Intel build" in text  # the comment survives
    r2 = cli(_args(repo, "--fix", "--unsafe-fixes", "--select", "ARCH1"))
    assert r2.rc == 0 and (repo / "requirements.txt").read_text() == text


def test_scanned_file_that_cannot_be_parsed_is_a_finding_not_exit_2(cli, tmp_path):
    (tmp_path / "requirements.txt").write_bytes(b"numpy===\n\xff\xfe garbage\n")
    r = cli(["check", str(tmp_path), "--offline", "--format", "json"])
    assert r.rc == 1
    assert any(f["rule"] == "ARCH002" and f["path"] == "requirements.txt" for f in r.json()["findings"])


def test_demo_repository(cli, tmp_path):
    demo = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", demo)
    r = cli(["check", str(demo), "--offline", "--format", "json"])
    assert r.rc == 1
    report = r.json()
    flagged = {(f["path"], f["line"]) for f in report["findings"] if f["rule"] == "ARCH101"}
    assert ("services/scorer/requirements.txt", 4) in flagged
    assert not any(f["path"].startswith("services/api/") and f["severity"] == "error" for f in report["findings"])


def test_fingerprints_stable_across_line_moves(cli, repo):
    a = cli(_args(repo, "--format", "json")).json()
    (repo / "requirements.txt").write_text("# moved down\n\n" + PIN)
    b = cli(_args(repo, "--format", "json")).json()
    fa = {f["fingerprint"] for f in a["findings"] if f["rule"] == "ARCH101"}
    fb = {f["fingerprint"] for f in b["findings"] if f["rule"] == "ARCH101"}
    assert fa == fb and fa
    lines = {f["line"] for f in b["findings"] if f["rule"] == "ARCH101"}
    assert lines == {4}


def test_text_colour_only_when_asked(cli, repo):
    plain = cli(_args(repo))
    assert "\x1b[" not in plain.out  # not a terminal
    coloured = cli(_args(repo, "--color", "always"))
    assert "\x1b[" in coloured.out and "ARCH101" in coloured.out


def test_show_fixes_describes_each_fix(cli, repo):
    r = cli(_args(repo, "--show-fixes"))
    assert "[~] remove intel-openmp" in r.out
    assert "[~]" in cli(_args(repo)).out and "remove intel-openmp" not in cli(_args(repo)).out


def test_stdin_dash_without_manifests_is_not_an_error(cli, tmp_path):
    r = cli(["check", "-", "--offline", "--format", "json"], stdin=b"")
    assert r.rc == 0
    assert r.json()["findings"] == []
