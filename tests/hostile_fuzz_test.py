"""Fuzzing every parser through the whole engine: whatever a scanned file holds, the run ends
with findings or a clean result, never an exception (ARCHLINT_RAISE=1, set by conftest, turns an
internal error into one, so hypothesis reports the input that broke it).

Inputs start from real files (the repository's fixtures, the ELF binaries built with Debian's
cross compilers) and are mutated the way hostile or broken tools shape them: a value replaced by
one of another type, a huge number, a deep nest, a URL with a broken host, NUL bytes, truncation,
header fields set to extremes. Examples are few per target and deadlines off: the machine is
shared, and the corpus test (hostile_corpus_test.py) covers the worst known shapes at full size.
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import os
import struct
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import tomllib
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archlint.catalogue import catalogue
from archlint.engine import Options, Result, run
from archlint.errors import FatalError
from tests.conftest import FIXTURES

# ARCHLINT_FUZZ_EXAMPLES=2000 hunts with fresh random examples; the suite runs a fixed few.
_HUNT = os.environ.get("ARCHLINT_FUZZ_EXAMPLES")
FUZZ = settings(
    max_examples=int(_HUNT or 30),
    deadline=None,
    derandomize=not _HUNT,  # the suite sees the same examples every run: reproducible, not flaky
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
ELF = FIXTURES / "elf"


def scan(files: dict[str, bytes]) -> Result:
    """Run archlint (offline, no cache) over `files`. Any exception propagates."""
    with tempfile.TemporaryDirectory(prefix="archlint-fuzz-") as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        for rel, data in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
        res = run(Options(paths=[str(root)], offline=True, no_cache=True))
    rules = [f.rule for f in res.findings]
    known = catalogue().by_code
    assert all(r in known for r in rules)
    assert "ARCH004" not in rules
    return res


# --- values a hostile file puts where another type belongs -------------------------------------

WEIRD = st.sampled_from(
    ["", "\x00", "a\x00b", "http://[::1", "http://[::1]:99999/x.whl", "https://h/%zz/x-1-py3-none-any.whl",
     "file:///etc/passwd", "../../../../etc/passwd", "/", "\\", "${A}${A}${A}", "é", "x" * 3000,
     "numpy===", "numpy @ http://[::1/", ">=1,<", "1.0.0.0.0.0.0.0.dev-1", "==" + "9" * 5000, "0x", "-", "*",
     "~", "null", "yes", "no", "1e999", "nan", ".inf", "apps/x/v1", "v1/", "/v1", "List", "linux/arm64",
     "cp311", "manylinux_2_17_aarch64", "!!python/object:os.system", "*alias", "&anchor", "{", "[", "'", '"']
)  # fmt: skip
SCALAR = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    WEIRD,
    st.text(max_size=20),
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6) | WEIRD, inner, max_size=3),
    max_leaves=8,
)
YAML_VALUE = st.one_of(st.none(), VALUE)


def _slots(data: Any, out: list[tuple[Any, Any]], depth: int = 0) -> list[tuple[Any, Any]]:
    """Every (container, key) in a parsed document, breadth-limited."""
    if depth > 12:
        return out
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for k, v in items:
        out.append((data, k))
        _slots(v, out, depth + 1)
    return out


@st.composite
def mutated(draw: st.DrawFn, base: Any, values: st.SearchStrategy[Any] = VALUE) -> Any:
    """`base` with one to three values replaced (or deleted)."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        slots = _slots(data, [])
        if not slots:
            break
        holder, key = slots[draw(st.integers(0, len(slots) - 1))]
        if isinstance(holder, dict) and draw(st.booleans()) and draw(st.booleans()):
            del holder[key]
        else:
            holder[key] = draw(values)
    return data


