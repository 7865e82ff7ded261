"""Core metadata (Requires-Dist, Requires-Python, Provides-Extra) of one distribution file,
without building anything and without downloading whole wheels.

In order: the disk cache (a file's metadata never changes); PEP 658/714 `<url>.metadata` when the
index advertises it (a 404 falls through); else HTTP range requests into the wheel, as pip's
fast-deps and uv do: the zip's tail (end-of-central-directory and central directory), then the
`*.dist-info/METADATA` member's bytes. A file host that ignores `Range` (answers 200) gets a
bounded fallback: a wheel up to NO_RANGE_LIMIT bytes is read whole, anything larger is left
unknown, because reading a 900 MB torch wheel to learn its ten dependencies is never worth it.
An sdist answers only through its PKG-INFO, and only when that declares its dependencies
statically (Metadata-Version 2.2+ without `Dynamic: Requires-Dist`, PEP 643); its head is
streamed, bounded, never built.
"""

from __future__ import annotations

import hashlib
import io
import marshal
import os
import re
import struct
import tarfile
import threading
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from packaging.metadata import parse_email
from packaging.utils import canonicalize_name

from archlint import __version__
from archlint.atomic import write_atomic
from archlint.deps.index.interface import DistFile, IndexServiceError, Offline

if TYPE_CHECKING:
    import requests

TAIL = 64 * 1024  # first range request: the zip's last 64 KiB (EOCD, central directory, often METADATA)
NO_RANGE_LIMIT = 1024 * 1024  # a host without Range support: read a wheel whole up to this size
MAX_CENTRAL_DIRECTORY = 32 * 1024 * 1024  # torch's is ~2 MB
MAX_METADATA = 8 * 1024 * 1024  # uncompressed METADATA / PKG-INFO
MAX_FETCHED = 48 * 1024 * 1024  # all ranges of one file together
MAX_SDIST_HEAD = 8 * 1024 * 1024  # compressed bytes of an sdist streamed to find PKG-INFO
MAX_SDIST_LISTING = 32 * 1024 * 1024  # compressed bytes of an sdist streamed to list its members
# Members that make an sdist native: sources pip hands to a compiler, and native build descriptions.
_NATIVE = re.compile(
    r"\.(c|cc|cpp|cxx|c\+\+|m|mm|pyx|pxd|rs|f|f90|f95|for|cu|s|asm)$|(^|/)(Cargo\.toml|meson\.build|CMakeLists\.txt)$",
    re.IGNORECASE,
)
_FORMAT = 1  # bump when the cached layout changes
# Wheel members that can be native: shared libraries, and executables (no extension, outside
# the metadata); at most MAX_BINARIES_READ are opened, shared libraries and large files first.
_SHARED_LIB = re.compile(r"\.so(?:\.[\d.]+)?$")
_NO_EXTENSION_MIN = 16 * 1024
MAX_BINARIES_READ = 8
_DIST_INFO_METADATA = re.compile(r"^([^/]+)\.dist-info/METADATA$")


class MetadataUnavailable(IndexServiceError):
    """The metadata of one file could not be read; the message says why (no secrets)."""


class MetadataUnknowable(MetadataUnavailable):
    """It will never be read, whatever the network does: the file says nothing usable (an sdist
    whose dependencies come from its build, metadata that does not parse, a malformed archive)."""


@dataclass(frozen=True)
class CoreMetadata:
    name: str
    version: str
    requires_dist: tuple[str, ...]
    requires_python: str | None
    provides_extra: tuple[str, ...]
    how: str  # "PEP 658", "range requests", "whole small wheel", "sdist PKG-INFO", + " (cached)"

    def to_marshal(self) -> bytes:
        return marshal.dumps((_FORMAT, self.name, self.version, self.requires_dist, self.requires_python,
                              self.provides_extra, self.how))  # fmt: skip

    @classmethod
    def from_marshal(cls, data: bytes) -> CoreMetadata | None:
        try:
            fmt, name, version, rd, rp, pe, how = marshal.loads(data)
        except (ValueError, EOFError, TypeError):
            return None
        if fmt != _FORMAT:
            return None
        return cls(name, version, tuple(rd), rp, tuple(pe), how + " (cached)")


