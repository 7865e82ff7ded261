"""pip requirements files: requirements, options, `-r`/`-c` includes, hashes, URL/VCS/editable lines.

Parsing of each line is pip-requirements-parser's (pip's own grammar); this module walks the
includes itself so that a cycle or a missing file is reported at the include line and the rest
is still parsed, and so that every Dependency keeps the path and line of the file it is written in.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from pip_requirements_parser import InstallRequirement, RequirementsFile

from archlint import scanning as k
from archlint.deps.sources.interface import REQUIREMENTS, Constraint, SourceResult
from archlint.deps.sources.specifiers import pinned_version
from archlint.facts import Dependency
from archlint.findings import Finding
from archlint.scanning import MAX_READ_BYTES, ScanContext, SourceFile

MAX_FILES = 256  # includes followed from one file; a hostile tree of includes stays bounded
MAX_INVALID = 50  # invalid-line findings per file; the rest are summarised in one
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_URL_END = re.compile(r"\s+#|\s+--?[A-Za-z]|\s;|\s*\\$")
_EDITABLE = re.compile(r"^\s*(?:-e|--editable)(?:\s+|=)")
_HASH = re.compile(r"(?<!\S)--hash(?:=|[ \t]+)([^\s\\]+)")


@dataclass
class _Walk:
    ctx: ScanContext
    result: SourceResult
    top: Path
    visited: set[Path] = field(default_factory=set)
    constraints: dict[str, str] = field(default_factory=dict)  # name -> version pinned by a -c file

    @functools.cached_property
    def scanned_alone(self) -> frozenset[Path]:
        """Requirement files the scanner parses on their own: their pins are not repeated here.
        Computed on the first include only, since most files include nothing."""
        return _requirement_files(self.ctx) - {self.top}

    @functools.cached_property
    def bases(self) -> tuple[Path, ...]:
        """Directories includes may be read from: the scan root, and the top file's directory."""
        return (_resolve(self.ctx.root), self.top.parent)

    def finding(self, rule: str, message: str, path: str, line: int, key: str) -> None:
        self.result.findings.append(Finding(rule=rule, message=message, path=path, line=line, key=key))


def parse(f: SourceFile, ctx: ScanContext, result: SourceResult) -> None:
    top = _resolve(f.path)
    walk = _Walk(ctx, result, top)
    walk.visited.add(top)
    _parse_one(walk, f.read_bytes(), top, f.rel, stack=(top,), constraint=False, emit=True)
    for dep in result.dependencies:
        if dep.version is None and dep.url is None and dep.name in walk.constraints:
            dep.version = walk.constraints[dep.name]


_FILES_CACHE: dict[tuple[Path, ...], frozenset[Path]] = {}  # the last scan's requirement files, resolved


def _requirement_files(ctx: ScanContext) -> frozenset[Path]:
    # One scan parses many requirement files with the same ctx: resolve (syscalls) the list once.
    key = tuple(o.path for o in ctx.files if o.kind == k.REQUIREMENTS)
    if key not in _FILES_CACHE:
        _FILES_CACHE.clear()
        _FILES_CACHE[key] = frozenset(_resolve(p) for p in key)
    return _FILES_CACHE[key]


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # symlink loops
        return path.absolute()


