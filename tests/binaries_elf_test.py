"""The ELF reader on real binaries built for four machines, cross-checked against pyelftools'
full parse, and on hostile variants of them (truncated, corrupt, bad offsets, huge counts)."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest
from elftools.elf.dynamic import DynamicSegment
from elftools.elf.elffile import ELFFile
from elftools.elf.enums import ENUM_E_MACHINE
from elftools.elf.segments import InterpSegment, NoteSegment

from archlint.binaries import elf
from archlint.binaries.ar import ArReader
from archlint.binaries.examine import examine
from archlint.binaries.interface import BytesSource, Limits, Malformed
from archlint.binaries.relocatable import inspect_relocatable
from tests.conftest import FIXTURES

ELF_DIR = FIXTURES / "elf"
# (path, family, bits, machine name as reported)
CASES = [
    ("x86_64/libhello.so", "x86", 64, "x86-64"),
    ("x86_64/hello", "x86", 64, "x86-64"),
    ("x86_64/hello.o", "x86", 64, "x86-64"),
    ("x86_64/libkernel_v3.so", "x86", 64, "x86-64"),
    ("x86_64/libuses_mkl.so", "x86", 64, "x86-64"),
    ("vendor/bin/tool-linux", "x86", 64, "x86-64"),
    ("aarch64/libhello.so", "arm64", 64, "aarch64"),
    ("aarch64/hello", "arm64", 64, "aarch64"),
    ("armhf/libhello.so", "arm32", 32, "arm"),
    ("armhf/hello", "arm32", 32, "arm"),
    ("i386/libhello.so", "x86", 32, "i386"),
    ("i386/hello", "x86", 32, "i386"),
]
LINKED = [c[0] for c in CASES if not c[0].endswith(".o")]


def load(rel: str) -> bytes:
    return (ELF_DIR / rel).read_bytes()


@pytest.mark.parametrize(("rel", "family", "bits", "arch"), CASES)
def test_header_matches_pyelftools(rel: str, family: str, bits: int, arch: str) -> None:
    data = load(rel)
    h = elf.parse_header(data[:64], len(data))
    with open(ELF_DIR / rel, "rb") as fh:
        ref = ELFFile(fh)
        assert (h.family, h.bits, h.arch) == (family, bits, arch)
        assert h.bits == ref.elfclass
        assert h.little == ref.little_endian
        assert ENUM_E_MACHINE[ref["e_machine"]] == h.machine
        assert (h.phnum, h.shnum, h.phoff, h.shoff) == (ref["e_phnum"], ref["e_shnum"], ref["e_phoff"], ref["e_shoff"])
    assert h.table_problems(Limits()) == []


def _reference_details(path: Path) -> tuple[list[str], str | None, int | None]:
    """DT_NEEDED, interpreter and ISA bitmap the slow, complete way: pyelftools' segment objects."""
    needed: list[str] = []
    interp = None
    isa = None
    with open(path, "rb") as fh:
        ref = ELFFile(fh)
        for seg in ref.iter_segments():
            if isinstance(seg, InterpSegment):
                interp = seg.get_interp_name()
            elif isinstance(seg, DynamicSegment):
                needed = [getattr(t, "needed") for t in seg.iter_tags() if t.entry.d_tag == "DT_NEEDED"]  # noqa: B009
            elif isinstance(seg, NoteSegment):
                for note in seg.iter_notes():
                    if note["n_type"] == "NT_GNU_PROPERTY_TYPE_0":
                        for prop in note["n_desc"]:
                            if prop["pr_type"] == "GNU_PROPERTY_X86_ISA_1_NEEDED":
                                isa = (isa or 0) | prop["pr_data"]
    return needed, interp, isa


@pytest.mark.parametrize("rel", LINKED)
def test_details_match_pyelftools(rel: str) -> None:
    data = load(rel)
    h = elf.parse_header(data[:64], len(data))
    d = elf.inspect(BytesSource(data), h, Limits())
    needed, interp, isa = _reference_details(ELF_DIR / rel)
    assert d.problems == [] and d.skipped == []
    assert d.needed == needed
    assert d.interp == interp
    assert d.isa_needed == isa


def test_executables_name_their_interpreter_and_libraries() -> None:
    data = load("i386/hello")
    d = elf.inspect(BytesSource(data), elf.parse_header(data, len(data)), Limits())
    assert d.interp == "/lib/ld-linux.so.2"
    assert d.needed == ["libhello.so", "libc.so.6"]
    assert examine(BytesSource(data), Limits()).describe() == "ELF 32-bit LSB executable (PIE), i386"


