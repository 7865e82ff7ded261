"""Core metadata from recorded real wheels served locally: range requests (the tail read, or the
whole central directory through zipfile), PEP 658, and what goes wrong on real hosts."""

from __future__ import annotations

import hashlib
import ssl
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from deps_support.server import IndexServer, RecordedFile, running

from archlint.deps.index import metadata as md
from archlint.deps.index.interface import DistFile, Offline
from archlint.deps.index.metadata import MetadataCache, MetadataSource, MetadataUnavailable, parse_metadata


@pytest.fixture(scope="module")
def files_server() -> Iterator[IndexServer]:
    yield from running(IndexServer())


def dist(server: IndexServer, rec: RecordedFile) -> DistFile:
    return DistFile(rec.filename, url=f"http://127.0.0.1:{server.port}/files/p/{rec.filename}", size=rec.size)


def wheels(server: IndexServer) -> list[RecordedFile]:
    return [r for r in server.files.values() if r.filename.endswith(".whl")]


def whole_directory(rec: RecordedFile) -> bool:
    """Whether the recording holds the wheel's whole central directory (zipfile needs all of it)."""
    _, tail = rec.segments[-1]
    eocd = tail.rfind(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack("<LL", tail[eocd + 12 : eocd + 20])
    return any(o <= cd_offset and cd_offset + cd_size <= o + len(d) for o, d in rec.segments)


def test_the_tail_read_agrees_with_zipfile(files_server: IndexServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the metadata member's record lies in the fetched tail, archlint reads it without zipfile;
    stdlib zipfile (the oracle) must give the same metadata for every real wheel whose whole central
    directory the recording holds, and both must equal what PEP 658 serves."""
    quick = MetadataSource(None)
    got = {r.filename: quick.fetch(dist(files_server, r)) for r in wheels(files_server)}
    in_tail = [r for r in wheels(files_server)
               if md._tail_member(r.segments[-1][1], r.segments[-1][0], r.size, r.filename, False)]  # fmt: skip
    for r in wheels(files_server):
        assert parse_metadata(r.metadata or b"", "range requests") == got[r.filename]
    monkeypatch.setattr(md, "_tail_member", lambda *a: None)
    slow = MetadataSource(None)
    compared = [r for r in wheels(files_server) if whole_directory(r)]
    for r in compared:
        assert slow.fetch(dist(files_server, r)) == got[r.filename], r.filename
    assert len(got) >= 50 and len(compared) >= 20 and len(in_tail) >= 50


def test_pep_658_metadata_whose_hash_does_not_match_is_not_trusted(tmp_path: Path) -> None:
    for server in running(IndexServer(core_metadata="advertise")):
        rec = server.files["fastapi-0.165.0-py3-none-any.whl"]
        server.file_faults[rec.filename] = "tampered-metadata"
        real = hashlib.sha256(rec.metadata or b"").hexdigest()  # what the index promises
        f = DistFile(rec.filename, url=f"http://127.0.0.1:{server.port}/files/p/{rec.filename}", core_metadata=real)
        got = MetadataSource(None).fetch(f)
        assert got.name == "fastapi" and got.how == "range requests"  # fell back to the wheel itself
        assert server.file_requests()[0].path.endswith(".metadata")


def test_a_dropped_connection_and_a_missing_file(files_server: IndexServer) -> None:
    rec = next(r for r in wheels(files_server) if r.filename.startswith("numpy-"))
    files_server.file_faults[rec.filename] = "cut"
    try:
        with pytest.raises(MetadataUnavailable):
            MetadataSource(None, timeout=5).fetch(dist(files_server, rec))
    finally:
        files_server.file_faults.clear()
    name = "nothing-1.0-py3-none-any.whl"
    with pytest.raises(MetadataUnavailable, match="HTTP 404"):
        MetadataSource(None).fetch(DistFile(name, url=f"http://127.0.0.1:{files_server.port}/files/p/{name}"))


def test_offline_answers_from_the_cache_only(files_server: IndexServer, tmp_path: Path) -> None:
    rec = next(r for r in wheels(files_server) if r.filename.startswith("pydantic-"))
    cache = MetadataCache(tmp_path)
    with pytest.raises(Offline):
        MetadataSource(cache, offline=True).fetch(dist(files_server, rec))
    online = MetadataSource(cache).fetch(dist(files_server, rec))
    offline = MetadataSource(cache, offline=True)
    assert offline.fetch(dist(files_server, rec)).requires_dist == online.requires_dist
    assert offline.stats["requests"] == 0


def test_sdist_member_lists(files_server: IndexServer, tmp_path: Path) -> None:
    src = MetadataSource(MetadataCache(tmp_path))
    docopt, lev = (files_server.files[n] for n in ("docopt-0.6.2.tar.gz", "python-Levenshtein-0.12.2.tar.gz"))
    assert src.sdist_native(dist(files_server, docopt)) is False
    assert src.sdist_native(dist(files_server, lev)) is True  # Levenshtein/_levenshtein.c
    assert MetadataSource(MetadataCache(tmp_path), offline=True).sdist_native(dist(files_server, lev)) is True
    assert MetadataSource(None, offline=True).sdist_native(dist(files_server, lev)) is None


def test_metadata_that_is_not_metadata() -> None:
    with pytest.raises(MetadataUnavailable, match="no Name or Version"):
        parse_metadata(b"\xff\xfe\x00garbage\n\n", "PEP 658")
    pkg_info = b"Metadata-Version: 2.4\nName: x\nVersion: 1\nDynamic: Requires-Dist\nRequires-Dist: y\n\n"
    with pytest.raises(MetadataUnavailable, match="marks Requires-Dist dynamic"):
        parse_metadata(pkg_info, "sdist PKG-INFO", sdist=True)
    static = parse_metadata(pkg_info.replace(b"Dynamic: Requires-Dist\n", b""), "sdist PKG-INFO", sdist=True)
    assert static.requires_dist == ("y",)


def test_tls_bundle_is_loaded_once_and_still_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With REQUESTS_CA_BUNDLE set, connections share one preloaded context (not a reload each),
    and a server the bundle does not vouch for is still refused."""
    import requests
    from deps_support.tls import https_server

    from archlint.deps.index import sessions

    loads: list[object] = []
    real = ssl.SSLContext.load_verify_locations

    def spy(self: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        loads.append(args)
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", spy)
    with https_server(tmp_path) as (url, ca_file, other_ca):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
        s = sessions.session(2, 4, 10.0, 1 << 20)
        for _ in range(6):
            r = s.get(url, headers={"Connection": "close"})  # a new connection each time
            assert r.status_code == 200
        assert len(loads) == 1
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other_ca))
        with pytest.raises(requests.exceptions.SSLError):
            sessions.session(2, 4, 10.0, 1 << 20).get(url)
