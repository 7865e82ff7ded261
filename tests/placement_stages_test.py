"""Stage lineage (archlint/placement/stages.py) against Docker's semantics:

- BUILDPLATFORM / TARGETPLATFORM (and *OS/*ARCH/*VARIANT) are ARGs BuildKit predefines in the
  global scope, usable in FROM without a declaration
  (https://docs.docker.com/reference/dockerfile/#automatic-platform-args-in-the-global-scope);
- a stage without --platform builds for the target; `--platform=$BUILDPLATFORM` runs it on the
  builder (https://docs.docker.com/build/building/multi-platform/#cross-compilation);
- a stage FROM another stage takes that stage's platform (BuildKit's dockerfile2llb sets
  `d.platform = d.base.platform` for a stage whose base is a stage).
"""

from __future__ import annotations

import pytest

from archlint.findings import Severity
from archlint.fixes import apply_edits
from archlint.placement.dockerfile import parse
from archlint.placement.dockerfile_checks import analyse
from archlint.placement.stages import BUILD, FIXED, TARGET, UNKNOWN, platform_of, runtime_stage


def lineage_rules(text: str, target: str | None = None) -> list[tuple[str, int]]:
    out = analyse(parse(text), "Dockerfile", ".", ".", target)
    blocking = {e.rule for e in out.evidence if e.blocks_arm64}
    found = [(f.rule, f.line) for f in out.findings if f.rule in ("ARCH309", "ARCH310")]
    # Every error is also evidence that makes the image x86-only, and nothing else is.
    errors = {f.rule for f in out.findings if f.rule in ("ARCH309", "ARCH310") and f.severity is None}
    assert blocking & {"ARCH309", "ARCH310"} == errors
    return found


GO_CROSS = """\
FROM --platform=$BUILDPLATFORM golang:1.22 AS build
ARG TARGETOS TARGETARCH
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/app ./cmd/app
FROM gcr.io/distroless/static-debian12
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]
"""
PY_RUNTIME_ON_BUILD = """\
FROM --platform=$BUILDPLATFORM python:3.12-alpine AS base
RUN pip install --no-cache-dir flask==3.1.0
FROM base
COPY . /app
CMD ["python", "/app/main.py"]
"""
DOTNET = """\
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:8.0 AS build
ARG TARGETARCH
WORKDIR /src
COPY . .
RUN dotnet publish -c Release -a $TARGETARCH -o /app
FROM mcr.microsoft.com/dotnet/aspnet:8.0
COPY --from=build /app /app
"""
DOTNET_RID = DOTNET.replace("ARG TARGETARCH\n", "").replace("-a $TARGETARCH", "-r linux-arm64 --self-contained")
NODE_ASSETS = """\
FROM --platform=$BUILDPLATFORM node:20 AS assets
WORKDIR /web
COPY web/ .
RUN npm ci && npm run build
FROM nginx:1.27
COPY --from=assets /web/dist /usr/share/nginx/html
"""
C_NATIVE = """\
FROM --platform=$BUILDPLATFORM debian:bookworm AS build
RUN apt-get update && apt-get install -y build-essential
COPY src/ /src
RUN make -C /src && cp /src/tool /usr/local/bin/tool
FROM debian:bookworm-slim
COPY --from=build /usr/local/bin/tool /usr/local/bin/tool
"""


BUILDER = "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GO_CROSS, []),
        (PY_RUNTIME_ON_BUILD, [("ARCH309", 1)]),
        (DOTNET, []),
        (DOTNET_RID, []),
        (NODE_ASSETS, []),
        (C_NATIVE, [("ARCH310", 6)]),
    ],
    ids=["go-cross", "python-runtime-on-build", "dotnet-arch", "dotnet-rid", "node-assets", "c-native"],
)
def test_lineage_shapes(text: str, expected: list[tuple[str, int]]) -> None:
    assert lineage_rules(text) == expected


def test_runtime_fix_drops_the_flag_from_the_chain_root() -> None:
    out = analyse(parse(PY_RUNTIME_ON_BUILD), "Dockerfile", ".", ".")
    (f,) = [f for f in out.findings if f.rule == "ARCH309"]
    assert f.fix is not None
    fixed, n = apply_edits(PY_RUNTIME_ON_BUILD, list(f.fix.edits))
    assert n == 1 and fixed.splitlines()[0] == "FROM python:3.12-alpine AS base"
    assert lineage_rules(fixed) == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("FROM --platform=$BUILDPLATFORM alpine AS a\n", BUILD),
        ("FROM --platform=${BUILDPLATFORM} alpine AS a\n", BUILD),
        ("ARG BUILDPLATFORM=linux/amd64\nFROM --platform=$BUILDPLATFORM alpine AS a\n", BUILD),
        ("ARG BUILDER=$BUILDPLATFORM\nFROM --platform=$BUILDER alpine AS a\n", BUILD),
        ("ARG P\nFROM --platform=${P:-$BUILDPLATFORM} alpine AS a\n", BUILD),
        ("FROM --platform=$TARGETPLATFORM alpine AS a\n", TARGET),
        ("FROM --platform=linux/$TARGETARCH alpine AS a\n", TARGET),
        ("FROM alpine AS a\n", TARGET),
        ("ARG P=linux/amd64\nFROM --platform=$P alpine AS a\n", FIXED),
        ("FROM --platform=$UNDECLARED alpine AS a\n", UNKNOWN),
    ],
)
def test_platform_of_follows_arg_defaults(text: str, kind: str) -> None:
    df = parse(text + "FROM a\n")
    assert platform_of(df, df.stages[0]).kind == kind
    assert platform_of(df, df.stages[1]).kind == kind  # a stage takes its base stage's platform


