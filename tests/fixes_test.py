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
