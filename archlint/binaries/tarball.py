"""Tarballs: `docker save` (image layout with layer tars inside) and `docker export` (a flat
filesystem), streamed member by member, nested layers included, never unpacked to disk.

Each stream (the file, and every layer tar inside it) is decompressed here (gzip, bzip2, xz) and
read by tarfile in stream mode ("r|"), strictly forward, so memory stays bounded whatever the
size: a member's first bytes are sniffed, ELF members are handed out as forward-buffered
sources, layer tars are opened as nested streams, and small JSON members that look like an image
config record the image's platform. Big members are streamed past, never held.

Hostile headers are refused before tarfile reads them: tarfile reads a GNU long name or a PAX
header whole (a 3 GiB one cost 6-9 GB), follows chains of them by recursion and accepts negative
sizes, so `_BoundedTarInfo` caps each extended header's size, the headers in a row and the PAX
state kept between members, and the stream itself refuses to let one header (with its extended
headers and sparse maps) consume more than `MAX_HEADER_BYTES`. Caps on the data: members, bytes
decompressed from all streams together, and each compressed stream's compression ratio, checked
continuously as bytes are decompressed (a stream is a bomb only once it is both big and highly
compressed: a 200 MiB zero-filled file in a real layer is not one). A layer that is a bomb or
corrupt is reported and skipped; the scan goes on with the next member of the outer tar.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO, cast

from archlint.binaries.interface import ContainerReader, LimitExceeded, Limits, Malformed, Member, StreamSource

_SNIFF = 512
_ZSTD = b"\x28\xb5\x2f\xfd"
MAX_HEADER_BYTES = 1024 * 1024  # one member's headers: GNU long names, PAX records, sparse maps
MAX_EXTENDED_IN_A_ROW = 16  # real writers put at most a PAX header and a long name/link before a member
_SLACK = 64 * 1024  # tarfile reads ahead in records of 10 KiB
_EXTENDED = frozenset(
    {tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE}
)
_NAMES = {tarfile.GNUTYPE_LONGNAME: "GNU long-name", tarfile.GNUTYPE_LONGLINK: "GNU long-link",
          tarfile.XGLTYPE: "PAX global"}  # fmt: skip
# What tarfile and the decompressors raise on bad bytes (ValueError: a PAX number past
# CPython's digit limit; UnicodeError: undecodable names).
_READ_ERRORS = (
    tarfile.TarError, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError, UnicodeError, OverflowError,
)  # fmt: skip


def _members(n: int) -> str:
    return f"{n} member{'' if n == 1 else 's'}"


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.3g} {unit}"
    return f"{n} bytes"


class _BadHeader(Exception):
    """Raised inside tarfile's header parsing; deliberately not a tarfile.HeaderError, which
    tarfile would turn into a silent end of the archive."""


class _BoundedTarInfo(tarfile.TarInfo):
    """TarInfo with caps. tarfile documents `_proc_member` as the hook for subclasses."""

    @classmethod
    def frombuf(cls, buf: bytes | bytearray, encoding: str, errors: str) -> Any:
        try:
            return super().frombuf(buf, encoding, errors)
        except tarfile.HeaderError as e:
            if len(buf) != tarfile.BLOCKSIZE or not any(buf):
                raise  # the end of the archive (a zero block, or no more data): tarfile's business
            raise _BadHeader(f"invalid tar header ({e})") from None  # hidden or damaged data

    def _proc_member(self, tf: Any) -> Any:  # tarfile documents this hook for subclasses
        extended = self.type in _EXTENDED
        if extended:
            what = _NAMES.get(self.type, "PAX")
            if self.size > MAX_HEADER_BYTES:
                raise _BadHeader(f"{what} header of {_size(self.size)} (at most {_size(MAX_HEADER_BYTES)} is read)")
            run = getattr(tf, "_archlint_run", 0) + 1
            if run > MAX_EXTENDED_IN_A_ROW:
                raise _BadHeader(f"more than {MAX_EXTENDED_IN_A_ROW} extended headers in a row")
            tf._archlint_run = run
        try:
            info = super()._proc_member(tf)  # type: ignore[misc]
        finally:
            if extended:
                tf._archlint_run -= 1
        if info.size < 0:
            raise _BadHeader(f"member {info.name[:200]!r} declares a negative size ({info.size})")
        if sum(len(k) + len(str(v)) for k, v in tf.pax_headers.items()) > MAX_HEADER_BYTES:
            raise _BadHeader(f"PAX global headers hold more than {_size(MAX_HEADER_BYTES)}")
        return info


class _Counting:
    """Counts the bytes a compressed stream consumes from below."""

    def __init__(self, raw: BinaryIO | _Prefixed) -> None:
        self._raw = raw
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.count += len(data)
        return data


class _StreamBomb(LimitExceeded):
    def __init__(self, message: str, stream: _Meter) -> None:
        super().__init__(message)
        self.stream = stream


class _Meter:
    """The tar bytes of one stream, as tarfile reads them: enforces the compression-ratio cap of
    this stream, the total of all streams, and the header budget while a header is parsed."""

    def __init__(self, inner: Any, below: _Counting | None, owner: TarReader, label: str) -> None:
        self._inner = inner
        self._below = below  # None: an uncompressed stream
        self._owner = owner
        self.label = label
        self.pos = 0
        self.header_end: int | None = None
        self._empty = 0

    def read(self, n: int = -1) -> bytes:
        data: bytes = self._inner.read(n)
        if not data and n:
            # tarfile skips a member by reading forward block by block without looking for the end:
            # a member that declares 10^29 bytes (a PAX size, a base-256 size field) in a tiny file
            # would keep it reading nothing for ever.
            self._empty += 1
            if self._empty > 64:
                raise _BadHeader("the data ends long before the sizes its headers declare")
        self.pos += len(data)
        owner, lim = self._owner, self._owner.limits
        owner.streamed += len(data)
        if owner.streamed > owner.budget:
            if owner.budget == lim.max_tar_bytes:
                raise LimitExceeded(f"more than {lim.max_tar_bytes >> 30} GiB uncompressed")
            raise LimitExceeded(
                f"more than {_size(owner.budget)} uncompressed from a {_size(owner.size or 0)} file, all layers "
                f"together (compression ratio above {lim.max_tar_total_ratio}, tar bombs)"
            )
        if self.header_end is not None and self.pos > self.header_end:
            raise _BadHeader(f"a member's headers run past {_size(MAX_HEADER_BYTES)}")
        below = self._below
        if below is not None and self.pos > lim.tar_ratio_floor and self.pos > lim.max_tar_ratio * max(below.count, 1):
            raise _StreamBomb(
                f"{self.label}: {self.pos >> 20} MiB uncompressed from {below.count >> 10} KiB "
                f"(compression ratio above {lim.max_tar_ratio}, a tar bomb)",
                self,
            )
        return data


class _Prefixed:
    """Bytes already sniffed, followed by the rest of the stream."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        self._prefix = prefix
        self._rest = rest

    def read(self, n: int = -1) -> bytes:
        if self._prefix:
            if n < 0:
                out, self._prefix = self._prefix + self._rest.read(), b""
                return out
            out, self._prefix = self._prefix[:n], self._prefix[n:]
            if len(out) < n:
                out += self._rest.read(n - len(out))
            return out
        return self._rest.read(n)


