"""Wheels: platform tags from the file name, ELF members straight from the zip.

Nothing is extracted: a member's first bytes are decompressed to sniff the ELF magic, and x86
members are decompressed only as far as their dynamic section (capped). Declared sizes, member
counts, compression ratios and overlapping entries are checked before any member is opened, so a
zip bomb is a finding, not a hang.
"""

from __future__ import annotations

import itertools
import os
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, BinaryIO

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from archlint.binaries.interface import ContainerReader, LimitExceeded, Limits, Malformed, Member, StreamSource

X86_ARCHES = frozenset({"x86_64", "i686", "i386"})
ARM64_ARCHES = frozenset({"aarch64"})
_LINUX_ARCHES = ("x86_64", "i686", "i386", "aarch64", "armv7l", "armv6l", "ppc64le", "ppc64", "s390x", "riscv64",
                 "loongarch64")  # fmt: skip
# Members never worth sniffing for the ELF magic.
_SKIP_SUFFIXES = frozenset(
    ".py .pyi .pyc .pyx .pxd .pxi .typed .txt .md .rst .json .toml .cfg .ini .yaml .yml .h .hpp .c .cc .cpp .html "
    ".css .js .png .jpg .svg .csv .pem .mo .po .cmake .pc .proto .npy .npz .pkl .gz .zip".split()
)
_DIST_INFO_FILES = frozenset({"METADATA", "RECORD", "WHEEL", "LICENSE", "COPYING", "NOTICE", "AUTHORS", "INSTALLER"})


@dataclass(frozen=True)
class WheelName:
    name: str  # PEP 503 normalised
    version: str
    linux_arches: frozenset[str]  # "x86_64", "aarch64", ... from linux/manylinux/musllinux tags
    pure: bool  # a platform tag "any"
    platforms: frozenset[str]

    @property
    def x86(self) -> bool:
        return bool(self.linux_arches & X86_ARCHES)

    @property
    def arm64(self) -> bool:
        return bool(self.linux_arches & ARM64_ARCHES)


def parse_name(filename: str) -> WheelName | None:
    try:
        name, version, _build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return None
    platforms = frozenset(t.platform for t in tags)
    arches = set()
    for plat in platforms:
        if plat.startswith(("linux_", "manylinux", "musllinux")):
            arch = next((a for a in _LINUX_ARCHES if plat.endswith("_" + a)), None)
            if arch:
                arches.add(arch)
    return WheelName(canonicalize_name(name), str(version), frozenset(arches), "any" in platforms, platforms)


def may_be_binary(member: str) -> bool:
    base = member.rsplit("/", 1)[-1]
    if not base or base in _DIST_INFO_FILES or base.startswith(("LICENSE", "COPYING")):
        return False
    return os.path.splitext(base)[1].lower() not in _SKIP_SUFFIXES


def _eocd_entries(fh: BinaryIO, size: int) -> int | None:
    """The member count the end-of-central-directory record declares (zip64 aware)."""
    tail_len = min(size, 65536 + 22)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    (total,) = struct.unpack_from("<H", tail, at + 10)
    if total != 0xFFFF:
        return int(total)
    loc = at - 20
    if loc >= 0 and tail[loc : loc + 4] == b"PK\x06\x07":
        (z64_off,) = struct.unpack_from("<Q", tail, loc + 8)
        if z64_off + 56 <= size:
            fh.seek(z64_off)
            rec = fh.read(56)
            if rec[:4] == b"PK\x06\x06":
                return int(struct.unpack_from("<Q", rec, 32)[0])
    return None


class WheelReader(ContainerReader):
    """ELF members of one wheel. Members are valid until the next one is requested."""

    def __init__(self, fh: BinaryIO, size: int, limits: Limits) -> None:
        self._fh = fh
        self._size = size
        self._limits = limits
        self.problems: list[str] = []  # members that cannot be read (ARCH002); the others still are

    def _infos(self) -> list[zipfile.ZipInfo]:
        lim = self._limits
        declared = _eocd_entries(self._fh, self._size)
        if declared is not None and declared > lim.max_zip_members:
            raise LimitExceeded(f"{declared} members (more than {lim.max_zip_members})")
        try:
            zf = zipfile.ZipFile(self._fh)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError) as e:
            raise Malformed(f"not a readable zip: {e}") from None  # NotImplementedError: "zip file version 6.4"
        self._zf = zf
        infos = zf.infolist()
        if len(infos) > lim.max_zip_members:
            raise LimitExceeded(f"{len(infos)} members (more than {lim.max_zip_members})")
        total = sum(i.file_size for i in infos)
        if total > lim.max_zip_total:
            raise LimitExceeded(
                f"members declare {total >> 20} MiB uncompressed (more than {lim.max_zip_total >> 20} MiB)"
            )
        for i in infos:
            if i.file_size > lim.ratio_floor and i.file_size > lim.max_zip_ratio * max(i.compress_size, 1):
                ratio = i.file_size // max(i.compress_size, 1)
                raise LimitExceeded(
                    f"member {i.filename} declares {i.file_size >> 20} MiB from {i.compress_size >> 10} KiB "
                    f"(compression ratio {ratio}, more than {lim.max_zip_ratio})"
                )
        # Overlapping entries (many central-directory records sharing one local file) are a bomb.
        by_offset = sorted(infos, key=lambda i: i.header_offset)
        for a, b in itertools.pairwise(by_offset):
            if b.header_offset < a.header_offset + 30 + a.compress_size:
                raise LimitExceeded(f"members {a.filename} and {b.filename} overlap in the file (a zip bomb)")
        return infos

    def members(self) -> Iterator[Member]:
        infos = self._infos()
        cap = self._limits.max_deep_read
        for info in infos:
            if info.is_dir() or info.file_size < 52 or not may_be_binary(info.filename):
                continue
            if info.flag_bits & 0x1:  # pip cannot install it either: zipfile wants a password
                self.problems.append(f"member {info.filename} is encrypted: not read")
                continue
            try:
                stream = self._zf.open(info)
                head = stream.read(64)
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, OSError, EOFError, ValueError) as e:
                raise Malformed(f"member {info.filename}: {e}") from None
            if not head.startswith(b"\x7fELF"):
                stream.close()
                continue
            src = _GuardedStreamSource(stream, info.file_size, cap, head, reopen=self._opener(info))
            yield Member(info.filename, info.file_size, src)
            stream.close()

    def _opener(self, info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
        return lambda: self._zf.open(info)


class _GuardedStreamSource(StreamSource):
    """Decompression errors in the middle of a member become Malformed."""

    def pread(self, offset: int, n: int) -> bytes:
        try:
            return super().pread(offset, n)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as e:
            raise Malformed(f"corrupt compressed data: {e}") from None
