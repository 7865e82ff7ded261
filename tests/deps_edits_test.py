"""Fix edits on the exact spans the source parsers report."""

from __future__ import annotations

from archlint.deps.edits import replace_fix, upgrade_fix
from archlint.facts import Dependency
from archlint.findings import Applicability


def dep(line: str, name: str, source: str = "pyproject", version: str | None = "1.19.5", **kw: object) -> Dependency:
    start = line.lower().index(name.lower()) + 1
    end = kw.pop("end", len(line.rstrip(",")) + 1)
    return Dependency(name=name, version=version, specifier=f"=={version}", path="p", line=3, source=source,
                      column=start, end_column=end, **kw)  # type: ignore[arg-type]  # fmt: skip


def test_upgrade_edits_only_the_version() -> None:
    line = "  \"numpy[extra] == 1.19.5 ; python_version >= '3'\","
    d = dep(line, "numpy", end=line.index(" ;") + 1)
    fix = upgrade_fix(d, "1.23.2", line)
    assert fix.applicability == Applicability.UNSAFE
    (e,) = fix.edits
    assert line[: e.start_column - 1] + e.content + line[e.end_column - 1 :] == line.replace("1.19.5", "1.23.2")


def test_poetry_table_entries_stay_valid_toml() -> None:
    line = 'cx-oracle = "8.3.0"'
    d = dep(line, "cx-oracle", version="8.3.0")
    (e,) = replace_fix(d, "oracledb", "3.1.0", line).edits
    assert e.content == 'oracledb = "3.1.0"'
    (e,) = upgrade_fix(dep('numpy = "1.19.5"', "numpy"), "1.23.2", 'numpy = "1.19.5"').edits
    assert e.content == 'numpy = "1.23.2"'


def test_lockfiles_and_hashes_get_manual_fixes() -> None:
    fix = upgrade_fix(dep("numpy", "numpy", source="poetry.lock"), "1.23.2", None)
    assert fix.applicability == Applicability.MANUAL and "`poetry update numpy`" in fix.description
    assert "`pdm update numpy`" in upgrade_fix(dep("numpy", "numpy", source="pdm.lock"), "2", None).description
    assert "`pipenv upgrade numpy`" in upgrade_fix(dep("numpy", "numpy", source="Pipfile.lock"), "2", None).description
    hashed = dep("numpy==1.19.5 \\", "numpy", source="requirements", hashes=("sha256:00",), end=14)
    fix = upgrade_fix(hashed, "1.23.2", "numpy==1.19.5 \\")
    assert fix.applicability == Applicability.MANUAL and not fix.edits and "regenerate the hashes" in fix.description


def test_a_span_that_does_not_name_the_dependency_is_not_edited() -> None:
    d = dep('numpy = "1.19.5"', "numpy")
    d.column = 3  # stale or wrong span: never edit blindly
    assert upgrade_fix(d, "1.23.2", 'numpy = "1.19.5"').applicability == Applicability.MANUAL