def _is_tar(head: bytes) -> bool:
    ustar = len(head) >= 262 and head[257:262] == b"ustar"
    return ustar or head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00"))


@dataclass
class ImageConfig:
    member: str
    os: str
    architecture: str
    variant: str = ""

    @property
    def platform(self) -> str:
        return f"{self.os}/{self.architecture}" + (f"/{self.variant}" if self.variant else "")


@dataclass
class TarReader(ContainerReader):
    """ELF members of one tarball (and of the layer tars inside it). Streaming: a member is valid
    only until the next one is requested. `configs`, `skipped` (caps: ARCH508) and `problems`
    (damaged layers: ARCH002) fill as the stream is read."""

    fh: BinaryIO
    limits: Limits
    configs: list[ImageConfig] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    size: int | None = None  # of the file, when known: bounds the bytes decompressed from all layers together
    streamed: int = 0  # uncompressed bytes, all levels
    count: int = 0

    @property
    def budget(self) -> int:
        """Bytes all streams together may yield: one bomb layer is skipped at the ratio cap, but
        many of them must not add up to minutes of decompression."""
        lim = self.limits
        if self.size is None:
            return lim.max_tar_bytes
        return min(lim.max_tar_bytes, max(2 * lim.tar_ratio_floor, lim.max_tar_total_ratio * self.size))

    def members(self) -> Iterator[Member]:
        yield from self._walk(self.fh, prefix="", depth=1)

    def _open(self, raw: BinaryIO | _Prefixed, label: str) -> _Meter:
        head = raw.read(6)
        src = _Prefixed(head, raw)  # type: ignore[arg-type]
        if head.startswith(b"\x1f\x8b"):
            below = _Counting(src)
            return _Meter(gzip.GzipFile(fileobj=cast(BinaryIO, below), mode="rb"), below, self, label)
        if head.startswith(b"BZh"):
            below = _Counting(src)
            return _Meter(bz2.BZ2File(cast(BinaryIO, below)), below, self, label)
        if head.startswith(b"\xfd7zXZ\x00"):
            below = _Counting(src)
            return _Meter(lzma.LZMAFile(cast(BinaryIO, below)), below, self, label)
        return _Meter(src, None, self, label)

    def _walk(self, raw: BinaryIO | _Prefixed, prefix: str, depth: int) -> Iterator[Member]:
        """Members of one stream; Malformed names the damage, the caller names the stream."""
        lim = self.limits
        meter = self._open(raw, prefix.removesuffix("!") or "the tarball")
        meter.header_end = MAX_HEADER_BYTES + _SLACK
        try:
            tf = tarfile.open(fileobj=meter, mode="r|", tarinfo=_BoundedTarInfo)  # type: ignore[call-overload]
        except _BadHeader as e:
            raise Malformed(str(e)) from None
        except _READ_ERRORS as e:
            raise Malformed(f"not a readable tar stream: {e}") from None
        while True:
            meter.header_end = tf.offset + MAX_HEADER_BYTES + _SLACK
            try:
                info = tf.next()
            except _BadHeader as e:
                raise Malformed(f"{e} (after {_members(self.count)})") from None
            except _READ_ERRORS as e:
                raise Malformed(f"corrupt tar data after {_members(self.count)}: {e}") from None
            meter.header_end = None
            if info is None:
                break
            tf.members.clear()  # stream mode keeps every header otherwise
            self.count += 1
            if self.count > lim.max_tar_members:
                raise LimitExceeded(f"more than {lim.max_tar_members} members")
            if not info.isreg() or info.size < 52:
                continue
            name = prefix + info.name.removeprefix("./")
            try:
                f = tf.extractfile(info)
                if f is None:
                    continue
                head = f.read(_SNIFF)
            except _READ_ERRORS as e:
                raise Malformed(f"{name}: {e}") from None
            if head.startswith(b"\x7fELF"):
                yield Member(name, info.size, _TarMemberSource(f, info.size, lim.max_deep_read, head))
            elif head[:1] == b"{" and info.size <= lim.max_config_json:
                try:
                    self._config(name, head + f.read(info.size - len(head)))
                except _READ_ERRORS as e:
                    raise Malformed(f"{name}: {e}") from None
            elif head[:4] == _ZSTD:
                self.skipped.append(f"{name}: zstd-compressed layer (not streamable here)")
            elif _is_tar(head):
                if depth >= lim.max_tar_depth:
                    self.skipped.append(f"{name}: a tar nested more than {lim.max_tar_depth} deep")
                    continue
                yield from self._layer(f, head, name, depth)

    def _layer(self, f: IO[bytes], head: bytes, name: str, depth: int) -> Iterator[Member]:
        """A tar inside the tar: a bomb or damage in it is reported and the outer scan goes on."""
        try:
            yield from self._walk(_Prefixed(head, f), prefix=f"{name}!", depth=depth + 1)
        except _StreamBomb as e:
            if e.stream.label != name:
                raise  # the outer stream is the bomb
            self.skipped.append(str(e))  # "name: N MiB uncompressed from ..."
        except Malformed as e:
            self.problems.append(f"{name}: {e}")

    def _config(self, name: str, data: bytes) -> None:
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return
        if isinstance(doc, dict) and isinstance(doc.get("architecture"), str) and isinstance(doc.get("rootfs"), dict):
            self.configs.append(
                ImageConfig(name, str(doc.get("os", "")), doc["architecture"], str(doc.get("variant", "") or ""))
            )


class _TarMemberSource(StreamSource):
    def pread(self, offset: int, n: int) -> bytes:
        try:
            return super().pread(offset, n)
        except (*_READ_ERRORS, _BadHeader) as e:
            raise Malformed(f"corrupt data: {e}") from None
