from __future__ import annotations

import pytest

from archlint.fixes import apply_edits
from archlint.placement.dockerfile import DockerfileError, parse, substitute
from archlint.placement.dockerfile_checks import analyse


def test_continuations_comments_and_escape_directive() -> None:
    df = parse(
        "# escape=`\n"
        "FROM debian:bookworm\n"
        "RUN apt-get update `\n"
        "# a comment inside the continuation is dropped\n"
        "    && apt-get install -y curl\n"
        'CMD ["bash"]\n'
    )
    run = df.stages[0].instructions[0]
    assert run.keyword == "RUN"
    assert run.args == "apt-get update && apt-get install -y curl"
    assert (run.line, run.end_line) == (3, 5)
    assert df.stages[0].instructions[1].line == 6


def test_heredoc_body_belongs_to_the_instruction() -> None:
    df = parse("FROM alpine:3.20\nRUN <<EOF\ncurl -o /x https://e.com/tool-linux-amd64\nEOF\nCMD x\n")
    run = df.stages[0].instructions[0]
    assert "tool-linux-amd64" in run.args
    assert (run.line, run.end_line) == (2, 4)
    assert df.stages[0].instructions[1].keyword == "CMD"


def test_global_args_substitute_into_from_and_stage_lineage() -> None:
    df = parse(
        "ARG PY=3.11\nARG VARIANT\n"
        "FROM python:${PY}-slim AS build\nRUN pip wheel .\n"
        "FROM build AS test\nRUN pytest\n"
        "FROM gcr.io/distroless/python3-debian12\nCOPY --from=build /w /w\n"
    )
    assert [s.base for s in df.stages] == ["python:3.11-slim", "build", "gcr.io/distroless/python3-debian12"]
    assert df.stages[0].name == "build"
    assert [s.index for s in df.lineage(df.stages[1])] == [1, 0]
    # The test stage is not part of the final image; the build stage is (copied from).
    assert [s.index for s in df.contributing()] == [0, 2]


def test_substitute_operators() -> None:
    env: dict[str, str | None] = {"A": "x", "E": ""}
    assert substitute("${A}-${B:-dflt}-${A:+alt}-${E:+no}-$A-$B", env) == "x-dflt-alt--x-$B"


def test_unknown_instruction_and_no_from_are_errors() -> None:
    with pytest.raises(DockerfileError) as e:
        parse("FROM x\n%%% y\n")
    assert e.value.line == 2
    assert parse("# only a comment\n").stages == []


def test_platform_pin_finding_and_fix_removes_the_flag() -> None:
    text = "ARG P=linux/amd64\nFROM --platform=$P python:3.12-slim\nRUN true\n"
    out = analyse(parse(text), "svc/Dockerfile", "svc", "svc")
    pins = [f for f in out.findings if f.rule == "ARCH301"]
    assert len(pins) == 1 and pins[0].line == 2 and "linux/amd64" in pins[0].message
    assert any(e.blocks_arm64 and e.rule == "ARCH301" for e in out.evidence)
    assert pins[0].fix is not None
    fixed, n = apply_edits(text, list(pins[0].fix.edits))
    assert n == 1 and fixed.splitlines()[1] == "FROM python:3.12-slim"


@pytest.mark.parametrize("platform", ["$BUILDPLATFORM", "linux/arm64", "${TARGETPLATFORM}"])
def test_cross_compile_and_arm64_pins_are_fine(platform: str) -> None:
    out = analyse(parse(f"FROM --platform={platform} golang:1.22\nRUN true\n"), "Dockerfile", ".", ".")
    assert not [f for f in out.findings if f.rule == "ARCH301"]


def test_x86_download_through_an_arg_is_found_and_targetarch_is_not() -> None:
    text = (
        "FROM debian:bookworm\n"
        "ARG ARCH=x86_64\n"
        "RUN curl -fsSL https://example.com/tool-${ARCH}.tar.gz | tar xz\n"
        "ARG TARGETARCH\n"
        "RUN curl -fsSL https://example.com/other-linux-${TARGETARCH}.tar.gz | tar xz \\\n"
        "  && curl -o /k https://dl.k8s.io/v1.30.0/bin/linux/amd64/kubectl\n"
        "RUN curl -LO https://example.com/files/readme-x64docs.txt\n"
    )
    out = analyse(parse(text), "Dockerfile", ".", ".")
    downloads = [f for f in out.findings if f.rule == "ARCH303"]
    assert [f.line for f in downloads] == [3]
    assert "expands to https://example.com/tool-x86_64.tar.gz" in downloads[0].message
    assert [e.line for e in out.evidence if e.rule == "ARCH303"] == [3]


