"""Reports are safe to print: bytes from scanned names never reach the terminal as controls."""

from __future__ import annotations

from pathlib import Path

import pytest

from archlint.report.safe import code_span, markdown, printable

HOSTILE_DIR = "svc\x1b]0;owned\x07\x1b[2J\u202egpj.\x00"  # title change, clear screen, bidi override


def _tree(tmp_path: Path) -> Path:
    d = tmp_path / "repo" / HOSTILE_DIR.replace("\x00", "")  # NUL cannot be in a file name
    d.mkdir(parents=True)
    (d / "requirements.txt").write_text("intel-openmp==2024.2.1\n")
    return tmp_path / "repo"


@pytest.mark.parametrize("fmt", ["text", "full", "markdown", "github"])
def test_control_characters_from_file_names_are_escaped(cli, tmp_path: Path, fmt: str):
    r = cli(["check", str(_tree(tmp_path)), "--offline", "--format", fmt, "--color", "never"])
    assert r.rc == 1
    assert "ARCH101" in r.out
    for bad in ("\x1b", "\x07", "\u202e"):
        assert bad not in r.out, (fmt, bad)
    if fmt != "github":  # workflow commands have their own %-escaping of the path property
        assert "\\x1b]0;owned\\x07" in r.out and "\\u202e" in r.out


def test_json_keeps_the_real_name(cli, tmp_path: Path):
    # JSON escapes controls itself; the path must stay the real one so tools can open the file.
    report = cli(["check", str(_tree(tmp_path)), "--offline", "--format", "json"]).json()
    assert any(f["path"].startswith(HOSTILE_DIR.replace("\x00", "")) for f in report["findings"])


def test_printable_leaves_ordinary_text_alone():
    s = "numpy==1.26.4 — naïve ✓ 日本語 [bold]not markup[/]"
    assert printable(s) == s
    assert printable("a\tb\nc\r") == "a\\x09b\\x0ac\\x0d"


def test_markdown_cells_cannot_open_html_or_split_columns():
    assert markdown("<img src=x onerror=alert(1)>|x") == "&lt;img src=x onerror=alert(1)&gt;\\|x"
    assert code_span("a`b") == "``a`b``" and code_span("`x") == "`` `x ``"


def test_rich_markup_in_a_reason_is_printed_verbatim(cli, tmp_path: Path):
    # A reason that looks like rich markup ("[/]" would make rich raise) is plain text.
    repo = tmp_path / "r"
    (repo / "deploy").mkdir(parents=True)
    (repo / "deploy" / "d.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n"
        "      containers: [{name: c, image: 'example.com/[/]bold:1'}]\n"
    )
    for fmt in ("text", "full"):
        r = cli(["check", str(repo), "--offline", "--color", "always", "--format", fmt])
        assert r.rc in (0, 1) and "Traceback" not in r.err
        assert "example.com/[/]bold:1" in r.out, fmt
