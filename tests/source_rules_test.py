"""Every VALID/INVALID example of every source rule is a test (Fixit's pattern), plus the
rule docs, the autofixes and the precision cases from real-world platform-detection code."""

from __future__ import annotations

import textwrap

import pytest

from archlint.catalogue import catalogue
from archlint.findings import Edit, Severity
from archlint.fixes import apply_edits
from archlint.source.analyze import analyze
from archlint.source.interface import Hit
from archlint.source.rules import all_rules


def run(source: str) -> list[Hit]:
    return list(analyze("python", textwrap.dedent(source).encode()).hits)


def severity(hit: Hit) -> Severity:
    rule = catalogue().by_code[hit.rule]
    return Severity.parse(hit.severity) if hit.severity else rule.severity


VALID = [(r.code, i, src) for r in all_rules() for i, src in enumerate(r.VALID)]
INVALID = [(r.code, i, ex) for r in all_rules() for i, ex in enumerate(r.INVALID)]


@pytest.mark.parametrize(("code", "index", "source"), VALID, ids=[f"{c}-valid-{i}" for c, i, _ in VALID])
def test_valid_example_reports_nothing_at_warning_or_error(code: str, index: int, source: str) -> None:
    loud = [h for h in run(source) if severity(h) >= Severity.WARNING]
    assert loud == [], f"{code} VALID[{index}] reported {loud}"


@pytest.mark.parametrize(("code", "index", "example"), INVALID, ids=[f"{c}-invalid-{i}" for c, i, _ in INVALID])
def test_invalid_example_reports_the_rule_at_its_line(code: str, index: int, example: object) -> None:
    from archlint.source.interface import Example

    assert isinstance(example, Example)
    expected = example.code or code
    hits = run(example.source)
    assert any(h.rule == expected and h.line == example.line for h in hits), (
        f"{code} INVALID[{index}]: expected {expected} at line {example.line}, got {hits}"
    )


def test_every_rule_is_documented_with_examples() -> None:
    cat = catalogue()
    for rule in all_rules():
        doc = cat.by_code[rule.code]
        assert doc.area == "source" and doc.summary and doc.why and doc.fix
        assert rule.INVALID, f"{rule.code} has no INVALID examples"
    assert cat.by_code["ARCH499"].severity == Severity.INFO


def test_guarded_import_is_info_and_not_blocking() -> None:
    hits = run("try:\n    import mkl\nexcept ImportError:\n    mkl = None\n")
    assert [(h.rule, h.blocks) for h in hits] == [("ARCH402", False)]


def test_unguarded_import_blocks_and_function_import_does_not() -> None:
    hits = run("import daal4py\n\ndef f():\n    import mkl_fft\n")
    by_key = {h.key: h for h in hits}
    assert by_key["daal4py"].blocks is True and by_key["daal4py"].severity is None
    assert by_key["mkl_fft"].blocks is False and by_key["mkl_fft"].severity == "warning"


def _fixed(source: str, hit: Hit) -> str:
    assert hit.fix is not None
    edits = [Edit("x.py", e.start_line, e.start_column, e.end_line, e.end_column, e.content) for e in hit.fix.edits]
    return apply_edits(source, edits)[0]


def test_gate_fix_admits_arm64_and_the_gate_is_gone() -> None:
    src = "import platform\nif platform.machine() != 'x86_64':\n    raise RuntimeError('x86 only')\n"
    (hit,) = run(src)
    assert hit.fix is not None and hit.fix.applicability == "unsafe"
    new = _fixed(src, hit)
    assert "platform.machine() not in ('x86_64', 'aarch64')" in new
    assert run(new) == []


def test_gate_fix_keeps_tuple_and_windows_casing() -> None:
    src = 'import platform, sys\nif platform.machine() not in ("x86_64", "AMD64"):\n    sys.exit(1)\n'
    (hit,) = run(src)
    new = _fixed(src, hit)
    assert 'not in ("x86_64", "AMD64", "aarch64", "ARM64")' in new


def test_no_gate_fix_for_32_bit_values() -> None:
    (hit,) = run("import platform\nassert platform.machine() == 'i686'\n")
    assert hit.rule == "ARCH403" and hit.fix is None


def test_cx_oracle_import_fix() -> None:
    src = "import cx_Oracle\nfrom cx_Oracle import makedsn\nimport cx_Oracle as db\n"
    hits = run(src)
    assert [h.rule for h in hits] == ["ARCH401"] * 3
    out = src
    for h in sorted(hits, key=lambda h: -h.line):
        out = _fixed(out, h)
    assert out == "import oracledb as cx_Oracle\nfrom oracledb import makedsn\nimport oracledb as db\n"
    assert run(out) == []


def test_fix_columns_count_code_points() -> None:
    src = "import platform\nif platform.machine() != 'x86_64': raise SystemExit('é x86 only é')\n"
    (hit,) = run(src)
    assert _fixed(src, hit).splitlines()[1].startswith("if platform.machine() not in ('x86_64', 'aarch64'):")


