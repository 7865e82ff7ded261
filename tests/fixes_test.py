from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from archlint import fixes
from archlint.atomic import write_atomic
from archlint.findings import Applicability, Edit, Finding, Fix


def E(sl: int, sc: int, el: int, ec: int, content: str, path: str = "f.txt") -> Edit:
    return Edit(path, sl, sc, el, ec, content)


def test_replace_insert_delete():
    text = "alpha\nbeta\ngamma\n"
    out, n = fixes.apply_edits(text, [E(2, 1, 2, 5, "BETA"), E(1, 1, 1, 1, "# top\n"), E(3, 1, 4, 1, "")])
    assert (out, n) == ("# top\nalpha\nBETA\n", 3)


def test_overlapping_edits_keep_the_first_and_skip_the_rest():
    out, n = fixes.apply_edits("abcdef\n", [E(1, 2, 1, 5, "X"), E(1, 3, 1, 4, "Y")])
    assert (out, n) == ("aXef\n", 1)


def test_identical_duplicate_insertions_apply_once():
    out, n = fixes.apply_edits("a\n", [E(2, 1, 2, 1, "b\n"), E(2, 1, 2, 1, "b\n")])
    assert (out, n) == ("a\nb\n", 1)


def test_positions_past_end_clamp():
    out, _ = fixes.apply_edits("only line", [E(1, 1, 2, 1, "")])
    assert out == ""


def test_crlf_and_unicode_preserved():
    text = "naïve==1\r\nmkl==1\r\n"
    out, _ = fixes.apply_edits(text, [E(2, 1, 3, 1, "")])
    assert out == "naïve==1\r\n"


def _finding(path: str, app: Applicability, *edits: Edit) -> Finding:
    return Finding(rule="ARCH101", message="m", path=path, fix=Fix("d", app, edits))


def test_plan_respects_applicability_and_writes_atomically(tmp_path: Path):
    f = tmp_path / "requirements.txt"
    f.write_text("mkl==1\nflask==3\n")
    os.chmod(f, 0o640)
    safe = _finding("requirements.txt", Applicability.SAFE, E(2, 1, 2, 6, "Flask", "requirements.txt"))
    unsafe = _finding("requirements.txt", Applicability.UNSAFE, E(1, 1, 2, 1, "", "requirements.txt"))
    manual = _finding("requirements.txt", Applicability.MANUAL, E(1, 1, 1, 1, "x", "requirements.txt"))
    p = fixes.plan([safe, unsafe, manual], tmp_path, unsafe=False)
    assert p.new_texts["requirements.txt"][2] == "mkl==1\nFlask==3\n"
    p = fixes.plan([safe, unsafe, manual], tmp_path, unsafe=True)
    diff = fixes.unified_diff(p)
    assert "-mkl==1" in diff and "+Flask==3" in diff and f.read_text() == "mkl==1\nflask==3\n"
    fixes.write(p)
    assert f.read_text() == "Flask==3\n"
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert [x.name for x in tmp_path.iterdir()] == ["requirements.txt"]  # no temp files left


def test_write_atomic_leaves_original_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    f = tmp_path / "a.yaml"
    f.write_text("original\n")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomic(f, "new\n")
    assert f.read_text() == "original\n"
    assert [x.name for x in tmp_path.iterdir()] == ["a.yaml"]


def test_new_files_follow_umask_unless_private(tmp_path: Path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "report.html", "<html/>")
        write_atomic(tmp_path / "cache" / "entry.json", b"{}", private=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "report.html").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "cache" / "entry.json").stat().st_mode) == 0o600
    assert (tmp_path / "cache" / "entry.json").read_bytes() == b"{}"


# --- links: --fix writes through symlinks inside the tree and never splits hard links ---------

SCORER_FIX = "numpy==1.26.4\ntensorflow-intel==2.15.1\n"


def _tf_fix(rel: str) -> Finding:
    return _finding(rel, Applicability.UNSAFE, E(2, 1, 2, 25, "tensorflow==2.15.1", rel))


def test_symlink_inside_the_tree_is_written_through_and_stays_a_link(tmp_path: Path):
    (tmp_path / "shared").mkdir()
    real = tmp_path / "shared" / "requirements.txt"
    real.write_text(SCORER_FIX)
    link = tmp_path / "requirements.txt"
    link.symlink_to("shared/requirements.txt")
    # Both names were scanned and both carry the same fix: it is applied once, to the target.
    p = fixes.plan([_tf_fix("requirements.txt"), _tf_fix("shared/requirements.txt")], tmp_path, unsafe=True)
    assert p.refused == [] and list(p.new_texts) == ["requirements.txt"]
    fixes.write(p)
    assert link.is_symlink() and os.readlink(link) == "shared/requirements.txt"
    assert real.read_text() == "numpy==1.26.4\ntensorflow==2.15.1\n"


