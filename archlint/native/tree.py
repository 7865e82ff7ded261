"""What the tree says about a file's x86 code: per-architecture layouts, dispatch sources, headers
only x86-only code includes, sources the build compiles only on x86.

Multi-architecture projects keep x86 code in files the build selects per CPU: numpy's
`simd/avx2/` beside `simd/neon/`, highway's `ops/x86_256-inl.h` beside `ops/arm_neon-inl.h`,
compile probes `checks/cpu_avx2.c` beside `checks/cpu_neon.c`, `*.dispatch.c` sources compiled
once per target. Such a file has no preprocessor guard because the build is the guard; its x86
code is reported at info, with the reason.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Mapping

from archlint.native import vocab
from archlint.native.interface import GUARDED, Summary

_PART = re.compile(r"[^A-Za-z0-9]+")
_OTHER_ARCH = re.compile(
    r"^(?:lsx|lasx|loongarch\w*|vsx\d*|ppc\w*|power\d*|altivec|vmx|s390\w*|zarch|vxe?\d?|riscv\w*|rvv|wasm\w*"
    r"|mips\w*|msa|sparc\w*)$",
    re.IGNORECASE,
)
_ARM_PART = re.compile(r"^(?:aarch64|arm64|neon|asimd|sve2?)$", re.IGNORECASE)
# Operating systems Kubernetes' Linux nodes are not: a file or directory named for one (valgrind's
# vki-freebsd.h, syswrap-solaris.c; src/win32/; *_darwin.c) is compiled only when building there.
_NON_LINUX_OS = re.compile(
    r"^(?:freebsd|netbsd|openbsd|dragonfly(?:bsd)?|solaris|sunos|illumos|darwin|macos|macosx|osx|ios"
    r"|win32|win64|mingw(?:32|64)?|cygwin|msvc|aix|hpux|haiku|qnx|vxworks)$",
    re.IGNORECASE,
)
_DISPATCH = re.compile(r"\.dispatch\.(?:c|cc|cpp|cxx|h|hpp)$|(?:^|[/_-])dispatch(?:er)?[_-]?(?:x86|avx|sse)", re.I)
_EXT = re.compile(r"\.(?:c|cc|cpp|cxx|c\+\+|h|hh|hpp|hxx|inl|pyx|pxd|pxi|f|f90|f95|f03|f08|for)$", re.I)


def _tokens(component: str) -> list[str]:
    stem = component.split(".", 1)[0] if "." in component else component
    return [t for t in _PART.split(stem) if t]


def x86_named(component: str) -> bool:
    return any(vocab.X86_TOKEN.match(t) for t in _tokens(component))


def other_arch_named(component: str) -> bool:
    return any(vocab.ARM_TOKEN.match(t) or _OTHER_ARCH.match(t) for t in _tokens(component))


def per_os(path: str) -> str:
    """Why `path` is another operating system's source (never compiled for a Linux node), or ""."""
    for comp in reversed(path.split("/")):
        tokens = _tokens(comp)
        named = next((t for t in tokens if _NON_LINUX_OS.match(t)), None)
        if named is not None and not any(t.lower() == "linux" for t in tokens):
            return f"{named}-specific source ({comp}): Linux nodes never compile it"
    return ""