# Precision: platform-detection code in the style of well-known projects must stay quiet.
PRECISION = {
    # pip/packaging-style: report the machine in a user agent.
    "user_agent": """
        import platform, sys
        def user_agent():
            data = {"implementation": sys.implementation.name, "cpu": platform.machine()}
            if platform.machine() == "x86_64":
                data["note"] = "amd64"
            return data
    """,
    # An installer mapping uname to release asset names (rustup/uv/kubectl-installer shape).
    "installer": """
        import os, urllib.request
        def asset(version):
            machine = os.uname().machine
            if machine in ("x86_64", "amd64"):
                arch = "x86_64"
            elif machine in ("aarch64", "arm64"):
                arch = "aarch64"
            else:
                raise SystemExit(f"unsupported machine {machine}")
            return f"https://example.com/{version}/tool-{arch}-unknown-linux-gnu.tar.gz"
    """,
    # numpy/distutils-style compiler flag selection with a generic path.
    "cflags": """
        import platform
        def cflags():
            if platform.machine() in ("x86_64", "AMD64", "i686"):
                return ["-msse4.2"]
            return []
    """,
    # PyTorch-style: use an x86-only extension only when on x86.
    "optional_ipex": """
        import platform
        def optimize(model):
            if platform.machine() != "x86_64":
                return model
            import intel_extension_for_pytorch as ipex
            return ipex.optimize(model)
    """,
    # psutil/py-cpuinfo style: report features.
    "cpu_report": """
        import cpuinfo
        info = cpuinfo.get_cpu_info()
        print("AVX2" if "avx2" in info.get("flags", []) else "no AVX2")
    """,
    # conda-style: sysconfig platform in a cache directory name.
    "cache_dir": """
        import sysconfig
        CACHE = f"~/.cache/app/{sysconfig.get_platform()}"
        if sysconfig.get_platform() == "linux-x86_64":
            CACHE += "-x86"
    """,
    # A test skipped off x86.
    "pytest_skip": """
        import platform, pytest
        @pytest.mark.skipif(platform.machine() != "x86_64", reason="x86 kernel")
        def test_kernel():
            if platform.machine() != "x86_64":
                pytest.skip("x86 only")
    """,
    # TensorFlow-style: warn (not exit) when an x86 build runs without AVX.
    "tf_avx_warning": """
        import platform, warnings
        with open("/proc/cpuinfo") as f:
            cpuinfo = f.read()
        if platform.machine() == "x86_64" and "avx" not in cpuinfo:
            warnings.warn("this TensorFlow binary was compiled to use AVX")
    """,
    # conda/miniforge installer style: an architecture table with arm64 entries.
    "conda_installer": """
        import platform
        ARCHES = {"x86_64": "64", "aarch64": "aarch64", "ppc64le": "ppc64le"}
        def installer_url(version):
            arch = ARCHES[platform.machine()]
            return f"https://repo.example.org/Miniforge3-{version}-Linux-x86_64.sh".replace("x86_64", arch)
    """,
    # pip/packaging wheel tags from sysconfig.
    "wheel_tags": """
        import sysconfig
        def platform_tag():
            return sysconfig.get_platform().replace("-", "_").replace(".", "_")
    """,
    # numpy-style SIMD dispatch with a baseline path.
    "simd_dispatch": """
        def pick(cpu_flags):
            if "avx512f" in cpu_flags:
                return "avx512"
            if "avx2" in cpu_flags:
                return "avx2"
            return "baseline"
    """,
    # Docker SDK with the platform taken from the node.
    "docker_sdk_platform": """
        import docker, platform
        arch = {"x86_64": "amd64", "aarch64": "arm64"}[platform.machine()]
        docker.from_env().images.pull("python:3.12-slim", platform=f"linux/{arch}")
    """,
    # Docker build matrix.
    "buildx_matrix": """
        import subprocess
        PLATFORMS = "linux/amd64,linux/arm64"
        subprocess.run(["docker", "buildx", "build", "--platform", PLATFORMS, "."], check=True)
    """,
}


@pytest.mark.parametrize("name", sorted(PRECISION))
def test_realistic_platform_code_is_not_flagged(name: str) -> None:
    loud = [h for h in run(PRECISION[name]) if severity(h) >= Severity.WARNING]
    assert loud == []


def test_gate_through_variable_and_fallthrough_raise() -> None:
    src = """
        import platform

        def native_lib():
            m = platform.machine()
            if m == "x86_64":
                return "libfast.so"
            raise OSError(f"no native build for {m}")
    """
    hits = run(src)
    assert [(h.rule, h.line, h.blocks) for h in hits] == [("ARCH403", 6, True)]


def test_not_parsed_when_prefilter_rejects() -> None:
    r = analyze("python", b"import os\nprint(os.getcwd())\n")
    assert r.parsed is False and r.hits == ()


@pytest.mark.parametrize(
    ("source", "codes"),
    [
        (b"import numpy as np, mkl\n", {"ARCH401"}),
        (b"from  daal4py.sklearn import svm\n", {"ARCH401"}),
        (b"m = importlib.import_module( 'sklearnex')\n", {"ARCH401"}),
        (b"import mklx\nfrom mkl_like import y\n", set()),
        (b"if platform.machine() != 'x86_64':\n    raise SystemExit\n", {"ARCH403"}),
        (b"print(platform.machine())\n", set()),
        (b"ctypes.CDLL('libmkl_rt.so')\n", {"ARCH404"}),
        (b"URL = 'https://x/tool-linux-amd64.tar.gz'\n", {"ARCH405"}),
        (b"run(['docker', 'build', '--platform', 'linux/amd64'])\n", {"ARCH406"}),
        (b"if 'avx2' not in cpuinfo:\n    raise SystemExit\n", {"ARCH407"}),
        (b"import os\nprint(os.getcwd())\n", set()),
    ],
)
def test_prefilter_selects_exactly_the_rules_that_can_match(source: bytes, codes: set[str]) -> None:
    from archlint.source.prefilter import wanted_codes

    assert set(wanted_codes(source)) == codes