def test_symlink_to_outside_the_tree_is_refused_with_a_finding(tmp_path: Path):
    outside = tmp_path / "elsewhere.txt"
    outside.write_text(SCORER_FIX)
    tree = tmp_path / "repo"
    tree.mkdir()
    (tree / "requirements.txt").symlink_to(outside)
    p = fixes.plan([_tf_fix("requirements.txt")], tree, unsafe=True)
    assert p.new_texts == {} and fixes.unified_diff(p) == ""
    assert [rel for rel, _ in p.refused] == ["requirements.txt"]
    fixes.write(p)
    assert outside.read_text() == SCORER_FIX
    [f] = fixes.refusal_findings(p)
    assert f.rule == "ARCH020" and f.path == "requirements.txt" and str(outside) in f.message


def test_hard_linked_file_is_refused_not_split(tmp_path: Path):
    a = tmp_path / "requirements.txt"
    a.write_text(SCORER_FIX)
    os.link(a, tmp_path / "requirements-copy.txt")
    p = fixes.plan([_tf_fix("requirements.txt")], tmp_path, unsafe=True)
    assert p.new_texts == {} and p.refused and "2 hard links" in p.refused[0][1]
    fixes.write(p)
    assert a.read_text() == SCORER_FIX and os.stat(a).st_nlink == 2


def test_cli_fix_keeps_symlinked_manifest_a_symlink(cli, tmp_path: Path):
    import shutil

    repo = tmp_path / "demo"
    shutil.copytree(Path(__file__).resolve().parent.parent / "fixtures" / "demo", repo)
    (repo / "manifests").mkdir()
    (repo / "deploy" / "scorer.yaml").rename(repo / "manifests" / "scorer.yaml")
    (repo / "deploy" / "scorer.yaml").symlink_to("../manifests/scorer.yaml")
    r = cli(["check", str(repo), "--offline", "--fix"])
    assert r.rc == 1, r.err
    link = repo / "deploy" / "scorer.yaml"
    assert link.is_symlink() and os.readlink(link) == "../manifests/scorer.yaml"
    text = (repo / "manifests" / "scorer.yaml").read_text()
    assert "kubernetes.io/arch: amd64" in text and "beta.kubernetes.io/os" not in text


# --- --diff shows exactly what --fix writes ------------------------------------------------------


def _demo_copy(tmp_path: Path, name: str) -> Path:
    import shutil

    dst = tmp_path / name
    shutil.copytree(Path(__file__).resolve().parent.parent / "fixtures" / "demo", dst)
    return dst


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_diff_is_exactly_what_fix_writes(cli, tmp_path: Path, unsafe: bool):
    import subprocess

    flags = ["--offline", *(["--unsafe-fixes"] if unsafe else [])]
    by_diff, by_fix = _demo_copy(tmp_path, "a"), _demo_copy(tmp_path, "b")
    d = cli(["check", str(by_diff), "--diff", *flags], cwd=by_diff)
    assert d.rc == 1 and d.out.startswith("diff --git a/")
    subprocess.run(["patch", "-p1", "--quiet"], input=d.out, text=True, cwd=by_diff, check=True)
    f = cli(["check", str(by_fix), "--fix", *flags], cwd=by_fix)
    assert "applied" in f.err
    assert _tree(by_diff) == _tree(by_fix)
    assert _tree(by_fix) != _tree(_demo_copy(tmp_path, "orig"))


# --- a fix never hides a blocker ----------------------------------------------------------------


def test_unsafe_fix_keeps_the_scorer_on_amd64_while_it_loads_libiomp5(cli, tmp_path: Path):
    repo = _demo_copy(tmp_path, "demo")
    r = cli(["check", str(repo), "--offline", "--fix", "--unsafe-fixes", "--format", "json"])
    report = r.json()
    scorer = next(w for w in report["workloads"] if w["name"] == "scorer")
    assert scorer["placement"]["recommendation"] == "amd64"
    # intel-openmp stays (code still loads its library); the gate is not rewritten to admit aarch64.
    assert "intel-openmp==2024.2.1" in (repo / "services/scorer/requirements.txt").read_text()
    assert 'platform.machine() != "x86_64"' in (repo / "services/scorer/scorer/__main__.py").read_text()
    assert "kubernetes.io/arch: amd64" in (repo / "deploy/scorer.yaml").read_text()
    rules = {(f["rule"], f["path"]) for f in report["findings"]}
    assert ("ARCH404", "services/scorer/scorer/__main__.py") in rules
    drop = next(f for f in report["findings"] if f["rule"] == "ARCH101" and "intel-openmp" in f["message"])
    assert drop["fix"]["applicability"] == "manual" and "__main__.py:11" in drop["message"]


def test_fixes_are_offered_once_nothing_needs_what_they_remove(cli, tmp_path: Path):
    repo = _demo_copy(tmp_path, "demo")
    main_py = repo / "services/scorer/scorer/__main__.py"
    main_py.write_text(main_py.read_text().replace('_omp = ctypes.CDLL("libiomp5.so")', "_omp = None"))
    report = cli(["check", str(repo), "--offline", "--format", "json"]).json()
    by_rule = {f["rule"]: f for f in report["findings"] if f["path"].startswith("services/scorer")
               and f["rule"] in ("ARCH101", "ARCH403") and "tensorflow" not in f["message"]}  # fmt: skip
    assert by_rule["ARCH101"]["fix"]["applicability"] == "unsafe"
    assert by_rule["ARCH403"]["fix"]["applicability"] == "unsafe"