class Tree:
    """Paths of every native file (sources and build files) and what their summaries say."""

    def __init__(self, summaries: Mapping[str, Summary]) -> None:
        self.summaries = summaries
        self.children: dict[str, set[str]] = defaultdict(set)  # directory -> entries (files and dirs)
        self.by_name: dict[str, list[str]] = defaultdict(list)
        for path in summaries:
            parts = path.split("/")
            for i in range(len(parts)):
                self.children["/".join(parts[:i])].add(parts[i])
            self.by_name[parts[-1]].append(path)
        self.build_sources = self._build_sources()
        self._memo: dict[str, str] = {}
        self._inc: dict[str, list[tuple[str, str, int, str]]] | None = None
        self._arm: str | None = None

    # --- per-architecture layouts -------------------------------------------------------------

    def per_arch(self, path: str) -> str:
        """Why `path` is one CPU's file in a per-architecture layout, or ""."""
        parts = path.split("/")
        for i in range(len(parts) - 1, -1, -1):
            comp = parts[i]
            if not x86_named(comp) or other_arch_named(comp):
                continue
            parent = "/".join(parts[:i])
            siblings = sorted(s for s in self.children.get(parent, ()) if s != comp and other_arch_named(s))
            if siblings:
                where = f"{parent}/" if parent else ""
                return f"per-architecture source: {where}{comp} sits beside {where}{siblings[0]}"
            arm = self.arm_code()
            if arm:
                where = "/".join(parts[: i + 1])
                return f"x86-specific component ({where}) of a project with arm64 code ({arm})"
        return ""

    def arm_code(self) -> str:
        """A file showing the project has arm64 code (a NEON branch, an arm64-named source), or ""."""
        if self._arm is None:
            self._arm = next(
                (p for p, s in sorted(self.summaries.items()) if s.arm_path and not self.other_arch(p)), ""
            ) or next((p for p in sorted(self.summaries) if any(_ARM_PART.match(t) for c in p.split("/")
                                                                   for t in _tokens(c))), "")  # fmt: skip
        return self._arm

    def other_arch(self, path: str) -> bool:
        """A file of another CPU's layout (lsx/, vsx/, neon/): `__m128` there is not x86's."""
        return any(other_arch_named(p) and not x86_named(p) for p in path.split("/"))

    # --- the build ----------------------------------------------------------------------------

    def _build_sources(self) -> dict[str, str]:
        """Native source -> "CMakeLists.txt:12 under `if(…)`" for sources every build file that
        lists them lists under an x86 guard (one unguarded mention and it is built everywhere)."""
        seen: dict[str, list[str]] = defaultdict(list)
        for bpath, s in self.summaries.items():
            base = posixpath.dirname(bpath)
            for written, line, guard in s.sources:
                for target in self.resolve(written, base):
                    seen[target].append(f"{bpath}:{line} under {guard}" if guard else "")
        return {t: guards[0] for t, guards in seen.items() if all(guards)}

    def resolve(self, written: str, base: str) -> list[str]:
        """Tree paths an #include or a build file's source entry can mean (by path suffix)."""
        w = written.replace("\\", "/").lstrip("./")
        while w.startswith("../"):
            w = w[3:]
        if not w or not _EXT.search(w):
            return []
        exact = posixpath.normpath(posixpath.join(base, written)) if base else posixpath.normpath(written)
        cands = self.by_name.get(w.rsplit("/", 1)[-1], [])
        if exact in cands:
            return [exact]
        return [c for c in cands if c == w or c.endswith("/" + w)]

    # --- the verdict ----------------------------------------------------------------------------

    def x86_only(self, path: str, includes: bool = True) -> str:
        """Why the whole of `path` is compiled only for x86 (and so its x86 code is fine), or "".
        `includes=False`: without asking who includes it (its includers may not be parsed yet)."""
        if not includes:
            return self._x86_only(path, includes=False)
        if path in self._memo:
            return self._memo[path]
        self._memo[path] = ""  # cycles: an include loop proves nothing
        why = self._x86_only(path)
        self._memo[path] = why
        return why

    def _x86_only(self, path: str, includes: bool = True) -> str:
        name = path.rsplit("/", 1)[-1]
        if _DISPATCH.search(name) and x86_named(name.split(".", 1)[0]):
            return f"x86 dispatch target source ({name}): the build compiles it only for x86 targets"
        why = self.per_arch(path) or per_os(path)
        if why:
            return why
        built = self.build_sources.get(path)
        if built:
            return f"compiled only on x86 ({built})"
        return self._included_only_from_x86(path) if includes else ""

    def _includers(self) -> dict[str, list[tuple[str, str, int, str]]]:
        if self._inc is None:
            self._inc = defaultdict(list)
            for other, s in self.summaries.items():
                for target, line, state in s.includes:
                    self._inc[target.replace("\\", "/").rsplit("/", 1)[-1]].append((other, target, line, state))
        return self._inc

    def _included_only_from_x86(self, path: str) -> str:
        if not re.search(r"\.(?:h|hh|hpp|hxx|inl|inc|pxd|pxi)$", path, re.I):
            return ""
        includers = [
            (other, line, state)
            for other, target, line, state in self._includers().get(path.rsplit("/", 1)[-1], ())
            if other != path and path in self.resolve(target, posixpath.dirname(other))
        ]
        if not includers:
            return ""
        for other, _line, state in includers:
            if state not in (GUARDED, "dead") and not self.x86_only(other):
                return ""
        other, line, _ = includers[0]
        more = f" and {len(includers) - 1} more" if len(includers) > 1 else ""
        return f"included only from x86-only code ({other}:{line}{more})"

    def dispatch(self, path: str) -> bool:
        return bool(_DISPATCH.search(path.rsplit("/", 1)[-1]))
