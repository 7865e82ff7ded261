"""Fixes for x86 compiler flags.

Safe where the build system knows the *target* CPU: CMake's CMAKE_SYSTEM_PROCESSOR and meson's
host_machine describe the machine the code is built for (a cross build included), so wrapping
the flags in a test of it keeps x86 builds exactly as they were and lets every other build
compile. Unsafe in setup.py: Python only knows the machine the build runs on
(`platform.machine()`), which is wrong for cross builds (cibuildwheel on QEMU is fine, a macOS
universal2 or a `--plat-name` cross build is not); the rewrite is offered with --unsafe-fixes.
"""

from __future__ import annotations

from archlint.source.interface import EditSpec, FixSpec

CMAKE_TEST = 'if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i[3-6]86|x86)$")'
MESON_TEST = "if host_machine.cpu_family() in ['x86', 'x86_64']"


def wrap_fix(lines: list[str], first: int, last: int, test: str, end: str, what: str) -> FixSpec:
    """Wrap lines first..last (1-based, whole statements; `lines` without newlines) in `test` … `end`,
    indented one step deeper than they were."""
    indent = lines[first - 1][: len(lines[first - 1]) - len(lines[first - 1].lstrip())]
    unit = "\t" if indent.startswith("\t") else "  "
    body = [indent + unit + ln[len(indent) :] if ln.startswith(indent) and ln.strip() else ln
            for ln in lines[first - 1 : last]]  # fmt: skip
    content = "\n".join([indent + test, *body, indent + end])
    return FixSpec(
        f"pass {what} only when building for x86 ({test} … {end})",
        "safe",
        (EditSpec(first, 1, last, len(lines[last - 1]) + 1, content),),
    )