def test_download_in_an_unused_stage_is_reported_but_does_not_block() -> None:
    text = "FROM debian:bookworm AS tools\nRUN wget https://example.com/linux64/tool\nFROM debian:bookworm\nRUN true\n"
    out = analyse(parse(text), "Dockerfile", ".", ".")
    assert [f.rule for f in out.findings] == ["ARCH303"]
    assert not [e for e in out.evidence if e.blocks_arm64]


def test_intel_only_system_and_conda_packages() -> None:
    text = (
        "FROM ubuntu:22.04\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends python3 intel-mkl libmkl-rt\n"
        "RUN conda install -y mkl-service numpy\n"
        "RUN apt-get install -y libopenblas-dev\n"
    )
    out = analyse(parse(text), "Dockerfile", ".", ".")
    found = sorted((f.line, f.key) for f in out.findings if f.rule == "ARCH304")
    assert found == [(2, "package:intel-mkl"), (2, "package:libmkl-rt"), (3, "package:mkl-service")]
    mkl = next(f for f in out.findings if f.key == "package:intel-mkl")
    assert "libopenblas-dev" in mkl.message
    line = text.splitlines()[1]
    assert line[mkl.column - 1 : (mkl.end_column or 0) - 1] == "intel-mkl"


def test_inline_pip_pins_become_dependencies_with_spans() -> None:
    text = (
        "FROM python:3.11-slim\n"
        "ARG TF=2.15.1\n"
        "RUN pip install --no-cache-dir -r requirements.txt 'numpy>=1.26' \\\n"
        "    tensorflow-intel==${TF} ./local-pkg\n"
        "RUN python3 -m pip install --index-url https://x/simple requests==2.32.3 && uv pip install attrs\n"
    )
    out = analyse(parse(text), "Dockerfile", ".", ".")
    deps = {d.name: d for d in out.dependencies}
    assert set(deps) == {"numpy", "tensorflow-intel", "requests", "attrs"}
    assert all(d.source == "dockerfile" for d in deps.values())
    tf = deps["tensorflow-intel"]
    assert (tf.line, tf.version) == (4, "2.15.1")
    assert tf.column == 5 and tf.end_column == 5 + len("tensorflow-intel==${TF}")
    assert deps["numpy"].specifier == ">=1.26" and deps["numpy"].version is None
    assert deps["requests"].line == 5 and deps["requests"].version == "2.32.3"


def test_copy_sources_resolve_against_the_context() -> None:
    text = "FROM debian:bookworm\nCOPY vendor/lib/libfoo.so ./bin/ /opt/\nCOPY --from=builder /x /y\n"
    out = analyse(parse(text), "svc/Dockerfile", "svc", "svc")
    assert [(c.line, c.sources) for c in out.copies] == [(2, ("svc/vendor/lib/libfoo.so", "svc/bin"))]


@pytest.mark.parametrize(
    ("dockerfile", "python", "libc", "libc_version"),
    [
        ("FROM python:3.11-slim-bullseye\n", "3.11", "glibc", "2.31"),
        ("FROM python:3.12-alpine3.20\n", "3.12", "musl", "1.2"),
        ("FROM docker.io/library/python:3.13\n", "3.13", "glibc", "2.36"),
        # A venv built in python:3.11 and copied into distroless: distroless' own Python (3.11).
        (
            "FROM python:3.11 AS b\nRUN x\nFROM gcr.io/distroless/python3-debian12\nCOPY --from=b /v /v\n",
            "3.11",
            "glibc",
            "2.36",
        ),
        ("FROM ubuntu:22.04\nRUN apt-get install -y python3\n", None, "glibc", "2.35"),
    ],
)
def test_runtime_hint_from_the_base_image(dockerfile: str, python: str | None, libc: str, libc_version: str) -> None:
    out = analyse(parse(dockerfile), "svc/Dockerfile", "svc", "svc")
    assert out.hint is not None
    assert (out.hint.python, out.hint.libc, out.hint.libc_version) == (python, libc, libc_version)
    assert out.hint.directory == "svc" and out.hint.source.startswith("svc/Dockerfile:")