def parse_metadata(data: bytes, how: str, sdist: bool = False) -> CoreMetadata:
    """Core metadata from METADATA / PKG-INFO bytes; MetadataUnavailable when it does not parse."""
    head = data.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]  # the headers; the description is not needed
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head.decode("latin-1")
    try:
        raw, _ = parse_email(text)
    except Exception as e:  # the email parser on hostile input: anything is possible
        raise MetadataUnknowable(f"its metadata does not parse ({type(e).__name__})") from None
    name, version = raw.get("name"), raw.get("version")
    if not name or not version:
        raise MetadataUnknowable("its metadata has no Name or Version")
    if sdist:
        mv = raw.get("metadata_version") or "1.0"
        dynamic = {d.lower() for d in raw.get("dynamic") or ()}
        try:
            static = tuple(int(p) for p in mv.split(".")[:2]) >= (2, 2)
        except ValueError:
            static = False
        if not static or "requires-dist" in dynamic:
            why = "marks Requires-Dist dynamic" if static else f"is Metadata-Version {mv}, before PEP 643"
            raise MetadataUnknowable(
                f"only an sdist, whose PKG-INFO {why}: its dependencies come from running its build, which "
                "archlint never does"
            )
    return CoreMetadata(
        name=canonicalize_name(name),
        version=version,
        requires_dist=tuple(raw.get("requires_dist") or ()),
        requires_python=raw.get("requires_python"),
        provides_extra=tuple(raw.get("provides_extra") or ()),
        how=how,
    )


