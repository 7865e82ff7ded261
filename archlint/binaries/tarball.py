"""Tarballs: `docker save` (image layout with layer tars inside) and `docker export` (a flat
filesystem), streamed member by member, nested layers included, never unpacked to disk.

tarfile's stream mode ("r|*") reads strictly forward, so memory stays bounded whatever the size:
a member's first bytes are sniffed, ELF members are handed out as forward-buffered sources, layer
tars are opened as nested streams, and small JSON members that look like an image config record
the image's platform. Caps: members, uncompressed bytes (all levels together), compression ratio
of each compressed stream, and nesting depth.
"""

from __future__ import annotations

import json
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, BinaryIO

from archlint.binaries.interface import ContainerReader, LimitExceeded, Limits, Malformed, Member, StreamSource

_SNIFF = 512
_ZSTD = b"\x28\xb5\x2f\xfd"


class _Counting:
    """Counts the bytes a (possibly compressed) tar stream consumes from below."""

    def __init__(self, raw: BinaryIO | _Prefixed) -> None:
        self._raw = raw
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.count += len(data)
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
    only until the next one is requested. `configs` and `skipped` fill as the stream is read."""

    fh: BinaryIO
    limits: Limits
    configs: list[ImageConfig] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    streamed: int = 0  # uncompressed bytes, all levels
    count: int = 0

    def members(self) -> Iterator[Member]:
        yield from self._walk(self.fh, prefix="", depth=1)

    def _walk(self, raw: BinaryIO | _Prefixed, prefix: str, depth: int) -> Iterator[Member]:
        lim = self.limits
        counting = _Counting(raw)
        try:
            tf = tarfile.open(fileobj=counting, mode="r|*")  # type: ignore[call-overload]
        except (tarfile.TarError, zlib.error, EOFError, OSError) as e:
            raise Malformed(f"{prefix or 'tarball'}: not a readable tar stream: {e}") from None
        last = 0
        while True:
            try:
                info = tf.next()
            except (tarfile.TarError, zlib.error, EOFError, OSError) as e:
                raise Malformed(f"{prefix}corrupt tar data after {self.count} members: {e}") from None
            if info is None:
                break
            tf.members.clear()  # stream mode keeps every header otherwise
            self.count += 1
            if self.count > lim.max_tar_members:
                raise LimitExceeded(f"more than {lim.max_tar_members} members")
            self.streamed += max(tf.offset - last, 0)
            last = tf.offset
            if self.streamed > lim.max_tar_bytes:
                raise LimitExceeded(f"more than {lim.max_tar_bytes >> 30} GiB uncompressed")
            if tf.offset > lim.ratio_floor and tf.offset > lim.max_tar_ratio * max(counting.count, 1):
                raise LimitExceeded(
                    f"{prefix or 'the tarball'}: {tf.offset >> 20} MiB uncompressed from {counting.count >> 10} KiB "
                    f"(compression ratio above {lim.max_tar_ratio}, a tar bomb)"
                )
            if not info.isreg() or info.size < 52:
                continue
            name = prefix + info.name.removeprefix("./")
            try:
                f = tf.extractfile(info)
                if f is None:
                    continue
                head = f.read(_SNIFF)
            except (tarfile.TarError, zlib.error, EOFError, OSError) as e:
                raise Malformed(f"{name}: {e}") from None
            if head.startswith(b"\x7fELF"):
                yield Member(name, info.size, _TarMemberSource(f, info.size, lim.max_deep_read, head))
            elif head[:1] == b"{" and info.size <= lim.max_config_json:
                self._config(name, head + f.read(info.size - len(head)))
            elif head[:4] == _ZSTD:
                self.skipped.append(f"{name}: zstd-compressed layer (not streamable here)")
            elif _is_tar(head):
                if depth >= lim.max_tar_depth:
                    self.skipped.append(f"{name}: a tar nested more than {lim.max_tar_depth} deep")
                    continue
                yield from self._walk(_Prefixed(head, f), prefix=f"{name}!", depth=depth + 1)

    def _config(self, name: str, data: bytes) -> None:
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return
        if isinstance(doc, dict) and isinstance(doc.get("architecture"), str) and isinstance(doc.get("rootfs"), dict):
            self.configs.append(
                ImageConfig(name, str(doc.get("os", "")), doc["architecture"], str(doc.get("variant", "") or ""))
            )


class _TarMemberSource(StreamSource):
    def pread(self, offset: int, n: int) -> bytes:
        try:
            return super().pread(offset, n)
        except (tarfile.TarError, zlib.error, EOFError) as e:
            raise Malformed(f"corrupt data: {e}") from None
