"""ELF headers and the few details that matter for arm64 readiness, read with bounded preads.

The 64-byte header answers machine, class, endianness and type for every file. Only x86 (or odd)
files are read further, through their program headers exactly as the loader does: PT_INTERP,
PT_DYNAMIC (DT_NEEDED, DT_SONAME via DT_STRTAB mapped through PT_LOAD) and GNU property notes
(the x86-64 ISA level). Program headers rather than the section table: the section table sits at
the end of the file (a full decompression for a zip member) and may be stripped; the loader never
reads it. Every count, offset and size comes from the file and is checked before use.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import NamedTuple

from archlint.binaries.interface import LimitExceeded, Limits, Malformed, Source

MAGIC = b"\x7fELF"
HEADER_BYTES = 64
FIRST_READ = 4096  # the header and, in practice, the program headers, interpreter and notes

X86 = "x86"
ARM64 = "arm64"
ARM32 = "arm32"
OTHER = "other"

EM_386, EM_IAMCU, EM_ARM, EM_X86_64, EM_AARCH64 = 3, 6, 40, 62, 183
_FAMILY = {EM_386: X86, EM_IAMCU: X86, EM_X86_64: X86, EM_AARCH64: ARM64, EM_ARM: ARM32}
_SHORT = {
    EM_386: "i386", EM_IAMCU: "Intel MCU", EM_X86_64: "x86-64", EM_AARCH64: "aarch64", EM_ARM: "arm",
    2: "sparc", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390", 43: "sparcv9", 50: "ia64", 243: "riscv",
    258: "loongarch",
}  # fmt: skip
_TYPES = {0: "untyped file", 1: "relocatable object", 2: "executable", 3: "shared object", 4: "core dump"}
ET_REL, ET_EXEC, ET_DYN = 1, 2, 3

PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE = 1, 2, 3, 4
PT_GNU_PROPERTY = 0x6474E553
DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_SONAME = 0, 1, 5, 10, 14
NT_GNU_PROPERTY_TYPE_0 = 5
GNU_PROPERTY_X86_ISA_1_NEEDED = 0xC0008002
ISA_LEVELS = ((1 << 3, "x86-64-v4"), (1 << 2, "x86-64-v3"), (1 << 1, "x86-64-v2"), (1 << 0, "x86-64-baseline"))
_DT_WANTED = frozenset({DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_SONAME})
MAX_NAME = 4096  # longest DT_NEEDED / interpreter string read


def machine_name(machine: int) -> str:
    short = _SHORT.get(machine)
    if short:
        return short
    # pyelftools' names for the rest (18 ms to import: only a rare machine pays it)
    from elftools.elf.descriptions import describe_e_machine
    from elftools.elf.enums import ENUM_E_MACHINE

    enum = {v: k for k, v in ENUM_E_MACHINE.items() if isinstance(v, int)}.get(machine)
    return describe_e_machine(enum) if enum else f"unknown machine {machine}"


def isa_level(bitmap: int | None) -> str | None:
    """The highest x86-64 micro-architecture level a GNU_PROPERTY_X86_ISA_1_NEEDED bitmap requires."""
    if not bitmap:
        return None
    return next((name for bit, name in ISA_LEVELS if bitmap & bit), None)


class ElfHeader(NamedTuple):  # a NamedTuple: built once per file, and frozen dataclasses are slow to build
    bits: int  # 32 | 64
    little: bool
    type: int
    machine: int
    phoff: int
    phentsize: int
    phnum: int
    shoff: int
    shentsize: int
    shnum: int
    size: int  # of the whole file or member

    @property
    def family(self) -> str:
        return _FAMILY.get(self.machine, OTHER)

    @property
    def arch(self) -> str:
        return machine_name(self.machine)

    @property
    def fmt(self) -> str:
        return "<" if self.little else ">"

    def describe(self) -> str:
        kind = _TYPES.get(self.type, f"type {self.type:#x} file")
        return f"ELF {self.bits}-bit {'LSB' if self.little else 'MSB'} {kind}, {self.arch}"

    def table_problems(self, limits: Limits) -> list[str]:
        """Header tables that lie outside the file or are implausibly large (hostile or truncated)."""
        out = []
        if self.phnum:
            want = 56 if self.bits == 64 else 32
            if self.phentsize != want:
                out.append(f"program header entry size {self.phentsize} (expected {want})")
            elif self.phnum >= 0xFFFF or self.phnum > limits.max_phnum:
                out.append(f"{self.phnum} program headers (more than {limits.max_phnum})")
            elif self.phoff + self.phnum * self.phentsize > self.size:
                out.append(
                    f"program header table at offset {self.phoff} runs past the end of the file ({self.size} bytes)"
                )
        if self.shnum and self.shoff:
            if self.shoff + self.shnum * max(self.shentsize, 1) > self.size:
                out.append(
                    f"section header table ({self.shnum} entries at offset {self.shoff}) runs past the end of the "
                    f"file ({self.size} bytes)"
                )
            elif self.shnum > 0xFF00:
                out.append(f"{self.shnum} section headers")
        elif self.shoff > self.size:
            out.append(f"section header offset {self.shoff} is past the end of the file")
        return out


_H32 = struct.Struct("HHIIIIIHHHHHH")
_H64 = struct.Struct("HHIQQQIHHHHHH")


def parse_header(head: bytes, size: int) -> ElfHeader:
    """Decode the ELF header from the first bytes of a file; raises Malformed."""
    if len(head) < 16 or not head.startswith(MAGIC):
        raise Malformed("not an ELF file (bad magic)")
    ei_class, ei_data = head[4], head[5]
    if ei_class not in (1, 2):
        raise Malformed(f"invalid ELF class {ei_class} in e_ident")
    if ei_data not in (1, 2):
        raise Malformed(f"invalid ELF data encoding {ei_data} in e_ident")
    bits = 64 if ei_class == 2 else 32
    st = _H64 if bits == 64 else _H32
    if len(head) < 16 + st.size:
        raise Malformed(f"truncated ELF header ({len(head)} bytes, need {16 + st.size})")
    fmt = "<" if ei_data == 1 else ">"
    e_type, e_machine, _ver, _entry, phoff, shoff, _flags, _ehsize, phentsize, phnum, shentsize, shnum, _ = (
        struct.unpack_from(fmt + st.format, head, 16)
    )
    return ElfHeader(bits, ei_data == 1, e_type, e_machine, phoff, phentsize, phnum, shoff, shentsize, shnum, size)


@dataclass
class ElfDetails:
    needed: list[str] = field(default_factory=list)
    soname: str | None = None
    interp: str | None = None
    isa_needed: int | None = None  # GNU_PROPERTY_X86_ISA_1_NEEDED bitmap
    problems: list[str] = field(default_factory=list)  # malformations met while reading (parse errors)
    skipped: list[str] = field(default_factory=list)  # what a cap kept us from reading

    @property
    def isa_level(self) -> str | None:
        return isa_level(self.isa_needed)


class _Segment(NamedTuple):
    type: int
    offset: int
    vaddr: int
    filesz: int


# (format, field indexes of p_type, p_offset, p_vaddr, p_filesz) per (bits, little-endian).
_PHDR = {
    (64, True): (struct.Struct("<IIQQQQQQ"), (0, 2, 3, 5)),
    (64, False): (struct.Struct(">IIQQQQQQ"), (0, 2, 3, 5)),
    (32, True): (struct.Struct("<IIIIIIII"), (0, 1, 2, 4)),
    (32, False): (struct.Struct(">IIIIIIII"), (0, 1, 2, 4)),
}
_DYN = {
    (64, True): struct.Struct("<qQ"),
    (64, False): struct.Struct(">qQ"),
    (32, True): struct.Struct("<iI"),
    (32, False): struct.Struct(">iI"),
}


def _segments(src: Source, h: ElfHeader) -> list[_Segment]:
    st, (t, o, v, f) = _PHDR[(h.bits, h.little)]
    data = src.pread(h.phoff, h.phnum * h.phentsize)
    if len(data) < h.phnum * h.phentsize:
        raise Malformed(f"program header table at offset {h.phoff} is truncated")
    return [_Segment(r[t], r[o], r[v], r[f]) for r in st.iter_unpack(data[: h.phnum * st.size])]


def _vaddr_to_offset(loads: list[_Segment], vaddr: int) -> int | None:
    for s in loads:
        if s.vaddr <= vaddr < s.vaddr + s.filesz:
            return vaddr - s.vaddr + s.offset
    return None


def _cstring(src: Source, offset: int, what: str) -> str:
    raw = src.pread(offset, 256)
    end = raw.find(b"\0")
    if end < 0 and len(raw) == 256:
        raw = src.pread(offset, MAX_NAME)
        end = raw.find(b"\0")
    if end < 0:
        raise Malformed(f"{what} at offset {offset} is not NUL-terminated within {MAX_NAME} bytes")
    return raw[:end].decode("utf-8", errors="replace")


def gnu_isa_needed(notes: bytes, little: bool, bits: int) -> int | None:
    """GNU_PROPERTY_X86_ISA_1_NEEDED from the bytes of a note segment/section, if present."""
    fmt = "<" if little else ">"
    align = 8 if bits == 64 else 4
    pos, found = 0, None
    while pos + 12 <= len(notes):
        namesz, descsz, ntype = struct.unpack_from(fmt + "III", notes, pos)
        name_end = pos + 12 + namesz
        desc = pos + 12 + ((namesz + 3) & ~3)
        if name_end > len(notes) or desc + descsz > len(notes):
            raise Malformed("note entry runs past the end of its segment")
        name = notes[pos + 12 : name_end]
        if ntype == NT_GNU_PROPERTY_TYPE_0 and name == b"GNU\0":
            p, end = desc, desc + descsz
            while p + 8 <= end:
                pr_type, pr_datasz = struct.unpack_from(fmt + "II", notes, p)
                if p + 8 + pr_datasz > end:
                    raise Malformed("GNU property runs past the end of its note")
                if pr_type == GNU_PROPERTY_X86_ISA_1_NEEDED and pr_datasz >= 4:
                    (bitmap,) = struct.unpack_from(fmt + "I", notes, p + 8)
                    found = (found or 0) | bitmap
                p += 8 + ((pr_datasz + align - 1) & ~(align - 1))
        # GNU property notes are 8-aligned in 64-bit files; other notes 4-aligned.
        step_align = align if ntype == NT_GNU_PROPERTY_TYPE_0 else 4
        pos = (desc + descsz + step_align - 1) & ~(step_align - 1)
    return found


def inspect(src: Source, h: ElfHeader, limits: Limits, checked: bool = False) -> ElfDetails:
    """Interpreter, DT_NEEDED/DT_SONAME and the ISA level, through the program headers.

    Never raises for bad data: malformations land in `problems`, caps in `skipped`."""
    d = ElfDetails()
    if not h.phnum or (not checked and h.table_problems(limits)):
        return d  # no program headers (an object file) or an unusable table: nothing the loader would read
    try:
        size = h.size
        loads: list[_Segment] = []
        notes: list[_Segment] = []
        props: list[_Segment] = []
        interp = dyn = None
        for s in _segments(src, h):  # one pass: this runs for every x86 file
            if s.offset + s.filesz > size:
                d.problems.append(
                    f"segment type {s.type:#x} at offset {s.offset}+{s.filesz} runs past the end of the file"
                )
            elif s.type == PT_LOAD:
                loads.append(s)
            elif s.type == PT_DYNAMIC:
                dyn = dyn or s
            elif s.type == PT_NOTE:
                notes.append(s)
            elif s.type == PT_GNU_PROPERTY:
                props.append(s)
            elif s.type == PT_INTERP:
                interp = s
        if interp is not None:
            d.interp = _cstring(src, interp.offset, "program interpreter")
        for s in props or notes:  # PT_GNU_PROPERTY holds exactly the property note, when present
            if s.filesz > limits.max_note_bytes:
                d.skipped.append(f"note segment of {s.filesz} bytes")
                continue
            bitmap = gnu_isa_needed(src.pread(s.offset, s.filesz), h.little, h.bits)
            if bitmap is not None:
                d.isa_needed = (d.isa_needed or 0) | bitmap
        if dyn is not None:
            _dynamic(src, h, dyn, loads, limits, d)
    except LimitExceeded as e:
        d.skipped.append(str(e))
    except Malformed as e:
        d.problems.append(str(e))
    except struct.error as e:  # a short read inside a table that claimed to fit
        d.problems.append(f"truncated data: {e}")
    return d


def _dynamic(src: Source, h: ElfHeader, dyn: _Segment, loads: list[_Segment], limits: Limits, d: ElfDetails) -> None:
    ent = _DYN[(h.bits, h.little)]
    count = min(dyn.filesz // ent.size, limits.max_dyn_entries)
    data = src.pread(dyn.offset, count * ent.size)
    needed: list[int] = []
    strtab = strsz = soname = None
    for tag, val in ent.iter_unpack(memoryview(data)[: len(data) - len(data) % ent.size]):
        if tag not in _DT_WANTED:
            continue
        if tag == DT_NULL:
            break
        if tag == DT_NEEDED:
            needed.append(val)
        elif tag == DT_STRTAB:
            strtab = val
        elif tag == DT_STRSZ:
            strsz = val
        elif tag == DT_SONAME:
            soname = val
    if not needed and soname is None:
        return
    if strtab is None:
        d.problems.append("dynamic section has DT_NEEDED entries but no DT_STRTAB")
        return
    base = _vaddr_to_offset(loads, strtab)
    if base is None:
        # Prelinked or odd files may store a file offset; accept it when it points inside the file.
        base = strtab if strtab < h.size else None
    if base is None:
        d.problems.append(f"DT_STRTAB address {strtab:#x} is outside every loadable segment")
        return
    if len(needed) > limits.max_needed:
        d.skipped.append(f"{len(needed) - limits.max_needed} DT_NEEDED entries past the first {limits.max_needed}")
        needed = needed[: limits.max_needed]
    # The names sit close together in .dynstr: one read covers them all in the usual case.
    lo, hi = min(needed, default=0), max(needed, default=0)
    block = src.pread(base + lo, hi - lo + 256) if needed and hi - lo < 65536 else b""
    for off in needed:
        if strsz is not None and off >= strsz:
            d.problems.append(f"DT_NEEDED string offset {off} is past DT_STRSZ {strsz}")
            continue
        if base + off >= h.size:
            d.problems.append(f"DT_NEEDED string at offset {base + off} is past the end of the file")
            continue
        end = block.find(b"\0", off - lo) if block else -1
        if end >= 0:
            d.needed.append(block[off - lo : end].decode("utf-8", errors="replace"))
        else:
            d.needed.append(_cstring(src, base + off, "DT_NEEDED name"))
    if soname is not None and (strsz is None or soname < strsz) and base + soname < h.size:
        d.soname = _cstring(src, base + soname, "DT_SONAME")