class MetadataCache:
    """Facts about immutable files (their metadata; whether an sdist holds native code), keyed by
    the file's sha256 (else its URL); entries never expire."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, f: DistFile, kind: str = "") -> Path:
        key = hashlib.sha256((kind + (f.sha256 or f.url or f.filename)).encode()).hexdigest()
        return self.directory / key[:2] / f"{key}.marshal"

    def get(self, f: DistFile) -> CoreMetadata | None:
        try:
            return CoreMetadata.from_marshal(self._path(f).read_bytes())
        except OSError:
            return None

    def put(self, f: DistFile, md: CoreMetadata) -> None:
        self._write(self._path(f), md.to_marshal())

    def get_native(self, f: DistFile) -> bool | None:
        try:
            fmt, native = marshal.loads(self._path(f, "native:").read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return None
        return bool(native) if fmt == _FORMAT else None

    def put_native(self, f: DistFile, native: bool) -> None:
        self._write(self._path(f, "native:"), marshal.dumps((_FORMAT, native)))

    def _binaries_path(self, f: DistFile) -> Path:
        # Beside the metadata, not in it: what a wheel carries outlives a metadata cache reset.
        p = self._path(f, "binaries:")
        return self.directory.parent / "binaries-v1" / p.parent.name / p.name

    def get_binaries(self, f: DistFile) -> tuple[tuple[str, str], ...] | None:
        try:
            fmt, found = marshal.loads(self._binaries_path(f).read_bytes())
            return tuple((str(n), str(fam)) for n, fam in found) if fmt == _FORMAT else None
        except (OSError, ValueError, EOFError, TypeError):
            return None

    def put_binaries(self, f: DistFile, found: tuple[tuple[str, str], ...]) -> None:
        self._write(self._binaries_path(f), marshal.dumps((_FORMAT, list(found))))

    def _write(self, path: Path, data: bytes) -> None:
        try:
            write_atomic(path, data, private=True)
        except OSError:
            pass  # a read-only cache only costs speed


class MetadataSource:
    """Fetches core metadata over HTTP (thread-safe); `offline` answers from the cache only."""

    def __init__(
        self, cache: MetadataCache | None, timeout: float = 10.0, workers: int = 16, offline: bool = False
    ) -> None:
        self.cache = cache
        self.timeout = timeout
        self.offline = offline
        self.workers = workers
        self._session: Any = None  # made on the first request: an offline run never imports requests
        self._lock = threading.Lock()
        self._no_range: set[str] = set()  # hosts seen ignoring Range
        self.stats = {"requests": 0, "bytes": 0, "cache_hits": 0}

    @property
    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                from archlint.deps.index import sessions

                # Every request under one total deadline (netio); bodies capped per call below.
                self._session = sessions.session(8, self.workers, self.timeout, MAX_CENTRAL_DIRECTORY + 1024)
                self._session.headers.update({"User-Agent": f"archlint/{__version__}", "Accept-Encoding": "identity"})
            return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def cached(self, f: DistFile) -> CoreMetadata | None:
        """The metadata if the disk cache has it (never the network)."""
        hit = self.cache.get(f) if self.cache is not None else None
        if hit is not None:
            with self._lock:
                self.stats["cache_hits"] += 1
        return hit

    def fetch(self, f: DistFile) -> CoreMetadata:
        """Raises MetadataUnavailable (or Offline) with the reason."""
        if self.cache is not None:
            hit = self.cache.get(f)
            if hit is not None:
                with self._lock:
                    self.stats["cache_hits"] += 1
                return hit
        if self.offline:
            raise Offline(f"offline (--offline): the metadata of {f.filename} is not in the cache")
        if not f.url:
            raise MetadataUnavailable(f"{f.filename}: the index gave no URL for it")
        md = self._fetch(f)
        if self.cache is not None:
            self.cache.put(f, md)
        return md

    def _fetch(self, f: DistFile) -> CoreMetadata:
        assert f.url is not None
        if f.core_metadata is not None:
            data = self._pep658(f.url, f.core_metadata)
            if data is not None:
                return parse_metadata(data, "PEP 658", sdist=not f.filename.endswith(".whl"))
        if f.filename.endswith(".whl"):
            return self._wheel(f)
        if f.filename.endswith((".tar.gz", ".tgz")):
            return self._sdist_tar(f)
        if f.filename.endswith(".zip"):
            return self._zip_member(f, sdist=True)
        raise MetadataUnknowable(f"{f.filename}: an sdist format archlint does not read")

    # -- HTTP ----------------------------------------------------------------------------------

    def _get(
        self, url: str, headers: dict[str, str] | None = None, max_bytes: int | None = None, stream: bool = False
    ) -> requests.Response:
        """The answer, its body read (at most `max_bytes`) under the request's total deadline; with
        `stream`, the body is the caller's to read (the deadline still covers it until close)."""
        import requests

        from archlint.netio import ResponseTooLarge

        with self._lock:
            self.stats["requests"] += 1
        session = self.session
        try:
            return session.request("GET", url, headers=headers or {}, max_bytes=max_bytes, stream_body=stream)
        except requests.Timeout:
            raise MetadataUnavailable(f"{_host(url)}: no complete answer within {self.timeout:g}s") from None
        except ResponseTooLarge:
            raise _Oversized from None
        except requests.RequestException as e:
            raise MetadataUnavailable(f"{_host(url)}: cannot connect ({type(e).__name__})") from None

    def _body(self, resp: requests.Response, limit: int, url: str) -> bytes | None:
        """The body, or None when it is longer than `limit` (the connection is dropped)."""
        import requests

        chunks, size = [], 0
        try:
            for chunk in resp.iter_content(1 << 16):
                size += len(chunk)
                if size > limit:
                    return None
                chunks.append(chunk)
        except requests.RequestException as e:
            raise MetadataUnavailable(f"{_host(url)}: connection broken ({type(e).__name__})") from None
        finally:
            resp.close()
            with self._lock:
                self.stats["bytes"] += size
        return b"".join(chunks)

    def _pep658(self, url: str, digest: str) -> bytes | None:
        try:
            resp = self._get(url + ".metadata", max_bytes=MAX_METADATA + 1)
        except _Oversized:
            raise MetadataUnavailable(f"{_where(url)}.metadata is larger than {MAX_METADATA} bytes") from None
        if resp.status_code != 200:
            resp.close()
            return None  # 404 and friends: the range path still works
        data = self._body(resp, MAX_METADATA, url)
        if data is None:
            raise MetadataUnavailable(f"{_where(url)}.metadata is larger than {MAX_METADATA} bytes")
        if digest and hashlib.sha256(data).hexdigest() != digest.lower():
            return None  # does not match what the index promised: do not trust it
        return data

    def _range(self, url: str, start: int | None, end: int | None) -> tuple[int, bytes, int | None]:
        """(offset, bytes, total size) of bytes=start-end (start None: a suffix of `end` bytes).
        A host that answers 200 is recorded and gets the bounded whole-file read."""
        spec = f"bytes=-{end}" if start is None else f"bytes={start}-{end}"
        want = (end if start is None else end - start + 1) if end is not None else MAX_CENTRAL_DIRECTORY
        try:
            # A host that ignores Range answers the whole file: read it only up to NO_RANGE_LIMIT.
            resp = self._get(url, {"Range": spec}, max_bytes=max(want + 1024, NO_RANGE_LIMIT))
        except _Oversized:
            with self._lock:
                self._no_range.add(_host(url))
            raise MetadataUnavailable(
                f"{_host(url)} ignores HTTP Range requests and the wheel is larger than "
                f"{NO_RANGE_LIMIT // 1024} KiB: not downloaded whole to read its metadata"
            ) from None
        if resp.status_code == 206:
            total = _total(resp.headers.get("Content-Range", ""))
            offset = _first(resp.headers.get("Content-Range", ""))
            data = self._body(resp, want + 1024, url)
            if data is None or offset is None:
                raise MetadataUnavailable(f"{_host(url)}: a malformed answer to a range request")
            return offset, data, total
        if resp.status_code == 200:
            with self._lock:
                self._no_range.add(_host(url))
            data = self._body(resp, NO_RANGE_LIMIT, url)
            if data is None:
                raise MetadataUnavailable(
                    f"{_host(url)} ignores HTTP Range requests and the wheel is larger than "
                    f"{NO_RANGE_LIMIT // 1024} KiB: not downloaded whole to read its metadata"
                )
            return 0, data, len(data)
        if resp.status_code == 416 and start is None:
            resp.close()
            return self._range(url, 0, NO_RANGE_LIMIT - 1)  # a file shorter than the suffix, on a strict host
        resp.close()
        raise MetadataUnavailable(f"{_where(url)}: HTTP {resp.status_code} to a range request")

    # -- wheels and zip sdists -------------------------------------------------------------------

    def _wheel(self, f: DistFile) -> CoreMetadata:
        return self._zip_member(f, sdist=False)

    def _sparse_tail(self, f: DistFile) -> tuple[_Sparse, int, bytes, int | None]:
        """A remote zip as a seekable view holding its last TAIL bytes (end-of-central-directory and,
        usually, the central directory), fetching the rest by range on demand; with the tail's
        offset, bytes and the file's total size (None when the host does not say)."""
        url = f.url
        assert url is not None
        host = _host(url)
        if host in self._no_range and f.size is not None and f.size > NO_RANGE_LIMIT:
            raise MetadataUnavailable(
                f"{host} ignores HTTP Range requests and {f.filename} is {f.size // 1024} KiB: not downloaded"
            )
        offset, data, total = self._range(url, None, TAIL)
        sparse = _Sparse(total or len(data), lambda s, e: self._range(url, s, e)[1])
        sparse.add(offset, data)
        return sparse, offset, data, total

    def _zip_member(self, f: DistFile, sdist: bool) -> CoreMetadata:
        sparse, offset, data, total = self._sparse_tail(f)
        host = _host(f.url or "")
        if total is None:
            raise MetadataUnavailable(f"{host}: the range answer does not give the file's size")
        how = "whole small file (no Range support)" if host in self._no_range else "range requests"
        quick = _tail_member(data, offset, total, f.filename, sdist)
        if quick is not None:
            try:
                return parse_metadata(quick.read(sparse), how, sdist=sdist)
            except (OSError, ValueError, zlib.error):
                pass  # anything odd: let zipfile read it properly
        try:
            zf = zipfile.ZipFile(sparse)
            member = _metadata_member(zf, f.filename, sdist)
            if member.file_size > MAX_METADATA:
                raise MetadataUnknowable(f"{f.filename}: its metadata member is {member.file_size} bytes")
            # One request for the member's local header and data (its extra field may differ from the directory's).
            sparse.prefetch(member.header_offset, 30 + len(member.orig_filename.encode()) + member.compress_size + 1024)
            with zf.open(member) as fh:
                data = fh.read(MAX_METADATA + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, NotImplementedError, OSError, ValueError) as e:
            raise MetadataUnknowable(f"{f.filename}: not a readable zip ({type(e).__name__}: {e})") from None
        return parse_metadata(data, how, sdist=sdist)

    # -- native code in an sdist -----------------------------------------------------------------

    def sdist_native(self, f: DistFile) -> bool | None:
        """Whether an sdist has native code (C, C++, Cython, Rust, Fortran sources or a native build
        file), from its member list: a bounded stream of a tarball, the central directory of a zip.
        None when that cannot be told (offline and not cached, too large, unreadable)."""
        if self.cache is not None:
            hit = self.cache.get_native(f)
            if hit is not None:
                return hit
        if self.offline or not f.url:
            return None
        try:
            names = self._zip_names(f) if f.filename.endswith(".zip") else self._tar_names(f)
        except MetadataUnavailable:
            return None
        except Exception:  # only a wording depends on it: never let an odd archive stop the scan
            if os.environ.get("ARCHLINT_RAISE"):
                raise
            return None
        native = any(_NATIVE.search(n) for n in names)
        if self.cache is not None:
            self.cache.put_native(f, native)
        return native

    def _tar_names(self, f: DistFile) -> list[str]:
        assert f.url is not None
        resp = self._get(f.url, stream=True)
        if resp.status_code != 200:
            resp.close()
            raise MetadataUnavailable(f"{_where(f.url)}: HTTP {resp.status_code}")
        names: list[str] = []
        try:
            with tarfile.open(fileobj=_Bounded(resp, MAX_SDIST_LISTING), mode="r|*") as tar:
                for member in tar:
                    names.append(member.name)
                    if _NATIVE.search(member.name):
                        break  # one native source settles it
        except _TooLong:
            if not any(_NATIVE.search(n) for n in names):
                raise MetadataUnavailable(f"{f.filename}: larger than {MAX_SDIST_LISTING} bytes") from None
        except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
            raise MetadataUnavailable(f"{f.filename}: not a readable tar archive ({type(e).__name__})") from None
        finally:
            resp.close()
        return names

    def _zip_names(self, f: DistFile) -> list[str]:
        sparse = self._sparse_tail(f)[0]
        try:
            return zipfile.ZipFile(sparse).namelist()
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise MetadataUnavailable(f"{f.filename}: not a readable zip ({type(e).__name__})") from None

    # -- native binaries inside a wheel ----------------------------------------------------------

    def wheel_binaries(self, f: DistFile) -> tuple[tuple[str, str], ...] | None:
        """The ELF files a wheel carries, as (member, family): its central directory (one range
        request for the tail), then the first bytes of a few members that can be native (shared
        libraries; large files without an extension, such as bundled executables), inflated just
        far enough for the ELF header. Never the whole wheel. None when it cannot be told."""
        if self.cache is not None:
            hit = self.cache.get_binaries(f)
            if hit is not None:
                return hit
        if self.offline or not f.url or not f.filename.endswith(".whl"):
            return None
        try:
            found = self._binaries(f)
        except MetadataUnknowable:
            found = ()  # a malformed zip stays malformed: say nothing, and do not ask again
        except MetadataUnavailable:
            return None
        except Exception:  # one odd wheel must not stop the scan: unknown
            if os.environ.get("ARCHLINT_RAISE"):
                raise
            return None
        if self.cache is not None:
            self.cache.put_binaries(f, found)
        return found

    def _binaries(self, f: DistFile) -> tuple[tuple[str, str], ...]:
        from archlint.binaries import elf
        from archlint.binaries.interface import Malformed

        sparse = self._sparse_tail(f)[0]
        try:
            zf = zipfile.ZipFile(sparse)
            infos = [i for i in zf.infolist() if _may_be_binary(i)]
        except (zipfile.BadZipFile, ValueError, EOFError) as e:
            raise MetadataUnknowable(f"{f.filename}: not a readable zip ({type(e).__name__})") from None
        infos.sort(key=lambda i: (not _SHARED_LIB.search(i.filename), -i.file_size))
        found: list[tuple[str, str]] = []
        for info in infos[:MAX_BINARIES_READ]:
            try:
                sparse.prefetch(info.header_offset, 30 + len(info.orig_filename.encode()) + 512 + 4096)
                with zf.open(info) as fh:
                    head = fh.read(elf.HEADER_BYTES)
                found.append((info.filename, elf.parse_header(head, info.file_size).family))
            except Malformed:
                continue  # not ELF (a script, a Mach-O or PE library): no Linux architecture
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError, ValueError):
                continue
        return tuple(found)

    # -- tar sdists ------------------------------------------------------------------------------

    def _sdist_tar(self, f: DistFile) -> CoreMetadata:
        url = f.url
        assert url is not None
        resp = self._get(url, stream=True)
        if resp.status_code != 200:
            resp.close()
            raise MetadataUnavailable(f"{_where(url)}: HTTP {resp.status_code}")
        stream = _Bounded(resp, MAX_SDIST_HEAD)
        try:
            with tarfile.open(fileobj=stream, mode="r|*") as tar:
                for member in tar:
                    parts = member.name.strip("/").split("/")
                    if len(parts) == 2 and parts[1] == "PKG-INFO" and member.isfile():
                        if member.size > MAX_METADATA:
                            break
                        fh = tar.extractfile(member)
                        if fh is not None:
                            return parse_metadata(fh.read(), "sdist PKG-INFO", sdist=True)
        except _TooLong:
            raise MetadataUnavailable(
                f"{f.filename}: no PKG-INFO in its first {MAX_SDIST_HEAD // (1024 * 1024)} MiB"
            ) from None
        except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
            raise MetadataUnavailable(f"{f.filename}: not a readable tar archive ({type(e).__name__})") from None
        finally:
            resp.close()
        raise MetadataUnknowable(f"{f.filename}: has no PKG-INFO")


