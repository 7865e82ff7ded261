"""The native scanner end to end: the issue's example through the CLI (findings, fixes, the image
verdict), numpy's dispatch shapes, select/ignore, suppression comments in C, the CMake fix
checked by a real CMake cross build, Cython, Fortran, and bad input."""

from __future__ import annotations

import ast
import shutil
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from archlint import engine
from tests.conftest import FIXTURES
from tests.source_scanner_test import _age  # files older than the stat index's racy window

ISSUE = FIXTURES / "native" / "issue"
NUMPY = FIXTURES / "native" / "numpy-shapes"
AARCH64_GCC = shutil.which("aarch64-linux-gnu-gcc")


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return root


def found(report: dict[str, Any], prefix: str = "ARCH7") -> list[tuple[str, int, str, str]]:
    return [(f["path"].rsplit("native/issue/", 1)[-1], f["line"], f["rule"], f["severity"])
            for f in report["findings"] if f["rule"].startswith(prefix)]  # fmt: skip


def test_issue_example_errors_at_the_right_lines_with_fixes(cli: Callable[..., Any]) -> None:
    res = cli(["check", str(ISSUE), "--offline", "--format", "json"])
    assert res.rc == 1, res.err
    report = res.json()
    assert found(report) == [
        ("ext/k.c", 3, "ARCH701", "error"),  # #include <immintrin.h>
        ("ext/k.c", 9, "ARCH702", "error"),  # __m256
        ("ext/k.c", 9, "ARCH702", "error"),  # _mm256_loadu_ps
        ("ext/k.c", 10, "ARCH702", "error"),  # _mm256_add_ps
        ("ext/k.c", 12, "ARCH702", "error"),  # _mm256_storeu_ps
        ("ext/k.c", 20, "ARCH703", "error"),  # __asm__ volatile("rdtsc" …)
        ("setup.py", 11, "ARCH711", "error"),  # extra_compile_args=[…, "-mavx2", "-mfma", "-march=haswell"]
    ]
    by = {(f["line"], f["rule"], f["message"].split("`")[1] if "`" in f["message"] else ""): f
          for f in report["findings"]}  # fmt: skip
    add = by[(10, "ARCH702", "_mm256_add_ps")]
    assert "vaddq_f32" in add["message"] and add["column"] == 16
    asm = next(f for f in report["findings"] if f["rule"] == "ARCH703")
    assert "cntvct_el0" in asm["message"]
    flags = next(f for f in report["findings"] if f["rule"] == "ARCH711")
    assert "-mavx2 -mfma -march=haswell" in flags["message"]
    assert flags["fix"]["applicability"] == "unsafe" and "platform.machine()" in flags["fix"]["description"]