@st.composite
def damaged_text(draw: st.DrawFn, text: str) -> str:
    """Truncated, or a hostile line inserted."""
    if draw(st.booleans()):
        return text[: draw(st.integers(0, len(text)))]
    lines = text.splitlines(keepends=True)
    at = draw(st.integers(0, len(lines)))
    junk = draw(
        st.sampled_from(
            ["x = " + "[" * 2000 + "]" * 2000 + "\n", "x = " + "9" * 5000 + "\n", "\x00\n", "[[package]]\n",
             "name = {a = 1}\n", "version = [1, 2]\n", 'url = "http://[::1"\n', "[\n", "\ufeff\n"]
        )
    )  # fmt: skip
    return "".join([*lines[:at], junk, *lines[at:]])


# --- dependency sources ----------------------------------------------------------------------

REQ_LINES = st.one_of(
    st.sampled_from(
        [
            "numpy==1.26.4",
            "torch>=2; platform_machine == 'x86_64'",
            "-r other.txt",
            "-r a\x00b",
            "-c c.txt",
            "-r " + "../" * 40 + "etc/passwd",
            "-r http://[::1/x.txt",
            "-e git+https://h/x.git#egg=x",
            "--index-url http://[::1",
            "-i",
            "--hash=sha256:" + "0" * 64,
            "pkg @ http://[::1/pkg.whl",
            "pkg @ file:///" + "x" * 5000,
            "\\",
            "intel-openmp==2024.2.1 \\",
            "# noqa",
            "pkg[" + "a," * 500 + "]",
            "pkg==" + "9" * 5000,
            "-f .",
            "--only-binary :all:",
            "pkg; " + "(" * 300 + "python_version>'3'" + ")" * 300,
        ]
    ),
    st.text(max_size=40),
)


@FUZZ
@given(st.lists(REQ_LINES, max_size=8), st.lists(REQ_LINES, max_size=4))
def test_fuzz_requirements(lines: list[str], other: list[str]) -> None:
    scan({"requirements.txt": "\n".join(lines).encode("utf-8", "surrogatepass"),
          "other.txt": "\n".join(other).encode("utf-8", "surrogatepass")})  # fmt: skip


def _toml_base(path: Path, table: str, keep: int = 4) -> dict[str, Any]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if isinstance(data.get(table), list):
        data[table] = data[table][:keep]  # a few real entries: mutations land on them
    return data


LOCKS: dict[str, tuple[Path, str]] = {
    "uv.lock": (FIXTURES / "deps/sources/uv/uv.lock", "package"),
    "poetry.lock": (FIXTURES / "deps/sources/poetry/poetry.lock", "package"),
    "pdm.lock": (FIXTURES / "deps/sources/pdm/pdm.lock", "package"),
    "pylock.toml": (FIXTURES / "deps/sources/uv/pylock.toml", "packages"),
    "pyproject.toml": (FIXTURES / "deps/sources/poetry/pyproject.toml", ""),
}


def _dump_toml(data: Any) -> str | None:
    try:
        return tomli_w.dumps(data)
    except (TypeError, ValueError):  # not representable in TOML (a key that is not a string...)
        return None


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_fuzz_toml_sources(name: str) -> None:
    path, table = LOCKS[name]
    base = _toml_base(path, table)
    text = tomli_w.dumps(base)

    @FUZZ
    @given(st.one_of(mutated(base).map(_dump_toml), damaged_text(text)))
    def fuzz(doc: str | None) -> None:
        if doc is not None:
            scan({name: doc.encode("utf-8", "surrogatepass")})

    fuzz()


@FUZZ
@given(st.data())
def test_fuzz_pipfile_lock(data: st.DataObject) -> None:
    base = json.loads((FIXTURES / "deps/sources/pipenv/Pipfile.lock").read_text(encoding="utf-8"))
    base["default"] = dict(list(base["default"].items())[:4])
    base["develop"] = dict(list(base.get("develop", {}).items())[:2])
    doc = data.draw(st.one_of(mutated(base, YAML_VALUE).map(json.dumps), damaged_text(json.dumps(base, indent=4))))
    scan({"Pipfile.lock": doc.encode("utf-8", "surrogatepass")})


# --- Dockerfiles, build sites, CI ----------------------------------------------------------------