@dataclass(frozen=True)
class _Member:
    """The central-directory record of the metadata member, found in the zip's tail."""

    header_offset: int
    compress_size: int
    file_size: int
    method: int
    crc: int

    def read(self, sparse: _Sparse) -> bytes:
        if self.file_size > MAX_METADATA:
            raise ValueError("metadata member too large")
        sparse.prefetch(self.header_offset, 30 + 1024 + self.compress_size)
        sparse.seek(self.header_offset)
        head = sparse.read(30)
        if len(head) != 30 or head[:4] != b"PK\x03\x04":
            raise ValueError("no local file header where the central directory says")
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        sparse.seek(self.header_offset + 30 + name_len + extra_len)
        raw = sparse.read(self.compress_size)
        data = zlib.decompressobj(-15).decompress(raw, MAX_METADATA + 1) if self.method == 8 else raw
        if len(data) != self.file_size or zlib.crc32(data) != self.crc:
            raise ValueError("metadata member does not match its CRC")
        return data


def _tail_member(tail: bytes, offset: int, total: int, filename: str, sdist: bool) -> _Member | None:
    """The metadata member's record, when it lies in the central directory bytes of the tail fetched
    first. Wheels write *.dist-info last, so it usually does even for large wheels: then neither the
    rest of the central directory is fetched (torch's is ~1 MB) nor every entry parsed. Anything
    unusual (zip64, encryption, another method, a record that does not chain up to the end record)
    returns None, and zipfile reads the archive instead."""
    eocd = tail.rfind(b"PK\x05\x06")
    if eocd < 0 or len(tail) - eocd < 22:
        return None
    _, _, _, _, _, cd_size, cd_offset, comment = struct.unpack("<4s4H2LH", tail[eocd : eocd + 22])
    if cd_offset == 0xFFFFFFFF or cd_size == 0xFFFFFFFF or eocd + 22 + comment != len(tail):
        return None
    cd_end = cd_offset + cd_size
    if cd_end != offset + eocd:
        return None  # not where the end record says: a zip64 archive, or data before the zip
    start = max(cd_offset, offset) - offset
    project = canonicalize_name(filename.split("-", 1)[0])
    pos = tail.rfind(b"PK\x01\x02", start, eocd)
    while pos >= 0:
        rec = tail[pos : pos + 46]
        if len(rec) == 46:
            (_, _, _, flags, method, _, _, crc, csize, usize, nlen, elen, clen, _, _, _, lho) = struct.unpack(
                "<4s6H3L5H2L", rec
            )
            nxt = pos + 46 + nlen + elen + clen
            chained = nxt == eocd or tail[nxt : nxt + 4] == b"PK\x01\x02"
            name = tail[pos + 46 : pos + 46 + nlen].decode("utf-8", "replace")
            if chained and _is_metadata(name, project, sdist):
                if flags & 1 or method not in (0, 8) or 0xFFFFFFFF in (csize, usize, lho):
                    return None
                return _Member(lho, csize, usize, method, crc)
        pos = tail.rfind(b"PK\x01\x02", start, pos)
    return None


