"""The PEP 691 client and its disk cache against a local index serving recorded PyPI pages."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from deps_support.server import IndexServer, closed_port

from archlint.deps.index.cache import HttpCache, freshness
from archlint.deps.index.interface import BadIndexResponse, IndexUnreachable, Offline, OfflineIndex, ProjectNotFound
from archlint.deps.index.simple_json import SimpleJsonIndex
from archlint.deps.index.urls import PYPI_SIMPLE, index_urls, redact


def client(urls: list[str], cache_dir: Path | None, timeout: float = 5.0) -> SimpleJsonIndex:
    return SimpleJsonIndex(urls, HttpCache(cache_dir) if cache_dir else None, timeout=timeout)


def test_fetches_and_parses_a_real_page(server: IndexServer, tmp_path: Path) -> None:
    p = client([server.url], tmp_path).project("NumPy")
    assert p.name == "numpy"
    assert "1.23.2" in p.releases and "2.4.6" in p.releases
    assert any(f.filename.endswith("cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl")
               for f in p.releases["1.23.2"])  # fmt: skip
    assert all(f.yanked for f in p.releases["2.4.0"])
    assert all(f.sha256 and len(f.sha256) == 64 for f in p.releases["1.23.2"])
    (seen,) = server.pages("numpy")
    assert seen.headers["Accept"] == "application/vnd.pypi.simple.v1+json"


def test_second_run_is_served_from_the_disk_cache(server: IndexServer, tmp_path: Path) -> None:
    client([server.url], tmp_path).project("pyyaml")
    again = client([server.url], tmp_path)
    p = again.project("pyyaml")
    assert "6.0.1" in p.releases
    assert len(server.pages("pyyaml")) == 1
    assert again.stats == {"requests": 0, "cache_hits": 1, "revalidated": 0}


def test_stale_entries_are_revalidated_with_the_etag(server: IndexServer, tmp_path: Path) -> None:
    server.cache_control = "max-age=0"
    client([server.url], tmp_path).project("docopt")
    again = client([server.url], tmp_path)
    assert "0.6.2" in again.project("docopt").releases
    first, second = server.pages("docopt")
    assert "If-None-Match" not in first.headers
    assert second.headers["If-None-Match"].startswith('"')
    assert again.stats["revalidated"] == 1


def test_no_store_and_no_cache_dir_always_fetch(server: IndexServer, tmp_path: Path) -> None:
    client([server.url], None).project("docopt")
    client([server.url], None).project("docopt")
    server.cache_control = "no-store"
    client([server.url], tmp_path).project("requests")
    client([server.url], tmp_path).project("requests")
    assert len(server.pages("docopt")) == 2 and len(server.pages("requests")) == 2


def test_a_corrupt_cache_entry_is_a_miss(server: IndexServer, tmp_path: Path) -> None:
    client([server.url], tmp_path).project("docopt")
    for f in tmp_path.rglob("*.marshal"):
        f.write_bytes(b"\x00garbage")
    assert "0.6.2" in client([server.url], tmp_path).project("docopt").releases
    assert len(server.pages("docopt")) == 2


@pytest.mark.parametrize(
    ("fault", "error", "text"),
    [
        ("500", BadIndexResponse, "HTTP 500"),
        ("404", ProjectNotFound, "was not found on"),
        ("html", BadIndexResponse, "HTML"),
        ("garbage", BadIndexResponse, "invalid JSON"),
        ("wrong-type", BadIndexResponse, "Content-Type"),
    ],
)
def test_bad_answers_become_clear_errors(
    server: IndexServer, tmp_path: Path, fault: str, error: type[Exception], text: str
) -> None:
    server.faults["docopt"] = fault
    with pytest.raises(error, match=text):
        client([server.url], tmp_path).project("docopt")
    assert not list(tmp_path.rglob("*.marshal"))  # errors are never cached


def test_timeout_and_refused_connections(server: IndexServer) -> None:
    server.faults["docopt"] = "slow"
    server.slow_seconds = 2.0
    start = time.monotonic()
    with pytest.raises(IndexUnreachable, match=r"timed out after 0\.3s"):
        client([server.url], None, timeout=0.3).project("docopt")
    assert time.monotonic() - start < 1.5
    with pytest.raises(IndexUnreachable, match="cannot connect"):
        client([f"http://127.0.0.1:{closed_port()}/simple/"], None).project("docopt")


def test_an_unreachable_index_is_not_asked_again(server: IndexServer) -> None:
    for name in ("numpy", "pyyaml", "orjson", "docopt"):
        server.faults[name] = "slow"
    server.slow_seconds = 2.0
    idx = client([server.url], None, timeout=0.3)
    idx.workers = 1
    start = time.monotonic()
    got = idx.projects(["numpy", "pyyaml", "orjson", "docopt"])
    assert time.monotonic() - start < 1.0  # one timeout, not four
    assert all(isinstance(e, IndexUnreachable) and "timed out" in str(e) for e in got.values())
    assert len(server.pages()) == 1


def test_extra_index_fills_in_when_the_primary_lacks_a_project(server: IndexServer) -> None:
    idx = client([f"http://127.0.0.1:{closed_port()}/simple/", server.url], None)
    assert "0.6.2" in idx.project("docopt").releases  # the primary is down, the extra answers
    with pytest.raises(ProjectNotFound):
        client([server.url], None).project("no-such-project")


def test_credentials_are_sent_but_never_shown(server: IndexServer, tmp_path: Path) -> None:
    url = server.url.replace("http://", "http://alice:s3cret@")
    client([url], None).project("docopt")
    (seen,) = server.pages("docopt")
    assert seen.headers["Authorization"] == "Basic " + base64.b64encode(b"alice:s3cret").decode()
    server.faults["requests"] = "500"
    with pytest.raises(BadIndexResponse) as e:
        client([url], tmp_path).project("requests")
    assert "s3cret" not in str(e.value) and "alice" not in str(e.value) and "***@" in str(e.value)
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert b"s3cret" not in f.read_bytes()


def test_netrc_credentials(server: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login bob password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    client([server.url], None).project("docopt")
    (seen,) = server.pages("docopt")
    assert seen.headers["Authorization"] == "Basic " + base64.b64encode(b"bob:hunter2").decode()


def test_many_projects_in_flight(server: IndexServer) -> None:
    names = ["numpy", "pyyaml", "orjson", "cryptography", "requests", "docopt", "missing-one"]
    got = client([server.url], None).projects(names)
    assert set(got) == set(names)
    assert isinstance(got["missing-one"], ProjectNotFound)
    assert all(not isinstance(got[n], Exception) for n in names[:-1])


def test_offline_index_never_answers() -> None:
    assert isinstance(OfflineIndex().projects(["numpy"])["numpy"], Offline)


def test_index_url_order_and_environment() -> None:
    env = {"PIP_INDEX_URL": "https://mirror/simple", "PIP_EXTRA_INDEX_URL": "https://a/simple https://b/simple/"}
    assert index_urls(None, [], [], env) == ["https://mirror/simple/", "https://a/simple/", "https://b/simple/"]
    assert index_urls("https://cfg/simple", [], ["https://file/simple"], env)[:2] == [
        "https://cfg/simple/",
        "https://file/simple/",
    ]
    assert index_urls(None, [], [], {"UV_INDEX_URL": "https://uv/simple"}) == ["https://uv/simple/"]
    assert index_urls(None, [], [], {}) == [PYPI_SIMPLE]
    # A lockfile saying "from pypi.org" does not bring PyPI back when a mirror is configured.
    assert index_urls("https://mirror/simple", [], ["https://pypi.org/simple"], {}) == ["https://mirror/simple/"]
    assert index_urls(None, [], ["https://pypi.org/simple"], {}) == [PYPI_SIMPLE]
    assert (
        redact("see https://user:tok@host/simple and http://tok@h/") == "see https://***@host/simple and http://***@h/"
    )


def test_freshness_rules() -> None:
    assert freshness({"Cache-Control": "max-age=600", "Age": "100"})[0] == 500
    assert freshness({"Cache-Control": "no-store"})[2] is False
    assert freshness({"Cache-Control": "max-age=60, no-cache"})[1] is True
    exp = freshness({"Date": "Thu, 01 Jan 2026 00:00:00 GMT", "Expires": "Thu, 01 Jan 2026 00:05:00 GMT"})
    assert exp[0] == 300
    assert freshness({}, default_ttl=42)[0] == 42


def test_host_of_keeps_the_port_and_drops_credentials():
    from archlint.deps.index.urls import host_of

    assert host_of("http://user:secret@127.0.0.1:8080/simple/?x=1") == "http://127.0.0.1:8080/simple/"
    assert host_of("https://[::1]:8443/simple/") == "https://[::1]:8443/simple/"
