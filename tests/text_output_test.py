"""The text output and the flags around it, through the real CLI: ruff's concise layout, the
long form behind --output-format full, width and colour from the environment, --statistics,
-q/-v, --show-settings, and usage errors that help."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, CliResult

CONCISE = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): (?P<code>ARCH\d{3})(?: (?P<mark>\[[*~]\]))? "
                     r"(?P<message>\S.*)$")  # fmt: skip


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    repo = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", repo)
    return repo


def _finding_lines(out: str) -> list[str]:
    return out.split("\n\n")[0].splitlines()


def test_concise_is_one_path_line_col_line_per_finding(cli: Callable[..., CliResult], demo: Path) -> None:
    text = cli(["check", str(demo), "--offline"])
    report = cli(["check", str(demo), "--offline", "--format", "json"]).json()
    lines = _finding_lines(text.out)
    assert len(lines) == len(report["findings"]) > 5
    for line, f in zip(lines, report["findings"], strict=True):
        m = CONCISE.match(line)
        assert m, line
        assert (m["path"], int(m["line"]), int(m["col"]), m["code"]) == (f["path"], f["line"], f["column"], f["rule"])
        want = {"safe": "[*]", "unsafe": "[~]"}.get(f["fix"]["applicability"]) if f["fix"] else None
        assert m["mark"] == want, line
        # The location points at a real line of a real file (editors jump there).
        assert int(m["line"]) <= len((demo / m["path"]).read_text().splitlines())
    # `text` is the concise layout; ruff's name for it works too.
    assert cli(["check", str(demo), "--offline", "--output-format", "concise"]).out == text.out
    assert "services/scorer/requirements.txt:4:1: ARCH101 intel-openmp==2024.2.1 has no arm64 build" in text.out


def test_full_groups_findings_by_file_with_aligned_columns(
    cli: Callable[..., CliResult], demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    out = cli(["check", str(demo), "--offline", "--output-format", "full"]).out
    assert out == cli(["check", str(demo), "--offline", "--format", "full"]).out
    blocks = out.split("\n\n")
    group = next(b for b in blocks if b.startswith("services/api/requirements.txt\n")).splitlines()
    entries = [line for line in group[1:] if re.match(r"\s+\d+:\d+", line)]
    assert len(entries) == 5
    # Position, severity, code and message start in the same column on every line of a file.
    assert len({line.index("ARCH") for line in entries}) == 1
    assert len({line.index(" info ") for line in entries}) == 1
    scorer = next(b for b in blocks if b.startswith("deploy/scorer.yaml\n")).splitlines()
    heads = [line for line in scorer if re.match(r"\s+\d+:\d+", line)]
    assert {line.index("ARCH2") for line in heads} == {heads[0].index("ARCH2")} and len(heads) == 2
    assert "Placement" in out and "┏" in out  # at 120 columns the placement is a table


@pytest.mark.parametrize("fmt", ["text", "full"])
def test_80_columns_never_break_a_word(
    cli: Callable[..., CliResult], demo: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = cli(["check", str(demo), "--offline", "--format", fmt]).out
    report = cli(["check", str(demo), "--offline", "--format", "json"]).json()
    words = set()
    for w in report["workloads"]:
        words.add(w["id"])
        words.update(w["placement"]["reasons"][0].split())
    if fmt == "full":  # concise finding lines are never wrapped at all
        for f in report["findings"]:
            words.update(f["message"].split())
    tokens = set(out.split())
    broken = {w for w in words if w not in tokens and w.strip("()[];,") not in tokens}
    assert not broken, broken
    # Lines that wrap stay within the width, unless one unbreakable word is longer.
    wrapped = out.split("Placement")[1].splitlines() if fmt == "text" else out.splitlines()
    too_long = [line for line in wrapped if len(line) > 80 and len(line.split()) > 1
                and not CONCISE.match(line)]  # fmt: skip
    assert not [line for line in too_long if not any(len(w) > 40 for w in line.split())], too_long


def test_width_follows_columns_not_a_fixed_200(
    cli: Callable[..., CliResult], demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    narrow = cli(["check", str(demo), "--offline", "--format", "full"]).out  # not a terminal: 80
    monkeypatch.setenv("COLUMNS", "160")
    wide = cli(["check", str(demo), "--offline", "--format", "full"]).out
    assert all(len(line) <= 80 for line in narrow.splitlines() if max(map(len, line.split()), default=0) < 40)
    assert "┏" not in narrow  # too narrow for a table that keeps words whole: the line layout
    assert max(len(line) for line in wide.splitlines()) > 120 and "┏" in wide
    assert len(narrow.splitlines()) > len(wide.splitlines())


def test_colour_honours_no_color_and_force_color(
    cli: Callable[..., CliResult], demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["check", str(demo), "--offline"]
    assert "\x1b[" not in cli(args).out  # not a terminal
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" in cli(args).out
    assert "\x1b[" not in cli([*args, "--color", "never"]).out  # the flag wins
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in cli(args).out  # NO_COLOR wins over FORCE_COLOR
    assert "\x1b[" in cli([*args, "--color", "always"]).out
    monkeypatch.setenv("NO_COLOR", "")  # set but empty: no effect (no-color.org)
    assert "\x1b[" in cli(args).out


def test_statistics_count_findings_per_rule(cli: Callable[..., CliResult], demo: Path) -> None:
    report = cli(["check", str(demo), "--offline", "--format", "json"]).json()
    want: dict[str, int] = {}
    for f in report["findings"]:
        want[f["rule"]] = want.get(f["rule"], 0) + 1
    r = cli(["check", str(demo), "--offline", "--statistics"])
    assert r.rc == 1  # the exit code is the check's
    rows = [line.split() for line in r.out.splitlines()]
    assert {row[1]: int(row[0]) for row in rows} == want
    assert [int(row[0]) for row in rows] == sorted((int(row[0]) for row in rows), reverse=True)
    assert any(row[1] == "ARCH204" and row[2] == "[*]" for row in rows)
    stats = json.loads(cli(["check", str(demo), "--offline", "--statistics", "--format", "json"]).out)
    assert {s["code"]: s["count"] for s in stats} == want
    assert {s["code"]: s["name"] for s in stats}["ARCH101"] == "x86-only-dependency"
    bad = cli(["check", str(demo), "--offline", "--statistics", "--format", "sarif"])
    assert bad.rc == 2 and "--statistics" in bad.err


def test_quiet_prints_the_findings_and_nothing_else(cli: Callable[..., CliResult], demo: Path) -> None:
    r = cli(["check", str(demo), "--offline", "-q"])
    assert r.rc == 1
    lines = r.out.splitlines()
    assert lines and all(CONCISE.match(line) for line in lines)
    fix = cli(["check", str(demo), "--offline", "--fix", "--quiet"])
    assert fix.err == "" and "applied" not in fix.out
    assert "applied" in cli(["check", str(demo), "--offline", "--fix"]).err  # without -q it says so


def test_verbose_says_what_was_read(cli: Callable[..., CliResult], demo: Path) -> None:
    r = cli(["check", str(demo), "--offline", "-v"])
    assert f"config: {demo / 'archlint.toml'}" in r.err
    assert f"paths are relative to {demo}" in r.err
    assert re.search(r"\d+ file\(s\) seen, \d+ analysed \(.*\d+ kubernetes", r.err)
    assert r.out == cli(["check", str(demo), "--offline"]).out  # stdout is the report, unchanged
    both = cli(["check", str(demo), "-q", "-v"])
    assert both.rc == 2 and "--quiet" in both.err and "--verbose" in both.err and both.err.count("error:") == 1


def test_show_settings_resolves_without_scanning(cli: Callable[..., CliResult], demo: Path) -> None:
    (demo / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: [\n")  # a scan would report it
    (demo / "archlint.toml").write_text('index-url = "https://user:s3cret@mirror.example/simple"\n'
                                        + (demo / "archlint.toml").read_text())  # fmt: skip
    r = cli(["check", str(demo), "--show-settings", "--select", "ARCH2", "--python", "3.11"])
    assert r.rc == 0, r.err
    settings = dict(line.split(" = ", 1) for line in r.out.splitlines())
    assert json.loads(settings["root"]) == str(demo)
    assert json.loads(settings["config"]) == str(demo / "archlint.toml")
    assert json.loads(settings["python"]) == ["3.11"]
    rules = json.loads(settings["rules"])
    assert rules and all(code.startswith("ARCH2") for code in rules)
    assert "s3cret" not in r.out and "***@mirror.example" in r.out
    doc = json.loads(cli(["check", str(demo), "--show-settings", "--format", "json"]).out)
    assert [p["name"] for p in doc["cluster"]["pools"]] == ["general-x86", "graviton"]
    assert "ARCH002" not in r.out  # nothing was scanned


def test_a_bad_choice_says_what_it_meant(cli: Callable[..., CliResult], demo: Path) -> None:
    r = cli(["check", str(demo), "--format", "jsn"])
    assert r.rc == 2
    assert "did you mean 'json'?" in r.err
    assert r.err.count("error:") == 1 and "archlint check: error:" in r.err
    assert "did you mean 'warning'?" in cli(["check", "--fail-on", "warnings"]).err
    assert "did you mean 'check'?" in cli(["chek", str(demo)]).err
    assert "did you mean 'merge'?" in cli(["report", "merg", "a.json"]).err
    assert cli(["check", str(demo), "--offline", "--output-format", "json"]).json()["schema_version"] == 1


def test_an_unknown_flag_shows_the_usage_of_check(cli: Callable[..., CliResult], demo: Path) -> None:
    r = cli(["check", str(demo), "--frobnicate"])
    assert r.rc == 2
    assert r.err.startswith("usage: archlint check ")
    assert "--output-format" in r.err or "--format" in r.err  # check's options, not the command list
    assert "{check,rule,rules,baseline,report}" not in r.err
    assert r.err.count("error:") == 1 and "archlint check: error: unrecognized arguments: --frobnicate" in r.err
    merge = cli(["report", "merge", "a.json", "--frobnicate"])
    assert merge.err.startswith("usage: archlint report merge ") and merge.rc == 2


def test_readme_shows_the_concise_output(cli: Callable[..., CliResult]) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ archlint check fixtures/demo\n", 1)[1].split("```", 1)[0]
    shown = [CONCISE.match(line) for line in block.split("\n\n")[0].splitlines()]
    assert shown and all(shown)
    # The same findings, at the same places, as archlint prints for the demo today.
    real = cli(["check", str(FIXTURES / "demo"), "--offline"], cwd=FIXTURES.parent)
    places = {(m["path"], m["line"], m["col"], m["code"]) for m in map(CONCISE.match, _finding_lines(real.out)) if m}
    assert {(m["path"], m["line"], m["col"], m["code"]) for m in shown if m} <= places
    assert "Placement:" in block and "Deployment/shop/scorer  amd64, arm64 → amd64" in block