def _may_be_binary(info: zipfile.ZipInfo) -> bool:
    name = info.filename
    if name.endswith("/") or info.file_size < 64 or ".dist-info/" in name:
        return False
    if _SHARED_LIB.search(name):
        return True
    base = name.rsplit("/", 1)[-1]
    # An executable (chromedriver, ffmpeg); not LICENSE, README, Makefile, NOTICE...
    return "." not in base and not base[:1].isupper() and info.file_size >= _NO_EXTENSION_MIN


def _is_metadata(name: str, project: str, sdist: bool) -> bool:
    if sdist:
        return name.count("/") == 1 and name.endswith("/PKG-INFO")
    m = _DIST_INFO_METADATA.match(name)
    return m is not None and canonicalize_name(m.group(1).rsplit("-", 1)[0]) == project


def _metadata_member(zf: zipfile.ZipFile, filename: str, sdist: bool) -> zipfile.ZipInfo:
    infos = zf.infolist()
    if sdist:
        found = [i for i in infos if i.filename.count("/") == 1 and i.filename.endswith("/PKG-INFO")]
    else:
        project = canonicalize_name(filename.split("-", 1)[0])
        found = []
        for i in infos:
            m = _DIST_INFO_METADATA.match(i.filename)
            if m and canonicalize_name(m.group(1).rsplit("-", 1)[0]) == project:
                found.append(i)
    if len(found) != 1:
        what = "PKG-INFO" if sdist else "*.dist-info/METADATA"
        raise MetadataUnknowable(f"{filename}: {len(found)} {what} members (expected one)")
    return found[0]


