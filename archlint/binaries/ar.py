"""Static libraries (`!<arch>` archives): each member object is an ELF file of its own."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.binaries.interface import ContainerReader, LimitExceeded, Limits, Malformed, Member, SliceSource, Source

AR_MAGIC = b"!<arch>\n"
_HDR = 60
_SYMBOL_TABLES = {"/", "/SYM64/", "__.SYMDEF", "__.SYMDEF SORTED"}


class ArReader(ContainerReader):
    def __init__(self, src: Source, limits: Limits) -> None:
        self._src = src
        self._limits = limits
        self.problems: list[str] = []  # members with a bad name (ARCH002); they are still read

    def members(self) -> Iterator[Member]:
        src, size = self._src, self._src.size
        if src.pread(0, len(AR_MAGIC)) != AR_MAGIC:
            raise Malformed("not an ar archive (bad magic)")
        pos, count, longnames = len(AR_MAGIC), 0, b""
        while pos + 1 < size:
            hdr = src.pread(pos, _HDR)
            if len(hdr) < _HDR:
                raise Malformed(f"truncated member header at offset {pos}")
            if hdr[58:60] != b"`\n":
                raise Malformed(f"corrupt member header at offset {pos}")
            try:
                msize = int(hdr[48:58].decode("ascii").strip() or "0")
            except (UnicodeDecodeError, ValueError):
                raise Malformed(f"member size field {hdr[48:58]!r} at offset {pos} is not a number") from None
            data = pos + _HDR
            if msize < 0 or data + msize > size:
                raise Malformed(f"member at offset {pos} claims {msize} bytes, past the end of the archive")
            count += 1
            if count > self._limits.max_ar_members:
                raise LimitExceeded(f"more than {self._limits.max_ar_members} members")
            raw = hdr[:16].decode("latin-1").rstrip()
            name, skip = raw, 0
            if raw == "//":  # GNU long-name table
                longnames = src.pread(data, min(msize, 16 * 1024 * 1024))
            elif raw.startswith("#1/"):  # BSD: the name precedes the data
                try:
                    skip = int(raw[3:])
                except ValueError:
                    raise Malformed(f"bad BSD member name {raw!r}") from None
                skip = min(skip, msize)
                name = src.pread(data, skip).rstrip(b"\0").decode("utf-8", errors="replace")
            elif raw.startswith("/") and raw not in _SYMBOL_TABLES:
                # GNU: "/123" is offset 123 in the "//" name table (ASCII digits only: "/²" is not).
                digits = raw[1:]
                off = int(digits) if digits.isascii() and digits.isdigit() else -1
                if 0 <= off < len(longnames):
                    end = longnames.find(b"/\n", off)
                    name = longnames[off : end if end >= 0 else off + 256].decode("utf-8", errors="replace")
                else:
                    what = "past the long-name table" if off >= 0 else "not a long-name reference"
                    self.problems.append(f"member at offset {pos} is named {raw!r} ({what})")
            else:
                name = raw.removesuffix("/")
            if raw not in _SYMBOL_TABLES and raw != "//":
                yield Member(name=name, size=msize - skip, source=SliceSource(src, data + skip, msize - skip))
            pos = data + msize + (msize & 1)  # members are 2-byte aligned
