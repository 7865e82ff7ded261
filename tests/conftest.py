from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from archlint.main import main

# Every test runs with name lookups other than loopback refused (network-marked tests excepted),
# and the recorded-PyPI index server is available as the `server` fixture.
pytest_plugins = ["deps_support.fixtures"]

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def _isolate_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The same isolation for module- and session-scoped fixtures, which run before any
    function-scoped one: a report built once per module must not read the user's cache (an
    earlier online run there changes what `--offline` knows) or the real index."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ARCHLINT_RAISE", "1")
        mp.setenv("ARCHLINT_CACHE_DIR", str(tmp_path_factory.mktemp("session-cache")))
        for var in ("PIP_EXTRA_INDEX_URL", "UV_INDEX_URL", "NO_COLOR", "REGISTRY_AUTH_FILE", "ARCHLINT_WORKERS"):
            mp.delenv(var, raising=False)
        mp.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
        yield


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Crashes must fail tests, not turn into ARCH004 findings; no test may touch the user's cache
    # or pick up a developer's index settings.
    monkeypatch.setenv("ARCHLINT_RAISE", "1")
    monkeypatch.setenv("ARCHLINT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    for var in ("PIP_EXTRA_INDEX_URL", "UV_INDEX_URL", "NO_COLOR", "REGISTRY_AUTH_FILE", "ARCHLINT_WORKERS"):
        monkeypatch.delenv(var, raising=False)
    # A safety net: a test that scans dependencies without --offline or its own index gets a closed
    # loopback port (statuses become "unknown"), never the real PyPI.
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")


def report_schema() -> dict[str, Any]:
    text = resources.files("archlint.schema").joinpath("report-v1.schema.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def validate_report(report: dict[str, Any]) -> dict[str, Any]:
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    return report


@dataclass
class CliResult:
    rc: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        """The JSON report, validated against the shipped schema."""
        return validate_report(json.loads(self.out))


def _run(args: list[str], stdin: bytes | None = None, cwd: Path | None = None) -> CliResult:
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr, sys.stdin
    import os

    prev = os.getcwd()
    sys.stdout, sys.stderr = out, err
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        if cwd:
            os.chdir(cwd)
        rc = main(args)
    finally:
        os.chdir(prev)
        sys.stdout, sys.stderr, sys.stdin = old
    return CliResult(rc, out.getvalue(), err.getvalue())


@dataclass
class FreshRun:
    rc: int
    out: str
    imported: set[str]  # which of the watched modules the run imported


def check_in_fresh_process(args: list[str], watch: tuple[str, ...]) -> FreshRun:
    """`archlint check ARGS` in a new interpreter: its exit code, what it printed, and which of
    `watch` it imported (what a run loads lazily shows only in a process of its own)."""
    import subprocess

    code = (
        "import json, sys\nfrom archlint.main import main\n"
        f"rc = main({['check', *args]!r})\n"
        f"print(json.dumps([rc, [m for m in {list(watch)!r} if m in sys.modules]]))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    *lines, last = r.stdout.rstrip("\n").split("\n")
    rc, imported = json.loads(last)
    return FreshRun(rc, "\n".join(lines), set(imported))


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Run `archlint ARGS` in-process; `.json()` validates the report against the schema."""
    return _run