def _host(url: str) -> str:
    """'https://host[:port]', never credentials or paths."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "the file host"
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


def _where(url: str) -> str:
    """'name.whl on https://host'."""
    return f"{urlsplit(url).path.rsplit('/', 1)[-1]} on {_host(url)}"


def _total(content_range: str) -> int | None:
    m = re.match(r"\s*bytes\s+\d+-\d+/(\d+)", content_range)
    return int(m.group(1)) if m else None


def _first(content_range: str) -> int | None:
    m = re.match(r"\s*bytes\s+(\d+)-\d+/", content_range)
    return int(m.group(1)) if m else None


class _Sparse(io.RawIOBase):
    """A read-only, seekable view of a remote file: bytes are fetched by range on first read."""

    MIN_FETCH = 16 * 1024

    def __init__(self, size: int, fetch: Callable[[int, int], bytes]) -> None:
        self.size = size
        self._fetch = fetch
        self._segments: list[tuple[int, bytes]] = []
        self._pos = 0
        self.fetched = 0

    def add(self, offset: int, data: bytes) -> None:
        self._segments.append((offset, data))
        self._segments.sort(key=lambda s: s[0])
        self.fetched += len(data)

    def _covered(self, start: int, end: int) -> bytes | None:
        for off, data in self._segments:
            if off <= start and end <= off + len(data):
                return data[start - off : end - off]
        return None

    def prefetch(self, start: int, length: int) -> None:
        end = min(self.size, start + length)
        if self._covered(start, end) is None:
            self._load(start, end)

    def _load(self, start: int, end: int) -> None:
        # One request for [start, end) (at least MIN_FETCH), less what is already held at either end.
        end = min(self.size, max(end, start + self.MIN_FETCH))
        changed = True
        while changed and start < end:
            changed = False
            for off, data in self._segments:
                stop = off + len(data)
                if off <= start < stop:
                    start, changed = stop, True
                if off < end <= stop:
                    end, changed = off, True
        if self.fetched + (end - start) > MAX_FETCHED:
            raise OSError(f"more than {MAX_FETCHED} bytes of ranges needed")
        if end > start:
            self.add(start, self._fetch(start, end - 1))

    def _read_span(self, start: int, end: int) -> bytes:
        hit = self._covered(start, end)
        if hit is None:
            self._load(start, end)
            hit = self._covered(start, end)
            if hit is None:  # spans several segments: join them
                out = bytearray()
                pos = start
                while pos < end:
                    seg = next(((o, d) for o, d in self._segments if o <= pos < o + len(d)), None)
                    if seg is None:
                        raise OSError("a range answer did not cover what was asked")
                    o, d = seg
                    take = d[pos - o : min(end, o + len(d)) - o]
                    out += take
                    pos += len(take)
                hit = bytes(out)
        return hit

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            n = self.size - self._pos
        end = min(self.size, self._pos + n)
        if end <= self._pos:
            return b""
        data = self._read_span(self._pos, end)
        self._pos = end
        return data

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class _TooLong(Exception):
    pass


class _Oversized(Exception):
    """The answer's body is over the byte cap the request set."""


class _Bounded(io.RawIOBase):
    """A response body as a file that stops after `limit` bytes (a stream for tarfile)."""

    def __init__(self, resp: requests.Response, limit: int) -> None:
        self._it = resp.iter_content(1 << 16)
        self._buf = b""
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        import requests

        if not self._buf:
            try:
                self._buf = next(self._it)
            except StopIteration:
                return 0
            except requests.RequestException as e:
                raise OSError(f"connection broken ({type(e).__name__})") from None
            self._left -= len(self._buf)
            if self._left < 0:
                raise _TooLong
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n