def test_x86_only_libraries_from_dt_needed() -> None:
    ex = examine(BytesSource(load("x86_64/libuses_mkl.so")), Limits())
    assert [name for name, _ in ex.x86_libs] == ["libmkl_rt.so.2", "libiomp5.so"]
    assert ex.x86_libs[0][1].vendor == "Intel oneMKL"
    assert "libc.so.6" in ex.details.needed


def test_isa_level_from_gnu_property_note() -> None:
    assert examine(BytesSource(load("x86_64/libkernel_v3.so")), Limits()).details.isa_level == "x86-64-v3"
    assert examine(BytesSource(load("x86_64/hello")), Limits()).details.isa_level == "x86-64-baseline"
    assert elf.isa_level(0b1111) == "x86-64-v4" and elf.isa_level(0) is None


def test_relocatable_member_isa_level_through_pyelftools() -> None:
    [member] = list(ArReader(BytesSource(load("x86_64/libkernel_v3.a")), Limits()).members())
    ex = examine(member.source, Limits())
    assert ex.header is not None and ex.header.type == elf.ET_REL
    assert ex.details.isa_level == "x86-64-v3"
    assert ex.problems == []


def test_arm_binaries_are_read_no_further_than_the_header() -> None:
    class Counting(BytesSource):
        reads: list[tuple[int, int]] = []

        def pread(self, offset: int, n: int) -> bytes:
            self.reads.append((offset, n))
            return super().pread(offset, n)

    src = Counting(load("aarch64/hello"))
    ex = examine(src, Limits())
    assert ex.family == "arm64" and ex.details.needed == []
    assert src.reads == [(0, elf.HEADER_BYTES)]


# --- hostile input --------------------------------------------------------------------------


def patched(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    buf = bytearray(data)
    struct.pack_into(fmt, buf, offset, value)
    return bytes(buf)


def _phdr(data: bytes, ptype: int) -> int:
    """Byte offset of the first 64-bit LE program header of type `ptype`."""
    phoff, phnum = struct.unpack_from("<Q", data, 32)[0], struct.unpack_from("<H", data, 56)[0]
    for i in range(phnum):
        at = phoff + i * 56
        if struct.unpack_from("<I", data, at)[0] == ptype:
            return at
    raise AssertionError(f"no segment of type {ptype}")


def test_truncated_header_is_a_problem_not_a_crash() -> None:
    ex = examine(BytesSource(load("x86_64/libhello.so")[:30]), Limits())
    assert ex.header is None and "truncated ELF header" in ex.problems[0]


def test_truncated_body_is_reported_from_the_header_alone() -> None:
    ex = examine(BytesSource(load("x86_64/libuses_mkl.so")[:300]), Limits())
    assert ex.family == "x86"
    assert any("runs past the end of the file" in p for p in ex.problems)


@pytest.mark.parametrize(("offset", "value", "message"), [(4, 7, "invalid ELF class"), (5, 9, "data encoding")])
def test_corrupt_ident(offset: int, value: int, message: str) -> None:
    ex = examine(BytesSource(patched(load("x86_64/libhello.so"), offset, "B", value)), Limits())
    assert ex.header is None and message in ex.problems[0]
    with pytest.raises(Malformed):
        elf.parse_header(b"MZ\x90\x00" + bytes(60), 64)


def test_huge_section_count() -> None:
    data = patched(load("x86_64/libuses_mkl.so"), 60, "<H", 0xFFFF)
    ex = examine(BytesSource(data), Limits())
    assert any("65535 entries" in p for p in ex.problems)
    obj = patched(load("x86_64/hello.o"), 60, "<H", 50_000)
    ex = examine(BytesSource(obj), Limits())
    assert ex.family == "x86" and any("50000 entries" in p for p in ex.problems)
    # An object file is read through its section table: the cap stops pyelftools from walking it.
    obj = load("x86_64/hello.o")
    h = elf.parse_header(obj, len(obj))
    d = inspect_relocatable(BytesSource(obj), h, Limits(max_section_headers=5))
    assert d.skipped == [f"{h.shnum} section headers (more than 5)"] and h.shnum > 5


def test_program_header_table_past_the_end() -> None:
    data = patched(load("x86_64/libuses_mkl.so"), 32, "<Q", 2**40)
    ex = examine(BytesSource(data), Limits())
    assert any("program header table" in p for p in ex.problems)
    assert ex.details.needed == []


def test_dynamic_segment_past_the_end() -> None:
    data = load("x86_64/libuses_mkl.so")
    at = _phdr(data, elf.PT_DYNAMIC)
    ex = examine(BytesSource(patched(data, at + 8, "<Q", 10**12)), Limits())
    assert any("runs past the end of the file" in p for p in ex.problems)
    assert ex.details.needed == [] and ex.family == "x86"


def test_string_table_outside_every_segment() -> None:
    data = bytearray(load("x86_64/libuses_mkl.so"))
    at = _phdr(bytes(data), elf.PT_DYNAMIC)
    off, size = struct.unpack_from("<Q", data, at + 8)[0], struct.unpack_from("<Q", data, at + 32)[0]
    for pos in range(off, off + size, 16):
        if struct.unpack_from("<q", data, pos)[0] == elf.DT_STRTAB:
            struct.pack_into("<Q", data, pos + 8, 2**50)
    ex = examine(BytesSource(bytes(data)), Limits())
    assert any("DT_STRTAB" in p for p in ex.problems)


def test_note_segments_are_capped_and_bounds_checked() -> None:
    data = load("x86_64/libkernel_v3.so")
    ex = examine(BytesSource(data), Limits(max_note_bytes=8))
    assert ex.details.isa_level is None and any("note segment" in s for s in ex.skipped)
    bad = bytearray(data)
    for ptype in (elf.PT_NOTE, elf.PT_GNU_PROPERTY):
        struct.pack_into("<Q", bad, _phdr(data, ptype) + 32, 10**9)  # p_filesz far past the end
    ex = examine(BytesSource(bytes(bad)), Limits())
    assert any("runs past the end of the file" in p for p in ex.problems)
    assert ex.details.isa_level is None


def test_note_descriptor_past_its_segment() -> None:
    note = struct.pack("<III", 4, 4096, elf.NT_GNU_PROPERTY_TYPE_0) + b"GNU\0" + bytes(16)
    with pytest.raises(Malformed, match="note entry runs past"):
        elf.gnu_isa_needed(note, True, 64)


def test_random_corruption_never_raises() -> None:
    rng = random.Random(1234)
    originals = [load(rel) for rel, family, _, _ in CASES]
    for _ in range(600):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(0, min(len(data), 1024))
            data[pos] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(16, len(data))]
        ex = examine(BytesSource(bytes(data)), Limits())
        assert ex.header is not None or ex.problems


