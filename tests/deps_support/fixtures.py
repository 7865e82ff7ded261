"""Fixtures for the whole suite (loaded by tests/conftest.py as a plugin)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deps_support.server import IndexServer, forbid_internet, running


@pytest.fixture(autouse=True)
def _no_internet(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail any test that resolves a host other than loopback (network-marked tests excepted)."""
    if request.node.get_closest_marker("network"):
        yield
        return
    attempts = forbid_internet(monkeypatch)
    yield
    assert attempts == [], f"a test tried to reach {attempts}"


@pytest.fixture
def server() -> Iterator[IndexServer]:
    """A PEP 691 index on 127.0.0.1 serving the recorded PyPI pages."""
    yield from running(IndexServer())
