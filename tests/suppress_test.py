from __future__ import annotations

from pathlib import Path

import pytest

from archlint.suppress import parse_comment


@pytest.mark.parametrize(
    ("line", "codes"),
    [
        ("x==1  # noqa: ARCH101", {"ARCH101"}),
        ("x==1  # noqa:ARCH101,ARCH102", {"ARCH101", "ARCH102"}),
        ("x==1  # NOQA: ARCH101 ARCH102", {"ARCH101", "ARCH102"}),
        ("x==1  # archlint: ignore[ARCH101, x86-only-dependency]", {"ARCH101", "x86-only-dependency"}),
        ("x==1  # noqa", None),
        ("x==1  # archlint: ignore", None),
    ],
)
def test_parse_comment(line: str, codes):
    parsed = parse_comment(line)
    assert parsed is not None
    assert parsed[0] == (frozenset(codes) if codes is not None else None)


def test_no_comment():
    assert parse_comment("x==1  # pinned for reasons") is None


def _report(cli, root: Path, *extra: str):
    return cli(["check", str(root), "--offline", "--format", "json", *extra]).json()


def test_noqa_variants_suppress_and_unused_is_reported(cli, tmp_path: Path):
    (tmp_path / "requirements.txt").write_text(
        "mkl==2024.0.0  # noqa: ARCH101\n"
        "tbb==2021.13.0  # archlint: ignore[x86-only-dependency]\n"
        "intel-openmp==2024.2.1  # noqa\n"
        "flask==3.0.3  # noqa: ARCH101\n"
        "daal4py==2024.5.0  # noqa: E501\n"
    )
    report = _report(cli, tmp_path)
    by_line = {(f["rule"], f["line"]) for f in report["findings"]}
    assert ("ARCH101", 1) not in by_line and ("ARCH101", 2) not in by_line and ("ARCH101", 3) not in by_line
    assert ("ARCH003", 4) in by_line  # names a rule that reported nothing there
    assert ("ARCH101", 5) in by_line  # someone else's code does not suppress ours
    assert ("ARCH003", 5) not in by_line  # ... and is not ours to call unused
    [unused] = [f for f in report["findings"] if f["rule"] == "ARCH003"]
    assert unused["severity"] == "info" and "ARCH101" in unused["message"]


def test_unused_not_reported_for_rules_that_did_not_run(cli, tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("flask==3.0.3  # noqa: ARCH101\n")
    report = _report(cli, tmp_path, "--select", "ARCH0")
    assert not any(f["rule"] == "ARCH003" for f in report["findings"])


def test_per_file_ignores_in_pyproject(cli, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.archlint.per-file-ignores]\n"ci/**" = ["ARCH1"]\n')
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "requirements.txt").write_text("mkl==2024.0.0\n")
    (tmp_path / "requirements.txt").write_text("mkl==2024.0.0\n")
    report = _report(cli, tmp_path)
    assert {f["path"] for f in report["findings"] if f["rule"] == "ARCH101"} == {"requirements.txt"}


def test_config_ignore(cli, tmp_path: Path):
    (tmp_path / "archlint.toml").write_text('ignore = ["x86-only-dependency"]\n')
    (tmp_path / "requirements.txt").write_text("mkl==2024.0.0\n")
    assert not any(f["rule"] == "ARCH101" for f in _report(cli, tmp_path)["findings"])


DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    ignore-check.archlint.io/deprecated-beta-node-label: "migrating in Q3"
    ignore-check.archlint.io/unschedulable-workload: "never fires here"
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector:
        beta.kubernetes.io/arch: amd64
      containers:
        - name: web
          image: nginx:1.27
"""


def test_object_annotation_suppresses_and_stale_annotation_is_reported(cli, tmp_path: Path):
    (tmp_path / "deploy.yaml").write_text(DEPLOY)
    report = _report(cli, tmp_path)
    rules = [(f["rule"], f["line"]) for f in report["findings"]]
    assert not any(r == "ARCH204" for r, _ in rules)  # suppressed by the annotation
    unused = [f for f in report["findings"] if f["rule"] == "ARCH003"]
    assert len(unused) == 1
    assert "unschedulable-workload" in unused[0]["message"] and unused[0]["line"] == 1


def test_python_strings_are_not_suppression_comments(cli, tmp_path: Path):
    (tmp_path / "t.py").write_text('DATA = "mkl==1  # noqa: ARCH101"\nimport os  # archlint: ignore[ARCH401]\n')
    report = _report(cli, tmp_path)
    unused = [(f["line"], f["column"]) for f in report["findings"] if f["rule"] == "ARCH003"]
    assert unused == [(2, 12)]  # the real comment, at its column; the string on line 1 is data


def test_uppercase_bare_noqa_silences_the_line_like_flake8(cli, tmp_path):
    # Django writes `import cx_Oracle as oracledb  # NOQA`; noqa is case-insensitive everywhere.
    (tmp_path / "a.py").write_text("import cx_Oracle  # NOQA\nimport mkl\n")
    res = cli(["check", str(tmp_path), "--offline", "--format", "json"])
    assert [(f["rule"], f["line"]) for f in res.json()["findings"]] == [("ARCH401", 2)]


def test_other_linters_noqa_on_clean_lines_is_not_read_or_reported(cli, tmp_path):
    # A tree full of `# noqa: E501` says nothing to archlint; only our codes are checked for staleness.
    (tmp_path / "a.py").write_text("x = 1  # noqa: E501\ny = 2  # noqa: ARCH401\n")
    res = cli(["check", str(tmp_path), "--offline", "--format", "json"])
    assert [(f["rule"], f["line"]) for f in res.json()["findings"]] == [("ARCH003", 2)]


def test_may_suppress_is_case_insensitive():
    from archlint.suppress import may_suppress

    assert may_suppress(b"x  # NoQa") and may_suppress(b"# ARCHLINT: ignore") and not may_suppress(b"x = 1\n")


def test_warm_run_keeps_suppressions_of_files_it_did_not_read(cli, tmp_path):
    # The second run answers unchanged files from the stat index without reading them; what the
    # first run learned (this file holds a suppression, that one does not) must carry over.
    import os

    (tmp_path / "a.py").write_text("import mkl  # noqa: ARCH401\n")
    (tmp_path / "b.py").write_text("import mkl\n")
    (tmp_path / "c.py").write_text("x = 1  # noqa: ARCH403\n")
    old = 1_600_000_000_000_000_000  # outside the racy window, so the index records them
    for n in ("a.py", "b.py", "c.py"):
        os.utime(tmp_path / n, ns=(old, old))
    cache = tmp_path.parent / f"{tmp_path.name}-cache"
    runs = [cli(["check", str(tmp_path), "--offline", "--cache-dir", str(cache), "--format", "json"]).json()
            for _ in range(2)]  # fmt: skip
    for report in runs:
        assert sorted((f["rule"], f["path"]) for f in report["findings"]) == [("ARCH003", "c.py"), ("ARCH401", "b.py")]