DOCKER_LINES = st.one_of(
    st.sampled_from(
        ["FROM python:3.12-slim", "FROM --platform=linux/amd64 python:3.12 AS build", "FROM ${BASE}", "FROM",
         "FROM scratch AS " + "x" * 300, "ARG BASE=python:3.11", "ARG A=${A}${A}${A}${A}", "ARG B=${A:-${A:+x}}",
         "ENV C=$A$A$A$A$A$A$A$A", "ARG TARGETARCH", "RUN pip install numpy==1.26.4 'torch>=2'",
         "RUN curl -LO https://example.com/tool-linux-amd64-$A.tar.gz", "RUN <<EOF", "EOF", "RUN <<-'X'",
         "COPY --from=0 / /", "COPY --from=build --chmod=755 a b", "RUN --mount=type=cache,from=${A} x",
         "# escape=`", "RUN a \\", "\\", "ONBUILD RUN x", "HEALTHCHECK NONE", "\x00", "RUN " + "$A " * 2000,
         "FROM python:3.12 AS a", "FROM a AS b", "FROM b AS a", "COPY --from=b x y", "RUN apt-get install -y intel-mkl"]
    ),
    st.text(max_size=30),
)  # fmt: skip


@FUZZ
@given(st.lists(DOCKER_LINES, max_size=12))
def test_fuzz_dockerfile(lines: list[str]) -> None:
    scan({"Dockerfile": "\n".join(lines).encode("utf-8", "surrogatepass")})


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


GITLAB = {
    "variables": {"IMAGE": "registry.example.com/acme/api"},
    "build": {
        "image": "docker:27",
        "services": ["docker:27-dind"],
        "script": ["docker buildx build --platform linux/amd64 -t $IMAGE:$CI_COMMIT_SHA services/api"],
        "parallel": {"matrix": [{"SERVICE": ["api", "web"], "ARCH": ["amd64"]}]},
    },
}
SITES: dict[str, Callable[[], Any]] = {
    "skaffold.yaml": lambda: _yaml(FIXTURES / "monorepo/skaffold.yaml"),
    "compose.yaml": lambda: _yaml(FIXTURES / "monorepo/compose.yaml"),
    ".github/workflows/images.yml": lambda: _yaml(FIXTURES / "monorepo/.github/workflows/images.yml"),
    ".gitlab-ci.yml": lambda: GITLAB,
}


@pytest.mark.parametrize("name", sorted(SITES))
def test_fuzz_build_sites(name: str) -> None:
    base = SITES[name]()
    text = yaml.safe_dump(base, sort_keys=False)

    @FUZZ
    @given(st.one_of(mutated(base, YAML_VALUE).map(lambda d: yaml.safe_dump(d, sort_keys=False)), damaged_text(text)))
    def fuzz(doc: str) -> None:
        scan({name: doc.encode("utf-8", "surrogatepass"), "services/api/Dockerfile": b"FROM python:3.12\n"})

    fuzz()


# --- Kubernetes ----------------------------------------------------------------------------------

DEPLOYMENT = _yaml(FIXTURES / "demo/deploy/api.yaml")


RAW_K8S = [
    "a: &a [" + "*a," * 10 + "]\napiVersion: v1\nkind: Pod\n",
    "apiVersion: v1\nkind: !!python/name:os.system\n",
    "apiVersion: v1\nkind: Pod\nspec: " + "[" * 3000 + "]" * 3000 + "\n",
    "apiVersion: v1\nkind: List\nitems: *x\n",
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  name: y\n",
    "\ufeffapiVersion: v1\nkind: Pod\n\x00",
]