def test_base_image_knowledge() -> None:
    ok = analyse(parse("FROM nginx:1.27\n"), "Dockerfile", ".", ".")
    assert any(e.arm64_ok for e in ok.evidence) and not ok.findings
    bad = analyse(parse("FROM intel/oneapi-basekit:2024.2.1-0-devel-ubuntu22.04\n"), "Dockerfile", ".", ".")
    assert [f.rule for f in bad.findings] == ["ARCH302"]
    assert any(e.blocks_arm64 for e in bad.evidence)
    unknown = analyse(parse("FROM registry.internal/base/python:1\n"), "Dockerfile", ".", ".")
    assert not unknown.evidence and unknown.hint is None


def test_pinned_build_stage_is_reported_without_deciding() -> None:
    text = (
        "FROM --platform=linux/amd64 golang:1.22 AS build\nRUN go build -o /app .\n"
        "FROM --platform=linux/amd64 node:20 AS unused\nRUN true\n"
        "FROM gcr.io/distroless/base-debian12\nCOPY --from=build /app /app\n"
    )
    out = analyse(parse(text), "Dockerfile", ".", ".")
    pins = [f for f in out.findings if f.rule == "ARCH301"]
    assert [f.line for f in pins] == [1]  # the unused stage is not part of the image
    assert "pins build stage build" in pins[0].message and "$BUILDPLATFORM" in pins[0].message
    assert not [e for e in out.evidence if e.blocks_arm64]


@pytest.mark.parametrize(
    ("ref", "arm64", "note"),
    [
        ("gcr.io/distroless/static", True, "distroless"),
        ("gcr.io/distroless/java21-debian12:nonroot", True, "distroless"),
        ("cgr.dev/chainguard/python:latest-dev", True, "Chainguard"),
        ("mcr.microsoft.com/dotnet/runtime-deps:9.0-noble-chiseled", True, ".NET"),
        ("registry.k8s.io/pause-amd64:3.1", False, "'pause-amd64' names an x86-64 build"),
        ("ghcr.io/acme/agent:2.1-linux-amd64", False, "tag '2.1-linux-amd64'"),
        ("quay.io/acme/x86_64-builder:1", False, "'x86_64-builder'"),
        ("ghcr.io/acme/tool:amd64", False, "tag 'amd64'"),
        ("amd64/python:3.12", False, "amd64/ namespace"),
        ("intel/intel-optimized-tensorflow:2.15.0", False, "Intel's TensorFlow"),
        ("intel/intel-extension-for-pytorch:2.5.10-xpu", False, "Intel Extension for PyTorch"),
        ("openvino/ubuntu22_runtime:2024.5.0", False, "OpenVINO"),
        ("intel/oneapi-aikit:2024.2.1-0-devel-ubuntu22.04", False, "oneAPI"),
    ],
)
def test_image_families_and_names_that_say_x86(ref: str, arm64: bool, note: str) -> None:
    from archlint.placement.baseimages import lookup

    info = lookup(ref)
    assert info is not None and info.arm64 is arm64 and note in info.note


@pytest.mark.parametrize(
    "ref", ["ghcr.io/acme/api:1.2", "ghcr.io/acme/amd64x:1", "ghcr.io/acme/api:xamd64", "acme/arm64-tool:1"]
)
def test_names_that_do_not_say_x86(ref: str) -> None:
    from archlint.placement.baseimages import lookup

    assert lookup(ref) is None


def test_base_image_tag_that_names_amd64_is_an_x86_only_base() -> None:
    out = analyse(parse("ARG ARCH=amd64\nFROM ghcr.io/acme/base:1.4-${ARCH}\nRUN true\n"), "Dockerfile", ".", ".")
    (f,) = [f for f in out.findings if f.rule == "ARCH302"]
    assert f.line == 2 and "names an x86-64 build" in f.message
    assert any(e.blocks_arm64 and e.rule == "ARCH302" for e in out.evidence)
