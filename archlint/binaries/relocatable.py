"""Relocatable objects (`.o`, static-archive members) through pyelftools' section table.

Objects have no program headers, so the GNU property note that carries the x86-64 ISA level
(`gcc -mneeded`) is found by section. The section count is capped before pyelftools sees the file,
and every pyelftools error becomes a problem on the result rather than an exception.
"""

from __future__ import annotations

import io
import struct
from typing import IO, cast

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import NoteSection

from archlint.binaries.elf import ElfDetails, ElfHeader
from archlint.binaries.interface import LimitExceeded, Limits, Malformed, Source


class SourceIO(io.RawIOBase):
    """A seekable read-only file object over a bounded `Source` (what pyelftools wants). It
    serves at most `budget` bytes in at most `budget // 16` reads: pyelftools reads names 64
    bytes at a time until a NUL, so a run of non-NUL bytes must end somewhere."""

    def __init__(self, src: Source, budget: int = 1 << 62) -> None:
        self._src = src
        self._pos = 0
        self._budget = budget
        self._calls = budget // 16

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._src.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        self._calls -= 1
        if self._calls < 0 or len(b) > self._budget:
            raise LimitExceeded("the section table and its strings take more reading than the cap allows")
        data = self._src.pread(self._pos, len(b))
        self._budget -= len(data)
        n = len(data)
        b[:n] = data
        self._pos += n
        return n


SHDR0_SIZE = {32: (0x14, "I"), 64: (0x20, "Q")}  # offset and format of sh_size in section header 0


def section_count(src: Source, h: ElfHeader) -> int:
    """e_shnum, or the real count from section 0's sh_size when e_shnum is 0 and a table exists
    (ELF extended numbering, for objects with 0xff00 sections or more: pyelftools follows it)."""
    if h.shnum or not h.shoff:
        return h.shnum
    off, fmt = SHDR0_SIZE[h.bits]
    raw = src.pread(h.shoff + off, struct.calcsize(fmt))
    if len(raw) < struct.calcsize(fmt):
        return 0
    return int(struct.unpack(h.fmt + fmt, raw)[0])


def inspect_relocatable(src: Source, h: ElfHeader, limits: Limits) -> ElfDetails:
    d = ElfDetails()
    shnum = section_count(src, h)
    if shnum > limits.max_section_headers:
        extended = " (counted in section 0: extended numbering)" if shnum != h.shnum else ""
        d.skipped.append(f"{shnum} section headers{extended} (more than {limits.max_section_headers})")
        return d
    if h.table_problems(limits):
        return d  # reported by the caller from the header alone
    # What a well-formed object within the caps needs: its section headers, their names and the
    # notes; the rest of the file is never read.
    budget = limits.max_section_headers * (max(h.shentsize, 64) + 4096) + 16 * limits.max_note_bytes
    try:
        elffile = ELFFile(cast(IO[bytes], SourceIO(src, budget)))
        for section in elffile.iter_sections():
            if not isinstance(section, NoteSection) or section.name != ".note.gnu.property":
                continue
            if section["sh_size"] > limits.max_note_bytes:
                d.skipped.append(f"note section of {section['sh_size']} bytes")
                continue
            for note in section.iter_notes():
                if note["n_type"] != "NT_GNU_PROPERTY_TYPE_0":
                    continue
                for prop in note["n_desc"]:
                    if prop["pr_type"] == "GNU_PROPERTY_X86_ISA_1_NEEDED" and isinstance(prop["pr_data"], int):
                        d.isa_needed = (d.isa_needed or 0) | prop["pr_data"]
    except LimitExceeded as e:
        d.skipped.append(str(e))
    except (ELFError, Malformed, struct.error, ValueError, KeyError, TypeError) as e:
        d.problems.append(f"section table: {e}")
    except Exception as e:  # construct's StreamError/ConstError and friends on hostile bytes
        d.problems.append(f"section table: {type(e).__name__}: {e}")
    return d