def _pyelftools_isa(data: bytes) -> int | None:
    """The x86-64 ISA bitmap of a relocatable object, the slow complete way (the oracle)."""
    import io

    from elftools.elf.sections import NoteSection

    bits = None
    for section in ELFFile(io.BytesIO(data)).iter_sections():
        if isinstance(section, NoteSection) and section.name == ".note.gnu.property":
            for note in section.iter_notes():
                if note["n_type"] == "NT_GNU_PROPERTY_TYPE_0":
                    for prop in note["n_desc"]:
                        if prop["pr_type"] == "GNU_PROPERTY_X86_ISA_1_NEEDED":
                            bits = (bits or 0) | prop["pr_data"]
    return bits


def _relocatable_objects() -> list[tuple[str, bytes]]:
    """Every relocatable object the fixtures hold, and the members of the interpreter's own
    static library (real gcc output with and without GNU property notes) when it is installed."""
    import sysconfig

    out = []
    names = ("x86_64/libhello.a", "x86_64/libkernel_v3.a", "i386/libhello.a", "aarch64/libhello.a",
             "armhf/libhello.a", "mixed/libmixed.a")  # fmt: skip
    archives = [FIXTURES / "elf" / p for p in names]
    libdir, library = sysconfig.get_config_var("LIBPL"), sysconfig.get_config_var("LIBRARY")
    if libdir and library and (Path(libdir) / library).is_file():
        archives.append(Path(libdir) / library)
    for a in archives:
        if not a.is_file():
            continue
        for m in ArReader(BytesSource(a.read_bytes()), Limits()).members():
            data = m.source.pread(0, m.source.size)
            if data.startswith(elf.MAGIC) and elf.parse_header(data, len(data)).type == elf.ET_REL:
                out.append((f"{a.name}!{m.name}", data))
    out.append(("hello.o", load("x86_64/hello.o")))
    return out


def test_relocatable_isa_level_matches_pyelftools_on_every_object() -> None:
    objs = _relocatable_objects()
    assert len(objs) >= 5
    with_notes = 0
    for name, data in objs:
        h = elf.parse_header(data, len(data))
        d = inspect_relocatable(BytesSource(data), h, Limits())
        assert d.problems == [] and d.skipped == [], name
        assert d.isa_needed == _pyelftools_isa(data), name
        with_notes += d.isa_needed is not None
    assert with_notes >= 1  # the comparison covers objects that carry the note, not only ones without


def test_rare_machines_are_named_as_pyelftools_names_them() -> None:
    from elftools.elf.descriptions import describe_e_machine

    assert elf.machine_name(62) == "x86-64"  # the common ones without pyelftools
    assert elf.machine_name(ENUM_E_MACHINE["EM_SPARC32PLUS"]) == describe_e_machine("EM_SPARC32PLUS")
    assert elf.machine_name(0xFFFE) == "unknown machine 65534"