def test_issue_example_image_is_x86_only_with_the_c_file_in_its_evidence(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    shutil.copytree(ISSUE, tmp_path / "repo")  # a repository of its own: paths are relative to it
    report = cli(["check", str(tmp_path / "repo"), "--offline", "--format", "json"]).json()
    (wl,) = report["workloads"]
    assert wl["id"] == "Deployment/analytics/fastsum"
    assert wl["placement"]["recommendation"] == "amd64"
    (image,) = wl["images"]
    assert image["arm64"] is False
    ev = image["evidence"]
    assert ev[0] == "ext/k.c:3: includes x86-only header <immintrin.h>"
    assert "ext/k.c:20: x86 inline assembly (rdtsc)" in ev
    assert "setup.py:11: x86-only compiler flags -mavx2 -mfma -march=haswell (setup.py)" in ev
    assert any(f["rule"] == "ARCH201" and f["path"].endswith("deploy/fastsum.yaml") for f in report["findings"])


def test_unsafe_setup_py_fix_builds_x86_flags_only_on_x86(cli: Callable[..., Any], tmp_path: Path) -> None:
    shutil.copytree(ISSUE, tmp_path / "repo")
    setup = tmp_path / "repo" / "setup.py"
    res = cli(["check", str(tmp_path / "repo"), "--offline", "--fix", "--format", "json"])
    assert "platform" not in setup.read_text()  # unsafe: not applied by --fix alone
    res = cli(["check", str(tmp_path / "repo"), "--offline", "--fix", "--unsafe-fixes", "--format", "json"])
    text = setup.read_text()
    tree = ast.parse(text)
    assert text.startswith("import platform\n")
    args = next(k.value for n in ast.walk(tree) if isinstance(n, ast.Call)
                for k in n.keywords if k.arg == "extra_compile_args")  # fmt: skip
    for machine, expected in (("x86_64", ["-O3", "-mavx2", "-mfma", "-march=haswell"]), ("aarch64", ["-O3"])):
        value = eval(compile(ast.Expression(args), "setup.py", "eval"),
                     {"platform": type("P", (), {"machine": staticmethod(lambda m=machine: m)})})  # fmt: skip
        assert value == expected
    rules = {(f["path"].rsplit("/", 1)[-1], f["rule"]) for f in res.json()["findings"]}
    assert ("setup.py", "ARCH711") not in rules and ("setup.py", "ARCH712") in rules


def test_select_and_ignore_work_for_the_native_family(cli: Callable[..., Any]) -> None:
    def rules(*args: str) -> set[str]:
        report = cli(["check", str(ISSUE), "--offline", "--format", "json", *args]).json()
        return {f["rule"] for f in report["findings"]}

    assert rules("--select", "ARCH7") == {"ARCH701", "ARCH702", "ARCH703", "ARCH711"}
    assert rules("--select", "ARCH70") == {"ARCH701", "ARCH702", "ARCH703"}
    assert rules("--select", "x86-inline-assembly") == {"ARCH703"}
    assert not rules("--ignore", "ARCH7") & {"ARCH701", "ARCH702", "ARCH703", "ARCH711"}
    assert rules("--select", "ARCH7", "--ignore", "ARCH702,ARCH711") == {"ARCH701", "ARCH703"}


def test_suppression_comments_in_c(cli: Callable[..., Any], tmp_path: Path) -> None:
    write(tmp_path, {"k.c": """\
        #include <immintrin.h>  // noqa: ARCH701
        #include <x86intrin.h>  /* archlint: ignore[x86-simd-header] */
        #include <cpuid.h>  // NOLINT
        static unsigned long long t(void) { return __rdtsc(); }  // noqa: ARCH703
        """})  # fmt: skip
    report = cli(["check", str(tmp_path), "--offline", "--format", "json"]).json()
    assert [(f["line"], f["rule"]) for f in report["findings"]] == [
        (3, "ARCH701"),  # NOLINT is clang-tidy's
        (4, "ARCH702"),  # __rdtsc is an intrinsic …
        (4, "ARCH003"),  # … so the ARCH703 suppression is stale
    ]


def test_numpy_dispatch_shapes_yield_nothing_above_info() -> None:
    result = engine.run(engine.Options(paths=[str(NUMPY)], offline=True, no_cache=True, select=["ARCH7"]))
    loud = [(f.path, f.line, f.rule, f.message) for f in result.findings if f.sev > 1]
    assert loud == []
    notes = {f.path.rsplit("numpy-shapes/", 1)[-1]: f.message for f in result.findings}
    assert "beside" in notes["numpy/_core/src/common/simd/avx2/arithmetic.h"]  # avx2/ beside neon/
    assert "beside" in notes["numpy/_core/src/_simd/checks/cpu_avx2.c"]  # a probe beside cpu_neon.c
    assert "numpy/_core/src/common/simd/lsx/lsx.h" not in notes  # LoongArch's __m128i is not x86
    assert "x86-simd-sort" in notes["numpy/_core/src/npysort/x86-simd-sort/src/xss-common-includes.h"]
    assert "arm64 compiles another branch" in notes["numpy/_core/src/highway/hwy/timer.h"]
    assert not [e for e in result.facts.evidence if e.rule.startswith("ARCH7") and e.blocks_arm64]


def test_portable_simd_libraries_are_fine_but_do_not_translate_raw_intrinsics(tmp_path: Path) -> None:
    write(tmp_path, {
        "hwy_kernel.cc": """\
            #include "hwy/highway.h"
            namespace hn = hwy::HWY_NAMESPACE;
            void MulAdd(const float* a, float* x, size_t n) {
              const hn::ScalableTag<float> d;
              for (size_t i = 0; i < n; i += hn::Lanes(d))
                hn::Store(hn::Mul(hn::Load(d, a + i), hn::Load(d, x + i)), d, x + i);
            }
            """,
        "xsimd_kernel.cpp": "#include <xsimd/xsimd.hpp>\nusing batch = xsimd::batch<float>;\n",
        "mixed.cc": '#include "hwy/highway.h"\n#include <immintrin.h>\n__m256 z() { return _mm256_setzero_ps(); }\n',
        "translated.c": '#include "sse2neon.h"\n__m128 z(void) { return _mm_setzero_ps(); }\n',
    })  # fmt: skip
    result = engine.run(engine.Options(paths=[str(tmp_path)], offline=True, no_cache=True))
    assert {(f.path, f.rule) for f in result.findings} == {
        ("mixed.cc", "ARCH701"), ("mixed.cc", "ARCH702")}  # fmt: skip


def test_dispatch_sources_and_build_guarded_sources_are_x86_only(tmp_path: Path) -> None:
    kernel = "#include <immintrin.h>\nvoid k(float *x) { _mm256_storeu_ps(x, _mm256_setzero_ps()); }\n"
    write(tmp_path, {
        # numpy's dispatcher compiles x86-named *.dispatch.c sources only for x86 targets
        "src/umath/loops_x86_avx2.dispatch.c": kernel,
        # a source CMake compiles only on x86 …
        "src/simd/kernel_fast.c": kernel,
        "CMakeLists.txt": """\
            add_library(core src/core.c)
            if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
              target_sources(core PRIVATE src/simd/kernel_fast.c)
              set_source_files_properties(src/simd/kernel_fast.c PROPERTIES COMPILE_OPTIONS -mavx2)
            endif()
            """,
        # … and one it compiles everywhere
        "src/core.c": kernel,
    })  # fmt: skip
    result = engine.run(engine.Options(paths=[str(tmp_path)], offline=True, no_cache=True))
    got = {(f.path, f.rule, f.sev.label) for f in result.findings}
    assert ("src/umath/loops_x86_avx2.dispatch.c", "ARCH705", "info") in got
    assert ("src/simd/kernel_fast.c", "ARCH705", "info") in got
    assert ("src/core.c", "ARCH701", "error") in got
    note = next(f.message for f in result.findings if f.path == "src/simd/kernel_fast.c")
    assert "compiled only on x86 (CMakeLists.txt:3" in note
    assert ("CMakeLists.txt", "ARCH712", "info") in got


def test_other_operating_systems_sources_are_not_linux_arm64_errors(tmp_path: Path) -> None:
    # valgrind's per-OS headers: x86-only branches and an #error, compiled only on FreeBSD/Solaris
    vki = (
        '#if defined(VGA_x86)\n#include "vki-x86-freebsd.h"\n#elif defined(VGA_amd64)\nint a;\n#else\n'
        "#error Unknown platform\n#endif\n"
    )
    kernel = "#include <immintrin.h>\nvoid k(float *x) { _mm256_storeu_ps(x, _mm256_setzero_ps()); }\n"
    write(tmp_path, {
        "include/vki/vki-freebsd.h": vki,
        "coregrind/m_syswrap/syswrap-solaris.c": kernel,
        "src/win32/timer.c": kernel,
        "src/linux/timer.c": kernel,  # Linux's own: still an error
        "src/sliding_window.c": kernel,  # no OS in the name
    })  # fmt: skip
    result = engine.run(engine.Options(paths=[str(tmp_path)], offline=True, no_cache=True))
    errors = {f.path for f in result.findings if f.sev.label == "error"}
    assert errors == {"src/linux/timer.c", "src/sliding_window.c"}
    assert {f.path for f in result.findings if f.rule == "ARCH705"} >= {
        "include/vki/vki-freebsd.h",
        "coregrind/m_syswrap/syswrap-solaris.c",
        "src/win32/timer.c",
    }
    note = next(f.message for f in result.findings if f.path == "include/vki/vki-freebsd.h")
    assert "freebsd-specific source (vki-freebsd.h): Linux nodes never compile it" in note


def test_guarded_native_code_does_not_block_the_image(cli: Callable[..., Any], tmp_path: Path) -> None:
    write(tmp_path, {
        "archlint.toml": '[images]\n"ghcr.io/acme/crc" = "."\n',
        "Dockerfile": "FROM python:3.12-slim\nCOPY . /src\nRUN pip install /src\n",
        "setup.py": "from setuptools import Extension, setup\nsetup(ext_modules=[Extension('crc', ['crc.c'])])\n",
        "crc.c": """\
            #include <stdint.h>
            #if defined(__SSE4_2__)
            #include <nmmintrin.h>
            static uint32_t step(uint32_t c, uint32_t v) { return _mm_crc32_u32(c, v); }
            #elif defined(__ARM_FEATURE_CRC32)
            #include <arm_acle.h>
            static uint32_t step(uint32_t c, uint32_t v) { return __crc32cw(c, v); }
            #else
            static uint32_t step(uint32_t c, uint32_t v) { return c ^ v; }
            #endif
            uint32_t crc(uint32_t c, uint32_t v) { return step(c, v); }
            """,
        "k8s/crc.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: crc\nspec:\n  template:\n"
                        "    spec:\n      containers:\n        - name: c\n          image: ghcr.io/acme/crc:1\n",
    })  # fmt: skip
    report = cli(["check", str(tmp_path), "--offline", "--format", "json"]).json()
    assert [(f["rule"], f["severity"]) for f in report["findings"] if f["rule"].startswith("ARCH7")] == [
        ("ARCH705", "info")]  # fmt: skip
    (image,) = report["workloads"][0]["images"]
    assert image["arm64"] is True
    assert report["workloads"][0]["placement"]["recommendation"] in ("multi-arch", "arm64")


CMAKE_PROJECT = {
    "CMakeLists.txt": """\
        cmake_minimum_required(VERSION 3.13)
        project(k C)
        add_compile_options(-mavx2 -mfma)
        add_library(k STATIC k.c)
        target_compile_options(k PRIVATE -mbmi2)
        """,
    "k.c": "int twice(int x) { return 2 * x; }\n",
}


def _cmake_build(src: Path, build: Path, cross: bool) -> subprocess.CompletedProcess[str]:
    args = ["cmake", "-S", str(src), "-B", str(build)]
    if cross:
        args += ["-DCMAKE_SYSTEM_NAME=Linux", "-DCMAKE_SYSTEM_PROCESSOR=aarch64", f"-DCMAKE_C_COMPILER={AARCH64_GCC}"]
    conf = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if conf.returncode != 0:
        return conf
    return subprocess.run(["cmake", "--build", str(build)], capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(AARCH64_GCC is None or shutil.which("cmake") is None or shutil.which("make") is None,
                    reason="needs cmake, make and gcc-aarch64-linux-gnu")  # fmt: skip
def test_cmake_fix_makes_the_arm64_cross_build_pass_and_keeps_x86(cli: Callable[..., Any], tmp_path: Path) -> None:
    src = write(tmp_path / "src", CMAKE_PROJECT)
    before = _cmake_build(src, tmp_path / "b0", cross=True)
    assert before.returncode != 0 and "unrecognized command-line option" in before.stderr  # arm64 fails
    report = cli(["check", str(src), "--offline", "--format", "json"]).json()
    assert [(f["line"], f["rule"], f["fix"]["applicability"] if f["fix"] else None)
            for f in report["findings"]] == [(3, "ARCH711", "safe"), (5, "ARCH711", "safe")]  # fmt: skip
    cli(["check", str(src), "--offline", "--fix"])
    text = (src / "CMakeLists.txt").read_text()
    assert text.count('if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i[3-6]86|x86)$")') == 2
    after = _cmake_build(src, tmp_path / "b1", cross=True)
    assert after.returncode == 0, after.stdout + after.stderr
    native = _cmake_build(src, tmp_path / "b2", cross=False)  # this machine is x86-64: flags kept
    assert native.returncode == 0
    flags = (tmp_path / "b2" / "CMakeFiles" / "k.dir" / "flags.make").read_text()
    assert "-mavx2" in flags and "-mbmi2" in flags
    again = cli(["check", str(src), "--offline", "--format", "json"]).json()
    assert {f["rule"] for f in again["findings"]} == {"ARCH712"}


def test_cython_extern_headers_verbatim_c_and_calls(tmp_path: Path) -> None:
    write(tmp_path, {"fast/_k.pyx": """\
        # cython: language_level=3
        cdef extern from "immintrin.h":
            ctypedef float __m256
            __m256 _mm256_loadu_ps(const float *p) nogil
            __m256 _mm256_add_ps(__m256 a, __m256 b) nogil

        cdef extern from *:
            \"\"\"
            #if defined(__x86_64__)
            #include <x86intrin.h>
            static unsigned long long tsc(void) { return __rdtsc(); }
            #else
            static unsigned long long tsc(void) { return 0; }
            #endif
            \"\"\"
            unsigned long long tsc() nogil

        def add(float[::1] a, float[::1] b):
            # _mm256_add_ps in a comment is not a call
            return _mm256_add_ps(_mm256_loadu_ps(&a[0]), _mm256_loadu_ps(&b[0]))

        IF UNAME_MACHINE == "x86_64":
            def fast():
                return _mm256_loadu_ps(NULL)
        """})  # fmt: skip
    result = engine.run(engine.Options(paths=[str(tmp_path)], offline=True, no_cache=True))
    got = [(f.line, f.rule, f.sev.label) for f in result.findings]
    assert got == [
        (2, "ARCH701", "error"),
        (10, "ARCH705", "info"),  # the verbatim C, x86 branch with an #else
        (20, "ARCH702", "error"),
        (20, "ARCH702", "error"),
    ]


def test_fortran_intel_modules_and_directives(tmp_path: Path) -> None:
    write(tmp_path, {"src/io.f90": """\
        module io
          use ifport
          implicit none
        contains
          subroutine s(a)
            real :: a(:)
        !DIR$ ATTRIBUTES VECTOR : PROCESSOR(core_4th_gen_avx) :: s
            a = 0
          end subroutine s
        end module io
        """})  # fmt: skip
    result = engine.run(engine.Options(paths=[str(tmp_path)], offline=True, no_cache=True))
    assert [(f.line, f.rule, f.sev.label) for f in result.findings] == [(2, "ARCH708", "error"), (7, "ARCH708", "info")]


def test_bad_input_is_findings_never_a_crash(cli: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "latin1.c").write_bytes(b"/* caf\xe9 */\n#include <immintrin.h>\n")
    (tmp_path / "garbage.h").write_bytes(bytes(range(256)) * 40 + b"_mm_pause();\x00\xff")
    (tmp_path / "deep.h").write_text("#if defined(A)\n" * 3000 + "_mm_pause();\n" + "#endif\n" * 3000)
    (tmp_path / "expr.h").write_text("#if " + "(" * 4000 + "__x86_64__" + ")" * 4000 + "\n_mm_pause();\n#endif\n")
    (tmp_path / "open.h").write_text('#ifdef __AVX2__\n#include <immintrin.h>\n/* unterminated "string\n')
    (tmp_path / "CMakeLists.txt").write_text('add_compile_options(-mavx2 "unterminated\n(((((\n')
    (tmp_path / "meson.build").write_text("add_project_arguments('-mavx2', language: [[[\nif\nelif\nendif\nendif\n")
    (tmp_path / "setup.py").write_text("from setuptools import Extension\nx = Extension('k', ['k.c'],\n")
    (tmp_path / "pyproject.toml").write_text('[tool.scikit-build\ncmake.args = ["-mavx2"\n')
    (tmp_path / "archlint.toml").write_text("native-max-bytes = 3000\n")
    (tmp_path / "big.c").write_text("#include <immintrin.h>\n" + "int x;\n" * 1000)
    res = cli(["check", str(tmp_path), "--offline", "--format", "json"])
    assert res.rc in (0, 1), res.err
    report = res.json()
    by = {}
    for f in report["findings"]:
        by.setdefault(f["path"], []).append((f["line"], f["rule"]))
    assert by["latin1.c"] == [(2, "ARCH701")]
    assert by["big.c"] == [(1, "ARCH709")]
    assert (1, "ARCH711") in by["CMakeLists.txt"] and (1, "ARCH711") in by["meson.build"]
    assert not any(f["rule"] == "ARCH004" for f in report["findings"])


# --- cache, pool -----------------------------------------------------------------------------


def _scan(root: Path, cache: Path | None = None, workers: int | None = None) -> tuple[list[Any], list[Any]]:
    from archlint.config import Config
    from archlint.discover import discover
    from archlint.facts import Facts
    from archlint.scanners.native import NativeScanner
    from archlint.scanning import ScanContext

    disc = discover([root], root, [])
    scanner = NativeScanner(workers)
    ctx = ScanContext(root=root, config=Config(), cache_dir=cache, files=disc.files)
    facts = Facts()
    findings = list(scanner.scan([f for f in disc.files if f.kind in scanner.kinds], ctx, facts))
    return sorted(findings, key=lambda f: (f.path, f.line, f.column, f.rule)), facts.evidence


def test_warm_cache_gives_identical_results_without_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from archlint.native import pool

    tree = tmp_path / "tree"
    shutil.copytree(NUMPY, tree / "numpy")
    shutil.copytree(ISSUE, tree / "issue")
    _age(tree)
    cache = tmp_path / "cache"
    cold = _scan(tree, cache)
    assert len(cold[0]) > 20 and any(p.name.startswith("index-") for p in (cache / "native").rglob("*.json"))
    monkeypatch.setattr(pool, "run_one", lambda *a: pytest.fail(f"read {a[0]}, which the stat index answers"))
    assert _scan(tree, cache) == cold
    monkeypatch.undo()
    assert _scan(tree, None) == cold
    (tree / "issue" / "ext" / "k.c").write_text("int x;\n")  # changed: read again, no longer x86
    assert not any(f.path.endswith("ext/k.c") for f in _scan(tree, cache)[0])


def test_corrupt_or_unwritable_cache_degrades_to_recomputing(tmp_path: Path) -> None:
    first = _scan(ISSUE, tmp_path / "cache")
    for p in (tmp_path / "cache" / "native").rglob("*.json"):
        p.write_bytes(b'{"uses": [{"code": 1}], "par')
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    assert _scan(ISSUE, tmp_path / "cache") == first == _scan(ISSUE, blocker / "cache")


def test_pool_and_in_process_agree(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for i in range(2):
        shutil.copytree(NUMPY, tree / f"copy{i}")
    serial = _scan(tree, None, workers=1)
    assert len(serial[0]) > 40
    assert _scan(tree, None, workers=2) == serial


def test_project_arm64_shim_and_msvc_only_intrinsics_are_not_arm64_errors(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    # Shapes from TensorFlow's bundled headers: Abseil includes its own NEON emulation of the
    # x86 names on aarch64; libcu++ uses MSVC's __popcnt, which gcc on linux/amd64 lacks too.
    inc = tmp_path / "include"
    (inc / "absl").mkdir(parents=True)
    (inc / "absl" / "non_temporal_arm_intrinsics.h").write_text(
        "#ifdef __aarch64__\n#include <arm_neon.h>\ntypedef int64x2_t __m128i;\n"
        'static inline void _mm_sfence(void) { __asm__ __volatile__("dmb ishst" ::: "memory"); }\n#endif\n'
    )
    (inc / "absl" / "memcpy.h").write_text(
        "#if defined(__SSE__) || defined(__AVX__)\n#include <immintrin.h>\n#endif\n"
        '#ifdef __aarch64__\n#include "absl/non_temporal_arm_intrinsics.h"\n#endif\n'
        "inline void f(void *d) {\n#if defined(__SSE3__) || defined(__aarch64__)\n  _mm_sfence();\n"
        "  __m128i *p = (__m128i *)d;\n  (void)p;\n#endif\n}\n"
    )
    (inc / "popc.h").write_text(
        "#if _CCCL_COMPILER(MSVC)\n#include <intrin.h>\n#if defined(_M_ARM64)\n#define POPC(x) _CountOneBits(x)\n"
        "#else\n#define POPC(x) __popcnt(x)\n#endif\n#endif\n"
    )
    report = cli(["check", str(tmp_path), "--offline", "--format", "json"]).json()
    loud = [(f["rule"], f["path"], f["line"]) for f in report["findings"] if f["severity"] != "info"]
    assert loud == []
