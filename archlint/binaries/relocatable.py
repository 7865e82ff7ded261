"""Relocatable objects (`.o`, static-archive members): the ISA level from their section table.

Objects have no program headers, so the GNU property note that carries the x86-64 ISA level
(`gcc -mneeded`) is found by section. A direct reader (three reads: the section table, the
section names, the note) does it: pyelftools builds an object per section and per field, which
took 1.2 s for the 147 members of libpython3.11.a against 0.01 s here. pyelftools stays the oracle
in the tests (tests/binaries_elf_test.py compares both on every object the fixtures and the
interpreter's own static library hold). The section count is capped before anything is read, and
every malformation becomes a problem on the result rather than an exception.
"""

from __future__ import annotations

import struct

from archlint.binaries.elf import ElfDetails, ElfHeader
from archlint.binaries.interface import LimitExceeded, Limits, Malformed, Source

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


SHT_NOTE = 7
NT_GNU_PROPERTY_TYPE_0 = 5
GNU_PROPERTY_X86_ISA_1_NEEDED = 0xC0008002
SHN_XINDEX = 0xFFFF
MAX_SHSTRTAB = 1 << 20
# Section header layout per class: (struct format, size) of name, type, offset, size, link fields.
_SHDR = {64: ("IIQQQQIIQQ", 64), 32: ("IIIIIIIIII", 40)}
_SH_NAME, _SH_TYPE, _SH_OFFSET, _SH_SIZE, _SH_LINK = 0, 1, 4, 5, 6


def _align(n: int, a: int) -> int:
    return (n + a - 1) & ~(a - 1)


def _isa_from_notes(data: bytes, h: ElfHeader) -> int | None:
    """GNU_PROPERTY_X86_ISA_1_NEEDED bits of a .note.gnu.property section's bytes."""
    fmt, pos, bits = h.fmt, 0, None
    prop_align = 8 if h.bits == 64 else 4
    while pos + 12 <= len(data):
        namesz, descsz, ntype = struct.unpack_from(fmt + "III", data, pos)
        name_at = pos + 12
        desc_at = name_at + _align(namesz, 4)
        end = desc_at + descsz
        if end > len(data):
            raise Malformed("a note runs past the end of its section")
        if ntype == NT_GNU_PROPERTY_TYPE_0 and data[name_at : name_at + namesz].rstrip(b"\0") == b"GNU":
            p = desc_at
            while p + 8 <= end:
                pr_type, pr_datasz = struct.unpack_from(fmt + "II", data, p)
                if p + 8 + pr_datasz > end:
                    raise Malformed("a GNU property runs past the end of its note")
                if pr_type == GNU_PROPERTY_X86_ISA_1_NEEDED and pr_datasz == 4:
                    bits = (bits or 0) | struct.unpack_from(fmt + "I", data, p + 8)[0]
                p += 8 + _align(pr_datasz, prop_align)
        pos = _align(end, prop_align)
    return bits


def inspect_relocatable(src: Source, h: ElfHeader, limits: Limits) -> ElfDetails:
    d = ElfDetails()
    shnum = section_count(src, h)
    if shnum > limits.max_section_headers:
        extended = " (counted in section 0: extended numbering)" if shnum != h.shnum else ""
        d.skipped.append(f"{shnum} section headers{extended} (more than {limits.max_section_headers})")
        return d
    if h.table_problems(limits) or not shnum or not h.shoff:
        return d  # reported by the caller from the header alone
    fmt, size = _SHDR[h.bits]
    if h.shentsize != size:
        d.problems.append(f"section table: entry size {h.shentsize} (expected {size})")
        return d
    try:
        table = src.pread(h.shoff, shnum * size)
        if len(table) < shnum * size:
            raise Malformed("the section table runs past the end of the file")
        shdrs = [struct.unpack_from(h.fmt + fmt, table, i * size) for i in range(shnum)]
        raw = src.pread(0x3E if h.bits == 64 else 0x32, 2)
        if len(raw) < 2:
            raise Malformed("truncated ELF header")
        strndx = struct.unpack(h.fmt + "H", raw)[0]
        if strndx == SHN_XINDEX:
            strndx = shdrs[0][_SH_LINK]  # extended numbering: the index lives in section 0
        notes = [s for s in shdrs if s[_SH_TYPE] == SHT_NOTE]
        if not notes:
            return d
        if not 0 < strndx < shnum:
            raise Malformed(f"section name table index {strndx} out of range")
        names_hdr = shdrs[strndx]
        if names_hdr[_SH_SIZE] > MAX_SHSTRTAB:
            d.skipped.append(f"section name table of {names_hdr[_SH_SIZE]} bytes")
            return d
        names = src.pread(names_hdr[_SH_OFFSET], names_hdr[_SH_SIZE])
        for sh in notes:
            end = names.find(b"\0", sh[_SH_NAME])
            if names[sh[_SH_NAME] : end if end >= 0 else len(names)] != b".note.gnu.property":
                continue
            if sh[_SH_SIZE] > limits.max_note_bytes:
                d.skipped.append(f"note section of {sh[_SH_SIZE]} bytes")
                continue
            data = src.pread(sh[_SH_OFFSET], sh[_SH_SIZE])
            if len(data) < sh[_SH_SIZE]:
                raise Malformed("a note section runs past the end of the file")
            bits = _isa_from_notes(data, h)
            if bits is not None:
                d.isa_needed = (d.isa_needed or 0) | bits
    except LimitExceeded as e:
        d.skipped.append(str(e))
    except (Malformed, struct.error, ValueError) as e:
        d.problems.append(f"section table: {e}")
    return d
