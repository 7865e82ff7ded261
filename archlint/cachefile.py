"""Cache entries on disk that a damaged or planted file cannot turn against a run.

Every cache (package index pages, source-scan results, registry answers, vulnerability answers)
reads and writes its entries here. A read opens the file without following a symlink and without
blocking (a FIFO would wait forever for a writer), accepts only a regular file no larger than the
caller's cap, and checks the length and CRC-32 written in front of the data, so truncation,
garbage or a file of another program is a miss, never an error, and nothing unbounded is read or
decoded (`marshal.loads` of 5 bytes of garbage can ask for gigabytes). CRC-32, not a
cryptographic hash: a warm run checks tens of megabytes of index pages, at several GB/s. The next write replaces the bad
entry. Writes are atomic (a temporary file renamed into place): concurrent runs sharing a cache
see a whole entry or none.

The checksum detects damage, not intent: whoever can write the cache directory can also forge
entries, as with any cache (pip's, ruff's).
"""

from __future__ import annotations

import os
import shutil
import stat
import struct
import zlib
from pathlib import Path

from archlint.atomic import write_atomic

MAGIC = b"archlint-cache\x02"
_SEAL = struct.Struct("<QI")  # data length, CRC-32 of the data
_HEADER = len(MAGIC) + _SEAL.size
_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _seal(data: bytes) -> bytes:
    return MAGIC + _SEAL.pack(len(data), zlib.crc32(data))


def read_file(path: Path, max_bytes: int) -> bytes | None:
    """The bytes of a regular file of at most `max_bytes`; None for anything else or any error."""
    try:
        fd = os.open(path, _FLAGS)
    except (OSError, ValueError):  # missing, a symlink (ELOOP), unreadable; NUL in the path
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
            return None
        chunks = []
        left = max_bytes + 1  # the size can change under us: never read more than the cap
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        return data if len(data) <= max_bytes else None
    except OSError:
        return None
    finally:
        os.close(fd)


def read_entry(path: Path, max_bytes: int) -> bytes | None:
    """The data `write_entry` stored at `path`, or None (a miss) when the file is not such an entry."""
    blob = read_file(path, max_bytes + _HEADER)
    if blob is None or len(blob) < _HEADER or not blob.startswith(MAGIC):
        return None
    data = blob[_HEADER:]
    return data if blob[:_HEADER] == _seal(data) else None


def write_entry(path: Path, data: bytes) -> bool:
    """Store `data` at `path` atomically (mode 0600), replacing whatever is there; False when the
    cache cannot be written (read-only, full), which only costs speed."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            # A symlink, FIFO, device or directory where an entry belongs can only be debris:
            # remove it (the link itself, never its target) rather than write through it.
            if stat.S_ISDIR(st.st_mode):
                shutil.rmtree(path)
            else:
                os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    try:
        write_atomic(path, _seal(data) + data, private=True)
    except OSError:
        return False
    return True