def _decode(walk: _Walk, data: bytes, rel: str, emit: bool) -> str | None:
    """The text, or None for a binary file (reported; nothing in it is read)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        text = data.decode("utf-8", errors="replace")
        binary = b"\0" in data or text.count("\ufffd") > max(8, len(data) // 100)
        if emit:
            line = data[: e.start].count(b"\n") + 1
            what = "not a text file" if binary else "undecodable bytes ignored"
            walk.finding("ARCH002", f"not valid UTF-8: {e.reason} at byte {e.start}; {what}", rel, line, "encoding")
        return None if binary else text


def _take_hashes(text: str) -> tuple[str, dict[int, list[str]]]:
    """Move `--hash` options out of the text, keyed by the first line of their logical line;
    lines keep their numbers. pip-requirements-parser shlex-splits every option, which makes a
    hashed lock (hundreds of hashes per pin) many times slower to parse than the same pins."""
    if "--hash" not in text:
        return text, {}
    lines = text.split("\n")
    hashes: dict[int, list[str]] = {}
    start: int | None = None
    for i, line in enumerate(lines):
        start = i + 1 if start is None else start
        continued = line.rstrip("\r").endswith("\\")
        if "--hash" in line and not line.lstrip().startswith("#"):
            found = _HASH.findall(line)
            if found:
                hashes.setdefault(start, []).extend(found)
                rest = _HASH.sub("", line).rstrip("\r").rstrip("\\").strip()
                # Whitespace is dropped too: long runs of it make the library's line handling crawl.
                lines[i] = rest + (" \\" if continued else "")
        if not continued:
            start = None
    return "\n".join(lines), hashes


def _read_requirements(text: str) -> RequirementsFile:
    # from_string is broken upstream (NameError); from_file on a private copy works. The BOM makes
    # pip-requirements-parser decode it as UTF-8 whatever the locale.
    with tempfile.TemporaryDirectory(prefix="archlint-req-") as tmp:
        path = os.path.join(tmp, "requirements.txt")
        with open(path, "wb") as fh:
            fh.write(b"\xef\xbb\xbf" + text.encode("utf-8", errors="replace"))
        return RequirementsFile.from_file(path, include_nested=False)


def _parse_one(
    walk: _Walk, data: bytes, path: Path, rel: str, stack: tuple[Path, ...], constraint: bool, emit: bool
) -> None:
    text = _decode(walk, data, rel, emit)
    if text is None:
        return
    lines = text.splitlines()
    text, hashes = _take_hashes(text)
    try:
        rf = _read_requirements(text)
    except Exception as e:  # the library's internals: never let one file stop the scan
        if emit:
            walk.finding("ARCH002", f"cannot parse requirements: {type(e).__name__}: {e}", rel, 1, "unparsable")
        return
    if emit:
        for bad in rf.invalid_lines[:MAX_INVALID]:
            msg = " ".join((bad.error_message or "invalid line").split())
            walk.finding("ARCH002", f"invalid requirement line: {msg}", rel, bad.line_number or 1,
                         f"invalid:{(bad.line or '').strip()}")  # fmt: skip
        if len(rf.invalid_lines) > MAX_INVALID:
            rest = rf.invalid_lines[MAX_INVALID:]
            walk.finding("ARCH002", f"{len(rest)} more invalid requirement lines not reported", rel,
                         rest[0].line_number or 1, "invalid:more")  # fmt: skip
    for opt in rf.options:
        options = opt.options
        walk.result.add_index(options.get("index_url"))
        for url in options.get("extra_index_urls") or ():
            walk.result.add_index(url)
        for target in options.get("requirements") or ():
            _include(walk, target, path, rel, opt.line_number or 1, stack, False, emit)
        for target in options.get("constraints") or ():
            _include(walk, target, path, rel, opt.line_number or 1, stack, True, emit)
    for req in rf.requirements:
        dep = _dependency(req, path, rel, lines)
        dep.hashes = (*dep.hashes, *hashes.get(dep.line or 0, ()))
        if constraint:
            if dep.version and dep.url is None and dep.marker is None:
                walk.constraints.setdefault(dep.name, dep.version)
            if dep.url is None:
                walk.result.constraints.append(Constraint(dep.name, dep.specifier, dep.marker, rel, dep.line or 1))
        elif emit:
            walk.result.dependencies.append(dep)
        else:
            walk.result.included.append(dep)


def _include(
    walk: _Walk,
    target: str,
    including: Path,
    rel: str,
    line: int,
    stack: tuple[Path, ...],
    constraint: bool,
    emit: bool,
) -> None:
    flag = "-c" if constraint else "-r"
    if "\0" in target:  # no file system accepts it (open() raises ValueError)
        if emit:
            walk.finding("ARCH002", f"{flag} {target!r}: an include path with a NUL byte", rel, line, f"nul:{target!r}")
        return
    if target.lower().startswith("file:"):
        target = urllib.request.url2pathname(urllib.parse.urlparse(target).path)
    elif _SCHEME.match(target):
        walk.finding("ARCH152", f"{flag} {target}: remote include not fetched; its requirements are not checked",
                     rel, line, f"remote:{target}")  # fmt: skip
        return
    path = _resolve(including.parent / target)
    if not any(path.is_relative_to(base) for base in walk.bases):
        # pip would read it; a linter run in CI must not read (and echo into its report) files
        # from outside the tree it was asked to check.
        walk.finding("ARCH153", f"{flag} {target}: outside the checked tree ({path}); not read",
                     rel, line, f"outside:{target}")  # fmt: skip
        return
    if path in stack:
        chain = " -> ".join(walk.ctx.rel(p) for p in (*stack[stack.index(path) :], path))
        walk.finding("ARCH150", f"{flag} {target}: include cycle ({chain}); the cycle is not followed",
                     rel, line, f"cycle:{target}")  # fmt: skip
        return
    if path in walk.visited:
        return  # included twice along different paths (a diamond): parsed once
    if len(walk.visited) >= MAX_FILES:
        walk.finding("ARCH151", f"{flag} {target}: more than {MAX_FILES} included files; not followed",
                     rel, line, f"missing:{target}")  # fmt: skip
        return
    try:
        if not path.is_file():
            raise FileNotFoundError("no such file")
        with open(path, "rb") as fh:
            data = fh.read(MAX_READ_BYTES + 1)
        if len(data) > MAX_READ_BYTES:
            raise OSError(f"larger than {MAX_READ_BYTES} bytes")
    except OSError as e:
        reason = e.strerror or str(e)
        walk.finding("ARCH151", f"{flag} {target}: cannot read {walk.ctx.rel(path)} ({reason.lower()})",
                     rel, line, f"missing:{target}")  # fmt: skip
        return
    walk.visited.add(path)
    child_emit = emit and path not in walk.scanned_alone
    _parse_one(walk, data, path, walk.ctx.rel(path), (*stack, path), constraint, child_emit)


def _dependency(req: InstallRequirement, path: Path, rel: str, lines: list[str]) -> Dependency:
    lineno = req.line_number or 1
    line_text = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    url = req.link.url if req.link else None
    name = req.name or _name_from_url(url or "", path)
    spec = str(req.specifier) if req.specifier else ""
    start, end = _url_span(line_text) if url else name_span(line_text, name)
    return Dependency(
        name=canonicalize_name(name),
        version=pinned_version(spec) if spec else None,
        specifier=spec,
        path=rel,
        line=lineno,
        source=REQUIREMENTS,
        marker=str(req.marker) if req.marker else None,
        extras=tuple(sorted(req.extras or ())),
        hashes=tuple(req.hash_options or ()),
        url=url,
        editable=bool(req.is_editable),
        column=start,
        end_column=end,
    )


def _name_from_url(url: str, including: Path) -> str:
    """A name for a requirement written as a bare URL or path (no `name @`, no #egg=)."""
    parsed = urllib.parse.urlparse(url)
    segment = PurePosixPath(parsed.path).name
    if "@" in segment:  # git+https://host/org/repo@ref
        segment = segment.split("@", 1)[0]
    try:
        if segment.endswith(".whl"):
            return parse_wheel_filename(segment)[0]
        if segment.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(segment)[0]
    except (InvalidWheelFilename, InvalidSdistFilename):
        pass
    segment = segment.removesuffix(".git")
    if parsed.scheme in ("", "file") and segment in ("", "."):
        segment = (including.parent / parsed.path).resolve().name
    return segment or "unknown"


def name_span(line_text: str, name: str) -> tuple[int, int]:
    """1-based start and exclusive end column of name, extras and version specifier on the line
    (not the marker, options or comment): what a version bump replaces."""
    pattern = re.compile(r"[-_.]+".join(re.escape(p) for p in re.split(r"[-_.]+", name)), re.IGNORECASE)
    m = pattern.search(line_text)
    if not m:
        return 1, len(line_text) + 1
    end = m.end()
    rest = re.match(r"(\s*\[[^\]]*\])?\s*([<>=!~]=?=?\s*[^\s;#,]+(\s*,\s*[<>=!~]=?=?\s*[^\s;#,]+)*)?", line_text[end:])
    if rest:
        end += len(rest.group(0).rstrip())
    return m.start() + 1, end + 1


def _url_span(line_text: str) -> tuple[int, int]:
    """Span of a URL/path requirement (after any -e), up to its marker, options or comment."""
    m = _EDITABLE.match(line_text)
    start = m.end() if m else len(line_text) - len(line_text.lstrip())
    stop = _URL_END.search(line_text, start)
    end = stop.start() if stop else len(line_text.rstrip())
    return start + 1, end + 1
