"""One file -> Summary (pure: depends on its kind and bytes only), and a tree of files -> hits."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from archlint import scanning as k
from archlint.native.interface import Summary, Use
from archlint.native.prefilter import may_match
from archlint.source.interface import Hit

DEFAULT_MAX_BYTES = 4 * 1024 * 1024  # larger native files are skipped with an ARCH709 info


def _parser(kind: str) -> Callable[[bytes], Summary]:
    # Imported on demand: a tree with C files and no setup.py never imports libcst.
    if kind == k.C_SOURCE:
        from archlint.native.csource import analyze_c

        return analyze_c
    if kind == k.CYTHON:
        from archlint.native.cython import analyze_cython

        return analyze_cython
    if kind == k.FORTRAN:
        from archlint.native.fortran import analyze_fortran

        return analyze_fortran
    if kind == k.PYTHON:
        from archlint.native.buildfiles.setup_py import analyze_setup_py

        return analyze_setup_py
    if kind == k.CMAKE:
        from archlint.native.buildfiles.cmake import analyze_cmake

        return analyze_cmake
    if kind == k.MESON:
        from archlint.native.buildfiles.meson import analyze_meson

        return analyze_meson
    if kind == k.MAKEFILE:
        from archlint.native.buildfiles.make import analyze_makefile

        return analyze_makefile
    if kind in (k.PYPROJECT, k.SETUP_CFG):
        from archlint.native.buildfiles.config import analyze_pyproject, analyze_setup_cfg

        return analyze_pyproject if kind == k.PYPROJECT else analyze_setup_cfg
    raise ValueError(kind)


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