def test_build_platform_runtime_reached_through_two_stages_and_an_arg_named_stage() -> None:
    text = (
        "ARG RUNTIME=deps\n"
        "FROM --platform=$BUILDPLATFORM python:3.12-slim AS os\n"
        "FROM os AS deps\nRUN pip install requests==2.32.3\n"
        "FROM ${RUNTIME} AS final\nCOPY . /app\n"
    )
    assert lineage_rules(text) == [("ARCH309", 2)]


def test_scratch_runtime_on_the_build_platform_holds_only_what_is_copied() -> None:
    text = GO_CROSS.replace("FROM gcr.io/distroless/static-debian12", "FROM --platform=$BUILDPLATFORM scratch")
    assert lineage_rules(text) == []


def test_the_build_target_is_the_image() -> None:
    # skaffold `docker.target: dev` builds the dev stage, which runs on the build platform; the
    # last stage is fine.
    text = PY_RUNTIME_ON_BUILD.replace("FROM base\n", "FROM base AS dev\n") + "FROM python:3.12-alpine AS prod\n"
    assert lineage_rules(text) == []
    assert lineage_rules(text, target="dev") == [("ARCH309", 1)]
    df = parse(text)
    assert runtime_stage(df, "dev") is df.stages[1] and runtime_stage(df, "nope") is df.stages[-1]


@pytest.mark.parametrize(
    "build",
    [
        "RUN GOARCH=$(xx-info arch) go build -o /out/app .",  # xx-info reads TARGETPLATFORM
        "RUN xx-go build -o /out/app . && xx-verify /out/app",
        "RUN cargo zigbuild --release --target aarch64-unknown-linux-gnu",
        "RUN cargo build --release --target $RUST_TARGET",
        "RUN zig cc -target aarch64-linux-gnu -o /out/app main.c",
        "RUN pip install --platform manylinux2014_aarch64 --only-binary=:all: --target /out/app -r r.txt",
        "RUN apt-get install -y gcc-aarch64-linux-gnu && CC=aarch64-linux-gnu-gcc make",
    ],
)
def test_cross_compilation_idioms(build: str) -> None:
    text = f"{BUILDER}{build}\nFROM alpine:3.20\nCOPY --from=build /out/app /app\n"
    assert lineage_rules(text) == []


@pytest.mark.parametrize(
    ("build", "why"),
    [
        ("RUN go build -o /out/app .", "`go build`"),
        ("RUN GOARCH=amd64 go build -o /out/app .", "GOARCH=amd64"),
        ("RUN cargo build --release && cp target/release/app /out/app", "`cargo build`"),
        ("RUN python -m venv /out/app && /out/app/bin/pip install numpy==2.1.3", "Python packages"),
        ("RUN dotnet publish -r linux-x64 -o /out/app", "linux-x64"),
    ],
)
def test_native_builds_without_cross_compiling(build: str, why: str) -> None:
    text = f"{BUILDER}{build}\nFROM alpine:3.20\nCOPY --from=build /out/app /app\n"
    out = analyse(parse(text), "Dockerfile", ".", ".")
    (f,) = [f for f in out.findings if f.rule == "ARCH310"]
    assert f.line == 4 and why in f.message
    assert f.fix is not None and f.fix.edits[0].start_line == 1


def test_static_output_of_a_native_stage_is_fine() -> None:
    text = (
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nRUN go run ./cmd/gen > /out/openapi.json\n"
        "FROM nginx:1.27\nCOPY --from=build /out/openapi.json /usr/share/nginx/html/\n"
    )
    assert lineage_rules(text) == []


def test_wheels_mounted_from_a_build_platform_stage() -> None:
    text = (
        "FROM --platform=$BUILDPLATFORM python:3.12-slim AS wheels\nRUN pip wheel -w /wheels numpy==2.1.3\n"
        "FROM python:3.12-slim\n"
        "RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels pip install /wheels/*.whl\n"
    )
    assert lineage_rules(text) == [("ARCH310", 4)]


def test_native_code_handed_on_through_another_build_stage() -> None:
    text = (
        "FROM --platform=$BUILDPLATFORM rust:1.83 AS compile\nRUN cargo build --release\n"
        "FROM --platform=$BUILDPLATFORM alpine:3.20 AS collect\nCOPY --from=compile /target/release/app /out/app\n"
        "FROM alpine:3.20\nCOPY --from=collect /out/app /app\n"
    )
    out = analyse(parse(text), "Dockerfile", ".", ".")
    (f,) = [f for f in out.findings if f.rule == "ARCH310"]
    assert f.line == 6 and "in stage compile, copied into collect" in f.message


def test_node_modules_from_the_build_platform_is_a_warning_that_does_not_decide() -> None:
    text = (
        "FROM --platform=$BUILDPLATFORM node:20 AS deps\nWORKDIR /app\nRUN npm ci --omit=dev\n"
        "FROM node:20-slim\nCOPY --from=deps /app/node_modules /app/node_modules\n"
    )
    out = analyse(parse(text), "Dockerfile", ".", ".")
    (f,) = [f for f in out.findings if f.rule == "ARCH310"]
    assert f.severity == Severity.WARNING and "native addons" in f.message
    assert not [e for e in out.evidence if e.blocks_arm64]


def test_copy_from_an_external_image_is_not_a_stage() -> None:
    text = "FROM --platform=$BUILDPLATFORM alpine AS build\nRUN make\nFROM alpine\n"
    text += "COPY --from=nginx:1.27 /etc/nginx /etc/nginx\n"
    assert lineage_rules(text) == []