@st.composite
def k8s_documents(draw: st.DrawFn) -> str:
    obj = draw(mutated(DEPLOYMENT, YAML_VALUE))
    shape = draw(st.sampled_from(["object", "list", "nested-list", "raw"]))
    if shape == "list":
        obj = {"apiVersion": "v1", "kind": "List", "items": [obj, copy.deepcopy(DEPLOYMENT)]}
    elif shape == "nested-list":
        obj = {"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "List", "items": [obj]}]}
    text = yaml.safe_dump(obj, sort_keys=False) if draw(st.booleans()) else json.dumps(obj, indent=1)
    if shape == "raw":
        text = draw(damaged_text(yaml.safe_dump(DEPLOYMENT, sort_keys=False)))
        text = draw(st.sampled_from([text, *RAW_K8S]))
    return text + "---\n" + yaml.safe_dump(DEPLOYMENT) if draw(st.booleans()) else text


@FUZZ
@given(k8s_documents())
def test_fuzz_kubernetes(text: str) -> None:
    scan({"deploy/app.yaml": text.encode("utf-8", "surrogatepass")})


def test_fuzz_kubernetes_fixes(tmp_path: Path) -> None:
    """--diff computes text edits for every workload; hostile shapes must not break it either."""

    @FUZZ
    @given(k8s_documents())
    def fuzz(text: str) -> None:
        from archlint.main import main

        with tempfile.TemporaryDirectory(prefix="archlint-fuzz-") as tmp:
            (Path(tmp) / ".git").mkdir()
            (Path(tmp) / "app.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
            out = io.StringIO()
            import contextlib

            with contextlib.redirect_stdout(out):
                rc = main(["check", tmp, "--offline", "--no-cache", "--diff", "--unsafe-fixes"])
            assert rc in (0, 1)

    fuzz()


# --- binaries ----------------------------------------------------------------------------------

ELF_FILES = ["x86_64/libhello.so", "x86_64/hello", "x86_64/hello.o", "x86_64/libuses_mkl.so", "i386/hello",
             "aarch64/libhello.so", "x86_64/libkernel_v3.so"]  # fmt: skip


@st.composite
def damaged_elf(draw: st.DrawFn) -> bytes:
    data = bytearray((ELF / draw(st.sampled_from(ELF_FILES))).read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):  # e_phoff/e_shoff/e_phnum/... and the program headers after them
            fmt = draw(st.sampled_from(["<H", "<I", "<Q"]))
            at = draw(st.integers(16, 512 - struct.calcsize(fmt)))
            extreme = draw(st.sampled_from([0, 1, 0xFF, 0xFFFF, 0xFF00, 2**31, 2**32 - 1, 2**63, 2**64 - 1]))
            struct.pack_into(fmt, data, at, extreme % (1 << (8 * struct.calcsize(fmt))))
        else:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        del data[draw(st.integers(4, len(data))) :]
    return bytes(data)


@FUZZ
@given(damaged_elf())
def test_fuzz_elf(data: bytes) -> None:
    scan({"vendor/lib/libx.so": data})


@st.composite
def damaged_wheel(draw: st.DrawFn) -> tuple[str, bytes]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))) as zf:
        zf.writestr("pkg/_ext.so", draw(damaged_elf()))
        zf.writestr("pkg/__init__.py", "")
        zf.writestr("pkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    data = bytearray(buf.getvalue())
    for _ in range(draw(st.integers(0, 4))):
        sig = draw(st.sampled_from([b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"]))
        at = data.find(sig)
        if at >= 0:  # a field of a local header, central record or end record
            off = at + draw(st.integers(4, 40))
            if off < len(data):
                data[off] = draw(st.integers(0, 255))
    name = draw(st.sampled_from(["pkg-1.0-cp311-cp311-manylinux_2_17_aarch64.whl", "pkg-1.0-py3-none-any.whl",
                                 "pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "not-a-wheel-name.whl"]))  # fmt: skip
    return name, bytes(data)


@FUZZ
@given(damaged_wheel())
def test_fuzz_wheel(wheel: tuple[str, bytes]) -> None:
    scan({f"wheels/{wheel[0]}": wheel[1]})


AR_NAMES = st.sampled_from(
    [b"/", b"//", b"/0", b"/9999999", "/²".encode("latin-1"), b"/SYM64/", b"#1/20", b"#1/x", b"#1/99999999",
     b"hello.o/", b"", b"\xff\xfe", b"a" * 16]
)  # fmt: skip


@st.composite
def damaged_ar(draw: st.DrawFn) -> bytes:
    obj = (ELF / "x86_64/hello.o").read_bytes()
    out = b"!<arch>\n"
    for _ in range(draw(st.integers(1, 4))):
        name = draw(AR_NAMES)[:16].ljust(16)
        data = draw(st.sampled_from([obj, b"long.o/\n", b"x" * 3, obj[:100]]))
        size = draw(st.sampled_from([str(len(data)).encode(), b"-1", b"99999999999", b"abc", b""]))
        out += name + b"0".ljust(12) + b"0".ljust(6) + b"0".ljust(6) + b"644".ljust(8) + size[:10].ljust(10) + b"`\n"
        out += data + (b"\n" if len(data) % 2 else b"")
    return out


@FUZZ
@given(damaged_ar())
def test_fuzz_static_archive(data: bytes) -> None:
    scan({"lib/libx.a": data})


PAX = st.sampled_from(
    [b"size=-5", b"size=" + b"9" * 30, b"size=" + b"9" * 5000, b"path=" + b"a" * 5000, b"path=\x00", b"mtime=nan",
     b"mtime=1e999", b"uid=-1", b"hdrcharset=BINARY", b"GNU.sparse.map=1,2,3", b"GNU.sparse.size=10",
     b"GNU.sparse.major=1", b"GNU.sparse.minor=0", b"linkpath=../../x", b"comment=x", b"=", b"x"]
)  # fmt: skip


def _pax_block(records: list[bytes]) -> bytes:
    body = b""
    for r in records:
        n = len(r) + 3
        while len(str(n)) + 2 + len(r) != n:
            n = len(str(n)) + 2 + len(r)
        body += str(n).encode() + b" " + r + b"\n"
    return body


@st.composite
def damaged_tar(draw: st.DrawFn) -> bytes:
    so = (ELF / "x86_64/libhello.so").read_bytes()
    out = b""
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["file", "pax", "global", "longname", "sparse", "odd-type"]))
        if kind in ("pax", "global", "longname"):
            body = _pax_block(draw(st.lists(PAX, min_size=1, max_size=3))) if kind != "longname" else b"x" * 300 + b"\0"
            info = tarfile.TarInfo("././@LongLink" if kind == "longname" else "PaxHeaders/x")
            info.type = {"pax": tarfile.XHDTYPE, "global": tarfile.XGLTYPE, "longname": tarfile.GNUTYPE_LONGNAME}[kind]
            info.size = len(body)
            out += info.tobuf(tarfile.GNU_FORMAT) + body + b"\0" * (-len(body) % 512)
        data = so if draw(st.booleans()) else b"hello"
        info = tarfile.TarInfo(draw(st.sampled_from(["usr/lib/libx.so", "a" * 99, "./x", "../../x", "x\x00y"])))
        info.size = len(data)
        if kind == "sparse":
            info.type = tarfile.GNUTYPE_SPARSE
        elif kind == "odd-type":
            info.type = draw(st.sampled_from([b"7", b"V", b"\x00", b"Z", tarfile.DIRTYPE, tarfile.SYMTYPE]))
        block = bytearray(info.tobuf(tarfile.GNU_FORMAT))
        if draw(st.booleans()):  # a damaged field, checksum fixed up or not
            block[draw(st.integers(100, 500))] = draw(st.integers(0, 255))
            if draw(st.booleans()):
                chk = 256 + sum(block[:148]) + sum(block[156:512])
                block[148:156] = b"%06o\0 " % chk
        out += bytes(block) + data + b"\0" * (-len(data) % 512)
    out += b"\0" * 1024
    if draw(st.booleans()):
        out = out[: draw(st.integers(0, len(out)))]
    if draw(st.booleans()):  # a docker save: the tar as a gzip layer inside another tar
        layer = gzip.compress(out)
        outer = io.BytesIO()
        with tarfile.open(fileobj=outer, mode="w") as tf:
            info = tarfile.TarInfo("blobs/sha256/" + "a" * 64)
            info.size = len(layer)
            tf.addfile(info, io.BytesIO(layer))
        out = outer.getvalue()
    return out


@FUZZ
@given(damaged_tar(), st.sampled_from(["image.tar", "image.tar.gz"]))
def test_fuzz_tarball(data: bytes, name: str) -> None:
    scan({name: gzip.compress(data) if name.endswith(".gz") else data})


# --- the rest: notebooks, .python-version, config found while searching ------------------------


NOTEBOOK = {"cells": [{"cell_type": "code", "source": ["import mkl\n"]}], "nbformat": 4}


@FUZZ
@given(
    st.one_of(
        mutated(NOTEBOOK, YAML_VALUE).map(json.dumps),
        st.text(max_size=50),
    ),
    st.text(max_size=30),
)
def test_fuzz_notebook_and_python_version(notebook: str, python_version: str) -> None:
    scan({"nb.ipynb": notebook.encode("utf-8", "surrogatepass"),
          ".python-version": python_version.encode("utf-8", "surrogatepass")})  # fmt: skip


@FUZZ
@given(mutated({"tool": {"archlint": {"python": "3.12", "select": ["ALL"]}}, "project": {"name": "x"}}))
def test_fuzz_config_is_a_clear_error_or_accepted(data: Any) -> None:
    """A pyproject.toml with [tool.archlint] is the user's config: a bad one is a FatalError (exit 2
    naming the file), never any other exception."""
    doc = _dump_toml(data)
    if doc is None:
        return
    try:
        scan({"pyproject.toml": doc.encode("utf-8", "surrogatepass")})
    except FatalError as e:
        assert "pyproject.toml" in str(e)


def test_the_unmutated_inputs_reach_the_parsers() -> None:
    """The fuzz targets start from inputs every scanner really reads (not a harness that only
    ever exercises the error paths)."""
    for name in ("uv.lock", "poetry.lock", "pdm.lock", "pylock.toml"):
        path, table = LOCKS[name]
        res = scan({name: tomli_w.dumps(_toml_base(path, table)).encode()})
        assert [d for d in res.facts.dependencies if d.path == name], name
    res = scan({"requirements.txt": b"numpy==1.26.4\n-r other.txt\n", "other.txt": b"intel-openmp==2024.2.1\n"})
    assert {d.name for d in res.facts.dependencies} == {"numpy", "intel-openmp"}
    res = scan(
        {"deploy/app.yaml": yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [DEPLOYMENT]}).encode()}
    )
    assert [w.name for w in res.facts.workloads] == ["api"]
    assert "ARCH501" in [
        f.rule for f in scan({"vendor/lib/libx.so": (ELF / "x86_64/libhello.so").read_bytes()}).findings
    ]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        so = (ELF / "x86_64/libhello.so").read_bytes()
        info = tarfile.TarInfo("usr/lib/libx.so")
        info.size = len(so)
        tf.addfile(info, io.BytesIO(so))
    assert "ARCH501" in [f.rule for f in scan({"image.tar": buf.getvalue()}).findings]
    res = scan({"Dockerfile": b"FROM --platform=linux/amd64 python:3.12\nRUN pip install numpy==1.26.4\n"})
    assert [d.name for d in res.facts.dependencies] == ["numpy"]
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("pkg/_ext.so", (ELF / "x86_64/libhello.so").read_bytes())
    rules = [f.rule for f in scan({"wheels/pkg-1.0-cp311-cp311-manylinux_2_17_aarch64.whl": wheel.getvalue()}).findings]
    assert "ARCH504" in rules
    obj = (ELF / "x86_64/hello.o").read_bytes()
    member = b"hello.o/".ljust(16) + b"0".ljust(12) + b"0".ljust(6) + b"0".ljust(6) + b"644".ljust(8)
    archive = b"!<arch>\n" + member + str(len(obj)).encode().ljust(10) + b"`\n" + obj
    assert "ARCH501" in [f.rule for f in scan({"lib/libx.a": archive}).findings]
