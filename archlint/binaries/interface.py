"""What every container reader (static archive, wheel, tarball) offers, and its errors.

A reader yields `Member`s: a name, a declared size and a bounded random-access view of the
bytes, so the ELF reader never needs the whole member in memory or on disk.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Protocol


class BinaryError(Exception):
    """A binary or container that cannot be read as what it claims to be."""


class Malformed(BinaryError):
    """Truncated or corrupt data: reported as a parse error."""


class LimitExceeded(BinaryError):
    """A size, count, depth or compression-ratio cap was hit (a zip/tar bomb, or just huge)."""


@dataclass(frozen=True)
class Limits:
    """Caps that keep memory and time bounded on hostile input. Defaults fit real wheels
    (torch's is ~2 GiB unpacked) and real images; tests lower them."""

    max_deep_read: int = 1024**3  # bytes of one compressed member decompressed to reach its dynamic section
    max_phnum: int = 512  # program headers examined
    max_dyn_entries: int = 8192
    max_needed: int = 512
    max_note_bytes: int = 64 * 1024
    max_section_headers: int = 4096  # relocatable objects are read through their section table
    max_zip_members: int = 100_000
    max_zip_total: int = 8 * 1024**3  # declared uncompressed bytes of a whole wheel
    max_zip_ratio: int = 200  # declared uncompressed/compressed of one big member
    ratio_floor: int = 16 * 1024 * 1024  # members smaller than this are never bombs by ratio
    max_ar_members: int = 100_000
    max_tar_members: int = 1_000_000
    max_tar_bytes: int = 32 * 1024**3  # uncompressed bytes streamed from one tarball, all layers
    max_tar_ratio: int = 200  # uncompressed/compressed bytes of a compressed tar stream, checked continuously
    # A compressed stream is a bomb only past this many uncompressed bytes: a zero-filled file of a
    # few hundred MiB in a real layer compresses ~1000:1, and streaming past it costs well under 1 s.
    tar_ratio_floor: int = 1024**3
    # Uncompressed bytes of all streams together per byte of the file (at least 2 x the floor):
    # real image tarballs expand 2-5x; many bomb layers, each skipped at the floor, stop here.
    max_tar_total_ratio: int = 50
    max_tar_depth: int = 2  # docker save: the outer tar, then one layer tar inside it
    max_config_json: int = 1024 * 1024
    max_evidence: int = 10_000  # evidence records from one container


class Source(Protocol):
    """Bounded random access to the bytes of one file or member."""

    @property
    def size(self) -> int: ...

    def pread(self, offset: int, n: int) -> bytes:
        """Up to `n` bytes at `offset` (fewer at the end); raises LimitExceeded past a cap."""
        ...


class BytesSource:
    def __init__(self, data: bytes) -> None:
        self._data = data

    @property
    def size(self) -> int:
        return len(self._data)

    def pread(self, offset: int, n: int) -> bytes:
        return self._data[offset : offset + n] if offset >= 0 else b""


class FileSource:
    """A file on disk, read with pread. The first read (the 64-byte header) is exactly what is
    asked; a file read further has its first page fetched once, since program headers,
    interpreter and notes nearly always live there: one syscall instead of five."""

    PAGE = 4096

    def __init__(self, fd: int, size: int) -> None:
        self._fd = fd
        self._size = size
        self._page: bytes | None = None

    @property
    def size(self) -> int:
        return self._size

    def pread(self, offset: int, n: int) -> bytes:
        if offset < 0 or offset >= self._size or n <= 0:
            return b""
        end = min(offset + n, self._size)
        if end <= self.PAGE and (self._page is not None or offset > 0):
            if self._page is None:
                self._page = os.pread(self._fd, min(self.PAGE, self._size), 0)
            return self._page[offset:end]
        return os.pread(self._fd, end - offset, offset)


class SliceSource:
    """A window [offset, offset+size) of another source (a static-archive member)."""

    def __init__(self, parent: Source, offset: int, size: int) -> None:
        self._parent = parent
        self._offset = offset
        self._size = size

    @property
    def size(self) -> int:
        return self._size

    def pread(self, offset: int, n: int) -> bytes:
        if offset < 0 or offset >= self._size or n <= 0:
            return b""
        return self._parent.pread(self._offset + offset, min(n, self._size - offset))


class StreamSource:
    """Random access over a forward-only stream (a zip or tar member), in bounded memory.

    The first `keep` bytes are retained (header, program headers, notes, and in practice
    .dynstr); past them the stream is skipped forward without retaining anything but the ranges
    asked for. A read behind the stream position and outside the retained prefix re-opens the
    stream when the container allows it (zip), else raises LimitExceeded (tar). `cap` bounds the
    bytes decompressed to reach any offset: work, not memory."""

    def __init__(
        self,
        stream: IO[bytes],
        size: int,
        cap: int,
        prefix: bytes = b"",
        keep: int = 16 * 1024 * 1024,
        reopen: Callable[[], IO[bytes]] | None = None,
    ) -> None:
        self._stream = stream
        self._size = size
        self._cap = cap
        self._keep = keep
        self._reopen = reopen
        self._buf = bytearray(prefix[:keep])
        self._pos = len(prefix)  # bytes consumed from the stream
        self._tail = bytes(prefix[keep:])  # prefix bytes beyond `keep` (only with a tiny keep)

    @property
    def size(self) -> int:
        return self._size

    def _read(self, n: int) -> bytes:
        data = self._stream.read(n)
        self._pos += len(data)
        return data

    def _fill(self, end: int) -> None:
        while len(self._buf) < end and self._pos == len(self._buf):
            chunk = self._read(max(end - len(self._buf), 64 * 1024))
            if not chunk:
                return
            room = self._keep - len(self._buf)
            self._buf += chunk[:room]
            if len(chunk) > room:  # read past the retained window: the stream is ahead of the buffer now
                self._tail = chunk[room:]
                return

    def pread(self, offset: int, n: int) -> bytes:
        if offset < 0 or n <= 0 or offset >= self._size:
            return b""
        end = min(offset + n, self._size)
        if end > self._cap:
            raise LimitExceeded(f"data at offset {offset} lies beyond the {self._cap >> 20} MiB read cap")
        if end <= self._keep:
            self._fill(end)
            return bytes(self._buf[offset:end])
        self._fill(self._keep)
        behind = self._pos - len(self._tail)  # the first stream offset not yet handed out
        if offset < behind:
            if self._reopen is None:
                raise LimitExceeded(f"data at offset {offset} lies behind the stream and outside the retained window")
            self._stream, self._pos, self._tail = self._reopen(), 0, b""
            behind = 0
        # Skip to `offset` without retaining, then read the range.
        skip = offset - behind
        if self._tail:
            used = min(skip, len(self._tail))
            self._tail, skip = self._tail[used:], skip - used
        while skip > 0:
            chunk = self._read(min(skip, 1024 * 1024))
            if not chunk:
                return b""
            skip -= len(chunk)
        want = end - offset
        out, self._tail = self._tail[:want], self._tail[want:]
        while len(out) < want:
            chunk = self._read(want - len(out))
            if not chunk:
                break
            out += chunk
        return bytes(out)


@dataclass(frozen=True)
class Member:
    name: str  # path inside the container (for nested containers: "layer.tar!usr/lib/x.so")
    size: int  # declared size
    source: Source


class ContainerReader(abc.ABC):
    """Yields the members of one container that may be ELF files (by name or magic)."""

    @abc.abstractmethod
    def members(self) -> Iterator[Member]:
        """Raises Malformed or LimitExceeded; members already yielded stay valid findings."""
