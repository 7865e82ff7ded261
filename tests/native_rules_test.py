"""Every VALID/INVALID example of every native rule is a test (Fixit's pattern); the C examples are
also handed to Debian's cross compilers, the oracle for "arm64 compiles this" (VALID ones must
compile for aarch64, INVALID ones must not, and must compile for x86-64: they are x86 code, not
broken code). Plus the rule docs and the NEON-equivalents table."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from archlint.catalogue import catalogue
from archlint.discover import classify
from archlint.findings import Severity
from archlint.native.analyze import analyze_tree
from archlint.native.interface import NativeExample
from archlint.native.rules import all_rules
from archlint.native.rules.source import neon_equivalent
from archlint.source.interface import Hit

AARCH64_GCC = shutil.which("aarch64-linux-gnu-gcc")
X86_GCC = shutil.which("x86_64-linux-gnu-gcc") or shutil.which("gcc")
_C = (".c", ".h", ".cc", ".cpp")


def tree(example: NativeExample) -> dict[str, list[Hit]]:
    files = {example.path: textwrap.dedent(example.source), **dict(example.files)}
    inputs = {}
    for rel, text in files.items():
        kind, _ = classify(Path(rel), rel)
        assert kind is not None, rel
        inputs[rel] = (kind, text.encode())
    return analyze_tree(inputs)


def severity(hit: Hit) -> Severity:
    return Severity.parse(hit.severity) if hit.severity else catalogue().by_code[hit.rule].severity


VALID = [(r.code, i, ex) for r in all_rules() for i, ex in enumerate(r.VALID)]
INVALID = [(r.code, i, ex) for r in all_rules() for i, ex in enumerate(r.INVALID)]


@pytest.mark.parametrize(("code", "index", "example"), VALID, ids=[f"{c}-valid-{i}" for c, i, _ in VALID])
def test_valid_example_reports_nothing_at_warning_or_error(code: str, index: int, example: NativeExample) -> None:
    loud = [(p, h) for p, hits in tree(example).items() for h in hits if severity(h) >= Severity.WARNING]
    assert loud == [], f"{code} VALID[{index}] reported {loud}"


@pytest.mark.parametrize(("code", "index", "example"), INVALID, ids=[f"{c}-invalid-{i}" for c, i, _ in INVALID])
def test_invalid_example_reports_the_rule_at_its_line(code: str, index: int, example: NativeExample) -> None:
    expected = example.code or code
    hits = tree(example).get(example.path, [])
    assert any(h.rule == expected and h.line == example.line for h in hits), (
        f"{code} INVALID[{index}]: expected {expected} at line {example.line}, got {[(h.rule, h.line) for h in hits]}"
    )


def _compile(compiler: str, source: str, path: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    src = tmp / Path(path).name
    src.write_text(textwrap.dedent(source))
    lang = "c++" if path.endswith((".cc", ".cpp")) else "c"
    # -c (not -fsyntax-only): the assembler must see inline assembly; implicit declarations are errors
    # as in gcc 14.
    cmd = [compiler, "-x", lang, "-O0", "-c", str(src), "-o", str(tmp / "out.o"),
           "-Werror=implicit-function-declaration"]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


ORACLE_VALID = [(c, i, ex) for c, i, ex in VALID if ex.path.endswith(_C) and ex.oracle and not ex.files]
ORACLE_INVALID = [
    (c, i, ex)
    for c, i, ex in INVALID
    if ex.path.endswith(_C) and ex.oracle and not ex.files
    and catalogue().by_code[ex.code or c].severity == Severity.ERROR
]  # fmt: skip


@pytest.mark.skipif(AARCH64_GCC is None, reason="needs Debian's gcc-aarch64-linux-gnu")
@pytest.mark.parametrize(("code", "index", "example"), ORACLE_VALID, ids=[f"{c}-valid-{i}" for c, i, _ in ORACLE_VALID])
def test_aarch64_gcc_compiles_every_valid_c_example(code: str, index: int, example: NativeExample,
                                                     tmp_path: Path) -> None:  # fmt: skip
    assert AARCH64_GCC is not None
    res = _compile(AARCH64_GCC, example.source, example.path, tmp_path)
    assert res.returncode == 0, f"{code} VALID[{index}] does not compile for arm64:\n{res.stderr}"


@pytest.mark.skipif(AARCH64_GCC is None or X86_GCC is None, reason="needs gcc-aarch64-linux-gnu and an x86-64 gcc")
@pytest.mark.parametrize(
    ("code", "index", "example"), ORACLE_INVALID, ids=[f"{c}-invalid-{i}" for c, i, _ in ORACLE_INVALID]
)
def test_error_examples_fail_for_aarch64_and_build_for_x86(code: str, index: int, example: NativeExample,
                                                           tmp_path: Path) -> None:  # fmt: skip
    assert AARCH64_GCC is not None and X86_GCC is not None
    arm = _compile(AARCH64_GCC, example.source, example.path, tmp_path)
    assert arm.returncode != 0, f"{code} INVALID[{index}] compiles for arm64: the rule would be wrong"
    x86 = _compile(X86_GCC, example.source, example.path, tmp_path)
    if x86.returncode != 0:  # intrinsics need their ISA enabled
        src = tmp_path / Path(example.path).name
        flags = ["-mavx2", "-mfma", "-msse4.2", "-mrdrnd"]
        x86 = subprocess.run([X86_GCC, "-O0", "-c", str(src), "-o", str(tmp_path / "o.o"), *flags],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert x86.returncode == 0, f"{code} INVALID[{index}] is not valid x86 code either:\n{x86.stderr}"


def test_the_oracle_covers_every_c_rule() -> None:
    # The compiler checks at least one VALID and one INVALID example of each C source rule.
    assert {c for c, _, _ in ORACLE_INVALID} >= {"ARCH701", "ARCH702", "ARCH703", "ARCH704", "ARCH706"}
    assert {c for c, _, _ in ORACLE_VALID} >= {"ARCH701", "ARCH702", "ARCH703", "ARCH704", "ARCH706"}


def test_every_rule_is_documented() -> None:
    cat = catalogue()
    codes = {r.code for r in all_rules()}
    assert codes == {r.code for r in cat.rules if r.area == "native"}
    for code in codes:
        doc = cat.by_code[code]
        assert 701 <= int(code[4:]) <= 799
        assert doc.summary and doc.what and doc.fix, code
    for r in all_rules():
        if r.code not in ("ARCH709",):
            assert r.INVALID, f"{r.code} has no INVALID example"


def test_rule_page_carries_the_porting_guidance(cli) -> None:  # type: ignore[no-untyped-def]
    page = cli(["rule", "ARCH702"]).out
    for words in ("auto-vectorise", "sse2neon", "SIMDe", "__builtin_popcount", "vaddq_f32"):
        assert words in page, words
    flags = cli(["rule", "ARCH711"]).out
    assert "unsafe" in flags and "platform.machine()" in flags and "CMAKE_SYSTEM_PROCESSOR" in flags


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("_mm_add_ps", "vaddq_f32"),
        ("_mm256_add_ps", "vaddq_f32 on two 128-bit halves"),
        ("_mm512_mul_pd", "vmulq_f64 on four"),
        ("_mm_loadu_si128", "vld1q_u8"),
        ("_mm_set1_epi32", "vdupq_n_s32"),
        ("_mm_cmpeq_epi8", "vceqq_s8"),
        ("__m128", "float32x4_t"),
        ("_mm_popcnt_u64", "__builtin_popcountll"),
        ("__rdtsc", "cntvct_el0"),
        ("_pdep_u64", "no NEON equivalent"),
        ("_mm_not_an_op_ps", ""),
    ],
)
def test_neon_equivalents(name: str, expected: str) -> None:
    got = neon_equivalent(name)
    assert (expected in got) if expected else got == ""
