"""pyproject.toml: PEP 621, PEP 735 groups, Poetry tables (caret/tilde to PEP 440), indexes, lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from archlint.config import Config
from archlint.deps.sources import SourceResult, parse_file
from archlint.deps.sources.specifiers import pinned_version, poetry_to_pep440
from archlint.scanning import PYPROJECT, ScanContext, SourceFile

SOURCES = Path(__file__).resolve().parent.parent / "fixtures" / "deps" / "sources"


def parse(rel: str, root: Path = SOURCES) -> SourceResult:
    ctx = ScanContext(root=root, config=Config(), offline=True)
    return parse_file(SourceFile(path=root / rel, rel=rel, kind=PYPROJECT), ctx)


def span_text(root: Path, rel: str, line: int | None, column: int, end: int | None) -> str:
    assert line is not None and end is not None
    return (root / rel).read_text(encoding="utf-8").splitlines()[line - 1][column - 1 : end - 1]


def test_pep621_and_dependency_groups_from_the_uv_project() -> None:
    rel = "uv/pyproject.toml"
    r = parse(rel)
    assert r.findings == []
    assert r.requires_python == ">=3.10"
    got = [(d.name, d.version, d.specifier, d.line, d.marker, d.extras) for d in r.dependencies]
    assert got == [
        ("numpy", "2.1.3", "==2.1.3", 6, None, ()),
        ("pyyaml", None, "<7,>=6.0", 7, None, ()),
        ("requests", None, "~=2.32", 8, None, ("socks",)),
        ("docopt", "0.6.2", "==0.6.2", 9, None, ()),
        ("colorama", None, ">=0.4", 10, 'sys_platform == "win32"', ()),
        ("orjson", None, ">=3.10", 14, None, ()),  # optional-dependencies.fast
        ("pytest", None, ">=8", 17, None, ()),  # dependency-groups.dev
        ("six", None, "", 17, None, ()),
    ]
    # The span is the string's content: replacing it with another PEP 508 string is a valid edit.
    texts = [span_text(SOURCES, rel, d.line, d.column, d.end_column) for d in r.dependencies]
    assert texts == [
        "numpy==2.1.3",
        "PyYAML>=6.0,<7",
        "requests[socks]~=2.32",
        "docopt==0.6.2",
        "colorama>=0.4; sys_platform == 'win32'",
        "orjson>=3.10",
        "pytest>=8",
        "six",
    ]
    assert all(d.source == "pyproject" for d in r.dependencies)


def test_poetry_tables_convert_constraints() -> None:
    rel = "poetry/pyproject.toml"
    r = parse(rel)
    assert r.findings == []
    assert r.requires_python == ">=3.10,<4.0"  # python = "^3.10", and python itself is no dependency
    got = [(d.name, d.version, d.specifier, d.line, d.marker, d.extras) for d in r.dependencies]
    assert got == [
        ("numpy", "2.1.3", "==2.1.3", 10, None, ()),
        ("pyyaml", None, ">=6.0,<7.0", 11, None, ()),
        ("requests", None, ">=2.32,<2.33", 12, None, ("socks",)),
        ("docopt", "0.6.2", "==0.6.2", 13, None, ()),
        ("colorama", None, ">=0.4", 14, 'sys_platform == "win32"', ()),
        ("pytest", None, ">=8.0,<9.0", 17, None, ()),  # [tool.poetry.group.dev.dependencies]
        ("six", None, "", 18, None, ()),
    ]
    assert r.index_urls == ["https://pypi.org/simple/"]  # [[tool.poetry.source]]
    numpy = r.dependencies[0]
    assert span_text(SOURCES, rel, numpy.line, numpy.column, numpy.end_column) == 'numpy = "2.1.3"'


def test_indexes_lines_and_forms(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        """\
[project]
name = "x"
version = "0"
dependencies = ["six", 'attrs==24.2.0', "six"]

[project.optional-dependencies]
dev = [
  "pytest>=8",  # a comment with "pytest>=8" in it
]

[dependency-groups]
lint = [{include-group = "dev"}, "ruff==0.6.9"]

[tool.uv]
index-url = "https://legacy.example.com/simple"

[[tool.uv.index]]
name = "internal"
url = "https://pypi.internal.example.com/simple"

[[tool.pdm.source]]
name = "pdm"
url = "https://pdm.example.com/simple"

[tool.poetry.dependencies]
python = ">=3.11"
mylib = { git = "https://github.com/org/mylib.git", rev = "v1" }
local = { path = "../local", develop = true }
old = { version = "^1.0", python = "<3.12" }
multi = [
  { version = "^1.0", markers = "sys_platform == 'linux'" },
  { version = "^2.0", markers = "sys_platform == 'darwin'" },
]

