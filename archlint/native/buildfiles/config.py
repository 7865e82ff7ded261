"""pyproject.toml and setup.cfg: x86 flags handed to the build backend.

pyproject.toml: scikit-build-core (`[tool.scikit-build] cmake.args`, `cmake.define`), meson-python
(`[tool.meson-python.args] setup`), setuptools' `ext-modules` (`extra-compile-args`), cibuildwheel
`environment` (CFLAGS). `[[tool.scikit-build.overrides]]` with an `if.platform-machine` and
`[[tool.cibuildwheel.overrides]]` whose `select` names x86 wheels are guards; so are the
`windows`/`macos` tables (no Linux image is built from them). setup.cfg: any option value.
"""

from __future__ import annotations

import re
from typing import Any

import tomllib

from archlint.native import vocab
from archlint.native.buildfiles.guards import BuildGuard, FlagSite, summarize
from archlint.native.interface import Summary

_TABLES = ("scikit-build", "meson-python", "setuptools", "cibuildwheel", "py-build-cmake", "hatch", "pdm")
_X86 = re.compile(r"(?i)x86_64|amd64|i[3-6]86|win32|\bx86\b|win_amd64")
_ARM = re.compile(r"(?i)aarch64|arm64")


def _strings(node: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], str]]:
    out: list[tuple[tuple[str, ...], str]] = []
    if isinstance(node, str):
        out.append((path, node))
    elif isinstance(node, dict):
        for k, v in node.items():
            out.extend(_strings(v, (*path, str(k))))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_strings(v, (*path, str(i))))
    return out


def _override_guard(entry: Any, table: str, line: int) -> BuildGuard | None:
    """The condition of one `overrides` entry, when it names CPUs."""
    if not isinstance(entry, dict):
        return None
    cond = entry.get("if") if table == "scikit-build" else entry.get("select")
    text = repr(cond)
    x86, arm = bool(_X86.search(text)), bool(_ARM.search(text))
    if not (x86 or arm):
        return None
    arm64 = None if arm else False
    return BuildGuard(f"the override `{text}` (line {line})", arm64, None, x86, arm)


def _line_of(lines: list[str], value: str, start: int) -> tuple[int, int]:
    needle = value.split("\n")[0][:60]
    for i in range(max(start, 0), len(lines)):
        c = lines[i].find(needle)
        if c >= 0:
            return i + 1, c + 1
    for i, text in enumerate(lines):
        c = text.find(needle)
        if c >= 0:
            return i + 1, c + 1
    return 1, 1


def analyze_pyproject(data: bytes) -> Summary:
    try:
        doc = tomllib.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return Summary(parsed=True)  # the dependency scanner reports a broken pyproject.toml
    tool = doc.get("tool")
    if not isinstance(tool, dict):
        return Summary(parsed=True)
    lines = data.decode("utf-8-sig").split("\n")
    sites: list[FlagSite] = []
    defines: list[tuple[str, int, tuple[BuildGuard, ...]]] = []
    cursor = 0
    for table in _TABLES:
        section = tool.get(table)
        if not isinstance(section, dict):
            continue
        for path, value in _strings(section, ()):
            if not vocab.flags_in(" " + value) and not re.search(r"-D[A-Za-z_]", value):
                continue
            guards: list[BuildGuard] = []
            header = next((i for i, t in enumerate(lines) if re.match(rf"\s*\[+\s*tool\.{re.escape(table)}\b", t)), 0)
            line, col = _line_of(lines, value, max(cursor, header))
            cursor = line - 1
            if path and path[0] == "overrides" and len(path) > 1 and path[1].isdigit():
                entries = section.get("overrides")
                g = _override_guard(entries[int(path[1])], table, line) if isinstance(entries, list) else None
                if g is not None:
                    guards.append(g)
            if table == "cibuildwheel" and path and path[0] in ("windows", "macos", "ios", "pyodide"):
                guards.append(BuildGuard(f"[tool.cibuildwheel.{path[0]}]", False, False))
            if table == "cibuildwheel" and path and path[0] == "linux":
                archs = section["linux"].get("archs") if isinstance(section.get("linux"), dict) else None
                if archs is not None and not _ARM.search(repr(archs)) and _X86.search(repr(archs)):
                    guards.append(BuildGuard(f"[tool.cibuildwheel.linux] archs = {archs!r}", False, None, True))
            sites.append(FlagSite(value, line, col, tuple(guards), group=(line, col)))
            for m in re.finditer(r"-D([A-Za-z_]\w*)", value):
                if vocab.x86_macro(m.group(1)):
                    defines.append((m.group(1), line, tuple(guards)))
    return summarize(sites, (), defines, "pyproject.toml")


def analyze_setup_cfg(data: bytes) -> Summary:
    sites: list[FlagSite] = []
    for n, raw in enumerate(data.decode("utf-8", "replace").split("\n"), 1):
        line = raw.split("#", 1)[0] if not raw.lstrip().startswith(("#", ";")) else ""
        if "=" in line or raw[:1] in (" ", "\t"):
            for off, flag, _ in vocab.flags_in(line):
                sites.append(FlagSite(flag, n, off + 1, (), group=(n, 1)))
    return summarize(sites, (), (), "setup.cfg")
