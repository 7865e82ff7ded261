"""What archlint/placement/toolchain.py reads from a Dockerfile: the Python installs of the image
and whether their stage can compile an sdist (base image, packages installed before, in the same
RUN too), against the knowledge base rules/kb/build_toolchains.toml."""

from __future__ import annotations

import pytest

from archlint.placement.dockerfile import parse
from archlint.placement.dockerfile_checks import analyse
from archlint.placement.toolchain import PythonInstall, missing_libraries, requirement_paths


def installs(text: str) -> list[PythonInstall]:
    return analyse(parse(text), "svc/Dockerfile", "svc", "svc").installs


@pytest.mark.parametrize(
    ("text", "compiler"),
    [
        ("FROM python:3.12-slim\nRUN pip install -r r.txt\n", False),
        ("FROM python:3.12-alpine\nRUN pip install -r r.txt\n", False),
        ("FROM python:3.12\nRUN pip install -r r.txt\n", True),  # the full image is buildpack-deps
        ("FROM python:3.12-bookworm\nRUN pip install -r r.txt\n", True),
        ("FROM gcr.io/distroless/python3-debian12\nRUN pip install -r r.txt\n", False),
        (
            "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends gcc\n"
            "RUN pip install -r r.txt\n",
            True,
        ),
        (
            "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y build-essential && pip install -r r.txt\n",
            True,
        ),  # earlier in the same RUN
        ("FROM python:3.12-slim\nRUN pip install -r r.txt && apt-get install -y build-essential\n", False),  # after
        (
            "FROM python:3.12-alpine\n"
            "RUN apk add --no-cache --virtual .build-deps gcc musl-dev && pip install -r r.txt\n",
            True,
        ),
        ("FROM python:3.12-alpine\nRUN apk add --no-cache gcc\nRUN pip install -r r.txt\n", False),  # no libc headers
        ("FROM python:3.12-alpine\nRUN apk add --no-cache build-base\nRUN pip install -r r.txt\n", True),
        (
            "FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y python3-pip\nRUN pip install -r r.txt\n",
            True,
        ),  # python3-pip Recommends build-essential
        (
            "FROM ubuntu:24.04\nRUN apt-get install -y --no-install-recommends python3-pip\nRUN pip install -r r.txt\n",
            False,
        ),
        ("FROM rockylinux:9\nRUN dnf groupinstall -y 'Development Tools'\nRUN pip3 install -r r.txt\n", True),
        ("FROM python:3.12-slim AS base\nRUN apt-get install -y g++\nFROM base\nRUN pip install -r r.txt\n", True),
        ("FROM registry.internal/python:3.12\nRUN pip install -r r.txt\n", None),  # not known: no claim
        ("FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\nRUN pip install -r r.txt\n", True),
        ("FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\nRUN pip install -r r.txt\n", False),
    ],
)
def test_compiler_in_the_stage(text: str, compiler: bool | None) -> None:
    (inst,) = [i for i in installs(text) if i.requirement_files]
    assert inst.compiler is compiler, inst.compiler_why


def test_what_each_install_installs() -> None:
    text = (
        "FROM python:3.12-slim\n"
        "ARG REQS=requirements/prod.txt\n"
        "RUN pip install --no-cache-dir -r $REQS --requirement=extra.txt 'uvicorn[standard]==0.30.1' gunicorn\n"
        "RUN python -m pip install --only-binary=:all: numpy==2.1.3\n"
        "RUN uv pip install --system -e .\n"
        "RUN poetry install --only main\n"
        "RUN pip install --upgrade pip\n"
    )
    got = [(i.tool, i.requirement_files, i.inline, i.project, i.only_binary, i.line) for i in installs(text)]
    assert got == [
        ("pip", ("requirements/prod.txt", "extra.txt"), ("uvicorn", "gunicorn"), False, False, 3),
        ("pip", (), ("numpy",), False, True, 4),
        ("uv", (), (), True, False, 5),
        ("poetry", (), (), True, False, 6),
        ("pip", (), ("pip",), False, False, 7),
    ]


def test_installs_of_stages_outside_the_image_are_not_recorded() -> None:
    text = (
        "FROM python:3.12-slim AS test\nRUN pip install -r dev.txt\nFROM python:3.12-slim\nRUN pip install -r r.txt\n"
    )
    assert [i.requirement_files for i in installs(text)] == [("r.txt",)]


def test_system_libraries_an_sdist_needs() -> None:
    assert missing_libraries("psycopg2", frozenset({"build-essential"})) == [
        "the PostgreSQL client headers and pg_config (libpq-dev)"
    ]
    assert missing_libraries("psycopg2", frozenset({"build-essential", "libpq-dev"})) == []
    assert missing_libraries("psycopg2", frozenset({"build-base", "postgresql-dev"})) == []  # Alpine's name
    assert len(missing_libraries("scipy", frozenset({"gcc"}))) == 2  # Fortran and BLAS
    assert missing_libraries("mysqlclient", frozenset({"default-libmysqlclient-dev", "pkg-config"})) == []
    assert missing_libraries("requests", frozenset()) == []


def test_requirement_paths_follow_the_copy_lines() -> None:
    known = {"svc/requirements/prod.txt", "svc/requirements.txt", "other/requirements.txt"}
    assert requirement_paths("requirements/prod.txt", "svc", ["svc"], known) == ["svc/requirements/prod.txt"]
    assert requirement_paths("/tmp/requirements.txt", "svc", ["svc/requirements.txt"], known) == [
        "svc/requirements.txt"
    ]
    assert requirement_paths("/app/requirements/prod.txt", ".", ["svc"], known) == ["svc/requirements/prod.txt"]
    assert requirement_paths("missing.txt", "svc", ["svc"], known) == []


def test_option_values_are_neither_requirements_nor_the_project() -> None:
    text = (
        "FROM python:3.12-slim\n"
        "RUN pip install --prefix /install -c constraints.txt -i https://pypi.example/simple --target /deps "
        "--only-binary :all: -r requirements.txt flask==3.1.0\n"
    )
    (inst,) = installs(text)
    assert (inst.requirement_files, inst.inline, inst.project, inst.only_binary) == (
        ("requirements.txt",), ("flask",), False, True,
    )  # fmt: skip
    deps = analyse(parse(text), "svc/Dockerfile", "svc", "svc").dependencies
    assert [d.name for d in deps] == ["flask"]
