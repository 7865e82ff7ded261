"""Native binaries: x86-only machine code in the tree, in static archives, wheels and tarballs.

Loose ELF files are found by discovery (magic bytes, any name); static archives are read member
by member; wheels are read from the zip (never extracted) and compared with their tags and their
siblings in the wheelhouse; tarballs (`docker save` / `docker export`, sdists) are streamed. Every
x86-only binary also becomes placement evidence on the real file's repo path.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from packaging.utils import InvalidSdistFilename, canonicalize_name, parse_sdist_filename

from archlint import scanning as k
from archlint.binaries import elf
from archlint.binaries.ar import ArReader
from archlint.binaries.collect import Collector
from archlint.binaries.examine import Examined, examine
from archlint.binaries.interface import BytesSource, FileSource, LimitExceeded, Limits, Malformed, Source
from archlint.binaries.roots import Group, Roots
from archlint.binaries.tarball import TarReader
from archlint.binaries.wheel import WheelName, WheelReader, parse_name
from archlint.facts import Facts
from archlint.findings import Finding, Severity
from archlint.scanning import ScanContext, Scanner, SourceFile, guarded


@dataclass
class _Wheel:
    file: SourceFile
    name: WheelName | None
    members: list[tuple[str, Examined]] = field(default_factory=list)

    def families(self) -> set[str]:
        return {ex.family for _, ex in self.members if ex.family}


@dataclass
class _Vendored:
    """A loose ELF file or a static archive outside any group, recorded after the walk."""

    file: SourceFile
    group: Group | None  # the archive's own group; None for a loose file
    entries: list[tuple[str, Examined, str]]  # (subject, examined, evidence name)

    def families(self) -> set[str]:
        return {ex.family for _, ex, _ in self.entries if ex.family}


# Architecture names as they appear in vendored paths (linux-amd64/, x86_64/, tool-arm64, ...).
_ARCH_TOKEN = re.compile(r"(?<![a-z0-9])(?:x86[_-]64|amd64|x64|i[3-6]86|aarch64|arm64|armv8)(?![a-z0-9])")


def arch_neutral(rel: str) -> str:
    return _ARCH_TOKEN.sub("{arch}", rel.lower())


def _rel_to(rel: str, group: Group) -> str:
    return rel[len(group.path) + 1 :] if rel.startswith(group.path + "/") else rel


class BinaryScanner(Scanner):
    name = "binaries"
    kinds = frozenset({k.ELF, k.AR_ARCHIVE, k.WHEEL, k.TARBALL})
    order = 25
    limits: ClassVar[Limits] = Limits()

    def scan(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> Iterable[Finding]:
        col = Collector(facts, self.limits.max_evidence)
        roots = Roots(str(ctx.root))
        by_kind: dict[str, list[SourceFile]] = defaultdict(list)
        for f in files:
            by_kind[f.kind].append(f)
        vendored: list[_Vendored] = []
        yield from guarded(by_kind[k.ELF], lambda f: self._loose(f, col, roots, vendored))
        yield from guarded(by_kind[k.AR_ARCHIVE], lambda f: self._archive(f, col, roots, vendored))
        self._record_vendored(vendored, col)
        sdists: set[tuple[str, str]] = set()
        for f in by_kind[k.TARBALL]:
            try:
                name, version = parse_sdist_filename(f.path.name)
                sdists.add((str(canonicalize_name(name)), str(version)))
            except InvalidSdistFilename:
                pass
        wheels = [_Wheel(f, parse_name(f.path.name)) for f in by_kind[k.WHEEL]]
        yield from self._wheelhouse(wheels, sdists, col)
        yield from guarded(by_kind[k.TARBALL], lambda f: self._tarball(f, col))
        yield from col.findings()

    # --- loose files -------------------------------------------------------------------------

    def _loose(self, f: SourceFile, col: Collector, roots: Roots, vendored: list[_Vendored]) -> Iterator[Finding]:
        group = roots.group(f.rel)
        if f.data is not None:
            ex = examine(BytesSource(f.data), self.limits)
        else:
            fd = os.open(f.path, os.O_RDONLY)
            try:
                ex = examine(FileSource(fd, os.fstat(fd).st_size), self.limits)
            finally:
                os.close(fd)
        if group is None:
            vendored.append(_Vendored(f, None, [(f.rel, ex, f.rel)]))
        else:
            col.record(ex, f.rel, _rel_to(f.rel, group), group)
        return iter(())

    def _record_vendored(self, vendored: list[_Vendored], col: Collector) -> None:
        """Files outside any group, recorded once every one is known: an x86 file with an aarch64
        build at the same path modulo the architecture name (bin/amd64/tool, bin/arm64/tool) is
        per-arch vendoring, not a blocker."""
        arm = {arch_neutral(v.file.rel): v.file.rel for v in vendored if v.families() == {"arm64"}}
        for v in vendored:
            other = arm.get(arch_neutral(v.file.rel)) if "x86" in v.families() else None
            for subject, ex, where in v.entries:
                col.record(ex, v.file.rel, subject, v.group, where=where, counterpart=other)

    # --- static archives -----------------------------------------------------------------------

    def _archive(self, f: SourceFile, col: Collector, roots: Roots, vendored: list[_Vendored]) -> Iterator[Finding]:
        # Inside a distribution or image filesystem the archive joins that group; else it is one.
        outer = roots.group(f.rel)
        group = outer or Group(f"ar:{f.rel}", f.rel, "static archive")
        prefix = f"{_rel_to(f.rel, outer)}!" if outer else ""
        entries: list[tuple[str, Examined, str]] = []
        if outer is None:
            vendored.append(_Vendored(f, group, entries))
        with _open_source(f) as src:
            reader = ArReader(src, self.limits)
            try:
                for m in reader.members():
                    head = m.source.pread(0, elf.HEADER_BYTES)
                    if head.startswith(elf.MAGIC):
                        ex = examine(m.source, self.limits, head)
                        if outer is None:
                            entries.append((m.name, ex, f"{f.path.name}!{m.name}"))
                        else:
                            col.record(ex, f.rel, prefix + m.name, group, where=f"{f.path.name}!{m.name}")
            except Malformed as e:
                yield Finding(rule="ARCH002", message=f"malformed static archive: {e}", path=f.rel, key="ar")
            except LimitExceeded as e:
                yield Finding(rule="ARCH508", message=f"static archive not fully checked: {e}", path=f.rel, key="ar")
            for problem in reader.problems:
                yield Finding(rule="ARCH002", message=f"malformed static archive: {problem}", path=f.rel,
                              key=f"ar:{problem}")  # fmt: skip

    # --- wheels --------------------------------------------------------------------------------

    def _read_wheel(self, w: _Wheel, deep: bool) -> Iterator[Finding]:
        f = w.file
        with open(f.path, "rb") as fh:
            reader = WheelReader(fh, os.fstat(fh.fileno()).st_size, self.limits)
            try:
                for m in reader.members():
                    w.members.append((m.name, examine(m.source, self.limits, deep=deep)))
            except Malformed as e:
                yield Finding(rule="ARCH002", message=f"malformed wheel: {e}", path=f.rel, key="wheel")
            except LimitExceeded as e:
                yield Finding(rule="ARCH508", message=f"wheel not checked: {e}", path=f.rel, key="wheel")
            for problem in reader.problems:
                yield Finding(rule="ARCH002", message=f"malformed wheel: {problem}", path=f.rel, key=f"wheel:{problem}")

    def _wheel_reader(self, w: _Wheel, deep: bool) -> Callable[[SourceFile], Iterator[Finding]]:
        return lambda _f: self._read_wheel(w, deep)

    def _wheelhouse(self, wheels: list[_Wheel], sdists: set[tuple[str, str]], col: Collector) -> Iterator[Finding]:
        groups: dict[tuple[str, str], list[_Wheel]] = defaultdict(list)
        for w in wheels:
            if w.name is not None:
                groups[(w.name.name, w.name.version)].append(w)
        for (name, version), ws in sorted(groups.items()):
            # Details (DT_NEEDED, ISA level) only matter for x86 code that no arm64 wheel replaces.
            deep = not any(w.name and (w.name.arm64 or w.name.pure) for w in ws)
            for w in ws:
                yield from guarded([w.file], self._wheel_reader(w, deep))
            yield from self._judge_group(name, version, ws, (name, version) in sdists, col)
        for w in wheels:
            if w.name is None:
                yield Finding(rule="ARCH002", message=f"not a valid wheel file name: {w.file.path.name}",
                              path=w.file.rel, key="wheel-name")  # fmt: skip
                yield from guarded([w.file], self._wheel_reader(w, True))
                group = Group(f"wheel:{w.file.rel}", w.file.rel, "wheel")
                for member, ex in w.members:
                    col.record(ex, w.file.rel, member, group, where=f"{w.file.path.name}!{member}")

    def _judge_group(self, name: str, version: str, ws: list[_Wheel], sdist: bool, col: Collector) -> Iterator[Finding]:
        runs_on_arm64, x86_wheels = [], []
        for w in ws:
            assert w.name is not None
            fams = w.families()
            yield from self._tag_mismatch(w, fams, col)
            if (w.name.arm64 or w.name.pure) and "x86" not in fams:
                runs_on_arm64.append(w)
            elif w.name.x86 or "x86" in fams:
                x86_wheels.append(w)
        blocked = bool(x86_wheels) and not runs_on_arm64
        for w in ws:
            group = Group(f"wheel:{w.file.rel}", w.file.rel, "wheel")
            for member, ex in w.members:
                if blocked and w in x86_wheels:
                    # Evidence, x86-only libraries and ISA level; the machine itself is ARCH505 below.
                    col.record(ex, w.file.rel, member, group, machine=False, where=f"{w.file.path.name}!{member}")
                else:  # judged by its tags and siblings: only malformations and caps are news
                    col.record(Examined(None, problems=ex.problems, skipped=ex.skipped), w.file.rel, member, group)
        if not blocked:
            return
        first = sorted(w.file.rel for w in x86_wheels)[0]
        arches = sorted({a for w in x86_wheels if w.name for a in w.name.linux_arches})
        n = len(x86_wheels)
        msg = (
            f"{name} {version} is here only as x86 wheel{'s' if n > 1 else ''} ({', '.join(arches) or 'x86 code'}; "
            f"{n} file{'s' if n > 1 else ''}), with no aarch64 or pure wheel beside it"
        )
        if sdist:
            msg += "; an sdist is present, so pip would compile it on arm64 (needs a compiler in the image)"
        yield Finding(rule="ARCH505", message=msg, path=first, key=f"{name}=={version}",
                      severity=Severity.WARNING if sdist else None)  # fmt: skip

    def _tag_mismatch(self, w: _Wheel, fams: set[str], col: Collector) -> Iterator[Finding]:
        assert w.name is not None
        tags = w.name
        if not tags.linux_arches and not tags.pure:
            return  # macOS/Windows wheels hold Mach-O/PE code, not ELF
        allowed = set()
        if tags.x86:
            allowed.add("x86")
        if tags.arm64:
            allowed.add("arm64")
        if tags.linux_arches & {"armv7l", "armv6l"}:
            allowed.add("arm32")
        if tags.linux_arches - {"x86_64", "i686", "i386", "aarch64", "armv7l", "armv6l"}:
            allowed.add("other")
        wrong = [(m, ex) for m, ex in w.members if ex.family and ex.family not in allowed]
        if not wrong:
            return
        shown = ", ".join(f"{m} ({ex.header.arch if ex.header else '?'})" for m, ex in wrong[:3])
        more = f" and {len(wrong) - 3} more" if len(wrong) > 3 else ""
        tag = "pure (any)" if tags.pure and not tags.linux_arches else "/".join(sorted(tags.linux_arches))
        x86_inside = False
        for m, ex in wrong:
            if ex.family == "x86":
                x86_inside = True  # pip installs it on arm64, and the import fails there
                col.evidence(w.file.rel, f"{w.file.path.name}!{m}: {ex.describe()} under a {tag} tag", "ARCH504", None)
        yield Finding(
            rule="ARCH504",
            message=f"wheel tagged {tag} holds machine code for another platform: {shown}{more}",
            path=w.file.rel,
            key="tag-mismatch",
            severity=None if x86_inside else Severity.WARNING,
        )

    # --- tarballs ------------------------------------------------------------------------------

    def _tarball(self, f: SourceFile, col: Collector) -> Iterator[Finding]:
        group = Group(f"tar:{f.rel}", f.rel, "tarball")
        with open(f.path, "rb") as fh:
            reader = TarReader(fh, self.limits, size=os.fstat(fh.fileno()).st_size)
            try:
                for m in reader.members():
                    col.record(examine(m.source, self.limits), f.rel, m.name, group, where=f"{f.path.name}!{m.name}")
            except Malformed as e:
                yield Finding(rule="ARCH002", message=f"malformed tarball: {e}", path=f.rel, key="tar")
            except LimitExceeded as e:
                yield Finding(rule="ARCH508", message=f"tarball not fully checked: {e}", path=f.rel, key="tar")
        for skipped in reader.skipped:
            col.observe("ARCH508", f.rel, skipped.split(":", 1)[0], skipped.split(": ", 1)[-1], group, tag="layer")
        for problem in reader.problems:
            col.observe("ARCH002", f.rel, problem.split(":", 1)[0], problem.split(": ", 1)[-1], group, tag="layer")
        for cfg in reader.configs:
            if cfg.architecture in ("amd64", "386"):
                text = f"image config declares {cfg.platform}: the saved image is x86-only"
                col.observe("ARCH501", f.rel, cfg.member, text, group, tag=cfg.platform)
                col.evidence(f.rel, f"{f.path.name}: image config declares {cfg.platform}", "ARCH501", group)


class _open_source:
    """A Source over a discovered file, closed on exit."""

    def __init__(self, f: SourceFile) -> None:
        self._f = f
        self._fd = -1

    def __enter__(self) -> Source:
        if self._f.data is not None:
            return BytesSource(self._f.data)
        self._fd = os.open(self._f.path, os.O_RDONLY)
        return FileSource(self._fd, os.fstat(self._fd).st_size)

    def __exit__(self, *exc: object) -> None:
        if self._fd >= 0:
            os.close(self._fd)
