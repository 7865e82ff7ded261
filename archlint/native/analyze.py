"""One file -> Summary (pure: depends on its kind and bytes only), and a tree of files -> hits."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

from archlint import scanning as k
from archlint.native.interface import Summary, Use
from archlint.native.prefilter import may_match
from archlint.source.interface import Hit

DEFAULT_MAX_BYTES = 4 * 1024 * 1024  # larger native files are skipped with an ARCH709 info


# kind -> (module, function); imported on demand: a tree with C files and no setup.py never imports libcst.
_PARSERS = {
    k.C_SOURCE: ("csource", "analyze_c"),
    k.CYTHON: ("cython", "analyze_cython"),
    k.FORTRAN: ("fortran", "analyze_fortran"),
    k.PYTHON: ("buildfiles.setup_py", "analyze_setup_py"),  # setup.py only
    k.CMAKE: ("buildfiles.cmake", "analyze_cmake"),
    k.MESON: ("buildfiles.meson", "analyze_meson"),
    k.MAKEFILE: ("buildfiles.make", "analyze_makefile"),
    k.PYPROJECT: ("buildfiles.config", "analyze_pyproject"),
    k.SETUP_CFG: ("buildfiles.config", "analyze_setup_cfg"),
}


def _parser(kind: str) -> Callable[[bytes], Summary]:
    module, func = _PARSERS[kind]
    parser: Callable[[bytes], Summary] = getattr(importlib.import_module(f"archlint.native.{module}"), func)
    return parser


def analyze(kind: str, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Summary:
    if not may_match(kind, data):
        return Summary()
    return analyze_matched(kind, data, max_bytes)


def analyze_matched(kind: str, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Summary:
    """`analyze` for bytes the prefilter already selected."""
    if len(data) > max_bytes:
        detail = (
            f"not analysed: {len(data)} bytes is over the {max_bytes}-byte limit (config `native-max-bytes`); "
            "a file this large is usually generated or an amalgamation"
        )
        return Summary(uses=(Use("ARCH709", "too-large", 1, detail=detail),))
    return _parser(kind)(data)


def analyze_tree(files: Mapping[str, tuple[str, bytes]], max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, list[Hit]]:
    """{path: (kind, bytes)} -> {path: [Hit]}: what the scanner does, without the file system (tests,
    rule examples)."""
    from archlint.native.findings import tree_hits

    summaries = {p: analyze(kind, data, max_bytes) for p, (kind, data) in files.items()}
    kinds = {p: kind for p, (kind, _) in files.items()}
    return tree_hits(summaries, kinds, lambda p: files[p][1])
