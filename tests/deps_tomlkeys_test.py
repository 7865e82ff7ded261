"""TOML fixes never write a second key (archlint/deps/tomlkeys.py and replace_fix)."""

from __future__ import annotations

import re

import pytest
import tomllib
from packaging.utils import canonicalize_name

from archlint.deps.edits import replace_fix
from archlint.deps.tomlkeys import array_item_span, declared_beside
from archlint.facts import Dependency
from archlint.fixes import apply_edits

POETRY = """\
[tool.poetry.dependencies]
python = "^3.11"
Torch = { version = "^2.2", source = "pytorch" }
intel-extension-for-pytorch = "^2.2"

[tool.poetry.group.cpu.dependencies]
intel-extension-for-tensorflow = "2.15.0"

[tool.poetry.dependencies.tensorflow]
version = "2.15.0"
"""


def test_declared_beside_reads_tables_and_sub_tables() -> None:
    lines = POETRY.splitlines()
    assert declared_beside(lines, 4, "intel-extension-for-pytorch") == {"python", "torch", "tensorflow"}
    assert declared_beside(lines, 7, "intel-extension-for-tensorflow") == set()  # another table
    assert declared_beside(["not [valid"], 1, "x") == set()


@pytest.mark.parametrize(
    ("line", "item", "expected"),
    [
        ('deps = ["intel-openmp==2024.2.1", "numpy"]', "intel-openmp==2024.2.1", 'deps = ["numpy"]'),
        ('deps = ["numpy", "intel-openmp==2024.2.1"]', "intel-openmp==2024.2.1", 'deps = ["numpy"]'),
        ("deps = ['numpy' , 'intel-openmp' , 'scipy']", "intel-openmp", "deps = ['numpy' , 'scipy']"),
        ('deps = ["intel-openmp"]', "intel-openmp", "deps = []"),
    ],
)
def test_array_items_go_with_their_quotes_and_one_comma(line: str, item: str, expected: str) -> None:
    col = line.index(item) + 1
    start, end = array_item_span(line, col, col + len(item))
    assert line[: start - 1] + line[end - 1 :] == expected
    tomllib.loads(expected)


def _dep(text: str, line_no: int, name: str) -> Dependency:
    """The span the pyproject parser reports: a Poetry entry from its key to the end of the line,
    an array item without its quotes."""
    line = text.splitlines()[line_no - 1]
    col = line.index(name) + 1
    quoted = col > 1 and line[col - 2] in "\"'"
    end = col + len(line[col - 1 :].split(line[col - 2])[0]) if quoted else len(line) + 1
    return Dependency(name=name, version=None, specifier="", path="pyproject.toml", line=line_no, source="pyproject",
                      column=col, end_column=end)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "line", "name", "replacement"),
    [
        (POETRY, 4, "intel-extension-for-pytorch", "torch"),
        (POETRY, 7, "intel-extension-for-tensorflow", "tensorflow"),  # not beside: replaced
        (
            '[project]\ndependencies = [\n  "intel-extension-for-pytorch==2.2",\n  "torch>=2.2",\n]\n',
            3,
            "intel-extension-for-pytorch",
            "torch",
        ),
        (
            '[project]\ndependencies = ["torch>=2.2", "intel-extension-for-pytorch==2.2"]\n',
            2,
            "intel-extension-for-pytorch",
            "torch",
        ),
        ('[project]\ndependencies = ["intel-extension-for-pytorch==2.2"]\n', 2, "intel-extension-for-pytorch", "torch"),
    ],
)
def test_replacement_fixes_keep_the_file_valid_toml(text: str, line: int, name: str, replacement: str) -> None:
    dep = _dep(text, line, name)
    fix = replace_fix(dep, replacement, None, text.splitlines()[line - 1], text.splitlines())
    fixed, n = apply_edits(text, list(fix.edits))
    assert n == 1
    doc = tomllib.loads(fixed)  # a duplicate key would raise here
    assert name not in fixed
    # The replacement is declared, once per table or array (Torch and torch are one distribution).
    counts = _declarations(doc, replacement)
    assert counts and max(counts) == 1


def _declarations(node: object, name: str) -> list[int]:
    """How often each table or array of `node` declares distribution `name`."""
    out: list[int] = []
    if isinstance(node, dict):
        n = sum(1 for k in node if canonicalize_name(k) == name)
        out += [n] if n else []
        for v in node.values():
            out += _declarations(v, name)
    elif isinstance(node, list):
        n = sum(1 for x in node if isinstance(x, str) and canonicalize_name(re.split(r"[<>=!~\[; ]", x)[0]) == name)
        out += [n] if n else []
    return out
