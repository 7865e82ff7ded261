"""ARCH113: a wheel tagged for any platform that carries x86 binaries (bitsandbytes 0.41.1's
py3-none-any wheel holds its x86-64 CUDA and CPU libraries). Served from the recorded real
index page and the recorded bytes of the real 92 MB wheel: its central directory, METADATA and
the first bytes of the members archlint opens."""

from __future__ import annotations

from pathlib import Path

from deps_support.cli import Cli, check, repo
from deps_support.server import IndexServer, running

from archlint.deps.index.interface import DistFile
from archlint.deps.index.metadata import MetadataCache, MetadataSource

WHEEL = "bitsandbytes-0.41.1-py3-none-any.whl"


def test_x86_libraries_in_a_pure_wheel_block_arm64(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    root = repo(tmp_path, "bitsandbytes==0.41.1\n", server)
    rc, report = check(cli, root)
    (dep,) = [d for d in report["dependencies"] if d["name"] == "bitsandbytes"]
    assert dep["status"] == "unavailable" and dep["suggestion"]["version"] == "0.46.0"
    assert dep["targets"] == {"linux/arm64 cp311": "pure", "linux/amd64 cp311": "pure"}  # pip does install it
    (f,) = [f for f in report["findings"] if f["rule"] == "ARCH113"]
    assert rc == 1 and f["severity"] == "error" and (f["path"], f["line"]) == ("requirements.txt", 1)
    assert WHEEL in f["message"] and "libbitsandbytes_cuda1" in f["message"]
    assert "bitsandbytes 0.46.0 is the first newer release with a linux arm64 wheel" in f["message"]
    # Read through ranges: never the whole wheel.
    assert 0 < server.served_bytes[WHEEL] < 512 * 1024 < 92_000_000

    # A warm run offline answers from the cache, without asking the file host again.
    before = len(server.file_requests(WHEEL))
    rc2, again = check(cli, root, "--offline")
    assert [x["message"] for x in again["findings"] if x["rule"] == "ARCH113"] == [f["message"]]
    assert len(server.file_requests(WHEEL)) == before and rc2 == 1


def test_a_release_with_an_arm64_wheel_is_not_opened(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    # (no tree: nothing else would read the wheel)
    rc, report = check(cli, repo(tmp_path, "bitsandbytes==0.46.0\n", server, "resolve = false\n"))
    assert not [f for f in report["findings"] if f["rule"] == "ARCH113"]
    assert rc == 0 and not server.file_requests()  # a binary wheel for arm64 needs no look inside


def test_a_wheel_that_cannot_be_read_says_nothing(cli: Cli, tmp_path: Path) -> None:
    for server in running(IndexServer(file_faults={WHEEL: "zeros"})):
        rc, report = check(cli, repo(tmp_path, "bitsandbytes==0.41.1\n", server))
        assert not [f for f in report["findings"] if f["rule"] == "ARCH113"]
        (dep,) = [d for d in report["dependencies"] if d["name"] == "bitsandbytes"]
        assert dep["status"] == "ok" and rc == 0  # unknown contents: the tags decide, as before


def test_pure_wheels_without_binaries_cost_one_request(server: IndexServer, tmp_path: Path) -> None:
    rec = server.files["certifi-2026.10.19.post1-py3-none-any.whl"]
    dist = DistFile(filename=rec.filename, url=f"http://127.0.0.1:{server.port}/files/x/{rec.filename}",
                    size=rec.size)  # fmt: skip
    source = MetadataSource(MetadataCache(tmp_path / "md"), timeout=10)
    try:
        assert source.wheel_binaries(dist) == ()
        assert len(server.file_requests(rec.filename)) == 1
        assert source.wheel_binaries(dist) == ()  # cached
        assert len(server.file_requests(rec.filename)) == 1
    finally:
        source.close()
    offline = MetadataSource(None, offline=True)
    assert offline.wheel_binaries(dist) is None  # offline and not cached: unknown, no request


SHA = "b25228c27636367f222232ed4d1e1502eedd2064be215633734fb8ea0c1c65f4"
PATH = "packages/1e/2c/af22cd797fc368a9f098ed03015730e6568b884fe67f9940793d944a4b7b/" + WHEEL


def uv_lock(base: str) -> str:
    return f"""version = 1
requires-python = ">=3.11"

[[package]]
name = "bitsandbytes"
version = "0.41.1"
source = {{ registry = "https://example.invalid/simple" }}
wheels = [
    {{ url = "{base}{PATH}", hash = "sha256:{SHA}", size = 92575845 }},
]
"""


def pylock(base: str) -> str:
    return f"""lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.11"

[[packages]]
name = "bitsandbytes"
version = "0.41.1"
wheels = [{{ url = "{base}{PATH}", size = 92575845, hashes = {{ sha256 = "{SHA}" }} }}]
"""


def test_a_lockfile_wheel_on_the_index_host_is_looked_into(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{server.port}/files/"
    for name, text in (("uv.lock", uv_lock(base)), ("pylock.toml", pylock(base))):
        root = tmp_path / name.split(".")[0]
        root.mkdir()
        (root / name).write_text(text)
        (root / "archlint.toml").write_text(f'index-url = "{server.url}"\nvulnerability-service = "none"\n')
        rc, report = check(cli, root)
        (f,) = [f for f in report["findings"] if f["rule"] == "ARCH113"]
        assert rc == 1 and f["path"] == name and WHEEL in f["message"]
        (dep,) = [d for d in report["dependencies"] if d["name"] == "bitsandbytes"]
        assert dep["status"] == "unavailable"


def test_a_lockfile_url_on_another_host_is_never_fetched(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    # A pull request's lockfile must not make the CI gate fetch from wherever it points.
    for elsewhere in running(IndexServer()):
        (tmp_path / "uv.lock").write_text(uv_lock(f"http://127.0.0.1:{elsewhere.port}/files/"))
        (tmp_path / "archlint.toml").write_text(f'index-url = "{server.url}"\nvulnerability-service = "none"\n')
        rc, report = check(cli, tmp_path)
        assert not elsewhere.seen and not [f for f in report["findings"] if f["rule"] == "ARCH113"]
        assert rc == 0


def _served(data: bytes) -> MetadataSource:
    """A metadata source whose file host is `data` in memory, answering range requests."""
    source = MetadataSource(None, timeout=10)

    def ranged(url: str, start: int | None, end: int | None) -> tuple[int, bytes, int | None]:
        assert end is not None
        lo = max(0, len(data) - end) if start is None else start
        hi = len(data) if start is None else min(len(data), end + 1)
        return lo, data[lo:hi], len(data)

    source._range = ranged  # type: ignore[method-assign]
    return source


def test_hostile_members_are_skipped_and_memory_stays_small(tmp_path: Path) -> None:
    import io
    import tracemalloc
    import zipfile

    from conftest import FIXTURES

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        # 64 MiB of zeros named like a library: deflated to ~64 KiB; only its first bytes are read
        zf.writestr(zipfile.ZipInfo("bomb/libzeros.so"), b"\0" * (64 << 20), zipfile.ZIP_DEFLATED)
        zf.writestr("pkg/libnot_elf.so", b"#!/bin/sh\necho not a library\n" * 10)
        zf.writestr("pkg/README", b"x" * 20000)  # extensionless and capitalised: not opened
        zf.write(FIXTURES / "elf" / "x86_64" / "libhello.so", "pkg/libhello.so")
        zf.writestr("pkg-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n")
    data = bytearray(buf.getvalue())
    source = _served(bytes(data))
    dist = DistFile(filename="pkg-1.0-py3-none-any.whl", url="https://files.example/pkg-1.0-py3-none-any.whl")
    tracemalloc.start()
    try:
        found = source.wheel_binaries(dist)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found == (("pkg/libhello.so", "x86"),)
    assert peak < 8 << 20  # the 64 MiB member was never inflated
    # A wheel cut short (its central directory points past what is there): unknown, not a crash.
    cut = bytes(data[: len(data) // 3]) + bytes(data[-200:])
    assert _served(cut).wheel_binaries(dist) in ((), None)
