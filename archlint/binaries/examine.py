"""One binary, whatever holds it: header always, details only when they matter."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from archlint.binaries import elf
from archlint.binaries.interface import LimitExceeded, Limits, Malformed, Source
from archlint.binaries.kb import X86Library, x86_library
from archlint.binaries.relocatable import inspect_relocatable


@dataclass
class Examined:
    header: elf.ElfHeader | None  # None: not even the header could be read (see problems)
    details: elf.ElfDetails = field(default_factory=elf.ElfDetails)
    problems: list[str] = field(default_factory=list)  # parse errors (ARCH002)
    skipped: list[str] = field(default_factory=list)  # caps hit (ARCH508)
    x86_libs: list[tuple[str, X86Library]] = field(default_factory=list)  # DT_NEEDED matches

    @property
    def family(self) -> str | None:
        return self.header.family if self.header else None

    @functools.cached_property
    def description(self) -> str:
        return self.describe()

    def describe(self) -> str:
        if self.header is None:
            return "unreadable ELF file"
        text = self.header.describe()
        if self.header.type == elf.ET_DYN and self.details.interp:
            text = text.replace("shared object", "executable (PIE)")
        return text


def examine(src: Source, limits: Limits, head: bytes | None = None, deep: bool = True) -> Examined:
    """Read the 64-byte header; read further only for x86 files when `deep` (relocatable x86
    objects through their section table). Never raises for bad data."""
    try:
        if head is None or len(head) < elf.HEADER_BYTES:
            head = src.pread(0, elf.HEADER_BYTES)
        header = elf.parse_header(head, src.size)
    except Malformed as e:
        return Examined(None, problems=[str(e)])
    except LimitExceeded as e:
        return Examined(None, skipped=[str(e)])
    ex = Examined(header, problems=header.table_problems(limits))
    if header.family != elf.X86 or not deep or ex.problems:
        return ex  # a broken header table: nothing further can be trusted, and the problem is reported
    if header.type == elf.ET_REL:
        ex.details = inspect_relocatable(src, header, limits)
    else:
        ex.details = elf.inspect(src, header, limits, checked=True)
    ex.problems += ex.details.problems
    ex.skipped += ex.details.skipped
    for name in ex.details.needed:
        lib = x86_library(name)
        if lib is not None:
            ex.x86_libs.append((name, lib))
    return ex
