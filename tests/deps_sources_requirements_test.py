"""Requirement files: options, hashes, extras, markers, URL/VCS/editable lines, -r/-c includes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from archlint.config import Config
from archlint.deps.sources import SourceResult, parse_file
from archlint.deps.sources.requirements import MAX_INVALID
from archlint.facts import Dependency
from archlint.scanning import REQUIREMENTS, ScanContext, SourceFile

SOURCES = Path(__file__).resolve().parent.parent / "fixtures" / "deps" / "sources"
REQ = SOURCES / "requirements"


def parse(rel: str, root: Path = SOURCES, also_scanned: tuple[str, ...] = ()) -> SourceResult:
    files = [SourceFile(path=root / r, rel=r, kind=REQUIREMENTS) for r in also_scanned]
    ctx = ScanContext(root=root, config=Config(), offline=True, files=files)
    return parse_file(SourceFile(path=root / rel, rel=rel, kind=REQUIREMENTS), ctx)


def deps(result: SourceResult) -> dict[tuple[str, str], Dependency]:
    return {(d.path, d.name): d for d in result.dependencies}


def text_at(rel: str, line: int | None, root: Path = SOURCES) -> str:
    assert line is not None
    return (root / rel).read_text(encoding="utf-8", errors="replace").splitlines()[line - 1]


MAIN = "requirements/requirements.txt"


def test_main_file_names_versions_lines() -> None:
    r = parse(MAIN)
    got = {(d.path, d.name, d.version, d.specifier, d.line) for d in r.dependencies}
    assert got == {
        ("requirements/common/shared.txt", "idna", "3.10", "==3.10", 2),
        ("requirements/base.txt", "attrs", "24.2.0", "==24.2.0", 2),
        (MAIN, "numpy", "2.1.3", "==2.1.3", 5),
        (MAIN, "pyyaml", None, "<7,>=6.0", 8),
        (MAIN, "requests", None, "~=2.32", 9),
        (MAIN, "colorama", None, "", 10),
        (MAIN, "flask", "3.0.3", "", 11),  # unpinned; the -c constraints file pins the version
        (MAIN, "django", None, "==4.2.*", 12),  # a wildcard is not one version
        (MAIN, "click", None, "", 15),
        (MAIN, "black", None, "", 16),
        (MAIN, "six", "1.16.0", "==1.16.0", 17),
        (MAIN, "docopt", None, "", 18),
        (MAIN, "localpkg", None, "", 19),
    }
    assert all(d.source == "requirements" for d in r.dependencies)


def test_constraint_file_entries_are_not_dependencies() -> None:
    r = parse(MAIN)
    assert "werkzeug" not in {d.name for d in r.dependencies}  # only in constraints.txt
    # ...but they are kept as constraints, for the tree below every requirement
    got = {(c.name, c.specifier, c.marker, c.path, c.line) for c in r.constraints}
    assert got == {
        ("flask", "==3.0.3", None, "requirements/constraints.txt", 1),
        ("werkzeug", "==3.0.4", None, "requirements/constraints.txt", 2),
    }


def test_constraints_with_ranges_and_markers(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-c c.txt\nnumpy\nscipy\n")
    (tmp_path / "c.txt").write_text('numpy==1.26.4; python_version < "3.9"\nscipy>=1.11,<2\nurllib3<2\n')
    r = parse("requirements.txt", tmp_path)
    d = {x.name: x for x in r.dependencies}
    # A pin that holds only under a marker is not the requirement's version on every target.
    assert d["numpy"].version is None and d["scipy"].version is None
    assert [(c.name, c.specifier, c.marker) for c in r.constraints] == [
        ("numpy", "==1.26.4", 'python_version < "3.9"'),
        ("scipy", "<2,>=1.11", None),
        ("urllib3", "<2", None),
    ]


def test_hashes_extras_markers() -> None:
    d = deps(parse(MAIN))
    numpy = d[(MAIN, "numpy")]
    assert numpy.hashes == (
        "sha256:c1f5d4d4ac9bd1d2b92d8e2bb9be0e0dd1fd2e9a5d1d8d35bb9ea2a4bcd0b4b1",
        "sha256:e0e5b0ca9e8c1e58f6d2b8a7cd4b7e6e3a0b2f8e8f3c7c2e6c8e4a0f2a2b1c3d4",
    )
    requests = d[(MAIN, "requests")]
    assert requests.extras == ("security", "socks")
    assert requests.marker == 'python_version >= "3.8"'
    assert d[(MAIN, "colorama")].marker == 'sys_platform == "win32"'
    assert d[(MAIN, "pyyaml")].marker is None


def test_spans_cover_name_extras_and_specifier() -> None:
    d = deps(parse(MAIN))
    for name, expected in [
        ("numpy", "numpy==2.1.3"),
        ("pyyaml", "PyYAML>=6.0,<7"),
        ("requests", "requests[socks,security]~=2.32"),
        ("colorama", "colorama"),
        ("django", "Django==4.2.*"),
    ]:
        dep = d[(MAIN, name)]
        assert dep.end_column is not None
        assert text_at(MAIN, dep.line)[dep.column - 1 : dep.end_column - 1] == expected


def test_url_vcs_and_editable_requirements() -> None:
    d = deps(parse(MAIN))
    click = d[(MAIN, "click")]
    assert click.url == "git+https://github.com/pallets/click.git@8.1.7#egg=click"
    assert click.editable is True
    line = text_at(MAIN, click.line)
    assert line[click.column - 1 : (click.end_column or 0) - 1] == click.url  # span excludes "-e "
    black = d[(MAIN, "black")]
    assert black.url == "git+https://github.com/psf/black@24.1.0" and black.editable is False
    six = d[(MAIN, "six")]
    assert six.url is not None and six.url.endswith("/six-1.16.0-py2.py3-none-any.whl")
    docopt = d[(MAIN, "docopt")]
    assert docopt.url is not None and docopt.url.endswith("/docopt-0.6.2.tar.gz")
    assert text_at(MAIN, docopt.line)[docopt.column - 1 : (docopt.end_column or 0) - 1].startswith("docopt @ https")
    local = d[(MAIN, "localpkg")]
    assert local.url == "./localpkg" and local.editable is True


def test_index_urls_and_garbage_line() -> None:
    r = parse(MAIN)
    assert r.index_urls == ["https://pypi.example.com/simple", "https://mirror.example.com/simple"]
    [bad] = [f for f in r.findings if f.rule == "ARCH002"]
    assert bad.line == 20 and bad.path == MAIN
    assert text_at(MAIN, bad.line) == "numpy==="
    assert [f.rule for f in r.findings] == ["ARCH002"]


def test_include_cycle_is_reported_and_rest_parsed() -> None:
    r = parse("requirements/cycle-a.txt")
    [cycle] = r.findings
    assert cycle.rule == "ARCH150"
    assert cycle.path == "requirements/cycle-b.txt" and cycle.line == 1
    assert "requirements/cycle-a.txt -> requirements/cycle-b.txt -> requirements/cycle-a.txt" in cycle.message
    assert {(d.path, d.name, d.line) for d in r.dependencies} == {
        ("requirements/cycle-a.txt", "six", 1),
        ("requirements/cycle-b.txt", "attrs", 2),
    }


def test_self_include_is_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-r requirements.txt\nsix==1.16.0\n")
    r = parse("requirements.txt", root=tmp_path)
    assert [(f.rule, f.line) for f in r.findings] == [("ARCH150", 1)]
    assert [d.name for d in r.dependencies] == ["six"]


def test_missing_and_remote_includes() -> None:
    r = parse("requirements/missing.txt")
    assert [(f.rule, f.line) for f in r.findings] == [("ARCH151", 1), ("ARCH152", 3)]
    assert "requirements/does-not-exist.txt" in r.findings[0].message
    assert [(d.name, d.line) for d in r.dependencies] == [("attrs", 2), ("idna", 4)]


def test_include_resolved_relative_to_including_file(tmp_path: Path) -> None:
    (tmp_path / "reqs" / "deep").mkdir(parents=True)
    (tmp_path / "requirements.txt").write_text("-r reqs/a.txt\n")
    (tmp_path / "reqs" / "a.txt").write_text("-r deep/b.txt\n")
    (tmp_path / "reqs" / "deep" / "b.txt").write_text("# pinned\nattrs==24.2.0\n")
    r = parse("requirements.txt", root=tmp_path)
    assert r.findings == []
    assert [(d.path, d.name, d.line) for d in r.dependencies] == [("reqs/deep/b.txt", "attrs", 2)]


def test_included_file_scanned_on_its_own_is_not_duplicated() -> None:
    # base.txt is parsed on its own too (and brings common/shared.txt with it): not repeated here.
    main = parse(MAIN, also_scanned=("requirements/base.txt",))
    assert {d.path for d in main.dependencies} == {MAIN}
    base = parse("requirements/base.txt", also_scanned=(MAIN,))
    assert [(d.path, d.name) for d in base.dependencies] == [
        ("requirements/common/shared.txt", "idna"),
        ("requirements/base.txt", "attrs"),
    ]


def test_non_utf8_file_reports_and_continues() -> None:
    r = parse("requirements/latin1.txt")
    [enc] = r.findings
    assert enc.rule == "ARCH002" and enc.line == 2 and "UTF-8" in enc.message
    assert [(d.name, d.version, d.line) for d in r.dependencies] == [("attrs", "24.2.0", 1), ("idna", "3.10", 3)]


def test_binary_file_is_one_finding(tmp_path: Path) -> None:
    shutil.copy(SOURCES / "broken" / "garbage.lock", tmp_path / "requirements.txt")
    r = parse("requirements.txt", root=tmp_path)
    assert [f.rule for f in r.findings] == ["ARCH002"]
    assert "not a text file" in r.findings[0].message
    assert r.dependencies == []


def test_many_invalid_lines_are_capped(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("".join(f"pkg{i}===\n" for i in range(MAX_INVALID + 30)))
    r = parse("requirements.txt", root=tmp_path)
    assert len(r.findings) == MAX_INVALID + 1
    assert "30 more invalid requirement lines" in r.findings[-1].message


def test_real_uv_pip_compile_output_with_hashes() -> None:
    rel = "requirements/requirements-lock.txt"
    r = parse(rel)
    assert r.findings == []
    got = {d.name: (d.version, d.line, len(d.hashes)) for d in r.dependencies}
    assert got == {
        "certifi": ("2026.10.19.post1", 3, 1),
        "charset-normalizer": ("3.5.3", 6, 172),
        "colorama": ("0.4.6", 180, 2),
        "docopt": ("0.6.2", 184, 1),
        "idna": ("3.20", 187, 2),
        "numpy": ("2.1.3", 191, 55),
        "pysocks": ("1.7.1", 248, 3),
        "pyyaml": ("6.0.4", 253, 75),
        "requests": ("2.34.2", 330, 2),
        "urllib3": ("2.8.0", 334, 2),
    }
    colorama = next(d for d in r.dependencies if d.name == "colorama")
    assert colorama.marker == 'sys_platform == "win32"'
    assert text_at(rel, colorama.line).startswith("colorama==0.4.6 ; sys_platform == 'win32'")


@pytest.mark.parametrize(
    ("line", "name", "url"),
    [
        ("https://example.com/wheels/Foo_Bar-1.0-py3-none-any.whl\n", "foo-bar", True),
        ("git+https://github.com/org/My.Repo.git@v1\n", "my-repo", True),
        ("-e .\n", None, True),
    ],
)
def test_names_inferred_for_bare_urls(tmp_path: Path, line: str, name: str | None, url: bool) -> None:
    (tmp_path / "requirements.txt").write_text(line)
    [dep] = parse("requirements.txt", root=tmp_path).dependencies
    assert dep.name == (name or tmp_path.name.lower().replace("_", "-"))
    assert (dep.url is not None) is url


def test_cli_reports_include_problems_once_per_line(tmp_path: Path, cli: Callable[..., Any]) -> None:
    # Both files of the cycle are discovered and parsed on their own: each include line is
    # reported once, and every pin appears once in the report's dependencies.
    reqs = tmp_path / "requirements"
    reqs.mkdir()
    (reqs / "a.txt").write_text("six==1.16.0\n-r b.txt\n")
    (reqs / "b.txt").write_text("-r a.txt\nattrs==24.2.0\n-r missing.txt\n-r https://example.com/r.txt\n")
    res = cli(["check", str(tmp_path), "--offline", "--format", "json", "--select", "ARCH150,ARCH151,ARCH152"])
    report = res.json()
    assert res.rc == 1
    got = sorted((f["rule"], f["path"], f["line"]) for f in report["findings"])
    assert got == [
        ("ARCH150", "requirements/a.txt", 2),
        ("ARCH150", "requirements/b.txt", 1),
        ("ARCH151", "requirements/b.txt", 3),
        ("ARCH152", "requirements/b.txt", 4),
    ]
    pins = sorted((d["name"], d["path"], d["line"]) for d in report["dependencies"])
    assert pins == [("attrs", "requirements/b.txt", 2), ("six", "requirements/a.txt", 1)]


def test_hashes_on_continuation_lines_with_a_marker_after(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "foo==1 \\\n"
        "    --hash=sha256:aa \\\n"
        "    --hash sha256:bb \\\n"
        '    ; python_version < "3.12"\n'
        "bar==2 --hash=sha256:cc\n"
        "# --hash=sha256:dd\n"
        "baz==3\n"
    )
    r = parse("requirements.txt", root=tmp_path)
    assert r.findings == []
    assert [(d.name, d.line, d.hashes, d.marker) for d in r.dependencies] == [
        ("foo", 1, ("sha256:aa", "sha256:bb"), 'python_version < "3.12"'),
        ("bar", 5, ("sha256:cc",), None),
        ("baz", 7, (), None),
    ]


def test_includes_outside_the_tree_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("not-a-requirement line with a secret\n")
    root = tmp_path / "repo"
    (root / "svc").mkdir(parents=True)
    (root / "svc" / "link.txt").symlink_to(secret)
    (root / "svc" / "requirements.txt").write_text("-r ../../outside.txt\n-r link.txt\n-r /etc/hostname\nsix==1.16.0\n")
    r = parse("svc/requirements.txt", root=root)
    assert [(f.rule, f.line) for f in r.findings] == [("ARCH153", 1), ("ARCH153", 2), ("ARCH153", 3)]
    assert all("secret" not in f.message for f in r.findings)
    assert [d.name for d in r.dependencies] == ["six"]