[tool.poetry.dependencies.tabled]
version = "~2.1"
"""
    )
    r = parse("pyproject.toml", tmp_path)
    assert r.findings == []
    assert r.requires_python == ">=3.11"  # no [project] requires-python: Poetry's python constraint stands in
    assert r.index_urls == [
        "https://pypi.internal.example.com/simple",
        "https://legacy.example.com/simple",
        "https://pdm.example.com/simple",
    ]
    got = [(d.name, d.specifier, d.line, d.column) for d in r.dependencies]
    assert got[:5] == [
        ("six", "", 4, 18),
        ("attrs", "==24.2.0", 4, 25),
        ("six", "", 4, 42),  # the second "six", not the first again
        ("pytest", ">=8", 8, 4),
        ("ruff", "==0.6.9", 12, 35),
    ]
    poetry = {d.name: d for d in r.dependencies[5:] if d.name != "multi"}
    assert poetry["mylib"].url == "git+https://github.com/org/mylib.git@v1" and poetry["mylib"].version is None
    assert poetry["local"].url == "../local" and poetry["local"].editable is True
    assert poetry["old"].marker == 'python_version < "3.12"' and poetry["old"].specifier == ">=1.0,<2.0"
    assert (poetry["tabled"].specifier, poetry["tabled"].line) == (">=2.1,<2.2", 35)
    multi = [(d.specifier, d.marker, d.line) for d in r.dependencies if d.name == "multi"]
    assert multi == [
        (">=1.0,<2.0", 'sys_platform == "linux"', 30),
        (">=2.0,<3.0", 'sys_platform == "darwin"', 30),
    ]


def test_bad_entries_are_findings_at_their_lines() -> None:
    r = parse("broken/pyproject.toml")
    assert [(f.rule, f.line) for f in r.findings] == [("ARCH002", 5), ("ARCH002", 4), ("ARCH002", 11), ("ARCH002", 15)]
    assert "numpy===" in r.findings[0].message
    assert [(d.name, d.specifier, d.line) for d in r.dependencies] == [
        ("requests", ">=2", 6),
        ("union", "^1.0 || ^2.0", 16),  # no PEP 440 equivalent: kept as written, no version
    ]


def test_invalid_toml_is_one_finding_with_its_line() -> None:
    r = parse("broken/garbage-pyproject.toml")
    [f] = r.findings
    assert (f.rule, f.line, f.column) == ("ARCH002", 1, 9)
    assert r.dependencies == []


@pytest.mark.parametrize(
    ("poetry", "pep440"),
    [
        ("^1.2.3", ">=1.2.3,<2.0.0"),
        ("^0.2.3", ">=0.2.3,<0.3.0"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^0", ">=0,<1"),
        ("~1.2.3", ">=1.2.3,<1.3.0"),
        ("~1.2", ">=1.2,<1.3"),
        ("~1", ">=1,<2"),
        ("~=2.32", "~=2.32"),
        (">= 1.2, < 2.0", ">=1.2,<2.0"),
        (">=1.2 <2", ">=1.2,<2"),
        ("2.1.3", "==2.1.3"),
        ("=2.1.3", "==2.1.3"),
        ("1.2.*", "==1.2.*"),
        ("*", ""),
        ("^1.0 || ^2.0", None),
        ("^not.a.version", None),
    ],
)
def test_poetry_constraints(poetry: str, pep440: str | None) -> None:
    assert poetry_to_pep440(poetry) == pep440


@pytest.mark.parametrize(
    ("spec", "version"),
    [
        ("==1.2.3", "1.2.3"),
        ("== 1.0+local", "1.0+local"),
        ("==1..2", None),
        ("===1.0-custom", "1.0-custom"),
        ("==1.2.*", None),
        (">=1", None),
        ("==1,!=2", None),
    ],
)
def test_pinned_version(spec: str, version: str | None) -> None:
    assert pinned_version(spec) == version


def test_uv_sources_turn_names_into_local_or_vcs_dependencies(tmp_path: Path) -> None:
    real = parse("uv-fork/pyproject.toml")
    assert [(d.name, d.version, d.url, d.editable, d.marker) for d in real.dependencies] == [
        ("numpy", "1.26.4", None, False, 'python_version < "3.12"'),
        ("numpy", "2.1.3", None, False, 'python_version >= "3.12"'),
        ("mylib", None, "libs/mylib", True, None),  # [tool.uv.sources] mylib = { path = ..., editable = true }
    ]
    (tmp_path / "pyproject.toml").write_text(
        """\
[project]
name = "x"
version = "0"
dependencies = ["tool==1.0", "member", "plain==2.0", "pinned-index"]

[tool.uv.sources]
tool = { git = "https://github.com/org/tool", tag = "v1.0" }
member = { workspace = true }
pinned-index = { index = "internal" }
"""
    )
    got = {d.name: (d.version, d.url, d.editable) for d in parse("pyproject.toml", tmp_path).dependencies}
    assert got == {
        "tool": (None, "git+https://github.com/org/tool@v1.0", False),
        "member": (None, "workspace", True),
        "plain": ("2.0", None, False),
        "pinned-index": (None, None, False),
    }
